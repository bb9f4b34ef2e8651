//! Revocation inside the verification workflow: a leaf with a CRL distribution point, its
//! CRL served by a stand-in CA web server, and the statement's revocation action deciding
//! what a revoked or unknown status does (enforce at strict, log at permissive, skip).

mod common;

use std::path::Path;
use std::process::Command;

use chrono::Utc;
use common::fileserver::{FileServer, online};
use common::layout::put_descriptor;
use common::notary::*;
use rcgen::{
    CertificateRevocationListParams, CrlDistributionPoint, CrlIssuingDistributionPoint, CrlScope, KeyIdMethod,
    RevokedCertParams, SerialNumber,
};
use sigscope::notation::policy::TrustPolicy;
use sigscope::notation::revocation::RevocationMode;
use sigscope::notation::verifier::{CheckKind, Outcome, SignatureReport, SignatureVerdict, Verifier};
use sigscope::oci::Descriptor;
use time::OffsetDateTime;

const LEAF_SERIAL: u64 = 0x51;

struct World {
    server: FileServer,
    root: Ca,
    signer: Signer,
    dir: tempfile::TempDir,
    image: Descriptor,
}

fn world() -> World {
    world_with(&[&["/leaf.crl"]])
}

/// The leaf with one CRL distribution point per entry of `leaf_dps`, naming those paths.
fn world_with(leaf_dps: &[&[&str]]) -> World {
    let server = FileServer::start();
    let mut root_params = ca_params("Revocation Root", 1);
    root_params.not_before = OffsetDateTime::now_utc() - time::Duration::days(30);
    root_params.not_after = OffsetDateTime::now_utc() + time::Duration::days(3650);
    let root = Ca::root_with(root_params, SignKey::p256(101));
    let mut leaf = leaf_params("revocable signer", LEAF_SERIAL);
    leaf.not_before = OffsetDateTime::now_utc() - time::Duration::days(1);
    leaf.not_after = OffsetDateTime::now_utc() + time::Duration::days(30);
    leaf.crl_distribution_points = leaf_dps
        .iter()
        .map(|paths| CrlDistributionPoint { uris: paths.iter().map(|p| server.url(p)).collect() })
        .collect();
    let key = SignKey::p256(102);
    let leaf_der = root.issue(&leaf, &key);
    let signer = Signer { key, chain: vec![leaf_der, root.der.clone()] };
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path(), "ca", "rev", &[&root.der]);
    let image = Descriptor {
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        digest: format!("sha256:{}", "ab".repeat(32)),
        size: 1234,
        ..Default::default()
    };
    World { server, root, signer, dir, image }
}

impl World {
    fn crl(&self, revoked: bool) -> Vec<u8> {
        self.crl_scoped(revoked, None)
    }

    fn crl_scoped(&self, revoked: bool, issuing_distribution_point: Option<CrlIssuingDistributionPoint>) -> Vec<u8> {
        let now = OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now - time::Duration::minutes(1),
            next_update: now + time::Duration::days(1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point,
            revoked_certs: revoked
                .then(|| RevokedCertParams {
                    serial_number: SerialNumber::from(LEAF_SERIAL),
                    revocation_time: now - time::Duration::minutes(1),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .into_iter()
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&self.root.issuer).unwrap().der().to_vec()
    }

    fn verify(&self, level: &str, revocation: Option<&str>, mode: RevocationMode) -> SignatureReport {
        let mut sv = serde_json::json!({"level": level});
        if let Some(action) = revocation {
            sv["override"] = serde_json::json!({"revocation": action});
        }
        let policy = serde_json::json!({"version": "1.0", "trustPolicies": [{
            "name": "rev", "registryScopes": ["*"], "signatureVerification": sv,
            "trustStores": ["ca:rev"], "trustedIdentities": ["*"]}]});
        let policy = TrustPolicy::parse(&policy.to_string()).unwrap();
        let statement = policy.statements[0].clone();
        let verifier = Verifier::new(policy, self.dir.path(), mode);
        let envelope = jws(&self.signer, &self.image, &Attrs::x509(Utc::now(), None)).bytes();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(verifier.verify_signature(&statement, &self.image, "application/jose+json", &envelope, Utc::now()))
    }
}

fn revocation_row(r: &SignatureReport) -> (Outcome, String) {
    let c = r.check(CheckKind::Revocation).unwrap();
    (c.outcome, c.reason.clone())
}

#[test]
fn good_crl_verifies_and_is_cached_for_offline_use() {
    let w = world();
    w.server.put("/leaf.crl", w.crl(false));
    let cache = tempfile::tempdir().unwrap();
    let r = w.verify("strict", None, online(cache.path()));
    assert_eq!(r.verdict, SignatureVerdict::Verified, "{:#?}", r.checks);
    assert_eq!(revocation_row(&r).0, Outcome::Pass);
    assert_eq!(w.server.hits("/leaf.crl"), 1);
    // Offline, the cached CRL answers; the server is not asked again.
    let r = w.verify("strict", None, RevocationMode::Offline { cache_dir: cache.path().to_path_buf() });
    assert_eq!(r.verdict, SignatureVerdict::Verified, "{:#?}", r.checks);
    assert_eq!(w.server.hits("/leaf.crl"), 1);
}

#[test]
fn revoked_leaf_fails_at_strict_and_warns_at_permissive() {
    let w = world();
    w.server.put("/leaf.crl", w.crl(true));
    let cache = tempfile::tempdir().unwrap();
    let r = w.verify("strict", None, online(cache.path()));
    let (outcome, reason) = revocation_row(&r);
    assert_eq!(outcome, Outcome::FailEnforced);
    assert!(reason.contains("revocable signer") && reason.contains("is revoked"), "{reason}");
    assert!(matches!(r.verdict, SignatureVerdict::Failed { check: CheckKind::Revocation, .. }));

    let r = w.verify("permissive", None, online(cache.path()));
    assert_eq!(revocation_row(&r).0, Outcome::FailLogged);
    assert_eq!(r.verdict, SignatureVerdict::VerifiedWithWarnings);

    // An override to enforce makes permissive fail; skip does not look at all.
    let r = w.verify("permissive", Some("enforce"), online(cache.path()));
    assert!(matches!(r.verdict, SignatureVerdict::Failed { check: CheckKind::Revocation, .. }));
    let hits = w.server.hits("/leaf.crl");
    let r = w.verify("strict", Some("skip"), online(cache.path()));
    assert_eq!(r.verdict, SignatureVerdict::Verified, "{:#?}", r.checks);
    assert_eq!(revocation_row(&r).0, Outcome::Skipped);
    assert_eq!(w.server.hits("/leaf.crl"), hits, "skip must not fetch");
}

#[test]
fn unknown_status_is_a_failure_of_the_revocation_check() {
    let w = world();
    // Nothing served (404), and offline with an empty cache: the status cannot be known.
    let cache = tempfile::tempdir().unwrap();
    for mode in [online(cache.path()), RevocationMode::Offline { cache_dir: cache.path().to_path_buf() }] {
        let r = w.verify("strict", None, mode.clone());
        let (outcome, reason) = revocation_row(&r);
        assert_eq!(outcome, Outcome::FailEnforced, "{mode:?}");
        assert!(reason.contains("revocation status is unknown"), "{reason}");
        let r = w.verify("audit", None, mode);
        assert_eq!(r.verdict, SignatureVerdict::VerifiedWithWarnings);
    }
}

/// Issue 7, item 2: the second distribution point's CRL says revoked, the first's says good.
#[test]
fn revoked_on_the_second_distribution_point_fails() {
    let w = world_with(&[&["/leaf.crl"], &["/leaf2.crl"]]);
    w.server.put("/leaf.crl", w.crl(false));
    w.server.put("/leaf2.crl", w.crl(true));
    let cache = tempfile::tempdir().unwrap();
    let r = w.verify("strict", None, online(cache.path()));
    let (outcome, reason) = revocation_row(&r);
    assert_eq!(outcome, Outcome::FailEnforced, "{:#?}", r.checks);
    assert!(reason.contains("is revoked") && reason.contains("/leaf2.crl"), "{reason}");
    assert!(matches!(r.verdict, SignatureVerdict::Failed { check: CheckKind::Revocation, .. }));
}

/// Issue 7, item 3: the CA's CA-only CRL answers at the leaf's URL.
#[test]
fn ca_only_crl_at_the_leafs_url_fails_as_unknown() {
    let w = world();
    let ca_only = CrlIssuingDistributionPoint {
        distribution_point: CrlDistributionPoint { uris: vec![w.server.url("/leaf.crl")] },
        scope: Some(CrlScope::CaCertsOnly),
    };
    w.server.put("/leaf.crl", w.crl_scoped(false, Some(ca_only)));
    let cache = tempfile::tempdir().unwrap();
    let r = w.verify("strict", None, online(cache.path()));
    let (outcome, reason) = revocation_row(&r);
    assert_eq!(outcome, Outcome::FailEnforced, "{:#?}", r.checks);
    assert!(reason.contains("revocation status is unknown") && reason.contains("only CA certificates"), "{reason}");
}

// --- The real binary on an OCI layout -------------------------------------------------

/// An OCI layout holding one image tagged `v1` and `w`'s JWS signature of it (listed in
/// index.json without a tag, as notation stores signatures in layouts), and a notation
/// directory trusting `w`'s root at `level`.
fn layout_and_notation(w: &World, dir: &Path, level: &str) -> (String, std::path::PathBuf) {
    let layout = dir.join("layout");
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    std::fs::write(layout.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let config = put_descriptor(&layout, "application/vnd.oci.image.config.v1+json", b"{}");
    let empty = put_descriptor(&layout, "application/vnd.oci.empty.v1+json", b"{}");
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config, "layers": []});
    let image =
        put_descriptor(&layout, "application/vnd.oci.image.manifest.v1+json", &serde_json::to_vec(&manifest).unwrap());
    let envelope = jws(&w.signer, &image, &Attrs::x509(Utc::now(), None)).bytes();
    let layer = put_descriptor(&layout, "application/jose+json", &envelope);
    let signature = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cncf.notary.signature", "config": empty, "layers": [layer],
        "subject": image});
    let mut sig =
        put_descriptor(&layout, "application/vnd.oci.image.manifest.v1+json", &serde_json::to_vec(&signature).unwrap());
    sig.artifact_type = Some("application/vnd.cncf.notary.signature".into());
    let mut tagged = image.clone();
    tagged.annotations.insert("org.opencontainers.image.ref.name".into(), "v1".into());
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [tagged, sig]});
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();

    let notation = dir.join("notation");
    write_store(&notation, "ca", "rev", &[&w.root.der]);
    let policy = serde_json::json!({"version": "1.0", "trustPolicies": [{
        "name": "rev", "registryScopes": ["*"], "signatureVerification": {"level": level},
        "trustStores": ["ca:rev"], "trustedIdentities": ["*"]}]});
    std::fs::write(notation.join("trustpolicy.oci.json"), policy.to_string()).unwrap();
    (format!("{}:v1", layout.display()), notation)
}

fn sigscope_verify(target: &str, notation: &Path, cache_home: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sigscope"))
        .args(["verify", "--oci-layout", target, "--notation-dir", notation.to_str().unwrap()])
        .env("DOCKER_CONFIG", "/nonexistent/sigscope-test-docker-config")
        .env("XDG_CACHE_HOME", cache_home)
        .output()
        .expect("run sigscope");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn cli_revoked_on_the_second_distribution_point_is_not_verified() {
    let w = world_with(&[&["/leaf.crl"], &["/leaf2.crl"]]);
    let dir = tempfile::tempdir().unwrap();
    let (target, notation) = layout_and_notation(&w, dir.path(), "strict");
    let cache_home = tempfile::tempdir().unwrap();

    // Both points good: verified, so the layout and policy are sound.
    w.server.put("/leaf.crl", w.crl(false));
    w.server.put("/leaf2.crl", w.crl(false));
    let (code, out, err) = sigscope_verify(&target, &notation, cache_home.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("Successfully verified"), "{out}");

    // The second point now says revoked (a fresh cache, as a new CRL would be fetched).
    w.server.put("/leaf2.crl", w.crl(true));
    let cache_home = tempfile::tempdir().unwrap();
    let (code, out, err) = sigscope_verify(&target, &notation, cache_home.path());
    assert_eq!(code, 1, "{out}{err}");
    assert!(!out.contains("Successfully verified"), "{out}");
    assert!(err.contains("revoked") && err.contains("/leaf2.crl"), "{err}");
}
