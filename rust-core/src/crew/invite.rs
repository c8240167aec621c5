//! A crew invite, as a QR code or link carries it: enough to ask to join, nothing to read with.
//!
//! `meadow://crew/<festival>/<crew>/<admin key>/<admin crew key>/<secret>`, every part hex. It
//! holds no epoch key: a photo of the code lets its holder ask the admin to join, once, until the
//! admin's device lets the invite expire.

use thiserror::Error;

use crate::identity::PublicKey;
use crate::op::FestivalId;
use crate::wire::{from_hex, to_hex};

use super::ops::{CREW_ID_LEN, CrewId, SECRET_LEN};

/// Why a text is not a crew invite.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a Meadow crew invite: {0}")]
pub struct InviteError(&'static str);

/// A crew invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrewInvite {
    /// The festival.
    pub festival: FestivalId,
    /// The crew.
    pub crew: CrewId,
    /// The crew's admin.
    pub admin: PublicKey,
    /// The admin's crew key in the festival, which the request is sealed to.
    pub admin_x25519: [u8; 32],
    /// The single-use secret.
    pub secret: [u8; SECRET_LEN],
}

impl CrewInvite {
    /// The link form.
    pub fn to_link(&self) -> String {
        format!(
            "meadow://crew/{}/{}/{}/{}/{}",
            self.festival.to_hex(),
            to_hex(&self.crew),
            self.admin.to_hex(),
            to_hex(&self.admin_x25519),
            to_hex(&self.secret)
        )
    }

    /// Reads a link (surrounding space ignored).
    pub fn parse(text: &str) -> Result<Self, InviteError> {
        let rest = text.trim().strip_prefix("meadow://crew/").ok_or(InviteError("expected meadow://crew/…"))?;
        let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        let [festival, crew, admin, x25519, secret] = parts[..] else {
            return Err(InviteError("expected five parts"));
        };
        let fixed = |hex: &str, len: usize, what: &'static str| {
            from_hex(hex).filter(|b| b.len() == len).ok_or(InviteError(what))
        };
        let array = |v: Vec<u8>| -> [u8; 32] {
            let mut a = [0u8; 32];
            a.copy_from_slice(&v);
            a
        };
        let crew_bytes = fixed(crew, CREW_ID_LEN, "bad crew id")?;
        let secret_bytes = fixed(secret, SECRET_LEN, "bad secret")?;
        let mut c = [0u8; CREW_ID_LEN];
        c.copy_from_slice(&crew_bytes);
        let mut s = [0u8; SECRET_LEN];
        s.copy_from_slice(&secret_bytes);
        Ok(CrewInvite {
            festival: FestivalId::from_hex(festival).ok_or(InviteError("bad festival id"))?,
            crew: c,
            admin: PublicKey::from_hex(admin).map_err(|_| InviteError("bad admin key"))?,
            admin_x25519: array(fixed(x25519, 32, "bad crew key")?),
            secret: s,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;

    #[test]
    fn invites_round_trip_and_garbage_is_refused() {
        let i = CrewInvite {
            festival: FestivalId([1; 32]),
            crew: [2; CREW_ID_LEN],
            admin: Identity::from_seed(1).public(),
            admin_x25519: [3; 32],
            secret: [4; SECRET_LEN],
        };
        assert_eq!(CrewInvite::parse(&format!(" {} ", i.to_link())), Ok(i.clone()));
        for bad in
            ["", "meadow://join/x", "meadow://crew/00/11", &i.to_link().replace("meadow://crew/", "meadow://crew/zz")]
        {
            assert!(CrewInvite::parse(bad).is_err(), "{bad:?}");
        }
    }
}
