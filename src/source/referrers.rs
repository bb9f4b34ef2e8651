//! Referrers discovery: the referrers API, the tag-schema fallback and cosign's tag schemes.
//! Knows nothing of the graph; `graph::expand` builds nodes from what is found here.

use std::collections::HashSet;

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};
use crate::oci::{Descriptor, digest_tag};
use crate::source::Source;

/// cosign's legacy tag suffixes, shown as referrers of the image they name.
pub const COSIGN_SUFFIXES: [&str; 3] = [".sig", ".att", ".sbom"];

/// How a referrer was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Via {
    /// `GET /v2/<name>/referrers/<digest>` (or a layout's own index).
    ReferrersApi,
    /// The `sha256-<hex>` tag-schema index.
    TagSchema,
    /// cosign's `sha256-<hex>.sig|.att|.sbom` tag.
    CosignTag(String),
}

impl Serialize for Via {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Via::ReferrersApi => f.write_str("referrers API"),
            Via::TagSchema => f.write_str("tag schema"),
            Via::CosignTag(tag) => write!(f, "cosign tag {tag}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    pub descriptor: Descriptor,
    pub via: Via,
}

/// Filters applied while exploring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExploreOptions {
    /// Only referrers of this artifactType (as `oras discover --artifact-type`).
    pub artifact_type: Option<String>,
}

/// True for tags that are bookkeeping of referrers rather than images: `sha256-<hex>` and
/// cosign's `sha256-<hex>.sig|.att|.sbom`.
pub fn is_referrer_tag(tag: &str) -> bool {
    let stem = COSIGN_SUFFIXES.iter().find_map(|s| tag.strip_suffix(s)).unwrap_or(tag);
    match stem.split_once('-') {
        Some(("sha256", hex)) => hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        Some(("sha512", hex)) => hex.len() == 128 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        _ => false,
    }
}

/// Every referrer of `digest`: the referrers API, or the tag-schema index when the source has no
/// API, plus cosign's tag-scheme signatures, attestations and SBOMs. Deduplicated by digest.
pub async fn find_referrers(
    source: &dyn Source,
    repository: &str,
    digest: &str,
    artifact_type: Option<&str>,
) -> Result<Vec<Referrer>> {
    let mut found = Vec::new();
    let tags = source.tags(repository).await?;
    let stem = digest_tag(digest);
    match source.referrers_api(repository, digest, artifact_type).await? {
        Some(list) => found.extend(list.into_iter().map(|descriptor| Referrer { descriptor, via: Via::ReferrersApi })),
        // The tag list is whole (every page read, or an error) and forgotten together with the
        // tag-schema indexes, so a `sha256-<hex>` tag it does not hold has no index to fetch:
        // asking anyway was a 404 per artifact.
        None if tags.binary_search(&stem).is_ok() => {
            found.extend(tag_schema(source, repository, digest, artifact_type).await?)
        }
        None => {}
    }
    for suffix in COSIGN_SUFFIXES {
        let tag = format!("{stem}{suffix}");
        // `Source::tags` is sorted: a scan per node would make a walk over a repository of
        // many tags quadratic (every image looks up its three cosign tags).
        if tags.binary_search(&tag).is_err() {
            continue;
        }
        let fetched = source.manifest(repository, &tag).await?;
        let mut descriptor = fetched.descriptor.clone();
        descriptor.artifact_type = cosign_artifact_type(&fetched.manifest);
        if artifact_type.is_none_or(|at| descriptor.artifact_type.as_deref() == Some(at)) {
            found.push(Referrer { descriptor, via: Via::CosignTag(tag) });
        }
    }
    let mut seen = HashSet::new();
    found.retain(|r| seen.insert(r.descriptor.digest.clone()));
    Ok(found)
}

/// cosign's tag-scheme manifests carry a plain image config; their layers say what they are.
fn cosign_artifact_type(m: &crate::oci::Manifest) -> Option<String> {
    use crate::oci::media;
    let config = m.config.as_ref().map(|c| c.media_type.as_str());
    m.artifact_type
        .clone()
        .or_else(|| {
            config
                .filter(|c| ![media::OCI_CONFIG, media::DOCKER_CONFIG, media::OCI_EMPTY].contains(c))
                .map(str::to_string)
        })
        .or_else(|| m.layers().first().map(|l| l.media_type.clone()))
}

/// The referrers listed in the `sha256-<hex>` tag-schema index (empty when there is none).
pub async fn tag_schema(
    source: &dyn Source,
    repository: &str,
    digest: &str,
    artifact_type: Option<&str>,
) -> Result<Vec<Referrer>> {
    let tag = digest_tag(digest);
    let fetched = match source.manifest(repository, &tag).await {
        Ok(f) => f,
        Err(Error::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    // Some registries resolve `sha256-<hex>` as the digest itself and return the image.
    if fetched.descriptor.digest == digest || !fetched.manifest.is_index() || fetched.manifest.config.is_some() {
        return Err(Error::malformed(
            format!("referrers tag {tag}"),
            "the registry answered with a manifest that is not a referrers index (possibly the image itself)",
        ));
    }
    Ok(fetched
        .manifest
        .manifests
        .iter()
        .filter(|d| artifact_type.is_none_or(|at| d.artifact_type.as_deref() == Some(at)))
        .map(|d| Referrer { descriptor: d.clone(), via: Via::TagSchema })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrer_tags() {
        let hex = "a".repeat(64);
        assert!(is_referrer_tag(&format!("sha256-{hex}")));
        assert!(is_referrer_tag(&format!("sha256-{hex}.sig")));
        assert!(is_referrer_tag(&format!("sha256-{hex}.att")));
        assert!(!is_referrer_tag("v1.0"));
        assert!(!is_referrer_tag("sha256-abc"));
    }
}
