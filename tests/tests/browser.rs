//! The web info point in a real browser: Debian's Chromium, headless, at phone width, driven over
//! WebDriver (Debian's chromedriver). The pages load and search works with JavaScript switched
//! off (the form's GET) and on (results while typing); an announcement posted on another node
//! appears without reload where JavaScript runs; the main pages are written as screenshots
//! (light and dark) to `target/screenshots/web/`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meadow_core::identity::Identity;
use meadow_core::node::Node;
use meadow_core::op::FestivalId;
use meadow_core::view::ProgrammeFilter;
use meadow_web::{SharedNode, Web, WebConfig};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Chromium, or `None` where it is missing and skipping was asked for (the test command installs it).
fn chromium() -> Option<&'static str> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Some(CHROMIUM);
    }
    meadow_tests::support::skip_for_missing(&format!("no {CHROMIUM} or {CHROMEDRIVER}"));
    None
}

fn shoot(exe: &str, profile: &Path, extra: &[&str], url: &str) -> Output {
    Command::new(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=412,915",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs")
}

/// A WebDriver session on a chromedriver of its own.
struct Driver {
    child: Child,
    port: u16,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver call (JSON over HTTP/1.1 on loopback).
fn call_at(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> std::io::Result<serde_json::Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())?;
    // chromedriver keeps the connection open: read the headers, then Content-Length bytes.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (at, len) = loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, len);
        }
    };
    while buf.len() < at + len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    serde_json::from_slice(&buf[at..(at + len).min(buf.len())]).map_err(|e| std::io::Error::other(e.to_string()))
}

impl Driver {
    fn start(profile: &Path, javascript: bool) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while call_at(port, "GET", "/status", None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = serde_json::json!({ "capabilities": { "alwaysMatch": { "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=412,915", format!("--user-data-dir={}", profile.display())],
            "prefs": { "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 } },
        }}}});
        let reply = call_at(port, "POST", "/session", Some(&caps)).expect("new session");
        let session = reply["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {reply}")).to_owned();
        Driver { child, port, session }
    }

    fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
        call_at(self.port, method, path, body.as_ref()).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    fn go(&self, url: &str) {
        self.call("POST", &format!("/session/{}/url", self.session), Some(serde_json::json!({ "url": url })));
    }

    fn source(&self) -> String {
        self.call("GET", &format!("/session/{}/source", self.session), None)["value"].as_str().unwrap_or("").to_owned()
    }

    fn url(&self) -> String {
        self.call("GET", &format!("/session/{}/url", self.session), None)["value"].as_str().unwrap_or("").to_owned()
    }

    fn element(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            &format!("/session/{}/element", self.session),
            Some(serde_json::json!({ "using": "css selector", "value": css })),
        );
        v["value"]
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|x| x.as_str())
            .unwrap_or_else(|| panic!("no {css}: {v}"))
            .to_owned()
    }

    fn type_into(&self, css: &str, text: &str) {
        let el = self.element(css);
        self.call(
            "POST",
            &format!("/session/{}/element/{el}/value", self.session),
            Some(serde_json::json!({ "text": text })),
        );
    }

    fn click(&self, css: &str) {
        let el = self.element(css);
        self.call("POST", &format!("/session/{}/element/{el}/click", self.session), Some(serde_json::json!({})));
    }

    /// Waits until the page source contains `needle`.
    fn wait_for(&self, needle: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.source().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots/web");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

struct Site {
    rt: tokio::runtime::Runtime,
    web: Option<Web>,
    node: SharedNode,
    festival: FestivalId,
}

impl Drop for Site {
    fn drop(&mut self) {
        let _guard = self.rt.enter();
        self.web.take();
    }
}

impl Site {
    fn url(&self, path: &str) -> String {
        let addr: SocketAddr = self.web.as_ref().map(|w| w.addr()).expect("running");
        format!("http://{addr}{path}")
    }
}

fn site() -> Site {
    let mut node = Node::in_memory(Identity::from_seed(93_000)).expect("node");
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let (festival, _) = meadow_core::demo::create_demo(&mut node, today).expect("demo");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let shared: SharedNode = Arc::new(Mutex::new(node));
    let invite: meadow_web::InviteFn = Arc::new(|f: &FestivalId| Some(format!("meadow://join/demo{}", f.to_hex())));
    let cfg = WebConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    let web = rt.block_on(Web::start(shared.clone(), cfg, Some(invite))).expect("web");
    Site { rt, web: Some(web), node: shared, festival }
}

#[test]
fn pages_load_and_search_works_without_javascript_and_screenshots_are_written() {
    let Some(exe) = chromium() else { return };
    let s = site();
    let profile = tempfile::tempdir().expect("profile");
    let (day, event, word, moved) = {
        let n = s.node.lock().expect("lock");
        let all = n.programme(&s.festival, &ProgrammeFilter::default()).expect("programme");
        let first = all[0].clone();
        let word = first.title.split_whitespace().max_by_key(|w| w.len()).expect("word").to_owned();
        let moved = all.iter().find(|e| e.moved).expect("the demo moves an event").id.to_hex();
        (first.day.clone(), first.id.to_hex(), word, moved)
    };
    // JavaScript off: the search form's GET renders the hits on the server.
    {
        let d = Driver::start(&profile.path().join("nojs"), false);
        d.go(&s.url("/"));
        assert!(d.source().contains("Now and next"), "the page loads");
        d.type_into("#q", &word);
        d.click("form[role=search] button");
        // The home page may list the event too (when it is on now or next): wait for the
        // results page itself, then look for it there.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !d.url().contains("/search?q=") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(d.url().contains("/search?q="), "{}", d.url());
        assert!(
            d.wait_for(&format!("/event/{event}"), Duration::from_secs(10)),
            "search without JavaScript: {}",
            d.source()
        );
        assert!(!d.source().contains("class=\"fav\""), "no script ran, so no favourite buttons");
    }
    // JavaScript on: results while typing, and favourites kept in the browser.
    {
        let d = Driver::start(&profile.path().join("js"), true);
        d.go(&s.url("/search"));
        d.type_into("#q", &word);
        assert!(
            d.wait_for(&format!("/event/{event}"), Duration::from_secs(10)),
            "no results while typing: {}",
            d.source()
        );
        d.click(&format!("li[data-event=\"{event}\"] .fav"));
        assert!(d.wait_for("aria-pressed=\"true\"", Duration::from_secs(5)), "the star is on");
        d.go(&s.url("/"));
        d.click("#favlink");
        assert!(d.wait_for("1 favourite, kept in this browser", Duration::from_secs(10)), "{}", d.source());
        assert!(d.source().contains(&format!("/event/{event}")));
    }

    let dir = screenshots();
    for (name, path) in [
        ("home", "/".to_owned()),
        ("day", format!("/day/{day}")),
        ("event", format!("/event/{event}")),
        ("event-moved", format!("/event/{moved}")),
        ("search", format!("/search?q={word}")),
        ("invite", "/invite".into()),
    ] {
        for (mode, flags) in
            [("light", vec![]), ("dark", vec!["--force-dark-mode", "--blink-settings=preferredColorScheme=0"])]
        {
            let file = dir.join(format!("{name}-{mode}.png"));
            let _ = std::fs::remove_file(&file);
            let mut args = flags.clone();
            let shot = format!("--screenshot={}", file.display());
            args.push(&shot);
            let out = shoot(exe, profile.path(), &args, &s.url(&path));
            let png = std::fs::read(&file)
                .unwrap_or_else(|_| panic!("no screenshot of {path}: {}", String::from_utf8_lossy(&out.stderr)));
            assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "{name}-{mode}: {} bytes", png.len());
        }
    }
}

#[test]
fn an_announcement_posted_elsewhere_appears_without_reload_where_javascript_runs() {
    if chromium().is_none() {
        return;
    }
    let s = site();
    let profile = tempfile::tempdir().expect("profile");
    // Another node, an organiser's phone, posts; its ops reach this node as a sync would bring them.
    let organiser_key = Identity::from_seed(93_001);
    let (festival, node) = (s.festival, s.node.clone());
    node.lock().expect("lock").add_organiser(festival, organiser_key.public()).expect("organiser named");
    let poster = std::thread::spawn(move || {
        let mut phone = Node::in_memory(organiser_key).expect("node");
        let archive = node.lock().expect("lock").export_archive(&festival).expect("archive");
        phone.import(&archive, &Default::default(), &mut |_, _| {}).expect("the phone holds the festival");
        std::thread::sleep(Duration::from_millis(2500));
        phone.announce_text(festival, "Storm warning: leave the field now".into(), true).expect("post");
        let ops = phone.export_archive(&festival).expect("archive");
        node.lock().expect("lock").import(&ops, &Default::default(), &mut |_, _| {}).expect("arrives");
    });
    let d = Driver::start(profile.path(), true);
    d.go(&s.url("/"));
    assert!(d.source().contains("Now and next"));
    // A marker only this page load carries: a reload would lose it.
    d.call(
        "POST",
        &format!("/session/{}/execute/sync", d.session),
        Some(serde_json::json!({ "script": "window.meadowMarker = 42; return 1;", "args": [] })),
    );
    let shown = d.wait_for("Storm warning: leave the field now", Duration::from_secs(20));
    poster.join().expect("poster");
    assert!(shown, "the page did not update itself: {}", d.source());
    let marker = d.call(
        "POST",
        &format!("/session/{}/execute/sync", d.session),
        Some(serde_json::json!({ "script": "return window.meadowMarker || 0;", "args": [] })),
    );
    assert_eq!(marker["value"], 42, "no reload happened");
    assert!(d.source().contains("role=\"alert\""), "the emergency banner shows");
}
