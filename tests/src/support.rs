//! Small helpers the integration tests share: nodes behind a lock, what they hold, and waiting
//! on a condition with a bound.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meadow_core::net::SharedNode;
use meadow_core::node::Node;
use meadow_core::op::FestivalId;

/// A node behind the lock networking shares.
pub fn shared(n: Node) -> SharedNode {
    Arc::new(Mutex::new(n))
}

/// The digest of what `n` derived for festival `f`: equal digests, equal programmes.
pub fn digest(n: &SharedNode, f: &FestivalId) -> String {
    n.lock().expect("lock").store().state_digest(f).expect("digest")
}

/// How many ops `n` stores.
pub fn op_count(n: &SharedNode) -> u64 {
    n.lock().expect("lock").store().op_count().expect("count")
}

/// Waits until `ok` holds, failing the test with `what` after `limit`.
pub async fn eventually(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "{what} did not happen within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
