//! OCI distribution registry over HTTP: auth, pagination, retries, limits, caching.
//!
//! Our own thin client on reqwest, because `oci-client` lacks `Link` pagination, the
//! `registry:catalog:*` scope, `Retry-After`, streaming size limits, referrers pagination and the
//! Content-Type of manifests.

use std::collections::HashMap;
use std::hash::Hash;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::sync::OnceCell;

use crate::error::{Error, Result};
use crate::oci::{Descriptor, Manifest, check_digest_syntax, media, verify_digest};
use crate::source::{FetchedManifest, NewReferrer, Source, SourceStats, StoredReferrer};

pub mod auth;
pub mod creds;
pub mod http;

use auth::Scope;
pub use http::RegistryClient;
use http::{Request, check_reference, check_repository};

/// How to reach a registry. Built from the command line's common flags.
#[derive(Clone)]
pub struct RegistryOptions {
    /// Use http:// even for non-loopback hosts (loopback hosts always may).
    pub plain_http: bool,
    /// Extra PEM root certificates for a private CA.
    pub ca_file: Option<PathBuf>,
    /// `--username` + `--password-stdin`; otherwise docker's config.json is consulted.
    pub credentials: Option<(String, String)>,
    /// docker config dir; `None` means `$DOCKER_CONFIG`, else `~/.docker`.
    pub docker_config: Option<PathBuf>,
    /// Consulted after `credentials` and before docker's config (the next: AWS for ECR).
    pub credential_source: Option<std::sync::Arc<dyn creds::CredentialSource>>,
    /// Requests in flight per registry. 32 by default: a whole-registry walk of 5,000 images took
    /// 1.50x the time of 32 parallel curls at 16 and 0.99x at 32, on docker-registry and ferro
    /// alike (BENCHMARKS.md).
    pub concurrency: usize,
    pub connect_timeout: Duration,
    /// Longest silence between two reads of one response.
    pub read_timeout: Duration,
    /// Longest one exchange may take, from connecting to the last byte of the body (`--timeout`):
    /// a server dripping a byte at a time is cut off here, not after its whole body.
    pub request_timeout: Duration,
    /// Wall-clock budget for every request of the whole command, counted from when the client is
    /// made (`--deadline` of `tree` and `verify`); `None` for the TUI, a long-running session.
    pub deadline: Option<Duration>,
    /// How many times a 429 is retried (after `Retry-After`).
    pub max_retries: u32,
    /// Blobs over this size are refused for previews.
    pub preview_limit: u64,
    /// Longest wait a `Retry-After` may impose before one retry.
    pub max_retry_wait: Duration,
    /// `n` asked for on catalog and tag pages (servers may ignore it).
    pub page_size: usize,
    /// Host names pinned to addresses, like curl's `--resolve`: lets a registry that must be
    /// reached by name (TLS, an ECR endpoint) be served from a local address.
    pub resolve: Vec<(String, std::net::SocketAddr)>,
    /// Appends `METHOD URL STATUS` for every request (benchmarks replay the GETs with curl).
    pub request_log: Option<PathBuf>,
    /// Most manifests, referrer listings and blobs kept once read, the oldest dropped first;
    /// `None` keeps them all. An OCI layout opened with these options keeps as many manifests. The TUI comes back to what it showed, so it keeps everything;
    /// `tree` reads each artifact once, and keeping every manifest of a 100,000-node walk
    /// took several times the memory of the graph itself (issue 13).
    pub cache_limit: Option<usize>,
}

// Hand-written so the password never reaches a log or a panic message.
impl std::fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("plain_http", &self.plain_http)
            .field("ca_file", &self.ca_file)
            .field("credentials", &self.credentials.as_ref().map(|(u, _)| format!("{u}:<redacted>")))
            .field("docker_config", &self.docker_config)
            .field("credential_source", &self.credential_source.as_ref().map(|s| s.name()))
            .field("concurrency", &self.concurrency)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("deadline", &self.deadline)
            .field("max_retries", &self.max_retries)
            .field("preview_limit", &self.preview_limit)
            .field("max_retry_wait", &self.max_retry_wait)
            .field("page_size", &self.page_size)
            .field("resolve", &self.resolve)
            .field("request_log", &self.request_log)
            .field("cache_limit", &self.cache_limit)
            .finish()
    }
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            plain_http: false,
            ca_file: None,
            credentials: None,
            docker_config: None,
            credential_source: None,
            concurrency: 32,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            deadline: None,
            max_retries: 3,
            preview_limit: super::DEFAULT_PREVIEW_LIMIT,
            max_retry_wait: Duration::from_secs(10),
            page_size: 1000,
            resolve: Vec::new(),
            request_log: None,
            cache_limit: None,
        }
    }
}

/// One fetch per key shared by concurrent callers. Successes stay for the run (or, with a
/// limit, until that many newer ones were kept); failures are shared with whoever waited on
/// them, then dropped so a later retry fetches again.
struct SingleFlight<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceCell<Result<V>>>>>,
    /// With a limit: the keys of kept successes, oldest first.
    kept: Mutex<std::collections::VecDeque<K>>,
    limit: Option<usize>,
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        SingleFlight { cells: Mutex::default(), kept: Mutex::default(), limit: None }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> SingleFlight<K, V> {
    fn with_limit(limit: Option<usize>) -> Self {
        SingleFlight { limit, ..Self::default() }
    }

    /// Counts a new success against the limit, dropping the oldest beyond it.
    fn count_kept(&self, key: &K) {
        let Some(limit) = self.limit else { return };
        let mut kept = self.kept.lock().expect("cache lock");
        kept.push_back(key.clone());
        while kept.len() > limit {
            let Some(old) = kept.pop_front() else { break };
            self.cells.lock().expect("cache lock").remove(&old);
        }
    }

    async fn get<F, Fut>(&self, key: K, client: &RegistryClient, fetch: F) -> Result<V>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V>>,
    {
        let (cell, shared) = {
            let mut cells = self.cells.lock().expect("cache lock");
            match cells.get(&key) {
                Some(c) => (c.clone(), true),
                None => {
                    let c: Arc<OnceCell<Result<V>>> = Arc::default();
                    cells.insert(key.clone(), c.clone());
                    (c, false)
                }
            }
        };
        if shared {
            client.bump(|s| s.cache_hits += 1);
        }
        // Every error leaving the source passes here: the last place to scrub secrets from
        // server text quoted anywhere (parsers, status errors), with every token known by now.
        let mut fetched = false;
        let result = cell
            .get_or_init(|| {
                fetched = true;
                fetch()
            })
            .await
            .clone()
            .map_err(|e| client.scrub_error(e));
        if result.is_err() {
            let mut cells = self.cells.lock().expect("cache lock");
            if cells.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                cells.remove(&key);
            }
        } else if fetched {
            self.count_kept(&key);
        }
        result
    }

    fn insert(&self, key: K, value: V) {
        let cell = Arc::new(OnceCell::new_with(Some(Ok(value))));
        let new = {
            let mut cells = self.cells.lock().expect("cache lock");
            let new = !cells.contains_key(&key);
            cells.entry(key.clone()).or_insert(cell);
            new
        };
        if new {
            self.count_kept(&key);
        }
    }

    fn retain(&self, keep: impl Fn(&K) -> bool) {
        self.cells.lock().expect("cache lock").retain(|k, _| keep(k));
        // A key forgotten here and fetched again must not be dropped for its older reading.
        self.kept.lock().expect("cache lock").retain(|k| keep(k));
    }
}

type RepoKey = (String, String);

/// A registry as a [`super::Source`].
pub struct RegistrySource {
    client: Arc<RegistryClient>,
    manifests: SingleFlight<RepoKey, Arc<FetchedManifest>>,
    tagged: SingleFlight<RepoKey, Arc<FetchedManifest>>,
    blobs: SingleFlight<RepoKey, Bytes>,
    tags: SingleFlight<String, Arc<Vec<String>>>,
    referrers: SingleFlight<(String, String, Option<String>), Option<Vec<Descriptor>>>,
    /// Per repository: does the referrers API exist? Like oras, the first lookup finds out
    /// (others wait for it); after an "unsupported" answer the tag schema is used directly.
    referrers_api_state: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<bool>>>>>,
    repositories: SingleFlight<(), Vec<String>>,
    notes: Mutex<Vec<String>>,
}

impl RegistrySource {
    /// A source for `host` (`127.0.0.1:5000`, `ghcr.io`, `docker.io`). Nothing is sent yet.
    pub fn new(host: &str, opts: RegistryOptions) -> Result<Self> {
        Ok(Self::with_client(Arc::new(RegistryClient::new(host, opts)?)))
    }

    pub fn with_client(client: Arc<RegistryClient>) -> Self {
        let limit = client.options().cache_limit;
        RegistrySource {
            client,
            manifests: SingleFlight::with_limit(limit),
            // A tag's manifest is kept by digest too (the same `Arc`), and a walk asks each tag
            // once; holding as many by tag as by digest kept manifests alive long after the
            // digest cache had let them go, a third of a walk's cache memory (issue 13).
            tagged: SingleFlight::with_limit(limit.map(|n| (n / 4).max(1))),
            blobs: SingleFlight::with_limit(limit),
            // Tag lists are asked again for every artifact of their repository (is its
            // `sha256-<hex>` tag there?), and hold a name per tag: kept whatever the limit.
            tags: SingleFlight::default(),
            referrers: SingleFlight::with_limit(limit),
            referrers_api_state: Mutex::default(),
            repositories: SingleFlight::default(),
            notes: Mutex::default(),
        }
    }

    /// The HTTP client, shared with [`crate::source::push`].
    pub fn client(&self) -> &Arc<RegistryClient> {
        &self.client
    }

    /// Things noticed on the way that are not errors (e.g. a referrers endpoint that answered
    /// with something other than an index), for the status bar or `-v`.
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().expect("notes lock").clone()
    }

    /// Forgets what was cached by tag for `repository` (tag list, tag → manifest, referrers),
    /// e.g. after pushing a signature. Content cached by digest stays valid.
    pub fn forget_repository(&self, repository: &str) {
        self.forget_names(Some(repository));
    }

    fn note(&self, text: String) {
        self.notes.lock().expect("notes lock").push(text);
    }

    async fn fetch_manifest(&self, repository: &str, reference: &str) -> Result<Arc<FetchedManifest>> {
        let expected = check_digest_syntax(reference).is_ok().then_some(reference);
        let what = format!("{}/{repository}:{reference}", self.client.host());
        let (raw, content_type, header_digest) =
            self.client.get_manifest(repository, reference, Scope::Pull(repository.to_string())).await?;
        // By tag, the server's digest header is all we have to check the bytes against.
        if let (None, Some(d)) = (expected, header_digest.as_deref())
            && check_digest_syntax(d).is_ok()
        {
            verify_digest(&format!("manifest {what}"), &raw, d)?;
        }
        let fetched = FetchedManifest::from_bytes(raw, content_type.as_deref(), expected, &what)?;
        self.client.bump(|s| s.manifests_fetched += 1);
        Ok(Arc::new(fetched))
    }

    async fn fetch_referrers(
        &self,
        repository: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>> {
        let gate = self.referrers_api_state.lock().expect("lock").entry(repository.to_string()).or_default().clone();
        let mut known = gate.lock().await;
        match *known {
            Some(false) => Ok(None),
            Some(true) => {
                drop(known);
                self.fetch_referrer_pages(repository, digest, artifact_type).await
            }
            None => {
                let result = self.fetch_referrer_pages(repository, digest, artifact_type).await;
                if let Ok(found) = &result {
                    *known = Some(found.is_some());
                }
                result
            }
        }
    }

    async fn fetch_referrer_pages(
        &self,
        repository: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>> {
        let what = format!("referrers of {}/{repository}@{digest}", self.client.host());
        let mut url = self.client.url(&format!("v2/{repository}/referrers/{digest}"));
        if let Some(at) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", at);
        }
        let mut found = Vec::new();
        let mut next = Some(url);
        let mut pages = 0usize;
        let mut trail = http::PageTrail::default();
        while let Some(url) = next.take() {
            trail.visit(&url, &what)?;
            pages += 1;
            let mut req = Request::get(url.clone(), Scope::Pull(repository.to_string()));
            req.accept = Some(media::OCI_INDEX);
            let reply = self.client.send(req).await?;
            let status = reply.resp.status().as_u16();
            if pages == 1 && matches!(status, 404 | 400 | 405 | 501) {
                return Ok(None);
            }
            if !reply.resp.status().is_success() {
                return Err(self.client.status_error(reply.resp, &what).await);
            }
            let headers = reply.resp.headers().clone();
            let body = self.client.read_limited(reply.resp, crate::oci::MAX_MANIFEST_BYTES, &what).await?;
            trail.read(body.len(), &what)?;
            let page = match parse_referrers_page(&body, digest) {
                Ok(p) => p,
                Err(why) if pages == 1 => {
                    self.note(format!("{what}: the referrers endpoint answered 200 with {why}; using the tag schema"));
                    return Ok(None);
                }
                Err(why) => return Err(Error::malformed(&what, format!("page {pages} is {why}"))),
            };
            let filtered = filters_applied(&headers, "artifactType");
            found.extend(
                page.manifests
                    .into_iter()
                    .filter(|d| filtered || artifact_type.is_none_or(|at| d.artifact_type.as_deref() == Some(at))),
            );
            if let Some(link) = http::next_link(&headers) {
                next = Some(self.client.resolve(&url, &link, &format!("Link header of {what}"))?);
            }
        }
        Ok(Some(found))
    }
}

/// A referrers response must be an index whose entries are other manifests; anything else
/// means the server does not implement the API (some resolve the path as something else).
fn parse_referrers_page(body: &[u8], subject: &str) -> std::result::Result<Manifest, &'static str> {
    let m = Manifest::parse(body).map_err(|_| "a body that is not an OCI index")?;
    let index_type = m.media_type.as_deref().is_none_or(|mt| mt == media::OCI_INDEX);
    if !index_type || m.config.is_some() || !m.layers().is_empty() || m.schema_version != 2 {
        return Err("a manifest that is not a referrers index");
    }
    if m.manifests.iter().any(|d| d.digest == subject) {
        return Err("an index that lists the subject as its own referrer");
    }
    Ok(m)
}

fn filters_applied(headers: &HeaderMap, filter: &str) -> bool {
    headers
        .get_all("oci-filters-applied")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|f| f.trim() == filter)
}

#[derive(serde::Deserialize)]
struct CatalogPage {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct TagsPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

#[async_trait]
impl Source for RegistrySource {
    fn name(&self) -> String {
        self.client.host().to_string()
    }

    fn host(&self) -> String {
        self.client.host().to_string()
    }

    async fn repositories(&self) -> Result<Vec<String>> {
        self.repositories
            .get((), &self.client, || async {
                let mut url = self.client.url("v2/_catalog");
                url.query_pairs_mut().append_pair("n", &self.client.options().page_size.to_string());
                let mut all = Vec::new();
                let what = format!("catalog of {}", self.client.host());
                self.client
                    .paginate(url, Scope::Catalog, &what, |p: CatalogPage, _| {
                        all.extend(p.repositories.unwrap_or_default());
                        Ok(())
                    })
                    .await?;
                all.sort();
                all.dedup();
                Ok(all)
            })
            .await
    }

    async fn tags(&self, repository: &str) -> Result<Arc<Vec<String>>> {
        check_repository(repository)?;
        self.tags
            .get(repository.to_string(), &self.client, || async {
                let mut url = self.client.url(&format!("v2/{repository}/tags/list"));
                url.query_pairs_mut().append_pair("n", &self.client.options().page_size.to_string());
                let mut all = Vec::new();
                let what = format!("tags of {}/{repository}", self.client.host());
                self.client
                    .paginate(url, Scope::Pull(repository.to_string()), &what, |p: TagsPage, _| {
                        all.extend(p.tags.unwrap_or_default());
                        Ok(())
                    })
                    .await?;
                all.sort();
                all.dedup();
                Ok(Arc::new(all))
            })
            .await
    }

    async fn manifest(&self, repository: &str, reference: &str) -> Result<Arc<FetchedManifest>> {
        check_repository(repository)?;
        check_reference(reference)?;
        let key = (repository.to_string(), reference.to_string());
        if check_digest_syntax(reference).is_ok() {
            return self.manifests.get(key, &self.client, || self.fetch_manifest(repository, reference)).await;
        }
        self.tagged
            .get(key, &self.client, || async {
                let fetched = self.fetch_manifest(repository, reference).await?;
                self.manifests.insert((repository.to_string(), fetched.descriptor.digest.clone()), fetched.clone());
                Ok(fetched)
            })
            .await
    }

    async fn blob(&self, repository: &str, descriptor: &Descriptor, limit: u64) -> Result<Bytes> {
        check_repository(repository)?;
        check_digest_syntax(&descriptor.digest)?;
        let what = format!("blob {}/{repository}@{}", self.client.host(), descriptor.digest);
        if descriptor.size > limit {
            return Err(Error::TooLarge { what, size: descriptor.size, limit });
        }
        let key = (repository.to_string(), descriptor.digest.clone());
        let bytes = self
            .blobs
            .get(key, &self.client, || async {
                let url = self.client.url(&format!("v2/{repository}/blobs/{}", descriptor.digest));
                let reply = self.client.send_ok(Request::get(url, Scope::Pull(repository.to_string())), &what).await?;
                let raw = self.client.read_limited(reply.resp, limit, &what).await?;
                verify_digest(&what, &raw, &descriptor.digest)?;
                self.client.bump(|s| s.blobs_fetched += 1);
                Ok(raw)
            })
            .await?;
        // A blob cached by an earlier caller with a larger limit.
        if bytes.len() as u64 > limit {
            return Err(Error::TooLarge { what, size: bytes.len() as u64, limit });
        }
        Ok(bytes)
    }

    async fn referrers_api(
        &self,
        repository: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>> {
        check_repository(repository)?;
        check_digest_syntax(digest)?;
        let key = (repository.to_string(), digest.to_string(), artifact_type.map(str::to_string));
        self.referrers.get(key, &self.client, || self.fetch_referrers(repository, digest, artifact_type)).await
    }

    fn forget_names(&self, repository: Option<&str>) {
        let mine = |r: &str| repository.is_none_or(|want| want == r);
        self.tags.retain(|r| !mine(r));
        self.tagged.retain(|(r, _)| !mine(r));
        self.referrers.retain(|(r, _, _)| !mine(r));
        self.repositories.retain(|_| false);
    }

    fn stats(&self) -> SourceStats {
        self.client.stats()
    }

    /// Blobs (monolithic, or chunked over [`super::push::CHUNKED_UPLOAD_THRESHOLD`]), the
    /// manifest by digest, then — when the registry does not answer `OCI-Subject` — the
    /// `sha256-<hex>` tag-schema index (see [`super::push::add_to_tag_schema`]).
    async fn push_referrer(&self, repository: &str, referrer: &NewReferrer) -> Result<StoredReferrer> {
        let stored = super::push::store_referrer(&self.client, repository, referrer).await;
        // Even a failure may have changed the repository (a manifest stored, not listed).
        self.forget_names(Some(repository));
        stored.map_err(|e| self.client.scrub_error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limited_cache_lets_the_oldest_go_and_counts_a_key_once() {
        let cache: SingleFlight<u32, u32> = SingleFlight::with_limit(Some(2));
        for k in [1, 2, 2, 3] {
            cache.insert(k, k * 10);
        }
        let kept = |k| cache.cells.lock().unwrap().contains_key(&k);
        assert!(!kept(1) && kept(2) && kept(3), "1 went first; 2 inserted twice is one entry");
        // Forgotten, then read again: its new reading is not dropped for the old one.
        cache.retain(|&k| k != 2);
        cache.insert(2, 21);
        cache.insert(4, 40);
        assert!(kept(2) && kept(4) && !kept(3), "the oldest kept reading went");
        let unlimited: SingleFlight<u32, u32> = SingleFlight::default();
        for k in 0..100 {
            unlimited.insert(k, k);
        }
        assert_eq!(unlimited.cells.lock().unwrap().len(), 100);
    }

    #[test]
    fn options_debug_hides_the_password() {
        let o = RegistryOptions { credentials: Some(("bob".into(), "pa55word".into())), ..Default::default() };
        let s = format!("{o:?}");
        assert!(s.contains("bob") && !s.contains("pa55word"), "{s}");
    }

    #[test]
    fn referrers_pages() {
        let subject = format!("sha256:{}", "a".repeat(64));
        let other = format!("sha256:{}", "b".repeat(64));
        let idx = |d: &str| {
            format!(
                r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","digest":"{d}","size":1}}]}}"#,
                media::OCI_INDEX,
                media::OCI_MANIFEST
            )
        };
        assert!(parse_referrers_page(idx(&other).as_bytes(), &subject).is_ok());
        assert!(parse_referrers_page(idx(&subject).as_bytes(), &subject).is_err());
        let image = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"x","digest":"{other}","size":1}},"layers":[]}}"#,
            media::OCI_MANIFEST
        );
        assert!(parse_referrers_page(image.as_bytes(), &subject).is_err());
        assert!(parse_referrers_page(b"<html>", &subject).is_err());
    }
}
