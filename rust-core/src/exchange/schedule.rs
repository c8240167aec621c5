//! The schedule every importer produces: a conference, its rooms and events, in absolute time.
//! Parsers only read; [`super::import`] decides what changes.

use jiff::civil::Date;

use super::ExchangeError;
use crate::op::Link;

pub use super::text::{fit, html_entity, html_to_text};
pub use super::zone::{
    Instant, ZoneChoice, choose_zone, local_instant, offset_label, parse_instant, read_instant, zone_agrees, zone_label,
};

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

/// An error at a place in a file.
pub fn parse_error(place: impl Into<String>, reason: impl Into<String>) -> ExchangeError {
    ExchangeError::Parse { place: place.into(), reason: reason.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

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
