//! Turns a parsed schedule into signed ops against what a festival already holds. Importing the
//! same schedule again makes no ops; a newer version becomes edits, moves and cancellations of
//! the same events (matched by guid), so other devices see exactly what changed.

use std::collections::{HashMap, HashSet};

use super::ExchangeError;
use super::schedule::{Schedule, ScheduleEvent, fit};
use crate::identity::Identity;
use crate::op::{Body, EventPatch, FestivalId, Link, LogPosition, LogWriter, Op, OpId, VenuePatch, limits};
use crate::store::Store;
use crate::view::EventDetail;

/// What an import did (or would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Events new to the festival.
    pub added: usize,
    /// Events whose time or room changed.
    pub moved: usize,
    /// Events with other changes.
    pub changed: usize,
    /// Events cancelled (gone from the schedule, or marked cancelled in it).
    pub cancelled: usize,
    /// Cancelled events that are back.
    pub restored: usize,
    /// Events already up to date.
    pub unchanged: usize,
    /// Venues created for rooms not seen before.
    pub venues_added: usize,
    /// Venues whose room kept its guid but changed its name.
    pub renamed: usize,
    /// Things worth checking (an event without a duration, one outside the festival's dates, a
    /// local time that does not exist...).
    pub warnings: Vec<String>,
    /// Events left out, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Fields cut to Meadow's limits, as `event: field`.
    pub truncated: Vec<String>,
}

impl ImportSummary {
    /// Whether the import changes nothing.
    pub fn is_noop(&self) -> bool {
        self.added + self.moved + self.changed + self.cancelled + self.restored + self.venues_added + self.renamed == 0
    }
}

/// The prefix of every source id this schedule's events get, so that a newer version of the same
/// schedule finds them and another schedule in the same festival does not touch them.
pub fn source_scope(schedule: &Schedule) -> String {
    let base = if schedule.conference.acronym.trim().is_empty() {
        &schedule.conference.title
    } else {
        &schedule.conference.acronym
    };
    let mut scope: String = base
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' })
        .collect();
    while scope.len() > 40 {
        scope.pop();
    }
    if scope.is_empty() { "schedule".into() } else { scope }
}

/// The source id of a guid within a scope; long guids are hashed to fit the field.
pub fn source_id(scope: &str, guid: &str) -> String {
    let id = format!("{scope}#{guid}");
    if id.len() <= limits::LABEL && !id.chars().any(char::is_control) {
        id
    } else {
        format!("{scope}#b3:{}", &blake3::hash(guid.as_bytes()).to_hex()[..32])
    }
}

struct Fitted {
    url: String,
    recording_license: String,
    title: String,
    subtitle: String,
    description: String,
    track: String,
    kind: String,
    language: String,
    people: Vec<String>,
    links: Vec<Link>,
}

fn fitted(ev: &ScheduleEvent, truncated: &mut Vec<String>) -> Fitted {
    let mut f = |field: &str, text: &str, max: usize, multiline: bool| {
        let (s, cut) = fit(text, max, multiline);
        if cut {
            truncated.push(format!("{}: {field}", ev.title));
        }
        s
    };
    let title = f("title", &ev.title, limits::TITLE, false);
    let subtitle = f("subtitle", &ev.subtitle, limits::TITLE, false);
    let description = f("description", &ev.description, limits::DESCRIPTION, true);
    let track = f("track", &ev.track, limits::LABEL, false);
    let kind = f("type", &ev.kind, limits::LABEL, false);
    let language = f("language", &ev.language, limits::LABEL, false);
    let people: Vec<String> = ev
        .persons
        .iter()
        .map(|p| fit(p, limits::NAME, false).0)
        .filter(|p| !p.is_empty())
        .take(limits::LIST_ITEMS)
        .collect();
    let links: Vec<Link> = ev
        .links
        .iter()
        .filter(|l| !l.url.trim().is_empty() && l.url.len() <= limits::URL)
        .map(|l| Link { url: fit(&l.url, limits::URL, false).0, title: fit(&l.title, limits::NAME, false).0 })
        .take(limits::LINKS)
        .collect();
    // A page address too long to keep is dropped rather than cut (a cut one would lead nowhere).
    let url = if ev.url.trim().len() <= limits::URL { fit(ev.url.trim(), limits::URL, false).0 } else { String::new() };
    let recording_license = f("recording licence", &ev.recording_license, limits::NAME, false);
    Fitted { url, recording_license, title, subtitle, description, track, kind, language, people, links }
}

fn check_times(ev: &ScheduleEvent) -> Result<(), String> {
    let (lo, hi) = limits::TIME_RANGE;
    if !(lo..=hi).contains(&ev.start) || !(lo..=hi).contains(&ev.end) {
        return Err("time out of range".into());
    }
    if ev.end < ev.start {
        return Err("ends before it starts".into());
    }
    if ev.end - ev.start > limits::MAX_EVENT_SECONDS {
        return Err("longer than a year".into());
    }
    Ok(())
}

/// Signs the ops that bring `festival` in line with `schedule`, as `identity`, continuing its
/// log from `start` (a festival created with the import, not stored yet) or else from the
/// store's position. Nothing is stored here.
pub fn plan(
    store: &Store,
    identity: &Identity,
    festival: &FestivalId,
    schedule: &Schedule,
    wall_time_ms: u64,
    start: Option<LogPosition>,
) -> Result<(Vec<Op>, ImportSummary), ExchangeError> {
    let mut summary = ImportSummary::default();
    let start = match start {
        Some(s) => s,
        None => store.next_position(festival, &identity.public())?,
    };
    let mut writer = LogWriter::new(*festival, start);
    let mut ops = Vec::new();
    let mut sign = |body: Body, writer: &mut LogWriter| -> Result<OpId, ExchangeError> {
        let lamport = writer.next.lamport;
        let op = writer.sign(identity, lamport, wall_time_ms, body)?;
        let id = op.id();
        ops.push(op);
        Ok(id)
    };
    let scope = source_scope(schedule);

    // Rooms: by guid where the file gives a room a guid no other room has (real exports give two
    // rooms one guid), else by name; else a new venue. A room found by its guid under a new name
    // is a rename: the venue keeps its identity and takes the new name.
    let venues = store.venues(festival)?;
    let mut venue_by_key: HashMap<String, OpId> = HashMap::new();
    let mut venue_name: HashMap<OpId, String> = HashMap::new();
    for v in &venues {
        venue_by_key.entry(format!("name:{}", v.name.to_lowercase())).or_insert(v.id);
        if !v.source_id.is_empty() {
            venue_by_key.insert(format!("src:{}", v.source_id), v.id);
        }
        venue_name.insert(v.id, v.name.clone());
    }
    let mut guid_count: HashMap<&str, usize> = HashMap::new();
    for r in &schedule.rooms {
        if let Some(g) = r.guid.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
            *guid_count.entry(g).or_default() += 1;
        }
    }
    let room_guid: HashMap<&str, &str> = schedule
        .rooms
        .iter()
        .filter_map(|r| r.guid.as_deref().map(str::trim).map(|g| (r.name.trim(), g)))
        .filter(|(_, g)| guid_count.get(g) == Some(&1))
        .collect();
    let mut room_ids: HashMap<String, OpId> = HashMap::new();
    let mut room_names: Vec<&str> = schedule.rooms.iter().map(|r| r.name.as_str()).collect();
    room_names.extend(schedule.events.iter().map(|e| e.room.as_str()));
    let positions: HashMap<OpId, Option<u32>> = venues.iter().map(|v| (v.id, v.position)).collect();
    for name in room_names {
        let name = name.trim();
        if name.is_empty() || room_ids.contains_key(name) {
            continue;
        }
        // Rooms keep the schedule's order: the n-th room named is at position n.
        let position = u32::try_from(room_ids.len()).ok().filter(|p| *p <= limits::MAX_POSITION);
        let by_name = venue_by_key.get(&format!("name:{}", name.to_lowercase())).copied();
        let (src, by_guid) = match room_guid.get(name) {
            Some(g) => {
                let src = source_id(&scope, &format!("room:{g}"));
                let found = venue_by_key.get(&format!("src:{src}")).copied();
                (src, found)
            }
            None => (source_id(&scope, &format!("room:{name}")), None),
        };
        let known = by_guid.or_else(|| {
            // Found by its name-derived source id, or by name.
            venue_by_key.get(&format!("src:{src}")).copied().or(by_name)
        });
        let mut patch = VenuePatch::default();
        if let Some(id) = by_guid
            && venue_name.get(&id).is_some_and(|old| old != name)
            && by_name.is_none_or(|other| other == id)
        {
            summary.renamed += 1;
            patch.name = Some(fit(name, limits::NAME, false).0);
        }
        let id = match known {
            Some(id) => {
                if positions.get(&id).copied().flatten() != position {
                    patch.position = position;
                }
                if patch != VenuePatch::default() {
                    sign(Body::Venue { target: Some(id), patch }, &mut writer)?;
                }
                id
            }
            None => {
                summary.venues_added += 1;
                let (fitted_name, _) = fit(name, limits::NAME, false);
                sign(
                    Body::Venue {
                        target: None,
                        patch: VenuePatch {
                            name: Some(fitted_name),
                            source_id: Some(src),
                            position,
                            ..Default::default()
                        },
                    },
                    &mut writer,
                )?
            }
        };
        room_ids.insert(name.to_owned(), id);
    }

    // Events.
    let prefix = format!("{scope}#");
    let details = store.event_details(festival, false)?;
    let existing: HashMap<&str, &EventDetail> =
        details.iter().filter(|d| d.source_id.starts_with(&prefix)).map(|d| (d.source_id.as_str(), d)).collect();
    // Meadow's own iCalendar export names each event by its id: imported into the festival it
    // came from, it updates those events instead of adding copies.
    let own: HashMap<OpId, &EventDetail> = details.iter().map(|d| (d.event.id, d)).collect();
    let mut seen: HashSet<String> = HashSet::new();
    // Real files give two events one guid; each occurrence after the first gets its own source
    // id (`guid#2`, ...), stable while the file keeps its order. An exact repeat is left out.
    let mut occurrences: HashMap<&str, Vec<&ScheduleEvent>> = HashMap::new();
    for ev in &schedule.events {
        let label = if ev.title.trim().is_empty() { ev.place.clone() } else { ev.title.trim().to_owned() };
        if ev.guid.trim().is_empty() {
            summary.skipped.push((label, "no guid or id".into()));
            continue;
        }
        if ev.title.trim().is_empty() {
            summary.skipped.push((label, "no title".into()));
            continue;
        }
        if let Err(reason) = check_times(ev) {
            summary.skipped.push((label, reason));
            continue;
        }
        let earlier = occurrences.entry(ev.guid.trim()).or_default();
        if earlier.iter().any(|e| {
            (e.start, e.end, e.room.trim(), e.title.trim()) == (ev.start, ev.end, ev.room.trim(), ev.title.trim())
        }) {
            summary.skipped.push((label, format!("a repeat of the event before it with guid {}", ev.guid.trim())));
            continue;
        }
        earlier.push(ev);
        let src = match earlier.len() {
            1 => source_id(&scope, ev.guid.trim()),
            n => source_id(&scope, &format!("{}#{n}", ev.guid.trim())),
        };
        if !seen.insert(src.clone()) {
            summary.skipped.push((label, format!("guid {} appears twice", ev.guid.trim())));
            continue;
        }
        if earlier.len() > 1 {
            summary
                .warnings
                .push(format!("{label}: guid {} is shared with an earlier event; kept as its own", ev.guid.trim()));
        }
        let f = fitted(ev, &mut summary.truncated);
        let venue = room_ids.get(ev.room.trim()).copied();
        if ev.end == ev.start {
            summary.warnings.push(format!("{label}: no duration; shown as a moment at its start"));
        }
        let own_event = ev.guid.trim().strip_suffix("@meadow").and_then(OpId::from_hex).and_then(|id| own.get(&id));
        match own_event.or_else(|| existing.get(src.as_str())) {
            None => {
                summary.added += 1;
                if ev.cancelled {
                    summary.cancelled += 1;
                }
                sign(
                    Body::Event {
                        target: None,
                        patch: EventPatch {
                            title: Some(f.title),
                            subtitle: Some(f.subtitle),
                            description: Some(f.description),
                            start: Some(ev.start),
                            end: Some(ev.end),
                            venue: Some(venue),
                            track: Some(f.track),
                            kind: Some(f.kind),
                            tags: None,
                            people: Some(f.people),
                            language: Some(f.language),
                            links: Some(f.links),
                            cancelled: Some(ev.cancelled),
                            source_id: Some(src),
                            url: Some(f.url),
                            source_number: ev.source_number,
                            do_not_record: ev.do_not_record,
                            recording_license: Some(f.recording_license),
                        },
                    },
                    &mut writer,
                )?;
            }
            Some(cur) => {
                let e = &cur.event;
                let differs = |new: &String, old: &String| (new != old).then(|| new.clone());
                let mut patch = EventPatch {
                    title: differs(&f.title, &e.title),
                    subtitle: differs(&f.subtitle, &e.subtitle),
                    description: differs(&f.description, &cur.description),
                    start: (ev.start != e.start).then_some(ev.start),
                    end: (ev.end != e.end).then_some(ev.end),
                    venue: (venue != e.venue).then_some(venue),
                    track: differs(&f.track, &e.track),
                    kind: differs(&f.kind, &e.kind),
                    tags: None,
                    people: (f.people != e.people).then(|| f.people.clone()),
                    language: differs(&f.language, &cur.language),
                    links: (f.links != cur.links).then(|| f.links.clone()),
                    cancelled: (ev.cancelled != e.cancelled).then_some(ev.cancelled),
                    source_id: None,
                    url: differs(&f.url, &cur.url),
                    source_number: ev.source_number.filter(|n| Some(*n) != cur.source_number),
                    do_not_record: ev.do_not_record.filter(|d| *d != cur.do_not_record),
                    recording_license: differs(&f.recording_license, &cur.recording_license),
                };
                if patch.start.is_some() != patch.end.is_some() {
                    // Send both so that no device ever holds an end before its start.
                    patch.start = Some(ev.start);
                    patch.end = Some(ev.end);
                }
                if patch == EventPatch::default() {
                    summary.unchanged += 1;
                    continue;
                }
                match patch.cancelled {
                    Some(true) => summary.cancelled += 1,
                    Some(false) => summary.restored += 1,
                    None => {}
                }
                if patch.start.is_some() || patch.venue.is_some() {
                    summary.moved += 1;
                } else if patch.cancelled.is_none() {
                    summary.changed += 1;
                }
                sign(Body::Event { target: Some(e.id), patch }, &mut writer)?;
            }
        }
    }
    // Events of this schedule that the new version no longer has are cancelled, never deleted:
    // people who favourited them must learn that they are off.
    let mut gone: Vec<&EventDetail> =
        existing.values().copied().filter(|d| !seen.contains(&d.source_id) && !d.event.cancelled).collect();
    gone.sort_by_key(|d| (d.event.start, d.event.id));
    for d in gone {
        summary.cancelled += 1;
        sign(
            Body::Event { target: Some(d.event.id), patch: EventPatch { cancelled: Some(true), ..Default::default() } },
            &mut writer,
        )?;
    }
    Ok((ops, summary))
}
