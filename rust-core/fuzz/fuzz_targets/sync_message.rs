//! Fuzzes the sync message decoder and a session fed arbitrary peer bytes: neither may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meadow_core::sync::{Config, Items, Message, Session};

fuzz_target!(|data: &[u8]| {
    let _ = Message::decode(data);
    let mut s = Session::respond(Config::default(), 0);
    s.handle_input(data, 1);
    while let Some(out) = s.poll_output() {
        if let meadow_core::sync::Output::Festival(_) = out {
            s.provide_items(Some(Items::new(Vec::new())));
        }
    }
    while s.poll_transmit().is_some() {}
});
