//! The sync session state machine. It reads no clock, socket or store: bytes and the time come in
//! through `handle_*`, frames to send and requests for the driver come out through `poll_*`.
//!
//! Call order for a driver: feed received bytes with [`Session::handle_input`], answer every
//! [`Output`] from [`Session::poll_output`] (load ops, store received ops, give the items of a
//! festival), send every frame from [`Session::poll_transmit`], and call
//! [`Session::handle_timeout`] when [`Session::poll_timeout`] says so.

use std::collections::{HashMap, HashSet, VecDeque};

use super::items::{Bound, Item, Items};
use super::message::{DecodeError, ErrorCode, ID_PREFIX_LEN, IdPrefix, Message, Mode, Range, SYNC_VERSION};
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
    /// Most bytes accepted in one session.
    pub max_bytes: u64,
    /// A peer silent this long is dropped, in milliseconds.
    pub idle_timeout_ms: u64,
    /// Sub-ranges a differing range is split into.
    pub buckets: usize,
    /// Ranges with at most this many items are compared item by item.
    pub id_list_threshold: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame: 64 * 1024,
            ops_per_frame_bytes: 8 * 1024,
            max_ops: 2_000_000,
            max_bytes: 1 << 30,
            idle_timeout_ms: 30_000,
            buckets: 16,
            id_list_threshold: 24,
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
    /// The peer was silent too long.
    #[error("peer silent for {0} ms")]
    Timeout(u64),
    /// The peer closed the session with an error.
    #[error("peer closed the session: {0}")]
    Remote(String),
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
    /// Load these ops (ids of items given to the session) and pass them to [`Session::queue_ops`].
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
    /// Bytes of the ops sent (what they cost anyway).
    pub op_bytes_sent: u64,
    /// Ops received.
    pub ops_received: u64,
    /// Bytes of the ops received.
    pub op_bytes_received: u64,
    /// Reconciliation messages sent (Hello and Ranges).
    pub rounds: u64,
}

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
    /// Ops queued to send: (priority class, lamport, bytes).
    outgoing: Vec<(u8, u64, Vec<u8>)>,
    /// Ids already requested from the driver or sent, so none goes twice.
    pushed: HashSet<OpId>,
    awaiting_load: usize,
    awaiting_store: usize,
    /// Ops received in the current `handle_input` call.
    inbox: Vec<Op>,
    outputs: VecDeque<Output>,
    reconciled: bool,
    sent_done: bool,
    peer_done: bool,
    ended: bool,
    deadline: u64,
    stats: Stats,
}

fn prefix(id: &OpId) -> IdPrefix {
    let mut p = [0u8; ID_PREFIX_LEN];
    p.copy_from_slice(&id.0[..ID_PREFIX_LEN]);
    p
}

impl Session {
    fn new(role: Role, cfg: Config, now: u64) -> Self {
        let deadline = now + cfg.idle_timeout_ms;
        Session {
            role,
            cfg,
            festival: None,
            items: None,
            held: None,
            inbuf: Vec::new(),
            control: VecDeque::new(),
            outgoing: Vec::new(),
            pushed: HashSet::new(),
            awaiting_load: 0,
            awaiting_store: 0,
            inbox: Vec::new(),
            outputs: VecDeque::new(),
            reconciled: false,
            sent_done: false,
            peer_done: false,
            ended: false,
            deadline,
            stats: Stats::default(),
        }
    }

    /// Starts a session that reconciles `festival`, whose ops this side holds as `items`.
    pub fn initiate(festival: FestivalId, items: Items, cfg: Config, now: u64) -> Self {
        let mut s = Session::new(Role::Initiator, cfg, now);
        let all = 0..items.len();
        let hello = Message::Hello {
            version: SYNC_VERSION,
            festival,
            ranges: vec![Range {
                upper: None,
                mode: Mode::Fingerprint { fp: items.fingerprint(all), count: items.len() as u64 },
            }],
        };
        s.festival = Some(festival);
        s.items = Some(items);
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
            _ => ErrorCode::Protocol,
        };
        if !matches!(e, SyncError::Remote(_) | SyncError::Closed | SyncError::Timeout(_)) {
            self.control.clear();
            self.outgoing.clear();
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
        self.deadline = now + self.cfg.idle_timeout_ms;
        self.stats.bytes_received += bytes.len() as u64;
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
            match decoded {
                Ok(m) => self.handle_message(m),
                Err(e) => self.fail(SyncError::Decode(e)),
            }
        }
        self.inbuf.drain(..consumed);
        self.flush_inbox();
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
        if !self.ended && now >= self.deadline {
            self.fail(SyncError::Timeout(self.cfg.idle_timeout_ms));
        }
    }

    fn handle_message(&mut self, m: Message) {
        match m {
            Message::Hello { version, festival, ranges } => {
                if self.role != Role::Responder || self.festival.is_some() {
                    return self.fail(SyncError::Protocol("unexpected Hello".into()));
                }
                if version != SYNC_VERSION {
                    return self.fail(SyncError::Protocol(format!("unsupported sync version {version}")));
                }
                self.festival = Some(festival);
                self.held = Some(ranges);
                self.outputs.push_back(Output::Festival(festival));
            }
            Message::Ranges(ranges) => {
                if self.festival.is_none() || self.reconciled {
                    return self.fail(SyncError::Protocol("unexpected Ranges".into()));
                }
                self.reconcile(ranges);
            }
            Message::Ops(raw) => {
                let Some(festival) = self.festival else {
                    return self.fail(SyncError::Protocol("ops before Hello".into()));
                };
                let mut ops = Vec::with_capacity(raw.len());
                for bytes in raw {
                    match Op::decode(&bytes) {
                        Ok(op) if op.festival() == festival => {
                            self.stats.op_bytes_received += bytes.len() as u64;
                            ops.push(op);
                        }
                        Ok(_) => return self.fail(SyncError::InvalidOp("op of another festival".into())),
                        Err(e) => return self.fail(SyncError::InvalidOp(e.to_string())),
                    }
                }
                self.stats.ops_received += ops.len() as u64;
                if self.stats.ops_received > self.cfg.max_ops {
                    return self.fail(SyncError::Limit("ops per session"));
                }
                // Ops of all frames in one delivery are handed over together, at the end of
                // `handle_input`: one store transaction per read, not per frame.
                self.inbox.extend(ops);
            }
            Message::Done => {
                // Ops before the Done must be stored before the session can finish.
                self.flush_inbox();
                if self.peer_done {
                    return self.fail(SyncError::Protocol("Done twice".into()));
                }
                self.peer_done = true;
                self.check_finished();
            }
            Message::Error { reason, .. } => {
                self.ended = true;
                self.outputs.push_back(Output::Failed(SyncError::Remote(reason)));
            }
        }
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
        let mut reply: Vec<Range> = Vec::new();
        let mut push: Vec<OpId> = Vec::new();
        let mut lo = 0usize;
        let all = items.as_slice();
        for r in ranges {
            let hi = items.index_of(r.upper.as_ref()).max(lo);
            let mine = &all[lo..hi];
            let mode = match r.mode {
                Mode::Skip => Mode::Skip,
                Mode::Fingerprint { fp, count } => {
                    if items.fingerprint(lo..hi) == fp {
                        Mode::Skip
                    } else if mine.is_empty() {
                        Mode::NeedAll
                    } else if count == 0 {
                        push.extend(mine.iter().map(|i| i.id));
                        Mode::Skip
                    } else if mine.len() <= self.cfg.id_list_threshold {
                        Mode::IdList(mine.iter().map(|i| prefix(&i.id)).collect())
                    } else {
                        self.split(&items, lo, hi, r.upper.clone(), &mut reply);
                        lo = hi;
                        continue;
                    }
                }
                Mode::IdList(theirs) => {
                    let theirs_set: HashSet<IdPrefix> = theirs.iter().copied().collect();
                    let mine_set: HashSet<IdPrefix> = mine.iter().map(|i| prefix(&i.id)).collect();
                    push.extend(mine.iter().filter(|i| !theirs_set.contains(&prefix(&i.id))).map(|i| i.id));
                    let need: Vec<IdPrefix> = theirs.into_iter().filter(|p| !mine_set.contains(p)).collect();
                    if need.is_empty() { Mode::Skip } else { Mode::Need(need) }
                }
                Mode::NeedAll => {
                    push.extend(mine.iter().map(|i| i.id));
                    Mode::Skip
                }
                Mode::Need(wanted) => {
                    let by_prefix: HashMap<IdPrefix, OpId> = mine.iter().map(|i| (prefix(&i.id), i.id)).collect();
                    push.extend(wanted.iter().filter_map(|p| by_prefix.get(p).copied()));
                    Mode::Skip
                }
            };
            reply.push(Range { upper: r.upper, mode });
            lo = hi;
        }
        self.items = Some(items);
        // Adjacent skips collapse into one: the bound of the last is enough.
        let mut merged: Vec<Range> = Vec::with_capacity(reply.len());
        for r in reply {
            if r.mode == Mode::Skip && merged.last().is_some_and(|l: &Range| l.mode == Mode::Skip) {
                if let Some(l) = merged.last_mut() {
                    l.upper = r.upper;
                }
            } else {
                merged.push(r);
            }
        }
        if merged.iter().all(|r| r.mode == Mode::Skip) {
            merged.clear();
            self.reconciled = true;
        }
        self.send(&Message::Ranges(merged));
        self.stats.rounds += 1;
        push.retain(|id| self.pushed.insert(*id));
        if !push.is_empty() {
            self.awaiting_load += 1;
            self.outputs.push_back(Output::Load(push));
        }
        self.check_finished();
    }

    fn split(&self, items: &Items, lo: usize, hi: usize, upper: Option<Bound>, reply: &mut Vec<Range>) {
        let all = items.as_slice();
        let n = hi - lo;
        let buckets = self.cfg.buckets.clamp(2, n);
        let mut start = lo;
        for b in 0..buckets {
            let end = lo + n * (b + 1) / buckets;
            let bound = if b + 1 == buckets { upper.clone() } else { Some(Bound::between(&all[end - 1], &all[end])) };
            reply.push(Range {
                upper: bound,
                mode: Mode::Fingerprint { fp: items.fingerprint(start..end), count: (end - start) as u64 },
            });
            start = end;
        }
    }

    /// Answers [`Output::Load`]: the ops with their priority class (0 goes first: announcements
    /// and what they need; 1 other official ops; 2 community ops).
    pub fn queue_ops(&mut self, ops: Vec<(u8, Op)>) {
        self.awaiting_load = self.awaiting_load.saturating_sub(1);
        for (class, op) in ops {
            self.outgoing.push((class, op.lamport(), op.bytes().to_vec()));
        }
        // Highest priority last, so frames are taken from the end.
        self.outgoing.sort_by_key(|o| std::cmp::Reverse((o.0, o.1)));
        self.check_finished();
    }

    /// Answers [`Output::Received`]: the ops were stored (or were already held).
    pub fn ops_stored(&mut self) {
        self.awaiting_store = self.awaiting_store.saturating_sub(1);
        self.check_finished();
    }

    /// Answers [`Output::Received`]: an op failed validation; the peer is dropped.
    pub fn ops_rejected(&mut self, reason: String) {
        self.awaiting_store = self.awaiting_store.saturating_sub(1);
        self.fail(SyncError::InvalidOp(reason));
    }

    /// Queues a new local op for the peer (live updates while a link stays open).
    pub fn push_new(&mut self, class: u8, op: &Op) {
        if !self.ended && self.pushed.insert(op.id()) && Some(op.festival()) == self.festival {
            self.outgoing.push((class, op.lamport(), op.bytes().to_vec()));
            self.outgoing.sort_by_key(|o| std::cmp::Reverse((o.0, o.1)));
        }
    }

    fn check_finished(&mut self) {
        if self.ended || !self.reconciled || self.awaiting_load > 0 {
            return;
        }
        if self.outgoing.is_empty() && !self.sent_done {
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

    /// The next frame to send, if any: reconciliation first, then ops by priority.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if let Some(f) = self.control.pop_front() {
            return Some(f);
        }
        if self.ended || self.outgoing.is_empty() {
            return None;
        }
        let mut ops = Vec::new();
        let mut size = 16;
        while let Some((_, _, bytes)) = self.outgoing.last() {
            if !ops.is_empty() && size + bytes.len() > self.cfg.ops_per_frame_bytes.min(self.cfg.max_frame) {
                break;
            }
            size += bytes.len();
            if let Some((_, _, bytes)) = self.outgoing.pop() {
                ops.push(bytes);
            }
        }
        self.stats.ops_sent += ops.len() as u64;
        self.stats.op_bytes_sent += ops.iter().map(|o| o.len() as u64).sum::<u64>();
        let frame = Message::Ops(ops).frame();
        self.stats.bytes_sent += frame.len() as u64;
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

/// The items of a set of (Lamport clock, op id) pairs.
pub fn items_of(pairs: impl IntoIterator<Item = (u64, OpId)>) -> Items {
    Items::new(pairs.into_iter().map(|(lamport, id)| Item { lamport, id }).collect())
}
