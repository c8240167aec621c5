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

/// Signs `body` as the next op of `who`'s log and gives it to `node` as if it came from `who`'s
/// device: how a test plays another participant against a node.
pub fn append_as(
    node: &mut Node,
    who: &meadow_core::identity::Identity,
    festival: FestivalId,
    body: meadow_core::op::Body,
    wall_time_ms: u64,
) -> Result<meadow_core::op::Op, meadow_core::node::NodeError> {
    let next = node.store().next_position(&festival, &who.public())?;
    let op = meadow_core::op::LogWriter::new(festival, next).sign(who, next.lamport, wall_time_ms, body)?;
    let report = node.ingest(vec![op.clone()])?;
    match report.rejected.into_iter().next() {
        Some(r) => Err(meadow_core::store::StoreError::Rejected(r.reason).into()),
        None => Ok(op),
    }
}

/// For a test whose system tool is missing: returns (the caller then skips) only when
/// `MEADOW_SKIP_SYSTEM_TESTS` is set, and otherwise fails naming the script that installs it, so
/// that the README's test command (which runs that script first) never passes by skipping.
pub fn skip_for_missing(what: &str) {
    if std::env::var_os("MEADOW_SKIP_SYSTEM_TESTS").is_some() {
        eprintln!("skipped (MEADOW_SKIP_SYSTEM_TESTS is set): {what}");
        return;
    }
    panic!("{what}: run scripts/install-deps.sh (./test.sh does), or set MEADOW_SKIP_SYSTEM_TESTS=1 to skip");
}
