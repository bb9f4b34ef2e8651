//! What the demo holds: which images, which referrers, signed by whom, when.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::builder::{LayoutBuilder, created};
use super::content;
use super::keys::{self, Identity};
use super::tags;
use super::tarball;
use crate::oci::{Descriptor, Manifest, Platform, annotations, digest_tag, media};
use crate::sign::{self, Attrs, cose, jws};
use crate::source::layout::MemFiles;

/// Fixed times, so rebuilding gives the same bytes.
const IMAGES_CREATED: &str = "2025-01-15T09:00:00Z";
const ARTIFACTS_CREATED: &str = "2025-01-15T09:30:00Z";
const SIGNED_AT: &str = "2025-01-15T10:00:00Z";
const EXPIRES_AT: &str = "2035-01-15T10:00:00Z";
/// In the past, while the leaf stays valid until 2044: only the signature's expiry fails.
pub const EXPIRED_AT: &str = "2025-06-01T00:00:00Z";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("fixed time").with_timezone(&Utc)
}

enum Envelope {
    Jws,
    Cose,
}

struct Demo {
    b: LayoutBuilder,
    signer: Identity,
}

impl Demo {
    /// A small single-layer linux image; `name` makes its content, and so its digest, unique.
    fn image(&mut self, name: &str, arch: &str) -> Descriptor {
        let motd = format!("sigscope demo image {name} ({arch})\n");
        let os_release = "NAME=\"sigscope demo\"\nID=sigscope-demo\nVERSION_ID=1.0\n";
        let tar = tarball::tar(
            &[("etc/motd", motd.as_bytes()), ("etc/os-release", os_release.as_bytes())],
            t(IMAGES_CREATED).timestamp() as u64,
        );
        let diff_id = crate::oci::sha256_digest(&tar);
        let layer = self.b.blob(media::OCI_LAYER_TAR_GZIP, tarball::gzip(&tar));
        let config = json!({
            "created": IMAGES_CREATED,
            "architecture": arch,
            "os": "linux",
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["/bin/cat", "/etc/motd"],
                "Labels": {"org.opencontainers.image.title": name},
            },
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": IMAGES_CREATED, "created_by": "sigscope demo generator"}],
        });
        let config = self.b.blob(media::OCI_CONFIG, serde_json::to_vec(&config).expect("config serialises"));
        let m = Manifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.into()),
            config: Some(config),
            layers: vec![layer],
            annotations: created(
                IMAGES_CREATED,
                &[
                    (annotations::TITLE, name),
                    ("org.opencontainers.image.source", content::SOURCE_REPO),
                    ("org.opencontainers.image.revision", content::SOURCE_COMMIT),
                ],
            ),
            ..Default::default()
        };
        self.b.manifest(&m)
    }

    /// An OCI 1.1 artifact manifest: empty config, one layer, `subject`, listed untagged.
    fn referrer(
        &mut self,
        subject: &Descriptor,
        artifact_type: &str,
        layer: Descriptor,
        annotations: std::collections::BTreeMap<String, String>,
    ) -> Descriptor {
        let config = self.b.blob(media::OCI_EMPTY, b"{}".to_vec());
        let m = Manifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.into()),
            artifact_type: Some(artifact_type.into()),
            config: Some(config),
            layers: vec![layer],
            subject: Some(bare(subject)),
            annotations,
            ..Default::default()
        };
        let d = self.b.manifest(&m);
        self.b.list(&d);
        d
    }

    fn notation(&mut self, subject: &Descriptor, env: Envelope, id: &Identity, attrs: Attrs) -> Descriptor {
        self.notation_with(subject, env, id, attrs, |e| e)
    }

    /// A Notation signature; `alter` may change the envelope after signing.
    fn notation_with(
        &mut self,
        subject: &Descriptor,
        env: Envelope,
        id: &Identity,
        attrs: Attrs,
        alter: impl FnOnce(Vec<u8>) -> Vec<u8>,
    ) -> Descriptor {
        let payload = sign::payload(subject);
        let (mt, envelope) = match env {
            Envelope::Jws => (media::JWS, jws::envelope(id, &payload, &attrs)),
            Envelope::Cose => (media::COSE, cose::envelope(id, &payload, &attrs)),
        };
        let layer = self.b.blob(mt, alter(envelope));
        let thumbprints = serde_json::to_string(&id.thumbprints()).expect("strings serialise");
        let signed_at = attrs.signing_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let ann = created(&signed_at, &[(annotations::NOTATION_THUMBPRINT, &thumbprints)]);
        self.referrer(subject, media::NOTATION_SIGNATURE, layer, ann)
    }

    fn valid(&self) -> Attrs {
        Attrs { signing_time: t(SIGNED_AT), expiry: Some(t(EXPIRES_AT)), extended: &[], signing_agent: SIGNING_AGENT }
    }

    /// cosign's legacy tag scheme: a `sha256-<hex>.sig` image manifest whose layer is the
    /// simple-signing payload, the signature in a layer annotation.
    fn cosign_sig(&mut self, image: &Descriptor) {
        let payload = content::simple_signing(tags::REPOSITORY, &image.digest);
        let sig = STANDARD.encode(self.signer.key.sign_der(&payload));
        let mut layer = self.b.blob(media::COSIGN_SIMPLESIGNING, payload);
        layer.annotations.insert(annotations::COSIGN_SIGNATURE.into(), sig);
        layer.annotations.insert(annotations::COSIGN_CERTIFICATE.into(), self.signer.leaf_pem());
        // cosign's config: an image config whose only diff_id is the payload's digest.
        let config = json!({
            "architecture": "", "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}],
            "os": "", "rootfs": {"type": "layers", "diff_ids": [layer.digest]}, "config": {},
        });
        let config = self.b.blob(media::OCI_CONFIG, serde_json::to_vec(&config).expect("config serialises"));
        let m = Manifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.into()),
            config: Some(config),
            layers: vec![layer],
            annotations: created(SIGNED_AT, &[]),
            ..Default::default()
        };
        let d = self.b.manifest(&m);
        self.b.tag(&d, &format!("{}.sig", digest_tag(&image.digest)));
    }

    fn dsse_provenance(&mut self, image: &Descriptor) -> Descriptor {
        let statement = content::slsa_v1(&image.digest, "2025-01-15T08:50:00Z", IMAGES_CREATED);
        let sig = self.signer.key.sign_der(&content::pae(media::IN_TOTO, &statement));
        let env = json!({
            "payloadType": media::IN_TOTO,
            "payload": STANDARD.encode(&statement),
            "signatures": [{"keyid": "", "sig": STANDARD.encode(sig)}],
        });
        let mut layer = self.b.blob(media::DSSE, serde_json::to_vec(&env).expect("envelope serialises"));
        layer.annotations.insert("in-toto.io/predicate-type".into(), "https://slsa.dev/provenance/v1".into());
        let ann = created(ARTIFACTS_CREATED, &[("in-toto.io/predicate-type", "https://slsa.dev/provenance/v1")]);
        self.referrer(image, media::IN_TOTO, layer, ann)
    }
}

/// A descriptor reduced to what `subject` and payloads carry.
fn bare(d: &Descriptor) -> Descriptor {
    Descriptor { media_type: d.media_type.clone(), digest: d.digest.clone(), size: d.size, ..Default::default() }
}

pub fn build() -> MemFiles {
    let mut demo = Demo { b: LayoutBuilder::default(), signer: keys::demo_signer() };
    let signer = demo.signer.clone();
    let valid = demo.valid();

    // Multi-arch index: the index and each platform manifest signed.
    let mut platforms = Vec::new();
    for arch in ["amd64", "arm64"] {
        let mut d = demo.image("multiarch", arch);
        demo.notation(&d, Envelope::Jws, &signer, valid);
        d.platform = Some(Box::new(Platform { architecture: arch.into(), os: "linux".into(), ..Default::default() }));
        platforms.push(d);
    }
    let index = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_INDEX.into()),
        manifests: platforms,
        annotations: created(IMAGES_CREATED, &[(annotations::TITLE, "multiarch")]),
        ..Default::default()
    };
    let index = demo.b.manifest(&index);
    demo.b.tag(&index, tags::MULTIARCH);
    // `notation sign` on a multi-arch tag signs the index itself.
    demo.notation(&index, Envelope::Jws, &signer, valid);

    // The fully dressed image.
    let signed = demo.image("signed", "amd64");
    demo.b.tag(&signed, tags::SIGNED);
    demo.notation(&signed, Envelope::Jws, &signer, valid);
    demo.notation(&signed, Envelope::Cose, &signer, valid);
    let spdx = demo.b.blob(media::SPDX_JSON, content::spdx(ARTIFACTS_CREATED, &signed.digest));
    let spdx = demo.referrer(&signed, media::SPDX_JSON, spdx, created(ARTIFACTS_CREATED, &[]));
    demo.notation(&spdx, Envelope::Jws, &signer, valid);
    let cdx = demo.b.blob(media::CYCLONEDX_JSON, content::cyclonedx(ARTIFACTS_CREATED, &signed.digest));
    demo.referrer(&signed, media::CYCLONEDX_JSON, cdx, created(ARTIFACTS_CREATED, &[]));
    demo.dsse_provenance(&signed);
    demo.cosign_sig(&signed);

    let unsigned = demo.image("unsigned", "amd64");
    demo.b.tag(&unsigned, tags::UNSIGNED);

    // Signed, then the payload re-pointed at another image: integrity must fail.
    let tampered = demo.image("tampered", "amd64");
    demo.b.tag(&tampered, tags::TAMPERED);
    let forged = sign::payload(&unsigned);
    demo.notation_with(&tampered, Envelope::Jws, &signer, valid, |env| tamper_payload(&env, &forged));

    let expired = demo.image("expired", "amd64");
    demo.b.tag(&expired, tags::EXPIRED);
    let attrs =
        Attrs { signing_time: t(SIGNED_AT), expiry: Some(t(EXPIRED_AT)), extended: &[], signing_agent: SIGNING_AGENT };
    demo.notation(&expired, Envelope::Jws, &signer, attrs);

    let untrusted = demo.image("untrusted", "amd64");
    demo.b.tag(&untrusted, tags::UNTRUSTED);
    demo.notation(&untrusted, Envelope::Jws, &keys::untrusted_signer(), valid);

    demo.b.finish()
}

/// What the demo's signatures say made them.
const SIGNING_AGENT: &str = "sigscope-demo/0.1";

/// Replaces the payload of a signed envelope and keeps the old signature: the integrity check
/// of a verifier must then fail.
pub fn tamper_payload(envelope: &[u8], new_payload: &[u8]) -> Vec<u8> {
    let mut env: serde_json::Value = serde_json::from_slice(envelope).expect("our own envelope");
    env["payload"] = serde_json::Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(new_payload));
    serde_json::to_vec(&env).expect("envelope serialises")
}
