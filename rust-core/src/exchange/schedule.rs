//! The schedule every importer produces: a conference, its rooms and events, in absolute time.
//! Parsers only read; [`super::import`] decides what changes.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use super::ExchangeError;
use crate::op::Link;

/// Conference metadata, as far as the file gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conference {
    /// Title.
    pub title: String,
    /// Short name; scopes the guids of this schedule.
    pub acronym: String,
    /// First day.
    pub start: Option<Date>,
    /// Last day.
    pub end: Option<Date>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// When one programme day turns into the next, minutes after midnight.
    pub day_change_minutes: Option<u16>,
    /// Website.
    pub url: String,
}

/// A room (venue).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Room {
    /// Name.
    pub name: String,
    /// Stable id, when the file has one.
    pub guid: Option<String>,
}

/// One event of a schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleEvent {
    /// Stable id across versions of the schedule.
    pub guid: String,
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// Room name (empty for none).
    pub room: String,
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: String,
    /// Track.
    pub track: String,
    /// Type (talk, workshop...).
    pub kind: String,
    /// Language.
    pub language: String,
    /// Abstract and description, joined.
    pub description: String,
    /// Speakers.
    pub persons: Vec<String>,
    /// The event's own page (`<url>`), apart from its other links.
    pub url: String,
    /// Other links.
    pub links: Vec<Link>,
    /// The event's numeric id in the file, where it is one a signed 32-bit integer holds.
    pub source_number: Option<u32>,
    /// The people on stage asked not to be recorded (`None`: the file does not say).
    pub do_not_record: Option<bool>,
    /// Licence of recordings.
    pub recording_license: String,
    /// Marked cancelled in the file (iCalendar `STATUS:CANCELLED`).
    pub cancelled: bool,
    /// Where in the file, for messages.
    pub place: String,
    /// The UTC offset the file wrote with the start, in seconds, when it wrote one: the best
    /// evidence of the festival's time zone.
    pub offset: Option<i32>,
    /// Whether the start was a local time without an offset, read in the schedule's zone.
    pub local: bool,
}

/// A parsed schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    /// What the file was, for messages (`frab schedule.xml`, ...).
    pub format: &'static str,
    /// The conference.
    pub conference: Conference,
    /// Rooms in file order.
    pub rooms: Vec<Room>,
    /// Events in file order.
    pub events: Vec<ScheduleEvent>,
    /// Things worth telling whoever imports it (a local time that does not exist, say).
    pub notes: Vec<String>,
}

/// Parses a duration as schedules write it: `HH:MM` (hours beyond 24 allowed, `26:00`),
/// `HH:MM:SS`, or plain minutes. pretalx writes `D:HH:MM` for a day or more, which reads the
/// same as `HH:MM:SS`: pass `days_first` for files pretalx generated.
pub fn parse_duration_from(s: &str, days_first: bool) -> Option<i64> {
    if days_first {
        let parts: Vec<&str> = s.trim().split(':').collect();
        if let [d, h, m] = parts.as_slice() {
            let n = |x: &str| x.trim().parse::<i64>().ok().filter(|n| *n >= 0);
            return Some(n(d)? * 86_400 + n(h)? * 3600 + n(m)? * 60);
        }
    }
    parse_duration(s)
}

/// Parses a duration: `HH:MM`, `HH:MM:SS`, `D:HH:MM:SS` or plain minutes.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let parts: Vec<&str> = s.split(':').collect();
    let nums: Option<Vec<i64>> = parts.iter().map(|p| p.trim().parse::<i64>().ok().filter(|n| *n >= 0)).collect();
    let nums = nums?;
    let secs = match nums.as_slice() {
        [m] => m * 60,
        [h, m] => h * 3600 + m * 60,
        [h, m, s] => h * 3600 + m * 60 + s,
        [d, h, m, s] => d * 86_400 + h * 3600 + m * 60 + s,
        _ => return None,
    };
    Some(secs)
}

/// A schedule's numeric event id as Meadow keeps it: a whole number that a signed 32-bit integer
/// holds, 1 or more (apps read ids so); anything else is not kept.
pub fn source_number(id: &str) -> Option<u32> {
    id.trim().parse::<u32>().ok().filter(|n| (1..=crate::op::limits::MAX_SOURCE_NUMBER).contains(n))
}

/// The last day of a schedule whose conference end says one day more than its own list of days
/// (an exclusive end, as some exporters write it): the last listed day. An end within the listed
/// days, or a file that lists none, is kept as it is.
pub fn inclusive_end(end: Option<Date>, listed: impl Iterator<Item = Date>) -> Option<Date> {
    let last = listed.max();
    match (end, last) {
        (Some(e), Some(l)) if e > l && Some(e) == l.tomorrow().ok() => Some(l),
        (None, l) => l,
        (e, _) => e,
    }
}

/// Parses a time of day `HH:MM[:SS]` into minutes after midnight (for day-change settings).
pub fn parse_clock_minutes(s: &str) -> Option<u16> {
    let secs = parse_duration(s)?;
    (secs < 86_400).then_some((secs / 60) as u16)
}

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

/// The day-change time that frab's day boundaries imply: the earliest time of day at which a day
/// of the schedule starts (`04:00` for pretalx and most frab instances), if it is in the morning.
pub fn day_change_from_day_starts<'a>(starts: impl Iterator<Item = &'a str>) -> Option<u16> {
    starts.filter_map(|s| s.trim().get(11..16)).filter_map(parse_clock_minutes).filter(|m| *m < 12 * 60).min()
}

/// The local date of a schedule timestamp, for files that give only dates.
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    s.get(..10).and_then(|d| d.parse::<Date>().ok())
}

/// Makes text from a file fit a field: control characters (other than line breaks and tabs where
/// allowed) become spaces, and text over `max` bytes is cut at a character boundary with `…`.
/// Returns whether it had to cut.
pub fn fit(text: &str, max: usize, multiline: bool) -> (String, bool) {
    let mut s: String = text
        .trim()
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c != '\r')
        .map(|c| if c.is_control() && !(multiline && (c == '\n' || c == '\t')) { ' ' } else { c })
        .collect();
    if s.len() <= max {
        return (s, false);
    }
    let mut cut = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s.push('…');
    (s, true)
}

/// Resolves an HTML entity name (without `&` and `;`) that schedule files use although XML does
/// not define it. Covers the Latin-1 set and common typography; `None` for anything else.
pub fn html_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "nbsp" => "\u{a0}",
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "ndash" => "–",
        "mdash" => "—",
        "hellip" => "…",
        "lsquo" => "‘",
        "rsquo" => "’",
        "sbquo" => "‚",
        "ldquo" => "“",
        "rdquo" => "”",
        "bdquo" => "„",
        "laquo" => "«",
        "raquo" => "»",
        "bull" => "•",
        "middot" => "·",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "euro" => "€",
        "pound" => "£",
        "yen" => "¥",
        "cent" => "¢",
        "deg" => "°",
        "times" => "×",
        "divide" => "÷",
        "plusmn" => "±",
        "para" => "¶",
        "sect" => "§",
        "shy" => "\u{ad}",
        "iexcl" => "¡",
        "iquest" => "¿",
        "auml" => "ä",
        "ouml" => "ö",
        "uuml" => "ü",
        "Auml" => "Ä",
        "Ouml" => "Ö",
        "Uuml" => "Ü",
        "szlig" => "ß",
        "aacute" => "á",
        "eacute" => "é",
        "iacute" => "í",
        "oacute" => "ó",
        "uacute" => "ú",
        "Aacute" => "Á",
        "Eacute" => "É",
        "Iacute" => "Í",
        "Oacute" => "Ó",
        "Uacute" => "Ú",
        "agrave" => "à",
        "egrave" => "è",
        "igrave" => "ì",
        "ograve" => "ò",
        "ugrave" => "ù",
        "Agrave" => "À",
        "Egrave" => "È",
        "acirc" => "â",
        "ecirc" => "ê",
        "icirc" => "î",
        "ocirc" => "ô",
        "ucirc" => "û",
        "atilde" => "ã",
        "otilde" => "õ",
        "ntilde" => "ñ",
        "Ntilde" => "Ñ",
        "ccedil" => "ç",
        "Ccedil" => "Ç",
        "aring" => "å",
        "Aring" => "Å",
        "aelig" => "æ",
        "AElig" => "Æ",
        "oslash" => "ø",
        "Oslash" => "Ø",
        "euml" => "ë",
        "iuml" => "ï",
        "yuml" => "ÿ",
        "thorn" => "þ",
        "eth" => "ð",
        _ => return None,
    })
}

/// Turns the HTML that schedule descriptions often carry into plain text: block tags become
/// line breaks, other tags go, entities are resolved. Text without tags is returned as it is.
pub fn html_to_text(s: &str) -> String {
    if !s.contains('<') && !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            let Some(end) = rest.find('>') else { break };
            let tag = rest[1..end].trim_start_matches('/').to_ascii_lowercase();
            let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or_default();
            let starts_like_a_tag = tag.starts_with(|c: char| c.is_ascii_alphabetic());
            if starts_like_a_tag && name.chars().all(|c| c.is_ascii_alphanumeric()) {
                if matches!(name, "br" | "p" | "div" | "li" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "tr") {
                    out.push('\n');
                }
                rest = &rest[end + 1..];
            } else {
                // Not a tag ("a < b"): keep the character.
                out.push('<');
                rest = &rest[1..];
            }
        } else {
            let end = rest[1..].find(';').map(|e| e + 1).filter(|e| *e <= 12);
            let resolved = end.and_then(|e| {
                let name = &rest[1..e];
                match name.strip_prefix('#') {
                    Some(num) => num
                        .strip_prefix(['x', 'X'])
                        .map_or_else(|| num.parse().ok(), |h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .map(String::from),
                    None => html_entity(name).map(str::to_owned),
                }
                .map(|r| (r, e))
            });
            match resolved {
                Some((text, e)) => {
                    out.push_str(&text);
                    rest = &rest[e + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    // Collapse the blank lines that block tags leave behind.
    let mut lines: Vec<&str> = Vec::new();
    for line in out.lines().map(str::trim_end) {
        if line.trim().is_empty() && lines.last().is_some_and(|l| l.trim().is_empty()) {
            continue;
        }
        lines.push(line);
    }
    lines.join("\n").trim().to_owned()
}

/// An error at a place in a file.
pub fn parse_error(place: impl Into<String>, reason: impl Into<String>) -> ExchangeError {
    ExchangeError::Parse { place: place.into(), reason: reason.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_agreement_holds_across_a_clock_change_and_catches_one_wrong_offset() {
        let berlin = TimeZone::get("Europe/Berlin").expect("zone");
        // 2026-10-25 00:30 UTC is 02:30 summer time; 01:30 UTC is 02:30 winter time.
        let around = [(1_792_888_200, 7200), (1_792_891_800, 3600), (1_792_895_400, 3600)];
        assert!(zone_agrees(&berlin, &around));
        // Years apart: every transition between them is read.
        assert!(zone_agrees(&berlin, &[(1_700_000_000, 3600), (1_792_888_200, 7200), (1_900_000_000, 3600)]));
        let mut wrong = around;
        wrong[1].1 = 7200;
        assert!(!zone_agrees(&berlin, &wrong));
        assert!(!zone_agrees(&TimeZone::UTC, &around));
        assert!(zone_agrees(&berlin, &[]));
    }

    #[test]
    fn durations_as_files_write_them() {
        assert_eq!(parse_duration("00:30"), Some(1800));
        assert_eq!(parse_duration("1:30"), Some(5400));
        assert_eq!(parse_duration("01:00:30"), Some(3630));
        assert_eq!(parse_duration("26:00"), Some(26 * 3600));
        assert_eq!(parse_duration("45"), Some(2700));
        assert_eq!(parse_duration("a:b"), None);
        assert_eq!(parse_duration("-1:00"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration_from("1:02:00", true), Some(26 * 3600));
        assert_eq!(parse_duration_from("1:02:00", false), Some(3600 + 120));
        assert_eq!(parse_duration_from("15:00", true), Some(15 * 3600));
    }

    #[test]
    fn instants_keep_offsets_and_read_local_times_in_the_zone() {
        let tz = TimeZone::get("Europe/Berlin").expect("tz");
        let a = parse_instant("2026-07-10T14:00:00+02:00", &tz);
        let b = parse_instant("2026-07-10T12:00:00Z", &tz);
        let c = parse_instant("2026-07-10T14:00:00", &tz);
        let d = parse_instant("2026-07-10 14:00", &tz);
        assert!(a.is_some());
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, d);
        assert_eq!(parse_instant("soon", &tz), None);
    }

    #[test]
    fn offsets_are_remembered_and_gaps_and_folds_noted() {
        let tz = TimeZone::get("Europe/Berlin").expect("tz");
        assert_eq!(read_instant("2014-12-27T11:00:00+01:00", &tz).and_then(|i| i.offset), Some(3600));
        assert_eq!(read_instant("2014-12-27T11:00:00Z", &tz).and_then(|i| i.offset), Some(0));
        assert_eq!(read_instant("2014-12-27T11:00:00-0530", &tz).and_then(|i| i.offset), Some(-19800));
        assert_eq!(read_instant("2014-12-27T11:00:00", &tz).and_then(|i| i.offset), None);
        let gap = read_instant("2026-03-29T02:30:00", &tz).expect("gap");
        assert!(gap.note.as_deref().is_some_and(|n| n.contains("does not exist")), "{gap:?}");
        let fold = read_instant("2026-10-25T02:30:00", &tz).expect("fold");
        assert!(fold.note.as_deref().is_some_and(|n| n.contains("twice")), "{fold:?}");
    }

    fn with_offsets(declared: Option<&str>, times: &[(&str, i32)]) -> Schedule {
        let tz = TimeZone::UTC;
        Schedule {
            conference: Conference { timezone: declared.map(str::to_owned), ..Default::default() },
            events: times
                .iter()
                .map(|(t, o)| ScheduleEvent {
                    start: parse_instant(t, &tz).expect("t"),
                    offset: Some(*o),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_zone_comes_from_the_offsets_when_the_name_is_missing_or_wrong() {
        // No name, one offset: a fixed offset, shown as such.
        let c = choose_zone(&with_offsets(None, &[("2014-12-27T11:00:00+01:00", 3600)]));
        assert_eq!((c.name.as_str(), zone_label(&c.name).as_str()), ("Etc/GMT-1", "UTC+01:00"));
        assert!(c.warning.is_none() && c.reason.contains("+01:00"));
        // Declared UTC, times +01:00: the offsets win, with a warning naming both.
        let c = choose_zone(&with_offsets(Some("UTC"), &[("2026-01-10T10:00:00+01:00", 3600)]));
        assert_eq!(c.name, "Etc/GMT-1");
        let w = c.warning.expect("warning");
        assert!(w.contains("\"UTC\"") && w.contains("+01:00"), "{w}");
        // A festival over the change to winter time: a zone whose rules give both offsets.
        let c = choose_zone(&with_offsets(
            None,
            &[("2026-10-24T20:00:00+02:00", 7200), ("2026-10-25T20:00:00+01:00", 3600)],
        ));
        let tz = TimeZone::get(&c.name).expect("zone");
        assert_eq!(tz.to_offset(jiff::Timestamp::from_second(1_792_871_200).expect("ts")).seconds(), 7200);
        // A declared zone that agrees is kept.
        let c = choose_zone(&with_offsets(Some("Europe/Berlin"), &[("2026-07-10T10:00:00+02:00", 7200)]));
        assert_eq!((c.name.as_str(), c.warning), ("Europe/Berlin", None));
        // Half-hour offsets find a real zone.
        let c = choose_zone(&with_offsets(None, &[("2026-07-10T10:00:00+05:30", 19800)]));
        assert_eq!(c.name, "Asia/Kolkata");
    }

    #[test]
    fn html_descriptions_become_text() {
        assert_eq!(
            html_to_text("<p>Mit &#8220;Blech&#8221;</p><p>a&nbsp;b &amp; c</p>"),
            "Mit “Blech”\n\na\u{a0}b & c"
        );
        assert_eq!(html_to_text("x < y and y > z"), "x < y and y > z");
        assert_eq!(html_to_text("line<br/>break"), "line\nbreak");
        assert_eq!(html_to_text("AT&T"), "AT&T");
        assert_eq!(html_to_text("plain"), "plain");
    }

    #[test]
    fn text_is_fitted_to_limits() {
        assert_eq!(fit("  a\u{0}b\nc ", 100, false), ("a b c".to_owned(), false));
        assert_eq!(fit("a\nb", 100, true), ("a\nb".to_owned(), false));
        assert_eq!(fit("a\r\nb\rc", 100, true), ("a\nbc".to_owned(), false));
        let (s, cut) = fit(&"ä".repeat(100), 11, false);
        assert!(cut && s.len() <= 11 && s.ends_with('…'));
    }
}
