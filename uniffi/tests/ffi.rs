//! The FFI surface as the apps see it, from Rust: error variants, listeners, and a sync between
//! two nodes through a link with a tiny MTU (the path Bluetooth code takes).

use std::sync::{Arc, Mutex};

use meadow_ffi::{ChangeListener, Link, LinkSession, ListenerError, MeadowError, MeadowNode, NewEvent, StoreChange};

fn node(dir: &tempfile::TempDir) -> Arc<MeadowNode> {
    MeadowNode::open(dir.path().to_string_lossy().into_owned()).expect("open")
}

struct Counting(Mutex<u32>);
impl ChangeListener for Counting {
    fn on_change(&self, _: StoreChange) -> Result<(), ListenerError> {
        if let Ok(mut n) = self.0.lock() {
            *n += 1;
        }
        Ok(())
    }
}

struct Throwing;
impl ChangeListener for Throwing {
    fn on_change(&self, _: StoreChange) -> Result<(), ListenerError> {
        Err(ListenerError::Failed { reason: "listener bug".into() })
    }
}

#[test]
fn errors_map_to_the_right_variants_and_listeners_cannot_break_the_node() {
    // A failing listener is an error the node logs, not a panic (which would print a backtrace
    // into the app's log and, across FFI, is only caught by luck).
    let panics = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = panics.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        previous(info);
    }));
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let a = node(&da);
    let counting = Arc::new(Counting(Mutex::new(0)));
    a.add_listener(Arc::new(Throwing));
    a.add_listener(counting.clone());
    assert!(matches!(
        a.create_festival("F".into(), "Mars/Olympus".into(), "2026-07-10".into(), "2026-07-11".into()),
        Err(MeadowError::Invalid { .. })
    ));
    assert!(matches!(
        a.create_festival("F".into(), "UTC".into(), "tomorrow".into(), "2026-07-11".into()),
        Err(MeadowError::Invalid { .. })
    ));
    let f = a
        .create_festival("Wiese".into(), "Europe/Berlin".into(), "2026-07-10".into(), "2026-07-11".into())
        .expect("create");
    assert_eq!(a.current_festival().expect("current"), Some(f.clone()));
    let v = a.add_venue(f.clone(), "Main".into()).expect("venue");
    let ev = |title: &str| NewEvent {
        title: title.into(),
        start: 1_783_684_800,
        end: 1_783_688_400,
        venue_id: Some(v.clone()),
        track: "Music".into(),
        description: String::new(),
    };
    assert!(matches!(a.add_event(f.clone(), ev(" ")), Err(MeadowError::Invalid { .. })));
    let e = a.add_event(f.clone(), ev("Opening")).expect("event");
    assert!(*counting.0.lock().expect("count") >= 3, "listeners heard the changes despite a throwing one");
    assert_eq!(panics.load(std::sync::atomic::Ordering::SeqCst), 0, "a failing listener made something panic");
    assert!(matches!(a.set_favourite(f.clone(), "00".repeat(32), true), Err(MeadowError::NotFound { .. })));
    assert!(matches!(a.use_festival("zz".into()), Err(MeadowError::Invalid { .. })));
    a.set_favourite(f.clone(), e.clone(), true).expect("fav");
    let d = a.event_detail(f.clone(), e.clone()).expect("detail");
    assert_eq!((d.event.title.as_str(), d.event.venue.as_str()), ("Opening", "Main"));
    assert!(matches!(a.event_detail(f.clone(), "11".repeat(32)), Err(MeadowError::NotFound { .. })));
    assert_eq!(a.favourites(f.clone()).expect("favs").len(), 1);
    assert_eq!(a.search(f.clone(), "open".into()).expect("search")[0].id, e);
    assert_eq!(a.programme(f.clone(), Some("2026-07-10".into())).expect("day").len(), 1);
    assert!(a.export_ics(f.clone(), true).expect("ics").contains("SUMMARY:Opening"));

    // A community member cannot announce.
    let b = node(&db);
    let bytes = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/wiese-v1.xml"))
        .expect("fixture");
    let g = b.import(bytes).expect("import");
    assert_eq!(b.programme(g.clone(), None).expect("programme").len(), 8);
    let bf = b.festivals().expect("festivals");
    assert_eq!(bf[0].name, "Wiese & Wald 2026");
    b.announce(g, "owner speaking".into(), false).expect("owner may announce");
    assert!(matches!(
        a.announce("00".repeat(32), "x".into(), true),
        Err(MeadowError::NotFound { .. } | MeadowError::NotPermitted { .. })
    ));
}

/// A radio with a 20-byte MTU: packets queue until the test moves them.
struct Radio {
    mtu: u32,
    out: Mutex<Vec<Vec<u8>>>,
    closed: Mutex<bool>,
}

impl Link for Radio {
    fn send(&self, packet: Vec<u8>) {
        assert!(packet.len() <= self.mtu as usize, "packet over the MTU");
        if let Ok(mut o) = self.out.lock() {
            o.push(packet);
        }
    }
    fn disconnect(&self) {
        if let Ok(mut c) = self.closed.lock() {
            *c = true;
        }
    }
    fn mtu(&self) -> u32 {
        self.mtu
    }
}

#[test]
fn two_nodes_sync_through_a_small_mtu_link() {
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (a, b) = (node(&da), node(&db));
    let bytes = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/wiese-v2.xml"))
        .expect("fixture");
    let f = a.import(bytes).expect("import");
    let radio = |mtu| Arc::new(Radio { mtu, out: Mutex::new(Vec::new()), closed: Mutex::new(false) });
    let (ra, rb) = (radio(20), radio(20));
    // B, which lacks the festival, dials; A answers.
    let sb = LinkSession::initiate(b.clone(), rb.clone(), f.clone(), 0).expect("initiate");
    let sa = LinkSession::respond(a.clone(), ra.clone(), 0);
    let (mut done_a, mut done_b) = (None, None);
    for round in 0..100_000u64 {
        let to_b: Vec<_> = ra.out.lock().expect("a").drain(..).collect();
        let to_a: Vec<_> = rb.out.lock().expect("b").drain(..).collect();
        if to_a.is_empty() && to_b.is_empty() {
            break;
        }
        for p in to_b {
            if let Some(s) = sb.received(p, round).expect("b step") {
                done_b = Some(s);
            }
        }
        for p in to_a {
            if let Some(s) = sa.received(p, round).expect("a step") {
                done_a = Some(s);
            }
        }
    }
    assert!(done_a.as_deref().is_some_and(|s| s.starts_with("finished")), "{done_a:?}");
    assert!(done_b.as_deref().is_some_and(|s| s.starts_with("finished")), "{done_b:?}");
    assert!(*ra.closed.lock().expect("closed") && *rb.closed.lock().expect("closed"));
    assert_eq!(b.programme(f.clone(), None).expect("b"), a.programme(f, None).expect("a"));
}

#[test]
fn join_from_an_invite_over_loopback_and_get_live_updates() {
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (a, b) = (node(&da), node(&db));
    let bytes = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/wiese-v1.xml"))
        .expect("fixture");
    let f = a.import(bytes).expect("import");
    let status = a.start_networking(0, false).expect("start");
    assert!(status.running);
    let invite = status.invite.expect("invite for the current festival");
    assert!(matches!(b.join("nonsense".into(), false), Err(MeadowError::Invalid { .. })));
    assert_eq!(b.join(invite, false).expect("join"), f);
    assert_eq!(b.programme(f.clone(), None).expect("b"), a.programme(f.clone(), None).expect("a"));
    assert!(b.net_status().expect("status").peers >= 1);
    // A change on A reaches B over the open connection.
    a.announce(f.clone(), "Gates open".into(), false).expect("announce");
    let start = std::time::Instant::now();
    while b.announcements(f.clone(), 0).expect("anns").iter().all(|x| x.text != "Gates open") {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "live update did not arrive");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    b.stop_networking();
    a.stop_networking();
    assert!(!a.net_status().expect("status").running);
}
