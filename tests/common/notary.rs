//! TEST-ONLY Notation signer: certificate chains (rcgen, with our own RustCrypto keys so any
//! key can issue or sign), envelopes written by `sigscope::sign` (a [`Signer`] here is a
//! `sigscope::sign::Signer`) and kept as their parts so a test can bend any of them, and a
//! stand-in RFC 3161 TSA. Nothing here protects anything; keys come from a fixed-seed RNG so
//! runs are reproducible and need no OS entropy.

use std::path::Path;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use coset::cbor::value::Value as Cbor;
use coset::{CoseSign1, CoseSign1Builder, Label, RegisteredLabelWithPrivate, TaggedCborSerializable as _, iana};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose, SerialNumber,
};
use serde_json::{Map, Value, json};
use sha2::Digest as _;
use sigscope::notation::envelope::headers::SCHEME_SIGNING_AUTHORITY;
pub use sigscope::notation::envelope::headers::{
    AUTHENTIC_SIGNING_TIME as H_AUTHENTIC_TIME, EXPIRY as H_EXPIRY, PAYLOAD_MEDIA_TYPE, SIGNING_AGENT as H_AGENT,
    SIGNING_SCHEME as H_SCHEME, SIGNING_TIME as H_SIGNING_TIME, TIMESTAMP_SIGNATURE as H_TIMESTAMP,
};
use sigscope::oci::Descriptor;
pub use sigscope::sign::payload;
use time::OffsetDateTime;

/// COSE's x5chain header label (RFC 9360), where Notation carries the chain.
pub const X5CHAIN: i64 = iana::HeaderParameter::X5Chain as i64;

// --- keys ---

/// A deterministic RNG (splitmix64).
pub struct TestRng(pub u64);

impl rsa::rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for TestRng {}

#[derive(Clone)]
pub enum SignKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    /// rcgen (ring) cannot sign with P-521: certificates with such a key are made with a
    /// stand-in key and finished with [`resign`] / [`with_key`].
    P521(p521::ecdsa::SigningKey),
    Rsa(rsa::RsaPrivateKey),
}

/// RSA key generation is slow in a debug build: one key per size per test binary.
fn rsa_key(bits: usize) -> rsa::RsaPrivateKey {
    static RSA2048: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    static RSA1024: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    let cell = match bits {
        2048 => &RSA2048,
        1024 => &RSA1024,
        other => panic!("no {other}-bit test key"),
    };
    cell.get_or_init(|| rsa::RsaPrivateKey::new(&mut TestRng(bits as u64), bits).expect("RSA keygen")).clone()
}

impl SignKey {
    pub fn p256(seed: u64) -> Self {
        SignKey::P256(p256::ecdsa::SigningKey::random(&mut TestRng(seed)))
    }

    pub fn p384(seed: u64) -> Self {
        SignKey::P384(p384::ecdsa::SigningKey::random(&mut TestRng(seed)))
    }

    pub fn p521(seed: u64) -> Self {
        SignKey::P521(p521::ecdsa::SigningKey::random(&mut TestRng(seed)))
    }

    pub fn rsa(bits: usize) -> Self {
        SignKey::Rsa(rsa_key(bits))
    }

    /// The JOSE algorithm Notation derives from this key.
    pub fn jws_alg(&self) -> &'static str {
        match self {
            SignKey::P256(_) => "ES256",
            SignKey::P384(_) => "ES384",
            SignKey::P521(_) => "ES512",
            SignKey::Rsa(_) => "PS256",
        }
    }

    pub fn cose_alg(&self) -> iana::Algorithm {
        match self {
            SignKey::P256(_) => iana::Algorithm::ES256,
            SignKey::P384(_) => iana::Algorithm::ES384,
            SignKey::P521(_) => iana::Algorithm::ES512,
            SignKey::Rsa(_) => iana::Algorithm::PS256,
        }
    }

    /// A JWS/COSE signature: fixed-length `r || s`, or RSASSA-PSS with SHA-256 and a
    /// 32-byte salt (what Go's signer writes for PS256).
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match self {
            SignKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            SignKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            SignKey::P521(k) => {
                let s: p521::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            SignKey::Rsa(k) => {
                let hashed = sha2::Sha256::digest(msg);
                k.sign_with_rng(&mut TestRng(99), rsa::Pss::new::<sha2::Sha256>(), &hashed).expect("PSS sign")
            }
        }
    }

    /// An X.509/CMS signature: DER ECDSA, or RSA PKCS#1 v1.5 with SHA-256.
    pub fn sign_x509(&self, msg: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match self {
            SignKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            SignKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            SignKey::P521(k) => {
                let s: p521::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            SignKey::Rsa(k) => {
                let hashed = sha2::Sha256::digest(msg);
                k.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed).expect("PKCS#1 sign")
            }
        }
    }

    /// DER AlgorithmIdentifier of [`Self::sign_x509`].
    pub fn x509_alg_der(&self) -> Vec<u8> {
        match self {
            SignKey::P256(_) => seq(&[oid("1.2.840.10045.4.3.2")]),
            SignKey::P384(_) => seq(&[oid("1.2.840.10045.4.3.3")]),
            SignKey::P521(_) => seq(&[oid("1.2.840.10045.4.3.4")]),
            SignKey::Rsa(_) => seq(&[oid("1.2.840.113549.1.1.11"), tlv(0x05, &[])]),
        }
    }
}

impl rcgen::PublicKeyData for SignKey {
    fn der_bytes(&self) -> &[u8] {
        // rcgen wants a borrowed encoding; keys live for the whole test, so leak the few bytes.
        let bytes = match self {
            SignKey::P256(k) => k.verifying_key().to_encoded_point(false).as_bytes().to_vec(),
            SignKey::P384(k) => k.verifying_key().to_encoded_point(false).as_bytes().to_vec(),
            SignKey::P521(_) => panic!("rcgen cannot use a P-521 key: use resign and with_key"),
            SignKey::Rsa(k) => {
                use rsa::pkcs1::EncodeRsaPublicKey as _;
                k.to_public_key().to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec()
            }
        };
        Box::leak(bytes.into_boxed_slice())
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            SignKey::P256(_) => &rcgen::PKCS_ECDSA_P256_SHA256,
            SignKey::P384(_) => &rcgen::PKCS_ECDSA_P384_SHA384,
            SignKey::P521(_) => panic!("rcgen cannot use a P-521 key: use resign and with_key"),
            SignKey::Rsa(_) => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

impl rcgen::SigningKey for SignKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self.sign_x509(msg))
    }
}

// --- certificates ---

pub fn ymd(y: i32, m: u8, d: u8) -> OffsetDateTime {
    time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap().midnight().assume_utc()
}

pub fn dn(org: &str, cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::StateOrProvinceName, "WA");
    dn.push(DnType::OrganizationName, org);
    dn.push(DnType::CommonName, cn);
    dn
}

pub const ORG: &str = "Sigscope Test";

pub struct Ca {
    pub issuer: CertifiedIssuer<'static, SignKey>,
    pub der: Vec<u8>,
}

pub fn ca_params(cn: &str, serial: u64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(ORG, cn);
    p.serial_number = Some(SerialNumber::from(serial));
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = ymd(2025, 1, 1);
    p.not_after = ymd(2035, 1, 1);
    p.use_authority_key_identifier_extension = true;
    p
}

impl Ca {
    pub fn root(cn: &str, serial: u64, key: SignKey) -> Ca {
        Self::root_with(ca_params(cn, serial), key)
    }

    pub fn root_with(params: CertificateParams, key: SignKey) -> Ca {
        let issuer = CertifiedIssuer::self_signed(params, key).expect("root");
        let der = issuer.der().to_vec();
        Ca { issuer, der }
    }

    pub fn intermediate(&self, cn: &str, serial: u64, key: SignKey) -> Ca {
        self.issue_ca(ca_params(cn, serial), key)
    }

    pub fn issue_ca(&self, params: CertificateParams, key: SignKey) -> Ca {
        let issuer = CertifiedIssuer::signed_by(params, key, &self.issuer).expect("intermediate");
        let der = issuer.der().to_vec();
        Ca { issuer, der }
    }

    pub fn issue(&self, params: &CertificateParams, key: &SignKey) -> Vec<u8> {
        params.signed_by(key, &self.issuer).expect("leaf").der().to_vec()
    }

    pub fn key(&self) -> &SignKey {
        self.issuer.key()
    }
}

/// A code-signing leaf as Notation wants it: critical digitalSignature key usage (rcgen
/// marks key usage critical), codeSigning EKU, not a CA.
pub fn leaf_params(cn: &str, serial: u64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(ORG, cn);
    p.serial_number = Some(SerialNumber::from(serial));
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    p.not_before = ymd(2026, 1, 1);
    p.not_after = ymd(2027, 1, 1);
    p.use_authority_key_identifier_extension = true;
    p
}

/// Re-signs `cert` with `issuer_key` after `edit` changed its TBS: for certificates rcgen
/// cannot express (an unsupported curve).
pub fn resign(cert: &[u8], issuer_key: &SignKey, edit: impl FnOnce(&mut x509_cert::TbsCertificate)) -> Vec<u8> {
    resign_as(cert, issuer_key, &issuer_key.x509_alg_der(), edit)
}

/// [`resign`], naming `alg_der` as the signature algorithm (in the TBS and outside it)
/// whatever `issuer_key` really signed with.
pub fn resign_as(
    cert: &[u8],
    issuer_key: &SignKey,
    alg_der: &[u8],
    edit: impl FnOnce(&mut x509_cert::TbsCertificate),
) -> Vec<u8> {
    resign_with(cert, alg_der, |tbs| issuer_key.sign_x509(tbs), edit)
}

/// [`resign_as`] with the signature made by `sign` over the TBS bytes.
pub fn resign_with(
    cert: &[u8],
    alg_der: &[u8],
    sign: impl FnOnce(&[u8]) -> Vec<u8>,
    edit: impl FnOnce(&mut x509_cert::TbsCertificate),
) -> Vec<u8> {
    use der::{Decode as _, Encode as _};
    let mut c = x509_cert::Certificate::from_der(cert).expect("certificate");
    c.tbs_certificate.signature = x509_cert::spki::AlgorithmIdentifierOwned::from_der(alg_der).expect("alg");
    edit(&mut c.tbs_certificate);
    let tbs = c.tbs_certificate.to_der().expect("tbs");
    let sig = sign(&tbs);
    seq(&[tbs, alg_der.to_vec(), tlv(0x03, &[&[0u8][..], &sig].concat())])
}

impl SignKey {
    /// DER SubjectPublicKeyInfo of this key.
    pub fn spki_der(&self) -> Vec<u8> {
        let ec = |curve: &str, point: Vec<u8>| {
            seq(&[seq(&[oid("1.2.840.10045.2.1"), oid(curve)]), tlv(0x03, &[&[0u8][..], &point].concat())])
        };
        match self {
            SignKey::P256(k) => {
                ec("1.2.840.10045.3.1.7", k.verifying_key().to_encoded_point(false).as_bytes().to_vec())
            }
            SignKey::P384(k) => ec("1.3.132.0.34", k.verifying_key().to_encoded_point(false).as_bytes().to_vec()),
            SignKey::P521(k) => {
                let vk = p521::ecdsa::VerifyingKey::from(k);
                ec("1.3.132.0.35", vk.to_encoded_point(false).as_bytes().to_vec())
            }
            SignKey::Rsa(k) => {
                use rsa::pkcs1::EncodeRsaPublicKey as _;
                let pkcs1 = k.to_public_key().to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec();
                seq(&[seq(&[oid("1.2.840.113549.1.1.1"), tlv(0x05, &[])]), tlv(0x03, &[&[0u8][..], &pkcs1].concat())])
            }
        }
    }
}

/// `cert` with its subject key replaced by `key`'s and re-signed by `issuer_key`: how a
/// certificate for a key rcgen cannot use (P-521) is made from one rcgen wrote for a
/// stand-in key.
pub fn with_key(cert: &[u8], key: &SignKey, issuer_key: &SignKey) -> Vec<u8> {
    use der::Decode as _;
    let spki = key.spki_der();
    resign(cert, issuer_key, |tbs| {
        tbs.subject_public_key_info = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(&spki).expect("spki");
    })
}

/// A CA with a key rcgen cannot sign with (P-521): rcgen writes its certificates under a
/// P-256 stand-in of the same name, and each is then re-signed with the real key.
pub struct ResignedCa {
    pub stand_in: Ca,
    pub key: SignKey,
    pub der: Vec<u8>,
}

impl ResignedCa {
    pub fn root(cn: &str, serial: u64, key: SignKey) -> ResignedCa {
        let stand_in = Ca::root(cn, serial, SignKey::p256(serial ^ 0x5eed));
        let der = with_key(&stand_in.der, &key, &key);
        ResignedCa { stand_in, key, der }
    }

    pub fn intermediate(parent: &Ca, cn: &str, serial: u64, key: SignKey) -> ResignedCa {
        let stand_in = parent.intermediate(cn, serial, SignKey::p256(serial ^ 0x5eed));
        let der = with_key(&stand_in.der, &key, parent.key());
        ResignedCa { stand_in, key, der }
    }

    pub fn issue(&self, params: &CertificateParams, key: &SignKey) -> Vec<u8> {
        issue_with(&self.stand_in, &self.key, params, key)
    }
}

/// A certificate for `key`, whatever its kind, named as issued by `issuer` and signed
/// with `issuer_key`.
pub fn issue_with(issuer: &Ca, issuer_key: &SignKey, params: &CertificateParams, key: &SignKey) -> Vec<u8> {
    match key {
        SignKey::P521(_) => with_key(&issuer.issue(params, &SignKey::p256(0x5eed)), key, issuer_key),
        _ => resign(&issuer.issue(params, key), issuer_key, |_| {}),
    }
}

/// A signer: a key and its chain, leaf first.
#[derive(Clone)]
pub struct Signer {
    pub key: SignKey,
    pub chain: Vec<Vec<u8>>,
}

pub fn write_store(notation_dir: &Path, kind: &str, name: &str, certs: &[&[u8]]) {
    let dir = notation_dir.join("truststore/x509").join(kind).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, der) in certs.iter().enumerate() {
        std::fs::write(dir.join(format!("cert{i}.pem")), der_to_pem(der)).unwrap();
    }
}

pub fn der_to_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

impl sigscope::sign::Signer for Signer {
    fn jws_alg(&self) -> &'static str {
        self.key.jws_alg()
    }
    fn cose_alg(&self) -> iana::Algorithm {
        self.key.cose_alg()
    }
    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.key.sign(msg)
    }
    fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }
}

// --- signed attributes ---

/// What the test envelopes say they were signed with.
const AGENT: &str = "sigscope-test/1";

/// The signed attributes of a test envelope: those `sigscope::sign` writes (the `notary.x509`
/// scheme), or the same under the `notary.x509.signingAuthority` scheme.
#[derive(Debug, Clone, Copy)]
pub struct Attrs {
    /// The signing time; under the signing-authority scheme, the authentic signing time.
    pub sign: sigscope::sign::Attrs,
    pub signing_authority: bool,
}

impl Attrs {
    pub fn x509(signing_time: DateTime<Utc>, expiry: Option<DateTime<Utc>>) -> Self {
        let sign = sigscope::sign::Attrs { signing_time, expiry, extended: &[], signing_agent: AGENT };
        Attrs { sign, signing_authority: false }
    }

    pub fn signing_authority(at: DateTime<Utc>, expiry: Option<DateTime<Utc>>) -> Self {
        Attrs { signing_authority: true, ..Self::x509(at, expiry) }
    }
}

// `sigscope::sign` builds an envelope's unprotected header only inside an envelope: a test
// that signs headers of its own takes that header from an envelope signed by a stand-in key
// over the same chain (only the signature differs, and it is not kept).

const STAND_IN_ATTRS: sigscope::sign::Attrs =
    sigscope::sign::Attrs { signing_time: DateTime::UNIX_EPOCH, expiry: None, extended: &[], signing_agent: AGENT };

fn stand_in(chain: &[Vec<u8>]) -> Signer {
    static KEY: OnceLock<SignKey> = OnceLock::new();
    Signer { key: KEY.get_or_init(|| SignKey::p256(0x5eed)).clone(), chain: chain.to_vec() }
}

// `sigscope::sign` writes the `notary.x509` scheme only. A signing-authority header is made
// from the one it writes, BENT ON PURPOSE into the other scheme: its name, the signing time
// renamed `authenticSigningTime`, and that time critical (second in `crit`, as notation lists it).

fn jws_as_signing_authority(h: &mut Map<String, Value>) {
    h.insert(H_SCHEME.into(), json!(SCHEME_SIGNING_AUTHORITY));
    let at = h.shift_remove(H_SIGNING_TIME).expect("sigscope::sign writes a signing time");
    h.insert(H_AUTHENTIC_TIME.into(), at);
    h.sort_keys();
    h["crit"].as_array_mut().expect("crit is a list").insert(1, json!(H_AUTHENTIC_TIME));
}

fn cose_as_signing_authority(h: &mut coset::Header) {
    for (label, value) in &mut h.rest {
        match label {
            Label::Text(k) if k == H_SCHEME => *value = Cbor::Text(SCHEME_SIGNING_AUTHORITY.into()),
            Label::Text(k) if k == H_SIGNING_TIME => *label = Label::Text(H_AUTHENTIC_TIME.into()),
            _ => {}
        }
    }
    // Canonical CBOR order of text keys, as sigscope::sign sorts them: by length, then bytewise.
    h.rest.sort_by_key(|(label, _)| match label {
        Label::Text(k) => (k.len(), k.clone()),
        Label::Int(_) => (0, String::new()),
    });
    h.crit.insert(1, RegisteredLabelWithPrivate::Text(H_AUTHENTIC_TIME.into()));
}

// --- JWS ---

/// The protected header `sigscope::sign` writes for `alg` (sorted keys, as notation-core-go),
/// as a map a test may edit.
pub fn jws_header(alg: &str, a: &Attrs) -> Map<String, Value> {
    let mut h: Map<String, Value> =
        serde_json::from_slice(&sigscope::sign::jws::protected_header(alg, &a.sign)).expect("a JSON object");
    if a.signing_authority {
        jws_as_signing_authority(&mut h);
    }
    h
}

/// A flattened JWS, kept as its parts so a test can bend any of them.
#[derive(Clone)]
pub struct Jws {
    pub protected: String,
    pub payload: String,
    pub signature: String,
    pub raw_signature: Vec<u8>,
    pub header: Map<String, Value>,
}

impl Jws {
    /// The parts of an envelope `sigscope::sign` wrote.
    fn parse(envelope: &[u8]) -> Jws {
        let v: Value = serde_json::from_slice(envelope).expect("a JWS");
        let text = |name: &str| v[name].as_str().expect("a string member").to_string();
        let signature = text("signature");
        Jws {
            protected: text("protected"),
            payload: text("payload"),
            raw_signature: URL_SAFE_NO_PAD.decode(&signature).expect("base64url"),
            signature,
            header: v["header"].as_object().expect("an unprotected header").clone(),
        }
    }

    /// Signs `protected` bytes however a test wrote them: BENT ON PURPOSE when they are
    /// (`sigscope::sign` only signs the headers it writes itself).
    pub fn sign(key: &SignKey, protected: &[u8], payload: &[u8], chain: &[Vec<u8>]) -> Jws {
        Self::sign_b64(key, URL_SAFE_NO_PAD.encode(protected), URL_SAFE_NO_PAD.encode(payload), chain)
    }

    /// Signs the given encoded strings as they are, BENT ON PURPOSE when they are (padded,
    /// say); the unprotected header is the one `sigscope::sign` writes.
    pub fn sign_b64(key: &SignKey, protected: String, payload: String, chain: &[Vec<u8>]) -> Jws {
        let raw_signature = key.sign(format!("{protected}.{payload}").as_bytes());
        let header = Jws::parse(&sigscope::sign::jws::envelope(&stand_in(chain), b"", &STAND_IN_ATTRS)).header;
        Jws { protected, payload, signature: URL_SAFE_NO_PAD.encode(&raw_signature), raw_signature, header }
    }

    pub fn with_timestamp(mut self, token: Vec<u8>) -> Jws {
        self.header.insert(H_TIMESTAMP.into(), json!(STANDARD.encode(token)));
        self
    }

    pub fn value(&self) -> Value {
        json!({
            "payload": self.payload,
            "protected": self.protected,
            "header": self.header,
            "signature": self.signature,
        })
    }

    pub fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.value()).unwrap()
    }
}

/// A well-formed JWS envelope for `target`, written by `sigscope::sign`.
pub fn jws(s: &Signer, target: &Descriptor, a: &Attrs) -> Jws {
    if a.signing_authority {
        let header = serde_json::to_vec(&jws_header(s.key.jws_alg(), a)).unwrap();
        return Jws::sign(&s.key, &header, &payload(target), &s.chain);
    }
    Jws::parse(&sigscope::sign::jws::envelope(s, &payload(target), &a.sign))
}

// --- COSE ---

/// A CBOR date (tag 1, epoch seconds), as Notation's COSE headers carry times.
pub fn epoch(t: DateTime<Utc>) -> Cbor {
    Cbor::Tag(1, Box::new(Cbor::Integer(t.timestamp().into())))
}

/// The protected header `sigscope::sign` writes for `alg`.
pub fn cose_protected(alg: iana::Algorithm, a: &Attrs) -> coset::Header {
    let mut h = sigscope::sign::cose::protected_header(alg, &a.sign);
    if a.signing_authority {
        cose_as_signing_authority(&mut h);
    }
    h
}

/// The unprotected header `sigscope::sign` writes for `chain` (x5chain, the signing agent).
pub fn cose_unprotected(chain: &[Vec<u8>]) -> coset::Header {
    let envelope = sigscope::sign::cose::envelope(&stand_in(chain), b"", &STAND_IN_ATTRS);
    CoseSign1::from_tagged_slice(&envelope).expect("a COSE_Sign1").unprotected
}

/// Signs whatever headers a test made: BENT ON PURPOSE when they are (`sigscope::sign` only
/// signs the headers it writes itself).
pub fn cose_sign(key: &SignKey, protected: coset::Header, unprotected: coset::Header, payload: &[u8]) -> CoseSign1 {
    CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(payload.to_vec())
        .create_signature(b"", |tbs| key.sign(tbs))
        .build()
}

/// A well-formed COSE envelope for `target`, written by `sigscope::sign`.
pub fn cose(s: &Signer, target: &Descriptor, a: &Attrs) -> CoseSign1 {
    if a.signing_authority {
        return cose_sign(&s.key, cose_protected(s.key.cose_alg(), a), cose_unprotected(&s.chain), &payload(target));
    }
    let envelope = sigscope::sign::cose::envelope(s, &payload(target), &a.sign);
    CoseSign1::from_tagged_slice(&envelope).expect("a COSE_Sign1")
}

pub fn cose_bytes(m: CoseSign1) -> Vec<u8> {
    m.to_tagged_vec().unwrap()
}

// --- a stand-in TSA (RFC 3161), the approach of tests/timestamp_generated.rs ---

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

pub fn content(encoded: &[u8]) -> &[u8] {
    let first = encoded[1];
    let header = if first < 0x80 { 2 } else { 2 + usize::from(first & 0x7f) };
    &encoded[header..]
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub fn set(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut sorted = parts.to_vec();
    sorted.sort();
    tlv(0x31, &sorted.concat())
}

pub fn oid(dotted: &str) -> Vec<u8> {
    use der::Encode as _;
    const_oid::ObjectIdentifier::new_unwrap(dotted).to_der().unwrap()
}

pub fn int(n: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    tlv(0x02, &bytes)
}

const SHA256: &str = "2.16.840.1.101.3.4.2.1";

/// A TSA certificate as Notation wants it: critical timeStamping-only EKU, digitalSignature.
pub fn tsa_leaf_params(cn: &str, serial: u64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(ORG, cn);
    p.serial_number = Some(SerialNumber::from(serial));
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.not_before = ymd(2025, 1, 1);
    p.not_after = ymd(2035, 1, 1);
    let mut eku = CustomExtension::from_oid_content(&[2, 5, 29, 37], seq(&[oid("1.3.6.1.5.5.7.3.8")]));
    eku.set_criticality(true);
    p.custom_extensions = vec![eku];
    p
}

pub struct Tsa {
    pub root: Ca,
    pub leaf_der: Vec<u8>,
    pub key: SignKey,
    /// What a token carries: the TSA certificate, then any intermediates.
    pub certs: Vec<Vec<u8>>,
}

impl Tsa {
    pub fn new(seed: u64) -> Tsa {
        Self::build(seed, None, |_| {})
    }

    /// A TSA under `Test TSA Root`, through an intermediate with `intermediate_key` if
    /// given, its certificate bent by `edit`.
    pub fn build(seed: u64, intermediate_key: Option<SignKey>, edit: impl FnOnce(&mut CertificateParams)) -> Tsa {
        let root = Ca::root("Test TSA Root", seed, SignKey::p256(seed));
        let key = SignKey::p256(seed + 1);
        let mut p = tsa_leaf_params("Test TSA", seed + 1);
        edit(&mut p);
        let (leaf_der, certs) = match intermediate_key {
            None => {
                let leaf = root.issue(&p, &key);
                (leaf.clone(), vec![leaf])
            }
            Some(inter_key) => {
                let inter = root.intermediate("Test TSA Intermediate", seed + 2, inter_key);
                let leaf = inter.issue(&p, &key);
                (leaf.clone(), vec![leaf, inter.der.clone()])
            }
        };
        Tsa { root, leaf_der, key, certs }
    }

    /// The TSTInfo of a SHA-256 token over `message` at `gen_time` (GeneralizedTime text),
    /// 1 s accuracy.
    pub fn tst_info(&self, message: &[u8], gen_time: &str) -> Vec<u8> {
        seq(&[
            int(1),
            oid("1.3.6.1.4.1.99999.1"),
            seq(&[seq(&[oid(SHA256)]), tlv(0x04, &sha2::Sha256::digest(message))]),
            int(0x5eed),
            tlv(0x18, gen_time.as_bytes()),
            seq(&[int(1)]),
        ])
    }

    /// The signed attributes (a DER SET) binding `tst` and the TSA certificate.
    pub fn signed_attrs(&self, tst: &[u8]) -> Vec<u8> {
        let cert_id = seq(&[tlv(0x04, &sha2::Sha256::digest(&self.leaf_der))]);
        set(&[
            seq(&[oid("1.2.840.113549.1.9.3"), set(&[oid("1.2.840.113549.1.9.16.1.4")])]),
            seq(&[oid("1.2.840.113549.1.9.4"), set(&[tlv(0x04, &sha2::Sha256::digest(tst))])]),
            seq(&[oid("1.2.840.113549.1.9.16.2.47"), set(&[seq(&[seq(&[cert_id])])])]),
        ])
    }

    /// A SignerInfo naming the TSA certificate by issuer and serial, with `signed_attrs`
    /// (a SET, written as [0]) and `signature` as given.
    pub fn signer_info(&self, signed_attrs: &[u8], signature: &[u8]) -> Vec<u8> {
        use der::{Decode as _, Encode as _};
        let leaf = x509_cert::Certificate::from_der(&self.leaf_der).unwrap();
        let sid =
            seq(&[leaf.tbs_certificate.issuer.to_der().unwrap(), leaf.tbs_certificate.serial_number.to_der().unwrap()]);
        seq(&[
            int(1),
            sid,
            seq(&[oid(SHA256)]),
            tlv(0xa0, content(signed_attrs)),
            self.key.x509_alg_der(),
            tlv(0x04, signature),
        ])
    }

    /// A ContentInfo carrying `tst` as eContent, `certs` and the SignerInfos in the order
    /// given (not re-sorted, so a test controls what comes first).
    pub fn assemble(&self, tst: &[u8], certs: &[Vec<u8>], signer_infos: &[Vec<u8>]) -> Vec<u8> {
        let signed_data = seq(&[
            int(3),
            set(&[seq(&[oid(SHA256)])]),
            seq(&[oid("1.2.840.113549.1.9.16.1.4"), tlv(0xa0, &tlv(0x04, tst))]),
            tlv(0xa0, &certs.concat()),
            tlv(0x31, &signer_infos.concat()),
        ]);
        seq(&[oid("1.2.840.113549.1.7.2"), tlv(0xa0, &signed_data)])
    }

    /// A genuine SHA-256 TimeStampToken over `message` at `gen_time`.
    pub fn token(&self, message: &[u8], gen_time: &str) -> Vec<u8> {
        let tst = self.tst_info(message, gen_time);
        let attrs = self.signed_attrs(&tst);
        let signer = self.signer_info(&attrs, &self.key.sign_x509(&attrs));
        self.assemble(&tst, &self.certs, &[signer])
    }

    /// The forgery of issue 7, made without the TSA key: one genuine token (over whatever
    /// bytes the TSA was once asked to stamp) is kept, its TSTInfo replaced by a forged one
    /// (`forged_message` at `forged_time`), and a second SignerInfo is added that reuses the
    /// genuine signature value but carries attributes whose messageDigest covers the forgery.
    pub fn spliced_token(
        &self,
        genuine_message: &[u8],
        genuine_time: &str,
        forged_message: &[u8],
        forged_time: &str,
    ) -> Vec<u8> {
        let genuine_tst = self.tst_info(genuine_message, genuine_time);
        let genuine_attrs = self.signed_attrs(&genuine_tst);
        let signature = self.key.sign_x509(&genuine_attrs);
        let forged_tst = self.tst_info(forged_message, forged_time);
        let forged_attrs = self.signed_attrs(&forged_tst);
        let signers = [self.signer_info(&genuine_attrs, &signature), self.signer_info(&forged_attrs, &signature)];
        self.assemble(&forged_tst, &self.certs, &signers)
    }
}
