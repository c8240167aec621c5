//! Sync's rules over the real SQLite store: forked logs, evidence, the item cache.

use super::{ItemCache, festival_items};
use crate::identity::Identity;
use crate::op::{FestivalId, Op};
use crate::op::{LogPosition, LogWriter};
use crate::store::tests::{T0, announcement, event, world};
use crate::store::{IngestReport, Store};
use crate::store::{MAX_EVIDENCE_PER_AUTHOR, RejectReason};

#[test]
fn devices_holding_different_branches_of_a_fork_end_with_the_same_sync_items() {
    let mut w = world();
    let eve = Identity::from_seed(66);
    let common = w.add(&eve, event("Common", T0, None));
    let base = w.store.ops(&w.f).expect("ops");
    // Two branches from seq 1 on, three ops each, and a third version of seq 1.
    let branch = |title: &str, lamport: u64| {
        let common_op = base.iter().find(|o| o.id() == common).expect("common");
        let mut writer =
            LogWriter::new(w.f, LogPosition { seq: 1, backlink: Some(common), lamport: common_op.lamport() + lamport });
        (0..3)
            .map(|i| writer.sign(&eve, 0, 0, event(&format!("{title} {i}"), T0, None)).expect("op"))
            .collect::<Vec<_>>()
    };
    let (x, y, z) = (branch("X", 1), branch("Y", 2), branch("Z", 3));
    let device = |branch: &[Op], others: &[&Op]| {
        let mut s = Store::open_in_memory().expect("store");
        s.ingest(base.clone()).expect("base");
        s.ingest(branch.to_vec()).expect("branch");
        let r = s.ingest(others.iter().map(|o| (*o).clone()).collect()).expect("evidence");
        assert!(r.rejected.iter().all(|r| matches!(r.reason, RejectReason::Equivocation(1))), "{r:?}");
        s
    };
    // Each learns of the other versions of seq 1 in its own order.
    let a = device(&x, &[&z[0], &y[0]]);
    let b = device(&y, &[&x[0], &z[0]]);
    let c = device(&z, &[&y[0], &x[0]]);
    let items = |s: &Store| festival_items(s, &w.f).expect("items").as_slice().to_vec();
    assert_eq!(items(&a), items(&b));
    assert_eq!(items(&a), items(&c));
    // The ops past the fork that each device stored before it knew stay stored, out of sync.
    assert!(a.ops(&w.f).expect("ops").iter().any(|o| o.id() == x[2].id()));
    assert!(!items(&a).iter().any(|i| i.id == x[2].id()));
    assert_eq!(a.state_digest(&w.f).expect("d"), b.state_digest(&w.f).expect("d"));
}

#[test]
fn evidence_kept_is_the_same_whatever_order_it_arrives_in() {
    let mut w = world();
    let eve = Identity::from_seed(66);
    w.add(&eve, event("Held", T0, None));
    let versions: Vec<Op> = (0..(MAX_EVIDENCE_PER_AUTHOR as u64 + 5))
        .map(|i| {
            Op::create(&eve, w.f, LogPosition { seq: 0, backlink: None, lamport: 10 + i }, 0, event("v", T0, None))
                .expect("op")
        })
        .collect();
    let kept = |order: Vec<Op>| {
        let mut s = Store::open_in_memory().expect("store");
        s.ingest(w.store.ops(&w.f).expect("ops")).expect("base");
        for op in order {
            s.ingest(vec![op]).expect("ingest");
        }
        let mut ev = s.fork_evidence(&w.f).expect("evidence");
        ev.sort();
        (ev, festival_items(&s, &w.f).expect("items").as_slice().to_vec())
    };
    let forward = kept(versions.clone());
    let mut backward = versions;
    backward.reverse();
    assert_eq!(forward.0.len(), MAX_EVIDENCE_PER_AUTHOR as usize);
    assert_eq!(forward, kept(backward));
}

#[test]
fn cached_sync_items_follow_each_batch_exactly() {
    let mut w = world();
    let owner = Identity::from_seed(1);
    let v = w.venue("Main");
    let cache = ItemCache::default();
    cache.items(&w.store, &w.f).expect("items");
    let fresh = |store: &Store, f: &FestivalId| {
        let mut other = Store::open_in_memory().expect("store");
        other.ingest(store.ops(f).expect("ops")).expect("ingest");
        for evidence in store.fork_evidence(f).expect("evidence") {
            other.ingest_bytes(&[evidence]).expect("evidence");
        }
        festival_items(&other, f).expect("items")
    };
    for i in 0..5 {
        let op = w.store.append(&owner, w.f, event(&format!("Set {i}"), T0 + i * 600, Some(v)), 0).expect("append");
        let mut report = IngestReport::default();
        report.items.added.push((w.f, op.lamport(), op.id()));
        report.items.rev = Some(w.store.revision().expect("rev"));
        cache.follow(&report);
        let cached = cache.items(&w.store, &w.f).expect("items");
        let want = fresh(&w.store, &w.f);
        assert_eq!(cached.as_slice(), want.as_slice(), "after op {i}");
    }
    // A fork learnt changes which items take part: the cache starts again.
    let stranger = Identity::from_seed(77);
    let pos = w.store.next_position(&w.f, &stranger.public()).expect("pos");
    let one = LogWriter::new(w.f, pos).sign(&stranger, pos.lamport, 0, announcement("one")).expect("sign");
    let two = LogWriter::new(w.f, pos).sign(&stranger, pos.lamport, 1, announcement("two")).expect("sign");
    cache.follow(&w.store.ingest(vec![one]).expect("one"));
    cache.items(&w.store, &w.f).expect("items");
    cache.follow(&w.store.ingest(vec![two]).expect("the fork"));
    assert!(!w.store.fork_evidence(&w.f).expect("evidence").is_empty());
    let cached = cache.items(&w.store, &w.f).expect("items");
    assert_eq!(cached.as_slice(), fresh(&w.store, &w.f).as_slice());
}
