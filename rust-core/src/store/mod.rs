//! SQLite storage: the op log, batched idempotent ingest with full validation, the materialized
//! programme (module `fold`), full-text search and the device-local tables (favourites, mutes, the
//! "seen" mark).

mod fold;
mod query;
mod schema;
mod summary;
mod sync_rows;

pub use query::{
    AgendaEntry, AnnouncementView, CLOCK_AHEAD_TOLERANCE_S, ChangeKind, ChangeView, Changes, Clash, EventDetail,
    EventView, Facets, FestivalView, NowNext, ProgrammeFilter, Slot, VenueView, agenda,
};
pub use schema::SCHEMA_VERSION;
pub use sync_rows::OpRow;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use thiserror::Error;

use crate::feed::{ChangeSet, Feed, Scopes};
use crate::identity::{Identity, PublicKey};
use crate::op::{Body, FestivalId, LogPosition, Op, OpError, OpId, rules};
use fold::FestivalCtx;

/// How many out-of-order ops one author may park per festival before more are refused.
pub const MAX_PENDING_PER_LOG: i64 = 2_000;
/// How many parked ops a device keeps in all; past it, the oldest go first.
pub const MAX_PENDING_TOTAL: i64 = 50_000;
/// How many bytes of parked ops one log may have waiting.
pub const MAX_PENDING_BYTES_PER_LOG: i64 = 1024 * 1024;
/// How many bytes of parked ops a device keeps in all; past it, the oldest go first.
pub const MAX_PENDING_BYTES: i64 = 64 * 1024 * 1024;
/// How long a parked op waits for its predecessor before it is dropped, in seconds. Parked ops
/// were never part of the store (nothing of them is shown or synced); a peer holding their
/// predecessors can always send them again.
pub const PARK_SECONDS: i64 = 7 * 24 * 3600;
/// How many conflicting ops are kept as evidence per forked author and festival: one proves the
/// fork; a few more let devices that hold different branches agree quickly.
pub const MAX_EVIDENCE_PER_AUTHOR: i64 = 8;

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
    /// The Lamport clock does not increase along the author's log, or runs ahead of its
    /// predecessor's by more than [`rules::MAX_CLOCK_STEP`].
    #[error("lamport clock {lamport} must exceed its predecessor's {previous} by 1 to {}", rules::MAX_CLOCK_STEP)]
    BadClock {
        /// The op's clock.
        lamport: u64,
        /// The predecessor's clock.
        previous: u64,
    },
    /// The author's log reached a limit of docs/protocol.md ("Rules of a log").
    #[error("log limit reached: {0}")]
    LogFull(&'static str),
    /// The author already holds a different op at this position: equivocation, kept as evidence.
    #[error("equivocation: author already signed a different op at seq {0}")]
    Equivocation(u64),
    /// Too many ops of this log are waiting for their predecessors.
    #[error("too many out-of-order ops for this log")]
    PendingFull,
    /// An earlier op of the same log in this batch was refused, so this one cannot chain.
    #[error("follows a refused op of the same log")]
    AfterRefused,
    /// The author forked their log at an earlier position: nothing after it counts, so nothing
    /// after it is stored.
    #[error("the author forked this log at seq {0}")]
    AfterFork(u64),
    /// The author's op at this earlier position broke a rule of its log, so nothing after it can
    /// ever chain here.
    #[error("the author's log broke a rule at seq {0}: nothing after it is kept")]
    LogClosed(u64),
}

impl RejectReason {
    /// Whether only a faulty or hostile peer sends such an op. Other refusals follow from what
    /// this device holds or has room for (a log it knows forked, a full parking space, a limit a
    /// newer release may have raised), so an honest peer meets them too and is not dropped.
    pub fn is_peer_fault(&self) -> bool {
        matches!(self, RejectReason::Invalid(_) | RejectReason::BadClock { .. })
    }
}

/// What [`Store::check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Damage or inconsistencies; [`Store::repair`] fixes those in derived state.
    pub problems: Vec<String>,
    /// Facts worth knowing that are not damage.
    pub notes: Vec<String>,
    /// Festivals whose materialized state differs from their ops.
    pub damaged: Vec<FestivalId>,
}

impl CheckReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
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
    /// What the batch changed, festival by festival: derived from the ops stored and the forks
    /// learnt, and what the store publishes to its feed once the batch is committed.
    pub changes: ChangeSet,
    /// Sync items of the ops stored, and festivals whose items changed otherwise (a fork
    /// learnt): what keeps the item cache current without reading it again.
    pub items: ItemChanges,
}

/// How a batch changed what the festivals' sync items are made of: what a cache of them needs
/// to follow the batch without reading them again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemChanges {
    /// (Lamport clock, id) of each op stored, by festival.
    pub added: Vec<(FestivalId, u64, OpId)>,
    /// Festivals whose items changed otherwise (a fork learnt): read them again.
    pub reset: HashSet<FestivalId>,
    /// The revision the batch moved the store to, if it moved it.
    pub rev: Option<i64>,
}

/// Where a store takes the time from: the wall clock, or a fixed time (tests). Only device-local
/// bookkeeping reads it (when an op was parked, when an author was first seen); nothing that
/// decides what ops mean does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    System,
    /// A fixed Unix time in seconds.
    Fixed(i64),
}

impl Clock {
    /// The time now, Unix seconds.
    pub fn now(self) -> i64 {
        match self {
            Clock::System => {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
            }
            Clock::Fixed(t) => t,
        }
    }

    /// The time now, Unix milliseconds.
    pub fn now_ms(self) -> u64 {
        match self {
            Clock::System => {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
            }
            Clock::Fixed(t) => (t.max(0) as u64).saturating_mul(1000),
        }
    }
}

/// The SQLite store of one device.
pub struct Store {
    conn: Connection,
    clock: Clock,
    /// Where every commit's changes go.
    feed: Feed,
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
        let found = schema::migrate(&mut conn)?;
        let mut store = Store { conn, clock: Clock::System, feed: Feed::new() };
        if found > 0 && found < schema::REBUILT_BY {
            for f in store.festivals_with_ops()? {
                tracing::info!(festival = %f.short(), "re-deriving the programme after a store upgrade");
                store.rebuild(&f)?;
            }
        }
        Ok(store)
    }

    /// Every festival this store holds ops of.
    fn festivals_with_ops(&self) -> Result<Vec<FestivalId>, StoreError> {
        let ids: Vec<Vec<u8>> = self
            .conn
            .prepare("SELECT DISTINCT festival FROM ops")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids.into_iter().filter_map(|b| b.try_into().ok().map(FestivalId)).collect())
    }

    /// Sets where the store takes the time from.
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// Where the store takes the time from.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// The feed this store publishes what each commit changed to.
    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// Tells the feed what a commit changed.
    pub(crate) fn publish(&self, changes: &ChangeSet) {
        self.feed.publish(changes);
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
        let now = self.clock.now();
        let tx = self.conn.transaction()?;
        let report = ingest_in(&tx, ops, now)?;
        tx.commit()?;
        self.publish(&report.changes);
        Ok(report)
    }

    /// Like [`Store::ingest`], but all or nothing: if any op is refused for a reason other than
    /// a fork (evidence of one, or an op past one, which a faithful copy of a store holding a
    /// forked log contains), nothing of the batch is stored. For files
    /// that must be taken whole, such as festival archives.
    pub fn ingest_all(&mut self, ops: Vec<Op>) -> Result<Result<IngestReport, Rejected>, StoreError> {
        let now = self.clock.now();
        let tx = self.conn.transaction()?;
        let report = ingest_in(&tx, ops.into_iter().enumerate().collect(), now)?;
        let fork = |r: &&Rejected| matches!(r.reason, RejectReason::Equivocation(_) | RejectReason::AfterFork(_));
        if let Some(bad) = report.rejected.iter().find(|r| !fork(r)) {
            let bad = bad.clone();
            tx.rollback()?;
            return Ok(Err(bad));
        }
        tx.commit()?;
        self.publish(&report.changes);
        Ok(Ok(report))
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
        let op = crate::op::LogWriter::new(festival, position).sign(identity, position.lamport, wall_time_ms, body)?;
        let report = self.ingest(vec![op.clone()])?;
        if let Some(r) = report.rejected.into_iter().next() {
            return Err(StoreError::Rejected(r.reason));
        }
        Ok(op)
    }

    /// How many ops and bytes of encoded ops `author`'s log in `festival` holds.
    pub fn log_size(&self, festival: &FestivalId, author: &PublicKey) -> Result<(u64, u64), StoreError> {
        Ok(read_log_head(&self.conn, festival, author)?.map_or((0, 0), |h| (h.seq + 1, h.bytes)))
    }

    /// Where `author`'s next op in `festival` goes. Its Lamport clock is one above every op held,
    /// but never more than [`rules::MAX_CLOCK_STEP`] above the author's previous op: a stranger's
    /// clock far ahead cannot make this author's next op invalid, it only sorts after it.
    pub fn next_position(&self, festival: &FestivalId, author: &PublicKey) -> Result<LogPosition, StoreError> {
        let head = read_log_head(&self.conn, festival, author)?;
        let max_lamport: Option<i64> = self
            .conn
            .prepare_cached("SELECT MAX(lamport) FROM ops WHERE festival = ?")?
            .query_row([&festival.0[..]], |r| r.get(0))?;
        let seen_next = max_lamport.map_or(0, |l| l as u64 + 1);
        Ok(match head {
            None => LogPosition { seq: 0, backlink: None, lamport: seen_next.min(rules::MAX_CLOCK_STEP) },
            Some(h) => LogPosition {
                seq: h.seq + 1,
                backlink: Some(h.id),
                lamport: seen_next.clamp(h.lamport + 1, h.lamport + rules::MAX_CLOCK_STEP),
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
        let mut stmt = self
            .conn
            .prepare_cached("SELECT evidence FROM forks WHERE festival = ? ORDER BY author, seq, evidence_id")?;
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
        self.publish(&ChangeSet::of(*festival, Scopes::SHARED));
        Ok(())
    }

    /// Checks SQLite's integrity, that every log's bookkeeping matches its ops, and that the
    /// materialized programme equals a fresh fold of the ops (which is what finds any damage an
    /// op could have done to state it had no right to touch). Changes nothing.
    pub fn check(&mut self) -> Result<CheckReport, StoreError> {
        let mut report = CheckReport::default();
        let integrity: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            report.problems.push(format!("integrity_check: {integrity}"));
        }
        let books = log_books(&self.conn)?;
        let mut bad_logs = 0;
        for ((f, a), want) in &books {
            if want.is_none() || read_log_head(&self.conn, f, a)? != *want {
                bad_logs += 1;
            }
        }
        // Rows of logs that hold no op at all.
        let rows: i64 = self.conn.query_row("SELECT COUNT(*) FROM logs", [], |r| r.get(0))?;
        bad_logs += (rows - books.len() as i64).max(0);
        if bad_logs > 0 {
            report.problems.push(format!("{bad_logs} log(s) whose bookkeeping does not match their ops"));
        }
        for id in self.festivals_with_ops()? {
            let before = self.state_digest(&id)?;
            let tx = self.conn.transaction()?;
            let rev = current_rev(&tx)?;
            let mut ctx = FestivalCtx::load(&tx, id)?;
            fold::rebuild(&tx, &mut ctx, rev)?;
            let after = state_digest_conn(&tx, &id)?;
            // Only compare; never keep the check's rebuild.
            tx.rollback()?;
            if before != after {
                report.problems.push(format!("festival {}: materialized state differs from its ops", id.short()));
                report.damaged.push(id);
            }
        }
        let foreign: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM ops o WHERE o.target IS NOT NULL AND (
               EXISTS (SELECT 1 FROM events e WHERE e.id = o.target AND e.festival != o.festival)
               OR EXISTS (SELECT 1 FROM venues v WHERE v.id = o.target AND v.festival != o.festival)
               OR EXISTS (SELECT 1 FROM announcements a WHERE a.id = o.target AND a.festival != o.festival))",
            [],
            |r| r.get(0),
        )?;
        let foreign_venues: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM events e JOIN venues v ON v.id = e.venue WHERE v.festival != e.festival",
            [],
            |r| r.get(0),
        )?;
        if foreign + foreign_venues > 0 {
            report.notes.push(format!(
                "{} op(s) name an entity of another festival; they have no effect there",
                foreign + foreign_venues
            ));
        }
        let legacy: i64 = self.conn.query_row("SELECT COUNT(*) FROM legacy_ops", [], |r| r.get(0))?;
        if legacy > 0 {
            report
                .notes
                .push(format!("{legacy} op(s) from a pre-release format are kept in legacy_ops, without effect"));
        }
        Ok(report)
    }

    /// Re-derives every festival that [`Store::check`] found damaged, and the log bookkeeping,
    /// from the signed ops (which are never changed).
    pub fn repair(&mut self) -> Result<CheckReport, StoreError> {
        let report = self.check()?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM logs", [])?;
        let mut logs = Logs { heads: log_books(&tx)?, ..Default::default() };
        logs.dirty = logs.heads.keys().copied().collect();
        logs.flush(&tx, 0)?;
        let rev = next_rev(&tx)?;
        let mut changes = ChangeSet::default();
        for f in &report.damaged {
            let mut ctx = FestivalCtx::load(&tx, *f)?;
            fold::rebuild(&tx, &mut ctx, rev)?;
            changes.add(*f, Scopes::SHARED);
        }
        tx.commit()?;
        self.publish(&changes);
        self.check()
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
        "SELECT quote(owner), name, description, timezone, start_date, end_date, place, day_change, community
         FROM festivals WHERE id = ?",
        "SELECT quote(author) FROM approvals WHERE festival = ? ORDER BY author",
        "SELECT quote(member), organiser, after_seq FROM roles WHERE festival = ? ORDER BY member",
        "SELECT quote(id), official, name, description, lat, lon, source_id, deleted, position FROM venues WHERE festival = ? ORDER BY id",
        "SELECT quote(id), quote(creator), official, title, subtitle, description, start, end, day, quote(venue), track, kind,
                tags, people, language, links, cancelled, source_id, deleted, hidden, orig_start, orig_end, quote(orig_venue),
                url, source_number, do_not_record, recording_license
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
    set_rev(conn, rev)?;
    Ok(rev)
}

fn set_rev(conn: &Connection, rev: i64) -> Result<(), StoreError> {
    conn.execute("UPDATE meta SET value = ? WHERE key = 'rev'", [rev])?;
    Ok(())
}

/// Verifies and ingests a batch inside the caller's transaction.
fn ingest_in(tx: &Connection, ops: Vec<(usize, Op)>, now: i64) -> Result<IngestReport, StoreError> {
    let mut report = IngestReport::default();
    // Skip what we hold before paying for signature checks: re-syncs and re-imports are mostly
    // duplicates. Knowing each log's head answers "already held?" for most ops without a lookup.
    let mut seen_ids = HashSet::new();
    let mut fresh = Vec::with_capacity(ops.len());
    let mut logs = Logs::default();
    for (index, op) in ops {
        let fresh_op = seen_ids.insert(op.id()) && {
            let head = logs.get(tx, &op.festival(), &op.author())?;
            let next_seq = head.map_or(0, |h| h.seq + 1);
            if op.seq() < next_seq {
                // This very op, evidence already kept, or another op at its position: a fork,
                // recorded once the signature shows the author really signed it.
                let id: Option<Vec<u8>> = tx
                    .prepare_cached("SELECT id FROM ops WHERE festival = ? AND author = ? AND seq = ?")?
                    .query_row(params![&op.festival().0[..], &op.author().0[..], op.seq() as i64], |r| r.get(0))
                    .optional()?;
                id.as_deref() != Some(&op.id().0[..])
                    && !tx
                        .prepare_cached("SELECT EXISTS (SELECT 1 FROM forks WHERE evidence_id = ?)")?
                        .query_row([&op.id().0[..]], |r| r.get::<_, bool>(0))?
            } else if op.seq() > next_seq {
                !tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM pending_ops WHERE id = ?)")?
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

    // The revision advances only if the batch stores something or learns of a fork: a flood of
    // refused ops must not look like a change (that would reload every session's items).
    let rev = current_rev(tx)? + 1;
    let mut changed = false;
    let mut ctxs: HashMap<FestivalId, FestivalCtx> = HashMap::new();
    let mut touched_logs: HashSet<(FestivalId, PublicKey)> = HashSet::new();
    // Logs with a refused op in this batch: their later ops are refused too instead of parking,
    // so an author past a limit cannot fill the parking space with the rest of a flood.
    let mut refused_logs: HashSet<(FestivalId, PublicKey)> = HashSet::new();
    // Signatures are checked on worker threads while this thread writes the ops already checked:
    // the two halves of ingest overlap.
    verify_pipelined(&fresh, |i, verdict| {
        let (index, op) = &fresh[i];
        let log = (op.festival(), op.author());
        if refused_logs.contains(&log) {
            report.rejected.push(Rejected { index: *index, id: Some(op.id()), reason: RejectReason::AfterRefused });
            return Ok(());
        }
        if let Err(e) = verdict {
            refused_logs.insert(log);
            report.rejected.push(Rejected { index: *index, id: Some(op.id()), reason: e.into() });
            return Ok(());
        }
        let f = op.festival();
        let ctx = match ctxs.entry(f) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(FestivalCtx::load(tx, f)?),
        };
        match attach(tx, ctx, &mut logs, op, rev, now)? {
            Attach::Stored => {
                report.stored += 1;
                report.changes.add(f, Scopes::of(op.body()));
                report.items.added.push((f, op.lamport(), op.id()));
                touched_logs.insert((f, op.author()));
            }
            Attach::Pending => report.pending += 1,
            Attach::Forked { at, recorded } => {
                changed |= recorded;
                if recorded {
                    report.changes.add(f, Scopes::SHARED);
                    report.items.reset.insert(f);
                }
                report.rejected.push(Rejected {
                    index: *index,
                    id: Some(op.id()),
                    reason: RejectReason::Equivocation(at),
                })
            }
            Attach::Rejected(reason) => {
                refused_logs.insert(log);
                report.rejected.push(Rejected { index: *index, id: Some(op.id()), reason })
            }
        }
        Ok(())
    })?;
    // Parked ops whose predecessors just arrived.
    for (f, author) in touched_logs {
        let Some(ctx) = ctxs.get_mut(&f) else { continue };
        loop {
            let next_seq = logs.get(tx, &f, &author)?.map_or(0, |h| h.seq + 1);
            let next = tx
                .prepare_cached("SELECT id, bytes FROM pending_ops WHERE festival = ? AND author = ? AND seq = ?")?
                .query_row(params![&f.0[..], &author.0[..], next_seq as i64], |r| {
                    Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
                })
                .optional()?;
            let Some((id, bytes)) = next else { break };
            tx.prepare_cached("DELETE FROM pending_ops WHERE id = ?")?.execute([&id])?;
            let op = Op::decode(&bytes).map_err(|e| StoreError::Corrupt(format!("pending op: {e}")))?;
            match attach(tx, ctx, &mut logs, &op, rev, now)? {
                Attach::Stored => {
                    report.stored += 1;
                    report.changes.add(f, Scopes::of(op.body()));
                    report.items.added.push((f, op.lamport(), op.id()));
                    report.pending = report.pending.saturating_sub(1);
                }
                Attach::Pending => {}
                Attach::Forked { recorded, .. } => {
                    changed |= recorded;
                    if recorded {
                        report.changes.add(f, Scopes::SHARED);
                        report.items.reset.insert(f);
                    }
                    report.pending = report.pending.saturating_sub(1);
                }
                Attach::Rejected(reason) => {
                    tracing::debug!(op = %op.id().short(), %reason, "parked op rejected");
                    report.pending = report.pending.saturating_sub(1);
                }
            }
        }
    }
    for (f, ctx) in ctxs.iter_mut() {
        if ctx.rebuild {
            fold::rebuild(tx, ctx, rev)?;
            report.changes.add(*f, Scopes::SHARED);
            changed = true;
        }
    }
    if changed || report.stored > 0 {
        set_rev(tx, rev)?;
        report.items.rev = Some(rev);
    }
    logs.flush(tx, now)?;
    expire_parked(tx, now)?;
    Ok(report)
}

/// Drops parked ops that waited longer than [`PARK_SECONDS`], then the oldest beyond
/// [`MAX_PENDING_TOTAL`] ops or [`MAX_PENDING_BYTES`]: a flood of ops whose predecessors never
/// come must not grow forever.
fn expire_parked(conn: &Connection, now: i64) -> Result<(), StoreError> {
    let old = conn.prepare_cached("DELETE FROM pending_ops WHERE parked_at < ?")?.execute([now - PARK_SECONDS])?;
    let (count, bytes): (i64, i64) = conn
        .prepare_cached("SELECT COUNT(*), COALESCE(SUM(LENGTH(bytes)), 0) FROM pending_ops")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut evicted = 0i64;
    if count > MAX_PENDING_TOTAL || bytes > MAX_PENDING_BYTES {
        let mut stmt = conn.prepare_cached("SELECT id, LENGTH(bytes) FROM pending_ops ORDER BY parked_at, id")?;
        let mut rows = stmt.query([])?;
        let (mut count, mut bytes) = (count, bytes);
        let mut doomed = Vec::new();
        while (count > MAX_PENDING_TOTAL || bytes > MAX_PENDING_BYTES)
            && let Some(r) = rows.next()?
        {
            doomed.push(r.get::<_, Vec<u8>>(0)?);
            bytes -= r.get::<_, i64>(1)?;
            count -= 1;
        }
        drop(rows);
        let mut del = conn.prepare_cached("DELETE FROM pending_ops WHERE id = ?")?;
        for id in doomed {
            evicted += del.execute([id])? as i64;
        }
    }
    if old > 0 || evicted > 0 {
        tracing::info!(expired = old, evicted, "dropped parked ops");
    }
    Ok(())
}

enum Attach {
    Stored,
    Pending,
    /// The author signed two ops at position `at`; `recorded` if this taught the device something
    /// (new evidence kept, or an earlier fork position).
    Forked {
        at: u64,
        recorded: bool,
    },
    Rejected(RejectReason),
}

/// A log's newest stored op and what the log has cost so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LogHead {
    seq: u64,
    id: OpId,
    lamport: u64,
    bytes: u64,
    ext_bytes: u64,
    profiles: u64,
    revocations: u64,
}

fn read_log_head(conn: &Connection, f: &FestivalId, a: &PublicKey) -> Result<Option<LogHead>, StoreError> {
    type Row = (i64, Vec<u8>, i64, i64, i64, i64, i64);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT seq, head, lamport, bytes, ext_bytes, profiles, revocations FROM logs
             WHERE festival = ? AND author = ?",
        )?
        .query_row([&f.0[..], &a.0[..]], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })
        .optional()?;
    row.map(|(seq, id, lamport, bytes, ext_bytes, profiles, revocations)| {
        Ok(LogHead {
            seq: seq as u64,
            id: OpId(id.try_into().map_err(|_| StoreError::Corrupt("log head".into()))?),
            lamport: lamport as u64,
            bytes: bytes as u64,
            ext_bytes: ext_bytes as u64,
            profiles: profiles as u64,
            revocations: revocations as u64,
        })
    })
    .transpose()
}

/// Every log's bookkeeping as ingest keeps it, re-derived from the stored ops themselves (one
/// pass, each op decoded), for checking and repairing the `logs` table.
/// Logs whose stored ops leave a gap count as broken (`None`).
fn log_books(conn: &Connection) -> Result<HashMap<(FestivalId, PublicKey), Option<LogHead>>, StoreError> {
    let mut logs = Logs::default();
    let mut broken = HashSet::new();
    let mut stmt = conn.prepare("SELECT bytes FROM ops ORDER BY festival, author, seq")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let op = Op::decode(&r.get::<_, Vec<u8>>(0)?).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))?;
        let key = (op.festival(), op.author());
        let prev = logs.heads.entry(key).or_insert(None);
        if op.seq() != prev.map_or(0, |h| h.seq + 1) {
            broken.insert(key);
        }
        logs.advance(&op);
    }
    Ok(logs.heads.into_iter().map(|(k, h)| (k, h.filter(|_| !broken.contains(&k)))).collect())
}

/// The heads of the logs a batch touches, read once and written back once per batch: most ops of
/// a batch chain onto these, so chaining costs one lookup per log instead of two per op.
#[derive(Default)]
struct Logs {
    heads: HashMap<(FestivalId, PublicKey), Option<LogHead>>,
    dirty: HashSet<(FestivalId, PublicKey)>,
    /// Logs whose first op arrived in this batch: their authors are seen for the first time.
    new: HashSet<(FestivalId, PublicKey)>,
}

impl Logs {
    fn get(&mut self, conn: &Connection, f: &FestivalId, a: &PublicKey) -> Result<Option<LogHead>, StoreError> {
        if let Some(h) = self.heads.get(&(*f, *a)) {
            return Ok(*h);
        }
        let head = read_log_head(conn, f, a)?;
        self.heads.insert((*f, *a), head);
        Ok(head)
    }

    fn advance(&mut self, op: &Op) {
        let key = (op.festival(), op.author());
        let prev = self.heads.get(&key).copied().flatten();
        if prev.is_none() {
            self.new.insert(key);
        }
        let len = op.bytes().len() as u64;
        let ext = if op.is_extension() { op.body_bytes().len() as u64 } else { 0 };
        self.heads.insert(
            key,
            Some(LogHead {
                seq: op.seq(),
                id: op.id(),
                lamport: op.lamport(),
                bytes: prev.map_or(0, |p| p.bytes) + len,
                ext_bytes: prev.map_or(0, |p| p.ext_bytes) + ext,
                profiles: prev.map_or(0, |p| p.profiles) + u64::from(matches!(op.body(), Body::Profile(_))),
                revocations: prev.map_or(0, |p| p.revocations)
                    + u64::from(matches!(op.body(), Body::RoleRevoke { .. })),
            }),
        );
        self.dirty.insert(key);
    }

    fn flush(&mut self, conn: &Connection, now: i64) -> Result<(), StoreError> {
        let mut upsert = conn.prepare_cached(
            "INSERT INTO logs (festival, author, seq, head, lamport, bytes, ext_bytes, profiles, revocations)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (festival, author) DO UPDATE
             SET seq = ?3, head = ?4, lamport = ?5, bytes = ?6, ext_bytes = ?7, profiles = ?8, revocations = ?9",
        )?;
        let mut seen =
            conn.prepare_cached("INSERT OR IGNORE INTO authors_seen (festival, author, first_seen) VALUES (?, ?, ?)")?;
        for key in self.dirty.drain() {
            let Some(Some(h)) = self.heads.get(&key) else { continue };
            upsert.execute(params![
                &key.0.0[..],
                &key.1.0[..],
                h.seq as i64,
                &h.id.0[..],
                h.lamport as i64,
                h.bytes as i64,
                h.ext_bytes as i64,
                h.profiles as i64,
                h.revocations as i64
            ])?;
        }
        for key in self.new.drain() {
            seen.execute(params![&key.0.0[..], &key.1.0[..], now])?;
        }
        Ok(())
    }
}

/// Chains one verified op onto its log: stores and applies it, parks it, or records a fork.
fn attach(
    conn: &Connection,
    ctx: &mut FestivalCtx,
    logs: &mut Logs,
    op: &Op,
    rev: i64,
    now: i64,
) -> Result<Attach, StoreError> {
    let f = &op.festival().0[..];
    let a = &op.author().0[..];
    let seq = op.seq();
    let head = logs.get(conn, &op.festival(), &op.author())?;
    let next_seq = head.map_or(0, |h| h.seq + 1);
    if let Some(&at) = ctx.forks.get(&op.author())
        && seq > at
    {
        return Ok(Attach::Rejected(RejectReason::AfterFork(at)));
    }
    if seq < next_seq {
        // That position is taken by another op (identical ones were filtered as duplicates).
        let kept: Vec<u8> = conn
            .prepare_cached("SELECT id FROM ops WHERE festival = ? AND author = ? AND seq = ?")?
            .query_row(params![f, a, seq as i64], |r| r.get(0))?;
        let recorded = record_fork(conn, ctx, op, seq, &kept)?;
        return Ok(Attach::Forked { at: seq, recorded });
    }
    if seq > next_seq {
        let closed: Option<i64> = conn
            .prepare_cached("SELECT seq FROM closed_logs WHERE festival = ? AND author = ?")?
            .query_row(params![f, a], |r| r.get(0))
            .optional()?;
        match closed {
            // Still closed: the log has not grown past the op that broke the rule.
            Some(at) if at as u64 == next_seq => return Ok(Attach::Rejected(RejectReason::LogClosed(at as u64))),
            // The author signed another op at that position, which was stored: the log is open
            // again, as on a device that never saw the refused op.
            Some(_) => {
                conn.prepare_cached("DELETE FROM closed_logs WHERE festival = ? AND author = ?")?
                    .execute(params![f, a])?;
            }
            None => {}
        }
        let (parked, parked_bytes): (i64, i64) = conn
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(bytes)), 0) FROM pending_ops WHERE festival = ? AND author = ?",
            )?
            .query_row(params![f, a], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if parked >= MAX_PENDING_PER_LOG || parked_bytes + op.bytes().len() as i64 > MAX_PENDING_BYTES_PER_LOG {
            return Ok(Attach::Rejected(RejectReason::PendingFull));
        }
        conn.prepare_cached(
            "INSERT OR IGNORE INTO pending_ops (id, festival, author, seq, bytes, parked_at) VALUES (?, ?, ?, ?, ?, ?)",
        )?
        .execute(params![&op.id().0[..], f, a, seq as i64, op.bytes(), now])?;
        return Ok(Attach::Pending);
    }
    if let Some(h) = head {
        if op.header().backlink != Some(h.id) {
            // The author signed another op at seq - 1 than the one we hold. The fork is placed
            // at this op's own position, which every device can check against the op it holds
            // there (or the head it holds before it), so all agree on where the log forked.
            let recorded = record_fork(conn, ctx, op, seq, &h.id.0)?;
            return Ok(Attach::Forked { at: seq, recorded });
        }
        if op.lamport() <= h.lamport || op.lamport() - h.lamport > rules::MAX_CLOCK_STEP {
            return close_log(conn, op, RejectReason::BadClock { lamport: op.lamport(), previous: h.lamport });
        }
    }
    let (bytes, ext, profiles, revocations) =
        head.map_or((0, 0, 0, 0), |h| (h.bytes, h.ext_bytes, h.profiles, h.revocations));
    if seq + 1 > rules::MAX_LOG_OPS {
        return close_log(conn, op, RejectReason::LogFull("ops per log"));
    }
    if bytes + op.bytes().len() as u64 > rules::MAX_LOG_BYTES {
        return close_log(conn, op, RejectReason::LogFull("bytes per log"));
    }
    if op.is_extension() && ext + op.body_bytes().len() as u64 > rules::MAX_EXTENSION_BYTES_PER_LOG {
        return close_log(conn, op, RejectReason::LogFull("extension-kind bytes per log"));
    }
    if matches!(op.body(), Body::Profile(_)) && profiles >= rules::MAX_PROFILE_OPS_PER_LOG {
        return close_log(conn, op, RejectReason::LogFull("profile ops per log"));
    }
    if matches!(op.body(), Body::RoleRevoke { .. }) && revocations >= rules::MAX_REVOCATIONS_PER_LOG {
        return close_log(conn, op, RejectReason::LogFull("role revocations per log"));
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
    logs.advance(op);
    if matches!(op.body(), Body::FestivalCreate(_)) {
        ctx.rebuild = true;
    } else if op.body().is_role_op() {
        if let Body::RoleGrant { member, .. } = op.body() {
            conn.prepare_cached("INSERT OR IGNORE INTO role_named (festival, member) VALUES (?, ?)")?
                .execute(params![f, &member.0[..]])?;
        }
        // A role op by somebody no grant ever named changes nothing now (roles are recomputed
        // from every stored role op when a grant names them later), so a flood of them from
        // community keys costs no recomputation.
        if !ctx.rebuild && may_change_roles(conn, ctx, &op.author())? && fold::refresh_roles(conn, ctx)? {
            ctx.rebuild = true;
        }
    }
    if !ctx.rebuild {
        fold::apply(conn, ctx, op, rev)?;
    }
    Ok(Attach::Stored)
}

/// Whether a role op by `key` can change the festival's roles: the owner's, a member's (a former
/// member's too) or one by a key some stored grant names, counted or not (it may count once the
/// grant's issuer does, and a revocation that stood at an earlier stage keeps its effect).
fn may_change_roles(conn: &Connection, ctx: &FestivalCtx, key: &PublicKey) -> Result<bool, StoreError> {
    if ctx.roles.owner == Some(*key) || ctx.roles.members.contains_key(key) {
        return Ok(true);
    }
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM role_named WHERE festival = ? AND member = ?)")?
        .query_row(params![&ctx.id.0[..], &key.0[..]], |r| r.get::<_, bool>(0))?)
}

/// Refuses `op`, the next op of its log, for breaking a rule of its log: the log can never grow
/// past it here, so its parked successors go and later ones are not parked.
fn close_log(conn: &Connection, op: &Op, reason: RejectReason) -> Result<Attach, StoreError> {
    let (f, a, seq) = (&op.festival().0[..], &op.author().0[..], op.seq() as i64);
    tracing::debug!(author = %op.author().fingerprint(), seq, %reason, "log closed");
    conn.prepare_cached("INSERT OR IGNORE INTO closed_logs (festival, author, seq) VALUES (?, ?, ?)")?
        .execute(params![f, a, seq])?;
    conn.prepare_cached("DELETE FROM pending_ops WHERE festival = ? AND author = ? AND seq > ?")?
        .execute(params![f, a, seq])?;
    Ok(Attach::Rejected(reason))
}

/// Records that `op` conflicts with the op `kept` at position `seq` of its author's log. Of the
/// evidence, the [`MAX_EVIDENCE_PER_AUTHOR`] lowest (fork position, own position, id) are kept
/// (so the earliest fork is never forgotten), so devices end up
/// holding the same evidence whatever order it reached them in. Returns whether anything was
/// learnt.
fn record_fork(conn: &Connection, ctx: &mut FestivalCtx, op: &Op, seq: u64, kept: &[u8]) -> Result<bool, StoreError> {
    let (f, a) = (&op.festival().0[..], &op.author().0[..]);
    let mut learnt = false;
    let entry = ctx.forks.entry(op.author()).or_insert(u64::MAX);
    if seq < *entry {
        tracing::warn!(author = %op.author().fingerprint(), seq, "equivocation: author signed two ops at one position");
        *entry = seq;
        ctx.rebuild = true;
        learnt = true;
    }
    let worst: Option<(i64, i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT seq, ev_seq, evidence_id FROM forks WHERE festival = ? AND author = ?
             ORDER BY seq, ev_seq, evidence_id LIMIT 1 OFFSET ?",
        )?
        .query_row(params![f, a, MAX_EVIDENCE_PER_AUTHOR - 1], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let mine = (seq as i64, op.seq() as i64, op.id().0.to_vec());
    if let Some(w) = &worst {
        // Full: the new piece displaces the highest one if it ranks lower.
        if mine >= *w {
            return Ok(learnt);
        }
    }
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO forks (festival, author, seq, evidence_id, ev_seq, lamport, kept, evidence)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )?
        .execute(params![f, a, seq as i64, &op.id().0[..], op.seq() as i64, op.lamport() as i64, kept, op.bytes()])?;
    if inserted > 0 {
        learnt = true;
        conn.prepare_cached(
            "DELETE FROM forks WHERE festival = ?1 AND author = ?2 AND evidence_id NOT IN (
               SELECT evidence_id FROM forks WHERE festival = ?1 AND author = ?2
               ORDER BY seq, ev_seq, evidence_id LIMIT ?3)",
        )?
        .execute(params![f, a, MAX_EVIDENCE_PER_AUTHOR])?;
    }
    Ok(learnt)
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
pub(crate) mod tests;
