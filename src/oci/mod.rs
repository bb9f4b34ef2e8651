//! OCI wire types: descriptors, manifests and indexes, media types, digests.

pub mod reference;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256, Sha512};

use crate::error::{Error, Result};

pub mod media {
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const OCI_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";
    pub const ORAS_ARTIFACT_MANIFEST: &str = "application/vnd.cncf.oras.artifact.manifest.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

    pub const NOTATION_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
    pub const NOTATION_SIGNATURE_LEGACY: &str = "application/vnd.cncf.notary.v2.signature";
    pub const NOTATION_PAYLOAD: &str = "application/vnd.cncf.notary.payload.v1+json";
    pub const JWS: &str = "application/jose+json";
    pub const COSE: &str = "application/cose";

    pub const SIGSTORE_BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
    pub const SIGSTORE_BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
    pub const COSIGN_SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
    pub const COSIGN_ARTIFACT_SIG: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
    pub const DSSE: &str = "application/vnd.dsse.envelope.v1+json";
    pub const IN_TOTO: &str = "application/vnd.in-toto+json";

    pub const SPDX_JSON: &str = "application/spdx+json";
    pub const SPDX_TEXT_JSON: &str = "text/spdx+json";
    pub const SPDX_TEXT: &str = "text/spdx";
    pub const CYCLONEDX_JSON: &str = "application/vnd.cyclonedx+json";
    pub const CYCLONEDX_XML: &str = "application/vnd.cyclonedx+xml";
    pub const SYFT_JSON: &str = "application/vnd.syft+json";
    pub const SARIF: &str = "application/sarif+json";

    /// Every manifest type we ask for: distribution 2.8 answers 404 to OCI content without it.
    pub const MANIFEST_ACCEPT: &[&str] =
        &[OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST, OCI_ARTIFACT_MANIFEST, ORAS_ARTIFACT_MANIFEST];

    pub fn is_index(media_type: &str) -> bool {
        media_type == OCI_INDEX || media_type == DOCKER_LIST
    }

    pub fn is_manifest(media_type: &str) -> bool {
        MANIFEST_ACCEPT.contains(&media_type)
    }
}

pub mod annotations {
    pub const CREATED: &str = "org.opencontainers.image.created";
    pub const TITLE: &str = "org.opencontainers.image.title";
    pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
    pub const NOTATION_THUMBPRINT: &str = "io.cncf.notary.x509chain.thumbprint#S256";
    pub const COSIGN_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
    pub const COSIGN_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
    /// The signing certificate's chain (PEM, leaf's issuer first, root last).
    pub const COSIGN_CHAIN: &str = "dev.sigstore.cosign/chain";
    /// The Rekor bundle (SET) cosign attaches to a signature layer.
    pub const COSIGN_BUNDLE: &str = "dev.sigstore.cosign/bundle";
    pub const PREDICATE_TYPE: &str = "predicateType";
    pub const BUILDKIT_REFERENCE_TYPE: &str = "vnd.docker.reference.type";
}

/// Largest manifest we accept; the same limit distribution and containerd use.
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(rename = "os.version", default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Boxed: few descriptors have one (index entries), and inline it took 96 of the bytes
    /// every graph node holds. Serde sees through the box, so the JSON is the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Box<Platform>>,
}

impl Descriptor {
    pub fn new(media_type: &str, bytes: &[u8]) -> Self {
        Descriptor {
            media_type: media_type.to_string(),
            digest: sha256_digest(bytes),
            size: bytes.len() as u64,
            ..Default::default()
        }
    }
}

/// Image manifest and image index in one shape, so a referrer that is an index (it may carry
/// `subject`) and legacy artifact manifests (`blobs`) are read the same way.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    #[serde(default)]
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| Error::malformed("manifest JSON", e))?;
        for d in m.all_descriptors() {
            check_digest_syntax(&d.digest)?;
        }
        Ok(m)
    }

    pub fn is_index(&self) -> bool {
        match &self.media_type {
            Some(mt) => media::is_index(mt),
            None => self.config.is_none() && !self.manifests.is_empty(),
        }
    }

    /// Layers, or `blobs` for the pre-GA artifact manifests.
    pub fn layers(&self) -> &[Descriptor] {
        if self.layers.is_empty() { &self.blobs } else { &self.layers }
    }

    /// The artifact type as the referrers API reports it: `artifactType`, else config mediaType.
    pub fn effective_artifact_type(&self) -> Option<&str> {
        self.artifact_type.as_deref().or_else(|| self.config.as_ref().map(|c| c.media_type.as_str()))
    }

    fn all_descriptors(&self) -> impl Iterator<Item = &Descriptor> {
        self.config.iter().chain(&self.layers).chain(&self.blobs).chain(&self.manifests).chain(&self.subject)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("manifest serialises")
    }
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// `sha256:<64 lower hex>` or `sha512:<128 lower hex>`; anything else is refused before it
/// reaches a URL or a file path.
pub fn check_digest_syntax(digest: &str) -> Result<()> {
    let ok = match digest.split_once(':') {
        Some(("sha256", hex)) => hex.len() == 64 && is_lower_hex(hex),
        Some(("sha512", hex)) => hex.len() == 128 && is_lower_hex(hex),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::malformed(
            "digest",
            format!("{:?} is not a sha256 or sha512 digest", crate::sanitize::clip(digest, 100)),
        ))
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks content against the digest it was asked for, before anything uses it.
pub fn verify_digest(what: &str, bytes: &[u8], expected: &str) -> Result<()> {
    check_digest_syntax(expected)?;
    let actual = if expected.starts_with("sha512:") {
        format!("sha512:{}", hex::encode(Sha512::digest(bytes)))
    } else {
        sha256_digest(bytes)
    };
    if actual == expected {
        Ok(())
    } else {
        Err(Error::Integrity { what: what.to_string(), expected: expected.to_string(), actual })
    }
}

/// `sha256:abc…` → `sha256-abc…`: the tag of the referrers tag schema, and the stem of cosign tags.
pub fn digest_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

/// Short form for display: `sha256:0123456789ab`. Any text that prints as a digest, so a
/// graph node's binary digest ([`crate::graph::NodeDigest`]) is shortened as its text is.
pub fn short_digest<D: std::fmt::Display + ?Sized>(digest: &D) -> String {
    let digest = digest.to_string();
    match digest.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", &hex[..hex.len().min(12)]),
        None => digest.chars().take(19).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_checks() {
        let d = sha256_digest(b"hello");
        assert!(verify_digest("x", b"hello", &d).is_ok());
        assert!(matches!(verify_digest("x", b"hellO", &d), Err(Error::Integrity { .. })));
        assert!(check_digest_syntax("sha256:../../etc/passwd").is_err());
        assert!(check_digest_syntax(&d.to_uppercase()).is_err());
        assert_eq!(digest_tag(&d), d.replace(':', "-"));
    }

    #[test]
    fn manifest_kinds() {
        let idx = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        assert!(Manifest::parse(idx).unwrap().is_index());
        let bad = br#"{"schemaVersion":2,"layers":[{"mediaType":"x","digest":"md5:00","size":1}]}"#;
        assert!(Manifest::parse(bad).is_err());
    }
}
