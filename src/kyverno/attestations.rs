//! A rule's `attestations` replayed as Kyverno's `verifyAttestations` runs them
//! (`pkg/engine/internal/imageverifier.go`): for each attestation, each attestor set, each
//! entry — the entry's verifier fetches the statements it can verify (Cosign: the image's
//! `.att` DSSE envelopes signed with the key; Notary: the first referrer whose `artifactType`
//! is the attestation's `type`, its own Notation signature checked), the statements are grouped
//! by type, and every statement of the attestation's type must satisfy its `conditions`. An
//! entry passes or fails as a whole; a set needs `count` of them (all by default); every set of
//! every attestation must pass.
//!
//! The fetching is injected ([`AttestorCheck`]); the conditions are evaluated here
//! ([`super::conditions`]). What cannot be decided is "not replayed", never a pass.

use serde::Serialize;
use serde_json::Value;

use super::conditions::{self, ConditionsReport};
use super::policy::{Attestation, AttestorKind, VerifierType, VerifyImages};
use super::replay::{AttestorCheck, EntryResult, ReplayOutcome, Vars};

/// One statement an entry's verifier found, Kyverno's map of it: `type` (the in-toto
/// `predicateType`, or the referrer's `artifactType`) and `predicate` (for Notary, the
/// referrer's content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundStatement {
    /// Where: `layer 1 of sha256-….att (sha256:…)`, `referrer sha256:…`.
    pub from: String,
    pub statement: Value,
}

/// What an entry's verifier fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationFetch {
    /// What was examined: `referrer sha256:…`, the `.att` tag.
    pub from: String,
    /// The signature check: `Pass` when `statements` are verified; `NotReplayed` when they are
    /// verified with the key but Kyverno would also ask Rekor; `Fail` when none verifies.
    pub signature: EntryResult,
    pub statements: Vec<FoundStatement>,
}

/// One statement as the replay saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementReplay {
    pub from: String,
    #[serde(rename = "type")]
    pub statement_type: String,
    /// Notary: this referrer's own signature check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<EntryResult>,
    /// For a statement of the attestation's type with conditions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<ConditionsReport>,
    /// `None` for a statement of another type (not considered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ReplayOutcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationEntryReplay {
    /// `.attestations[0].attestors[0].entries[1]` (the entry's true index; Kyverno's own message
    /// repeats the attestation's index there).
    pub path: String,
    pub kind: &'static str,
    pub outcome: ReplayOutcome,
    pub reason: String,
    /// What failed: `missing` (no statement of the type), `signature`, `subject` (signed, but for
    /// another image), `predicate`, `conditions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<&'static str>,
    /// The signature check of the entry as a whole.
    pub signature: EntryResult,
    pub statements: Vec<StatementReplay>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationSetReplay {
    pub path: String,
    pub required: usize,
    pub passed: usize,
    pub outcome: ReplayOutcome,
    pub entries: Vec<AttestationEntryReplay>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationReplay {
    /// `.attestations[0]`.
    pub path: String,
    #[serde(rename = "type")]
    pub attestation_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub sets: Vec<AttestationSetReplay>,
    pub outcome: ReplayOutcome,
    /// Kyverno's rule message for a failure (`image attestations verification failed, …`), or
    /// what is not replayed and why.
    pub reason: String,
}

/// Replays every attestation of `vi` for `image` (as Kyverno names it in messages); with the
/// predicates Kyverno adds to the context under the attestations' `name`s, for `validate.deny`.
pub(super) async fn replay(
    vi: &VerifyImages,
    image: &str,
    vars: &Vars<'_>,
    check: &dyn AttestorCheck,
) -> (Vec<AttestationReplay>, serde_json::Map<String, Value>) {
    let mut out = Vec::new();
    // Kyverno adds each attestation's predicate to the context under its `name`, for the
    // conditions after it (and `validate.deny`).
    let mut named = serde_json::Map::new();
    for (i, a) in vi.attestations.iter().enumerate() {
        out.push(one(vi.verifier, a, i, image, vars, &mut named, check).await);
    }
    (out, named)
}

async fn one(
    verifier: VerifierType,
    a: &Attestation,
    i: usize,
    image: &str,
    vars: &Vars<'_>,
    named: &mut serde_json::Map<String, Value>,
    check: &dyn AttestorCheck,
) -> AttestationReplay {
    let path = format!(".attestations[{i}]");
    let mut replay = AttestationReplay {
        path: path.clone(),
        attestation_type: a.predicate_type.clone(),
        name: a.name.clone(),
        sets: Vec::new(),
        outcome: ReplayOutcome::NotReplayed,
        reason: String::new(),
    };
    if a.attestors.is_empty() {
        replay.reason = format!(
            "{path} has no attestors: Kyverno then fetches the {} attestations with an empty attestor (keyless \
             defaults, or no certificates), which sigscope does not replay",
            a.predicate_type
        );
        return replay;
    }
    for (j, set) in a.attestors.iter().enumerate() {
        let set = set.expand_static_keys();
        let set_path = format!("{path}.attestors[{j}]");
        let required = set.required_count();
        let mut entries = Vec::new();
        for (k, entry) in set.entries.iter().enumerate() {
            let at = format!("{set_path}.entries[{k}]");
            entries.push(entry_replay(verifier, a, &entry.kind, &at, image, vars, named, check).await);
        }
        let passed = entries.iter().filter(|e| e.outcome == ReplayOutcome::Pass).count();
        let unknown = entries.iter().filter(|e| e.outcome == ReplayOutcome::NotReplayed).count();
        let outcome = super::replay::count_outcome(passed, unknown, required);
        replay.sets.push(AttestationSetReplay { path: set_path, required, passed, outcome, entries });
    }
    let failed = replay.sets.iter().find(|s| s.outcome == ReplayOutcome::Fail);
    let unknown = replay.sets.iter().find(|s| s.outcome == ReplayOutcome::NotReplayed);
    (replay.outcome, replay.reason) = match (failed, unknown) {
        (Some(s), _) => {
            let errors: Vec<String> = s
                .entries
                .iter()
                .filter(|e| e.outcome != ReplayOutcome::Pass)
                .map(|e| format!("{}{}: {}", e.path, kyverno_sub_path(verifier, e.kind), e.reason))
                .collect();
            (
                ReplayOutcome::Fail,
                format!(
                    "image attestations verification failed, verifiedCount: {}, requiredCount: {}, error: {}",
                    s.passed,
                    s.required,
                    errors.join("; ")
                ),
            )
        }
        (None, Some(s)) => {
            let e = s.entries.iter().find(|e| e.outcome == ReplayOutcome::NotReplayed).expect("an unknown entry");
            (ReplayOutcome::NotReplayed, format!("{}.{}: {}", e.path, e.kind, e.reason))
        }
        (None, None) => (ReplayOutcome::Pass, format!("verified image attestations of type {}", a.predicate_type)),
    };
    replay
}

/// The path suffix Kyverno writes after an entry: `.keys` for a Cosign key, nothing for Notary.
fn kyverno_sub_path(verifier: VerifierType, kind: &str) -> String {
    match (verifier, kind) {
        (VerifierType::Notary, _) => String::new(),
        (_, k) => format!(".{k}"),
    }
}

#[allow(clippy::too_many_arguments)]
async fn entry_replay(
    verifier: VerifierType,
    a: &Attestation,
    kind: &AttestorKind,
    at: &str,
    image: &str,
    vars: &Vars<'_>,
    named: &mut serde_json::Map<String, Value>,
    check: &dyn AttestorCheck,
) -> AttestationEntryReplay {
    let not_replayed = |kind: &'static str, why: String| AttestationEntryReplay {
        path: at.to_string(),
        kind,
        outcome: ReplayOutcome::NotReplayed,
        reason: why.clone(),
        cause: None,
        signature: EntryResult::not_replayed(why),
        statements: Vec::new(),
    };
    match (kind, verifier) {
        (AttestorKind::Certificates(c), VerifierType::Notary) => {
            let pem = [c.cert.as_deref(), c.cert_chain.as_deref()].into_iter().flatten().collect::<Vec<_>>();
            if pem.is_empty() {
                return not_replayed(
                    "certificates",
                    "the entry has neither cert nor certChain: Kyverno then checks no signature of the referrer, \
                     which sigscope does not replay"
                        .into(),
                );
            }
            let certs = match vars.substitute(&pem.join("\n")) {
                Ok(c) => c,
                Err(why) => return not_replayed("certificates", why),
            };
            let fetched = match check.notary_attestations(&certs, &a.predicate_type).await {
                Ok(f) => f,
                Err(result) => {
                    return AttestationEntryReplay {
                        path: at.to_string(),
                        kind: "certificates",
                        outcome: result.outcome,
                        reason: result.reason.clone(),
                        cause: (result.outcome == ReplayOutcome::Fail).then_some("signature"),
                        signature: result,
                        statements: Vec::new(),
                    };
                }
            };
            notary_entry(a, at, image, &fetched, vars, named)
        }
        (AttestorKind::Keys(k), VerifierType::Cosign) if k.kms.is_none() && k.secret.is_none() => {
            let ignore_tlog = k.rekor.as_ref().is_some_and(|r| r.ignore_tlog);
            let pem = match k.public_keys.as_deref().map(|p| vars.substitute(p)) {
                None => {
                    let r = EntryResult::failed("the entry has no publicKeys");
                    return AttestationEntryReplay {
                        path: at.to_string(),
                        kind: "keys",
                        outcome: ReplayOutcome::Fail,
                        reason: r.reason.clone(),
                        cause: Some("signature"),
                        signature: r,
                        statements: Vec::new(),
                    };
                }
                Some(Err(why)) => return not_replayed("keys", why),
                Some(Ok(pem)) => pem,
            };
            let fetched = check.cosign_key_attestations(&pem, ignore_tlog).await;
            cosign_entry(a, at, image, fetched, vars, named)
        }
        (AttestorKind::Keys(k), _) => {
            let why = if verifier == VerifierType::Notary {
                "a Notary rule takes certificates only: Kyverno refuses this policy"
            } else if k.kms.is_some() {
                "a KMS key cannot be reached offline"
            } else if k.secret.is_some() {
                "a key in a Kubernetes Secret cannot be read from here: put the PEM in publicKeys"
            } else {
                super::replay::SIGSTORE_BUNDLE_KEYS
            };
            not_replayed("keys", why.into())
        }
        (AttestorKind::Certificates(c), VerifierType::Cosign) if c.cert.is_some() => {
            let how = super::replay::CosignLookup {
                ignore_tlog: c.rekor.as_ref().is_some_and(|r| r.ignore_tlog),
                oci11: false,
                ignore_sct: c.ctlog.as_ref().is_some_and(|l| l.ignore_sct),
            };
            let substituted = |t: &Option<String>| t.as_deref().map(|t| vars.substitute(t)).transpose();
            let (cert, chain) = match (substituted(&c.cert), substituted(&c.cert_chain)) {
                (Err(why), _) | (_, Err(why)) => return not_replayed("certificates", why),
                (Ok(cert), Ok(chain)) => (cert.unwrap_or_default(), chain),
            };
            let fetched = check.cosign_certificate_attestations(&cert, chain.as_deref(), how).await;
            AttestationEntryReplay { kind: "certificates", ..cosign_entry(a, at, image, fetched, vars, named) }
        }
        (AttestorKind::Certificates(_), _) => {
            let why = if verifier == VerifierType::SigstoreBundle {
                super::replay::SIGSTORE_BUNDLE_CERTIFICATES
            } else {
                "a cosign certChain without cert for an attestation (each attestation's own certificate against the \
                 chain) is not replayed yet"
            };
            not_replayed("certificates", why.into())
        }
        (AttestorKind::Keyless(_), _) => not_replayed(
            "keyless",
            "keyless attestations need Fulcio's certificates and Rekor's transparency log, online services sigscope \
             does not ask"
                .into(),
        ),
        (AttestorKind::Nested(_), _) => not_replayed(
            "attestor",
            "a nested attestor set inside an attestation is not something Kyverno's attestation check walks; not \
             replayed"
                .into(),
        ),
    }
}

/// Kyverno's statement type (`type`, else the in-toto `predicateType`).
fn statement_type(s: &Value) -> String {
    s.get("type").or_else(|| s.get("predicateType")).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// The conditions of `a` over one statement, with the variables Kyverno would have beside it.
fn check_statement(
    a: &Attestation,
    s: &Value,
    vars: &Vars<'_>,
    named: &serde_json::Map<String, Value>,
) -> Option<ConditionsReport> {
    let c = a.conditions.as_ref().filter(|c| !c.is_null() && c.as_array().is_none_or(|l| !l.is_empty()))?;
    let Some(predicate) = s.get("predicate").and_then(Value::as_object) else {
        return Some(ConditionsReport {
            outcome: ReplayOutcome::Fail,
            reason: "failed to check attestations: failed to extract predicate from statement".into(),
            conditions: Vec::new(),
            kyverno_error: true,
        });
    };
    let (mut root, opaque) = vars.context_root();
    if let Value::Object(r) = &mut root {
        for (k, v) in named {
            r.insert(k.clone(), v.clone());
        }
    }
    merge(&mut root, &Value::Object(predicate.clone()));
    Some(conditions::evaluate(c, &root, &opaque))
}

/// Kyverno's `AddJSONObject`: the predicate merged over the context, objects key by key.
fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// The outcome of one statement of the attestation's type.
fn statement_outcome(conditions: Option<&ConditionsReport>) -> ReplayOutcome {
    conditions.map_or(ReplayOutcome::Pass, |c| c.outcome)
}

fn cosign_entry(
    a: &Attestation,
    at: &str,
    image: &str,
    fetched: AttestationFetch,
    vars: &Vars<'_>,
    named: &mut serde_json::Map<String, Value>,
) -> AttestationEntryReplay {
    let mut e = AttestationEntryReplay {
        path: at.to_string(),
        kind: "keys",
        outcome: fetched.signature.outcome,
        reason: fetched.signature.reason.clone(),
        cause: None,
        signature: fetched.signature.clone(),
        statements: Vec::new(),
    };
    if fetched.signature.outcome == ReplayOutcome::Fail {
        let checks = &fetched.signature.failed_checks;
        e.cause = Some(if fetched.signature.signatures.is_empty() {
            "missing"
        } else if !checks.is_empty() && checks.iter().all(|c| c == "integrity") {
            "subject"
        } else {
            "signature"
        });
        return e;
    }
    if let Some(p) = fetched.statements.iter().find_map(|s| s.statement.get("predicate").filter(|p| p.is_object())) {
        if let Some(name) = &a.name {
            named.insert(name.clone(), p.clone());
        }
    } else {
        e.outcome = ReplayOutcome::Fail;
        e.reason = "predicate not found in any statement".into();
        e.cause = Some("predicate");
        return e;
    }
    let mut outcomes = Vec::new();
    for s in &fetched.statements {
        let t = statement_type(&s.statement);
        let (conditions, outcome) = if t == a.predicate_type {
            let c = check_statement(a, &s.statement, vars, named);
            let o = statement_outcome(c.as_ref());
            outcomes.push((o, c.as_ref().map(|c| c.reason.clone())));
            (c, Some(o))
        } else {
            (None, None)
        };
        e.statements.push(StatementReplay {
            from: s.from.clone(),
            statement_type: t,
            signature: None,
            conditions,
            outcome,
        });
    }
    let rekor = fetched.signature.outcome == ReplayOutcome::NotReplayed;
    e.cause = if outcomes.is_empty() {
        Some("missing")
    } else if outcomes.iter().any(|(o, _)| *o == ReplayOutcome::Fail) {
        Some("conditions")
    } else {
        None
    };
    (e.outcome, e.reason) = if outcomes.is_empty() {
        // Fewer statements with Rekor consulted, never more: no statement of the type either way.
        (ReplayOutcome::Fail, format!("attestions not found for predicate type {}", a.predicate_type))
    } else if let Some((_, why)) = outcomes.iter().find(|(o, _)| *o == ReplayOutcome::Fail) {
        let msg = format!(
            "attestation checks failed for {image} and predicate {}: {}",
            a.predicate_type,
            why.as_deref().unwrap_or_default()
        );
        if rekor {
            // Kyverno keeps only the statements whose Rekor entry it finds: the failing one may
            // not be among them.
            (
                ReplayOutcome::NotReplayed,
                format!(
                    "{msg}; but Kyverno also requires each attestation's Rekor entry (rekor.ignoreTlog is not set), so which statements it evaluates is not known here"
                ),
            )
        } else {
            (ReplayOutcome::Fail, msg)
        }
    } else if let Some((_, why)) = outcomes.iter().find(|(o, _)| *o == ReplayOutcome::NotReplayed) {
        (ReplayOutcome::NotReplayed, why.clone().unwrap_or_default())
    } else if rekor {
        (ReplayOutcome::NotReplayed, fetched.signature.reason.clone())
    } else {
        (ReplayOutcome::Pass, format!("every {} statement verifies and satisfies the conditions", a.predicate_type))
    };
    e
}

fn notary_entry(
    a: &Attestation,
    at: &str,
    image: &str,
    fetched: &[AttestationFetch],
    vars: &Vars<'_>,
    named: &mut serde_json::Map<String, Value>,
) -> AttestationEntryReplay {
    let mut e = AttestationEntryReplay {
        path: at.to_string(),
        kind: "certificates",
        outcome: ReplayOutcome::Fail,
        reason: String::new(),
        cause: Some("missing"),
        signature: EntryResult::failed(""),
        statements: Vec::new(),
    };
    if fetched.is_empty() {
        e.reason = format!("no matching attestations found for image {image} with type {}", a.predicate_type);
        e.signature = EntryResult::failed(e.reason.clone());
        return e;
    }
    // Kyverno takes the first referrer of the type the registry lists; their outcomes are
    // gathered so that a disagreement between them is said rather than guessed.
    let mut outcomes = Vec::new();
    for f in fetched {
        let s = f.statements.first();
        let (conditions, outcome, why) = match (f.signature.outcome, s) {
            (ReplayOutcome::Pass, Some(s)) => {
                let c = check_statement(a, &s.statement, vars, named);
                let o = statement_outcome(c.as_ref());
                let why = match &c {
                    Some(c) if o == ReplayOutcome::Fail => format!(
                        "attestation checks failed for {image} and predicate {}: {}",
                        a.predicate_type, c.reason
                    ),
                    Some(c) if o == ReplayOutcome::NotReplayed => c.reason.clone(),
                    _ => "the referrer's signature verifies and its content satisfies the conditions".to_string(),
                };
                (c, o, why)
            }
            (ReplayOutcome::Pass, None) => (None, ReplayOutcome::Fail, "failed to fetch attestations".to_string()),
            (o, _) => (None, o, f.signature.reason.clone()),
        };
        if (outcome == ReplayOutcome::Pass || outcomes.is_empty())
            && let (Some(name), Some(p)) = (&a.name, s.and_then(|s| s.statement.get("predicate")))
        {
            named.entry(name.clone()).or_insert_with(|| p.clone());
        }
        outcomes.push((outcome, why));
        e.statements.push(StatementReplay {
            from: f.from.clone(),
            statement_type: a.predicate_type.clone(),
            signature: Some(f.signature.clone()),
            conditions,
            outcome: Some(outcome),
        });
    }
    let first = outcomes[0].clone();
    e.signature = fetched[0].signature.clone();
    e.cause = match (first.0, e.signature.outcome, &e.statements[0].conditions) {
        (ReplayOutcome::Fail, ReplayOutcome::Fail, _) => Some("signature"),
        (ReplayOutcome::Fail, _, Some(c)) if c.outcome == ReplayOutcome::Fail => Some("conditions"),
        (ReplayOutcome::Fail, _, _) => Some("predicate"),
        _ => None,
    };
    (e.outcome, e.reason) = if outcomes.iter().all(|(o, _)| *o == first.0) {
        first
    } else {
        (
            ReplayOutcome::NotReplayed,
            format!(
                "the {} referrers of type {} do not agree ({}); Kyverno checks only the first the registry lists, \
                 and that order is the registry's",
                outcomes.len(),
                a.predicate_type,
                outcomes.iter().map(|(o, _)| format!("{o:?}").to_lowercase()).collect::<Vec<_>>().join(", ")
            ),
        )
    };
    e
}

/// What would make a failing attestation pass, from its first failing entry.
pub(super) fn advice(a: &AttestationReplay, verifier: &str) -> String {
    let Some(e) = a
        .sets
        .iter()
        .filter(|s| s.outcome == ReplayOutcome::Fail)
        .flat_map(|s| &s.entries)
        .find(|e| e.outcome == ReplayOutcome::Fail)
    else {
        return String::new();
    };
    let t = &a.attestation_type;
    let at = format!("{}.{}", e.path, e.kind);
    let notary = verifier == "Notary";
    let what = match e.cause {
        Some("missing") if notary => format!(
            "attach a referrer of artifactType {t} to the image (oras attach --artifact-type {t}) and sign it with \
             Notation under a certificate chaining to {at}"
        ),
        Some("missing") => format!(
            "attach an attestation of type {t} signed with the private key whose public key is in {at} (cosign \
             attest --key … --type {t})"
        ),
        Some("signature") if notary => format!(
            "sign the {t} referrer with Notation under a certificate chaining to the certificates of {at} (notation \
             sign on the referrer's digest)"
        ),
        Some("signature") => {
            format!("attest the image with the private key whose public key is in {at} (cosign attest --key)")
        }
        Some("subject") => "attest this very image: the statements signed with the key are about another digest".into(),
        Some("predicate") => format!("attach a {t} attestation whose predicate is a JSON object"),
        Some("conditions") => {
            let failed = e
                .statements
                .iter()
                .filter_map(|s| s.conditions.as_ref())
                .flat_map(|c| &c.conditions)
                .find(|c| c.outcome == ReplayOutcome::Fail);
            match failed {
                Some(c) => format!(
                    "make the {t} predicate satisfy {}: {} is {}, and {} {} does not hold",
                    c.at,
                    c.key,
                    c.found.as_ref().map_or_else(|| "not found".to_string(), |v| v.to_string()),
                    c.operator,
                    c.expected.as_ref().unwrap_or(&c.value)
                ),
                None => format!("make the {t} predicate satisfy the conditions of {}", a.path),
            }
        }
        _ => return String::new(),
    };
    format!(" To pass: {what}.")
}
