//! `r` and `R` in the TUI refetch what is known by name and re-verify, against a real
//! docker-registry and a real layout directory that change while the app runs: a tag moved to
//! another image, a registry that went away, a signature blob deleted on disk. The harness
//! runs the app's effects for real.

mod common;

use std::path::{Path, PathBuf};

use crossterm::event::KeyCode;
use sigscope::graph::{LoadState, NodeId};
use sigscope::notation::verifier::Verdict;
use sigscope::open::{OpenOptions, open};
use sigscope::source::registry::RegistryClient;
use sigscope::tui::app::NodeVerify;
use sigscope::tui::app::Severity;

use common::tui::*;
use common::{Server, test_options};

fn harness(target: &str, layout: bool, notation: &Path) -> Harness {
    let open_options = OpenOptions { oci_layout: layout, registry: test_options(), ..Default::default() };
    let opened = open(target, &open_options).expect("open target");
    let mut options = options(Some(notation));
    options.open_options = open_options;
    verifying(opened, options)
}

/// The verdict shown for a tag and the digest it is the verdict of: the image row's once the
/// tag is open, else the tag's own.
fn tag_verdict(h: &Harness, tag: &str) -> (String, String) {
    let id = tag_node(h, tag);
    let report_node = h.app.report_node(id).unwrap_or_else(|| panic!("tag {tag} has no verification"));
    match h.app.node_verify(report_node) {
        Some(NodeVerify::Done(r)) => {
            (r.verdict.word().to_string(), r.reference.rsplit('@').next().unwrap_or_default().to_string())
        }
        other => panic!("tag {tag}: {other:?}"),
    }
}

fn push_demo(server: &Server, repo: &str) -> std::collections::BTreeMap<String, sigscope::oci::Descriptor> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = RegistryClient::new(&server.host, test_options()).unwrap();
        common::fixtures::push_demo(&client, repo).await
    })
}

/// Points `tag` of `repo` at the manifest `digest` already in the registry.
fn retag(server: &Server, repo: &str, tag: &str, digest: &str, media_type: &str) {
    let files = &sigscope::demo::files().0;
    let bytes = files[&format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))].clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = RegistryClient::new(&server.host, test_options()).unwrap();
        sigscope::source::push::push_manifest(&client, repo, tag, bytes, media_type).await.expect("retag");
    });
}

/// Selects `id`, presses `key` and runs what that asked for.
fn press_on(h: &mut Harness, id: NodeId, key: char) {
    h.select(id);
    h.key(KeyCode::Char(key));
    h.run_effects();
}

fn refresh_selected(h: &mut Harness, id: NodeId) {
    press_on(h, id, 'r');
}

/// Opens `id` and loads what is below it.
fn open_node(h: &mut Harness, id: NodeId) {
    press_on(h, id, 'l');
}

#[test]
fn a_tag_moved_in_the_registry_shows_the_new_images_verdict_after_r() {
    let server = Server::docker_registry();
    let tags = push_demo(&server, "demo/app");
    let tmp = tempfile::tempdir().unwrap();
    let notation = demo_notation(tmp.path());
    let mut h = harness(&format!("{}/demo/app", server.host), false, &notation);

    let signed = tags["signed"].digest.clone();
    let unsigned = &tags["unsigned"];
    assert_eq!(tag_verdict(&h, "signed"), ("verified".into(), signed.clone()));
    // Open the tag: its image row now speaks for it.
    let tag = tag_node(&h, "signed");
    open_node(&mut h, tag);
    assert_eq!(tag_verdict(&h, "signed"), ("verified".into(), signed.clone()));

    retag(&server, "demo/app", "signed", &unsigned.digest, &unsigned.media_type);
    // Nothing was asked yet: what is shown is what was fetched.
    assert_eq!(tag_verdict(&h, "signed").1, signed);

    // r on the tag: the tag is asked again and its new image verified.
    let tag = tag_node(&h, "signed");
    refresh_selected(&mut h, tag);
    assert_eq!(tag_verdict(&h, "signed"), ("unsigned".into(), unsigned.digest.clone()));
    let new_tag = tag_node(&h, "signed");
    assert!(h.app.tree.open.contains(&new_tag), "the tag stays open after the refresh");
    let status = h.app.notices.status.clone().expect("a refresh says what it found");
    assert!(status.text.contains("now sha256:") && status.text.contains("was sha256:"), "{status:?}");
    let screen = screen_text(&h.render(160, 40));
    let image_row = screen.lines().find(|l| l.contains(&sigscope::oci::short_digest(&unsigned.digest))).unwrap();
    assert!(image_row.contains("unsigned"), "{screen}");

    // And back, through r on the repository: every tag below is asked again.
    retag(&server, "demo/app", "signed", &signed, &tags["signed"].media_type);
    let repo = h.app.tree.graph.roots[0];
    refresh_selected(&mut h, repo);
    assert_eq!(tag_verdict(&h, "signed"), ("verified".into(), signed.clone()));
    assert!(h.app.tree.open.contains(&tag_node(&h, "signed")), "what was open is open again");
}

#[test]
fn refresh_all_re_asks_every_root() {
    let server = Server::docker_registry();
    let tags = push_demo(&server, "demo/app");
    let tmp = tempfile::tempdir().unwrap();
    let notation = demo_notation(tmp.path());
    let mut h = harness(&format!("{}/demo/app", server.host), false, &notation);
    assert_eq!(tag_verdict(&h, "expired").0, "failed");
    let signed = &tags["signed"];
    retag(&server, "demo/app", "expired", &signed.digest, &signed.media_type);
    h.key(KeyCode::Char('R'));
    h.run_effects();
    assert_eq!(tag_verdict(&h, "expired"), ("verified".into(), signed.digest.clone()));
}

#[test]
fn refresh_with_the_registry_gone_fails_visibly() {
    let server = Server::docker_registry();
    push_demo(&server, "demo/app");
    let host = server.host.clone();
    let tmp = tempfile::tempdir().unwrap();
    let notation = demo_notation(tmp.path());
    let mut h = harness(&format!("{host}/demo/app"), false, &notation);
    assert_eq!(tag_verdict(&h, "signed").0, "verified");
    drop(server);

    let tag = tag_node(&h, "signed");
    refresh_selected(&mut h, tag);
    let status = h.app.notices.status.clone().expect("the failure is reported");
    assert_eq!(status.level, Severity::Error, "{status:?}");
    assert!(status.text.contains("refresh of signed failed"), "{status:?}");
    assert!(matches!(h.app.tree.graph.node(tag).load, LoadState::Failed(_)));
    assert!(h.app.tree.graph.node(tag).children.is_empty(), "nothing stale stays below a failed refresh");
    match h.app.node_verify(tag) {
        Some(NodeVerify::Error(_)) => {}
        other => panic!("the tag's verification must fail, not stay verified: {other:?}"),
    }

    let repo = h.app.tree.graph.roots[0];
    refresh_selected(&mut h, repo);
    assert!(matches!(h.app.tree.graph.node(repo).load, LoadState::Failed(_)));
    let screen = screen_text(&h.render(120, 40));
    assert!(!screen.contains("verified"), "nothing may still say verified:\n{screen}");
    assert!(screen.contains("failed"), "{screen}");
    // The message log keeps the whole text.
    assert!(h.app.notices.messages.iter().any(|m| m.status.text.contains("refresh of signed failed")));
}

/// The demo exported as a layout directory, and the digests of its tags.
fn layout(root: &Path) -> (PathBuf, serde_json::Value) {
    sigscope::demo::export(root).unwrap();
    let dir = root.join("layout");
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    (dir, index)
}

fn tag_digest(index: &serde_json::Value, tag: &str) -> String {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .map(|d| d["digest"].as_str().unwrap().to_string())
        .unwrap()
}

#[test]
fn a_layout_changed_on_disk_shows_as_it_is_after_r() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, mut index) = layout(tmp.path());
    let notation = tmp.path().join("notation");
    let mut h = harness(dir.to_str().unwrap(), true, &notation);
    let signed = tag_digest(&index, "signed");
    let unsigned = tag_digest(&index, "unsigned");
    assert_eq!(tag_verdict(&h, "signed"), ("verified".into(), signed.clone()));

    // Re-tag in index.json: `signed` now names the unsigned image.
    for d in index["manifests"].as_array_mut().unwrap() {
        if d["annotations"]["org.opencontainers.image.ref.name"] == "signed" {
            d["digest"] = serde_json::Value::String(unsigned.clone());
        }
    }
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let root = h.app.tree.graph.roots[0];
    refresh_selected(&mut h, root);
    assert_eq!(tag_verdict(&h, "signed"), ("unsigned".into(), unsigned));
}

#[test]
fn a_signature_deleted_on_disk_fails_after_r() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = layout(tmp.path());
    let notation = tmp.path().join("notation");
    let mut h = harness(dir.to_str().unwrap(), true, &notation);
    let tag = tag_node(&h, "signed");
    open_node(&mut h, tag);
    assert_eq!(tag_verdict(&h, "signed").0, "verified");
    let image = h.app.tree.graph.node(tag_node(&h, "signed")).children[0];
    let sigs: Vec<String> = h
        .app
        .tree
        .graph
        .node(image)
        .children
        .iter()
        .filter_map(|&c| {
            let a = h.app.tree.graph.node(c).artifact()?;
            (a.kind == sigscope::graph::ArtifactKind::NotationSignature).then(|| a.descriptor.digest.to_string())
        })
        .collect();
    assert!(!sigs.is_empty());
    // Every signature manifest of the image goes; index.json still lists them.
    common::layout::remove_blobs(&dir, &sigs);
    refresh_selected(&mut h, image);
    let (word, _) = tag_verdict(&h, "signed");
    assert_ne!(word, "verified", "no signature can be read any more");
    let screen = screen_text(&h.render(160, 40));
    assert!(screen.contains("failed"), "the unreadable signatures show:\n{screen}");
    assert!(!screen.contains("✓ verified"), "{screen}");
}

#[test]
fn a_refresh_keeps_the_selection_on_the_new_copy_of_the_node() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _) = layout(tmp.path());
    let notation = tmp.path().join("notation");
    let mut h = harness(dir.to_str().unwrap(), true, &notation);
    let tag = tag_node(&h, "signed");
    open_node(&mut h, tag);
    let image = h.app.tree.graph.node(tag_node(&h, "signed")).children[0];
    open_node(&mut h, image);
    let sbom = h.app.tree.graph.node(image).children[0];
    let digest = h.app.tree.graph.node(sbom).digest().unwrap().to_string();
    h.select(sbom);
    let root = h.app.tree.graph.roots[0];
    h.app.tree.graph.node(root);
    // :refresh! from the command line refreshes everything; the cursor stays on that referrer.
    h.key(KeyCode::Char(':'));
    h.chars("refresh!");
    h.key(KeyCode::Enter);
    h.run_effects();
    let selected = h.app.selected().unwrap();
    assert_ne!(selected, sbom, "the node is a new copy");
    assert_eq!(h.app.tree.graph.node(selected).digest().map(ToString::to_string).as_deref(), Some(digest.as_str()));
    let verdict = |h: &Harness, id| match h.app.node_verify(id) {
        Some(NodeVerify::Done(r)) => Some(r.verdict.clone()),
        _ => None,
    };
    let new_image = h.app.tree.graph.node(tag_node(&h, "signed")).children[0];
    assert!(matches!(verdict(&h, new_image), Some(Verdict::Verified)));
}
