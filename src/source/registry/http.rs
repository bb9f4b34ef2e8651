//! The HTTP plumbing shared by reads and pushes: one connection pool, a concurrency cap, auth
//! (Basic, bearer tokens per scope), 429 retries, capped streaming reads, deadlines, typed errors
//! scrubbed of every secret we hold.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
/// Most pages one listing (tags, catalog, referrers) may take. Registries that cap `n` serve at
/// least 100 entries a page, so this is 100,000 tags; a chain of `Link`s longer than that is a
/// server that never lets go, and at one request a page it would otherwise hold us for hours.
pub const MAX_PAGES: usize = 1_000;
/// Most bytes one listing (all its pages together) may take: the limit of a layout's
/// `index.json`, which is its tag list (about 400,000 short tags). Pages are each at most a
/// manifest's size, but a thousand of them is 4 GB of names, ten times that in memory.
pub const MAX_LISTING_BYTES: u64 = crate::source::layout::MAX_LAYOUT_INDEX_BYTES;
/// Longest excerpt of a server's error text that is shown (after secrets are removed).
pub const ERROR_EXCERPT: usize = 200;
/// Secrets shorter than this are not searched for: replacing every "ab" would garble the text,
/// and their Basic encoding (always longer) is still scrubbed.
const MIN_SECRET: usize = 3;

/// Which limit bounds an exchange, so a timeout names the flag that sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bound {
    /// `--timeout`: one request, from connecting to the last byte of the body.
    Request,
    /// `--deadline`: what is left of the whole command's budget.
    Command,
}

/// One exchange's time budget and whom it talks to, carried on the response (as an extension)
/// so that a timeout while reading the body is reported like one while waiting for the headers.
#[derive(Clone, Debug)]
struct Exchange {
    /// `registry HOST` or `token server HOST`.
    peer: String,
    url: Url,
    started: Instant,
    limit: Duration,
    bound: Bound,
}

/// `3 s`, `2.5 s`.
fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 { format!("{} s", d.as_secs()) } else { format!("{:.1} s", d.as_secs_f64()) }
}

/// One request. The body is `Bytes` so a retry (after a 401 or a 429) can resend it.
pub struct Request<'a> {
    pub method: Method,
    pub url: Url,
    pub scope: Scope,
    pub accept: Option<&'a str>,
    pub content_type: Option<&'a str>,
    /// `Content-Range` of a chunk of a blob upload (`start-end`, inclusive).
    pub content_range: Option<String>,
    pub body: Option<Bytes>,
}

impl<'a> Request<'a> {
    pub fn get(url: Url, scope: Scope) -> Self {
        Request { method: Method::GET, url, scope, accept: None, content_type: None, content_range: None, body: None }
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
    /// When the whole command's budget (`--deadline`) runs out.
    deadline: Option<Instant>,
    /// Bearer and refresh tokens the token server gave us: secrets to scrub like the password.
    issued: Mutex<Vec<String>>,
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
    if crate::oci::check_digest_syntax(reference).is_ok() || crate::oci::reference::valid_tag(reference) {
        Ok(())
    } else {
        Err(Error::Usage(format!("invalid tag or digest {:?}", crate::sanitize::clip(reference, 100))))
    }
}

impl RegistryClient {
    pub fn new(host: &str, opts: RegistryOptions) -> Result<Self> {
        let api = crate::oci::reference::api_host(host);
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
                // would send credentials in the clear. (It drops Authorization itself when a
                // redirect leaves the host: a blob store elsewhere never sees our credentials.)
                let downgrade = attempt.url().scheme() == "http"
                    && attempt.previous().last().is_some_and(|u| u.scheme() == "https");
                let looped = attempt.previous().iter().any(|u| same_page(u, attempt.url()));
                if downgrade {
                    attempt.error("refusing a redirect from https to http")
                } else if looped {
                    attempt.error("redirect loop: the server redirects back to a URL already visited")
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
            // A FIFO or /dev/zero passed as --ca-file must not hang or exhaust the process.
            let pem = crate::fsread::read(path, crate::fsread::MAX_CONFIG_BYTES, crate::fsread::Symlinks::Follow)
                .map_err(|e| Error::Usage(e.to_string()))?;
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
            // A deadline past what an Instant can hold (`--deadline 18446744073709551615`) is
            // no deadline, not a panic.
            deadline: opts.deadline.and_then(|d| Instant::now().checked_add(d)),
            opts,
            challenge: Mutex::default(),
            tokens: TokenCache::default(),
            credential: OnceCell::new(),
            stats: Mutex::default(),
            request_log,
            issued: Mutex::default(),
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
                let mut sources: Vec<std::sync::Arc<dyn creds::CredentialSource>> = Vec::new();
                sources.extend(self.opts.credential_source.clone());
                sources.push(std::sync::Arc::new(creds::DockerConfigFile { dir: self.opts.docker_config.clone() }));
                let host = self.host.clone();
                // Credential helpers are processes; keep them off the async workers.
                tokio::task::spawn_blocking(move || {
                    for source in sources {
                        let found = source.credential_for(&host).map_err(|e| {
                            let name = source.name();
                            let note = format!("while reading the credentials for {host} from {name}");
                            e.noting(&name, &note)
                        })?;
                        if let Some(c) = found {
                            return Ok(Some(c));
                        }
                    }
                    Ok(None)
                })
                .await
                .map_err(|e| Error::Usage(format!("credential lookup failed: {e}")))?
            })
            .await
            .cloned()
    }

    /// Every form in which a secret we hold could come back: the password, its Basic encoding
    /// (standard and URL-safe base64, padded or not), identity and bearer tokens, each also
    /// percent- and JSON-escaped. Longest first, so a padded form goes before its unpadded prefix.
    fn secret_forms(&self) -> Vec<String> {
        use base64::Engine as _;
        let mut raw: Vec<String> = Vec::new();
        if let Some(Some(c)) = self.credential.get() {
            match c {
                Credential::Basic { username, password } => {
                    raw.push(password.clone());
                    let pair = format!("{username}:{password}");
                    // The decoded header, as a server echoes it: scrubbed even for a password
                    // too short to search for on its own.
                    raw.push(pair.clone());
                    for engine in
                        [&base64::engine::general_purpose::STANDARD, &base64::engine::general_purpose::URL_SAFE]
                    {
                        let encoded = engine.encode(&pair);
                        raw.push(encoded.trim_end_matches('=').to_string());
                        raw.push(encoded);
                    }
                }
                other => raw.extend(other.secrets().into_iter().map(str::to_string)),
            }
        }
        raw.extend(self.issued.lock().expect("issued lock").iter().cloned());
        let mut forms: Vec<String> = Vec::new();
        for secret in raw.into_iter().filter(|s| s.chars().count() >= MIN_SECRET) {
            let json = serde_json::to_string(&secret).unwrap_or_default();
            let json = json.trim_matches('"').to_string();
            let percent: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            forms.extend([json.replace('/', "\\/"), json, percent, secret]);
        }
        forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        forms.dedup();
        forms
    }

    /// Removes every secret we hold from text that came from the server (or quotes it).
    pub fn scrub(&self, text: &str) -> String {
        scrub_with(&self.secret_forms(), text)
    }

    /// [`Self::scrub`] over every text of an error: the last guard before anything is shown.
    pub fn scrub_error(&self, e: Error) -> Error {
        let forms = self.secret_forms();
        if forms.is_empty() { e } else { e.map_text(|t| scrub_with(&forms, &t)) }
    }

    /// Server text as we show it: secrets removed first (so the cut cannot leave part of one),
    /// controls escaped, at most [`ERROR_EXCERPT`] characters.
    pub fn excerpt(&self, text: &str) -> String {
        let scrubbed = self.scrub(text);
        let safe = crate::sanitize::sanitize(scrubbed.trim());
        crate::sanitize::clip(&safe, ERROR_EXCERPT).into_owned()
    }

    /// The budget of the next exchange with `peer` for `url`: `--timeout`, or what is left of
    /// `--deadline` when that is less; an error once the deadline has passed.
    fn exchange(&self, peer: String, url: &Url) -> Result<Exchange> {
        let started = Instant::now();
        let mut ex =
            Exchange { peer, url: url.clone(), started, limit: self.opts.request_timeout, bound: Bound::Request };
        if let Some(end) = self.deadline {
            let left = end.saturating_duration_since(started);
            if left.is_zero() {
                return Err(Error::Timeout {
                    target: self.host.clone(),
                    detail: format!(
                        "the command's deadline of {} (--deadline) passed before {} was requested from {}; \
                         raise --deadline, or pass --deadline 0 for none",
                        secs(self.opts.deadline.unwrap_or_default()),
                        url.path(),
                        ex.peer
                    ),
                });
            }
            if left < ex.limit {
                ex.limit = left;
                ex.bound = Bound::Command;
            }
        }
        Ok(ex)
    }

    fn registry_peer(&self) -> String {
        format!("registry {}", self.host)
    }

    /// The typed error for a failed exchange: a timeout says which limit ran out on which path.
    fn fetch_error(&self, e: reqwest::Error, ex: Option<&Exchange>) -> Error {
        let Some(ex) = ex.filter(|_| e.is_timeout()) else {
            return self.net_error(e);
        };
        let elapsed = ex.started.elapsed();
        let path = ex.url.path();
        let detail = if e.is_connect() {
            format!("could not connect to {} within {} ({})", ex.peer, secs(self.opts.connect_timeout), path)
        } else if elapsed + Duration::from_millis(250) < ex.limit {
            // The per-read limit fired before the total one: the server went silent.
            format!(
                "{} sent nothing for {} while sending {path} (--timeout); the server stalled",
                ex.peer,
                secs(self.opts.read_timeout)
            )
        } else if ex.bound == Bound::Command {
            format!(
                "{} did not finish sending {path} before the command's deadline of {} (--deadline)",
                ex.peer,
                secs(self.opts.deadline.unwrap_or_default())
            )
        } else {
            format!(
                "{} did not finish sending {path} within {} (--timeout); the server is too slow or stalled",
                ex.peer,
                secs(ex.limit)
            )
        };
        Error::Timeout { target: self.host.clone(), detail: self.scrub(&detail) }
    }

    /// The Authorization header for `scope`, fetching a bearer token if the registry wants one.
    async fn authorization(
        &self,
        scope: &Scope,
    ) -> Result<(Option<String>, Option<Arc<OnceCell<super::auth::BearerToken>>>)> {
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

    async fn fetch_token(&self, realm: &str, service: Option<&str>, scope: &Scope) -> Result<super::auth::BearerToken> {
        let mut url = Url::parse(realm).map_err(|e| Error::malformed("token realm", e))?;
        let realm_host = url.host_str().unwrap_or("").to_string();
        let plain_ok = self.opts.plain_http || is_loopback(&realm_host);
        if url.scheme() != "https" && !(url.scheme() == "http" && plain_ok) {
            return Err(Error::Auth {
                target: self.host.clone(),
                rejected: false,
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
        let peer = match url.port() {
            Some(port) => format!("token server {realm_host}:{port}"),
            None => format!("token server {realm_host}"),
        };
        let ex = self.exchange(peer, &url)?;
        req = req.header(header::ACCEPT, "application/json").timeout(ex.limit);
        self.bump(|s| s.requests += 1);
        let mut resp = req.send().await.map_err(|e| self.fetch_error(e, Some(&ex)))?;
        resp.extensions_mut().insert(ex);
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let who = if credential.is_some() { "refused the credentials" } else { "refused anonymous access" };
            return Err(Error::Auth {
                target: self.host.clone(),
                detail: format!("the token server {realm_host} {who}"),
                rejected: credential.is_some(),
            });
        }
        if !status.is_success() {
            return Err(self.status_error(resp, "token").await);
        }
        let body = self.read_limited(resp, SMALL_BODY, "token reply").await?;
        let reply: TokenReply =
            serde_json::from_slice(&body).map_err(|_| Error::malformed("token reply", "not JSON"))?;
        // Everything the token server handed out is a secret from now on, shown nowhere.
        let mut issued = self.issued.lock().expect("issued lock");
        for secret in reply.secrets() {
            // A long TUI session renews tokens; keep each once.
            if !issued.iter().any(|s| s == secret) {
                issued.push(secret.to_string());
            }
        }
        drop(issued);
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
            if let Some(range) = &req.content_range {
                rb = rb.header(header::CONTENT_RANGE, range);
            }
            if let Some(b) = &req.body {
                rb = rb.body(b.clone());
            }
            let ex = self.exchange(self.registry_peer(), &req.url)?;
            rb = rb.timeout(ex.limit);
            self.bump(|s| s.requests += 1);
            let mut resp = rb.send().await.map_err(|e| self.fetch_error(e, Some(&ex)))?;
            resp.extensions_mut().insert(ex);
            self.log_request(&req.method, &req.url, resp.status());
            // A challenge is answered only for the registry itself: a host a redirect led to
            // (a blob store, a CDN) gets neither our credentials nor a token fetched with them.
            let from_registry = resp.url().origin() == self.base.origin();
            match resp.status() {
                StatusCode::UNAUTHORIZED if !from_registry => return Err(self.status_error(resp, "request").await),
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
                            return Err(Error::Auth {
                                target: self.host.clone(),
                                detail: detail.into(),
                                rejected: has_basic,
                            });
                        }
                    }
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    attempts += 1;
                    if attempts > self.opts.max_retries {
                        return Err(Error::RateLimited { target: self.host.clone(), attempts });
                    }
                    let mut wait = retry_after(resp.headers())
                        .unwrap_or_else(|| Duration::from_millis(500 * 2u64.pow(attempts.min(5))))
                        .min(self.opts.max_retry_wait);
                    if let Some(end) = self.deadline {
                        // Waiting past the deadline is pointless: the retry would be refused.
                        wait = wait.min(end.saturating_duration_since(Instant::now()));
                    }
                    drop(resp);
                    tokio::time::sleep(wait).await;
                }
                _ => return Ok(Reply { resp, _permit: permit }),
            }
        }
    }

    fn log_request(&self, method: &reqwest::Method, url: &Url, status: StatusCode) {
        use std::io::Write;
        if let Some(file) = &self.request_log {
            // Best effort: a diagnostics log must never fail a request. A server-made URL (a
            // Link) could carry an echo of our credentials: scrubbed like any server text.
            let line = self.scrub(&format!("{method} {url} {}", status.as_u16()));
            let _ = writeln!(file.lock().expect("log lock"), "{line}");
        }
    }

    /// `send`, then any status outside 2xx becomes its typed error.
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
        let detail = self.scrub(&detail);
        if e.is_timeout() {
            Error::Timeout { target: self.host.clone(), detail }
        } else {
            Error::Network { target: self.host.clone(), detail }
        }
    }

    /// The typed error for an unexpected status, with the registry's error body summarised.
    pub async fn status_error(&self, resp: reqwest::Response, what: &str) -> Error {
        let status = resp.status();
        let from_registry = resp.url().origin() == self.base.origin();
        let body = self.read_limited(resp, 64 * 1024, what).await.unwrap_or_default();
        let detail = self.excerpt(&error_text(&body));
        let target = self.host.clone();
        // A 401 from the registry itself while we hold credentials: they went with the request
        // (a challenge is answered before any caller sees a 401) and were not good enough.
        let rejected = from_registry && matches!(self.credential.get(), Some(Some(_)));
        match status {
            StatusCode::UNAUTHORIZED => Error::Auth { target, detail, rejected },
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
        let ex = resp.extensions().get::<Exchange>().cloned();
        let mut buf = BytesMut::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.fetch_error(e, ex.as_ref()))? {
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
        let mut trail = PageTrail::default();
        while let Some(url) = next.take() {
            trail.visit(&url, what)?;
            let reply = self.send_ok(Request::get(url.clone(), scope.clone()), what).await?;
            let headers = reply.resp.headers().clone();
            let body = self.read_limited(reply.resp, crate::oci::MAX_MANIFEST_BYTES, what).await?;
            trail.read(body.len(), what)?;
            // serde quotes the offending value: server text, so excerpted like an error body.
            let page: T =
                serde_json::from_slice(&body).map_err(|e| Error::malformed(what, self.excerpt(&e.to_string())))?;
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

/// The pages a `Link` chain has visited, so that it ends: a page seen before (a Link to itself,
/// a cycle) or more than [`MAX_PAGES`] pages is an error, not another request.
#[derive(Default)]
pub struct PageTrail {
    seen: HashSet<Url>,
    bytes: u64,
}

impl PageTrail {
    /// Counts a page's body against [`MAX_LISTING_BYTES`].
    pub fn read(&mut self, bytes: usize, what: &str) -> Result<()> {
        self.bytes = self.bytes.saturating_add(bytes as u64);
        if self.bytes > MAX_LISTING_BYTES {
            return Err(Error::malformed(
                what,
                format!(
                    "the registry's pages add up to more than {} MiB after {} pages; sigscope stops there (a \
                     listing that large is a server that never lets go, or a repository to address by tag or digest)",
                    MAX_LISTING_BYTES >> 20,
                    self.seen.len()
                ),
            ));
        }
        Ok(())
    }

    pub fn visit(&mut self, url: &Url, what: &str) -> Result<()> {
        if self.seen.len() >= MAX_PAGES {
            return Err(Error::malformed(
                what,
                format!("the registry's pagination goes on for more than {MAX_PAGES} pages; sigscope stops there"),
            ));
        }
        // The fragment is never sent: `page#1` and `page#2` are the same request.
        let mut key = url.clone();
        key.set_fragment(None);
        if !self.seen.insert(key) {
            return Err(Error::malformed(
                what,
                format!(
                    "the Link header of page {} leads back to a page already read ({}); the pagination would \
                     never end",
                    self.seen.len(),
                    crate::sanitize::clip(url.path(), 100)
                ),
            ));
        }
        Ok(())
    }
}

fn scrub_with(forms: &[String], text: &str) -> String {
    let mut t = text.to_string();
    for form in forms {
        if t.contains(form.as_str()) {
            t = t.replace(form.as_str(), "<redacted>");
        }
    }
    t
}

/// Two URLs that fetch the same thing (the fragment is never sent).
fn same_page(a: &Url, b: &Url) -> bool {
    a.as_str().split('#').next() == b.as_str().split('#').next()
}

/// `{"errors":[{"code":"X","message":"y"}]}` → `X: y`; other bodies are clipped plain text.
/// Secrets are not removed here: the client does that (see [`RegistryClient::excerpt`]).
pub fn summarise_errors(body: &[u8]) -> String {
    crate::sanitize::clip(&crate::sanitize::sanitize(&error_text(body)), ERROR_EXCERPT).into_owned()
}

/// The text of an error body, whole: the OCI `errors[].code: message`, else the body as text.
fn error_text(body: &[u8]) -> String {
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
    match serde_json::from_slice::<Errors>(body) {
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
    }
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
    fn long_error_bodies_are_cut() {
        let long = format!(r#"{{"errors":[{{"code":"X","message":"{}"}}]}}"#, "m".repeat(5000));
        assert_eq!(summarise_errors(long.as_bytes()).chars().count(), ERROR_EXCERPT);
    }

    #[tokio::test]
    async fn every_form_of_a_secret_is_scrubbed() {
        use base64::Engine as _;
        let (user, password) = ("alice", "pa/ss+w\"rd>>>???");
        let opts = RegistryOptions { credentials: Some((user.into(), password.into())), ..RegistryOptions::default() };
        let c = RegistryClient::new("127.0.0.1:5000", opts).unwrap();
        c.credential().await.unwrap();
        c.issued.lock().unwrap().push("tok/en+value".into());
        let pair = format!("{user}:{password}");
        let std = base64::engine::general_purpose::STANDARD.encode(&pair);
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&pair);
        let json = serde_json::to_string(password).unwrap();
        let json = json.trim_matches('"');
        let forms = [
            password.to_string(),
            std.clone(),
            std.trim_end_matches('=').to_string(),
            url_safe,
            json.to_string(),
            json.replace('/', "\\/"),
            url::form_urlencoded::byte_serialize(password.as_bytes()).collect(),
            "tok/en+value".into(),
            "tok%2Fen%2Bvalue".into(),
            "tok\\/en+value".into(),
        ];
        for form in forms {
            let text = format!("echo [{form}] end");
            assert_eq!(c.scrub(&text), "echo [<redacted>] end", "{form}");
        }
        // A password too short to search for alone is still scrubbed from its `user:password`.
        let opts = RegistryOptions { credentials: Some(("bob".into(), "pw".into())), ..RegistryOptions::default() };
        let short = RegistryClient::new("127.0.0.1:5000", opts).unwrap();
        short.credential().await.unwrap();
        assert_eq!(short.scrub("decoded bob:pw, a pwd"), "decoded <redacted>, a pwd");
        // The cut comes after the scrub: no piece of a long secret survives it.
        c.issued.lock().unwrap().push("T".repeat(500));
        let shown = c.excerpt(&format!("{} Bearer {}", "x".repeat(150), "T".repeat(500)));
        assert!(!shown.contains("TTT") && shown.ends_with("<redacted>"), "{shown}");
    }

    #[test]
    fn page_trails_end() {
        let mut t = PageTrail::default();
        let u = |s: &str| Url::parse(s).unwrap();
        t.visit(&u("http://r/v2/a/tags/list?n=2"), "tags").unwrap();
        assert!(t.visit(&u("http://r/v2/a/tags/list?n=2#again"), "tags").is_err(), "a fragment is the same page");
        let mut t = PageTrail::default();
        for i in 0..MAX_PAGES {
            t.visit(&u(&format!("http://r/v2/a/tags/list?last={i}")), "tags").unwrap();
        }
        let e = t.visit(&u("http://r/v2/a/tags/list?last=x"), "tags").unwrap_err();
        assert!(e.to_string().contains(&format!("more than {MAX_PAGES} pages")), "{e}");
        let mut t = PageTrail::default();
        t.read(MAX_LISTING_BYTES as usize, "tags").unwrap();
        let e = t.read(1, "tags").unwrap_err();
        assert!(e.to_string().contains("add up to more than"), "{e}");
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
