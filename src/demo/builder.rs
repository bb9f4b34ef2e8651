//! Writes an OCI image layout into memory: content-addressed blobs, `index.json`, `oci-layout`.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;

use crate::oci::{Descriptor, Manifest, annotations, media};
use crate::source::layout::MemFiles;

pub const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

#[derive(Default)]
pub struct LayoutBuilder {
    files: HashMap<String, Bytes>,
    index: Vec<Descriptor>,
}

impl LayoutBuilder {
    /// Stores a blob by its SHA-256 and returns its descriptor.
    pub fn blob(&mut self, media_type: &str, bytes: Vec<u8>) -> Descriptor {
        let d = Descriptor::new(media_type, &bytes);
        let hex = d.digest.strip_prefix("sha256:").expect("sha256 digest");
        self.files.insert(format!("blobs/sha256/{hex}"), Bytes::from(bytes));
        d
    }

    /// Stores a manifest or index; the descriptor carries its artifactType as a referrers
    /// listing would.
    pub fn manifest(&mut self, m: &Manifest) -> Descriptor {
        let mt = m.media_type.clone().unwrap_or_else(|| media::OCI_MANIFEST.to_string());
        let mut d = self.blob(&mt, m.to_json());
        d.artifact_type = m.artifact_type.clone();
        d
    }

    /// Lists a manifest in index.json under a tag.
    pub fn tag(&mut self, d: &Descriptor, tag: &str) {
        let mut d = d.clone();
        d.annotations.insert(annotations::REF_NAME.to_string(), tag.to_string());
        self.index.push(d);
    }

    /// Lists a manifest in index.json without a tag, as notation stores signatures in layouts,
    /// so that a scan of the layout finds it as a referrer of its subject.
    pub fn list(&mut self, d: &Descriptor) {
        self.index.push(d.clone());
    }

    pub fn finish(mut self) -> MemFiles {
        let index = Manifest {
            schema_version: 2,
            media_type: Some(media::OCI_INDEX.to_string()),
            manifests: self.index,
            ..Default::default()
        };
        self.files.insert("index.json".into(), Bytes::from(index.to_json()));
        self.files.insert("oci-layout".into(), Bytes::from_static(OCI_LAYOUT));
        MemFiles(self.files)
    }
}

/// `{"org.opencontainers.image.created": t}` plus extra pairs.
pub fn created(t: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut a: BTreeMap<String, String> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    a.insert(annotations::CREATED.to_string(), t.to_string());
    a
}
