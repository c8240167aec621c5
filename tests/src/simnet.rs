//! A simulated link on a virtual clock, for sync sessions: latency, bandwidth, an MTU, loss (a
//! lost packet arrives one retransmission timeout later, as on a reliable transport) and cuts.
//! The Bluetooth work reuses it with BLE-like settings.

use std::collections::VecDeque;

use meadow_core::demo::Rng;
use meadow_core::node::{Node, SessionEnd};
use meadow_core::op::FestivalId;
use meadow_core::sync::{Config, Session};

/// How the simulated link behaves.
#[derive(Debug, Clone)]
pub struct Link {
    /// One-way latency, ms.
    pub latency_ms: u64,
    /// Bytes per second each way.
    pub bytes_per_s: u64,
    /// Largest packet; frames are cut into packets of at most this.
    pub mtu: usize,
    /// Chance that a packet is lost and arrives a retransmission timeout later.
    pub loss: f64,
    /// The link breaks once this many bytes (both ways) have been delivered.
    pub cut_after_bytes: Option<u64>,
    /// Seed for the loss pattern.
    pub seed: u64,
}

impl Link {
    /// A fast local link (1 ms, 100 MB/s).
    pub fn lan() -> Self {
        Link { latency_ms: 1, bytes_per_s: 100_000_000, mtu: 64 * 1024, loss: 0.0, cut_after_bytes: None, seed: 1 }
    }

    /// Roughly a Bluetooth LE GATT link: 30 ms, 20 KB/s, 244-byte packets, 1 % loss.
    pub fn ble() -> Self {
        Link { latency_ms: 30, bytes_per_s: 20_000, mtu: 244, loss: 0.01, cut_after_bytes: None, seed: 2 }
    }
}

/// What happened on the link.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How the initiator's session ended (`None`: it never did).
    pub initiator: Option<SessionEnd>,
    /// How the responder's session ended.
    pub responder: Option<SessionEnd>,
    /// Virtual time from start to the last event, ms.
    pub elapsed_ms: u64,
    /// Bytes delivered initiator to responder.
    pub bytes_up: u64,
    /// Bytes delivered responder to initiator.
    pub bytes_down: u64,
    /// Whether the link was cut.
    pub cut: bool,
    /// The largest frame either side sent.
    pub max_frame: usize,
}

struct Pipe {
    in_flight: VecDeque<(u64, Vec<u8>)>,
    free_at: u64,
    delivered: u64,
    max_frame: usize,
}

impl Pipe {
    fn new() -> Self {
        Pipe { in_flight: VecDeque::new(), free_at: 0, delivered: 0, max_frame: 0 }
    }

    /// Queues bytes at `now` (microseconds).
    fn send(&mut self, link: &Link, rng: &mut Rng, now: u64, bytes: Vec<u8>) {
        self.max_frame = self.max_frame.max(bytes.len());
        for packet in bytes.chunks(link.mtu.max(1)) {
            let start = self.free_at.max(now);
            let tx_us = (packet.len() as u64 * 1_000_000).div_ceil(link.bytes_per_s.max(1));
            self.free_at = start + tx_us;
            let lost = (rng.below(1_000_000) as f64) < link.loss * 1_000_000.0;
            let rto_us = if lost { (4 * link.latency_ms + 50) * 1000 } else { 0 };
            // Reliable and ordered: a retransmitted packet holds back the ones behind it.
            let at = (self.free_at + link.latency_ms * 1000 + rto_us).max(self.in_flight.back().map_or(0, |p| p.0));
            self.in_flight.push_back((at, packet.to_vec()));
        }
    }
}

fn pump(
    node: &mut Node,
    s: &mut Session,
    pipe: &mut Pipe,
    link: &Link,
    rng: &mut Rng,
    now: u64,
    end: &mut Option<SessionEnd>,
) {
    loop {
        let mut progressed = false;
        if end.is_none()
            && let Some(e) = node
                .serve_sync(s, &meadow_core::view::Arrival::from_peer(meadow_core::view::Via::Iroh, "simnet"))
                .expect("store works")
        {
            *end = Some(e);
            progressed = true;
        }
        while let Some(f) = s.poll_transmit(now / 1000) {
            pipe.send(link, rng, now, f);
            progressed = true;
        }
        if !progressed {
            break;
        }
    }
}

/// Virtual microseconds a node spends on each KiB it read (verifying and storing ops): about
/// 20 MB/s, what the ingest benchmark measures on a phone-class core.
pub const WORK_US_PER_KIB: u64 = 50;

fn work_us(bytes: usize) -> u64 {
    (bytes as u64 * WORK_US_PER_KIB).div_ceil(1024)
}

/// Runs a session between `a` (initiating, for `festival`) and `b` over `link`, until both ends
/// finish or fail, or `max_ms` of virtual time pass (a livelock guard). The link runs on a
/// microsecond clock; sessions see milliseconds.
pub fn sync_pair(a: &mut Node, b: &mut Node, festival: &FestivalId, link: &Link, cfg: &Config, max_ms: u64) -> Outcome {
    let mut rng = Rng::new(link.seed);
    let mut now = 0u64;
    let max_us = max_ms.saturating_mul(1000);
    let mut sa = a.start_sync(festival, cfg.clone(), now).expect("start");
    let mut sb = Session::respond(cfg.clone(), now);
    let (mut up, mut down) = (Pipe::new(), Pipe::new());
    let (mut ea, mut eb) = (None, None);
    let mut cut = false;
    // A node busy storing what it read cannot read again until it is done, as with a real
    // socket: the virtual clock charges each node for the bytes it read ([`WORK_US_PER_KIB`]),
    // so a fast link hands a busy node its data in larger reads. Nothing reads the real clock, so
    // a run is the same every time and a failing property case reproduces.
    let (mut busy_a, mut busy_b) = (0u64, 0u64);
    loop {
        pump(a, &mut sa, &mut up, link, &mut rng, now, &mut ea);
        pump(b, &mut sb, &mut down, link, &mut rng, now, &mut eb);
        if sa.is_ended() && sb.is_ended() && up.in_flight.is_empty() && down.in_flight.is_empty() {
            break;
        }
        let next_packet =
            [up.in_flight.front().map(|p| p.0.max(busy_b)), down.in_flight.front().map(|p| p.0.max(busy_a))]
                .into_iter()
                .flatten()
                .min();
        let next_timer =
            [sa.poll_timeout(), sb.poll_timeout()].into_iter().flatten().min().map(|ms| ms.saturating_mul(1000));
        let Some(next) = [next_packet, next_timer].into_iter().flatten().min() else { break };
        if next > max_us {
            now = max_us;
            break;
        }
        now = now.max(next);
        // Everything due by now arrives as one read, as a socket would hand it over.
        let read = |pipe: &mut Pipe, busy: u64| {
            let mut buf = Vec::new();
            while now >= busy && pipe.in_flight.front().is_some_and(|p| p.0 <= now) {
                if let Some((_, bytes)) = pipe.in_flight.pop_front() {
                    buf.extend_from_slice(&bytes);
                }
            }
            pipe.delivered += buf.len() as u64;
            buf
        };
        let to_b = read(&mut up, busy_b);
        if !to_b.is_empty() {
            sb.handle_input(&to_b, now / 1000);
            busy_b = now + work_us(to_b.len());
        }
        let to_a = read(&mut down, busy_a);
        if !to_a.is_empty() {
            sa.handle_input(&to_a, now / 1000);
            busy_a = now + work_us(to_a.len());
        }
        if let Some(limit) = link.cut_after_bytes
            && !cut
            && up.delivered + down.delivered >= limit
        {
            cut = true;
            up.in_flight.clear();
            down.in_flight.clear();
            sa.handle_close();
            sb.handle_close();
        }
        sa.handle_timeout(now / 1000);
        sb.handle_timeout(now / 1000);
        if cut {
            pump(a, &mut sa, &mut Pipe::new(), link, &mut rng, now, &mut ea);
            pump(b, &mut sb, &mut Pipe::new(), link, &mut rng, now, &mut eb);
            break;
        }
    }
    Outcome {
        initiator: ea,
        responder: eb,
        elapsed_ms: now / 1000,
        bytes_up: up.delivered,
        bytes_down: down.delivered,
        cut,
        max_frame: up.max_frame.max(down.max_frame),
    }
}
