//! A deliberately misbehaving registry, written for the tests: no real registry answers with a
//! 429, a stall or a lying digest on demand, so this small HTTP/1.1 server stands in for them.
//! The repository name picks the behaviour:
//!
//! | repo     | behaviour |
//! |----------|-----------|
//! | good     | a valid image (`v1` or by digest), blobs, paginated tags and referrers (Link) |
//! | slow     | like good, manifests answered after 300 ms (to overlap concurrent callers) |
//! | auth     | 401 with a Basic challenge; the body echoes the Authorization header it got |
//! | denied   | 403 | missing: 404 | broken: 500 | badjson: 200 with broken JSON |
//! | flaky    | 429 (Retry-After: 1) twice per path, then like good |
//! | limited  | always 429 (Retry-After: 0) |
//! | huge     | a manifest declaring a 1 GiB Content-Length, body streamed until the client leaves |
//! | chunked  | a chunked manifest body that never ends |
//! | liar     | content that does not match the digest asked for (manifests and blobs) |
//! | selfref  | the referrers endpoint answers with the image manifest itself |
//! | stall    | reads the request, never answers |
//! | drip     | like good, but every body is sent one byte per second |
//! | driphead | like good, but the whole response, status line first, one byte per second |
//! | dripauth | 401 Bearer whose token realm (`/token/drip`) drips its reply |
//! | selflink | tags and referrers pages whose `Link: rel="next"` is the page itself |
//! | cycle    | tags pages `p=a` → `p=b` → `p=a` … (a Link cycle of length 2) |
//! | fraglink | tags pages linking to themselves with a new `#fragment` each time |
//! | endless  | tags pages each linking to a new `?page=N+1`, forever |
//! | offsite  | tags and referrers pages whose Link leaves the origin (`localhost:PORT`) |
//! | echo     | 401 Basic; with credentials 403 echoing the Authorization header (raw, base64url, decoded) |
//! | bearer   | 401 Bearer (realm `/token`); with the token 403 echoing it after 150 chars; blobs 307 to `localhost` |
//! | tokenecho| 401 Bearer (realm `/token/echo`, which answers 500 echoing the Authorization and the form it got) |
//! | realmleak| 401 Basic; with credentials manifests are served, anything else is a Bearer challenge whose realm (an unreachable port) carries the Authorization header |
//! | redirect | 401 Basic; with credentials like good, but blobs 307 to `localhost:PORT` (another host) |
//! | redirloop| manifests redirect (307) to themselves |
//! | longerr  | 500 whose message is 5,000 characters with a terminal escape |
//! | foreign  | manifests 307 to `localhost:PORT`, which answers 401 with a Bearer challenge |
//! | otherrealm | 401 Bearer whose realm is on another host (`localhost:PORT/token`), then like good |
//!
//! Repositories under `store…/NAME` are a small writable registry without the referrers API,
//! kept in memory: blob uploads (POST, PATCH chunks, closing PUT), manifests by digest or tag,
//! tag lists. The first component picks a fault; `NAME` picks the content, shared between
//! faults, so a test seeds through `store/NAME` and fails through `store-…/NAME`:
//!
//! | repo                 | fault |
//! |----------------------|-------|
//! | store                | none |
//! | store-blob401/403/500 | the closing PUT of a blob upload answers 401 (Basic challenge), 403 or 500 |
//! | store-manifest401/403/500 | a manifest PUT by digest answers 401, 403 or 500 (tags are still taken) |
//! | store-stall          | a PATCH or PUT of blob data is read and never answered |
//! | store-tag403         | a PUT of a `sha256-…` tag (the referrers tag-schema index) answers 403 |
//! | store-tagflaky       | the first PUT of a `sha256-…` tag answers 500, as distribution can when two writers race; later ones are taken |
//! | store-clobber        | a PUT of a `sha256-…` tag answers 201 and is dropped, as if another writer replaced it at once |
//!
//! `/token` answers `{"token": TOKEN}`. Requests that arrive under the name `localhost` (another
//! host than the `127.0.0.1` sigscope was pointed at) have their Authorization recorded, see
//! [`Hostile::foreign_authorizations`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;
use sigscope::oci::{Descriptor, media};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The bearer token `/token` hands out: long and opaque, so a clipped echo would show a piece.
pub fn token() -> String {
    (0u8..5).map(|i| sigscope::oci::sha256_digest(&[i]).trim_start_matches("sha256:").to_string()).collect()
}

pub struct Hostile {
    pub addr: SocketAddr,
    pub host: String,
    pub image: Descriptor,
    pub image_bytes: Vec<u8>,
    pub config: Descriptor,
    /// Referrers served by `good` over two pages: `(first page, second page)`.
    pub referrers: (Descriptor, Descriptor),
    hits: Arc<Mutex<HashMap<String, u32>>>,
    /// Most `slow` manifest requests in progress at once.
    max_in_flight: Arc<AtomicUsize>,
    foreign: Arc<Mutex<Vec<Option<String>>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
    }
}

struct State {
    host: String,
    image_bytes: Vec<u8>,
    image: Descriptor,
    config_bytes: Vec<u8>,
    config: Descriptor,
    referrers: (Descriptor, Descriptor),
    hits: Arc<Mutex<HashMap<String, u32>>>,
    in_flight: AtomicUsize,
    max_in_flight: Arc<AtomicUsize>,
    foreign: Arc<Mutex<Vec<Option<String>>>>,
    /// The `store…` repositories, by NAME.
    store: Mutex<HashMap<String, StoreRepo>>,
}

/// One repository of the writable stand-in.
#[derive(Default)]
struct StoreRepo {
    blobs: HashMap<String, Vec<u8>>,
    /// digest → (media type, bytes)
    manifests: HashMap<String, (String, Vec<u8>)>,
    tags: std::collections::BTreeMap<String, String>,
    uploads: HashMap<String, Vec<u8>>,
    /// `store-tagflaky`: the first `sha256-…` tag PUT was refused.
    tag_refused_once: bool,
}

impl Hostile {
    /// Starts on a free loopback port, on its own thread and runtime so any test flavour works.
    pub fn start() -> Hostile {
        let config_bytes =
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
        let config = Descriptor::new(media::OCI_CONFIG, &config_bytes);
        let image_bytes = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
            "config": {"mediaType": config.media_type, "digest": config.digest, "size": config.size},
            "layers": [],
        }))
        .unwrap();
        let image = Descriptor::new(media::OCI_MANIFEST, &image_bytes);
        let referrer = |n: u8, at: &str| Descriptor {
            media_type: media::OCI_MANIFEST.into(),
            digest: format!("sha256:{}", hex::encode([n; 32])),
            size: 100 + n as u64,
            artifact_type: Some(at.into()),
            ..Default::default()
        };
        let referrers = (referrer(1, media::NOTATION_SIGNATURE), referrer(2, media::SPDX_JSON));
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let foreign = Arc::new(Mutex::new(Vec::new()));
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let state = Arc::new(State {
            host: addr.to_string(),
            image_bytes: image_bytes.clone(),
            image: image.clone(),
            config_bytes,
            config: config.clone(),
            referrers: referrers.clone(),
            hits: hits.clone(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: max_in_flight.clone(),
            foreign: foreign.clone(),
            store: Mutex::default(),
        });
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            if let Ok((sock, _)) = accepted {
                                tokio::spawn(serve(sock, state.clone()));
                            }
                        }
                    }
                }
            });
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        Hostile {
            addr,
            host: addr.to_string(),
            image,
            image_bytes,
            config,
            referrers,
            hits,
            max_in_flight,
            foreign,
            shutdown: Some(tx),
        }
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// The Authorization header (or its absence) of every request that reached this server under
    /// another host name (`localhost`): credentials must never travel there.
    pub fn foreign_authorizations(&self) -> Vec<Option<String>> {
        self.foreign.lock().unwrap().clone()
    }

    /// How many requests reached `path` (query excluded).
    pub fn hits(&self, path: &str) -> u32 {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn answer(status: u16, ct: &str, body: impl Into<Vec<u8>>) -> Answer {
    Answer { status, headers: vec![("Content-Type".into(), ct.into())], body: body.into() }
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    answer(status, "application/json", json!({"errors": [{"code": code, "message": message}]}).to_string())
}

/// What the server needs from one request.
struct Req {
    method: String,
    target: String,
    host: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

async fn read_request(sock: &mut TcpStream) -> Option<Req> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let method = request_line.split(' ').next().unwrap_or("GET").to_string();
    let target = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let length: usize = get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0).min(64 * 1024);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some(Req {
        method,
        target,
        host: get("host").unwrap_or_default(),
        authorization: get("authorization"),
        content_type: get("content-type"),
        body,
    })
}

/// How an answer goes out.
#[derive(PartialEq)]
enum Pace {
    Normal,
    /// Headers at once, then the body one byte per second.
    DripBody,
    /// Everything, status line first, one byte per second.
    DripAll,
}

async fn serve(mut sock: TcpStream, st: Arc<State>) {
    let Some(req) = read_request(&mut sock).await else { return };
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let count = {
        let mut hits = st.hits.lock().unwrap();
        let c = hits.entry(path.to_string()).or_insert(0);
        *c += 1;
        *c
    };
    if req.host.starts_with("localhost") {
        st.foreign.lock().unwrap().push(req.authorization.clone());
    }
    if let Some(which) = path.strip_prefix("/token") {
        let (a, pace) = token_endpoint(which, &req);
        return write(&mut sock, a, pace).await;
    }
    let rest = path.strip_prefix("/v2/").unwrap_or("");
    if rest.is_empty() {
        return write(&mut sock, answer(200, "application/json", "{}"), Pace::Normal).await;
    }
    let (repo, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let authorization = req.authorization.as_deref();
    let mut pace = Pace::Normal;
    if repo.starts_with("store") {
        match store(&st, repo, tail, query, &req) {
            Some(a) => return write(&mut sock, a, Pace::Normal).await,
            None => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
        }
    }
    let a = match repo {
        "stall" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        "huge" => {
            let hdr = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
                media::OCI_MANIFEST,
                1u64 << 30
            );
            let _ = sock.write_all(hdr.as_bytes()).await;
            let zeros = vec![b' '; 64 * 1024];
            while sock.write_all(&zeros).await.is_ok() {}
            return;
        }
        "chunked" => {
            let hdr = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
                media::OCI_MANIFEST
            );
            let _ = sock.write_all(hdr.as_bytes()).await;
            let mut piece = format!("{:x}\r\n", 64 * 1024).into_bytes();
            piece.extend(vec![b' '; 64 * 1024]);
            piece.extend_from_slice(b"\r\n");
            while sock.write_all(&piece).await.is_ok() {}
            return;
        }
        "auth" => {
            let mut a = error(401, "UNAUTHORIZED", &format!("bad credentials {}", decoded_basic(authorization)));
            a.headers.push(("WWW-Authenticate".into(), r#"Basic realm="hostile""#.into()));
            a
        }
        "denied" => error(403, "DENIED", "requested access to the resource is denied"),
        "missing" => error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
        "broken" => error(500, "UNKNOWN", "internal server error"),
        "limited" => {
            let mut a = error(429, "TOOMANYREQUESTS", "slow down");
            a.headers.push(("Retry-After".into(), "0".into()));
            a
        }
        "flaky" if count <= 2 => {
            let mut a = error(429, "TOOMANYREQUESTS", "slow down");
            a.headers.push(("Retry-After".into(), "1".into()));
            a
        }
        "badjson" => answer(200, media::OCI_MANIFEST, "{\"schemaVersion\": 2, \"layers\": [unquoted"),
        "drip" | "driphead" => {
            pace = if repo == "drip" { Pace::DripBody } else { Pace::DripAll };
            good(&st, repo, tail, query)
        }
        "dripauth" => bearer_gate(&st, authorization, "/token/drip").unwrap_or_else(|| good(&st, repo, tail, query)),
        "selflink" | "cycle" | "fraglink" | "endless" | "offsite" => paged(&st, repo, tail, query, count),
        "echo" => match authorization {
            None => challenge_basic(),
            Some(raw) => {
                let decoded = decoded_basic(Some(raw));
                let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&decoded);
                error(
                    403,
                    "DENIED",
                    &format!("you sent Authorization: {raw} (base64url {url_safe}, decoded {decoded})"),
                )
            }
        },
        "bearer" => match bearer_gate(&st, authorization, "/token") {
            Some(challenge) => challenge,
            None if tail.starts_with("blobs/") => redirect(&format!("http://{}/v2/good/{tail}", st.localhost())),
            None => error(
                403,
                "DENIED",
                &format!("{} you sent Authorization: {}", "x".repeat(150), authorization.unwrap_or_default()),
            ),
        },
        "tokenecho" => bearer_gate(&st, authorization, "/token/echo").unwrap_or_else(|| good(&st, repo, tail, query)),
        "otherrealm" => {
            bearer_gate_at(&st.localhost(), authorization, "/token").unwrap_or_else(|| good(&st, repo, tail, query))
        }
        "realmleak" => match authorization {
            None => challenge_basic(),
            Some(_) if tail.starts_with("manifests/") => good(&st, repo, tail, query),
            Some(raw) => {
                let echo = raw.strip_prefix("Basic ").unwrap_or(raw);
                let mut a = error(401, "UNAUTHORIZED", "token required");
                let realm = format!(r#"Bearer realm="http://127.0.0.1:1/token?echo={echo}",service="hostile""#);
                a.headers.push(("WWW-Authenticate".into(), realm));
                a
            }
        },
        "redirect" => match authorization {
            None => challenge_basic(),
            Some(_) if tail.starts_with("blobs/") => redirect(&format!("http://{}/v2/good/{tail}", st.localhost())),
            Some(_) => good(&st, repo, tail, query),
        },
        "redirloop" => redirect(path),
        "longerr" => error(500, "UNKNOWN", &format!("{}\x1b[2J{}", "y".repeat(2500), "z".repeat(2500))),
        "foreign" if req.host.starts_with("localhost") => {
            let mut a = error(401, "UNAUTHORIZED", "sign in here");
            let realm = format!(r#"Bearer realm="http://{}/token",service="elsewhere""#, st.localhost());
            a.headers.push(("WWW-Authenticate".into(), realm));
            a
        }
        "foreign" => redirect(&format!("http://{}{}", st.localhost(), req.target)),
        _ => {
            if repo == "slow" && tail.starts_with("manifests/") {
                let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                st.max_in_flight.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(300)).await;
                st.in_flight.fetch_sub(1, Ordering::SeqCst);
            }
            good(&st, repo, tail, query)
        }
    };
    write(&mut sock, a, pace).await;
}

impl State {
    /// This server under another host name: what a registry redirecting elsewhere points to.
    fn localhost(&self) -> String {
        self.host.replace("127.0.0.1", "localhost")
    }
}

/// `user:password` from a Basic header, or "" when there is none.
fn decoded_basic(authorization: Option<&str>) -> String {
    authorization
        .and_then(|a| a.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|b| String::from_utf8_lossy(&b).to_string())
        .unwrap_or_default()
}

fn challenge_basic() -> Answer {
    let mut a = error(401, "UNAUTHORIZED", "authentication required");
    a.headers.push(("WWW-Authenticate".into(), r#"Basic realm="hostile""#.into()));
    a
}

/// A Bearer challenge pointing at `realm_path` unless the request carries a bearer token.
fn bearer_gate(st: &State, authorization: Option<&str>, realm_path: &str) -> Option<Answer> {
    bearer_gate_at(&st.host, authorization, realm_path)
}

fn bearer_gate_at(realm_host: &str, authorization: Option<&str>, realm_path: &str) -> Option<Answer> {
    if authorization.is_some_and(|a| a.starts_with("Bearer ")) {
        return None;
    }
    let mut a = error(401, "UNAUTHORIZED", "authentication required");
    let realm = format!(r#"Bearer realm="http://{realm_host}{realm_path}",service="hostile""#);
    a.headers.push(("WWW-Authenticate".into(), realm));
    Some(a)
}

fn redirect(location: &str) -> Answer {
    let mut a = answer(307, "text/plain", "moved");
    a.headers.push(("Location".into(), location.into()));
    a
}

/// `/token` hands out [`token`]; `/token/drip` does so one byte per second; `/token/echo` fails,
/// echoing what it got.
fn token_endpoint(which: &str, req: &Req) -> (Answer, Pace) {
    let reply = answer(200, "application/json", json!({"token": token(), "expires_in": 300}).to_string());
    match which {
        "/drip" => (reply, Pace::DripBody),
        "/echo" => {
            let form = String::from_utf8_lossy(&req.body);
            let got = format!("Authorization: {:?}; form: {form}", req.authorization.as_deref().unwrap_or(""));
            (answer(500, "text/plain", format!("token service failed, request was {got}")), Pace::Normal)
        }
        _ => (reply, Pace::Normal),
    }
}

/// Tag pages whose `Link` never lets go (and referrers for `selflink` and `offsite`).
fn paged(st: &State, repo: &str, tail: &str, query: &str, count: u32) -> Answer {
    if tail.starts_with("manifests/") || tail.starts_with("blobs/") {
        return good(st, repo, tail, query);
    }
    let here = format!("/v2/{repo}/{tail}");
    let link = match repo {
        "selflink" if query.is_empty() => here.clone(),
        "selflink" => format!("{here}?{query}"),
        "cycle" if query.contains("p=a") => format!("{here}?p=b"),
        "cycle" => format!("{here}?p=a"),
        "fraglink" => format!("{here}?{query}#{count}"),
        "endless" => format!("{here}?page={count}"),
        _ => format!("http://{}/v2/good/{tail}", st.localhost()),
    };
    let body = if tail.starts_with("referrers/") {
        json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": [st.referrers.0]})
    } else {
        json!({"name": repo, "tags": [format!("t{count}")]})
    };
    let ct = if tail.starts_with("referrers/") { media::OCI_INDEX } else { "application/json" };
    let mut a = answer(200, ct, body.to_string());
    a.headers.push(("Link".into(), format!("<{link}>; rel=\"next\"")));
    a
}

/// The well-behaved answers (`good`, `slow`, `flaky` after its 429s), plus `liar` and `selfref`.
fn good(st: &State, repo: &str, tail: &str, query: &str) -> Answer {
    let mut a = if let Some(reference) = tail.strip_prefix("manifests/") {
        if reference == "v1" || reference == st.image.digest {
            let mut body = st.image_bytes.clone();
            if repo == "liar" {
                body.push(b' ');
            }
            let mut a = answer(200, media::OCI_MANIFEST, body);
            a.headers.push(("Docker-Content-Digest".into(), st.image.digest.clone()));
            a
        } else {
            error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        }
    } else if let Some(d) = tail.strip_prefix("blobs/") {
        if d == st.config.digest {
            let mut body = st.config_bytes.clone();
            if repo == "liar" {
                body[2] ^= 1;
            }
            answer(200, "application/octet-stream", body)
        } else {
            error(404, "BLOB_UNKNOWN", "blob unknown")
        }
    } else if tail.starts_with("referrers/") {
        if repo == "selfref" {
            return answer(200, media::OCI_MANIFEST, st.image_bytes.clone());
        }
        let second = query.contains("page=2");
        let entry = if second { &st.referrers.1 } else { &st.referrers.0 };
        let body = json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": [entry]}).to_string();
        let mut a = answer(200, media::OCI_INDEX, body);
        if !second {
            // A relative next link carrying the filter along, as the spec's examples do.
            let at =
                query.split('&').find(|p| p.starts_with("artifactType=")).map(|p| format!("&{p}")).unwrap_or_default();
            a.headers.push(("Link".into(), format!("</v2/{repo}/{tail}?page=2{at}>; rel=\"next\"")));
        }
        a
    } else if tail == "tags/list" {
        let second = query.contains("last=b");
        let tags = if second { json!(["a"]) } else { json!(["v1", "b"]) };
        let mut a = answer(200, "application/json", json!({"name": repo, "tags": tags}).to_string());
        if !second {
            a.headers.push(("Link".into(), format!("</v2/{repo}/tags/list?n=2&last=b>; rel=\"next\"")));
        }
        a
    } else {
        error(404, "NOT_FOUND", "no such route")
    };
    a.headers.push(("Docker-Distribution-Api-Version".into(), "registry/2.0".into()));
    a
}

async fn write(sock: &mut TcpStream, a: Answer, pace: Pace) {
    let reason = match a.status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut out =
        format!("HTTP/1.1 {} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n", a.status, a.body.len());
    for (k, v) in &a.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    let dripped = match pace {
        Pace::Normal => {
            out.extend_from_slice(&a.body);
            Vec::new()
        }
        Pace::DripBody => a.body,
        Pace::DripAll => std::mem::take(&mut out).into_iter().chain(a.body).collect(),
    };
    if sock.write_all(&out).await.is_err() {
        return;
    }
    for byte in dripped {
        // One byte a second: never idle long enough for a per-read timeout to fire.
        tokio::time::sleep(Duration::from_secs(1)).await;
        if sock.write_all(&[byte]).await.is_err() {
            return;
        }
    }
    let _ = sock.shutdown().await;
}

/// The writable stand-in (`store…/NAME`); `None` means: never answer (`store-stall`).
fn store(st: &State, fault: &str, tail: &str, query: &str, req: &Req) -> Option<Answer> {
    let full = format!("/{tail}");
    let (name, op) = ["/blobs/", "/manifests/", "/tags/list", "/referrers/"]
        .iter()
        .filter_map(|m| full.find(m).map(|i| (&full[1..i], &full[i + 1..])))
        .min_by_key(|(n, _)| n.len())?;
    let here = format!("/v2/{fault}/{name}");
    let failing = |status: u16| {
        let mut a = error(status, "DENIED", &format!("{fault} refuses this {} {}", req.method, req.target));
        if status == 401 {
            a.headers.push(("WWW-Authenticate".into(), r#"Basic realm="hostile""#.into()));
        }
        a
    };
    let fault_status = |kind: &str| fault.strip_prefix(&format!("store-{kind}")).and_then(|c| c.parse::<u16>().ok());
    let mut repos = st.store.lock().unwrap();
    let repo = repos.entry(name.to_string()).or_default();
    let method = req.method.as_str();
    let with = |mut a: Answer, headers: &[(&str, String)]| {
        a.headers.extend(headers.iter().map(|(k, v)| (k.to_string(), v.clone())));
        a
    };
    Some(if let Some(upload) = op.strip_prefix("blobs/uploads/") {
        match (method, upload) {
            ("POST", _) => {
                let id = format!("u{}", repo.uploads.len() + 1);
                repo.uploads.insert(id.clone(), req.body.clone());
                with(answer(202, "text/plain", ""), &[("Location", format!("{here}/blobs/uploads/{id}"))])
            }
            (_, _) if fault == "store-stall" => return None,
            ("PATCH", id) => {
                let Some(data) = repo.uploads.get_mut(id) else { return Some(error(404, "BLOB_UPLOAD_UNKNOWN", id)) };
                data.extend_from_slice(&req.body);
                let range = format!("0-{}", data.len().saturating_sub(1));
                with(
                    answer(202, "text/plain", ""),
                    &[("Location", format!("{here}/blobs/uploads/{id}")), ("Range", range)],
                )
            }
            ("PUT", _) if fault_status("blob").is_some() => failing(fault_status("blob").unwrap()),
            ("PUT", id) => {
                let Some(mut data) = repo.uploads.remove(id) else {
                    return Some(error(404, "BLOB_UPLOAD_UNKNOWN", id));
                };
                data.extend_from_slice(&req.body);
                let digest = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("digest="))
                    .unwrap_or_default()
                    .replace("%3A", ":")
                    .replace("%3a", ":");
                if sigscope::oci::sha256_digest(&data) != digest {
                    return Some(error(400, "DIGEST_INVALID", "digest mismatch"));
                }
                repo.blobs.insert(digest.clone(), data);
                with(
                    answer(201, "text/plain", ""),
                    &[("Location", format!("{here}/blobs/{digest}")), ("Docker-Content-Digest", digest)],
                )
            }
            _ => error(405, "UNSUPPORTED", "method not allowed"),
        }
    } else if let Some(digest) = op.strip_prefix("blobs/") {
        match repo.blobs.get(digest) {
            Some(b) => answer(200, "application/octet-stream", b.clone()),
            None => error(404, "BLOB_UNKNOWN", "blob unknown"),
        }
    } else if let Some(reference) = op.strip_prefix("manifests/") {
        let by_digest = reference.starts_with("sha256:");
        if method == "PUT" {
            if by_digest && let Some(status) = fault_status("manifest") {
                return Some(failing(status));
            }
            if reference.starts_with("sha256-")
                && let Some(status) = fault_status("tag")
            {
                return Some(failing(status));
            }
            if reference.starts_with("sha256-") && fault == "store-tagflaky" && !repo.tag_refused_once {
                repo.tag_refused_once = true;
                return Some(failing(500));
            }
            let digest = sigscope::oci::sha256_digest(&req.body);
            if by_digest && digest != reference {
                return Some(error(400, "DIGEST_INVALID", "digest mismatch"));
            }
            let ct = req_content_type(req);
            if fault == "store-clobber" && reference.starts_with("sha256-") {
                return Some(with(answer(201, "text/plain", ""), &[("Docker-Content-Digest", digest)]));
            }
            repo.manifests.insert(digest.clone(), (ct, req.body.clone()));
            if !by_digest {
                repo.tags.insert(reference.to_string(), digest.clone());
            }
            with(
                answer(201, "text/plain", ""),
                &[("Location", format!("{here}/manifests/{digest}")), ("Docker-Content-Digest", digest)],
            )
        } else {
            let digest = if by_digest { Some(reference.to_string()) } else { repo.tags.get(reference).cloned() };
            match digest.and_then(|d| repo.manifests.get(&d).map(|m| (d, m.clone()))) {
                Some((d, (ct, body))) => with(answer(200, &ct, body), &[("Docker-Content-Digest", d)]),
                None => error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
            }
        }
    } else if op == "tags/list" {
        answer(200, "application/json", json!({"name": name, "tags": repo.tags.keys().collect::<Vec<_>>()}).to_string())
    } else {
        error(404, "NOT_FOUND", "no referrers API here")
    })
}

/// The Content-Type a manifest was pushed with (kept to answer with it).
fn req_content_type(req: &Req) -> String {
    req.content_type.clone().unwrap_or_else(|| media::OCI_MANIFEST.to_string())
}
