//! The sign dialog (`s`): the exact reference and digest that will be signed, the configured
//! keys and the envelope format, and two buttons with Cancel focused: Enter presses the focused
//! one, ←/→ move the focus, yes signs, every other key cancels. Signing runs as an effect;
//! the new signature shows up under the image by refreshing it, and is verified like any other.

use std::collections::HashMap;

use crossterm::event::KeyEvent;

use crate::graph::{ArtifactKind, LoadState, NodeId, NodeKind};
use crate::oci::Descriptor;
use crate::sanitize::sanitize;
use crate::sign::pipeline::{EnvelopeFormat, Signed};

use super::super::config::{KeySource, SigningKey};
use super::super::keymap::{Answer, Key, Modal};
use super::{App, Effect, Mode, RequestId, Severity};
use crate::sign::aws_signer::{AwsSignerSettings, ProfileList};

/// The sign dialog as shown: what will be signed, with which key and envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignDialog {
    pub node: NodeId,
    /// `host/repo@sha256:…`: by digest, never by tag.
    pub reference: String,
    pub repository: String,
    pub subject: Descriptor,
    /// Index into the app's signing keys.
    pub key: usize,
    pub envelope: EnvelopeFormat,
    /// Why the last key did nothing, shown in the dialog (the status line is under it).
    pub note: Option<String>,
    /// Whether the Sign button has the focus; Cancel has it when the dialog opens, so Enter
    /// pressed without reading cancels.
    pub sign_focused: bool,
}

/// Signatures being made, and the last signing of a node that failed (shown on its row until
/// the node is signed again or refreshed), by node.
#[derive(Debug, Default)]
pub struct Signing {
    in_flight: HashMap<NodeId, RequestId>,
    failed: HashMap<NodeId, String>,
}

impl Signing {
    pub(super) fn len(&self) -> usize {
        self.in_flight.len()
    }

    /// A refresh shows the node as it is now: an old failure is no longer what it says.
    pub(super) fn forget_failure(&mut self, id: NodeId) {
        self.failed.remove(&id);
    }

    pub(super) fn forget_failures(&mut self) {
        self.failed.clear();
    }
}

/// AWS Signer's Notation profiles for the dialog: listed when the dialog first opens (again
/// after a failure), added to the keys it offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsProfiles {
    NotAsked,
    Listing { request: RequestId, region: Option<String> },
    Listed { region: String, offered: usize, inactive: usize, truncated: bool },
    Failed(String),
}

impl App {
    pub fn signing_keys(&self) -> &[SigningKey] {
        &self.settings.signing_keys
    }

    /// Whether a signature of `id` is being made.
    pub fn is_signing(&self, id: NodeId) -> bool {
        self.signing.in_flight.contains_key(&id)
    }

    /// Why the last signing of `id` failed, until it is signed again or refreshed.
    pub fn sign_failure(&self, id: NodeId) -> Option<&str> {
        self.signing.failed.get(&id).map(String::as_str)
    }

    /// `s`: the dialog for the selected image, index or platform manifest (a tag: its image).
    pub(super) fn open_sign_dialog(&mut self) -> Vec<Effect> {
        if self.settings.read_only {
            self.set_status(
                Severity::Error,
                "refused: read-only (--read-only, or read_only = true or an unreadable config.toml): signing is off"
                    .into(),
            );
            return Vec::new();
        }
        let Some(mut id) = self.selected() else { return Vec::new() };
        if let NodeKind::Tag { tag, .. } = &self.tree.graph.node(id).kind {
            match self.tree.graph.node(id).children[..] {
                [child] => id = child,
                // What a tag names is known once it is loaded: load it, then ask.
                _ if self.tree.graph.node(id).load != LoadState::Loaded => {
                    let what = format!("loading tag {} to sign the manifest it names…", sanitize(tag));
                    self.sign_when_loaded = Some(id);
                    self.tree.open.insert(id);
                    let effects = self.expand_node(id);
                    self.rebuild_rows();
                    self.set_status(Severity::Info, what);
                    return effects;
                }
                _ => {}
            }
        }
        let node = self.tree.graph.node(id);
        let NodeKind::Artifact(a) = &node.kind else {
            self.set_status(Severity::Warning, "select an image or an index to sign (a tag: open it first)".into());
            return Vec::new();
        };
        if !matches!(a.kind, ArtifactKind::Image | ArtifactKind::Index) {
            self.set_status(
                Severity::Warning,
                format!("a {} is not signed from here: select its image", a.kind.label()),
            );
            return Vec::new();
        }
        if self.settings.signing_keys.is_empty() && self.settings.aws_signer.is_none() {
            self.set_status(
                Severity::Warning,
                "no signing key: add [[signing.key]] (name, key, cert — or aws_signer_profile) or [signing.aws_signer] \
                 to config.toml"
                    .into(),
            );
            return Vec::new();
        }
        let key = 0;
        let envelope = self.settings.signing_keys.get(key).map(|k| k.envelope).unwrap_or(EnvelopeFormat::Jws);
        let reference = format!("{}@{}", self.location.source.repository_ref(&a.repository), a.descriptor.digest);
        self.mode = Mode::Sign(Box::new(SignDialog {
            node: id,
            reference,
            repository: a.repository.to_string(),
            subject: a.descriptor.to_oci(),
            key,
            envelope,
            note: None,
            sign_focused: false,
        }));
        self.list_aws_profiles()
    }

    /// What AWS calls are made with: `--profile`, the registry timeouts, and `region`.
    fn aws_signer_settings(&self, region: Option<String>) -> AwsSignerSettings {
        AwsSignerSettings { aws: self.settings.aws.clone(), region }
    }

    /// ListSigningProfiles, unless listed already or under way.
    fn list_aws_profiles(&mut self) -> Vec<Effect> {
        let Some(listing) = self.settings.aws_signer.clone() else { return Vec::new() };
        if matches!(self.aws_profiles, AwsProfiles::Listing { .. } | AwsProfiles::Listed { .. }) {
            return Vec::new();
        }
        let request = self.request_id();
        self.aws_profiles = AwsProfiles::Listing { request, region: listing.region.clone() };
        vec![Effect::ListSigningProfiles { request, settings: Box::new(self.aws_signer_settings(listing.region)) }]
    }

    /// Active profiles become keys of the dialog (after the configured ones, once each).
    pub(super) fn on_signing_profiles(
        &mut self,
        request: RequestId,
        result: Result<ProfileList, crate::error::Error>,
    ) -> Vec<Effect> {
        if !matches!(self.aws_profiles, AwsProfiles::Listing { request: r, .. } if r == request) {
            return Vec::new();
        }
        self.dirty = true;
        let list = match result {
            Ok(list) => list,
            Err(e) => {
                let why = sanitize(&e.to_string()).into_owned();
                self.set_status(Severity::Error, format!("AWS Signer's profiles could not be listed: {why}"));
                self.aws_profiles = AwsProfiles::Failed(why);
                return Vec::new();
            }
        };
        let had_keys = !self.settings.signing_keys.is_empty();
        let (mut offered, mut inactive) = (0, 0);
        for p in &list.profiles {
            if !p.status.eq_ignore_ascii_case("Active") {
                inactive += 1;
                continue;
            }
            offered += 1;
            let known = self.settings.signing_keys.iter().any(
                |k| matches!(&k.source, KeySource::AwsSigner { profile, .. } if profile.eq_ignore_ascii_case(&p.arn)),
            );
            if !known {
                self.settings.signing_keys.push(SigningKey {
                    name: p.name.clone(),
                    source: KeySource::AwsSigner { profile: p.arn.clone(), region: None },
                    envelope: EnvelopeFormat::Jws,
                    timestamp: None,
                });
            }
        }
        if !had_keys && let Mode::Sign(d) = &mut self.mode {
            d.envelope = EnvelopeFormat::Jws;
        }
        self.set_status(
            Severity::Info,
            format!("AWS Signer: {offered} active Notation signing profile(s) in {}", sanitize(&list.region)),
        );
        self.aws_profiles = AwsProfiles::Listed { region: list.region, offered, inactive, truncated: list.truncated };
        Vec::new()
    }

    /// After a tag loaded for `s`: the dialog on the manifest it names, if it is still selected.
    pub(super) fn sign_after_load(&mut self, node: NodeId) -> Vec<Effect> {
        if self.sign_when_loaded != Some(node) {
            return Vec::new();
        }
        self.sign_when_loaded = None;
        if self.selected() != Some(node) || self.mode != Mode::Normal {
            return Vec::new();
        }
        match self.tree.graph.node(node).children[..] {
            [_] => self.open_sign_dialog(),
            _ => {
                self.set_status(Severity::Warning, "the tag names no manifest to sign".into());
                Vec::new()
            }
        }
    }

    pub(super) fn on_sign_key(&mut self, key: KeyEvent, mut dialog: Box<SignDialog>) -> Vec<Effect> {
        let keys = self.settings.signing_keys.len();
        let answer = match Modal::Sign.answer(Key::from_event(&key)) {
            // Enter presses what has the focus: Cancel, unless it was moved to Sign.
            Some(Answer::Press) if dialog.sign_focused => Some(Answer::Accept),
            Some(Answer::Press) => Some(Answer::Cancel),
            other => other,
        };
        // No key yet (AWS Signer's profiles are being listed): only cancelling does anything.
        if keys == 0 && !matches!(answer, Some(Answer::Cancel) | None) {
            let why = match &self.aws_profiles {
                AwsProfiles::Failed(e) => {
                    format!("no key to sign with: AWS Signer's profiles could not be listed ({e})")
                }
                AwsProfiles::Listed { region, .. } => format!("no key to sign with: no active profile in {region}"),
                _ => "no key to sign with yet: AWS Signer's profiles are being listed".into(),
            };
            dialog.note = Some(why);
            self.mode = Mode::Sign(dialog);
            return Vec::new();
        }
        dialog.note = None;
        match answer {
            Some(Answer::Accept) => {
                self.mode = Mode::Normal;
                self.sign(*dialog)
            }
            Some(Answer::Focus) => {
                dialog.sign_focused = !dialog.sign_focused;
                self.mode = Mode::Sign(dialog);
                Vec::new()
            }
            Some(Answer::ScrollDown) => {
                dialog.key = (dialog.key + 1) % keys;
                dialog.envelope = self.settings.signing_keys[dialog.key].envelope;
                self.mode = Mode::Sign(dialog);
                Vec::new()
            }
            Some(Answer::ScrollUp) => {
                dialog.key = (dialog.key + keys - 1) % keys;
                dialog.envelope = self.settings.signing_keys[dialog.key].envelope;
                self.mode = Mode::Sign(dialog);
                Vec::new()
            }
            Some(Answer::Switch)
                if matches!(self.settings.signing_keys[dialog.key].source, KeySource::AwsSigner { .. }) =>
            {
                dialog.note = Some("AWS Signer returns JWS envelopes only".into());
                self.mode = Mode::Sign(dialog);
                Vec::new()
            }
            Some(Answer::Switch) => {
                dialog.envelope = match dialog.envelope {
                    EnvelopeFormat::Jws => EnvelopeFormat::Cose,
                    EnvelopeFormat::Cose => EnvelopeFormat::Jws,
                };
                self.mode = Mode::Sign(dialog);
                Vec::new()
            }
            Some(Answer::Cancel | Answer::Press) | None => {
                self.mode = Mode::Normal;
                self.set_status(Severity::Info, "not signed".into());
                Vec::new()
            }
        }
    }

    fn sign(&mut self, d: SignDialog) -> Vec<Effect> {
        let request = self.request_id();
        self.signing.in_flight.insert(d.node, request);
        self.signing.failed.remove(&d.node);
        let key = self.settings.signing_keys[d.key].clone();
        self.set_status(Severity::Info, format!("signing {} with {}…", sanitize(&d.reference), sanitize(&key.name)));
        vec![Effect::Sign {
            request,
            node: d.node,
            source: self.location.source.clone(),
            repository: d.repository,
            subject: Box::new(d.subject),
            key: Box::new(key),
            envelope: d.envelope,
            now: self.clock.utc(),
            aws: Box::new(self.aws_signer_settings(None)),
        }]
    }

    pub(super) fn on_signed(
        &mut self,
        request: RequestId,
        node: NodeId,
        result: Result<Box<Signed>, crate::error::Error>,
    ) -> Vec<Effect> {
        if self.signing.in_flight.get(&node) != Some(&request) {
            return Vec::new();
        }
        self.signing.in_flight.remove(&node);
        self.dirty = true;
        match result {
            Ok(signed) => {
                self.show_toast(format!("signed: signature {}", signed.signature.descriptor.digest));
                self.set_status(
                    Severity::Info,
                    format!("signed {}: signature {}", signed.subject.digest, sanitize(&signed.signature.reference)),
                );
                // The new referrer is found by loading the image again; it is verified on arrival.
                self.tree.open.insert(node);
                self.refresh(node)
            }
            Err(e) => {
                // Whether anything was stored is the error's to say: a manifest stored but not listed is.
                let reason = sanitize(&e.to_string()).into_owned();
                let text = format!("signing failed: {reason}");
                self.show_toast(text.clone());
                self.set_status(Severity::Error, text);
                self.signing.failed.insert(node, reason);
                Vec::new()
            }
        }
    }
}
