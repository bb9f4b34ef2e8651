//! The graph as a report: nested JSON in the shape of `oras discover --format json`, and the
//! same tree as text. `manifests` holds referrers (as oras does); an index's own entries are in
//! `platforms`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::graph::{Graph, LoadState, NodeId, NodeKind, Role};
use crate::oci::Platform;
use crate::sanitize::sanitize;
use crate::source::Source;

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ReportNode {
    Registry(RegistryReport),
    Repository(RepositoryReport),
    Artifact(Box<ArtifactReport>),
    /// A tag that could not be resolved, or any node that failed before it had a digest.
    Unresolved(UnresolvedReport),
}

#[derive(Debug, Clone, Serialize)]
pub struct RegistryReport {
    pub registry: String,
    pub repositories: Vec<ReportNode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepositoryReport {
    pub repository: String,
    pub tags: Vec<ReportNode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnresolvedReport {
    pub reference: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactReport {
    pub reference: String,
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub kind: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<ReportNode>,
    pub manifests: Vec<ReportNode>,
}

fn error_of(load: &LoadState) -> Option<String> {
    match load {
        LoadState::Failed(r) => Some(r.clone()),
        _ => None,
    }
}

/// Builds the report of the subtree at `id`. `host` prefixes references (`host/repo@digest`).
pub fn report(graph: &Graph, source: &dyn Source, id: NodeId) -> ReportNode {
    let node = graph.node(id);
    let children = || node.children.iter().map(|&c| report(graph, source, c)).collect::<Vec<_>>();
    match &node.kind {
        NodeKind::Registry { host } => ReportNode::Registry(RegistryReport {
            registry: host.clone(),
            repositories: children(),
            error: error_of(&node.load),
        }),
        NodeKind::Repository { name } => ReportNode::Repository(RepositoryReport {
            repository: source.repository_ref(name),
            tags: children(),
            error: error_of(&node.load),
        }),
        NodeKind::Tag { .. } => match (node.children.first(), &node.load) {
            (Some(&child), _) => report(graph, source, child),
            (None, load) => ReportNode::Unresolved(UnresolvedReport {
                reference: graph.reference(source, id),
                error: error_of(load).unwrap_or_else(|| "not loaded".into()),
            }),
        },
        NodeKind::Artifact(a) => {
            let mut platforms = Vec::new();
            let mut manifests = Vec::new();
            for &c in &node.children {
                let is_platform = matches!(graph.node(c).artifact().map(|a| &a.role), Some(Role::Platform));
                let r = report(graph, source, c);
                if is_platform { platforms.push(r) } else { manifests.push(r) }
            }
            let d = &a.descriptor;
            let media_type = match (&a.manifest, d.media_type.is_empty()) {
                (Some(m), true) => m.descriptor.media_type.clone(),
                _ => d.media_type.clone(),
            };
            ReportNode::Artifact(Box::new(ArtifactReport {
                reference: graph.reference(source, id),
                media_type,
                digest: d.digest.clone(),
                size: a.manifest.as_ref().map(|m| m.descriptor.size).unwrap_or(d.size),
                artifact_type: d
                    .artifact_type
                    .clone()
                    .or_else(|| a.manifest.as_ref().and_then(|m| m.manifest.artifact_type.clone())),
                annotations: a.annotations().clone(),
                kind: a.kind.label().to_string(),
                tags: node.tags.clone(),
                platform: d.platform.clone(),
                via: match &a.role {
                    Role::Referrer(v) => Some(v.to_string()),
                    _ => None,
                },
                error: error_of(&node.load),
                platforms,
                manifests,
            }))
        }
    }
}

/// Every failure in the subtree, as `reference: reason`, for stderr.
pub fn failures(graph: &Graph, source: &dyn Source, id: NodeId, out: &mut Vec<String>) {
    let node = graph.node(id);
    if let LoadState::Failed(reason) = &node.load {
        let what = graph.reference(source, id);
        out.push(format!("{}: {}", sanitize(&what), sanitize(reason)));
    }
    for &c in &node.children {
        failures(graph, source, c, out);
    }
}

/// The text tree: one line per node, sanitised, with `├──`/`└──` guides.
pub fn render_text(graph: &Graph, source: &dyn Source, roots: &[NodeId]) -> String {
    let mut out = String::new();
    for &r in roots {
        out.push_str(&line(graph, source, r, true));
        out.push('\n');
        render_children(graph, source, r, "", &mut out);
    }
    out
}

fn render_children(graph: &Graph, source: &dyn Source, id: NodeId, prefix: &str, out: &mut String) {
    let children = &graph.node(id).children;
    for (i, &c) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        // A tag shows as one line with the artifact it resolves to.
        let (shown, label) = match (&graph.node(c).kind, graph.node(c).children.first()) {
            (NodeKind::Tag { tag, .. }, Some(&artifact)) => {
                (artifact, format!("{}  ← {}", line(graph, source, artifact, false), sanitize(tag)))
            }
            _ => (c, line(graph, source, c, false)),
        };
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&label);
        out.push('\n');
        let next = format!("{prefix}{}", if last { "    " } else { "│   " });
        render_children(graph, source, shown, &next, out);
    }
}

fn line(graph: &Graph, source: &dyn Source, id: NodeId, root: bool) -> String {
    let node = graph.node(id);
    let mut s = match &node.kind {
        NodeKind::Registry { host } => format!("{host} (registry)"),
        NodeKind::Repository { name } => {
            if root {
                source.repository_ref(name)
            } else {
                name.clone()
            }
        }
        NodeKind::Tag { .. } => graph.reference(source, id),
        NodeKind::Artifact(a) => {
            let mut s = if root { graph.reference(source, id) } else { a.descriptor.digest.clone() };
            s.push_str(&format!("  [{}]", a.kind.label()));
            if let Some(at) = a.descriptor.artifact_type.as_deref().filter(|_| !matches!(a.role, Role::Platform)) {
                s.push_str(&format!("  {at}"));
            }
            if let Some(p) = &a.descriptor.platform {
                s.push_str(&format!("  {p}"));
            }
            if let Role::Referrer(v) = &a.role {
                s.push_str(&format!("  via {v}"));
            }
            if !node.tags.is_empty() && root {
                s.push_str(&format!("  tags: {}", node.tags.join(", ")));
            }
            s
        }
    };
    if let LoadState::Failed(reason) = &node.load {
        s.push_str(&format!("  ✗ failed: {reason}"));
    }
    sanitize(&s).into_owned()
}
