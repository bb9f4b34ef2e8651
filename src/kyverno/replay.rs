//! Replays what Kyverno's admission controller decides for one image under a set of policies,
//! with its semantics (`pkg/engine/internal/imageverifier.go`, the Notary verifier of
//! `pkg/image/verifiers/cpol/notary`): which ClusterPolicy/Policy rules match the image
//! (`imageReferences` against the normalised image, `skipImageReferences`), then each attestor
//! set — every set must pass, a set passes when `count` of its entries (all, by default) do,
//! nested sets alike — then `verifyDigest`/`mutateDigest`, and the rule's `failureAction`.
//!
//! The signature checks themselves are injected ([`AttestorCheck`]): this module takes text and
//! answers, never a source. What cannot be replayed here says so and why — keyless (Fulcio and
//! Rekor are online services), SigstoreBundle rules, ImageValidatingPolicy
//! rules — and an unknown is never counted as a pass. Attestations are replayed in
//! [`super::attestations`]; whether a rule applies to the resource at all in [`super::resources`].

use serde::Serialize;

pub use super::attestations::{AttestationFetch, AttestationReplay, FoundStatement};
use super::matching::{ClusterMatch, Glob, cluster_policy_applies, wildcard_match};
use super::policy::{
    ActionOverride, AttestorKind, AttestorSet, ClusterPolicy, ConfigMap, ContextEntry, FailureAction, PolicyKind,
    PolicySet, Rule, VerifierType, VerifyImages,
};
pub use super::resources::AdmittedResource;
use super::resources::{Admitting, Applies};

/// The Kyverno variables (`{{ … }}`) one rule can use, as far as sigscope resolves them: its
/// `context` ConfigMaps, read from the ConfigMaps loaded beside the policies.
pub(super) struct Vars<'a> {
    rule: &'a Rule,
    config_maps: &'a [ConfigMap],
}

impl Vars<'_> {
    /// The rule's context as JMESPath sees it (each ConfigMap entry found, as `{data, metadata}`),
    /// and the names of the entries sigscope could not fill.
    pub(super) fn context_root(&self) -> (serde_json::Value, Vec<String>) {
        let mut root = serde_json::Map::new();
        let mut opaque = Vec::new();
        for entry in &self.rule.context {
            let found = match entry {
                ContextEntry::ConfigMap { config_map, namespace, .. } => self.config_maps.iter().find(|cm| {
                    cm.name == *config_map
                        && (namespace.is_none() || cm.namespace.is_none() || cm.namespace == *namespace)
                }),
                ContextEntry::Other { .. } => None,
            };
            match found {
                Some(cm) => {
                    let v =
                        serde_json::json!({"data": cm.data, "metadata": {"name": cm.name, "namespace": cm.namespace}});
                    root.insert(entry.name().to_string(), v);
                }
                None => opaque.push(entry.name().to_string()),
            }
        }
        (serde_json::Value::Object(root), opaque)
    }

    /// `text` with every `{{ NAME.data.KEY }}` of a ConfigMap context entry replaced; `Err`
    /// names the first variable that cannot be resolved here, and why.
    pub(super) fn substitute(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find("}}") else {
                return Err("an unclosed {{ in the attestor".into());
            };
            let expr = rest[start + 2..start + len].trim();
            out.push_str(&self.resolve(expr)?);
            rest = &rest[start + len + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn resolve(&self, expr: &str) -> Result<String, String> {
        let mut parts = expr.splitn(3, '.');
        let (name, data, key) = (parts.next().unwrap_or(""), parts.next(), parts.next());
        let Some(entry) = self.rule.context.iter().find(|c| c.name() == name) else {
            return Err(format!(
                "the variable {{{{ {expr} }}}} is not a context entry of the rule (request data and JMESPath \
                 functions are not resolved by sigscope)"
            ));
        };
        let (config_map, namespace) = match entry {
            ContextEntry::ConfigMap { config_map, namespace, .. } => (config_map, namespace),
            ContextEntry::Other { kind, .. } => {
                return Err(format!(
                    "the variable {{{{ {expr} }}}} comes from a context entry of kind {kind}, which sigscope does not \
                     resolve"
                ));
            }
        };
        let (Some("data"), Some(key)) = (data, key.map(|k| k.trim_matches('"'))) else {
            return Err(format!("the variable {{{{ {expr} }}}} is not NAME.data.KEY of a ConfigMap"));
        };
        let found = self.config_maps.iter().find(|cm| {
            cm.name == *config_map && (namespace.is_none() || cm.namespace.is_none() || cm.namespace == *namespace)
        });
        let shown = match namespace {
            Some(ns) => format!("{ns}/{config_map}"),
            None => config_map.clone(),
        };
        let Some(cm) = found else {
            return Err(format!(
                "the variable {{{{ {expr} }}}} reads the ConfigMap {shown}, which is not among the files given: add it \
                 (kubectl get configmap -n NAMESPACE NAME -o yaml) with --kyverno-policy"
            ));
        };
        cm.data.get(key).cloned().ok_or_else(|| format!("the ConfigMap {shown} has no data key {key:?}"))
    }
}

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplayOutcome {
    Pass,
    Fail,
    /// Could not be decided here; the reason says why. Never a pass.
    NotReplayed,
}

/// What checking one attestor entry found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryResult {
    pub outcome: ReplayOutcome,
    pub reason: String,
    /// One line per signature examined: digest, signer, what it failed.
    pub signatures: Vec<String>,
    /// The check each failing signature failed (`authenticity`, `expiry`, …), for the advice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_checks: Vec<String>,
    /// The distinct subjects of the signing certificates found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<String>,
}

impl EntryResult {
    pub fn not_replayed(reason: impl Into<String>) -> Self {
        EntryResult { outcome: ReplayOutcome::NotReplayed, ..EntryResult::failed(reason) }
    }

    pub fn failed(reason: impl Into<String>) -> Self {
        EntryResult {
            outcome: ReplayOutcome::Fail,
            reason: reason.into(),
            signatures: Vec::new(),
            failed_checks: Vec::new(),
            signers: Vec::new(),
        }
    }
}

/// Why a SigstoreBundle key entry is not replayed: what Kyverno does with it depends on its
/// version (`pkg/cosign/sigstore.go` `buildPolicy`, and its 1.19 rewrite).
pub(super) const SIGSTORE_BUNDLE_KEYS: &str = "Kyverno's SigstoreBundle verifier ignores keys up to 1.18 (it builds its policy from a keyless subject and \
     issuer only and checks bundles against Sigstore's TUF trusted root, so this entry fails there), and from 1.19 \
     verifies them (offline with rekor.ignoreTlog and ctlog.ignoreSCT): the verdict depends on the Kyverno version, \
     so it is not replayed";

/// Why a SigstoreBundle certificate entry is not replayed.
pub(super) const SIGSTORE_BUNDLE_CERTIFICATES: &str = "Kyverno's SigstoreBundle verifier reads no certificates from the attestor: it checks bundles against Sigstore's \
     TUF trusted root (Fulcio, Rekor, timestamp authorities), with an identity check only for keyless subject and \
     issuer (up to 1.17 it refuses an entry without them); that root is not available offline, so it is not \
     replayed";

/// Where and how Kyverno's Cosign verifier looks for a rule's signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CosignLookup {
    /// `rekor.ignoreTlog`: without it Kyverno also requires the signature's transparency-log entry.
    pub ignore_tlog: bool,
    /// `cosignOCI11`: the last OCI 1.1 referrer of cosign's signature artifact type first, then
    /// (when it yields no verified signature) the `.sig` tag, as cosign's `ExperimentalOCI11`.
    pub oci11: bool,
    /// `ctlog.ignoreSCT` of a certificates entry: without it cosign requires a certificate it
    /// validates against a chain to carry an SCT.
    pub ignore_sct: bool,
}

/// The signature checks of an attestor entry, done by whoever can reach the image.
#[async_trait::async_trait]
pub trait AttestorCheck: Send + Sync {
    /// Kyverno's Notary verifier: the image's Notation signatures against `certs_pem` as the one
    /// `ca:` trust store, level strict, any identity.
    async fn notary(&self, certs_pem: &str) -> EntryResult;

    /// Kyverno's Cosign verifier with a static key: the image's cosign signatures (the
    /// `sha256-<hex>.sig` tag, or first its OCI 1.1 referrer) against `public_key_pem`.
    async fn cosign_key(&self, public_key_pem: &str, how: CosignLookup) -> EntryResult;

    /// Kyverno's Cosign verifier with a certificate: the image's cosign signatures verified with
    /// `cert_pem`'s key, the certificate valid now and, with `chain_pem`, issued under that chain.
    async fn cosign_certificate(&self, _cert_pem: &str, _chain_pem: Option<&str>, _how: CosignLookup) -> EntryResult {
        EntryResult::not_replayed("cosign certificate attestors cannot be checked here")
    }

    /// Kyverno's Cosign verifier with a `certChain` and no `cert`: each signature's own
    /// certificate checked against the chain (every certificate of it a trust anchor).
    async fn cosign_chain(&self, _chain_pem: &str, _how: CosignLookup) -> EntryResult {
        EntryResult::not_replayed("cosign certChain attestors cannot be checked here")
    }

    /// Kyverno's Notary verifier fetching attestations: the image's referrers whose
    /// `artifactType` is `artifact_type`, in the registry's order, each with its own Notation
    /// signature checked against `certs_pem` and its content as the statement's `predicate`.
    /// `Err` is the entry's result when the referrers cannot be listed (or are too many).
    async fn notary_attestations(
        &self,
        _certs_pem: &str,
        _artifact_type: &str,
    ) -> Result<Vec<AttestationFetch>, EntryResult> {
        Err(EntryResult::not_replayed("Notary attestations cannot be fetched here"))
    }

    /// Kyverno's Cosign verifier fetching attestations with a static key: the image's
    /// `sha256-<hex>.att` DSSE envelopes whose signature verifies with the key and whose
    /// statement names the image.
    async fn cosign_key_attestations(&self, _public_key_pem: &str, _ignore_tlog: bool) -> AttestationFetch {
        AttestationFetch {
            from: String::new(),
            signature: EntryResult::not_replayed("cosign attestations cannot be fetched here"),
            statements: Vec::new(),
        }
    }

    /// The same with a `certificates.cert` entry: its key, taken as for image signatures
    /// ([`AttestorCheck::cosign_certificate`]).
    async fn cosign_certificate_attestations(
        &self,
        _cert_pem: &str,
        _chain_pem: Option<&str>,
        _how: CosignLookup,
    ) -> AttestationFetch {
        AttestationFetch {
            from: String::new(),
            signature: EntryResult::not_replayed("cosign certificate attestations cannot be fetched here"),
            statements: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryReplay {
    /// `.attestors[0].entries[1]`, nested `….attestor.entries[0]`, as Kyverno writes it.
    pub path: String,
    /// `certificates`, `keys`, `keyless`, `attestor` (nested).
    pub kind: &'static str,
    pub result: EntryResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nested: Option<Box<SetReplay>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetReplay {
    pub path: String,
    pub required: usize,
    pub entries: Vec<EntryReplay>,
    pub passed: usize,
    pub outcome: ReplayOutcome,
}

/// How a rule saw the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum MatchReport {
    /// The rule's `match`/`exclude`/`preconditions` (or a Policy's namespace) leave the resource
    /// out, before any image is looked at.
    NotSelected {
        reason: String,
    },
    Matched {
        normalised: String,
        pattern: String,
    },
    Skipped {
        normalised: String,
        pattern: String,
    },
    NotMatched {
        normalised: String,
    },
    Error {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleReplay {
    pub policy: String,
    /// `ClusterPolicy`, `Policy` (with its namespace), `ImageValidatingPolicy`.
    pub kind: String,
    pub rule: String,
    /// Index of the `verifyImages` entry within the rule.
    pub verify_images: usize,
    #[serde(rename = "match")]
    pub matched: MatchReport,
    pub verifier: &'static str,
    pub attestor_sets: Vec<SetReplay>,
    /// The rule's `attestations`, each replayed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<AttestationReplay>,
    /// Other parts of the rule (validate, digest), each with its outcome.
    pub notes: Vec<Note>,
    pub failure_action: &'static str,
    /// `None` for a rule that does not apply to the image.
    pub outcome: Option<ReplayOutcome>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub what: String,
    pub outcome: ReplayOutcome,
    pub reason: String,
}

/// What the admission controller would say about the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Admission {
    Allowed,
    /// An Enforce rule fails.
    Blocked,
    /// Only Audit rules fail: admitted, with a policy report entry.
    AuditWarning,
    /// An Enforce rule could not be replayed and none failed: it may be blocked.
    Unknown,
}

impl Admission {
    pub fn word(self) -> &'static str {
        match self {
            Admission::Allowed => "allowed",
            Admission::Blocked => "would be blocked",
            Admission::AuditWarning => "audit warning",
            Admission::Unknown => "not decided",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub image: String,
    /// What was known of the resource admitted (its kind, namespace, name).
    pub resource: AdmittedResource,
    pub admission: Admission,
    pub rules: Vec<RuleReplay>,
    /// What would make the image pass, or why it passes.
    pub summary: String,
}

/// Replays every policy of `policies` for `image` (as the Pod spec names it). `has_digest`:
/// the reference pins a digest (else `verifyDigest` without `mutateDigest` refuses it).
pub async fn replay(
    policies: &PolicySet,
    image: &str,
    resource: &AdmittedResource,
    check: &dyn AttestorCheck,
) -> Explanation {
    let admitting = resource.admitting(&policies.namespaces);
    let has_digest = image.contains("@sha256:") || image.contains("@sha512:");
    let mut rules = Vec::new();
    for policy in &policies.cluster_policies {
        for rule in &policy.rules {
            let vars = Vars { rule, config_maps: &policies.config_maps };
            for (i, vi) in rule.verify_images.iter().enumerate() {
                let at = Target { image, has_digest, admitting };
                rules.push(replay_rule(policy, rule, i, vi, &at, &vars, check).await);
            }
        }
    }
    for ivp in &policies.image_validating {
        let matched =
            ivp.match_image_globs.iter().find_map(|g| match Glob::compile(g).and_then(|c| c.matches(image)) {
                Ok(true) => Some(Ok(g.clone())),
                Ok(false) => None,
                Err(e) => Some(Err(format!("matchImageReferences glob {g:?}: {e}"))),
            });
        let (matched, outcome, reason) = match matched {
            None if ivp.match_image_expressions.is_empty() => {
                (MatchReport::NotMatched { normalised: image.to_string() }, None, "no glob matches the image".into())
            }
            None => (
                MatchReport::Error { reason: "matchImageReferences expressions (CEL) are not evaluated yet".into() },
                Some(ReplayOutcome::NotReplayed),
                "its matchImageReferences are CEL expressions, which sigscope does not evaluate yet".into(),
            ),
            Some(Err(e)) => (MatchReport::Error { reason: e.clone() }, Some(ReplayOutcome::NotReplayed), e),
            Some(Ok(pattern)) => (
                MatchReport::Matched { normalised: image.to_string(), pattern },
                Some(ReplayOutcome::NotReplayed),
                "ImageValidatingPolicy rules (CEL validations over the attestors) are not replayed yet".into(),
            ),
        };
        let audit_only = !ivp.validation_actions.is_empty() && ivp.validation_actions.iter().all(|a| a != "Deny");
        rules.push(RuleReplay {
            policy: ivp.name.clone(),
            kind: "ImageValidatingPolicy".into(),
            rule: ivp.name.clone(),
            verify_images: 0,
            matched,
            verifier: "Notary/Cosign",
            attestor_sets: Vec::new(),
            attestations: Vec::new(),
            notes: Vec::new(),
            failure_action: if audit_only { "Audit" } else { "Enforce" },
            outcome,
            reason,
        });
    }
    let admission = admission(&rules);
    let summary = summary(image, admission, &rules);
    Explanation { image: image.to_string(), resource: resource.clone(), admission, rules, summary }
}

/// The image as the Pod names it, and what is known of the resource admitted.
struct Target<'a> {
    image: &'a str,
    has_digest: bool,
    admitting: Admitting<'a>,
}

/// Whether Kyverno would apply the rule to the resource: the Policy's namespace, `match`,
/// `exclude`, then `preconditions` (evaluated where they read only what sigscope has).
fn rule_selects(policy: &ClusterPolicy, rule: &Rule, at: &Admitting, vars: &Vars) -> Applies {
    let scope = match policy.kind {
        PolicyKind::Policy => super::resources::policy_scope(policy.namespace.as_deref(), at),
        PolicyKind::ClusterPolicy => Applies::Yes,
    };
    let selected =
        match (scope, super::resources::rule_applies(rule.match_resources.as_ref(), rule.exclude.as_ref(), at)) {
            (Applies::No(why), _) | (_, Applies::No(why)) => return Applies::No(why),
            (Applies::Unknown(why), _) | (_, Applies::Unknown(why)) => Applies::Unknown(why),
            (Applies::Yes, Applies::Yes) => Applies::Yes,
        };
    let Some(pre) = &rule.preconditions else { return selected };
    let (root, opaque) = vars.context_root();
    let report = super::conditions::evaluate(pre, &root, &opaque);
    let pre = match report.outcome {
        ReplayOutcome::Pass => Applies::Yes,
        // A false precondition leaves the rule out, but a Kyverno error (a missing key) is not
        // told apart from it here: neither is taken as "does not apply".
        ReplayOutcome::Fail => Applies::Unknown(format!("its preconditions do not hold here: {}", report.reason)),
        ReplayOutcome::NotReplayed => {
            Applies::Unknown(format!("its preconditions cannot be evaluated here: {}", report.reason))
        }
    };
    match (selected, pre) {
        (Applies::Unknown(why), _) | (Applies::Yes, Applies::Unknown(why)) => Applies::Unknown(why),
        (a, _) => a,
    }
}

/// Kyverno's `GetValidationFailureAction`: one action for the whole policy — the first rule
/// that sets one (a validate rule's overrides for the namespace, then its `failureAction`; an
/// image rule's `verifyImages[0].failureAction`), else the spec's overrides for the namespace,
/// else `validationFailureAction`. An override that may apply but cannot be decided here (the
/// namespace or its labels unknown) is skipped and the reason says so.
fn policy_action(policy: &ClusterPolicy, at: &Admitting) -> (FailureAction, Option<String>) {
    let mut skipped = None;
    let mut first = |overrides: &[ActionOverride]| -> Option<FailureAction> {
        for o in overrides {
            match override_applies(o, at) {
                Applies::Yes => return Some(o.action),
                Applies::Unknown(why) => skipped = skipped.take().or(Some(why)),
                Applies::No(_) => {}
            }
        }
        None
    };
    for rule in &policy.rules {
        if let Some((action, overrides)) = &rule.validate_action {
            if let Some(a) = first(overrides) {
                return (a, None);
            }
            if let Some(a) = action {
                return (*a, skipped);
            }
        } else if let Some(a) = rule.verify_images.first().and_then(|vi| vi.failure_action) {
            return (a, skipped);
        }
    }
    if let Some(a) = first(&policy.action_overrides) {
        return (a, None);
    }
    let note = skipped.map(|why| {
        format!("a failure-action override may apply ({why}); the policy's validationFailureAction is used")
    });
    (policy.validation_failure_action, note)
}

/// Whether an override's `namespaces` (wildcards) and `namespaceSelector` take the Pod in.
fn override_applies(o: &ActionOverride, at: &Admitting) -> Applies {
    let selector = |s: &Option<super::resources::LabelSelector>| match s {
        Some(s) => super::resources::namespace_selector(s, at),
        // Kyverno's CheckSelector of no selector selects nothing.
        None => Applies::No(String::new()),
    };
    let Some(patterns) = &o.namespaces else { return selector(&o.namespace_selector) };
    let Some(ns) = at.namespace else {
        return Applies::Unknown(
            "the Pod's namespace is not known here (give --namespace, or paste the denial)".into(),
        );
    };
    if !patterns.iter().any(|p| wildcard_match(p, ns)) {
        return Applies::No(String::new());
    }
    match &o.namespace_selector {
        None => Applies::Yes,
        s => selector(s),
    }
}

/// An attestor set's outcome, as Kyverno counts: `required` entries passing pass it; when even
/// the entries that could not be replayed passing would not reach it, it fails; otherwise it is
/// not decided.
pub(super) fn count_outcome(passed: usize, unknown: usize, required: usize) -> ReplayOutcome {
    if passed >= required {
        ReplayOutcome::Pass
    } else if passed + unknown < required {
        ReplayOutcome::Fail
    } else {
        ReplayOutcome::NotReplayed
    }
}

async fn replay_rule(
    policy: &ClusterPolicy,
    rule: &Rule,
    index: usize,
    vi: &VerifyImages,
    at: &Target<'_>,
    vars: &Vars<'_>,
    check: &dyn AttestorCheck,
) -> RuleReplay {
    let (image, has_digest) = (at.image, at.has_digest);
    let (action, action_note) = policy_action(policy, &at.admitting);
    let mut replay = RuleReplay {
        policy: policy.name.clone(),
        kind: match (policy.kind, &policy.namespace) {
            (PolicyKind::ClusterPolicy, _) => "ClusterPolicy".into(),
            (PolicyKind::Policy, Some(ns)) => format!("Policy (namespace {ns})"),
            (PolicyKind::Policy, None) => "Policy".into(),
        },
        rule: rule.name.clone(),
        verify_images: index,
        matched: MatchReport::Error { reason: String::new() },
        verifier: match vi.verifier {
            VerifierType::Cosign => "Cosign",
            VerifierType::SigstoreBundle => "SigstoreBundle",
            VerifierType::Notary => "Notary",
        },
        attestor_sets: Vec::new(),
        attestations: Vec::new(),
        notes: Vec::new(),
        failure_action: match action {
            FailureAction::Enforce => "Enforce",
            FailureAction::Audit => "Audit",
        },
        outcome: None,
        reason: String::new(),
    };
    if let Some(note) = action_note {
        replay.notes.push(Note { what: "failureAction".into(), outcome: ReplayOutcome::Pass, reason: note });
    }
    let uncertain = match rule_selects(policy, rule, &at.admitting, vars) {
        Applies::No(reason) => {
            replay.reason.clone_from(&reason);
            replay.matched = MatchReport::NotSelected { reason };
            return replay;
        }
        Applies::Unknown(why) => Some(why),
        Applies::Yes => None,
    };
    match cluster_policy_applies(&vi.image_references, &vi.skip_image_references, image) {
        Err(e) => {
            replay.reason = format!("the image reference does not parse as Kyverno reads it: {e}");
            replay.matched = MatchReport::Error { reason: e };
            replay.outcome = Some(ReplayOutcome::NotReplayed);
            return replay;
        }
        Ok(ClusterMatch::NotMatched { normalised }) => {
            replay.reason = format!("no imageReferences pattern matches {normalised}");
            replay.matched = MatchReport::NotMatched { normalised };
            return replay;
        }
        Ok(ClusterMatch::Skipped { normalised, pattern }) => {
            replay.reason = format!("{normalised} matches skipImageReferences {pattern:?}: the rule leaves it alone");
            replay.matched = MatchReport::Skipped { normalised, pattern };
            return replay;
        }
        Ok(ClusterMatch::Matched { normalised, pattern }) => {
            replay.matched = MatchReport::Matched { normalised, pattern };
        }
    }
    // Where Kyverno looks is not where sigscope looks: what is found here decides nothing,
    // either way (signatures here may be absent there, and the reverse).
    if let Some(repo) = &vi.repository {
        replay.reason = format!(
            "the rule's repository {repo:?} holds the signatures and attestations Kyverno reads; sigscope reads the \
             image's own repository, so the rule is not replayed"
        );
        replay.outcome = Some(ReplayOutcome::NotReplayed);
        return replay;
    }
    for (i, set) in vi.attestors.iter().enumerate() {
        let path = format!(".attestors[{i}]");
        replay
            .attestor_sets
            .push(replay_set(&set.expand_static_keys(), &path, (vi.verifier, vi.cosign_oci11), vars, check).await);
    }
    let named = match &replay.matched {
        MatchReport::Matched { normalised, .. } => normalised.clone(),
        _ => image.to_string(),
    };
    let (attestations, predicates) = super::attestations::replay(vi, &named, vars, check).await;
    replay.attestations = attestations;
    if let Some(note) = validate_note(rule, vi, &replay, vars, &predicates) {
        replay.notes.push(note);
    }
    if vi.verify_digest && !has_digest {
        replay.notes.push(if vi.mutate_digest {
            Note {
                what: "verifyDigest".into(),
                outcome: ReplayOutcome::Pass,
                reason: "the image is named by tag; mutateDigest rewrites it to the digest verified, so verifyDigest \
                         passes once it is verified"
                    .into(),
            }
        } else {
            Note {
                what: "verifyDigest".into(),
                outcome: ReplayOutcome::Fail,
                reason: format!(
                    "missing digest for {image}: verifyDigest is on and mutateDigest off, so a reference by tag is \
                     refused; name the image by digest (@sha256:…) or turn mutateDigest on"
                ),
            }
        });
    }
    let outcomes = replay
        .attestor_sets
        .iter()
        .map(|s| s.outcome)
        .chain(replay.attestations.iter().map(|a| a.outcome))
        .chain(replay.notes.iter().map(|n| n.outcome))
        .collect::<Vec<_>>();
    let outcome = if outcomes.contains(&ReplayOutcome::Fail) {
        ReplayOutcome::Fail
    } else if outcomes.contains(&ReplayOutcome::NotReplayed) {
        ReplayOutcome::NotReplayed
    } else {
        ReplayOutcome::Pass
    };
    // A rule that might not apply decides nothing when it fails: it blocks only if it applies.
    let conditional = match (outcome, &uncertain) {
        (ReplayOutcome::Fail, Some(why)) => {
            let failure = first_failure(&replay).unwrap_or_else(|| "a check failed".into());
            Some(format!("it fails ({failure}) if it applies, and {why}"))
        }
        _ => None,
    };
    let outcome = if conditional.is_some() { ReplayOutcome::NotReplayed } else { outcome };
    if let Some(why) = &uncertain {
        replay.notes.push(Note { what: "match".into(), outcome, reason: format!("whether the rule applies: {why}") });
    }
    replay.reason = match outcome {
        _ if conditional.is_some() => conditional.unwrap_or_default(),
        ReplayOutcome::Pass if vi.attestors.is_empty() && vi.attestations.is_empty() => {
            "no attestors to satisfy".into()
        }
        ReplayOutcome::Pass if vi.attestations.is_empty() => "every attestor set is satisfied".into(),
        ReplayOutcome::Pass => "every attestor set and attestation is satisfied".into(),
        ReplayOutcome::Fail => first_failure(&replay).unwrap_or_else(|| "a check failed".into()),
        ReplayOutcome::NotReplayed => first_unknown(&replay).unwrap_or_else(|| "a check was not replayed".into()),
    };
    replay.outcome = Some(outcome);
    replay
}

/// Kyverno's `verifyImages[].validate`: evaluated only for an entry with attestations, once its
/// attestors and attestations pass, and then for every entry of the rule that has one; its
/// `deny.conditions` see the rule's context and each attestation's predicate under its `name`.
fn validate_note(
    rule: &Rule,
    vi: &VerifyImages,
    so_far: &RuleReplay,
    vars: &Vars,
    predicates: &serde_json::Map<String, serde_json::Value>,
) -> Option<Note> {
    let with_deny: Vec<_> = rule.verify_images.iter().filter_map(|v| v.validate.as_ref()).collect();
    if with_deny.is_empty() {
        return None;
    }
    let note = |outcome, reason: String| Some(Note { what: "validate".into(), outcome, reason });
    if vi.attestations.is_empty() {
        return vi.validate.as_ref().and_then(|_| {
            note(
                ReplayOutcome::Pass,
                "not evaluated: Kyverno evaluates validate.deny only for an entry with attestations".into(),
            )
        });
    }
    let outcomes = so_far.attestor_sets.iter().map(|s| s.outcome).chain(so_far.attestations.iter().map(|a| a.outcome));
    let outcomes: Vec<_> = outcomes.collect();
    if outcomes.contains(&ReplayOutcome::Fail) {
        return None;
    }
    if outcomes.contains(&ReplayOutcome::NotReplayed) {
        return note(
            ReplayOutcome::NotReplayed,
            "validate.deny is evaluated once the attestors and attestations pass, which is not decided here".into(),
        );
    }
    let (mut root, opaque) = vars.context_root();
    if let serde_json::Value::Object(r) = &mut root {
        for (k, v) in predicates {
            r.insert(k.clone(), v.clone());
        }
    }
    for v in with_deny {
        let Some(deny) = &v.deny else { continue };
        let (report, error) = super::conditions::evaluate_blocks(deny, &root, &opaque);
        match report.outcome {
            ReplayOutcome::NotReplayed => {
                return note(ReplayOutcome::NotReplayed, format!("validate.deny: {}", report.reason));
            }
            ReplayOutcome::Fail if error => {
                return note(
                    ReplayOutcome::Fail,
                    format!("validation in verifyImages failed: failed to check deny conditions: {}", report.reason),
                );
            }
            ReplayOutcome::Fail => {}
            ReplayOutcome::Pass => {
                let messages = report.conditions.iter().filter(|c| c.outcome == ReplayOutcome::Pass);
                let mut parts: Vec<String> = v.message.iter().filter(|m| !m.is_empty()).cloned().collect();
                parts.extend(messages.filter_map(|c| c.message.clone()).filter(|m| !m.is_empty()));
                let text = if parts.is_empty() {
                    "validation error: imageVerify  failed".to_string()
                } else {
                    parts.join("; ")
                };
                let found: Vec<String> = report
                    .conditions
                    .iter()
                    .map(|c| {
                        let shown = c.found.as_ref().map_or_else(|| "?".into(), |f| f.to_string());
                        format!("{} {} {} (found {shown})", c.key, c.operator, c.value)
                    })
                    .collect();
                return note(
                    ReplayOutcome::Fail,
                    format!(
                        "validation in verifyImages failed: {text} — the deny conditions hold: {}",
                        found.join("; ")
                    ),
                );
            }
        }
    }
    note(ReplayOutcome::Pass, "validate.deny: the deny conditions do not hold".into())
}

/// `(verifier, oci11)`: the rule's `type` and its `cosignOCI11`.
fn replay_set<'a>(
    set: &'a AttestorSet,
    path: &'a str,
    (verifier, oci11): (VerifierType, bool),
    vars: &'a Vars<'a>,
    check: &'a dyn AttestorCheck,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = SetReplay> + Send + 'a>> {
    Box::pin(async move {
        let mut entries = Vec::with_capacity(set.entries.len());
        for (j, entry) in set.entries.iter().enumerate() {
            let at = format!("{path}.entries[{j}]");
            let (kind, result, nested) = match (&entry.kind, verifier) {
                (AttestorKind::Certificates(c), VerifierType::Notary) => {
                    let pem = [c.cert.as_deref(), c.cert_chain.as_deref()].into_iter().flatten().collect::<Vec<_>>();
                    // Kyverno substitutes the rule's context variables (ConfigMaps…) first.
                    let result = if pem.is_empty() {
                        EntryResult::failed("the entry has neither cert nor certChain")
                    } else {
                        match vars.substitute(&pem.join("\n")) {
                            Ok(certs) => check.notary(&certs).await,
                            Err(why) => EntryResult::not_replayed(why),
                        }
                    };
                    ("certificates", result, None)
                }
                (AttestorKind::Certificates(c), VerifierType::Cosign) => {
                    let how = CosignLookup {
                        ignore_tlog: c.rekor.as_ref().is_some_and(|r| r.ignore_tlog),
                        oci11,
                        ignore_sct: c.ctlog.as_ref().is_some_and(|l| l.ignore_sct),
                    };
                    let substituted = |t: &Option<String>| t.as_deref().map(|t| vars.substitute(t)).transpose();
                    let result = match (substituted(&c.cert), substituted(&c.cert_chain)) {
                        (Err(why), _) | (_, Err(why)) => EntryResult::not_replayed(why),
                        (Ok(None), Ok(None)) => EntryResult::failed("the entry has neither cert nor certChain"),
                        (Ok(None), Ok(Some(chain))) => check.cosign_chain(&chain, how).await,
                        (Ok(Some(cert)), Ok(chain)) => check.cosign_certificate(&cert, chain.as_deref(), how).await,
                    };
                    ("certificates", result, None)
                }
                (AttestorKind::Certificates(_), _) => {
                    ("certificates", EntryResult::not_replayed(SIGSTORE_BUNDLE_CERTIFICATES), None)
                }
                (AttestorKind::Keys(_), VerifierType::Notary) => (
                    "keys",
                    EntryResult::not_replayed(
                        "a Notary rule takes certificates only: Kyverno refuses this policy (\"Keys field is not \
                         allowed for type notary\")",
                    ),
                    None,
                ),
                (AttestorKind::Keys(k), VerifierType::Cosign) if k.kms.is_none() && k.secret.is_none() => {
                    let ignore_tlog = k.rekor.as_ref().is_some_and(|r| r.ignore_tlog);
                    let result = match k.public_keys.as_deref().map(|p| vars.substitute(p)) {
                        None => EntryResult::failed("the entry has no publicKeys"),
                        Some(Err(why)) => EntryResult::not_replayed(why),
                        Some(Ok(pem)) => {
                            check.cosign_key(&pem, CosignLookup { ignore_tlog, oci11, ignore_sct: false }).await
                        }
                    };
                    ("keys", result, None)
                }
                (AttestorKind::Keys(k), _) => {
                    let why = if k.kms.is_some() {
                        "a KMS key cannot be reached offline"
                    } else if k.secret.is_some() {
                        "a key in a Kubernetes Secret cannot be read from here: put the PEM in publicKeys"
                    } else {
                        SIGSTORE_BUNDLE_KEYS
                    };
                    ("keys", EntryResult::not_replayed(why), None)
                }
                (AttestorKind::Keyless(_), _) => (
                    "keyless",
                    EntryResult::not_replayed(
                        "keyless signatures need Fulcio's certificates and Rekor's transparency log, online services \
                         sigscope does not ask",
                    ),
                    None,
                ),
                (AttestorKind::Nested(inner), _) => {
                    let inner_path = format!("{at}.attestor");
                    let nested = replay_set(inner, &inner_path, (verifier, oci11), vars, check).await;
                    let result = EntryResult {
                        outcome: nested.outcome,
                        reason: format!(
                            "{} of the nested set's {} entries passed; {} needed",
                            nested.passed,
                            nested.entries.len(),
                            nested.required
                        ),
                        ..EntryResult::failed("")
                    };
                    ("attestor", result, Some(Box::new(nested)))
                }
            };
            entries.push(EntryReplay { path: at, kind, result, nested });
        }
        // A count above the number of entries can never be met: the set fails.
        let required = set.required_count();
        let passed = entries.iter().filter(|e| e.result.outcome == ReplayOutcome::Pass).count();
        let unknown = entries.iter().filter(|e| e.result.outcome == ReplayOutcome::NotReplayed).count();
        let outcome = count_outcome(passed, unknown, required);
        SetReplay { path: path.to_string(), required, entries, passed, outcome }
    })
}

fn entries_of(set: &SetReplay) -> Vec<&EntryReplay> {
    let mut out = Vec::new();
    for e in &set.entries {
        match &e.nested {
            Some(n) => out.extend(entries_of(n)),
            None => out.push(e),
        }
    }
    out
}

fn first_failure(r: &RuleReplay) -> Option<String> {
    if let Some(set) = r.attestor_sets.iter().find(|s| s.outcome == ReplayOutcome::Fail) {
        let failed: Vec<String> = entries_of(set)
            .into_iter()
            .filter(|e| e.result.outcome != ReplayOutcome::Pass)
            .map(|e| format!("{}.{}: {}", e.path, e.kind, e.result.reason))
            .collect();
        let needed = if set.required == set.entries.len() {
            String::new()
        } else {
            format!(
                " ({} of {} entries of {} needed, {} passed)",
                set.required,
                set.entries.len(),
                set.path,
                set.passed
            )
        };
        return Some(format!("{}{needed}", failed.join("; ")));
    }
    if let Some(a) = r.attestations.iter().find(|a| a.outcome == ReplayOutcome::Fail) {
        return Some(format!("{} ({}): {}", a.path, a.attestation_type, a.reason));
    }
    r.notes.iter().find(|n| n.outcome == ReplayOutcome::Fail).map(|n| format!("{}: {}", n.what, n.reason))
}

fn first_unknown(r: &RuleReplay) -> Option<String> {
    for set in &r.attestor_sets {
        if let Some(e) = entries_of(set).into_iter().find(|e| e.result.outcome == ReplayOutcome::NotReplayed) {
            return Some(format!("{}.{}: {}", e.path, e.kind, e.result.reason));
        }
    }
    if let Some(a) = r.attestations.iter().find(|a| a.outcome == ReplayOutcome::NotReplayed) {
        return Some(format!("{} ({}): {}", a.path, a.attestation_type, a.reason));
    }
    r.notes.iter().find(|n| n.outcome == ReplayOutcome::NotReplayed).map(|n| format!("{}: {}", n.what, n.reason))
}

fn admission(rules: &[RuleReplay]) -> Admission {
    let failing = |action: &str, outcome: ReplayOutcome| {
        rules.iter().any(|r| r.failure_action == action && r.outcome == Some(outcome))
    };
    if failing("Enforce", ReplayOutcome::Fail) {
        Admission::Blocked
    } else if failing("Enforce", ReplayOutcome::NotReplayed) {
        Admission::Unknown
    } else if failing("Audit", ReplayOutcome::Fail) {
        Admission::AuditWarning
    } else {
        Admission::Allowed
    }
}

fn summary(image: &str, admission: Admission, rules: &[RuleReplay]) -> String {
    let applied = rules.iter().filter(|r| r.outcome.is_some()).count();
    let name = |r: &RuleReplay| format!("{} {}/{}", r.kind, r.policy, r.rule);
    match admission {
        Admission::Allowed if applied == 0 => {
            format!("{image} is allowed: no loaded policy has a rule that matches it")
        }
        Admission::Allowed => format!("{image} is allowed: the {applied} matching rule(s) pass"),
        Admission::Blocked | Admission::AuditWarning => {
            let action = if admission == Admission::Blocked { "Enforce" } else { "Audit" };
            let r = rules
                .iter()
                .find(|r| r.failure_action == action && r.outcome == Some(ReplayOutcome::Fail))
                .expect("one");
            format!("{} {image}: {} fails: {}.{}", admission_verb(admission), name(r), r.reason, advice(r))
        }
        Admission::Unknown => {
            let r = rules
                .iter()
                .find(|r| r.failure_action == "Enforce" && r.outcome == Some(ReplayOutcome::NotReplayed))
                .expect("one");
            format!("not decided for {image}: {} could not be replayed — {}", name(r), r.reason)
        }
    }
}

fn admission_verb(a: Admission) -> &'static str {
    match a {
        Admission::Blocked => "would block",
        _ => "admits with an audit warning",
    }
}

/// What would make a failing rule pass, from what its entries saw.
fn advice(r: &RuleReplay) -> String {
    let failing: Vec<&EntryReplay> = r
        .attestor_sets
        .iter()
        .filter(|s| s.outcome == ReplayOutcome::Fail)
        .flat_map(entries_of)
        .filter(|e| e.result.outcome == ReplayOutcome::Fail)
        .collect();
    let Some(e) = failing.first() else {
        if let Some(a) = r.attestations.iter().find(|a| a.outcome == ReplayOutcome::Fail) {
            return super::attestations::advice(a, r.verifier);
        }
        return match r.notes.iter().find(|n| n.outcome == ReplayOutcome::Fail) {
            Some(n) if n.what == "verifyDigest" => " To pass: deploy the image by digest.".into(),
            Some(n) if n.what == "validate" => {
                " To pass: the attestations' predicates must no longer satisfy the rule's validate.deny conditions."
                    .into()
            }
            _ => String::new(),
        };
    };
    let at = format!("{}.{}", e.path, e.kind);
    let checks = &e.result.failed_checks;
    if e.kind == "keys" {
        return format!(
            " To pass: sign the image by digest with the private key whose public key is in {at} (cosign sign --key)."
        );
    }
    let all = |c: &str| !checks.is_empty() && checks.iter().all(|k| k == c);
    let what = if e.result.signatures.is_empty() {
        format!("sign the image with a key whose certificate chains to the certificates of {at}")
    } else if all("authenticity") {
        let by = match e.result.signers.as_slice() {
            [] => String::new(),
            signers => format!(" (the signatures found are signed by {})", signers.join("; ")),
        };
        format!(
            "add the root certificate their signers chain to{by} to {at}, or sign with a key whose certificate \
             chains to the certificates listed there"
        )
    } else if all("expiry") {
        "sign the image again: its signatures have expired".into()
    } else if all("revocation") {
        "sign with a certificate that is not revoked (or let the CRL be reached: strict needs a known status)".into()
    } else if all("integrity") {
        "sign this very image again: the signatures found do not match it".into()
    } else {
        format!("make one of the signatures pass every check, or sign with a key under the certificates of {at}")
    };
    format!(" To pass: {what}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Passes the certificates named `good`, cannot tell for `unknown`, fails everything else.
    struct Fixed;

    #[async_trait::async_trait]
    impl AttestorCheck for Fixed {
        async fn notary(&self, certs: &str) -> EntryResult {
            let outcome = if certs.contains("good") {
                ReplayOutcome::Pass
            } else if certs.contains("unknown") {
                ReplayOutcome::NotReplayed
            } else {
                ReplayOutcome::Fail
            };
            EntryResult {
                outcome,
                reason: format!("checked against {certs}"),
                signatures: if outcome == ReplayOutcome::Fail { vec!["sha256:ab by CN=other".into()] } else { vec![] },
                failed_checks: if outcome == ReplayOutcome::Fail { vec!["authenticity".into()] } else { vec![] },
                signers: if outcome == ReplayOutcome::Fail { vec!["CN=other".into()] } else { vec![] },
            }
        }

        async fn cosign_key(&self, key: &str, how: CosignLookup) -> EntryResult {
            let ignore_tlog = how.ignore_tlog;
            // "oci11-only": a key whose signature is found only as an OCI 1.1 referrer.
            if key == "oci11-only" {
                return if how.oci11 {
                    EntryResult { outcome: ReplayOutcome::Pass, ..EntryResult::failed("") }
                } else {
                    EntryResult::failed("no signature in the .sig tag")
                };
            }
            let mut r = self.notary(key).await;
            if r.outcome == ReplayOutcome::Pass && !ignore_tlog {
                r.outcome = ReplayOutcome::NotReplayed;
            }
            r
        }
    }

    fn policies(yaml: &str) -> PolicySet {
        super::super::policy::load(yaml, "test.yaml").unwrap()
    }

    const HEAD: &str = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: check-image\nspec:\n  \
                        validationFailureAction: Enforce\n  rules:\n  - name: check-image\n    match:\n      any:\n      - \
                        resources:\n          kinds: [Pod]\n    verifyImages:\n    - type: Notary\n      \
                        imageReferences: [\"ghcr.io/acme/*\"]\n";

    fn with_attestors(attestors: &str) -> PolicySet {
        policies(&format!("{HEAD}      attestors:\n{attestors}"))
    }

    fn cert(name: &str) -> String {
        format!("      - entries:\n        - certificates:\n            cert: {name}\n")
    }

    #[tokio::test]
    async fn one_failing_set_blocks_and_the_summary_names_the_entry() {
        let p = with_attestors(&cert("bad"));
        let e = replay(&p, "ghcr.io/acme/app:v1", &AdmittedResource::default(), &Fixed).await;
        assert_eq!(e.admission, Admission::Blocked);
        assert_eq!(e.rules[0].outcome, Some(ReplayOutcome::Fail));
        assert!(e.summary.contains(".attestors[0].entries[0].certificates"), "{}", e.summary);
        assert!(e.summary.contains("CN=other"), "{}", e.summary);
        let ok =
            replay(&with_attestors(&cert("good")), "ghcr.io/acme/app:v1", &AdmittedResource::default(), &Fixed).await;
        assert_eq!(ok.admission, Admission::Allowed, "{}", ok.summary);
    }

    /// Where Kyverno would read signatures elsewhere (the rule's `repository`), what sigscope
    /// finds decides nothing: a signature that passes here is no allowance, one missing here no
    /// block. cosignOCI11 is replayed, and the lookup is told so.
    #[tokio::test]
    async fn signatures_read_elsewhere_leave_the_rule_not_decided() {
        for extra in ["      repository: ghcr.io/acme/signatures\n", ""] {
            let p = policies(&format!("{HEAD}{extra}      attestors:\n{}", cert("good")));
            let e = replay(&p, "ghcr.io/acme/app:v1", &AdmittedResource::default(), &Fixed).await;
            if extra.is_empty() {
                assert_eq!(e.admission, Admission::Allowed, "{}", e.summary);
            } else {
                assert_eq!(e.rules[0].outcome, Some(ReplayOutcome::NotReplayed), "{}", e.summary);
                assert_ne!(e.admission, Admission::Allowed, "{}", e.summary);
                assert!(e.rules[0].reason.contains("ghcr.io/acme/signatures"), "{}", e.rules[0].reason);
            }
        }
        let keys = "      - entries:\n        - keys:\n            publicKeys: oci11-only\n            rekor:\n              \
                    ignoreTlog: true\n";
        for (flag, admission) in [("      cosignOCI11: true\n", Admission::Allowed), ("", Admission::Blocked)] {
            let cosign = HEAD.replace("type: Notary", &format!("type: Cosign\n{flag}"));
            let e = replay(
                &policies(&format!("{cosign}      attestors:\n{keys}")),
                "ghcr.io/acme/app:v1",
                &AdmittedResource::default(),
                &Fixed,
            )
            .await;
            assert_eq!(e.admission, admission, "{flag}: {}", e.summary);
        }
    }

    #[tokio::test]
    async fn count_and_nested_sets_follow_kyverno() {
        let two = "      - count: 1\n        entries:\n        - certificates:\n            cert: bad\n        - \
                   certificates:\n            cert: good\n";
        assert_eq!(
            replay(&with_attestors(two), "ghcr.io/acme/app", &AdmittedResource::default(), &Fixed).await.admission,
            Admission::Allowed
        );
        let all = two.replace("count: 1\n        ", "");
        assert_eq!(
            replay(&with_attestors(&all), "ghcr.io/acme/app", &AdmittedResource::default(), &Fixed).await.admission,
            Admission::Blocked
        );
        // Every set must pass.
        let sets = format!("{}{}", cert("good"), cert("bad"));
        assert_eq!(
            replay(&with_attestors(&sets), "ghcr.io/acme/app", &AdmittedResource::default(), &Fixed).await.admission,
            Admission::Blocked
        );
    }

    #[tokio::test]
    async fn what_cannot_be_replayed_is_never_a_pass() {
        let keyless = "      - entries:\n        - keyless:\n            subject: x\n            issuer: y\n";
        let p = policies(&format!("{}      attestors:\n{keyless}", HEAD.replace("type: Notary", "type: Cosign")));
        let e = replay(&p, "ghcr.io/acme/app:v1", &AdmittedResource::default(), &Fixed).await;
        assert_eq!(e.admission, Admission::Unknown, "{e:?}");
        assert!(e.summary.contains("Rekor"), "{}", e.summary);
        // One unknown beside a failure that already decides the set (both needed): blocked.
        let entry = |c: &str| format!("        - certificates:\n            cert: {c}\n");
        let mixed = format!("      - entries:\n{}{}", entry("unknown"), entry("bad"));
        let e = replay(&with_attestors(&mixed), "ghcr.io/acme/app:v1", &AdmittedResource::default(), &Fixed).await;
        assert_eq!(e.admission, Admission::Blocked, "{e:?}");
        // With one of the two enough, the unknown one could still pass it: not decided.
        let either = mixed.replace("- entries:", "- count: 1\n        entries:");
        let e = replay(&with_attestors(&either), "ghcr.io/acme/app:v1", &AdmittedResource::default(), &Fixed).await;
        assert_eq!(e.admission, Admission::Unknown, "{e:?}");
    }

    #[tokio::test]
    async fn audit_skip_and_not_matched() {
        let audit = with_attestors(&cert("bad"));
        let mut audit = audit.clone();
        audit.cluster_policies[0].validation_failure_action = FailureAction::Audit;
        assert_eq!(
            replay(&audit, "ghcr.io/acme/app", &AdmittedResource::default(), &Fixed).await.admission,
            Admission::AuditWarning
        );
        let other =
            replay(&with_attestors(&cert("bad")), "docker.io/nginx", &AdmittedResource::default(), &Fixed).await;
        assert_eq!(other.admission, Admission::Allowed);
        assert!(matches!(other.rules[0].matched, MatchReport::NotMatched { .. }));
        let skip = policies(&format!(
            "{}      skipImageReferences: [\"ghcr.io/acme/skip*\"]\n      attestors:\n{}",
            HEAD,
            cert("bad")
        ));
        let e = replay(&skip, "ghcr.io/acme/skipped:v1", &AdmittedResource::default(), &Fixed).await;
        assert_eq!(e.admission, Admission::Allowed);
        assert!(matches!(e.rules[0].matched, MatchReport::Skipped { .. }));
    }

    #[tokio::test]
    async fn context_variables_come_from_the_configmaps_given() {
        let with_context = HEAD.replace(
            "    match:\n",
            "    context:\n    - name: keys\n      configMap:\n        name: keys\n        namespace: prod\n    \
             - name: remote\n      apiCall:\n        urlPath: /x\n    match:\n",
        );
        let doc = |cert: &str| {
            format!(
                "{with_context}      attestors:\n      - entries:\n        - certificates:\n            cert: \"{cert}\"\n"
            )
        };
        let cm =
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keys\n  namespace: prod\ndata:\n  cert: good\n";
        let p = policies(&format!("{}{cm}", doc("{{ keys.data.cert }}")));
        assert_eq!(
            replay(&p, "ghcr.io/acme/app", &AdmittedResource::default(), &Fixed).await.admission,
            Admission::Allowed
        );
        for (cert, says) in [
            ("{{ keys.data.other }}", "no data key"),
            ("{{ remote.data.x }}", "of kind apiCall"),
            ("{{ request.object.x }}", "not a context entry"),
        ] {
            let e = replay(
                &policies(&format!("{}{cm}", doc(cert))),
                "ghcr.io/acme/app",
                &AdmittedResource::default(),
                &Fixed,
            )
            .await;
            assert_eq!(e.admission, Admission::Unknown, "{cert}");
            assert!(e.summary.contains(says), "{cert}: {}", e.summary);
        }
        // The ConfigMap of another namespace is not the one the rule reads.
        let other_ns = cm.replace("namespace: prod", "namespace: dev");
        let e = replay(
            &policies(&format!("{}{other_ns}", doc("{{ keys.data.cert }}"))),
            "ghcr.io/acme/app",
            &AdmittedResource::default(),
            &Fixed,
        )
        .await;
        assert_eq!(e.admission, Admission::Unknown);
        assert!(e.summary.contains("prod/keys"), "{}", e.summary);
    }

    #[tokio::test]
    async fn namespace_overrides_choose_the_action() {
        let p = policies(&format!(
            "{}      attestors:\n{}",
            HEAD.replace(
                "  validationFailureAction: Enforce\n",
                "  validationFailureAction: Audit\n  validationFailureActionOverrides:\n  - action: Enforce\n    \
                 namespaces: [\"prod-*\"]\n",
            ),
            cert("bad")
        ));
        assert_eq!(
            replay(&p, "ghcr.io/acme/app", &AdmittedResource::in_namespace(Some("prod-eu".into())), &Fixed)
                .await
                .admission,
            Admission::Blocked
        );
        assert_eq!(
            replay(&p, "ghcr.io/acme/app", &AdmittedResource::in_namespace(Some("dev".into())), &Fixed).await.admission,
            Admission::AuditWarning
        );
        // Unknown namespace: the policy's own action, and the reason says what was assumed.
        let e = replay(&p, "ghcr.io/acme/app", &AdmittedResource::default(), &Fixed).await;
        assert_eq!(e.admission, Admission::AuditWarning);
        assert!(e.rules[0].notes.iter().any(|n| n.reason.contains("--namespace")), "{e:?}");
    }

    #[tokio::test]
    async fn a_tag_without_mutate_digest_is_refused() {
        let p = policies(&format!(
            "{HEAD}      mutateDigest: false\n      verifyDigest: true\n      attestors:\n{}",
            cert("good")
        ));
        let e = replay(&p, "ghcr.io/acme/app:v1", &AdmittedResource::default(), &Fixed).await;
        assert_eq!(e.admission, Admission::Blocked, "{e:?}");
        assert!(e.summary.contains("missing digest"), "{}", e.summary);
        let by_digest = format!("ghcr.io/acme/app@sha256:{}", "a".repeat(64));
        assert_eq!(replay(&p, &by_digest, &AdmittedResource::default(), &Fixed).await.admission, Admission::Allowed);
    }

    fn pod_in(ns: &str) -> AdmittedResource {
        AdmittedResource { kind: Some("Pod".into()), namespace: Some(ns.into()), name: Some("web".into()) }
    }

    /// `match`, `exclude` and a Policy's namespace decide before any image is looked at; what
    /// is not known never makes a failing rule go away, it makes it "not decided".
    #[tokio::test]
    async fn the_resource_decides_whether_a_rule_applies() {
        let prod_only = with_attestors(&cert("bad")).cluster_policies[0].clone();
        let mut p = PolicySet::default();
        let mut policy = prod_only;
        policy.rules[0].match_resources =
            policies(&HEAD.replace("kinds: [Pod]", "kinds: [Pod]\n          namespaces: [prod]")).cluster_policies[0]
                .rules[0]
                .match_resources
                .clone();
        p.cluster_policies.push(policy);
        let blocked = replay(&p, "ghcr.io/acme/app:v1", &pod_in("prod"), &Fixed).await;
        assert_eq!(blocked.admission, Admission::Blocked, "{}", blocked.summary);
        let elsewhere = replay(&p, "ghcr.io/acme/app:v1", &pod_in("dev"), &Fixed).await;
        assert_eq!(elsewhere.admission, Admission::Allowed, "{}", elsewhere.summary);
        assert_eq!(elsewhere.rules[0].outcome, None);
        assert!(matches!(&elsewhere.rules[0].matched, MatchReport::NotSelected { reason } if reason.contains("dev")));
        let unknown = replay(&p, "ghcr.io/acme/app:v1", &AdmittedResource::default(), &Fixed).await;
        assert_eq!(unknown.admission, Admission::Unknown, "{}", unknown.summary);
        assert!(unknown.summary.contains("--namespace"), "{}", unknown.summary);
        assert!(unknown.summary.contains("if it applies"), "{}", unknown.summary);
        // A rule that passes passes wherever it applies.
        let mut good = p.clone();
        good.cluster_policies[0].rules[0].verify_images =
            with_attestors(&cert("good")).cluster_policies[0].rules[0].verify_images.clone();
        assert_eq!(
            replay(&good, "ghcr.io/acme/app:v1", &AdmittedResource::default(), &Fixed).await.admission,
            Admission::Allowed
        );

        // exclude, with the Namespace's labels given beside the policies.
        let (head, image_rule) = HEAD.split_once("    verifyImages:").unwrap();
        let excluded = policies(&format!(
            "{head}    exclude:\n      any:\n      - resources:\n          namespaceSelector:\n            matchLabels:\n              \
             tier: system\n    verifyImages:{image_rule}      attestors:\n{}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  \
             name: infra\n  labels:\n    tier: system\n",
            cert("bad")
        ));
        assert_eq!(excluded.namespaces.len(), 1);
        assert_eq!(
            replay(&excluded, "ghcr.io/acme/app:v1", &pod_in("infra"), &Fixed).await.admission,
            Admission::Allowed
        );
        assert_eq!(
            replay(&excluded, "ghcr.io/acme/app:v1", &pod_in("shop"), &Fixed).await.admission,
            Admission::Unknown
        );

        // A namespaced Policy sees its own namespace only.
        let ns_policy = policies(&with_attestors_text(&cert("bad")).replace(
            "kind: ClusterPolicy\nmetadata:\n  name: check-image\n",
            "kind: Policy\nmetadata:\n  name: check-image\n  namespace: team-a\n",
        ));
        assert_eq!(
            replay(&ns_policy, "ghcr.io/acme/app:v1", &pod_in("team-a"), &Fixed).await.admission,
            Admission::Blocked
        );
        assert_eq!(
            replay(&ns_policy, "ghcr.io/acme/app:v1", &pod_in("team-b"), &Fixed).await.admission,
            Admission::Allowed
        );
    }

    /// Kyverno takes one action for the whole policy: the first rule's `verifyImages[0]`
    /// failureAction, whatever a later entry says.
    #[tokio::test]
    async fn the_failure_action_is_the_policys_first() {
        let mut p = with_attestors(&cert("good"));
        let mut second = with_attestors(&cert("bad")).cluster_policies[0].rules[0].verify_images[0].clone();
        second.failure_action = Some(FailureAction::Enforce);
        let rule = &mut p.cluster_policies[0].rules[0];
        rule.verify_images[0].failure_action = Some(FailureAction::Audit);
        rule.verify_images.push(second);
        let e = replay(&p, "ghcr.io/acme/app:v1", &AdmittedResource::default(), &Fixed).await;
        assert_eq!(e.admission, Admission::AuditWarning, "{}", e.summary);
        assert!(e.rules.iter().all(|r| r.failure_action == "Audit"), "{:?}", e.rules);
    }

    fn with_attestors_text(attestors: &str) -> String {
        format!("{HEAD}      attestors:\n{attestors}")
    }
}
