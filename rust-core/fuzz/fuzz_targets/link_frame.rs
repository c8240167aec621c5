//! Fuzzes the radio link decoders with arbitrary peer bytes: the frame decoder, and a framed link
//! over GATT (the bytes cut into segments at lengths the input picks) and over a stream. None may
//! panic; a link that failed delivers nothing more, and no frame delivered is over the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meadow_core::proximity::frame::{FrameDecoder, MAX_PAYLOAD};
use meadow_core::proximity::gatt::FramedConfig;
use meadow_core::proximity::{Framed, Transport};

fuzz_target!(|data: &[u8]| {
    let mut d = FrameDecoder::new(4096);
    if let Ok(frames) = d.push(data) {
        assert!(frames.iter().all(|f| f.len() <= 4096));
        assert!(d.buffered() <= data.len());
    }
    let Some((&mtu, rest)) = data.split_first() else { return };
    let cfg = FramedConfig { max_payload: MAX_PAYLOAD, ..FramedConfig::default() };
    for transport in [Transport::Gatt { mtu: 23 + usize::from(mtu) }, Transport::Stream] {
        let mut link = Framed::new(transport, cfg.clone());
        link.send_frame(b"ours");
        let mut at = 0usize;
        let mut failed = false;
        while at < rest.len() {
            let len = 1 + usize::from(rest[at] % 64);
            let end = (at + len).min(rest.len());
            let r = link.handle_packet(&rest[at..end]);
            at = end;
            if r.is_err() {
                failed = true;
                assert!(link.poll_frame().is_none(), "a failed link delivers nothing");
                assert!(link.poll_packet(0).is_none(), "a failed link sends nothing");
            }
            while let Some(f) = link.poll_frame() {
                assert!(!failed && f.len() <= MAX_PAYLOAD);
            }
            while link.poll_packet(at as u64).is_some() {}
        }
        let _ = link.handle_close();
    }
});
