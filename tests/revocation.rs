//! CRL revocation checking against certificates and CRLs generated here (rcgen) and served
//! by a stand-in HTTP file server, plus the upstream Notation e2e CRL vectors through a
//! seeded cache.

#[path = "support/fileserver.rs"]
mod fileserver;

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fileserver::FileServer;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer, CrlDistributionPoint,
    DistinguishedName, DnType, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber,
};
use sigscope::trust::revocation::{RevocationMode, RevocationStatus, cached_crl_path, check_chain};
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
    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let root = CertifiedIssuer::self_signed(ca_params("Test Root", 1, None), root_key).unwrap();
    let intermediate = CertifiedIssuer::signed_by(
        ca_params("Test Intermediate", INTERMEDIATE_SERIAL, Some(server.url("/intermediate.crl"))),
        KeyPair::generate().unwrap(),
        &root,
    )
    .unwrap();
    let mut leaf = ca_params("build-bot", LEAF_SERIAL, leaf_has_cdp.then(|| server.url("/leaf.crl")));
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
    let now = OffsetDateTime::now_utc();
    let params = CertificateRevocationListParams {
        this_update: now - time::Duration::minutes(1),
        next_update: now + next_update,
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
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

fn online(cache: &Path) -> RevocationMode {
    RevocationMode::Online { cache_dir: cache.to_path_buf(), timeout: Duration::from_secs(5) }
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
    let server = FileServer { base: format!("http://{dead}"), files: Arc::default(), hits: Arc::default() };
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
    let server = FileServer {
        base: format!("http://{}", silent.local_addr().unwrap()),
        files: Arc::default(),
        hits: Arc::default(),
    };
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
