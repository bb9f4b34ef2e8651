//! Adversarial corpus for the Notation verifier: envelopes generated here by a test-side
//! signer (tests/common/notary.rs), first valid ones that must verify at strict level, then
//! forged, replayed, malformed and policy-violating ones that must each fail, at the check
//! that Notation would fail them with. A deterministic mutation loop closes with "no mutant
//! verifies unless it says the same thing, and nothing panics".

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeZone, Utc};
use common::notary::*;
use coset::cbor::value::Value as Cbor;
use coset::{CborSerializable as _, Label, RegisteredLabelWithPrivate, TaggedCborSerializable as _, iana};
use rcgen::{CertificateParams, CustomExtension, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose};
use serde_json::{Value, json};
use sha2::Digest as _;
use sigscope::notation::envelope::MAX_ENVELOPE_BYTES;
use sigscope::notation::policy::TrustPolicy;
use sigscope::notation::revocation::RevocationMode;
use sigscope::notation::verifier::{CheckKind, Outcome, SignatureReport, SignatureVerdict, Verifier};
use sigscope::oci::Descriptor;

const JWS: &str = "application/jose+json";
const COSE: &str = "application/cose";

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// Verification time; leaves are valid 2026-01-01..2027-01-01 unless a case says otherwise.
fn now() -> DateTime<Utc> {
    at(2026, 6, 1, 0)
}

fn signed_at() -> DateTime<Utc> {
    at(2026, 5, 31, 12)
}

fn attrs() -> Attrs {
    Attrs::x509(signed_at(), Some(at(2026, 12, 31, 0)))
}

fn image(digest_byte: char, size: u64) -> Descriptor {
    Descriptor {
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        digest: format!("sha256:{}", digest_byte.to_string().repeat(64)),
        size,
        ..Descriptor::default()
    }
}

const POLICY: &str = r#"{"version": "1.0", "trustPolicies": [
  {"name": "strict", "registryScopes": ["example.com/strict"], "signatureVerification": {"level": "strict"},
   "trustStores": ["ca:test"], "trustedIdentities": ["*"]},
  {"name": "identity", "registryScopes": ["example.com/identity"], "signatureVerification": {"level": "strict"},
   "trustStores": ["ca:test"], "trustedIdentities": ["x509.subject: C=US, ST=WA, O=Sigscope Test"]},
  {"name": "other-identity", "registryScopes": ["example.com/other-identity"],
   "signatureVerification": {"level": "strict"}, "trustStores": ["ca:test"],
   "trustedIdentities": ["x509.subject: C=US, ST=WA, O=Someone Else"]},
  {"name": "tsa", "registryScopes": ["example.com/tsa"], "signatureVerification": {"level": "strict"},
   "trustStores": ["ca:test", "tsa:test-tsa"], "trustedIdentities": ["*"]},
  {"name": "sa", "registryScopes": ["example.com/sa"], "signatureVerification": {"level": "strict"},
   "trustStores": ["signingAuthority:sa"], "trustedIdentities": ["*"]},
  {"name": "pinned-intermediate", "registryScopes": ["example.com/pinned"],
   "signatureVerification": {"level": "strict"}, "trustStores": ["ca:inter"], "trustedIdentities": ["*"]},
  {"name": "audit", "registryScopes": ["example.com/audit"], "signatureVerification": {"level": "audit"},
   "trustStores": ["ca:test"], "trustedIdentities": ["*"]},
  {"name": "permissive", "registryScopes": ["example.com/permissive"],
   "signatureVerification": {"level": "permissive"}, "trustStores": ["ca:test"], "trustedIdentities": ["*"]},
  {"name": "sibling-only", "registryScopes": ["example.com/sibling"], "signatureVerification": {"level": "strict"},
   "trustStores": ["ca:sibling"], "trustedIdentities": ["*"]},
  {"name": "tsa-after-expiry", "registryScopes": ["example.com/tsa-after-expiry"],
   "signatureVerification": {"level": "strict", "verifyTimestamp": "afterCertExpiry"},
   "trustStores": ["ca:test", "tsa:test-tsa"], "trustedIdentities": ["*"]},
  {"name": "p521-root", "registryScopes": ["example.com/p521-root"], "signatureVerification": {"level": "strict"},
   "trustStores": ["ca:p521"], "trustedIdentities": ["*"]},
  {"name": "critical-root", "registryScopes": ["example.com/critical-root"],
   "signatureVerification": {"level": "strict"}, "trustStores": ["ca:critical-root"], "trustedIdentities": ["*"]}
]}"#;

/// The PKI, the Notation directory and a verifier over it.
struct World {
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    _cache: tempfile::TempDir,
    verifier: Verifier,
    policy: TrustPolicy,
    root: Ca,
    inter: Ca,
    p256: Signer,
    p384: Signer,
    rsa: Signer,
    untrusted: Signer,
    tsa: Tsa,
    other_tsa: Tsa,
    /// A self-signed P-521 root, alone in the `ca:p521` store.
    p521_root: ResignedCa,
    /// A trusted root (`ca:critical-root`) with an unknown critical extension.
    critical_root: Ca,
    image: Descriptor,
    other_image: Descriptor,
}

impl World {
    fn new() -> World {
        let root = Ca::root("Test Root", 1, SignKey::p256(1));
        let inter = root.intermediate("Test Intermediate", 2, SignKey::p384(2));
        let sibling = root.intermediate("Sibling Intermediate", 3, SignKey::p256(3));
        let leaf = |cn: &str, serial: u64, key: SignKey| Signer {
            chain: vec![inter.issue(&leaf_params(cn, serial), &key), inter.der.clone(), root.der.clone()],
            key,
        };
        let p256 = leaf("signer p256", 10, SignKey::p256(10));
        let p384 = leaf("signer p384", 11, SignKey::p384(11));
        let rsa = leaf("signer rsa", 12, SignKey::rsa(2048));
        let other_root = Ca::root("Untrusted Root", 20, SignKey::p256(20));
        let key = SignKey::p256(21);
        let untrusted =
            Signer { chain: vec![other_root.issue(&leaf_params("intruder", 21), &key), other_root.der], key };
        let tsa = Tsa::new(30);
        let other_tsa = Tsa::new(40);

        let dir = tempfile::tempdir().unwrap();
        write_store(dir.path(), "ca", "test", &[&root.der]);
        write_store(dir.path(), "ca", "inter", &[&inter.der]);
        write_store(dir.path(), "ca", "sibling", &[&sibling.der]);
        write_store(dir.path(), "signingAuthority", "sa", &[&root.der]);
        write_store(dir.path(), "tsa", "test-tsa", &[&tsa.root.der]);
        let p521_root = ResignedCa::root("P-521 Root", 80, SignKey::p521(80));
        write_store(dir.path(), "ca", "p521", &[&p521_root.der]);
        let mut p = ca_params("Critical Root", 79);
        p.custom_extensions.push(critical_ext(UNKNOWN_EXTENSION, vec![0x05, 0x00]));
        let critical_root = Ca::root_with(p, SignKey::p256(79));
        write_store(dir.path(), "ca", "critical-root", &[&critical_root.der]);
        let cache = tempfile::tempdir().unwrap();
        let policy = TrustPolicy::parse(POLICY).expect("test policy");
        let verifier = Verifier::new(
            policy.clone(),
            dir.path(),
            RevocationMode::Offline { cache_dir: cache.path().to_path_buf() },
        );
        World {
            rt: tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
            _dir: dir,
            _cache: cache,
            verifier,
            policy,
            root,
            inter,
            p256,
            p384,
            rsa,
            untrusted,
            tsa,
            other_tsa,
            p521_root,
            critical_root,
            image: image('a', 1234),
            other_image: image('b', 4321),
        }
    }

    fn verify(&self, statement: &str, media_type: &str, bytes: &[u8], subject: &Descriptor) -> SignatureReport {
        let statement = self.policy.statement(statement).expect("statement");
        self.rt.block_on(self.verifier.verify_signature(statement, subject, media_type, bytes, now()))
    }

    /// A signer whose leaf is `params` (issued by the intermediate) with `key`.
    fn leaf(&self, params: CertificateParams, key: SignKey) -> Signer {
        Signer { chain: vec![self.inter.issue(&params, &key), self.inter.der.clone(), self.root.der.clone()], key }
    }
}

struct Case {
    name: String,
    media_type: &'static str,
    bytes: Vec<u8>,
    statement: &'static str,
    subject: Descriptor,
    check: CheckKind,
    /// A piece of the failure reason: the case fails for the reason it was built for, not
    /// for a mistake in its construction.
    why: &'static str,
}

/// Cases accumulate here so each builder stays one expression.
struct Corpus<'w> {
    w: &'w World,
    cases: Vec<Case>,
}

impl Corpus<'_> {
    fn add(&mut self, name: &str, media_type: &'static str, bytes: Vec<u8>, check: CheckKind, why: &'static str) {
        self.add_with(name, media_type, bytes, "strict", self.w.image.clone(), check, why);
    }

    #[allow(clippy::too_many_arguments)]
    fn add_with(
        &mut self,
        name: &str,
        media_type: &'static str,
        bytes: Vec<u8>,
        statement: &'static str,
        subject: Descriptor,
        check: CheckKind,
        why: &'static str,
    ) {
        self.cases.push(Case { name: name.into(), media_type, bytes, statement, subject, check, why });
    }

    fn jws(&mut self, name: &str, bytes: Vec<u8>, why: &'static str) {
        self.add(name, JWS, bytes, CheckKind::Integrity, why);
    }

    fn cose(&mut self, name: &str, bytes: Vec<u8>, why: &'static str) {
        self.add(name, COSE, bytes, CheckKind::Integrity, why);
    }
}

fn b64(v: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(v)
}

/// The protected header of `s` for `a`, as JSON text with `edit` applied to the map.
fn header_with(alg: &str, a: &Attrs, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Vec<u8> {
    let mut h = jws_header(alg, a);
    edit(&mut h);
    serde_json::to_vec(&h).unwrap()
}

/// A JWS over `header` bytes for the world's image, signed by `s`.
fn jws_raw(s: &Signer, header: &[u8], w: &World) -> Jws {
    Jws::sign(&s.key, header, &payload(&w.image), &s.chain)
}

/// A tagged COSE envelope for the world's image with its headers edited before signing.
fn cose_with(s: &Signer, w: &World, edit: impl FnOnce(&mut coset::Header, &mut coset::Header)) -> Vec<u8> {
    let mut p = cose_protected(s.key.cose_alg(), &attrs());
    let mut u = cose_unprotected(&s.chain);
    edit(&mut p, &mut u);
    cose_bytes(cose_sign(&s.key, p, u, &payload(&w.image)))
}

/// `s` with its base64url padding restored (unchanged when its length needs none).
fn padded(s: &str) -> String {
    let bytes = URL_SAFE_NO_PAD.decode(s).unwrap();
    URL_SAFE.encode(bytes)
}

fn corpus(w: &World) -> Vec<Case> {
    let mut c = Corpus { w, cases: Vec::new() };
    let s = &w.p256;
    let good = jws(s, &w.image, &attrs());
    let other_digest = Descriptor { digest: w.other_image.digest.clone(), ..w.image.clone() };
    let other_size = Descriptor { size: w.image.size + 1, ..w.image.clone() };
    let other_type = Descriptor { media_type: "application/vnd.oci.image.index.v1+json".into(), ..w.image.clone() };

    // --- the payload: altered in place (signature no longer matches) or re-signed for
    // another descriptor (a valid signature for something else) ---
    for (what, d) in [("digest", &other_digest), ("size", &other_size), ("mediaType", &other_type)] {
        let mut j = good.clone();
        j.payload = b64(&payload(d));
        c.jws(&format!("jws payload {what} altered without re-signing"), j.bytes(), "signature is invalid");
        c.jws(&format!("jws re-signed for another {what}"), jws(s, d, &attrs()).bytes(), "content descriptor mismatch");
        let mut m = cose(s, &w.image, &attrs());
        m.payload = Some(payload(d));
        c.cose(&format!("cose payload {what} altered without re-signing"), cose_bytes(m), "signature is invalid");
        c.cose(
            &format!("cose re-signed for another {what}"),
            cose_bytes(cose(s, d, &attrs())),
            "content descriptor mismatch",
        );
    }
    c.jws(
        "jws replay: another image's valid signature attached to this one",
        jws(&w.rsa, &w.other_image, &attrs()).bytes(),
        "content descriptor mismatch",
    );
    c.cose(
        "cose replay: another image's valid signature attached to this one",
        cose_bytes(cose(&w.p384, &w.other_image, &attrs())),
        "content descriptor mismatch",
    );
    {
        let mut p: Value = serde_json::from_slice(&payload(&w.image)).unwrap();
        p["targetArtifact"]["size"] = json!(w.image.size.to_string());
        let j = Jws::sign(
            &s.key,
            &serde_json::to_vec(&jws_header("ES256", &attrs())).unwrap(),
            &p.to_string().into_bytes(),
            &s.chain,
        );
        c.jws("jws payload size as a string", j.bytes(), "targetArtifact has no size");
        let j = Jws::sign(
            &s.key,
            &serde_json::to_vec(&jws_header("ES256", &attrs())).unwrap(),
            b"{\"subject\":{}}",
            &s.chain,
        );
        c.jws("jws payload without targetArtifact", j.bytes(), "no targetArtifact");
        for (what, size) in [("fractional", json!(1234.0)), ("negative", json!(-1234)), ("null", json!(null))] {
            p["targetArtifact"]["size"] = size;
            let j = Jws::sign(
                &s.key,
                &serde_json::to_vec(&jws_header("ES256", &attrs())).unwrap(),
                &p.to_string().into_bytes(),
                &s.chain,
            );
            c.jws(&format!("jws payload size {what}"), j.bytes(), "targetArtifact has no size");
        }
    }

    // --- the signature bytes ---
    {
        let mut j = good.clone();
        let mut raw = j.raw_signature.clone();
        raw[5] ^= 0x01;
        j.signature = b64(&raw);
        c.jws("jws signature byte flipped", j.bytes(), "signature is invalid");
        let mut m = cose(s, &w.image, &attrs());
        let last = m.signature.len() - 1;
        m.signature[last] ^= 0x80;
        c.cose("cose signature byte flipped", cose_bytes(m), "signature is invalid");
        let mut j = good.clone();
        j.signature = String::new();
        c.jws("jws empty signature", j.bytes(), "empty signature");
        let mut m = cose(s, &w.image, &attrs());
        m.signature.clear();
        c.cose("cose empty signature", cose_bytes(m), "empty signature");
        // The same ECDSA signature in ASN.1 form instead of JOSE's r || s.
        let mut j = good.clone();
        let sig = p256::ecdsa::Signature::from_slice(&j.raw_signature).unwrap();
        j.signature = b64(sig.to_der().as_bytes());
        c.jws("jws ECDSA signature DER-encoded", j.bytes(), "signature is invalid");
        // A trusted chain with a signature by a key that is not the leaf's.
        let mut j = jws(&Signer { key: SignKey::p256(77), chain: s.chain.clone() }, &w.image, &attrs());
        j.header = good.header.clone();
        c.jws("jws signed by a key other than the leaf's", j.bytes(), "signature is invalid");
    }

    // --- algorithms ---
    {
        let header = header_with("none", &attrs(), |_| {});
        let mut j = jws_raw(s, &header, w);
        j.signature = String::new();
        c.jws("jws alg none", j.bytes(), "\"none\" is not allowed");
        // A MAC the attacker can compute, keyed by something public.
        let header = header_with("HS256", &attrs(), |_| {});
        let mut j = jws_raw(s, &header, w);
        let input = format!("{}.{}", j.protected, j.payload);
        let mac = sha2::Sha256::new_with_prefix(&s.chain[0]).chain_update(input).finalize();
        j.signature = b64(&mac);
        c.jws("jws alg HS256", j.bytes(), "\"HS256\" is not allowed");
        let j = jws_raw(s, &header_with("ES384", &attrs(), |_| {}), w);
        c.jws("jws ES384 header with a P-256 key", j.bytes(), "mismatch between signature algorithm");
        let j = jws_raw(s, &header_with("PS256", &attrs(), |_| {}), w);
        c.jws("jws PS256 header with an EC key", j.bytes(), "mismatch between signature algorithm");
        let j = jws_raw(&w.rsa, &header_with("ES256", &attrs(), |_| {}), w);
        c.jws("jws ES256 header with an RSA key", j.bytes(), "mismatch between signature algorithm");
        let j = jws_raw(&w.p384, &header_with("ES512", &attrs(), |_| {}), w);
        c.jws("jws ES512 header with a P-384 key", j.bytes(), "mismatch between signature algorithm");
        let m = cose_with(s, w, |p, _| p.alg = Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES384)));
        c.cose("cose ES384 header with a P-256 key", m, "mismatch between signature algorithm");
        let m = cose_with(s, w, |p, _| p.alg = Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::PS256)));
        c.cose("cose PS256 header with an EC key", m, "mismatch between signature algorithm");
        let m = cose_with(s, w, |p, _| p.alg = Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA)));
        c.cose("cose EdDSA algorithm", m, "is not allowed");
        let m = cose_with(s, w, |p, u| {
            u.alg = p.alg.take();
        });
        // The verifier reads the protected bucket first, so the missing algorithm is reported.
        c.cose("cose alg only in the unprotected header", m, "protected header has no algorithm");
    }

    // --- the certificate chain as sent ---
    {
        let ch = &s.chain;
        let with_chain = |chain: Vec<Vec<u8>>| {
            let mut j = good.clone();
            j.header.insert("x5c".into(), json!(chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>()));
            j.bytes()
        };
        c.jws(
            "x5c reversed (root first)",
            with_chain(vec![ch[2].clone(), ch[1].clone(), ch[0].clone()]),
            "self-signed",
        );
        c.jws(
            "x5c leaf and intermediate swapped",
            with_chain(vec![ch[1].clone(), ch[0].clone(), ch[2].clone()]),
            "is not issued by",
        );
        c.jws("x5c truncated to the leaf", with_chain(vec![ch[0].clone()]), "must be self-signed");
        c.jws("x5c without the intermediate", with_chain(vec![ch[0].clone(), ch[2].clone()]), "is not issued by");
        c.jws(
            "x5c padded with an untrusted root",
            with_chain(vec![ch[0].clone(), ch[1].clone(), ch[2].clone(), w.untrusted.chain[1].clone()]),
            "self-signed",
        );
        c.jws("x5c empty", with_chain(vec![]), "no certificate chain");
        c.jws(
            "x5c with garbage DER",
            with_chain(vec![ch[0].clone(), b"\x30\x03\x02\x01\x00".to_vec(), ch[2].clone()]),
            "does not parse",
        );
        let mut j = good.clone();
        j.header.insert("x5c".into(), json!(["not base64!", STANDARD.encode(&ch[1]), STANDARD.encode(&ch[2])]));
        c.jws("x5c not base64", j.bytes(), "not standard base64");
        let mut j = good.clone();
        j.header.remove("x5c");
        c.jws("x5c missing", j.bytes(), "no certificate chain");
        let mut j = good.clone();
        j.header = serde_json::Map::new();
        let mut v = j.value();
        v.as_object_mut().unwrap().remove("header");
        c.jws("jws without unprotected header", serde_json::to_vec(&v).unwrap(), "no unprotected header");

        let m = cose_with(s, w, |_, u| u.rest[0].1 = Cbor::Bytes(ch[0].clone()));
        c.cose("cose x5chain as a single bstr", m, "x5chain is not an array");
        let m = cose_with(s, w, |p, u| {
            let x5 = u.rest.remove(0);
            p.rest.push(x5);
        });
        c.cose("cose x5chain only in the protected header", m, "unexpected integer label 33");
        let m = cose_with(s, w, |_, u| u.rest[0].1 = Cbor::Array(vec![Cbor::Bytes(ch[0].clone())]));
        c.cose("cose x5chain truncated to the leaf", m, "must be self-signed");
    }

    // --- certificates that break the code-signing rules ---
    {
        let leaf_case = |c: &mut Corpus, name: &str, edit: &dyn Fn(&mut CertificateParams), why: &'static str| {
            let mut p = leaf_params("bent leaf", 50);
            edit(&mut p);
            let bent = w.leaf(p, SignKey::p256(50));
            c.jws(name, jws(&bent, &w.image, &attrs()).bytes(), why);
        };
        leaf_case(
            &mut c,
            "leaf with serverAuth EKU only",
            &|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth],
            "ServerAuth",
        );
        leaf_case(
            &mut c,
            "leaf with codeSigning and clientAuth EKU",
            &|p| p.extended_key_usages.push(ExtendedKeyUsagePurpose::ClientAuth),
            "ClientAuth",
        );
        leaf_case(
            &mut c,
            "leaf with codeSigning and anyExtendedKeyUsage",
            &|p| p.extended_key_usages.push(ExtendedKeyUsagePurpose::Any),
            "AnyExtendedKeyUsage",
        );
        leaf_case(
            &mut c,
            "leaf with timeStamping EKU",
            &|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::TimeStamping],
            "TimeStamping",
        );
        leaf_case(
            &mut c,
            "leaf with an unrelated EKU only",
            &|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 4, 1, 99999, 7])],
            "does not allow code signing",
        );
        leaf_case(&mut c, "leaf without key usage", &|p| p.key_usages.clear(), "key usage extension must be present");
        leaf_case(
            &mut c,
            "leaf with non-critical key usage",
            &|p| {
                p.key_usages.clear();
                let mut ku = CustomExtension::from_oid_content(&[2, 5, 29, 15], vec![0x03, 0x02, 0x07, 0x80]);
                ku.set_criticality(false);
                p.custom_extensions.push(ku);
            },
            "must be marked critical",
        );
        leaf_case(
            &mut c,
            "leaf with keyCertSign key usage",
            &|p| p.key_usages.push(KeyUsagePurpose::KeyCertSign),
            "CertSign",
        );
        leaf_case(
            &mut c,
            "leaf with basicConstraints cA=true",
            &|p| p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained),
            "a CA certificate cannot sign",
        );
        // The intermediate itself, a genuine CA certificate, used as the signing certificate.
        let ca_signer = Signer { key: w.inter.key().clone(), chain: vec![w.inter.der.clone(), w.root.der.clone()] };
        c.jws(
            "CA certificate as the leaf",
            jws(&ca_signer, &w.image, &attrs()).bytes(),
            "a CA certificate cannot sign",
        );

        let key = SignKey::rsa(1024);
        let weak = w.leaf(leaf_params("rsa 1024", 51), key);
        let j = Jws::sign(&weak.key, &header_with("PS256", &attrs(), |_| {}), &payload(&w.image), &weak.chain);
        c.jws("RSA-1024 leaf", j.bytes(), "rsa key size 1024");

        // rcgen has no P-224: the leaf is made with a P-256 key, its key swapped for P-224's
        // generator point and the certificate re-signed by the intermediate.
        let p224 = w.leaf(leaf_params("p224", 52), SignKey::p256(52));
        let mut p224_chain = p224.chain.clone();
        p224_chain[0] = resign(&p224.chain[0], w.inter.key(), |tbs| {
            use der::Decode as _;
            let point = hex_bytes(
                "04b70e0cbd6bb4bf7f321390b94a03c1d356c21122343280d6115c1d21\
                 bd376388b5f723fb4c22dfe6cd4375a05a07476444d5819985007e34",
            );
            let spki =
                seq(&[seq(&[oid("1.2.840.10045.2.1"), oid("1.3.132.0.33")]), tlv(0x03, &[&[0][..], &point].concat())]);
            tbs.subject_public_key_info = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(&spki).unwrap();
        });
        let j = jws(&Signer { key: p224.key, chain: p224_chain }, &w.image, &attrs());
        c.jws("P-224 leaf", j.bytes(), "elliptic curve 1.3.132.0.33 is not supported");

        // A self-signed CA in the middle: the leaf is issued by it, and the real root is
        // appended so the chain still "ends" at a trusted root.
        let rogue = Ca::root("Rogue Self-Signed CA", 53, SignKey::p256(53));
        let key = SignKey::p256(54);
        let rogue_chain =
            vec![rogue.issue(&leaf_params("rogue leaf", 54), &key), rogue.der.clone(), w.root.der.clone()];
        c.jws(
            "chain with a self-signed certificate in the middle",
            jws(&Signer { key, chain: rogue_chain }, &w.image, &attrs()).bytes(),
            "intermediate certificate",
        );

        // An issuer that is not a CA (no basicConstraints cA) signing the leaf.
        let mut not_ca = ca_params("Not A CA", 55);
        not_ca.is_ca = IsCa::ExplicitNoCa;
        let not_ca = w.root.issue_ca(not_ca, SignKey::p256(55));
        let key = SignKey::p256(56);
        let chain =
            vec![not_ca.issue(&leaf_params("leaf of a non-CA", 56), &key), not_ca.der.clone(), w.root.der.clone()];
        c.jws(
            "leaf issued by a non-CA certificate",
            jws(&Signer { key, chain }, &w.image, &attrs()).bytes(),
            "CA field set to true",
        );

        leaf_case(
            &mut c,
            "leaf with keyEncipherment key usage",
            &|p| p.key_usages.push(KeyUsagePurpose::KeyEncipherment),
            "KeyEncipherment",
        );
        // The spec forbids SHA-1 certificate signatures. No SHA-1 is at hand here, so the
        // leaf only claims ecdsa-with-SHA1; the reason shows it is the algorithm that is
        // refused, before any digest is compared.
        let sha1 = w.leaf(leaf_params("sha1 leaf", 62), SignKey::p256(62));
        let mut sha1_chain = sha1.chain.clone();
        sha1_chain[0] = resign_as(&sha1.chain[0], w.inter.key(), &seq(&[oid("1.2.840.10045.4.1")]), |_| {});
        c.jws(
            "leaf signed with ecdsa-with-SHA1",
            jws(&Signer { key: sha1.key, chain: sha1_chain }, &w.image, &attrs()).bytes(),
            "unsupported signature algorithm",
        );
        let mut long = s.chain.clone();
        long.extend(std::iter::repeat_n(w.root.der.clone(), 8));
        let mut j = good.clone();
        j.header.insert("x5c".into(), json!(long.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>()));
        c.jws("chain of 11 certificates", j.bytes(), "more than 10");

        // CA certificates that break the CA rules, each with a leaf under it.
        let ca_case = |c: &mut Corpus, name: &str, edit: &dyn Fn(&mut CertificateParams), why: &'static str| {
            let mut p = ca_params("Bent Intermediate", 63);
            edit(&mut p);
            let bent = w.root.issue_ca(p, SignKey::p256(63));
            let key = SignKey::p256(64);
            let chain =
                vec![bent.issue(&leaf_params("leaf of a bent CA", 64), &key), bent.der.clone(), w.root.der.clone()];
            c.jws(name, jws(&Signer { key, chain }, &w.image, &attrs()).bytes(), why);
        };
        ca_case(
            &mut c,
            "intermediate without key usage",
            &|p| p.key_usages.clear(),
            "key usage extension must be present",
        );
        ca_case(
            &mut c,
            "intermediate with non-critical key usage",
            &|p| {
                p.key_usages.clear();
                let mut ku = CustomExtension::from_oid_content(&[2, 5, 29, 15], vec![0x03, 0x02, 0x02, 0x04]);
                ku.set_criticality(false);
                p.custom_extensions.push(ku);
            },
            "must be marked critical",
        );
        ca_case(
            &mut c,
            "intermediate without keyCertSign",
            &|p| p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign],
            "key cert sign",
        );
        // A self-signed root without basicConstraints cA=true.
        let mut p = ca_params("Root Without CA Flag", 65);
        p.is_ca = IsCa::NoCa;
        let flagless = Ca::root_with(p, SignKey::p256(65));
        let key = SignKey::p256(66);
        let chain = vec![flagless.issue(&leaf_params("leaf of a flagless root", 66), &key), flagless.der.clone()];
        c.jws(
            "root without basicConstraints",
            jws(&Signer { key, chain }, &w.image, &attrs()).bytes(),
            "CA field set to true",
        );

        // pathLenConstraint 0 with another CA below it.
        let mut p = ca_params("Path Len Zero", 57);
        p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        let len0 = w.root.issue_ca(p, SignKey::p256(57));
        let below = len0.intermediate("Below Path Len Zero", 58, SignKey::p256(58));
        let key = SignKey::p256(59);
        let chain = vec![
            below.issue(&leaf_params("deep leaf", 59), &key),
            below.der.clone(),
            len0.der.clone(),
            w.root.der.clone(),
        ];
        c.jws(
            "intermediate violating pathLenConstraint 0",
            jws(&Signer { key, chain }, &w.image, &attrs()).bytes(),
            "path length",
        );
    }

    // --- issue 7: critical extensions, CA key sizes ---
    {
        let leaf_case = |c: &mut Corpus, name: &str, edit: &dyn Fn(&mut CertificateParams), why: &'static str| {
            let mut p = leaf_params("bent leaf", 71);
            edit(&mut p);
            let bent = w.leaf(p, SignKey::p256(71));
            c.jws(name, jws(&bent, &w.image, &attrs()).bytes(), why);
        };
        leaf_case(
            &mut c,
            "leaf with an unknown critical extension",
            &|p| p.custom_extensions.push(critical_ext(UNKNOWN_EXTENSION, vec![0x05, 0x00])),
            "unrecognised critical extension 1.3.6.1.4.1.99999.42",
        );
        // A second extKeyUsage, non-critical, allowing anything: RFC 5280 allows one instance,
        // and two readers of "the" EKU could each pick a different one.
        leaf_case(
            &mut c,
            "leaf with extKeyUsage twice",
            &|p| {
                p.custom_extensions.push(CustomExtension::from_oid_content(&[2, 5, 29, 37], seq(&[oid("2.5.29.37.0")])))
            },
            "extension 2.5.29.37 occurs more than once",
        );
        let under = |c: &mut Corpus, name: &str, p: CertificateParams, key: SignKey, why: &'static str| {
            let ca = w.root.issue_ca(p, key);
            let leaf_key = SignKey::p256(72);
            let chain =
                vec![ca.issue(&leaf_params("leaf of a bent CA", 72), &leaf_key), ca.der.clone(), w.root.der.clone()];
            c.jws(name, jws(&Signer { key: leaf_key, chain }, &w.image, &attrs()).bytes(), why);
        };
        let mut p = ca_params("Critical Intermediate", 73);
        p.custom_extensions.push(critical_ext(UNKNOWN_EXTENSION, vec![0x05, 0x00]));
        under(
            &mut c,
            "intermediate with an unknown critical extension",
            p,
            SignKey::p256(73),
            "unrecognised critical extension",
        );
        // policyConstraints (requireExplicitPolicy 0) is one Go processes and this verifier
        // does not: ignoring it could accept what RFC 5280 path validation refuses.
        let mut p = ca_params("Policy Constrained Intermediate", 74);
        p.custom_extensions.push(critical_ext(&[2, 5, 29, 36], seq(&[tlv(0x80, &[0])])));
        under(
            &mut c,
            "intermediate with a critical policyConstraints",
            p,
            SignKey::p256(74),
            "critical extension 2.5.29.36",
        );
        under(
            &mut c,
            "RSA-1024 intermediate",
            ca_params("Weak Intermediate", 75),
            SignKey::rsa(1024),
            "rsa key size 1024",
        );

        // RSA-1024 two levels up, above a strong intermediate.
        let weak = w.root.intermediate("Weak Upper Intermediate", 76, SignKey::rsa(1024));
        let strong = weak.intermediate("Strong Lower Intermediate", 77, SignKey::p256(77));
        let key = SignKey::p256(78);
        let chain = vec![
            strong.issue(&leaf_params("leaf under a weak CA", 78), &key),
            strong.der.clone(),
            weak.der.clone(),
            w.root.der.clone(),
        ];
        c.jws(
            "RSA-1024 intermediate above a strong one",
            jws(&Signer { key, chain }, &w.image, &attrs()).bytes(),
            "\"CN=Weak Upper Intermediate,O=Sigscope Test,ST=WA,C=US\": rsa key size 1024",
        );
        // The TBS names ecdsa-with-SHA256 while the outer field (which the signature was
        // made with) says SHA-384: the signed bytes and the verifier would disagree on the
        // algorithm. RFC 5280 4.1.1.2 requires the two to match; Go refuses the certificate.
        let bent = w.leaf(leaf_params("two algorithms", 86), SignKey::p256(86));
        let mut chain = bent.chain.clone();
        chain[0] = resign(&bent.chain[0], w.inter.key(), |tbs| {
            use der::Decode as _;
            tbs.signature =
                x509_cert::spki::AlgorithmIdentifierOwned::from_der(&seq(&[oid("1.2.840.10045.4.3.2")])).unwrap();
        });
        c.jws(
            "leaf whose inner and outer signature algorithms differ",
            jws(&Signer { key: bent.key, chain }, &w.image, &attrs()).bytes(),
            "signature algorithm inside the certificate",
        );
        // A trusted root with an unknown critical extension: being in a trust store does
        // not make its extensions understood.
        let key = SignKey::p256(79);
        let root = &w.critical_root;
        let chain = vec![root.issue(&leaf_params("leaf of a critical root", 79), &key), root.der.clone()];
        c.add_with(
            "trusted root with an unknown critical extension",
            JWS,
            jws(&Signer { key, chain }, &w.image, &attrs()).bytes(),
            "critical-root",
            w.image.clone(),
            CheckKind::Integrity,
            "unrecognised critical extension",
        );
    }

    // --- issue 7: a timestamp token spliced from a genuine one ---
    {
        // The signer's certificate expired on 2026-01-01; it signs today and claims a
        // signing time inside its validity. The TSA once stamped other bytes; the splice
        // adds a SignerInfo reusing that signature over attributes for a forged TSTInfo
        // (genTime 2025-12-01, imprint over the new signature).
        let expired = expired_signer(w);
        let old = Attrs::x509(at(2025, 12, 1, 0), Some(at(2026, 12, 31, 0)));
        let splice = |sig: &[u8]| {
            w.tsa.spliced_token(b"a signature the TSA once stamped", "20260301000000Z", sig, "20251201000000Z")
        };
        let j = jws(&expired, &w.image, &old);
        let jws_bytes = j.clone().with_timestamp(splice(&j.raw_signature)).bytes();
        let mut m = cose(&expired, &w.image, &old);
        let token = splice(&m.signature);
        m.unprotected.rest.push((Label::Text(H_TIMESTAMP.into()), Cbor::Bytes(token)));
        let cose_bytes = cose_bytes(m);
        for statement in ["tsa", "tsa-after-expiry"] {
            for (kind, media_type, bytes) in [("jws", JWS, &jws_bytes), ("cose", COSE, &cose_bytes)] {
                c.add_with(
                    &format!("spliced two-signer timestamp token, {kind}, {statement}"),
                    media_type,
                    bytes.clone(),
                    statement,
                    w.image.clone(),
                    CheckKind::AuthenticTimestamp,
                    "exactly one SignerInfo, this one has 2",
                );
            }
        }
    }

    // --- protected headers: crit, scheme, times, content type ---
    {
        let a = attrs();
        let h =
            |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| jws_raw(s, &header_with("ES256", &a, edit), w).bytes();
        c.jws(
            "unknown critical header",
            h(&|m| {
                m.insert("io.example.mustUnderstand".into(), json!("yes"));
                m["crit"].as_array_mut().unwrap().push(json!("io.example.mustUnderstand"));
            }),
            "unknown critical header",
        );
        c.jws(
            "crit lists a header that is absent",
            h(&|m| m["crit"].as_array_mut().unwrap().push(json!("io.example.absent"))),
            "not present",
        );
        c.jws(
            "crit lists expiry but the header has none",
            jws_raw(
                s,
                &header_with("ES256", &Attrs::x509(signed_at(), None), |m| m["crit"] = json!([H_SCHEME, H_EXPIRY])),
                w,
            )
            .bytes(),
            "marked critical but not present",
        );
        c.jws(
            "crit without signingScheme",
            h(&|m| m["crit"] = json!([H_EXPIRY])),
            "\"io.cncf.notary.signingScheme\" is not marked critical",
        );
        c.jws(
            "crit without expiry",
            h(&|m| m["crit"] = json!([H_SCHEME])),
            "\"io.cncf.notary.expiry\" is not marked critical",
        );
        c.jws("crit lists alg", h(&|m| m["crit"].as_array_mut().unwrap().push(json!("alg"))), "marked critical");
        c.jws(
            "crit lists signingTime",
            h(&|m| m["crit"].as_array_mut().unwrap().push(json!(H_SIGNING_TIME))),
            "marked critical",
        );
        c.jws("crit lists cty", h(&|m| m["crit"].as_array_mut().unwrap().push(json!("cty"))), "marked critical");
        c.jws("crit empty", h(&|m| m["crit"] = json!([])), "no crit list");
        c.jws(
            "crit missing",
            h(&|m| {
                m.remove("crit");
            }),
            "no crit list",
        );
        c.jws(
            "crit lists signingScheme twice",
            h(&|m| m["crit"] = json!([H_SCHEME, H_SCHEME, H_EXPIRY])),
            "listed twice",
        );
        c.jws(
            "signing scheme swapped to signingAuthority",
            h(&|m| m[H_SCHEME] = json!("notary.x509.signingAuthority")),
            "is required by the notary.x509.signingAuthority scheme",
        );
        c.jws("unknown signing scheme", h(&|m| m[H_SCHEME] = json!("notary.x509.v2")), "unsupported signing scheme");
        c.jws(
            "signingTime after expiry",
            h(&|m| m[H_SIGNING_TIME] = json!("2027-01-01T00:00:00Z")),
            "is not after the signing time",
        );
        c.jws(
            "signingTime equal to expiry",
            h(&|m| m[H_SIGNING_TIME] = m[H_EXPIRY].clone()),
            "is not after the signing time",
        );
        c.jws(
            "signingTime missing",
            h(&|m| {
                m.remove(H_SIGNING_TIME);
            }),
            "is required by the notary.x509 signing scheme",
        );
        c.jws("signingTime not RFC 3339", h(&|m| m[H_SIGNING_TIME] = json!("31 May 2026 12:00")), "is not RFC 3339");
        c.jws(
            "authenticSigningTime with the x509 scheme",
            h(&|m| {
                m.insert(H_AUTHENTIC_TIME.into(), json!("2026-05-31T12:00:00Z"));
                m["crit"].as_array_mut().unwrap().push(json!(H_AUTHENTIC_TIME));
            }),
            "is not allowed with the notary.x509 signing scheme",
        );
        c.jws("cty wrong", h(&|m| m["cty"] = json!("application/json")), "content type");
        c.jws(
            "cty missing",
            h(&|m| {
                m.remove("cty");
            }),
            "no content type",
        );
        c.jws(
            "jwk injected into the protected header",
            h(&|m| {
                m.insert("jwk".into(), json!({"kty": "EC"}));
            }),
            "not allowed in a Notation envelope",
        );
        c.jws(
            "x5c in the protected header",
            h(&|m| {
                m.insert("x5c".into(), json!([STANDARD.encode(&w.untrusted.chain[0])]));
            }),
            "not allowed in a Notation envelope",
        );
        // Signing-authority envelopes that break the scheme's rules.
        let sa = Attrs::signing_authority(signed_at(), Some(at(2026, 12, 31, 0)));
        let j = jws_raw(
            s,
            &header_with("ES256", &sa, |m| {
                m.insert(H_SIGNING_TIME.into(), json!("2026-05-31T12:00:00Z"));
            }),
            w,
        );
        c.jws("signingAuthority with a signingTime", j.bytes(), "is not allowed with the notary.x509.signingAuthority");
        let j = jws_raw(s, &header_with("ES256", &sa, |m| m["crit"] = json!([H_SCHEME, H_EXPIRY])), w);
        c.jws(
            "signingAuthority without authenticSigningTime in crit",
            j.bytes(),
            "\"io.cncf.notary.authenticSigningTime\" is not marked critical",
        );
        c.add(
            "signingAuthority signature checked against ca: stores only",
            JWS,
            jws(s, &w.image, &sa).bytes(),
            CheckKind::Authenticity,
            "names no signingAuthority: trust store",
        );
        c.add_with(
            "x509 signature checked against signingAuthority: stores only",
            JWS,
            good.bytes(),
            "sa",
            w.image.clone(),
            CheckKind::Authenticity,
            "names no ca: trust store",
        );
        let j = jws_raw(
            s,
            &header_with("ES256", &a, |m| {
                m.insert("io.cncf.notary.verificationPlugin".into(), json!("com.example.plugin"));
                m["crit"].as_array_mut().unwrap().push(json!("io.cncf.notary.verificationPlugin"));
            }),
            w,
        );
        c.add("verification plugin required", JWS, j.bytes(), CheckKind::VerificationPlugin, "com.example.plugin");

        let m = cose_with(s, w, |p, _| {
            p.rest.iter_mut().find(|(l, _)| *l == Label::Text(H_SIGNING_TIME.into())).unwrap().1 =
                Cbor::Integer(signed_at().timestamp().into())
        });
        c.cose("cose signingTime untagged", m, "is not a tag-1 epoch time");
        let m = cose_with(s, w, |p, _| {
            p.rest.iter_mut().find(|(l, _)| *l == Label::Text(H_EXPIRY.into())).unwrap().1 =
                Cbor::Tag(0, Box::new(Cbor::Text("2026-12-31T00:00:00Z".into())))
        });
        c.cose("cose expiry as a tag-0 date string", m, "is not a tag-1 epoch time");
        let m = cose_with(s, w, |p, _| p.crit.push(RegisteredLabelWithPrivate::Assigned(iana::HeaderParameter::Alg)));
        c.cose("cose crit lists the integer label alg", m, "crit lists");
        let m = cose_with(s, w, |p, _| p.crit.push(RegisteredLabelWithPrivate::Text(H_SIGNING_TIME.into())));
        c.cose("cose crit lists signingTime", m, "marked critical");
        let m = cose_with(s, w, |p, _| p.crit.retain(|l| *l != RegisteredLabelWithPrivate::Text(H_EXPIRY.into())));
        c.cose("cose crit without expiry", m, "\"io.cncf.notary.expiry\" is not marked critical");
        let m =
            cose_with(s, w, |p, _| p.content_type = Some(coset::ContentType::Assigned(iana::CoapContentFormat::Json)));
        c.cose("cose content type as a CoAP number", m, "content type");
        let m = cose_with(s, w, |p, _| {
            p.rest.iter_mut().find(|(l, _)| *l == Label::Text(H_SCHEME.into())).unwrap().1 =
                Cbor::Text("notary.x509.signingAuthority".into())
        });
        c.cose("cose signing scheme swapped to signingAuthority", m, "is required by the notary.x509.signingAuthority");
    }

    // --- serialization tricks ---
    {
        let text = String::from_utf8(good.bytes()).unwrap();
        let body = text.strip_prefix('{').unwrap();
        let other = b64(&payload(&w.other_image));
        c.jws("duplicate top-level key", format!("{{\"payload\":\"{other}\",{body}").into_bytes(), "duplicate key");
        let header = String::from_utf8(serde_json::to_vec(&jws_header("ES256", &attrs())).unwrap()).unwrap();
        let dup = format!(
            "{{\"io.cncf.notary.signingScheme\":\"notary.x509.signingAuthority\",{}",
            header.strip_prefix('{').unwrap()
        );
        c.jws("duplicate protected header key", jws_raw(s, dup.as_bytes(), w).bytes(), "duplicate key");
        let p = String::from_utf8(payload(&w.image)).unwrap();
        let dup = format!(
            "{{\"targetArtifact\":{},{}",
            json!({"mediaType": w.other_image.media_type, "digest": w.other_image.digest, "size": w.other_image.size}),
            p.strip_prefix('{').unwrap()
        );
        let header = serde_json::to_vec(&jws_header("ES256", &attrs())).unwrap();
        c.jws("duplicate payload key", Jws::sign(&s.key, &header, dup.as_bytes(), &s.chain).bytes(), "duplicate key");
        let mut j = good.clone();
        j.header.insert("X5C".into(), json!([STANDARD.encode(&w.untrusted.chain[0])]));
        c.jws("x5c twice, differing in case", j.bytes(), "more than once");

        // Padding, with the signature over the padded text so only the encoding rule can fail.
        let mut header = jws_header("ES256", &attrs());
        let mut pl: Value = serde_json::from_slice(&payload(&w.image)).unwrap();
        let mut k = 0;
        while serde_json::to_vec(&header).unwrap().len().is_multiple_of(3) || pl.to_string().len().is_multiple_of(3) {
            k += 1;
            header.insert("io.example.pad".into(), json!("x".repeat(k)));
            pl["targetArtifact"]["annotations"] = json!({"pad": "y".repeat(k)});
        }
        let hb = serde_json::to_vec(&header).unwrap();
        let pb = pl.to_string().into_bytes();
        let j = Jws::sign_b64(&s.key, padded(&b64(&hb)), b64(&pb), &s.chain);
        assert!(j.protected.ends_with('='));
        c.jws("padded base64url protected header", j.bytes(), "not unpadded base64url");
        let j = Jws::sign_b64(&s.key, b64(&hb), padded(&b64(&pb)), &s.chain);
        assert!(j.payload.ends_with('='));
        c.jws("padded base64url payload", j.bytes(), "not unpadded base64url");
        let mut j = good.clone();
        j.signature = padded(&j.signature);
        assert!(j.signature.ends_with('='), "a 64-byte signature needs padding");
        c.jws("padded base64url signature", j.bytes(), "not unpadded base64url");
        let mut j = good.clone();
        j.signature = STANDARD.encode(&j.raw_signature).replace('=', "");
        if j.signature.contains(['+', '/']) {
            c.jws("signature in standard base64", j.bytes(), "not unpadded base64url");
        }

        let mut j = good.clone();
        j.header.insert(H_AGENT.into(), json!("a".repeat(MAX_ENVELOPE_BYTES)));
        c.jws("oversized envelope", j.bytes(), "byte limit");
        c.jws("truncated JSON", text.as_bytes()[..text.len() / 2].to_vec(), "malformed JWS envelope");
        c.jws("not JSON at all", b"\x00\x01garbage".to_vec(), "malformed JWS envelope");
        c.jws("JSON array instead of an object", b"[]".to_vec(), "not a JSON object");
        let general = json!({
            "payload": good.payload,
            "signatures": [{"protected": good.protected, "header": good.header, "signature": good.signature}],
        });
        c.jws("JWS general serialization", serde_json::to_vec(&general).unwrap(), "unexpected member \"signatures\"");
        let mut v = good.value();
        v["protected"] = json!(42);
        c.jws("protected header as a number", serde_json::to_vec(&v).unwrap(), "no protected string");
        let compact = format!("{}.{}.{}", good.protected, good.payload, good.signature);
        c.jws("JWS compact serialization", compact.into_bytes(), "malformed JWS envelope");

        let m = cose(s, &w.image, &attrs());
        c.cose("cose untagged", m.clone().to_vec().unwrap(), "not a tagged COSE_Sign1");
        let mut tagged = cose_bytes(m.clone());
        tagged[0] = 0xd2 - 1; // tag 17: COSE_Mac0
        c.cose("cose with the COSE_Mac0 tag", tagged, "not a tagged COSE_Sign1");
        let mut detached = m.clone();
        detached.payload = None;
        c.cose("cose detached payload", cose_bytes(detached), "detached");
        let t = cose_bytes(m.clone());
        c.cose("cose truncated", t[..t.len() - 10].to_vec(), "not a tagged COSE_Sign1");
        let mut trailing = cose_bytes(m);
        trailing.push(0x00);
        c.cose("cose with trailing bytes", trailing, "not a tagged COSE_Sign1");
        c.add("JWS bytes as a COSE layer", COSE, good.bytes(), CheckKind::Integrity, "not a tagged COSE_Sign1");
        c.add(
            "COSE bytes as a JWS layer",
            JWS,
            cose_bytes(cose(s, &w.image, &attrs())),
            CheckKind::Integrity,
            "malformed JWS envelope",
        );
        c.add(
            "unknown envelope media type",
            "application/json",
            good.bytes(),
            CheckKind::Integrity,
            "is not supported",
        );
    }

    // --- time: certificate validity, expiry, timestamps ---
    {
        let mut p = leaf_params("future leaf", 60);
        p.not_before = ymd(2026, 7, 1);
        let future = w.leaf(p, SignKey::p256(60));
        c.add(
            "not-yet-valid leaf, no timestamp",
            JWS,
            jws(&future, &w.image, &attrs()).bytes(),
            CheckKind::AuthenticTimestamp,
            "is before certificate",
        );
        let expired = expired_signer(w);
        let old = Attrs::x509(at(2025, 12, 1, 0), Some(at(2026, 12, 31, 0)));
        c.add(
            "expired leaf, no timestamp",
            JWS,
            jws(&expired, &w.image, &old).bytes(),
            CheckKind::AuthenticTimestamp,
            "is after certificate",
        );
        c.add(
            "expired leaf, cose, no timestamp",
            COSE,
            cose_bytes(cose(&expired, &w.image, &old)),
            CheckKind::AuthenticTimestamp,
            "is after certificate",
        );
        let j = jws(&expired, &w.image, &old);
        let token = w.tsa.token(&j.raw_signature, "20260301000000Z");
        c.add_with(
            "expired leaf, timestamped after it expired",
            JWS,
            j.with_timestamp(token).bytes(),
            "tsa",
            w.image.clone(),
            CheckKind::AuthenticTimestamp,
            "after certificate",
        );
        let j = jws(s, &w.image, &attrs());
        let token = w.tsa.token(b"some other signature bytes", "20260531120000Z");
        c.add_with(
            "timestamp token over other bytes",
            JWS,
            j.with_timestamp(token).bytes(),
            "tsa",
            w.image.clone(),
            CheckKind::AuthenticTimestamp,
            "failed to verify the timestamp countersignature",
        );
        let j = jws(s, &w.image, &attrs());
        let token = w.other_tsa.token(&j.raw_signature, "20260531120000Z");
        c.add_with(
            "timestamp token from an untrusted TSA",
            JWS,
            j.with_timestamp(token).bytes(),
            "tsa",
            w.image.clone(),
            CheckKind::AuthenticTimestamp,
            "failed to verify the timestamp countersignature",
        );
        let j = jws(s, &w.image, &attrs());
        let other_sig = jws(s, &w.other_image, &attrs()).raw_signature;
        let token = w.tsa.token(&other_sig, "20260531120000Z");
        c.add_with(
            "timestamp token of another signature",
            JWS,
            j.with_timestamp(token).bytes(),
            "tsa",
            w.image.clone(),
            CheckKind::AuthenticTimestamp,
            "failed to verify the timestamp countersignature",
        );
        let mut m = cose(s, &w.image, &attrs());
        let token = w.tsa.token(b"other", "20260531120000Z");
        m.unprotected.rest.push((Label::Text(H_TIMESTAMP.into()), Cbor::Bytes(token)));
        c.add_with(
            "cose timestamp token over other bytes",
            COSE,
            cose_bytes(m),
            "tsa",
            w.image.clone(),
            CheckKind::AuthenticTimestamp,
            "failed to verify the timestamp countersignature",
        );
        c.add_with(
            "tsa policy, no timestamp",
            JWS,
            good.bytes(),
            "tsa",
            w.image.clone(),
            CheckKind::AuthenticTimestamp,
            "no timestamp countersignature was found",
        );
        let j = good.clone().with_timestamp(b"\x30\x03\x02\x01\x00".to_vec());
        c.add_with(
            "timestamp token garbage",
            JWS,
            j.bytes(),
            "tsa",
            w.image.clone(),
            CheckKind::AuthenticTimestamp,
            "failed to verify the timestamp countersignature",
        );
        // A valid leaf under an intermediate that has expired.
        let mut p = ca_params("Expired Intermediate", 67);
        p.not_after = ymd(2026, 3, 1);
        let old_ca = w.root.issue_ca(p, SignKey::p256(67));
        let key = SignKey::p256(68);
        let chain =
            vec![old_ca.issue(&leaf_params("leaf of an expired CA", 68), &key), old_ca.der.clone(), w.root.der.clone()];
        c.add(
            "expired intermediate, no timestamp",
            JWS,
            jws(&Signer { key, chain }, &w.image, &attrs()).bytes(),
            CheckKind::AuthenticTimestamp,
            "Expired Intermediate",
        );
        let short = Attrs::x509(signed_at(), Some(at(2026, 5, 31, 18)));
        c.add("expired signature", JWS, jws(s, &w.image, &short).bytes(), CheckKind::Expiry, "has expired");
        // Notation: expired when now >= expiry.
        let edge = Attrs::x509(signed_at(), Some(now()));
        c.add("signature expiring exactly now", JWS, jws(s, &w.image, &edge).bytes(), CheckKind::Expiry, "has expired");
        c.add(
            "expired signature, cose",
            COSE,
            cose_bytes(cose(&w.rsa, &w.image, &short)),
            CheckKind::Expiry,
            "has expired",
        );
        let sa = Attrs::signing_authority(at(2025, 6, 1, 0), None);
        c.add_with(
            "signingAuthority: authentic signing time before the leaf's validity",
            JWS,
            jws(s, &w.image, &sa).bytes(),
            "sa",
            w.image.clone(),
            CheckKind::AuthenticTimestamp,
            "is before certificate",
        );
    }

    // --- COSE written by hand: duplicate map labels, which coset's builder cannot produce ---
    {
        use coset::AsCborValue as _;
        let map = |h: coset::Header| match h.to_cbor_value().unwrap() {
            Cbor::Map(entries) => entries,
            other => panic!("{other:?}"),
        };
        let protected = map(cose_protected(s.key.cose_alg(), &attrs()));
        let unprotected = map(cose_unprotected(&s.chain));
        let p = payload(&w.image);
        let mut dup = protected.clone();
        dup.insert(0, (Cbor::Integer(1.into()), Cbor::Integer((-35).into())));
        c.cose(
            "cose protected header with alg twice",
            cose_raw(&s.key, &cbor(&Cbor::Map(dup)), Cbor::Map(unprotected.clone()), &p),
            "not a tagged COSE_Sign1",
        );
        let mut dup = protected.clone();
        dup.insert(0, (Cbor::Text(H_SCHEME.into()), Cbor::Text("notary.x509.signingAuthority".into())));
        c.cose(
            "cose protected header with signingScheme twice",
            cose_raw(&s.key, &cbor(&Cbor::Map(dup)), Cbor::Map(unprotected.clone()), &p),
            "not a tagged COSE_Sign1",
        );
        let mut dup = unprotected.clone();
        let untrusted = w.untrusted.chain.iter().map(|c| Cbor::Bytes(c.clone())).collect();
        dup.insert(0, (Cbor::Integer(X5CHAIN.into()), Cbor::Array(untrusted)));
        c.cose(
            "cose unprotected header with x5chain twice",
            cose_raw(&s.key, &cbor(&Cbor::Map(protected.clone())), Cbor::Map(dup), &p),
            "not a tagged COSE_Sign1",
        );
        c.cose(
            "cose protected header not a map",
            cose_raw(&s.key, &cbor(&Cbor::Array(vec![])), Cbor::Map(unprotected.clone()), &p),
            "not a tagged COSE_Sign1",
        );
        c.cose(
            "cose payload not JSON",
            cose_raw(&s.key, &cbor(&Cbor::Map(protected)), Cbor::Map(unprotected), b"\xa1\x00\x00"),
            "payload: expected value",
        );
    }

    // --- trusted identities: near misses and subjects Notation cannot match ---
    {
        let with_subject = |name: &str, edit: &dyn Fn(&mut rcgen::DistinguishedName)| {
            let mut p = leaf_params("unused", 70);
            edit(&mut p.distinguished_name);
            let signer = w.leaf(p, SignKey::p256(70));
            (name.to_string(), jws(&signer, &w.image, &attrs()).bytes())
        };
        use rcgen::DnType;
        for (name, bytes) in [
            with_subject("identity: organization with a suffix", &|d| {
                d.push(DnType::OrganizationName, "Sigscope Testing")
            }),
            with_subject("identity: organization in another case", &|d| {
                d.push(DnType::OrganizationName, "sigscope test")
            }),
            with_subject("identity: organization smuggled into the CN", &|d| {
                d.push(DnType::OrganizationName, "Evil Corp");
                d.push(DnType::CommonName, "x, O=Sigscope Test");
            }),
            with_subject("identity: state missing", &|d| {
                d.remove(DnType::StateOrProvinceName);
            }),
        ] {
            c.add_with(&name, JWS, bytes, "identity", w.image.clone(), CheckKind::TrustedIdentity, "does not match");
        }
        // Go renders these subjects as a multi-valued RDN or with a hex value, which its DN
        // parser refuses: such a leaf matches no identity at all.
        for (name, bytes) in [
            with_subject("identity: a second organization", &|d| {
                d.push(DnType::OrganizationName, "Evil Corp");
                d.push(DnType::CustomDnType(vec![2, 5, 4, 10]), "Sigscope Test");
            }),
            with_subject("identity: emailAddress in the subject", &|d| {
                d.push(DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]), "bot@example.com")
            }),
        ] {
            c.add_with(&name, JWS, bytes, "identity", w.image.clone(), CheckKind::TrustedIdentity, "cannot be matched");
        }
    }

    // --- trust: stores and identities ---
    c.add_with(
        "trust store holds only an intermediate not in the chain",
        JWS,
        good.bytes(),
        "sibling-only",
        w.image.clone(),
        CheckKind::Authenticity,
        "does not contain any trusted certificate",
    );
    // The specification makes store certificates trust anchors: the chain's own intermediate
    // in a store does not vouch for it without the root (notation-go would accept it).
    c.add_with(
        "trust store holds only the chain's intermediate",
        JWS,
        good.bytes(),
        "pinned-intermediate",
        w.image.clone(),
        CheckKind::Authenticity,
        "is not the chain's root",
    );
    c.add(
        "signer from an untrusted PKI",
        JWS,
        jws(&w.untrusted, &w.image, &attrs()).bytes(),
        CheckKind::Authenticity,
        "does not contain any trusted certificate",
    );
    c.add(
        "signer from an untrusted PKI, cose",
        COSE,
        cose_bytes(cose(&w.untrusted, &w.image, &attrs())),
        CheckKind::Authenticity,
        "does not contain any trusted certificate",
    );
    c.add_with(
        "leaf subject outside the trusted identities",
        JWS,
        good.bytes(),
        "other-identity",
        w.image.clone(),
        CheckKind::TrustedIdentity,
        "does not match",
    );
    c.cases
}

fn cbor(v: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    coset::cbor::ser::into_writer(v, &mut out).unwrap();
    out
}

/// A tagged COSE_Sign1 from raw parts, signed over its Sig_structure as given.
fn cose_raw(key: &SignKey, protected: &[u8], unprotected: Cbor, payload: &[u8]) -> Vec<u8> {
    let tbs = Cbor::Array(vec![
        Cbor::Text("Signature1".into()),
        Cbor::Bytes(protected.to_vec()),
        Cbor::Bytes(Vec::new()),
        Cbor::Bytes(payload.to_vec()),
    ]);
    let sig = key.sign(&cbor(&tbs));
    let msg = Cbor::Array(vec![
        Cbor::Bytes(protected.to_vec()),
        unprotected,
        Cbor::Bytes(payload.to_vec()),
        Cbor::Bytes(sig),
    ]);
    cbor(&Cbor::Tag(18, Box::new(msg)))
}

const UNKNOWN_EXTENSION: &[u64] = &[1, 3, 6, 1, 4, 1, 99999, 42];

fn critical_ext(arcs: &[u64], value: Vec<u8>) -> CustomExtension {
    let mut e = CustomExtension::from_oid_content(arcs, value);
    e.set_criticality(true);
    e
}

fn expired_signer(w: &World) -> Signer {
    let mut p = leaf_params("expired leaf", 61);
    p.not_before = ymd(2025, 6, 1);
    p.not_after = ymd(2026, 1, 1);
    w.leaf(p, SignKey::p256(61))
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn assert_verified(w: &World, what: &str, statement: &str, media_type: &str, bytes: &[u8]) {
    let r = w.verify(statement, media_type, bytes, &w.image);
    assert_eq!(r.verdict, SignatureVerdict::Verified, "{what}: {:#?}", r.checks);
    for c in &r.checks {
        assert_eq!(c.outcome, Outcome::Pass, "{what}: {:?} {}", c.check, c.reason);
    }
}

#[test]
fn valid_envelopes_verify_at_strict_level() {
    let w = World::new();
    let a = attrs();
    for statement in ["strict", "identity"] {
        for s in [&w.p256, &w.p384, &w.rsa] {
            let alg = s.key.jws_alg();
            assert_verified(&w, &format!("JWS {alg} ({statement})"), statement, JWS, &jws(s, &w.image, &a).bytes());
            let m = cose(s, &w.image, &a);
            assert_verified(&w, &format!("COSE {alg} ({statement})"), statement, COSE, &cose_bytes(m));
        }
    }
    let r = w.verify("strict", JWS, &jws(&w.rsa, &w.image, &a).bytes(), &w.image);
    assert_eq!(r.algorithm.map(|a| a.name()), Some("PS256"));

    // Controls for cases of the corpus that need more than the plain baseline: without
    // them a rejection could come from a broken generator rather than from the verifier.
    let j = jws(&w.p256, &w.image, &a);
    let token = w.tsa.token(&j.raw_signature, "20260531120000Z");
    assert_verified(&w, "timestamped JWS", "tsa", JWS, &j.with_timestamp(token).bytes());
    let mut m = cose(&w.p384, &w.image, &a);
    let token = w.tsa.token(&m.signature, "20260531120000Z");
    m.unprotected.rest.push((Label::Text(H_TIMESTAMP.into()), Cbor::Bytes(token)));
    assert_verified(&w, "timestamped COSE", "tsa", COSE, &cose_bytes(m));
    let expired = expired_signer(&w);
    let j = jws(&expired, &w.image, &Attrs::x509(at(2025, 12, 1, 0), Some(at(2026, 12, 31, 0))));
    let token = w.tsa.token(&j.raw_signature, "20251201000000Z");
    assert_verified(&w, "expired leaf, timestamped in time", "tsa", JWS, &j.with_timestamp(token).bytes());
    let sa = Attrs::signing_authority(signed_at(), Some(at(2026, 12, 31, 0)));
    assert_verified(&w, "signingAuthority JWS", "sa", JWS, &jws(&w.p256, &w.image, &sa).bytes());
    assert_verified(&w, "signingAuthority COSE", "sa", COSE, &cose_bytes(cose(&w.rsa, &w.image, &sa)));
    {
        use coset::AsCborValue as _;
        let s = &w.p256;
        let p = cbor(&cose_protected(s.key.cose_alg(), &a).to_cbor_value().unwrap());
        let u = cose_unprotected(&s.chain).to_cbor_value().unwrap();
        assert_verified(&w, "hand-written COSE", "strict", COSE, &cose_raw(&s.key, &p, u, &payload(&w.image)));
    }
    assert_verified(&w, "no expiry", "strict", JWS, &jws(&w.p256, &w.image, &Attrs::x509(signed_at(), None)).bytes());
}

/// Issue 7 controls: the genuine tokens the splice cases start from verify under both
/// verifyTimestamp settings, so the splice is what the rejection is about.
#[test]
fn genuine_timestamp_of_an_expired_signer_verifies_with_both_verify_timestamp_settings() {
    let w = World::new();
    let expired = expired_signer(&w);
    let old = Attrs::x509(at(2025, 12, 1, 0), Some(at(2026, 12, 31, 0)));
    for statement in ["tsa", "tsa-after-expiry"] {
        let j = jws(&expired, &w.image, &old);
        let token = w.tsa.token(&j.raw_signature, "20251201000000Z");
        assert_verified(&w, &format!("JWS, {statement}"), statement, JWS, &j.with_timestamp(token).bytes());
        let mut m = cose(&expired, &w.image, &old);
        let token = w.tsa.token(&m.signature, "20251201000000Z");
        m.unprotected.rest.push((Label::Text(H_TIMESTAMP.into()), Cbor::Bytes(token)));
        assert_verified(&w, &format!("COSE, {statement}"), statement, COSE, &cose_bytes(m));
    }
}

/// Issue 7, item 14: P-521 anywhere in the chain verifies, as with notation.
#[test]
fn p521_certificates_verify() {
    let w = World::new();
    let a = attrs();
    // A P-521 intermediate (ecdsa-with-SHA512 over the leaf) under the P-256 root.
    let inter = ResignedCa::intermediate(&w.root, "P-521 Intermediate", 81, SignKey::p521(81));
    let key = SignKey::p256(82);
    let s = Signer {
        chain: vec![inter.issue(&leaf_params("leaf of P-521", 82), &key), inter.der.clone(), w.root.der.clone()],
        key,
    };
    assert_verified(&w, "P-521 intermediate, JWS", "strict", JWS, &jws(&s, &w.image, &a).bytes());
    assert_verified(&w, "P-521 intermediate, COSE", "strict", COSE, &cose_bytes(cose(&s, &w.image, &a)));
    // A P-521 leaf (ES512) under the P-384 intermediate.
    let key = SignKey::p521(83);
    let leaf = issue_with(&w.inter, w.inter.key(), &leaf_params("P-521 leaf", 83), &key);
    let s = Signer { chain: vec![leaf, w.inter.der.clone(), w.root.der.clone()], key };
    assert_verified(&w, "P-521 leaf, JWS", "strict", JWS, &jws(&s, &w.image, &a).bytes());
    assert_verified(&w, "P-521 leaf, COSE", "strict", COSE, &cose_bytes(cose(&s, &w.image, &a)));
    // A self-signed P-521 root over a P-256 leaf.
    let key = SignKey::p256(84);
    let leaf = w.p521_root.issue(&leaf_params("leaf of a P-521 root", 84), &key);
    let s = Signer { chain: vec![leaf, w.p521_root.der.clone()], key };
    let r = w.verify("p521-root", JWS, &jws(&s, &w.image, &a).bytes(), &w.image);
    assert_eq!(r.verdict, SignatureVerdict::Verified, "P-521 root: {:#?}", r.checks);
}

/// The critical extensions that are understood (chain::UNDERSTOOD_CRITICAL_EXTENSIONS) do
/// not make a good chain fail: here a critical subjectAltName.
#[test]
fn understood_critical_extension_verifies() {
    let w = World::new();
    let mut p = leaf_params("critical san", 85);
    let dns = tlv(0x82, b"signer.example.com");
    p.custom_extensions.push(critical_ext(&[2, 5, 29, 17], seq(&[dns])));
    let s = w.leaf(p, SignKey::p256(85));
    assert_verified(&w, "critical subjectAltName", "strict", JWS, &jws(&s, &w.image, &attrs()).bytes());
}

#[test]
fn adversarial_corpus_is_rejected_at_the_expected_check() {
    let w = World::new();
    let cases = corpus(&w);
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut names = std::collections::HashSet::new();
    let mut wrong = Vec::new();
    for case in &cases {
        assert!(names.insert(case.name.as_str()), "duplicate case name {}", case.name);
        let r = w.verify(case.statement, case.media_type, &case.bytes, &case.subject);
        match &r.verdict {
            SignatureVerdict::Failed { check, reason } if *check == case.check && reason.contains(case.why) => {
                let row = r.check(*check).expect("the failed check has a row");
                assert_eq!(row.outcome, Outcome::FailEnforced, "{}", case.name);
            }
            other => wrong
                .push(format!("{}: expected {:?} failing with {:?}, got {other:?}", case.name, case.check, case.why)),
        }
    }
    let mut tally = std::collections::BTreeMap::new();
    for case in &cases {
        *tally.entry(case.check.name()).or_insert(0) += 1;
    }
    eprintln!("{} cases rejected, by check: {tally:?}", cases.len());
    assert!(wrong.is_empty(), "{} of {} cases misjudged:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}

// --- mutation fuzz ---

/// What a JWS says, read independently of the verifier: the three signed strings and the
/// certificate chain (unprotected members matched without case, as the verifier does).
fn jws_meaning(bytes: &[u8]) -> Option<(String, String, String, Value, Option<Value>)> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let header = v.get("header")?.as_object()?;
    let pick = |name: &str| header.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    Some((
        v.get("protected")?.as_str()?.to_string(),
        v.get("payload")?.as_str()?.to_string(),
        v.get("signature")?.as_str()?.to_string(),
        pick("x5c")?,
        pick(H_TIMESTAMP),
    ))
}

type CoseMeaning = (Vec<u8>, Option<Vec<u8>>, Vec<u8>, Option<Cbor>);

fn cose_meaning(bytes: &[u8]) -> Option<CoseMeaning> {
    let m = coset::CoseSign1::from_tagged_slice(bytes).ok()?;
    let x5 = m.unprotected.rest.iter().find(|(l, _)| *l == Label::Int(X5CHAIN)).map(|(_, v)| v.clone());
    Some((m.protected.original_data.clone()?, m.payload, m.signature, x5))
}

/// Deterministic mutations: bit flips, byte replacements, truncations, insertions,
/// deletions and duplicated runs, at positions spread over the whole envelope.
fn mutate(original: &[u8], rng: &mut TestRng) -> Vec<u8> {
    use rsa::rand_core::RngCore as _;
    let mut b = original.to_vec();
    let n = b.len();
    let pos = (rng.next_u64() % n as u64) as usize;
    let byte = rng.next_u32() as u8;
    match rng.next_u32() % 7 {
        0 => b[pos] ^= 1 << (byte % 8),
        1 => b[pos] = byte,
        2 => b.truncate(pos),
        3 => b.insert(pos, byte),
        4 => {
            b.remove(pos);
        }
        5 => {
            let len = 1 + (byte as usize % 16).min(n - pos - 1);
            let run = b[pos..pos + len].to_vec();
            b.splice(pos..pos, run);
        }
        _ => {
            // JSON-significant characters are where a parser's leniency would show.
            let specials = b" \t\n\",:{}[]=\\AZaz09+/-_";
            b[pos] = specials[byte as usize % specials.len()];
        }
    }
    b
}

#[test]
fn mutated_envelopes_never_verify_unless_unchanged_in_meaning() {
    let w = World::new();
    let mut rng = TestRng(0x5eed_f00d);
    const ROUNDS: usize = 1500;
    let jws_good = jws(&w.p256, &w.image, &attrs()).bytes();
    let cose_good = cose_bytes(cose(&w.p256, &w.image, &attrs()));
    let jws_want = jws_meaning(&jws_good).unwrap();
    let cose_want = cose_meaning(&cose_good).unwrap();
    let mut accepted = [0usize; 2];
    for round in 0..ROUNDS {
        let m = mutate(&jws_good, &mut rng);
        let r = w.verify("strict", JWS, &m, &w.image);
        if r.passed() {
            accepted[0] += 1;
            assert_eq!(
                jws_meaning(&m).as_ref(),
                Some(&jws_want),
                "round {round}: JWS mutant verified with another meaning: {}",
                String::from_utf8_lossy(&m)
            );
        }
        let m = mutate(&cose_good, &mut rng);
        let r = w.verify("strict", COSE, &m, &w.image);
        if r.passed() {
            accepted[1] += 1;
            assert_eq!(cose_meaning(&m).as_ref(), Some(&cose_want), "round {round}: COSE mutant verified: {m:02x?}");
        }
    }
    eprintln!("accepted mutants (JWS, COSE) of {ROUNDS} each: {accepted:?}");
    // Nearly every mutation must be refused; a high acceptance rate would mean the
    // mutations hit nothing that is checked.
    assert!(accepted[0] < ROUNDS / 10 && accepted[1] < ROUNDS / 10, "accepted mutants: {accepted:?}");
}
