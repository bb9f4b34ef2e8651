//! A local private key and its certificate chain, read from PEM files, as a [`super::Signer`].
//! The key decides the algorithm as notation does (EC P-256/384/521 → ES256/384/512, RSA
//! 2048/3072/4096 → PS256/384/512); nothing is returned until the chain passed
//! [`super::precheck::check_chain`] and a probe signature verified with the leaf's key.
//!
//! Errors are [`KeyError`]s naming the file and what to do; they become
//! [`crate::Error::Usage`] for the command line (exit 2): every one of them is about a file the
//! user gave, none about a registry or the network.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use const_oid::ObjectIdentifier;
use der::{Decode as _, Reader as _, Tagged as _};
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::pkcs8::DecodePrivateKey as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use super::precheck::{ChainError, check_chain};
use crate::fsread::{self, MAX_CONFIG_BYTES, Symlinks};
use crate::notation::envelope::crypto::{Algorithm, PublicKey};

/// What the user is told notation can sign with, after every "unsupported".
const SUPPORTED: &str = "notation signs with EC P-256, P-384 or P-521 and RSA 2048, 3072 or 4096 keys";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// `what` is "signing key" or "certificate chain".
    #[error("cannot read the {what} {path}: {reason}")]
    Read { what: &'static str, path: String, reason: String },
    /// `file` is the path, or "the signing key" for bytes given in memory.
    #[error("{file} is empty; give a PEM private key (-----BEGIN PRIVATE KEY-----)")]
    Empty { file: String },
    #[error(
        "{file} is not a PEM file ({detail}); give a PEM private key (-----BEGIN PRIVATE KEY-----), converting a DER \
         one with `openssl pkey -inform DER -in KEY -out KEY.pem`"
    )]
    NotPem { file: String, detail: String },
    #[error("{file} holds no private key (only {found}); give the file with the signing key")]
    NoKey { file: String, found: String },
    #[error("{file} holds {count} private keys; give a file with exactly one, the signing certificate's")]
    SeveralKeys { file: String, count: usize },
    #[error("{file}: encrypted keys are not supported: decrypt it with `openssl pkey -in KEY -out PLAIN`")]
    Encrypted { file: String },
    #[error("{file}: unsupported key: {what}; {SUPPORTED}")]
    Unsupported { file: String, what: String },
    #[error("{file}: malformed {label}: {detail}")]
    Malformed { file: String, label: String, detail: String },
    #[error("{file} holds no certificate (-----BEGIN CERTIFICATE-----); give the signing certificate and its chain")]
    NoCertificate { file: String },
    #[error("{file}: {error}")]
    Chain { file: String, error: ChainError },
    /// The key and the leaf's key agreed, yet a signature made with one did not verify with the
    /// other: a corrupt key that parsed.
    #[error("{file}: a test signature with this key does not verify with the signing certificate ({detail})")]
    SelfTest { file: String, detail: String },
}

impl From<KeyError> for crate::Error {
    fn from(e: KeyError) -> Self {
        crate::Error::Usage(e.to_string())
    }
}

/// The private half, one variant per algorithm family notation signs with.
enum PrivateKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Rsa(rsa::RsaPrivateKey, Algorithm),
}

/// A key and its chain that passed every pre-signing check.
pub struct LocalSigner {
    key: PrivateKey,
    alg: Algorithm,
    chain: Vec<Vec<u8>>,
    leaf_subject: String,
}

impl std::fmt::Debug for LocalSigner {
    // Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSigner")
            .field("alg", &self.alg.name())
            .field("leaf", &self.leaf_subject)
            .field("chain", &self.chain.len())
            .finish()
    }
}

impl LocalSigner {
    /// A signer from PEM bytes, checked at the current time.
    pub fn from_pem(key_pem: &[u8], chain_pem: &[u8]) -> Result<LocalSigner, KeyError> {
        Self::from_pem_at(key_pem, chain_pem, Utc::now())
    }

    /// A signer from PEM bytes, its chain checked at `now` (the signing time the envelope
    /// will carry).
    pub fn from_pem_at(key_pem: &[u8], chain_pem: &[u8], now: DateTime<Utc>) -> Result<LocalSigner, KeyError> {
        Self::build(key_pem, "the signing key", chain_pem, "the certificate chain", now)
    }

    /// A signer from a key file and a certificate chain file (leaf first), checked now.
    pub fn from_files(key: &Path, cert: &Path) -> Result<LocalSigner, KeyError> {
        Self::from_files_at(key, cert, Utc::now())
    }

    pub fn from_files_at(key: &Path, cert: &Path, now: DateTime<Utc>) -> Result<LocalSigner, KeyError> {
        let read = |what: &'static str, path: &Path| {
            fsread::read(path, MAX_CONFIG_BYTES, Symlinks::Follow).map(Zeroizing::new).map_err(|e| KeyError::Read {
                what,
                path: path.display().to_string(),
                reason: e.reason(),
            })
        };
        let key_pem = read("signing key", key)?;
        let chain_pem = read("certificate chain", cert)?;
        Self::build(&key_pem, &key.display().to_string(), &chain_pem, &cert.display().to_string(), now)
    }

    fn build(
        key_pem: &[u8],
        key_file: &str,
        chain_pem: &[u8],
        chain_file: &str,
        now: DateTime<Utc>,
    ) -> Result<LocalSigner, KeyError> {
        let key = parse_key(key_pem, key_file)?;
        let chain = parse_chain(chain_pem, chain_file)?;
        let public = key.public_key();
        let valid = check_chain(&chain, &public, now)
            .map_err(|error| KeyError::Chain { file: chain_file.to_string(), error })?;
        let alg = public.algorithm();
        let signer = LocalSigner { key, alg, chain, leaf_subject: valid.leaf().subject.clone() };
        // Go verifies each envelope it has just made; one probe here proves the pair signs
        // what the verifier accepts before anything reaches a registry.
        let probe = b"sigscope signing key self-test";
        valid
            .leaf_key
            .verify(alg, probe, &super::Signer::sign(&signer, probe))
            .map_err(|detail| KeyError::SelfTest { file: key_file.to_string(), detail })?;
        Ok(signer)
    }

    /// The algorithm the key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The signing certificate's subject, for messages.
    pub fn leaf_subject(&self) -> &str {
        &self.leaf_subject
    }
}

impl PrivateKey {
    fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            PrivateKey::P384(k) => PublicKey::P384(*k.verifying_key()),
            PrivateKey::P521(k) => PublicKey::P521(p521::ecdsa::VerifyingKey::from(k)),
            PrivateKey::Rsa(k, _) => PublicKey::Rsa(crate::notation::envelope::crypto::RsaKey::new(k.to_public_key())),
        }
    }
}

impl super::Signer for LocalSigner {
    fn jws_alg(&self) -> &'static str {
        self.alg.name()
    }

    fn cose_alg(&self) -> coset::iana::Algorithm {
        use coset::iana::Algorithm as A;
        match self.alg {
            Algorithm::PS256 => A::PS256,
            Algorithm::PS384 => A::PS384,
            Algorithm::PS512 => A::PS512,
            Algorithm::ES256 => A::ES256,
            Algorithm::ES384 => A::ES384,
            Algorithm::ES512 => A::ES512,
        }
    }

    /// ECDSA is RFC 6979 deterministic with the curve's hash, as raw `r || s`; RSA is PSS with
    /// MGF1 over the same hash and a salt as long as the hash, as Go signs.
    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match &self.key {
            PrivateKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            PrivateKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            PrivateKey::P521(k) => {
                let s: p521::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            PrivateKey::Rsa(k, alg) => {
                let mut rng = rsa::rand_core::OsRng;
                let signed = match alg {
                    Algorithm::PS256 => k.sign_with_rng(&mut rng, rsa::Pss::new::<Sha256>(), &Sha256::digest(msg)),
                    Algorithm::PS384 => k.sign_with_rng(&mut rng, rsa::Pss::new::<Sha384>(), &Sha384::digest(msg)),
                    _ => k.sign_with_rng(&mut rng, rsa::Pss::new::<Sha512>(), &Sha512::digest(msg)),
                };
                // PSS over a hash fails only for a modulus too short for it, and the key was
                // checked to be 2048 bits or more when it was loaded.
                signed.expect("RSA-PSS signing with a validated key of 2048 bits or more")
            }
        }
    }

    fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }
}

/// One PEM block: its label, RFC 1421 headers (which encrypted traditional keys carry) and
/// base64 body.
struct Block {
    label: String,
    headers: Vec<String>,
    body: Zeroizing<String>,
}

impl Block {
    fn der(&self, file: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        STANDARD.decode(self.body.as_bytes()).map(Zeroizing::new).map_err(|e| KeyError::Malformed {
            file: file.to_string(),
            label: format!("{} block", self.label),
            detail: format!("its body is not base64 ({e})"),
        })
    }
}

/// Every PEM block of `text`; text outside blocks is ignored, as Go's `pem.Decode` does (so
/// `openssl x509 -text` output works), but a block must end with its own END line.
fn pem_blocks(text: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for line in text.lines().map(str::trim) {
        match &mut open {
            None => {
                if let Some(label) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) {
                    open = Some(Block { label: label.to_string(), headers: Vec::new(), body: Zeroizing::default() });
                }
            }
            Some(block) => {
                if let Some(label) = line.strip_prefix("-----END ").and_then(|l| l.strip_suffix("-----")) {
                    if label != block.label {
                        return Err(format!("a BEGIN {} block ends with END {label}", block.label));
                    }
                    blocks.extend(open.take());
                } else if line.starts_with("-----") {
                    return Err(format!("the BEGIN {} block has no END line", block.label));
                } else if block.body.is_empty() && line.contains(':') {
                    block.headers.push(line.to_string());
                } else {
                    block.body.push_str(line);
                }
            }
        }
    }
    match open {
        Some(block) => Err(format!("the BEGIN {} block has no END line", block.label)),
        None => Ok(blocks),
    }
}

fn text_of<'a>(bytes: &'a [u8], file: &str) -> Result<&'a str, KeyError> {
    std::str::from_utf8(bytes)
        .map_err(|_| KeyError::NotPem { file: file.to_string(), detail: "it is binary, not text".into() })
}

fn parse_key(pem: &[u8], file: &str) -> Result<PrivateKey, KeyError> {
    let err_file = || file.to_string();
    if pem.iter().all(u8::is_ascii_whitespace) {
        return Err(KeyError::Empty { file: err_file() });
    }
    let blocks = pem_blocks(text_of(pem, file)?).map_err(|detail| KeyError::NotPem { file: err_file(), detail })?;
    if blocks.is_empty() {
        return Err(KeyError::NotPem { file: err_file(), detail: "no -----BEGIN line".into() });
    }
    // EC PARAMETERS (what `openssl ecparam -genkey` puts first) and certificates beside the
    // key are skipped, as Go's tls.LoadX509KeyPair skips them.
    let keys: Vec<&Block> = blocks.iter().filter(|b| b.label.ends_with("PRIVATE KEY")).collect();
    let block = match keys.as_slice() {
        [one] => *one,
        [] => {
            let mut found: Vec<&str> = blocks.iter().map(|b| b.label.as_str()).collect();
            found.dedup();
            return Err(KeyError::NoKey { file: err_file(), found: found.join(", ") });
        }
        several => return Err(KeyError::SeveralKeys { file: err_file(), count: several.len() }),
    };
    let encrypted_header = block.headers.iter().any(|h| {
        h.split_once(':').is_some_and(|(k, v)| k.trim().eq_ignore_ascii_case("Proc-Type") && v.contains("ENCRYPTED"))
    });
    if block.label == "ENCRYPTED PRIVATE KEY" || encrypted_header {
        return Err(KeyError::Encrypted { file: err_file() });
    }
    if !block.headers.is_empty() {
        return Err(KeyError::Malformed {
            file: err_file(),
            label: format!("{} block", block.label),
            detail: format!("unexpected header {:?}", block.headers[0]),
        });
    }
    let der = block.der(file)?;
    let malformed = |label: &str, detail: String| KeyError::Malformed { file: err_file(), label: label.into(), detail };
    let unsupported = |what: String| KeyError::Unsupported { file: err_file(), what };
    match block.label.as_str() {
        "PRIVATE KEY" => {
            let info = p256::pkcs8::PrivateKeyInfo::try_from(der.as_slice())
                .map_err(|e| malformed("PKCS#8 private key", e.to_string()))?;
            match info.algorithm.oid.to_string().as_str() {
                RSA_ENCRYPTION => rsa_key(info.private_key, file),
                EC_PUBLIC_KEY => {
                    let curve = info
                        .algorithm
                        .parameters_oid()
                        .map_err(|_| unsupported("EC key without a named curve (explicit curve parameters)".into()))?;
                    ec_key(curve, &der, Form::Pkcs8, file)
                }
                other => Err(unsupported(key_algorithm_name(other))),
            }
        }
        "EC PRIVATE KEY" => {
            let curve = sec1_curve(&der).map_err(|e| malformed("SEC1 EC private key", e))?;
            ec_key(curve, &der, Form::Sec1, file)
        }
        "RSA PRIVATE KEY" => rsa_key(&der, file),
        "DSA PRIVATE KEY" => Err(unsupported("DSA".into())),
        "OPENSSH PRIVATE KEY" => Err(unsupported(
            "an OpenSSH-format key; convert it to PKCS#8 PEM with `ssh-keygen -p -m PKCS8 -f KEY`".into(),
        )),
        other => Err(unsupported(format!("a PEM block labelled {other:?}"))),
    }
}

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const P521: &str = "1.3.132.0.35";

fn key_algorithm_name(oid: &str) -> String {
    let name = match oid {
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.3.101.110" => "X25519 (a key-agreement key)",
        "1.3.101.111" => "X448 (a key-agreement key)",
        "1.2.840.113549.1.1.10" => "an RSASSA-PSS-restricted RSA key; give a plain rsaEncryption RSA key",
        "1.2.840.10040.4.1" => "DSA",
        "1.2.840.10046.2.1" | "1.2.840.113549.1.3.1" => "Diffie-Hellman (a key-agreement key)",
        _ => return format!("key algorithm {oid}"),
    };
    name.to_string()
}

fn curve_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.10045.3.1.1" => "P-192",
        "1.3.132.0.33" => "P-224",
        "1.3.132.0.10" => "secp256k1",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        "1.2.156.10197.1.301" => "SM2",
        _ => return format!("EC key on curve {oid}"),
    };
    format!("EC key on curve {name} ({oid})")
}

#[derive(Clone, Copy)]
enum Form {
    Pkcs8,
    Sec1,
}

fn ec_key(curve: ObjectIdentifier, der: &[u8], form: Form, file: &str) -> Result<PrivateKey, KeyError> {
    let malformed = |name: &str, e: String| KeyError::Malformed {
        file: file.to_string(),
        label: format!(
            "{name} {} private key",
            match form {
                Form::Pkcs8 => "PKCS#8",
                Form::Sec1 => "SEC1",
            }
        ),
        detail: e,
    };
    macro_rules! load {
        ($curve:ident, $name:literal) => {{
            let secret = match form {
                Form::Pkcs8 => $curve::SecretKey::from_pkcs8_der(der).map_err(|e| malformed($name, e.to_string())),
                Form::Sec1 => $curve::SecretKey::from_sec1_der(der).map_err(|e| malformed($name, e.to_string())),
            }?;
            secret
        }};
    }
    match curve.to_string().as_str() {
        P256 => Ok(PrivateKey::P256(load!(p256, "P-256").into())),
        P384 => Ok(PrivateKey::P384(load!(p384, "P-384").into())),
        P521 => {
            let secret = load!(p521, "P-521");
            p521::ecdsa::SigningKey::from_bytes(&secret.to_bytes())
                .map(PrivateKey::P521)
                .map_err(|e| malformed("P-521", e.to_string()))
        }
        other => Err(KeyError::Unsupported { file: file.to_string(), what: curve_name(other) }),
    }
}

/// The named curve of a SEC1 `ECPrivateKey` (RFC 5915: version, privateKey, [0] parameters,
/// [1] publicKey), read here because the curve decides which parser applies.
fn sec1_curve(der: &[u8]) -> Result<ObjectIdentifier, String> {
    let outer = der::asn1::AnyRef::from_der(der).map_err(|e| format!("not DER: {e}"))?;
    if outer.tag() != der::Tag::Sequence {
        return Err("not a SEQUENCE".into());
    }
    let mut reader = der::SliceReader::new(outer.value()).map_err(|e| e.to_string())?;
    let version: u8 = reader.decode().map_err(|e| format!("bad version: {e}"))?;
    if version != 1 {
        return Err(format!("version {version}, expected 1"));
    }
    let _: der::asn1::OctetStringRef<'_> = reader.decode().map_err(|e| format!("bad private key: {e}"))?;
    match der::asn1::ContextSpecific::<ObjectIdentifier>::decode_explicit(&mut reader, der::TagNumber::N0) {
        Ok(Some(p)) => Ok(p.value),
        Ok(None) => Err("no curve is named in the key".into()),
        Err(_) => Err("the curve is given by explicit parameters, not by name; unsupported".into()),
    }
}

fn rsa_key(pkcs1_der: &[u8], file: &str) -> Result<PrivateKey, KeyError> {
    let malformed =
        |e: String| KeyError::Malformed { file: file.to_string(), label: "RSA private key".into(), detail: e };
    // The size is read from the structure first, so an 8192-bit or 1024-bit key is named as
    // such rather than failing somewhere inside the RSA crate.
    let raw = rsa::pkcs1::RsaPrivateKey::try_from(pkcs1_der).map_err(|e| malformed(e.to_string()))?;
    let modulus = raw.modulus.as_bytes();
    let bits = modulus.first().map_or(0, |b| modulus.len() * 8 - b.leading_zeros() as usize);
    let alg = match bits {
        2048 => Algorithm::PS256,
        3072 => Algorithm::PS384,
        4096 => Algorithm::PS512,
        _ => return Err(KeyError::Unsupported { file: file.to_string(), what: format!("RSA {bits} bits") }),
    };
    let key = rsa::RsaPrivateKey::from_pkcs1_der(pkcs1_der).map_err(|e| malformed(e.to_string()))?;
    key.validate().map_err(|e| malformed(e.to_string()))?;
    debug_assert_eq!(key.n().bits(), bits);
    Ok(PrivateKey::Rsa(key, alg))
}

/// The certificates of a PEM chain file, in file order. Private-key blocks are skipped so that
/// one file may hold both, as Go allows.
fn parse_chain(pem: &[u8], file: &str) -> Result<Vec<Vec<u8>>, KeyError> {
    let blocks =
        pem_blocks(text_of(pem, file)?).map_err(|detail| KeyError::NotPem { file: file.to_string(), detail })?;
    let certs = blocks
        .iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| b.der(file).map(|d| d.to_vec()))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(KeyError::NoCertificate { file: file.to_string() });
    }
    Ok(certs)
}
