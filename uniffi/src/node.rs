//! [`MeadowNode`], the node an app holds: every call that touches the store or the network is
//! async (Kotlin `suspend`, Swift `async`) and runs on the node's own threads, never the caller's.

use std::sync::{Arc, Mutex};

use meadow_core::net::{Invite, NetConfig, NetStatus, Networking, SharedNode};
use meadow_core::node::{IcsSelection, ImportOptions, Imported, NewFestival, Node, NodeError, Standing};
use meadow_core::op::{EventPatch, VenuePatch};
use meadow_core::view::{
    AgendaEntry, AnnouncementView, ChangeView, DayView, EventDetail, EventView, Facets, FestivalDay, FestivalView,
    NowNext, OpOrigin, ProgrammeFilter, ProgrammePage, VenueView,
};

use crate::error::{MeadowError, date, festival_id, op_id, public_key};
use crate::feed::{ChangeListener, ChangeSubscription};
use crate::forms::{EventChanges, EventForm, NewEvent, ProgrammeQuery};
use crate::records::LogUsage;

/// The programme of one day (`YYYY-MM-DD`), or all of it.
fn day_filter(day: Option<&str>) -> Result<ProgrammeFilter, MeadowError> {
    Ok(ProgrammeFilter { day: day.map(date).transpose()?, ..Default::default() })
}

/// The core's filter for what a programme list shows (the core reads blank names as none).
fn query_filter(q: &ProgrammeQuery) -> Result<ProgrammeFilter, MeadowError> {
    Ok(ProgrammeFilter {
        day: q.day.as_deref().map(date).transpose()?,
        venue: q.venue_id.as_deref().map(op_id).transpose()?,
        track: q.track.clone(),
        tag: q.tag.clone(),
        official_only: q.official_only,
    })
}

/// The node an app holds.
#[derive(uniffi::Object)]
pub struct MeadowNode {
    pub(crate) node: SharedNode,
    public_key: String,
    fingerprint: String,
    /// The node's change feed, held apart so that subscribing never waits for the node.
    feed: meadow_core::feed::Feed,
    /// Runs store work (on its blocking threads) and networking.
    runtime: Option<tokio::runtime::Runtime>,
    net: Mutex<Option<Arc<Networking>>>,
}

impl MeadowNode {
    fn runtime(&self) -> Result<&tokio::runtime::Runtime, MeadowError> {
        self.runtime.as_ref().ok_or_else(|| MeadowError::internal("the node is closing"))
    }

    /// Runs `f` on the node on a blocking thread, whichever executor awaits the result.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Node) -> Result<T, NodeError> + Send + 'static,
    ) -> Result<T, MeadowError> {
        let node = self.node.clone();
        let task = self.runtime()?.spawn_blocking(move || {
            let mut n = node.lock().map_err(|_| MeadowError::internal("node lock poisoned"))?;
            f(&mut n).map_err(MeadowError::from)
        });
        task.await.map_err(MeadowError::internal)?
    }

    /// Runs a networking future on the node's runtime.
    async fn on_runtime<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Result<T, MeadowError> {
        self.runtime()?.spawn(f).await.map_err(MeadowError::internal)
    }

    fn running_net(&self) -> Option<Arc<Networking>> {
        self.net.lock().ok().and_then(|n| n.clone())
    }
}

#[uniffi::export]
impl MeadowNode {
    /// Opens (creating on first use) the node in a data directory.
    #[uniffi::constructor]
    pub fn open(data_dir: String) -> Result<Arc<Self>, MeadowError> {
        let node = Node::open(std::path::Path::new(&data_dir))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("meadow")
            .enable_all()
            .build()
            .map_err(MeadowError::internal)?;
        let key = node.public_key();
        Ok(Arc::new(MeadowNode {
            public_key: key.to_hex(),
            fingerprint: key.fingerprint(),
            feed: node.feed(),
            node: Arc::new(Mutex::new(node)),
            runtime: Some(runtime),
            net: Mutex::new(None),
        }))
    }

    /// This device's public key (hex).
    pub fn public_key(&self) -> String {
        self.public_key.clone()
    }

    /// This device's fingerprint, to read aloud.
    pub fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    /// Tells `listener` of every change from now on, until the returned handle is closed.
    pub fn subscribe(&self, listener: Arc<dyn ChangeListener>) -> Arc<ChangeSubscription> {
        ChangeSubscription::start(self.feed.subscribe(), listener)
    }
}

#[uniffi::export]
impl MeadowNode {
    /// Festivals on this device.
    pub async fn festivals(&self) -> Result<Vec<FestivalView>, MeadowError> {
        self.run(|n| n.festivals()).await
    }

    /// The selected festival's id, if any.
    pub async fn current_festival(&self) -> Result<Option<String>, MeadowError> {
        self.run(|n| Ok(n.current_festival()?.map(|f| f.to_hex()))).await
    }

    /// Selects a festival.
    pub async fn use_festival(&self, festival: String) -> Result<(), MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.use_festival(&f)).await
    }

    /// Creates a festival owned by this device and selects it; returns its id.
    pub async fn create_festival(
        &self,
        name: String,
        timezone: String,
        start_date: String,
        end_date: String,
    ) -> Result<String, MeadowError> {
        let start = date(&start_date).map_err(|e| MeadowError::at("start_date", e))?;
        let end = date(&end_date).map_err(|e| MeadowError::at("end_date", e))?;
        let new = NewFestival::new(name, timezone, start, end);
        self.run(|n| n.create_festival(new)).await.map(|id| id.to_hex())
    }

    /// Creates the demo festival (four days from `start_date`, owned by this device, with
    /// organisers, community events and announcements) and selects it; returns its id. Nothing
    /// in it counts as a change since the last look: it is not news to the device that made it.
    pub async fn create_demo(&self, start_date: String) -> Result<String, MeadowError> {
        let start = date(&start_date)?;
        self.run(move |n| meadow_core::demo::create_demo(n, start)).await.map(|(id, _)| id.to_hex())
    }

    /// Adds a venue; returns its id.
    pub async fn add_venue(&self, festival: String, name: String) -> Result<String, MeadowError> {
        let f = festival_id(&festival)?;
        let patch = VenuePatch { name: Some(name), ..Default::default() };
        self.run(move |n| n.add_venue(f, patch)).await.map(|id| id.to_hex())
    }

    /// Venues of a festival.
    pub async fn venues(&self, festival: String) -> Result<Vec<VenueView>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.venues(&f)).await
    }

    /// Adds an event (official if this device's identity is an organiser, else a community
    /// event); returns its id.
    pub async fn add_event(&self, festival: String, event: NewEvent) -> Result<String, MeadowError> {
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
        self.run(move |n| n.add_event(f, patch)).await.map(|id| id.to_hex())
    }

    /// An event as its form shows it: its festival day, times as clocks on that day, venue,
    /// track and description. Keep it to save against (see `save_event`).
    pub async fn event_form(&self, festival: String, event: String) -> Result<EventForm, MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        self.run(move |n| n.event_form(&f, &e)).await.map(EventForm::from)
    }

    /// Saves an event's form: adds the event (`event` none), or changes only the fields where
    /// `form` differs from `loaded` (the form as `event_form` gave it), so that a change someone
    /// else made meanwhile to another field stands. Returns the event's id; a wrong field comes
    /// back as `InvalidField` naming it.
    pub async fn save_event(
        &self,
        festival: String,
        event: Option<String>,
        form: EventForm,
        loaded: Option<EventForm>,
    ) -> Result<String, MeadowError> {
        let f = festival_id(&festival)?;
        let e = event.as_deref().map(op_id).transpose()?;
        let (form, loaded) = (form.into_core()?, loaded.map(EventForm::into_core).transpose()?);
        self.run(move |n| n.save_event_form(f, e, form, loaded)).await.map(|id| id.to_hex())
    }

    /// Changes an event (its author and organisers may).
    pub async fn edit_event(&self, festival: String, event: String, changes: EventChanges) -> Result<(), MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        let venue = match (changes.clear_venue, changes.venue_id.as_deref()) {
            (true, _) => Some(None),
            (false, Some(v)) => Some(Some(op_id(v)?)),
            (false, None) => None,
        };
        let patch = EventPatch {
            title: changes.title,
            start: changes.start,
            end: changes.end,
            venue,
            track: changes.track,
            description: changes.description,
            ..Default::default()
        };
        self.run(move |n| n.edit_event(f, e, patch)).await
    }

    /// Deletes an event (its author and organisers may).
    pub async fn delete_event(&self, festival: String, event: String) -> Result<(), MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        self.run(move |n| n.delete_event(f, e)).await
    }

    /// Hides (or shows again) an event for everyone: organisers only.
    pub async fn hide_event(&self, festival: String, event: String, hidden: bool) -> Result<(), MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        self.run(move |n| n.hide(f, meadow_core::op::HideTarget::Entity(e), hidden)).await
    }

    /// Hides (or shows again) everything an author posted, for everyone: organisers only.
    pub async fn hide_author(&self, festival: String, key: String, hidden: bool) -> Result<(), MeadowError> {
        let (f, k) = (festival_id(&festival)?, public_key(&key)?);
        self.run(move |n| n.hide(f, meadow_core::op::HideTarget::Author(k), hidden)).await
    }

    /// Sets the name shown next to this identity's posts in a festival.
    pub async fn set_display_name(&self, festival: String, name: String) -> Result<(), MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.set_display_name(f, &name)).await
    }

    /// The name shown next to an author's posts (this identity's if `key` is none), if set.
    pub async fn display_name(&self, festival: String, key: Option<String>) -> Result<Option<String>, MeadowError> {
        let f = festival_id(&festival)?;
        let k = key.as_deref().map(public_key).transpose()?;
        self.run(move |n| {
            let who = k.unwrap_or_else(|| n.public_key());
            n.display_name(&f, &who)
        })
        .await
    }

    /// What this identity is in a festival: owner, organiser or attendee.
    pub async fn standing(&self, festival: String) -> Result<Standing, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.standing(&f)).await
    }

    /// What this device's key has spent of its log in a festival, with a warning for an
    /// organiser whose log fills up.
    pub async fn log_usage(&self, festival: String) -> Result<LogUsage, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.log_usage(&f)).await.map(LogUsage::from)
    }

    /// The festival days that have events, with how many.
    pub async fn days(&self, festival: String) -> Result<Vec<FestivalDay>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.days(&f)).await
    }

    /// The day (`YYYY-MM-DD`) a programme opens on at `now` (Unix seconds): the festival day
    /// it is, the day change honoured, if that day has events, else the first day with events.
    pub async fn opening_day(&self, festival: String, now: i64) -> Result<Option<String>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.opening_day(&f, now)).await
    }

    /// Per venue, what is on at `now` (Unix seconds) and what starts next.
    pub async fn now_next(&self, festival: String, now: i64) -> Result<Vec<NowNext>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.now_next(&f, now)).await
    }

    /// Favourites as a timetable: gaps, clashes, and reminders `remind_minutes` before each
    /// (none: this device's reminder lead, see `reminder_lead`).
    pub async fn agenda(&self, festival: String, remind_minutes: Option<u32>) -> Result<Vec<AgendaEntry>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| match remind_minutes {
            Some(m) => n.agenda(&f, m.into()),
            None => n.agenda_now(&f),
        })
        .await
    }

    /// How many minutes before a favourite starts this device reminds its person.
    pub async fn reminder_lead(&self) -> Result<u32, MeadowError> {
        self.run(|n| n.reminder_lead()).await
    }

    /// Sets the reminder lead, in minutes (at most a day).
    pub async fn set_reminder_lead(&self, minutes: u32) -> Result<(), MeadowError> {
        self.run(move |n| n.set_reminder_lead(minutes)).await
    }

    /// The favourites whose reminder is due at `now` (Unix seconds), at this device's lead.
    pub async fn reminders_due(&self, festival: String, now: i64) -> Result<Vec<EventView>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.reminders_due(&f, now)).await
    }

    /// Emergencies current at `now` that this device has not told its person of yet, newest
    /// first; from here on they count as told (kept in the store, so a restart does not tell
    /// them again).
    pub async fn emergencies_to_notify(
        &self,
        festival: String,
        now: i64,
    ) -> Result<Vec<AnnouncementView>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.emergencies_to_notify(&f, now)).await
    }

    /// The venues, tracks and tags the programme can be filtered by.
    pub async fn facets(&self, festival: String) -> Result<Facets, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.facets(&f)).await
    }

    /// Cancels or restores an event.
    pub async fn cancel_event(&self, festival: String, event: String, cancelled: bool) -> Result<(), MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        self.run(move |n| n.cancel_event(f, e, cancelled)).await
    }

    /// Names an organiser by public key (hex).
    pub async fn add_organiser(&self, festival: String, key: String) -> Result<(), MeadowError> {
        let (f, k) = (festival_id(&festival)?, public_key(&key)?);
        self.run(move |n| n.add_organiser(f, k)).await
    }

    /// Removes an organiser.
    pub async fn remove_organiser(&self, festival: String, key: String) -> Result<(), MeadowError> {
        let (f, k) = (festival_id(&festival)?, public_key(&key)?);
        self.run(move |n| n.remove_organiser(f, k)).await
    }

    /// Mutes (or unmutes) an author on this device only.
    pub async fn set_muted(&self, festival: String, key: String, muted: bool) -> Result<(), MeadowError> {
        let (f, k) = (festival_id(&festival)?, public_key(&key)?);
        self.run(move |n| n.set_muted(&f, &k, muted)).await
    }

    /// Hides an event from this person's programme (its own devices follow), or shows it again.
    pub async fn set_hidden_here(&self, festival: String, event: String, hidden: bool) -> Result<(), MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        self.run(move |n| n.set_hidden_here(&f, &e, hidden)).await
    }

    /// The events this person hid from its programme.
    pub async fn hidden_here(&self, festival: String) -> Result<Vec<EventView>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.hidden_here(&f)).await
    }

    /// Where one op of a festival came from (an announcement's id, a change's op): who signed
    /// it, their clock's claim, and how and when it reached this device.
    pub async fn op_origin(&self, festival: String, op: String) -> Result<OpOrigin, MeadowError> {
        let (f, o) = (festival_id(&festival)?, op_id(&op)?);
        let origin = self.run(move |n| n.op_origin(&f, &o)).await?;
        origin.ok_or_else(|| MeadowError::NotFound { reason: format!("op {op} not found") })
    }

    /// One event of a festival with its description and links.
    pub async fn event_detail(&self, festival: String, event: String) -> Result<EventDetail, MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        let d = self.run(move |n| n.event_detail(&f, &e)).await?;
        d.ok_or_else(|| MeadowError::NotFound { reason: format!("event {event} not found") })
    }

    /// A day's programme (`YYYY-MM-DD`), or all of it.
    pub async fn programme(&self, festival: String, day: Option<String>) -> Result<Vec<EventView>, MeadowError> {
        let f = festival_id(&festival)?;
        let filter = day_filter(day.as_deref())?;
        self.run(move |n| n.programme(&f, &filter)).await
    }

    /// Part of a day's programme (or of all of it): `limit` events from `offset`, in the same
    /// order as [`MeadowNode::programme`]. A list shows the first screenful, then asks for the
    /// rest.
    pub async fn programme_page(
        &self,
        festival: String,
        day: Option<String>,
        offset: u32,
        limit: u32,
    ) -> Result<ProgrammePage, MeadowError> {
        let f = festival_id(&festival)?;
        let filter = day_filter(day.as_deref())?;
        self.run(move |n| n.programme_page(&f, &filter, offset as usize, limit as usize)).await
    }

    /// A page of the programme as its list and grid show it (a day, a venue, a track, a tag:
    /// what `query` names): `limit` events from `offset`, venues and tracks once. What a
    /// phone's day screen reads: the first screenful, then the rest.
    pub async fn day_view(
        &self,
        festival: String,
        query: ProgrammeQuery,
        offset: u32,
        limit: u32,
    ) -> Result<DayView, MeadowError> {
        let f = festival_id(&festival)?;
        let filter = query_filter(&query)?;
        self.run(move |n| n.day_view(&f, &filter, offset as usize, limit as usize)).await
    }

    /// Full-text search, best first: `limit` hits at most (the core's default if none).
    pub async fn search(
        &self,
        festival: String,
        query: String,
        limit: Option<u32>,
    ) -> Result<Vec<EventView>, MeadowError> {
        let f = festival_id(&festival)?;
        let limit = limit.map(|l| l as usize);
        self.run(move |n| n.search(&f, &query, limit)).await
    }

    /// Marks or unmarks a favourite.
    pub async fn set_favourite(&self, festival: String, event: String, favourite: bool) -> Result<(), MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        self.run(move |n| n.set_favourite(&f, &e, favourite)).await
    }

    /// Favourites.
    pub async fn favourites(&self, festival: String) -> Result<Vec<EventView>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.favourites(&f)).await
    }

    /// Favourites starting within `minutes` of `now` (Unix seconds): what reminders fire for.
    pub async fn favourites_starting_within(
        &self,
        festival: String,
        now: i64,
        minutes: i64,
    ) -> Result<Vec<EventView>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.favourites_starting_within(&f, now, minutes)).await
    }

    /// Posts an announcement (organisers); an urgent one is an emergency.
    pub async fn announce(&self, festival: String, text: String, urgent: bool) -> Result<(), MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.announce_text(f, text, urgent).map(|_| ())).await
    }

    /// Current announcements, newest first.
    pub async fn announcements(&self, festival: String, now: i64) -> Result<Vec<AnnouncementView>, MeadowError> {
        let f = festival_id(&festival)?;
        self.run(move |n| n.announcements(&f, now)).await
    }

    /// What changed since the last look; `mark_seen` records this look.
    pub async fn changes(&self, festival: String, mark_seen: bool) -> Result<Vec<ChangeView>, MeadowError> {
        let f = festival_id(&festival)?;
        let c = self.run(move |n| n.changes_since_last_look(&f, mark_seen)).await?;
        Ok(c.events)
    }

    /// Imports a schedule or archive (bytes of the file); returns the festival id.
    pub async fn import(&self, bytes: Vec<u8>) -> Result<String, MeadowError> {
        let outcome = self.run(move |n| n.import(&bytes, &ImportOptions::default(), &mut |_, _| {})).await?;
        let (Imported::Schedule { festival, .. } | Imported::Archive { festival, .. }) = outcome;
        Ok(festival.to_hex())
    }

    /// The programme (or the favourites) as iCalendar text.
    pub async fn export_ics(&self, festival: String, favourites_only: bool) -> Result<String, MeadowError> {
        let f = festival_id(&festival)?;
        let sel = if favourites_only { IcsSelection::Favourites } else { IcsSelection::All };
        self.run(move |n| n.export_ics(&f, sel)).await
    }

    /// One event as an iCalendar file, for "add to calendar".
    pub async fn export_event_ics(&self, festival: String, event: String) -> Result<String, MeadowError> {
        let (f, e) = (festival_id(&festival)?, op_id(&event)?);
        self.run(move |n| n.export_ics(&f, IcsSelection::Event(e))).await
    }
}

#[uniffi::export]
impl MeadowNode {
    /// Starts networking, which then runs by itself (the core decides what it does: listen, sync
    /// with the peers it finds on the LAN with `lan`, keep in touch with the peers festivals were
    /// joined from, reconnect, push live updates); without `lan`, loopback only. `port` 0 reuses
    /// the last port if it is free. Status changes reach the change feed (`network` set).
    pub async fn start_networking(&self, port: u16, lan: bool) -> Result<NetStatus, MeadowError> {
        if self.running_net().is_none() {
            let cfg = if lan {
                NetConfig::lan(port)
            } else {
                let mut c = NetConfig::loopback();
                c.bind.set_port(port);
                c
            };
            let running = Arc::new(self.on_runtime(Networking::start(self.node.clone(), cfg)).await??);
            let spare = {
                let mut slot = self.net.lock().map_err(|_| MeadowError::internal("lock poisoned"))?;
                match slot.as_ref() {
                    // Another call started it meanwhile: keep that one.
                    Some(_) => Some(running),
                    None => {
                        *slot = Some(running);
                        None
                    }
                }
            };
            if let Some(spare) = spare {
                self.on_runtime(async move { spare.stop().await }).await?;
            }
        }
        self.net_status().await
    }

    /// Stops networking.
    pub async fn stop_networking(&self) -> Result<(), MeadowError> {
        let net = self.net.lock().ok().and_then(|mut n| n.take());
        if let Some(net) = net {
            self.on_runtime(async move { net.stop().await }).await?;
        }
        Ok(())
    }

    /// What networking is doing.
    pub async fn net_status(&self) -> Result<NetStatus, MeadowError> {
        let current = self.run(|n| n.current_festival()).await?;
        Ok(self.running_net().map(|net| net.status(current)).unwrap_or_default())
    }

    /// Joins a festival from an invite (text or link): starts networking if needed (as
    /// `start_networking(0, lan)`), fetches the festival and selects it; returns its id.
    pub async fn join(&self, ticket: String, lan: bool) -> Result<String, MeadowError> {
        let invite = Invite::parse(&ticket).map_err(|e| MeadowError::invalid(format!("not a Meadow invite: {e}")))?;
        self.start_networking(0, lan).await?;
        let net = self.running_net().ok_or_else(|| MeadowError::internal("networking did not start"))?;
        let festival = invite.festival;
        self.on_runtime(async move { net.join(&invite).await }).await??;
        Ok(festival.to_hex())
    }
}

impl Drop for MeadowNode {
    fn drop(&mut self) {
        let net = self.net.get_mut().ok().and_then(|n| n.take());
        let Some(runtime) = self.runtime.take() else { return };
        // Closing connections needs the runtime; on a thread of its own, so that dropping the
        // node works from any thread, an async one included.
        let closing = std::thread::spawn(move || {
            if let Some(net) = net {
                runtime.block_on(net.stop());
            }
            drop(runtime);
        });
        let _ = closing.join();
    }
}
