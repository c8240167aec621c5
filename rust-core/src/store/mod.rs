//! SQLite storage: the op log, batched idempotent ingest with full validation, the materialized
//! programme (module `fold`), full-text search and the device-local tables (favourites, mutes, the
//! "seen" mark).

mod check;
mod crews;
mod fold;
mod ingest;
mod local;
mod logs;
mod provenance;
mod query;
mod schema;
mod summary;
mod sync_rows;

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
use logs::*;

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
    /// Programme listings' start times, shared by their pages (see [`query::Starts`]).
    starts: std::sync::Mutex<query::Starts>,
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
        let mut store = Store { conn, clock: Clock::System, feed: Feed::new(), starts: Default::default() };
        if found > 0 && found < schema::REBUILT_BY {
            for f in store.festivals_with_ops()? {
                tracing::info!(festival = %f.short(), "re-deriving the programme after a store upgrade");
                store.rebuild(&f)?;
            }
        }
        if found > 0 && found < schema::VACUUMED_BY {
            // Not fatal: the free pages are reused by later writes all the same.
            match store.conn.execute_batch("VACUUM") {
                Ok(()) => tracing::info!("compacted the store after its upgrade"),
                Err(e) => tracing::warn!(error = %e, "could not compact the store after its upgrade"),
            }
        }
        Ok(store)
    }

    /// Every festival this store holds ops of.
    fn festivals_with_ops(&self) -> Result<Vec<FestivalId>, StoreError> {
        let ids: Vec<Vec<u8>> = self
            .conn
            .prepare("SELECT key FROM keys WHERE n IN (SELECT DISTINCT festival FROM ops)")?
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

#[cfg(test)]
pub(crate) mod tests;
