//! The cosign side of verification: with keys (`--cosign-key`, or the demo's own), every
//! subject node's cosign signatures are checked by an effect of their own, beside Notation's,
//! the answers matched by request id (a refresh asks again; older answers are dropped).

use std::collections::HashMap;
use std::sync::Arc;

use crate::graph::{ArtifactKind, NodeId, NodeKind};
use crate::verify::cosign::{CosignReport, CosignSignatureReport, NamedKey};

use super::verification::is_subject;
use super::{App, Effect, RequestId};

/// Per subject node: the cosign check, or that it is on its way.
#[derive(Debug, Clone)]
pub enum CosignNode {
    Pending,
    Done(Arc<CosignReport>),
    /// The signatures could not be listed (registry trouble).
    Error(String),
}

/// The keys checked with and every subject's cosign result.
#[derive(Default)]
pub struct CosignState {
    pub keys: Arc<Vec<NamedKey>>,
    pub results: HashMap<NodeId, CosignNode>,
    pending: HashMap<NodeId, RequestId>,
}

impl CosignState {
    pub fn new(keys: Arc<Vec<NamedKey>>) -> CosignState {
        CosignState { keys, ..CosignState::default() }
    }

    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    pub(super) fn forget_nodes(&mut self) {
        self.results.clear();
        self.pending.clear();
    }
}

/// Whether a node is one of cosign's signature artifacts: the `.sig` manifest, or a bundle.
pub fn is_cosign_signature(kind: ArtifactKind) -> bool {
    matches!(kind, ArtifactKind::CosignSignature | ArtifactKind::SigstoreBundle)
}

impl App {
    /// Asks for the cosign check of `id` when there are keys and it is a subject.
    pub(super) fn verify_cosign(&mut self, id: NodeId) -> Vec<Effect> {
        if self.cosign.keys.is_empty() || !is_subject(self, id) {
            return Vec::new();
        }
        let NodeKind::Artifact(a) = &self.tree.graph.node(id).kind else { return Vec::new() };
        let (repository, subject) = (a.repository.to_string(), Box::new(a.descriptor.to_oci()));
        let request = self.request_id();
        self.cosign.pending.insert(id, request);
        self.cosign.results.insert(id, CosignNode::Pending);
        self.dirty = true;
        vec![Effect::VerifyCosign {
            request,
            node: id,
            source: self.location.source.clone(),
            repository,
            subject,
            keys: self.cosign.keys.clone(),
        }]
    }

    pub(super) fn on_cosign_verified(
        &mut self,
        request: RequestId,
        node: NodeId,
        result: Result<CosignReport, crate::error::Error>,
    ) -> Vec<Effect> {
        if self.cosign.pending.get(&node) != Some(&request) {
            return Vec::new();
        }
        self.cosign.pending.remove(&node);
        let state = match result {
            Ok(r) => CosignNode::Done(Arc::new(r)),
            Err(e) => CosignNode::Error(e.to_string()),
        };
        self.cosign.results.insert(node, state);
        self.dirty = true;
        Vec::new()
    }

    /// Checks with `keys` from now on (the demo's key stays with the demo).
    pub(super) fn switch_cosign_keys(&mut self, keys: Arc<Vec<NamedKey>>) {
        if !Arc::ptr_eq(&self.cosign.keys, &keys) {
            self.cosign = CosignState::new(keys);
        }
    }

    /// Whether node `id` is one of cosign's signature artifacts.
    pub fn is_cosign_signature_node(&self, id: NodeId) -> bool {
        matches!(&self.tree.graph.node(id).kind, NodeKind::Artifact(a) if is_cosign_signature(a.kind))
    }

    pub fn cosign_verify(&self, id: NodeId) -> Option<&CosignNode> {
        self.cosign.results.get(&id)
    }

    /// What the image's cosign check says of one of its cosign signature nodes: the entries
    /// found in that manifest (a `.sig` manifest holds one per layer).
    pub fn cosign_signature_entries(&self, id: NodeId) -> Option<Vec<&CosignSignatureReport>> {
        let node = self.tree.graph.node(id);
        let NodeKind::Artifact(a) = &node.kind else { return None };
        if !is_cosign_signature(a.kind) {
            return None;
        }
        let parent = node.parent.filter(|&p| is_subject(self, p))?;
        match self.cosign.results.get(&parent)? {
            CosignNode::Done(r) => {
                Some(r.signatures.iter().chain(&r.attestations).filter(|s| s.manifest == a.descriptor.digest).collect())
            }
            _ => None,
        }
    }
}
