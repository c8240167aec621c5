//! The encounter scheduler on a virtual clock: budgets, slices, yielding, replay.

use super::*;

/// Salts from a seed, so that runs replay.
fn seeded(seed: u64) -> Salts {
    let mut n = seed;
    Salts::from_fn(move || {
        n += 1;
        let h = blake3::hash(&n.to_le_bytes());
        [h.as_bytes()[0], h.as_bytes()[1]]
    })
}
use crate::op::FestivalId;

fn local(all: u8, official: u8) -> LocalState {
    LocalState { festival: FestivalId([1; 32]), official: [official; 16], all: [all; 16] }
}

fn drain(e: &mut Encounters, now: u64) -> Vec<Action> {
    std::iter::from_fn(|| e.poll_action(now)).collect()
}

fn advert_of(l: &LocalState, salt: u8) -> Sighting {
    Sighting::Advert(Advert::new(l, [salt, salt], 0))
}

#[test]
fn starts_advertising_and_scanning_and_never_dials_a_peer_that_agrees() {
    let me = local(1, 1);
    let mut e = Encounters::new(ScheduleConfig::default(), Some(me), 0, 0, seeded(1));
    assert_eq!(drain(&mut e, 0), vec![Action::Advertise, Action::StartScan]);
    e.seen(7, advert_of(&me, 0), 10);
    assert_eq!(drain(&mut e, 10_000), vec![Action::StopScan]);
    assert_eq!(e.stats().dialled, 0);
}

#[test]
fn official_news_goes_first_and_peers_wait_their_turn() {
    let me = local(1, 1);
    let mut e =
        Encounters::new(ScheduleConfig { max_links: 1, ..ScheduleConfig::default() }, Some(me), 0, 0, seeded(1));
    drain(&mut e, 0);
    // Salt ff ff is above any salt of ours but itself: this side yields to both peers at first.
    e.seen(1, advert_of(&local(2, 1), 0xff), 100);
    e.seen(2, advert_of(&local(3, 9), 0xff), 200);
    assert_eq!(drain(&mut e, 1_000), vec![]);
    assert_eq!(drain(&mut e, 3_200), vec![Action::Connect(2), Action::StopScan], "official news first");
    assert_eq!(drain(&mut e, 3_300), vec![], "one link at a time");
    e.link_ended(2, LinkOutcome::Finished, 4_000);
    assert_eq!(drain(&mut e, 4_000), vec![Action::Connect(1)]);
    e.link_ended(1, LinkOutcome::Failed, 5_000);
    assert_eq!(drain(&mut e, 9_999).iter().filter(|a| matches!(a, Action::Connect(_))).count(), 0);
    e.seen(1, advert_of(&local(2, 1), 0xff), 9_000);
    assert_eq!(drain(&mut e, 10_000), vec![Action::Connect(1), Action::StopScan], "after a 5 s backoff");
}

#[test]
fn the_hourly_budget_holds_and_community_news_gets_only_its_share() {
    let me = local(1, 1);
    let cfg = ScheduleConfig {
        max_links: 100,
        cooldown_ms: 0,
        yield_ms: 0,
        burst: 30,
        official_reserve: 0,
        ..ScheduleConfig::default()
    };
    let mut e = Encounters::new(cfg, Some(me), 0, 0, seeded(1));
    let mut connects = 0;
    for i in 0..200u64 {
        let now = i * 1_000;
        e.seen(i, advert_of(&local(i as u8 + 2, 1), 0), now);
        for a in drain(&mut e, now) {
            if let Action::Connect(p) = a {
                connects += 1;
                e.link_ended(p, LinkOutcome::Finished, now);
            }
        }
    }
    assert_eq!(connects, 9, "30 % of 30 for community-only differences");
    for i in 200..300u64 {
        e.seen(i, advert_of(&local(i as u8, 9), 0), 200_000);
    }
    let official = drain(&mut e, 200_000).iter().filter(|a| matches!(a, Action::Connect(_))).count();
    assert_eq!(official, 21, "official news can still use the rest");
    assert!(!e.incoming(999, 200_000), "the budget also bounds what others dial");
    assert_eq!(e.connections_last_hour(200_000), 30);
    assert_eq!(e.connections_last_hour(3_617_000), 21, "an hour on, the community ones expired");
}

#[test]
fn a_burst_is_refilled_slowly_and_community_news_leaves_connections_for_official_news() {
    let me = local(1, 1);
    let cfg = ScheduleConfig { max_links: 100, cooldown_ms: 0, yield_ms: 0, ..ScheduleConfig::default() };
    let mut e = Encounters::new(cfg, Some(me), 0, 0, seeded(1));
    let connect_all = |e: &mut Encounters, now: u64| {
        let peers: Vec<PeerId> =
            drain(e, now).into_iter().filter_map(|a| if let Action::Connect(p) = a { Some(p) } else { None }).collect();
        peers.iter().for_each(|p| e.link_ended(*p, LinkOutcome::Finished, now));
        peers.len()
    };
    (0..20u64).for_each(|i| e.seen(i, advert_of(&local(i as u8 + 2, 1), 0), 0));
    assert_eq!(connect_all(&mut e, 0), 5, "a burst of 8, 3 of them kept for official news");
    (20..30u64).for_each(|i| e.seen(i, advert_of(&local(i as u8 + 2, 9), 0), 0));
    assert_eq!(connect_all(&mut e, 1), 3, "official news takes the reserve");
    assert_eq!(connect_all(&mut e, 60_000), 0);
    (20..30u64).for_each(|i| e.seen(i, advert_of(&local(i as u8 + 2, 9), 0), 120_000));
    assert_eq!(connect_all(&mut e, 121_000), 1, "one more every two minutes");
    // A dial that never came up costs nothing.
    e.seen(99, advert_of(&local(7, 9), 0), 400_000);
    let got = drain(&mut e, 400_000);
    assert!(got.contains(&Action::Connect(99)), "{got:?}");
    e.link_ended(99, LinkOutcome::Unreachable, 400_000);
    assert_eq!(e.connections_last_hour(400_000), 9);
}

#[test]
fn scans_no_more_often_than_android_allows_and_rotates_its_salt() {
    let me = local(1, 1);
    let cfg = ScheduleConfig { scan_on_ms: 100, scan_off_ms: 100, ..ScheduleConfig::default() };
    let mut e = Encounters::new(cfg, Some(me), 0, 0, seeded(1));
    let first = e.advert();
    let mut starts = 0;
    for t in (0..30_000).step_by(50) {
        starts += drain(&mut e, t).iter().filter(|a| **a == Action::StartScan).count();
    }
    assert_eq!(starts, 4);
    assert_eq!(drain(&mut e, 600_000).first(), Some(&Action::Advertise));
    assert!(first.is_some() && e.advert().is_some());
    e.set_local(Some(local(2, 1)), 600_001);
    assert!(!drain(&mut e, 601_000).contains(&Action::Advertise), "a state change settles first");
    assert!(drain(&mut e, 602_001).contains(&Action::Advertise));
}

#[test]
fn a_peer_without_a_digest_is_read_before_any_swap() {
    let me = local(1, 1);
    let mut e = Encounters::new(ScheduleConfig::default(), Some(me), 0, 0, seeded(1));
    drain(&mut e, 0);
    e.seen(5, Sighting::ServiceOnly, 10);
    assert_eq!(drain(&mut e, 20), vec![Action::ReadState(5)]);
    e.state_read(5, Some(Advert::new(&me, [3, 3], 0)), 30);
    assert_eq!(drain(&mut e, 40), vec![], "it agrees: no swap");
    assert_eq!(e.links(), 0);
    e.seen(6, Sighting::ServiceOnly, 50);
    assert_eq!(drain(&mut e, 60), vec![Action::ReadState(6)]);
    e.state_read(6, Some(Advert::new(&local(4, 1), [3, 3], 0)), 70);
    assert_eq!(drain(&mut e, 80), vec![Action::Connect(6)]);
    assert_eq!(e.links(), 1, "the swap goes on over the connection the read made");
}

#[test]
fn a_seed_replays_the_same_adverts_and_actions() {
    let me = local(2, 1);
    let run = |seed: u64| {
        let mut e = Encounters::new(ScheduleConfig::default(), Some(me), 0, 0, seeded(seed));
        let mut log = Vec::new();
        for step in 0..400u64 {
            let now = step * 1_000;
            if step % 7 == 0 {
                e.seen(step % 5, advert_of(&local(step as u8, 3), step as u8), now);
            }
            while let Some(a) = e.poll_action(now) {
                log.push(format!("{now} {a:?}"));
            }
            log.push(format!("{:?} {:?}", e.advert(), e.fresh_advert()));
        }
        log
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6), "the salts come from the seed");
}

#[test]
fn a_link_whose_official_part_is_done_gets_the_community_slice_and_gives_way_to_news() {
    let me = local(1, 1);
    let cfg = ScheduleConfig { max_links: 2, yield_ms: 0, ..ScheduleConfig::default() };
    let mut e = Encounters::new(cfg.clone(), Some(me), 0, 0, seeded(1));
    drain(&mut e, 0);
    // A peer with official news: an official link, with the long slice.
    e.seen(1, advert_of(&local(2, 2), 0), 100);
    assert!(drain(&mut e, 200).contains(&Action::Connect(1)));
    // Its news has moved; what is left is community ops.
    e.official_done(1, 5_000);
    let ends = |e: &mut Encounters, from: u64, to: u64| {
        (from..to).step_by(1_000).find(|t| drain(e, *t).contains(&Action::Disconnect(1)))
    };
    let mut quiet = Encounters::new(cfg, Some(me), 0, 0, seeded(1));
    drain(&mut quiet, 0);
    quiet.seen(1, advert_of(&local(2, 2), 0), 100);
    drain(&mut quiet, 200);
    assert_eq!(ends(&mut e, 6_000, 100_000), Some(25_000), "ended a community slice after its news");
    assert_eq!(ends(&mut quiet, 6_000, 100_000), Some(91_000), "an official link keeps the long slice");
    // Reported again, or for a link that is not open, it changes nothing.
    e.official_done(1, 30_000);
    e.official_done(9, 30_000);
    // A link turned community gives way to news from another peer at once.
    let mut e =
        Encounters::new(ScheduleConfig { max_links: 2, yield_ms: 0, ..Default::default() }, Some(me), 0, 0, seeded(1));
    drain(&mut e, 0);
    e.seen(1, advert_of(&local(2, 2), 0), 100);
    drain(&mut e, 200);
    e.official_done(1, 1_000);
    e.seen(2, advert_of(&local(3, 3), 0), 1_100);
    assert_eq!(drain(&mut e, 1_200).first(), Some(&Action::Disconnect(1)), "news from peer 2 ends the flood");
}
