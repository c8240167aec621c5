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

/// Admin and friend in one crew, both past the first exchange.
fn crew_of_two(w: &mut World, name: &str) -> String {
    let crew = w.admin.create_crew(w.f, name).expect("create");
    let invite = w.admin.crew_invite(w.f, &crew, INVITE_SECONDS).expect("invite");
    w.friend.join_crew(&invite).expect("join");
    gossip(w);
    crew
}

#[test]
fn the_programme_counts_your_crew_and_provenance_names_it() {
    let mut w = world();
    let crew = crew_of_two(&mut w, "Camp Kettle");
    w.friend.set_display_name(w.f, "Ana").expect("name");
    w.friend.set_favourite(&w.f, &w.events[1], true).expect("fav");
    w.friend
        .share_with_crews(w.f, None, Some(Some((meadow_core::crew::ops::Heading::HeadingTo, w.events[1]))))
        .expect("heading");
    // A community event the friend posts: its provenance says the signer is in the crew.
    let start = 1_783_684_800;
    let theirs = w
        .friend
        .add_event(
            w.f,
            EventPatch { title: Some("Tea".into()), start: Some(start), end: Some(start + 600), ..Default::default() },
        )
        .expect("community event");
    w.friend.flush_crew_shares(w.f).expect("flush");
    gossip(&mut w);

    let row = |n: &Node, id: &OpId| {
        n.programme(&w.f, &Default::default()).expect("programme").into_iter().find(|e| e.id == *id).expect("row")
    };
    assert_eq!(row(&w.admin, &w.events[1]).crew, 1, "a favourite and a heading of one member count once");
    assert_eq!(row(&w.admin, &w.events[0]).crew, 0);
    assert_eq!(row(&w.friend, &w.events[1]).crew, 0, "a member does not count itself");
    assert_eq!(row(&w.carrier, &w.events[1]).crew, 0, "the carrier reads nothing");
    let d = w.admin.event_detail(&w.f, &w.events[1]).expect("detail").expect("event");
    assert_eq!(d.crew_going, vec!["Ana".to_owned()]);
    let p = w.admin.event_detail(&w.f, &theirs).expect("detail").expect("event").provenance.expect("provenance");
    assert_eq!((p.created.crew.as_str(), p.created.own_device), ("Camp Kettle", false));
    let mine = w.admin.event_detail(&w.f, &w.events[0]).expect("detail").expect("event").provenance.expect("p");
    assert!(mine.created.own_device && mine.created.crew.is_empty(), "{mine:?}");
    let at_carrier = w.carrier.event_detail(&w.f, &theirs).expect("detail").expect("event").provenance.expect("p");
    assert!(at_carrier.created.crew.is_empty(), "nobody else learns of the crew");

    // After the removal the count and the crew label go.
    w.admin.remove_from_crew(w.f, &crew, &Identity::from_seed(102).public()).expect("remove");
    assert_eq!(row(&w.admin, &w.events[1]).crew, 0);
    let p = w.admin.event_detail(&w.f, &theirs).expect("detail").expect("event").provenance.expect("provenance");
    assert!(p.created.crew.is_empty());
}

#[test]
fn own_devices_carry_favourites_hides_mutes_and_seen_marks() {
    let mut w = world();
    // The admin node is the organiser; "friend" is a laptop and a fresh node the same person's phone.
    let mut phone = Node::in_memory(Identity::from_seed(110)).expect("phone");
    carry(&w.admin, &mut phone, &w.f);
    let laptop = &mut w.friend;
    let (a, b, c) = (w.events[0], w.events[1], w.events[2]);
    laptop.set_favourite(&w.f, &a, true).expect("fav before joining");
    phone.set_favourite(&w.f, &b, true).expect("fav before joining");
    let crew = laptop.create_devices_crew(w.f, "My devices").expect("devices crew");
    assert!(laptop.create_devices_crew(w.f, "Again").is_err(), "one crew of own devices");
    let invite = laptop.crew_invite(w.f, &crew, INVITE_SECONDS).expect("invite");
    phone.join_crew(&invite).expect("join");
    let settle = |laptop: &mut Node, phone: &mut Node| {
        for _ in 0..4 {
            carry(phone, laptop, &w.f);
            carry(laptop, phone, &w.f);
        }
    };
    settle(laptop, &mut phone);
    let favs = |n: &Node| n.favourites(&w.f).expect("favs").into_iter().map(|e| e.id).collect::<Vec<_>>();
    let crews = laptop.crews(&w.f).expect("crews");
    assert!(crews[0].devices && crews[0].members.len() == 2, "{crews:?}");
    assert_eq!(favs(laptop), vec![a, b], "joining merges what both held");
    assert_eq!(favs(&phone), vec![a, b]);

    // The phone hides one event, mutes an author, unfavourites another and looks at the changes.
    let noisy = Identity::from_seed(111).public();
    phone.set_hidden_here(&w.f, &c, true).expect("hide");
    phone.set_muted(&w.f, &noisy, true).expect("mute");
    phone.set_favourite(&w.f, &a, false).expect("unfav");
    assert!(!laptop.store().has_looked(&w.f).expect("looked"));
    phone.changes_since_last_look(&w.f, true).expect("look");
    std::thread::sleep(std::time::Duration::from_millis(5));
    phone.flush_crew_shares(w.f).expect("flush");
    settle(laptop, &mut phone);
    assert_eq!(favs(laptop), vec![b], "an unfavourite follows too");
    let hidden: Vec<OpId> = laptop.hidden_here(&w.f).expect("hidden").into_iter().map(|e| e.id).collect();
    assert_eq!(hidden, vec![c]);
    assert!(!laptop.programme(&w.f, &Default::default()).expect("programme").iter().any(|e| e.id == c));
    assert!(laptop.event_detail(&w.f, &c).expect("detail").expect("still opens").hidden_here);
    assert_eq!(laptop.store().muted(&w.f).expect("muted"), vec![noisy]);
    let changes = laptop.store().changes(&w.f).expect("changes");
    assert!(changes.events.is_empty(), "what the phone looked at is seen on the laptop: {:?}", changes.events.len());
    // Something new after the look is still new on both.
    w.admin.set_clock(Clock::Fixed(w.admin.now_ms() as i64 / 1000 + 60));
    let late = w
        .admin
        .add_event(
            w.f,
            EventPatch {
                title: Some("Late".into()),
                start: Some(1_783_700_000),
                end: Some(1_783_703_600),
                ..Default::default()
            },
        )
        .expect("late event");
    carry(&w.admin, laptop, &w.f);
    let changes = laptop.store().changes(&w.f).expect("changes");
    assert_eq!(changes.events.iter().map(|c| c.event.id).collect::<Vec<_>>(), vec![late]);

    // The provenance of the phone's ops on the laptop says they are the person's own.
    let phone_op = phone.store().crew_ops(&w.f).expect("ops").into_iter().find(|o| o.author() == phone.public_key());
    let origin = laptop.op_origin(&w.f, &phone_op.expect("a phone op").id()).expect("origin").expect("held");
    assert!(origin.own_device && origin.crew.is_empty(), "{origin:?}");
    // The organiser, outside the crew, sees no devices crew and no hides.
    assert!(w.admin.crews(&w.f).expect("crews").is_empty());
    assert!(w.admin.hidden_here(&w.f).expect("hidden").is_empty());
}

#[test]
fn a_crew_of_twenty_converges_over_the_simulated_bluetooth_crowd() {
    use meadow_tests::radio::{Radio, swap};
    let mut w = world();
    let crew = w.admin.create_crew(w.f, "Brass band").expect("create");
    w.admin.set_favourite(&w.f, &w.events[3], true).expect("fav");
    let mut phones = vec![std::mem::replace(&mut w.admin, Node::in_memory(Identity::from_seed(1)).expect("n"))];
    for i in 0..19u64 {
        let mut p = Node::in_memory(Identity::from_seed(300 + i)).expect("phone");
        carry(&phones[0], &mut p, &w.f);
        let invite = phones[0].crew_invite(w.f, &crew, INVITE_SECONDS).expect("invite");
        p.join_crew(&invite).expect("join");
        p.set_favourite(&w.f, &w.events[(i % 4) as usize], true).expect("fav");
        phones.push(p);
    }
    let mut rng = meadow_core::demo::Rng::new(2026);
    let radio = Radio::gatt(185, 20_000);
    let converged = |phones: &[Node]| {
        let views: Vec<Vec<(bool, usize)>> = phones
            .iter()
            .map(|p| {
                p.crews(&w.f)
                    .expect("crews")
                    .iter()
                    .flat_map(|c| c.members.iter().map(|m| (m.silent, m.favourites.len())).collect::<Vec<_>>())
                    .collect()
            })
            .collect();
        views.iter().all(|v| v.len() == 20 && v.iter().all(|(silent, favs)| !silent && *favs == 1))
    };
    let mut swaps = 0;
    // Reading twenty crews decrypts them twenty times: look every tenth swap.
    while swaps % 10 != 0 || !converged(&phones) {
        swaps += 1;
        assert!(swaps < 400, "no convergence after {swaps} swaps");
        // Two phones come into range: one dials, the other answers, and they swap what they hold.
        let a = rng.below(20) as usize;
        let b = (a + 1 + rng.below(19) as usize) % 20;
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = phones.split_at_mut(hi);
        let out = swap(&mut left[lo], &mut right[0], &w.f, &radio, 600_000, &mut |_, _| {});
        assert!(out.dialler.is_some(), "a swap ended: {out:?}");
    }
    let admin_view = phones[0].crews(&w.f).expect("crews").remove(0);
    for p in &phones {
        let v = p.crews(&w.f).expect("crews").remove(0);
        assert_eq!(v.epoch, admin_view.epoch, "one epoch everywhere");
        let keys = |c: &CrewView| c.members.iter().map(|m| (m.key, m.favourites.clone())).collect::<Vec<_>>();
        assert_eq!(keys(&v), keys(&admin_view));
    }
    eprintln!("a crew of 20 converged after {swaps} swaps, epoch {}", admin_view.epoch);
}

#[test]
fn concurrent_removals_leaves_and_joins_converge() {
    let mut w = world();
    let crew = w.admin.create_crew(w.f, "Camp").expect("create");
    let mut members: Vec<Node> = Vec::new();
    for i in 0..4u64 {
        let mut p = Node::in_memory(Identity::from_seed(400 + i)).expect("member");
        carry(&w.admin, &mut p, &w.f);
        let invite = w.admin.crew_invite(w.f, &crew, INVITE_SECONDS).expect("invite");
        p.join_crew(&invite).expect("join");
        carry(&p, &mut w.admin, &w.f);
        members.push(p);
    }
    for p in members.iter_mut() {
        carry(&w.admin, p, &w.f);
    }
    assert_eq!(only_crew(&w.admin, &w.f).members.len(), 5);
    // At once, with nobody hearing of the others: the admin removes member 0, member 1 leaves, a
    // newcomer asks to join, and member 2 changes its favourites.
    let mut newcomer = Node::in_memory(Identity::from_seed(410)).expect("newcomer");
    carry(&w.admin, &mut newcomer, &w.f);
    let invite = w.admin.crew_invite(w.f, &crew, INVITE_SECONDS).expect("invite");
    newcomer.join_crew(&invite).expect("join");
    w.admin.remove_from_crew(w.f, &crew, &members[0].public_key()).expect("remove");
    members[1].leave_crew(w.f, &crew).expect("leave");
    members[2].set_favourite(&w.f, &w.events[3], true).expect("fav");
    members[2].flush_crew_shares(w.f).expect("flush");
    // Their ops meet in different orders on different phones.
    members.push(newcomer);
    let mut everyone = vec![std::mem::replace(&mut w.admin, Node::in_memory(Identity::from_seed(2)).expect("n"))];
    everyone.extend(members);
    let mut rng = meadow_core::demo::Rng::new(9);
    for _ in 0..120 {
        let a = rng.below(everyone.len() as u64) as usize;
        let b = (a + 1 + rng.below(everyone.len() as u64 - 1) as usize) % everyone.len();
        let ops = everyone[a].store().ops(&w.f).expect("ops");
        everyone[b].ingest(ops).expect("ingest");
    }
    let admin_view = only_crew(&everyone[0], &w.f);
    let in_crew: Vec<_> = admin_view.members.iter().map(|m| m.key).collect();
    assert_eq!(in_crew.len(), 4, "admin, members 2 and 3 and the newcomer: {admin_view:?}");
    assert!(!in_crew.contains(&everyone[1].public_key()) && !in_crew.contains(&everyone[2].public_key()));
    for n in everyone.iter().filter(|n| in_crew.contains(&n.public_key())) {
        assert_eq!((only_crew(n, &w.f).epoch, only_crew(n, &w.f).name), (admin_view.epoch, admin_view.name.clone()));
        let view: Vec<_> = only_crew(n, &w.f).members.iter().map(|m| (m.key, m.favourites.clone())).collect();
        let admins: Vec<_> = admin_view.members.iter().map(|m| (m.key, m.favourites.clone())).collect();
        assert_eq!(view, admins, "every member reads the same crew");
    }
    // The removed member reads nothing of the newest epoch.
    let stale = only_crew(&everyone[1], &w.f);
    assert!(stale.epoch < admin_view.epoch);
}
