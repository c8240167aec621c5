//! Live updates: while a connection to a peer stays open, a change to the local store starts
//! a fresh session with that peer for the festival that changed, one at a time per peer.

use super::*;

/// Pushes a change to one peer for one festival; while a push runs, further changes wait for it
/// and then cause one more, so a burst of changes costs at most two sessions per peer.
pub(super) fn live_push(inner: &Arc<Inner>, conn: Connection, festival: FestivalId) {
    let key = (conn.remote_id(), festival);
    {
        let Ok(mut live) = inner.live.lock() else { return };
        match live.get_mut(&key) {
            Some(state) => {
                *state = Live::Again;
                return;
            }
            None => {
                live.insert(key, Live::Running);
            }
        }
    }
    let inner = inner.clone();
    tokio::spawn(async move {
        loop {
            let outcome = initiate(&inner, &conn, festival, Some(&inner.live_slots)).await;
            let failed = !matches!(outcome, Ok(SessionEnd::Finished(_)));
            if failed {
                tracing::debug!(peer = %key.0.fmt_short(), "live update failed; no more updates to this peer");
                inner.forget(key.0);
            }
            let Ok(mut live) = inner.live.lock() else { return };
            if !failed && live.get(&key) == Some(&Live::Again) {
                live.insert(key, Live::Running);
                continue;
            }
            live.remove(&key);
            return;
        }
    });
}

/// Pushes new ops to connected peers: whenever the change feed says a festival's ops changed
/// (written here or received from any peer or link), a session with every peer sharing it. The
/// feed is told at commit time, so a push starts as soon as the op is stored, with no polling.
pub(super) async fn live_loop(inner: Arc<Inner>, changes: Subscription) {
    while let Some(changed) = changes.next().await {
        let targets: Vec<(Connection, FestivalId)> = inner
            .peers
            .lock()
            .map(|p| {
                p.values()
                    .flat_map(|peer| {
                        peer.festivals
                            .iter()
                            .filter(|f| changed.scopes(f).touches_ops())
                            .map(|f| (peer.conn.clone(), *f))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (conn, festival) in targets {
            live_push(&inner, conn, festival);
        }
    }
}
