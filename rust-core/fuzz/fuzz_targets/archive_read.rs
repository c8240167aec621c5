//! Fuzzes the festival archive reader: a file from a USB stick or a mail must never panic it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meadow_core::exchange::archive;

fuzz_target!(|data: &[u8]| {
    let _ = archive::read(data);
    // Past the checksum, too: fix it up so the fuzzer explores the op decoding behind it.
    if data.len() > 40 {
        let mut fixed = data[..data.len() - 32].to_vec();
        let sum = blake3_sum(&fixed);
        fixed.extend_from_slice(&sum);
        let _ = archive::read(&fixed);
    }
});

fn blake3_sum(bytes: &[u8]) -> [u8; 32] {
    *meadow_core::exchange::archive::checksum(bytes).as_bytes()
}
