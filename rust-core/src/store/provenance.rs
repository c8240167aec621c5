//! Provenance: how each op reached this device, recorded in the transaction that stores it, and
//! where an item came from, read back for its screen.

use super::query::key32;
use super::*;
use crate::model::FieldStamps;
use crate::view::{Arrival, CLOCK_AHEAD_TOLERANCE_S, OpOrigin, Provenance, Via};

/// Longest peer name kept: an iroh endpoint id in hex, or what a native link names its peer.
const MAX_PEER_CHARS: usize = 64;

/// Records how the ops a batch stored arrived; an op's first arrival is the one kept.
pub(super) fn record_arrivals(
    tx: &Connection,
    added: &[(FestivalId, u64, OpId)],
    from: &Arrival,
    now: i64,
) -> Result<(), StoreError> {
    let peer: Option<String> = from.peer.as_deref().map(|p| p.chars().take(MAX_PEER_CHARS).collect());
    let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO arrivals (op, at, via, peer) VALUES (?, ?, ?, ?)")?;
    for (_, _, id) in added {
        stmt.execute(params![&id.0[..], now, from.via.code(), peer])?;
    }
    Ok(())
}

impl Store {
    /// Where one op of a festival came from; `None` if it is not stored.
    pub fn op_origin(&self, festival: &FestivalId, op: &OpId) -> Result<Option<OpOrigin>, StoreError> {
        let row = self
            .conn()
            .prepare_cached(
                "SELECT k.key, o.bytes, a.at, a.via, a.peer, p.display_name FROM ops o
                 LEFT JOIN arrivals a ON a.op = o.id
                 JOIN keys k ON k.n = o.author
                 LEFT JOIN profiles p ON p.festival = ?1 AND p.author = k.key
                 WHERE o.festival = (SELECT n FROM keys WHERE key = ?1) AND o.id = ?2",
            )?
            .query_row(params![&festival.0[..], &op.0[..]], |r| {
                Ok((
                    key32(r.get(0)?)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .optional()?;
        let Some((author, bytes, at, via, peer, name)) = row else { return Ok(None) };
        let author = PublicKey(author);
        let header = Op::decode(&bytes).map_err(|e| StoreError::Corrupt(format!("stored op {}: {e}", op.short())))?;
        let written_at = (header.header().wall_time_ms / 1000).min(i64::MAX as u64) as i64;
        Ok(Some(OpOrigin {
            op: *op,
            author,
            author_name: name.unwrap_or_default(),
            fingerprint: author.fingerprint(),
            official: self.is_official(festival, &author)?,
            written_at,
            clock_ahead: written_at > self.clock.now().saturating_add(CLOCK_AHEAD_TOLERANCE_S),
            received_at: at,
            via: via.and_then(Via::from_code),
            peer,
            verified_here: true,
            crew: String::new(),
            own_device: false,
        }))
    }

    /// Where an event came from: the op that created it, and the latest op that won one of its
    /// fields if that was another.
    pub fn provenance(&self, festival: &FestivalId, event: &OpId) -> Result<Option<Provenance>, StoreError> {
        let Some(created) = self.op_origin(festival, event)? else { return Ok(None) };
        let stamps: Option<Vec<u8>> = self
            .conn()
            .prepare_cached("SELECT stamps FROM events WHERE festival = (SELECT n FROM keys WHERE key = ?) AND id = ?")?
            .query_row(params![&festival.0[..], &event.0[..]], |r| r.get(0))
            .optional()?;
        let latest = stamps
            .and_then(|b| FieldStamps::<{ crate::model::EVENT_FIELDS }>::decode(&b))
            .and_then(|s| s.0.into_iter().flatten().max_by_key(|s| (s.lamport, s.author)));
        let last_change = match latest {
            Some(s) if s.author != created.author || self.op_lamport(festival, event)? != Some(s.lamport) => {
                let id: Option<Vec<u8>> = self
                    .conn()
                    .prepare_cached(
                        "SELECT id FROM ops WHERE festival = (SELECT n FROM keys WHERE key = ?) AND lamport = ?
                         AND author = (SELECT n FROM keys WHERE key = ?)",
                    )?
                    .query_row(params![&festival.0[..], s.lamport as i64, &s.author.0[..]], |r| r.get(0))
                    .optional()?;
                match id {
                    Some(id) => self.op_origin(festival, &OpId(key32(id)?))?,
                    None => None,
                }
            }
            _ => None,
        };
        Ok(Some(Provenance { created, last_change }))
    }

    fn op_lamport(&self, festival: &FestivalId, op: &OpId) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT lamport FROM ops WHERE festival = (SELECT n FROM keys WHERE key = ?) AND id = ?")?
            .query_row(params![&festival.0[..], &op.0[..]], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|l| l as u64))
    }
}
