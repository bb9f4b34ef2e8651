//! The verification side of `update`: an effect per image node, results matched by request
//! id (a policy change re-asks every node, so older answers are dropped), the live policy
//! from the watcher, what-if edits and writing them back.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::KeyEvent;

use crate::graph::{ArtifactKind, LoadState, NodeId, NodeKind, Role};
use crate::notation::policy::{Level as PolicyLevel, PolicyError, TrustPolicy, TrustStoreRef};
use crate::notation::verifier::{
    ArtifactReport, SignatureReport, SignatureVerdict, Verdict, Verifier, VerifierOptions,
};
use crate::sanitize::{clip, sanitize};

use crate::notation::dir::Snapshot;
use crate::notation::whatif::WhatIf;

use super::super::keymap::{Action, Answer, Key, Modal};
use super::super::present::diff::{line_diff, pretty};
use super::{App, Effect, Mode, RequestId, Severity};

/// A policy error as one line: statement, field, reason (the error's own sentence has them).
pub fn error_text(e: &PolicyError) -> String {
    sanitize(&e.to_string()).into_owned()
}

/// Per image node: what verification found, or that it is on its way.
#[derive(Debug, Clone)]
pub enum NodeVerify {
    /// An effect is computing it (or the policy is still being read).
    Pending,
    Done(Arc<ArtifactReport>),
    /// Referrers or envelopes could not be read.
    Error(String),
}

/// What the right-hand panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RightPanel {
    #[default]
    Details,
    Verification,
    /// Kyverno's decision replayed (`:explain`).
    Explain,
}

/// The live policy and every image node's verification.
pub struct VerifyState {
    pub dir: Option<PathBuf>,
    /// The policy file (write-back goes there).
    pub path: Option<PathBuf>,
    /// The last policy that parsed; kept while the file is invalid.
    pub base: Option<TrustPolicy>,
    /// The file as read, for the write-back diff.
    pub text: Option<String>,
    /// Why the file on disk is not in force (invalid, missing, unreadable).
    pub error: Option<String>,
    /// The error is that there is no policy file at all.
    pub missing: bool,
    /// Whether the watcher has reported at least once.
    pub loaded: bool,
    pub stores: Vec<TrustStoreRef>,
    pub what_if: WhatIf,
    pub results: HashMap<NodeId, NodeVerify>,
    pending: HashMap<NodeId, RequestId>,
    verifier: Option<Arc<Verifier>>,
    options: VerifierOptions,
    watching: bool,
}

impl VerifyState {
    /// How CRLs are read for verification (and for `:explain`'s Notary checks).
    pub fn revocation_mode(&self) -> crate::notation::revocation::RevocationMode {
        self.options.revocation.clone()
    }

    pub fn new(dir: Option<PathBuf>, options: VerifierOptions) -> VerifyState {
        VerifyState {
            dir,
            path: None,
            base: None,
            text: None,
            error: None,
            missing: false,
            loaded: false,
            stores: Vec::new(),
            what_if: WhatIf::default(),
            results: HashMap::new(),
            pending: HashMap::new(),
            verifier: None,
            options,
            watching: false,
        }
    }

    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    pub(super) fn forget_nodes(&mut self) {
        self.results.clear();
        self.pending.clear();
    }

    /// The policy verification runs with: the file's, with the what-if edits over it.
    pub fn effective(&self) -> Option<TrustPolicy> {
        self.base.as_ref().map(|b| self.what_if.apply(b))
    }

    fn rebuild_verifier(&mut self) {
        self.verifier = match (&self.dir, self.effective()) {
            (Some(dir), Some(policy)) => Some(Arc::new(Verifier::in_dir(policy, dir.clone(), self.options.clone()))),
            _ => None,
        };
    }

    /// Why nothing can be verified, when nothing can.
    fn not_evaluated(&self) -> Option<String> {
        match (&self.dir, &self.base, &self.error) {
            (None, _, _) => Some("no Notation directory: pass --notation-dir DIR".into()),
            (Some(_), None, Some(e)) => Some(format!("no usable trust policy: {e}")),
            _ => None,
        }
    }
}

/// Whether a node is verified on its own: any manifest that can be a signature subject —
/// images, indexes, artifacts of any artifactType or config type (Helm charts, WASM, ORAS
/// artifacts), SBOMs, attestations and scan reports, which may be signed themselves. Not the
/// signatures (their envelopes are what is verified) nor cosign attestations (DSSE envelopes,
/// signed in themselves).
///
/// A cycle node repeats an ancestor and is not verified again; a node at the depth limit is
/// not loaded at all; a referrer whose manifest could not be read already shows why, and an
/// "unsigned" beside it would only contradict it.
pub fn is_subject(app: &App, id: NodeId) -> bool {
    let node = app.tree.graph.node(id);
    let NodeKind::Artifact(a) = &node.kind else { return false };
    let unreadable_referrer =
        matches!(node.load, LoadState::Failed(_)) && matches!(a.role, Role::Referrer(_) | Role::Platform);
    app.tree.graph.expandable(id)
        && !a.kind.is_signature()
        && a.kind != ArtifactKind::CosignAttestation
        && !unreadable_referrer
}

/// Whether a node gets a verification of its own: a subject, or a tag (verified through the
/// manifest it names, so tags carry a verdict before anyone opens them).
fn verifies_itself(app: &App, id: NodeId) -> bool {
    is_subject(app, id) || matches!(app.tree.graph.node(id).kind, NodeKind::Tag { .. })
}

fn not_evaluated_report(reason: String) -> NodeVerify {
    NodeVerify::Done(Arc::new(ArtifactReport::new("", "", None, Verdict::NotEvaluated { reason }, Vec::new())))
}

impl App {
    /// Verifies with the policy and stores of `dir` from now on: a fresh state (no policy until
    /// the watcher reads the new directory), and a new watcher at the next start.
    pub(super) fn switch_notation_dir(&mut self, dir: Option<PathBuf>) {
        if self.vs.dir == dir {
            return;
        }
        self.vs = VerifyState::new(dir, self.vs.options.clone());
    }

    pub(super) fn start_watching(&mut self) -> Vec<Effect> {
        match &self.vs.dir {
            Some(dir) if !self.vs.watching => {
                self.vs.watching = true;
                vec![Effect::WatchPolicy { dir: dir.clone() }]
            }
            _ => Vec::new(),
        }
    }

    /// Asks for the verifications of `id` (Notation's, and cosign's with keys) if it is an
    /// image; otherwise nothing.
    pub(super) fn verify_node(&mut self, id: NodeId) -> Vec<Effect> {
        let mut effects = self.verify_notation(id);
        effects.extend(self.verify_cosign(id));
        effects
    }

    fn verify_notation(&mut self, id: NodeId) -> Vec<Effect> {
        // Without a Notation directory verification is off: rows stay as they were and the
        // panel says how to turn it on.
        if !verifies_itself(self, id) || self.vs.dir.is_none() {
            return Vec::new();
        }
        self.dirty = true;
        if let Some(reason) = self.vs.not_evaluated() {
            self.vs.pending.remove(&id);
            self.vs.results.insert(id, not_evaluated_report(reason));
            return Vec::new();
        }
        // A tag and the image it names are one verification: an open tag's image row speaks
        // for it, and an image appearing under a tag that was just verified takes that result.
        let node = self.tree.graph.node(id);
        if matches!(node.kind, NodeKind::Tag { .. }) && node.children.first().is_some_and(|&c| is_subject(self, c)) {
            self.vs.pending.remove(&id);
            self.vs.results.remove(&id);
            return Vec::new();
        }
        if let (Some(parent), NodeKind::Artifact(a)) = (node.parent, &node.kind)
            && matches!(self.tree.graph.node(parent).kind, NodeKind::Tag { .. })
            && let Some(NodeVerify::Done(report)) = self.vs.results.get(&parent)
            && report.digest == a.descriptor.digest
        {
            // Moved, not copied: the image row speaks for the tag from now on, and a later
            // refresh of the image must verify again rather than find this old answer.
            let report = report.clone();
            self.vs.results.remove(&parent);
            self.vs.pending.remove(&id);
            self.vs.results.insert(id, NodeVerify::Done(report));
            return Vec::new();
        }
        self.vs.results.insert(id, NodeVerify::Pending);
        let Some(verifier) = self.vs.verifier.clone() else {
            // The policy is still being read: verified when it arrives.
            self.vs.pending.remove(&id);
            return Vec::new();
        };
        let (repository, subject, tag) = match &self.tree.graph.node(id).kind {
            NodeKind::Artifact(a) => (a.repository.to_string(), Box::new(a.descriptor.to_oci()), None),
            NodeKind::Tag { repository, tag } => (repository.clone(), Box::default(), Some(tag.clone())),
            _ => return Vec::new(),
        };
        let request = self.request_id();
        self.vs.pending.insert(id, request);
        let now = self.clock.utc();
        vec![Effect::Verify {
            request,
            node: id,
            source: self.location.source.clone(),
            repository,
            subject,
            tag,
            verifier,
            now,
        }]
    }

    /// Every image node in the graph, again (policy, stores or what-if changed).
    pub(super) fn verify_all(&mut self) -> Vec<Effect> {
        self.vs.rebuild_verifier();
        self.vs.pending.clear();
        let ids: Vec<NodeId> = (0..self.tree.graph.nodes.len()).filter(|&id| verifies_itself(self, id)).collect();
        // The trust policy changed, not the signatures: cosign's answers stand.
        ids.into_iter().flat_map(|id| self.verify_notation(id)).collect()
    }

    pub(super) fn on_verified(
        &mut self,
        request: RequestId,
        node: NodeId,
        result: Result<ArtifactReport, crate::error::Error>,
    ) -> Vec<Effect> {
        if self.vs.pending.get(&node) != Some(&request) {
            return Vec::new();
        }
        self.vs.pending.remove(&node);
        let state = match result {
            Ok(r) => NodeVerify::Done(Arc::new(r)),
            Err(e) => NodeVerify::Error(e.to_string()),
        };
        self.vs.results.insert(node, state);
        self.dirty = true;
        Vec::new()
    }

    pub(super) fn on_policy_loaded(&mut self, snap: Snapshot) -> Vec<Effect> {
        // A watcher of a directory no longer in use (before an :open switched it) is not news.
        if self.vs.dir.as_ref() != Some(&snap.dir) {
            return Vec::new();
        }
        let first = !self.vs.loaded;
        self.vs.loaded = true;
        self.vs.path = Some(snap.path.clone());
        let stores_before = std::mem::replace(&mut self.vs.stores, snap.stores);
        self.vs.text = snap.text;
        match snap.policy {
            Ok(policy) => {
                let was_invalid = self.vs.error.take().is_some();
                self.vs.what_if.prune(&policy);
                self.vs.base = Some(policy);
                if !first {
                    let what = if was_invalid { "trust policy valid again" } else { "trust policy reloaded" };
                    self.show_toast(format!("{what}: re-verifying"));
                }
                self.verify_all()
            }
            Err(e) => {
                let missing = matches!(e, PolicyError::Missing { .. });
                self.vs.missing = missing;
                let text = error_text(&e);
                self.vs.error = Some(text.clone());
                let kept = if self.vs.base.is_some() { "; keeping the last good policy" } else { "" };
                // No policy file at start is the common case without notation set up: the rows
                // say "no policy" and the panel why, the status line stays for other news.
                if !(first && missing) {
                    let level = if missing { Severity::Warning } else { Severity::Error };
                    self.set_status(level, format!("{text}{kept}"));
                }
                if !first {
                    self.show_toast(if missing {
                        "trust policy removed".into()
                    } else {
                        "trust policy invalid".into()
                    });
                }
                if self.vs.base.is_some() {
                    // The results of the last good policy stay; only changed stores call for
                    // a new run.
                    if self.vs.stores == stores_before { Vec::new() } else { self.verify_all() }
                } else {
                    // Without any good policy every image is "not evaluated".
                    self.verify_all()
                }
            }
        }
    }

    pub(super) fn on_policy_written(&mut self, result: Result<PathBuf, crate::error::Error>) -> Vec<Effect> {
        match result {
            Ok(path) => {
                // The file now holds the what-if policy: it becomes the base without waiting
                // for the watcher, so the verdicts on screen do not flicker back.
                self.vs.base = self.vs.effective();
                self.vs.what_if = WhatIf::default();
                self.show_toast(format!("wrote {}", clip(&sanitize(&path.display().to_string()), 60)));
                self.verify_all()
            }
            Err(e) => {
                self.set_status(
                    Severity::Error,
                    format!("cannot write the trust policy: {}", sanitize(&e.to_string())),
                );
                Vec::new()
            }
        }
    }

    // ----- the selection's verification ----------------------------------------------------

    /// The image node whose report covers `id`: itself, the image a signature signs, or the
    /// image a tag names.
    pub fn report_node(&self, id: NodeId) -> Option<NodeId> {
        if is_subject(self, id) {
            return Some(id);
        }
        let node = self.tree.graph.node(id);
        match &node.kind {
            // The image once the tag is open, else the tag's own verification of it.
            NodeKind::Tag { .. } => node
                .children
                .first()
                .copied()
                .filter(|&c| is_subject(self, c))
                .or_else(|| self.vs.results.contains_key(&id).then_some(id)),
            NodeKind::Artifact(a)
                if a.kind == ArtifactKind::NotationSignature || super::is_cosign_signature(a.kind) =>
            {
                node.parent.filter(|&p| is_subject(self, p))
            }
            _ => None,
        }
    }

    /// The words a row shows about its verification, for the filter: the verdict
    /// (`verified`, `failed`, `unsigned`, …) and for a signature its envelope (`jws`, `ES256`).
    pub fn verdict_words(&self, id: NodeId) -> Option<String> {
        if let Some(sig) = self.signature_report(id) {
            let verdict = match &sig.verdict {
                SignatureVerdict::Verified => "verified".to_string(),
                SignatureVerdict::VerifiedWithWarnings => "warnings".to_string(),
                SignatureVerdict::Failed { check, .. } => format!("failed {}", check.name()),
            };
            return Some(format!("{verdict} {}", sig.envelope_summary().join(" ")));
        }
        let node = self.report_node(id)?;
        Some(match self.vs.results.get(&node)? {
            NodeVerify::Pending => "verifying".to_string(),
            NodeVerify::Error(_) => "failed not verified".to_string(),
            NodeVerify::Done(r) => match &r.verdict {
                Verdict::Failed { check: Some(c), .. } => format!("failed {}", c.name()),
                v => v.word().to_string(),
            },
        })
    }

    pub fn node_verify(&self, id: NodeId) -> Option<&NodeVerify> {
        self.vs.results.get(&id)
    }

    /// The report of a Notation signature node, from its image's report.
    pub fn signature_report(&self, id: NodeId) -> Option<&SignatureReport> {
        let node = self.tree.graph.node(id);
        let NodeKind::Artifact(a) = &node.kind else { return None };
        if a.kind != ArtifactKind::NotationSignature {
            return None;
        }
        let parent = node.parent.filter(|&p| is_subject(self, p))?;
        match self.vs.results.get(&parent)? {
            NodeVerify::Done(r) => r.signatures.iter().find(|s| s.digest == a.descriptor.digest),
            _ => None,
        }
    }

    fn selected_report(&self) -> Option<(NodeId, Arc<ArtifactReport>)> {
        let id = self.report_node(self.selected()?)?;
        match self.vs.results.get(&id)? {
            NodeVerify::Done(r) => Some((id, r.clone())),
            _ => None,
        }
    }

    /// The statement the selection was verified with, or a status saying why there is none.
    fn what_if_target(&mut self) -> Option<String> {
        if self.vs.base.is_none() {
            let why = self.vs.not_evaluated().unwrap_or_else(|| "the trust policy is still being read".into());
            self.set_status(Severity::Warning, format!("what-if needs a trust policy: {why}"));
            return None;
        }
        match self.selected_report() {
            Some((_, r)) if r.statement.is_some() => r.statement.as_ref().map(|s| s.name.clone()),
            Some(_) => {
                self.set_status(Severity::Warning, "no trust policy statement applies to the selection".into());
                None
            }
            None => {
                self.set_status(
                    Severity::Warning,
                    "select a verified image or Notation signature (what-if edits its statement)".into(),
                );
                None
            }
        }
    }

    fn after_what_if(&mut self, what: String) -> Vec<Effect> {
        let marker = if self.vs.what_if.is_active() { "what-if" } else { "what-if off (as in the file)" };
        self.show_toast(format!("{marker}: {what}"));
        self.verify_all()
    }

    pub(super) fn what_if_level(&mut self) -> Vec<Effect> {
        let Some(name) = self.what_if_target() else { return Vec::new() };
        let base = self.vs.base.clone().expect("checked");
        match self.vs.what_if.cycle_level(&base, &name) {
            Some(level) => self.after_what_if(format!("{} level {}", clip(&sanitize(&name), 30), level.name())),
            None => Vec::new(),
        }
    }

    pub(super) fn what_if_store(&mut self) -> Vec<Effect> {
        let Some(name) = self.what_if_target() else { return Vec::new() };
        let base = self.vs.base.clone().expect("checked");
        if self.vs.effective().and_then(|p| p.statement(&name).map(|s| s.level)) == Some(PolicyLevel::Skip) {
            self.set_status(
                Severity::Warning,
                "a statement at level skip has no trust stores; change the level first".into(),
            );
            return Vec::new();
        }
        let stores = self.vs.stores.clone();
        let in_file = base.statement(&name).map(|s| s.trust_stores.clone()).unwrap_or_default();
        if stores.iter().all(|s| in_file == [s.clone()]) {
            let dir = self
                .vs
                .dir
                .as_deref()
                .map(|d| crate::notation::dir::x509_trust_stores(d).display().to_string())
                .unwrap_or_default();
            self.set_status(
                Severity::Warning,
                format!("no other trust store to try: add one under {}/{{ca,signingAuthority}}/NAME/", sanitize(&dir)),
            );
            return Vec::new();
        }
        match self.vs.what_if.cycle_store(&base, &name, &stores) {
            Some(s) => {
                let list: Vec<String> = s.iter().map(|t| t.to_string()).collect();
                let list = if list.is_empty() { "none".to_string() } else { list.join(", ") };
                self.after_what_if(format!("trust stores {}", clip(&sanitize(&list), 50)))
            }
            None => Vec::new(),
        }
    }

    pub(super) fn what_if_identity(&mut self) -> Vec<Effect> {
        let Some(name) = self.what_if_target() else { return Vec::new() };
        let base = self.vs.base.clone().expect("checked");
        if self.vs.effective().and_then(|p| p.statement(&name).map(|s| s.level)) == Some(PolicyLevel::Skip) {
            self.set_status(
                Severity::Warning,
                "a statement at level skip has no identities; change the level first".into(),
            );
            return Vec::new();
        }
        // The selected signature's signer, else the first signer the image's report names.
        let signer =
            self.selected().and_then(|id| self.signature_report(id)).and_then(|s| s.signer.clone()).or_else(|| {
                self.selected_report().and_then(|(_, r)| r.signatures.iter().find_map(|s| s.signer.clone()))
            });
        match self.vs.what_if.toggle_identity(&base, &name, signer.as_deref()) {
            Ok(ids) => {
                let list: Vec<String> = ids.iter().map(|t| t.to_string()).collect();
                self.after_what_if(format!("trusted identity {}", clip(&sanitize(&list.join(", ")), 60)))
            }
            Err(e) => {
                self.set_status(Severity::Warning, sanitize(&e).into_owned());
                Vec::new()
            }
        }
    }

    pub(super) fn what_if_reset(&mut self) -> Vec<Effect> {
        if !self.vs.what_if.is_active() {
            self.vs.what_if = WhatIf::default();
            self.set_status(Severity::Info, "no what-if edits: the policy is as in the file".into());
            return Vec::new();
        }
        self.vs.what_if = WhatIf::default();
        self.show_toast("what-if reset: the policy is as in the file".into());
        self.verify_all()
    }

    /// Opens the confirmation with the diff of the file and the what-if policy.
    pub(super) fn ask_write_policy(&mut self) -> Vec<Effect> {
        // The key is unbound under --read-only; this guards every other way in.
        if self.settings.read_only {
            self.set_status(Severity::Warning, "read-only (--read-only): the trust policy is not written".into());
            return Vec::new();
        }
        let (Some(policy), Some(path)) = (self.vs.effective(), self.vs.path.clone()) else {
            self.set_status(Severity::Warning, "no trust policy to write".into());
            return Vec::new();
        };
        if !self.vs.what_if.is_active() {
            self.set_status(Severity::Info, "nothing to write: no what-if edits (L, T, I change the policy)".into());
            return Vec::new();
        }
        let json = policy.to_json();
        if let Err(e) = TrustPolicy::parse(&json) {
            self.set_status(Severity::Error, format!("the what-if policy would not be valid: {}", error_text(&e)));
            return Vec::new();
        }
        let old = self.vs.text.as_deref().map(pretty).unwrap_or_default();
        let diff = line_diff(&old, &json);
        self.mode = Mode::Confirm { path, json, diff, scroll: 0 };
        Vec::new()
    }

    /// The verification panel and the what-if edits.
    pub(super) fn act_on_verification(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::VerifyPanel => {
                self.details.panel = match self.details.panel {
                    RightPanel::Details => RightPanel::Verification,
                    RightPanel::Verification | RightPanel::Explain => RightPanel::Details,
                };
                self.details.scroll = 0;
                Vec::new()
            }
            Action::WhatIfLevel => self.what_if_level(),
            Action::WhatIfStore => self.what_if_store(),
            Action::WhatIfIdentity => self.what_if_identity(),
            Action::WhatIfReset => self.what_if_reset(),
            Action::WritePolicy => self.ask_write_policy(),
            _ => Vec::new(),
        }
    }

    pub(super) fn on_confirm_key(
        &mut self,
        key: KeyEvent,
        path: PathBuf,
        json: String,
        diff: Vec<super::DiffLine>,
        scroll: usize,
    ) -> Vec<Effect> {
        let max = diff.len().saturating_sub(1);
        match Modal::Confirm.answer(Key::from_event(&key)) {
            Some(Answer::Accept) => {
                self.mode = Mode::Normal;
                vec![Effect::WritePolicy { path, json }]
            }
            Some(Answer::ScrollDown) => {
                self.mode = Mode::Confirm { path, json, diff, scroll: (scroll + 1).min(max) };
                Vec::new()
            }
            Some(Answer::ScrollUp) => {
                self.mode = Mode::Confirm { path, json, diff, scroll: scroll.saturating_sub(1) };
                Vec::new()
            }
            Some(Answer::Cancel | Answer::Switch | Answer::Focus | Answer::Press) | None => {
                self.mode = Mode::Normal;
                self.set_status(Severity::Info, "not written: the file is unchanged".into());
                Vec::new()
            }
        }
    }
}
