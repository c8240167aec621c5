//! Real schedules, real clocks (issue 10): zones taken from the times a schedule carries, rooms
//! and events that keep their identity across versions, formats read or refused by name, wrong
//! types refused, and iCalendar that every reader takes the same way. The fixtures are written to
//! the published formats (frab schedule.xml, the frab/pretalx schedule JSON, C3VOC schedule 2),
//! with made-up events.

use std::path::Path;

use jiff::tz::TimeZone;
use meadow_core::exchange::schedule::zone_label;
use meadow_core::identity::Identity;
use meadow_core::node::{
    ImportOptions, Imported, NewFestival, Node, NodeError, festival_tz, format_clock, format_time,
};
use meadow_core::op::{EventPatch, FestivalId, VenuePatch};
use meadow_core::view::{EventView, ProgrammeFilter};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)).expect("fixture")
}

fn node() -> Node {
    Node::in_memory(Identity::from_seed(1234)).expect("node")
}

fn import_with(n: &mut Node, bytes: &[u8], options: ImportOptions) -> Imported {
    n.import(bytes, &options, &mut |_, _| {}).expect("import")
}

fn import_new(n: &mut Node, bytes: &[u8]) -> (FestivalId, meadow_core::exchange::import::ImportSummary, String) {
    let Imported::Schedule { festival, summary, zone, .. } =
        import_with(n, bytes, ImportOptions { new: true, ..Default::default() })
    else {
        panic!("not a schedule")
    };
    (festival, summary, zone.map(|z| z.reason).unwrap_or_default())
}

fn programme(n: &Node, f: &FestivalId) -> Vec<EventView> {
    n.store().programme(f, &ProgrammeFilter::default()).expect("programme")
}

fn by_title<'a>(events: &'a [EventView], title: &str) -> &'a EventView {
    events.iter().find(|e| e.title == title).unwrap_or_else(|| panic!("no event {title:?}"))
}

fn local(n: &Node, f: &FestivalId, e: &EventView) -> String {
    format_clock(&festival_tz(&n.festival(f).expect("festival")), e.start)
}

#[test]
fn a_schedule_naming_no_zone_is_shown_in_the_zone_its_offsets_say() {
    let mut n = node();
    let (f, _, reason) = import_new(&mut n, &fixture("winter-nozone.xml"));
    let fest = n.festival(&f).expect("festival");
    assert_eq!(zone_label(&fest.timezone), "UTC+01:00", "{}", fest.timezone);
    assert!(reason.contains("names no time zone") && reason.contains("+01:00"), "{reason}");
    let events = programme(&n, &f);
    assert_eq!(local(&n, &f, by_title(&events, "Opening of the frost")), "11:00", "not an hour early");
    // 00:30 after the first night belongs to the first day's programme (the day change comes
    // from the schedule's day boundaries, read in the festival's zone).
    assert_eq!(by_title(&events, "Night lecture on snow crystals").day, "2026-12-27");
    assert_eq!(by_title(&events, "Breakfast talk").day, "2026-12-28");

    // --timezone overrides what the schedule says.
    let mut n = node();
    let Imported::Schedule { festival, zone, .. } = import_with(
        &mut n,
        &fixture("winter-nozone.xml"),
        ImportOptions { new: true, timezone: Some("Europe/Helsinki".into()), ..Default::default() },
    ) else {
        panic!()
    };
    assert_eq!(n.festival(&festival).expect("f").timezone, "Europe/Helsinki");
    assert!(zone.expect("zone").reason.contains("--timezone"));
    let events = programme(&n, &festival);
    assert_eq!(local(&n, &festival, by_title(&events, "Opening of the frost")), "12:00");
}

#[test]
fn a_declared_zone_that_contradicts_every_offset_loses_with_a_warning_naming_both() {
    let mut n = node();
    let (f, summary, _) = import_new(&mut n, &fixture("lake-utc-declared.json"));
    assert_eq!(zone_label(&n.festival(&f).expect("f").timezone), "UTC+01:00");
    let w = summary.warnings.iter().find(|w| w.contains("declares")).expect("a warning");
    assert!(w.contains("\"UTC\"") && w.contains("+01:00"), "{w}");
    let events = programme(&n, &f);
    assert_eq!(local(&n, &f, by_title(&events, "Ice safety")), "10:00");
    assert_eq!(by_title(&events, "Midnight swim").day, "2026-12-04", "before the 04:00 day change");
}

#[test]
fn a_schedule_across_the_clock_change_gets_a_zone_giving_both_offsets() {
    let mut n = node();
    let (f, summary, reason) = import_new(&mut n, &fixture("autumn-nozone.json"));
    assert!(reason.contains("+02:00") && reason.contains("+01:00"), "{reason}");
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    let events = programme(&n, &f);
    assert_eq!(local(&n, &f, by_title(&events, "Harvest dance")), "20:00");
    assert_eq!(local(&n, &f, by_title(&events, "Lantern walk")), "20:00");
}

/// A festival in Berlin over the night clocks go back, with events in the repeated hour.
fn autumn_festival(n: &mut Node) -> FestivalId {
    let f = n
        .create_festival(NewFestival {
            name: "Clock change".into(),
            description: String::new(),
            timezone: "Europe/Berlin".into(),
            start_date: jiff::civil::date(2026, 10, 24),
            end_date: jiff::civil::date(2026, 10, 25),
            place: String::new(),
            day_change_minutes: 6 * 60,
        })
        .expect("festival");
    n.add_venue(f, VenuePatch { name: Some("Barn".into()), ..Default::default() }).expect("venue");
    f
}

fn at(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().expect("time").as_second()
}

#[test]
fn a_clock_time_on_a_festival_day_falls_after_midnight_when_the_day_has_not_changed_yet() {
    let mut n = node();
    let f = autumn_festival(&mut n);
    let day = jiff::civil::date(2026, 10, 24);
    assert_eq!(n.time_on_day(&f, day, "20:00").expect("evening"), at("2026-10-24T20:00:00+02:00"));
    // The day changes at 06:00: half past one belongs to the night of the 24th.
    assert_eq!(n.time_on_day(&f, day, " 01:30 ").expect("night"), at("2026-10-25T01:30:00+02:00"));
    assert_eq!(n.time_on_day(&f, day, "06:00").expect("morning"), at("2026-10-24T06:00:00+02:00"));
    // 02:30 on the 25th happens twice (clocks go back): refused, saying what to type.
    let twice = n.time_on_day(&f, day, "02:30").expect_err("repeated hour");
    assert!(twice.to_string().contains("twice"), "{twice}");
    for bad in ["25:00", "noon", ""] {
        assert!(n.time_on_day(&f, day, bad).is_err(), "{bad:?}");
    }
}

#[test]
fn icalendar_in_the_repeated_hour_is_read_the_same_by_an_independent_parser() {
    let mut n = node();
    let f = autumn_festival(&mut n);
    let barn = n.find_venue(&f, "Barn").expect("venue").id;
    // 02:30 happens twice on 2026-10-25 in Berlin: once at +02:00, once at +01:00.
    let times = [
        ("First 02:30", at("2026-10-25T02:30:00+02:00"), at("2026-10-25T02:50:00+02:00")),
        ("Second 02:30", at("2026-10-25T02:30:00+01:00"), at("2026-10-25T02:50:00+01:00")),
        ("Evening", at("2026-10-24T20:00:00+02:00"), at("2026-10-24T21:00:00+02:00")),
    ];
    let mut ids = Vec::new();
    for (title, start, end) in times {
        let patch = EventPatch {
            title: Some(title.into()),
            start: Some(start),
            end: Some(end),
            venue: Some(Some(barn)),
            track: Some("Night owls".into()),
            ..Default::default()
        };
        ids.push((n.add_event(f, patch).expect("event"), start, end));
    }
    let ics = n.export_ics(&f, meadow_core::node::IcsSelection::All).expect("export");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("programme.ics");
    std::fs::write(&file, &ics).expect("write");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ics_instants.py");
    let out = std::process::Command::new("python3").arg(&script).arg(&file).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "the independent parser failed (needs Python's icalendar: pip install icalendar==6.1.0): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    for (id, start, end) in ids {
        let uid = format!("{}@meadow", id.to_hex());
        let ev = parsed.iter().find(|v| v["uid"] == uid.as_str()).expect("event in the file");
        assert_eq!((ev["start"].as_i64(), ev["end"].as_i64()), (Some(start), Some(end)), "{uid}: {ics}");
        assert_eq!(ev["categories"], serde_json::json!(["Night owls"]));
    }
}

#[test]
fn local_times_that_do_not_exist_or_happen_twice_are_refused_or_reported() {
    let mut n = node();
    let f = autumn_festival(&mut n);
    let fold = n.parse_time(&f, "2026-10-25 02:30").expect_err("ambiguous").to_string();
    assert!(fold.contains("happens twice") && fold.contains("+02:00") && fold.contains("+01:00"), "{fold}");
    assert!(n.parse_time(&f, "2026-10-25T02:30+01:00").is_ok(), "with an offset it is clear");
    let tz = TimeZone::get("Europe/Berlin").expect("tz");
    let gap = meadow_core::node::parse_time(&tz, "2026-03-29 02:30").expect_err("gap").to_string();
    assert!(gap.contains("does not exist"), "{gap}");

    // In an imported schedule, a local start in the gap is moved past it and reported.
    let xml = String::from_utf8(fixture("winter-v1.xml"))
        .expect("utf8")
        .replace("<date>2026-12-28T10:30:00+01:00</date>", "")
        .replace("<start>10:30</start>", "<start>02:30</start>")
        .replace("date=\"2026-12-28\" start", "date=\"2027-03-28\" start")
        .replace("<end>2026-12-29</end>", "<end>2027-03-29</end>");
    let mut n = node();
    let (f, summary, _) = import_new(&mut n, xml.as_bytes());
    assert!(
        summary.warnings.iter().any(|w| w.contains("Breakfast talk") && w.contains("does not exist")),
        "{summary:?}"
    );
    let events = programme(&n, &f);
    let moved = by_title(&events, "Breakfast talk");
    assert!(moved.end > moved.start, "not made zero-length");
}

#[test]
fn zero_length_and_out_of_dates_events_get_a_clear_answer() {
    let mut n = node();
    let f = autumn_festival(&mut n);
    let barn = Some(Some(n.find_venue(&f, "Barn").expect("venue").id));
    let event = |start: &str, end: &str| EventPatch {
        title: Some("X".into()),
        start: Some(at(start)),
        end: Some(at(end)),
        venue: barn,
        ..Default::default()
    };
    let zero = n.add_event(f, event("2026-10-24T20:00:00+02:00", "2026-10-24T20:00:00+02:00"));
    let zero = zero.expect_err("zero length");
    assert!(zero.to_string().contains("ends when it starts"));
    assert!(matches!(zero, NodeError::Field { field: "end", .. }), "a form shows it at the end time: {zero:?}");
    let outside = n.add_event(f, event("2026-11-02T20:00:00+01:00", "2026-11-02T21:00:00+01:00"));
    let outside = outside.expect_err("outside");
    assert!(outside.to_string().contains("outside the festival"));
    assert!(matches!(outside, NodeError::Field { field: "start", .. }), "{outside:?}");
    let untitled = n.add_event(
        f,
        EventPatch { title: Some(" ".into()), ..event("2026-10-24T20:00:00+02:00", "2026-10-24T21:00:00+02:00") },
    );
    assert!(matches!(untitled, Err(NodeError::Field { field: "title", .. })), "{untitled:?}");
    // Imports keep what the file says and warn.
    let xml = String::from_utf8(fixture("winter-v1.xml"))
        .expect("utf8")
        .replace("<duration>00:45</duration>", "<duration>00:00</duration>");
    let mut n = node();
    let (_, summary, _) =
        import_new(&mut n, &xml.replace("<end>2026-12-29</end>", "<end>2026-12-28</end>").into_bytes());
    assert!(summary.warnings.iter().any(|w| w.contains("Breakfast talk") && w.contains("no duration")), "{summary:?}");
    assert!(summary.warnings.iter().any(|w| w.contains("outside the festival")), "{summary:?}");
}

#[test]
fn two_rooms_sharing_a_guid_keep_their_events_and_a_reimport_changes_nothing() {
    let mut n = node();
    let (f, summary, _) = import_new(&mut n, &fixture("lake-utc-declared.json"));
    assert_eq!(summary.venues_added, 2);
    let events = programme(&n, &f);
    assert_eq!(by_title(&events, "Ice safety").venue_name, "Boathouse");
    assert_eq!(by_title(&events, "Sauna stories").venue_name, "Sauna Tent");
    let Imported::Schedule { summary, .. } =
        import_with(&mut n, &fixture("lake-utc-declared.json"), ImportOptions { into: Some(f), ..Default::default() })
    else {
        panic!()
    };
    assert!(summary.is_noop(), "{summary:?}");
    assert_eq!(summary.unchanged, 3);
}

#[test]
fn a_renamed_room_is_a_rename_not_a_move() {
    let mut n = node();
    let (f, _, _) = import_new(&mut n, &fixture("winter-v1.xml"));
    let venues = n.store().venues(&f).expect("venues").len();
    let Imported::Schedule { summary, .. } =
        import_with(&mut n, &fixture("winter-v2.xml"), ImportOptions { into: Some(f), ..Default::default() })
    else {
        panic!()
    };
    assert_eq!((summary.renamed, summary.moved, summary.venues_added), (1, 0, 0), "{summary:?}");
    let names: Vec<String> = n.store().venues(&f).expect("venues").into_iter().map(|v| v.name).collect();
    assert_eq!(names.len(), venues, "no empty venue left behind: {names:?}");
    assert!(names.contains(&"Saal Zwei (Kuppel)".to_owned()), "{names:?}");
    assert_eq!(by_title(&programme(&n, &f), "Closing concert").venue_name, "Saal Zwei (Kuppel)");
    let changes = n.store().changes(&f).expect("changes");
    assert!(changes.events.iter().all(|c| !matches!(c.kind, meadow_core::view::ChangeKind::Moved { .. })));
}

#[test]
fn c3voc_schedule_2_is_read() {
    let mut n = node();
    let (f, summary, _) = import_new(&mut n, &fixture("hub-schedule2.json"));
    assert_eq!(summary.added, 3, "talk, cancelled workshop and break; the submission in review is not programme");
    let fest = n.festival(&f).expect("f");
    assert_eq!((fest.name.as_str(), fest.timezone.as_str()), ("Field Hacking 2026", "Europe/Berlin"));
    let all = n.store().event_details(&f, false).expect("details");
    let talk = all.iter().find(|d| d.event.title == "Antennas from tin cans").expect("talk");
    assert_eq!(talk.event.track, "Hardware & Making");
    assert_eq!(talk.event.people, vec!["Tam Blech", "Uli Draht"]);
    assert_eq!(talk.event.venue_name, "Dome");
    assert!(talk.description.contains("Bring two cans."), "{}", talk.description);
    assert_eq!(format_time(&festival_tz(&fest), talk.event.start), "2026-08-12 11:00");
    let ws = all.iter().find(|d| d.event.title == "Soil microscopy").expect("workshop");
    assert!(ws.event.cancelled);
    assert_eq!((ws.event.venue_name.as_str(), ws.event.track.as_str()), ("Tent 2", "Science"));
    assert!(all.iter().any(|d| d.event.title == "Lunch"));
}

#[test]
fn files_without_events_are_refused_naming_what_they_looked_like() {
    let cases: Vec<(&str, String, &str)> = vec![
        ("some other JSON", r#"{"talks": [], "tracks": []}"#.into(), "not a schedule"),
        (
            "classic JSON without events",
            r#"{"schedule": {"version": "1", "conference": {"title": "x", "acronym": "x", "days": [{"index": 1, "date": "2026-01-01", "rooms": {}}]}}}"#.into(),
            "frab/pretalx schedule JSON",
        ),
        (
            "schedule 2 without events",
            r#"{"schedule": {"version": "1", "conference": {"title": "x", "acronym": "xx", "days": []}, "events": []}}"#.into(),
            "C3VOC schedule 2 JSON",
        ),
        ("frab XML without days", "<schedule><conference><title>x</title></conference></schedule>".into(), "without any <day>"),
    ];
    for (what, text, needle) in cases {
        let mut n = node();
        let err = n
            .import(text.as_bytes(), &ImportOptions { new: true, ..Default::default() }, &mut |_, _| {})
            .expect_err(what)
            .to_string();
        assert!(err.contains(needle), "{what}: {err}");
        assert!(n.store().festivals().expect("festivals").is_empty(), "{what} created a festival");
    }
}

#[test]
fn a_number_where_a_date_belongs_fails_naming_the_field_and_the_event() {
    let json = String::from_utf8(fixture("lake-utc-declared.json"))
        .expect("utf8")
        .replace("\"date\": \"2026-12-03T18:00:00+01:00\"", "\"date\": 20261203");
    let mut n = node();
    let err = n
        .import(json.as_bytes(), &ImportOptions { new: true, ..Default::default() }, &mut |_, _| {})
        .expect_err("wrong type")
        .to_string();
    assert!(err.contains(".date") && err.contains("\"Sauna stories\"") && err.contains("found a number"), "{err}");
    assert!(n.store().festivals().expect("f").is_empty() && n.store().op_count().expect("c") == 0);
}

#[test]
fn meadows_own_icalendar_export_keeps_tracks_and_people_and_comes_home_without_copies() {
    let mut a = node();
    let (f, _, _) = import_new(&mut a, &fixture("hub-schedule2.json"));
    // Commas in tracks and names must survive the trip too.
    let soil = by_title(&programme(&a, &f), "Soil microscopy").id;
    a.edit_event(
        f,
        soil,
        EventPatch {
            track: Some("Science, soil".into()),
            people: Some(vec!["Lupe, Vera".into(), "Kim".into()]),
            ..Default::default()
        },
    )
    .expect("edit");
    let ics = a.export_ics(&f, meadow_core::node::IcsSelection::All).expect("export");
    let key = |d: &meadow_core::view::EventDetail| {
        let e = &d.event;
        (e.title.clone(), e.subtitle.clone(), e.start, e.track.clone(), e.people.clone(), d.description.clone())
    };
    let mut want: Vec<_> = a.store().event_details(&f, true).expect("d").iter().map(key).collect();
    let mut b = node();
    let (g, _, _) = import_new(&mut b, ics.as_bytes());
    let mut got: Vec<_> = b.store().event_details(&g, true).expect("d").iter().map(key).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    // Back into the festival it came from: the same events, updated in place, no copies.
    let Imported::Schedule { summary, .. } =
        import_with(&mut a, ics.as_bytes(), ImportOptions { into: Some(f), ..Default::default() })
    else {
        panic!()
    };
    assert_eq!(summary.added, 0, "{summary:?}");
    assert_eq!(a.store().event_details(&f, false).expect("d").len(), 3);
}

#[test]
fn a_schedule_that_does_not_overlap_the_current_festival_needs_new_or_into() {
    let mut n = node();
    let (demo, _) = meadow_core::demo::create_demo(&mut n, jiff::civil::date(2026, 7, 10)).expect("demo");
    let before = n.store().op_count().expect("count");
    let err = n
        .import(&fixture("winter-v1.xml"), &ImportOptions::default(), &mut |_, _| {})
        .expect_err("no silent merge")
        .to_string();
    assert!(err.contains("--new") && err.contains("--into") && err.contains("does not overlap"), "{err}");
    assert_eq!(n.store().op_count().expect("count"), before);
    let Imported::Schedule { festival, .. } =
        import_with(&mut n, &fixture("winter-v1.xml"), ImportOptions { into: Some(demo), ..Default::default() })
    else {
        panic!()
    };
    assert_eq!(festival, demo, "explicitly into the demo");
}
