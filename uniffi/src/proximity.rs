//! Proximity exchange for the apps' radio code: the encounter scheduler and the advertisement,
//! as the core computes them. The Android and iOS glue scans, advertises and connects as the
//! scheduler says, and reports what the radio did; it decides nothing itself.

use std::sync::Mutex;

use meadow_core::proximity::advert::{self, Advert, FLAG_L2CAP, LocalState, Sighting};
use meadow_core::proximity::{self as core, Action};

use crate::error::{MeadowError, festival_id};

/// What a device holds of a festival, as its advertisement tells it (from
/// `MeadowNode.proximityState`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProximityState {
    /// The festival, in hex.
    pub festival: String,
    /// Fingerprint of the official ops held (16 bytes).
    pub official: Vec<u8>,
    /// Fingerprint of every op held (16 bytes).
    pub all: Vec<u8>,
}

impl ProximityState {
    pub(crate) fn from_core(s: &LocalState) -> Self {
        ProximityState { festival: s.festival.to_hex(), official: s.official.to_vec(), all: s.all.to_vec() }
    }

    fn to_core(&self) -> Result<LocalState, MeadowError> {
        let fp = |v: &[u8], what: &str| -> Result<[u8; 16], MeadowError> {
            v.try_into().map_err(|_| MeadowError::Invalid { reason: format!("{what} fingerprint is not 16 bytes") })
        };
        Ok(LocalState {
            festival: festival_id(&self.festival)?,
            official: fp(&self.official, "official")?,
            all: fp(&self.all, "all")?,
        })
    }
}

/// The UUIDs of the Meadow GATT service (docs/ble.md).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProximityUuids {
    /// The service.
    pub service: String,
    /// State (read).
    pub state: String,
    /// TX: central to peripheral (write without response).
    pub tx: String,
    /// RX: peripheral to central (notify).
    pub rx: String,
}

/// The Meadow service's UUIDs.
#[uniffi::export]
pub fn proximity_uuids() -> ProximityUuids {
    let s = core::uuid_string;
    ProximityUuids {
        service: s(&core::SERVICE_UUID),
        state: s(&core::STATE_UUID),
        tx: s(&core::TX_UUID),
        rx: s(&core::RX_UUID),
    }
}

/// What the radio code should do now.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum RadioAction {
    /// Connect to the peer and run a swap (`initiateLink`).
    Connect {
        /// The peer, as the radio code named it.
        peer: u64,
    },
    /// Connect and read the peer's State characteristic, then report with `stateRead`.
    ReadState {
        /// The peer.
        peer: u64,
    },
    /// Start scanning for the Meadow service.
    StartScan,
    /// Stop scanning.
    StopScan,
    /// (Re)start advertising this service data (Android `addServiceData`) or these 31 bytes of
    /// legacy advertising data (BlueZ).
    Advertise {
        /// The 10-byte payload for the Meadow service's service data.
        service_data: Vec<u8>,
        /// The whole legacy advertising data.
        advertising_data: Vec<u8>,
    },
    /// Stop advertising.
    StopAdvertising,
    /// End the link to the peer; then report `linkEnded` with `Finished`.
    Disconnect {
        /// The peer.
        peer: u64,
    },
}

/// How a link ended, as the radio code saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LinkOutcome {
    /// The swap finished (or the scheduler ended it).
    Finished,
    /// The link came up and then failed or dropped.
    Failed,
    /// The connection never came up.
    Unreachable,
}

/// The encounter scheduler of one device: feed it what the radio saw, poll what to do.
#[derive(uniffi::Object)]
pub struct Encounters {
    inner: Mutex<core::Encounters>,
}

impl Encounters {
    fn with<T>(&self, f: impl FnOnce(&mut core::Encounters) -> T) -> Result<T, MeadowError> {
        let mut e = self.inner.lock().map_err(|_| MeadowError::Invalid { reason: "scheduler poisoned".into() })?;
        Ok(f(&mut e))
    }
}

fn malformed(e: advert::AdvertError) -> MeadowError {
    MeadowError::Invalid { reason: e.to_string() }
}

#[uniffi::export]
impl Encounters {
    /// A scheduler advertising `state` (none: scan only); `l2cap` if this device offers an
    /// L2CAP channel.
    #[uniffi::constructor]
    pub fn new(state: Option<ProximityState>, l2cap: bool, now_ms: u64) -> Result<Self, MeadowError> {
        let local = state.map(|s| s.to_core()).transpose()?;
        let flags = if l2cap { FLAG_L2CAP } else { 0 };
        Ok(Encounters {
            inner: Mutex::new(core::Encounters::new(
                core::ScheduleConfig::default(),
                local,
                flags,
                now_ms,
                core::Salts::system(),
            )),
        })
    }

    /// What this device holds changed.
    pub fn set_state(&self, state: Option<ProximityState>, now_ms: u64) -> Result<(), MeadowError> {
        let local = state.map(|s| s.to_core()).transpose()?;
        self.with(|e| e.set_local(local, now_ms))
    }

    /// A scan result's advertising data (Android `ScanRecord.getBytes()`): false if it is not a
    /// Meadow device's; an error if it is one whose payload does not decode.
    pub fn seen_advertising_data(&self, peer: u64, data: Vec<u8>, now_ms: u64) -> Result<bool, MeadowError> {
        match advert::parse_advertising_data(&data).map_err(malformed)? {
            Some(s) => self.with(|e| e.seen(peer, s, now_ms)).map(|_| true),
            None => Ok(false),
        }
    }

    /// The Meadow service's service data from a scan result.
    pub fn seen_service_data(&self, peer: u64, payload: Vec<u8>, now_ms: u64) -> Result<(), MeadowError> {
        let a = Advert::decode(&payload).map_err(malformed)?;
        self.with(|e| e.seen(peer, Sighting::Advert(a), now_ms))
    }

    /// A device advertising the Meadow service without service data (iOS).
    pub fn seen_service_only(&self, peer: u64, now_ms: u64) -> Result<(), MeadowError> {
        self.with(|e| e.seen(peer, Sighting::ServiceOnly, now_ms))
    }

    /// The State value read after a `ReadState` (`None`: the read failed).
    pub fn state_read(&self, peer: u64, value: Option<Vec<u8>>, now_ms: u64) -> Result<(), MeadowError> {
        let advert = match value {
            Some(v) => Some(Advert::read_state(&v).map_err(malformed)?.0),
            None => None,
        };
        self.with(|e| e.state_read(peer, advert, now_ms))
    }

    /// A peer connected to this device: whether to accept it (otherwise disconnect it).
    pub fn incoming(&self, peer: u64, now_ms: u64) -> Result<bool, MeadowError> {
        self.with(|e| e.incoming(peer, now_ms))
    }

    /// A link ended.
    pub fn link_ended(&self, peer: u64, outcome: LinkOutcome, now_ms: u64) -> Result<(), MeadowError> {
        let o = match outcome {
            LinkOutcome::Finished => core::LinkOutcome::Finished,
            LinkOutcome::Failed => core::LinkOutcome::Failed,
            LinkOutcome::Unreachable => core::LinkOutcome::Unreachable,
        };
        self.with(|e| e.link_ended(peer, o, now_ms))
    }

    /// The next thing to do now, if any: call until it returns null.
    pub fn poll_action(&self, now_ms: u64) -> Result<Option<RadioAction>, MeadowError> {
        self.with(|e| {
            e.poll_action(now_ms).map(|a| match a {
                Action::Connect(peer) => RadioAction::Connect { peer },
                Action::ReadState(peer) => RadioAction::ReadState { peer },
                Action::StartScan => RadioAction::StartScan,
                Action::StopScan => RadioAction::StopScan,
                Action::Disconnect(peer) => RadioAction::Disconnect { peer },
                Action::StopAdvertising => RadioAction::StopAdvertising,
                Action::Advertise => match e.advert() {
                    Some(ad) => RadioAction::Advertise {
                        service_data: ad.encode().to_vec(),
                        advertising_data: ad.advertising_data(),
                    },
                    None => RadioAction::StopAdvertising,
                },
            })
        })
    }

    /// When to poll again at the latest, in ms.
    pub fn poll_timeout(&self, now_ms: u64) -> Result<u64, MeadowError> {
        self.with(|e| e.poll_timeout(now_ms))
    }

    /// The State characteristic's value for a read now (a fresh salt each time), with this
    /// device's L2CAP PSM (0: none); `None` while no festival is advertised.
    pub fn state_value(&self, psm: u16) -> Result<Option<Vec<u8>>, MeadowError> {
        self.with(|e| e.fresh_advert().map(|a| a.state_value(psm).to_vec()))
    }

    /// Connections made in the last hour.
    pub fn connections_last_hour(&self, now_ms: u64) -> Result<u32, MeadowError> {
        self.with(|e| e.connections_last_hour(now_ms) as u32)
    }
}
