//! What a running node does on the network, decided once for every front end (the CLI's `serve`,
//! the apps through the bindings): listen on the port it used before (so the invites it gave out
//! stay good across restarts), sync every festival with each peer it finds on the LAN, keep in
//! touch with the peers its festivals were joined from (reconnecting with backoff when they go
//! away and come back), push live updates, and tell the change feed when its status changes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::{Invite, Net, NetConfig, NetError, NetStats, SharedNode};
use crate::feed::ChangeSet;
use crate::node::Node;
use crate::op::FestivalId;

/// Setting: the invites of the peers this device joined festivals from (JSON list of texts).
const PEERS: &str = "net.peers";
/// Setting: this node's address as it last listened (JSON), for `meadow invite`.
const ADDR: &str = "net.addr";
/// Setting: the port this node last listened on.
const PORT: &str = "net.port";
/// Status changes closer together than this reach the change feed as one.
const STATUS_COALESCE: Duration = Duration::from_millis(250);

/// The invites of the peers this device joined festivals from, oldest first.
pub fn remembered_peers(node: &Node) -> Result<Vec<Invite>, NetError> {
    let Some(json) = node.setting(PEERS)? else { return Ok(Vec::new()) };
    // A setting this release cannot read is no reason to refuse networking: it is rewritten on
    // the next join.
    let texts: Vec<String> = serde_json::from_str(&json).unwrap_or_default();
    Ok(texts.iter().filter_map(|t| Invite::parse(t).ok()).collect())
}

/// Remembers the peer of an invite, so that the node keeps in touch with it from now on. One
/// entry per peer and festival: a newer invite replaces the old one's addresses.
pub fn remember_peer(node: &mut Node, invite: &Invite) -> Result<(), NetError> {
    let mut peers = remembered_peers(node)?;
    peers.retain(|p| !(p.festival == invite.festival && p.peer.id == invite.peer.id));
    peers.push(invite.clone());
    let texts: Vec<String> = peers.iter().map(Invite::to_text).collect();
    let json = serde_json::to_string(&texts).map_err(|e| NetError::Task(e.to_string()))?;
    node.set_setting(PEERS, &json)?;
    Ok(())
}

/// The address this node last listened on, as invites name it; `None` if it never has.
pub fn last_address(node: &Node) -> Result<Option<iroh::EndpointAddr>, NetError> {
    Ok(node.setting(ADDR)?.and_then(|json| serde_json::from_str(&json).ok()))
}

/// Networking as an app shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NetStatus {
    /// Whether networking runs.
    pub running: bool,
    /// Invite to the open festival, as a `meadow://` link, while running.
    pub invite: Option<String>,
    /// Peers connected.
    pub peers: u32,
    /// Sessions finished.
    pub sessions: u64,
    /// Ops received over the network.
    pub ops_received: u64,
    /// When a sync with a peer last finished (Unix seconds), if one has.
    pub last_sync: Option<i64>,
}

/// A node on the network, running by itself until stopped.
pub struct Networking {
    net: Arc<Net>,
    node: SharedNode,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Networking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Networking").field("net", &self.net).finish_non_exhaustive()
    }
}

impl Networking {
    /// Starts everything: listens (on `cfg.bind`; with port 0, on the port used last time if it
    /// is free), finds peers on the LAN when `cfg.mdns` is set, and keeps in touch with every
    /// remembered peer. Needs a tokio runtime.
    pub async fn start(node: SharedNode, cfg: NetConfig) -> Result<Networking, NetError> {
        let (last_port, peers, feed) = {
            let n = lock(&node)?;
            (n.setting(PORT)?.and_then(|p| p.parse::<u16>().ok()), remembered_peers(&n)?, n.feed())
        };
        let net = match last_port {
            Some(port) if cfg.bind.port() == 0 && port != 0 => {
                let mut again = cfg.clone();
                again.bind.set_port(port);
                match Net::start(node.clone(), again).await {
                    Ok(net) => net,
                    Err(NetError::Bind(e)) => {
                        tracing::info!(port, error = %e, "the last port is taken; listening on another");
                        Net::start(node.clone(), cfg).await?
                    }
                    Err(e) => return Err(e),
                }
            }
            _ => Net::start(node.clone(), cfg).await?,
        };
        let net = Arc::new(net);
        {
            let addr = net.addr();
            let mut n = lock(&node)?;
            n.set_setting(ADDR, &serde_json::to_string(&addr).map_err(|e| NetError::Task(e.to_string()))?)?;
            if let Some(p) = addr.ip_addrs().next() {
                n.set_setting(PORT, &p.port().to_string())?;
            }
        }
        let mut tasks: Vec<JoinHandle<()>> = net.sync_discovered().into_iter().collect();
        tasks.extend(peers.into_iter().map(|i| net.keep_connected(i.peer, i.festival)));
        tasks.push(tokio::spawn(tell_status(net.clone(), feed)));
        Ok(Networking { net, node, tasks: Mutex::new(tasks) })
    }

    /// Joins a festival from an invite: fetches it from the invite's peer, selects it, remembers
    /// the peer and keeps in touch with it from now on (also after a restart).
    pub async fn join(&self, invite: &Invite) -> Result<crate::sync::Stats, NetError> {
        let stats = self.net.join(invite).await?;
        self.keep(invite).await?;
        Ok(stats)
    }

    /// Remembers the invite's peer and keeps in touch with it from now on.
    pub async fn keep(&self, invite: &Invite) -> Result<(), NetError> {
        let (node, kept) = (self.node.clone(), invite.clone());
        let new = tokio::task::spawn_blocking(move || {
            let mut n = lock(&node)?;
            let known = remembered_peers(&n)?.iter().any(|p| p.festival == kept.festival && p.peer.id == kept.peer.id);
            remember_peer(&mut n, &kept)?;
            Ok::<_, NetError>(!known)
        })
        .await
        .map_err(|e| NetError::Task(e.to_string()))??;
        if new && let Ok(mut tasks) = self.tasks.lock() {
            tasks.push(self.net.keep_connected(invite.peer.clone(), invite.festival));
        }
        Ok(())
    }

    /// The network node underneath: sessions on demand, invites, the address.
    pub fn net(&self) -> &Arc<Net> {
        &self.net
    }

    /// An invite to a festival, pointing at this node.
    pub fn invite(&self, festival: FestivalId) -> Invite {
        self.net.invite(festival)
    }

    /// Counters so far.
    pub fn stats(&self) -> NetStats {
        self.net.stats()
    }

    /// What an app shows of networking, with an invite to `festival` (the one it has open).
    pub fn status(&self, festival: Option<FestivalId>) -> NetStatus {
        let s = self.stats();
        NetStatus {
            running: true,
            invite: festival.map(|f| self.invite(f).to_link()),
            peers: u32::try_from(s.peers).unwrap_or(u32::MAX),
            sessions: s.sessions,
            ops_received: s.ops_received,
            last_sync: s.last_sync_ms.map(|ms| (ms / 1000) as i64),
        }
    }

    /// Stops every task and closes every connection.
    pub async fn stop(&self) {
        let tasks = self.tasks.lock().map(|mut t| std::mem::take(&mut *t)).unwrap_or_default();
        for t in tasks {
            t.abort();
        }
        self.net.shutdown().await;
        self.node.lock().map(|n| n.feed().publish(&ChangeSet::network())).ok();
    }
}

impl Drop for Networking {
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.get_mut() {
            tasks.drain(..).for_each(|t| t.abort());
        }
    }
}

fn lock(node: &SharedNode) -> Result<std::sync::MutexGuard<'_, Node>, NetError> {
    node.lock().map_err(|_| NetError::Poisoned)
}

/// Tells the change feed whenever peers or counters change, a burst as one change: screens
/// showing the status read it then, instead of asking on a timer.
async fn tell_status(net: Arc<Net>, feed: crate::feed::Feed) {
    feed.publish(&ChangeSet::network());
    loop {
        net.changed().await;
        tokio::time::sleep(STATUS_COALESCE).await;
        feed.publish(&ChangeSet::network());
    }
}
