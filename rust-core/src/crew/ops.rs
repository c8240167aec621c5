//! Crew op bodies (kinds 12 to 15, in the extension range) and the plaintexts sealed inside them.
//! Carriers see only sizes and the signing key: no crew id, no member list, no event.
//!
//! Kinds from 12 on are extension kinds (docs/protocol.md, "Rules of a log"): every device keeps
//! them inert in the programme and bounds them to 1 MiB per log, known or not. A crew body that
//! does not decode as one of these shapes is kept inert too, never refused: a device that does not
//! know crews and one that does must accept exactly the same ops.

use crate::identity::PublicKey;
use crate::wire::{Fields, Reader, Writer};

use super::crypto::{AUTHOR_TAG_LEN, ENCAPPED_LEN, TAG_LEN};

/// Kind of a member's published crew key.
pub const KIND_KEY: u8 = 12;
/// Kind of an admin's epoch (membership) op.
pub const KIND_EPOCH: u8 = 13;
/// Kind of a member's item.
pub const KIND_ITEM: u8 = 14;
/// Kind of a join request.
pub const KIND_JOIN: u8 = 15;

/// Bytes of a crew id.
pub const CREW_ID_LEN: usize = 16;
/// Bytes of a grant's plaintext: crew id, epoch, epoch key.
pub const GRANT_PLAIN_LEN: usize = CREW_ID_LEN + 4 + 32;
/// Bytes of one sealed grant on the wire.
pub const GRANT_LEN: usize = ENCAPPED_LEN + GRANT_PLAIN_LEN + TAG_LEN;
/// Grant counts an epoch op is padded to with decoys, so that it tells a crew's size only roughly.
pub const GRANT_SLOTS: [usize; 4] = [4, 8, 16, 32];
/// Most members of a crew (the largest grant slot count, the admin included).
pub const MAX_MEMBERS: usize = 30;
/// Longest crew name, in bytes.
pub const MAX_NAME: usize = 64;
/// Longest note a member shares, in bytes.
pub const MAX_NOTE: usize = 140;
/// Most favourites one item carries.
pub const MAX_FAVOURITES: usize = 300;
/// Bytes of an event id prefix in an item: 64 bits name one event among a festival's (ten
/// thousand events collide with a chance below one in 10^11), and keep 50 favourites in the
/// 512-byte bucket.
pub const EVENT_PREFIX: usize = 8;
/// Bytes of an invite secret.
pub const SECRET_LEN: usize = 16;

/// A crew id: random, known to members and to those holding an invite, never on the wire in
/// the clear.
pub type CrewId = [u8; CREW_ID_LEN];

/// A crew op's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrewBody {
    /// A member's X25519 crew key in this festival.
    Key {
        /// The public key.
        x25519: [u8; 32],
    },
    /// A new epoch of one crew, written by its admin: sealed grants (one per member, the rest
    /// decoys) and the roster sealed under the epoch key.
    Epoch {
        /// Sealed grants, each [`GRANT_LEN`] bytes.
        grants: Vec<Vec<u8>>,
        /// The roster, padded and encrypted under the epoch key.
        roster: Vec<u8>,
    },
    /// A member's state in a crew, encrypted under the epoch key.
    Item {
        /// The author's tag under the epoch key.
        tag: [u8; AUTHOR_TAG_LEN],
        /// Nonce and ciphertext.
        sealed: Vec<u8>,
    },
    /// A request to join, sealed to the admin's crew key.
    Join {
        /// The sealed request.
        sealed: Vec<u8>,
    },
}

impl CrewBody {
    /// The kind byte.
    pub fn kind(&self) -> u8 {
        match self {
            CrewBody::Key { .. } => KIND_KEY,
            CrewBody::Epoch { .. } => KIND_EPOCH,
            CrewBody::Item { .. } => KIND_ITEM,
            CrewBody::Join { .. } => KIND_JOIN,
        }
    }

    /// The fields after the kind byte, as a TLV record (field numbers from 1, increasing).
    pub fn encode_fields(&self, w: &mut Writer) {
        let mut field = |no: u64, v: &[u8]| {
            w.varint(no);
            w.bytes(v);
        };
        match self {
            CrewBody::Key { x25519 } => field(1, x25519),
            CrewBody::Epoch { grants, roster } => {
                field(1, &grants.concat());
                field(2, roster);
            }
            CrewBody::Item { tag, sealed } => {
                field(1, tag);
                field(2, sealed);
            }
            CrewBody::Join { sealed } => field(1, sealed),
        }
    }

    /// The crew body of kind `kind` in `fields` (the body after its kind byte); `None` for
    /// another kind or a shape that is not a crew body's.
    pub fn decode(kind: u8, fields: &[u8]) -> Option<CrewBody> {
        let mut f = Fields::new(fields);
        let mut values: [Option<&[u8]>; 2] = [None, None];
        while let Some((no, v)) = f.next_field().ok()? {
            match no {
                1 | 2 => values[no as usize - 1] = Some(v),
                _ => {}
            }
        }
        match kind {
            KIND_KEY => Some(CrewBody::Key { x25519: values[0]?.try_into().ok()? }),
            KIND_EPOCH => {
                let all = values[0]?;
                if all.is_empty() || all.len() % GRANT_LEN != 0 || !GRANT_SLOTS.contains(&(all.len() / GRANT_LEN)) {
                    return None;
                }
                let grants = all.chunks_exact(GRANT_LEN).map(<[u8]>::to_vec).collect();
                Some(CrewBody::Epoch { grants, roster: values[1]?.to_vec() })
            }
            KIND_ITEM => Some(CrewBody::Item { tag: values[0]?.try_into().ok()?, sealed: values[1]?.to_vec() }),
            KIND_JOIN => Some(CrewBody::Join { sealed: values[0]?.to_vec() }),
            _ => None,
        }
    }
}

/// What a grant seals to one member: which crew, which epoch, and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The crew.
    pub crew: CrewId,
    /// The epoch's number (1 for the crew's creation).
    pub epoch: u32,
    /// The epoch key.
    pub key: [u8; 32],
}

impl Grant {
    /// The plaintext.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(GRANT_PLAIN_LEN);
        out.extend_from_slice(&self.crew);
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.key);
        out
    }

    /// The grant in a plaintext.
    pub fn decode(b: &[u8]) -> Option<Grant> {
        if b.len() != GRANT_PLAIN_LEN {
            return None;
        }
        Some(Grant {
            crew: b[..CREW_ID_LEN].try_into().ok()?,
            epoch: u32::from_be_bytes(b[CREW_ID_LEN..CREW_ID_LEN + 4].try_into().ok()?),
            key: b[CREW_ID_LEN + 4..].try_into().ok()?,
        })
    }
}

/// Who is in a crew in an epoch, and its name: sealed under the epoch key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// The crew's name.
    pub name: String,
    /// Its members, the admin included, in key order.
    pub members: Vec<PublicKey>,
    /// One person's own devices rather than a group of people: its members share what they
    /// hide, mute and have seen too, and apply each other's.
    pub devices: bool,
}

impl Roster {
    /// The plaintext (before padding): version 1 for a crew of people, 2 (with a purpose byte)
    /// for one person's devices.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        if self.devices {
            w.u8(2);
            w.u8(1);
        } else {
            w.u8(1);
        }
        w.bytes(truncate(&self.name, MAX_NAME).as_bytes());
        w.varint(self.members.len() as u64);
        for m in &self.members {
            w.raw(&m.0);
        }
        w.into_vec()
    }

    /// The roster in a plaintext; `None` for anything else.
    pub fn decode(b: &[u8]) -> Option<Roster> {
        let mut r = Reader::new(b);
        let devices = match (r.u8().ok()?, &mut r) {
            (1, _) => false,
            (2, r) => match r.u8().ok()? {
                0 => false,
                1 => true,
                _ => return None,
            },
            _ => return None,
        };
        let name = std::str::from_utf8(r.bytes().ok()?).ok()?;
        if name.len() > MAX_NAME {
            return None;
        }
        let n = usize::try_from(r.varint().ok()?).ok()?;
        if n == 0 || n > MAX_MEMBERS {
            return None;
        }
        let members = (0..n).map(|_| r.array::<32>().ok().map(PublicKey)).collect::<Option<Vec<_>>>()?;
        r.finish().ok()?;
        Some(Roster { name: name.to_owned(), members, devices })
    }
}

/// Where a member says it is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Heading {
    /// On the way to the event.
    HeadingTo,
    /// At the event now.
    HereNow,
}

/// One member's state in a crew: what it shares. Each item is a whole snapshot, so that the
/// newest is all a member needs to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Left the crew.
    pub left: bool,
    /// A short note.
    pub note: String,
    /// Where it is heading, with the event's id prefix.
    pub heading: Option<(Heading, [u8; EVENT_PREFIX])>,
    /// Favourites, as event id prefixes.
    pub favourites: Vec<[u8; EVENT_PREFIX]>,
    /// What only one person's devices share with each other (`None` in a crew of people).
    pub own: Option<OwnState>,
}

/// What one person's devices share besides favourites: the events it hid from its programme,
/// the authors it muted, and when it last looked at what changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnState {
    /// Hidden events, as id prefixes.
    pub hidden: Vec<[u8; EVENT_PREFIX]>,
    /// Muted authors.
    pub muted: Vec<PublicKey>,
    /// When it last marked everything seen, by its own clock (Unix ms; 0 for never).
    pub seen_at_ms: u64,
    /// When this state last changed by its own clock (Unix ms): the newest wins between devices.
    pub changed_at_ms: u64,
}

/// Most hidden events or muted authors one snapshot carries.
pub const MAX_OWN: usize = 100;

impl Snapshot {
    /// The plaintext (before padding): version 1, or 2 when it carries an [`OwnState`].
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(if self.own.is_some() { 2 } else { 1 });
        w.u8(u8::from(self.left));
        w.bytes(truncate(&self.note, MAX_NOTE).as_bytes());
        match &self.heading {
            None => w.u8(0),
            Some((h, e)) => {
                w.u8(match h {
                    Heading::HeadingTo => 1,
                    Heading::HereNow => 2,
                });
                w.raw(e);
            }
        }
        let favs = &self.favourites[..self.favourites.len().min(MAX_FAVOURITES)];
        w.varint(favs.len() as u64);
        for f in favs {
            w.raw(f);
        }
        if let Some(own) = &self.own {
            let hidden = &own.hidden[..own.hidden.len().min(MAX_OWN)];
            w.varint(hidden.len() as u64);
            for h in hidden {
                w.raw(h);
            }
            let muted = &own.muted[..own.muted.len().min(MAX_OWN)];
            w.varint(muted.len() as u64);
            for m in muted {
                w.raw(&m.0);
            }
            w.varint(own.seen_at_ms);
            w.varint(own.changed_at_ms);
        }
        w.into_vec()
    }

    /// The snapshot in a plaintext; `None` for anything else.
    pub fn decode(b: &[u8]) -> Option<Snapshot> {
        let mut r = Reader::new(b);
        let version = r.u8().ok()?;
        if version != 1 && version != 2 {
            return None;
        }
        let left = match r.u8().ok()? {
            0 => false,
            1 => true,
            _ => return None,
        };
        let note = std::str::from_utf8(r.bytes().ok()?).ok()?;
        if note.len() > MAX_NOTE {
            return None;
        }
        let heading = match r.u8().ok()? {
            0 => None,
            1 => Some((Heading::HeadingTo, r.array::<EVENT_PREFIX>().ok()?)),
            2 => Some((Heading::HereNow, r.array::<EVENT_PREFIX>().ok()?)),
            _ => return None,
        };
        let n = usize::try_from(r.varint().ok()?).ok()?;
        if n > MAX_FAVOURITES {
            return None;
        }
        let favourites = (0..n).map(|_| r.array::<EVENT_PREFIX>().ok()).collect::<Option<Vec<_>>>()?;
        let own = if version == 2 {
            let n = usize::try_from(r.varint().ok()?).ok()?;
            if n > MAX_OWN {
                return None;
            }
            let hidden = (0..n).map(|_| r.array::<EVENT_PREFIX>().ok()).collect::<Option<Vec<_>>>()?;
            let n = usize::try_from(r.varint().ok()?).ok()?;
            if n > MAX_OWN {
                return None;
            }
            let muted = (0..n).map(|_| r.array::<32>().ok().map(PublicKey)).collect::<Option<Vec<_>>>()?;
            Some(OwnState { hidden, muted, seen_at_ms: r.varint().ok()?, changed_at_ms: r.varint().ok()? })
        } else {
            None
        };
        r.finish().ok()?;
        Some(Snapshot { left, note: note.to_owned(), heading, favourites, own })
    }
}

/// What a join request seals to the admin: the crew, the invite's secret, and the joiner's crew
/// key (so that the admin can seal the next epoch to it at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// The crew.
    pub crew: CrewId,
    /// The invite's secret.
    pub secret: [u8; SECRET_LEN],
    /// The joiner's crew key.
    pub x25519: [u8; 32],
}

impl JoinRequest {
    /// The plaintext.
    pub fn encode(&self) -> Vec<u8> {
        [&self.crew[..], &self.secret[..], &self.x25519[..]].concat()
    }

    /// The request in a plaintext.
    pub fn decode(b: &[u8]) -> Option<JoinRequest> {
        if b.len() != CREW_ID_LEN + SECRET_LEN + 32 {
            return None;
        }
        Some(JoinRequest {
            crew: b[..CREW_ID_LEN].try_into().ok()?,
            secret: b[CREW_ID_LEN..CREW_ID_LEN + SECRET_LEN].try_into().ok()?,
            x25519: b[CREW_ID_LEN + SECRET_LEN..].try_into().ok()?,
        })
    }
}

/// `s` cut to at most `max` bytes on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bodies_round_trip_and_other_shapes_are_not_crew_bodies() {
        let bodies = [
            CrewBody::Key { x25519: [3; 32] },
            CrewBody::Epoch { grants: vec![vec![1; GRANT_LEN]; 4], roster: vec![2; 40] },
            CrewBody::Item { tag: [4; AUTHOR_TAG_LEN], sealed: vec![5; 50] },
            CrewBody::Join { sealed: vec![6; 90] },
        ];
        for b in bodies {
            let mut w = Writer::new();
            b.encode_fields(&mut w);
            assert_eq!(CrewBody::decode(b.kind(), &w.into_vec()), Some(b));
        }
        // Three grants is not a slot count; a short key; a kind that is not a crew's.
        let mut w = Writer::new();
        CrewBody::Epoch { grants: vec![vec![1; GRANT_LEN]; 3], roster: vec![] }.encode_fields(&mut w);
        assert_eq!(CrewBody::decode(KIND_EPOCH, &w.into_vec()), None);
        let mut w = Writer::new();
        w.varint(1);
        w.bytes(&[1; 31]);
        assert_eq!(CrewBody::decode(KIND_KEY, &w.into_vec()), None);
        assert_eq!(CrewBody::decode(16, &[]), None);
    }

    proptest! {
        #[test]
        fn snapshots_and_rosters_round_trip(
            note in "\\PC{0,40}",
            favs in proptest::collection::vec(any::<[u8; EVENT_PREFIX]>(), 0..40),
            left: bool,
            members in proptest::collection::vec(any::<[u8; 32]>(), 1..30),
        ) {
            let own = (!left).then(|| OwnState {
                hidden: favs.iter().rev().copied().collect(),
                muted: members.iter().take(3).copied().map(PublicKey).collect(),
                seen_at_ms: favs.len() as u64 * 1_000_000_007,
                changed_at_ms: u64::MAX - favs.len() as u64,
            });
            let s = Snapshot { left, note, heading: favs.first().map(|f| (Heading::HereNow, *f)), favourites: favs, own };
            prop_assert_eq!(Snapshot::decode(&s.encode()), Some(s));
            let r = Roster { name: "Camp Kettle".into(), members: members.into_iter().map(PublicKey).collect(), devices: left };
            prop_assert_eq!(Roster::decode(&r.encode()), Some(r));
        }

        #[test]
        fn garbage_decodes_to_nothing_without_panicking(kind in 12u8..16, bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = CrewBody::decode(kind, &bytes);
            let _ = Snapshot::decode(&bytes);
            let _ = Roster::decode(&bytes);
            let _ = Grant::decode(&bytes);
            let _ = JoinRequest::decode(&bytes);
        }
    }
}
