//! A crowd in a field: phones that meet at random for short contacts, each running the real
//! encounter scheduler and advertising the real advertisement, organisers posting announcements,
//! and a spammer posting community ops from fresh keys. What a swap moves is modelled from the
//! session's rules (announcements, then other official ops, then community ops; each way over one
//! shared radio, at the goodput the simulated swaps measure); the swaps themselves are tested op
//! by op in `tests/tests/proximity.rs`. Everything runs on a virtual clock from one seed.

use meadow_core::demo::Rng;
use meadow_core::op::FestivalId;
use meadow_core::proximity::advert::{LocalState, parse_advertising_data};
use meadow_core::proximity::{Action, Encounters, LinkOutcome, Salts, ScheduleConfig};

/// Advert salts from a seed: a crowd run replays exactly.
pub fn seeded_salts(seed: u64) -> Salts {
    let mut n = seed;
    Salts::from_fn(move || {
        n = n.wrapping_add(1);
        let h = blake3::hash(&n.to_le_bytes());
        [h.as_bytes()[0], h.as_bytes()[1]]
    })
}

/// How the crowd behaves.
#[derive(Debug, Clone)]
pub struct CrowdConfig {
    /// Phones in the field.
    pub phones: usize,
    /// Ops every phone holds at the start (the festival so far): official programme ops.
    pub festival_ops: usize,
    /// Community ops a spammer posts at the start, from fresh keys (0: no spammer).
    pub spam_ops: usize,
    /// Phones that are organisers' (they post the announcements).
    pub organisers: usize,
    /// Announcements, posted one every `announce_every_ms` from `announce_from_ms` on.
    pub announcements: usize,
    /// When the first announcement is posted, ms.
    pub announce_from_ms: u64,
    /// Time between announcements, ms.
    pub announce_every_ms: u64,
    /// How long the crowd is watched, ms.
    pub duration_ms: u64,
    /// Chance per second that a phone comes into range of another one.
    pub meet_per_s: f64,
    /// Shortest and longest contact, ms.
    pub contact_ms: (u64, u64),
    /// Radio bytes per second.
    pub bytes_per_s: u64,
    /// Op bytes per radio byte: 0.95 is what unpacked frames measure at MTU 185 (sync version 1).
    /// Packed frames (version 2) measure about 2.0 for community ops from fresh keys and 2.8 for a
    /// programme (`packed_goodput_*` of the benchmark's crowd of nodes).
    pub goodput: f64,
    /// Connection set-up before the first op moves (connect, discovery, MTU, Hello), ms.
    pub setup_ms: u64,
    /// Bytes of an op.
    pub op_bytes: u64,
    /// Seed.
    pub seed: u64,
}

impl Default for CrowdConfig {
    fn default() -> Self {
        CrowdConfig {
            phones: 200,
            festival_ops: 5_000,
            spam_ops: 10_000,
            organisers: 3,
            announcements: 8,
            announce_from_ms: 60_000,
            announce_every_ms: 400_000,
            duration_ms: 3_600_000,
            meet_per_s: 0.05,
            contact_ms: (5_000, 60_000),
            bytes_per_s: 20_000,
            goodput: 0.95,
            setup_ms: 600,
            op_bytes: 300,
            seed: 1,
        }
    }
}

/// What the crowd did.
#[derive(Debug, Clone)]
pub struct CrowdReport {
    /// Per announcement, seconds from posting until 90 % of the phones held it (`None`: never).
    pub announcement_p90_s: Vec<Option<f64>>,
    /// The worst of those.
    pub p90_announcement_s: f64,
    /// Connections (dialled or accepted) per phone per hour, on average.
    pub connections_per_phone_hour: f64,
    /// The most any phone made in an hour.
    pub max_connections_per_phone_hour: f64,
    /// Swaps that ran.
    pub swaps: u64,
    /// Swaps cut off by the end of a contact.
    pub swaps_cut: u64,
    /// Spam ops the average phone held at the end.
    pub spam_held_mean: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Announcement = 0,
    Official = 1,
    Community = 2,
}

/// A swap in progress: ops arrive at their times, until it ends.
struct Swap {
    a: usize,
    b: usize,
    /// When it ends by itself: all sent, or out of range.
    ends: u64,
    /// Whether everything will have been sent by then.
    complete: bool,
    /// (arrival ms, op, to), latest first.
    pending: Vec<(u64, usize, usize)>,
    /// When the last official op arrives (then both schedulers are told), until told.
    official_until: Option<u64>,
}

struct Phone {
    held: Vec<u64>,
    sched: Encounters,
    busy_until: u64,
    connections: u64,
    dirty: bool,
}

fn has(bits: &[u64], op: usize) -> bool {
    bits[op / 64] >> (op % 64) & 1 == 1
}

fn set(bits: &mut [u64], op: usize) {
    bits[op / 64] |= 1 << (op % 64);
}

struct Ops {
    kinds: Vec<Kind>,
    announcements: std::ops::Range<usize>,
    spam: std::ops::Range<usize>,
}

fn local_state(festival: &FestivalId, ops: &Ops, held: &[u64]) -> LocalState {
    let mut official = blake3::Hasher::new();
    let mut all = blake3::Hasher::new();
    for (w, word) in held.iter().enumerate() {
        all.update(&word.to_le_bytes());
        let mut off = 0u64;
        for b in 0..64 {
            let op = w * 64 + b;
            if op < ops.kinds.len() && ops.kinds[op] != Kind::Community && word >> b & 1 == 1 {
                off |= 1 << b;
            }
        }
        official.update(&off.to_le_bytes());
    }
    let fp = |h: blake3::Hasher| {
        let mut f = [0u8; 16];
        f.copy_from_slice(&h.finalize().as_bytes()[..16]);
        f
    };
    LocalState { festival: *festival, official: fp(official), all: fp(all) }
}

/// Runs the crowd.
pub fn run(cfg: &CrowdConfig) -> CrowdReport {
    let mut rng = Rng::new(cfg.seed);
    let festival = FestivalId([0x42; 32]);
    let total = cfg.festival_ops + cfg.announcements + cfg.spam_ops;
    let mut kinds = vec![Kind::Official; cfg.festival_ops];
    kinds.extend(std::iter::repeat_n(Kind::Announcement, cfg.announcements));
    kinds.extend(std::iter::repeat_n(Kind::Community, cfg.spam_ops));
    let ops = Ops {
        kinds,
        announcements: cfg.festival_ops..cfg.festival_ops + cfg.announcements,
        spam: cfg.festival_ops + cfg.announcements..total,
    };
    let words = total.div_ceil(64);
    let spammer = cfg.phones - 1;
    let mut phones: Vec<Phone> = (0..cfg.phones)
        .map(|i| {
            let mut held = vec![0u64; words];
            (0..cfg.festival_ops).for_each(|op| set(&mut held, op));
            if i == spammer && cfg.spam_ops > 0 {
                ops.spam.clone().for_each(|op| set(&mut held, op));
            }
            let local = local_state(&festival, &ops, &held);
            Phone {
                held,
                sched: Encounters::new(
                    ScheduleConfig::default(),
                    Some(local),
                    0,
                    0,
                    seeded_salts(cfg.seed * 1_000 + i as u64),
                ),
                busy_until: 0,
                connections: 0,
                dirty: false,
            }
        })
        .collect();
    // (a, b, until)
    let mut contacts: Vec<(usize, usize, u64)> = Vec::new();
    let mut swaps: Vec<Swap> = Vec::new();
    let mut scanning = vec![false; cfg.phones];
    let mut got_at: Vec<Vec<Option<u64>>> = vec![vec![None; cfg.phones]; cfg.announcements];
    let (mut swap_count, mut cut_count) = (0u64, 0u64);
    let ms_per_byte = 1000.0 / (cfg.bytes_per_s as f64 * cfg.goodput);
    let step = 1_000u64;
    let mut now = 0u64;
    while now <= cfg.duration_ms {
        // Announcements posted by organisers.
        for (k, got) in got_at.iter_mut().enumerate() {
            if cfg.announce_from_ms + k as u64 * cfg.announce_every_ms == now {
                let by = k % cfg.organisers.max(1);
                set(&mut phones[by].held, ops.announcements.start + k);
                got[by] = Some(now);
                phones[by].dirty = true;
            }
        }
        // Ops arrive; swaps that end now free their phones.
        let mut i = 0;
        while i < swaps.len() {
            let sw = &mut swaps[i];
            while sw.pending.last().is_some_and(|d| d.0 <= now) {
                if let Some((t, op, to)) = sw.pending.pop() {
                    set(&mut phones[to].held, op);
                    phones[to].dirty = true;
                    if ops.announcements.contains(&op) {
                        got_at[op - ops.announcements.start][to].get_or_insert(t);
                    }
                }
            }
            if sw.official_until.is_some_and(|t| t <= now) && sw.ends > now {
                sw.official_until = None;
                let (a, b) = (sw.a, sw.b);
                phones[a].sched.official_done(b as u64, now);
                phones[b].sched.official_done(a as u64, now);
            }
            let sw = &mut swaps[i];
            if sw.ends <= now {
                let sw = swaps.swap_remove(i);
                let outcome = if sw.complete { LinkOutcome::Finished } else { LinkOutcome::Failed };
                for (x, y) in [(sw.a, sw.b), (sw.b, sw.a)] {
                    phones[x].busy_until = phones[x].busy_until.min(now);
                    phones[x].sched.link_ended(y as u64, outcome, now);
                }
            } else {
                i += 1;
            }
        }
        // New contacts, and the end of old ones.
        meet(&mut rng, cfg.phones, cfg.meet_per_s, cfg.contact_ms, &mut contacts, now);
        for p in phones.iter_mut().filter(|p| p.dirty) {
            p.dirty = false;
            let festival_state = local_state(&festival, &ops, &p.held);
            p.sched.set_local(Some(festival_state), now);
        }
        // Scans see the advertisements of phones in range.
        for &(a, b, _) in &contacts {
            for (x, y) in [(a, b), (b, a)] {
                if scanning[x]
                    && let Some(ad) = phones[y].sched.advert()
                    && let Ok(Some(seen)) = parse_advertising_data(&ad.advertising_data())
                {
                    phones[x].sched.seen(y as u64, seen, now);
                }
            }
        }
        // Every phone acts until none has more to do; the swaps dialled start once all have
        // acted, so that a community transfer a phone ends to make way for news (its scheduler
        // says so when it accepts the news) does not hold the news back.
        let mut dialled: Vec<(usize, usize, u64)> = Vec::new();
        let mut acted = true;
        while acted {
            acted = false;
            for x in 0..cfg.phones {
                while let Some(action) = phones[x].sched.poll_action(now) {
                    acted = true;
                    match action {
                        Action::StartScan => scanning[x] = true,
                        Action::StopScan => scanning[x] = false,
                        Action::Advertise | Action::StopAdvertising => {}
                        Action::ReadState(y) | Action::Connect(y) => {
                            let y = y as usize;
                            let contact = contacts.iter().find(|c| (c.0, c.1) == (x.min(y), x.max(y))).map(|c| c.2);
                            let accepted = contact.is_some() && phones[y].sched.incoming(x as u64, now);
                            match contact.filter(|_| accepted) {
                                Some(until) => dialled.push((x, y, until)),
                                None => phones[x].sched.link_ended(y as u64, LinkOutcome::Unreachable, now),
                            }
                        }
                        Action::Disconnect(y) => {
                            // The slice is over: what has not arrived goes in a later encounter.
                            let y = y as usize;
                            if let Some(sw) = swaps.iter_mut().find(|s| (s.a, s.b) == (x, y) || (s.a, s.b) == (y, x)) {
                                sw.pending.retain(|d| d.0 <= now);
                                sw.ends = now;
                                sw.complete = true;
                            }
                            phones[x].busy_until = now;
                            phones[y].busy_until = now;
                        }
                    }
                }
            }
        }
        for (x, y, until) in dialled {
            phones[x].connections += 1;
            phones[y].connections += 1;
            // What each lacks of the other's, announcements first, each way.
            let mut moving: Vec<(Kind, usize, usize)> = Vec::new();
            for (from, to) in [(x, y), (y, x)] {
                for op in 0..total {
                    if has(&phones[from].held, op) && !has(&phones[to].held, op) {
                        moving.push((ops.kinds[op], op, to));
                    }
                }
            }
            moving.sort();
            let start = now.max(phones[x].busy_until).max(phones[y].busy_until) + cfg.setup_ms;
            let mut t = start as f64;
            let mut pending = Vec::with_capacity(moving.len());
            let mut official_until = start;
            for (kind, op, to) in moving {
                t += cfg.op_bytes as f64 * ms_per_byte;
                if t as u64 > until {
                    break;
                }
                if kind != Kind::Community {
                    official_until = t as u64;
                }
                pending.push((t as u64, op, to));
            }
            let complete = t as u64 <= until;
            let ends = (t as u64).min(until).max(now + 1);
            pending.reverse();
            swap_count += 1;
            cut_count += u64::from(!complete);
            phones[x].busy_until = ends;
            phones[y].busy_until = ends;
            let official_until = (official_until < ends).then_some(official_until);
            swaps.push(Swap { a: x, b: y, ends, complete, pending, official_until });
        }
        now += step;
    }
    let connections: Vec<u64> = phones.iter().map(|p| p.connections).collect();
    let spam_held: f64 =
        phones.iter().map(|p| ops.spam.clone().filter(|op| has(&p.held, *op)).count() as f64).sum::<f64>()
            / cfg.phones as f64;
    report(
        &got_at,
        |k| cfg.announce_from_ms + k as u64 * cfg.announce_every_ms,
        &connections,
        cfg.duration_ms,
        (swap_count, cut_count),
        spam_held,
    )
}

/// New contacts among `phones` at `now`, and the end of old ones: (a, b, until), a < b.
pub(crate) fn meet(
    rng: &mut Rng,
    phones: usize,
    meet_per_s: f64,
    contact_ms: (u64, u64),
    contacts: &mut Vec<(usize, usize, u64)>,
    now: u64,
) {
    contacts.retain(|c| c.2 > now);
    for a in 0..phones {
        if (rng.below(1_000_000) as f64) < meet_per_s * 1_000_000.0 {
            let b = rng.below(phones as u64) as usize;
            if b != a && !contacts.iter().any(|c| (c.0, c.1) == (a.min(b), a.max(b))) {
                let len = contact_ms.0 + rng.below(contact_ms.1 - contact_ms.0);
                contacts.push((a.min(b), a.max(b), now + len));
            }
        }
    }
}

/// The report of a crowd run: when each phone got each announcement (`posted(k)` is when the
/// k-th was posted), each phone's connections over `duration_ms`, (swaps, swaps cut), and the
/// spam the average phone held.
pub(crate) fn report(
    got_at: &[Vec<Option<u64>>],
    posted: impl Fn(usize) -> u64,
    connections: &[u64],
    duration_ms: u64,
    (swaps, swaps_cut): (u64, u64),
    spam_held_mean: f64,
) -> CrowdReport {
    let hours = duration_ms as f64 / 3_600_000.0;
    let need = (connections.len() as f64 * 0.9).ceil() as usize;
    let announcement_p90_s: Vec<Option<f64>> = got_at
        .iter()
        .enumerate()
        .map(|(k, at)| {
            let mut times: Vec<u64> = at.iter().flatten().copied().collect();
            times.sort_unstable();
            times.get(need.saturating_sub(1)).map(|t| t.saturating_sub(posted(k)) as f64 / 1000.0)
        })
        .collect();
    let p90 = announcement_p90_s.iter().map(|t| t.unwrap_or(f64::INFINITY)).fold(0.0, f64::max);
    let conns: Vec<f64> = connections.iter().map(|c| *c as f64 / hours).collect();
    CrowdReport {
        announcement_p90_s,
        p90_announcement_s: p90,
        connections_per_phone_hour: conns.iter().sum::<f64>() / conns.len().max(1) as f64,
        max_connections_per_phone_hour: conns.iter().copied().fold(0.0, f64::max),
        swaps,
        swaps_cut,
        spam_held_mean,
    }
}
