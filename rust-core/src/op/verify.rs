//! Op signatures: the cofactored (ZIP 215) Ed25519 rule, checked one op at a time or many at
//! once. Both ways give the same verdict for every op, whatever else a batch holds, which is
//! why the rule is the cofactored one: with the cofactorless equation a batch's verdict on a
//! crafted signature depends on its random coefficients (docs/protocol.md, "Signatures").

use std::collections::HashMap;
use std::convert::Infallible;

use ed25519_zebra::{Signature, VerificationKey, VerificationKeyBytes, batch};

use super::{Op, OpError, signed_message};
use crate::identity::PublicKey;

/// Ops checked in one batch equation at most: past this a batch gains little, and a failed one
/// costs more to bisect.
pub const MAX_BATCH: usize = 64;

impl Op {
    /// Verifies the author's signature over the header (which commits to the body by hash).
    pub fn verify_signature(&self) -> Result<(), OpError> {
        self.header.author.verifying_key().map_err(|_| OpError::InvalidAuthor)?;
        let key = VerificationKey::try_from(self.header.author.0).map_err(|_| OpError::InvalidAuthor)?;
        let signed = signed_message(&self.bytes[..self.header_len - 64]);
        key.verify(&Signature::from_bytes(&self.header.signature), &signed).map_err(|_| OpError::BadSignature)
    }
}

/// Verifies the signatures of `ops` together, a verdict per op in their order, each the one
/// [`Op::verify_signature`] gives. Batches of up to [`MAX_BATCH`] share one multi-scalar
/// multiplication; a batch that fails is halved until its bad signatures are found, so a forged
/// op costs its batch about two more equations per halving, and only the forged op is refused.
pub fn verify_signatures<'a>(ops: impl IntoIterator<Item = &'a Op>) -> Vec<Result<(), OpError>> {
    let ops: Vec<&Op> = ops.into_iter().collect();
    let mut verdicts: Vec<Result<(), OpError>> = vec![Ok(()); ops.len()];
    // An author's key is checked once for all of its ops here.
    let mut keys: HashMap<PublicKey, bool> = HashMap::new();
    let mut items = Vec::with_capacity(ops.len().min(MAX_BATCH));
    for (i, op) in ops.iter().enumerate() {
        let author = op.author();
        if !*keys.entry(author).or_insert_with(|| author.verifying_key().is_ok()) {
            verdicts[i] = Err(OpError::InvalidAuthor);
        } else {
            let signed = signed_message(&op.bytes[..op.header_len - 64]);
            let sig = Signature::from_bytes(&op.header.signature);
            items.push((i, batch::Item::from((VerificationKeyBytes::from(author.0), sig, &signed[..]))));
        }
        if items.len() == MAX_BATCH || i + 1 == ops.len() {
            settle(&ops, &items, &mut verdicts);
            items.clear();
        }
    }
    verdicts
}

/// Checks `items` (indices into `ops`) as one batch; if the equation fails, each half on its
/// own, down to single ops.
fn settle(ops: &[&Op], items: &[(usize, batch::Item)], verdicts: &mut [Result<(), OpError>]) {
    match items {
        [] => {}
        [(i, item)] => {
            if item.clone().verify_single().is_err() {
                verdicts[*i] = Err(OpError::BadSignature);
            }
        }
        _ => {
            let mut verifier = batch::Verifier::new();
            for (_, item) in items {
                verifier.queue(item.clone());
            }
            if verifier.verify(Coefficients::for_batch(items.iter().map(|(i, _)| ops[*i]))).is_err() {
                let (a, b) = items.split_at(items.len() / 2);
                settle(ops, a, verdicts);
                settle(ops, b, verdicts);
            }
        }
    }
}

/// The batch equation's random coefficients, drawn from BLAKE3's output over the ids and
/// signatures of the batch's ops (Fiat-Shamir, as ed25519-dalek's own batch does with a
/// transcript): a signer cannot steer them without changing what they hash, so no randomness
/// from the system is needed and a batch's verdict is reproducible.
struct Coefficients(blake3::OutputReader);

impl Coefficients {
    fn for_batch<'a>(ops: impl Iterator<Item = &'a Op>) -> Self {
        let mut h = blake3::Hasher::new_derive_key("meadow 2026 batch verification coefficients");
        for op in ops {
            h.update(&op.id().0);
            h.update(&op.header.signature);
        }
        Coefficients(h.finalize_xof())
    }
}

impl rand_core::TryRng for Coefficients {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0; 4];
        self.0.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0; 8];
        self.0.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Coefficients {}

/// Ops signed anew by hand, with small-order parts in the nonce point or the key: what only a
/// key's holder can make, on purpose. For the tests of the signature rule.
#[cfg(any(test, feature = "testing"))]
pub mod crafted {
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT as B;
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek::scalar::Scalar;
    use sha2::{Digest, Sha512};

    use crate::identity::PublicKey;
    use crate::op::{Header, Op, signed_message};
    use crate::wire::Writer;

    fn scalar(label: &str, n: u64) -> Scalar {
        let mut h = blake3::Hasher::new();
        h.update(label.as_bytes());
        h.update(&n.to_le_bytes());
        Scalar::from_bytes_mod_order(*h.finalize().as_bytes())
    }

    /// The point of order 4 with `y = 0`.
    pub fn torsion() -> EdwardsPoint {
        CompressedEdwardsY([0; 32]).decompress().unwrap_or_default()
    }

    /// `op`'s header and body signed by a hand-made key (its secret derived from `n`, its point
    /// plus `key_t` times [`torsion`]), with the nonce point `[r]B` plus `nonce_t` times
    /// [`torsion`]. The author changes to that key; everything else stays.
    pub fn resign(op: &Op, n: u64, nonce_t: u8, key_t: u8) -> Op {
        let times = |k: u8| (0..k).fold(EdwardsPoint::default(), |p, _| p + torsion());
        let a = scalar("secret", n);
        let r = scalar("nonce", n);
        let public = (a * B + times(key_t)).compress();
        let mut header: Header = op.header().clone();
        header.author = PublicKey(public.0);
        let mut w = Writer::with_capacity(256);
        header.encode_unsigned(&mut w);
        let signed = signed_message(&w.into_vec());
        let big_r = (r * B + times(nonce_t)).compress();
        let k: [u8; 64] =
            Sha512::new().chain_update(big_r.0).chain_update(public.0).chain_update(&signed).finalize().into();
        let s = r + Scalar::from_bytes_mod_order_wide(&k) * a;
        header.signature[..32].copy_from_slice(&big_r.0);
        header.signature[32..].copy_from_slice(s.as_bytes());
        Op::from_parts(&header, op.body_bytes()).unwrap_or_else(|_| op.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::crafted::{resign, torsion};
    use super::*;
    use crate::identity::Identity;
    use crate::op::tests::vector_ops;
    use crate::op::{LogPosition, LogWriter};
    use crate::wire::{Writer, from_hex, to_hex};

    fn strict(op: &Op) -> bool {
        let mut w = Writer::with_capacity(256);
        op.header().encode_unsigned(&mut w);
        op.author().verify(&signed_message(&w.into_vec()), &op.header().signature)
    }

    /// A thousand ops by twenty authors, fifty each.
    fn thousand() -> Vec<Op> {
        let f = vector_ops()[0].1.festival();
        let mut out = Vec::new();
        for a in 0..20u64 {
            let id = Identity::from_seed(100 + a);
            let mut w = LogWriter::new(f, LogPosition { seq: 0, backlink: None, lamport: 0 });
            for i in 0..50 {
                out.push(w.sign(&id, i, 0, vector_ops()[4].1.body().clone()).expect("op"));
            }
        }
        out
    }

    #[test]
    fn one_forged_op_among_a_thousand_is_the_only_one_refused() {
        let mut ops = thousand();
        // Op 537 carries a signature its author made over another op: valid, but not for it.
        let mut header = ops[537].header().clone();
        header.signature = ops[536].header().signature;
        ops[537] = Op::from_parts(&header, ops[537].body_bytes()).expect("op");
        let verdicts = verify_signatures(&ops);
        assert_eq!(verdicts.len(), 1000);
        for (i, (v, op)) in verdicts.iter().zip(&ops).enumerate() {
            let want = if i == 537 { Err(OpError::BadSignature) } else { Ok(()) };
            assert_eq!(v, &want, "op {i}");
            assert_eq!(op.verify_signature(), want, "op {i} alone");
        }
        // Forged ops everywhere: every one is found, every valid one kept.
        let mut ops = thousand();
        for i in (0..1000).step_by(7) {
            let mut header = ops[i].header().clone();
            header.signature[40] ^= 1;
            ops[i] = Op::from_parts(&header, ops[i].body_bytes()).expect("op");
        }
        for (i, v) in verify_signatures(&ops).iter().enumerate() {
            assert_eq!(v.is_ok(), i % 7 != 0, "op {i}");
        }
    }

    #[test]
    fn batches_and_single_checks_agree_on_signatures_crafted_with_small_order_parts() {
        let base = &vector_ops()[2].1;
        let mut ops = Vec::new();
        for n in 0..40 {
            ops.push(match n % 4 {
                // An honest signature by a hand-made key.
                0 => resign(base, n, 0, 0),
                // A nonce point with a component of order 4: the cofactorless equation fails.
                1 => resign(base, n, 1, 0),
                // A key with such a component.
                2 => resign(base, n, 0, 1),
                // Both.
                _ => resign(base, n, 2, 1),
            });
        }
        for (n, op) in ops.iter().enumerate() {
            assert_eq!(op.verify_signature(), Ok(()), "crafted op {n}");
            // What ed25519-dalek's strict check (the rule before) says of the crafted ones.
            if n % 4 == 1 {
                assert!(!strict(op), "crafted op {n} passes the cofactorless equation");
            }
        }
        // In batches of every composition the verdicts are the single ones.
        let mut mixed: Vec<Op> = ops.clone();
        mixed.extend(thousand().into_iter().take(100));
        for start in 0..8 {
            let verdicts = verify_signatures(&mixed[start..]);
            assert!(verdicts.iter().all(Result::is_ok), "from {start}");
        }
        // A weak (small-order) key is refused whatever its signature.
        let weak = resign(base, 99, 0, 1);
        let mut header = weak.header().clone();
        header.author = PublicKey(torsion().compress().0);
        let weak = Op::from_parts(&header, base.body_bytes()).expect("op");
        assert_eq!(weak.verify_signature(), Err(OpError::InvalidAuthor));
        assert_eq!(verify_signatures([&weak, base]), vec![Err(OpError::InvalidAuthor), Ok(())]);
    }

    #[test]
    fn the_signature_vector_matches_protocol_doc() {
        let op = resign(&vector_ops()[2].1, 7, 1, 0);
        if std::env::var_os("MEADOW_PRINT_VECTORS").is_some() {
            println!("signature torsion-nonce\nop {}\n", to_hex(op.bytes()));
        }
        let doc = include_str!("../../../docs/protocol.md");
        let at = doc.find("signature torsion-nonce").expect("docs/protocol.md lacks signature torsion-nonce");
        let hex = doc[at..].lines().nth(1).and_then(|l| l.strip_prefix("op ")).expect("op line");
        assert_eq!(hex, to_hex(op.bytes()));
        let documented = Op::decode(&from_hex(hex).expect("hex")).expect("decodes");
        assert_eq!(documented.verify_signature(), Ok(()));
        assert!(!strict(&documented));
    }
}
