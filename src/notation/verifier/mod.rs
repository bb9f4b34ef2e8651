//! The Notation verification workflow (signing-and-verification-workflow.md, notation-go
//! verifier): per signature integrity → plugin → authenticity → trusted identity → expiry
//! → authenticTimestamp → revocation, each applied with the statement's action; per
//! artifact, verified when one signature passes every enforced check.
//!
//! What the verifier is built from is injected: the policy, where trust stores come from
//! ([`TrustStores`]: a Notation directory or certificates in memory) and [`VerifierOptions`]
//! (revocation mode, verification plugins). A plugin the envelope names runs after the core
//! checks, and decides only what `super::plugin` lets it.
//!
//! Time is a parameter. Any error while checking is a failed check with its reason.

pub mod report;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use sha2::{Digest as _, Sha256};

use super::chain::{self, ValidChain};
use super::dn::{self, Dn};
use super::envelope::{self, Envelope, Scheme};
use super::plugin::{self, Capability, Plugins, Selected, VerifyRequest};
use super::policy::{Action, Check, Statement, TrustPolicy, TrustStoreKind, TrustStoreRef, VerifyTimestamp};
use super::revocation::{RevocationMode, RevocationStatus};
use super::truststore::{NotationDirStores, TrustStore, TrustStores};
use crate::oci::Descriptor;
pub use report::*;

/// One signature to verify: its manifest digest and its envelope layer (or why it could
/// not be fetched, which fails the signature's integrity check).
#[derive(Debug, Clone)]
pub struct SignatureInput {
    pub digest: String,
    pub media_type: String,
    pub envelope: Result<Vec<u8>, String>,
}

type StoreResult = Result<Arc<TrustStore>, String>;
type ChainResult = Result<Arc<CheckedChain>, String>;

/// A validated chain with what the revocation check needs to know about it once.
struct CheckedChain {
    chain: ValidChain,
    revocable: bool,
}

impl std::ops::Deref for CheckedChain {
    type Target = ValidChain;
    fn deref(&self) -> &ValidChain {
        &self.chain
    }
}

/// How a verifier checks beyond the policy and the stores.
#[derive(Debug, Clone)]
pub struct VerifierOptions {
    pub revocation: RevocationMode,
    /// The verification plugins an envelope may name; none by default.
    pub plugins: Plugins,
}

impl VerifierOptions {
    /// No plugins: a signature that names one fails closed.
    pub fn new(revocation: RevocationMode) -> Self {
        VerifierOptions { revocation, plugins: Plugins::default() }
    }
}

/// Verifies signatures against one trust policy and one set of trust stores. Chains and
/// trust stores are cached: many signatures from one signer (the usual case in a registry)
/// pay the chain validation once. Build a new one when the policy or the stores change.
pub struct Verifier {
    policy: TrustPolicy,
    trust_stores: Arc<dyn TrustStores>,
    options: VerifierOptions,
    chains: Mutex<HashMap<[u8; 32], ChainResult>>,
    stores: Mutex<HashMap<TrustStoreRef, StoreResult>>,
}

impl Verifier {
    /// The usual verifier: the stores of a Notation directory, no plugins.
    pub fn new(policy: TrustPolicy, notation_dir: impl Into<PathBuf>, revocation: RevocationMode) -> Self {
        Self::in_dir(policy, notation_dir, VerifierOptions::new(revocation))
    }

    /// The stores of a Notation directory, with `options`.
    pub fn in_dir(policy: TrustPolicy, notation_dir: impl Into<PathBuf>, options: VerifierOptions) -> Self {
        Self::with_options(policy, Arc::new(NotationDirStores::new(notation_dir)), options)
    }

    pub fn with_options(policy: TrustPolicy, stores: Arc<dyn TrustStores>, options: VerifierOptions) -> Self {
        Verifier { policy, trust_stores: stores, options, chains: Mutex::default(), stores: Mutex::default() }
    }

    pub fn policy(&self) -> &TrustPolicy {
        &self.policy
    }

    /// Verifies an artifact given as `scope` (the repository reference, `host/repo` or a
    /// layout path) and its descriptor, with the signatures found for it.
    pub async fn verify_artifact(
        &self,
        scope: &str,
        subject: &Descriptor,
        signatures: &[SignatureInput],
        now: DateTime<Utc>,
    ) -> ArtifactReport {
        let report = |statement, verdict, signatures| {
            ArtifactReport::new(scope, &subject.digest, statement, verdict, signatures)
        };
        let Some((statement, matched)) = self.policy.statement_for(scope) else {
            let reason = format!("no trust policy statement applies to {scope:?} (no exact scope, no \"*\")");
            return report(None, Verdict::NotEvaluated { reason }, Vec::new());
        };
        let applied = Some(AppliedStatement { name: statement.name.clone(), matched, level: statement.level });
        if statement.level == super::policy::Level::Skip {
            return report(applied, Verdict::Skipped, Vec::new());
        }
        if signatures.is_empty() {
            return report(applied, Verdict::NoSignature, Vec::new());
        }
        let mut reports = Vec::with_capacity(signatures.len());
        for sig in signatures {
            let mut r = match &sig.envelope {
                Ok(bytes) => self.verify_signature(statement, subject, &sig.media_type, bytes, now).await,
                Err(e) => failed_fetch(&sig.media_type, e),
            };
            r.digest = sig.digest.clone();
            reports.push(r);
        }
        let verdict = artifact_verdict(&reports);
        report(applied, verdict, reports)
    }

    /// Verifies one envelope against `statement` for the artifact `subject`.
    pub async fn verify_signature(
        &self,
        statement: &Statement,
        subject: &Descriptor,
        media_type: &str,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> SignatureReport {
        let mut run = Run::new(statement, media_type);
        let Some((env, chain)) = self.integrity(&mut run, subject, media_type, bytes) else {
            return run.finish();
        };
        // A missing or unfit plugin is not a policy-governed check: it fails at every level.
        let plugin = match &env.plugin {
            None => None,
            Some(name) => match plugin::select(&self.options.plugins, name, env.plugin_min_version.as_deref()) {
                Ok(selected) => Some(selected),
                Err(why) => {
                    run.record(CheckKind::VerificationPlugin, Action::Enforce, Err(why));
                    return run.finish();
                }
            },
        };
        let delegated = |c: Capability| plugin.as_ref().is_some_and(|p| p.offers(c));
        let mut pending = Pending::default();
        let authenticity = run.actions.get(Check::Authenticity);
        if run.gate(CheckKind::Authenticity, authenticity) {
            let result = self.authenticity(statement, &env, &chain);
            if run.record(CheckKind::Authenticity, authenticity, result) {
                return run.finish();
            }
        }
        if run.gate(CheckKind::TrustedIdentity, authenticity) {
            let result = trusted_identity(statement, &chain);
            // Left for the plugin only when its answer can matter: it may fail a match, and
            // pass a mismatch only for identities the x509 check cannot read.
            if delegated(Capability::TrustedIdentity) && (result.is_ok() || statement.has_plugin_identities()) {
                pending.identity = Some(result);
            } else if run.record(CheckKind::TrustedIdentity, authenticity, result) {
                return run.finish();
            }
        }
        let expiry = run.actions.get(Check::Expiry);
        if run.gate(CheckKind::Expiry, expiry) {
            let result = match env.expiry {
                Some(exp) if now >= exp => {
                    Err(format!("digital signature has expired on {}", exp.format("%Y-%m-%d %H:%M:%S UTC")))
                }
                Some(exp) => Ok(format!("the signature expires {}", exp.format("%Y-%m-%d %H:%M:%S UTC"))),
                None => Ok("the signature has no expiry".into()),
            };
            if run.record(CheckKind::Expiry, expiry, result) {
                return run.finish();
            }
        }
        let timestamp = run.actions.get(Check::AuthenticTimestamp);
        if run.gate(CheckKind::AuthenticTimestamp, timestamp) {
            let result = self.authentic_timestamp(&mut run, statement, &env, &chain, now).await;
            if run.record(CheckKind::AuthenticTimestamp, timestamp, result) {
                return run.finish();
            }
        }
        let revocation = run.actions.get(Check::Revocation);
        if run.gate(CheckKind::Revocation, revocation) {
            let at = env.authentic_signing_time.unwrap_or(now);
            let status = if chain.revocable {
                super::revocation::check_chain(&chain.ders(), &self.options.revocation, at).await
            } else {
                RevocationStatus::Good
            };
            let result = revocation_result(&status);
            if delegated(Capability::Revocation) && !matches!(status, RevocationStatus::Revoked { .. }) {
                pending.revocation = Some((status, result));
            } else if run.record(CheckKind::Revocation, revocation, result) {
                return run.finish();
            }
        }
        if let Some(selected) = plugin {
            self.run_plugin(&mut run, statement, &env, &selected, pending).await;
        }
        run.finish()
    }

    /// Asks the plugin what the core checks left to it, after they all ran, and records its
    /// answer: the plugin row first (it ran, processed every unknown critical attribute), then
    /// the rows it decided.
    async fn run_plugin(
        &self,
        run: &mut Run,
        statement: &Statement,
        env: &Envelope,
        selected: &Selected,
        pending: Pending,
    ) {
        let mut asked = Vec::new();
        if pending.identity.is_some() {
            asked.push(Capability::TrustedIdentity);
        }
        if pending.revocation.is_some() {
            asked.push(Capability::Revocation);
        }
        let request = VerifyRequest::new(env, statement, asked);
        let name = selected.name();
        // A plugin is code sigscope did not write: its panic is its failure, not the verifier's.
        let answer = std::panic::AssertUnwindSafe(selected.plugin.verify_signature(&request)).catch_unwind().await;
        let checked = match answer {
            Ok(Ok(response)) => plugin::check_response(selected, &request, &response).map(|why| (why, response)),
            Ok(Err(e)) => Err(format!("the verification plugin {name} failed: {e}")),
            Err(_) => Err(format!("the verification plugin {name} panicked, so the signature fails closed")),
        };
        let response = match checked {
            Ok((why, response)) => {
                run.record(CheckKind::VerificationPlugin, Action::Enforce, Ok(why));
                response
            }
            Err(why) => {
                run.record(CheckKind::VerificationPlugin, Action::Enforce, Err(why));
                return;
            }
        };
        if let Some(core) = pending.identity {
            let result = plugin::identity_verdict(core, statement, name, &response);
            if run.record(CheckKind::TrustedIdentity, run.actions.get(Check::Authenticity), result) {
                return;
            }
        }
        if let Some((status, core)) = pending.revocation {
            let result = plugin::revocation_verdict(&status, core, name, &response);
            run.record(CheckKind::Revocation, run.actions.get(Check::Revocation), result);
        }
    }

    /// Parses the envelope, validates the chain, verifies the signature and matches the
    /// payload with the artifact. `None` after recording the failure.
    fn integrity(
        &self,
        run: &mut Run,
        subject: &Descriptor,
        media_type: &str,
        bytes: &[u8],
    ) -> Option<(Envelope, Arc<CheckedChain>)> {
        let result = (|| {
            let env = envelope::parse(media_type, bytes)?;
            run.fill_envelope(&env);
            let chain = self.chain(&env.chain)?;
            run.report.signer = Some(chain.leaf().subject.clone());
            chain.leaf_key.verify(env.alg, &env.signed_bytes, &env.signature)?;
            let target = envelope::target_artifact(&env.payload)?;
            if target.digest != subject.digest || target.size != subject.size || target.media_type != subject.media_type
            {
                return Err(format!(
                    "content descriptor mismatch: the signature is for {} ({} bytes, {}), not this artifact {} ({} bytes, {})",
                    target.digest, target.size, target.media_type, subject.digest, subject.size, subject.media_type
                ));
            }
            Ok((env, chain))
        })();
        match result {
            Ok((env, chain)) => {
                run.record(
                    CheckKind::Integrity,
                    Action::Enforce,
                    Ok(format!(
                        "{} signature verifies with the signing certificate's key and names this artifact",
                        env.alg.name()
                    )),
                );
                Some((env, chain))
            }
            Err(e) => {
                run.record(CheckKind::Integrity, Action::Enforce, Err(e));
                None
            }
        }
    }

    fn chain(&self, ders: &[Vec<u8>]) -> ChainResult {
        let mut h = Sha256::new();
        for d in ders {
            h.update((d.len() as u64).to_be_bytes());
            h.update(d);
        }
        let key: [u8; 32] = h.finalize().into();
        if let Some(hit) = self.chains.lock().expect("chain cache").get(&key) {
            return hit.clone();
        }
        let result = chain::validate(ders).map(|chain| {
            let revocable = super::revocation::offers_revocation_info(ders);
            Arc::new(CheckedChain { chain, revocable })
        });
        self.chains.lock().expect("chain cache").insert(key, result.clone());
        result
    }

    fn store(&self, r: &TrustStoreRef) -> StoreResult {
        if let Some(hit) = self.stores.lock().expect("store cache").get(r) {
            return hit.clone();
        }
        let result = self.trust_stores.load(r).map(Arc::new).map_err(|e| e.to_string());
        self.stores.lock().expect("store cache").insert(r.clone(), result.clone());
        result
    }

    fn stores_of(&self, statement: &Statement, kind: TrustStoreKind) -> Result<Vec<Arc<TrustStore>>, String> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for r in statement.trust_stores.iter().filter(|r| r.kind == kind) {
            if seen.insert(r) {
                out.push(self.store(r).map_err(|e| format!("failed to load trust store {r}: {e}"))?);
            }
        }
        Ok(out)
    }

    fn authenticity(&self, statement: &Statement, env: &Envelope, chain: &ValidChain) -> Result<String, String> {
        let kind = match env.scheme {
            Scheme::X509 => TrustStoreKind::Ca,
            Scheme::SigningAuthority => TrustStoreKind::SigningAuthority,
        };
        let stores = self.stores_of(statement, kind)?;
        if stores.is_empty() {
            return Err(format!(
                "trust policy statement {:?} names no {}: trust store, which the {} signing scheme needs",
                statement.name,
                kind.dir_name(),
                env.scheme.name()
            ));
        }
        // The chain was validated, so its last certificate is its only self-signed one. The
        // specification makes store certificates trust anchors: an intermediate or leaf that
        // is merely present in a store (notation-go would accept it) does not vouch alone.
        let root = chain.certs.last().expect("a validated chain is not empty");
        let mut pinned_non_root = None;
        for store in &stores {
            for trusted in &store.certificates {
                if trusted.der == root.der {
                    return Ok(format!("root certificate {:?} is in trust store {}", root.subject, store.store));
                }
                if let Some(c) = chain.certs.iter().find(|c| c.der == trusted.der) {
                    pinned_non_root = Some((c.subject.clone(), store.store.to_string()));
                }
            }
        }
        let names: Vec<String> = stores.iter().map(|s| s.store.to_string()).collect();
        let mut reason = format!(
            "the signature's certificate chain does not contain any trusted certificate (trust stores: {})",
            names.join(", ")
        );
        if let Some((subject, store)) = pinned_non_root {
            reason.push_str(&format!(
                "; {subject:?} is in {store} but is not the chain's root, and only trust anchors vouch for a chain"
            ));
        }
        Err(reason)
    }

    async fn authentic_timestamp(
        &self,
        run: &mut Run,
        statement: &Statement,
        env: &Envelope,
        chain: &ValidChain,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        if env.scheme == Scheme::SigningAuthority {
            let at = env.authentic_signing_time.ok_or("no authentic signing time")?;
            let shown = at.format("%Y-%m-%d %H:%M:%S UTC");
            return match chain.invalid_at(at, "authentic signing time") {
                Some(e) => Err(e),
                None => Ok(format!("every certificate was valid at the authentic signing time {shown}")),
            };
        }
        let tsa_refs: Vec<&TrustStoreRef> =
            statement.trust_stores.iter().filter(|r| r.kind == TrustStoreKind::Tsa).collect();
        let expired_now = chain.invalid_at(now, "verification time");
        let consult =
            !tsa_refs.is_empty() && (statement.verify_timestamp == VerifyTimestamp::Always || expired_now.is_some());
        if !consult {
            return match expired_now {
                Some(e) => {
                    let why = if tsa_refs.is_empty() {
                        if env.timestamp_token.is_some() {
                            "; the envelope has a timestamp countersignature but the policy names no tsa: store"
                        } else {
                            "; no timestamp countersignature"
                        }
                    } else {
                        ""
                    };
                    Err(format!("{e}{why}"))
                }
                None => Ok("every certificate of the chain is valid now".into()),
            };
        }
        let token = env
            .timestamp_token
            .as_deref()
            .ok_or("no timestamp countersignature was found in the signature envelope")?;
        let stores = self.stores_of(statement, TrustStoreKind::Tsa)?;
        let roots: Vec<Vec<u8>> = stores.iter().flat_map(|s| s.certificates.iter().map(|c| c.der.clone())).collect();
        let info = super::timestamp::verify_timestamp(token, &env.signature, &roots, now)
            .map_err(|e| format!("failed to verify the timestamp countersignature: {e}"))?;
        super::timestamp::check_signing_chain_validity(&info, &chain.ders())?;
        run.timestamp = Some(info.gen_time);
        // The TSA chain is revocation-checked as Notation does, except that a policy which
        // skips revocation skips it here too (so offline verification stays possible).
        if run.actions.get(Check::Revocation) != Action::Skip {
            match super::revocation::check_chain(&info.tsa_chain, &self.options.revocation, now).await {
                RevocationStatus::Good => {}
                RevocationStatus::Revoked { subject, reason } => {
                    return Err(format!("timestamping certificate {subject:?} is revoked: {reason}"));
                }
                RevocationStatus::Unknown { reason } => {
                    return Err(format!("revocation status of the timestamping chain is unknown: {reason}"));
                }
            }
        }
        Ok(format!(
            "timestamped by {} at {} (from {} to {}); every certificate was valid then",
            info.tsa_subject,
            info.gen_time.format("%Y-%m-%d %H:%M:%S UTC"),
            info.earliest.format("%H:%M:%S"),
            info.latest.format("%H:%M:%S")
        ))
    }
}

/// The x509 trusted-identity check on the leaf of `chain` (public for the upstream identity
/// vectors, whose certificates sign no envelope).
pub fn trusted_identity(statement: &Statement, chain: &ValidChain) -> Result<String, String> {
    if statement.trusts_any_identity() {
        return Ok("the statement trusts any identity (\"*\")".into());
    }
    let identities: Vec<&Dn> = statement.x509_identities().collect();
    if identities.is_empty() {
        return Err(format!(
            "no x509 trusted identities are configured in the trust policy {:?} (other identity types need a plugin)",
            statement.name
        ));
    }
    let leaf = chain.leaf();
    let subject = Dn::from_certificate(&leaf.der)
        .map_err(|e| format!("signing certificate subject {:?} cannot be matched: {e}", leaf.subject))?;
    // Notation matches the subject's Go rendering, which leaves `=` and a non-leading `#`
    // unescaped, and refuses any DN text holding "=#": a value containing it makes the
    // certificate unmatchable there (notation-go TestVerifyX509TrustedIdentities, bad-cert).
    if let Some((ty, _)) = subject.attributes().iter().find(|(_, v)| v.contains("=#")) {
        return Err(format!(
            "signing certificate subject {:?} cannot be matched: its {ty} value contains \"=#\", which Notation \
             does not support in a distinguished name",
            leaf.subject
        ));
    }
    match identities.iter().find(|id| dn::matches(id, &subject)) {
        Some(id) => Ok(format!("signing certificate {:?} matches x509.subject: {id}", leaf.subject)),
        None => {
            let wanted: Vec<String> = identities.iter().map(|id| format!("x509.subject: {id}")).collect();
            Err(format!(
                "signing certificate {:?} does not match the x509 trusted identities of {:?} ({})",
                leaf.subject,
                statement.name,
                wanted.join("; ")
            ))
        }
    }
}

/// Results the core checks computed but a verification plugin has the last word on.
#[derive(Default)]
struct Pending {
    identity: Option<Result<String, String>>,
    revocation: Option<(RevocationStatus, Result<String, String>)>,
}

fn revocation_result(status: &RevocationStatus) -> Result<String, String> {
    match status {
        RevocationStatus::Good => Ok("no certificate of the chain is revoked (certificates without \
             revocation information are not revocable, as Notation treats them)"
            .to_string()),
        RevocationStatus::Revoked { subject, reason } => {
            Err(format!("signing certificate with subject {subject:?} is revoked: {reason}"))
        }
        RevocationStatus::Unknown { reason } => Err(format!("revocation status is unknown: {reason}")),
    }
}

fn failed_fetch(media_type: &str, reason: &str) -> SignatureReport {
    let mut run = Run::new_fixed(media_type);
    run.record(
        CheckKind::Integrity,
        Action::Enforce,
        Err(format!("the signature envelope could not be read: {reason}")),
    );
    run.finish()
}

fn artifact_verdict(reports: &[SignatureReport]) -> Verdict {
    if reports.iter().any(|r| r.verdict == SignatureVerdict::Verified) {
        return Verdict::Verified;
    }
    if let Some(r) = reports.iter().find(|r| r.passed()) {
        let warnings = r.warnings().map(|c| format!("{}: {}", c.check.name(), c.reason)).collect();
        return Verdict::VerifiedWithWarnings { warnings };
    }
    match reports.first().map(|r| &r.verdict) {
        Some(SignatureVerdict::Failed { check, reason }) => Verdict::Failed {
            check: Some(*check),
            reason: if reports.len() > 1 {
                format!("{reason} (and {} more signature(s) failed)", reports.len() - 1)
            } else {
                reason.clone()
            },
        },
        _ => Verdict::Failed { check: None, reason: "no signature passed".into() },
    }
}

/// The state of one signature's verification while checks run.
struct Run {
    actions: super::policy::Actions,
    report: SignatureReport,
    stopped: bool,
    timestamp: Option<DateTime<Utc>>,
}

impl Run {
    fn new(statement: &Statement, media_type: &str) -> Self {
        let mut run = Self::new_fixed(media_type);
        run.actions = statement.effective_actions();
        run
    }

    fn new_fixed(media_type: &str) -> Self {
        let e = Action::Enforce;
        Run {
            actions: super::policy::Actions {
                integrity: e,
                authenticity: e,
                authentic_timestamp: e,
                expiry: e,
                revocation: e,
            },
            report: SignatureReport {
                digest: String::new(),
                envelope_media_type: media_type.to_string(),
                format: None,
                signing_scheme: None,
                algorithm: None,
                signer: None,
                signing_time: None,
                authentic_signing_time: None,
                expiry: None,
                timestamp: None,
                checks: Vec::new(),
                verdict: SignatureVerdict::Verified,
            },
            stopped: false,
            timestamp: None,
        }
    }

    fn fill_envelope(&mut self, env: &Envelope) {
        let r = &mut self.report;
        r.format = Some(env.format);
        r.signing_scheme = Some(env.scheme);
        r.algorithm = Some(env.alg);
        r.signing_time = env.signing_time;
        r.authentic_signing_time = env.authentic_signing_time;
        r.expiry = env.expiry;
    }

    /// Records a skipped row and returns false when the policy skips the check.
    fn gate(&mut self, check: CheckKind, action: Action) -> bool {
        if action == Action::Skip {
            self.report.checks.push(CheckResult {
                check,
                outcome: Outcome::Skipped,
                action,
                reason: "skipped by the trust policy".into(),
            });
            return false;
        }
        true
    }

    /// Records a result; true when an enforced failure stops verification.
    fn record(&mut self, check: CheckKind, action: Action, result: Result<String, String>) -> bool {
        let (outcome, reason) = match result {
            Ok(why) => (Outcome::Pass, why),
            Err(why) if action == Action::Enforce => (Outcome::FailEnforced, why),
            Err(why) => (Outcome::FailLogged, why),
        };
        if outcome == Outcome::FailEnforced && !self.stopped {
            self.stopped = true;
            self.report.verdict = SignatureVerdict::Failed { check, reason: reason.clone() };
        }
        self.report.checks.push(CheckResult { check, outcome, action, reason });
        self.stopped
    }

    fn finish(mut self) -> SignatureReport {
        self.report.timestamp = self.timestamp;
        for check in CheckKind::ROWS {
            if self.report.check(check).is_none() {
                let action = match check {
                    CheckKind::Integrity => self.actions.integrity,
                    CheckKind::Authenticity | CheckKind::TrustedIdentity => self.actions.authenticity,
                    CheckKind::Expiry => self.actions.expiry,
                    CheckKind::AuthenticTimestamp => self.actions.authentic_timestamp,
                    CheckKind::Revocation | CheckKind::VerificationPlugin => self.actions.revocation,
                };
                let (outcome, reason) = if action == Action::Skip {
                    (Outcome::Skipped, "skipped by the trust policy".to_string())
                } else {
                    (Outcome::NotRun, "not evaluated: an enforced check failed before it".to_string())
                };
                self.report.checks.push(CheckResult { check, outcome, action, reason });
            }
        }
        let order = |c: &CheckResult| c.check as usize;
        self.report.checks.sort_by_key(order);
        if !self.stopped && self.report.checks.iter().any(|c| c.outcome == Outcome::FailLogged) {
            self.report.verdict = SignatureVerdict::VerifiedWithWarnings;
        }
        self.report
    }
}
