//! Convergence: whatever order and batching ops arrive in, every device folds them into the same
//! programme; concurrent edits resolve by (Lamport, author), never by arrival or wall clock.

use meadow_core::demo::Rng;
use meadow_core::identity::Identity;
use meadow_core::op::{Body, EventPatch, Op, Role};
use meadow_core::store::Store;
use meadow_core::view::ProgrammeFilter;
use meadow_tests::{Builder, FESTIVAL_START, chaotic_festival, event_body};
use proptest::prelude::*;

fn ingest_in_batches(ops: &[Op], rng: &mut Rng) -> Store {
    let mut store = Store::open_in_memory().expect("store");
    let mut i = 0;
    while i < ops.len() {
        let n = 1 + rng.below(8) as usize;
        let batch: Vec<Op> = ops[i..(i + n).min(ops.len())].to_vec();
        store.ingest(batch).expect("ingest");
        i += n;
    }
    store
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any permutation and duplication of a valid op set, in any batching, gives the same state.
    #[test]
    fn permutations_and_duplicates_converge(seed in 0u64..1_000_000, steps in 10usize..90, shuffle_seed: u64) {
        let scenario = chaotic_festival(seed, steps);
        let mut reference = Store::open_in_memory().expect("store");
        reference.ingest(scenario.ops.clone()).expect("ingest");
        let expected = reference.state_digest(&scenario.festival).expect("digest");
        prop_assert!(reference.check().expect("check").is_clean());

        let mut rng = Rng::new(shuffle_seed);
        let mut ops = scenario.ops.clone();
        // Duplicate a few ops, then Fisher-Yates shuffle.
        for _ in 0..rng.below(6) {
            let k = rng.below(ops.len() as u64) as usize;
            ops.push(ops[k].clone());
        }
        for i in (1..ops.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            ops.swap(i, j);
        }
        let mut store = ingest_in_batches(&ops, &mut rng);
        prop_assert_eq!(store.pending_count().expect("pending"), 0);
        prop_assert_eq!(store.op_count().expect("count"), scenario.ops.len() as u64);
        prop_assert_eq!(store.state_digest(&scenario.festival).expect("digest"), expected);
        prop_assert!(store.check().expect("check").is_clean());
    }

    /// Concurrent edits of one field: the edit with the greatest (Lamport, author) wins, whatever
    /// the arrival order.
    #[test]
    fn last_writer_by_lamport_then_author_wins(clocks in proptest::collection::vec(1u64..6, 2..7), order_seed: u64) {
        let mut b = Builder::new(7, clocks.len() + 1);
        for i in 1..=clocks.len() {
            let member = b.identity(i).public();
            b.push(0, None, Body::RoleGrant { member, role: Role::Organiser });
        }
        let mut rng = Rng::new(order_seed);
        let event = b.push(0, Some(100), event_body(&mut rng, 0, None, 0));
        let mut stamps = Vec::new();
        for (i, c) in clocks.iter().enumerate() {
            let author = i + 1;
            let lamport = 1000 + c;
            b.push(author, Some(lamport), Body::Event {
                target: Some(event),
                patch: EventPatch { title: Some(format!("by {author}")), ..Default::default() },
            });
            stamps.push(((lamport, b.identity(author).public()), format!("by {author}")));
        }
        let winner = stamps.iter().max_by_key(|(s, _)| *s).map(|(_, t)| t.clone()).expect("some");
        let festival = b.festival;
        let mut ops = b.build().ops;
        for i in (1..ops.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            ops.swap(i, j);
        }
        let store = ingest_in_batches(&ops, &mut rng);
        let title = store.event(&festival, &event).expect("q").expect("event").title;
        prop_assert_eq!(title, winner);
    }
}

/// Wall clocks never decide: an edit stamped with a later wall time but a lower Lamport clock loses.
#[test]
fn wall_clock_does_not_order_edits() {
    let mut b = Builder::new(3, 2);
    let member = b.identity(1).public();
    b.push(0, None, Body::RoleGrant { member, role: Role::Organiser });
    let mut rng = Rng::new(1);
    let event = b.push(0, None, event_body(&mut rng, 0, None, 0));
    let scenario = b.build();
    let mut store = Store::open_in_memory().expect("store");
    store.ingest(scenario.ops.clone()).expect("ingest");
    let owner = Identity::from_seed(3 * 1_000_003);
    let organiser = Identity::from_seed(3 * 1_000_003 + 1);
    let next = |store: &Store, who: &Identity| store.next_position(&scenario.festival, &who.public()).expect("pos");
    let mut p_owner = next(&store, &owner);
    let mut p_org = next(&store, &organiser);
    p_owner.lamport = 50;
    p_org.lamport = 40;
    let patch = |t: &str| Body::Event {
        target: Some(event),
        patch: EventPatch { title: Some(t.into()), ..Default::default() },
    };
    // The organiser's phone clock says 2030, the owner's 1999: Lamport still decides.
    let late_wall =
        Op::create(&organiser, scenario.festival, p_org, 1_900_000_000_000, patch("wall clock says latest"))
            .expect("op");
    let early_wall =
        Op::create(&owner, scenario.festival, p_owner, 900_000_000_000, patch("lamport says latest")).expect("op");
    store.ingest(vec![early_wall, late_wall]).expect("ingest");
    assert_eq!(store.event(&scenario.festival, &event).expect("q").expect("e").title, "lamport says latest");
    assert!(store.programme(&scenario.festival, &ProgrammeFilter::default()).expect("p")[0].start >= FESTIVAL_START);
}
