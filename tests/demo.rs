//! The built-in demo: deterministic, exportable, and holding every kind of artifact it promises.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sigscope::demo::{self, tags};
use sigscope::graph::expand::{ExpandRequest, ExploreOptions, expand};
use sigscope::graph::{ArtifactKind, Graph, NodeId, NodeKind, Role, Via};
use sigscope::oci::Descriptor;
use sigscope::source::Source;
use sigscope::source::layout::LayoutSource;

/// Expands every node of the demo repository, breadth first.
async fn walk(source: &dyn Source) -> Graph {
    let mut g = Graph::new();
    let root = g.add_root(NodeKind::Repository { name: tags::REPOSITORY.into() });
    let mut queue = vec![root];
    while let Some(id) = queue.pop() {
        let req = ExpandRequest::for_node(&g, id);
        let result = expand(source, &req, &ExploreOptions::default()).await.map_err(|e| e.to_string());
        g.apply(id, result);
        queue.extend(g.node(id).children.iter().copied());
    }
    g
}

fn artifact(g: &Graph, id: NodeId) -> &sigscope::graph::ArtifactNode {
    g.node(id).artifact().expect("artifact node")
}

/// The artifact a tag points at.
fn tagged(g: &Graph, tag: &str) -> NodeId {
    let t = g
        .nodes
        .iter()
        .position(|n| matches!(&n.kind, NodeKind::Tag { tag: t, .. } if t == tag))
        .unwrap_or_else(|| panic!("tag {tag}"));
    g.node(t).children[0]
}

fn children_of_kind(g: &Graph, id: NodeId, kind: ArtifactKind) -> Vec<NodeId> {
    g.node(id).children.iter().copied().filter(|&c| artifact(g, c).kind == kind).collect()
}

/// The first layer of a node's manifest, read from the source (the graph keeps no manifests).
async fn layer(source: &dyn Source, g: &Graph, id: NodeId) -> Descriptor {
    let a = artifact(g, id);
    assert!(a.manifest.is_some(), "loaded");
    source.manifest(&a.repository, &a.descriptor.digest.to_string()).await.unwrap().manifest.layers[0].clone()
}

#[test]
fn two_builds_are_identical() {
    let a = demo::build();
    let b = demo::build();
    assert_eq!(a.0.len(), b.0.len());
    for (k, v) in &a.0 {
        assert_eq!(b.0.get(k), Some(v), "{k} differs between builds");
    }
    assert_eq!(a.0["index.json"], demo::files().0["index.json"]);
}

#[tokio::test]
async fn walking_the_demo_finds_every_artifact() {
    let source = demo::source();
    let g = walk(&source).await;
    for n in &g.nodes {
        assert!(!matches!(n.load, sigscope::graph::LoadState::Failed(_)), "{:?} failed: {:?}", n.kind, n.load);
    }
    // Repository lists the six tags, not the cosign bookkeeping tag.
    assert_eq!(g.node(g.roots[0]).children.len(), tags::ALL.len());

    let index = tagged(&g, tags::MULTIARCH);
    assert_eq!(artifact(&g, index).kind, ArtifactKind::Index);
    let platforms: Vec<NodeId> =
        g.node(index).children.iter().copied().filter(|&c| artifact(&g, c).role == Role::Platform).collect();
    assert_eq!(platforms.len(), 2);
    let archs: Vec<String> =
        platforms.iter().map(|&p| artifact(&g, p).descriptor.platform.as_ref().unwrap().to_string()).collect();
    assert_eq!(archs, ["linux/amd64", "linux/arm64"]);
    for p in platforms {
        assert_eq!(artifact(&g, p).kind, ArtifactKind::Image);
        assert_eq!(children_of_kind(&g, p, ArtifactKind::NotationSignature).len(), 1);
    }

    let signed = tagged(&g, tags::SIGNED);
    let sigs = children_of_kind(&g, signed, ArtifactKind::NotationSignature);
    let mut envelopes = Vec::new();
    for &s in &sigs {
        envelopes.push(layer(&source, &g, s).await.media_type);
    }
    envelopes.sort();
    assert_eq!(envelopes, ["application/cose", "application/jose+json"]);
    let spdx = children_of_kind(&g, signed, ArtifactKind::SpdxSbom);
    assert_eq!(spdx.len(), 1);
    let sbom_sigs = children_of_kind(&g, spdx[0], ArtifactKind::NotationSignature);
    assert_eq!(sbom_sigs.len(), 1, "the SBOM's own signature is a referrer of the SBOM");
    assert_eq!(children_of_kind(&g, signed, ArtifactKind::CycloneDxSbom).len(), 1);
    assert_eq!(children_of_kind(&g, signed, ArtifactKind::InTotoAttestation).len(), 1);
    let cosign = children_of_kind(&g, signed, ArtifactKind::CosignSignature);
    assert_eq!(cosign.len(), 1);
    let signed_digest = artifact(&g, signed).descriptor.digest.to_string();
    let expected_tag = format!("{}.sig", signed_digest.replace(':', "-"));
    assert_eq!(artifact(&g, cosign[0]).role, Role::Referrer(Via::CosignTag(expected_tag)));

    let unsigned = tagged(&g, tags::UNSIGNED);
    assert_eq!(artifact(&g, unsigned).kind, ArtifactKind::Image);
    assert!(g.node(unsigned).children.is_empty());

    for tag in [tags::TAMPERED, tags::EXPIRED, tags::UNTRUSTED] {
        let id = tagged(&g, tag);
        assert_eq!(children_of_kind(&g, id, ArtifactKind::NotationSignature).len(), 1, "{tag}");
    }

    // Every manifest carries a fixed creation time.
    for n in &g.nodes {
        if let Some(a) = n.artifact() {
            assert!(a.created().is_some_and(|c| c.starts_with("20")), "{} has no created", a.descriptor.digest);
        }
    }
}

/// The JWS envelope of the Notation signature under `tag`, decoded.
async fn envelope_of(tag: &str) -> (serde_json::Value, Descriptor) {
    let source = demo::source();
    let g = walk(&source).await;
    let image = tagged(&g, tag);
    let mut layers = Vec::new();
    for s in children_of_kind(&g, image, ArtifactKind::NotationSignature) {
        layers.push(layer(&source, &g, s).await);
    }
    let l = layers.into_iter().find(|l| l.media_type == "application/jose+json").expect("a JWS signature");
    let raw = source.blob(tags::REPOSITORY, &l, 1 << 20).await.unwrap();
    (serde_json::from_slice(&raw).unwrap(), artifact(&g, image).descriptor.to_oci())
}

fn jws_part(env: &serde_json::Value, name: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(env[name].as_str().unwrap()).unwrap()
}

/// Verifies the ES256/ES384 signature of a JWS envelope with its own leaf.
fn jws_signature_ok(env: &serde_json::Value) -> bool {
    use p256::ecdsa::signature::Verifier as _;
    let input = format!("{}.{}", env["protected"].as_str().unwrap(), env["payload"].as_str().unwrap());
    let sig = jws_part(env, "signature");
    let leaf = STANDARD.decode(env["header"]["x5c"][0].as_str().unwrap()).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&leaf).unwrap();
    let point = cert.public_key().subject_public_key.data.to_vec();
    match sig.len() {
        64 => {
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
            vk.verify(input.as_bytes(), &p256::ecdsa::Signature::from_slice(&sig).unwrap()).is_ok()
        }
        96 => {
            let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
            vk.verify(input.as_bytes(), &p384::ecdsa::Signature::from_slice(&sig).unwrap()).is_ok()
        }
        n => panic!("unexpected signature length {n}"),
    }
}

#[tokio::test]
async fn valid_signature_is_spec_shaped() {
    let (env, image) = envelope_of(tags::SIGNED).await;
    assert!(jws_signature_ok(&env));
    let protected: serde_json::Value = serde_json::from_slice(&jws_part(&env, "protected")).unwrap();
    assert_eq!(protected["alg"], "ES256");
    assert_eq!(protected["cty"], "application/vnd.cncf.notary.payload.v1+json");
    assert_eq!(protected["crit"], serde_json::json!(["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]));
    assert_eq!(protected["io.cncf.notary.signingScheme"], "notary.x509");
    let payload: serde_json::Value = serde_json::from_slice(&jws_part(&env, "payload")).unwrap();
    assert_eq!(payload["targetArtifact"]["digest"], image.digest.as_str());
    assert_eq!(payload["targetArtifact"]["size"], image.size);
    for part in ["payload", "protected", "signature"] {
        assert!(!env[part].as_str().unwrap().contains(['=', '+', '/']), "{part} is not unpadded base64url");
    }
}

#[tokio::test]
async fn tampered_signature_fails_integrity() {
    let (env, image) = envelope_of(tags::TAMPERED).await;
    assert!(!jws_signature_ok(&env));
    let payload: serde_json::Value = serde_json::from_slice(&jws_part(&env, "payload")).unwrap();
    assert_ne!(payload["targetArtifact"]["digest"], image.digest.as_str());
}

#[tokio::test]
async fn expired_signature_is_past_its_expiry_with_a_valid_leaf() {
    let (env, _) = envelope_of(tags::EXPIRED).await;
    assert!(jws_signature_ok(&env));
    let protected: serde_json::Value = serde_json::from_slice(&jws_part(&env, "protected")).unwrap();
    let expiry = chrono::DateTime::parse_from_rfc3339(protected["io.cncf.notary.expiry"].as_str().unwrap()).unwrap();
    assert!(expiry < chrono::Utc::now());
    let leaf = STANDARD.decode(env["header"]["x5c"][0].as_str().unwrap()).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&leaf).unwrap();
    assert!(cert.validity().is_valid());
}

#[tokio::test]
async fn untrusted_signature_does_not_chain_to_the_demo_root() {
    let (env, _) = envelope_of(tags::UNTRUSTED).await;
    assert!(jws_signature_ok(&env));
    let protected: serde_json::Value = serde_json::from_slice(&jws_part(&env, "protected")).unwrap();
    assert_eq!(protected["alg"], "ES384");
    let demo_root = demo::keys::pem_to_der(demo::keys::ROOT_CA_PEM);
    let (_, root) = x509_parser::parse_x509_certificate(&demo_root).unwrap();
    for c in env["header"]["x5c"].as_array().unwrap() {
        let der = STANDARD.decode(c.as_str().unwrap()).unwrap();
        assert_ne!(der, demo_root);
        assert!(!signed_by(&der, &root), "untrusted chain cert is signed by the demo root");
    }
    // The same check accepts the trusted leaf, so the negative above means something.
    let (trusted, _) = envelope_of(tags::SIGNED).await;
    let leaf = STANDARD.decode(trusted["header"]["x5c"][0].as_str().unwrap()).unwrap();
    assert!(signed_by(&leaf, &root));
}

/// Whether `der`'s signature (ecdsa-with-SHA256) verifies with the P-384 key of `issuer`.
fn signed_by(der: &[u8], issuer: &x509_parser::certificate::X509Certificate<'_>) -> bool {
    use p384::ecdsa::signature::hazmat::PrehashVerifier as _;
    use sha2::Digest as _;
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    let Ok(vk) = p384::ecdsa::VerifyingKey::from_sec1_bytes(&issuer.public_key().subject_public_key.data) else {
        return false;
    };
    let Ok(sig) = p384::ecdsa::Signature::from_der(&cert.signature_value.data) else {
        return false;
    };
    let digest = sha2::Sha256::digest(cert.tbs_certificate.as_ref());
    cert.issuer() == issuer.subject() && vk.verify_prehash(&digest, &sig).is_ok()
}

#[tokio::test]
async fn export_round_trips_through_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    demo::export(&dir).unwrap();
    for (name, bytes) in &demo::files().0 {
        assert_eq!(&std::fs::read(dir.join("layout").join(name)).unwrap()[..], &bytes[..], "{name}");
    }
    let on_disk = LayoutSource::open_dir(&dir.join("layout")).unwrap();
    let mem = demo::source();
    for tag in tags::ALL {
        let a = on_disk.manifest("layout", tag).await.unwrap();
        let b = mem.manifest(tags::REPOSITORY, tag).await.unwrap();
        assert_eq!(a.descriptor.digest, b.descriptor.digest);
    }
    // The whole graph reads the same from disk as from memory.
    let digests = |g: &Graph| {
        let mut d: Vec<String> = g.nodes.iter().filter_map(|n| n.digest().map(ToString::to_string)).collect();
        d.sort();
        d
    };
    assert_eq!(digests(&walk(&on_disk).await), digests(&walk(&mem).await));
    let policy: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("notation/trustpolicy.oci.json")).unwrap()).unwrap();
    assert_eq!(policy["trustPolicies"][0]["trustStores"][0], "ca:demo");
    let pem = std::fs::read_to_string(dir.join("notation/truststore/x509/ca/demo/demo-root-ca.pem")).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    // A second export into the same, now non-empty, directory is refused with its path.
    let err = demo::export(&dir).unwrap_err();
    assert!(matches!(&err, sigscope::Error::Io { path, .. } if path == &dir.display().to_string()), "{err}");
    // So is a target that is a file, and an empty existing directory is fine.
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(demo::export(&file), Err(sigscope::Error::Io { .. })));
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    demo::export(&empty).unwrap();
}

#[test]
fn opened_demo_starts_at_the_repository() {
    let o = demo::opened();
    assert_eq!(o.source.name(), "demo");
    assert_eq!(o.roots, vec![NodeKind::Repository { name: "demo".into() }]);
}

/// Pinned so that an accidental change of the demo (or of serialisation) shows up in review;
/// regenerate these when the demo changes on purpose.
#[tokio::test]
async fn image_digests_are_pinned() {
    let s = demo::source();
    let pinned = [
        (tags::MULTIARCH, "sha256:07f0cca7ebcdafb473bb66aa9d5de7fcaca283fe0346dcc00771e540cbd57507"),
        (tags::SIGNED, "sha256:adf9e1414ab7278941cd00e1179a9eaaba490c3feeea64aad4567ae21af149c8"),
        (tags::UNSIGNED, "sha256:f83fbe2db5ab34aa617aa8fa9088fc2a42f0104fb3fb9cf9706732f6e942d1d6"),
        (tags::TAMPERED, "sha256:85b2fcff6680a9446867bf75f370332e0771200bcea5f1b6a7d6fb2ee3489d43"),
        (tags::EXPIRED, "sha256:2881a652e2bf5b611a8180e556d2ce8dca4f31314fb834de3eaf21c8e0d93bb7"),
        (tags::UNTRUSTED, "sha256:2bf5ad71c534cc0d7118f61fe67f799696b6248397a2b90b4391594fe42008f5"),
    ];
    for (tag, digest) in pinned {
        assert_eq!(s.manifest(tags::REPOSITORY, tag).await.unwrap().descriptor.digest, digest, "{tag}");
    }
    assert_eq!(
        sigscope::oci::sha256_digest(&demo::files().0["index.json"]),
        "sha256:0d4796e3756683e32948b1a5dc7515d1d11027cdc637a2eb9ca414b3dea80621"
    );
}

/// Every Notation signature manifest has the shape notation-go accepts, and its thumbprint
/// annotation matches the chain inside its envelope.
#[tokio::test]
async fn notation_signature_manifests_are_well_formed() {
    use sha2::Digest as _;
    let source = demo::source();
    let g = walk(&source).await;
    let mut count = 0;
    for n in &g.nodes {
        let Some(a) = n.artifact().filter(|a| a.kind == ArtifactKind::NotationSignature) else {
            continue;
        };
        count += 1;
        assert!(a.manifest.is_some(), "loaded");
        let fetched = source.manifest(&a.repository, &a.descriptor.digest.to_string()).await.unwrap();
        let m = &fetched.manifest;
        assert_eq!(m.artifact_type.as_deref(), Some("application/vnd.cncf.notary.signature"));
        let config = m.config.as_ref().unwrap();
        assert_eq!((config.media_type.as_str(), config.size), ("application/vnd.oci.empty.v1+json", 2));
        assert_eq!(m.layers.len(), 1);
        let subject = m.subject.as_ref().unwrap();
        assert_eq!(
            Some(subject.digest.as_str()),
            g.node(n.parent.unwrap()).digest().map(ToString::to_string).as_deref()
        );
        let prints: Vec<String> =
            serde_json::from_str(&m.annotations["io.cncf.notary.x509chain.thumbprint#S256"]).unwrap();
        let raw = source.blob(tags::REPOSITORY, &m.layers[0], 1 << 20).await.unwrap();
        let chain: Vec<Vec<u8>> = if m.layers[0].media_type == "application/cose" {
            use coset::TaggedCborSerializable as _;
            let s = coset::CoseSign1::from_tagged_slice(&raw).unwrap();
            let x5chain = s.unprotected.rest.iter().find(|(l, _)| *l == coset::Label::Int(33)).unwrap();
            x5chain.1.as_array().unwrap().iter().map(|c| c.as_bytes().unwrap().clone()).collect()
        } else {
            let env: serde_json::Value = serde_json::from_slice(&raw).unwrap();
            let x5c = env["header"]["x5c"].as_array().unwrap();
            x5c.iter().map(|c| STANDARD.decode(c.as_str().unwrap()).unwrap()).collect()
        };
        let expected: Vec<String> = chain.iter().map(|c| hex::encode(sha2::Sha256::digest(c))).collect();
        assert_eq!(prints, expected);
        assert_eq!(m.annotations["org.opencontainers.image.created"], "2025-01-15T10:00:00Z");
    }
    assert_eq!(count, 9, "index + 2 platform + JWS + COSE + SBOM + tampered + expired + untrusted");
}
