//! Pushing blobs, manifests and referrers, including the upkeep of the `sha256-<hex>`
//! referrers tag-schema index on registries without the referrers API (distribution 2.8).
//! Used to seed test fixtures and benchmarks, and by `sign`.

use bytes::Bytes;
use reqwest::{Method, StatusCode};

use crate::error::{Error, Result};
use crate::oci::{Descriptor, Manifest, digest_tag, media, sha256_digest};
use crate::source::registry::RegistryClient;
use crate::source::registry::auth::Scope;
use crate::source::registry::http::{Request, check_reference, check_repository};

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

/// Uploads a blob (monolithic POST + PUT) unless the registry already has it.
pub async fn push_blob(
    client: &RegistryClient,
    repository: &str,
    media_type: &str,
    bytes: Bytes,
) -> Result<Descriptor> {
    check_repository(repository)?;
    let descriptor = Descriptor::new(media_type, &bytes);
    let scope = Scope::Push(repository.to_string());
    let what = format!("blob upload to {}/{repository}", client.host());
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
        .await?;
    let location = reply
        .resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::malformed(&what, "no Location header in the upload reply"))?
        .to_string();
    drop(reply);
    let mut url = client.resolve(&start, &location, &what)?;
    url.query_pairs_mut().append_pair("digest", &descriptor.digest);
    let put = Request {
        method: Method::PUT,
        content_type: Some("application/octet-stream"),
        body: Some(bytes),
        ..Request::get(url, scope)
    };
    let reply = client.send_ok(put, &what).await?;
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
    if bytes.len() as u64 > crate::oci::MAX_MANIFEST_BYTES {
        return Err(Error::TooLarge {
            what: format!("manifest for {repository}:{tag_or_digest}"),
            size: bytes.len() as u64,
            limit: crate::oci::MAX_MANIFEST_BYTES,
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
    let what = format!("manifest push to {}/{repository}:{tag_or_digest}", client.host());
    let url = client.url(&format!("v2/{repository}/manifests/{tag_or_digest}"));
    let req = Request {
        method: Method::PUT,
        content_type: Some(media_type),
        body: Some(bytes),
        ..Request::get(url, Scope::Push(repository.to_string()))
    };
    let reply = client.send_ok(req, &what).await?;
    let header = |h: &str| reply.resp.headers().get(h).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Some(d) = header("docker-content-digest")
        && d != descriptor.digest
    {
        return Err(Error::Integrity { what, expected: descriptor.digest, actual: d });
    }
    let oci_subject = header("oci-subject");
    Ok(PushedManifest { descriptor, oci_subject })
}

/// Pushes a manifest that has a `subject` (by its digest). When the registry does not answer with
/// `OCI-Subject`, it has no referrers API, so the `sha256-<hex>` index of the subject is updated
/// here (fetch, append, push) as the OCI 1.1 distribution spec asks of clients.
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
    add_to_tag_schema(client, repository, &subject.digest, entry.clone()).await?;
    Ok(PushedReferrer { descriptor: entry, updated_tag_schema: true })
}

/// Appends `entry` to the tag-schema index of `subject`, creating it if absent.
///
/// Two writers in different processes can still lose an update (the tag schema has no
/// compare-and-swap); within this process the updates are serialised.
pub async fn add_to_tag_schema(
    client: &RegistryClient,
    repository: &str,
    subject: &str,
    entry: Descriptor,
) -> Result<()> {
    let _guard = client.tag_schema_lock.lock().await;
    let tag = digest_tag(subject);
    let mut index = match client.get_manifest(repository, &tag, Scope::Push(repository.to_string())).await {
        Ok((raw, _, _)) => {
            let m = Manifest::parse(&raw)?;
            if !m.is_index() || m.config.is_some() {
                return Err(Error::malformed(
                    format!("referrers tag {tag}"),
                    "the tag exists but is not an index; refusing to overwrite it",
                ));
            }
            m
        }
        Err(Error::NotFound { .. }) => {
            Manifest { schema_version: 2, media_type: Some(media::OCI_INDEX.to_string()), ..Default::default() }
        }
        Err(e) => return Err(e),
    };
    if index.manifests.iter().any(|d| d.digest == entry.digest) {
        return Ok(());
    }
    index.manifests.push(entry);
    index.media_type = Some(media::OCI_INDEX.to_string());
    push_manifest(client, repository, &tag, Bytes::from(index.to_json()), media::OCI_INDEX).await?;
    Ok(())
}
