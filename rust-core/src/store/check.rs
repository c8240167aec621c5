//! Check and repair: the SQLite file's integrity and the programme re-derived from the signed ops,
//! compared by digest.

use super::*;

impl Store {
    /// Re-derives a festival's programme from its ops (also what [`Store::check`] compares with).
    pub fn rebuild(&mut self, festival: &FestivalId) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let rev = next_rev(&tx)?;
        let mut ctx = FestivalCtx::load(&tx, *festival)?;
        fold::rebuild(&tx, &mut ctx, rev)?;
        tx.commit()?;
        self.publish(&ChangeSet::of(*festival, Scopes::SHARED));
        Ok(())
    }

    /// Checks SQLite's integrity, that every log's bookkeeping matches its ops, and that the
    /// materialized programme equals a fresh fold of the ops (which is what finds any damage an
    /// op could have done to state it had no right to touch). Changes nothing.
    pub fn check(&mut self) -> Result<CheckReport, StoreError> {
        let mut report = CheckReport::default();
        let integrity: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            report.problems.push(format!("integrity_check: {integrity}"));
        }
        let search_ok = match search_index_matches(&self.conn) {
            Ok(()) => true,
            Err(e) => {
                report.problems.push(format!("the search index does not match the events: {e}"));
                false
            }
        };
        let books = log_books(&self.conn)?;
        let mut bad_logs = 0;
        for ((f, a), want) in &books {
            if want.is_none() || read_log_head(&self.conn, f, a)? != *want {
                bad_logs += 1;
            }
        }
        // Rows of logs that hold no op at all.
        let rows: i64 = self.conn.query_row("SELECT COUNT(*) FROM logs", [], |r| r.get(0))?;
        bad_logs += (rows - books.len() as i64).max(0);
        if bad_logs > 0 {
            report.problems.push(format!("{bad_logs} log(s) whose bookkeeping does not match their ops"));
        }
        for id in self.festivals_with_ops()? {
            let before = self.state_digest(&id)?;
            let tx = self.conn.transaction()?;
            if !search_ok {
                // Re-deriving deletes events from the index, which a damaged one refuses.
                tx.execute("INSERT INTO events_fts (events_fts) VALUES ('rebuild')", [])?;
            }
            let rev = current_rev(&tx)?;
            let mut ctx = FestivalCtx::load(&tx, id)?;
            fold::rebuild(&tx, &mut ctx, rev)?;
            let after = state_digest_conn(&tx, &id)?;
            // Only compare; never keep the check's rebuild.
            tx.rollback()?;
            if before != after {
                report.problems.push(format!("festival {}: materialized state differs from its ops", id.short()));
                report.damaged.push(id);
            }
        }
        let foreign: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM ops o WHERE o.target IS NOT NULL AND (
               EXISTS (SELECT 1 FROM events e WHERE e.id = o.target AND e.festival != o.festival)
               OR EXISTS (SELECT 1 FROM venues v WHERE v.id = o.target
                          AND v.festival != (SELECT key FROM keys WHERE n = o.festival))
               OR EXISTS (SELECT 1 FROM announcements a WHERE a.id = o.target
                          AND a.festival != (SELECT key FROM keys WHERE n = o.festival)))",
            [],
            |r| r.get(0),
        )?;
        let foreign_venues: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM events e JOIN venues v ON v.id = e.venue
             WHERE v.festival != (SELECT key FROM keys WHERE n = e.festival)",
            [],
            |r| r.get(0),
        )?;
        if foreign + foreign_venues > 0 {
            report.notes.push(format!(
                "{} op(s) name an entity of another festival; they have no effect there",
                foreign + foreign_venues
            ));
        }
        let legacy: i64 = self.conn.query_row("SELECT COUNT(*) FROM legacy_ops", [], |r| r.get(0))?;
        if legacy > 0 {
            report
                .notes
                .push(format!("{legacy} op(s) from a pre-release format are kept in legacy_ops, without effect"));
        }
        Ok(report)
    }

    /// Re-derives every festival that [`Store::check`] found damaged, and the log bookkeeping,
    /// from the signed ops (which are never changed).
    pub fn repair(&mut self) -> Result<CheckReport, StoreError> {
        let report = self.check()?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM logs", [])?;
        let mut logs = Logs { heads: log_books(&tx)?, ..Default::default() };
        logs.dirty = logs.heads.keys().copied().collect();
        logs.flush(&tx, 0)?;
        if search_index_matches(&tx).is_err() {
            // Re-read from the events table, which the festivals' rebuild below keeps in step.
            tx.execute("INSERT INTO events_fts (events_fts) VALUES ('rebuild')", [])?;
        }
        let rev = next_rev(&tx)?;
        let mut changes = ChangeSet::default();
        for f in &report.damaged {
            let mut ctx = FestivalCtx::load(&tx, *f)?;
            fold::rebuild(&tx, &mut ctx, rev)?;
            changes.add(*f, Scopes::SHARED);
        }
        tx.commit()?;
        self.publish(&changes);
        self.check()
    }

    /// A digest of a festival's materialized state: equal digests mean identical programmes.
    pub fn state_digest(&self, festival: &FestivalId) -> Result<String, StoreError> {
        state_digest_conn(&self.conn, festival)
    }
}

pub(super) fn state_digest_conn(conn: &Connection, festival: &FestivalId) -> Result<String, StoreError> {
    let f = &festival.0[..];
    let mut h = blake3::Hasher::new();
    let queries = [
        "SELECT quote(owner), name, description, timezone, start_date, end_date, place, day_change, community
         FROM festivals WHERE id = ?",
        "SELECT quote(author) FROM approvals WHERE festival = ? ORDER BY author",
        "SELECT quote(member), organiser, after_seq FROM roles WHERE festival = ? ORDER BY member",
        "SELECT quote(id), official, name, description, lat, lon, source_id, deleted, position FROM venues WHERE festival = ? ORDER BY id",
        "SELECT quote(id), quote(creator), official, title, subtitle, description, start, end, day, quote(venue), track, kind,
                tags, people, language, links, cancelled, source_id, deleted, hidden, orig_start, orig_end, quote(orig_venue),
                url, source_number, do_not_record, recording_license
         FROM events WHERE festival = (SELECT n FROM keys WHERE key = ?) ORDER BY id",
        "SELECT quote(id), quote(author), text, priority, expires, lamport, deleted FROM announcements WHERE festival = ? ORDER BY id",
        "SELECT quote(author), display_name, about FROM profiles WHERE festival = ? ORDER BY author",
        "SELECT quote(target), hidden FROM hides WHERE festival = ? ORDER BY target",
    ];
    for q in queries {
        let mut stmt = conn.prepare_cached(q)?;
        let n = stmt.column_count();
        let mut rows = stmt.query([f])?;
        while let Some(row) = rows.next()? {
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i)?;
                h.update(format!("{v:?}\u{1f}").as_bytes());
            }
            h.update(b"\n");
        }
        h.update(b"\x1e");
    }
    Ok(h.finalize().to_hex().to_string())
}

/// Whether the full-text index holds exactly the events' text: FTS5 compares every entry with the
/// content table. Writes nothing.
fn search_index_matches(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.execute("INSERT INTO events_fts (events_fts, rank) VALUES ('integrity-check', 1)", []).map(|_| ())
}
