//! Times in schedules: instants as files write them (with or without an offset, in a declared
//! zone that may be wrong), and the zone a festival made from a schedule gets, inferred from
//! the offsets the file actually uses.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::schedule::Schedule;

/// A schedule timestamp as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instant {
    /// Unix seconds.
    pub secs: i64,
    /// The offset written with it, in seconds east of UTC.
    pub offset: Option<i32>,
    /// Set when a local time had to be adjusted: it falls in the hour skipped when clocks go
    /// forward (moved to after the gap), or in the hour that happens twice (the first is taken).
    pub note: Option<String>,
}

/// The offset at the end of an RFC 3339 timestamp (`Z`, `+01:00`, `-0500`), in seconds.
fn written_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.ends_with(['Z', 'z']) {
        return Some(0);
    }
    let t = s.find(['T', 't', ' '])?;
    let at = s[t..].rfind(['+', '-'])? + t;
    let sign = if s[at..].starts_with('-') { -1 } else { 1 };
    let digits: String = s[at + 1..].chars().filter(char::is_ascii_digit).collect();
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?),
        _ => return None,
    };
    Some(sign * (h * 3600 + m * 60))
}

/// Reads a local date-time in `tz`, saying so when it does not exist (a spring-forward gap: it is
/// moved forward by the gap) or exists twice (a fall-back fold: the first is taken).
pub fn local_instant(dt: DateTime, tz: &TimeZone) -> Option<(i64, Option<String>)> {
    let amb = tz.to_ambiguous_timestamp(dt);
    let note = match amb.offset() {
        jiff::tz::AmbiguousOffset::Unambiguous { .. } => None,
        jiff::tz::AmbiguousOffset::Gap { before, after } => Some(format!(
            "{} does not exist in {} (clocks go from {} to {}); moved forward by the gap",
            dt.strftime("%Y-%m-%d %H:%M"),
            zone_label(tz.iana_name().unwrap_or("the festival's zone")),
            offset_label(before.seconds()),
            offset_label(after.seconds())
        )),
        jiff::tz::AmbiguousOffset::Fold { before, after } => Some(format!(
            "{} happens twice in {} ({}, then {}); taken as the first",
            dt.strftime("%Y-%m-%d %H:%M"),
            zone_label(tz.iana_name().unwrap_or("the festival's zone")),
            offset_label(before.seconds()),
            offset_label(after.seconds())
        )),
    };
    Some((amb.compatible().ok()?.as_second(), note))
}

/// Parses a schedule timestamp: ISO 8601 with an offset or `Z` keeps its instant (and the offset
/// is remembered); a local date and time is read in `tz`.
pub fn read_instant(s: &str, tz: &TimeZone) -> Option<Instant> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(Instant { secs: ts.as_second(), offset: written_offset(s), note: None });
    }
    let local = s.replacen(' ', "T", 1).parse::<DateTime>().ok()?;
    let (secs, note) = local_instant(local, tz)?;
    Some(Instant { secs, offset: None, note })
}

/// Parses a schedule timestamp into Unix seconds (see [`read_instant`]).
pub fn parse_instant(s: &str, tz: &TimeZone) -> Option<i64> {
    read_instant(s, tz).map(|i| i.secs)
}

/// The IANA name of the zone with a constant offset, when there is one (`Etc/GMT-1` is UTC+1:
/// the tz database writes these signs the POSIX way round).
fn fixed_zone_name(offset: i32) -> Option<String> {
    if offset == 0 {
        return Some("UTC".into());
    }
    if offset % 3600 != 0 || offset.abs() > 14 * 3600 {
        return None;
    }
    let h = offset / 3600;
    Some(if h > 0 { format!("Etc/GMT-{h}") } else { format!("Etc/GMT+{}", -h) })
}

/// How a zone name is best shown: fixed-offset zones as `UTC+01:00`, others by name.
pub fn zone_label(name: &str) -> String {
    let hours = name.strip_prefix("Etc/GMT").and_then(|h| if h.is_empty() { Some(0) } else { h.parse::<i32>().ok() });
    match hours {
        Some(h) => {
            let east = -h;
            if east == 0 {
                "UTC".into()
            } else {
                format!("UTC{}{:02}:00", if east > 0 { '+' } else { '-' }, east.abs())
            }
        }
        _ => name.to_owned(),
    }
}

/// An offset as people write it: `+01:00`.
pub fn offset_label(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let s = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// Zones preferred when several fit a schedule's offsets equally well.
const LIKELY_ZONES: &[&str] = &[
    "Europe/Berlin",
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Helsinki",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "Asia/Tokyo",
];

/// The time zone a festival made from a schedule gets, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneChoice {
    /// IANA name.
    pub name: String,
    /// Why this one, in words.
    pub reason: String,
    /// Set when the schedule's declared zone contradicts its own times.
    pub warning: Option<String>,
}

/// Whether `tz` gives each instant of `observed` (seconds, sorted) the offset it carries.
pub fn zone_agrees(tz: &TimeZone, observed: &[(i64, i32)]) -> bool {
    let (Some(first), Some(last)) = (observed.first(), observed.last()) else { return true };
    let offsets = Offsets::new(tz, first.0, last.0);
    observed.iter().all(|(t, off)| offsets.at(*t) == Some(*off))
}

/// A zone's offsets over a span of time, read once: a lookup is then a binary search, where
/// asking the zone evaluates its rules for the year every time (microseconds per instant).
struct Offsets {
    /// (first second, offset in seconds) of each period, sorted.
    periods: Vec<(i64, i32)>,
    /// Instants outside the span are asked of the zone.
    span: (i64, i64),
    tz: TimeZone,
}

impl Offsets {
    fn new(tz: &TimeZone, from: i64, to: i64) -> Offsets {
        let mut periods = Vec::new();
        if let Ok(start) = jiff::Timestamp::from_second(from) {
            periods.push((i64::MIN, tz.to_offset(start).seconds()));
            for t in tz.following(start) {
                let at = t.timestamp().as_second();
                if at > to {
                    break;
                }
                periods.push((at, t.offset().seconds()));
            }
        }
        Offsets { periods, span: (from, to), tz: tz.clone() }
    }

    fn at(&self, t: i64) -> Option<i32> {
        if t < self.span.0 || t > self.span.1 || self.periods.is_empty() {
            return jiff::Timestamp::from_second(t).ok().map(|ts| self.tz.to_offset(ts).seconds());
        }
        let i = self.periods.partition_point(|(start, _)| *start <= t);
        self.periods.get(i.checked_sub(1)?).map(|(_, o)| *o)
    }
}

/// Chooses a schedule's time zone from what it declares and, above all, from the offsets its
/// times carry: the offsets are what the organisers' tool actually computed, while a declared
/// name is sometimes a default nobody changed (pretalx exports that say `UTC` while every time
/// carries `+01:00`). A declared zone that matches every offset is kept; otherwise the offsets
/// decide: a fixed offset when they are all the same, else a zone whose rules give all of them.
pub fn choose_zone(s: &Schedule) -> ZoneChoice {
    let declared = s.conference.timezone.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let declared_tz = declared.and_then(|d| TimeZone::get(d).ok().map(|tz| (d, tz)));
    let mut observed: Vec<(i64, i32)> = s.events.iter().filter_map(|e| e.offset.map(|o| (e.start, o))).collect();
    observed.sort_unstable();
    observed.dedup();
    let fits = |tz: &TimeZone| zone_agrees(tz, &observed);
    if observed.is_empty() {
        return match declared_tz {
            Some((d, _)) => ZoneChoice { name: d.to_owned(), reason: "named by the schedule".into(), warning: None },
            None => ZoneChoice {
                name: "UTC".into(),
                reason: match declared {
                    Some(d) => format!("the schedule names an unknown time zone {d:?} and its times carry no offsets"),
                    None => "the schedule names no time zone and its times carry no offsets".into(),
                },
                warning: None,
            },
        };
    }
    if let Some((d, tz)) = &declared_tz
        && fits(tz)
    {
        return ZoneChoice {
            name: (*d).to_owned(),
            reason: "named by the schedule, and every time in it agrees".into(),
            warning: None,
        };
    }
    let mut offsets: Vec<i32> = observed.iter().map(|(_, o)| *o).collect();
    offsets.sort_unstable();
    offsets.dedup();
    let said: Vec<String> = offsets.iter().map(|o| offset_label(*o)).collect();
    let fixed = match offsets.as_slice() {
        [one] => fixed_zone_name(*one),
        _ => None,
    };
    let name = fixed.or_else(|| {
        let candidate = |n: &str| TimeZone::get(n).ok().filter(|tz| fits(tz)).map(|_| n.to_owned());
        LIKELY_ZONES.iter().find_map(|n| candidate(n)).or_else(|| {
            let mut names: Vec<String> = jiff::tz::db()
                .available()
                .map(|n| n.to_string())
                .filter(|n| n.contains('/') && !n.starts_with("Etc/") && !n.starts_with("SystemV/"))
                .collect();
            names.sort();
            names.into_iter().find_map(|n| candidate(&n))
        })
    });
    let name = name.unwrap_or_else(|| "UTC".into());
    let times = if said.len() == 1 {
        format!("every time in it carries {}", said[0])
    } else {
        format!("its times carry {}", said.join(" and "))
    };
    let reason = match declared {
        None => format!("the schedule names no time zone, but {times}"),
        Some(d) => format!("the schedule names {d:?}, but {times}"),
    };
    let warning = declared.map(|d| {
        format!(
            "the schedule declares the time zone {d:?} but {times}; times are shown in {} instead",
            zone_label(&name)
        )
    });
    ZoneChoice { name, reason, warning }
}
