//! The supply-chain graph: nodes, artifact kinds, load state. The TUI and `sigscope tree` share it.

use std::sync::Arc;

use serde::Serialize;

pub mod compact;
pub mod discover;
pub mod expand;
pub mod report;

pub use compact::{Annotations, ManifestFacts, NodeDescriptor, NodeDigest};

pub use crate::source::referrers::Via;

use crate::oci::{Descriptor, Manifest, annotations, media};
use crate::source::FetchedManifest;
use compact::Interner;

/// What an artifact is, classified from artifactType, config mediaType and layer mediaTypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    Image,
    Index,
    NotationSignature,
    SigstoreBundle,
    CosignSignature,
    CosignAttestation,
    SpdxSbom,
    #[serde(rename = "cyclonedx-sbom")]
    CycloneDxSbom,
    InTotoAttestation,
    ScanReport,
    Other,
}

impl ArtifactKind {
    pub fn label(self) -> &'static str {
        match self {
            ArtifactKind::Image => "image",
            ArtifactKind::Index => "index",
            ArtifactKind::NotationSignature => "Notation signature",
            ArtifactKind::SigstoreBundle => "Sigstore bundle",
            ArtifactKind::CosignSignature => "cosign signature",
            ArtifactKind::CosignAttestation => "cosign attestation",
            ArtifactKind::SpdxSbom => "SPDX SBOM",
            ArtifactKind::CycloneDxSbom => "CycloneDX SBOM",
            ArtifactKind::InTotoAttestation => "in-toto attestation",
            ArtifactKind::ScanReport => "scan report",
            ArtifactKind::Other => "other",
        }
    }

    pub fn is_signature(self) -> bool {
        matches!(self, ArtifactKind::NotationSignature | ArtifactKind::SigstoreBundle | ArtifactKind::CosignSignature)
    }

    pub fn is_sbom(self) -> bool {
        matches!(self, ArtifactKind::SpdxSbom | ArtifactKind::CycloneDxSbom)
    }
}

fn kind_of_type(t: &str) -> Option<ArtifactKind> {
    let lower = t.to_ascii_lowercase();
    let base = lower.split(';').next().unwrap_or("").trim();
    Some(match base {
        media::NOTATION_SIGNATURE | media::NOTATION_SIGNATURE_LEGACY => ArtifactKind::NotationSignature,
        b if b.starts_with(media::SIGSTORE_BUNDLE_PREFIX) => ArtifactKind::SigstoreBundle,
        media::COSIGN_SIMPLESIGNING | media::COSIGN_ARTIFACT_SIG => ArtifactKind::CosignSignature,
        media::DSSE => ArtifactKind::CosignAttestation,
        b if b.starts_with("application/vnd.dev.cosign.artifact.") => ArtifactKind::CosignAttestation,
        media::IN_TOTO => ArtifactKind::InTotoAttestation,
        media::SPDX_JSON | media::SPDX_TEXT_JSON | media::SPDX_TEXT | "application/spdx" => ArtifactKind::SpdxSbom,
        b if b.contains("cyclonedx") || b.contains("cyclone-dx") => ArtifactKind::CycloneDxSbom,
        b if b.contains("spdx") => ArtifactKind::SpdxSbom,
        media::SARIF => ArtifactKind::ScanReport,
        b if b.contains("vuln") || b.contains("scan") || b.contains("vex") || b.contains("trivy") => {
            ArtifactKind::ScanReport
        }
        media::OCI_CONFIG | media::DOCKER_CONFIG => ArtifactKind::Image,
        media::OCI_INDEX | media::DOCKER_LIST => ArtifactKind::Index,
        _ => return None,
    })
}

/// Classifies a descriptor before its manifest is fetched (the referrers index carries
/// artifactType; index entries carry mediaType).
pub fn classify_descriptor(d: &Descriptor) -> ArtifactKind {
    if let Some(k) = d.artifact_type.as_deref().and_then(kind_of_type) {
        return k;
    }
    // BuildKit keeps provenance and SBOM attestations as extra entries of the image index.
    if d.annotations.get(annotations::BUILDKIT_REFERENCE_TYPE).map(String::as_str) == Some("attestation-manifest") {
        return ArtifactKind::InTotoAttestation;
    }
    if media::is_index(&d.media_type) {
        ArtifactKind::Index
    } else if media::is_manifest(&d.media_type) {
        ArtifactKind::Image
    } else {
        ArtifactKind::Other
    }
}

/// Classifies a fetched manifest: artifactType, then config mediaType, then layer mediaTypes.
pub fn classify_manifest(m: &Manifest) -> ArtifactKind {
    // A declared artifactType is authoritative, known or not.
    if let Some(at) = m.artifact_type.as_deref() {
        return kind_of_type(at).unwrap_or(ArtifactKind::Other);
    }
    if m.is_index() {
        return ArtifactKind::Index;
    }
    let config_type = m.config.as_ref().map(|c| c.media_type.as_str()).unwrap_or("");
    let image_config = config_type == media::OCI_CONFIG || config_type == media::DOCKER_CONFIG;
    if !image_config
        && config_type != media::OCI_EMPTY
        && let Some(k) = kind_of_type(config_type)
    {
        return k;
    }
    // Layers decide for cosign's tag-scheme manifests, whose config is a plain image config.
    for layer in m.layers() {
        match kind_of_type(&layer.media_type) {
            Some(ArtifactKind::Image | ArtifactKind::Index) | None => {}
            Some(k) => return k,
        }
        if layer.media_type == media::JWS || layer.media_type == media::COSE {
            return ArtifactKind::NotationSignature;
        }
    }
    if image_config { ArtifactKind::Image } else { ArtifactKind::Other }
}

/// Where an artifact sits relative to its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Reached through a tag or given by digest.
    Root,
    /// An entry of its parent index.
    Platform,
    /// A referrer of its parent, found one way or another.
    Referrer(Via),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadState {
    NotLoaded,
    Loading,
    Loaded,
    Failed(String),
}

impl LoadState {
    pub fn word(&self) -> &str {
        match self {
            LoadState::NotLoaded => "not loaded",
            LoadState::Loading => "loading",
            LoadState::Loaded => "loaded",
            LoadState::Failed(_) => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactNode {
    /// Shared by every node of the repository within a graph (see [`compact::Interner`]).
    pub repository: Arc<str>,
    /// As the parent listed it (or as fetched, for a root), less its annotations:
    /// [`Self::annotations`] reads those.
    pub descriptor: NodeDescriptor,
    pub kind: ArtifactKind,
    pub role: Role,
    /// What the manifest said, once the node has been expanded (the manifest itself stays
    /// with the source).
    pub manifest: Option<Box<ManifestFacts>>,
    /// The annotations the parent listed. Emptied once the manifest is read if they are the
    /// manifest's own (as a referrers listing copies them): [`Self::annotations`] and
    /// [`Self::created`] read the manifest's first, so one copy is enough.
    pub listed: Annotations,
}

impl ArtifactNode {
    /// A node as its parent (or a TARGET) describes it, before it is in a graph.
    pub fn new(repository: &str, descriptor: Descriptor, kind: ArtifactKind, role: Role) -> Self {
        let listed = Annotations::from_map(&descriptor.annotations);
        let (descriptor, _) = NodeDescriptor::of(descriptor, &mut Interner::default());
        ArtifactNode { repository: repository.into(), descriptor, kind, role, manifest: None, listed }
    }

    pub fn created(&self) -> Option<&str> {
        let from_manifest = self.manifest.as_ref().and_then(|m| m.annotations.get(annotations::CREATED));
        from_manifest.or_else(|| self.listed.get(annotations::CREATED))
    }

    /// The kind as a reader names it: the label of a known kind, and for anything else the
    /// type it declares (`artifact application/vnd.cncf.helm.config.v1+json`), as given by the
    /// source — callers showing it on a screen sanitise it.
    pub fn kind_label(&self) -> String {
        if self.kind != ArtifactKind::Other {
            return self.kind.label().to_string();
        }
        let declared = self
            .manifest
            .as_ref()
            .and_then(|m| m.effective_artifact_type.as_deref())
            .or(self.descriptor.artifact_type.as_deref())
            .filter(|t| !t.is_empty() && *t != media::OCI_EMPTY);
        match declared {
            Some(t) => format!("artifact {t}"),
            None => "artifact".to_string(),
        }
    }

    /// Annotations of the manifest when loaded, else those the parent's descriptor carried.
    pub fn annotations(&self) -> &Annotations {
        match &self.manifest {
            Some(m) if !m.annotations.is_empty() => &m.annotations,
            _ => &self.listed,
        }
    }
}

// Nearly every node is an artifact, so boxing that variant would add an allocation per node
// and save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Registry { host: String },
    Repository { name: String },
    Tag { repository: String, tag: String },
    Artifact(ArtifactNode),
}

pub type NodeId = usize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    pub parent: Option<NodeId>,
    pub children: Vec<NodeId>,
    pub load: LoadState,
    /// Tags that point at this artifact (filled from the repository's tag list).
    pub tags: Vec<String>,
    /// Edges between this node and its root (a root is 0); never over [`MAX_DEPTH`].
    pub depth: usize,
    /// Why this node is never loaded, when it is not (its `load` says it in words too).
    /// Boxed: nearly every node has none.
    pub stop: Option<Box<Stop>>,
}

/// Why a node is kept but never loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Its digest is that of an ancestor: loading it would loop.
    Cycle { digest: String },
    /// It sits at [`MAX_DEPTH`].
    DepthLimit,
}

impl Node {
    pub fn artifact(&self) -> Option<&ArtifactNode> {
        match &self.kind {
            NodeKind::Artifact(a) => Some(a),
            _ => None,
        }
    }

    pub fn digest(&self) -> Option<&NodeDigest> {
        self.artifact().map(|a| &a.descriptor.digest)
    }

    /// Repository this node belongs to, if any.
    pub fn repository(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Repository { name } => Some(name),
            NodeKind::Tag { repository, .. } => Some(repository),
            NodeKind::Artifact(a) => Some(&a.repository),
            NodeKind::Registry { .. } => None,
        }
    }

    /// Whether loading this node may add children: not a cycle, not at the depth limit.
    pub fn expandable(&self) -> bool {
        self.stop.is_none() && self.depth < MAX_DEPTH
    }

    fn is_cycle(&self) -> bool {
        matches!(self.stop.as_deref(), Some(Stop::Cycle { .. }))
    }
}

/// What expanding a node found: the children, and the node's own manifest when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expansion {
    pub manifest: Option<Arc<FetchedManifest>>,
    pub children: Vec<ChildSpec>,
}

#[allow(clippy::large_enum_variant)] // short-lived, and mostly artifacts
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildSpec {
    Repository(String),
    Tag { repository: String, tag: String },
    Artifact { repository: String, descriptor: Descriptor, role: Role, tags: Vec<String> },
}

/// How deep the graph goes, in edges of any kind (registry → repository → tag → image →
/// referrers or index entries → …). A node this deep is kept, marked, and never loaded, so
/// nothing below it is fetched, walked or shown. Real supply chains are under ten levels; a
/// chain built to be 20,000 deep would otherwise cost a request per level and nest the reports
/// past what a stack (or a JSON reader: serde_json stops at 128 levels, each level here is two)
/// can take.
pub const MAX_DEPTH: usize = 50;

/// What a node at [`MAX_DEPTH`] says instead of its children.
pub fn depth_limit_reason() -> String {
    format!(
        "depth limit {MAX_DEPTH} reached: this node is {MAX_DEPTH} levels deep; its manifest, entries and referrers \
         are not loaded (a real supply chain is a few levels deep)"
    )
}

/// An arena of nodes. Children are replaced wholesale on refresh; the old ones stay in the
/// arena unreachable, which keeps ids stable for in-flight requests (their results are dropped).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub roots: Vec<NodeId>,
    strings: Interner,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub fn add_root(&mut self, kind: NodeKind) -> NodeId {
        let id = self.push(kind, None, Vec::new());
        self.roots.push(id);
        id
    }

    fn push(&mut self, mut kind: NodeKind, parent: Option<NodeId>, tags: Vec<String>) -> NodeId {
        // Made outside the graph (a root): its strings become the graph's shared ones.
        if let NodeKind::Artifact(a) = &mut kind {
            a.repository = self.strings.intern(&a.repository);
            a.descriptor.share(&mut self.strings);
        }
        let depth = parent.map_or(0, |p| self.nodes[p].depth + 1);
        self.nodes.push(Node {
            kind,
            parent,
            children: Vec::new(),
            load: LoadState::NotLoaded,
            tags,
            depth,
            stop: None,
        });
        self.nodes.len() - 1
    }

    pub fn set_loading(&mut self, id: NodeId) {
        if self.nodes[id].expandable() {
            self.nodes[id].load = LoadState::Loading;
        }
    }

    /// Applies the result of expanding `id`. Failures stay on that node only. A node that may
    /// not be expanded (a cycle, the depth limit) keeps its reason whatever arrives.
    ///
    /// A failure drops the children an earlier expansion found: after a refresh that could not
    /// reach the source, what was below is no longer known to be true.
    pub fn apply(&mut self, id: NodeId, result: Result<Expansion, String>) {
        if !self.nodes[id].expandable() {
            return;
        }
        match result {
            Err(reason) => {
                self.nodes[id].load = LoadState::Failed(reason);
                self.nodes[id].children.clear();
            }
            Ok(expansion) => {
                if let (Some(m), NodeKind::Artifact(a)) = (expansion.manifest, &mut self.nodes[id].kind) {
                    a.kind = classify_manifest(&m.manifest);
                    if a.descriptor.media_type.is_empty() {
                        a.descriptor.media_type = self.strings.intern(&m.descriptor.media_type);
                    }
                    let facts = ManifestFacts::of(&m, &mut self.strings);
                    if a.listed == facts.annotations {
                        a.listed = Annotations::default();
                    }
                    a.manifest = Some(Box::new(facts));
                }
                let mut children = Vec::with_capacity(expansion.children.len());
                for spec in expansion.children {
                    let child = self.add_child(id, spec);
                    children.push(child);
                }
                self.nodes[id].children = children;
                self.nodes[id].load = LoadState::Loaded;
            }
        }
    }

    fn add_child(&mut self, parent: NodeId, spec: ChildSpec) -> NodeId {
        let (kind, tags) = match spec {
            ChildSpec::Repository(name) => (NodeKind::Repository { name }, Vec::new()),
            ChildSpec::Tag { repository, tag } => (NodeKind::Tag { repository, tag }, Vec::new()),
            ChildSpec::Artifact { repository, descriptor, role, tags } => {
                let kind = match &role {
                    Role::Referrer(Via::CosignTag(tag)) if tag.ends_with(".sig") => ArtifactKind::CosignSignature,
                    Role::Referrer(Via::CosignTag(tag)) if tag.ends_with(".att") => ArtifactKind::CosignAttestation,
                    _ => classify_descriptor(&descriptor),
                };
                let (descriptor, annotations) = NodeDescriptor::of(descriptor, &mut self.strings);
                let listed = Annotations::new(annotations, &mut self.strings);
                let repository = self.strings.intern(&repository);
                (NodeKind::Artifact(ArtifactNode { repository, descriptor, kind, role, manifest: None, listed }), tags)
            }
        };
        let id = self.push(kind, Some(parent), tags);
        if let Some(d) = self.nodes[id].digest().cloned()
            && self.ancestors(id).any(|a| self.nodes[a].digest() == Some(&d))
        {
            self.nodes[id].load = LoadState::Failed(format!("cycle: {d} refers back to an ancestor"));
            self.nodes[id].stop = Some(Box::new(Stop::Cycle { digest: d.to_string() }));
        } else if self.nodes[id].depth >= MAX_DEPTH {
            self.nodes[id].load = LoadState::Failed(depth_limit_reason());
            self.nodes[id].stop = Some(Box::new(Stop::DepthLimit));
        }
        id
    }

    /// Strict ancestors of `id`, nearest first.
    pub fn ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.nodes[id].parent, move |&p| self.nodes[p].parent)
    }

    /// Root-to-node path, for the breadcrumb.
    pub fn path(&self, id: NodeId) -> Vec<NodeId> {
        let mut p: Vec<NodeId> = self.ancestors(id).collect();
        p.reverse();
        p.push(id);
        p
    }

    /// Whether `id` repeats the digest of one of its ancestors (and is therefore not loaded).
    pub fn is_cycle(&self, id: NodeId) -> bool {
        self.nodes[id].is_cycle()
    }

    /// Whether `id` sits at [`MAX_DEPTH`] (and is therefore not loaded).
    pub fn is_depth_limited(&self, id: NodeId) -> bool {
        self.nodes[id].depth >= MAX_DEPTH
    }

    /// Whether loading `id` may add children.
    pub fn expandable(&self, id: NodeId) -> bool {
        self.nodes[id].expandable()
    }

    /// The full reference of a node: `host/repo@digest`, `host/repo:tag`, `host/repo`, `host`
    /// (for a layout, its path stands for `host/repo`).
    pub fn reference(&self, source: &dyn crate::source::Source, id: NodeId) -> String {
        match &self.nodes[id].kind {
            NodeKind::Artifact(a) => format!("{}@{}", source.repository_ref(&a.repository), a.descriptor.digest),
            NodeKind::Tag { repository, tag } => format!("{}:{tag}", source.repository_ref(repository)),
            NodeKind::Repository { name } => source.repository_ref(name),
            NodeKind::Registry { host } => host.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(mt: &str, at: Option<&str>, n: u8) -> Descriptor {
        Descriptor {
            media_type: mt.into(),
            digest: format!("sha256:{}", hex::encode([n; 32])),
            size: 1,
            artifact_type: at.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn classifies_by_artifact_type_config_and_layers() {
        let mut m = Manifest { schema_version: 2, ..Default::default() };
        m.config = Some(desc(media::OCI_CONFIG, None, 1));
        assert_eq!(classify_manifest(&m), ArtifactKind::Image);
        m.layers = vec![desc(media::COSIGN_SIMPLESIGNING, None, 2)];
        assert_eq!(classify_manifest(&m), ArtifactKind::CosignSignature);
        m.artifact_type = Some(media::NOTATION_SIGNATURE.into());
        assert_eq!(classify_manifest(&m), ArtifactKind::NotationSignature);
        m.artifact_type = Some("application/vnd.example.thing".into());
        assert_eq!(classify_manifest(&m), ArtifactKind::Other);
        let sbom = Manifest { config: Some(desc(media::SPDX_JSON, None, 3)), ..Default::default() };
        assert_eq!(classify_manifest(&sbom), ArtifactKind::SpdxSbom);
        assert_eq!(
            classify_descriptor(&desc(media::OCI_MANIFEST, Some(media::CYCLONEDX_JSON), 4)),
            ArtifactKind::CycloneDxSbom
        );
        assert_eq!(
            classify_descriptor(&desc(media::OCI_MANIFEST, Some(media::SIGSTORE_BUNDLE_V03), 4)),
            ArtifactKind::SigstoreBundle
        );
        assert_eq!(classify_descriptor(&desc(media::OCI_MANIFEST, Some(media::SARIF), 4)), ArtifactKind::ScanReport);
        let mut buildkit = desc(media::OCI_MANIFEST, None, 5);
        buildkit.annotations.insert(annotations::BUILDKIT_REFERENCE_TYPE.into(), "attestation-manifest".into());
        assert_eq!(classify_descriptor(&buildkit), ArtifactKind::InTotoAttestation);
        let attestation = Manifest {
            config: Some(desc(media::OCI_CONFIG, None, 6)),
            layers: vec![desc(media::IN_TOTO, None, 7)],
            ..Default::default()
        };
        assert_eq!(classify_manifest(&attestation), ArtifactKind::InTotoAttestation);
    }

    #[test]
    fn detects_cycles_on_the_path() {
        let mut g = Graph::new();
        let a = desc(media::OCI_MANIFEST, None, 1);
        let root = g.add_root(NodeKind::Artifact(ArtifactNode::new("r", a.clone(), ArtifactKind::Image, Role::Root)));
        let b = desc(media::OCI_MANIFEST, Some(media::NOTATION_SIGNATURE), 2);
        let spec = |d: &Descriptor| ChildSpec::Artifact {
            repository: "r".into(),
            descriptor: d.clone(),
            role: Role::Referrer(Via::ReferrersApi),
            tags: vec![],
        };
        g.apply(root, Ok(Expansion { manifest: None, children: vec![spec(&b)] }));
        let child = g.node(root).children[0];
        assert!(!g.is_cycle(child));
        g.apply(child, Ok(Expansion { manifest: None, children: vec![spec(&a)] }));
        let back = g.node(child).children[0];
        assert!(g.is_cycle(back));
        assert_eq!(g.path(back), vec![root, child, back]);
    }

    #[test]
    fn stops_at_the_depth_limit() {
        let mut g = Graph::new();
        let mut id = g.add_root(NodeKind::Artifact(ArtifactNode::new(
            "r",
            desc(media::OCI_MANIFEST, None, 0),
            ArtifactKind::Image,
            Role::Root,
        )));
        let link = |n: u8| ChildSpec::Artifact {
            repository: "r".into(),
            descriptor: desc(media::OCI_MANIFEST, Some("application/x"), n),
            role: Role::Referrer(Via::ReferrersApi),
            tags: vec![],
        };
        for n in 1..=(MAX_DEPTH as u8 + 5) {
            g.set_loading(id);
            g.apply(id, Ok(Expansion { manifest: None, children: vec![link(n)] }));
            match g.node(id).children.first() {
                Some(&c) => id = c,
                None => break,
            }
        }
        assert_eq!(g.node(id).depth, MAX_DEPTH);
        assert_eq!(g.nodes.len(), MAX_DEPTH + 1);
        assert!(g.is_depth_limited(id) && !g.expandable(id) && !g.is_cycle(id));
        assert!(
            matches!(&g.node(id).load, LoadState::Failed(r) if r.starts_with(&format!("depth limit {MAX_DEPTH} reached")))
        );
        // Whatever arrives for it later is not added.
        g.set_loading(id);
        g.apply(id, Ok(Expansion { manifest: None, children: vec![link(200)] }));
        assert!(g.node(id).children.is_empty());
        assert!(!g.expandable(id));
    }
}
