//! Fuzzes the schedule parsers (frab XML, schedule JSON, iCalendar): hostile files must give an
//! error, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meadow_core::exchange::{frab, ical, json};

fuzz_target!(|data: &[u8]| {
    let _ = frab::parse(data);
    let _ = json::parse(data);
    let _ = ical::parse(data, &jiff::tz::TimeZone::UTC);
});
