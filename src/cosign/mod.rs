//! cosign's simple signing, verified with a static key: the signature layer's payload
//! (`application/vnd.dev.cosign.simplesigning.v1+json`) signed as it is stored, its signature in
//! the layer's `dev.cosignproject.cosign/signature` annotation (base64 of an ASN.1 DER ECDSA
//! signature, or PKCS#1 v1.5 for RSA keys), SHA-256 over the payload as cosign signs it; and the
//! payload naming the image (`critical.image.docker-manifest-digest`). Bytes in, verdict out.

use base64::Engine as _;
use sha2::Sha256;

/// A public key as cosign's `--key` and Kyverno's `publicKeys` give one (PEM SPKI).
pub enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Rsa(rsa::pkcs1v15::VerifyingKey<Sha256>),
}

impl PublicKey {
    pub fn from_pem(pem: &str) -> Result<PublicKey, String> {
        use rsa::traits::PublicKeyParts as _;
        use spki::DecodePublicKey;
        let pem = pem.trim();
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P384(k));
        }
        match rsa::RsaPublicKey::from_public_key_pem(pem) {
            Ok(k) if k.size() >= 256 => Ok(PublicKey::Rsa(rsa::pkcs1v15::VerifyingKey::new(k))),
            Ok(k) => Err(format!("an RSA key of {} bits is too small (2048 at least)", k.size() * 8)),
            Err(_) => Err("not a PEM public key sigscope verifies (ECDSA P-256 or P-384, RSA)".into()),
        }
    }

    fn verify(&self, payload: &[u8], signature: &[u8]) -> Result<(), String> {
        use p256::ecdsa::signature::Verifier as _;
        let bad = |e: p256::ecdsa::signature::Error| format!("the signature does not verify with the key ({e})");
        match self {
            PublicKey::P256(k) => {
                let s = p256::ecdsa::Signature::from_der(signature)
                    .map_err(|e| format!("not a DER ECDSA signature ({e})"))?;
                k.verify(payload, &s).map_err(bad)
            }
            PublicKey::P384(k) => {
                let s = p384::ecdsa::Signature::from_der(signature)
                    .map_err(|e| format!("not a DER ECDSA signature ({e})"))?;
                k.verify(payload, &s).map_err(bad)
            }
            PublicKey::Rsa(k) => {
                use rsa::signature::Verifier as _;
                let s =
                    rsa::pkcs1v15::Signature::try_from(signature).map_err(|e| format!("not an RSA signature ({e})"))?;
                k.verify(payload, &s).map_err(|e| format!("the signature does not verify with the key ({e})"))
            }
        }
    }
}

/// Verifies one cosign signature of the manifest `digest`: the signature over `payload`, then
/// the payload's claim. `Err` says which failed.
pub fn verify(key: &PublicKey, payload: &[u8], signature_b64: &str, digest: &str) -> Result<(), String> {
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature_b64.trim())
        .map_err(|e| format!("the signature annotation is not base64 ({e})"))?;
    key.verify(payload, &signature)?;
    let claim: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| format!("the signed payload is not JSON ({e})"))?;
    match claim["critical"]["image"]["docker-manifest-digest"].as_str() {
        Some(d) if d == digest => Ok(()),
        Some(d) => Err(format!("the signature is valid but for another image: it signs {d}")),
        None => Err("the signed payload names no critical.image.docker-manifest-digest".into()),
    }
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
        let k = PublicKey::from_pem(&pem).unwrap();
        let sig = signed(&sk, &payload);
        verify(&k, &payload, &sig, DIGEST).unwrap();
        let other = verify(&k, &payload, &sig, "sha256:00").unwrap_err();
        assert!(other.contains("for another image"), "{other}");
        let (_, wrong) = key(8);
        let e = verify(&PublicKey::from_pem(&wrong).unwrap(), &payload, &sig, DIGEST).unwrap_err();
        assert!(e.contains("does not verify"), "{e}");
        let mut tampered = payload.clone();
        tampered[10] ^= 1;
        assert!(verify(&k, &tampered, &sig, DIGEST).is_err());
        assert!(verify(&k, &payload, "not base64!", DIGEST).is_err());
        assert!(PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
    }
}
