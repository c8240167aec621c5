//! What sync needs from a store, and the rules it applies to what it reads: which items a
//! festival's logs contribute (a forked log up to its fork), and in which order ops go out
//! (priority classes). The SQLite store provides the rows; the tests here use a small in-memory
//! store instead.

use std::cell::RefCell;
use std::collections::HashMap;

use super::{Class, Item, Items, Planned};
use crate::identity::PublicKey;
use crate::model::{Moderation, Roles};
use crate::op::{BodyKind, FestivalId, Op, OpId};
use crate::store::{IngestReport, OpRow, Store, StoreError};

/// Versions of a forked log's position that take part in sync, lowest ids first: as many as a
/// store keeps as evidence, enough to prove the fork whatever a forking author signs.
const MAX_EVIDENCE_PER_AUTHOR: usize = crate::store::MAX_EVIDENCE_PER_AUTHOR as usize;

/// What sync reads from a store.
pub trait SyncStore {
    /// A number that changes with every commit that stored something.
    fn revision(&self) -> Result<i64, StoreError>;
    /// Authors whose log forked, with the first position they forked at.
    fn forks(&self, festival: &FestivalId) -> Result<Vec<(PublicKey, u64)>, StoreError>;
    /// (Lamport clock, id) of every op held, leaving out each `cut` author's ops from the given
    /// position on.
    fn op_items(&self, festival: &FestivalId, cut: &[(PublicKey, u64)]) -> Result<Vec<(u64, OpId)>, StoreError>;
    /// (Lamport clock, id) of every version of one log position held, as an op or as evidence.
    fn versions(&self, festival: &FestivalId, author: &PublicKey, seq: u64) -> Result<Vec<(u64, OpId)>, StoreError>;
    /// What a plan needs to know of these ops or pieces of evidence; ids not held left out.
    fn describe(&self, festival: &FestivalId, ids: &[OpId]) -> Result<Vec<OpRow>, StoreError>;
    /// Who holds which role.
    fn roles(&self, festival: &FestivalId) -> Result<Roles, StoreError>;
    /// Whose community ops the festival shows.
    fn moderation(&self, festival: &FestivalId) -> Result<Moderation, StoreError>;
    /// The ops or evidence with these ids, in this order; ids not held left out.
    fn load(&self, festival: &FestivalId, ids: &[OpId]) -> Result<Vec<Op>, StoreError>;
}

impl SyncStore for Store {
    fn revision(&self) -> Result<i64, StoreError> {
        Store::revision(self)
    }
    fn forks(&self, festival: &FestivalId) -> Result<Vec<(PublicKey, u64)>, StoreError> {
        self.forked_authors(festival)
    }
    fn op_items(&self, festival: &FestivalId, cut: &[(PublicKey, u64)]) -> Result<Vec<(u64, OpId)>, StoreError> {
        Store::op_items(self, festival, cut)
    }
    fn versions(&self, festival: &FestivalId, author: &PublicKey, seq: u64) -> Result<Vec<(u64, OpId)>, StoreError> {
        Store::versions(self, festival, author, seq)
    }
    fn describe(&self, festival: &FestivalId, ids: &[OpId]) -> Result<Vec<OpRow>, StoreError> {
        Store::describe(self, festival, ids)
    }
    fn roles(&self, festival: &FestivalId) -> Result<Roles, StoreError> {
        Store::roles(self, festival)
    }
    fn moderation(&self, festival: &FestivalId) -> Result<Moderation, StoreError> {
        Store::moderation(self, festival)
    }
    fn load(&self, festival: &FestivalId, ids: &[OpId]) -> Result<Vec<Op>, StoreError> {
        self.ops_by_id(festival, ids)
    }
}

fn item((lamport, id): (u64, OpId)) -> Item {
    Item { lamport, id }
}

/// The festival's sync items: (Lamport clock, op id) of every op and of the equivocation
/// evidence held, sorted.
///
/// A forked author's log takes part up to its fork only: the ops before the position `s` it
/// forked at, and the [`crate::store::MAX_EVIDENCE_PER_AUTHOR`] lowest ids among the versions of position `s`
/// held (as an op or as evidence). Two devices that hold different branches then hold the same
/// items once they have met, instead of sending each other their branches forever.
pub fn festival_items(store: &impl SyncStore, festival: &FestivalId) -> Result<Items, StoreError> {
    let forks = store.forks(festival)?;
    let mut items: Vec<Item> = store.op_items(festival, &forks)?.into_iter().map(item).collect();
    for (author, s) in forks {
        let mut versions: Vec<Item> = store.versions(festival, &author, s)?.into_iter().map(item).collect();
        versions.sort_by_key(|i| i.id);
        versions.truncate(MAX_EVIDENCE_PER_AUTHOR);
        items.extend(versions);
    }
    Ok(Items::new(items))
}

/// What a session is about to send, without the ops' bytes: (priority class, Lamport clock,
/// id, size) of each op or piece of evidence named. Class 0: announcements by official authors
/// with the earlier ops of their logs they need; 1: other official ops; 2: community ops (role
/// ops by authors without authority among them: they change nothing); 3: community ops the
/// festival's moderation does not show (unapproved authors in approved-only mode, hidden
/// authors). Evidence of a fork goes with its author's ops at its position.
///
/// Classes never decrease along a log: an op takes the lowest class of any later op of its log
/// being sent, so a receiver gets every log in order and parks nothing, whatever mix of kinds an
/// author signs. Ids not held are left out.
pub fn plan(store: &impl SyncStore, festival: &FestivalId, ids: &[OpId]) -> Result<Vec<Planned>, StoreError> {
    let roles = store.roles(festival)?;
    let moderation = store.moderation(festival)?;
    let mut rows = store.describe(festival, ids)?;
    let own_class = |r: &OpRow| {
        if roles.is_official(&r.author, r.seq) {
            if r.kind == BodyKind::Announcement as u8 { Class::Urgent } else { Class::Official }
        } else if moderation.shows(&r.author) {
            Class::Community
        } else {
            Class::Unshown
        }
    };
    // Each log from its newest op being sent to its oldest, carrying the lowest class seen.
    rows.sort_by(|a, b| (a.author, b.seq).cmp(&(b.author, a.seq)));
    let mut planned = Vec::with_capacity(rows.len());
    let mut carried: Option<(PublicKey, Class)> = None;
    for r in &rows {
        let mut class = own_class(r);
        if let Some((a, c)) = carried
            && a == r.author
        {
            class = class.min(c);
        }
        carried = Some((r.author, class));
        planned.push(Planned { class, lamport: r.lamport, id: r.id, size: r.size });
    }
    Ok(planned)
}

/// The sync items of recently reconciled festivals, valid at a store revision: every session
/// for a festival shares one copy instead of loading its own, and a batch that stored a few ops
/// costs a merge, not a read of the festival's every op.
#[derive(Debug, Default)]
pub struct ItemCache {
    festivals: RefCell<HashMap<FestivalId, (i64, Items)>>,
}

impl ItemCache {
    /// The festival's items, from the cache if they are current.
    pub fn items(&self, store: &impl SyncStore, festival: &FestivalId) -> Result<Items, StoreError> {
        let rev = store.revision()?;
        if let Some((r, items)) = self.festivals.borrow().get(festival)
            && *r == rev
        {
            return Ok(items.clone());
        }
        let items = festival_items(store, festival)?;
        let mut cache = self.festivals.borrow_mut();
        // Sessions for a handful of festivals at once at most; keep the cache that small.
        if cache.len() >= 8 {
            cache.clear();
        }
        cache.insert(*festival, (rev, items.clone()));
        Ok(items)
    }

    /// Brings items that were current before a batch up to the revision it moved the store to,
    /// with what it stored.
    pub fn follow(&self, report: &IngestReport) {
        let changes = &report.items;
        let Some(now) = changes.rev else { return };
        let before = now - 1;
        let mut cache = self.festivals.borrow_mut();
        cache.retain(|f, (rev, _)| *rev == before && !changes.reset.contains(f));
        for (f, (rev, items)) in cache.iter_mut() {
            let added: Vec<Item> =
                changes.added.iter().filter(|(g, ..)| g == f).map(|&(_, lamport, id)| Item { lamport, id }).collect();
            *items = items.with(added);
            *rev = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MemberStatus;

    /// A store of rows held in memory: what sync's rules are tested against.
    #[derive(Default)]
    struct Memory {
        rows: Vec<OpRow>,
        evidence: Vec<OpRow>,
        roles: Roles,
        moderation: Moderation,
    }

    impl SyncStore for Memory {
        fn revision(&self) -> Result<i64, StoreError> {
            Ok(self.rows.len() as i64)
        }
        fn forks(&self, _: &FestivalId) -> Result<Vec<(PublicKey, u64)>, StoreError> {
            let mut f: Vec<(PublicKey, u64)> = Vec::new();
            for e in &self.evidence {
                match f.iter_mut().find(|(a, _)| *a == e.author) {
                    Some((_, s)) => *s = (*s).min(e.seq),
                    None => f.push((e.author, e.seq)),
                }
            }
            Ok(f)
        }
        fn op_items(&self, _: &FestivalId, cut: &[(PublicKey, u64)]) -> Result<Vec<(u64, OpId)>, StoreError> {
            Ok(self
                .rows
                .iter()
                .filter(|r| !cut.iter().any(|(a, s)| *a == r.author && r.seq >= *s))
                .map(|r| (r.lamport, r.id))
                .collect())
        }
        fn versions(&self, _: &FestivalId, author: &PublicKey, seq: u64) -> Result<Vec<(u64, OpId)>, StoreError> {
            Ok(self
                .rows
                .iter()
                .chain(&self.evidence)
                .filter(|r| r.author == *author && r.seq == seq)
                .map(|r| (r.lamport, r.id))
                .collect())
        }
        fn describe(&self, _: &FestivalId, ids: &[OpId]) -> Result<Vec<OpRow>, StoreError> {
            Ok(ids
                .iter()
                .filter_map(|id| self.rows.iter().chain(&self.evidence).find(|r| r.id == *id))
                .copied()
                .collect())
        }
        fn roles(&self, _: &FestivalId) -> Result<Roles, StoreError> {
            Ok(self.roles.clone())
        }
        fn moderation(&self, _: &FestivalId) -> Result<Moderation, StoreError> {
            Ok(self.moderation.clone())
        }
        fn load(&self, _: &FestivalId, _: &[OpId]) -> Result<Vec<Op>, StoreError> {
            Ok(Vec::new())
        }
    }

    fn key(n: u8) -> PublicKey {
        PublicKey([n; 32])
    }

    fn row(author: u8, seq: u64, kind: BodyKind, n: u8) -> OpRow {
        let mut id = [n; 32];
        id[0] = author;
        OpRow { author: key(author), seq, lamport: seq + 1, kind: kind as u8, size: 100, id: OpId(id) }
    }

    const F: FestivalId = FestivalId([1; 32]);

    #[test]
    fn a_forked_log_takes_part_up_to_its_fork_and_a_bounded_set_of_versions() {
        let mut m = Memory { rows: (0..5).map(|s| row(2, s, BodyKind::Event, s as u8)).collect(), ..Memory::default() };
        m.rows.push(row(3, 0, BodyKind::Event, 50));
        // Author 2 forked at position 3: twenty conflicting versions of it.
        m.evidence = (0..20).map(|n| row(2, 3, BodyKind::Event, 100 + n)).collect();
        let items = festival_items(&m, &F).expect("items");
        let ids: Vec<OpId> = items.as_slice().iter().map(|i| i.id).collect();
        for s in 0..3 {
            assert!(ids.contains(&m.rows[s].id), "ops before the fork take part");
        }
        assert!(!ids.contains(&m.rows[4].id), "ops past the fork do not");
        let at_fork = ids.iter().filter(|id| id.0[0] == 2 && m.rows[..3].iter().all(|r| r.id != **id)).count();
        assert_eq!(at_fork, MAX_EVIDENCE_PER_AUTHOR);
        assert!(ids.contains(&m.rows[5].id));
    }

    #[test]
    fn official_announcements_go_first_and_classes_never_fall_along_a_log() {
        let mut m = Memory::default();
        m.roles.owner = Some(key(1));
        m.roles.members.insert(key(4), MemberStatus::Revoked { after_seq: Some(0) });
        m.moderation.hidden.insert(key(9));
        m.rows = vec![
            row(1, 0, BodyKind::Event, 1),
            row(1, 1, BodyKind::Announcement, 2),
            row(2, 0, BodyKind::Event, 3),
            row(4, 0, BodyKind::Event, 4),
            row(4, 1, BodyKind::Announcement, 5),
            row(9, 0, BodyKind::Event, 6),
        ];
        let ids: Vec<OpId> = m.rows.iter().map(|r| r.id).collect();
        let planned = plan(&m, &F, &ids).expect("plan");
        let class = |n: usize| planned.iter().find(|p| p.id == m.rows[n].id).expect("planned").class;
        assert_eq!(class(1), Class::Urgent, "the owner's announcement");
        assert_eq!(class(0), Class::Urgent, "the earlier op its log needs goes with it");
        assert_eq!(class(2), Class::Community);
        assert_eq!(class(3), Class::Official, "a former organiser's op before the cut");
        assert_eq!(class(4), Class::Community, "and after it, whatever its kind");
        assert_eq!(class(5), Class::Unshown, "a hidden author");
    }

    #[test]
    fn the_cache_follows_a_batch_and_is_read_again_after_any_other_commit() {
        let mut m = Memory { rows: vec![row(1, 0, BodyKind::Event, 1)], ..Memory::default() };
        let cache = ItemCache::default();
        assert_eq!(cache.items(&m, &F).expect("items").len(), 1);
        let new = row(1, 1, BodyKind::Event, 2);
        m.rows.push(new);
        let mut report = IngestReport::default();
        report.items.added.push((F, new.lamport, new.id));
        report.items.rev = Some(2);
        cache.follow(&report);
        assert_eq!(cache.items(&m, &F).expect("items").as_slice(), festival_items(&m, &F).expect("items").as_slice());
        // A commit the cache was not told of: read again.
        m.rows.push(row(1, 2, BodyKind::Event, 3));
        assert_eq!(cache.items(&m, &F).expect("items").len(), 3);
    }
}
