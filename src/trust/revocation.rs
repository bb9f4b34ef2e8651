//! Revocation of certificate chains through their CRL distribution points.
//!
//! What is and is not done, deliberately:
//! - Only CRLs (RFC 5280) over `http`/`https`; OCSP is not implemented, so a certificate
//!   whose only revocation information is an OCSP responder is reported Unknown.
//! - A certificate without CRL distribution points is reported Unknown with the reason;
//!   Notation's Go implementation counts it as not revoked. The verifier decides what an
//!   Unknown means at each verification level; this module only reports.
//! - Delta CRLs (Freshest CRL extension) are ignored: the base CRL alone decides. A CRL
//!   that is itself a delta CRL, an indirect CRL, or one with an unknown critical
//!   extension is refused (Unknown), never half-understood.
//! - The last certificate of the chain, when self-signed, is the trust anchor and is not
//!   checked (nothing but itself could sign its CRL).
//! - `at` is the time the signature must be judged at (the authentic signing time for
//!   the signingAuthority scheme, otherwise "now"): like Notation, an entry whose
//!   invalidityDate is after `at` does not count, because the key was still good when it
//!   signed. Entries without an invalidityDate count whatever their revocationDate, since
//!   the compromise may predate the revocation.
//! - CRL freshness (nextUpdate) is judged against the wall clock, not `at`: it is about
//!   whether this copy of the list is current, not about the signature.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use const_oid::ObjectIdentifier;
use der::Decode;
use der::asn1::GeneralizedTime;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{CrlDistributionPoints, CrlReason, KeyUsage};

use super::timestamp::sigverify;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationMode {
    /// Fetch CRLs over HTTP, caching them in `cache_dir`.
    Online { cache_dir: PathBuf, timeout: Duration },
    /// Use only what `cache_dir` already holds.
    Offline { cache_dir: PathBuf },
}

impl RevocationMode {
    fn cache_dir(&self) -> &Path {
        match self {
            Self::Online { cache_dir, .. } | Self::Offline { cache_dir } => cache_dir,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStatus {
    Good,
    Revoked {
        subject: String,
        reason: String,
    },
    /// Could not be determined (no CRL distribution point, fetch failed, offline without cache…).
    Unknown {
        reason: String,
    },
}

const ID_CE_CRL_DISTRIBUTION_POINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");
const ID_CE_CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
const ID_CE_REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
const ID_CE_INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
const ID_CE_DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const ID_CE_ISSUING_DISTRIBUTION_POINT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.28");
const ID_CE_CERTIFICATE_ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.29");
const ID_CE_AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const ID_CE_FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");
const ID_PE_AUTHORITY_INFO_ACCESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
/// CRLs of public CAs reach tens of MiB at worst; more than this is treated as hostile.
const MAX_CRL_BYTES: usize = 64 << 20;

/// Where the CRL fetched from `url` is cached: one file per URL, named by its SHA-256 so
/// any URL maps to a safe file name.
pub fn cached_crl_path(cache_dir: &Path, url: &str) -> PathBuf {
    cache_dir.join(format!("{}.crl", hex::encode(Sha256::digest(url.as_bytes()))))
}

/// Whether any certificate of `chain` (DER) names a way to check its revocation (CRL
/// distribution points or authority information access). Without one, [`check_chain`]
/// can only answer Good, so a caller may skip it.
pub fn offers_revocation_info(chain: &[Vec<u8>]) -> bool {
    chain.iter().any(|der| match Certificate::from_der(der) {
        Ok(c) => c
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .any(|e| e.extn_id == ID_PE_AUTHORITY_INFO_ACCESS || e.extn_id == ID_CE_CRL_DISTRIBUTION_POINTS),
        // Unparseable: let check_chain report it.
        Err(_) => true,
    })
}

/// Checks every certificate of `chain` (DER, leaf first, each issued by the next) at `at`.
pub async fn check_chain(chain: &[Vec<u8>], mode: &RevocationMode, at: DateTime<Utc>) -> RevocationStatus {
    let mut certs = Vec::with_capacity(chain.len());
    for (i, der) in chain.iter().enumerate() {
        match Certificate::from_der(der) {
            Ok(c) => certs.push(c),
            Err(e) => {
                return RevocationStatus::Unknown { reason: format!("chain certificate #{i} does not parse: {e}") };
            }
        }
    }
    if certs.is_empty() {
        return RevocationStatus::Unknown { reason: "empty certificate chain".into() };
    }
    let now = Utc::now();
    // The HTTP client is built on first download only: most chains carry no CRL
    // distribution point, and building a client (TLS roots) costs more than verifying.
    let ctx = Ctx { mode, client: tokio::sync::OnceCell::new(), now, at };
    let outcomes = futures::future::join_all((0..certs.len()).map(|i| ctx.check_cert(&certs, i))).await;

    let mut unknown = Vec::new();
    for outcome in outcomes {
        match outcome {
            RevocationStatus::Good => {}
            revoked @ RevocationStatus::Revoked { .. } => return revoked,
            RevocationStatus::Unknown { reason } => unknown.push(reason),
        }
    }
    if unknown.is_empty() { RevocationStatus::Good } else { RevocationStatus::Unknown { reason: unknown.join("; ") } }
}

struct Ctx<'a> {
    mode: &'a RevocationMode,
    client: tokio::sync::OnceCell<Result<reqwest::Client, String>>,
    now: DateTime<Utc>,
    at: DateTime<Utc>,
}

/// A CRL that passed every check against its issuer.
struct ValidCrl {
    crl: CertificateList,
    next_update: Option<DateTime<Utc>>,
}

impl ValidCrl {
    fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.next_update.is_some_and(|n| now < n)
    }
}

impl Ctx<'_> {
    async fn check_cert(&self, certs: &[Certificate], i: usize) -> RevocationStatus {
        let cert = &certs[i];
        let subject = cert.tbs_certificate.subject.to_string();
        let unknown = |reason: String| RevocationStatus::Unknown { reason };
        let Some(issuer) = certs.get(i + 1) else {
            if cert.tbs_certificate.issuer == cert.tbs_certificate.subject {
                return RevocationStatus::Good;
            }
            return unknown(format!("the issuer of {subject} is not in the chain, so its CRL cannot be verified"));
        };
        let points = match cert.tbs_certificate.get::<CrlDistributionPoints>() {
            Ok(Some((_, points))) => points,
            Ok(None) => {
                let has_aia =
                    cert.tbs_certificate.extensions.iter().flatten().any(|e| e.extn_id == ID_PE_AUTHORITY_INFO_ACCESS);
                if has_aia {
                    return unknown(format!(
                        "certificate {subject} has no CRL distribution point and OCSP is not implemented"
                    ));
                }
                // No revocation information at all: the issuer offers no way to revoke it,
                // and Notation treats such a certificate as not revoked.
                return RevocationStatus::Good;
            }
            Err(e) => return unknown(format!("certificate {subject}: CRL distribution points do not parse: {e}")),
        };
        let urls: Vec<String> = points
            .0
            .iter()
            // A CRL issuer other than the certificate's issuer makes an indirect CRL, which
            // this checker does not verify.
            .filter(|dp| dp.crl_issuer.is_none())
            .filter_map(|dp| match &dp.distribution_point {
                Some(DistributionPointName::FullName(names)) => Some(names),
                _ => None,
            })
            .flatten()
            .filter_map(|name| match name {
                GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
                _ => None,
            })
            .filter(|uri| uri.starts_with("http://") || uri.starts_with("https://"))
            .collect();
        if urls.is_empty() {
            return unknown(format!("certificate {subject} has no HTTP CRL distribution point"));
        }
        let mut failures = Vec::new();
        for url in &urls {
            match self.crl(url, issuer).await {
                Ok(crl) => return self.lookup(&crl.crl, cert, url),
                Err(e) => failures.push(format!("{url}: {e}")),
            }
        }
        unknown(format!("revocation status of {subject} is unknown: {}", failures.join("; ")))
    }

    /// A valid, current CRL for `url`: the cached copy while it is fresh, else (online) a
    /// new download, which replaces the cache.
    async fn crl(&self, url: &str, issuer: &Certificate) -> Result<ValidCrl, String> {
        let path = cached_crl_path(self.mode.cache_dir(), url);
        let cached = match std::fs::read(&path) {
            Ok(bytes) => Some(validate(&bytes, issuer, self.now)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => Some(Err(format!("cannot read the cached CRL {}: {e}", path.display()))),
        };
        let cache_problem = match cached {
            Some(Ok(crl)) if crl.fresh(self.now) => return Ok(crl),
            Some(Ok(crl)) => match crl.next_update {
                Some(next) => format!("the cached CRL is stale (nextUpdate {})", next.to_rfc3339()),
                None => "the cached CRL has no nextUpdate".to_string(),
            },
            Some(Err(e)) => format!("the cached CRL is unusable ({e})"),
            None => "no cached CRL".to_string(),
        };
        let RevocationMode::Online { timeout, .. } = self.mode else {
            return Err(format!("offline and {cache_problem}"));
        };
        let client = self
            .client
            .get_or_init(|| async {
                reqwest::Client::builder()
                    .timeout(*timeout)
                    .connect_timeout(*timeout)
                    .redirect(reqwest::redirect::Policy::limited(3))
                    .build()
                    .map_err(|e| format!("cannot build an HTTP client: {e}"))
            })
            .await
            .as_ref()
            .map_err(Clone::clone)?;
        let bytes = download(client, url).await?;
        let crl = validate(&bytes, issuer, self.now)?;
        if !crl.fresh(self.now) {
            let next = crl.next_update.map_or("none".to_string(), |n| n.to_rfc3339());
            return Err(format!("the CRL served is out of date (nextUpdate {next})"));
        }
        // A cache that cannot be written only costs a refetch next time.
        let _ = store(&path, &bytes);
        Ok(crl)
    }

    fn lookup(&self, crl: &CertificateList, cert: &Certificate, url: &str) -> RevocationStatus {
        let subject = cert.tbs_certificate.subject.to_string();
        let entries = crl.tbs_cert_list.revoked_certificates.iter().flatten();
        for entry in entries.filter(|e| e.serial_number == cert.tbs_certificate.serial_number) {
            let mut reason = None;
            let mut invalidity: Option<DateTime<Utc>> = None;
            for ext in entry.crl_entry_extensions.iter().flatten() {
                let value = ext.extn_value.as_bytes();
                match ext.extn_id {
                    ID_CE_REASON_CODE => match CrlReason::from_der(value) {
                        Ok(r) => reason = Some(r),
                        Err(e) => return unknown(format!("CRL entry for {subject}: bad reason code: {e}")),
                    },
                    ID_CE_INVALIDITY_DATE => match GeneralizedTime::from_der(value) {
                        Ok(t) => invalidity = Some(sigverify::to_utc(x509_cert::time::Time::GeneralTime(t))),
                        Err(e) => return unknown(format!("CRL entry for {subject}: bad invalidity date: {e}")),
                    },
                    ID_CE_CERTIFICATE_ISSUER => {
                        return unknown(format!("CRL from {url} is indirect (certificateIssuer entry), not supported"));
                    }
                    other if ext.critical => {
                        return unknown(format!("CRL entry for {subject} has unknown critical extension {other}"));
                    }
                    _ => {}
                }
            }
            // removeFromCRL only has meaning in delta CRLs; in a base CRL it un-lists.
            if reason == Some(CrlReason::RemoveFromCRL) {
                continue;
            }
            if let Some(invalid_from) = invalidity
                && self.at < invalid_from
            {
                continue;
            }
            let serial = hex::encode(cert.tbs_certificate.serial_number.as_bytes());
            let when = sigverify::to_utc(entry.revocation_date).to_rfc3339();
            let why = reason.map_or("unspecified".to_string(), |r| format!("{r:?}"));
            let invalid = invalidity.map_or(String::new(), |t| format!(", invalid since {}", t.to_rfc3339()));
            return RevocationStatus::Revoked {
                subject,
                reason: format!("serial {serial} revoked on {when} (reason {why}{invalid}) per the CRL from {url}"),
            };
        }
        RevocationStatus::Good
    }
}

fn unknown(reason: String) -> RevocationStatus {
    RevocationStatus::Unknown { reason }
}

/// Parses `bytes` as a CRL and checks that `issuer` issued it and that it is something
/// this checker fully understands. Freshness is left to the caller.
fn validate(bytes: &[u8], issuer: &Certificate, now: DateTime<Utc>) -> Result<ValidCrl, String> {
    let crl = CertificateList::from_der(bytes).map_err(|e| format!("not a DER CRL: {e}"))?;
    let tbs = &crl.tbs_cert_list;
    let issuer_name = &issuer.tbs_certificate.subject;
    if tbs.issuer != *issuer_name {
        return Err(format!("CRL is issued by {}, not by {issuer_name}", tbs.issuer));
    }
    if tbs.signature != crl.signature_algorithm {
        return Err("CRL signature algorithm fields disagree".into());
    }
    if let Ok(Some((_, ku))) = issuer.tbs_certificate.get::<KeyUsage>()
        && !ku.crl_sign()
    {
        return Err(format!("{issuer_name} may not sign CRLs (no cRLSign key usage)"));
    }
    let signed = sigverify::signed_part(bytes)?;
    let sig = crl.signature.as_bytes().ok_or("CRL signature is not whole bytes")?;
    sigverify::verify(&issuer.tbs_certificate.subject_public_key_info, &crl.signature_algorithm, None, &signed, sig)
        .map_err(|e| format!("CRL signature by {issuer_name}: {e}"))?;
    for ext in tbs.crl_extensions.iter().flatten() {
        match ext.extn_id {
            ID_CE_DELTA_CRL_INDICATOR => return Err("it is a delta CRL; delta CRLs are not supported".into()),
            // Scope restrictions of an issuing distribution point are not evaluated; the
            // certificate pointed at this CRL, which is what the extension exists to allow.
            ID_CE_ISSUING_DISTRIBUTION_POINT
            | ID_CE_CRL_NUMBER
            | ID_CE_AUTHORITY_KEY_IDENTIFIER
            | ID_CE_FRESHEST_CRL
            | ID_PE_AUTHORITY_INFO_ACCESS => {}
            other if ext.critical => return Err(format!("CRL has unknown critical extension {other}")),
            _ => {}
        }
    }
    let this_update = sigverify::to_utc(tbs.this_update);
    if this_update > now + chrono::Duration::minutes(5) {
        return Err(format!("CRL thisUpdate {} is in the future", this_update.to_rfc3339()));
    }
    let next_update = tbs.next_update.map(sigverify::to_utc);
    Ok(ValidCrl { crl, next_update })
}

async fn download(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let mut response = client.get(url).send().await.map_err(|e| format!("fetch failed: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("fetch failed: HTTP {}", response.status()));
    }
    if response.content_length().is_some_and(|n| n > MAX_CRL_BYTES as u64) {
        return Err("CRL is larger than 64 MiB".into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("fetch failed: {e}"))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_CRL_BYTES {
            return Err("CRL is larger than 64 MiB".into());
        }
    }
    Ok(body)
}

/// Written beside and renamed into place so a concurrent reader never sees half a file;
/// the temporary name is unique per process and per write so two writers never share it.
fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
