//! The node's side of sync sessions: answering what a session asks of the store, and running
//! one over a link that native code owns.

use super::*;

/// How a sync session ended, as far as the node is concerned.
#[derive(Debug, Clone)]
pub enum SessionEnd {
    /// Both sides hold the same ops now.
    Finished(crate::sync::Stats),
    /// The session failed; ops that arrived whole are stored.
    Failed(crate::sync::SyncError),
}

impl Node {
    /// What this device's Bluetooth advertisement for `festival` tells: see
    /// [`crate::proximity::local_state`].
    pub fn local_state(&self, festival: &FestivalId) -> Result<crate::proximity::LocalState, NodeError> {
        Ok(self.advertised.state(&self.store, festival, || self.items.items(&self.store, festival))?)
    }

    /// The festival's sync items (see [`crate::sync::festival_items`]), shared by its sessions.
    pub fn sync_items(&self, festival: &FestivalId) -> Result<crate::sync::Items, NodeError> {
        Ok(self.items.items(&self.store, festival)?)
    }

    /// Starts a sync session for a festival (held here, or being joined with nothing yet).
    pub fn start_sync(
        &self,
        festival: &FestivalId,
        cfg: crate::sync::Config,
        now: u64,
    ) -> Result<crate::sync::Session, NodeError> {
        Ok(crate::sync::Session::initiate(*festival, self.sync_items(festival)?, cfg, now))
    }

    /// Answers everything a session asks of this node's store: items, ops to send, ops received.
    /// Returns how it ended once it has; ops are stored as they arrive, so a dropped link keeps
    /// every op that came whole.
    /// `from` is how what arrives reaches this device, recorded with each op stored.
    pub fn serve_sync(
        &mut self,
        session: &mut crate::sync::Session,
        from: &crate::view::Arrival,
    ) -> Result<Option<SessionEnd>, NodeError> {
        use crate::sync::Output;
        loop {
            let mut received: Vec<crate::op::Op> = Vec::new();
            let mut batches = 0usize;
            let mut end = None;
            while let Some(out) = session.poll_output() {
                match out {
                    Output::Festival(f) => {
                        // Any op of the festival counts as holding it: a device may know a
                        // festival before its creation op has reached it.
                        let items = self.sync_items(&f)?;
                        session.provide_items((!items.is_empty()).then_some(items));
                    }
                    Output::Plan(ids) => {
                        let f = session.festival().ok_or(NodeError::NoFestival)?;
                        session.plan(crate::sync::plan(&self.store, &f, &ids)?);
                    }
                    Output::Load(ids) => {
                        let f = session.festival().ok_or(NodeError::NoFestival)?;
                        session.queue_ops(self.store.ops_by_id(&f, &ids)?);
                    }
                    Output::Received(ops) => {
                        // Everything that arrived so far goes into one transaction: as durable
                        // as frame by frame, at a fraction of the commits.
                        received.extend(ops);
                        batches += 1;
                    }
                    Output::Finished(stats) => end = Some(SessionEnd::Finished(stats)),
                    Output::Failed(e) => end = Some(SessionEnd::Failed(e)),
                }
            }
            if batches == 0 {
                return Ok(end);
            }
            let report = self.store_batch(received, Some(from))?;
            // Only an op no honest peer would hold drops the peer: evidence of a fork, a full
            // parking space or an op past a fork are this device's business.
            let bad = report.rejected.iter().find(|r| r.reason.is_peer_fault());
            match bad {
                Some(r) => session.ops_rejected(r.reason.to_string()),
                None => {
                    session.ops_stored(report.stored);
                    (1..batches).for_each(|_| session.ops_stored(0));
                }
            }
            if end.is_some() {
                return Ok(end);
            }
        }
    }
}

/// A sync session run over a link that native code owns (Bluetooth L2CAP or GATT, Wi-Fi Direct,
/// Multipeer): packets in, packets out, framed by [`crate::proximity::Framed`]. A packet that is
/// corrupt, out of order or oversized ends the link; every op that arrived whole stays stored,
/// so the next encounter resumes where this one stopped.
#[derive(Debug)]
pub struct LinkSync {
    session: crate::sync::Session,
    link: crate::proximity::Framed,
    end: Option<SessionEnd>,
    /// How the session ended, held back until the link has sent what it queued.
    ended: Option<SessionEnd>,
    /// The latest time the link reported.
    now_ms: u64,
    /// How what arrives over the link reaches this device.
    from: crate::view::Arrival,
}

/// What a [`LinkSync`] step produced.
#[derive(Debug, Default)]
pub struct LinkStep {
    /// Packets to write to the link, in order.
    pub packets: Vec<Vec<u8>>,
    /// Set once the session has ended and its last packets are among these.
    pub end: Option<SessionEnd>,
}

/// Frame bytes queued in a link ahead of the radio: enough to fill a window at any MTU, little
/// enough that a link's end loses nothing the session counted as sent.
const LINK_AHEAD_BYTES: usize = 16 * 1024;

impl LinkSync {
    /// Session settings for a radio link: small frames, since every frame that arrives whole is
    /// stored and a Bluetooth encounter may end at any moment.
    pub fn radio_config() -> crate::sync::Config {
        crate::sync::Config { ops_per_frame_bytes: 4 * 1024, idle_timeout_ms: 15_000, ..Default::default() }
    }

    /// Starts the initiating side for `festival` over `transport`.
    pub fn initiate(
        node: &Node,
        festival: &FestivalId,
        transport: crate::proximity::Transport,
        now_ms: u64,
    ) -> Result<Self, NodeError> {
        let session = node.start_sync(festival, Self::radio_config(), now_ms)?;
        Ok(Self::with(session, transport, now_ms))
    }

    /// Starts the answering side.
    pub fn respond(transport: crate::proximity::Transport, now_ms: u64) -> Self {
        Self::with(crate::sync::Session::respond(Self::radio_config(), now_ms), transport, now_ms)
    }

    fn with(session: crate::sync::Session, transport: crate::proximity::Transport, now_ms: u64) -> Self {
        let link = crate::proximity::Framed::new(transport, crate::proximity::gatt::FramedConfig::default());
        let from = crate::view::Arrival::by(crate::view::Via::Bluetooth);
        LinkSync { session, link, end: None, ended: None, now_ms, from }
    }

    /// Names the medium and peer ops arrive over (Bluetooth with no peer name unless told).
    pub fn arriving(mut self, from: crate::view::Arrival) -> Self {
        self.from = from;
        self
    }

    /// Packets to send now (call once after creating either side: both open the link).
    pub fn start(&mut self, node: &mut Node) -> Result<LinkStep, NodeError> {
        self.step(node)
    }

    /// A packet arrived from the link.
    pub fn received(&mut self, node: &mut Node, packet: &[u8], now_ms: u64) -> Result<LinkStep, NodeError> {
        self.now_ms = self.now_ms.max(now_ms);
        match self.link.handle_packet(packet) {
            Ok(()) => {
                while let Some(frame) = self.link.poll_frame() {
                    self.session.handle_input(&frame, self.now_ms);
                }
            }
            Err(e) => self.link_failed(e),
        }
        self.step(node)
    }

    fn link_failed(&mut self, e: crate::proximity::LinkError) {
        tracing::debug!(error = %e, "radio link ended");
        self.session.handle_close();
    }

    /// The link closed.
    pub fn closed(&mut self, node: &mut Node) -> Result<LinkStep, NodeError> {
        if let Err(e) = self.link.handle_close() {
            self.link_failed(e);
        }
        self.session.handle_close();
        self.step(node)
    }

    /// Time passed (drives the idle and stall timeouts).
    pub fn tick(&mut self, node: &mut Node, now_ms: u64) -> Result<LinkStep, NodeError> {
        self.now_ms = self.now_ms.max(now_ms);
        if let Err(e) = self.link.handle_timeout(self.now_ms) {
            self.link_failed(e);
        }
        self.session.handle_timeout(self.now_ms);
        self.step(node)
    }

    /// When [`Self::tick`] is due at the latest.
    pub fn poll_timeout(&self) -> Option<u64> {
        [self.session.poll_timeout(), self.link.poll_timeout()].into_iter().flatten().min()
    }

    /// The festival, once known (the answering side learns it from the peer).
    pub fn festival(&self) -> Option<FestivalId> {
        self.session.festival()
    }

    /// How it ended, once it has.
    pub fn end(&self) -> Option<&SessionEnd> {
        self.end.as_ref()
    }

    /// What the session moved so far.
    pub fn stats(&self) -> crate::sync::Stats {
        self.session.stats().clone()
    }

    /// What the link moved so far.
    pub fn link_stats(&self) -> crate::proximity::gatt::LinkStats {
        self.link.stats().clone()
    }

    /// Why the link failed, if it did.
    pub fn link_error(&self) -> Option<&crate::proximity::LinkError> {
        self.link.error()
    }

    fn step(&mut self, node: &mut Node) -> Result<LinkStep, NodeError> {
        let mut step = LinkStep::default();
        loop {
            if self.ended.is_none()
                && self.end.is_none()
                && let Some(e) = node.serve_sync(&mut self.session, &self.from)?
            {
                self.ended = Some(e);
            }
            let mut sent = false;
            while self.link.queued() < LINK_AHEAD_BYTES
                && let Some(frame) = self.session.poll_transmit(self.now_ms)
            {
                self.link.send_frame(&frame);
                sent = true;
            }
            if !sent {
                break;
            }
        }
        while let Some(p) = self.link.poll_packet(self.now_ms) {
            step.packets.push(p);
        }
        // The end is told once the link has sent everything the session queued, or cannot.
        if self.end.is_none()
            && (self.link.queued() == 0 || self.link.error().is_some())
            && let Some(mut e) = self.ended.take()
        {
            // A session cut by a broken link says why the link broke.
            if let (SessionEnd::Failed(crate::sync::SyncError::Closed), Some(le)) = (&e, self.link.error())
                && *le != crate::proximity::LinkError::Closed
            {
                e = SessionEnd::Failed(crate::sync::SyncError::Protocol(format!("link: {le}")));
            }
            self.end = Some(e.clone());
            step.end = Some(e);
        }
        Ok(step)
    }
}
