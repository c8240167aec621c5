//! iCalendar (RFC 5545): export of one event, the favourites or the whole programme, and import
//! of `.ics` files of events. Text is produced and parsed by the `icalendar` crate; Meadow only
//! adds the VTIMEZONE definition, from the tz database, for the festival's zone (the crate has no
//! way to write one).

use icalendar::{Calendar, CalendarDateTime, Component, EventLike, EventStatus};
use jiff::tz::TimeZone;

use super::ExchangeError;
use super::schedule::{Conference, Room, Schedule, ScheduleEvent, parse_error};
use crate::op::Link;
use crate::store::{EventDetail, FestivalView};

/// The product identifier Meadow writes.
pub const PRODID: &str = "-//Meadow//Meadow festival programme//EN";

fn naive(ts: jiff::Timestamp, tz: &TimeZone) -> Result<chrono::NaiveDateTime, ExchangeError> {
    let dt = ts.to_zoned_datetime(tz.clone()).datetime();
    chrono::NaiveDate::from_ymd_opt(i32::from(dt.year()), dt.month() as u32, dt.day() as u32)
        .and_then(|d| d.and_hms_opt(dt.hour() as u32, dt.minute() as u32, dt.second() as u32))
        .ok_or_else(|| ExchangeError::Invalid(format!("time {ts} cannot be written as iCalendar")))
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
        ev.summary(&e.title);
        match zone {
            Some(tz) => {
                let start = jiff::Timestamp::from_second(e.start).map_err(|x| ExchangeError::Invalid(x.to_string()))?;
                let end = jiff::Timestamp::from_second(e.end).map_err(|x| ExchangeError::Invalid(x.to_string()))?;
                ev.starts(CalendarDateTime::WithTimezone {
                    date_time: naive(start, tz)?,
                    tzid: festival.timezone.clone(),
                });
                ev.ends(CalendarDateTime::WithTimezone { date_time: naive(end, tz)?, tzid: festival.timezone.clone() });
            }
            None => {
                ev.starts(utc(e.start)?);
                ev.ends(utc(e.end)?);
            }
        }
        let mut description = String::new();
        if !e.subtitle.is_empty() {
            description.push_str(&e.subtitle);
            description.push_str("\n\n");
        }
        description.push_str(&d.description);
        if !e.people.is_empty() {
            description.push_str(&format!("\n\nWith {}", e.people.join(", ")));
        }
        if !e.official {
            description.push_str("\n\n(community event)");
        }
        let description = description.trim();
        if !description.is_empty() {
            ev.description(description);
        }
        if !e.venue_name.is_empty() {
            ev.location(&e.venue_name);
        }
        if !e.track.is_empty() {
            ev.add_property("CATEGORIES", e.track.replace(',', "\\,"));
        }
        if let Some(l) = d.links.first() {
            ev.url(&l.url);
        }
        ev.status(if e.cancelled { EventStatus::Cancelled } else { EventStatus::Confirmed });
        cal.push(ev.done());
    }
    let text = cal.done().to_string();
    // The crate cannot write a VTIMEZONE (it would stamp DTSTAMP and UID into it), so the
    // definition goes in as text, before the first event, where RFC 5545 readers expect it.
    Ok(match vtz {
        Some(vtz) => match text.find("BEGIN:VEVENT") {
            Some(at) => format!("{}{vtz}{}", &text[..at], &text[at..]),
            None => text,
        },
        None => text,
    })
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
    let cal_tz = cal.get_timezone().map(str::to_owned);
    let mut schedule = Schedule {
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
        let start = ev
            .get_start()
            .ok_or_else(|| parse_error(&place, "no DTSTART"))
            .and_then(|d| instant(&d, &fallback_tz, &place))?;
        let end = match ev.get_end() {
            Some(d) => instant(&d, &fallback_tz, &place)?,
            None => start,
        };
        let summary = ev.get_summary().unwrap_or_default().to_owned();
        let location = ev.get_location().unwrap_or_default().to_owned();
        let uid = ev.get_uid().map(str::to_owned).unwrap_or_else(|| {
            blake3::hash(format!("{summary}\u{1f}{start}\u{1f}{location}").as_bytes()).to_hex()[..32].to_owned()
        });
        let mut links = Vec::new();
        if let Some(url) = ev.get_url() {
            links.push(Link { url: url.to_owned(), title: "Event page".into() });
        }
        if !location.is_empty() && !schedule.rooms.iter().any(|r| r.name == location) {
            schedule.rooms.push(Room { name: location.clone(), guid: None });
        }
        schedule.events.push(ScheduleEvent {
            guid: uid,
            start,
            end,
            room: location,
            title: summary,
            track: ev
                .property_value("CATEGORIES")
                .map(|c| c.split(',').next().unwrap_or_default().trim().to_owned())
                .unwrap_or_default(),
            description: ev.get_description().unwrap_or_default().to_owned(),
            links,
            cancelled: ev.get_status() == Some(EventStatus::Cancelled),
            place,
            ..Default::default()
        });
    }
    Ok(schedule)
}

fn first_line(e: &str) -> String {
    e.lines().next().unwrap_or("cannot parse iCalendar").chars().take(200).collect()
}

fn instant(d: &icalendar::DatePerhapsTime, tz: &TimeZone, place: &str) -> Result<i64, ExchangeError> {
    use icalendar::DatePerhapsTime;
    let local = |n: chrono::NaiveDateTime, tz: &TimeZone| -> Result<i64, ExchangeError> {
        let text = n.format("%Y-%m-%dT%H:%M:%S").to_string();
        let dt: jiff::civil::DateTime = text.parse().map_err(|_| parse_error(place, format!("bad time {text}")))?;
        dt.to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp().as_second())
            .map_err(|e| parse_error(place, format!("time {text}: {e}")))
    };
    match d {
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(t)) => Ok(t.timestamp()),
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(n)) => local(*n, tz),
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
            let zone = TimeZone::get(tzid.trim_matches('"')).unwrap_or_else(|_| tz.clone());
            local(*date_time, &zone)
        }
        DatePerhapsTime::Date(day) => local(day.and_hms_opt(0, 0, 0).unwrap_or_default(), tz),
    }
}
