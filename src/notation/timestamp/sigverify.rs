//! Signature checks shared by timestamp tokens (CMS signers, TSA chains) and CRLs, over
//! raw DER so that what is verified is exactly what was signed, not a re-encoding.

use const_oid::ObjectIdentifier;
use der::asn1::AnyRef;
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use rsa::pkcs1::DecodeRsaPublicKey;
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
pub const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// SHA-1 and anything else are refused: Notation accepts only the SHA-2 family.
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self, String> {
        match *oid {
            SHA256 => Ok(Self::Sha256),
            SHA384 => Ok(Self::Sha384),
            SHA512 => Ok(Self::Sha512),
            other => Err(format!("unsupported hash algorithm {other}")),
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha384 => Sha384::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }
}

/// The encoded first element of a SEQUENCE (the to-be-signed part of a certificate or
/// CRL), byte for byte as it arrived: a decode/re-encode round trip could change bytes
/// that a lenient signer produced and make a valid signature fail, or the reverse.
pub fn signed_part(der: &[u8]) -> Result<Vec<u8>, String> {
    let outer = AnyRef::from_der(der).map_err(|e| format!("not DER: {e}"))?;
    if outer.tag() != Tag::Sequence {
        return Err("not a SEQUENCE".into());
    }
    let mut reader = SliceReader::new(outer.value()).map_err(|e| e.to_string())?;
    let first: AnyRef<'_> = reader.decode().map_err(|e| format!("no signed part: {e}"))?;
    first.to_der().map_err(|e| e.to_string())
}

/// Verifies `sig` over `msg` with `key`. `alg` is the signature algorithm as written;
/// `cms_digest` is the SignerInfo digest algorithm, needed when a CMS signer names a bare
/// key algorithm (rsaEncryption, ecPublicKey) instead of a combined one.
pub fn verify(
    key: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    cms_digest: Option<&ObjectIdentifier>,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    let needs_digest = || -> Result<HashAlg, String> {
        let oid = cms_digest.ok_or_else(|| format!("signature algorithm {} names no hash", alg.oid))?;
        HashAlg::from_oid(oid)
    };
    match alg.oid {
        SHA256_WITH_RSA => verify_rsa_pkcs1(key, HashAlg::Sha256, msg, sig),
        SHA384_WITH_RSA => verify_rsa_pkcs1(key, HashAlg::Sha384, msg, sig),
        SHA512_WITH_RSA => verify_rsa_pkcs1(key, HashAlg::Sha512, msg, sig),
        RSA_ENCRYPTION => verify_rsa_pkcs1(key, needs_digest()?, msg, sig),
        RSASSA_PSS => verify_rsa_pss(key, alg, msg, sig),
        ECDSA_SHA256 => verify_ecdsa(key, HashAlg::Sha256, msg, sig),
        ECDSA_SHA384 => verify_ecdsa(key, HashAlg::Sha384, msg, sig),
        ECDSA_SHA512 => verify_ecdsa(key, HashAlg::Sha512, msg, sig),
        EC_PUBLIC_KEY => verify_ecdsa(key, needs_digest()?, msg, sig),
        other => Err(format!("unsupported signature algorithm {other}")),
    }
}

fn rsa_key(key: &SubjectPublicKeyInfoOwned) -> Result<rsa::RsaPublicKey, String> {
    if key.algorithm.oid != RSA_ENCRYPTION && key.algorithm.oid != RSASSA_PSS {
        return Err(format!("RSA signature but the key is {}", key.algorithm.oid));
    }
    let bytes = key.subject_public_key.as_bytes().ok_or("RSA key bit string is not whole bytes")?;
    rsa::RsaPublicKey::from_pkcs1_der(bytes).map_err(|e| format!("bad RSA public key: {e}"))
}

fn verify_rsa_pkcs1(key: &SubjectPublicKeyInfoOwned, hash: HashAlg, msg: &[u8], sig: &[u8]) -> Result<(), String> {
    use rsa::traits::PublicKeyParts as _;
    let parsed = rsa_key(key)?;
    // ring (OpenSSL's speed; RustCrypto is ~10x slower) for the sizes it takes; the rest, and
    // nothing else, falls back to RustCrypto.
    if (2048..=8192).contains(&parsed.n().bits()) {
        let scheme = match hash {
            HashAlg::Sha256 => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            HashAlg::Sha384 => &ring::signature::RSA_PKCS1_2048_8192_SHA384,
            HashAlg::Sha512 => &ring::signature::RSA_PKCS1_2048_8192_SHA512,
        };
        let der = key.subject_public_key.as_bytes().ok_or("RSA key bit string is not whole bytes")?;
        return ring::signature::UnparsedPublicKey::new(scheme, der)
            .verify(msg, sig)
            .map_err(|_| format!("RSA PKCS#1 v1.5 {} signature does not verify", hash.name()));
    }
    let key = parsed;
    let digest = hash.digest(msg);
    let scheme = match hash {
        HashAlg::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
        HashAlg::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
        HashAlg::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
    };
    key.verify(scheme, &digest, sig).map_err(|_| format!("RSA PKCS#1 v1.5 {} signature does not verify", hash.name()))
}

fn verify_rsa_pss(
    key: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    let params = alg.parameters.as_ref().ok_or("RSASSA-PSS without parameters")?;
    let params_der = params.to_der().map_err(|e| e.to_string())?;
    let params =
        rsa::pkcs1::RsaPssParams::from_der(&params_der).map_err(|e| format!("bad RSASSA-PSS parameters: {e}"))?;
    let hash = HashAlg::from_oid(&params.hash.oid)?;
    // A mask generation hash different from the message hash is legal but unheard of in
    // practice; refusing it keeps the accepted set to what the spec lists (PS256/384/512).
    let mgf_hash = params.mask_gen.parameters.as_ref().map(|p| p.oid);
    if params.mask_gen.oid != MGF1 || mgf_hash != Some(params.hash.oid) {
        return Err("RSASSA-PSS with a mask generation function other than MGF1 over the same hash".into());
    }
    let key = rsa_key(key)?;
    let digest = hash.digest(msg);
    let salt = usize::from(params.salt_len);
    let scheme = match hash {
        HashAlg::Sha256 => rsa::Pss::new_with_salt::<Sha256>(salt),
        HashAlg::Sha384 => rsa::Pss::new_with_salt::<Sha384>(salt),
        HashAlg::Sha512 => rsa::Pss::new_with_salt::<Sha512>(salt),
    };
    key.verify(scheme, &digest, sig).map_err(|_| format!("RSASSA-PSS {} signature does not verify", hash.name()))
}

fn verify_ecdsa(key: &SubjectPublicKeyInfoOwned, hash: HashAlg, msg: &[u8], sig: &[u8]) -> Result<(), String> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    if key.algorithm.oid != EC_PUBLIC_KEY {
        return Err(format!("ECDSA signature but the key is {}", key.algorithm.oid));
    }
    let curve: ObjectIdentifier =
        key.algorithm.parameters.as_ref().and_then(|p| p.decode_as().ok()).ok_or("EC key without a named curve")?;
    let point = key.subject_public_key.as_bytes().ok_or("EC key bit string is not whole bytes")?;
    let digest = hash.digest(msg);
    let bad = |e: p256::ecdsa::Error| format!("ECDSA {} signature does not verify: {e}", hash.name());
    // ring for the curve and hash pairs it has (with the point uncompressed, as ring wants it);
    // RustCrypto for the rest.
    let ring_alg = match (&curve, hash) {
        (c, HashAlg::Sha256) if *c == P256 => Some(&ring::signature::ECDSA_P256_SHA256_ASN1),
        (c, HashAlg::Sha384) if *c == P256 => Some(&ring::signature::ECDSA_P256_SHA384_ASN1),
        (c, HashAlg::Sha256) if *c == P384 => Some(&ring::signature::ECDSA_P384_SHA256_ASN1),
        (c, HashAlg::Sha384) if *c == P384 => Some(&ring::signature::ECDSA_P384_SHA384_ASN1),
        _ => None,
    };
    if let Some(alg) = ring_alg {
        let uncompressed = if curve == P256 {
            p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|e| format!("bad P-256 key: {e}"))?
                .to_encoded_point(false)
                .as_bytes()
                .to_vec()
        } else {
            p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|e| format!("bad P-384 key: {e}"))?
                .to_encoded_point(false)
                .as_bytes()
                .to_vec()
        };
        return ring::signature::UnparsedPublicKey::new(alg, uncompressed)
            .verify(msg, sig)
            .map_err(|_| format!("ECDSA {} signature does not verify", hash.name()));
    }
    match curve {
        P256 => {
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|e| format!("bad P-256 key: {e}"))?;
            let s = p256::ecdsa::Signature::from_der(sig).map_err(bad)?;
            vk.verify_prehash(&digest, &s).map_err(bad)
        }
        P384 => {
            let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|e| format!("bad P-384 key: {e}"))?;
            let s = p384::ecdsa::Signature::from_der(sig).map_err(bad)?;
            vk.verify_prehash(&digest, &s).map_err(bad)
        }
        P521 => {
            let vk = p521::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|e| format!("bad P-521 key: {e}"))?;
            let s = p521::ecdsa::Signature::from_der(sig).map_err(bad)?;
            vk.verify_prehash(&p521_prehash(&digest), &s).map_err(bad)
        }
        other => Err(format!("unsupported elliptic curve {other}")),
    }
}

/// ECDSA uses a hash shorter than the curve order whole (FIPS 186-5 §6.4.2); the
/// RustCrypto verifier refuses a prehash under half the 66-byte P-521 field, so SHA-256 is
/// given to it left-padded with zeros, which is the same integer.
fn p521_prehash(digest: &[u8]) -> Vec<u8> {
    const PADDED: usize = 64;
    if digest.len() >= PADDED {
        return digest.to_vec();
    }
    let mut padded = vec![0u8; PADDED - digest.len()];
    padded.extend_from_slice(digest);
    padded
}

pub fn to_utc(t: x509_cert::time::Time) -> chrono::DateTime<chrono::Utc> {
    let d = t.to_unix_duration();
    chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos()).unwrap_or_default()
}

/// Whether `issuer` signed `child`: names must chain and the signature must verify.
/// `child_der` is the child's encoding as received, the bytes its signature covers.
pub fn issued_by(
    child_der: &[u8],
    child: &x509_cert::Certificate,
    issuer: &x509_cert::Certificate,
) -> Result<(), String> {
    if child.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err(format!(
            "certificate {} names issuer {}, not {}",
            child.tbs_certificate.subject, child.tbs_certificate.issuer, issuer.tbs_certificate.subject
        ));
    }
    // RFC 5280 §4.1.1.2: the algorithm inside the signed part must be the one outside it,
    // which is what the signature is checked with; otherwise the signer and the verifier
    // may each have meant a different algorithm (Go refuses such a certificate too).
    if child.tbs_certificate.signature != child.signature_algorithm {
        return Err(format!(
            "certificate {}: the signature algorithm inside the certificate ({}) differs from the one it is signed with ({})",
            child.tbs_certificate.subject, child.tbs_certificate.signature.oid, child.signature_algorithm.oid
        ));
    }
    let spki = &issuer.tbs_certificate.subject_public_key_info;
    let key = memo_key(child_der, spki)?;
    let known = verified().lock().expect("signature memo").get(&key).cloned();
    let result = match known {
        Some(known) => known,
        None => {
            let tbs = signed_part(child_der)?;
            let sig = child.signature.as_bytes().ok_or("certificate signature is not whole bytes")?;
            let result = verify(spki, &child.signature_algorithm, None, &tbs, sig);
            let mut memo = verified().lock().expect("signature memo");
            if memo.len() >= MEMO_ENTRIES {
                memo.clear();
            }
            memo.insert(key, result.clone());
            result
        }
    };
    result.map_err(|e| {
        format!(
            "certificate {} is not signed by {}: {e}",
            child.tbs_certificate.subject, issuer.tbs_certificate.subject
        )
    })
}

/// Certificate signatures already checked in this process. One run checks the same few again
/// and again — a trust-store root's self-signature when the store is read and again when a
/// chain ends in it, each P-384 check costing more than the rest of a cold `verify` — and the
/// answer depends only on the certificate's bytes and the key checking it, which the key of
/// the memo covers whole (SHA-256 of both, length-prefixed).
fn verified() -> &'static Memo {
    static MEMO: std::sync::OnceLock<Memo> = std::sync::OnceLock::new();
    MEMO.get_or_init(Default::default)
}

type Memo = std::sync::Mutex<std::collections::HashMap<[u8; 32], Result<(), String>>>;

/// Bounds the memo: a registry of many signers cannot grow it without limit.
const MEMO_ENTRIES: usize = 4096;

fn memo_key(child_der: &[u8], spki: &SubjectPublicKeyInfoOwned) -> Result<[u8; 32], String> {
    let spki_der = spki.to_der().map_err(|e| format!("issuer public key does not encode: {e}"))?;
    let mut h = Sha256::new();
    h.update((child_der.len() as u64).to_be_bytes());
    h.update(child_der);
    h.update((spki_der.len() as u64).to_be_bytes());
    h.update(&spki_der);
    Ok(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

    fn params(cn: &str, ca: bool) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = if ca { IsCa::Ca(BasicConstraints::Unconstrained) } else { IsCa::ExplicitNoCa };
        p
    }

    fn cert(der: &[u8]) -> x509_cert::Certificate {
        x509_cert::Certificate::from_der(der).unwrap()
    }

    /// The memo answers only for the very bytes and key it checked: after a good answer, a
    /// copy with one flipped signature bit, and the same names under another key, still fail.
    #[test]
    fn a_remembered_signature_vouches_for_nothing_else() {
        let root = CertifiedIssuer::self_signed(params("Memo Root", true), KeyPair::generate().unwrap()).unwrap();
        let leaf = params("Memo Leaf", false).signed_by(&KeyPair::generate().unwrap(), &root).unwrap();
        let (root_der, leaf_der) = (root.der().to_vec(), leaf.der().to_vec());
        for _ in 0..2 {
            assert_eq!(issued_by(&leaf_der, &cert(&leaf_der), &cert(&root_der)), Ok(()));
        }
        let mut tampered = leaf_der.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(issued_by(&tampered, &cert(&tampered), &cert(&root_der)).is_err(), "tampered signature");
        let impostor = CertifiedIssuer::self_signed(params("Memo Root", true), KeyPair::generate().unwrap()).unwrap();
        assert!(issued_by(&leaf_der, &cert(&leaf_der), &cert(impostor.der())).is_err(), "same name, other key");
        assert_eq!(issued_by(&leaf_der, &cert(&leaf_der), &cert(&root_der)), Ok(()), "the good answer stays");
    }
}
