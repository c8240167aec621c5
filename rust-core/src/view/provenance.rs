//! Where an item came from: who signed it, when its author's clock says it was written, and how
//! and when it reached this device. How an op arrived is recorded here as it is stored and never
//! sent to peers (as Scuttlebutt keeps a received time beside the author's claimed one).

use crate::identity::PublicKey;
use crate::op::OpId;

/// How an op reached this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Via {
    /// Written here, by this device's identity.
    Here,
    /// From a schedule file imported here.
    Import,
    /// From a festival archive opened here.
    Archive,
    /// From a peer over iroh: the internet, a relay, or a peer dialled by invite.
    Iroh,
    /// From a peer this device found on its local network.
    Lan,
    /// Over Bluetooth.
    Bluetooth,
    /// Over Wi-Fi Direct.
    WifiDirect,
    /// Over Apple's Multipeer Connectivity.
    Multipeer,
}

impl Via {
    /// Every way, in code order.
    pub const ALL: [Via; 8] =
        [Via::Here, Via::Import, Via::Archive, Via::Iroh, Via::Lan, Via::Bluetooth, Via::WifiDirect, Via::Multipeer];

    /// The number the store keeps (stable: appended to, never renumbered).
    pub fn code(self) -> i64 {
        match self {
            Via::Here => 0,
            Via::Import => 1,
            Via::Archive => 2,
            Via::Iroh => 3,
            Via::Lan => 4,
            Via::Bluetooth => 5,
            Via::WifiDirect => 6,
            Via::Multipeer => 7,
        }
    }

    /// The way a stored number names; `None` for one a newer version wrote.
    pub fn from_code(code: i64) -> Option<Via> {
        Via::ALL.into_iter().find(|v| v.code() == code)
    }

    /// A lowercase name, as the CLI prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Here => "written here",
            Via::Import => "import",
            Via::Archive => "archive",
            Via::Iroh => "iroh",
            Via::Lan => "local network",
            Via::Bluetooth => "Bluetooth",
            Via::WifiDirect => "Wi-Fi Direct",
            Via::Multipeer => "Multipeer",
        }
    }
}

/// How a batch of ops reached this device: the way, and the peer it came from when there was one
/// (its iroh endpoint id, or what a native link names it by).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// The way.
    pub via: Via,
    /// The peer, if a peer sent it.
    pub peer: Option<String>,
}

impl Arrival {
    /// Written by this device.
    pub fn here() -> Self {
        Arrival { via: Via::Here, peer: None }
    }

    /// Arrived a way that names no peer (a file).
    pub fn by(via: Via) -> Self {
        Arrival { via, peer: None }
    }

    /// Arrived from a peer.
    pub fn from_peer(via: Via, peer: impl Into<String>) -> Self {
        Arrival { via, peer: Some(peer.into()) }
    }
}

/// Where one op came from, as an item's screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OpOrigin {
    /// The op.
    pub op: OpId,
    /// Who signed it.
    pub author: PublicKey,
    /// Their display name in the festival, empty if they set none.
    pub author_name: String,
    /// Their key's fingerprint, to compare aloud.
    pub fingerprint: String,
    /// Signed by the owner or an organiser (else a community item).
    pub official: bool,
    /// When its author's clock says it was written (Unix seconds).
    pub written_at: i64,
    /// That clock claims a time more than [`super::CLOCK_AHEAD_TOLERANCE_S`] after this
    /// device's: the claim is not to be trusted.
    pub clock_ahead: bool,
    /// When it was stored here (Unix seconds); `None` for ops stored before this device kept
    /// arrivals.
    pub received_at: Option<i64>,
    /// How it reached this device, if recorded.
    pub via: Option<Via>,
    /// The peer it came from, if one sent it.
    pub peer: Option<String>,
    /// Its signature was checked on this device, offline, before it was stored (every stored op's
    /// was: an op that fails the check is never stored).
    pub verified_here: bool,
    /// The name of the viewer's crew its author is in (empty for none); the node fills it in.
    pub crew: String,
    /// Its author is another of the viewer's own devices (or the viewer itself).
    pub own_device: bool,
}

/// Where an item came from: the op that made it and the latest that changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Provenance {
    /// The op that created it.
    pub created: OpOrigin,
    /// The latest op that changed it, if another did.
    pub last_change: Option<OpOrigin>,
}
