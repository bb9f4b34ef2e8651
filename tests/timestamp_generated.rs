//! RFC 3161 tokens built here, byte by byte, by a stand-in TSA (rcgen certificates, RustCrypto
//! signers): covers the signer algorithms and certificate variations that the upstream
//! vectors (all RSA PKCS#1 v1.5 from GlobalSign) do not.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::notary;
use common::notary::{TestRng, content, int, oid, seq, set, tlv, ymd};
use der::Decode;
use p256::ecdsa::signature::Signer as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};
use sha2::Digest;
use sigscope::notation::timestamp::verify_timestamp;
use time::OffsetDateTime;

// --- DER: the test must be able to produce exactly the bytes it wants; the writer (tlv, seq,
// set, oid, int, content) is the test signer's, these are the few extra shapes used here ---

fn octets(b: &[u8]) -> Vec<u8> {
    tlv(0x04, b)
}

fn alg(dotted: &str) -> Vec<u8> {
    seq(&[oid(dotted)])
}

const SHA256: &str = "2.16.840.1.101.3.4.2.1";
const SHA384: &str = "2.16.840.1.101.3.4.2.2";

fn digest(alg: &str, data: &[u8]) -> Vec<u8> {
    match alg {
        SHA256 => sha2::Sha256::digest(data).to_vec(),
        SHA384 => sha2::Sha384::digest(data).to_vec(),
        _ => unreachable!(),
    }
}

// --- the stand-in TSA ---

enum SignKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    RsaPss(rsa::RsaPrivateKey),
}

struct Tsa {
    root_der: Vec<u8>,
    leaf_der: Vec<u8>,
    key: SignKey,
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Sigscope Test TSA");
    dn.push(DnType::CommonName, cn);
    dn
}

struct LeafSpec {
    eku_critical: bool,
    eku: Vec<&'static [u64]>,
    valid: (OffsetDateTime, OffsetDateTime),
}

const TIME_STAMPING: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 8];
const CODE_SIGNING: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 3];

impl Default for LeafSpec {
    fn default() -> Self {
        LeafSpec { eku_critical: true, eku: vec![TIME_STAMPING], valid: (ymd(2020, 1, 1), ymd(2030, 1, 1)) }
    }
}

fn make_tsa(kind: &str, spec: LeafSpec) -> Tsa {
    let mut root_params = CertificateParams::default();
    root_params.distinguished_name = dn("Test TSA Root");
    root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    root_params.not_before = ymd(2019, 1, 1);
    root_params.not_after = ymd(2040, 1, 1);
    let root = CertifiedIssuer::self_signed(root_params, KeyPair::generate().unwrap()).unwrap();

    let (leaf_key, key) = match kind {
        "p256" => {
            let kp = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            let sk = <p256::ecdsa::SigningKey as p256::pkcs8::DecodePrivateKey>::from_pkcs8_der(&kp.serialize_der())
                .unwrap();
            (kp, SignKey::P256(sk))
        }
        "p384" => {
            let kp = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
            let sk = <p384::ecdsa::SigningKey as p384::pkcs8::DecodePrivateKey>::from_pkcs8_der(&kp.serialize_der())
                .unwrap();
            (kp, SignKey::P384(sk))
        }
        "rsa-pss" => {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut TestRng(7), 2048).unwrap();
            let pkcs8 = key.to_pkcs8_der().unwrap();
            let kp = KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_bytes().into(), &rcgen::PKCS_RSA_SHA256).unwrap();
            (kp, SignKey::RsaPss(key))
        }
        other => panic!("{other}"),
    };
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name = dn(&format!("Test TSA {kind}"));
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.not_before = spec.valid.0;
    leaf.not_after = spec.valid.1;
    let eku_value = seq(&spec
        .eku
        .iter()
        .map(|arcs| oid(&arcs.iter().map(u64::to_string).collect::<Vec<_>>().join(".")))
        .collect::<Vec<_>>());
    let mut eku = CustomExtension::from_oid_content(&[2, 5, 29, 37], eku_value);
    eku.set_criticality(spec.eku_critical);
    leaf.custom_extensions = vec![eku];
    leaf.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf.signed_by(&leaf_key, &root).unwrap();
    Tsa { root_der: root.der().to_vec(), leaf_der: leaf_cert.der().to_vec(), key }
}

struct TokenSpec {
    hash: &'static str,
    gen_time: &'static str,
    /// (seconds, millis) of the accuracy field.
    accuracy: Option<(u64, u64)>,
    signing_certificate_v2: bool,
    /// Name the signer by subject key identifier instead of issuer and serial.
    by_ski: bool,
    /// Write the signed attributes out of DER order, as some TSAs do.
    attrs_unsorted: bool,
}

impl Default for TokenSpec {
    fn default() -> Self {
        TokenSpec {
            hash: SHA256,
            gen_time: "20250301120000Z",
            accuracy: Some((0, 500)),
            signing_certificate_v2: true,
            by_ski: false,
            attrs_unsorted: false,
        }
    }
}

fn token(tsa: &Tsa, message: &[u8], spec: &TokenSpec) -> Vec<u8> {
    let leaf = x509_cert::Certificate::from_der(&tsa.leaf_der).unwrap();
    let mut tst = vec![
        int(1),
        oid("1.3.6.1.4.1.99999.1"),
        seq(&[alg(spec.hash), octets(&digest(spec.hash, message))]),
        int(0x5eed),
        tlv(0x18, spec.gen_time.as_bytes()),
    ];
    if let Some((s, ms)) = spec.accuracy {
        let mut acc = Vec::new();
        if s > 0 {
            acc.push(int(s));
        }
        if ms > 0 {
            acc.push(tlv(0x80, content(&int(ms))));
        }
        tst.push(seq(&acc));
    }
    let tst = seq(&tst);

    let mut attrs = vec![
        seq(&[oid("1.2.840.113549.1.9.3"), set(&[oid("1.2.840.113549.1.9.16.1.4")])]),
        seq(&[oid("1.2.840.113549.1.9.4"), set(&[octets(&digest(spec.hash, &tst))])]),
    ];
    if spec.signing_certificate_v2 {
        // ESSCertIDv2 with the default hash (SHA-256, so the algorithm is omitted).
        let cert_id = seq(&[octets(&sha2::Sha256::digest(&tsa.leaf_der))]);
        attrs.push(seq(&[oid("1.2.840.113549.1.9.16.2.47"), set(&[seq(&[seq(&[cert_id])])])]));
    }
    let signed_attrs = if spec.attrs_unsorted {
        attrs.sort();
        attrs.reverse();
        tlv(0x31, &attrs.concat())
    } else {
        set(&attrs)
    };
    let (sig_alg, signature) = sign(&tsa.key, spec.hash, &signed_attrs);

    let sid = if spec.by_ski {
        use x509_cert::ext::pkix::SubjectKeyIdentifier;
        let ski = match leaf.tbs_certificate.get::<SubjectKeyIdentifier>() {
            Ok(Some((_, ski))) => ski.0.as_bytes().to_vec(),
            _ => panic!("rcgen writes a subject key identifier"),
        };
        tlv(0x80, &ski)
    } else {
        use der::Encode;
        seq(&[leaf.tbs_certificate.issuer.to_der().unwrap(), leaf.tbs_certificate.serial_number.to_der().unwrap()])
    };
    let signer_info = seq(&[
        int(if spec.by_ski { 3 } else { 1 }),
        sid,
        alg(spec.hash),
        tlv(0xa0, content(&signed_attrs)),
        sig_alg,
        octets(&signature),
    ]);
    let signed_data = seq(&[
        int(3),
        set(&[alg(spec.hash)]),
        seq(&[oid("1.2.840.113549.1.9.16.1.4"), tlv(0xa0, &octets(&tst))]),
        tlv(0xa0, &tsa.leaf_der),
        set(&[signer_info]),
    ]);
    seq(&[oid("1.2.840.113549.1.7.2"), tlv(0xa0, &signed_data)])
}

/// Returns (signatureAlgorithm, signature) for the SignerInfo.
fn sign(key: &SignKey, hash: &str, data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    match key {
        SignKey::P256(k) => {
            let s: p256::ecdsa::Signature = k.sign(data);
            (alg("1.2.840.10045.4.3.2"), s.to_der().as_bytes().to_vec())
        }
        SignKey::P384(k) => {
            let s: p384::ecdsa::Signature = k.sign(data);
            (alg("1.2.840.10045.4.3.3"), s.to_der().as_bytes().to_vec())
        }
        SignKey::RsaPss(k) => {
            assert_eq!(hash, SHA256);
            let hashed = sha2::Sha256::digest(data);
            let sig = k.sign_with_rng(&mut TestRng(9), rsa::Pss::new::<sha2::Sha256>(), &hashed).unwrap();
            let sha256 = seq(&[oid(SHA256), tlv(0x05, &[])]);
            let params = seq(&[
                tlv(0xa0, &sha256),
                tlv(0xa1, &seq(&[oid("1.2.840.113549.1.1.8"), sha256.clone()])),
                tlv(0xa2, &int(32)),
            ]);
            (seq(&[oid("1.2.840.113549.1.1.10"), params]), sig)
        }
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

const MESSAGE: &[u8] = b"the raw signature bytes of an envelope";

#[test]
fn every_signer_algorithm_verifies() {
    for (kind, hash) in [("p256", SHA256), ("p384", SHA384), ("rsa-pss", SHA256)] {
        let tsa = make_tsa(kind, LeafSpec::default());
        let t = token(&tsa, MESSAGE, &TokenSpec { hash, ..TokenSpec::default() });
        let info = verify_timestamp(&t, MESSAGE, std::slice::from_ref(&tsa.root_der), now())
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let at = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(info.gen_time, at);
        assert_eq!(
            (info.earliest, info.latest),
            (at - chrono::Duration::milliseconds(500), at + chrono::Duration::milliseconds(500))
        );
        assert!(info.tsa_subject.contains(&format!("CN=Test TSA {kind}")), "{}", info.tsa_subject);
        assert_eq!(info.tsa_chain, vec![tsa.leaf_der.clone(), tsa.root_der.clone()]);
        // Same token, other bytes.
        assert!(verify_timestamp(&t, b"other", std::slice::from_ref(&tsa.root_der), now()).is_err());
    }
}

#[test]
fn signer_named_by_subject_key_identifier() {
    let tsa = make_tsa("p256", LeafSpec::default());
    let t = token(&tsa, MESSAGE, &TokenSpec { by_ski: true, ..TokenSpec::default() });
    verify_timestamp(&t, MESSAGE, std::slice::from_ref(&tsa.root_der), now()).unwrap();
}

#[test]
fn signed_attributes_out_of_der_order_still_verify() {
    // The signature covers the attributes as the TSA wrote them; a verifier that checked
    // a re-sorted copy would reject this valid token.
    let tsa = make_tsa("p256", LeafSpec::default());
    let t = token(&tsa, MESSAGE, &TokenSpec { attrs_unsorted: true, ..TokenSpec::default() });
    verify_timestamp(&t, MESSAGE, std::slice::from_ref(&tsa.root_der), now()).unwrap();
}

#[test]
fn fractional_gen_time_and_no_accuracy() {
    let tsa = make_tsa("p256", LeafSpec::default());
    let t = token(&tsa, MESSAGE, &TokenSpec { gen_time: "20250301120000.25Z", accuracy: None, ..TokenSpec::default() });
    let info = verify_timestamp(&t, MESSAGE, std::slice::from_ref(&tsa.root_der), now()).unwrap();
    assert_eq!(info.earliest, info.latest, "no accuracy and not the baseline policy: exact");
    assert_eq!(info.gen_time.timestamp_subsec_millis(), 250);
}

#[test]
fn time_outside_tsa_certificate_validity_fails() {
    // TSA leaf valid 2025-03-01T12:00:00Z exactly; ±500 ms crosses both edges.
    let tsa = make_tsa(
        "p256",
        LeafSpec { valid: (ymd(2025, 3, 1) + time::Duration::hours(12), ymd(2030, 1, 1)), ..LeafSpec::default() },
    );
    let err = verify_timestamp(
        &token(&tsa, MESSAGE, &TokenSpec::default()),
        MESSAGE,
        std::slice::from_ref(&tsa.root_der),
        now(),
    )
    .unwrap_err();
    assert!(err.contains("timestamp can be before certificate"), "{err}");
    // Without accuracy the same instant is inside (bounds inclusive).
    let exact = TokenSpec { accuracy: None, ..TokenSpec::default() };
    verify_timestamp(&token(&tsa, MESSAGE, &exact), MESSAGE, std::slice::from_ref(&tsa.root_der), now()).unwrap();

    let tsa = make_tsa("p256", LeafSpec { valid: (ymd(2020, 1, 1), ymd(2025, 3, 1)), ..LeafSpec::default() });
    let err = verify_timestamp(
        &token(&tsa, MESSAGE, &TokenSpec::default()),
        MESSAGE,
        std::slice::from_ref(&tsa.root_der),
        now(),
    )
    .unwrap_err();
    assert!(err.contains("timestamp can be after certificate"), "{err}");
}

#[test]
fn tsa_certificate_must_be_a_critical_timestamping_only_eku() {
    let cases = [
        (LeafSpec { eku_critical: false, ..LeafSpec::default() }, "must be critical"),
        (LeafSpec { eku: vec![TIME_STAMPING, CODE_SIGNING], ..LeafSpec::default() }, "timeStamping only"),
        (LeafSpec { eku: vec![CODE_SIGNING], ..LeafSpec::default() }, "timeStamping only"),
    ];
    for (spec, want) in cases {
        let tsa = make_tsa("p256", spec);
        let err = verify_timestamp(
            &token(&tsa, MESSAGE, &TokenSpec::default()),
            MESSAGE,
            std::slice::from_ref(&tsa.root_der),
            now(),
        )
        .unwrap_err();
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn missing_signing_certificate_v2_fails() {
    let tsa = make_tsa("p384", LeafSpec::default());
    let t = token(&tsa, MESSAGE, &TokenSpec { hash: SHA384, signing_certificate_v2: false, ..TokenSpec::default() });
    let err = verify_timestamp(&t, MESSAGE, std::slice::from_ref(&tsa.root_der), now()).unwrap_err();
    assert!(err.contains("signingCertificateV2 is missing"), "{err}");
}

#[test]
fn leaf_pinned_as_root_or_other_root_fails() {
    let tsa = make_tsa("p256", LeafSpec::default());
    let other = make_tsa("p256", LeafSpec::default());
    let t = token(&tsa, MESSAGE, &TokenSpec::default());
    let err = verify_timestamp(&t, MESSAGE, std::slice::from_ref(&other.root_der), now()).unwrap_err();
    assert!(err.contains("does not chain"), "{err}");
}

// --- tokens of the test signer's TSA (tests/common/notary.rs): splices, bent chains ---

use common::notary::{Ca, ResignedCa, SignKey as TestKey, Tsa as TestTsa};

const STAMPED_AT: &str = "20250601120000Z";

fn check(tsa: &TestTsa, token: &[u8], message: &[u8]) -> Result<sigscope::notation::timestamp::TimestampInfo, String> {
    verify_timestamp(token, message, std::slice::from_ref(&tsa.root.der), now())
}

/// The reason `token` is refused; a token that verifies fails the test, briefly.
fn refused(tsa: &TestTsa, token: &[u8], message: &[u8]) -> String {
    match check(tsa, token, message) {
        Ok(info) => panic!("verified, by {} at {}", info.tsa_subject, info.gen_time),
        Err(e) => e,
    }
}

/// A TSA whose chain the test wrote: `root`, then `certs` (TSA certificate first) signed
/// with `key`.
fn tsa_of(root: Ca, certs: Vec<Vec<u8>>, key: TestKey) -> TestTsa {
    TestTsa { root, leaf_der: certs[0].clone(), key, certs }
}

fn critical(arcs: &[u64]) -> CustomExtension {
    let mut e = CustomExtension::from_oid_content(arcs, vec![0x05, 0x00]);
    e.set_criticality(true);
    e
}

const UNKNOWN_EXTENSION: &[u64] = &[1, 3, 6, 1, 4, 1, 99999, 42];

#[test]
fn control_the_test_signers_tsa_verifies() {
    let tsa = TestTsa::new(100);
    let info = check(&tsa, &tsa.token(MESSAGE, STAMPED_AT), MESSAGE).unwrap();
    assert_eq!(info.tsa_chain, vec![tsa.leaf_der.clone(), tsa.root.der.clone()]);
}

#[test]
fn spliced_second_signer_reusing_a_genuine_signature_is_refused() {
    // Issue 7: the genuine signer stamped other bytes long ago; the splice points a second
    // SignerInfo (same signature value, its own attributes) at a forged TSTInfo over MESSAGE.
    let tsa = TestTsa::new(101);
    let token = tsa.spliced_token(b"whatever the TSA once stamped", STAMPED_AT, MESSAGE, "20250301000000Z");
    let err = refused(&tsa, &token, MESSAGE);
    assert!(err.contains("exactly one SignerInfo") && err.contains("has 2"), "{err}");
}

#[test]
fn spliced_signer_alone_does_not_verify() {
    // The forged SignerInfo without its genuine companion: its signature does not cover its
    // own attributes, whatever other SignerInfo carries the same value.
    let tsa = TestTsa::new(102);
    let genuine_attrs = tsa.signed_attrs(&tsa.tst_info(b"other", STAMPED_AT));
    let signature = tsa.key.sign_x509(&genuine_attrs);
    let forged = tsa.tst_info(MESSAGE, "20250301000000Z");
    let token = tsa.assemble(&forged, &tsa.certs, &[tsa.signer_info(&tsa.signed_attrs(&forged), &signature)]);
    let err = refused(&tsa, &token, MESSAGE);
    assert!(err.contains("signature does not verify"), "{err}");
}

#[test]
fn two_genuine_signers_or_none_are_refused() {
    let tsa = TestTsa::new(103);
    let tst = tsa.tst_info(MESSAGE, STAMPED_AT);
    let attrs = tsa.signed_attrs(&tst);
    let signer = tsa.signer_info(&attrs, &tsa.key.sign_x509(&attrs));
    let err = refused(&tsa, &tsa.assemble(&tst, &tsa.certs, &[signer.clone(), signer]), MESSAGE);
    assert!(err.contains("exactly one SignerInfo"), "{err}");
    let err = refused(&tsa, &tsa.assemble(&tst, &tsa.certs, &[]), MESSAGE);
    assert!(err.contains("exactly one SignerInfo") && err.contains("has 0"), "{err}");
}

#[test]
fn message_digest_over_another_tst_info_than_the_econtent_is_refused() {
    // One genuine signer over a TSTInfo for other bytes; the eContent swapped for a forged
    // TSTInfo over MESSAGE. Only the eContent the signer's messageDigest covers may count.
    let tsa = TestTsa::new(104);
    let genuine = tsa.tst_info(b"other", STAMPED_AT);
    let attrs = tsa.signed_attrs(&genuine);
    let signer = tsa.signer_info(&attrs, &tsa.key.sign_x509(&attrs));
    let token = tsa.assemble(&tsa.tst_info(MESSAGE, STAMPED_AT), &tsa.certs, &[signer]);
    let err = refused(&tsa, &token, MESSAGE);
    assert!(err.contains("messageDigest attribute does not match the TSTInfo"), "{err}");
}

#[test]
fn unsigned_attributes_cannot_vouch_for_a_forged_tst_info() {
    // An unsigned [1] attribute carrying a messageDigest over the forged eContent: nothing
    // unsigned may stand in for the signed attribute.
    let tsa = TestTsa::new(105);
    let genuine = tsa.tst_info(b"other", STAMPED_AT);
    let attrs = tsa.signed_attrs(&genuine);
    let forged = tsa.tst_info(MESSAGE, STAMPED_AT);
    let unsigned = tlv(0xa1, &seq(&[oid("1.2.840.113549.1.9.4"), set(&[octets(&sha2::Sha256::digest(&forged))])]));
    let with_unsigned = |signer: Vec<u8>| seq(&[content(&signer).to_vec(), unsigned.clone()]);
    let signer = with_unsigned(tsa.signer_info(&attrs, &tsa.key.sign_x509(&attrs)));
    let err = refused(&tsa, &tsa.assemble(&forged, &tsa.certs, &[signer]), MESSAGE);
    assert!(err.contains("messageDigest attribute does not match"), "{err}");
    // Control: unsigned attributes on an honest token are allowed (RFC 5652) and ignored.
    let attrs = tsa.signed_attrs(&forged);
    let signer = with_unsigned(tsa.signer_info(&attrs, &tsa.key.sign_x509(&attrs)));
    check(&tsa, &tsa.assemble(&forged, &tsa.certs, &[signer]), MESSAGE).unwrap();
}

#[test]
fn signer_certificate_is_the_one_the_signed_attributes_pin() {
    // An impostor certificate with the TSA certificate's issuer and serial, but another
    // key, placed first: the sid matches both; signingCertificateV2 names only the genuine.
    let tsa = TestTsa::new(106);
    let impostor = tsa.root.issue(&notary::tsa_leaf_params("Test TSA", 107), &TestKey::p256(999));
    let tst = tsa.tst_info(MESSAGE, STAMPED_AT);
    let attrs = tsa.signed_attrs(&tst);
    let signer = tsa.signer_info(&attrs, &tsa.key.sign_x509(&attrs));
    let certs = vec![impostor.clone(), tsa.leaf_der.clone(), tsa.leaf_der.clone()];
    let info = check(&tsa, &tsa.assemble(&tst, &certs, std::slice::from_ref(&signer)), MESSAGE).unwrap();
    assert_eq!(info.tsa_chain[0], tsa.leaf_der, "the pinned certificate, not the impostor");
    assert_eq!(info.tsa_chain.len(), 2, "a duplicated certificate appears once");
    // Only the impostor present: the pinned certificate is missing.
    let err = refused(&tsa, &tsa.assemble(&tst, &[impostor], &[signer]), MESSAGE);
    assert!(err.contains("signingCertificateV2"), "{err}");
}

#[test]
fn token_or_signer_with_trailing_fields_is_refused() {
    let tsa = TestTsa::new(108);
    let mut token = tsa.token(MESSAGE, STAMPED_AT);
    token.extend_from_slice(&[0x05, 0x00]);
    refused(&tsa, &token, MESSAGE);
    // A SignerInfo with a field after its signature that is not [1] unsigned attributes.
    let tst = tsa.tst_info(MESSAGE, STAMPED_AT);
    let attrs = tsa.signed_attrs(&tst);
    let signer = tsa.signer_info(&attrs, &tsa.key.sign_x509(&attrs));
    let bent = seq(&[content(&signer).to_vec(), octets(b"second signature")]);
    refused(&tsa, &tsa.assemble(&tst, &tsa.certs, &[bent]), MESSAGE);
}

// --- TSA certificates: critical extensions, key sizes, P-521 ---

#[test]
fn unknown_critical_extension_on_the_tsa_certificate_is_refused() {
    let tsa = TestTsa::build(110, None, |p| p.custom_extensions.push(critical(UNKNOWN_EXTENSION)));
    let err = refused(&tsa, &tsa.token(MESSAGE, STAMPED_AT), MESSAGE);
    assert!(err.contains("unrecognised critical extension 1.3.6.1.4.1.99999.42"), "{err}");
    // nameConstraints is understood by Go but not enforced here: critical, it is refused too.
    let tsa = TestTsa::build(111, None, |p| p.custom_extensions.push(critical(&[2, 5, 29, 30])));
    let err = refused(&tsa, &tsa.token(MESSAGE, STAMPED_AT), MESSAGE);
    assert!(err.contains("critical extension 2.5.29.30"), "{err}");
}

#[test]
fn unknown_critical_extension_on_a_tsa_ca_is_refused() {
    for (name, in_root) in [("root", true), ("intermediate", false)] {
        let mut p = notary::ca_params("Bent TSA Root", 112);
        if in_root {
            p.custom_extensions.push(critical(UNKNOWN_EXTENSION));
        }
        let root = Ca::root_with(p, TestKey::p256(112));
        let mut p = notary::ca_params("Bent TSA Intermediate", 113);
        if !in_root {
            p.custom_extensions.push(critical(UNKNOWN_EXTENSION));
        }
        let inter = root.issue_ca(p, TestKey::p256(113));
        let key = TestKey::p256(114);
        let leaf = inter.issue(&notary::tsa_leaf_params("Test TSA", 114), &key);
        let tsa = tsa_of(root, vec![leaf, inter.der.clone()], key);
        let err = refused(&tsa, &tsa.token(MESSAGE, STAMPED_AT), MESSAGE);
        assert!(err.contains("unrecognised critical extension"), "{name}: {err}");
    }
}

#[test]
fn duplicated_extension_on_the_tsa_certificate_is_refused() {
    // A second, non-critical EKU after the proper one: RFC 5280 allows one instance only,
    // and a checker reading the first could be fooled by what another reads.
    let tsa = TestTsa::build(115, None, |p| {
        p.custom_extensions.push(CustomExtension::from_oid_content(&[2, 5, 29, 37], seq(&[oid("1.3.6.1.5.5.7.3.3")])));
    });
    let err = refused(&tsa, &tsa.token(MESSAGE, STAMPED_AT), MESSAGE);
    assert!(err.contains("more than once"), "{err}");
}

#[test]
fn rsa_1024_in_the_tsa_chain_is_refused() {
    let tsa = TestTsa::build(120, Some(TestKey::rsa(1024)), |_| {});
    let err = refused(&tsa, &tsa.token(MESSAGE, STAMPED_AT), MESSAGE);
    assert!(err.contains("1024") && err.contains("2048"), "intermediate: {err}");
    // The TSA certificate itself with an RSA-1024 key.
    let root = Ca::root("Test TSA Root", 121, TestKey::p256(121));
    let key = TestKey::rsa(1024);
    let leaf = root.issue(&notary::tsa_leaf_params("Test TSA", 122), &key);
    let tsa = tsa_of(root, vec![leaf], key);
    let err = refused(&tsa, &tsa.token(MESSAGE, STAMPED_AT), MESSAGE);
    assert!(err.contains("1024") && err.contains("2048"), "TSA certificate: {err}");
}

#[test]
fn p521_tsa_intermediate_and_tsa_key_verify() {
    let root = Ca::root("Test TSA Root", 130, TestKey::p384(130));
    let inter = ResignedCa::intermediate(&root, "TSA P-521 Intermediate", 131, TestKey::p521(131));
    let key = TestKey::p521(132);
    let leaf = inter.issue(&notary::tsa_leaf_params("Test TSA", 132), &key);
    let tsa = tsa_of(root, vec![leaf, inter.der.clone()], key);
    let info = check(&tsa, &tsa.token(MESSAGE, STAMPED_AT), MESSAGE).unwrap();
    assert_eq!(info.tsa_chain.len(), 3);
}

#[test]
fn p521_with_a_shorter_hash_verifies() {
    // ecdsa-with-SHA256 by a P-521 CA: legal (the hash is shorter than the curve order and
    // used whole), and Go accepts it.
    use p256::ecdsa::signature::hazmat::PrehashSigner as _;
    let root = Ca::root("Test TSA Root", 133, TestKey::p256(133));
    let ca_key = TestKey::p521(134);
    let inter = ResignedCa::intermediate(&root, "TSA P-521 Intermediate", 134, ca_key.clone());
    let TestKey::P521(sk) = &ca_key else { unreachable!() };
    let key = TestKey::p256(135);
    let stand_in = inter.stand_in.issue(&notary::tsa_leaf_params("Test TSA", 135), &key);
    let leaf = notary::resign_with(
        &stand_in,
        &alg("1.2.840.10045.4.3.2"),
        |tbs| {
            let mut prehash = vec![0u8; 32];
            prehash.extend_from_slice(&sha2::Sha256::digest(tbs));
            let s: p521::ecdsa::Signature = sk.sign_prehash(&prehash).unwrap();
            s.to_der().as_bytes().to_vec()
        },
        |_| {},
    );
    let tsa = tsa_of(root, vec![leaf, inter.der.clone()], key);
    check(&tsa, &tsa.token(MESSAGE, STAMPED_AT), MESSAGE).unwrap();
}

#[test]
fn tsa_certificate_whose_inner_and_outer_signature_algorithms_differ_is_refused() {
    // Signed (and labelled outside) ecdsa-with-SHA256, labelled ecdsa-with-SHA384 inside.
    let tsa = TestTsa::new(136);
    let leaf = notary::resign(&tsa.leaf_der, tsa.root.key(), |tbs| {
        tbs.signature = spki::AlgorithmIdentifierOwned::from_der(&alg("1.2.840.10045.4.3.3")).unwrap();
    });
    let TestTsa { root, key, .. } = tsa;
    let tsa = tsa_of(root, vec![leaf], key);
    let err = refused(&tsa, &tsa.token(MESSAGE, STAMPED_AT), MESSAGE);
    assert!(err.contains("signature algorithm inside the certificate"), "{err}");
}
