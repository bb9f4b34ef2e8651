//! Attacks on the trust checks fixed for issue 7 (timestamp tokens, certificate rules,
//! revocation), written after the fixes: each test asserts the secure outcome, so it fails
//! when the attack works. Inputs are generated here with the test signer and TSA of
//! `common/notary.rs` and served by the stand-in CRL server of `common/fileserver.rs`.

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::fileserver::{FileServer, online};
use common::notary::*;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, RevocationReason, RevokedCertParams, SerialNumber,
};
use sigscope::notation::revocation::{RevocationMode, RevocationStatus, check_chain};
use sigscope::notation::timestamp::verify_timestamp;
use time::OffsetDateTime;

const GEN_TIME: &str = "20260531120000Z";

fn ts_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
}

/// The countersigned bytes (what would be the envelope's signature).
const MESSAGE: &[u8] = b"the envelope signature";

// --- the TSA chain ---

/// A TSA whose certificate is issued through `inters` (parameters of each CA, from the one
/// under the root down), all under `Test TSA Root`.
fn tsa_through(seed: u64, inters: Vec<CertificateParams>) -> Tsa {
    let root = Ca::root("Test TSA Root", seed, SignKey::p256(seed));
    let mut cas: Vec<Ca> = Vec::new();
    for (i, p) in inters.into_iter().enumerate() {
        let key = SignKey::p256(seed + 10 + i as u64);
        let ca = cas.last().unwrap_or(&root).issue_ca(p, key);
        cas.push(ca);
    }
    let key = SignKey::p256(seed + 1);
    let leaf_der = cas.last().unwrap_or(&root).issue(&tsa_leaf_params("Test TSA", seed + 1), &key);
    let mut certs = vec![leaf_der.clone()];
    certs.extend(cas.iter().rev().map(|c| c.der.clone()));
    Tsa { root, leaf_der, key, certs }
}

fn verify_with(tsa: &Tsa) -> Result<sigscope::notation::timestamp::TimestampInfo, String> {
    verify_timestamp(&tsa.token(MESSAGE, GEN_TIME), MESSAGE, std::slice::from_ref(&tsa.root.der), ts_now())
}

/// RFC 5280 §4.2.1.9 (and Go's x509.Verify, which tspclient-go uses): a CA whose
/// pathLenConstraint is 0 may issue only end-entity certificates. A TSA certificate issued
/// by a sub-CA it created must not verify.
#[test]
fn tsa_chain_honours_path_length_constraints() {
    let unconstrained = tsa_through(100, vec![ca_params("TSA CA 1", 110), ca_params("TSA CA 2", 111)]);
    verify_with(&unconstrained).expect("control: a two-intermediate TSA chain verifies");

    let mut first = ca_params("TSA CA 1", 110);
    first.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let constrained = tsa_through(100, vec![first, ca_params("TSA CA 2", 111)]);
    let err = verify_with(&constrained).map(|_| ()).expect_err("a pathLenConstraint of 0 was ignored in the TSA chain");
    assert!(err.contains("path length"), "{err}");
}

/// Go's x509.Verify with KeyUsages timeStamping (tspclient-go): a CA whose extended key
/// usage does not include timeStamping (nor anyExtendedKeyUsage) cannot vouch for a TSA.
/// A code-signing sub-CA under a root that is also a TSA root must not mint TSAs.
#[test]
fn tsa_chain_ca_restricted_to_another_usage_cannot_issue_a_tsa() {
    let mut ts = ca_params("TSA CA", 210);
    ts.extended_key_usages = vec![ExtendedKeyUsagePurpose::TimeStamping];
    verify_with(&tsa_through(200, vec![ts])).expect("control: a timeStamping CA verifies");
    let mut any = ca_params("TSA CA", 210);
    any.extended_key_usages = vec![ExtendedKeyUsagePurpose::Any];
    verify_with(&tsa_through(200, vec![any])).expect("control: an anyExtendedKeyUsage CA verifies");

    let mut code = ca_params("TSA CA", 210);
    code.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    let err = verify_with(&tsa_through(200, vec![code])).map(|_| ()).expect_err("a code-signing-only CA issued a TSA");
    assert!(err.contains("extended key usage"), "{err}");
}

/// The TSA leaf's extended key usage must be critical and timeStamping alone: with
/// anyExtendedKeyUsage beside it, the certificate is a general-purpose one (tspclient-go).
#[test]
fn tsa_leaf_with_any_extended_key_usage_is_refused() {
    let root = Ca::root("Test TSA Root", 300, SignKey::p256(300));
    let key = SignKey::p256(301);
    let mut p = tsa_leaf_params("Test TSA", 301);
    let mut eku =
        rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 37], seq(&[oid("1.3.6.1.5.5.7.3.8"), oid("2.5.29.37.0")]));
    eku.set_criticality(true);
    p.custom_extensions = vec![eku];
    let leaf_der = root.issue(&p, &key);
    let tsa = Tsa { root, certs: vec![leaf_der.clone()], leaf_der, key };
    let err = verify_with(&tsa).map(|_| ()).expect_err("a TSA with anyExtendedKeyUsage verified");
    assert!(err.contains("timeStamping only"), "{err}");
}

/// A TSTInfo followed by a second one inside the eContent OCTET STRING, signed by the
/// genuine TSA: a lenient reader could take either; this one must take neither.
#[test]
fn tstinfo_with_trailing_data_is_refused() {
    let tsa = Tsa::new(400);
    let first = tsa.tst_info(MESSAGE, GEN_TIME);
    let tst = [first.clone(), tsa.tst_info(b"other bytes", "20200101000000Z")].concat();
    let attrs = tsa.signed_attrs(&tst);
    let signer = tsa.signer_info(&attrs, &tsa.key.sign_x509(&attrs));
    let token = tsa.assemble(&tst, &tsa.certs, &[signer]);
    let err = verify_timestamp(&token, MESSAGE, std::slice::from_ref(&tsa.root.der), ts_now())
        .expect_err("a TSTInfo with trailing data verified");
    assert!(err.contains("TSTInfo"), "{err}");
}

/// Two messageDigest attributes (one over the TSTInfo, one over something else) signed by
/// the TSA: which one counts must not be a choice.
#[test]
fn duplicate_message_digest_attribute_is_refused() {
    let tsa = Tsa::new(500);
    let tst = tsa.tst_info(MESSAGE, GEN_TIME);
    let cert_id = seq(&[tlv(0x04, &<sha2::Sha256 as sha2::Digest>::digest(&tsa.leaf_der))]);
    let md =
        |b: &[u8]| seq(&[oid("1.2.840.113549.1.9.4"), set(&[tlv(0x04, &<sha2::Sha256 as sha2::Digest>::digest(b))])]);
    let attrs = set(&[
        seq(&[oid("1.2.840.113549.1.9.3"), set(&[oid("1.2.840.113549.1.9.16.1.4")])]),
        md(&tst),
        md(b"another TSTInfo"),
        seq(&[oid("1.2.840.113549.1.9.16.2.47"), set(&[seq(&[seq(&[cert_id])])])]),
    ]);
    let signer = tsa.signer_info(&attrs, &tsa.key.sign_x509(&attrs));
    let token = tsa.assemble(&tst, &tsa.certs, &[signer]);
    let err = verify_timestamp(&token, MESSAGE, std::slice::from_ref(&tsa.root.der), ts_now())
        .expect_err("two messageDigest attributes verified");
    assert!(err.contains("messageDigest"), "{err}");
}

/// genTime ± accuracy must lie inside the TSA certificate's validity, bounds inclusive: a
/// genTime one second before notAfter with 1 s accuracy is at the edge (valid); at notAfter
/// it is one second past (refused).
#[test]
fn tsa_validity_edges_are_inclusive_and_accuracy_counts() {
    let tsa = Tsa::new(600);
    let late = Utc.with_ymd_and_hms(2036, 1, 1, 0, 0, 0).unwrap();
    let roots = std::slice::from_ref(&tsa.root.der);
    verify_timestamp(&tsa.token(MESSAGE, "20341231235959Z"), MESSAGE, roots, late)
        .expect("genTime + accuracy exactly at notAfter verifies");
    let err = verify_timestamp(&tsa.token(MESSAGE, "20350101000000Z"), MESSAGE, roots, late)
        .expect_err("genTime + accuracy past notAfter verified");
    assert!(err.contains("expired"), "{err}");
}

// --- certificates ---

/// A self-signed certificate with `n` distinct (non-critical) extensions: what anyone can
/// put in an envelope's chain. The repeated-extension rule must not make checking it
/// quadratic (issue 7's exhaustion class): it must end quickly with an answer.
fn many_extensions(n: u64) -> Vec<u8> {
    let key = SignKey::p256(700);
    let root = Ca::root("Many Extensions", 700, key.clone());
    resign(&root.der, &key, |tbs| {
        let exts = tbs.extensions.get_or_insert_with(Vec::new);
        for i in 0..n {
            let arcs = format!("1.3.6.1.4.1.99999.{}.{}", i / 1000, i % 1000);
            exts.push(x509_cert::ext::Extension {
                extn_id: const_oid::ObjectIdentifier::new(&arcs).unwrap(),
                critical: false,
                extn_value: der::asn1::OctetString::new(Vec::new()).unwrap(),
            });
        }
    })
}

#[test]
fn certificate_with_many_extensions_is_judged_quickly() {
    let der = many_extensions(100_000);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(sigscope::notation::chain::validate(&[der]).map(|_| ()));
    });
    let result = rx.recv_timeout(Duration::from_secs(20)).expect("checking a 100,000-extension certificate hangs");
    assert!(result.is_err(), "a self-signed certificate with 100,000 extensions passed the chain rules");
}

// --- revocation ---

fn at_offset(d: time::Duration) -> OffsetDateTime {
    OffsetDateTime::now_utc() + d
}

/// root → intermediate → leaf; the leaf's CRL is served at `/leaf.crl`.
struct Pki {
    inter: Ca,
    chain: Vec<Vec<u8>>,
}

const LEAF_SERIAL: u64 = 0x4242;

fn pki(server: &FileServer) -> Pki {
    pki_with(server, &["/leaf.crl"])
}

/// As [`pki`], the leaf with one CRL distribution point per path.
fn pki_with(server: &FileServer, paths: &[&str]) -> Pki {
    let mut root_p = ca_params("Revocation Root", 800);
    root_p.not_before = at_offset(-time::Duration::days(1));
    let root = Ca::root_with(root_p, SignKey::p256(800));
    let mut inter_p = ca_params("Revocation Intermediate", 801);
    inter_p.not_before = at_offset(-time::Duration::days(1));
    let inter = root.issue_ca(inter_p, SignKey::p256(801));
    let mut leaf = leaf_params("revoked signer", LEAF_SERIAL);
    leaf.not_before = at_offset(-time::Duration::days(1));
    leaf.not_after = at_offset(time::Duration::days(365));
    leaf.crl_distribution_points = paths.iter().map(|p| CrlDistributionPoint { uris: vec![server.url(p)] }).collect();
    let leaf_der = inter.issue(&leaf, &SignKey::p256(802));
    let chain = vec![leaf_der, inter.der.clone(), root.der.clone()];
    Pki { inter, chain }
}

fn crl_revoking(issuer: &Ca, serial: u64, invalidity: Option<OffsetDateTime>) -> Vec<u8> {
    let params = CertificateRevocationListParams {
        this_update: at_offset(-time::Duration::minutes(1)),
        next_update: at_offset(time::Duration::days(1)),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from(serial),
            revocation_time: at_offset(-time::Duration::minutes(1)),
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: invalidity,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params.signed_by(&issuer.issuer).unwrap().der().to_vec()
}

/// An invalidityDate is when the key is known or suspected to have been compromised: a CA
/// cannot know that of a date still to come. A CRL entry dated in the future must not
/// leave a revoked certificate good now (Notation, for the x509 scheme, does not look at
/// the invalidityDate at all and reports it revoked).
#[tokio::test]
async fn crl_entry_with_an_invalidity_date_in_the_future_still_revokes() {
    let server = FileServer::start();
    let pki = pki(&server);
    let future = at_offset(time::Duration::days(30));
    server.put("/leaf.crl", crl_revoking(&pki.inter, LEAF_SERIAL, Some(future)));
    let cache = tempfile::tempdir().unwrap();
    let status = check_chain(&pki.chain, &online(cache.path()), Utc::now()).await;
    assert!(matches!(status, RevocationStatus::Revoked { .. }), "a future invalidityDate un-revoked: {status:?}");
}

/// A token padded with thousands of certificates that all carry the name of the TSA
/// certificate's issuer (each a signature to try): checking it must stay bounded. Reached
/// by any envelope under a policy that only logs authenticity (audit).
#[test]
fn token_with_thousands_of_embedded_certificates_is_judged_quickly() {
    use der::{Decode as _, Encode as _};
    let trusted = Tsa::new(900);
    let rogue = Tsa::new(910); // same names as `trusted`, other keys: not trusted
    let template = x509_cert::Certificate::from_der(&rogue.root.der).unwrap();
    let mut certs = rogue.certs.clone();
    for i in 0..20_000u64 {
        let mut c = template.clone();
        c.tbs_certificate.serial_number = x509_cert::serial_number::SerialNumber::from(i + 1_000_000);
        certs.push(c.to_der().unwrap());
    }
    let tst = rogue.tst_info(MESSAGE, GEN_TIME);
    let attrs = rogue.signed_attrs(&tst);
    let signer = rogue.signer_info(&attrs, &rogue.key.sign_x509(&attrs));
    let token = rogue.assemble(&tst, &certs, &[signer]);
    let root = trusted.root.der.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let r = verify_timestamp(&token, MESSAGE, &[root], ts_now()).map(|_| ());
        let _ = tx.send((r, started.elapsed()));
    });
    let (result, took) = rx.recv_timeout(Duration::from_secs(20)).expect("a token with 20,000 certificates hangs");
    let err = result.expect_err("an untrusted TSA verified");
    assert!(err.contains("more than 32 certificates"), "judged in {took:?} without a bound: {err}");
}

/// `crl` with its TBS bent by `edit`, re-signed by `issuer` (ECDSA P-256 with SHA-256, the
/// algorithm rcgen named), so only the edit differs.
fn resign_crl(crl: &[u8], issuer: &Ca, edit: impl FnOnce(&mut x509_cert::crl::TbsCertList)) -> Vec<u8> {
    use der::{Decode as _, Encode as _};
    let mut c = x509_cert::crl::CertificateList::from_der(crl).unwrap();
    edit(&mut c.tbs_cert_list);
    let tbs = c.tbs_cert_list.to_der().unwrap();
    c.signature = der::asn1::BitString::from_bytes(&issuer.key().sign_x509(&tbs)).unwrap();
    c.to_der().unwrap()
}

fn crl_not_revoking(issuer: &Ca, this_update: OffsetDateTime, next_update: OffsetDateTime) -> Vec<u8> {
    let params = CertificateRevocationListParams {
        this_update,
        next_update,
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: Vec::new(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params.signed_by(&issuer.issuer).unwrap().der().to_vec()
}

async fn status_with(pki: &Pki) -> RevocationStatus {
    let cache = tempfile::tempdir().unwrap();
    check_chain(&pki.chain, &online(cache.path()), Utc::now()).await
}

/// Two distribution points, the first serving an out-of-date CRL, the second a good one:
/// one point that cannot vouch makes the status unknown, not good.
#[tokio::test]
async fn an_expired_crl_at_one_of_two_points_is_unknown() {
    let server = FileServer::start();
    let pki = pki_with(&server, &["/a.crl", "/b.crl"]);
    let day = time::Duration::days(1);
    server.put("/a.crl", crl_not_revoking(&pki.inter, at_offset(-day * 2), at_offset(-day)));
    server.put("/b.crl", crl_not_revoking(&pki.inter, at_offset(-time::Duration::minutes(1)), at_offset(day)));
    let status = status_with(&pki).await;
    assert!(
        matches!(&status, RevocationStatus::Unknown { reason } if reason.contains("/a.crl") && reason.contains("out of date")),
        "{status:?}"
    );
}

/// A CRL without nextUpdate says nothing about how current it is: never good evidence.
#[tokio::test]
async fn crl_without_next_update_is_unknown() {
    let server = FileServer::start();
    let pki = pki(&server);
    let good = crl_not_revoking(&pki.inter, at_offset(-time::Duration::minutes(1)), at_offset(time::Duration::days(1)));
    server.put("/leaf.crl", resign_crl(&good, &pki.inter, |tbs| tbs.next_update = None));
    let status = status_with(&pki).await;
    assert!(matches!(status, RevocationStatus::Unknown { .. }), "{status:?}");
}

/// A delta CRL lists only changes since its base: taken as a base CRL it would clear
/// every certificate revoked earlier. Refused even when the indicator is (wrongly) not
/// marked critical.
#[tokio::test]
async fn delta_crl_with_a_non_critical_indicator_is_unknown() {
    let server = FileServer::start();
    let pki = pki(&server);
    let good = crl_not_revoking(&pki.inter, at_offset(-time::Duration::minutes(1)), at_offset(time::Duration::days(1)));
    let delta = resign_crl(&good, &pki.inter, |tbs| {
        tbs.crl_extensions.get_or_insert_with(Vec::new).push(x509_cert::ext::Extension {
            extn_id: const_oid::ObjectIdentifier::new_unwrap("2.5.29.27"),
            critical: false,
            extn_value: der::asn1::OctetString::new(vec![0x02, 0x01, 0x01]).unwrap(),
        });
    });
    server.put("/leaf.crl", delta);
    let status = status_with(&pki).await;
    assert!(matches!(&status, RevocationStatus::Unknown { reason } if reason.contains("delta")), "{status:?}");
}

/// An end-entity-only CRL (onlyContainsUserCerts) does cover a leaf whose basicConstraints
/// say cA=false explicitly: its entry must revoke, not be set aside as out of scope.
#[tokio::test]
async fn user_certs_only_crl_revokes_a_leaf_with_explicit_ca_false() {
    let server = FileServer::start();
    let pki = pki(&server);
    let params = CertificateRevocationListParams {
        this_update: at_offset(-time::Duration::minutes(1)),
        next_update: at_offset(time::Duration::days(1)),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: Some(rcgen::CrlIssuingDistributionPoint {
            distribution_point: CrlDistributionPoint { uris: vec![server.url("/leaf.crl")] },
            scope: Some(rcgen::CrlScope::UserCertsOnly),
        }),
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from(LEAF_SERIAL),
            revocation_time: at_offset(-time::Duration::minutes(1)),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    };
    server.put("/leaf.crl", params.signed_by(&pki.inter.issuer).unwrap().der().to_vec());
    let status = status_with(&pki).await;
    assert!(matches!(status, RevocationStatus::Revoked { .. }), "{status:?}");
}

// --- key rules on CA certificates ---

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// A CA certificate whose key is given as `spki` (DER), signed by a real root.
fn ca_with_spki(spki: &[u8]) -> Vec<u8> {
    use der::Decode as _;
    let root = Ca::root("Key Root", 950, SignKey::p256(950));
    let ca = root.intermediate("Key CA", 951, SignKey::p256(951));
    let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(spki).unwrap();
    resign(&ca.der, root.key(), |tbs| tbs.subject_public_key_info = spki)
}

/// The P-256 key of a CA written with explicit curve parameters (the P-256 values
/// themselves) instead of the named curve: RFC 5480 forbids it and a verifier that
/// accepted it would have to check the parameters really are P-256.
#[test]
fn ec_key_with_explicit_curve_parameters_is_refused() {
    let SignKey::P256(k) = SignKey::p256(952) else { unreachable!() };
    let point = k.verifying_key().to_encoded_point(false).as_bytes().to_vec();
    let unsigned = |h: &str| tlv(0x02, &[&[0u8][..], &hex(h)].concat());
    let params = seq(&[
        int(1),
        seq(&[oid("1.2.840.10045.1.1"), unsigned("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF")]),
        seq(&[
            tlv(0x04, &hex("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC")),
            tlv(0x04, &hex("5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B")),
        ]),
        tlv(
            0x04,
            &hex(concat!(
                "046B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296",
                "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5"
            )),
        ),
        unsigned("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"),
        int(1),
    ]);
    let spki = seq(&[seq(&[oid("1.2.840.10045.2.1"), params]), tlv(0x03, &[&[0u8][..], &point].concat())]);
    let err = sigscope::notation::chain::validate_ca_certificate(&ca_with_spki(&spki), 0)
        .expect_err("a CA key with explicit curve parameters was accepted");
    assert!(err.contains("named curve"), "{err}");
}

/// A P-521 CA key whose point is not on the curve (one coordinate byte changed).
#[test]
fn p521_key_off_the_curve_is_refused() {
    let mut spki = SignKey::p521(953).spki_der();
    let last = spki.len() - 1;
    spki[last] ^= 1;
    let err = sigscope::notation::chain::validate_ca_certificate(&ca_with_spki(&spki), 0)
        .expect_err("a P-521 point off the curve was accepted");
    assert!(err.contains("P-521"), "{err}");
}

// --- the signing chain against the timestamp ---

/// genTime ± accuracy must lie inside the signing certificate's validity, bounds
/// inclusive: latest = notAfter passes, one second later does not.
#[test]
fn signing_chain_validity_edges_against_the_timestamp() {
    use sigscope::notation::timestamp::{TimestampInfo, check_signing_chain_validity};
    let root = Ca::root("Edge Root", 960, SignKey::p256(960));
    let leaf = root.issue(&leaf_params("edge signer", 961), &SignKey::p256(961)); // until 2027-01-01
    let not_after = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let info = |latest: DateTime<Utc>| TimestampInfo {
        earliest: latest - chrono::Duration::seconds(2),
        latest,
        tsa_subject: "CN=TSA".into(),
        gen_time: latest - chrono::Duration::seconds(1),
        tsa_chain: Vec::new(),
    };
    let chain = [leaf, root.der.clone()];
    check_signing_chain_validity(&info(not_after), &chain).expect("latest exactly at notAfter is inside");
    let err = check_signing_chain_validity(&info(not_after + chrono::Duration::seconds(1)), &chain)
        .expect_err("a timestamp that can be after notAfter was accepted");
    assert!(err.contains("expired"), "{err}");
}

/// Revocation runs even for a chain nobody trusts when a policy only logs authenticity
/// (audit), so anyone can hand sigscope a certificate naming 16 CRL URLs on their own
/// server, on each of up to ten certificates: each answer may be up to 64 MiB and all are
/// fetched at once, tens of GiB in memory. What one chain check downloads is bounded in
/// total, not only per CRL.
#[tokio::test]
async fn crls_of_one_chain_are_bounded_in_total() {
    let server = FileServer::start();
    let paths: Vec<String> = (0..16).map(|i| format!("/big{i}.crl")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let pki = pki_with(&server, &refs);
    for p in &paths {
        server.put(p, vec![0u8; 9 << 20]); // 16 × 9 MiB = 144 MiB, each under the 64 MiB limit
    }
    let status = status_with(&pki).await;
    assert!(
        matches!(&status, RevocationStatus::Unknown { reason } if reason.contains("in total")),
        "no total bound: {}",
        match &status {
            RevocationStatus::Unknown { reason } => reason.chars().take(300).collect::<String>(),
            other => format!("{other:?}"),
        }
    );
}

/// A fresh CRL planted in the cache for the leaf's URL, signed by another CA of the same
/// name (other key): offline, it must not answer for the real intermediate's certificates.
#[tokio::test]
async fn cached_crl_of_a_same_named_ca_with_another_key_does_not_answer() {
    let server = FileServer::start();
    let pki = pki(&server);
    let mut p = ca_params("Revocation Intermediate", 801);
    p.not_before = at_offset(-time::Duration::days(1));
    let impostor = Ca::root_with(p, SignKey::p256(999));
    let fresh = crl_not_revoking(&impostor, at_offset(-time::Duration::minutes(1)), at_offset(time::Duration::days(1)));
    let cache = tempfile::tempdir().unwrap();
    let path = sigscope::notation::revocation::cached_crl_path(cache.path(), &server.url("/leaf.crl"));
    std::fs::write(&path, fresh).unwrap();
    let offline = RevocationMode::Offline { cache_dir: cache.path().to_path_buf() };
    let status = check_chain(&pki.chain, &offline, Utc::now()).await;
    assert!(matches!(&status, RevocationStatus::Unknown { reason } if reason.contains("signature")), "{status:?}");
}
