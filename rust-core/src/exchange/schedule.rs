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
    /// Links (the event page first).
    pub links: Vec<Link>,
    /// Marked cancelled in the file (iCalendar `STATUS:CANCELLED`).
    pub cancelled: bool,
    /// Where in the file, for messages.
    pub place: String,
}

/// A parsed schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    /// The conference.
    pub conference: Conference,
    /// Rooms in file order.
    pub rooms: Vec<Room>,
    /// Events in file order.
    pub events: Vec<ScheduleEvent>,
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

/// Parses a time of day `HH:MM[:SS]` into minutes after midnight (for day-change settings).
pub fn parse_clock_minutes(s: &str) -> Option<u16> {
    let secs = parse_duration(s)?;
    (secs < 86_400).then_some((secs / 60) as u16)
}

/// Parses a schedule timestamp: ISO 8601 with an offset or `Z` keeps its instant; a local date
/// and time is read in `tz`.
pub fn parse_instant(s: &str, tz: &TimeZone) -> Option<i64> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    let local = s.replacen(' ', "T", 1).parse::<DateTime>().ok()?;
    local.to_zoned_datetime(tz.clone()).ok().map(|z| z.timestamp().as_second())
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
