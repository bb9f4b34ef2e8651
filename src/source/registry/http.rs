//! The HTTP plumbing shared by reads and pushes: one connection pool, a concurrency cap, auth
//! (Basic, bearer tokens per scope), 429 retries, capped streaming reads, typed errors.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::{OnceCell, Semaphore, SemaphorePermit};
use url::Url;

use super::RegistryOptions;
use super::auth::{Challenge, Scope, TokenCache, TokenReply, parse_challenge};
use super::creds::{self, Credential};
use crate::error::{Error, Result};
use crate::source::SourceStats;

/// Error bodies and token replies are small; anything bigger is not worth reading.
const SMALL_BODY: u64 = 1024 * 1024;
/// Guards against a server whose `Link` headers never end.
const MAX_PAGES: usize = 10_000;

/// One request. The body is `Bytes` so a retry (after a 401 or a 429) can resend it.
pub struct Request<'a> {
    pub method: Method,
    pub url: Url,
    pub scope: Scope,
    pub accept: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: Option<Bytes>,
}

impl<'a> Request<'a> {
    pub fn get(url: Url, scope: Scope) -> Self {
        Request { method: Method::GET, url, scope, accept: None, content_type: None, body: None }
    }
}

/// A response, holding its concurrency permit until the body has been read.
pub struct Reply<'a> {
    pub resp: reqwest::Response,
    _permit: SemaphorePermit<'a>,
}

/// A client for one registry.
pub struct RegistryClient {
    host: String,
    base: Url,
    http: reqwest::Client,
    permits: Semaphore,
    opts: RegistryOptions,
    challenge: Mutex<Option<Challenge>>,
    tokens: TokenCache,
    credential: OnceCell<Option<Credential>>,
    stats: Mutex<SourceStats>,
    request_log: Option<Mutex<std::fs::File>>,
    /// Serialises read-modify-write updates of `sha256-<hex>` tag-schema indexes from this process.
    pub(crate) tag_schema_lock: tokio::sync::Mutex<()>,
}

/// `localhost`, `127.x.x.x` and `::1`, with or without a port.
pub fn is_loopback(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Repository names go into URL paths: only the characters the distribution spec allows.
pub fn check_repository(repository: &str) -> Result<()> {
    let ok = !repository.is_empty()
        && repository.len() <= 255
        && repository.split('/').all(|p| {
            !p.is_empty()
                && p.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-'))
                && p != "."
                && p != ".."
        });
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!("invalid repository name {:?}", crate::sanitize::clip(repository, 100))))
    }
}

/// A tag or a digest, checked before it reaches a URL.
pub fn check_reference(reference: &str) -> Result<()> {
    if crate::oci::check_digest_syntax(reference).is_ok() || crate::reference::valid_tag(reference) {
        Ok(())
    } else {
        Err(Error::Usage(format!("invalid tag or digest {:?}", crate::sanitize::clip(reference, 100))))
    }
}

impl RegistryClient {
    pub fn new(host: &str, opts: RegistryOptions) -> Result<Self> {
        let api = crate::reference::api_host(host);
        let scheme = if opts.plain_http || is_loopback(api) { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{api}/"))
            .map_err(|e| Error::Usage(format!("invalid registry host {:?}: {e}", crate::sanitize::clip(host, 100))))?;
        if base.path() != "/" || base.query().is_some() || !base.username().is_empty() {
            return Err(Error::Usage(format!("invalid registry host {:?}", crate::sanitize::clip(host, 100))));
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .read_timeout(opts.read_timeout)
            .user_agent(concat!("sigscope/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                // reqwest keeps Authorization on a same-host redirect, so a downgrade to http
                // would send credentials in the clear.
                let downgrade = attempt.url().scheme() == "http"
                    && attempt.previous().last().is_some_and(|u| u.scheme() == "https");
                if downgrade {
                    attempt.error("refusing a redirect from https to http")
                } else if attempt.previous().len() > 10 {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }));
        for (name, addr) in &opts.resolve {
            builder = builder.resolve(name, *addr);
        }
        if let Some(path) = &opts.ca_file {
            let pem = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::Usage(format!("{}: not a PEM certificate bundle ({e})", path.display())))?;
            if certs.is_empty() {
                return Err(Error::Usage(format!("{}: no PEM certificates found", path.display())));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder.build().map_err(|e| Error::Usage(format!("cannot build the HTTP client: {e}")))?;
        let request_log = match &opts.request_log {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| Error::io(path, e))?,
            )),
            None => None,
        };
        Ok(RegistryClient {
            host: host.to_string(),
            base,
            http,
            permits: Semaphore::new(opts.concurrency.max(1)),
            opts,
            challenge: Mutex::default(),
            tokens: TokenCache::default(),
            credential: OnceCell::new(),
            stats: Mutex::default(),
            request_log,
            tag_schema_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The registry as the user named it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `http://127.0.0.1:5000/` or `https://registry-1.docker.io/`.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    pub fn options(&self) -> &RegistryOptions {
        &self.opts
    }

    pub fn stats(&self) -> SourceStats {
        self.stats.lock().expect("stats lock").clone()
    }

    pub(crate) fn bump(&self, f: impl FnOnce(&mut SourceStats)) {
        f(&mut self.stats.lock().expect("stats lock"));
    }

    /// A URL under the registry root (`v2/...`). Callers check names with [`check_repository`].
    pub fn url(&self, path: &str) -> Url {
        self.base.join(path.trim_start_matches('/')).expect("path joins onto the base URL")
    }

    /// A URL the server handed us (`Link`, `Location`), resolved and held to the same origin so
    /// our credentials never travel to a host the user did not name.
    pub fn resolve(&self, current: &Url, reference: &str, what: &str) -> Result<Url> {
        let url = current.join(reference).map_err(|e| Error::malformed(what, format!("bad URL: {e}")))?;
        if url.origin() != self.base.origin() {
            return Err(Error::malformed(
                what,
                format!("points to another origin ({})", url.origin().ascii_serialization()),
            ));
        }
        Ok(url)
    }

    async fn credential(&self) -> Result<Option<Credential>> {
        self.credential
            .get_or_try_init(|| async {
                if let Some((u, p)) = &self.opts.credentials {
                    return Ok(Some(Credential::Basic { username: u.clone(), password: p.clone() }));
                }
                let Some(dir) = creds::docker_config_dir(self.opts.docker_config.as_deref()) else {
                    return Ok(None);
                };
                let host = self.host.clone();
                // Credential helpers are processes; keep them off the async workers.
                tokio::task::spawn_blocking(move || creds::from_docker_config(&dir, &host))
                    .await
                    .map_err(|e| Error::Usage(format!("credential lookup failed: {e}")))?
            })
            .await
            .cloned()
    }

    /// Removes any secret we hold from text that came from the server.
    fn scrub(&self, text: String) -> String {
        let Some(Some(c)) = self.credential.get() else {
            return text;
        };
        let mut t = text;
        for s in c.secrets() {
            if s.len() >= 3 {
                t = t.replace(s, "<redacted>");
            }
        }
        t
    }

    /// The Authorization header for `scope`, fetching a bearer token if the registry wants one.
    async fn authorization(
        &self,
        scope: &Scope,
    ) -> Result<(Option<String>, Option<Arc<OnceCell<super::auth::Token>>>)> {
        let challenge = self.challenge.lock().expect("challenge lock").clone();
        match challenge {
            None => Ok((None, None)),
            Some(Challenge::Basic) => Ok((self.credential().await?.and_then(|c| c.basic_header()), None)),
            Some(Challenge::Bearer { realm, service, .. }) => {
                let cell = self.tokens.cell(scope);
                let token = cell.get_or_try_init(|| self.fetch_token(&realm, service.as_deref(), scope)).await?;
                Ok((Some(format!("Bearer {}", token.value)), Some(cell)))
            }
        }
    }

    async fn fetch_token(&self, realm: &str, service: Option<&str>, scope: &Scope) -> Result<super::auth::Token> {
        let mut url = Url::parse(realm).map_err(|e| Error::malformed("token realm", e))?;
        let realm_host = url.host_str().unwrap_or("").to_string();
        let plain_ok = self.opts.plain_http || is_loopback(&realm_host);
        if url.scheme() != "https" && !(url.scheme() == "http" && plain_ok) {
            return Err(Error::Auth {
                target: self.host.clone(),
                detail: format!(
                    "the token realm {} is not https; refusing to send credentials",
                    url.origin().ascii_serialization()
                ),
            });
        }
        let credential = self.credential().await?;
        let scope_param = scope.token_scope();
        let mut req = match &credential {
            Some(Credential::IdentityToken(refresh)) => {
                // OAuth2 refresh-token grant, as docker does for `identitytoken`.
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token").append_pair("client_id", "sigscope");
                form.append_pair("refresh_token", refresh);
                if let Some(s) = service {
                    form.append_pair("service", s);
                }
                if let Some(s) = &scope_param {
                    form.append_pair("scope", s);
                }
                self.http
                    .post(url.clone())
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.finish())
            }
            _ => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    if let Some(s) = &scope_param {
                        q.append_pair("scope", s);
                    }
                }
                let mut r = self.http.get(url.clone());
                if let Some(h) = credential.as_ref().and_then(Credential::basic_header) {
                    r = r.header(header::AUTHORIZATION, h);
                }
                r
            }
        };
        req = req.header(header::ACCEPT, "application/json");
        self.bump(|s| s.requests += 1);
        let resp = req.send().await.map_err(|e| self.net_error(e))?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let who = if credential.is_some() { "refused the credentials" } else { "refused anonymous access" };
            return Err(Error::Auth {
                target: self.host.clone(),
                detail: format!("the token server {realm_host} {who}"),
            });
        }
        if !status.is_success() {
            return Err(self.status_error(resp, "token").await);
        }
        let body = self.read_limited(resp, SMALL_BODY, "token reply").await?;
        let reply: TokenReply =
            serde_json::from_slice(&body).map_err(|_| Error::malformed("token reply", "not JSON"))?;
        reply.into_token().ok_or_else(|| Error::malformed("token reply", "no token in the reply"))
    }

    /// Sends a request, answering auth challenges and retrying 429s. Returns any final status;
    /// callers map unexpected ones with [`Self::status_error`].
    pub async fn send(&self, req: Request<'_>) -> Result<Reply<'_>> {
        let permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let mut answered_challenge = false;
        let mut attempts = 0u32;
        loop {
            let (authorization, token_cell) = self.authorization(&req.scope).await?;
            let sent_auth = authorization.is_some();
            let mut rb = self.http.request(req.method.clone(), req.url.clone());
            if let Some(a) = authorization {
                rb = rb.header(header::AUTHORIZATION, a);
            }
            if let Some(a) = req.accept {
                rb = rb.header(header::ACCEPT, a);
            }
            if let Some(ct) = req.content_type {
                rb = rb.header(header::CONTENT_TYPE, ct);
            }
            if let Some(b) = &req.body {
                rb = rb.body(b.clone());
            }
            self.bump(|s| s.requests += 1);
            let resp = rb.send().await.map_err(|e| self.net_error(e))?;
            self.log_request(&req.method, &req.url, resp.status());
            match resp.status() {
                StatusCode::UNAUTHORIZED if !answered_challenge => {
                    answered_challenge = true;
                    let challenge = resp
                        .headers()
                        .get_all(header::WWW_AUTHENTICATE)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .find_map(parse_challenge);
                    let Some(challenge) = challenge else {
                        return Err(self.status_error(resp, "request").await);
                    };
                    if let Some(cell) = &token_cell {
                        self.tokens.forget(&req.scope, cell);
                    }
                    let was = self.challenge.lock().expect("challenge lock").replace(challenge.clone());
                    if challenge == Challenge::Basic {
                        let has_basic = self.credential().await?.and_then(|c| c.basic_header()).is_some();
                        if !has_basic || (sent_auth && was == Some(Challenge::Basic)) {
                            let detail = if has_basic { "the credentials were refused" } else { "no credentials" };
                            return Err(Error::Auth { target: self.host.clone(), detail: detail.into() });
                        }
                    }
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    attempts += 1;
                    if attempts > self.opts.max_retries {
                        return Err(Error::RateLimited { target: self.host.clone(), attempts });
                    }
                    let wait = retry_after(resp.headers())
                        .unwrap_or_else(|| Duration::from_millis(500 * 2u64.pow(attempts.min(5))))
                        .min(self.opts.max_retry_wait);
                    drop(resp);
                    tokio::time::sleep(wait).await;
                }
                _ => return Ok(Reply { resp, _permit: permit }),
            }
        }
    }

    /// `send`, then any status outside 2xx becomes its typed error.
    fn log_request(&self, method: &reqwest::Method, url: &Url, status: StatusCode) {
        use std::io::Write;
        if let Some(file) = &self.request_log {
            // Best effort: a diagnostics log must never fail a request.
            let _ = writeln!(file.lock().expect("log lock"), "{method} {url} {}", status.as_u16());
        }
    }

    pub async fn send_ok(&self, req: Request<'_>, what: &str) -> Result<Reply<'_>> {
        let reply = self.send(req).await?;
        if reply.resp.status().is_success() { Ok(reply) } else { Err(self.status_error(reply.resp, what).await) }
    }

    pub fn net_error(&self, e: reqwest::Error) -> Error {
        let mut detail = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            src = s.source();
        }
        let detail = self.scrub(detail);
        if e.is_timeout() {
            Error::Timeout { target: self.host.clone(), detail }
        } else {
            Error::Network { target: self.host.clone(), detail }
        }
    }

    /// The typed error for an unexpected status, with the registry's error body summarised.
    pub async fn status_error(&self, resp: reqwest::Response, what: &str) -> Error {
        let status = resp.status();
        let body = self.read_limited(resp, 64 * 1024, what).await.unwrap_or_default();
        let detail = self.scrub(summarise_errors(&body));
        let target = self.host.clone();
        match status {
            StatusCode::UNAUTHORIZED => Error::Auth { target, detail },
            StatusCode::FORBIDDEN => Error::Denied { target, detail },
            StatusCode::NOT_FOUND => Error::NotFound { what: format!("{what} on {target} ({detail})") },
            StatusCode::TOO_MANY_REQUESTS => Error::RateLimited { target, attempts: 1 },
            s => Error::Server { target, status: s.as_u16(), detail },
        }
    }

    /// Reads a body, refusing it as soon as it is known to exceed `limit`: by Content-Length
    /// before reading, else while streaming.
    pub async fn read_limited(&self, mut resp: reqwest::Response, limit: u64, what: &str) -> Result<Bytes> {
        if let Some(len) = resp.content_length()
            && len > limit
        {
            return Err(Error::TooLarge { what: what.to_string(), size: len, limit });
        }
        let mut buf = BytesMut::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.net_error(e))? {
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(Error::TooLarge { what: what.to_string(), size: (buf.len() + chunk.len()) as u64, limit });
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    /// Follows `Link: <…>; rel="next"` from `first` to the end, handing each page's JSON to `each`.
    /// `each` may return the next URL itself for APIs that page without `Link`.
    pub async fn paginate<T: DeserializeOwned>(
        &self,
        first: Url,
        scope: Scope,
        what: &str,
        mut each: impl FnMut(T, &HeaderMap) -> Result<()>,
    ) -> Result<()> {
        let mut next = Some(first);
        let mut seen = HashSet::new();
        while let Some(url) = next.take() {
            if !seen.insert(url.clone()) || seen.len() > MAX_PAGES {
                return Err(Error::malformed(
                    what,
                    "pagination does not end (a Link points back to a page already read)",
                ));
            }
            let reply = self.send_ok(Request::get(url.clone(), scope.clone()), what).await?;
            let headers = reply.resp.headers().clone();
            let body = self.read_limited(reply.resp, crate::oci::MAX_MANIFEST_BYTES, what).await?;
            let page: T = serde_json::from_slice(&body).map_err(|e| Error::malformed(what, e))?;
            each(page, &headers)?;
            if let Some(link) = next_link(&headers) {
                next = Some(self.resolve(&url, &link, &format!("Link header of {what}"))?);
            }
        }
        Ok(())
    }

    /// GET a manifest with every manifest type accepted, capped at the manifest limit.
    /// Returns the bytes, the Content-Type and the `Docker-Content-Digest` header.
    pub async fn get_manifest(
        &self,
        repository: &str,
        reference: &str,
        scope: Scope,
    ) -> Result<(Bytes, Option<String>, Option<String>)> {
        check_repository(repository)?;
        check_reference(reference)?;
        let accept = crate::oci::media::MANIFEST_ACCEPT.join(", ");
        let mut req = Request::get(self.url(&format!("v2/{repository}/manifests/{reference}")), scope);
        req.accept = Some(&accept);
        let what = format!("manifest {repository}:{reference}");
        let reply = self.send_ok(req, &what).await?;
        let header = |h: &str| {
            reply
                .resp
                .headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.split(';').next().unwrap_or(s).trim().to_string())
        };
        let content_type = header("content-type");
        let digest = header("docker-content-digest");
        let raw = self.read_limited(reply.resp, crate::oci::MAX_MANIFEST_BYTES, &what).await?;
        Ok((raw, content_type, digest))
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.signed_duration_since(chrono::Utc::now());
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// The target of `rel="next"` among the `Link` headers, if any.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(header::LINK).iter().filter_map(|v| v.to_str().ok()) {
        let mut rest = value;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after.find('>')?;
            let target = &after[..end];
            let params_end = after[end..].find('<').map(|i| end + i).unwrap_or(after.len());
            let params = &after[end + 1..params_end];
            let is_next = params.split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').trim();
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("rel")
                        && v.trim().trim_matches('"').split_whitespace().any(|r| r.eq_ignore_ascii_case("next"))
                })
            });
            if is_next {
                return Some(target.to_string());
            }
            rest = &after[params_end..];
        }
    }
    None
}

/// `{"errors":[{"code":"X","message":"y"}]}` → `X: y`; other bodies are clipped plain text.
pub fn summarise_errors(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let text = match serde_json::from_slice::<Errors>(body) {
        Ok(e) if !e.errors.is_empty() => e
            .errors
            .iter()
            .map(|e| if e.message.is_empty() { e.code.clone() } else { format!("{}: {}", e.code, e.message) })
            .collect::<Vec<_>>()
            .join("; "),
        _ => {
            let t = String::from_utf8_lossy(body);
            let t = t.trim();
            if t.is_empty() { "no details".to_string() } else { t.to_string() }
        }
    };
    crate::sanitize::sanitize(&crate::sanitize::clip(&text, 300)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn loopback_hosts() {
        for h in ["localhost", "localhost:5000", "127.0.0.1", "127.1.2.3:80", "[::1]:5000", "::1"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["example.com", "10.0.0.1:5000", "localhost.example.com", "[::2]:1"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn links_and_retry_after() {
        let mut h = HeaderMap::new();
        h.append(header::LINK, HeaderValue::from_static(r#"</v2/_catalog?last=b&n=2>; rel="next""#));
        assert_eq!(next_link(&h).as_deref(), Some("/v2/_catalog?last=b&n=2"));
        let mut h = HeaderMap::new();
        h.append(
            header::LINK,
            HeaderValue::from_static(r#"<https://x/prev>; rel="prev", <https://x/next?a=1>; rel=next"#),
        );
        assert_eq!(next_link(&h).as_deref(), Some("https://x/next?a=1"));
        let mut h = HeaderMap::new();
        h.append(header::LINK, HeaderValue::from_static(r#"<https://x/p>; rel="prev""#));
        assert_eq!(next_link(&h), None);
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    #[test]
    fn error_bodies() {
        let b = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#;
        assert_eq!(summarise_errors(b), "MANIFEST_UNKNOWN: manifest unknown");
        assert_eq!(summarise_errors(b"404 page not found\n"), "404 page not found");
        assert_eq!(summarise_errors(b"\x1b[2Jx"), "\\x1b[2Jx");
    }

    #[test]
    fn names_are_checked() {
        assert!(check_repository("demo/app").is_ok());
        assert!(check_repository("../x").is_err());
        assert!(check_repository("a//b").is_err());
        assert!(check_reference("v1.0").is_ok());
        assert!(check_reference("../../x").is_err());
    }

    #[test]
    fn same_origin_only() {
        let c = RegistryClient::new("127.0.0.1:5000", RegistryOptions::default()).unwrap();
        let cur = c.url("v2/_catalog");
        assert_eq!(
            c.resolve(&cur, "/v2/_catalog?last=a", "x").unwrap().as_str(),
            "http://127.0.0.1:5000/v2/_catalog?last=a"
        );
        assert!(c.resolve(&cur, "http://evil.example/v2/", "x").is_err());
        let hub = RegistryClient::new("docker.io", RegistryOptions::default()).unwrap();
        assert_eq!(hub.base_url().as_str(), "https://registry-1.docker.io/");
    }
}
