//! A client of the web info point for the tests: a node served on loopback, raw HTTP/1.1
//! requests and their replies, the vendored schemas and the Python checks.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meadow_core::identity::Identity;
use meadow_core::node::{ImportOptions, Imported, Node};
use meadow_core::op::FestivalId;
use meadow_web::{SharedNode, Web, WebConfig};

/// A node served on the web on loopback, stopped on drop.
pub struct Served {
    rt: tokio::runtime::Runtime,
    web: Option<Web>,
    /// The node.
    pub node: SharedNode,
    /// The festival it serves.
    pub festival: FestivalId,
}

impl Served {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.web.as_ref().map(|w| w.addr()).expect("running")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _guard = self.rt.enter();
        self.web.take();
    }
}

/// A node holding the demo festival, starting today.
pub fn demo_node(seed: u64) -> (Node, FestivalId) {
    let mut node = Node::in_memory(Identity::from_seed(90_000 + seed)).expect("node");
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let (f, _) = meadow_core::demo::create_demo(&mut node, today).expect("demo");
    (node, f)
}

/// Serves `festival` of `node`, with the web configuration tuned.
pub fn serve_with(node: Node, festival: FestivalId, tune: impl FnOnce(&mut WebConfig)) -> Served {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let shared: SharedNode = Arc::new(Mutex::new(node));
    let mut cfg = WebConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    tune(&mut cfg);
    let invite: meadow_web::InviteFn = Arc::new(|f: &FestivalId| Some(format!("meadow://join/test{}", f.to_hex())));
    let web = rt.block_on(Web::start(shared.clone(), cfg, Some(invite))).expect("web starts");
    Served { rt, web: Some(web), node: shared, festival }
}

/// Serves a demo festival.
pub fn serve(seed: u64) -> Served {
    let (node, f) = demo_node(seed);
    serve_with(node, f, |_| {})
}

/// A response: status, headers (lower-cased names) and body.
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The first header called `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends raw request bytes and reads the whole answer (the request asks to close).
pub fn raw(addr: SocketAddr, request: &[u8]) -> std::io::Result<Reply> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(request)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").ok_or(std::io::ErrorKind::UnexpectedEof)?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Reply { status, headers, body: buf[end + 4..].to_vec() })
}

/// `GET path` with `extra` header lines.
pub fn get_with(addr: SocketAddr, path: &str, extra: &str) -> Reply {
    let req = format!("GET {path} HTTP/1.1\r\nHost: meadow.test\r\n{extra}Connection: close\r\n\r\n");
    raw(addr, req.as_bytes()).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// `GET path`.
pub fn get(addr: SocketAddr, path: &str) -> Reply {
    get_with(addr, path, "")
}

/// A script of `tests/scripts`.
pub fn script(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(name)
}

/// A vendored C3VOC schema.
pub fn schema(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/c3voc").join(name)
}

/// A new node that imports `bytes` as a new festival.
pub fn import_new(bytes: &[u8]) -> (Node, FestivalId) {
    let mut n = Node::in_memory(Identity::from_seed(91_111)).expect("node");
    let opts = ImportOptions { new: true, ..Default::default() };
    match n.import(bytes, &opts, &mut |_, _| {}).expect("the feed imports") {
        Imported::Schedule { festival, .. } => (n, festival),
        other => panic!("not a schedule: {other:?}"),
    }
}

/// Checks `schedule.xml` with xmllint against the vendored XSD and `schedule.json` with Python's
/// jsonschema (formats checked) against the vendored schema. The XSD predates frab's
/// `<day_change>`, which Meadow writes for the readers that know it: it is taken out for xmllint.
pub fn validate_feeds(xml: &str, json: &[u8]) {
    assert_eq!(xml.matches("<day_change>").count(), 1, "one <day_change>");
    let dir = tempfile::tempdir().expect("dir");
    let x = dir.path().join("schedule.xml");
    let without_day_change: String =
        xml.lines().filter(|l| !l.trim_start().starts_with("<day_change>")).collect::<Vec<_>>().join("\n");
    std::fs::write(&x, without_day_change).expect("write");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema("schedule.xml.xsd"))
        .arg(&x)
        .output()
        .expect("xmllint");
    assert!(out.status.success(), "schedule.xml: {}", String::from_utf8_lossy(&out.stderr));
    let j = dir.path().join("schedule.json");
    std::fs::write(&j, json).expect("write");
    let out = Command::new("python3")
        .arg(script("validate_feed.py"))
        .arg(schema("schema.json"))
        .arg(&j)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "schedule.json: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
