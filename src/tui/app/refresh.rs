//! `r` and `R`: ask the source again for everything it answered by name (tags, tag → manifest,
//! referrer lists, repositories), load again what was open below, re-verify, and say what
//! changed. Content addressed by digest may stay cached in the source: it cannot change.

use std::collections::HashMap;
use std::time::Duration;

use crate::graph::{NodeId, NodeKind};
use crate::oci::short_digest;
use crate::sanitize::{clip, sanitize};

use super::tree::depth_limit_status;
use super::{App, Effect, Severity};

/// Past this age a row says when it was fetched.
pub const STALE_AFTER: Duration = Duration::from_secs(5 * 60);

/// What was open or selected below a node being refreshed, by identity, so the new nodes the
/// refresh brings can be opened and loaded again in the same shape.
#[derive(Debug, Default)]
pub(super) struct Reopen {
    open: bool,
    selected: bool,
    children: HashMap<String, Reopen>,
}

/// A refresh waiting for its node's answer.
#[derive(Debug, Default)]
pub(super) struct Refreshing {
    /// The node the user asked to refresh (not one reopened below it): its answer is reported.
    asked: bool,
    plan: Reopen,
    /// Children identities before, to say what changed.
    before: Vec<String>,
}

/// A node's identity among its siblings: what stays the same when the node is fetched again.
fn identity(app: &App, id: NodeId) -> String {
    match &app.tree.graph.node(id).kind {
        NodeKind::Registry { host } => format!("registry {host}"),
        NodeKind::Repository { name } => format!("repo {name}"),
        NodeKind::Tag { tag, .. } => format!("tag {tag}"),
        NodeKind::Artifact(a) => a.descriptor.digest.to_string(),
    }
}

impl App {
    /// `r`: the selected node and everything below it.
    pub(super) fn refresh(&mut self, id: NodeId) -> Vec<Effect> {
        self.signing.forget_failure(id);
        let repository = self.tree.graph.node(id).repository().map(str::to_string);
        self.location.source.forget_names(repository.as_deref());
        self.refresh_subtree(id, true)
    }

    /// `R`: every root, from a source that forgot everything it learned by name.
    pub(super) fn refresh_all(&mut self) -> Vec<Effect> {
        self.signing.forget_failures();
        self.location.source.forget_names(None);
        let mut effects = Vec::new();
        for root in self.tree.graph.roots.clone() {
            effects.extend(self.refresh_subtree(root, false));
        }
        self.set_status(Severity::Info, "refreshing the whole tree…".into());
        effects
    }

    fn refresh_subtree(&mut self, id: NodeId, asked: bool) -> Vec<Effect> {
        if !self.tree.graph.expandable(id) {
            return Vec::new();
        }
        let selected = self.selected();
        let plan = self.plan(id, selected);
        let before = self.tree.graph.node(id).children.iter().map(|&c| identity(self, c)).collect();
        self.refreshing.insert(id, Refreshing { asked, plan, before });
        self.forget_details_below(id);
        let mut effects = self.expand_node(id);
        effects.extend(self.verify_node(id));
        effects
    }

    fn plan(&self, id: NodeId, selected: Option<NodeId>) -> Reopen {
        let mut plan =
            Reopen { open: self.tree.open.contains(&id), selected: selected == Some(id), ..Reopen::default() };
        for &c in &self.tree.graph.node(id).children {
            let on_path = selected.is_some_and(|s| s == c || self.tree.graph.ancestors(s).any(|a| a == c));
            if self.tree.open.contains(&c) || on_path {
                plan.children.insert(identity(self, c), self.plan(c, selected));
            }
        }
        plan
    }

    fn forget_details_below(&mut self, id: NodeId) {
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            self.details.docs.remove(&n);
            stack.extend(self.tree.graph.node(n).children.iter().copied());
        }
        if self.requests.describe.is_some_and(|(n, _)| n == id) {
            self.requests.describe = None;
        }
    }

    /// After `node`'s answer arrived: open and load again what was open below it, and report
    /// the refresh the user asked for. Returns the node to select (the new copy of the old
    /// selection) and the effects.
    pub(super) fn after_refresh(&mut self, node: NodeId, failed: Option<&str>) -> (Option<NodeId>, Vec<Effect>) {
        let Some(Refreshing { asked, mut plan, before }) = self.refreshing.remove(&node) else {
            return (None, Vec::new());
        };
        let mut effects = Vec::new();
        let mut reselect = None;
        for child in self.tree.graph.node(node).children.clone() {
            let Some(sub) = plan.children.remove(&identity(self, child)) else { continue };
            if sub.selected {
                reselect = Some(child);
            }
            if sub.open {
                self.tree.open.insert(child);
                if self.tree.graph.expandable(child) {
                    self.refreshing.insert(child, Refreshing { asked: false, plan: sub, before: Vec::new() });
                    effects.extend(self.expand_node(child));
                }
            } else if !sub.children.is_empty() {
                // Selected below a closed node (a filter showed it): nothing to load.
                reselect = reselect.or(Some(child));
            }
        }
        if asked {
            let what = self.crumb_text(node);
            match failed {
                Some(reason) => self.set_status(
                    Severity::Error,
                    format!("refresh of {what} failed: {}; what was shown below it is gone", sanitize(reason)),
                ),
                None => {
                    let text = self.change_summary(node, &before);
                    self.set_status(Severity::Info, format!("refreshed {what}: {text}"));
                }
            }
        }
        (reselect, effects)
    }

    fn crumb_text(&self, id: NodeId) -> String {
        clip(&super::super::label::crumb(&self.tree.graph, id), 40).into_owned()
    }

    fn change_summary(&self, node: NodeId, before: &[String]) -> String {
        let after: Vec<String> = self.tree.graph.node(node).children.iter().map(|&c| identity(self, c)).collect();
        if let NodeKind::Tag { .. } = self.tree.graph.node(node).kind {
            let digest = |list: &[String]| list.first().map(short_digest).unwrap_or_default();
            return match (before.first(), after.first()) {
                (Some(b), Some(a)) if a != b => {
                    format!("now {} (was {})", sanitize(&digest(&after)), sanitize(&digest(before)))
                }
                (_, Some(_)) => format!("still {}", sanitize(&digest(&after))),
                _ => "no manifest".into(),
            };
        }
        let added = after.iter().filter(|a| !before.contains(a)).count();
        let removed = before.iter().filter(|b| !after.contains(b)).count();
        match (added, removed) {
            (0, 0) => format!("{} below, unchanged", after.len()),
            _ => format!("{} below: {added} new, {removed} gone", after.len()),
        }
    }

    /// How long ago `id` was last fetched, once that is longer than the stale age (default
    /// [`STALE_AFTER`]).
    pub fn fetched_age(&self, id: NodeId) -> Option<Duration> {
        let at = self.tree.fetched_at.get(&id)?;
        let age = self.clock.now().saturating_duration_since(*at);
        (age >= self.settings.stale_after).then_some(age)
    }
}

/// `fetched 7 min ago`, `fetched 2 h ago`.
pub fn age_text(age: Duration) -> String {
    let mins = age.as_secs() / 60;
    if mins < 120 { format!("fetched {mins} min ago") } else { format!("fetched {} h ago", mins / 60) }
}
impl App {
    pub(super) fn act_refresh(&mut self, id: NodeId) -> Vec<Effect> {
        if self.tree.graph.is_cycle(id) {
            self.set_status(Severity::Warning, "a cycle node is not loaded: its digest is an ancestor".into());
            return Vec::new();
        }
        if !self.tree.graph.expandable(id) {
            self.set_status(Severity::Warning, depth_limit_status());
            return Vec::new();
        }
        self.refresh(id)
    }
}
