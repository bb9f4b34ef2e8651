//! Against Debian's docker-registry (distribution 2.8, no referrers API): the tag-schema fallback
//! that `push_referrer` maintains, cosign tags, nesting, indexes, catalog pagination, and auth
//! (htpasswd Basic, bearer tokens, docker config.json, credential helpers).

mod common;

use std::collections::BTreeSet;

use common::{Server, artifact, edge, edges, guard, seed, source, test_options};
use sigscope::Error;
use sigscope::graph::expand::{ExpandRequest, ExploreOptions, expand};
use sigscope::graph::{ChildSpec, NodeKind, Role, Via};
use sigscope::oci::{Descriptor, media};
use sigscope::source::Source;
use sigscope::source::referrers::find_referrers;
use sigscope::source::registry::{RegistryClient, RegistryOptions, RegistrySource};

fn client(host: &str, opts: RegistryOptions) -> RegistryClient {
    RegistryClient::new(host, opts).unwrap()
}

#[tokio::test]
async fn tag_schema_cosign_nesting_and_indexes() {
    let server = Server::docker_registry();
    let repo = "demo/app";
    let fx = guard(seed(&client(&server.host, test_options()), repo)).await;
    assert!(!fx.native_referrers, "distribution 2.8 has no OCI-Subject, so push_referrer kept the tag schema");
    let s = source(&server.host, test_options());
    let opts = ExploreOptions::default();

    // Repository → tags, without the referrer bookkeeping tags.
    let e = guard(expand(
        &s,
        &ExpandRequest { kind: NodeKind::Repository { name: repo.into() }, expected_subject: None },
        &opts,
    ))
    .await
    .unwrap();
    let tags: Vec<String> = e
        .children
        .iter()
        .map(|c| match c {
            ChildSpec::Tag { tag, .. } => tag.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(tags, vec!["amd64", "arm64", "multi", "v1"]);
    assert!(s.tags(repo).await.unwrap().contains(&fx.cosign_tag));

    // Tag → the image.
    let e = guard(expand(
        &s,
        &ExpandRequest { kind: NodeKind::Tag { repository: repo.into(), tag: "v1".into() }, expected_subject: None },
        &opts,
    ))
    .await
    .unwrap();
    assert_eq!(edges(&e.children), BTreeSet::from([edge(&fx.image, Role::Root)]));

    // Image → signature and SBOM from the tag schema, the cosign signature from its tag.
    let root = Descriptor { digest: fx.image.digest.clone(), ..Default::default() };
    let e =
        guard(expand(&s, &ExpandRequest { kind: artifact(repo, &root, Role::Root), expected_subject: None }, &opts))
            .await
            .unwrap();
    assert_eq!(e.manifest.as_ref().unwrap().descriptor.digest, fx.image.digest);
    assert_eq!(
        edges(&e.children),
        BTreeSet::from([
            edge(&fx.signature, Role::Referrer(Via::TagSchema)),
            edge(&fx.sbom, Role::Referrer(Via::TagSchema)),
            edge(&fx.cosign, Role::Referrer(Via::CosignTag(fx.cosign_tag.clone()))),
        ])
    );
    let sig = e.children.iter().find_map(|c| match c {
        ChildSpec::Artifact { descriptor, .. } if descriptor.digest == fx.signature.digest => Some(descriptor.clone()),
        _ => None,
    });
    let sig = sig.unwrap();
    assert_eq!(sig.artifact_type.as_deref(), Some(media::NOTATION_SIGNATURE));
    assert_eq!(
        sig.annotations.get("org.opencontainers.image.created").map(String::as_str),
        Some(common::fixtures::CREATED)
    );

    // SBOM → its own signature (nested referrer), with the subject checked.
    let e = guard(expand(
        &s,
        &ExpandRequest {
            kind: artifact(repo, &fx.sbom, Role::Referrer(Via::TagSchema)),
            expected_subject: Some(fx.image.digest.clone()),
        },
        &opts,
    ))
    .await
    .unwrap();
    assert_eq!(edges(&e.children), BTreeSet::from([edge(&fx.sbom_signature, Role::Referrer(Via::TagSchema))]));

    // Index → its two platform manifests.
    let e = guard(expand(
        &s,
        &ExpandRequest { kind: artifact(repo, &fx.index, Role::Root), expected_subject: None },
        &opts,
    ))
    .await
    .unwrap();
    assert_eq!(
        edges(&e.children),
        BTreeSet::from([edge(&fx.platforms[0], Role::Platform), edge(&fx.platforms[1], Role::Platform)])
    );

    // The artifactType filter applies to the tag schema and to cosign tags.
    let only_sigs = guard(find_referrers(&s, repo, &fx.image.digest, Some(media::NOTATION_SIGNATURE))).await.unwrap();
    assert_eq!(
        only_sigs.iter().map(|r| r.descriptor.digest.clone()).collect::<Vec<_>>(),
        vec![fx.signature.digest.clone()]
    );

    // Blobs come back verified.
    let cfg = guard(s.blob(repo, &fx.config, 1 << 20)).await.unwrap();
    assert_eq!(cfg.len() as u64, fx.config.size);
    // A missing manifest is NotFound, not a generic failure.
    let e = guard(s.manifest(repo, "no-such-tag")).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
}

#[tokio::test]
async fn catalog_follows_link_pagination() {
    let server = Server::docker_registry();
    let c = client(&server.host, test_options());
    let mut names: Vec<String> = (0..7).map(|i| format!("team{}/app{i}", i % 2)).collect();
    for n in &names {
        guard(common::fixtures::push_image(&c, n, "v1", "amd64")).await;
    }
    names.sort();
    let s = source(&server.host, RegistryOptions { page_size: 2, ..test_options() });
    let repos = guard(s.repositories()).await.unwrap();
    assert_eq!(repos, names);
    assert_eq!(s.stats().requests, 4, "seven repositories in pages of two: four requests");
    // Cached for the run.
    guard(s.repositories()).await.unwrap();
    assert_eq!(s.stats().requests, 4);
}

#[tokio::test]
async fn htpasswd_basic_auth() {
    let (user, pass) = ("tester", "Pa55-word-for-basic");
    let server = Server::docker_registry_htpasswd(user, pass);
    let with = |u: &str, p: &str| RegistryOptions { credentials: Some((u.into(), p.into())), ..test_options() };
    let fx = guard(seed(&client(&server.host, with(user, pass)), "secure/app")).await;

    let anonymous = source(&server.host, test_options());
    let e = guard(anonymous.manifest("secure/app", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");

    let wrong = source(&server.host, with(user, "not-the-Pa55-word"));
    let e = guard(wrong.manifest("secure/app", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    let text = format!("{e} {e:?}");
    assert!(!text.contains("not-the-Pa55-word") && !text.contains(pass), "{text}");

    let good = source(&server.host, with(user, pass));
    assert_eq!(guard(good.manifest("secure/app", "v1")).await.unwrap().descriptor.digest, fx.image.digest);
    assert_eq!(guard(good.repositories()).await.unwrap(), vec!["secure/app"]);
    // Found through the tag schema behind Basic auth too.
    let refs = guard(find_referrers(&good, "secure/app", &fx.image.digest, None)).await.unwrap();
    assert_eq!(refs.len(), 3);
}

#[tokio::test]
async fn bearer_token_auth() {
    let (user, pass) = ("tokenuser", "Token-Pa55");
    let server = Server::docker_registry_token(user, pass, "refresh-abc");
    let creds = RegistryOptions { credentials: Some((user.into(), pass.into())), ..test_options() };
    let fx = guard(seed(&client(&server.host, creds.clone()), "demo/app")).await;

    // Anonymous tokens may pull, not list the catalog, not push.
    let anon = source(&server.host, test_options());
    assert_eq!(guard(anon.manifest("demo/app", "v1")).await.unwrap().descriptor.digest, fx.image.digest);
    let refs = guard(find_referrers(&anon, "demo/app", &fx.image.digest, None)).await.unwrap();
    assert_eq!(refs.len(), 3);
    let e = guard(anon.repositories()).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    let e = guard(sigscope::source::push::push_blob(anon.client(), "demo/app", "application/octet-stream", "x".into()))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");

    // With credentials the catalog scope (registry:catalog:*) is granted.
    let user_source = source(&server.host, creds);
    assert_eq!(guard(user_source.repositories()).await.unwrap(), vec!["demo/app"]);
    let before = user_source.stats().requests;
    guard(user_source.tags("demo/app")).await.unwrap();
    guard(user_source.manifest("demo/app", "v1")).await.unwrap();
    // The challenge is known from the catalog call, so the repository token is fetched up front
    // (no 401 round trip) and reused: token, tags, manifest.
    assert_eq!(user_source.stats().requests - before, 3);

    // Wrong password: the token server refuses, and the password is not in the error.
    let bad = source(
        &server.host,
        RegistryOptions { credentials: Some((user.into(), "WRONG-secret-1".into())), ..test_options() },
    );
    let e = guard(bad.manifest("demo/app", "v1")).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("WRONG-secret-1"));
}

fn write_config(dir: &std::path::Path, json: serde_json::Value) {
    std::fs::write(dir.join("config.json"), serde_json::to_vec(&json).unwrap()).unwrap();
}

#[tokio::test]
async fn docker_config_auths_helpers_and_identity_tokens() {
    use base64::Engine as _;
    let (user, pass) = ("cfguser", "Cfg-Pa55");
    let basic = Server::docker_registry_htpasswd(user, pass);
    let fx = guard(seed(
        &client(&basic.host, RegistryOptions { credentials: Some((user.into(), pass.into())), ..test_options() }),
        "cfg/app",
    ))
    .await;
    let cfg = tempfile::tempdir().unwrap();
    let from_config = || {
        RegistrySource::new(
            &basic.host,
            RegistryOptions { docker_config: Some(cfg.path().to_path_buf()), ..test_options() },
        )
        .unwrap()
    };

    // auths with base64 user:password.
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    write_config(cfg.path(), serde_json::json!({"auths": {(format!("http://{}", basic.host)): {"auth": auth}}}));
    assert_eq!(guard(from_config().manifest("cfg/app", "v1")).await.unwrap().descriptor.digest, fx.image.digest);

    // credHelpers: a helper script answering the docker-credential protocol, found on PATH.
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("asked");
    let script = bin.path().join("docker-credential-sigscopetest");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\necho \"$server\" > {}\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{pass}\"}}' \"$server\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(&script).unwrap().permissions(), 0o755);
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.path().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    // SAFETY: the tests of this binary that read PATH only add to it; nothing removes entries.
    unsafe { std::env::set_var("PATH", path) };
    write_config(cfg.path(), serde_json::json!({"credHelpers": {(basic.host.clone()): "sigscopetest"}}));
    assert_eq!(guard(from_config().manifest("cfg/app", "v1")).await.unwrap().descriptor.digest, fx.image.digest);
    assert_eq!(std::fs::read_to_string(&log).unwrap().trim(), basic.host, "the server was passed on stdin");

    // credsStore works the same way.
    std::fs::remove_file(&log).unwrap();
    write_config(cfg.path(), serde_json::json!({"credsStore": "sigscopetest"}));
    assert_eq!(guard(from_config().manifest("cfg/app", "v1")).await.unwrap().descriptor.digest, fx.image.digest);
    assert!(log.exists());

    // --username/--password-stdin wins over config.json.
    write_config(
        cfg.path(),
        serde_json::json!({"auths": {(basic.host.clone()): {"auth": base64::engine::general_purpose::STANDARD.encode("x:y")}}}),
    );
    let explicit = RegistrySource::new(
        &basic.host,
        RegistryOptions {
            docker_config: Some(cfg.path().to_path_buf()),
            credentials: Some((user.into(), pass.into())),
            ..test_options()
        },
    )
    .unwrap();
    assert!(guard(explicit.manifest("cfg/app", "v1")).await.is_ok());
    assert!(matches!(guard(from_config().manifest("cfg/app", "v1")).await, Err(Error::Auth { .. })));

    // identitytoken: exchanged at the token realm with an OAuth2 refresh-token POST.
    let token = Server::docker_registry_token("u", "p", "refresh-xyz");
    guard(seed(
        &client(&token.host, RegistryOptions { credentials: Some(("u".into(), "p".into())), ..test_options() }),
        "tok/app",
    ))
    .await;
    write_config(cfg.path(), serde_json::json!({"auths": {(token.host.clone()): {"identitytoken": "refresh-xyz"}}}));
    let s = RegistrySource::new(
        &token.host,
        RegistryOptions { docker_config: Some(cfg.path().to_path_buf()), ..test_options() },
    )
    .unwrap();
    assert_eq!(guard(s.repositories()).await.unwrap(), vec!["tok/app"], "the catalog needs a non-anonymous token");
}

#[tokio::test]
async fn tls_with_a_private_ca() {
    let server = Server::docker_registry_tls();
    let pinned = RegistryOptions { resolve: vec![server.resolve()], ..test_options() };
    let untrusted = source(&server.host, pinned.clone());
    let e = guard(untrusted.tags("x/y")).await.unwrap_err();
    assert!(matches!(e, Error::Network { .. }), "an unknown CA is refused: {e:?}");

    let trusted = RegistryOptions { ca_file: Some(server.dir.path().join("ca.pem")), ..pinned };
    let (image, _, _) =
        guard(common::fixtures::push_image(&client(&server.host, trusted.clone()), "tls/app", "v1", "amd64")).await;
    let s = source(&server.host, trusted);
    assert_eq!(s.client().base_url().scheme(), "https");
    assert_eq!(guard(s.manifest("tls/app", "v1")).await.unwrap().descriptor.digest, image.digest);
}
