//! `sigscope sign` end to end, the binary as a user runs it: keys and chains made by the openssl
//! CLI, signatures stored on a real docker-registry (tag schema), on ferro-oci-server (referrers
//! API) and in an OCI layout, then checked by `sigscope verify` with the signing root trusted
//! (verified) and with another root (authenticity fails). Refusals store nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::cmd::sigscope;
use common::{Server, guard, seed, test_options};
use sigscope::source::registry::RegistryClient;

/// A root CA and a code-signing leaf issued by it, made by openssl.
struct Pki {
    dir: tempfile::TempDir,
}

const EXTENSIONS: &str = "[ca_ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
    [leaf_ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n\
    [noeku_ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n";

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
