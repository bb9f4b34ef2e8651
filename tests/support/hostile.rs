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
    image_bytes: Vec<u8>,
    image: Descriptor,
    config_bytes: Vec<u8>,
    config: Descriptor,
    referrers: (Descriptor, Descriptor),
    hits: Arc<Mutex<HashMap<String, u32>>>,
    in_flight: AtomicUsize,
    max_in_flight: Arc<AtomicUsize>,
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
        let state = Arc::new(State {
            image_bytes: image_bytes.clone(),
            image: image.clone(),
            config_bytes,
            config: config.clone(),
            referrers: referrers.clone(),
            hits: hits.clone(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: max_in_flight.clone(),
        });
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
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
            shutdown: Some(tx),
        }
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
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

async fn serve(mut sock: TcpStream, st: Arc<State>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 64 * 1024 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let target = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim().to_string());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let count = {
        let mut hits = st.hits.lock().unwrap();
        let c = hits.entry(path.to_string()).or_insert(0);
        *c += 1;
        *c
    };
    let rest = path.strip_prefix("/v2/").unwrap_or("");
    if rest.is_empty() {
        return write(&mut sock, answer(200, "application/json", "{}")).await;
    }
    let (repo, tail) = rest.split_once('/').unwrap_or((rest, ""));
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
            let got = authorization
                .as_deref()
                .and_then(|a| a.strip_prefix("Basic "))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .map(|b| String::from_utf8_lossy(&b).to_string())
                .unwrap_or_default();
            let mut a = error(401, "UNAUTHORIZED", &format!("bad credentials {got}"));
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
    write(&mut sock, a).await;
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

async fn write(sock: &mut TcpStream, a: Answer) {
    let reason = match a.status {
        200 => "OK",
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
    let _ = sock.write_all(out.as_bytes()).await;
    let _ = sock.write_all(&a.body).await;
    let _ = sock.shutdown().await;
}
