//! The schedule JSON that frab and pretalx publish, as described by the C3VOC schedule
//! validator's JSON schemas: the classic layout (`schedule` → `conference` → `days` → `rooms` →
//! events) and "schedule 2" (`schedule.events`, with rooms and tracks under `conference`), which
//! newer event hubs publish. Real files vary: ids may be numbers or strings, optional fields may
//! be missing or `null`, persons may carry `public_name` or `name`, text may be a map of
//! languages. A value of the wrong type (a number where a date belongs) fails the import with a
//! message naming the field and the event.

use std::collections::HashMap;

use jiff::tz::TimeZone;
use serde_json::{Map, Value};

use super::ExchangeError;
use super::schedule::{
    Conference, Instant, Room, Schedule, ScheduleEvent, day_change_from_day_starts, html_to_text, inclusive_end,
    parse_clock_minutes, parse_date, parse_duration_from, parse_error, read_instant, source_number,
};
use crate::op::Link;

/// A JSON object together with where it sits in the file and what it is, for messages.
#[derive(Clone, Copy)]
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
    /// What it is, in words (`event "Opening"`), when that says more than the path.
    what: Option<&'a str>,
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

impl<'a> Obj<'a> {
    fn of(v: &'a Value, path: &'a str, what: Option<&'a str>) -> Result<Obj<'a>, ExchangeError> {
        match v {
            Value::Object(map) => Ok(Obj { map, path, what }),
            other => Err(parse_error(path, format!("expected an object, found {}", kind_of(other)))),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn wrong(&self, key: &str, expected: &str, found: &Value) -> ExchangeError {
        let place = match self.what {
            Some(w) => format!("{}.{key} ({w})", self.path),
            None => format!("{}.{key}", self.path),
        };
        parse_error(place, format!("expected {expected}, found {}", kind_of(found)))
    }

    /// A text field: text, or absent/null (empty). Anything else is an error.
    fn text(&self, key: &str) -> Result<String, ExchangeError> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.wrong(key, "text", other)),
        }
    }

    /// A yes/no field: a boolean, or absent/null (`None`).
    fn flag(&self, key: &str) -> Result<Option<bool>, ExchangeError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(key, "true or false", other)),
        }
    }

    /// An identifier: text or a whole number (files write ids both ways).
    fn id(&self, key: &str) -> Result<String, ExchangeError> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.trim().to_owned()),
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
            Some(other) => Err(self.wrong(key, "text or a whole number", other)),
        }
    }

    /// Text that may be given per language (`{"en": "...", "de": "..."}`): English, else the
    /// first language.
    fn localized(&self, key: &str) -> Result<String, ExchangeError> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Object(m)) => {
                let pick = m.get("en").or_else(|| m.values().next());
                match pick {
                    None | Some(Value::Null) => Ok(String::new()),
                    Some(Value::String(s)) => Ok(s.clone()),
                    Some(other) => Err(self.wrong(key, "text in each language", other)),
                }
            }
            Some(other) => Err(self.wrong(key, "text", other)),
        }
    }

    fn list(&self, key: &str) -> Result<&'a [Value], ExchangeError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(self.wrong(key, "a list", other)),
        }
    }

    fn object(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, ExchangeError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(other) => Err(self.wrong(key, "an object", other)),
        }
    }
}

/// Parses a schedule JSON document.
pub fn parse(bytes: &[u8]) -> Result<Schedule, ExchangeError> {
    parse_in(bytes, None)
}

/// Parses a schedule JSON document, reading local times (those without an offset) in `zone` if
/// given, else in the zone the file declares, else in UTC.
pub fn parse_in(bytes: &[u8], zone: Option<&TimeZone>) -> Result<Schedule, ExchangeError> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| {
        let reason = match e.classify() {
            serde_json::error::Category::Eof => "the file ends in the middle of the document".to_owned(),
            _ => e.to_string().split(" at line").next().unwrap_or_default().to_owned(),
        };
        parse_error(format!("line {}, column {}", e.line(), e.column()), reason)
    })?;
    let root_obj = Obj::of(&root, "$", None)?;
    let Some(schedule) = root_obj.get("schedule") else {
        let keys: Vec<&str> = root_obj.map.keys().map(String::as_str).take(8).collect();
        return Err(parse_error(
            "$",
            format!(
                "JSON, but not a schedule: no \"schedule\" object (top-level keys: {}); Meadow reads the frab/pretalx \
                 schedule JSON and C3VOC schedule 2",
                if keys.is_empty() { "none".into() } else { keys.join(", ") }
            ),
        ));
    };
    let schedule = Obj::of(schedule, "$.schedule", None)?;
    let conf = schedule
        .get("conference")
        .ok_or_else(|| parse_error("$.schedule", "no \"conference\" object"))
        .and_then(|c| Obj::of(c, "$.schedule.conference", None))?;
    let pretalx =
        root.pointer("/generator/name").and_then(Value::as_str).is_some_and(|g| g.to_lowercase().contains("pretalx"));
    let timezone = Some(conf.text("time_zone_name")?).filter(|s| !s.trim().is_empty());
    let tz = zone
        .cloned()
        .unwrap_or_else(|| timezone.as_deref().and_then(|t| TimeZone::get(t).ok()).unwrap_or(TimeZone::UTC));
    let conference = Conference {
        title: conf.text("title")?,
        acronym: conf.text("acronym")?,
        start: parse_date(&conf.text("start")?),
        end: parse_date(&conf.text("end")?),
        timezone,
        day_change_minutes: parse_clock_minutes(&conf.text("day_change")?),
        url: conf.text("url")?,
    };
    let mut out = Schedule { conference, ..Default::default() };
    for (i, r) in conf.list("rooms")?.iter().enumerate() {
        let path = format!("$.schedule.conference.rooms[{i}]");
        let (name, guid) = match r {
            Value::String(s) => (s.clone(), None),
            _ => {
                let room = Obj::of(r, &path, None)?;
                (room.text("name")?, Some(room.id("guid")?).filter(|g| !g.is_empty()))
            }
        };
        if !name.trim().is_empty() {
            out.rooms.push(Room { name, guid });
        }
    }
    let mut day_starts = Vec::new();
    let mut day_dates = Vec::new();
    if let Some(events) = schedule.get("events") {
        out.format = "C3VOC schedule 2 JSON";
        schedule2(&conf, events, &tz, &mut out, &mut day_starts)?;
    } else {
        out.format = "frab/pretalx schedule JSON";
        classic(&conf, &tz, pretalx, &mut out, &mut day_starts, &mut day_dates)?;
    }
    let c = &mut out.conference;
    if c.day_change_minutes.is_none() {
        c.day_change_minutes = day_change_from_day_starts(day_starts.iter().map(String::as_str));
    }
    if c.start.is_none() {
        c.start = out.events.iter().map(|e| e.start).min().and_then(|s| day_of(s, &tz));
    }
    c.end = inclusive_end(c.end, day_dates.into_iter());
    if c.end.is_none() {
        c.end = out.events.iter().map(|e| e.start).max().and_then(|s| day_of(s, &tz));
    }
    Ok(out)
}

fn day_of(secs: i64, tz: &TimeZone) -> Option<jiff::civil::Date> {
    jiff::Timestamp::from_second(secs).ok().map(|t| t.to_zoned_datetime(tz.clone()).date())
}

/// The classic layout: events under each day's rooms.
fn classic(
    conf: &Obj<'_>,
    tz: &TimeZone,
    pretalx: bool,
    out: &mut Schedule,
    day_starts: &mut Vec<String>,
    day_dates: &mut Vec<jiff::civil::Date>,
) -> Result<(), ExchangeError> {
    let days = conf.get("days").ok_or_else(|| {
        parse_error(conf.path, "no \"days\" list and no \"events\" list: no events can be read from this schedule JSON")
    })?;
    let Value::Array(days) = days else {
        return Err(conf.wrong("days", "a list", days));
    };
    for (di, day) in days.iter().enumerate() {
        let day_path = format!("{}.days[{di}]", conf.path);
        let day = Obj::of(day, &day_path, None)?;
        let day_date = day.text("date")?;
        day_dates.extend(parse_date(&day_date));
        day_starts.push(day.text("day_start")?);
        let Some(rooms) = day.object("rooms")? else { continue };
        for (room_name, list) in rooms {
            let room_path = format!("{day_path}.rooms[{room_name:?}]");
            if !out.rooms.iter().any(|r| &r.name == room_name) {
                out.rooms.push(Room { name: room_name.clone(), guid: None });
            }
            let Value::Array(list) = list else {
                return Err(parse_error(&room_path, format!("expected a list of events, found {}", kind_of(list))));
            };
            for (ei, ev) in list.iter().enumerate() {
                let path = format!("{room_path}[{ei}]");
                let e = classic_event(ev, &path, room_name, &day_date, tz, pretalx, &mut out.notes)?;
                out.events.push(e);
            }
        }
    }
    Ok(())
}

/// A name for an event in messages: its title if it has one.
fn label(v: &Value) -> Option<String> {
    v.get("title").and_then(Value::as_str).map(|t| format!("event {t:?}"))
}

fn start_of(
    ev: &Obj<'_>,
    key: &str,
    text: &str,
    tz: &TimeZone,
    notes: &mut Vec<String>,
) -> Result<Instant, ExchangeError> {
    let i = read_instant(text, tz).ok_or_else(|| {
        let place = match ev.what {
            Some(w) => format!("{}.{key} ({w})", ev.path),
            None => format!("{}.{key}", ev.path),
        };
        parse_error(place, format!("cannot read time {text:?}"))
    })?;
    if let Some(n) = &i.note {
        notes.push(format!("{} ({}): {n}", ev.what.unwrap_or("an event"), ev.path));
    }
    Ok(i)
}

fn classic_event(
    v: &Value,
    path: &str,
    room: &str,
    day_date: &str,
    tz: &TimeZone,
    pretalx: bool,
    notes: &mut Vec<String>,
) -> Result<ScheduleEvent, ExchangeError> {
    let what = label(v);
    let ev = Obj::of(v, path, what.as_deref())?;
    let date = ev.text("date")?;
    let start = if !date.trim().is_empty() {
        start_of(&ev, "date", &date, tz, notes)?
    } else {
        let clock = ev.text("start")?;
        start_of(&ev, "start", &format!("{day_date}T{}", clock.trim()), tz, notes)?
    };
    let duration = ev.text("duration")?;
    let end_text = ev.text("end")?;
    // pretalx also writes the end as a timestamp, which is unambiguous.
    let secs = if let Some(end) = read_instant(&end_text, tz).map(|i| i.secs).filter(|e| *e >= start.secs) {
        end - start.secs
    } else if duration.trim().is_empty() {
        0
    } else {
        parse_duration_from(&duration, pretalx)
            .ok_or_else(|| parse_error(format!("{path}.duration"), format!("cannot read duration {duration:?}")))?
    };
    let guid = Some(ev.id("guid")?)
        .filter(|g| !g.is_empty())
        .or_else(|| ev.id("id").ok().filter(|i| !i.is_empty()).map(|i| format!("id:{i}")))
        .unwrap_or_default();
    let mut persons = Vec::new();
    for (i, p) in ev.list("persons")?.iter().enumerate() {
        let name = match p {
            Value::String(s) => s.clone(),
            Value::Object(_) => {
                let pp = format!("{path}.persons[{i}]");
                let person = Obj::of(p, &pp, what.as_deref())?;
                let public = person.text("public_name")?;
                if public.trim().is_empty() { person.text("name")? } else { public }
            }
            other => {
                return Err(parse_error(
                    format!("{path}.persons[{i}]"),
                    format!("expected a person, found {}", kind_of(other)),
                ));
            }
        };
        if !name.trim().is_empty() {
            persons.push(name.trim().to_owned());
        }
    }
    let (url, links) = (page_url(&ev, "url")?, links_of(&ev, "url", "links")?);
    let room_field = ev.text("room")?;
    Ok(ScheduleEvent {
        guid,
        start: start.secs,
        end: start.secs + secs,
        room: if room_field.trim().is_empty() { room.to_owned() } else { room_field },
        title: ev.text("title")?,
        subtitle: ev.text("subtitle")?,
        track: ev.text("track")?,
        kind: ev.text("type")?,
        language: ev.text("language")?,
        description: join_texts(&ev.localized("abstract")?, &ev.localized("description")?),
        persons,
        url,
        links,
        source_number: source_number(&ev.id("id")?),
        do_not_record: ev.flag("do_not_record")?,
        recording_license: ev.text("recording_license")?,
        cancelled: false,
        place: path.to_owned(),
        offset: start.offset,
        local: start.offset.is_none(),
    })
}

/// The event's page (`key`); a `urn:` stands in where the schema requires a URI and there is no
/// page (Meadow's own feeds), which is no page.
fn page_url(ev: &Obj<'_>, key: &str) -> Result<String, ExchangeError> {
    let url = ev.text(key)?;
    let url = url.trim();
    Ok(if url.to_ascii_lowercase().starts_with("urn:") { String::new() } else { url.to_owned() })
}

/// The links list of an event, without its page (`url_key`).
fn links_of(ev: &Obj<'_>, url_key: &str, list_key: &str) -> Result<Vec<Link>, ExchangeError> {
    let mut links = Vec::new();
    let page = page_url(ev, url_key)?;
    for (i, l) in ev.list(list_key)?.iter().enumerate() {
        let (url, title) = match l {
            Value::String(s) => (s.clone(), String::new()),
            Value::Object(_) => {
                let lp = format!("{}.{list_key}[{i}]", ev.path);
                let link = Obj::of(l, &lp, ev.what)?;
                let u = link.text("url")?;
                (if u.is_empty() { link.text("href")? } else { u }, link.text("title")?)
            }
            other => {
                return Err(parse_error(
                    format!("{}.{list_key}[{i}]", ev.path),
                    format!("expected a link, found {}", kind_of(other)),
                ));
            }
        };
        if !url.trim().is_empty() && url.trim() != page && !links.iter().any(|x: &Link| x.url == url.trim()) {
            links.push(Link { url: url.trim().to_owned(), title: title.trim().to_owned() });
        }
    }
    Ok(links)
}

/// An ISO 8601 duration (`PT1H30M`, `P1DT2H`) in seconds.
fn iso_duration(s: &str) -> Option<i64> {
    let s = s.trim().strip_prefix('P')?;
    let (date, time) = s.split_once('T').unwrap_or((s, ""));
    let mut total = 0i64;
    for (part, units) in
        [(date, &[('W', 604_800i64), ('D', 86_400)][..]), (time, &[('H', 3600), ('M', 60), ('S', 1)][..])]
    {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                let (_, unit) = units.iter().find(|(u, _)| *u == c)?;
                total += num.parse::<i64>().ok()? * unit;
                num.clear();
            }
        }
        if !num.is_empty() {
            return None;
        }
    }
    Some(total)
}

/// "Schedule 2": events in one list, rooms and tracks referred to by guid and slug.
fn schedule2(
    conf: &Obj<'_>,
    events: &Value,
    tz: &TimeZone,
    out: &mut Schedule,
    day_starts: &mut Vec<String>,
) -> Result<(), ExchangeError> {
    let Value::Array(events) = events else {
        return Err(parse_error("$.schedule.events", format!("expected a list of events, found {}", kind_of(events))));
    };
    for (i, d) in conf.list("days")?.iter().enumerate() {
        let path = format!("{}.days[{i}]", conf.path);
        day_starts.push(Obj::of(d, &path, None)?.text("start")?);
    }
    let room_by_guid: HashMap<String, String> =
        out.rooms.iter().filter_map(|r| r.guid.clone().map(|g| (g, r.name.clone()))).collect();
    let mut track_by_slug = HashMap::new();
    for (i, t) in conf.list("tracks")?.iter().enumerate() {
        let path = format!("{}.tracks[{i}]", conf.path);
        let track = Obj::of(t, &path, None)?;
        track_by_slug.insert(track.text("slug")?, track.text("name")?);
    }
    for (i, v) in events.iter().enumerate() {
        let path = format!("$.schedule.events[{i}]");
        let what = label(v);
        let ev = Obj::of(v, &path, what.as_deref())?;
        let state = ev.text("state")?.to_ascii_uppercase();
        if matches!(state.as_str(), "DRAFT" | "SUBMITTED" | "REJECTED" | "DELETED") {
            // Not (or no longer) part of the programme.
            continue;
        }
        let start_text = ev.text("start")?;
        let start = start_of(&ev, "start", &start_text, tz, &mut out.notes)?;
        let end_text = ev.text("end")?;
        let end = if !end_text.trim().is_empty() {
            start_of(&ev, "end", &end_text, tz, &mut out.notes)?.secs
        } else {
            let d = ev.text("duration")?;
            start.secs
                + iso_duration(&d)
                    .or_else(|| parse_duration_from(&d, false))
                    .ok_or_else(|| parse_error(format!("{path}.duration"), format!("cannot read duration {d:?}")))?
        };
        let room = match ev.object("room")? {
            Some(r) => {
                let rp = format!("{path}.room");
                let r = Obj { map: r, path: &rp, what: what.as_deref() };
                let guid = r.id("guid")?;
                match room_by_guid.get(&guid) {
                    Some(name) => name.clone(),
                    None => {
                        let name = r.text("name")?;
                        if name.is_empty() { r.text("slug")? } else { name }
                    }
                }
            }
            None => String::new(),
        };
        let track = match ev.get("track") {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(_)) => {
                let tp = format!("{path}.track");
                let slug = Obj::of(&v["track"], &tp, what.as_deref())?.text("slug")?;
                track_by_slug.get(&slug).cloned().unwrap_or(slug)
            }
            Some(other) => return Err(ev.wrong("track", "a track reference", other)),
        };
        let mut persons = Vec::new();
        for (pi, p) in ev.list("participants")?.iter().enumerate() {
            let pp = format!("{path}.participants[{pi}]");
            let name = Obj::of(p, &pp, what.as_deref())?.text("name")?;
            if !name.trim().is_empty() {
                persons.push(name.trim().to_owned());
            }
        }
        let kind = ev.text("type")?.to_lowercase().replace('_', " ");
        out.events.push(ScheduleEvent {
            guid: ev.id("guid")?,
            start: start.secs,
            end,
            room,
            title: ev.text("title")?,
            subtitle: ev.text("subtitle")?,
            track,
            kind,
            language: ev.text("language")?,
            description: join_texts(&ev.localized("abstract")?, &ev.localized("description")?),
            persons,
            url: page_url(&ev, "url")?,
            links: links_of(&ev, "url", "links")?,
            source_number: None,
            do_not_record: ev.flag("do_not_record")?,
            recording_license: ev.text("recording_license")?,
            cancelled: matches!(state.as_str(), "CANCELED" | "CANCELLED" | "WITHDRAWN"),
            place: path.clone(),
            offset: start.offset,
            local: start.offset.is_none(),
        });
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_durations() {
        assert_eq!(iso_duration("PT15M"), Some(900));
        assert_eq!(iso_duration("PT1H30M"), Some(5400));
        assert_eq!(iso_duration("P1DT2H"), Some(93_600));
        assert_eq!(iso_duration("PT"), Some(0));
        assert_eq!(iso_duration("15:00"), None);
        assert_eq!(iso_duration("PT5"), None);
    }
}
