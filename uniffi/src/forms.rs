//! What the apps send: a new event, an event's changes or its form, a programme query.

/// A new event.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewEvent {
    /// Title.
    pub title: String,
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// Venue id, if any.
    pub venue_id: Option<String>,
    /// Track.
    pub track: String,
    /// Description.
    pub description: String,
}

/// Which events a programme list shows: every field left empty lets all through.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct ProgrammeQuery {
    /// One festival day (`YYYY-MM-DD`).
    #[uniffi(default)]
    pub day: Option<String>,
    /// One venue (id, hex).
    #[uniffi(default)]
    pub venue_id: Option<String>,
    /// One track.
    #[uniffi(default)]
    pub track: Option<String>,
    /// Events with this tag.
    #[uniffi(default)]
    pub tag: Option<String>,
    /// Official events only.
    #[uniffi(default)]
    pub official_only: bool,
}

/// An event's form as a phone shows it: a festival day and clock times on it, as typed.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EventForm {
    /// Title.
    pub title: String,
    /// The festival day (`YYYY-MM-DD`).
    pub day: String,
    /// Start, `HH:MM` on that day (before the day change: the night after it).
    pub start: String,
    /// End, `HH:MM` on that day.
    pub end: String,
    /// Venue (id, hex), if any.
    pub venue_id: Option<String>,
    /// Track.
    pub track: String,
    /// Description.
    pub description: String,
}

impl From<meadow_core::view::EventForm> for EventForm {
    fn from(f: meadow_core::view::EventForm) -> Self {
        EventForm {
            title: f.title,
            day: f.day.to_string(),
            start: f.start,
            end: f.end,
            venue_id: f.venue.map(|v| v.to_hex()),
            track: f.track,
            description: f.description,
        }
    }
}

impl EventForm {
    /// The core's form, its day and venue read (refused at their fields).
    pub(crate) fn into_core(self) -> Result<meadow_core::view::EventForm, crate::error::MeadowError> {
        use crate::error::{MeadowError, date, op_id};
        Ok(meadow_core::view::EventForm {
            title: self.title,
            day: date(&self.day).map_err(|e| MeadowError::at("day", e))?,
            start: self.start,
            end: self.end,
            venue: self.venue_id.as_deref().map(op_id).transpose().map_err(|e| MeadowError::at("venue", e))?,
            track: self.track,
            description: self.description,
        })
    }
}

/// Changes to an event: every field left empty stays as it is.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct EventChanges {
    /// New title.
    #[uniffi(default)]
    pub title: Option<String>,
    /// New start, Unix seconds.
    #[uniffi(default)]
    pub start: Option<i64>,
    /// New end, Unix seconds.
    #[uniffi(default)]
    pub end: Option<i64>,
    /// New venue (id, hex).
    #[uniffi(default)]
    pub venue_id: Option<String>,
    /// Takes the event out of its venue.
    #[uniffi(default)]
    pub clear_venue: bool,
    /// New track.
    #[uniffi(default)]
    pub track: Option<String>,
    /// New description.
    #[uniffi(default)]
    pub description: Option<String>,
}
