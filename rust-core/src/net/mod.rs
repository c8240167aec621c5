//! Internet and LAN networking over iroh (QUIC): an endpoint per node with a key derived from the
//! device identity, one ALPN per sync protocol version, local discovery over mDNS, invite tickets,
//! and live updates. This module only moves bytes: every session is a [`crate::sync::Session`]
//! driven over a QUIC bidirectional stream, and the node answers what the session asks.
//!
//! Live updates: while a connection to a peer stays open, a change to the local store (a new op,
//! written here or received from any peer or link, as the node's change feed tells it) starts a
//! fresh session with every connected peer for the festival that changed. A session between peers that agree costs a few dozen bytes, so
//! this needs no second protocol (no gossip overlay to run on phones), and the same code path heals
//! everything a dropped link missed.
//!
//! Resources stay bounded whatever peers do: a session produces its next frame only once the
//! stream took the last one, a peer that stops reading is dropped after [`WRITE_TIMEOUT`], sessions
//! are capped per peer and in all, connections in all, QUIC buffers per connection, and at most one
//! live update per peer and festival is in flight. Store work runs on blocking threads, never on
//! the async workers.

mod driver;
mod live;
mod networking;
pub mod ticket;

pub use networking::{NetStatus, Networking, last_address, remember_peer, remembered_peers};
pub use ticket::Invite;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iroh::endpoint::{Connection, QuicTransportConfig, RecvStream, SendStream, VarInt, presets};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, EndpointAddr, EndpointId, SecretKey};
use thiserror::Error;

use crate::feed::Subscription;
use crate::node::{Node, NodeError, SessionEnd};
use crate::op::FestivalId;
use crate::sync::{ErrorCode, Message, Session, SyncError};
use driver::*;
use live::*;

/// The ALPN of sync protocol version 1.
pub const ALPN: &[u8] = b"meadow/sync/1";
/// Sessions a node runs at once, with all peers together.
pub const MAX_SESSIONS: usize = 16;
/// Sessions a node runs at once with one peer.
pub const MAX_SESSIONS_PER_PEER: usize = 4;
/// Connections a node keeps open at once. When a new one comes past it, the connection idle
/// longest (no session running) is closed to make room; with none idle, the newcomer is refused.
pub const MAX_CONNECTIONS: usize = 256;
/// Live updates being pushed at once, to all peers together: each holds a session of ours.
pub const MAX_LIVE_PUSHES: usize = 8;
/// A live push lasts at most this long: it carries what changed, not a whole festival (a peer
/// that lacks that much syncs itself), so a peer that reads slowly holds a push slot briefly.
pub const LIVE_PUSH_MAX: Duration = Duration::from_secs(60);
/// A peer that takes no bytes of a frame for this long is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(20);
/// A session that made no progress (no frame taken, nothing read) for this long gives up its slot
/// when another peer needs one: a peer that stops reading loses to a peer that reads.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(3);
/// How long opening a stream to a peer may take before the peer counts as gone.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting to a peer may take before it counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes read from a stream at once: enough for large store batches on a fast link, little
/// enough that sessions hold little.
const READ_BYTES: usize = 1024 * 1024;
/// Bytes of frames a session produces per step, before the stream has taken them: a few frames,
/// so that blocking steps are not paid per frame, while a peer that does not read holds this much.
const STEP_BYTES: usize = 64 * 1024;

/// Why networking failed.
#[derive(Debug, Error)]
pub enum NetError {
    /// The endpoint could not be bound.
    #[error("cannot listen: {0}")]
    Bind(String),
    /// The peer could not be reached.
    #[error("cannot reach peer: {0}")]
    Connect(String),
    /// The node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A task holding the node panicked.
    #[error("node lock poisoned")]
    Poisoned,
    /// The peer answered, but the session failed.
    #[error("sync failed: {0}")]
    Sync(SyncError),
    /// A blocking store task failed to run.
    #[error("store task failed: {0}")]
    Task(String),
}

/// How to run networking.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Address to listen on (port 0 picks one).
    pub bind: SocketAddr,
    /// Announce and find peers on the local network with mDNS.
    pub mdns: bool,
    /// Sync session limits.
    pub sync: crate::sync::Config,
}

impl NetConfig {
    /// Loopback only, no discovery: for tests and benchmarks.
    pub fn loopback() -> Self {
        NetConfig { bind: SocketAddr::from(([127, 0, 0, 1], 0)), mdns: false, sync: crate::sync::Config::default() }
    }

    /// All interfaces on `port`, with mDNS: what `meadow serve` runs.
    pub fn lan(port: u16) -> Self {
        NetConfig { bind: SocketAddr::from(([0, 0, 0, 0], port)), mdns: true, ..NetConfig::loopback() }
    }
}

/// Counters for a status line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Peers with an open connection.
    pub peers: usize,
    /// Sessions that finished.
    pub sessions: u64,
    /// Sessions that failed.
    pub failures: u64,
    /// Sessions refused because a limit was reached.
    pub refused: u64,
    /// Ops received.
    pub ops_received: u64,
    /// Ops sent.
    pub ops_sent: u64,
    /// When a session last finished (Unix milliseconds).
    pub last_sync_ms: Option<u64>,
}

/// A node shared between the front end and network tasks.
pub type SharedNode = Arc<Mutex<Node>>;

struct Peer {
    conn: Connection,
    festivals: HashSet<FestivalId>,
}

/// A live update to one peer for one festival: running, or running with another change waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Live {
    Running,
    Again,
}

/// What the node knows of a session it answers: when it last made progress, and how to end it.
#[derive(Debug, Clone, Default)]
struct Progress {
    last_ms: Arc<AtomicU64>,
    cancel: Arc<tokio::sync::Notify>,
}

/// The sessions this node answers: by number, with their peer and progress.
#[derive(Default)]
struct Answering {
    active: HashMap<u64, (EndpointId, Progress)>,
    per_peer: HashMap<EndpointId, usize>,
}

impl Answering {
    fn remove(&mut self, number: u64) -> Option<Progress> {
        let (peer, progress) = self.active.remove(&number)?;
        if let Some(n) = self.per_peer.get_mut(&peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&peer);
            }
        }
        Some(progress)
    }

    /// The session to end so that `peer`, holding `own` sessions, gets a slot: the one stalled
    /// longest (for at least [`STALL_TIMEOUT`]), else the newest of the peer holding the most
    /// sessions if that is more than `own + 1` (every peer gets one before any gets two).
    fn victim(&self, peer: EndpointId, own: usize, now: u64) -> Option<u64> {
        let limit = STALL_TIMEOUT.as_millis() as u64;
        let stalled = self
            .active
            .iter()
            .map(|(number, (_, p))| (*number, now.saturating_sub(p.last_ms.load(Ordering::Relaxed))))
            .filter(|(_, idle)| *idle >= limit)
            .max_by_key(|(_, idle)| *idle);
        if let Some((number, _)) = stalled {
            return Some(number);
        }
        let (heaviest, n) = self.per_peer.iter().filter(|(p, _)| **p != peer).max_by_key(|(_, n)| **n)?;
        if *n <= own + 1 {
            return None;
        }
        self.active.iter().filter(|(_, (p, _))| p == heaviest).map(|(number, _)| *number).max()
    }
}

/// What the node knows of an open connection: when a session on it last moved, and how many run.
#[derive(Debug, Default)]
struct ConnState {
    last_ms: AtomicU64,
    sessions: AtomicUsize,
}

struct Inner {
    node: SharedNode,
    cfg: NetConfig,
    started: Instant,
    stats: Mutex<NetStats>,
    peers: Mutex<HashMap<EndpointId, Peer>>,
    answering: Mutex<Answering>,
    next_session: AtomicU64,
    /// Open connections, by their stable id.
    conns: Mutex<HashMap<usize, (Connection, Arc<ConnState>)>>,
    live: Mutex<HashMap<(EndpointId, FestivalId), Live>>,
    live_slots: Arc<tokio::sync::Semaphore>,
    /// Woken when the counters or the set of peers change, for whoever shows the status.
    changed: tokio::sync::Notify,
    /// Peers local discovery found, while it still sees them: what they send came over the LAN.
    lan: Mutex<HashSet<EndpointId>>,
}

impl Inner {
    /// How ops a peer sends reach this device, for their provenance.
    fn arrival(&self, peer: EndpointId) -> crate::view::Arrival {
        let lan = self.lan.lock().is_ok_and(|l| l.contains(&peer));
        let via = if lan { crate::view::Via::Lan } else { crate::view::Via::Iroh };
        crate::view::Arrival::from_peer(via, peer.to_string())
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("cfg", &self.cfg).finish()
    }
}

/// A session slot: one of [`MAX_SESSIONS`] and one of the peer's [`MAX_SESSIONS_PER_PEER`],
/// given back when dropped (unless another session took it over first).
struct Slot {
    inner: Arc<Inner>,
    number: u64,
    progress: Progress,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut a) = self.inner.answering.lock() {
            a.remove(self.number);
        }
    }
}

/// Keeps a connection in the registry while it is served.
struct ConnGuard(Arc<Inner>, usize);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if let Ok(mut conns) = self.0.conns.lock() {
            conns.remove(&self.1);
        }
    }
}

/// Marks a session running on a connection, and its progress, until dropped.
struct ConnUse(Arc<ConnState>);

impl ConnUse {
    fn touch(&self, now: u64) {
        self.0.last_ms.fetch_max(now, Ordering::Relaxed);
    }
}

impl Drop for ConnUse {
    fn drop(&mut self) {
        self.0.sessions.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Inner {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Registers a connection to serve, closing the one idle longest if all places are taken.
    /// `None` if every connection has a session running.
    fn admit(self: &Arc<Self>, conn: &Connection) -> Option<ConnGuard> {
        let mut conns = self.conns.lock().ok()?;
        if conns.len() >= MAX_CONNECTIONS {
            let idle = conns
                .iter()
                .filter(|(_, (_, st))| st.sessions.load(Ordering::Relaxed) == 0)
                .min_by_key(|(id, (_, st))| (st.last_ms.load(Ordering::Relaxed), **id))
                .map(|(id, _)| *id)?;
            if let Some((old, _)) = conns.remove(&idle) {
                tracing::debug!(peer = %old.remote_id().fmt_short(), "closing an idle connection for a new one");
                old.close(5u32.into(), b"idle");
            }
        }
        let state = Arc::new(ConnState::default());
        state.last_ms.store(self.now_ms(), Ordering::Relaxed);
        conns.insert(conn.stable_id(), (conn.clone(), state));
        Some(ConnGuard(self.clone(), conn.stable_id()))
    }

    /// Marks a session starting on `conn`.
    fn use_conn(&self, conn: &Connection) -> ConnUse {
        let state =
            self.conns.lock().ok().and_then(|c| c.get(&conn.stable_id()).map(|(_, st)| st.clone())).unwrap_or_default();
        state.sessions.fetch_add(1, Ordering::Relaxed);
        state.last_ms.fetch_max(self.now_ms(), Ordering::Relaxed);
        ConnUse(state)
    }

    /// A slot for a session `peer` opened. When all are taken, the session [`Answering::victim`]
    /// names hands its slot over at once; when there is none, the newcomer is refused as busy
    /// (and asks again later). There is no queue, so waiting sessions cannot crowd out others.
    fn slot(self: &Arc<Self>, peer: EndpointId) -> Option<Slot> {
        let now = self.now_ms();
        let mut a = self.answering.lock().ok()?;
        let own = a.per_peer.get(&peer).copied().unwrap_or(0);
        if own >= MAX_SESSIONS_PER_PEER {
            return None;
        }
        if a.active.len() >= MAX_SESSIONS {
            let victim = a.victim(peer, own, now)?;
            if let Some(p) = a.remove(victim) {
                tracing::info!("a session gives its slot to another peer");
                p.cancel.notify_one();
            }
        }
        let number = self.next_session.fetch_add(1, Ordering::Relaxed);
        let progress = Progress::default();
        progress.last_ms.store(now, Ordering::Relaxed);
        a.active.insert(number, (peer, progress.clone()));
        *a.per_peer.entry(peer).or_insert(0) += 1;
        Some(Slot { inner: self.clone(), number, progress })
    }

    fn count(&self, f: impl FnOnce(&mut NetStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
        self.changed.notify_one();
    }

    /// Counts a session and keeps its peer for live updates; whether the peer is new for that
    /// festival.
    fn record(&self, peer: EndpointId, conn: &Connection, festival: Option<FestivalId>, end: &SessionEnd) -> bool {
        self.count(|stats| match end {
            SessionEnd::Finished(s) => {
                stats.sessions += 1;
                stats.ops_received += s.ops_received;
                stats.ops_sent += s.ops_sent;
                stats.last_sync_ms = Some(crate::node::now_ms());
            }
            SessionEnd::Failed(_) => stats.failures += 1,
        });
        if let (Some(f), SessionEnd::Finished(_), Ok(mut peers)) = (festival, end, self.peers.lock()) {
            let p = peers.entry(peer).or_insert_with(|| Peer { conn: conn.clone(), festivals: HashSet::new() });
            p.conn = conn.clone();
            return p.festivals.insert(f);
        }
        false
    }

    /// The store's revision now, if the node can be read.
    fn revision(&self) -> Option<i64> {
        self.node.lock().ok().and_then(|n| n.revision().ok())
    }

    /// Stops pushing live updates to a peer that does not take them.
    fn forget(&self, peer: EndpointId) {
        if let Ok(mut peers) = self.peers.lock()
            && let Some(p) = peers.remove(&peer)
        {
            p.conn.close(2u32.into(), b"not reading");
        }
        self.changed.notify_one();
    }
}

/// A running network node.
pub struct Net {
    endpoint: Endpoint,
    router: Router,
    inner: Arc<Inner>,
    live: tokio::task::JoinHandle<()>,
    /// Local discovery, when on: peers it finds are synced with ([`Net::sync_discovered`]).
    mdns: Option<iroh_mdns_address_lookup::MdnsAddressLookup>,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net").field("id", &self.endpoint.id()).finish()
    }
}

/// QUIC limits per connection: what one peer can make this node buffer. Sync frames are at most
/// 64 KiB and one session sends one at a time, so small windows cost nothing in speed.
fn transport() -> QuicTransportConfig {
    QuicTransportConfig::builder()
        .max_concurrent_bidi_streams(VarInt::from_u32(MAX_SESSIONS_PER_PEER as u32 * 2))
        .max_concurrent_uni_streams(VarInt::from_u32(0))
        .stream_receive_window(VarInt::from_u32(512 * 1024))
        .receive_window(VarInt::from_u32(2 * 1024 * 1024))
        .send_window(1024 * 1024)
        .build()
}

impl Net {
    /// Binds the endpoint and starts accepting sessions and pushing live updates. Needs a tokio
    /// runtime.
    pub async fn start(node: SharedNode, cfg: NetConfig) -> Result<Net, NetError> {
        let (secret, changes) = {
            let n = node.lock().map_err(|_| NetError::Poisoned)?;
            (n.identity().derive_secret("meadow 2026 iroh endpoint key v1"), n.subscribe())
        };
        let mut builder = Endpoint::builder(presets::Minimal)
            .secret_key(SecretKey::from_bytes(&secret))
            .alpns(vec![ALPN.to_vec()])
            .transport_config(transport())
            .clear_ip_transports()
            .bind_addr(cfg.bind)
            .map_err(|e| NetError::Bind(e.to_string()))?;
        let mut mdns = None;
        if cfg.mdns {
            let id = SecretKey::from_bytes(&secret).public();
            let lookup = iroh_mdns_address_lookup::MdnsAddressLookup::builder()
                .service_name("meadow")
                .build(id)
                .map_err(|e| NetError::Bind(format!("local discovery: {e}")))?;
            builder = builder.address_lookup(lookup.clone());
            mdns = Some(lookup);
        }
        let endpoint = builder.bind().await.map_err(|e| NetError::Bind(e.to_string()))?;
        let inner = Arc::new(Inner {
            node,
            cfg,
            started: Instant::now(),
            stats: Mutex::new(NetStats::default()),
            peers: Mutex::new(HashMap::new()),
            answering: Mutex::new(Answering::default()),
            next_session: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            live_slots: Arc::new(tokio::sync::Semaphore::new(MAX_LIVE_PUSHES)),
            changed: tokio::sync::Notify::new(),
            lan: Mutex::new(HashSet::new()),
        });
        let router = Router::builder(endpoint.clone()).accept(ALPN, Handler { inner: inner.clone() }).spawn();
        let live = tokio::spawn(live_loop(inner.clone(), changes));
        Ok(Net { endpoint, router, inner, live, mdns })
    }

    /// How peers reach this node.
    pub fn addr(&self) -> EndpointAddr {
        self.endpoint.addr()
    }

    /// An invite to a festival, pointing at this node.
    pub fn invite(&self, festival: FestivalId) -> Invite {
        Invite { festival, peer: self.addr() }
    }

    /// Waits until the counters or the set of peers next change.
    pub async fn changed(&self) {
        self.inner.changed.notified().await;
    }

    /// Counters so far.
    pub fn stats(&self) -> NetStats {
        let mut s = self.inner.stats.lock().map(|s| s.clone()).unwrap_or_default();
        s.peers = self.inner.peers.lock().map(|p| p.len()).unwrap_or(0);
        s
    }

    /// Syncs a festival with a peer once (connecting, or reusing an open connection); the peer
    /// then also gets live updates while the connection stays open. A peer that is busy is asked
    /// again a few times, backing off (about half a minute in all).
    pub async fn sync_with(&self, peer: EndpointAddr, festival: FestivalId) -> Result<SessionEnd, NetError> {
        let mut wait = Duration::from_millis(500);
        for _ in 0..6 {
            match self.sync_once(peer.clone(), festival).await? {
                SessionEnd::Failed(SyncError::Busy(reason)) => {
                    tracing::info!(%reason, "peer is busy; asking again");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                end => return Ok(end),
            }
        }
        self.sync_once(peer, festival).await
    }

    async fn sync_once(&self, peer: EndpointAddr, festival: FestivalId) -> Result<SessionEnd, NetError> {
        let existing = self.inner.peers.lock().ok().and_then(|p| p.get(&peer.id).map(|p| p.conn.clone()));
        let conn = match existing {
            Some(c) if c.close_reason().is_none() => c,
            _ => {
                let c = tokio::time::timeout(CONNECT_TIMEOUT, self.endpoint.connect(peer, ALPN))
                    .await
                    .map_err(|_| NetError::Connect(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())))?
                    .map_err(|e| NetError::Connect(e.to_string()))?;
                let inner = self.inner.clone();
                let served = c.clone();
                let Some(guard) = self.inner.admit(&c) else {
                    c.close(4u32.into(), b"too many connections");
                    return Err(NetError::Connect("too many connections open".into()));
                };
                tokio::spawn(async move {
                    serve_connection(inner, served).await;
                    drop(guard);
                });
                c
            }
        };
        let end = initiate(&self.inner, &conn, festival, None).await?;
        if let Ok(mut peers) = self.inner.peers.lock() {
            peers.entry(conn.remote_id()).or_insert_with(|| Peer { conn: conn.clone(), festivals: HashSet::new() });
        }
        Ok(end)
    }

    /// Joins a festival from an invite: syncs it from the peer the invite names (which then also
    /// gets live updates) and, once the festival arrived, selects it and marks what it holds
    /// seen. What the apps and the CLI mean by "join".
    pub async fn join(&self, invite: &Invite) -> Result<crate::sync::Stats, NetError> {
        let stats = match self.sync_with(invite.peer.clone(), invite.festival).await? {
            SessionEnd::Finished(stats) => stats,
            SessionEnd::Failed(e) => return Err(NetError::Sync(e)),
        };
        let node = self.inner.node.clone();
        let festival = invite.festival;
        tokio::task::spawn_blocking(move || {
            let mut n = node.lock().map_err(|_| NetError::Poisoned)?;
            n.use_festival(&festival)?;
            // What the festival held when this device joined is not news: changes count from here.
            n.mark_seen(&festival).map_err(NetError::from)
        })
        .await
        .map_err(|e| NetError::Task(e.to_string()))??;
        Ok(stats)
    }

    /// Keeps syncing `festival` with `peer`: reconnects with exponential backoff (1 s to 60 s)
    /// whenever the connection is lost.
    pub(crate) fn keep_connected(
        self: &Arc<Self>,
        peer: EndpointAddr,
        festival: FestivalId,
    ) -> tokio::task::JoinHandle<()> {
        let net = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_secs(1);
            loop {
                match net.sync_with(peer.clone(), festival).await {
                    Ok(SessionEnd::Finished(_)) => {
                        backoff = Duration::from_secs(1);
                        let conn = net.inner.peers.lock().ok().and_then(|p| p.get(&peer.id).map(|p| p.conn.clone()));
                        if let Some(c) = conn {
                            c.closed().await;
                        }
                    }
                    Ok(SessionEnd::Failed(e)) => tracing::info!(error = %e, "sync with peer failed; retrying"),
                    Err(e) => tracing::info!(error = %e, "peer unreachable; retrying"),
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        })
    }

    /// Syncs every festival held here with each peer local discovery finds, and keeps syncing
    /// (as [`Net::keep_connected`]): on a LAN with no internet, no invite is needed. `None` when
    /// discovery is off.
    pub(crate) fn sync_discovered(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let mdns = self.mdns.clone()?;
        let net = self.clone();
        Some(tokio::spawn(async move {
            use futures_lite::StreamExt;
            let mut events = mdns.subscribe().await;
            let mut kept: HashMap<iroh::EndpointId, Vec<tokio::task::JoinHandle<()>>> = HashMap::new();
            while let Some(event) = events.next().await {
                match event {
                    iroh_mdns_address_lookup::DiscoveryEvent::Discovered { endpoint_info, .. } => {
                        let peer = EndpointAddr::from(endpoint_info);
                        if let Ok(mut lan) = net.inner.lan.lock() {
                            lan.insert(peer.id);
                        }
                        if kept.contains_key(&peer.id) {
                            continue;
                        }
                        let node = net.inner.node.clone();
                        let held = tokio::task::spawn_blocking(move || {
                            node.lock().ok().and_then(|n| n.festivals().ok()).unwrap_or_default()
                        })
                        .await
                        .unwrap_or_default();
                        tracing::info!(peer = %peer.id.fmt_short(), festivals = held.len(), "found a peer on the local network");
                        let tasks = held.iter().map(|f| net.keep_connected(peer.clone(), f.id)).collect();
                        kept.insert(peer.id, tasks);
                    }
                    iroh_mdns_address_lookup::DiscoveryEvent::Expired { endpoint_id } => {
                        if let Ok(mut lan) = net.inner.lan.lock() {
                            lan.remove(&endpoint_id);
                        }
                        for t in kept.remove(&endpoint_id).unwrap_or_default() {
                            t.abort();
                        }
                    }
                    _ => {}
                }
            }
        }))
    }

    /// Closes every connection and the endpoint. Call it before the last handle goes: an
    /// endpoint that is merely dropped aborts its connections ungracefully.
    pub async fn shutdown(&self) {
        self.live.abort();
        let _ = self.router.shutdown().await;
        self.endpoint.close().await;
    }
}
