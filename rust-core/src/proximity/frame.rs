//! Link frames: what a sync session's messages travel in over a radio link. A frame is a length,
//! a check and the payload; the check catches what a radio stack or a broken peer mangled, so a
//! corrupt frame ends the link instead of reaching the session. Byte streams (L2CAP, Wi-Fi Direct,
//! Multipeer) carry frames as they are; GATT carries them cut into segments ([`super::gatt`]).

/// Bytes before a frame's payload: length (u32 LE), then the check.
pub const HEADER_LEN: usize = 8;
/// The largest payload a link carries: a sync frame of 64 KiB with room to spare.
pub const MAX_PAYLOAD: usize = 128 * 1024;

/// Why a link ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// A frame claimed more bytes than a link carries.
    #[error("frame of {0} bytes over the limit")]
    TooLarge(u64),
    /// A frame's check did not match its bytes.
    #[error("corrupt frame")]
    Corrupt,
    /// A segment arrived out of order, or one was lost.
    #[error("segment {got} arrived where {expected} was due")]
    OutOfOrder {
        /// The sequence number due.
        expected: u8,
        /// The one that came.
        got: u8,
    },
    /// The link closed inside a frame.
    #[error("link closed {0} bytes into a frame")]
    Truncated(usize),
    /// The peer broke the link protocol.
    #[error("link protocol violation: {0}")]
    Protocol(&'static str),
    /// The peer speaks another link version.
    #[error("link version {0} is not supported")]
    Version(u8),
    /// The peer stopped granting credits (it stopped reading).
    #[error("peer stopped reading for {0} ms")]
    Stalled(u64),
    /// The peer closed the link with a reason.
    #[error("peer closed the link (reason {0})")]
    Remote(u8),
    /// The link closed between frames.
    #[error("link closed")]
    Closed,
}

fn check(payload: &[u8]) -> [u8; 4] {
    let mut h = blake3::Hasher::new_derive_key("meadow 2026 link frame v1");
    h.update(payload);
    let mut c = [0u8; 4];
    c.copy_from_slice(&h.finalize().as_bytes()[..4]);
    c
}

/// Appends a frame carrying `payload` to `out`.
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&check(payload));
    out.extend_from_slice(payload);
}

/// Reassembles frames from bytes as they arrive. It never holds more than one frame's bytes plus
/// what arrived with it: a length over the limit is refused before any of the payload is read.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    max: usize,
}

impl FrameDecoder {
    /// A decoder refusing payloads over `max` bytes.
    pub fn new(max: usize) -> Self {
        FrameDecoder { buf: Vec::new(), max }
    }

    /// Bytes held that are not yet a whole frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Adds bytes from the link, and returns the whole frames they complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, LinkError> {
        self.buf.extend_from_slice(bytes);
        let mut frames = Vec::new();
        let mut at = 0usize;
        loop {
            let rest = &self.buf[at..];
            if rest.len() < 4 {
                break;
            }
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            if len > self.max {
                self.buf.clear();
                return Err(LinkError::TooLarge(len as u64));
            }
            if rest.len() < HEADER_LEN + len {
                break;
            }
            let payload = &rest[HEADER_LEN..HEADER_LEN + len];
            if rest[4..8] != check(payload) {
                self.buf.clear();
                return Err(LinkError::Corrupt);
            }
            frames.push(payload.to_vec());
            at += HEADER_LEN + len;
        }
        self.buf.drain(..at);
        Ok(frames)
    }

    /// The link closed: an error if it closed inside a frame.
    pub fn finish(&self) -> Result<(), LinkError> {
        match self.buf.len() {
            0 => Ok(()),
            n => Err(LinkError::Truncated(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_frames_cut_anywhere() {
        let mut wire = Vec::new();
        encode_frame(b"hello", &mut wire);
        encode_frame(b"", &mut wire);
        encode_frame(&[7u8; 300], &mut wire);
        for cut in [1usize, 3, 7, 64, wire.len()] {
            let mut d = FrameDecoder::new(MAX_PAYLOAD);
            let mut got = Vec::new();
            for chunk in wire.chunks(cut) {
                got.extend(d.push(chunk).expect("valid"));
            }
            assert_eq!(got, vec![b"hello".to_vec(), vec![], vec![7u8; 300]]);
            assert_eq!(d.finish(), Ok(()));
        }
    }

    #[test]
    fn refuses_oversized_corrupt_and_truncated_frames() {
        let mut d = FrameDecoder::new(MAX_PAYLOAD);
        assert_eq!(d.push(&[0xff, 0xff, 0xff, 0xff]), Err(LinkError::TooLarge(u32::MAX as u64)));
        assert_eq!(d.buffered(), 0);
        let mut wire = Vec::new();
        encode_frame(b"hello", &mut wire);
        let mut bad = wire.clone();
        bad[10] ^= 1;
        assert_eq!(FrameDecoder::new(MAX_PAYLOAD).push(&bad), Err(LinkError::Corrupt));
        let mut d = FrameDecoder::new(MAX_PAYLOAD);
        assert_eq!(d.push(&wire[..9]), Ok(vec![]));
        assert_eq!(d.finish(), Err(LinkError::Truncated(9)));
    }
}
