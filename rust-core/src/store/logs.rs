//! Logs: each author's chain of ops per festival, where the next op goes, parked ops that wait
//! for their predecessors, and forks (two ops at one position) with the evidence kept.

use super::*;

impl Store {
    /// How many ops and bytes of encoded ops `author`'s log in `festival` holds.
    pub fn log_size(&self, festival: &FestivalId, author: &PublicKey) -> Result<(u64, u64), StoreError> {
        Ok(read_log_head(&self.conn, festival, author)?.map_or((0, 0), |h| (h.seq + 1, h.bytes)))
    }

    /// Where `author`'s next op in `festival` goes. Its Lamport clock is one above every op held,
    /// but never more than [`rules::MAX_CLOCK_STEP`] above the author's previous op: a stranger's
    /// clock far ahead cannot make this author's next op invalid, it only sorts after it.
    pub fn next_position(&self, festival: &FestivalId, author: &PublicKey) -> Result<LogPosition, StoreError> {
        let head = read_log_head(&self.conn, festival, author)?;
        let max_lamport: Option<i64> = self
            .conn
            .prepare_cached("SELECT MAX(lamport) FROM ops WHERE festival = (SELECT n FROM keys WHERE key = ?)")?
            .query_row([&festival.0[..]], |r| r.get(0))?;
        let seen_next = max_lamport.map_or(0, |l| l as u64 + 1);
        Ok(match head {
            None => LogPosition { seq: 0, backlink: None, lamport: seen_next.min(rules::MAX_CLOCK_STEP) },
            Some(h) => LogPosition {
                seq: h.seq + 1,
                backlink: Some(h.id),
                lamport: seen_next.clamp(h.lamport + 1, h.lamport + rules::MAX_CLOCK_STEP),
            },
        })
    }

    /// Every stored op of a festival, in (Lamport, author) order.
    pub fn ops(&self, festival: &FestivalId) -> Result<Vec<Op>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.bytes FROM ops o JOIN keys a ON a.n = o.author
             WHERE o.festival = (SELECT n FROM keys WHERE key = ?) ORDER BY o.lamport, a.key",
        )?;
        let rows = stmt.query_map([&festival.0[..]], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|b| Op::decode(&b?).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))).collect()
    }

    /// The newest op of a festival in (Lamport, author) order: what a fork names as its origin.
    pub fn head_op(&self, festival: &FestivalId) -> Result<Option<OpId>, StoreError> {
        let id: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT o.id FROM ops o JOIN keys a ON a.n = o.author
                 WHERE o.festival = (SELECT n FROM keys WHERE key = ?1)
                 AND o.lamport = (SELECT MAX(lamport) FROM ops WHERE festival = (SELECT n FROM keys WHERE key = ?1))
                 ORDER BY a.key DESC LIMIT 1",
            )?
            .query_row([&festival.0[..]], |r| r.get(0))
            .optional()?;
        id.map(|b| b.try_into().map(OpId).map_err(|_| StoreError::Corrupt("op id".into()))).transpose()
    }

    /// Authors caught equivocating in a festival, with the first sequence number they forked at.
    pub fn forked_authors(&self, festival: &FestivalId) -> Result<Vec<(PublicKey, u64)>, StoreError> {
        let mut v: Vec<_> = fold::load_forks(&self.conn, festival)?.into_iter().collect();
        v.sort();
        Ok(v)
    }

    /// The conflicting ops kept as evidence of equivocation in a festival.
    pub fn fork_evidence(&self, festival: &FestivalId) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT evidence FROM forks WHERE festival = ? ORDER BY author, seq, evidence_id")?;
        let rows = stmt.query_map([&festival.0[..]], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

pub(super) enum Attach {
    Stored,
    Pending,
    /// The author signed two ops at position `at`; `recorded` if this taught the device something
    /// (new evidence kept, or an earlier fork position).
    Forked {
        at: u64,
        recorded: bool,
    },
    Rejected(RejectReason),
}

/// A log's newest stored op and what the log has cost so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LogHead {
    pub(super) seq: u64,
    pub(super) id: OpId,
    pub(super) lamport: u64,
    pub(super) bytes: u64,
    pub(super) ext_bytes: u64,
    pub(super) profiles: u64,
    pub(super) revocations: u64,
}

pub(super) fn read_log_head(conn: &Connection, f: &FestivalId, a: &PublicKey) -> Result<Option<LogHead>, StoreError> {
    type Row = (i64, Vec<u8>, i64, i64, i64, i64, i64);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT seq, head, lamport, bytes, ext_bytes, profiles, revocations FROM logs
             WHERE festival = ? AND author = ?",
        )?
        .query_row([&f.0[..], &a.0[..]], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })
        .optional()?;
    row.map(|(seq, id, lamport, bytes, ext_bytes, profiles, revocations)| {
        Ok(LogHead {
            seq: seq as u64,
            id: OpId(id.try_into().map_err(|_| StoreError::Corrupt("log head".into()))?),
            lamport: lamport as u64,
            bytes: bytes as u64,
            ext_bytes: ext_bytes as u64,
            profiles: profiles as u64,
            revocations: revocations as u64,
        })
    })
    .transpose()
}

/// Every log's bookkeeping as ingest keeps it, re-derived from the stored ops themselves (one
/// pass, each op decoded), for checking and repairing the `logs` table.
/// Logs whose stored ops leave a gap count as broken (`None`).
pub(super) fn log_books(conn: &Connection) -> Result<HashMap<(FestivalId, PublicKey), Option<LogHead>>, StoreError> {
    let mut logs = Logs::default();
    let mut broken = HashSet::new();
    let mut stmt = conn.prepare("SELECT bytes FROM ops ORDER BY festival, author, seq")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let op = Op::decode(&r.get::<_, Vec<u8>>(0)?).map_err(|e| StoreError::Corrupt(format!("stored op: {e}")))?;
        let key = (op.festival(), op.author());
        let prev = logs.heads.entry(key).or_insert(None);
        if op.seq() != prev.map_or(0, |h| h.seq + 1) {
            broken.insert(key);
        }
        logs.advance(&op);
    }
    Ok(logs.heads.into_iter().map(|(k, h)| (k, h.filter(|_| !broken.contains(&k)))).collect())
}

/// The heads of the logs a batch touches, read once and written back once per batch: most ops of
/// a batch chain onto these, so chaining costs one lookup per log instead of two per op.
#[derive(Default)]
pub(super) struct Logs {
    pub(super) heads: HashMap<(FestivalId, PublicKey), Option<LogHead>>,
    pub(super) dirty: HashSet<(FestivalId, PublicKey)>,
    /// Logs whose first op arrived in this batch: their authors are seen for the first time.
    pub(super) new: HashSet<(FestivalId, PublicKey)>,
}

impl Logs {
    pub(super) fn get(
        &mut self,
        conn: &Connection,
        f: &FestivalId,
        a: &PublicKey,
    ) -> Result<Option<LogHead>, StoreError> {
        if let Some(h) = self.heads.get(&(*f, *a)) {
            return Ok(*h);
        }
        let head = read_log_head(conn, f, a)?;
        self.heads.insert((*f, *a), head);
        Ok(head)
    }

    pub(super) fn advance(&mut self, op: &Op) {
        let key = (op.festival(), op.author());
        let prev = self.heads.get(&key).copied().flatten();
        if prev.is_none() {
            self.new.insert(key);
        }
        let len = op.bytes().len() as u64;
        let ext = if op.is_extension() { op.body_bytes().len() as u64 } else { 0 };
        self.heads.insert(
            key,
            Some(LogHead {
                seq: op.seq(),
                id: op.id(),
                lamport: op.lamport(),
                bytes: prev.map_or(0, |p| p.bytes) + len,
                ext_bytes: prev.map_or(0, |p| p.ext_bytes) + ext,
                profiles: prev.map_or(0, |p| p.profiles) + u64::from(matches!(op.body(), Body::Profile(_))),
                revocations: prev.map_or(0, |p| p.revocations)
                    + u64::from(matches!(op.body(), Body::RoleRevoke { .. })),
            }),
        );
        self.dirty.insert(key);
    }

    pub(super) fn flush(&mut self, conn: &Connection, now: i64) -> Result<(), StoreError> {
        let mut upsert = conn.prepare_cached(
            "INSERT INTO logs (festival, author, seq, head, lamport, bytes, ext_bytes, profiles, revocations)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (festival, author) DO UPDATE
             SET seq = ?3, head = ?4, lamport = ?5, bytes = ?6, ext_bytes = ?7, profiles = ?8, revocations = ?9",
        )?;
        let mut seen =
            conn.prepare_cached("INSERT OR IGNORE INTO authors_seen (festival, author, first_seen) VALUES (?, ?, ?)")?;
        for key in self.dirty.drain() {
            let Some(Some(h)) = self.heads.get(&key) else { continue };
            upsert.execute(params![
                &key.0.0[..],
                &key.1.0[..],
                h.seq as i64,
                &h.id.0[..],
                h.lamport as i64,
                h.bytes as i64,
                h.ext_bytes as i64,
                h.profiles as i64,
                h.revocations as i64
            ])?;
        }
        for key in self.new.drain() {
            seen.execute(params![&key.0.0[..], &key.1.0[..], now])?;
        }
        Ok(())
    }
}

/// Chains one verified op onto its log: stores and applies it, parks it, or records a fork.
pub(super) fn attach(
    conn: &Connection,
    ctx: &mut FestivalCtx,
    logs: &mut Logs,
    op: &Op,
    rev: i64,
    now: i64,
) -> Result<Attach, StoreError> {
    let f = &op.festival().0[..];
    let a = &op.author().0[..];
    let seq = op.seq();
    let head = logs.get(conn, &op.festival(), &op.author())?;
    let next_seq = head.map_or(0, |h| h.seq + 1);
    if let Some(&at) = ctx.forks.get(&op.author())
        && seq > at
    {
        return Ok(Attach::Rejected(RejectReason::AfterFork(at)));
    }
    if seq < next_seq {
        // That position is taken by another op (identical ones were filtered as duplicates).
        let kept: Vec<u8> = conn
            .prepare_cached(
                "SELECT id FROM ops WHERE festival = (SELECT n FROM keys WHERE key = ?)
                 AND author = (SELECT n FROM keys WHERE key = ?) AND seq = ?",
            )?
            .query_row(params![f, a, seq as i64], |r| r.get(0))?;
        let recorded = record_fork(conn, ctx, op, seq, &kept)?;
        return Ok(Attach::Forked { at: seq, recorded });
    }
    if seq > next_seq {
        let closed: Option<i64> = conn
            .prepare_cached("SELECT seq FROM closed_logs WHERE festival = ? AND author = ?")?
            .query_row(params![f, a], |r| r.get(0))
            .optional()?;
        match closed {
            // Still closed: the log has not grown past the op that broke the rule.
            Some(at) if at as u64 == next_seq => return Ok(Attach::Rejected(RejectReason::LogClosed(at as u64))),
            // The author signed another op at that position, which was stored: the log is open
            // again, as on a device that never saw the refused op.
            Some(_) => {
                conn.prepare_cached("DELETE FROM closed_logs WHERE festival = ? AND author = ?")?
                    .execute(params![f, a])?;
            }
            None => {}
        }
        let (parked, parked_bytes): (i64, i64) = conn
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(bytes)), 0) FROM pending_ops WHERE festival = ? AND author = ?",
            )?
            .query_row(params![f, a], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if parked >= MAX_PENDING_PER_LOG || parked_bytes + op.bytes().len() as i64 > MAX_PENDING_BYTES_PER_LOG {
            return Ok(Attach::Rejected(RejectReason::PendingFull));
        }
        conn.prepare_cached(
            "INSERT OR IGNORE INTO pending_ops (id, festival, author, seq, bytes, parked_at) VALUES (?, ?, ?, ?, ?, ?)",
        )?
        .execute(params![&op.id().0[..], f, a, seq as i64, op.bytes(), now])?;
        return Ok(Attach::Pending);
    }
    if let Some(h) = head {
        if op.header().backlink != Some(h.id) {
            // The author signed another op at seq - 1 than the one we hold. The fork is placed
            // at this op's own position, which every device can check against the op it holds
            // there (or the head it holds before it), so all agree on where the log forked.
            let recorded = record_fork(conn, ctx, op, seq, &h.id.0)?;
            return Ok(Attach::Forked { at: seq, recorded });
        }
        if op.lamport() <= h.lamport || op.lamport() - h.lamport > rules::MAX_CLOCK_STEP {
            return close_log(conn, op, RejectReason::BadClock { lamport: op.lamport(), previous: h.lamport });
        }
    }
    let (bytes, ext, profiles, revocations) =
        head.map_or((0, 0, 0, 0), |h| (h.bytes, h.ext_bytes, h.profiles, h.revocations));
    if seq + 1 > rules::MAX_LOG_OPS {
        return close_log(conn, op, RejectReason::LogFull("ops per log"));
    }
    if bytes + op.bytes().len() as u64 > rules::MAX_LOG_BYTES {
        return close_log(conn, op, RejectReason::LogFull("bytes per log"));
    }
    if op.is_extension() && ext + op.body_bytes().len() as u64 > rules::MAX_EXTENSION_BYTES_PER_LOG {
        return close_log(conn, op, RejectReason::LogFull("extension-kind bytes per log"));
    }
    if matches!(op.body(), Body::Profile(_)) && profiles >= rules::MAX_PROFILE_OPS_PER_LOG {
        return close_log(conn, op, RejectReason::LogFull("profile ops per log"));
    }
    if matches!(op.body(), Body::RoleRevoke { .. }) && revocations >= rules::MAX_REVOCATIONS_PER_LOG {
        return close_log(conn, op, RejectReason::LogFull("role revocations per log"));
    }
    if head.is_none() {
        // The log's first op: its author (and perhaps its festival) gets a number. Later ops of
        // the log find both numbered.
        conn.prepare_cached("INSERT OR IGNORE INTO keys (key) VALUES (?), (?)")?.execute(params![f, a])?;
    }
    conn.prepare_cached(
        "INSERT INTO ops (id, festival, author, seq, lamport, kind, target, cap_day, bytes, rev)
         VALUES (?, (SELECT n FROM keys WHERE key = ?), (SELECT n FROM keys WHERE key = ?), ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        &op.id().0[..],
        f,
        a,
        seq as i64,
        op.lamport() as i64,
        op.body().kind_byte(),
        op.body().target().map(|t| t.0.to_vec()),
        fold::cap_day(op),
        op.bytes(),
        rev,
    ])?;
    logs.advance(op);
    if matches!(op.body(), Body::FestivalCreate(_)) {
        ctx.rebuild = true;
    } else if op.body().is_role_op() {
        if let Body::RoleGrant { member, .. } = op.body() {
            conn.prepare_cached("INSERT OR IGNORE INTO role_named (festival, member) VALUES (?, ?)")?
                .execute(params![f, &member.0[..]])?;
        }
        // A role op by somebody no grant ever named changes nothing now (roles are recomputed
        // from every stored role op when a grant names them later), so a flood of them from
        // community keys costs no recomputation.
        if !ctx.rebuild && may_change_roles(conn, ctx, &op.author())? && fold::refresh_roles(conn, ctx)? {
            ctx.rebuild = true;
        }
    }
    if !ctx.rebuild {
        fold::apply(conn, ctx, op, rev)?;
    }
    Ok(Attach::Stored)
}

/// Whether a role op by `key` can change the festival's roles: the owner's, a member's (a former
/// member's too) or one by a key some stored grant names, counted or not (it may count once the
/// grant's issuer does, and a revocation that stood at an earlier stage keeps its effect).
pub(super) fn may_change_roles(conn: &Connection, ctx: &FestivalCtx, key: &PublicKey) -> Result<bool, StoreError> {
    if ctx.roles.owner == Some(*key) || ctx.roles.members.contains_key(key) {
        return Ok(true);
    }
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM role_named WHERE festival = ? AND member = ?)")?
        .query_row(params![&ctx.id.0[..], &key.0[..]], |r| r.get::<_, bool>(0))?)
}

/// Refuses `op`, the next op of its log, for breaking a rule of its log: the log can never grow
/// past it here, so its parked successors go and later ones are not parked.
pub(super) fn close_log(conn: &Connection, op: &Op, reason: RejectReason) -> Result<Attach, StoreError> {
    let (f, a, seq) = (&op.festival().0[..], &op.author().0[..], op.seq() as i64);
    tracing::debug!(author = %op.author().fingerprint(), seq, %reason, "log closed");
    conn.prepare_cached("INSERT OR IGNORE INTO closed_logs (festival, author, seq) VALUES (?, ?, ?)")?
        .execute(params![f, a, seq])?;
    conn.prepare_cached("DELETE FROM pending_ops WHERE festival = ? AND author = ? AND seq > ?")?
        .execute(params![f, a, seq])?;
    Ok(Attach::Rejected(reason))
}

/// Records that `op` conflicts with the op `kept` at position `seq` of its author's log. Of the
/// evidence, the [`MAX_EVIDENCE_PER_AUTHOR`] lowest (fork position, own position, id) are kept
/// (so the earliest fork is never forgotten), so devices end up
/// holding the same evidence whatever order it reached them in. Returns whether anything was
/// learnt.
pub(super) fn record_fork(
    conn: &Connection,
    ctx: &mut FestivalCtx,
    op: &Op,
    seq: u64,
    kept: &[u8],
) -> Result<bool, StoreError> {
    let (f, a) = (&op.festival().0[..], &op.author().0[..]);
    let mut learnt = false;
    let entry = ctx.forks.entry(op.author()).or_insert(u64::MAX);
    if seq < *entry {
        tracing::warn!(author = %op.author().fingerprint(), seq, "equivocation: author signed two ops at one position");
        *entry = seq;
        ctx.rebuild = true;
        learnt = true;
    }
    let worst: Option<(i64, i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT seq, ev_seq, evidence_id FROM forks WHERE festival = ? AND author = ?
             ORDER BY seq, ev_seq, evidence_id LIMIT 1 OFFSET ?",
        )?
        .query_row(params![f, a, MAX_EVIDENCE_PER_AUTHOR - 1], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let mine = (seq as i64, op.seq() as i64, op.id().0.to_vec());
    if let Some(w) = &worst {
        // Full: the new piece displaces the highest one if it ranks lower.
        if mine >= *w {
            return Ok(learnt);
        }
    }
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO forks (festival, author, seq, evidence_id, ev_seq, lamport, kept, evidence)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )?
        .execute(params![f, a, seq as i64, &op.id().0[..], op.seq() as i64, op.lamport() as i64, kept, op.bytes()])?;
    if inserted > 0 {
        learnt = true;
        conn.prepare_cached(
            "DELETE FROM forks WHERE festival = ?1 AND author = ?2 AND evidence_id NOT IN (
               SELECT evidence_id FROM forks WHERE festival = ?1 AND author = ?2
               ORDER BY seq, ev_seq, evidence_id LIMIT ?3)",
        )?
        .execute(params![f, a, MAX_EVIDENCE_PER_AUTHOR])?;
    }
    Ok(learnt)
}
