//! Storing signatures (issue 10, "Storing it"): `Source::push_referrer` with manifests built by
//! `sign::manifest::signature_manifest`, on docker-registry (tag schema), ferro-oci-server
//! (referrers API), an OCI layout on disk and the in-memory demo; and the faults of storing:
//! refused and stalled uploads (the stand-in registry of `common::hostile`, since no real
//! registry refuses one request on demand), concurrent writers of one tag-schema index or of
//! one `index.json`, and read-only sources. The envelopes are arbitrary bytes: storage never
//! looks inside them.

mod common;

use std::path::Path;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use common::{Hostile, Server, guard, seed, source, test_options};
use sigscope::Error;
use sigscope::oci::{Descriptor, digest_tag, media, sha256_digest};
use sigscope::sign::manifest::signature_manifest;
use sigscope::source::layout::{DirFiles, LayoutFiles, LayoutSource};
use sigscope::source::referrers::{Via, find_referrers};
use sigscope::source::registry::{RegistryClient, RegistryOptions};
use sigscope::source::{ListedBy, NewReferrer, Source, StoredReferrer};

fn signed_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-02-03T04:05:06Z").unwrap().with_timezone(&Utc)
}

fn chain() -> Vec<Vec<u8>> {
    vec![b"leaf certificate (DER)".to_vec(), b"root certificate (DER)".to_vec()]
}

/// A signature manifest over `subject` whose envelope is `tag`'s bytes (distinct per call site).
fn signature(subject: &Descriptor, tag: &str, envelope_type: &str) -> NewReferrer {
    let envelope = Bytes::from(format!("{{\"envelope\":{tag:?}}}"));
    signature_manifest(subject, envelope, envelope_type, &chain(), signed_at()).unwrap()
}

/// The digests `find_referrers` lists for `digest`, with how each was found and its artifactType.
async fn listed(s: &dyn Source, repo: &str, digest: &str) -> Vec<(String, Via, Option<String>)> {
    guard(find_referrers(s, repo, digest, None))
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.descriptor.digest, r.via, r.descriptor.artifact_type))
        .collect()
}

fn has(list: &[(String, Via, Option<String>)], digest: &str) -> bool {
    list.iter().any(|(d, _, _)| d == digest)
}

/// The stored referrer is listed as a Notation signature, found the way `via` says.
fn assert_listed(list: &[(String, Via, Option<String>)], stored: &StoredReferrer, via: Via) {
    let found = list.iter().find(|(d, _, _)| *d == stored.descriptor.digest);
    assert_eq!(
        found.map(|(_, v, at)| (v.clone(), at.as_deref())),
        Some((via, Some(media::NOTATION_SIGNATURE))),
        "{list:?}"
    );
}

fn client(host: &str, opts: RegistryOptions) -> RegistryClient {
    RegistryClient::new(host, opts).unwrap()
}

/// The raw bytes of the tag-schema index of `digest`, or `None`.
async fn tag_schema_bytes(c: &RegistryClient, repo: &str, digest: &str) -> Option<Vec<u8>> {
    let scope = sigscope::source::registry::auth::Scope::Pull(repo.to_string());
    match c.get_manifest(repo, &digest_tag(digest), scope).await {
        Ok((raw, _, _)) => Some(raw.to_vec()),
        Err(Error::NotFound { .. }) => None,
        Err(e) => panic!("{e}"),
    }
}

fn entries(raw: &[u8]) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(raw).unwrap();
    v["manifests"].as_array().unwrap().clone()
}

#[tokio::test]
async fn docker_registry_lists_it_through_the_tag_schema() {
    let server = Server::docker_registry();
    let repo = "sign/app";
    let c = client(&server.host, test_options());
    let fx = guard(seed(&c, repo)).await;
    let s = source(&server.host, test_options());
    // Listed once before, so the source has cached the index it must forget after the push.
    let before = listed(&s, repo, &fx.image.digest).await;
    assert_eq!(before.len(), 3, "{before:?}");
    let index_before = tag_schema_bytes(&c, repo, &fx.image.digest).await.unwrap();

    let referrer = signature(&fx.image, "docker-registry", media::JWS);
    let stored = guard(s.push_referrer(repo, &referrer)).await.unwrap();
    assert_eq!(stored.listed_by, ListedBy::TagSchema);
    assert_eq!(stored.descriptor.digest, sha256_digest(&referrer.manifest));
    assert_eq!(stored.reference, format!("{}/{repo}@{}", server.host, stored.descriptor.digest));

    let after = listed(&s, repo, &fx.image.digest).await;
    assert_listed(&after, &stored, Via::TagSchema);
    for earlier in [&fx.signature, &fx.sbom, &fx.cosign] {
        assert!(has(&after, &earlier.digest), "{} is gone: {after:?}", earlier.digest);
    }
    // The index kept every entry it had, and gained one.
    let index_after = tag_schema_bytes(&c, repo, &fx.image.digest).await.unwrap();
    let (old, new) = (entries(&index_before), entries(&index_after));
    assert_eq!(new.len(), old.len() + 1);
    assert_eq!(new[..old.len()], old[..]);
    // The manifest and the envelope are stored byte for byte.
    let manifest = guard(s.manifest(repo, &stored.descriptor.digest)).await.unwrap();
    assert_eq!(manifest.raw, referrer.manifest);
    let layer = &manifest.manifest.layers[0];
    assert_eq!(guard(s.blob(repo, layer, 1 << 20)).await.unwrap(), referrer.blobs[1].1);
}

#[tokio::test]
async fn the_tag_schema_index_keeps_foreign_entries_byte_for_byte() {
    let server = Server::docker_registry();
    let repo = "sign/foreign";
    let c = client(&server.host, test_options());
    let fx = guard(seed(&c, repo)).await;
    // Another tool's index: pretty-printed, with a member sigscope does not know.
    let foreign = format!(
        "{{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"{}\",\n  \"manifests\": [\n    {{\n      \"mediaType\": \"{}\",\n      \"digest\": \"{}\",\n      \"size\": {},\n      \"x-other-tool\": {{\"kept\": [1, \"]\"]}}\n    }}\n  ],\n  \"annotations\": {{\"written.by\": \"another tool\"}}\n}}\n",
        media::OCI_INDEX,
        fx.signature.media_type,
        fx.signature.digest,
        fx.signature.size
    );
    let tag = digest_tag(&fx.image.digest);
    guard(sigscope::source::push::push_manifest(&c, repo, &tag, Bytes::from(foreign.clone()), media::OCI_INDEX))
        .await
        .unwrap();

    let s = source(&server.host, test_options());
    let stored = guard(s.push_referrer(repo, &signature(&fx.image, "foreign", media::COSE))).await.unwrap();
    let after = String::from_utf8(tag_schema_bytes(&c, repo, &fx.image.digest).await.unwrap()).unwrap();
    let entry = serde_json::to_string(&stored.descriptor).unwrap();
    assert_eq!(after.replacen(&format!(",\n    {entry}"), "", 1), foreign, "only the new entry was added:\n{after}");
}

#[tokio::test]
async fn ferro_lists_it_through_the_referrers_api() {
    let server = Server::ferro();
    let repo = "sign/app";
    let c = client(&server.host, test_options());
    let fx = guard(seed(&c, repo)).await;
    assert!(fx.native_referrers);
    let s = source(&server.host, test_options());
    assert_eq!(listed(&s, repo, &fx.image.digest).await.len(), 3);

    let stored = guard(s.push_referrer(repo, &signature(&fx.image, "ferro", media::JWS))).await.unwrap();
    assert_eq!(stored.listed_by, ListedBy::ReferrersApi);
    let after = listed(&s, repo, &fx.image.digest).await;
    assert_listed(&after, &stored, Via::ReferrersApi);
    for earlier in [&fx.signature, &fx.sbom, &fx.cosign] {
        assert!(has(&after, &earlier.digest), "{} is gone: {after:?}", earlier.digest);
    }
    assert!(
        !guard(s.tags(repo)).await.unwrap().contains(&digest_tag(&fx.image.digest)),
        "a registry with the referrers API gets no tag-schema index"
    );
}

/// A copy of a vector layout (or any directory) into a fresh temporary directory.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Names in `dir` (recursively) that look like a temporary file left behind.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(leftovers(&e.path()));
        } else if e.file_name().to_string_lossy().contains(".tmp") {
            out.push(e.path().display().to_string());
        }
    }
    out
}

#[tokio::test]
async fn a_layout_on_disk_lists_it_in_index_json() {
    // notation-go's own test layout, with its pretty-printed index.json.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("alpine");
    copy_dir(&common::servers::repo_root().join("tests/vectors/notation/oci-layout-alpine"), &dir);
    let original = std::fs::read_to_string(dir.join("index.json")).unwrap();
    let s = LayoutSource::open_dir(&dir).unwrap();
    let repo = s.repository().to_string();
    let image = guard(s.manifest(&repo, "v2")).await.unwrap().descriptor.clone();
    assert!(listed(&s, &repo, &image.digest).await.is_empty());

    let first = guard(s.push_referrer(&repo, &signature(&image, "layout jws", media::JWS))).await.unwrap();
    assert_eq!(first.listed_by, ListedBy::LayoutIndex);
    assert_eq!(first.reference, format!("{}@{}", dir.display(), first.descriptor.digest));
    let after = std::fs::read_to_string(dir.join("index.json")).unwrap();
    let entry = serde_json::to_string(&first.descriptor).unwrap();
    assert_eq!(after.replacen(&format!(",\n        {entry}"), "", 1), original, "only the entry was added:\n{after}");
    assert_listed(&listed(&s, &repo, &image.digest).await, &first, Via::ReferrersApi);

    // A second signature: the first, stored earlier, is still listed.
    let second = guard(s.push_referrer(&repo, &signature(&image, "layout cose", media::COSE))).await.unwrap();
    let now = listed(&s, &repo, &image.digest).await;
    assert_listed(&now, &first, Via::ReferrersApi);
    assert_listed(&now, &second, Via::ReferrersApi);
    // On disk for good: a new source over the directory sees both; nothing temporary is left.
    let reopened = LayoutSource::open_dir(&dir).unwrap();
    assert_eq!(listed(&reopened, &repo, &image.digest).await.len(), 2);
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    let blob = dir.join("blobs/sha256").join(second.descriptor.digest.trim_start_matches("sha256:"));
    assert!(std::fs::symlink_metadata(&blob).unwrap().is_file());
}

#[tokio::test]
async fn the_demo_layout_takes_signatures_in_memory() {
    let s = sigscope::demo::source();
    let repo = sigscope::demo::tags::REPOSITORY;
    let unsigned = guard(s.manifest(repo, sigscope::demo::tags::UNSIGNED)).await.unwrap().descriptor.clone();
    assert!(listed(&s, repo, &unsigned.digest).await.is_empty());
    let stored = guard(s.push_referrer(repo, &signature(&unsigned, "demo", media::JWS))).await.unwrap();
    assert_eq!(stored.listed_by, ListedBy::LayoutIndex);
    assert_listed(&listed(&s, repo, &unsigned.digest).await, &stored, Via::ReferrersApi);

    // The signed image keeps every referrer it had.
    let signed = guard(s.manifest(repo, sigscope::demo::tags::SIGNED)).await.unwrap().descriptor.clone();
    let before = listed(&s, repo, &signed.digest).await;
    assert!(before.len() >= 3, "{before:?}");
    let more = guard(s.push_referrer(repo, &signature(&signed, "demo again", media::COSE))).await.unwrap();
    let after = listed(&s, repo, &signed.digest).await;
    assert_eq!(after.len(), before.len() + 1);
    assert!(before.iter().all(|(d, _, _)| has(&after, d)));
    assert_listed(&after, &more, Via::ReferrersApi);

    // Each source signs into its own copy: the built-in demo stays as built.
    let fresh = sigscope::demo::source();
    assert!(listed(&fresh, repo, &unsigned.digest).await.is_empty());
}

#[tokio::test]
async fn two_signers_at_once_both_end_in_the_tag_schema_index() {
    let server = Server::docker_registry();
    let repo = "sign/race";
    let fx = guard(seed(&client(&server.host, test_options()), repo)).await;
    // Two sources with their own clients: two processes as far as the registry can tell.
    let (a, b) = (source(&server.host, test_options()), source(&server.host, test_options()));
    let mut expected: Vec<String> = listed(&a, repo, &fx.image.digest).await.into_iter().map(|(d, _, _)| d).collect();
    for round in 0..3 {
        let (ra, rb) = (
            signature(&fx.image, &format!("a{round}"), media::JWS),
            signature(&fx.image, &format!("b{round}"), media::COSE),
        );
        let (sa, sb) = guard(async { tokio::join!(a.push_referrer(repo, &ra), b.push_referrer(repo, &rb)) }).await;
        expected.push(sa.unwrap().descriptor.digest);
        expected.push(sb.unwrap().descriptor.digest);
        let now = listed(&source(&server.host, test_options()), repo, &fx.image.digest).await;
        for d in &expected {
            assert!(has(&now, d), "round {round}: {d} lost: {now:?}");
        }
        assert_eq!(now.len(), expected.len());
    }
}

/// A registry whose uploads are refused at one step: the typed error names the step, and the
/// tag-schema index (and the repository's tags) are as they were.
/// A 500 to the index PUT (distribution answers so when two writers of one tag race) is asked
/// again, the index read anew: the signature ends listed, not "stored but not listed".
#[tokio::test]
async fn a_server_error_on_the_index_update_is_retried_and_the_signature_is_listed() {
    let h = Hostile::start();
    let c = client(&h.host, test_options());
    let (image, _, _) = guard(common::fixtures::push_image(&c, "store-tagflaky/app", "v1", "amd64")).await;
    let referrer = signature(&image, "flaky", media::JWS);
    let stored = guard(source(&h.host, test_options()).push_referrer("store-tagflaky/app", &referrer)).await.unwrap();
    assert_eq!(stored.listed_by, ListedBy::TagSchema);
    let index = tag_schema_bytes(&c, "store-tagflaky/app", &image.digest).await.expect("the index exists");
    let index: serde_json::Value = serde_json::from_slice(&index).unwrap();
    assert!(index.to_string().contains(&stored.descriptor.digest), "listed after the retry: {index}");
}

#[tokio::test]
async fn refused_uploads_are_typed_errors_and_leave_the_index_untouched() {
    let h = Hostile::start();
    let c = client(&h.host, test_options());
    let (image, _, _) = guard(common::fixtures::push_image(&c, "store/app", "v1", "amd64")).await;
    let seeded =
        guard(source(&h.host, test_options()).push_referrer("store/app", &signature(&image, "seed", media::JWS)))
            .await
            .unwrap();
    assert_eq!(seeded.listed_by, ListedBy::TagSchema, "the stand-in has no referrers API");
    let index = tag_schema_bytes(&c, "store/app", &image.digest).await.unwrap();
    let tags = guard(source(&h.host, test_options()).tags("store/app")).await.unwrap();

    for (fault, step) in [
        ("store-blob401", "blob upload"),
        ("store-blob403", "blob upload"),
        ("store-blob500", "blob upload"),
        ("store-manifest401", "manifest upload"),
        ("store-manifest403", "manifest upload"),
        ("store-manifest500", "manifest upload"),
    ] {
        let repo = format!("{fault}/app");
        let referrer = signature(&image, fault, media::JWS);
        let e = guard(source(&h.host, test_options()).push_referrer(&repo, &referrer)).await.unwrap_err();
        let status = &fault[fault.len() - 3..];
        let typed = match (status, &e) {
            ("401", Error::Auth { detail, .. }) | ("403", Error::Denied { detail, .. }) => detail.contains(step),
            ("500", Error::Server { status: 500, detail, .. }) => detail.contains(step),
            _ => false,
        };
        assert!(typed, "{fault}: {e:?}");
        assert!(e.to_string().contains(step), "{fault}: the message names what was refused: {e}");
        assert_eq!(tag_schema_bytes(&c, "store/app", &image.digest).await.unwrap(), index, "{fault}");
        assert_eq!(guard(source(&h.host, test_options()).tags("store/app")).await.unwrap(), tags, "{fault}");
        let digest = sha256_digest(&referrer.manifest);
        let gone = guard(source(&h.host, test_options()).manifest("store/app", &digest)).await;
        assert!(matches!(gone, Err(Error::NotFound { .. })), "{fault}: the manifest was not stored: {gone:?}");
    }
}

#[tokio::test]
async fn a_refused_index_update_says_the_manifest_is_stored_but_not_listed() {
    let h = Hostile::start();
    let c = client(&h.host, test_options());
    let (image, _, _) = guard(common::fixtures::push_image(&c, "store-tag403/app", "v1", "amd64")).await;
    let referrer = signature(&image, "tag403", media::JWS);
    let e = guard(source(&h.host, test_options()).push_referrer("store-tag403/app", &referrer)).await.unwrap_err();
    let digest = sha256_digest(&referrer.manifest);
    assert!(matches!(e, Error::Denied { .. }), "the kind is kept: {e:?}");
    let text = e.to_string();
    assert!(text.contains(&format!("{digest} is stored but not listed")), "{text}");
    assert!(text.contains(&image.digest.replace(':', "-")), "names the index: {text}");
    assert!(guard(source(&h.host, test_options()).manifest("store-tag403/app", &digest)).await.is_ok(), "it is stored");
    assert_eq!(tag_schema_bytes(&c, "store-tag403/app", &image.digest).await, None, "and not listed");
}

#[tokio::test]
async fn a_stalled_upload_ends_within_the_timeout() {
    let h = Hostile::start();
    let c = client(&h.host, test_options());
    let (image, _, _) = guard(common::fixtures::push_image(&c, "store/app", "v1", "amd64")).await;
    let opts = RegistryOptions {
        read_timeout: std::time::Duration::from_secs(1),
        request_timeout: std::time::Duration::from_secs(2),
        ..test_options()
    };
    let e = guard(source(&h.host, opts).push_referrer("store-stall/app", &signature(&image, "stall", media::JWS)))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(e.to_string().contains("--timeout"), "{e}");
    assert_eq!(tag_schema_bytes(&c, "store/app", &image.digest).await, None, "nothing was listed");
}

#[tokio::test]
async fn a_writer_that_keeps_replacing_the_index_is_reported() {
    let h = Hostile::start();
    let c = client(&h.host, test_options());
    let (image, _, _) = guard(common::fixtures::push_image(&c, "store/app", "v1", "amd64")).await;
    let e =
        guard(source(&h.host, test_options()).push_referrer("store-clobber/app", &signature(&image, "x", media::JWS)))
            .await
            .unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    let text = e.to_string();
    let attempts = sigscope::source::push::TAG_SCHEMA_ATTEMPTS;
    assert!(text.contains("another writer") && text.contains(&format!("{attempts} times")), "{text}");
    // Each attempt reads the index, writes it, and reads it again.
    let path = format!("/v2/store-clobber/app/manifests/{}", digest_tag(&image.digest));
    assert_eq!(h.hits(&path), 3 * attempts);
}

#[tokio::test]
async fn uploads_over_the_threshold_go_in_chunks() {
    let big = vec![b'x'; sigscope::source::push::CHUNKED_UPLOAD_THRESHOLD + 1];
    for server in [Server::docker_registry(), Server::ferro()] {
        let repo = "sign/big";
        let (image, _, _) =
            guard(common::fixtures::push_image(&client(&server.host, test_options()), repo, "v1", "amd64")).await;
        let log = server.dir.path().join("requests.log");
        let s = source(&server.host, RegistryOptions { request_log: Some(log.clone()), ..test_options() });
        let referrer = signature_manifest(&image, Bytes::from(big.clone()), media::JWS, &chain(), signed_at()).unwrap();
        let stored = guard(s.push_referrer(repo, &referrer)).await.unwrap();
        let requests = std::fs::read_to_string(&log).unwrap();
        let patches = requests.lines().filter(|l| l.starts_with("PATCH ")).count();
        let chunks = big.len().div_ceil(sigscope::source::push::UPLOAD_CHUNK_BYTES);
        assert_eq!(patches, chunks, "{requests}");
        let m = guard(s.manifest(repo, &stored.descriptor.digest)).await.unwrap();
        assert_eq!(guard(s.blob(repo, &m.manifest.layers[0], big.len() as u64)).await.unwrap(), big);
        // A small envelope goes in one request.
        std::fs::write(&log, "").unwrap();
        guard(s.push_referrer(repo, &signature(&image, "small", media::JWS))).await.unwrap();
        assert!(!std::fs::read_to_string(&log).unwrap().contains("PATCH "));
    }
}

/// A layout's files whose first write lets "another program" rewrite index.json (the real
/// directory's files do the rest), to land between sigscope's read and its write.
struct Interloper {
    inner: DirFiles,
    dir: std::path::PathBuf,
    theirs: Vec<u8>,
    done: std::sync::atomic::AtomicBool,
}

impl LayoutFiles for Interloper {
    fn read(&self, rel: &str, limit: u64) -> sigscope::Result<Bytes> {
        self.inner.read(rel, limit)
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> sigscope::Result<()> {
        if !self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::fs::write(self.dir.join("index.json"), &self.theirs).unwrap();
        }
        self.inner.write(rel, bytes)
    }

    fn replace(&self, rel: &str, old: &[u8], new: &[u8]) -> sigscope::Result<()> {
        self.inner.replace(rel, old, new)
    }

    fn into_writable(self: Box<Self>) -> Box<dyn LayoutFiles> {
        self
    }
}

#[tokio::test]
async fn a_layout_index_changed_by_another_writer_is_left_as_they_left_it() {
    let mut layout = common::layout::Layout::new();
    let image = layout.image("v1", serde_json::json!({}));
    let other = layout.image("v2", serde_json::json!({}));
    let dir = layout.path().to_path_buf();
    // What the other program writes: index.json with only v2 listed.
    let theirs = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_INDEX,
        "manifests": [layout.index[1]],
    }))
    .unwrap();
    layout.index.truncate(1);
    layout.finish();
    let files = Interloper {
        inner: DirFiles::new(&dir).unwrap(),
        dir: dir.clone(),
        theirs: theirs.clone(),
        done: Default::default(),
    };
    let s = LayoutSource::open("layout".into(), "layout".into(), Box::new(files)).unwrap();
    let subject: Descriptor = serde_json::from_value(image.clone()).unwrap();
    let e = guard(s.push_referrer("layout", &signature(&subject, "late", media::JWS))).await.unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("index.json") && text.contains("another program"), "{text}");
    assert_eq!(std::fs::read(dir.join("index.json")).unwrap(), theirs, "index.json is as the other writer left it");
    // The source shows the layout as it is now.
    assert_eq!(*guard(s.tags("layout")).await.unwrap(), vec!["v2".to_string()]);
    let _ = other;
}

/// Layout files that can only be read.
struct ReadOnly(DirFiles);

impl LayoutFiles for ReadOnly {
    fn read(&self, rel: &str, limit: u64) -> sigscope::Result<Bytes> {
        self.0.read(rel, limit)
    }

    fn into_writable(self: Box<Self>) -> Box<dyn LayoutFiles> {
        self
    }
}

/// A source that lists nothing and stores nothing: the trait's defaults.
struct Listing;

#[async_trait::async_trait]
impl Source for Listing {
    fn name(&self) -> String {
        "listing".into()
    }
    fn host(&self) -> String {
        "listing".into()
    }
    async fn repositories(&self) -> sigscope::Result<Vec<String>> {
        Ok(Vec::new())
    }
    async fn tags(&self, _: &str) -> sigscope::Result<std::sync::Arc<Vec<String>>> {
        Ok(Default::default())
    }
    async fn manifest(&self, _: &str, r: &str) -> sigscope::Result<std::sync::Arc<sigscope::source::FetchedManifest>> {
        Err(Error::not_found(r))
    }
    async fn blob(&self, _: &str, d: &Descriptor, _: u64) -> sigscope::Result<Bytes> {
        Err(Error::not_found(d.digest.clone()))
    }
    async fn referrers_api(&self, _: &str, _: &str, _: Option<&str>) -> sigscope::Result<Option<Vec<Descriptor>>> {
        Ok(None)
    }
}

#[tokio::test]
async fn read_only_sources_refuse() {
    let subject = Descriptor::new(media::OCI_MANIFEST, b"{}");
    let e = Listing.push_referrer("r", &signature(&subject, "ro", media::JWS)).await.unwrap_err();
    assert!(matches!(&e, Error::Unsupported { what } if what.contains("listing")), "{e:?}");

    let mut layout = common::layout::Layout::new();
    let image: Descriptor = serde_json::from_value(layout.image("v1", serde_json::json!({}))).unwrap();
    let dir = layout.finish().to_path_buf();
    let before = std::fs::read(dir.join("index.json")).unwrap();
    let s = LayoutSource::open("ro".into(), "ro".into(), Box::new(ReadOnly(DirFiles::new(&dir).unwrap()))).unwrap();
    let e = s.push_referrer("ro", &signature(&image, "ro", media::JWS)).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
    assert_eq!(std::fs::read(dir.join("index.json")).unwrap(), before);
}

#[tokio::test]
async fn a_referrer_that_does_not_add_up_is_refused_before_anything_is_written() {
    let s = sigscope::demo::source();
    let repo = sigscope::demo::tags::REPOSITORY;
    let unsigned = guard(s.manifest(repo, sigscope::demo::tags::UNSIGNED)).await.unwrap().descriptor.clone();
    let signed = guard(s.manifest(repo, sigscope::demo::tags::SIGNED)).await.unwrap().descriptor.clone();
    // The manifest names one subject, the referrer another.
    let mut wrong_subject = signature(&unsigned, "a", media::JWS);
    wrong_subject.subject = signed.clone();
    // An envelope whose bytes are not the ones its descriptor names.
    let mut wrong_blob = signature(&unsigned, "b", media::JWS);
    wrong_blob.blobs[1].1 = Bytes::from_static(b"other bytes");
    // A layer the referrer does not carry.
    let mut missing_blob = signature(&unsigned, "c", media::JWS);
    missing_blob.blobs.pop();
    for (what, r) in [("subject", wrong_subject), ("blob", wrong_blob), ("missing", missing_blob)] {
        let e = guard(s.push_referrer(repo, &r)).await.unwrap_err();
        assert!(matches!(e, Error::Usage(_) | Error::Integrity { .. }), "{what}: {e:?}");
    }
    assert!(listed(&s, repo, &unsigned.digest).await.is_empty());
}
