//! What is checked before anything is signed, as notation's signer does (notation-core-go
//! `signature.NewLocalSigner` and `x509.ValidateCodeSigningCertChain` with the signing time):
//! the chain in order up to a self-signed root, the private key matching the leaf, every
//! certificate valid now, and the leaf fit for code signing.
//!
//! The certificate requirements themselves are the verifier's (`notation::chain::validate`),
//! so sigscope never signs with a chain its own verifier would refuse. What is added here is
//! what a signer needs and a verifier does not: time, the key pair, and messages that say
//! which certificate of the user's file is wrong and what to do about it.

use chrono::{DateTime, Utc};
use der::Decode as _;
use x509_cert::Certificate;

use crate::notation::chain::{self, MAX_CHAIN, ValidChain};
use crate::notation::envelope::crypto::PublicKey;
use crate::notation::timestamp::sigverify::{issued_by, to_utc};

/// Why a chain cannot sign. Certificates are numbered from 1 in the order given, the signing
/// certificate first, as the user sees them in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("the certificate chain is empty: give the signing certificate first, then each issuer up to the root")]
    Empty,
    #[error("the certificate chain has {count} certificates, more than the {max} allowed")]
    TooLong { count: usize, max: usize },
    #[error("certificate {number} of the chain does not parse: {detail}")]
    Unparsable { number: usize, detail: String },
    #[error(
        "certificate {number} ({subject}) is self-signed, so it can only end the chain, but certificate {next} follows it: \
         order the chain leaf first and root last"
    )]
    SelfSignedBeforeEnd { number: usize, subject: String, next: usize },
    #[error(
        "certificate {issuer_number} ({issuer}) did not sign certificate {number} ({subject}): chain out of order? {detail}"
    )]
    NotSignedByNext { number: usize, subject: String, issuer_number: usize, issuer: String, detail: String },
    #[error("certificate {number} ({subject}) ends the chain but is not a self-signed root: {detail}")]
    NoRoot { number: usize, subject: String, detail: String },
    #[error("the private key does not match certificate 1 ({subject}), the signing certificate: {hint}")]
    KeyMismatch { subject: String, hint: String },
    #[error(
        "certificate {number} ({subject}) is not valid until {not_before} (now is {now}); notation refuses to sign \
         with a certificate outside its validity period"
    )]
    NotYetValid { number: usize, subject: String, not_before: String, now: String },
    #[error(
        "certificate {number} ({subject}) expired at {not_after} (now is {now}); notation refuses to sign with an \
         expired certificate: renew it"
    )]
    Expired { number: usize, subject: String, not_after: String, now: String },
    /// The verifier's own words (`notation::chain::validate`), which name the certificate.
    #[error("the certificate chain does not meet the Notary Project's certificate requirements: {0}")]
    Requirements(String),
}

/// Checks that `chain` (DER, leaf first) can sign with the private key whose public half is
/// `key`, at `now` (the signing time the envelope will carry). Returns the chain as the
/// verifier validated it.
pub fn check_chain(chain: &[Vec<u8>], key: &PublicKey, now: DateTime<Utc>) -> Result<ValidChain, ChainError> {
    if chain.is_empty() {
        return Err(ChainError::Empty);
    }
    if chain.len() > MAX_CHAIN {
        return Err(ChainError::TooLong { count: chain.len(), max: MAX_CHAIN });
    }
    let certs = chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            Certificate::from_der(der).map_err(|e| ChainError::Unparsable { number: i + 1, detail: e.to_string() })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_order(chain, &certs)?;
    check_key(&certs, key)?;
    check_validity(&certs, now)?;
    chain::validate(chain).map_err(ChainError::Requirements)
}

fn subject(cert: &Certificate) -> String {
    cert.tbs_certificate.subject.to_string()
}

/// Each certificate signed by the next, and the last a self-signed root. Done here rather than
/// left to `chain::validate` because, when it fails, the file is usually merely in the wrong
/// order, and the other certificates can tell which one did sign.
fn check_order(ders: &[Vec<u8>], certs: &[Certificate]) -> Result<(), ChainError> {
    let signed = |child: usize, issuer: usize| issued_by(&ders[child], &certs[child], &certs[issuer]);
    let last = certs.len() - 1;
    for i in 0..last {
        if signed(i, i).is_ok() {
            return Err(ChainError::SelfSignedBeforeEnd { number: i + 1, subject: subject(&certs[i]), next: i + 2 });
        }
        if let Err(e) = signed(i, i + 1) {
            let detail = match (0..certs.len()).find(|&j| j != i && j != i + 1 && signed(i, j).is_ok()) {
                Some(j) => format!(
                    "certificate {} ({}) did sign it; put each certificate right before its issuer, leaf first, root last",
                    j + 1,
                    subject(&certs[j])
                ),
                None => missing_issuer(&certs[i], &certs[i + 1], e),
            };
            return Err(ChainError::NotSignedByNext {
                number: i + 1,
                subject: subject(&certs[i]),
                issuer_number: i + 2,
                issuer: subject(&certs[i + 1]),
                detail,
            });
        }
    }
    if let Err(e) = signed(last, last) {
        let root = &certs[last];
        let detail = if root.tbs_certificate.issuer != root.tbs_certificate.subject {
            format!(
                "its issuer ({}) is missing; end the chain with the root certificate (notation signs only with a chain \
                 that ends in its root)",
                root.tbs_certificate.issuer
            )
        } else {
            format!("it names itself as issuer but its signature does not verify with its own key ({e})")
        };
        return Err(ChainError::NoRoot { number: last + 1, subject: subject(root), detail });
    }
    Ok(())
}

fn missing_issuer(child: &Certificate, next: &Certificate, e: String) -> String {
    if child.tbs_certificate.issuer != next.tbs_certificate.subject {
        format!(
            "it was issued by {}, which is not in the chain; add that certificate right after it",
            child.tbs_certificate.issuer
        )
    } else {
        format!("the names match but the signature does not verify, so this is another certificate of that name ({e})")
    }
}

/// notation-core-go's `isKeyPair`: the private key's public half equals the leaf's key.
fn check_key(certs: &[Certificate], key: &PublicKey) -> Result<(), ChainError> {
    let leaf = &certs[0];
    let leaf_key = PublicKey::from_spki(&leaf.tbs_certificate.subject_public_key_info)
        .map_err(|e| ChainError::Requirements(format!("signing certificate {:?}: {e}", subject(leaf))))?;
    if same_key(&leaf_key, key) {
        return Ok(());
    }
    let other = certs.iter().enumerate().skip(1).find(|(_, c)| {
        PublicKey::from_spki(&c.tbs_certificate.subject_public_key_info).is_ok_and(|k| same_key(&k, key))
    });
    let hint = match other {
        Some((i, c)) => format!(
            "it is the key of certificate {} ({}); the signing certificate must come first in the chain file",
            i + 1,
            subject(c)
        ),
        None => format!(
            "the key is {} and the certificate holds a different {} key; give the certificate issued for this key",
            describe(key),
            describe(&leaf_key)
        ),
    };
    Err(ChainError::KeyMismatch { subject: subject(leaf), hint })
}

fn describe(key: &PublicKey) -> String {
    use rsa::traits::PublicKeyParts as _;
    match key {
        PublicKey::Rsa(k) => format!("RSA {}", k.n().bits()),
        PublicKey::P256(_) => "EC P-256".into(),
        PublicKey::P384(_) => "EC P-384".into(),
        PublicKey::P521(_) => "EC P-521".into(),
    }
}

fn same_key(a: &PublicKey, b: &PublicKey) -> bool {
    match (a, b) {
        (PublicKey::Rsa(a), PublicKey::Rsa(b)) => a == b,
        (PublicKey::P256(a), PublicKey::P256(b)) => a.to_encoded_point(false) == b.to_encoded_point(false),
        (PublicKey::P384(a), PublicKey::P384(b)) => a.to_encoded_point(false) == b.to_encoded_point(false),
        (PublicKey::P521(a), PublicKey::P521(b)) => a.to_encoded_point(false) == b.to_encoded_point(false),
        _ => false,
    }
}

/// Go checks every certificate against the signing time, not only the leaf.
fn check_validity(certs: &[Certificate], now: DateTime<Utc>) -> Result<(), ChainError> {
    let shown = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    for (i, cert) in certs.iter().enumerate() {
        let validity = &cert.tbs_certificate.validity;
        let (not_before, not_after) = (to_utc(validity.not_before), to_utc(validity.not_after));
        if now < not_before {
            return Err(ChainError::NotYetValid {
                number: i + 1,
                subject: subject(cert),
                not_before: shown(not_before),
                now: shown(now),
            });
        }
        if now > not_after {
            return Err(ChainError::Expired {
                number: i + 1,
                subject: subject(cert),
                not_after: shown(not_after),
                now: shown(now),
            });
        }
    }
    Ok(())
}
