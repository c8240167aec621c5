//! Materialization: applies validated ops to the programme tables through the pure rules in
//! [`crate::model`]. Applying is idempotent and commutative per entity (per-field LWW, monotonic
//! deletes), so the incremental path and a full rebuild reach the same state.

mod moderation;
mod rows;

use moderation::*;
use rows::*;
pub(crate) use rows::{EventRow, LinkJson, load_event, load_festival, split_list};
use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, summary};
use crate::identity::PublicKey;
use crate::model::{
    COMMUNITY_EVENTS_PER_AUTHOR, COMMUNITY_EVENTS_PER_AUTHOR_PER_DAY, EventState, FestivalFields, FestivalState,
    FieldStamps, ProfileState, RoleOp, Roles, Stamp, VenueState, festival_day, may_edit,
};
use crate::op::{Body, CommunityMode, FestivalId, GeoPoint, HideTarget, Link, Moderation as ModerationRule, Op, OpId};

/// What the fold knows about one festival while a batch is applied.
#[derive(Debug)]
pub(crate) struct FestivalCtx {
    pub id: FestivalId,
    pub roles: Roles,
    pub state: Option<FestivalState>,
    pub tz: TimeZone,
    /// Lowest equivocating sequence number per flagged author.
    pub forks: HashMap<PublicKey, u64>,
    /// The device's "seen" mark, for remembering where a moved event was.
    pub seen: i64,
    /// Set when something changed that every op's effect may depend on.
    pub rebuild: bool,
    /// Whether any hide op took effect, so new events need their hidden flag computed.
    pub has_hides: bool,
    /// Whether some edit is waiting for the entity it names.
    pub has_orphans: bool,
    /// Community event creations counted so far per (author, UTC day) and per author (`None`),
    /// for the caps.
    pub cap_counts: HashMap<(PublicKey, Option<i64>), u64>,
}

impl FestivalCtx {
    pub fn load(conn: &Connection, id: FestivalId) -> Result<Self, StoreError> {
        let state = load_festival(conn, &id)?;
        let owner: Option<PublicKey> = conn
            .prepare_cached("SELECT owner FROM festivals WHERE id = ?")?
            .query_row([&id.0[..]], |r| r.get::<_, Vec<u8>>(0))
            .optional()?
            .and_then(|b| b.try_into().ok().map(PublicKey));
        let mut roles = Roles { owner, members: Default::default() };
        let mut stmt = conn.prepare_cached("SELECT member, organiser, after_seq FROM roles WHERE festival = ?")?;
        let rows = stmt.query_map([&id.0[..]], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, bool>(1)?, r.get::<_, Option<i64>>(2)?))
        })?;
        for row in rows {
            let (m, organiser, after) = row?;
            let Ok(m) = m.try_into() else { continue };
            let status = if organiser {
                crate::model::MemberStatus::Organiser
            } else {
                crate::model::MemberStatus::Revoked { after_seq: after.map(|a| a as u64) }
            };
            roles.members.insert(PublicKey(m), status);
        }
        let forks = load_forks(conn, &id)?;
        let seen = conn
            .prepare_cached("SELECT rev FROM seen WHERE festival = ?")?
            .query_row([&id.0[..]], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let tz = state.as_ref().map(|s| s.tz()).unwrap_or(TimeZone::UTC);
        let has_orphans = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM orphans WHERE festival = ?)")?
            .query_row([&id.0[..]], |r| r.get(0))?;
        let has_hides = conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM hides WHERE festival = ?1)
                 OR EXISTS (SELECT 1 FROM festivals WHERE id = ?1 AND community = 1)",
            )?
            .query_row([&id.0[..]], |r| r.get(0))?;
        Ok(FestivalCtx {
            id,
            roles,
            state,
            tz,
            forks,
            seen,
            rebuild: false,
            has_hides,
            has_orphans,
            cap_counts: HashMap::new(),
        })
    }

    fn day_of(&self, t: i64) -> Date {
        let dc = self.state.as_ref().map(|s| s.fields.day_change_minutes).unwrap_or(0);
        festival_day(&self.tz, dc, t)
    }

    /// Whether an op is cut off by its author's equivocation.
    pub fn excluded(&self, op: &Op) -> bool {
        self.forks.get(&op.author()).is_some_and(|&s| op.seq() >= s)
    }
}

pub(crate) fn load_forks(conn: &Connection, id: &FestivalId) -> Result<HashMap<PublicKey, u64>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT author, MIN(seq) FROM forks WHERE festival = ? GROUP BY author")?;
    let rows = stmt.query_map([&id.0[..]], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = HashMap::new();
    for row in rows {
        let (a, s) = row?;
        if let Ok(a) = a.try_into() {
            out.insert(PublicKey(a), s as u64);
        }
    }
    Ok(out)
}

fn blob_id(b: Option<Vec<u8>>) -> Option<OpId> {
    b.and_then(|b| b.try_into().ok()).map(OpId)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

/// The UTC day an event-creation op is counted under for the community cap.
pub(crate) fn cap_day(op: &Op) -> Option<i64> {
    match op.body() {
        Body::Event { target: None, patch } => patch.start.map(|s| s.div_euclid(86_400)),
        _ => None,
    }
}

/// Recomputes roles from the stored creation and role ops; returns whether they changed.
pub(crate) fn refresh_roles(conn: &Connection, ctx: &mut FestivalCtx) -> Result<bool, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT bytes FROM ops WHERE festival = (SELECT n FROM keys WHERE key = ?) AND kind IN (1, 7, 8)",
    )?;
    let rows = stmt.query_map([&ctx.id.0[..]], |r| r.get::<_, Vec<u8>>(0))?;
    let mut owner = None;
    let mut role_ops = Vec::new();
    for bytes in rows {
        let op = Op::decode(&bytes?).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))?;
        if ctx.excluded(&op) {
            continue;
        }
        match op.body() {
            Body::FestivalCreate(_) => owner = Some(op.author()),
            Body::RoleGrant { member, .. } => role_ops.push(RoleOp {
                stamp: Stamp::of(&op),
                id: op.id(),
                issuer: op.author(),
                seq: op.seq(),
                member: *member,
                revoke: None,
            }),
            Body::RoleRevoke { member, after_seq, .. } => role_ops.push(RoleOp {
                stamp: Stamp::of(&op),
                id: op.id(),
                issuer: op.author(),
                seq: op.seq(),
                member: *member,
                revoke: Some(*after_seq),
            }),
            _ => {}
        }
    }
    let roles = Roles::compute(owner, role_ops);
    if roles == ctx.roles {
        return Ok(false);
    }
    conn.prepare_cached("DELETE FROM roles WHERE festival = ?")?.execute([&ctx.id.0[..]])?;
    let mut ins =
        conn.prepare_cached("INSERT INTO roles (festival, member, organiser, after_seq) VALUES (?, ?, ?, ?)")?;
    for (m, s) in &roles.members {
        let (org, after) = match s {
            crate::model::MemberStatus::Organiser => (true, None),
            crate::model::MemberStatus::Revoked { after_seq } => (false, after_seq.map(|a| a as i64)),
        };
        ins.execute(params![&ctx.id.0[..], &m.0[..], org, after])?;
    }
    ctx.roles = roles;
    Ok(true)
}

/// Applies one stored op to the programme tables. Safe to call more than once for the same op.
pub(crate) fn apply(conn: &Connection, ctx: &mut FestivalCtx, op: &Op, rev: i64) -> Result<(), StoreError> {
    if ctx.excluded(op) {
        return Ok(());
    }
    let stamp = Stamp::of(op);
    let author = op.author();
    match op.body() {
        Body::FestivalCreate(c) => {
            let mut state = ctx.state.clone().unwrap_or_else(FestivalState::empty);
            state.apply(stamp, &c.fields);
            save_festival(conn, &ctx.id, &author, &state)?;
            if let Some(f) = &c.forked_from {
                conn.prepare_cached("UPDATE festivals SET forked_from = ?, forked_from_op = ? WHERE id = ?")?
                    .execute(params![&f.festival.0[..], &f.op.0[..], &ctx.id.0[..]])?;
            }
            ctx.tz = state.tz();
            ctx.state = Some(state);
        }
        Body::FestivalEdit(p) => {
            let (Some(owner), Some(state)) = (ctx.roles.owner, ctx.state.as_mut()) else {
                return Ok(());
            };
            if !ctx.roles.is_official(&author, op.seq()) {
                return Ok(());
            }
            let before = (state.fields.timezone.clone(), state.fields.day_change_minutes);
            if state.apply(stamp, p) {
                save_festival(conn, &ctx.id, &owner, state)?;
                if before != (state.fields.timezone.clone(), state.fields.day_change_minutes) {
                    // Every event's festival day may move.
                    ctx.tz = state.tz();
                    ctx.rebuild = true;
                }
            }
        }
        Body::Venue { target: None, patch } => {
            let id = op.id();
            let mut row = match load_venue(conn, &ctx.id, &id)? {
                Some(r) => r,
                None => VenueRow {
                    state: VenueState::default(),
                    creator: author,
                    official: ctx.roles.is_official(&author, op.seq()),
                    deleted: false,
                },
            };
            row.state.apply(stamp, patch);
            save_venue(conn, &ctx.id, &id, &row)?;
            replay_targets(conn, ctx, &id, rev)?;
        }
        Body::Venue { target: Some(t), patch } => {
            let Some(mut row) = load_venue(conn, &ctx.id, t)? else { return orphan(conn, ctx, op, t) };
            if may_edit(&ctx.roles, &row.creator, &author, op.seq()) && row.state.apply(stamp, patch) {
                save_venue(conn, &ctx.id, t, &row)?;
            }
        }
        Body::Event { target: None, patch } => {
            let id = op.id();
            let official = ctx.roles.is_official(&author, op.seq());
            if !official && over_community_cap(conn, ctx, op)? {
                return Ok(());
            }
            // Each creation op is applied once per (re)build, so the row cannot exist yet.
            let mut row = EventRow {
                state: EventState::default(),
                creator: author,
                official,
                deleted: false,
                created_rev: rev,
                updated_rev: rev,
                moved_rev: 0,
                cancelled_rev: 0,
                prev: None,
                origin: (0, 0, None),
            };
            row.state.apply(stamp, patch);
            row.origin = (row.state.start, row.state.effective_end(), row.state.venue);
            insert_event(conn, ctx, &id, &row)?;
            if ctx.has_hides {
                refresh_hidden(conn, ctx, Some(&id), None)?;
            }
            replay_targets(conn, ctx, &id, rev)?;
        }
        Body::Event { target: Some(t), patch } => {
            let Some(mut row) = load_event(conn, &ctx.id, t)? else { return orphan(conn, ctx, op, t) };
            if !may_edit(&ctx.roles, &row.creator, &author, op.seq()) {
                return Ok(());
            }
            let before = (row.state.start, row.state.end, row.state.venue);
            let change = row.state.apply(stamp, patch);
            if change.any {
                row.updated_rev = rev;
                if change.moved {
                    // Remember where it was when the user last looked, not where it was a minute ago.
                    if row.moved_rev <= ctx.seen || row.prev.is_none() {
                        row.prev = Some(before);
                    }
                    row.moved_rev = rev;
                }
                if change.cancellation {
                    row.cancelled_rev = rev;
                }
            }
            if change.won {
                update_event(conn, ctx, t, &row, change.text)?;
            }
        }
        Body::Delete { target } => delete_entity(conn, ctx, op, target)?,
        Body::Announcement(a) => {
            if ctx.roles.is_official(&author, op.seq()) {
                conn.prepare_cached(
                    "INSERT INTO announcements (id, festival, author, text, priority, expires, lamport, wall_time_ms, rev)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![
                    &op.id().0[..],
                    &ctx.id.0[..],
                    &author.0[..],
                    a.text,
                    a.priority as i64,
                    a.expires,
                    op.lamport() as i64,
                    op.header().wall_time_ms as i64,
                    rev,
                ])?;
                replay_targets(conn, ctx, &op.id(), rev)?;
            }
        }
        // Roles are recomputed when a role op is stored (and once at the start of a rebuild),
        // not per op applied: a rebuild would otherwise recompute them once per role op.
        Body::RoleGrant { .. } | Body::RoleRevoke { .. } => {}
        Body::Profile(p) => {
            let row = conn
                .prepare_cached("SELECT display_name, about, stamps FROM profiles WHERE festival = ? AND author = ?")?
                .query_row([&ctx.id.0[..], &author.0[..]], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Vec<u8>>(2)?))
                })
                .optional()?;
            let mut state = match row {
                Some((display_name, about, stamps)) => ProfileState {
                    display_name,
                    about,
                    stamps: FieldStamps::decode(&stamps).ok_or_else(|| corrupt("profile stamps"))?,
                },
                None => ProfileState::default(),
            };
            let before = state.stamps.clone();
            state.stamps.merge(0, stamp, &p.display_name, &mut state.display_name);
            state.stamps.merge(1, stamp, &p.about, &mut state.about);
            let changed = state.stamps != before;
            if changed {
                conn.prepare_cached(
                    "INSERT INTO profiles (festival, author, display_name, about, stamps) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (festival, author) DO UPDATE SET display_name = ?3, about = ?4, stamps = ?5",
                )?
                .execute(params![
                    &ctx.id.0[..],
                    &author.0[..],
                    state.display_name,
                    state.about,
                    state.stamps.encode()
                ])?;
            }
        }
        Body::Hide { target, hidden } => {
            if !ctx.roles.is_official(&author, op.seq()) {
                return Ok(());
            }
            let key: &[u8] = match target {
                HideTarget::Entity(id) => &id.0,
                HideTarget::Author(k) => &k.0,
            };
            let current = conn
                .prepare_cached("SELECT lamport, author FROM hides WHERE festival = ? AND target = ?")?
                .query_row([&ctx.id.0[..], key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
                .optional()?;
            let wins = match current {
                None => true,
                Some((l, a)) => {
                    let a = PublicKey(a.try_into().map_err(|_| corrupt("hide author"))?);
                    stamp > Stamp { lamport: l as u64, author: a }
                }
            };
            if wins {
                ctx.has_hides = true;
                conn.prepare_cached(
                    "INSERT INTO hides (festival, target, hidden, lamport, author) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (festival, target) DO UPDATE SET hidden = ?3, lamport = ?4, author = ?5",
                )?
                .execute(params![&ctx.id.0[..], key, hidden, op.lamport() as i64, &author.0[..]])?;
                match target {
                    HideTarget::Entity(id) => refresh_hidden(conn, ctx, Some(id), None)?,
                    HideTarget::Author(k) => refresh_hidden(conn, ctx, None, Some(k))?,
                }
            }
        }
        Body::Moderation(m) => {
            if ctx.roles.is_official(&author, op.seq()) {
                apply_moderation(conn, ctx, stamp, m)?;
            }
        }
        Body::Crew(_) | Body::Unknown { .. } => {}
    }
    Ok(())
}

fn delete_entity(conn: &Connection, ctx: &mut FestivalCtx, op: &Op, target: &OpId) -> Result<(), StoreError> {
    let author = op.author();
    if let Some(mut row) = load_event(conn, &ctx.id, target)? {
        if !row.deleted && may_edit(&ctx.roles, &row.creator, &author, op.seq()) {
            row.deleted = true;
            update_event(conn, ctx, target, &row, false)?;
        }
        return Ok(());
    }
    if let Some(mut row) = load_venue(conn, &ctx.id, target)? {
        if !row.deleted && may_edit(&ctx.roles, &row.creator, &author, op.seq()) {
            row.deleted = true;
            save_venue(conn, &ctx.id, target, &row)?;
        }
        return Ok(());
    }
    let ann_author = conn
        .prepare_cached("SELECT author FROM announcements WHERE id = ? AND festival = ?")?
        .query_row([&target.0[..], &ctx.id.0[..]], |r| r.get::<_, Vec<u8>>(0))
        .optional()?;
    match ann_author {
        Some(a) => {
            let creator = PublicKey(a.try_into().map_err(|_| corrupt("announcement author"))?);
            if may_edit(&ctx.roles, &creator, &author, op.seq()) {
                conn.prepare_cached("UPDATE announcements SET deleted = 1 WHERE id = ? AND festival = ?")?
                    .execute([&target.0[..], &ctx.id.0[..]])?;
            }
            Ok(())
        }
        None => orphan(conn, ctx, op, target),
    }
}

/// Remembers an edit or delete whose entity is not here (yet).
fn orphan(conn: &Connection, ctx: &mut FestivalCtx, op: &Op, target: &OpId) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT OR IGNORE INTO orphans (target, op, festival) VALUES (?, ?, ?)")?.execute([
        &target.0[..],
        &op.id().0[..],
        &ctx.id.0[..],
    ])?;
    ctx.has_orphans = true;
    Ok(())
}

/// Applies stored edits and deletes that arrived before the entity they name.
fn replay_targets(conn: &Connection, ctx: &mut FestivalCtx, id: &OpId, rev: i64) -> Result<(), StoreError> {
    if !ctx.has_orphans {
        return Ok(());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT ops.bytes FROM orphans JOIN ops ON ops.id = orphans.op JOIN keys a ON a.n = ops.author
         WHERE orphans.target = ?1 AND orphans.festival = ?2 ORDER BY ops.lamport, a.key",
    )?;
    let ops: Vec<Vec<u8>> = stmt.query_map([&id.0[..], &ctx.id.0[..]], |r| r.get(0))?.collect::<Result<_, _>>()?;
    drop(stmt);
    if ops.is_empty() {
        return Ok(());
    }
    conn.prepare_cached("DELETE FROM orphans WHERE target = ? AND festival = ?")?
        .execute([&id.0[..], &ctx.id.0[..]])?;
    for bytes in ops {
        let op = Op::decode(&bytes).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))?;
        if op.festival() == ctx.id && op.body().target() == Some(*id) {
            apply(conn, ctx, &op, rev)?;
        }
    }
    Ok(())
}

/// Re-derives a festival's whole programme from its ops, keeping each event's change history
/// (what was new, moved or cancelled since the device last looked) where the content agrees.
pub(crate) fn rebuild(conn: &Connection, ctx: &mut FestivalCtx, rev: i64) -> Result<(), StoreError> {
    tracing::debug!(festival = %ctx.id.short(), "rebuilding materialized state");
    let fid = ctx.id;
    let f = &fid.0[..];
    let mut old_events: HashMap<OpId, EventRow> = HashMap::new();
    {
        let mut stmt =
            conn.prepare_cached("SELECT id FROM events WHERE festival = (SELECT n FROM keys WHERE key = ?)")?;
        let ids: Vec<Vec<u8>> = stmt.query_map([f], |r| r.get(0))?.collect::<Result<_, _>>()?;
        for id in ids.into_iter().filter_map(|b| blob_id(Some(b))) {
            if let Some(row) = load_event(conn, &fid, &id)? {
                old_events.insert(id, row);
            }
        }
    }
    let old_announcements: HashMap<Vec<u8>, i64> = conn
        .prepare_cached("SELECT id, rev FROM announcements WHERE festival = ?")?
        .query_map([f], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for table in ["festivals", "venues", "events", "announcements", "profiles", "hides", "orphans", "approvals"] {
        let cond = match table {
            "festivals" => "id = ?",
            "events" => "festival = (SELECT n FROM keys WHERE key = ?)",
            _ => "festival = ?",
        };
        conn.execute(&format!("DELETE FROM {table} WHERE {cond}"), [f])?;
    }
    ctx.state = None;
    ctx.has_hides = false;
    ctx.has_orphans = false;
    ctx.cap_counts.clear();
    ctx.tz = TimeZone::UTC;
    ctx.forks = load_forks(conn, &ctx.id)?;
    ctx.roles = Roles::default();
    refresh_roles(conn, ctx)?;
    {
        let mut stmt = conn.prepare_cached(
            "SELECT o.bytes FROM ops o JOIN keys a ON a.n = o.author
             WHERE o.festival = (SELECT n FROM keys WHERE key = ?) ORDER BY o.lamport, a.key, o.id",
        )?;
        let mut rows = stmt.query([f])?;
        // Festival creation first so that days are computed in the right time zone.
        let mut ops = Vec::new();
        while let Some(row) = rows.next()? {
            let bytes: Vec<u8> = row.get(0)?;
            ops.push(Op::decode(&bytes).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))?);
        }
        drop(rows);
        drop(stmt);
        ops.sort_by_key(|o| !matches!(o.body(), Body::FestivalCreate(_) | Body::FestivalEdit(_)));
        for op in &ops {
            apply(conn, ctx, op, rev)?;
        }
    }
    // Keep the history of everything that did not really change.
    for (id, old) in old_events {
        let Some(mut row) = load_event(conn, &fid, &id)? else { continue };
        let s = &row.state;
        let moved = (s.start, s.end, s.venue) != (old.state.start, old.state.end, old.state.venue);
        let cancellation = s.cancelled != old.state.cancelled;
        let mut same = s.clone();
        same.stamps = old.state.stamps.clone();
        row.created_rev = old.created_rev;
        row.updated_rev = if same == old.state && row.deleted == old.deleted { old.updated_rev } else { rev };
        row.moved_rev = if moved { rev } else { old.moved_rev };
        row.prev = if moved && old.moved_rev <= ctx.seen {
            Some((old.state.start, old.state.end, old.state.venue))
        } else {
            old.prev
        };
        row.cancelled_rev = if cancellation { rev } else { old.cancelled_rev };
        update_event(conn, ctx, &id, &row, false)?;
    }
    let mut fix = conn.prepare_cached("UPDATE announcements SET rev = ? WHERE id = ?")?;
    for (id, r) in old_announcements {
        fix.execute(params![r, id])?;
    }
    ctx.rebuild = false;
    Ok(())
}
