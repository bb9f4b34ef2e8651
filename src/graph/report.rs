//! The graph as a report: nested JSON in the shape of `oras discover --format json`, and the
//! same tree as text. `manifests` holds referrers (as oras does); an index's own entries are in
//! `platforms`.
//!
//! The JSON (`tree -o json`) is one node at the top level, whatever TARGET named; every node
//! says what it is in `type`:
//! - `registry`: `{type, registry, repositories: [node], error?}`
//! - `repository`: `{type, repository, tags: [node], error?}`
//! - `tag`, one that did not resolve: `{type, reference, tag, error}` (a resolved tag is the
//!   artifact it names, with the tag in `tags`)
//! - `artifact`: `{type, reference, mediaType, digest, size, artifactType?, annotations, kind,
//!   label, tags?, platform?, via?, viaTag?, error?, platforms?, manifests}`. `kind` is a stable
//!   token (`image`, `index`, `notation-signature`, `spdx-sbom`, …), `label` its display words;
//!   `via` how a referrer was found (`referrers-api`, `tag-schema`, `cosign-tag`), `viaTag` the
//!   cosign tag for `cosign-tag`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::SerializeSeq;

use crate::graph::{Annotations, ArtifactKind, Graph, LoadState, MAX_DEPTH, NodeDigest, NodeId, NodeKind, Role, Via};
use crate::oci::Platform;
use crate::sanitize::sanitize;
use crate::source::Source;

/// One node of the report, borrowing from the graph. Its children are made as they are
/// written ([`Children`]), so a report never exists whole in memory — only the nodes on the
/// path being written do — and writing it costs no second copy of the graph.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ReportNode<'a> {
    Registry(RegistryReport<'a>),
    Repository(RepositoryReport<'a>),
    Artifact(Box<TreeArtifact<'a>>),
    /// A tag that could not be resolved (a resolved one is reported as its artifact).
    Tag(TagReport<'a>),
}

#[derive(Serialize)]
pub struct RegistryReport<'a> {
    pub registry: &'a str,
    pub repositories: Children<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
pub struct RepositoryReport<'a> {
    pub repository: String,
    pub tags: Children<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
pub struct TagReport<'a> {
    pub reference: String,
    pub tag: &'a str,
    pub error: Cow<'a, str>,
}

/// How a referrer was found, as a token; the cosign tag is [`TreeArtifact::via_tag`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViaToken {
    ReferrersApi,
    TagSchema,
    CosignTag,
}

impl ViaToken {
    fn of(via: &Via) -> (ViaToken, Option<&str>) {
        match via {
            Via::ReferrersApi => (ViaToken::ReferrersApi, None),
            Via::TagSchema => (ViaToken::TagSchema, None),
            Via::CosignTag(tag) => (ViaToken::CosignTag, Some(tag.as_str())),
        }
    }
}

fn no_tags(tags: &&[String]) -> bool {
    tags.is_empty()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TreeArtifact<'a> {
    pub reference: String,
    pub media_type: &'a str,
    pub digest: &'a NodeDigest,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<&'a str>,
    pub annotations: &'a Annotations,
    /// A stable token for scripts (kebab-case), where [`Self::label`] is for people.
    pub kind: ArtifactKind,
    pub label: String,
    #[serde(skip_serializing_if = "no_tags")]
    pub tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<&'a Platform>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<ViaToken>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_tag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Cow<'a, str>>,
    /// ECR's DescribeImages record of the manifest, in ECR's field names, where the source is
    /// ECR and listed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecr: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Children::is_empty")]
    pub platforms: Children<'a>,
    pub manifests: Children<'a>,
}

/// Which children of an artifact a list holds: its index entries, or its referrers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pick {
    All,
    Platforms,
    Referrers,
}

/// The children of a report node, turned into report nodes one at a time as they are written.
pub struct Children<'a> {
    graph: &'a Graph,
    source: &'a dyn Source,
    ids: &'a [NodeId],
    level: usize,
    pick: Pick,
}

impl<'a> Children<'a> {
    fn picked(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.ids.iter().copied().filter(|&c| {
            let platform = matches!(self.graph.node(c).artifact().map(|a| &a.role), Some(Role::Platform));
            match self.pick {
                Pick::All => true,
                Pick::Platforms => platform,
                Pick::Referrers => !platform,
            }
        })
    }

    pub fn is_empty(&self) -> bool {
        self.picked().next().is_none()
    }
}

impl Serialize for Children<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.picked().count()))?;
        for c in self.picked() {
            seq.serialize_element(&report_at(self.graph, self.source, c, self.level + 1))?;
        }
        seq.end()
    }
}

fn error_of(load: &LoadState) -> Option<Cow<'_, str>> {
    match load {
        LoadState::Failed(r) => Some(Cow::Borrowed(r)),
        _ => None,
    }
}

/// The report of the subtree at `id`. `host` prefixes references (`host/repo@digest`).
/// It nests as deep as the graph and no deeper than [`MAX_DEPTH`] levels: writing it
/// recurses once per level.
pub fn report<'a>(graph: &'a Graph, source: &'a dyn Source, id: NodeId) -> ReportNode<'a> {
    report_at(graph, source, id, 0)
}

fn report_at<'a>(graph: &'a Graph, source: &'a dyn Source, id: NodeId, level: usize) -> ReportNode<'a> {
    let node = graph.node(id);
    // A graph grown through `Graph::apply` never gets here; one assembled by hand might.
    let cut = (level >= MAX_DEPTH && !node.children.is_empty()).then(|| cut_reason(graph, id));
    let children = |pick| Children {
        graph,
        source,
        ids: if cut.is_some() { &[][..] } else { node.children.as_slice() },
        level,
        pick,
    };
    let error = || cut.clone().map(Cow::Owned).or_else(|| error_of(&node.load));
    match &node.kind {
        NodeKind::Registry { host } => ReportNode::Registry(RegistryReport {
            registry: host.as_str(),
            repositories: children(Pick::All),
            error: error(),
        }),
        NodeKind::Repository { name } => ReportNode::Repository(RepositoryReport {
            repository: source.repository_ref(name),
            tags: children(Pick::All),
            error: error(),
        }),
        NodeKind::Tag { tag, .. } => match (node.children.first(), &cut) {
            (Some(&child), None) => report_at(graph, source, child, level + 1),
            _ => ReportNode::Tag(TagReport {
                reference: graph.reference(source, id),
                tag: tag.as_str(),
                error: error().unwrap_or(Cow::Borrowed("not loaded")),
            }),
        },
        NodeKind::Artifact(a) => {
            let d = &a.descriptor;
            let (via, via_tag) = match &a.role {
                Role::Referrer(v) => {
                    let (token, tag) = ViaToken::of(v);
                    (Some(token), tag)
                }
                _ => (None, None),
            };
            let media_type = match (&a.manifest, d.media_type.is_empty()) {
                (Some(m), true) => &*m.media_type,
                _ => &*d.media_type,
            };
            ReportNode::Artifact(Box::new(TreeArtifact {
                reference: graph.reference(source, id),
                media_type,
                digest: &d.digest,
                size: a.manifest.as_ref().map(|m| m.size).unwrap_or(d.size),
                artifact_type: d
                    .artifact_type
                    .as_deref()
                    .or_else(|| a.manifest.as_ref().and_then(|m| m.artifact_type.as_deref())),
                annotations: a.annotations(),
                kind: a.kind,
                label: a.kind_label(),
                tags: &node.tags,
                platform: d.platform.as_deref(),
                via,
                via_tag,
                error: error(),
                ecr: source.known_record(&a.repository, &d.digest.text()).map(|r| r.json),
                platforms: children(Pick::Platforms),
                manifests: children(Pick::Referrers),
            }))
        }
    }
}

/// Why a report stops at `id`: the limit, and how many nodes below it are left out.
fn cut_reason(graph: &Graph, id: NodeId) -> String {
    format!("depth limit {MAX_DEPTH} reached: {} deeper nodes not shown", descendants(graph, id))
}

/// Nodes below `id`, counted without recursion; each node once, whatever the arena holds.
fn descendants(graph: &Graph, id: NodeId) -> usize {
    let mut seen = vec![false; graph.nodes.len()];
    seen[id] = true;
    let mut stack = graph.node(id).children.clone();
    let mut count = 0;
    while let Some(c) = stack.pop() {
        if !std::mem::replace(&mut seen[c], true) {
            count += 1;
            stack.extend(graph.node(c).children.iter().copied());
        }
    }
    count
}

/// Lines printed per distinct reason; the rest are summed up in one line. A hostile graph can
/// fail the same way a hundred thousand times (the node limit), which helps no one on stderr.
const SAME_REASON_LINES: usize = 10;

/// Lines printed in all, whatever the reasons. Reasons that name their node (a deadline that
/// passed before *this* path was asked for) are all different, and a hostile graph has a
/// hundred thousand nodes: past this many lines the rest are counted, and the report (`-o
/// json`) keeps each node's own error.
pub const MAX_FAILURE_LINES: usize = 50;

/// Every failure in the subtree, as `reference: reason`, for stderr (nodes at the depth
/// limit included: what they would have shown is missing). Depth first, parents first; past
/// [`SAME_REASON_LINES`] nodes with the very same reason, one line says how many more; past
/// [`MAX_FAILURE_LINES`] lines, one line counts the failures not shown.
pub fn failures(graph: &Graph, source: &dyn Source, id: NodeId, out: &mut Vec<String>) {
    let mut seen = vec![false; graph.nodes.len()];
    // Per reason: nodes with it, and how many of them have a line.
    let mut same: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut summed = Vec::new();
    let mut lines = 0;
    let mut others = 0usize;
    let mut printed: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut stack = vec![id];
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id], true) {
            continue;
        }
        let node = graph.node(id);
        if let LoadState::Failed(reason) = &node.load {
            let line = format!("{}: {}", sanitize(&graph.reference(source, id)), sanitize(reason));
            // The same artifact failing the same way under several parents gets one line (and
            // is counted with the rest of its reason).
            let repeat = !printed.insert(line.clone());
            let (n, shown) = same.entry(reason.as_str()).or_insert((0, 0));
            *n += 1;
            if !repeat && *n <= SAME_REASON_LINES && lines < MAX_FAILURE_LINES {
                *shown += 1;
                lines += 1;
                out.push(line);
            } else if *shown > 0 {
                if *n - *shown == 1 {
                    summed.push(reason.as_str());
                }
            } else {
                others += 1;
            }
        }
        stack.extend(node.children.iter().rev());
    }
    for reason in summed {
        let (n, shown) = same[reason];
        out.push(format!("{} more nodes failed the same way: {}", n - shown, sanitize(reason)));
    }
    if others > 0 {
        out.push(format!("{others} more nodes failed in other ways; the report (-o json) has the error of each"));
    }
}

/// The text tree: one line per node, sanitised, with `├──`/`└──` guides. Iterative, and no
/// deeper than [`MAX_DEPTH`] levels (the graph itself is no deeper).
pub fn render_text(graph: &Graph, source: &dyn Source, roots: &[NodeId]) -> String {
    let mut out = Vec::new();
    write_text(graph, source, roots, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("every line is a String")
}

/// [`render_text`] written line by line into `out` (which should be buffered), so the text is
/// never held whole.
pub fn write_text(graph: &Graph, source: &dyn Source, roots: &[NodeId], out: &mut dyn Write) -> io::Result<()> {
    for &r in roots {
        out.write_all(line(graph, source, r, true).as_bytes())?;
        out.write_all(b"\n")?;
        write_children(graph, source, r, out)?;
    }
    Ok(())
}

/// A line still to print: the node, the guides of its parent, whether it is the last child.
struct Pending {
    id: NodeId,
    prefix: std::rc::Rc<str>,
    last: bool,
    level: usize,
}

fn push_children(stack: &mut Vec<Pending>, children: &[NodeId], prefix: std::rc::Rc<str>, level: usize) {
    // Reversed, so the first child is popped first.
    for (i, &id) in children.iter().enumerate().rev() {
        stack.push(Pending { id, prefix: prefix.clone(), last: i + 1 == children.len(), level });
    }
}

fn write_children(graph: &Graph, source: &dyn Source, root: NodeId, out: &mut dyn Write) -> io::Result<()> {
    let mut stack = Vec::new();
    push_children(&mut stack, &graph.node(root).children, "".into(), 1);
    while let Some(Pending { id, prefix, last, level }) = stack.pop() {
        // A tag shows as one line with the artifact it resolves to.
        let (shown, label) = match (&graph.node(id).kind, graph.node(id).children.first()) {
            (NodeKind::Tag { tag, .. }, Some(&artifact)) => {
                (artifact, format!("{}  ← {}", line(graph, source, artifact, false), sanitize(tag)))
            }
            _ => (id, line(graph, source, id, false)),
        };
        out.write_all(prefix.as_bytes())?;
        out.write_all(if last { "└── " } else { "├── " }.as_bytes())?;
        out.write_all(label.as_bytes())?;
        out.write_all(b"\n")?;
        let next: std::rc::Rc<str> = format!("{prefix}{}", if last { "    " } else { "│   " }).into();
        let children = &graph.node(shown).children;
        if level >= MAX_DEPTH && !children.is_empty() {
            // Only a graph assembled by hand is deeper than the limit.
            out.write_all(next.as_bytes())?;
            out.write_all("└── ".as_bytes())?;
            out.write_all(cut_reason(graph, shown).as_bytes())?;
            out.write_all(b"\n")?;
            continue;
        }
        push_children(&mut stack, children, next, level + 1);
    }
    Ok(())
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
            let mut s = if root { graph.reference(source, id) } else { a.descriptor.digest.to_string() };
            s.push_str(&format!("  [{}]", sanitize(&a.kind_label())));
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
            if let Some(r) =
                source.known_record(&a.repository, &a.descriptor.digest.text()).filter(|r| !r.summary.is_empty())
            {
                s.push_str(&format!("  ecr: {}", r.summary));
            }
            s
        }
    };
    if let LoadState::Failed(reason) = &node.load {
        s.push_str(&format!("  ✗ failed: {reason}"));
    }
    sanitize(&s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{ArtifactKind, ArtifactNode, Node, Via};
    use crate::oci::Descriptor;

    /// A chain of `n` artifacts put into the arena directly, past every check of `apply`.
    fn hand_built_chain(n: usize) -> Graph {
        let mut g = Graph::new();
        for i in 0..n {
            let descriptor = Descriptor { digest: format!("sha256:{i:064x}"), ..Default::default() };
            let role = if i == 0 { Role::Root } else { Role::Referrer(Via::ReferrersApi) };
            let kind = NodeKind::Artifact(ArtifactNode::new("r", descriptor, ArtifactKind::Image, role));
            let children = if i + 1 < n { vec![i + 1] } else { Vec::new() };
            g.nodes.push(Node {
                kind,
                parent: i.checked_sub(1),
                children,
                load: LoadState::Loaded,
                tags: vec![],
                depth: i,
                stop: None,
            });
        }
        g.roots.push(0);
        g
    }

    #[test]
    fn a_graph_deeper_than_the_limit_is_cut_in_every_walk() {
        let source = crate::demo::opened().source;
        let g = hand_built_chain(20_000);
        let r = report(&g, source.as_ref(), 0);
        let json = crate::json_out::to_string(&r).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).expect("nested within serde_json's own limit");
        let mut node = &v;
        let mut levels = 0;
        while let Some(next) = node["manifests"].get(0) {
            node = next;
            levels += 1;
        }
        assert_eq!(levels, MAX_DEPTH);
        let want = format!("depth limit {MAX_DEPTH} reached: {} deeper nodes not shown", 20_000 - MAX_DEPTH - 1);
        assert_eq!(node["error"], want.as_str());

        let text = render_text(&g, source.as_ref(), &[0]);
        assert_eq!(text.lines().count(), MAX_DEPTH + 2, "root, the levels, the cut");
        assert!(text.lines().last().unwrap().ends_with(&want), "{}", text.lines().last().unwrap());

        let mut out = Vec::new();
        failures(&g, source.as_ref(), 0, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn the_same_failure_a_thousand_times_is_summed_up() {
        let source = crate::demo::opened().source;
        let mut g = hand_built_chain(1_001);
        for n in &mut g.nodes[1..] {
            n.load = LoadState::Failed("node limit reached".into());
        }
        g.nodes[500].load = LoadState::Failed("something else".into());
        let mut out = Vec::new();
        failures(&g, source.as_ref(), 0, &mut out);
        assert_eq!(out.len(), SAME_REASON_LINES + 2, "{out:#?}");
        assert!(out[..SAME_REASON_LINES].iter().all(|l| l.ends_with(": node limit reached")));
        assert!(out.iter().any(|l| l.ends_with(": something else")));
        assert_eq!(
            out.last().unwrap(),
            &format!("{} more nodes failed the same way: node limit reached", 999 - SAME_REASON_LINES)
        );
    }

    #[test]
    fn a_thousand_different_failures_take_a_bounded_number_of_lines() {
        let source = crate::demo::opened().source;
        let mut g = hand_built_chain(1_001);
        for (i, n) in g.nodes[1..].iter_mut().enumerate() {
            // Each its own reason, and one reason repeated past its own limit.
            n.load = LoadState::Failed(if i % 2 == 0 { format!("deadline before path {i}") } else { "same".into() });
        }
        let mut out = Vec::new();
        failures(&g, source.as_ref(), 0, &mut out);
        assert_eq!(out.len(), MAX_FAILURE_LINES + 2, "{out:#?}");
        assert_eq!(out[MAX_FAILURE_LINES], format!("{} more nodes failed the same way: same", 500 - SAME_REASON_LINES));
        assert_eq!(
            out[MAX_FAILURE_LINES + 1],
            format!(
                "{} more nodes failed in other ways; the report (-o json) has the error of each",
                500 - (MAX_FAILURE_LINES - SAME_REASON_LINES)
            )
        );
    }

    #[test]
    fn a_node_that_is_its_own_child_ends_every_walk() {
        let source = crate::demo::opened().source;
        let mut g = hand_built_chain(3);
        g.nodes[2].children = vec![0];
        g.nodes[1].load = LoadState::Failed("boom".into());
        let mut out = Vec::new();
        failures(&g, source.as_ref(), 0, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(descendants(&g, 0), 2);
        assert!(render_text(&g, source.as_ref(), &[0]).contains("deeper nodes not shown"));
        let r = report(&g, source.as_ref(), 0);
        assert!(crate::json_out::to_string(&r).unwrap().contains("deeper nodes not shown"));
    }

    /// Issue 8 (CLI): each node of the JSON says what it is; a referrer found through the tag
    /// schema says so by token, with no cosign tag beside it.
    #[test]
    fn every_node_says_its_type_and_how_a_referrer_was_found() {
        let source = crate::demo::opened().source;
        let mut g = Graph::new();
        let mut push = |kind: NodeKind, parent: Option<NodeId>, load: LoadState| {
            g.nodes.push(Node { kind, parent, children: vec![], load, tags: vec![], depth: 0, stop: None });
            let id = g.nodes.len() - 1;
            if let Some(p) = parent {
                g.nodes[p].children.push(id);
            }
            id
        };
        let artifact = |i: usize, role: Role| {
            let descriptor = Descriptor { digest: format!("sha256:{i:064x}"), ..Default::default() };
            NodeKind::Artifact(ArtifactNode::new("app", descriptor, ArtifactKind::SpdxSbom, role))
        };
        let registry = push(NodeKind::Registry { host: "r.example".into() }, None, LoadState::Loaded);
        let repo = push(NodeKind::Repository { name: "app".into() }, Some(registry), LoadState::Loaded);
        push(
            NodeKind::Tag { repository: "app".into(), tag: "gone".into() },
            Some(repo),
            LoadState::Failed("boom".into()),
        );
        let tag = push(NodeKind::Tag { repository: "app".into(), tag: "v1".into() }, Some(repo), LoadState::Loaded);
        let image = push(artifact(1, Role::Root), Some(tag), LoadState::Loaded);
        push(artifact(2, Role::Referrer(Via::TagSchema)), Some(image), LoadState::Loaded);
        g.roots.push(registry);

        let v: serde_json::Value =
            serde_json::from_str(&crate::json_out::to_string(&report(&g, source.as_ref(), registry)).unwrap()).unwrap();
        assert_eq!(v["type"], "registry");
        let repo = &v["repositories"][0];
        assert_eq!(repo["type"], "repository");
        assert_eq!((&repo["tags"][0]["type"], &repo["tags"][0]["tag"]), (&"tag".into(), &"gone".into()));
        assert_eq!(repo["tags"][0]["error"], "boom");
        let image = &repo["tags"][1];
        assert_eq!(image["type"], "artifact");
        let sbom = &image["manifests"][0];
        assert_eq!(
            (&sbom["kind"], &sbom["label"], &sbom["via"]),
            (&"spdx-sbom".into(), &"SPDX SBOM".into(), &"tag-schema".into())
        );
        assert!(sbom.get("viaTag").is_none(), "{sbom}");
    }
}
