//! An attacker's review of the robustness fixes of issue 7 (items 4–11): crafted layouts,
//! registries and files against the real binary. Each test asserts the secure outcome and
//! fails when the attack works; a run is bounded in time and memory so a regression fails
//! the test instead of taking the machine down.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::cmd::{self, Limits, Run};
use common::layout::{INDEX, MANIFEST, REF_NAME, digest};

/// A command that has not ended by then is hung: generous, so a slow machine never trips it.
// A hang detector, not a timing assertion: the debug binary needs ~30 s for the 20,000-entry
// amplification case on a loaded 2-core machine, so the bound is well above that.
const HANG: Duration = Duration::from_secs(120);

/// Runs sigscope with a 2 GB virtual-memory cap (and a 1 GB file cap) and kills it after
/// [`HANG`].
fn sigscope(args: &[&str]) -> Run {
    let limits = Limits { memory_kib: Some(2_000_000), file_blocks: Some(1_000_000), hang: HANG };
    cmd::sigscope(args).private_cache().bounded(limits).run()
}

/// An OCI layout built blob by blob.
struct Layout {
    dir: tempfile::TempDir,
}

impl Layout {
    fn new() -> Layout {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("layout");
        std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
        std::fs::write(root.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("layout")
    }

    fn outside(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn blob_path(&self, digest: &str) -> PathBuf {
        self.root().join("blobs/sha256").join(&digest["sha256:".len()..])
    }

    fn blob(&self, bytes: &[u8]) -> String {
        let d = digest(bytes);
        std::fs::write(self.blob_path(&d), bytes).unwrap();
        d
    }

    fn json(&self, v: &Value) -> (String, u64) {
        let bytes = serde_json::to_vec(v).unwrap();
        (self.blob(&bytes), bytes.len() as u64)
    }

    /// An image manifest with an empty config and no layers, plus `extra` fields.
    fn image(&self, extra: Value) -> (String, u64) {
        let config = self.blob(b"{}");
        let mut m = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
            "layers": [],
        });
        if let (Some(m), Value::Object(extra)) = (m.as_object_mut(), extra) {
            m.extend(extra);
        }
        self.json(&m)
    }

    fn index_json(&self, entries: Vec<Value>) {
        let index = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries});
        std::fs::write(self.root().join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    }

    fn target(&self, tag: &str) -> String {
        format!("{}:{tag}", self.root().display())
    }
}

fn tagged(media_type: &str, digest: &str, size: u64, tag: &str) -> Value {
    json!({"mediaType": media_type, "digest": digest, "size": size, "annotations": {REF_NAME: tag}})
}

fn tree_json(target: &str) -> Run {
    sigscope(&["tree", "--oci-layout", target, "-o", "json"])
}

// ---- output amplification -----------------------------------------------------------------

/// Bytes any `tree` report may take for these inputs: far over what they honestly hold.
const OUTPUT_BOUND: usize = 256 << 20;

#[test]
fn one_big_manifest_listed_thousands_of_times_does_not_amplify_the_report() {
    // A 3 MiB annotation on one manifest, and an index listing that manifest 20,000 times
    // (3.5 MB, within every limit): a report that copies the annotations per node is 60 GB.
    let l = Layout::new();
    let (big, big_size) = l.image(json!({"annotations": {"x": "A".repeat(3 << 20)}}));
    let entry = json!({"mediaType": MANIFEST, "digest": big, "size": big_size});
    let (index, index_size) =
        l.json(&json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": vec![entry; 20_000]}));
    l.index_json(vec![tagged(INDEX, &index, index_size, "amp")]);
    let run = tree_json(&l.target("amp"));
    run.ended();
    assert!(run.stdout.len() < OUTPUT_BOUND, "report of {} bytes from a {index_size}-byte index", run.stdout.len());
    assert_eq!(run.code, Some(3), "a partial report is a failure; stderr: {}", run.stderr);
    assert!(run.stderr.contains("size limit reached"), "the report says why it stops: {}", run.stderr);
    let v: Value = serde_json::from_slice(&run.stdout).expect("the report is JSON");
    assert!(v["platforms"].as_array().unwrap().len() == 20_000, "every entry is still listed");
}

#[test]
fn a_big_descriptor_under_an_index_listed_thousands_of_times_does_not_amplify_the_text_tree() {
    // The weight is in a descriptor, not in a manifest: index P names one image with a 3 MiB
    // artifactType; index G lists P 20,000 times, so the graph (and the text tree, which shows
    // artifact types) would hold 20,000 copies of it.
    let l = Layout::new();
    let (image, image_size) = l.image(json!({}));
    let heavy = json!({"mediaType": MANIFEST, "digest": image, "size": image_size, "artifactType": "a/".to_string() + &"b".repeat(3 << 20)});
    let (p, p_size) = l.json(&json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": [heavy]}));
    let entry = json!({"mediaType": INDEX, "digest": p, "size": p_size});
    let (g, g_size) = l.json(&json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": vec![entry; 20_000]}));
    l.index_json(vec![tagged(INDEX, &g, g_size, "amp")]);
    let run = sigscope(&["tree", "--oci-layout", &l.target("amp")]);
    run.ended();
    assert!(run.stdout.len() < OUTPUT_BOUND, "text tree of {} bytes", run.stdout.len());
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("size limit reached"), "{}", run.stderr);
}

// ---- a stand-in registry ------------------------------------------------------------------

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
struct Req {
    /// Path and query, as sent.
    target: String,
    headers: Vec<(String, String)>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn resp(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Resp {
    Resp { status, headers: vec![("Content-Type".into(), content_type.into())], body: body.into() }
}

impl Resp {
    fn with(mut self, name: &str, value: &str) -> Resp {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Req, &str) -> Resp + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1 that answers every request with `handler(request, host)`,
/// keep-alive, a thread per connection; it lives as long as the test process.
fn stand_in(handler: impl Fn(&Req, &str) -> Resp + Send + Sync + 'static) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let handler: std::sync::Arc<Handler> = std::sync::Arc::new(handler);
    let h = host.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let (handler, host) = (handler.clone(), h.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut writer = conn;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.push((k.trim().to_string(), v.trim().to_string()));
                        }
                    }
                    let req = Req { target, headers };
                    let len: usize = req.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                    let mut body = vec![0; len];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let r = handler(&req, &host);
                    let mut head = format!("HTTP/1.1 {} X\r\nContent-Length: {}\r\n", r.status, r.body.len());
                    for (k, v) in &r.headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    if writer.write_all(head.as_bytes()).and_then(|_| writer.write_all(&r.body)).is_err() {
                        return;
                    }
                }
            });
        }
    });
    host
}

fn oci_error(status: u16, message: &str) -> Resp {
    let body = json!({"errors": [{"code": "X", "message": message}]});
    resp(status, "application/json", serde_json::to_vec(&body).unwrap())
}

fn not_found() -> Resp {
    oci_error(404, "not found")
}

/// A small valid image manifest, and the stand-in's answer to `GET …/manifests/<it>`.
fn image_manifest() -> (Vec<u8>, String) {
    let config = digest(b"{}");
    let m = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
        "layers": [],
    });
    let bytes = serde_json::to_vec(&m).unwrap();
    let d = digest(&bytes);
    (bytes, d)
}

fn manifest_reply(bytes: &[u8]) -> Resp {
    resp(200, MANIFEST, bytes.to_vec()).with("Docker-Content-Digest", &digest(bytes))
}

// ---- tokens -------------------------------------------------------------------------------

/// A registry behind a bearer challenge whose token server answers `reply`.
fn bearer_registry(reply: Value) -> String {
    let (image, digest) = image_manifest();
    let reply = serde_json::to_vec(&reply).unwrap();
    stand_in(move |req, host| {
        if req.path() == "/token" {
            return resp(200, "application/json", reply.clone());
        }
        if req.header("authorization").is_none() {
            return oci_error(401, "auth")
                .with("WWW-Authenticate", &format!(r#"Bearer realm="http://{host}/token",service="s""#));
        }
        match req.path() {
            "/v2/r/tags/list" => resp(200, "application/json", br#"{"name":"r","tags":["v1"]}"#.to_vec()),
            p if p == "/v2/r/manifests/v1" || p == format!("/v2/r/manifests/{digest}") => manifest_reply(&image),
            _ => not_found(),
        }
    })
}

#[test]
fn a_token_that_never_expires_is_no_crash() {
    let host = bearer_registry(json!({"token": "tok-abc-123", "expires_in": u64::MAX}));
    let run = sigscope(&["tree", &format!("{host}/r"), "-o", "json"]);
    run.ended();
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
}

#[test]
fn a_deadline_past_the_end_of_time_is_no_crash() {
    let host = bearer_registry(json!({"token": "tok-abc-123"}));
    for flag in ["--deadline", "--timeout"] {
        let run = sigscope(&["tree", &format!("{host}/r"), "-o", "json", flag, "18446744073709551615"]);
        run.ended();
        assert!(!run.stderr.contains("panicked"), "{flag}: {}", run.stderr);
        assert_eq!(run.code, Some(0), "{flag}: {}", run.stderr);
    }
}

// ---- listings -----------------------------------------------------------------------------

/// A page of `n` distinct short names, `prefix` keeping pages apart.
fn names_page(key: &str, prefix: &str, n: usize) -> Vec<u8> {
    let names: Vec<String> = (0..n).map(|i| format!("{prefix}{i:x}")).collect();
    serde_json::to_vec(&json!({"name": "r", key: names})).unwrap()
}

/// Distinct new pages of 4 MB each, every one linking to the next: the page limit alone lets
/// 1,000 of them, 4 GB of names (40 GB in memory), through.
#[test]
fn a_tag_list_of_a_thousand_full_pages_is_refused_not_held() {
    let host = stand_in(|req, _| match req.path() {
        "/v2/r/tags/list" => {
            let page: usize =
                req.query().split('&').find_map(|p| p.strip_prefix("page=")).and_then(|p| p.parse().ok()).unwrap_or(0);
            resp(200, "application/json", names_page("tags", &format!("p{page}-"), 300_000))
                .with("Link", &format!("</v2/r/tags/list?page={}>; rel=\"next\"", page + 1))
        }
        _ => not_found(),
    });
    let run = sigscope(&["tree", &format!("{host}/r"), "-o", "json"]);
    run.ended();
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("tags of"), "the error names the listing: {}", run.stderr);
}

#[test]
fn a_catalog_of_a_thousand_full_pages_is_refused_not_held() {
    let host = stand_in(|req, _| match req.path() {
        "/v2/_catalog" => {
            let page: usize =
                req.query().split('&').find_map(|p| p.strip_prefix("page=")).and_then(|p| p.parse().ok()).unwrap_or(0);
            resp(200, "application/json", names_page("repositories", &format!("p{page}-"), 300_000))
                .with("Link", &format!("</v2/_catalog?page={}>; rel=\"next\"", page + 1))
        }
        _ => not_found(),
    });
    let run = sigscope(&["tree", &host, "-o", "json"]);
    run.ended();
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("catalog of"), "the error names the listing: {}", run.stderr);
}

#[test]
fn referrers_of_a_thousand_full_pages_are_refused_not_held() {
    let (image, digest) = image_manifest();
    let subject = digest.clone();
    let host = stand_in(move |req, _| {
        let referrers = format!("/v2/r/referrers/{subject}");
        match req.path() {
            p if p == format!("/v2/r/manifests/{subject}") => manifest_reply(&image),
            "/v2/r/tags/list" => resp(200, "application/json", br#"{"name":"r","tags":[]}"#.to_vec()),
            p if p == referrers => {
                let page: usize = req
                    .query()
                    .split('&')
                    .find_map(|p| p.strip_prefix("page="))
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                // Distinct digests, the smallest descriptors a registry can list.
                let manifests: Vec<Value> = (0..45_000u64)
                    .map(|i| json!({"digest": format!("sha256:{:064x}", (page as u64) << 32 | i)}))
                    .collect();
                let body = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests});
                resp(200, INDEX, serde_json::to_vec(&body).unwrap())
                    .with("Link", &format!("<{referrers}?page={}>; rel=\"next\"", page + 1))
            }
            _ => not_found(),
        }
    });
    let run = sigscope(&["tree", &format!("{host}/r@{digest}"), "-o", "json"]);
    run.ended();
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("referrers of"), "the error names the listing: {}", run.stderr);
}

// ---- symlink races ------------------------------------------------------------------------

/// Swaps two paths atomically (`renameat2(RENAME_EXCHANGE)`), as fast as it can, until told to
/// stop: a directory and a symlink trade places under a reader.
fn flip(a: PathBuf, b: PathBuf, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> std::thread::JoinHandle<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    std::thread::spawn(move || {
        let ca = std::ffi::CString::new(a.as_os_str().as_bytes()).unwrap();
        let cb = std::ffi::CString::new(b.as_os_str().as_bytes()).unwrap();
        let mut n = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            // SAFETY: two valid NUL-terminated paths.
            let rc = unsafe {
                libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE)
            };
            assert_eq!(rc, 0, "renameat2: {}", std::io::Error::last_os_error());
            n += 1;
        }
        n
    })
}

#[test]
fn a_directory_swapped_for_an_escaping_symlink_mid_read_is_never_followed() {
    // `blobs/sha256` is a real directory when the path is resolved and a symlink out of the
    // layout when the file is opened, back and forth. The file outside has the blob's name and
    // other content: if it is ever read, the integrity error shows its digest.
    let l = Layout::new();
    let (image, size) = l.image(json!({}));
    l.index_json(vec![tagged(MANIFEST, &image, size, "v1")]);
    let outside = l.outside().join("elsewhere");
    std::fs::create_dir(&outside).unwrap();
    let secret = b"{\"a secret\": \"outside the layout\"}";
    std::fs::write(outside.join(&image["sha256:".len()..]), secret).unwrap();
    let decoy = l.root().join("blobs/decoy");
    std::os::unix::fs::symlink(&outside, &decoy).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flipper = flip(l.root().join("blobs/sha256"), decoy, stop.clone());
    let mut outcomes = Vec::new();
    for _ in 0..40 {
        let run = tree_json(&l.target("v1"));
        run.ended();
        assert!(
            !run.stderr.contains(&digest(secret)["sha256:".len()..]),
            "a file outside the layout was read: {}",
            run.stderr
        );
        outcomes.push(run.code);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(flipper.join().unwrap() > 0);
}

// ---- digests, tags, text ------------------------------------------------------------------

#[test]
fn a_sha512_digest_is_verified_not_trusted() {
    let l = Layout::new();
    let (image, size) = l.image(json!({}));
    let bytes = std::fs::read(l.blob_path(&image)).unwrap();
    // Filed under a sha512 name it does not have.
    let fake = format!("sha512:{}", "ab".repeat(64));
    std::fs::create_dir_all(l.root().join("blobs/sha512")).unwrap();
    std::fs::write(l.root().join("blobs/sha512").join(&fake["sha512:".len()..]), &bytes).unwrap();
    l.index_json(vec![tagged(MANIFEST, &fake, size, "v1")]);
    let run = tree_json(&l.target("v1"));
    run.ended();
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("integrity error"), "{}", run.stderr);
    // Upper-case hex is not a digest at all: refused before it names a file.
    let upper = image.to_uppercase().replacen("SHA256", "sha256", 1);
    l.index_json(vec![tagged(MANIFEST, &upper, size, "v1")]);
    let run = tree_json(&l.target("v1"));
    run.ended();
    assert!(matches!(run.code, Some(c) if c != 0), "{}", run.stderr);
    assert!(run.stderr.contains("not a sha256 or sha512 digest"), "{}", run.stderr);
}

#[test]
fn a_tag_matches_byte_for_byte_only() {
    // `Prod`, `prod ` and `prod\u{200b}` are other tags, not spellings of `prod`.
    let l = Layout::new();
    let (a, a_size) = l.image(json!({"annotations": {"which": "a"}}));
    let (b, b_size) = l.image(json!({"annotations": {"which": "b"}}));
    l.index_json(vec![
        tagged(MANIFEST, &b, b_size, "Prod"),
        tagged(MANIFEST, &b, b_size, "prod "),
        tagged(MANIFEST, &b, b_size, "prod\u{200b}"),
        tagged(MANIFEST, &a, a_size, "prod"),
    ]);
    let run = tree_json(&l.target("prod"));
    run.ended();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["digest"], a.as_str());
    // The look-alikes are listed escaped, never as a second `prod`.
    let run = sigscope(&["tree", "--oci-layout", l.root().to_str().unwrap()]);
    run.ended();
    assert!(run.out().contains("prod\\u{200b}"), "{}", run.out());
    assert!(!run.out().contains('\u{200b}'), "{}", run.out());
}

#[test]
fn a_lone_surrogate_in_a_manifest_is_refused_not_passed_on() {
    // Valid JSON, but no Unicode string: serde refuses it, and the manifest with it.
    let l = Layout::new();
    let (image, _) = l.image(json!({}));
    let text = String::from_utf8(std::fs::read(l.blob_path(&image)).unwrap()).unwrap();
    let hostile = text.replacen("\"layers\"", "\"annotations\":{\"x\":\"\\ud800\\u009b\"},\"layers\"", 1);
    let d = l.blob(hostile.as_bytes());
    l.index_json(vec![tagged(MANIFEST, &d, hostile.len() as u64, "v1")]);
    let run = tree_json(&l.target("v1"));
    run.ended();
    assert!(std::str::from_utf8(&run.stdout).is_ok(), "stdout is UTF-8");
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("surrogate"), "{}", run.stderr);
}

#[test]
fn a_hard_link_is_the_layout_own_file_and_still_verified() {
    // Decided: a hard link is not an escape. It names the same inode as the file outside, but
    // making one needs the right to that file (fs.protected_hardlinks), so it grants nothing
    // a copy would not; and a blob is checked against its digest wherever its bytes came from.
    let l = Layout::new();
    let (image, size) = l.image(json!({}));
    let outside = l.outside().join("not-the-image");
    std::fs::write(&outside, b"{\"schemaVersion\":2}").unwrap();
    std::fs::remove_file(l.blob_path(&image)).unwrap();
    std::fs::hard_link(&outside, l.blob_path(&image)).unwrap();
    l.index_json(vec![tagged(MANIFEST, &image, size, "v1")]);
    let run = tree_json(&l.target("v1"));
    run.ended();
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("integrity error"), "{}", run.stderr);
}

// ---- deadline against a fast, endless registry --------------------------------------------

#[test]
fn the_deadline_ends_a_walk_through_endless_fresh_referrers() {
    // Every manifest has 1,000 new referrers, each a manifest of its own: an answer at once
    // every time, and a walk of 100,000 nodes. `--deadline 3` ends it, and stderr says why in
    // a few lines, not one per node.
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    let known: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    let (root, root_digest) = image_manifest();
    known.lock().unwrap().insert(root_digest.clone(), root);
    let k = known.clone();
    let host = stand_in(move |req, _| {
        let path = req.path();
        if path == "/v2/r/tags/list" {
            return resp(200, "application/json", br#"{"name":"r","tags":[]}"#.to_vec());
        }
        if let Some(d) = path.strip_prefix("/v2/r/manifests/") {
            return match k.lock().unwrap().get(d) {
                Some(b) => manifest_reply(b),
                None => not_found(),
            };
        }
        if let Some(subject) = path.strip_prefix("/v2/r/referrers/") {
            let mut entries = Vec::new();
            for i in 0..1_000 {
                let m = json!({
                    "schemaVersion": 2, "mediaType": MANIFEST, "artifactType": "application/x-attack",
                    "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest(b"{}"), "size": 2},
                    "layers": [], "subject": {"mediaType": MANIFEST, "digest": subject, "size": 1},
                    "annotations": {"n": i.to_string()},
                });
                let bytes = serde_json::to_vec(&m).unwrap();
                let d = digest(&bytes);
                entries.push(json!({"mediaType": MANIFEST, "digest": d, "size": bytes.len(), "artifactType": "application/x-attack"}));
                k.lock().unwrap().insert(d, bytes);
            }
            let body = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries});
            return resp(200, INDEX, serde_json::to_vec(&body).unwrap());
        }
        not_found()
    });
    let start = Instant::now();
    let run = sigscope(&["tree", &format!("{host}/r@{root_digest}"), "-o", "json", "--deadline", "3"]);
    run.ended();
    assert!(start.elapsed() < HANG);
    assert_eq!(run.code, Some(3), "{}", run.stderr.lines().take(5).collect::<Vec<_>>().join("\n"));
    assert!(run.stderr.contains("--deadline"), "{}", run.stderr.lines().take(5).collect::<Vec<_>>().join("\n"));
    assert!(run.stderr.lines().count() < 100, "{} lines of stderr", run.stderr.lines().count());
}

// ---- hostile text from the registry -------------------------------------------------------

fn assert_no_raw_controls(run: &Run) {
    for (name, text) in [("stdout", run.out()), ("stderr", run.stderr.clone())] {
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| {
                (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            })
            .collect();
        assert!(bad.is_empty(), "{name} carries raw {bad:?}: {text}");
    }
}

#[test]
fn a_token_with_control_characters_is_neither_sent_nor_shown() {
    let token = "tok\u{1b}[2J\r\nX-Injected: 1\u{202e}end";
    let host = bearer_registry(json!({"token": token}));
    let run = sigscope(&["tree", &format!("{host}/r"), "-o", "json"]);
    run.ended();
    assert_no_raw_controls(&run);
    assert!(!run.stderr.contains("X-Injected"), "the token is shown: {}", run.stderr);
    assert!(matches!(run.code, Some(c) if c != 0), "{}", run.stderr);
}

#[test]
fn error_bodies_with_terminal_and_bidi_controls_are_shown_escaped() {
    let host = stand_in(|req, _| match req.path() {
        "/v2/r/tags/list" => oci_error(500, "boom \u{1b}]52;c;aGk=\u{7} \u{9b}31m \u{202e}txt.exe \u{2066}x"),
        _ => not_found(),
    });
    for format in ["json", "tree"] {
        let run = sigscope(&["tree", &format!("{host}/r"), "-o", format]);
        run.ended();
        assert_eq!(run.code, Some(3), "{}", run.stderr);
        assert_no_raw_controls(&run);
        assert!(run.stderr.contains("boom"), "{}", run.stderr);
    }
}

#[test]
fn a_chain_of_eleven_redirects_ends() {
    let host = stand_in(|req, host| {
        let hop: usize = req.query().strip_prefix("hop=").and_then(|h| h.parse().ok()).unwrap_or(0);
        match req.path() {
            "/v2/r/tags/list" => {
                resp(307, "text/plain", "").with("Location", &format!("http://{host}/v2/r/tags/list?hop={}", hop + 1))
            }
            _ => not_found(),
        }
    });
    let run = sigscope(&["tree", &format!("{host}/r"), "-o", "json"]);
    run.ended();
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("too many redirects"), "{}", run.stderr);
}
