//! The one object a front end holds: this device's identity and store, the current festival, and
//! the actions people take. It checks up front what validation would later ignore (a community
//! member's announcement, say) so that people get a clear "no" instead of an op without effect.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use thiserror::Error;

use crate::exchange::import::{self, ImportSummary};
use crate::exchange::schedule::{Schedule, ZoneChoice, choose_zone, offset_label, zone_label};
use crate::exchange::{Format, MAX_FILE_BYTES, archive, frab, ical, json};
use crate::feed::{Feed, Subscription};
use crate::identity::{Identity, IdentityError, PublicKey};
use crate::model::may_edit;
use crate::op::{
    Announcement, Body, CommunityMode, EventPatch, FestivalCreate, FestivalId, FestivalPatch, ForkRef, HideTarget,
    Moderation, OpId, ProfilePatch, Role, SchemaError, VenuePatch,
};
use crate::store::{Changes, CheckReport, Clock, EventView, FestivalView, IngestReport, Store, StoreError, VenueView};

/// How many search hits a front end gets unless it asks for another number.
pub const SEARCH_LIMIT: usize = 50;
/// The most search hits one call returns.
pub const SEARCH_LIMIT_MAX: usize = 500;

/// Why a node action failed.
#[derive(Debug, Error)]
pub enum NodeError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The identity could not be loaded.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Input does not make a valid op.
    #[error("{0}")]
    Invalid(String),
    /// No festival is selected and none was named.
    #[error("no current festival: create one, or pick one with `festival use`")]
    NoFestival,
    /// The identity lacks the role the action needs.
    #[error("not permitted: {0}")]
    NotPermitted(String),
    /// Something named does not exist.
    #[error("{0} not found")]
    NotFound(String),
}

impl From<crate::exchange::ExchangeError> for NodeError {
    fn from(e: crate::exchange::ExchangeError) -> Self {
        match e {
            crate::exchange::ExchangeError::Store(s) => NodeError::Store(s),
            other => NodeError::Invalid(other.to_string()),
        }
    }
}

impl From<crate::op::OpError> for NodeError {
    fn from(e: crate::op::OpError) -> Self {
        match e {
            crate::op::OpError::Schema(s) => NodeError::Invalid(s.to_string()),
            other => NodeError::Invalid(other.to_string()),
        }
    }
}

impl From<SchemaError> for NodeError {
    fn from(e: SchemaError) -> Self {
        NodeError::Invalid(e.to_string())
    }
}

/// Fields for a new festival.
#[derive(Debug, Clone)]
pub struct NewFestival {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// IANA time zone.
    pub timezone: String,
    /// First day.
    pub start_date: Date,
    /// Last day.
    pub end_date: Date,
    /// Place.
    pub place: String,
    /// Minutes after midnight at which the festival day changes.
    pub day_change_minutes: u16,
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A device's node.
pub struct Node {
    identity: Identity,
    store: Store,
    data_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("identity", &self.identity).field("data_dir", &self.data_dir).finish()
    }
}

const CURRENT: &str = "current_festival";

impl Node {
    /// Opens the node in `data_dir`, creating the identity and store on first use.
    pub fn open(data_dir: &Path) -> Result<Node, NodeError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| IdentityError::Io { path: data_dir.display().to_string(), source: e })?;
        let identity = Identity::load_or_create(&data_dir.join("identity.key"))?;
        let store = Store::open(&data_dir.join("meadow.sqlite3"))?;
        Ok(Node { identity, store, data_dir: Some(data_dir.to_owned()) })
    }

    /// A node over an in-memory store (tests, benchmarks).
    pub fn in_memory(identity: Identity) -> Result<Node, NodeError> {
        Ok(Node { identity, store: Store::open_in_memory()?, data_dir: None })
    }

    /// The data directory, if on disk.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// This device's identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// This device's public key.
    pub fn public_key(&self) -> PublicKey {
        self.identity.public()
    }

    /// The store, for queries.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The change feed: every commit to the store, whatever brought it (a local action, an
    /// import, a sync over iroh or a native link), is published there. Clone it to subscribe
    /// without holding the node.
    pub fn feed(&self) -> Feed {
        self.store.feed().clone()
    }

    /// A subscription to the change feed.
    pub fn subscribe(&self) -> Subscription {
        self.store.feed().subscribe()
    }

    /// Verifies and stores ops that came from elsewhere (a peer, a file); invalid ones are
    /// reported and skipped.
    pub fn ingest(&mut self, ops: Vec<crate::op::Op>) -> Result<IngestReport, NodeError> {
        Ok(self.store.ingest(ops)?)
    }

    /// Sets where the store takes the time from (tests and simulations).
    pub fn set_clock(&mut self, clock: Clock) {
        self.store.set_clock(clock);
    }

    /// Marks or unmarks an event as a favourite on this device.
    pub fn set_favourite(&mut self, festival: &FestivalId, event: &OpId, on: bool) -> Result<(), NodeError> {
        Ok(self.store.set_favourite(festival, event, on)?)
    }

    /// Records that the user has now seen everything in the festival.
    pub fn mark_seen(&mut self, festival: &FestivalId) -> Result<(), NodeError> {
        Ok(self.store.mark_seen(festival)?)
    }

    /// What changed since the last look, recording this look if `mark_seen`: one read and one
    /// mark in that order, so nothing stored in between is marked seen unread.
    pub fn changes_since_last_look(&mut self, festival: &FestivalId, mark_seen: bool) -> Result<Changes, NodeError> {
        let changes = self.store.changes(festival)?;
        if mark_seen {
            self.store.mark_seen(festival)?;
        }
        Ok(changes)
    }

    /// Mutes (or unmutes) an author on this device only.
    pub fn set_muted(&mut self, festival: &FestivalId, author: &PublicKey, on: bool) -> Result<(), NodeError> {
        Ok(self.store.set_muted(festival, author, on)?)
    }

    /// Checks the store against its ops; changes nothing.
    pub fn check(&mut self) -> Result<CheckReport, NodeError> {
        Ok(self.store.check()?)
    }

    /// Re-derives what [`Node::check`] found damaged from the signed ops.
    pub fn repair(&mut self) -> Result<CheckReport, NodeError> {
        Ok(self.store.repair()?)
    }

    /// A device setting.
    pub fn setting(&self, key: &str) -> Result<Option<String>, NodeError> {
        Ok(self.store.setting(key)?)
    }

    /// Sets a device setting.
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<(), NodeError> {
        Ok(self.store.set_setting(key, value)?)
    }

    /// Full-text search, best first: at most `limit` events ([`SEARCH_LIMIT`] if none is given,
    /// never more than [`SEARCH_LIMIT_MAX`]).
    pub fn search(
        &self,
        festival: &FestivalId,
        query: &str,
        limit: Option<usize>,
    ) -> Result<Vec<EventView>, NodeError> {
        let limit = limit.unwrap_or(SEARCH_LIMIT).clamp(1, SEARCH_LIMIT_MAX);
        Ok(self.store.search(festival, query, limit)?)
    }

    /// The selected festival, if any.
    pub fn current_festival(&self) -> Result<Option<FestivalId>, NodeError> {
        Ok(self.store.setting(CURRENT)?.and_then(|h| FestivalId::from_hex(&h)))
    }

    /// The selected festival, or an error saying how to select one.
    pub fn require_festival(&self) -> Result<FestivalId, NodeError> {
        self.current_festival()?.ok_or(NodeError::NoFestival)
    }

    /// Selects a festival this device holds.
    pub fn use_festival(&mut self, id: &FestivalId) -> Result<(), NodeError> {
        if self.store.festival(id)?.is_none() {
            return Err(NodeError::NotFound(format!("festival {}", id.short())));
        }
        self.store.set_setting(CURRENT, &id.to_hex())?;
        Ok(())
    }

    /// Finds a held festival by id, id prefix or exact name.
    pub fn find_festival(&self, key: &str) -> Result<FestivalView, NodeError> {
        let key = key.trim();
        let all = self.store.festivals()?;
        let lower = key.to_ascii_lowercase();
        let mut hits: Vec<_> = all
            .iter()
            .filter(|f| (lower.len() >= 4 && f.id.to_hex().starts_with(&lower)) || f.name.eq_ignore_ascii_case(key))
            .collect();
        match hits.len() {
            1 => Ok(hits.remove(0).clone()),
            0 => Err(NodeError::NotFound(format!("festival {key:?}"))),
            _ => Err(NodeError::Invalid(format!("{key:?} names several festivals; give more of the id"))),
        }
    }

    /// The selected festival's details.
    pub fn festival(&self, id: &FestivalId) -> Result<FestivalView, NodeError> {
        self.store.festival(id)?.ok_or_else(|| NodeError::NotFound(format!("festival {}", id.short())))
    }

    fn write(&mut self, festival: FestivalId, body: Body) -> Result<OpId, NodeError> {
        match self.store.append(&self.identity, festival, body, now_ms()) {
            Ok(op) => Ok(op.id()),
            // A body that fails its schema is bad input, not a storage failure.
            Err(StoreError::Op(e)) => Err(e.into()),
            Err(e) => Err(e.into()),
        }
    }

    fn require_official(&self, festival: &FestivalId, what: &str) -> Result<(), NodeError> {
        if self.store.is_official(festival, &self.public_key())? {
            Ok(())
        } else {
            Err(NodeError::NotPermitted(format!("only the owner and organisers can {what}")))
        }
    }

    /// Creates a festival owned by this identity and selects it.
    pub fn create_festival(&mut self, f: NewFestival) -> Result<FestivalId, NodeError> {
        self.create_festival_from(f, None)
    }

    /// Creates a festival that records where it was forked from.
    pub fn create_festival_from(
        &mut self,
        f: NewFestival,
        forked_from: Option<ForkRef>,
    ) -> Result<FestivalId, NodeError> {
        if TimeZone::get(&f.timezone).is_err() {
            return Err(NodeError::Invalid(format!(
                "unknown time zone {:?} (use an IANA name like Europe/Berlin)",
                f.timezone
            )));
        }
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| IdentityError::Random(e.to_string()))?;
        let id = FestivalId::derive(&self.public_key(), &nonce);
        let body = Body::FestivalCreate(FestivalCreate {
            nonce,
            fields: FestivalPatch {
                name: Some(f.name),
                description: Some(f.description),
                timezone: Some(f.timezone),
                start_date: Some(f.start_date),
                end_date: Some(f.end_date),
                place: Some(f.place),
                day_change_minutes: Some(f.day_change_minutes),
            },
            forked_from,
        });
        self.write(id, body)?;
        self.use_festival(&id)?;
        Ok(id)
    }

    /// Edits festival fields (owner and organisers).
    pub fn edit_festival(&mut self, festival: FestivalId, patch: FestivalPatch) -> Result<(), NodeError> {
        self.require_official(&festival, "edit the festival")?;
        if let Some(tz) = &patch.timezone
            && TimeZone::get(tz).is_err()
        {
            return Err(NodeError::Invalid(format!("unknown time zone {tz:?}")));
        }
        self.write(festival, Body::FestivalEdit(patch))?;
        Ok(())
    }

    /// Finds a venue by its name (ignoring case), the start of its name if only one venue's name
    /// starts so, or an id prefix.
    pub fn find_venue(&self, festival: &FestivalId, key: &str) -> Result<VenueView, NodeError> {
        let key = key.trim();
        let venues = self.store.venues(festival)?;
        if let Some(v) = venues.iter().find(|v| v.name.eq_ignore_ascii_case(key)) {
            return Ok(v.clone());
        }
        let lower = key.to_lowercase();
        let by_name: Vec<_> =
            venues.iter().filter(|v| !lower.is_empty() && v.name.to_lowercase().starts_with(&lower)).collect();
        let by_id: Vec<_> = venues.iter().filter(|v| lower.len() >= 4 && v.id.to_hex().starts_with(&lower)).collect();
        match (by_name.as_slice(), by_id.as_slice()) {
            ([v], _) | ([], [v]) => Ok((*v).clone()),
            (several, _) if several.len() > 1 => {
                let names: Vec<_> = several.iter().map(|v| v.name.as_str()).collect();
                Err(NodeError::Invalid(format!("venue {key:?} could be {}: give more of the name", names.join(" or "))))
            }
            _ => {
                let names: Vec<_> = venues.iter().map(|v| v.name.as_str()).collect();
                Err(NodeError::NotFound(format!("venue {key:?} (known venues: {})", names.join(", "))))
            }
        }
    }

    /// Adds a venue.
    pub fn add_venue(&mut self, festival: FestivalId, patch: VenuePatch) -> Result<OpId, NodeError> {
        self.festival(&festival)?;
        if let Some(name) = &patch.name
            && self.store.venues(&festival)?.iter().any(|v| v.name.eq_ignore_ascii_case(name))
        {
            return Err(NodeError::Invalid(format!("a venue named {name:?} already exists")));
        }
        self.write(festival, Body::Venue { target: None, patch })
    }

    /// Adds an event; official if this identity is an organiser, else a community event.
    pub fn add_event(&mut self, festival: FestivalId, patch: EventPatch) -> Result<OpId, NodeError> {
        let f = self.festival(&festival)?;
        self.check_venue(&festival, &patch)?;
        if let (Some(start), Some(end)) = (patch.start, patch.end) {
            check_event_times(&f, start, end)?;
        }
        self.write(festival, Body::Event { target: None, patch })
    }

    fn check_venue(&self, festival: &FestivalId, patch: &EventPatch) -> Result<(), NodeError> {
        if let Some(Some(v)) = &patch.venue
            && !self.store.venues(festival)?.iter().any(|x| x.id == *v)
        {
            return Err(NodeError::NotFound(format!("venue {}", v.short())));
        }
        Ok(())
    }

    fn require_edit(&self, festival: &FestivalId, event: &OpId) -> Result<(), NodeError> {
        let e = self
            .store
            .event(festival, event)?
            .ok_or_else(|| NodeError::NotFound(format!("event {}", event.short())))?;
        let f = self.festival(festival)?;
        let me = self.public_key();
        let official = f.owner == me || f.organisers.contains(&me);
        let roles = crate::model::Roles { owner: Some(f.owner), members: Default::default() };
        if official || may_edit(&roles, &e.creator, &me, 0) {
            Ok(())
        } else {
            Err(NodeError::NotPermitted("only its author and organisers can change this event".into()))
        }
    }

    /// Edits an event.
    pub fn edit_event(&mut self, festival: FestivalId, event: OpId, patch: EventPatch) -> Result<(), NodeError> {
        self.require_edit(&festival, &event)?;
        self.check_venue(&festival, &patch)?;
        if let Some(current) = self.store.event(&festival, &event)?
            && (patch.start.is_some() || patch.end.is_some())
        {
            // Catch an edit that would leave the event ending before it starts, or move it away.
            let start = patch.start.unwrap_or(current.start);
            let end = patch.end.unwrap_or(current.end);
            check_event_times(&self.festival(&festival)?, start, end)?;
        }
        self.write(festival, Body::Event { target: Some(event), patch })?;
        Ok(())
    }

    /// Cancels (or restores) an event.
    pub fn cancel_event(&mut self, festival: FestivalId, event: OpId, cancelled: bool) -> Result<(), NodeError> {
        self.edit_event(festival, event, EventPatch { cancelled: Some(cancelled), ..Default::default() })
    }

    /// Deletes an event for good (cancelling is usually what people want).
    pub fn delete_event(&mut self, festival: FestivalId, event: OpId) -> Result<(), NodeError> {
        self.require_edit(&festival, &event)?;
        self.write(festival, Body::Delete { target: event })?;
        Ok(())
    }

    /// Posts an announcement (owner and organisers).
    pub fn announce(&mut self, festival: FestivalId, a: Announcement) -> Result<OpId, NodeError> {
        self.require_official(&festival, "post announcements")?;
        self.write(festival, Body::Announcement(a))
    }

    /// Posts an announcement as a phone's one-switch form does: urgent means an emergency (shown
    /// on top, as a banner, and alerting), otherwise normal; it does not expire.
    pub fn announce_text(&mut self, festival: FestivalId, text: String, urgent: bool) -> Result<OpId, NodeError> {
        let priority = if urgent { crate::op::Priority::Emergency } else { crate::op::Priority::Normal };
        self.announce(festival, Announcement { text, priority, expires: None })
    }

    /// Names an organiser.
    pub fn add_organiser(&mut self, festival: FestivalId, member: PublicKey) -> Result<(), NodeError> {
        self.require_official(&festival, "name organisers")?;
        self.write(festival, Body::RoleGrant { member, role: Role::Organiser })?;
        Ok(())
    }

    /// Removes an organiser; what they posted so far stays official.
    pub fn remove_organiser(&mut self, festival: FestivalId, member: PublicKey) -> Result<(), NodeError> {
        self.require_official(&festival, "remove organisers")?;
        let f = self.festival(&festival)?;
        if member == f.owner {
            return Err(NodeError::NotPermitted("the owner cannot be removed".into()));
        }
        if !f.organisers.contains(&member) {
            return Err(NodeError::NotFound(format!("organiser {}", member.fingerprint())));
        }
        let next = self.store.next_position(&festival, &member)?;
        let after_seq = next.seq.checked_sub(1);
        self.write(festival, Body::RoleRevoke { member, role: Role::Organiser, after_seq })?;
        Ok(())
    }

    /// Sets this identity's display name in a festival.
    pub fn set_display_name(&mut self, festival: FestivalId, name: &str) -> Result<(), NodeError> {
        self.write(festival, Body::Profile(ProfilePatch { display_name: Some(name.to_owned()), about: None }))?;
        Ok(())
    }

    /// Hides or shows community content for everybody (organisers).
    pub fn hide(&mut self, festival: FestivalId, target: HideTarget, hidden: bool) -> Result<(), NodeError> {
        self.require_official(&festival, "hide content")?;
        self.write(festival, Body::Hide { target, hidden })?;
        Ok(())
    }

    /// Sets the festival's community mode and approves authors (organisers): one op per
    /// [`crate::op::limits::APPROVALS`] authors, the mode switch riding on the last so that peers
    /// learn the approvals before they hide anything. Returns how many ops were written.
    pub fn moderate(
        &mut self,
        festival: FestivalId,
        community: Option<CommunityMode>,
        mut approve: Vec<PublicKey>,
    ) -> Result<usize, NodeError> {
        self.require_official(&festival, "moderate community content")?;
        approve.sort();
        approve.dedup();
        if community.is_none() && approve.is_empty() {
            return Err(NodeError::Invalid("nothing to do: give a community mode or authors to approve".into()));
        }
        let chunks: Vec<Vec<PublicKey>> = if approve.is_empty() {
            vec![Vec::new()]
        } else {
            approve.chunks(crate::op::limits::APPROVALS).map(<[_]>::to_vec).collect()
        };
        let last = chunks.len() - 1;
        for (i, keys) in chunks.into_iter().enumerate() {
            let rule = Moderation { community: if i == last { community } else { None }, approve: keys };
            self.write(festival, Body::Moderation(rule))?;
        }
        Ok(last + 1)
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
}

/// What `Node::import` did.
#[derive(Debug, Clone)]
pub enum Imported {
    /// A schedule became ops in a festival.
    Schedule {
        /// The festival.
        festival: FestivalId,
        /// Whether the festival was created from the schedule's conference.
        created: bool,
        /// What changed.
        summary: ImportSummary,
        /// For a festival made from the schedule, the time zone it got and why.
        zone: Option<ZoneChoice>,
    },
    /// A festival archive was verified and stored.
    Archive {
        /// The festival.
        festival: FestivalId,
        /// Ops newly stored.
        stored: usize,
        /// Ops already held.
        duplicates: usize,
    },
}

/// How to import a file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The format, when not detected from the content.
    pub format: Option<Format>,
    /// The festival to import into, named explicitly (no check that the dates overlap).
    pub into: Option<FestivalId>,
    /// Make a new festival from the schedule's conference.
    pub new: bool,
    /// The time zone to read the schedule's local times in, and to give a new festival,
    /// overriding what the schedule says.
    pub timezone: Option<String>,
}

/// Which events an iCalendar export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcsSelection {
    /// The whole programme.
    All,
    /// This device's favourites.
    Favourites,
    /// One event.
    Event(OpId),
}

/// Ops per ingest transaction during an import: small enough for steady progress.
const IMPORT_BATCH: usize = 500;

impl Node {
    /// Imports a schedule (frab XML, schedule JSON, iCalendar) or a festival archive. Schedules go
    /// into `options.into`, else the current festival, else (or with `options.new`) a festival made
    /// from the schedule's conference. `progress` hears (done, total) as ops are stored.
    pub fn import(
        &mut self,
        bytes: &[u8],
        options: &ImportOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Imported, NodeError> {
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(NodeError::Invalid(format!(
                "file of {} MB is over the {} MB limit",
                bytes.len() >> 20,
                MAX_FILE_BYTES >> 20
            )));
        }
        let format = match options.format {
            Some(f) => f,
            None => Format::detect(bytes)?,
        };
        if format == Format::Archive {
            let archive = archive::read(bytes)?;
            let id = archive.festival;
            let total = archive.ops.len();
            let report = archive::import(&mut self.store, archive)?;
            progress(total, total);
            if self.store.festival(&id)?.is_some() {
                self.use_festival(&id)?;
            }
            return Ok(Imported::Archive { festival: id, stored: report.stored, duplicates: report.duplicates });
        }
        let override_tz = match &options.timezone {
            Some(name) => Some((
                name.clone(),
                TimeZone::get(name).map_err(|_| {
                    NodeError::Invalid(format!("unknown time zone {name:?} (use an IANA name like Europe/Berlin)"))
                })?,
            )),
            None => None,
        };
        let target = if options.new { None } else { options.into.or(self.current_festival()?) };
        let target_view = target.map(|f| self.festival(&f)).transpose()?;
        let read = |zone: Option<&TimeZone>| -> Result<Schedule, NodeError> {
            Ok(match format {
                Format::FrabXml => frab::parse_in(bytes, zone)?,
                Format::ScheduleJson => json::parse_in(bytes, zone)?,
                Format::ICalendar => {
                    let fallback =
                        zone.cloned().or_else(|| target_view.as_ref().map(festival_tz)).unwrap_or(TimeZone::UTC);
                    ical::parse(bytes, &fallback)?
                }
                Format::Archive => return Err(NodeError::Invalid("unreachable: archive handled above".into())),
            })
        };
        let mut schedule = read(override_tz.as_ref().map(|(_, tz)| tz))?;
        if schedule.events.is_empty() {
            return Err(NodeError::Invalid(format!(
                "no events could be read from this file (it looks like a {}); nothing was imported",
                if schedule.format.is_empty() { "schedule" } else { schedule.format }
            )));
        }
        // The zone the schedule's own times speak for, unless the user named one.
        let choice = match &override_tz {
            Some((name, _)) => ZoneChoice { name: name.clone(), reason: "given with --timezone".into(), warning: None },
            None => choose_zone(&schedule),
        };
        let chosen_tz = TimeZone::get(&choice.name).unwrap_or(TimeZone::UTC);
        // Local times were read in the zone the file declares: read them again in the chosen one.
        if override_tz.is_none()
            && schedule.events.iter().any(|e| e.local)
            && schedule.conference.timezone.as_deref() != Some(choice.name.as_str())
        {
            schedule = read(Some(&chosen_tz))?;
        }
        let mut warnings: Vec<String> = choice.warning.iter().cloned().collect();
        warnings.extend(schedule.notes.iter().cloned());
        if let (Some(f), None) = (&target_view, options.into) {
            // Adding a programme to a festival it has nothing to do with is a mistake worth a stop.
            if let Some((first, last)) = schedule_dates(&schedule, &chosen_tz)
                && (last < f.start_date || first > f.end_date)
            {
                return Err(NodeError::Invalid(format!(
                    "this schedule ({first} to {last}) does not overlap the current festival {:?} ({} to {}): \
                     use --new to make a festival of it, or --into {} to add it to that festival anyway",
                    f.name,
                    f.start_date,
                    f.end_date,
                    f.id.short()
                )));
            }
        }
        let (festival, created) = match target {
            Some(f) => (f, false),
            None => (self.create_festival(festival_for(&schedule, &choice)?)?, true),
        };
        let fview = self.festival(&festival)?;
        if !created && (options.timezone.is_some() || schedule.events.iter().any(|e| e.offset.is_some())) {
            let ftz = festival_tz(&fview);
            let mut observed: Vec<(i64, i32)> =
                schedule.events.iter().filter_map(|e| e.offset.map(|o| (e.start, o))).collect();
            observed.sort_unstable();
            if !crate::exchange::schedule::zone_agrees(&ftz, &observed) {
                warnings.push(format!(
                    "the festival shows times in {}, but this schedule's times point to {} ({}); to change it: \
                     meadow festival edit --timezone {}",
                    zone_label(&fview.timezone),
                    zone_label(&choice.name),
                    choice.reason,
                    choice.name
                ));
            }
        }
        self.require_official(&festival, "import a programme")?;
        let (ops, mut summary) = import::plan(&self.store, &self.identity, &festival, &schedule, now_ms())?;
        summary.warnings.extend(warnings);
        let window = festival_window(&fview);
        let outside = schedule.events.iter().filter(|e| e.start < window.0 || e.start >= window.1).count();
        if outside > 0 {
            summary.warnings.push(format!(
                "{outside} event{} outside the festival's dates ({} to {})",
                if outside == 1 { " starts" } else { "s start" },
                fview.start_date,
                fview.end_date
            ));
        }
        let total = ops.len();
        let mut done = 0;
        progress(0, total);
        let mut ops = ops.into_iter().peekable();
        while ops.peek().is_some() {
            let batch: Vec<_> = ops.by_ref().take(IMPORT_BATCH).collect();
            let n = batch.len();
            let report = self.store.ingest(batch)?;
            if let Some(r) = report.rejected.first() {
                return Err(NodeError::Invalid(format!("import op rejected: {}", r.reason)));
            }
            done += n;
            progress(done, total);
        }
        Ok(Imported::Schedule { festival, created, summary, zone: created.then_some(choice) })
    }

    /// Exports events as iCalendar text.
    pub fn export_ics(&self, festival: &FestivalId, selection: IcsSelection) -> Result<String, NodeError> {
        let f = self.festival(festival)?;
        let mut events = self.store.event_details(festival, true)?;
        match selection {
            IcsSelection::All => {}
            IcsSelection::Favourites => events.retain(|e| e.event.favourite),
            IcsSelection::Event(id) => {
                events.retain(|e| e.event.id == id);
                if events.is_empty() {
                    return Err(NodeError::NotFound(format!("event {}", id.short())));
                }
            }
        }
        Ok(ical::export(&f, &events, now_ms() as i64 / 1000)?)
    }

    /// A festival's whole signed history as one file.
    pub fn export_archive(&self, festival: &FestivalId) -> Result<Vec<u8>, NodeError> {
        Ok(archive::export(&self.store, festival)?)
    }

    /// Starts a new festival from an old one: its venues, and with `copy_events` its official
    /// programme moved to the new dates, all signed by this identity. The creation op names the
    /// festival and op it was forked from.
    pub fn fork_festival(
        &mut self,
        from: &FestivalId,
        name: Option<String>,
        start: Option<Date>,
        copy_events: bool,
    ) -> Result<FestivalId, NodeError> {
        let old = self.festival(from)?;
        let head =
            self.store.head_op(from)?.ok_or_else(|| NodeError::NotFound(format!("festival {}", from.short())))?;
        let shift_days = match start {
            Some(s) => old.start_date.until(s).map_err(|e| NodeError::Invalid(e.to_string()))?.get_days(),
            None => 0,
        };
        let shift =
            |d: Date| d.checked_add(jiff::Span::new().days(shift_days)).map_err(|e| NodeError::Invalid(e.to_string()));
        let fork_ref = ForkRef { festival: *from, op: head };
        let new = NewFestival {
            name: name.unwrap_or_else(|| format!("{} (fork)", old.name)),
            description: old.description.clone(),
            timezone: old.timezone.clone(),
            start_date: shift(old.start_date)?,
            end_date: shift(old.end_date)?,
            place: old.place.clone(),
            day_change_minutes: old.day_change_minutes,
        };
        let id = self.create_festival_from(new, Some(fork_ref))?;
        let tz = festival_tz(&old);
        let mut writer = crate::op::LogWriter::new(id, self.store.next_position(&id, &self.public_key())?);
        let wall = now_ms();
        let mut ops = Vec::new();
        let mut venue_map = std::collections::HashMap::new();
        for v in self.store.venues(from)? {
            let lamport = writer.next.lamport;
            let op = writer.sign(
                &self.identity,
                lamport,
                wall,
                Body::Venue {
                    target: None,
                    patch: VenuePatch {
                        name: Some(v.name.clone()),
                        description: Some(v.description.clone()),
                        location: v.location,
                        source_id: (!v.source_id.is_empty()).then(|| v.source_id.clone()),
                    },
                },
            )?;
            venue_map.insert(v.id, op.id());
            ops.push(op);
        }
        if copy_events {
            let move_time = |secs: i64| -> Result<i64, NodeError> {
                let ts = jiff::Timestamp::from_second(secs).map_err(|e| NodeError::Invalid(e.to_string()))?;
                // Shift the local wall time by whole days, so 20:00 stays 20:00 across DST.
                let z = ts.to_zoned_datetime(tz.clone()).checked_add(jiff::Span::new().days(shift_days));
                z.map(|z| z.timestamp().as_second()).map_err(|e| NodeError::Invalid(e.to_string()))
            };
            for d in self.store.event_details(from, true)? {
                let e = &d.event;
                if !e.official || e.cancelled {
                    continue;
                }
                let lamport = writer.next.lamport;
                ops.push(writer.sign(
                    &self.identity,
                    lamport,
                    wall,
                    Body::Event {
                        target: None,
                        patch: EventPatch {
                            title: Some(e.title.clone()),
                            subtitle: Some(e.subtitle.clone()),
                            description: Some(d.description.clone()),
                            start: Some(move_time(e.start)?),
                            end: Some(move_time(e.end)?),
                            venue: Some(e.venue.and_then(|v| venue_map.get(&v).copied())),
                            track: Some(e.track.clone()),
                            kind: Some(e.kind.clone()),
                            tags: Some(e.tags.clone()),
                            people: Some(e.people.clone()),
                            language: Some(d.language.clone()),
                            links: Some(d.links.clone()),
                            cancelled: None,
                            source_id: (!d.source_id.is_empty()).then(|| d.source_id.clone()),
                        },
                    },
                )?);
            }
        }
        let report = self.store.ingest(ops)?;
        if let Some(r) = report.rejected.first() {
            return Err(NodeError::Invalid(format!("fork op rejected: {}", r.reason)));
        }
        Ok(id)
    }
}

/// How a sync session ended, as far as the node is concerned.
#[derive(Debug, Clone)]
pub enum SessionEnd {
    /// Both sides hold the same ops now.
    Finished(crate::sync::Stats),
    /// The session failed; ops that arrived whole are stored.
    Failed(crate::sync::SyncError),
}

impl Node {
    /// Starts a sync session for a festival (held here, or being joined with nothing yet).
    pub fn start_sync(
        &self,
        festival: &FestivalId,
        cfg: crate::sync::Config,
        now: u64,
    ) -> Result<crate::sync::Session, NodeError> {
        Ok(crate::sync::Session::initiate(*festival, self.store.sync_items(festival)?, cfg, now))
    }

    /// Answers everything a session asks of this node's store: items, ops to send, ops received.
    /// Returns how it ended once it has; ops are stored as they arrive, so a dropped link keeps
    /// every op that came whole.
    pub fn serve_sync(&mut self, session: &mut crate::sync::Session) -> Result<Option<SessionEnd>, NodeError> {
        use crate::sync::Output;
        loop {
            let mut received: Vec<crate::op::Op> = Vec::new();
            let mut batches = 0usize;
            let mut end = None;
            while let Some(out) = session.poll_output() {
                match out {
                    Output::Festival(f) => {
                        // Any op of the festival counts as holding it: a device may know a
                        // festival before its creation op has reached it.
                        let items = self.store.sync_items(&f)?;
                        session.provide_items((!items.is_empty()).then_some(items));
                    }
                    Output::Plan(ids) => {
                        let f = session.festival().ok_or(NodeError::NoFestival)?;
                        session.plan(self.store.sync_plan(&f, &ids)?);
                    }
                    Output::Load(ids) => {
                        let f = session.festival().ok_or(NodeError::NoFestival)?;
                        session.queue_ops(self.store.load_for_sync(&f, &ids)?);
                    }
                    Output::Received(ops) => {
                        // Everything that arrived so far goes into one transaction: as durable
                        // as frame by frame, at a fraction of the commits.
                        received.extend(ops);
                        batches += 1;
                    }
                    Output::Finished(stats) => end = Some(SessionEnd::Finished(stats)),
                    Output::Failed(e) => end = Some(SessionEnd::Failed(e)),
                }
            }
            if batches == 0 {
                return Ok(end);
            }
            let report = self.store.ingest(received)?;
            // Only an op no honest peer would hold drops the peer: evidence of a fork, a full
            // parking space or an op past a fork are this device's business.
            let bad = report.rejected.iter().find(|r| r.reason.is_peer_fault());
            match bad {
                Some(r) => session.ops_rejected(r.reason.to_string()),
                None => {
                    session.ops_stored(report.stored);
                    (1..batches).for_each(|_| session.ops_stored(0));
                }
            }
            if end.is_some() {
                return Ok(end);
            }
        }
    }
}

/// A sync session run over a link that native code owns (Bluetooth L2CAP or GATT, Wi-Fi Direct,
/// Multipeer): bytes in, packets of at most the link's MTU out.
#[derive(Debug)]
pub struct LinkSync {
    session: crate::sync::Session,
    mtu: usize,
    end: Option<SessionEnd>,
    /// The latest time the link reported.
    now_ms: u64,
}

/// What a [`LinkSync`] step produced.
#[derive(Debug, Default)]
pub struct LinkStep {
    /// Packets to write to the link, in order, each at most the MTU.
    pub packets: Vec<Vec<u8>>,
    /// Set once the session has ended.
    pub end: Option<SessionEnd>,
}

impl LinkSync {
    /// Starts the initiating side for `festival` over a link with `mtu`-byte packets.
    pub fn initiate(node: &Node, festival: &FestivalId, mtu: usize, now_ms: u64) -> Result<Self, NodeError> {
        let session = node.start_sync(festival, crate::sync::Config::default(), now_ms)?;
        Ok(LinkSync { session, mtu: mtu.max(1), end: None, now_ms })
    }

    /// Starts the answering side.
    pub fn respond(mtu: usize, now_ms: u64) -> Self {
        LinkSync {
            session: crate::sync::Session::respond(crate::sync::Config::default(), now_ms),
            mtu: mtu.max(1),
            end: None,
            now_ms,
        }
    }

    /// Packets to send now (call once after creating the initiating side).
    pub fn start(&mut self, node: &mut Node) -> Result<LinkStep, NodeError> {
        self.step(node)
    }

    /// Bytes arrived from the link.
    pub fn received(&mut self, node: &mut Node, bytes: &[u8], now_ms: u64) -> Result<LinkStep, NodeError> {
        self.now_ms = self.now_ms.max(now_ms);
        self.session.handle_input(bytes, now_ms);
        self.step(node)
    }

    /// The link closed.
    pub fn closed(&mut self, node: &mut Node) -> Result<LinkStep, NodeError> {
        self.session.handle_close();
        self.step(node)
    }

    /// Time passed (drives the idle timeout).
    pub fn tick(&mut self, node: &mut Node, now_ms: u64) -> Result<LinkStep, NodeError> {
        self.now_ms = self.now_ms.max(now_ms);
        self.session.handle_timeout(now_ms);
        self.step(node)
    }

    /// The festival, once known (the answering side learns it from the peer).
    pub fn festival(&self) -> Option<FestivalId> {
        self.session.festival()
    }

    /// How it ended, once it has.
    pub fn end(&self) -> Option<&SessionEnd> {
        self.end.as_ref()
    }

    /// What the session moved so far.
    pub fn stats(&self) -> crate::sync::Stats {
        self.session.stats().clone()
    }

    fn step(&mut self, node: &mut Node) -> Result<LinkStep, NodeError> {
        let mut step = LinkStep::default();
        loop {
            if self.end.is_none()
                && let Some(e) = node.serve_sync(&mut self.session)?
            {
                self.end = Some(e.clone());
                step.end = Some(e);
            }
            let mut sent = false;
            while let Some(frame) = self.session.poll_transmit(self.now_ms) {
                step.packets.extend(frame.chunks(self.mtu).map(<[u8]>::to_vec));
                sent = true;
            }
            if !sent {
                return Ok(step);
            }
        }
    }
}

/// What people typing an event's times get told: an end before (or at) the start, and a start
/// outside the festival's days, are mistakes far more often than intentions.
fn check_event_times(f: &FestivalView, start: i64, end: i64) -> Result<(), NodeError> {
    if end < start {
        return Err(NodeError::Invalid("the event ends before it starts".into()));
    }
    if end == start {
        return Err(NodeError::Invalid("the event ends when it starts: give an end after the start".into()));
    }
    let (from, to) = festival_window(f);
    if start < from || start >= to {
        let tz = festival_tz(f);
        return Err(NodeError::Invalid(format!(
            "{} is outside the festival ({} to {}); change the festival's dates first with `festival edit`",
            format_time(&tz, start),
            f.start_date,
            f.end_date
        )));
    }
    Ok(())
}

/// The first and last festival day a schedule covers: its conference dates, else its events'.
fn schedule_dates(s: &Schedule, tz: &TimeZone) -> Option<(Date, Date)> {
    let day = |secs: i64| jiff::Timestamp::from_second(secs).ok().map(|t| t.to_zoned_datetime(tz.clone()).date());
    let first = s.conference.start.or_else(|| s.events.iter().map(|e| e.start).min().and_then(day))?;
    let last = s.conference.end.or_else(|| s.events.iter().map(|e| e.start).max().and_then(day))?;
    Some((first, last.max(first)))
}

/// The festival a schedule describes, for an import into a new festival, in the zone chosen for
/// it.
fn festival_for(s: &Schedule, zone: &ZoneChoice) -> Result<NewFestival, NodeError> {
    let c = &s.conference;
    let tz = TimeZone::get(&zone.name).unwrap_or(TimeZone::UTC);
    let Some((start_date, end_date)) = schedule_dates(s, &tz) else {
        return Err(NodeError::Invalid("the schedule has no dates and no events to take them from".into()));
    };
    let name = [c.title.trim(), c.acronym.trim()].into_iter().find(|n| !n.is_empty()).unwrap_or("Imported schedule");
    Ok(NewFestival {
        name: crate::exchange::schedule::fit(name, crate::op::limits::NAME, false).0,
        description: String::new(),
        timezone: zone.name.clone(),
        start_date,
        end_date,
        place: String::new(),
        day_change_minutes: c.day_change_minutes.unwrap_or(0),
    })
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
