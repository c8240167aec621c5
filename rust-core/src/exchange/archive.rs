//! Festival archives: a festival's whole signed history in one file, verifiable anywhere (a
//! programme on a USB stick or attached to a mail). Layout in docs/protocol.md, "Archive".

use std::collections::HashMap;

use crate::identity::PublicKey;
use crate::op::{FestivalId, MAX_OP_SIZE, Op, OpId};
use crate::store::{IngestReport, Store, StoreError};
use crate::wire::{Reader, Writer};

use super::ExchangeError;

/// First bytes of every archive.
pub const MAGIC: &[u8; 8] = b"MEADOWA1";

/// A decoded and fully verified archive.
#[derive(Debug, Clone)]
pub struct Archive {
    /// The festival it holds.
    pub festival: FestivalId,
    /// Every op, each log complete from its first op.
    pub ops: Vec<Op>,
    /// Equivocation evidence: ops that conflict with ops in `ops`.
    pub evidence: Vec<Op>,
}

/// Writes a festival's archive.
pub fn export(store: &Store, festival: &FestivalId) -> Result<Vec<u8>, ExchangeError> {
    let ops = store.ops(festival)?;
    if ops.is_empty() {
        return Err(ExchangeError::Store(StoreError::NotFound(format!("festival {}", festival.short()))));
    }
    let evidence = store.fork_evidence(festival)?;
    let size: usize = ops.iter().map(|o| o.bytes().len()).sum::<usize>() + evidence.iter().map(Vec::len).sum::<usize>();
    let mut w = Writer::with_capacity(size + 128);
    w.raw(MAGIC);
    w.raw(festival.as_bytes());
    w.varint(ops.len() as u64);
    for op in &ops {
        w.raw(op.bytes());
    }
    w.varint(evidence.len() as u64);
    for e in &evidence {
        w.raw(e);
    }
    let sum = checksum(w.as_slice());
    w.raw(sum.as_bytes());
    Ok(w.into_vec())
}

/// The checksum that ends an archive: BLAKE3 of everything before it.
pub fn checksum(bytes: &[u8]) -> blake3::Hash {
    blake3::hash(bytes)
}

fn bad(at: usize, what: impl Into<String>) -> ExchangeError {
    ExchangeError::Archive { offset: at, reason: what.into() }
}

/// Reads and verifies an archive completely (checksum, every op's encoding and signature, every
/// log's chain) before anything is stored, so a damaged or forged archive changes nothing.
pub fn read(bytes: &[u8]) -> Result<Archive, ExchangeError> {
    if bytes.len() < MAGIC.len() + 32 + 2 + 32 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad(0, "not a Meadow festival archive"));
    }
    let (body, checksum_bytes) = bytes.split_at(bytes.len() - 32);
    if checksum(body).as_bytes() != checksum_bytes {
        return Err(bad(body.len(), "checksum mismatch: the file is damaged or incomplete"));
    }
    let mut r = Reader::new(&body[MAGIC.len()..]);
    let base = MAGIC.len();
    let festival = FestivalId(r.array().map_err(|e| bad(base, e.to_string()))?);
    let read_ops = |r: &mut Reader<'_>, what: &str| -> Result<Vec<Op>, ExchangeError> {
        let at = base + r.position();
        let n = r.varint().map_err(|e| bad(at, e.to_string()))?;
        // Every op takes well over a hundred bytes, which bounds a lying count.
        if n > (r.remaining() / 100) as u64 + 1 {
            return Err(bad(at, format!("{what} count {n} does not fit the file")));
        }
        let mut out = Vec::with_capacity(n as usize);
        for i in 0..n {
            let at = base + r.position();
            let rest = &body[at..];
            let (op, used) = Op::decode_prefix(&rest[..rest.len().min(MAX_OP_SIZE)])
                .map_err(|e| bad(at, format!("{what} {i}: {e}")))?;
            if op.festival() != festival {
                return Err(bad(at, format!("{what} {i} belongs to another festival")));
            }
            r.take(used).map_err(|e| bad(at, e.to_string()))?;
            out.push(op);
        }
        Ok(out)
    };
    let ops = read_ops(&mut r, "op")?;
    let evidence = read_ops(&mut r, "evidence op")?;
    r.finish().map_err(|e| bad(base + r.position(), e.to_string()))?;

    verify_all(&ops)?;
    verify_all(&evidence)?;
    check_chains(&ops)?;
    Ok(Archive { festival, ops, evidence })
}

fn verify_all(ops: &[Op]) -> Result<(), ExchangeError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = ops.len().div_ceil(threads).max(1);
    let failures: Vec<(OpId, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = ops
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter_map(|op| op.verify_signature().err().map(|e| (op.id(), e.to_string())))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|_| vec![(OpId([0; 32]), "verifier thread failed".into())]))
            .collect()
    });
    match failures.first() {
        None => Ok(()),
        Some((id, e)) => Err(ExchangeError::Invalid(format!("op {}: {e}", id.short()))),
    }
}

fn check_chains(ops: &[Op]) -> Result<(), ExchangeError> {
    let mut logs: HashMap<PublicKey, Vec<&Op>> = HashMap::new();
    for op in ops {
        logs.entry(op.author()).or_default().push(op);
    }
    for (author, mut log) in logs {
        log.sort_by_key(|o| o.seq());
        for (i, op) in log.iter().enumerate() {
            let broken = |why: &str| {
                ExchangeError::Invalid(format!("log of {} at seq {}: {why}", author.fingerprint(), op.seq()))
            };
            if op.seq() != i as u64 {
                return Err(broken("missing or repeated sequence number"));
            }
            if i > 0 {
                let prev = log[i - 1];
                if op.header().backlink != Some(prev.id()) {
                    return Err(broken("backlink does not name the previous op"));
                }
                if op.lamport() <= prev.lamport() || op.lamport() - prev.lamport() > crate::op::rules::MAX_CLOCK_STEP {
                    return Err(broken("Lamport clock does not increase, or runs too far ahead"));
                }
            }
        }
    }
    Ok(())
}

/// Stores a verified archive's ops and its evidence (which marks equivocating authors here too),
/// all or nothing: an archive whose ops this store refuses (a clock or log limit, say) changes
/// nothing.
pub fn import(store: &mut Store, archive: Archive) -> Result<IngestReport, ExchangeError> {
    let mut ops = archive.ops;
    // Evidence conflicts with ops above by construction: it is recorded, not refused.
    ops.extend(archive.evidence);
    match store.ingest_all(ops, &crate::view::Arrival::by(crate::view::Via::Archive))? {
        Ok(report) => Ok(report),
        Err(r) => Err(ExchangeError::Invalid(format!(
            "op {}: {} (nothing from the archive was stored)",
            r.id.map(|i| i.short()).unwrap_or_default(),
            r.reason
        ))),
    }
}
