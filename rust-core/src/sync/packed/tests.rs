//! Packed ops: every op comes back byte for byte, hostile values included; garbage is refused.

use proptest::prelude::*;

use super::*;
use crate::identity::Identity;
use crate::op::{Body, EventPatch, LogPosition, LogWriter};

fn festival() -> FestivalId {
    FestivalId([0x42; 32])
}

fn event(i: u64) -> Body {
    Body::Event {
        target: None,
        patch: EventPatch {
            title: Some(format!("Workshop {i}: bees, kites and radio")),
            description: Some(format!("A session on soil and solar owls, number {i}, for everyone.")),
            start: Some(1_783_684_800 + i as i64 * 1800),
            end: Some(1_783_688_400 + i as i64 * 1800),
            track: Some("Science".into()),
            tags: Some(vec!["family".into(), "outdoor".into()]),
            people: Some(vec![format!("Person {}", i % 17)]),
            ..Default::default()
        },
    }
}

/// `n` ops of each of `authors` logs, interleaved by Lamport clock as a sync sends them.
fn logs(authors: u8, n: u64) -> Vec<Op> {
    let mut all = Vec::new();
    for a in 0..authors {
        let id = Identity::from_secret([a + 1; 32]);
        let mut w = LogWriter::new(festival(), LogPosition { seq: 0, backlink: None, lamport: 0 });
        for i in 0..n {
            let op = w.sign(&id, i * u64::from(authors) + u64::from(a), 1_783_000_000_000 + i * 1000, event(i));
            all.push(op.expect("op"));
        }
    }
    all.sort_by_key(|o| o.order_key());
    all
}

#[test]
fn ops_come_back_byte_for_byte_whatever_their_order() {
    for ops in [logs(1, 30), logs(3, 10), logs(5, 1)] {
        let packed = pack(&ops);
        let back = unpack(&festival(), &packed).expect("unpacks");
        assert_eq!(back, ops);
        assert!(back.iter().zip(&ops).all(|(a, b)| a.bytes() == b.bytes() && a.id() == b.id()));
        assert!(back.iter().all(|o| o.verify_signature().is_ok()));
    }
    // A log's ops out of order, and a run that skips a position: backlinks go whole.
    let mut ops = logs(1, 6);
    ops.swap(2, 4);
    ops.remove(1);
    assert_eq!(unpack(&festival(), &pack(&ops)).expect("unpacks"), ops);
}

#[test]
fn a_programme_run_packs_to_under_half_its_bytes() {
    let ops = logs(1, 25);
    let plain: usize = ops.iter().map(|o| o.bytes().len()).sum();
    let packed = pack(&ops).len();
    assert!(packed * 2 < plain, "{packed} packed of {plain}");
}

#[test]
fn hostile_clocks_pack_exactly() {
    let id = Identity::from_secret([9; 32]);
    let mut w = LogWriter::new(festival(), LogPosition { seq: 0, backlink: None, lamport: 0 });
    let mut ops = Vec::new();
    // The wall clock jumps from 0 to 2^64 - 1 and back; the Lamport clock to its maximum.
    for (i, wall) in [0, u64::MAX, 1, u64::MAX - 1].into_iter().enumerate() {
        let lamport = if i == 0 { 0 } else { crate::op::rules::MAX_CLOCK_STEP * i as u64 };
        ops.push(w.sign(&id, lamport, wall, event(i as u64)).expect("op"));
    }
    assert_eq!(unpack(&festival(), &pack(&ops)).expect("unpacks"), ops);
}

#[test]
fn another_festival_makes_other_ops_whose_signatures_fail() {
    let ops = logs(1, 3);
    let back = unpack(&FestivalId([0x43; 32]), &pack(&ops)).expect("structurally fine");
    assert!(back.iter().all(|o| o.festival() == FestivalId([0x43; 32])));
    assert!(back.iter().all(|o| o.verify_signature().is_err()));
}

/// A packed message of hand-made records.
fn message(n: u64, raw: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.varint(n);
    w.varint(raw.len() as u64);
    w.raw(&miniz_oxide::deflate::compress_to_vec(raw, 6));
    w.into_vec()
}

/// The inflated records of a packed message.
fn records(payload: &[u8]) -> Vec<u8> {
    let (_, raw_len, start) = header(payload).expect("header");
    miniz_oxide::inflate::decompress_to_vec_with_limit(&payload[start..], raw_len).expect("inflates")
}

#[test]
fn garbage_is_refused() {
    let ops = logs(2, 4);
    let good = pack(&ops);
    let raw = records(&good);
    let f = festival();
    // Counts out of bounds, before anything is inflated.
    assert!(matches!(unpack(&f, &message(0, &raw)), Err(PackError::Bounds(_))));
    assert!(matches!(unpack(&f, &message(raw.len() as u64, &raw)), Err(PackError::Bounds(_))));
    let mut huge = Writer::new();
    huge.varint(1);
    huge.varint(MAX_PACKED_RAW as u64 + 1);
    assert!(matches!(unpack(&f, &huge.into_vec()), Err(PackError::Bounds(_))));
    // A stream that inflates past what it declared (a bomb), or short of it, or is no stream.
    let bomb = miniz_oxide::deflate::compress_to_vec(&vec![0u8; 1 << 20], 6);
    let mut w = Writer::new();
    w.varint(1);
    w.varint(100);
    w.raw(&bomb);
    assert_eq!(unpack(&f, &w.into_vec()), Err(PackError::Inflate));
    let mut short = message(8, &raw);
    short.truncate(short.len() - 3);
    assert!(unpack(&f, &short).is_err());
    let mut w = Writer::new();
    w.varint(1);
    w.varint(100);
    w.raw(&[0xff; 40]);
    assert_eq!(unpack(&f, &w.into_vec()), Err(PackError::Inflate));
    // Records: unknown flag bits, no author to repeat, a backlink to an op that is not before.
    let mut bad = raw.clone();
    bad[0] |= 0x80;
    assert_eq!(unpack(&f, &message(8, &bad)), Err(PackError::Flags(bad[0])));
    let mut bad = raw.clone();
    bad[0] &= !AUTHOR;
    assert!(matches!(unpack(&f, &message(8, &bad)), Err(PackError::Flags(_))));
    let first = logs(1, 2);
    let mut lone = records(&pack(&first[1..]));
    lone[0] = AUTHOR | BACKLINK_PREVIOUS;
    assert!(matches!(unpack(&f, &message(1, &lone)), Err(PackError::Flags(_))));
    // More records declared than there are, or bytes after the last.
    assert!(unpack(&f, &message(9, &raw)).is_err());
    let mut extra = raw.clone();
    extra.push(0);
    assert!(unpack(&f, &message(8, &extra)).is_err());
    // A body changed: the rebuilt op is another op, whose signature fails.
    let mut changed = raw.clone();
    let last = changed.len() - 5;
    changed[last] ^= 0x20;
    if let Ok(ops) = unpack(&f, &message(8, &changed)) {
        assert!(ops.iter().any(|o| o.verify_signature().is_err()));
    }
}

#[test]
fn records_match_protocol_doc() {
    let ops: Vec<Op> = crate::op::tests::vector_ops().into_iter().take(3).map(|(_, o)| o).collect();
    let hex = crate::wire::to_hex(&records(&pack(&ops)));
    if std::env::var_os("MEADOW_PRINT_VECTORS").is_some() {
        println!("records {hex}");
    }
    let doc = include_str!("../../../../docs/protocol.md");
    let at = doc.find("sync packed-ops").expect("docs/protocol.md lacks sync packed-ops");
    let line = doc[at..].lines().nth(2).unwrap_or_default().trim();
    assert_eq!(line, format!("records {hex}"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = unpack(&festival(), &bytes);
    }

    #[test]
    fn any_subset_in_any_order_round_trips(picks in proptest::collection::vec(0usize..24, 1..24)) {
        let all = logs(3, 8);
        let ops: Vec<Op> = picks.iter().map(|&i| all[i].clone()).collect();
        prop_assert_eq!(unpack(&festival(), &pack(&ops)).expect("unpacks"), ops);
    }

    #[test]
    fn mangled_records_never_panic(flip in 0usize..2000, bit in 0u8..8) {
        let raw = records(&pack(&logs(2, 3)));
        let mut bad = raw.clone();
        let i = flip % bad.len();
        bad[i] ^= 1 << bit;
        let _ = unpack(&festival(), &message(6, &bad));
    }
}
