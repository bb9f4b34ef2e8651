//! The use case behind `sigscope explain`: Kyverno's decision for one image replayed
//! (`kyverno::replay`), its Notary attestors checked against the image's real signatures the
//! way Kyverno's Notary verifier checks them — the attestor's certificates as the one `ca:`
//! trust store of an in-memory trust policy, level strict, any identity, no verification
//! plugin (so an AWS Signer signature fails, as it does in Kyverno). Attestations alike: the
//! image's `.att` DSSE envelopes verified with a cosign key, and its referrers of an
//! attestation's `artifactType`, each with its own Notation signature, for Notary.

use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::kyverno::replay::{
    AttestationFetch, AttestorCheck, CosignLookup, EntryResult, FoundStatement, ReplayOutcome,
};
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
    /// The layers of the last OCI 1.1 referrer of cosign's signature artifact type (`None`: no
    /// such referrer), for `cosignOCI11` rules.
    cosign_oci11: OnceCell<Result<Option<Vec<CosignSignature>>, String>>,
    /// The cosign attestations: the `.att` tag's DSSE layers.
    attestations: OnceCell<Result<Vec<CosignAttestation>, String>>,
    /// The image's referrers (API, then tag schema), for Notary attestations.
    referrers: OnceCell<Result<Vec<Descriptor>, String>>,
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
            cosign_oci11: OnceCell::new(),
            attestations: OnceCell::new(),
            referrers: OnceCell::new(),
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
    /// The `dev.sigstore.cosign/certificate` annotation: with a key given, it must be the key's.
    certificate: Option<String>,
    /// The `dev.sigstore.cosign/chain` annotation, for a `certChain` attestor.
    chain: Option<String>,
}

/// Payloads above this are not cosign's simple signing.
const MAX_COSIGN_PAYLOAD: u64 = 64 * 1024;

impl ImageSignatures {
    /// The layers of the `sha256-<hex>.sig` tag, as cosign and Kyverno's Cosign verifier read
    /// them; no such tag is no signature.
    async fn cosign_signatures(&self) -> Result<Vec<CosignSignature>, String> {
        self.cosign
            .get_or_init(|| async {
                let layers = self
                    .cosign_tag_layers(
                        "sig",
                        crate::oci::media::COSIGN_SIMPLESIGNING,
                        MAX_SIGNATURE_ATTEMPTS,
                        MAX_COSIGN_PAYLOAD,
                    )
                    .await?;
                Ok(layers
                    .into_iter()
                    .map(|l| CosignSignature {
                        manifest: l.manifest,
                        payload: l.bytes,
                        signature: l.layer.annotations.get(crate::oci::annotations::COSIGN_SIGNATURE).cloned(),
                        certificate: l.layer.annotations.get(crate::oci::annotations::COSIGN_CERTIFICATE).cloned(),
                        chain: l.layer.annotations.get(crate::oci::annotations::COSIGN_CHAIN).cloned(),
                    })
                    .collect())
            })
            .await
            .clone()
    }

    /// cosign's `ExperimentalOCI11` lookup, as go-containerregistry makes it: the referrers API,
    /// or the tag schema where the registry has no API; of the referrers whose artifactType is
    /// exactly cosign's signature type, the last listed; its simple-signing layers.
    async fn cosign_oci11_signatures(&self) -> Result<Option<Vec<CosignSignature>>, String> {
        self.cosign_oci11
            .get_or_init(|| async {
                let source = self.source.as_ref();
                let digest = &self.subject.digest;
                let listed = match source.referrers_api(&self.repository, digest, None).await {
                    Ok(Some(list)) => list,
                    Ok(None) => crate::source::referrers::tag_schema(source, &self.repository, digest, None)
                        .await
                        .map(|r| r.into_iter().map(|r| r.descriptor).collect())
                        .map_err(|e| e.to_string())?,
                    Err(e) => return Err(e.to_string()),
                };
                let Some(last) = listed
                    .iter()
                    .rev()
                    .find(|d| d.artifact_type.as_deref() == Some(crate::oci::media::COSIGN_ARTIFACT_SIG))
                else {
                    return Ok(None);
                };
                let manifest = source.manifest(&self.repository, &last.digest).await.map_err(|e| e.to_string())?;
                let mut out = Vec::new();
                for layer in manifest.manifest.layers().iter().take(MAX_SIGNATURE_ATTEMPTS) {
                    if layer.media_type != crate::oci::media::COSIGN_SIMPLESIGNING {
                        continue;
                    }
                    let payload = source
                        .blob(&self.repository, layer, MAX_COSIGN_PAYLOAD)
                        .await
                        .map(|b| b.to_vec())
                        .map_err(|e| e.to_string());
                    out.push(CosignSignature {
                        manifest: manifest.descriptor.digest.clone(),
                        payload,
                        signature: layer.annotations.get(crate::oci::annotations::COSIGN_SIGNATURE).cloned(),
                        certificate: layer.annotations.get(crate::oci::annotations::COSIGN_CERTIFICATE).cloned(),
                        chain: layer.annotations.get(crate::oci::annotations::COSIGN_CHAIN).cloned(),
                    });
                }
                Ok(Some(out))
            })
            .await
            .clone()
    }

    /// The layers of media type `media_type` among the first `max_layers` of the
    /// `sha256-<hex>.SUFFIX` tag, each with its bytes (at most `limit`, or why not); no such tag
    /// is no layer. A registry error is recorded for the caller to report.
    async fn cosign_tag_layers(
        &self,
        suffix: &str,
        media_type: &str,
        max_layers: usize,
        limit: u64,
    ) -> Result<Vec<TagLayer>, String> {
        let tag = format!("{}.{suffix}", crate::oci::digest_tag(&self.subject.digest));
        let manifest = match self.source.manifest(&self.repository, &tag).await {
            Ok(m) => m,
            Err(crate::error::Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(self.record(e)),
        };
        let mut out = Vec::new();
        for (index, layer) in manifest.manifest.layers().iter().enumerate().take(max_layers) {
            if layer.media_type != media_type {
                continue;
            }
            let bytes =
                self.source.blob(&self.repository, layer, limit).await.map(|b| b.to_vec()).map_err(|e| e.to_string());
            out.push(TagLayer { manifest: manifest.descriptor.digest.clone(), index, layer: layer.clone(), bytes });
        }
        Ok(out)
    }
}

/// One layer of a cosign tag (`.sig`, `.att`): the manifest holding it, its index, the layer.
struct TagLayer {
    manifest: String,
    index: usize,
    layer: Descriptor,
    bytes: Result<Vec<u8>, String>,
}

/// One layer of the `.att` tag: the manifest holding it, its index, its envelope.
#[derive(Clone)]
struct CosignAttestation {
    manifest: String,
    layer: usize,
    envelope: Result<Vec<u8>, String>,
    /// The layer's certificate annotation: with a key given, it must be the key's.
    certificate: Option<String>,
}

/// Envelopes and referrer contents above this are refused, as Kyverno's Notary verifier refuses
/// predicates over 10 MB.
const MAX_ATTESTATION_BYTES: u64 = 10 * 1024 * 1024;

/// Kyverno's `maxReferrersCount` for Notary attestations.
const MAX_REFERRERS: usize = 50;

/// Layers of the `.att` tag examined at most.
const MAX_ATTESTATION_LAYERS: usize = 50;

impl ImageSignatures {
    fn record(&self, e: crate::error::Error) -> String {
        let text = e.to_string();
        *self.registry_error.lock().expect("error lock") = Some(e);
        text
    }

    async fn cosign_attestations(&self) -> Result<Vec<CosignAttestation>, String> {
        self.attestations
            .get_or_init(|| async {
                let layers = self
                    .cosign_tag_layers("att", crate::oci::media::DSSE, MAX_ATTESTATION_LAYERS, MAX_ATTESTATION_BYTES)
                    .await?;
                Ok(layers
                    .into_iter()
                    .map(|l| CosignAttestation {
                        certificate: l.layer.annotations.get(crate::oci::annotations::COSIGN_CERTIFICATE).cloned(),
                        manifest: l.manifest,
                        layer: l.index,
                        envelope: l.bytes,
                    })
                    .collect())
            })
            .await
            .clone()
    }

    async fn referrers(&self) -> Result<Vec<Descriptor>, String> {
        self.referrers
            .get_or_init(|| async {
                crate::verify::referrers_every_route(self.source.as_ref(), &self.repository, &self.subject.digest)
                    .await
                    .map_err(|e| self.record(e))
            })
            .await
            .clone()
    }

    /// The Notation check of `subject`'s signatures against `certs_pem`, as [`AttestorCheck::notary`].
    async fn notary_of(&self, certs_pem: &str, subject: &Descriptor, signatures: &[SignatureInput]) -> EntryResult {
        let fail = EntryResult::failed;
        let mut stores = MemoryStores::new();
        if let Err(e) = stores.add("ca:kyverno", certs_pem.as_bytes()) {
            return fail(format!("the attestor's certificates cannot be a trust store: {e}"));
        }
        let policy = match TrustPolicy::parse(KYVERNO_POLICY) {
            Ok(p) => p,
            Err(e) => return EntryResult::not_replayed(format!("internal trust policy: {e}")),
        };
        let verifier = Verifier::with_options(policy, Arc::new(stores), VerifierOptions::new(self.revocation.clone()));
        let scope = self.source.repository_ref(&self.repository);
        let report = verifier.verify_artifact(&scope, subject, signatures, self.now).await;
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
                (ReplayOutcome::Pass, "a Notation signature verifies against these certificates".to_string())
            }
            Verdict::NoSignature => (ReplayOutcome::Fail, format!("no Notation signature of {}", subject.digest)),
            Verdict::Failed { reason, .. } => (
                ReplayOutcome::Fail,
                format!(
                    "none of the {} Notation signature(s) verifies against these certificates: {}",
                    report.signatures.len(),
                    sanitize(reason)
                ),
            ),
            Verdict::Skipped | Verdict::NotEvaluated { .. } => {
                (ReplayOutcome::NotReplayed, format!("not evaluated: {}", report.verdict.word()))
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
        let (outcome, reason) = match (outcome, intermediate_in_store(certs_pem, signatures)) {
            (ReplayOutcome::Fail, Some(digest)) => (
                ReplayOutcome::NotReplayed,
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

    /// Kyverno's `extractStatement`: the referrer's manifest as a map, its `type` the
    /// artifactType, its `predicate` the one layer's JSON.
    async fn referrer_statement(
        &self,
        referrer: &Descriptor,
        artifact_type: &str,
    ) -> Result<serde_json::Value, String> {
        let fetched = self.source.manifest(&self.repository, &referrer.digest).await.map_err(|e| e.to_string())?;
        let layers = fetched.manifest.layers();
        let layer = match layers {
            [] => return Err("no predicate found: the referrer has no layer".into()),
            [one] => one,
            _ => return Err(format!("multiple layers in predicate not supported ({} layers)", layers.len())),
        };
        if layer.size > MAX_ATTESTATION_BYTES {
            return Err(format!("predicate size {} exceeds {MAX_ATTESTATION_BYTES}", layer.size));
        }
        let bytes =
            self.source.blob(&self.repository, layer, MAX_ATTESTATION_BYTES).await.map_err(|e| e.to_string())?;
        let predicate: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("the referrer's content is not JSON ({e})"))?;
        if !predicate.is_object() {
            return Err("the referrer's content is not a JSON object".into());
        }
        let mut data: serde_json::Value = serde_json::from_slice(&fetched.raw).map_err(|e| e.to_string())?;
        if let Some(m) = data.as_object_mut() {
            m.entry("type").or_insert_with(|| artifact_type.into());
            m.entry("predicate").or_insert(predicate);
        }
        Ok(data)
    }
}

impl ImageSignatures {
    /// Kyverno's Cosign check of the `.sig` signatures with one key (from publicKeys or from a
    /// certificate).
    async fn cosign_with(&self, key: &crate::cosign::CosignKey, how: CosignLookup) -> EntryResult {
        let (subject, now) = (self.subject.digest.clone(), self.now);
        self.cosign_layers(how, &|s: &CosignSignature| key_verdict(key, s, &subject, how.ignore_tlog, now)).await
    }

    /// The signatures where cosign looks (the OCI 1.1 referrer first with `cosignOCI11`, then
    /// the `.sig` tag), each judged by `judge`.
    async fn cosign_layers(
        &self,
        how: CosignLookup,
        judge: &(dyn Fn(&CosignSignature) -> LayerVerdict + Sync),
    ) -> EntryResult {
        let mut tally = Tally::default();
        if how.oci11 {
            // cosign takes the referrer's signatures when one verifies; on any failure it falls
            // back to the `.sig` tag.
            match self.cosign_oci11_signatures().await {
                Ok(Some(signatures)) => {
                    let mut first = Tally::default();
                    first.judge(&signatures, judge);
                    if first.verified {
                        return first.result(how.ignore_tlog);
                    }
                    // A referrer not decided here might verify there: that stays unknown.
                    tally.unknown = first.unknown;
                    tally.lines = first.lines;
                    tally.failed_checks = first.failed_checks;
                    tally.lines.push(format!(
                        "no signature of the OCI 1.1 referrer verifies ({} layer(s)): Kyverno falls back to the .sig tag",
                        signatures.len()
                    ));
                }
                Ok(None) => tally.lines.push(format!(
                    "no OCI 1.1 referrer of type {}: Kyverno falls back to the .sig tag",
                    crate::oci::media::COSIGN_ARTIFACT_SIG
                )),
                Err(e) => tally.lines.push(format!(
                    "the OCI 1.1 referrers could not be read ({}): Kyverno falls back to the .sig tag",
                    sanitize(&e)
                )),
            }
        }
        let signatures = match self.cosign_signatures().await {
            Ok(s) => s,
            Err(e) => return EntryResult::not_replayed(format!("the cosign signatures could not be read: {e}")),
        };
        if signatures.is_empty() {
            let where_ = if how.oci11 { "no OCI 1.1 signature verifies, and the tag" } else { "the tag" };
            return EntryResult {
                signatures: tally.lines,
                failed_checks: tally.failed_checks,
                ..EntryResult::failed(format!(
                    "no cosign signature: {where_} {}.sig holds no simple-signing layer",
                    crate::oci::digest_tag(&self.subject.digest)
                ))
            };
        }
        tally.judge(&signatures, judge);
        tally.result(how.ignore_tlog)
    }
}

/// How one signature layer fared.
enum LayerVerdict {
    Verified(String),
    /// The check it failed (`authenticity`, `integrity`, `format`, `expiry`) and why.
    Failed(&'static str, String),
    /// What keeps it from being decided here.
    Unknown(String),
}

/// The verdicts of the layers examined.
#[derive(Default)]
struct Tally {
    verified: bool,
    examined: usize,
    unknown: Option<String>,
    lines: Vec<String>,
    failed_checks: Vec<String>,
}

impl Tally {
    fn judge(&mut self, signatures: &[CosignSignature], judge: &(dyn Fn(&CosignSignature) -> LayerVerdict + Sync)) {
        for s in signatures {
            self.examined += 1;
            let at = short_digest(&s.manifest);
            match judge(s) {
                LayerVerdict::Verified(how) => {
                    self.verified = true;
                    self.lines.push(format!("cosign signature in {at} {how}"));
                }
                LayerVerdict::Failed(check, why) => {
                    self.failed_checks.push(check.to_string());
                    self.lines.push(format!("cosign signature in {at} fails: {}", sanitize(&why)));
                }
                LayerVerdict::Unknown(why) => {
                    self.lines.push(format!("cosign signature in {at} is not decided here: {}", sanitize(&why)));
                    self.unknown.get_or_insert(why);
                }
            }
        }
    }

    fn result(self, ignore_tlog: bool) -> EntryResult {
        match (&self.unknown, self.verified) {
            (Some(why), false) => EntryResult {
                signatures: self.lines,
                failed_checks: self.failed_checks,
                ..EntryResult::not_replayed(format!("no cosign signature verifies, and one is not decided here: {why}"))
            },
            _ => cosign_result(self.verified, ignore_tlog, self.examined, self.lines, self.failed_checks),
        }
    }
}

/// The embedded SCT list extension of a certificate (RFC 6962).
const SCT_LIST_OID: &str = "1.3.6.1.4.1.11129.2.4.2";

/// At most this many certificates between a leaf and its root, as cosign's cap.
const MAX_COSIGN_CHAIN: usize = 10;

/// A layer checked as cosign checks it for a `certChain` attestor without `cert`: its own
/// certificate (the `dev.sigstore.cosign/certificate` annotation; the `…/chain` annotation's
/// certificates but the last as intermediates) must chain to one of `anchors` — every
/// certificate of the attestor's certChain is a trust anchor — at the certificate's notBefore,
/// carry an embedded SCT unless `ignore_sct`, verify the signature, and be valid now (no Rekor
/// or timestamp time replaces now here).
fn chain_verdict(
    s: &CosignSignature,
    anchors: &[Vec<u8>],
    subject: &str,
    now: chrono::DateTime<chrono::Utc>,
    ignore_tlog: bool,
    ignore_sct: bool,
) -> LayerVerdict {
    use LayerVerdict::{Failed, Unknown};
    use x509_cert::der::{Decode as _, Encode as _};
    let (Ok(payload), Some(signature)) = (&s.payload, &s.signature) else {
        return Failed("format", "the layer has no readable payload and signature annotation".into());
    };
    let Some(pem) = &s.certificate else {
        return Failed("format", "no certificate found on signature".into());
    };
    let split = |t: &str| crate::notation::truststore::split_certificates(t.as_bytes());
    let leaf_der = match split(pem) {
        Ok(c) if !c.is_empty() => c[0].clone(),
        _ => return Failed("format", "the signature's certificate annotation is not a PEM certificate".into()),
    };
    let mut intermediates = match s.chain.as_deref().map(split).transpose() {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => return Failed("format", format!("the signature's chain annotation: {e}")),
    };
    if intermediates.len() > 1 {
        intermediates.pop();
    } else {
        intermediates.clear();
    }
    let parse = |der: &[u8]| x509_cert::Certificate::from_der(der).ok();
    let Some(leaf) = parse(&leaf_der) else {
        return Failed("format", "the signature's certificate does not parse as X.509".into());
    };
    // The path by names, up to a self-signed certificate; where it first meets an anchor.
    let mut path = vec![leaf_der.clone()];
    let mut first_anchor = None;
    let mut current = leaf.clone();
    loop {
        let tbs = &current.tbs_certificate;
        if tbs.issuer == tbs.subject && path.len() > 1 {
            break;
        }
        if path.len() > MAX_COSIGN_CHAIN + 1 {
            return Failed("authenticity", "the certificate chain is longer than cosign accepts".into());
        }
        let parent = anchors.iter().map(|d| (d, true)).chain(intermediates.iter().map(|d| (d, false))).find_map(
            |(d, anchor)| parse(d).filter(|c| c.tbs_certificate.subject == tbs.issuer).map(|c| (d, c, anchor)),
        );
        let Some((der, cert, anchor)) = parent else {
            if first_anchor.is_some() {
                return Unknown(
                    "the certificate chains to a certificate of the certChain that is not a root; sigscope checks \
                     chains up to a root"
                        .into(),
                );
            }
            return Failed(
                "authenticity",
                "x509: certificate signed by unknown authority: it chains to no certificate of the attestor's certChain"
                    .into(),
            );
        };
        if path.contains(der) {
            return Failed("authenticity", "the certificate chain loops".into());
        }
        if anchor && first_anchor.is_none() {
            first_anchor = Some(path.len());
        }
        path.push(der.clone());
        current = cert;
    }
    let Some(anchor_at) = first_anchor else {
        return Failed("authenticity", "x509: certificate signed by unknown authority".into());
    };
    let whole_path = anchor_at == path.len() - 1;
    let not_before = crate::notation::timestamp::sigverify::to_utc(leaf.tbs_certificate.validity.not_before);
    match crate::notation::chain::validate(&path) {
        Err(e) => {
            return Unknown(format!(
                "the chain is refused under sigscope's chain rules ({e}), which are stricter than cosign's in places"
            ));
        }
        Ok(valid) => {
            if let Some(why) = valid.invalid_at(not_before, "the certificate's notBefore") {
                return if whole_path { Failed("expiry", why) } else { Unknown(why) };
            }
        }
    }
    if !ignore_sct {
        let has_sct = leaf.tbs_certificate.extensions.iter().flatten().any(|e| e.extn_id.to_string() == SCT_LIST_OID);
        if has_sct {
            return Unknown("its embedded SCT needs the CT log's key, which sigscope does not have".into());
        }
        return Failed(
            "format",
            "certificate does not include required embedded SCT and no detached SCT was set (ctlog.ignoreSCT is not \
             set)"
                .into(),
        );
    }
    let key = match leaf
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())
        .and_then(|spki| crate::cosign::CosignKey::from_spki_der(&spki).map_err(|e| e.to_string()))
    {
        Ok(k) => k,
        Err(e) => return Failed("format", format!("the certificate's key: {e}")),
    };
    if let Err(e) = crate::cosign::verify(&key, payload, signature, subject) {
        let check = match e {
            crate::cosign::DsseError::Subject(_) => "integrity",
            crate::cosign::DsseError::Signature(_) => "authenticity",
            crate::cosign::DsseError::Malformed(_) => "format",
        };
        return Failed(check, e.to_string());
    }
    let not_after = crate::notation::timestamp::sigverify::to_utc(leaf.tbs_certificate.validity.not_after);
    if now < not_before || now > not_after {
        let why = format!(
            "its certificate is valid from {} to {}",
            not_before.format("%Y-%m-%d %H:%M:%S UTC"),
            not_after.format("%Y-%m-%d %H:%M:%S UTC")
        );
        return if ignore_tlog {
            Failed("expiry", format!("expected a signed timestamp to verify an expired certificate: {why}"))
        } else {
            Unknown(format!("{why}; the Rekor entry's time, which sigscope does not read, would decide"))
        };
    }
    LayerVerdict::Verified(format!(
        "verifies with its certificate {}, which chains to the attestor's certChain",
        leaf.tbs_certificate.subject
    ))
}

/// A layer checked with a static key, as cosign's `verifyInternal` checks it for Kyverno: the
/// signature and the digest it names; a certificate annotation beside it is held to its
/// validity now (no Rekor or timestamp time here). cosign compares that certificate's key with
/// the given key only on its way to the transparency log: with `ignore_tlog` a certificate for
/// another key does not fail the layer; without, it fails from cosign 3 (Kyverno 1.17) and
/// not before, so it is not decided.
fn key_verdict(
    key: &crate::cosign::CosignKey,
    s: &CosignSignature,
    subject: &str,
    ignore_tlog: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> LayerVerdict {
    let result = match (&s.payload, &s.signature) {
        (Err(e), _) => Err(crate::cosign::DsseError::Malformed(format!("its payload could not be read: {e}"))),
        (_, None) => Err(crate::cosign::DsseError::Malformed("the layer has no signature annotation".into())),
        (Ok(p), Some(sig)) => crate::cosign::verify(key, p, sig, subject),
    };
    if let Err(e) = result {
        let check = match e {
            crate::cosign::DsseError::Subject(_) => "integrity",
            crate::cosign::DsseError::Signature(_) => "authenticity",
            crate::cosign::DsseError::Malformed(_) => "format",
        };
        return LayerVerdict::Failed(check, e.to_string());
    }
    certificate_beside(s.certificate.as_deref(), key, ignore_tlog, now)
        .unwrap_or_else(|| LayerVerdict::Verified("verifies with the key".into()))
}

/// What cosign makes of a certificate annotation beside a signature verified with a given key
/// (`None`: nothing, the layer stands): it must be valid now (no Rekor or timestamp time here);
/// its key is compared with the given one only on cosign's way to the transparency log — with
/// `ignore_tlog` not at all, without it from cosign 3 (Kyverno 1.17) and not before, so a
/// mismatch is then not decided.
fn certificate_beside(
    pem: Option<&str>,
    key: &crate::cosign::CosignKey,
    ignore_tlog: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<LayerVerdict> {
    use x509_cert::der::DecodePem as _;
    let pem = pem?;
    let Ok(cert) = x509_cert::Certificate::from_pem(pem.trim()) else {
        return Some(LayerVerdict::Failed(
            "format",
            "the signature's certificate annotation is not a PEM certificate".into(),
        ));
    };
    let validity = &cert.tbs_certificate.validity;
    let (from, to) = (
        crate::notation::timestamp::sigverify::to_utc(validity.not_before),
        crate::notation::timestamp::sigverify::to_utc(validity.not_after),
    );
    if now < from || now > to {
        let why = format!(
            "the certificate beside it is valid from {} to {}",
            from.format("%Y-%m-%d %H:%M:%S UTC"),
            to.format("%Y-%m-%d %H:%M:%S UTC")
        );
        return Some(if ignore_tlog {
            LayerVerdict::Failed(
                "expiry",
                format!("expected a signed timestamp to verify an expired certificate: {why}"),
            )
        } else {
            LayerVerdict::Unknown(format!("{why}; the Rekor entry's time, which sigscope does not read, would decide"))
        });
    }
    match crate::cosign::certificate_is_key(Some(pem), key) {
        Ok(()) => None,
        Err(_) if ignore_tlog => Some(LayerVerdict::Verified(
            "verifies with the key (its certificate annotation is for another key, which Kyverno does not compare \
             with rekor.ignoreTlog)"
                .into(),
        )),
        Err(e) => Some(LayerVerdict::Unknown(format!(
            "{e}; cosign refuses that on its way to the transparency log from version 3 (Kyverno 1.17), not before"
        ))),
    }
}

/// A cosign attestor entry's result from what its signatures gave.
fn cosign_result(
    verified: bool,
    ignore_tlog: bool,
    examined: usize,
    lines: Vec<String>,
    failed_checks: Vec<String>,
) -> EntryResult {
    let (outcome, reason) = match (verified, ignore_tlog) {
        (true, true) => (ReplayOutcome::Pass, "a cosign signature verifies with the key".to_string()),
        (true, false) => (
            ReplayOutcome::NotReplayed,
            "a cosign signature verifies with the key, but Kyverno also requires its Rekor transparency-log entry \
             (rekor.ignoreTlog is not set), which sigscope does not check"
                .to_string(),
        ),
        (false, _) => {
            (ReplayOutcome::Fail, format!("none of the {examined} cosign signature(s) verifies with the key"))
        }
    };
    EntryResult { outcome, reason, signatures: lines, failed_checks, signers: Vec::new() }
}

#[async_trait::async_trait]
impl AttestorCheck for ImageSignatures {
    async fn cosign_key(&self, public_key_pem: &str, how: CosignLookup) -> EntryResult {
        match crate::cosign::CosignKey::from_pem(public_key_pem) {
            Ok(key) => self.cosign_with(&key, how).await,
            Err(e) => EntryResult::failed(format!("the attestor's public key: {e}")),
        }
    }

    async fn cosign_certificate(&self, cert_pem: &str, chain_pem: Option<&str>, how: CosignLookup) -> EntryResult {
        let key = match certificate_key(cert_pem, chain_pem, how.ignore_sct) {
            Ok(k) => k,
            Err(result) => return result,
        };
        let mut result = self.cosign_with(&key, how).await;
        result.reason = result.reason.replace("with the key", "with the attestor's certificate");
        result
    }

    async fn cosign_chain(&self, chain_pem: &str, how: CosignLookup) -> EntryResult {
        let anchors = match crate::notation::truststore::split_certificates(chain_pem.as_bytes()) {
            Ok(a) if !a.is_empty() => a,
            Ok(_) => return EntryResult::failed("the attestor's certChain holds no certificate"),
            Err(e) => return EntryResult::failed(format!("the attestor's certChain: {e}")),
        };
        let subject = self.subject.digest.clone();
        let now = self.now;
        let judge = |s: &CosignSignature| chain_verdict(s, &anchors, &subject, now, how.ignore_tlog, how.ignore_sct);
        let mut result = self.cosign_layers(how, &judge).await;
        result.reason = result.reason.replace("with the key", "with its certificate under the attestor's certChain");
        result
    }

    async fn notary(&self, certs_pem: &str) -> EntryResult {
        let signatures = match self.signatures().await {
            Ok(s) => s,
            Err(e) => return EntryResult::not_replayed(format!("the signatures could not be read: {e}")),
        };
        self.notary_of(certs_pem, &self.subject, &signatures).await
    }

    async fn notary_attestations(
        &self,
        certs_pem: &str,
        artifact_type: &str,
    ) -> Result<Vec<AttestationFetch>, EntryResult> {
        let referrers = match self.referrers().await {
            Ok(r) => r,
            Err(e) => return Err(EntryResult::not_replayed(format!("the referrers could not be read: {e}"))),
        };
        if referrers.len() > MAX_REFERRERS {
            return Err(EntryResult::failed(format!(
                "failed to fetch referrers: too many referrers found, max limit is {MAX_REFERRERS}"
            )));
        }
        let mut out = Vec::new();
        for r in referrers.iter().filter(|r| r.artifact_type.as_deref() == Some(artifact_type)) {
            let subject = Descriptor {
                media_type: r.media_type.clone(),
                digest: r.digest.clone(),
                size: r.size,
                ..Default::default()
            };
            let signatures =
                match crate::verify::notation_signatures(self.source.as_ref(), &self.repository, &subject).await {
                    Ok(mut s) => {
                        s.truncate(MAX_SIGNATURE_ATTEMPTS);
                        s
                    }
                    Err(e) => {
                        let text = self.record(e);
                        out.push(AttestationFetch {
                            from: format!("referrer {}", short_digest(&r.digest)),
                            signature: EntryResult::not_replayed(format!(
                                "the signatures of referrer {} could not be read: {text}",
                                short_digest(&r.digest)
                            )),
                            statements: Vec::new(),
                        });
                        continue;
                    }
                };
            let mut signature = self.notary_of(certs_pem, &subject, &signatures).await;
            let mut statements = Vec::new();
            if signature.outcome == ReplayOutcome::Pass {
                match self.referrer_statement(r, artifact_type).await {
                    Ok(statement) => statements
                        .push(FoundStatement { from: format!("referrer {}", short_digest(&r.digest)), statement }),
                    Err(e) => {
                        signature.outcome = ReplayOutcome::Fail;
                        signature.reason = format!("referrer {}: {}", short_digest(&r.digest), sanitize(&e));
                    }
                }
            } else {
                signature.reason = format!("referrer {}: {}", short_digest(&r.digest), signature.reason);
            }
            out.push(AttestationFetch { from: format!("referrer {}", short_digest(&r.digest)), signature, statements });
        }
        Ok(out)
    }

    async fn cosign_key_attestations(&self, public_key_pem: &str, ignore_tlog: bool) -> AttestationFetch {
        match crate::cosign::CosignKey::from_pem(public_key_pem) {
            Ok(key) => self.attestations_with(&key, ignore_tlog).await,
            Err(e) => AttestationFetch {
                from: format!("{}.att", crate::oci::digest_tag(&self.subject.digest)),
                signature: EntryResult::failed(format!("the attestor's public key: {e}")),
                statements: Vec::new(),
            },
        }
    }

    async fn cosign_certificate_attestations(
        &self,
        cert_pem: &str,
        chain_pem: Option<&str>,
        how: CosignLookup,
    ) -> AttestationFetch {
        match certificate_key(cert_pem, chain_pem, how.ignore_sct) {
            Ok(key) => {
                let mut fetched = self.attestations_with(&key, how.ignore_tlog).await;
                fetched.signature.reason =
                    fetched.signature.reason.replace("with the key", "with the attestor's certificate");
                fetched
            }
            Err(signature) => AttestationFetch {
                from: format!("{}.att", crate::oci::digest_tag(&self.subject.digest)),
                signature,
                statements: Vec::new(),
            },
        }
    }
}

impl ImageSignatures {
    /// The `.att` tag's DSSE layers verified with `key`, as Kyverno's `FetchAttestations`.
    async fn attestations_with(&self, key: &crate::cosign::CosignKey, ignore_tlog: bool) -> AttestationFetch {
        let tag = format!("{}.att", crate::oci::digest_tag(&self.subject.digest));
        let fetch = |signature| AttestationFetch { from: tag.clone(), signature, statements: Vec::new() };
        let layers = match self.cosign_attestations().await {
            Ok(l) => l,
            Err(e) => {
                return fetch(EntryResult::not_replayed(format!("the cosign attestations could not be read: {e}")));
            }
        };
        if layers.is_empty() {
            return fetch(EntryResult::failed(format!("no cosign attestation: the tag {tag} holds no DSSE layer")));
        }
        let mut lines = Vec::new();
        let mut failed_checks = Vec::new();
        let mut statements = Vec::new();
        let mut undecided = None;
        for l in &layers {
            let from = format!("layer {} of {tag} ({})", l.layer, short_digest(&l.manifest));
            let result = match &l.envelope {
                Err(e) => Err(crate::cosign::DsseError::Malformed(format!("it could not be read: {e}"))),
                Ok(bytes) => crate::cosign::verify_attestation(key, bytes, &self.subject.digest),
            };
            let beside = result
                .as_ref()
                .ok()
                .and_then(|_| certificate_beside(l.certificate.as_deref(), key, ignore_tlog, self.now));
            let result = match beside {
                Some(LayerVerdict::Failed(_, why)) => Err(crate::cosign::DsseError::Malformed(why)),
                Some(LayerVerdict::Unknown(why)) => {
                    lines.push(format!("{from}: not decided here: {}", sanitize(&why)));
                    undecided.get_or_insert(why);
                    continue;
                }
                Some(LayerVerdict::Verified(note)) => {
                    lines.push(format!("{from}: {}", sanitize(&note)));
                    result
                }
                None => result,
            };
            match result {
                Ok(mut statement) => {
                    let t = statement["predicateType"].clone();
                    let shown = t.as_str().map(sanitize).unwrap_or_default().into_owned();
                    lines.push(format!("{from}: verifies with the key, predicateType {shown}"));
                    // Kyverno's decodeStatement: the statement's `type` is its predicateType.
                    statement["type"] = t;
                    statements.push(FoundStatement { from, statement });
                }
                Err(e) => {
                    failed_checks.push(
                        match e {
                            crate::cosign::DsseError::Subject(_) => "integrity",
                            crate::cosign::DsseError::Signature(_) => "authenticity",
                            crate::cosign::DsseError::Malformed(_) => "format",
                        }
                        .to_string(),
                    );
                    lines.push(format!("{from}: fails: {}", sanitize(&e.to_string())));
                }
            }
        }
        let (outcome, reason) = match (statements.is_empty(), ignore_tlog) {
            (true, _) if undecided.is_some() => (
                ReplayOutcome::NotReplayed,
                format!("no attestation verifies, and one is not decided here: {}", undecided.unwrap_or_default()),
            ),
            (true, _) => (
                ReplayOutcome::Fail,
                format!(
                    "no matching attestations: none of the {} in {tag} verifies with the key for this image",
                    layers.len()
                ),
            ),
            (false, true) => (ReplayOutcome::Pass, format!("{} attestation(s) verify with the key", statements.len())),
            (false, false) => (
                ReplayOutcome::NotReplayed,
                "attestations verify with the key, but Kyverno also requires their Rekor transparency-log entries \
                 (rekor.ignoreTlog is not set), which sigscope does not check"
                    .to_string(),
            ),
        };
        AttestationFetch {
            from: tag,
            signature: EntryResult { outcome, reason, signatures: lines, failed_checks, signers: Vec::new() },
            statements,
        }
    }
}

/// The key of a Kyverno `certificates.cert`, as Kyverno's cosign options take it: alone, just its
/// key (`signature.LoadVerifier`: no validity or chain check); with `chain_pem`, through cosign's
/// `ValidateAndUnpackCertWithChain` — the chain's last certificate the root, the rest
/// intermediates, the path valid at the certificate's notBefore, and an embedded SCT required
/// unless `ignore_sct`. The chain rules are Notation's, stricter than cosign's in places: a chain
/// they refuse is "not replayed", never a pass.
fn certificate_key(
    cert_pem: &str,
    chain_pem: Option<&str>,
    ignore_sct: bool,
) -> Result<crate::cosign::CosignKey, EntryResult> {
    use x509_cert::der::{Decode as _, Encode as _};
    let split = |pem: &str| crate::notation::truststore::split_certificates(pem.as_bytes());
    let cert_der = match split(cert_pem) {
        Ok(certs) if !certs.is_empty() => certs[0].clone(),
        Ok(_) => return Err(EntryResult::failed("the attestor's cert holds no certificate")),
        Err(e) => return Err(EntryResult::failed(format!("the attestor's cert: {e}"))),
    };
    let cert = x509_cert::Certificate::from_der(&cert_der)
        .map_err(|e| EntryResult::failed(format!("the attestor's cert is not X.509: {e}")))?;
    if let Some(chain) = chain_pem {
        let not_before = crate::notation::timestamp::sigverify::to_utc(cert.tbs_certificate.validity.not_before);
        let mut ders = vec![cert_der.clone()];
        match split(chain) {
            Ok(c) => ders.extend(c.into_iter().filter(|d| *d != cert_der)),
            Err(e) => return Err(EntryResult::failed(format!("the attestor's certChain: {e}"))),
        }
        match crate::notation::chain::validate(&ders) {
            Ok(valid) => {
                if let Some(why) = valid.invalid_at(not_before, "the certificate's notBefore") {
                    return Err(EntryResult::failed(format!("the attestor's certChain: {why}")));
                }
            }
            Err(e) => {
                return Err(EntryResult::not_replayed(format!(
                    "the attestor's cert does not chain to its certChain under the rules sigscope checks ({e}); \
                     cosign's own rules differ in places, so this entry is not decided here"
                )));
            }
        }
        if !ignore_sct {
            let has_sct =
                cert.tbs_certificate.extensions.iter().flatten().any(|e| e.extn_id.to_string() == SCT_LIST_OID);
            return Err(if has_sct {
                EntryResult::not_replayed(
                    "the attestor's certificate carries an embedded SCT, which needs the CT log's key: not decided here",
                )
            } else {
                EntryResult::failed(
                    "certificate does not include required embedded SCT and no detached SCT was set (cosign checks \
                     it for a cert with a certChain unless ctlog.ignoreSCT is set)",
                )
            });
        }
    }
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| EntryResult::failed(format!("the attestor's cert: {e}")))?;
    crate::cosign::CosignKey::from_spki_der(&spki)
        .map_err(|e| EntryResult::failed(format!("the attestor's certificate key: {e}")))
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
