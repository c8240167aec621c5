//! Real iroh endpoints on loopback: convergence, joining from a ticket, partitions, live updates,
//! interruption and hostile peers.

use std::time::{Duration, Instant};

use meadow_core::feed::Scope;
use meadow_core::identity::Identity;
use meadow_core::net::{ALPN, Invite, Net, NetConfig, SharedNode};
use meadow_core::node::{Node, SessionEnd};
use meadow_core::op::{Announcement, LogWriter, Op, Priority};
use meadow_core::sync::{ErrorCode, Message};
use meadow_tests::support::{append_as, digest, eventually, op_count as count, shared};
use meadow_tests::{benchmark_festival, event_body};

fn node(seed: u64, ops: &[Op]) -> SharedNode {
    let mut n = Node::in_memory(Identity::from_seed(700 + seed)).expect("node");
    if !ops.is_empty() {
        n.ingest(ops.to_vec()).expect("ingest");
    }
    shared(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_converge_join_from_tickets_and_heal_partitions() {
    let s = benchmark_festival(21, 3000, 150);
    let (a, b, c) = (node(1, &s.ops), node(2, &[]), node(3, &[]));
    let na = Net::start(a.clone(), NetConfig::loopback()).await.expect("a");
    let nb = Net::start(b.clone(), NetConfig::loopback()).await.expect("b");
    let invite = Invite::parse(&na.invite(s.festival).to_link()).expect("ticket");
    let end = nb.sync_with(invite.peer.clone(), invite.festival).await.expect("sync");
    assert!(matches!(end, SessionEnd::Finished(_)), "{end:?}");
    assert_eq!(count(&b), 3000);
    assert_eq!(digest(&a, &s.festival), digest(&b, &s.festival));

    // A third node joins later, from a ticket for B.
    let nc = Net::start(c.clone(), NetConfig::loopback()).await.expect("c");
    let end = nc.sync_with(nb.addr(), s.festival).await.expect("sync");
    assert!(matches!(end, SessionEnd::Finished(_)));
    assert_eq!(digest(&c, &s.festival), digest(&a, &s.festival));

    // Partition: both sides write, then meet again.
    for (node, seed) in [(&a, 1u64), (&b, 2)] {
        let id = Identity::from_seed(21 * 1_000_003 + seed);
        let mut n = node.lock().expect("lock");
        let mut w = LogWriter::new(s.festival, n.store().next_position(&s.festival, &id.public()).expect("pos"));
        let mut rng = meadow_core::demo::Rng::new(seed);
        let ops: Vec<Op> = (0..20)
            .map(|i| {
                let l = w.next.lamport;
                w.sign(&id, l, 0, event_body(&mut rng, 5000 + i, None, i as i64 * 900)).expect("op")
            })
            .collect();
        n.ingest(ops).expect("ingest");
    }
    let end = nb.sync_with(na.addr(), s.festival).await.expect("sync");
    assert!(matches!(end, SessionEnd::Finished(_)));
    assert_eq!(digest(&a, &s.festival), digest(&b, &s.festival));
    for n in [nc, nb, na] {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_reaches_connected_peers_without_a_manual_sync() {
    let s = benchmark_festival(22, 300, 20);
    let (a, b, c) = (node(1, &s.ops), node(2, &[]), node(3, &[]));
    let na = Net::start(a.clone(), NetConfig::loopback()).await.expect("a");
    let nb = Net::start(b.clone(), NetConfig::loopback()).await.expect("b");
    let nc = Net::start(c.clone(), NetConfig::loopback()).await.expect("c");
    assert!(matches!(nb.sync_with(na.addr(), s.festival).await.expect("b"), SessionEnd::Finished(_)));
    assert!(matches!(nc.sync_with(nb.addr(), s.festival).await.expect("c"), SessionEnd::Finished(_)));

    // B and C subscribe to their change feeds, as an app's screens do.
    let (feed_b, feed_c) = (b.lock().expect("lock").subscribe(), c.lock().expect("lock").subscribe());
    // The owner (author 0 of the generated festival) posts on A.
    let owner = Identity::from_seed(22 * 1_000_003);
    {
        let mut n = a.lock().expect("lock");
        let body = meadow_core::op::Body::Announcement(Announcement {
            text: "Stage B starts 30 min late".into(),
            priority: Priority::High,
            expires: None,
        });
        append_as(&mut n, &owner, s.festival, body, 0).expect("announce");
    }
    let has = |n: &SharedNode| {
        let anns = n.lock().expect("lock").store().announcements(&s.festival, 0).expect("a");
        anns.iter().any(|a| a.text == "Stage B starts 30 min late")
    };
    let posted = Instant::now();
    eventually("the announcement reaching B", Duration::from_secs(10), || has(&b)).await;
    eventually("the announcement reaching C through B", Duration::from_secs(10), || has(&c)).await;
    assert!(posted.elapsed() < Duration::from_secs(5), "live update took {:?}", posted.elapsed());
    // Each feed told its subscriber, with the announcements scope, with nobody asking the node.
    for (name, feed) in [("B", &feed_b), ("C", &feed_c)] {
        let heard = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let changes = feed.next().await.expect("feed open");
                if changes.scopes(&s.festival).contains(Scope::Announcements) {
                    return changes;
                }
            }
        })
        .await;
        assert!(heard.is_ok(), "{name}'s subscriber was not told of the announcement");
    }
    for n in [nc, nb, na] {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peers_are_dropped_and_the_node_keeps_serving() {
    let s = benchmark_festival(23, 400, 30);
    let a = node(1, &s.ops);
    let before = digest(&a, &s.festival);
    let na = Net::start(a.clone(), NetConfig::loopback()).await.expect("a");

    // A raw QUIC client speaking garbage on the sync ALPN.
    let rogue = iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
        .secret_key(iroh::SecretKey::from_bytes(&[77; 32]))
        .clear_ip_transports()
        .bind_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind addr")
        .bind()
        .await
        .expect("rogue");
    let conn = rogue.connect(na.addr(), ALPN).await.expect("connect");
    let (mut send, mut recv) = conn.open_bi().await.expect("stream");
    send.write_all(b"\x07this is not a meadow frame at all").await.expect("write");
    let _ = send.finish();
    let reply = tokio::time::timeout(Duration::from_secs(10), recv.read_to_end(1 << 20)).await.expect("answer in time");
    // The node says why in an Error frame, or resets the stream; never anything else.
    if let Ok(bytes) = reply {
        let mut r = meadow_core::wire::Reader::new(&bytes);
        let frame = r.bytes().expect("a whole frame");
        let msg = Message::decode(frame).expect("a valid message");
        assert!(matches!(msg, Message::Error { code, .. } if code == ErrorCode::Protocol as u8), "{msg:?}");
    }
    eventually("the garbage session counting as a failure", Duration::from_secs(10), || na.stats().failures >= 1).await;
    // The node drops a peer whose session failed.
    let closed = tokio::time::timeout(Duration::from_secs(10), conn.closed()).await;
    assert!(closed.is_ok(), "the node kept a connection that sent garbage");
    // An oversized frame announced by its length alone (4 GiB), on a new connection.
    let conn = rogue.connect(na.addr(), ALPN).await.expect("connect again");
    let (mut send, _recv) = conn.open_bi().await.expect("stream");
    send.write_all(&[0xff, 0xff, 0xff, 0xff, 0x0f]).await.expect("write");
    let _ = send.finish();
    let closed = tokio::time::timeout(Duration::from_secs(10), conn.closed()).await;
    assert!(closed.is_ok(), "the node kept a connection that announced a 4 GiB frame");
    assert!(na.stats().failures >= 2, "{:?}", na.stats());
    rogue.close().await;
    assert_eq!(digest(&a, &s.festival), before, "nothing of what the rogue sent was stored");

    // An honest peer is still served.
    let b = node(2, &[]);
    let nb = Net::start(b.clone(), NetConfig::loopback()).await.expect("b");
    assert!(matches!(nb.sync_with(na.addr(), s.festival).await.expect("sync"), SessionEnd::Finished(_)));
    assert_eq!(digest(&b, &s.festival), before);
    nb.shutdown().await;
    na.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_cut_short_keeps_whole_ops_and_the_next_sends_only_the_rest() {
    let s = benchmark_festival(24, 4000, 100);
    let a = node(1, &s.ops);
    let b = node(2, &[]);
    let na = Net::start(a.clone(), NetConfig::loopback()).await.expect("a");
    // B gives up after 1,000 ops, as a link that drops mid-transfer would end the session.
    let mut short = NetConfig::loopback();
    short.sync.max_ops = 1000;
    let nb = Net::start(b.clone(), short).await.expect("b");
    let end = nb.sync_with(na.addr(), s.festival).await.expect("sync");
    assert!(matches!(end, SessionEnd::Failed(_)), "{end:?}");
    nb.shutdown().await;
    let kept = count(&b) + b.lock().expect("lock").store().pending_count().expect("pending");
    assert!(kept > 0 && kept < 4000, "kept {kept}");
    assert!(b.lock().expect("lock").check().expect("check").is_clean());

    let nb = Net::start(b.clone(), NetConfig::loopback()).await.expect("b");
    let SessionEnd::Finished(stats) = nb.sync_with(na.addr(), s.festival).await.expect("sync") else {
        panic!("second sync failed")
    };
    assert_eq!(stats.ops_received, 4000 - kept, "only the rest travels");
    assert_eq!(digest(&a, &s.festival), digest(&b, &s.festival));
    nb.shutdown().await;
    na.shutdown().await;
}

/// Bindings' nodes, as phones hold them: B joins A's festival from an invite; A's process ends
/// and starts again later (same data directory, networking started the same way) with news
/// written while it was away. B reconnects by itself and gets it, with no action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_reconnects_to_the_peer_it_joined_from_after_that_peer_restarts() {
    use meadow_ffi::MeadowNode;
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let open = |d: &tempfile::TempDir| MeadowNode::open(d.path().to_string_lossy().into_owned()).expect("open");
    let a = open(&da);
    let today = jiff::tz::Offset::UTC.to_datetime(jiff::Timestamp::now()).date().to_string();
    let festival = a.create_demo(today).await.expect("demo");
    let status = a.start_networking(0, false).await.expect("a starts");
    let invite = status.invite.expect("an invite while running");
    let b = open(&db);
    b.start_networking(0, false).await.expect("b starts");
    assert_eq!(b.join(invite, false).await.expect("join"), festival);

    // A goes away; news is posted there while it is offline; then it comes back.
    let port = a.net_status().await.expect("status").invite.expect("invite");
    drop(a);
    let a = open(&da);
    a.announce(festival.clone(), "Gates open at noon".into(), true).await.expect("announce");
    let again = a.start_networking(0, false).await.expect("a restarts");
    assert_eq!(again.invite.as_deref(), Some(port.as_str()), "the restarted peer listens where it did");

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = jiff::Timestamp::now().as_second();
        let got = b.announcements(festival.clone(), now).await.expect("read");
        if got.iter().any(|x| x.text == "Gates open at noon") {
            break;
        }
        assert!(Instant::now() < deadline, "B never reconnected to A");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Counted once the session that brought it ends.
    let mut status = b.net_status().await.expect("status");
    while status.peers == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = b.net_status().await.expect("status");
    }
    assert_eq!(status.peers, 1, "{status:?}");
}

/// Networking's status reaches the change feed: a subscriber hears of a peer without asking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_network_status_is_pushed_through_the_change_feed() {
    let s = benchmark_festival(23, 50, 10);
    let (a, b) = (node(7, &s.ops), node(8, &[]));
    let changes = b.lock().expect("lock").subscribe();
    let nb = meadow_core::net::Networking::start(b.clone(), NetConfig::loopback()).await.expect("b");
    let na = Net::start(a.clone(), NetConfig::loopback()).await.expect("a");
    // The start itself is told.
    let first = tokio::time::timeout(Duration::from_secs(5), changes.next()).await.expect("in time").expect("open");
    assert!(first.network);
    nb.join(&na.invite(s.festival)).await.expect("join");
    let mut told = false;
    eventually("a network change telling of the peer", Duration::from_secs(10), || {
        told |= changes.try_next().is_some_and(|c| c.network);
        told && nb.stats().peers == 1
    })
    .await;
    nb.stop().await;
    na.shutdown().await;
}
