//! Fuzzes the packed-ops decoder (sync version 2): it may not panic or inflate past its bound,
//! and whatever unpacks packs back to the same ops.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meadow_core::op::FestivalId;
use meadow_core::sync::packed::{pack, unpack};

fuzz_target!(|data: &[u8]| {
    let festival = FestivalId([0x42; 32]);
    if let Ok(ops) = unpack(&festival, data) {
        let again = unpack(&festival, &pack(&ops)).expect("packed ops unpack");
        assert_eq!(again, ops);
    }
});
