//! The FFI surface as the apps see it, from Rust: error variants, change subscriptions (from local
//! actions, a native link and iroh), and a sync between two nodes through a link with a tiny MTU
//! (the path Bluetooth code takes). The async calls are driven by a plain executor, as Kotlin's
//! and Swift's are: the node must not need the caller to run tokio.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meadow_core::crew::ops::Heading;
use meadow_core::feed::Scope;
use meadow_core::op::Priority;
use meadow_core::view::Via;
use meadow_ffi::{ChangeListener, Link, ListenerError, MeadowError, MeadowNode, NewEvent, StoreChange};

fn node(dir: &tempfile::TempDir) -> Arc<MeadowNode> {
    MeadowNode::open(dir.path().to_string_lossy().into_owned()).expect("open")
}

/// Runs an async call to completion on a runtime that is not the node's.
fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(name))
        .expect("fixture")
}

/// A listener that forwards what it hears.
struct Forward(Mutex<Sender<StoreChange>>);
impl ChangeListener for Forward {
    fn on_change(&self, c: StoreChange) -> Result<(), ListenerError> {
        let _ = self.0.lock().map(|s| s.send(c));
        Ok(())
    }
}

fn listener() -> (Arc<Forward>, Receiver<StoreChange>) {
    let (tx, rx) = channel();
    (Arc::new(Forward(Mutex::new(tx))), rx)
}

/// Waits for a change of `festival` in `scope`, failing after a bound.
fn heard(rx: &Receiver<StoreChange>, festival: &str, scope: Scope) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(c) if c.festival.as_deref() == Some(festival) && c.scopes.contains(&scope) => return,
            Ok(_) => continue,
            Err(e) => panic!("no {scope:?} change of {festival} heard: {e}"),
        }
    }
}

struct Throwing;
impl ChangeListener for Throwing {
    fn on_change(&self, _: StoreChange) -> Result<(), ListenerError> {
        Err(ListenerError::Failed { reason: "listener bug".into() })
    }
}

#[test]
fn errors_map_to_the_right_variants_and_a_throwing_listener_cannot_silence_the_others() {
    let panics = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = panics.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        previous(info);
    }));
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let a = node(&da);
    let _throwing = a.subscribe(Arc::new(Throwing));
    let (fwd, rx) = listener();
    let sub = a.subscribe(fwd);
    run(async {
        assert!(matches!(
            a.create_festival("F".into(), "Mars/Olympus".into(), "2026-07-10".into(), "2026-07-11".into()).await,
            Err(MeadowError::InvalidField { field, .. }) if field == "timezone"
        ));
        assert!(matches!(
            a.create_festival("F".into(), "UTC".into(), "tomorrow".into(), "2026-07-11".into()).await,
            Err(MeadowError::InvalidField { field, .. }) if field == "start_date"
        ));
        let f = a
            .create_festival("Wiese".into(), "Europe/Berlin".into(), "2026-07-10".into(), "2026-07-11".into())
            .await
            .expect("create");
        heard(&rx, &f, Scope::Festival);
        assert_eq!(a.current_festival().await.expect("current"), Some(f.clone()));
        let v = a.add_venue(f.clone(), "Main".into()).await.expect("venue");
        let ev = |title: &str| NewEvent {
            title: title.into(),
            start: 1_783_684_800,
            end: 1_783_688_400,
            venue_id: Some(v.clone()),
            track: "Music".into(),
            description: String::new(),
        };
        assert!(matches!(
            a.add_event(f.clone(), ev(" ")).await,
            Err(MeadowError::InvalidField { field, .. }) if field == "title"
        ));
        // Bad input from the app's forms and filters is refused with the field it came from.
        let form = |day: &str, start: &str, end: &str| meadow_ffi::EventForm {
            title: "Noon".into(),
            day: day.into(),
            start: start.into(),
            end: end.into(),
            venue_id: Some(v.clone()),
            track: String::new(),
            description: String::new(),
        };
        for (start, end, field) in [("25:00", "15:00", "start"), ("14:00", "noon", "end"), ("", "15:00", "start")] {
            let r = a.save_event(f.clone(), None, form("2026-07-10", start, end), None).await;
            assert!(
                matches!(&r, Err(MeadowError::InvalidField { field: got, .. }) if got == field),
                "{start:?}: {r:?}"
            );
        }
        let r = a.save_event(f.clone(), None, form("10 July", "14:00", "15:00"), None).await;
        assert!(matches!(&r, Err(MeadowError::InvalidField { field, .. }) if field == "day"), "{r:?}");
        let noon = a.save_event(f.clone(), None, form("2026-07-10", "14:00", "15:00"), None).await.expect("saved");
        assert_eq!(a.event_detail(f.clone(), noon.clone()).await.expect("detail").event.start, 1_783_684_800);
        a.delete_event(f.clone(), noon).await.expect("delete");
        let bad = meadow_ffi::ProgrammeQuery { venue_id: Some("not hex".into()), ..Default::default() };
        assert!(matches!(a.day_view(f.clone(), bad, 0, 10).await, Err(MeadowError::Invalid { .. })));
        let bad = meadow_ffi::ProgrammeQuery { day: Some("2026-13-40".into()), ..Default::default() };
        assert!(matches!(a.day_view(f.clone(), bad, 0, 10).await, Err(MeadowError::Invalid { .. })));
        assert!(matches!(a.agenda("zz".into(), Some(15)).await, Err(MeadowError::Invalid { .. })));
        let e = a.add_event(f.clone(), ev("Opening")).await.expect("event");
        heard(&rx, &f, Scope::Programme);
        assert!(matches!(a.set_favourite(f.clone(), "00".repeat(32), true).await, Err(MeadowError::NotFound { .. })));
        assert!(matches!(a.use_festival("zz".into()).await, Err(MeadowError::Invalid { .. })));
        a.set_favourite(f.clone(), e.clone(), true).await.expect("fav");
        heard(&rx, &f, Scope::Favourites);
        let d = a.event_detail(f.clone(), e.clone()).await.expect("detail");
        assert_eq!((d.event.title.as_str(), d.event.venue_name.as_str()), ("Opening", "Main"));
        assert!(matches!(a.event_detail(f.clone(), "11".repeat(32)).await, Err(MeadowError::NotFound { .. })));
        assert_eq!(a.favourites(f.clone()).await.expect("favs").len(), 1);
        assert_eq!(a.search(f.clone(), "open".into(), None).await.expect("search")[0].id.to_hex(), e);
        assert_eq!(a.programme(f.clone(), Some("2026-07-10".into())).await.expect("day").len(), 1);
        assert!(a.export_ics(f.clone(), true).await.expect("ics").contains("SUMMARY:Opening"));
        a.announce(f.clone(), "Storm: leave the field".into(), true).await.expect("announce");
        heard(&rx, &f, Scope::Announcements);
        let anns = a.announcements(f.clone(), 0).await.expect("announcements");
        assert_eq!(anns[0].priority, Priority::Emergency, "urgent means emergency");
        let origin = a.op_origin(f.clone(), anns[0].id.to_hex()).await.expect("origin");
        assert_eq!((origin.author.to_hex(), origin.via), (a.public_key(), Some(Via::Here)));
        assert!(matches!(a.op_origin(f.clone(), "11".repeat(32)).await, Err(MeadowError::NotFound { .. })));

        // A community member cannot announce; an importer owns what it imported.
        let b = node(&db);
        let g = b.import(fixture("wiese-v1.xml")).await.expect("import");
        assert_eq!(b.programme(g.clone(), None).await.expect("programme").len(), 8);
        let page = b.programme_page(g.clone(), None, 3, 2).await.expect("page");
        assert_eq!((page.offset, page.total, page.events.len()), (3, 8, 2));
        assert_eq!(page.events, b.programme(g.clone(), None).await.expect("all")[3..5]);
        assert_eq!(b.festivals().await.expect("festivals")[0].name, "Wiese & Wald 2026");
        b.announce(g, "owner speaking".into(), false).await.expect("owner may announce");
        assert!(matches!(
            a.announce("00".repeat(32), "x".into(), true).await,
            Err(MeadowError::NotFound { .. } | MeadowError::NotPermitted { .. })
        ));
        // Closing the handle ends the subscription.
        sub.cancel();
        assert!(!sub.is_active());
        a.set_favourite(f.clone(), e.clone(), false).await.expect("unfav");
    });
    while rx.try_recv().is_ok() {}
    std::thread::sleep(Duration::from_millis(50));
    assert!(rx.try_recv().is_err(), "a cancelled subscription still heard a change");
    assert_eq!(panics.load(std::sync::atomic::Ordering::SeqCst), 0, "a failing listener made something panic");
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
fn two_nodes_sync_through_a_small_mtu_link_and_the_receiver_hears_of_it() {
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (a, b) = (node(&da), node(&db));
    let (fwd, rx) = listener();
    let _sub = b.subscribe(fwd);
    run(async {
        let f = a.import(fixture("wiese-v2.xml")).await.expect("import");
        let radio = |mtu| Arc::new(Radio { mtu, out: Mutex::new(Vec::new()), closed: Mutex::new(false) });
        let (ra, rb) = (radio(20), radio(20));
        // B, which lacks the festival, dials; A answers.
        let sb = b.clone().initiate_link(rb.clone(), f.clone(), Via::WifiDirect, 0).await.expect("initiate");
        let sa = a.clone().respond_link(ra.clone(), Via::WifiDirect, 0);
        let (mut done_a, mut done_b) = (None, None);
        for round in 0..100_000u64 {
            let to_b: Vec<_> = ra.out.lock().expect("a").drain(..).collect();
            let to_a: Vec<_> = rb.out.lock().expect("b").drain(..).collect();
            if to_a.is_empty() && to_b.is_empty() {
                break;
            }
            for p in to_b {
                if let Some(s) = sb.received(p, round).await.expect("b step") {
                    done_b = Some(s);
                }
            }
            for p in to_a {
                if let Some(s) = sa.received(p, round).await.expect("a step") {
                    done_a = Some(s);
                }
            }
        }
        let (done_a, done_b) = (done_a.expect("a ended"), done_b.expect("b ended"));
        assert!(done_a.finished && done_b.finished, "{done_a:?} {done_b:?}");
        assert_eq!(done_b.festival.as_deref(), Some(f.as_str()));
        assert!(done_b.ops_received > 0 && done_b.ops_received == done_a.ops_sent);
        assert!(*ra.closed.lock().expect("closed") && *rb.closed.lock().expect("closed"));
        assert_eq!(b.programme(f.clone(), None).await.expect("b"), a.programme(f.clone(), None).await.expect("a"));
        heard(&rx, &f, Scope::Programme);
        // Each side's events say how they got there: imported on A, over the link on B.
        let e = a.programme(f.clone(), None).await.expect("a")[0].id.to_hex();
        let origin = |d: meadow_core::view::EventDetail| d.provenance.expect("provenance").created.via;
        assert_eq!(origin(a.event_detail(f.clone(), e.clone()).await.expect("a")), Some(Via::Import));
        assert_eq!(origin(b.event_detail(f.clone(), e).await.expect("b")), Some(Via::WifiDirect));
    });
}

#[test]
fn join_from_an_invite_over_loopback_and_hear_live_updates() {
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (a, b) = (node(&da), node(&db));
    let (fwd, rx) = listener();
    let _sub = b.subscribe(fwd);
    run(async {
        let f = a.import(fixture("wiese-v1.xml")).await.expect("import");
        let status = a.start_networking(0, false).await.expect("start");
        assert!(status.running);
        let invite = status.invite.expect("invite for the current festival");
        assert!(matches!(b.join("nonsense".into(), false).await, Err(MeadowError::Invalid { .. })));
        assert_eq!(b.join(invite, false).await.expect("join"), f);
        assert_eq!(b.current_festival().await.expect("current"), Some(f.clone()));
        assert_eq!(b.programme(f.clone(), None).await.expect("b"), a.programme(f.clone(), None).await.expect("a"));
        assert!(b.net_status().await.expect("status").peers >= 1);
        // A change on A reaches B over the open connection, and B's listener hears of it with
        // no call on B.
        while rx.try_recv().is_ok() {}
        a.announce(f.clone(), "Gates open".into(), false).await.expect("announce");
        heard(&rx, &f, Scope::Announcements);
        assert!(b.announcements(f.clone(), 0).await.expect("anns").iter().any(|x| x.text == "Gates open"));
        b.stop_networking().await.expect("stop");
        a.stop_networking().await.expect("stop");
        assert!(!a.net_status().await.expect("status").running);
    });
}

/// What the phone's day screen reads comes worked out by the core: grid lanes for overlapping
/// events, where the "now" line goes, reminders at the device's lead, each emergency once.
#[test]
fn the_day_screen_and_the_notifications_get_their_rules_from_the_core() {
    let dir = tempfile::tempdir().expect("dir");
    let a = node(&dir);
    run(async {
        let f = a.import(fixture("wiese-v1.xml")).await.expect("import");
        let query = meadow_ffi::ProgrammeQuery { day: Some("2026-07-10".into()), ..Default::default() };
        let view = a.day_view(f.clone(), query, 0, 500).await.expect("day");
        assert!(!view.rows.is_empty());
        for r in &view.rows {
            assert!(r.lane < r.lanes, "{r:?}");
            // Rows of one venue that overlap never share a lane.
            for o in view.rows.iter().filter(|o| o.id != r.id && o.venue == r.venue) {
                let overlap = r.start < o.end.max(o.start + 900) && o.start < r.end.max(r.start + 900);
                assert!(!overlap || r.lane != o.lane, "{r:?} and {o:?} overlap in one lane");
            }
        }
        let first = view.rows[0].start;
        assert_eq!(meadow_ffi::now_line(&view, first - 1), None, "before the day");
        assert_eq!(
            meadow_ffi::now_line(&view, first),
            Some(view.rows.iter().filter(|r| r.start <= first).count() as u32)
        );

        assert_eq!(a.reminder_lead().await.expect("lead"), 15);
        let e = &view.rows[0];
        a.set_favourite(f.clone(), e.id.to_hex(), true).await.expect("fav");
        let agenda = a.agenda(f.clone(), None).await.expect("agenda");
        assert_eq!(agenda[0].remind_at, Some(e.start - 15 * 60));
        assert!(a.reminders_due(f.clone(), e.start - 20 * 60).await.expect("due").is_empty());
        assert_eq!(a.reminders_due(f.clone(), e.start - 10 * 60).await.expect("due").len(), 1);

        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
        a.announce(f.clone(), "Storm: leave the field".into(), true).await.expect("announce");
        assert_eq!(a.emergencies_to_notify(f.clone(), now).await.expect("told").len(), 1);
        assert!(a.emergencies_to_notify(f.clone(), now).await.expect("again").is_empty());
    });
}

/// Syncs `festival` between two nodes over an in-memory link, `dialler` dialling.
async fn swap(dialler: &Arc<MeadowNode>, answerer: &Arc<MeadowNode>, festival: &str) {
    let radio = || Arc::new(Radio { mtu: 185, out: Mutex::new(Vec::new()), closed: Mutex::new(false) });
    let (ra, rd) = (radio(), radio());
    let sd = dialler.clone().initiate_link(rd.clone(), festival.into(), Via::Bluetooth, 0).await.expect("initiate");
    let sa = answerer.clone().respond_link(ra.clone(), Via::Bluetooth, 0);
    for round in 0..100_000u64 {
        let to_d: Vec<_> = ra.out.lock().expect("a").drain(..).collect();
        let to_a: Vec<_> = rd.out.lock().expect("d").drain(..).collect();
        if to_a.is_empty() && to_d.is_empty() {
            break;
        }
        for p in to_d {
            sd.received(p, round).await.expect("dialler step");
        }
        for p in to_a {
            sa.received(p, round).await.expect("answerer step");
        }
    }
}

#[test]
fn a_crew_is_created_joined_and_shared_through_the_bindings() {
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (a, b) = (node(&da), node(&db));
    run(async {
        let f = a.create_demo("2026-07-10".into()).await.expect("demo");
        swap(&b, &a, &f).await;
        let crew = a.create_crew(f.clone(), "Camp Kettle".into()).await.expect("create");
        assert!(matches!(a.create_crew(f.clone(), " ".into()).await, Err(MeadowError::InvalidField { .. })));
        let link = a.crew_invite(f.clone(), crew.clone()).await.expect("invite");
        assert!(matches!(b.crew_invite(f.clone(), crew.clone()).await, Err(MeadowError::NotFound { .. })));
        b.join_crew(link).await.expect("join");
        assert!(matches!(b.join_crew("meadow://crew/nope".into()).await, Err(MeadowError::Invalid { .. })));
        // The request reaches the admin, the new epoch comes back, the friend shares again.
        for _ in 0..3 {
            swap(&b, &a, &f).await;
        }
        let event = a.programme(f.clone(), None).await.expect("programme")[0].id.to_hex();
        b.set_favourite(f.clone(), event.clone(), true).await.expect("fav");
        b.share_with_crews(f.clone(), Some("at the gate".into()), true, Heading::HereNow, Some(event.clone()))
            .await
            .expect("share");
        swap(&b, &a, &f).await;
        let crews = a.crews(f.clone()).await.expect("crews");
        assert_eq!(crews.len(), 1, "{crews:?}");
        let friend = crews[0].members.iter().find(|m| !m.is_me).expect("the friend");
        assert_eq!(friend.favourites.iter().map(|e| e.to_hex()).collect::<Vec<_>>(), vec![event.clone()]);
        assert_eq!((friend.note.as_str(), friend.heading), ("at the gate", Some(Heading::HereNow)));
        assert_eq!(friend.heading_event.map(|e| e.to_hex()), Some(event.clone()));
        assert!(a.crew_clashes(f.clone(), crews[0].clone()).await.expect("clashes").is_empty());
        // The programme and the event say one of the crew goes there.
        let row = a.programme(f.clone(), None).await.expect("programme").into_iter().find(|e| e.id.to_hex() == event);
        assert_eq!(row.expect("the row").crew, 1);
        let detail = a.event_detail(f.clone(), event.clone()).await.expect("detail");
        assert_eq!(detail.crew_going.len(), 1);
        // One's own devices: a crew of their own; a hidden event leaves the programme and comes back.
        let devices = b.create_devices_crew(f.clone(), "My devices".into()).await.expect("devices");
        assert!(b.crews(f.clone()).await.expect("crews").iter().any(|c| c.devices && c.id == devices));
        b.set_hidden_here(f.clone(), event.clone(), true).await.expect("hide");
        assert_eq!(b.hidden_here(f.clone()).await.expect("hidden").len(), 1);
        assert!(!b.programme(f.clone(), None).await.expect("programme").iter().any(|e| e.id.to_hex() == event));
        assert!(b.event_detail(f.clone(), event.clone()).await.expect("detail").hidden_here);
        b.set_hidden_here(f.clone(), event.clone(), false).await.expect("show");
        assert!(b.hidden_here(f.clone()).await.expect("hidden").is_empty());
        assert!(matches!(b.set_hidden_here(f.clone(), "zz".into(), true).await, Err(MeadowError::Invalid { .. })));
    });
}
