//! The one object a front end holds, and the only door to the store: this device's identity,
//! the current festival, the actions people take and the change feed. It checks up front what
//! validation would later ignore (a community member's announcement, say) so that people get a
//! clear "no" instead of an op without effect.

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
use crate::store::{CheckReport, Clock, IngestReport, Store, StoreError};
use crate::view::{Changes, EventView, FestivalView, VenueView};

pub mod budget;
mod crews;
pub use crews::{CREW_SHARE_INTERVAL_S, INVITE_SECONDS};
mod device;
mod events;
mod festival;
mod files;
mod people;
mod reads;
mod sessions;
mod time;

pub use device::DEFAULT_REMINDER_LEAD_MINUTES;
pub use files::{IcsSelection, ImportOptions, Imported};
pub use reads::Standing;
pub use sessions::{LinkStep, LinkSync, SessionEnd};
pub use time::{festival_tz, festival_window, format_clock, format_time, now_ms, parse_time};

/// How many search hits a front end gets unless it asks for another number.
pub const SEARCH_LIMIT: usize = 50;
/// The most search hits one call returns.
pub const SEARCH_LIMIT_MAX: usize = 500;

/// Why a node action failed.
#[derive(Debug, Error)]
pub enum NodeError {
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
    /// The identity could not be loaded.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Input does not make a valid op.
    #[error("{0}")]
    Invalid(String),
    /// One field of the input is wrong, named so that a form can show the error beside it.
    #[error("{field}: {reason}")]
    Field {
        /// The field's name as the op schema spells it (`title`, `start`, `end`, `venue`, ...).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
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
            crate::exchange::ExchangeError::Store(s) => s.into(),
            other => NodeError::Invalid(other.to_string()),
        }
    }
}

impl From<crate::op::OpError> for NodeError {
    fn from(e: crate::op::OpError) -> Self {
        match e {
            crate::op::OpError::Schema(s) => s.into(),
            other => NodeError::Invalid(other.to_string()),
        }
    }
}

impl From<SchemaError> for NodeError {
    fn from(e: SchemaError) -> Self {
        match e {
            SchemaError::Invalid { field, reason } => NodeError::Field { field, reason },
            SchemaError::Missing(field) => NodeError::Field { field, reason: "is required".into() },
            other => NodeError::Invalid(other.to_string()),
        }
    }
}

/// Fields for a new festival: a festival's own fields (see [`crate::model::FestivalFields::new`]).
pub type NewFestival = crate::model::FestivalFields;

impl From<StoreError> for NodeError {
    fn from(e: StoreError) -> Self {
        match e {
            // Something named that is not held is the caller's concern, whichever layer found out.
            StoreError::NotFound(what) => NodeError::NotFound(what),
            other => NodeError::Store(other),
        }
    }
}

/// A device's node.
pub struct Node {
    identity: Identity,
    store: Store,
    data_dir: Option<PathBuf>,
    /// Sync items of festivals being reconciled, following every batch this node stores.
    items: crate::sync::ItemCache,
    /// Advertised states of festivals, per store revision.
    advertised: crate::proximity::StateCache,
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
        Ok(Node::over(identity, store, Some(data_dir.to_owned())))
    }

    /// A node over an in-memory store (tests, benchmarks).
    pub fn in_memory(identity: Identity) -> Result<Node, NodeError> {
        Ok(Node::over(identity, Store::open_in_memory()?, None))
    }

    fn over(identity: Identity, store: Store, data_dir: Option<PathBuf>) -> Node {
        Node { identity, store, data_dir, items: Default::default(), advertised: Default::default() }
    }

    /// Stores a batch through the store and keeps the sync caches following it: every batch
    /// this node stores goes through here.
    fn store_batch(
        &mut self,
        ops: Vec<crate::op::Op>,
        from: Option<&crate::view::Arrival>,
    ) -> Result<IngestReport, NodeError> {
        let report = match from {
            Some(from) => self.store.ingest_from(ops, from)?,
            None => self.store.ingest(ops)?,
        };
        self.items.follow(&report);
        // Crew ops from elsewhere may ask this device to act: admit a joiner, share again under a
        // new epoch. What this device writes itself is acted on where it is written.
        if from.is_none_or(|f| f.via != crate::view::Via::Here) {
            let crews: Vec<FestivalId> = report
                .changes
                .festivals
                .iter()
                .filter(|(_, s)| s.contains(crate::feed::Scope::Crews))
                .map(|(f, _)| *f)
                .collect();
            for f in crews {
                if let Err(e) = self.crew_housekeeping(f) {
                    tracing::warn!(festival = %f.short(), error = %e, "crew housekeeping failed");
                }
            }
            // A sync is a good moment to tell the crews what was held back.
            let touched: Vec<FestivalId> = report.changes.festivals.keys().copied().collect();
            for f in touched {
                if let Err(e) = self.flush_crew_shares(f) {
                    tracing::warn!(festival = %f.short(), error = %e, "telling the crews failed");
                }
            }
        }
        Ok(report)
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

    /// The store, read-only, for tests and benchmarks (the `testing` feature): front ends read
    /// and write through the node's own methods.
    #[cfg(any(test, feature = "testing"))]
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
    /// reported and skipped. Records no arrival: the app's ways in name theirs
    /// ([`Node::ingest_from`]).
    pub fn ingest(&mut self, ops: Vec<crate::op::Op>) -> Result<IngestReport, NodeError> {
        self.store_batch(ops, None)
    }

    /// Like [`Node::ingest`], recording how the ops arrived, for their provenance.
    pub fn ingest_from(
        &mut self,
        ops: Vec<crate::op::Op>,
        from: &crate::view::Arrival,
    ) -> Result<IngestReport, NodeError> {
        self.store_batch(ops, Some(from))
    }

    /// Where one op of a festival came from (see [`crate::view::OpOrigin`]).
    pub fn op_origin(
        &self,
        festival: &FestivalId,
        op: &crate::op::OpId,
    ) -> Result<Option<crate::view::OpOrigin>, NodeError> {
        let Some(mut o) = self.store.op_origin(festival, op)? else { return Ok(None) };
        self.place_in_crews(festival, &mut [&mut o])?;
        Ok(Some(o))
    }

    /// Sets where the store takes the time from (tests and simulations).
    pub fn set_clock(&mut self, clock: Clock) {
        self.store.set_clock(clock);
    }

    /// Marks or unmarks an event as a favourite on this device.
    pub fn set_favourite(&mut self, festival: &FestivalId, event: &OpId, on: bool) -> Result<(), NodeError> {
        self.store.set_favourite(festival, event, on)?;
        self.own_state_changed(*festival, false);
        Ok(())
    }

    /// Records that the user has now seen everything in the festival.
    pub fn mark_seen(&mut self, festival: &FestivalId) -> Result<(), NodeError> {
        self.store.mark_seen(festival)?;
        self.own_state_changed(*festival, true);
        Ok(())
    }

    /// What changed since the last look, recording this look if `mark_seen`: one read and one
    /// mark in that order, so nothing stored in between is marked seen unread.
    pub fn changes_since_last_look(&mut self, festival: &FestivalId, mark_seen: bool) -> Result<Changes, NodeError> {
        let changes = self.store.changes(festival)?;
        if mark_seen {
            self.mark_seen(festival)?;
        }
        Ok(changes)
    }

    /// Mutes (or unmutes) an author for this person (its own devices follow).
    pub fn set_muted(&mut self, festival: &FestivalId, author: &PublicKey, on: bool) -> Result<(), NodeError> {
        self.store.set_muted(festival, author, on)?;
        self.own_state_changed(*festival, false);
        Ok(())
    }

    /// Hides an event from this person's own programme (its own devices follow), or shows it
    /// again. Organisers hiding content for everyone is [`Node::hide`].
    pub fn set_hidden_here(&mut self, festival: &FestivalId, event: &OpId, on: bool) -> Result<(), NodeError> {
        if on && self.store.event(festival, event)?.is_none() {
            return Err(NodeError::NotFound(format!("event {}", event.short())));
        }
        self.store.set_hidden_here(festival, event, on)?;
        self.own_state_changed(*festival, false);
        Ok(())
    }

    /// The events this person hid from its own programme.
    pub fn hidden_here(&self, festival: &FestivalId) -> Result<Vec<EventView>, NodeError> {
        let mut out = Vec::new();
        for id in self.store.hidden_here(festival)? {
            if let Some(e) = self.store.event(festival, &id)? {
                out.push(e);
            }
        }
        Ok(out)
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

    /// Signs `body` as this key's next op in `festival` and stores it, unless it does not fit
    /// the log's budget (see [`budget`]).
    fn write(&mut self, festival: FestivalId, body: Body) -> Result<OpId, NodeError> {
        let position = self.store.next_position(&festival, &self.public_key())?;
        // A body that fails its schema is bad input, not a storage failure (From<OpError>).
        let op = crate::op::LogWriter::new(festival, position).sign(
            &self.identity,
            position.lamport,
            self.now_ms(),
            body,
        )?;
        self.log_usage(&festival)?.check(std::slice::from_ref(&op))?;
        let report = self.store_batch(vec![op.clone()], Some(&crate::view::Arrival::here()))?;
        if let Some(r) = report.rejected.into_iter().next() {
            return Err(StoreError::Rejected(r.reason).into());
        }
        Ok(op.id())
    }

    fn require_official(&self, festival: &FestivalId, what: &str) -> Result<(), NodeError> {
        if self.store.is_official(festival, &self.public_key())? {
            Ok(())
        } else {
            Err(NodeError::NotPermitted(format!("only the owner and organisers can {what}")))
        }
    }
}
