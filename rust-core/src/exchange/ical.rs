//! iCalendar (RFC 5545): export of one event, the favourites or the whole programme, and import
//! of `.ics` files of events. Text is produced and parsed by the `icalendar` crate; Meadow only
//! adds the VTIMEZONE definition, from the tz database, for the festival's zone (the crate has no
//! way to write one).

use icalendar::{Calendar, CalendarDateTime, Component, EventLike, EventStatus};
use jiff::tz::TimeZone;

use super::ExchangeError;
use super::schedule::{Conference, Room, Schedule, ScheduleEvent, parse_error};
use crate::view::{EventDetail, FestivalView};

/// The product identifier Meadow writes.
pub const PRODID: &str = "-//Meadow//Meadow festival programme//EN";
/// The property that carries an event's people (speakers, artists, hosts), a TEXT list: iCalendar
/// has no standard one, and Meadow reads it back so that an export imported again keeps them.
pub const PEOPLE: &str = "X-MEADOW-PEOPLE";
/// The property that carries an event's subtitle (also the first paragraph of the description,
/// for people), so that an export imported again keeps it apart.
pub const SUBTITLE: &str = "X-MEADOW-SUBTITLE";
/// The line Meadow adds to a community event's description.
const COMMUNITY_NOTE: &str = "(community event)";
/// What a cancelled event's title starts with: calendar apps that ignore `STATUS` (Giggity's
/// reader is one) still show that it is off. Read back, it is taken off again.
pub const CANCELLED_PREFIX: &str = "Cancelled: ";
/// The first line of a cancelled event's description, for the same readers.
const CANCELLED_NOTE: &str = "This event is cancelled.";
/// Longest content line, in octets, before it is folded (RFC 5545 3.1).
const LINE_OCTETS: usize = 75;

/// Escapes a value of a TEXT list (RFC 5545 3.3.11): backslash, comma and semicolon.
fn list_item(s: &str) -> String {
    s.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;")
}

/// Splits a TEXT list value at unescaped commas and unescapes each item.
fn list_items(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => cur.push('\n'),
                Some(n) => cur.push(n),
                None => {}
            },
            ',' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

fn naive(ts: jiff::Timestamp, tz: &TimeZone) -> Result<chrono::NaiveDateTime, ExchangeError> {
    let dt = ts.to_zoned_datetime(tz.clone()).datetime();
    chrono::NaiveDate::from_ymd_opt(i32::from(dt.year()), dt.month() as u32, dt.day() as u32)
        .and_then(|d| d.and_hms_opt(dt.hour() as u32, dt.minute() as u32, dt.second() as u32))
        .ok_or_else(|| ExchangeError::Invalid(format!("time {ts} cannot be written as iCalendar")))
}

/// A time as local time with its TZID, unless that local time is ambiguous (the hour repeated
/// when clocks go back) or does not exist: then in UTC, which every reader takes the same way
/// (RFC 5545 lets one property use UTC while others use a TZID).
fn in_zone(secs: i64, tz: &TimeZone, tzid: &str) -> Result<CalendarDateTime, ExchangeError> {
    let ts = jiff::Timestamp::from_second(secs).map_err(|x| ExchangeError::Invalid(x.to_string()))?;
    let local = ts.to_zoned_datetime(tz.clone()).datetime();
    match tz.to_ambiguous_timestamp(local).offset() {
        jiff::tz::AmbiguousOffset::Unambiguous { .. } => {
            Ok(CalendarDateTime::WithTimezone { date_time: naive(ts, tz)?, tzid: tzid.to_owned() })
        }
        _ => Ok(CalendarDateTime::Utc(utc(secs)?)),
    }
}

fn utc(secs: i64) -> Result<chrono::DateTime<chrono::Utc>, ExchangeError> {
    chrono::DateTime::from_timestamp(secs, 0).ok_or_else(|| ExchangeError::Invalid(format!("time {secs} out of range")))
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    if s.is_multiple_of(60) {
        format!("{sign}{:02}{:02}", s / 3600, (s % 3600) / 60)
    } else {
        format!("{sign}{:02}{:02}{:02}", s / 3600, (s % 3600) / 60, s % 60)
    }
}

/// A VTIMEZONE for `tz` covering `[from, to]`: the offset in force at `from`, then every
/// transition up to `to`, each as an explicit observance (no recurrence rules to get wrong).
pub fn vtimezone(name: &str, tz: &TimeZone, from: i64, to: i64) -> Result<String, ExchangeError> {
    let start = jiff::Timestamp::from_second(from).map_err(|e| ExchangeError::Invalid(e.to_string()))?;
    let end = jiff::Timestamp::from_second(to).map_err(|e| ExchangeError::Invalid(e.to_string()))?;
    let mut out = format!("BEGIN:VTIMEZONE\r\nTZID:{name}\r\n");
    let info = tz.to_offset_info(start);
    let mut previous = info.offset().seconds();
    // The observance in force before the range starts, anchored a day earlier.
    let anchor = start.checked_sub(jiff::SignedDuration::from_hours(24)).unwrap_or(start);
    let mut observances = vec![(anchor, previous, previous, info.dst().is_dst(), info.abbreviation().to_owned())];
    for t in tz.following(start) {
        if t.timestamp() > end {
            break;
        }
        let now = t.offset().seconds();
        observances.push((t.timestamp(), previous, now, t.dst().is_dst(), t.abbreviation().to_owned()));
        previous = now;
    }
    for (at, from_off, to_off, dst, abbr) in observances {
        let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
        // DTSTART of an observance is local time in the offset before it.
        let local = at.to_zoned_datetime(TimeZone::fixed(
            jiff::tz::Offset::from_seconds(from_off).unwrap_or(jiff::tz::Offset::UTC),
        ));
        out.push_str(&format!(
            "BEGIN:{kind}\r\nDTSTART:{}\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\nTZNAME:{abbr}\r\nEND:{kind}\r\n",
            local.strftime("%Y%m%dT%H%M%S"),
            offset_text(from_off),
            offset_text(to_off),
        ));
    }
    out.push_str("END:VTIMEZONE\r\n");
    Ok(out)
}

/// Writes events as an iCalendar document in the festival's time zone. UIDs are the events' ids,
/// so a calendar app updates rather than duplicates an event exported twice.
pub fn export(festival: &FestivalView, events: &[EventDetail], now: i64) -> Result<String, ExchangeError> {
    let tz = TimeZone::get(&festival.timezone).ok();
    let mut cal = Calendar::empty();
    cal.append_property(icalendar::Property::new("VERSION", "2.0"));
    cal.append_property(icalendar::Property::new("PRODID", PRODID));
    cal.append_property(icalendar::Property::new("CALSCALE", "GREGORIAN"));
    cal.name(&festival.name);
    let zone = tz.as_ref().filter(|_| festival.timezone != "UTC" && !events.is_empty());
    let mut vtz = None;
    if let Some(tz) = zone {
        cal.timezone(festival.timezone.as_str());
        let from = events.iter().map(|e| e.event.start).min().unwrap_or(now);
        let to = events.iter().map(|e| e.event.end).max().unwrap_or(now);
        vtz = Some(vtimezone(&festival.timezone, tz, from, to)?);
    }
    let stamp = utc(now)?;
    for d in events {
        let e = &d.event;
        let mut ev = icalendar::Event::new();
        ev.uid(&format!("{}@meadow", e.id.to_hex()));
        ev.timestamp(stamp);
        if e.cancelled {
            ev.summary(&format!("{CANCELLED_PREFIX}{}", e.title));
            // A cancelled event takes no time in the calendar.
            ev.add_property("TRANSP", "TRANSPARENT");
        } else {
            ev.summary(&e.title);
        }
        match zone {
            Some(tz) => {
                ev.starts(in_zone(e.start, tz, &festival.timezone)?);
                ev.ends(in_zone(e.end, tz, &festival.timezone)?);
            }
            None => {
                ev.starts(utc(e.start)?);
                ev.ends(utc(e.end)?);
            }
        }
        let mut description = String::new();
        if e.cancelled {
            description.push_str(CANCELLED_NOTE);
            description.push_str("\n\n");
        }
        if !e.subtitle.is_empty() {
            description.push_str(&e.subtitle);
            description.push_str("\n\n");
        }
        description.push_str(&d.description);
        if !e.people.is_empty() {
            description.push_str(&format!("\n\nWith {}", e.people.join(", ")));
            ev.add_property(PEOPLE, e.people.iter().map(|p| list_item(p)).collect::<Vec<_>>().join(","));
        }
        if !e.official {
            description.push_str("\n\n");
            description.push_str(COMMUNITY_NOTE);
        }
        let description = description.trim();
        if !description.is_empty() {
            ev.description(description);
        }
        if !e.venue_name.is_empty() {
            ev.location(&e.venue_name);
        }
        if !e.track.is_empty() {
            ev.categories([e.track.as_str()]);
        }
        if !e.subtitle.is_empty() {
            ev.add_property(SUBTITLE, e.subtitle.as_str());
        }
        if let Some(url) = Some(d.url.as_str()).filter(|u| !u.is_empty()).or(d.links.first().map(|l| l.url.as_str())) {
            ev.url(url);
        }
        ev.status(if e.cancelled { EventStatus::Cancelled } else { EventStatus::Confirmed });
        cal.push(ev.done());
    }
    let text = cal.done().to_string();
    // The crate cannot write a VTIMEZONE (it would stamp DTSTAMP and UID into it), so the
    // definition goes in as text, before the first event, where RFC 5545 readers expect it.
    let text = match vtz {
        Some(vtz) => match text.find("BEGIN:VEVENT") {
            Some(at) => format!("{}{vtz}{}", &text[..at], &text[at..]),
            None => text,
        },
        None => text,
    };
    Ok(fold_lines(&text))
}

/// Folds every content line longer than 75 octets (RFC 5545 3.1): the crate folds by characters,
/// so a line of accented or non-Latin text came out longer. Lines are unfolded first, then cut
/// at octet counts that never split a character.
pub fn fold_lines(text: &str) -> String {
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "");
    let mut out = String::with_capacity(unfolded.len() + unfolded.len() / 64);
    for line in unfolded.split_terminator("\r\n") {
        let mut rest = line;
        // The first line carries 75 octets; a continuation carries 74 after its leading space.
        let mut room = LINE_OCTETS;
        while rest.len() > room {
            let mut cut = room;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push_str(&rest[..cut]);
            out.push_str("\r\n ");
            rest = &rest[cut..];
            room = LINE_OCTETS - 1;
        }
        out.push_str(rest);
        out.push_str("\r\n");
    }
    out
}

/// Reads the events of an iCalendar document. Times with a TZID are read in that zone (the tz
/// database, not the file's VTIMEZONE, decides), UTC times stay UTC, floating times and dates are
/// read in `default_tz`. Events without a UID get one derived from their content.
pub fn parse(bytes: &[u8], default_tz: &TimeZone) -> Result<Schedule, ExchangeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        parse_error(format!("line {line}"), "not UTF-8 text")
    })?;
    let unfolded = icalendar::parser::unfold(text.trim_start_matches('\u{feff}'));
    let cal = icalendar::parser::read_calendar(&unfolded).map_err(|e| parse_error("calendar", first_line(&e)))?;
    let cal: Calendar = cal.into();
    // The calendar's zone: X-WR-TIMEZONE, else the first TZID an event uses.
    let first_tzid = cal.events().find_map(|e| match e.get_start() {
        Some(icalendar::DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { tzid, .. })) => {
            Some(tzid.trim_matches('"').to_owned())
        }
        _ => None,
    });
    let cal_tz = cal.get_timezone().map(str::to_owned).or(first_tzid);
    let ours = text.contains(PRODID);
    let mut schedule = Schedule {
        format: "iCalendar",
        conference: Conference {
            title: cal.get_name().unwrap_or_default().to_owned(),
            timezone: cal_tz.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let fallback_tz = cal_tz.as_deref().and_then(|t| TimeZone::get(t).ok()).unwrap_or_else(|| default_tz.clone());
    for (i, ev) in cal.events().enumerate() {
        let place = format!("VEVENT {} ({})", i + 1, ev.get_summary().unwrap_or("untitled"));
        let start_value = ev.get_start().ok_or_else(|| parse_error(&place, "no DTSTART"))?;
        let (start, offset) = instant(&start_value, &fallback_tz, &place)?;
        let end = match ev.get_end() {
            Some(d) => instant(&d, &fallback_tz, &place)?.0,
            None => start,
        };
        let cancelled = ev.get_status() == Some(EventStatus::Cancelled);
        let mut summary = ev.get_summary().unwrap_or_default().to_owned();
        if cancelled && let Some(rest) = summary.strip_prefix(CANCELLED_PREFIX) {
            summary = rest.to_owned();
        }
        let location = ev.get_location().unwrap_or_default().to_owned();
        let uid = ev.get_uid().map(str::to_owned).unwrap_or_else(|| {
            blake3::hash(format!("{summary}\u{1f}{start}\u{1f}{location}").as_bytes()).to_hex()[..32].to_owned()
        });
        let url = ev.get_url().map(|u| u.trim().to_owned()).unwrap_or_default();
        if !location.is_empty() && !schedule.rooms.iter().any(|r| r.name == location) {
            schedule.rooms.push(Room { name: location.clone(), guid: None });
        }
        let persons = ev.property_value(PEOPLE).map(list_items).unwrap_or_default();
        let subtitle = ev.property_value(SUBTITLE).unwrap_or_default().to_owned();
        let mut description = ev.get_description().unwrap_or_default().to_owned();
        if ours {
            // Take off what Meadow's own export added to the description: it comes back as fields.
            if let Some(rest) = description.strip_suffix(COMMUNITY_NOTE) {
                description = rest.trim_end().to_owned();
            }
            let with = format!("With {}", persons.join(", "));
            if !persons.is_empty()
                && let Some(rest) = description.strip_suffix(&with)
            {
                description = rest.trim_end().to_owned();
            }
            if let Some(rest) = description.strip_prefix(CANCELLED_NOTE).filter(|_| cancelled) {
                description = rest.trim_start().to_owned();
            }
            if let Some(rest) = description.strip_prefix(subtitle.as_str()).filter(|_| !subtitle.is_empty()) {
                description = rest.trim_start().to_owned();
            }
        }
        schedule.events.push(ScheduleEvent {
            guid: uid,
            start,
            end,
            room: location,
            title: summary,
            track: ev.get_categories().and_then(|c| c.into_iter().next()).unwrap_or_default(),
            subtitle,
            description,
            persons,
            url,
            cancelled,
            place,
            offset,
            local: offset.is_none(),
            ..Default::default()
        });
    }
    Ok(schedule)
}

fn first_line(e: &str) -> String {
    e.lines().next().unwrap_or("cannot parse iCalendar").chars().take(200).collect()
}

/// An iCalendar time in Unix seconds, with the UTC offset it stands for when the file pins that
/// down (UTC times, and times with a TZID this device knows): evidence of the zone.
fn instant(d: &icalendar::DatePerhapsTime, tz: &TimeZone, place: &str) -> Result<(i64, Option<i32>), ExchangeError> {
    use icalendar::DatePerhapsTime;
    let local = |n: chrono::NaiveDateTime, tz: &TimeZone| -> Result<i64, ExchangeError> {
        let text = n.format("%Y-%m-%dT%H:%M:%S").to_string();
        let dt: jiff::civil::DateTime = text.parse().map_err(|_| parse_error(place, format!("bad time {text}")))?;
        crate::exchange::schedule::local_instant(dt, tz)
            .map(|(secs, _)| secs)
            .ok_or_else(|| parse_error(place, format!("time {text} out of range")))
    };
    let offset_at =
        |secs: i64, tz: &TimeZone| jiff::Timestamp::from_second(secs).ok().map(|ts| tz.to_offset(ts).seconds());
    match d {
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(t)) => Ok((t.timestamp(), Some(0))),
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(n)) => Ok((local(*n, tz)?, None)),
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
            match TimeZone::get(tzid.trim_matches('"')) {
                Ok(zone) => {
                    let secs = local(*date_time, &zone)?;
                    Ok((secs, offset_at(secs, &zone)))
                }
                Err(_) => Ok((local(*date_time, tz)?, None)),
            }
        }
        DatePerhapsTime::Date(day) => Ok((local(day.and_hms_opt(0, 0, 0).unwrap_or_default(), tz)?, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lists_round_trip() {
        let items = ["Zoë Müller", "Smith, Jane", "a;b", "back\\slash"];
        let joined = items.iter().map(|i| list_item(i)).collect::<Vec<_>>().join(",");
        assert_eq!(list_items(&joined), items);
    }
}
