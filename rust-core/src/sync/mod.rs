//! Sync: a sans-IO reconciliation session that two devices run over any byte stream (a QUIC
//! stream, a Wi-Fi Direct socket, a Bluetooth L2CAP channel, or a simulated link in tests) to end
//! up with the same ops for a festival. Range-based set reconciliation over (Lamport, op id)
//! fingerprints: a few dozen bytes when both agree, close to the missing ops themselves when not.
//! Official ops travel first, announcements first of all.

pub mod items;
pub mod message;
pub mod packed;
pub mod session;
pub mod source;
#[cfg(test)]
mod store_tests;

pub use items::{Bound, Item, Items};
pub use message::{ErrorCode, Message, Mode, Range, RangeList};
pub use session::{Class, Config, Output, Planned, Role, Session, Stats, SyncError, items_of};
pub use source::{ItemCache, SyncStore, festival_items, plan};
