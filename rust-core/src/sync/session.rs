//! The sync session state machine. It reads no clock, socket or store: bytes and the time come in
//! through `handle_*`, frames to send and requests for the driver come out through `poll_*`.
//!
//! Call order for a driver: feed received bytes with [`Session::handle_input`], answer every
//! [`Output`] from [`Session::poll_output`] (give the items of a festival, plan and load ops to
//! send, store received ops), then take frames from [`Session::poll_transmit`] one at a time,
//! only as fast as the link accepts them, and go back to `poll_output` after each (taking a frame
//! may ask for the next ops to load). Call [`Session::handle_timeout`] when
//! [`Session::poll_timeout`] says so.
//!
//! Memory stays bounded whatever the peer does: the session holds the ids of what it will send
//! and at most a few frames' worth of op bytes, loaded as frames go out, so a peer that stops
//! reading costs one frame, not the festival.

use std::collections::{HashSet, VecDeque};

use super::items::{Bound, Item, Items};
use super::message::{
    DecodeError, ErrorCode, ID_PREFIX_LEN, IdPrefix, MAX_RANGES, MIN_SYNC_VERSION, Message, Mode, Range, RangeList,
    SYNC_VERSION,
};
use crate::op::{FestivalId, Op, OpId};
use crate::wire::Reader;

/// Limits and tuning of a session.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest frame accepted or sent, in bytes.
    pub max_frame: usize,
    /// Bytes of ops packed into one frame: every frame that arrives whole is stored, so small
    /// frames lose little when a Bluetooth encounter ends mid-transfer.
    pub ops_per_frame_bytes: usize,
    /// Most ops accepted in one session.
    pub max_ops: u64,
    /// Most bytes accepted in one session: of frames, and of the ops they carry as signed.
    pub max_bytes: u64,
    /// A peer that makes no progress this long is dropped, in milliseconds. Progress is what
    /// moves the session on (see [`Session::last_progress`]), or [`Config::progress_bytes`] of a
    /// frame in transit (a slow radio may take long over one frame); a trickle does not count.
    pub idle_timeout_ms: u64,
    /// Bytes of a frame in transit that keep a session from timing out.
    pub progress_bytes: usize,
    /// Most reconciliation messages (Hello and Ranges) accepted from the peer in one session:
    /// honest sessions need a few dozen even for a million ops.
    pub max_rounds: u64,
    /// The longest a session may last, in milliseconds, however it progresses.
    pub max_session_ms: u64,
    /// Sub-ranges a differing range is split into.
    pub buckets: usize,
    /// Ranges with at most this many items are compared item by item.
    pub id_list_threshold: usize,
    /// The protocol version an initiator opens with: [`SYNC_VERSION`] (ops go packed both
    /// ways), or 1 (plain ops, as a device before packed ops).
    pub version: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame: 64 * 1024,
            ops_per_frame_bytes: 8 * 1024,
            max_ops: 2_000_000,
            max_bytes: 1 << 30,
            idle_timeout_ms: 30_000,
            progress_bytes: 1024,
            max_rounds: 2_000,
            max_session_ms: 3_600_000,
            buckets: 16,
            id_list_threshold: 24,
            version: SYNC_VERSION,
        }
    }
}

/// Why a session ended early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The peer sent bytes that are not a valid message.
    #[error("peer sent an invalid message: {0}")]
    Decode(#[from] DecodeError),
    /// The peer broke the protocol.
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// A frame over the limit.
    #[error("frame of {0} bytes over the limit")]
    FrameTooLarge(u64),
    /// The peer sent more ops or bytes than a session allows.
    #[error("session limit reached: {0}")]
    Limit(&'static str),
    /// The peer made no progress for too long, or the session ran past its time limit.
    #[error("peer made no progress for {0} ms")]
    Timeout(u64),
    /// The peer speaks another protocol version.
    #[error("unsupported sync version {0}")]
    Version(u8),
    /// The peer closed the session with an error.
    #[error("peer closed the session: {0}")]
    Remote(String),
    /// The peer has no free session slot now; trying again shortly is worth it.
    #[error("peer is busy: {0}")]
    Busy(String),
    /// The peer does not hold the festival asked for.
    #[error("the peer does not hold this festival: {0}")]
    NotHeld(String),
    /// An op from the peer failed validation.
    #[error("invalid op from peer: {0}")]
    InvalidOp(String),
    /// Neither side holds the festival.
    #[error("festival {0} is not held here")]
    UnknownFestival(String),
    /// The link closed before the session finished.
    #[error("link closed")]
    Closed,
}

/// Which end of a session this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sent the Hello.
    Initiator,
    /// Answered it.
    Responder,
}

/// What a session needs from its driver, or tells it.
#[derive(Debug)]
pub enum Output {
    /// The peer wants to reconcile this festival: answer with [`Session::provide_items`].
    Festival(FestivalId),
    /// These items are to be sent: answer with [`Session::plan`], giving each one's priority
    /// class and size (no bytes yet).
    Plan(Vec<OpId>),
    /// Load the bytes of these planned ops and pass them, in this order, to
    /// [`Session::queue_ops`].
    Load(Vec<OpId>),
    /// Ops received (structurally valid, of this festival): store them, then report with
    /// [`Session::ops_stored`] or [`Session::ops_rejected`].
    Received(Vec<Op>),
    /// The session finished: both sides have everything the other had.
    Finished(Stats),
    /// The session failed; the link should be closed once the remaining frames are sent.
    Failed(SyncError),
}

/// Counters of one session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes sent, frames included.
    pub bytes_sent: u64,
    /// Bytes received, frames included.
    pub bytes_received: u64,
    /// Ops sent.
    pub ops_sent: u64,
    /// Bytes of the ops sent, as signed (what they cost unpacked).
    pub op_bytes_sent: u64,
    /// Bytes of the frames that carried the ops sent (packed or not): what they cost here.
    pub op_frame_bytes_sent: u64,
    /// Ops received.
    pub ops_received: u64,
    /// Bytes of the ops received.
    pub op_bytes_received: u64,
    /// Reconciliation messages sent (Hello and Ranges).
    pub rounds: u64,
}

/// Which ops a session sends first: what matters most to someone in a field with a few seconds of
/// radio contact. Lower classes go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Announcements by official authors, with the earlier ops of their logs they need.
    Urgent = 0,
    /// Other official ops: the programme, roles, evidence of forks.
    Official = 1,
    /// Community ops the festival shows.
    Community = 2,
    /// Community ops the festival's moderation does not show.
    Unshown = 3,
}

/// An op a session will send, as planned before its bytes are loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    /// Priority class: what goes first.
    pub class: Class,
    /// Lamport clock: within a class, older first.
    pub lamport: u64,
    /// The op.
    pub id: OpId,
    /// Its encoded size.
    pub size: u32,
}

/// Op bytes loaded ahead of the frames that carry them: enough to fill a few frames.
const LOAD_AHEAD_BYTES: usize = 64 * 1024;

/// A sync session.
#[derive(Debug)]
pub struct Session {
    role: Role,
    cfg: Config,
    festival: Option<FestivalId>,
    items: Option<Items>,
    /// Ranges that arrived before the items were provided.
    held: Option<Vec<Range>>,
    inbuf: Vec<u8>,
    control: VecDeque<Vec<u8>>,
    /// Ops still to send, highest priority last (taken from the end).
    to_send: Vec<Planned>,
    /// Loaded ops, in sending order.
    ready: VecDeque<Op>,
    /// Whether ops go as packed messages: both sides speak version 2.
    packed: bool,
    ready_bytes: usize,
    /// Ids already planned or sent, so none goes twice.
    pushed: HashSet<OpId>,
    /// Ids (their first 16 bytes) of the ops received, so a peer cannot send one twice.
    received: HashSet<[u8; 16]>,
    /// Whether the peer's next reconciliation message is due (it is its turn).
    awaiting: bool,
    /// Reconciliation messages received.
    peer_rounds: u64,
    awaiting_plan: usize,
    loading: bool,
    awaiting_store: usize,
    /// Ops received in the current `handle_input` call.
    inbox: Vec<Op>,
    outputs: VecDeque<Output>,
    reconciled: bool,
    sent_done: bool,
    peer_done: bool,
    ended: bool,
    deadline: u64,
    /// When the session must end, however it progresses.
    end_by: u64,
    /// Bytes received since the last progress.
    trickle: usize,
    /// When the session last moved on.
    last_progress: u64,
    /// The time of the last input or timer: when ops reported stored arrived.
    now: u64,
    stats: Stats,
}

fn prefix(id: &OpId) -> IdPrefix {
    let mut p = [0u8; ID_PREFIX_LEN];
    p.copy_from_slice(&id.0[..ID_PREFIX_LEN]);
    p
}

impl Session {
    fn new(role: Role, cfg: Config, now: u64) -> Self {
        let deadline = now.saturating_add(cfg.idle_timeout_ms);
        let end_by = now.saturating_add(cfg.max_session_ms);
        Session {
            role,
            cfg,
            festival: None,
            items: None,
            held: None,
            inbuf: Vec::new(),
            control: VecDeque::new(),
            to_send: Vec::new(),
            ready: VecDeque::new(),
            packed: false,
            ready_bytes: 0,
            pushed: HashSet::new(),
            received: HashSet::new(),
            awaiting: false,
            peer_rounds: 0,
            awaiting_plan: 0,
            loading: false,
            awaiting_store: 0,
            inbox: Vec::new(),
            outputs: VecDeque::new(),
            reconciled: false,
            sent_done: false,
            peer_done: false,
            ended: false,
            deadline: deadline.min(end_by),
            end_by,
            trickle: 0,
            last_progress: now,
            now,
            stats: Stats::default(),
        }
    }

    /// Starts a session that reconciles `festival`, whose ops this side holds as `items`.
    pub fn initiate(festival: FestivalId, items: Items, cfg: Config, now: u64) -> Self {
        let version = cfg.version.clamp(MIN_SYNC_VERSION, SYNC_VERSION);
        let mut s = Session::new(Role::Initiator, cfg, now);
        let all = 0..items.len();
        let hello = Message::Hello {
            version,
            festival,
            ranges: vec![Range {
                upper: None,
                mode: Mode::Fingerprint { fp: items.fingerprint(all), count: items.len() as u64 },
            }],
        };
        s.festival = Some(festival);
        s.items = Some(items);
        // A responder that does not speak this version refuses the Hello; one that answers does.
        s.packed = version >= 2;
        s.awaiting = true;
        s.send(&hello);
        s.stats.rounds += 1;
        s
    }

    /// Waits for a peer's Hello.
    pub fn respond(cfg: Config, now: u64) -> Self {
        Session::new(Role::Responder, cfg, now)
    }

    /// Which end this is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The festival, once known.
    pub fn festival(&self) -> Option<FestivalId> {
        self.festival
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether the session has finished or failed.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// When the session last moved on: a Hello, a reconciliation message in turn, a Done, ops
    /// that were new to the store, or a frame of ours the link took. A peer that only repeats
    /// itself, sends what is held already or trickles bytes makes none, which is what a driver
    /// that must choose a session to drop looks at.
    pub fn last_progress(&self) -> u64 {
        self.last_progress
    }

    fn send(&mut self, m: &Message) {
        let f = m.frame();
        self.stats.bytes_sent += f.len() as u64;
        self.control.push_back(f);
    }

    fn fail(&mut self, e: SyncError) {
        if self.ended {
            return;
        }
        let code = match &e {
            SyncError::UnknownFestival(_) => ErrorCode::UnknownFestival,
            SyncError::Limit(_) | SyncError::FrameTooLarge(_) => ErrorCode::Limit,
            SyncError::InvalidOp(_) => ErrorCode::InvalidOp,
            SyncError::Version(_) => ErrorCode::Version,
            _ => ErrorCode::Protocol,
        };
        self.to_send.clear();
        self.ready.clear();
        self.ready_bytes = 0;
        if !matches!(e, SyncError::Remote(_) | SyncError::Busy(_) | SyncError::NotHeld(_) | SyncError::Closed) {
            self.control.clear();
            self.send(&Message::Error { code: code as u8, reason: e.to_string() });
        }
        tracing::debug!(role = ?self.role, error = %e, "sync session failed");
        self.ended = true;
        self.outputs.push_back(Output::Failed(e));
    }

    /// Bytes arrived from the peer at time `now` (milliseconds on any monotonic clock).
    pub fn handle_input(&mut self, bytes: &[u8], now: u64) {
        if self.ended {
            return;
        }
        self.now = now;
        self.stats.bytes_received += bytes.len() as u64;
        self.trickle += bytes.len();
        if self.stats.bytes_received > self.cfg.max_bytes {
            return self.fail(SyncError::Limit("bytes per session"));
        }
        self.inbuf.extend_from_slice(bytes);
        // Frames are cut off the front by offset, and the buffer compacted once at the end:
        // draining per frame would move the rest of a large delivery once per frame.
        let mut consumed = 0usize;
        while !self.ended {
            let mut r = Reader::new(&self.inbuf[consumed..]);
            let len = match r.varint() {
                Ok(len) => len,
                Err(crate::wire::WireError::UnexpectedEnd(_)) => break,
                Err(e) => {
                    self.fail(SyncError::Decode(e.into()));
                    break;
                }
            };
            if len > self.cfg.max_frame as u64 {
                self.fail(SyncError::FrameTooLarge(len));
                break;
            }
            let start = consumed + r.position();
            if self.inbuf.len() - start < len as usize {
                break;
            }
            let end = start + len as usize;
            let decoded = Message::decode(&self.inbuf[start..end]);
            consumed = end;
            // A whole frame restarts the count towards a frame in transit.
            self.trickle = 0;
            match decoded {
                Ok(m) => self.handle_message(m, now),
                Err(e) => self.fail(SyncError::Decode(e)),
            }
        }
        self.inbuf.drain(..consumed);
        if self.trickle >= self.cfg.progress_bytes {
            // Enough of a large frame to wait for the rest, not enough to count as progress.
            self.trickle = 0;
            self.extend_deadline(now);
        }
        self.flush_inbox();
    }

    fn progress(&mut self, now: u64) {
        self.last_progress = self.last_progress.max(now);
        self.extend_deadline(now);
    }

    fn extend_deadline(&mut self, now: u64) {
        self.deadline = self.deadline.max(now.saturating_add(self.cfg.idle_timeout_ms).min(self.end_by));
    }

    /// Hands the ops received so far to the driver, in one batch. Ops that arrived whole are
    /// stored even when the session then fails.
    fn flush_inbox(&mut self) {
        if !self.inbox.is_empty() {
            self.awaiting_store += 1;
            let ops = std::mem::take(&mut self.inbox);
            // Before any Finished or Failed already queued, so the driver stores them first.
            let at = self.outputs.iter().position(|o| matches!(o, Output::Finished(_) | Output::Failed(_)));
            match at {
                Some(i) => self.outputs.insert(i, Output::Received(ops)),
                None => self.outputs.push_back(Output::Received(ops)),
            }
        }
    }

    /// The link closed.
    pub fn handle_close(&mut self) {
        if !self.ended {
            self.fail(SyncError::Closed);
        }
    }

    /// When [`Session::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<u64> {
        (!self.ended).then_some(self.deadline)
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: u64) {
        self.now = self.now.max(now);
        if !self.ended && now >= self.deadline {
            let limit = if now >= self.end_by { self.cfg.max_session_ms } else { self.cfg.idle_timeout_ms };
            self.fail(SyncError::Timeout(limit));
        }
    }

    fn handle_message(&mut self, m: Message, now: u64) {
        match m {
            Message::Hello { version, festival, ranges } => {
                if self.role != Role::Responder || self.festival.is_some() {
                    return self.fail(SyncError::Protocol("unexpected Hello".into()));
                }
                if !(MIN_SYNC_VERSION..=SYNC_VERSION).contains(&version) {
                    return self.fail(SyncError::Version(version));
                }
                self.packed = version >= 2;
                self.peer_rounds += 1;
                self.progress(now);
                self.festival = Some(festival);
                self.held = Some(ranges);
                self.outputs.push_back(Output::Festival(festival));
            }
            Message::Ranges(ranges) => {
                if self.festival.is_none() || self.reconciled || !self.awaiting {
                    return self.fail(SyncError::Protocol("Ranges out of turn".into()));
                }
                self.peer_rounds += 1;
                if self.peer_rounds > self.cfg.max_rounds {
                    return self.fail(SyncError::Limit("rounds per session"));
                }
                self.awaiting = false;
                self.progress(now);
                self.reconcile(ranges);
            }
            Message::Ops(raw) => {
                let Some(festival) = self.festival else {
                    return self.fail(SyncError::Protocol("ops before Hello".into()));
                };
                let mut ops = Vec::with_capacity(raw.len());
                for bytes in raw {
                    match Op::decode(&bytes) {
                        Ok(op) if op.festival() == festival => ops.push(op),
                        Ok(_) => return self.fail(SyncError::InvalidOp("op of another festival".into())),
                        Err(e) => return self.fail(SyncError::InvalidOp(e.to_string())),
                    }
                }
                self.take_ops(ops);
            }
            Message::Packed(payload) => {
                let Some(festival) = self.festival else {
                    return self.fail(SyncError::Protocol("ops before Hello".into()));
                };
                if !self.packed {
                    return self.fail(SyncError::Protocol("packed ops in a version 1 session".into()));
                }
                match super::packed::unpack(&festival, &payload) {
                    Ok(ops) => self.take_ops(ops),
                    Err(e) => self.fail(SyncError::InvalidOp(e.to_string())),
                }
            }
            Message::Done => {
                // Ops before the Done must be stored before the session can finish.
                self.flush_inbox();
                if self.peer_done {
                    return self.fail(SyncError::Protocol("Done twice".into()));
                }
                self.progress(now);
                self.peer_done = true;
                self.check_finished();
            }
            Message::Error { code, reason } => {
                self.ended = true;
                let e = match code {
                    c if c == ErrorCode::Busy as u8 => SyncError::Busy(reason),
                    c if c == ErrorCode::UnknownFestival as u8 => SyncError::NotHeld(reason),
                    _ => SyncError::Remote(reason),
                };
                self.outputs.push_back(Output::Failed(e));
            }
        }
    }

    /// Takes a frame's ops (all of the session's festival): none twice, within the limits.
    fn take_ops(&mut self, ops: Vec<Op>) {
        if ops.is_empty() {
            return self.fail(SyncError::Protocol("a frame of no ops".into()));
        }
        for op in &ops {
            let mut key = [0u8; 16];
            key.copy_from_slice(&op.id().0[..16]);
            if !self.received.insert(key) {
                return self.fail(SyncError::Protocol("the same op twice".into()));
            }
            self.stats.op_bytes_received += op.bytes().len() as u64;
        }
        self.stats.ops_received += ops.len() as u64;
        if self.stats.ops_received > self.cfg.max_ops {
            return self.fail(SyncError::Limit("ops per session"));
        }
        // Packed frames inflate: the byte limit holds for the ops as signed, not only for the
        // frames that carried them.
        if self.stats.op_bytes_received > self.cfg.max_bytes {
            return self.fail(SyncError::Limit("bytes per session"));
        }
        // Ops of all frames in one delivery are handed over together, at the end of
        // `handle_input`: one store transaction per read, not per frame.
        self.inbox.extend(ops);
    }

    /// Answers [`Output::Festival`]: the items of the festival, or `None` if it is not held here.
    pub fn provide_items(&mut self, items: Option<Items>) {
        let Some(items) = items else {
            let f = self.festival.map(|f| f.short()).unwrap_or_default();
            return self.fail(SyncError::UnknownFestival(f));
        };
        self.items = Some(items);
        if let Some(ranges) = self.held.take() {
            self.reconcile(ranges);
        }
    }

    fn reconcile(&mut self, ranges: Vec<Range>) {
        let Some(items) = self.items.take() else {
            return self.fail(SyncError::Protocol("ranges before the festival is known".into()));
        };
        if ranges.is_empty() {
            self.items = Some(items);
            self.reconciled = true;
            return self.check_finished();
        }
        // The reply must fit one frame and the range limit the peer enforces. Once it would not,
        // everything from there to the end is answered with one fingerprint: the peer splits it
        // next round, so every round settles a prefix of the order and the exchange ends.
        let mut reply = RangeList::with_budget(self.cfg.max_frame.saturating_sub(16), MAX_RANGES);
        let mut push: Vec<OpId> = Vec::new();
        let mut lo = 0usize;
        let mut rest_from: Option<usize> = None;
        let all = items.as_slice();
        for r in ranges {
            let hi = items.index_of(r.upper.as_ref()).max(lo);
            let mine = &all[lo..hi];
            if rest_from.is_some() {
                // Requests cost no reply bytes: honour them all the same.
                push_requested(&r.mode, mine, &mut push);
                lo = hi;
                continue;
            }
            let answer: Vec<Range> = match &r.mode {
                Mode::Skip => vec![Range { upper: r.upper.clone(), mode: Mode::Skip }],
                Mode::Fingerprint { fp, count } => {
                    let mode = if items.fingerprint(lo..hi) == *fp {
                        Some(Mode::Skip)
                    } else if mine.is_empty() {
                        Some(Mode::NeedAll)
                    } else if *count == 0 {
                        push.extend(mine.iter().map(|i| i.id));
                        Some(Mode::Skip)
                    } else if mine.len() <= self.cfg.id_list_threshold {
                        Some(Mode::IdList(mine.iter().map(|i| prefix(&i.id)).collect()))
                    } else {
                        None
                    };
                    match mode {
                        Some(mode) => vec![Range { upper: r.upper.clone(), mode }],
                        None => self.split(&items, lo, hi, r.upper.clone()),
                    }
                }
                Mode::IdList(theirs) => {
                    let mine_set: HashSet<IdPrefix> = mine.iter().map(|i| prefix(&i.id)).collect();
                    push_requested(&r.mode, mine, &mut push);
                    let need: Vec<IdPrefix> = theirs.iter().copied().filter(|p| !mine_set.contains(p)).collect();
                    let mode = if need.is_empty() { Mode::Skip } else { Mode::Need(need) };
                    vec![Range { upper: r.upper.clone(), mode }]
                }
                Mode::NeedAll | Mode::Need(_) => {
                    push_requested(&r.mode, mine, &mut push);
                    vec![Range { upper: r.upper.clone(), mode: Mode::Skip }]
                }
            };
            if !reply.try_extend(answer) {
                rest_from = Some(lo);
                push_requested(&r.mode, mine, &mut push);
            }
            lo = hi;
        }
        if let Some(from) = rest_from {
            reply.finish_with(Range {
                upper: None,
                mode: Mode::Fingerprint { fp: items.fingerprint(from..all.len()), count: (all.len() - from) as u64 },
            });
        }
        self.items = Some(items);
        let mut merged = reply.into_ranges();
        if merged.iter().all(|r| r.mode == Mode::Skip) {
            merged.clear();
            self.reconciled = true;
        }
        // An empty reply ends reconciliation: the peer answers a non-empty one.
        self.awaiting = !merged.is_empty();
        self.send(&Message::Ranges(merged));
        self.stats.rounds += 1;
        push.retain(|id| self.pushed.insert(*id));
        if !push.is_empty() {
            self.awaiting_plan += 1;
            self.outputs.push_back(Output::Plan(push));
        }
        self.check_finished();
    }

    fn split(&self, items: &Items, lo: usize, hi: usize, upper: Option<Bound>) -> Vec<Range> {
        let all = items.as_slice();
        let n = hi - lo;
        let buckets = self.cfg.buckets.clamp(2, n.max(2));
        let mut out = Vec::with_capacity(buckets);
        let mut start = lo;
        for b in 0..buckets {
            let end = lo + n * (b + 1) / buckets;
            if end == start {
                continue;
            }
            let bound = if b + 1 == buckets { upper.clone() } else { Some(Bound::between(&all[end - 1], &all[end])) };
            out.push(Range {
                upper: bound,
                mode: Mode::Fingerprint { fp: items.fingerprint(start..end), count: (end - start) as u64 },
            });
            start = end;
        }
        out
    }

    /// Answers [`Output::Plan`]: the planned ops with their class and size; ids not held are
    /// left out.
    pub fn plan(&mut self, planned: Vec<Planned>) {
        self.awaiting_plan = self.awaiting_plan.saturating_sub(1);
        if self.ended {
            return;
        }
        self.to_send.extend(planned);
        // Highest priority last, so ops are taken from the end.
        self.to_send.sort_by_key(|p| std::cmp::Reverse((p.class, p.lamport, p.id)));
        self.refill();
        self.check_finished();
    }

    /// Asks the driver for the next ops' bytes when fewer than a few frames' worth are loaded.
    fn refill(&mut self) {
        if self.ended || self.loading || self.ready_bytes >= LOAD_AHEAD_BYTES || self.to_send.is_empty() {
            return;
        }
        let mut ids = Vec::new();
        let mut bytes = 0usize;
        while let Some(p) = self.to_send.last() {
            if !ids.is_empty() && bytes + p.size as usize > LOAD_AHEAD_BYTES {
                break;
            }
            bytes += p.size as usize;
            ids.push(p.id);
            self.to_send.pop();
        }
        self.loading = true;
        self.outputs.push_back(Output::Load(ids));
    }

    /// Answers [`Output::Load`]: the ops' bytes, in the order asked for (missing ones left out).
    pub fn queue_ops(&mut self, ops: Vec<Op>) {
        self.loading = false;
        if self.ended {
            return;
        }
        for op in ops {
            self.ready_bytes += op.bytes().len();
            self.ready.push_back(op);
        }
        self.refill();
        self.check_finished();
    }

    /// Answers [`Output::Received`]: the ops were stored or were already held; `new` of them
    /// were new to the store (what counts as progress).
    pub fn ops_stored(&mut self, new: usize) {
        self.awaiting_store = self.awaiting_store.saturating_sub(1);
        if new > 0 {
            self.progress(self.now);
        }
        self.check_finished();
    }

    /// Answers [`Output::Received`]: an op failed validation; the peer is dropped.
    pub fn ops_rejected(&mut self, reason: String) {
        self.awaiting_store = self.awaiting_store.saturating_sub(1);
        self.fail(SyncError::InvalidOp(reason));
    }

    fn check_finished(&mut self) {
        if self.ended || !self.reconciled || self.awaiting_plan > 0 || self.loading {
            return;
        }
        // The responder says Done only once it holds everything the initiator sent, so an
        // initiator that finishes knows both sides are complete (a `meadow sync` that returns has
        // delivered its ops); the initiator never waits, so nothing deadlocks.
        let held_all = self.role == Role::Initiator || (self.peer_done && self.awaiting_store == 0);
        if self.to_send.is_empty() && self.ready.is_empty() && !self.sent_done && held_all {
            self.sent_done = true;
            self.send(&Message::Done);
        }
        if self.sent_done && self.peer_done && self.awaiting_store == 0 {
            self.ended = true;
            self.outputs.push_back(Output::Finished(self.stats.clone()));
        }
    }

    /// The next thing the driver must do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next frame to send at time `now`, if any: reconciliation first, then ops by
    /// priority. Call it again only once the link has taken this frame (which is progress), and
    /// answer [`Session::poll_output`] in between.
    pub fn poll_transmit(&mut self, now: u64) -> Option<Vec<u8>> {
        if !self.control.is_empty() || (!self.ended && !self.ready.is_empty()) {
            self.progress(now);
        }
        if let Some(f) = self.control.pop_front() {
            return Some(f);
        }
        if self.ended || self.ready.is_empty() {
            return None;
        }
        let limit = self.cfg.ops_per_frame_bytes.min(self.cfg.max_frame.saturating_sub(16));
        let mut ops = Vec::new();
        let mut size = 0usize;
        while let Some(op) = self.ready.front() {
            if !ops.is_empty() && size + op.bytes().len() > limit {
                break;
            }
            size += op.bytes().len();
            if let Some(op) = self.ready.pop_front() {
                self.ready_bytes -= op.bytes().len();
                ops.push(op);
            }
        }
        self.stats.ops_sent += ops.len() as u64;
        self.stats.op_bytes_sent += size as u64;
        let message = if self.packed {
            Message::Packed(super::packed::pack(&ops))
        } else {
            Message::Ops(ops.iter().map(|o| o.bytes().to_vec()).collect())
        };
        let frame = message.frame();
        self.stats.bytes_sent += frame.len() as u64;
        self.stats.op_frame_bytes_sent += frame.len() as u64;
        self.refill();
        self.check_finished();
        // Done may have been queued behind this frame.
        if let Some(done) = self.control.pop_front() {
            let mut both = frame;
            both.extend_from_slice(&done);
            return Some(both);
        }
        Some(frame)
    }
}

/// Adds to `push` what a range's mode asks this side to send (NeedAll, Need, and for an IdList
/// the items the peer did not list).
fn push_requested(mode: &Mode, mine: &[Item], push: &mut Vec<OpId>) {
    match mode {
        Mode::NeedAll => push.extend(mine.iter().map(|i| i.id)),
        Mode::Need(wanted) => {
            let wanted: HashSet<&IdPrefix> = wanted.iter().collect();
            push.extend(mine.iter().filter(|i| wanted.contains(&prefix(&i.id))).map(|i| i.id));
        }
        Mode::IdList(theirs) => {
            let theirs: HashSet<&IdPrefix> = theirs.iter().collect();
            push.extend(mine.iter().filter(|i| !theirs.contains(&prefix(&i.id))).map(|i| i.id));
        }
        Mode::Fingerprint { count: 0, .. } => push.extend(mine.iter().map(|i| i.id)),
        Mode::Skip | Mode::Fingerprint { .. } => {}
    }
}

/// The items of a set of (Lamport clock, op id) pairs.
pub fn items_of(pairs: impl IntoIterator<Item = (u64, OpId)>) -> Items {
    Items::new(pairs.into_iter().map(|(lamport, id)| Item { lamport, id }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn item(n: u64) -> Item {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&blake3::hash(&n.to_le_bytes()).as_bytes()[..8]);
        id[8..16].copy_from_slice(&n.to_le_bytes());
        Item { lamport: n / 3, id: OpId(id) }
    }

    /// Answers what a session asks with `items` and no ops (ids it asks to load are "not held").
    /// Returns whether it saw the session finish, or how it failed.
    fn serve(s: &mut Session, items: &Items) -> Option<Result<(), SyncError>> {
        let mut end = None;
        while let Some(out) = s.poll_output() {
            match out {
                Output::Festival(_) => s.provide_items(Some(items.clone())),
                Output::Plan(ids) => s.plan(
                    ids.into_iter().map(|id| Planned { class: Class::Community, lamport: 0, id, size: 200 }).collect(),
                ),
                Output::Load(_) => s.queue_ops(Vec::new()),
                Output::Received(_) => s.ops_stored(0),
                Output::Finished(_) => end = Some(Ok(())),
                Output::Failed(e) => end = Some(Err(e)),
            }
        }
        end
    }

    fn frames_of(s: &mut Session, items: &Items) -> Vec<Vec<u8>> {
        frames_and_end(s, items).0
    }

    fn frames_and_end(s: &mut Session, items: &Items) -> (Vec<Vec<u8>>, Option<Result<(), SyncError>>) {
        let mut out = Vec::new();
        let mut end = None;
        loop {
            if let Some(e) = serve(s, items) {
                end = Some(e);
            }
            match s.poll_transmit(0) {
                Some(f) => out.push(f),
                None => return (out, end),
            }
        }
    }

    fn arb_range_list() -> impl Strategy<Value = Vec<Range>> {
        let mode = prop_oneof![
            Just(Mode::Skip),
            (any::<[u8; 16]>(), 0u64..5000).prop_map(|(fp, count)| Mode::Fingerprint { fp, count }),
            proptest::collection::vec(any::<[u8; 8]>(), 0..60).prop_map(Mode::IdList),
            Just(Mode::NeedAll),
            proptest::collection::vec(any::<[u8; 8]>(), 0..60).prop_map(Mode::Need),
        ];
        (
            proptest::collection::btree_set((0u64..3000, proptest::collection::vec(any::<u8>(), 0..3)), 0..300),
            proptest::collection::vec(mode, 301),
        )
            .prop_map(|(bounds, modes)| {
                let mut ranges: Vec<Range> = bounds
                    .into_iter()
                    .zip(modes.iter().cloned())
                    .map(|((lamport, prefix), mode)| Range { upper: Some(Bound { lamport, prefix }), mode })
                    .collect();
                ranges.push(Range { upper: None, mode: modes[300].clone() });
                ranges
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever ranges a peer sends, every reply fits the frame and range limits the peer
        /// enforces (a hostile peer's ranges too).
        #[test]
        fn replies_fit_the_limits_whatever_the_peer_sends(n in 0u64..6000, ranges in arb_range_list(), max_frame in 600usize..70_000) {
            let items = Items::new((0..n).map(item).collect());
            let cfg = Config { max_frame, ..Config::default() };
            let mut s = Session::respond(cfg, 0);
            let hello = Message::Hello { version: SYNC_VERSION, festival: FestivalId([1; 32]), ranges }.frame();
            s.handle_input(&hello, 1);
            for f in frames_of(&mut s, &items) {
                prop_assert!(f.len() <= max_frame + 4, "frame of {} over {}", f.len(), max_frame);
                let mut r = crate::wire::Reader::new(&f);
                if let Ok(body) = r.bytes()
                    && let Ok(Message::Ranges(rs)) = Message::decode(body)
                {
                    prop_assert!(rs.len() <= MAX_RANGES);
                }
            }
        }
    }

    /// Two sessions over in-memory item sets, driven step by step on a virtual clock: a Pair, as
    /// in quinn-proto's tests. Returns the rounds it took and whether both finished (not failed).
    fn pair(a: &Items, b: &Items, cfg: &Config) -> (u64, bool) {
        let mut x = Session::initiate(FestivalId([2; 32]), a.clone(), cfg.clone(), 0);
        let mut y = Session::respond(cfg.clone(), 0);
        let mut now = 0;
        let (mut x_end, mut y_end) = (None, None);
        for _ in 0..10_000 {
            now += 1;
            let (to_y, xe) = frames_and_end(&mut x, a);
            let (to_x, ye) = frames_and_end(&mut y, b);
            x_end = x_end.or(xe);
            y_end = y_end.or(ye);
            if to_y.is_empty() && to_x.is_empty() {
                break;
            }
            for f in to_y {
                assert!(f.len() <= cfg.max_frame + 4);
                y.handle_input(&f, now);
            }
            for f in to_x {
                assert!(f.len() <= cfg.max_frame + 4);
                x.handle_input(&f, now);
            }
        }
        for (s, items, end) in [(&mut x, a, &mut x_end), (&mut y, b, &mut y_end)] {
            if let Some(e) = serve(s, items) {
                end.get_or_insert(e);
            }
        }
        (x.stats().rounds + y.stats().rounds, matches!((x_end, y_end), (Some(Ok(())), Some(Ok(())))))
    }

    #[test]
    fn agreeing_sets_reconcile_in_one_round_trip() {
        let items = Items::new((0..5000).map(item).collect());
        let (rounds, done) = pair(&items, &items, &Config::default());
        assert!(done);
        assert_eq!(rounds, 2, "Hello and the empty Ranges");
    }

    #[test]
    fn interleaved_differences_converge_within_small_frames() {
        // Every other item missing on one side: the worst case for range splitting.
        let a = Items::new((0..20_000).map(item).collect());
        let b = Items::new((0..20_000).filter(|n| n % 2 == 0).map(item).collect());
        let cfg = Config { max_frame: 2048, ..Config::default() };
        let (rounds, done) = pair(&a, &b, &cfg);
        assert!(done, "the sessions must finish");
        assert!(rounds < 2_000, "{rounds} rounds");
    }

    #[test]
    fn a_silent_or_trickling_peer_times_out_and_progress_keeps_it_alive() {
        let cfg = Config { idle_timeout_ms: 1000, progress_bytes: 100, ..Config::default() };
        let mut s = Session::respond(cfg.clone(), 0);
        // One byte every 500 ms of a frame announced as 60,000 bytes: no progress.
        s.handle_input(&[0xe0, 0xd4, 0x03], 0);
        for t in (500..=1500).step_by(500) {
            s.handle_input(&[1], t);
            s.handle_timeout(t);
        }
        assert!(s.is_ended());
        // A whole frame is progress.
        let mut s = Session::respond(cfg, 0);
        s.handle_input(
            &Message::Hello { version: SYNC_VERSION, festival: FestivalId([3; 32]), ranges: vec![] }.frame(),
            900,
        );
        s.handle_timeout(1500);
        assert!(!s.is_ended());
        s.handle_timeout(1900);
        assert!(s.is_ended());
    }

    /// The first failure a session reported, draining its outputs.
    fn failure(s: &mut Session) -> Option<SyncError> {
        let mut out = None;
        while let Some(o) = s.poll_output() {
            if let Output::Failed(e) = o {
                out.get_or_insert(e);
            }
        }
        out
    }

    fn hello(festival: FestivalId) -> Vec<u8> {
        let ranges = vec![Range { upper: None, mode: Mode::Fingerprint { fp: [9; 16], count: 100 } }];
        Message::Hello { version: SYNC_VERSION, festival, ranges }.frame()
    }

    fn profile_op(festival: FestivalId, seq: u64, lamport: u64) -> Vec<u8> {
        let me = crate::identity::Identity::from_seed(5);
        let position = crate::op::LogPosition { seq, backlink: None, lamport };
        let body = crate::op::Body::Profile(crate::op::ProfilePatch { display_name: Some("x".into()), about: None });
        crate::op::Op::create(&me, festival, position, 0, body).expect("op").bytes().to_vec()
    }

    #[test]
    fn the_initiator_finishes_only_once_the_responder_stored_what_it_sent() {
        let festival = FestivalId([2; 32]);
        let op = Op::decode(&profile_op(festival, 0, 1)).expect("op");
        let a = Items::new(vec![Item { lamport: op.lamport(), id: op.id() }]);
        let b = Items::new(Vec::new());
        let mut x = Session::initiate(festival, a.clone(), Config::default(), 0);
        let mut y = Session::respond(Config::default(), 0);
        // The responder's store is slow: what it received waits until the test says so.
        let (mut x_done, mut y_done, mut unstored) = (false, false, 0);
        for now in 1..40 {
            if now == 20 {
                assert!(unstored > 0 && !x_done, "the initiator waits for the responder's store");
                (0..unstored).for_each(|_| y.ops_stored(1));
                unstored = 0;
            }
            while let Some(o) = x.poll_output() {
                match o {
                    Output::Plan(ids) => x.plan(
                        ids.into_iter()
                            .map(|id| Planned { class: Class::Community, lamport: 1, id, size: 200 })
                            .collect(),
                    ),
                    Output::Load(_) => x.queue_ops(vec![op.clone()]),
                    Output::Finished(_) => x_done = true,
                    other => panic!("initiator: {other:?}"),
                }
            }
            while let Some(o) = y.poll_output() {
                match o {
                    Output::Festival(_) => y.provide_items(Some(b.clone())),
                    Output::Plan(_) => y.plan(Vec::new()),
                    Output::Received(ops) => {
                        assert_eq!(ops.len(), 1);
                        unstored += 1;
                    }
                    Output::Finished(_) => y_done = true,
                    other => panic!("responder: {other:?}"),
                }
            }
            while let Some(f) = x.poll_transmit(now) {
                y.handle_input(&f, now);
            }
            while let Some(f) = y.poll_transmit(now) {
                x.handle_input(&f, now);
            }
        }
        assert!(x_done && y_done, "both finish once the op is stored");
    }

    #[test]
    fn ranges_out_of_turn_end_the_session() {
        // A peer that sends Ranges before its Hello was answered is pipelining work for us.
        let f = FestivalId([4; 32]);
        let mut s = Session::respond(Config::default(), 0);
        let mut input = hello(f);
        input.extend(Message::Ranges(vec![Range { upper: None, mode: Mode::NeedAll }]).frame());
        s.handle_input(&input, 1);
        assert!(matches!(failure(&mut s), Some(SyncError::Protocol(m)) if m.contains("out of turn")));
    }

    #[test]
    fn the_same_op_twice_or_an_empty_ops_frame_ends_the_session() {
        let f = FestivalId([4; 32]);
        let op = profile_op(f, 0, 1);
        let mut s = Session::respond(Config::default(), 0);
        s.handle_input(&hello(f), 1);
        s.handle_input(&Message::Ops(vec![op.clone()]).frame(), 2);
        assert!(failure(&mut s).is_none());
        s.handle_input(&Message::Ops(vec![op]).frame(), 3);
        assert!(matches!(failure(&mut s), Some(SyncError::Protocol(m)) if m.contains("twice")));

        let mut s = Session::respond(Config::default(), 0);
        s.handle_input(&hello(f), 1);
        s.handle_input(&Message::Ops(vec![]).frame(), 2);
        assert!(matches!(failure(&mut s), Some(SyncError::Protocol(m)) if m.contains("no ops")));
    }

    #[test]
    fn reconciliation_rounds_are_bounded() {
        let a = Items::new((0..20_000).map(item).collect());
        let b = Items::new((0..20_000).filter(|n| n % 2 == 0).map(item).collect());
        let cfg = Config { max_frame: 2048, ..Config::default() };
        let (rounds, done) = pair(&a, &b, &cfg);
        assert!(done && rounds > 8, "{rounds} rounds");
        // The same exchange with a cap below what it needs stops at the cap.
        let (_, done) = pair(&a, &b, &Config { max_rounds: 3, ..cfg });
        assert!(!done, "a session past its round cap must not finish");
    }

    #[test]
    fn ops_already_held_are_not_progress() {
        let f = FestivalId([4; 32]);
        let cfg = Config { idle_timeout_ms: 1000, ..Config::default() };
        for (new, ended_at_1500) in [(0, true), (1, false)] {
            let mut s = Session::respond(cfg.clone(), 0);
            s.handle_input(&hello(f), 0);
            frames_of(&mut s, &Items::new(Vec::new()));
            s.handle_input(&Message::Ops(vec![profile_op(f, 0, 1)]).frame(), 900);
            while let Some(o) = s.poll_output() {
                if let Output::Received(_) = o {
                    s.ops_stored(new);
                }
            }
            s.handle_timeout(1500);
            assert_eq!(s.is_ended(), ended_at_1500, "ops stored, {new} new");
        }
    }

    #[test]
    fn another_version_is_refused_with_the_version_code() {
        let mut s = Session::respond(Config::default(), 0);
        s.handle_input(&Message::Hello { version: 9, festival: FestivalId([3; 32]), ranges: vec![] }.frame(), 1);
        let f = s.poll_transmit(1).expect("error frame");
        let mut r = crate::wire::Reader::new(&f);
        let m = Message::decode(r.bytes().expect("frame")).expect("message");
        assert!(matches!(m, Message::Error { code, .. } if code == ErrorCode::Version as u8), "{m:?}");
    }
}
