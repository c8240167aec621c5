//! What crews need of the store: a festival's crew ops, and the invites this device gave out.

use super::*;

impl Store {
    /// A festival's crew ops (kinds 12 to 15), by author and log position.
    pub fn crew_ops(&self, festival: &FestivalId) -> Result<Vec<Op>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT bytes FROM ops WHERE festival = ? AND kind BETWEEN 12 AND 15 ORDER BY author, seq",
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
