//! The response cache: pages and feeds keyed by what they depend on, bounded in bytes, rendered
//! once however many clients miss at the same time, and gzipped where that pays.

use super::*;

/// A cached response body with its validator.
pub(super) struct Cached {
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
    etag: HeaderValue,
    /// The body gzipped, with its own ETag, for the feeds (made once, with the body).
    gzip: Option<(Bytes, HeaderValue)>,
}

/// Feeds at least this long are also kept gzipped.
pub(super) const GZIP_FROM: usize = 1024;

/// The body gzipped, if that makes it smaller.
pub(super) fn gzipped(body: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::default());
    enc.write_all(body).ok()?;
    let out = enc.finish().ok()?;
    (out.len() < body.len()).then(|| Bytes::from(out))
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, or `*`, not with `q=0`).
pub(super) fn accepts_gzip(req: &Request<Incoming>) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("").to_ascii_lowercase();
            let refused =
                parts.any(|p| p.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)));
            (name == "gzip" || name == "*") && !refused
        })
}

impl Cached {
    /// Bytes it keeps.
    fn size(&self) -> usize {
        self.body.len() + self.gzip.as_ref().map_or(0, |(g, _)| g.len())
    }
}

/// Responses of one generation, bounded in count and bytes; the oldest go first.
pub(super) struct Cache {
    generation: u64,
    entries: HashMap<String, Arc<Cached>>,
    order: VecDeque<String>,
    bytes: usize,
}

impl Cache {
    pub(super) fn new(generation: u64) -> Cache {
        Cache { generation, entries: HashMap::new(), order: VecDeque::new(), bytes: 0 }
    }

    pub(super) fn get(&self, generation: u64, key: &str) -> Option<Arc<Cached>> {
        (self.generation == generation).then(|| self.entries.get(key).cloned()).flatten()
    }

    pub(super) fn insert(&mut self, generation: u64, key: String, entry: Arc<Cached>, cfg: &WebConfig) {
        if generation != self.generation {
            if generation < self.generation {
                return;
            }
            *self = Cache::new(generation);
        }
        let size = entry.size();
        if cfg.cache_entries == 0 || size > cfg.cache_bytes / 2 || self.entries.contains_key(&key) {
            return;
        }
        while self.bytes + size > cfg.cache_bytes || self.entries.len() >= cfg.cache_entries {
            let Some(old) = self.order.pop_front() else { break };
            if let Some(e) = self.entries.remove(&old) {
                self.bytes -= e.size();
            }
        }
        self.bytes += size;
        self.order.push_back(key.clone());
        self.entries.insert(key, entry);
    }
}

/// A response being rendered, which every request for it waits on.
pub(super) type Flight = Arc<OnceCell<Option<Arc<Cached>>>>;

/// What a response depends on besides the festival: its route and, normalized, the query
/// parameters that route reads. Any other parameter changes nothing, so it makes no other key:
/// `/schedule.json?bust=1` is `/schedule.json`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Ask {
    route: Route,
    /// A day page's venue filter.
    venue: Option<String>,
    /// Where a day page continues.
    from: usize,
    /// Search words.
    q: String,
    /// Favourites listed.
    ids: String,
    /// The minute, for pages that show the time.
    minute: u64,
}

impl Ask {
    pub(super) fn new(route: Route, query: &str) -> Ask {
        let mut a = Ask { route, venue: None, from: 0, q: String::new(), ids: String::new(), minute: 0 };
        match a.route {
            Route::Home => a.minute = now_ms() / 60_000,
            Route::Day(_) => {
                a.venue = param(query, "venue", 512).filter(|v| !v.is_empty());
                a.from = param(query, "from", 512).and_then(|p| p.parse().ok()).unwrap_or(0usize).min(1_000_000);
            }
            Route::Search => a.q = param(query, "q", 512).unwrap_or_default(),
            // Room for every favourite a page lists: 64 hex digits and a comma each.
            Route::Favourites => a.ids = param(query, "ids", pages::MAX_FAVOURITES * 65).unwrap_or_default(),
            _ => {}
        }
        a
    }

    fn key(&self) -> String {
        format!("{self:?}")
    }
}

pub(super) async fn cached(state: &Arc<State>, req: &Request<Incoming>, ask: Ask) -> Response<Body> {
    let generation = *state.generation.borrow();
    let key = ask.key();
    let hit = state.cache.lock().ok().and_then(|c| c.get(generation, &key));
    let entry = match hit {
        Some(e) => e,
        None => match render_once(state, generation, key, ask).await {
            Some(e) => e,
            None => return plain(StatusCode::INTERNAL_SERVER_ERROR, "The programme could not be read.\n"),
        },
    };
    let modified = state.modified.load(Ordering::Relaxed);
    let (body, etag, gzip) = match &entry.gzip {
        Some((gz, etag)) if accepts_gzip(req) => (gz.clone(), etag.clone(), true),
        _ => (entry.body.clone(), entry.etag.clone(), false),
    };
    let mut resp = if entry.status == StatusCode::OK && not_modified(req, &etag, modified) {
        respond(StatusCode::NOT_MODIFIED, entry.content_type, full(Bytes::new()))
    } else {
        respond(entry.status, entry.content_type, full(body))
    };
    let h = resp.headers_mut();
    if entry.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(header::ETAG, etag);
    if let Ok(v) = HeaderValue::from_str(&http_date(modified)) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// Renders a miss once: every request for the same key in the same generation while it is being
/// rendered waits for that one render, then all are answered from it (and later ones from the
/// cache).
pub(super) async fn render_once(state: &Arc<State>, generation: u64, key: String, ask: Ask) -> Option<Arc<Cached>> {
    let flight_key = format!("{generation}\u{1f}{key}");
    let flight: Flight = state.inflight.lock().ok()?.entry(flight_key.clone()).or_default().clone();
    let made = flight
        .get_or_init(|| async {
            let st = state.clone();
            let label = format!("{:?}", ask.route);
            let _turn = state.renders.acquire().await.ok()?;
            match tokio::task::spawn_blocking(move || render(&st, ask)).await {
                Ok(Ok(e)) => {
                    let e = Arc::new(e);
                    if let Ok(mut c) = state.cache.lock() {
                        c.insert(generation, key, e.clone(), &state.cfg);
                    }
                    Some(e)
                }
                Ok(Err(e)) => {
                    tracing::warn!("web: {label}: {e}");
                    None
                }
                Err(_) => None,
            }
        })
        .await
        .clone();
    if let Ok(mut m) = state.inflight.lock()
        && m.get(&flight_key).is_some_and(|f| Arc::ptr_eq(f, &flight))
    {
        m.remove(&flight_key);
    }
    made
}

/// Why a response could not be made.
#[derive(Debug, Error)]
pub(super) enum RenderError {
    #[error(transparent)]
    Page(#[from] pages::PageError),
    #[error(transparent)]
    Node(#[from] meadow_core::node::NodeError),
    #[error("node lock poisoned")]
    Poisoned,
}

pub(super) fn html(p: Page) -> (StatusCode, &'static str, Bytes) {
    (StatusCode::from_u16(p.status).unwrap_or(StatusCode::OK), "text/html; charset=utf-8", Bytes::from(p.html))
}

pub(super) fn render(state: &State, ask: Ask) -> Result<Cached, RenderError> {
    let feed = matches!(ask.route, Route::ScheduleXml | Route::ScheduleJson | Route::ProgrammeIcs | Route::EventIcs(_));
    let lock = || state.node.lock().map_err(|_| RenderError::Poisoned);
    let festival = state.festival.read().map(|f| *f).unwrap_or(None);
    let not_found = |f: FestivalId, what: &str| -> Result<(StatusCode, &'static str, Bytes), RenderError> {
        let page = Pages::new(&*lock()?, f).message(404, "Not found", what)?;
        Ok(html(page.render()?))
    };
    let ics = |text: String| (StatusCode::OK, "text/calendar; charset=utf-8", Bytes::from(text));
    let now = now_ms() as i64 / 1000;
    // Feeds are read under the node's lock and formatted after it is let go: a large feed's
    // formatting never holds up sync or the node's other work.
    let (status, content_type, body) = match (festival, ask.route) {
        (None, _) => html(pages::no_festival()?),
        (Some(f), Route::ScheduleXml) => {
            let published = lock()?.publish(&f)?;
            let x = meadow_core::exchange::publish::to_frab_xml(&published).map_err(NodeError::from)?;
            (StatusCode::OK, "application/xml; charset=utf-8", Bytes::from(x))
        }
        (Some(f), Route::ScheduleJson) => {
            let published = lock()?.publish(&f)?;
            let j = meadow_core::exchange::publish::to_schedule_json(&published).map_err(NodeError::from)?;
            (StatusCode::OK, "application/json", Bytes::from(j))
        }
        (Some(f), Route::ProgrammeIcs) => {
            let (fv, events) = lock()?.ics_events(&f, IcsSelection::Official)?;
            ics(meadow_core::exchange::ical::export(&fv, &events, now).map_err(NodeError::from)?)
        }
        (Some(f), Route::EventIcs(id)) => {
            let read = OpId::from_hex(&id).map(|id| lock().map(|n| n.ics_events(&f, IcsSelection::Event(id))));
            match read.transpose()? {
                Some(Ok((fv, events))) => {
                    ics(meadow_core::exchange::ical::export(&fv, &events, now).map_err(NodeError::from)?)
                }
                Some(Err(NodeError::NotFound(_))) | None => not_found(f, "There is no such event in this programme.")?,
                Some(Err(e)) => return Err(e.into()),
            }
        }
        (Some(f), route) => {
            // Pages are read under the node's lock and formatted after it is let go, like feeds.
            let prepared = {
                let node = lock()?;
                let pages = Pages::new(&node, f);
                match route {
                    Route::Home => pages.home()?,
                    Route::Days => pages.day_index()?,
                    Route::Day(d) => pages.day(&d, ask.venue.as_deref(), ask.from)?,
                    Route::Event(id) => pages.event(&id)?,
                    Route::Search => pages.search(&ask.q)?,
                    Route::Favourites => pages.favourites(&ask.ids)?,
                    Route::Invite => {
                        let link = state.invite.as_ref().and_then(|i| i(&f)).unwrap_or_default();
                        pages.invite(&link)?
                    }
                    Route::InviteSvg => match state.invite.as_ref().and_then(|i| i(&f)).and_then(|l| qr_svg(&l)) {
                        Some(svg) => {
                            drop(node);
                            return finish(feed, StatusCode::OK, "image/svg+xml", Bytes::from(svg));
                        }
                        None => pages.message(404, "No invite", "This node has no invite to give.")?,
                    },
                    _ => pages.message(404, "Not found", "There is no such page here.")?,
                }
            };
            html(prepared.render()?)
        }
    };
    finish(feed, status, content_type, body)
}

/// A response's tags and compressed copy, made once for every request the cache serves it to.
fn finish(feed: bool, status: StatusCode, content_type: &'static str, body: Bytes) -> Result<Cached, RenderError> {
    let hash = blake3::hash(&body).to_hex();
    let etag = HeaderValue::from_str(&format!("\"{}\"", &hash[..20])).unwrap_or(HeaderValue::from_static("\"x\""));
    let gzip =
        (feed && status == StatusCode::OK && body.len() >= GZIP_FROM).then(|| gzipped(&body)).flatten().map(|gz| {
            (
                gz,
                HeaderValue::from_str(&format!("\"{}-gz\"", &hash[..20]))
                    .unwrap_or(HeaderValue::from_static("\"x-gz\"")),
            )
        });
    Ok(Cached { status, content_type, body, etag, gzip })
}
