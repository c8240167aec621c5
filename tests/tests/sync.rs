//! Sync sessions between nodes over simulated links: convergence, cost, interruption, hostile
//! peers.

use meadow_core::identity::Identity;
use meadow_core::node::{Node, SessionEnd};
use meadow_core::op::{Announcement, Body, FestivalId, LogPosition, LogWriter, Op, Priority};
use meadow_core::sync::{Config, Message, Session, SyncError};
use meadow_tests::simnet::{Link, sync_pair};
use meadow_tests::{Builder, benchmark_festival, chaotic_festival, event_body};
use proptest::prelude::*;

fn node(seed: u64) -> Node {
    Node::in_memory(Identity::from_seed(900 + seed)).expect("node")
}

fn with_ops(seed: u64, ops: &[Op]) -> Node {
    let mut n = node(seed);
    n.ingest(ops.to_vec()).expect("ingest");
    n
}

fn finished(e: &Option<SessionEnd>) -> bool {
    matches!(e, Some(SessionEnd::Finished(_)))
}

fn digest(n: &Node, f: &FestivalId) -> String {
    n.store().state_digest(f).expect("digest")
}

#[test]
fn a_new_peer_catches_up_and_agreeing_peers_spend_a_few_bytes() {
    let s = benchmark_festival(5, 6000, 300);
    let mut a = with_ops(1, &s.ops);
    let mut b = node(2);
    let out = sync_pair(&mut b, &mut a, &s.festival, &Link::lan(), &Config::default(), 60_000);
    assert!(finished(&out.initiator) && finished(&out.responder), "{out:?}");
    assert_eq!(b.store().op_count().expect("count"), 6000);
    assert_eq!(digest(&a, &s.festival), digest(&b, &s.festival));
    assert!(b.check().expect("check").is_clean());

    let again = sync_pair(&mut a, &mut b, &s.festival, &Link::lan(), &Config::default(), 60_000);
    assert!(finished(&again.initiator) && finished(&again.responder));
    let total = again.bytes_up + again.bytes_down;
    assert!(total <= 128, "in-sync exchange cost {total} bytes");

    // A third peer joins later, from either of them.
    let mut c = node(3);
    let out = sync_pair(&mut c, &mut b, &s.festival, &Link::lan(), &Config::default(), 60_000);
    assert!(finished(&out.initiator));
    assert_eq!(digest(&c, &s.festival), digest(&a, &s.festival));
}

#[test]
fn partitioned_peers_that_both_wrote_converge() {
    let s = benchmark_festival(6, 3000, 100);
    let mut a = with_ops(1, &s.ops);
    let mut b = with_ops(2, &s.ops);
    // Both sides write while apart: organisers (authors 1 and 2) and community members.
    let write = |n: &mut Node, author: u64, count: usize| {
        let id = Identity::from_seed(6 * 1_000_003 + author);
        let mut w = LogWriter::new(s.festival, n.store().next_position(&s.festival, &id.public()).expect("pos"));
        let mut rng = meadow_core::demo::Rng::new(author);
        let ops: Vec<Op> = (0..count)
            .map(|i| {
                let l = w.next.lamport;
                w.sign(&id, l, 0, event_body(&mut rng, 9000 + i, None, (i as i64) * 600)).expect("op")
            })
            .collect();
        n.ingest(ops).expect("ingest");
    };
    write(&mut a, 1, 40);
    write(&mut a, 50, 10);
    write(&mut b, 2, 40);
    write(&mut b, 60, 10);
    assert_ne!(digest(&a, &s.festival), digest(&b, &s.festival));
    let out = sync_pair(&mut a, &mut b, &s.festival, &Link::lan(), &Config::default(), 60_000);
    assert!(finished(&out.initiator) && finished(&out.responder), "{out:?}");
    assert_eq!(digest(&a, &s.festival), digest(&b, &s.festival));
    assert_eq!(a.store().op_count().expect("a"), b.store().op_count().expect("b"));
}

#[test]
fn a_cut_link_keeps_whole_ops_and_the_next_session_sends_only_the_rest() {
    let s = benchmark_festival(7, 4000, 200);
    let mut a = with_ops(1, &s.ops);
    let mut b = node(2);
    let total_bytes: u64 = s.ops.iter().map(|o| o.bytes().len() as u64).sum();
    let link = Link { cut_after_bytes: Some(total_bytes / 2), ..Link::ble() };
    let out = sync_pair(&mut b, &mut a, &s.festival, &link, &Config::default(), 10_000_000);
    assert!(out.cut);
    assert!(matches!(out.initiator, Some(SessionEnd::Failed(SyncError::Closed))), "{:?}", out.initiator);
    let kept = b.store().op_count().expect("count") + b.store().pending_count().expect("pending");
    assert!(kept > 0 && kept < 4000, "kept {kept}");
    assert!(b.check().expect("check").is_clean());

    let out = sync_pair(&mut b, &mut a, &s.festival, &Link::lan(), &Config::default(), 60_000);
    let Some(SessionEnd::Finished(stats)) = out.initiator else { panic!("{:?}", out.initiator) };
    assert_eq!(stats.ops_received, 4000 - kept, "the second session sends only what is missing");
    assert_eq!(digest(&a, &s.festival), digest(&b, &s.festival));
}

#[test]
fn announcements_and_official_ops_travel_first() {
    // A festival with lots of community chatter and one late announcement.
    let mut bld = Builder::new(8, 400);
    let mut rng = meadow_core::demo::Rng::new(8);
    let organiser = bld.identity(1).public();
    bld.push(0, None, Body::RoleGrant { member: organiser, role: meadow_core::op::Role::Organiser });
    for i in 0..1500 {
        let author = 2 + (i % 398);
        bld.push(author, None, event_body(&mut rng, i, None, ((i % 20) as i64) * 3600));
    }
    let ann = bld.push(
        1,
        None,
        Body::Announcement(Announcement {
            text: "Storm: leave the field".into(),
            priority: Priority::Emergency,
            expires: None,
        }),
    );
    let s = bld.build();
    let mut a = with_ops(1, &s.ops);
    let mut b = node(2);
    let link = Link { cut_after_bytes: Some(40_000), ..Link::ble() };
    let out = sync_pair(&mut b, &mut a, &s.festival, &link, &Config::default(), 10_000_000);
    assert!(out.cut);
    let anns = b.store().announcements(&s.festival, 0).expect("anns");
    assert_eq!(
        anns.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![ann],
        "the announcement made it in a short encounter"
    );
    assert!(b.store().op_count().expect("count") < 1000, "community ops were still on their way");
}

fn raw_responder(a: &mut Node, input: &[u8]) -> Option<SessionEnd> {
    let mut s = Session::respond(Config::default(), 0);
    s.handle_input(input, 1);
    let end = a.serve_sync(&mut s, &meadow_core::view::Arrival::by(meadow_core::view::Via::Iroh)).expect("serve");
    end.or_else(|| {
        s.handle_timeout(u64::MAX);
        a.serve_sync(&mut s, &meadow_core::view::Arrival::by(meadow_core::view::Via::Iroh)).expect("serve")
    })
}

#[test]
fn hostile_peers_are_dropped_and_nothing_stored_is_lost() {
    let s = benchmark_festival(9, 500, 50);
    let mut a = with_ops(1, &s.ops);
    let before = digest(&a, &s.festival);
    let count = a.store().op_count().expect("count");
    let failed = |e: &Option<SessionEnd>| matches!(e, Some(SessionEnd::Failed(_)));

    // Garbage.
    assert!(failed(&raw_responder(&mut a, b"\x05\xff\xfe\xfd\xfc\xfb")));
    // An oversized frame is refused from its length alone.
    assert!(failed(&raw_responder(&mut a, &[0xff, 0xff, 0xff, 0x7f])));
    // A silent peer times out.
    assert!(failed(&raw_responder(&mut a, &[])));
    // An op for a festival nobody asked for.
    let other = benchmark_festival(10, 5, 3);
    let mut hello = Message::Hello { version: 1, festival: s.festival, ranges: vec![] }.frame();
    hello.extend(Message::Ops(vec![other.ops[1].bytes().to_vec()]).frame());
    let mut sess = Session::respond(Config::default(), 0);
    sess.handle_input(&hello, 1);
    let end = a.serve_sync(&mut sess, &meadow_core::view::Arrival::by(meadow_core::view::Via::Iroh)).expect("serve");
    assert!(matches!(end, Some(SessionEnd::Failed(SyncError::InvalidOp(_)))), "{end:?}");
    // A forged signature: a real op with one signature byte changed.
    let intruder = Identity::from_seed(4242);
    let mut w = LogWriter::new(s.festival, LogPosition { seq: 0, backlink: None, lamport: 9999 });
    let op = w.sign(&intruder, 9999, 0, event_body(&mut meadow_core::demo::Rng::new(1), 1, None, 0)).expect("op");
    let mut forged = op.bytes().to_vec();
    let sig = op.header_bytes().len() - 10;
    forged[sig] ^= 1;
    let mut msgs = Message::Hello { version: 1, festival: s.festival, ranges: vec![] }.frame();
    msgs.extend(Message::Ops(vec![forged]).frame());
    let mut sess = Session::respond(Config::default(), 0);
    sess.handle_input(&msgs, 1);
    let end = a.serve_sync(&mut sess, &meadow_core::view::Arrival::by(meadow_core::view::Via::Iroh)).expect("serve");
    assert!(matches!(end, Some(SessionEnd::Failed(SyncError::InvalidOp(_)))), "{end:?}");
    // An unknown festival.
    let mut sess = Session::respond(Config::default(), 0);
    sess.handle_input(&Message::Hello { version: 1, festival: FestivalId([7; 32]), ranges: vec![] }.frame(), 1);
    assert!(matches!(
        a.serve_sync(&mut sess, &meadow_core::view::Arrival::by(meadow_core::view::Via::Iroh)).expect("serve"),
        Some(SessionEnd::Failed(SyncError::UnknownFestival(_)))
    ));

    assert_eq!(digest(&a, &s.festival), before);
    assert_eq!(a.store().op_count().expect("count"), count);
    // And the node still serves honest peers.
    let mut b = node(2);
    let out = sync_pair(&mut b, &mut a, &s.festival, &Link::lan(), &Config::default(), 60_000);
    assert!(finished(&out.initiator));
    assert_eq!(digest(&b, &s.festival), before);
}

/// Ops of a festival such that every log is a prefix: what a real store can hold.
fn prefix_closed(ops: &[Op], keep: impl Fn(usize) -> bool) -> Vec<Op> {
    let mut cut: std::collections::HashMap<meadow_core::identity::PublicKey, u64> = std::collections::HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        if !keep(i) {
            let e = cut.entry(op.author()).or_insert(u64::MAX);
            *e = (*e).min(op.seq());
        }
    }
    ops.iter().filter(|o| cut.get(&o.author()).is_none_or(|&c| o.seq() < c)).cloned().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Two stores holding any parts of a festival converge through any link.
    #[test]
    fn any_two_stores_converge(seed in 0u64..100_000, steps in 10usize..120, pa in 0u64..100, pb in 0u64..100,
                               latency in 1u64..200, kbps in 5u64..2000, loss in 0.0f64..0.2, mtu in 20usize..2000) {
        let s = chaotic_festival(seed, steps);
        let mut rng = meadow_core::demo::Rng::new(seed ^ 0x55);
        let marks: Vec<(u64, u64)> = s.ops.iter().map(|_| (rng.below(100), rng.below(100))).collect();
        let mut a = with_ops(1, &prefix_closed(&s.ops, |i| marks[i].0 < pa));
        let mut b = with_ops(2, &prefix_closed(&s.ops, |i| marks[i].1 < pb));
        // A responder that holds nothing of the festival rightly refuses it.
        prop_assume!(b.store().op_count().expect("count") > 0);
        let link = Link { latency_ms: latency, bytes_per_s: kbps * 1000, mtu, loss, cut_after_bytes: None, seed };
        let out = sync_pair(&mut a, &mut b, &s.festival, &link, &Config::default(), 50_000_000);
        prop_assert!(finished(&out.initiator) && finished(&out.responder), "{:?}", out);
        prop_assert_eq!(a.store().op_count().expect("a"), b.store().op_count().expect("b"));
        prop_assert_eq!(digest(&a, &s.festival), digest(&b, &s.festival));
    }

    /// However the two stores differ, no frame either side sends is over the frame limit the
    /// other enforces (here a small one, so that replies must be cut to fit).
    #[test]
    fn frames_stay_within_the_limit(seed in 0u64..100_000, pa in 0u64..100, pb in 1u64..100, max_frame in 4_000usize..9_000) {
        let s = benchmark_festival(seed, 1500, 60);
        let mut rng = meadow_core::demo::Rng::new(seed);
        let marks: Vec<(u64, u64)> = s.ops.iter().map(|_| (rng.below(100), rng.below(100))).collect();
        let mut a = with_ops(1, &prefix_closed(&s.ops, |i| marks[i].0 < pa));
        let mut b = with_ops(2, &prefix_closed(&s.ops, |i| marks[i].1 < pb));
        prop_assume!(b.store().op_count().expect("count") > 0);
        let cfg = Config { max_frame, ..Config::default() };
        let out = sync_pair(&mut a, &mut b, &s.festival, &Link::lan(), &cfg, 50_000_000);
        prop_assert!(finished(&out.initiator) && finished(&out.responder), "{:?}", out);
        prop_assert!(out.max_frame <= max_frame + 4, "a frame of {} over {}", out.max_frame, max_frame);
        prop_assert_eq!(digest(&a, &s.festival), digest(&b, &s.festival));
    }
}

/// A sync over a native link (what Bluetooth code drives through `LinkSync`) tells the receiving
/// node's change feed what arrived, scope by scope; the sender's feed hears nothing, since it
/// stored nothing.
#[test]
fn ops_arriving_through_a_native_link_reach_the_change_feed() {
    use meadow_core::feed::Scope;
    use meadow_core::node::LinkSync;
    let s = benchmark_festival(31, 400, 20);
    let mut a = with_ops(1, &s.ops);
    let mut b = node(2);
    let (feed_a, feed_b) = (a.subscribe(), b.subscribe());
    let gatt = meadow_core::proximity::Transport::Gatt { mtu: 23 };
    let mut lb = LinkSync::initiate(&b, &s.festival, gatt, 0).expect("initiate");
    let mut la = LinkSync::respond(gatt, 0);
    let mut to_a = lb.start(&mut b).expect("start").packets;
    let mut to_b = la.start(&mut a).expect("start").packets;
    for now in 1..200_000u64 {
        if to_a.is_empty() && to_b.is_empty() {
            break;
        }
        for p in std::mem::take(&mut to_a) {
            let step = la.received(&mut a, &p, now).expect("a");
            to_b.extend(step.packets);
        }
        for p in std::mem::take(&mut to_b) {
            let step = lb.received(&mut b, &p, now).expect("b");
            to_a.extend(step.packets);
        }
    }
    assert!(matches!(lb.end(), Some(SessionEnd::Finished(_))), "{:?}", lb.end());
    assert!(matches!(la.end(), Some(SessionEnd::Finished(_))), "{:?}", la.end());
    assert_eq!(digest(&a, &s.festival), digest(&b, &s.festival));
    let heard = feed_b.try_next().expect("B's feed heard the sync");
    let scopes = heard.scopes(&s.festival);
    for scope in [Scope::Festival, Scope::Programme, Scope::Roles] {
        assert!(scopes.contains(scope), "{scope:?} missing from {scopes:?}");
    }
    assert_eq!(feed_a.try_next(), None, "the sender stored nothing");
}

#[test]
fn packed_ops_halve_a_full_sync_and_a_version_1_peer_still_syncs_plainly() {
    let s = benchmark_festival(8, 2000, 40);
    let plain_cfg = Config { version: 1, ..Config::default() };
    let mut runs = Vec::new();
    for cfg in [Config::default(), plain_cfg.clone()] {
        let mut a = with_ops(1, &s.ops);
        let mut b = node(2);
        // The empty side opens: the full side's ops travel down, packed or not as it opened.
        let out = sync_pair(&mut b, &mut a, &s.festival, &Link::lan(), &cfg, 60_000);
        assert!(finished(&out.initiator) && finished(&out.responder), "{out:?}");
        assert_eq!(digest(&a, &s.festival), digest(&b, &s.festival));
        assert!(b.check().expect("check").is_clean());
        runs.push(out.bytes_down);
    }
    let (packed, plain) = (runs[0], runs[1]);
    assert!(packed * 2 < plain, "packed {packed} bytes against plain {plain}");
    // The other way round (a responder must hold the festival): the version 1 initiator sends
    // plain ops, and is sent plain ops.
    let mut a = with_ops(1, &s.ops);
    let mut b = with_ops(2, &s.ops[..500]);
    let out = sync_pair(&mut a, &mut b, &s.festival, &Link::lan(), &plain_cfg, 60_000);
    assert!(finished(&out.initiator) && finished(&out.responder), "{out:?}");
    assert_eq!(digest(&a, &s.festival), digest(&b, &s.festival));
}

#[test]
fn packed_ops_in_a_version_1_session_or_mangled_change_nothing() {
    let s = benchmark_festival(9, 300, 10);
    let mut a = with_ops(1, &s.ops[..100]);
    let before = digest(&a, &s.festival);
    let packed = meadow_core::sync::packed::pack(&s.ops[100..120]);
    for version in [1u8, 2] {
        let hello = Message::Hello { version, festival: s.festival, ranges: Vec::new() };
        // A version 1 session refuses packed ops outright; in version 2 a mangled record makes
        // an op whose signature fails, and the session ends with nothing of it stored.
        let mut body = packed.clone();
        if version == 2 {
            let raw_at = body.len() - 1;
            body[raw_at] ^= 0x01;
        }
        let mut input = hello.frame();
        input.extend(Message::Packed(body).frame());
        let end = raw_responder(&mut a, &input);
        assert!(matches!(end, Some(SessionEnd::Failed(_))), "version {version}: {end:?}");
        assert_eq!(digest(&a, &s.festival), before, "version {version}");
    }
    // Whole, in version 2, the same ops are stored.
    let mut input = Message::Hello { version: 2, festival: s.festival, ranges: Vec::new() }.frame();
    input.extend(Message::Packed(packed).frame());
    raw_responder(&mut a, &input);
    assert_eq!(a.store().op_count().expect("count"), 120);
}

#[test]
fn packed_ops_count_against_the_session_byte_limit_as_signed() {
    let s = benchmark_festival(10, 200, 10);
    let mut a = with_ops(1, &s.ops[..50]);
    let ops = &s.ops[50..100];
    let plain: usize = ops.iter().map(|o| o.bytes().len()).sum();
    let packed = meadow_core::sync::packed::pack(ops);
    assert!(packed.len() + 200 < plain, "{} packed of {plain}", packed.len());
    // The frame fits the limit; the ops it inflates to do not.
    let cfg = Config { max_bytes: (packed.len() + 200) as u64, ..Config::default() };
    let mut sess = Session::respond(cfg, 0);
    let mut input = Message::Hello { version: 2, festival: s.festival, ranges: Vec::new() }.frame();
    input.extend(Message::Packed(packed).frame());
    sess.handle_input(&input, 1);
    let end = a.serve_sync(&mut sess, &meadow_core::view::Arrival::by(meadow_core::view::Via::Iroh)).expect("serve");
    assert!(matches!(end, Some(SessionEnd::Failed(SyncError::Limit(_)))), "{end:?}");
    assert_eq!(a.store().op_count().expect("count"), 50, "nothing of the frame is stored");
}
