//! Decoders on every kind of demo artifact, on upstream vectors, and on garbage.

use std::collections::BTreeMap;

use sigscope::demo::{self, tags};
use sigscope::describe::describe;
use sigscope::graph::expand::{ExpandRequest, ExploreOptions, expand};
use sigscope::graph::{ArtifactKind, ArtifactNode, Graph, NodeKind};
use sigscope::inspect::{Details, Section, cosign, notation};
use sigscope::source::DEFAULT_PREVIEW_LIMIT;

async fn demo_graph(source: &dyn sigscope::source::Source) -> Graph {
    let mut g = Graph::new();
    let root = g.add_root(NodeKind::Repository { name: tags::REPOSITORY.into() });
    let mut queue = vec![root];
    while let Some(id) = queue.pop() {
        let req = ExpandRequest::for_node(&g, id);
        let r = expand(source, &req, &ExploreOptions::default()).await.map_err(|e| e.to_string());
        g.apply(id, r);
        queue.extend(g.node(id).children.iter().copied());
    }
    g
}

fn section<'a>(d: &'a Details, title: &str) -> &'a Section {
    d.sections.iter().find(|s| s.title == title).unwrap_or_else(|| panic!("no section {title:?} in {d:#?}"))
}

fn field<'a>(s: &'a Section, name: &str) -> &'a str {
    assert!(s.error.is_none(), "{}: {:?}", s.title, s.error);
    &s.fields.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no field {name:?} in {s:#?}")).value
}

/// The artifact reached from `tag`, then by following children of the given kinds.
fn find<'g>(g: &'g Graph, tag: &str, path: &[ArtifactKind]) -> Vec<&'g ArtifactNode> {
    let t = g.nodes.iter().position(|n| matches!(&n.kind, NodeKind::Tag { tag: t, .. } if t == tag)).unwrap();
    let mut ids = vec![g.node(t).children[0]];
    for kind in path {
        ids = ids
            .iter()
            .flat_map(|&i| g.node(i).children.iter().copied())
            .filter(|&c| g.node(c).artifact().unwrap().kind == *kind)
            .collect();
    }
    ids.into_iter().map(|i| g.node(i).artifact().unwrap()).collect()
}

#[tokio::test]
async fn describes_every_demo_artifact() {
    let source = demo::source();
    let g = demo_graph(&source).await;
    let d = |n: &ArtifactNode| {
        let n = n.clone();
        let s = &source;
        async move { describe(s, &n, DEFAULT_PREVIEW_LIMIT).await }
    };

    // Index and images.
    let index = d(find(&g, tags::MULTIARCH, &[])[0]).await;
    assert_eq!(field(section(&index, "Descriptor"), "kind"), "index");
    assert_eq!(field(section(&index, "Index"), "manifests"), "2");
    let signed_node = find(&g, tags::SIGNED, &[])[0];
    let image = d(signed_node).await;
    assert_eq!(field(section(&image, "Image"), "platform"), "linux/amd64");
    assert_eq!(field(section(&image, "Descriptor"), "created"), "2025-01-15T09:00:00Z");
    assert_eq!(field(section(&image, "Descriptor"), "found via"), "tag or digest");
    assert!(image.manifest.as_deref().unwrap().contains("\"schemaVersion\": 2"));

    // Notation JWS and COSE.
    let sigs = find(&g, tags::SIGNED, &[ArtifactKind::NotationSignature]);
    assert_eq!(sigs.len(), 2);
    let mut envelopes = Vec::new();
    for s in sigs {
        let det = d(s).await;
        let n = section(&det, notation::TITLE);
        envelopes.push(field(n, "envelope type").to_string());
        assert_eq!(field(n, "algorithm").trim_start_matches("ES256"), "");
        assert_eq!(field(n, "signing scheme"), "notary.x509");
        assert_eq!(field(n, "signing time"), "2025-01-15T10:00:00Z");
        assert_eq!(field(n, "expiry"), "2035-01-15T10:00:00Z");
        assert_eq!(field(n, "signing agent"), "sigscope-demo/0.1");
        assert_eq!(field(n, "content type"), "application/vnd.cncf.notary.payload.v1+json");
        assert_eq!(field(n, "timestamp countersignature"), "absent");
        assert_eq!(field(n, "critical headers"), "io.cncf.notary.signingScheme, io.cncf.notary.expiry");
        let p = section(&det, "Signed payload");
        assert_eq!(field(p, "targetArtifact digest"), signed_node.descriptor.digest);
        let chain = section(&det, "Certificate chain");
        let rows = &chain.table.as_ref().unwrap().rows;
        assert_eq!(rows.len(), 2);
        assert!(rows[0][0].contains("CN=sigscope demo signer"), "{rows:?}");
        assert!(rows[1][0].contains("CN=sigscope demo root CA"));
        assert_eq!(rows[0][2], "2024-01-01T00:00:00Z");
        assert_eq!(rows[0][3], "2044-01-01T00:00:00Z");
        assert_eq!(field(section(&det, "Descriptor"), "found via"), "referrer, via referrers API");
    }
    envelopes.sort();
    assert_eq!(envelopes, ["COSE_Sign1 (application/cose)", "JWS (application/jose+json)"]);

    // SPDX, its own signature, CycloneDX.
    let spdx = d(find(&g, tags::SIGNED, &[ArtifactKind::SpdxSbom])[0]).await;
    let s = section(&spdx, "SPDX SBOM");
    assert_eq!(field(s, "spdxVersion"), "SPDX-2.3");
    assert!(field(s, "creators").contains("Tool: sigscope-demo-0.1"));
    let rows = &s.table.as_ref().unwrap().rows;
    assert!(rows.len() >= 5);
    assert!(rows.contains(&vec![
        "musl".to_string(),
        "1.2.5-r0".into(),
        "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=3.20.3".into(),
        "MIT".into()
    ]));
    let sbom_sig = d(find(&g, tags::SIGNED, &[ArtifactKind::SpdxSbom, ArtifactKind::NotationSignature])[0]).await;
    assert_eq!(field(section(&sbom_sig, notation::TITLE), "envelope type"), "JWS (application/jose+json)");
    let cdx = d(find(&g, tags::SIGNED, &[ArtifactKind::CycloneDxSbom])[0]).await;
    let c = section(&cdx, "CycloneDX SBOM");
    assert_eq!(field(c, "specVersion"), "1.5");
    assert_eq!(field(c, "tools"), "sigscope-demo 0.1");
    assert!(
        c.table.as_ref().unwrap().rows.iter().any(|r| r[0] == "ca-certificates-bundle" && r[3] == "MPL-2.0 AND MIT")
    );

    // SLSA provenance in DSSE.
    let prov = d(find(&g, tags::SIGNED, &[ArtifactKind::InTotoAttestation])[0]).await;
    assert_eq!(
        field(section(&prov, "DSSE envelope (decoded, not verified)"), "payloadType"),
        "application/vnd.in-toto+json"
    );
    let st = section(&prov, "in-toto statement");
    assert_eq!(field(st, "predicateType"), "https://slsa.dev/provenance/v1");
    let subject_digest = &st.table.as_ref().unwrap().rows[0][1];
    assert_eq!(subject_digest, &signed_node.descriptor.digest);
    let slsa = section(&prov, "SLSA provenance v1");
    assert_eq!(field(slsa, "builder id"), "https://ci.example.com/demo/builders/release@v1");
    assert!(field(slsa, "source").starts_with("git+https://git.example.com/demo/hello@refs/heads/main gitCommit:7d3c"));

    // cosign .sig.
    let cos = d(find(&g, tags::SIGNED, &[ArtifactKind::CosignSignature])[0]).await;
    let cs = section(&cos, cosign::SIMPLE_TITLE);
    assert_eq!(field(cs, "docker-manifest-digest"), signed_node.descriptor.digest);
    assert_eq!(field(cs, "docker-reference"), "demo");
    assert!(field(cs, "signature").starts_with("present ("));
    assert!(section(&cos, "Certificate").table.as_ref().unwrap().rows[0][0].contains("sigscope demo signer"));
    assert!(field(section(&cos, "Descriptor"), "found via").starts_with("referrer, via cosign tag sha256-"));

    // The special cases decode too; decoding says nothing about validity.
    let expired = d(find(&g, tags::EXPIRED, &[ArtifactKind::NotationSignature])[0]).await;
    assert_eq!(field(section(&expired, notation::TITLE), "expiry"), demo::EXPIRED_AT);
    let untrusted = d(find(&g, tags::UNTRUSTED, &[ArtifactKind::NotationSignature])[0]).await;
    assert_eq!(field(section(&untrusted, notation::TITLE), "algorithm"), "ES384");
    let tampered = d(find(&g, tags::TAMPERED, &[ArtifactKind::NotationSignature])[0]).await;
    let unsigned = find(&g, tags::UNSIGNED, &[])[0];
    assert_eq!(field(section(&tampered, "Signed payload"), "targetArtifact digest"), unsigned.descriptor.digest);
}

#[tokio::test]
async fn unloaded_nodes_and_tiny_limits_give_section_errors() {
    let source = demo::source();
    let g = demo_graph(&source).await;
    let mut sig = find(&g, tags::SIGNED, &[ArtifactKind::SpdxSbom])[0].clone();
    sig.manifest = None; // describe fetches it
    let det = describe(&source, &sig, 16).await;
    assert!(section(&det, "SPDX SBOM").error.as_deref().unwrap().contains("limit"));
    assert!(det.manifest.is_some());
    let mut missing = sig.clone();
    missing.descriptor.digest = format!("sha256:{}", "0".repeat(64)).as_str().into();
    let det = describe(&source, &missing, 1 << 20).await;
    assert!(section(&det, "Manifest").error.is_some());
    assert_eq!(det.sections.len(), 3);
}

fn vector(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/vectors/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn notation_vectors() {
    let s = notation::decode("application/jose+json", &vector("notation/jws_signature.sig"));
    let n = &s[0];
    assert_eq!(field(n, "algorithm"), "PS256");
    assert_eq!(field(n, "signing time"), "2023-03-14T16:10:02+08:00");
    assert_eq!(field(n, "expiry"), "none");
    assert_eq!(
        field(&s[1], "targetArtifact digest"),
        "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0"
    );
    assert_eq!(field(&s[1], "targetArtifact size"), "481");
    assert!(s[2].table.as_ref().unwrap().rows[0][0].contains("CN=alpine"));

    let s = notation::decode("application/cose", &vector("notation/cose_signature.sig"));
    assert_eq!(field(&s[0], "envelope type"), "COSE_Sign1 (application/cose)");
    assert_eq!(field(&s[0], "signing scheme"), "notary.x509");
    assert_eq!(field(&s[0], "content type"), "application/vnd.cncf.notary.payload.v1+json");
    assert!(field(&s[0], "signing time").starts_with("20"));
    assert_eq!(
        field(&s[1], "targetArtifact digest"),
        "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0"
    );
    assert!(s[2].table.as_ref().unwrap().rows[0][0].contains("CN=alpine"));

    for (mt, f) in [("application/jose+json", "jwsWithTimestamp.sig"), ("application/cose", "coseWithTimestamp.sig")] {
        let s = notation::decode(mt, &vector(&format!("notation/{f}")));
        assert_eq!(field(&s[0], "timestamp countersignature"), "present", "{f}");
        assert_eq!(
            field(&s[1], "targetArtifact digest"),
            "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda"
        );
    }

    let s = notation::decode("application/jose+json", &vector("notation/ca_valid_sig_env.json"));
    assert_eq!(field(&s[0], "algorithm"), "PS384");
    assert_eq!(field(&s[0], "expiry"), "2120-11-09T07:00:00Z");
    assert_ne!(field(&s[0], "signing agent"), "absent", "the capital-S member name is accepted");

    let s = notation::decode("application/jose+json", &vector("notation/ca_invalid_sig_env.json"));
    assert!(s[1].error.as_deref().unwrap().contains("unpadded base64url"));
    let s = notation::decode("application/jose+json", &vector("notation/malformed.jws.sig"));
    assert!(s[0].error.is_some());
}

#[test]
fn cosign_vectors() {
    let payload = vector("cosign/simple-signing-ecdsa-p256.payload.json");
    let sig = String::from_utf8(vector("cosign/simple-signing-ecdsa-p256.signature.b64")).unwrap();
    let ann = BTreeMap::from([("dev.cosignproject.cosign/signature".to_string(), sig.trim().to_string())]);
    let s = cosign::simple_signing(&payload, &ann);
    assert_eq!(field(&s[0], "docker-reference"), "registry-testing.svc.lan/busybox");
    assert_eq!(
        field(&s[0], "docker-manifest-digest"),
        "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"
    );
    assert_eq!(field(&s[0], "type"), "cosign container image signature");
    assert!(field(&s[0], "signature").starts_with("present ("));
    assert_eq!(field(&s[0], "optional"), "none");

    let s = cosign::simple_signing(&vector("cosign/simple-signing-rsa.payload.json"), &BTreeMap::new());
    assert_eq!(field(&s[0], "optional: creator"), "OBS");

    let s = cosign::bundle(&vector("cosign/bundle-v0.3-oci-attestation-keyless.sigstore.json"));
    assert_eq!(field(&s[0], "media type"), "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert_eq!(field(&s[0], "content"), "DSSE envelope");
    assert_eq!(field(&s[0], "certificates"), "1");
    assert_eq!(field(&s[0], "predicate type"), "https://cosign.sigstore.dev/attestation/v1");
    let st = s.iter().find(|x| x.title == "in-toto statement").unwrap();
    assert_eq!(field(st, "predicateType"), "https://cosign.sigstore.dev/attestation/v1");
    assert!(st.table.as_ref().unwrap().rows[0][1].starts_with("sha256:732112270d7e"));
    assert_eq!(s.last().unwrap().title, "Certificate");

    let s = cosign::bundle(&vector("cosign/bundle-v0.3-managed-key.sigstore.json"));
    assert_eq!(field(&s[0], "content"), "message signature");
    assert_eq!(field(&s[0], "public key hint"), "TLMsSDfG3ajPsWge+z/vX5T/zluXnmvbkTkwLIV68Tk=");
    assert_eq!(field(&s[0], "transparency log entries"), "1");

    let s = cosign::bundle(&vector("cosign/bundle-v0.1-dsse-key.sigstore.json"));
    assert_eq!(field(&s[0], "media type"), "application/vnd.dev.sigstore.bundle+json;version=0.1");
    let st = s.iter().find(|x| x.title == "in-toto statement").unwrap();
    assert_eq!(field(st, "predicateType"), "https://github.com/npm/attestation/tree/main/specs/publish/v0.1");
}

/// Truncations and bit flips of every demo blob and vector, through every decoder.
#[test]
fn hostile_inputs_never_panic() {
    let mut inputs: Vec<Vec<u8>> = demo::files().0.values().map(|b| b.to_vec()).collect();
    for f in ["notation/jws_signature.sig", "notation/cose_signature.sig", "cosign/bundle-v0.1-dsse-key.sigstore.json"]
    {
        inputs.push(vector(f));
    }
    for input in inputs {
        let step = (input.len() / 64).max(1);
        let mut variants: Vec<Vec<u8>> = (0..input.len()).step_by(step).map(|n| input[..n].to_vec()).collect();
        for i in (0..input.len()).step_by(step) {
            let mut v = input.clone();
            v[i] ^= 0x5a;
            variants.push(v);
        }
        for v in variants {
            let _ = notation::decode("application/jose+json", &v);
            let _ = notation::decode("application/cose", &v);
            let _ = cosign::simple_signing(&v, &BTreeMap::new());
            let _ = cosign::bundle(&v);
            let _ = sigscope::inspect::intoto::decode(&v);
            let _ = sigscope::inspect::sbom::spdx(&v);
            let _ = sigscope::inspect::sbom::cyclonedx(&v);
        }
    }
}
