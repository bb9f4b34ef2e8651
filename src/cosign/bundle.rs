//! Sigstore bundles (v0.1–v0.3, cosign v3's default storage) checked with a static key, the way
//! a verifier without Rekor checks them: the bundle's DSSE envelope over the PAE of an in-toto
//! statement naming the image, or its message signature over a digest that is the image's.
//! Transparency-log entries and RFC 3161 timestamps in the bundle are counted, not checked
//! (Rekor is online; the caller says so). Bytes in, verdict out.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{CosignKey, DsseError};

/// The predicate type of cosign v3's image signatures: a statement with an empty predicate that
/// says only "this key signed this digest". Any other predicate type is an attestation.
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// Bundles larger than this are not read (the conformance bundles are under 10 KiB).
pub const MAX_BUNDLE_BYTES: u64 = 4 * 1024 * 1024;

/// What a bundle that verifies says.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleClaim {
    /// The bundle's `mediaType` (its version).
    pub media_type: String,
    pub content: BundleContent,
    /// Rekor entries carried (not checked offline).
    pub tlog_entries: usize,
    /// RFC 3161 timestamps carried (not checked).
    pub timestamps: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BundleContent {
    /// A DSSE envelope: the in-toto statement it signs.
    Dsse { predicate_type: String, statement: serde_json::Value },
    /// A signature over the image digest itself.
    MessageSignature,
}

impl BundleClaim {
    /// Whether the bundle is an image signature (as `cosign verify` counts them), not an
    /// attestation about the image.
    pub fn is_signature(&self) -> bool {
        match &self.content {
            BundleContent::MessageSignature => true,
            BundleContent::Dsse { predicate_type, .. } => predicate_type == COSIGN_SIGN_PREDICATE,
        }
    }
}

/// Verifies the bundle `bytes` with `key` for the manifest `digest` (`sha256:<hex>`).
pub fn verify(key: &CosignKey, bytes: &[u8], digest: &str) -> Result<BundleClaim, DsseError> {
    let malformed = |s: String| DsseError::Malformed(s);
    let bundle: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| malformed(format!("not a Sigstore bundle: not JSON ({e})")))?;
    let media_type = bundle["mediaType"].as_str().unwrap_or_default();
    if !media_type.starts_with(crate::oci::media::SIGSTORE_BUNDLE_PREFIX) {
        return Err(malformed(format!("not a Sigstore bundle: mediaType {media_type:?}")));
    }
    let material = &bundle["verificationMaterial"];
    if !material.is_object() {
        return Err(malformed("the bundle has no verificationMaterial".into()));
    }
    certificate_matches(key, material)?;
    let tlog_entries = material["tlogEntries"].as_array().map_or(0, Vec::len);
    let timestamps = material["timestampVerificationData"]["rfc3161Timestamps"].as_array().map_or(0, Vec::len);
    let content = match (bundle.get("dsseEnvelope"), bundle.get("messageSignature")) {
        (Some(env), None) => {
            let envelope = serde_json::to_vec(env).map_err(|e| malformed(e.to_string()))?;
            let statement = super::verify_attestation(key, &envelope, digest)?;
            let predicate_type = statement["predicateType"].as_str().unwrap_or_default().to_string();
            BundleContent::Dsse { predicate_type, statement }
        }
        (None, Some(m)) => {
            message_signature(key, m, digest)?;
            BundleContent::MessageSignature
        }
        (Some(_), Some(_)) => {
            return Err(malformed("the bundle has both a DSSE envelope and a message signature".into()));
        }
        (None, None) => return Err(malformed("the bundle has neither a DSSE envelope nor a message signature".into())),
    };
    Ok(BundleClaim { media_type: media_type.to_string(), content, tlog_entries, timestamps })
}

/// A message signature counts for the image only when its digest is the image's: the signature
/// covers that digest and nothing else.
fn message_signature(key: &CosignKey, m: &serde_json::Value, digest: &str) -> Result<(), DsseError> {
    let malformed = |s: &str| DsseError::Malformed(s.to_string());
    let algorithm = m["messageDigest"]["algorithm"].as_str().unwrap_or_default();
    if algorithm != "SHA2_256" {
        return Err(DsseError::Malformed(format!("message digest algorithm {algorithm:?} (SHA2_256 is verified)")));
    }
    let signed: [u8; 32] = m["messageDigest"]["digest"]
        .as_str()
        .and_then(|d| STANDARD.decode(d).ok())
        .and_then(|d| d.try_into().ok())
        .ok_or_else(|| malformed("the message digest is not 32 bytes of base64"))?;
    let signature = m["signature"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .ok_or_else(|| malformed("the message signature is not base64"))?;
    key.verify_sha256_prehash(&signed, &signature).map_err(DsseError::Signature)?;
    let signed_hex: String = signed.iter().map(|b| format!("{b:02x}")).collect();
    match digest.strip_prefix("sha256:") {
        Some(hex) if hex.eq_ignore_ascii_case(&signed_hex) => Ok(()),
        _ => Err(DsseError::Subject(format!(
            "no matching subject digest found: the message signature signs sha256:{signed_hex}"
        ))),
    }
}

/// cosign's rule when a key is given and the bundle also carries a certificate: the
/// certificate's key must be that key ("both public key and certificate were provided but did
/// not match").
fn certificate_matches(key: &CosignKey, material: &serde_json::Value) -> Result<(), DsseError> {
    use x509_cert::der::{Decode as _, Encode as _};
    let raw = material["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| material["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str());
    let Some(raw) = raw else { return Ok(()) };
    let der = STANDARD
        .decode(raw)
        .map_err(|e| DsseError::Malformed(format!("the bundle's certificate is not base64 ({e})")))?;
    let cert = x509_cert::Certificate::from_der(&der)
        .map_err(|e| DsseError::Malformed(format!("the bundle's certificate is not X.509 ({e})")))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| DsseError::Malformed(format!("the bundle's certificate: {e}")))?;
    if spki != key.spki_der() {
        return Err(DsseError::Signature(
            "both public key and certificate were provided but did not match: the bundle is signed by its \
             certificate's key, not by this one"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/vectors/cosign/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn key(name: &str) -> CosignKey {
        CosignKey::from_pem(&String::from_utf8(vector(name)).unwrap()).unwrap()
    }

    /// sigstore-conformance's managed-key bundle: a message signature over `a.txt`.
    #[test]
    fn a_message_signature_verifies_for_the_digest_it_signs_only() {
        use sha2::Digest as _;
        let artifact = format!("sha256:{:x}", sha2::Sha256::digest(vector("bundle-v0.3-managed-key.artifact")));
        let bundle = vector("bundle-v0.3-managed-key.sigstore.json");
        let k = key("bundle-v0.3-managed-key.key.pub");
        let claim = verify(&k, &bundle, &artifact).unwrap();
        assert_eq!(claim.content, BundleContent::MessageSignature);
        assert!(claim.is_signature());
        assert_eq!((claim.tlog_entries, claim.timestamps), (1, 1));
        // The bundle's hint is the key's SHA-256 fingerprint (padded there).
        assert_eq!(k.fingerprint(), "SHA256:TLMsSDfG3ajPsWge+z/vX5T/zluXnmvbkTkwLIV68Tk");
        let other = format!("sha256:{}", "0".repeat(64));
        assert!(matches!(verify(&k, &bundle, &other), Err(DsseError::Subject(_))));
        let wrong = key("simple-signing-ecdsa-p256.wrong-key.pub");
        assert!(matches!(verify(&wrong, &bundle, &artifact), Err(DsseError::Signature(_))));
        // One bit of the signed digest changed: the signature no longer covers it.
        let mut v: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
        v["messageSignature"]["messageDigest"]["digest"] = STANDARD.encode([0u8; 32]).into();
        let e = verify(&k, &serde_json::to_vec(&v).unwrap(), &other).unwrap_err();
        assert!(matches!(e, DsseError::Signature(_)), "{e:?}");
    }

    /// sigstore-go's v0.1 DSSE bundle: an npm statement, so an attestation, not an image signature.
    #[test]
    fn a_dsse_bundle_verifies_over_its_pae_and_names_its_predicate() {
        let bundle = vector("bundle-v0.1-dsse-key.sigstore.json");
        let k = key("bundle-v0.1-dsse-key.key.pub");
        let v: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
        let payload = STANDARD.decode(v["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap();
        let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        // The npm statement names its subject by sha512 only: no image digest can match. The
        // subject is checked after the signature, so this error says the PAE signature verified.
        let e = verify(&k, &bundle, "sha256:00").unwrap_err();
        assert!(matches!(&e, DsseError::Subject(_)), "{e:?}");
        assert_eq!(statement["predicateType"], "https://github.com/npm/attestation/tree/main/specs/publish/v0.1");
        let wrong = key("simple-signing-ecdsa-p256.wrong-key.pub");
        assert!(matches!(verify(&wrong, &bundle, "sha256:00"), Err(DsseError::Signature(_))));
    }

    #[test]
    fn what_is_not_a_bundle_is_malformed() {
        let k = key("bundle-v0.3-managed-key.key.pub");
        for bad in [
            &b"[]"[..],
            b"not json",
            br#"{"mediaType":"application/json","verificationMaterial":{}}"#,
            br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#,
            br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{}}"#,
            br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},
                "messageSignature":{"messageDigest":{"algorithm":"SHA2_512","digest":""},"signature":""}}"#,
        ] {
            assert!(
                matches!(verify(&k, bad, "sha256:00"), Err(DsseError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// cosign's keyless bundle given a key: its certificate's key is another one.
    #[test]
    fn a_bundle_certified_for_another_key_does_not_verify_with_this_one() {
        let bundle = vector("bundle-v0.3-oci-attestation-keyless.sigstore.json");
        let k = key("bundle-v0.3-managed-key.key.pub");
        let e = verify(&k, &bundle, "sha256:00").unwrap_err();
        assert!(matches!(&e, DsseError::Signature(s) if s.contains("did not match")), "{e:?}");
    }
}
