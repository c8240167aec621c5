//! Proximity exchange over Bluetooth LE, Wi-Fi Direct and Multipeer, sans-IO: what a phone
//! advertises ([`advert`]), how a sync session is framed over a radio link ([`frame`], [`gatt`]),
//! and which peer to connect to when ([`encounters`]). The radios belong to native code (and to
//! BlueZ on Linux); they feed this module bytes, radio events and the time, and do what it polls.
//!
//! docs/ble.md is the specification, with test vectors that `tests/tests/proximity.rs` checks.

pub mod advert;
pub mod encounters;
pub mod frame;
pub mod gatt;
pub mod state;

pub use advert::{Advert, Interest, LocalState, Salts, Sighting};
pub use encounters::{Action, Encounters, LinkOutcome, PeerId, ScheduleConfig};
pub use frame::{FrameDecoder, LinkError};
pub use gatt::{Framed, Transport};
pub use state::{AdvertStore, StateCache, local_state};

/// A 128-bit Bluetooth UUID, most significant byte first (as written).
pub type Uuid = [u8; 16];

const fn uuid(last: u8) -> Uuid {
    [0x6d, 0x65, 0x61, 0x64, 0x6f, 0x77, 0x4e, 0x01, 0x8d, 0x2a, 0x5c, 0x3b, 0x7e, 0x91, 0x00, last]
}

/// The Meadow GATT service, advertised by every Meadow device.
pub const SERVICE_UUID: Uuid = uuid(0x01);
/// Readable: the advertisement payload with a fresh salt, then the L2CAP PSM (u16 LE, 0 for
/// none): for centrals that saw the service but no service data (iOS advertises none).
pub const STATE_UUID: Uuid = uuid(0x02);
/// Written without response by the central: link segments from central to peripheral.
pub const TX_UUID: Uuid = uuid(0x03);
/// Notified by the peripheral: link segments from peripheral to central.
pub const RX_UUID: Uuid = uuid(0x04);

/// Formats a UUID in the usual 8-4-4-4-12 form.
pub fn uuid_string(u: &Uuid) -> String {
    let h = crate::wire::to_hex(u);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_print_in_the_usual_form() {
        assert_eq!(uuid_string(&SERVICE_UUID), "6d656164-6f77-4e01-8d2a-5c3b7e910001");
        assert_ne!(TX_UUID, RX_UUID);
    }
}
