//! The hostile-peer suite: each attack of the security review (issue 9), reproduced against the
//! real node. Network attacks go over loopback iroh to the node's own networking (`Net`), and the
//! resource attacks to the `meadow serve` binary, whose memory is sampled while they run and
//! asserted to stay within a bound.

use std::time::{Duration, Instant};

use iroh::endpoint::{Connection, QuicTransportConfig, VarInt, presets};
use iroh::{Endpoint, EndpointAddr, SecretKey};
use meadow_core::demo::Rng;
use meadow_core::identity::Identity;
use meadow_core::net::{ALPN, Net, NetConfig, SharedNode};
use meadow_core::node::{Node, SessionEnd};
use meadow_core::op::{
    Announcement, Body, CommunityMode, EventPatch, FestivalId, LogPosition, LogWriter, Op, OpId, Priority, Role,
    VenuePatch, rules,
};
use meadow_core::store::{Clock, RejectReason, Store};
use meadow_core::sync::{Bound, Config, Items, Message, Mode, Range};
use meadow_core::view::ProgrammeFilter;
use meadow_tests::hostile::{ForgeHeader, MemoryWatch, Served, forge_op, stranger};
use meadow_tests::simnet::{Link, sync_pair};
use meadow_tests::support::{append_as, digest, eventually, op_count, shared};
use meadow_tests::{Builder, FESTIVAL_START, Scenario, benchmark_festival, event_body};

// ---------------------------------------------------------------------------------------------
// Helpers

fn node(seed: u64) -> Node {
    Node::in_memory(Identity::from_seed(5_000 + seed)).expect("node")
}

fn node_with(seed: u64, ops: &[Op]) -> Node {
    let mut n = node(seed);
    let report = n.ingest(ops.to_vec()).expect("ingest");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    n
}

async fn rogue(transport: Option<QuicTransportConfig>) -> Endpoint {
    let mut secret = [0u8; 32];
    secret.copy_from_slice(&blake3::hash(stranger().public().as_bytes()).as_bytes()[..]);
    let mut b = Endpoint::builder(presets::Minimal).secret_key(SecretKey::from_bytes(&secret)).clear_ip_transports();
    if let Some(t) = transport {
        b = b.transport_config(t);
    }
    b.bind_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).expect("addr").bind().await.expect("rogue endpoint")
}

/// Sends `bytes` on a new stream and returns everything the node answers until it closes.
async fn exchange(conn: &Connection, bytes: &[u8]) -> Vec<u8> {
    let (mut send, mut recv) = conn.open_bi().await.expect("stream");
    let _ = send.write_all(bytes).await;
    let _ = send.finish();
    tokio::time::timeout(Duration::from_secs(15), recv.read_to_end(16 << 20))
        .await
        .expect("answer in time")
        .unwrap_or_default()
}

/// The messages in a byte stream of frames.
fn messages(mut bytes: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mut r = meadow_core::wire::Reader::new(bytes);
        let Ok(body) = r.bytes() else { break };
        match Message::decode(body) {
            Ok(m) => out.push(m),
            Err(_) => break,
        }
        bytes = &bytes[r.position()..];
    }
    out
}

/// A session that pushes `ops` into the responder's copy of `festival` without reconciling: the
/// Hello's empty range list says "nothing to compare", then come the ops and Done.
fn push_frames(festival: FestivalId, ops: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Message::Hello { version: 1, festival, ranges: vec![] }.frame();
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut size = 0;
    for op in ops {
        if size + op.len() > 60_000 && !batch.is_empty() {
            out.extend(Message::Ops(std::mem::take(&mut batch)).frame());
            size = 0;
        }
        size += op.len();
        batch.push(op.clone());
    }
    if !batch.is_empty() {
        out.extend(Message::Ops(batch).frame());
    }
    out.extend(Message::Done.frame());
    out
}

/// Whether the node's answer ends with an Error frame.
fn failed(bytes: &[u8]) -> bool {
    matches!(messages(bytes).last(), Some(Message::Error { .. }))
}

/// A festival owned by `Builder` author 0 with a venue, an official event, an announcement and a
/// community event by author 2; returns the scenario and those ids.
fn small_festival(seed: u64) -> (Scenario, [OpId; 4]) {
    let mut b = Builder::new(seed, 3);
    let member = b.identity(1).public();
    b.push(0, None, Body::RoleGrant { member, role: Role::Organiser });
    let venue = b.push(
        0,
        None,
        Body::Venue { target: None, patch: VenuePatch { name: Some("Main".into()), ..Default::default() } },
    );
    let mut rng = Rng::new(seed);
    let event = b.push(1, None, event_body(&mut rng, 1, Some(venue), 3600));
    let ann = b.push(
        1,
        None,
        Body::Announcement(Announcement { text: "Gates open at 10".into(), priority: Priority::High, expires: None }),
    );
    let community = b.push(2, None, event_body(&mut rng, 2, Some(venue), 7200));
    (b.build(), [venue, event, ann, community])
}

// ---------------------------------------------------------------------------------------------
// Critical 1: cross-festival edits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_op_of_one_festival_cannot_touch_another_festivals_entities() {
    let (a, [venue, event, ann, community]) = small_festival(31);
    // The attacker owns festival B, which the victim also holds (a fringe programme, a fork).
    let mut b = Builder::new(32, 1);
    let attacker = b.identity(0).public();
    let mut rng = Rng::new(32);
    let hijack = |patch: EventPatch| Body::Event { target: Some(event), patch };
    b.push(0, None, hijack(EventPatch { title: Some("Hijacked".into()), cancelled: Some(true), ..Default::default() }));
    b.push(
        0,
        None,
        Body::Venue { target: Some(venue), patch: VenuePatch { name: Some("Hijacked".into()), ..Default::default() } },
    );
    b.push(0, None, Body::Delete { target: ann });
    b.push(0, None, Body::Delete { target: community });
    b.push(0, None, Body::Hide { target: meadow_core::op::HideTarget::Entity(community), hidden: true });
    let foreign_venue = {
        let mut e = event_body(&mut rng, 3, Some(venue), 100);
        if let Body::Event { patch, .. } = &mut e {
            patch.title = Some("Uses A's venue".into());
        }
        b.push(0, None, e)
    };
    let b = b.build();

    let mut victim = node_with(1, &a.ops);
    victim.ingest(vec![b.ops[0].clone()]).expect("holds B");
    let victim = shared(victim);
    let before = digest(&victim, &a.festival);
    let nv = Net::start(victim.clone(), NetConfig::loopback()).await.expect("victim");
    let na = Net::start(shared(node_with(2, &b.ops)), NetConfig::loopback()).await.expect("attacker");
    let end = na.sync_with(nv.addr(), b.festival).await.expect("sync");
    assert!(matches!(end, SessionEnd::Finished(_)), "{end:?}");
    assert_eq!(op_count(&victim), (a.ops.len() + b.ops.len()) as u64, "B's ops are stored...");
    assert_eq!(digest(&victim, &a.festival), before, "...and festival A is untouched");
    {
        let mut v = victim.lock().expect("lock");
        let s = v.store();
        let e = s.event(&a.festival, &event).expect("q").expect("event");
        assert_eq!((e.title.as_str(), e.cancelled, e.venue_name.as_str()), (e.title.as_str(), false, "Main"));
        assert!(!e.title.contains("Hijacked"));
        assert_eq!(s.announcements(&a.festival, 0).expect("a").len(), 1);
        assert!(s.event(&a.festival, &community).expect("q").is_some());
        assert_eq!(s.venues(&a.festival).expect("v")[0].name, "Main");
        // B's event naming A's venue shows no venue; A's event cannot be found through B.
        assert!(s.event(&b.festival, &event).expect("q").is_none());
        assert_eq!(s.event(&b.festival, &foreign_venue).expect("q").expect("e").venue_name, "");
        assert!(v.festival(&b.festival).expect("b").owner == attacker);
        let report = v.check().expect("check");
        assert!(report.is_clean(), "{report:?}");
        assert!(report.notes.iter().any(|n| n.contains("another festival")), "{report:?}");
    }
    na.shutdown().await;
    nv.shutdown().await;
}

#[test]
fn check_finds_and_repairs_damage_an_op_did_to_another_festival() {
    let (a, [_, event, _, _]) = small_festival(33);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("store.sqlite3");
    let mut store = Store::open(&path).expect("store");
    store.ingest(a.ops.clone()).expect("ingest");
    let before = store.state_digest(&a.festival).expect("digest");
    drop(store);
    // What the old fold did with an edit of another festival: it rewrote A's row.
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    conn.execute("UPDATE events SET title = 'Hijacked', cancelled = 1 WHERE id = ?", [&event.0[..]]).expect("damage");
    drop(conn);
    let mut store = Store::open(&path).expect("store");
    let report = store.check().expect("check");
    assert_eq!(report.damaged, vec![a.festival], "{report:?}");
    let report = store.repair().expect("repair");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(store.state_digest(&a.festival).expect("digest"), before);
}

// ---------------------------------------------------------------------------------------------
// Critical 2: Lamport clocks near the top of the range

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_clocks_are_refused_and_the_largest_allowed_ones_stall_nobody() {
    let (a, _) = small_festival(34);
    let victim = shared(node_with(1, &a.ops));
    let nv = Net::start(victim.clone(), NetConfig::loopback()).await.expect("victim");
    let ep = rogue(None).await;

    // A community op with clock 2^63 - 1 (and one at 2^64 - 1): refused as malformed.
    let k = stranger();
    let mut body_rng = Rng::new(1);
    let body = event_body(&mut body_rng, 9, None, 0).encode();
    for lamport in [(1u64 << 63) - 1, u64::MAX, rules::MAX_LAMPORT + 1] {
        let h = ForgeHeader { festival: a.festival, seq: 0, backlink: None, lamport, wall_time_ms: 0, context: true };
        let op = forge_op(&k, h, &body);
        // A refusal closes the connection: each attempt on a new one.
        let conn = ep.connect(nv.addr(), ALPN).await.expect("connect");
        let reply = exchange(&conn, &push_frames(a.festival, &[op.bytes])).await;
        assert!(failed(&reply), "clock {lamport} must be refused: {:?}", messages(&reply));
    }
    // A bound past the clock range in a Ranges message is refused too.
    let conn = ep.connect(nv.addr(), ALPN).await.expect("connect");
    let mut bad = Message::Hello { version: 1, festival: a.festival, ranges: vec![] }.frame();
    bad.extend(
        Message::Ranges(vec![
            Range { upper: Some(Bound { lamport: u64::MAX - 1, prefix: vec![] }), mode: Mode::Skip },
            Range { upper: None, mode: Mode::Skip },
        ])
        .frame(),
    );
    assert!(failed(&exchange(&conn, &bad).await));
    assert_eq!(op_count(&victim), a.ops.len() as u64, "nothing was stored");

    // The fastest clock the rules allow: every op a full step ahead of the one before.
    let mut log = LogWriter::new(a.festival, LogPosition { seq: 0, backlink: None, lamport: 0 });
    let mut ops = Vec::new();
    let mut rng = Rng::new(2);
    for i in 0..50u64 {
        let lamport = (i + 1) * rules::MAX_CLOCK_STEP;
        ops.push(log.sign(&k, lamport, 0, event_body(&mut rng, i as usize, None, 0)).expect("op"));
    }
    let fast = ops.last().map(|o| o.lamport()).unwrap_or(0);
    let attacker = shared(node_with(2, &a.ops));
    attacker.lock().expect("lock").ingest(ops).expect("ingest");
    let nk = Net::start(attacker.clone(), NetConfig::loopback()).await.expect("attacker");
    assert!(matches!(nk.sync_with(nv.addr(), a.festival).await.expect("sync"), SessionEnd::Finished(_)));
    assert_eq!(op_count(&victim), a.ops.len() as u64 + 50);

    // The organiser on the victim's device still writes, and keeps writing: its clock follows
    // the stranger's as far as one step allows and never becomes invalid.
    let organiser = Identity::from_seed(34 * 1_000_003 + 1);
    for i in 0..3 {
        let mut v = victim.lock().expect("lock");
        let body = Body::Announcement(Announcement {
            text: format!("Still here {i}"),
            priority: Priority::Normal,
            expires: None,
        });
        let op = append_as(&mut v, &organiser, a.festival, body, 0).expect("an honest write is never stalled");
        assert!(op.lamport() <= rules::MAX_LAMPORT && op.lamport() < fast);
    }
    // Two honest nodes still sync the whole festival, huge clocks and all.
    let fresh = shared(node(3));
    let nf = Net::start(fresh.clone(), NetConfig::loopback()).await.expect("fresh");
    assert!(matches!(nf.sync_with(nv.addr(), a.festival).await.expect("sync"), SessionEnd::Finished(_)));
    assert_eq!(digest(&fresh, &a.festival), digest(&victim, &a.festival));
    for n in [nf, nk, nv] {
        n.shutdown().await;
    }
    ep.close().await;
}

// ---------------------------------------------------------------------------------------------
// High 3: backdated role ops

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_organiser_cannot_name_helpers_or_remove_the_remover_by_backdating() {
    // Owner 0 names organisers 1 (O) and 2 (M); O removes M after M's first op.
    let mut b = Builder::new(35, 4);
    let (o, m, p) = (b.identity(1).public(), b.identity(2).public(), b.identity(3).public());
    b.push(0, None, Body::RoleGrant { member: o, role: Role::Organiser });
    b.push(0, None, Body::RoleGrant { member: m, role: Role::Organiser });
    let mut rng = Rng::new(35);
    b.push(2, None, event_body(&mut rng, 1, None, 0));
    b.push(1, None, Body::RoleRevoke { member: m, role: Role::Organiser, after_seq: Some(0) });
    let s = b.build();
    let victim = shared(node_with(1, &s.ops));
    let nv = Net::start(victim.clone(), NetConfig::loopback()).await.expect("victim");

    // M, after the cut, signs with clocks lower than the revocation's: a grant to a helper, a
    // revocation of O, and the helper posts an "official" emergency.
    let attacker = node_with(2, &s.ops);
    let mid = Identity::from_seed(35 * 1_000_003 + 2);
    let helper = Identity::from_seed(35 * 1_000_003 + 3);
    let mut mw = LogWriter::new(s.festival, attacker.store().next_position(&s.festival, &m).expect("pos"));
    let low = mw.next.lamport;
    let grant = mw.sign(&mid, low, 0, Body::RoleGrant { member: p, role: Role::Organiser }).expect("op");
    let revoke =
        mw.sign(&mid, low + 1, 0, Body::RoleRevoke { member: o, role: Role::Organiser, after_seq: None }).expect("op");
    let mut hw = LogWriter::new(s.festival, LogPosition { seq: 0, backlink: None, lamport: 1 });
    let fake = hw
        .sign(
            &helper,
            1,
            0,
            Body::Announcement(Announcement { text: "Leave now".into(), priority: Priority::Emergency, expires: None }),
        )
        .expect("op");
    let attacker = shared(attacker);
    attacker.lock().expect("lock").ingest(vec![grant, revoke, fake]).expect("ingest");
    let na = Net::start(attacker.clone(), NetConfig::loopback()).await.expect("attacker");
    assert!(matches!(na.sync_with(nv.addr(), s.festival).await.expect("sync"), SessionEnd::Finished(_)));
    {
        let v = victim.lock().expect("lock");
        let f = v.festival(&s.festival).expect("festival");
        assert!(!f.organisers.contains(&m), "the removed organiser stays removed");
        assert!(!f.organisers.contains(&p), "the helper named after the cut is no organiser");
        assert!(
            v.store().announcements(&s.festival, 0).expect("a").is_empty(),
            "the helper's emergency is not official"
        );
        // Revocations judged together both stand: the remover lost the role too, until the
        // owner names them again.
        assert!(!f.organisers.contains(&o));
    }
    {
        let owner = Identity::from_seed(35 * 1_000_003);
        let mut v = victim.lock().expect("lock");
        append_as(&mut v, &owner, s.festival, Body::RoleGrant { member: o, role: Role::Organiser }, 0).expect("grant");
        let f = v.festival(&s.festival).expect("festival");
        assert!(f.organisers.contains(&o) && !f.organisers.contains(&m) && !f.organisers.contains(&p));
    }
    // Every device agrees, whatever order the ops came in.
    assert!(matches!(na.sync_with(nv.addr(), s.festival).await.expect("sync"), SessionEnd::Finished(_)));
    assert_eq!(digest(&attacker, &s.festival), digest(&victim, &s.festival));
    na.shutdown().await;
    nv.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// High 4 and 5: peers that stop reading, against `meadow serve`

/// A data directory whose current festival has `ops` ops.
fn served_festival(ops: usize) -> (tempfile::TempDir, Scenario) {
    let dir = tempfile::tempdir().expect("dir");
    let s = benchmark_festival(41, ops, 300);
    let mut n = Node::open(dir.path()).expect("node");
    let report = n.ingest(s.ops.clone()).expect("ingest");
    assert!(report.rejected.is_empty());
    n.use_festival(&s.festival).expect("use");
    (dir, s)
}

fn empty_hello(festival: FestivalId) -> Vec<u8> {
    let none = Items::new(Vec::new());
    Message::Hello {
        version: 1,
        festival,
        ranges: vec![Range { upper: None, mode: Mode::Fingerprint { fp: none.fingerprint(0..0), count: 0 } }],
    }
    .frame()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_sessions_that_never_read_cost_bounded_memory_and_a_join_still_works() {
    let (dir, s) = served_festival(10_800);
    let served = Served::start(dir.path());
    let server: EndpointAddr = served.invite.peer.clone();
    // Warm up with one honest join, then take the baseline.
    let warm = shared(node(1));
    let nw = Net::start(warm.clone(), NetConfig::loopback()).await.expect("warm");
    let started = Instant::now();
    assert!(matches!(nw.sync_with(server.clone(), s.festival).await.expect("join"), SessionEnd::Finished(_)));
    let calm = started.elapsed();
    nw.shutdown().await;
    let baseline = served.rss_kib();
    let watch = MemoryWatch::start(served.pid());

    // 40 peers open 8 sessions each: "I have nothing, send everything", then never read.
    let mut held = Vec::new();
    for _ in 0..40 {
        let ep = rogue(None).await;
        let conn = ep.connect(server.clone(), ALPN).await.expect("connect");
        let mut streams = Vec::new();
        for _ in 0..8 {
            let (mut send, recv) = conn.open_bi().await.expect("stream");
            let _ = send.write_all(&empty_hello(s.festival)).await;
            streams.push((send, recv));
        }
        held.push((ep, conn, streams));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;

    // A legitimate join while every attacker still holds its sessions.
    let honest = shared(node(2));
    let nh = Net::start(honest.clone(), NetConfig::loopback()).await.expect("honest");
    let started = Instant::now();
    let end = tokio::time::timeout(Duration::from_secs(60), nh.sync_with(server.clone(), s.festival)).await;
    let took = started.elapsed();
    assert!(matches!(end, Ok(Ok(SessionEnd::Finished(_)))), "join under attack: {end:?}");
    assert_eq!(digest(&honest, &s.festival), digest(&warm, &s.festival));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let peak = watch.peak_kib();
    let grew = peak.saturating_sub(baseline);
    println!(
        "non-reading attack: baseline {baseline} KiB, peak {peak} KiB (+{grew} KiB); join took {took:?} (without attack {calm:?})"
    );
    assert!(grew < 160 * 1024, "server grew by {grew} KiB under 300 non-reading sessions");
    nh.shutdown().await;
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_that_take_no_live_updates_are_dropped_without_leaking() {
    let (dir, s) = served_festival(10_800);
    let mut served = Served::start(dir.path());
    let server = served.invite.peer.clone();
    let baseline = served.rss_kib();
    let watch = MemoryWatch::start(served.pid());

    // 40 peers finish a session once (so the server registers them for live updates: "nothing
    // to compare", then Done), then grant the server no stream at all.
    let mut idle = Vec::new();
    for _ in 0..40 {
        let none = QuicTransportConfig::builder().max_concurrent_bidi_streams(VarInt::from_u32(0)).build();
        let ep = rogue(Some(none)).await;
        let conn = ep.connect(server.clone(), ALPN).await.expect("connect");
        let mut hello = Message::Hello { version: 1, festival: s.festival, ranges: vec![] }.frame();
        hello.extend(Message::Done.frame());
        let reply = exchange(&conn, &hello).await;
        assert!(matches!(messages(&reply).last(), Some(Message::Done)), "{:?}", messages(&reply));
        idle.push((ep, conn));
    }
    // A listener that does take updates, and a writer that keeps changing the festival.
    let listener = shared(node_with(200, &s.ops));
    let nl = Net::start(listener.clone(), NetConfig::loopback()).await.expect("listener");
    assert!(matches!(nl.sync_with(server.clone(), s.festival).await.expect("sync"), SessionEnd::Finished(_)));
    let writer = shared(node_with(201, &s.ops));
    let nw = Net::start(writer.clone(), NetConfig::loopback()).await.expect("writer");
    let me = Identity::from_seed(777);
    let mut rng = Rng::new(3);
    for i in 0..30 {
        {
            let mut w = writer.lock().expect("lock");
            append_as(&mut w, &me, s.festival, event_body(&mut rng, 90_000 + i, None, 0), 0).expect("write");
        }
        assert!(matches!(nw.sync_with(server.clone(), s.festival).await.expect("push"), SessionEnd::Finished(_)));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    // The listener got every change pushed live, idle peers or not.
    let want = op_count(&writer);
    eventually("live updates reaching the listener", Duration::from_secs(20), || op_count(&listener) == want).await;
    let peak = watch.peak_kib();
    let grew = peak.saturating_sub(baseline);
    println!("idle live peers: baseline {baseline} KiB, peak {peak} KiB (+{grew} KiB)");
    assert!(grew < 96 * 1024, "server grew by {grew} KiB pushing to 40 peers that take no streams");
    assert!(served.alive());
    // The idle peers were dropped: their connections are closed.
    eventually("idle peers being dropped", Duration::from_secs(20), || {
        idle.iter().all(|(_, c)| c.close_reason().is_some())
    })
    .await;
    nw.shutdown().await;
    nl.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Medium 6: floods

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_cannot_pile_events_onto_a_day_by_moving_them() {
    let (a, _) = small_festival(36);
    let victim = shared(node_with(1, &a.ops));
    let nv = Net::start(victim.clone(), NetConfig::loopback()).await.expect("victim");
    let mut spam = node_with(2, &a.ops);
    let k = stranger();
    let mut w = LogWriter::new(a.festival, spam.store().next_position(&a.festival, &k.public()).expect("pos"));
    let mut rng = Rng::new(36);
    let mut ops = Vec::new();
    let mut ids = Vec::new();
    // 20 a day over 15 days: within the per-day cap...
    for i in 0..300usize {
        let l = w.next.lamport;
        let op = w.sign(&k, l, 0, event_body(&mut rng, i, None, (i / 20) as i64 * 86_400)).expect("op");
        ids.push(op.id());
        ops.push(op);
    }
    // ...then every one moved onto the first day.
    for (i, id) in ids.iter().enumerate() {
        let l = w.next.lamport;
        let start = FESTIVAL_START + (i as i64 % 40) * 600;
        let patch = EventPatch { start: Some(start), end: Some(start + 1800), ..Default::default() };
        ops.push(w.sign(&k, l, 0, Body::Event { target: Some(*id), patch }).expect("op"));
    }
    spam.ingest(ops).expect("ingest");
    let spam = shared(spam);
    let na = Net::start(spam.clone(), NetConfig::loopback()).await.expect("spammer");
    assert!(matches!(na.sync_with(nv.addr(), a.festival).await.expect("sync"), SessionEnd::Finished(_)));
    // The initiator's session ends on the victim's Done, which does not wait for the victim to
    // store the last batch it received: wait until it holds every op.
    let want = op_count(&spam);
    eventually("the victim storing every op", Duration::from_secs(20), || op_count(&victim) == want).await;
    let all = victim.lock().expect("lock").store().programme(&a.festival, &ProgrammeFilter::default()).expect("p");
    let theirs = all.iter().filter(|e| e.creator == k.public()).count();
    assert_eq!(theirs, meadow_core::model::COMMUNITY_EVENTS_PER_AUTHOR as usize, "one key shows at most the total cap");
    na.shutdown().await;
    nv.shutdown().await;
}

#[test]
fn one_moderation_op_hides_a_flood_from_ten_thousand_fresh_keys_and_it_travels_last() {
    let (a, _) = small_festival(37);
    let mut organiser_device = Node::in_memory(Identity::from_seed(37 * 1_000_003)).expect("node");
    organiser_device.set_clock(Clock::Fixed(1_000_000));
    organiser_device.ingest(a.ops.clone()).expect("ingest");
    // Five regulars post community events before the flood.
    let regulars: Vec<Identity> = (0..5).map(|_| stranger()).collect();
    let mut rng = Rng::new(37);
    for (i, r) in regulars.iter().enumerate() {
        append_as(&mut organiser_device, r, a.festival, event_body(&mut rng, i, None, 3600), 0).expect("regular");
    }
    // The flood: 10,000 fresh keys, one event each, seen an hour later.
    organiser_device.set_clock(Clock::Fixed(1_003_600));
    let mut flood = Vec::with_capacity(10_000);
    let mut flood_authors = std::collections::HashSet::new();
    for i in 0..10_000usize {
        let k = stranger();
        flood_authors.insert(k.public());
        let mut w = LogWriter::new(a.festival, LogPosition { seq: 0, backlink: None, lamport: 100 });
        flood.push(w.sign(&k, 100, 0, event_body(&mut rng, 1000 + i, None, 3600)).expect("op"));
    }
    let report = organiser_device.ingest(flood).expect("ingest");
    assert_eq!(report.stored, 10_000);
    let visible = |n: &Node| n.store().programme(&a.festival, &ProgrammeFilter::default()).expect("p").len();
    assert_eq!(visible(&organiser_device), 10_000 + 5 + 2);
    // One op: approved-only, approving everybody this device saw before the flood.
    let approve = organiser_device.store().community_authors_seen_before(&a.festival, 1_003_000).expect("seen");
    assert_eq!(approve.len(), 5 + 1, "the regulars and the festival's earlier community author");
    let ops = organiser_device.moderate(a.festival, Some(CommunityMode::Approved), approve).expect("moderate");
    assert_eq!(ops, 1);
    assert_eq!(visible(&organiser_device), 5 + 1 + 1, "official and approved community events only");
    assert!(organiser_device.check().expect("check").is_clean());

    // A phone meeting the organiser's device for a short encounter gets the programme and the
    // regulars first; the flood travels last, if at all.
    let mut phone = node(3);
    let important: u64 = organiser_device
        .store()
        .ops(&a.festival)
        .expect("ops")
        .iter()
        .filter(|o| !flood_authors.contains(&o.author()))
        .map(|o| o.bytes().len() as u64 + 16)
        .sum();
    let link = Link { cut_after_bytes: Some(important * 2 + 4096), ..Link::ble() };
    let out = sync_pair(&mut phone, &mut organiser_device, &a.festival, &link, &Config::default(), 100_000_000);
    assert!(out.cut);
    assert_eq!(visible(&phone), 5 + 1 + 1, "the phone shows what the organiser shows");
    assert!(phone.store().op_count().expect("count") < 5_000, "the flood was still on its way");
    // The moderation op itself is official and travelled early.
    assert_eq!(phone.festival(&a.festival).expect("f").organisers.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extension_kinds_from_one_key_cost_at_most_their_budget() {
    let (a, _) = small_festival(38);
    let victim = shared(node_with(1, &a.ops));
    let nv = Net::start(victim.clone(), NetConfig::loopback()).await.expect("victim");
    let ep = rogue(None).await;
    let conn = ep.connect(nv.addr(), ALPN).await.expect("connect");
    // 200 ops of an unknown kind with 16 KiB bodies, one key.
    let k = stranger();
    let mut big = vec![200u8];
    // A valid record: one unknown field of 16 KiB minus a few bytes of framing.
    let mut w = meadow_core::wire::Writer::new();
    w.field(7, &vec![0x55; 16 * 1024 - 8]);
    big.extend_from_slice(w.as_slice());
    assert!(big.len() <= meadow_core::op::MAX_BODY_SIZE);
    let mut prev = None;
    let mut ops = Vec::new();
    for seq in 0..200u64 {
        let h = ForgeHeader {
            festival: a.festival,
            seq,
            backlink: prev,
            lamport: 10 + seq,
            wall_time_ms: 0,
            context: true,
        };
        let op = forge_op(&k, h, &big);
        prev = Some(op.id);
        ops.push(op.bytes);
    }
    // Ops past a log's budget are refused, not held against the peer: a peer of a release with a
    // larger budget is not hostile for holding them, and dropping it would fail every later sync
    // with it at the same op. What the flood costs is bounded by the store, checked below.
    let reply = exchange(&conn, &push_frames(a.festival, &ops)).await;
    assert!(!reply.is_empty(), "the node answers the flood");
    let (stored, pending) = {
        let v = victim.lock().expect("lock");
        (v.store().op_count().expect("count") - a.ops.len() as u64, v.store().pending_count().expect("pending"))
    };
    let budget = rules::MAX_EXTENSION_BYTES_PER_LOG as usize / big.len();
    assert_eq!(stored as usize, budget, "only the extension budget's worth is kept");
    assert_eq!(pending, 0, "the rest is refused, not parked");
    // A phone joining now downloads the programme plus that budget, not 3 MB.
    let phone = shared(node(4));
    let np = Net::start(phone.clone(), NetConfig::loopback()).await.expect("phone");
    let SessionEnd::Finished(stats) = np.sync_with(nv.addr(), a.festival).await.expect("join") else {
        panic!("join failed")
    };
    let programme: u64 = a.ops.iter().map(|o| o.bytes().len() as u64).sum();
    // Each kept op brings its header and framing besides its body.
    let overhead = stored * 256 + 8 * 1024;
    assert!(stats.bytes_received < programme + rules::MAX_EXTENSION_BYTES_PER_LOG + overhead, "{stats:?}");
    for n in [np, nv] {
        n.shutdown().await;
    }
    ep.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_parked_by_twenty_thousand_keys_never_sync_and_expire() {
    let (a, _) = small_festival(39);
    let mut v = node_with(1, &a.ops);
    v.set_clock(Clock::Fixed(2_000_000));
    let victim = shared(v);
    let nv = Net::start(victim.clone(), NetConfig::loopback()).await.expect("victim");
    let ep = rogue(None).await;
    let conn = ep.connect(nv.addr(), ALPN).await.expect("connect");
    // Each key's op 1 without its op 0: it can never attach.
    let mut rng = Rng::new(39);
    let body = event_body(&mut rng, 1, None, 0).encode();
    let ops: Vec<Vec<u8>> = (0..20_000)
        .map(|_| {
            let h = ForgeHeader {
                festival: a.festival,
                seq: 1,
                backlink: Some(OpId([9; 32])),
                lamport: 5,
                wall_time_ms: 0,
                context: true,
            };
            forge_op(&stranger(), h, &body).bytes
        })
        .collect();
    let reply = exchange(&conn, &push_frames(a.festival, &ops)).await;
    assert!(!failed(&reply), "parking is not an error: {:?}", messages(&reply).last());
    assert_eq!(victim.lock().expect("lock").store().pending_count().expect("pending"), 20_000);
    // They never sync: a phone joining gets the festival and none of them.
    let phone = shared(node(2));
    let np = Net::start(phone.clone(), NetConfig::loopback()).await.expect("phone");
    assert!(matches!(np.sync_with(nv.addr(), a.festival).await.expect("join"), SessionEnd::Finished(_)));
    assert_eq!(op_count(&phone), a.ops.len() as u64);
    assert_eq!(phone.lock().expect("lock").store().pending_count().expect("p"), 0);
    // A week later they are gone, at the next write.
    {
        let mut v = victim.lock().expect("lock");
        v.set_clock(Clock::Fixed(2_000_000 + meadow_core::store::PARK_SECONDS + 1));
        let owner = Identity::from_seed(39 * 1_000_003);
        append_as(
            &mut v,
            &owner,
            a.festival,
            Body::Announcement(Announcement { text: "Hi".into(), priority: Priority::Normal, expires: None }),
            0,
        )
        .expect("write");
        assert_eq!(v.store().pending_count().expect("pending"), 0);
    }
    for n in [np, nv] {
        n.shutdown().await;
    }
    ep.close().await;
}

// ---------------------------------------------------------------------------------------------
// Medium 7: equivocation evidence travels

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_of_a_forked_log_reaches_every_device() {
    let (a, _) = small_festival(40);
    let eve = stranger();
    let mut rng = Rng::new(40);
    let start = LogPosition { seq: 0, backlink: None, lamport: 50 };
    let first = LogWriter::new(a.festival, start).sign(&eve, 50, 0, event_body(&mut rng, 1, None, 0)).expect("op");
    let next = LogPosition { seq: 1, backlink: Some(first.id()), lamport: 51 };
    let branch_a = LogWriter::new(a.festival, next).sign(&eve, 51, 0, event_body(&mut rng, 2, None, 0)).expect("a");
    let branch_b = LogWriter::new(a.festival, next).sign(&eve, 52, 0, event_body(&mut rng, 3, None, 0)).expect("b");
    let with = |seed, extra: Vec<Op>| {
        let mut ops = a.ops.clone();
        ops.push(first.clone());
        let mut n = node_with(seed, &ops);
        n.ingest(extra).expect("ingest");
        shared(n)
    };
    let x = with(1, vec![branch_a.clone()]);
    let y = with(2, vec![branch_b.clone()]);
    let z = with(3, vec![branch_a.clone(), branch_b.clone()]);
    let (nx, ny, nz) = (
        Net::start(x.clone(), NetConfig::loopback()).await.expect("x"),
        Net::start(y.clone(), NetConfig::loopback()).await.expect("y"),
        Net::start(z.clone(), NetConfig::loopback()).await.expect("z"),
    );
    let forked = |n: &SharedNode| n.lock().expect("lock").store().forked_authors(&a.festival).expect("forks");
    assert!(forked(&x).is_empty() && forked(&y).is_empty() && !forked(&z).is_empty());
    assert!(matches!(nx.sync_with(nz.addr(), a.festival).await.expect("sync"), SessionEnd::Finished(_)));
    assert_eq!(forked(&x), forked(&z), "X learnt of the fork from Z");
    assert!(matches!(ny.sync_with(nx.addr(), a.festival).await.expect("sync"), SessionEnd::Finished(_)));
    assert_eq!(forked(&y), forked(&z), "Y learnt of it from X, holding the other branch");
    let d = digest(&z, &a.festival);
    assert_eq!(digest(&x, &a.festival), d);
    assert_eq!(digest(&y, &a.festival), d);
    for n in [&x, &y, &z] {
        assert!(n.lock().expect("lock").check().expect("check").is_clean());
    }
    // Once all agree, a session between them moves no ops.
    let SessionEnd::Finished(st) = ny.sync_with(nz.addr(), a.festival).await.expect("sync") else { panic!() };
    assert_eq!((st.ops_sent, st.ops_received), (0, 0));
    for n in [nx, ny, nz] {
        n.shutdown().await;
    }
}

/// A fork first seen through a backlink: one device meets only a second branch's later op, whose
/// backlink names an op it does not hold; a device holding the first branch further on must still
/// learn of the fork from it, and both must end with the same items and programme.
#[test]
fn a_fork_seen_only_through_a_backlink_reaches_a_device_holding_the_other_branch() {
    let (a, _) = small_festival(41);
    let eve = stranger();
    let mut rng = Rng::new(41);
    let mut main = LogWriter::new(a.festival, LogPosition { seq: 0, backlink: None, lamport: 60 });
    let branch_a: Vec<Op> =
        (0..5).map(|i| main.sign(&eve, 0, 0, event_body(&mut rng, 10 + i, None, 0)).expect("op")).collect();
    // Branch b forks at seq 2: b2 is never shown to anybody, b3 names it.
    let at2 = LogPosition { seq: 2, backlink: Some(branch_a[1].id()), lamport: 200 };
    let mut other = LogWriter::new(a.festival, at2);
    let b2 = other.sign(&eve, 0, 0, event_body(&mut rng, 20, None, 0)).expect("b2");
    let b3 = other.sign(&eve, 0, 0, event_body(&mut rng, 21, None, 0)).expect("b3");
    assert_ne!(b2.id(), branch_a[2].id());
    // X holds a0..a2 and then b3, whose backlink is not a2; Y holds a0..a4.
    let mut x = node_with(1, &[a.ops.clone(), branch_a[..3].to_vec()].concat());
    let r = x.ingest(vec![b3.clone()]).expect("ingest");
    assert!(matches!(r.rejected[0].reason, RejectReason::Equivocation(3)), "{r:?}");
    let mut y = node_with(2, &[a.ops.clone(), branch_a.clone()].concat());
    assert!(y.store().forked_authors(&a.festival).expect("forks").is_empty());
    for round in 0..2 {
        let out = sync_pair(&mut x, &mut y, &a.festival, &Link::lan(), &Config::default(), 60_000);
        assert!(matches!(out.initiator, Some(SessionEnd::Finished(_))), "round {round}: {out:?}");
    }
    let forks = |n: &Node| n.store().forked_authors(&a.festival).expect("forks");
    assert_eq!(forks(&y), vec![(eve.public(), 3)], "Y learnt of the fork from X");
    assert_eq!(forks(&x), forks(&y));
    let items = |n: &Node| n.sync_items(&a.festival).expect("items").as_slice().to_vec();
    assert_eq!(items(&x), items(&y));
    assert_eq!(x.store().state_digest(&a.festival).expect("d"), y.store().state_digest(&a.festival).expect("d"));
    // Once they agree, a session moves no ops.
    let out = sync_pair(&mut x, &mut y, &a.festival, &Link::lan(), &Config::default(), 60_000);
    let Some(SessionEnd::Finished(st)) = out.initiator else { panic!("{out:?}") };
    assert_eq!((st.ops_sent, st.ops_received), (0, 0));
}

// ---------------------------------------------------------------------------------------------
// Medium 8: replies over the frame limit

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_holding_only_the_official_ops_of_a_25k_op_festival_syncs() {
    let s = benchmark_festival(42, 25_000, 500);
    let full = node_with(1, &s.ops);
    let official: Vec<Op> = {
        let f = full.festival(&s.festival).expect("festival");
        s.ops.iter().filter(|o| o.author() == f.owner || f.organisers.contains(&o.author())).cloned().collect()
    };
    assert!(official.len() > 5_000 && official.len() < 20_000, "{}", official.len());
    let full = shared(full);
    let partial = shared(node_with(2, &official));
    let nf = Net::start(full.clone(), NetConfig::loopback()).await.expect("full");
    let np = Net::start(partial.clone(), NetConfig::loopback()).await.expect("partial");
    let end = np.sync_with(nf.addr(), s.festival).await.expect("sync");
    assert!(matches!(end, SessionEnd::Finished(_)), "{end:?}");
    assert_eq!(digest(&partial, &s.festival), digest(&full, &s.festival));
    np.shutdown().await;
    nf.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Medium 9: the demo's keys

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_can_post_official_announcements_into_a_served_demo() {
    let mut v = node(1);
    let (f, _) = meadow_core::demo::create_demo(&mut v, jiff::civil::date(2026, 7, 10)).expect("demo");
    let organisers = v.festival(&f).expect("festival").organisers;
    // The keys older builds derived from public seeds are not the demo's organisers.
    for seed in 1001..=1002 {
        assert!(!organisers.contains(&Identity::from_seed(seed).public()));
    }
    let victim = shared(v);
    let nv = Net::start(victim.clone(), NetConfig::loopback()).await.expect("victim");
    let attacker = shared(node(2));
    let na = Net::start(attacker.clone(), NetConfig::loopback()).await.expect("attacker");
    assert!(matches!(na.sync_with(nv.addr(), f).await.expect("join"), SessionEnd::Finished(_)));
    let before = victim.lock().expect("lock").store().announcements(&f, 0).expect("a").len();
    for seed in 1001..=1002 {
        let key = Identity::from_seed(seed);
        let body = Body::Announcement(Announcement {
            text: "Storm! Leave the field".into(),
            priority: Priority::Emergency,
            expires: None,
        });
        append_as(&mut attacker.lock().expect("lock"), &key, f, body, 0).expect("append");
    }
    assert!(matches!(na.sync_with(nv.addr(), f).await.expect("push"), SessionEnd::Finished(_)));
    let anns = victim.lock().expect("lock").store().announcements(&f, 0).expect("a");
    assert_eq!(anns.len(), before);
    assert!(anns.iter().all(|a| !a.text.starts_with("Storm!")));
    na.shutdown().await;
    nv.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Low 10

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickle_of_bytes_does_not_keep_a_session_alive() {
    let (a, _) = small_festival(43);
    let mut cfg = NetConfig::loopback();
    cfg.sync.idle_timeout_ms = 2_000;
    let nv = Net::start(shared(node_with(1, &a.ops)), cfg).await.expect("victim");
    let ep = rogue(None).await;
    let conn = ep.connect(nv.addr(), ALPN).await.expect("connect");
    let (mut send, mut recv) = conn.open_bi().await.expect("stream");
    // The first bytes of a frame announced as 60,000 bytes long, one byte at a time.
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let _ = send.write_all(&[0xe0, 0xd4, 0x03]).await;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if send.write_all(&[0x01]).await.is_err() {
                break;
            }
        }
    });
    let answer = tokio::time::timeout(Duration::from_secs(8), recv.read_to_end(1 << 16)).await;
    let took = started.elapsed();
    assert!(answer.is_ok(), "the node must end a session that makes no progress");
    assert!(took < Duration::from_secs(6), "ended after {took:?}");
    trickle.abort();
    nv.shutdown().await;
    ep.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_answered_with_an_error_frame_that_arrives() {
    let (a, _) = small_festival(44);
    let victim = shared(node_with(1, &a.ops));
    let nv = Net::start(victim.clone(), NetConfig::loopback()).await.expect("victim");
    let ep = rogue(None).await;
    let conn = ep.connect(nv.addr(), ALPN).await.expect("connect");
    let reply = exchange(&conn, b"\x07this is not a meadow frame").await;
    assert!(matches!(messages(&reply).last(), Some(Message::Error { code: 1, .. })), "{reply:?}");
    let conn = ep.connect(nv.addr(), ALPN).await.expect("connect");
    let other_version = Message::Hello { version: 9, festival: a.festival, ranges: vec![] }.frame();
    let reply = exchange(&conn, &other_version).await;
    assert!(matches!(messages(&reply).last(), Some(Message::Error { code: 5, .. })), "{:?}", messages(&reply));
    // An op whose signature covers the header without the signing context is forged.
    let conn = ep.connect(nv.addr(), ALPN).await.expect("connect");
    let k = stranger();
    let mut rng = Rng::new(44);
    let h = ForgeHeader { festival: a.festival, seq: 0, backlink: None, lamport: 3, wall_time_ms: 0, context: false };
    let op = forge_op(&k, h, &event_body(&mut rng, 1, None, 0).encode());
    let reply = exchange(&conn, &push_frames(a.festival, &[op.bytes])).await;
    assert!(matches!(messages(&reply).last(), Some(Message::Error { code: 4, .. })), "{:?}", messages(&reply));
    assert_eq!(op_count(&victim), a.ops.len() as u64);
    nv.shutdown().await;
    ep.close().await;
}

#[test]
fn an_archive_is_imported_whole_or_not_at_all() {
    let (a, _) = small_festival(45);
    let k = stranger();
    // A log whose last extension op breaks the per-log budget: everything else in the archive
    // is valid and would be stored on its own.
    let mut body = vec![200u8];
    let mut w = meadow_core::wire::Writer::new();
    w.field(7, &vec![0x55; 16 * 1024 - 8]);
    body.extend_from_slice(w.as_slice());
    let mut log = LogWriter::new(a.festival, LogPosition { seq: 0, backlink: None, lamport: 100 });
    let mut ops = a.ops.clone();
    for _ in 0..rules::MAX_EXTENSION_BYTES_PER_LOG as usize / (16 * 1024) + 1 {
        let l = log.next.lamport;
        let op = Op::decode(
            &forge_op(
                &k,
                ForgeHeader {
                    festival: a.festival,
                    seq: log.next.seq,
                    backlink: log.next.backlink,
                    lamport: l,
                    wall_time_ms: 0,
                    context: true,
                },
                &body,
            )
            .bytes,
        )
        .expect("op");
        log.next = LogPosition { seq: op.seq() + 1, backlink: Some(op.id()), lamport: l + 1 };
        ops.push(op);
    }
    let mut src = Store::open_in_memory().expect("src");
    let report = src.ingest(ops.clone()).expect("ingest");
    assert!(report.rejected.iter().any(|r| matches!(r.reason, RejectReason::LogFull(_))));
    // Build the archive by hand, as another implementation could.
    let mut w = meadow_core::wire::Writer::new();
    w.raw(meadow_core::exchange::archive::MAGIC);
    w.raw(a.festival.as_bytes());
    w.varint(ops.len() as u64);
    for op in &ops {
        w.raw(op.bytes());
    }
    w.varint(0);
    let sum = meadow_core::exchange::archive::checksum(w.as_slice());
    w.raw(sum.as_bytes());
    let archive = meadow_core::exchange::archive::read(&w.into_vec()).expect("a well-formed archive");
    let mut dst = Store::open_in_memory().expect("dst");
    let err = meadow_core::exchange::archive::import(&mut dst, archive).expect_err("refused");
    assert!(err.to_string().contains("nothing from the archive was stored"), "{err}");
    assert_eq!(dst.op_count().expect("count"), 0);
}

#[test]
fn a_posting_time_from_a_clock_far_ahead_is_not_shown() {
    let (a, _) = small_festival(46);
    let mut n = node_with(1, &a.ops);
    let organiser = Identity::from_seed(46 * 1_000_003 + 1);
    let body =
        Body::Announcement(Announcement { text: "From the future".into(), priority: Priority::Normal, expires: None });
    append_as(&mut n, &organiser, a.festival, body, 4_102_444_800_000).expect("append");
    let now = 1_783_000_000;
    let anns = n.store().announcements(&a.festival, now).expect("a");
    let future = anns.iter().find(|x| x.text == "From the future").expect("shown");
    assert_eq!(future.posted_at, None, "a claimed posting time in 2100 is not shown");
    let honest = anns.iter().find(|x| x.text == "Gates open at 10").expect("other");
    assert!(honest.posted_at.is_some());
}

/// A flood of valid ops from a peer while a front end's subscription is never read (a screen in
/// the background): the subscription holds one entry per festival, not one per op, and what it
/// says when finally read is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_while_a_subscriber_does_not_read_holds_one_entry_per_festival() {
    use meadow_core::feed::Scope;
    let (s, t) = (benchmark_festival(61, 3000, 400), benchmark_festival(62, 500, 50));
    let mut ops = s.ops.clone();
    ops.extend(t.ops.iter().cloned());
    let attacker = shared(node_with(1, &ops));
    let victim = shared(node(2));
    let sleeping = victim.lock().expect("lock").subscribe();
    let (na, nv) = (
        Net::start(attacker.clone(), NetConfig::loopback()).await.expect("a"),
        Net::start(victim.clone(), NetConfig::loopback()).await.expect("v"),
    );
    for f in [s.festival, t.festival] {
        assert!(matches!(nv.sync_with(na.addr(), f).await.expect("sync"), SessionEnd::Finished(_)));
    }
    assert_eq!(op_count(&victim), 3500);
    let held = sleeping.try_next().expect("the flood was published");
    assert_eq!(held.festivals.len(), 2, "one entry per festival, however many commits");
    for f in [s.festival, t.festival] {
        assert!(held.scopes(&f).contains(Scope::Programme), "{:?}", held.scopes(&f));
    }
    assert_eq!(sleeping.try_next(), None);
    na.shutdown().await;
    nv.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Radio links (issue 13): peers over Bluetooth GATT and byte streams that send garbage, claim
// huge frames, send out of order or past their credit, or stop reading.

/// Feeds `packets` from a hostile peer to a node answering over `transport`; returns how the
/// session ended and every packet the node sent.
fn radio_attack(
    n: &mut Node,
    transport: meadow_core::proximity::Transport,
    packets: &[Vec<u8>],
) -> (Option<SessionEnd>, Vec<Vec<u8>>) {
    use meadow_core::node::LinkSync;
    let mut l = LinkSync::respond(transport, 0);
    let mut sent = l.start(n).expect("start").packets;
    let mut end = None;
    for (i, p) in packets.iter().enumerate() {
        let step = l.received(n, p, i as u64).expect("store works");
        sent.extend(step.packets);
        end = end.or(step.end);
    }
    (end, sent)
}

#[test]
fn garbage_from_a_radio_peer_ends_the_link_and_changes_nothing() {
    use meadow_core::proximity::Transport;
    let s = benchmark_festival(61, 300, 20);
    let gatt = Transport::Gatt { mtu: 185 };
    let open = vec![0x80, 1, 48];
    let mut huge = vec![0x01];
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    let mut corrupt = vec![0x01];
    meadow_core::proximity::frame::encode_frame(&empty_hello(s.festival), &mut corrupt);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let attacks: Vec<(&str, Transport, Vec<Vec<u8>>)> = vec![
        ("a frame claiming 4 GB", gatt, vec![open.clone(), huge.clone()]),
        ("a corrupt frame", gatt, vec![open.clone(), corrupt]),
        ("a segment out of order", gatt, vec![open.clone(), vec![0x05, 1, 2, 3]]),
        ("data before the open", gatt, vec![vec![0x00, 1, 2, 3]]),
        ("an oversized segment", gatt, vec![open.clone(), vec![0x01; 400]]),
        ("a second open", gatt, vec![open.clone(), vec![0x81, 1, 48]]),
        ("an empty segment", gatt, vec![open.clone(), vec![]]),
        ("credit past the window", gatt, vec![open.clone(), vec![0x41, 200]]),
        ("another link version", gatt, vec![vec![0x80, 9, 48]]),
        ("not a Meadow stream", Transport::Stream, vec![b"GET / HTTP/1.1\r\n\r\n".to_vec()]),
        (
            "a stream frame claiming 4 GB",
            Transport::Stream,
            vec![{
                let mut b = vec![0x4d, 1];
                b.extend_from_slice(&u32::MAX.to_le_bytes());
                b
            }],
        ),
    ];
    for (name, transport, packets) in attacks {
        let mut n = node_with(61, &s.ops);
        let before = n.store().state_digest(&s.festival).expect("digest");
        let (end, _) = radio_attack(&mut n, transport, &packets);
        assert!(matches!(end, Some(SessionEnd::Failed(_))), "{name}: {end:?}");
        assert_eq!(n.store().state_digest(&s.festival).expect("digest"), before, "{name} changed the store");
        assert!(n.check().expect("check").is_clean(), "{name}");
    }
}

#[test]
fn a_radio_peer_that_stops_reading_is_dropped_and_costs_one_window() {
    use meadow_core::node::LinkSync;
    use meadow_core::proximity::Transport;
    let s = benchmark_festival(62, 2_000, 50);
    let mut n = node_with(62, &s.ops);
    let mut l = LinkSync::respond(Transport::Gatt { mtu: 185 }, 0);
    // The peer opens with the smallest window and asks for everything, then never grants credit.
    let hello = vec![0x80, 1, 8];
    let mut data = vec![0x01];
    meadow_core::proximity::frame::encode_frame(&empty_hello(s.festival), &mut data);
    let mut sent = Vec::new();
    sent.extend(l.received(&mut n, &hello, 0).expect("open").packets);
    sent.extend(l.received(&mut n, &data, 1).expect("hello").packets);
    let data_segments = sent.iter().filter(|p| p.first().is_some_and(|h| h >> 6 == 0)).count();
    assert!(data_segments <= 8, "{data_segments} data segments sent on a window of 8");
    let mut end = None;
    for t in (1_000..60_000).step_by(1_000) {
        let step = l.tick(&mut n, t).expect("tick");
        assert!(step.packets.iter().all(|p| p.first().is_some_and(|h| h >> 6 != 0)), "no data without credit");
        end = end.or(step.end);
    }
    let Some(SessionEnd::Failed(e)) = end else { panic!("the silent peer was not dropped: {end:?}") };
    assert!(e.to_string().contains("stopped reading"), "{e}");
    let stalled = matches!(l.link_error(), Some(meadow_core::proximity::LinkError::Stalled(ms)) if *ms >= 10_000);
    assert!(stalled, "{:?}", l.link_error());
}

// ---------------------------------------------------------------------------------------------
// Third round: the web info point under load (`meadow serve --web`)

/// Cache-busting: requests for a large feed with a new unknown parameter each. The landed code
/// rendered every one under the node's lock and kept every copy (5.7 GB for 160 requests of a
/// 28.8 MB feed; a join took 46.8 s). Now they are one key, rendered once, and a join goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busting_the_web_cache_costs_one_render_and_a_join_still_goes_through() {
    let (dir, s) = served_festival(10_800);
    let served = Served::start_with_web(dir.path());
    let web = served.web.expect("web address");
    let feed = tokio::task::spawn_blocking(move || meadow_tests::webclient::get(web, "/schedule.json"))
        .await
        .expect("first fetch");
    assert_eq!(feed.status, 200);
    let size = feed.body.len();
    assert!(size > 2_000_000, "a large feed: {size} bytes");
    let baseline = served.rss_kib();
    let watch = MemoryWatch::start(served.pid());
    // 16 clients, 10 requests each, every one with its own cache-busting parameter.
    let attackers: Vec<_> = (0..16)
        .map(|c| {
            std::thread::spawn(move || {
                for i in 0..10 {
                    let path = format!("/schedule.json?bust={}", c * 10 + i);
                    let r = meadow_tests::webclient::get_with(web, &path, "Accept-Encoding: identity\r\n");
                    assert_eq!((r.status, r.body.len()), (200, size), "{path}");
                }
            })
        })
        .collect();
    // A legitimate join while the attack runs.
    let honest = shared(node(24_001));
    let nh = Net::start(honest.clone(), NetConfig::loopback()).await.expect("honest");
    let started = Instant::now();
    let end = tokio::time::timeout(Duration::from_secs(30), nh.sync_with(served.invite.peer.clone(), s.festival)).await;
    let took = started.elapsed();
    assert!(matches!(end, Ok(Ok(SessionEnd::Finished(_)))), "join under attack: {end:?}");
    for a in attackers {
        a.join().expect("attacker");
    }
    let peak = watch.peak_kib();
    let grew = peak.saturating_sub(baseline);
    println!("cache-busting: feed {size} B, baseline {baseline} KiB, peak {peak} KiB (+{grew} KiB), join {took:?}");
    // One more copy of the feed (gzip aside) is what a render costs; 160 kept copies would be
    // hundreds of MB.
    assert!(grew < 150 * 1024, "server grew by {grew} KiB under 160 cache-busting requests");
    assert!(took < Duration::from_secs(10), "a join took {took:?} under the attack");
    nh.shutdown().await;
}

/// Slow headers: a thousand connections from one address, each sending a byte every 2 s and
/// reopening when cut. The landed code let them hold all 512 connection slots (25 of 30 probes
/// got no answer within 1 s); now one address holds at most 64, and another client's requests
/// are answered within a second throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_slow_header_connections_from_one_address_deny_nobody_else() {
    let (dir, _) = served_festival(2_000);
    let served = Served::start_with_web(dir.path());
    let web = served.web.expect("web address");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut attackers = Vec::new();
    for _ in 0..1_000 {
        let stop = stop.clone();
        attackers.push(tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(mut c) = tokio::net::TcpStream::connect(web).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                // One byte of a request line every 2 s, until the server cuts it; then again.
                let mut cut = false;
                for b in b"GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: ".iter().cycle() {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) || c.write_all(&[*b]).await.is_err() {
                        cut = true;
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                if !cut {
                    break;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Another client, from another address, asks 30 times over the next 15 s.
    let mut slow = Vec::new();
    for i in 0..30 {
        let started = Instant::now();
        // Denial was the defect (25 of 30 probes refused); 2 s leaves room for the 2 shared
        // cores of CI, which once answered a probe in 1.001 s.
        let answer = tokio::time::timeout(Duration::from_secs(2), async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let socket = tokio::net::TcpSocket::new_v4().ok()?;
            socket.bind("127.0.0.2:0".parse().ok()?).ok()?;
            let mut c = socket.connect(web).await.ok()?;
            c.write_all(b"GET / HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n").await.ok()?;
            let mut buf = Vec::new();
            c.read_to_end(&mut buf).await.ok()?;
            Some(buf)
        })
        .await;
        match answer {
            Ok(Some(buf)) if buf.starts_with(b"HTTP/1.1 200") => {}
            other => slow.push((i, started.elapsed(), other.map(|b| b.map(|b| b.len())))),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for a in attackers {
        a.abort();
    }
    assert!(slow.is_empty(), "probes not answered within 2 s: {slow:?}");
}

// ---------------------------------------------------------------------------------------------
// Crews: every hostile crew op is refused or inert, and nothing stored is lost

mod crews {
    use super::*;
    use meadow_core::crew::crypto::{CrewKeys, pad, seal};
    use meadow_core::crew::invite::CrewInvite;
    use meadow_core::crew::ops::{CrewBody, GRANT_LEN, Grant, Roster};
    use meadow_core::crew::state::{GRANT_INFO, grant_aad};
    use meadow_core::node::INVITE_SECONDS;
    use meadow_core::view::CrewView;

    /// An admin and a friend in one crew; both hold everything.
    struct Crew {
        admin: Node,
        friend: Node,
        f: FestivalId,
        crew: String,
        events: [OpId; 2],
    }

    fn both_ways(a: &mut Node, b: &mut Node, f: &FestivalId) {
        for _ in 0..3 {
            b.ingest(a.store().ops(f).expect("ops")).expect("ingest");
            a.ingest(b.store().ops(f).expect("ops")).expect("ingest");
        }
    }

    fn crew(seed: u64) -> (Crew, CrewInvite) {
        let (s, [_, event, _, community]) = small_festival(seed);
        let mut admin = node_with(seed * 10 + 1, &s.ops);
        let mut friend = node_with(seed * 10 + 2, &s.ops);
        let crew = admin.create_crew(s.festival, "Kettle").expect("crew");
        let invite = admin.crew_invite(s.festival, &crew, INVITE_SECONDS).expect("invite");
        friend.join_crew(&invite).expect("join");
        both_ways(&mut admin, &mut friend, &s.festival);
        friend.set_favourite(&s.festival, &event, true).expect("fav");
        friend.flush_crew_shares(s.festival).expect("flush");
        both_ways(&mut admin, &mut friend, &s.festival);
        let c = Crew { admin, friend, f: s.festival, crew, events: [event, community] };
        assert_eq!(view(&c.admin, &c.f).members.len(), 2);
        (c, invite)
    }

    fn view(n: &Node, f: &FestivalId) -> CrewView {
        let mut crews = n.crews(f).expect("crews");
        assert_eq!(crews.len(), 1, "{crews:?}");
        crews.remove(0)
    }

    fn crew_bodies(n: &Node, f: &FestivalId, author: &meadow_core::identity::PublicKey) -> Vec<CrewBody> {
        let ops = n.store().crew_ops(f).expect("ops");
        ops.iter()
            .filter(|o| o.author() == *author)
            .filter_map(|o| match o.body() {
                Body::Crew(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_forged_crew_op_is_refused_and_garbage_ciphertext_is_inert() {
        let (mut c, _) = crew(61);
        let before = (view(&c.admin, &c.f), c.admin.op_count().expect("count"));
        // A crew item whose signature is not its author's: refused, nothing stored.
        let item = crew_bodies(&c.friend, &c.f, &c.friend.public_key()).into_iter().last().expect("an item");
        let mut body = meadow_core::wire::Writer::new();
        body.u8(item.kind());
        item.encode_fields(&mut body);
        let h = ForgeHeader { festival: c.f, seq: 0, backlink: None, lamport: 1, wall_time_ms: 0, context: false };
        let forged = forge_op(&stranger(), h, &body.into_vec());
        let refused = match Op::decode(&forged.bytes) {
            Err(_) => true,
            Ok(op) => !c.admin.ingest(vec![op]).expect("ingest").rejected.is_empty(),
        };
        assert!(refused, "a forged crew op is refused");
        assert_eq!((view(&c.admin, &c.f), c.admin.op_count().expect("count")), before);
        // Validly signed garbage ciphertext under the crew's own tag: stored, inert.
        let CrewBody::Item { tag, sealed } = item else { panic!("an item") };
        let mut junk = sealed.clone();
        for b in junk.iter_mut().skip(24) {
            *b ^= 0x5a;
        }
        let k = stranger();
        append_as(&mut c.admin, &k, c.f, Body::Crew(CrewBody::Item { tag, sealed: junk }), 0).expect("stored");
        let friend_key = c.friend.public_key();
        assert_eq!(view(&c.admin, &c.f), before.0, "garbage changes nothing");
        assert!(view(&c.admin, &c.f).members.iter().any(|m| m.key == friend_key));
    }

    #[test]
    fn grants_sealed_to_strangers_and_epochs_copied_into_other_logs_open_nothing() {
        let (mut c, invite) = crew(62);
        let before = view(&c.admin, &c.f);
        let admin_seq = c.admin.store().next_position(&c.f, &c.admin.public_key()).expect("pos").seq;
        // A stranger who photographed the invite knows the crew id and the admin's key. It writes
        // an epoch of "the same crew" sealed to the friend and itself, naming itself admin.
        let k = stranger();
        let festival = c.f;
        let seq = c.friend.store().next_position(&festival, &k.public()).expect("pos").seq;
        let key = [7u8; 32];
        let grant = Grant { crew: invite.crew, epoch: 99, key }.encode();
        let aad = grant_aad(&festival, &k.public(), seq);
        let friend_x = CrewKeys::of(&Identity::from_seed(5_000 + 622), &festival).public;
        let mut grants = vec![seal(&friend_x, GRANT_INFO, &grant, &aad).expect("seal")];
        grants.extend((0..3).map(|i| vec![i as u8; GRANT_LEN]));
        let roster = Roster { name: "Kettle".into(), members: vec![k.public(), c.friend.public_key()], devices: false };
        let plain = pad(&roster.encode()).expect("pad");
        let roster = meadow_core::crew::crypto::EpochKey(key)
            .encrypt(&plain, &meadow_core::crew::crypto::item_aad(&festival, &k.public(), seq, 99))
            .expect("encrypt");
        append_as(&mut c.friend, &k, festival, Body::Crew(CrewBody::Epoch { grants, roster }), 0).expect("stored");
        let seen = view(&c.friend, &c.f);
        assert_eq!((seen.admin, seen.epoch), (before.admin, before.epoch), "the stranger's crew is not the friend's");
        // The admin's newest epoch copied whole into the stranger's log: its grants are bound to
        // the admin's log position and open for nobody there.
        let epoch = crew_bodies(&c.admin, &c.f, &c.admin.public_key())
            .into_iter()
            .rfind(|b| matches!(b, CrewBody::Epoch { .. }))
            .expect("an epoch");
        append_as(&mut c.friend, &k, festival, Body::Crew(epoch), 0).expect("stored");
        assert_eq!(view(&c.friend, &c.f).epoch, before.epoch);
        both_ways(&mut c.admin, &mut c.friend, &festival);
        assert_eq!(view(&c.admin, &c.f), before, "the admin's crew is unchanged");
        let admin_after = c.admin.store().next_position(&c.f, &c.admin.public_key()).expect("pos").seq;
        assert_eq!(admin_after, admin_seq, "the admin wrote nothing because of them");
    }

    #[test]
    fn a_join_request_copied_into_another_log_or_replayed_admits_nobody() {
        let (s, _) = small_festival(63);
        let mut admin = node_with(631, &s.ops);
        let mut friend = node_with(632, &s.ops);
        let crew_id = admin.create_crew(s.festival, "Kettle").expect("crew");
        let invite = admin.crew_invite(s.festival, &crew_id, INVITE_SECONDS).expect("invite");
        friend.join_crew(&invite).expect("join");
        let join = crew_bodies(&friend, &s.festival, &friend.public_key())
            .into_iter()
            .find(|b| matches!(b, CrewBody::Join { .. }))
            .expect("a join request");
        // A thief copies the friend's sealed request into its own log before the friend's arrives.
        let thief = stranger();
        append_as(&mut admin, &thief, s.festival, Body::Crew(join.clone()), 0).expect("stored");
        assert_eq!(view(&admin, &s.festival).members.len(), 1, "a request opens only in its signer's log");
        // The real one admits the friend; the same request again (a second op) admits nobody more.
        both_ways(&mut admin, &mut friend, &s.festival);
        assert_eq!(view(&admin, &s.festival).members.len(), 2);
        append_as(&mut admin, &Identity::from_seed(5_000 + 632), s.festival, Body::Crew(join), 0).expect("stored");
        let after = view(&admin, &s.festival);
        assert_eq!(after.members.len(), 2);
        both_ways(&mut admin, &mut friend, &s.festival);
        assert_eq!(view(&admin, &s.festival).epoch, after.epoch, "no new epoch for a replay");
    }

    #[test]
    fn a_removed_member_writing_under_its_old_key_is_not_heard() {
        let (mut c, _) = crew(64);
        let friend_key = c.friend.public_key();
        c.admin.remove_from_crew(c.f, &c.crew, &friend_key).expect("remove");
        let f = c.f;
        // The friend has not heard of the removal and keeps sharing under the epoch it holds.
        c.friend.set_favourite(&f, &c.events[1], true).expect("fav");
        c.friend.share_with_crews(f, Some("still here".into()), None).expect("share");
        both_ways(&mut c.admin, &mut c.friend, &f);
        let v = view(&c.admin, &f);
        assert_eq!(v.members.len(), 1, "{v:?}");
        let rows = c.admin.programme(&f, &ProgrammeFilter::default()).expect("programme");
        assert!(rows.iter().all(|e| e.crew == 0), "nobody outside the crew counts");
        assert!(c.admin.event_detail(&f, &c.events[1]).expect("d").expect("e").crew_going.is_empty());
    }

    #[test]
    fn a_crew_flood_from_fresh_keys_changes_nothing_and_costs_the_admin_nothing() {
        let (mut c, invite) = crew(65);
        let before = view(&c.admin, &c.f);
        let admin_seq = c.admin.store().next_position(&c.f, &c.admin.public_key()).expect("pos").seq;
        let mut rng = Rng::new(65);
        // Three hundred fresh keys: each publishes a crew key, asks to join with the photographed
        // invite's crew id but a guessed secret, and posts an item with a random tag.
        for i in 0..300u64 {
            let k = stranger();
            let x = CrewKeys::of(&k, &c.f).public;
            append_as(&mut c.admin, &k, c.f, Body::Crew(CrewBody::Key { x25519: x }), 0).expect("key");
            let mut secret = [0u8; 16];
            secret.iter_mut().for_each(|b| *b = rng.below(256) as u8);
            let req = meadow_core::crew::ops::JoinRequest { crew: invite.crew, secret, x25519: x }.encode();
            let sealed = seal(
                &invite.admin_x25519,
                meadow_core::crew::state::JOIN_INFO,
                &req,
                &meadow_core::crew::state::join_aad(&c.f, &k.public()),
            )
            .expect("seal");
            append_as(&mut c.admin, &k, c.f, Body::Crew(CrewBody::Join { sealed }), 0).expect("join");
            let tag = [i as u8; 16];
            append_as(&mut c.admin, &k, c.f, Body::Crew(CrewBody::Item { tag, sealed: vec![i as u8; 160] }), 0)
                .expect("item");
        }
        assert_eq!(view(&c.admin, &c.f), before, "nobody got in");
        let admin_after = c.admin.store().next_position(&c.f, &c.admin.public_key()).expect("pos").seq;
        assert_eq!(admin_after, admin_seq, "the flood made the admin write nothing");
        // A device in no crew stores and forwards the flood without opening anything.
        let mut carrier = node(66);
        carrier.ingest(c.admin.store().ops(&c.f).expect("ops")).expect("carried");
        assert!(carrier.crews(&c.f).expect("crews").is_empty());
        assert_eq!(carrier.op_count().expect("count"), c.admin.op_count().expect("count"), "nothing lost");
    }
}

// ---------------------------------------------------------------------------------------------
// Packed sync frames (issue 28): a peer that abuses the packing of version 2

/// A Packed message body: `n`, `raw_len`, then `deflated` as given.
fn packed_body(n: u64, raw_len: u64, deflated: &[u8]) -> Vec<u8> {
    let mut w = meadow_core::wire::Writer::new();
    w.varint(n);
    w.varint(raw_len);
    w.raw(deflated);
    w.into_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deflate_bomb_or_lying_packed_frame_ends_the_session_and_stores_nothing() {
    let (a, _) = small_festival(41);
    let victim = shared(node_with(1, &a.ops));
    let nv = Net::start(victim.clone(), NetConfig::loopback()).await.expect("victim");
    let ep = rogue(None).await;
    let before = digest(&victim, &a.festival);
    // 64 MiB of zeros deflate to 64 KiB: the frame says 1 KiB. Then a count the declared size
    // cannot hold, a size over the bound, garbage that is no DEFLATE stream, and valid records
    // of a stranger's ops with a byte of a signature flipped.
    let bomb = {
        use std::io::Write;
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![0u8; 64 << 20]).expect("deflate");
        z.finish().expect("deflate")
    };
    let k = stranger();
    let mut w = LogWriter::new(a.festival, LogPosition { seq: 0, backlink: None, lamport: 0 });
    let ops: Vec<Op> = (0..3u64)
        .map(|i| {
            let name = Some(format!("rogue {i}"));
            let patch = meadow_core::op::ProfilePatch { display_name: name, about: None };
            w.sign(&k, i, 0, Body::Profile(patch)).expect("op")
        })
        .collect();
    // One op, so that whatever the flipped byte makes of it is that op, forged.
    let mut forged = meadow_core::sync::packed::pack(&ops[2..]);
    let mid = forged.len() / 2;
    forged[mid] ^= 0x10;
    let attacks = [
        packed_body(10, 1024, &bomb),
        packed_body(1000, 1024, &bomb),
        packed_body(1, 1 << 30, &bomb),
        packed_body(1, 200, &[0xa5; 300]),
        forged,
    ];
    for (i, body) in attacks.into_iter().enumerate() {
        let mut input = Message::Hello { version: 2, festival: a.festival, ranges: vec![] }.frame();
        input.extend(Message::Packed(body).frame());
        input.extend(Message::Done.frame());
        // A failed session closes its connection: each attack comes on a new one.
        let conn = ep.connect(nv.addr(), ALPN).await.expect("connect");
        let reply = exchange(&conn, &input).await;
        assert!(failed(&reply), "attack {i}: the session ends with an Error frame");
        assert_eq!(digest(&victim, &a.festival), before, "attack {i} changed nothing");
    }
    // The node still serves: a phone joins and gets everything.
    let phone = shared(node(2));
    let np = Net::start(phone.clone(), NetConfig::loopback()).await.expect("phone");
    let end = np.sync_with(nv.addr(), a.festival).await.expect("join");
    assert!(matches!(end, SessionEnd::Finished(_)), "{end:?}");
    assert_eq!(op_count(&phone), a.ops.len() as u64);
    for n in [np, nv] {
        n.shutdown().await;
    }
    ep.close().await;
}

// ---------------------------------------------------------------------------------------------
// Signatures crafted so that devices might disagree (the batch verification of issue 28)

/// A key's holder signs ops with small-order parts in the nonce point or the key (docs/protocol.md,
/// "Signatures"): every device keeps them alike, whether they arrive one at a time, in a batch
/// beside a forged op, or over a sync session in frames with the rest of the festival, so no
/// author can make devices disagree about which ops are valid. The forged op is the only one
/// refused.
#[test]
fn ops_signed_with_small_order_parts_are_kept_alike_wherever_they_arrive() {
    use meadow_core::op::crafted::resign;
    let (a, _) = small_festival(41);
    let mut rng = Rng::new(41);
    let first_op = |rng: &mut Rng, n: usize| {
        let mut w = LogWriter::new(a.festival, LogPosition { seq: 0, backlink: None, lamport: 100 });
        w.sign(&stranger(), 100, 0, event_body(rng, 500 + n, None, 3600)).expect("op")
    };
    // Twelve first ops of fresh logs, re-signed with every mix of small-order parts.
    let crafted: Vec<Op> =
        (0..12u64).map(|n| resign(&first_op(&mut rng, n as usize), n, (n % 4) as u8, (n / 4 % 2) as u8)).collect();
    let ids: Vec<OpId> = crafted.iter().map(Op::id).collect();

    let mut one = node_with(1, &a.ops);
    for op in &crafted {
        let report = one.ingest(vec![op.clone()]).expect("ingest");
        assert_eq!((report.stored, report.rejected.len()), (1, 0), "{:?}", report.rejected);
    }

    let mut two = node_with(2, &a.ops);
    let honest = first_op(&mut rng, 99);
    let mut header = honest.header().clone();
    header.signature[40] ^= 1;
    let forged = Op::from_parts(&header, honest.body_bytes()).expect("op");
    let mut batch = crafted.clone();
    batch.insert(5, forged.clone());
    let report = two.ingest(batch).expect("ingest");
    assert_eq!(report.stored, 12);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!((report.rejected[0].index, report.rejected[0].id), (5, Some(forged.id())));
    assert!(matches!(report.rejected[0].reason, RejectReason::Invalid(_)), "{:?}", report.rejected[0]);

    let mut three = node(3);
    let out = sync_pair(&mut three, &mut one, &a.festival, &Link::ble(), &Config::default(), 100_000_000);
    assert!(matches!(out.initiator, Some(SessionEnd::Finished(_))), "{out:?}");

    for n in [&one, &two, &three] {
        assert_eq!(n.store().ops_by_id(&a.festival, &ids).expect("ops").len(), 12);
    }
    let digest = |n: &Node| n.store().state_digest(&a.festival).expect("digest");
    assert_eq!(digest(&one), digest(&two));
    assert_eq!(digest(&one), digest(&three));
}
