//! What the apps get that is not one of the core's read models (those, in `meadow_core::view`,
//! cross the boundary as they are): the change feed's message, how a native link session ended,
//! and a log's usage with its warning.

use meadow_core::feed::Scope;
use meadow_core::node::SessionEnd;
use meadow_core::view::DayView;

/// Where the list's "now" line goes among a day view's rows at `now` (Unix seconds): before the
/// first row that has not started, while now lies within the day; none on another day.
#[uniffi::export]
pub fn now_line(view: &DayView, now: i64) -> Option<u32> {
    let rows: Vec<(i64, i64)> = view.rows.iter().map(|r| (r.start, r.end)).collect();
    meadow_core::view::now_line(&rows, now).map(|i| i as u32)
}

/// What changed, as the change feed tells it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StoreChange {
    /// The festival that changed (hex), or none when a device setting (such as the current
    /// festival) changed.
    pub festival: Option<String>,
    /// Which parts of it.
    pub scopes: Vec<Scope>,
    /// Networking's status changed (peers, sessions, started or stopped): read `net_status`.
    pub network: bool,
}

/// How a sync over a native link ended.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LinkEnd {
    /// Both sides hold the same ops now; otherwise it failed (ops that arrived whole are kept).
    pub finished: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// The festival synced, once known.
    pub festival: Option<String>,
    /// Ops received.
    pub ops_received: u64,
    /// Ops sent.
    pub ops_sent: u64,
    /// Bytes received, frames included.
    pub bytes_received: u64,
    /// Bytes sent, frames included.
    pub bytes_sent: u64,
}

impl LinkEnd {
    /// The record for a session's end.
    pub(crate) fn new(end: SessionEnd, festival: Option<String>, stats: meadow_core::sync::Stats) -> Self {
        let error = match end {
            SessionEnd::Finished(_) => None,
            SessionEnd::Failed(e) => Some(e.to_string()),
        };
        LinkEnd {
            finished: error.is_none(),
            error,
            festival,
            ops_received: stats.ops_received,
            ops_sent: stats.ops_sent,
            bytes_received: stats.bytes_received,
            bytes_sent: stats.bytes_sent,
        }
    }
}

/// What this device's key has spent of its log in a festival (see the core's `node::budget`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogUsage {
    /// Ops in the log.
    pub ops: u64,
    /// Bytes of encoded ops in the log.
    pub bytes: u64,
    /// Percent of the share for programme changes used.
    pub percent: u64,
    /// What to tell an organiser from 75 % on; `None` before.
    pub warning: Option<String>,
}

impl From<meadow_core::node::budget::LogUsage> for LogUsage {
    fn from(u: meadow_core::node::budget::LogUsage) -> Self {
        LogUsage { ops: u.ops, bytes: u.bytes, percent: u.percent(), warning: u.warning() }
    }
}
