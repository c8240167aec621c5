//! A framed link over GATT or a byte stream, sans-IO: frames in, packets out, fed the time.
//!
//! Over GATT (writes without response one way, notifications the other) each packet is a segment:
//! one header byte (kind in the top two bits, a sequence number modulo 64 below), then bytes of
//! the frame stream. Writes without response and notifications are not acknowledged by the peer's
//! application, so the receiver grants credits: a sender starts with [`INITIAL_CREDITS`] data
//! segments, the peer's Open raises that to its window, and Credit segments grant more as the
//! peer's application takes what arrived. A peer that stops reading stops granting, and the link
//! ends after [`FramedConfig::stall_ms`] instead of queueing without bound.
//!
//! Over a byte stream (L2CAP, Wi-Fi Direct, Multipeer) the transport has its own flow control; the
//! link sends a two-byte preamble ("M", version) and then frames as they are.

use std::collections::VecDeque;

use super::frame::{FrameDecoder, LinkError, MAX_PAYLOAD, encode_frame};

/// Version of the link layer (segments and stream preamble).
pub const LINK_VERSION: u8 = 1;
/// Data segments a sender may send before the peer's Open arrives.
pub const INITIAL_CREDITS: u32 = 8;
/// The largest window: sequence numbers run modulo 64, and a window must stay below that to tell
/// a lost segment from a late one.
pub const MAX_WINDOW: u8 = 48;
/// Bytes an ATT packet spends on its own header, inside the negotiated MTU.
pub const ATT_HEADER: usize = 3;
/// The smallest ATT MTU Bluetooth allows.
pub const MIN_MTU: usize = 23;
/// The first byte of a stream: "M".
const STREAM_MAGIC: u8 = 0x4d;

const KIND_DATA: u8 = 0;
const KIND_CREDIT: u8 = 1;
const KIND_OPEN: u8 = 2;
const KIND_CLOSE: u8 = 3;

/// What carries the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// GATT writes and notifications, with the negotiated ATT MTU.
    Gatt {
        /// The ATT MTU (23 to 517); packets are at most `mtu - 3` bytes.
        mtu: usize,
    },
    /// A reliable ordered byte stream.
    Stream,
}

/// Limits of a framed link.
#[derive(Debug, Clone)]
pub struct FramedConfig {
    /// Data segments this side buffers for the peer (GATT), at most [`MAX_WINDOW`].
    pub window: u8,
    /// A peer that grants no credit this long while data waits is dropped, in ms.
    pub stall_ms: u64,
    /// The largest frame payload accepted.
    pub max_payload: usize,
}

impl Default for FramedConfig {
    fn default() -> Self {
        FramedConfig { window: MAX_WINDOW, stall_ms: 10_000, max_payload: MAX_PAYLOAD }
    }
}

/// Counters of a framed link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets sent.
    pub packets_sent: u64,
    /// Bytes of packets sent (ATT headers not counted).
    pub bytes_sent: u64,
    /// Packets received.
    pub packets_received: u64,
    /// Bytes of packets received.
    pub bytes_received: u64,
}

/// A framed link: one per radio connection.
#[derive(Debug)]
pub struct Framed {
    transport: Transport,
    cfg: FramedConfig,
    /// Encoded frames not yet cut into packets.
    out: VecDeque<u8>,
    /// Control segments to send first; they need no credit.
    control: VecDeque<Vec<u8>>,
    credits: u32,
    seq_out: u8,
    seq_in: u8,
    /// Whether the peer's Open (or preamble) arrived.
    opened: bool,
    /// Preamble bytes of a stream received so far.
    preamble: Vec<u8>,
    decoder: FrameDecoder,
    /// Frames received, not yet taken.
    frames: VecDeque<Vec<u8>>,
    /// Data segments taken in since the last grant.
    ungranted: u32,
    /// Since when data has waited for credit.
    starved_since: Option<u64>,
    error: Option<LinkError>,
    closing: bool,
    stats: LinkStats,
}

impl Framed {
    /// A link over `transport`; the Open (or preamble) is the first packet it sends.
    pub fn new(transport: Transport, cfg: FramedConfig) -> Self {
        let mut cfg = cfg;
        cfg.window = cfg.window.clamp(INITIAL_CREDITS as u8, MAX_WINDOW);
        let mut f = Framed {
            transport,
            decoder: FrameDecoder::new(cfg.max_payload),
            cfg,
            out: VecDeque::new(),
            control: VecDeque::new(),
            credits: INITIAL_CREDITS,
            seq_out: 0,
            seq_in: 0,
            opened: false,
            preamble: Vec::new(),
            frames: VecDeque::new(),
            ungranted: 0,
            starved_since: None,
            error: None,
            closing: false,
            stats: LinkStats::default(),
        };
        match transport {
            Transport::Gatt { .. } => f.control.push_back(vec![KIND_OPEN << 6, LINK_VERSION, f.cfg.window]),
            Transport::Stream => f.control.push_back(vec![STREAM_MAGIC, LINK_VERSION]),
        }
        f
    }

    /// The largest packet this link sends.
    pub fn packet_len(&self) -> usize {
        match self.transport {
            Transport::Gatt { mtu } => mtu.max(MIN_MTU) - ATT_HEADER,
            Transport::Stream => 16 * 1024,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }

    /// Why the link ended, once it has.
    pub fn error(&self) -> Option<&LinkError> {
        self.error.as_ref()
    }

    /// Bytes of frames queued and not yet sent.
    pub fn queued(&self) -> usize {
        self.out.len()
    }

    /// Queues a frame.
    pub fn send_frame(&mut self, payload: &[u8]) {
        if self.error.is_some() || self.closing {
            return;
        }
        let mut b = Vec::with_capacity(payload.len() + super::frame::HEADER_LEN);
        encode_frame(payload, &mut b);
        self.out.extend(b);
    }

    /// Ends the link from this side: a Close segment goes out (GATT) and nothing after it.
    pub fn close(&mut self, reason: u8) {
        if self.closing {
            return;
        }
        self.closing = true;
        self.out.clear();
        if matches!(self.transport, Transport::Gatt { .. }) {
            self.control.push_back(vec![KIND_CLOSE << 6, reason]);
        }
    }

    fn fail(&mut self, e: LinkError) -> Result<(), LinkError> {
        self.error.get_or_insert(e.clone());
        self.out.clear();
        self.frames.clear();
        Err(e)
    }

    /// A packet arrived. An error ends the link: nothing of a bad frame reaches [`Self::poll_frame`].
    pub fn handle_packet(&mut self, packet: &[u8]) -> Result<(), LinkError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        self.stats.packets_received += 1;
        self.stats.bytes_received += packet.len() as u64;
        let data = match self.transport {
            Transport::Stream => self.stream_bytes(packet),
            Transport::Gatt { .. } => self.segment(packet),
        };
        let data = match data {
            Ok(d) => d,
            Err(e) => return self.fail(e),
        };
        if !data.is_empty() {
            match self.decoder.push(data) {
                Ok(frames) => self.frames.extend(frames),
                Err(e) => return self.fail(e),
            }
        }
        Ok(())
    }

    /// Takes the preamble off the front of a stream; what follows is frames.
    fn stream_bytes<'a>(&mut self, packet: &'a [u8]) -> Result<&'a [u8], LinkError> {
        if self.opened {
            return Ok(packet);
        }
        // The preamble may arrive split like any other bytes.
        let take = (2 - self.preamble.len()).min(packet.len());
        self.preamble.extend_from_slice(&packet[..take]);
        match self.preamble[..] {
            [STREAM_MAGIC, LINK_VERSION] => self.opened = true,
            [STREAM_MAGIC] => {}
            [STREAM_MAGIC, v] => return Err(LinkError::Version(v)),
            _ => return Err(LinkError::Protocol("not a Meadow stream")),
        }
        Ok(&packet[take..])
    }

    fn segment<'a>(&mut self, packet: &'a [u8]) -> Result<&'a [u8], LinkError> {
        let (&head, body) = packet.split_first().ok_or(LinkError::Protocol("empty segment"))?;
        if packet.len() > self.packet_len() {
            return Err(LinkError::TooLarge(packet.len() as u64));
        }
        let (kind, seq) = (head >> 6, head & 0x3f);
        if seq != self.seq_in {
            return Err(LinkError::OutOfOrder { expected: self.seq_in, got: seq });
        }
        self.seq_in = (self.seq_in + 1) & 0x3f;
        if !self.opened && kind != KIND_OPEN {
            return Err(LinkError::Protocol("segment before open"));
        }
        match kind {
            KIND_OPEN => {
                let [version, window] = body else { return Err(LinkError::Protocol("bad open")) };
                if self.opened {
                    return Err(LinkError::Protocol("second open"));
                }
                if *version != LINK_VERSION {
                    return Err(LinkError::Version(*version));
                }
                if *window < INITIAL_CREDITS as u8 || *window > MAX_WINDOW {
                    return Err(LinkError::Protocol("window out of range"));
                }
                self.opened = true;
                self.grant(u32::from(*window) - INITIAL_CREDITS);
                Ok(&body[..0])
            }
            KIND_CREDIT => {
                let [n] = body else { return Err(LinkError::Protocol("bad credit")) };
                if *n == 0 || self.credits + u32::from(*n) > u32::from(MAX_WINDOW) {
                    return Err(LinkError::Protocol("credit past the window"));
                }
                self.grant(u32::from(*n));
                Ok(&body[..0])
            }
            KIND_CLOSE => Err(match body {
                [0] => LinkError::Closed,
                [r] => LinkError::Remote(*r),
                _ => LinkError::Protocol("bad close"),
            }),
            _ => {
                if body.is_empty() {
                    return Err(LinkError::Protocol("empty data segment"));
                }
                self.ungranted += 1;
                if self.ungranted > u32::from(self.cfg.window) {
                    return Err(LinkError::Protocol("data past the credits granted"));
                }
                Ok(body)
            }
        }
    }

    fn grant(&mut self, n: u32) {
        self.credits += n;
        if self.credits > 0 {
            self.starved_since = None;
        }
    }

    /// The next whole frame received. Taking frames is what grants the peer more credit, so a
    /// receiver busy with what it has slows the sender down.
    pub fn poll_frame(&mut self) -> Option<Vec<u8>> {
        let f = self.frames.pop_front();
        if self.frames.is_empty()
            && matches!(self.transport, Transport::Gatt { .. })
            && self.ungranted >= u32::from(self.cfg.window / 4).max(1)
            && self.error.is_none()
            && !self.closing
        {
            // A grant of what was taken in; the peer's credits never pass the window.
            let n = self.ungranted.min(u32::from(MAX_WINDOW)) as u8;
            self.ungranted -= u32::from(n);
            self.control.push_back(vec![KIND_CREDIT << 6, n]);
        }
        f
    }

    /// The next packet to send now, if any: control first, then data as far as credit allows.
    pub fn poll_packet(&mut self, now: u64) -> Option<Vec<u8>> {
        if self.error.is_some() {
            return None;
        }
        let packet = match self.transport {
            Transport::Stream => {
                if let Some(c) = self.control.pop_front() {
                    Some(c)
                } else if self.out.is_empty() {
                    None
                } else {
                    let n = self.out.len().min(self.packet_len());
                    Some(self.out.drain(..n).collect())
                }
            }
            Transport::Gatt { .. } => {
                if let Some(mut c) = self.control.pop_front() {
                    c[0] |= self.next_seq();
                    Some(c)
                } else if self.out.is_empty() || self.closing {
                    self.starved_since = None;
                    None
                } else if self.credits == 0 {
                    self.starved_since.get_or_insert(now);
                    None
                } else {
                    self.credits -= 1;
                    let n = self.out.len().min(self.packet_len() - 1);
                    let mut p = Vec::with_capacity(n + 1);
                    p.push((KIND_DATA << 6) | self.next_seq());
                    p.extend(self.out.drain(..n));
                    Some(p)
                }
            }
        };
        if let Some(p) = &packet {
            self.stats.packets_sent += 1;
            self.stats.bytes_sent += p.len() as u64;
        }
        packet
    }

    fn next_seq(&mut self) -> u8 {
        let s = self.seq_out;
        self.seq_out = (self.seq_out + 1) & 0x3f;
        s
    }

    /// When [`Self::handle_timeout`] is due: the stall deadline while data waits for credit.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.starved_since.map(|t| t.saturating_add(self.cfg.stall_ms))
    }

    /// Time passed: a peer that granted nothing for too long ends the link.
    pub fn handle_timeout(&mut self, now: u64) -> Result<(), LinkError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if let Some(t) = self.starved_since
            && now.saturating_sub(t) >= self.cfg.stall_ms
        {
            return self.fail(LinkError::Stalled(now - t));
        }
        Ok(())
    }

    /// The radio link closed: [`LinkError::Closed`] between frames, or the error of a frame cut
    /// short.
    pub fn handle_close(&mut self) -> Result<(), LinkError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.decoder.finish() {
            Ok(()) => {
                self.error = Some(LinkError::Closed);
                Err(LinkError::Closed)
            }
            Err(e) => self.fail(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moves every packet each way until nothing moves; returns the frames each side received.
    fn pump(a: &mut Framed, b: &mut Framed, now: u64) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let (mut at_a, mut at_b) = (Vec::new(), Vec::new());
        loop {
            let mut moved = false;
            while let Some(p) = a.poll_packet(now) {
                b.handle_packet(&p).expect("valid");
                moved = true;
            }
            while let Some(f) = b.poll_frame() {
                at_b.push(f);
            }
            while let Some(p) = b.poll_packet(now) {
                a.handle_packet(&p).expect("valid");
                moved = true;
            }
            while let Some(f) = a.poll_frame() {
                at_a.push(f);
            }
            if !moved {
                return (at_a, at_b);
            }
        }
    }

    #[test]
    fn carries_frames_both_ways_at_every_mtu() {
        for t in
            [Transport::Gatt { mtu: 23 }, Transport::Gatt { mtu: 185 }, Transport::Gatt { mtu: 517 }, Transport::Stream]
        {
            let mut a = Framed::new(t, FramedConfig::default());
            let mut b = Framed::new(t, FramedConfig::default());
            let big: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
            a.send_frame(&big);
            a.send_frame(b"x");
            b.send_frame(b"back");
            let (at_a, at_b) = pump(&mut a, &mut b, 0);
            assert_eq!(at_b, vec![big.clone(), b"x".to_vec()], "{t:?}");
            assert_eq!(at_a, vec![b"back".to_vec()]);
            assert!(a.stats().packets_sent > 0);
        }
    }

    #[test]
    fn a_sender_stops_at_its_credit_and_a_silent_peer_ends_the_link() {
        let mut a = Framed::new(Transport::Gatt { mtu: 23 }, FramedConfig::default());
        a.send_frame(&[1u8; 4000]);
        let mut sent = 0;
        while let Some(p) = a.poll_packet(0) {
            sent += usize::from(p[0] >> 6 == KIND_DATA);
        }
        assert_eq!(sent, INITIAL_CREDITS as usize, "no open from the peer: only the initial credit");
        assert_eq!(a.poll_timeout(), Some(10_000));
        assert_eq!(a.handle_timeout(9_999), Ok(()));
        assert_eq!(a.handle_timeout(10_000), Err(LinkError::Stalled(10_000)));
        assert!(a.poll_packet(10_001).is_none());
    }

    #[test]
    fn out_of_order_oversized_and_early_segments_end_the_link() {
        let open = [KIND_OPEN << 6, LINK_VERSION, MAX_WINDOW];
        let mut a = Framed::new(Transport::Gatt { mtu: 23 }, FramedConfig::default());
        assert_eq!(a.handle_packet(&[KIND_DATA << 6, 1]), Err(LinkError::Protocol("segment before open")));
        let mut a = Framed::new(Transport::Gatt { mtu: 23 }, FramedConfig::default());
        a.handle_packet(&open).expect("open");
        assert_eq!(a.handle_packet(&[(KIND_DATA << 6) | 2, 1]), Err(LinkError::OutOfOrder { expected: 1, got: 2 }));
        assert!(a.poll_frame().is_none());
        let mut a = Framed::new(Transport::Gatt { mtu: 23 }, FramedConfig::default());
        a.handle_packet(&open).expect("open");
        assert_eq!(a.handle_packet(&[(KIND_DATA << 6) | 1; 21]), Err(LinkError::TooLarge(21)));
        let mut a = Framed::new(Transport::Gatt { mtu: 23 }, FramedConfig::default());
        a.handle_packet(&open).expect("open");
        let huge = [(KIND_DATA << 6) | 1, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(a.handle_packet(&huge), Err(LinkError::TooLarge(u32::MAX as u64)));
        let mut a = Framed::new(Transport::Stream, FramedConfig::default());
        assert_eq!(a.handle_packet(b"GET / HTTP/1.1"), Err(LinkError::Protocol("not a Meadow stream")));
    }

    #[test]
    fn a_peer_that_ignores_its_credit_is_dropped() {
        let mut a = Framed::new(Transport::Gatt { mtu: 23 }, FramedConfig { window: 8, ..FramedConfig::default() });
        a.handle_packet(&[KIND_OPEN << 6, LINK_VERSION, 8]).expect("open");
        let mut wire = Vec::new();
        encode_frame(&[0u8; 400], &mut wire);
        let mut r = Ok(());
        for (i, chunk) in wire.chunks(19).enumerate().take(10) {
            let mut p = vec![(KIND_DATA << 6) | ((i as u8 + 1) & 0x3f)];
            p.extend_from_slice(chunk);
            r = r.and(a.handle_packet(&p));
        }
        assert_eq!(r, Err(LinkError::Protocol("data past the credits granted")));
    }

    #[test]
    fn a_close_inside_a_frame_is_reported() {
        let mut a = Framed::new(Transport::Stream, FramedConfig::default());
        a.handle_packet(&[STREAM_MAGIC, LINK_VERSION, 50, 0, 0, 0, 1, 2]).expect("start");
        assert_eq!(a.handle_close(), Err(LinkError::Truncated(6)));
        let mut b = Framed::new(Transport::Stream, FramedConfig::default());
        assert_eq!(b.handle_close(), Err(LinkError::Closed));
    }
}
