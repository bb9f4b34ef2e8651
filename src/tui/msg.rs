//! Messages and effects: what reaches `update` (input, finished work) and the work it asks for.
//! Effects are run by [`super::effects::execute`], in the runner and in the tests alike.

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyEvent, MouseEvent};

use crate::error::Error;
use crate::graph::expand::ExpandRequest;
use crate::graph::{ArtifactNode, Expansion, NodeId};
use crate::inspect::Details;
use crate::notation::dir::Snapshot;
use crate::notation::verifier::{ArtifactReport, Verifier};
use crate::oci::Descriptor;
use crate::open::{OpenOptions, Opened};
use crate::source::DynSource;

/// Matches an effect's answer to the request that asked for it.
pub type RequestId = u64;

/// Everything that can change the state.
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// The terminal's size in columns and rows: sent once at start and on every change; the
    /// app lays out from it (`tui::layout`) to page, clamp scrolling and hit-test clicks.
    Resize(u16, u16),
    /// Text pasted into the terminal (bracketed paste), whole.
    Paste(String),
    /// Spinner frame and toast expiry; sent only while something is in flight or shown.
    Tick,
    Expanded {
        request: RequestId,
        node: NodeId,
        result: Result<Expansion, Error>,
    },
    Described {
        request: RequestId,
        node: NodeId,
        details: Details,
    },
    Opened {
        request: RequestId,
        target: String,
        result: Result<Opened, Error>,
    },
    /// A verification of an image node finished (`Err`: referrers or envelopes unreadable).
    Verified {
        request: RequestId,
        node: NodeId,
        result: Result<ArtifactReport, Error>,
    },
    /// The cosign check of an image node finished (`Err`: its signatures could not be listed).
    CosignVerified {
        request: RequestId,
        node: NodeId,
        result: Result<crate::verify::cosign::CosignReport, Error>,
    },
    /// `:explain` replayed the policies for `node`; `error` says what kept a check from running.
    Explained {
        request: RequestId,
        node: NodeId,
        explanation: Box<crate::kyverno::replay::Explanation>,
        error: Option<String>,
    },
    /// ListSigningProfiles answered.
    SigningProfiles {
        request: RequestId,
        result: Result<crate::sign::aws_signer::ProfileList, Error>,
    },
    Signed {
        request: RequestId,
        node: NodeId,
        result: Result<Box<crate::sign::pipeline::Signed>, Error>,
    },
    /// The policy watcher read the Notation directory (at start, and after every change).
    PolicyLoaded(Box<Snapshot>),
    /// The `--kyverno-policy` files changed and were read again (or why they could not be).
    KyvernoLoaded(Result<Arc<crate::kyverno::policy::PolicySet>, String>),
    /// The what-if policy was written (or why not).
    PolicyWritten(Result<PathBuf, Error>),
    /// Something the loop did itself (clipboard, mouse switch) failed; the text says what.
    EffectFailed(String),
    /// SIGTERM, SIGHUP, or the input stream ended.
    Quit,
}

/// Work `update` asks for. Network work carries the source it must use, so results of a target
/// that was replaced by `:open` can never land in the new graph.
pub enum Effect {
    Expand {
        request: RequestId,
        node: NodeId,
        source: DynSource,
        req: Box<ExpandRequest>,
    },
    Describe {
        request: RequestId,
        node: NodeId,
        source: DynSource,
        artifact: Box<ArtifactNode>,
        preview_limit: u64,
    },
    Open {
        request: RequestId,
        target: String,
        options: Box<OpenOptions>,
    },
    /// Verify one image against the verifier's policy at `now`. A tag not yet opened is
    /// verified too: `tag` names it and the subject is resolved from it first.
    Verify {
        request: RequestId,
        node: NodeId,
        source: DynSource,
        repository: String,
        subject: Box<Descriptor>,
        tag: Option<String>,
        verifier: Arc<Verifier>,
        now: chrono::DateTime<chrono::Utc>,
    },
    /// Check `subject`'s cosign signatures with `keys`.
    VerifyCosign {
        request: RequestId,
        node: NodeId,
        source: DynSource,
        repository: String,
        subject: Box<Descriptor>,
        keys: Arc<Vec<crate::verify::cosign::NamedKey>>,
    },
    /// Sign `subject` with `key` and store the signature on `source` as its referrer.
    Sign {
        request: RequestId,
        node: NodeId,
        source: DynSource,
        repository: String,
        subject: Box<Descriptor>,
        key: Box<super::config::SigningKey>,
        envelope: crate::sign::pipeline::EnvelopeFormat,
        now: chrono::DateTime<chrono::Utc>,
        /// The AWS credential profile and timeouts, for an AWS Signer key.
        aws: Box<crate::sign::aws_signer::AwsSignerSettings>,
    },
    /// Replay the Kyverno policies for `subject`, named `image` as a Pod would name it.
    Explain {
        request: RequestId,
        node: NodeId,
        source: DynSource,
        repository: String,
        subject: Box<Descriptor>,
        image: String,
        /// What a pasted denial says of the resource admitted (kind, namespace, name).
        resource: crate::kyverno::replay::AdmittedResource,
        policies: Arc<crate::kyverno::policy::PolicySet>,
        revocation: crate::notation::revocation::RevocationMode,
        now: chrono::DateTime<chrono::Utc>,
    },
    /// List AWS Signer's Notation signing profiles for the sign dialog.
    ListSigningProfiles {
        request: RequestId,
        settings: Box<crate::sign::aws_signer::AwsSignerSettings>,
    },
    /// Read the Notation directory now and again whenever its policy or trust stores change.
    WatchPolicy {
        dir: PathBuf,
    },
    /// Read the `--kyverno-policy` files again whenever one changes.
    WatchKyverno {
        paths: Vec<PathBuf>,
    },
    /// Write a policy file atomically (temporary file + rename).
    WritePolicy {
        path: PathBuf,
        json: String,
    },
    /// Save the prompt histories (the file's whole text).
    SaveHistory {
        path: PathBuf,
        text: String,
    },
    Copy(String),
    SetMouse(bool),
    /// Ctrl-Z: give the terminal back to the shell until `fg`.
    Suspend,
    Quit,
}

impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Effect::Expand { request, node, .. } => write!(f, "Expand {{ request: {request}, node: {node} }}"),
            Effect::Describe { request, node, .. } => write!(f, "Describe {{ request: {request}, node: {node} }}"),
            Effect::Open { request, target, .. } => write!(f, "Open {{ request: {request}, target: {target:?} }}"),
            Effect::Verify { request, node, .. } => write!(f, "Verify {{ request: {request}, node: {node} }}"),
            Effect::VerifyCosign { request, node, .. } => {
                write!(f, "VerifyCosign {{ request: {request}, node: {node} }}")
            }
            Effect::Sign { request, node, .. } => write!(f, "Sign {{ request: {request}, node: {node} }}"),
            Effect::ListSigningProfiles { request, .. } => write!(f, "ListSigningProfiles {{ request: {request} }}"),
            Effect::Explain { request, node, .. } => write!(f, "Explain {{ request: {request}, node: {node} }}"),
            Effect::WatchPolicy { dir } => write!(f, "WatchPolicy {{ dir: {dir:?} }}"),
            Effect::WatchKyverno { paths } => write!(f, "WatchKyverno {{ paths: {paths:?} }}"),
            Effect::WritePolicy { path, .. } => write!(f, "WritePolicy {{ path: {path:?} }}"),
            Effect::SaveHistory { path, .. } => write!(f, "SaveHistory {{ path: {path:?} }}"),
            Effect::Copy(t) => write!(f, "Copy({t:?})"),
            Effect::SetMouse(on) => write!(f, "SetMouse({on})"),
            Effect::Suspend => f.write_str("Suspend"),
            Effect::Quit => f.write_str("Quit"),
        }
    }
}
