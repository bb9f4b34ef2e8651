//! OCI image layouts written on disk by the tests, blob by blob, with digests computed here
//! (sha2, not the crate under test) so a test's expectations do not share the code's bugs.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use sigscope::oci::Descriptor;

pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Where the blob of `digest` (`sha256:<hex>`) lies in the layout at `layout`.
pub fn blob_path(layout: &Path, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").unwrap_or_else(|| panic!("{digest} is not a sha256 digest"));
    layout.join("blobs/sha256").join(hex)
}

/// Deletes the blobs of `digests` from the layout at `layout`, leaving index.json as it is: a
/// layout whose files went missing under it.
pub fn remove_blobs<D: AsRef<str>>(layout: &Path, digests: &[D]) {
    for d in digests {
        let path = blob_path(layout, d.as_ref());
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
    }
}

/// Writes `bytes` into `layout/blobs/sha256/` (which must exist); returns `{digest, size}`,
/// for the test to add a media type to.
pub fn put_blob(layout: &Path, bytes: &[u8]) -> Value {
    let d = digest(bytes);
    std::fs::write(blob_path(layout, &d), bytes).unwrap();
    json!({"digest": d, "size": bytes.len()})
}

/// [`put_blob`], returning the descriptor of `bytes` as `media_type`.
pub fn put_descriptor(layout: &Path, media_type: &str, bytes: &[u8]) -> Descriptor {
    let blob = put_blob(layout, bytes);
    Descriptor {
        media_type: media_type.into(),
        digest: blob["digest"].as_str().unwrap().into(),
        size: bytes.len() as u64,
        ..Default::default()
    }
}

/// A layout in a temporary directory, its index.json written by [`Layout::finish`].
pub struct Layout {
    pub dir: tempfile::TempDir,
    /// The entries of index.json.
    pub index: Vec<Value>,
}

impl Layout {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
        std::fs::write(dir.path().join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout { dir, index: Vec::new() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a blob; returns `{digest, size}`.
    pub fn blob(&self, bytes: &[u8]) -> Value {
        put_blob(self.dir.path(), bytes)
    }

    /// Writes a manifest of `media_type`; lists it in index.json (tagged `tag`) when `listed`.
    pub fn write(&mut self, media_type: &str, body: &Value, tag: Option<&str>, listed: bool) -> Value {
        let bytes = serde_json::to_vec(body).unwrap();
        let mut d = self.blob(&bytes);
        d["mediaType"] = json!(media_type);
        if listed {
            let mut entry = d.clone();
            if let Some(t) = tag {
                entry["annotations"] = json!({REF_NAME: t});
            }
            self.index.push(entry);
        }
        d
    }

    /// Writes an image manifest and lists it, tagged `tag` if given.
    pub fn manifest(&mut self, body: &Value, tag: Option<&str>) -> Value {
        self.write(MANIFEST, body, tag, true)
    }

    /// A linux/amd64 image tagged `tag` (its one layer is the tag's bytes) with `annotations`.
    pub fn image(&mut self, tag: &str, annotations: Value) -> Value {
        let config = self.blob(br#"{"architecture":"amd64","os":"linux"}"#);
        let layer = self.blob(tag.as_bytes());
        self.manifest(
            &json!({
                "schemaVersion": 2, "mediaType": MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config["digest"], "size": config["size"]},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer["digest"], "size": layer["size"]}],
                "annotations": annotations,
            }),
            Some(tag),
        )
    }

    /// Writes index.json; returns the layout's path.
    pub fn finish(&self) -> &Path {
        let index = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": self.index});
        std::fs::write(self.dir.path().join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        self.dir.path()
    }
}
