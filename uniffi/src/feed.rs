//! Change notifications for the apps: a listener subscribed to the core's change feed, called on
//! a thread of its own, and the handle that ends the subscription.

use std::sync::Arc;

use meadow_core::feed::{ChangeSet, Subscription};

use crate::records::StoreChange;

/// Why a listener could not take a change (whatever it threw).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ListenerError {
    /// The listener failed.
    #[error("{reason}")]
    Failed {
        /// What it said.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for ListenerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        ListenerError::Failed { reason: e.reason }
    }
}

/// Told what changed in the store, whatever brought the change (a local action, an import, a
/// peer over the internet or the local network, a native link).
#[uniffi::export(with_foreign)]
pub trait ChangeListener: Send + Sync {
    /// Something changed. Called on a thread of the subscription's own, never while the node is
    /// busy, so the listener may read from the node. Whatever it throws is logged.
    fn on_change(&self, change: StoreChange) -> Result<(), ListenerError>;
}

/// A subscription to the change feed. Closing it (Kotlin `close()`, `use {}`; Swift: letting go
/// of it) ends it: the listener hears nothing more.
#[derive(uniffi::Object)]
pub struct ChangeSubscription {
    subscription: Subscription,
}

impl ChangeSubscription {
    /// Starts telling `listener` of every change from now on.
    pub(crate) fn start(subscription: Subscription, listener: Arc<dyn ChangeListener>) -> Arc<Self> {
        let feed = subscription.clone();
        let spawned = std::thread::Builder::new().name("meadow-changes".into()).spawn(move || {
            while let Some(changes) = feed.wait(None) {
                for change in records(&changes) {
                    // A listener that throws must not end the subscription or reach the others.
                    if let Err(e) = listener.on_change(change) {
                        tracing::warn!(error = %e, "a change listener failed");
                    }
                }
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the change listener thread");
            subscription.close();
        }
        Arc::new(ChangeSubscription { subscription })
    }
}

#[uniffi::export]
impl ChangeSubscription {
    /// Whether the subscription still runs.
    pub fn is_active(&self) -> bool {
        !self.subscription.is_closed()
    }

    /// Ends the subscription now (also what dropping the handle does).
    pub fn cancel(&self) {
        self.subscription.close();
    }
}

impl Drop for ChangeSubscription {
    fn drop(&mut self) {
        self.subscription.close();
    }
}

/// One record per festival that changed, then one for device settings and networking.
fn records(changes: &ChangeSet) -> Vec<StoreChange> {
    let mut out: Vec<StoreChange> = changes
        .festivals
        .iter()
        .map(|(f, scopes)| StoreChange { festival: Some(f.to_hex()), scopes: scopes.iter().collect(), network: false })
        .collect();
    if changes.settings || changes.network {
        out.push(StoreChange { festival: None, scopes: Vec::new(), network: changes.network });
    }
    out
}
