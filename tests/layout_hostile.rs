//! Hostile local files: OCI layouts, trust stores, policies and docker configs whose files are
//! symlinks to devices, FIFOs, sparse giants, or leave the layout; layouts with 40,000 tags and
//! with a tag listed twice. The real binary (each run bounded in time and memory, so a
//! regression fails the test instead of taking the machine down) and the library API.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sigscope::source::Source;
use sigscope::source::layout::LayoutSource;

use common::cmd::{self, Limits, Run};
use common::layout::{MANIFEST, REF_NAME, digest};

/// A command that has not ended by then is hung: generous, so a slow machine never trips it.
const HANG: Duration = Duration::from_secs(30);

/// Runs sigscope with a virtual-memory cap (an unbounded read dies of it instead of eating the
/// test machine's RAM) and kills it after [`HANG`].
fn sigscope_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let limits = Limits { memory_kib: Some(3_000_000), file_blocks: None, hang: HANG };
    let mut bin = cmd::sigscope(args).private_cache().bounded(limits);
    for (k, v) in env {
        bin = bin.env(k, v);
    }
    bin.run()
}

fn sigscope(args: &[&str]) -> Run {
    sigscope_env(args, &[])
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo").success();
    assert!(ok, "mkfifo {}", path.display());
}

fn symlink(target: &Path, link: &Path) {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// The exported demo: `layout/` (tags signed, tampered, …) and `notation/`.
struct Demo {
    _dir: tempfile::TempDir,
    layout: PathBuf,
    notation: PathBuf,
}

impl Demo {
    fn new() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        sigscope::demo::export(&dir.path().join("d")).unwrap();
        let d = dir.path().join("d");
        Demo { layout: d.join("layout"), notation: d.join("notation"), _dir: dir }
    }

    fn target(&self, tag: &str) -> String {
        format!("{}:{tag}", self.layout.display())
    }

    fn blob(&self, digest: &str) -> PathBuf {
        self.layout.join("blobs/sha256").join(&digest["sha256:".len()..])
    }

    fn tag_digest(&self, tag: &str) -> String {
        let index: Value = serde_json::from_slice(&std::fs::read(self.layout.join("index.json")).unwrap()).unwrap();
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["annotations"][REF_NAME] == tag)
            .map(|d| d["digest"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no tag {tag}"))
    }

    /// Digests of the envelope blobs of the Notation signatures of `subject`.
    fn envelopes(&self, subject: &str) -> Vec<String> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.layout.join("blobs/sha256")).unwrap() {
            let Ok(m) = serde_json::from_slice::<Value>(&std::fs::read(entry.unwrap().path()).unwrap()) else {
                continue;
            };
            if m["subject"]["digest"] == subject && m["artifactType"] == "application/vnd.cncf.notary.signature" {
                out.extend(m["layers"].as_array().unwrap().iter().map(|l| l["digest"].as_str().unwrap().to_string()));
            }
        }
        assert!(!out.is_empty(), "the demo signs {subject}");
        out
    }

    fn tree(&self, tag: &str) -> Run {
        sigscope(&["tree", "--oci-layout", &self.target(tag), "-o", "json"])
    }

    fn verify(&self, tag: &str) -> Run {
        sigscope(&[
            "verify",
            "--oci-layout",
            &self.target(tag),
            "--notation-dir",
            self.notation.to_str().unwrap(),
            "--offline",
        ])
    }
}

fn assert_refused(run: &Run, names: &str, why: &[&str]) {
    assert!(run.code.is_some(), "hung (killed after {HANG:?}); stderr: {}", run.stderr);
    assert!(run.failed(), "exit {:?}; stdout: {}", run.code, run.out());
    let all = format!("{}{}", run.stderr, run.out());
    assert!(all.contains(names), "the error names {names}: {all}");
    assert!(why.iter().any(|w| all.contains(w)), "the error says why ({why:?}): {all}");
}

// ---- devices, FIFOs, symlinks leaving the layout -----------------------------------------

#[test]
fn index_json_symlink_to_dev_zero_is_refused() {
    let d = Demo::new();
    symlink(Path::new("/dev/zero"), &d.layout.join("index.json"));
    assert_refused(&d.tree("signed"), "index.json", &["outside the layout"]);
    assert_refused(&d.verify("signed"), "index.json", &["outside the layout"]);
}

#[test]
fn index_json_fifo_is_refused() {
    let d = Demo::new();
    mkfifo(&d.layout.join("index.json"));
    assert_refused(&d.tree("signed"), "index.json", &["FIFO"]);
    assert_refused(&d.verify("signed"), "index.json", &["FIFO"]);
}

#[test]
fn oci_layout_marker_fifo_is_refused() {
    let d = Demo::new();
    mkfifo(&d.layout.join("oci-layout"));
    assert_refused(&d.tree("signed"), "oci-layout", &["FIFO"]);
}

#[test]
fn manifest_blob_symlink_to_dev_zero_is_refused() {
    let d = Demo::new();
    let digest = d.tag_digest("signed");
    symlink(Path::new("/dev/zero"), &d.blob(&digest));
    assert_refused(&d.tree("signed"), &digest[7..], &["outside the layout"]);
    assert_refused(&d.verify("signed"), &digest[7..], &["outside the layout"]);
}

#[test]
fn manifest_blob_fifo_is_refused() {
    let d = Demo::new();
    let digest = d.tag_digest("signed");
    mkfifo(&d.blob(&digest));
    assert_refused(&d.tree("signed"), &digest[7..], &["FIFO"]);
    assert_refused(&d.verify("signed"), &digest[7..], &["FIFO"]);
}

#[test]
fn envelope_blob_symlink_to_dev_zero_fails_verification() {
    let d = Demo::new();
    // Every envelope: one good signature would verify the image on its own.
    let envelopes = d.envelopes(&d.tag_digest("signed"));
    for e in &envelopes {
        symlink(Path::new("/dev/zero"), &d.blob(e));
    }
    let envelope = &envelopes[0];
    let run = d.verify("signed");
    assert_refused(&run, &envelope[7..], &["outside the layout"]);
    assert!(!run.out().contains("Successfully verified"), "{}", run.out());
}

#[test]
fn envelope_blob_fifo_fails_verification() {
    let d = Demo::new();
    let envelopes = d.envelopes(&d.tag_digest("signed"));
    for e in &envelopes {
        mkfifo(&d.blob(e));
    }
    let envelope = &envelopes[0];
    let run = d.verify("signed");
    assert_refused(&run, &envelope[7..], &["FIFO"]);
    assert!(!run.out().contains("Successfully verified"), "{}", run.out());
}

#[test]
fn envelope_symlink_to_a_device_inside_the_layout_is_refused_as_a_device() {
    // A device node cannot be created without privileges; a FIFO reached through an in-layout
    // symlink exercises the same check after the symlink is resolved.
    let d = Demo::new();
    let envelopes = d.envelopes(&d.tag_digest("signed"));
    let fifo = d.layout.join("pipe");
    mkfifo(&fifo);
    for e in &envelopes {
        symlink(Path::new("../../pipe"), &d.blob(e));
    }
    let run = d.verify("signed");
    assert_refused(&run, &envelopes[0][7..], &["FIFO"]);
    assert!(!run.out().contains("Successfully verified"), "{}", run.out());
}

#[test]
fn directory_where_a_blob_should_be_is_refused() {
    let d = Demo::new();
    let digest = d.tag_digest("signed");
    std::fs::remove_file(d.blob(&digest)).unwrap();
    std::fs::create_dir(d.blob(&digest)).unwrap();
    assert_refused(&d.tree("signed"), &digest[7..], &["directory"]);
}

#[test]
fn symlink_leaving_the_layout_is_refused_even_with_the_right_content() {
    let d = Demo::new();
    let digest = d.tag_digest("signed");
    let outside = d._dir.path().join("elsewhere");
    std::fs::rename(d.blob(&digest), &outside).unwrap();
    symlink(&outside, &d.blob(&digest));
    assert_refused(&d.tree("signed"), &digest[7..], &["outside the layout"]);
    assert_refused(&d.verify("signed"), &digest[7..], &["outside the layout"]);
}

#[test]
fn blobs_directory_symlinked_out_of_the_layout_is_refused() {
    // The escape is in a directory on the way, not in the file itself.
    let d = Demo::new();
    let digest = d.tag_digest("signed");
    let outside = d._dir.path().join("blobs-elsewhere");
    std::fs::rename(d.layout.join("blobs"), &outside).unwrap();
    symlink(&outside, &d.layout.join("blobs"));
    assert_refused(&d.tree("signed"), &digest[7..], &["outside the layout"]);
}

#[test]
fn symlink_within_the_layout_is_followed() {
    // Refusing escapes must not refuse layouts that share blobs through in-layout symlinks.
    let d = Demo::new();
    let digest = d.tag_digest("signed");
    let kept = d.layout.join("shared-blob");
    std::fs::rename(d.blob(&digest), &kept).unwrap();
    symlink(Path::new("../../shared-blob"), &d.blob(&digest));
    let run = d.tree("signed");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.out()).unwrap();
    assert_eq!(v["digest"], digest.as_str());
    let run = d.verify("signed");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn index_json_over_the_limit_is_refused_without_reading_it() {
    // A sparse 8 GiB regular file: reading it whole would exhaust memory.
    let d = Demo::new();
    let f = std::fs::File::create(d.layout.join("index.json")).unwrap();
    f.set_len(8 << 30).unwrap();
    assert_refused(&d.tree("signed"), "index.json", &["limit"]);
}

// ---- trust store, trust policy, docker config, TUI reads ----------------------------------

fn store_cert(d: &Demo) -> PathBuf {
    d.notation.join("truststore/x509/ca/demo/demo-root-ca.pem")
}

#[test]
fn trust_store_cert_symlink_to_dev_zero_fails_verification() {
    let d = Demo::new();
    symlink(Path::new("/dev/zero"), &store_cert(&d));
    let run = d.verify("signed");
    assert_refused(&run, "demo-root-ca.pem", &["not a regular file", "symlink"]);
    assert!(!run.out().contains("Successfully verified"), "{}", run.out());
}

#[test]
fn sparse_giant_trust_store_cert_fails_verification_without_reading_it() {
    let d = Demo::new();
    let f = std::fs::OpenOptions::new().append(true).open(store_cert(&d)).unwrap();
    f.set_len(8 << 30).unwrap();
    let run = d.verify("signed");
    assert_refused(&run, "demo-root-ca.pem", &["limit"]);
    assert!(!run.out().contains("Successfully verified"), "{}", run.out());
}

#[test]
fn trust_policy_fifo_is_refused() {
    let d = Demo::new();
    mkfifo(&d.notation.join("trustpolicy.oci.json"));
    assert_refused(&d.verify("signed"), "trustpolicy.oci.json", &["FIFO", "not a regular file"]);
}

#[test]
fn sparse_giant_trust_policy_is_refused() {
    let d = Demo::new();
    let f = std::fs::OpenOptions::new().append(true).open(d.notation.join("trustpolicy.oci.json")).unwrap();
    f.set_len(8 << 30).unwrap();
    assert_refused(&d.verify("signed"), "trustpolicy.oci.json", &["limit"]);
}

/// Runs `f` on a thread; `None` if it has not returned within [`HANG`].
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HANG).ok()
}

#[test]
fn tui_snapshot_of_a_fifo_policy_ends_with_an_error() {
    let d = Demo::new();
    let policy = d.notation.join("trustpolicy.oci.json");
    mkfifo(&policy);
    let dir = d.notation.clone();
    let snap = bounded(move || sigscope::notation::dir::snapshot(&dir)).expect("the snapshot hung on a FIFO");
    let err = snap.policy.expect_err("a FIFO is not a policy").to_string();
    assert!(err.contains("trustpolicy.oci.json") && err.contains("FIFO"), "{err}");
    assert_eq!(snap.text, None);
}

#[test]
fn tui_config_fifo_and_device_are_errors_not_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("config.toml");
    mkfifo(&fifo);
    let (config, err) = bounded(move || sigscope::tui::config::load_file(&fifo)).expect("config load hung");
    let err = err.expect("a FIFO is not a config");
    assert_eq!(config, sigscope::tui::config::Config::default());
    assert!(err.to_string().contains("config.toml") && err.message.contains("FIFO"), "{err}");
    let (_, err) = bounded(|| sigscope::tui::config::load_file(Path::new("/dev/zero"))).expect("config load hung");
    assert!(err.expect("a device is not a config").message.contains("device"));
}

/// A docker config dir whose config.json is `make(path)`; `sigscope tree` against a registry
/// that asks for credentials must end with an error naming the file.
fn docker_config_case(make: impl FnOnce(&Path), why: &str) {
    let hostile = common::Hostile::start();
    let dir = tempfile::tempdir().unwrap();
    make(&dir.path().join("config.json"));
    let target = format!("{}/auth:v1", hostile.host);
    let run = sigscope_env(&["tree", &target, "-o", "json"], &[("DOCKER_CONFIG", dir.path().to_str().unwrap())]);
    assert_refused(&run, "config.json", &[why]);
}

#[test]
fn docker_config_fifo_is_an_error_not_a_hang() {
    docker_config_case(mkfifo, "FIFO");
}

#[test]
fn docker_config_symlink_to_dev_zero_is_an_error() {
    docker_config_case(|p| symlink(Path::new("/dev/zero"), p), "device");
}

// ---- 40,000 tags ---------------------------------------------------------------------------

/// A layout written by hand: `images` images, and `tags` (name, image number) in index.json.
fn tagged_layout(images: usize, tags: &[(String, usize)]) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(dir.path().join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let write = |bytes: &[u8]| {
        let d = digest(bytes);
        std::fs::write(blobs.join(&d[7..]), bytes).unwrap();
        (d, bytes.len())
    };
    let (config, config_size) = write(br#"{"architecture":"amd64","os":"linux"}"#);
    let mut manifests = Vec::new();
    for n in 0..images {
        let body = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
            "layers": [],
            "annotations": {"n": n.to_string()},
        }))
        .unwrap();
        manifests.push(write(&body));
    }
    let entries: Vec<Value> = tags
        .iter()
        .map(|(tag, n)| {
            let (d, size) = &manifests[*n];
            json!({"mediaType": MANIFEST, "digest": d, "size": size, "annotations": {REF_NAME: tag}})
        })
        .collect();
    let index =
        json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries});
    std::fs::write(dir.path().join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    (dir, manifests.into_iter().map(|(d, _)| d).collect())
}

fn forty_thousand() -> (tempfile::TempDir, Vec<String>, Vec<(String, usize)>) {
    let tags: Vec<(String, usize)> = (0..40_000).map(|i| (format!("t{i:05}"), i % 7)).collect();
    let (dir, digests) = tagged_layout(7, &tags);
    (dir, digests, tags)
}

#[test]
fn forty_thousand_tags_resolve_in_linear_time() {
    let (dir, digests, _) = forty_thousand();
    let path = dir.path().to_str().unwrap();
    let start = Instant::now();
    for i in [0usize, 20_000, 39_999] {
        let run = sigscope(&["tree", "--oci-layout", &format!("{path}:t{i:05}"), "-o", "json"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let v: Value = serde_json::from_str(&run.out()).unwrap();
        assert_eq!(v["digest"], digests[i % 7].as_str());
        assert_eq!(v["tags"], json!([format!("t{i:05}")]));
    }
    // Not a timing assertion: quadratic lookups took minutes here, linear ones take seconds.
    assert!(start.elapsed() < Duration::from_secs(60), "took {:?}", start.elapsed());
}

/// Listing expands every image, and each expansion asks whether cosign's `sha256-….sig` tags
/// exist with a linear `contains` over the sorted tag list (src/source/referrers.rs); until that
/// is a `binary_search`, a 40,000-tag listing takes minutes.
#[test]
fn forty_thousand_tags_list_in_linear_time() {
    let (dir, digests, _) = forty_thousand();
    let path = dir.path().to_str().unwrap();
    let start = Instant::now();
    let run = sigscope(&["tree", "--oci-layout", path, "-o", "json", "--depth", "1"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.out()).unwrap();
    let listed = v["tags"].as_array().unwrap();
    assert_eq!(listed.len(), 40_000);
    for i in [0usize, 1, 12_345, 39_999] {
        let node = listed.iter().find(|n| n["tags"] == json!([format!("t{i:05}")])).expect("tag listed");
        assert_eq!(node["digest"], digests[i % 7].as_str(), "t{i:05}");
    }
    assert!(start.elapsed() < Duration::from_secs(120), "took {:?}", start.elapsed());
}

#[tokio::test]
async fn forty_thousand_tags_through_the_library() {
    let (dir, digests, tags) = forty_thousand();
    let source = LayoutSource::open_dir(dir.path()).unwrap();
    let start = Instant::now();
    let listed = source.tags("x").await.unwrap();
    assert_eq!(listed.len(), 40_000);
    assert!(listed.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    for (tag, n) in &tags {
        assert_eq!(source.manifest("x", tag).await.unwrap().descriptor.digest, digests[*n], "{tag}");
    }
    assert!(start.elapsed() < Duration::from_secs(60), "took {:?}", start.elapsed());
}

// ---- a tag listed twice ---------------------------------------------------------------------

#[test]
fn a_tag_listed_twice_with_different_digests_is_refused_everywhere() {
    let tags = [("prod".to_string(), 0), ("other".to_string(), 2), ("prod".to_string(), 1)];
    let (dir, digests) = tagged_layout(3, &tags);
    let path = dir.path().to_str().unwrap();
    let both = |run: &Run| {
        assert_refused(run, &digests[0], &["prod"]);
        assert!(run.stderr.contains(&digests[1]), "both digests named: {}", run.stderr);
        assert!(run.stderr.contains("ambiguous"), "{}", run.stderr);
    };
    both(&sigscope(&["tree", "--oci-layout", &format!("{path}:prod"), "-o", "json"]));
    let notation = tempfile::tempdir().unwrap();
    sigscope::demo::write_notation(notation.path()).unwrap();
    both(&sigscope(&[
        "verify",
        "--oci-layout",
        &format!("{path}:prod"),
        "--notation-dir",
        notation.path().to_str().unwrap(),
    ]));
    // In a listing the ambiguous tag is one failed node; the others are fine.
    let run = sigscope(&["tree", "--oci-layout", path, "-o", "json"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.out()).unwrap();
    let listed = v["tags"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{v:#}");
    let other = listed.iter().find(|n| n["digest"] == digests[2].as_str()).expect("other listed");
    assert!(other.get("error").is_none(), "{other:#}");
    let failed: Vec<_> = listed.iter().filter(|n| n.get("error").is_some()).collect();
    assert_eq!(failed.len(), 1, "{v:#}");
    let e = failed[0]["error"].as_str().unwrap();
    assert!(e.contains(&digests[0]) && e.contains(&digests[1]), "{e}");
}

#[tokio::test]
async fn an_ambiguous_tag_is_a_node_error_where_the_tui_expands_it() {
    use sigscope::graph::expand::{ExpandRequest, ExploreOptions, expand};
    use sigscope::graph::{Graph, NodeKind};
    let tags = [("prod".to_string(), 0), ("prod".to_string(), 1)];
    let (dir, digests) = tagged_layout(2, &tags);
    let source = LayoutSource::open_dir(dir.path()).unwrap();
    let repository = source.repository().to_string();
    let mut graph = Graph::new();
    let root = graph.add_root(NodeKind::Repository { name: repository.clone() });
    let listed = expand(&source, &ExpandRequest::for_node(&graph, root), &ExploreOptions::default()).await;
    graph.apply(root, listed.map_err(|e| e.to_string()));
    let tag = graph.node(root).children[0];
    let result = expand(&source, &ExpandRequest::for_node(&graph, tag), &ExploreOptions::default()).await;
    let e = result.expect_err("an ambiguous tag resolves to nothing").to_string();
    assert!(e.contains("ambiguous") && e.contains(&digests[0]) && e.contains(&digests[1]), "{e}");
    graph.apply(tag, Err(e));
    assert!(graph.node(tag).children.is_empty());
}

#[tokio::test]
async fn one_tag_listed_for_forty_thousand_digests_is_refused_in_linear_time() {
    // The ambiguity check itself must not be quadratic in the entries of one name.
    let (dir, digests) = tagged_layout(1, &[("ok".to_string(), 0)]);
    let mut index: Value = serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    let entries = index["manifests"].as_array_mut().unwrap();
    for i in 0..40_000u32 {
        entries.push(json!({"mediaType": MANIFEST, "digest": digest(&i.to_le_bytes()), "size": 10,
            "annotations": {REF_NAME: "prod"}}));
    }
    std::fs::write(dir.path().join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let start = Instant::now();
    let source = LayoutSource::open_dir(dir.path()).unwrap();
    let e = source.manifest("x", "prod").await.unwrap_err().to_string();
    assert!(e.contains("listed for 40000 different manifests") && e.contains(&digest(&0u32.to_le_bytes())), "{e}");
    assert!(e.len() < 1_000, "the message names a few digests, not 40,000: {} bytes", e.len());
    assert_eq!(source.manifest("x", "ok").await.unwrap().descriptor.digest, digests[0]);
    assert!(start.elapsed() < Duration::from_secs(30), "took {:?}", start.elapsed());
}

#[tokio::test]
async fn a_tag_listed_twice_with_the_same_digest_is_not_ambiguous() {
    let tags = [("prod".to_string(), 1), ("prod".to_string(), 1), ("dev".to_string(), 0)];
    let (dir, digests) = tagged_layout(2, &tags);
    let source = LayoutSource::open_dir(dir.path()).unwrap();
    assert_eq!(source.manifest("x", "prod").await.unwrap().descriptor.digest, digests[1]);
    assert_eq!(*source.tags("x").await.unwrap(), vec!["dev".to_string(), "prod".to_string()]);
}

#[tokio::test]
async fn tag_lookup_is_exact_no_case_folding_or_normalisation() {
    // OCI tags are case-sensitive ASCII; oras-go and skopeo match ref.name byte for byte.
    // Names that differ only by case or Unicode normalisation are different names, each
    // resolving to its own entry, never to each other's.
    let nfc = "caf\u{e9}".to_string();
    let nfd = "cafe\u{301}".to_string();
    let tags = [("prod".to_string(), 0), ("Prod".to_string(), 1), (nfc.clone(), 2), (nfd.clone(), 3)];
    let (dir, digests) = tagged_layout(4, &tags);
    let source = LayoutSource::open_dir(dir.path()).unwrap();
    for (tag, n) in &tags {
        assert_eq!(source.manifest("x", tag).await.unwrap().descriptor.digest, digests[*n], "{tag:?}");
    }
    let err = source.manifest("x", "PROD").await.unwrap_err();
    assert!(matches!(err, sigscope::Error::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn full_reference_names_are_matched_whole_not_by_their_tag() {
    // oras and skopeo may write `example.com/app:prod` as the ref.name; it is its own name.
    // Its trailing tag does not make a plain `prod` ambiguous, and does not answer for it.
    let tags = [("example.com/app:prod".to_string(), 0), ("prod".to_string(), 1)];
    let (dir, digests) = tagged_layout(2, &tags);
    let source = LayoutSource::open_dir(dir.path()).unwrap();
    assert_eq!(source.manifest("x", "prod").await.unwrap().descriptor.digest, digests[1]);
    assert_eq!(source.manifest("x", "example.com/app:prod").await.unwrap().descriptor.digest, digests[0]);
    let only_full = [("example.com/app:v1".to_string(), 0)];
    let (dir, _) = tagged_layout(1, &only_full);
    let source = LayoutSource::open_dir(dir.path()).unwrap();
    assert!(matches!(source.manifest("x", "v1").await.unwrap_err(), sigscope::Error::NotFound { .. }));
}
