//! Programme exchange end to end: schedules in, iCalendar and archives out, forks.

use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use meadow_core::exchange::Format;
use meadow_core::node::{IcsSelection, ImportOptions, Imported, Node};
use meadow_core::op::FestivalId;
use meadow_core::view::{ChangeKind, EventDetail};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn node(dir: &Path) -> Node {
    Node::open(dir).expect("node")
}

fn import(node: &mut Node, bytes: &[u8]) -> Imported {
    node.import(bytes, &ImportOptions::default(), &mut |_, _| {}).expect("import")
}

fn details(node: &Node, f: &FestivalId) -> Vec<EventDetail> {
    node.store().event_details(f, true).expect("details")
}

fn find<'a>(all: &'a [EventDetail], title: &str) -> &'a EventDetail {
    all.iter().find(|d| d.event.title.starts_with(title)).unwrap_or_else(|| panic!("no event {title:?}"))
}

fn at(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().expect("timestamp").as_second()
}

#[test]
fn frab_xml_imports_event_by_event() {
    let dir = tempfile::tempdir().expect("dir");
    let mut n = node(dir.path());
    let Imported::Schedule { festival: f, created, summary, .. } = import(&mut n, &fixture("wiese-v1.xml")) else {
        panic!("not a schedule")
    };
    assert!(created);
    assert_eq!((summary.added, summary.venues_added, summary.skipped.len()), (8, 3, 0));
    let fest = n.festival(&f).expect("festival");
    assert_eq!(fest.name, "Wiese & Wald 2026");
    assert_eq!(fest.timezone, "Europe/Berlin");
    assert_eq!((fest.start_date.to_string(), fest.end_date.to_string()), ("2026-07-10".into(), "2026-07-12".into()));
    assert_eq!(fest.day_change_minutes, 240);
    let all = details(&n, &f);
    assert_eq!(all.len(), 8);

    let e = find(&all, "Eröffnung");
    assert_eq!(e.event.title, "Eröffnung & Begrüßung");
    assert_eq!((e.event.start, e.event.end), (at("2026-07-10T18:00:00+02:00"), at("2026-07-10T19:30:00+02:00")));
    assert_eq!(e.event.venue_name, "Große Bühne");
    assert_eq!((e.event.track.as_str(), e.event.kind.as_str(), e.language.as_str()), ("Music", "concert", "de"));
    assert_eq!(e.event.people, vec!["Zoë Müller", "Ana García"]);
    assert_eq!(e.description, "Das Festival beginnt\u{a0}– mit Blasmusik.\n\nMit “Blechkraft” aus Köln");
    // The event page is the event's url, not one more link.
    assert_eq!(e.url, "https://wiese.example/talk/101");
    assert_eq!(e.source_number, Some(101));
    assert_eq!(e.links.iter().map(|l| l.url.as_str()).collect::<Vec<_>>(), vec!["https://blechkraft.example/"]);
    assert!(e.event.official && !e.event.cancelled);
    assert_eq!(e.source_id, "wiese26#5b1e7a10-0000-4000-8000-000000000101");

    // After midnight, still Friday's programme.
    let night = find(&all, "Nachtkonzert");
    assert_eq!(night.event.title, "Nachtkonzert: 東京 Night Drive");
    assert_eq!(night.event.start, at("2026-07-11T00:30:00+02:00"));
    assert_eq!(night.event.day, "2026-07-10");
    assert_eq!(night.event.subtitle, "after midnight, still Friday");

    let bees = find(&all, "Bees");
    assert_eq!(
        bees.description, "Why cities are good for bees. And how to start.",
        "abstract contained in description"
    );
    assert_eq!((bees.links.len(), bees.url.is_empty()), (2, false), "the page apart from the links");
    let mesh = find(&all, "Mesh radio");
    assert!(mesh.event.people.is_empty() && mesh.description.is_empty() && mesh.event.subtitle.is_empty());
    let art = find(&all, "Light installation");
    assert_eq!(art.event.end - art.event.start, 26 * 3600, "durations over 24 hours");
    assert_eq!(art.event.title, "Light installation \"Glühwürmchen\"");
    let folk = find(&all, "Folk");
    assert_eq!(folk.event.end - folk.event.start, 75 * 60, "single-digit hours");
    assert_eq!(folk.event.people, vec!["Liis Tamm", "Jānis Bērziņš"]);
    assert_eq!(find(&all, "Closing").event.title, "Closing & lost property");
}

#[test]
fn pretalx_json_imports_event_by_event() {
    let dir = tempfile::tempdir().expect("dir");
    let mut n = node(dir.path());
    let Imported::Schedule { festival: f, summary, .. } = import(&mut n, &fixture("camp-pretalx.json")) else {
        panic!("not a schedule")
    };
    assert_eq!((summary.added, summary.venues_added), (4, 2));
    let fest = n.festival(&f).expect("festival");
    assert_eq!(
        (fest.name.as_str(), fest.timezone.as_str(), fest.day_change_minutes),
        ("Meadow Tech Camp ☀ 2026", "Europe/Lisbon", 240)
    );
    let all = details(&n, &f);
    let solder = find(&all, "Soldering");
    assert_eq!(
        (solder.event.start, solder.event.end),
        (at("2026-08-20T10:00:00+01:00"), at("2026-08-20T10:45:00+01:00"))
    );
    assert_eq!(solder.description, "Learn to solder in **45 minutes**.\n\nBring nothing; we have irons.\nLine two.");
    assert_eq!(solder.event.people, vec!["Grace Ndlovu"]);
    assert_eq!(solder.links[0].title, "Kit list");
    assert!(solder.url.starts_with("http"), "the event page: {:?}", solder.url);
    assert_eq!((solder.event.track.as_str(), solder.event.kind.as_str()), ("Hardware", "Workshop"));
    let party = find(&all, "Midnight demoscene");
    assert_eq!(party.event.title, "Midnight demoscene party — Ελλάδα edition");
    assert_eq!(party.event.day, "2026-08-20");
    assert_eq!(party.event.people, vec!["Nikos P.", "Maria K."]);
    assert!(party.event.track.is_empty() && party.language.is_empty() && party.description.is_empty());
    let ctf = find(&all, "Capture the flag");
    assert_eq!(ctf.event.end - ctf.event.start, 26 * 3600, "pretalx writes D:HH:MM from a day on");
    assert_eq!(ctf.event.venue_name, "Tent Grace");
}

#[test]
fn reimport_is_idempotent_and_a_new_version_becomes_exactly_its_changes() {
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (mut a, mut b) = (node(da.path()), node(db.path()));
    let Imported::Schedule { festival: f, .. } = import(&mut a, &fixture("wiese-v1.xml")) else { panic!() };
    // Another device learns the programme and looks at it.
    b.ingest(a.store().ops(&f).expect("ops")).expect("ingest");
    b.mark_seen(&f).expect("seen");

    let before = a.store().op_count().expect("count");
    let Imported::Schedule { summary, .. } = import(&mut a, &fixture("wiese-v1.xml")) else { panic!() };
    assert!(summary.is_noop(), "{summary:?}");
    assert_eq!(summary.unchanged, 8);
    assert_eq!(a.store().op_count().expect("count"), before, "re-import made ops");

    let Imported::Schedule { summary, .. } = import(&mut a, &fixture("wiese-v2.xml")) else { panic!() };
    assert_eq!((summary.added, summary.moved, summary.cancelled, summary.changed, summary.unchanged), (1, 1, 1, 0, 6));
    assert_eq!(a.store().op_count().expect("count"), before + 3, "one op per change");

    b.ingest(a.store().ops(&f).expect("ops")).expect("ingest");
    let changes = b.store().changes(&f).expect("changes");
    let mut got: Vec<(String, String)> = changes
        .events
        .iter()
        .map(|c| {
            let kind = match &c.kind {
                ChangeKind::Moved { from_start, from_venue, .. } => {
                    assert_eq!(*from_start, at("2026-07-10T15:00:00+02:00"));
                    format!("moved from {from_venue}")
                }
                other => format!("{other:?}"),
            };
            (kind, c.event.title.clone())
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("Cancelled".into(), "Spoon carving".into()),
            ("New".into(), "Thank-you concert for the volunteers".into()),
            ("moved from Zelt B".into(), "Mesh radio without the internet".into()),
        ]
    );
    // Cancelled, not deleted: it is still in the programme, marked.
    assert!(find(&details(&b, &f), "Spoon carving").event.cancelled);
    // Going back to v1 restores it.
    let Imported::Schedule { summary, .. } = import(&mut a, &fixture("wiese-v1.xml")) else { panic!() };
    assert_eq!((summary.restored, summary.cancelled, summary.moved), (1, 1, 1));
}

fn unescape(v: &str) -> String {
    v.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")
}

#[test]
fn icalendar_export_reads_back_with_an_independent_parser() {
    let dir = tempfile::tempdir().expect("dir");
    let mut n = node(dir.path());
    let Imported::Schedule { festival: f, .. } = import(&mut n, &fixture("wiese-v2.xml")) else { panic!() };
    let text = n.export_ics(&f, IcsSelection::All).expect("export");
    let cal =
        ical::IcalParser::new(std::io::BufReader::new(text.as_bytes())).next().expect("a calendar").expect("parses");
    assert_eq!(cal.timezones.len(), 1);
    let tzid = cal.timezones[0].properties.iter().find(|p| p.name == "TZID").and_then(|p| p.value.clone());
    assert_eq!(tzid.as_deref(), Some("Europe/Berlin"));
    let all = details(&n, &f);
    assert_eq!(cal.events.len(), all.len());
    let berlin = TimeZone::get("Europe/Berlin").expect("tz");
    for ev in &cal.events {
        let prop = |name: &str| ev.properties.iter().find(|p| p.name == name).expect(name);
        let uid = prop("UID").value.clone().expect("uid");
        let d = all.iter().find(|d| uid == format!("{}@meadow", d.event.id.to_hex())).expect("uid names an event");
        assert_eq!(unescape(prop("SUMMARY").value.as_deref().unwrap_or_default()), d.event.title);
        assert_eq!(unescape(prop("LOCATION").value.as_deref().unwrap_or_default()), d.event.venue_name);
        for (name, expected) in [("DTSTART", d.event.start), ("DTEND", d.event.end)] {
            let p = prop(name);
            let params = p.params.clone().unwrap_or_default();
            assert!(
                params.iter().any(|(k, v)| k == "TZID" && v == &vec!["Europe/Berlin".to_owned()]),
                "{name} has TZID"
            );
            let local: jiff::civil::DateTime =
                jiff::fmt::strtime::parse("%Y%m%dT%H%M%S", p.value.as_deref().unwrap_or_default())
                    .and_then(|t| t.to_datetime())
                    .expect("local time");
            let secs = local.to_zoned_datetime(berlin.clone()).expect("zoned").timestamp().as_second();
            assert_eq!(secs, expected, "{name} of {}", d.event.title);
        }
        let status = prop("STATUS").value.clone().unwrap_or_default();
        assert_eq!(status == "CANCELLED", d.event.cancelled, "{}", d.event.title);
    }
    // Favourites and single events.
    let two: Vec<_> = all.iter().take(2).map(|d| d.event.id).collect();
    for id in &two {
        n.set_favourite(&f, id, true).expect("fav");
    }
    let favs = n.export_ics(&f, IcsSelection::Favourites).expect("export");
    assert_eq!(favs.matches("BEGIN:VEVENT").count(), 2);
    let one = n.export_ics(&f, IcsSelection::Event(two[0])).expect("export");
    assert_eq!(one.matches("BEGIN:VEVENT").count(), 1);
    assert!(one.contains(&format!("UID:{}@meadow", two[0].to_hex())));
}

#[test]
fn icalendar_round_trip_through_import() {
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let mut a = node(da.path());
    let Imported::Schedule { festival: f, .. } = import(&mut a, &fixture("wiese-v2.xml")) else { panic!() };
    let ics = a.export_ics(&f, IcsSelection::All).expect("export");
    let mut b = node(db.path());
    let Imported::Schedule { festival: g, created, summary, .. } = b
        .import(
            ics.as_bytes(),
            &ImportOptions { format: Some(Format::ICalendar), ..Default::default() },
            &mut |_, _| {},
        )
        .expect("import")
    else {
        panic!()
    };
    assert!(created);
    assert_eq!(summary.added, 8);
    assert_eq!(b.festival(&g).expect("f").timezone, "Europe/Berlin");
    let mut want: Vec<_> = details(&a, &f)
        .into_iter()
        .map(|d| (d.event.start, d.event.end, d.event.title, d.event.venue_name, d.event.cancelled))
        .collect();
    let mut got: Vec<_> = details(&b, &g)
        .into_iter()
        .map(|d| (d.event.start, d.event.end, d.event.title, d.event.venue_name, d.event.cancelled))
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    // Importing the same calendar again changes nothing.
    let Imported::Schedule { summary, .. } = b
        .import(ics.as_bytes(), &ImportOptions { into: Some(g), ..Default::default() }, &mut |_, _| {})
        .expect("import")
    else {
        panic!()
    };
    assert!(summary.is_noop(), "{summary:?}");
}

#[test]
fn archives_round_trip_and_a_flipped_byte_stores_nothing() {
    let (da, db) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let mut a = node(da.path());
    let Imported::Schedule { festival: f, .. } = import(&mut a, &fixture("wiese-v1.xml")) else { panic!() };
    import(&mut a, &fixture("wiese-v2.xml"));
    let archive = a.export_archive(&f).expect("archive");
    let mut b = node(db.path());
    let Imported::Archive { festival, stored, .. } = import(&mut b, &archive) else { panic!("not an archive") };
    assert_eq!(festival, f);
    assert_eq!(stored as u64, a.store().op_count().expect("count"));
    assert_eq!(b.store().state_digest(&f).expect("d"), a.store().state_digest(&f).expect("d"));
    assert_eq!(b.current_festival().expect("current"), Some(f));

    for pos in [0, 9, 40, 120, archive.len() / 2, archive.len() - 40, archive.len() - 1] {
        let dc = tempfile::tempdir().expect("dir");
        let mut c = node(dc.path());
        let mut bad = archive.clone();
        bad[pos] ^= 0x10;
        let err = c.import(&bad, &ImportOptions::default(), &mut |_, _| {});
        assert!(err.is_err(), "flipped byte {pos} accepted");
        assert_eq!(c.store().op_count().expect("count"), 0, "flipped byte {pos} stored something");
    }
}

#[test]
fn hostile_files_are_rejected_with_the_place_and_change_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let mut n = node(dir.path());
    import(&mut n, &fixture("camp-pretalx.json"));
    let before = n.store().op_count().expect("count");
    let festivals = n.store().festivals().expect("festivals").len();
    let v1 = String::from_utf8(fixture("wiese-v1.xml")).expect("utf8");
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<schedule><conference><title>&lol9;</title></conference></schedule>"#;
    let wrong_types = r#"{"schedule": {"version": "1", "conference": {"title": "x", "days": "soon"}}}"#;
    let wrong_event = r#"{"schedule": {"conference": {"title": "x", "acronym": "x", "days": [
        {"index": 1, "date": "2026-01-01", "rooms": {"A": [{"guid": "g", "title": ["not", "text"], "date": "2026-01-01T10:00:00Z"}]}}]}}}"#;
    let bad_time = r#"{"schedule": {"conference": {"title": "x", "days": [
        {"index": 1, "date": "2026-01-01", "rooms": {"A": [{"guid": "g", "title": "t", "date": "half past ten"}]}}]}}}"#;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated XML", v1.as_bytes()[..v1.len() / 2].to_vec(), "line"),
        ("billion laughs", laughs.as_bytes().to_vec(), "declares entities"),
        ("undefined entity", v1.replace("&nbsp;", "&bogus;").into_bytes(), "undefined entity &bogus;"),
        ("mismatched tags", v1.replace("</title>", "</titel>").into_bytes(), "line"),
        ("wrong JSON types", wrong_types.as_bytes().to_vec(), "$.schedule.conference.days: expected a list"),
        ("wrong event field", wrong_event.as_bytes().to_vec(), "[0].title: expected text"),
        ("unreadable time", bad_time.as_bytes().to_vec(), "cannot read time \"half past ten\""),
        ("truncated JSON", fixture("camp-pretalx.json")[..500].to_vec(), "ends in the middle"),
        ("deep nesting", deep.into_bytes(), "line 1"),
        ("not a schedule", b"hello, world".to_vec(), "unrecognised file format"),
        (
            "fake archive",
            b"MEADOWA1 and then nonsense of some length to pass the size check..............".to_vec(),
            "archive",
        ),
        ("binary garbage", vec![0xff, 0xfe, 0x00, 0x3c, 0x80, 0x81], "unrecognised"),
    ];
    for (what, bytes, needle) in cases {
        let err = n
            .import(&bytes, &ImportOptions { new: true, ..Default::default() }, &mut |_, _| {})
            .expect_err(what)
            .to_string();
        assert!(err.contains(needle), "{what}: {err:?} does not mention {needle:?}");
        assert_eq!(n.store().op_count().expect("count"), before, "{what} stored ops");
        assert_eq!(n.store().festivals().expect("festivals").len(), festivals, "{what} created a festival");
    }
}

#[test]
fn fork_copies_venues_and_programme_and_names_its_origin() {
    let dir = tempfile::tempdir().expect("dir");
    let mut n = node(dir.path());
    let Imported::Schedule { festival: old, .. } = import(&mut n, &fixture("wiese-v1.xml")) else { panic!() };
    let head = n.store().head_op(&old).expect("head").expect("some op");
    let start = "2027-07-09".parse().expect("date");
    let new = n.fork_festival(&old, Some("Wiese & Wald 2027".into()), Some(start), true).expect("fork");
    let f = n.festival(&new).expect("festival");
    assert_eq!(f.name, "Wiese & Wald 2027");
    assert_eq!((f.start_date.to_string(), f.end_date.to_string()), ("2027-07-09".into(), "2027-07-11".into()));
    let fork = f.forked_from.expect("forked_from");
    assert_eq!((fork.festival, fork.op), (old, head));
    assert_eq!(f.owner, n.public_key());
    assert_eq!(n.store().venues(&new).expect("venues").len(), 3);
    let old_events = details(&n, &old);
    let new_events = details(&n, &new);
    assert_eq!(new_events.len(), old_events.len());
    let o = find(&old_events, "Eröffnung");
    let e = find(&new_events, "Eröffnung");
    assert_eq!(e.event.start - o.event.start, 364 * 86_400, "same weekday and wall time a year on");
    assert_eq!(e.event.venue_name, "Große Bühne");
    assert_ne!(e.event.venue, o.event.venue, "venues are the fork's own");
    assert_eq!(n.current_festival().expect("current"), Some(new));
    // Without --events only the venues come along.
    let bare = n.fork_festival(&old, None, None, false).expect("fork");
    assert!(details(&n, &bare).is_empty());
    assert_eq!(n.festival(&bare).expect("f").name, "Wiese & Wald 2026 (fork)");
}

mod round_trips {
    use meadow_core::exchange::archive;
    use meadow_core::store::Store;
    use meadow_tests::chaotic_festival;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Any festival survives export to an archive and import elsewhere, op for op.
        #[test]
        fn archives_round_trip_any_festival(seed in 0u64..100_000, steps in 5usize..70) {
            let s = chaotic_festival(seed, steps);
            let mut a = Store::open_in_memory().expect("store");
            a.ingest(s.ops.clone()).expect("ingest");
            let bytes = archive::export(&a, &s.festival).expect("export");
            let read = archive::read(&bytes).expect("read");
            prop_assert_eq!(read.ops.len(), s.ops.len());
            let mut b = Store::open_in_memory().expect("store");
            archive::import(&mut b, read).expect("import");
            prop_assert_eq!(b.state_digest(&s.festival).expect("d"), a.state_digest(&s.festival).expect("d"));
            let ids = |st: &Store| st.ops(&s.festival).expect("ops").iter().map(|o| o.id()).collect::<Vec<_>>();
            prop_assert_eq!(ids(&b), ids(&a));
        }
    }
}
