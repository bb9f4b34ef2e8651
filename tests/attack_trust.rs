//! Attacks on the trust checks fixed for issue 7 (timestamp tokens, certificate rules,
//! revocation), written after the fixes: each test asserts the secure outcome, so it fails
//! when the attack works. Inputs are generated here with the test signer and TSA of
//! `support/notary.rs` and served by the stand-in CRL server of `support/fileserver.rs`.

#[path = "support/fileserver.rs"]
mod fileserver;
#[path = "support/notary.rs"]
mod notary;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use fileserver::FileServer;
use notary::*;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, RevocationReason, RevokedCertParams, SerialNumber,
};
use sigscope::trust::revocation::{RevocationMode, RevocationStatus, check_chain};
use sigscope::trust::timestamp::verify_timestamp;
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

fn verify_with(tsa: &Tsa) -> Result<sigscope::trust::timestamp::TimestampInfo, String> {
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
        let _ = tx.send(sigscope::trust::chain::validate(&[der]).map(|_| ()));
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
    let mut root_p = ca_params("Revocation Root", 800);
    root_p.not_before = at_offset(-time::Duration::days(1));
    let root = Ca::root_with(root_p, SignKey::p256(800));
    let mut inter_p = ca_params("Revocation Intermediate", 801);
    inter_p.not_before = at_offset(-time::Duration::days(1));
    let inter = root.issue_ca(inter_p, SignKey::p256(801));
    let mut leaf = leaf_params("revoked signer", LEAF_SERIAL);
    leaf.not_before = at_offset(-time::Duration::days(1));
    leaf.not_after = at_offset(time::Duration::days(365));
    leaf.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![server.url("/leaf.crl")] }];
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

fn online(cache: &std::path::Path) -> RevocationMode {
    RevocationMode::Online { cache_dir: cache.to_path_buf(), timeout: Duration::from_secs(5) }
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
