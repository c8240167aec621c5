//! Tools of the hostile-peer suite: the real `meadow` binary run as a server whose memory is
//! measured, and ops signed the way a hostile client would sign them (validly, but with values
//! Meadow's own code refuses to produce).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use meadow_core::identity::{Identity, PublicKey};
use meadow_core::net::Invite;
use meadow_core::op::{FestivalId, OpId, SIGNING_CONTEXT};
use meadow_core::wire::Writer;

/// The `meadow` binary built next to this test binary (`cargo test --workspace` builds it).
pub fn meadow_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> -> target/<profile>/meadow
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(format!("meadow{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p meadow` (cargo test --workspace does)",
        bin.display()
    );
    bin
}

/// Resident memory of a process in KiB, from /proc.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// `meadow serve` running on loopback in a child process; killed when dropped.
pub struct Served {
    child: Child,
    /// The invite it printed for its current festival.
    pub invite: Invite,
    /// Where its web page is, when started with it.
    pub web: Option<std::net::SocketAddr>,
}

impl Served {
    /// Starts `meadow serve` on `data_dir` (which must hold a current festival) and waits for its
    /// invite.
    pub fn start(data_dir: &Path) -> Served {
        Served::start_with(data_dir, &[])
    }

    /// Starts `meadow serve` with its web page on loopback too, and waits for both.
    pub fn start_with_web(data_dir: &Path) -> Served {
        Served::start_with(data_dir, &["--web", "127.0.0.1:0"])
    }

    fn start_with(data_dir: &Path, extra: &[&str]) -> Served {
        let mut child = Command::new(meadow_bin())
            .args(["--data-dir"])
            .arg(data_dir)
            .args(["serve", "--bind", "127.0.0.1:0", "--no-mdns"])
            .args(extra)
            .env("MEADOW_LOG", std::env::var("MEADOW_SERVED_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start meadow serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let (web_tx, web_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(link) = line.strip_prefix("invite: ") {
                    let _ = tx.send(link.to_owned());
                }
                if let Some(rest) = line.strip_prefix("web: the programme for any browser at http://") {
                    let _ = web_tx.send(rest.split('/').next().unwrap_or_default().to_owned());
                }
            }
        });
        let link = rx.recv_timeout(Duration::from_secs(30)).expect("meadow serve printed its invite");
        let invite = Invite::parse(&link).expect("a valid invite");
        let web = (!extra.is_empty()).then(|| {
            let addr = web_rx.recv_timeout(Duration::from_secs(30)).expect("meadow serve printed its web address");
            addr.parse().expect("a web address")
        });
        Served { child, invite, web }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid()).expect("server is running")
    }

    /// Whether the server is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Samples a process's resident memory every 100 ms on a thread until stopped; yields the peak.
pub struct MemoryWatch {
    stop: mpsc::Sender<()>,
    handle: std::thread::JoinHandle<u64>,
}

impl MemoryWatch {
    /// Starts watching `pid`.
    pub fn start(pid: u32) -> MemoryWatch {
        let (stop, rx) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            let mut peak = 0;
            let started = Instant::now();
            loop {
                peak = peak.max(rss_kib(pid).unwrap_or(0));
                if rx.recv_timeout(Duration::from_millis(100)).is_ok() || started.elapsed() > Duration::from_secs(600) {
                    return peak;
                }
            }
        });
        MemoryWatch { stop, handle }
    }

    /// Stops and returns the peak resident memory seen, KiB.
    pub fn peak_kib(self) -> u64 {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or(0)
    }
}

/// A validly signed op with whatever header values it was given.
#[derive(Debug, Clone)]
pub struct Forged {
    /// The encoded op.
    pub bytes: Vec<u8>,
    /// Its id (BLAKE3 of the signed header), for chaining.
    pub id: OpId,
}

/// Header values of a forged op.
#[derive(Debug, Clone, Copy)]
pub struct ForgeHeader {
    /// Festival.
    pub festival: FestivalId,
    /// Sequence number.
    pub seq: u64,
    /// Backlink (needed when `seq > 0`).
    pub backlink: Option<OpId>,
    /// Lamport clock.
    pub lamport: u64,
    /// Wall clock, ms.
    pub wall_time_ms: u64,
    /// Whether the signature covers the signing context, as it must.
    pub context: bool,
}

/// Signs an op with arbitrary header values, as a hostile client could: the signature is valid,
/// whatever rules the values break.
pub fn forge_op(author: &Identity, h: ForgeHeader, body: &[u8]) -> Forged {
    let mut w = Writer::new();
    w.u8(1);
    w.raw(author.public().as_bytes());
    w.raw(h.festival.as_bytes());
    w.varint(h.seq);
    if let Some(b) = h.backlink {
        w.raw(b.as_bytes());
    }
    w.varint(h.lamport);
    w.varint(h.wall_time_ms);
    w.varint(body.len() as u64);
    w.raw(blake3::hash(body).as_bytes());
    let mut message = Vec::new();
    if h.context {
        message.extend_from_slice(SIGNING_CONTEXT);
    }
    message.extend_from_slice(w.as_slice());
    w.raw(&author.sign(&message));
    let id = OpId(*blake3::hash(w.as_slice()).as_bytes());
    w.raw(body);
    Forged { bytes: w.into_vec(), id }
}

/// A fresh identity no seed can reproduce.
pub fn stranger() -> Identity {
    Identity::generate().expect("randomness")
}

/// The public keys of identities.
pub fn keys(ids: &[&Identity]) -> Vec<PublicKey> {
    ids.iter().map(|i| i.public()).collect()
}
