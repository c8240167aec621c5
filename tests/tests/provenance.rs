//! Provenance: how each op reached a device is recorded in the transaction that stores it, for
//! every way in (written here, an import, an archive, Bluetooth, iroh), shown with who signed it
//! and when their clock says they wrote it, and read back the same after a restart.

use std::path::Path;

use jiff::civil::Date;
use meadow_core::identity::Identity;
use meadow_core::net::{Net, NetConfig};
use meadow_core::node::{ImportOptions, NewFestival, Node, SessionEnd};
use meadow_core::op::{Body, EventPatch, FestivalId, OpId};
use meadow_core::view::{OpOrigin, Via};
use meadow_tests::radio::{Radio, swap};
use meadow_tests::support::{append_as, shared};

fn event(title: &str, start: i64) -> EventPatch {
    EventPatch { title: Some(title.into()), start: Some(start), end: Some(start + 3600), ..Default::default() }
}

/// A node on disk holding one festival with one event, written there.
fn organiser(dir: &Path) -> (Node, FestivalId, OpId) {
    let mut n = Node::open(dir).expect("node");
    let f = n
        .create_festival(NewFestival::new(
            "Provenance Fest".into(),
            "Europe/Berlin".into(),
            Date::constant(2026, 7, 10),
            Date::constant(2026, 7, 12),
        ))
        .expect("festival");
    let e = n.add_event(f, event("Opening", 1_783_684_800)).expect("event");
    (n, f, e)
}

fn origin(n: &Node, f: &FestivalId, op: &OpId) -> OpOrigin {
    n.op_origin(f, op).expect("read").expect("stored")
}

#[test]
fn what_was_written_here_imported_or_opened_from_an_archive_says_so() {
    let da = tempfile::tempdir().expect("dir");
    let (mut a, f, e) = organiser(da.path());
    let o = origin(&a, &f, &e);
    assert_eq!((o.via, o.peer.as_deref(), o.author), (Some(Via::Here), None, a.public_key()));
    assert!(o.official && o.verified_here && !o.clock_ahead && o.received_at.is_some(), "{o:?}");
    let detail = a.event_detail(&f, &e).expect("read").expect("held");
    let p = detail.provenance.expect("provenance");
    assert_eq!(p.created.op, e);
    assert_eq!(p.last_change, None, "nobody changed it since");

    // A published schedule imported here.
    let schedule = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wiese-v1.xml")).expect("fixture");
    let new = ImportOptions { new: true, ..Default::default() };
    let imported = match a.import(&schedule, &new, &mut |_, _| {}).expect("import") {
        meadow_core::node::Imported::Schedule { festival, .. } => festival,
        other => panic!("{other:?}"),
    };
    let first = a.programme(&imported, &Default::default()).expect("programme")[0].id;
    assert_eq!(origin(&a, &imported, &first).via, Some(Via::Import));

    // The festival's archive, opened on another device.
    let archive = a.export_archive(&f).expect("archive");
    let dc = tempfile::tempdir().expect("dir");
    let mut c = Node::open(dc.path()).expect("node");
    c.import(&archive, &ImportOptions::default(), &mut |_, _| {}).expect("open archive");
    let o = origin(&c, &f, &e);
    assert_eq!((o.via, o.author), (Some(Via::Archive), a.public_key()));
    assert!(o.official, "the owner signed it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_synced_over_bluetooth_and_iroh_name_their_way_and_peer_after_a_restart() {
    let (da, db, dc) =
        (tempfile::tempdir().expect("a"), tempfile::tempdir().expect("b"), tempfile::tempdir().expect("c"));
    let (mut a, f, e) = organiser(da.path());
    // An organiser's change, written on their own phone, reaches A over Bluetooth.
    let helper = Identity::from_seed(77);
    a.add_organiser(f, helper.public()).expect("organiser");
    let mut h = Node::in_memory(Identity::from_seed(77)).expect("helper node");
    h.ingest(a.store().ops(&f).expect("ops")).expect("copy");
    h.set_display_name(f, "Hanna").expect("name");
    h.edit_event(f, e, EventPatch { title: Some("Opening night".into()), ..Default::default() }).expect("edit");
    let s = swap(&mut a, &mut h, &f, &Radio::gatt(185, 20_000), 600_000, &mut |_, _| {});
    assert!(matches!(s.dialler, Some(SessionEnd::Finished(_))), "{s:?}");
    let p = a.event_detail(&f, &e).expect("read").expect("held").provenance.expect("provenance");
    assert_eq!(p.created.via, Some(Via::Here));
    let change = p.last_change.expect("the helper changed it");
    assert_eq!((change.author, change.author_name.as_str()), (helper.public(), "Hanna"));
    assert_eq!(change.via, Some(Via::Bluetooth), "{change:?}");
    assert!(change.official, "an organiser's change");

    // B picks the festival up over Bluetooth from A.
    let mut b = Node::open(db.path()).expect("b");
    let s = swap(&mut b, &mut a, &f, &Radio::gatt(185, 20_000), 600_000, &mut |_, _| {});
    assert!(matches!(s.dialler, Some(SessionEnd::Finished(_))), "{s:?}");
    assert_eq!(origin(&b, &f, &e).via, Some(Via::Bluetooth));

    // C syncs from A over iroh (loopback): the peer is A's endpoint.
    let (a, c) = (shared(a), shared(Node::open(dc.path()).expect("c")));
    let na = Net::start(a.clone(), NetConfig::loopback()).await.expect("net a");
    let nc = Net::start(c.clone(), NetConfig::loopback()).await.expect("net c");
    let end = nc.sync_with(na.addr(), f).await.expect("sync");
    assert!(matches!(end, SessionEnd::Finished(_)), "{end:?}");
    let peer = na.addr().id.to_string();
    let o = origin(&c.lock().expect("c"), &f, &e);
    assert_eq!((o.via, o.peer.as_deref()), (Some(Via::Iroh), Some(peer.as_str())));
    nc.shutdown().await;
    na.shutdown().await;
    let before_c = origin(&c.lock().expect("c"), &f, &e);
    let before_b = origin(&b, &f, &e);
    drop((b, c, a));

    // After a restart both still say how the event reached them, and when.
    let b = Node::open(db.path()).expect("b again");
    let c = Node::open(dc.path()).expect("c again");
    assert_eq!(origin(&b, &f, &e), before_b);
    assert_eq!(origin(&c, &f, &e), before_c);
    assert!(before_b.received_at.is_some() && before_c.received_at.is_some());
}

#[test]
fn a_clock_that_claims_the_future_is_flagged() {
    let da = tempfile::tempdir().expect("dir");
    let (mut a, f, _) = organiser(da.path());
    let stranger = Identity::from_seed(78);
    let two_hours_ahead = a.now_ms() + 2 * 3600 * 1000;
    let op = append_as(
        &mut a,
        &stranger,
        f,
        Body::Event { target: None, patch: event("Jam", 1_783_690_000) },
        two_hours_ahead,
    )
    .expect("community event");
    let o = origin(&a, &f, &op.id());
    assert!(o.clock_ahead && !o.official, "{o:?}");
    assert_eq!(o.written_at, (two_hours_ahead / 1000) as i64);
    // `Node::ingest` names no way in: the op is shown as held from before arrivals were kept.
    assert_eq!((o.via, o.received_at), (None, None));
}
