//! Issue 8, item 3: a referrer listed in a layout's index.json that cannot be read (its blob
//! deleted) or fails its digest (its blob overwritten) must not vanish. It becomes a failed
//! node under the images of the layout — its subject is inside the unreadable bytes, so it
//! cannot be known — `tree` reports it and exits non-zero, and `verify` names the signature it
//! could not evaluate (one good signature still verifies, and the count says so).

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;
use sigscope::source::Source;
use sigscope::source::layout::LayoutSource;

use common::cmd;

const NOTATION: &str = "application/vnd.cncf.notary.signature";

struct Damaged {
    _dir: tempfile::TempDir,
    layout: PathBuf,
    notation: PathBuf,
    signed: String,
    deleted_signature: String,
    corrupted_attestation: String,
    sbom: String,
}

fn manifests(layout: &Path) -> Vec<(String, Value)> {
    let index: Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let digest = d["digest"].as_str().unwrap().to_string();
            let blob = layout.join("blobs/sha256").join(&digest["sha256:".len()..]);
            (digest, serde_json::from_slice(&std::fs::read(blob).unwrap()).unwrap())
        })
        .collect()
}

/// The demo with one of the `signed` image's two Notation signatures deleted and its in-toto
/// attestation overwritten; both stay listed in index.json.
fn damaged() -> Damaged {
    let dir = tempfile::tempdir().unwrap();
    sigscope::demo::export(&dir.path().join("d")).unwrap();
    let layout = dir.path().join("d/layout");
    let all = manifests(&layout);
    let index: Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let signed = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == "signed")
        .map(|d| d["digest"].as_str().unwrap().to_string())
        .unwrap();
    let of = |at: &str| -> Vec<String> {
        all.iter()
            .filter(|(_, m)| m["subject"]["digest"] == signed.as_str() && m["artifactType"] == at)
            .map(|(d, _)| d.clone())
            .collect()
    };
    let signatures = of(NOTATION);
    assert_eq!(signatures.len(), 2, "the demo signs `signed` twice (JWS and COSE)");
    let attestation = of("application/vnd.in-toto+json").remove(0);
    let sbom = of("application/spdx+json").remove(0);
    let blob = |d: &str| layout.join("blobs/sha256").join(&d["sha256:".len()..]);
    std::fs::remove_file(blob(&signatures[0])).unwrap();
    std::fs::write(blob(&attestation), br#"{"schemaVersion":2}"#).unwrap();
    Damaged {
        notation: dir.path().join("d/notation"),
        layout,
        signed,
        deleted_signature: signatures[0].clone(),
        corrupted_attestation: attestation,
        sbom,
        _dir: dir,
    }
}

fn sigscope(args: &[&str]) -> (i32, String, String) {
    cmd::sigscope(args).output()
}

fn children(node: &Value) -> Vec<&Value> {
    node["manifests"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

#[tokio::test]
async fn the_library_lists_unreadable_referrers_under_top_level_subjects_only() {
    let d = damaged();
    let source = LayoutSource::open_dir(&d.layout).unwrap();
    let repo = source.repository().to_string();
    let listed: Vec<String> = source
        .referrers_api(&repo, &d.signed, None)
        .await
        .unwrap()
        .expect("a layout answers for its referrers")
        .into_iter()
        .map(|r| r.digest)
        .collect();
    assert!(listed.contains(&d.deleted_signature), "{listed:?}");
    assert!(listed.contains(&d.corrupted_attestation), "{listed:?}");
    // Filtering by type keeps the descriptor's own artifactType from index.json.
    let signatures: Vec<String> = source
        .referrers_api(&repo, &d.signed, Some(NOTATION))
        .await
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|r| r.digest)
        .collect();
    assert!(signatures.contains(&d.deleted_signature) && !signatures.contains(&d.corrupted_attestation));
    // An SBOM is itself a referrer: the unreadable ones are not repeated below it.
    let below_sbom: Vec<String> =
        source.referrers_api(&repo, &d.sbom, None).await.unwrap().unwrap().into_iter().map(|r| r.digest).collect();
    assert!(!below_sbom.contains(&d.deleted_signature), "{below_sbom:?}");
}

#[test]
fn tree_shows_each_unreadable_referrer_with_its_error_and_fails() {
    let d = damaged();
    let target = format!("{}:signed", d.layout.display());
    let (code, stdout, stderr) = sigscope(&["tree", "--oci-layout", &target, "-o", "json"]);
    assert_ne!(code, 0, "an incomplete tree is not a success: {stderr}");
    let root: Value = serde_json::from_str(&stdout).unwrap();
    let kids = children(&root);
    let find = |digest: &str| kids.iter().find(|n| n["digest"] == digest).copied();
    let deleted = find(&d.deleted_signature).expect("the deleted signature is a node");
    assert!(deleted["error"].as_str().unwrap().contains("not found"), "{deleted}");
    assert_eq!(deleted["artifactType"], NOTATION, "the listed type is kept");
    let corrupted = find(&d.corrupted_attestation).expect("the corrupted attestation is a node");
    assert!(corrupted["error"].as_str().unwrap().contains("integrity"), "{corrupted}");
    // Every other referrer is still there: 6 listed for the demo's signed image, plus cosign.
    assert!(kids.len() >= 6, "{kids:#?}");
    for digest in [&d.deleted_signature, &d.corrupted_attestation] {
        assert!(stderr.contains(digest.as_str()), "named on stderr: {stderr}");
    }
    // Shown under every image, named once each, the repeats counted.
    assert!(stderr.lines().count() <= 4, "{stderr}");
    // Undamaged, the same command succeeds (the assertions above can fail).
    let intact = tempfile::tempdir().unwrap();
    sigscope::demo::export(intact.path()).unwrap();
    let (code, _, stderr) = sigscope(&["tree", "--oci-layout", &format!("{}/layout:signed", intact.path().display())]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn verify_names_the_signature_it_could_not_evaluate() {
    let d = damaged();
    let notation = d.notation.to_str().unwrap();
    let signed = format!("{}:signed", d.layout.display());
    let (code, stdout, stderr) = sigscope(&["verify", "--oci-layout", &signed, "--notation-dir", notation]);
    assert_eq!(code, 0, "one good signature still verifies: {stdout}{stderr}");
    assert!(stdout.contains("1 of 2 signatures verified; 1 did not"), "{stdout}");
    assert!(stdout.contains(&d.deleted_signature), "the unreadable signature is named: {stdout}");
    assert!(stdout.contains("could not be read"), "{stdout}");

    let (code, stdout, _) = sigscope(&["verify", "--oci-layout", &signed, "--notation-dir", notation, "-o", "json"]);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let sigs = report["signatures"].as_array().unwrap();
    assert!(sigs.iter().any(|s| s["digest"] == d.deleted_signature.as_str()), "{report:#}");

    // An image with no readable signature of its own cannot be called unsigned: a listed
    // signature could not be read, and it may be this image's.
    let unsigned = format!("{}:unsigned", d.layout.display());
    let (code, stdout, _) = sigscope(&["verify", "--oci-layout", &unsigned, "--notation-dir", notation]);
    assert_eq!(code, 1, "{stdout}");
    assert!(!stdout.contains("No signature is associated"), "{stdout}");
    assert!(stdout.contains(&d.deleted_signature), "{stdout}");
}
