//! The info point on the web: the live programme of a node's current festival as server-rendered
//! pages for any browser on the local network, and as the feeds schedule apps poll
//! (`schedule.xml`, `schedule.json`, `programme.ics`, one `.ics` per event), with ETags and 304s.
//!
//! Read-only by construction: the only methods routed are GET and HEAD, and the node is only
//! read. Every response is cached per change of the festival (the change feed bumps a
//! generation), so a poll that changed nothing costs a map lookup and no lock on the node. The
//! cache is keyed by what a response depends on (its route and the parameters that route reads,
//! never unknown ones), bounded in bytes, and a miss is rendered once however many ask for it at
//! the same time; feeds are formatted after the node's lock is let go. A client address holds a
//! bounded number of connections, and under pressure a client has less time to send its headers.

mod cache;
pub mod pages;

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use meadow_core::node::{IcsSelection, Node, NodeError, now_ms};
use meadow_core::op::{FestivalId, OpId};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::{OnceCell, Semaphore, watch};

use cache::*;
use pages::{Page, Pages};

/// The port `meadow serve --web` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 8080;

/// The node as the server shares it with the rest of `meadow serve`.
pub type SharedNode = Arc<Mutex<Node>>;

/// Gives the invite link of a festival (the server itself does not know its iroh address).
pub type InviteFn = Arc<dyn Fn(&FestivalId) -> Option<String> + Send + Sync>;

/// Limits and settings.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Connections open at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Live-update streams open at once; more get 503.
    pub max_live: usize,
    /// Bytes of request line and headers at most (hyper answers 431 beyond).
    pub max_header_bytes: usize,
    /// How long a client may take to send its request's headers (slow clients are cut).
    pub header_timeout: Duration,
    /// The same, once more than half of the connections are taken.
    pub pressure_header_timeout: Duration,
    /// Connections one client address may hold at once; more are closed at once.
    pub max_per_client: usize,
    /// Responses cached per generation (0: none, every request renders).
    pub cache_entries: usize,
    /// Bytes of cached bodies at most (a response larger than half of it is not cached).
    pub cache_bytes: usize,
}

impl WebConfig {
    /// Defaults for `addr`.
    pub fn new(addr: SocketAddr) -> WebConfig {
        WebConfig {
            addr,
            max_connections: 512,
            max_live: 200,
            max_header_bytes: 16 * 1024,
            header_timeout: Duration::from_secs(10),
            pressure_header_timeout: Duration::from_secs(2),
            max_per_client: 64,
            cache_entries: 512,
            cache_bytes: 128 * 1024 * 1024,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum WebError {
    /// The address could not be bound.
    #[error("web: cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The node could not be read.
    #[error("web: {0}")]
    Node(String),
}

struct State {
    node: SharedNode,
    cfg: WebConfig,
    invite: Option<InviteFn>,
    festival: RwLock<Option<FestivalId>>,
    /// Bumped by the change feed whenever the current festival (or the choice of it) changes.
    generation: watch::Sender<u64>,
    /// When the generation last moved, Unix seconds (`Last-Modified`).
    modified: AtomicI64,
    cache: Mutex<Cache>,
    /// Misses being rendered, by generation and key.
    inflight: Mutex<HashMap<String, Flight>>,
    live: Arc<Semaphore>,
    /// Renders running at once: one per core. Misses beyond that wait their turn in order (the
    /// semaphore is fair) instead of crowding the cores and the node's lock, which in a rush of
    /// distinct misses left some requests waiting far longer than the rest.
    renders: Semaphore,
}

/// A running server.
pub struct Web {
    addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Web {
    /// Binds `cfg.addr` and serves the node's current festival until dropped or shut down.
    pub async fn start(node: SharedNode, cfg: WebConfig, invite: Option<InviteFn>) -> Result<Web, WebError> {
        let listener = Self::bind(cfg.addr).await?;
        Self::start_on(listener, node, cfg, invite).await
    }

    /// Takes `addr` for a server started later with [`Web::start_on`]: a caller that binds
    /// first fails on a taken address before it has started or stored anything else.
    pub async fn bind(addr: SocketAddr) -> Result<TcpListener, WebError> {
        TcpListener::bind(addr).await.map_err(|e| WebError::Bind { addr, source: e })
    }

    /// Serves the node's current festival on `listener` (from [`Web::bind`]); `cfg.addr` is not
    /// used.
    pub async fn start_on(
        listener: TcpListener,
        node: SharedNode,
        cfg: WebConfig,
        invite: Option<InviteFn>,
    ) -> Result<Web, WebError> {
        let addr = listener.local_addr().map_err(|e| WebError::Bind { addr: cfg.addr, source: e })?;
        let (festival, changes) = {
            let n = node.lock().map_err(|_| WebError::Node("node lock poisoned".into()))?;
            (n.current_festival().map_err(|e| WebError::Node(e.to_string()))?, n.subscribe())
        };
        let state = Arc::new(State {
            live: Arc::new(Semaphore::new(cfg.max_live)),
            renders: Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
            node,
            invite,
            festival: RwLock::new(festival),
            generation: watch::channel(1).0,
            modified: AtomicI64::new(now_ms() as i64 / 1000),
            cache: Mutex::new(Cache::new(1)),
            inflight: Mutex::new(HashMap::new()),
            cfg,
        });
        let watcher = {
            let state = state.clone();
            tokio::spawn(async move {
                while let Some(set) = changes.next().await {
                    let current = state.festival.read().map(|f| *f).unwrap_or(None);
                    let mut relevant = set.festivals.iter().any(|(f, s)| Some(*f) == current && s.touches_ops());
                    if set.settings {
                        let node = state.node.clone();
                        let now = tokio::task::spawn_blocking(move || node.lock().ok()?.current_festival().ok()?)
                            .await
                            .unwrap_or(None);
                        if now != current {
                            if let Ok(mut f) = state.festival.write() {
                                *f = now;
                            }
                            relevant = true;
                        }
                    }
                    if relevant {
                        state.modified.store(now_ms() as i64 / 1000, Ordering::Relaxed);
                        state.generation.send_modify(|g| *g += 1);
                    }
                }
            })
        };
        let accept = {
            let state = state.clone();
            tokio::spawn(accept_loop(listener, state))
        };
        tracing::info!(%addr, "web: serving");
        Ok(Web { addr, tasks: vec![watcher, accept] })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and stops the change watcher.
    pub fn shutdown(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// One connection of a client address, counted while it lives.
struct ClientSlot {
    clients: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl ClientSlot {
    /// A slot for `ip`, unless it holds as many connections as it may.
    fn take(clients: &Arc<Mutex<HashMap<IpAddr, usize>>>, ip: IpAddr, max: usize) -> Option<ClientSlot> {
        let mut map = clients.lock().ok()?;
        let n = map.entry(ip).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(ClientSlot { clients: clients.clone(), ip })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.clients.lock()
            && let Some(n) = map.get_mut(&self.ip)
        {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let slots = Arc::new(Semaphore::new(state.cfg.max_connections));
    let clients: Arc<Mutex<HashMap<IpAddr, usize>>> = Arc::new(Mutex::new(HashMap::new()));
    loop {
        // A connection slot first: beyond the limit, clients wait in the backlog.
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("web: accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // One address cannot take every slot: past its share, its connections are closed at once
        // (and the slot it would have held stays free for others).
        let Some(client) = ClientSlot::take(&clients, peer.ip(), state.cfg.max_per_client) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        // Under pressure, slow senders of headers are cut sooner.
        let header_timeout = if slots.available_permits() < state.cfg.max_connections / 2 {
            state.cfg.pressure_header_timeout
        } else {
            state.cfg.header_timeout
        };
        let state = state.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _client = client;
            let mut b = hyper::server::conn::http1::Builder::new();
            b.timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(state.cfg.max_header_bytes.max(8192))
                .max_headers(64);
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, req).await) }
            });
            if let Err(e) = b.serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%peer, "web: connection: {e}");
            }
        });
    }
}

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The Content-Security-Policy of every response: scripts and styles from this node only, no
/// inline script, nothing from elsewhere (there is no internet at the festival anyway).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
                       form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const CSS: &str = include_str!("../static/app.css");
const JS: &str = include_str!("../static/app.js");

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).boxed_unsync()
}

fn respond(status: StatusCode, content_type: &str, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    respond(status, "text/plain; charset=utf-8", full(text))
}

/// Decodes one `application/x-www-form-urlencoded` value.
pub fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()))
            .flatten();
        match (b[i], hex) {
            (b'+', _) => out.push(b' '),
            (_, Some(v)) => {
                out.push(v);
                i += 2;
            }
            (c, None) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of query parameter `key`, decoded, its first `max` characters.
fn param(query: &str, key: &str, max: usize) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then(|| form_decode(v).chars().take(max).collect())
    })
}

/// An HTTP date (RFC 9110 IMF-fixdate).
fn http_date(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map(|t| t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()).unwrap_or_default()
}

fn parse_http_date(s: &str) -> Option<i64> {
    let t = jiff::fmt::strtime::parse("%a, %d %b %Y %H:%M:%S GMT", s.trim()).ok()?.to_datetime().ok()?;
    Some(t.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok()?.timestamp().as_second())
}

/// Whether a request's validators match: `If-None-Match` decides when present.
fn not_modified(req: &Request<Incoming>, etag: &HeaderValue, modified: i64) -> bool {
    if let Some(inm) = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        let ours = etag.to_str().unwrap_or("");
        let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
        return inm.split(',').any(|t| t.trim() == "*" || bare(t) == bare(ours));
    }
    req.headers()
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date)
        .is_some_and(|since| modified <= since)
}

/// What a path is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Route {
    Home,
    Days,
    Day(String),
    Event(String),
    EventIcs(String),
    Search,
    Favourites,
    Invite,
    InviteSvg,
    ScheduleXml,
    ScheduleJson,
    ProgrammeIcs,
    Live,
    Css,
    Js,
    NotFound,
}

fn route(path: &str) -> Route {
    match path {
        "/" => Route::Home,
        "/days" => Route::Days,
        "/search" => Route::Search,
        "/favourites" => Route::Favourites,
        "/invite" => Route::Invite,
        "/invite.svg" => Route::InviteSvg,
        "/schedule.xml" => Route::ScheduleXml,
        "/schedule.json" => Route::ScheduleJson,
        "/programme.ics" => Route::ProgrammeIcs,
        "/live" => Route::Live,
        "/static/app.css" => Route::Css,
        "/static/app.js" => Route::Js,
        p => {
            let hex = |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
            if let Some(d) = p.strip_prefix("/day/").filter(|d| d.len() == 10) {
                Route::Day(d.to_owned())
            } else if let Some(id) = p.strip_prefix("/event/").and_then(|e| e.strip_suffix(".ics")).filter(|s| hex(s)) {
                Route::EventIcs(id.to_owned())
            } else if let Some(id) = p.strip_prefix("/event/").filter(|s| hex(s)) {
                Route::Event(id.to_owned())
            } else {
                Route::NotFound
            }
        }
    }
}

async fn handle(state: &Arc<State>, req: Request<Incoming>) -> Response<Body> {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "This server is read-only.\n");
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let query = req.uri().query().unwrap_or("").to_owned();
    let r = route(req.uri().path());
    let mut resp = match r {
        Route::Css => static_file(&req, "text/css; charset=utf-8", CSS),
        Route::Js => static_file(&req, "text/javascript; charset=utf-8", JS),
        Route::Live => live(state),
        r => cached(state, &req, Ask::new(r, &query)).await,
    };
    if head {
        // The length the GET would send, which hyper keeps on a HEAD answer with an empty body.
        let (mut parts, body) = resp.into_parts();
        if let Some(n) = hyper::body::Body::size_hint(&body).exact()
            && parts.status != StatusCode::NOT_MODIFIED
        {
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
        }
        resp = Response::from_parts(parts, full(Bytes::new()));
    }
    resp
}

fn static_file(req: &Request<Incoming>, content_type: &'static str, text: &'static str) -> Response<Body> {
    let etag = HeaderValue::from_str(&format!("\"{}\"", &blake3::hash(text.as_bytes()).to_hex()[..16]))
        .unwrap_or(HeaderValue::from_static("\"static\""));
    if not_modified(req, &etag, i64::MIN) {
        let mut r = respond(StatusCode::NOT_MODIFIED, content_type, full(Bytes::new()));
        r.headers_mut().insert(header::ETAG, etag);
        return r;
    }
    let mut r = respond(StatusCode::OK, content_type, full(text));
    r.headers_mut().insert(header::ETAG, etag);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// The live-update stream: one `change` event per change of the festival, a comment every
/// 20 s to keep the connection (and any proxy) awake.
fn live(state: &Arc<State>) -> Response<Body> {
    let Ok(permit) = state.live.clone().try_acquire_owned() else {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "Too many live connections; the page still works.\n");
    };
    let mut rx = state.generation.subscribe();
    rx.mark_unchanged();
    let stream = futures_lite::stream::unfold((rx, permit, true), |(mut rx, permit, first)| async move {
        if first {
            return Some((
                Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"retry: 5000\n\n"))),
                (rx, permit, false),
            ));
        }
        let msg = match tokio::time::timeout(Duration::from_secs(20), rx.changed()).await {
            Ok(Ok(())) => format!("event: change\ndata: {}\n\n", *rx.borrow_and_update()),
            Ok(Err(_)) => return None,
            Err(_) => ": keep-alive\n\n".to_owned(),
        };
        Some((Ok(Frame::data(Bytes::from(msg))), (rx, permit, false)))
    });
    let mut r = respond(StatusCode::OK, "text/event-stream", StreamBody::new(stream).boxed_unsync());
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// The invite link as a QR code in SVG.
pub fn qr_svg(link: &str) -> Option<String> {
    let code = qrcode::QrCode::new(link.as_bytes()).ok()?;
    Some(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(280, 280).quiet_zone(true).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_decode_and_paths_match_exactly() {
        assert_eq!(form_decode("a+b%20c%3Cd%3e"), "a b c<d>");
        assert_eq!(form_decode("100%"), "100%");
        assert_eq!(form_decode("%zz%e2%82%ac"), "%zz€");
        assert_eq!(param("q=jazz+night&page=2", "q", 512).as_deref(), Some("jazz night"));
        assert_eq!(param("q=x", "page", 512), None);
        assert!(matches!(route("/event/00ab"), Route::Event(_)));
        assert!(matches!(route("/event/00ab.ics"), Route::EventIcs(_)));
        for p in ["/event/../x", "/static/", "/static/../Cargo.toml", "/day/../../etc", "/event/zz", "//"] {
            assert!(matches!(route(p), Route::NotFound | Route::Day(_)), "{p}");
        }
        assert_eq!(parse_http_date(&http_date(1_790_000_000)), Some(1_790_000_000));
    }
}
