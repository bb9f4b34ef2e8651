//! `sigscope sign` end to end, the binary as a user runs it: keys and chains made by the openssl
//! CLI, signatures stored on a real docker-registry (tag schema), on ferro-oci-server (referrers
//! API) and in an OCI layout, then checked by `sigscope verify` with the signing root trusted
//! (verified) and with another root (authenticity fails). Refusals store nothing. Timestamps
//! come from OpenSSL's TSA (`openssl ts -reply`) behind a loopback handler.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use common::cmd::sigscope;
use common::tsa::{Behaviour, Tsa};
use common::{Server, guard, seed, test_options};
use sigscope::notation::policy::TrustPolicy;
use sigscope::notation::revocation::RevocationMode;
use sigscope::notation::truststore::{MemoryStores, TrustStores};
use sigscope::notation::verifier::{CheckKind, SignatureInput, Verdict, Verifier, VerifierOptions};
use sigscope::oci::Descriptor;
use sigscope::source::registry::RegistryClient;

/// A root CA and a code-signing leaf issued by it, made by openssl.
struct Pki {
    dir: tempfile::TempDir,
}

const EXTENSIONS: &str = "[ca_ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
    [leaf_ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n\
    [noeku_ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n\
    [nods_ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,nonRepudiation\nextendedKeyUsage=codeSigning\n";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (apt-get install openssl)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `newkey` as openssl's -newkey takes it with its options: `ec:P-256`, `rsa:3072`.
fn keygen(dir: &Path, name: &str, kind: &str) {
    let (alg, opt) = kind.split_once(':').unwrap();
    let opt = if alg == "ec" { format!("ec_paramgen_curve:{opt}") } else { format!("rsa_keygen_bits:{opt}") };
    openssl(dir, &["genpkey", "-algorithm", alg, "-pkeyopt", &opt, "-out", &format!("{name}.key")]);
}

impl Pki {
    fn new(root: &str, leaf_key: &str) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("ext.cnf"), EXTENSIONS).unwrap();
        keygen(d, "ca", "ec:P-256");
        openssl(d, &["req", "-new", "-key", "ca.key", "-subj", &format!("/CN={root}/O=Test"), "-out", "ca.csr"]);
        openssl(
            d,
            &["x509", "-req", "-in", "ca.csr", "-signkey", "ca.key", "-days", "30", "-extfile", "ext.cnf"]
                .into_iter()
                .chain(["-extensions", "ca_ext", "-out", "ca.pem"])
                .collect::<Vec<_>>(),
        );
        keygen(d, "leaf", leaf_key);
        // An empty config file: the runs must not read the user's.
        std::fs::write(d.join("empty.toml"), "").unwrap();
        let pki = Pki { dir };
        pki.issue("leaf", "leaf_ext", "chain.pem");
        pki
    }

    /// A leaf certificate for `leaf.key` with the extensions `ext`, and `chain` = leaf + root.
    fn issue(&self, key: &str, ext: &str, chain: &str) {
        let d = self.dir.path();
        openssl(d, &["req", "-new", "-key", &format!("{key}.key"), "-subj", "/CN=builder/O=Test", "-out", "leaf.csr"]);
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "10",
                "-extfile",
                "ext.cnf",
                "-extensions",
                ext,
                "-out",
                "leaf.pem",
            ],
        );
        let text =
            std::fs::read_to_string(d.join("leaf.pem")).unwrap() + &std::fs::read_to_string(d.join("ca.pem")).unwrap();
        std::fs::write(d.join(chain), text).unwrap();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A Notation directory trusting this root for every scope, at strict.
    fn notation_dir(&self) -> PathBuf {
        let nd = self.dir.path().join("notation");
        let store = nd.join("truststore/x509/ca/test");
        std::fs::create_dir_all(&store).unwrap();
        std::fs::copy(self.path("ca.pem"), store.join("ca.pem")).unwrap();
        let policy = serde_json::json!({"version": "1.0", "trustPolicies": [{
            "name": "all", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:test"], "trustedIdentities": ["*"]}]});
        std::fs::write(nd.join("trustpolicy.oci.json"), policy.to_string()).unwrap();
        nd
    }
}

fn sign(pki: &Pki, target: &[&str], extra: &[&str]) -> (i32, String, String) {
    let key = pki.path("leaf.key");
    let cert = pki.path("chain.pem");
    let mut args = vec!["sign"];
    args.extend_from_slice(target);
    let (key, cert) = (key.to_str().unwrap().to_string(), cert.to_str().unwrap().to_string());
    let mut bin = sigscope(&args).arg("--key").arg(&key).arg("--cert").arg(&cert);
    for a in extra {
        bin = bin.arg(*a);
    }
    bin.env("SIGSCOPE_CONFIG", pki.path("empty.toml")).output()
}

fn verify(notation: &Path, target: &[&str]) -> (i32, String, String) {
    let mut args = vec!["verify"];
    args.extend_from_slice(target);
    sigscope(&args).arg("--notation-dir").arg(notation).output()
}

fn demo_layout() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    sigscope::demo::export(tmp.path()).unwrap();
    let layout = tmp.path().join("layout").to_str().unwrap().to_string();
    (tmp, layout)
}

#[test]
fn signing_a_layout_image_with_each_envelope_verifies_with_its_root_and_fails_with_another() {
    let pki = Pki::new("Sign Root", "ec:P-256");
    let other = Pki::new("Other Root", "ec:P-256");
    let (_tmp, layout) = demo_layout();
    let target = format!("{layout}:unsigned");
    let (code, _, err) = verify(&pki.notation_dir(), &["--oci-layout", &target]);
    assert_eq!(code, 1, "unsigned before: {err}");
    for envelope in ["jws", "cose"] {
        let (code, out, err) = sign(&pki, &["--oci-layout", &target], &["--envelope", envelope, "-o", "json"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(err.contains("Always sign the artifact using digest"), "notation's tag warning: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let want = if envelope == "jws" { "application/jose+json" } else { "application/cose" };
        assert_eq!(v["envelopeType"], want, "{out}");
        assert_eq!(v["signature"]["listedBy"], "layout-index", "{out}");
        assert_eq!(v["signature"]["descriptor"]["artifactType"], "application/vnd.cncf.notary.signature");
    }
    let (code, out, err) = verify(&pki.notation_dir(), &["--oci-layout", &target, "-o", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sigs = report["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "both signatures found: {out}");
    let (code, out, err) = verify(&other.notation_dir(), &["--oci-layout", &target]);
    assert_eq!(code, 1, "another root does not verify: {out}{err}");
    assert!(out.contains("authenticity"), "{out}");
    // The demo's own signed image keeps its signatures.
    let (code, out, _) = sigscope(&["verify", "--oci-layout", &format!("{layout}:signed")])
        .arg("--notation-dir")
        .arg(Path::new(&layout).parent().unwrap().join("notation"))
        .output();
    assert_eq!(code, 0, "{out}");
}

#[test]
fn refusals_store_nothing_and_say_why() {
    let pki = Pki::new("Sign Root", "ec:P-384");
    let (_tmp, layout) = demo_layout();
    let target = format!("{layout}:unsigned");
    let index = || std::fs::read(Path::new(&layout).join("index.json")).unwrap();
    let before = index();

    // A leaf whose extended key usage is for TLS servers, not code signing.
    pki.issue("leaf", "noeku_ext", "noeku.pem");
    let run = |key: &str, cert: &str, extra: &[&str]| {
        let mut bin = sigscope(&["sign", "--oci-layout", &target])
            .arg("--key")
            .arg(pki.path(key))
            .arg("--cert")
            .arg(pki.path(cert));
        for a in extra {
            bin = bin.arg(*a);
        }
        bin.env("SIGSCOPE_CONFIG", pki.path("empty.toml")).output()
    };
    let (code, _, err) = run("leaf.key", "noeku.pem", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("extended key usage") && err.contains("ServerAuth"), "{err}");
    // A code-signing leaf whose key usage lacks digitalSignature (notation's signer refuses it).
    pki.issue("leaf", "nods_ext", "nods.pem");
    let (code, _, err) = run("leaf.key", "nods.pem", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.to_lowercase().contains("digital") && err.contains("key usage"), "{err}");
    // The root's key with the leaf's chain: the key does not match the signing certificate.
    let (code, _, err) = run("ca.key", "chain.pem", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not match"), "{err}");
    // A missing key file.
    let (code, _, err) = run("missing.key", "chain.pem", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("missing.key"), "{err}");
    // --read-only, after the subcommand and before it.
    let (code, _, err) = run("leaf.key", "chain.pem", &["--read-only"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--read-only"), "{err}");
    let (code, _, err) = sigscope(&["--read-only", "sign", "--oci-layout", &target])
        .arg("--key")
        .arg(pki.path("leaf.key"))
        .arg("--cert")
        .arg(pki.path("chain.pem"))
        .output();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("read-only"), "{err}");
    // read_only = true in the config file, and a config file that does not parse.
    let cfg = pki.path("config.toml");
    for (text, says) in [("read_only = true\n", "read_only"), ("read_only = [\n", "config.toml")] {
        std::fs::write(&cfg, text).unwrap();
        let (code, _, err) = sigscope(&["sign", "--oci-layout", &target])
            .arg("--key")
            .arg(pki.path("leaf.key"))
            .arg("--cert")
            .arg(pki.path("chain.pem"))
            .env("SIGSCOPE_CONFIG", &cfg)
            .output();
        assert_eq!(code, 2, "{text}: {err}");
        assert!(err.contains(says), "{err}");
    }
    // A tag that is not there.
    let (code, _, err) = sign(&pki, &["--oci-layout", &format!("{layout}:nope")], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nope"), "{err}");
    // A bad duration.
    let (code, _, err) = run("leaf.key", "chain.pem", &["--expiry", "soon"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(index(), before, "nothing was stored by any refusal");
}

#[tokio::test]
async fn signing_on_registries_with_and_without_the_referrers_api() {
    let pki = Pki::new("Sign Root", "rsa:3072");
    for (server, listed) in [(Server::docker_registry(), "tag-schema"), (Server::ferro(), "referrers-api")] {
        let repo = "demo/app";
        let fx = guard(seed(&RegistryClient::new(&server.host, test_options()).unwrap(), repo)).await;
        let target = format!("{}/{repo}:v1", server.host);
        let nd = pki.notation_dir();
        let (p, t, c) = (pki.path("leaf.key"), pki.path("chain.pem"), pki.path("empty.toml"));
        let signed = tokio::task::spawn_blocking(move || {
            let out = sigscope(&["sign", &target, "-o", "json", "--expiry", "7d"])
                .arg("--key")
                .arg(p)
                .arg("--cert")
                .arg(t)
                .env("SIGSCOPE_CONFIG", c)
                .output();
            let verified = sigscope(&["verify", &target, "-o", "json"]).arg("--notation-dir").arg(nd).output();
            (out, verified)
        })
        .await
        .unwrap();
        let ((code, out, err), (vcode, vout, verr)) = signed;
        assert_eq!(code, 0, "{}: {out}{err}", server.host);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["signature"]["listedBy"], listed, "{out}");
        assert_eq!(v["subject"]["digest"], fx.image.digest.as_str(), "the tag's digest is what was signed");
        assert_eq!(vcode, 0, "{vout}{verr}");
        let report: serde_json::Value = serde_json::from_str(&vout).unwrap();
        // The fixture's own signature (another signer) is still listed beside the new one.
        let sigs = report["signatures"].as_array().unwrap();
        assert!(sigs.len() >= 2, "the earlier signature is still there: {vout}");
        assert!(sigs.iter().any(|s| s["digest"] == v["signature"]["descriptor"]["digest"]), "{vout}");
    }
}

// --- RFC 3161 timestamps from OpenSSL's TSA (tests/common/tsa.rs) ---

/// The envelope of the signature `sign -o json` reported, read from the layout's blobs.
fn stored_envelope(layout: &str, signed: &serde_json::Value) -> Vec<u8> {
    let blob = |digest: &str| std::fs::read(Path::new(layout).join("blobs/sha256").join(&digest[7..])).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&blob(signed["signature"]["descriptor"]["digest"].as_str().unwrap())).unwrap();
    blob(manifest["layers"][0]["digest"].as_str().unwrap())
}

/// The library verifier at a pinned `now`, trusting the signing root (`ca:test`) and the TSA's
/// root (`tsa:test`) at strict.
fn verdict_at(
    pki: &Pki,
    tsa: &Tsa,
    signed: &serde_json::Value,
    envelope: Vec<u8>,
    now: DateTime<Utc>,
) -> (Verdict, String) {
    let mut stores = MemoryStores::new();
    stores.add("ca:test", &std::fs::read(pki.path("ca.pem")).unwrap()).unwrap();
    stores.add("tsa:test", &std::fs::read(tsa.root_pem()).unwrap()).unwrap();
    let stores: Arc<dyn TrustStores> = Arc::new(stores);
    let policy = r#"{"version": "1.0", "trustPolicies": [{"name": "all", "registryScopes": ["*"],
      "signatureVerification": {"level": "strict"}, "trustStores": ["ca:test", "tsa:test"], "trustedIdentities": ["*"]}]}"#;
    let cache = tempfile::tempdir().unwrap();
    let options = VerifierOptions::new(RevocationMode::Offline { cache_dir: cache.path().to_path_buf() });
    let verifier = Verifier::with_options(TrustPolicy::parse(policy).unwrap(), stores, options);
    let subject: Descriptor = serde_json::from_value(signed["subject"].clone()).unwrap();
    let media_type = signed["envelopeType"].as_str().unwrap().to_string();
    let input = SignatureInput { digest: format!("sha256:{}", "d".repeat(64)), media_type, envelope: Ok(envelope) };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let report = rt.block_on(verifier.verify_artifact("example.com/app", &subject, &[input], now));
    (report.verdict.clone(), report.render_text())
}

#[test]
fn a_timestamped_signature_verifies_after_its_leaf_expired_and_one_without_does_not() {
    let pki = Pki::new("Sign Root", "ec:P-256");
    let tsa = Tsa::start();
    let (_tmp, layout) = demo_layout();
    let target = format!("{layout}:unsigned");
    let root = tsa.root_pem();
    let stamp = ["--timestamp-url", &tsa.url, "--timestamp-root-cert", root.to_str().unwrap()];
    // The leaf is valid for 10 days; 15 days from now only the timestamp can vouch for it.
    let later = Utc::now() + chrono::Duration::days(15);
    for envelope in ["jws", "cose"] {
        let (code, out, err) =
            sign(&pki, &["--oci-layout", &target], &[&["--envelope", envelope, "-o", "json"][..], &stamp].concat());
        assert_eq!(code, 0, "{out}{err}");
        let signed: serde_json::Value = serde_json::from_str(&out).unwrap();
        let env = stored_envelope(&layout, &signed);
        let parsed = sigscope::notation::envelope::parse(signed["envelopeType"].as_str().unwrap(), &env).unwrap();
        assert!(parsed.timestamp_token.is_some(), "{envelope}: the token is in the envelope");
        let (v, text) = verdict_at(&pki, &tsa, &signed, env.clone(), Utc::now());
        assert_eq!(v, Verdict::Verified, "{envelope} now:\n{text}");
        assert!(text.contains("Test TSA"), "the report names the TSA:\n{text}");
        let (v, text) = verdict_at(&pki, &tsa, &signed, env, later);
        assert_eq!(v, Verdict::Verified, "{envelope} after the leaf expired, on the timestamp's word:\n{text}");

        let (code, out, err) = sign(&pki, &["--oci-layout", &target], &["--envelope", envelope, "-o", "json"]);
        assert_eq!(code, 0, "{out}{err}");
        let plain: serde_json::Value = serde_json::from_str(&out).unwrap();
        let env = stored_envelope(&layout, &plain);
        assert!(
            sigscope::notation::envelope::parse(plain["envelopeType"].as_str().unwrap(), &env)
                .unwrap()
                .timestamp_token
                .is_none()
        );
        let (v, text) = verdict_at(&pki, &tsa, &plain, env, later);
        assert!(
            matches!(v, Verdict::Failed { check: Some(CheckKind::AuthenticTimestamp), .. }),
            "{envelope} without a timestamp after the leaf expired:\n{text}"
        );
    }
    assert_eq!(tsa.request_count(), 2, "one TSA request per timestamped signature");
}

#[test]
fn a_tsa_that_misbehaves_is_refused_naming_what_was_wrong_and_nothing_is_stored() {
    let pki = Pki::new("Sign Root", "ec:P-256");
    let tsa = Tsa::start();
    let stranger = Tsa::start();
    let (_tmp, layout) = demo_layout();
    let target = format!("{layout}:unsigned");
    let index = || std::fs::read(Path::new(&layout).join("index.json")).unwrap();
    let before = index();
    let root = tsa.root_pem();
    let other_root = stranger.root_pem();
    let run = |root: &Path, extra: &[&str]| {
        let args =
            [&["--timestamp-url", &tsa.url, "--timestamp-root-cert", root.to_str().unwrap()][..], extra].concat();
        sign(&pki, &["--oci-layout", &target], &args)
    };
    let cases: [(Behaviour, &Path, i32, &[&str]); 6] = [
        (Behaviour::Garbage, &root, 3, &["not a DER TimeStampResp"]),
        (Behaviour::OtherBytes, &root, 3, &["countersigns other bytes"]),
        (Behaviour::OtherNonce, &root, 3, &["nonce"]),
        (Behaviour::Rejected, &root, 3, &["did not grant"]),
        (Behaviour::ServerError, &root, 3, &["500"]),
        // An honest token, but from a TSA whose root the user did not name.
        (Behaviour::Honest, &other_root, 3, &["does not verify against the TSA root certificate"]),
    ];
    for (behaviour, root, want, says) in cases {
        tsa.set(behaviour);
        let (code, out, err) = run(root, &[]);
        assert_eq!(code, want, "{behaviour:?}: {out}{err}");
        for s in says {
            assert!(err.contains(s), "{behaviour:?} says {s:?}: {err}");
        }
        assert!(err.contains(&tsa.url), "{behaviour:?} names the TSA: {err}");
        assert_eq!(index(), before, "{behaviour:?}: nothing stored");
    }
    // A TSA that never answers: bounded by --timeout.
    tsa.set(Behaviour::Stall);
    let started = std::time::Instant::now();
    let (code, _, err) = run(&root, &["--timeout", "2"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("no answer within") || err.contains("timed out"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "the stall ended: {:?}", started.elapsed());
    assert_eq!(index(), before, "stall: nothing stored");
    // Half the pair, a root file with no certificate, a URL that is no URL: usage errors, before any request.
    let requests = tsa.request_count();
    let (code, _, err) = sign(&pki, &["--oci-layout", &target], &["--timestamp-url", &tsa.url]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&pki.path("empty.toml"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--timestamp-root-cert"), "{err}");
    let (code, _, err) = sign(
        &pki,
        &["--oci-layout", &target],
        &["--timestamp-url", "ftp://x", "--timestamp-root-cert", root.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--timestamp-url \"ftp://x\""), "{err}");
    // A FIFO as the root file is refused at once, not waited on (nothing would ever write it).
    let fifo = pki.path("tsa-root.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let started = std::time::Instant::now();
    let (code, _, err) = sign(
        &pki,
        &["--oci-layout", &target],
        &["--timestamp-url", &tsa.url, "--timestamp-root-cert", fifo.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "refused, not waited on");
    assert_eq!(tsa.request_count(), requests, "usage errors ask no TSA");
    assert_eq!(index(), before);
}

#[test]
fn every_key_type_with_each_envelope_signs_through_the_binary_and_verifies() {
    let (_tmp, layout) = demo_layout();
    let target = format!("{layout}:unsigned");
    let mut signed = 0;
    for (kind, alg) in [
        ("ec:P-256", "ES256"),
        ("ec:P-384", "ES384"),
        ("ec:P-521", "ES512"),
        ("rsa:2048", "PS256"),
        ("rsa:3072", "PS384"),
        ("rsa:4096", "PS512"),
    ] {
        let pki = Pki::new(&format!("Root for {kind}"), kind);
        for envelope in ["jws", "cose"] {
            let (code, out, err) = sign(&pki, &["--oci-layout", &target], &["--envelope", envelope, "-o", "json"]);
            assert_eq!(code, 0, "{kind} {envelope}: {out}{err}");
            signed += 1;
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            let env = stored_envelope(&layout, &v);
            let parsed = sigscope::notation::envelope::parse(v["envelopeType"].as_str().unwrap(), &env).unwrap();
            assert_eq!(format!("{:?}", parsed.alg), alg, "{kind} {envelope}: the algorithm follows the key");
            // Only this key's root is trusted: this signature verifies, the others fail authenticity.
            let (code, out, err) = verify(&pki.notation_dir(), &["--oci-layout", &target, "-o", "json"]);
            assert_eq!(code, 0, "{kind} {envelope}: {out}{err}");
            let report: serde_json::Value = serde_json::from_str(&out).unwrap();
            let sigs = report["signatures"].as_array().unwrap();
            assert_eq!(sigs.len(), signed, "{kind} {envelope}: every signature so far is listed");
            let mine = sigs.iter().find(|s| s["digest"] == v["signature"]["descriptor"]["digest"]).unwrap();
            assert_eq!(mine["verdict"]["state"], "verified", "{kind} {envelope}: {mine}");
            assert_eq!(mine["algorithm"], alg, "{kind} {envelope}");
            let verified = sigs.iter().filter(|s| s["verdict"]["state"] == "verified").count();
            // The pair made with this key (JWS first, then COSE) and nothing signed by another root.
            assert_eq!(verified, if envelope == "jws" { 1 } else { 2 }, "{kind} {envelope}: {out}");
        }
    }
}

/// Every key type with each envelope, on both registries: the signature is listed the
/// registry's way, verifies with its own root, fails authenticity with another root, and
/// the fixture's earlier signature (another signer's) is still listed beside it.
#[tokio::test]
async fn every_key_type_with_each_envelope_round_trips_on_both_registries() {
    let kinds = [
        ("ec:P-256", "ES256"),
        ("ec:P-384", "ES384"),
        ("ec:P-521", "ES512"),
        ("rsa:2048", "PS256"),
        ("rsa:3072", "PS384"),
        ("rsa:4096", "PS512"),
    ];
    let pkis: Vec<Arc<Pki>> = kinds.iter().map(|(k, _)| Arc::new(Pki::new(&format!("Root {k}"), k))).collect();
    for (server, listed) in [(Server::docker_registry(), "tag-schema"), (Server::ferro(), "referrers-api")] {
        let repo = "roundtrip/app";
        let fx = guard(seed(&RegistryClient::new(&server.host, test_options()).unwrap(), repo)).await;
        let target = format!("{}/{repo}@{}", server.host, fx.image.digest);
        for (i, (kind, alg)) in kinds.iter().enumerate() {
            for envelope in ["jws", "cose"] {
                let (pki, other) = (pkis[i].clone(), pkis[(i + 1) % pkis.len()].clone());
                let t = target.clone();
                let (signed, mine, theirs) = tokio::task::spawn_blocking(move || {
                    let signed = sign(&pki, &[&t], &["--envelope", envelope, "-o", "json"]);
                    (
                        signed,
                        verify(&pki.notation_dir(), &[&t, "-o", "json"]),
                        verify(&other.notation_dir(), &[&t, "-o", "json"]),
                    )
                })
                .await
                .unwrap();
                let what = format!("{} {kind} {envelope}", server.host);
                let (code, out, err) = signed;
                assert_eq!(code, 0, "{what}: {out}{err}");
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                assert_eq!(v["signature"]["listedBy"], listed, "{what}: {out}");
                let digest = v["signature"]["descriptor"]["digest"].clone();
                let find = |report: &str| -> serde_json::Value {
                    let r: serde_json::Value = serde_json::from_str(report).unwrap();
                    let sigs = r["signatures"].as_array().unwrap().clone();
                    assert!(sigs.len() >= 2, "{what}: the fixture's own signature is still listed: {report}");
                    sigs.into_iter()
                        .find(|s| s["digest"] == digest)
                        .unwrap_or_else(|| panic!("{what}: not listed: {report}"))
                };
                let (code, out, err) = mine;
                assert_eq!(code, 0, "{what}: {out}{err}");
                let s = find(&out);
                assert_eq!(s["verdict"]["state"], "verified", "{what}: {s}");
                assert_eq!(s["algorithm"], *alg, "{what}");
                let (_, out, _) = theirs;
                let s = find(&out);
                assert_ne!(s["verdict"]["state"], "verified", "{what}: another root must not verify it: {s}");
                assert!(s.to_string().contains("authenticity"), "{what}: it fails authenticity: {s}");
            }
        }
    }
}

/// A signature notation itself made (notation-go's test envelope over the upstream alpine
/// layout) is still there, and still verifies with its own anchor, after sigscope signs the
/// same image in the same layout.
#[test]
fn a_signature_notation_made_is_kept_and_still_verifies_after_signing() {
    use common::layout::put_blob;
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("alpine");
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/notation");
    let copied = Command::new("cp").arg("-r").arg(vectors.join("oci-layout-alpine")).arg(&layout).status().unwrap();
    assert!(copied.success());
    // notation-go's JWS over manifest sha256:19dbd2e4…, stored as notation stores it.
    let envelope = std::fs::read(vectors.join("jws_signature.sig")).unwrap();
    let parsed = sigscope::notation::envelope::parse("application/jose+json", &envelope).unwrap();
    let layer = put_blob(&layout, &envelope);
    let config = put_blob(&layout, b"{}");
    let subject = serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0", "size": 481});
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cncf.notary.signature",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config["digest"], "size": 2},
        "layers": [{"mediaType": "application/jose+json", "digest": layer["digest"], "size": layer["size"]}],
        "subject": subject});
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let stored = put_blob(&layout, &bytes);
    let index_path = layout.join("index.json");
    let mut index: serde_json::Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    index["manifests"].as_array_mut().unwrap().push(serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": stored["digest"], "size": stored["size"],
        "artifactType": "application/vnd.cncf.notary.signature"}));
    std::fs::write(&index_path, serde_json::to_vec_pretty(&index).unwrap()).unwrap();
    let notations = stored["digest"].as_str().unwrap().to_string();

    // A trust store holding notation's self-signed leaf as its anchor, and sigscope's root.
    let pki = Pki::new("Sign Root", "ec:P-256");
    let nd = pki.notation_dir();
    let pem = sigscope::demo::keys::der_to_pem(parsed.chain.last().unwrap());
    std::fs::write(nd.join("truststore/x509/ca/test/alpine.pem"), pem).unwrap();
    let target = format!("{}:v2", layout.display());
    let (code, out, err) = sign(&pki, &["--oci-layout", &target], &["-o", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = verify(&nd, &["--oci-layout", &target, "-o", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sigs = report["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "notation's and sigscope's: {out}");
    let theirs = sigs.iter().find(|s| s["digest"] == notations.as_str()).expect("notation's signature is still listed");
    assert_eq!(theirs["verdict"]["state"], "verified", "{theirs}");
    assert!(sigs.iter().all(|s| s["verdict"]["state"] == "verified"), "{out}");
}

/// What a registry refuses reaches the user through the binary as exit 3 naming the step, and
/// a tag the registry does not have is exit 3 too (a registry answer, not a usage error).
#[tokio::test]
async fn registry_refusals_through_the_binary_are_exit_3_and_name_what_was_refused() {
    let pki = Arc::new(Pki::new("Sign Root", "ec:P-256"));
    let server = Server::docker_registry();
    let fx = guard(seed(&RegistryClient::new(&server.host, test_options()).unwrap(), "refuse/app")).await;
    let _ = fx;
    let h = common::hostile::Hostile::start();
    let c = RegistryClient::new(&h.host, test_options()).unwrap();
    let (image, _, _) = guard(common::fixtures::push_image(&c, "store/app", "v1", "amd64")).await;
    let mut cases = vec![(format!("{}/refuse/app:no-such-tag", server.host), "no-such-tag".to_string())];
    for (fault, step) in [
        ("store-blob403", "blob upload"),
        ("store-blob500", "blob upload"),
        ("store-manifest401", "manifest upload"),
        ("store-manifest403", "manifest upload"),
    ] {
        cases.push((format!("{}/{fault}/app@{}", h.host, image.digest), step.to_string()));
    }
    for (target, says) in cases {
        let p = pki.clone();
        let t = target.clone();
        let (code, out, err) = tokio::task::spawn_blocking(move || sign(&p, &[&t], &[])).await.unwrap();
        assert_eq!(code, 3, "{target}: {out}{err}");
        assert!(err.contains(&says), "{target}: the error names it ({says}): {err}");
    }
}
