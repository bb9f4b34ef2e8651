//! ECR in the tree, against real parts: moto's server serves the ECR API (DescribeRepositories,
//! DescribeImages, GetAuthorizationToken, PutImage); moto has no registry endpoint, so a real
//! docker-registry with htpasswd user `AWS` and the password of moto's fixed token stands in
//! for it, reached through `SIGSCOPE_ECR_REGISTRY_ENDPOINT`. The credential the registry sees
//! is the one GetAuthorizationToken gave: a registry with another password refuses it.
//!
//! moto answers every DescribeRepositories / DescribeImages in one page whatever `maxResults`
//! says, and never refuses a call, so a small proxy in front of moto cuts its answers into
//! pages with a `nextToken` (as ECR does), records the requests, and for the fault tests
//! answers AccessDeniedException for one region or ThrottlingException as ECR would. Not
//! covered, because moto does not do it: the artifactMediaType / subjectManifestDigest /
//! scan-status fields (moto never sets them).

mod common;

use std::sync::OnceLock;

use bytes::Bytes;
use common::cmd::sigscope;
use common::servers::{MOTO_ACCOUNT, Server};
use common::test_options;
use sigscope::source::Source as _;
use sigscope::source::ecr::{EcrOptions, EcrSource, REGISTRY_ENDPOINT_ENV, parse_host};
use sigscope::source::registry::{RegistryClient, RegistryOptions};

const REGION: &str = "us-east-1";
const OTHER_REGION: &str = "eu-west-1";
const REPO: &str = "team/app";
/// In OTHER_REGION; in the stand-in registry under its own name, as the registries share it.
const OTHER_REPO: &str = "team/eu-app";
/// A region holding only empty repositories, enough for several pages.
const MANY_REGION: &str = "us-west-2";
const MANY: usize = 5;

fn host(region: &str) -> String {
    format!("{MOTO_ACCOUNT}.dkr.ecr.{region}.amazonaws.com")
}

struct World {
    /// Kept running for the whole binary.
    _moto: Server,
    registry: Server,
    fixture: common::Fixture,
    other: common::Fixture,
    /// Distinct manifests of REPO put into moto.
    manifests: usize,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// The environment every ECR run gets: the SDK pointed at moto, test credentials, no profile
/// files, no instance-metadata probe, the registry endpoint mapped to the stand-in.
fn aws_env(moto: &Server, registry: &Server) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL_ECR", format!("http://{}", moto.host)),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", REGION.into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONFIG_FILE", "/nonexistent/sigscope-test-aws-config".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/sigscope-test-aws-credentials".into()),
        (REGISTRY_ENDPOINT_ENV, format!("http://{}", registry.host)),
    ]
}

/// moto and the stand-in registry, shared by every test of this file (each test reads only),
/// with the supply chain of `common::seed` in REPO (REGION) and OTHER_REPO (OTHER_REGION):
/// pushed to the registry, and each manifest put into moto's ECR by its true digest (moto
/// would otherwise make one up).
static WORLD: OnceLock<World> = OnceLock::new();

/// A `static` is never dropped, so the servers of the world are stopped (and their directories
/// removed) when the test binary exits, here.
extern "C" fn stop_world() {
    if let Some(w) = WORLD.get() {
        for server in [&w._moto, &w.registry] {
            for pid in server.pids() {
                // SAFETY: a plain syscall on a process this binary started.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
            let _ = std::fs::remove_dir_all(server.dir.path());
        }
    }
}

fn world() -> &'static World {
    WORLD.get_or_init(|| {
        // SAFETY: registers a function with no preconditions, once.
        unsafe { libc::atexit(stop_world) };
        let moto = Server::moto();
        let registry = Server::moto_ecr_registry();
        for (k, v) in aws_env(&moto, &registry) {
            // SAFETY: set once, inside the OnceLock, before any test of this binary reads the
            // environment (each starts by waiting here).
            unsafe { std::env::set_var(k, v) };
        }
        let (fixture, other, manifests) = runtime().block_on(async {
            let opts = RegistryOptions {
                credentials: Some(("AWS".into(), common::servers::MOTO_ECR_PASSWORD.into())),
                ..test_options()
            };
            let client = RegistryClient::new(&registry.host, opts.clone()).unwrap();
            let fixture = common::seed(&client, REPO).await;
            let other = common::seed(&client, OTHER_REPO).await;
            let source = sigscope::source::registry::RegistrySource::new(&registry.host, opts).unwrap();
            let manifests = put_into_moto(REGION, &source, &fixture).await;
            put_into_moto(OTHER_REGION, &source, &other).await;
            let api = ecr_api(MANY_REGION).await;
            for n in 0..MANY {
                api.create_repository().repository_name(format!("many/r{n}")).send().await.expect("CreateRepository");
            }
            (fixture, other, manifests)
        });
        World { _moto: moto, registry, fixture, other, manifests }
    })
}

/// The ECR API as the product reaches it (the environment points it at moto).
async fn ecr_api(region: &str) -> aws_sdk_ecr::Client {
    let settings = sigscope::aws::AwsSettings {
        profile: None,
        connect_timeout: std::time::Duration::from_secs(5),
        attempt_timeout: std::time::Duration::from_secs(20),
        ..Default::default()
    };
    sigscope::aws::ecr_client(&settings, region).await
}

/// CreateRepository, then PutImage of every manifest the registry holds for the fixture: each
/// tag (the images, the index, the `sha256-<hex>` tag-schema indexes, cosign's tag) with its
/// manifest, then the untagged referrers, byte for byte as the registry holds them — one
/// store behind both APIs, as in ECR. Returns how many distinct manifests were put.
async fn put_into_moto(
    region: &str,
    registry: &sigscope::source::registry::RegistrySource,
    f: &common::Fixture,
) -> usize {
    let api = ecr_api(region).await;
    api.create_repository().repository_name(&f.repository).send().await.expect("CreateRepository");
    let mut put: Vec<(String, Option<String>)> = Vec::new();
    for tag in registry.tags(&f.repository).await.expect("the registry's tags").iter() {
        let m = registry.manifest(&f.repository, tag).await.expect("manifest by tag");
        put.push((m.descriptor.digest.clone(), Some(tag.clone())));
    }
    for d in [&f.signature, &f.sbom, &f.sbom_signature] {
        put.push((d.digest.clone(), None));
    }
    let mut distinct = std::collections::BTreeSet::new();
    for (digest, tag) in put {
        let m = registry.manifest(&f.repository, &digest).await.expect("manifest from the registry");
        let body: Bytes = m.raw.clone();
        api.put_image()
            .repository_name(&f.repository)
            .image_manifest(String::from_utf8(body.to_vec()).unwrap())
            .image_manifest_media_type(&m.descriptor.media_type)
            .image_digest(&digest)
            .set_image_tag(tag)
            .send()
            .await
            .expect("PutImage");
        distinct.insert(digest);
    }
    distinct.len()
}

fn ecr_source(region: &str, opts: EcrOptions) -> EcrSource {
    let h = parse_host(&host(region)).unwrap();
    EcrSource::for_host(&h, test_options(), opts).unwrap()
}

#[test]
fn repositories_and_images_come_from_the_ecr_api() {
    let w = world();
    runtime().block_on(async {
        let ecr = ecr_source(REGION, EcrOptions::default());
        let repos = ecr.describe_repositories().await.unwrap();
        let names: Vec<&str> = repos.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, [REPO], "only this region's repositories");
        assert_eq!(repos[0].uri.as_deref(), Some(format!("{}/{REPO}", host(REGION)).as_str()));
        assert_eq!(ecr.repositories().await.unwrap(), [REPO]);

        let images = ecr.images(REPO).await.unwrap();
        assert_eq!(images.len(), w.manifests, "{images:#?}");
        let image = images.iter().find(|i| i.digest == w.fixture.image.digest).expect("the image");
        assert_eq!(image.tags, ["v1"]);
        assert!(image.pushed_at.as_deref().is_some_and(|t| t.starts_with("20")), "{image:?}");
        assert!(image.size.is_some(), "{image:?}");
        assert_eq!(image.manifest_media_type.as_deref(), Some(sigscope::oci::media::OCI_MANIFEST));
        let signature = images.iter().find(|i| i.digest == w.fixture.signature.digest).expect("the signature");
        assert!(signature.tags.is_empty());

        let tags = ecr.tags(REPO).await.unwrap();
        let tags: Vec<&str> = tags.iter().map(String::as_str).filter(|t| !t.starts_with("sha256-")).collect();
        assert_eq!(tags, ["amd64", "arm64", "multi", "v1"]);
        assert!(ecr.tags("no/such-repo").await.is_err());
    });
}

#[test]
fn the_graph_under_an_ecr_image_is_read_with_the_token() {
    let w = world();
    runtime().block_on(async {
        let ecr = ecr_source(REGION, EcrOptions::default());
        let m = ecr.manifest(REPO, "v1").await.unwrap();
        assert_eq!(m.descriptor.digest, w.fixture.image.digest);
        assert_eq!(ecr.tokens_fetched(), 1);
        let found =
            sigscope::source::referrers::find_referrers(&ecr, REPO, &w.fixture.image.digest, None).await.unwrap();
        let digests: Vec<&str> = found.iter().map(|r| r.descriptor.digest.as_str()).collect();
        assert!(digests.contains(&w.fixture.signature.digest.as_str()), "{digests:?}");
        assert!(digests.contains(&w.fixture.sbom.digest.as_str()), "{digests:?}");
        // One token serves every request while it is fresh.
        assert_eq!(ecr.tokens_fetched(), 1);
    });
    let run = sigscope(&["tree", &format!("{}/{REPO}:v1", host(REGION)), "-o", "json"]).run();
    run.ended();
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let out = run.utf8_out();
    for d in
        [&w.fixture.image.digest, &w.fixture.signature.digest, &w.fixture.sbom.digest, &w.fixture.sbom_signature.digest]
    {
        assert!(out.contains(d.as_str()), "{d} missing from {out}");
    }
    assert!(out.contains(&format!("{}/{REPO}@{}", host(REGION), w.fixture.image.digest)), "{out}");
    assert!(!out.contains(&w.registry.host), "references name ECR, not the stand-in address: {out}");
    // DescribeImages' record rides along, in ECR's field names, for the image and its referrers.
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ecr = &v["ecr"];
    assert!(ecr["imagePushedAt"].as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()), "{ecr}");
    assert!(ecr["imageSizeInBytes"].as_i64().is_some_and(|n| n > 0), "{ecr}");
    assert_eq!(ecr["imageManifestMediaType"], "application/vnd.oci.image.manifest.v1+json", "{ecr}");
    let referrers = v["manifests"].as_array().unwrap();
    assert!(!referrers.is_empty() && referrers.iter().all(|r| r["ecr"]["imagePushedAt"].is_string()), "{v}");
    let run = sigscope(&["tree", &format!("{}/{REPO}:v1", host(REGION))]).run();
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let out = run.utf8_out();
    let image = out.lines().find(|l| l.contains("[image]")).unwrap_or_default();
    assert!(image.contains("  ecr: pushed "), "the image's row says what ECR recorded: {out}");
}

#[test]
fn tree_ecr_lists_the_account_and_several_regions_side_by_side() {
    let w = world();
    let run = sigscope(&["tree", "--ecr", "--region", REGION]).run();
    run.ended();
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let out = run.utf8_out();
    assert!(out.contains(REPO) && out.contains("v1") && out.contains("multi"), "{out}");
    assert!(out.contains(&w.fixture.signature.digest[..19]), "referrers below the image: {out}");
    assert!(!out.contains(OTHER_REPO), "{out}");

    let run = sigscope(&["tree", "--ecr", "--region", REGION, "--region", OTHER_REGION, "-o", "json"]).run();
    run.ended();
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let out = run.utf8_out();
    assert!(out.contains(&format!("{}/{REPO}", host(REGION))), "{out}");
    assert!(out.contains(&format!("{}/{OTHER_REPO}", host(OTHER_REGION))), "{out}");
    assert!(out.contains(&w.other.image.digest), "{out}");

    // A region that cannot be listed fails its own entry; the others are listed.
    let run = sigscope(&["tree", "--ecr", "--region", REGION, "--region", "xx-nowhere-9"]).run();
    run.ended();
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    let out = run.utf8_out();
    assert!(out.contains(&format!("{}/{REPO}", host(REGION))) && out.contains("v1"), "{out}");
    assert!(out.contains("ECR xx-nowhere-9  ✗ failed"), "{out}");
    assert!(run.stderr.contains("ECR DescribeRepositories in xx-nowhere-9"), "{}", run.stderr);

    let run = sigscope(&["tree", "--ecr", "--region", REGION, "some.host/repo"]).run();
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--ecr") && run.stderr.contains("cannot be used with"), "{}", run.stderr);
}

#[test]
fn a_token_the_registry_refuses_fails_with_a_sentence() {
    let w = world();
    let wrong = Server::docker_registry_htpasswd("AWS", "not-the-token-password");
    let run = sigscope(&["tree", &format!("{}/{REPO}:v1", host(REGION))])
        .env(REGISTRY_ENDPOINT_ENV, format!("http://{}", wrong.host))
        .run();
    run.ended();
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("refused the GetAuthorizationToken credential"), "{}", run.stderr);
    assert!(run.stderr.contains(&host(REGION)), "{}", run.stderr);
    assert!(!run.stderr.contains(common::servers::MOTO_ECR_PASSWORD), "no secret in messages: {}", run.stderr);
    assert!(!run.stderr.contains(&w.registry.host), "{}", run.stderr);
}

#[test]
fn no_aws_credentials_say_how_to_configure_them() {
    let _ = world();
    let run = sigscope(&["tree", "--ecr", "--region", REGION])
        .env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .run();
    run.ended();
    assert!(run.failed(), "{}", run.stderr);
    assert!(run.stderr.contains("no AWS credentials"), "{}", run.stderr);
    assert!(run.stderr.contains("AWS_ACCESS_KEY_ID") && run.stderr.contains("--profile"), "{}", run.stderr);
}

#[test]
fn an_expired_token_is_replaced_and_a_fresh_one_reused() {
    let w = world();
    runtime().block_on(async {
        // moto's token says it expired in 2015: without the floor it would be fetched again
        // for every request; with it, one token serves a run of requests.
        let ecr = ecr_source(REGION, EcrOptions::default());
        ecr.manifest(REPO, "v1").await.unwrap();
        ecr.manifest(REPO, "multi").await.unwrap();
        assert_eq!(ecr.tokens_fetched(), 1);

        // With no floor, every request finds the token expired: each gets a new one (a new
        // registry client) and still succeeds.
        let eager =
            ecr_source(REGION, EcrOptions { min_token_reuse: Some(std::time::Duration::ZERO), ..Default::default() });
        eager.manifest(REPO, "v1").await.unwrap();
        let m = eager.manifest(REPO, &w.fixture.index.digest).await.unwrap();
        assert_eq!(m.descriptor.digest, w.fixture.index.digest);
        assert_eq!(eager.tokens_fetched(), 2);
    });
}

#[test]
fn pages_of_one_still_list_everything() {
    let w = world();
    runtime().block_on(async {
        let ecr = ecr_source(REGION, EcrOptions { page_size: Some(1), ..Default::default() });
        assert_eq!(ecr.repositories().await.unwrap(), [REPO]);
        assert_eq!(ecr.images(REPO).await.unwrap().len(), w.manifests);
    });
}

/// A proxy in front of moto that serves DescribeRepositories and DescribeImages in pages of
/// `maxResults` (else 2), with an offset as `nextToken`, and records each such request as
/// `(operation, nextToken asked for)`. Everything else passes unchanged.
struct PagingProxy {
    addr: std::net::SocketAddr,
    log: RequestLog,
}

/// `(operation, nextToken asked for)` of each listing request, in order.
type RequestLog = std::sync::Arc<std::sync::Mutex<Vec<(String, Option<String>)>>>;

fn read_message(s: &mut std::net::TcpStream) -> (String, Vec<u8>) {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    (head, body)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// What the proxy refuses, as ECR would, instead of asking moto.
#[derive(Clone)]
enum Fault {
    None,
    /// Every call signed for this region: AccessDeniedException.
    Deny(&'static str),
    /// Every call: ThrottlingException.
    Throttle,
}

impl PagingProxy {
    fn start(moto: std::net::SocketAddr, fault: Fault) -> PagingProxy {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log: RequestLog = Default::default();
        let shared = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut client) = conn else { return };
                let log = shared.clone();
                let fault = fault.clone();
                std::thread::spawn(move || {
                    let (head, body) = read_message(&mut client);
                    let target = header(&head, "x-amz-target").unwrap_or("").to_string();
                    let op = target.rsplit('.').next().unwrap_or("").to_string();
                    // The region the request is signed for: `Credential=KEY/DATE/REGION/ecr/aws4_request`.
                    let region = header(&head, "authorization")
                        .and_then(|a| a.split("Credential=").nth(1))
                        .and_then(|c| c.split('/').nth(2))
                        .unwrap_or("")
                        .to_string();
                    let refusal = match fault {
                        Fault::Deny(r) if r == region => Some((
                            "AccessDeniedException",
                            format!(
                                "User: arn:aws:iam::{MOTO_ACCOUNT}:user/test is not authorized to perform: ecr:{op}"
                            ),
                        )),
                        Fault::Throttle => Some(("ThrottlingException", "Rate exceeded".to_string())),
                        _ => None,
                    };
                    if let Some((code, message)) = refusal {
                        log.lock().unwrap().push((format!("refused {op}"), None));
                        let body = serde_json::json!({"__type": code, "message": message}).to_string();
                        let _ = client.write_all(
                            format!(
                                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\n\
                                 x-amzn-ErrorType: {code}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                body.len()
                            )
                            .as_bytes(),
                        );
                        return;
                    }
                    let mut upstream = std::net::TcpStream::connect(moto).unwrap();
                    // One exchange per connection: the answer is read whole before it is cut.
                    let head_out: String = head
                        .split("\r\n")
                        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                        .map(|l| format!("{l}\r\n"))
                        .collect::<String>()
                        .trim_end()
                        .to_string();
                    upstream.write_all(format!("{head_out}\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
                    upstream.write_all(&body).unwrap();
                    let (rhead, rbody) = read_message(&mut upstream);
                    let list = match op.as_str() {
                        "DescribeRepositories" => Some("repositories"),
                        "DescribeImages" => Some("imageDetails"),
                        _ => None,
                    };
                    let status_ok = rhead.starts_with("HTTP/1.1 200") || rhead.starts_with("HTTP/1.0 200");
                    let rbody = match list.filter(|_| status_ok) {
                        Some(field) => {
                            let req: serde_json::Value = serde_json::from_slice(&body).unwrap();
                            let token = req.get("nextToken").and_then(|t| t.as_str()).map(str::to_string);
                            log.lock().unwrap().push((op.clone(), token.clone()));
                            let size = req.get("maxResults").and_then(|m| m.as_u64()).unwrap_or(2) as usize;
                            let from: usize = token.as_deref().map_or(0, |t| t.parse().unwrap());
                            let mut answer: serde_json::Value = serde_json::from_slice(&rbody).unwrap();
                            let all = answer[field].as_array().cloned().unwrap_or_default();
                            let page: Vec<_> = all.iter().skip(from).take(size).cloned().collect();
                            answer[field] = serde_json::Value::Array(page);
                            answer.as_object_mut().unwrap().remove("nextToken");
                            if from + size < all.len() {
                                answer["nextToken"] = serde_json::Value::String((from + size).to_string());
                            }
                            serde_json::to_vec(&answer).unwrap()
                        }
                        None => rbody,
                    };
                    let rhead: String = rhead
                        .split("\r\n")
                        .filter(|l| {
                            let l = l.to_ascii_lowercase();
                            !l.starts_with("content-length:") && !l.starts_with("connection:") && !l.is_empty()
                        })
                        .map(|l| format!("{l}\r\n"))
                        .collect();
                    let _ = client.write_all(
                        format!("{rhead}Content-Length: {}\r\nConnection: close\r\n\r\n", rbody.len()).as_bytes(),
                    );
                    let _ = client.write_all(&rbody);
                });
            }
        });
        PagingProxy { addr, log }
    }

    fn requests(&self, op: &str) -> Vec<Option<String>> {
        self.log.lock().unwrap().iter().filter(|(o, _)| o == op).map(|(_, t)| t.clone()).collect()
    }
}

#[test]
fn every_page_is_followed() {
    let w = world();
    let proxy = PagingProxy::start(w._moto.addr, Fault::None);
    let endpoint = format!("http://{}", proxy.addr);

    let run = sigscope(&["tree", "--ecr", "--region", MANY_REGION, "-o", "json"])
        .env("AWS_ENDPOINT_URL_ECR", &endpoint)
        .run();
    run.ended();
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let out = run.utf8_out();
    for n in 0..MANY {
        assert!(out.contains(&format!("many/r{n}\"")), "many/r{n} missing: {out}");
    }
    let tokens = |n: usize| -> Vec<Option<String>> {
        std::iter::once(None).chain((1..n).map(|p| Some((p * 2).to_string()))).collect()
    };
    assert_eq!(proxy.requests("DescribeRepositories"), tokens(MANY.div_ceil(2)));
    // Each (empty) repository's images listed once, in one page.
    assert_eq!(proxy.requests("DescribeImages"), vec![None; MANY]);
    proxy.log.lock().unwrap().clear();

    let run = sigscope(&["tree", &format!("{}/{REPO}", host(REGION)), "-o", "json"])
        .env("AWS_ENDPOINT_URL_ECR", &endpoint)
        .run();
    run.ended();
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let out = run.utf8_out();
    for tag in ["v1", "multi", "amd64", "arm64"] {
        assert!(out.contains(&format!("\"{tag}\"")), "{tag} missing: {out}");
    }
    assert!(out.contains(&w.fixture.signature.digest), "{out}");
    assert_eq!(proxy.requests("DescribeImages"), tokens(w.manifests.div_ceil(2)));
}

#[test]
fn access_denied_in_one_region_fails_that_region_only() {
    let w = world();
    let proxy = PagingProxy::start(w._moto.addr, Fault::Deny(OTHER_REGION));
    let run = sigscope(&["tree", "--ecr", "--region", REGION, "--region", OTHER_REGION])
        .env("AWS_ENDPOINT_URL_ECR", format!("http://{}", proxy.addr))
        .run();
    run.ended();
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    let out = run.utf8_out();
    assert!(out.contains(&format!("{}/{REPO}", host(REGION))) && out.contains("v1"), "{out}");
    assert!(!out.contains(OTHER_REPO), "{out}");
    assert!(out.contains(&format!("ECR {OTHER_REGION}  ✗ failed: access denied")), "{out}");
    assert!(run.stderr.contains("the IAM identity needs ecr:DescribeRepositories"), "{}", run.stderr);
    assert!(!proxy.requests("refused DescribeRepositories").is_empty());
}

#[test]
fn throttling_is_retried_then_reported() {
    let w = world();
    let proxy = PagingProxy::start(w._moto.addr, Fault::Throttle);
    let run = sigscope(&["tree", "--ecr", "--region", REGION])
        .env("AWS_ENDPOINT_URL_ECR", format!("http://{}", proxy.addr))
        .run();
    run.ended();
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("rate limited by ECR DescribeRepositories in us-east-1"), "{}", run.stderr);
    // The SDK's standard retry: three attempts, then the error.
    assert_eq!(proxy.requests("refused DescribeRepositories").len(), 3);
}

#[test]
fn scan_findings_are_summarised_when_there_are_some() {
    let w = world();
    runtime().block_on(async {
        let ecr = ecr_source(OTHER_REGION, EcrOptions::default());
        let repo = &w.other.repository;
        let digest = &w.other.image.digest;
        assert_eq!(ecr.scan_findings(repo, digest).await.unwrap(), None, "never scanned");
        let image = aws_sdk_ecr::types::ImageIdentifier::builder().image_digest(digest).build();
        ecr_api(OTHER_REGION).await.start_image_scan().repository_name(repo).image_id(image).send().await.unwrap();
        let scan = ecr.scan_findings(repo, digest).await.unwrap().expect("a scan after StartImageScan");
        assert!(scan.status.as_deref().is_some_and(|s| s.starts_with("COMPLETE")), "{scan:?}");
        // moto's canned finding.
        assert_eq!(scan.severity_counts, [("HIGH".to_string(), 1)], "{scan:?}");
        assert_eq!(scan.findings.len(), 1, "{scan:?}");
        assert_eq!(scan.findings[0].name.as_deref(), Some("CVE-9999-9999"));
        assert_eq!(scan.findings[0].severity.as_deref(), Some("HIGH"));
        assert!(!scan.truncated);
        assert!(ecr.scan_findings(repo, "sha256:not-a-digest").await.is_err());
    });
}

#[test]
fn a_refused_token_is_replaced_once_then_the_refusal_reported() {
    let _ = world();
    let wrong = Server::docker_registry_htpasswd("AWS", "not-the-token-password");
    runtime().block_on(async {
        let opts = EcrOptions { registry_endpoint: Some(format!("http://{}", wrong.host)), ..Default::default() };
        let ecr = ecr_source(REGION, opts);
        let e = ecr.manifest(REPO, "v1").await.unwrap_err();
        assert!(e.to_string().contains("refused the GetAuthorizationToken credential"), "{e}");
        // The refused token was dropped and one new one tried: no more.
        assert_eq!(ecr.tokens_fetched(), 2);
    });
}

#[test]
fn a_signature_is_stored_through_the_ecr_registry() {
    let w = world();
    runtime().block_on(async {
        let ecr = ecr_source(OTHER_REGION, EcrOptions::default());
        let subject = ecr.manifest(OTHER_REPO, "v1").await.unwrap().descriptor.clone();
        let signed_at =
            chrono::DateTime::parse_from_rfc3339("2026-02-03T04:05:06Z").unwrap().with_timezone(&chrono::Utc);
        let chain = vec![b"leaf certificate (DER)".to_vec(), b"root certificate (DER)".to_vec()];
        let referrer = sigscope::sign::manifest::signature_manifest(
            &subject,
            Bytes::from_static(b"{\"envelope\":\"stored through ECR\"}"),
            sigscope::oci::media::JWS,
            &chain,
            signed_at,
        )
        .unwrap();
        let stored = ecr.push_referrer(OTHER_REPO, &referrer).await.unwrap();
        // docker-registry has no referrers API: the tag-schema index lists it.
        assert_eq!(stored.listed_by, sigscope::source::ListedBy::TagSchema);
        assert_eq!(stored.reference, format!("{}/{OTHER_REPO}@{}", host(OTHER_REGION), stored.descriptor.digest));
        let back = ecr.manifest(OTHER_REPO, &stored.descriptor.digest).await.unwrap();
        assert_eq!(back.manifest.subject.as_ref().map(|s| s.digest.as_str()), Some(w.other.image.digest.as_str()));
        assert_eq!(ecr.tokens_fetched(), 1);
    });
}

#[test]
fn a_profile_gives_the_region_and_the_credentials() {
    let _ = world();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[profile ecr-test]\nregion = {OTHER_REGION}\naws_access_key_id = test\naws_secret_access_key = test\n"
        ),
    )
    .unwrap();
    let run = sigscope(&["tree", "--ecr", "--profile", "ecr-test"])
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .env("AWS_REGION", "")
        .run();
    run.ended();
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let out = run.utf8_out();
    assert!(out.contains(OTHER_REPO) && !out.contains(REPO), "the profile's region: {out}");

    let run = sigscope(&["tree", "--ecr", "--profile", "no-such-profile"])
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .env("AWS_REGION", "")
        .run();
    run.ended();
    assert!(run.failed(), "{}", run.stderr);
    assert!(run.stderr.contains("no AWS region") || run.stderr.contains("no AWS credentials"), "{}", run.stderr);
}

#[test]
fn the_token_serves_another_accounts_registry_too() {
    let w = world();
    runtime().block_on(async {
        // moto's token names the caller's registry (123456789012); ECR's token opens every
        // registry the identity may read, so it goes to the one asked for.
        let other = parse_host(&format!("210987654321.dkr.ecr.{REGION}.amazonaws.com")).unwrap();
        let ecr = EcrSource::for_host(&other, test_options(), EcrOptions::default()).unwrap();
        let m = ecr.manifest(REPO, "v1").await.unwrap();
        assert_eq!(m.descriptor.digest, w.fixture.image.digest);
        assert_eq!(
            ecr.registry_host().as_deref(),
            Some(format!("210987654321.dkr.ecr.{REGION}.amazonaws.com").as_str())
        );
    });
}

#[test]
fn the_details_of_an_ecr_image_carry_its_record_and_scan_findings() {
    let w = world();
    let section = |details: &sigscope::inspect::Details| details.sections.iter().find(|s| s.title == "ECR").cloned();
    let value = |s: &sigscope::inspect::Section, name: &str| {
        s.fields.iter().find(|f| f.name == name).map(|f| f.value.clone()).unwrap_or_default()
    };
    let node = sigscope::graph::ArtifactNode::new(
        REPO,
        w.fixture.image.clone(),
        sigscope::graph::ArtifactKind::Image,
        sigscope::graph::Role::Root,
    );
    runtime().block_on(async {
        let ecr = ecr_source(REGION, EcrOptions::default());
        let details = sigscope::describe::describe(&ecr, &node, 4096).await;
        let s = section(&details).expect("an ECR section");
        assert!(value(&s, "pushed at").starts_with("20"), "{s:?}");
        assert_eq!(value(&s, "manifest"), sigscope::oci::media::OCI_MANIFEST, "{s:?}");
        assert!(value(&s, "scan").contains("never scanned"), "{s:?}");

        let image = aws_sdk_ecr::types::ImageIdentifier::builder().image_digest(&w.fixture.image.digest).build();
        ecr_api(REGION).await.start_image_scan().repository_name(REPO).image_id(image).send().await.unwrap();
        let ecr = ecr_source(REGION, EcrOptions::default());
        let details = sigscope::describe::describe(&ecr, &node, 4096).await;
        let s = section(&details).expect("an ECR section");
        assert_eq!(value(&s, "findings"), "HIGH 1", "moto's canned finding: {s:?}");
        let table = s.table.as_ref().expect("the findings listed");
        assert_eq!(table.rows[0][..2], ["HIGH".to_string(), "CVE-9999-9999".to_string()]);

        // The same image read from the registry itself has no ECR section.
        let plain = sigscope::source::registry::RegistrySource::new(&w.registry.host, test_options()).unwrap();
        let details = sigscope::describe::describe(&plain, &node, 4096).await;
        assert!(section(&details).is_none(), "{:?}", details.sections);
    });
}

/// The TUI's rows carry what DescribeImages recorded (pushed at), once the repository's images
/// were listed, beside the OCI facts.
#[test]
fn tui_rows_of_an_ecr_repository_say_what_ecr_recorded() {
    use common::tui::{Harness, options, screen_text};
    let w = world();
    let opened = sigscope::open::Opened {
        target: format!("{}/{REPO}", host(REGION)),
        source: std::sync::Arc::new(ecr_source(REGION, EcrOptions::default())),
        roots: vec![sigscope::graph::NodeKind::Repository { name: REPO.into() }],
    };
    let mut h = Harness::with(opened, options(None));
    h.run_effects();
    let root = h.app.tree.graph.roots[0];
    let tag = (0..h.app.tree.graph.node(root).children.len())
        .map(|i| h.child(root, i))
        .find(|&c| matches!(&h.app.tree.graph.node(c).kind, sigscope::graph::NodeKind::Tag { tag, .. } if tag == "v1"))
        .expect("tag v1");
    h.select(tag);
    h.key(crossterm::event::KeyCode::Char('l'));
    h.run_effects();
    let screen = screen_text(&h.render(160, 30));
    let short = &w.fixture.image.digest[7..19];
    let row = screen.lines().find(|l| l.contains(short) && l.contains("image")).unwrap_or_default();
    assert!(row.contains("ECR pushed 20"), "the image row: {row}\n{screen}");
}
