//! Pushing blobs, manifests and referrers, including the upkeep of the `sha256-<hex>`
//! referrers tag-schema index on registries without the referrers API (distribution 2.8).
//! Used by `sign` (through [`crate::source::Source::push_referrer`]) and to seed test fixtures
//! and benchmarks.
//!
//! Order is what keeps a failure harmless: blobs first, then the manifest by digest, then
//! whatever lists it. A failure at any step leaves at most content nobody refers to.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::{Method, StatusCode};

use crate::error::{Error, Result};
use crate::oci::{Descriptor, MAX_MANIFEST_BYTES, Manifest, digest_tag, media, sha256_digest, verify_digest};
use crate::source::layout_write::append_to_index;
use crate::source::registry::RegistryClient;
use crate::source::registry::auth::Scope;
use crate::source::registry::http::{Request, check_reference, check_repository};
use crate::source::{ListedBy, NewReferrer, StoredReferrer};

/// Blobs larger than this are uploaded in chunks (`PATCH`), the rest in one `PUT`: a signature
/// envelope (usually a few KiB) goes in one request, and a big one is not held by the registry
/// as a single request body it may refuse.
pub const CHUNKED_UPLOAD_THRESHOLD: usize = 16 * 1024 * 1024;
/// The size of each chunk of a chunked upload (the last may be shorter).
pub const UPLOAD_CHUNK_BYTES: usize = 8 * 1024 * 1024;
/// How many times the tag-schema index is read, extended and written before a concurrent
/// writer that keeps replacing it is reported.
pub const TAG_SCHEMA_ATTEMPTS: u32 = 5;
/// Shortest wait before the second look at a tag-schema index we wrote (see [`add_to_tag_schema`]).
const SETTLE_MIN: Duration = Duration::from_millis(25);
const SETTLE_MAX: Duration = Duration::from_secs(1);

/// What the registry said about a pushed manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedManifest {
    pub descriptor: Descriptor,
    /// The `OCI-Subject` header: present when the registry indexed the referrer itself.
    pub oci_subject: Option<String>,
}

/// How a pushed referrer became discoverable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedReferrer {
    pub descriptor: Descriptor,
    /// True when we updated the `sha256-<hex>` tag-schema index because the registry did not.
    pub updated_tag_schema: bool,
}

/// A refusal names what was refused: the status mapping of the client only knows the host.
fn refused(e: Error, what: &str) -> Error {
    let with = |detail: String| format!("{what}: {detail}");
    match e {
        Error::Auth { target, detail, rejected } => Error::Auth { target, detail: with(detail), rejected },
        Error::Denied { target, detail } => Error::Denied { target, detail: with(detail) },
        Error::Server { target, status, detail } => Error::Server { target, status, detail: with(detail) },
        other => other,
    }
}

/// The upload URL a reply points to next (`Location`), held to the registry's origin.
fn next_location(
    client: &RegistryClient,
    current: &url::Url,
    reply: &reqwest::Response,
    what: &str,
) -> Result<url::Url> {
    let location = reply
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::malformed(what, "no Location header in the upload reply"))?;
    client.resolve(current, location, what)
}

/// Uploads a blob unless the registry already has it: in one `PUT` (monolithic), or over
/// [`CHUNKED_UPLOAD_THRESHOLD`] in `PATCH` chunks of [`UPLOAD_CHUNK_BYTES`] closed by a `PUT`.
/// Every request is bounded by the client's `--timeout`, so a registry that stalls during the
/// upload ends it with a timeout.
pub async fn push_blob(
    client: &RegistryClient,
    repository: &str,
    media_type: &str,
    bytes: Bytes,
) -> Result<Descriptor> {
    check_repository(repository)?;
    let descriptor = Descriptor::new(media_type, &bytes);
    let scope = Scope::Push(repository.to_string());
    let what = format!("blob upload of {} to {}/{repository}", descriptor.digest, client.host());
    let head_url = client.url(&format!("v2/{repository}/blobs/{}", descriptor.digest));
    let head = client.send(Request { method: Method::HEAD, ..Request::get(head_url, scope.clone()) }).await?;
    if head.resp.status() == StatusCode::OK {
        return Ok(descriptor);
    }
    drop(head);

    let start = client.url(&format!("v2/{repository}/blobs/uploads/"));
    let reply = client
        .send_ok(
            Request { method: Method::POST, body: Some(Bytes::new()), ..Request::get(start.clone(), scope.clone()) },
            &what,
        )
        .await
        .map_err(|e| refused(e, &what))?;
    let mut url = next_location(client, &start, &reply.resp, &what)?;
    drop(reply);
    let last = if bytes.len() > CHUNKED_UPLOAD_THRESHOLD {
        let mut offset = 0;
        while offset < bytes.len() {
            let end = (offset + UPLOAD_CHUNK_BYTES).min(bytes.len());
            let patch = Request {
                method: Method::PATCH,
                content_type: Some("application/octet-stream"),
                content_range: Some(format!("{offset}-{}", end - 1)),
                body: Some(bytes.slice(offset..end)),
                ..Request::get(url.clone(), scope.clone())
            };
            let reply = client.send_ok(patch, &what).await.map_err(|e| refused(e, &what))?;
            if reply.resp.status() != StatusCode::ACCEPTED {
                return Err(Error::Server {
                    target: client.host().to_string(),
                    status: reply.resp.status().as_u16(),
                    detail: format!("{what}: expected 202 Accepted for the chunk at byte {offset}"),
                });
            }
            url = next_location(client, &url, &reply.resp, &what)?;
            offset = end;
        }
        Bytes::new()
    } else {
        bytes
    };
    url.query_pairs_mut().append_pair("digest", &descriptor.digest);
    let put = Request {
        method: Method::PUT,
        content_type: Some("application/octet-stream"),
        body: Some(last),
        ..Request::get(url, scope)
    };
    let reply = client.send_ok(put, &what).await.map_err(|e| refused(e, &what))?;
    if reply.resp.status() != StatusCode::CREATED {
        return Err(Error::Server {
            target: client.host().to_string(),
            status: reply.resp.status().as_u16(),
            detail: format!("{what}: expected 201 Created"),
        });
    }
    Ok(descriptor)
}

/// Puts a manifest under a tag or its digest, byte for byte.
pub async fn push_manifest(
    client: &RegistryClient,
    repository: &str,
    tag_or_digest: &str,
    bytes: Bytes,
    media_type: &str,
) -> Result<PushedManifest> {
    check_repository(repository)?;
    check_reference(tag_or_digest)?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(Error::TooLarge {
            what: format!("manifest for {repository}:{tag_or_digest}"),
            size: bytes.len() as u64,
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let parsed = Manifest::parse(&bytes)?;
    let mut descriptor = Descriptor::new(media_type, &bytes);
    descriptor.artifact_type =
        parsed.effective_artifact_type().map(str::to_string).filter(|_| parsed.subject.is_some());
    descriptor.annotations = parsed.annotations.clone();
    if tag_or_digest.contains(':') && tag_or_digest != descriptor.digest {
        return Err(Error::Integrity {
            what: format!("manifest pushed as {tag_or_digest}"),
            expected: tag_or_digest.to_string(),
            actual: descriptor.digest.clone(),
        });
    }
    let separator = if tag_or_digest.contains(':') { '@' } else { ':' };
    let what = format!("manifest upload to {}/{repository}{separator}{tag_or_digest}", client.host());
    let url = client.url(&format!("v2/{repository}/manifests/{tag_or_digest}"));
    let req = Request {
        method: Method::PUT,
        content_type: Some(media_type),
        body: Some(bytes),
        ..Request::get(url, Scope::Push(repository.to_string()))
    };
    let reply = client.send_ok(req, &what).await.map_err(|e| refused(e, &what))?;
    let header = |h: &str| reply.resp.headers().get(h).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Some(d) = header("docker-content-digest")
        && d != descriptor.digest
    {
        return Err(Error::Integrity { what, expected: descriptor.digest, actual: d });
    }
    let oci_subject = header("oci-subject");
    Ok(PushedManifest { descriptor, oci_subject })
}

/// Checks a referrer before anything of it is stored, for every backend: its manifest parses,
/// names `subject`, has the declared media type, and every blob it references is given, with
/// bytes matching its descriptor. Returns the descriptor that lists it (as the referrers API
/// reports it: artifactType and the manifest's annotations).
pub fn check_referrer(referrer: &NewReferrer) -> Result<Descriptor> {
    let what = "the signature manifest to store";
    if referrer.manifest.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(Error::TooLarge {
            what: what.into(),
            size: referrer.manifest.len() as u64,
            limit: MAX_MANIFEST_BYTES,
        });
    }
    if !media::is_manifest(&referrer.media_type) {
        return Err(Error::Usage(format!("{what} has media type {:?}, not a manifest type", referrer.media_type)));
    }
    let manifest = Manifest::parse(&referrer.manifest)?;
    if manifest.media_type.as_deref().is_some_and(|mt| mt != referrer.media_type) {
        return Err(Error::Usage(format!(
            "{what} says its mediaType is {:?} but is stored as {:?}",
            manifest.media_type.as_deref().unwrap_or_default(),
            referrer.media_type
        )));
    }
    let subject = manifest.subject.as_ref().ok_or_else(|| Error::Usage(format!("{what} has no subject")))?;
    let wanted = &referrer.subject;
    if (subject.digest.as_str(), subject.size, subject.media_type.as_str())
        != (wanted.digest.as_str(), wanted.size, wanted.media_type.as_str())
    {
        return Err(Error::Usage(format!(
            "{what} names the subject {} ({} bytes, {}), not {} ({} bytes, {})",
            subject.digest, subject.size, subject.media_type, wanted.digest, wanted.size, wanted.media_type
        )));
    }
    for (d, bytes) in &referrer.blobs {
        verify_digest(&format!("blob {} of {what}", d.digest), bytes, &d.digest)?;
        if d.size != bytes.len() as u64 {
            return Err(Error::Usage(format!(
                "blob {} is {} bytes, its descriptor says {}",
                d.digest,
                bytes.len(),
                d.size
            )));
        }
    }
    for d in manifest.config.iter().chain(manifest.layers()) {
        if !referrer.blobs.iter().any(|(b, _)| b.digest == d.digest && b.size == d.size) {
            return Err(Error::Usage(format!(
                "{what} references the blob {} ({} bytes), which is not among the blobs to store",
                d.digest, d.size
            )));
        }
    }
    Ok(Descriptor {
        media_type: referrer.media_type.clone(),
        digest: sha256_digest(&referrer.manifest),
        size: referrer.manifest.len() as u64,
        artifact_type: manifest.effective_artifact_type().map(str::to_string),
        annotations: manifest.annotations.clone(),
        platform: None,
    })
}

/// Stores a referrer on a registry: its blobs, then its manifest by digest, then (without the
/// referrers API) the tag-schema index. See [`crate::source::Source::push_referrer`].
pub async fn store_referrer(
    client: &RegistryClient,
    repository: &str,
    referrer: &NewReferrer,
) -> Result<StoredReferrer> {
    check_repository(repository)?;
    check_referrer(referrer)?;
    for (d, bytes) in &referrer.blobs {
        push_blob(client, repository, &d.media_type, bytes.clone()).await?;
    }
    let pushed = push_referrer(client, repository, referrer.manifest.clone(), &referrer.media_type).await?;
    Ok(StoredReferrer {
        reference: format!("{}/{repository}@{}", client.host(), pushed.descriptor.digest),
        descriptor: pushed.descriptor,
        listed_by: if pushed.updated_tag_schema { ListedBy::TagSchema } else { ListedBy::ReferrersApi },
    })
}

/// Pushes a manifest that has a `subject` (by its digest). When the registry does not answer with
/// `OCI-Subject`, it has no referrers API, so the `sha256-<hex>` index of the subject is updated
/// here (fetch, append, push, look again) as the OCI 1.1 distribution spec asks of clients.
/// The caller pushes the blobs first.
pub async fn push_referrer(
    client: &RegistryClient,
    repository: &str,
    bytes: Bytes,
    media_type: &str,
) -> Result<PushedReferrer> {
    let manifest = Manifest::parse(&bytes)?;
    let subject =
        manifest.subject.clone().ok_or_else(|| Error::Usage("push_referrer needs a manifest with a subject".into()))?;
    let digest = sha256_digest(&bytes);
    let pushed = push_manifest(client, repository, &digest, bytes, media_type).await?;
    if pushed.oci_subject.is_some() {
        return Ok(PushedReferrer { descriptor: pushed.descriptor, updated_tag_schema: false });
    }
    let entry = Descriptor {
        media_type: media_type.to_string(),
        digest: pushed.descriptor.digest.clone(),
        size: pushed.descriptor.size,
        artifact_type: manifest.effective_artifact_type().map(str::to_string),
        annotations: manifest.annotations.clone(),
        platform: None,
    };
    add_to_tag_schema(client, repository, &subject.digest, entry.clone()).await.map_err(|e| {
        // The manifest is in the registry by now: say so, rather than let a retry look clean.
        let tag = digest_tag(&subject.digest);
        e.noting(
            &format!("{}/{repository}:{tag}", client.host()),
            &format!("the referrer manifest {} is stored but not listed in the referrers index {tag}", entry.digest),
        )
    })?;
    Ok(PushedReferrer { descriptor: entry, updated_tag_schema: true })
}

/// The tag-schema index as the registry holds it now: its bytes, or `None` when the tag is absent.
async fn read_tag_schema(client: &RegistryClient, repository: &str, tag: &str) -> Result<Option<(Bytes, Manifest)>> {
    let raw = match client.get_manifest(repository, tag, Scope::Push(repository.to_string())).await {
        Ok((raw, _, _)) => raw,
        Err(Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let m = Manifest::parse(&raw)?;
    let oci_index = m.media_type.as_deref().is_none_or(|mt| mt == media::OCI_INDEX);
    if !m.is_index() || !oci_index || m.config.is_some() || !m.layers().is_empty() {
        return Err(Error::malformed(
            format!("referrers tag {tag}"),
            "the tag exists but is not an OCI image index; refusing to overwrite it",
        ));
    }
    Ok(Some((raw, m)))
}

fn lists(index: &Option<(Bytes, Manifest)>, digest: &str) -> bool {
    index.as_ref().is_some_and(|(_, m)| m.manifests.iter().any(|d| d.digest == digest))
}

/// Appends `entry` to the tag-schema index of `subject`, creating it if absent. Every entry
/// already there is kept byte for byte (the new one is spliced into the JSON as it was read).
///
/// The tag schema has no compare-and-swap (distribution 2.8 ignores conditional requests), so a
/// writer in another process can replace the index between our read and our write, or after.
/// After writing, the index is read again at once and once more after a short wait (twice the
/// time our own read and write took, which is as long as a concurrent writer's read-to-write
/// takes); if our entry is gone either time, it is read, extended and written again, at most
/// [`TAG_SCHEMA_ATTEMPTS`] times, then reported. A writer slower than that wait can still drop
/// our entry unseen. Within this process the updates are serialised.
pub async fn add_to_tag_schema(
    client: &RegistryClient,
    repository: &str,
    subject: &str,
    entry: Descriptor,
) -> Result<()> {
    let _guard = client.tag_schema_lock.lock().await;
    let tag = digest_tag(subject);
    let entry_json = serde_json::to_vec(&entry).expect("descriptor serialises");
    for attempt in 0..TAG_SCHEMA_ATTEMPTS {
        let started = Instant::now();
        let current = read_tag_schema(client, repository, &tag).await?;
        if lists(&current, &entry.digest) {
            return Ok(());
        }
        let updated = match &current {
            Some((raw, _)) => {
                append_to_index(raw, &entry_json).map_err(|e| Error::malformed(format!("referrers tag {tag}"), e))?
            }
            None => Manifest {
                schema_version: 2,
                media_type: Some(media::OCI_INDEX.to_string()),
                manifests: vec![entry.clone()],
                ..Default::default()
            }
            .to_json(),
        };
        match push_manifest(client, repository, &tag, Bytes::from(updated), media::OCI_INDEX).await {
            Ok(_) => {}
            // Two writers of one tag at once can make distribution answer 500 to one of them
            // (its tag files are written without a lock): the index is read again and the
            // entry spliced in anew, as after any other writer — within the same bound.
            Err(e) if e.is_transient() && attempt + 1 < TAG_SCHEMA_ATTEMPTS => {
                tokio::time::sleep(SETTLE_MIN * (attempt + 1)).await;
                continue;
            }
            Err(e) => return Err(e),
        }
        let took = started.elapsed();
        if !lists(&read_tag_schema(client, repository, &tag).await?, &entry.digest) {
            continue;
        }
        tokio::time::sleep((took * 2).clamp(SETTLE_MIN, SETTLE_MAX)).await;
        if lists(&read_tag_schema(client, repository, &tag).await?, &entry.digest) {
            return Ok(());
        }
    }
    Err(Error::Io {
        path: format!("{}/{repository}:{tag}", client.host()),
        detail: format!(
            "another writer replaced this referrers index each of the {TAG_SCHEMA_ATTEMPTS} times sigscope added \
             {} to it; the signature is stored but not listed. Run the command again once the other writer is done",
            entry.digest
        ),
    })
}
