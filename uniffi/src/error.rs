//! The one error enum the apps see, and parsing of the ids they pass in.

use meadow_core::identity::PublicKey;
use meadow_core::net::NetError;
use meadow_core::node::NodeError;
use meadow_core::op::{FestivalId, OpId};

/// An error, with a message fit to show.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum MeadowError {
    /// Input that does not make a valid change.
    #[error("{reason}")]
    Invalid {
        /// Why.
        reason: String,
    },
    /// One field of a form is wrong: shown beside that field.
    #[error("{field}: {reason}")]
    InvalidField {
        /// The field, as the core names it (`title`, `start`, `end`, `venue`, `name`, ...).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Something named does not exist.
    #[error("{reason}")]
    NotFound {
        /// What.
        reason: String,
    },
    /// The identity lacks the role the action needs.
    #[error("{reason}")]
    NotPermitted {
        /// Why.
        reason: String,
    },
    /// No festival is selected.
    #[error("no current festival")]
    NoFestival,
    /// A peer could not be reached, or a sync with it failed.
    #[error("{reason}")]
    Network {
        /// What happened.
        reason: String,
    },
    /// Storage or the device failed.
    #[error("{reason}")]
    Internal {
        /// What failed.
        reason: String,
    },
}

impl MeadowError {
    /// An internal failure.
    pub(crate) fn internal(reason: impl std::fmt::Display) -> Self {
        MeadowError::Internal { reason: reason.to_string() }
    }

    /// `e`, said at the form field `field`.
    pub(crate) fn at(field: &str, e: MeadowError) -> Self {
        MeadowError::InvalidField { field: field.to_owned(), reason: e.to_string() }
    }

    /// Input the apps passed that cannot be used.
    pub(crate) fn invalid(reason: impl std::fmt::Display) -> Self {
        MeadowError::Invalid { reason: reason.to_string() }
    }
}

impl From<NodeError> for MeadowError {
    fn from(e: NodeError) -> Self {
        // The one place that decides what the apps see, and what is only logged.
        match e {
            NodeError::Invalid(reason) => MeadowError::Invalid { reason },
            NodeError::Field { field, reason } => MeadowError::InvalidField { field: field.to_owned(), reason },
            NodeError::NotFound(what) => MeadowError::NotFound { reason: format!("{what} not found") },
            NodeError::NotPermitted(reason) => MeadowError::NotPermitted { reason },
            NodeError::NoFestival => MeadowError::NoFestival,
            other => {
                tracing::error!(error = %other, "internal error");
                MeadowError::internal(other)
            }
        }
    }
}

impl From<NetError> for MeadowError {
    fn from(e: NetError) -> Self {
        match e {
            NetError::Node(n) => n.into(),
            NetError::Connect(reason) => MeadowError::Network { reason: format!("cannot reach the peer: {reason}") },
            NetError::Sync(s) => MeadowError::Network { reason: format!("sync failed: {s}") },
            other => MeadowError::internal(other),
        }
    }
}

/// A festival id the apps passed (hex).
pub(crate) fn festival_id(hex: &str) -> Result<FestivalId, MeadowError> {
    FestivalId::from_hex(hex).ok_or_else(|| MeadowError::invalid(format!("not a festival id: {hex:?}")))
}

/// A public key the apps passed (hex).
pub(crate) fn public_key(hex: &str) -> Result<PublicKey, MeadowError> {
    PublicKey::from_hex(hex).map_err(MeadowError::invalid)
}

/// An event or venue id the apps passed (hex).
pub(crate) fn op_id(hex: &str) -> Result<OpId, MeadowError> {
    OpId::from_hex(hex).ok_or_else(|| MeadowError::invalid(format!("not an id: {hex:?}")))
}

/// A date the apps passed (`YYYY-MM-DD`).
pub(crate) fn date(text: &str) -> Result<jiff::civil::Date, MeadowError> {
    text.parse().map_err(|_| MeadowError::invalid(format!("not a date: {text:?}")))
}
