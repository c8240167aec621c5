//! The live programme as the feeds schedule apps poll: frab/Pentabarf `schedule.xml` (valid
//! against the C3VOC schedule XSD) and the C3VOC `schedule.json`. Both come from one layout
//! (conference, days, rooms, events with stable numeric ids and UUIDs), so they always agree.
//!
//! What goes in: the official programme that is not cancelled. Apps such as EventFahrplan show
//! an event that disappears from the feed as cancelled, and community events are not vouched
//! for by the organisers (a calendar app would carry anyone's spam).

use std::collections::{BTreeMap, HashSet};
use std::io::Cursor;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde_json::{Value, json};

use super::ExchangeError;
use crate::view::{EventDetail, FestivalView, VenueView};

/// The generator name both feeds carry.
pub const GENERATOR: &str = "meadow";

/// A UUID (8-4-4-4-12 hex digits) made of the first 16 bytes of an id.
fn uuid_of(bytes: &[u8; 32]) -> String {
    let h: String = bytes[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Whether `s` is a UUID as the XSD spells one.
fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Letters and digits of `s`, lower case, runs of anything else as one `sep`.
fn slugify(s: &str, sep: char) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(sep) {
            out.push(sep);
        }
    }
    out.trim_end_matches(sep).to_owned()
}

/// The conference acronym: both schemas want at least four of `[a-z0-9_]` (the JSON schema
/// allows no hyphen after the first character).
pub fn acronym(festival: &FestivalView) -> String {
    let mut a: String = slugify(&festival.name, '_').chars().take(32).collect();
    if a.len() < 4 {
        if !a.is_empty() {
            a.push('_');
        }
        a.push_str(&festival.id.to_hex()[..8]);
    }
    a
}

/// Characters XML 1.0 cannot carry at all (most C0 controls) are dropped.
fn xml_clean(s: &str) -> String {
    s.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || (*c >= ' ' && *c != '\u{fffe}' && *c != '\u{ffff}'))
        .collect()
}

fn http_url(u: &str) -> bool {
    let l = u.to_ascii_lowercase();
    (l.starts_with("http://") || l.starts_with("https://")) && !u.chars().any(char::is_whitespace)
}

/// Largest event id the feeds write: apps (EventFahrplan's JSON model among them) read event ids
/// as signed 32-bit integers, and drop every event whose id does not fit.
pub const MAX_FEED_ID: u32 = i32::MAX as u32;

/// A feed id in `1..=MAX_FEED_ID` derived from `key`.
fn hashed_id(key: &[u8]) -> u32 {
    let h = blake3::hash(key);
    let b = h.as_bytes();
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) % MAX_FEED_ID + 1
}

/// The guid an event or room had in its source schedule: a source id is `scope#guid` (a room's
/// `scope#room:guid`).
fn source_guid(source_id: &str) -> Option<String> {
    let (_, guid) = source_id.split_once('#')?;
    let guid = guid.strip_prefix("room:").unwrap_or(guid);
    is_uuid(guid).then(|| guid.to_ascii_lowercase())
}

/// One published event.
#[derive(Debug, Clone)]
pub struct PubEvent {
    /// Numeric id, unique in the feed, in `1..=MAX_FEED_ID`.
    pub id: u32,
    /// UUID, unique in the feed.
    pub guid: String,
    /// Start, Unix seconds (of this part, for a long event).
    pub at: i64,
    /// `YYYY-MM-DDTHH:MM:SS+HH:MM` in the festival's zone.
    pub date: String,
    /// `HH:MM` local start.
    pub start: String,
    /// `HH:MM` (or `HH:MM:SS`) duration, hours below 24.
    pub duration: String,
    /// End in the festival's zone.
    pub end: String,
    /// Slug, unique in the feed.
    pub slug: String,
    /// The event page: its own page, else the first web link, if it has one.
    pub url: Option<String>,
    /// For an event of 24 hours or more, which of its days this entry is (1-based) and how many
    /// there are; such an event is written once per festival day it runs on.
    pub part: Option<(usize, usize)>,
    /// Title as written (a part says which).
    pub title: String,
    /// Description as written (a part says when the whole event runs).
    pub description: String,
    /// The detail it is made from.
    pub detail: EventDetail,
}

/// One day of the feed.
#[derive(Debug, Clone)]
pub struct PubDay {
    /// 1-based index.
    pub index: u32,
    /// The festival day.
    pub date: Date,
    /// When it starts and ends (the day change), with offsets.
    pub start: String,
    /// End.
    pub end: String,
    /// Rooms in the festival's order, each with its events by start.
    pub rooms: Vec<(String, Vec<PubEvent>)>,
}

/// The layout both feeds share.
#[derive(Debug, Clone)]
pub struct Published {
    /// The festival.
    pub festival: FestivalView,
    /// Conference acronym.
    pub acronym: String,
    /// Version text (the store revision the feed was made at).
    pub version: String,
    /// Rooms: name and UUID.
    pub rooms: Vec<(String, String)>,
    /// Days, in order.
    pub days: Vec<PubDay>,
}

fn stamp(secs: i64, tz: &TimeZone) -> Result<jiff::ZonedDateTime, ExchangeError> {
    Ok(jiff::Timestamp::from_second(secs)
        .map_err(|e| ExchangeError::Invalid(format!("time {secs}: {e}")))?
        .to_zoned_datetime(tz.clone()))
}

fn rfc3339(z: &jiff::ZonedDateTime) -> String {
    let off = z.offset().seconds();
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    format!("{}{sign}{:02}:{:02}", z.strftime("%Y-%m-%dT%H:%M:%S"), a / 3600, (a % 3600) / 60)
}

/// A duration as schedule apps read it: `HH:MM` (or `HH:MM:SS`) with hours below 24, because
/// Giggity reads it as a clock time and refuses the whole file at hour 24. Longer events are
/// split by day before they get here; a part that still reaches 24 hours (a festival day with a
/// clock change is 25 hours long) is written as 23:59.
fn duration_text(secs: i64) -> String {
    let secs = secs.clamp(0, 23 * 3600 + 59 * 60);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if s == 0 { format!("{h:02}:{m:02}") } else { format!("{h:02}:{m:02}:{s:02}") }
}

/// The moment festival day `date` begins, in the festival's zone.
fn day_begins(date: Date, day_change_minutes: u16, tz: &TimeZone) -> Result<jiff::ZonedDateTime, ExchangeError> {
    let change = jiff::civil::Time::new((day_change_minutes / 60).min(23) as i8, (day_change_minutes % 60) as i8, 0, 0)
        .unwrap_or_default();
    date.to_datetime(change).to_zoned_datetime(tz.clone()).map_err(|e| ExchangeError::Invalid(e.to_string()))
}

/// The stretches `[start, end)` of an event of 24 hours or more, one per festival day it runs
/// on; a shorter event is one stretch, whatever days it crosses.
fn parts(festival: &FestivalView, tz: &TimeZone, start: i64, end: i64) -> Result<Vec<(i64, i64)>, ExchangeError> {
    if end - start < 24 * 3600 {
        return Ok(vec![(start, end)]);
    }
    let mut out = Vec::new();
    let (mut from, mut day) = (start, crate::model::festival_day(tz, festival.day_change_minutes, start));
    while from < end {
        let next = day.tomorrow().map_err(|e| ExchangeError::Invalid(e.to_string()))?;
        let until = day_begins(next, festival.day_change_minutes, tz)?.timestamp().as_second().min(end);
        if until > from {
            out.push((from, until));
        }
        (from, day) = (until.max(from + 1), next);
    }
    Ok(out)
}

/// One entry of the feed before ids are given: an event, or one day of a long one.
struct Entry {
    detail: EventDetail,
    /// Which part, 1-based, and how many.
    part: (usize, usize),
    start: i64,
    end: i64,
}

impl Entry {
    /// What the entry's id and derived guid come from: the source's id for an imported event
    /// (so that every node that imports the same file agrees), else the event's op id.
    fn key(&self) -> Vec<u8> {
        let d = &self.detail;
        let mut key =
            if d.source_id.is_empty() { d.event.id.as_bytes().to_vec() } else { d.source_id.as_bytes().to_vec() };
        if self.part.0 > 1 {
            key.extend_from_slice(format!("/part/{}", self.part.0).as_bytes());
        }
        key
    }
}

/// Numeric ids and guids for the entries, the same on every node that holds the same events:
/// first every source number and source guid is given to the first event (by op id) that claims
/// it, then every other entry takes the id its key hashes to, or the next free one.
fn assign_ids(entries: &[Entry]) -> (Vec<u32>, Vec<String>) {
    let n = entries.len();
    let (mut ids, mut guids) = (vec![0u32; n], vec![String::new(); n]);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        (entries[a].detail.event.id, entries[a].part.0).cmp(&(entries[b].detail.event.id, entries[b].part.0))
    });
    let (mut taken_ids, mut taken_guids) = (HashSet::new(), HashSet::new());
    for &i in &order {
        let e = &entries[i];
        if e.part.0 == 1 {
            if let Some(num) = e.detail.source_number.filter(|n| (1..=MAX_FEED_ID).contains(n))
                && taken_ids.insert(num)
            {
                ids[i] = num;
            }
            if let Some(g) = source_guid(&e.detail.source_id)
                && taken_guids.insert(g.clone())
            {
                guids[i] = g;
            }
        }
    }
    for &i in &order {
        let key = entries[i].key();
        if ids[i] == 0 {
            let mut id = hashed_id(&key);
            while !taken_ids.insert(id) {
                id = if id >= MAX_FEED_ID { 1 } else { id + 1 };
            }
            ids[i] = id;
        }
        if guids[i].is_empty() {
            let from = if entries[i].detail.source_id.is_empty() && entries[i].part.0 == 1 {
                *entries[i].detail.event.id.as_bytes()
            } else {
                *blake3::hash(&key).as_bytes()
            };
            let mut guid = uuid_of(&from);
            let mut salt = 0u32;
            while !taken_guids.insert(guid.clone()) {
                salt += 1;
                guid = uuid_of(blake3::hash(&[&key[..], &salt.to_be_bytes()].concat()).as_bytes());
            }
            guids[i] = guid;
        }
    }
    (ids, guids)
}

/// Lays out the official events that are not cancelled (`events` by start) for the feeds.
pub fn layout(
    festival: &FestivalView,
    venues: &[VenueView],
    events: Vec<EventDetail>,
    revision: i64,
) -> Result<Published, ExchangeError> {
    let tz = TimeZone::get(&festival.timezone).unwrap_or(TimeZone::UTC);
    let acronym = acronym(festival);
    let room_guid = |name: &str| -> String {
        venues
            .iter()
            .find(|v| v.name == name)
            .map(|v| match source_guid(&v.source_id) {
                Some(g) => g,
                None if !v.source_id.is_empty() => uuid_of(blake3::hash(v.source_id.as_bytes()).as_bytes()),
                None => uuid_of(v.id.as_bytes()),
            })
            .unwrap_or_else(|| uuid_of(blake3::hash(name.as_bytes()).as_bytes()))
    };
    let mut room_order: Vec<String> = venues.iter().map(|v| v.name.clone()).collect();
    let mut by_day: BTreeMap<Date, BTreeMap<usize, Vec<PubEvent>>> = BTreeMap::new();
    let mut d = festival.start_date;
    while d <= festival.end_date {
        by_day.entry(d).or_default();
        match d.tomorrow() {
            Ok(n) => d = n,
            Err(_) => break,
        }
    }
    let mut entries = Vec::new();
    for detail in events.into_iter().filter(|e| e.event.official && !e.event.cancelled) {
        let (start, end) = (detail.event.start, detail.event.end.max(detail.event.start));
        let stretches = parts(festival, &tz, start, end)?;
        let count = stretches.len();
        for (k, (s, e)) in stretches.into_iter().enumerate() {
            entries.push(Entry { detail: detail.clone(), part: (k + 1, count), start: s, end: e });
        }
    }
    let (ids, guids) = assign_ids(&entries);
    let mut slugs = HashSet::new();
    for ((entry, id), guid) in entries.into_iter().zip(ids).zip(guids) {
        let Entry { detail, part, start: s, end: e_end } = entry;
        let e = &detail.event;
        let mut slug = format!("{acronym}-{id}");
        let title = slugify(&e.title, '-');
        if !title.is_empty() {
            slug.push('-');
            slug.extend(title.chars().take(48));
        }
        let slug = slug.trim_end_matches('-').to_owned();
        slugs.insert(slug.clone());
        let start = stamp(s, &tz)?;
        let end = stamp(e_end, &tz)?;
        let url = Some(detail.url.clone())
            .filter(|u| http_url(u))
            .or_else(|| detail.links.iter().find(|l| http_url(&l.url)).map(|l| l.url.clone()));
        let day = if part.1 > 1 {
            crate::model::festival_day(&tz, festival.day_change_minutes, s)
        } else {
            Date::strptime("%Y-%m-%d", &e.day).unwrap_or(start.date())
        };
        let (title, description) = if part.1 > 1 {
            let (whole_start, whole_end) = (stamp(e.start, &tz)?, stamp(e.end.max(e.start), &tz)?);
            let note = format!(
                "Runs from {} to {} (day {} of {}).",
                whole_start.strftime("%a %d %b %H:%M"),
                whole_end.strftime("%a %d %b %H:%M"),
                part.0,
                part.1
            );
            let description =
                if detail.description.is_empty() { note } else { format!("{note}\n\n{}", detail.description) };
            (format!("{} (day {} of {})", e.title, part.0, part.1), description)
        } else {
            (e.title.clone(), detail.description.clone())
        };
        let room = match room_order.iter().position(|r| *r == e.venue_name) {
            Some(i) => i,
            None => {
                room_order.push(e.venue_name.clone());
                room_order.len() - 1
            }
        };
        by_day.entry(day).or_default().entry(room).or_default().push(PubEvent {
            id,
            guid,
            at: s,
            date: rfc3339(&start),
            start: start.strftime("%H:%M").to_string(),
            duration: duration_text(e_end - s),
            end: rfc3339(&end),
            slug,
            url,
            part: (part.1 > 1).then_some(part),
            title,
            description,
            detail,
        });
    }
    let mut days = Vec::new();
    for (i, (date, mut rooms)) in by_day.into_iter().enumerate() {
        let begin = day_begins(date, festival.day_change_minutes, &tz)?;
        let next = day_begins(date.tomorrow().unwrap_or(date), festival.day_change_minutes, &tz)?;
        let finish = stamp(next.timestamp().as_second() - 1, &tz)?;
        for evs in rooms.values_mut() {
            evs.sort_by_key(|e| (e.at, e.id));
        }
        days.push(PubDay {
            index: i as u32 + 1,
            date,
            start: rfc3339(&begin),
            end: rfc3339(&finish),
            rooms: rooms.into_iter().map(|(r, evs)| (room_order[r].clone(), evs)).collect(),
        });
    }
    let rooms = room_order.iter().map(|r| (r.clone(), room_guid(r))).collect();
    Ok(Published { festival: festival.clone(), acronym, version: format!("meadow-{revision}"), rooms, days })
}

fn io(e: std::io::Error) -> ExchangeError {
    ExchangeError::Invalid(format!("writing the feed: {e}"))
}

type XmlWriter = Writer<Cursor<Vec<u8>>>;

fn text_el(w: &mut XmlWriter, name: &str, text: &str) -> std::io::Result<()> {
    w.create_element(name).write_text_content(BytesText::new(&xml_clean(text)))?;
    Ok(())
}

fn xml_event(w: &mut XmlWriter, ev: &PubEvent, room: &str) -> std::io::Result<()> {
    let (id, e) = (ev.id.to_string(), &ev.detail.event);
    w.create_element("event")
        .with_attribute(("id", id.as_str()))
        .with_attribute(("guid", ev.guid.as_str()))
        .write_inner_content(|w| {
            text_el(w, "room", room)?;
            text_el(w, "title", &ev.title)?;
            text_el(w, "subtitle", &e.subtitle)?;
            text_el(w, "type", &e.kind)?;
            text_el(w, "date", &ev.date)?;
            text_el(w, "start", &ev.start)?;
            text_el(w, "duration", &ev.duration)?;
            text_el(w, "abstract", "")?;
            text_el(w, "slug", &ev.slug)?;
            text_el(w, "track", &e.track)?;
            text_el(w, "language", &ev.detail.language)?;
            text_el(w, "description", &ev.description)?;
            if ev.detail.do_not_record || !ev.detail.recording_license.is_empty() {
                w.create_element("recording").write_inner_content(|w| {
                    text_el(w, "license", &ev.detail.recording_license)?;
                    text_el(w, "optout", if ev.detail.do_not_record { "true" } else { "false" })?;
                    Ok(())
                })?;
            }
            w.create_element("persons").write_inner_content(|w| {
                for p in &e.people {
                    text_el(w, "person", p)?;
                }
                Ok(())
            })?;
            w.create_element("links").write_inner_content(|w| {
                for l in ev.detail.links.iter().filter(|l| Some(&l.url) != ev.url.as_ref()) {
                    let href = xml_clean(&l.url);
                    w.create_element("link")
                        .with_attribute(("href", href.as_str()))
                        .write_text_content(BytesText::new(&xml_clean(&l.title)))?;
                }
                Ok(())
            })?;
            if let Some(url) = &ev.url {
                text_el(w, "url", url)?;
            }
            Ok(())
        })?;
    Ok(())
}

/// frab/Pentabarf `schedule.xml`, valid against the C3VOC schedule XSD.
pub fn to_frab_xml(p: &Published) -> Result<String, ExchangeError> {
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))).map_err(io)?;
    let f = &p.festival;
    w.create_element("schedule")
        .write_inner_content(|w| {
            w.create_element("generator")
                .with_attribute(("name", GENERATOR))
                .with_attribute(("version", env!("CARGO_PKG_VERSION")))
                .write_empty()?;
            text_el(w, "version", &p.version)?;
            w.create_element("conference").write_inner_content(|w| {
                text_el(w, "title", &f.name)?;
                text_el(w, "acronym", &p.acronym)?;
                text_el(w, "start", &f.start_date.to_string())?;
                text_el(w, "end", &f.end_date.to_string())?;
                text_el(w, "days", &p.days.len().to_string())?;
                text_el(w, "timeslot_duration", "00:05")?;
                text_el(w, "time_zone_name", &f.timezone)?;
                // frab's own element, which the C3VOC XSD leaves out: readers that know it cut the
                // days where Meadow does (each <day> also says where it starts and ends).
                let dc = f.day_change_minutes;
                text_el(w, "day_change", &format!("{:02}:{:02}:00", dc / 60, dc % 60))?;
                Ok(())
            })?;
            for day in &p.days {
                let (index, date) = (day.index.to_string(), day.date.to_string());
                w.create_element("day")
                    .with_attribute(("index", index.as_str()))
                    .with_attribute(("date", date.as_str()))
                    .with_attribute(("start", day.start.as_str()))
                    .with_attribute(("end", day.end.as_str()))
                    .write_inner_content(|w| {
                        for (room, events) in &day.rooms {
                            let guid = p.rooms.iter().find(|(n, _)| n == room).map(|(_, g)| g.as_str()).unwrap_or("");
                            let name = xml_clean(room);
                            w.create_element("room")
                                .with_attribute(("name", name.as_str()))
                                .with_attribute(("guid", guid))
                                .write_inner_content(|w| {
                                    for ev in events {
                                        xml_event(w, ev, room)?;
                                    }
                                    Ok(())
                                })?;
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        })
        .map_err(io)?;
    String::from_utf8(w.into_inner().into_inner()).map_err(|e| ExchangeError::Invalid(e.to_string()))
}

/// The C3VOC `schedule.json` (the frab layout), valid against the validator's `schema.json`.
pub fn to_schedule_json(p: &Published) -> Result<String, ExchangeError> {
    let f = &p.festival;
    let days: Vec<Value> = p
        .days
        .iter()
        .map(|day| {
            let rooms: serde_json::Map<String, Value> = day
                .rooms
                .iter()
                .map(|(room, events)| {
                    let list = events
                        .iter()
                        .map(|ev| {
                            let (e, d) = (&ev.detail.event, &ev.detail);
                            json!({
                                "id": ev.id,
                                "guid": ev.guid,
                                "date": ev.date,
                                "start": ev.start,
                                "end": ev.end,
                                "duration": ev.duration,
                                "room": room,
                                "slug": ev.slug,
                                // The schema requires a URI: without a web link, the event's UUID is one.
                                "url": ev.url.clone().unwrap_or_else(|| format!("urn:uuid:{}", ev.guid)),
                                "title": ev.title,
                                "subtitle": e.subtitle,
                                "track": e.track,
                                "type": e.kind,
                                "language": d.language,
                                "abstract": "",
                                "description": ev.description,
                                "do_not_record": d.do_not_record,
                                "recording_license": d.recording_license,
                                "persons": e.people.iter().map(|n| json!({ "name": n })).collect::<Vec<_>>(),
                                "links": d.links.iter().filter(|l| Some(&l.url) != ev.url.as_ref())
                                    .map(|l| json!({ "url": l.url, "title": l.title })).collect::<Vec<_>>(),
                            })
                        })
                        .collect();
                    (room.clone(), Value::Array(list))
                })
                .collect();
            json!({
                "index": day.index,
                "date": day.date.to_string(),
                "day_start": day.start,
                "day_end": day.end,
                "rooms": rooms,
            })
        })
        .collect();
    let mut conference = json!({
        "acronym": p.acronym,
        "title": f.name,
        "start": f.start_date.to_string(),
        "end": f.end_date.to_string(),
        "daysCount": p.days.len(),
        "timeslot_duration": "00:05",
        "rooms": p.rooms.iter().map(|(n, g)| json!({ "name": n, "guid": g })).collect::<Vec<_>>(),
        "days": days,
    });
    // Always named, as in the XML: apps on phones set to another zone need it to keep festival
    // days. A few IANA names (`Etc/GMT-2`) fall outside the JSON schema's pattern; naming the
    // zone matters more to readers than that pattern.
    if let Some(obj) = conference.as_object_mut() {
        obj.insert("time_zone_name".into(), Value::String(f.timezone.clone()));
    }
    if !f.description.is_empty()
        && let Some(obj) = conference.as_object_mut()
    {
        obj.insert("description".into(), Value::String(f.description.clone()));
    }
    let doc = json!({
        "$schema": "https://c3voc.de/schedule/schema.json",
        "generator": { "name": GENERATOR, "version": env!("CARGO_PKG_VERSION") },
        "schedule": { "version": p.version, "conference": conference },
    });
    serde_json::to_string_pretty(&doc).map_err(|e| ExchangeError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_fit_the_schemas() {
        assert!(is_uuid(&uuid_of(&[0xab; 32])));
        assert!(!is_uuid("not-a-uuid"));
        assert_eq!(slugify("Späti & Co.  2026!", '_'), "sp_ti_co_2026");
        assert_eq!(duration_text(5400), "01:30");
        assert_eq!(duration_text(61), "00:01:01");
        assert_eq!(duration_text(25 * 3600), "23:59");
        assert_eq!(hashed_id(b""), hashed_id(b""));
        assert!((1..=MAX_FEED_ID).contains(&hashed_id(b"x")));
        assert_eq!(
            source_guid("conf#3FA85F64-5717-4562-B3FC-2C963F66AFA6").as_deref(),
            Some("3fa85f64-5717-4562-b3fc-2c963f66afa6")
        );
        assert_eq!(source_guid("conf#3fa85f64-5717-4562-b3fc-2c963f66afa6#2"), None);
        assert_eq!(source_guid("conf#id:17"), None);
        assert_eq!(
            source_guid("conf#room:F10D0000-0000-4000-8000-00000000000A").as_deref(),
            Some("f10d0000-0000-4000-8000-00000000000a")
        );
        assert_eq!(xml_clean("a\u{1}b\u{b}c\n"), "abc\n");
    }
}
