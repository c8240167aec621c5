//! What a device's advertisement tells of its store: fingerprints of the official ops held and
//! of every sync item, read through a small trait so that the rule is tested without SQLite.

use std::cell::RefCell;
use std::collections::HashMap;

use super::advert::LocalState;
use crate::identity::PublicKey;
use crate::op::{FestivalId, OpId};
use crate::store::{Store, StoreError};
use crate::sync::{Item, Items, SyncStore};

/// What the advertisement reads from a store beyond sync's own rows.
pub trait AdvertStore: SyncStore {
    /// (author, seq, Lamport clock, id) of every op held in `festival`.
    fn log_rows(&self, festival: &FestivalId) -> Result<Vec<(PublicKey, u64, u64, OpId)>, StoreError>;
}

impl AdvertStore for Store {
    fn log_rows(&self, festival: &FestivalId) -> Result<Vec<(PublicKey, u64, u64, OpId)>, StoreError> {
        Store::log_rows(self, festival)
    }
}

/// The advertised state of `festival`, whose sync items are `all`: the fingerprint of the
/// official ops held (by the owner and organisers, at the positions their roles cover) and of
/// every item. Two stores with equal fingerprints hold the same ops.
pub fn local_state(store: &impl AdvertStore, festival: &FestivalId, all: &Items) -> Result<LocalState, StoreError> {
    let roles = store.roles(festival)?;
    let official = Items::new(
        store
            .log_rows(festival)?
            .into_iter()
            .filter(|(author, seq, ..)| roles.is_official(author, *seq))
            .map(|(_, _, lamport, id)| Item { lamport, id })
            .collect(),
    );
    Ok(LocalState {
        festival: *festival,
        official: official.fingerprint(0..official.len()),
        all: all.fingerprint(0..all.len()),
    })
}

/// Advertised states at a store revision: asked again at every change, read once per commit.
#[derive(Debug, Default)]
pub struct StateCache {
    festivals: RefCell<HashMap<FestivalId, (i64, LocalState)>>,
}

impl StateCache {
    /// The festival's advertised state, from the cache if it is current; `items` gives its sync
    /// items when they must be read.
    pub fn state(
        &self,
        store: &impl AdvertStore,
        festival: &FestivalId,
        items: impl FnOnce() -> Result<Items, StoreError>,
    ) -> Result<LocalState, StoreError> {
        let rev = store.revision()?;
        if let Some((r, state)) = self.festivals.borrow().get(festival)
            && *r == rev
        {
            return Ok(*state);
        }
        let state = local_state(store, festival, &items()?)?;
        let mut cache = self.festivals.borrow_mut();
        if cache.len() >= 8 {
            cache.clear();
        }
        cache.insert(*festival, (rev, state));
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Moderation, Roles};
    use crate::op::Op;
    use crate::store::OpRow;

    /// Ops of three authors held in memory, the first of them the owner.
    struct Memory(Vec<(PublicKey, u64, u64, OpId)>);

    impl SyncStore for Memory {
        fn revision(&self) -> Result<i64, StoreError> {
            Ok(self.0.len() as i64)
        }
        fn forks(&self, _: &FestivalId) -> Result<Vec<(PublicKey, u64)>, StoreError> {
            Ok(Vec::new())
        }
        fn op_items(&self, _: &FestivalId, _: &[(PublicKey, u64)]) -> Result<Vec<(u64, OpId)>, StoreError> {
            Ok(self.0.iter().map(|r| (r.2, r.3)).collect())
        }
        fn versions(&self, _: &FestivalId, _: &PublicKey, _: u64) -> Result<Vec<(u64, OpId)>, StoreError> {
            Ok(Vec::new())
        }
        fn describe(&self, _: &FestivalId, _: &[OpId]) -> Result<Vec<OpRow>, StoreError> {
            Ok(Vec::new())
        }
        fn roles(&self, _: &FestivalId) -> Result<Roles, StoreError> {
            Ok(Roles { owner: Some(PublicKey([1; 32])), ..Roles::default() })
        }
        fn moderation(&self, _: &FestivalId) -> Result<Moderation, StoreError> {
            Ok(Moderation::default())
        }
        fn load(&self, _: &FestivalId, _: &[OpId]) -> Result<Vec<Op>, StoreError> {
            Ok(Vec::new())
        }
    }

    impl AdvertStore for Memory {
        fn log_rows(&self, _: &FestivalId) -> Result<Vec<(PublicKey, u64, u64, OpId)>, StoreError> {
            Ok(self.0.clone())
        }
    }

    fn op(author: u8, seq: u64) -> (PublicKey, u64, u64, OpId) {
        (PublicKey([author; 32]), seq, seq + 1, OpId([author * 16 + seq as u8; 32]))
    }

    #[test]
    fn community_ops_change_the_whole_fingerprint_only() {
        let f = FestivalId([3; 32]);
        let state = |m: &Memory| {
            let all = crate::sync::festival_items(m, &f).expect("items");
            local_state(m, &f, &all).expect("state")
        };
        let mut m = Memory(vec![op(1, 0), op(1, 1)]);
        let before = state(&m);
        m.0.push(op(2, 0));
        let after = state(&m);
        assert_eq!(before.official, after.official, "a community op is not official news");
        assert_ne!(before.all, after.all);
        m.0.push(op(1, 2));
        assert_ne!(state(&m).official, after.official);
        // The cache reads once per revision.
        let cache = StateCache::default();
        let mut reads = 0;
        for _ in 0..3 {
            cache
                .state(&m, &f, || {
                    reads += 1;
                    crate::sync::festival_items(&m, &f)
                })
                .expect("state");
        }
        assert_eq!(reads, 1);
    }
}
