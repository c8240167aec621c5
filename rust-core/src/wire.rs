//! Canonical binary encoding primitives shared by every Meadow wire format.
//!
//! Every decoder here is strict: a value has exactly one accepted encoding, so that re-encoding a
//! decoded op reproduces the signed bytes and two implementations can never disagree about whether
//! bytes are valid. See docs/protocol.md, "Primitives".

use thiserror::Error;

/// Why a byte string is not a valid encoding.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The input ended in the middle of a value.
    #[error("unexpected end of input at byte {0}")]
    UnexpectedEnd(usize),
    /// A varint used more bytes than needed, or more than ten.
    #[error("non-canonical varint at byte {0}")]
    NonCanonicalVarint(usize),
    /// A varint does not fit the integer type it encodes.
    #[error("varint out of range at byte {0}")]
    VarintOverflow(usize),
    /// Bytes remain after the last value.
    #[error("{0} trailing bytes")]
    TrailingBytes(usize),
    /// A text field is not UTF-8.
    #[error("field {0} is not valid UTF-8")]
    InvalidUtf8(u64),
    /// Fields must appear once each, in increasing field number.
    #[error("field {field} out of order after field {previous}")]
    FieldOrder {
        /// The offending field number.
        field: u64,
        /// The field number before it.
        previous: u64,
    },
    /// A length prefix points past the end of its container.
    #[error("length {len} at byte {at} exceeds the remaining {remaining} bytes")]
    LengthOverrun {
        /// The declared length.
        len: u64,
        /// Where the length prefix starts.
        at: usize,
        /// What was left.
        remaining: usize,
    },
}

/// Appends canonical values to a byte buffer.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `cap` bytes.
    pub fn with_capacity(cap: usize) -> Self {
        Self { buf: Vec::with_capacity(cap) }
    }

    /// One raw byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Raw bytes with no length prefix.
    pub fn raw(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// An unsigned LEB128 varint.
    pub fn varint(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.buf.push(byte);
                return;
            }
            self.buf.push(byte | 0x80);
        }
    }

    /// A signed integer, zigzag-mapped then written as a varint.
    pub fn zigzag(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A varint length followed by the bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        self.varint(v.len() as u64);
        self.raw(v);
    }

    /// A TLV field: field number, varint length, value.
    pub fn field(&mut self, number: u64, value: &[u8]) {
        self.varint(number);
        self.bytes(value);
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The written bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// The written bytes, consuming the writer.
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

/// Encodes `v` as a canonical varint into a fresh vector.
pub fn varint_bytes(v: u64) -> Vec<u8> {
    let mut w = Writer::with_capacity(10);
    w.varint(v);
    w.into_vec()
}

/// Encodes `v` as a zigzag varint into a fresh vector.
pub fn zigzag_bytes(v: i64) -> Vec<u8> {
    let mut w = Writer::with_capacity(10);
    w.zigzag(v);
    w.into_vec()
}

/// Reads canonical values from a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether everything was consumed.
    pub fn is_at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// Fails unless everything was consumed.
    pub fn finish(&self) -> Result<(), WireError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(WireError::TrailingBytes(n)),
        }
    }

    /// One raw byte.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        let b = *self.buf.get(self.pos).ok_or(WireError::UnexpectedEnd(self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    /// `n` raw bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.remaining() < n {
            return Err(WireError::UnexpectedEnd(self.buf.len()));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A fixed-size array of raw bytes.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// A canonical unsigned LEB128 varint: minimal length, at most ten bytes, no overflow.
    pub fn varint(&mut self) -> Result<u64, WireError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10u32 {
            let byte = self.u8()?;
            let low = u64::from(byte & 0x7f);
            if i == 9 && byte > 0x01 {
                return Err(WireError::VarintOverflow(start));
            }
            value |= low << (7 * i);
            if byte & 0x80 == 0 {
                // A final zero byte after the first means a shorter encoding existed.
                if byte == 0 && i > 0 {
                    return Err(WireError::NonCanonicalVarint(start));
                }
                return Ok(value);
            }
        }
        Err(WireError::NonCanonicalVarint(start))
    }

    /// A zigzag-mapped signed varint.
    pub fn zigzag(&mut self) -> Result<i64, WireError> {
        let v = self.varint()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// A varint length followed by that many bytes.
    pub fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let at = self.pos;
        let len = self.varint()?;
        if len > self.remaining() as u64 {
            return Err(WireError::LengthOverrun { len, at, remaining: self.remaining() });
        }
        self.take(len as usize)
    }
}

/// Iterates the fields of a TLV record and enforces strictly increasing field numbers.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    reader: Reader<'a>,
    previous: Option<u64>,
}

impl<'a> Fields<'a> {
    /// Fields of the record that fills `buf` entirely.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { reader: Reader::new(buf), previous: None }
    }

    /// The next (field number, value), or `None` at the end of the record.
    pub fn next_field(&mut self) -> Result<Option<(u64, &'a [u8])>, WireError> {
        if self.reader.is_at_end() {
            return Ok(None);
        }
        let number = self.reader.varint()?;
        if let Some(previous) = self.previous
            && number <= previous
        {
            return Err(WireError::FieldOrder { field: number, previous });
        }
        self.previous = Some(number);
        let value = self.reader.bytes()?;
        Ok(Some((number, value)))
    }
}

/// Decodes a whole slice as one canonical varint.
pub fn read_varint_exact(buf: &[u8]) -> Result<u64, WireError> {
    let mut r = Reader::new(buf);
    let v = r.varint()?;
    r.finish()?;
    Ok(v)
}

/// Decodes a whole slice as one zigzag varint.
pub fn read_zigzag_exact(buf: &[u8]) -> Result<i64, WireError> {
    let mut r = Reader::new(buf);
    let v = r.zigzag()?;
    r.finish()?;
    Ok(v)
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// Parses hex (either case) into bytes; `None` if it is not an even run of hex digits.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes().chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn varint_vectors() {
        for (v, bytes) in [
            (0u64, vec![0x00]),
            (1, vec![0x01]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (300, vec![0xac, 0x02]),
            (u64::MAX, vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        ] {
            assert_eq!(varint_bytes(v), bytes, "encode {v}");
            assert_eq!(read_varint_exact(&bytes), Ok(v), "decode {v}");
        }
    }

    #[test]
    fn varint_rejects_non_canonical() {
        assert_eq!(read_varint_exact(&[0x80, 0x00]), Err(WireError::NonCanonicalVarint(0)));
        assert_eq!(read_varint_exact(&[0xff; 10]), Err(WireError::VarintOverflow(0)));
        assert_eq!(
            read_varint_exact(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
            Err(WireError::VarintOverflow(0))
        );
        assert_eq!(read_varint_exact(&[0x80]), Err(WireError::UnexpectedEnd(1)));
        assert_eq!(read_varint_exact(&[0x01, 0x00]), Err(WireError::TrailingBytes(1)));
    }

    #[test]
    fn zigzag_vectors() {
        for (v, bytes) in [(0i64, vec![0x00]), (-1, vec![0x01]), (1, vec![0x02]), (-64, vec![0x7f])] {
            assert_eq!(zigzag_bytes(v), bytes);
            assert_eq!(read_zigzag_exact(&bytes), Ok(v));
        }
    }

    #[test]
    fn fields_must_increase() {
        let mut w = Writer::new();
        w.field(2, b"a");
        w.field(2, b"b");
        let bytes = w.into_vec();
        let mut f = Fields::new(&bytes);
        assert!(f.next_field().is_ok());
        assert_eq!(f.next_field(), Err(WireError::FieldOrder { field: 2, previous: 2 }));
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(to_hex(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(from_hex("00ABff"), Some(vec![0, 0xab, 0xff]));
        assert_eq!(from_hex("0g"), None);
        assert_eq!(from_hex("abc"), None);
    }

    proptest! {
        #[test]
        fn varint_round_trips(v: u64) {
            prop_assert_eq!(read_varint_exact(&varint_bytes(v)), Ok(v));
        }

        #[test]
        fn zigzag_round_trips(v: i64) {
            prop_assert_eq!(read_zigzag_exact(&zigzag_bytes(v)), Ok(v));
        }

        #[test]
        fn reader_never_panics(bytes: Vec<u8>) {
            let mut f = Fields::new(&bytes);
            while let Ok(Some(_)) = f.next_field() {}
        }
    }
}
