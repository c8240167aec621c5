//! Fuzzes every decoder of crew bytes a peer or a photographed code can hand a device: crew op
//! bodies of each kind, the plaintexts inside them (after a key opened them), invite links, and
//! a member's attempt to open garbage as a sealed box or an item. None may panic, and a body that
//! decodes re-encodes to the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meadow_core::crew::crypto::{CrewKeys, EpochKey, unpad};
use meadow_core::crew::invite::CrewInvite;
use meadow_core::crew::ops::{CrewBody, Grant, JoinRequest, Roster, Snapshot};
use meadow_core::wire::Writer;

fuzz_target!(|data: &[u8]| {
    if let Some((&kind, rest)) = data.split_first() {
        if let Some(body) = CrewBody::decode(12 + kind % 4, rest) {
            let mut w = Writer::new();
            body.encode_fields(&mut w);
            assert_eq!(CrewBody::decode(body.kind(), &w.into_vec()), Some(body));
        }
    }
    let _ = Snapshot::decode(data);
    let _ = Roster::decode(data);
    let _ = Grant::decode(data);
    let _ = JoinRequest::decode(data);
    let _ = unpad(data);
    let _ = CrewKeys::derive(b"fuzz").open(b"info", data, b"");
    let _ = EpochKey([1; 32]).decrypt(data, b"");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = CrewInvite::parse(text);
    }
});
