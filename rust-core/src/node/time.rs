//! Time as people read and type it: festival days, local times in the festival's zone.

use super::*;

/// The current time in Unix milliseconds, from the system clock: for what runs beside a node
/// (network counters), never for what the node writes (that is [`Node::now_ms`]).
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Node {
    /// The node's one clock, in Unix milliseconds: the store's, which tests and simulations set.
    /// Every op the node signs carries it.
    pub fn now_ms(&self) -> u64 {
        self.store.clock().now_ms()
    }

    /// Parses a time typed by a person: RFC 3339 with an offset, or a local date and time
    /// (`2026-07-10 14:00`, `2026-07-10T14:00`) in the festival's time zone.
    pub fn parse_time(&self, festival: &FestivalId, text: &str) -> Result<i64, NodeError> {
        let tz = self
            .festival(festival)
            .map(|f| TimeZone::get(&f.timezone).unwrap_or(TimeZone::UTC))
            .unwrap_or(TimeZone::UTC);
        parse_time(&tz, text)
    }

    /// The instant of a clock time (`HH:MM`) on a festival day, as a form asks for it: a time
    /// before the day change (a late set at 01:30) falls on the next calendar date.
    pub fn time_on_day(&self, festival: &FestivalId, day: Date, clock: &str) -> Result<i64, NodeError> {
        let f = self.festival(festival)?;
        let Ok(t) = clock.trim().parse::<jiff::civil::Time>() else {
            return Err(NodeError::Invalid(format!("cannot read time {:?}: use HH:MM", clock.trim())));
        };
        let minutes = i32::from(t.hour()) * 60 + i32::from(t.minute());
        let date = if minutes < i32::from(f.day_change_minutes) { day.tomorrow().unwrap_or(day) } else { day };
        parse_time(&festival_tz(&f), &date.to_datetime(t).to_string())
    }

    /// The festival day an instant belongs to: before the day change it is still the day
    /// before (01:30 on the second night belongs to the second day).
    pub fn festival_day_at(&self, festival: &FestivalId, unix_seconds: i64) -> Result<Date, NodeError> {
        let f = self.festival(festival)?;
        Ok(crate::model::festival_day(&festival_tz(&f), f.day_change_minutes, unix_seconds))
    }

    /// The day a programme opens on at `unix_seconds`: the festival day it is, if that day
    /// has events, else the first day that has; `None` with no events at all.
    pub fn opening_day(&self, festival: &FestivalId, unix_seconds: i64) -> Result<Option<String>, NodeError> {
        let days = self.days(festival)?;
        let today = self.festival_day_at(festival, unix_seconds)?.to_string();
        Ok(days.iter().find(|d| d.date == today).or(days.first()).map(|d| d.date.clone()))
    }
}

/// The instants a festival's programme may fall in: from its first day's start to its last
/// day's end, festival days running from the day change to the day change.
pub fn festival_window(f: &FestivalView) -> (i64, i64) {
    let tz = festival_tz(f);
    let at = |d: Date| {
        d.to_datetime(jiff::civil::Time::midnight())
            .to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp().as_second() + i64::from(f.day_change_minutes) * 60)
            .unwrap_or(0)
    };
    let after_last = f.end_date.checked_add(jiff::Span::new().days(1)).unwrap_or(f.end_date);
    (at(f.start_date), at(after_last))
}

/// Parses RFC 3339 or a local date-time in `tz` into Unix seconds. A local time the zone skips
/// (clocks go forward) or repeats (clocks go back) is refused with what to type instead, rather
/// than silently moved.
pub fn parse_time(tz: &TimeZone, text: &str) -> Result<i64, NodeError> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    let normalized = t.replacen(' ', "T", 1);
    let Ok(dt) = normalized.parse::<DateTime>() else {
        return Err(NodeError::Invalid(format!(
            "cannot read time {t:?}: use YYYY-MM-DD HH:MM (festival time) or RFC 3339 like 2026-07-10T14:00:00+02:00"
        )));
    };
    let zone = zone_label(tz.iana_name().unwrap_or("the festival's time zone"));
    let amb = tz.to_ambiguous_timestamp(dt);
    match amb.offset() {
        jiff::tz::AmbiguousOffset::Unambiguous { .. } => {
            amb.compatible().map(|ts| ts.as_second()).map_err(|e| NodeError::Invalid(format!("time {t:?}: {e}")))
        }
        jiff::tz::AmbiguousOffset::Gap { before, after } => Err(NodeError::Invalid(format!(
            "{t} does not exist in {zone}: clocks jump from {} to {} then; give a time before or after the gap",
            offset_label(before.seconds()),
            offset_label(after.seconds())
        ))),
        jiff::tz::AmbiguousOffset::Fold { before, after } => Err(NodeError::Invalid(format!(
            "{t} happens twice in {zone} (clocks go back): add the offset, {}{} for the first or {}{} for the second",
            dt.strftime("%Y-%m-%dT%H:%M"),
            offset_label(before.seconds()),
            dt.strftime("%Y-%m-%dT%H:%M"),
            offset_label(after.seconds())
        ))),
    }
}

/// Formats Unix seconds as local `YYYY-MM-DD HH:MM` in `tz`.
pub fn format_time(tz: &TimeZone, secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(ts) => ts.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string(),
        Err(_) => secs.to_string(),
    }
}

/// Formats Unix seconds as local `HH:MM` in `tz`.
pub fn format_clock(tz: &TimeZone, secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(ts) => ts.to_zoned_datetime(tz.clone()).strftime("%H:%M").to_string(),
        Err(_) => secs.to_string(),
    }
}

/// The time zone of a festival view (UTC if this device does not know the zone).
pub fn festival_tz(f: &FestivalView) -> TimeZone {
    TimeZone::get(&f.timezone).unwrap_or(TimeZone::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_programme_opens_on_the_festival_day_not_the_calendar_date() {
        let mut n = Node::in_memory(crate::identity::Identity::from_seed(3)).expect("node");
        let xml = include_bytes!("../../../tests/fixtures/wiese-v1.xml");
        let Imported::Schedule { festival, .. } =
            n.import(xml, &ImportOptions::default(), &mut |_, _| {}).expect("import")
        else {
            panic!("a schedule")
        };
        // Days 10 to 12 July 2026 in Berlin, changing at 04:00.
        let at = |local: &str| parse_time(&TimeZone::get("Europe/Berlin").expect("tz"), local).expect("time");
        let open = |t: i64| n.opening_day(&festival, t).expect("day");
        assert_eq!(open(at("2026-07-10 20:30")).as_deref(), Some("2026-07-10"));
        // A favourite at 01:30 on the second night: still the second day, though the calendar
        // says the third.
        assert_eq!(open(at("2026-07-12 01:30")).as_deref(), Some("2026-07-11"));
        assert_eq!(open(at("2026-07-12 04:00")).as_deref(), Some("2026-07-12"));
        // Before and after the festival: its first day.
        assert_eq!(open(at("2026-06-01 12:00")).as_deref(), Some("2026-07-10"));
        assert_eq!(open(at("2026-08-01 12:00")).as_deref(), Some("2026-07-10"));
        assert_eq!(n.festival_day_at(&festival, at("2026-07-11 03:59")).expect("day").to_string(), "2026-07-10");
    }

    #[test]
    fn parses_times_people_type() {
        let tz = TimeZone::get("Europe/Berlin").expect("tz");
        let a = parse_time(&tz, "2026-07-10 14:00").expect("local");
        let b = parse_time(&tz, "2026-07-10T14:00").expect("local T");
        let c = parse_time(&tz, "2026-07-10T12:00:00Z").expect("utc");
        let d = parse_time(&tz, "2026-07-10T14:00:00+02:00").expect("offset");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, d);
        assert!(parse_time(&tz, "tomorrow-ish").is_err());
        assert!(parse_time(&tz, "2026-13-01 10:00").is_err());
        assert_eq!(format_time(&tz, a), "2026-07-10 14:00");
    }
}
