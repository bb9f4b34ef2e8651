//! Walks a whole graph headlessly (for `sigscope tree`), as many expansions in flight as the
//! source allows.

use std::collections::VecDeque;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::graph::{Graph, NodeId, NodeKind, Role};
use crate::source::DynSource;
use crate::source::referrers::{ExpandRequest, ExploreOptions, expand};

/// Most nodes one walk builds. Depth alone does not bound a graph: indexes that list the same
/// next index twice, thirty levels down, unfold into 2^31 nodes from a few kilobytes. Past
/// this many, what is still to load is marked and not fetched.
pub const MAX_NODES: usize = 100_000;

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
/// never past the graph's depth limit or [`MAX_NODES`], whose nodes say so). Failures stay on
/// their node; the walk carries on with the rest.
pub async fn discover(source: DynSource, roots: Vec<NodeKind>, opts: &DiscoverOptions) -> Graph {
    let mut graph = Graph::new();
    let mut pending: VecDeque<NodeId> = roots.into_iter().map(|k| graph.add_root(k)).collect();
    let mut in_flight = FuturesUnordered::new();
    let limit = opts.max_in_flight.max(1);
    loop {
        while in_flight.len() < limit {
            let Some(id) = pending.pop_front() else { break };
            if graph.nodes.len() >= MAX_NODES {
                graph.apply(id, Err(node_limit_reason()));
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
            r => r.map_err(|e| e.to_string()),
        };
        graph.apply(id, result);
        let wanted: Vec<NodeId> =
            graph.node(id).children.iter().copied().filter(|&c| wants_expansion(&graph, c, opts)).collect();
        pending.extend(wanted);
    }
    graph
}
