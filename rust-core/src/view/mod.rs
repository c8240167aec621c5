//! The read models every front end shows: a festival, its venues, an event as a list row and
//! in full, announcements, what changed, a personal agenda, facets, now and next. The store fills
//! them; the CLI, the web page and the bindings render them and define no read model of their own.
//! Rules that only need these values (the agenda's reminders, gaps and clashes) live here too.

mod crew;
mod day;
mod provenance;

pub use crew::{CrewClash, CrewMember, CrewView};
pub use day::{DayRow, DayView, MIN_CELL_SECONDS, lanes, now_line};
pub use provenance::{Arrival, OpOrigin, Provenance, Via};

use jiff::civil::Date;

use crate::identity::PublicKey;
use crate::model::FestivalFields;
use crate::op::{FestivalId, ForkRef, GeoPoint, Link, OpId, Priority};

/// A calendar date (the name apps see it by: Swift and Java have a `Date` of their own).
#[cfg(feature = "uniffi")]
pub type CivilDate = Date;

// Apps see a civil date as `YYYY-MM-DD`, the form every festival field and form uses.
#[cfg(feature = "uniffi")]
uniffi::custom_type!(CivilDate, String, {
    remote,
    lower: |d| d.to_string(),
    try_lift: |s| Ok(s.parse::<CivilDate>()?),
});

/// A festival as listed and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FestivalView {
    /// Id.
    pub id: FestivalId,
    /// Its own fields: name, description, zone, days, place, day change.
    pub fields: FestivalFields,
    /// Creator.
    pub owner: PublicKey,
    /// Current organisers (owner excluded).
    pub organisers: Vec<PublicKey>,
    /// Where it was forked from.
    pub forked_from: Option<ForkRef>,
}

// Read as `festival.name`: a view is its festival's fields plus who runs it and where it came
// from.
impl std::ops::Deref for FestivalView {
    type Target = FestivalFields;

    fn deref(&self) -> &FestivalFields {
        &self.fields
    }
}

/// A venue.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct VenueView {
    /// Id.
    pub id: OpId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Position.
    pub location: Option<GeoPoint>,
    /// Created by an organiser.
    pub official: bool,
    /// Id in an imported schedule.
    pub source_id: String,
    /// Place in the schedule's room order, if it has one.
    pub position: Option<u32>,
}

/// An event as a programme list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EventView {
    /// Id.
    pub id: OpId,
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: String,
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// Festival day (`YYYY-MM-DD`) it belongs to.
    pub day: String,
    /// Venue id.
    pub venue: Option<OpId>,
    /// Venue name, empty without a venue.
    pub venue_name: String,
    /// Track.
    pub track: String,
    /// Kind.
    pub kind: String,
    /// Tags.
    pub tags: Vec<String>,
    /// People.
    pub people: Vec<String>,
    /// Cancelled.
    pub cancelled: bool,
    /// Moved from the time or venue it was first announced with.
    pub moved: bool,
    /// Posted by an organiser (else a community event).
    pub official: bool,
    /// Author of the creating op.
    pub creator: PublicKey,
    /// Favourited on this device.
    pub favourite: bool,
    /// How many members of the viewer's crews (not the viewer) favour it or head there.
    pub crew: u32,
}

/// Everything about one event, for its own screen.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EventDetail {
    /// What the programme shows.
    pub event: EventView,
    /// Description.
    pub description: String,
    /// Language.
    pub language: String,
    /// Links.
    pub links: Vec<Link>,
    /// Id in an imported schedule.
    pub source_id: String,
    /// When and where it was first announced, if it has moved since.
    pub moved_from: Option<Slot>,
    /// The event's own web page (empty for none).
    pub url: String,
    /// Numeric id in an imported schedule.
    pub source_number: Option<u32>,
    /// Not to be recorded.
    pub do_not_record: bool,
    /// Licence of recordings (empty for none given).
    pub recording_license: String,
    /// Whether this device's identity may edit it (its author, or an organiser); the node
    /// fills it in, the store does not know who asks.
    pub editable: bool,
    /// Who signed it and its latest change, and how they reached this device.
    pub provenance: Option<Provenance>,
    /// Hidden from this person's own programme (it still opens by id).
    pub hidden_here: bool,
    /// The names (or fingerprints) of the viewer's crew members who favour it or head there.
    pub crew_going: Vec<String>,
}

/// A time and place in the programme.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Slot {
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// Venue id.
    pub venue: Option<OpId>,
    /// Venue name, empty without a venue (or if it was deleted since).
    pub venue_name: String,
}

/// Part of a festival's programme, as a list pages through it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProgrammePage {
    /// The events of this page, in programme order.
    pub events: Vec<EventView>,
    /// Where the page starts in the whole list.
    pub offset: u32,
    /// How many events the whole list holds.
    pub total: u32,
}

/// A festival day that has events, and how many it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FestivalDay {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Events shown that day.
    pub events: u64,
}

/// Which events a programme query returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgrammeFilter {
    /// Only this festival day.
    pub day: Option<Date>,
    /// Only this venue.
    pub venue: Option<OpId>,
    /// Only this track.
    pub track: Option<String>,
    /// Only events with this tag.
    pub tag: Option<String>,
    /// Only official events.
    pub official_only: bool,
}

impl ProgrammeFilter {
    /// The filter as queries read it: a track or tag that is blank once trimmed names nothing,
    /// and names are compared trimmed (what a person typed or a form left empty).
    pub fn normalized(&self) -> ProgrammeFilter {
        let named = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        ProgrammeFilter { track: named(&self.track), tag: named(&self.tag), ..self.clone() }
    }
}

/// An event as its form holds it: a festival day and clock times on it, as a person types them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventForm {
    /// Title.
    pub title: String,
    /// The festival day.
    pub day: Date,
    /// Start, `HH:MM` on that day.
    pub start: String,
    /// End, `HH:MM` on that day.
    pub end: String,
    /// Venue, if any.
    pub venue: Option<OpId>,
    /// Track.
    pub track: String,
    /// Description.
    pub description: String,
}

/// An announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AnnouncementView {
    /// Id.
    pub id: OpId,
    /// Author.
    pub author: PublicKey,
    /// Author's display name, if they set one.
    pub author_name: String,
    /// Text.
    pub text: String,
    /// Priority.
    pub priority: Priority,
    /// Expiry, Unix seconds.
    pub expires: Option<i64>,
    /// Author's wall clock when posted, Unix ms (informational).
    pub wall_time_ms: u64,
    /// When it was posted as far as can be told: the author's clock, unless that claims a time
    /// more than [`CLOCK_AHEAD_TOLERANCE_S`] after this device's, which no real posting can be.
    pub posted_at: Option<i64>,
}

/// How far ahead of this device's clock an author's clock may be before the posting time it
/// claims is not shown (phones' clocks drift, but not by an hour).
pub const CLOCK_AHEAD_TOLERANCE_S: i64 = 3600;

/// How an event changed since the last look.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ChangeKind {
    /// Not there at the last look.
    New,
    /// Start, end or venue changed; where it was at the last look.
    Moved {
        /// Previous start.
        from_start: i64,
        /// Previous end.
        from_end: i64,
        /// Previous venue name.
        from_venue: String,
    },
    /// Cancelled since the last look.
    Cancelled,
    /// Un-cancelled since the last look.
    Restored,
    /// Other details changed.
    Updated,
    /// Removed by its author or an organiser.
    Deleted,
}

/// One changed event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ChangeView {
    /// What happened.
    pub kind: ChangeKind,
    /// The event as it is now.
    pub event: EventView,
}

/// Everything that changed since the last look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Changed events, favourites first, then by start.
    pub events: Vec<ChangeView>,
    /// New announcements, newest first.
    pub announcements: Vec<AnnouncementView>,
}

/// Two favourites that overlap in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The one that starts first.
    pub first: EventView,
    /// The other.
    pub second: EventView,
}

/// One favourite in a personal timetable: when to be reminded, the free time before it, and
/// which other favourites it clashes with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AgendaEntry {
    /// The favourite.
    pub event: EventView,
    /// Free time, in seconds, between the end of the favourites before it (on the same festival
    /// day) and its start; `None` for a day's first favourite or when it overlaps one.
    pub gap_before: Option<i64>,
    /// Favourites it overlaps in time (none for a cancelled one).
    pub clashes_with: Vec<OpId>,
    /// When a reminder fires (Unix seconds): the lead before its start; `None` if cancelled.
    pub remind_at: Option<i64>,
}

/// What the programme of a festival can be filtered by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Facets {
    /// Venues, in the festival's order.
    pub venues: Vec<VenueView>,
    /// Tracks events name, sorted, without case duplicates.
    pub tracks: Vec<String>,
    /// Tags events carry, sorted, without case duplicates.
    pub tags: Vec<String>,
}

/// Whether two events overlap in time (an event without duration overlaps nothing).
pub fn overlap(a: &EventView, b: &EventView) -> bool {
    a.end > a.start && b.end > b.start && a.start < b.end && b.start < a.end
}

/// The personal timetable of `favourites` (sorted by start): reminders `lead` seconds ahead,
/// the gaps between them and the clashes.
pub fn agenda(favourites: Vec<EventView>, lead: i64) -> Vec<AgendaEntry> {
    let live: Vec<&EventView> = favourites.iter().filter(|e| !e.cancelled).collect();
    let mut out = Vec::with_capacity(favourites.len());
    // The latest end among the day's earlier (live) favourites.
    let mut day_end: Option<(String, i64)> = None;
    for e in &favourites {
        let clashes_with = if e.cancelled {
            Vec::new()
        } else {
            live.iter().filter(|o| o.id != e.id && overlap(e, o)).map(|o| o.id).collect()
        };
        let gap_before = match &day_end {
            Some((day, end)) if *day == e.day && e.start >= *end && !e.cancelled => Some(e.start - end),
            _ => None,
        };
        if !e.cancelled {
            let end = e.end.max(e.start);
            day_end = match day_end.take() {
                Some((day, prev)) if day == e.day => Some((day, prev.max(end))),
                _ => Some((e.day.clone(), end)),
            };
        }
        out.push(AgendaEntry {
            event: e.clone(),
            gap_before,
            clashes_with,
            remind_at: (!e.cancelled).then(|| e.start.saturating_sub(lead)),
        });
    }
    out
}

/// What is on at a venue now, and what comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NowNext {
    /// Venue id.
    pub venue: Option<OpId>,
    /// Venue name.
    pub venue_name: String,
    /// Running now.
    pub now: Option<EventView>,
    /// Starting next.
    pub next: Option<EventView>,
}
