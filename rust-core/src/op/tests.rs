use proptest::prelude::*;

use super::*;
use crate::identity::Identity;
use jiff::civil::date;

pub(crate) fn vector_identity() -> Identity {
    Identity::from_secret([7u8; 32])
}

/// The ops behind the test vectors in docs/protocol.md, in log order.
pub(crate) fn vector_ops() -> Vec<(&'static str, Op)> {
    let id = vector_identity();
    let nonce = [0x11u8; 16];
    let festival = FestivalId::derive(&id.public(), &nonce);
    let wall = 1_783_000_000_000;
    let mut w = LogWriter::new(festival, LogPosition { seq: 0, backlink: None, lamport: 0 });
    let mut out = Vec::new();
    let mut push = |name, body| {
        let lamport = w.next.lamport;
        let op = w.sign(&id, lamport, wall, body).expect("vector op");
        out.push((name, op.clone()));
        op.id()
    };
    push(
        "festival-create",
        Body::FestivalCreate(FestivalCreate {
            nonce,
            fields: FestivalPatch {
                name: Some("Wiese 2026".into()),
                description: None,
                timezone: Some("Europe/Berlin".into()),
                start_date: Some(date(2026, 7, 10)),
                end_date: Some(date(2026, 7, 12)),
                place: None,
                day_change_minutes: Some(240),
            },
            forked_from: None,
        }),
    );
    let venue = push(
        "venue-create",
        Body::Venue {
            target: None,
            patch: VenuePatch {
                name: Some("Main Stage".into()),
                location: Some(GeoPoint { lat_e7: 525_200_000, lon_e7: 134_050_000 }),
                ..Default::default()
            },
        },
    );
    let event = push(
        "event-create",
        Body::Event {
            target: None,
            patch: EventPatch {
                title: Some("Opening".into()),
                start: Some(1_783_684_800),
                end: Some(1_783_688_400),
                venue: Some(Some(venue)),
                track: Some("Music".into()),
                tags: Some(vec!["folk".into()]),
                people: Some(vec!["Zoë".into()]),
                ..Default::default()
            },
        },
    );
    push(
        "event-cancel",
        Body::Event { target: Some(event), patch: EventPatch { cancelled: Some(true), ..Default::default() } },
    );
    push(
        "announcement",
        Body::Announcement(Announcement {
            text: "Gates open at 10:00".into(),
            priority: Priority::High,
            expires: Some(1_783_720_800),
        }),
    );
    push("role-grant", Body::RoleGrant { member: Identity::from_secret([8u8; 32]).public(), role: Role::Organiser });
    push(
        "moderation",
        Body::Moderation(Moderation {
            community: Some(CommunityMode::Approved),
            approve: vec![Identity::from_secret([9u8; 32]).public()],
        }),
    );
    push(
        "venue-position",
        Body::Venue { target: Some(venue), patch: VenuePatch { position: Some(2), ..Default::default() } },
    );
    push(
        "event-imported",
        Body::Event {
            target: None,
            patch: EventPatch {
                title: Some("Knots".into()),
                start: Some(1_783_692_000),
                end: Some(1_783_695_600),
                source_id: Some("wiese26#5b1e7a10-0000-4000-8000-000000000101".into()),
                url: Some("https://wiese.example/talk/101".into()),
                source_number: Some(101),
                do_not_record: Some(true),
                recording_license: Some("CC BY 4.0".into()),
                ..Default::default()
            },
        },
    );
    out
}

fn doc_vectors() -> Vec<(String, String, String)> {
    let doc = include_str!("../../../docs/protocol.md");
    let mut out = Vec::new();
    let mut name = None;
    let mut op = None;
    for line in doc.lines() {
        let line = line.trim();
        if let Some(n) = line.strip_prefix("vector ") {
            name = Some(n.trim().to_owned());
        } else if let Some(h) = line.strip_prefix("op ") {
            op = Some(h.trim().to_owned());
        } else if let Some(h) = line.strip_prefix("id ")
            && let (Some(n), Some(o)) = (name.take(), op.take())
        {
            out.push((n, o, h.trim().to_owned()));
        }
    }
    out
}

#[test]
fn vectors_match_protocol_doc() {
    let ours = vector_ops();
    if std::env::var_os("MEADOW_PRINT_VECTORS").is_some() {
        for (name, op) in &ours {
            println!("vector {name}\nop {}\nid {}\n", crate::wire::to_hex(op.bytes()), op.id().to_hex());
        }
    }
    let doc = doc_vectors();
    assert_eq!(doc.len(), ours.len(), "docs/protocol.md lists {} vectors", doc.len());
    for ((name, op), (dname, dop, did)) in ours.iter().zip(&doc) {
        assert_eq!(name, dname);
        assert_eq!(&crate::wire::to_hex(op.bytes()), dop, "encoding of {name}");
        assert_eq!(&op.id().to_hex(), did, "id of {name}");
        // And the documented bytes decode and verify on their own.
        let bytes = crate::wire::from_hex(dop).expect("hex");
        let decoded = Op::decode(&bytes).expect("decodes");
        decoded.verify_signature().expect("verifies");
        assert_eq!(decoded.body(), op.body());
    }
}

#[test]
fn every_vector_round_trips() {
    for (name, op) in vector_ops() {
        let decoded = Op::decode(op.bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded, op, "{name}");
        assert_eq!(decoded.body().encode(), op.body_bytes(), "{name}: body re-encodes identically");
        decoded.verify_signature().expect("signature");
    }
}

#[test]
fn any_flipped_bit_is_rejected() {
    for (name, op) in vector_ops() {
        let bytes = op.bytes();
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.to_vec();
            b[i / 8] ^= 1 << (i % 8);
            let accepted = Op::decode(&b).and_then(|o| o.verify_signature().map(|_| o));
            assert!(accepted.is_err(), "{name}: flipping bit {i} was accepted");
        }
    }
}

#[test]
fn truncation_and_trailing_bytes_are_rejected() {
    let (_, op) = &vector_ops()[2];
    for n in 0..op.bytes().len() {
        assert!(Op::decode(&op.bytes()[..n]).is_err(), "prefix of {n} bytes accepted");
    }
    let mut longer = op.bytes().to_vec();
    longer.push(0);
    assert!(matches!(Op::decode(&longer), Err(OpError::Header(WireError::TrailingBytes(1)))));
    let (decoded, used) = Op::decode_prefix(&longer).expect("prefix decode");
    assert_eq!(used, op.bytes().len());
    assert_eq!(decoded.id(), op.id());
}

#[test]
fn clocks_are_bounded_and_signatures_carry_a_context() {
    let id = vector_identity();
    let f = FestivalId([5; 32]);
    let body = || Body::Delete { target: OpId([1; 32]) };
    let at = |seq: u64, lamport: u64| {
        Op::create(&id, f, LogPosition { seq, backlink: (seq > 0).then_some(OpId([3; 32])), lamport }, 0, body())
    };
    assert!(at(1, rules::MAX_LAMPORT).is_ok());
    assert_eq!(at(1, rules::MAX_LAMPORT + 1).err(), Some(OpError::ClockOutOfRange(rules::MAX_LAMPORT + 1)));
    assert_eq!(at(1, u64::MAX).err(), Some(OpError::ClockOutOfRange(u64::MAX)));
    assert!(at(0, rules::MAX_CLOCK_STEP).is_ok());
    assert!(matches!(at(0, rules::MAX_CLOCK_STEP + 1), Err(OpError::ClockOutOfRange(_))));
    // A signature over the bare header bytes (no signing context) is not an op signature: the key
    // may sign other things, and none of them may pass for an op.
    let op = at(1, 7).expect("op");
    let header = &op.bytes()[..op.header_bytes().len() - 64];
    let bare = id.sign(header);
    let mut forged = op.bytes().to_vec();
    forged[header.len()..header.len() + 64].copy_from_slice(&bare);
    let forged = Op::decode(&forged).expect("decodes");
    assert_eq!(forged.verify_signature(), Err(OpError::BadSignature));
    assert!(op.verify_signature().is_ok());
}

#[test]
fn festival_id_binds_its_creator() {
    let (_, create) = &vector_ops()[0];
    let Body::FestivalCreate(c) = create.body() else { panic!("not a create") };
    let other = Identity::from_seed(99);
    // Somebody else claiming the same festival with the same nonce cannot produce a valid op.
    let forged = Op::create(
        &other,
        create.festival(),
        LogPosition { seq: 0, backlink: None, lamport: 0 },
        0,
        Body::FestivalCreate(c.clone()),
    );
    assert_eq!(forged.err(), Some(OpError::FestivalIdMismatch));
    let later = Op::create(
        &vector_identity(),
        create.festival(),
        LogPosition { seq: 3, backlink: Some(create.id()), lamport: 9 },
        0,
        Body::FestivalCreate(c.clone()),
    );
    assert_eq!(later.err(), Some(OpError::CreateNotFirst));
}

#[test]
fn schema_limits_are_enforced_when_creating() {
    let id = vector_identity();
    let f = FestivalId([1; 32]);
    let pos = LogPosition { seq: 0, backlink: None, lamport: 0 };
    let event = |patch| Op::create(&id, f, pos, 0, Body::Event { target: None, patch });
    let ok = EventPatch { title: Some("x".into()), start: Some(100), end: Some(200), ..Default::default() };
    assert!(event(ok.clone()).is_ok());
    assert!(matches!(event(EventPatch { title: Some(" ".into()), ..ok.clone() }), Err(OpError::Schema(_))));
    assert!(matches!(event(EventPatch { end: Some(50), ..ok.clone() }), Err(OpError::Schema(_))));
    assert!(matches!(
        event(EventPatch { title: None, ..ok.clone() }),
        Err(OpError::Schema(SchemaError::Missing("title")))
    ));
    assert!(matches!(event(EventPatch { title: Some("a".repeat(400)), ..ok.clone() }), Err(OpError::Schema(_))));
    assert!(matches!(event(EventPatch { title: Some("bad\u{0}".into()), ..ok.clone() }), Err(OpError::Schema(_))));
    assert!(matches!(
        event(EventPatch { description: Some("x".repeat(20_000)), ..ok.clone() }),
        Err(OpError::Schema(_))
    ));
    // A source number is what a signed 32-bit integer holds, from 1.
    for n in [0, i32::MAX as u32 + 1, u32::MAX] {
        assert!(matches!(event(EventPatch { source_number: Some(n), ..ok.clone() }), Err(OpError::Schema(_))), "{n}");
    }
    assert!(event(EventPatch { source_number: Some(i32::MAX as u32), ..ok.clone() }).is_ok());
    assert!(matches!(event(EventPatch { url: Some("u".repeat(1_001)), ..ok }), Err(OpError::Schema(_))));
    let venue = |position| {
        let patch = VenuePatch { name: Some("Hall".into()), position: Some(position), ..Default::default() };
        Op::create(&id, f, pos, 0, Body::Venue { target: None, patch })
    };
    assert!(venue(1_000_000).is_ok());
    assert!(matches!(venue(1_000_001), Err(OpError::Schema(_))));
}

#[test]
fn received_source_numbers_and_positions_out_of_range_are_refused() {
    // Field 17 of an event (source number) and field 6 of a venue (position), as a hostile
    // peer could encode them: out of range is refused, not wrapped or cut.
    for (kind, field, value) in
        [(BodyKind::Event, 17u64, 0u64), (BodyKind::Event, 17, 1 << 31), (BodyKind::Venue, 6, 1_000_001)]
    {
        let mut w = crate::wire::Writer::new();
        w.u8(kind as u8);
        let mut v = crate::wire::Writer::new();
        v.varint(value);
        w.field(field, v.as_slice());
        assert!(Body::decode(w.as_slice()).is_err(), "{kind:?} field {field} = {value}");
    }
}

#[test]
fn unknown_fields_are_ignored_and_unknown_kinds_kept_inert() {
    // An event body with an extra field 40 a newer client might add.
    let mut w = crate::wire::Writer::new();
    w.u8(BodyKind::Delete as u8);
    w.field(1, &[9u8; 32]);
    w.field(40, b"future");
    let body = Body::decode(w.as_slice()).expect("decodes");
    assert_eq!(body, Body::Delete { target: OpId([9; 32]) });
    let mut w = crate::wire::Writer::new();
    w.u8(77);
    w.field(1, b"whatever");
    assert_eq!(Body::decode(w.as_slice()), Ok(Body::Unknown { kind: 77 }));
    // Still strict about structure.
    let mut w = crate::wire::Writer::new();
    w.u8(77);
    w.field(3, b"a");
    w.field(2, b"b");
    assert!(Body::decode(w.as_slice()).is_err());
    assert!(Body::decode(&[0]).is_err());
    assert_eq!(Body::decode(&[]), Err(SchemaError::Empty));
}

fn arb_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9 äöüß€🎪]{{1,{max}}}"))
        .expect("regex")
        .prop_filter("not blank", |s| !s.trim().is_empty())
}

prop_compose! {
    fn arb_event_patch()(
        title in proptest::option::of(arb_text(40)),
        subtitle in proptest::option::of(arb_text(20)),
        start in proptest::option::of(0i64..4_000_000_000),
        len in 0i64..100_000,
        venue in proptest::option::of(proptest::option::of(any::<[u8; 32]>())),
        tags in proptest::option::of(proptest::collection::vec(arb_text(10), 0..5)),
        cancelled in proptest::option::of(any::<bool>()),
    ) -> EventPatch {
        EventPatch {
            title, subtitle, start, end: start.map(|s| s + len),
            venue: venue.map(|v| v.map(OpId)), tags, cancelled, ..Default::default()
        }
    }
}

fn arb_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (proptest::option::of(any::<[u8; 32]>()), arb_event_patch()).prop_map(|(t, mut p)| {
            if t.is_none() {
                p.title.get_or_insert_with(|| "t".into());
                p.start.get_or_insert(10);
                p.end = Some(p.end.unwrap_or(0).max(p.start.unwrap_or(10)));
            } else if p == EventPatch::default() {
                p.cancelled = Some(true);
            }
            Body::Event { target: t.map(OpId), patch: p }
        }),
        (arb_text(100), 0u64..3, proptest::option::of(0i64..4_000_000_000)).prop_map(|(text, p, expires)| {
            Body::Announcement(Announcement {
                text,
                priority: Priority::from_u64(p).unwrap_or(Priority::Normal),
                expires,
            })
        }),
        any::<[u8; 32]>().prop_map(|t| Body::Delete { target: OpId(t) }),
        (any::<[u8; 32]>(), any::<bool>())
            .prop_map(|(k, hidden)| Body::Hide { target: HideTarget::Author(PublicKey(k)), hidden }),
        (any::<[u8; 32]>(), proptest::option::of(any::<u64>())).prop_map(|(k, after_seq)| Body::RoleRevoke {
            member: PublicKey(k),
            role: Role::Organiser,
            after_seq
        }),
        (proptest::option::of(any::<bool>()), proptest::collection::btree_set(any::<[u8; 32]>(), 0..5)).prop_map(
            |(mode, keys)| {
                let community = mode.map(|m| if m { CommunityMode::Approved } else { CommunityMode::Open });
                let approve: Vec<PublicKey> = keys.into_iter().map(PublicKey).collect();
                let community = if approve.is_empty() { community.or(Some(CommunityMode::Open)) } else { community };
                Body::Moderation(Moderation { community, approve })
            }
        ),
        (arb_text(30), proptest::option::of(-900_000_000i32..900_000_000)).prop_map(|(name, lat)| Body::Venue {
            target: None,
            patch: VenuePatch {
                name: Some(name),
                location: lat.map(|l| GeoPoint { lat_e7: l, lon_e7: -l }),
                ..Default::default()
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn bodies_round_trip(body in arb_body(), seq in 0u64..1000, lamport in 0..=rules::MAX_LAMPORT, wall: u64) {
        let id = vector_identity();
        let backlink = if seq > 0 { Some(OpId([3; 32])) } else { None };
        // A first op's clock may not run further ahead than one step.
        let lamport = if seq == 0 { lamport % (rules::MAX_CLOCK_STEP + 1) } else { lamport };
        let op = Op::create(&id, FestivalId([5; 32]), LogPosition { seq, backlink, lamport }, wall, body.clone()).expect("valid");
        let decoded = Op::decode(op.bytes()).expect("decodes");
        prop_assert_eq!(decoded.body(), &body);
        prop_assert_eq!(decoded.header(), op.header());
        prop_assert_eq!(decoded.id(), op.id());
        prop_assert!(decoded.verify_signature().is_ok());
    }

    #[test]
    fn decoder_never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Op::decode(&bytes);
        let _ = Body::decode(&bytes);
    }

    #[test]
    fn decoder_never_panics_on_mutated_ops(idx in 0usize..6, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let ops = vector_ops();
        let mut b = ops[idx].1.bytes().to_vec();
        for (pos, val) in edits {
            let p = pos % b.len();
            b[p] = val;
        }
        if let Ok(op) = Op::decode(&b) && op.bytes() != ops[idx].1.bytes() {
            prop_assert!(op.verify_signature().is_err());
        }
    }
}
