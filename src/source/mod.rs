//! Where artifacts come from: one trait, several backends.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::Serialize;

use crate::error::Result;
use crate::oci::{Descriptor, Manifest};

pub mod connect;
pub mod ecr;
pub mod layout;
pub mod layout_write;
pub mod push;
pub mod referrers;
pub mod registry;

/// Default cap for blobs read for previews (envelopes, SBOMs, statements).
pub const DEFAULT_PREVIEW_LIMIT: u64 = 8 * 1024 * 1024;

/// A manifest fetched by tag or digest, already checked against its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedManifest {
    /// mediaType (from the response or the body), digest of the bytes, and their length.
    pub descriptor: Descriptor,
    pub raw: Bytes,
    pub manifest: Manifest,
}

impl FetchedManifest {
    /// Checks `raw` against `expected_digest` (when fetched by digest) and parses it.
    pub fn from_bytes(
        raw: Bytes,
        content_type: Option<&str>,
        expected_digest: Option<&str>,
        what: &str,
    ) -> Result<Self> {
        use crate::error::Error;
        use crate::oci::{MAX_MANIFEST_BYTES, sha256_digest, verify_digest};
        if raw.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(Error::TooLarge {
                what: format!("manifest {what}"),
                size: raw.len() as u64,
                limit: MAX_MANIFEST_BYTES,
            });
        }
        let digest = match expected_digest {
            Some(d) => {
                verify_digest(&format!("manifest {what}"), &raw, d)?;
                d.to_string()
            }
            None => sha256_digest(&raw),
        };
        let manifest = Manifest::parse(&raw)?;
        let media_type = manifest
            .media_type
            .clone()
            .or_else(|| content_type.filter(|ct| crate::oci::media::is_manifest(ct)).map(str::to_string))
            .unwrap_or_else(|| {
                if manifest.is_index() { crate::oci::media::OCI_INDEX } else { crate::oci::media::OCI_MANIFEST }
                    .to_string()
            });
        Ok(FetchedManifest {
            descriptor: Descriptor {
                media_type,
                digest,
                size: raw.len() as u64,
                artifact_type: manifest.artifact_type.clone(),
                annotations: manifest.annotations.clone(),
                platform: None,
            },
            raw,
            manifest,
        })
    }
}

/// Counters a source keeps, for benchmarks and the status bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceStats {
    pub requests: u64,
    pub manifests_fetched: u64,
    pub blobs_fetched: u64,
    pub cache_hits: u64,
}

/// A backend: a registry over HTTP, an OCI layout on disk, or the built-in demo.
///
/// Implementations cache what they fetch by digest and share one fetch between concurrent
/// callers, so each digest is fetched once per run.
#[async_trait]
pub trait Source: Send + Sync {
    /// Human-readable name: `127.0.0.1:5000`, `layout ./out`, `demo`.
    fn name(&self) -> String;

    /// Registry host for references (`host/repo@digest`), or a layout path.
    fn host(&self) -> String;

    /// How a repository is named in references: `host/repo` for registries, the path for a layout.
    fn repository_ref(&self, repository: &str) -> String {
        format!("{}/{repository}", self.host())
    }

    /// Every repository, following pagination to the end.
    async fn repositories(&self) -> Result<Vec<String>>;

    /// Every tag of a repository, following pagination to the end, sorted.
    async fn tags(&self, repository: &str) -> Result<Arc<Vec<String>>>;

    /// A manifest by tag or digest. By digest it is verified against that digest.
    async fn manifest(&self, repository: &str, reference: &str) -> Result<Arc<FetchedManifest>>;

    /// A blob, refused over `limit` bytes, verified against its descriptor's digest.
    async fn blob(&self, repository: &str, descriptor: &Descriptor, limit: u64) -> Result<Bytes>;

    /// Referrers from the native API (or the layout's own index). `Ok(None)` means the source has
    /// no referrers API and the caller should use the tag schema.
    async fn referrers_api(
        &self,
        repository: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>>;

    /// Forgets what was learned by *name* — the repository list, tag lists, tag → manifest,
    /// referrer lists — for `repository`, or for every repository with `None`, so the next
    /// call asks again (`r` in the TUI). Content fetched by digest may stay: it cannot change.
    fn forget_names(&self, _repository: Option<&str>) {}

    fn stats(&self) -> SourceStats {
        SourceStats::default()
    }

    /// What the registry's own API knows about a manifest beyond OCI (ECR's DescribeImages and
    /// scan findings), for the details panel; `None` where there is no such API.
    async fn registry_facts(&self, _repository: &str, _digest: &str) -> Result<Option<RegistryFacts>> {
        Ok(None)
    }

    /// What the registry's own API has already said about this manifest in this run, without
    /// asking it anything (ECR: DescribeImages' record, once the repository's images were
    /// listed, by [`Source::load_records`] or by listing its tags).
    fn known_record(&self, _repository: &str, _digest: &str) -> Option<KnownRecord> {
        None
    }

    /// Reads what [`Source::known_record`] answers from for `repository`, where the registry
    /// has such an API (one listing per repository and run).
    async fn load_records(&self, _repository: &str) -> Result<()> {
        Ok(())
    }

    /// Stores a referrer and makes it discoverable: its blobs, then its manifest by digest, then
    /// whatever lists it (a registry without the referrers API: the `sha256-<hex>` tag-schema
    /// index; a layout: `index.json`, replaced atomically). Nothing is left half-written: on any
    /// error the referrer is either not listed at all or fully stored. Read-only sources refuse.
    async fn push_referrer(&self, _repository: &str, _referrer: &NewReferrer) -> Result<StoredReferrer> {
        Err(crate::error::Error::Unsupported { what: format!("storing signatures in {}", self.name()) })
    }
}

/// Facts a registry's own API holds about one manifest: a titled list of name/value pairs and,
/// optionally, a table (scan findings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegistryFacts {
    pub title: String,
    pub fields: Vec<(String, String)>,
    /// Column headers, then rows.
    pub table: Option<(Vec<String>, Vec<Vec<String>>)>,
}

/// A registry API's record of one manifest: as JSON in the API's own field names (for
/// `tree -o json`), and as a line for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownRecord {
    pub json: serde_json::Value,
    pub summary: String,
}

/// A referrer to store: its blobs (config and layers), its manifest bytes (already naming
/// `subject`), and the manifest's media type.
#[derive(Debug, Clone)]
pub struct NewReferrer {
    pub blobs: Vec<(Descriptor, Bytes)>,
    pub manifest: Bytes,
    pub media_type: String,
    pub subject: Descriptor,
}

/// Where a stored referrer went, for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredReferrer {
    /// The referrer's manifest as stored.
    pub descriptor: Descriptor,
    /// `host/repo@sha256:…`, or the layout path and digest.
    pub reference: String,
    /// How it became discoverable.
    pub listed_by: ListedBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListedBy {
    /// The registry answered `OCI-Subject`: its referrers API lists it.
    ReferrersApi,
    /// We updated the `sha256-<hex>` tag-schema index.
    TagSchema,
    /// An entry in the layout's `index.json`.
    LayoutIndex,
}

pub type DynSource = Arc<dyn Source>;
