//! An attacker's review of the robustness fixes of issue 7 (items 4–11): crafted layouts,
//! registries and files against the real binary. Each test asserts the secure outcome and
//! fails when the attack works; a run is bounded in time and memory so a regression fails
//! the test instead of taking the machine down.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// A command that has not ended by then is hung: generous, so a slow machine never trips it.
const HANG: Duration = Duration::from_secs(30);

struct Run {
    /// `None`: killed after [`HANG`].
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    fn ended(&self) {
        assert!(self.code.is_some(), "hung (killed after {HANG:?}); stderr: {}", self.stderr);
        assert_ne!(self.code, Some(-1), "killed by a signal; stderr: {}", self.stderr);
    }
}

/// Runs sigscope with a 2 GB virtual-memory cap and kills it after [`HANG`].
fn sigscope(args: &[&str]) -> Run {
    let out = tempfile::tempdir().unwrap();
    let (o, e) = (out.path().join("stdout"), out.path().join("stderr"));
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 2000000; ulimit -f 1000000; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_sigscope"))
        .args(args)
        .env("DOCKER_CONFIG", "/nonexistent/sigscope-test-docker-config")
        .env("XDG_CACHE_HOME", out.path().join("cache"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&o).unwrap())
        .stderr(std::fs::File::create(&e).unwrap());
    let mut child = cmd.spawn().expect("run sigscope");
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status.code().unwrap_or(-1));
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Run {
        code,
        stdout: std::fs::read(&o).unwrap(),
        stderr: String::from_utf8_lossy(&std::fs::read(&e).unwrap()).into(),
    }
}

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// An OCI layout built blob by blob.
struct Layout {
    dir: tempfile::TempDir,
}

impl Layout {
    fn new() -> Layout {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("layout");
        std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
        std::fs::write(root.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("layout")
    }

    fn outside(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn blob_path(&self, digest: &str) -> PathBuf {
        self.root().join("blobs/sha256").join(&digest["sha256:".len()..])
    }

    fn blob(&self, bytes: &[u8]) -> String {
        let d = digest_of(bytes);
        std::fs::write(self.blob_path(&d), bytes).unwrap();
        d
    }

    fn json(&self, v: &Value) -> (String, u64) {
        let bytes = serde_json::to_vec(v).unwrap();
        (self.blob(&bytes), bytes.len() as u64)
    }

    /// An image manifest with an empty config and no layers, plus `extra` fields.
    fn image(&self, extra: Value) -> (String, u64) {
        let config = self.blob(b"{}");
        let mut m = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
            "layers": [],
        });
        if let (Some(m), Value::Object(extra)) = (m.as_object_mut(), extra) {
            m.extend(extra);
        }
        self.json(&m)
    }

    fn index_json(&self, entries: Vec<Value>) {
        let index = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries});
        std::fs::write(self.root().join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    }

    fn target(&self, tag: &str) -> String {
        format!("{}:{tag}", self.root().display())
    }
}

fn tagged(media_type: &str, digest: &str, size: u64, tag: &str) -> Value {
    json!({"mediaType": media_type, "digest": digest, "size": size, "annotations": {REF_NAME: tag}})
}

fn tree_json(target: &str) -> Run {
    sigscope(&["tree", "--oci-layout", target, "-o", "json"])
}

// ---- output amplification -----------------------------------------------------------------

/// Bytes any `tree` report may take for these inputs: far over what they honestly hold.
const OUTPUT_BOUND: usize = 256 << 20;

#[test]
fn one_big_manifest_listed_thousands_of_times_does_not_amplify_the_report() {
    // A 3 MiB annotation on one manifest, and an index listing that manifest 20,000 times
    // (3.5 MB, within every limit): a report that copies the annotations per node is 60 GB.
    let l = Layout::new();
    let (big, big_size) = l.image(json!({"annotations": {"x": "A".repeat(3 << 20)}}));
    let entry = json!({"mediaType": MANIFEST, "digest": big, "size": big_size});
    let (index, index_size) =
        l.json(&json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": vec![entry; 20_000]}));
    l.index_json(vec![tagged(INDEX, &index, index_size, "amp")]);
    let run = tree_json(&l.target("amp"));
    run.ended();
    assert!(run.stdout.len() < OUTPUT_BOUND, "report of {} bytes from a {index_size}-byte index", run.stdout.len());
    assert_eq!(run.code, Some(3), "a partial report is a failure; stderr: {}", run.stderr);
    assert!(run.stderr.contains("size limit reached"), "the report says why it stops: {}", run.stderr);
    let v: Value = serde_json::from_slice(&run.stdout).expect("the report is JSON");
    assert!(v["platforms"].as_array().unwrap().len() == 20_000, "every entry is still listed");
}

#[test]
fn a_big_descriptor_under_an_index_listed_thousands_of_times_does_not_amplify_the_text_tree() {
    // The weight is in a descriptor, not in a manifest: index P names one image with a 3 MiB
    // artifactType; index G lists P 20,000 times, so the graph (and the text tree, which shows
    // artifact types) would hold 20,000 copies of it.
    let l = Layout::new();
    let (image, image_size) = l.image(json!({}));
    let heavy = json!({"mediaType": MANIFEST, "digest": image, "size": image_size, "artifactType": "a/".to_string() + &"b".repeat(3 << 20)});
    let (p, p_size) = l.json(&json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": [heavy]}));
    let entry = json!({"mediaType": INDEX, "digest": p, "size": p_size});
    let (g, g_size) = l.json(&json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": vec![entry; 20_000]}));
    l.index_json(vec![tagged(INDEX, &g, g_size, "amp")]);
    let run = sigscope(&["tree", "--oci-layout", &l.target("amp")]);
    run.ended();
    assert!(run.stdout.len() < OUTPUT_BOUND, "text tree of {} bytes", run.stdout.len());
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("size limit reached"), "{}", run.stderr);
}
