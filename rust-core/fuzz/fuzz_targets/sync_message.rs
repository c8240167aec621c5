//! Fuzzes the sync message decoder and a session fed arbitrary peer bytes: neither may panic, and
//! whatever the peer sends, no frame the session sends exceeds the frame limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meadow_core::op::OpId;
use meadow_core::sync::{Class, Config, Items, Message, Output, Planned, Session, items_of};

fuzz_target!(|data: &[u8]| {
    let _ = Message::decode(data);
    // Some items of our own, so that the peer's ranges meet something to compare.
    let n = data.first().copied().unwrap_or(0) as u64 * 8;
    let items: Items = items_of((0..n).map(|i| (i / 2, OpId(*blake3::hash(&i.to_le_bytes()).as_bytes()))));
    let cfg = Config { max_frame: 4096, ..Config::default() };
    let mut s = Session::respond(cfg.clone(), 0);
    s.handle_input(data, 1);
    loop {
        while let Some(out) = s.poll_output() {
            match out {
                Output::Festival(_) => s.provide_items(Some(items.clone())),
                Output::Plan(ids) => {
                    s.plan(ids.into_iter().map(|id| Planned { class: Class::Community, lamport: 0, id, size: 300 }).collect())
                }
                Output::Load(_) => s.queue_ops(Vec::new()),
                Output::Received(_) => s.ops_stored(1),
                Output::Finished(_) | Output::Failed(_) => {}
            }
        }
        match s.poll_transmit(2) {
            Some(f) => assert!(f.len() <= cfg.max_frame + 4, "frame of {} bytes", f.len()),
            None => break,
        }
    }
});
