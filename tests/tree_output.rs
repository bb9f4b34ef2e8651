//! `sigscope tree` output pinned byte for byte on a big generated layout: images with
//! annotations (some with characters the JSON escapes), three referrers each and a referrer
//! of a referrer, a multi-arch index with platforms, a cosign tag, an artifact of a type no one
//! knows and a referrer whose blob is missing. The report is written as the graph is walked
//! (issue 13); scripts read its bytes, so they must be what they were when it was built whole.
//!
//! The pins are SHA-256 of the output with the layout's temporary path replaced by `LAYOUT`,
//! taken from the binary of 6143d78 (the report built whole). `SIGSCOPE_BEFORE_BIN=path` also
//! runs that other binary on the same layout and compares the outputs directly, which is how
//! the pins were checked and how to see a difference rather than a hash.

mod common;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use common::layout::{INDEX, Layout, MANIFEST};

const IMAGES: usize = 400;

const PIN_JSON: &str = "fbe82534930df4484ed4acc0093c833276ebe6ab38fa35743ac704b5bd3c3925";
const PIN_TEXT: &str = "ed1adfdc6db9d41eb4c42c53f0836c8d4993a19e4efab8507bf3b9439873610e";

fn referrer(l: &mut Layout, subject: &Value, artifact_type: &str, content: &[u8], extra: Value) -> Value {
    let empty = l.blob(b"{}");
    let layer = l.blob(content);
    let mut annotations = json!({"org.opencontainers.image.created": "2025-01-01T00:00:00Z"});
    if let (Some(a), Some(extra)) = (annotations.as_object_mut(), extra.as_object()) {
        a.extend(extra.clone());
    }
    l.write(
        MANIFEST,
        &json!({
            "schemaVersion": 2, "mediaType": MANIFEST, "artifactType": artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty["digest"], "size": 2},
            "layers": [{"mediaType": artifact_type, "digest": layer["digest"], "size": layer["size"]}],
            "subject": subject,
            "annotations": annotations,
        }),
        None,
        true,
    )
}

/// The layout: `IMAGES` images and everything around them; deterministic (no clock, no
/// randomness), so its digests and therefore the output are the same on every run.
fn big_layout() -> Layout {
    let mut l = Layout::new();
    let mut images = Vec::new();
    for i in 0..IMAGES {
        let mut notes = json!({
            "org.opencontainers.image.created": format!("2025-02-{:02}T04:05:06Z", i % 28 + 1),
            "org.example.build": format!("build {i}"),
        });
        if i % 50 == 7 {
            // C1, bidi override and a line separator: escaped in the JSON, shown escaped in text.
            notes["org.example.note"] = json!(format!("note \u{9b}31m \u{202e}{i}\u{2028}end"));
        }
        let img = l.image(&format!("img-{i:04}"), notes);
        let sig =
            referrer(&mut l, &img, "application/vnd.cncf.notary.signature", format!("sig {i}").as_bytes(), json!({}));
        let sbom = referrer(&mut l, &img, "application/spdx+json", format!("sbom {i}").as_bytes(), json!({}));
        referrer(
            &mut l,
            &img,
            "application/vnd.in-toto+json",
            format!("att {i}").as_bytes(),
            json!({"predicateType": "https://slsa.dev/provenance/v1"}),
        );
        referrer(&mut l, &sbom, "application/vnd.cncf.notary.signature", format!("sbom sig {i}").as_bytes(), json!({}));
        if i % 100 == 3 {
            referrer(&mut l, &sig, "application/vnd.example.thing", b"unknown", json!({}));
        }
        images.push(img);
    }
    // A multi-arch index over two of them, with a referrer of its own.
    let platform = |d: &Value, arch: &str| {
        let mut p = d.clone();
        p["platform"] = json!({"architecture": arch, "os": "linux"});
        p
    };
    let index = l.write(
        INDEX,
        &json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": [platform(&images[0], "amd64"), platform(&images[1], "arm64")]}),
        Some("multi"),
        true,
    );
    referrer(&mut l, &index, "application/spdx+json", b"index sbom", json!({}));
    // cosign's tag scheme for one image.
    let hex = images[2]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let config = l.blob(br#"{"architecture":"","os":""}"#);
    let payload = l.blob(b"{\"critical\":{}}");
    l.write(
        MANIFEST,
        &json!({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config["digest"], "size": config["size"]},
            "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": payload["digest"], "size": payload["size"],
                        "annotations": {"dev.cosignproject.cosign/signature": "MEUCIQ=="}}],
        }),
        Some(&format!("sha256-{hex}.sig")),
        true,
    );
    // A referrer whose manifest blob is gone: its node fails, the rest stands.
    let gone = referrer(&mut l, &images[3], "application/spdx+json", b"gone", json!({}));
    common::layout::remove_blobs(l.path(), &[gone["digest"].as_str().unwrap()]);
    l.finish();
    l
}

fn run(bin: Option<&str>, args: &[&str]) -> (i32, Vec<u8>, String) {
    match bin {
        None => {
            let r = common::cmd::sigscope(args).run();
            r.ended();
            (r.code.unwrap(), r.stdout, r.stderr)
        }
        Some(path) => {
            let out = std::process::Command::new(path)
                .args(args)
                .env("DOCKER_CONFIG", common::cmd::NO_DOCKER_CONFIG)
                .output()
                .expect("run the other binary");
            (out.status.code().unwrap_or(-1), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

fn normalised(out: &[u8], path: &str) -> Vec<u8> {
    String::from_utf8(out.to_vec()).expect("UTF-8").replace(path, "LAYOUT").into_bytes()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn tree_output_is_byte_for_byte_what_it_was() {
    let l = big_layout();
    let path = l.path().to_str().unwrap().to_string();
    let mut outputs = Vec::new();
    for format in ["json", "tree"] {
        let (code, out, err) = run(None, &["tree", "--oci-layout", &path, "-o", format]);
        assert_eq!(code, 3, "the missing blob fails its node: {err}");
        assert!(err.contains("sigscope tree: "), "{err}");
        let out = normalised(&out, &path);
        if let Ok(other) = std::env::var("SIGSCOPE_BEFORE_BIN") {
            let (other_code, other_out, other_err) = run(Some(&other), &["tree", "--oci-layout", &path, "-o", format]);
            assert_eq!((code, &err), (other_code, &other_err), "exit code and stderr");
            let other_out = normalised(&other_out, &path);
            if out != other_out {
                let at = out.iter().zip(&other_out).position(|(a, b)| a != b).unwrap_or(out.len().min(other_out.len()));
                let show = |b: &[u8]| {
                    String::from_utf8_lossy(&b[at.saturating_sub(200)..(at + 200).min(b.len())]).into_owned()
                };
                panic!("-o {format} differs at byte {at}:\nnow:\n{}\nbefore:\n{}", show(&out), show(&other_out));
            }
        }
        outputs.push(out);
    }
    // The shape first, so a change says what moved before the pins say that something did.
    let v: Value = serde_json::from_slice(&outputs[0]).unwrap();
    let tags = v["tags"].as_array().expect("a repository's tags");
    assert_eq!(tags.len(), IMAGES + 1, "every image and the index");
    let artifacts = String::from_utf8_lossy(&outputs[0]).matches("\"type\": \"artifact\"").count();
    assert!(artifacts > IMAGES * 5, "{artifacts} artifacts");
    let json = String::from_utf8_lossy(&outputs[0]);
    for part in [
        "\\u009b31m \\u202e",
        "\"via\": \"cosign-tag\"",
        "\"label\": \"artifact application/vnd.example.thing\"",
        "\"platforms\": [",
        "\"error\": ",
    ] {
        assert!(json.contains(part), "{part} is in the output");
    }
    assert_eq!(sha256(&outputs[0]), PIN_JSON, "-o json changed");
    assert_eq!(sha256(&outputs[1]), PIN_TEXT, "-o tree changed");
}
