//! Meadow for Kotlin and Swift: one [`MeadowNode`] object, the core's read models as they are (`meadow_core::view`), one
//! error enum, the change feed as listener subscriptions, and sync over native links. This crate
//! only translates types; every rule lives in meadow-core.
//!
//! Calls that touch the store or the network are async (Kotlin `suspend`, Swift `async`) and run
//! on the node's own threads.

mod crews;
mod error;
mod feed;
mod forms;
mod link;
mod node;
mod proximity;
mod records;

pub use error::MeadowError;
pub use feed::{ChangeListener, ChangeSubscription, ListenerError};
pub use forms::{EventChanges, EventForm, NewEvent, ProgrammeQuery};
pub use link::{Link, LinkSession};
pub use node::MeadowNode;
pub use proximity::{Encounters, LinkOutcome, ProximityState, ProximityUuids, RadioAction, proximity_uuids};
pub use records::{LinkEnd, LogUsage, StoreChange, now_line};

uniffi::setup_scaffolding!();
