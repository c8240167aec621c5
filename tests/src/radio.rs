//! A simulated Bluetooth LE link on a virtual clock for [`LinkSync`] over GATT or a stream: an
//! ATT MTU, a rate, latency, and a disconnect at a chosen moment. Each packet costs its bytes
//! plus the ATT header on the air; a node busy storing what it read cannot read the next packet
//! until it is done ([`WORK_US_PER_KIB`]). Nothing reads the real clock.

use std::collections::VecDeque;

use meadow_core::demo::Rng;
use meadow_core::identity::Identity;
use meadow_core::node::{LinkStep, LinkSync, Node, SessionEnd};
use meadow_core::op::{Announcement, Body, FestivalId, Priority, Role};
use meadow_core::proximity::Transport;
use meadow_core::proximity::gatt::ATT_HEADER;

use crate::simnet::WORK_US_PER_KIB;
use crate::{Builder, Scenario, event_body};

/// How the simulated radio behaves.
#[derive(Debug, Clone)]
pub struct Radio {
    /// GATT with this ATT MTU, or a stream.
    pub transport: Transport,
    /// Bytes per second on the air, both ways together (a BLE connection takes turns).
    pub bytes_per_s: u64,
    /// One-way latency, ms.
    pub latency_ms: u64,
    /// The link drops at this virtual time, ms.
    pub drop_at_ms: Option<u64>,
}

impl Radio {
    /// A phone-like GATT link.
    pub fn gatt(mtu: usize, bytes_per_s: u64) -> Self {
        Radio { transport: Transport::Gatt { mtu }, bytes_per_s, latency_ms: 30, drop_at_ms: None }
    }
}

/// What happened on a swap.
#[derive(Debug, Clone)]
pub struct Swap {
    /// How the dialling side's session ended (`None`: it never did).
    pub dialler: Option<SessionEnd>,
    /// How the other side's ended.
    pub answerer: Option<SessionEnd>,
    /// Virtual time to the last event, ms.
    pub elapsed_ms: u64,
    /// Bytes on the air both ways, ATT headers included.
    pub link_bytes: u64,
    /// Bytes of ops that arrived, both ways.
    pub op_bytes: u64,
    /// Ops the answering side sent.
    pub answerer_ops_sent: u64,
    /// Whether the link dropped.
    pub dropped: bool,
}

struct Air {
    /// (arrival µs, packet, from the dialler).
    in_flight: VecDeque<(u64, Vec<u8>, bool)>,
    free_at: u64,
    bytes: u64,
}

impl Air {
    fn send(&mut self, radio: &Radio, now: u64, packets: Vec<Vec<u8>>, from_dialler: bool) {
        for p in packets {
            let overhead = if matches!(radio.transport, Transport::Gatt { .. }) { ATT_HEADER } else { 0 };
            let len = (p.len() + overhead) as u64;
            self.bytes += len;
            let start = self.free_at.max(now);
            self.free_at = start + (len * 1_000_000).div_ceil(radio.bytes_per_s.max(1));
            self.in_flight.push_back((self.free_at + radio.latency_ms * 1000, p, from_dialler));
        }
    }
}

/// Runs a swap: `dialler` initiates for `festival`, `answerer` answers, over `radio`, until both
/// end or `max_ms` pass. `probe` sees the dialler after each packet it read, with the time in ms.
pub fn swap(
    dialler: &mut Node,
    answerer: &mut Node,
    festival: &FestivalId,
    radio: &Radio,
    max_ms: u64,
    probe: &mut dyn FnMut(&Node, u64),
) -> Swap {
    let mut air = Air { in_flight: VecDeque::new(), free_at: 0, bytes: 0 };
    let mut d = LinkSync::initiate(dialler, festival, radio.transport, 0).expect("initiate");
    let mut a = LinkSync::respond(radio.transport, 0);
    let first = d.start(dialler).expect("start");
    air.send(radio, 0, first.packets, true);
    let first = a.start(answerer).expect("start");
    air.send(radio, 0, first.packets, false);
    let (mut busy_d, mut busy_a) = (0u64, 0u64);
    let mut now = 0u64;
    let mut dropped = false;
    let max_us = max_ms * 1000;
    let ended = |d: &LinkSync, a: &LinkSync| d.end().is_some() && a.end().is_some();
    while !ended(&d, &a) {
        let next_packet = air.in_flight.front().map(|(t, _, from_d)| (*t).max(if *from_d { busy_a } else { busy_d }));
        let next_timer = [d.poll_timeout(), a.poll_timeout()].into_iter().flatten().min().map(|ms| ms * 1000);
        let drop_at = radio.drop_at_ms.filter(|_| !dropped).map(|ms| ms * 1000);
        let Some(next) = [next_packet, next_timer, drop_at].into_iter().flatten().min() else { break };
        if next > max_us {
            now = max_us;
            break;
        }
        now = now.max(next);
        if drop_at.is_some_and(|t| now >= t) {
            dropped = true;
            air.in_flight.clear();
            d.closed(dialler).expect("close");
            a.closed(answerer).expect("close");
            break;
        }
        if next_packet.is_some_and(|t| t <= now)
            && let Some((_, p, from_d)) = air.in_flight.pop_front()
        {
            let ms = now / 1000;
            let work = (p.len() as u64 * WORK_US_PER_KIB).div_ceil(1024);
            let step: LinkStep = if from_d {
                busy_a = now + work;
                a.received(answerer, &p, ms).expect("answerer")
            } else {
                busy_d = now + work;
                let s = d.received(dialler, &p, ms).expect("dialler");
                probe(dialler, ms);
                s
            };
            air.send(radio, now, step.packets, !from_d);
        }
        let ms = now / 1000;
        let sd = d.tick(dialler, ms).expect("tick");
        air.send(radio, now, sd.packets, true);
        let sa = a.tick(answerer, ms).expect("tick");
        air.send(radio, now, sa.packets, false);
    }
    let op_bytes = d.stats().op_bytes_received + a.stats().op_bytes_received;
    Swap {
        dialler: d.end().cloned(),
        answerer: a.end().cloned(),
        elapsed_ms: now / 1000,
        link_bytes: air.bytes,
        op_bytes,
        answerer_ops_sent: a.stats().ops_sent,
        dropped,
    }
}

/// A festival as an info point holds it: the owner names two organisers, one imports the
/// programme (`events` events), the other posts `announcements` announcements.
pub fn programme_with_announcements(seed: u64, events: usize, announcements: usize) -> Scenario {
    let mut rng = Rng::new(seed);
    let mut b = Builder::new(seed, 3);
    for o in 1..=2 {
        let member = b.identity(o).public();
        b.push(0, None, Body::RoleGrant { member, role: Role::Organiser });
    }
    for n in 0..events {
        let offset = (n % 5) as i64 * 86_400 + rng.below(56) as i64 * 900;
        b.push(1, None, event_body(&mut rng, n, None, offset));
    }
    for n in 0..announcements {
        let priority = if n % 10 == 0 { Priority::Emergency } else { Priority::High };
        let text = format!("Announcement {n}: the {} stage opens {} minutes late.", n % 7, 10 + n % 50);
        b.push(2, None, Body::Announcement(Announcement { text, priority, expires: None }));
    }
    b.build()
}

/// A node holding nothing.
pub fn empty_node(seed: u64) -> Node {
    Node::in_memory(Identity::from_seed(70_000 + seed)).expect("node")
}
