//! `sigscope tree` — the real binary — against real registries seeded by our own push code:
//! docker-registry (tag-schema fallback, Basic auth) and ferro-oci-server (referrers API).

mod common;

use common::{Fixture, Server, seed, test_options};
use serde_json::Value;
use sigscope::source::registry::RegistryClient;

use common::cmd;

fn sigscope(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let bin = cmd::sigscope(args);
    match stdin {
        Some(input) => bin.stdin(input),
        None => bin,
    }
    .output()
}

fn json(args: &[&str]) -> Value {
    let (code, out, err) = sigscope(args, None);
    assert_eq!(code, 0, "sigscope {args:?} failed: {err}");
    assert!(err.is_empty(), "nothing on stderr for a clean run: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// (digest, via) of each referrer, sorted.
fn referrers(node: &Value) -> Vec<(String, String)> {
    let mut v: Vec<_> = node["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["digest"].as_str().unwrap().to_string(), n["via"].as_str().unwrap_or("").to_string()))
        .collect();
    v.sort();
    v
}

fn seeded(server: &Server) -> Fixture {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = RegistryClient::new(&server.host, test_options()).unwrap();
        let f = seed(&client, "demo/app").await;
        common::fixtures::push_image(&client, "other/img", "latest", "amd64").await;
        f
    })
}

fn check_image_graph(server: &Server, f: &Fixture, via_index: &str) {
    let v = json(&["tree", &format!("{}/demo/app:v1", server.host), "-o", "json"]);
    assert_eq!(v["digest"], f.image.digest.as_str());
    assert_eq!(v["reference"], format!("{}/demo/app@{}", server.host, f.image.digest));
    assert_eq!(v["kind"], "image");
    assert_eq!(v["tags"], serde_json::json!(["v1"]));
    let mut want = vec![
        (f.signature.digest.clone(), via_index.to_string()),
        (f.sbom.digest.clone(), via_index.to_string()),
        (f.cosign.digest.clone(), "cosign-tag".to_string()),
    ];
    want.sort();
    assert_eq!(referrers(&v), want);
    let by_digest = |d: &str| v["manifests"].as_array().unwrap().iter().find(|n| n["digest"] == d).unwrap().clone();
    assert_eq!(by_digest(&f.signature.digest)["kind"], "notation-signature");
    assert_eq!(by_digest(&f.cosign.digest)["kind"], "cosign-signature");
    assert_eq!(by_digest(&f.cosign.digest)["viaTag"], f.cosign_tag.as_str());
    let sbom = by_digest(&f.sbom.digest);
    assert_eq!(sbom["kind"], "spdx-sbom");
    assert_eq!(referrers(&sbom), vec![(f.sbom_signature.digest.clone(), via_index.to_string())]);

    let idx = json(&["tree", &format!("{}/demo/app:multi", server.host), "-o", "json"]);
    assert_eq!(idx["kind"], "index");
    let platforms: Vec<_> = idx["platforms"].as_array().unwrap().iter().map(|p| p["digest"].clone()).collect();
    let want: Vec<Value> = f.platforms.iter().map(|p| Value::from(p.digest.as_str())).collect();
    assert_eq!(platforms, want);
    assert_eq!(idx["platforms"][1]["platform"]["architecture"], "arm64");

    // --depth 1 shows the SBOM but not its signature.
    let shallow = json(&["tree", &format!("{}/demo/app:v1", server.host), "-o", "json", "--depth", "1"]);
    let sbom = shallow["manifests"].as_array().unwrap().iter().find(|n| n["digest"] == f.sbom.digest.as_str()).unwrap();
    assert_eq!(sbom["manifests"], serde_json::json!([]));
}

fn check_registry_graph(server: &Server, f: &Fixture) {
    let v = json(&["tree", &server.host, "-o", "json"]);
    assert_eq!(v["registry"], server.host.as_str());
    let repos: Vec<_> = v["repositories"].as_array().unwrap().iter().map(|r| r["repository"].clone()).collect();
    assert_eq!(
        repos,
        vec![Value::from(format!("{}/demo/app", server.host)), Value::from(format!("{}/other/img", server.host))]
    );
    let tags: Vec<(String, String)> = v["repositories"][0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tags"][0].as_str().unwrap().to_string(), t["digest"].as_str().unwrap().to_string()))
        .collect();
    // Referrer bookkeeping tags (sha256-…, sha256-….sig) are not images: they show as referrers.
    let names: Vec<_> = tags.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(names, vec!["amd64", "arm64", "multi", "v1"]);
    assert!(tags.contains(&("v1".into(), f.image.digest.clone())));
    let text = sigscope(&["tree", &server.host], None).1;
    assert!(text.contains(&f.sbom_signature.digest), "{text}");
    assert!(text.contains("← multi"), "{text}");
}

/// GET paths the binary sent for a whole-registry walk, from its request log.
fn logged_gets(server: &Server) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.log");
    json(&["tree", &server.host, "-o", "json", "--request-log", log.to_str().unwrap()]);
    std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("GET "))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect()
}

fn assert_each_digest_fetched_once(gets: &[String]) {
    let mut by_digest: Vec<&String> = gets.iter().filter(|u| u.contains("/manifests/sha256:")).collect();
    let total = by_digest.len();
    by_digest.sort();
    by_digest.dedup();
    assert_eq!(by_digest.len(), total, "a manifest was fetched twice: {gets:#?}");
}

#[test]
fn distribution_tag_schema_through_the_binary() {
    let server = Server::docker_registry();
    let f = seeded(&server);
    assert!(!f.native_referrers);
    check_image_graph(&server, &f, "tag-schema");
    check_registry_graph(&server, &f);
    let gets = logged_gets(&server);
    assert_each_digest_fetched_once(&gets);
    // The referrers API is asked once per repository; after its 404 the tag schema is used.
    let api: Vec<_> = gets.iter().filter(|u| u.contains("/referrers/")).collect();
    assert_eq!(api.len(), 2, "{api:#?}");
    // A `sha256-<hex>` index is read only where the tag list holds its tag: the image's and the
    // SBOM's (whose signature the graph above shows), never a 404 for the others.
    let schema: Vec<_> = gets
        .iter()
        .filter(|u| u.rsplit('/').next().is_some_and(|t| t.starts_with("sha256-") && t.len() == 71))
        .collect();
    let want: Vec<String> =
        [&f.image.digest, &f.sbom.digest].iter().map(|d| format!("/manifests/{}", d.replace(':', "-"))).collect();
    for w in &want {
        assert!(schema.iter().any(|u| u.ends_with(w.as_str())), "{w} read: {schema:#?}");
    }
    assert_eq!(schema.len(), want.len(), "only the indexes that exist are asked for: {schema:#?}");
}

#[test]
fn ferro_referrers_api_through_the_binary() {
    let server = Server::ferro();
    let f = seeded(&server);
    assert!(f.native_referrers);
    check_image_graph(&server, &f, "referrers-api");
    check_registry_graph(&server, &f);
    let gets = logged_gets(&server);
    assert_each_digest_fetched_once(&gets);
    let tag_schema = |u: &&String| u.rsplit_once("/manifests/sha256-").is_some_and(|(_, hex)| hex.len() == 64);
    assert!(!gets.iter().any(|u| tag_schema(&u)), "no tag-schema lookups with the API: {gets:#?}");
    let filtered = json(&[
        "tree",
        &format!("{}/demo/app:v1", server.host),
        "-o",
        "json",
        "--artifact-type",
        "application/spdx+json",
    ]);
    assert_eq!(referrers(&filtered), vec![(f.sbom.digest.clone(), "referrers-api".to_string())]);
}

#[test]
fn basic_auth_errors_and_password_stdin() {
    let server = Server::docker_registry_htpasswd("alice", "s3cret-pw");
    let target = format!("{}/demo/app:v1", server.host);
    let (code, out, err) = sigscope(&["tree", &target, "-o", "json"], None);
    assert_eq!(code, 3, "{out}");
    assert!(err.contains("authentication required"), "{err}");
    let (code, _, err) = sigscope(&["tree", &target, "--username", "alice", "--password-stdin"], Some("wrong\n"));
    assert_eq!(code, 3);
    assert!(!err.contains("wrong"), "password leaked: {err}");
    // With the right password the tag is reachable (and missing: nothing was pushed).
    let (code, _, err) = sigscope(&["tree", &target, "--username", "alice", "--password-stdin"], Some("s3cret-pw\n"));
    assert_eq!(code, 3);
    assert!(err.contains("not found"), "{err}");
    assert!(!err.contains("s3cret-pw"), "password leaked: {err}");
}

#[test]
fn unreachable_host_is_a_network_error() {
    let (code, _, err) = sigscope(&["tree", "127.0.0.1:1/app:v1", "--timeout", "5"], None);
    assert_eq!(code, 3);
    assert!(err.contains("127.0.0.1:1"), "{err}");
}

#[test]
fn demo_export_layout_has_the_designed_graph() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let (code, _, err) = sigscope(&["demo", "export", out.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.join("notation/trustpolicy.oci.json").is_file());
    let (code, _, err) = sigscope(&["demo", "export", out.to_str().unwrap()], None);
    assert_eq!(code, 2, "exporting over a non-empty dir is refused: {err}");

    let layout = out.join("layout");
    let v = json(&["tree", "--oci-layout", layout.to_str().unwrap(), "-o", "json"]);
    let tags = v["tags"].as_array().unwrap();
    let by_tag = |t: &str| tags.iter().find(|n| n["tags"][0] == t).unwrap_or_else(|| panic!("tag {t}")).clone();
    let kinds = |n: &Value| {
        let mut k: Vec<String> =
            n["manifests"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap().to_string()).collect();
        k.sort();
        k
    };
    let signed = by_tag("signed");
    assert_eq!(
        kinds(&signed),
        vec![
            "cosign-signature",
            "cyclonedx-sbom",
            "in-toto-attestation",
            "notation-signature",
            "notation-signature",
            "spdx-sbom",
        ]
    );
    let sbom = signed["manifests"].as_array().unwrap().iter().find(|m| m["kind"] == "spdx-sbom").unwrap();
    assert_eq!(kinds(sbom), vec!["notation-signature"]);
    let multi = by_tag("multiarch");
    assert_eq!(multi["kind"], "index");
    assert_eq!(multi["platforms"].as_array().unwrap().len(), 2);
    for p in multi["platforms"].as_array().unwrap() {
        assert_eq!(kinds(p), vec!["notation-signature"]);
    }
    assert_eq!(kinds(&by_tag("unsigned")), Vec::<String>::new());
    for t in ["tampered", "expired", "untrusted"] {
        assert_eq!(kinds(&by_tag(t)), vec!["notation-signature"], "{t}");
    }
}
