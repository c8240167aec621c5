use jiff::civil::date;

use super::*;
use crate::feed::Scope;
use crate::model::COMMUNITY_EVENTS_PER_AUTHOR_PER_DAY;
use crate::op::{
    Announcement, EventPatch, FestivalCreate, FestivalPatch, HideTarget, LogWriter, Priority, ProfilePatch, Role,
    VenuePatch,
};
use crate::view::ChangeKind;
use crate::view::*;

mod programme;

pub(crate) const T0: i64 = 1_783_684_800; // 2026-07-10 12:00 UTC

pub(crate) struct World {
    pub(crate) store: Store,
    pub(crate) f: FestivalId,
}

fn create_body(nonce: [u8; 16]) -> Body {
    Body::FestivalCreate(FestivalCreate {
        nonce,
        fields: FestivalPatch {
            name: Some("Test fest".into()),
            timezone: Some("Europe/Berlin".into()),
            start_date: Some(date(2026, 7, 10)),
            end_date: Some(date(2026, 7, 12)),
            day_change_minutes: Some(240),
            ..Default::default()
        },
        forked_from: None,
    })
}

pub(crate) fn world() -> World {
    let owner = Identity::from_seed(1);
    let nonce = [1u8; 16];
    let f = FestivalId::derive(&owner.public(), &nonce);
    let mut store = Store::open_in_memory().expect("store");
    store.append(&owner, f, create_body(nonce), 0).expect("create");
    World { store, f }
}

pub(crate) fn event(title: &str, start: i64, venue: Option<OpId>) -> Body {
    Body::Event {
        target: None,
        patch: EventPatch {
            title: Some(title.into()),
            start: Some(start),
            end: Some(start + 3600),
            venue: Some(venue),
            track: Some("Music".into()),
            tags: Some(vec!["folk".into()]),
            people: Some(vec!["Ada Lovelace".into()]),
            ..Default::default()
        },
    }
}

fn edit(target: OpId, patch: EventPatch) -> Body {
    Body::Event { target: Some(target), patch }
}

pub(crate) fn announcement(text: &str) -> Body {
    Body::Announcement(Announcement { text: text.into(), priority: Priority::High, expires: None })
}

impl World {
    pub(crate) fn add(&mut self, who: &Identity, body: Body) -> OpId {
        self.store.append(who, self.f, body, 0).expect("append").id()
    }
    pub(crate) fn venue(&mut self, name: &str) -> OpId {
        let owner = Identity::from_seed(1);
        self.add(
            &owner,
            Body::Venue { target: None, patch: VenuePatch { name: Some(name.into()), ..Default::default() } },
        )
    }
    fn all(&self) -> Vec<EventView> {
        self.store.programme(&self.f, &ProgrammeFilter::default()).expect("programme")
    }
    fn get(&self, id: &OpId) -> EventView {
        self.store.event(&self.f, id).expect("query").expect("event exists")
    }
}

#[test]
fn ingest_is_idempotent() {
    let mut w = world();
    let v = w.venue("Main");
    let owner = Identity::from_seed(1);
    w.add(&owner, event("Opening", T0, Some(v)));
    let ops = w.store.ops(&w.f).expect("ops");
    let digest = w.store.state_digest(&w.f).expect("digest");
    let report = w.store.ingest(ops.clone()).expect("ingest");
    assert_eq!(report.stored, 0);
    assert_eq!(report.duplicates, ops.len());
    assert_eq!(w.store.op_count().expect("count"), ops.len() as u64);
    assert_eq!(w.store.state_digest(&w.f).expect("digest"), digest);
    // Duplicates inside one batch count once.
    let mut fresh = Store::open_in_memory().expect("store");
    let mut doubled = ops.clone();
    doubled.extend(ops.clone());
    let report = fresh.ingest(doubled).expect("ingest");
    assert_eq!(report.stored, ops.len());
    assert_eq!(report.duplicates, ops.len());
    assert_eq!(fresh.state_digest(&w.f).expect("digest"), digest);
}

#[test]
fn a_batch_with_one_bad_op_stores_the_rest_and_names_the_bad_one() {
    let w = world();
    let owner = Identity::from_seed(1);
    let mut lw = LogWriter::new(w.f, w.store.next_position(&w.f, &owner.public()).expect("pos"));
    let good1 = lw.sign(&owner, 10, 0, event("One", T0, None)).expect("op");
    let good2 = lw.sign(&owner, 11, 0, event("Two", T0, None)).expect("op");
    let mut forged = lw.sign(&owner, 12, 0, event("Three", T0, None)).expect("op").bytes().to_vec();
    let last = forged.len() - 1;
    forged[last] ^= 1; // breaks the body hash
    let stranger = Identity::from_seed(9);
    let mut sw = LogWriter::new(w.f, LogPosition { seq: 0, backlink: None, lamport: 0 });
    let other = sw.sign(&stranger, 13, 0, event("Four", T0, None)).expect("op");
    // The same op with a corrupted signature.
    let mut bad_sig = other.bytes().to_vec();
    let sig_at = other.header_bytes().len() - 64;
    bad_sig[sig_at] ^= 0x40;
    let mut store = w.store;
    let batch: Vec<Vec<u8>> =
        vec![good1.bytes().to_vec(), forged, good2.bytes().to_vec(), bad_sig, b"garbage".to_vec()];
    let before = store.op_count().expect("count");
    let report = store.ingest_bytes(&batch).expect("ingest");
    assert_eq!(report.stored, 2);
    let idx: Vec<usize> = report.rejected.iter().map(|r| r.index).collect();
    assert_eq!(idx, vec![1, 3, 4]);
    assert_eq!(report.rejected[0].reason, RejectReason::Invalid(OpError::BodyHashMismatch));
    assert_eq!(report.rejected[1].reason, RejectReason::Invalid(OpError::BadSignature));
    assert!(matches!(
        report.rejected[2].reason,
        RejectReason::Invalid(OpError::Header(_)) | RejectReason::Invalid(OpError::UnsupportedVersion(_))
    ));
    assert_eq!(store.op_count().expect("count"), before + 2);
    let titles: Vec<String> =
        store.programme(&w.f, &ProgrammeFilter::default()).expect("p").into_iter().map(|e| e.title).collect();
    assert_eq!(titles, vec!["One", "Two"]);
}

#[test]
fn one_forged_op_among_a_thousand_valid_ones_is_the_only_one_refused() {
    let w = world();
    let mut ops = Vec::new();
    for a in 0..10u64 {
        let who = Identity::from_seed(200 + a);
        let mut lw = LogWriter::new(w.f, LogPosition { seq: 0, backlink: None, lamport: 0 });
        for i in 0..100 {
            ops.push(lw.sign(&who, i, 0, event(&format!("{a}/{i}"), T0 + i as i64 * 60, None)).expect("op"));
        }
        if a == 4 {
            // The 101st op of this log carries its author's signature over the 100th.
            let next = lw.sign(&who, 100, 0, event("forged", T0, None)).expect("op");
            let mut header = next.header().clone();
            header.signature = ops[ops.len() - 1].header().signature;
            ops.insert(ops.len() - 37, Op::from_parts(&header, next.body_bytes()).expect("op"));
        }
    }
    let forged_at = 4 * 100 + 63;
    assert_eq!(ops[forged_at].seq(), 100);
    let mut store = w.store;
    let before = store.op_count().expect("count");
    let report = store.ingest(ops).expect("ingest");
    assert_eq!(report.stored, 1000);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].index, forged_at);
    assert_eq!(report.rejected[0].reason, RejectReason::Invalid(OpError::BadSignature));
    assert_eq!(store.op_count().expect("count"), before + 1000);
}

#[test]
fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("m.sqlite3");
    let owner = Identity::from_seed(1);
    let nonce = [2u8; 16];
    let f = FestivalId::derive(&owner.public(), &nonce);
    let digest;
    {
        let mut s = Store::open(&path).expect("open");
        s.append(&owner, f, create_body(nonce), 0).expect("create");
        let id = s.append(&owner, f, event("Kept", T0, None), 0).expect("event").id();
        s.set_favourite(&f, &id, true).expect("fav");
        digest = s.state_digest(&f).expect("digest");
    }
    let mut s = Store::open(&path).expect("reopen");
    assert_eq!(s.state_digest(&f).expect("digest"), digest);
    assert_eq!(s.favourites(&f).expect("favs").len(), 1);
    assert!(s.check().expect("check").is_clean());
    assert_eq!(s.festival(&f).expect("f").expect("exists").name, "Test fest");
}

#[test]
fn non_organisers_cannot_announce_or_grant_roles() {
    let mut w = world();
    let eve = Identity::from_seed(66);
    let mallory = Identity::from_seed(67);
    w.add(&eve, announcement("FREE BEER"));
    w.add(&eve, Body::RoleGrant { member: mallory.public(), role: Role::Organiser });
    w.add(&mallory, announcement("also free beer"));
    let owner = Identity::from_seed(1);
    w.add(&owner, announcement("Welcome"));
    let anns = w.store.announcements(&w.f, 0).expect("anns");
    assert_eq!(anns.iter().map(|a| a.text.as_str()).collect::<Vec<_>>(), vec!["Welcome"]);
    let fest = w.store.festival(&w.f).expect("f").expect("exists");
    assert!(fest.organisers.is_empty());
    // A community member's event is a community event, and cannot edit an official one.
    let official = w.add(&owner, event("Official", T0, None));
    let community = w.add(&eve, event("Jam", T0 + 7200, None));
    assert!(w.get(&official).official);
    assert!(!w.get(&community).official);
    w.add(&eve, edit(official, EventPatch { title: Some("Hijacked".into()), ..Default::default() }));
    assert_eq!(w.get(&official).title, "Official");
    // ... but may edit their own, and organisers may edit it too.
    w.add(&eve, edit(community, EventPatch { title: Some("Jam session".into()), ..Default::default() }));
    assert_eq!(w.get(&community).title, "Jam session");
}

#[test]
fn organisers_count_until_revoked_and_their_later_ops_are_community() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    let olga = Identity::from_seed(5);
    w.add(&owner, Body::RoleGrant { member: olga.public(), role: Role::Organiser });
    let before = w.add(&olga, event("Before", T0, None));
    w.add(&olga, announcement("Olga speaking"));
    assert!(w.get(&before).official);
    let fest = w.store.festival(&w.f).expect("f").expect("exists");
    assert_eq!(fest.organisers, vec![olga.public()]);
    // Owner revokes, having seen Olga's ops up to seq 1.
    w.add(&owner, Body::RoleRevoke { member: olga.public(), role: Role::Organiser, after_seq: Some(1) });
    let after = w.add(&olga, event("After", T0, None));
    w.add(&olga, announcement("Olga again"));
    assert!(w.get(&before).official, "ops before the revocation stay official");
    assert!(!w.get(&after).official, "later ops are community ops");
    let anns: Vec<String> = w.store.announcements(&w.f, 0).expect("a").into_iter().map(|a| a.text).collect();
    assert_eq!(anns, vec!["Olga speaking"]);
    // Olga can no longer name organisers.
    let x = Identity::from_seed(6);
    w.add(&olga, Body::RoleGrant { member: x.public(), role: Role::Organiser });
    assert!(w.store.festival(&w.f).expect("f").expect("exists").organisers.is_empty());
    assert!(w.store.check().expect("check").is_clean());
}

#[test]
fn grants_arriving_late_make_earlier_ops_official() {
    // Olga's ops reach this device before the grant that makes them official.
    let mut src = world();
    let owner = Identity::from_seed(1);
    let olga = Identity::from_seed(5);
    src.add(&owner, Body::RoleGrant { member: olga.public(), role: Role::Organiser });
    let e = src.add(&olga, event("Early", T0, None));
    src.add(&olga, announcement("Hello"));
    let ops = src.store.ops(&src.f).expect("ops");
    let (grant, rest): (Vec<Op>, Vec<Op>) = ops.into_iter().partition(|o| matches!(o.body(), Body::RoleGrant { .. }));
    let mut dst = Store::open_in_memory().expect("store");
    dst.ingest(rest).expect("ingest");
    assert!(!dst.event(&src.f, &e).expect("q").expect("e").official);
    assert!(dst.announcements(&src.f, 0).expect("a").is_empty());
    dst.ingest(grant).expect("ingest");
    assert!(dst.event(&src.f, &e).expect("q").expect("e").official);
    assert_eq!(dst.announcements(&src.f, 0).expect("a").len(), 1);
    assert_eq!(dst.state_digest(&src.f).expect("d"), src.store.state_digest(&src.f).expect("d"));
}

#[test]
fn out_of_order_ops_wait_for_their_predecessors() {
    let src = {
        let mut w = world();
        let owner = Identity::from_seed(1);
        for i in 0..5 {
            w.add(&owner, event(&format!("E{i}"), T0 + i * 3600, None));
        }
        w
    };
    let mut ops = src.store.ops(&src.f).expect("ops");
    ops.reverse();
    let mut dst = Store::open_in_memory().expect("store");
    for op in ops {
        dst.ingest(vec![op]).expect("ingest");
    }
    assert_eq!(dst.pending_count().expect("pending"), 0);
    assert_eq!(dst.state_digest(&src.f).expect("d"), src.store.state_digest(&src.f).expect("d"));
}

#[test]
fn equivocation_is_kept_as_evidence_and_flags_the_author() {
    let mut w = world();
    let eve = Identity::from_seed(66);
    let a = w.add(&eve, event("Honest", T0, None));
    // Eve signs a different op at seq 0 and one at seq 1 chained onto it.
    let mut fork = LogWriter::new(w.f, LogPosition { seq: 0, backlink: None, lamport: 50 });
    let b0 = fork.sign(&eve, 50, 0, event("Fork", T0, None)).expect("op");
    let b1 = fork.sign(&eve, 51, 0, event("Fork 2", T0, None)).expect("op");
    let report = w.store.ingest(vec![b0.clone(), b1]).expect("ingest");
    assert_eq!(report.stored, 0);
    let reasons: Vec<_> = report.rejected.iter().map(|r| r.reason.clone()).collect();
    // The op past the fork is not kept: nothing after a fork counts.
    assert_eq!(reasons, vec![RejectReason::Equivocation(0), RejectReason::AfterFork(0)]);
    assert!(reasons.iter().all(|r| !r.is_peer_fault()));
    assert_eq!(w.store.forked_authors(&w.f).expect("forks"), vec![(eve.public(), 0)]);
    // From the fork on, the author's ops have no effect.
    assert!(w.store.event(&w.f, &a).expect("q").is_none());
    assert!(w.all().iter().all(|e| !e.title.starts_with("Fork")));
    // A device holding the other branch converges once it sees the evidence too.
    let mut other = Store::open_in_memory().expect("store");
    let mut ops: Vec<Op> = w.store.ops(&w.f).expect("ops").into_iter().filter(|o| o.id() != a).collect();
    ops.push(b0);
    other.ingest(ops).expect("ingest");
    let honest = w.store.ops(&w.f).expect("ops").into_iter().find(|o| o.id() == a).expect("a");
    other.ingest(vec![honest]).expect("ingest");
    assert_eq!(other.state_digest(&w.f).expect("d"), w.store.state_digest(&w.f).expect("d"));
    assert!(w.store.check().expect("check").is_clean());
}

#[test]
fn lamport_must_increase_along_a_log() {
    let w = world();
    let owner = Identity::from_seed(1);
    let pos = w.store.next_position(&w.f, &owner.public()).expect("pos");
    let op = Op::create(&owner, w.f, LogPosition { lamport: 0, ..pos }, 0, event("x", T0, None)).expect("op");
    let mut store = w.store;
    let report = store.ingest(vec![op]).expect("ingest");
    assert!(matches!(report.rejected[0].reason, RejectReason::BadClock { .. }));
}

#[test]
fn community_events_are_capped_per_author_per_day() {
    let mut w = world();
    let spammer = Identity::from_seed(77);
    for i in 0..COMMUNITY_EVENTS_PER_AUTHOR_PER_DAY + 5 {
        w.add(&spammer, event(&format!("spam {i}"), T0 + i as i64 * 60, None));
    }
    w.add(&spammer, event("next day", T0 + 86_400, None));
    let n = w.all().len() as u64;
    assert_eq!(n, COMMUNITY_EVENTS_PER_AUTHOR_PER_DAY + 1);
    assert!(w.store.check().expect("check").is_clean());
}

#[test]
fn organisers_hide_community_content_and_devices_mute() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    let eve = Identity::from_seed(66);
    let carl = Identity::from_seed(67);
    let spam = w.add(&eve, event("spam", T0, None));
    w.add(&eve, event("more spam", T0 + 60, None));
    let jam = w.add(&carl, event("Jam", T0, None));
    let official = w.add(&owner, event("Official", T0, None));
    w.add(&owner, Body::Hide { target: HideTarget::Entity(spam), hidden: true });
    assert_eq!(w.all().len(), 3);
    w.add(&owner, Body::Hide { target: HideTarget::Author(eve.public()), hidden: true });
    assert_eq!(w.all().iter().map(|e| e.id).collect::<Vec<_>>().len(), 2);
    // Official events cannot be hidden; community members cannot hide.
    w.add(&owner, Body::Hide { target: HideTarget::Entity(official), hidden: true });
    w.add(&carl, Body::Hide { target: HideTarget::Entity(official), hidden: true });
    assert!(w.all().iter().any(|e| e.id == official));
    // Unhide the author: the individually hidden event stays hidden.
    w.add(&owner, Body::Hide { target: HideTarget::Author(eve.public()), hidden: false });
    assert_eq!(w.all().len(), 3);
    w.store.set_muted(&w.f, &carl.public(), true).expect("mute");
    assert!(w.all().iter().all(|e| e.id != jam));
    assert!(w.store.check().expect("check").is_clean());
}

#[test]
fn refused_ops_do_not_advance_the_revision() {
    let mut w = world();
    let rev = w.store.revision().expect("rev");
    let stranger = Identity::from_seed(99);
    let mut bad =
        Op::create(&stranger, w.f, LogPosition { seq: 0, backlink: None, lamport: 1 }, 0, event("x", T0, None))
            .expect("op")
            .bytes()
            .to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let parked = Op::create(
        &stranger,
        w.f,
        LogPosition { seq: 5, backlink: Some(OpId([1; 32])), lamport: 9 },
        0,
        event("y", T0, None),
    )
    .expect("op");
    let r = w.store.ingest_bytes(&[bad, parked.bytes().to_vec()]).expect("ingest");
    assert_eq!((r.stored, r.pending, r.rejected.len()), (0, 1, 1));
    assert_eq!(w.store.revision().expect("rev"), rev);
    w.add(&stranger, event("ok", T0, None));
    assert!(w.store.revision().expect("rev") > rev);
}

#[test]
fn a_log_past_a_rule_is_closed_so_its_later_ops_are_neither_stored_nor_parked() {
    let w = world();
    let mut store = w.store;
    let eve = Identity::from_seed(77);
    let mut writer = LogWriter::new(w.f, LogPosition { seq: 0, backlink: None, lamport: 10 });
    let n = rules::MAX_PROFILE_OPS_PER_LOG as usize + 6;
    let ops: Vec<Op> = (0..n)
        .map(|i| {
            let patch = ProfilePatch { display_name: Some(format!("Eve {i}")), about: None };
            writer.sign(&eve, 0, 0, Body::Profile(patch)).expect("op")
        })
        .collect();
    let cap = rules::MAX_PROFILE_OPS_PER_LOG as usize;
    // One op far past the cap arrives first and is parked: its predecessors are missing.
    let early = store.ingest(vec![ops[cap + 3].clone()]).expect("ingest");
    assert_eq!((early.stored, early.pending), (0, 1));
    // The log up to the cap and one past it: the op over the cap is refused and closes the log,
    // which drops what was parked.
    let r = store.ingest(ops[..=cap].to_vec()).expect("ingest");
    assert_eq!(r.stored, cap);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].reason, RejectReason::LogFull("profile ops per log"));
    assert!(!r.rejected[0].reason.is_peer_fault(), "another release may allow more");
    assert_eq!(store.pending_count().expect("pending"), 0);
    // Later ops of the log, in a later batch, are refused at once instead of being parked.
    let r = store.ingest(ops[cap + 1..].to_vec()).expect("ingest");
    assert_eq!(r.stored, 0);
    assert_eq!(r.rejected[0].reason, RejectReason::LogClosed(cap as u64));
    assert!(r.rejected[1..].iter().all(|x| x.reason == RejectReason::AfterRefused), "{:?}", r.rejected);
    assert_eq!(store.pending_count().expect("pending"), 0);
    // The refused op itself is refused again by the same rule.
    let r = store.ingest(vec![ops[cap].clone()]).expect("ingest");
    assert_eq!(r.rejected[0].reason, RejectReason::LogFull("profile ops per log"));
    // Another, valid op at that position is stored as anywhere else, and the log is open again.
    let at = LogPosition { seq: cap as u64, backlink: Some(ops[cap - 1].id()), lamport: ops[cap].lamport() };
    let mut again = LogWriter::new(w.f, at);
    let alt = [again.sign(&eve, 0, 0, event("Eve's jam", T0, None)).expect("op")];
    let gap = again.sign(&eve, 0, 0, event("skipped", T0, None)).expect("op");
    let past = again.sign(&eve, 0, 0, event("after the gap", T0, None)).expect("op");
    assert_eq!(store.ingest(alt.to_vec()).expect("ingest").stored, 1);
    let r = store.ingest(vec![past]).expect("ingest");
    assert_eq!((r.stored, r.pending), (0, 1), "{r:?}");
    assert_eq!(store.ingest(vec![gap]).expect("ingest").stored, 2);
    assert!(store.check().expect("check").is_clean());
}

#[test]
fn roles_come_out_the_same_whether_a_revocation_arrives_before_or_after_its_issuer_loses_the_role() {
    // Owner names Y, A, U and V; Y names X (depth 2); A names B, B names Z (depth 3). X removes V
    // and U at stage 2; Z removes Y at stage 3, so X is no member in the end, yet X's removals
    // stood at their stage and keep their effect.
    let mut w = world();
    let owner = Identity::from_seed(1);
    let [y, a, u, v, x, b, z] = [11, 12, 13, 14, 15, 16, 17].map(Identity::from_seed);
    let grant = |k: &Identity| Body::RoleGrant { member: k.public(), role: Role::Organiser };
    let revoke = |k: &Identity| Body::RoleRevoke { member: k.public(), role: Role::Organiser, after_seq: None };
    for k in [&y, &a, &u, &v] {
        w.add(&owner, grant(k));
    }
    w.add(&y, grant(&x));
    w.add(&a, grant(&b));
    w.add(&b, grant(&z));
    w.add(&x, revoke(&v));
    let x_removes_u = w.add(&x, revoke(&u));
    let z_removes_y = w.add(&z, revoke(&y));
    let ops = w.store.ops(&w.f).expect("ops");
    let op = |id: &OpId| ops.iter().find(|o| o.id() == *id).expect("op").clone();
    let rest: Vec<Op> = ops.iter().filter(|o| o.id() != x_removes_u && o.id() != z_removes_y).cloned().collect();
    let device = |late: [OpId; 2]| {
        let mut s = Store::open_in_memory().expect("store");
        s.ingest(rest.clone()).expect("ingest");
        for id in late {
            let r = s.ingest(vec![op(&id)]).expect("ingest");
            assert!(r.rejected.is_empty(), "{r:?}");
        }
        s
    };
    let first = device([x_removes_u, z_removes_y]);
    let mut second = device([z_removes_y, x_removes_u]);
    let organisers = |s: &Store| s.festival(&w.f).expect("f").expect("exists").organisers;
    assert_eq!(organisers(&first), organisers(&w.store));
    assert_eq!(organisers(&second), organisers(&w.store));
    assert!(!organisers(&first).contains(&u.public()), "X's removal of U stood at its stage");
    assert!(!organisers(&first).contains(&x.public()) && !organisers(&first).contains(&y.public()));
    assert_eq!(first.state_digest(&w.f).expect("d"), second.state_digest(&w.f).expect("d"));
    assert!(second.check().expect("check").is_clean());
}

#[test]
fn a_log_holds_at_most_so_many_revocations() {
    let mut w = world();
    let eve = Identity::from_seed(78);
    let n = rules::MAX_REVOCATIONS_PER_LOG;
    let mut writer = LogWriter::new(w.f, LogPosition { seq: 0, backlink: None, lamport: 10 });
    let ops: Vec<Op> = (0..=n)
        .map(|i| {
            let member = Identity::from_seed(1_000 + i).public();
            let body = Body::RoleRevoke { member, role: Role::Organiser, after_seq: None };
            writer.sign(&eve, 0, 0, body).expect("op")
        })
        .collect();
    let r = w.store.ingest(ops).expect("ingest");
    assert_eq!(r.stored as u64, n);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].reason, RejectReason::LogFull("role revocations per log"));
    assert!(w.store.check().expect("check").is_clean());
}

#[test]
fn check_finds_log_bookkeeping_that_does_not_match_the_ops_and_repair_restores_it() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    w.add(&owner, Body::RoleRevoke { member: Identity::from_seed(9).public(), role: Role::Organiser, after_seq: None });
    w.add(&owner, Body::Profile(ProfilePatch { display_name: Some("Owner".into()), about: None }));
    assert!(w.store.check().expect("check").is_clean());
    for damage in [
        "UPDATE logs SET revocations = 0",
        "UPDATE logs SET profiles = 7",
        "UPDATE logs SET ext_bytes = 5",
        "UPDATE logs SET bytes = bytes + 1",
        "DELETE FROM logs",
    ] {
        w.store.conn().execute(damage, []).expect("damage");
        let report = w.store.check().expect("check");
        assert!(report.problems.iter().any(|p| p.contains("bookkeeping")), "{damage}: {report:?}");
        assert!(w.store.repair().expect("repair").is_clean(), "{damage}");
    }
}

#[test]
fn each_commit_publishes_what_it_stored_and_nothing_for_duplicates_or_refusals() {
    let mut w = world();
    let feed = w.store.feed().subscribe();
    let owner = Identity::from_seed(1);
    let v = w.venue("Main");
    let e = w.add(&owner, event("Opening", T0, Some(v)));
    let got = feed.try_next().expect("changes");
    let scopes = got.scopes(&w.f);
    assert!(scopes.contains(Scope::Festival) && scopes.contains(Scope::Programme), "{scopes:?}");
    assert!(!scopes.contains(Scope::Announcements));
    w.add(&owner, announcement("Gates open"));
    assert_eq!(feed.try_next().map(|c| c.scopes(&w.f)), Some(Scopes::from(Scope::Announcements)));
    // Duplicates and refused ops store nothing, so they say nothing.
    let ops = w.store.ops(&w.f).expect("ops");
    w.store.ingest(ops).expect("again");
    let stranger = Identity::from_seed(9);
    let forged = LogWriter::new(w.f, w.store.next_position(&w.f, &stranger.public()).expect("pos"))
        .sign(&stranger, 0, 0, announcement("not official"))
        .expect("sign");
    let mut bytes = forged.bytes().to_vec();
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    let report = w.store.ingest_bytes(&[bytes]).expect("ingest");
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(feed.try_next(), None);
    // Device-local changes say which local scope changed.
    w.store.set_favourite(&w.f, &e, true).expect("fav");
    w.store.mark_seen(&w.f).expect("seen");
    let local = feed.try_next().expect("local").scopes(&w.f);
    assert_eq!(local, Scopes::from([Scope::Favourites, Scope::Seen]));
    assert!(!local.touches_ops());
}
