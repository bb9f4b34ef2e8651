//! cosign verification of one artifact with static keys, like `cosign verify --key`: every place
//! cosign stores a signature is read — the legacy `sha256-<hex>.sig` tag's simple-signing layers,
//! the same payloads as OCI 1.1 referrers, and cosign v3's Sigstore bundles as referrers (by
//! the API and the tag schema) — and each signature is checked with each key. Rekor is an
//! online service: its entries are counted and said to be unchecked, never taken as checked.

use serde::Serialize;

use crate::cosign::bundle::{self, BundleContent};
use crate::cosign::{CosignKey, DsseError};
use crate::error::{Error, Result};
use crate::oci::{Descriptor, annotations, digest_tag, media, short_digest};
use crate::sanitize::sanitize;
use crate::source::Source;

/// cosign's payloads above this are not simple signing.
pub const MAX_PAYLOAD_BYTES: u64 = 64 * 1024;

/// Signatures examined per artifact at most (as [`super::MAX_SIGNATURES`] for Notation).
pub const MAX_SIGNATURES: usize = super::MAX_SIGNATURES;

/// The artifactType of cosign's legacy signature pushed as an OCI 1.1 referrer.
const COSIGN_SIG_ARTIFACT: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// A key given with `--cosign-key`: where it came from (to name it) and the key.
pub struct NamedKey {
    pub name: String,
    pub key: CosignKey,
}

impl std::fmt::Debug for NamedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NamedKey({:?}, {})", self.name, self.key.fingerprint())
    }
}

impl NamedKey {
    /// Reads a PEM public key file (through `fsread`: a FIFO or a huge file is refused).
    pub fn read(path: &std::path::Path) -> Result<NamedKey> {
        let pem = crate::fsread::read_to_string(path, 64 * 1024, crate::fsread::Symlinks::Follow)
            .map_err(|e| Error::Usage(format!("--cosign-key: {e}")))?;
        let key =
            CosignKey::from_pem(&pem).map_err(|e| Error::Usage(format!("--cosign-key {}: {e}", path.display())))?;
        Ok(NamedKey { name: path.display().to_string(), key })
    }
}

/// The result of checking one artifact's cosign signatures.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CosignReport {
    pub verdict: CosignVerdict,
    /// The keys checked with, by fingerprint (`SHA256:` base64 of the SPKI's digest).
    pub keys: Vec<String>,
    /// Image signatures: simple-signing layers and bundles of cosign's signature predicate.
    pub signatures: Vec<CosignSignatureReport>,
    /// Bundles holding any other statement about the image (attestations): listed, and shown
    /// verified or not, but they do not sign the image.
    pub attestations: Vec<CosignSignatureReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum CosignVerdict {
    /// A signature verifies with one of the keys and names this artifact.
    Verified { reason: String },
    /// There are signatures, none verifies.
    Failed { reason: String },
    /// No cosign signature was found anywhere cosign stores one.
    NoSignature,
}

impl CosignVerdict {
    pub fn word(&self) -> &'static str {
        match self {
            CosignVerdict::Verified { .. } => "verified",
            CosignVerdict::Failed { .. } => "not verified",
            CosignVerdict::NoSignature => "no cosign signature",
        }
    }

    pub fn passed(&self) -> bool {
        matches!(self, CosignVerdict::Verified { .. })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CosignSignatureReport {
    /// Where it was found: `sha256-….sig layer 0`, `referrer sha256:…`.
    pub location: String,
    /// The manifest holding it.
    pub manifest: String,
    /// `simple-signing` or the Sigstore bundle's media type.
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// `pass` or `fail`.
    pub outcome: &'static str,
    /// The fingerprint of the key it verifies with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub reason: String,
    /// What of the transparency log there is: never checked here.
    pub transparency_log: String,
}

/// One signature as found, before any key is tried.
struct Found {
    location: String,
    manifest: String,
    bytes: std::result::Result<Vec<u8>, String>,
    kind: FoundKind,
}

enum FoundKind {
    SimpleSigning { signature: Option<String>, certificate: Option<String>, rekor: bool },
    Bundle,
}

/// Finds the cosign signatures of `subject` and checks each with `keys`. The error is a registry
/// failure that kept them from being listed; a signature that cannot be read fails by itself.
pub async fn verify_cosign(
    source: &dyn Source,
    repository: &str,
    subject: &Descriptor,
    keys: &[NamedKey],
) -> Result<CosignReport> {
    let found = find(source, repository, &subject.digest).await?;
    let mut signatures = Vec::new();
    let mut attestations = Vec::new();
    for f in &found {
        let (report, is_signature) = check(f, keys, &subject.digest);
        if is_signature { signatures.push(report) } else { attestations.push(report) }
    }
    let verdict = match signatures.iter().find(|s| s.outcome == "pass") {
        Some(s) => CosignVerdict::Verified {
            reason: format!(
                "the cosign signature at {} verifies with key {}; the transparency log was not consulted",
                s.location,
                s.key.as_deref().unwrap_or_default()
            ),
        },
        None if signatures.is_empty() => CosignVerdict::NoSignature,
        None => CosignVerdict::Failed {
            reason: format!(
                "none of the {} cosign signature(s) verifies with the key(s) given: {}",
                signatures.len(),
                signatures[0].reason
            ),
        },
    };
    Ok(CosignReport { verdict, keys: keys.iter().map(|k| k.key.fingerprint()).collect(), signatures, attestations })
}

/// Checks one found signature with every key; the first key it verifies with is named. Returns
/// whether it is an image signature (not an attestation).
fn check(f: &Found, keys: &[NamedKey], digest: &str) -> (CosignSignatureReport, bool) {
    let mut report = CosignSignatureReport {
        location: f.location.clone(),
        manifest: f.manifest.clone(),
        format: String::new(),
        predicate_type: None,
        outcome: "fail",
        key: None,
        reason: String::new(),
        transparency_log: String::new(),
    };
    let bytes = match &f.bytes {
        Ok(b) => b,
        Err(e) => {
            report.format = match f.kind {
                FoundKind::SimpleSigning { .. } => "simple-signing".into(),
                FoundKind::Bundle => "sigstore-bundle".into(),
            };
            report.reason = format!("it could not be read: {}", sanitize(e));
            report.transparency_log = "unknown".into();
            return (report, true);
        }
    };
    match &f.kind {
        FoundKind::SimpleSigning { signature, certificate, rekor } => {
            report.format = "simple-signing".into();
            report.transparency_log =
                if *rekor { "a Rekor bundle is attached, not checked (offline)" } else { "none attached" }.into();
            let mut worst = Worst::default();
            for k in keys {
                let result = match signature {
                    None => Err(DsseError::Malformed(
                        "the layer has no dev.cosignproject.cosign/signature annotation".into(),
                    )),
                    Some(sig) => crate::cosign::certificate_is_key(certificate.as_deref(), &k.key)
                        .map_err(DsseError::Signature)
                        .and_then(|()| crate::cosign::verify(&k.key, bytes, sig, digest)),
                };
                match result {
                    Ok(()) => {
                        report.outcome = "pass";
                        report.key = Some(k.key.fingerprint());
                        report.reason = format!("verifies with {}", sanitize(&k.name));
                        return (report, true);
                    }
                    Err(e) => worst.keep(e),
                }
            }
            report.reason = worst.reason();
            (report, true)
        }
        FoundKind::Bundle => {
            let peek: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
            report.format = peek["mediaType"].as_str().map(|m| sanitize(m).into_owned()).unwrap_or_default();
            let entries = peek["verificationMaterial"]["tlogEntries"].as_array().map_or(0, Vec::len);
            report.transparency_log = match entries {
                0 => "no entry in the bundle".into(),
                n => format!("{n} Rekor entr{} in the bundle, not checked (offline)", if n == 1 { "y" } else { "ies" }),
            };
            // Which predicate the bundle says it carries, to sort it before any key verifies it.
            report.predicate_type = dsse_predicate(&peek);
            let mut worst = Worst::default();
            for k in keys {
                match bundle::verify(&k.key, bytes, digest) {
                    Ok(claim) => {
                        report.outcome = "pass";
                        report.key = Some(k.key.fingerprint());
                        report.reason = format!("verifies with {}", sanitize(&k.name));
                        report.predicate_type = match &claim.content {
                            BundleContent::Dsse { predicate_type, .. } => Some(sanitize(predicate_type).into_owned()),
                            BundleContent::MessageSignature => None,
                        };
                        let is_signature = claim.is_signature();
                        return (report, is_signature);
                    }
                    Err(e) => worst.keep(e),
                }
            }
            report.reason = worst.reason();
            let is_signature = report.predicate_type.as_deref().is_none_or(|p| p == bundle::COSIGN_SIGN_PREDICATE);
            (report, is_signature)
        }
    }
}

/// Of the reasons the keys give, the one that says most: a key that made the signature but
/// for another image says more than the keys that did not make it.
#[derive(Default)]
struct Worst(Option<DsseError>);

impl Worst {
    fn keep(&mut self, e: DsseError) {
        let rank = |e: &DsseError| match e {
            DsseError::Signature(_) => 0,
            DsseError::Malformed(_) => 1,
            DsseError::Subject(_) => 2,
        };
        if self.0.as_ref().is_none_or(|w| rank(&e) > rank(w)) {
            self.0 = Some(e);
        }
    }

    fn reason(&self) -> String {
        self.0.as_ref().map_or_else(|| "no key was given".into(), |e| sanitize(&e.to_string()).into_owned())
    }
}

/// The predicateType a bundle's (unverified) statement names, if it holds one.
fn dsse_predicate(bundle: &serde_json::Value) -> Option<String> {
    use base64::Engine as _;
    let payload = bundle["dsseEnvelope"]["payload"].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(payload).ok()?;
    let statement: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    statement["predicateType"].as_str().map(|p| sanitize(p).into_owned())
}

/// Every cosign signature of `digest` in `repository`, at most [`MAX_SIGNATURES`].
async fn find(source: &dyn Source, repository: &str, digest: &str) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    let sig_tag = format!("{}.sig", digest_tag(digest));
    match source.manifest(repository, &sig_tag).await {
        Ok(m) => {
            let d = m.descriptor.digest.clone();
            simple_signing_layers(source, repository, &m.manifest, &d, &sig_tag, &mut out).await;
        }
        Err(Error::NotFound { .. }) => {}
        Err(e) => return Err(e),
    }
    let mut candidates: Vec<Descriptor> = super::referrers_every_route(source, repository, digest)
        .await?
        .into_iter()
        .filter(|r| match r.artifact_type.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => t.starts_with(media::SIGSTORE_BUNDLE_PREFIX) || t == COSIGN_SIG_ARTIFACT,
            // Untyped: only the manifest can tell.
            None => true,
        })
        .collect();
    // A registry listing thousands of referrers must not turn one check into thousands of
    // requests; what is left out is said, as a signature that could not be read.
    let total = candidates.len();
    candidates.truncate(MAX_SIGNATURES.saturating_sub(out.len()));
    if candidates.len() < total {
        out.push(Found {
            location: "referrers".into(),
            manifest: String::new(),
            bytes: Err(format!(
                "signature evaluation stopped: {total} referrers may be cosign signatures, only the first {} were \
                 examined",
                candidates.len()
            )),
            kind: FoundKind::Bundle,
        });
    }
    for r in candidates {
        let typed = r.artifact_type.as_deref().filter(|t| !t.is_empty());
        let location = format!("referrer {}", short_digest(&r.digest));
        let fetched = match source.manifest(repository, &r.digest).await {
            Ok(f) => f,
            Err(e) if typed.is_some() => {
                out.push(Found {
                    location,
                    manifest: r.digest.clone(),
                    bytes: Err(e.to_string()),
                    kind: FoundKind::Bundle,
                });
                continue;
            }
            // An untyped referrer that cannot be read is not known to be a signature.
            Err(_) => continue,
        };
        let m = &fetched.manifest;
        if m.subject.as_ref().is_some_and(|s| s.digest != digest) {
            continue;
        }
        let artifact = m.artifact_type.as_deref().or(m.config.as_ref().map(|c| c.media_type.as_str()));
        let layers = m.layers();
        if artifact == Some(COSIGN_SIG_ARTIFACT) {
            simple_signing_layers(source, repository, m, &r.digest, &location, &mut out).await;
            continue;
        }
        // A bundle by its artifactType, or by its one layer (tag-schema indexes lose annotations
        // and older pushers leave artifactType out).
        let is_bundle = artifact.is_some_and(|t| t.starts_with(media::SIGSTORE_BUNDLE_PREFIX))
            || layers.first().is_some_and(|l| l.media_type.starts_with(media::SIGSTORE_BUNDLE_PREFIX));
        if !is_bundle {
            continue;
        }
        let bytes = match layers {
            [one] => source
                .blob(repository, one, bundle::MAX_BUNDLE_BYTES)
                .await
                .map(|b| b.to_vec())
                .map_err(|e| e.to_string()),
            _ => Err(format!("a Sigstore bundle manifest has one layer, this one has {}", layers.len())),
        };
        out.push(Found { location, manifest: r.digest.clone(), bytes, kind: FoundKind::Bundle });
    }
    Ok(out)
}

/// The simple-signing layers of a cosign signature manifest.
async fn simple_signing_layers(
    source: &dyn Source,
    repository: &str,
    manifest: &crate::oci::Manifest,
    manifest_digest: &str,
    at: &str,
    out: &mut Vec<Found>,
) {
    for (index, layer) in manifest.layers().iter().enumerate() {
        if out.len() >= MAX_SIGNATURES {
            return;
        }
        if layer.media_type != media::COSIGN_SIMPLESIGNING {
            continue;
        }
        let bytes =
            source.blob(repository, layer, MAX_PAYLOAD_BYTES).await.map(|b| b.to_vec()).map_err(|e| e.to_string());
        out.push(Found {
            location: format!("{at} layer {index}"),
            manifest: manifest_digest.to_string(),
            bytes,
            kind: FoundKind::SimpleSigning {
                signature: layer.annotations.get(annotations::COSIGN_SIGNATURE).cloned(),
                certificate: layer.annotations.get(annotations::COSIGN_CERTIFICATE).cloned(),
                rekor: layer.annotations.contains_key(annotations::COSIGN_BUNDLE),
            },
        });
    }
}

impl CosignReport {
    /// The report as `sigscope verify` prints it after Notation's.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let why = match &self.verdict {
            CosignVerdict::Verified { reason } | CosignVerdict::Failed { reason } => format!(": {reason}"),
            CosignVerdict::NoSignature => {
                ": none in the .sig tag, and no Sigstore bundle or cosign signature among the referrers".into()
            }
        };
        let _ = writeln!(out, "cosign: {}{why}", self.verdict.word());
        let _ = writeln!(out, "  keys: {}", self.keys.join(", "));
        for (title, list) in [("signature", &self.signatures), ("attestation", &self.attestations)] {
            for s in list {
                let what = s.predicate_type.as_deref().map(|p| format!(", predicateType {p}")).unwrap_or_default();
                let _ = writeln!(out, "  {title} {} ({}{what})", s.location, s.format);
                let _ = writeln!(out, "    {}: {}", s.outcome, s.reason);
                let _ = writeln!(out, "    transparency log: {}", s.transparency_log);
            }
        }
        out
    }
}
