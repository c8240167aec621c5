//! Programme exchange: schedules in the formats conference tools publish (frab/Pentabarf XML,
//! the pretalx/frab schedule JSON, iCalendar) become signed ops, and programmes go back out as
//! iCalendar and as festival archives.

pub mod archive;
pub mod frab;
pub mod ical;
pub mod import;
pub mod json;
pub mod publish;
pub mod schedule;
pub mod text;
pub mod zone;

use thiserror::Error;

use crate::op::OpError;
use crate::store::StoreError;

/// Largest schedule or archive file read (a 2,000-event schedule is a few MB).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Why an import or export failed. Parse errors name the place in the file.
#[derive(Debug, Error)]
pub enum ExchangeError {
    /// The file is not a schedule this version understands.
    #[error("{place}: {reason}")]
    Parse {
        /// Where: `line 12, column 4`, or a path such as `schedule.conference.days[1]`.
        place: String,
        /// What is wrong there.
        reason: String,
    },
    /// A festival archive is damaged or forged.
    #[error("archive, byte {offset}: {reason}")]
    Archive {
        /// Byte offset.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// The file's format could not be recognised.
    #[error("unrecognised file format: {0}")]
    UnknownFormat(String),
    /// Content that parsed but cannot become a valid programme.
    #[error("{0}")]
    Invalid(String),
    /// Reading the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A generated op was invalid.
    #[error(transparent)]
    Op(#[from] OpError),
}

/// The formats `meadow import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// frab/Pentabarf `schedule.xml`.
    FrabXml,
    /// The pretalx/frab schedule JSON.
    ScheduleJson,
    /// iCalendar (`.ics`).
    ICalendar,
    /// A Meadow festival archive.
    Archive,
}

impl Format {
    /// Parses a `--format` value.
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "frab" | "xml" | "pentabarf" => Some(Format::FrabXml),
            "json" | "pretalx" => Some(Format::ScheduleJson),
            "ics" | "ical" | "icalendar" => Some(Format::ICalendar),
            "archive" | "meadow" => Some(Format::Archive),
            _ => None,
        }
    }

    /// Recognises a format from the first bytes of the content, not the file name.
    pub fn detect(bytes: &[u8]) -> Result<Format, ExchangeError> {
        if bytes.starts_with(archive::MAGIC) {
            return Ok(Format::Archive);
        }
        let head = &bytes[..bytes.len().min(4096)];
        let text = String::from_utf8_lossy(head);
        let t = text.trim_start_matches('\u{feff}').trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            return Ok(Format::ScheduleJson);
        }
        if t.starts_with('<') {
            return Ok(Format::FrabXml);
        }
        if t.to_ascii_uppercase().starts_with("BEGIN:VCALENDAR") {
            return Ok(Format::ICalendar);
        }
        Err(ExchangeError::UnknownFormat(
            "expected frab XML, schedule JSON, iCalendar or a Meadow archive (use --format to force one)".into(),
        ))
    }
}
