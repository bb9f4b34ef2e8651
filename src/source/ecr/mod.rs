//! AWS ECR as a source: repositories and images from the ECR API (DescribeRepositories,
//! DescribeImages, with the SDK's paginators), manifests, blobs and referrers from the registry
//! endpoint through the ordinary registry client, authenticated with GetAuthorizationToken's
//! token as Basic auth and refreshed before it expires. Credentials come from the standard AWS
//! chain.
//!
//! The registry client is rebuilt with each new token (its credential is fixed for its life):
//! what it cached by digest goes with it, once every 12 hours.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;

use crate::aws;
use crate::error::{Error, Result};
use crate::oci::Descriptor;
use crate::source::registry::{RegistryOptions, RegistrySource};
use crate::source::{FetchedManifest, NewReferrer, Source, SourceStats, StoredReferrer};

pub mod facts;
pub mod images;
pub mod regions;
pub mod token;

pub use images::{EcrFinding, EcrImage, EcrRepository, EcrScan};

/// Where the registry endpoint (`/v2/…`) of every ECR registry is reached instead of
/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com`: `http://IP:PORT` or `https://IP:PORT`. The name in
/// references and the host the token is checked against stay the ECR ones. For test set-ups
/// (an emulated ECR API with a local registry) and for private endpoints reached by address.
pub const REGISTRY_ENDPOINT_ENV: &str = "SIGSCOPE_ECR_REGISTRY_ENDPOINT";

/// Most pages one ECR listing may take (1,000 items a page at most, 100 by default).
const MAX_PAGES: usize = 1_000;

/// `--ecr`, `--region`, `--profile`, `--registry-id`.
#[derive(Debug, Clone, Default)]
pub struct EcrOptions {
    /// Open the ECR registries of the account (one per region) instead of a TARGET.
    pub enabled: bool,
    /// Regions for `--ecr`; none: the chain's own (`AWS_REGION`, the profile's `region`).
    pub regions: Vec<String>,
    /// A profile of `~/.aws/config`; none: `AWS_PROFILE`, else `default`.
    pub profile: Option<String>,
    /// The account whose registries `--ecr` opens; none: the caller's own.
    pub registry_id: Option<String>,
    /// [`REGISTRY_ENDPOINT_ENV`] given in code; `None` reads the environment.
    pub registry_endpoint: Option<String>,
    /// [`token::MIN_TOKEN_REUSE`] unless set (tests make it zero to see a refresh).
    pub min_token_reuse: Option<Duration>,
    /// `maxResults` of DescribeRepositories and DescribeImages pages; none: the service's.
    pub page_size: Option<i32>,
}

/// `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]`, what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrHost {
    pub account: String,
    pub region: String,
}

/// The ECR registry a host names, if it is one (a port is not part of an ECR name).
pub fn parse_host(host: &str) -> Option<EcrHost> {
    let lower = host.to_ascii_lowercase();
    let rest = lower.strip_suffix(".amazonaws.com").or_else(|| lower.strip_suffix(".amazonaws.com.cn"))?;
    let mut parts = rest.split('.');
    let (account, dkr, ecr, region) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let ok = parts.next().is_none()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && dkr == "dkr"
        && (ecr == "ecr" || ecr == "ecr-fips")
        && valid_region(region);
    ok.then(|| EcrHost { account: account.to_string(), region: region.to_string() })
}

/// Lower-case letters, digits and dashes: it goes into host names and the SigV4 scope.
fn valid_region(r: &str) -> bool {
    !r.is_empty() && r.len() <= 40 && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn registry_host(account: &str, region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("{account}.dkr.ecr.{region}.{suffix}")
}

/// The registry endpoint override: an address (no name to resolve) and whether it is https.
fn endpoint_override(opts: &EcrOptions) -> Result<Option<(SocketAddr, bool)>> {
    let text = match &opts.registry_endpoint {
        Some(t) => t.clone(),
        None => match std::env::var(REGISTRY_ENDPOINT_ENV) {
            Ok(t) if !t.trim().is_empty() => t,
            _ => return Ok(None),
        },
    };
    let bad = || {
        Error::Usage(format!(
            "{REGISTRY_ENDPOINT_ENV}={:?}: expected http://IP:PORT or https://IP:PORT",
            crate::sanitize::clip(&text, 100)
        ))
    };
    let url = url::Url::parse(text.trim()).map_err(|_| bad())?;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        _ => return Err(bad()),
    };
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
        Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => std::net::Ipv4Addr::LOCALHOST.into(),
        _ => return Err(bad()),
    };
    let port = url.port_or_known_default().ok_or_else(bad)?;
    Ok(Some((SocketAddr::new(ip, port), https)))
}

type ImageList = Arc<tokio::sync::OnceCell<Arc<Vec<EcrImage>>>>;

/// One ECR registry: one account in one region.
pub struct EcrSource {
    /// Known from the TARGET or `--region`; else the chain's default, found on first use.
    region: OnceLock<String>,
    /// Known from the TARGET or `--registry-id`; else learned from the first answer.
    account: OnceLock<String>,
    settings: aws::AwsSettings,
    base: RegistryOptions,
    opts: EcrOptions,
    endpoint: Option<(SocketAddr, bool)>,
    client: tokio::sync::OnceCell<aws_sdk_ecr::Client>,
    /// The registry client holding the current token, and when to replace it.
    current: Mutex<Option<(Arc<RegistrySource>, Instant)>>,
    refreshing: tokio::sync::Mutex<()>,
    /// Per repository, one DescribeImages listing shared by concurrent callers (the tag list is
    /// asked for by every tag-schema lookup of the repository).
    images: Mutex<HashMap<String, ImageList>>,
    tokens_fetched: AtomicU64,
}

impl EcrSource {
    /// A source for `account` (none: the caller's) in `region` (none: the chain's). Nothing
    /// is sent yet.
    pub fn new(account: Option<&str>, region: Option<&str>, base: RegistryOptions, opts: EcrOptions) -> Result<Self> {
        let endpoint = endpoint_override(&opts)?;
        let settings = crate::source::connect::aws_settings_of(&base, opts.profile.clone())?;
        let source = EcrSource {
            region: OnceLock::new(),
            account: OnceLock::new(),
            settings,
            base,
            opts,
            endpoint,
            client: tokio::sync::OnceCell::new(),
            current: Mutex::default(),
            refreshing: tokio::sync::Mutex::new(()),
            images: Mutex::default(),
            tokens_fetched: AtomicU64::new(0),
        };
        if let Some(a) = account {
            if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::Usage(format!(
                    "--registry-id {:?}: an AWS account id is 12 digits",
                    crate::sanitize::clip(a, 40)
                )));
            }
            let _ = source.account.set(a.to_string());
        }
        if let Some(r) = region {
            if !valid_region(r) {
                return Err(Error::Usage(format!(
                    "--region {:?}: an AWS region is a name like us-east-1",
                    crate::sanitize::clip(r, 40)
                )));
            }
            let _ = source.region.set(r.to_string());
        }
        Ok(source)
    }

    /// The source for an ECR registry host.
    pub fn for_host(host: &EcrHost, base: RegistryOptions, opts: EcrOptions) -> Result<Self> {
        Self::new(Some(&host.account), Some(&host.region), base, opts)
    }

    /// The region, once known.
    pub fn region(&self) -> Option<&str> {
        self.region.get().map(String::as_str)
    }

    /// How many GetAuthorizationToken answers were used (each a new registry client).
    pub fn tokens_fetched(&self) -> u64 {
        self.tokens_fetched.load(Ordering::Relaxed)
    }

    async fn client(&self) -> Result<(&aws_sdk_ecr::Client, &str)> {
        let client = self
            .client
            .get_or_try_init(|| async {
                let region = match self.region.get() {
                    Some(r) => r.clone(),
                    None => aws::default_region(&self.settings).await.ok_or_else(|| {
                        Error::Usage(
                            "no AWS region for ECR: pass --region, set AWS_REGION, or give the profile a region".into(),
                        )
                    })?,
                };
                let _ = self.region.set(region.clone());
                Ok::<_, Error>(aws::ecr_client(&self.settings, &region).await)
            })
            .await?;
        Ok((client, self.region.get().map(String::as_str).unwrap_or_default()))
    }

    fn learn_account(&self, account: &str) {
        if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
            let _ = self.account.set(account.to_string());
        }
    }

    /// The registry host, once the account and region are known.
    pub fn registry_host(&self) -> Option<String> {
        Some(registry_host(self.account.get()?, self.region.get()?))
    }

    /// Every repository (DescribeRepositories, every page).
    pub async fn describe_repositories(&self) -> Result<Vec<EcrRepository>> {
        let (client, region) = self.client().await?;
        let mut pages = client
            .describe_repositories()
            .set_registry_id(self.account.get().cloned())
            .set_max_results(self.opts.page_size)
            .into_paginator()
            .send();
        let mut all = Vec::new();
        let mut n = 0usize;
        while let Some(page) = pages.next().await {
            n += 1;
            if n > MAX_PAGES {
                return Err(too_many_pages("DescribeRepositories", region));
            }
            let page = page.map_err(|e| aws::sdk_error("DescribeRepositories", region, e))?;
            all.extend(page.repositories().iter().filter_map(EcrRepository::from_sdk));
        }
        if let Some(id) = all.iter().find_map(|r| r.registry_id.clone()) {
            self.learn_account(&id);
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// Every image of a repository (DescribeImages, every page), cached until
    /// [`Source::forget_names`]; a failure is not cached.
    pub async fn images(&self, repository: &str) -> Result<Arc<Vec<EcrImage>>> {
        let cell = self.images.lock().expect("images lock").entry(repository.to_string()).or_default().clone();
        let listed = cell.get_or_try_init(|| self.describe_images(repository)).await.cloned();
        if listed.is_err() {
            let mut images = self.images.lock().expect("images lock");
            if images.get(repository).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                images.remove(repository);
            }
        }
        listed
    }

    async fn describe_images(&self, repository: &str) -> Result<Arc<Vec<EcrImage>>> {
        let (client, region) = self.client().await?;
        let mut pages = client
            .describe_images()
            .repository_name(repository)
            .set_registry_id(self.account.get().cloned())
            .set_max_results(self.opts.page_size)
            .into_paginator()
            .send();
        let mut all = Vec::new();
        let mut n = 0usize;
        while let Some(page) = pages.next().await {
            n += 1;
            if n > MAX_PAGES {
                return Err(too_many_pages("DescribeImages", region));
            }
            let page = page.map_err(|e| aws::sdk_error("DescribeImages", region, e))?;
            all.extend(page.image_details().iter().filter_map(EcrImage::from_sdk));
        }
        Ok(Arc::new(all))
    }

    /// The scan findings of one image (DescribeImageScanFindings): `None` when it was never
    /// scanned.
    pub async fn scan_findings(&self, repository: &str, digest: &str) -> Result<Option<EcrScan>> {
        crate::oci::check_digest_syntax(digest)?;
        let (client, region) = self.client().await?;
        let image = aws_sdk_ecr::types::ImageIdentifier::builder().image_digest(digest).build();
        let mut pages = client
            .describe_image_scan_findings()
            .repository_name(repository)
            .image_id(image)
            .set_registry_id(self.account.get().cloned())
            .into_paginator()
            .send();
        let mut scan: Option<EcrScan> = None;
        let mut n = 0usize;
        while let Some(page) = pages.next().await {
            n += 1;
            if n > MAX_PAGES {
                return Err(too_many_pages("DescribeImageScanFindings", region));
            }
            let page = match page {
                Ok(p) => p,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_scan_not_found_exception()) => return Ok(None),
                Err(e) => return Err(aws::sdk_error("DescribeImageScanFindings", region, e)),
            };
            let summary = scan.get_or_insert_with(|| EcrScan::start(&page));
            if !summary.add(&page) {
                break;
            }
        }
        Ok(scan)
    }

    /// A token for the registry: GetAuthorizationToken, checked to be for this registry.
    async fn fetch_token(&self) -> Result<token::EcrToken> {
        let (client, region) = self.client().await?;
        let answer = client
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| aws::sdk_error("GetAuthorizationToken", region, e))?;
        let what = format!("ECR GetAuthorizationToken answer in {region}");
        let data =
            answer.authorization_data().first().ok_or_else(|| Error::malformed(&what, "no authorizationData"))?;
        let (raw, endpoint) = data
            .authorization_token()
            .zip(data.proxy_endpoint())
            .ok_or_else(|| Error::malformed(&what, "no authorizationToken or proxyEndpoint"))?;
        let (host, credential) = token::parse(raw, endpoint)?;
        let named = parse_host(&host).ok_or_else(|| {
            Error::malformed(
                &what,
                format!("proxyEndpoint {:?} is not an ECR registry", crate::sanitize::clip(&host, 100)),
            )
        })?;
        if named.region != region {
            return Err(Error::malformed(&what, format!("the token is for {host}, not for a registry in {region}")));
        }
        // The token opens every registry of the region the identity may read, its own (the one
        // `proxyEndpoint` names) and other accounts' alike: it goes to the registry asked for.
        self.learn_account(&named.account);
        let account = self.account.get().cloned().unwrap_or(named.account);
        let host = registry_host(&account, region);
        let now_unix = chrono::Utc::now().timestamp();
        let expires_in = data.expires_at().map(|t| t.secs() - now_unix);
        let min_reuse = self.opts.min_token_reuse.unwrap_or(token::MIN_TOKEN_REUSE);
        self.tokens_fetched.fetch_add(1, Ordering::Relaxed);
        Ok(token::EcrToken { host, credential, refresh_at: token::refresh_at(Instant::now(), expires_in, min_reuse) })
    }

    fn current_registry(&self) -> Option<Arc<RegistrySource>> {
        let now = Instant::now();
        self.current.lock().expect("registry lock").as_ref().filter(|(_, at)| now < *at).map(|(r, _)| r.clone())
    }

    /// Whether `e` is the registry refusing the token `used` holds; if so that token is
    /// dropped, so the caller's one retry gets a new one (a token revoked, or expired early by
    /// a clock that is off). Pushes are not retried.
    fn refused(&self, used: &Arc<RegistrySource>, e: &Error) -> bool {
        if !matches!(e, Error::Auth { .. }) {
            return false;
        }
        let mut current = self.current.lock().expect("registry lock");
        if current.as_ref().is_some_and(|(r, _)| Arc::ptr_eq(r, used)) {
            *current = None;
        }
        true
    }

    /// The registry client with a token that is not about to expire.
    async fn registry(&self) -> Result<Arc<RegistrySource>> {
        if let Some(r) = self.current_registry() {
            return Ok(r);
        }
        let _one_refresh = self.refreshing.lock().await;
        if let Some(r) = self.current_registry() {
            return Ok(r);
        }
        let token = self.fetch_token().await?;
        let mut opts = self.base.clone();
        // ECR takes its token, not --username or docker's login for the host.
        opts.credentials = None;
        if let Some((addr, https)) = self.endpoint {
            opts.resolve.push((token.host.clone(), addr));
            opts.plain_http = !https;
        }
        let refresh_at = token.refresh_at;
        let host = token.host.clone();
        opts.credential_source = Some(Arc::new(token::TokenCredential(token)));
        let registry = Arc::new(RegistrySource::new(&host, opts)?);
        *self.current.lock().expect("registry lock") = Some((registry.clone(), refresh_at));
        Ok(registry)
    }
}

fn too_many_pages(operation: &str, region: &str) -> Error {
    Error::malformed(
        format!("ECR {operation} in {region}"),
        format!("more than {MAX_PAGES} pages: the service keeps answering with a nextToken"),
    )
}

/// A registry refusing the token is an ECR matter: the advice is about IAM and the token, not
/// about --username.
fn registry_error(e: Error) -> Error {
    match e {
        Error::Auth { target, detail, .. } => Error::Denied {
            target: format!("ECR registry {target}"),
            detail: format!(
                "{detail}; the registry refused the GetAuthorizationToken credential: the IAM identity needs \
                 ecr:GetAuthorizationToken and ecr:BatchGetImage on the repository"
            ),
        },
        e => e,
    }
}

#[async_trait]
impl Source for EcrSource {
    fn name(&self) -> String {
        self.host()
    }

    fn host(&self) -> String {
        match (self.registry_host(), self.region.get()) {
            (Some(h), _) => h,
            (None, Some(r)) => format!("ECR {r}"),
            (None, None) => "ECR".into(),
        }
    }

    async fn repositories(&self) -> Result<Vec<String>> {
        Ok(self.describe_repositories().await?.into_iter().map(|r| r.name).collect())
    }

    async fn tags(&self, repository: &str) -> Result<Arc<Vec<String>>> {
        crate::source::registry::http::check_repository(repository)?;
        let images = self.images(repository).await?;
        let mut tags: Vec<String> = images.iter().flat_map(|i| i.tags.iter().cloned()).collect();
        tags.sort();
        tags.dedup();
        Ok(Arc::new(tags))
    }

    async fn manifest(&self, repository: &str, reference: &str) -> Result<Arc<FetchedManifest>> {
        let registry = self.registry().await?;
        match registry.manifest(repository, reference).await {
            Err(e) if self.refused(&registry, &e) => self.registry().await?.manifest(repository, reference).await,
            r => r,
        }
        .map_err(registry_error)
    }

    async fn blob(&self, repository: &str, descriptor: &Descriptor, limit: u64) -> Result<Bytes> {
        let registry = self.registry().await?;
        match registry.blob(repository, descriptor, limit).await {
            Err(e) if self.refused(&registry, &e) => self.registry().await?.blob(repository, descriptor, limit).await,
            r => r,
        }
        .map_err(registry_error)
    }

    async fn referrers_api(
        &self,
        repository: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>> {
        let registry = self.registry().await?;
        match registry.referrers_api(repository, digest, artifact_type).await {
            Err(e) if self.refused(&registry, &e) => {
                self.registry().await?.referrers_api(repository, digest, artifact_type).await
            }
            r => r,
        }
        .map_err(registry_error)
    }

    fn forget_names(&self, repository: Option<&str>) {
        let mut images = self.images.lock().expect("images lock");
        match repository {
            Some(r) => {
                images.remove(r);
            }
            None => images.clear(),
        }
        drop(images);
        if let Some((r, _)) = self.current.lock().expect("registry lock").as_ref() {
            r.forget_names(repository);
        }
    }

    fn stats(&self) -> SourceStats {
        self.current.lock().expect("registry lock").as_ref().map(|(r, _)| r.stats()).unwrap_or_default()
    }

    async fn push_referrer(&self, repository: &str, referrer: &NewReferrer) -> Result<StoredReferrer> {
        let stored = self.registry().await?.push_referrer(repository, referrer).await.map_err(registry_error);
        self.forget_names(Some(repository));
        stored
    }

    /// The record DescribeImages gave, if the repository's images were listed in this run.
    fn known_record(&self, repository: &str, digest: &str) -> Option<crate::source::KnownRecord> {
        let cell = self.images.lock().expect("images lock").get(repository).cloned()?;
        let images = cell.get()?.clone();
        images.iter().find(|i| i.digest == digest).map(facts::record)
    }

    async fn load_records(&self, repository: &str) -> Result<()> {
        crate::source::registry::http::check_repository(repository)?;
        self.images(repository).await.map(|_| ())
    }

    /// DescribeImages' record of the digest and its scan findings. The listing failing fails
    /// the whole; the findings failing (another IAM action) is said among the facts.
    async fn registry_facts(&self, repository: &str, digest: &str) -> Result<Option<crate::source::RegistryFacts>> {
        crate::oci::check_digest_syntax(digest)?;
        let images = self.images(repository).await?;
        let image = images.iter().find(|i| i.digest == digest);
        let scan = self.scan_findings(repository, digest).await.map_err(|e| e.to_string());
        Ok(Some(facts::facts(image, scan)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_hosts() {
        let h = parse_host("123456789012.dkr.ecr.us-east-1.amazonaws.com").unwrap();
        assert_eq!((h.account.as_str(), h.region.as_str()), ("123456789012", "us-east-1"));
        assert!(parse_host("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com").is_some());
        assert_eq!(parse_host("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn").unwrap().region, "cn-north-1");
        for not in [
            "ghcr.io",
            "12345.dkr.ecr.us-east-1.amazonaws.com",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com",
            "x.123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com:443",
            "public.ecr.aws",
        ] {
            assert!(parse_host(not).is_none(), "{not}");
        }
        assert_eq!(registry_host("123456789012", "cn-north-1"), "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn");
        let opts = || (RegistryOptions::default(), EcrOptions::default());
        for bad in ["", "US-EAST-1", "us east 1", "us-east-1.evil.com", "us-east-1/x"] {
            let (base, ecr) = opts();
            assert!(matches!(EcrSource::new(None, Some(bad), base, ecr), Err(Error::Usage(_))), "{bad:?}");
        }
        let (base, ecr) = opts();
        assert!(matches!(EcrSource::new(Some("12345"), None, base, ecr), Err(Error::Usage(_))));
    }

    #[test]
    fn endpoint_overrides_are_addresses() {
        let with = |t: &str| EcrOptions { registry_endpoint: Some(t.into()), ..Default::default() };
        assert_eq!(
            endpoint_override(&with("http://127.0.0.1:5001")).unwrap(),
            Some(("127.0.0.1:5001".parse().unwrap(), false))
        );
        assert_eq!(
            endpoint_override(&with("https://[::1]:8443")).unwrap(),
            Some(("[::1]:8443".parse().unwrap(), true))
        );
        assert_eq!(
            endpoint_override(&with("http://localhost:80")).unwrap(),
            Some(("127.0.0.1:80".parse().unwrap(), false))
        );
        assert!(endpoint_override(&with("registry.example.com:5000")).is_err());
        assert!(endpoint_override(&with("ftp://127.0.0.1:21")).is_err());
        assert!(endpoint_override(&with("http://example.com:5000")).is_err());
    }
}
