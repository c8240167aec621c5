//! The signed operation: header, body, canonical encoding, hashing and the checks every op must
//! pass before anything else looks at it. The byte layout is specified in docs/protocol.md.

mod body;
mod verify;

#[cfg(any(test, feature = "testing"))]
pub use verify::crafted;
pub use verify::{MAX_BATCH, verify_signatures};

pub use body::{
    Announcement, Body, BodyKind, CommunityMode, EventPatch, FestivalCreate, FestivalPatch, ForkRef, GeoPoint,
    HideTarget, Link, Moderation, Priority, ProfilePatch, Role, SchemaError, VenuePatch, limits,
};

use std::fmt;

use thiserror::Error;

use crate::identity::{Identity, PublicKey};
use crate::wire::{Reader, WireError, Writer, from_hex, to_hex};

/// The header format version this implementation writes and accepts.
pub const OP_VERSION: u8 = 1;
/// The largest body an op may carry, in bytes.
pub const MAX_BODY_SIZE: usize = 16 * 1024;
/// The largest header: fixed fields plus three ten-byte varints, four varints at most.
pub const MAX_HEADER_SIZE: usize = 1 + 32 + 32 + 10 + 32 + 10 + 10 + 3 + 32 + 64;
/// The largest encoded op.
pub const MAX_OP_SIZE: usize = MAX_HEADER_SIZE + MAX_BODY_SIZE;
/// Prefixed to the header bytes an author signs, so that an op signature can never be taken for
/// a signature over anything else the same key signs.
pub const SIGNING_CONTEXT: &[u8] = b"meadow op v1\n";

/// Rules every log must follow, checked the same way on every device: they depend only on an op
/// and the ops before it in its own log, never on roles or on what else a device holds.
pub mod rules {
    /// The highest Lamport clock an op may carry: 2^53 - 1, exact in every JSON number and far
    /// from the signed 64-bit integers stores use.
    pub const MAX_LAMPORT: u64 = (1 << 53) - 1;
    /// How far an op's clock may run ahead of the previous op in its log (of 0 for the first op).
    /// An honest clock rises by one per op in the whole festival, so only a festival of more than
    /// 16 million ops could need more; a hostile author needs half a billion ops in one log to
    /// reach [`MAX_LAMPORT`].
    pub const MAX_CLOCK_STEP: u64 = 1 << 24;
    /// Most ops in one (author, festival) log.
    pub const MAX_LOG_OPS: u64 = 100_000;
    /// Most bytes of encoded ops in one log: room for an organiser's imports of a 10,000-event
    /// programme several times over, and a bound on what one key can make a device store.
    pub const MAX_LOG_BYTES: u64 = 16 * 1024 * 1024;
    /// Most profile ops in one log: a profile is a name and a few lines, changed now and then;
    /// profile ops are open to every key and counted by no other rule.
    pub const MAX_PROFILE_OPS_PER_LOG: u64 = 64;
    /// Most role revocations in one log: far more than any crew removes, and a bound on the
    /// work settling revocations that cut each other costs every device.
    pub const MAX_REVOCATIONS_PER_LOG: u64 = 256;
    /// Body kinds from this number on are extension kinds: a device that does not know one keeps
    /// it inert, and every device bounds what they may cost (below), known or not.
    pub const FIRST_EXTENSION_KIND: u8 = 12;
    /// Most body bytes of extension kinds in one log.
    pub const MAX_EXTENSION_BYTES_PER_LOG: u64 = 1024 * 1024;
}

macro_rules! hash_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Lowercase hex.
            pub fn to_hex(&self) -> String {
                to_hex(&self.0)
            }

            /// Parses 64 hex digits.
            pub fn from_hex(s: &str) -> Option<Self> {
                from_hex(s.trim())?.try_into().ok().map(Self)
            }

            /// The first 12 hex digits, enough to name it in a list.
            pub fn short(&self) -> String {
                to_hex(&self.0[..6])
            }
        }

        // Apps see ids as the hex the CLI prints; a malformed one from an app fails to lift.
        #[cfg(feature = "uniffi")]
        uniffi::custom_type!($name, String, {
            lower: |id| id.to_hex(),
            try_lift: |s| $name::from_hex(&s)
                .ok_or_else(|| uniffi::deps::anyhow::anyhow!("not a 64-digit hex id: {s:?}")),
        });

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.short())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
    };
}

hash_id!(
    /// BLAKE3 of an op's signed header; also the id of the entity that op created.
    OpId
);
hash_id!(
    /// A festival's id, derived from its owner's key and a nonce (see [`FestivalId::derive`]).
    FestivalId
);

impl FestivalId {
    /// The id a festival created by `owner` with `nonce` must have; binding the owner into the id
    /// means nobody else can ever author that festival's creation op.
    pub fn derive(owner: &PublicKey, nonce: &[u8; 16]) -> Self {
        let mut material = [0u8; 48];
        material[..32].copy_from_slice(owner.as_bytes());
        material[32..].copy_from_slice(nonce);
        FestivalId(blake3::derive_key("meadow 2026 festival id v1", &material))
    }
}

/// Why bytes are not a valid op.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpError {
    /// The header is not canonically encoded.
    #[error("bad header encoding: {0}")]
    Header(WireError),
    /// A header format this implementation does not know.
    #[error("unsupported op version {0}")]
    UnsupportedVersion(u8),
    /// The body is over [`MAX_BODY_SIZE`].
    #[error("body of {0} bytes exceeds the limit of {MAX_BODY_SIZE}")]
    BodyTooLarge(u64),
    /// The input ended before the body did.
    #[error("truncated op: body needs {needed} bytes, {available} available")]
    Truncated {
        /// Bytes the header announced.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The body does not hash to the header's body hash.
    #[error("body hash mismatch")]
    BodyHashMismatch,
    /// The body does not follow its schema.
    #[error("invalid body: {0}")]
    Schema(#[from] SchemaError),
    /// The author key is not a usable ed25519 key.
    #[error("invalid author key")]
    InvalidAuthor,
    /// The signature does not verify.
    #[error("invalid signature")]
    BadSignature,
    /// A festival-creation op whose festival id does not derive from its author and nonce.
    #[error("festival id does not match its creator and nonce")]
    FestivalIdMismatch,
    /// A festival-creation op that is not the first in its author's log.
    #[error("a festival-creation op must have sequence number 0")]
    CreateNotFirst,
    /// A Lamport clock above [`rules::MAX_LAMPORT`], or a first op's clock above
    /// [`rules::MAX_CLOCK_STEP`].
    #[error("lamport clock {0} out of range")]
    ClockOutOfRange(u64),
}

/// What an author signs: [`SIGNING_CONTEXT`], then the header's fields 1-9 as encoded.
fn signed_message(unsigned_header: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNING_CONTEXT.len() + unsigned_header.len());
    m.extend_from_slice(SIGNING_CONTEXT);
    m.extend_from_slice(unsigned_header);
    m
}

/// The signed header of an op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Format version, [`OP_VERSION`].
    pub version: u8,
    /// Who signed it.
    pub author: PublicKey,
    /// Which festival's log it belongs to.
    pub festival: FestivalId,
    /// Position in the (author, festival) log, from 0.
    pub seq: u64,
    /// Id of the op at `seq - 1`; absent exactly when `seq == 0`.
    pub backlink: Option<OpId>,
    /// Lamport clock: greater than every op the author had seen in this festival.
    pub lamport: u64,
    /// The author's wall clock in Unix milliseconds; shown, never used for ordering.
    pub wall_time_ms: u64,
    /// Length of the body in bytes.
    pub body_size: u64,
    /// BLAKE3 of the body bytes.
    pub body_hash: [u8; 32],
    /// Ed25519 signature over every header byte before it.
    pub signature: [u8; 64],
}

impl Header {
    fn encode_unsigned(&self, w: &mut Writer) {
        w.u8(self.version);
        w.raw(self.author.as_bytes());
        w.raw(self.festival.as_bytes());
        w.varint(self.seq);
        if let Some(b) = &self.backlink {
            w.raw(b.as_bytes());
        }
        w.varint(self.lamport);
        w.varint(self.wall_time_ms);
        w.varint(self.body_size);
        w.raw(&self.body_hash);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, OpError> {
        let version = r.u8().map_err(OpError::Header)?;
        if version != OP_VERSION {
            return Err(OpError::UnsupportedVersion(version));
        }
        let h = |e| OpError::Header(e);
        let author = PublicKey(r.array().map_err(h)?);
        let festival = FestivalId(r.array().map_err(h)?);
        let seq = r.varint().map_err(h)?;
        let backlink = if seq > 0 { Some(OpId(r.array().map_err(h)?)) } else { None };
        let lamport = r.varint().map_err(h)?;
        let wall_time_ms = r.varint().map_err(h)?;
        let body_size = r.varint().map_err(h)?;
        if body_size > MAX_BODY_SIZE as u64 {
            return Err(OpError::BodyTooLarge(body_size));
        }
        let body_hash = r.array().map_err(h)?;
        let signature = r.array().map_err(h)?;
        Ok(Header { version, author, festival, seq, backlink, lamport, wall_time_ms, body_size, body_hash, signature })
    }
}

/// A decoded op whose structure, body hash and body schema have been checked. Its signature is
/// checked separately by [`Op::verify_signature`] because that is the expensive part and callers
/// batch it across threads.
#[derive(Clone, PartialEq, Eq)]
pub struct Op {
    header: Header,
    body: Body,
    bytes: Vec<u8>,
    header_len: usize,
    id: OpId,
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Op")
            .field("id", &self.id)
            .field("author", &self.header.author)
            .field("seq", &self.header.seq)
            .field("lamport", &self.header.lamport)
            .field("body", &self.body)
            .finish()
    }
}

/// Where a new op goes in its author's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPosition {
    /// Sequence number.
    pub seq: u64,
    /// Id of the previous op in the log, if `seq > 0`.
    pub backlink: Option<OpId>,
    /// Lamport clock to stamp.
    pub lamport: u64,
}

/// Signs consecutive ops of one author's log without a store round trip per op (imports, demos,
/// benchmarks). Lamport clocks are supplied by the caller, who knows what else it has seen.
#[derive(Debug, Clone)]
pub struct LogWriter {
    /// The festival.
    pub festival: FestivalId,
    /// Where the next op goes.
    pub next: LogPosition,
}

impl LogWriter {
    /// A writer for a log whose next position is `next`.
    pub fn new(festival: FestivalId, next: LogPosition) -> Self {
        Self { festival, next }
    }

    /// Signs the next op with clock `lamport` (at least the position's own clock).
    pub fn sign(&mut self, identity: &Identity, lamport: u64, wall_time_ms: u64, body: Body) -> Result<Op, OpError> {
        let position = LogPosition { lamport: lamport.max(self.next.lamport), ..self.next };
        let op = Op::create(identity, self.festival, position, wall_time_ms, body)?;
        self.next = LogPosition { seq: position.seq + 1, backlink: Some(op.id()), lamport: position.lamport + 1 };
        Ok(op)
    }
}

impl Op {
    /// Signs a new op. The body is schema-checked first, so an op that this returns is one every
    /// peer will accept structurally.
    pub fn create(
        identity: &Identity,
        festival: FestivalId,
        position: LogPosition,
        wall_time_ms: u64,
        body: Body,
    ) -> Result<Op, OpError> {
        body.validate()?;
        let body_bytes = body.encode();
        if body_bytes.len() > MAX_BODY_SIZE {
            return Err(OpError::BodyTooLarge(body_bytes.len() as u64));
        }
        let mut header = Header {
            version: OP_VERSION,
            author: identity.public(),
            festival,
            seq: position.seq,
            backlink: if position.seq == 0 { None } else { position.backlink },
            lamport: position.lamport,
            wall_time_ms,
            body_size: body_bytes.len() as u64,
            body_hash: *blake3::hash(&body_bytes).as_bytes(),
            signature: [0; 64],
        };
        if position.seq > 0 && header.backlink.is_none() {
            // A log position without its backlink cannot be encoded; refuse rather than guess.
            return Err(OpError::Header(WireError::UnexpectedEnd(0)));
        }
        let mut w = Writer::with_capacity(MAX_HEADER_SIZE + body_bytes.len());
        header.encode_unsigned(&mut w);
        header.signature = identity.sign(&signed_message(w.as_slice()));
        w.raw(&header.signature);
        let header_len = w.len();
        w.raw(&body_bytes);
        let bytes = w.into_vec();
        let id = OpId(*blake3::hash(&bytes[..header_len]).as_bytes());
        let op = Op { header, body, bytes, header_len, id };
        op.check_intrinsic()?;
        Ok(op)
    }

    /// Decodes one op from the start of `input`, returning it and the number of bytes it used.
    pub fn decode_prefix(input: &[u8]) -> Result<(Op, usize), OpError> {
        let mut r = Reader::new(input);
        let header = Header::decode(&mut r)?;
        let header_len = r.position();
        let body_size = header.body_size as usize;
        if r.remaining() < body_size {
            return Err(OpError::Truncated { needed: body_size, available: r.remaining() });
        }
        let total = header_len + body_size;
        let body_bytes = &input[header_len..total];
        if blake3::hash(body_bytes).as_bytes() != &header.body_hash {
            return Err(OpError::BodyHashMismatch);
        }
        let body = Body::decode(body_bytes)?;
        let bytes = input[..total].to_vec();
        let id = OpId(*blake3::hash(&bytes[..header_len]).as_bytes());
        let op = Op { header, body, bytes, header_len, id };
        op.check_intrinsic()?;
        Ok((op, total))
    }

    /// The op a header and a body make, decoded from their canonical bytes like any other op
    /// (so every check of [`Op::decode`] applies); for senders that leave out what the receiver
    /// can derive (see `sync::packed`).
    pub fn from_parts(header: &Header, body: &[u8]) -> Result<Op, OpError> {
        let mut w = Writer::with_capacity(MAX_HEADER_SIZE + body.len());
        header.encode_unsigned(&mut w);
        w.raw(&header.signature);
        w.raw(body);
        Op::decode(&w.into_vec())
    }

    /// Decodes bytes that must hold exactly one op.
    pub fn decode(input: &[u8]) -> Result<Op, OpError> {
        let (op, used) = Op::decode_prefix(input)?;
        if used != input.len() {
            return Err(OpError::Header(WireError::TrailingBytes(input.len() - used)));
        }
        Ok(op)
    }

    /// Checks that need nothing but the op itself, apart from the signature.
    fn check_intrinsic(&self) -> Result<(), OpError> {
        let lamport = self.header.lamport;
        if lamport > rules::MAX_LAMPORT || (self.header.seq == 0 && lamport > rules::MAX_CLOCK_STEP) {
            return Err(OpError::ClockOutOfRange(lamport));
        }
        if let Body::FestivalCreate(c) = &self.body {
            if self.header.seq != 0 {
                return Err(OpError::CreateNotFirst);
            }
            if FestivalId::derive(&self.header.author, &c.nonce) != self.header.festival {
                return Err(OpError::FestivalIdMismatch);
            }
        }
        Ok(())
    }

    /// Whether the body is of an extension kind (see [`rules::FIRST_EXTENSION_KIND`]).
    pub fn is_extension(&self) -> bool {
        self.body.kind_byte() >= rules::FIRST_EXTENSION_KIND
    }

    /// The op's id: BLAKE3 of its signed header.
    pub fn id(&self) -> OpId {
        self.id
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The decoded body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The author.
    pub fn author(&self) -> PublicKey {
        self.header.author
    }

    /// The festival.
    pub fn festival(&self) -> FestivalId {
        self.header.festival
    }

    /// Sequence number in the author's log.
    pub fn seq(&self) -> u64 {
        self.header.seq
    }

    /// Lamport clock.
    pub fn lamport(&self) -> u64 {
        self.header.lamport
    }

    /// The whole encoding: header then body.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The encoded body.
    pub fn body_bytes(&self) -> &[u8] {
        &self.bytes[self.header_len..]
    }

    /// The signed header bytes, signature included.
    pub fn header_bytes(&self) -> &[u8] {
        &self.bytes[..self.header_len]
    }

    /// The total order in which concurrent writes are resolved: Lamport clock, then author key,
    /// then op id (which only breaks ties within one equivocating author).
    pub fn order_key(&self) -> (u64, PublicKey, OpId) {
        (self.header.lamport, self.header.author, self.id)
    }
}

#[cfg(test)]
pub(crate) mod tests;
