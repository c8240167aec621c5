//! The encounter scheduler: which peer to connect to, when, and when to stop, driven by radio
//! events and the time only. In a crowd of hundreds a phone sees a new advertisement every
//! second; connecting to each would drain it by noon. So: never connect to a peer that agrees,
//! official news first, a few links at once, a cool-down after each swap with a peer, backoff
//! after failures, and an hourly budget of connections of which community-only differences may
//! spend only a share (a flood of community ops cannot use up the connections official news needs).

use std::collections::{BTreeMap, VecDeque};

use super::advert::{Advert, Interest, LocalState, Salts, Sighting};

/// A peer as the platform names it for now (a hash of its current, rotating radio address).
pub type PeerId = u64;

const HOUR_MS: u64 = 3_600_000;

/// How the scheduler behaves.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    /// Links at once.
    pub max_links: usize,
    /// After a swap with a peer, how long before connecting to it again, in ms.
    pub cooldown_ms: u64,
    /// Wait after a first failure with a peer, doubling with each further one, in ms.
    pub backoff_ms: u64,
    /// The longest backoff, in ms.
    pub backoff_max_ms: u64,
    /// Connections (dialled or accepted) per rolling hour, at most.
    pub budget_per_hour: u32,
    /// Connections that may be made in a burst: the budget refills at `budget_per_hour`, so a
    /// phone that spent its burst on the first news of the day still has connections for the next.
    pub burst: u32,
    /// Connections kept back for official news: community-only differences never use the last
    /// ones.
    pub official_reserve: u32,
    /// Of the budget, the most that peers differing in community ops only may use, in percent.
    pub community_percent: u32,
    /// A peer not seen this long is gone, in ms.
    pub forget_ms: u64,
    /// Scanning on, then off, in ms (the duty cycle).
    pub scan_on_ms: u64,
    /// Scanning off between scans, in ms.
    pub scan_off_ms: u64,
    /// Scan starts allowed per 30 s (Android refuses a sixth).
    pub max_scan_starts: usize,
    /// A new salt (and advertising restart) at least this often, in ms.
    pub rotate_ms: u64,
    /// After the local state changed, wait this long before re-advertising, in ms: a sync in
    /// progress changes it every frame.
    pub settle_ms: u64,
    /// A link for community ops only is ended after this long, in ms: what it did not carry goes
    /// in a later encounter, and the radio is free for official news meanwhile.
    pub community_slice_ms: u64,
    /// Any link is ended after this long, in ms (a phone in a crowd is not held by one peer).
    pub slice_ms: u64,
    /// Of two peers that see each other, the one with the higher salt dials at once; the other
    /// waits this long before dialling itself, in ms (the first may not see it, as iOS in the
    /// background does not).
    pub yield_ms: u64,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            max_links: 2,
            cooldown_ms: 120_000,
            backoff_ms: 5_000,
            backoff_max_ms: 600_000,
            budget_per_hour: 30,
            burst: 8,
            official_reserve: 3,
            community_percent: 30,
            forget_ms: 30_000,
            scan_on_ms: 10_000,
            scan_off_ms: 5_000,
            max_scan_starts: 4,
            rotate_ms: 600_000,
            settle_ms: 2_000,
            yield_ms: 3_000,
            community_slice_ms: 20_000,
            slice_ms: 90_000,
        }
    }
}

/// What the radio code should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Connect to the peer and run a swap.
    Connect(PeerId),
    /// Connect to the peer and read its state characteristic (it advertised no digest); report
    /// with [`Encounters::state_read`], then go on with a `Connect` on the same connection.
    ReadState(PeerId),
    /// Start scanning.
    StartScan,
    /// Stop scanning.
    StopScan,
    /// Advertise [`Encounters::advert`] now (a new salt, or a new state): restart advertising.
    Advertise,
    /// Stop advertising (no festival to advertise).
    StopAdvertising,
    /// End the link to the peer: its time slice is over (report with `link_ended`, Finished).
    Disconnect(PeerId),
}

/// How a link ended, as the radio code reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The swap finished.
    Finished,
    /// The link came up and then failed or dropped.
    Failed,
    /// The connection never came up (the peer was gone or refused): it costs no budget.
    Unreachable,
}

/// Counters of the scheduler.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncounterStats {
    /// Connections dialled.
    pub dialled: u64,
    /// Connections accepted.
    pub accepted: u64,
    /// Connections refused (over budget or links).
    pub refused: u64,
    /// Sightings of peers that agreed, so no connection.
    pub agreed: u64,
    /// Swaps that finished.
    pub finished: u64,
    /// Links that failed.
    pub failed: u64,
}

#[derive(Debug, Clone)]
struct Peer {
    first_seen: u64,
    last_seen: u64,
    sighting: Sighting,
    /// Not before this time (backoff after failures).
    next_try: u64,
    /// Not before this time for community ops (the cool-down after a swap); official news
    /// that came after a swap does not wait for it.
    cool_until: u64,
    /// Official digest the peer advertised at the last swap.
    swapped_official: Option<[u8; 2]>,
    failures: u32,
    /// Connected, or connecting.
    busy: bool,
    /// A ReadState came back: go on with a swap on the same connection.
    read_ready: bool,
    /// It advertises no digest: its state is read, and read again after each cool-down.
    reads: bool,
}

/// The scheduler of one device.
#[derive(Debug)]
pub struct Encounters {
    cfg: ScheduleConfig,
    local: Option<LocalState>,
    flags: u8,
    advert: Option<Advert>,
    /// Ordered, so that which peer is picked first never depends on hashing: runs replay.
    peers: BTreeMap<PeerId, Peer>,
    /// Open links: peer, since when, whether for community ops only.
    open: Vec<(PeerId, u64, bool)>,
    /// Links already told to end.
    ending: Vec<PeerId>,
    /// Connection starts in the last hour: when, whether for community ops only, with whom.
    starts: VecDeque<(u64, bool, PeerId)>,
    /// Connections that may be made now (refilled at the hourly budget, up to the burst).
    tokens: f64,
    tokens_at: u64,
    scanning: bool,
    scan_toggle_at: u64,
    scan_starts: VecDeque<u64>,
    advertised_at: u64,
    /// A state change waiting to be advertised, since when.
    changed_at: Option<u64>,
    actions: VecDeque<Action>,
    stats: EncounterStats,
    /// Where salts come from: the caller decides (the system's randomness, or a seed).
    salts: Salts,
}

impl Encounters {
    /// A scheduler advertising `local` (none: scan only) with `flags`, its salts from `salts`.
    pub fn new(cfg: ScheduleConfig, local: Option<LocalState>, flags: u8, now: u64, salts: Salts) -> Self {
        let burst = f64::from(cfg.burst.max(1));
        let mut e = Encounters {
            cfg,
            local,
            flags,
            advert: None,
            peers: BTreeMap::new(),
            open: Vec::new(),
            ending: Vec::new(),
            starts: VecDeque::new(),
            tokens: 0.0,
            tokens_at: now,
            scanning: false,
            scan_toggle_at: now,
            scan_starts: VecDeque::new(),
            advertised_at: now,
            changed_at: None,
            actions: VecDeque::new(),
            stats: EncounterStats::default(),
            salts,
        };
        e.tokens = burst;
        e.readvertise(now);
        e
    }

    fn advert_for(&mut self, local: &LocalState) -> Advert {
        Advert::new(local, self.salts.next_salt(), self.flags)
    }

    /// Connections the budget refills per ms.
    fn refill_per_ms(&self) -> f64 {
        f64::from(self.cfg.budget_per_hour.max(1)) / HOUR_MS as f64
    }

    /// How long a link may last.
    fn slice(&self, community: bool) -> u64 {
        if community { self.cfg.community_slice_ms } else { self.cfg.slice_ms }
    }

    fn refill(&mut self, now: u64) {
        let per_ms = self.refill_per_ms();
        self.tokens =
            (self.tokens + now.saturating_sub(self.tokens_at) as f64 * per_ms).min(f64::from(self.cfg.burst.max(1)));
        self.tokens_at = self.tokens_at.max(now);
    }

    /// Whether a connection for official news (or, with `community`, for community ops only) may
    /// start now.
    fn affordable(&mut self, community: bool, now: u64) -> bool {
        self.expire(now);
        self.refill(now);
        let used = self.starts.len() as u32;
        if used >= self.cfg.budget_per_hour || self.tokens < 1.0 {
            return false;
        }
        if community {
            let community_used = self.starts.iter().filter(|s| s.1).count() as u32;
            let cap = self.cfg.budget_per_hour * self.cfg.community_percent / 100;
            let reserve = self.cfg.official_reserve;
            return community_used < cap
                && used + reserve < self.cfg.budget_per_hour
                && self.tokens >= 1.0 + f64::from(reserve);
        }
        true
    }

    fn spend(&mut self, peer: PeerId, community: bool, now: u64) {
        self.tokens -= 1.0;
        self.starts.push_back((now, community, peer));
        self.open.push((peer, now, community));
    }

    /// The advertisement to send now (a fresh salt at every rotation).
    pub fn advert(&self) -> Option<Advert> {
        self.advert
    }

    /// The advertisement of what this device holds now with a new salt: the value of a State
    /// read, which must not repeat the advertised salt (or the two could be linked).
    pub fn fresh_advert(&mut self) -> Option<Advert> {
        self.local.map(|l| self.advert_for(&l))
    }

    /// Counters so far.
    pub fn stats(&self) -> &EncounterStats {
        &self.stats
    }

    /// Connections started in the hour before `now`.
    pub fn connections_last_hour(&mut self, now: u64) -> usize {
        self.expire(now);
        self.starts.len()
    }

    /// Links open now.
    pub fn links(&self) -> usize {
        self.open.len()
    }

    fn readvertise(&mut self, now: u64) {
        self.advertised_at = now;
        self.changed_at = None;
        self.advert = self.local.map(|l| self.advert_for(&l));
        self.actions.push_back(if self.advert.is_some() { Action::Advertise } else { Action::StopAdvertising });
    }

    /// What this device holds changed (it is re-advertised once it settles).
    pub fn set_local(&mut self, local: Option<LocalState>, now: u64) {
        if local == self.local {
            return;
        }
        let festival_changed = local.map(|l| l.festival) != self.local.map(|l| l.festival);
        self.local = local;
        if festival_changed {
            self.readvertise(now);
        } else {
            self.changed_at.get_or_insert(now);
        }
    }

    /// A scan saw a peer.
    pub fn seen(&mut self, peer: PeerId, sighting: Sighting, now: u64) {
        let p = self.peers.entry(peer).or_insert(Peer {
            first_seen: now,
            last_seen: now,
            sighting,
            next_try: 0,
            cool_until: 0,
            swapped_official: None,
            failures: 0,
            busy: false,
            read_ready: false,
            reads: matches!(sighting, Sighting::ServiceOnly),
        });
        p.last_seen = now;
        // A read state is worth more than an advertisement without one.
        if matches!(sighting, Sighting::Advert(_)) || matches!(p.sighting, Sighting::ServiceOnly) {
            p.sighting = sighting;
        }
    }

    /// The state read from a peer's characteristic (`None`: the read failed).
    pub fn state_read(&mut self, peer: PeerId, advert: Option<Advert>, now: u64) {
        let Some(advert) = advert else {
            self.link_ended(peer, LinkOutcome::Failed, now);
            return;
        };
        let interest = self.interest(&Sighting::Advert(advert));
        if let Some(p) = self.peers.get_mut(&peer) {
            p.sighting = Sighting::Advert(advert);
            p.last_seen = now;
            if matches!(interest, Interest::Differs | Interest::OfficialDiffers) {
                p.read_ready = true;
            } else {
                self.stats.agreed += 1;
                self.link_ended(peer, LinkOutcome::Finished, now);
            }
        }
    }

    /// A peer dialled this device: whether to accept (counted in the budget) or refuse.
    pub fn incoming(&mut self, peer: PeerId, now: u64) -> bool {
        let interest = self.peers.get(&peer).map(|p| self.interest(&p.sighting));
        let community = interest == Some(Interest::Differs);
        let mut full = self.open.len() >= self.cfg.max_links;
        // Official news from a peer ends a community transfer to make room.
        if full
            && interest == Some(Interest::OfficialDiffers)
            && let Some(p) = self.community_link()
        {
            self.ending.push(p);
            self.actions.push_back(Action::Disconnect(p));
            full = false;
        }
        if full || !self.affordable(community, now) {
            self.stats.refused += 1;
            return false;
        }
        self.spend(peer, community, now);
        self.stats.accepted += 1;
        if let Some(p) = self.peers.get_mut(&peer) {
            p.busy = true;
        }
        true
    }

    /// The link to `peer` has carried every official op both ways; only community ops are left
    /// (the sync session sends by class, official first), so from now on it is a community
    /// link: it ends after the community slice and gives way to official news from another peer.
    /// Without this, a swap that began with news would go on moving a flood for the whole
    /// slice, holding both radios while the news waits.
    pub fn official_done(&mut self, peer: PeerId, now: u64) {
        if let Some(link) = self.open.iter_mut().find(|l| l.0 == peer && !l.2) {
            link.1 = now;
            link.2 = true;
        }
    }

    /// A link (dialled or accepted) ended.
    pub fn link_ended(&mut self, peer: PeerId, outcome: LinkOutcome, now: u64) {
        if let Some(i) = self.open.iter().position(|l| l.0 == peer) {
            self.open.remove(i);
        }
        self.ending.retain(|p| *p != peer);
        if outcome == LinkOutcome::Unreachable
            && let Some(i) = self.starts.iter().rposition(|s| s.2 == peer)
        {
            self.starts.remove(i);
            self.tokens += 1.0;
        }
        let ok = outcome == LinkOutcome::Finished;
        if ok {
            self.stats.finished += 1;
        } else {
            self.stats.failed += 1;
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            p.busy = false;
            p.read_ready = false;
            if p.reads {
                p.sighting = Sighting::ServiceOnly;
            }
            if ok {
                p.failures = 0;
                p.cool_until = now.saturating_add(self.cfg.cooldown_ms);
                p.swapped_official = match p.sighting {
                    Sighting::Advert(a) => Some(a.official),
                    Sighting::ServiceOnly => None,
                };
            } else {
                let wait = self.cfg.backoff_ms.saturating_mul(1 << p.failures.min(16)).min(self.cfg.backoff_max_ms);
                p.failures += 1;
                p.next_try = now.saturating_add(wait);
            }
        }
    }

    fn interest(&self, s: &Sighting) -> Interest {
        match (s, &self.local) {
            (Sighting::Advert(a), Some(l)) => a.compare(l),
            // Worth a read: it may hold our festival.
            (Sighting::ServiceOnly, Some(_)) => Interest::Differs,
            (_, None) => Interest::OtherFestival,
        }
    }

    fn expire(&mut self, now: u64) {
        while self.starts.front().is_some_and(|s| now.saturating_sub(s.0) >= HOUR_MS) {
            self.starts.pop_front();
        }
        while self.scan_starts.front().is_some_and(|t| now.saturating_sub(*t) >= 30_000) {
            self.scan_starts.pop_front();
        }
    }

    /// The next thing the radio should do now, if any.
    pub fn poll_action(&mut self, now: u64) -> Option<Action> {
        if let Some(a) = self.actions.pop_front() {
            return Some(a);
        }
        self.expire(now);
        let forget = self.cfg.forget_ms;
        self.peers.retain(|_, p| p.busy || now.saturating_sub(p.last_seen) < forget);
        if self.local.is_some()
            && (now.saturating_sub(self.advertised_at) >= self.cfg.rotate_ms
                || self.changed_at.is_some_and(|t| now.saturating_sub(t) >= self.cfg.settle_ms))
        {
            self.readvertise(now);
            return self.actions.pop_front();
        }
        if let Some(a) = self.scan_step(now) {
            return Some(a);
        }
        let over = self.open.iter().find(|(p, since, community)| {
            now.saturating_sub(*since) >= self.slice(*community) && !self.ending.contains(p)
        });
        if let Some(&(peer, _, _)) = over {
            self.ending.push(peer);
            return Some(Action::Disconnect(peer));
        }
        self.pick(now)
    }

    fn scan_step(&mut self, now: u64) -> Option<Action> {
        let full = self.open.len() >= self.cfg.max_links;
        if self.scanning && (full || now >= self.scan_toggle_at) {
            self.scanning = false;
            self.scan_toggle_at = now.saturating_add(self.cfg.scan_off_ms);
            return Some(Action::StopScan);
        }
        if !self.scanning && !full && now >= self.scan_toggle_at && self.scan_starts.len() < self.cfg.max_scan_starts {
            self.scanning = true;
            self.scan_starts.push_back(now);
            self.scan_toggle_at = now.saturating_add(self.cfg.scan_on_ms);
            return Some(Action::StartScan);
        }
        None
    }

    /// An open link for community ops only, not yet told to end.
    fn community_link(&self) -> Option<PeerId> {
        self.open.iter().find(|l| l.2 && !self.ending.contains(&l.0)).map(|l| l.0)
    }

    fn pick(&mut self, now: u64) -> Option<Action> {
        let own_salt = self.advert.map_or([0; 2], |a| a.salt);
        if let Some((&id, _)) = self.peers.iter().find(|(_, p)| p.read_ready) {
            if let Some(p) = self.peers.get_mut(&id) {
                p.read_ready = false;
            }
            return Some(Action::Connect(id));
        }
        if self.open.len() >= self.cfg.max_links {
            return None;
        }
        let official_ok = self.affordable(false, now);
        let community_ok = self.affordable(true, now);
        let mut best: Option<(Interest, u64, PeerId)> = None;
        for (&id, p) in &self.peers {
            if p.busy || p.next_try > now || now.saturating_sub(p.last_seen) >= self.cfg.forget_ms {
                continue;
            }
            let interest = self.interest(&p.sighting);
            // The cool-down holds unless the peer advertises official news it did not have at
            // the swap (its salt changes, so compare what it advertises now with then).
            let news_since = match p.sighting {
                Sighting::Advert(a) => p.swapped_official.is_none_or(|o| o != a.official),
                Sighting::ServiceOnly => false,
            };
            if p.cool_until > now && !(interest == Interest::OfficialDiffers && news_since) {
                continue;
            }
            let allowed = match interest {
                Interest::OfficialDiffers => official_ok,
                Interest::Differs => community_ok,
                _ => false,
            };
            if !allowed {
                continue;
            }
            // One of two peers dials: the one whose salt is higher, or the other after a while.
            let dials_first = match p.sighting {
                Sighting::Advert(a) => own_salt > a.salt,
                Sighting::ServiceOnly => true,
            };
            if !dials_first && now.saturating_sub(p.first_seen) < self.cfg.yield_ms {
                continue;
            }
            // Official news first, then the peer seen longest (most likely still in range).
            let key = (interest, u64::MAX - p.first_seen, id);
            if best.is_none_or(|b| key > b) {
                best = Some(key);
            }
        }
        let (interest, _, id) = best?;
        // Official news waits for no community transfer: the radio is shared.
        if interest == Interest::OfficialDiffers
            && let Some(peer) = self.community_link()
        {
            self.ending.push(peer);
            return Some(Action::Disconnect(peer));
        }
        let read = matches!(self.peers.get(&id).map(|p| p.sighting), Some(Sighting::ServiceOnly));
        if let Some(p) = self.peers.get_mut(&id) {
            p.busy = true;
        }
        self.spend(id, interest == Interest::Differs, now);
        self.stats.dialled += 1;
        Some(if read { Action::ReadState(id) } else { Action::Connect(id) })
    }

    /// When to call [`Self::poll_action`] again at the latest.
    pub fn poll_timeout(&self, now: u64) -> u64 {
        let mut t = self.scan_toggle_at.max(now);
        t = t.min(self.advertised_at.saturating_add(self.cfg.rotate_ms));
        if let Some(c) = self.changed_at {
            t = t.min(c.saturating_add(self.cfg.settle_ms));
        }
        for p in self.peers.values().filter(|p| !p.busy) {
            t = t.min(p.next_try.max(p.first_seen.saturating_add(self.cfg.yield_ms)).max(now));
        }
        if let Some(s) = self.starts.front() {
            t = t.min(s.0.saturating_add(HOUR_MS));
        }
        for (p, since, community) in &self.open {
            if !self.ending.contains(p) {
                t = t.min(since.saturating_add(self.slice(*community)));
            }
        }
        if self.tokens < 1.0 {
            t = t.min(now.saturating_add(((1.0 - self.tokens) / self.refill_per_ms()).ceil() as u64));
        }
        t.max(now)
    }
}

#[cfg(test)]
mod tests;
