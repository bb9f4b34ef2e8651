//! The DEMO-ONLY keys and certificates of `assets/demo/`, compiled in so the demo needs no files.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::pkcs8::DecodePrivateKey as _;
use sha2::{Digest as _, Sha256};

pub const ROOT_CA_PEM: &str = include_str!("../../assets/demo/demo-root-ca.pem");
const LEAF_PEM: &str = include_str!("../../assets/demo/demo-leaf.pem");
const LEAF_KEY: &str = include_str!("../../assets/demo/demo-leaf.key");
pub const UNTRUSTED_ROOT_PEM: &str = include_str!("../../assets/demo/untrusted-root-ca.pem");
const UNTRUSTED_LEAF_PEM: &str = include_str!("../../assets/demo/untrusted-leaf.pem");
const UNTRUSTED_LEAF_KEY: &str = include_str!("../../assets/demo/untrusted-leaf.key");

/// The PEM block of a file, without the `# DEMO-ONLY` comment lines that precede it (strict
/// RFC 7468 decoders refuse leading text).
pub fn pem_block(text: &str) -> &str {
    text.find("-----BEGIN").map_or(text, |i| &text[i..])
}

/// DER of the first PEM block; the inputs are our own committed files, so failure is a bug.
pub fn pem_to_der(text: &str) -> Vec<u8> {
    let body: String = pem_block(text).lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body.trim()).expect("demo PEM is valid base64")
}

/// A signing key of either curve the demo uses; the curve decides the JWS/COSE algorithm.
#[derive(Clone)]
pub enum DemoKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl DemoKey {
    /// JOSE algorithm name.
    pub fn jws_alg(&self) -> &'static str {
        match self {
            DemoKey::P256(_) => "ES256",
            DemoKey::P384(_) => "ES384",
        }
    }

    /// Raw `r || s` (JWS and COSE form), hashed with the curve's hash, RFC 6979 deterministic.
    pub fn sign_raw(&self, msg: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match self {
            DemoKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            DemoKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
        }
    }

    /// ASN.1 DER signature (the form cosign and DSSE producers store).
    pub fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match self {
            DemoKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            DemoKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
        }
    }
}

/// A signer: its key and its certificate chain, leaf first, ending with the root.
#[derive(Clone)]
pub struct Identity {
    pub key: DemoKey,
    pub chain: Vec<Vec<u8>>,
}

impl crate::sign::Signer for Identity {
    fn jws_alg(&self) -> &'static str {
        self.key.jws_alg()
    }

    fn cose_alg(&self) -> coset::iana::Algorithm {
        match self.key {
            DemoKey::P256(_) => coset::iana::Algorithm::ES256,
            DemoKey::P384(_) => coset::iana::Algorithm::ES384,
        }
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.key.sign_raw(msg)
    }

    fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }
}

impl Identity {
    /// Lower-case hex SHA-256 of each chain certificate, leaf first (Notation's thumbprints).
    pub fn thumbprints(&self) -> Vec<String> {
        self.chain.iter().map(|c| hex::encode(Sha256::digest(c))).collect()
    }

    pub fn leaf_pem(&self) -> String {
        der_to_pem(&self.chain[0])
    }

    /// The signing key's public half as a PEM SPKI, the form `cosign verify --key` reads.
    pub fn public_key_pem(&self) -> String {
        use p256::pkcs8::{EncodePublicKey as _, LineEnding};
        match &self.key {
            DemoKey::P256(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
            DemoKey::P384(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
        }
        .expect("a demo key encodes")
    }
}

pub fn der_to_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The trusted demo signer: P-256 leaf under the demo root CA.
pub fn demo_signer() -> Identity {
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(pem_block(LEAF_KEY)).expect("demo leaf key is PKCS#8");
    Identity { key: DemoKey::P256(key), chain: vec![pem_to_der(LEAF_PEM), pem_to_der(ROOT_CA_PEM)] }
}

/// A signer whose root is not in the demo trust store: P-384 leaf under the untrusted root.
pub fn untrusted_signer() -> Identity {
    let key =
        p384::ecdsa::SigningKey::from_pkcs8_pem(pem_block(UNTRUSTED_LEAF_KEY)).expect("untrusted leaf key is PKCS#8");
    Identity { key: DemoKey::P384(key), chain: vec![pem_to_der(UNTRUSTED_LEAF_PEM), pem_to_der(UNTRUSTED_ROOT_PEM)] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_load_and_match_their_certificates() {
        for id in [demo_signer(), untrusted_signer()] {
            let (_, cert) = x509_parser::parse_x509_certificate(&id.chain[0]).unwrap();
            let spki = cert.public_key().subject_public_key.data.to_vec();
            let ours = match &id.key {
                DemoKey::P256(k) => k.verifying_key().to_encoded_point(false).as_bytes().to_vec(),
                DemoKey::P384(k) => k.verifying_key().to_encoded_point(false).as_bytes().to_vec(),
            };
            assert_eq!(spki, ours);
            assert_eq!(id.thumbprints().len(), 2);
        }
        assert_eq!(pem_to_der(&der_to_pem(&pem_to_der(ROOT_CA_PEM))), pem_to_der(ROOT_CA_PEM));
    }
}
