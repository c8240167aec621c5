//! The crew scheme's cryptography, from maintained crates only (docs/protocol.md, "Crews"):
//! HPKE (RFC 9180; DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305, base mode) seals
//! an epoch key to one member, or a join request to the admin; XChaCha20-Poly1305 encrypts a
//! member's crew items under the epoch key; keyed BLAKE3 makes the per-author tag by which a
//! member finds the items of its crews without any crew id on the wire. Plaintexts are padded to
//! fixed buckets before encryption so that sizes tell little.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hpke::kem::Kem as _;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use thiserror::Error;

use crate::identity::{Identity, PublicKey};
use crate::op::FestivalId;

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Cipher = hpke::aead::ChaCha20Poly1305;

/// Bytes of an HPKE encapsulated key (an X25519 public key) at the front of a sealed box.
pub const ENCAPPED_LEN: usize = 32;
/// Bytes a sealed box or an encrypted item adds to its plaintext: the AEAD tag.
pub const TAG_LEN: usize = 16;
/// Bytes of an item's random nonce.
pub const NONCE_LEN: usize = 24;
/// Bytes of the per-author tag that marks an item as one of a crew's.
pub const AUTHOR_TAG_LEN: usize = 16;
/// The sizes a padded plaintext takes: an item is one of these long before encryption, whatever
/// it holds. A plaintext that does not fit the largest is refused.
pub const BUCKETS: [usize; 4] = [128, 512, 2048, 8192];

/// What went wrong sealing or opening crew content.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CrewCryptoError {
    /// The plaintext is larger than the largest padding bucket.
    #[error("crew content of {0} bytes is over the {max} byte limit", max = BUCKETS[BUCKETS.len() - 1] - 2)]
    TooLarge(usize),
    /// Not a member's X25519 key.
    #[error("not a usable X25519 key")]
    BadKey,
    /// Encryption failed (it does not, for inputs within the limits).
    #[error("encryption failed")]
    Encrypt,
}

/// A member's crew key pair for one festival: X25519, derived from the identity's secret so
/// that nothing more needs keeping, and different in every festival so that keys published in
/// two festivals cannot be linked beyond the signing key that publishes them.
#[derive(Clone)]
pub struct CrewKeys {
    secret: <Kem as hpke::Kem>::PrivateKey,
    /// The public half, published signed by the identity.
    pub public: [u8; 32],
}

impl std::fmt::Debug for CrewKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CrewKeys({})", crate::wire::to_hex(&self.public[..6]))
    }
}

impl CrewKeys {
    /// The key pair of `identity` in `festival`.
    pub fn of(identity: &Identity, festival: &FestivalId) -> Self {
        let mut ikm = identity.derive_secret("meadow 2026 crew x25519 v1").to_vec();
        ikm.extend_from_slice(&festival.0);
        Self::derive(&ikm)
    }

    /// The key pair RFC 9180's DeriveKeyPair makes of `ikm` (test vectors use it).
    pub fn derive(ikm: &[u8]) -> Self {
        let (secret, public) = Kem::derive_keypair(ikm);
        let mut p = [0u8; 32];
        p.copy_from_slice(&public.to_bytes());
        CrewKeys { secret, public: p }
    }

    /// Opens a box sealed to this key with [`seal`]; `None` if it was sealed to another key,
    /// with other `info` or `aad`, or is not a sealed box at all.
    pub fn open(&self, info: &[u8], sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < ENCAPPED_LEN + TAG_LEN {
            return None;
        }
        let (encapped, ct) = sealed.split_at(ENCAPPED_LEN);
        let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(encapped).ok()?;
        hpke::single_shot_open::<Cipher, Kdf, Kem>(&OpModeR::Base, &self.secret, &encapped, info, ct, aad).ok()
    }
}

/// Seals `plaintext` to the X25519 key `to` (HPKE base mode, single shot): the encapsulated key,
/// then the ciphertext. Only the holder of the key's secret opens it, and only with the same
/// `info` and `aad`.
pub fn seal(to: &[u8; 32], info: &[u8], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CrewCryptoError> {
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(to).map_err(|_| CrewCryptoError::BadKey)?;
    let (encapped, ct) = hpke::single_shot_seal::<Cipher, Kdf, Kem>(&OpModeS::Base, &pk, info, plaintext, aad)
        .map_err(|_| CrewCryptoError::Encrypt)?;
    let mut out = encapped.to_bytes().to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Pads `plaintext` to the smallest bucket that holds it and its two-byte length.
pub fn pad(plaintext: &[u8]) -> Result<Vec<u8>, CrewCryptoError> {
    let need = plaintext.len() + 2;
    let size = BUCKETS.into_iter().find(|b| *b >= need).ok_or(CrewCryptoError::TooLarge(plaintext.len()))?;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&(plaintext.len() as u16).to_be_bytes());
    out.extend_from_slice(plaintext);
    out.resize(size, 0);
    Ok(out)
}

/// The plaintext [`pad`] padded; `None` unless `padded` is a bucket long and its length fits.
pub fn unpad(padded: &[u8]) -> Option<&[u8]> {
    if !BUCKETS.contains(&padded.len()) {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([padded[0], padded[1]]));
    padded.get(2..2 + len)
}

/// An epoch's key: what every member of the crew holds while the epoch is the newest.
#[derive(Clone, PartialEq, Eq)]
pub struct EpochKey(pub [u8; 32]);

impl std::fmt::Debug for EpochKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EpochKey(..)")
    }
}

impl EpochKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k)?;
        Ok(EpochKey(k))
    }

    /// The tag that marks `author`'s items under this key: members recognise them, carriers see
    /// a different tag per author and epoch, and no crew id.
    pub fn author_tag(&self, author: &PublicKey) -> [u8; AUTHOR_TAG_LEN] {
        let mac_key = blake3::derive_key("meadow 2026 crew author tag v1", &self.0);
        let mut tag = [0u8; AUTHOR_TAG_LEN];
        tag.copy_from_slice(&blake3::keyed_hash(&mac_key, &author.0).as_bytes()[..AUTHOR_TAG_LEN]);
        tag
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        let key = blake3::derive_key("meadow 2026 crew item key v1", &self.0);
        XChaCha20Poly1305::new(&key.into())
    }

    /// Encrypts a padded item under this key with a fresh random nonce: the nonce, then the
    /// ciphertext. `aad` binds it to its op (festival, author, sequence number, epoch).
    pub fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CrewCryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| CrewCryptoError::Encrypt)?;
        self.encrypt_with_nonce(&nonce, plaintext, aad)
    }

    /// [`EpochKey::encrypt`] with a given nonce (test vectors; never reuse one).
    pub fn encrypt_with_nonce(
        &self,
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, CrewCryptoError> {
        let ct = self
            .cipher()
            .encrypt(&XNonce::from(*nonce), Payload { msg: plaintext, aad })
            .map_err(|_| CrewCryptoError::Encrypt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts what [`EpochKey::encrypt`] made; `None` under another key or other `aad`.
    pub fn decrypt(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.cipher().decrypt(&XNonce::from(nonce), Payload { msg: ct, aad }).ok()
    }
}

/// The associated data of a crew item: the op it travels in and the epoch it was written in, so
/// that a ciphertext lifted into another op, log, festival or epoch does not decrypt.
pub fn item_aad(festival: &FestivalId, author: &PublicKey, seq: u64, epoch: u32) -> Vec<u8> {
    let mut aad = b"meadow crew item v1\n".to_vec();
    aad.extend_from_slice(&festival.0);
    aad.extend_from_slice(&author.0);
    aad.extend_from_slice(&seq.to_be_bytes());
    aad.extend_from_slice(&epoch.to_be_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn festival() -> FestivalId {
        FestivalId([9; 32])
    }

    #[test]
    fn only_the_recipient_opens_a_sealed_box_and_only_with_its_context() {
        let (alice, bob) = (CrewKeys::derive(b"alice"), CrewKeys::derive(b"bob"));
        let sealed = seal(&alice.public, b"info", b"epoch key", b"aad").expect("seal");
        assert_eq!(sealed.len(), ENCAPPED_LEN + 9 + TAG_LEN);
        assert_eq!(alice.open(b"info", &sealed, b"aad").as_deref(), Some(&b"epoch key"[..]));
        assert_eq!(bob.open(b"info", &sealed, b"aad"), None, "another member's key");
        assert_eq!(alice.open(b"other", &sealed, b"aad"), None, "other info");
        assert_eq!(alice.open(b"info", &sealed, b"other"), None, "other aad");
        let mut flipped = sealed.clone();
        flipped[40] ^= 1;
        assert_eq!(alice.open(b"info", &flipped, b"aad"), None, "tampered");
        assert_eq!(alice.open(b"info", &sealed[..20], b"aad"), None, "truncated");
        assert!(seal(&[0; 32], b"info", b"x", b"").is_err() || alice.open(b"info", &[0; 60], b"").is_none());
    }

    #[test]
    fn keys_differ_by_identity_and_festival() {
        let (a, b) = (Identity::from_seed(1), Identity::from_seed(2));
        let (f, g) = (FestivalId([1; 32]), FestivalId([2; 32]));
        assert_eq!(CrewKeys::of(&a, &f).public, CrewKeys::of(&a, &f).public);
        assert_ne!(CrewKeys::of(&a, &f).public, CrewKeys::of(&a, &g).public);
        assert_ne!(CrewKeys::of(&a, &f).public, CrewKeys::of(&b, &f).public);
    }

    #[test]
    fn changing_the_author_sequence_number_or_epoch_makes_an_item_fail() {
        let key = EpochKey([5; 32]);
        let author = Identity::from_seed(3).public();
        let other = Identity::from_seed(4).public();
        let item = key.encrypt(&pad(b"favourites").expect("pad"), &item_aad(&festival(), &author, 7, 2)).expect("enc");
        let open = |aad: Vec<u8>| key.decrypt(&item, &aad);
        assert!(open(item_aad(&festival(), &author, 7, 2)).is_some());
        assert!(open(item_aad(&festival(), &other, 7, 2)).is_none(), "author");
        assert!(open(item_aad(&festival(), &author, 8, 2)).is_none(), "sequence number");
        assert!(open(item_aad(&festival(), &author, 7, 3)).is_none(), "epoch");
        assert!(open(item_aad(&FestivalId([8; 32]), &author, 7, 2)).is_none(), "festival");
        assert!(EpochKey([6; 32]).decrypt(&item, &item_aad(&festival(), &author, 7, 2)).is_none(), "old key");
        assert_ne!(key.author_tag(&author), key.author_tag(&other));
        assert_ne!(key.author_tag(&author), EpochKey([6; 32]).author_tag(&author));
    }

    proptest! {
        #[test]
        fn every_item_falls_in_a_bucket_and_round_trips(body in proptest::collection::vec(any::<u8>(), 0..8190)) {
            let key = EpochKey([7; 32]);
            let aad = item_aad(&festival(), &Identity::from_seed(5).public(), 1, 1);
            let padded = pad(&body).expect("fits");
            prop_assert!(BUCKETS.contains(&padded.len()));
            let sealed = key.encrypt(&padded, &aad).expect("enc");
            prop_assert!(BUCKETS.iter().any(|b| sealed.len() == b + NONCE_LEN + TAG_LEN));
            let opened = key.decrypt(&sealed, &aad).expect("dec");
            prop_assert_eq!(unpad(&opened), Some(&body[..]));
        }

        #[test]
        fn garbage_never_opens(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let keys = CrewKeys::derive(b"member");
            prop_assert!(keys.open(b"info", &bytes, b"").is_none());
            prop_assert!(EpochKey([1; 32]).decrypt(&bytes, b"").is_none());
            let _ = unpad(&bytes);
        }
    }

    #[test]
    fn too_large_content_is_refused() {
        assert!(matches!(pad(&[0; 8191]), Err(CrewCryptoError::TooLarge(8191))));
        assert_eq!(pad(&[1; 126]).expect("fits").len(), 128);
        assert_eq!(pad(&[1; 127]).expect("fits").len(), 512);
        assert_eq!(unpad(&[0, 200, 1, 2]), None);
    }
}

#[cfg(test)]
mod vectors {
    use super::*;
    use crate::wire::{from_hex, to_hex};

    /// The `vector crew-*` lines of docs/protocol.md, by name.
    fn documented() -> std::collections::HashMap<String, String> {
        let doc = include_str!("../../../docs/protocol.md");
        doc.lines()
            .filter_map(|l| l.strip_prefix("vector crew-"))
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
            .collect()
    }

    #[test]
    fn the_documented_crew_vectors_hold() {
        let doc = documented();
        let get = |k: &str| doc.get(k).unwrap_or_else(|| panic!("docs/protocol.md has no vector crew-{k}")).clone();
        let rfc_ikm = from_hex("6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037").expect("hex");
        assert_eq!(to_hex(&CrewKeys::derive(&rfc_ikm).public), get("rfc9180-pkR"));
        assert_eq!(to_hex(&CrewKeys::derive(b"meadow crew vector").public), get("keys"));
        let author = Identity::from_secret([7; 32]).public();
        let key = EpochKey([5; 32]);
        assert_eq!(to_hex(&key.author_tag(&author)), get("tag"));
        let aad = item_aad(&FestivalId([9; 32]), &author, 3, 1);
        let item = key.encrypt_with_nonce(&[6; 24], &pad(b"favourites").expect("pad"), &aad).expect("enc");
        assert_eq!(to_hex(&item), get("item"));
        let opened = key.decrypt(&from_hex(&get("item")).expect("hex"), &aad).expect("the documented item opens");
        assert_eq!(unpad(&opened), Some(&b"favourites"[..]));
    }

    /// The plaintexts of a crew of people's item and of an own-devices roster and item, as
    /// docs/protocol.md spells them.
    #[test]
    fn the_documented_crew_plaintexts_hold() {
        use crate::crew::ops::{Heading, OwnState, Roster, Snapshot};
        let doc = documented();
        let get = |k: &str| doc.get(k).unwrap_or_else(|| panic!("docs/protocol.md has no vector crew-{k}")).clone();
        let author = Identity::from_secret([7; 32]).public();
        let item = Snapshot {
            left: false,
            note: "tea tent".into(),
            heading: Some((Heading::HereNow, [0xab; 8])),
            favourites: vec![[1; 8], [2; 8]],
            own: None,
        };
        let own = Snapshot {
            own: Some(OwnState {
                hidden: vec![[3; 8]],
                muted: vec![author],
                seen_at_ms: 1_783_684_800_000,
                changed_at_ms: 1_783_684_860_000,
            }),
            ..item.clone()
        };
        let roster = Roster { name: "My devices".into(), members: vec![author], devices: true };
        for (name, bytes) in
            [("plain-item", item.encode()), ("plain-own-item", own.encode()), ("plain-devices-roster", roster.encode())]
        {
            assert_eq!(to_hex(&bytes), get(name), "{name}");
        }
        assert_eq!(Snapshot::decode(&from_hex(&get("plain-own-item")).expect("hex")), Some(own));
        assert_eq!(Roster::decode(&from_hex(&get("plain-devices-roster")).expect("hex")), Some(roster));
    }
}
