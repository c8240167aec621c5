//! The records the apps show, each made from the core's view of the same thing.

use meadow_core::feed::Scope;
use meadow_core::node::SessionEnd;
use meadow_core::op::Priority as CorePriority;
use meadow_core::view::{
    AnnouncementView, ChangeKind as CoreChangeKind, ChangeView, EventView, FestivalView, VenueView,
};

/// A festival.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Festival {
    /// Id (hex).
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// IANA time zone.
    pub timezone: String,
    /// First day, `YYYY-MM-DD`.
    pub start_date: String,
    /// Last day.
    pub end_date: String,
    /// Place.
    pub place: String,
    /// Owner's public key (hex).
    pub owner: String,
    /// Organisers' public keys.
    pub organisers: Vec<String>,
}

impl From<FestivalView> for Festival {
    fn from(f: FestivalView) -> Self {
        Festival {
            id: f.id.to_hex(),
            name: f.name,
            description: f.description,
            timezone: f.timezone,
            start_date: f.start_date.to_string(),
            end_date: f.end_date.to_string(),
            place: f.place,
            owner: f.owner.to_hex(),
            organisers: f.organisers.iter().map(|o| o.to_hex()).collect(),
        }
    }
}

/// An event as a list shows it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Event {
    /// Id (hex).
    pub id: String,
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: String,
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// Festival day, `YYYY-MM-DD`.
    pub day: String,
    /// Venue name.
    pub venue: String,
    /// Venue id (hex), if it has one.
    pub venue_id: Option<String>,
    /// Track.
    pub track: String,
    /// Tags.
    pub tags: Vec<String>,
    /// People.
    pub people: Vec<String>,
    /// Cancelled.
    pub cancelled: bool,
    /// Moved from the time or venue it was first announced with.
    pub moved: bool,
    /// Posted by organisers.
    pub official: bool,
    /// Favourite on this device.
    pub favourite: bool,
    /// Its author's public key (hex).
    pub author: String,
}

impl From<EventView> for Event {
    fn from(e: EventView) -> Self {
        Event {
            id: e.id.to_hex(),
            title: e.title,
            subtitle: e.subtitle,
            start: e.start,
            end: e.end,
            day: e.day,
            venue: e.venue_name,
            venue_id: e.venue.map(|v| v.to_hex()),
            track: e.track,
            tags: e.tags,
            people: e.people,
            cancelled: e.cancelled,
            moved: e.moved,
            official: e.official,
            favourite: e.favourite,
            author: e.creator.to_hex(),
        }
    }
}

/// Part of a festival's programme, as a list pages through it: the events from `offset`, and
/// how many there are in all.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProgrammePage {
    /// The events of this page, in programme order.
    pub events: Vec<Event>,
    /// Where the page starts in the whole list.
    pub offset: u32,
    /// How many events the whole list holds.
    pub total: u32,
}

/// One event of a [`DayView`]: what a list row or a grid cell shows, with its venue and track
/// as positions in the view's tables (a day names a dozen venues a thousand times).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EventRow {
    /// Id (hex).
    pub id: String,
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: String,
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// Position of its venue in [`DayView::venues`], if it has one.
    pub venue: Option<u32>,
    /// Position of its track in [`DayView::tracks`], if it has one.
    pub track: Option<u32>,
    /// Cancelled.
    pub cancelled: bool,
    /// Moved from the time or venue it was first announced with.
    pub moved: bool,
    /// Posted by organisers.
    pub official: bool,
    /// Favourite on this device.
    pub favourite: bool,
    /// Its lane in its venue's grid column (overlapping events sit side by side).
    pub lane: u32,
    /// How many lanes its group of overlapping events shares the column with.
    pub lanes: u32,
}

/// A page of a day's programme as its list and grid show it: the venues and tracks once, then
/// the rows in programme order.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DayView {
    /// Venue names the rows point at, in the festival's venue order as far as rows use them.
    pub venues: Vec<String>,
    /// Tracks the rows point at.
    pub tracks: Vec<String>,
    /// The events of this page.
    pub rows: Vec<EventRow>,
    /// Where the page starts in the whole day.
    pub offset: u32,
    /// How many events the whole day holds.
    pub total: u32,
}

impl From<meadow_core::view::DayView> for DayView {
    fn from(v: meadow_core::view::DayView) -> Self {
        let rows = v
            .rows
            .into_iter()
            .map(|r| EventRow {
                id: r.id.to_hex(),
                title: r.title,
                subtitle: r.subtitle,
                start: r.start,
                end: r.end,
                venue: r.venue,
                track: r.track,
                cancelled: r.cancelled,
                moved: r.moved,
                official: r.official,
                favourite: r.favourite,
                lane: r.lane,
                lanes: r.lanes,
            })
            .collect();
        DayView { venues: v.venues, tracks: v.tracks, rows, offset: v.offset, total: v.total }
    }
}

/// Where the list's "now" line goes among a day view's rows at `now` (Unix seconds): before the
/// first row that has not started, while now lies within the day; none on another day.
#[uniffi::export]
pub fn now_line(view: &DayView, now: i64) -> Option<u32> {
    let rows: Vec<(i64, i64)> = view.rows.iter().map(|r| (r.start, r.end)).collect();
    meadow_core::view::now_line(&rows, now).map(|i| i as u32)
}

/// A venue.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Venue {
    /// Id (hex).
    pub id: String,
    /// Name.
    pub name: String,
}

impl From<VenueView> for Venue {
    fn from(v: VenueView) -> Self {
        Venue { id: v.id.to_hex(), name: v.name }
    }
}

/// How much an announcement matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AnnouncementPriority {
    /// Shown in the list.
    Normal,
    /// Shown above normal ones.
    High,
    /// Shown on top of every screen, as a banner, and alerting.
    Emergency,
}

impl From<CorePriority> for AnnouncementPriority {
    fn from(p: CorePriority) -> Self {
        match p {
            CorePriority::Normal => AnnouncementPriority::Normal,
            CorePriority::High => AnnouncementPriority::High,
            CorePriority::Emergency => AnnouncementPriority::Emergency,
        }
    }
}

/// An announcement.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Announcement {
    /// Id (hex).
    pub id: String,
    /// Text.
    pub text: String,
    /// How much it matters.
    pub priority: AnnouncementPriority,
    /// Author's display name, if set.
    pub author_name: String,
}

impl From<AnnouncementView> for Announcement {
    fn from(a: AnnouncementView) -> Self {
        Announcement { id: a.id.to_hex(), text: a.text, priority: a.priority.into(), author_name: a.author_name }
    }
}

/// How an event changed since the last look.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum ChangeKind {
    /// New.
    New,
    /// Moved; where it was.
    Moved {
        /// Previous start.
        from_start: i64,
        /// Previous venue.
        from_venue: String,
    },
    /// Cancelled.
    Cancelled,
    /// No longer cancelled.
    Restored,
    /// Other details changed.
    Updated,
    /// Removed.
    Deleted,
}

/// One changed event.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// The event now.
    pub event: Event,
}

impl From<ChangeView> for Change {
    fn from(c: ChangeView) -> Self {
        let kind = match c.kind {
            CoreChangeKind::New => ChangeKind::New,
            CoreChangeKind::Moved { from_start, from_venue, .. } => ChangeKind::Moved { from_start, from_venue },
            CoreChangeKind::Cancelled => ChangeKind::Cancelled,
            CoreChangeKind::Restored => ChangeKind::Restored,
            CoreChangeKind::Updated => ChangeKind::Updated,
            CoreChangeKind::Deleted => ChangeKind::Deleted,
        };
        Change { kind, event: c.event.into() }
    }
}

/// An event with everything its own screen shows.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EventDetail {
    /// What lists show.
    pub event: Event,
    /// Description.
    pub description: String,
    /// Language.
    pub language: String,
    /// Link URLs.
    pub links: Vec<String>,
    /// Whether this device's identity may edit it (its author, or an organiser).
    pub editable: bool,
    /// When and where it was first announced, if it has moved since.
    pub moved_from: Option<Slot>,
}

/// A time and place in the programme.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Slot {
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// Venue name, empty without one.
    pub venue: String,
}

impl EventDetail {
    /// The record for the core's detail, and whether this identity may edit it.
    pub(crate) fn new(d: meadow_core::view::EventDetail, editable: bool) -> Self {
        EventDetail {
            event: d.event.into(),
            description: d.description,
            language: d.language,
            links: d.links.into_iter().map(|l| l.url).collect(),
            editable,
            moved_from: d.moved_from.map(|m| Slot { start: m.start, end: m.end, venue: m.venue_name }),
        }
    }
}

/// Which part of a festival changed, so a screen reads again only what it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChangeScope {
    /// The festival's own fields and its venues.
    Festival,
    /// Events, and which of them count as official or show.
    Programme,
    /// Announcements.
    Announcements,
    /// Owner and organisers.
    Roles,
    /// Hidden content, community mode, approvals, mutes.
    Moderation,
    /// Display names.
    Profiles,
    /// This device's favourites.
    Favourites,
    /// What this device marked seen.
    Seen,
}

impl From<Scope> for ChangeScope {
    fn from(s: Scope) -> Self {
        match s {
            Scope::Festival => ChangeScope::Festival,
            Scope::Programme => ChangeScope::Programme,
            Scope::Announcements => ChangeScope::Announcements,
            Scope::Roles => ChangeScope::Roles,
            Scope::Moderation => ChangeScope::Moderation,
            Scope::Profiles => ChangeScope::Profiles,
            Scope::Favourites => ChangeScope::Favourites,
            Scope::Seen => ChangeScope::Seen,
        }
    }
}

/// What changed, as the change feed tells it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StoreChange {
    /// The festival that changed (hex), or none when a device setting (such as the current
    /// festival) changed.
    pub festival: Option<String>,
    /// Which parts of it.
    pub scopes: Vec<ChangeScope>,
    /// Networking's status changed (peers, sessions, started or stopped): read `net_status`.
    pub network: bool,
}

/// How a sync over a native link ended.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LinkEnd {
    /// Both sides hold the same ops now; otherwise it failed (ops that arrived whole are kept).
    pub finished: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// The festival synced, once known.
    pub festival: Option<String>,
    /// Ops received.
    pub ops_received: u64,
    /// Ops sent.
    pub ops_sent: u64,
    /// Bytes received, frames included.
    pub bytes_received: u64,
    /// Bytes sent, frames included.
    pub bytes_sent: u64,
}

impl LinkEnd {
    /// The record for a session's end.
    pub(crate) fn new(end: SessionEnd, festival: Option<String>, stats: meadow_core::sync::Stats) -> Self {
        let error = match end {
            SessionEnd::Finished(_) => None,
            SessionEnd::Failed(e) => Some(e.to_string()),
        };
        LinkEnd {
            finished: error.is_none(),
            error,
            festival,
            ops_received: stats.ops_received,
            ops_sent: stats.ops_sent,
            bytes_received: stats.bytes_received,
            bytes_sent: stats.bytes_sent,
        }
    }
}

/// Networking as the app sees it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NetStatus {
    /// Whether networking runs.
    pub running: bool,
    /// Invite for the current festival, as a `meadow://` link, while running.
    pub invite: Option<String>,
    /// Peers connected.
    pub peers: u32,
    /// Sessions finished.
    pub sessions: u64,
    /// Ops received over the network.
    pub ops_received: u64,
    /// When a sync with a peer last finished (Unix seconds), if one has.
    pub last_sync: Option<i64>,
}

/// A festival day and how many events it holds.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Events shown that day.
    pub events: u64,
}

/// What is on at one venue now, and what starts next there.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NowNext {
    /// Venue name (empty for events without one).
    pub venue: String,
    /// Running now.
    pub now: Option<Event>,
    /// Starting next (within a day).
    pub next: Option<Event>,
}

impl From<meadow_core::view::NowNext> for NowNext {
    fn from(n: meadow_core::view::NowNext) -> Self {
        NowNext { venue: n.venue_name, now: n.now.map(Event::from), next: n.next.map(Event::from) }
    }
}

/// One favourite in the personal timetable.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AgendaEntry {
    /// The favourite.
    pub event: Event,
    /// Free minutes between the favourites before it that day and its start; none for the
    /// day's first or when it overlaps one.
    pub gap_minutes: Option<i64>,
    /// Ids of the favourites it overlaps.
    pub clashes_with: Vec<String>,
    /// When its reminder fires (Unix seconds); none if it is cancelled.
    pub remind_at: Option<i64>,
}

impl From<meadow_core::view::AgendaEntry> for AgendaEntry {
    fn from(a: meadow_core::view::AgendaEntry) -> Self {
        AgendaEntry {
            event: a.event.into(),
            gap_minutes: a.gap_before.map(|s| s / 60),
            clashes_with: a.clashes_with.iter().map(|id| id.to_hex()).collect(),
            remind_at: a.remind_at,
        }
    }
}

/// What the programme can be filtered by.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Facets {
    /// Venues, in the festival's order.
    pub venues: Vec<Venue>,
    /// Tracks.
    pub tracks: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
}

impl From<meadow_core::view::Facets> for Facets {
    fn from(f: meadow_core::view::Facets) -> Self {
        Facets { venues: f.venues.into_iter().map(Venue::from).collect(), tracks: f.tracks, tags: f.tags }
    }
}

/// What this device's key has spent of its log in a festival (see the core's `node::budget`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogUsage {
    /// Ops in the log.
    pub ops: u64,
    /// Bytes of encoded ops in the log.
    pub bytes: u64,
    /// Percent of the share for programme changes used.
    pub percent: u64,
    /// What to tell an organiser from 75 % on; `None` before.
    pub warning: Option<String>,
}

impl From<meadow_core::node::budget::LogUsage> for LogUsage {
    fn from(u: meadow_core::node::budget::LogUsage) -> Self {
        LogUsage { ops: u.ops, bytes: u.bytes, percent: u.percent(), warning: u.warning() }
    }
}

/// What this device's identity is in a festival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Standing {
    /// Created it.
    Owner,
    /// An organiser: its events and announcements are official.
    Organiser,
    /// An attendee: its events are community events.
    Attendee,
}

impl From<meadow_core::node::Standing> for Standing {
    fn from(s: meadow_core::node::Standing) -> Self {
        match s {
            meadow_core::node::Standing::Owner => Standing::Owner,
            meadow_core::node::Standing::Organiser => Standing::Organiser,
            meadow_core::node::Standing::Attendee => Standing::Attendee,
        }
    }
}
