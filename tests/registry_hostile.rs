//! Bad answers from a registry give the right typed error, promptly, without disturbing other
//! requests. The server is the hostile stand-in of `tests/common/hostile.rs`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Hostile, cmd, guard, source, test_options};
use sigscope::Error;
use sigscope::graph::expand::{ExpandRequest, ExploreOptions, expand};
use sigscope::oci::{MAX_MANIFEST_BYTES, media};
use sigscope::source::Source;
use sigscope::source::registry::RegistryOptions;

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
    assert!(shown.contains("bad credentials <redacted>"), "the echo is still there, scrubbed: {shown}");
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
    let root = sigscope::graph::NodeKind::Artifact(sigscope::graph::ArtifactNode::new(
        "slow",
        sigscope::oci::Descriptor { digest: h.image.digest.clone(), ..Default::default() },
        sigscope::graph::ArtifactKind::Image,
        sigscope::graph::Role::Root,
    ));
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

// ---- Deadlines: a registry that sends one byte per second -------------------------------------

/// Generous wall-clock bound proving a call does not hang (not a timing assertion).
const ENDS_WITHIN: Duration = Duration::from_secs(10);

fn drip_opts() -> RegistryOptions {
    RegistryOptions { read_timeout: Duration::from_secs(3), request_timeout: Duration::from_secs(3), ..test_options() }
}

#[tokio::test]
async fn a_dripping_body_hits_the_request_deadline() {
    let h = Hostile::start();
    let s = source(&h.host, drip_opts());
    let started = std::time::Instant::now();
    let e = guard(s.manifest("drip", "v1")).await.unwrap_err();
    assert!(started.elapsed() < ENDS_WITHIN, "took {:?}", started.elapsed());
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert_eq!(e.exit_code(), 3);
    let text = e.to_string();
    assert!(
        text.contains(&format!(
            "registry {} did not finish sending /v2/drip/manifests/v1 within 3 s (--timeout)",
            h.host
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_dripping_status_line_hits_the_request_deadline() {
    let h = Hostile::start();
    let s = source(&h.host, drip_opts());
    let started = std::time::Instant::now();
    let e = guard(s.tags("driphead")).await.unwrap_err();
    assert!(started.elapsed() < ENDS_WITHIN, "took {:?}", started.elapsed());
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(e.to_string().contains("did not finish sending /v2/driphead/tags/list within 3 s (--timeout)"), "{e}");
}

#[tokio::test]
async fn a_dripping_token_server_hits_the_request_deadline() {
    let h = Hostile::start();
    let s = source(&h.host, drip_opts());
    let started = std::time::Instant::now();
    let e = guard(s.manifest("dripauth", "v1")).await.unwrap_err();
    assert!(started.elapsed() < ENDS_WITHIN, "took {:?}", started.elapsed());
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(
        e.to_string().contains(&format!("token server {} did not finish sending /token/drip within 3 s", h.host)),
        "{e}"
    );
}

#[tokio::test]
async fn the_command_deadline_bounds_requests_that_each_may_take_longer() {
    let h = Hostile::start();
    let opts = RegistryOptions {
        read_timeout: Duration::from_secs(60),
        request_timeout: Duration::from_secs(60),
        deadline: Some(Duration::from_secs(3)),
        ..test_options()
    };
    let s = source(&h.host, opts);
    let started = std::time::Instant::now();
    let e = guard(s.manifest("drip", "v1")).await.unwrap_err();
    assert!(started.elapsed() < ENDS_WITHIN, "took {:?}", started.elapsed());
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(e.to_string().contains("before the command's deadline of 3 s (--deadline)"), "{e}");
    // Once the deadline has passed nothing more is sent.
    let before = h.hits("/v2/good/manifests/v1");
    let e = guard(s.manifest("good", "v1")).await.unwrap_err();
    assert!(e.to_string().contains("deadline of 3 s (--deadline) passed"), "{e}");
    assert_eq!(h.hits("/v2/good/manifests/v1"), before);
}

/// Runs the real binary; `password` goes to stdin with `--username alice --password-stdin`.
fn sigscope(args: &[&str], password: Option<&str>) -> (i32, String, String, Duration) {
    let bin = cmd::sigscope(args);
    let bin = match password {
        Some(p) => bin.login("alice", p),
        None => bin,
    };
    let started = std::time::Instant::now();
    let (code, out, err) = bin.output();
    (code, out, err, started.elapsed())
}

fn notation_dir() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    sigscope::demo::export(&dir.path().join("d")).unwrap();
    let notation = dir.path().join("d/notation").display().to_string();
    (dir, notation)
}

#[test]
fn tree_and_verify_against_a_dripping_registry_end_with_the_deadline_error() {
    let h = Hostile::start();
    let (_dir, notation) = notation_dir();
    let target = format!("{}/drip:v1", h.host);
    let wanted = format!("registry {} did not finish sending /v2/drip/manifests/v1 within 3 s (--timeout)", h.host);
    for args in [
        vec!["tree", &target, "--timeout", "3"],
        vec!["verify", &target, "--timeout", "3", "--notation-dir", &notation],
    ] {
        let (code, stdout, stderr, took) = sigscope(&args, None);
        assert!(took < ENDS_WITHIN, "{args:?} took {took:?}");
        assert_eq!(code, 3, "{args:?}: {stderr}");
        assert!(!stdout.contains("Successfully verified"), "{stdout}");
        assert!(stderr.contains(&wanted), "{args:?}: {stderr}");
    }
    // --deadline bounds the whole command even when each request may take a minute.
    let (code, _, stderr, took) = sigscope(&["tree", &target, "--timeout", "60", "--deadline", "3"], None);
    assert!(took < ENDS_WITHIN, "took {took:?}");
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("deadline of 3 s (--deadline)"), "{stderr}");
}

#[test]
fn in_the_tui_a_dripping_registry_fails_the_node_and_the_ui_stays_alive() {
    let h = Hostile::start();
    let opts = sigscope::open::OpenOptions { oci_layout: false, registry: drip_opts(), ..Default::default() };
    let opened = sigscope::open::open(&format!("{}/drip:v1", h.host), &opts).unwrap();
    let theme = sigscope::tui::theme::Theme::resolve(None, true).unwrap();
    let mut tui = common::tui::Harness::with(opened, sigscope::tui::AppOptions::new(theme));
    let started = std::time::Instant::now();
    tui.run_effects();
    assert!(started.elapsed() < ENDS_WITHIN, "took {:?}", started.elapsed());
    let root = tui.app.tree.graph.roots[0];
    let load = &tui.app.tree.graph.node(root).load;
    assert!(
        matches!(load, sigscope::graph::LoadState::Failed(r) if r.contains("did not finish sending /v2/drip/manifests/v1 within 3 s")),
        "{load:?}"
    );
    assert_eq!(tui.app.in_flight(), 0);
    // Still answering keys and drawing.
    tui.key(crossterm::event::KeyCode::Char('j'));
    let screen = common::tui::screen_text(&tui.render(120, 30));
    assert!(screen.contains("failed"), "{screen}");
}

// ---- Pagination that never ends ----------------------------------------------------------------

#[tokio::test]
async fn a_self_pointing_link_ends_with_a_clear_error() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let e = guard(s.tags("selflink")).await.unwrap_err();
    assert!(matches!(e, Error::Malformed { .. }), "{e:?}");
    assert!(e.to_string().contains("leads back to a page already read"), "{e}");
    assert_eq!(h.hits("/v2/selflink/tags/list"), 1, "the page is read once");
    let e = guard(s.referrers_api("selflink", &h.image.digest, None)).await.unwrap_err();
    assert!(e.to_string().contains("leads back to a page already read"), "{e}");
    assert_eq!(h.hits(&format!("/v2/selflink/referrers/{}", h.image.digest)), 1);
}

#[tokio::test]
async fn a_link_cycle_of_two_pages_ends_with_a_clear_error() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let e = guard(s.tags("cycle")).await.unwrap_err();
    assert!(e.to_string().contains("leads back to a page already read"), "{e}");
    assert_eq!(h.hits("/v2/cycle/tags/list"), 3, "first, p=a, p=b; p=a again is not fetched");
}

#[tokio::test]
async fn a_self_link_with_a_new_fragment_is_still_the_same_page() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let e = guard(s.tags("fraglink")).await.unwrap_err();
    assert!(e.to_string().contains("leads back to a page already read"), "{e}");
    assert_eq!(h.hits("/v2/fraglink/tags/list"), 1);
}

#[tokio::test]
async fn endless_distinct_pages_stop_at_the_page_limit() {
    use sigscope::source::registry::http::MAX_PAGES;
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let e = guard(s.tags("endless")).await.unwrap_err();
    assert!(e.to_string().contains(&format!("more than {MAX_PAGES} pages")), "{e}");
    assert_eq!(h.hits("/v2/endless/tags/list") as usize, MAX_PAGES);
}

#[tokio::test]
async fn a_link_leaving_the_origin_is_refused_for_tags_and_referrers() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let e = guard(s.tags("offsite")).await.unwrap_err();
    assert!(e.to_string().contains("points to another origin"), "{e}");
    let e = guard(s.referrers_api("offsite", &h.image.digest, None)).await.unwrap_err();
    assert!(e.to_string().contains("points to another origin"), "{e}");
    assert!(h.foreign_authorizations().is_empty(), "the other origin was never contacted");
}

#[tokio::test]
async fn a_redirect_loop_ends_with_a_clear_error() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let e = guard(s.manifest("redirloop", "v1")).await.unwrap_err();
    assert!(e.to_string().contains("redirect loop"), "{e}");
    assert_eq!(h.hits("/v2/redirloop/manifests/v1"), 1);
}

// ---- Credentials in what the server sends back -------------------------------------------------

/// Aligned after "alice:" so its base64 has both '+' and '/' (base64url differs).
const PASSWORD: &str = "s3cr3t>>>???";

/// Every form of the password and the token that must not be shown.
fn secret_forms() -> Vec<String> {
    use base64::Engine as _;
    let b = base64::engine::general_purpose::STANDARD.encode(format!("alice:{PASSWORD}"));
    let u = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("alice:{PASSWORD}"));
    assert!(b.contains('+') && b.contains('/') && b != u, "{b} {u}");
    vec![PASSWORD.to_string(), b.trim_end_matches('=').to_string(), u]
}

/// No form of a secret, nor any 16-character piece of the bearer token, is in `text`.
fn assert_no_secret(text: &str) {
    for s in secret_forms() {
        assert!(!text.contains(&s), "{s:?} shown in: {text}");
    }
    let token = common::hostile::token();
    for i in 0..=token.len() - 16 {
        assert!(!text.contains(&token[i..i + 16]), "a piece of the token is shown in: {text}");
    }
}

fn with_password() -> RegistryOptions {
    RegistryOptions { credentials: Some(("alice".into(), PASSWORD.into())), ..opts() }
}

#[tokio::test]
async fn an_echoed_basic_authorization_is_scrubbed_in_every_form() {
    let h = Hostile::start();
    let s = source(&h.host, with_password());
    let e = guard(s.manifest("echo", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::Denied { .. }), "{e:?}");
    let shown = format!("{e} {e:?} {}", serde_json::to_string(&e).unwrap());
    assert_no_secret(&shown);
    assert!(shown.contains("you sent Authorization: Basic <redacted>"), "the echo is there, scrubbed: {shown}");
}

#[tokio::test]
async fn an_echoed_bearer_token_is_scrubbed_even_past_the_cut() {
    let h = Hostile::start();
    let s = source(&h.host, with_password());
    let e = guard(s.manifest("bearer", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::Denied { .. }), "{e:?}");
    let shown = format!("{e} {e:?} {}", serde_json::to_string(&e).unwrap());
    assert_no_secret(&shown);
}

#[tokio::test]
async fn a_token_server_echoing_the_credentials_and_the_identity_token_is_scrubbed() {
    let h = Hostile::start();
    let s = source(&h.host, with_password());
    let e = guard(s.manifest("tokenecho", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::Server { status: 500, .. }), "{e:?}");
    assert_no_secret(&format!("{e} {e:?}"));
    // An identity token from docker's config.json goes in a form: echoed raw or percent-encoded.
    let identity = "idtok/abc+def=ghi-0123456789";
    let cfg = tempfile::tempdir().unwrap();
    std::fs::write(
        cfg.path().join("config.json"),
        serde_json::json!({"auths": {h.host.clone(): {"identitytoken": identity}}}).to_string(),
    )
    .unwrap();
    let s = source(&h.host, RegistryOptions { docker_config: Some(cfg.path().to_path_buf()), ..opts() });
    let e = guard(s.manifest("tokenecho", "v1")).await.unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("refresh_token=<redacted>"), "the form was echoed: {shown}");
    for form in [identity, "idtok%2Fabc%2Bdef%3Dghi-0123456789"] {
        assert!(!shown.contains(form), "{form} shown in {shown}");
    }
}

#[tokio::test]
async fn a_secret_in_a_www_authenticate_realm_is_scrubbed() {
    let h = Hostile::start();
    let s = source(&h.host, with_password());
    guard(s.manifest("realmleak", "v1")).await.unwrap();
    let e = guard(s.tags("realmleak")).await.unwrap_err();
    assert!(matches!(e, Error::Network { .. }), "the realm is unreachable: {e:?}");
    assert_no_secret(&format!("{e} {e:?}"));
}

#[tokio::test]
async fn a_very_long_error_body_is_cut_and_escaped() {
    let h = Hostile::start();
    let s = source(&h.host, opts());
    let e = guard(s.manifest("longerr", "v1")).await.unwrap_err();
    let Error::Server { detail, .. } = &e else { panic!("{e:?}") };
    assert!(detail.chars().count() <= 200, "{} chars: {detail}", detail.chars().count());
    assert!(!e.to_string().contains('\x1b'), "{e}");
}

#[tokio::test]
async fn a_redirect_to_another_host_carries_no_credentials() {
    let h = Hostile::start();
    // Basic: the blob is served by "localhost", which must not see the registry's Authorization.
    let s = source(&h.host, with_password());
    guard(s.manifest("redirect", "v1")).await.unwrap();
    let b = guard(s.blob("redirect", &h.config, 1024)).await.unwrap();
    assert_eq!(b.len() as u64, h.config.size);
    // Bearer: the same for the token.
    let s = source(&h.host, with_password());
    let b = guard(s.blob("bearer", &h.config, 1024)).await.unwrap();
    assert_eq!(b.len() as u64, h.config.size);
    assert_eq!(h.foreign_authorizations(), vec![None, None], "both redirects reached the other host bare");
}

#[tokio::test]
async fn a_challenge_from_another_host_is_not_answered_with_our_credentials() {
    let h = Hostile::start();
    let s = source(&h.host, with_password());
    let e = guard(s.manifest("foreign", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    assert_eq!(h.hits("/token"), 0, "the other host's token realm never saw the registry's credentials");
    assert!(h.foreign_authorizations().iter().all(Option::is_none), "{:?}", h.foreign_authorizations());
}

/// Docker's semantics, kept on purpose: the registry names its token server, which may be
/// another host, and that server is where the credentials are for (the registry itself could
/// ask for them with a Basic challenge). They go there, and only there.
#[tokio::test]
async fn a_token_realm_on_another_host_gets_the_credentials_as_docker_sends_them() {
    use base64::Engine as _;
    let h = Hostile::start();
    let s = source(&h.host, with_password());
    let m = guard(s.manifest("otherrealm", "v1")).await.unwrap();
    assert_eq!(m.descriptor.digest, h.image.digest);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("alice:{PASSWORD}"));
    assert_eq!(h.foreign_authorizations(), vec![Some(format!("Basic {basic}"))], "one token request, with them");
}

#[test]
fn tree_and_verify_never_print_an_echoed_secret() {
    let h = Hostile::start();
    let (_dir, notation) = notation_dir();
    for repo in ["echo", "bearer", "tokenecho", "realmleak"] {
        let target = format!("{}/{repo}:v1", h.host);
        for args in [vec!["tree", &target], vec!["verify", &target, "--notation-dir", &notation]] {
            let (code, stdout, stderr, _) = sigscope(&args, Some(PASSWORD));
            assert!(code == 1 || code == 3, "{args:?}: exit {code}: {stderr}");
            assert!(!stderr.trim().is_empty(), "{args:?}: a failure says why");
            assert!(stderr.contains("<redacted>"), "{args:?}: the echo reached stderr, scrubbed: {stderr}");
            assert_no_secret(&stderr);
            assert_no_secret(&stdout);
        }
    }
}
