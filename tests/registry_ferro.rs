//! Against ferro-oci-server (native OCI 1.1 referrers API, `OCI-Subject`, `OCI-Filters-Applied`,
//! `n`-honouring pagination).

mod common;

use std::collections::BTreeSet;

use common::{Server, artifact, edge, edges, guard, seed, source, test_options};
use sigscope::graph::expand::{ExpandRequest, ExploreOptions, expand};
use sigscope::graph::{Role, Via};
use sigscope::oci::{digest_tag, media};
use sigscope::source::Source;
use sigscope::source::registry::{RegistryClient, RegistryOptions};

#[tokio::test]
async fn native_referrers_api() {
    let server = Server::ferro();
    let repo = "demo/app";
    let fx = guard(seed(&RegistryClient::new(&server.host, test_options()).unwrap(), repo)).await;
    assert!(fx.native_referrers, "ferro answers OCI-Subject, so no tag-schema index was written");
    let s = source(&server.host, test_options());
    assert!(!s.tags(repo).await.unwrap().contains(&digest_tag(&fx.image.digest)));

    let opts = ExploreOptions::default();
    let e = guard(expand(
        &s,
        &ExpandRequest { kind: artifact(repo, &fx.image, Role::Root), expected_subject: None },
        &opts,
    ))
    .await
    .unwrap();
    assert_eq!(
        edges(&e.children),
        BTreeSet::from([
            edge(&fx.signature, Role::Referrer(Via::ReferrersApi)),
            edge(&fx.sbom, Role::Referrer(Via::ReferrersApi)),
            edge(&fx.cosign, Role::Referrer(Via::CosignTag(fx.cosign_tag.clone()))),
        ])
    );
    let e = guard(expand(
        &s,
        &ExpandRequest {
            kind: artifact(repo, &fx.sbom, Role::Referrer(Via::ReferrersApi)),
            expected_subject: Some(fx.image.digest.clone()),
        },
        &opts,
    ))
    .await
    .unwrap();
    assert_eq!(edges(&e.children), BTreeSet::from([edge(&fx.sbom_signature, Role::Referrer(Via::ReferrersApi))]));

    // The API's entries carry artifactType and the manifest's annotations.
    let list = guard(s.referrers_api(repo, &fx.image.digest, None)).await.unwrap().unwrap();
    let sig = list.iter().find(|d| d.digest == fx.signature.digest).unwrap();
    assert_eq!(sig.artifact_type.as_deref(), Some(media::NOTATION_SIGNATURE));
    assert_eq!(
        sig.annotations.get("org.opencontainers.image.created").map(String::as_str),
        Some(common::fixtures::CREATED)
    );
    // Referrer lists are cached for the run; forget_repository makes a new push visible.
    let c = s.client().clone();
    let layer =
        sigscope::source::push::push_blob(&c, repo, media::JWS, bytes::Bytes::from_static(b"{}")).await.unwrap();
    let second = serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "artifactType": media::NOTATION_SIGNATURE,
        "config": {"mediaType": media::OCI_EMPTY, "digest": layer.digest, "size": layer.size},
        "layers": [{"mediaType": media::JWS, "digest": layer.digest, "size": layer.size}],
        "subject": {"mediaType": media::OCI_MANIFEST, "digest": fx.image.digest, "size": fx.image.size},
    });
    let body = bytes::Bytes::from(serde_json::to_vec(&second).unwrap());
    let pushed = guard(sigscope::source::push::push_referrer(&c, repo, body, media::OCI_MANIFEST)).await.unwrap();
    assert!(!pushed.updated_tag_schema);
    assert_eq!(guard(s.referrers_api(repo, &fx.image.digest, None)).await.unwrap().unwrap().len(), 2, "cached");
    s.forget_repository(repo);
    let now = guard(s.referrers_api(repo, &fx.image.digest, None)).await.unwrap().unwrap();
    assert!(now.iter().any(|d| d.digest == pushed.descriptor.digest), "{now:?}");
}

#[tokio::test]
async fn artifact_type_filter() {
    let server = Server::ferro();
    let repo = "filter/app";
    let fx = guard(seed(&RegistryClient::new(&server.host, test_options()).unwrap(), repo)).await;
    let s = source(&server.host, test_options());
    let sboms = guard(s.referrers_api(repo, &fx.image.digest, Some(media::SPDX_JSON))).await.unwrap().unwrap();
    assert_eq!(sboms.iter().map(|d| d.digest.clone()).collect::<Vec<_>>(), vec![fx.sbom.digest.clone()]);
    let none =
        guard(s.referrers_api(repo, &fx.image.digest, Some("application/vnd.example.none"))).await.unwrap().unwrap();
    assert!(none.is_empty());
    // Through expand with --artifact-type: the cosign tag (simplesigning config is an image config) is filtered too.
    let opts = ExploreOptions { artifact_type: Some(media::NOTATION_SIGNATURE.into()) };
    let e = guard(expand(
        &s,
        &ExpandRequest { kind: artifact(repo, &fx.image, Role::Root), expected_subject: None },
        &opts,
    ))
    .await
    .unwrap();
    assert_eq!(edges(&e.children), BTreeSet::from([edge(&fx.signature, Role::Referrer(Via::ReferrersApi))]));
    // An unknown subject has an empty list, not an error.
    let unknown = format!("sha256:{}", "0".repeat(64));
    assert_eq!(guard(s.referrers_api(repo, &unknown, None)).await.unwrap(), Some(vec![]));
}

#[tokio::test]
async fn catalog_and_tags_follow_link_pages() {
    let server = Server::ferro();
    let c = RegistryClient::new(&server.host, test_options()).unwrap();
    let mut names: Vec<String> = (0..5).map(|i| format!("r{i}/img")).collect();
    for n in &names {
        guard(common::fixtures::push_image(&c, n, "v1", "amd64")).await;
    }
    for t in ["b", "c", "a"] {
        guard(common::fixtures::push_image(&c, "r0/img", t, "amd64")).await;
    }
    names.sort();
    let s = source(&server.host, RegistryOptions { page_size: 2, ..test_options() });
    assert_eq!(guard(s.repositories()).await.unwrap(), names);
    let after_catalog = s.stats().requests;
    assert!(after_catalog >= 3, "five repositories in pages of two: {after_catalog} requests");
    let s1 = source(&server.host, RegistryOptions { page_size: 1, ..test_options() });
    assert_eq!(*guard(s1.tags("r0/img")).await.unwrap(), vec!["a", "b", "c", "v1"]);
    assert!(s1.stats().requests >= 4, "one tag per page: {:?}", s1.stats());
}
