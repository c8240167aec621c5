//! Key pairs, signing and human fingerprints: a key pair is an identity, there are no accounts.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use thiserror::Error;

use crate::wire::{from_hex, to_hex};

/// Why an identity could not be loaded, created or used.
#[derive(Debug, Error)]
pub enum IdentityError {
    /// Reading or writing the key file failed.
    #[error("identity file {path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The key file does not hold a secret key.
    #[error("identity file {0} is corrupt (expected 64 hex digits)")]
    Corrupt(String),
    /// The operating system gave no randomness.
    #[error("no randomness available: {0}")]
    Random(String),
}

/// Why a public key or signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// Not 64 hex digits.
    #[error("not a public key (expected 64 hex digits)")]
    Malformed,
    /// Not a point on the curve, or a small-order point that would make signatures meaningless.
    #[error("not a valid ed25519 public key")]
    InvalidPoint,
}

/// An author's ed25519 public key, as carried in op headers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

#[cfg(feature = "uniffi")]
uniffi::custom_type!(PublicKey, String, {
    lower: |k| k.to_hex(),
    try_lift: |s| Ok(PublicKey::from_hex(&s)?),
});

impl PublicKey {
    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, the form the CLI prints and accepts.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// Parses 64 hex digits and checks that they are a usable ed25519 key.
    pub fn from_hex(s: &str) -> Result<Self, KeyError> {
        let bytes = from_hex(s.trim()).ok_or(KeyError::Malformed)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Malformed)?;
        let key = PublicKey(arr);
        key.verifying_key()?;
        Ok(key)
    }

    /// The dalek verifying key; rejects bytes that are not a point and weak (small-order) keys.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        let vk = VerifyingKey::from_bytes(&self.0).map_err(|_| KeyError::InvalidPoint)?;
        if vk.is_weak() {
            return Err(KeyError::InvalidPoint);
        }
        Ok(vk)
    }

    /// Strict ed25519 verification (RFC 8032 with canonical encodings and no small-order keys), so
    /// that every implementation accepts exactly the same signatures.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let Ok(vk) = self.verifying_key() else {
            return false;
        };
        vk.verify_strict(message, &Signature::from_bytes(signature)).is_ok()
    }

    /// A short fingerprint people can read aloud and compare: 16 base32 characters in 4 groups.
    pub fn fingerprint(&self) -> String {
        let digest = blake3::derive_key("meadow 2026 fingerprint v1", &self.0);
        let mut out = String::with_capacity(19);
        // 80 bits from the digest, 5 bits per Crockford base32 character.
        let mut acc: u128 = 0;
        for b in &digest[..10] {
            acc = (acc << 8) | u128::from(*b);
        }
        const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        for i in 0..16 {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            let shift = 75 - 5 * i;
            out.push(ALPHABET[((acc >> shift) & 0x1f) as usize] as char);
        }
        out
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", &self.to_hex()[..12])
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A device's key pair.
pub struct Identity {
    signing: SigningKey,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        write!(f, "Identity({:?})", self.public())
    }
}

impl Identity {
    /// A fresh key pair from the operating system's randomness.
    pub fn generate() -> Result<Self, IdentityError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| IdentityError::Random(e.to_string()))?;
        Ok(Self::from_secret(secret))
    }

    /// The key pair for a 32-byte secret (tests and benchmarks use fixed secrets).
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self { signing: SigningKey::from_bytes(&secret) }
    }

    /// The key pair derived from a seed number; for tests, demos and benchmarks only.
    pub fn from_seed(seed: u64) -> Self {
        Self::from_secret(blake3::derive_key("meadow 2026 test identity", &seed.to_le_bytes()))
    }

    /// Loads the key from `path`, or creates it there (readable by the owner only) if absent.
    pub fn load_or_create(path: &Path) -> Result<Self, IdentityError> {
        let io = |source| IdentityError::Io { path: path.display().to_string(), source };
        match fs::read_to_string(path) {
            Ok(text) => {
                let bytes = from_hex(text.trim()).ok_or_else(|| IdentityError::Corrupt(path.display().to_string()))?;
                let secret: [u8; 32] =
                    bytes.try_into().map_err(|_| IdentityError::Corrupt(path.display().to_string()))?;
                Ok(Self::from_secret(secret))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let id = Self::generate()?;
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir).map_err(io)?;
                }
                let mut opts = fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    opts.mode(0o600);
                }
                let mut file = opts.open(path).map_err(io)?;
                file.write_all(to_hex(&id.signing.to_bytes()).as_bytes()).map_err(io)?;
                file.write_all(b"\n").map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(id)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// A secret for another purpose (a transport key), derived so that it reveals nothing about
    /// the signing key and signatures made with one can never be taken for the other's.
    pub fn derive_secret(&self, purpose: &str) -> [u8; 32] {
        blake3::derive_key(purpose, &self.signing.to_bytes())
    }

    /// This identity's public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// An ed25519 signature over `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let id = Identity::from_seed(1);
        let sig = id.sign(b"hello");
        assert!(id.public().verify(b"hello", &sig));
        assert!(!id.public().verify(b"hellp", &sig));
        assert!(!Identity::from_seed(2).public().verify(b"hello", &sig));
    }

    #[test]
    fn fingerprint_shape() {
        let fp = Identity::from_seed(1).public().fingerprint();
        assert_eq!(fp.len(), 19);
        assert_eq!(fp.matches('-').count(), 3);
        assert_ne!(fp, Identity::from_seed(2).public().fingerprint());
    }

    #[test]
    fn weak_keys_are_rejected() {
        // The identity point (all zero but the first byte) has small order.
        let mut weak = [0u8; 32];
        weak[0] = 1;
        assert_eq!(PublicKey(weak).verifying_key().err(), Some(KeyError::InvalidPoint));
        assert_eq!(PublicKey::from_hex("zz").err(), Some(KeyError::Malformed));
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/identity.key");
        let a = Identity::load_or_create(&path).expect("create");
        let b = Identity::load_or_create(&path).expect("load");
        assert_eq!(a.public(), b.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(&path, "not a key").expect("write");
        assert!(matches!(Identity::load_or_create(&path), Err(IdentityError::Corrupt(_))));
    }
}
