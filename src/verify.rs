//! Finds the Notation signatures of an artifact through the referrers graph and fetches
//! their envelopes, ready for [`crate::notation::verifier`].
//!
//! Every route is used, as a missed signature is worse than a few more requests:
//! the referrers API, and the tag-schema index as well (registries that gained the API
//! keep old signatures there), deduplicated by digest.

pub mod cosign;

use std::collections::HashSet;

use crate::error::Result;
use crate::notation::envelope::MAX_ENVELOPE_BYTES;
use crate::notation::verifier::SignatureInput;
use crate::oci::{Descriptor, Manifest, media};
use crate::source::Source;
use crate::source::referrers::tag_schema;

/// Signatures evaluated per artifact at most, as notation's `--max-signatures` default: a
/// registry listing thousands of referrers must not turn one verification into thousands of
/// requests.
pub const MAX_SIGNATURES: usize = 100;

/// Whether a referrer descriptor may be a Notation signature (the manifest decides).
pub fn may_be_notation(d: &Descriptor) -> bool {
    match d.artifact_type.as_deref() {
        Some(media::NOTATION_SIGNATURE) | Some(media::NOTATION_SIGNATURE_LEGACY) => true,
        // Legacy signatures carry the type in the config, which the descriptor may not repeat.
        None | Some("") => true,
        Some(_) => false,
    }
}

/// Whether a manifest is a Notation signature manifest, and its envelope layer if so.
/// `Err` for a manifest that claims to be one but is malformed.
pub fn envelope_layer(m: &Manifest) -> std::result::Result<Option<&Descriptor>, String> {
    let config = m.config.as_ref().map(|c| c.media_type.as_str());
    let is_sig = match m.artifact_type.as_deref() {
        Some(media::NOTATION_SIGNATURE) => true,
        Some(_) => false,
        None => config == Some(media::NOTATION_SIGNATURE),
    };
    if !is_sig {
        return Ok(None);
    }
    let layers = m.layers();
    if layers.len() != 1 {
        return Err(format!(
            "a Notation signature manifest must have exactly one layer, this one has {}",
            layers.len()
        ));
    }
    Ok(Some(&layers[0]))
}

/// The referrers of `digest` by the referrers API and by the tag schema, deduplicated by digest
/// in that order: a registry that gained the API may still hold older referrers in the tag
/// schema. Without the API the tag schema is the only route, so its failure is then the answer.
pub async fn referrers_every_route(source: &dyn Source, repository: &str, digest: &str) -> Result<Vec<Descriptor>> {
    let from_api = source.referrers_api(repository, digest, None).await?;
    let api_answered = from_api.is_some();
    let mut all = from_api.unwrap_or_default();
    match tag_schema(source, repository, digest, None).await {
        Ok(extra) => all.extend(extra.into_iter().map(|r| r.descriptor)),
        Err(e) if !api_answered => return Err(e),
        Err(_) => {}
    }
    let mut seen = HashSet::new();
    all.retain(|d| seen.insert(d.digest.clone()));
    Ok(all)
}

/// The signatures of `subject` in `repository`, each with its envelope or the reason it
/// could not be read. A failure to list referrers is an error for the caller to report.
pub async fn notation_signatures(
    source: &dyn Source,
    repository: &str,
    subject: &Descriptor,
) -> Result<Vec<SignatureInput>> {
    // Notation signatures never live in cosign's tag scheme, so only the two OCI routes.
    let mut candidates = referrers_every_route(source, repository, &subject.digest).await?;
    candidates.retain(may_be_notation);
    let total = candidates.len();
    candidates.truncate(MAX_SIGNATURES);

    let mut out = Vec::new();
    for d in candidates {
        let fetched = match source.manifest(repository, &d.digest).await {
            Ok(f) => f,
            Err(e) if d.artifact_type.is_some() => {
                out.push(SignatureInput {
                    digest: d.digest.clone(),
                    media_type: String::new(),
                    envelope: Err(e.to_string()),
                });
                continue;
            }
            // An untyped referrer that cannot be read is not known to be a signature.
            Err(_) => continue,
        };
        let layer = match envelope_layer(&fetched.manifest) {
            Ok(Some(l)) => l.clone(),
            Ok(None) => continue,
            Err(e) => {
                out.push(SignatureInput { digest: d.digest.clone(), media_type: String::new(), envelope: Err(e) });
                continue;
            }
        };
        let envelope = match fetched.manifest.subject.as_ref() {
            Some(s) if s.digest == subject.digest => {
                if layer.size > MAX_ENVELOPE_BYTES as u64 {
                    Err(format!("envelope is {} bytes, over the {MAX_ENVELOPE_BYTES} byte limit", layer.size))
                } else {
                    source
                        .blob(repository, &layer, MAX_ENVELOPE_BYTES as u64)
                        .await
                        .map(|b| b.to_vec())
                        .map_err(|e| e.to_string())
                }
            }
            Some(s) => Err(format!("the signature manifest's subject is {}, not this artifact", s.digest)),
            None => Err("the signature manifest has no subject".into()),
        };
        out.push(SignatureInput { digest: d.digest.clone(), media_type: layer.media_type.clone(), envelope });
    }
    if total > MAX_SIGNATURES {
        // Shown as a signature that could not be read: the report says evaluation stopped.
        out.push(SignatureInput {
            digest: String::new(),
            media_type: String::new(),
            envelope: Err(format!(
                "signature evaluation stopped: {total} signature candidates, only the first {MAX_SIGNATURES} were evaluated"
            )),
        });
    }
    Ok(out)
}

/// Verifies the artifact `subject` of `repository`: finds the applicable statement, and
/// unless it skips or none applies, the signatures, then runs the verifier. The error is
/// a failure to list or read referrers (registry trouble), not a verification failure.
pub async fn verify_artifact(
    source: &dyn Source,
    repository: &str,
    subject: &Descriptor,
    verifier: &crate::notation::verifier::Verifier,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<crate::notation::verifier::ArtifactReport> {
    let scope = source.repository_ref(repository);
    let needs_signatures =
        verifier.policy().statement_for(&scope).is_some_and(|(s, _)| s.level != crate::notation::policy::Level::Skip);
    let signatures =
        if needs_signatures { notation_signatures(source, repository, subject).await? } else { Vec::new() };
    Ok(verifier.verify_artifact(&scope, subject, &signatures, now).await)
}

/// The one artifact an opened TARGET names (a tag or a digest), with its repository.
pub async fn resolve_target(opened: &crate::open::Opened) -> Result<(String, Descriptor)> {
    use crate::graph::NodeKind;
    let (repository, reference, expected) = match opened.roots.as_slice() {
        [NodeKind::Tag { repository, tag }] => (repository.clone(), tag.clone(), None),
        [NodeKind::Artifact(a)] => {
            (a.repository.to_string(), a.descriptor.digest.to_string(), Some(a.descriptor.digest.to_string()))
        }
        _ => {
            return Err(crate::error::Error::Usage(format!(
                "{} does not name one image: add :tag or @digest",
                opened.target
            )));
        }
    };
    let fetched = opened.source.manifest(&repository, &reference).await?;
    if let Some(d) = expected
        && fetched.descriptor.digest != d
    {
        return Err(crate::error::Error::malformed(reference, "the manifest served has another digest"));
    }
    Ok((repository, fetched.descriptor.clone()))
}

/// [`verify_artifact`] for the image a tag names (or for `subject` when there is no tag).
pub async fn verify_tag_or_artifact(
    source: &dyn Source,
    repository: &str,
    tag: Option<&str>,
    subject: &Descriptor,
    verifier: &crate::notation::verifier::Verifier,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<crate::notation::verifier::ArtifactReport> {
    match tag {
        Some(tag) => {
            let fetched = source.manifest(repository, tag).await?;
            verify_artifact(source, repository, &fetched.descriptor, verifier, now).await
        }
        None => verify_artifact(source, repository, subject, verifier, now).await,
    }
}
