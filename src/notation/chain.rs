//! Structural checks of a signing certificate chain (signature-specification.md
//! "Certificate Requirements", notation-core-go x509): leaf first, each certificate signed
//! by the next, a self-signed root last, CA and code-signing rules. Time is not looked at
//! here: the verifier decides which instant each certificate must be valid at.

use chrono::{DateTime, Utc};
use const_oid::ObjectIdentifier;
use der::Decode as _;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};

use super::envelope::crypto::PublicKey;
use super::timestamp::sigverify;

/// Longer chains than this are refused: real ones have 2 to 4 certificates.
pub const MAX_CHAIN: usize = 10;

const EKU_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
const EKU_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
const EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
const EKU_EMAIL: &str = "1.3.6.1.5.5.7.3.4";
const EKU_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
const EKU_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
const EKU_ANY: &str = "2.5.29.37.0";

/// The extensions a certificate may mark critical, in the signing chain and the TSA chain
/// alike. RFC 5280 §4.2: a certificate with a critical extension the verifier does not
/// recognise must be rejected, so this is the list of what is *processed*, not of what
/// exists. Go's crypto/x509 (which notation-go relies on) also processes nameConstraints,
/// certificatePolicies, policyMappings, policyConstraints and inhibitAnyPolicy; none of
/// those is enforced here, and each can only narrow what a chain may be trusted for, so
/// when critical they are refused rather than silently ignored.
pub(crate) const UNDERSTOOD_CRITICAL_EXTENSIONS: &[(ObjectIdentifier, &str)] = &[
    // Enforced by the CA, code-signing and TSA rules.
    (ObjectIdentifier::new_unwrap("2.5.29.19"), "basicConstraints"),
    (ObjectIdentifier::new_unwrap("2.5.29.15"), "keyUsage"),
    (ObjectIdentifier::new_unwrap("2.5.29.37"), "extKeyUsage"),
    // Safe to accept: they name things and restrict nothing. Chains are built by name and
    // signature, not key identifiers; identities are matched on the subject DN (a critical
    // subjectAltName is what RFC 5280 requires when the subject is empty); the revocation
    // check reads the CRL distribution points; authority information access is a hint.
    (ObjectIdentifier::new_unwrap("2.5.29.14"), "subjectKeyIdentifier"),
    (ObjectIdentifier::new_unwrap("2.5.29.35"), "authorityKeyIdentifier"),
    (ObjectIdentifier::new_unwrap("2.5.29.17"), "subjectAltName"),
    (ObjectIdentifier::new_unwrap("2.5.29.31"), "cRLDistributionPoints"),
    (ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1"), "authorityInfoAccess"),
];

/// The rules every certificate of a chain obeys, whatever its place: no extension twice
/// (RFC 5280 §4.2; two readers could each see a different one), no critical extension that
/// is not processed, and a key of the strength the leaf needs (RSA of at least 2048 bits,
/// EC on P-256/384/521), since a chain is only as strong as its weakest signature.
pub(crate) fn check_any_certificate(cert: &Certificate) -> Result<(), String> {
    // A set, not a list: anyone can put a self-signed certificate with a hundred thousand
    // extensions in an envelope, and a quadratic search over them hangs the verifier.
    let mut seen = std::collections::HashSet::new();
    for ext in cert.tbs_certificate.extensions.iter().flatten() {
        if !seen.insert(ext.extn_id) {
            return Err(format!("extension {} occurs more than once", ext.extn_id));
        }
        if ext.critical && !UNDERSTOOD_CRITICAL_EXTENSIONS.iter().any(|(oid, _)| *oid == ext.extn_id) {
            return Err(format!(
                "unrecognised critical extension {}: a certificate with a critical extension the verifier does not process is rejected (RFC 5280 section 4.2)",
                ext.extn_id
            ));
        }
    }
    super::envelope::crypto::check_certificate_key(&cert.tbs_certificate.subject_public_key_info)
}

/// One certificate of a validated chain, with what later checks need.
#[derive(Debug, Clone)]
pub struct ChainCert {
    pub der: Vec<u8>,
    pub subject: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// A chain that passed every structural check.
#[derive(Debug, Clone)]
pub struct ValidChain {
    pub certs: Vec<ChainCert>,
    pub leaf_key: PublicKey,
}

impl ValidChain {
    pub fn leaf(&self) -> &ChainCert {
        &self.certs[0]
    }

    pub fn ders(&self) -> Vec<Vec<u8>> {
        self.certs.iter().map(|c| c.der.clone()).collect()
    }

    /// The first certificate not valid at `at`, with the reason in Notation's words.
    pub fn invalid_at(&self, at: DateTime<Utc>, what: &str) -> Option<String> {
        self.certs.iter().find_map(|c| {
            if at < c.not_before {
                Some(format!(
                    "{what} is before certificate \"{}\" validity period, it will be valid from {}",
                    c.subject,
                    c.not_before.format("%Y-%m-%d %H:%M:%S UTC")
                ))
            } else if at > c.not_after {
                Some(format!(
                    "{what} is after certificate \"{}\" validity period, it was expired at {}",
                    c.subject,
                    c.not_after.format("%Y-%m-%d %H:%M:%S UTC")
                ))
            } else {
                None
            }
        })
    }
}

pub fn validate(chain: &[Vec<u8>]) -> Result<ValidChain, String> {
    if chain.is_empty() {
        return Err("the certificate chain is empty".into());
    }
    if chain.len() > MAX_CHAIN {
        return Err(format!("the certificate chain has {} certificates, more than {MAX_CHAIN}", chain.len()));
    }
    let certs = chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            Certificate::from_der(der).map_err(|e| format!("certificate #{i} of the chain does not parse: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let subject = |c: &Certificate| c.tbs_certificate.subject.to_string();
    let n = certs.len();
    let self_signed = |i: usize| -> bool {
        certs[i].tbs_certificate.issuer == certs[i].tbs_certificate.subject
            && sigverify::issued_by(&chain[i], &certs[i], &certs[i]).is_ok()
    };
    if n == 1 {
        if !self_signed(0) {
            return Err(format!(
                "invalid self-signed certificate {:?}: a single certificate must be self-signed and self-issued",
                subject(&certs[0])
            ));
        }
    } else {
        for i in 0..n - 1 {
            if self_signed(i) {
                let role = if i == 0 { "leaf" } else { "intermediate" };
                return Err(format!(
                    "{role} certificate {:?} is self-signed; a self-signed certificate may only end the chain",
                    subject(&certs[i])
                ));
            }
            sigverify::issued_by(&chain[i], &certs[i], &certs[i + 1]).map_err(|e| {
                format!("certificate {:?} is not issued by {:?}: {e}", subject(&certs[i]), subject(&certs[i + 1]))
            })?;
        }
        if !self_signed(n - 1) {
            return Err(format!("root certificate {:?} is invalid or not self-signed", subject(&certs[n - 1])));
        }
        for (i, cert) in certs.iter().enumerate().skip(1) {
            check_any_certificate(cert).map_err(|e| format!("CA certificate {:?}: {e}", subject(cert)))?;
            check_ca(cert, i - 1).map_err(|e| format!("CA certificate {:?}: {e}", subject(cert)))?;
        }
    }
    check_any_certificate(&certs[0]).map_err(|e| format!("signing certificate {:?}: {e}", subject(&certs[0])))?;
    check_leaf(&certs[0]).map_err(|e| format!("signing certificate {:?}: {e}", subject(&certs[0])))?;
    let leaf_key = PublicKey::from_spki(&certs[0].tbs_certificate.subject_public_key_info)
        .map_err(|e| format!("signing certificate {:?}: {e}", subject(&certs[0])))?;
    let certs = certs
        .iter()
        .zip(chain)
        .map(|(c, der)| ChainCert {
            der: der.clone(),
            subject: subject(c),
            not_before: sigverify::to_utc(c.tbs_certificate.validity.not_before),
            not_after: sigverify::to_utc(c.tbs_certificate.validity.not_after),
        })
        .collect();
    Ok(ValidChain { certs, leaf_key })
}

/// The CA rules alone for one DER certificate with `cas_below` CA certificates between it
/// and the leaf: notation-core-go tests its CA validator on certificates that end no chain.
pub fn validate_ca_certificate(der: &[u8], cas_below: usize) -> Result<(), String> {
    let cert = Certificate::from_der(der).map_err(|e| format!("certificate does not parse: {e}"))?;
    check_ca(&cert, cas_below)?;
    check_any_certificate(&cert)
}

/// The code-signing leaf rules (extensions and key) alone for one DER certificate.
pub fn validate_leaf_certificate(der: &[u8]) -> Result<(), String> {
    let cert = Certificate::from_der(der).map_err(|e| format!("certificate does not parse: {e}"))?;
    check_leaf(&cert)?;
    PublicKey::from_spki(&cert.tbs_certificate.subject_public_key_info)?;
    check_any_certificate(&cert)
}

fn extension<T: for<'a> der::Decode<'a> + const_oid::AssociatedOid>(
    cert: &Certificate,
) -> Result<Option<(bool, T)>, String> {
    cert.tbs_certificate.get::<T>().map_err(|e| format!("extension {} does not parse: {e}", T::OID))
}

/// `cas_below`: how many CA certificates sit between this one and the leaf.
fn check_ca(cert: &Certificate, cas_below: usize) -> Result<(), String> {
    match extension::<BasicConstraints>(cert)? {
        Some((_, bc)) if bc.ca => {
            if let Some(len) = bc.path_len_constraint
                && (len as usize) < cas_below
            {
                return Err(format!(
                    "expected path length of {cas_below} but certificate has path length {len} instead"
                ));
            }
        }
        _ => return Err("basic constraints must be present with the CA field set to true".into()),
    }
    match extension::<KeyUsage>(cert)? {
        None => Err("key usage extension must be present".into()),
        Some((false, _)) => Err("key usage extension must be marked critical".into()),
        Some((true, ku)) if !ku.0.contains(KeyUsages::KeyCertSign) => {
            Err("key usage must have the bit positions for key cert sign set".into())
        }
        Some(_) => Ok(()),
    }
}

fn check_leaf(cert: &Certificate) -> Result<(), String> {
    if let Some((_, bc)) = extension::<BasicConstraints>(cert)?
        && bc.ca
    {
        return Err("a CA certificate cannot sign: if the basic constraints extension is present, the ca field must be set to false".into());
    }
    match extension::<KeyUsage>(cert)? {
        None => return Err("key usage extension must be present".into()),
        Some((false, _)) => return Err("key usage extension must be marked critical".into()),
        Some((true, ku)) => {
            if !ku.0.contains(KeyUsages::DigitalSignature) {
                return Err("key usage must have the bit positions for \"Digital Signature\" set".into());
            }
            let forbidden = [
                (KeyUsages::KeyEncipherment, "KeyEncipherment"),
                (KeyUsages::DataEncipherment, "DataEncipherment"),
                (KeyUsages::KeyAgreement, "KeyAgreement"),
                (KeyUsages::KeyCertSign, "CertSign"),
                (KeyUsages::CRLSign, "CRLSign"),
                (KeyUsages::EncipherOnly, "EncipherOnly"),
                (KeyUsages::DecipherOnly, "DecipherOnly"),
            ];
            let found: Vec<&str> = forbidden.iter().filter(|(b, _)| ku.0.contains(*b)).map(|(_, n)| *n).collect();
            if !found.is_empty() {
                return Err(format!("key usage must be \"Digital Signature\" only, but found {}", found.join(", ")));
            }
        }
    }
    if let Some((_, eku)) = extension::<ExtendedKeyUsage>(cert)? {
        let oids: Vec<String> = eku.0.iter().map(|o| o.to_string()).collect();
        for (oid, name) in [
            (EKU_SERVER_AUTH, "ServerAuth"),
            (EKU_CLIENT_AUTH, "ClientAuth"),
            (EKU_EMAIL, "EmailProtection"),
            (EKU_TIME_STAMPING, "TimeStamping"),
            (EKU_OCSP_SIGNING, "OCSPSigning"),
            (EKU_ANY, "AnyExtendedKeyUsage"),
        ] {
            if oids.iter().any(|o| o == oid) {
                return Err(format!("extended key usage must not contain {name} eku"));
            }
        }
        // The spec: when the extension is present it must allow code signing.
        if !oids.iter().any(|o| o == EKU_CODE_SIGNING) {
            return Err("extended key usage is present but does not allow code signing".into());
        }
    }
    Ok(())
}
