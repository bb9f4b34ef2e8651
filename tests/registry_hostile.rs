//! Bad answers from a registry give the right typed error, promptly, without disturbing other
//! requests. The server is the hostile stand-in of `tests/support/hostile.rs`.

mod support;

use std::sync::Arc;
use std::time::Duration;

use sigscope::Error;
use sigscope::oci::{MAX_MANIFEST_BYTES, media};
use sigscope::source::Source;
use sigscope::source::referrers::{ExpandRequest, ExploreOptions, expand};
use sigscope::source::registry::RegistryOptions;
use support::{Hostile, guard, source, test_options};

fn opts() -> RegistryOptions {
    RegistryOptions { read_timeout: Duration::from_secs(1), max_retry_wait: Duration::from_secs(2), ..test_options() }
}

#[tokio::test]
async fn status_codes_become_typed_errors() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let e = guard(s.manifest("denied", "v1")).await.unwrap_err();
    assert!(matches!(&e, Error::Denied { detail, .. } if detail.contains("DENIED")), "{e:?}");
    let e = guard(s.manifest("missing", "v1")).await.unwrap_err();
    assert!(matches!(&e, Error::NotFound { what } if what.contains("MANIFEST_UNKNOWN")), "{e:?}");
    let e = guard(s.manifest("broken", "v1")).await.unwrap_err();
    assert!(
        matches!(&e, Error::Server { status: 500, detail, .. } if detail.contains("internal server error")),
        "{e:?}"
    );
    let e = guard(s.manifest("badjson", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::Malformed { .. }), "{e:?}");
    let e = guard(s.tags("badjson")).await.unwrap_err();
    assert!(matches!(e, Error::Malformed { .. }), "{e:?}");
    // Anonymous: the Basic challenge cannot be answered.
    let e = guard(s.manifest("auth", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    // The good repository is unaffected by all of the above.
    let m = guard(s.manifest("good", "v1")).await.unwrap();
    assert_eq!(m.descriptor.digest, h.image.digest);
}

#[tokio::test]
async fn auth_errors_never_show_the_password() {
    let h = Hostile::start();
    let password = "hunter2-very-secret";
    let s = source(&h.host, RegistryOptions { credentials: Some(("alice".into(), password.into())), ..opts() });
    let e = guard(s.manifest("auth", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    // The server echoed "alice:hunter2-very-secret" in its error body; it must be scrubbed.
    assert_eq!(h.hits("/v2/auth/manifests/v1"), 2, "one anonymous try, one with credentials");
    let shown = format!("{e} {e:?} {}", serde_json::to_string(&e).unwrap());
    assert!(!shown.contains(password), "{shown}");
    assert!(shown.contains("alice"), "the echo is still there, scrubbed: {shown}");
}

#[tokio::test]
async fn rate_limits_retry_then_give_up() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let m = guard(s.manifest("flaky", "v1")).await.unwrap();
    assert_eq!(m.descriptor.digest, h.image.digest);
    assert_eq!(h.hits("/v2/flaky/manifests/v1"), 3, "two 429s, then success");

    let s = source(&h.host, RegistryOptions { max_retries: 2, ..opts() });
    let e = guard(s.manifest("limited", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::RateLimited { attempts: 3, .. }), "{e:?}");
    assert_eq!(h.hits("/v2/limited/manifests/v1"), 3, "first try + 2 retries");
}

#[tokio::test]
async fn oversized_manifests_are_refused_while_streaming() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let e = guard(s.manifest("huge", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::TooLarge { size, limit: MAX_MANIFEST_BYTES, .. } if size == 1 << 30), "{e:?}");
    // No Content-Length and an endless body: refused once past the limit, not read to the end.
    let e = guard(s.manifest("chunked", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::TooLarge { size, limit: MAX_MANIFEST_BYTES, .. } if size > MAX_MANIFEST_BYTES), "{e:?}");
    assert!(guard(s.manifest("good", "v1")).await.is_ok());
}

#[tokio::test]
async fn blobs_are_limited_and_verified() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let b = guard(s.blob("good", &h.config, 1024)).await.unwrap();
    assert_eq!(b.len() as u64, h.config.size);
    let e = guard(s.blob("good", &h.config, 10)).await.unwrap_err();
    assert!(matches!(e, Error::TooLarge { limit: 10, .. }), "{e:?}");
    // The descriptor understates the size: the streamed read is capped all the same.
    let mut small = h.config.clone();
    small.size = 5;
    let s2 = source(&h.host, opts());
    let e = guard(s2.blob("good", &small, 10)).await.unwrap_err();
    assert!(matches!(e, Error::TooLarge { limit: 10, .. }), "{e:?}");
    let e = guard(s.blob("liar", &h.config, 1024)).await.unwrap_err();
    assert!(matches!(e, Error::Integrity { .. }), "{e:?}");
}

#[tokio::test]
async fn content_not_matching_its_digest_is_an_integrity_error() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let e = guard(s.manifest("liar", &h.image.digest)).await.unwrap_err();
    assert!(matches!(&e, Error::Integrity { expected, .. } if *expected == h.image.digest), "{e:?}");
    // By tag, the Docker-Content-Digest header is what the bytes are checked against.
    let e = guard(s.manifest("liar", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::Integrity { .. }), "{e:?}");
}

#[tokio::test]
async fn a_stalled_server_times_out() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let (stalled, good) = guard(async { tokio::join!(s.manifest("stall", "v1"), s.manifest("good", "v1")) }).await;
    assert!(matches!(stalled, Err(Error::Timeout { .. })), "{stalled:?}");
    assert!(good.is_ok(), "other requests are unaffected: {good:?}");
}

#[tokio::test]
async fn referrers_pagination_and_client_side_filter() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let all = guard(s.referrers_api("good", &h.image.digest, None)).await.unwrap().unwrap();
    assert_eq!(all, vec![h.referrers.0.clone(), h.referrers.1.clone()], "both pages, in order");
    // The server does not say OCI-Filters-Applied, so the filter is applied here, on every page.
    let sboms = guard(s.referrers_api("good", &h.image.digest, Some(media::SPDX_JSON))).await.unwrap().unwrap();
    assert_eq!(sboms, vec![h.referrers.1.clone()]);
    // Tags: Link-paginated, sorted client-side.
    assert_eq!(*guard(s.tags("good")).await.unwrap(), vec!["a", "b", "v1"]);
}

#[tokio::test]
async fn a_referrers_endpoint_answering_with_the_image_means_no_api() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let r = guard(s.referrers_api("selfref", &h.image.digest, None)).await.unwrap();
    assert_eq!(r, None);
    assert!(s.notes().iter().any(|n| n.contains("not a referrers index")), "{:?}", s.notes());
}

#[tokio::test]
async fn each_digest_is_fetched_once_under_concurrency() {
    let h = Hostile::start();
    let s = Arc::new(source(&h.host, opts()));
    let root = sigscope::graph::NodeKind::Artifact(sigscope::graph::ArtifactNode {
        repository: "slow".into(),
        descriptor: sigscope::oci::Descriptor { digest: h.image.digest.clone(), ..Default::default() },
        kind: sigscope::graph::ArtifactKind::Image,
        role: sigscope::graph::Role::Root,
        manifest: None,
    });
    let req = ExpandRequest { kind: root, expected_subject: None };
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (s, req) = (s.clone(), req.clone());
        tasks.push(tokio::spawn(async move { expand(s.as_ref(), &req, &ExploreOptions::default()).await }));
    }
    for t in tasks {
        let e = guard(t).await.unwrap().unwrap();
        assert_eq!(e.manifest.unwrap().descriptor.digest, h.image.digest);
    }
    // And by tag, which also lands in the digest cache.
    let by_tag = guard(s.manifest("slow", "v1")).await.unwrap();
    assert_eq!(by_tag.descriptor.digest, h.image.digest);
    guard(s.manifest("slow", &h.image.digest)).await.unwrap();
    assert_eq!(h.hits(&format!("/v2/slow/manifests/{}", h.image.digest)), 1);
    assert_eq!(h.hits(&format!("/v2/slow/referrers/{}", h.image.digest)), 2, "two pages, once");
    assert_eq!(h.hits("/v2/slow/tags/list"), 2, "two pages, once");
    let stats = s.stats();
    assert_eq!(stats.manifests_fetched, 2, "one by digest, one by tag: {stats:?}");
    // Seven callers shared each of the manifest, referrers and tags fetches, plus the last lookup.
    let shared: u64 = 3 * 7 + 1;
    assert!(stats.cache_hits >= shared, "{stats:?}");
}

#[tokio::test]
async fn requests_in_flight_are_capped_per_registry() {
    let h = Hostile::start();
    let s = Arc::new(source(&h.host, RegistryOptions { concurrency: 2, ..opts() }));
    let mut tasks = Vec::new();
    for i in 0..6 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move { s.manifest("slow", &format!("t{i}")).await }));
    }
    for t in tasks {
        let r = guard(t).await.unwrap();
        assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    }
    assert_eq!(h.max_in_flight(), 2, "six requests, two at a time");
}

/// `sigscope verify` (the real binary) against every misbehaviour: never "verified", never a
/// hang, and registry trouble is exit 3 (or 1 when the image itself was read but nothing
/// verifiable was found).
#[test]
fn verify_never_succeeds_against_a_hostile_registry() {
    let h = Hostile::start();
    let dir = tempfile::tempdir().unwrap();
    sigscope::demo::export(&dir.path().join("d")).unwrap();
    let notation = dir.path().join("d/notation");
    for repo in
        ["good", "denied", "missing", "broken", "badjson", "limited", "huge", "chunked", "liar", "selfref", "stall"]
    {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sigscope"))
            .args(["verify", &format!("{}/{repo}:v1", h.host), "--timeout", "2", "--notation-dir"])
            .arg(&notation)
            .env("DOCKER_CONFIG", "/nonexistent/sigscope-test-docker-config")
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let code = out.status.code().unwrap();
        assert!(!stdout.contains("Successfully verified"), "{repo}: {stdout}");
        assert!(code == 1 || code == 3, "{repo}: exit {code}: {stderr}");
        assert!(!stderr.trim().is_empty(), "{repo}: a failure says why");
        if repo == "good" {
            // The image is fine; the signatures it lists cannot be read: each fails closed.
            assert_eq!(code, 1, "{stderr}");
            assert!(stderr.contains("integrity failed: the signature envelope could not be read"), "{stderr}");
        }
    }
}
