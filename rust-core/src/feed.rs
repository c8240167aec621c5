//! The change feed: what each commit to the store changed (which festivals, in which scopes), told
//! to every subscriber, whatever brought the change (a local action, an import, an archive, a sync
//! over iroh or over a native link).
//!
//! Publishing never blocks and never calls out: changes are merged into each subscriber's pending
//! set, and the subscriber takes them when it is ready. So a subscriber that does not read holds at
//! most one entry per festival, and a publisher holding the node's lock cannot deadlock with a
//! subscriber that needs that lock to read what changed.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use crate::op::{Body, FestivalId};

/// One part of a festival that a screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Scope {
    /// The festival's own fields and its venues.
    Festival,
    /// Events: their fields, and which of them count as official or show at all.
    Programme,
    /// Announcements.
    Announcements,
    /// Owner and organisers.
    Roles,
    /// Hidden entities, community mode, approvals and this device's mutes.
    Moderation,
    /// Authors' display names.
    Profiles,
    /// This device's favourites.
    Favourites,
    /// What this device has marked seen ("changes since the last look").
    Seen,
    /// Crew ops: keys, epochs, members' items and join requests.
    Crews,
}

impl Scope {
    /// Every scope, in order.
    pub const ALL: [Scope; 9] = [
        Scope::Festival,
        Scope::Programme,
        Scope::Announcements,
        Scope::Roles,
        Scope::Moderation,
        Scope::Profiles,
        Scope::Favourites,
        Scope::Seen,
        Scope::Crews,
    ];

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A set of scopes.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Scopes(u16);

impl std::fmt::Debug for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl From<Scope> for Scopes {
    fn from(s: Scope) -> Self {
        Scopes(s.bit())
    }
}

impl<const N: usize> From<[Scope; N]> for Scopes {
    fn from(list: [Scope; N]) -> Self {
        list.into_iter().fold(Scopes::default(), |acc, s| acc | s.into())
    }
}

impl std::ops::BitOr for Scopes {
    type Output = Scopes;
    fn bitor(self, rhs: Scopes) -> Scopes {
        Scopes(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Scopes {
    fn bitor_assign(&mut self, rhs: Scopes) {
        self.0 |= rhs.0;
    }
}

impl Scopes {
    /// Everything a festival's ops can change (a rebuild, a fork, a repair).
    pub const SHARED: Scopes = Scopes(
        Scope::Festival.bit()
            | Scope::Programme.bit()
            | Scope::Announcements.bit()
            | Scope::Roles.bit()
            | Scope::Moderation.bit()
            | Scope::Profiles.bit()
            | Scope::Crews.bit(),
    );

    /// What storing an op with this body can change. Roles and moderation also change which
    /// events count as official or show at all, and a delete may name an event, venue or
    /// announcement. A kind from a newer release changes nothing shown here, but is still a
    /// change of the festival's ops (peers are told of it).
    pub fn of(body: &Body) -> Scopes {
        use Scope::*;
        match body {
            Body::FestivalCreate(_) | Body::FestivalEdit(_) | Body::Venue { .. } => [Festival, Programme].into(),
            Body::Event { .. } => Programme.into(),
            Body::Delete { .. } => [Festival, Programme, Announcements].into(),
            Body::Announcement(_) => Announcements.into(),
            Body::RoleGrant { .. } | Body::RoleRevoke { .. } => [Roles, Festival, Programme, Announcements].into(),
            Body::Profile(_) => Profiles.into(),
            Body::Hide { .. } | Body::Moderation(_) => [Moderation, Programme, Announcements].into(),
            Body::Crew(_) => Crews.into(),
            Body::Unknown { .. } => Festival.into(),
        }
    }

    /// Whether `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether any scope came from ops (which peers share), not only from this device's own
    /// bookkeeping (favourites, seen).
    pub fn touches_ops(self) -> bool {
        self.0 & Scopes::SHARED.0 != 0
    }

    /// The scopes in the set, in order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

/// What changed: per festival, in which scopes, and whether device settings changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Festivals that changed, with their scopes.
    pub festivals: BTreeMap<FestivalId, Scopes>,
    /// A device setting (such as the current festival) changed.
    pub settings: bool,
    /// Networking's status changed: peers, sessions, counters, started or stopped.
    pub network: bool,
}

impl ChangeSet {
    /// A change of one festival.
    pub fn of(festival: FestivalId, scopes: impl Into<Scopes>) -> ChangeSet {
        let mut c = ChangeSet::default();
        c.add(festival, scopes);
        c
    }

    /// Records a change.
    pub fn add(&mut self, festival: FestivalId, scopes: impl Into<Scopes>) {
        let scopes = scopes.into();
        if !scopes.is_empty() {
            *self.festivals.entry(festival).or_default() |= scopes;
        }
    }

    /// A change of networking's status.
    pub fn network() -> ChangeSet {
        ChangeSet { network: true, ..ChangeSet::default() }
    }

    /// Adds everything `other` holds.
    pub fn merge(&mut self, other: &ChangeSet) {
        for (f, s) in &other.festivals {
            self.add(*f, *s);
        }
        self.settings |= other.settings;
        self.network |= other.network;
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.festivals.is_empty() && !self.settings && !self.network
    }

    /// The scopes of one festival that changed (empty if none).
    pub fn scopes(&self, festival: &FestivalId) -> Scopes {
        self.festivals.get(festival).copied().unwrap_or_default()
    }
}

#[derive(Debug, Default)]
struct Pending {
    changes: ChangeSet,
    closed: bool,
}

#[derive(Debug, Default)]
struct Slot {
    pending: Mutex<Pending>,
    ready: Condvar,
    notify: tokio::sync::Notify,
}

impl Slot {
    fn wake(&self) {
        self.ready.notify_all();
        // Wakes every `next()` whose future was created before this, polled yet or not.
        self.notify.notify_waiters();
    }
}

/// Where the store publishes what each commit changed; cheap to clone, shared by the store and
/// the node. When the last clone goes (the store closed), every subscription ends.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    subscribers: Arc<Subscribers>,
}

#[derive(Debug, Default)]
struct Subscribers(Mutex<Vec<Weak<Slot>>>);

impl std::ops::Deref for Subscribers {
    type Target = Mutex<Vec<Weak<Slot>>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Drop for Subscribers {
    fn drop(&mut self) {
        // Nothing will be published any more: waiters must not wait forever.
        let subs = self.0.get_mut().map(std::mem::take).unwrap_or_default();
        for slot in subs.iter().filter_map(Weak::upgrade) {
            if let Ok(mut p) = slot.pending.lock() {
                p.closed = true;
            }
            slot.wake();
        }
    }
}

impl Feed {
    /// A feed with no subscribers.
    pub fn new() -> Feed {
        Feed::default()
    }

    /// Tells every subscriber about `changes` (nothing if empty).
    pub fn publish(&self, changes: &ChangeSet) {
        if changes.is_empty() {
            return;
        }
        let Ok(mut subs) = self.subscribers.lock() else { return };
        subs.retain(|weak| {
            let Some(slot) = weak.upgrade() else { return false };
            if let Ok(mut p) = slot.pending.lock() {
                if p.closed {
                    return false;
                }
                p.changes.merge(changes);
            }
            slot.wake();
            true
        });
    }

    /// A new subscription: told of every change published from now on, until closed or dropped.
    pub fn subscribe(&self) -> Subscription {
        let slot = Arc::new(Slot::default());
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.push(Arc::downgrade(&slot));
        }
        Subscription { slot }
    }

    /// How many subscriptions are open.
    pub fn subscribers(&self) -> usize {
        self.subscribers.lock().map(|s| s.iter().filter(|w| w.strong_count() > 0).count()).unwrap_or(0)
    }
}

/// One subscriber's view of the feed. Clones share it: what one takes, the others do not see, and
/// closing one closes all. Dropping the last clone ends the subscription.
#[derive(Debug, Clone)]
pub struct Subscription {
    slot: Arc<Slot>,
}

impl Subscription {
    /// What changed since the last take, if anything; `None` also once closed.
    pub fn try_next(&self) -> Option<ChangeSet> {
        let mut p = self.slot.pending.lock().ok()?;
        (!p.changes.is_empty()).then(|| std::mem::take(&mut p.changes))
    }

    /// Waits (blocking the thread) for changes; `None` once closed, or after `timeout` with none.
    pub fn wait(&self, timeout: Option<Duration>) -> Option<ChangeSet> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        let mut p = self.slot.pending.lock().ok()?;
        loop {
            if !p.changes.is_empty() {
                return Some(std::mem::take(&mut p.changes));
            }
            if p.closed {
                return None;
            }
            p = match deadline {
                None => self.slot.ready.wait(p).ok()?,
                Some(d) => {
                    let left = d.checked_duration_since(std::time::Instant::now())?;
                    self.slot.ready.wait_timeout(p, left).ok()?.0
                }
            };
        }
    }

    /// Waits (asynchronously) for changes; `None` once closed.
    pub async fn next(&self) -> Option<ChangeSet> {
        loop {
            let notified = self.slot.notify.notified();
            {
                let mut p = self.slot.pending.lock().ok()?;
                if !p.changes.is_empty() {
                    return Some(std::mem::take(&mut p.changes));
                }
                if p.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Ends the subscription: waiters return `None`, and nothing more is published to it.
    pub fn close(&self) {
        if let Ok(mut p) = self.slot.pending.lock() {
            p.closed = true;
            p.changes = ChangeSet::default();
        }
        self.slot.wake();
    }

    /// Whether the subscription was closed.
    pub fn is_closed(&self) -> bool {
        self.slot.pending.lock().map_or(true, |p| p.closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fid(b: u8) -> FestivalId {
        FestivalId([b; 32])
    }

    #[test]
    fn changes_coalesce_per_festival_until_taken() {
        let feed = Feed::new();
        let sub = feed.subscribe();
        assert_eq!(sub.try_next(), None);
        feed.publish(&ChangeSet::of(fid(1), Scope::Programme));
        feed.publish(&ChangeSet::of(fid(1), Scope::Favourites));
        feed.publish(&ChangeSet::of(fid(2), Scope::Announcements));
        let got = sub.try_next().expect("changes");
        assert_eq!(got.scopes(&fid(1)), Scopes::from([Scope::Programme, Scope::Favourites]));
        assert_eq!(got.scopes(&fid(2)), Scopes::from(Scope::Announcements));
        assert_eq!(sub.try_next(), None, "taken once");
    }

    #[test]
    fn every_subscriber_hears_every_change_and_dropped_ones_go() {
        let feed = Feed::new();
        let a = feed.subscribe();
        let b = feed.subscribe();
        assert_eq!(feed.subscribers(), 2);
        feed.publish(&ChangeSet::of(fid(1), Scope::Roles));
        assert!(a.try_next().is_some());
        assert!(b.try_next().is_some());
        drop(b);
        feed.publish(&ChangeSet::of(fid(1), Scope::Roles));
        assert_eq!(feed.subscribers(), 1);
        assert_eq!(feed.subscribers.lock().map(|s| s.len()).unwrap_or(0), 1, "pruned on publish");
    }

    #[test]
    fn closing_wakes_a_blocked_waiter() {
        let feed = Feed::new();
        let sub = feed.subscribe();
        let waiter = {
            let sub = sub.clone();
            std::thread::spawn(move || sub.wait(None))
        };
        sub.close();
        assert_eq!(waiter.join().ok().flatten(), None);
        feed.publish(&ChangeSet::of(fid(1), Scope::Programme));
        assert_eq!(sub.try_next(), None, "closed subscriptions hear nothing");
        assert_eq!(feed.subscribers(), 0, "a closed subscription is pruned at the next publish");
    }

    #[test]
    fn dropping_the_feed_ends_its_subscriptions_but_keeps_what_they_had_not_taken() {
        let feed = Feed::new();
        let sub = feed.subscribe();
        feed.publish(&ChangeSet::of(fid(5), Scope::Programme));
        let waiter = {
            let sub = feed.subscribe();
            std::thread::spawn(move || sub.wait(None))
        };
        drop(feed);
        assert_eq!(waiter.join().ok().flatten(), None, "a waiter on a closed store returns");
        assert!(sub.is_closed());
        assert!(sub.try_next().is_some(), "changes published before are still there to take");
        assert_eq!(sub.wait(None), None);
    }

    #[test]
    fn a_blocked_waiter_wakes_on_publish() {
        let feed = Feed::new();
        let sub = feed.subscribe();
        let waiter = std::thread::spawn(move || sub.wait(Some(Duration::from_secs(30))));
        // The waiter may or may not be asleep yet: either way it must see the change.
        feed.publish(&ChangeSet::of(fid(3), Scope::Seen));
        let got = waiter.join().ok().flatten().expect("woken");
        assert!(got.scopes(&fid(3)).contains(Scope::Seen));
    }

    #[test]
    fn an_async_waiter_wakes_on_publish_and_on_close() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let feed = Feed::new();
        let sub = feed.subscribe();
        rt.block_on(async {
            let waiting = {
                let sub = sub.clone();
                tokio::spawn(async move { sub.next().await })
            };
            tokio::task::yield_now().await;
            feed.publish(&ChangeSet::of(fid(4), Scope::Programme));
            let got = waiting.await.ok().flatten().expect("woken");
            assert!(got.scopes(&fid(4)).contains(Scope::Programme));
            let waiting = {
                let sub = sub.clone();
                tokio::spawn(async move { sub.next().await })
            };
            tokio::task::yield_now().await;
            sub.close();
            assert_eq!(waiting.await.ok().flatten(), None);
        });
    }

    #[test]
    fn scopes_of_op_kinds() {
        let key = crate::identity::PublicKey([7; 32]);
        let event = Body::Event { target: None, patch: Default::default() };
        assert!(Scopes::of(&event).contains(Scope::Programme));
        let revoke = Body::RoleRevoke { member: key, role: crate::op::Role::Organiser, after_seq: None };
        assert!(Scopes::of(&revoke).contains(Scope::Programme), "officialness changes");
        assert!(Scopes::of(&Body::Unknown { kind: 99 }).touches_ops());
        assert!(!Scopes::from([Scope::Favourites, Scope::Seen]).touches_ops());
        assert_eq!(Scopes::SHARED.iter().count(), 7);
        let key_op = Body::Crew(crate::crew::ops::CrewBody::Key { x25519: [1; 32] });
        assert!(Scopes::of(&key_op).contains(Scope::Crews) && Scopes::of(&key_op).touches_ops());
    }
}
