//! Materialization: applies validated ops to the programme tables through the pure rules in
//! [`crate::model`]. Applying is idempotent and commutative per entity (per-field LWW, monotonic
//! deletes), so the incremental path and a full rebuild reach the same state.

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, summary};
use crate::identity::PublicKey;
use crate::model::{
    COMMUNITY_EVENTS_PER_AUTHOR, COMMUNITY_EVENTS_PER_AUTHOR_PER_DAY, EventState, FestivalState, FieldStamps,
    ProfileState, RoleOp, Roles, Stamp, VenueState, festival_day, may_edit,
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
        let dc = self.state.as_ref().map(|s| s.day_change_minutes).unwrap_or(0);
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

pub(crate) fn load_festival(conn: &Connection, id: &FestivalId) -> Result<Option<FestivalState>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT name, description, timezone, start_date, end_date, place, day_change, stamps
             FROM festivals WHERE id = ?",
        )?
        .query_row([&id.0[..]], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Vec<u8>>(7)?,
            ))
        })
        .optional()?;
    let Some((name, description, timezone, sd, ed, place, dc, stamps)) = row else {
        return Ok(None);
    };
    Ok(Some(FestivalState {
        name,
        description,
        timezone,
        start_date: sd.parse().map_err(|_| corrupt("festival start date"))?,
        end_date: ed.parse().map_err(|_| corrupt("festival end date"))?,
        place,
        day_change_minutes: dc as u16,
        stamps: FieldStamps::decode(&stamps).ok_or_else(|| corrupt("festival stamps"))?,
    }))
}

/// An event row with the bookkeeping around its state.
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    pub state: EventState,
    pub creator: PublicKey,
    pub official: bool,
    pub deleted: bool,
    pub created_rev: i64,
    pub updated_rev: i64,
    pub moved_rev: i64,
    pub cancelled_rev: i64,
    pub prev: Option<(i64, i64, Option<OpId>)>,
}

/// The event `id` of `festival`. An id names an entity of one festival only: an op of another
/// festival that names it finds nothing here.
pub(crate) fn load_event(conn: &Connection, festival: &FestivalId, id: &OpId) -> Result<Option<EventRow>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT creator, official, title, subtitle, description, start, end, venue, track, kind,
                    tags, people, language, links, cancelled, source_id, deleted, stamps,
                    created_rev, updated_rev, moved_rev, cancelled_rev, prev_start, prev_end, prev_venue
             FROM events WHERE id = ? AND festival = ?",
        )?
        .query_row([&id.0[..], &festival.0[..]], |r| {
            Ok((
                (r.get::<_, Vec<u8>>(0)?, r.get::<_, bool>(1)?),
                (r.get::<_, String>(2)?, r.get::<_, String>(3)?, r.get::<_, String>(4)?),
                (r.get::<_, i64>(5)?, r.get::<_, i64>(6)?, r.get::<_, Option<Vec<u8>>>(7)?),
                (r.get::<_, String>(8)?, r.get::<_, String>(9)?),
                (r.get::<_, String>(10)?, r.get::<_, String>(11)?, r.get::<_, String>(12)?, r.get::<_, String>(13)?),
                (r.get::<_, bool>(14)?, r.get::<_, String>(15)?, r.get::<_, bool>(16)?, r.get::<_, Vec<u8>>(17)?),
                (r.get::<_, i64>(18)?, r.get::<_, i64>(19)?, r.get::<_, i64>(20)?, r.get::<_, i64>(21)?),
                (r.get::<_, Option<i64>>(22)?, r.get::<_, Option<i64>>(23)?, r.get::<_, Option<Vec<u8>>>(24)?),
            ))
        })
        .optional()?;
    let Some((
        (creator, official),
        (title, subtitle, description),
        (start, end, venue),
        (track, kind),
        lists,
        flags,
        revs,
        prev,
    )) = row
    else {
        return Ok(None);
    };
    let (tags, people, language, links) = lists;
    let (cancelled, source_id, deleted, stamps) = flags;
    let links: Vec<LinkJson> = serde_json::from_str(&links).map_err(|_| corrupt("event links"))?;
    let state = EventState {
        title,
        subtitle,
        description,
        start,
        end,
        venue: blob_id(venue),
        track,
        kind,
        tags: split_list(&tags),
        people: split_list(&people),
        language,
        links: links.into_iter().map(|l| Link { url: l.url, title: l.title }).collect(),
        cancelled,
        source_id,
        stamps: FieldStamps::decode(&stamps).ok_or_else(|| corrupt("event stamps"))?,
    };
    Ok(Some(EventRow {
        state,
        creator: PublicKey(creator.try_into().map_err(|_| corrupt("event creator"))?),
        official,
        deleted,
        created_rev: revs.0,
        updated_rev: revs.1,
        moved_rev: revs.2,
        cancelled_rev: revs.3,
        prev: match prev {
            (Some(s), Some(e), v) => Some((s, e, blob_id(v))),
            _ => None,
        },
    }))
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct LinkJson {
    pub url: String,
    pub title: String,
}

pub(crate) fn links_json(links: &[Link]) -> String {
    let v: Vec<LinkJson> = links.iter().map(|l| LinkJson { url: l.url.clone(), title: l.title.clone() }).collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

/// Separator of list items in the tags and people columns: a control character, which the
/// schema forbids inside items, and which full-text search treats as a word break.
pub(crate) const LIST_SEP: char = '\u{1f}';

fn join_list(v: &[String]) -> String {
    v.join("\u{1f}")
}

/// Splits a tags or people column.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    if s.is_empty() { Vec::new() } else { s.split(LIST_SEP).map(str::to_owned).collect() }
}

fn insert_event(conn: &Connection, ctx: &FestivalCtx, id: &OpId, row: &EventRow) -> Result<(), StoreError> {
    let s = &row.state;
    let day = ctx.day_of(s.start).to_string();
    conn.prepare_cached(
        "INSERT INTO events (id, festival, creator, official, title, subtitle, description, start, end,
            day, venue, track, kind, tags, people, language, links, cancelled, source_id, deleted,
            stamps, created_rev, updated_rev, summary)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
            ?20, ?21, ?22, ?22, ?23)",
    )?
    .execute(params![
        &id.0[..],
        &ctx.id.0[..],
        &row.creator.0[..],
        row.official,
        s.title,
        s.subtitle,
        s.description,
        s.start,
        s.end,
        day,
        s.venue.map(|v| v.0.to_vec()),
        s.track,
        s.kind,
        join_list(&s.tags),
        join_list(&s.people),
        s.language,
        links_json(&s.links),
        s.cancelled,
        s.source_id,
        row.deleted,
        s.stamps.encode(),
        row.created_rev,
        summary::encode(id, &row.creator, row.official, &day, s),
    ])?;
    Ok(())
}

/// Writes an existing event back. The searchable text columns are written only when they
/// changed, because every write to them re-indexes the event for full-text search.
fn update_event(
    conn: &Connection,
    ctx: &FestivalCtx,
    id: &OpId,
    row: &EventRow,
    text_changed: bool,
) -> Result<(), StoreError> {
    let s = &row.state;
    let day = ctx.day_of(s.start).to_string();
    let (ps, pe, pv) = match &row.prev {
        Some((a, b, v)) => (Some(*a), Some(*b), v.map(|v| v.0.to_vec())),
        None => (None, None, None),
    };
    conn.prepare_cached(
        "UPDATE events SET official = ?2, start = ?3, end = ?4, day = ?5, venue = ?6, kind = ?7,
            language = ?8, links = ?9, cancelled = ?10, source_id = ?11, deleted = ?12, stamps = ?13,
            created_rev = ?14, updated_rev = ?15, moved_rev = ?16, cancelled_rev = ?17,
            prev_start = ?18, prev_end = ?19, prev_venue = ?20, summary = ?21
         WHERE id = ?1",
    )?
    .execute(params![
        &id.0[..],
        row.official,
        s.start,
        s.end,
        day,
        s.venue.map(|v| v.0.to_vec()),
        s.kind,
        s.language,
        links_json(&s.links),
        s.cancelled,
        s.source_id,
        row.deleted,
        s.stamps.encode(),
        row.created_rev,
        row.updated_rev,
        row.moved_rev,
        row.cancelled_rev,
        ps,
        pe,
        pv,
        summary::encode(id, &row.creator, row.official, &day, s),
    ])?;
    if text_changed {
        conn.prepare_cached(
            "UPDATE events SET title = ?2, subtitle = ?3, description = ?4, track = ?5, tags = ?6, people = ?7
             WHERE id = ?1",
        )?
        .execute(params![
            &id.0[..],
            s.title,
            s.subtitle,
            s.description,
            s.track,
            join_list(&s.tags),
            join_list(&s.people)
        ])?;
    }
    Ok(())
}

struct VenueRow {
    state: VenueState,
    creator: PublicKey,
    official: bool,
    deleted: bool,
}

fn load_venue(conn: &Connection, festival: &FestivalId, id: &OpId) -> Result<Option<VenueRow>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT creator, official, name, description, lat, lon, source_id, deleted, stamps
             FROM venues WHERE id = ? AND festival = ?",
        )?
        .query_row([&id.0[..], &festival.0[..]], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i32>>(4)?,
                r.get::<_, Option<i32>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, bool>(7)?,
                r.get::<_, Vec<u8>>(8)?,
            ))
        })
        .optional()?;
    let Some((creator, official, name, description, lat, lon, source_id, deleted, stamps)) = row else {
        return Ok(None);
    };
    Ok(Some(VenueRow {
        state: VenueState {
            name,
            description,
            location: match (lat, lon) {
                (Some(lat_e7), Some(lon_e7)) => Some(GeoPoint { lat_e7, lon_e7 }),
                _ => None,
            },
            source_id,
            stamps: FieldStamps::decode(&stamps).ok_or_else(|| corrupt("venue stamps"))?,
        },
        creator: PublicKey(creator.try_into().map_err(|_| corrupt("venue creator"))?),
        official,
        deleted,
    }))
}

fn save_venue(conn: &Connection, festival: &FestivalId, id: &OpId, v: &VenueRow) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO venues (id, festival, creator, official, name, description, lat, lon, source_id, deleted, stamps)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET official = ?4, name = ?5, description = ?6, lat = ?7,
            lon = ?8, source_id = ?9, deleted = ?10, stamps = ?11",
    )?
    .execute(params![
        &id.0[..],
        &festival.0[..],
        &v.creator.0[..],
        v.official,
        v.state.name,
        v.state.description,
        v.state.location.map(|p| p.lat_e7),
        v.state.location.map(|p| p.lon_e7),
        v.state.source_id,
        v.deleted,
        v.state.stamps.encode(),
    ])?;
    Ok(())
}

fn save_festival(conn: &Connection, id: &FestivalId, owner: &PublicKey, s: &FestivalState) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO festivals (id, owner, name, description, timezone, start_date, end_date, place, day_change, stamps)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET name = ?3, description = ?4, timezone = ?5,
            start_date = ?6, end_date = ?7, place = ?8, day_change = ?9, stamps = ?10",
    )?
    .execute(params![
        &id.0[..],
        &owner.0[..],
        s.name,
        s.description,
        s.timezone,
        s.start_date.to_string(),
        s.end_date.to_string(),
        s.place,
        s.day_change_minutes,
        s.stamps.encode(),
    ])?;
    Ok(())
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
    let mut stmt = conn.prepare_cached("SELECT bytes FROM ops WHERE festival = ? AND kind IN (1, 7, 8)")?;
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
            let mut state = FestivalState {
                name: String::new(),
                description: String::new(),
                timezone: "UTC".into(),
                start_date: Date::constant(1970, 1, 1),
                end_date: Date::constant(1970, 1, 1),
                place: String::new(),
                day_change_minutes: 0,
                stamps: FieldStamps::default(),
            };
            if let Some(existing) = &ctx.state {
                state = existing.clone();
            }
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
            let before = (state.timezone.clone(), state.day_change_minutes);
            if state.apply(stamp, p) {
                save_festival(conn, &ctx.id, &owner, state)?;
                if before != (state.timezone.clone(), state.day_change_minutes) {
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
            };
            row.state.apply(stamp, patch);
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
        Body::Unknown { .. } => {}
    }
    Ok(())
}

/// The festival's moderation as far as sync and visibility need it.
#[derive(Debug, Default)]
pub(crate) struct Moderation {
    approved_only: bool,
    approved: HashSet<PublicKey>,
    hidden: HashSet<PublicKey>,
}

impl Moderation {
    pub fn load(conn: &Connection, festival: &FestivalId) -> Result<Self, StoreError> {
        let f = &festival.0[..];
        let approved_only = conn
            .prepare_cached("SELECT community FROM festivals WHERE id = ?")?
            .query_row([f], |r| r.get::<_, i64>(0))
            .optional()?
            == Some(CommunityMode::Approved as i64);
        let keys = |sql: &str| -> Result<HashSet<PublicKey>, StoreError> {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map([f], |r| r.get::<_, Vec<u8>>(0))?;
            let mut out = HashSet::new();
            for k in rows {
                if let Ok(k) = k?.try_into() {
                    out.insert(PublicKey(k));
                }
            }
            Ok(out)
        };
        let approved =
            if approved_only { keys("SELECT author FROM approvals WHERE festival = ?")? } else { HashSet::new() };
        let hidden = keys("SELECT target FROM hides WHERE festival = ? AND hidden = 1")?;
        Ok(Moderation { approved_only, approved, hidden })
    }

    /// Whether the festival shows community content by `author` at all.
    pub fn shows(&self, author: &PublicKey) -> bool {
        !self.hidden.contains(author) && (!self.approved_only || self.approved.contains(author))
    }
}

/// Applies an official moderation rule: the community mode is one last-writer-wins field, and
/// approvals only ever add authors (an organiser who changes their mind hides the author).
fn apply_moderation(
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
        conn.prepare_cached(&format!("UPDATE events SET {HIDDEN} WHERE festival = ? AND official = 0"))?
            .execute([f])?;
    } else {
        for k in &m.approve {
            refresh_hidden(conn, ctx, None, Some(k))?;
        }
    }
    Ok(())
}

fn approved_only(conn: &Connection, festival: &FestivalId) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT community FROM festivals WHERE id = ?")?
        .query_row([&festival.0[..]], |r| r.get::<_, i64>(0))
        .optional()?
        == Some(CommunityMode::Approved as i64))
}

/// Whether a community event is hidden for everybody: an organiser hid it or its author, or the
/// festival shows only approved authors and its author is not one. Official events never are.
const HIDDEN: &str = "hidden = (official = 0 AND (
    EXISTS (SELECT 1 FROM hides h WHERE h.festival = events.festival AND h.target = events.id AND h.hidden = 1)
    OR EXISTS (SELECT 1 FROM hides h WHERE h.festival = events.festival AND h.target = events.creator AND h.hidden = 1)
    OR (EXISTS (SELECT 1 FROM festivals f WHERE f.id = events.festival AND f.community = 1)
        AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.festival = events.festival AND a.author = events.creator))))";

/// Hides only ever apply to community content: an official event stays visible.
fn refresh_hidden(
    conn: &Connection,
    ctx: &FestivalCtx,
    event: Option<&OpId>,
    creator: Option<&PublicKey>,
) -> Result<(), StoreError> {
    if let Some(id) = event {
        conn.prepare_cached(&format!("UPDATE events SET {HIDDEN} WHERE id = ? AND festival = ?"))?
            .execute([&id.0[..], &ctx.id.0[..]])?;
    }
    if let Some(c) = creator {
        conn.prepare_cached(&format!("UPDATE events SET {HIDDEN} WHERE festival = ? AND creator = ?"))?
            .execute([&ctx.id.0[..], &c.0[..]])?;
    }
    Ok(())
}

/// Whether a community event creation is past its author's caps: per day of its start, and in
/// all. Creations count in the author's log order, so every device counts the same ones.
fn over_community_cap(conn: &Connection, ctx: &mut FestivalCtx, op: &Op) -> Result<bool, StoreError> {
    let Some(day) = cap_day(op) else { return Ok(false) };
    // Only the author's earlier community creations count: a revoked organiser's official ones
    // (up to their cut) do not.
    let floor = match ctx.roles.members.get(&op.author()) {
        Some(crate::model::MemberStatus::Revoked { after_seq: Some(s) }) => *s as i64,
        _ => -1,
    };
    let mut over = false;
    for (bucket, cap) in [(Some(day), COMMUNITY_EVENTS_PER_AUTHOR_PER_DAY), (None, COMMUNITY_EVENTS_PER_AUTHOR)] {
        let key = (op.author(), bucket);
        let earlier = match ctx.cap_counts.get(&key) {
            Some(n) => *n,
            None => {
                let n: i64 = conn
                    .prepare_cached(
                        "SELECT COUNT(*) FROM ops WHERE festival = ?1 AND author = ?2 AND cap_day IS NOT NULL
                         AND (?3 IS NULL OR cap_day = ?3) AND seq < ?4 AND seq > ?5",
                    )?
                    .query_row(params![&ctx.id.0[..], &op.author().0[..], bucket, op.seq() as i64, floor], |r| {
                        r.get(0)
                    })?;
                n as u64
            }
        };
        // Creations are applied in log order, so this one counts for every later one.
        ctx.cap_counts.insert(key, earlier + 1);
        over |= earlier >= cap;
    }
    Ok(over)
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
        "SELECT ops.bytes FROM orphans JOIN ops ON ops.id = orphans.op
         WHERE orphans.target = ?1 AND orphans.festival = ?2 ORDER BY ops.lamport, ops.author",
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
        let mut stmt = conn.prepare_cached("SELECT id FROM events WHERE festival = ?")?;
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
        let col = if table == "festivals" { "id" } else { "festival" };
        conn.execute(&format!("DELETE FROM {table} WHERE {col} = ?"), [f])?;
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
        let mut stmt = conn.prepare_cached("SELECT bytes FROM ops WHERE festival = ? ORDER BY lamport, author, id")?;
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
