//! Moderation: who is approved or hidden, what the community cap allows, what shows.

use super::*;
use rusqlite::named_params;

/// Applies an official moderation rule: the community mode is one last-writer-wins field, and
/// approvals only ever add authors (an organiser who changes their mind hides the author).
pub(super) fn apply_moderation(
    conn: &Connection,
    ctx: &mut FestivalCtx,
    stamp: Stamp,
    m: &ModerationRule,
) -> Result<(), StoreError> {
    let f = &ctx.id.0[..];
    let mut everyone = false;
    if let Some(mode) = m.community {
        let current: Option<Option<Vec<u8>>> = conn
            .prepare_cached("SELECT community_stamp FROM festivals WHERE id = ?")?
            .query_row([f], |r| r.get(0))
            .optional()?;
        let Some(current) = current else {
            // Before the festival's creation op: the rebuild that creation triggers applies it.
            return Ok(());
        };
        let wins = match current.as_deref().and_then(FieldStamps::<1>::decode) {
            Some(st) => st.0[0].is_none_or(|cur| stamp > cur),
            None => true,
        };
        if wins {
            let mut st = FieldStamps::<1>::default();
            st.take(0, stamp);
            conn.prepare_cached("UPDATE festivals SET community = ?, community_stamp = ? WHERE id = ?")?
                .execute(params![mode as i64, st.encode(), f])?;
            everyone = true;
        }
    }
    let mut add = conn.prepare_cached("INSERT OR IGNORE INTO approvals (festival, author) VALUES (?, ?)")?;
    for k in &m.approve {
        add.execute([f, &k.0[..]])?;
    }
    drop(add);
    ctx.has_hides = ctx.has_hides || m.community == Some(CommunityMode::Approved) || approved_only(conn, &ctx.id)?;
    if everyone {
        conn.prepare_cached(&format!(
            "UPDATE events SET {HIDDEN} WHERE festival = (SELECT n FROM keys WHERE key = :festival) AND official = 0"
        ))?
        .execute(named_params! {":festival": f})?;
    } else {
        for k in &m.approve {
            refresh_hidden(conn, ctx, None, Some(k))?;
        }
    }
    Ok(())
}

pub(super) fn approved_only(conn: &Connection, festival: &FestivalId) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT community FROM festivals WHERE id = ?")?
        .query_row([&festival.0[..]], |r| r.get::<_, i64>(0))
        .optional()?
        == Some(CommunityMode::Approved as i64))
}

/// Whether a community event is hidden for everybody: an organiser hid it or its author, or the
/// festival shows only approved authors and its author is not one. Official events never are.
/// `:festival` is the festival's id; the statement's rows are that festival's events.
pub(super) const HIDDEN: &str = "hidden = (official = 0 AND (
    EXISTS (SELECT 1 FROM hides h WHERE h.festival = :festival AND h.target = events.id AND h.hidden = 1)
    OR EXISTS (SELECT 1 FROM hides h WHERE h.festival = :festival AND h.target = events.creator AND h.hidden = 1)
    OR (EXISTS (SELECT 1 FROM festivals f WHERE f.id = :festival AND f.community = 1)
        AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.festival = :festival AND a.author = events.creator))))";

/// Hides only ever apply to community content: an official event stays visible.
pub(super) fn refresh_hidden(
    conn: &Connection,
    ctx: &FestivalCtx,
    event: Option<&OpId>,
    creator: Option<&PublicKey>,
) -> Result<(), StoreError> {
    if let Some(id) = event {
        conn.prepare_cached(&format!(
            "UPDATE events SET {HIDDEN} WHERE id = :id AND festival = (SELECT n FROM keys WHERE key = :festival)"
        ))?
        .execute(named_params! {":id": &id.0[..], ":festival": &ctx.id.0[..]})?;
    }
    if let Some(c) = creator {
        conn.prepare_cached(&format!(
            "UPDATE events SET {HIDDEN}
             WHERE festival = (SELECT n FROM keys WHERE key = :festival) AND creator = :creator"
        ))?
        .execute(named_params! {":festival": &ctx.id.0[..], ":creator": &c.0[..]})?;
    }
    Ok(())
}

/// Whether a community event creation is past its author's caps: per day of its start, and in
/// all. Creations count in the author's log order, so every device counts the same ones.
pub(super) fn over_community_cap(conn: &Connection, ctx: &mut FestivalCtx, op: &Op) -> Result<bool, StoreError> {
    let Some(day) = cap_day(op) else { return Ok(false) };
    // Only the author's earlier community creations count: a revoked organiser's official ones
    // (up to their cut) do not.
    let floor = match ctx.roles.members.get(&op.author()) {
        Some(crate::model::MemberStatus::Revoked { after_seq: Some(s) }) => *s as i64,
        _ => -1,
    };
    let (day_key, all_key) = ((op.author(), Some(day)), (op.author(), None));
    let counted = match (ctx.cap_counts.get(&day_key).copied(), ctx.cap_counts.get(&all_key).copied()) {
        (Some(d), Some(a)) => (d, a),
        // Both counts in one pass over the author's creations (the index holds their days); a
        // count this batch keeps already stands.
        (d, a) => {
            let (day_n, all_n): (i64, i64) = conn
                .prepare_cached(
                    "SELECT COALESCE(SUM(cap_day = ?3), 0), COUNT(*) FROM ops
                     WHERE festival = (SELECT n FROM keys WHERE key = ?1)
                     AND author = (SELECT n FROM keys WHERE key = ?2)
                     AND cap_day IS NOT NULL AND seq < ?4 AND seq > ?5",
                )?
                .query_row(params![&ctx.id.0[..], &op.author().0[..], day, op.seq() as i64, floor], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            (d.unwrap_or(day_n as u64), a.unwrap_or(all_n as u64))
        }
    };
    // Creations are applied in log order, so this one counts for every later one.
    ctx.cap_counts.insert(day_key, counted.0 + 1);
    ctx.cap_counts.insert(all_key, counted.1 + 1);
    let over = counted.0 >= COMMUNITY_EVENTS_PER_AUTHOR_PER_DAY || counted.1 >= COMMUNITY_EVENTS_PER_AUTHOR;
    Ok(over)
}
