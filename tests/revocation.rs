//! CRL revocation checking against certificates and CRLs generated here (rcgen) and served
//! by a stand-in HTTP file server, plus the upstream Notation e2e CRL vectors through a
//! seeded cache.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use common::fileserver::{FileServer, online};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer, CrlDistributionPoint,
    CrlIssuingDistributionPoint, CrlScope, DistinguishedName, DnType, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevocationReason, RevokedCertParams, SerialNumber, SigningKey,
};
use sigscope::notation::revocation::{RevocationMode, RevocationStatus, cached_crl_path, check_chain};
use time::OffsetDateTime;

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::OrganizationName, "Sigscope Test");
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca_params(cn: &str, serial: u64, crl_url: Option<String>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    p.serial_number = Some(SerialNumber::from(serial));
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.crl_distribution_points = crl_url.into_iter().map(|u| CrlDistributionPoint { uris: vec![u] }).collect();
    p.not_before = OffsetDateTime::now_utc() - time::Duration::days(1);
    p.not_after = OffsetDateTime::now_utc() + time::Duration::days(365);
    p
}

const LEAF_SERIAL: u64 = 0x1000;
const INTERMEDIATE_SERIAL: u64 = 0x1002;

/// root (P-384) → intermediate (P-256) → leaf; the leaf's CRL is `/leaf.crl`, the
/// intermediate's `/intermediate.crl`; the root has none (trust anchor).
struct Pki {
    root: CertifiedIssuer<'static, KeyPair>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
    chain: Vec<Vec<u8>>,
}

fn make_pki(server: &FileServer, leaf_has_cdp: bool) -> Pki {
    let leaf_dps: &[&[&str]] = if leaf_has_cdp { &[&["/leaf.crl"]] } else { &[] };
    make_pki_with(server, leaf_dps)
}

/// As [`make_pki`], the leaf with one CRL distribution point per entry of `leaf_dps`, each
/// naming the URLs of its paths on `server`.
fn make_pki_with(server: &FileServer, leaf_dps: &[&[&str]]) -> Pki {
    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let root = CertifiedIssuer::self_signed(ca_params("Test Root", 1, None), root_key).unwrap();
    let intermediate = CertifiedIssuer::signed_by(
        ca_params("Test Intermediate", INTERMEDIATE_SERIAL, Some(server.url("/intermediate.crl"))),
        KeyPair::generate().unwrap(),
        &root,
    )
    .unwrap();
    let mut leaf = ca_params("build-bot", LEAF_SERIAL, None);
    leaf.crl_distribution_points = leaf_dps
        .iter()
        .map(|paths| CrlDistributionPoint { uris: paths.iter().map(|p| server.url(p)).collect() })
        .collect();
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let leaf_cert = leaf.signed_by(&KeyPair::generate().unwrap(), &intermediate).unwrap();
    let chain = vec![leaf_cert.der().to_vec(), intermediate.der().to_vec(), root.der().to_vec()];
    Pki { root, intermediate, chain }
}

struct Revoke {
    serial: u64,
    invalidity: Option<OffsetDateTime>,
}

fn crl(issuer: &Issuer<'_, KeyPair>, revoked: &[Revoke], next_update: time::Duration) -> Vec<u8> {
    crl_with_idp(issuer, revoked, next_update, None)
}

fn crl_with_idp(
    issuer: &Issuer<'_, KeyPair>,
    revoked: &[Revoke],
    next_update: time::Duration,
    issuing_distribution_point: Option<CrlIssuingDistributionPoint>,
) -> Vec<u8> {
    let now = OffsetDateTime::now_utc();
    let params = CertificateRevocationListParams {
        this_update: now - time::Duration::minutes(1),
        next_update: now + next_update,
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point,
        revoked_certs: revoked
            .iter()
            .map(|r| RevokedCertParams {
                serial_number: SerialNumber::from(r.serial),
                revocation_time: now - time::Duration::minutes(1),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: r.invalidity,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params.signed_by(issuer).unwrap().der().to_vec()
}

const DAY: time::Duration = time::Duration::days(1);

fn serve_good(server: &FileServer, pki: &Pki) {
    server.put("/leaf.crl", crl(&pki.intermediate, &[], DAY));
    server.put("/intermediate.crl", crl(&pki.root, &[], DAY));
}

fn offline(cache: &Path) -> RevocationMode {
    RevocationMode::Offline { cache_dir: cache.to_path_buf() }
}

fn unknown_reason(status: RevocationStatus) -> String {
    match status {
        RevocationStatus::Unknown { reason } => reason,
        other => panic!("expected Unknown, got {other:?}"),
    }
}

#[tokio::test]
async fn good_chain_is_good() {
    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await, RevocationStatus::Good);
    assert_eq!((server.hits("/leaf.crl"), server.hits("/intermediate.crl")), (1, 1));
}

#[tokio::test]
async fn revoked_leaf_and_intermediate_are_revoked() {
    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    server.put("/leaf.crl", crl(&pki.intermediate, &[Revoke { serial: LEAF_SERIAL, invalidity: None }], DAY));
    let cache = tempfile::tempdir().unwrap();
    match check_chain(&pki.chain, &online(cache.path()), Utc::now()).await {
        RevocationStatus::Revoked { subject, reason } => {
            assert!(subject.contains("CN=build-bot"), "{subject}");
            assert!(reason.contains("1000") && reason.contains("KeyCompromise"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    server.put("/intermediate.crl", crl(&pki.root, &[Revoke { serial: INTERMEDIATE_SERIAL, invalidity: None }], DAY));
    let cache = tempfile::tempdir().unwrap();
    match check_chain(&pki.chain, &online(cache.path()), Utc::now()).await {
        RevocationStatus::Revoked { subject, .. } => assert!(subject.contains("CN=Test Intermediate"), "{subject}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn invalidity_date_after_signing_time_is_tolerated() {
    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    let invalid_from = OffsetDateTime::now_utc() - time::Duration::hours(1);
    server.put(
        "/leaf.crl",
        crl(&pki.intermediate, &[Revoke { serial: LEAF_SERIAL, invalidity: Some(invalid_from) }], DAY),
    );
    let cache = tempfile::tempdir().unwrap();
    let signed_before = Utc::now() - chrono::Duration::hours(2);
    assert_eq!(check_chain(&pki.chain, &online(cache.path()), signed_before).await, RevocationStatus::Good);
    let signed_after = Utc::now() - chrono::Duration::minutes(30);
    assert!(matches!(
        check_chain(&pki.chain, &online(cache.path()), signed_after).await,
        RevocationStatus::Revoked { .. }
    ));
}

#[tokio::test]
async fn crl_signed_by_the_wrong_key_is_unknown() {
    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    // Same name as the real intermediate, other key: only the signature check can tell.
    let impostor =
        CertifiedIssuer::self_signed(ca_params("Test Intermediate", 99, None), KeyPair::generate().unwrap()).unwrap();
    server.put("/leaf.crl", crl(&impostor, &[], DAY));
    let cache = tempfile::tempdir().unwrap();
    let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
    assert!(reason.contains("CRL signature") && reason.contains("CN=build-bot"), "{reason}");
    assert!(std::fs::read_dir(cache.path()).unwrap().count() == 1, "only the intermediate's valid CRL is cached");
}

#[tokio::test]
async fn server_down_or_missing_crl_is_unknown() {
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let server = FileServer::at(format!("http://{dead}"));
    let pki = make_pki(&server, true);
    let cache = tempfile::tempdir().unwrap();
    let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
    assert!(reason.contains("fetch failed"), "{reason}");

    let server = FileServer::start();
    let pki = make_pki(&server, true);
    server.put("/intermediate.crl", crl(&pki.root, &[], DAY));
    let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
    assert!(reason.contains("HTTP 404") && reason.contains("leaf.crl"), "{reason}");

    server.put("/leaf.crl", b"<html>not a CRL</html>".to_vec());
    let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
    assert!(reason.contains("not a DER CRL"), "{reason}");
}

#[tokio::test]
async fn silent_server_times_out_as_unknown() {
    // Accepts connections (the kernel completes the handshake) but never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = FileServer::at(format!("http://{}", silent.local_addr().unwrap()));
    let pki = make_pki(&server, true);
    let cache = tempfile::tempdir().unwrap();
    let mode = RevocationMode::Online { cache_dir: cache.path().to_path_buf(), timeout: Duration::from_millis(500) };
    let started = std::time::Instant::now();
    let reason = unknown_reason(check_chain(&pki.chain, &mode, Utc::now()).await);
    assert!(reason.contains("fetch failed"), "{reason}");
    assert!(started.elapsed() < Duration::from_secs(5), "the timeout bounds the wait: {:?}", started.elapsed());
    drop(silent);
}

#[tokio::test]
async fn fresh_cache_serves_online_and_offline() {
    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await, RevocationStatus::Good);
    // The server now says revoked, but the cached CRLs are still current: no refetch.
    server.put("/leaf.crl", crl(&pki.intermediate, &[Revoke { serial: LEAF_SERIAL, invalidity: None }], DAY));
    assert_eq!(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await, RevocationStatus::Good);
    assert_eq!(check_chain(&pki.chain, &offline(cache.path()), Utc::now()).await, RevocationStatus::Good);
    assert_eq!(server.hits("/leaf.crl"), 1, "cache hits do not touch the network");
}

#[tokio::test]
async fn offline_without_cache_is_unknown() {
    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    let cache = tempfile::tempdir().unwrap();
    let reason = unknown_reason(check_chain(&pki.chain, &offline(cache.path()), Utc::now()).await);
    assert!(reason.contains("offline and no cached CRL"), "{reason}");
    assert_eq!(server.hits("/leaf.crl"), 0);
}

#[tokio::test]
async fn stale_cache_is_refetched_online_and_unknown_offline() {
    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    server.put("/leaf.crl", crl(&pki.intermediate, &[], time::Duration::seconds(2)));
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await, RevocationStatus::Good);
    tokio::time::sleep(Duration::from_millis(3100)).await;

    let reason = unknown_reason(check_chain(&pki.chain, &offline(cache.path()), Utc::now()).await);
    assert!(reason.contains("stale"), "{reason}");

    server.put("/leaf.crl", crl(&pki.intermediate, &[Revoke { serial: LEAF_SERIAL, invalidity: None }], DAY));
    assert!(matches!(
        check_chain(&pki.chain, &online(cache.path()), Utc::now()).await,
        RevocationStatus::Revoked { .. }
    ));
    assert_eq!(server.hits("/leaf.crl"), 2, "the stale CRL was fetched again");
    // The new CRL replaced the cache: offline now knows about the revocation.
    assert!(matches!(
        check_chain(&pki.chain, &offline(cache.path()), Utc::now()).await,
        RevocationStatus::Revoked { .. }
    ));
}

#[tokio::test]
async fn out_of_date_crl_from_the_server_is_unknown() {
    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    server.put("/leaf.crl", crl(&pki.intermediate, &[], time::Duration::seconds(-30)));
    let cache = tempfile::tempdir().unwrap();
    let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
    assert!(reason.contains("out of date"), "{reason}");
}

#[tokio::test]
async fn certificate_without_revocation_information_is_not_revocable() {
    // Notation (and Go's verifier) treats a certificate without CRL distribution point or
    // OCSP as one its issuer cannot revoke.
    let server = FileServer::start();
    let pki = make_pki(&server, false);
    serve_good(&server, &pki);
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await, RevocationStatus::Good);
    // ...but the intermediate that does have one is still checked.
    server.put("/intermediate.crl", b"garbage".to_vec());
    let cache = tempfile::tempdir().unwrap();
    let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
    assert!(reason.contains("Intermediate"), "{reason}");

    // Without its root, the intermediate's CRL has no key to be checked with.
    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    let reason = unknown_reason(check_chain(&pki.chain[..2], &online(cache.path()), Utc::now()).await);
    assert!(reason.contains("the issuer of CN=Test Intermediate") && reason.contains("not in the chain"), "{reason}");

    // A lone self-signed certificate is its own trust anchor: nothing to check.
    let root_only = vec![pki.root.der().to_vec()];
    assert_eq!(check_chain(&root_only, &online(cache.path()), Utc::now()).await, RevocationStatus::Good);
    // Garbage is Unknown, not a panic.
    let reason = unknown_reason(check_chain(&[vec![0x30, 0x03, 1, 2, 3]], &online(cache.path()), Utc::now()).await);
    assert!(reason.contains("does not parse"), "{reason}");
}

// --- Hand-built DER, for what rcgen cannot express -------------------------------------

const ID_CE_ISSUING_DISTRIBUTION_POINT: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("2.5.29.28");
const ID_CE_CRL_DISTRIBUTION_POINTS: const_oid::ObjectIdentifier = const_oid::ObjectIdentifier::new_unwrap("2.5.29.31");

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n @ 0..=0x7f => out.push(n as u8),
        n @ 0x80..=0xff => out.extend_from_slice(&[0x81, n as u8]),
        n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// `distributionPoint [0] { fullName [0] { uniformResourceIdentifier [6] url… } }`.
fn dp_name(urls: &[String]) -> Vec<u8> {
    let names: Vec<u8> = urls.iter().flat_map(|u| tlv(0x86, u.as_bytes())).collect();
    tlv(0xa0, &tlv(0xa0, &names))
}

/// ReasonFlags with only keyCompromise (bit 1), under the implicit `tag`.
fn key_compromise_only(tag: u8) -> Vec<u8> {
    tlv(tag, &[0x06, 0x40])
}

const TRUE_AT_4: [u8; 3] = [0x84, 0x01, 0xff];
const TRUE_AT_5: [u8; 3] = [0x85, 0x01, 0xff];

/// `crl_der` with its issuingDistributionPoint replaced by `idp` (the extension's value),
/// re-signed by `issuer` so only the scope differs.
fn with_idp(crl_der: &[u8], issuer: &Issuer<'_, KeyPair>, idp: &[u8]) -> Vec<u8> {
    with_idps(crl_der, issuer, &[idp])
}

/// [`with_idp`] with one issuingDistributionPoint extension per entry of `idps`.
fn with_idps(crl_der: &[u8], issuer: &Issuer<'_, KeyPair>, idps: &[&[u8]]) -> Vec<u8> {
    use der::{Decode, Encode};
    let mut crl = x509_cert::crl::CertificateList::from_der(crl_der).unwrap();
    let exts = crl.tbs_cert_list.crl_extensions.get_or_insert_with(Vec::new);
    exts.retain(|e| e.extn_id != ID_CE_ISSUING_DISTRIBUTION_POINT);
    exts.extend(idps.iter().map(|idp| x509_cert::ext::Extension {
        extn_id: ID_CE_ISSUING_DISTRIBUTION_POINT,
        critical: true,
        extn_value: der::asn1::OctetString::new(idp.to_vec()).unwrap(),
    }));
    let tbs = crl.tbs_cert_list.to_der().unwrap();
    crl.signature = der::asn1::BitString::from_bytes(&issuer.key().sign(&tbs).unwrap()).unwrap();
    crl.to_der().unwrap()
}

/// `cert_der` with its CRL distribution points replaced by `points` (each the content of
/// one DistributionPoint SEQUENCE), re-signed by `issuer`.
fn with_cdp(cert_der: &[u8], issuer: &Issuer<'_, KeyPair>, points: &[Vec<u8>]) -> Vec<u8> {
    use der::{Decode, Encode};
    let mut cert = x509_cert::Certificate::from_der(cert_der).unwrap();
    let value = tlv(0x30, &points.iter().flat_map(|p| tlv(0x30, p)).collect::<Vec<u8>>());
    let exts = cert.tbs_certificate.extensions.get_or_insert_with(Vec::new);
    exts.retain(|e| e.extn_id != ID_CE_CRL_DISTRIBUTION_POINTS);
    exts.push(x509_cert::ext::Extension {
        extn_id: ID_CE_CRL_DISTRIBUTION_POINTS,
        critical: false,
        extn_value: der::asn1::OctetString::new(value).unwrap(),
    });
    let tbs = cert.tbs_certificate.to_der().unwrap();
    cert.signature = der::asn1::BitString::from_bytes(&issuer.key().sign(&tbs).unwrap()).unwrap();
    cert.to_der().unwrap()
}

fn idp(urls: &[String], scope: Option<CrlScope>) -> Option<CrlIssuingDistributionPoint> {
    Some(CrlIssuingDistributionPoint { distribution_point: CrlDistributionPoint { uris: urls.to_vec() }, scope })
}

fn revoked_leaf() -> [Revoke; 1] {
    [Revoke { serial: LEAF_SERIAL, invalidity: None }]
}

fn revoked_reason(status: RevocationStatus) -> String {
    match status {
        RevocationStatus::Revoked { reason, .. } => reason,
        other => panic!("expected Revoked, got {other:?}"),
    }
}

/// Issue 7, item 2: every distribution point of a certificate is consulted.
mod every_point {
    use super::*;

    fn two_points(server: &FileServer) -> Pki {
        let pki = make_pki_with(server, &[&["/a.crl"], &["/b.crl"]]);
        server.put("/intermediate.crl", crl(&pki.root, &[], DAY));
        pki
    }

    #[tokio::test]
    async fn revoked_on_the_second_distribution_point_is_revoked() {
        let server = FileServer::start();
        let pki = two_points(&server);
        server.put("/a.crl", crl(&pki.intermediate, &[], DAY));
        server.put("/b.crl", crl(&pki.intermediate, &revoked_leaf(), DAY));
        let cache = tempfile::tempdir().unwrap();
        let reason = revoked_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("/b.crl") && reason.contains("serial 1000"), "{reason}");
        assert_eq!((server.hits("/a.crl"), server.hits("/b.crl")), (1, 1));
        // The cached copies keep saying so offline.
        let reason = revoked_reason(check_chain(&pki.chain, &offline(cache.path()), Utc::now()).await);
        assert!(reason.contains("/b.crl"), "{reason}");
    }

    #[tokio::test]
    async fn one_unanswered_point_makes_the_status_unknown() {
        let server = FileServer::start();
        let pki = two_points(&server);
        server.put("/b.crl", crl(&pki.intermediate, &[], DAY));
        let cache = tempfile::tempdir().unwrap();
        let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("/a.crl: fetch failed: HTTP 404") && !reason.contains("/b.crl"), "{reason}");

        // The other order: the first point good, the second serves garbage.
        let server = FileServer::start();
        let pki = two_points(&server);
        server.put("/a.crl", crl(&pki.intermediate, &[], DAY));
        server.put("/b.crl", b"<html>maintenance</html>".to_vec());
        let cache = tempfile::tempdir().unwrap();
        let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("/b.crl: not a DER CRL") && reason.contains("CN=build-bot"), "{reason}");
    }

    #[tokio::test]
    async fn revoked_wins_over_an_unanswered_point() {
        let server = FileServer::start();
        let pki = two_points(&server);
        server.put("/b.crl", crl(&pki.intermediate, &revoked_leaf(), DAY));
        let cache = tempfile::tempdir().unwrap();
        let reason = revoked_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("/b.crl"), "{reason}");
    }

    #[tokio::test]
    async fn every_url_of_one_point_is_consulted() {
        // One distribution point naming two URLs (meant as two copies of one CRL): the copy
        // at the second URL says revoked.
        let server = FileServer::start();
        let pki = make_pki_with(&server, &[&["/a.crl", "/b.crl"]]);
        server.put("/intermediate.crl", crl(&pki.root, &[], DAY));
        server.put("/a.crl", crl(&pki.intermediate, &[], DAY));
        server.put("/b.crl", crl(&pki.intermediate, &revoked_leaf(), DAY));
        let cache = tempfile::tempdir().unwrap();
        let reason = revoked_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("/b.crl"), "{reason}");
    }

    #[tokio::test]
    async fn a_point_that_cannot_be_consulted_makes_the_status_unknown() {
        let server = FileServer::start();
        let pki = make_pki_with(&server, &[]);
        server.put("/intermediate.crl", crl(&pki.root, &[], DAY));
        server.put("/a.crl", crl(&pki.intermediate, &[], DAY));
        let a = dp_name(&[server.url("/a.crl")]);
        // A second point whose CRL comes from another issuer (cRLIssuer: an indirect CRL).
        let root = <x509_cert::Certificate as der::Decode>::from_der(&pki.chain[2]).unwrap();
        let root_name = tlv(0xa2, &tlv(0xa4, &der::Encode::to_der(&root.tbs_certificate.subject).unwrap()));
        let indirect = [dp_name(&[server.url("/b.crl")]), root_name].concat();
        // And one offering only LDAP.
        let ldap = dp_name(&["ldap://ldap.example/cn=Test%20Intermediate?certificateRevocationList".into()]);
        for (other, why) in [(indirect, "indirect"), (ldap, "no HTTP")] {
            let mut chain = pki.chain.clone();
            chain[0] = with_cdp(&chain[0], &pki.intermediate, &[a.clone(), other]);
            let cache = tempfile::tempdir().unwrap();
            let reason = unknown_reason(check_chain(&chain, &online(cache.path()), Utc::now()).await);
            assert!(reason.contains(why) && reason.contains("distribution point #2"), "{why}: {reason}");
        }
    }

    #[tokio::test]
    async fn points_limited_to_some_reasons_must_cover_them_all() {
        let server = FileServer::start();
        let pki = make_pki_with(&server, &[]);
        server.put("/intermediate.crl", crl(&pki.root, &[], DAY));
        server.put("/a.crl", crl(&pki.intermediate, &[], DAY));
        server.put("/b.crl", crl(&pki.intermediate, &[], DAY));
        // The only point publishes keyCompromise revocations: a superseded key would not be
        // listed there, so an empty CRL proves nothing about the other reasons.
        let a = [dp_name(&[server.url("/a.crl")]), key_compromise_only(0x81)].concat();
        let mut chain = pki.chain.clone();
        chain[0] = with_cdp(&chain[0], &pki.intermediate, std::slice::from_ref(&a));
        let cache = tempfile::tempdir().unwrap();
        let reason = unknown_reason(check_chain(&chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("reasons") && reason.contains("superseded"), "{reason}");
        // A second point for every reason completes the coverage.
        chain[0] = with_cdp(&chain[0], &pki.intermediate, &[a, dp_name(&[server.url("/b.crl")])]);
        assert_eq!(check_chain(&chain, &online(cache.path()), Utc::now()).await, RevocationStatus::Good);
    }

    #[tokio::test]
    async fn too_many_points_are_refused_unfetched() {
        let server = FileServer::start();
        let paths: Vec<String> = (0..40).map(|i| format!("/p{i}.crl")).collect();
        let urls: Vec<&str> = paths.iter().map(String::as_str).collect();
        let points: Vec<&[&str]> = urls.chunks(1).collect();
        let pki = make_pki_with(&server, &points);
        server.put("/intermediate.crl", crl(&pki.root, &[], DAY));
        let cache = tempfile::tempdir().unwrap();
        let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("40 CRL URLs"), "{reason}");
        assert_eq!(server.hits("/p0.crl"), 0, "nothing is fetched for a certificate refused outright");
    }
}

/// Issue 7, item 3: a CRL proves nothing about a certificate outside its scope.
mod scope {
    use super::*;

    fn pki(server: &FileServer) -> Pki {
        let pki = make_pki(server, true);
        server.put("/intermediate.crl", crl(&pki.root, &[], DAY));
        pki
    }

    #[tokio::test]
    async fn ca_only_crl_at_the_leafs_url_is_unknown() {
        let server = FileServer::start();
        let pki = pki(&server);
        let ca_only = idp(&[server.url("/leaf.crl")], Some(CrlScope::CaCertsOnly));
        server.put("/leaf.crl", crl_with_idp(&pki.intermediate, &[], DAY, ca_only));
        let cache = tempfile::tempdir().unwrap();
        let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("only CA certificates") && reason.contains("CN=build-bot"), "{reason}");
        // Not evidence, so not cached either: the next check asks the server again.
        assert!(!cached_crl_path(cache.path(), &server.url("/leaf.crl")).exists());
        server.put("/leaf.crl", crl(&pki.intermediate, &revoked_leaf(), DAY));
        revoked_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
    }

    #[tokio::test]
    async fn end_entity_only_crl_for_the_intermediate_is_unknown() {
        let server = FileServer::start();
        let pki = pki(&server);
        server.put("/leaf.crl", crl(&pki.intermediate, &[], DAY));
        let users = idp(&[server.url("/intermediate.crl")], Some(CrlScope::UserCertsOnly));
        server.put("/intermediate.crl", crl_with_idp(&pki.root, &[], DAY, users));
        let cache = tempfile::tempdir().unwrap();
        let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("only end-entity certificates") && reason.contains("Intermediate"), "{reason}");
    }

    #[tokio::test]
    async fn crl_naming_another_distribution_point_is_unknown() {
        let server = FileServer::start();
        let pki = pki(&server);
        let other = idp(&[server.url("/other.crl")], None);
        server.put("/leaf.crl", crl_with_idp(&pki.intermediate, &[], DAY, other));
        let cache = tempfile::tempdir().unwrap();
        let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("/other.crl") && reason.contains("not the distribution point"), "{reason}");

        // Two points: the CRL of the second, genuine and in scope for the certificate, served
        // at the first's URL does not answer for the first.
        let server = FileServer::start();
        let pki = make_pki_with(&server, &[&["/a.crl"], &["/b.crl"]]);
        server.put("/intermediate.crl", crl(&pki.root, &[], DAY));
        let b = crl_with_idp(&pki.intermediate, &[], DAY, idp(&[server.url("/b.crl")], None));
        server.put("/a.crl", b.clone());
        server.put("/b.crl", b);
        let cache = tempfile::tempdir().unwrap();
        let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("/a.crl") && reason.contains("not the distribution point"), "{reason}");
    }

    #[tokio::test]
    async fn crl_whose_scope_covers_the_certificate_is_honoured() {
        let server = FileServer::start();
        let pki = pki(&server);
        let users = idp(&[server.url("/leaf.crl")], Some(CrlScope::UserCertsOnly));
        let cas = idp(&[server.url("/intermediate.crl")], Some(CrlScope::CaCertsOnly));
        server.put("/leaf.crl", crl_with_idp(&pki.intermediate, &[], DAY, users.clone()));
        server.put("/intermediate.crl", crl_with_idp(&pki.root, &[], DAY, cas));
        let cache = tempfile::tempdir().unwrap();
        assert_eq!(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await, RevocationStatus::Good);
        // Cached, they answer offline too.
        assert_eq!(check_chain(&pki.chain, &offline(cache.path()), Utc::now()).await, RevocationStatus::Good);

        server.put("/leaf.crl", crl_with_idp(&pki.intermediate, &revoked_leaf(), DAY, users));
        let cache = tempfile::tempdir().unwrap();
        revoked_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
    }

    #[tokio::test]
    async fn crl_of_some_reasons_only_proves_nothing_unless_it_lists_the_certificate() {
        let server = FileServer::start();
        let pki = pki(&server);
        let scope = tlv(0x30, &[dp_name(&[server.url("/leaf.crl")]), key_compromise_only(0x83)].concat());
        server.put("/leaf.crl", with_idp(&crl(&pki.intermediate, &[], DAY), &pki.intermediate, &scope));
        let cache = tempfile::tempdir().unwrap();
        let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert!(reason.contains("reasons") && reason.contains("keyCompromise"), "{reason}");

        server.put("/leaf.crl", with_idp(&crl(&pki.intermediate, &revoked_leaf(), DAY), &pki.intermediate, &scope));
        let cache = tempfile::tempdir().unwrap();
        revoked_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
    }

    #[tokio::test]
    async fn attribute_certificate_and_indirect_crls_are_unknown() {
        let server = FileServer::start();
        let pki = pki(&server);
        let name = dp_name(&[server.url("/leaf.crl")]);
        for (flag, why) in [(&TRUE_AT_5, "attribute certificates"), (&TRUE_AT_4, "indirect")] {
            let scope = tlv(0x30, &[name.clone(), flag.to_vec()].concat());
            server.put("/leaf.crl", with_idp(&crl(&pki.intermediate, &[], DAY), &pki.intermediate, &scope));
            let cache = tempfile::tempdir().unwrap();
            let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
            assert!(reason.contains(why) && reason.contains("/leaf.crl"), "{why}: {reason}");
        }
    }

    #[tokio::test]
    async fn unparseable_issuing_distribution_point_is_unknown() {
        let server = FileServer::start();
        let pki = pki(&server);
        // An unknown field, a bare OCTET STRING, and a SEQUENCE with trailing bytes.
        let bad: [&[u8]; 3] = [&[0x30, 0x03, 0x99, 0x01, 0x00], &[0x04, 0x00], &[0x30, 0x00, 0x00]];
        for value in bad {
            server.put("/leaf.crl", with_idp(&crl(&pki.intermediate, &[], DAY), &pki.intermediate, value));
            let cache = tempfile::tempdir().unwrap();
            let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
            assert!(reason.contains("issuingDistributionPoint does not parse"), "{value:x?}: {reason}");
        }
    }
}

#[tokio::test]
async fn crl_with_two_scopes_is_unknown() {
    // A harmless-looking scope first, the CA-only one second: which one counts would be a
    // guess, so neither does.
    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    let name = dp_name(&[server.url("/leaf.crl")]);
    let (open, ca_only) = (tlv(0x30, &name), tlv(0x30, &[name.clone(), vec![0x82, 0x01, 0xff]].concat()));
    server.put("/leaf.crl", with_idps(&crl(&pki.intermediate, &[], DAY), &pki.intermediate, &[&open, &ca_only]));
    let cache = tempfile::tempdir().unwrap();
    let reason = unknown_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
    assert!(reason.contains("2.5.29.28 more than once"), "{reason}");
}

/// The CRL cache answers only for its URL, only with a CRL in scope, and reads only a
/// bounded regular file.
mod cache {
    use super::*;

    /// The intermediate's CRL cached (by one online check with the leaf's CRL good), then
    /// `leaf` planted where the leaf's CRL is cached.
    async fn plant(server: &FileServer, pki: &Pki, cache: &Path, leaf: &[u8]) {
        serve_good(server, pki);
        assert_eq!(check_chain(&pki.chain, &online(cache), Utc::now()).await, RevocationStatus::Good);
        std::fs::write(cached_crl_path(cache, &server.url("/leaf.crl")), leaf).unwrap();
    }

    #[tokio::test]
    async fn poisoned_cache_entry_does_not_answer() {
        let server = FileServer::start();
        let pki = make_pki(&server, true);
        let cache = tempfile::tempdir().unwrap();
        let ca_only = idp(&[server.url("/leaf.crl")], Some(CrlScope::CaCertsOnly));
        plant(&server, &pki, cache.path(), &crl_with_idp(&pki.intermediate, &[], DAY, ca_only)).await;
        let reason = unknown_reason(check_chain(&pki.chain, &offline(cache.path()), Utc::now()).await);
        assert!(reason.contains("offline") && reason.contains("only CA certificates"), "{reason}");
        // Online, the out-of-scope copy is not used: the server is asked and says revoked.
        server.put("/leaf.crl", crl(&pki.intermediate, &revoked_leaf(), DAY));
        revoked_reason(check_chain(&pki.chain, &online(cache.path()), Utc::now()).await);
        assert_eq!(server.hits("/leaf.crl"), 2);
    }

    #[tokio::test]
    async fn crl_cached_for_another_url_does_not_answer() {
        let server = FileServer::start();
        let pki = make_pki(&server, true);
        assert_ne!(
            cached_crl_path(Path::new("/c"), &server.url("/leaf.crl")),
            cached_crl_path(Path::new("/c"), &server.url("/other.crl"))
        );
        let cache = tempfile::tempdir().unwrap();
        let other = crl_with_idp(&pki.intermediate, &[], DAY, idp(&[server.url("/other.crl")], None));
        plant(&server, &pki, cache.path(), &other).await;
        let reason = unknown_reason(check_chain(&pki.chain, &offline(cache.path()), Utc::now()).await);
        assert!(reason.contains("/other.crl") && reason.contains("not the distribution point"), "{reason}");
    }

    /// Runs the offline check on its own thread so a read that blocks forever fails the test
    /// instead of hanging it.
    fn offline_check_within(chain: Vec<Vec<u8>>, cache: &Path, bound: Duration) -> RevocationStatus {
        let mode = offline(cache);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let _ = tx.send(rt.block_on(check_chain(&chain, &mode, Utc::now())));
        });
        rx.recv_timeout(bound).expect("the cache read did not end")
    }

    #[tokio::test]
    async fn cache_entry_that_is_not_a_regular_file_is_refused() {
        let server = FileServer::start();
        let pki = make_pki(&server, true);
        let cache = tempfile::tempdir().unwrap();
        plant(&server, &pki, cache.path(), b"placeholder").await;
        let entry = cached_crl_path(cache.path(), &server.url("/leaf.crl"));

        std::fs::remove_file(&entry).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &entry).unwrap();
        let reason = unknown_reason(offline_check_within(pki.chain.clone(), cache.path(), Duration::from_secs(20)));
        assert!(reason.contains("not a regular file"), "{reason}");

        std::fs::remove_file(&entry).unwrap();
        let status = std::process::Command::new("mkfifo").arg(&entry).status().unwrap();
        assert!(status.success());
        let reason = unknown_reason(offline_check_within(pki.chain.clone(), cache.path(), Duration::from_secs(20)));
        assert!(reason.contains("not a regular file"), "{reason}");
    }

    #[tokio::test]
    async fn oversized_cache_entry_is_refused_unread() {
        let server = FileServer::start();
        let pki = make_pki(&server, true);
        let cache = tempfile::tempdir().unwrap();
        plant(&server, &pki, cache.path(), b"").await;
        // Sparse: costs no disk, but reads as 65 MiB of zeros.
        let entry = std::fs::OpenOptions::new()
            .write(true)
            .open(cached_crl_path(cache.path(), &server.url("/leaf.crl")))
            .unwrap();
        entry.set_len(65 << 20).unwrap();
        let reason = unknown_reason(check_chain(&pki.chain, &offline(cache.path()), Utc::now()).await);
        assert!(reason.contains("over the 67108864-byte limit"), "{reason}");
    }
}

#[tokio::test]
async fn dripping_crl_server_ends_within_the_timeout() {
    let server = FileServer::start();
    let pki = make_pki(&server, true);
    serve_good(&server, &pki);
    // About 400 bytes at one per 250 ms: no single read ever waits long, the whole takes
    // over a minute.
    let body = crl(&pki.intermediate, &[], DAY);
    assert!(body.len() > 200);
    server.put_dripping("/leaf.crl", body, Duration::from_millis(250));
    let cache = tempfile::tempdir().unwrap();
    let mode = RevocationMode::Online { cache_dir: cache.path().to_path_buf(), timeout: Duration::from_secs(1) };
    let status = tokio::time::timeout(Duration::from_secs(20), check_chain(&pki.chain, &mode, Utc::now()))
        .await
        .expect("the CRL download is bounded by its timeout");
    let reason = unknown_reason(status);
    assert!(reason.contains("/leaf.crl: fetch failed"), "{reason}");
}

/// notation's e2e CRL vectors (tests/vectors/notation/revocation/): their distribution
/// points name http://localhost:10086/…, so the cache is seeded where a fetch from those
/// URLs would have stored them, and the check runs offline.
mod upstream {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/notation/revocation");

    fn chain() -> Vec<Vec<u8>> {
        use base64::Engine;
        let pem = std::fs::read_to_string(format!("{DIR}/certchain_with_crl.pem")).unwrap();
        pem.split("-----END CERTIFICATE-----")
            .filter(|block| block.contains("BEGIN"))
            .map(|block| {
                let body: String = block.lines().filter(|l| !l.starts_with("-----") && !l.is_empty()).collect();
                base64::engine::general_purpose::STANDARD.decode(body).unwrap()
            })
            .collect()
    }

    async fn check_with(leaf_crl: &str, intermediate_crl: &str) -> RevocationStatus {
        let cache = tempfile::tempdir().unwrap();
        for (url, file) in [
            ("http://localhost:10086/leaf.crl", leaf_crl),
            ("http://localhost:10086/intermediate.crl", intermediate_crl),
        ] {
            std::fs::copy(format!("{DIR}/{file}"), cached_crl_path(cache.path(), url)).unwrap();
        }
        check_chain(&chain(), &offline(cache.path()), Utc::now()).await
    }

    #[tokio::test]
    async fn unrevoked_chain_is_good() {
        assert_eq!(chain().len(), 3);
        assert_eq!(check_with("leaf.crl", "intermediate.crl").await, RevocationStatus::Good);
    }

    #[tokio::test]
    async fn revoked_leaf_or_intermediate() {
        match check_with("leaf_revoked.crl", "intermediate.crl").await {
            RevocationStatus::Revoked { subject, reason } => {
                assert!(subject.contains("CN=LeafCert"), "{subject}");
                assert!(reason.contains("serial 1000"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        match check_with("leaf.crl", "intermediate_revoked.crl").await {
            RevocationStatus::Revoked { subject, .. } => assert!(subject.contains("CN=IntermediateCA"), "{subject}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn expired_crl_is_unknown_offline() {
        // Besides being out of date (nextUpdate 2023-12-25), this upstream CRL was signed by
        // another key than the chain's IntermediateCA (its authority key identifier differs
        // and OpenSSL's `crl -CAfile` fails too): the signature check refuses it first.
        let reason = unknown_reason(check_with("leaf_expired.crl", "intermediate.crl").await);
        assert!(reason.contains("CN=LeafCert") && reason.contains("signature does not verify"), "{reason}");
    }

    #[tokio::test]
    async fn crl_of_the_wrong_issuer_is_refused() {
        // The intermediate's CRL put where the leaf's belongs: issued by RootCA, not by
        // the leaf's issuer.
        let reason = unknown_reason(check_with("intermediate.crl", "intermediate.crl").await);
        assert!(reason.contains("not by") && reason.contains("IntermediateCA"), "{reason}");
    }
}
