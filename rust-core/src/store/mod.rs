//! SQLite storage: the op log, batched idempotent ingest with full validation, the materialized
//! programme (module `fold`), full-text search and the device-local tables (favourites, mutes, the
//! "seen" mark).

mod fold;
mod query;
mod schema;
mod summary;

pub use query::{
    AnnouncementView, ChangeKind, ChangeView, Changes, Clash, EventDetail, EventView, FestivalView, NowNext,
    ProgrammeFilter, VenueView,
};
pub use schema::SCHEMA_VERSION;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use thiserror::Error;

use crate::identity::{Identity, PublicKey};
use crate::op::{Body, FestivalId, LogPosition, Op, OpError, OpId};
use fold::FestivalCtx;

/// How many out-of-order ops one author may park per festival before more are refused.
pub const MAX_PENDING_PER_LOG: i64 = 10_000;

/// A storage failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer Meadow.
    #[error("store schema version {found} is newer than this build supports ({supported})")]
    TooNew {
        /// Version found.
        found: usize,
        /// Newest version this build knows.
        supported: usize,
    },
    /// Stored data does not decode; the store was changed outside Meadow.
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// A locally made op was refused by validation.
    #[error("op rejected: {0}")]
    Rejected(RejectReason),
    /// A locally made op could not be built.
    #[error("{0}")]
    Op(#[from] OpError),
    /// Something named does not exist.
    #[error("{0} not found")]
    NotFound(String),
}

/// Why an op in a batch was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RejectReason {
    /// The bytes are not a valid op.
    #[error("{0}")]
    Invalid(#[from] OpError),
    /// The Lamport clock does not increase along the author's log.
    #[error("lamport clock {lamport} does not exceed its predecessor's {previous}")]
    LamportNotIncreasing {
        /// The op's clock.
        lamport: u64,
        /// The predecessor's clock.
        previous: u64,
    },
    /// The author already holds a different op at this position: equivocation, kept as evidence.
    #[error("equivocation: author already signed a different op at seq {0}")]
    Equivocation(u64),
    /// Too many ops of this log are waiting for their predecessors.
    #[error("too many out-of-order ops for this log")]
    PendingFull,
}

/// One op of a batch that was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its position in the batch.
    pub index: usize,
    /// Its id, when it decoded far enough to have one.
    pub id: Option<OpId>,
    /// Why.
    pub reason: RejectReason,
}

/// The outcome of ingesting a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Ops newly stored (including parked ops that could now be attached).
    pub stored: usize,
    /// Ops already held.
    pub duplicates: usize,
    /// Valid ops parked until their predecessors arrive.
    pub pending: usize,
    /// Ops refused, with reasons.
    pub rejected: Vec<Rejected>,
    /// Festivals whose programme may have changed.
    pub festivals: Vec<FestivalId>,
}

/// The SQLite store of one device.
pub struct Store {
    conn: Connection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.conn.path()).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Self::setup(conn)
    }

    /// A store that lives in memory only (tests, benchmarks).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Self, StoreError> {
        // Big pages suit this workload (rows of a few hundred bytes, many indexes, bulk ingest):
        // measurably faster ingest than 4 KiB. Only takes effect when the database is created.
        conn.pragma_update(None, "page_size", 16_384)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode never corrupts; a power cut may lose the last transactions, which
        // sync brings back.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // The bundled SQLite has STAT4, which re-prepares a statement whenever a parameter compared
        // with an indexed column changes value; with a stable plan the statement cache works.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        // A festival's working set (tens of MB at most) should stay in memory: reads through the
        // page cache or mmap, not a syscall per page.
        conn.pragma_update(None, "cache_size", -32_768)?;
        conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Checkpoint the WAL every 16 MB rather than 4: pages rewritten by consecutive batches are
        // then copied into the database once.
        conn.pragma_update(None, "wal_autocheckpoint", 4000)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// The underlying connection, for queries in this crate.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Decodes, verifies and ingests a batch of encoded ops.
    pub fn ingest_bytes<B: AsRef<[u8]>>(&mut self, batch: &[B]) -> Result<IngestReport, StoreError> {
        let mut rejected = Vec::new();
        let mut ops = Vec::with_capacity(batch.len());
        for (index, bytes) in batch.iter().enumerate() {
            match Op::decode(bytes.as_ref()) {
                Ok(op) => ops.push((index, op)),
                Err(e) => rejected.push(Rejected { index, id: None, reason: e.into() }),
            }
        }
        let mut report = self.ingest_indexed(ops)?;
        report.rejected.extend(rejected);
        report.rejected.sort_by_key(|r| r.index);
        Ok(report)
    }

    /// Verifies and ingests a batch of decoded ops in one transaction. Invalid ops are reported
    /// and skipped; valid ones are stored whatever else the batch holds.
    pub fn ingest(&mut self, ops: Vec<Op>) -> Result<IngestReport, StoreError> {
        self.ingest_indexed(ops.into_iter().enumerate().collect())
    }

    fn ingest_indexed(&mut self, ops: Vec<(usize, Op)>) -> Result<IngestReport, StoreError> {
        let mut report = IngestReport::default();
        // Skip what we hold before paying for signature checks: re-syncs and re-imports are
        // mostly duplicates.
        // Knowing each log's newest op answers "already held?" for most ops without a lookup.
        let mut seen_ids = HashSet::new();
        let mut fresh = Vec::with_capacity(ops.len());
        let mut heads = Heads::default();
        for (index, op) in ops {
            let fresh_op = seen_ids.insert(op.id()) && {
                let head = heads.get(&self.conn, &op.festival(), &op.author())?;
                let next_seq = head.map_or(0, |h| h.0 + 1);
                if op.seq() < next_seq {
                    // Either this very op, or another at its position: a fork, recorded once
                    // the signature shows the author really signed it.
                    let id: Option<Vec<u8>> = self
                        .conn
                        .prepare_cached("SELECT id FROM ops WHERE festival = ? AND author = ? AND seq = ?")?
                        .query_row(params![&op.festival().0[..], &op.author().0[..], op.seq() as i64], |r| r.get(0))
                        .optional()?;
                    id.as_deref() != Some(&op.id().0[..])
                } else if op.seq() > next_seq {
                    !self
                        .conn
                        .prepare_cached("SELECT EXISTS (SELECT 1 FROM pending_ops WHERE id = ?)")?
                        .query_row([&op.id().0[..]], |r| r.get::<_, bool>(0))?
                } else {
                    true
                }
            };
            if fresh_op {
                fresh.push((index, op));
            } else {
                report.duplicates += 1;
            }
        }
        if fresh.is_empty() {
            return Ok(report);
        }
        // Lamport order respects every log's order and puts creations before their edits.
        fresh.sort_by_key(|(_, op)| op.order_key());

        let tx = self.conn.transaction()?;
        let rev = next_rev(&tx)?;
        let mut ctxs: HashMap<FestivalId, FestivalCtx> = HashMap::new();
        let mut touched_logs: HashSet<(FestivalId, PublicKey)> = HashSet::new();
        // Signatures are checked on worker threads while this thread writes the ops already
        // checked: the two halves of ingest overlap.
        verify_pipelined(&fresh, |i, verdict| {
            let (index, op) = &fresh[i];
            if let Err(e) = verdict {
                report.rejected.push(Rejected { index: *index, id: Some(op.id()), reason: e.into() });
                return Ok(());
            }
            let f = op.festival();
            let ctx = match ctxs.entry(f) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(FestivalCtx::load(&tx, f)?),
            };
            match attach(&tx, ctx, &mut heads, op, rev)? {
                Attach::Stored => {
                    report.stored += 1;
                    touched_logs.insert((f, op.author()));
                }
                Attach::Pending => report.pending += 1,
                Attach::Rejected(reason) => report.rejected.push(Rejected { index: *index, id: Some(op.id()), reason }),
            }
            Ok(())
        })?;
        // Parked ops whose predecessors just arrived.
        for (f, author) in touched_logs {
            let Some(ctx) = ctxs.get_mut(&f) else { continue };
            loop {
                let next = tx
                    .prepare_cached(
                        "SELECT p.id, p.bytes FROM pending_ops p WHERE p.festival = ?1 AND p.author = ?2
                         AND p.seq = (SELECT MAX(seq) + 1 FROM ops WHERE festival = ?1 AND author = ?2)",
                    )?
                    .query_row([&f.0[..], &author.0[..]], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?)))
                    .optional()?;
                let Some((id, bytes)) = next else { break };
                tx.prepare_cached("DELETE FROM pending_ops WHERE id = ?")?.execute([&id])?;
                let op = Op::decode(&bytes).map_err(|e| StoreError::Corrupt(format!("pending op: {e}")))?;
                match attach(&tx, ctx, &mut heads, &op, rev)? {
                    Attach::Stored => {
                        report.stored += 1;
                        report.pending = report.pending.saturating_sub(1);
                    }
                    Attach::Pending => {}
                    Attach::Rejected(reason) => {
                        tracing::warn!(op = %op.id().short(), %reason, "parked op rejected");
                        report.pending = report.pending.saturating_sub(1);
                    }
                }
            }
        }
        for ctx in ctxs.values_mut() {
            if ctx.rebuild {
                fold::rebuild(&tx, ctx, rev)?;
            }
        }
        tx.commit()?;
        report.festivals = ctxs.into_keys().collect();
        Ok(report)
    }

    /// Signs `body` as the next op of `identity`'s log in `festival`, and stores it.
    pub fn append(
        &mut self,
        identity: &Identity,
        festival: FestivalId,
        body: Body,
        wall_time_ms: u64,
    ) -> Result<Op, StoreError> {
        let position = self.next_position(&festival, &identity.public())?;
        let op = Op::create(identity, festival, position, wall_time_ms, body)?;
        let report = self.ingest(vec![op.clone()])?;
        if let Some(r) = report.rejected.into_iter().next() {
            return Err(StoreError::Rejected(r.reason));
        }
        Ok(op)
    }

    /// Where `author`'s next op in `festival` goes, with a Lamport clock above every op held.
    pub fn next_position(&self, festival: &FestivalId, author: &PublicKey) -> Result<LogPosition, StoreError> {
        let last: Option<(i64, Vec<u8>)> = self
            .conn
            .prepare_cached("SELECT seq, id FROM ops WHERE festival = ? AND author = ? ORDER BY seq DESC LIMIT 1")?
            .query_row([&festival.0[..], &author.0[..]], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let max_lamport: Option<i64> = self
            .conn
            .prepare_cached("SELECT MAX(lamport) FROM ops WHERE festival = ?")?
            .query_row([&festival.0[..]], |r| r.get(0))?;
        let lamport = max_lamport.map_or(0, |l| l as u64 + 1);
        Ok(match last {
            None => LogPosition { seq: 0, backlink: None, lamport },
            Some((seq, id)) => LogPosition {
                seq: seq as u64 + 1,
                backlink: Some(OpId(id.try_into().map_err(|_| StoreError::Corrupt("op id".into()))?)),
                lamport,
            },
        })
    }

    /// Every stored op of a festival, in (Lamport, author) order.
    pub fn ops(&self, festival: &FestivalId) -> Result<Vec<Op>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT bytes FROM ops WHERE festival = ? ORDER BY lamport, author")?;
        let rows = stmt.query_map([&festival.0[..]], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|b| Op::decode(&b?).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))).collect()
    }

    /// The newest op of a festival in (Lamport, author) order: what a fork names as its origin.
    pub fn head_op(&self, festival: &FestivalId) -> Result<Option<OpId>, StoreError> {
        let id: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT id FROM ops WHERE festival = ? ORDER BY lamport DESC, author DESC LIMIT 1")?
            .query_row([&festival.0[..]], |r| r.get(0))
            .optional()?;
        id.map(|b| b.try_into().map(OpId).map_err(|_| StoreError::Corrupt("op id".into()))).transpose()
    }

    /// The festival's ops as sync items: (Lamport clock, op id), sorted.
    pub fn sync_items(&self, festival: &FestivalId) -> Result<crate::sync::Items, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT lamport, id FROM ops WHERE festival = ?")?;
        let mut rows = stmt.query([&festival.0[..]])?;
        let mut items = Vec::new();
        while let Some(r) = rows.next()? {
            let id: [u8; 32] = r.get::<_, Vec<u8>>(1)?.try_into().map_err(|_| StoreError::Corrupt("op id".into()))?;
            items.push(crate::sync::Item { lamport: r.get::<_, i64>(0)? as u64, id: OpId(id) });
        }
        Ok(crate::sync::Items::new(items))
    }

    /// Loads ops for a sync session with their priority class: 0 for announcements by official
    /// authors and the ops of their logs they need, 1 for other official ops, 2 for community ops.
    pub fn ops_for_sync(&self, festival: &FestivalId, ids: &[OpId]) -> Result<Vec<(u8, Op)>, StoreError> {
        let ctx = FestivalCtx::load(&self.conn, *festival)?;
        let mut stmt = self.conn.prepare_cached("SELECT bytes FROM ops WHERE id = ? AND festival = ?")?;
        let mut ops = Vec::with_capacity(ids.len());
        for id in ids {
            let bytes: Option<Vec<u8>> = stmt.query_row([&id.0[..], &festival.0[..]], |r| r.get(0)).optional()?;
            if let Some(b) = bytes {
                ops.push(Op::decode(&b).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))?);
            }
        }
        // The highest seq of each official author that carries an announcement in this batch:
        // that author's ops up to it travel first, so the announcement can be applied on arrival.
        let mut urgent: HashMap<PublicKey, u64> = HashMap::new();
        for op in &ops {
            if matches!(op.body(), Body::Announcement(_)) && ctx.roles.is_official(&op.author(), op.seq()) {
                let e = urgent.entry(op.author()).or_insert(0);
                *e = (*e).max(op.seq());
            }
        }
        Ok(ops
            .into_iter()
            .map(|op| {
                let class = if urgent.get(&op.author()).is_some_and(|&s| op.seq() <= s) {
                    0
                } else if ctx.roles.is_official(&op.author(), op.seq()) || op.body().is_role_op() {
                    1
                } else {
                    2
                };
                (class, op)
            })
            .collect())
    }

    /// A counter that grows with every batch that stored something: a cheap "did anything change".
    pub fn revision(&self) -> Result<i64, StoreError> {
        current_rev(&self.conn)
    }

    /// Number of stored ops (all festivals).
    pub fn op_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM ops", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Number of parked ops waiting for predecessors.
    pub fn pending_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM pending_ops", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Authors caught equivocating in a festival, with the first sequence number they forked at.
    pub fn forked_authors(&self, festival: &FestivalId) -> Result<Vec<(PublicKey, u64)>, StoreError> {
        let mut v: Vec<_> = fold::load_forks(&self.conn, festival)?.into_iter().collect();
        v.sort();
        Ok(v)
    }

    /// The conflicting ops kept as evidence of equivocation in a festival.
    pub fn fork_evidence(&self, festival: &FestivalId) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT evidence FROM forks WHERE festival = ? ORDER BY author, seq")?;
        let rows = stmt.query_map([&festival.0[..]], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Re-derives a festival's programme from its ops (also what [`Store::check`] compares with).
    pub fn rebuild(&mut self, festival: &FestivalId) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let rev = next_rev(&tx)?;
        let mut ctx = FestivalCtx::load(&tx, *festival)?;
        fold::rebuild(&tx, &mut ctx, rev)?;
        tx.commit()?;
        Ok(())
    }

    /// Checks SQLite's integrity and that the materialized programme equals a fresh fold of the
    /// ops; returns the problems found (empty when consistent).
    pub fn check(&mut self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let integrity: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            problems.push(format!("integrity_check: {integrity}"));
        }
        let festivals: Vec<Vec<u8>> = self
            .conn
            .prepare("SELECT DISTINCT festival FROM ops")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for f in festivals {
            let Ok(arr) = f.try_into() else { continue };
            let id = FestivalId(arr);
            let before = self.state_digest(&id)?;
            let tx = self.conn.transaction()?;
            let rev = current_rev(&tx)?;
            let mut ctx = FestivalCtx::load(&tx, id)?;
            fold::rebuild(&tx, &mut ctx, rev)?;
            let after = state_digest_conn(&tx, &id)?;
            // Only compare; never keep the check's rebuild.
            tx.rollback()?;
            if before != after {
                problems.push(format!("festival {}: materialized state differs from its ops", id.short()));
            }
        }
        Ok(problems)
    }

    /// A digest of a festival's materialized state: equal digests mean identical programmes.
    pub fn state_digest(&self, festival: &FestivalId) -> Result<String, StoreError> {
        state_digest_conn(&self.conn, festival)
    }
}

fn state_digest_conn(conn: &Connection, festival: &FestivalId) -> Result<String, StoreError> {
    let f = &festival.0[..];
    let mut h = blake3::Hasher::new();
    let queries = [
        "SELECT quote(owner), name, description, timezone, start_date, end_date, place, day_change FROM festivals WHERE id = ?",
        "SELECT quote(member), organiser, after_seq FROM roles WHERE festival = ? ORDER BY member",
        "SELECT quote(id), official, name, description, lat, lon, source_id, deleted FROM venues WHERE festival = ? ORDER BY id",
        "SELECT quote(id), quote(creator), official, title, subtitle, description, start, end, day, quote(venue), track, kind,
                tags, people, language, links, cancelled, source_id, deleted, hidden
         FROM events WHERE festival = ? ORDER BY id",
        "SELECT quote(id), quote(author), text, priority, expires, lamport, deleted FROM announcements WHERE festival = ? ORDER BY id",
        "SELECT quote(author), display_name, about FROM profiles WHERE festival = ? ORDER BY author",
        "SELECT quote(target), hidden FROM hides WHERE festival = ? ORDER BY target",
    ];
    for q in queries {
        let mut stmt = conn.prepare_cached(q)?;
        let n = stmt.column_count();
        let mut rows = stmt.query([f])?;
        while let Some(row) = rows.next()? {
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i)?;
                h.update(format!("{v:?}\u{1f}").as_bytes());
            }
            h.update(b"\n");
        }
        h.update(b"\x1e");
    }
    Ok(h.finalize().to_hex().to_string())
}

fn current_rev(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = 'rev'", [], |r| r.get(0))?)
}

fn next_rev(conn: &Connection) -> Result<i64, StoreError> {
    let rev = current_rev(conn)? + 1;
    conn.execute("UPDATE meta SET value = ? WHERE key = 'rev'", [rev])?;
    Ok(rev)
}

enum Attach {
    Stored,
    Pending,
    Rejected(RejectReason),
}

/// The newest stored op of each log touched by a batch: most ops of a batch chain onto these, so
/// chaining costs one lookup per log instead of two per op.
#[derive(Default)]
struct Heads(HashMap<(FestivalId, PublicKey), Option<LogHead>>);

/// Sequence number, id and Lamport clock of a log's newest stored op.
type LogHead = (u64, OpId, u64);

impl Heads {
    fn get(
        &mut self,
        conn: &Connection,
        f: &FestivalId,
        a: &PublicKey,
    ) -> Result<Option<(u64, OpId, u64)>, StoreError> {
        if let Some(h) = self.0.get(&(*f, *a)) {
            return Ok(*h);
        }
        let row: Option<(i64, Vec<u8>, i64)> = conn
            .prepare_cached(
                "SELECT seq, id, lamport FROM ops WHERE festival = ? AND author = ? ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([&f.0[..], &a.0[..]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let head = match row {
            Some((seq, id, lamport)) => {
                let id = OpId(id.try_into().map_err(|_| StoreError::Corrupt("op id".into()))?);
                Some((seq as u64, id, lamport as u64))
            }
            None => None,
        };
        self.0.insert((*f, *a), head);
        Ok(head)
    }
}

/// Chains one verified op onto its log: stores and applies it, parks it, or records a fork.
fn attach(
    conn: &Connection,
    ctx: &mut FestivalCtx,
    heads: &mut Heads,
    op: &Op,
    rev: i64,
) -> Result<Attach, StoreError> {
    let f = &op.festival().0[..];
    let a = &op.author().0[..];
    let seq = op.seq();
    let head = heads.get(conn, &op.festival(), &op.author())?;
    let next_seq = head.map_or(0, |h| h.0 + 1);
    if seq < next_seq {
        // That position is taken by another op (identical ones were filtered as duplicates).
        let kept: Vec<u8> = conn
            .prepare_cached("SELECT id FROM ops WHERE festival = ? AND author = ? AND seq = ?")?
            .query_row(params![f, a, seq as i64], |r| r.get(0))?;
        record_fork(conn, ctx, op, seq, &kept)?;
        return Ok(Attach::Rejected(RejectReason::Equivocation(seq)));
    }
    if seq > next_seq {
        let parked: i64 = conn
            .prepare_cached("SELECT COUNT(*) FROM pending_ops WHERE festival = ? AND author = ?")?
            .query_row(params![f, a], |r| r.get(0))?;
        if parked >= MAX_PENDING_PER_LOG {
            return Ok(Attach::Rejected(RejectReason::PendingFull));
        }
        conn.prepare_cached(
            "INSERT OR IGNORE INTO pending_ops (id, festival, author, seq, bytes) VALUES (?, ?, ?, ?, ?)",
        )?
        .execute(params![&op.id().0[..], f, a, seq as i64, op.bytes()])?;
        return Ok(Attach::Pending);
    }
    if let Some((prev_seq, prev_id, prev_lamport)) = head {
        if op.header().backlink != Some(prev_id) {
            // The author signed another op at seq - 1 than the one we hold.
            record_fork(conn, ctx, op, prev_seq, &prev_id.0)?;
            return Ok(Attach::Rejected(RejectReason::Equivocation(prev_seq)));
        }
        if op.lamport() <= prev_lamport {
            return Ok(Attach::Rejected(RejectReason::LamportNotIncreasing {
                lamport: op.lamport(),
                previous: prev_lamport,
            }));
        }
    }
    conn.prepare_cached(
        "INSERT INTO ops (id, festival, author, seq, lamport, kind, target, cap_day, bytes, rev)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        &op.id().0[..],
        f,
        a,
        seq as i64,
        op.lamport() as i64,
        op.body().kind_byte(),
        op.body().target().map(|t| t.0.to_vec()),
        fold::cap_day(op),
        op.bytes(),
        rev,
    ])?;
    heads.0.insert((op.festival(), op.author()), Some((seq, op.id(), op.lamport())));
    if op.body().is_role_op() {
        if fold::refresh_roles(conn, ctx)? {
            ctx.rebuild = true;
        }
        if matches!(op.body(), Body::FestivalCreate(_)) {
            ctx.rebuild = true;
        }
    }
    if !ctx.rebuild {
        fold::apply(conn, ctx, op, rev)?;
    }
    Ok(Attach::Stored)
}

fn record_fork(conn: &Connection, ctx: &mut FestivalCtx, op: &Op, seq: u64, kept: &[u8]) -> Result<(), StoreError> {
    tracing::warn!(author = %op.author().fingerprint(), seq, "equivocation: author signed two ops at one position");
    conn.prepare_cached("INSERT OR IGNORE INTO forks (festival, author, seq, kept, evidence) VALUES (?, ?, ?, ?, ?)")?
        .execute(params![&op.festival().0[..], &op.author().0[..], seq as i64, kept, op.bytes()])?;
    let entry = ctx.forks.entry(op.author()).or_insert(u64::MAX);
    if seq < *entry {
        *entry = seq;
        ctx.rebuild = true;
    }
    Ok(())
}

/// Verifies signatures on worker threads, in chunks, and hands each verdict to `on_result` on
/// the calling thread in input order, so the caller's writes overlap the next chunks' checks.
fn verify_pipelined(
    ops: &[(usize, Op)],
    mut on_result: impl FnMut(usize, Result<(), OpError>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    const CHUNK: usize = 32;
    // One core stays with the calling thread, whose database writes are the other half of ingest.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).saturating_sub(1).clamp(1, 8);
    if ops.len() <= CHUNK {
        for (i, (_, op)) in ops.iter().enumerate() {
            on_result(i, op.verify_signature())?;
        }
        return Ok(());
    }
    let chunks = ops.len().div_ceil(CHUNK);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Vec<Result<(), OpError>>)>();
        for _ in 0..threads {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || {
                loop {
                    let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if c >= chunks {
                        break;
                    }
                    let part = &ops[c * CHUNK..((c + 1) * CHUNK).min(ops.len())];
                    let verdicts = part.iter().map(|(_, op)| op.verify_signature()).collect();
                    if tx.send((c, verdicts)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut ready: HashMap<usize, Vec<Result<(), OpError>>> = HashMap::new();
        for want in 0..chunks {
            let verdicts = loop {
                if let Some(v) = ready.remove(&want) {
                    break v;
                }
                let (c, v) = rx.recv().map_err(|_| StoreError::Corrupt("signature verifier thread stopped".into()))?;
                ready.insert(c, v);
            };
            for (k, verdict) in verdicts.into_iter().enumerate() {
                on_result(want * CHUNK + k, verdict)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests;
