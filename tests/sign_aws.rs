//! `sigscope sign --aws-signer-profile` end to end, the binary as a user runs it, against the
//! stand-in AWS Signer of `tests/common/aws_signer_standin.rs` (no real Signer can run here; moto has no
//! SignPayload) through `AWS_ENDPOINT_URL_SIGNER`: a real JWS from a test chain laid out like
//! AWS Signer's comes back, is checked, and is stored in an OCI layout and on a real
//! docker-registry with the service's metadata among the manifest's annotations. Each way the
//! service can misbehave is refused with nothing stored.

mod common;

use std::path::{Path, PathBuf};

use aws_signer_standin::{ACCOUNT, Behaviour, PROFILE_VERSION, REGION, RevocationBehaviour, StandIn, profile_arn};
use base64::Engine as _;
use common::aws_signer_standin;
use common::cmd::{Bin, sigscope};
use common::tmux::{Tmux, have_tmux};
use common::{Server, guard, seed, test_options};
use sigscope::source::registry::RegistryClient;

const PROFILE: &str = "notation_test";

fn aws_env(bin: Bin, signer: &StandIn, dir: &Path) -> Bin {
    bin.env("AWS_ENDPOINT_URL_SIGNER", &signer.endpoint)
        .env("AWS_ENDPOINT_URL_SIGNER_DATA", &signer.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/sigscope-test-aws-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/sigscope-test-aws-credentials")
        .env("AWS_REGION", "")
        .env("AWS_PROFILE", "")
        .env("SIGSCOPE_CONFIG", dir.join("empty.toml"))
}

struct World {
    tmp: tempfile::TempDir,
    layout: String,
    signer: StandIn,
    dirs: std::sync::atomic::AtomicUsize,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        sigscope::demo::export(tmp.path()).unwrap();
        std::fs::write(tmp.path().join("empty.toml"), "").unwrap();
        let layout = tmp.path().join("layout").to_str().unwrap().to_string();
        World { tmp, layout, signer: StandIn::start(), dirs: Default::default() }
    }

    fn target(&self) -> String {
        format!("{}:unsigned", self.layout)
    }

    fn sign(&self, profile: &str, extra: &[&str]) -> (i32, String, String) {
        let mut bin = sigscope(&["sign", "--oci-layout", &self.target(), "--aws-signer-profile", profile]);
        for a in extra {
            bin = bin.arg(*a);
        }
        aws_env(bin, &self.signer, self.tmp.path()).output()
    }

    fn index(&self) -> Vec<u8> {
        std::fs::read(Path::new(&self.layout).join("index.json")).unwrap()
    }

    fn blob(&self, digest: &str) -> Vec<u8> {
        std::fs::read(Path::new(&self.layout).join("blobs/sha256").join(&digest[7..])).unwrap()
    }

    /// A Notation directory whose `signingAuthority` store holds the stand-in's root, with the
    /// profile ARN as the trusted identity, as AWS documents the policy.
    fn notation_dir(&self) -> PathBuf {
        self.notation_dir_with(&[&profile_arn(PROFILE)], "strict")
    }

    fn notation_dir_with(&self, identities: &[&str], level: &str) -> PathBuf {
        let nd =
            self.tmp.path().join(format!("notation-{}", self.dirs.fetch_add(1, std::sync::atomic::Ordering::SeqCst)));
        common::notary::write_store(&nd, "signingAuthority", "aws-signer-ts", &[self.signer.root()]);
        let policy = serde_json::json!({"version": "1.0", "trustPolicies": [{
            "name": "aws", "registryScopes": ["*"], "signatureVerification": {"level": level},
            "trustStores": ["signingAuthority:aws-signer-ts"], "trustedIdentities": identities}]});
        std::fs::write(nd.join("trustpolicy.oci.json"), policy.to_string()).unwrap();
        nd
    }

    fn verify(&self, notation_dir: &Path, extra: &[&str]) -> (i32, String, String) {
        let mut bin =
            sigscope(&["verify", "--oci-layout", &self.target(), "-o", "json"]).arg("--notation-dir").arg(notation_dir);
        for a in extra {
            bin = bin.arg(*a);
        }
        aws_env(bin, &self.signer, self.tmp.path()).output()
    }
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn a_layout_image_is_signed_through_the_profile_arn_with_the_metadata_stored() {
    let w = World::new();
    let (code, out, err) = w.sign(&profile_arn(PROFILE), &["-o", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("Always sign the artifact using digest"), "{err}");
    let v = json(&out);
    assert_eq!(v["envelopeType"], "application/jose+json");
    assert_eq!(v["signature"]["listedBy"], "layout-index");
    // What SignPayload was asked: the Notation payload of the manifest by digest, nothing else.
    let received = w.signer.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "/signing-jobs/with-payload");
    let body = &received[0].body;
    assert_eq!(body["profileName"], PROFILE);
    assert_eq!(body["profileOwner"], ACCOUNT);
    assert_eq!(body["payloadFormat"], "application/vnd.cncf.notary.payload.v1+json");
    let payload = base64::engine::general_purpose::STANDARD.decode(body["payload"].as_str().unwrap()).unwrap();
    let payload: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["targetArtifact"]["digest"], v["subject"]["digest"]);
    assert_eq!(payload["targetArtifact"].as_object().unwrap().len(), 3, "mediaType, digest, size: {payload}");
    let auth = received[0].authorization.as_deref().unwrap_or("");
    assert!(auth.contains(&format!("/{REGION}/signer/aws4_request")), "SigV4 for signer in the ARN's region: {auth}");
    // The signature manifest: the service's envelope byte for byte, its metadata as annotations.
    let manifest: serde_json::Value =
        serde_json::from_slice(&w.blob(v["signature"]["descriptor"]["digest"].as_str().unwrap())).unwrap();
    assert_eq!(manifest["artifactType"], "application/vnd.cncf.notary.signature");
    assert_eq!(manifest["subject"]["digest"], v["subject"]["digest"]);
    let ann = manifest["annotations"].as_object().unwrap();
    let version = format!("{}/{PROFILE_VERSION}", profile_arn(PROFILE));
    assert_eq!(ann["com.amazonaws.signer.signingProfileVersion"], version.as_str());
    assert!(ann["com.amazonaws.signer.signingJob"].as_str().unwrap().contains(":/signing-jobs/0c0f6c3e-test-job-"));
    let thumbs: Vec<String> =
        serde_json::from_str(ann["io.cncf.notary.x509chain.thumbprint#S256"].as_str().unwrap()).unwrap();
    assert_eq!(thumbs.len(), 4, "AWS Signer's four certificates");
    assert!(ann.contains_key("org.opencontainers.image.created"));
    assert_eq!(ann.len(), 4, "{ann:?}");
    let envelope = w.blob(manifest["layers"][0]["digest"].as_str().unwrap());
    let parsed = sigscope::notation::envelope::parse("application/jose+json", &envelope).unwrap();
    assert_eq!(parsed.plugin.as_deref(), Some(aws_signer_standin::PLUGIN));
    assert!(parsed.critical.iter().any(|c| c == "com.amazonaws.signer.signingJob"));
}

/// `sigscope verify` with the trust policy AWS documents: the built-in AWS Signer plugin
/// takes the signing-profile ARN as the identity and asks GetRevocationStatus exactly what the
/// upstream plugin asks.
#[test]
fn an_aws_signer_signature_verifies_natively_with_revocation_asked() {
    let w = World::new();
    let (code, out, err) = w.sign(&profile_arn(PROFILE), &[]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = w.verify(&w.notation_dir(), &[]);
    assert_eq!(code, 0, "{out}{err}");
    let v = json(&out);
    let text = v.to_string();
    assert!(text.contains("signingAuthority:aws-signer-ts"), "the store that anchored it: {text}");
    assert!(text.contains(&format!("which the trusted identity {} covers", profile_arn(PROFILE))), "{text}");
    assert!(text.contains("revokes none of"), "{text}");
    let queries = w.signer.revocation_queries();
    assert_eq!(queries.len(), 1, "one GetRevocationStatus per signature");
    let q = &queries[0];
    assert_eq!(q.method, "GET");
    let get = |k: &str| q.query.iter().filter(|(n, _)| n == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    assert_eq!(get("platformId"), ["Notation-OCI-SHA384-ECDSA"]);
    assert_eq!(get("profileVersionArn"), [format!("{}/{PROFILE_VERSION}", profile_arn(PROFILE))]);
    assert!(get("jobArn")[0].contains(":/signing-jobs/0c0f6c3e-test-job-"), "{:?}", get("jobArn"));
    let hashes = sigscope::notation::plugin::aws_signer::certificate_hashes(&w.signer.chain).unwrap();
    assert_eq!(get("certificateHashes"), hashes, "the plugin's hashes, leaf first");
    assert_eq!(hashes.len(), 4);
    let when = chrono::DateTime::parse_from_rfc3339(&get("signatureTimestamp")[0]).expect("an RFC 3339 time");
    assert!((chrono::Utc::now() - when.to_utc()).num_minutes().abs() < 10, "the signing time: {when}");
    let auth = q.authorization.as_deref().unwrap_or("");
    assert!(auth.contains(&format!("/{REGION}/signer/aws4_request")), "SigV4 in the ARN's region: {auth}");
}

/// Each entity AWS Signer can revoke fails the signature, and the failure names it.
#[test]
fn a_revoked_profile_version_job_or_certificate_fails_naming_it() {
    let w = World::new();
    let (code, out, err) = w.sign(&profile_arn(PROFILE), &[]);
    assert_eq!(code, 0, "{out}{err}");
    let nd = w.notation_dir();
    let hashes = sigscope::notation::plugin::aws_signer::certificate_hashes(&w.signer.chain).unwrap();
    let version = format!("{}/{PROFILE_VERSION}", profile_arn(PROFILE));
    let (_, _, _) = w.verify(&nd, &[]);
    let job = w.signer.revocation_queries()[0].query.iter().find(|(k, _)| k == "jobArn").unwrap().1.clone();
    for (entity, named) in [
        (version.clone(), format!("the signing profile version {version}")),
        (job.clone(), format!("signing job {job}")),
        (hashes[1].clone(), "certificate 2 of 4".to_string()),
    ] {
        w.signer.revoked.lock().unwrap().clear();
        w.signer.revoke(&entity);
        let (code, out, err) = w.verify(&nd, &[]);
        assert_eq!(code, 1, "{entity}: {out}{err}");
        assert!(out.contains("revoked by AWS Signer"), "{entity}: {out}");
        assert!(out.contains(&named), "{named}: {out}");
        assert!(out.contains("revocation"), "a revocation failure: {out}");
    }
    // An entity revoked that this signature does not involve changes nothing.
    w.signer.revoked.lock().unwrap().clear();
    w.signer.revoke(&format!("{}/OtherVersn", profile_arn(PROFILE)));
    let (code, out, err) = w.verify(&nd, &[]);
    assert_eq!(code, 0, "{out}{err}");
}

/// A revocation status that could not be learned is never "not revoked": strict fails it,
/// saying it was not checked and why; `--offline` does not call AWS at all.
#[test]
fn revocation_that_cannot_be_asked_is_not_checked_and_fails_strict() {
    let w = World::new();
    let (code, out, err) = w.sign(&profile_arn(PROFILE), &[]);
    assert_eq!(code, 0, "{out}{err}");
    let nd = w.notation_dir();
    for (behaviour, says) in [
        (RevocationBehaviour::AccessDenied, "signer:GetRevocationStatus"),
        (RevocationBehaviour::ServerError, "InternalServiceErrorException"),
        (RevocationBehaviour::Garbage, "not checked"),
    ] {
        *w.signer.revocation.lock().unwrap() = behaviour;
        let (code, out, err) = w.verify(&nd, &[]);
        assert_eq!(code, 1, "{behaviour:?}: {out}{err}");
        assert!(out.contains("not checked") && out.contains(says), "{behaviour:?}: {out}");
    }
    *w.signer.revocation.lock().unwrap() = RevocationBehaviour::Honest;
    let asked = w.signer.revocation_queries().len();
    let (code, out, err) = w.verify(&nd, &["--offline"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("not checked") && out.contains("--offline"), "{out}");
    assert_eq!(w.signer.revocation_queries().len(), asked, "--offline asked AWS");
    // No credentials: not checked, and the reason says so.
    let bin = sigscope(&["verify", "--oci-layout", &w.target(), "-o", "json"]).arg("--notation-dir").arg(&nd);
    let (code, out, err) =
        aws_env(bin, &w.signer, w.tmp.path()).env("AWS_ACCESS_KEY_ID", "").env("AWS_SECRET_ACCESS_KEY", "").output();
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("not checked") && out.to_lowercase().contains("credentials"), "{out}");
    assert_eq!(w.signer.revocation_queries().len(), asked, "asked without credentials");
    // Under a level that only logs revocation, the same signature passes with the warning kept.
    let permissive = w.notation_dir_with(&[profile_arn(PROFILE).as_str()], "permissive");
    let (code, out, err) = w.verify(&permissive, &["--offline"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("not checked"), "the logged revocation says what was not done: {out}");
}

/// Identities the plugin cannot vouch for: `*` is refused outright, an x509 subject alone
/// cannot match an AWS Signer signature, another profile does not cover this one.
#[test]
fn identities_other_than_this_profile_are_refused() {
    let w = World::new();
    let (code, out, err) = w.sign(&profile_arn(PROFILE), &[]);
    assert_eq!(code, 0, "{out}{err}");
    for (identities, says) in [
        (vec!["*"], "cannot be trusted for any identity"),
        // The leaf's own subject: the x509 check passes, the plugin still has no profile to match.
        (vec!["x509.subject: C=US, ST=WA, O=Sigscope Test, CN=AWS Signer"], "names no signing-profile ARN"),
        (vec![profile_arn("other_profile").as_str()], "none of the 1 trusted signing profiles covers"),
        (vec![format!("{}/OtherVersn", profile_arn(PROFILE)).as_str()], "none of the 1 trusted signing profiles"),
    ]
    .map(|(ids, says)| (ids.iter().map(|s| s.to_string()).collect::<Vec<_>>(), says))
    {
        let ids: Vec<&str> = identities.iter().map(String::as_str).collect();
        let nd = w.notation_dir_with(&ids, "strict");
        let (code, out, err) = w.verify(&nd, &[]);
        assert_eq!(code, 1, "{identities:?}: {out}{err}");
        assert!(out.contains(says), "{identities:?}: {out}");
    }
}

#[test]
fn a_profile_name_takes_the_region_flag_and_sends_no_owner() {
    let w = World::new();
    let (code, out, err) = w.sign(PROFILE, &["--region", REGION]);
    assert_eq!(code, 0, "{out}{err}");
    let received = w.signer.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert!(received[0].body.get("profileOwner").is_none(), "{:?}", received[0].body);
    // A region that contradicts the ARN's, and none at all, are usage errors before any request.
    let (code, _, err) = w.sign(&profile_arn(PROFILE), &["--region", "eu-west-1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("us-west-2") && err.contains("eu-west-1"), "{err}");
    let (code, _, err) = w.sign(PROFILE, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no AWS region"), "{err}");
    assert_eq!(w.signer.requests(), 1);
}

#[test]
fn every_misbehaviour_of_the_service_is_refused_and_nothing_is_stored() {
    let w = World::new();
    let before = w.index();
    let arn = profile_arn(PROFILE);
    for (behaviour, code, says) in [
        (Behaviour::OtherPayload, 3, "another payload"),
        (Behaviour::MissingJob, 3, "no signed attribute com.amazonaws.signer.signingJob"),
        (Behaviour::OtherProfile, 3, "another_profile"),
        (Behaviour::Garbage, 3, "the signature envelope the signer returned"),
        (Behaviour::AccessDenied, 3, "signer:SignPayload"),
        (Behaviour::ServerError, 3, "InternalServiceErrorException"),
        (Behaviour::Throttled, 3, "rate"),
    ] {
        w.signer.set(behaviour);
        let (got, out, err) = w.sign(&arn, &[]);
        assert_eq!(got, code, "{behaviour:?}: {out}{err}");
        assert!(err.to_lowercase().contains(&says.to_lowercase()), "{behaviour:?}: {err}");
        assert!(!err.contains("Successfully"), "{err}");
        assert_eq!(w.index(), before, "{behaviour:?}: nothing stored");
    }
    assert!(w.signer.requests() >= 9, "throttling and 500 were retried by the SDK: {}", w.signer.requests());
    w.signer.set(Behaviour::Honest);
    let (code, _, err) = w.sign(&profile_arn("missing_profile"), &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("ResourceNotFoundException") && err.contains("missing_profile"), "{err}");
    assert_eq!(w.index(), before);
}

#[test]
fn usage_errors_come_before_any_request() {
    let w = World::new();
    let before = w.index();
    for (profile, extra, says) in [
        (
            "arn:aws:signer:us-west-2:123456789012:/signing-profiles/notation_test/IrwHQeF7XW",
            &[][..],
            "profile version",
        ),
        ("arn:aws:signer:us-west-2:12345:/signing-profiles/notation_test", &[][..], "12 digits"),
        ("not-a-name", &[][..], "2 to 64"),
        (PROFILE, &["--region", "us-west-2", "--envelope", "cose"][..], "JWS"),
    ] {
        let (code, _, err) = w.sign(profile, extra);
        assert_eq!(code, 2, "{profile}: {err}");
        assert!(err.contains(says), "{profile}: {err}");
    }
    // clap: the local key and the profile exclude each other; the profile sets the expiry.
    let (code, _, err) = w.sign(PROFILE, &["--key", "k.pem", "--cert", "c.pem"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
    let (code, _, err) = w.sign(PROFILE, &["--expiry", "1d"]);
    assert_eq!(code, 2, "{err}");
    // No credentials at all: a sentence that says how to give them.
    let bin = sigscope(&["sign", "--oci-layout", &w.target(), "--aws-signer-profile", &profile_arn(PROFILE)]);
    let (code, _, err) =
        aws_env(bin, &w.signer, w.tmp.path()).env("AWS_ACCESS_KEY_ID", "").env("AWS_SECRET_ACCESS_KEY", "").output();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no AWS credentials") && err.contains("AWS_ACCESS_KEY_ID"), "{err}");
    assert_eq!(w.signer.requests(), 0);
    assert_eq!(w.index(), before);
}

#[tokio::test]
async fn an_image_on_docker_registry_is_signed_through_the_tag_schema() {
    let server = Server::docker_registry();
    let w = World::new();
    let repo = "aws/app";
    let fx = guard(seed(&RegistryClient::new(&server.host, test_options()).unwrap(), repo)).await;
    let target = format!("{}/{repo}@{}", server.host, fx.image.digest);
    let signer = w.signer.clone();
    let dir = w.tmp.path().to_path_buf();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        let bin = sigscope(&["sign", &target, "-o", "json", "--aws-signer-profile", &profile_arn(PROFILE)]);
        aws_env(bin, &signer, &dir).output()
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("Always sign"), "by digest, no warning: {err}");
    let v = json(&out);
    assert_eq!(v["signature"]["listedBy"], "tag-schema");
    assert_eq!(v["subject"]["digest"], fx.image.digest.as_str());
    let client = RegistryClient::new(&server.host, test_options()).unwrap();
    let digest = v["signature"]["descriptor"]["digest"].as_str().unwrap();
    let scope = sigscope::source::registry::auth::Scope::Pull(repo.to_string());
    let (bytes, _, _) = client.get_manifest(repo, digest, scope).await.unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert!(
        manifest["annotations"]["com.amazonaws.signer.signingJob"].as_str().is_some(),
        "the metadata is stored on the registry: {manifest}"
    );
    // Verified from the registry with the profile ARN as the identity; then the profile is
    // revoked in the stand-in and the same signature fails revocation, naming it.
    let nd = w.notation_dir();
    let target = format!("{}/{repo}@{}", server.host, fx.image.digest);
    let verify = |signer: StandIn, dir: PathBuf, nd: PathBuf, target: String| {
        tokio::task::spawn_blocking(move || {
            let bin = sigscope(&["verify", &target, "-o", "json"]).arg("--notation-dir").arg(&nd);
            aws_env(bin, &signer, &dir).output()
        })
    };
    let (code, out, err) =
        verify(w.signer.clone(), w.tmp.path().to_path_buf(), nd.clone(), target.clone()).await.unwrap();
    assert_eq!(code, 0, "{out}{err}");
    let version = format!("{}/{PROFILE_VERSION}", profile_arn(PROFILE));
    w.signer.revoke(&version);
    let (code, out, err) = verify(w.signer.clone(), w.tmp.path().to_path_buf(), nd, target).await.unwrap();
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("revoked by AWS Signer") && out.contains(&version), "{out}");
}

/// The TUI's sign dialog through AWS Signer, the real binary in tmux: `[signing.aws_signer]`
/// lists the stand-in's Notation profiles (ListSigningProfiles) in the dialog, Enter signs the
/// image by digest through SignPayload, and the new signature is verified at once under the
/// trust policy AWS documents, its revocation asked of GetRevocationStatus.
#[test]
fn the_tui_signs_through_a_listed_aws_signer_profile_and_verifies_it() {
    assert!(have_tmux(), "tmux is needed for the real-terminal test: apt-get install tmux (scripts/test.sh does)");
    let w = World::new();
    let nd = w.notation_dir();
    let dir = w.tmp.path().display().to_string();
    std::fs::write(w.tmp.path().join("aws.toml"), "[signing.aws_signer]\nregion = \"us-west-2\"\n").unwrap();
    let ep = &w.signer.endpoint;
    let run = format!(
        "AWS_ENDPOINT_URL_SIGNER={ep} AWS_ENDPOINT_URL_SIGNER_DATA={ep} AWS_ACCESS_KEY_ID=test \
         AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true AWS_REGION= AWS_PROFILE= \
         AWS_CONFIG_FILE=/nonexistent/c AWS_SHARED_CREDENTIALS_FILE=/nonexistent/s SIGSCOPE_CONFIG={dir}/aws.toml \
         XDG_DATA_HOME={dir}/data XDG_CACHE_HOME={dir}/cache {} --oci-layout {} --notation-dir {}",
        env!("CARGO_BIN_EXE_sigscope"),
        w.layout,
        nd.display()
    );
    let t = Tmux::start_sized("aws-sign", &run, 100, 30);
    let row = |s: &str, needle: &str| s.lines().find(|l| l.contains(needle)).unwrap_or_default().to_string();
    t.wait_until("the unsigned tag", |s| row(s, "tag unsigned").contains("- "));
    while !row(&t.screen(), "tag unsigned").contains("┃>") {
        t.keys(&["j"]);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    t.keys(&["s"]);
    let dialog = t.wait_until("the profiles listed", |s| s.contains("active Notation profile(s) in us-west-2"));
    assert!(dialog.contains("Sign this manifest?"), "{dialog}");
    assert!(dialog.contains("notation_test: AWS Signer profile"), "the profile offered: {dialog}");
    assert!(dialog.contains(&profile_arn(PROFILE)), "by its ARN: {dialog}");
    assert!(dialog.contains("notation_test"), "{dialog}");
    let listed = w.signer.received.lock().unwrap().iter().filter(|r| r.path == "/signing-profiles").count();
    assert_eq!(listed, 1, "one ListSigningProfiles");
    // COSE is not AWS Signer's: the dialog says so and stays.
    t.keys(&["e"]);
    t.wait_for("AWS Signer returns JWS envelopes only");
    t.keys(&["y"]);
    let screen = t.wait_until("the image verified with its AWS Signer signature under it", |s| {
        let image = row(s, "image sha256:f83fbe2db5ab");
        image.contains("✓") && image.contains("verified") && row(s, "Notation signature").contains("✓ Notation")
    });
    let signed = w.signer.received.lock().unwrap().iter().filter(|r| r.path == "/signing-jobs/with-payload").count();
    assert_eq!(signed, 1, "one SignPayload:\n{screen}");
    assert!(!w.signer.revocation_queries().is_empty(), "revocation was asked when it was verified");
    // The profile is revoked: refreshing the image verifies it again, and it says so.
    w.signer.revoke(&format!("{}/{PROFILE_VERSION}", profile_arn(PROFILE)));
    while !row(&t.screen(), "image sha256:f83fbe2db5ab").contains("┃>") {
        t.keys(&["j"]);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    t.keys(&["r"]);
    t.wait_until("the image failing revocation", |s| {
        let image = row(s, "image sha256:f83fbe2db5ab");
        image.contains("✗") && image.contains("failed: revoc")
    });
    t.keys(&["q"]);
}

/// `--ca-file` and `--deadline` reach the AWS calls as they reach the registry's: an endpoint
/// behind a private CA is trusted only with it, and a call that outlasts the deadline is cut
/// (revocation "not checked", failing strict) instead of holding `verify` up.
#[test]
fn ca_file_and_deadline_reach_the_aws_calls() {
    let tls = Server::docker_registry_tls();
    let w = World::new();
    let (code, out, err) = w.sign(&profile_arn(PROFILE), &[]);
    assert_eq!(code, 0, "{out}{err}");
    let nd = w.notation_dir();
    // docker-registry speaks TLS with a private CA and knows no /revocations: with the CA the
    // call gets as far as an HTTP answer, without it TLS refuses the server.
    let endpoint = format!("https://127.0.0.1:{}", tls.addr.port());
    let ca = tls.dir.path().join("ca.pem");
    let verify = |extra: &[&str]| {
        let mut bin = sigscope(&["verify", "--oci-layout", &w.target(), "-o", "json"]).arg("--notation-dir").arg(&nd);
        for a in extra {
            bin = bin.arg(*a);
        }
        aws_env(bin, &w.signer, w.tmp.path()).env("AWS_ENDPOINT_URL_SIGNER_DATA", &endpoint).output()
    };
    let (code, untrusted, err) = verify(&[]);
    assert_eq!(code, 1, "{untrusted}{err}");
    assert!(untrusted.contains("not checked"), "{untrusted}");
    assert!(untrusted.contains("UnknownIssuer"), "without the CA, TLS refuses the server: {untrusted}");
    assert!(!untrusted.contains("HTTP 404"), "{untrusted}");
    let (code, trusted, err) = verify(&["--ca-file", ca.to_str().unwrap()]);
    assert_eq!(code, 1, "{trusted}{err}");
    assert!(
        trusted.contains("not checked") && trusted.contains("HTTP 404"),
        "with the CA, the server's answer: {trusted}"
    );
    // A --ca-file that is no certificate is a usage error before anything is asked.
    let (code, _, err) = verify(&["--ca-file", w.tmp.path().join("empty.toml").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no PEM certificates"), "{err}");

    *w.signer.revocation.lock().unwrap() = RevocationBehaviour::Slow;
    let (code, out, err) = w.verify(&nd, &["--deadline", "2"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("not checked") && out.contains("GetRevocationStatus in us-west-2 timed out"), "{out}");
}
