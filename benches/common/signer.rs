//! BENCH-ONLY Notation signer: a root CA and a code-signing leaf (rcgen, with RustCrypto keys
//! from a fixed-seed RNG), and JWS and COSE envelopes signed with the leaf. It writes the same
//! envelopes as the test signer of `tests/common/notary.rs`, cut down to what the verify bench
//! signs (P-256, P-384 and RSA-2048 keys; the `notary.x509` scheme), so the bench times the
//! verifier on the same inputs as the tests without including test files.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, Utc};
use coset::cbor::value::Value as Cbor;
use coset::{CoseSign1, CoseSign1Builder, HeaderBuilder, Label, RegisteredLabelWithPrivate, iana};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, SerialNumber,
};
use serde_json::{Map, Value, json};
use sha2::Digest as _;
use sigscope::oci::Descriptor;
use time::OffsetDateTime;

const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";
const H_SCHEME: &str = "io.cncf.notary.signingScheme";
const H_SIGNING_TIME: &str = "io.cncf.notary.signingTime";
const H_EXPIRY: &str = "io.cncf.notary.expiry";
const H_AGENT: &str = "io.cncf.notary.signingAgent";
const X5CHAIN: i64 = 33;
const ORG: &str = "Sigscope Test";

/// A deterministic RNG (splitmix64): keys are the same every run and need no OS entropy.
struct SeedRng(u64);

impl rsa::rand_core::RngCore for SeedRng {
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

impl rsa::rand_core::CryptoRng for SeedRng {}

#[derive(Clone)]
pub enum SignKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(rsa::RsaPrivateKey),
}

impl SignKey {
    pub fn p256(seed: u64) -> Self {
        SignKey::P256(p256::ecdsa::SigningKey::random(&mut SeedRng(seed)))
    }

    pub fn p384(seed: u64) -> Self {
        SignKey::P384(p384::ecdsa::SigningKey::random(&mut SeedRng(seed)))
    }

    pub fn rsa(bits: usize) -> Self {
        SignKey::Rsa(rsa::RsaPrivateKey::new(&mut SeedRng(bits as u64), bits).expect("RSA keygen"))
    }

    fn jws_alg(&self) -> &'static str {
        match self {
            SignKey::P256(_) => "ES256",
            SignKey::P384(_) => "ES384",
            SignKey::Rsa(_) => "PS256",
        }
    }

    fn cose_alg(&self) -> iana::Algorithm {
        match self {
            SignKey::P256(_) => iana::Algorithm::ES256,
            SignKey::P384(_) => iana::Algorithm::ES384,
            SignKey::Rsa(_) => iana::Algorithm::PS256,
        }
    }

    /// A JWS/COSE signature: fixed-length `r || s`, or RSASSA-PSS with SHA-256.
    fn sign(&self, msg: &[u8]) -> Vec<u8> {
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
            SignKey::Rsa(k) => {
                let hashed = sha2::Sha256::digest(msg);
                k.sign_with_rng(&mut SeedRng(99), rsa::Pss::new::<sha2::Sha256>(), &hashed).expect("PSS sign")
            }
        }
    }

    /// An X.509 signature: DER ECDSA, or RSA PKCS#1 v1.5 with SHA-256.
    fn sign_x509(&self, msg: &[u8]) -> Vec<u8> {
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
            SignKey::Rsa(k) => {
                let hashed = sha2::Sha256::digest(msg);
                k.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed).expect("PKCS#1 sign")
            }
        }
    }
}

impl rcgen::PublicKeyData for SignKey {
    fn der_bytes(&self) -> &[u8] {
        // rcgen wants a borrowed encoding; keys live for the whole bench, so leak the few bytes.
        let bytes = match self {
            SignKey::P256(k) => k.verifying_key().to_encoded_point(false).as_bytes().to_vec(),
            SignKey::P384(k) => k.verifying_key().to_encoded_point(false).as_bytes().to_vec(),
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
            SignKey::Rsa(_) => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

impl rcgen::SigningKey for SignKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self.sign_x509(msg))
    }
}

pub fn ymd(y: i32, m: u8, d: u8) -> OffsetDateTime {
    time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap().midnight().assume_utc()
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::StateOrProvinceName, "WA");
    dn.push(DnType::OrganizationName, ORG);
    dn.push(DnType::CommonName, cn);
    dn
}

pub struct Ca {
    issuer: CertifiedIssuer<'static, SignKey>,
    pub der: Vec<u8>,
}

impl Ca {
    /// A self-signed root valid 2025–2035.
    pub fn root(cn: &str, serial: u64, key: SignKey) -> Ca {
        let mut p = CertificateParams::default();
        p.distinguished_name = dn(cn);
        p.serial_number = Some(SerialNumber::from(serial));
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.not_before = ymd(2025, 1, 1);
        p.not_after = ymd(2035, 1, 1);
        p.use_authority_key_identifier_extension = true;
        let issuer = CertifiedIssuer::self_signed(p, key).expect("root");
        let der = issuer.der().to_vec();
        Ca { issuer, der }
    }

    pub fn issue(&self, params: &CertificateParams, key: &SignKey) -> Vec<u8> {
        params.signed_by(key, &self.issuer).expect("leaf").der().to_vec()
    }
}

/// A code-signing leaf as Notation wants it: critical digitalSignature key usage, codeSigning
/// EKU, not a CA.
pub fn leaf_params(cn: &str, serial: u64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    p.serial_number = Some(SerialNumber::from(serial));
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    p.not_before = ymd(2026, 1, 1);
    p.not_after = ymd(2027, 1, 1);
    p.use_authority_key_identifier_extension = true;
    p
}

/// A signer: a key and its chain, leaf first.
#[derive(Clone)]
pub struct Signer {
    pub key: SignKey,
    pub chain: Vec<Vec<u8>>,
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

fn payload(target: &Descriptor) -> Vec<u8> {
    serde_json::to_vec(&json!({"targetArtifact": {
        "mediaType": target.media_type,
        "digest": target.digest,
        "size": target.size,
    }}))
    .unwrap()
}

/// The signed attributes of the `notary.x509` scheme.
pub struct Attrs {
    signing_time: DateTime<Utc>,
    expiry: Option<DateTime<Utc>>,
}

impl Attrs {
    pub fn x509(signing_time: DateTime<Utc>, expiry: Option<DateTime<Utc>>) -> Self {
        Attrs { signing_time, expiry }
    }

    /// What Notation marks critical for these attributes.
    fn crit(&self) -> Vec<&'static str> {
        let mut c = vec![H_SCHEME];
        if self.expiry.is_some() {
            c.push(H_EXPIRY);
        }
        c
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A flattened JWS, with the parts the bench checks by hand.
pub struct Jws {
    pub protected: String,
    pub payload: String,
    pub raw_signature: Vec<u8>,
    header: Map<String, Value>,
}

impl Jws {
    pub fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "payload": self.payload,
            "protected": self.protected,
            "header": self.header,
            "signature": URL_SAFE_NO_PAD.encode(&self.raw_signature),
        }))
        .unwrap()
    }
}

/// A JWS envelope for `target`, its protected header as notation-core-go writes it (sorted keys).
pub fn jws(s: &Signer, target: &Descriptor, a: &Attrs) -> Jws {
    let mut h: BTreeMap<&str, Value> = BTreeMap::new();
    h.insert("alg", json!(s.key.jws_alg()));
    h.insert("crit", json!(a.crit()));
    h.insert("cty", json!(PAYLOAD_MEDIA_TYPE));
    h.insert(H_SCHEME, json!("notary.x509"));
    h.insert(H_SIGNING_TIME, json!(rfc3339(a.signing_time)));
    if let Some(t) = a.expiry {
        h.insert(H_EXPIRY, json!(rfc3339(t)));
    }
    let h: Map<String, Value> = h.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let protected = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&h).unwrap());
    let payload = URL_SAFE_NO_PAD.encode(payload(target));
    let raw_signature = s.key.sign(format!("{protected}.{payload}").as_bytes());
    let mut header = Map::new();
    header.insert("x5c".into(), json!(s.chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>()));
    header.insert(H_AGENT.into(), json!("sigscope-adversarial-test/1"));
    Jws { protected, payload, raw_signature, header }
}

fn epoch(t: DateTime<Utc>) -> Cbor {
    Cbor::Tag(1, Box::new(Cbor::Integer(t.timestamp().into())))
}

/// A COSE_Sign1 envelope for `target`.
pub fn cose(s: &Signer, target: &Descriptor, a: &Attrs) -> CoseSign1 {
    let mut text: Vec<(String, Cbor)> =
        vec![(H_SCHEME.into(), Cbor::Text("notary.x509".into())), (H_SIGNING_TIME.into(), epoch(a.signing_time))];
    if let Some(t) = a.expiry {
        text.push((H_EXPIRY.into(), epoch(t)));
    }
    text.sort_by(|x, y| x.0.len().cmp(&y.0.len()).then_with(|| x.0.cmp(&y.0)));
    let mut protected =
        HeaderBuilder::new().algorithm(s.key.cose_alg()).content_type(PAYLOAD_MEDIA_TYPE.to_string()).build();
    protected.crit = a.crit().into_iter().map(|c| RegisteredLabelWithPrivate::Text(c.to_string())).collect();
    protected.rest = text.into_iter().map(|(k, v)| (Label::Text(k), v)).collect();
    let mut unprotected =
        HeaderBuilder::new().text_value(H_AGENT.to_string(), Cbor::Text("sigscope-test/1".into())).build();
    unprotected
        .rest
        .insert(0, (Label::Int(X5CHAIN), Cbor::Array(s.chain.iter().map(|c| Cbor::Bytes(c.clone())).collect())));
    CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(payload(target))
        .create_signature(b"", |tbs| s.key.sign(tbs))
        .build()
}

pub fn cose_bytes(m: CoseSign1) -> Vec<u8> {
    use coset::TaggedCborSerializable as _;
    m.to_tagged_vec().unwrap()
}
