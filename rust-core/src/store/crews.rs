//! What crews need of the store: a festival's crew ops, and the invites this device gave out.

use super::*;
use crate::feed::Scope;

impl Store {
    /// A festival's crew ops (kinds 12 to 15), by author and log position.
    pub fn crew_ops(&self, festival: &FestivalId) -> Result<Vec<Op>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT o.bytes FROM ops o JOIN keys a ON a.n = o.author
             WHERE o.festival = (SELECT n FROM keys WHERE key = ?) AND o.kind BETWEEN 12 AND 15 ORDER BY a.key, o.seq",
        )?;
        let rows = stmt.query_map([&festival.0[..]], |r| r.get::<_, Vec<u8>>(0))?;
        let mut ops = Vec::new();
        for bytes in rows {
            let bytes = bytes?;
            ops.push(Op::decode(&bytes).map_err(|e| StoreError::Corrupt(format!("stored crew op: {e}")))?);
        }
        Ok(ops)
    }

    /// Records an invite to `crew` this device gave out, good until `expires` (Unix seconds).
    pub fn add_crew_invite(
        &mut self,
        festival: &FestivalId,
        crew: &[u8],
        secret: &[u8],
        expires: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO crew_invites (festival, secret, crew, expires) VALUES (?, ?, ?, ?)",
            params![&festival.0[..], secret, crew, expires],
        )?;
        Ok(())
    }

    /// Uses up the invite `secret` to `crew` for `joiner`, if it is this device's, unused and not
    /// expired at `now`; whether it was.
    pub fn take_crew_invite(
        &mut self,
        festival: &FestivalId,
        crew: &[u8],
        secret: &[u8],
        joiner: &PublicKey,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE crew_invites SET used_by = ? WHERE festival = ? AND secret = ? AND crew = ? AND used_by IS NULL
             AND expires >= ?",
            params![&joiner.0[..], &festival.0[..], secret, crew, now],
        )?;
        Ok(n == 1)
    }
}

impl Store {
    /// Replaces which crew members favour or head to which events (by 8-byte id prefix, so that
    /// an event that arrives after a member's item still counts); tells the front ends when it
    /// changed.
    pub fn replace_crew_going(
        &mut self,
        festival: &FestivalId,
        going: &std::collections::BTreeSet<([u8; crate::crew::ops::EVENT_PREFIX], PublicKey)>,
    ) -> Result<(), StoreError> {
        let f = &festival.0[..];
        let now: std::collections::BTreeSet<(Vec<u8>, Vec<u8>)> = self
            .conn()
            .prepare_cached("SELECT event, member FROM crew_going WHERE festival = ?")?
            .query_map([f], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let want: std::collections::BTreeSet<(Vec<u8>, Vec<u8>)> =
            going.iter().map(|(e, m)| (e.to_vec(), m.0.to_vec())).collect();
        if now == want {
            return Ok(());
        }
        let tx = self.conn().unchecked_transaction()?;
        tx.execute("DELETE FROM crew_going WHERE festival = ?", [f])?;
        {
            let mut ins = tx.prepare_cached("INSERT INTO crew_going (festival, event, member) VALUES (?, ?, ?)")?;
            for (e, m) in &want {
                ins.execute(params![f, e, m])?;
            }
        }
        tx.commit()?;
        self.publish(&ChangeSet::of(*festival, [Scope::Crews, Scope::Programme]));
        Ok(())
    }

    /// The crew members who favour or head to an event.
    pub fn crew_going(&self, festival: &FestivalId, event: &OpId) -> Result<Vec<PublicKey>, StoreError> {
        let prefix = &event.0[..crate::crew::ops::EVENT_PREFIX];
        let mut stmt = self.conn().prepare_cached("SELECT member FROM crew_going WHERE festival = ? AND event = ?")?;
        let keys = stmt.query_map(params![&festival.0[..], prefix], |r| r.get::<_, Vec<u8>>(0))?;
        keys.map(|k| Ok(PublicKey(super::query::key32(k?)?))).collect()
    }

    /// Hides an event from this person's own programme, or shows it again.
    pub fn set_hidden_here(&mut self, festival: &FestivalId, event: &OpId, on: bool) -> Result<(), StoreError> {
        let sql = if on {
            "INSERT OR IGNORE INTO hidden_here (festival, event) VALUES (?, ?)"
        } else {
            "DELETE FROM hidden_here WHERE festival = ? AND event = ?"
        };
        self.conn().prepare_cached(sql)?.execute([&festival.0[..], &event.0[..]])?;
        self.publish(&ChangeSet::of(*festival, [Scope::Programme, Scope::Favourites]));
        Ok(())
    }

    /// The events this person hid from its own programme, by start.
    pub fn hidden_here(&self, festival: &FestivalId) -> Result<Vec<OpId>, StoreError> {
        self.ids_of(
            "SELECT h.event FROM hidden_here h LEFT JOIN events e ON e.id = h.event
             WHERE h.festival = ? ORDER BY e.start, h.event",
            festival,
        )
    }

    /// The authors muted on this device.
    pub fn muted(&self, festival: &FestivalId) -> Result<Vec<PublicKey>, StoreError> {
        let mut stmt = self.conn().prepare_cached("SELECT author FROM mutes WHERE festival = ? ORDER BY author")?;
        let keys = stmt.query_map([&festival.0[..]], |r| r.get::<_, Vec<u8>>(0))?;
        keys.map(|k| Ok(PublicKey(super::query::key32(k?)?))).collect()
    }

    /// Marks seen what another of this person's devices had seen when it looked at `at_ms` (its
    /// clock): everything stored here before the first op whose author's clock is past that
    /// moment. An op written before the look that reached the other device only after it may be
    /// taken as seen (docs/protocol.md, "Own devices"); the mark never moves back.
    pub fn mark_seen_as_of(&mut self, festival: &FestivalId, at_ms: u64) -> Result<(), StoreError> {
        let mark = self.seen_rev(festival)?;
        let mut through = self.revision()?;
        {
            let mut stmt = self.conn().prepare_cached(
                "SELECT rev, bytes FROM ops WHERE festival = (SELECT n FROM keys WHERE key = ?) AND rev > ?
                     ORDER BY rev",
            )?;
            let mut rows = stmt.query(params![&festival.0[..], mark])?;
            while let Some(r) = rows.next()? {
                let bytes: Vec<u8> = r.get(1)?;
                let op = Op::decode(&bytes).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))?;
                if op.header().wall_time_ms > at_ms {
                    through = r.get::<_, i64>(0)? - 1;
                    break;
                }
            }
        }
        if through > mark {
            self.conn()
                .prepare_cached(
                    "INSERT INTO seen (festival, rev) VALUES (?1, ?2)
                     ON CONFLICT (festival) DO UPDATE SET rev = max(rev, excluded.rev)",
                )?
                .execute(params![&festival.0[..], through])?;
            self.publish(&ChangeSet::of(*festival, Scope::Seen));
        }
        Ok(())
    }
}

impl Store {
    /// This device's favourites, hidden and muted ones too.
    pub fn favourite_ids(&self, festival: &FestivalId) -> Result<Vec<OpId>, StoreError> {
        self.ids_of("SELECT event FROM favourites WHERE festival = ? ORDER BY event", festival)
    }

    /// Every event of a festival that is not deleted.
    pub fn event_ids(&self, festival: &FestivalId) -> Result<Vec<OpId>, StoreError> {
        self.ids_of(
            "SELECT id FROM events WHERE festival = (SELECT n FROM keys WHERE key = ?) AND deleted = 0",
            festival,
        )
    }

    fn ids_of(&self, sql: &str, festival: &FestivalId) -> Result<Vec<OpId>, StoreError> {
        let mut stmt = self.conn().prepare_cached(sql)?;
        let ids = stmt.query_map([&festival.0[..]], |r| r.get::<_, Vec<u8>>(0))?;
        ids.map(|k| Ok(OpId(super::query::key32(k?)?))).collect()
    }
}

impl Store {
    /// What this device's crew key opened in crew ops, by op id (`None`: it opened nothing).
    pub fn crew_opened(&self, festival: &FestivalId) -> Result<HashMap<OpId, Option<Vec<u8>>>, StoreError> {
        let mut stmt = self.conn().prepare_cached("SELECT op, plain FROM crew_opened WHERE festival = ?")?;
        let rows =
            stmt.query_map([&festival.0[..]], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Option<Vec<u8>>>(1)?)))?;
        let mut out = HashMap::new();
        for row in rows {
            let (op, plain) = row?;
            out.insert(OpId(super::query::key32(op)?), plain);
        }
        Ok(out)
    }

    /// Remembers what this device's crew key opened in crew ops.
    pub fn remember_crew_opened(
        &self,
        festival: &FestivalId,
        opened: &[(OpId, Option<Vec<u8>>)],
    ) -> Result<(), StoreError> {
        if opened.is_empty() {
            return Ok(());
        }
        let tx = self.conn().unchecked_transaction()?;
        {
            let mut ins =
                tx.prepare_cached("INSERT OR REPLACE INTO crew_opened (festival, op, plain) VALUES (?, ?, ?)")?;
            for (op, plain) in opened {
                ins.execute(params![&festival.0[..], &op.0[..], plain])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
