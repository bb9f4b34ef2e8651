//! `sigscope tree` on OCI image layouts written by the test: the real binary, its stdout JSON,
//! its stderr and exit code.

mod common;

use serde_json::{Value, json};

use common::layout::{Layout, MANIFEST};

use common::cmd;

/// The referrers of this test's layouts: a layer of `content`, a creation time.
impl Layout {
    fn referrer(&mut self, subject: &Value, artifact_type: &str, content: &[u8]) -> Value {
        let empty = self.blob(b"{}");
        let layer = self.blob(content);
        self.manifest(
            &json!({
                "schemaVersion": 2, "mediaType": MANIFEST, "artifactType": artifact_type,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty["digest"], "size": 2},
                "layers": [{"mediaType": artifact_type, "digest": layer["digest"], "size": layer["size"]}],
                "subject": subject,
                "annotations": {"org.opencontainers.image.created": "2025-01-01T00:00:00Z"},
            }),
            None,
        )
    }
}

fn sigscope(args: &[&str]) -> (i32, String, String) {
    cmd::sigscope(args).output()
}

fn digests(nodes: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        nodes.as_array().unwrap().iter().map(|n| n["digest"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

#[test]
fn json_lists_referrers_and_nested_referrers() {
    let mut l = Layout::new();
    let img = l.image("v1", json!({"org.opencontainers.image.created": "2025-02-03T04:05:06Z"}));
    let sig = l.referrer(&img, "application/vnd.cncf.notary.signature", b"sig");
    let sbom = l.referrer(&img, "application/spdx+json", br#"{"spdxVersion":"SPDX-2.3"}"#);
    let sbom_sig = l.referrer(&sbom, "application/vnd.cncf.notary.signature", b"sbom-sig");
    let _other = l.image("v2", json!({}));
    let path = l.finish().display().to_string();

    let (code, out, err) = sigscope(&["tree", "--oci-layout", &format!("{path}:v1"), "-o", "json"]);
    assert_eq!(code, 0, "stderr: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["digest"], img["digest"]);
    assert_eq!(v["kind"], "image");
    assert_eq!(v["tags"], json!(["v1"]));
    assert_eq!(v["annotations"]["org.opencontainers.image.created"], "2025-02-03T04:05:06Z");
    let mut want = vec![sig["digest"].as_str().unwrap().to_string(), sbom["digest"].as_str().unwrap().to_string()];
    want.sort();
    assert_eq!(digests(&v["manifests"]), want);
    let sbom_node = v["manifests"].as_array().unwrap().iter().find(|n| n["digest"] == sbom["digest"]).unwrap();
    assert_eq!(sbom_node["kind"], "spdx-sbom");
    assert_eq!(sbom_node["artifactType"], "application/spdx+json");
    assert_eq!(sbom_node["via"], "referrers-api");
    assert_eq!(digests(&sbom_node["manifests"]), vec![sbom_sig["digest"].as_str().unwrap().to_string()]);
    assert_eq!(sbom_node["manifests"][0]["kind"], "notation-signature");
    assert!(sbom_node["reference"].as_str().unwrap().ends_with(&format!("@{}", sbom["digest"].as_str().unwrap())));

    // --depth 1 stops below the first level of referrers; --artifact-type filters them.
    let (_, out, _) = sigscope(&["tree", "--oci-layout", &format!("{path}:v1"), "-o", "json", "--depth", "1"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let sbom_node = v["manifests"].as_array().unwrap().iter().find(|n| n["digest"] == sbom["digest"]).unwrap();
    assert_eq!(sbom_node["manifests"], json!([]));
    let (_, out, _) = sigscope(&[
        "tree",
        "--oci-layout",
        &format!("{path}:v1"),
        "-o",
        "json",
        "--artifact-type",
        "application/spdx+json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(digests(&v["manifests"]), vec![sbom["digest"].as_str().unwrap().to_string()]);
}

#[test]
fn text_tree_shows_tags_kinds_and_escapes_hostile_annotations() {
    let mut l = Layout::new();
    let img = l.image("v1", json!({}));
    l.referrer(&img, "application/vnd.cncf.notary.signature\u{1b}[2J", b"sig");
    let path = l.finish().display().to_string();
    let (code, out, err) = sigscope(&["tree", "--oci-layout", &path]);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains(img["digest"].as_str().unwrap()), "{out}");
    assert!(out.contains("← v1"), "{out}");
    assert!(out.contains("\\x1b[2J"), "escape shown escaped: {out}");
    assert!(!out.contains('\u{1b}'), "no raw escape reaches the terminal");
}

#[test]
fn corrupted_blob_fails_its_node_only() {
    let mut l = Layout::new();
    let good = l.image("good", json!({}));
    let bad = l.image("bad", json!({}));
    let path = l.finish().to_path_buf();
    // Overwrite the bad manifest with other bytes: its content no longer matches its digest.
    std::fs::write(path.join("blobs/sha256").join(&bad["digest"].as_str().unwrap()[7..]), b"{\"schemaVersion\":2}")
        .unwrap();
    let (code, out, err) = sigscope(&["tree", "--oci-layout", path.to_str().unwrap(), "-o", "json"]);
    assert_eq!(code, 3, "stdout: {out}");
    assert!(err.contains("integrity error"), "stderr: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let tags = v["tags"].as_array().unwrap();
    let good_node = tags.iter().find(|n| n["digest"] == good["digest"]).expect("good image still listed");
    assert!(good_node.get("error").is_none());
    let failed: Vec<_> = tags.iter().filter(|n| n.get("error").is_some()).collect();
    assert_eq!(failed.len(), 1, "{out}");
    assert!(failed[0]["error"].as_str().unwrap().contains("integrity error"));
}

#[test]
fn missing_layout_is_a_usage_error() {
    let (code, _, err) = sigscope(&["tree", "--oci-layout", "/nonexistent/layout"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/layout"), "{err}");
    let (code, _, err) = sigscope(&["tree", "Bad/Repo:tag"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn completions_cover_the_subcommands() {
    let (code, out, err) = sigscope(&["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    for word in ["tree", "demo", "--oci-layout", "--artifact-type"] {
        assert!(out.contains(word), "{word} missing from the bash completion");
    }
    let (code, _, _) = sigscope(&["completions", "nosuchshell"]);
    assert_eq!(code, 2);
}

/// Issue 8 (CLI): a local layout given without `--oci-layout` is pointed to, not tried as a
/// registry ("network error talking to ."); so is a layout one level down; `--oci-layout`
/// without a path is a usage error rather than the demo.
#[test]
fn local_paths_without_oci_layout_get_a_hint_not_a_network_error() {
    let dir = tempfile::tempdir().unwrap();
    sigscope::demo::export(&dir.path().join("d")).unwrap();
    let layout = dir.path().join("d/layout");
    let parent = dir.path().join("d");

    let (code, _, stderr) = sigscope(&["tree", &format!("{}:signed", layout.display())]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("did you mean --oci-layout {}:signed", layout.display())), "{stderr}");
    assert!(!stderr.contains("network error"), "{stderr}");

    let notation = parent.join("notation");
    let (code, _, stderr) =
        sigscope(&["verify", parent.to_str().unwrap(), "--notation-dir", notation.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("holds an OCI image layout in {}", layout.display())), "{stderr}");

    let (code, _, stderr) = sigscope(&["tree", "--oci-layout", parent.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("pass --oci-layout {}", layout.display())), "{stderr}");

    let (code, _, stderr) = sigscope(&["tree", "./no/such/dir"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("looks like a local path"), "{stderr}");

    let (code, _, stderr) = sigscope(&["--oci-layout"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--oci-layout needs a layout"), "{stderr}");

    // With the flag, the same layout works (the refusals above are about the missing flag).
    let (code, _, stderr) = sigscope(&["tree", "--oci-layout", &format!("{}:signed", layout.display())]);
    assert_eq!(code, 0, "{stderr}");
}

/// Issue 8 (CLI): a tag or digest a local layout does not hold is the user's mistake (exit 2,
/// "usage or config"), not "registry or network error" (3): there is neither in a layout.
#[test]
fn a_missing_tag_or_digest_in_a_layout_is_not_a_network_error() {
    let dir = tempfile::tempdir().unwrap();
    sigscope::demo::export(&dir.path().join("d")).unwrap();
    let layout = dir.path().join("d/layout").display().to_string();
    let notation = dir.path().join("d/notation").display().to_string();
    let absent = format!("{layout}@sha256:{}", "0".repeat(64));
    for target in [format!("{layout}:nope"), absent] {
        let (code, out, err) = sigscope(&["tree", "--oci-layout", &target]);
        assert_eq!(code, 2, "{target}: {out}{err}");
        assert!(err.contains("not found"), "{err}");
        let (code, out, err) = sigscope(&["tree", "--oci-layout", &target, "-o", "json"]);
        assert_eq!(code, 2, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v["error"].as_str().unwrap().contains("not found"), "{v}");
        let (code, _, err) = sigscope(&["verify", "--oci-layout", &target, "--notation-dir", &notation]);
        assert_eq!(code, 2, "{target}: {err}");
        assert!(err.contains("not found"), "{err}");
    }
    // The same class one step earlier: a layout without its index.json.
    std::fs::remove_file(dir.path().join("d/layout/index.json")).unwrap();
    let (code, _, err) = sigscope(&["tree", "--oci-layout", &layout]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("index.json"), "{err}");
}

/// Issue 8 (CLI): the JSON of `tree` for machines. Every node says what it is in `type`
/// (registry, repository, tag, artifact); an artifact's `kind` is a stable token beside its
/// display `label`; `via` is a token, and the cosign tag a referrer was found by is a field
/// of its own.
#[test]
fn json_nodes_carry_a_type_a_kind_token_and_a_via_token() {
    let dir = tempfile::tempdir().unwrap();
    sigscope::demo::export(&dir.path().join("d")).unwrap();
    let layout = dir.path().join("d/layout").display().to_string();

    let (code, out, err) = sigscope(&["tree", "--oci-layout", &format!("{layout}:signed"), "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((&v["type"], &v["kind"], &v["label"]), (&json!("artifact"), &json!("image"), &json!("image")));
    assert!(v.get("via").is_none() && v.get("viaTag").is_none(), "a root is found by no referrer lookup");
    let referrers = v["manifests"].as_array().unwrap();
    let mut kinds: Vec<(&str, &str)> =
        referrers.iter().map(|m| (m["kind"].as_str().unwrap(), m["label"].as_str().unwrap())).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("cosign-signature", "cosign signature"),
            ("cyclonedx-sbom", "CycloneDX SBOM"),
            ("in-toto-attestation", "in-toto attestation"),
            ("notation-signature", "Notation signature"),
            ("notation-signature", "Notation signature"),
            ("spdx-sbom", "SPDX SBOM"),
        ]
    );
    for m in referrers {
        assert_eq!(m["type"], "artifact", "{m}");
        if m["kind"] == "cosign-signature" {
            assert_eq!(m["via"], "cosign-tag");
            let tag = format!("sha256-{}.sig", &v["digest"].as_str().unwrap()[7..]);
            assert_eq!(m["viaTag"], tag.as_str());
        } else {
            assert_eq!(m["via"], "referrers-api");
            assert!(m.get("viaTag").is_none(), "{m}");
        }
    }

    // A repository, its tags resolved to artifacts.
    let (code, out, err) = sigscope(&["tree", "--oci-layout", &layout, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["type"], "repository");
    let tags = v["tags"].as_array().unwrap();
    assert_eq!(tags.len(), 6);
    assert!(tags.iter().all(|t| t["type"] == "artifact"), "{v:#}");
    let multi = tags.iter().find(|t| t["tags"] == json!(["multiarch"])).unwrap();
    assert_eq!(multi["kind"], "index");
    assert!(multi["platforms"].as_array().unwrap().iter().all(|p| p["type"] == "artifact" && p["kind"] == "image"));

    // A tag that does not resolve is a tag node with its name.
    let (_, out, _) = sigscope(&["tree", "--oci-layout", &format!("{layout}:nope"), "-o", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((&v["type"], &v["tag"]), (&json!("tag"), &json!("nope")), "{v}");
    assert!(v["error"].as_str().unwrap().contains("not found"));
}
