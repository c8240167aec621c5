//! The info point's feeds read the way schedule apps read them: EventFahrplan types an event's
//! `id` as a signed 32-bit integer, Giggity reads `<duration>` as a clock time (hours below 24)
//! and ignores iCalendar's `STATUS`. Ids and guids stay put across edits, moves and re-imports and
//! agree between nodes; an imported schedule's own facts (guids, ids, room order, recording
//! flags, event pages, days) come back out; apps find the feeds from the bare address.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::process::Command;

use meadow_core::identity::Identity;
use meadow_core::node::{ImportOptions, NewFestival, Node};
use meadow_core::op::{EventPatch, FestivalId};
use meadow_core::view::ProgrammeFilter;
use meadow_tests::webclient::{Served, get, get_with, script, serve, serve_with, validate_feeds};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)).expect("fixture")
}

/// A node with `seed`'s key that imported `bytes` as a new festival.
fn imported(seed: u64, bytes: &[u8]) -> (Node, FestivalId) {
    let mut n = Node::in_memory(Identity::from_seed(seed)).expect("node");
    let opts = ImportOptions { new: true, ..Default::default() };
    n.import(bytes, &opts, &mut |_, _| {}).expect("imports");
    let f = n.current_festival().expect("current").expect("a festival");
    (n, f)
}

fn serve_fjord(seed: u64) -> Served {
    let (n, f) = imported(seed, &fixture("fjord-frab.xml"));
    serve_with(n, f, |_| {})
}

/// One event as an app reads it from `schedule.json`.
#[derive(Debug, Clone, PartialEq)]
struct AppEvent {
    /// As EventFahrplan reads it: a signed 32-bit integer, or the whole feed fails to decode.
    id: i32,
    guid: String,
    title: String,
    date: String,
    duration: String,
    room: String,
    day: String,
    json: Value,
}

fn json_events(body: &[u8]) -> (Value, Vec<AppEvent>) {
    let doc: Value = serde_json::from_slice(body).expect("schedule.json parses");
    let mut out = Vec::new();
    for day in doc["schedule"]["conference"]["days"].as_array().expect("days") {
        let date = day["date"].as_str().expect("day date").to_owned();
        for (room, events) in day["rooms"].as_object().expect("rooms") {
            for e in events.as_array().expect("events") {
                let id = e["id"].as_i64().and_then(|n| i32::try_from(n).ok());
                let id = id.unwrap_or_else(|| panic!("id {} does not fit a signed 32-bit integer", e["id"]));
                out.push(AppEvent {
                    id,
                    guid: e["guid"].as_str().expect("guid").to_owned(),
                    title: e["title"].as_str().expect("title").to_owned(),
                    date: e["date"].as_str().expect("date").to_owned(),
                    duration: e["duration"].as_str().expect("duration").to_owned(),
                    room: room.clone(),
                    day: date.clone(),
                    json: e.clone(),
                });
            }
        }
    }
    (doc, out)
}

/// Every `<event id=".." guid="..">` of `schedule.xml`, with its `<duration>`, in file order.
fn xml_events(xml: &str) -> Vec<(i32, String, String)> {
    let attr = |tag: &str, name: &str| -> String {
        let at = tag.find(&format!("{name}=\"")).map(|i| i + name.len() + 2).expect("attribute");
        tag[at..].split('"').next().unwrap_or_default().to_owned()
    };
    xml.split("<event ")
        .skip(1)
        .map(|chunk| {
            let tag = chunk.split('>').next().unwrap_or_default();
            let id: i32 = attr(tag, "id").parse().unwrap_or_else(|_| panic!("id in {tag} is no 32-bit integer"));
            let duration = chunk.split("<duration>").nth(1).and_then(|d| d.split('<').next()).unwrap_or_default();
            (id, attr(tag, "guid"), duration.to_owned())
        })
        .collect()
}

/// Giggity reads a duration as a clock time: `HH:MM` (or `HH:MM:SS`), hours 0 to 23.
fn clock_time_minutes(d: &str) -> Option<u32> {
    let parts: Vec<&str> = d.split(':').collect();
    let (h, m) = (parts.first()?.parse::<u32>().ok()?, parts.get(1)?.parse::<u32>().ok()?);
    (parts.len() <= 3 && h < 24 && m < 60).then_some(h * 60 + m)
}

fn assert_ids_fit_and_are_unique(events: &[AppEvent], xml: &str) {
    assert!(events.iter().all(|e| e.id >= 1), "ids start at 1");
    let ids: HashSet<i32> = events.iter().map(|e| e.id).collect();
    let guids: HashSet<&str> = events.iter().map(|e| e.guid.as_str()).collect();
    assert_eq!((ids.len(), guids.len()), (events.len(), events.len()), "ids and guids are unique");
    let in_xml: HashSet<(i32, String)> = xml_events(xml).into_iter().map(|(i, g, _)| (i, g)).collect();
    let in_json: HashSet<(i32, String)> = events.iter().map(|e| (e.id, e.guid.clone())).collect();
    assert_eq!(in_xml, in_json, "both feeds give every event the same id and guid");
}

/// (id, guid) by (title, start) of a served festival's JSON feed.
fn ids_by_event(s: &Served) -> HashMap<(String, String), (i32, String)> {
    let (_, events) = json_events(&get(s.addr(), "/schedule.json").body);
    events.into_iter().map(|e| ((e.title, e.date), (e.id, e.guid))).collect()
}

/// The feed's ids once the web has taken in a write made straight on the node: its cache moves
/// when the change feed reaches it, a moment after the write.
fn ids_once(
    s: &Served,
    ready: impl Fn(&HashMap<(String, String), (i32, String)>) -> bool,
) -> HashMap<(String, String), (i32, String)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let ids = ids_by_event(s);
        if ready(&ids) || std::time::Instant::now() > deadline {
            return ids;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn ids_fit_a_signed_32_bit_integer_and_stay_put_across_edits_moves_reimports_and_nodes() {
    let demo = serve(31);
    let (_, events) = json_events(&get(demo.addr(), "/schedule.json").body);
    assert!(events.len() > 300, "{}", events.len());
    assert_ids_fit_and_are_unique(&events, &get(demo.addr(), "/schedule.xml").text());

    let a = serve_fjord(32_001);
    let (_, events) = json_events(&get(a.addr(), "/schedule.json").body);
    assert_ids_fit_and_are_unique(&events, &get(a.addr(), "/schedule.xml").text());
    let by_title = |t: &str| events.iter().find(|e| e.title == t).unwrap_or_else(|| panic!("{t} in the feed"));
    // The source's own ids and guids, where they fit.
    let opening = by_title("Åpningskonsert");
    assert_eq!((opening.id, opening.guid.as_str()), (4720, "e0000000-0000-4000-8000-000000004720"));
    let late = by_title("Late set");
    assert_ne!(late.id as i64, 3_000_000_000, "an id past 2^31-1 is replaced");
    assert_eq!(late.guid, "e0000000-0000-4000-8000-000000004740");
    // Two events with one guid: both listed, the first keeps the guid, the second gets its own.
    let sessions: Vec<&AppEvent> = events.iter().filter(|e| e.title == "Knot-tying workshop").collect();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!((sessions[0].id, sessions[0].guid.as_str()), (4730, "e0000000-0000-4000-8000-000000004730"));
    assert_eq!(sessions[1].id, 4731);
    assert_ne!(sessions[1].guid, sessions[0].guid);

    // Another node importing the same file under another key gives every event the same id and guid.
    let b = serve_fjord(32_002);
    let before = ids_by_event(&a);
    assert_eq!(ids_by_event(&b), before, "two nodes agree");

    // Edits and moves keep an event's id and guid; so does importing the same file again.
    {
        let mut n = a.node.lock().expect("lock");
        let all = n.programme(&a.festival, &ProgrammeFilter::default()).expect("programme");
        let closing = all.iter().find(|e| e.title == "Closing words").expect("closing").clone();
        let late = all.iter().find(|e| e.title == "Late set").expect("late").clone();
        let edit = EventPatch { title: Some("Closing words and thanks".into()), ..Default::default() };
        n.edit_event(a.festival, closing.id, edit).expect("edit");
        let moved = EventPatch { start: Some(late.start + 3600), end: Some(late.end + 3600), ..Default::default() };
        n.edit_event(a.festival, late.id, moved).expect("move");
    }
    let after: HashMap<String, (i32, String)> =
        ids_once(&a, |ids| ids.keys().any(|(t, _)| t == "Closing words and thanks"))
            .into_iter()
            .map(|((t, _), v)| (t, v))
            .filter(|(t, _)| !t.contains("(day "))
            .collect();
    let was: HashMap<String, (i32, String)> =
        before.iter().map(|((t, _), v)| (t.clone(), v.clone())).filter(|(t, _)| !t.contains("(day ")).collect();
    assert_eq!(after.get("Closing words and thanks"), was.get("Closing words"), "an edit keeps the id");
    assert_eq!(after.get("Late set"), was.get("Late set"), "a move keeps the id");
    {
        let mut n = a.node.lock().expect("lock");
        let opts = ImportOptions { into: Some(a.festival), ..Default::default() };
        n.import(&fixture("fjord-frab.xml"), &opts, &mut |_, _| {}).expect("re-import");
    }
    let again = ids_once(&a, |ids| ids.keys().any(|(t, _)| t == "Closing words"));
    assert_eq!(again, before, "the same file again: the same ids, guids and times");
}

#[test]
fn no_duration_reaches_24_hours_and_long_events_are_written_once_per_day() {
    let s = serve_fjord(33_001);
    let xml = get(s.addr(), "/schedule.xml").text();
    for (id, _, d) in xml_events(&xml) {
        assert!(clock_time_minutes(&d).is_some(), "event {id}: <duration>{d}</duration> is no clock time");
    }
    let (_, events) = json_events(&get(s.addr(), "/schedule.json").body);
    for e in &events {
        assert!(clock_time_minutes(&e.duration).is_some(), "{}: duration {}", e.title, e.duration);
    }
    let total = |prefix: &str| -> (usize, u32, Vec<String>) {
        let parts: Vec<&AppEvent> = events.iter().filter(|e| e.title.starts_with(prefix)).collect();
        let minutes = parts.iter().filter_map(|e| clock_time_minutes(&e.duration)).sum();
        (parts.len(), minutes, parts.iter().map(|e| e.day.clone()).collect())
    };
    // 26 hours from Friday 12:00, festival days changing at 06:00: Friday's 18 hours, then 8.
    let (n, minutes, days) = total("Lysinstallasjon");
    assert_eq!((n, minutes), (2, 26 * 60), "{days:?}");
    assert_eq!(days, ["2026-08-14", "2026-08-15"]);
    let first = events.iter().find(|e| e.title == "Lysinstallasjon (day 1 of 2)").expect("first part");
    assert_eq!((first.id, first.guid.as_str()), (4711, "e0000000-0000-4000-8000-000000004711"));
    assert!(first.json["description"].as_str().is_some_and(|d| d.starts_with("Runs from Fri 14 Aug 12:00")));
    // The festival radio runs all three festival days: one entry a day, 24 hours less a minute each.
    let (n, _, days) = total("Festival radio");
    assert_eq!((n, days), (3, vec!["2026-08-14".to_owned(), "2026-08-15".into(), "2026-08-16".into()]));
}

#[test]
fn a_cancelled_event_is_unmistakable_in_a_calendar_that_ignores_status() {
    let s = serve(34);
    let cancelled = {
        let mut n = s.node.lock().expect("lock");
        let e = n
            .programme(&s.festival, &ProgrammeFilter::default())
            .expect("programme")
            .into_iter()
            .find(|e| e.official && !e.cancelled)
            .expect("an official event");
        // A long title in a script of three-byte characters: folded lines must count octets.
        let title = format!("{} 東京の夜の長いコンサートと朗読と踊りの特別な夜 東京の夜の長いコンサート", e.title);
        n.edit_event(s.festival, e.id, EventPatch { title: Some(title.clone()), ..Default::default() }).expect("edit");
        n.cancel_event(s.festival, e.id, true).expect("cancel");
        (e.id, title)
    };
    for path in ["/programme.ics".to_owned(), format!("/event/{}.ics", cancelled.0.to_hex())] {
        let ics = get(s.addr(), &path).text();
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{path}: a line of {} octets: {line:?}", line.len());
        }
        // A reader that ignores STATUS: the calendar parser's properties, STATUS left unread.
        let cal = ical::IcalParser::new(ics.as_bytes()).next().expect("a calendar").expect("parses");
        let uid = format!("{}@meadow", cancelled.0.to_hex());
        let ev = cal
            .events
            .iter()
            .find(|e| e.properties.iter().any(|p| p.name == "UID" && p.value.as_deref() == Some(uid.as_str())))
            .expect("the cancelled event is in the calendar");
        let prop = |name: &str| ev.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone());
        assert_eq!(prop("SUMMARY"), Some(format!("Cancelled: {}", cancelled.1)), "{path}");
        assert!(prop("DESCRIPTION").is_some_and(|d| d.starts_with("This event is cancelled.")), "{path}");
        assert_eq!(prop("TRANSP").as_deref(), Some("TRANSPARENT"), "{path}");
    }
    // The independent Python parser reads the folded file too.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("programme.ics");
    std::fs::write(&file, get(s.addr(), "/programme.ics").body).expect("write");
    let out = Command::new("python3").arg(script("ics_instants.py")).arg(&file).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_imported_schedule_keeps_its_room_order_recording_flags_pages_and_days() {
    let s = serve_fjord(35_001);
    let xml = get(s.addr(), "/schedule.xml").text();
    let json = get(s.addr(), "/schedule.json");
    let (doc, events) = json_events(&json.body);
    let conf = &doc["schedule"]["conference"];
    // The source's room order (Zelt, Bühne A, Kino), not the alphabet's.
    let rooms: Vec<&str> = conf["rooms"].as_array().expect("rooms").iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(rooms, ["Zelt", "Bühne A", "Kino"]);
    let day1 = xml.split("<day ").nth(1).expect("a day");
    let xml_rooms: Vec<&str> = day1.split("<room name=\"").skip(1).filter_map(|r| r.split('"').next()).collect();
    assert_eq!(xml_rooms, ["Zelt", "Bühne A", "Kino"]);
    // The exclusive end (2026-08-17) adds no empty day.
    assert_eq!((conf["end"].as_str(), conf["daysCount"].as_u64()), (Some("2026-08-16"), Some(3)));
    assert_eq!(xml.matches("<day ").count(), 3);
    assert!(xml.contains("<day_change>06:00:00</day_change>"), "readers cut days where Meadow does");
    assert_eq!(conf["time_zone_name"].as_str(), Some("Europe/Oslo"));
    // Recording flags and licences, and the event page as the event's url.
    let light = events.iter().find(|e| e.title.starts_with("Lysinstallasjon")).expect("event");
    assert_eq!(light.json["do_not_record"], Value::Bool(true));
    let radio = events.iter().find(|e| e.title.starts_with("Festival radio")).expect("event");
    assert_eq!(
        (radio.json["do_not_record"].as_bool(), radio.json["recording_license"].as_str()),
        (Some(false), Some("CC BY 4.0"))
    );
    let opening = events.iter().find(|e| e.title == "Åpningskonsert").expect("event");
    assert_eq!(opening.json["url"].as_str(), Some("https://fjord.example/2026/talk/4720/"));
    let links: Vec<&str> =
        opening.json["links"].as_array().expect("links").iter().filter_map(|l| l["url"].as_str()).collect();
    assert_eq!(links, ["https://band.example/"], "the page is not repeated as a link");
    let ev4720 = xml.split("<event ").find(|c| c.starts_with("id=\"4720\"")).expect("event 4720 in the XML");
    assert!(ev4720.contains("<url>https://fjord.example/2026/talk/4720/</url>"), "{ev4720}");
    assert!(
        ev4720.contains("<recording>")
            && ev4720.contains("<license>CC BY-SA 4.0</license>")
            && ev4720.contains("<optout>false</optout>")
    );
    // The C3VOC schemas still hold (the XSD predates frab's <day_change>, which is taken out for it).
    validate_feeds(&xml, &json.body);
}

#[test]
fn apps_find_the_feeds_from_the_bare_address() {
    let s = serve(36);
    let home = get(s.addr(), "/").text();
    for (kind, href) in [
        ("application/vnd.c3voc.schedule+xml", "/schedule.xml"),
        ("application/json", "/schedule.json"),
        ("text/calendar", "/programme.ics"),
    ] {
        let link = format!("<link rel=\"alternate\" type=\"{kind}\" href=\"{href}\"");
        assert!(home.contains(&link), "{link} on the home page");
        assert_eq!(get(s.addr(), href).status, 200, "{href}");
    }
}

#[test]
fn feeds_are_gzipped_for_clients_that_take_it_and_the_json_always_names_the_zone() {
    let s = serve(37);
    for path in ["/schedule.xml", "/schedule.json", "/programme.ics"] {
        let plain = get(s.addr(), path);
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        let gz = get_with(s.addr(), path, "Accept-Encoding: br, gzip;q=0.8\r\n");
        assert_eq!((gz.status, gz.header("content-encoding")), (200, Some("gzip")), "{path}");
        assert_eq!(gz.header("vary"), Some("accept-encoding"));
        assert!(gz.body.len() * 3 < plain.body.len(), "{path}: {} of {} bytes", gz.body.len(), plain.body.len());
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&gz.body[..]).read_to_end(&mut unzipped).expect("gunzip");
        assert_eq!(unzipped, plain.body, "{path}");
        assert_ne!(gz.header("etag"), plain.header("etag"), "each encoding has its own ETag");
        let etag = gz.header("etag").expect("etag").to_owned();
        let again = get_with(s.addr(), path, &format!("Accept-Encoding: gzip\r\nIf-None-Match: {etag}\r\n"));
        assert_eq!(again.status, 304, "{path}");
        let refused = get_with(s.addr(), path, "Accept-Encoding: gzip;q=0\r\n");
        assert_eq!(refused.header("content-encoding"), None, "{path}");
    }
    // A zone outside the JSON schema's name pattern is still named, as the XML names it.
    let mut n = Node::in_memory(Identity::from_seed(37_001)).expect("node");
    let f = n
        .create_festival(NewFestival {
            name: "Polar night".into(),
            description: String::new(),
            timezone: "Etc/UTC".into(),
            start_date: jiff::civil::date(2026, 12, 20),
            end_date: jiff::civil::date(2026, 12, 21),
            place: String::new(),
            day_change_minutes: 0,
        })
        .expect("festival");
    let polar = serve_with(n, f, |_| {});
    let (doc, _) = json_events(&get(polar.addr(), "/schedule.json").body);
    assert_eq!(doc["schedule"]["conference"]["time_zone_name"].as_str(), Some("Etc/UTC"));
    assert!(get(polar.addr(), "/schedule.xml").text().contains("<time_zone_name>Etc/UTC</time_zone_name>"));
}
