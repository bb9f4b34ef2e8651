//! Every manifest that can be a signature subject gets a verdict in the TUI, exactly like an
//! image: an SBOM that is itself signed (the demo's SPDX SBOM), and artifacts of their own
//! artifactType or config type (ORAS artifacts, Helm charts), whose rows name that type
//! rather than "other". The harness runs the app's effects for real.

mod common;

use std::path::Path;

use crossterm::event::KeyCode;
use serde_json::{Value, json};
use sigscope::graph::{ArtifactKind, LoadState, NodeId};
use sigscope::open::{OpenOptions, open};
use sigscope::tui::app::NodeVerify;

use common::layout::put_blob;
use common::tui::*;

fn harness(layout: &Path, notation: &Path) -> Harness {
    let open_options = OpenOptions { oci_layout: true, ..OpenOptions::default() };
    let opened = open(layout.to_str().unwrap(), &open_options).expect("open layout");
    verifying(opened, options(Some(notation)))
}

fn open_node(h: &mut Harness, id: NodeId) {
    h.select(id);
    h.key(KeyCode::Char('l'));
    h.run_effects();
}

fn word(h: &Harness, id: NodeId) -> String {
    match h.app.node_verify(id) {
        Some(NodeVerify::Done(r)) => r.verdict.word().to_string(),
        other => panic!("node {id} has no verdict: {other:?}"),
    }
}

fn line_with(h: &mut Harness, needle: &str) -> String {
    let screen = screen_text(&h.render(200, 50));
    screen.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle:?}:\n{screen}")).into()
}

#[test]
fn a_signed_sbom_gets_its_own_verdict_in_the_row_and_the_panel() {
    let tmp = tempfile::tempdir().unwrap();
    sigscope::demo::export(tmp.path()).unwrap();
    let mut h = harness(&tmp.path().join("layout"), &tmp.path().join("notation"));
    let tag = tag_node(&h, "signed");
    open_node(&mut h, tag);
    let image = h.child(tag, 0);
    let kids = h.app.tree.graph.node(image).children.clone();
    let of = |k: ArtifactKind| kids.iter().copied().find(|&c| h.app.tree.graph.node(c).artifact().unwrap().kind == k);
    let spdx = of(ArtifactKind::SpdxSbom).expect("the demo's SPDX SBOM");
    let cyclonedx = of(ArtifactKind::CycloneDxSbom).expect("the demo's CycloneDX SBOM");
    assert_eq!(word(&h, spdx), "verified", "the SPDX SBOM carries its own Notation signature");
    assert_eq!(word(&h, cyclonedx), "unsigned");
    let short = sigscope::oci::short_digest(h.app.tree.graph.node(spdx).digest().unwrap());
    assert!(line_with(&mut h, &short).contains("✓"), "the SBOM row shows its verdict");

    // v on the SBOM, and on the SBOM's signature, explain it like for an image.
    h.select(spdx);
    h.key(KeyCode::Char('v'));
    let screen = screen_text(&h.render(120, 40));
    assert!(!screen.contains("Select an image"), "{screen}");
    assert!(screen.contains("verified"), "{screen}");
    open_node(&mut h, spdx);
    let sig = h
        .app
        .tree
        .graph
        .node(spdx)
        .children
        .clone()
        .into_iter()
        .find(|&c| h.app.tree.graph.node(c).artifact().is_some_and(|a| a.kind == ArtifactKind::NotationSignature));
    let sig = sig.expect("the SBOM's signature");
    assert!(
        h.app
            .signature_report(sig)
            .is_some_and(|s| matches!(s.verdict, sigscope::notation::verifier::SignatureVerdict::Verified)),
        "the SBOM signature's own verdict"
    );
    h.select(sig);
    let screen = screen_text(&h.render(120, 40));
    assert!(!screen.contains("Select an image"), "{screen}");
}

/// The demo layout plus two tagged artifacts: one with an artifactType (as ORAS pushes), one
/// with only a config type (as Helm pushes charts).
fn layout_with_artifacts(root: &Path) -> std::path::PathBuf {
    sigscope::demo::export(root).unwrap();
    let layout = root.join("layout");
    let mut index: Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let mut empty = put_blob(&layout, b"{}");
    empty["mediaType"] = json!("application/vnd.oci.empty.v1+json");
    let mut file = put_blob(&layout, b"hello artifact");
    file["mediaType"] = json!("application/octet-stream");
    let mut chart_config = put_blob(&layout, br#"{"name":"demo","version":"1.0.0"}"#);
    chart_config["mediaType"] = json!("application/vnd.cncf.helm.config.v1+json");
    let mut chart = put_blob(&layout, b"not really a tarball");
    chart["mediaType"] = json!("application/vnd.cncf.helm.chart.content.v1.tar+gzip");
    let manifests = [
        (
            "thing",
            json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "artifactType": "application/vnd.example.thing", "config": empty, "layers": [file]}),
        ),
        (
            "chart",
            json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "config": chart_config, "layers": [chart]}),
        ),
    ];
    for (tag, m) in manifests {
        let mut d = put_blob(&layout, &serde_json::to_vec(&m).unwrap());
        d["mediaType"] = json!("application/vnd.oci.image.manifest.v1+json");
        d["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        index["manifests"].as_array_mut().unwrap().push(d);
    }
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    layout
}

#[test]
fn artifacts_get_verdicts_and_rows_name_their_type() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = layout_with_artifacts(tmp.path());
    let mut h = harness(&layout, &tmp.path().join("notation"));
    for (tag, kind) in [
        ("thing", "artifact application/vnd.example.thing"),
        ("chart", "artifact application/vnd.cncf.helm.config.v1+json"),
    ] {
        // Closed, the tag has the verdict of what it names.
        let id = tag_node(&h, tag);
        assert_eq!(word(&h, id), "unsigned", "{tag}");
        open_node(&mut h, id);
        let artifact = h.child(id, 0);
        assert_eq!(word(&h, artifact), "unsigned", "{tag}: the artifact has its own verdict");
        let short = sigscope::oci::short_digest(h.app.tree.graph.node(artifact).digest().unwrap());
        let row = line_with(&mut h, &short);
        assert!(row.contains(kind), "{tag}: {row}");
        assert!(row.contains("unsigned"), "{tag}: {row}");
        assert!(!row.contains("other"), "{tag}: {row}");
        h.select(artifact);
        h.key(KeyCode::Char('v'));
        let screen = screen_text(&h.render(120, 40));
        assert!(!screen.contains("Select an image"), "{tag}:\n{screen}");
        h.key(KeyCode::Char('v'));
    }
}

/// A copy of the demo with one signature blob deleted and the attestation's blob overwritten,
/// both still listed in index.json: the TUI shows each as a failed node with its reason, and
/// the image is still verified by its other signature.
#[test]
fn a_deleted_and_a_corrupted_referrer_are_failed_nodes_in_the_tui() {
    let tmp = tempfile::tempdir().unwrap();
    sigscope::demo::export(tmp.path()).unwrap();
    let layout = tmp.path().join("layout");
    let mut h = harness(&layout, &tmp.path().join("notation"));
    let tag = tag_node(&h, "signed");
    open_node(&mut h, tag);
    let image = h.child(tag, 0);
    let kids = h.app.tree.graph.node(image).children.clone();
    let digest_of = |k: ArtifactKind| {
        kids.iter()
            .map(|&c| h.app.tree.graph.node(c).artifact().unwrap())
            .find(|a| a.kind == k)
            .map(|a| a.descriptor.digest.to_string())
            .unwrap()
    };
    let signature = digest_of(ArtifactKind::NotationSignature);
    let attestation = digest_of(ArtifactKind::InTotoAttestation);
    let blob = |d: &str| layout.join("blobs/sha256").join(d.trim_start_matches("sha256:"));
    std::fs::remove_file(blob(&signature)).unwrap();
    std::fs::write(blob(&attestation), b"{\"schemaVersion\":2,\"overwritten\":true}").unwrap();

    // A fresh start on the broken copy.
    let mut h = harness(&layout, &tmp.path().join("notation"));
    let tag = tag_node(&h, "signed");
    h.select(tag);
    h.key(KeyCode::Char('E'));
    h.run_effects();
    let image = h.child(tag, 0);
    let screen = screen_text(&h.render(200, 50));
    let row = |d: &str| {
        let short = sigscope::oci::short_digest(d);
        screen
            .lines()
            .find(|l| l.contains(&short))
            .unwrap_or_else(|| panic!("no row for {short}:\n{screen}"))
            .to_string()
    };
    assert!(row(&signature).contains("failed"), "the deleted signature is a failed node: {}", row(&signature));
    assert!(row(&attestation).contains("failed"), "the corrupted attestation: {}", row(&attestation));
    let failed = |d: &str| {
        h.app.tree.graph.node(image).children.iter().any(|&c| {
            h.app.tree.graph.node(c).digest().is_some_and(|x| x == d)
                && matches!(h.app.tree.graph.node(c).load, LoadState::Failed(_))
        })
    };
    assert!(failed(&signature) && failed(&attestation), "{screen}");
    assert_eq!(word(&h, image), "verified", "one good signature still verifies the image");
}
