//! Internet and LAN networking over iroh (QUIC): an endpoint per node with a key derived from the
//! device identity, one ALPN per sync protocol version, local discovery over mDNS, invite tickets,
//! and live updates. This module only moves bytes: every session is a [`crate::sync::Session`]
//! driven over a QUIC bidirectional stream, and the node answers what the session asks.
//!
//! Live updates: while a connection to a peer stays open, a change to the local store (a new op,
//! written here or received from another peer) starts a fresh session with every connected peer
//! for the festivals they share. A session between peers that agree costs a few dozen bytes, so
//! this needs no second protocol (no gossip overlay to run on phones), reaches peers within the
//! poll interval, and the same code path heals everything a dropped link missed.

pub mod ticket;

pub use ticket::Invite;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iroh::endpoint::{Connection, RecvStream, SendStream, presets};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, EndpointAddr, EndpointId, SecretKey};
use thiserror::Error;

use crate::node::{Node, NodeError, SessionEnd};
use crate::op::FestivalId;
use crate::sync::Session;

/// The ALPN of sync protocol version 1.
pub const ALPN: &[u8] = b"meadow/sync/1";

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
    /// How often the store is checked for new ops to push to connected peers.
    pub live_interval: Duration,
}

impl NetConfig {
    /// Loopback only, no discovery: for tests and benchmarks.
    pub fn loopback() -> Self {
        NetConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            mdns: false,
            sync: crate::sync::Config::default(),
            live_interval: Duration::from_millis(250),
        }
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
    /// Ops received.
    pub ops_received: u64,
    /// Ops sent.
    pub ops_sent: u64,
}

/// A node shared between the front end and network tasks.
pub type SharedNode = Arc<Mutex<Node>>;

struct Peer {
    conn: Connection,
    festivals: HashSet<FestivalId>,
}

struct Inner {
    node: SharedNode,
    cfg: NetConfig,
    started: Instant,
    stats: Mutex<NetStats>,
    peers: Mutex<HashMap<EndpointId, Peer>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("cfg", &self.cfg).finish()
    }
}

impl Inner {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn record(&self, peer: EndpointId, conn: &Connection, festival: Option<FestivalId>, end: &SessionEnd) {
        if let Ok(mut stats) = self.stats.lock() {
            match end {
                SessionEnd::Finished(s) => {
                    stats.sessions += 1;
                    stats.ops_received += s.ops_received;
                    stats.ops_sent += s.ops_sent;
                }
                SessionEnd::Failed(_) => stats.failures += 1,
            }
        }
        if let (Some(f), SessionEnd::Finished(_), Ok(mut peers)) = (festival, end, self.peers.lock()) {
            let p = peers.entry(peer).or_insert_with(|| Peer { conn: conn.clone(), festivals: HashSet::new() });
            p.conn = conn.clone();
            p.festivals.insert(f);
        }
    }
}

/// Runs one session over one bidirectional stream until it ends. Reads are gathered while data
/// keeps coming, so a fast link hands the store large batches and a slow one small ones.
async fn drive(
    inner: &Inner,
    session: &mut Session,
    send: &mut SendStream,
    recv: &mut RecvStream,
) -> Result<SessionEnd, NetError> {
    const READ: usize = 64 * 1024;
    loop {
        let (end, frames) = {
            let mut node = inner.node.lock().map_err(|_| NetError::Poisoned)?;
            let end = node.serve_sync(session)?;
            let mut frames = Vec::new();
            while let Some(f) = session.poll_transmit() {
                frames.push(f);
            }
            (end, frames)
        };
        for f in frames {
            if send.write_all(&f).await.is_err() {
                session.handle_close();
                break;
            }
        }
        if let Some(end) = end {
            let _ = send.finish();
            return Ok(end);
        }
        let wait = session.poll_timeout().map_or(1000, |d| d.saturating_sub(inner.now_ms())).max(1);
        match tokio::time::timeout(Duration::from_millis(wait), recv.read_chunk(READ)).await {
            Ok(Ok(Some(first))) => {
                let mut input = first.to_vec();
                // Whatever else has already arrived joins this read.
                while input.len() < 8 * 1024 * 1024 {
                    match tokio::time::timeout(Duration::ZERO, recv.read_chunk(READ)).await {
                        Ok(Ok(Some(more))) => input.extend_from_slice(&more),
                        _ => break,
                    }
                }
                session.handle_input(&input, inner.now_ms());
            }
            Ok(Ok(None)) | Ok(Err(_)) => session.handle_close(),
            Err(_) => session.handle_timeout(inner.now_ms()),
        }
    }
}

#[derive(Debug, Clone)]
struct Handler {
    inner: Arc<Inner>,
}

impl ProtocolHandler for Handler {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        serve_connection(self.inner.clone(), conn).await;
        Ok(())
    }
}

/// Answers every session the peer opens on a connection, whichever side opened the connection:
/// live updates flow both ways over one connection.
async fn serve_connection(inner: Arc<Inner>, conn: Connection) {
    let peer = conn.remote_id();
    while let Ok((mut send, mut recv)) = conn.accept_bi().await {
        let inner = inner.clone();
        let conn = conn.clone();
        tokio::spawn(async move {
            let mut session = Session::respond(inner.cfg.sync.clone(), inner.now_ms());
            match drive(&inner, &mut session, &mut send, &mut recv).await {
                Ok(end) => {
                    if let SessionEnd::Failed(e) = &end {
                        tracing::info!(peer = %peer.fmt_short(), error = %e, "sync session with peer failed");
                    }
                    inner.record(peer, &conn, session.festival(), &end);
                    if matches!(end, SessionEnd::Failed(_)) {
                        // A peer that sent garbage or forged ops is dropped.
                        conn.close(1u32.into(), b"session failed");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "sync session aborted"),
            }
        });
    }
    if let Ok(mut peers) = inner.peers.lock() {
        peers.remove(&peer);
    }
}

/// A running network node.
pub struct Net {
    endpoint: Endpoint,
    router: Router,
    inner: Arc<Inner>,
    live: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net").field("id", &self.endpoint.id()).finish()
    }
}

impl Net {
    /// Binds the endpoint and starts accepting sessions and pushing live updates. Needs a tokio
    /// runtime.
    pub async fn start(node: SharedNode, cfg: NetConfig) -> Result<Net, NetError> {
        let secret = {
            let n = node.lock().map_err(|_| NetError::Poisoned)?;
            n.identity().derive_secret("meadow 2026 iroh endpoint key v1")
        };
        let mut builder = Endpoint::builder(presets::Minimal)
            .secret_key(SecretKey::from_bytes(&secret))
            .alpns(vec![ALPN.to_vec()])
            .clear_ip_transports()
            .bind_addr(cfg.bind)
            .map_err(|e| NetError::Bind(e.to_string()))?;
        if cfg.mdns {
            builder =
                builder.address_lookup(iroh_mdns_address_lookup::MdnsAddressLookup::builder().service_name("meadow"));
        }
        let endpoint = builder.bind().await.map_err(|e| NetError::Bind(e.to_string()))?;
        let inner = Arc::new(Inner {
            node,
            cfg,
            started: Instant::now(),
            stats: Mutex::new(NetStats::default()),
            peers: Mutex::new(HashMap::new()),
        });
        let router = Router::builder(endpoint.clone()).accept(ALPN, Handler { inner: inner.clone() }).spawn();
        let live = tokio::spawn(live_loop(inner.clone()));
        Ok(Net { endpoint, router, inner, live })
    }

    /// How peers reach this node.
    pub fn addr(&self) -> EndpointAddr {
        self.endpoint.addr()
    }

    /// An invite to a festival, pointing at this node.
    pub fn invite(&self, festival: FestivalId) -> Invite {
        Invite { festival, peer: self.addr() }
    }

    /// Counters so far.
    pub fn stats(&self) -> NetStats {
        let mut s = self.inner.stats.lock().map(|s| s.clone()).unwrap_or_default();
        s.peers = self.inner.peers.lock().map(|p| p.len()).unwrap_or(0);
        s
    }

    /// Syncs a festival with a peer once (connecting, or reusing an open connection); the peer
    /// then also gets live updates while the connection stays open.
    pub async fn sync_with(&self, peer: EndpointAddr, festival: FestivalId) -> Result<SessionEnd, NetError> {
        let existing = self.inner.peers.lock().ok().and_then(|p| p.get(&peer.id).map(|p| p.conn.clone()));
        let conn = match existing {
            Some(c) if c.close_reason().is_none() => c,
            _ => {
                let c = self.endpoint.connect(peer, ALPN).await.map_err(|e| NetError::Connect(e.to_string()))?;
                tokio::spawn(serve_connection(self.inner.clone(), c.clone()));
                c
            }
        };
        let end = initiate(&self.inner, &conn, festival).await?;
        if let Ok(mut peers) = self.inner.peers.lock() {
            peers.entry(conn.remote_id()).or_insert_with(|| Peer { conn: conn.clone(), festivals: HashSet::new() });
        }
        Ok(end)
    }

    /// Keeps syncing `festival` with `peer`: reconnects with exponential backoff (1 s to 60 s)
    /// whenever the connection is lost.
    pub fn keep_connected(self: &Arc<Self>, peer: EndpointAddr, festival: FestivalId) -> tokio::task::JoinHandle<()> {
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

    /// Closes every connection and the endpoint.
    pub async fn shutdown(self) {
        self.live.abort();
        let _ = self.router.shutdown().await;
        self.endpoint.close().await;
    }
}

async fn initiate(inner: &Inner, conn: &Connection, festival: FestivalId) -> Result<SessionEnd, NetError> {
    let mut session = {
        let node = inner.node.lock().map_err(|_| NetError::Poisoned)?;
        node.start_sync(&festival, inner.cfg.sync.clone(), inner.now_ms())?
    };
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| NetError::Connect(e.to_string()))?;
    let end = drive(inner, &mut session, &mut send, &mut recv).await?;
    inner.record(conn.remote_id(), conn, Some(festival), &end);
    Ok(end)
}

/// Pushes new ops to connected peers: whenever the store changed, a session per shared festival.
async fn live_loop(inner: Arc<Inner>) {
    let revision = |inner: &Inner| inner.node.lock().ok().and_then(|n| n.store().revision().ok()).unwrap_or(0);
    let mut last = revision(&inner);
    loop {
        tokio::time::sleep(inner.cfg.live_interval).await;
        let now = revision(&inner);
        if now == last {
            continue;
        }
        last = now;
        let targets: Vec<(Connection, FestivalId)> = inner
            .peers
            .lock()
            .map(|p| p.values().flat_map(|peer| peer.festivals.iter().map(|f| (peer.conn.clone(), *f))).collect())
            .unwrap_or_default();
        for (conn, festival) in targets {
            let inner = inner.clone();
            tokio::spawn(async move {
                if let Err(e) = initiate(&inner, &conn, festival).await {
                    tracing::debug!(error = %e, "live update failed");
                }
            });
        }
    }
}
