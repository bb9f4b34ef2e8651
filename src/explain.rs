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
    /// The cosign signatures: (signature manifest digest, payload, base64 signature).
    cosign: OnceCell<Result<Vec<CosignSignature>, String>>,
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
            cosign: OnceCell::new(),
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

/// One cosign signature layer: its payload and its signature annotation.
#[derive(Clone)]
struct CosignSignature {
    manifest: String,
    payload: Result<Vec<u8>, String>,
    signature: Option<String>,
}

/// Payloads above this are not cosign's simple signing.
const MAX_COSIGN_PAYLOAD: u64 = 64 * 1024;

impl ImageSignatures {
    /// The layers of the `sha256-<hex>.sig` tag, as cosign and Kyverno's Cosign verifier read
    /// them; no such tag is no signature.
    async fn cosign_signatures(&self) -> Result<Vec<CosignSignature>, String> {
        self.cosign
            .get_or_init(|| async {
                let tag = format!("{}.sig", crate::oci::digest_tag(&self.subject.digest));
                let manifest = match self.source.manifest(&self.repository, &tag).await {
                    Ok(m) => m,
                    Err(crate::error::Error::NotFound { .. }) => return Ok(Vec::new()),
                    Err(e) => {
                        let text = e.to_string();
                        *self.registry_error.lock().expect("error lock") = Some(e);
                        return Err(text);
                    }
                };
                let mut out = Vec::new();
                for layer in manifest.manifest.layers().iter().take(MAX_SIGNATURE_ATTEMPTS) {
                    if layer.media_type != crate::oci::media::COSIGN_SIMPLESIGNING {
                        continue;
                    }
                    let payload = self
                        .source
                        .blob(&self.repository, layer, MAX_COSIGN_PAYLOAD)
                        .await
                        .map(|b| b.to_vec())
                        .map_err(|e| e.to_string());
                    out.push(CosignSignature {
                        manifest: manifest.descriptor.digest.clone(),
                        payload,
                        signature: layer.annotations.get(crate::oci::annotations::COSIGN_SIGNATURE).cloned(),
                    });
                }
                Ok(out)
            })
            .await
            .clone()
    }
}

#[async_trait::async_trait]
impl AttestorCheck for ImageSignatures {
    async fn cosign_key(&self, public_key_pem: &str, ignore_tlog: bool) -> EntryResult {
        let key = match crate::cosign::PublicKey::from_pem(public_key_pem) {
            Ok(k) => k,
            Err(e) => return EntryResult::failed(format!("the attestor's public key: {e}")),
        };
        let signatures = match self.cosign_signatures().await {
            Ok(s) => s,
            Err(e) => return EntryResult::not_replayed(format!("the cosign signatures could not be read: {e}")),
        };
        if signatures.is_empty() {
            return EntryResult::failed(format!(
                "no cosign signature: the tag {}.sig holds no simple-signing layer",
                crate::oci::digest_tag(&self.subject.digest)
            ));
        }
        let mut lines = Vec::new();
        let mut failed_checks = Vec::new();
        let mut verified = false;
        for s in &signatures {
            let result = match (&s.payload, &s.signature) {
                (Err(e), _) => Err(format!("its payload could not be read: {e}")),
                (_, None) => Err("the layer has no signature annotation".into()),
                (Ok(p), Some(sig)) => crate::cosign::verify(&key, p, sig, &self.subject.digest),
            };
            match result {
                Ok(()) => {
                    verified = true;
                    lines.push(format!("cosign signature in {} verifies with the key", short_digest(&s.manifest)));
                }
                Err(e) => {
                    failed_checks
                        .push(if e.contains("another image") { "integrity" } else { "authenticity" }.to_string());
                    lines.push(format!("cosign signature in {} fails: {}", short_digest(&s.manifest), sanitize(&e)));
                }
            }
        }
        let (outcome, reason) = match (verified, ignore_tlog) {
            (true, true) => (Outcome::Pass, "a cosign signature verifies with the key".to_string()),
            (true, false) => (
                Outcome::NotReplayed,
                "a cosign signature verifies with the key, but Kyverno also requires its Rekor transparency-log \
                 entry (rekor.ignoreTlog is not set), which sigscope does not check"
                    .to_string(),
            ),
            (false, _) => {
                (Outcome::Fail, format!("none of the {} cosign signature(s) verifies with the key", signatures.len()))
            }
        };
        EntryResult { outcome, reason, signatures: lines, failed_checks, signers: Vec::new() }
    }

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
        // notation-go trusts any certificate of the chain found in the store; sigscope only the
        // chain's root. Where the attestor lists a certificate inside a chain, the two differ.
        let (outcome, reason) = match (outcome, intermediate_in_store(certs_pem, &signatures)) {
            (Outcome::Fail, Some(digest)) => (
                Outcome::NotReplayed,
                format!(
                    "{reason}; but a certificate of the attestor is inside the chain of signature {} (not its root): \
                     notation-go, and so Kyverno, takes that as trusted where sigscope trusts roots only, so whether \
                     Kyverno admits the image is not decided here",
                    short_digest(&digest)
                ),
            ),
            (o, _) => (o, reason),
        };
        let mut signers: Vec<String> =
            report.signatures.iter().filter_map(|s| s.signer.as_deref().map(|d| sanitize(d).into_owned())).collect();
        signers.dedup();
        EntryResult { outcome, reason, signatures: lines, failed_checks, signers }
    }
}

/// The digest of a signature whose chain holds one of `certs_pem`'s certificates other than
/// as its root.
fn intermediate_in_store(certs_pem: &str, signatures: &[SignatureInput]) -> Option<String> {
    let store = crate::notation::truststore::split_certificates(certs_pem.as_bytes()).ok()?;
    signatures.iter().find_map(|s| {
        let bytes = s.envelope.as_ref().ok()?;
        let env = crate::notation::envelope::parse(&s.media_type, bytes).ok()?;
        let inner = env.chain.len().saturating_sub(1);
        env.chain[..inner].iter().any(|c| store.contains(c)).then(|| s.digest.clone())
    })
}
