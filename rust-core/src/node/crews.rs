//! The node's side of crews: creating one, inviting, joining, leaving, removing, sharing, and
//! what a member reads. The scheme is in [`crate::crew`]; this decides when to write its ops.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::*;
use crate::crew::crypto::{CrewKeys, EpochKey, item_aad, pad, seal};
use crate::crew::invite::CrewInvite;
use crate::crew::ops::{
    CREW_ID_LEN, CrewBody, CrewId, EVENT_PREFIX, GRANT_LEN, GRANT_SLOTS, Grant, Heading, JoinRequest, MAX_MEMBERS,
    OwnState, Roster, SECRET_LEN, Snapshot,
};
use crate::crew::state::{Crew, CrewOp, GRANT_INFO, JOIN_INFO, fold_with, grant_aad, join_aad, open_grant};
use crate::op::Op;
use crate::view::{CrewClash, CrewMember, CrewView};

/// How long an invite admits a joiner unless told otherwise: a day.
pub const INVITE_SECONDS: i64 = 24 * 3600;

/// Favourite changes within this long of the last item are told together (at the next change
/// after it, the next sync, or [`Node::flush_crew_shares`]): crew items share each log's 1 MiB
/// extension budget, and a person ticking twenty favourites in a row should cost one item.
pub const CREW_SHARE_INTERVAL_S: i64 = 120;

/// The settings key of one crew fact of a festival on this device.
fn setting_key(what: &str, festival: &FestivalId) -> String {
    format!("crew.{what}.{}", festival.to_hex())
}

/// The 8-byte prefix crew items name an event by.
fn prefix(id: &OpId) -> [u8; EVENT_PREFIX] {
    let mut p = [0u8; EVENT_PREFIX];
    p.copy_from_slice(&id.0[..EVENT_PREFIX]);
    p
}

fn random<const N: usize>() -> Result<[u8; N], NodeError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| NodeError::Invalid(format!("no randomness: {e}")))?;
    Ok(b)
}

/// What this device shares with its crews besides its favourites, kept as a device setting.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Sharing {
    note: String,
    heading: Option<(u8, String)>,
}

impl Node {
    /// The crews this device created or asked to join, as `crew id@admin key` (hex): only those
    /// are its crews, so nobody can add a key to a crew it never asked for, and a stranger who
    /// photographed an invite cannot pass off a crew of its own under the same id.
    fn my_crews(&self, festival: &FestivalId) -> Result<Vec<String>, NodeError> {
        Ok(self
            .setting(&setting_key("mine", festival))?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    fn remember_crew(&mut self, festival: &FestivalId, crew: &CrewId, admin: &PublicKey) -> Result<(), NodeError> {
        let mut mine = self.my_crews(festival)?;
        let id = crew_name_key(crew, admin);
        if !mine.contains(&id) {
            mine.push(id);
            let json = serde_json::to_string(&mine).map_err(|e| NodeError::Invalid(e.to_string()))?;
            self.set_setting(&setting_key("mine", festival), &json)?;
        }
        Ok(())
    }

    fn crew_keys(&self, festival: &FestivalId) -> CrewKeys {
        CrewKeys::of(&self.identity, festival)
    }

    /// What this device's crew key opens in each epoch and join op of `ops`, by author and log
    /// position: tried once per op and remembered, so that a flood of sealed ops costs one
    /// attempt each rather than one per fold.
    fn opened(&self, festival: &FestivalId, ops: &[Op]) -> Result<HashMap<(PublicKey, u64), Vec<u8>>, NodeError> {
        let mut known = self.store.crew_opened(festival)?;
        let keys = self.crew_keys(festival);
        let mut fresh = Vec::new();
        for o in ops {
            let Body::Crew(body) = o.body() else { continue };
            if known.contains_key(&o.id()) {
                continue;
            }
            let op = CrewOp { author: o.author(), seq: o.seq(), body };
            let plain = match body {
                CrewBody::Epoch { .. } => open_grant(festival, &keys, &op).map(|g| g.encode()),
                CrewBody::Join { sealed } => keys.open(JOIN_INFO, sealed, &join_aad(festival, &o.author())),
                _ => continue,
            };
            fresh.push((o.id(), plain.clone()));
            known.insert(o.id(), plain);
        }
        self.store.remember_crew_opened(festival, &fresh)?;
        Ok(ops
            .iter()
            .filter_map(|o| known.get(&o.id()).cloned().flatten().map(|p| ((o.author(), o.seq()), p)))
            .collect())
    }

    /// The festival's crew ops and the crews this identity reads in them.
    fn read_crews(&self, festival: &FestivalId) -> Result<(Vec<Op>, Vec<Crew>), NodeError> {
        let ops = self.store.crew_ops(festival)?;
        let mine = self.my_crews(festival)?;
        if mine.is_empty() {
            return Ok((ops, Vec::new()));
        }
        let bodies = crew_bodies(&ops);
        let opened = self.opened(festival, &ops)?;
        let crews = fold_with(festival, &bodies, |op| {
            matches!(op.body, CrewBody::Epoch { .. })
                .then(|| opened.get(&(op.author, op.seq)).and_then(|p| Grant::decode(p)))
                .flatten()
        })
        .into_iter()
        .filter(|c| mine.contains(&crew_name_key(&c.id, &c.admin)))
        .collect();
        Ok((ops, crews))
    }

    fn find_crew(&self, festival: &FestivalId, crew: &str) -> Result<Crew, NodeError> {
        let (_, crews) = self.read_crews(festival)?;
        let wanted = crew.trim().to_ascii_lowercase();
        let mut hits = crews.into_iter().filter(|c| crate::wire::to_hex(&c.id).starts_with(&wanted));
        match (hits.next(), hits.next(), wanted.len() >= 4) {
            (Some(c), None, true) => Ok(c),
            (Some(_), Some(_), _) => Err(NodeError::Invalid(format!("crew {crew:?} names more than one crew"))),
            _ => Err(NodeError::NotFound(format!("crew {crew}"))),
        }
    }

    /// Publishes this identity's crew key in the festival, once.
    fn publish_crew_key(&mut self, festival: FestivalId, ops: &[Op]) -> Result<(), NodeError> {
        let me = self.public_key();
        let published = ops.iter().any(|o| o.author() == me && matches!(o.body(), Body::Crew(CrewBody::Key { .. })));
        if !published {
            let x25519 = self.crew_keys(&festival).public;
            self.write(festival, Body::Crew(CrewBody::Key { x25519 }))?;
        }
        Ok(())
    }

    /// Writes a new epoch of `crew` sealed to `members` (whose crew keys are in `keys`).
    fn write_epoch(
        &mut self,
        festival: FestivalId,
        crew: CrewId,
        number: u32,
        (name, devices): (&str, bool),
        members: Vec<PublicKey>,
        keys: &HashMap<PublicKey, [u8; 32]>,
    ) -> Result<(), NodeError> {
        let me = self.public_key();
        let seq = self.store.next_position(&festival, &me)?.seq;
        let key = EpochKey(random::<32>()?);
        let grant = Grant { crew, epoch: number, key: key.0 }.encode();
        let aad = grant_aad(&festival, &me, seq);
        let mut grants = Vec::new();
        for m in &members {
            let Some(x) = keys.get(m) else { continue };
            grants.push(seal(x, GRANT_INFO, &grant, &aad).map_err(|e| NodeError::Invalid(e.to_string()))?);
        }
        let slots = GRANT_SLOTS.into_iter().find(|s| *s >= grants.len()).unwrap_or(GRANT_SLOTS[GRANT_SLOTS.len() - 1]);
        while grants.len() < slots {
            grants.push(random::<GRANT_LEN>()?.to_vec());
        }
        // Decoys and grants in random order: a grant's place tells nothing about its member.
        grants.sort_by_key(|g| blake3::hash(g).as_bytes()[..8].to_vec());
        let mut members = members;
        members.sort();
        let roster = Roster { name: name.to_owned(), members, devices };
        let plain = pad(&roster.encode()).map_err(|e| NodeError::Invalid(e.to_string()))?;
        let roster = key
            .encrypt(&plain, &item_aad(&festival, &me, seq, number))
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        self.write(festival, Body::Crew(CrewBody::Epoch { grants, roster }))?;
        Ok(())
    }

    fn sharing(&self, festival: &FestivalId) -> Result<Sharing, NodeError> {
        Ok(self
            .setting(&setting_key("share", festival))?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    /// What this person's own devices share: hides, mutes and the last look, and when they
    /// last changed.
    fn own_state(&self, festival: &FestivalId) -> Result<OwnState, NodeError> {
        let stamp = |what: &str| -> Result<u64, NodeError> {
            Ok(self.setting(&setting_key(what, festival))?.and_then(|t| t.parse().ok()).unwrap_or(0))
        };
        Ok(OwnState {
            hidden: self.store.hidden_here(festival)?.iter().map(prefix).collect(),
            muted: self.store.muted(festival)?,
            seen_at_ms: stamp("seenat")?,
            changed_at_ms: stamp("ownchanged")?,
        })
    }

    /// Writes this identity's state in `crew` under its newest epoch, unless the crew already
    /// holds exactly that from it: each item spends the log's extension budget.
    fn publish_snapshot(&mut self, festival: FestivalId, crew: &Crew, left: bool) -> Result<(), NodeError> {
        let me = self.public_key();
        let sharing = self.sharing(&festival)?;
        let favourites =
            if left { Vec::new() } else { self.store.favourite_ids(&festival)?.iter().map(prefix).collect() };
        let heading = match (&sharing.heading, left) {
            (Some((kind, id)), false) => OpId::from_hex(id)
                .map(|id| (if *kind == 2 { Heading::HereNow } else { Heading::HeadingTo }, prefix(&id))),
            _ => None,
        };
        let note = if left { String::new() } else { sharing.note };
        let own = if crew.current().roster.devices && !left { Some(self.own_state(&festival)?) } else { None };
        let snapshot = Snapshot { left, note, heading, favourites, own };
        let epoch = crew.current();
        if crew.snapshots.get(&me).is_some_and(|(_, e, s)| *e == epoch.number && *s == snapshot) {
            return Ok(());
        }
        let seq = self.store.next_position(&festival, &me)?.seq;
        let plain = pad(&snapshot.encode()).map_err(|e| NodeError::Invalid(e.to_string()))?;
        let sealed = epoch
            .key
            .encrypt(&plain, &item_aad(&festival, &me, seq, epoch.number))
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        self.write(festival, Body::Crew(CrewBody::Item { tag: epoch.key.author_tag(&me), sealed }))?;
        Ok(())
    }

    /// Creates a crew in a festival, with this identity as its admin and only member; returns its
    /// id (hex).
    pub fn create_crew(&mut self, festival: FestivalId, name: &str) -> Result<String, NodeError> {
        self.new_crew(festival, name, false)
    }

    /// Creates the crew of this person's own devices in a festival (one at most): its other
    /// devices join it by invite like any crew, and then follow its favourites, hides, mutes and
    /// seen marks. Returns its id (hex).
    pub fn create_devices_crew(&mut self, festival: FestivalId, name: &str) -> Result<String, NodeError> {
        let (_, crews) = self.read_crews(&festival)?;
        let me = self.public_key();
        if crews.iter().any(|c| c.current().roster.devices && c.members().contains(&me)) {
            return Err(NodeError::Invalid("this device is in a crew of its own devices already".into()));
        }
        self.new_crew(festival, name, true)
    }

    fn new_crew(&mut self, festival: FestivalId, name: &str, devices: bool) -> Result<String, NodeError> {
        let name = name.trim();
        if name.is_empty() || name.len() > crate::crew::ops::MAX_NAME {
            return Err(NodeError::Field { field: "name", reason: "give the crew a name of 1 to 64 bytes".into() });
        }
        self.festival(&festival)?;
        let (ops, _) = self.read_crews(&festival)?;
        self.publish_crew_key(festival, &ops)?;
        let crew: CrewId = random::<CREW_ID_LEN>()?;
        self.remember_crew(&festival, &crew, &self.public_key())?;
        let me = self.public_key();
        let keys = HashMap::from([(me, self.crew_keys(&festival).public)]);
        self.write_epoch(festival, crew, 1, (name, devices), vec![me], &keys)?;
        let c = self.find_crew(&festival, &crate::wire::to_hex(&crew))?;
        self.publish_snapshot(festival, &c, false)?;
        Ok(crate::wire::to_hex(&crew))
    }

    /// An invite to one of this identity's crews (it must be the admin), good for one joiner
    /// for `valid_for` seconds.
    pub fn crew_invite(&mut self, festival: FestivalId, crew: &str, valid_for: i64) -> Result<CrewInvite, NodeError> {
        let c = self.find_crew(&festival, crew)?;
        if c.admin != self.public_key() {
            return Err(NodeError::NotPermitted("only the crew's admin (its creator) can invite".into()));
        }
        if c.members().len() >= MAX_MEMBERS {
            return Err(NodeError::Invalid(format!("a crew has at most {MAX_MEMBERS} members")));
        }
        let secret = random::<SECRET_LEN>()?;
        let expires = self.now_ms() as i64 / 1000 + valid_for.clamp(60, 30 * 24 * 3600);
        self.store.add_crew_invite(&festival, &c.id, &secret, expires)?;
        Ok(CrewInvite { festival, crew: c.id, admin: c.admin, admin_x25519: self.crew_keys(&festival).public, secret })
    }

    /// Asks to join the crew an invite names: the request travels like any op and the admin's
    /// device admits it when it arrives there. The festival must be held here.
    pub fn join_crew(&mut self, invite: &CrewInvite) -> Result<(), NodeError> {
        let festival = invite.festival;
        self.festival(&festival)?;
        let (ops, _) = self.read_crews(&festival)?;
        self.publish_crew_key(festival, &ops)?;
        let me = self.public_key();
        self.remember_crew(&festival, &invite.crew, &invite.admin)?;
        let request =
            JoinRequest { crew: invite.crew, secret: invite.secret, x25519: self.crew_keys(&festival).public };
        let sealed = seal(&invite.admin_x25519, JOIN_INFO, &request.encode(), &join_aad(&festival, &me))
            .map_err(|e| NodeError::Invalid(format!("the invite's crew key: {e}")))?;
        self.write(festival, Body::Crew(CrewBody::Join { sealed }))?;
        Ok(())
    }

    /// Leaves a crew: tells the others (the admin's device then re-keys without this member).
    pub fn leave_crew(&mut self, festival: FestivalId, crew: &str) -> Result<(), NodeError> {
        let c = self.find_crew(&festival, crew)?;
        if c.admin == self.public_key() {
            return Err(NodeError::NotPermitted("the admin cannot leave its crew; remove the others instead".into()));
        }
        self.publish_snapshot(festival, &c, true)?;
        self.refresh_crew_going(festival)
    }

    /// Removes a member (admin only): a new epoch sealed to the rest, which the removed member
    /// cannot read.
    pub fn remove_from_crew(&mut self, festival: FestivalId, crew: &str, member: &PublicKey) -> Result<(), NodeError> {
        let c = self.find_crew(&festival, crew)?;
        let me = self.public_key();
        if c.admin != me {
            return Err(NodeError::NotPermitted("only the crew's admin can remove members".into()));
        }
        if *member == me || !c.members().contains(member) {
            return Err(NodeError::NotFound(format!("member {} of the crew", member.fingerprint())));
        }
        let rest: Vec<PublicKey> = c.members().into_iter().filter(|m| m != member).collect();
        self.rekey(festival, &c, rest)?;
        self.refresh_crew_going(festival)
    }

    fn rekey(&mut self, festival: FestivalId, c: &Crew, members: Vec<PublicKey>) -> Result<(), NodeError> {
        let ops = self.store.crew_ops(&festival)?;
        let keys = published_keys(&ops);
        let name = c.current().roster.name.clone();
        let devices = c.current().roster.devices;
        self.write_epoch(festival, c.id, c.current().number + 1, (&name, devices), members, &keys)?;
        let fresh = self.find_crew(&festival, &crate::wire::to_hex(&c.id))?;
        self.publish_snapshot(festival, &fresh, false)
    }

    /// Sets what this device shares with its crews besides its favourites (a note, where it is
    /// heading) and tells them.
    pub fn share_with_crews(
        &mut self,
        festival: FestivalId,
        note: Option<String>,
        heading: Option<Option<(Heading, OpId)>>,
    ) -> Result<(), NodeError> {
        let mut s = self.sharing(&festival)?;
        if let Some(n) = note {
            let n = n.trim().to_owned();
            if n.len() > crate::crew::ops::MAX_NOTE {
                return Err(NodeError::Field { field: "note", reason: "at most 140 bytes".into() });
            }
            s.note = n;
        }
        if let Some(h) = heading {
            s.heading = h.map(|(k, id)| (if k == Heading::HereNow { 2 } else { 1 }, id.to_hex()));
        }
        let json = serde_json::to_string(&s).map_err(|e| NodeError::Invalid(e.to_string()))?;
        self.set_setting(&setting_key("share", &festival), &json)?;
        self.publish_to_crews(festival)
    }

    /// Tells every crew this identity is in what it shares now (a crew that holds just that
    /// already is not told again).
    pub fn publish_to_crews(&mut self, festival: FestivalId) -> Result<(), NodeError> {
        let (_, crews) = self.read_crews(&festival)?;
        let me = self.public_key();
        for c in crews.iter().filter(|c| c.members().contains(&me)) {
            self.publish_snapshot(festival, c, false)?;
        }
        self.set_setting(&setting_key("pending", &festival), "")?;
        self.set_setting(&setting_key("told", &festival), &(self.now_ms() / 1000).to_string())?;
        Ok(())
    }

    /// After a favourite changed: tells the crews now, or soon if they were told moments ago.
    pub(super) fn favourites_changed(&mut self, festival: FestivalId) -> Result<(), NodeError> {
        if self.my_crews(&festival)?.is_empty() {
            return Ok(());
        }
        let told: i64 = self.setting(&setting_key("told", &festival))?.and_then(|t| t.parse().ok()).unwrap_or(0);
        if self.now_ms() as i64 / 1000 - told >= CREW_SHARE_INTERVAL_S {
            self.publish_to_crews(festival)
        } else {
            self.set_setting(&setting_key("pending", &festival), "1")
        }
    }

    /// Tells the crews what changed since they were last told, if anything did (the apps call
    /// it when they go to the background, the CLI after each command).
    pub fn flush_crew_shares(&mut self, festival: FestivalId) -> Result<(), NodeError> {
        if self.setting(&setting_key("pending", &festival))?.as_deref() == Some("1") {
            self.publish_to_crews(festival)?;
        }
        Ok(())
    }

    /// What to do about crew ops that arrived: as an admin, admit joiners with a good invite and
    /// re-key without members who left; as a member, share again under a new epoch.
    pub(super) fn crew_housekeeping(&mut self, festival: FestivalId) -> Result<(), NodeError> {
        // A device in no crew only stores and forwards: nothing to open, nothing to do.
        if self.my_crews(&festival)?.is_empty() {
            return Ok(());
        }
        let (ops, mut crews) = self.read_crews(&festival)?;
        let me = self.public_key();
        let now = self.now_ms() as i64 / 1000;
        // Folding decrypts every crew op: fold again only after this device wrote one.
        let written = |n: &Node| n.store.next_position(&festival, &me).map(|p| p.seq);
        let mut seen_seq = written(self)?;
        let opened = self.opened(&festival, &ops)?;
        let requests: Vec<(PublicKey, JoinRequest)> = ops
            .iter()
            .filter(|o| matches!(o.body(), Body::Crew(CrewBody::Join { .. })))
            .filter_map(|o| Some((o.author(), JoinRequest::decode(opened.get(&(o.author(), o.seq()))?)?)))
            .collect();
        for c in crews.iter().filter(|c| c.admin == me) {
            let mut members = c.members();
            let left = members.len() < c.current().roster.members.len();
            let mut keys = published_keys(&ops);
            let mut admitted = false;
            for (joiner, r) in requests.iter().filter(|(_, r)| r.crew == c.id) {
                if members.contains(joiner) || members.len() >= MAX_MEMBERS {
                    continue;
                }
                if self.store.take_crew_invite(&festival, &c.id, &r.secret, joiner, now)? {
                    keys.insert(*joiner, r.x25519);
                    members.push(*joiner);
                    admitted = true;
                }
            }
            if admitted || left {
                let name = c.current().roster.name.clone();
                let devices = c.current().roster.devices;
                self.write_epoch(festival, c.id, c.current().number + 1, (&name, devices), members, &keys)?;
            }
        }
        if written(self)? != seen_seq {
            crews = self.read_crews(&festival)?.1;
            seen_seq = written(self)?;
        }
        // Another of this person's devices changed what it keeps: follow it.
        if self.adopt_own_state(festival, &crews)? {
            self.set_setting(&setting_key("pending", &festival), "1")?;
        }
        // Under a new epoch, share again: a joiner needs only the newest key.
        self.flush_crew_shares(festival)?;
        if written(self)? != seen_seq {
            crews = self.read_crews(&festival)?.1;
        }
        for c in crews.iter().filter(|c| c.members().contains(&me)) {
            let mine = c.snapshots.get(&me).map(|(_, e, _)| *e);
            if mine.is_none_or(|e| e < c.current().number) {
                self.publish_snapshot(festival, c, false)?;
            }
        }
        self.refresh_crew_going_from(festival, &crews)
    }

    /// After this person changed a favourite, hide, mute or its last look (`seen`): its devices
    /// and crews are told, soon. Never fails the change itself: what could not be told is the
    /// crews' loss, not the person's.
    pub(super) fn own_state_changed(&mut self, festival: FestivalId, seen: bool) {
        let result = (|| -> Result<(), NodeError> {
            if self.my_crews(&festival)?.is_empty() {
                return Ok(());
            }
            let now = self.now_ms().to_string();
            self.set_setting(&setting_key("ownchanged", &festival), &now)?;
            if seen {
                self.set_setting(&setting_key("seenat", &festival), &now)?;
            }
            self.favourites_changed(festival)
        })();
        if let Err(e) = result {
            tracing::warn!(festival = %festival.short(), error = %e, "could not tell the crews about a change");
        }
    }

    /// Takes on the newest state another of this person's devices shares, if it is newer than
    /// this device's. The first time, it adds to what this device keeps instead of replacing it,
    /// so that joining a phone to a laptop loses neither's favourites. Whether anything changed.
    fn adopt_own_state(&mut self, festival: FestivalId, crews: &[Crew]) -> Result<bool, NodeError> {
        let me = self.public_key();
        let newest = crews
            .iter()
            .filter(|c| c.current().roster.devices && c.members().contains(&me))
            .flat_map(|c| c.members().into_iter().filter(|m| *m != me).filter_map(|m| c.snapshots.get(&m).cloned()))
            .filter_map(|(_, _, s)| s.own.clone().map(|o| (o, s.favourites)))
            .max_by_key(|(o, _)| o.changed_at_ms);
        let Some((theirs, favourites)) = newest else { return Ok(false) };
        let mine = self.own_state(&festival)?;
        // The first time this device hears from its others it merges, whatever the clocks say.
        let merge = self.setting(&setting_key("adopted", &festival))?.is_none();
        if !merge && theirs.changed_at_ms <= mine.changed_at_ms {
            return Ok(false);
        }
        let by_prefix: HashMap<[u8; EVENT_PREFIX], OpId> =
            self.store.event_ids(&festival)?.into_iter().map(|id| (prefix(&id), id)).collect();
        let resolve = |ps: &[[u8; EVENT_PREFIX]]| -> HashSet<OpId> {
            ps.iter().filter_map(|p| by_prefix.get(p).copied()).collect()
        };
        let mut changed = false;
        let favs_here: HashSet<OpId> = self.store.favourite_ids(&festival)?.into_iter().collect();
        let favs_there = resolve(&favourites);
        for id in favs_there.difference(&favs_here) {
            self.store.set_favourite(&festival, id, true)?;
            changed = true;
        }
        let hidden_here: HashSet<OpId> = self.store.hidden_here(&festival)?.into_iter().collect();
        let hidden_there = resolve(&theirs.hidden);
        for id in hidden_there.difference(&hidden_here) {
            self.store.set_hidden_here(&festival, id, true)?;
            changed = true;
        }
        let muted_here: HashSet<PublicKey> = self.store.muted(&festival)?.into_iter().collect();
        let muted_there: HashSet<PublicKey> = theirs.muted.iter().copied().collect();
        for k in muted_there.difference(&muted_here) {
            self.store.set_muted(&festival, k, true)?;
            changed = true;
        }
        if !merge {
            for id in favs_here.difference(&favs_there) {
                self.store.set_favourite(&festival, id, false)?;
                changed = true;
            }
            for id in hidden_here.difference(&hidden_there) {
                self.store.set_hidden_here(&festival, id, false)?;
                changed = true;
            }
            for k in muted_here.difference(&muted_there) {
                self.store.set_muted(&festival, k, false)?;
                changed = true;
            }
        }
        if theirs.seen_at_ms > mine.seen_at_ms {
            self.store.mark_seen_as_of(&festival, theirs.seen_at_ms)?;
            self.set_setting(&setting_key("seenat", &festival), &theirs.seen_at_ms.to_string())?;
        }
        // After a merge this device holds more than either did: that is news to the others.
        let stamp = if merge && changed {
            self.now_ms().max(theirs.changed_at_ms + 1)
        } else {
            theirs.changed_at_ms.max(mine.changed_at_ms)
        };
        self.set_setting(&setting_key("ownchanged", &festival), &stamp.to_string())?;
        self.set_setting(&setting_key("adopted", &festival), "1")?;
        Ok(changed || merge)
    }

    /// Recomputes which members of this identity's crews of people favour or head to which
    /// events, for "2 of your crew" on programme rows.
    fn refresh_crew_going(&mut self, festival: FestivalId) -> Result<(), NodeError> {
        let (_, crews) = self.read_crews(&festival)?;
        self.refresh_crew_going_from(festival, &crews)
    }

    /// [`Node::refresh_crew_going`] from crews already read (what this device writes to them
    /// afterwards changes none of the others' shares).
    fn refresh_crew_going_from(&mut self, festival: FestivalId, crews: &[Crew]) -> Result<(), NodeError> {
        let me = self.public_key();
        let mut going = BTreeSet::new();
        for c in crews.iter().filter(|c| !c.current().roster.devices && c.members().contains(&me)) {
            for m in c.members().into_iter().filter(|m| *m != me) {
                let Some((_, _, s)) = c.snapshots.get(&m) else { continue };
                for p in s.favourites.iter().chain(s.heading.iter().map(|(_, p)| p)) {
                    going.insert((*p, m));
                }
            }
        }
        Ok(self.store.replace_crew_going(&festival, &going)?)
    }

    /// Fills in which of the viewer's crews each op's author is in (one read of the crews for
    /// all of them).
    pub(super) fn place_in_crews(
        &self,
        festival: &FestivalId,
        origins: &mut [&mut crate::view::OpOrigin],
    ) -> Result<(), NodeError> {
        let me = self.public_key();
        let crews = if self.my_crews(festival)?.is_empty() { Vec::new() } else { self.read_crews(festival)?.1 };
        for o in origins.iter_mut() {
            o.own_device = o.author == me;
            for c in crews.iter().filter(|c| c.members().contains(&me) && c.members().contains(&o.author)) {
                if c.current().roster.devices {
                    o.own_device = true;
                } else if o.crew.is_empty() && o.author != me {
                    o.crew = c.current().roster.name.clone();
                }
            }
        }
        Ok(())
    }

    /// The crews this identity is in, as it reads them.
    pub fn crews(&self, festival: &FestivalId) -> Result<Vec<CrewView>, NodeError> {
        let (_, crews) = self.read_crews(festival)?;
        let me = self.public_key();
        let events: HashMap<[u8; EVENT_PREFIX], OpId> =
            self.programme(festival, &Default::default())?.into_iter().map(|e| (prefix(&e.id), e.id)).collect();
        let mut out = Vec::new();
        for c in crews.iter().filter(|c| c.members().contains(&me)) {
            let mut members = Vec::new();
            for key in c.members() {
                let s = c.snapshots.get(&key).map(|(_, _, s)| s);
                let heading = s.and_then(|s| s.heading);
                members.push(CrewMember {
                    key,
                    name: self.display_name(festival, &key)?.unwrap_or_default(),
                    fingerprint: key.fingerprint(),
                    is_me: key == me,
                    favourites: s
                        .map(|s| s.favourites.iter().filter_map(|p| events.get(p).copied()).collect())
                        .unwrap_or_default(),
                    heading: heading.map(|(h, _)| h),
                    heading_event: heading.and_then(|(_, p)| events.get(&p).copied()),
                    note: s.map(|s| s.note.clone()).unwrap_or_default(),
                    silent: s.is_none(),
                });
            }
            out.push(CrewView {
                id: crate::wire::to_hex(&c.id),
                name: c.current().roster.name.clone(),
                admin: c.admin,
                is_admin: c.admin == me,
                devices: c.current().roster.devices,
                epoch: c.current().number,
                members,
            });
        }
        Ok(out)
    }

    /// Members of one crew whose favourites overlap in time (they will be apart then).
    pub fn crew_clashes(&self, festival: &FestivalId, crew: &CrewView) -> Result<Vec<CrewClash>, NodeError> {
        let programme: HashMap<OpId, EventView> =
            self.programme(festival, &Default::default())?.into_iter().map(|e| (e.id, e)).collect();
        let mut out = Vec::new();
        for (i, a) in crew.members.iter().enumerate() {
            for b in &crew.members[i + 1..] {
                for ea in a.favourites.iter().filter_map(|id| programme.get(id)) {
                    for eb in b.favourites.iter().filter_map(|id| programme.get(id)) {
                        if ea.id != eb.id && crate::view::overlap(ea, eb) && !b.favourites.contains(&ea.id) {
                            out.push(CrewClash {
                                first: a.key,
                                first_event: ea.id,
                                second: b.key,
                                second_event: eb.id,
                            });
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// How this device remembers a crew it is in: the id with its admin.
fn crew_name_key(crew: &CrewId, admin: &PublicKey) -> String {
    format!("{}@{}", crate::wire::to_hex(crew), admin.to_hex())
}

/// The crew bodies among `ops`, as the fold reads them.
fn crew_bodies(ops: &[Op]) -> Vec<CrewOp<'_>> {
    ops.iter()
        .filter_map(|o| match o.body() {
            Body::Crew(body) => Some(CrewOp { author: o.author(), seq: o.seq(), body }),
            _ => None,
        })
        .collect()
}

/// Each author's published crew key (the first it published).
fn published_keys(ops: &[Op]) -> HashMap<PublicKey, [u8; 32]> {
    let mut keys = HashMap::new();
    for o in ops {
        if let Body::Crew(CrewBody::Key { x25519 }) = o.body() {
            keys.entry(o.author()).or_insert(*x25519);
        }
    }
    keys
}
