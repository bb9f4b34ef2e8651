//! `:explain`: why Kyverno would block the selected image, replayed under the policies given
//! with `--kyverno-policy`, shown in the right-hand panel; `:explain TEXT` takes a pasted denial
//! apart first and replays the image it names when that image is in the tree.

use std::collections::HashMap;
use std::sync::Arc;

use crate::graph::{NodeId, NodeKind};
use crate::kyverno::denial::Denial;
use crate::kyverno::policy::PolicySet;
use crate::kyverno::replay::{AdmittedResource, Explanation};
use crate::sanitize::{clip, sanitize};

use super::{App, Effect, RequestId, RightPanel, Severity};

/// The policies loaded at start, and what was explained.
#[derive(Default)]
pub struct ExplainState {
    /// `None`: no `--kyverno-policy` was given.
    pub policies: Option<Arc<PolicySet>>,
    /// Why the policies could not be loaded (then `policies` is `None`).
    pub policy_error: Option<String>,
    pub results: HashMap<NodeId, ExplainResult>,
    pub(super) pending: HashMap<NodeId, RequestId>,
    /// The last pasted denial.
    pub denial: Option<Denial>,
    /// A tag `:explain` was asked on before it was loaded: explained when it is.
    pub(super) when_loaded: Option<NodeId>,
    /// The policy files, watched once the app starts (none: nothing to watch).
    pub paths: Vec<std::path::PathBuf>,
    pub(super) watching: bool,
}

/// One image's replay: its explanation, or why there is none.
#[derive(Debug, Clone)]
pub enum ExplainResult {
    Pending,
    Done(Box<Explanation>, Option<String>),
}

impl App {
    /// `:explain` with nothing after it replays the selected image; with text, the text is a
    /// denial.
    pub(super) fn run_explain(&mut self, arg: &str) -> Vec<Effect> {
        self.details.panel = RightPanel::Explain;
        self.details.scroll = 0;
        self.dirty = true;
        if !arg.is_empty() {
            return self.explain_denial(arg);
        }
        let Some(id) = self.selected() else { return Vec::new() };
        self.explain_node(id)
    }

    fn explain_denial(&mut self, text: &str) -> Vec<Effect> {
        let denial = match crate::kyverno::denial::parse(text) {
            Ok(d) => d,
            Err(e) => {
                self.set_status(Severity::Error, format!("not a Kyverno denial: {e}"));
                return Vec::new();
            }
        };
        let images: Vec<String> = denial.images().into_iter().map(str::to_string).collect();
        self.explain.denial = Some(denial);
        // The image the denial names, if the tree shows it (by tag or digest).
        let found = images.iter().find_map(|image| self.find_image(image));
        match (found, images.first()) {
            (Some(id), _) => {
                self.select_node(id);
                self.explain_node(id)
            }
            (None, Some(image)) => {
                let image = clip(&sanitize(image), 80).into_owned();
                self.set_status(
                    Severity::Warning,
                    format!("{image} is not in this tree: :open it, select it and :explain to replay it"),
                );
                Vec::new()
            }
            (None, None) => Vec::new(),
        }
    }

    /// What the pasted denial says of the resource, when it names the image at `id`: a replay
    /// under edited policies keeps the namespace the first replay had.
    fn denial_resource(&self, id: NodeId) -> AdmittedResource {
        match &self.explain.denial {
            Some(d) if d.images().iter().any(|image| self.find_image(image) == Some(id)) => {
                d.resource.as_ref().map(|r| r.admitted()).unwrap_or_default()
            }
            _ => AdmittedResource::default(),
        }
    }

    /// An artifact or tag whose reference is `image`, or whose digest it names.
    fn find_image(&self, image: &str) -> Option<NodeId> {
        let digest = image.split_once('@').map(|(_, d)| d);
        let source = self.location.source.as_ref();
        (0..self.tree.graph.nodes.len()).find(|&id| {
            let node = self.tree.graph.node(id);
            match &node.kind {
                NodeKind::Tag { .. } => self.tree.graph.reference(source, id) == image,
                NodeKind::Artifact(a) => digest.is_some_and(|d| d == a.descriptor.digest),
                _ => false,
            }
        })
    }

    fn explain_node(&mut self, id: NodeId) -> Vec<Effect> {
        // The panel shows the pasted denial beside the replay: when it names this image, its
        // resource is the one replayed.
        let resource = self.denial_resource(id);
        self.explain_node_in(id, resource)
    }

    /// `resource`: what a pasted denial says of the resource admitted (its namespace decides
    /// per-namespace actions and `match` blocks).
    fn explain_node_in(&mut self, id: NodeId, resource: AdmittedResource) -> Vec<Effect> {
        let Some(policies) = self.explain.policies.clone() else {
            let why = match &self.explain.policy_error {
                Some(e) => format!("the Kyverno policies could not be loaded: {e}"),
                None => "no Kyverno policies: start sigscope with --kyverno-policy PATH".into(),
            };
            self.set_status(Severity::Warning, why);
            return Vec::new();
        };
        let node = self.tree.graph.node(id);
        // A tag: the image it names, matched by the tag's reference as a Pod would name it.
        let (image_node, shown) = match &node.kind {
            NodeKind::Tag { .. } => match node.children.first() {
                Some(&child) => (child, self.tree.graph.reference(self.location.source.as_ref(), id)),
                None if node.load != crate::graph::LoadState::Loaded => {
                    // What the tag names is known once it is loaded: load it, then explain.
                    self.explain.when_loaded = Some(id);
                    self.tree.open.insert(id);
                    let effects = self.expand_node(id);
                    self.rebuild_rows();
                    self.set_status(Severity::Info, "loading the tag to explain the image it names…".into());
                    return effects;
                }
                None => {
                    self.set_status(Severity::Warning, "the tag names no manifest to explain".into());
                    return Vec::new();
                }
            },
            NodeKind::Artifact(_) => (id, self.tree.graph.reference(self.location.source.as_ref(), id)),
            _ => {
                self.set_status(Severity::Warning, "select an image (or its tag) to explain".into());
                return Vec::new();
            }
        };
        self.set_status(Severity::Info, format!("replaying the Kyverno policies for {}…", sanitize(&shown)));
        self.start_explain(id, image_node, shown, resource, policies)
    }

    /// Every image a tag names gets its admission verdict as soon as it is in the tree (when
    /// policies are loaded), like its verification; `again` after a refresh.
    pub(super) fn auto_explain(&mut self, id: NodeId, again: bool) -> Vec<Effect> {
        use crate::graph::{ArtifactKind, Role};
        let Some(policies) = self.explain.policies.clone() else { return Vec::new() };
        let node = self.tree.graph.node(id);
        let Some(a) = node.artifact() else { return Vec::new() };
        if !matches!(a.role, Role::Root) || !matches!(a.kind, ArtifactKind::Image | ArtifactKind::Index) {
            return Vec::new();
        }
        if !again && self.explain.results.contains_key(&id) {
            return Vec::new();
        }
        // Matched as a Pod names it: by the tag that named it, else by digest.
        let source = self.location.source.as_ref();
        let shown = match node.parent {
            Some(p) if matches!(self.tree.graph.node(p).kind, NodeKind::Tag { .. }) => {
                self.tree.graph.reference(source, p)
            }
            _ => self.tree.graph.reference(source, id),
        };
        self.start_explain(id, id, shown, AdmittedResource::default(), policies)
    }

    fn start_explain(
        &mut self,
        key: NodeId,
        image_node: NodeId,
        shown: String,
        resource: AdmittedResource,
        policies: Arc<PolicySet>,
    ) -> Vec<Effect> {
        let Some((repository, subject)) =
            self.tree.graph.node(image_node).artifact().map(|a| (a.repository.to_string(), a.descriptor.to_oci()))
        else {
            return Vec::new();
        };
        let id = key;
        let request = self.request_id();
        self.explain.pending.insert(id, request);
        self.explain.results.insert(id, ExplainResult::Pending);
        self.dirty = true;
        vec![Effect::Explain {
            request,
            node: id,
            source: self.location.source.clone(),
            repository,
            subject: Box::new(subject),
            image: shown,
            resource,
            policies,
            revocation: self.vs.revocation_mode(),
            now: self.clock.utc(),
        }]
    }

    /// A paste: into the prompt being typed, its lines joined (a denial is one line to the
    /// parser whatever the terminal did to it); elsewhere it opens `:explain ` with it, for the
    /// on-call engineer to read and run.
    pub(super) fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        let mut joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if joined.len() > crate::kyverno::denial::MAX_DENIAL_BYTES {
            self.set_status(Severity::Error, "the pasted text is longer than a denial can be: paste only it".into());
            return Vec::new();
        }
        // Controls (an escape sequence in a log line) never reach the screen or the parser.
        joined.retain(|c| !c.is_control());
        self.dirty = true;
        match &mut self.mode {
            super::Mode::Command(line) => line.insert(&joined),
            super::Mode::Normal => {
                self.mode = super::Mode::Command(super::super::prompt::Prompt::new(&format!("explain {joined}")));
                self.set_status(Severity::Info, "pasted: Enter explains it, Esc drops it".into());
            }
            _ => {}
        }
        Vec::new()
    }

    /// Once: watch the policy files, so an edit is replayed without a restart.
    pub(super) fn watch_kyverno(&mut self) -> Vec<Effect> {
        if self.explain.paths.is_empty() || self.explain.watching {
            return Vec::new();
        }
        self.explain.watching = true;
        vec![Effect::WatchKyverno { paths: self.explain.paths.clone() }]
    }

    /// The policy files changed: what was replayed under the old ones is no longer what they
    /// say, so every verdict goes and is replayed under the new ones. A file that no longer
    /// loads leaves no policies (and no verdicts) until it is fixed, said in the status line.
    pub(super) fn on_kyverno_loaded(&mut self, result: Result<Arc<PolicySet>, String>) -> Vec<Effect> {
        let mut explained: Vec<NodeId> = self.explain.results.keys().copied().collect();
        explained.sort_unstable();
        self.explain.results.clear();
        self.explain.pending.clear();
        self.dirty = true;
        match result {
            Ok(policies) => {
                let n = policies.cluster_policies.len() + policies.image_validating.len();
                self.explain.policies = Some(policies);
                self.explain.policy_error = None;
                self.set_status(Severity::Info, format!("Kyverno policies changed on disk: {n} reloaded, replaying"));
                let mut effects = Vec::new();
                for id in explained {
                    effects.extend(self.replay_again(id));
                }
                effects
            }
            Err(e) => {
                self.explain.policies = None;
                self.set_status(
                    Severity::Error,
                    format!(
                        "Kyverno policies changed on disk and no longer load: {} (no verdicts until fixed)",
                        sanitize(&e)
                    ),
                );
                self.explain.policy_error = Some(e);
                Vec::new()
            }
        }
    }

    /// A node explained before, under the new policies: an image row as it arrived, a tag as
    /// `:explain` asked for it.
    fn replay_again(&mut self, id: NodeId) -> Vec<Effect> {
        if id >= self.tree.graph.nodes.len() {
            return Vec::new();
        }
        let Some(policies) = self.explain.policies.clone() else { return Vec::new() };
        let node = self.tree.graph.node(id);
        match &node.kind {
            NodeKind::Tag { .. } => match node.children.first() {
                Some(&child) => {
                    let shown = self.tree.graph.reference(self.location.source.as_ref(), id);
                    let resource = self.denial_resource(id);
                    self.start_explain(id, child, shown, resource, policies)
                }
                None => Vec::new(),
            },
            NodeKind::Artifact(_) => {
                let auto = self.auto_explain(id, true);
                if auto.is_empty() {
                    let shown = self.tree.graph.reference(self.location.source.as_ref(), id);
                    self.start_explain(id, id, shown, AdmittedResource::default(), policies)
                } else {
                    auto
                }
            }
            _ => Vec::new(),
        }
    }

    /// After a tag loaded for `:explain`: the explanation of the image it names.
    pub(super) fn explain_after_load(&mut self, node: NodeId) -> Vec<Effect> {
        if self.explain.when_loaded != Some(node) {
            return Vec::new();
        }
        self.explain.when_loaded = None;
        if self.tree.graph.node(node).children.is_empty() {
            self.set_status(Severity::Warning, "the tag names no manifest to explain".into());
            return Vec::new();
        }
        self.explain_node(node)
    }

    pub(super) fn on_explained(
        &mut self,
        request: RequestId,
        node: NodeId,
        explanation: Box<Explanation>,
        error: Option<String>,
    ) -> Vec<Effect> {
        if self.explain.pending.get(&node) != Some(&request) {
            return Vec::new();
        }
        self.explain.pending.remove(&node);
        self.dirty = true;
        // Said when it was asked for; the verdicts of rows arriving by themselves are not.
        if self.details.panel == RightPanel::Explain && self.selected() == Some(node) {
            let word = explanation.admission.word();
            self.set_status(
                if error.is_some() { Severity::Error } else { Severity::Info },
                format!("Kyverno: {} {word}", sanitize(&explanation.image)),
            );
        }
        self.explain.results.insert(node, ExplainResult::Done(explanation, error));
        Vec::new()
    }
}
