//! `sigscope verify` — the real binary — on the exported demo layout and on the demo pushed
//! into real registries (docker-registry: tag schema; ferro-oci-server: referrers API).
//! The demo's verdicts are part of its design: signed → verified, tampered → integrity,
//! expired → expiry (strict) or a warning (permissive), untrusted → authenticity,
//! unsigned → no signature.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Server, test_options};
use serde_json::Value;
use sigscope::source::registry::RegistryClient;

use common::cmd;

/// Runs the binary with a cache of its own (no run sees another's cached CRLs).
fn sigscope(args: &[&str]) -> (i32, String, String) {
    cmd::sigscope(args).private_cache().output()
}

fn export_demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    sigscope::demo::export(&dir.path().join("d")).unwrap();
    dir
}

fn verify_json(target: &str, notation: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["verify", target, "--notation-dir", notation.to_str().unwrap(), "-o", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = sigscope(&args);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} / {err}"));
    (code, v)
}

/// (state, failing check) of the artifact verdict.
fn verdict(v: &Value) -> (String, String) {
    (v["verdict"]["state"].as_str().unwrap().to_string(), v["verdict"]["check"].as_str().unwrap_or("").to_string())
}

/// Every check of every signature uses the contract's vocabulary.
fn assert_contract(v: &Value) {
    for sig in v["signatures"].as_array().unwrap() {
        let checks: Vec<&str> =
            sig["checks"].as_array().unwrap().iter().map(|c| c["check"].as_str().unwrap()).collect();
        for want in ["integrity", "authenticity", "trustedIdentity", "expiry", "authenticTimestamp", "revocation"] {
            assert!(checks.contains(&want), "{want} missing in {checks:?}");
        }
        for c in sig["checks"].as_array().unwrap() {
            let o = c["outcome"].as_str().unwrap();
            assert!(["pass", "fail-enforced", "fail-logged", "skipped"].contains(&o), "outcome {o}");
            assert!(!c["reason"].as_str().unwrap().is_empty(), "every check says why");
        }
    }
}

fn check_demo_verdicts(target: impl Fn(&str) -> String, notation: &Path, extra: &[&str]) {
    let cases = [
        ("signed", 0, "verified", ""),
        ("tampered", 1, "failed", "integrity"),
        ("expired", 1, "failed", "expiry"),
        ("untrusted", 1, "failed", "authenticity"),
        ("unsigned", 1, "noSignature", ""),
    ];
    for (tag, code, state, check) in cases {
        let (got_code, v) = verify_json(&target(tag), notation, extra);
        assert_eq!((got_code, verdict(&v)), (code, (state.to_string(), check.to_string())), "{tag}: {v:#}");
        assert_contract(&v);
        assert_eq!(v["statement"]["name"], "sigscope-demo");
        assert_eq!(v["statement"]["matched"], "wildcard");
    }
    // Both demo signatures of `signed` (JWS and COSE) pass on their own.
    let (_, v) = verify_json(&target("signed"), notation, extra);
    let sigs = v["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{v:#}");
    let mut formats: Vec<&str> = sigs.iter().map(|s| s["format"].as_str().unwrap()).collect();
    formats.sort();
    assert_eq!(formats, ["cose", "jws"]);
    assert!(sigs.iter().all(|s| s["verdict"]["state"] == "verified"));
    // The multi-arch index is signed itself (as `notation sign` on its tag does).
    let (code, v) = verify_json(&target("multiarch"), notation, extra);
    assert_eq!((code, verdict(&v).0.as_str()), (0, "verified"), "{v:#}");
}

#[test]
fn demo_layout_verdicts_are_as_designed() {
    let dir = export_demo();
    let d = dir.path().join("d");
    let layout = d.join("layout");
    let notation = d.join("notation");
    check_demo_verdicts(|tag| format!("{}:{tag}", layout.display()), &notation, &["--oci-layout"]);

    // The text form: notation's success line, and the failing check on stderr with exit 1.
    let (code, out, err) = sigscope(&[
        "verify",
        "--oci-layout",
        &format!("{}:signed", layout.display()),
        "--notation-dir",
        notation.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Successfully verified signature for "), "{out}");
    // A tag is resolved first, and the user is told what was verified.
    assert!(err.starts_with("Warning: resolved tag \"signed\" to sha256:"), "{err}");
    let digest = out.lines().next().unwrap().rsplit('@').next().unwrap().to_string();
    let (code, out, err) = sigscope(&[
        "verify",
        "--oci-layout",
        &format!("{}@{digest}", layout.display()),
        "--notation-dir",
        notation.to_str().unwrap(),
    ]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.starts_with(&format!("Successfully verified signature for {}@{digest}", layout.display())), "{out}");
    let (code, _, err) = sigscope(&[
        "verify",
        "--oci-layout",
        &format!("{}:untrusted", layout.display()),
        "--notation-dir",
        notation.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("authenticity failed") && err.contains("does not contain any trusted certificate"), "{err}");
}

#[test]
fn permissive_turns_the_expired_signature_into_a_warning() {
    let dir = export_demo();
    let d = dir.path().join("d");
    let notation = d.join("notation");
    let policy = notation.join("trustpolicy.oci.json");
    let text = std::fs::read_to_string(&policy).unwrap().replace("\"strict\"", "\"permissive\"");
    std::fs::write(&policy, text).unwrap();
    let target = format!("{}:expired", d.join("layout").display());
    let (code, v) = verify_json(&target, &notation, &["--oci-layout"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(verdict(&v).0, "verifiedWithWarnings");
    let warnings = v["verdict"]["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().starts_with("expiry: digital signature has expired")), "{v:#}");
    let expiry = v["signatures"][0]["checks"].as_array().unwrap().iter().find(|c| c["check"] == "expiry").unwrap();
    assert_eq!((expiry["outcome"].as_str(), expiry["action"].as_str()), (Some("fail-logged"), Some("log")));
    // Permissive still enforces authenticity.
    let target = format!("{}:untrusted", d.join("layout").display());
    assert_eq!(verify_json(&target, &notation, &["--oci-layout"]).0, 1);
    // And level skip verifies nothing, successfully.
    let skip = serde_json::json!({"version": "1.0", "trustPolicies": [
        {"name": "sigscope-demo", "registryScopes": ["*"], "signatureVerification": {"level": "skip"}}]});
    std::fs::write(&policy, serde_json::to_vec(&skip).unwrap()).unwrap();
    let (code, v) = verify_json(&target, &notation, &["--oci-layout"]);
    assert_eq!((code, verdict(&v).0.as_str()), (0, "skipped"), "{v:#}");
}

#[test]
fn policy_and_usage_errors_exit_2() {
    let dir = export_demo();
    let d = dir.path().join("d");
    let notation = d.join("notation");
    let layout = format!("{}:signed", d.join("layout").display());
    let run = |notation: &Path, target: &str| {
        sigscope(&["verify", "--oci-layout", target, "--notation-dir", notation.to_str().unwrap()])
    };
    // No policy file at all.
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = run(empty.path(), &layout);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("trustpolicy"), "{err}");
    // An invalid policy names the statement and the field.
    let policy = notation.join("trustpolicy.oci.json");
    let good = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, good.replace("\"strict\"", "\"paranoid\"")).unwrap();
    let (code, _, err) = run(&notation, &layout);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("sigscope-demo") && err.contains("paranoid"), "{err}");
    std::fs::write(&policy, &good).unwrap();
    // A target that is not one image.
    let (code, _, err) = run(&notation, d.join("layout").to_str().unwrap());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(":tag or @digest"), "{err}");
    // A trust store that does not exist fails verification (exit 1), as in notation.
    std::fs::write(&policy, good.replace("ca:demo", "ca:nowhere")).unwrap();
    let (code, _, err) = run(&notation, &layout);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nowhere"), "{err}");
}

#[test]
fn unreachable_registry_exits_3() {
    let dir = export_demo();
    let notation = dir.path().join("d/notation");
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    let (code, _, err) = sigscope(&["verify", "127.0.0.1:9/app:v1", "--notation-dir", notation.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
}

fn push_demo(server: &Server, repo: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = RegistryClient::new(&server.host, test_options()).unwrap();
        common::fixtures::push_demo(&client, repo).await;
    });
}

#[test]
fn demo_in_docker_registry_through_the_tag_schema() {
    let server = Server::docker_registry();
    push_demo(&server, "demo/app");
    let dir = export_demo();
    let notation = dir.path().join("d/notation");
    check_demo_verdicts(|tag| format!("{}/demo/app:{tag}", server.host), &notation, &[]);
}

#[test]
fn demo_in_ferro_through_the_referrers_api() {
    let server = Server::ferro();
    push_demo(&server, "demo/app");
    let dir = export_demo();
    let notation = dir.path().join("d/notation");
    check_demo_verdicts(|tag| format!("{}/demo/app:{tag}", server.host), &notation, &[]);

    // An exact scope wins over "*": this repository at permissive, the rest strict.
    let scope = format!("{}/demo/app", server.host);
    let policy = serde_json::json!({
        "version": "1.0",
        "trustPolicies": [
            {"name": "app", "registryScopes": [scope], "signatureVerification": {"level": "permissive"},
             "trustStores": ["ca:demo"], "trustedIdentities": ["*"]},
            {"name": "everything-else", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
             "trustStores": ["ca:demo"], "trustedIdentities": ["*"]},
        ]
    });
    std::fs::write(notation.join("trustpolicy.oci.json"), serde_json::to_vec_pretty(&policy).unwrap()).unwrap();
    let (code, v) = verify_json(&format!("{scope}:expired"), &notation, &[]);
    assert_eq!((code, verdict(&v).0.as_str()), (0, "verifiedWithWarnings"), "{v:#}");
    assert_eq!((v["statement"]["name"].as_str(), v["statement"]["matched"].as_str()), (Some("app"), Some("exact")));
    // Same content under another repository name: only "*" applies.
    push_demo(&server, "demo/other");
    let (code, v) = verify_json(&format!("{}/demo/other:expired", server.host), &notation, &[]);
    assert_eq!((code, verdict(&v)), (1, ("failed".into(), "expiry".into())), "{v:#}");
    assert_eq!(v["statement"]["matched"], "wildcard");
}

/// Runs the binary with stdout and stderr on one pseudo-terminal (`script`), as a user at a
/// shell sees it; returns the exit code and everything the terminal showed.
fn in_terminal(args: &[&str]) -> (i32, String) {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{}'", a.replace('\'', r"'\''"))).collect();
    let line = format!("{} {}", env!("CARGO_BIN_EXE_sigscope"), quoted.join(" "));
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("DOCKER_CONFIG", cmd::NO_DOCKER_CONFIG)
        .env("XDG_CACHE_HOME", cache.path())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script (util-linux) for a pseudo-terminal");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into())
}

/// Issue 8 (CLI): a failed verification is said once on a terminal (the report on stdout
/// already opens with it); with stdout piped the failure still reaches stderr.
#[test]
fn a_failure_is_printed_once_in_a_terminal() {
    let dir = export_demo();
    let d = dir.path().join("d");
    let notation = d.join("notation").display().to_string();
    let target = format!("{}:tampered", d.join("layout").display());
    let args = ["verify", "--oci-layout", &target, "--notation-dir", &notation];
    let (code, screen) = in_terminal(&args);
    assert_eq!(code, 1, "{screen}");
    assert_eq!(screen.matches("Signature verification failed").count(), 1, "{screen}");

    let (code, stdout, stderr) = sigscope(&args);
    assert_eq!(code, 1);
    assert_eq!(stdout.matches("Signature verification failed").count(), 1, "{stdout}");
    assert!(stderr.contains("Signature verification failed"), "piped: the failure is on stderr too: {stderr}");
}

/// Issue 8 (CLI): `verify -o json` answers in JSON when it cannot verify at all, in the shape
/// `tree -o json` uses for a target it could not resolve: `{reference, error}`.
#[test]
fn json_output_carries_registry_errors_as_tree_does() {
    let dir = export_demo();
    let notation = dir.path().join("d/notation").display().to_string();
    let target = "127.0.0.1:9/app:v1";
    let (code, out, err) = sigscope(&["verify", target, "--notation-dir", &notation, "-o", "json"]);
    assert_eq!(code, 3, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: stdout {out:?}, stderr {err}"));
    assert_eq!(v["reference"], target);
    assert!(v["error"].as_str().unwrap().contains("network error talking to 127.0.0.1:9"), "{v}");
    assert_eq!(err.matches("network error").count(), 1, "stderr says it once: {err}");

    let (tree_code, tree_out, _) = sigscope(&["tree", target, "-o", "json"]);
    assert_eq!(tree_code, 3);
    let t: Value = serde_json::from_str(&tree_out).unwrap();
    assert_eq!((&t["reference"], &t["error"]), (&v["reference"], &v["error"]), "the same words in both");

    // A policy that cannot be read is an error object too (exit 2), not an empty stdout.
    let empty = tempfile::tempdir().unwrap();
    let (code, out, _) = sigscope(&["verify", target, "--notation-dir", empty.path().to_str().unwrap(), "-o", "json"]);
    assert_eq!(code, 2);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert!(v["error"].as_str().unwrap().contains("trustpolicy"), "{v}");
}

/// Issue 8 (CLI): a trust policy that cannot be used names its file, whichever of the two
/// names it has, in `verify` (text and JSON) and in `TrustPolicy::load` (what the TUI shows).
#[test]
fn a_bad_trust_policy_names_its_file() {
    let dir = export_demo();
    let d = dir.path().join("d");
    let notation = d.join("notation");
    let layout = format!("{}:signed", d.join("layout").display());
    let oci = notation.join("trustpolicy.oci.json");
    let good = std::fs::read_to_string(&oci).unwrap();
    let cases = [
        ("{", "malformed"),
        ("{\"version\": \"1.0\", \"trustPolicies\": []}", "no statements"),
        ("{\"version\": \"2.0\", \"trustPolicies\": []}", "version"),
        (good.replace("\"strict\"", "\"paranoid\"").leak(), "paranoid"),
    ];
    for (file, other) in [(oci.clone(), None), (notation.join("trustpolicy.json"), Some(&oci))] {
        if let Some(other) = other {
            std::fs::remove_file(other).unwrap();
        }
        for (text, why) in cases {
            std::fs::write(&file, text).unwrap();
            let shown = file.display().to_string();
            let (code, _, err) =
                sigscope(&["verify", "--oci-layout", &layout, "--notation-dir", notation.to_str().unwrap()]);
            assert_eq!(code, 2, "{err}");
            assert!(err.contains(&shown) && err.contains(why), "{why}: {err}");
            let (code, v) = verify_json(&layout, &notation, &["--oci-layout"]);
            assert_eq!(code, 2);
            assert!(v["error"].as_str().unwrap().contains(&shown), "{v}");
            let e = sigscope::notation::policy::TrustPolicy::load(&notation).unwrap_err();
            assert!(e.to_string().contains(&shown), "{e}");
        }
    }
}
