//! Shared helpers for Meadow's workspace integration tests and the benchmark.
