//! Row mapping: programme entities read from and written to their tables.

use super::*;

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
        fields: FestivalFields {
            name,
            description,
            timezone,
            start_date: sd.parse().map_err(|_| corrupt("festival start date"))?,
            end_date: ed.parse().map_err(|_| corrupt("festival end date"))?,
            place,
            day_change_minutes: dc as u16,
        },
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
    /// Start, end and venue as the creating op set them.
    pub origin: (i64, i64, Option<OpId>),
}

impl EventRow {
    /// Whether the event has moved from where and when it was first announced: another start
    /// or end, or another venue (or none) where it had one. Being given a first venue is no move.
    /// A function of the state and the creating op only, so every peer with the same ops agrees.
    pub fn moved(&self) -> bool {
        let s = &self.state;
        let (start, end, venue) = self.origin;
        s.start != start || s.effective_end() != end || (venue.is_some() && s.venue != venue)
    }
}

/// The event `id` of `festival`. An id names an entity of one festival only: an op of another
/// festival that names it finds nothing here.
pub(crate) fn load_event(conn: &Connection, festival: &FestivalId, id: &OpId) -> Result<Option<EventRow>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT creator, official, title, subtitle, description, start, end, venue, track, kind,
                    tags, people, language, links, cancelled, source_id, deleted, stamps,
                    created_rev, updated_rev, moved_rev, cancelled_rev, prev_start, prev_end, prev_venue,
                    orig_start, orig_end, orig_venue, url, source_number, do_not_record, recording_license
             FROM events WHERE id = ? AND festival = (SELECT n FROM keys WHERE key = ?)",
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
                (r.get::<_, i64>(25)?, r.get::<_, i64>(26)?, r.get::<_, Option<Vec<u8>>>(27)?),
                (r.get::<_, String>(28)?, r.get::<_, Option<u32>>(29)?, r.get::<_, bool>(30)?, r.get::<_, String>(31)?),
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
        origin,
        recording,
    )) = row
    else {
        return Ok(None);
    };
    let (tags, people, language, links) = lists;
    let (cancelled, source_id, deleted, stamps) = flags;
    let (url, source_number, do_not_record, recording_license) = recording;
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
        url,
        source_number,
        do_not_record,
        recording_license,
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
        origin: (origin.0, origin.1, blob_id(origin.2)),
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

pub(super) fn join_list(v: &[String]) -> String {
    v.join("\u{1f}")
}

/// Splits a tags or people column.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    if s.is_empty() { Vec::new() } else { s.split(LIST_SEP).map(str::to_owned).collect() }
}

/// How an event's summary names its venue: by number when it is a venue this festival holds.
fn summary_venue(conn: &Connection, ctx: &FestivalCtx, venue: Option<OpId>) -> Result<summary::Venue, StoreError> {
    let Some(v) = venue else { return Ok(summary::Venue::None) };
    let n: Option<i64> = conn
        .prepare_cached("SELECT k.n FROM venues v JOIN keys k ON k.key = v.id WHERE v.id = ? AND v.festival = ?")?
        .query_row([&v.0[..], &ctx.id.0[..]], |r| r.get(0))
        .optional()?;
    Ok(n.map_or(summary::Venue::Id(v), summary::Venue::Number))
}

pub(super) fn insert_event(conn: &Connection, ctx: &FestivalCtx, id: &OpId, row: &EventRow) -> Result<(), StoreError> {
    let s = &row.state;
    let day = ctx.day_of(s.start).to_string();
    let venue = summary_venue(conn, ctx, s.venue)?;
    conn.prepare_cached(
        "INSERT INTO events (id, festival, creator, official, title, subtitle, description, start, end,
            day, venue, track, kind, tags, people, language, links, cancelled, source_id, deleted,
            stamps, created_rev, updated_rev, summary, orig_start, orig_end, orig_venue,
            url, source_number, do_not_record, recording_license)
         VALUES (?1, (SELECT n FROM keys WHERE key = ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
            ?16, ?17, ?18, ?19,
            ?20, ?21, ?22, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)",
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
        summary::encode(id, &row.creator, row.official, row.moved(), venue, &day, s),
        row.origin.0,
        row.origin.1,
        row.origin.2.map(|v| v.0.to_vec()),
        s.url,
        s.source_number,
        s.do_not_record,
        s.recording_license,
    ])?;
    Ok(())
}

/// Writes an existing event back. The searchable text columns are written only when they
/// changed, because every write to them re-indexes the event for full-text search.
pub(super) fn update_event(
    conn: &Connection,
    ctx: &FestivalCtx,
    id: &OpId,
    row: &EventRow,
    text_changed: bool,
) -> Result<(), StoreError> {
    let s = &row.state;
    let day = ctx.day_of(s.start).to_string();
    let venue = summary_venue(conn, ctx, s.venue)?;
    let (ps, pe, pv) = match &row.prev {
        Some((a, b, v)) => (Some(*a), Some(*b), v.map(|v| v.0.to_vec())),
        None => (None, None, None),
    };
    conn.prepare_cached(
        "UPDATE events SET official = ?2, start = ?3, end = ?4, day = ?5, venue = ?6, kind = ?7,
            language = ?8, links = ?9, cancelled = ?10, source_id = ?11, deleted = ?12, stamps = ?13,
            created_rev = ?14, updated_rev = ?15, moved_rev = ?16, cancelled_rev = ?17,
            prev_start = ?18, prev_end = ?19, prev_venue = ?20, summary = ?21, url = ?22,
            source_number = ?23, do_not_record = ?24, recording_license = ?25
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
        summary::encode(id, &row.creator, row.official, row.moved(), venue, &day, s),
        s.url,
        s.source_number,
        s.do_not_record,
        s.recording_license,
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

pub(super) struct VenueRow {
    pub(super) state: VenueState,
    pub(super) creator: PublicKey,
    pub(super) official: bool,
    pub(super) deleted: bool,
}

pub(super) fn load_venue(conn: &Connection, festival: &FestivalId, id: &OpId) -> Result<Option<VenueRow>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT creator, official, name, description, lat, lon, source_id, deleted, stamps, position
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
                r.get::<_, Option<u32>>(9)?,
            ))
        })
        .optional()?;
    let Some((creator, official, name, description, lat, lon, source_id, deleted, stamps, position)) = row else {
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
            position,
            stamps: FieldStamps::decode(&stamps).ok_or_else(|| corrupt("venue stamps"))?,
        },
        creator: PublicKey(creator.try_into().map_err(|_| corrupt("venue creator"))?),
        official,
        deleted,
    }))
}

pub(super) fn save_venue(conn: &Connection, festival: &FestivalId, id: &OpId, v: &VenueRow) -> Result<(), StoreError> {
    // Numbered, so that the summaries of its events name it in a byte or two.
    conn.prepare_cached("INSERT OR IGNORE INTO keys (key) VALUES (?)")?.execute([&id.0[..]])?;
    conn.prepare_cached(
        "INSERT INTO venues (id, festival, creator, official, name, description, lat, lon, source_id, deleted, stamps,
            position)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (id) DO UPDATE SET official = ?4, name = ?5, description = ?6, lat = ?7,
            lon = ?8, source_id = ?9, deleted = ?10, stamps = ?11, position = ?12",
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
        v.state.position,
    ])?;
    Ok(())
}

pub(super) fn save_festival(
    conn: &Connection,
    id: &FestivalId,
    owner: &PublicKey,
    state: &FestivalState,
) -> Result<(), StoreError> {
    let s = &state.fields;
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
        state.stamps.encode(),
    ])?;
    Ok(())
}
