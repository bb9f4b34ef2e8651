//! Walks a whole graph headlessly (for `sigscope tree`), as many expansions in flight as the
//! source allows.

use std::collections::VecDeque;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::graph::expand::{ExpandRequest, ExploreOptions, expand};
use crate::graph::{Graph, NodeId, NodeKind, Role};
use crate::source::DynSource;

/// Most nodes one walk builds. Depth alone does not bound a graph: indexes that list the same
/// next index twice, thirty levels down, unfold into 2^31 nodes from a few kilobytes. Past
/// this many, what is still to load is marked and not fetched.
pub const MAX_NODES: usize = 100_000;

/// Most bytes of registry-supplied text (annotations, media and artifact types, platforms, tags)
/// the nodes of one walk carry into its report. The node limit alone does not bound a report:
/// one manifest of 4 MiB of annotations listed 20,000 times by an index of 3 MB is 20,000 nodes
/// and 80 GB of JSON, as each node shows its manifest's annotations. Honest graphs carry a few
/// hundred bytes to a few kilobytes per node, so 100,000 of them fit well within this.
pub const MAX_TEXT_BYTES: usize = 256 << 20;

fn text_limit_reason() -> String {
    format!(
        "size limit reached: the graph's annotations, types and tags already take {} MiB, the most one walk \
         shows (a manifest listed many times repeats its annotations each time); this node is not loaded",
        MAX_TEXT_BYTES >> 20
    )
}

/// Bytes of text a descriptor brings into a report (its digest, size and role are small and
/// fixed, and counted by the node limit).
fn descriptor_text(d: &crate::oci::Descriptor) -> usize {
    let platform = d.platform.as_ref().map_or(0, |p| {
        p.architecture.len()
            + p.os.len()
            + p.os_version.as_ref().map_or(0, String::len)
            + p.variant.as_ref().map_or(0, String::len)
    });
    d.media_type.len()
        + d.artifact_type.as_ref().map_or(0, String::len)
        + d.annotations.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
        + platform
}

/// Bytes of text an expansion adds to the report: its children, and the node's own manifest
/// (its annotations and types are shown on the node, once per node that names it).
fn expansion_text(e: &crate::graph::Expansion) -> usize {
    use crate::graph::ChildSpec;
    let own = e.manifest.as_ref().map_or(0, |m| {
        descriptor_text(&m.descriptor) + m.manifest.annotations.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
    });
    let children: usize = e
        .children
        .iter()
        .map(|c| match c {
            ChildSpec::Repository(name) => name.len(),
            ChildSpec::Tag { repository, tag } => repository.len() + tag.len(),
            ChildSpec::Artifact { repository, descriptor, tags, .. } => {
                repository.len() + descriptor_text(descriptor) + tags.iter().map(String::len).sum::<usize>()
            }
        })
        .sum();
    own + children
}

fn node_limit_reason() -> String {
    format!("node limit {MAX_NODES} reached: the graph already has {MAX_NODES} nodes; this one is not loaded")
}

fn node_limit_reason_for(children: usize) -> String {
    format!(
        "node limit {MAX_NODES} reached: its {children} entries and referrers would take the graph past {MAX_NODES} \
         nodes; they are not shown"
    )
}

#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// Levels of referrers to follow below each image; `None` follows them all. Either way
    /// nothing deeper than [`MAX_DEPTH`](crate::graph::MAX_DEPTH) levels of the graph is loaded.
    pub depth: Option<usize>,
    pub explore: ExploreOptions,
    /// Expansions in flight at once; the source also caps its own requests.
    pub max_in_flight: usize,
}

/// How many referrer edges lie between `id` and the image it hangs off. The graph is at most
/// [`MAX_DEPTH`](crate::graph::MAX_DEPTH) deep, so this walk is bounded.
fn referrer_depth(graph: &Graph, id: NodeId) -> usize {
    std::iter::once(id)
        .chain(graph.ancestors(id))
        .filter(|&n| matches!(graph.node(n).artifact().map(|a| &a.role), Some(Role::Referrer(_))))
        .count()
}

fn wants_expansion(graph: &Graph, id: NodeId, opts: &DiscoverOptions) -> bool {
    // Cycles and nodes at the depth limit are never loaded.
    if !graph.expandable(id) {
        return false;
    }
    match opts.depth {
        Some(max) => referrer_depth(graph, id) < max,
        None => true,
    }
}

/// Builds the graph under `roots`, expanding every node (down to `depth` referrer levels, and
/// never past the graph's depth limit, [`MAX_NODES`] or [`MAX_TEXT_BYTES`], whose nodes say so). Failures stay on
/// their node; the walk carries on with the rest.
pub async fn discover(source: DynSource, roots: Vec<NodeKind>, opts: &DiscoverOptions) -> Graph {
    let mut graph = Graph::new();
    let mut pending: VecDeque<NodeId> = roots.into_iter().map(|k| graph.add_root(k)).collect();
    let mut in_flight = FuturesUnordered::new();
    let limit = opts.max_in_flight.max(1);
    let mut text = 0usize;
    loop {
        while in_flight.len() < limit {
            let Some(id) = pending.pop_front() else { break };
            if graph.nodes.len() >= MAX_NODES {
                graph.apply(id, Err(node_limit_reason()));
                continue;
            }
            if text >= MAX_TEXT_BYTES {
                graph.apply(id, Err(text_limit_reason()));
                continue;
            }
            graph.set_loading(id);
            let req = ExpandRequest::for_node(&graph, id);
            let source = source.clone();
            let explore = opts.explore.clone();
            in_flight.push(async move {
                let result = expand(source.as_ref(), &req, &explore).await;
                (id, result)
            });
        }
        let Some((id, result)) = in_flight.next().await else { break };
        let result = match result {
            Ok(e) if graph.nodes.len() + e.children.len() > MAX_NODES => Err(node_limit_reason_for(e.children.len())),
            Ok(e) => {
                let added = expansion_text(&e);
                if text.saturating_add(added) > MAX_TEXT_BYTES {
                    Err(text_limit_reason())
                } else {
                    text += added;
                    Ok(e)
                }
            }
            Err(e) => Err(e.to_string()),
        };
        graph.apply(id, result);
        let wanted: Vec<NodeId> =
            graph.node(id).children.iter().copied().filter(|&c| wants_expansion(&graph, c, opts)).collect();
        if matches!(graph.node(id).kind, NodeKind::Tag { .. }) {
            // The artifact a tag names goes next, while the source still holds the manifest
            // just read for the tag: after every other tag it might have been let go (a
            // source may keep only the last few thousand) and be fetched again by digest.
            for c in wanted.into_iter().rev() {
                pending.push_front(c);
            }
        } else {
            pending.extend(wanted);
        }
    }
    graph
}
