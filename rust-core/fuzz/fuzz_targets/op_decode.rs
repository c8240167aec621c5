//! Fuzzes the op decoder: bytes from a peer must never panic it, and whatever it accepts must
//! decode the same way again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meadow_core::op::{Body, Op};

fuzz_target!(|data: &[u8]| {
    if let Ok((op, used)) = Op::decode_prefix(data) {
        assert!(used <= data.len());
        let again = Op::decode(op.bytes()).expect("an accepted op decodes again");
        assert_eq!(again.id(), op.id());
        assert_eq!(Body::decode(op.body_bytes()).as_ref(), Ok(op.body()));
        // Signature checks must not panic either, whatever the key bytes are.
        let _ = op.verify_signature();
    }
    let _ = Body::decode(data);
});
