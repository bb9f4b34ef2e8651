//! Seeds a registry for the discovery benchmark: IMAGES images spread over REPOS repositories,
//! each with REFERRERS referrers (a Notation-like signature, an SPDX SBOM, an in-toto statement,
//! cycling), pushed with sigscope's own push code (which keeps the tag-schema index up to date
//! on registries without the referrers API).
//!
//! usage: cargo run --release --example seed -- HOST [IMAGES=1000] [REFERRERS=3] [REPOS=50]

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::json;

use sigscope::oci::{Descriptor, media};
use sigscope::source::push::{push_blob, push_manifest, push_referrer};
use sigscope::source::registry::{RegistryClient, RegistryOptions};

const TYPES: [&str; 3] = [media::NOTATION_SIGNATURE, media::SPDX_JSON, media::IN_TOTO];

fn manifest_json(config: &Descriptor, layer: &Descriptor, extra: serde_json::Value) -> Bytes {
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": config.media_type, "digest": config.digest, "size": config.size},
        "layers": [{"mediaType": layer.media_type, "digest": layer.digest, "size": layer.size}],
    });
    if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
        m.extend(extra.clone());
    }
    Bytes::from(serde_json::to_vec(&m).expect("json"))
}

async fn seed_image(c: &RegistryClient, i: usize, repos: usize, referrers: usize) -> sigscope::Result<()> {
    let repo = format!("bench/r{:03}", i % repos);
    let config = push_blob(
        c,
        &repo,
        media::OCI_CONFIG,
        Bytes::from(format!(r#"{{"architecture":"amd64","os":"linux","config":{{"Labels":{{"i":"{i}"}}}}}}"#)),
    )
    .await?;
    let layer = push_blob(c, &repo, media::OCI_LAYER_TAR_GZIP, Bytes::from(format!("layer {i}"))).await?;
    let body = manifest_json(
        &config,
        &layer,
        json!({"annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"}}),
    );
    let image = push_manifest(c, &repo, &format!("t{i:04}"), body, media::OCI_MANIFEST).await?.descriptor;
    let empty = push_blob(c, &repo, media::OCI_EMPTY, Bytes::from_static(b"{}")).await?;
    for r in 0..referrers {
        let at = TYPES[r % TYPES.len()];
        let content = push_blob(c, &repo, at, Bytes::from(format!("referrer {r} of image {i}"))).await?;
        let body = manifest_json(
            &empty,
            &content,
            json!({
                "artifactType": at,
                "subject": {"mediaType": image.media_type, "digest": image.digest, "size": image.size},
                "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
            }),
        );
        push_referrer(c, &repo, body, media::OCI_MANIFEST).await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(host) = args.first() else {
        eprintln!("usage: seed HOST [IMAGES] [REFERRERS] [REPOS]");
        std::process::exit(2);
    };
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (images, referrers, repos) = (num(1, 1000), num(2, 3), num(3, 50));
    let opts = RegistryOptions { concurrency: 32, ..RegistryOptions::default() };
    let client = Arc::new(RegistryClient::new(host, opts).unwrap_or_else(|e| {
        eprintln!("seed: {e}");
        std::process::exit(2)
    }));
    let started = std::time::Instant::now();
    let results: Vec<_> = futures::stream::iter(0..images)
        .map(|i| {
            let c = client.clone();
            async move { seed_image(&c, i, repos, referrers).await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let failed: Vec<_> = results.into_iter().filter_map(Result::err).collect();
    if let Some(e) = failed.first() {
        eprintln!("seed: {} images failed, first: {e}", failed.len());
        std::process::exit(3);
    }
    eprintln!("seeded {images} images x {referrers} referrers in {repos} repos on {host} in {:.1?}", started.elapsed());
}
