//! Sync over a transport that native code owns (Bluetooth, Wi-Fi Direct, Multipeer): the app moves
//! packets and reports what the radio did; [`LinkSession`] runs the core's session over them.

use std::sync::{Arc, Mutex};

use meadow_core::node::{LinkStep, LinkSync, Node, NodeError};
use meadow_core::proximity::Transport;
use meadow_core::view::{Arrival, Via};

use crate::error::{MeadowError, festival_id};
use crate::node::MeadowNode;
use crate::records::LinkEnd;

/// A transport that native code owns.
#[uniffi::export(with_foreign)]
pub trait Link: Send + Sync {
    /// Writes one packet (over GATT at most [`Link::mtu`] - 3 bytes).
    fn send(&self, packet: Vec<u8>);
    /// Closes the link (named so it cannot clash with `close()` of generated classes).
    fn disconnect(&self);
    /// The negotiated ATT MTU of a GATT link, or 0 for a byte stream (L2CAP, Wi-Fi Direct,
    /// Multipeer).
    fn mtu(&self) -> u32;
}

/// A sync session over a native link. Feed it what the link did, one call at a time and in
/// order; each call returns the session's end once it has ended.
#[derive(uniffi::Object)]
pub struct LinkSession {
    node: Arc<MeadowNode>,
    link: Arc<dyn Link>,
    sync: Arc<Mutex<LinkSync>>,
}

impl LinkSession {
    /// Runs one step on the node's threads, then hands the packets to the link (outside every
    /// lock, so a link that calls back into the node cannot deadlock it).
    async fn step(
        &self,
        f: impl FnOnce(&mut LinkSync, &mut Node) -> Result<LinkStep, NodeError> + Send + 'static,
    ) -> Result<Option<LinkEnd>, MeadowError> {
        let sync = self.sync.clone();
        let (step, festival, stats) = self
            .node
            .run(move |n| {
                let mut s = sync.lock().map_err(|_| NodeError::Invalid("link session poisoned".into()))?;
                let step = f(&mut s, n)?;
                Ok((step, s.festival(), s.stats()))
            })
            .await?;
        for p in step.packets {
            self.link.send(p);
        }
        Ok(step.end.map(|end| {
            self.link.disconnect();
            LinkEnd::new(end, festival.map(|f| f.to_hex()), stats)
        }))
    }
}

fn transport(link: &dyn Link) -> Transport {
    match link.mtu() {
        0 => Transport::Stream,
        mtu => Transport::Gatt { mtu: mtu as usize },
    }
}

#[uniffi::export]
impl MeadowNode {
    /// Starts syncing `festival` over `link` (this side dialled), a link of the medium `via`
    /// (what the ops it brings record as their way here); the first packets are sent before
    /// this returns.
    pub async fn initiate_link(
        self: Arc<Self>,
        link: Arc<dyn Link>,
        festival: String,
        via: Via,
        now_ms: u64,
    ) -> Result<Arc<LinkSession>, MeadowError> {
        let f = festival_id(&festival)?;
        let transport = transport(link.as_ref());
        let sync =
            self.run(move |n| Ok(LinkSync::initiate(n, &f, transport, now_ms)?.arriving(Arrival::by(via)))).await?;
        let session = Arc::new(LinkSession { node: self, link, sync: Arc::new(Mutex::new(sync)) });
        session.step(|l, n| l.start(n)).await?;
        Ok(session)
    }

    /// What this device's advertisement for `festival` tells (for [`crate::Encounters`]).
    pub async fn proximity_state(&self, festival: String) -> Result<crate::ProximityState, MeadowError> {
        let f = festival_id(&festival)?;
        let s = self.run(move |n| n.local_state(&f)).await?;
        Ok(crate::ProximityState::from_core(&s))
    }

    /// Answers a peer that dialled this side over a link of the medium `via`.
    pub fn respond_link(self: Arc<Self>, link: Arc<dyn Link>, via: Via, now_ms: u64) -> Arc<LinkSession> {
        let sync = LinkSync::respond(transport(link.as_ref()), now_ms).arriving(Arrival::by(via));
        Arc::new(LinkSession { node: self, link, sync: Arc::new(Mutex::new(sync)) })
    }
}

#[uniffi::export]
impl LinkSession {
    /// Bytes arrived on the link.
    pub async fn received(&self, bytes: Vec<u8>, now_ms: u64) -> Result<Option<LinkEnd>, MeadowError> {
        self.step(move |l, n| l.received(n, &bytes, now_ms)).await
    }

    /// The link closed.
    pub async fn closed(&self) -> Result<Option<LinkEnd>, MeadowError> {
        self.step(|l, n| l.closed(n)).await
    }

    /// When `tick` is due at the latest (ms, on the clock the calls pass), if anything waits.
    pub fn next_timeout(&self) -> Option<u64> {
        self.sync.lock().ok().and_then(|s| s.poll_timeout())
    }

    /// Time passed; drives the idle timeout.
    pub async fn tick(&self, now_ms: u64) -> Result<Option<LinkEnd>, MeadowError> {
        self.step(move |l, n| l.tick(n, now_ms)).await
    }
}
