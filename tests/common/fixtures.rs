//! A supply chain pushed through `sigscope::source::push`: an image, a two-platform index, a
//! Notation-like signature, an SPDX SBOM and a signature of the SBOM (all referrers with
//! `subject`), and a cosign `sha256-<hex>.sig` tag manifest.

use bytes::Bytes;
use serde_json::json;
use sigscope::oci::{Descriptor, digest_tag, media};
use sigscope::source::push::{push_blob, push_manifest, push_referrer};
use sigscope::source::registry::RegistryClient;

pub const CREATED: &str = "2026-01-01T00:00:00Z";

#[derive(Debug, Clone)]
pub struct Fixture {
    pub repository: String,
    /// Tagged `v1`.
    pub image: Descriptor,
    pub config: Descriptor,
    pub layer: Descriptor,
    /// Tagged `multi`.
    pub index: Descriptor,
    /// linux/amd64 and linux/arm64, in index order.
    pub platforms: Vec<Descriptor>,
    pub signature: Descriptor,
    pub sbom: Descriptor,
    pub sbom_signature: Descriptor,
    /// Tagged `sha256-<hex of image>.sig`.
    pub cosign: Descriptor,
    pub cosign_tag: String,
    /// Whether the registry indexed referrers itself (answered `OCI-Subject`).
    pub native_referrers: bool,
}

fn desc_json(d: &Descriptor) -> serde_json::Value {
    json!({"mediaType": d.media_type, "digest": d.digest, "size": d.size})
}

async fn blob(c: &RegistryClient, repo: &str, mt: &str, bytes: &[u8]) -> Descriptor {
    push_blob(c, repo, mt, Bytes::copy_from_slice(bytes)).await.expect("push blob")
}

/// A small image: one config, one layer. Pushed under `tag`.
pub async fn push_image(c: &RegistryClient, repo: &str, tag: &str, arch: &str) -> (Descriptor, Descriptor, Descriptor) {
    let config = blob(
        c,
        repo,
        media::OCI_CONFIG,
        json!({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
            .to_string()
            .as_bytes(),
    )
    .await;
    let layer = blob(c, repo, media::OCI_LAYER_TAR_GZIP, format!("layer for {repo}:{tag} ({arch})").as_bytes()).await;
    let m = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": desc_json(&config),
        "layers": [desc_json(&layer)],
    });
    let bytes = Bytes::from(serde_json::to_vec(&m).unwrap());
    let pushed = push_manifest(c, repo, tag, bytes, media::OCI_MANIFEST).await.expect("push image");
    (pushed.descriptor, config, layer)
}

async fn artifact(
    c: &RegistryClient,
    repo: &str,
    artifact_type: &str,
    layer_type: &str,
    payload: &[u8],
    subject: &Descriptor,
) -> (Descriptor, bool) {
    let empty = blob(c, repo, media::OCI_EMPTY, b"{}").await;
    let layer = blob(c, repo, layer_type, payload).await;
    let m = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": desc_json(&empty),
        "layers": [desc_json(&layer)],
        "subject": desc_json(subject),
        "annotations": {"org.opencontainers.image.created": CREATED},
    });
    let bytes = Bytes::from(serde_json::to_vec(&m).unwrap());
    let pushed = push_referrer(c, repo, bytes, media::OCI_MANIFEST).await.expect("push referrer");
    (pushed.descriptor, !pushed.updated_tag_schema)
}

pub async fn seed(c: &RegistryClient, repo: &str) -> Fixture {
    let (image, config, layer) = push_image(c, repo, "v1", "amd64").await;
    let (amd, _, _) = push_image(c, repo, "amd64", "amd64").await;
    let (arm, _, _) = push_image(c, repo, "arm64", "arm64").await;
    let mut platforms = Vec::new();
    for (d, arch) in [(&amd, "amd64"), (&arm, "arm64")] {
        let mut p = d.clone();
        p.annotations.clear();
        p.platform = Some(Box::new(sigscope::oci::Platform {
            architecture: arch.into(),
            os: "linux".into(),
            ..Default::default()
        }));
        platforms.push(p);
    }
    let idx = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": platforms.iter().map(|p| {
            let mut v = desc_json(p);
            v["platform"] = json!({"architecture": p.platform.as_ref().unwrap().architecture, "os": "linux"});
            v
        }).collect::<Vec<_>>(),
    });
    let index = push_manifest(c, repo, "multi", Bytes::from(serde_json::to_vec(&idx).unwrap()), media::OCI_INDEX)
        .await
        .expect("push index")
        .descriptor;

    let jws = br#"{"payload":"e30","protected":"eyJhbGciOiJFUzI1NiJ9","signature":"AAAA"}"#;
    let (signature, native) = artifact(c, repo, media::NOTATION_SIGNATURE, media::JWS, jws, &image).await;
    let spdx = br#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"fixture","packages":[]}"#;
    let (sbom, _) = artifact(c, repo, media::SPDX_JSON, media::SPDX_JSON, spdx, &image).await;
    let (sbom_signature, _) =
        artifact(c, repo, media::NOTATION_SIGNATURE, media::JWS, b"{\"sbom-sig\":1}", &sbom).await;

    let simple = json!({"critical": {"identity": {"docker-reference": repo}, "image": {"docker-manifest-digest": image.digest}, "type": "cosign container image signature"}, "optional": null});
    let simple_blob = blob(c, repo, media::COSIGN_SIMPLESIGNING, simple.to_string().as_bytes()).await;
    let cfg =
        blob(c, repo, media::OCI_CONFIG, br#"{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]}}"#)
            .await;
    let mut layer_json = desc_json(&simple_blob);
    layer_json["annotations"] = json!({"dev.cosignproject.cosign/signature": "MEUCIQDfake"});
    let cosign_m = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": desc_json(&cfg),
        "layers": [layer_json],
    });
    let cosign_tag = format!("{}.sig", digest_tag(&image.digest));
    let cosign =
        push_manifest(c, repo, &cosign_tag, Bytes::from(serde_json::to_vec(&cosign_m).unwrap()), media::OCI_MANIFEST)
            .await
            .expect("push cosign signature")
            .descriptor;

    Fixture {
        repository: repo.to_string(),
        image,
        config,
        layer,
        index,
        platforms,
        signature,
        sbom,
        sbom_signature,
        cosign,
        cosign_tag,
        native_referrers: native,
    }
}

/// Pushes the whole built-in demo into `repo`: blobs, then images and indexes, then the
/// referrers (through `push_referrer`, which keeps the tag schema for registries without
/// the API), then the demo's tags. Returns the tag → descriptor map.
pub async fn push_demo(c: &RegistryClient, repo: &str) -> std::collections::BTreeMap<String, Descriptor> {
    use sigscope::oci::Manifest;
    let files = &sigscope::demo::files().0;
    let mut manifests = Vec::new();
    for (path, bytes) in files {
        let Some(hex) = path.strip_prefix("blobs/sha256/") else { continue };
        let parsed = Manifest::parse(bytes).ok().filter(|m| {
            matches!(m.media_type.as_deref(), Some(media::OCI_MANIFEST | media::OCI_INDEX | media::DOCKER_MANIFEST))
        });
        match parsed {
            Some(m) => manifests.push((format!("sha256:{hex}"), bytes.clone(), m)),
            None => {
                push_blob(c, repo, "application/octet-stream", bytes.clone()).await.expect("push demo blob");
            }
        }
    }
    // Images before indexes (an index needs its children), referrers last.
    manifests.sort_by_key(|(d, _, m)| (m.subject.is_some(), m.is_index(), d.clone()));
    for (digest, bytes, m) in &manifests {
        let mt = m.media_type.clone().unwrap();
        if m.subject.is_some() {
            push_referrer(c, repo, bytes.clone(), &mt).await.expect("push demo referrer");
        } else {
            push_manifest(c, repo, digest, bytes.clone(), &mt).await.expect("push demo manifest");
        }
    }
    let index = Manifest::parse(&files["index.json"]).unwrap();
    let mut tags = std::collections::BTreeMap::new();
    for d in &index.manifests {
        let Some(tag) = d.annotations.get(sigscope::oci::annotations::REF_NAME) else { continue };
        let bytes = files[&format!("blobs/sha256/{}", d.digest.trim_start_matches("sha256:"))].clone();
        push_manifest(c, repo, tag, bytes, &d.media_type).await.expect("tag demo manifest");
        tags.insert(tag.clone(), d.clone());
    }
    tags
}
