//! Fuzzes the advertisement decoders with arbitrary scan results: advertising data, a payload and
//! a State value. None may panic, and whatever decodes re-encodes to the same payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meadow_core::proximity::advert::{Advert, Sighting, parse_advertising_data};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(Sighting::Advert(a))) = parse_advertising_data(data) {
        assert_eq!(Advert::decode(&a.encode()), Ok(a));
    }
    if let Ok(a) = Advert::decode(data) {
        assert_eq!(&a.encode()[..], data);
    }
    if let Ok((a, psm)) = Advert::read_state(data) {
        assert_eq!(&a.state_value(psm)[..], data);
    }
});
