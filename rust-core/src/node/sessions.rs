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
    /// Starts a sync session for a festival (held here, or being joined with nothing yet).
    pub fn start_sync(
        &self,
        festival: &FestivalId,
        cfg: crate::sync::Config,
        now: u64,
    ) -> Result<crate::sync::Session, NodeError> {
        Ok(crate::sync::Session::initiate(*festival, self.store.sync_items(festival)?, cfg, now))
    }

    /// Answers everything a session asks of this node's store: items, ops to send, ops received.
    /// Returns how it ended once it has; ops are stored as they arrive, so a dropped link keeps
    /// every op that came whole.
    pub fn serve_sync(&mut self, session: &mut crate::sync::Session) -> Result<Option<SessionEnd>, NodeError> {
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
                        let items = self.store.sync_items(&f)?;
                        session.provide_items((!items.is_empty()).then_some(items));
                    }
                    Output::Plan(ids) => {
                        let f = session.festival().ok_or(NodeError::NoFestival)?;
                        session.plan(self.store.sync_plan(&f, &ids)?);
                    }
                    Output::Load(ids) => {
                        let f = session.festival().ok_or(NodeError::NoFestival)?;
                        session.queue_ops(self.store.load_for_sync(&f, &ids)?);
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
            let report = self.store.ingest(received)?;
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
/// Multipeer): bytes in, packets of at most the link's MTU out.
#[derive(Debug)]
pub struct LinkSync {
    session: crate::sync::Session,
    mtu: usize,
    end: Option<SessionEnd>,
    /// The latest time the link reported.
    now_ms: u64,
}

/// What a [`LinkSync`] step produced.
#[derive(Debug, Default)]
pub struct LinkStep {
    /// Packets to write to the link, in order, each at most the MTU.
    pub packets: Vec<Vec<u8>>,
    /// Set once the session has ended.
    pub end: Option<SessionEnd>,
}

impl LinkSync {
    /// Starts the initiating side for `festival` over a link with `mtu`-byte packets.
    pub fn initiate(node: &Node, festival: &FestivalId, mtu: usize, now_ms: u64) -> Result<Self, NodeError> {
        let session = node.start_sync(festival, crate::sync::Config::default(), now_ms)?;
        Ok(LinkSync { session, mtu: mtu.max(1), end: None, now_ms })
    }

    /// Starts the answering side.
    pub fn respond(mtu: usize, now_ms: u64) -> Self {
        LinkSync {
            session: crate::sync::Session::respond(crate::sync::Config::default(), now_ms),
            mtu: mtu.max(1),
            end: None,
            now_ms,
        }
    }

    /// Packets to send now (call once after creating the initiating side).
    pub fn start(&mut self, node: &mut Node) -> Result<LinkStep, NodeError> {
        self.step(node)
    }

    /// Bytes arrived from the link.
    pub fn received(&mut self, node: &mut Node, bytes: &[u8], now_ms: u64) -> Result<LinkStep, NodeError> {
        self.now_ms = self.now_ms.max(now_ms);
        self.session.handle_input(bytes, now_ms);
        self.step(node)
    }

    /// The link closed.
    pub fn closed(&mut self, node: &mut Node) -> Result<LinkStep, NodeError> {
        self.session.handle_close();
        self.step(node)
    }

    /// Time passed (drives the idle timeout).
    pub fn tick(&mut self, node: &mut Node, now_ms: u64) -> Result<LinkStep, NodeError> {
        self.now_ms = self.now_ms.max(now_ms);
        self.session.handle_timeout(now_ms);
        self.step(node)
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

    fn step(&mut self, node: &mut Node) -> Result<LinkStep, NodeError> {
        let mut step = LinkStep::default();
        loop {
            if self.end.is_none()
                && let Some(e) = node.serve_sync(&mut self.session)?
            {
                self.end = Some(e.clone());
                step.end = Some(e);
            }
            let mut sent = false;
            while let Some(frame) = self.session.poll_transmit(self.now_ms) {
                step.packets.extend(frame.chunks(self.mtu).map(<[u8]>::to_vec));
                sent = true;
            }
            if !sent {
                return Ok(step);
            }
        }
    }
}
