//! Crews end to end between real nodes: create, invite, join through a carrier that stores and
//! forwards everything and reads nothing, share favourites, leave, remove; invites that admit
//! once and expire; crew ops from strangers and garbage that change nothing.

use jiff::civil::Date;
use meadow_core::crew::crypto::{BUCKETS, CrewKeys, NONCE_LEN, TAG_LEN};
use meadow_core::crew::invite::CrewInvite;
use meadow_core::crew::ops::CrewBody;
use meadow_core::identity::Identity;
use meadow_core::node::{INVITE_SECONDS, NewFestival, Node};
use meadow_core::op::{Body, EventPatch, FestivalId, OpId};
use meadow_core::store::Clock;
use meadow_core::view::CrewView;
use meadow_tests::support::append_as;

/// Gives `to` every op `from` holds of the festival, as a sync would.
fn carry(from: &Node, to: &mut Node, f: &FestivalId) {
    to.ingest(from.store().ops(f).expect("ops")).expect("ingest");
}

struct World {
    admin: Node,
    friend: Node,
    carrier: Node,
    f: FestivalId,
    events: Vec<OpId>,
}

fn world() -> World {
    let mut admin = Node::in_memory(Identity::from_seed(101)).expect("admin");
    let f = admin
        .create_festival(NewFestival::new(
            "Crew Fest".into(),
            "Europe/Berlin".into(),
            Date::constant(2026, 7, 10),
            Date::constant(2026, 7, 12),
        ))
        .expect("festival");
    let events = (0..4)
        .map(|i| {
            let start = 1_783_684_800 + i * 1800;
            let patch = EventPatch {
                title: Some(format!("Set {i}")),
                start: Some(start),
                end: Some(start + 3600),
                ..Default::default()
            };
            admin.add_event(f, patch).expect("event")
        })
        .collect();
    let mut friend = Node::in_memory(Identity::from_seed(102)).expect("friend");
    let mut carrier = Node::in_memory(Identity::from_seed(103)).expect("carrier");
    carry(&admin, &mut friend, &f);
    carry(&admin, &mut carrier, &f);
    World { admin, friend, carrier, f, events }
}

/// Everything reaches everyone, through the carrier, until nothing moves.
fn gossip(w: &mut World) {
    for _ in 0..4 {
        carry(&w.friend, &mut w.carrier, &w.f);
        carry(&w.admin, &mut w.carrier, &w.f);
        carry(&w.carrier, &mut w.admin, &w.f);
        carry(&w.carrier, &mut w.friend, &w.f);
    }
}

fn only_crew(n: &Node, f: &FestivalId) -> CrewView {
    let crews = n.crews(f).expect("crews");
    assert_eq!(crews.len(), 1, "{crews:?}");
    crews.into_iter().next().expect("one crew")
}

#[test]
fn a_crew_shares_favourites_through_a_carrier_that_reads_nothing() {
    let mut w = world();
    let crew = w.admin.create_crew(w.f, "Camp Kettle").expect("create");
    let invite = w.admin.crew_invite(w.f, &crew, INVITE_SECONDS).expect("invite");
    let invite = CrewInvite::parse(&invite.to_link()).expect("the link reads back");
    w.friend.join_crew(&invite).expect("join");
    assert!(w.friend.crews(&w.f).expect("crews").is_empty(), "not admitted before the admin's device saw it");
    gossip(&mut w);

    let (x, y) = (w.events[0], w.events[1]);
    w.admin.set_favourite(&w.f, &x, true).expect("fav");
    w.friend.set_favourite(&w.f, &y, true).expect("fav");
    w.friend.share_with_crews(w.f, Some("by the tea tent".into()), None).expect("share");
    gossip(&mut w);

    let seen_by_admin = only_crew(&w.admin, &w.f);
    let seen_by_friend = only_crew(&w.friend, &w.f);
    assert_eq!((seen_by_admin.name.as_str(), seen_by_admin.members.len()), ("Camp Kettle", 2));
    let friend_there = seen_by_admin.members.iter().find(|m| !m.is_me).expect("the friend");
    assert_eq!((friend_there.favourites.clone(), friend_there.note.as_str()), (vec![y], "by the tea tent"));
    let admin_there = seen_by_friend.members.iter().find(|m| !m.is_me).expect("the admin");
    assert_eq!(admin_there.favourites, vec![x]);
    assert!(seen_by_admin.is_admin && !seen_by_friend.is_admin);

    // The carrier holds every crew op and reads none: no crew, no name, no id, no event.
    let ops = w.carrier.store().crew_ops(&w.f).expect("crew ops");
    assert!(ops.len() >= 6, "{} crew ops carried", ops.len());
    assert!(w.carrier.crews(&w.f).expect("crews").is_empty());
    let carried: Vec<&CrewBody> = ops
        .iter()
        .filter_map(|o| match o.body() {
            Body::Crew(c) => Some(c),
            _ => None,
        })
        .collect();
    let crew_id = meadow_core::wire::from_hex(&crew).expect("hex");
    for o in &ops {
        let bytes = o.bytes();
        for secret in [&b"Camp Kettle"[..], &crew_id, &x.0[..16], &y.0[..16], &b"tea tent"[..]] {
            assert!(!bytes.windows(secret.len()).any(|win| win == secret), "an op shows {secret:?}");
        }
    }
    // Every item is one of the padding sizes.
    for c in carried {
        if let CrewBody::Item { sealed, .. } = c {
            assert!(BUCKETS.iter().any(|b| sealed.len() == b + NONCE_LEN + TAG_LEN), "{}", sealed.len());
        }
    }
    let keys = CrewKeys::of(&Identity::from_seed(103), &w.f);
    let bodies: Vec<_> = ops
        .iter()
        .filter_map(|o| match o.body() {
            Body::Crew(body) => Some(meadow_core::crew::state::CrewOp { author: o.author(), seq: o.seq(), body }),
            _ => None,
        })
        .collect();
    assert!(meadow_core::crew::state::fold(&w.f, &keys, &bodies).is_empty(), "the carrier's key opens nothing");
}

#[test]
fn an_invite_admits_one_joiner_and_expires() {
    let mut w = world();
    let crew = w.admin.create_crew(w.f, "Band").expect("create");
    let invite = w.admin.crew_invite(w.f, &crew, 3600).expect("invite");
    w.friend.join_crew(&invite).expect("join");
    // A third phone got a photo of the same code.
    let mut third = Node::in_memory(Identity::from_seed(104)).expect("third");
    carry(&w.admin, &mut third, &w.f);
    third.join_crew(&invite).expect("asks");
    carry(&w.friend, &mut w.admin, &w.f);
    carry(&third, &mut w.admin, &w.f);
    assert_eq!(only_crew(&w.admin, &w.f).members.len(), 2, "one invite, one joiner");
    carry(&w.admin, &mut third, &w.f);
    assert!(third.crews(&w.f).expect("crews").is_empty(), "the second asker is not in");

    // An invite used after it expired admits nobody.
    let late = w.admin.crew_invite(w.f, &crew, 60).expect("invite");
    let mut fourth = Node::in_memory(Identity::from_seed(105)).expect("fourth");
    carry(&w.admin, &mut fourth, &w.f);
    fourth.join_crew(&late).expect("asks");
    w.admin.set_clock(Clock::Fixed(w.admin.now_ms() as i64 / 1000 + 3600));
    carry(&fourth, &mut w.admin, &w.f);
    assert_eq!(only_crew(&w.admin, &w.f).members.len(), 2, "expired");
}

#[test]
fn a_removed_member_cannot_read_what_is_shared_after_and_a_leaver_is_dropped() {
    let mut w = world();
    let crew = w.admin.create_crew(w.f, "Kettle").expect("create");
    let invite = w.admin.crew_invite(w.f, &crew, INVITE_SECONDS).expect("invite");
    w.friend.join_crew(&invite).expect("join");
    gossip(&mut w);
    w.admin.set_favourite(&w.f, &w.events[0], true).expect("fav");
    gossip(&mut w);
    let friend_key = Identity::from_seed(102).public();
    w.admin.remove_from_crew(w.f, &crew, &friend_key).expect("remove");
    w.admin.set_favourite(&w.f, &w.events[2], true).expect("fav after the removal");
    gossip(&mut w);
    assert_eq!(only_crew(&w.admin, &w.f).members.len(), 1);
    // The friend still holds the old epoch, and reads only what was shared under it.
    let stale = only_crew(&w.friend, &w.f);
    let admin_there = stale.members.iter().find(|m| !m.is_me).expect("admin as last read");
    assert_eq!(admin_there.favourites, vec![w.events[0]], "nothing shared after the removal");
    assert!(stale.epoch < only_crew(&w.admin, &w.f).epoch);

    // A member who leaves is re-keyed out by the admin's device.
    let mut w = world();
    let crew = w.admin.create_crew(w.f, "Kettle").expect("create");
    let invite = w.admin.crew_invite(w.f, &crew, INVITE_SECONDS).expect("invite");
    w.friend.join_crew(&invite).expect("join");
    gossip(&mut w);
    assert_eq!(only_crew(&w.admin, &w.f).members.len(), 2);
    w.friend.leave_crew(w.f, &crew).expect("leave");
    gossip(&mut w);
    let after = only_crew(&w.admin, &w.f);
    assert_eq!(after.members.len(), 1, "{after:?}");
}

#[test]
fn crew_ops_from_strangers_and_garbage_change_nothing() {
    let mut w = world();
    let crew = w.admin.create_crew(w.f, "Kettle").expect("create");
    let before = only_crew(&w.admin, &w.f);
    let ops_before = w.admin.store().op_count().expect("count");
    // A stranger's epoch sealed to the admin's crew key, claiming a crew of its own: the admin
    // never asked to join it, so it is not the admin's crew.
    let stranger = Identity::from_seed(106);
    let mut s = Node::in_memory(Identity::from_seed(106)).expect("stranger");
    carry(&w.admin, &mut s, &w.f);
    let fake = s.create_crew(w.f, "Trap").expect("stranger's crew");
    carry(&s, &mut w.admin, &w.f);
    assert_eq!(w.admin.crews(&w.f).expect("crews"), vec![before.clone()], "{fake}");
    // Garbage in every crew kind, validly signed: stored (it is a valid extension op), inert.
    for kind in 12u8..16 {
        for junk in [vec![], vec![0xff; 3], vec![1, 5, 1, 2, 3, 4, 5]] {
            let mut body = vec![kind];
            body.extend_from_slice(&junk);
            if let Ok(b) = meadow_core::op::Body::decode(&body) {
                let _ = append_as(&mut w.admin, &stranger, w.f, b, 0);
            }
        }
    }
    // An item with a random tag and ciphertext.
    let item = CrewBody::Item { tag: [9; 16], sealed: vec![7; 200] };
    append_as(&mut w.admin, &stranger, w.f, Body::Crew(item), 0).expect("stored");
    assert_eq!(w.admin.crews(&w.f).expect("crews"), vec![before], "{crew}");
    assert!(w.admin.store().op_count().expect("count") > ops_before);
}
