//! Meadow core: identity, signed operation logs, the festival model and its SQLite store.
//!
//! Data flows one way: a front end calls [`node::Node`]; the node writes ops through [`op`] into
//! [`store`]; [`model`] holds the pure rules by which ops fold into programme state, and [`view`]
//! the read models every front end shows.

pub mod crew;
pub mod demo;
pub mod exchange;
pub mod feed;
pub mod identity;
pub mod model;
pub mod net;
pub mod node;
pub mod op;
pub mod proximity;
pub mod store;
pub mod sync;
pub mod view;
pub mod wire;

// With the `uniffi` feature the core is a uniffi component of its own (`meadow_core`): the read
// models, ids and scopes cross to Kotlin and Swift as the core defines them, and the bindings
// crate (`meadow_ffi`) only adds the node's calls.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
