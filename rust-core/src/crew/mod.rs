//! Crews: small private groups inside a festival (friends, a band, a camp, one person's own
//! devices) whose members share favourites, where they are heading and a note, end to end
//! encrypted inside ordinary signed ops that any device stores and forwards. The scheme and
//! what it does not hide are in docs/protocol.md ("Crews") and docs/threat-model.md.
//!
//! This module holds the scheme's cryptography ([`crypto`]); the crew ops, their fold and the
//! node's calls build on it.

pub mod crypto;
pub mod invite;
pub mod ops;
pub mod state;
