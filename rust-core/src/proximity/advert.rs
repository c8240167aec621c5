//! The Bluetooth LE advertisement: which festival a device holds and a digest of what it holds,
//! in ten bytes that fit a legacy advertisement beside a 128-bit service UUID. Every byte is
//! derived from a salt that changes at each rotation, so two advertisements of one phone share no
//! byte an observer could link, and only a device that holds the festival can read the tag.

use crate::op::FestivalId;

/// Bytes of the payload (service data, or the state characteristic's value).
pub const PAYLOAD_LEN: usize = 10;
/// Bytes of the state characteristic's value: the payload, then the L2CAP PSM.
pub const STATE_LEN: usize = PAYLOAD_LEN + 2;
/// Version of the payload layout.
pub const VERSION: u8 = 1;
/// Flag: the device offers an L2CAP channel (its PSM is in the state characteristic).
pub const FLAG_L2CAP: u8 = 0x01;
/// AD type: flags.
const AD_FLAGS: u8 = 0x01;
/// AD types: incomplete and complete lists of 128-bit service UUIDs.
const AD_UUIDS_128: [u8; 2] = [0x06, 0x07];
/// AD type: service data for a 128-bit UUID.
const AD_SERVICE_DATA_128: u8 = 0x21;
/// Legacy advertising data holds at most this many bytes.
pub const LEGACY_LEN: usize = 31;

/// What this device holds of a festival, as far as the advertisement tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalState {
    /// The festival advertised.
    pub festival: FestivalId,
    /// Fingerprint of the official ops held (owner's and organisers').
    pub official: [u8; 16],
    /// Fingerprint of every op held (the sync items' fingerprint).
    pub all: [u8; 16],
}

/// A decoded advertisement payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advert {
    /// Flags ([`FLAG_L2CAP`]).
    pub flags: u8,
    /// The rotation's salt.
    pub salt: [u8; 2],
    /// The festival, salted.
    pub tag: [u8; 2],
    /// The official ops held, salted.
    pub official: [u8; 2],
    /// All ops held, salted.
    pub all: [u8; 3],
}

/// What a peer's advertisement means to this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Interest {
    /// It advertises a festival this device does not hold.
    OtherFestival,
    /// Same festival, same ops: connecting would exchange nothing.
    Agree,
    /// Same official ops, different community ops.
    Differs,
    /// Different official ops: the most worth a connection.
    OfficialDiffers,
}

/// What a scan saw of a Meadow device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sighting {
    /// Service data with a payload.
    Advert(Advert),
    /// The service UUID without service data (iOS): read the state characteristic to learn more.
    ServiceOnly,
}

/// Why an advertisement or state value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdvertError {
    /// Not as many bytes as the layout needs.
    #[error("advertisement payload of {0} bytes, expected {PAYLOAD_LEN}")]
    Length(usize),
    /// A payload layout this version does not read.
    #[error("advertisement version {0} is not supported")]
    Version(u8),
    /// Advertising data whose structures run past its end.
    #[error("malformed advertising data at byte {0}")]
    Malformed(usize),
}

fn derive(festival: &FestivalId, salt: [u8; 2], kind: u8, fp: Option<&[u8; 16]>, out: &mut [u8]) {
    let mut h = blake3::Hasher::new_derive_key("meadow 2026 ble advert v1");
    h.update(festival.as_bytes());
    h.update(&salt);
    h.update(&[kind]);
    if let Some(fp) = fp {
        h.update(fp);
    }
    let n = out.len();
    out.copy_from_slice(&h.finalize().as_bytes()[..n]);
}

/// The mask over the version byte: from the salt alone, so any reader can take it off, and the
/// byte differs between rotations like every other.
fn mask(salt: [u8; 2]) -> u8 {
    let mut h = blake3::Hasher::new_derive_key("meadow 2026 ble advert mask v1");
    h.update(&salt);
    h.finalize().as_bytes()[0]
}

impl Advert {
    /// The advertisement of `local` for one rotation, with its salt.
    pub fn new(local: &LocalState, salt: [u8; 2], flags: u8) -> Advert {
        let mut a = Advert { flags: flags & 0x0f, salt, tag: [0; 2], official: [0; 2], all: [0; 3] };
        derive(&local.festival, salt, b't', None, &mut a.tag);
        derive(&local.festival, salt, b'o', Some(&local.official), &mut a.official);
        derive(&local.festival, salt, b'a', Some(&local.all), &mut a.all);
        a
    }

    /// The ten payload bytes.
    pub fn encode(&self) -> [u8; PAYLOAD_LEN] {
        let mut b = [0u8; PAYLOAD_LEN];
        b[0] = ((VERSION << 4) | (self.flags & 0x0f)) ^ mask(self.salt);
        b[1..3].copy_from_slice(&self.salt);
        b[3..5].copy_from_slice(&self.tag);
        b[5..7].copy_from_slice(&self.official);
        b[7..10].copy_from_slice(&self.all);
        b
    }

    /// Reads a payload; extra bytes are refused, as a later version would say so in its version.
    pub fn decode(bytes: &[u8]) -> Result<Advert, AdvertError> {
        let b: &[u8; PAYLOAD_LEN] = bytes.try_into().map_err(|_| AdvertError::Length(bytes.len()))?;
        let salt = [b[1], b[2]];
        let head = b[0] ^ mask(salt);
        if head >> 4 != VERSION {
            return Err(AdvertError::Version(head >> 4));
        }
        Ok(Advert { flags: head & 0x0f, salt, tag: [b[3], b[4]], official: [b[5], b[6]], all: [b[7], b[8], b[9]] })
    }

    /// What this advertisement means to a device holding `local`.
    pub fn compare(&self, local: &LocalState) -> Interest {
        let mine = Advert::new(local, self.salt, self.flags);
        if mine.tag != self.tag {
            Interest::OtherFestival
        } else if mine.official != self.official {
            Interest::OfficialDiffers
        } else if mine.all != self.all {
            Interest::Differs
        } else {
            Interest::Agree
        }
    }

    /// Legacy advertising data: flags (general discoverable, no BR/EDR), then the payload as
    /// service data of the Meadow service. 31 bytes, the whole legacy budget.
    pub fn advertising_data(&self) -> Vec<u8> {
        let mut d = Vec::with_capacity(LEGACY_LEN);
        d.extend_from_slice(&[2, AD_FLAGS, 0x06]);
        d.push((1 + 16 + PAYLOAD_LEN) as u8);
        d.push(AD_SERVICE_DATA_128);
        d.extend(super::SERVICE_UUID.iter().rev());
        d.extend_from_slice(&self.encode());
        d
    }

    /// The state characteristic's value: the payload, then the L2CAP PSM (0: none).
    pub fn state_value(&self, psm: u16) -> [u8; STATE_LEN] {
        let mut v = [0u8; STATE_LEN];
        v[..PAYLOAD_LEN].copy_from_slice(&self.encode());
        v[PAYLOAD_LEN..].copy_from_slice(&psm.to_le_bytes());
        v
    }

    /// Reads a state characteristic's value: the advertisement and the L2CAP PSM (0: none).
    pub fn read_state(value: &[u8]) -> Result<(Advert, u16), AdvertError> {
        if value.len() != STATE_LEN {
            return Err(AdvertError::Length(value.len()));
        }
        let advert = Advert::decode(&value[..PAYLOAD_LEN])?;
        Ok((advert, u16::from_le_bytes([value[PAYLOAD_LEN], value[PAYLOAD_LEN + 1]])))
    }
}

/// Reads advertising data (an advertisement, a scan response, or both concatenated): `None` if it
/// is not a Meadow device's. A Meadow payload that does not decode is an error, not a sighting.
pub fn parse_advertising_data(data: &[u8]) -> Result<Option<Sighting>, AdvertError> {
    let service_le: Vec<u8> = super::SERVICE_UUID.iter().rev().copied().collect();
    let mut at = 0usize;
    let mut service_listed = false;
    let mut found = None;
    while at < data.len() {
        let len = data[at] as usize;
        if len == 0 {
            // Zero-length structures pad the rest of the data.
            break;
        }
        let end = at + 1 + len;
        let Some(field) = data.get(at + 1..end) else { return Err(AdvertError::Malformed(at)) };
        let (kind, body) = (field[0], &field[1..]);
        if kind == AD_SERVICE_DATA_128 && body.len() >= 16 && body[..16] == service_le[..] {
            found = Some(Sighting::Advert(Advert::decode(&body[16..])?));
        } else if AD_UUIDS_128.contains(&kind) && body.chunks_exact(16).any(|u| u == &service_le[..]) {
            service_listed = true;
        }
        at = end;
    }
    Ok(found.or(service_listed.then_some(Sighting::ServiceOnly)))
}

/// Where advertisement salts come from, given to the scheduler by its caller: the system's
/// randomness on a real radio ([`Salts::system`]), a seeded sequence in a simulation that must
/// replay ([`Salts::from_fn`]).
pub struct Salts(Box<dyn FnMut() -> [u8; 2] + Send>);

impl Salts {
    /// The operating system's randomness: what a real radio uses, so that its adverts cannot be
    /// linked. No randomness means no privacy, but never no advertisement: it falls back to the
    /// clock's nanoseconds.
    pub fn system() -> Salts {
        Salts(Box::new(|| {
            let mut salt = [0u8; 2];
            if getrandom::fill(&mut salt).is_err() {
                let nanos =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
                salt = (nanos as u16).to_le_bytes();
            }
            salt
        }))
    }

    /// Salts from a function: a seeded sequence, so that a simulation replays exactly. Never for
    /// a real radio: predictable salts would let an observer link adverts.
    pub fn from_fn(f: impl FnMut() -> [u8; 2] + Send + 'static) -> Salts {
        Salts(Box::new(f))
    }

    /// The next salt.
    pub fn next_salt(&mut self) -> [u8; 2] {
        (self.0)()
    }
}

impl std::fmt::Debug for Salts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Salts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(f: u8, official: u8, all: u8) -> LocalState {
        LocalState { festival: FestivalId([f; 32]), official: [official; 16], all: [all; 16] }
    }

    #[test]
    fn round_trips_and_fits_a_legacy_advertisement() {
        let a = Advert::new(&local(1, 2, 3), [0x12, 0x34], FLAG_L2CAP);
        assert_eq!(Advert::decode(&a.encode()), Ok(a));
        let ad = a.advertising_data();
        assert_eq!(ad.len(), LEGACY_LEN);
        assert_eq!(parse_advertising_data(&ad), Ok(Some(Sighting::Advert(a))));
        assert_eq!(Advert::read_state(&a.state_value(0x0081)), Ok((a, 0x0081)));
    }

    #[test]
    fn compares_what_two_devices_hold() {
        let me = local(1, 2, 3);
        let salt = [9, 9];
        assert_eq!(Advert::new(&me, salt, 0).compare(&me), Interest::Agree);
        assert_eq!(Advert::new(&local(1, 2, 4), salt, 0).compare(&me), Interest::Differs);
        assert_eq!(Advert::new(&local(1, 5, 4), salt, 0).compare(&me), Interest::OfficialDiffers);
        assert_eq!(Advert::new(&local(7, 2, 3), salt, 0).compare(&me), Interest::OtherFestival);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let a = Advert::new(&local(1, 2, 3), [1, 2], 0);
        let mut b = a.encode();
        assert_eq!(Advert::decode(&b[..9]), Err(AdvertError::Length(9)));
        b[0] ^= 0x30;
        assert!(matches!(Advert::decode(&b), Err(AdvertError::Version(_))));
        assert_eq!(parse_advertising_data(&[5, 0x21, 1]), Err(AdvertError::Malformed(0)));
        // Another device's advertisement is no sighting; an iOS one lists the service only.
        assert_eq!(parse_advertising_data(&[2, 1, 6, 3, 0x03, 0x0f, 0x18]), Ok(None));
        let mut ios = vec![17, 0x07];
        ios.extend(crate::proximity::SERVICE_UUID.iter().rev());
        assert_eq!(parse_advertising_data(&ios), Ok(Some(Sighting::ServiceOnly)));
    }
}
