//! Decoders for what referrers carry: Notation envelopes (JWS, COSE), cosign simple signing,
//! SBOMs (SPDX, CycloneDX), in-toto statements in DSSE, SLSA provenance, scan reports.
//!
//! Every decoder returns plain [`Details`]: titled sections of fields and tables. The TUI draws
//! them and `-o json` prints them; strings are raw here and sanitised by whoever displays them.
//! Bytes in, sections out: what to fetch, and fetching it, is [`crate::describe`]'s.

use serde::Serialize;

use crate::graph::{ArtifactKind, ArtifactNode, Role};
use crate::oci::{Descriptor, media};

pub mod cosign;
pub mod intoto;
pub mod notation;
pub mod sbom;
pub mod x509;

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

/// Layers decoded per artifact at most: a cosign `.sig` may pile up signatures.
pub const MAX_LAYERS: usize = 16;

pub fn descriptor_section(node: &ArtifactNode) -> Section {
    let d = &node.descriptor;
    let mut s = Section::new("Descriptor")
        .field("kind", node.kind_label())
        .field("mediaType", d.media_type.to_string())
        .field("digest", d.digest.clone())
        .field("size", d.size.to_string());
    // Only a declared artifactType: an image's config mediaType is not one.
    let artifact_type = d
        .artifact_type
        .as_deref()
        .or_else(|| node.manifest.as_ref().and_then(|m| m.artifact_type.as_deref()))
        .map(str::to_string);
    if let Some(at) = artifact_type {
        s = s.field("artifactType", at);
    }
    if let Some(p) = &d.platform {
        s = s.field("platform", p.to_string());
    }
    let found = match &node.role {
        Role::Root => "tag or digest".to_string(),
        Role::Platform => "platform entry of its index".to_string(),
        Role::Referrer(via) => format!("referrer, via {via}"),
    };
    s = s.field("found via", found);
    if let Some(c) = node.created() {
        s = s.field("created", c);
    }
    s
}

pub fn annotations_section(node: &ArtifactNode) -> Section {
    let mut ann = Section::new("Annotations");
    for (k, v) in node.annotations().iter() {
        ann = ann.field(k.to_string(), v.to_string());
    }
    ann
}

/// Which decoder a layer needs: by its media type first (authoritative for the bytes), then by
/// what the artifact was classified as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    Notation,
    SimpleSigning,
    Bundle,
    InToto,
    Spdx,
    CycloneDx,
}

pub fn decoder_for(layer: &Descriptor, kind: ArtifactKind) -> Option<Decoder> {
    let mt = layer.media_type.to_ascii_lowercase();
    let mt = mt.split(';').next().unwrap_or("").trim();
    Some(match mt {
        media::JWS | media::COSE => Decoder::Notation,
        media::COSIGN_SIMPLESIGNING => Decoder::SimpleSigning,
        m if m.starts_with(media::SIGSTORE_BUNDLE_PREFIX) => Decoder::Bundle,
        media::DSSE | media::IN_TOTO => Decoder::InToto,
        m if m.contains("spdx") && m.contains("json") => Decoder::Spdx,
        m if m.contains("cyclonedx") && m.contains("json") => Decoder::CycloneDx,
        _ => match kind {
            ArtifactKind::SigstoreBundle => Decoder::Bundle,
            ArtifactKind::InTotoAttestation | ArtifactKind::CosignAttestation => Decoder::InToto,
            ArtifactKind::SpdxSbom => Decoder::Spdx,
            ArtifactKind::CycloneDxSbom => Decoder::CycloneDx,
            _ => return None,
        },
    })
}

pub fn decoder_title(d: Decoder) -> &'static str {
    match d {
        Decoder::Notation => notation::TITLE,
        Decoder::SimpleSigning => cosign::SIMPLE_TITLE,
        Decoder::Bundle => cosign::BUNDLE_TITLE,
        Decoder::InToto => intoto::STATEMENT_TITLE,
        Decoder::Spdx => sbom::SPDX_TITLE,
        Decoder::CycloneDx => sbom::CYCLONEDX_TITLE,
    }
}

/// What one layer decodes to with `decoder`.
pub fn decode_layer(decoder: Decoder, layer: &Descriptor, bytes: &[u8]) -> Vec<Section> {
    match decoder {
        Decoder::Notation => notation::decode(&layer.media_type, bytes),
        Decoder::SimpleSigning => cosign::simple_signing(bytes, &layer.annotations),
        Decoder::Bundle => cosign::bundle(bytes),
        Decoder::InToto => intoto::decode(bytes),
        Decoder::Spdx => sbom::spdx(bytes),
        Decoder::CycloneDx => sbom::cyclonedx(bytes),
    }
}

/// The note for layers past [`MAX_LAYERS`], when there are any.
pub fn layers_not_decoded(layers: usize) -> Option<Section> {
    (layers > MAX_LAYERS)
        .then(|| Section::new("Layers").field("note", format!("… {} more layers not decoded", layers - MAX_LAYERS)))
}

pub fn index_section(entries: &[Descriptor]) -> Section {
    let mut s = Section::new("Index").field("manifests", entries.len().to_string());
    s.table = Some(Table {
        headers: vec!["platform".into(), "mediaType".into(), "digest".into(), "size".into()],
        rows: entries
            .iter()
            .take(sbom::MAX_ROWS)
            .map(|d| {
                vec![
                    d.platform.as_ref().map(ToString::to_string).unwrap_or_default(),
                    d.media_type.clone(),
                    d.digest.clone(),
                    d.size.to_string(),
                ]
            })
            .collect(),
    });
    s
}

/// An image: its config's platform and creation time (`config`: the config blob as fetched, or
/// why not; `None` when the manifest names none), and its layers.
pub fn image_section(m: &crate::oci::Manifest, config: Option<Result<impl AsRef<[u8]>, String>>) -> Section {
    const TITLE: &str = "Image";
    let mut s = Section::new(TITLE);
    match config {
        None => {}
        Some(Ok(b)) => match serde_json::from_slice::<serde_json::Value>(b.as_ref()) {
            Ok(v) => {
                let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                s = s.field("platform", format!("{}/{}", text("os"), text("architecture")));
                if !text("created").is_empty() {
                    s = s.field("config created", text("created"));
                }
            }
            Err(e) => s = s.field("config", format!("not JSON: {e}")),
        },
        Some(Err(e)) => s = s.field("config", format!("not fetched: {e}")),
    }
    let total: u64 = m.layers().iter().map(|l| l.size).sum();
    s = s.field("layers", m.layers().len().to_string()).field("layers size", total.to_string());
    s.table = Some(Table {
        headers: vec!["mediaType".into(), "digest".into(), "size".into()],
        rows: m
            .layers()
            .iter()
            .take(sbom::MAX_ROWS)
            .map(|l| vec![l.media_type.clone(), l.digest.clone(), l.size.to_string()])
            .collect(),
    });
    s
}
