//! Ingest: a batch of ops verified (signatures on every core), attached to their logs, parked
//! until their predecessors arrive or refused, and folded into the programme, in one transaction.

use super::*;

impl Store {
    /// Decodes, verifies and ingests a batch of encoded ops.
    pub fn ingest_bytes<B: AsRef<[u8]>>(&mut self, batch: &[B]) -> Result<IngestReport, StoreError> {
        let mut rejected = Vec::new();
        let mut ops = Vec::with_capacity(batch.len());
        for (index, bytes) in batch.iter().enumerate() {
            match Op::decode(bytes.as_ref()) {
                Ok(op) => ops.push((index, op)),
                Err(e) => rejected.push(Rejected { index, id: None, reason: e.into() }),
            }
        }
        let mut report = self.ingest_indexed(ops, None)?;
        report.rejected.extend(rejected);
        report.rejected.sort_by_key(|r| r.index);
        Ok(report)
    }

    /// Verifies and ingests a batch of decoded ops in one transaction. Invalid ops are reported
    /// and skipped; valid ones are stored whatever else the batch holds.
    pub fn ingest(&mut self, ops: Vec<Op>) -> Result<IngestReport, StoreError> {
        self.ingest_indexed(ops.into_iter().enumerate().collect(), None)
    }

    /// Like [`Store::ingest`], recording how the ops it stores arrived (see
    /// [`Store::op_origin`]).
    pub fn ingest_from(&mut self, ops: Vec<Op>, from: &crate::view::Arrival) -> Result<IngestReport, StoreError> {
        self.ingest_indexed(ops.into_iter().enumerate().collect(), Some(from))
    }

    fn ingest_indexed(
        &mut self,
        ops: Vec<(usize, Op)>,
        from: Option<&crate::view::Arrival>,
    ) -> Result<IngestReport, StoreError> {
        let now = self.clock.now();
        let tx = self.conn.transaction()?;
        let report = ingest_in(&tx, ops, now)?;
        if let Some(from) = from {
            provenance::record_arrivals(&tx, &report.items.added, from, now)?;
        }
        tx.commit()?;
        self.publish(&report.changes);
        Ok(report)
    }

    /// Like [`Store::ingest`], but all or nothing: if any op is refused for a reason other than
    /// a fork (evidence of one, or an op past one, which a faithful copy of a store holding a
    /// forked log contains), nothing of the batch is stored. For files
    /// that must be taken whole, such as festival archives.
    pub fn ingest_all(
        &mut self,
        ops: Vec<Op>,
        from: &crate::view::Arrival,
    ) -> Result<Result<IngestReport, Rejected>, StoreError> {
        let now = self.clock.now();
        let tx = self.conn.transaction()?;
        let report = ingest_in(&tx, ops.into_iter().enumerate().collect(), now)?;
        provenance::record_arrivals(&tx, &report.items.added, from, now)?;
        let fork = |r: &&Rejected| matches!(r.reason, RejectReason::Equivocation(_) | RejectReason::AfterFork(_));
        if let Some(bad) = report.rejected.iter().find(|r| !fork(r)) {
            let bad = bad.clone();
            tx.rollback()?;
            return Ok(Err(bad));
        }
        tx.commit()?;
        self.publish(&report.changes);
        Ok(Ok(report))
    }

    /// Signs `body` as the next op of `identity`'s log in `festival`, and stores it.
    pub fn append(
        &mut self,
        identity: &Identity,
        festival: FestivalId,
        body: Body,
        wall_time_ms: u64,
    ) -> Result<Op, StoreError> {
        let position = self.next_position(&festival, &identity.public())?;
        let op = crate::op::LogWriter::new(festival, position).sign(identity, position.lamport, wall_time_ms, body)?;
        let report = self.ingest_from(vec![op.clone()], &crate::view::Arrival::here())?;
        if let Some(r) = report.rejected.into_iter().next() {
            return Err(StoreError::Rejected(r.reason));
        }
        Ok(op)
    }
}

/// Verifies and ingests a batch inside the caller's transaction.
pub(super) fn ingest_in(tx: &Connection, ops: Vec<(usize, Op)>, now: i64) -> Result<IngestReport, StoreError> {
    let mut report = IngestReport::default();
    // Skip what we hold before paying for signature checks: re-syncs and re-imports are mostly
    // duplicates. Knowing each log's head answers "already held?" for most ops without a lookup.
    let mut seen_ids = HashSet::new();
    let mut fresh = Vec::with_capacity(ops.len());
    let mut logs = Logs::default();
    for (index, op) in ops {
        let fresh_op = seen_ids.insert(op.id()) && {
            let head = logs.get(tx, &op.festival(), &op.author())?;
            let next_seq = head.map_or(0, |h| h.seq + 1);
            if op.seq() < next_seq {
                // This very op, evidence already kept, or another op at its position: a fork,
                // recorded once the signature shows the author really signed it.
                // An id names its festival, author and position, so a stored op with this id is
                // this op at its position.
                !tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM ops WHERE id = ?)")?
                    .query_row([&op.id().0[..]], |r| r.get::<_, bool>(0))?
                    && !tx
                        .prepare_cached("SELECT EXISTS (SELECT 1 FROM forks WHERE evidence_id = ?)")?
                        .query_row([&op.id().0[..]], |r| r.get::<_, bool>(0))?
            } else if op.seq() > next_seq {
                !tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM pending_ops WHERE id = ?)")?
                    .query_row([&op.id().0[..]], |r| r.get::<_, bool>(0))?
            } else {
                true
            }
        };
        if fresh_op {
            fresh.push((index, op));
        } else {
            report.duplicates += 1;
        }
    }
    if fresh.is_empty() {
        return Ok(report);
    }
    // Lamport order respects every log's order and puts creations before their edits.
    fresh.sort_by_key(|(_, op)| op.order_key());

    // The revision advances only if the batch stores something or learns of a fork: a flood of
    // refused ops must not look like a change (that would reload every session's items).
    let rev = current_rev(tx)? + 1;
    let mut changed = false;
    let mut ctxs: HashMap<FestivalId, FestivalCtx> = HashMap::new();
    let mut touched_logs: HashSet<(FestivalId, PublicKey)> = HashSet::new();
    // Logs with a refused op in this batch: their later ops are refused too instead of parking,
    // so an author past a limit cannot fill the parking space with the rest of a flood.
    let mut refused_logs: HashSet<(FestivalId, PublicKey)> = HashSet::new();
    // Signatures are checked on worker threads while this thread writes the ops already checked:
    // the two halves of ingest overlap.
    verify_pipelined(&fresh, |i, verdict| {
        let (index, op) = &fresh[i];
        let log = (op.festival(), op.author());
        if refused_logs.contains(&log) {
            report.rejected.push(Rejected { index: *index, id: Some(op.id()), reason: RejectReason::AfterRefused });
            return Ok(());
        }
        if let Err(e) = verdict {
            refused_logs.insert(log);
            report.rejected.push(Rejected { index: *index, id: Some(op.id()), reason: e.into() });
            return Ok(());
        }
        let f = op.festival();
        let ctx = match ctxs.entry(f) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(FestivalCtx::load(tx, f)?),
        };
        match attach(tx, ctx, &mut logs, op, rev, now)? {
            Attach::Stored => {
                report.stored += 1;
                report.changes.add(f, Scopes::of(op.body()));
                report.items.added.push((f, op.lamport(), op.id()));
                touched_logs.insert((f, op.author()));
            }
            Attach::Pending => report.pending += 1,
            Attach::Forked { at, recorded } => {
                changed |= recorded;
                if recorded {
                    report.changes.add(f, Scopes::SHARED);
                    report.items.reset.insert(f);
                }
                report.rejected.push(Rejected {
                    index: *index,
                    id: Some(op.id()),
                    reason: RejectReason::Equivocation(at),
                })
            }
            Attach::Rejected(reason) => {
                refused_logs.insert(log);
                report.rejected.push(Rejected { index: *index, id: Some(op.id()), reason })
            }
        }
        Ok(())
    })?;
    // Parked ops whose predecessors just arrived.
    for (f, author) in touched_logs {
        let Some(ctx) = ctxs.get_mut(&f) else { continue };
        loop {
            let next_seq = logs.get(tx, &f, &author)?.map_or(0, |h| h.seq + 1);
            let next = tx
                .prepare_cached("SELECT id, bytes FROM pending_ops WHERE festival = ? AND author = ? AND seq = ?")?
                .query_row(params![&f.0[..], &author.0[..], next_seq as i64], |r| {
                    Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
                })
                .optional()?;
            let Some((id, bytes)) = next else { break };
            tx.prepare_cached("DELETE FROM pending_ops WHERE id = ?")?.execute([&id])?;
            let op = Op::decode(&bytes).map_err(|e| StoreError::Corrupt(format!("pending op: {e}")))?;
            match attach(tx, ctx, &mut logs, &op, rev, now)? {
                Attach::Stored => {
                    report.stored += 1;
                    report.changes.add(f, Scopes::of(op.body()));
                    report.items.added.push((f, op.lamport(), op.id()));
                    report.pending = report.pending.saturating_sub(1);
                }
                Attach::Pending => {}
                Attach::Forked { recorded, .. } => {
                    changed |= recorded;
                    if recorded {
                        report.changes.add(f, Scopes::SHARED);
                        report.items.reset.insert(f);
                    }
                    report.pending = report.pending.saturating_sub(1);
                }
                Attach::Rejected(reason) => {
                    tracing::debug!(op = %op.id().short(), %reason, "parked op rejected");
                    report.pending = report.pending.saturating_sub(1);
                }
            }
        }
    }
    for (f, ctx) in ctxs.iter_mut() {
        if ctx.rebuild {
            fold::rebuild(tx, ctx, rev)?;
            report.changes.add(*f, Scopes::SHARED);
            changed = true;
        }
    }
    if changed || report.stored > 0 {
        set_rev(tx, rev)?;
        report.items.rev = Some(rev);
    }
    logs.flush(tx, now)?;
    expire_parked(tx, now)?;
    Ok(report)
}

/// Drops parked ops that waited longer than [`PARK_SECONDS`], then the oldest beyond
/// [`MAX_PENDING_TOTAL`] ops or [`MAX_PENDING_BYTES`]: a flood of ops whose predecessors never
/// come must not grow forever.
pub(super) fn expire_parked(conn: &Connection, now: i64) -> Result<(), StoreError> {
    let old = conn.prepare_cached("DELETE FROM pending_ops WHERE parked_at < ?")?.execute([now - PARK_SECONDS])?;
    let (count, bytes): (i64, i64) = conn
        .prepare_cached("SELECT COUNT(*), COALESCE(SUM(LENGTH(bytes)), 0) FROM pending_ops")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut evicted = 0i64;
    if count > MAX_PENDING_TOTAL || bytes > MAX_PENDING_BYTES {
        let mut stmt = conn.prepare_cached("SELECT id, LENGTH(bytes) FROM pending_ops ORDER BY parked_at, id")?;
        let mut rows = stmt.query([])?;
        let (mut count, mut bytes) = (count, bytes);
        let mut doomed = Vec::new();
        while (count > MAX_PENDING_TOTAL || bytes > MAX_PENDING_BYTES)
            && let Some(r) = rows.next()?
        {
            doomed.push(r.get::<_, Vec<u8>>(0)?);
            bytes -= r.get::<_, i64>(1)?;
            count -= 1;
        }
        drop(rows);
        let mut del = conn.prepare_cached("DELETE FROM pending_ops WHERE id = ?")?;
        for id in doomed {
            evicted += del.execute([id])? as i64;
        }
    }
    if old > 0 || evicted > 0 {
        tracing::info!(expired = old, evicted, "dropped parked ops");
    }
    Ok(())
}

/// Verifies signatures on worker threads, in batches (see [`crate::op::verify_signatures`]),
/// and hands each verdict to `on_result` on the calling thread in input order, so the caller's
/// writes overlap the next batches' checks.
pub(super) fn verify_pipelined(
    ops: &[(usize, Op)],
    mut on_result: impl FnMut(usize, Result<(), OpError>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    const CHUNK: usize = crate::op::MAX_BATCH;
    // One core stays with the calling thread, whose database writes are the other half of ingest.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).saturating_sub(1).clamp(1, 8);
    if ops.len() <= CHUNK {
        for (i, verdict) in crate::op::verify_signatures(ops.iter().map(|(_, op)| op)).into_iter().enumerate() {
            on_result(i, verdict)?;
        }
        return Ok(());
    }
    let chunks = ops.len().div_ceil(CHUNK);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Vec<Result<(), OpError>>)>();
        for _ in 0..threads {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || {
                loop {
                    let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if c >= chunks {
                        break;
                    }
                    let part = &ops[c * CHUNK..((c + 1) * CHUNK).min(ops.len())];
                    let verdicts = crate::op::verify_signatures(part.iter().map(|(_, op)| op));
                    if tx.send((c, verdicts)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut ready: HashMap<usize, Vec<Result<(), OpError>>> = HashMap::new();
        for want in 0..chunks {
            let verdicts = loop {
                if let Some(v) = ready.remove(&want) {
                    break v;
                }
                let (c, v) = rx.recv().map_err(|_| StoreError::Corrupt("signature verifier thread stopped".into()))?;
                ready.insert(c, v);
            };
            for (k, verdict) in verdicts.into_iter().enumerate() {
                on_result(want * CHUNK + k, verdict)?;
            }
        }
        Ok(())
    })
}
