//! This device's own records, never shared: favourites and the agenda built from them, what was
//! last looked at ("changes since"), muted authors, settings.

use rusqlite::{OptionalExtension, params};

use super::query::{AFTER_EVENT, ANNOUNCEMENT_SELECT, EVENT_COLUMNS, VISIBLE, announcement_from_row, key32};
use super::{Store, StoreError};
use crate::feed::{ChangeSet, Scope};
use crate::identity::PublicKey;
use crate::op::{FestivalId, OpId};
use crate::view::*;

impl Store {
    /// Marks or unmarks an event as a favourite on this device.
    pub fn set_favourite(&mut self, festival: &FestivalId, event: &OpId, on: bool) -> Result<(), StoreError> {
        if on {
            if self.event(festival, event)?.is_none() {
                return Err(StoreError::NotFound(format!("event {}", event.short())));
            }
            self.conn()
                .prepare_cached("INSERT OR IGNORE INTO favourites (festival, event) VALUES (?, ?)")?
                .execute([&festival.0[..], &event.0[..]])?;
        } else {
            self.conn()
                .prepare_cached("DELETE FROM favourites WHERE festival = ? AND event = ?")?
                .execute([&festival.0[..], &event.0[..]])?;
        }
        self.publish(&ChangeSet::of(*festival, Scope::Favourites));
        Ok(())
    }

    /// This device's favourites, by start.
    pub fn favourites(&self, festival: &FestivalId) -> Result<Vec<EventView>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e JOIN favourites f ON f.festival = ?1 AND f.event = e.id
             WHERE e.festival = (SELECT n FROM keys WHERE key = ?1) AND {VISIBLE} ORDER BY e.start, e.title"
        );
        self.events_where(festival, &sql, &[&&festival.0[..]])
    }

    /// Pairs of favourites (not cancelled) that overlap in time.
    pub fn clashes(&self, festival: &FestivalId) -> Result<Vec<Clash>, StoreError> {
        let favs: Vec<EventView> = self.favourites(festival)?.into_iter().filter(|e| !e.cancelled).collect();
        let mut out = Vec::new();
        // Sorted by start: each event can only clash with those starting before it ends.
        for (i, a) in favs.iter().enumerate() {
            for b in favs[i + 1..].iter().take_while(|b| b.start < a.end) {
                if overlap(a, b) {
                    out.push(Clash { first: a.clone(), second: b.clone() });
                }
            }
        }
        Ok(out)
    }

    /// This device's favourites as a timetable: see [`agenda`].
    pub fn agenda(&self, festival: &FestivalId, lead: i64) -> Result<Vec<AgendaEntry>, StoreError> {
        Ok(agenda(self.favourites(festival)?, lead))
    }

    /// Favourites (not cancelled) starting in `[now, now + minutes)`: what a reminder fires for.
    pub fn favourites_starting_within(
        &self,
        festival: &FestivalId,
        now: i64,
        minutes: i64,
    ) -> Result<Vec<EventView>, StoreError> {
        Ok(self
            .favourites(festival)?
            .into_iter()
            .filter(|e| !e.cancelled && e.start >= now && e.start < now + minutes * 60)
            .collect())
    }

    pub(super) fn seen_rev(&self, festival: &FestivalId) -> Result<i64, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT rev FROM seen WHERE festival = ?")?
            .query_row([&festival.0[..]], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// What changed since this device last called [`Store::mark_seen`] for the festival.
    pub fn changes(&self, festival: &FestivalId) -> Result<Changes, StoreError> {
        let mark = self.seen_rev(festival)?;
        let decor = self.decor(festival)?;
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, e.created_rev, e.moved_rev, e.cancelled_rev, e.prev_start, e.prev_end,
                    e.prev_venue, e.deleted
             FROM events e
             WHERE e.festival = (SELECT n FROM keys WHERE key = ?1) AND e.updated_rev > ?2 AND e.hidden = 0
             AND NOT (e.deleted = 1 AND e.created_rev > ?2) ORDER BY e.start"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let mut rows = stmt.query(params![&festival.0[..], mark])?;
        let mut events = Vec::new();
        while let Some(r) = rows.next()? {
            let Some(ev) = decor.event(r)? else { continue };
            let a = AFTER_EVENT;
            let (created, moved, cancelled): (i64, i64, i64) = (r.get(a)?, r.get(a + 1)?, r.get(a + 2)?);
            let kind = if created > mark {
                ChangeKind::New
            } else if r.get::<_, bool>(a + 6)? {
                ChangeKind::Deleted
            } else if cancelled > mark && ev.cancelled {
                ChangeKind::Cancelled
            } else if moved > mark
                && let (Some(from_start), Some(from_end)) = (r.get::<_, Option<i64>>(a + 3)?, r.get::<_, Option<i64>>(a + 4)?)
                && let prev_venue = r.get::<_, Option<Vec<u8>>>(a + 5)?.map(key32).transpose()?.map(OpId)
                // Moved away and back again since the last look is no move at all.
                && (from_start, from_end.max(from_start), prev_venue) != (ev.start, ev.end, ev.venue)
            {
                ChangeKind::Moved { from_start, from_end, from_venue: decor.venue_name(&prev_venue, true) }
            } else if cancelled > mark {
                ChangeKind::Restored
            } else {
                ChangeKind::Updated
            };
            events.push(ChangeView { kind, event: ev });
        }
        drop(rows);
        drop(stmt);
        // Favourites first: a change to one is the most important thing to learn.
        events.sort_by_key(|c: &ChangeView| !c.event.favourite);
        let sql = format!(
            "{ANNOUNCEMENT_SELECT} WHERE a.festival = ?1 AND a.deleted = 0 AND a.rev > ?2 ORDER BY a.lamport DESC"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let now = self.clock().now();
        let announcements = stmt
            .query_map(params![&festival.0[..], mark], |r| announcement_from_row(r, now))?
            .collect::<Result<_, _>>()?;
        Ok(Changes { events, announcements })
    }

    /// Whether this device has ever marked the festival seen: before that, everything is new, and
    /// a front end says so in a line instead of listing the whole programme.
    pub fn has_looked(&self, festival: &FestivalId) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM seen WHERE festival = ?)")?
            .query_row([&festival.0[..]], |r| r.get(0))?)
    }

    /// Records that the user has now seen everything in the festival.
    pub fn mark_seen(&mut self, festival: &FestivalId) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO seen (festival, rev) VALUES (?1, (SELECT value FROM meta WHERE key = 'rev'))
                 ON CONFLICT (festival) DO UPDATE SET rev = excluded.rev",
            )?
            .execute([&festival.0[..]])?;
        self.publish(&ChangeSet::of(*festival, Scope::Seen));
        Ok(())
    }

    /// Mutes (or unmutes) an author on this device only.
    pub fn set_muted(&mut self, festival: &FestivalId, author: &PublicKey, on: bool) -> Result<(), StoreError> {
        let sql = if on {
            "INSERT OR IGNORE INTO mutes (festival, author) VALUES (?, ?)"
        } else {
            "DELETE FROM mutes WHERE festival = ? AND author = ?"
        };
        self.conn().prepare_cached(sql)?.execute([&festival.0[..], &author.0[..]])?;
        self.publish(&ChangeSet::of(*festival, [Scope::Moderation, Scope::Programme, Scope::Announcements]));
        Ok(())
    }

    /// A local setting.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT value FROM meta WHERE key = ?")?
            .query_row([format!("setting.{key}")], |r| r.get(0))
            .optional()?)
    }

    /// Sets a local setting.
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2")?
            .execute([format!("setting.{key}"), value.to_owned()])?;
        self.publish(&ChangeSet { settings: true, ..Default::default() });
        Ok(())
    }

    /// Emergencies current at `now` that this device has not notified its person of, newest
    /// first; each is recorded as notified, so it is told once, restarts included.
    pub fn emergencies_to_notify(
        &mut self,
        festival: &FestivalId,
        now: i64,
    ) -> Result<Vec<AnnouncementView>, StoreError> {
        let current: Vec<AnnouncementView> = self
            .announcements(festival, now)?
            .into_iter()
            .filter(|a| a.priority == crate::op::Priority::Emergency)
            .collect();
        let tx = self.conn.transaction()?;
        let mut fresh = Vec::new();
        {
            let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO notified (festival, announcement) VALUES (?, ?)")?;
            for a in current {
                if ins.execute(params![&festival.0[..], &a.id.0[..]])? == 1 {
                    fresh.push(a);
                }
            }
        }
        tx.commit()?;
        Ok(fresh)
    }
}
