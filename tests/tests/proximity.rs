//! Proximity exchange: sync sessions over simulated Bluetooth links (MTU 23, 185 and 512; 10 to
//! 100 KB/s; latency; drops, on the virtual clock), advertisements between peers that agree, and
//! the test vectors of docs/ble.md.

use meadow_core::node::{Node, SessionEnd};
use meadow_core::op::FestivalId;
use meadow_core::proximity::advert::{Advert, Interest, LocalState, parse_advertising_data};
use meadow_core::proximity::gatt::FramedConfig;
use meadow_core::proximity::{Action, Encounters, Framed, Salts, ScheduleConfig, Sighting, Transport};
use meadow_tests::radio::{Radio, empty_node, programme_with_announcements, swap};

fn holding(seed: u64, ops: &[meadow_core::op::Op]) -> Node {
    let mut n = empty_node(seed);
    n.ingest(ops.to_vec()).expect("ingest");
    n
}

fn finished(e: &Option<SessionEnd>) -> bool {
    matches!(e, Some(SessionEnd::Finished(_)))
}

fn digest(n: &Node, f: &FestivalId) -> String {
    n.store().state_digest(f).expect("digest")
}

#[test]
fn a_swap_completes_at_phone_figures() {
    let s = programme_with_announcements(1, 150, 10);
    let info = holding(1, &s.ops);
    for mtu in [23usize, 185, 512] {
        for rate in [10_000u64, 100_000] {
            let mut phone = empty_node(2);
            let mut info = holding(1, &s.ops);
            let radio = Radio::gatt(mtu, rate);
            let out = swap(&mut phone, &mut info, &s.festival, &radio, 600_000, &mut |_, _| {});
            assert!(finished(&out.dialler) && finished(&out.answerer), "mtu {mtu}, {rate} B/s: {out:?}");
            assert_eq!(digest(&phone, &s.festival), digest(&info, &s.festival));
            assert!(phone.check().expect("check").is_clean());
            // From 185 bytes up, whole ops move at close to the link's rate; at 23 the window
            // (48 segments of 19 bytes) caps a link at about 15 KB/s (docs/ble.md).
            let ideal_ms = out.link_bytes * 1000 / rate;
            if mtu >= 185 {
                assert!(
                    out.elapsed_ms < ideal_ms + 2_000,
                    "mtu {mtu}, {rate} B/s: {} ms for {ideal_ms} ms",
                    out.elapsed_ms
                );
                let goodput = out.op_bytes as f64 / out.link_bytes as f64;
                assert!(goodput > 0.9, "goodput {goodput:.3} at mtu {mtu}");
            }
        }
    }
    let mut stream_phone = empty_node(3);
    let mut info = info;
    let radio = Radio { transport: Transport::Stream, bytes_per_s: 100_000, latency_ms: 20, drop_at_ms: None };
    let out = swap(&mut stream_phone, &mut info, &s.festival, &radio, 600_000, &mut |_, _| {});
    assert!(finished(&out.dialler) && finished(&out.answerer), "{out:?}");
    assert_eq!(digest(&stream_phone, &s.festival), digest(&info, &s.festival));
}

#[test]
fn a_dropped_swap_resumes_without_resending_what_arrived() {
    let s = programme_with_announcements(2, 300, 20);
    let mut info = holding(1, &s.ops);
    let mut phone = empty_node(2);
    let mut radio = Radio::gatt(185, 20_000);
    radio.drop_at_ms = Some(1_000);
    let first = swap(&mut phone, &mut info, &s.festival, &radio, 600_000, &mut |_, _| {});
    assert!(first.dropped);
    let kept = phone.op_count().expect("count");
    assert!(kept > 20 && kept < s.ops.len() as u64, "{kept} of {} kept", s.ops.len());
    assert!(phone.check().expect("check").is_clean(), "a drop corrupts nothing");
    // The announcements went first: all 20 are here already.
    assert_eq!(phone.announcements(&s.festival, 0).expect("announcements").len(), 20);
    radio.drop_at_ms = None;
    let second = swap(&mut phone, &mut info, &s.festival, &radio, 600_000, &mut |_, _| {});
    assert!(finished(&second.dialler), "{second:?}");
    assert_eq!(second.answerer_ops_sent, s.ops.len() as u64 - kept, "no op that arrived is sent again");
    assert_eq!(digest(&phone, &s.festival), digest(&info, &s.festival));
}

#[test]
fn random_drops_never_corrupt_and_the_swaps_converge() {
    let s = programme_with_announcements(3, 200, 10);
    let mut info = holding(1, &s.ops);
    let mut rng = meadow_core::demo::Rng::new(77);
    for (i, mtu) in [23usize, 185, 512].into_iter().enumerate() {
        let mut phone = empty_node(10 + i as u64);
        let mut swaps = 0;
        while digest(&phone, &s.festival) != digest(&info, &s.festival) {
            swaps += 1;
            assert!(swaps < 60, "no convergence at mtu {mtu}");
            let rate = 10_000 + rng.below(90_000);
            let radio = Radio {
                transport: Transport::Gatt { mtu },
                bytes_per_s: rate,
                latency_ms: 10 + rng.below(90),
                drop_at_ms: Some(200 + rng.below(3_000)),
            };
            let before = phone.op_count().expect("count");
            swap(&mut phone, &mut info, &s.festival, &radio, 600_000, &mut |_, _| {});
            assert!(phone.op_count().expect("count") >= before, "nothing stored is lost");
            assert!(phone.check().expect("check").is_clean(), "mtu {mtu}, swap {swaps}");
        }
    }
}

#[test]
fn peers_that_agree_exchange_nothing_after_reading_each_others_advertisement() {
    let s = programme_with_announcements(4, 100, 5);
    let (a, b) = (holding(1, &s.ops), holding(2, &s.ops));
    let (la, lb) = (a.local_state(&s.festival).expect("state"), b.local_state(&s.festival).expect("state"));
    assert_eq!(la, lb);
    let mut ea = Encounters::new(ScheduleConfig::default(), Some(la), 0, 0, Salts::system());
    let mut eb = Encounters::new(ScheduleConfig::default(), Some(lb), 0, 0, Salts::system());
    for t in (0..120_000u64).step_by(500) {
        let sight = |e: &Encounters| {
            let ad = e.advert().expect("advertising").advertising_data();
            parse_advertising_data(&ad).expect("parses").expect("a Meadow device")
        };
        let (of_a, of_b) = (sight(&ea), sight(&eb));
        ea.seen(2, of_b, t);
        eb.seen(1, of_a, t);
        for e in [&mut ea, &mut eb] {
            while let Some(a) = e.poll_action(t) {
                assert!(!matches!(a, Action::Connect(_) | Action::ReadState(_)), "{a:?} between peers that agree");
            }
        }
    }
    // One new op on one side, and they connect.
    let mut c = holding(3, &s.ops[..s.ops.len() - 1]);
    let lc = c.local_state(&s.festival).expect("state");
    let advert = Advert::new(&lc, [1, 2], 0);
    assert_eq!(advert.compare(&la), Interest::OfficialDiffers, "its last op is an announcement");
    let mut ec =
        Encounters::new(ScheduleConfig { yield_ms: 0, ..ScheduleConfig::default() }, Some(lc), 0, 0, Salts::system());
    ec.seen(1, Sighting::Advert(ea.advert().expect("advert")), 0);
    assert!(std::iter::from_fn(|| ec.poll_action(0)).any(|a| a == Action::Connect(1)));
    c.ingest(s.ops.clone()).expect("ingest");
    assert_eq!(c.local_state(&s.festival).expect("state"), la);
}

/// What an observer standing in the field sees of one phone's advertisements, rotation after
/// rotation: no byte that stays, no byte more alike than chance.
#[test]
fn advertisements_of_one_phone_cannot_be_linked_across_rotations() {
    let s = programme_with_announcements(5, 20, 2);
    let phone = holding(1, &s.ops);
    let local = phone.local_state(&s.festival).expect("state");
    let mut e = Encounters::new(ScheduleConfig::default(), Some(local), 0, 0, Salts::system());
    let rotate = ScheduleConfig::default().rotate_ms;
    let mut adverts = Vec::new();
    for r in 0..2_000u64 {
        while e.poll_action(r * rotate).is_some() {}
        adverts.push(e.advert().expect("advert").advertising_data());
    }
    let header = 3 + 2 + 16; // flags and the service UUID: the same for every Meadow device
    let mut equal = [0usize; 10];
    for pair in adverts.windows(2) {
        for (i, eq) in equal.iter_mut().enumerate() {
            *eq += usize::from(pair[0][header + i] == pair[1][header + i]);
        }
    }
    // Chance is 1 in 256 per byte (about 8 of 1,999 pairs); a byte that stayed would score 1,999.
    for (i, eq) in equal.iter().enumerate() {
        assert!(*eq < 30, "byte {i} of the payload matched in {eq} of 1,999 rotations");
    }
    // And the digest is no use to a device that does not hold the festival.
    let other = LocalState { festival: FestivalId([9; 32]), ..local };
    let a = Advert::decode(&adverts[0][header..]).expect("decodes");
    assert_eq!(a.compare(&other), Interest::OtherFestival);
}

/// docs/ble.md's test vectors.
#[test]
fn the_documented_vectors_hold() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/ble.md")).expect("docs/ble.md");
    let vector = |name: &str| -> String {
        let line = doc
            .lines()
            .find(|l| l.starts_with(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("{name} in docs/ble.md"));
        line[name.len() + 2..].trim().trim_matches('`').to_string()
    };
    let local = LocalState { festival: FestivalId([0x11; 32]), official: [0x22; 16], all: [0x33; 16] };
    let advert = Advert::new(&local, [0xa5, 0x5a], meadow_core::proximity::advert::FLAG_L2CAP);
    let hex = meadow_core::wire::to_hex;
    assert_eq!(vector("advert-payload"), hex(&advert.encode()));
    assert_eq!(vector("advertising-data"), hex(&advert.advertising_data()));
    assert_eq!(vector("state-value"), hex(&advert.state_value(0x0081)));
    let mut frame = Vec::new();
    meadow_core::proximity::frame::encode_frame(b"meadow", &mut frame);
    assert_eq!(vector("link-frame"), hex(&frame));
    let mut link = Framed::new(Transport::Gatt { mtu: 23 }, FramedConfig::default());
    link.send_frame(b"meadow");
    let packets: Vec<String> = std::iter::from_fn(|| link.poll_packet(0)).map(|p| hex(&p)).collect();
    assert_eq!(vector("gatt-segments"), packets.join(" "));
    let mut stream = Framed::new(Transport::Stream, FramedConfig::default());
    stream.send_frame(b"meadow");
    let bytes: Vec<u8> = std::iter::from_fn(|| stream.poll_packet(0)).flatten().collect();
    assert_eq!(vector("stream-bytes"), hex(&bytes));
    assert_eq!(vector("service-uuid"), meadow_core::proximity::uuid_string(&meadow_core::proximity::SERVICE_UUID));
}

/// 200 phones, a 5,000-op festival, short random contacts, organisers announcing, a spammer with
/// 10,000 community ops from fresh keys: every announcement reaches 90 % of the crowd within ten
/// minutes, spam or not, and no phone connects more than its budget allows.
#[test]
fn a_crowd_spreads_announcements_within_budget_whatever_the_spam() {
    use meadow_tests::crowd::{CrowdConfig, run};
    let with_spam = run(&CrowdConfig::default());
    let without = run(&CrowdConfig { spam_ops: 0, ..CrowdConfig::default() });
    eprintln!("with spam: {with_spam:?}\nwithout: {without:?}");
    assert!(with_spam.p90_announcement_s <= 600.0, "{with_spam:?}");
    assert!(with_spam.max_connections_per_phone_hour <= 30.0, "{with_spam:?}");
    assert!(with_spam.spam_held_mean > 0.0, "the spam did travel: {with_spam:?}");
    assert!(without.p90_announcement_s <= 60.0, "{without:?}");
    assert!(without.max_connections_per_phone_hour <= 30.0, "{without:?}");
    // The spam costs connections, so news travels slower through a spammed crowd (docs/ble.md
    // gives the figures), but every announcement still reaches 90 % in time.
    assert!(with_spam.announcement_p90_s.iter().all(|t| t.is_some_and(|t| t <= 600.0)), "{with_spam:?}");
}

/// A crowd of real nodes (stores and sync sessions over the simulated radio): announcements
/// reach 90 % of the phones within ten minutes and the spam travels too.
#[test]
fn a_crowd_of_real_nodes_spreads_the_news_through_a_flood() {
    use meadow_tests::crowd_nodes::{NodeCrowdConfig, run};
    let cfg = NodeCrowdConfig {
        phones: 12,
        events: 60,
        spam_ops: 300,
        announcements: 2,
        duration_ms: 900_000,
        ..Default::default()
    };
    let out = run(&cfg);
    eprintln!("{out:?}");
    let r = &out.report;
    assert!(r.announcement_p90_s.iter().all(|t| t.is_some_and(|t| t <= 600.0)), "{r:?}");
    assert!(r.spam_held_mean > 0.0, "{r:?}");
    assert!(r.swaps > 0 && out.link_bytes > 0, "{r:?}");
}
