//! Sync messages and their binary encoding (docs/protocol.md, "Sync"). Every frame is a varint
//! length and one message; decoding is strict and bounded, because every byte comes from a peer.

use super::items::{Bound, FINGERPRINT_LEN};
use crate::op::FestivalId;
use crate::wire::{Reader, WireError, Writer};

/// The sync protocol version this implementation speaks: 2 adds packed ops.
pub const SYNC_VERSION: u8 = 2;
/// The oldest version a responder still answers (with plain ops).
pub const MIN_SYNC_VERSION: u8 = 1;
/// Bytes of an id prefix in id lists.
pub const ID_PREFIX_LEN: usize = 8;
/// Ranges in one message at most.
pub const MAX_RANGES: usize = 4096;
/// Ids in one id list at most.
pub const MAX_IDS: usize = 16_384;

/// An id prefix as id lists carry it.
pub type IdPrefix = [u8; ID_PREFIX_LEN];

/// What a range of the item order needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Nothing: both sides agree here (or the sender is done with it).
    Skip,
    /// The sender's fingerprint and item count for the range.
    Fingerprint {
        /// Fingerprint.
        fp: [u8; FINGERPRINT_LEN],
        /// Number of items.
        count: u64,
    },
    /// All the sender's items in the range, by id prefix.
    IdList(Vec<IdPrefix>),
    /// The sender has nothing in the range: send everything you have there.
    NeedAll,
    /// Send these ops (id prefixes of the receiver's items).
    Need(Vec<IdPrefix>),
}

/// A range `[previous upper bound, upper)` and what it needs; `upper: None` runs to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// Exclusive upper bound.
    pub upper: Option<Bound>,
    /// What it needs.
    pub mode: Mode,
}

/// One sync message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Opens a session: protocol version, festival, the initiator's first ranges.
    Hello {
        /// Protocol version.
        version: u8,
        /// The festival to reconcile.
        festival: FestivalId,
        /// Ranges covering the whole order.
        ranges: Vec<Range>,
    },
    /// A reconciliation round; empty means "reconciled, nothing more to compare".
    Ranges(Vec<Range>),
    /// Encoded ops, each self-delimiting.
    Ops(Vec<Vec<u8>>),
    /// Packed ops (version 2): what follows the type byte, see [`super::packed`]. Unpacked by
    /// the session, which knows the festival.
    Packed(Vec<u8>),
    /// The sender has sent every op it is going to send.
    Done,
    /// The sender is closing the session.
    Error {
        /// What went wrong (see [`ErrorCode`]).
        code: u8,
        /// Human-readable detail.
        reason: String,
    },
}

/// Error codes of [`Message::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ErrorCode {
    /// A message could not be decoded or broke the protocol.
    Protocol = 1,
    /// The responder does not hold the festival.
    UnknownFestival = 2,
    /// A resource limit was reached.
    Limit = 3,
    /// An op failed validation.
    InvalidOp = 4,
    /// The protocol version is not supported.
    Version = 5,
    /// The node has no free session slot now; try again shortly.
    Busy = 6,
}

/// Why bytes from a peer are not a valid message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Broken encoding.
    #[error("{0}")]
    Wire(#[from] WireError),
    /// Unknown message type.
    #[error("unknown message type {0}")]
    UnknownType(u8),
    /// Unknown range mode.
    #[error("unknown range mode {0}")]
    UnknownMode(u8),
    /// Bounds out of order, a missing final range, or a bound after the end.
    #[error("ranges out of order or not covering the whole order")]
    BadRanges,
    /// More entries than allowed.
    #[error("{0} over the limit")]
    TooMany(&'static str),
    /// Text that is not UTF-8.
    #[error("error text is not UTF-8")]
    BadText,
    /// An op inside an `Ops` message is malformed.
    #[error("bad op: {0}")]
    BadOp(crate::op::OpError),
    /// A `Packed` message's counts are out of bounds.
    #[error("{0}")]
    BadPacked(super::packed::PackError),
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Encoded size of one range whose previous bound had clock `prev`.
fn range_len(prev: u64, r: &Range) -> usize {
    let bound = match &r.upper {
        None => 1,
        Some(b) => varint_len(b.lamport.saturating_sub(prev).saturating_add(1)) + 1 + b.prefix.len(),
    };
    let mode = match &r.mode {
        Mode::Skip | Mode::NeedAll => 1,
        Mode::Fingerprint { count, .. } => 1 + FINGERPRINT_LEN + varint_len(*count),
        Mode::IdList(ids) | Mode::Need(ids) => 1 + varint_len(ids.len() as u64) + ids.len() * ID_PREFIX_LEN,
    };
    bound + mode
}

/// The most a final "everything else" fingerprint range costs.
const FINAL_RANGE_LEN: usize = 1 + 1 + FINGERPRINT_LEN + 10;

/// A range list built under a budget of encoded bytes and ranges, merging adjacent Skips as it
/// goes and always keeping room for one final range: what a reply that must fit one frame needs.
#[derive(Debug)]
pub struct RangeList {
    ranges: Vec<Range>,
    /// Encoded size of the ranges (without the count).
    total: usize,
    /// Clock of the bound before the last range.
    last_prev: u64,
    budget: usize,
    max_ranges: usize,
}

impl RangeList {
    /// An empty list that must stay within `budget` encoded bytes and `max_ranges` ranges.
    pub fn with_budget(budget: usize, max_ranges: usize) -> Self {
        RangeList { ranges: Vec::new(), total: 0, last_prev: 0, budget, max_ranges }
    }

    fn push(&mut self, r: Range) {
        if r.mode == Mode::Skip
            && let Some(last) = self.ranges.last_mut()
            && last.mode == Mode::Skip
        {
            self.total -= range_len(self.last_prev, last);
            last.upper = r.upper;
            self.total += range_len(self.last_prev, last);
            return;
        }
        let prev = match self.ranges.last() {
            Some(Range { upper: Some(b), .. }) => b.lamport,
            Some(_) => self.last_prev,
            None => 0,
        };
        self.last_prev = prev;
        self.total += range_len(prev, &r);
        self.ranges.push(r);
    }

    fn encoded_len(&self) -> usize {
        varint_len(self.ranges.len() as u64 + 1) + self.total
    }

    /// Appends `answer` if it fits with room left for a final range; otherwise changes nothing
    /// and returns false.
    pub fn try_extend(&mut self, answer: Vec<Range>) -> bool {
        let saved = (self.ranges.len(), self.total, self.last_prev, self.ranges.last().cloned());
        for r in answer {
            self.push(r);
        }
        if self.encoded_len() + FINAL_RANGE_LEN <= self.budget && self.ranges.len() < self.max_ranges {
            return true;
        }
        let (len, total, last_prev, last) = saved;
        self.ranges.truncate(len);
        if let (Some(l), Some(slot)) = (last, self.ranges.last_mut()) {
            *slot = l;
        }
        self.total = total;
        self.last_prev = last_prev;
        false
    }

    /// Appends the final range, for which room was kept.
    pub fn finish_with(&mut self, last: Range) {
        self.push(last);
    }

    /// The ranges.
    pub fn into_ranges(self) -> Vec<Range> {
        self.ranges
    }
}

fn encode_ranges(w: &mut Writer, ranges: &[Range]) {
    w.varint(ranges.len() as u64);
    let mut prev = 0u64;
    for r in ranges {
        match &r.upper {
            None => w.varint(0),
            Some(b) => {
                // Bounds increase and stay within the clock range, so this never saturates.
                w.varint(b.lamport.saturating_sub(prev).saturating_add(1));
                w.u8(b.prefix.len() as u8);
                w.raw(&b.prefix);
                prev = b.lamport;
            }
        }
        match &r.mode {
            Mode::Skip => w.u8(0),
            Mode::Fingerprint { fp, count } => {
                w.u8(1);
                w.raw(fp);
                w.varint(*count);
            }
            Mode::IdList(ids) => {
                w.u8(2);
                w.varint(ids.len() as u64);
                ids.iter().for_each(|id| w.raw(id));
            }
            Mode::NeedAll => w.u8(3),
            Mode::Need(ids) => {
                w.u8(4);
                w.varint(ids.len() as u64);
                ids.iter().for_each(|id| w.raw(id));
            }
        }
    }
}

fn decode_ids(r: &mut Reader<'_>) -> Result<Vec<IdPrefix>, DecodeError> {
    let n = r.varint()? as usize;
    if n > MAX_IDS || n * ID_PREFIX_LEN > r.remaining() {
        return Err(DecodeError::TooMany("id list"));
    }
    (0..n).map(|_| r.array::<ID_PREFIX_LEN>().map_err(DecodeError::from)).collect()
}

fn decode_ranges(r: &mut Reader<'_>) -> Result<Vec<Range>, DecodeError> {
    let n = r.varint()? as usize;
    if n > MAX_RANGES {
        return Err(DecodeError::TooMany("ranges"));
    }
    let mut out = Vec::with_capacity(n.min(r.remaining()));
    let mut prev = 0u64;
    let mut last: Option<Bound> = None;
    for i in 0..n {
        let tag = r.varint()?;
        let upper = if tag == 0 {
            if i + 1 != n {
                return Err(DecodeError::BadRanges);
            }
            None
        } else {
            let lamport = prev.checked_add(tag - 1).ok_or(DecodeError::BadRanges)?;
            // No op carries a clock past the maximum, so no bound between two ops does either.
            if lamport > crate::op::rules::MAX_LAMPORT {
                return Err(DecodeError::BadRanges);
            }
            let len = r.u8()? as usize;
            if len > 32 {
                return Err(DecodeError::BadRanges);
            }
            let b = Bound { lamport, prefix: r.take(len)?.to_vec() };
            if let Some(l) = &last
                && (l.lamport, &l.prefix) >= (b.lamport, &b.prefix)
            {
                return Err(DecodeError::BadRanges);
            }
            prev = lamport;
            last = Some(b.clone());
            Some(b)
        };
        let mode = match r.u8()? {
            0 => Mode::Skip,
            1 => Mode::Fingerprint { fp: r.array()?, count: r.varint()? },
            2 => Mode::IdList(decode_ids(r)?),
            3 => Mode::NeedAll,
            4 => Mode::Need(decode_ids(r)?),
            m => return Err(DecodeError::UnknownMode(m)),
        };
        out.push(Range { upper, mode });
    }
    if out.last().is_some_and(|r| r.upper.is_some()) {
        return Err(DecodeError::BadRanges);
    }
    Ok(out)
}

impl Message {
    /// The message's bytes, without the frame length.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64);
        match self {
            Message::Hello { version, festival, ranges } => {
                w.u8(1);
                w.u8(*version);
                w.raw(festival.as_bytes());
                encode_ranges(&mut w, ranges);
            }
            Message::Ranges(ranges) => {
                w.u8(2);
                encode_ranges(&mut w, ranges);
            }
            Message::Ops(ops) => {
                w.u8(3);
                w.varint(ops.len() as u64);
                ops.iter().for_each(|o| w.raw(o));
            }
            Message::Packed(payload) => {
                w.u8(6);
                w.raw(payload);
            }
            Message::Done => w.u8(4),
            Message::Error { code, reason } => {
                w.u8(5);
                w.u8(*code);
                w.bytes(reason.as_bytes());
            }
        }
        w.into_vec()
    }

    /// The message as a frame: varint length, then the message.
    pub fn frame(&self) -> Vec<u8> {
        let body = self.encode();
        let mut w = Writer::with_capacity(body.len() + 4);
        w.bytes(&body);
        w.into_vec()
    }

    /// Decodes one message (the bytes of one frame). Ops inside an `Ops` message are split but
    /// not validated here: the session decodes each one.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        let mut r = Reader::new(bytes);
        let msg = match r.u8()? {
            1 => {
                let version = r.u8()?;
                let festival = FestivalId(r.array()?);
                Message::Hello { version, festival, ranges: decode_ranges(&mut r)? }
            }
            2 => Message::Ranges(decode_ranges(&mut r)?),
            3 => {
                let n = r.varint()? as usize;
                // Every op is well over 100 bytes; a count the frame cannot hold is a lie.
                if n > r.remaining() / 100 + 1 {
                    return Err(DecodeError::TooMany("ops"));
                }
                let mut ops = Vec::with_capacity(n);
                for _ in 0..n {
                    let rest = &bytes[r.position()..];
                    let (_, used) = crate::op::Op::decode_prefix(rest).map_err(DecodeError::BadOp)?;
                    ops.push(r.take(used)?.to_vec());
                }
                Message::Ops(ops)
            }
            4 => Message::Done,
            6 => {
                let payload = r.take(r.remaining())?;
                super::packed::header(payload).map_err(DecodeError::BadPacked)?;
                Message::Packed(payload.to_vec())
            }
            5 => {
                let code = r.u8()?;
                let reason = std::str::from_utf8(r.bytes()?).map_err(|_| DecodeError::BadText)?.to_owned();
                Message::Error { code, reason }
            }
            t => return Err(DecodeError::UnknownType(t)),
        };
        r.finish()?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::items::Items;
    use proptest::prelude::*;

    /// The messages behind the sync test vectors in docs/protocol.md.
    pub(crate) fn vector_messages() -> Vec<(&'static str, Message)> {
        let empty = Items::new(Vec::new());
        vec![
            (
                "hello-empty",
                Message::Hello {
                    version: SYNC_VERSION,
                    festival: FestivalId([0x11; 32]),
                    ranges: vec![Range {
                        upper: None,
                        mode: Mode::Fingerprint { fp: empty.fingerprint(0..0), count: 0 },
                    }],
                },
            ),
            (
                "ranges-split",
                Message::Ranges(vec![
                    Range { upper: Some(Bound { lamport: 300, prefix: vec![] }), mode: Mode::Skip },
                    Range { upper: Some(Bound { lamport: 301, prefix: vec![0xab, 0xcd] }), mode: Mode::NeedAll },
                    Range { upper: None, mode: Mode::IdList(vec![[1, 2, 3, 4, 5, 6, 7, 8]]) },
                ]),
            ),
            ("reconciled", Message::Ranges(vec![])),
            ("done", Message::Done),
            (
                "packed-ops",
                Message::Packed(crate::sync::packed::pack(
                    &crate::op::tests::vector_ops().into_iter().take(3).map(|(_, o)| o).collect::<Vec<_>>(),
                )),
            ),
        ]
    }

    #[test]
    fn vectors_match_protocol_doc() {
        let doc = include_str!("../../../docs/protocol.md");
        for (name, m) in vector_messages() {
            let hex = crate::wire::to_hex(&m.frame());
            if std::env::var_os("MEADOW_PRINT_VECTORS").is_some() {
                println!("sync {name}\nframe {hex}\n");
            }
            let line = format!("sync {name}");
            let at = doc.find(&line).unwrap_or_else(|| panic!("docs/protocol.md lacks {line}"));
            let frame_line = doc[at..].lines().nth(1).unwrap_or_default().trim();
            assert_eq!(frame_line, format!("frame {hex}"), "{name}");
            let body = crate::wire::from_hex(&hex).expect("hex");
            let mut r = Reader::new(&body);
            let inner = r.bytes().expect("frame");
            assert_eq!(Message::decode(inner).expect("decodes"), m);
        }
    }

    fn arb_bound() -> impl Strategy<Value = (u64, Vec<u8>)> {
        (0u64..1000, proptest::collection::vec(any::<u8>(), 0..4))
    }

    fn arb_mode() -> impl Strategy<Value = Mode> {
        prop_oneof![
            Just(Mode::Skip),
            (any::<[u8; 16]>(), any::<u64>()).prop_map(|(fp, count)| Mode::Fingerprint { fp, count }),
            proptest::collection::vec(any::<[u8; 8]>(), 0..5).prop_map(Mode::IdList),
            Just(Mode::NeedAll),
            proptest::collection::vec(any::<[u8; 8]>(), 0..5).prop_map(Mode::Need),
        ]
    }

    proptest! {
        #[test]
        fn ranges_round_trip(mut bounds in proptest::collection::vec(arb_bound(), 0..6), modes in proptest::collection::vec(arb_mode(), 7)) {
            bounds.sort();
            bounds.dedup();
            let mut ranges: Vec<Range> = bounds
                .into_iter()
                .zip(modes.iter().cloned())
                .map(|((lamport, prefix), mode)| Range { upper: Some(Bound { lamport, prefix }), mode })
                .collect();
            ranges.push(Range { upper: None, mode: modes[6].clone() });
            let m = Message::Ranges(ranges);
            prop_assert_eq!(Message::decode(&m.encode()), Ok(m));
        }

        #[test]
        fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Message::decode(&bytes);
        }
    }

    #[test]
    fn bounds_must_increase_and_end_open() {
        let bad = Message::Ranges(vec![
            Range { upper: Some(Bound { lamport: 5, prefix: vec![] }), mode: Mode::Skip },
            Range { upper: Some(Bound { lamport: 5, prefix: vec![] }), mode: Mode::Skip },
            Range { upper: None, mode: Mode::Skip },
        ]);
        assert_eq!(Message::decode(&bad.encode()), Err(DecodeError::BadRanges));
        let open = Message::Ranges(vec![Range { upper: Some(Bound { lamport: 5, prefix: vec![] }), mode: Mode::Skip }]);
        assert_eq!(Message::decode(&open.encode()), Err(DecodeError::BadRanges));
        assert!(matches!(Message::decode(&[9]), Err(DecodeError::UnknownType(9))));
        assert!(Message::decode(&[3, 0xff, 0xff, 0x03]).is_err(), "a lying op count");
    }
}
