//! What an artifact holds, for the details panel: its manifest and the blobs worth decoding,
//! fetched from its source (within the preview limit) and decoded by [`crate::inspect`]. A part
//! that cannot be fetched or decoded becomes a failed section; the rest still shows.

use std::sync::Arc;

use crate::graph::{ArtifactKind, ArtifactNode};
use crate::inspect::{self, Details, Section, Table};
use crate::source::{FetchedManifest, RegistryFacts, Source};

/// Describes an artifact node for the details panel and `-o json`: descriptor, annotations,
/// the registry's own record, the pretty-printed manifest, and what its blobs decode to.
pub async fn describe(source: &dyn Source, node: &ArtifactNode, preview_limit: u64) -> Details {
    let mut sections = vec![inspect::descriptor_section(node), inspect::annotations_section(node)];
    let digest = node.descriptor.digest.to_string();
    match source.registry_facts(&node.repository, &digest).await {
        Ok(None) => {}
        Ok(Some(f)) => sections.push(facts_section(f)),
        Err(e) => sections.push(Section::failed("Registry", e)),
    }
    // The graph keeps only what its lines show of a manifest; the source has the rest, by
    // digest (content-addressed, so never stale), and usually cached from the expansion.
    let fetched = match source.manifest(&node.repository, &digest).await {
        Ok(m) => Some(m),
        Err(e) => {
            sections.push(Section::failed("Manifest", e));
            None
        }
    };
    if let Some(m) = &fetched {
        sections.extend(content_sections(source, node, m, preview_limit).await);
    }
    let manifest = fetched.map(|m| match serde_json::from_slice::<serde_json::Value>(&m.raw) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(&m.raw).into_owned(),
    });
    Details { sections, manifest }
}

/// What the registry's own API said (ECR's image record and scan findings).
fn facts_section(f: RegistryFacts) -> Section {
    let mut s = Section::new(f.title);
    for (name, value) in f.fields {
        s = s.field(name, value);
    }
    s.table = f.table.map(|(headers, rows)| Table { headers, rows });
    s
}

async fn content_sections(
    source: &dyn Source,
    node: &ArtifactNode,
    fetched: &Arc<FetchedManifest>,
    limit: u64,
) -> Vec<Section> {
    let m = &fetched.manifest;
    let kind = crate::graph::classify_manifest(m);
    if m.is_index() {
        return vec![inspect::index_section(&m.manifests)];
    }
    if kind == ArtifactKind::Image {
        let config = match &m.config {
            Some(config) => Some(source.blob(&node.repository, config, limit).await.map_err(|e| e.to_string())),
            None => None,
        };
        return vec![inspect::image_section(m, config)];
    }
    let mut out = Vec::new();
    let layers = m.layers();
    for layer in layers.iter().take(inspect::MAX_LAYERS) {
        let Some(decoder) = inspect::decoder_for(layer, kind) else {
            continue;
        };
        match source.blob(&node.repository, layer, limit).await {
            Ok(bytes) => out.extend(inspect::decode_layer(decoder, layer, &bytes)),
            Err(e) => out.push(Section::failed(inspect::decoder_title(decoder), e)),
        }
    }
    out.extend(inspect::layers_not_decoded(layers.len()));
    out
}
