//! The schedule JSON that frab and pretalx publish (`schedule` → `conference` → `days` → `rooms`
//! → events), as described by the C3VOC schedule validator's JSON schema. Real files vary: ids
//! may be numbers or strings, optional fields may be missing or `null`, persons may carry
//! `public_name` or `name`. Errors name the JSON path.

use jiff::tz::TimeZone;
use serde_json::Value;

use super::ExchangeError;
use super::schedule::{
    Conference, Room, Schedule, ScheduleEvent, day_change_from_day_starts, html_to_text, parse_clock_minutes,
    parse_date, parse_duration_from, parse_error, parse_instant,
};
use crate::op::Link;

/// A JSON value together with where it sits in the file.
#[derive(Clone, Copy)]
struct At<'a> {
    v: &'a Value,
    path: &'a str,
}

fn field<'a>(obj: At<'a>, key: &str, path: &'a mut String) -> Option<At<'a>> {
    *path = format!("{}.{key}", obj.path);
    match obj.v.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => Some(At { v, path }),
    }
}

/// Text of a scalar field: strings as they are, numbers and booleans written out; absent or null
/// is empty.
fn text(obj: At<'_>, key: &str) -> Result<String, ExchangeError> {
    match obj.v.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(other) => {
            Err(parse_error(format!("{}.{key}", obj.path), format!("expected text, found {}", kind_of(other))))
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn object<'a>(at: At<'a>) -> Result<&'a serde_json::Map<String, Value>, ExchangeError> {
    at.v.as_object().ok_or_else(|| parse_error(at.path, format!("expected an object, found {}", kind_of(at.v))))
}

fn array<'a>(at: At<'a>) -> Result<&'a Vec<Value>, ExchangeError> {
    at.v.as_array().ok_or_else(|| parse_error(at.path, format!("expected a list, found {}", kind_of(at.v))))
}

/// Parses a schedule JSON document.
pub fn parse(bytes: &[u8]) -> Result<Schedule, ExchangeError> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| {
        let reason = match e.classify() {
            serde_json::error::Category::Eof => "the file ends in the middle of the document".to_owned(),
            _ => e.to_string().split(" at line").next().unwrap_or_default().to_owned(),
        };
        parse_error(format!("line {}, column {}", e.line(), e.column()), reason)
    })?;
    let root = At { v: &root, path: "$" };
    object(root)?;
    let mut p = String::new();
    let schedule = field(root, "schedule", &mut p).ok_or_else(|| parse_error("$", "no \"schedule\" object"))?;
    let schedule_path = schedule.path.to_owned();
    let schedule = At { v: schedule.v, path: &schedule_path };
    object(schedule)?;
    let mut p = String::new();
    let conf =
        field(schedule, "conference", &mut p).ok_or_else(|| parse_error(schedule.path, "no \"conference\" object"))?;
    let conf_path = conf.path.to_owned();
    let conf = At { v: conf.v, path: &conf_path };
    object(conf)?;

    let timezone = Some(text(conf, "time_zone_name")?).filter(|s| !s.trim().is_empty());
    let tz = timezone.as_deref().and_then(|t| TimeZone::get(t).ok()).unwrap_or(TimeZone::UTC);
    let mut conference = Conference {
        title: text(conf, "title")?,
        acronym: text(conf, "acronym")?,
        start: parse_date(&text(conf, "start")?),
        end: parse_date(&text(conf, "end")?),
        timezone,
        day_change_minutes: parse_clock_minutes(&text(conf, "day_change")?),
        url: text(conf, "url")?,
    };

    let mut rooms: Vec<Room> = Vec::new();
    let mut p = String::new();
    if let Some(list) = field(conf, "rooms", &mut p) {
        let list_path = list.path.to_owned();
        for (i, r) in array(list)?.iter().enumerate() {
            let path = format!("{list_path}[{i}]");
            let at = At { v: r, path: &path };
            let (name, guid) = match r {
                Value::String(s) => (s.clone(), None),
                _ => {
                    object(at)?;
                    (text(at, "name")?, Some(text(at, "guid")?).filter(|g| !g.is_empty()))
                }
            };
            if !name.trim().is_empty() {
                rooms.push(Room { name, guid });
            }
        }
    }

    let pretalx =
        root.v.pointer("/generator/name").and_then(Value::as_str).is_some_and(|g| g.to_lowercase().contains("pretalx"));
    let mut events = Vec::new();
    let mut day_starts = Vec::new();
    let mut p = String::new();
    let days = field(conf, "days", &mut p).ok_or_else(|| parse_error(conf.path, "no \"days\" list"))?;
    let days_path = days.path.to_owned();
    for (di, day) in array(At { v: days.v, path: &days_path })?.iter().enumerate() {
        let day_path = format!("{days_path}[{di}]");
        let day = At { v: day, path: &day_path };
        object(day)?;
        let day_date = text(day, "date")?;
        day_starts.push(text(day, "day_start")?);
        let mut p = String::new();
        let Some(day_rooms) = field(day, "rooms", &mut p) else { continue };
        let rooms_path = day_rooms.path.to_owned();
        for (room_name, list) in object(At { v: day_rooms.v, path: &rooms_path })? {
            let room_path = format!("{rooms_path}[{room_name:?}]");
            if !rooms.iter().any(|r| &r.name == room_name) {
                rooms.push(Room { name: room_name.clone(), guid: None });
            }
            for (ei, ev) in array(At { v: list, path: &room_path })?.iter().enumerate() {
                let path = format!("{room_path}[{ei}]");
                events.push(event(At { v: ev, path: &path }, room_name, &day_date, &tz, pretalx)?);
            }
        }
    }
    if conference.day_change_minutes.is_none() {
        conference.day_change_minutes = day_change_from_day_starts(day_starts.iter().map(String::as_str));
    }
    if conference.start.is_none() {
        conference.start = events.iter().map(|e| e.start).min().and_then(|s| day_of(s, &tz));
    }
    if conference.end.is_none() {
        conference.end = events.iter().map(|e| e.start).max().and_then(|s| day_of(s, &tz));
    }
    Ok(Schedule { conference, rooms, events })
}

fn day_of(secs: i64, tz: &TimeZone) -> Option<jiff::civil::Date> {
    jiff::Timestamp::from_second(secs).ok().map(|t| t.to_zoned_datetime(tz.clone()).date())
}

fn event(at: At<'_>, room: &str, day_date: &str, tz: &TimeZone, pretalx: bool) -> Result<ScheduleEvent, ExchangeError> {
    object(at)?;
    let place = at.path.to_owned();
    let date = text(at, "date")?;
    let start = if !date.trim().is_empty() {
        parse_instant(&date, tz)
            .ok_or_else(|| parse_error(format!("{place}.date"), format!("cannot read time {date:?}")))?
    } else {
        let clock = text(at, "start")?;
        parse_instant(&format!("{day_date}T{}", clock.trim()), tz).ok_or_else(|| {
            parse_error(format!("{place}.start"), format!("cannot read start {clock:?} on day {day_date:?}"))
        })?
    };
    let duration = text(at, "duration")?;
    let end_text = text(at, "end")?;
    // pretalx also writes the end as a timestamp, which is unambiguous.
    let secs = if let Some(end) = parse_instant(&end_text, tz).filter(|e| *e >= start) {
        end - start
    } else if duration.trim().is_empty() {
        0
    } else {
        parse_duration_from(&duration, pretalx)
            .ok_or_else(|| parse_error(format!("{place}.duration"), format!("cannot read duration {duration:?}")))?
    };
    let guid = Some(text(at, "guid")?)
        .filter(|g| !g.trim().is_empty())
        .or_else(|| text(at, "id").ok().filter(|i| !i.trim().is_empty()).map(|i| format!("id:{i}")))
        .unwrap_or_default();
    let abstract_ = text(at, "abstract")?;
    let description = text(at, "description")?;
    let mut persons = Vec::new();
    if let Some(list) = at.v.get("persons").filter(|v| !v.is_null()) {
        let path = format!("{place}.persons");
        for (i, p) in array(At { v: list, path: &path })?.iter().enumerate() {
            let name = match p {
                Value::String(s) => s.clone(),
                Value::Object(_) => {
                    let pp = format!("{path}[{i}]");
                    let at = At { v: p, path: &pp };
                    let public = text(at, "public_name")?;
                    if public.trim().is_empty() { text(at, "name")? } else { public }
                }
                other => {
                    return Err(parse_error(
                        format!("{path}[{i}]"),
                        format!("expected a person, found {}", kind_of(other)),
                    ));
                }
            };
            if !name.trim().is_empty() {
                persons.push(name.trim().to_owned());
            }
        }
    }
    let mut links = Vec::new();
    let url = text(at, "url")?;
    if !url.trim().is_empty() {
        links.push(Link { url: url.trim().to_owned(), title: "Event page".into() });
    }
    if let Some(list) = at.v.get("links").filter(|v| !v.is_null()) {
        let path = format!("{place}.links");
        for (i, l) in array(At { v: list, path: &path })?.iter().enumerate() {
            let (url, title) = match l {
                Value::String(s) => (s.clone(), String::new()),
                Value::Object(_) => {
                    let lp = format!("{path}[{i}]");
                    let at = At { v: l, path: &lp };
                    let u = text(at, "url")?;
                    (if u.is_empty() { text(at, "href")? } else { u }, text(at, "title")?)
                }
                other => {
                    return Err(parse_error(
                        format!("{path}[{i}]"),
                        format!("expected a link, found {}", kind_of(other)),
                    ));
                }
            };
            if !url.trim().is_empty() {
                links.push(Link { url: url.trim().to_owned(), title: title.trim().to_owned() });
            }
        }
    }
    let room_field = text(at, "room")?;
    Ok(ScheduleEvent {
        guid,
        start,
        end: start + secs,
        room: if room_field.trim().is_empty() { room.to_owned() } else { room_field },
        title: text(at, "title")?,
        subtitle: text(at, "subtitle")?,
        track: text(at, "track")?,
        kind: text(at, "type")?,
        language: text(at, "language")?,
        description: join_texts(&abstract_, &description),
        persons,
        links,
        cancelled: false,
        place,
    })
}

/// Joins an abstract and a description (HTML turned into text) without repeating one that
/// contains the other.
pub fn join_texts(abstract_: &str, description: &str) -> String {
    let (a, d) = (html_to_text(abstract_), html_to_text(description));
    let (a, d) = (a.trim(), d.trim());
    if a.is_empty() || d.contains(a) {
        d.to_owned()
    } else if d.is_empty() || a.contains(d) {
        a.to_owned()
    } else {
        format!("{a}\n\n{d}")
    }
}
