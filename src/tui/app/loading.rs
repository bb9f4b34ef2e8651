//! Loading: one expansion per node in flight, results matched by request id, `E` loading a
//! whole subtree within a budget, and describing the selected artifact for the details panel.

use crate::sanitize::sanitize;
use std::collections::HashMap;

use super::super::keymap::Action;
use crate::graph::expand::ExpandRequest;
use crate::graph::{Expansion, LoadState, NodeId, NodeKind};

use super::{App, Effect, RequestId, Severity};

/// Nodes `E` may load in one press: enough for a few images with all their referrers, not a
/// whole registry by accident.
pub const EXPAND_ALL_BUDGET: usize = 500;

/// Requests whose answers are awaited, by the id the answer will carry; anything else that
/// arrives is stale and dropped.
#[derive(Default)]
pub(super) struct Requests {
    pub(super) expand: HashMap<NodeId, RequestId>,
    pub(super) describe: Option<(NodeId, RequestId)>,
    pub(super) open: Option<RequestId>,
    pub(super) next: RequestId,
}

impl App {
    pub(super) fn expand_node(&mut self, id: NodeId) -> Vec<Effect> {
        // Cycles and nodes at the depth limit are never loaded (so never deeper).
        if !self.tree.graph.expandable(id) {
            return Vec::new();
        }
        let request = self.request_id();
        self.tree.graph.set_loading(id);
        self.tree.texts.invalidate(id);
        self.requests.expand.insert(id, request);
        self.dirty = true;
        let req = Box::new(ExpandRequest::for_node(&self.tree.graph, id));
        vec![Effect::Expand { request, node: id, source: self.location.source.clone(), req }]
    }

    pub(super) fn on_expanded(
        &mut self,
        request: RequestId,
        node: NodeId,
        result: Result<Expansion, crate::error::Error>,
    ) -> Vec<Effect> {
        if self.requests.expand.get(&node) != Some(&request) {
            return Vec::new();
        }
        self.requests.expand.remove(&node);
        let failed = result.as_ref().err().cloned();
        self.tree.graph.apply(node, result.map_err(|e| e.to_string()));
        self.tree.fetched_at.insert(node, self.clock.now());
        self.tree.texts.invalidate(node);
        self.dirty = true;
        let refreshed = self.refreshing.contains_key(&node);
        let (reselect, mut effects) = self.after_refresh(node, failed.as_ref().map(ToString::to_string).as_deref());
        // The node shows its failure; one that may pass when asked again says how to ask.
        if let Some(e) = failed.filter(|e| e.is_transient() && !refreshed) {
            let what = self.tree.graph.reference(self.location.source.as_ref(), node);
            let retry =
                self.look.keymap.get(Action::Refresh).map(|b| b.keys_text()).unwrap_or_else(|| ":refresh".into());
            self.set_status(
                Severity::Warning,
                format!("{}: {} ({retry} tries again)", sanitize(&what), sanitize(&e.to_string())),
            );
        }
        if self.tree.expanding_all.remove(&node) {
            for child in self.tree.graph.node(node).children.clone() {
                effects.extend(self.open_all_below(child));
            }
        }
        for child in self.tree.graph.node(node).children.clone() {
            effects.extend(self.verify_node(child));
            effects.extend(self.auto_explain(child, false));
        }
        effects.extend(self.auto_explain(node, refreshed));
        // The node may now carry its manifest: what was described before is out of date.
        self.details.docs.remove(&node);
        if self.describing(node) {
            self.requests.describe = None;
        }
        // A tag points at exactly one manifest; opening it saves a keystroke every time.
        if matches!(self.tree.graph.node(node).kind, NodeKind::Tag { .. })
            && self.tree.open.contains(&node)
            && let [child] = self.tree.graph.node(node).children[..]
            && self.tree.graph.node(child).load == LoadState::NotLoaded
        {
            self.tree.open.insert(child);
            effects.extend(self.expand_node(child));
        }
        let selected = reselect.or(self.selected());
        self.rebuild_rows();
        if let Some(sel) = selected {
            self.select_node(sel);
        }
        effects.extend(self.after_selection());
        effects.extend(self.sign_after_load(node));
        effects.extend(self.explain_after_load(node));
        effects
    }

    /// Describes the selected artifact unless its details are cached or on their way.
    pub(super) fn after_selection(&mut self) -> Vec<Effect> {
        let Some(id) = self.selected() else { return Vec::new() };
        if self.describing(id) {
            return Vec::new();
        }
        // Whatever was being described for the previous selection is no longer awaited.
        self.requests.describe = None;
        if self.details.docs.contains_key(&id) {
            return Vec::new();
        }
        let Some(artifact) = self.tree.graph.node(id).artifact() else { return Vec::new() };
        // A loading node gets its manifest shortly; describing it now would be thrown away.
        if self.tree.graph.node(id).load == LoadState::Loading {
            return Vec::new();
        }
        let artifact = Box::new(artifact.clone());
        let request = self.request_id();
        self.requests.describe = Some((id, request));
        vec![Effect::Describe {
            request,
            node: id,
            source: self.location.source.clone(),
            artifact,
            preview_limit: self.settings.preview_limit,
        }]
    }

    /// `E`: opens `id` and everything below it, loading what is not loaded yet, up to
    /// [`EXPAND_ALL_BUDGET`] nodes.
    pub(super) fn expand_all(&mut self, id: NodeId) -> Vec<Effect> {
        self.tree.expand_budget = EXPAND_ALL_BUDGET;
        let effects = self.open_all_below(id);
        self.rebuild_rows();
        effects
    }

    pub(super) fn open_all_below(&mut self, id: NodeId) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if !self.tree.graph.expandable(n) {
                continue;
            }
            self.tree.open.insert(n);
            match self.tree.graph.node(n).load {
                LoadState::Loaded => stack.extend(self.tree.graph.node(n).children.iter().copied()),
                LoadState::Loading => {
                    self.tree.expanding_all.insert(n);
                }
                LoadState::NotLoaded | LoadState::Failed(_) => {
                    if self.tree.expand_budget == 0 {
                        self.set_status(
                            Severity::Warning,
                            format!(
                                "expanded {EXPAND_ALL_BUDGET} nodes; press E again on a node to load more below it"
                            ),
                        );
                        continue;
                    }
                    self.tree.expand_budget -= 1;
                    self.tree.expanding_all.insert(n);
                    effects.extend(self.expand_node(n));
                }
            }
        }
        effects
    }
}
