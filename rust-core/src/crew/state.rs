//! The crews a member can read, folded from a festival's crew ops with its own key: a pure
//! function of the ops (in any order) and the key, so every member who holds the same ops sees
//! the same crews.
//!
//! Only a crew's admin writes epochs, so its own log orders them: the newest epoch is the one
//! latest in the admin's log that this member can open. A member's state is its newest item
//! under any epoch it can read; only members of the newest epoch are shown.

use std::collections::BTreeMap;

use crate::identity::PublicKey;
use crate::op::FestivalId;

use super::crypto::{CrewKeys, EpochKey, item_aad, unpad};
use super::ops::{CrewBody, CrewId, Grant, Roster, Snapshot};

/// What a grant's seal binds: it opens only inside its own op.
pub fn grant_aad(festival: &FestivalId, admin: &PublicKey, seq: u64) -> Vec<u8> {
    let mut aad = b"meadow crew grant v1\n".to_vec();
    aad.extend_from_slice(&festival.0);
    aad.extend_from_slice(&admin.0);
    aad.extend_from_slice(&seq.to_be_bytes());
    aad
}

/// What a join request's seal binds: the festival and the joiner who signs the op, so that a
/// request copied into another key's op does not open.
pub fn join_aad(festival: &FestivalId, joiner: &PublicKey) -> Vec<u8> {
    let mut aad = b"meadow crew join v1\n".to_vec();
    aad.extend_from_slice(&festival.0);
    aad.extend_from_slice(&joiner.0);
    aad
}

/// HPKE `info` of grants.
pub const GRANT_INFO: &[u8] = b"meadow 2026 crew grant";
/// HPKE `info` of join requests.
pub const JOIN_INFO: &[u8] = b"meadow 2026 crew join";

/// A crew op as the fold reads it.
#[derive(Debug, Clone, Copy)]
pub struct CrewOp<'a> {
    /// Who signed it.
    pub author: PublicKey,
    /// Its place in the author's log.
    pub seq: u64,
    /// The body.
    pub body: &'a CrewBody,
}

/// One epoch of a crew this member could open.
#[derive(Debug, Clone)]
pub struct Epoch {
    /// Its number.
    pub number: u32,
    /// The admin's log position of the epoch op (what orders epochs).
    pub seq: u64,
    /// Its key.
    pub key: EpochKey,
    /// Who was in the crew, and its name.
    pub roster: Roster,
}

/// A crew as one member reads it.
#[derive(Debug, Clone)]
pub struct Crew {
    /// Its id.
    pub id: CrewId,
    /// Its admin: the only key that writes its epochs.
    pub admin: PublicKey,
    /// Every epoch this member could open, oldest first.
    pub epochs: Vec<Epoch>,
    /// Each author's newest item, with its log position.
    pub snapshots: BTreeMap<PublicKey, (u64, u32, Snapshot)>,
}

impl Crew {
    /// The newest epoch this member holds.
    pub fn current(&self) -> &Epoch {
        // A crew exists here only once one epoch opened.
        &self.epochs[self.epochs.len() - 1]
    }

    /// Members of the newest epoch who have not left since they were (last) let in. A leave
    /// written under an older epoch still counts: the admin may have re-keyed for someone else
    /// before it heard of the leave.
    pub fn members(&self) -> Vec<PublicKey> {
        self.current()
            .roster
            .members
            .iter()
            .filter(|m| !self.snapshots.get(m).is_some_and(|(_, e, s)| s.left && *e >= self.let_in_at(m)))
            .copied()
            .collect()
    }

    /// The first epoch of the unbroken run of epochs, up to the newest, that has `member`.
    fn let_in_at(&self, member: &PublicKey) -> u32 {
        let mut first = self.current().number;
        for e in self.epochs.iter().rev() {
            if !e.roster.members.contains(member) {
                break;
            }
            first = e.number;
        }
        first
    }
}

/// The grant sealed to `me` in an epoch op, if there is one.
pub fn open_grant(festival: &FestivalId, me: &CrewKeys, op: &CrewOp<'_>) -> Option<Grant> {
    let CrewBody::Epoch { grants, .. } = op.body else { return None };
    let aad = grant_aad(festival, &op.author, op.seq);
    grants.iter().find_map(|g| me.open(GRANT_INFO, g, &aad).and_then(|p| Grant::decode(&p)))
}

/// The crews `me` can read in a festival's crew ops.
pub fn fold(festival: &FestivalId, me: &CrewKeys, ops: &[CrewOp<'_>]) -> Vec<Crew> {
    fold_with(festival, ops, |op| open_grant(festival, me, op))
}

/// [`fold`] with the grants already opened by `grant` (a device remembers which epoch ops held
/// one for it, so that a flood of epochs costs one attempt each, not one per fold).
pub fn fold_with(festival: &FestivalId, ops: &[CrewOp<'_>], grant: impl Fn(&CrewOp<'_>) -> Option<Grant>) -> Vec<Crew> {
    let mut crews: BTreeMap<(PublicKey, CrewId), Crew> = BTreeMap::new();
    for op in ops {
        let CrewBody::Epoch { roster, .. } = op.body else { continue };
        let Some(grant) = grant(op) else { continue };
        let key = EpochKey(grant.key);
        let Some(roster) = key
            .decrypt(roster, &item_aad(festival, &op.author, op.seq, grant.epoch))
            .and_then(|p| unpad(&p).and_then(Roster::decode))
        else {
            continue;
        };
        if !roster.members.contains(&op.author) {
            continue;
        }
        let crew = crews.entry((op.author, grant.crew)).or_insert_with(|| Crew {
            id: grant.crew,
            admin: op.author,
            epochs: Vec::new(),
            snapshots: BTreeMap::new(),
        });
        crew.epochs.push(Epoch { number: grant.epoch, seq: op.seq, key, roster });
    }
    for crew in crews.values_mut() {
        crew.epochs.sort_by_key(|e| e.seq);
    }
    for op in ops {
        let CrewBody::Item { tag, sealed } = op.body else { continue };
        for crew in crews.values_mut() {
            let Some(e) = crew.epochs.iter().find(|e| e.key.author_tag(&op.author) == *tag) else { continue };
            let Some(snapshot) = e
                .key
                .decrypt(sealed, &item_aad(festival, &op.author, op.seq, e.number))
                .and_then(|p| unpad(&p).and_then(Snapshot::decode))
            else {
                continue;
            };
            let newer = crew.snapshots.get(&op.author).is_none_or(|(seq, _, _)| op.seq > *seq);
            if newer {
                crew.snapshots.insert(op.author, (op.seq, e.number, snapshot));
            }
        }
    }
    crews.into_values().collect()
}
