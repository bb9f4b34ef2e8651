//! The OCI 1.1 signature manifest that carries a Notation envelope as a referrer of the
//! signed manifest.
//!
//! Written byte for byte as notation-go does it (`oras.PackManifest` with
//! `PackManifestVersion1_1`): Go's field order (schemaVersion, mediaType, artifactType, config,
//! layers, subject, annotations), the empty config descriptor with its inline `data`, the subject
//! reduced to mediaType, digest and size (what notation's `Resolve` gives), and the annotations
//! of notation-go's `generateAnnotations`: the chain's thumbprints as a JSON array string of
//! lower-case hex, and the signing time in RFC 3339 seconds.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::oci::{Descriptor, annotations, media};
use crate::source::NewReferrer;

/// The empty JSON blob (`{}`) that OCI 1.1 artifacts use as their config.
pub const EMPTY_CONFIG: &[u8] = b"{}";

/// A descriptor as Go's `ocispec.Descriptor` marshals it, for the fields a signature manifest uses.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireDescriptor<'a> {
    media_type: &'a str,
    digest: &'a str,
    size: u64,
    /// Only the config: oras inlines the empty blob (`"e30="`, base64 of `{}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
}

impl<'a> WireDescriptor<'a> {
    fn plain(d: &'a Descriptor) -> Self {
        WireDescriptor { media_type: &d.media_type, digest: &d.digest, size: d.size, data: None }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireManifest<'a> {
    schema_version: u32,
    media_type: &'a str,
    artifact_type: &'a str,
    config: WireDescriptor<'a>,
    layers: [WireDescriptor<'a>; 1],
    subject: WireDescriptor<'a>,
    annotations: &'a BTreeMap<String, String>,
}

/// Lower-case hex SHA-256 of each DER certificate, in the order given (leaf first).
pub fn thumbprints(chain: &[Vec<u8>]) -> Vec<String> {
    chain.iter().map(|der| hex::encode(Sha256::digest(der))).collect()
}

/// The annotations [`signature_manifest`] writes itself: extra annotations may not replace them.
pub const RESERVED_ANNOTATIONS: &[&str] = &[annotations::NOTATION_THUMBPRINT, annotations::CREATED];

/// The signature manifest for `envelope` (JWS or COSE) over `subject`, ready to store with
/// [`crate::source::Source::push_referrer`]: its blobs are the empty config and the envelope.
///
/// `chain` is the signing chain in DER, leaf first, as the envelope carries it; `created` is the
/// signing time (notation writes that, not the time of the push).
pub fn signature_manifest(
    subject: &Descriptor,
    envelope: Bytes,
    envelope_media_type: &str,
    chain: &[Vec<u8>],
    created: DateTime<Utc>,
) -> Result<NewReferrer> {
    signature_manifest_with(subject, envelope, envelope_media_type, chain, created, &BTreeMap::new())
}

/// [`signature_manifest`] with `extra` annotations beside its own (AWS Signer's metadata, as
/// its Notation plugin stores it); one that would replace an annotation of its own is refused.
pub fn signature_manifest_with(
    subject: &Descriptor,
    envelope: Bytes,
    envelope_media_type: &str,
    chain: &[Vec<u8>],
    created: DateTime<Utc>,
    extra: &BTreeMap<String, String>,
) -> Result<NewReferrer> {
    if let Some(k) = extra.keys().find(|k| RESERVED_ANNOTATIONS.contains(&k.as_str())) {
        return Err(Error::Usage(format!("the annotation {k} of a signature manifest is written by sigscope")));
    }
    if envelope_media_type != media::JWS && envelope_media_type != media::COSE {
        return Err(Error::Usage(format!(
            "a Notation signature envelope is {} or {}, not {envelope_media_type:?}",
            media::JWS,
            media::COSE
        )));
    }
    if chain.is_empty() {
        return Err(Error::Usage("a signature manifest needs the signing certificate chain".into()));
    }
    crate::oci::check_digest_syntax(&subject.digest)?;
    let subject = Descriptor {
        media_type: subject.media_type.clone(),
        digest: subject.digest.clone(),
        size: subject.size,
        ..Default::default()
    };
    let config = Descriptor::new(media::OCI_EMPTY, EMPTY_CONFIG);
    let layer = Descriptor::new(envelope_media_type, &envelope);
    let thumbprints = serde_json::to_string(&thumbprints(chain)).expect("strings serialise");
    let mut annotations = extra.clone();
    annotations.extend([
        (annotations::NOTATION_THUMBPRINT.to_string(), thumbprints),
        (annotations::CREATED.to_string(), created.to_rfc3339_opts(SecondsFormat::Secs, true)),
    ]);
    let wire = WireManifest {
        schema_version: 2,
        media_type: media::OCI_MANIFEST,
        artifact_type: media::NOTATION_SIGNATURE,
        config: WireDescriptor { data: Some("e30="), ..WireDescriptor::plain(&config) },
        layers: [WireDescriptor::plain(&layer)],
        subject: WireDescriptor::plain(&subject),
        annotations: &annotations,
    };
    let manifest = Bytes::from(serde_json::to_vec(&wire).expect("manifest serialises"));
    Ok(NewReferrer {
        blobs: vec![(config, Bytes::from_static(EMPTY_CONFIG)), (layer, envelope)],
        manifest,
        media_type: media::OCI_MANIFEST.to_string(),
        subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::Manifest;

    fn subject() -> Descriptor {
        Descriptor {
            media_type: media::OCI_MANIFEST.into(),
            digest: "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0".into(),
            size: 481,
            annotations: BTreeMap::from([(annotations::REF_NAME.into(), "v2".into())]),
            ..Default::default()
        }
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2023-03-14T08:10:02.5+00:00").unwrap().with_timezone(&Utc)
    }

    /// The bytes oras-go's PackManifest (v1.1) writes for notation, spelled out by hand from
    /// Go's struct order and `ocispec.DescriptorEmptyJSON`.
    #[test]
    fn bytes_as_notation_writes_them() {
        let envelope = Bytes::from_static(b"{\"payload\":\"e30\"}");
        let chain = vec![b"leaf".to_vec(), b"root".to_vec()];
        let r = signature_manifest(&subject(), envelope.clone(), media::JWS, &chain, at()).unwrap();
        let layer = crate::oci::sha256_digest(&envelope);
        let leaf = hex::encode(Sha256::digest(b"leaf"));
        let root = hex::encode(Sha256::digest(b"root"));
        let expected = format!(
            concat!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""artifactType":"application/vnd.cncf.notary.signature","#,
                r#""config":{{"mediaType":"application/vnd.oci.empty.v1+json","#,
                r#""digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="}},"#,
                r#""layers":[{{"mediaType":"application/jose+json","digest":"{layer}","size":{size}}}],"#,
                r#""subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""digest":"sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0","size":481}},"#,
                r#""annotations":{{"io.cncf.notary.x509chain.thumbprint#S256":"[\"{leaf}\",\"{root}\"]","#,
                r#""org.opencontainers.image.created":"2023-03-14T08:10:02Z"}}}}"#,
            ),
            layer = layer,
            size = envelope.len(),
            leaf = leaf,
            root = root,
        );
        assert_eq!(std::str::from_utf8(&r.manifest).unwrap(), expected);
        assert_eq!(r.media_type, media::OCI_MANIFEST);
        assert!(r.subject.annotations.is_empty(), "the subject is mediaType, digest and size only");
        assert_eq!(r.blobs.len(), 2);
        assert_eq!(&r.blobs[0].1[..], b"{}");
        assert_eq!(r.blobs[1].0.digest, layer);
        // What our own reader sees: the shape notation-go's signature filter accepts.
        let m = Manifest::parse(&r.manifest).unwrap();
        assert_eq!(m.effective_artifact_type(), Some(media::NOTATION_SIGNATURE));
        assert_eq!(m.config.as_ref().unwrap().media_type, media::OCI_EMPTY);
        assert_eq!(m.layers().len(), 1);
        let thumbs: Vec<String> = serde_json::from_str(&m.annotations[annotations::NOTATION_THUMBPRINT]).unwrap();
        assert_eq!(thumbs, [leaf, root]);
    }

    #[test]
    fn extra_annotations_sit_beside_ours_and_cannot_replace_them() {
        let chain = vec![b"leaf".to_vec()];
        let env = Bytes::from_static(b"{}");
        let extra = BTreeMap::from([("signingJobArn".to_string(), "arn:aws:signer:x".to_string())]);
        let r = signature_manifest_with(&subject(), env.clone(), media::JWS, &chain, at(), &extra).unwrap();
        let m = Manifest::parse(&r.manifest).unwrap();
        assert_eq!(m.annotations.len(), 3);
        assert_eq!(m.annotations["signingJobArn"], "arn:aws:signer:x");
        let plain = signature_manifest(&subject(), env.clone(), media::JWS, &chain, at()).unwrap();
        let none =
            signature_manifest_with(&subject(), env.clone(), media::JWS, &chain, at(), &BTreeMap::new()).unwrap();
        assert_eq!(plain.manifest, none.manifest);
        for k in RESERVED_ANNOTATIONS {
            let extra = BTreeMap::from([(k.to_string(), "x".to_string())]);
            assert!(signature_manifest_with(&subject(), env.clone(), media::JWS, &chain, at(), &extra).is_err());
        }
    }

    #[test]
    fn cose_and_refusals() {
        let chain = vec![b"leaf".to_vec()];
        let r = signature_manifest(&subject(), Bytes::from_static(b"\xd2"), media::COSE, &chain, at()).unwrap();
        assert_eq!(Manifest::parse(&r.manifest).unwrap().layers()[0].media_type, media::COSE);
        let e = signature_manifest(&subject(), Bytes::new(), "application/json", &chain, at()).unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e}");
        assert!(signature_manifest(&subject(), Bytes::new(), media::JWS, &[], at()).is_err());
        let mut bad = subject();
        bad.digest = "sha256:../../etc".into();
        assert!(signature_manifest(&bad, Bytes::new(), media::JWS, &chain, at()).is_err());
    }
}
