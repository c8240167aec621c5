//! frab/Pentabarf `schedule.xml` (also exported by pretalx): `schedule` → `conference`, `day`
//! → `room` → `event`. Parsed with quick-xml into a small tree first. The parser expands no
//! entity declared in the file (a DOCTYPE declaring entities is refused: no billion laughs, no
//! external entities) but does resolve the HTML entities real schedules contain.

use jiff::tz::TimeZone;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use super::ExchangeError;
use super::json::join_texts;
use super::schedule::{
    Conference, Room, Schedule, ScheduleEvent, day_change_from_day_starts, html_entity, inclusive_end,
    parse_clock_minutes, parse_date, parse_duration_from, parse_error, read_instant, source_number,
};
use crate::op::Link;

/// Elements in one file at most (a 2,000-event schedule has about 60,000).
const MAX_ELEMENTS: usize = 2_000_000;
/// Nesting depth at most.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
    /// Byte offset of the start tag, for messages.
    at: u64,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn text_of(&self, name: &str) -> String {
        self.child(name).map(|c| c.text.trim().to_owned()).unwrap_or_default()
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Turns byte offsets into line and column numbers, for messages.
struct Lines(Vec<usize>);

impl Lines {
    fn new(input: &str) -> Self {
        Lines(input.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect())
    }

    fn at(&self, offset: u64) -> String {
        let offset = offset as usize;
        let line = self.0.partition_point(|&nl| nl < offset);
        let line_start = if line == 0 { 0 } else { self.0[line - 1] + 1 };
        format!("line {}, column {}", line + 1, offset.saturating_sub(line_start) + 1)
    }
}

fn position(input: &str, offset: u64) -> String {
    Lines::new(&input[..(offset as usize).min(input.len())]).at(offset)
}

fn resolve_ref(name: &str) -> Option<String> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0').map(String::from);
    }
    html_entity(name).map(str::to_owned)
}

fn element(e: &BytesStart<'_>, input: &str, at: u64) -> Result<Element, ExchangeError> {
    let name = e.local_name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| parse_error(position(input, at), format!("bad attribute in <{name}>: {err}")))?;
        let mut unknown = None;
        let value = a
            .normalized_value_with(XmlVersion::Implicit1_0, 4, |r: &str| {
                let v = html_entity(r);
                if v.is_none() {
                    unknown = Some(r.to_owned());
                }
                v
            })
            .map_err(|err| {
                let what =
                    unknown.as_deref().map(|u| format!("undefined entity &{u};")).unwrap_or_else(|| err.to_string());
                parse_error(position(input, at), format!("attribute of <{name}>: {what}"))
            })?;
        attrs.push((a.key.local_name().as_ref().to_owned(), value.into_owned()));
    }
    Ok(Element { name, attrs, at, ..Default::default() })
}

fn parse_tree(input: &str) -> Result<Element, ExchangeError> {
    let mut reader = quick_xml::Reader::from_str(input);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = vec![Element { name: "#document".into(), ..Default::default() }];
    let mut count = 0usize;
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            let reason = match e {
                quick_xml::Error::Syntax(s) => format!("malformed XML: {s}"),
                other => format!("malformed XML: {other}"),
            };
            parse_error(position(input, reader.error_position()), reason)
        })?;
        match event {
            Event::DocType(d) => {
                if d.to_ascii_uppercase().contains("<!ENTITY") {
                    return Err(parse_error(
                        position(input, at),
                        "the document declares entities; schedules never need them and they are not expanded",
                    ));
                }
            }
            Event::Start(e) => {
                count += 1;
                if count > MAX_ELEMENTS || stack.len() > MAX_DEPTH {
                    return Err(parse_error(position(input, at), "document too large or too deeply nested"));
                }
                stack.push(element(&e, input, at)?);
            }
            Event::Empty(e) => {
                count += 1;
                let el = element(&e, input, at)?;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(el);
                }
            }
            Event::End(_) => {
                let done = stack.pop().ok_or_else(|| parse_error(position(input, at), "unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Err(parse_error(position(input, at), "unbalanced end tag")),
                }
            }
            Event::Text(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = resolve_ref(&r)
                    .ok_or_else(|| parse_error(position(input, at), format!("undefined entity &{};", &*r)))?;
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if stack.len() != 1 {
        let open = stack.last().map(|e| e.name.clone()).unwrap_or_default();
        return Err(parse_error(position(input, input.len() as u64), format!("the file ends inside <{open}>")));
    }
    let mut doc = stack.pop().unwrap_or_default();
    if doc.children.len() != 1 {
        return Err(parse_error("line 1, column 1", "expected exactly one root element"));
    }
    Ok(doc.children.remove(0))
}

/// Parses a frab/Pentabarf `schedule.xml`.
pub fn parse(bytes: &[u8]) -> Result<Schedule, ExchangeError> {
    parse_in(bytes, None)
}

/// Parses a frab/Pentabarf `schedule.xml`, reading local times (those without an offset) in
/// `zone` if given, else in the zone the file declares, else in UTC.
pub fn parse_in(bytes: &[u8], zone: Option<&TimeZone>) -> Result<Schedule, ExchangeError> {
    let input = std::str::from_utf8(bytes).map_err(|e| {
        let upto = &bytes[..e.valid_up_to()];
        let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
        parse_error(format!("line {line}"), "not UTF-8 text")
    })?;
    let input = input.trim_start_matches('\u{feff}');
    let root = parse_tree(input)?;
    let lines = Lines::new(input);
    if root.name != "schedule" {
        return Err(parse_error(position(input, root.at), format!("expected <schedule>, found <{}>", root.name)));
    }
    let conf = root.child("conference");
    let timezone = conf.map(|c| c.text_of("time_zone_name")).filter(|t| !t.is_empty());
    let tz = zone
        .cloned()
        .unwrap_or_else(|| timezone.as_deref().and_then(|t| TimeZone::get(t).ok()).unwrap_or(TimeZone::UTC));
    let mut conference = Conference {
        title: conf.map(|c| c.text_of("title")).unwrap_or_default(),
        acronym: conf.map(|c| c.text_of("acronym")).unwrap_or_default(),
        start: conf.and_then(|c| parse_date(&c.text_of("start"))),
        end: conf.and_then(|c| parse_date(&c.text_of("end"))),
        timezone,
        day_change_minutes: conf.and_then(|c| parse_clock_minutes(&c.text_of("day_change"))),
        url: conf.map(|c| c.text_of("base_url")).unwrap_or_default(),
    };
    let pretalx =
        root.child("generator").and_then(|g| g.attr("name")).is_some_and(|g| g.to_lowercase().contains("pretalx"));
    let mut rooms: Vec<Room> = Vec::new();
    let mut events = Vec::new();
    let mut notes = Vec::new();
    if conference.day_change_minutes.is_none() {
        conference.day_change_minutes =
            day_change_from_day_starts(root.children("day").filter_map(|d| d.attr("start")));
    }
    if let Some(list) = root.child("rooms") {
        for r in list.children("room") {
            let name = r.attr("name").map(str::to_owned).unwrap_or_else(|| r.text.trim().to_owned());
            if !name.is_empty() {
                rooms.push(Room { name, guid: r.attr("guid").map(str::to_owned) });
            }
        }
    }
    for day in root.children("day") {
        let day_date = day.attr("date").unwrap_or_default().to_owned();
        for room in day.children("room") {
            let room_name = room.attr("name").unwrap_or_default().to_owned();
            if !room_name.is_empty() && !rooms.iter().any(|r| r.name == room_name) {
                rooms.push(Room { name: room_name.clone(), guid: room.attr("guid").map(str::to_owned) });
            }
            for ev in room.children("event") {
                events.push(event(ev, &lines, &room_name, &day_date, &tz, pretalx, &mut notes)?);
            }
        }
    }
    if conference.start.is_none() {
        conference.start = root.children("day").filter_map(|d| d.attr("date").and_then(parse_date)).min();
    }
    conference.end =
        inclusive_end(conference.end, root.children("day").filter_map(|d| d.attr("date").and_then(parse_date)));
    if root.children("day").next().is_none() && root.child("events").is_none() {
        return Err(parse_error(
            position(input, root.at),
            "a <schedule> without any <day>: no events can be read (is this a frab/Pentabarf schedule.xml?)",
        ));
    }
    Ok(Schedule { format: "frab/Pentabarf schedule.xml", conference, rooms, events, notes })
}

fn event(
    ev: &Element,
    lines: &Lines,
    room: &str,
    day_date: &str,
    tz: &TimeZone,
    pretalx: bool,
    notes: &mut Vec<String>,
) -> Result<ScheduleEvent, ExchangeError> {
    let place = lines.at(ev.at);
    let date = ev.text_of("date");
    let start = if !date.is_empty() {
        read_instant(&date, tz).ok_or_else(|| parse_error(&place, format!("<date>: cannot read time {date:?}")))?
    } else {
        let clock = ev.text_of("start");
        read_instant(&format!("{day_date}T{clock}"), tz)
            .ok_or_else(|| parse_error(&place, format!("<start>: cannot read {clock:?} on day {day_date:?}")))?
    };
    if let Some(n) = &start.note {
        notes.push(format!("{:?} ({place}): {n}", ev.text_of("title")));
    }
    let (offset, local) = (start.offset, start.offset.is_none());
    let start = start.secs;
    let duration = ev.text_of("duration");
    let secs = if duration.is_empty() {
        0
    } else {
        parse_duration_from(&duration, pretalx)
            .ok_or_else(|| parse_error(&place, format!("<duration>: cannot read {duration:?}")))?
    };
    let guid = ev
        .attr("guid")
        .filter(|g| !g.trim().is_empty())
        .map(|g| g.trim().to_owned())
        .or_else(|| ev.attr("id").filter(|i| !i.trim().is_empty()).map(|i| format!("id:{}", i.trim())))
        .unwrap_or_default();
    let persons = ev
        .child("persons")
        .map(|ps| ps.children("person").map(|p| p.text.trim().to_owned()).filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let mut links = Vec::new();
    let url = ev.text_of("url");
    if let Some(ls) = ev.child("links") {
        for l in ls.children("link") {
            if let Some(href) = l.attr("href").filter(|h| !h.trim().is_empty() && h.trim() != url) {
                links.push(Link { url: href.trim().to_owned(), title: l.text.trim().to_owned() });
            }
        }
    }
    let room_field = ev.text_of("room");
    let recording = ev.child("recording");
    let optout = recording.map(|r| r.text_of("optout").to_ascii_lowercase());
    Ok(ScheduleEvent {
        guid,
        start,
        end: start + secs,
        room: if room_field.is_empty() { room.to_owned() } else { room_field },
        title: ev.text_of("title"),
        subtitle: ev.text_of("subtitle"),
        track: ev.text_of("track"),
        kind: ev.text_of("type"),
        language: ev.text_of("language"),
        description: join_texts(&ev.text_of("abstract"), &ev.text_of("description")),
        persons,
        url,
        links,
        source_number: ev.attr("id").and_then(source_number),
        do_not_record: optout.and_then(|o| match o.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }),
        recording_license: recording.map(|r| r.text_of("license")).unwrap_or_default(),
        cancelled: false,
        place,
        offset,
        local,
    })
}
