//! The use case behind `sigscope explain`: Kyverno's decision for one image replayed
//! (`kyverno::replay`), its Notary attestors checked against the image's real signatures the
//! way Kyverno's Notary verifier checks them — the attestor's certificates as the one `ca:`
//! trust store of an in-memory trust policy, level strict, any identity, no verification
//! plugin (so an AWS Signer signature fails, as it does in Kyverno).

use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::kyverno::replay::{AttestorCheck, EntryResult, Outcome};
use crate::notation::policy::TrustPolicy;
use crate::notation::revocation::RevocationMode;
use crate::notation::truststore::MemoryStores;
use crate::notation::verifier::{SignatureInput, Verdict, Verifier, VerifierOptions};
use crate::oci::{Descriptor, short_digest};
use crate::sanitize::sanitize;
use crate::source::Source;

/// The trust policy Kyverno's Notary verifier builds for every attestor entry.
const KYVERNO_POLICY: &str = r#"{"version": "1.0", "trustPolicies": [{"name": "kyverno", "registryScopes": ["*"],
    "signatureVerification": {"level": "strict"}, "trustStores": ["ca:kyverno"], "trustedIdentities": ["*"]}]}"#;

/// Kyverno's `MaxSignatureAttempts` for Notary.
const MAX_SIGNATURE_ATTEMPTS: usize = 10;

/// Checks attestor entries against the signatures of one image; the signatures are fetched
/// once for all entries.
pub struct ImageSignatures {
    pub source: Arc<dyn Source>,
    pub repository: String,
    pub subject: Descriptor,
    pub now: chrono::DateTime<chrono::Utc>,
    pub revocation: RevocationMode,
    signatures: OnceCell<Result<Vec<SignatureInput>, String>>,
    /// Set when a registry error kept a check from being made.
    pub registry_error: std::sync::Mutex<Option<crate::error::Error>>,
}

impl ImageSignatures {
    pub fn new(
        source: Arc<dyn Source>,
        repository: String,
        subject: Descriptor,
        now: chrono::DateTime<chrono::Utc>,
        revocation: RevocationMode,
    ) -> Self {
        ImageSignatures {
            source,
            repository,
            subject,
            now,
            revocation,
            signatures: OnceCell::new(),
            registry_error: std::sync::Mutex::new(None),
        }
    }

    async fn signatures(&self) -> Result<Vec<SignatureInput>, String> {
        self.signatures
            .get_or_init(|| async {
                match crate::verify::notation_signatures(self.source.as_ref(), &self.repository, &self.subject).await {
                    Ok(mut s) => {
                        s.truncate(MAX_SIGNATURE_ATTEMPTS);
                        Ok(s)
                    }
                    Err(e) => {
                        let text = e.to_string();
                        *self.registry_error.lock().expect("error lock") = Some(e);
                        Err(text)
                    }
                }
            })
            .await
            .clone()
    }
}

#[async_trait::async_trait]
impl AttestorCheck for ImageSignatures {
    async fn notary(&self, certs_pem: &str) -> EntryResult {
        let fail = EntryResult::failed;
        let mut stores = MemoryStores::new();
        if let Err(e) = stores.add("ca:kyverno", certs_pem.as_bytes()) {
            return fail(format!("the attestor's certificates cannot be a trust store: {e}"));
        }
        let policy = match TrustPolicy::parse(KYVERNO_POLICY) {
            Ok(p) => p,
            Err(e) => return EntryResult::not_replayed(format!("internal trust policy: {e}")),
        };
        let signatures = match self.signatures().await {
            Ok(s) => s,
            Err(e) => return EntryResult::not_replayed(format!("the signatures could not be read: {e}")),
        };
        let verifier = Verifier::with_options(policy, Arc::new(stores), VerifierOptions::new(self.revocation.clone()));
        let scope = self.source.repository_ref(&self.repository);
        let report = verifier.verify_artifact(&scope, &self.subject, &signatures, self.now).await;
        let lines: Vec<String> = report
            .signatures
            .iter()
            .map(|s| {
                let who = s.signer.as_deref().map(|d| format!(" signed by {}", sanitize(d))).unwrap_or_default();
                let what = match &s.verdict {
                    crate::notation::verifier::SignatureVerdict::Failed { check, reason } => {
                        format!("fails {}: {}", check.name(), sanitize(reason))
                    }
                    _ => "verifies".into(),
                };
                format!("{}{who} {what}", short_digest(&s.digest))
            })
            .collect();
        let (outcome, reason) = match &report.verdict {
            Verdict::Verified | Verdict::VerifiedWithWarnings { .. } => {
                (Outcome::Pass, "a Notation signature verifies against these certificates".to_string())
            }
            Verdict::NoSignature => (Outcome::Fail, format!("no Notation signature of {}", self.subject.digest)),
            Verdict::Failed { reason, .. } => (
                Outcome::Fail,
                format!(
                    "none of the {} Notation signature(s) verifies against these certificates: {}",
                    report.signatures.len(),
                    sanitize(reason)
                ),
            ),
            Verdict::Skipped | Verdict::NotEvaluated { .. } => {
                (Outcome::NotReplayed, format!("not evaluated: {}", report.verdict.word()))
            }
        };
        let failed_checks = report
            .signatures
            .iter()
            .filter_map(|s| match &s.verdict {
                crate::notation::verifier::SignatureVerdict::Failed { check, .. } => Some(check.name().to_string()),
                _ => None,
            })
            .collect();
        let mut signers: Vec<String> =
            report.signatures.iter().filter_map(|s| s.signer.as_deref().map(|d| sanitize(d).into_owned())).collect();
        signers.dedup();
        EntryResult { outcome, reason, signatures: lines, failed_checks, signers }
    }
}
