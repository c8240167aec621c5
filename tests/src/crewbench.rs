//! `meadow-bench crew`: what crews cost. Bytes per shared favourite on the wire and in the
//! store, the time for a member to decrypt and fold a crew of 20 with 50 favourites each, and the
//! cost of removing a member from a crew of 30.

use std::time::Instant;

use anyhow::{Context, Result};
use jiff::civil::Date;
use meadow_core::identity::Identity;
use meadow_core::node::{INVITE_SECONDS, NewFestival, Node};
use meadow_core::op::{EventPatch, FestivalId, OpId};
use serde_json::{Value, json};

/// Gives `to` every op `from` holds of the festival, as a sync would.
fn carry(from: &Node, to: &mut Node, f: &FestivalId) -> Result<()> {
    to.ingest(from.store().ops(f)?)?;
    Ok(())
}

/// An admin with a festival of `events` events and a crew of `members` (the admin included),
/// every member admitted and holding everything.
fn crew(members: usize, events: usize) -> Result<(Vec<Node>, FestivalId, String, Vec<OpId>)> {
    let mut admin = Node::in_memory(Identity::from_seed(9_000))?;
    let f = admin.create_festival(NewFestival::new(
        "Crew bench".into(),
        "Europe/Berlin".into(),
        Date::constant(2026, 7, 10),
        Date::constant(2026, 7, 13),
    ))?;
    let ids = (0..events)
        .map(|i| {
            let start = 1_783_684_800 + (i as i64 % 200) * 900;
            let patch = EventPatch {
                title: Some(format!("Set {i}")),
                start: Some(start),
                end: Some(start + 1800),
                ..Default::default()
            };
            admin.add_event(f, patch)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let id = admin.create_crew(f, "Bench crew")?;
    let mut nodes = vec![admin];
    for m in 1..members {
        let mut n = Node::in_memory(Identity::from_seed(9_000 + m as u64))?;
        carry(&nodes[0], &mut n, &f)?;
        let invite = nodes[0].crew_invite(f, &id, INVITE_SECONDS)?;
        n.join_crew(&invite)?;
        nodes.push(n);
    }
    // Every request reaches the admin in one batch: one new epoch admits them all.
    let (admin, rest) = nodes.split_first_mut().context("an admin")?;
    for n in rest.iter() {
        carry(n, admin, &f)?;
    }
    for n in rest.iter_mut() {
        carry(admin, n, &f)?;
    }
    Ok((nodes, f, id, ids))
}

/// The figures, as JSON.
pub fn run(members: usize, favourites: usize, remove_from: usize) -> Result<Value> {
    let (mut nodes, f, _, events) = crew(members, favourites.max(60))?;
    eprintln!("crew of {members}: sharing {favourites} favourites each");
    // Each member shares its favourites once (a whole item, as after a ticking spree).
    for (i, n) in nodes.iter_mut().enumerate() {
        // The first tick is told at once, the rest held back and told together.
        for e in events.iter().cycle().skip(i).take(favourites) {
            n.set_favourite(&f, e, true)?;
        }
        n.flush_crew_shares(f)?;
    }
    let item_ops: Vec<_> = nodes
        .iter()
        .flat_map(|n| {
            let me = n.public_key();
            n.store()
                .crew_ops(&f)
                .unwrap_or_default()
                .into_iter()
                .rfind(move |o| o.author() == me && o.body().kind_byte() == meadow_core::crew::ops::KIND_ITEM)
        })
        .collect();
    let wire_bytes: usize = item_ops.iter().map(|o| o.bytes().len()).sum();
    let per_item = wire_bytes as f64 / item_ops.len().max(1) as f64;
    // Everything reaches one member, who reads the crew.
    let (others, last) = nodes.split_at_mut(members - 1);
    let reader = &mut last[0];
    for n in others.iter() {
        carry(n, reader, &f)?;
    }
    let reader = &*reader;
    let samples = 5;
    let mut fold_ms = Vec::new();
    let mut seen = 0;
    for _ in 0..samples {
        let t = Instant::now();
        let crews = reader.crews(&f)?;
        fold_ms.push(t.elapsed().as_secs_f64() * 1e3);
        seen =
            crews.first().map(|c| c.members.iter().filter(|m| m.favourites.len() == favourites).count()).unwrap_or(0);
    }
    fold_ms.sort_by(f64::total_cmp);
    let crew_ops = reader.store().crew_ops(&f)?.len();
    // What the crew's ops take in the reader's store: their bytes as kept (the op table keeps
    // ops verbatim). The derived rows a member keeps besides (`crew_opened`, one per epoch and
    // join op; `crew_going`, one per other member and favourite) are not counted here.
    let stored: usize = reader.store().crew_ops(&f)?.iter().map(|o| o.bytes().len()).sum();

    // Removal from a crew of `remove_from`.
    eprintln!("crew of {remove_from}: removing one member");
    let (mut big, g, big_id, _) = crew(remove_from, 60)?;
    let victim = big[remove_from - 1].public_key();
    let before_ops = big[0].store().crew_ops(&g)?;
    let t = Instant::now();
    big[0].remove_from_crew(g, &big_id, &victim)?;
    let remove_ms = t.elapsed().as_secs_f64() * 1e3;
    let after_ops = big[0].store().crew_ops(&g)?;
    let new_bytes: usize = after_ops.iter().filter(|o| !before_ops.contains(o)).map(|o| o.bytes().len()).sum();
    let survivor = &mut big[1];
    let t = Instant::now();
    survivor.ingest(after_ops)?;
    let survivor_ms = t.elapsed().as_secs_f64() * 1e3;
    let members_left = survivor.crews(&g)?.first().map(|c| c.members.len()).unwrap_or(0);
    Ok(json!({
        "bench": "crew",
        "members": members,
        "favourites_each": favourites,
        "item_wire_bytes": per_item,
        "wire_bytes_per_shared_favourite": per_item / favourites.max(1) as f64,
        "reader_crew_ops": crew_ops,
        "reader_crew_op_bytes": stored,
        "store_bytes_per_shared_favourite": stored as f64 / (members * favourites).max(1) as f64,
        "fold_ms_p50": fold_ms[fold_ms.len() / 2],
        "members_read_whole": seen,
        "removal": {
            "crew": remove_from,
            "admin_ms": remove_ms,
            "new_op_bytes": new_bytes,
            "member_ingest_and_reshare_ms": survivor_ms,
            "members_after": members_left,
        },
    }))
}
