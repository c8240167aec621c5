//! Invite tickets: a festival id and how to reach a peer that holds it, as text, as a
//! `meadow://` link and as a QR code.

use iroh::EndpointAddr;
use iroh_tickets::{ParseError, Ticket};
use serde::{Deserialize, Serialize};

use crate::op::FestivalId;

/// The scheme of invite links.
pub const LINK_PREFIX: &str = "meadow://join/";

/// A festival and a peer to fetch it from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// The festival.
    pub festival: FestivalId,
    /// Where a peer holding it listens.
    pub peer: EndpointAddr,
}

#[derive(Serialize, Deserialize)]
enum Wire {
    V1 { festival: [u8; 32], peer: EndpointAddr },
}

impl Ticket for Invite {
    const KIND: &'static str = "meadow";

    fn encode_bytes(&self) -> Vec<u8> {
        // Serializing an in-memory value of plain types cannot fail.
        postcard::to_stdvec(&Wire::V1 { festival: self.festival.0, peer: self.peer.clone() }).unwrap_or_default()
    }

    fn decode_bytes(bytes: &[u8]) -> Result<Self, ParseError> {
        let Wire::V1 { festival, peer } = postcard::from_bytes(bytes)?;
        Ok(Invite { festival: FestivalId(festival), peer })
    }
}

impl Invite {
    /// The ticket as text (`meadow...`).
    pub fn to_text(&self) -> String {
        self.encode_string()
    }

    /// The ticket as a link.
    pub fn to_link(&self) -> String {
        format!("{LINK_PREFIX}{}", self.encode_string())
    }

    /// Reads a ticket given as text or as a link.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        Invite::decode_string(s.strip_prefix(LINK_PREFIX).unwrap_or(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_text_and_link() {
        let key = iroh::SecretKey::from_bytes(&[3; 32]).public();
        let peer = EndpointAddr::new(key).with_ip_addr("127.0.0.1:4711".parse().expect("addr"));
        let invite = Invite { festival: FestivalId([9; 32]), peer };
        assert_eq!(Invite::parse(&invite.to_text()).expect("text"), invite);
        assert_eq!(Invite::parse(&invite.to_link()).expect("link"), invite);
        assert!(invite.to_link().starts_with("meadow://join/meadow"));
        assert!(Invite::parse("meadow://join/garbage").is_err());
        assert!(Invite::parse("endpointabc").is_err());
    }
}
