//! Meadow for Kotlin and Swift: one [`MeadowNode`] object, records for what the apps show, one
//! error enum, and callback traits for change notifications and native links. This crate only
//! translates types; every rule lives in meadow-core.
//!
//! Calls are blocking (a local SQLite store answers in milliseconds); apps call them off the UI
//! thread. Sync over a native link is driven by [`LinkSession`], one step per callback.

use std::sync::{Arc, Mutex};

use meadow_core::node::{
    IcsSelection, ImportOptions, Imported, LinkStep, LinkSync, NewFestival, Node, NodeError, SessionEnd,
};
use meadow_core::op::{Announcement as CoreAnnouncement, EventPatch, FestivalId, OpId, Priority};
use meadow_core::store::{ChangeKind as CoreChangeKind, EventView, ProgrammeFilter};

uniffi::setup_scaffolding!();

/// An error, with a message fit to show.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum MeadowError {
    /// Input that does not make a valid change.
    #[error("{reason}")]
    Invalid {
        /// Why.
        reason: String,
    },
    /// Something named does not exist.
    #[error("{reason}")]
    NotFound {
        /// What.
        reason: String,
    },
    /// The identity lacks the role the action needs.
    #[error("{reason}")]
    NotPermitted {
        /// Why.
        reason: String,
    },
    /// No festival is selected.
    #[error("no current festival")]
    NoFestival,
    /// Storage or the device failed.
    #[error("{reason}")]
    Internal {
        /// What failed.
        reason: String,
    },
}

impl From<NodeError> for MeadowError {
    fn from(e: NodeError) -> Self {
        // The one place that decides what the apps see, and what is only logged.
        match e {
            NodeError::Invalid(reason) => MeadowError::Invalid { reason },
            NodeError::NotFound(what) => MeadowError::NotFound { reason: format!("{what} not found") },
            NodeError::NotPermitted(reason) => MeadowError::NotPermitted { reason },
            NodeError::NoFestival => MeadowError::NoFestival,
            NodeError::Store(meadow_core::store::StoreError::NotFound(what)) => {
                MeadowError::NotFound { reason: format!("{what} not found") }
            }
            other => {
                tracing::error!(error = %other, "internal error");
                MeadowError::Internal { reason: other.to_string() }
            }
        }
    }
}

fn festival_id(hex: &str) -> Result<FestivalId, MeadowError> {
    FestivalId::from_hex(hex).ok_or_else(|| MeadowError::Invalid { reason: format!("not a festival id: {hex:?}") })
}

fn public_key(hex: &str) -> Result<meadow_core::identity::PublicKey, MeadowError> {
    meadow_core::identity::PublicKey::from_hex(hex).map_err(|e| MeadowError::Invalid { reason: e.to_string() })
}

fn op_id(hex: &str) -> Result<OpId, MeadowError> {
    OpId::from_hex(hex).ok_or_else(|| MeadowError::Invalid { reason: format!("not an id: {hex:?}") })
}

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
    /// Track.
    pub track: String,
    /// Tags.
    pub tags: Vec<String>,
    /// People.
    pub people: Vec<String>,
    /// Cancelled.
    pub cancelled: bool,
    /// Posted by organisers.
    pub official: bool,
    /// Favourite on this device.
    pub favourite: bool,
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
            track: e.track,
            tags: e.tags,
            people: e.people,
            cancelled: e.cancelled,
            official: e.official,
            favourite: e.favourite,
        }
    }
}

/// A venue.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Venue {
    /// Id (hex).
    pub id: String,
    /// Name.
    pub name: String,
}

/// An announcement.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Announcement {
    /// Id (hex).
    pub id: String,
    /// Text.
    pub text: String,
    /// `normal`, `high` or `emergency`.
    pub priority: String,
    /// Author's display name, if set.
    pub author_name: String,
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

/// Which part of a festival changed, so a screen refreshes only what it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChangeScope {
    /// The festival itself, its venues or organisers.
    Festival,
    /// Events.
    Programme,
    /// This device's favourites.
    Favourites,
    /// Announcements.
    Announcements,
    /// Anything (an import or a sync brought ops of every kind).
    Everything,
}

/// A change in a festival.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StoreChange {
    /// Festival id (hex).
    pub festival: String,
    /// What changed.
    pub scope: ChangeScope,
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
}

/// Why a listener could not take a change (whatever it threw).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ListenerError {
    /// The listener failed.
    #[error("{reason}")]
    Failed {
        /// What it said.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for ListenerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        ListenerError::Failed { reason: e.reason }
    }
}

/// Told when the store changes (a local edit, an import, a sync).
#[uniffi::export(with_foreign)]
pub trait ChangeListener: Send + Sync {
    /// Something in a festival changed. Whatever a listener throws is logged and the others are
    /// still told.
    fn on_change(&self, change: StoreChange) -> Result<(), ListenerError>;
}

/// A transport that native code owns (Bluetooth, Wi-Fi Direct, Multipeer).
#[uniffi::export(with_foreign)]
pub trait Link: Send + Sync {
    /// Writes one packet (at most [`Link::mtu`] bytes).
    fn send(&self, packet: Vec<u8>);
    /// Closes the link (named so it cannot clash with `close()` of generated classes).
    fn disconnect(&self);
    /// The largest packet the link carries.
    fn mtu(&self) -> u32;
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
}

struct Networking {
    runtime: tokio::runtime::Runtime,
    net: Option<Arc<meadow_core::net::Net>>,
}

/// The node an app holds.
#[derive(uniffi::Object)]
pub struct MeadowNode {
    node: meadow_core::net::SharedNode,
    listeners: Mutex<Vec<Arc<dyn ChangeListener>>>,
    networking: Mutex<Option<Networking>>,
}

impl MeadowNode {
    fn with<T>(&self, f: impl FnOnce(&mut Node) -> Result<T, NodeError>) -> Result<T, MeadowError> {
        let mut node = self.node.lock().map_err(|_| MeadowError::Internal { reason: "node lock poisoned".into() })?;
        Ok(f(&mut node)?)
    }

    fn changed(&self, festival: &FestivalId, scope: ChangeScope) {
        let listeners: Vec<_> = self.listeners.lock().map(|l| l.clone()).unwrap_or_default();
        for l in listeners {
            // A listener that throws must not take the node down.
            let change = StoreChange { festival: festival.to_hex(), scope };
            if let Err(e) = l.on_change(change) {
                tracing::warn!(error = %e, "a change listener failed");
            }
        }
    }
}

#[uniffi::export]
impl MeadowNode {
    /// Opens (creating on first use) the node in a data directory.
    #[uniffi::constructor]
    pub fn open(data_dir: String) -> Result<Arc<Self>, MeadowError> {
        let node = Node::open(std::path::Path::new(&data_dir))?;
        Ok(Arc::new(MeadowNode {
            node: Arc::new(Mutex::new(node)),
            listeners: Mutex::new(Vec::new()),
            networking: Mutex::new(None),
        }))
    }

    /// This device's public key (hex).
    pub fn public_key(&self) -> Result<String, MeadowError> {
        self.with(|n| Ok(n.public_key().to_hex()))
    }

    /// This device's fingerprint, to read aloud.
    pub fn fingerprint(&self) -> Result<String, MeadowError> {
        self.with(|n| Ok(n.public_key().fingerprint()))
    }

    /// Registers a change listener.
    pub fn add_listener(&self, listener: Arc<dyn ChangeListener>) {
        if let Ok(mut l) = self.listeners.lock() {
            l.push(listener);
        }
    }

    /// Festivals on this device.
    pub fn festivals(&self) -> Result<Vec<Festival>, MeadowError> {
        self.with(|n| {
            Ok(n.store()
                .festivals()?
                .into_iter()
                .map(|f| Festival {
                    id: f.id.to_hex(),
                    name: f.name,
                    description: f.description,
                    timezone: f.timezone,
                    start_date: f.start_date.to_string(),
                    end_date: f.end_date.to_string(),
                    place: f.place,
                    owner: f.owner.to_hex(),
                    organisers: f.organisers.iter().map(|o| o.to_hex()).collect(),
                })
                .collect())
        })
    }

    /// The selected festival's id, if any.
    pub fn current_festival(&self) -> Result<Option<String>, MeadowError> {
        self.with(|n| Ok(n.current_festival()?.map(|f| f.to_hex())))
    }

    /// Selects a festival.
    pub fn use_festival(&self, festival: String) -> Result<(), MeadowError> {
        let f = festival_id(&festival)?;
        self.with(|n| n.use_festival(&f))
    }

    /// Creates a festival owned by this device and selects it; returns its id.
    pub fn create_festival(
        &self,
        name: String,
        timezone: String,
        start_date: String,
        end_date: String,
    ) -> Result<String, MeadowError> {
        let date = |s: &str| s.parse().map_err(|_| MeadowError::Invalid { reason: format!("not a date: {s:?}") });
        let new = NewFestival {
            name,
            description: String::new(),
            timezone,
            start_date: date(&start_date)?,
            end_date: date(&end_date)?,
            place: String::new(),
            day_change_minutes: 0,
        };
        let id = self.with(|n| n.create_festival(new))?;
        self.changed(&id, ChangeScope::Festival);
        Ok(id.to_hex())
    }

    /// Adds a venue; returns its id.
    pub fn add_venue(&self, festival: String, name: String) -> Result<String, MeadowError> {
        let f = festival_id(&festival)?;
        let patch = meadow_core::op::VenuePatch { name: Some(name), ..Default::default() };
        let id = self.with(|n| n.add_venue(f, patch))?;
        self.changed(&f, ChangeScope::Festival);
        Ok(id.to_hex())
    }

    /// Venues of a festival.
    pub fn venues(&self, festival: String) -> Result<Vec<Venue>, MeadowError> {
        let f = festival_id(&festival)?;
        self.with(|n| {
            Ok(n.store().venues(&f)?.into_iter().map(|v| Venue { id: v.id.to_hex(), name: v.name }).collect())
        })
    }

    /// Adds an event; returns its id.
    pub fn add_event(&self, festival: String, event: NewEvent) -> Result<String, MeadowError> {
        let f = festival_id(&festival)?;
        let venue = event.venue_id.as_deref().map(op_id).transpose()?;
        let patch = EventPatch {
            title: Some(event.title),
            start: Some(event.start),
            end: Some(event.end),
            venue: Some(venue),
            track: Some(event.track),
            description: Some(event.description),
            ..Default::default()
        };
        let id = self.with(|n| n.add_event(f, patch))?;
        self.changed(&f, ChangeScope::Programme);
        Ok(id.to_hex())
    }

    /// Changes an event's title, times or venue (its author and organisers).
    pub fn edit_event(
        &self,
        festival: String,
        event: String,
        title: Option<String>,
        start: Option<i64>,
        end: Option<i64>,
        venue_id: Option<String>,
    ) -> Result<(), MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        let venue = venue_id.as_deref().map(op_id).transpose()?.map(Some);
        let patch = EventPatch { title, start, end, venue, ..Default::default() };
        self.with(|n| n.edit_event(f, e, patch))?;
        self.changed(&f, ChangeScope::Programme);
        Ok(())
    }

    /// Names an organiser by public key (hex).
    pub fn add_organiser(&self, festival: String, key: String) -> Result<(), MeadowError> {
        let f = festival_id(&festival)?;
        let k = public_key(&key)?;
        self.with(|n| n.add_organiser(f, k))?;
        self.changed(&f, ChangeScope::Festival);
        Ok(())
    }

    /// Removes an organiser.
    pub fn remove_organiser(&self, festival: String, key: String) -> Result<(), MeadowError> {
        let f = festival_id(&festival)?;
        let k = public_key(&key)?;
        self.with(|n| n.remove_organiser(f, k))?;
        self.changed(&f, ChangeScope::Festival);
        Ok(())
    }

    /// Starts networking (iroh: sessions, live updates, and with `lan` mDNS discovery on all
    /// interfaces; without it loopback only) on `port` (0: any). Blocks until bound.
    pub fn start_networking(&self, port: u16, lan: bool) -> Result<NetStatus, MeadowError> {
        let mut guard = self.networking.lock().map_err(|_| MeadowError::Internal { reason: "lock poisoned".into() })?;
        if guard.as_ref().is_some_and(|n| n.net.is_some()) {
            drop(guard);
            return self.net_status();
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| MeadowError::Internal { reason: e.to_string() })?;
        let cfg = if lan {
            meadow_core::net::NetConfig::lan(port)
        } else {
            let mut c = meadow_core::net::NetConfig::loopback();
            c.bind.set_port(port);
            c
        };
        let net = runtime
            .block_on(meadow_core::net::Net::start(self.node.clone(), cfg))
            .map_err(|e| MeadowError::Internal { reason: e.to_string() })?;
        *guard = Some(Networking { runtime, net: Some(Arc::new(net)) });
        drop(guard);
        self.net_status()
    }

    /// Stops networking.
    pub fn stop_networking(&self) {
        let taken = self.networking.lock().ok().and_then(|mut g| g.take());
        if let Some(Networking { runtime, net: Some(net) }) = taken
            && let Ok(net) = Arc::try_unwrap(net)
        {
            runtime.block_on(net.shutdown());
        }
    }

    /// What networking is doing.
    pub fn net_status(&self) -> Result<NetStatus, MeadowError> {
        let current = self.with(|n| n.current_festival())?;
        let guard = self.networking.lock().map_err(|_| MeadowError::Internal { reason: "lock poisoned".into() })?;
        Ok(match guard.as_ref().and_then(|n| n.net.as_ref()) {
            None => NetStatus { running: false, invite: None, peers: 0, sessions: 0, ops_received: 0 },
            Some(net) => {
                let s = net.stats();
                NetStatus {
                    running: true,
                    invite: current.map(|f| net.invite(f).to_link()),
                    peers: s.peers as u32,
                    sessions: s.sessions,
                    ops_received: s.ops_received,
                }
            }
        })
    }

    /// Joins a festival from an invite (text or link): starts networking if needed (as
    /// `start_networking(0, lan)`), fetches the festival and selects it. Blocks until the first
    /// sync ends.
    pub fn join(&self, ticket: String, lan: bool) -> Result<String, MeadowError> {
        let invite = meadow_core::net::Invite::parse(&ticket)
            .map_err(|e| MeadowError::Invalid { reason: format!("not a Meadow invite: {e}") })?;
        self.start_networking(0, lan)?;
        let guard = self.networking.lock().map_err(|_| MeadowError::Internal { reason: "lock poisoned".into() })?;
        let Some(Networking { runtime, net: Some(net) }) = guard.as_ref() else {
            return Err(MeadowError::Internal { reason: "networking did not start".into() });
        };
        let end = runtime
            .block_on(net.sync_with(invite.peer.clone(), invite.festival))
            .map_err(|e| MeadowError::Internal { reason: e.to_string() })?;
        drop(guard);
        if let SessionEnd::Failed(e) = end {
            return Err(MeadowError::Internal { reason: format!("sync failed: {e}") });
        }
        self.with(|n| n.use_festival(&invite.festival))?;
        self.changed(&invite.festival, ChangeScope::Everything);
        Ok(invite.festival.to_hex())
    }

    /// Cancels or restores an event.
    pub fn cancel_event(&self, festival: String, event: String, cancelled: bool) -> Result<(), MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        self.with(|n| n.cancel_event(f, e, cancelled))?;
        self.changed(&f, ChangeScope::Programme);
        Ok(())
    }

    /// One event of a festival with its description and links.
    pub fn event_detail(&self, festival: String, event: String) -> Result<EventDetail, MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        let d = self.with(|n| n.store().event_detail(&f, &e).map_err(NodeError::from))?;
        let d = d.ok_or_else(|| MeadowError::NotFound { reason: format!("event {event} not found") })?;
        Ok(EventDetail {
            event: d.event.into(),
            description: d.description,
            language: d.language,
            links: d.links.into_iter().map(|l| l.url).collect(),
        })
    }

    /// A day's programme (`YYYY-MM-DD`), or all of it.
    pub fn programme(&self, festival: String, day: Option<String>) -> Result<Vec<Event>, MeadowError> {
        let f = festival_id(&festival)?;
        let day = day
            .map(|d| d.parse().map_err(|_| MeadowError::Invalid { reason: format!("not a date: {d:?}") }))
            .transpose()?;
        let filter = ProgrammeFilter { day, ..Default::default() };
        self.with(|n| Ok(n.store().programme(&f, &filter)?.into_iter().map(Event::from).collect()))
    }

    /// Full-text search.
    pub fn search(&self, festival: String, query: String) -> Result<Vec<Event>, MeadowError> {
        let f = festival_id(&festival)?;
        self.with(|n| Ok(n.store().search(&f, &query, 50)?.into_iter().map(Event::from).collect()))
    }

    /// Marks or unmarks a favourite.
    pub fn set_favourite(&self, festival: String, event: String, favourite: bool) -> Result<(), MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        self.with(|n| Ok(n.store_mut().set_favourite(&f, &e, favourite)?))?;
        self.changed(&f, ChangeScope::Favourites);
        Ok(())
    }

    /// Favourites.
    pub fn favourites(&self, festival: String) -> Result<Vec<Event>, MeadowError> {
        let f = festival_id(&festival)?;
        self.with(|n| Ok(n.store().favourites(&f)?.into_iter().map(Event::from).collect()))
    }

    /// Favourites starting within `minutes` of `now` (Unix seconds): what reminders fire for.
    pub fn favourites_starting_within(
        &self,
        festival: String,
        now: i64,
        minutes: i64,
    ) -> Result<Vec<Event>, MeadowError> {
        let f = festival_id(&festival)?;
        self.with(|n| {
            Ok(n.store().favourites_starting_within(&f, now, minutes)?.into_iter().map(Event::from).collect())
        })
    }

    /// Posts an announcement (organisers).
    pub fn announce(&self, festival: String, text: String, urgent: bool) -> Result<(), MeadowError> {
        let f = festival_id(&festival)?;
        let a = CoreAnnouncement {
            text,
            priority: if urgent { Priority::Emergency } else { Priority::Normal },
            expires: None,
        };
        self.with(|n| n.announce(f, a))?;
        self.changed(&f, ChangeScope::Announcements);
        Ok(())
    }

    /// Current announcements, newest first.
    pub fn announcements(&self, festival: String, now: i64) -> Result<Vec<Announcement>, MeadowError> {
        let f = festival_id(&festival)?;
        self.with(|n| {
            Ok(n.store()
                .announcements(&f, now)?
                .into_iter()
                .map(|a| Announcement {
                    id: a.id.to_hex(),
                    text: a.text,
                    priority: a.priority.as_str().to_owned(),
                    author_name: a.author_name,
                })
                .collect())
        })
    }

    /// What changed since the last look; `mark_seen` records this look.
    pub fn changes(&self, festival: String, mark_seen: bool) -> Result<Vec<Change>, MeadowError> {
        let f = festival_id(&festival)?;
        self.with(|n| {
            let c = n.store().changes(&f)?;
            if mark_seen {
                n.store_mut().mark_seen(&f)?;
            }
            Ok(c.events
                .into_iter()
                .map(|c| Change {
                    kind: match c.kind {
                        CoreChangeKind::New => ChangeKind::New,
                        CoreChangeKind::Moved { from_start, from_venue, .. } => {
                            ChangeKind::Moved { from_start, from_venue }
                        }
                        CoreChangeKind::Cancelled => ChangeKind::Cancelled,
                        CoreChangeKind::Restored => ChangeKind::Restored,
                        CoreChangeKind::Updated => ChangeKind::Updated,
                        CoreChangeKind::Deleted => ChangeKind::Deleted,
                    },
                    event: c.event.into(),
                })
                .collect())
        })
    }

    /// Imports a schedule or archive (bytes of the file); returns the festival id.
    pub fn import(&self, bytes: Vec<u8>) -> Result<String, MeadowError> {
        let outcome = self.with(|n| n.import(&bytes, &ImportOptions::default(), &mut |_, _| {}))?;
        let f = match outcome {
            Imported::Schedule { festival, .. } | Imported::Archive { festival, .. } => festival,
        };
        self.changed(&f, ChangeScope::Everything);
        Ok(f.to_hex())
    }

    /// The programme (or the favourites) as iCalendar text.
    pub fn export_ics(&self, festival: String, favourites_only: bool) -> Result<String, MeadowError> {
        let f = festival_id(&festival)?;
        let sel = if favourites_only { IcsSelection::Favourites } else { IcsSelection::All };
        self.with(|n| n.export_ics(&f, sel))
    }
}

impl Drop for MeadowNode {
    fn drop(&mut self) {
        self.stop_networking();
    }
}

/// A sync session over a native link.
#[derive(uniffi::Object)]
pub struct LinkSession {
    node: Arc<MeadowNode>,
    link: Arc<dyn Link>,
    sync: Mutex<LinkSync>,
}

impl LinkSession {
    fn deliver(
        &self,
        step: Result<LinkStep, NodeError>,
        festival: Option<FestivalId>,
    ) -> Result<Option<String>, MeadowError> {
        let step = step?;
        for p in step.packets {
            self.link.send(p);
        }
        match step.end {
            None => Ok(None),
            Some(end) => {
                if let Some(f) = festival {
                    self.node.changed(&f, ChangeScope::Everything);
                }
                self.link.disconnect();
                Ok(Some(match end {
                    SessionEnd::Finished(s) => {
                        format!("finished: {} ops received, {} sent", s.ops_received, s.ops_sent)
                    }
                    SessionEnd::Failed(e) => format!("failed: {e}"),
                }))
            }
        }
    }

    fn step(
        &self,
        f: impl FnOnce(&mut LinkSync, &mut Node) -> Result<LinkStep, NodeError>,
    ) -> Result<Option<String>, MeadowError> {
        let mut sync = self.sync.lock().map_err(|_| MeadowError::Internal { reason: "link lock poisoned".into() })?;
        let step = self.node.with(|n| Ok(f(&mut sync, n)))?;
        let festival = sync.festival();
        drop(sync);
        self.deliver(step, festival)
    }
}

#[uniffi::export]
impl LinkSession {
    /// Starts syncing `festival` over `link` (this side dialled).
    #[uniffi::constructor]
    pub fn initiate(
        node: Arc<MeadowNode>,
        link: Arc<dyn Link>,
        festival: String,
        now_ms: u64,
    ) -> Result<Arc<Self>, MeadowError> {
        let f = festival_id(&festival)?;
        let sync = node.with(|n| LinkSync::initiate(n, &f, link.mtu() as usize, now_ms))?;
        let s = Arc::new(LinkSession { node, link, sync: Mutex::new(sync) });
        s.step(|l, n| l.start(n))?;
        Ok(s)
    }

    /// Answers a peer that dialled this side.
    #[uniffi::constructor]
    pub fn respond(node: Arc<MeadowNode>, link: Arc<dyn Link>, now_ms: u64) -> Arc<Self> {
        let sync = LinkSync::respond(link.mtu() as usize, now_ms);
        Arc::new(LinkSession { node, link, sync: Mutex::new(sync) })
    }

    /// Bytes arrived on the link; returns a summary once the session has ended.
    pub fn received(&self, bytes: Vec<u8>, now_ms: u64) -> Result<Option<String>, MeadowError> {
        self.step(|l, n| l.received(n, &bytes, now_ms))
    }

    /// The link closed.
    pub fn closed(&self) -> Result<Option<String>, MeadowError> {
        self.step(|l, n| l.closed(n))
    }

    /// Time passed; drives the idle timeout.
    pub fn tick(&self, now_ms: u64) -> Result<Option<String>, MeadowError> {
        self.step(|l, n| l.tick(n, now_ms))
    }
}
