//! The rows sync and proximity read: ops and fork evidence by position and id, roles and
//! moderation. Which of them a session sends, in what order, and what a device advertises are
//! decided in `sync` and `proximity`; the store only reads.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, ToSql};

use super::{Store, StoreError, fold};
use crate::identity::PublicKey;
use crate::model::{Moderation, Roles};
use crate::op::{CommunityMode, FestivalId, Op, OpId};

/// An op or a piece of fork evidence as a session's plan sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpRow {
    /// Its author.
    pub author: PublicKey,
    /// Its position in the author's log.
    pub seq: u64,
    /// Its Lamport clock.
    pub lamport: u64,
    /// Its body kind (`BodyKind` as a byte); 0 for evidence of a fork.
    pub kind: u8,
    /// Its size in bytes.
    pub size: u32,
    /// Its id.
    pub id: OpId,
}

fn op_id(bytes: Vec<u8>) -> Result<OpId, StoreError> {
    bytes.try_into().map(OpId).map_err(|_| StoreError::Corrupt("op id".into()))
}

fn author(bytes: Vec<u8>) -> Result<PublicKey, StoreError> {
    bytes.try_into().map(PublicKey).map_err(|_| StoreError::Corrupt("op author".into()))
}

impl Store {
    /// (Lamport clock, id) rows of a query with those two columns.
    fn lamport_ids(&self, sql: &str, args: &[&dyn ToSql]) -> Result<Vec<(u64, OpId)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(args)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((r.get::<_, i64>(0)? as u64, op_id(r.get(1)?)?));
        }
        Ok(out)
    }

    /// (Lamport clock, id) of every op held in `festival`, leaving out each `cut` author's ops
    /// from the given position on.
    pub fn op_items(&self, festival: &FestivalId, cut: &[(PublicKey, u64)]) -> Result<Vec<(u64, OpId)>, StoreError> {
        let f = &festival.0[..];
        if cut.is_empty() {
            return self
                .lamport_ids("SELECT lamport, id FROM ops WHERE festival = (SELECT n FROM keys WHERE key = ?)", &[&f]);
        }
        let cut: std::collections::HashMap<PublicKey, u64> = cut.iter().copied().collect();
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.lamport, o.id, a.key, o.seq FROM ops o JOIN keys a ON a.n = o.author
             WHERE o.festival = (SELECT n FROM keys WHERE key = ?)",
        )?;
        let mut rows = stmt.query([f])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let (a, seq) = (author(r.get(2)?)?, r.get::<_, i64>(3)? as u64);
            if cut.get(&a).is_some_and(|&s| seq >= s) {
                continue;
            }
            out.push((r.get::<_, i64>(0)? as u64, op_id(r.get(1)?)?));
        }
        Ok(out)
    }

    /// (Lamport clock, id) of every version of one log position held, as an op or as evidence.
    pub fn versions(&self, festival: &FestivalId, who: &PublicKey, seq: u64) -> Result<Vec<(u64, OpId)>, StoreError> {
        self.lamport_ids(
            "SELECT lamport, id FROM ops
             WHERE festival = (SELECT n FROM keys WHERE key = ?1) AND author = (SELECT n FROM keys WHERE key = ?2)
             AND seq = ?3
             UNION SELECT lamport, evidence_id FROM forks WHERE festival = ?1 AND author = ?2 AND ev_seq = ?3",
            &[&&festival.0[..], &&who.0[..], &(seq as i64)],
        )
    }

    /// (author, seq, Lamport clock, id) of every op held in `festival`.
    pub fn log_rows(&self, festival: &FestivalId) -> Result<Vec<(PublicKey, u64, u64, OpId)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.key, o.seq, o.lamport, o.id FROM ops o JOIN keys a ON a.n = o.author
             WHERE o.festival = (SELECT n FROM keys WHERE key = ?)",
        )?;
        let mut rows = stmt.query([&festival.0[..]])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((author(r.get(0)?)?, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64, op_id(r.get(3)?)?));
        }
        Ok(out)
    }

    /// What a plan needs to know of these ops or pieces of evidence; ids not held are left out.
    pub fn describe(&self, festival: &FestivalId, ids: &[OpId]) -> Result<Vec<OpRow>, StoreError> {
        let mut op_stmt = self.conn.prepare_cached(
            "SELECT a.key, o.seq, o.lamport, o.kind, LENGTH(o.bytes) FROM ops o JOIN keys a ON a.n = o.author
             WHERE o.id = ? AND o.festival = (SELECT n FROM keys WHERE key = ?)",
        )?;
        let mut ev_stmt = self.conn.prepare_cached(
            "SELECT author, ev_seq, lamport, 0, LENGTH(evidence) FROM forks WHERE evidence_id = ? AND festival = ?",
        )?;
        let read = |r: &rusqlite::Row<'_>| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, u8>(3)?,
                r.get::<_, i64>(4)?,
            ))
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let args = [&id.0[..], &festival.0[..]];
            let row = match op_stmt.query_row(args, read).optional()? {
                Some(row) => Some(row),
                None => ev_stmt.query_row(args, read).optional()?,
            };
            if let Some((a, seq, lamport, kind, size)) = row {
                out.push(OpRow {
                    author: author(a)?,
                    seq: seq as u64,
                    lamport: lamport as u64,
                    kind,
                    size: size as u32,
                    id: *id,
                });
            }
        }
        Ok(out)
    }

    /// Who holds which role in `festival`, as its role ops stand.
    pub fn roles(&self, festival: &FestivalId) -> Result<Roles, StoreError> {
        Ok(fold::FestivalCtx::load(&self.conn, *festival)?.roles)
    }

    /// The festival's moderation: its community mode, approvals and hidden authors.
    pub fn moderation(&self, festival: &FestivalId) -> Result<Moderation, StoreError> {
        let f = &festival.0[..];
        let approved_only = self
            .conn
            .prepare_cached("SELECT community FROM festivals WHERE id = ?")?
            .query_row([f], |r| r.get::<_, i64>(0))
            .optional()?
            == Some(CommunityMode::Approved as i64);
        let keys = |sql: &str| -> Result<HashSet<PublicKey>, StoreError> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let rows = stmt.query_map([f], |r| r.get::<_, Vec<u8>>(0))?;
            let mut out = HashSet::new();
            for k in rows {
                if let Ok(k) = k?.try_into() {
                    out.insert(PublicKey(k));
                }
            }
            Ok(out)
        };
        let approved =
            if approved_only { keys("SELECT author FROM approvals WHERE festival = ?")? } else { HashSet::new() };
        let hidden = keys("SELECT target FROM hides WHERE festival = ? AND hidden = 1")?;
        Ok(Moderation { approved_only, approved, hidden })
    }

    /// The ops (or evidence) with these ids, in this order; ids not held are left out.
    pub fn ops_by_id(&self, festival: &FestivalId, ids: &[OpId]) -> Result<Vec<Op>, StoreError> {
        let mut op_stmt = self
            .conn
            .prepare_cached("SELECT bytes FROM ops WHERE id = ? AND festival = (SELECT n FROM keys WHERE key = ?)")?;
        let mut ev_stmt =
            self.conn.prepare_cached("SELECT evidence FROM forks WHERE evidence_id = ? AND festival = ? LIMIT 1")?;
        let mut ops = Vec::with_capacity(ids.len());
        for id in ids {
            let mut bytes: Option<Vec<u8>> =
                op_stmt.query_row([&id.0[..], &festival.0[..]], |r| r.get(0)).optional()?;
            if bytes.is_none() {
                bytes = ev_stmt.query_row([&id.0[..], &festival.0[..]], |r| r.get(0)).optional()?;
            }
            if let Some(b) = bytes {
                ops.push(Op::decode(&b).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))?);
            }
        }
        Ok(ops)
    }
}
