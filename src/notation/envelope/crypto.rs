//! The six Notation signature algorithms over RustCrypto primitives, and the rule that ties
//! the algorithm to the signing key (RSA 2048/3072/4096 → PS256/384/512, EC P-256/384/521 →
//! ES256/384/512).

use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::traits::PublicKeyParts as _;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Algorithm {
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
}

impl Algorithm {
    pub fn from_jose(name: &str) -> Result<Self, String> {
        Ok(match name {
            "PS256" => Self::PS256,
            "PS384" => Self::PS384,
            "PS512" => Self::PS512,
            "ES256" => Self::ES256,
            "ES384" => Self::ES384,
            "ES512" => Self::ES512,
            other => {
                return Err(format!("signature algorithm {other:?} is not allowed (PS256/384/512, ES256/384/512)"));
            }
        })
    }

    /// COSE algorithm identifiers (RFC 9053).
    pub fn from_cose(id: i64) -> Result<Self, String> {
        Ok(match id {
            -37 => Self::PS256,
            -38 => Self::PS384,
            -39 => Self::PS512,
            -7 => Self::ES256,
            -35 => Self::ES384,
            -36 => Self::ES512,
            other => return Err(format!("COSE algorithm {other} is not allowed (PS256/384/512, ES256/384/512)")),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::ES512 => "ES512",
        }
    }
}

/// A parsed signing key; parsing once lets a cached chain verify many signatures.
#[derive(Clone)]
pub enum PublicKey {
    Rsa(RsaKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.algorithm().name())
    }
}

/// An RSA key with the PKCS#1 encoding ring verifies with, made once: encoding the modulus
/// on every signature cost a few microseconds of the ~25 a PS256 verification takes.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaKey {
    key: rsa::RsaPublicKey,
    pkcs1: Vec<u8>,
    bits: usize,
}

impl RsaKey {
    pub fn new(key: rsa::RsaPublicKey) -> Self {
        use rsa::pkcs1::EncodeRsaPublicKey as _;
        // A key that does not encode (none does, in practice) keeps no bytes: ring refuses an
        // empty key, so every signature fails with it rather than anything passing.
        let pkcs1 = key.to_pkcs1_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default();
        let bits = key.n().bits();
        RsaKey { key, pkcs1, bits }
    }

    pub fn bits(&self) -> usize {
        self.bits
    }
}

impl std::ops::Deref for RsaKey {
    type Target = rsa::RsaPublicKey;
    fn deref(&self) -> &rsa::RsaPublicKey {
        &self.key
    }
}

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256_OID: &str = "1.2.840.10045.3.1.7";
const P384_OID: &str = "1.3.132.0.34";
const P521_OID: &str = "1.3.132.0.35";

/// Smallest RSA modulus any certificate of a chain may have (the leaf's own minimum).
pub const MIN_RSA_BITS: usize = 2048;

/// The key rule for every certificate of a chain, CA, root or TSA: RSA of at least
/// [`MIN_RSA_BITS`] (the rsa crate refuses more than 4096 on parsing) and EC on P-256,
/// P-384 or P-521 with a valid point. The signing leaf is held to the narrower
/// [`PublicKey::from_spki`] as well.
pub fn check_certificate_key(spki: &SubjectPublicKeyInfoOwned) -> Result<(), String> {
    match spki.algorithm.oid.to_string().as_str() {
        // RSASSA-PSS keys (1.2.840.113549.1.1.10) carry the same PKCS#1 key.
        RSA_ENCRYPTION | RSASSA_PSS => {
            let bits = spki.subject_public_key.as_bytes().ok_or("public key bit string is not whole bytes")?;
            let key = rsa::RsaPublicKey::from_pkcs1_der(bits).map_err(|e| format!("bad RSA public key: {e}"))?;
            let size = key.n().bits();
            if size < MIN_RSA_BITS {
                return Err(format!(
                    "rsa key size {size} bits is not supported: every certificate key needs at least {MIN_RSA_BITS} bits"
                ));
            }
            Ok(())
        }
        EC_PUBLIC_KEY => PublicKey::from_spki(spki).map(|_| ()),
        other => Err(format!("public key algorithm {other} is not supported (RSA, ECDSA)")),
    }
}

impl PublicKey {
    /// The key of a certificate, refusing the types and sizes Notation does not allow.
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, String> {
        let bits = spki.subject_public_key.as_bytes().ok_or("public key bit string is not whole bytes")?;
        match spki.algorithm.oid.to_string().as_str() {
            RSA_ENCRYPTION => {
                let key = rsa::RsaPublicKey::from_pkcs1_der(bits).map_err(|e| format!("bad RSA public key: {e}"))?;
                let size = key.n().bits();
                if ![2048, 3072, 4096].contains(&size) {
                    return Err(format!("rsa key size {size} bits is not supported"));
                }
                Ok(PublicKey::Rsa(RsaKey::new(key)))
            }
            EC_PUBLIC_KEY => {
                let curve: der::asn1::ObjectIdentifier = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as().ok())
                    .ok_or("EC key without a named curve")?;
                match curve.to_string().as_str() {
                    P256_OID => p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                        .map(PublicKey::P256)
                        .map_err(|e| format!("bad P-256 key: {e}")),
                    P384_OID => p384::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                        .map(PublicKey::P384)
                        .map_err(|e| format!("bad P-384 key: {e}")),
                    P521_OID => p521::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                        .map(PublicKey::P521)
                        .map_err(|e| format!("bad P-521 key: {e}")),
                    other => Err(format!("elliptic curve {other} is not supported (P-256, P-384, P-521)")),
                }
            }
            other => Err(format!("public key algorithm {other} is not supported (RSA, ECDSA)")),
        }
    }

    /// The only algorithm this key may sign with.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Rsa(k) => match k.bits() {
                2048 => Algorithm::PS256,
                3072 => Algorithm::PS384,
                _ => Algorithm::PS512,
            },
            PublicKey::P256(_) => Algorithm::ES256,
            PublicKey::P384(_) => Algorithm::ES384,
            PublicKey::P521(_) => Algorithm::ES512,
        }
    }

    /// Verifies `sig` (JOSE/COSE form: PSS bytes, or fixed-length `r || s`) over `msg`.
    pub fn verify(&self, alg: Algorithm, msg: &[u8], sig: &[u8]) -> Result<(), String> {
        let derived = self.algorithm();
        if alg != derived {
            return Err(format!(
                "mismatch between signature algorithm derived from signing certificate ({}) and signing algorithm specified ({})",
                derived.name(),
                alg.name()
            ));
        }
        let bad = || "signature is invalid: it does not verify with the signing certificate's key".to_string();
        // ring (already linked for TLS) for what it has: its RSA-PSS and P-256/P-384 verify run
        // at OpenSSL's speed, several times RustCrypto's (BENCHMARKS.md). ring has no P-521.
        use ring::signature::{self as ring_sig, UnparsedPublicKey};
        match self {
            PublicKey::Rsa(k) => {
                // ring verifies PSS with a salt as long as the hash, which is what Go's
                // signers (notation, AWS Signer) write; any other salt is refused.
                let scheme = match alg {
                    Algorithm::PS256 => &ring_sig::RSA_PSS_2048_8192_SHA256,
                    Algorithm::PS384 => &ring_sig::RSA_PSS_2048_8192_SHA384,
                    _ => &ring_sig::RSA_PSS_2048_8192_SHA512,
                };
                UnparsedPublicKey::new(scheme, &k.pkcs1).verify(msg, sig).map_err(|_| bad())
            }
            PublicKey::P256(k) => UnparsedPublicKey::new(&ring_sig::ECDSA_P256_SHA256_FIXED, k.to_encoded_point(false))
                .verify(msg, sig)
                .map_err(|_| bad()),
            PublicKey::P384(k) => UnparsedPublicKey::new(&ring_sig::ECDSA_P384_SHA384_FIXED, k.to_encoded_point(false))
                .verify(msg, sig)
                .map_err(|_| bad()),
            PublicKey::P521(k) => {
                use p256::ecdsa::signature::Verifier as _;
                let s = p521::ecdsa::Signature::from_slice(sig).map_err(|_| bad())?;
                k.verify(msg, &s).map_err(|_| bad())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest as _, Sha256};

    fn rsa_key() -> rsa::RsaPrivateKey {
        rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap()
    }

    /// Go's signers write a salt as long as the hash; a salt of 0 (or any other length) is
    /// refused, where RustCrypto's verifier took it.
    #[test]
    fn rsa_pss_needs_a_salt_as_long_as_the_hash() {
        let k = rsa_key();
        let public = PublicKey::Rsa(RsaKey::new(k.to_public_key()));
        let digest = Sha256::digest(b"msg");
        let sign =
            |salt: usize| k.sign_with_rng(&mut rsa::rand_core::OsRng, rsa::Pss::new_with_salt::<Sha256>(salt), &digest);
        let good = sign(32).unwrap();
        assert_eq!(public.verify(Algorithm::PS256, b"msg", &good), Ok(()));
        assert!(public.verify(Algorithm::PS256, b"other", &good).is_err());
        for salt in [0, 20, 64] {
            let odd = sign(salt).unwrap();
            assert!(public.verify(Algorithm::PS256, b"msg", &odd).is_err(), "salt {salt}");
        }
    }

    /// ECDSA as Go verifies it: the high-S twin of a valid signature verifies too (Go does
    /// not normalise), a flipped bit does not.
    #[test]
    fn p256_and_p384_verify_as_go_does() {
        use p256::ecdsa::signature::Signer as _;
        let k = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let public = PublicKey::P256(*k.verifying_key());
        let s: p256::ecdsa::Signature = k.sign(b"msg");
        let bytes = s.to_bytes().to_vec();
        assert_eq!(public.verify(Algorithm::ES256, b"msg", &bytes), Ok(()));
        let (r, low_s) = s.split_scalars();
        let high = p256::ecdsa::Signature::from_scalars(r, -*low_s).unwrap();
        assert_eq!(public.verify(Algorithm::ES256, b"msg", &high.to_bytes()), Ok(()));
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert!(public.verify(Algorithm::ES256, b"msg", &flipped).is_err());
        assert!(public.verify(Algorithm::ES256, b"msg", &bytes[..63]).is_err(), "short signature");

        let k = p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).unwrap();
        let public = PublicKey::P384(*k.verifying_key());
        let s: p384::ecdsa::Signature = k.sign(b"msg");
        assert_eq!(public.verify(Algorithm::ES384, b"msg", &s.to_bytes()), Ok(()));
        assert!(public.verify(Algorithm::ES384, b"msg!", &s.to_bytes()).is_err());
        assert!(public.verify(Algorithm::ES256, b"msg", &s.to_bytes()).is_err(), "the algorithm follows the key");
    }
}
