//! Read-side queries over the materialized programme, shaped for the screens that show them.

use rusqlite::{OptionalExtension, Row, params};

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::fold::LinkJson;
use super::summary;
use super::{Store, StoreError};
use crate::identity::PublicKey;
use crate::model::FestivalFields;
use crate::op::{FestivalId, ForkRef, GeoPoint, Link, OpId, Priority};
use crate::view::*;

/// The condition of a programme query: parameters 1 to 4 are the festival, day, venue and track
/// (each `NULL` when the filter does not name it).
fn programme_where(filter: &ProgrammeFilter) -> String {
    let mut cond = format!("e.festival = (SELECT n FROM keys WHERE key = ?1) AND {VISIBLE}");
    cond.push_str(if filter.day.is_some() { " AND e.day = ?2" } else { " AND ?2 IS NULL" });
    cond.push_str(if filter.venue.is_some() { " AND e.venue = ?3" } else { " AND ?3 IS NULL" });
    cond.push_str(if filter.track.is_some() { " AND e.track = ?4 COLLATE NOCASE" } else { " AND ?4 IS NULL" });
    if filter.official_only {
        cond.push_str(" AND e.official = 1");
    }
    cond
}

/// Programme listings' start times by query and parameters, for one data version: a new version
/// drops them all. At most [`Starts::MAX`] listings are kept, so a crowd asking for every venue
/// and track cannot grow it.
#[derive(Default)]
pub(crate) struct Starts {
    version: (i64, u64),
    listings: Vec<(String, Arc<Vec<i64>>)>,
}

impl Starts {
    const MAX: usize = 16;

    fn get(&self, version: (i64, u64), key: &str) -> Option<Arc<Vec<i64>>> {
        (self.version == version).then(|| self.listings.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))?
    }

    fn put(&mut self, version: (i64, u64), key: String, starts: Arc<Vec<i64>>) {
        if self.version != version {
            self.version = version;
            self.listings.clear();
        }
        if self.listings.len() >= Self::MAX {
            self.listings.remove(0);
        }
        self.listings.push((key, starts));
    }
}

/// The columns [`Decor::event`] reads.
pub(super) const EVENT_COLUMNS: &str = "e.summary";
/// Index of the first column after [`EVENT_COLUMNS`].
pub(super) const AFTER_EVENT: usize = 1;

/// Not deleted and not hidden by organisers (mutes are this device's and applied by [`Decor`]).
pub(super) const VISIBLE: &str = "e.deleted = 0 AND e.hidden = 0";

pub(super) fn key32(b: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    b.try_into().map_err(|_| rusqlite::Error::InvalidColumnType(0, "id".into(), rusqlite::types::Type::Blob))
}

/// Hashes ids by their first eight bytes: they are BLAKE3 outputs or public keys, already
/// uniformly distributed, and these maps are looked up for every row of a programme.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }

    fn write_usize(&mut self, _: usize) {
        // The length prefix of a fixed-size id carries no information.
    }
}

type IdMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;
type IdSet<K> = HashSet<K, std::hash::BuildHasherDefault<IdHasher>>;

/// Device-local and small per-festival facts that every event row is decorated with, read once
/// per query instead of joined into every row.
pub(super) struct Decor {
    venues: IdMap<OpId, (String, bool)>,
    /// The festival's venues by their number in `keys`, as summaries name them; sorted by
    /// number (a festival has tens of venues: a binary search beats hashing, row after row).
    venue_numbers: Vec<(i64, OpId)>,
    /// Place of each venue in the festival's venue order, so sorting by venue compares integers.
    venue_rank: IdMap<OpId, usize>,
    favourites: IdSet<OpId>,
    muted: IdSet<PublicKey>,
    /// Events this person hid from its own programme.
    hidden: IdSet<OpId>,
    /// How many members of this identity's crews favour or head to each event, by the id prefix
    /// crew items name events by.
    crew: HashMap<[u8; crate::crew::ops::EVENT_PREFIX], u32>,
}

impl Decor {
    pub(super) fn venue_name(&self, v: &Option<OpId>, include_deleted: bool) -> String {
        match v.as_ref().and_then(|v| self.venues.get(v)) {
            Some((name, deleted)) if include_deleted || !deleted => name.clone(),
            _ => String::new(),
        }
    }

    /// Where an event's venue sorts among the festival's venues (no venue first).
    fn rank(&self, venue: &Option<OpId>) -> usize {
        venue.as_ref().and_then(|v| self.venue_rank.get(v)).map_or(0, |r| r + 1)
    }

    fn crew_count(&self, id: &OpId) -> u32 {
        if self.crew.is_empty() {
            return 0;
        }
        let mut p = [0u8; crate::crew::ops::EVENT_PREFIX];
        p.copy_from_slice(&id.0[..crate::crew::ops::EVENT_PREFIX]);
        self.crew.get(&p).copied().unwrap_or(0)
    }

    /// The event in row `r`, or `None` if its author is muted on this device or this person
    /// hid it.
    pub(super) fn event(&self, r: &Row<'_>) -> rusqlite::Result<Option<EventView>> {
        let blob = r.get_ref(0)?.as_blob()?;
        let s = summary::decode(blob)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, e.into()))?;
        if self.muted.contains(&s.creator) || self.hidden.contains(&s.id) {
            return Ok(None);
        }
        let venue = match s.venue {
            summary::Venue::None => None,
            summary::Venue::Id(v) => Some(v),
            // Numbered only as a venue of this festival, which stays in `venues` once there (a
            // rebuild puts it back with the same number before the events that name it).
            summary::Venue::Number(n) => {
                self.venue_numbers.binary_search_by_key(&n, |v| v.0).ok().map(|i| self.venue_numbers[i].1)
            }
        };
        Ok(Some(EventView {
            favourite: self.favourites.contains(&s.id),
            crew: self.crew_count(&s.id),
            venue_name: self.venue_name(&venue, false),
            id: s.id,
            title: s.title,
            subtitle: s.subtitle,
            start: s.start,
            end: s.end,
            day: s.day,
            venue,
            track: s.track,
            kind: s.kind,
            tags: s.tags,
            people: s.people,
            cancelled: s.cancelled,
            moved: s.moved,
            official: s.official,
            creator: s.creator,
        }))
    }
}

/// The columns [`detail_from_row`] reads: [`EVENT_COLUMNS`], then the details.
const DETAIL_COLUMNS: &str = "e.summary, (SELECT key FROM keys WHERE n = e.festival), \
     e.description, e.language, e.links, e.source_id, e.orig_start, e.orig_end, e.orig_venue, e.url, \
     e.source_number, e.do_not_record, e.recording_license";

fn detail_from_row(decor: &Decor, r: &Row<'_>) -> Result<Option<EventDetail>, StoreError> {
    let Some(event) = decor.event(r)? else { return Ok(None) };
    let links: Vec<LinkJson> = serde_json::from_str(&r.get::<_, String>(AFTER_EVENT + 3)?)
        .map_err(|e| StoreError::Corrupt(format!("event links: {e}")))?;
    let moved_from = if event.moved {
        let venue = r.get::<_, Option<Vec<u8>>>(AFTER_EVENT + 7)?.map(key32).transpose()?.map(OpId);
        Some(Slot {
            start: r.get(AFTER_EVENT + 5)?,
            end: r.get(AFTER_EVENT + 6)?,
            venue_name: decor.venue_name(&venue, true),
            venue,
        })
    } else {
        None
    };
    Ok(Some(EventDetail {
        event,
        description: r.get(AFTER_EVENT + 1)?,
        language: r.get(AFTER_EVENT + 2)?,
        links: links.into_iter().map(|l| Link { url: l.url, title: l.title }).collect(),
        source_id: r.get(AFTER_EVENT + 4)?,
        moved_from,
        url: r.get(AFTER_EVENT + 8)?,
        source_number: r.get(AFTER_EVENT + 9)?,
        do_not_record: r.get(AFTER_EVENT + 10)?,
        recording_license: r.get(AFTER_EVENT + 11)?,
        editable: false,
        provenance: None,
        hidden_here: false,
        crew_going: Vec::new(),
    }))
}

/// Orders names as people expect: case does not matter.
fn cmp_ignore_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.chars().flat_map(char::to_lowercase).cmp(b.chars().flat_map(char::to_lowercase))
}

pub(super) fn announcement_from_row(r: &Row<'_>, now: i64) -> rusqlite::Result<AnnouncementView> {
    let wall_time_ms = r.get::<_, i64>(6)? as u64;
    let posted = (wall_time_ms / 1000) as i64;
    Ok(AnnouncementView {
        posted_at: (posted <= now.saturating_add(CLOCK_AHEAD_TOLERANCE_S)).then_some(posted),
        id: OpId(key32(r.get(0)?)?),
        author: PublicKey(key32(r.get(1)?)?),
        author_name: r.get(2)?,
        text: r.get(3)?,
        priority: Priority::from_u64(r.get::<_, i64>(4)? as u64).unwrap_or(Priority::Normal),
        expires: r.get(5)?,
        wall_time_ms,
    })
}

pub(super) const ANNOUNCEMENT_SELECT: &str = "SELECT a.id, a.author, COALESCE(p.display_name, ''), a.text, a.priority,
    a.expires, a.wall_time_ms FROM announcements a
    LEFT JOIN profiles p ON p.festival = a.festival AND p.author = a.author";

impl Store {
    /// Every festival this device holds.
    pub fn festivals(&self) -> Result<Vec<FestivalView>, StoreError> {
        let ids: Vec<Vec<u8>> = self
            .conn()
            .prepare_cached("SELECT id FROM festivals ORDER BY start_date, name")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for id in ids {
            let Ok(arr) = id.try_into() else { continue };
            if let Some(f) = self.festival(&FestivalId(arr))? {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// One festival, if its creation op is known.
    pub fn festival(&self, id: &FestivalId) -> Result<Option<FestivalView>, StoreError> {
        let row = self
            .conn()
            .prepare_cached(
                "SELECT name, description, timezone, start_date, end_date, place, day_change, owner,
                        forked_from, forked_from_op FROM festivals WHERE id = ?",
            )?
            .query_row([&id.0[..]], |r| {
                Ok((
                    (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                    (r.get::<_, String>(3)?, r.get::<_, String>(4)?, r.get::<_, String>(5)?),
                    r.get::<_, i64>(6)?,
                    key32(r.get(7)?)?,
                    (r.get::<_, Option<Vec<u8>>>(8)?, r.get::<_, Option<Vec<u8>>>(9)?),
                ))
            })
            .optional()?;
        let Some(((name, description, timezone), (sd, ed, place), dc, owner, fork)) = row else {
            return Ok(None);
        };
        let organisers: Vec<PublicKey> = self
            .conn()
            .prepare_cached("SELECT member FROM roles WHERE festival = ? AND organiser = 1 ORDER BY member")?
            .query_map([&id.0[..]], |r| Ok(PublicKey(key32(r.get(0)?)?)))?
            .collect::<Result<_, _>>()?;
        let bad = |_| StoreError::Corrupt("festival date".into());
        Ok(Some(FestivalView {
            id: *id,
            fields: FestivalFields {
                name,
                description,
                timezone,
                start_date: sd.parse().map_err(bad)?,
                end_date: ed.parse().map_err(bad)?,
                place,
                day_change_minutes: dc as u16,
            },
            owner: PublicKey(owner),
            organisers,
            forked_from: match fork {
                (Some(f), Some(o)) => Some(ForkRef {
                    festival: FestivalId(key32(f).map_err(StoreError::Sqlite)?),
                    op: OpId(key32(o).map_err(StoreError::Sqlite)?),
                }),
                _ => None,
            },
        }))
    }

    /// Whether `key`'s next op in `festival` would count as official.
    pub fn is_official(&self, festival: &FestivalId, key: &PublicKey) -> Result<bool, StoreError> {
        Ok(self.festival(festival)?.is_some_and(|f| f.owner == *key || f.organisers.contains(key)))
    }

    /// The venues of a festival, by name.
    pub fn venues(&self, festival: &FestivalId) -> Result<Vec<VenueView>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, name, description, lat, lon, official, source_id, position FROM venues
             WHERE festival = ? AND deleted = 0 ORDER BY position IS NULL, position, name COLLATE NOCASE, id",
        )?;
        let rows = stmt.query_map([&festival.0[..]], |r| {
            Ok(VenueView {
                id: OpId(key32(r.get(0)?)?),
                name: r.get(1)?,
                description: r.get(2)?,
                location: match (r.get::<_, Option<i32>>(3)?, r.get::<_, Option<i32>>(4)?) {
                    (Some(lat_e7), Some(lon_e7)) => Some(GeoPoint { lat_e7, lon_e7 }),
                    _ => None,
                },
                official: r.get(5)?,
                source_id: r.get(6)?,
                position: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(super) fn decor(&self, festival: &FestivalId) -> Result<Decor, StoreError> {
        let f = &festival.0[..];
        let mut venues = IdMap::default();
        // Venues rank as [`Store::venues`] lists them: a schedule's room order, then by name.
        let mut positions: Vec<(OpId, Option<u32>)> = Vec::new();
        let mut venue_numbers = Vec::new();
        let mut stmt = self.conn().prepare_cached(
            "SELECT v.id, v.name, v.deleted, v.position, k.n FROM venues v LEFT JOIN keys k ON k.key = v.id
             WHERE v.festival = ?",
        )?;
        let mut rows = stmt.query([f])?;
        while let Some(r) = rows.next()? {
            let id = OpId(key32(r.get(0)?)?);
            venues.insert(id, (r.get(1)?, r.get(2)?));
            positions.push((id, r.get(3)?));
            if let Some(n) = r.get::<_, Option<i64>>(4)? {
                venue_numbers.push((n, id));
            }
        }
        let ids = |sql: &str| -> Result<Vec<[u8; 32]>, StoreError> {
            let mut stmt = self.conn().prepare_cached(sql)?;
            let v = stmt.query_map([f], |r| key32(r.get(0)?))?.collect::<Result<_, _>>()?;
            Ok(v)
        };
        let favourites = ids("SELECT event FROM favourites WHERE festival = ?")?.into_iter().map(OpId).collect();
        let muted = ids("SELECT author FROM mutes WHERE festival = ?")?.into_iter().map(PublicKey).collect();
        let hidden = ids("SELECT event FROM hidden_here WHERE festival = ?")?.into_iter().map(OpId).collect();
        let mut crew = HashMap::new();
        let mut stmt =
            self.conn().prepare_cached("SELECT event, COUNT(*) FROM crew_going WHERE festival = ? GROUP BY event")?;
        let mut rows = stmt.query([f])?;
        while let Some(r) = rows.next()? {
            if let Ok(p) = <[u8; crate::crew::ops::EVENT_PREFIX]>::try_from(r.get::<_, Vec<u8>>(0)?.as_slice()) {
                crew.insert(p, r.get::<_, u32>(1)?);
            }
        }
        drop(rows);
        drop(stmt);
        let name = |id: &OpId| venues.get(id).map(|(n, _): &(String, bool)| n.as_str()).unwrap_or("");
        positions.sort_by(|a, b| {
            (a.1.is_none(), a.1)
                .cmp(&(b.1.is_none(), b.1))
                .then_with(|| cmp_ignore_case(name(&a.0), name(&b.0)))
                .then(a.0.cmp(&b.0))
        });
        venue_numbers.sort_unstable();
        let venue_rank = positions.into_iter().enumerate().map(|(i, (id, _))| (id, i)).collect();
        Ok(Decor { venues, venue_numbers, venue_rank, favourites, muted, hidden, crew })
    }

    /// Runs an event query whose first parameter is the festival, decorating every row.
    pub(super) fn events_where(
        &self,
        festival: &FestivalId,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<EventView>, StoreError> {
        Ok(self.events_decorated(festival, sql, params)?.0)
    }

    fn events_decorated(
        &self,
        festival: &FestivalId,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<(Vec<EventView>, Decor), StoreError> {
        let decor = self.decor(festival)?;
        let mut stmt = self.conn().prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            if let Some(e) = decor.event(r)? {
                out.push(e);
            }
        }
        drop(rows);
        Ok((out, decor))
    }

    /// One event of a festival as lists show it (hidden ones too, so that a link to it still
    /// resolves).
    pub fn event(&self, festival: &FestivalId, id: &OpId) -> Result<Option<EventView>, StoreError> {
        Ok(self.event_detail(festival, id)?.map(|d| d.event))
    }

    /// Everything about one event of a festival.
    pub fn event_detail(&self, festival: &FestivalId, id: &OpId) -> Result<Option<EventDetail>, StoreError> {
        let sql = format!(
            "SELECT {DETAIL_COLUMNS} FROM events e
             WHERE e.id = ? AND e.festival = (SELECT n FROM keys WHERE key = ?) AND e.deleted = 0"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let mut rows = stmt.query([&id.0[..], &festival.0[..]])?;
        let Some(r) = rows.next()? else { return Ok(None) };
        let mut decor = self.decor(festival)?;
        // A muted author's event, or one hidden here, still opens when asked for by id.
        decor.muted.clear();
        decor.hidden.clear();
        detail_from_row(&decor, r)
    }

    /// Every event of a festival with its details, in start order. Exports want what people see
    /// (`visible_only`); imports match guids against everything, hidden and muted events too.
    pub fn event_details(&self, festival: &FestivalId, visible_only: bool) -> Result<Vec<EventDetail>, StoreError> {
        let mut decor = self.decor(festival)?;
        let filter = if visible_only { VISIBLE } else { "e.deleted = 0" };
        // What one person hid from its own programme stays in what this device exports.
        decor.hidden.clear();
        if !visible_only {
            decor.muted.clear();
        }
        let sql = format!(
            "SELECT {DETAIL_COLUMNS} FROM events e
             WHERE e.festival = (SELECT n FROM keys WHERE key = ?) AND {filter} ORDER BY e.start, e.id"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let mut rows = stmt.query([&festival.0[..]])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            if let Some(d) = detail_from_row(&decor, r)? {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Resolves a hex id prefix (at least 4 digits) to the one visible event it names.
    pub fn resolve_event(&self, festival: &FestivalId, prefix: &str) -> Result<OpId, StoreError> {
        let p = prefix.trim().to_ascii_lowercase();
        if p.len() < 4 || p.len() > 64 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(StoreError::NotFound(format!("event {prefix:?} (give at least 4 hex digits of its id)")));
        }
        let mut stmt = self.conn().prepare_cached(
            "SELECT id FROM events WHERE festival = (SELECT n FROM keys WHERE key = ?) AND deleted = 0
                 AND hex(id) LIKE ? LIMIT 2",
        )?;
        let ids: Vec<Vec<u8>> = stmt
            .query_map(params![&festival.0[..], format!("{}%", p.to_ascii_uppercase())], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        match ids.as_slice() {
            [one] => Ok(OpId(key32(one.clone())?)),
            [] => Err(StoreError::NotFound(format!("event {prefix}"))),
            _ => Err(StoreError::NotFound(format!("a unique event for {prefix:?} (several match; give more digits)"))),
        }
    }

    /// The programme, ordered by start, then venue name, then title.
    pub fn programme(&self, festival: &FestivalId, filter: &ProgrammeFilter) -> Result<Vec<EventView>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e WHERE {} AND ?5 IS NULL ORDER BY e.start",
            programme_where(filter)
        );
        self.programme_rows(festival, filter, &sql, None, None)
    }

    /// One page of [`Store::programme`]: up to `limit` events from `offset`, in the same order,
    /// and how many events there are in all. A page reads only the rows up to its last start
    /// (with every event sharing that start, so that it is cut from the same order as the whole
    /// list): a phone's first screenful of a long day costs a screenful.
    pub fn programme_page(
        &self,
        festival: &FestivalId,
        filter: &ProgrammeFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<EventView>, usize), StoreError> {
        if filter.tag.is_some() {
            // Tags are matched on the decoded rows, so a tag filter reads them all.
            let all = self.programme(festival, filter)?;
            let total = all.len();
            return Ok((all.into_iter().skip(offset).take(limit).collect(), total));
        }
        let cond = programme_where(filter);
        let day = filter.day.map(|d| d.to_string());
        let venue = filter.venue.map(|v| v.0.to_vec());
        let args: [&dyn rusqlite::ToSql; 4] = [&&festival.0[..], &day, &venue, &filter.track];
        // Where the page's rows begin and end, and how many rows there are, come from the
        // listing's start times: read once per listing and data version, so the pages of one
        // listing (a crowd paging through a busy day) do not each count through the index.
        let starts = self.listing_starts(&cond, &args)?;
        let total = starts.len();
        if limit == 0 {
            return Ok((Vec::new(), total));
        }
        // The start of the page's last row bounds what is read. With no such row the page
        // reaches the end.
        let bound = starts.get(offset.saturating_add(limit) - 1).copied();
        // The rows before the page are not decoded: only the page's rows and those sharing its
        // first start (whose order is settled among them) are read.
        let (low, before) = if offset == 0 {
            (None, 0)
        } else {
            let Some(&first) = starts.get(offset) else { return Ok((Vec::new(), total)) };
            (Some(first), starts.partition_point(|s| *s < first))
        };
        let from = if low.is_some() { " AND e.start >= ?6" } else { "" };
        let sql = match bound {
            None => format!("SELECT {EVENT_COLUMNS} FROM events e WHERE {cond} AND ?5 IS NULL{from} ORDER BY e.start"),
            Some(_) => {
                format!("SELECT {EVENT_COLUMNS} FROM events e WHERE {cond} AND e.start <= ?5{from} ORDER BY e.start")
            }
        };
        let events = self.programme_rows(festival, filter, &sql, bound, low)?;
        Ok((events.into_iter().skip(offset.saturating_sub(before)).take(limit).collect(), total))
    }

    /// The start times of the rows `cond` selects (parameters: festival, day, venue, track), in
    /// order, from the memo if the data has not changed since they were read.
    fn listing_starts(&self, cond: &str, args: &[&dyn rusqlite::ToSql; 4]) -> Result<Arc<Vec<i64>>, StoreError> {
        // Every write through this connection counts in its total changes (triggers included);
        // `data_version` moves with every commit by another connection to the file.
        let version: i64 = self.conn().query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let version = (version, self.conn().total_changes());
        let mut key = String::with_capacity(cond.len() + 128);
        key.push_str(cond);
        for a in args {
            key.push_str(&format!("|{:?}", a.to_sql()?));
        }
        if let Some(hit) = self.starts.lock().ok().and_then(|m| m.get(version, &key)) {
            return Ok(hit);
        }
        let starts: Vec<i64> = self
            .conn()
            .prepare_cached(&format!("SELECT e.start FROM events e WHERE {cond} ORDER BY e.start"))?
            .query_map(&args[..], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let starts = Arc::new(starts);
        if let Ok(mut m) = self.starts.lock() {
            m.put(version, key, starts.clone());
        }
        Ok(starts)
    }

    /// Runs a programme query (parameters: festival, day, venue, track, start bound) and puts
    /// the rows in programme order: by start, then the venues' order, title and id.
    fn programme_rows(
        &self,
        festival: &FestivalId,
        filter: &ProgrammeFilter,
        sql: &str,
        bound: Option<i64>,
        low: Option<i64>,
    ) -> Result<Vec<EventView>, StoreError> {
        let day = filter.day.map(|d| d.to_string());
        let venue = filter.venue.map(|v| v.0.to_vec());
        let args: [&dyn rusqlite::ToSql; 6] = [&&festival.0[..], &day, &venue, &filter.track, &bound, &low];
        // `?6` (the page's first start) is bound only where the query names it.
        let args = if low.is_some() { &args[..] } else { &args[..5] };
        let (mut events, decor) = self.events_decorated(festival, sql, args)?;
        if let Some(tag) = &filter.tag {
            let tag = tag.to_lowercase();
            events.retain(|e| e.tags.iter().any(|t| t.to_lowercase() == tag));
        }
        // A total order, so the in-place unstable sort is deterministic.
        events.sort_unstable_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then_with(|| decor.rank(&a.venue).cmp(&decor.rank(&b.venue)))
                .then_with(|| a.title.cmp(&b.title))
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(events)
    }

    /// The festival days that have events, with how many.
    pub fn days(&self, festival: &FestivalId) -> Result<Vec<FestivalDay>, StoreError> {
        let sql = format!(
            "SELECT e.day, COUNT(*) FROM events e WHERE e.festival = (SELECT n FROM keys WHERE key = ?1) AND {VISIBLE}
             AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.festival = ?1 AND m.author = e.creator)
             AND NOT EXISTS (SELECT 1 FROM hidden_here h WHERE h.festival = ?1 AND h.event = e.id)
             GROUP BY e.day ORDER BY e.day"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map([&festival.0[..]], |r| {
            Ok(FestivalDay { date: r.get(0)?, events: r.get::<_, i64>(1)? as u64 })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Full-text search over titles, descriptions, people, tracks and tags; best matches first.
    /// Every word must match, as a prefix.
    pub fn search(&self, festival: &FestivalId, query: &str, limit: usize) -> Result<Vec<EventView>, StoreError> {
        let terms: Vec<String> = query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
            .collect();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events_fts JOIN events e ON e.rowid = events_fts.rowid
             WHERE e.festival = (SELECT n FROM keys WHERE key = ?1) AND events_fts MATCH ?2 AND {VISIBLE}
             ORDER BY bm25(events_fts, 10.0, 5.0, 1.0, 5.0, 3.0, 3.0), e.start LIMIT ?3"
        );
        self.events_where(festival, &sql, &[&&festival.0[..], &terms.join(" "), &(limit as i64)])
    }

    /// The venues, tracks and tags the visible programme uses. Read from the track and tags
    /// columns, distinct pairs only: a screen asks again after every change, and decoding every
    /// event of a big festival for it would cost that much each time.
    pub fn facets(&self, festival: &FestivalId) -> Result<Facets, StoreError> {
        let sql = format!(
            "SELECT DISTINCT e.track, e.tags FROM events e
             WHERE e.festival = (SELECT n FROM keys WHERE key = ?1) AND {VISIBLE}
             AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.festival = ?1 AND m.author = e.creator)
             AND NOT EXISTS (SELECT 1 FROM hidden_here h WHERE h.festival = ?1 AND h.event = e.id)"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let pairs = stmt.query_map([&festival.0[..]], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut tracks: std::collections::BTreeMap<String, String> = Default::default();
        let mut tags: std::collections::BTreeMap<String, String> = Default::default();
        for pair in pairs {
            let (track, list) = pair?;
            if !track.is_empty() {
                tracks.entry(track.to_lowercase()).or_insert(track);
            }
            for t in super::fold::split_list(&list) {
                if !t.is_empty() {
                    tags.entry(t.to_lowercase()).or_insert(t);
                }
            }
        }
        Ok(Facets {
            venues: self.venues(festival)?,
            tracks: tracks.into_values().collect(),
            tags: tags.into_values().collect(),
        })
    }

    /// Per venue, what is on now and what starts next (events in the coming 24 hours).
    pub fn now_next(&self, festival: &FestivalId, now: i64) -> Result<Vec<NowNext>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e
             WHERE e.festival = (SELECT n FROM keys WHERE key = ?1) AND {VISIBLE} AND e.cancelled = 0
             AND e.start < ?2 + 86400 AND MAX(e.end, e.start) > ?2 ORDER BY e.start"
        );
        let (mut events, decor) = self.events_decorated(festival, &sql, &[&&festival.0[..], &now])?;
        events.sort_by(|a, b| decor.rank(&a.venue).cmp(&decor.rank(&b.venue)).then(a.start.cmp(&b.start)));
        let mut out: Vec<NowNext> = Vec::new();
        for e in events {
            if out.last().is_none_or(|n| n.venue != e.venue) {
                out.push(NowNext { venue: e.venue, venue_name: e.venue_name.clone(), now: None, next: None });
            }
            let Some(slot) = out.last_mut() else { continue };
            if e.start <= now && slot.now.is_none() {
                slot.now = Some(e);
            } else if e.start > now && slot.next.is_none() {
                slot.next = Some(e);
            }
        }
        Ok(out)
    }

    /// Announcements not yet expired at `now`, newest (by Lamport clock) first.
    pub fn announcements(&self, festival: &FestivalId, now: i64) -> Result<Vec<AnnouncementView>, StoreError> {
        self.unexpired_announcements(festival, now, Priority::Normal)
    }

    /// The unexpired emergency announcements, newest first: what a page's banner shows.
    pub fn emergencies(&self, festival: &FestivalId, now: i64) -> Result<Vec<AnnouncementView>, StoreError> {
        self.unexpired_announcements(festival, now, Priority::Emergency)
    }

    /// Announcements of at least `least` priority not yet expired at `now`, newest first.
    fn unexpired_announcements(
        &self,
        festival: &FestivalId,
        now: i64,
        least: Priority,
    ) -> Result<Vec<AnnouncementView>, StoreError> {
        let sql = format!(
            "{ANNOUNCEMENT_SELECT} WHERE a.festival = ?1 AND a.deleted = 0 AND (a.expires IS NULL OR a.expires > ?2)
             AND a.priority >= ?3 ORDER BY a.lamport DESC, a.id"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![&festival.0[..], now, least as u8], |r| announcement_from_row(r, now))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// An author's display name in a festival, if they set one.
    pub fn display_name(&self, festival: &FestivalId, author: &PublicKey) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT display_name FROM profiles WHERE festival = ? AND author = ? AND display_name != ''",
            )?
            .query_row([&festival.0[..], &author.0[..]], |r| r.get(0))
            .optional()?)
    }

    /// The event of a festival carrying an imported schedule's guid.
    pub fn event_by_source(&self, festival: &FestivalId, source_id: &str) -> Result<Option<EventDetail>, StoreError> {
        let id: Option<Vec<u8>> = self
            .conn()
            .prepare_cached(
                "SELECT id FROM events WHERE festival = (SELECT n FROM keys WHERE key = ?) AND source_id = ?
                 AND deleted = 0 LIMIT 1",
            )?
            .query_row(params![&festival.0[..], source_id], |r| r.get(0))
            .optional()?;
        match id {
            Some(id) => self.event_detail(festival, &OpId(key32(id)?)),
            None => Ok(None),
        }
    }

    /// Authors of a festival this device first stored an op of before `before` (Unix seconds),
    /// who are not official now: the community an organiser approves before switching a festival
    /// to approved-only when a flood of fresh keys arrives.
    pub fn community_authors_seen_before(
        &self,
        festival: &FestivalId,
        before: i64,
    ) -> Result<Vec<PublicKey>, StoreError> {
        let f = self.festival(festival)?;
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT author FROM authors_seen WHERE festival = ? AND first_seen < ? ORDER BY author")?;
        let rows = stmt.query_map(params![&festival.0[..], before], |r| Ok(PublicKey(key32(r.get(0)?)?)))?;
        let mut out = Vec::new();
        for k in rows {
            let k = k?;
            if f.as_ref().is_none_or(|f| f.owner != k && !f.organisers.contains(&k)) {
                out.push(k);
            }
        }
        Ok(out)
    }
}
