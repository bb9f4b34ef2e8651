//! BENCH-ONLY signing chain: a root CA and a code-signing leaf (rcgen, with RustCrypto keys from
//! a fixed-seed RNG) as a `sigscope::sign::Signer`, so the verify bench signs its envelopes with
//! the library's own writers (`sigscope::sign::{jws, cose}`), the same the tests' signer uses.
//! P-256, P-384 and RSA-2048 keys: what the verify bench signs with.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, SerialNumber,
};
use sha2::Digest as _;
use time::OffsetDateTime;

const ORG: &str = "Sigscope Test";

/// A deterministic RNG (splitmix64): keys are the same every run and need no OS entropy.
struct SeedRng(u64);

impl rsa::rand_core::RngCore for SeedRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for SeedRng {}

#[derive(Clone)]
pub enum SignKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(rsa::RsaPrivateKey),
}

impl SignKey {
    pub fn p256(seed: u64) -> Self {
        SignKey::P256(p256::ecdsa::SigningKey::random(&mut SeedRng(seed)))
    }

    pub fn p384(seed: u64) -> Self {
        SignKey::P384(p384::ecdsa::SigningKey::random(&mut SeedRng(seed)))
    }

    pub fn rsa(bits: usize) -> Self {
        SignKey::Rsa(rsa::RsaPrivateKey::new(&mut SeedRng(bits as u64), bits).expect("RSA keygen"))
    }

    /// An X.509 signature: DER ECDSA, or RSA PKCS#1 v1.5 with SHA-256.
    fn sign_x509(&self, msg: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match self {
            SignKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            SignKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            SignKey::Rsa(k) => {
                let hashed = sha2::Sha256::digest(msg);
                k.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed).expect("PKCS#1 sign")
            }
        }
    }
}

impl rcgen::PublicKeyData for SignKey {
    fn der_bytes(&self) -> &[u8] {
        // rcgen wants a borrowed encoding; keys live for the whole bench, so leak the few bytes.
        let bytes = match self {
            SignKey::P256(k) => k.verifying_key().to_encoded_point(false).as_bytes().to_vec(),
            SignKey::P384(k) => k.verifying_key().to_encoded_point(false).as_bytes().to_vec(),
            SignKey::Rsa(k) => {
                use rsa::pkcs1::EncodeRsaPublicKey as _;
                k.to_public_key().to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec()
            }
        };
        Box::leak(bytes.into_boxed_slice())
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            SignKey::P256(_) => &rcgen::PKCS_ECDSA_P256_SHA256,
            SignKey::P384(_) => &rcgen::PKCS_ECDSA_P384_SHA384,
            SignKey::Rsa(_) => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

impl rcgen::SigningKey for SignKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self.sign_x509(msg))
    }
}

pub fn ymd(y: i32, m: u8, d: u8) -> OffsetDateTime {
    time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap().midnight().assume_utc()
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::StateOrProvinceName, "WA");
    dn.push(DnType::OrganizationName, ORG);
    dn.push(DnType::CommonName, cn);
    dn
}

pub struct Ca {
    issuer: CertifiedIssuer<'static, SignKey>,
    pub der: Vec<u8>,
}

impl Ca {
    /// A self-signed root valid 2025–2035.
    pub fn root(cn: &str, serial: u64, key: SignKey) -> Ca {
        let mut p = CertificateParams::default();
        p.distinguished_name = dn(cn);
        p.serial_number = Some(SerialNumber::from(serial));
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.not_before = ymd(2025, 1, 1);
        p.not_after = ymd(2035, 1, 1);
        p.use_authority_key_identifier_extension = true;
        let issuer = CertifiedIssuer::self_signed(p, key).expect("root");
        let der = issuer.der().to_vec();
        Ca { issuer, der }
    }

    pub fn issue(&self, params: &CertificateParams, key: &SignKey) -> Vec<u8> {
        params.signed_by(key, &self.issuer).expect("leaf").der().to_vec()
    }
}

/// A code-signing leaf as Notation wants it: critical digitalSignature key usage, codeSigning
/// EKU, not a CA.
pub fn leaf_params(cn: &str, serial: u64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    p.serial_number = Some(SerialNumber::from(serial));
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    p.not_before = ymd(2026, 1, 1);
    p.not_after = ymd(2027, 1, 1);
    p.use_authority_key_identifier_extension = true;
    p
}

pub fn rsa_bits(k: &rsa::RsaPrivateKey) -> usize {
    use rsa::traits::PublicKeyParts as _;
    k.n().bits()
}

/// A signer: a key and its chain, leaf first.
#[derive(Clone)]
pub struct Signer {
    pub key: SignKey,
    pub chain: Vec<Vec<u8>>,
}

impl sigscope::sign::Signer for Signer {
    fn jws_alg(&self) -> &'static str {
        match &self.key {
            SignKey::P256(_) => "ES256",
            SignKey::P384(_) => "ES384",
            SignKey::Rsa(k) if rsa_bits(k) >= 3072 => "PS384",
            SignKey::Rsa(_) => "PS256",
        }
    }

    fn cose_alg(&self) -> coset::iana::Algorithm {
        match &self.key {
            SignKey::P256(_) => coset::iana::Algorithm::ES256,
            SignKey::P384(_) => coset::iana::Algorithm::ES384,
            SignKey::Rsa(k) if rsa_bits(k) >= 3072 => coset::iana::Algorithm::PS384,
            SignKey::Rsa(_) => coset::iana::Algorithm::PS256,
        }
    }

    /// Fixed-length `r || s`, or RSASSA-PSS with a salt as long as the hash: SHA-256 for
    /// RSA-2048, SHA-384 for RSA-3072, as the key decides the algorithm in Notation.
    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match &self.key {
            SignKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            SignKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            SignKey::Rsa(k) if rsa_bits(k) >= 3072 => {
                let hashed = sha2::Sha384::digest(msg);
                k.sign_with_rng(&mut SeedRng(99), rsa::Pss::new::<sha2::Sha384>(), &hashed).expect("PSS sign")
            }
            SignKey::Rsa(k) => {
                let hashed = sha2::Sha256::digest(msg);
                k.sign_with_rng(&mut SeedRng(99), rsa::Pss::new::<sha2::Sha256>(), &hashed).expect("PSS sign")
            }
        }
    }

    fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }
}
