//! cosign's simple signing, verified with a static key: the signature layer's payload
//! (`application/vnd.dev.cosign.simplesigning.v1+json`) signed as it is stored, its signature in
//! the layer's `dev.cosignproject.cosign/signature` annotation (base64 of an ASN.1 DER ECDSA
//! signature, or PKCS#1 v1.5 for RSA keys), SHA-256 over the payload as cosign signs it; and the
//! payload naming the image (`critical.image.docker-manifest-digest`); and cosign's
//! attestations, DSSE envelopes (`application/vnd.dsse.envelope.v1+json` layers of the
//! `sha256-<hex>.att` tag) whose signature covers the PAE of an in-toto statement naming the
//! image among its subjects. Bytes in, verdict out.

use base64::Engine as _;
use sha2::Sha256;

pub mod bundle;

/// A public key as cosign's `--key` and Kyverno's `publicKeys` give one (PEM SPKI).
pub struct CosignKey {
    kind: KeyKind,
    /// The DER SubjectPublicKeyInfo, to compare with a certificate's and to name the key.
    spki: Vec<u8>,
}

enum KeyKind {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Rsa(rsa::pkcs1v15::VerifyingKey<Sha256>),
}

/// A public-key PEM block with its base64 wrapped at 64 columns. Go's PEM decoder, which cosign
/// and Kyverno use, takes any line length (npm's published keys are one long line); the strict
/// RFC 7468 parser here does not. `None` when there is no such block.
fn rewrap_pem(pem: &str) -> Option<String> {
    const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
    const END: &str = "-----END PUBLIC KEY-----";
    let start = pem.find(BEGIN)? + BEGIN.len();
    let end = start + pem[start..].find(END)?;
    let body: String = pem[start..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = String::from(BEGIN);
    for line in body.as_bytes().chunks(64) {
        out.push('\n');
        out.push_str(std::str::from_utf8(line).ok()?);
    }
    out.push('\n');
    out.push_str(END);
    Some(out)
}

const NOT_A_KEY: &str = "not a key sigscope verifies (ECDSA P-256 or P-384, RSA)";

impl CosignKey {
    pub fn from_pem(pem: &str) -> Result<CosignKey, String> {
        let rewrapped = rewrap_pem(pem);
        let pem = rewrapped.as_deref().unwrap_or(pem.trim());
        let not_pem = || "not a PEM public key sigscope verifies (ECDSA P-256 or P-384, RSA)".to_string();
        let (label, der) = x509_cert::der::Document::from_pem(pem).map_err(|_| not_pem())?;
        if label != "PUBLIC KEY" {
            return Err(not_pem());
        }
        CosignKey::from_spki_der(der.as_bytes()).map_err(|e| match e.as_str() {
            // The one wording for a key of another kind, whichever way it came.
            NOT_A_KEY => not_pem(),
            _ => e,
        })
    }

    /// The key of a certificate, from its DER SubjectPublicKeyInfo (Kyverno's `certificates.cert`).
    pub fn from_spki_der(der: &[u8]) -> Result<CosignKey, String> {
        use rsa::traits::PublicKeyParts as _;
        use spki::DecodePublicKey;
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(CosignKey { spki: der.to_vec(), kind: KeyKind::P256(k) });
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(CosignKey { spki: der.to_vec(), kind: KeyKind::P384(k) });
        }
        match rsa::RsaPublicKey::from_public_key_der(der) {
            Ok(k) if k.size() >= 256 => {
                Ok(CosignKey { spki: der.to_vec(), kind: KeyKind::Rsa(rsa::pkcs1v15::VerifyingKey::new(k)) })
            }
            Ok(k) => Err(format!("an RSA key of {} bits is too small (2048 at least)", k.size() * 8)),
            Err(_) => Err(NOT_A_KEY.into()),
        }
    }

    /// The key's DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// `SHA256:` and the unpadded base64 of SHA-256 over the SPKI, as ssh and Sigstore name keys
    /// (the form cosign puts in a bundle's public-key hint, padded there).
    pub fn fingerprint(&self) -> String {
        use base64::engine::general_purpose::STANDARD_NO_PAD;
        use sha2::Digest as _;
        format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(&self.spki)))
    }

    fn verify(&self, payload: &[u8], signature: &[u8]) -> Result<(), String> {
        use p256::ecdsa::signature::Verifier as _;
        let bad = |e: p256::ecdsa::signature::Error| format!("the signature does not verify with the key ({e})");
        match &self.kind {
            KeyKind::P256(k) => k.verify(payload, &p256_der(signature)?).map_err(bad),
            KeyKind::P384(k) => k.verify(payload, &p384_der(signature)?).map_err(bad),
            KeyKind::Rsa(k) => {
                use rsa::signature::Verifier as _;
                k.verify(payload, &rsa_signature(signature)?).map_err(bad)
            }
        }
    }

    /// Verifies a signature over a message of which only the SHA-256 `digest` is given (a
    /// Sigstore bundle's message signature). A P-384 key signs with SHA-384 in cosign, so a
    /// SHA-256 digest cannot be its message: refused rather than checked truncated.
    fn verify_sha256_prehash(&self, digest: &[u8; 32], signature: &[u8]) -> Result<(), String> {
        use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
        let bad = |e: p256::ecdsa::signature::Error| format!("the signature does not verify with the key ({e})");
        match &self.kind {
            KeyKind::P256(k) => k.verify_prehash(digest, &p256_der(signature)?).map_err(bad),
            KeyKind::P384(_) => Err("a SHA-256 message digest signed by a P-384 key is not cosign's form".into()),
            KeyKind::Rsa(k) => k.verify_prehash(digest, &rsa_signature(signature)?).map_err(bad),
        }
    }
}

fn p256_der(signature: &[u8]) -> Result<p256::ecdsa::Signature, String> {
    p256::ecdsa::Signature::from_der(signature).map_err(|e| format!("not a DER ECDSA signature ({e})"))
}

fn p384_der(signature: &[u8]) -> Result<p384::ecdsa::Signature, String> {
    p384::ecdsa::Signature::from_der(signature).map_err(|e| format!("not a DER ECDSA signature ({e})"))
}

fn rsa_signature(signature: &[u8]) -> Result<rsa::pkcs1v15::Signature, String> {
    rsa::pkcs1v15::Signature::try_from(signature).map_err(|e| format!("not an RSA signature ({e})"))
}

/// Verifies one cosign signature of the manifest `digest`: the signature over `payload`, then
/// the payload's claim. `Err` says which failed.
pub fn verify(key: &CosignKey, payload: &[u8], signature_b64: &str, digest: &str) -> Result<(), DsseError> {
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature_b64.trim())
        .map_err(|e| DsseError::Signature(format!("the signature annotation is not base64 ({e})")))?;
    key.verify(payload, &signature).map_err(DsseError::Signature)?;
    let claim: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| DsseError::Malformed(format!("the signed payload is not JSON ({e})")))?;
    let claimed = member(&claim, "critical")
        .and_then(|c| c.map_or(Ok(None), |c| member(c, "image")))
        .and_then(|i| i.map_or(Ok(None), |i| member(i, "docker-manifest-digest")))
        .map_err(DsseError::Malformed)?;
    match claimed.and_then(serde_json::Value::as_str) {
        Some(d) if d == digest => Ok(()),
        Some(d) => Err(DsseError::Subject(format!("the signature is valid but for another image: it signs {d}"))),
        None => Err(DsseError::Malformed("the signed payload names no critical.image.docker-manifest-digest".into())),
    }
}

/// The member `name` of a JSON object matched as Go's decoder matches a struct field, ignoring
/// case (producers write `Docker-manifest-digest` too). Two spellings with different values are
/// refused: which one cosign would read is not something to guess in a signature check.
fn member<'a>(value: &'a serde_json::Value, name: &str) -> Result<Option<&'a serde_json::Value>, String> {
    let Some(object) = value.as_object() else { return Ok(None) };
    let mut found: Option<&serde_json::Value> = None;
    for (k, v) in object {
        if k.eq_ignore_ascii_case(name) {
            match found {
                Some(f) if f != v => {
                    return Err(format!("the signed payload spells {name} twice with different values"));
                }
                _ => found = Some(v),
            }
        }
    }
    Ok(found)
}

/// cosign's rule when a key is given and the signature also carries a certificate: the
/// certificate's key must be the key.
pub fn certificate_is_key(certificate: Option<&str>, key: &CosignKey) -> std::result::Result<(), String> {
    use x509_cert::der::{DecodePem as _, Encode as _};
    let Some(pem) = certificate else { return Ok(()) };
    let cert = x509_cert::Certificate::from_pem(pem.trim())
        .map_err(|e| format!("the signature's certificate annotation is not a PEM certificate ({e})"))?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().map_err(|e| e.to_string())?;
    if spki != key.spki_der() {
        return Err("both public key and certificate were provided but did not match: the signature's \
                    certificate is for another key"
            .into());
    }
    Ok(())
}

/// The payload type cosign requires of an attestation's envelope.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// DSSE's pre-authentication encoding, what an envelope's signatures cover:
/// `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Why one signature or attestation envelope does not count for an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DsseError {
    /// Not a DSSE envelope or not an in-toto statement inside; a payload that names no image.
    Malformed(String),
    /// The signature (or none of the envelope's) verifies with the key.
    Signature(String),
    /// Signed with the key, but about other artifacts.
    Subject(String),
}

impl std::fmt::Display for DsseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DsseError::Malformed(s) | DsseError::Signature(s) | DsseError::Subject(s) => f.write_str(s),
        }
    }
}

/// Verifies one cosign attestation of the manifest `digest` as cosign's
/// `VerifyImageAttestations` does with a static key: the payload type is in-toto, one of the
/// envelope's signatures verifies over the PAE, and the statement names `digest` among its
/// subjects (`subject[].digest.sha256`). Returns the statement.
pub fn verify_attestation(key: &CosignKey, envelope: &[u8], digest: &str) -> Result<serde_json::Value, DsseError> {
    use base64::engine::general_purpose::STANDARD;
    let env: serde_json::Value =
        serde_json::from_slice(envelope).map_err(|e| DsseError::Malformed(format!("not a DSSE envelope ({e})")))?;
    let payload_type = env["payloadType"].as_str().unwrap_or_default();
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(DsseError::Malformed(format!(
            "invalid payloadType {payload_type:?} on the envelope, expected {IN_TOTO_PAYLOAD_TYPE}"
        )));
    }
    let payload = env["payload"]
        .as_str()
        .ok_or_else(|| DsseError::Malformed("the envelope has no payload".into()))
        .and_then(|p| {
            STANDARD.decode(p).map_err(|e| DsseError::Malformed(format!("the envelope's payload is not base64 ({e})")))
        })?;
    let signatures = env["signatures"].as_array().map(Vec::as_slice).unwrap_or_default();
    if signatures.is_empty() {
        return Err(DsseError::Signature("the envelope carries no signature".into()));
    }
    let signed = pae(payload_type, &payload);
    let mut last = String::new();
    let verified = signatures.iter().any(|s| {
        let result = s["sig"]
            .as_str()
            .ok_or_else(|| "a signature without sig".to_string())
            .and_then(|b| STANDARD.decode(b.trim()).map_err(|e| format!("a signature that is not base64 ({e})")))
            .and_then(|raw| key.verify(&signed, &raw));
        if let Err(e) = &result {
            last = e.clone();
        }
        result.is_ok()
    });
    if !verified {
        return Err(DsseError::Signature(last));
    }
    let statement: serde_json::Value = serde_json::from_slice(&payload)
        .map_err(|e| DsseError::Malformed(format!("the signed payload is not an in-toto statement ({e})")))?;
    if !statement.is_object() {
        return Err(DsseError::Malformed("the signed payload is not a JSON object".into()));
    }
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    let subjects = statement["subject"].as_array().map(Vec::as_slice).unwrap_or_default();
    if subjects.iter().any(|s| s["digest"]["sha256"].as_str() == Some(hex)) {
        return Ok(statement);
    }
    let named: Vec<&str> = subjects.iter().filter_map(|s| s["digest"]["sha256"].as_str()).collect();
    Err(DsseError::Subject(if named.is_empty() {
        "the statement names no sha256 subject digest".into()
    } else {
        format!("no matching subject digest found: the statement is about sha256:{}", named.join(", sha256:"))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::EncodePublicKey;

    fn key(seed: u8) -> (SigningKey, String) {
        let sk = SigningKey::from_slice(&[seed; 32]).unwrap();
        let pem = sk.verifying_key().to_public_key_pem(p256::pkcs8::LineEnding::LF).unwrap();
        (sk, pem)
    }

    fn signed(sk: &SigningKey, payload: &[u8]) -> String {
        let sig: p256::ecdsa::Signature = sk.sign(payload);
        base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes())
    }

    const DIGEST: &str = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";

    #[test]
    fn a_signature_verifies_with_its_key_for_its_image_only() {
        let payload = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/vectors/cosign/simple-signing-ecdsa-p256.payload.json"
        ))
        .unwrap();
        let (sk, pem) = key(7);
        let k = CosignKey::from_pem(&pem).unwrap();
        let sig = signed(&sk, &payload);
        verify(&k, &payload, &sig, DIGEST).unwrap();
        let other = verify(&k, &payload, &sig, "sha256:00").unwrap_err();
        assert!(matches!(&other, DsseError::Subject(s) if s.contains("for another image")), "{other}");
        let (_, wrong) = key(8);
        let e = verify(&CosignKey::from_pem(&wrong).unwrap(), &payload, &sig, DIGEST).unwrap_err();
        assert!(matches!(&e, DsseError::Signature(s) if s.contains("does not verify")), "{e}");
        let mut tampered = payload.clone();
        tampered[10] ^= 1;
        assert!(verify(&k, &tampered, &sig, DIGEST).is_err());
        assert!(verify(&k, &payload, "not base64!", DIGEST).is_err());
        assert!(CosignKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
    }

    /// Go's decoder reads `Docker-manifest-digest` as the field too; two spellings that disagree
    /// are refused rather than one of them picked.
    #[test]
    fn the_claimed_digest_is_read_as_cosign_reads_it() {
        let (sk, pem) = key(11);
        let k = CosignKey::from_pem(&pem).unwrap();
        let claim = |image: serde_json::Value| {
            let payload = serde_json::to_vec(&serde_json::json!({"Critical": {"Image": image}})).unwrap();
            let sig = signed(&sk, &payload);
            verify(&k, &payload, &sig, DIGEST)
        };
        claim(serde_json::json!({"Docker-manifest-digest": DIGEST})).unwrap();
        let e = claim(serde_json::json!({"docker-manifest-digest": "sha256:00", "Docker-manifest-digest": DIGEST}))
            .unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        claim(serde_json::json!({"docker-manifest-digest": DIGEST, "DOCKER-MANIFEST-DIGEST": DIGEST})).unwrap();
        assert!(claim(serde_json::json!({"docker_manifest_digest": DIGEST})).is_err());
    }

    /// Go's PEM decoder takes a key on one long line (as npm publishes them); so does this.
    #[test]
    fn a_key_on_one_long_line_reads() {
        let (_, pem) = key(12);
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let one_line = format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n");
        let k = CosignKey::from_pem(&one_line).unwrap();
        assert_eq!(k.spki_der(), CosignKey::from_pem(&pem).unwrap().spki_der());
    }

    #[test]
    fn an_attestation_verifies_over_its_pae_for_its_subject_only() {
        use base64::engine::general_purpose::STANDARD;
        let (sk, pem) = key(9);
        let k = CosignKey::from_pem(&pem).unwrap();
        let hex = DIGEST.strip_prefix("sha256:").unwrap();
        let statement = serde_json::json!({"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "x", "digest": {"sha256": hex}}], "predicateType": "p", "predicate": {"a": 1}});
        let payload = serde_json::to_vec(&statement).unwrap();
        let envelope = |ptype: &str, sig: &str| {
            serde_json::to_vec(&serde_json::json!({"payloadType": ptype, "payload": STANDARD.encode(&payload),
                "signatures": [{"keyid": "", "sig": sig}]}))
            .unwrap()
        };
        let good = signed(&sk, &pae(IN_TOTO_PAYLOAD_TYPE, &payload));
        assert_eq!(verify_attestation(&k, &envelope(IN_TOTO_PAYLOAD_TYPE, &good), DIGEST).unwrap(), statement);
        // The signature covers the PAE, not the bare payload.
        let bare = signed(&sk, &payload);
        let e = verify_attestation(&k, &envelope(IN_TOTO_PAYLOAD_TYPE, &bare), DIGEST).unwrap_err();
        assert!(matches!(e, DsseError::Signature(_)), "{e:?}");
        let e = verify_attestation(&k, &envelope("text/plain", &good), DIGEST).unwrap_err();
        assert!(matches!(e, DsseError::Malformed(_)), "{e:?}");
        let (_, other) = key(10);
        let e =
            verify_attestation(&CosignKey::from_pem(&other).unwrap(), &envelope(IN_TOTO_PAYLOAD_TYPE, &good), DIGEST)
                .unwrap_err();
        assert!(matches!(e, DsseError::Signature(_)), "{e:?}");
        let e = verify_attestation(&k, &envelope(IN_TOTO_PAYLOAD_TYPE, &good), "sha256:00").unwrap_err();
        assert!(matches!(&e, DsseError::Subject(s) if s.contains(hex)), "{e:?}");
        assert_eq!(pae("t", b"ab"), b"DSSEv1 1 t 2 ab");
    }
}
