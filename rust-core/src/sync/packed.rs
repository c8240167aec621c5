//! Packed ops (docs/protocol.md, "Packed ops"): the ops of one frame without what the receiver
//! can derive (the format version, the session's festival, body sizes and hashes, an author's key
//! after its first op, a backlink to the op just before), the rest deflated. The receiver
//! rebuilds each op's canonical bytes and decodes them as any other op, so op ids and signatures
//! are exactly those of the op as signed.

use crate::identity::PublicKey;
use crate::op::{FestivalId, MAX_BODY_SIZE};
use crate::op::{Header, OP_VERSION, Op, OpError, OpId};
use crate::wire::{Reader, WireError, Writer};

/// The most bytes a packed message may inflate to: far above what a 64 KiB frame of real ops
/// packs from, and a bound on what a peer can make this device allocate per frame.
pub const MAX_PACKED_RAW: usize = 256 * 1024;

/// The smallest record: flags, seq, lamport, wall time and body size of one byte each, and the
/// signature.
const MIN_RECORD: usize = 5 + 64;

/// DEFLATE level: the default of zlib, a few hundred microseconds per 8 KiB frame on a phone.
const LEVEL: u8 = 6;

const AUTHOR: u8 = 0x01;
const BACKLINK: u8 = 0x02;
const BACKLINK_PREVIOUS: u8 = 0x04;

/// Why a packed message does not give valid ops.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// Broken encoding of the records.
    #[error("packed ops: {0}")]
    Wire(#[from] WireError),
    /// A count or length out of bounds.
    #[error("packed ops: {0}")]
    Bounds(&'static str),
    /// The DEFLATE stream is broken or does not inflate to the declared length.
    #[error("packed ops: the compressed records are corrupt")]
    Inflate,
    /// Flags that break the rules (unknown bits, a backlink where none belongs or none where one
    /// must be, no author to repeat, no previous op to link to).
    #[error("packed ops: bad flags {0:#04x}")]
    Flags(u8),
    /// A rebuilt op is not valid.
    #[error("packed ops: {0}")]
    Op(#[from] OpError),
}

/// `value - previous` modulo 2^64 as a zigzag varint value: small either way for neighbours,
/// and exact for any two u64 (a hostile wall clock near 2^64 included).
fn delta(value: u64, previous: u64) -> u64 {
    let d = value.wrapping_sub(previous) as i64;
    ((d << 1) ^ (d >> 63)) as u64
}

/// The inverse of [`delta`].
fn undelta(z: u64, previous: u64) -> u64 {
    let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
    previous.wrapping_add(d as u64)
}

/// The packed form of `ops`, all of one festival: `varint n`, `varint raw_len`, then the
/// records, deflated (what follows the message type of a `Packed` message).
pub fn pack(ops: &[Op]) -> Vec<u8> {
    let mut raw = Writer::with_capacity(ops.iter().map(|o| o.bytes().len()).sum());
    let mut prev: Option<&Op> = None;
    for op in ops {
        let h = op.header();
        let same_author = prev.is_some_and(|p| p.author() == h.author);
        let follows = same_author && prev.is_some_and(|p| p.seq() + 1 == h.seq && h.backlink == Some(p.id()));
        let mut flags = if same_author { 0 } else { AUTHOR };
        if h.backlink.is_some() {
            flags |= if follows { BACKLINK_PREVIOUS } else { BACKLINK };
        }
        raw.u8(flags);
        if flags & AUTHOR != 0 {
            raw.raw(h.author.as_bytes());
        }
        raw.varint(h.seq);
        if flags & BACKLINK != 0
            && let Some(b) = &h.backlink
        {
            raw.raw(b.as_bytes());
        }
        let (lamport, wall) = prev.map_or((0, 0), |p| (p.lamport(), p.header().wall_time_ms));
        raw.varint(delta(h.lamport, lamport));
        raw.varint(delta(h.wall_time_ms, wall));
        raw.varint(h.body_size);
        raw.raw(&h.signature);
        raw.raw(op.body_bytes());
        prev = Some(op);
    }
    let raw = raw.into_vec();
    let mut out = Writer::with_capacity(raw.len() / 2 + 16);
    out.varint(ops.len() as u64);
    out.varint(raw.len() as u64);
    out.raw(&miniz_oxide::deflate::compress_to_vec(&raw, LEVEL));
    out.into_vec()
}

/// The counts a packed message declares, checked against its bounds: `(n, raw_len)` and where
/// the deflated records start.
pub(crate) fn header(payload: &[u8]) -> Result<(usize, usize, usize), PackError> {
    let mut r = Reader::new(payload);
    let n = r.varint()?;
    let raw_len = r.varint()?;
    if raw_len > MAX_PACKED_RAW as u64 {
        return Err(PackError::Bounds("inflates past the limit"));
    }
    if n == 0 || n > raw_len / MIN_RECORD as u64 {
        return Err(PackError::Bounds("op count"));
    }
    Ok((n as usize, raw_len as usize, r.position()))
}

/// The ops of a packed message (what follows its type byte) in `festival`, each rebuilt and
/// decoded as an op from any other source. Signatures are not checked here: the store does.
pub fn unpack(festival: &FestivalId, payload: &[u8]) -> Result<Vec<Op>, PackError> {
    let (n, raw_len, start) = header(payload)?;
    let raw = miniz_oxide::inflate::decompress_to_vec_with_limit(&payload[start..], raw_len)
        .map_err(|_| PackError::Inflate)?;
    if raw.len() != raw_len {
        return Err(PackError::Inflate);
    }
    let mut r = Reader::new(&raw);
    let mut ops: Vec<Op> = Vec::with_capacity(n);
    for _ in 0..n {
        let prev = ops.last();
        let flags = r.u8()?;
        if flags & !(AUTHOR | BACKLINK | BACKLINK_PREVIOUS) != 0 || (flags & AUTHOR == 0 && prev.is_none()) {
            return Err(PackError::Flags(flags));
        }
        let author = match prev {
            Some(p) if flags & AUTHOR == 0 => p.author(),
            _ => PublicKey(r.array()?),
        };
        let seq = r.varint()?;
        let backlink = match (seq, flags & (BACKLINK | BACKLINK_PREVIOUS)) {
            (0, 0) => None,
            (1.., BACKLINK) => Some(OpId(r.array()?)),
            (1.., BACKLINK_PREVIOUS) => match prev {
                Some(p) if p.author() == author && p.seq() + 1 == seq => Some(p.id()),
                _ => return Err(PackError::Flags(flags)),
            },
            _ => return Err(PackError::Flags(flags)),
        };
        let (lamport, wall) = prev.map_or((0, 0), |p| (p.lamport(), p.header().wall_time_ms));
        let lamport = undelta(r.varint()?, lamport);
        let wall_time_ms = undelta(r.varint()?, wall);
        let body_size = r.varint()?;
        if body_size > MAX_BODY_SIZE as u64 {
            return Err(OpError::BodyTooLarge(body_size).into());
        }
        let signature = r.array()?;
        let body = r.take(body_size as usize)?;
        let header = Header {
            version: OP_VERSION,
            author,
            festival: *festival,
            seq,
            backlink,
            lamport,
            wall_time_ms,
            body_size,
            body_hash: *blake3::hash(body).as_bytes(),
            signature,
        };
        ops.push(Op::from_parts(&header, body)?);
    }
    r.finish()?;
    Ok(ops)
}

#[cfg(test)]
mod tests;
