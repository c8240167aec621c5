//! The set a sync session reconciles: one item per op, ordered by (Lamport clock, op id), so that
//! what a device that was away is missing sits together at the end of the order. Fingerprints of
//! any range come from prefix sums in constant time.

use crate::op::OpId;

/// Bytes of a fingerprint on the wire.
pub const FINGERPRINT_LEN: usize = 16;

/// One op as the reconciliation sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Item {
    /// Lamport clock of the op.
    pub lamport: u64,
    /// Its id.
    pub id: OpId,
}

/// A position in the item order: items below it are in the range that ends here. `None` as the
/// upper end of a range means "to the end".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// Lamport clock.
    pub lamport: u64,
    /// As many leading bytes of an id as are needed to separate neighbours.
    pub prefix: Vec<u8>,
}

impl Bound {
    /// Whether `item` sorts before this bound.
    pub fn above(&self, item: &Item) -> bool {
        (item.lamport, &item.id.0[..]) < (self.lamport, &self.prefix[..])
    }

    /// The shortest bound that separates `lo` (below) from `hi` (at or above).
    pub fn between(lo: &Item, hi: &Item) -> Bound {
        if lo.lamport != hi.lamport {
            return Bound { lamport: hi.lamport, prefix: Vec::new() };
        }
        let shared = lo.id.0.iter().zip(hi.id.0.iter()).take_while(|(a, b)| a == b).count();
        Bound { lamport: hi.lamport, prefix: hi.id.0[..(shared + 1).min(32)].to_vec() }
    }
}

/// A sorted item set with prefix sums of the ids (as 256-bit little-endian numbers). Cloning
/// shares it: every session for a festival can hold the same set.
#[derive(Debug, Clone, Default)]
pub struct Items(std::sync::Arc<ItemsInner>);

#[derive(Debug, Default)]
struct ItemsInner {
    items: Vec<Item>,
    sums: Vec<[u64; 4]>,
}

fn add(a: [u64; 4], b: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut carry = 0u128;
    for (i, limb) in out.iter_mut().enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i * 8..i * 8 + 8]);
        let s = u128::from(a[i]) + u128::from(u64::from_le_bytes(w)) + carry;
        *limb = s as u64;
        carry = s >> 64;
    }
    out
}

fn sub(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut borrow = 0i128;
    for i in 0..4 {
        let d = i128::from(a[i]) - i128::from(b[i]) - borrow;
        if d < 0 {
            out[i] = (d + (1i128 << 64)) as u64;
            borrow = 1;
        } else {
            out[i] = d as u64;
            borrow = 0;
        }
    }
    out
}

impl Items {
    /// An item set; sorts and removes duplicates.
    pub fn new(mut items: Vec<Item>) -> Self {
        items.sort_unstable();
        items.dedup();
        let mut sums = Vec::with_capacity(items.len() + 1);
        let mut acc = [0u64; 4];
        sums.push(acc);
        for it in &items {
            acc = add(acc, &it.id.0);
            sums.push(acc);
        }
        Items(std::sync::Arc::new(ItemsInner { items, sums }))
    }

    /// This set with `added` items too (duplicates of held ones are ignored): what a store that
    /// stored a few more ops reconciles, without reading the whole set again. Linear in the size
    /// of the set, and the prefix sums below the first added item are kept as they are.
    pub fn with(&self, mut added: Vec<Item>) -> Items {
        added.sort_unstable();
        added.dedup();
        let old = &self.0.items;
        let Some(lowest) = added.first() else { return self.clone() };
        let first = old.partition_point(|x| x < lowest);
        let mut items = Vec::with_capacity(old.len() + added.len());
        items.extend_from_slice(&old[..first]);
        let (mut rest, mut new) = (old[first..].iter().peekable(), added.into_iter().peekable());
        loop {
            let next = match (rest.peek(), new.peek()) {
                (Some(a), Some(b)) if **a == *b => {
                    new.next();
                    continue;
                }
                (Some(a), Some(b)) if **a < *b => rest.next().copied(),
                (Some(_), None) => rest.next().copied(),
                (_, Some(_)) => new.next(),
                (None, None) => break,
            };
            items.extend(next);
        }
        let mut sums = Vec::with_capacity(items.len() + 1);
        sums.extend_from_slice(&self.0.sums[..=first]);
        let mut acc = self.0.sums[first];
        for it in &items[first..] {
            acc = add(acc, &it.id.0);
            sums.push(acc);
        }
        Items(std::sync::Arc::new(ItemsInner { items, sums }))
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.0.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.items.is_empty()
    }

    /// The items, sorted.
    pub fn as_slice(&self) -> &[Item] {
        &self.0.items
    }

    /// Index of the first item at or above `bound` (`None` = the end).
    pub fn index_of(&self, bound: Option<&Bound>) -> usize {
        match bound {
            None => self.0.items.len(),
            Some(b) => self.0.items.partition_point(|it| b.above(it)),
        }
    }

    /// Fingerprint of the items with indices in `range`: BLAKE3 of their id sum and count.
    pub fn fingerprint(&self, range: std::ops::Range<usize>) -> [u8; FINGERPRINT_LEN] {
        let sum = sub(self.0.sums[range.end], self.0.sums[range.start]);
        let mut h = blake3::Hasher::new_derive_key("meadow 2026 sync fingerprint v1");
        for limb in sum {
            h.update(&limb.to_le_bytes());
        }
        h.update(&((range.end - range.start) as u64).to_le_bytes());
        let mut out = [0u8; FINGERPRINT_LEN];
        out.copy_from_slice(&h.finalize().as_bytes()[..FINGERPRINT_LEN]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_items_equals_building_the_set_anew() {
        let item = |lamport: u64, b: u8| Item { lamport, id: OpId([b; 32]) };
        let base: Vec<Item> = (0..50u8).map(|i| item(u64::from(i) * 2, i)).collect();
        let set = Items::new(base.clone());
        let cases =
            [vec![], vec![item(200, 1)], vec![item(3, 7), item(3, 7), item(0, 0)], vec![item(41, 9), item(98, 49)]];
        for added in cases {
            let mut all = base.clone();
            all.extend(added.iter().copied());
            let want = Items::new(all);
            let got = set.with(added);
            assert_eq!(got.as_slice(), want.as_slice());
            assert_eq!(got.fingerprint(0..got.len()), want.fingerprint(0..want.len()));
            assert_eq!(got.fingerprint(3..17), want.fingerprint(3..17));
        }
    }

    fn item(l: u64, b: u8) -> Item {
        Item { lamport: l, id: OpId([b; 32]) }
    }

    #[test]
    fn fingerprints_depend_only_on_the_set() {
        let a = Items::new(vec![item(1, 1), item(2, 2), item(3, 3)]);
        let b = Items::new(vec![item(3, 3), item(1, 1), item(2, 2), item(2, 2)]);
        assert_eq!(a.fingerprint(0..3), b.fingerprint(0..3));
        assert_eq!(a.fingerprint(1..3), Items::new(vec![item(2, 2), item(3, 3)]).fingerprint(0..2));
        assert_ne!(a.fingerprint(0..2), a.fingerprint(0..3));
        assert_ne!(Items::new(vec![]).fingerprint(0..0), a.fingerprint(0..1));
    }

    #[test]
    fn bounds_split_exactly() {
        let lo = Item { lamport: 5, id: OpId([0xab; 32]) };
        let mut hi_id = [0xab; 32];
        hi_id[3] = 0xac;
        let hi = Item { lamport: 5, id: OpId(hi_id) };
        let b = Bound::between(&lo, &hi);
        assert_eq!(b.prefix.len(), 4);
        assert!(b.above(&lo) && !b.above(&hi));
        let c = Bound::between(&item(4, 9), &item(5, 0));
        assert!(c.prefix.is_empty() && c.above(&item(4, 255)) && !c.above(&item(5, 0)));
    }

    #[test]
    fn sums_wrap_around() {
        let big = Items::new(vec![
            Item { lamport: 1, id: OpId([0xff; 32]) },
            Item { lamport: 2, id: OpId([0xff; 32]) },
            Item { lamport: 3, id: OpId([0x01; 32]) },
        ]);
        assert_eq!(big.fingerprint(1..3), Items::new(big.as_slice()[1..].to_vec()).fingerprint(0..2));
    }
}
