//! A crowd of real nodes: every phone a `Node` with its own store, its real encounter scheduler
//! advertising what its store holds, and every swap a real sync session over the simulated radio
//! ([`crate::radio::swap`]). Smaller than the model of [`crate::crowd`] (a swap here runs every
//! op through a session and a store), and run against the same model settings, to say how far
//! the model is from it. Everything runs on a virtual clock from one seed.

use meadow_core::demo::Rng;
use meadow_core::identity::Identity;
use meadow_core::node::Node;
use meadow_core::op::{Announcement, Body, LogPosition, LogWriter, Op, OpId, Priority};
use meadow_core::proximity::advert::{Interest, parse_advertising_data};
use meadow_core::proximity::{Action, Encounters, LinkOutcome, ScheduleConfig};

use crate::crowd::{CrowdConfig, CrowdReport, meet, report, seeded_salts};
use crate::radio::{Radio, programme_with_announcements, swap};
use crate::{FESTIVAL_START, event_body};

/// How the crowd of nodes behaves.
#[derive(Debug, Clone)]
pub struct NodeCrowdConfig {
    /// Phones in the field (the last is the spammer's).
    pub phones: usize,
    /// Programme events every phone holds at the start.
    pub events: usize,
    /// Community events the spammer holds at the start, each from a fresh key (0: no spammer).
    pub spam_ops: usize,
    /// Announcements, posted one every `announce_every_ms` from `announce_from_ms` on, by
    /// phones 0 and 1 in turn (the organisers' phones).
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
    /// The radio of every swap.
    pub radio: Radio,
    /// Seed.
    pub seed: u64,
}

impl Default for NodeCrowdConfig {
    fn default() -> Self {
        NodeCrowdConfig {
            phones: 30,
            events: 200,
            spam_ops: 1_500,
            announcements: 4,
            announce_from_ms: 60_000,
            announce_every_ms: 400_000,
            duration_ms: 1_800_000,
            meet_per_s: 0.05,
            contact_ms: (5_000, 60_000),
            radio: Radio::gatt(185, 20_000),
            seed: 1,
        }
    }
}

impl NodeCrowdConfig {
    /// The model's settings for the same crowd: the same phones, ops, contacts and radio, the
    /// op size and goodput measured from the ops here.
    pub fn model(&self, festival_ops: usize, op_bytes: u64, goodput: f64) -> CrowdConfig {
        CrowdConfig {
            phones: self.phones,
            festival_ops,
            spam_ops: self.spam_ops,
            organisers: 2,
            announcements: self.announcements,
            announce_from_ms: self.announce_from_ms,
            announce_every_ms: self.announce_every_ms,
            duration_ms: self.duration_ms,
            meet_per_s: self.meet_per_s,
            contact_ms: self.contact_ms,
            bytes_per_s: self.radio.bytes_per_s,
            op_bytes,
            goodput,
            seed: self.seed,
            ..CrowdConfig::default()
        }
    }
}

/// What the crowd of nodes did, and the festival it used (for the model's settings).
#[derive(Debug, Clone)]
pub struct NodeCrowdRun {
    /// The figures, as the model reports them.
    pub report: CrowdReport,
    /// Ops every phone held at the start.
    pub festival_ops: usize,
    /// Mean bytes of an op of the festival and the spam.
    pub op_bytes: u64,
    /// Bytes on the air in all swaps.
    pub link_bytes: u64,
    /// Op bytes per packed byte, in frames of 8 KiB of ops: the programme's ops, and the spam's.
    pub packed_goodput: (f64, f64),
}

/// Op bytes per byte of packed frames (8 KiB of ops each, as sessions send them).
pub fn packed_goodput(ops: &[Op]) -> f64 {
    let (mut plain, mut packed) = (0usize, 0usize);
    let mut frame: Vec<Op> = Vec::new();
    let mut size = 0;
    for op in ops {
        if size + op.bytes().len() > 8 * 1024 && !frame.is_empty() {
            packed += meadow_core::sync::packed::pack(&frame).len();
            frame.clear();
            size = 0;
        }
        size += op.bytes().len();
        plain += op.bytes().len();
        frame.push(op.clone());
    }
    if !frame.is_empty() {
        packed += meadow_core::sync::packed::pack(&frame).len();
    }
    plain as f64 / packed.max(1) as f64
}

struct Phone {
    node: Node,
    sched: Encounters,
    /// Busy in a swap until then (the radio is shared).
    busy_until: u64,
    /// The peer of the swap in progress, how it ended, and whether it was for community ops
    /// only.
    swap: Option<(usize, LinkOutcome, bool)>,
    connections: u64,
    dirty: bool,
}

/// Runs the crowd.
pub fn run(cfg: &NodeCrowdConfig) -> NodeCrowdRun {
    let base = programme_with_announcements(cfg.seed, cfg.events, 0);
    let festival = base.festival;
    // The announcements, signed ahead by a key the owner made organiser (author 2 of the
    // programme's builder continues its log), posted on the organisers' phones at their time.
    let announcements = announcement_ops(cfg, &base.ops);
    let spam: Vec<Op> = (0..cfg.spam_ops)
        .map(|i| {
            let key = Identity::from_seed(cfg.seed * 7_919 + 1_000_000 + i as u64);
            let mut w = LogWriter::new(festival, LogPosition { seq: 0, backlink: None, lamport: 0 });
            let mut rng = Rng::new(i as u64);
            w.sign(&key, 10_000 + i as u64, 0, event_body(&mut rng, i, None, (i % 4) as i64 * 86_400)).expect("spam op")
        })
        .collect();
    let all_bytes: usize = base.ops.iter().chain(&spam).map(|o| o.bytes().len()).sum();
    let op_bytes = (all_bytes / (base.ops.len() + spam.len()).max(1)) as u64;
    let spammer = cfg.phones - 1;
    let mut phones: Vec<Phone> = (0..cfg.phones)
        .map(|i| {
            let mut node = Node::in_memory(Identity::from_seed(cfg.seed * 10_007 + i as u64)).expect("node");
            node.ingest(base.ops.clone()).expect("festival");
            if i == spammer && !spam.is_empty() {
                node.ingest(spam.clone()).expect("spam");
            }
            let local = node.local_state(&festival).ok();
            let sched =
                Encounters::new(ScheduleConfig::default(), local, 0, 0, seeded_salts(cfg.seed * 1_000 + i as u64));
            Phone { node, sched, busy_until: 0, swap: None, connections: 0, dirty: false }
        })
        .collect();
    let mut rng = Rng::new(cfg.seed);
    let mut contacts: Vec<(usize, usize, u64)> = Vec::new();
    let mut scanning = vec![false; cfg.phones];
    let mut got_at: Vec<Vec<Option<u64>>> = vec![vec![None; cfg.phones]; cfg.announcements];
    let ids: Vec<OpId> = announcements.iter().map(Op::id).collect();
    let (mut swaps, mut cut, mut link_bytes) = (0u64, 0u64, 0u64);
    let step = 1_000u64;
    let mut now = 0u64;
    while now <= cfg.duration_ms {
        for (k, op) in announcements.iter().enumerate() {
            if cfg.announce_from_ms + k as u64 * cfg.announce_every_ms == now {
                let by = k % 2;
                phones[by].node.ingest(vec![op.clone()]).expect("announcement");
                phones[by].dirty = true;
            }
        }
        // Swaps end; what they carried has arrived.
        for x in 0..cfg.phones {
            if phones[x].busy_until <= now
                && let Some((y, outcome, _)) = phones[x].swap.take()
            {
                phones[x].sched.link_ended(y as u64, outcome, now);
                phones[x].dirty = true;
            }
        }
        for (p, phone) in phones.iter_mut().enumerate().filter(|(_, p)| p.dirty) {
            phone.dirty = false;
            let held = phone.node.store().ops_by_id(&festival, &ids).unwrap_or_default();
            for (k, id) in ids.iter().enumerate() {
                if got_at[k][p].is_none() && held.iter().any(|o| o.id() == *id) {
                    got_at[k][p] = Some(now);
                }
            }
            let local = phone.node.local_state(&festival).ok();
            phone.sched.set_local(local, now);
        }
        meet(&mut rng, cfg.phones, cfg.meet_per_s, cfg.contact_ms, &mut contacts, now);
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
        for x in 0..cfg.phones {
            while let Some(action) = phones[x].sched.poll_action(now) {
                match action {
                    Action::StartScan => scanning[x] = true,
                    Action::StopScan => scanning[x] = false,
                    Action::Advertise | Action::StopAdvertising => {}
                    // The scheduler ends a link: its slice is over, or news needs the radio. A
                    // swap here has moved its ops when it began, so ending it frees the radios.
                    Action::Disconnect(y) => {
                        let y = y as usize;
                        if phones[x].swap.is_some_and(|s| s.0 == y) && phones[x].busy_until > now {
                            phones[x].busy_until = now;
                            phones[y].busy_until = now;
                        }
                    }
                    Action::ReadState(y) | Action::Connect(y) => {
                        let y = y as usize;
                        let contact = contacts.iter().find(|c| (c.0, c.1) == (x.min(y), x.max(y))).map(|c| c.2);
                        // What the dialler makes of the peer's advertisement.
                        let interest = phones[y]
                            .sched
                            .advert()
                            .zip(phones[x].node.local_state(&festival).ok())
                            .map(|(ad, local)| ad.compare(&local));
                        // News may go to a phone busy with community ops: a phone has a second link
                        // for it (or its scheduler ends the community one to make room), and news
                        // goes first on the shared radio, so the community swap is taken as over.
                        let news = interest == Some(Interest::OfficialDiffers);
                        let free = |p: &Phone| p.busy_until <= now || (news && p.swap.is_some_and(|s| s.2));
                        let free = free(&phones[x]) && free(&phones[y]);
                        let accepted = contact.is_some() && free && phones[y].sched.incoming(x as u64, now);
                        let Some(until) = contact.filter(|_| accepted) else {
                            phones[x].sched.link_ended(y as u64, LinkOutcome::Unreachable, now);
                            continue;
                        };
                        phones[x].connections += 1;
                        phones[y].connections += 1;
                        // A link for community ops only ends after its shorter slice, as the
                        // phones' glue ends it when the scheduler says so. A link that began with
                        // news runs on with community ops after it (the sessions do not report
                        // when the official ops are done, see `Encounters::official_done`).
                        let community = interest == Some(Interest::Differs);
                        // A community swap that gave way ends now, on both sides.
                        for p in [x, y] {
                            if let Some((old, outcome, _)) = phones[p].swap.take() {
                                phones[p].sched.link_ended(old as u64, outcome, now);
                                phones[old].busy_until = phones[old].busy_until.min(now);
                            }
                        }
                        let cfg_s = ScheduleConfig::default();
                        let slice = if community { cfg_s.community_slice_ms } else { cfg_s.slice_ms };
                        let max_ms = until.saturating_sub(now).min(slice);
                        let (dialler, answerer) = pair(&mut phones, x, y);
                        let out =
                            swap(&mut dialler.node, &mut answerer.node, &festival, &cfg.radio, max_ms, &mut |_, _| {});
                        let finished = matches!(out.dialler, Some(meadow_core::node::SessionEnd::Finished(_)));
                        let outcome = if finished { LinkOutcome::Finished } else { LinkOutcome::Failed };
                        let ends = now + out.elapsed_ms.max(1);
                        for (p, peer) in [(x, y), (y, x)] {
                            phones[p].busy_until = ends;
                            phones[p].swap = Some((peer, outcome, community));
                        }
                        swaps += 1;
                        cut += u64::from(!finished);
                        link_bytes += out.link_bytes;
                    }
                }
            }
        }
        now += step;
    }
    let spam_ids: Vec<OpId> = spam.iter().map(Op::id).collect();
    let spam_held =
        phones.iter().map(|p| p.node.store().ops_by_id(&festival, &spam_ids).map_or(0, |v| v.len())).sum::<usize>()
            as f64
            / cfg.phones as f64;
    NodeCrowdRun {
        report: report(
            &got_at,
            |k| cfg.announce_from_ms + k as u64 * cfg.announce_every_ms,
            &phones.iter().map(|p| p.connections).collect::<Vec<_>>(),
            cfg.duration_ms,
            (swaps, cut),
            spam_held,
        ),
        festival_ops: base.ops.len(),
        op_bytes,
        link_bytes,
        packed_goodput: (packed_goodput(&base.ops), packed_goodput(&spam)),
    }
}

/// The two phones of a swap, mutably.
fn pair(phones: &mut [Phone], x: usize, y: usize) -> (&mut Phone, &mut Phone) {
    if x < y {
        let (a, b) = phones.split_at_mut(y);
        (&mut a[x], &mut b[0])
    } else {
        let (a, b) = phones.split_at_mut(x);
        (&mut b[0], &mut a[y])
    }
}

/// Announcements by the programme's second organiser (author 2 of its builder), continuing its
/// log after the programme's ops.
fn announcement_ops(cfg: &NodeCrowdConfig, programme: &[Op]) -> Vec<Op> {
    let builder = crate::Builder::new(cfg.seed, 3);
    let key = builder.identity(2);
    let last = programme.iter().filter(|o| o.author() == key.public()).max_by_key(|o| o.seq());
    let lamport = programme.iter().map(Op::lamport).max().unwrap_or(0) + 1;
    let position = match last {
        Some(o) => LogPosition { seq: o.seq() + 1, backlink: Some(o.id()), lamport },
        None => LogPosition { seq: 0, backlink: None, lamport },
    };
    let mut w = LogWriter::new(programme[0].festival(), position);
    (0..cfg.announcements)
        .map(|k| {
            let text = format!("Announcement {k}: the main stage opens {} minutes late.", 10 + k);
            let body = Body::Announcement(Announcement { text, priority: Priority::High, expires: None });
            w.sign(key, lamport + k as u64, (FESTIVAL_START as u64) * 1000, body).expect("announcement")
        })
        .collect()
}
