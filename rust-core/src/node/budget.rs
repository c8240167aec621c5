//! How much of its log this device's key has spent in a festival, and the part of it kept for
//! warnings: every device refuses a log past 16 MiB or 100,000 ops (docs/protocol.md), and
//! imports of a programme spend it, so this node stops signing programme ops short of that, and
//! keeps the rest for announcements and role changes. An organiser whose programme has used up
//! its share can still post "storm: leave the field", and can still have a new key named.

use crate::op::{Body, FestivalId, Op, rules};

use super::{Node, NodeError};

/// Bytes of every log kept for announcements and role changes (about 450 of the longest
/// announcements).
pub const RESERVED_BYTES: u64 = 1024 * 1024;
/// Ops of every log kept for announcements and role changes.
pub const RESERVED_OPS: u64 = 2_000;
/// From this share of the programme budget on, writes come with a warning.
pub const WARN_AT_PERCENT: u64 = 75;

/// What this device's key has spent of its log in one festival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogUsage {
    /// Ops in the log.
    pub ops: u64,
    /// Bytes of encoded ops in the log.
    pub bytes: u64,
}

impl LogUsage {
    /// Bytes programme ops may still use (the reserve excluded).
    pub fn programme_bytes_left(&self) -> u64 {
        (rules::MAX_LOG_BYTES - RESERVED_BYTES).saturating_sub(self.bytes)
    }

    /// Ops programme ops may still use.
    pub fn programme_ops_left(&self) -> u64 {
        (rules::MAX_LOG_OPS - RESERVED_OPS).saturating_sub(self.ops)
    }

    /// Percent of the programme budget used, by bytes or ops, whichever is further.
    pub fn percent(&self) -> u64 {
        let by_bytes = self.bytes * 100 / (rules::MAX_LOG_BYTES - RESERVED_BYTES);
        let by_ops = self.ops * 100 / (rules::MAX_LOG_OPS - RESERVED_OPS);
        by_bytes.max(by_ops)
    }

    /// A warning for the organiser once three quarters of the programme budget are used.
    pub fn warning(&self) -> Option<String> {
        (self.percent() >= WARN_AT_PERCENT).then(|| {
            format!(
                "your log in this festival is {}% full for programme changes ({:.1} of {:.1} MiB, {} of {} ops); \
                 {:.1} MiB stay kept for announcements. When it is full, have the owner name a new key of yours \
                 as organiser (meadow organiser add KEY) and go on with that key",
                self.percent().min(100),
                mib(self.bytes),
                mib(rules::MAX_LOG_BYTES - RESERVED_BYTES),
                self.ops,
                rules::MAX_LOG_OPS - RESERVED_OPS,
                mib(RESERVED_BYTES)
            )
        })
    }

    /// Whether `ops` fit: programme ops within the programme budget, announcements and role
    /// changes within the whole log.
    pub fn check(&self, ops: &[Op]) -> Result<(), NodeError> {
        let bytes: u64 = ops.iter().map(|o| o.bytes().len() as u64).sum();
        let count = ops.len() as u64;
        let reserved = ops.iter().all(|o| uses_reserve(o.body()));
        let (max_bytes, max_ops) = if reserved {
            (rules::MAX_LOG_BYTES, rules::MAX_LOG_OPS)
        } else {
            (rules::MAX_LOG_BYTES - RESERVED_BYTES, rules::MAX_LOG_OPS - RESERVED_OPS)
        };
        if self.bytes + bytes > max_bytes || self.ops + count > max_ops {
            return Err(NodeError::Invalid(format!(
                "this needs {:.1} MiB and {count} ops of your log in this festival, which has {:.1} MiB and {} ops \
                 left for {}; nothing was stored. Have the owner name a new key of yours as organiser \
                 (meadow organiser add KEY) and go on with that key",
                mib(bytes),
                mib(max_bytes.saturating_sub(self.bytes)),
                max_ops.saturating_sub(self.ops),
                if reserved { "anything" } else { "programme changes (the rest is kept for announcements)" },
            )));
        }
        Ok(())
    }
}

/// Announcements and role changes may use the reserve: they warn people, and they name the key
/// an organiser goes on with.
fn uses_reserve(body: &Body) -> bool {
    matches!(body, Body::Announcement(_) | Body::RoleGrant { .. } | Body::RoleRevoke { .. })
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

impl Node {
    /// What this device's key has spent of its log in `festival`.
    pub fn log_usage(&self, festival: &FestivalId) -> Result<LogUsage, NodeError> {
        let (ops, bytes) = self.store.log_size(festival, &self.public_key())?;
        Ok(LogUsage { ops, bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_for_warnings_and_the_warning_comes_early() {
        let half = LogUsage { ops: 10, bytes: rules::MAX_LOG_BYTES / 2 };
        assert_eq!(half.warning(), None);
        let late = LogUsage { ops: 10, bytes: (rules::MAX_LOG_BYTES - RESERVED_BYTES) * 4 / 5 };
        assert!(late.warning().is_some_and(|w| w.contains("80% full") && w.contains("organiser add")));
        let full = LogUsage { ops: 10, bytes: rules::MAX_LOG_BYTES - RESERVED_BYTES };
        assert_eq!(full.programme_bytes_left(), 0);
        assert!(uses_reserve(&Body::Announcement(crate::op::Announcement {
            text: "Storm".into(),
            priority: crate::op::Priority::Emergency,
            expires: None
        })));
        assert!(!uses_reserve(&Body::Delete { target: crate::op::OpId([0; 32]) }));
    }
}
