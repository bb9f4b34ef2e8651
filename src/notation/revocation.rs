//! Revocation of certificate chains through their CRL distribution points.
//!
//! What is and is not done, deliberately:
//! - Only CRLs (RFC 5280) over `http`/`https`; OCSP is not implemented, so a certificate
//!   whose only revocation information is an OCSP responder is reported Unknown.
//! - A certificate without any revocation information (no CRL distribution point, no
//!   authority information access) cannot be revoked by its issuer and counts as Good, as
//!   Notation counts it; one offering only OCSP is Unknown. The verifier decides what an
//!   Unknown means at each verification level; this module only reports.
//! - Every HTTP URL of every CRL distribution point of a certificate is consulted (as
//!   notation-core-go does, which also treats each URL as a point of its own): Revoked if any
//!   CRL lists the certificate; Good only if every one of them answered with a valid, fresh
//!   CRL in scope that does not. A URL that cannot be fetched or validated, or a point that
//!   cannot be consulted at all (only LDAP, a name relative to the issuer, a separate CRL
//!   issuer), makes the status Unknown, naming it. More than [`MAX_CRL_URLS`] URLs are
//!   refused unfetched, and the downloads of one chain together stop at
//!   [`MAX_CHAIN_CRL_BYTES`] (Unknown). A CRL's entries are decoded only after its
//!   signature verifies.
//! - A CRL's scope (RFC 5280 §5.2.5, §6.3.3) is honoured: its issuingDistributionPoint must
//!   name the distribution point the certificate points at, cover end-entity or CA
//!   certificates as the certificate is one or the other (basicConstraints), and not be for
//!   attribute certificates. A CRL outside the certificate's scope is no evidence either
//!   way (Unknown) and is never cached. Reason-partitioned CRLs (a point's `reasons`, a
//!   CRL's onlySomeReasons) count only for their reasons, and the points together must
//!   cover every reason for the status to be Good.
//! - Delta CRLs (Freshest CRL extension) are ignored: the base CRL alone decides. A CRL
//!   that is itself a delta CRL, an indirect CRL, one with an issuingDistributionPoint that
//!   does not parse, or one with an unknown critical extension is refused (Unknown), never
//!   half-understood.
//! - The cache holds one CRL per URL (named by the URL's hash) and answers only for that
//!   URL, after the same checks as a download (signature, scope, freshness). Only a regular
//!   file of at most [`MAX_CRL_BYTES`] is read from it, so a planted symlink to a device or
//!   a FIFO is refused rather than read without end.
//! - The last certificate of the chain, when self-signed, is the trust anchor and is not
//!   checked (nothing but itself could sign its CRL).
//! - `at` is the time the signature must be judged at (the authentic signing time for
//!   the signingAuthority scheme, otherwise "now"): like Notation, an entry whose
//!   invalidityDate is after `at` does not count, because the key was still good when it
//!   signed. Entries without an invalidityDate count whatever their revocationDate, since
//!   the compromise may predate the revocation; so do entries whose invalidityDate is
//!   later than the CRL's thisUpdate (a compromise the CA dates in its own future is no
//!   evidence the key was good before that date).
//! - CRL freshness (nextUpdate) is judged against the wall clock, not `at`: it is about
//!   whether this copy of the list is current, not about the signature.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use const_oid::ObjectIdentifier;
use der::asn1::AnyRef;
use der::asn1::GeneralizedTime;
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::crl::dp::{DistributionPoint, ReasonFlags, Reasons};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{BasicConstraints, CrlDistributionPoints, CrlReason, IssuingDistributionPoint, KeyUsage};

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
pub const MAX_CRL_BYTES: usize = 64 << 20;
/// Real certificates name one or two CRL URLs; a certificate naming more than this many is
/// refused unfetched rather than sending sigscope to all of them.
pub const MAX_CRL_URLS: usize = 16;
/// What the CRLs of one chain may add up to. Every URL of every certificate is fetched at
/// once, and revocation runs even for a chain nobody trusts when a policy only logs
/// authenticity: without a total, ten certificates naming 16 URLs each could make sigscope
/// hold 144 CRLs of 64 MiB. Two maximal CRLs fit; a real chain has one or two small ones.
pub const MAX_CHAIN_CRL_BYTES: usize = 2 * MAX_CRL_BYTES;

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
    let ctx = Ctx { mode, client: tokio::sync::OnceCell::new(), now, at, downloaded: Default::default() };
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
    /// Bytes downloaded so far for this chain, against [`MAX_CHAIN_CRL_BYTES`].
    downloaded: std::sync::atomic::AtomicUsize,
}

/// A CRL that passed every check against its issuer.
struct ValidCrl {
    crl: CertificateList,
    next_update: Option<DateTime<Utc>>,
    /// Its scope, when it declares one.
    idp: Option<IssuingDistributionPoint>,
}

/// One URL at which a certificate says its CRL is published, with the distribution point
/// naming it (whose names and reasons the CRL found there must match).
struct Point<'c> {
    dp: &'c DistributionPoint,
    names: &'c [GeneralName],
    url: String,
}

/// What one point said about a certificate.
enum Answer {
    Revoked(RevocationStatus),
    /// Not listed by a CRL covering these reasons.
    NotListed(ReasonFlags),
    Failed(String),
}

/// Every reason a certificate can be revoked for (ReasonFlags without `unused`).
fn all_reasons() -> ReasonFlags {
    ReasonFlags::full() - Reasons::Unused
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
        let mut problems = Vec::new();
        let mut targets = Vec::new();
        for (n, dp) in points.0.iter().enumerate() {
            match consultable(dp) {
                Ok((names, urls)) => targets.extend(urls.into_iter().map(|url| Point { dp, names, url })),
                Err(why) => problems.push(format!("distribution point #{} {why}", n + 1)),
            }
        }
        if targets.is_empty() {
            return unknown(format!(
                "certificate {subject} has no HTTP CRL distribution point ({})",
                problems.join("; ")
            ));
        }
        if targets.len() > MAX_CRL_URLS {
            return unknown(format!(
                "certificate {subject} names {} CRL URLs; more than {MAX_CRL_URLS} are refused unfetched",
                targets.len()
            ));
        }
        let answers = futures::future::join_all(targets.iter().map(|p| self.consult(p, cert, issuer))).await;
        let mut covered = ReasonFlags::default();
        for (point, answer) in targets.iter().zip(answers) {
            match answer {
                Answer::Revoked(status) => return status,
                Answer::NotListed(reasons) => covered |= reasons,
                Answer::Failed(e) => problems.push(format!("{}: {e}", point.url)),
            }
        }
        if !problems.is_empty() {
            return unknown(format!("revocation status of {subject} is unknown: {}", problems.join("; ")));
        }
        let missing = all_reasons() - covered;
        if !missing.is_empty() {
            return unknown(format!(
                "revocation status of {subject} is unknown: its CRLs cover only the reasons {} (not {})",
                reason_names(covered),
                reason_names(missing)
            ));
        }
        RevocationStatus::Good
    }

    /// Asks one point: its CRL (cached or fetched), checked against `issuer` and the point's
    /// scope, then looked up.
    async fn consult(&self, point: &Point<'_>, cert: &Certificate, issuer: &Certificate) -> Answer {
        match self.crl(point, cert, issuer).await {
            Ok((crl, reasons)) => match self.lookup(&crl.crl, cert, &point.url) {
                RevocationStatus::Good => Answer::NotListed(reasons),
                revoked @ RevocationStatus::Revoked { .. } => Answer::Revoked(revoked),
                RevocationStatus::Unknown { reason } => Answer::Failed(reason),
            },
            Err(e) => Answer::Failed(e),
        }
    }

    /// A valid, current CRL for `point` whose scope covers `cert`, with the reasons it
    /// covers: the cached copy while it is fresh, else (online) a new download, which
    /// replaces the cache.
    async fn crl(
        &self,
        point: &Point<'_>,
        cert: &Certificate,
        issuer: &Certificate,
    ) -> Result<(ValidCrl, ReasonFlags), String> {
        let url = point.url.as_str();
        let accept = |bytes: &[u8]| {
            let crl = validate(bytes, issuer, self.now)?;
            let reasons = crl.scope(point, cert)?;
            Ok::<_, String>((crl, reasons))
        };
        let path = cached_crl_path(self.mode.cache_dir(), url);
        let cached = match read_cached(&path) {
            Ok(Some(bytes)) => Some(accept(&bytes)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        };
        let cache_problem = match cached {
            Some(Ok((crl, reasons))) if crl.fresh(self.now) => return Ok((crl, reasons)),
            Some(Ok((crl, _))) => match crl.next_update {
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
        let bytes = download(client, url, &self.downloaded).await?;
        let (crl, reasons) = accept(&bytes)?;
        if !crl.fresh(self.now) {
            let next = crl.next_update.map_or("none".to_string(), |n| n.to_rfc3339());
            return Err(format!("the CRL served is out of date (nextUpdate {next})"));
        }
        // A cache that cannot be written only costs a refetch next time.
        let _ = store(&path, &bytes);
        Ok((crl, reasons))
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
            // An invalidityDate later than the CRL itself is a date the CA cannot know a
            // compromise from: it proves nothing about the key before it, so the entry
            // counts (Notation, for the x509 scheme, never looks at the date at all).
            let issued = sigverify::to_utc(crl.tbs_cert_list.this_update);
            if let Some(invalid_from) = invalidity
                && self.at < invalid_from
                && invalid_from <= issued
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

/// The parts of a CRL read before its signature is checked: what the signature covers,
/// how it is made, and the names it claims. The entry list, the bulk of a CRL, is decoded
/// only once the issuer's signature vouches for it, so a hostile server's 64 MiB of entries
/// costs a hash, not a few hundred MiB of decoded entries.
struct Envelope<'a> {
    tbs: &'a [u8],
    tbs_signature: AlgorithmIdentifierOwned,
    issuer: x509_cert::name::Name,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: der::asn1::BitStringRef<'a>,
}

impl<'a> Envelope<'a> {
    /// CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue },
    /// TBSCertList ::= SEQUENCE { version OPTIONAL, signature, issuer, ... }.
    fn parse(bytes: &'a [u8]) -> Result<Self, String> {
        let bad = |e: der::Error| format!("not a DER CRL: {e}");
        let outer = AnyRef::from_der(bytes).map_err(bad)?;
        if outer.tag() != Tag::Sequence {
            return Err(format!("not a DER CRL: a {} where a SEQUENCE is expected", outer.tag()));
        }
        let mut r = SliceReader::new(outer.value()).map_err(bad)?;
        let tbs_any: AnyRef<'a> = r.decode().map_err(bad)?;
        let signature_algorithm: AlgorithmIdentifierOwned = r.decode().map_err(bad)?;
        let signature: der::asn1::BitStringRef<'a> = r.decode().map_err(bad)?;
        r.finish(()).map_err(bad)?;
        let mut t = SliceReader::new(tbs_any.value()).map_err(bad)?;
        if t.peek_tag().map_err(bad)? == Tag::Integer {
            let _version: u8 = t.decode().map_err(bad)?;
        }
        let tbs_signature: AlgorithmIdentifierOwned = t.decode().map_err(bad)?;
        let issuer: x509_cert::name::Name = t.decode().map_err(bad)?;
        let start = bytes.len() - outer.value().len();
        let tbs_len = usize::try_from(tbs_any.encoded_len().map_err(bad)?).map_err(|_| "CRL too large".to_string())?;
        let tbs = &bytes[start..start + tbs_len];
        Ok(Envelope { tbs, tbs_signature, issuer, signature_algorithm, signature })
    }
}

/// Parses `bytes` as a CRL and checks that `issuer` issued it and that it is something
/// this checker fully understands. Freshness is left to the caller.
fn validate(bytes: &[u8], issuer: &Certificate, now: DateTime<Utc>) -> Result<ValidCrl, String> {
    let env = Envelope::parse(bytes)?;
    let issuer_name = &issuer.tbs_certificate.subject;
    if env.issuer != *issuer_name {
        return Err(format!("CRL is issued by {}, not by {issuer_name}", env.issuer));
    }
    if env.tbs_signature != env.signature_algorithm {
        return Err("CRL signature algorithm fields disagree".into());
    }
    if let Ok(Some((_, ku))) = issuer.tbs_certificate.get::<KeyUsage>()
        && !ku.crl_sign()
    {
        return Err(format!("{issuer_name} may not sign CRLs (no cRLSign key usage)"));
    }
    let sig = env.signature.as_bytes().ok_or("CRL signature is not whole bytes")?;
    sigverify::verify(&issuer.tbs_certificate.subject_public_key_info, &env.signature_algorithm, None, env.tbs, sig)
        .map_err(|e| format!("CRL signature by {issuer_name}: {e}"))?;
    let crl = CertificateList::from_der(bytes).map_err(|e| format!("not a DER CRL: {e}"))?;
    let tbs = &crl.tbs_cert_list;
    let mut idp = None;
    let mut seen = std::collections::HashSet::new();
    for ext in tbs.crl_extensions.iter().flatten() {
        // RFC 5280 §4.2 forbids repeats; which copy counts would be a guess.
        if !seen.insert(ext.extn_id) {
            return Err(format!("CRL has the extension {} more than once", ext.extn_id));
        }
        match ext.extn_id {
            ID_CE_DELTA_CRL_INDICATOR => return Err("it is a delta CRL; delta CRLs are not supported".into()),
            // The scope: what does not depend on the certificate is checked here, the rest
            // by ValidCrl::scope.
            ID_CE_ISSUING_DISTRIBUTION_POINT => idp = Some(parse_idp(ext.extn_value.as_bytes())?),
            ID_CE_CRL_NUMBER | ID_CE_AUTHORITY_KEY_IDENTIFIER | ID_CE_FRESHEST_CRL | ID_PE_AUTHORITY_INFO_ACCESS => {}
            other if ext.critical => return Err(format!("CRL has unknown critical extension {other}")),
            _ => {}
        }
    }
    let this_update = sigverify::to_utc(tbs.this_update);
    if this_update > now + chrono::Duration::minutes(5) {
        return Err(format!("CRL thisUpdate {} is in the future", this_update.to_rfc3339()));
    }
    let next_update = tbs.next_update.map(sigverify::to_utc);
    Ok(ValidCrl { crl, next_update, idp })
}

/// The CRL's issuingDistributionPoint, refused when it makes a CRL this checker does not
/// evaluate (indirect, attribute certificates) or is self-contradictory.
fn parse_idp(value: &[u8]) -> Result<IssuingDistributionPoint, String> {
    let idp = IssuingDistributionPoint::from_der(value)
        .map_err(|e| format!("the CRL's issuingDistributionPoint does not parse: {e}"))?;
    if idp.indirect_crl {
        return Err(
            "it is an indirect CRL (issuingDistributionPoint indirectCRL); indirect CRLs are not supported".into()
        );
    }
    if idp.only_contains_attribute_certs {
        return Err(
            "it covers only attribute certificates (issuingDistributionPoint onlyContainsAttributeCerts)".into()
        );
    }
    if idp.only_contains_user_certs && idp.only_contains_ca_certs {
        return Err("its issuingDistributionPoint sets both onlyContainsUserCerts and onlyContainsCACerts".into());
    }
    Ok(idp)
}

impl ValidCrl {
    /// RFC 5280 §6.3.3 (b) and (d): whether this CRL, found at `point`, covers `cert`, and
    /// for which reasons. Out of scope is an error: such a CRL says nothing about `cert`.
    fn scope(&self, point: &Point<'_>, cert: &Certificate) -> Result<ReasonFlags, String> {
        let crl_issuer = &self.crl.tbs_cert_list.issuer;
        if *crl_issuer != cert.tbs_certificate.issuer {
            return Err(format!("CRL is issued by {crl_issuer}, not by the certificate's issuer"));
        }
        let dp_reasons = point.dp.reasons.unwrap_or_else(all_reasons);
        let Some(idp) = &self.idp else {
            // A complete CRL: every certificate of its issuer, every reason.
            return Ok(dp_reasons & all_reasons());
        };
        match &idp.distribution_point {
            // RFC 5280 §6.3.3 (b)(2)(i): one of its names must be one of the point's.
            Some(DistributionPointName::FullName(names))
                if !names.iter().any(|n| point.names.iter().any(|m| same_name(n, m))) =>
            {
                return Err(format!(
                    "the CRL is for the distribution point {}, not the distribution point {} the certificate names",
                    describe_names(names),
                    describe_names(point.names)
                ));
            }
            None | Some(DistributionPointName::FullName(_)) => {}
            Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                return Err("the CRL names its distribution point relative to its issuer, which cannot be \
                     matched with the certificate's URL"
                    .into());
            }
        }
        let is_ca = match cert.tbs_certificate.get::<BasicConstraints>() {
            Ok(bc) => bc.is_some_and(|(_, bc)| bc.ca),
            Err(e) => return Err(format!("the certificate's basicConstraints do not parse: {e}")),
        };
        if idp.only_contains_user_certs && is_ca {
            return Err("the CRL covers only end-entity certificates (issuingDistributionPoint \
                 onlyContainsUserCerts), and this is a CA certificate"
                .into());
        }
        if idp.only_contains_ca_certs && !is_ca {
            return Err("the CRL covers only CA certificates (issuingDistributionPoint onlyContainsCACerts), \
                 and this is an end-entity certificate"
                .into());
        }
        let reasons = dp_reasons & idp.only_some_reasons.unwrap_or_else(all_reasons) & all_reasons();
        if reasons.is_empty() {
            return Err(format!(
                "the CRL covers only the reasons {}, none of those the distribution point is for",
                reason_names(idp.only_some_reasons.unwrap_or_default())
            ));
        }
        Ok(reasons)
    }
}

/// The names and HTTP URLs of a distribution point, or why it cannot be consulted.
fn consultable(dp: &DistributionPoint) -> Result<(&[GeneralName], Vec<String>), String> {
    if dp.crl_issuer.is_some() {
        // RFC 5280 §6.3.3 (b)(1): its CRL would be an indirect CRL from that issuer.
        return Err("names a separate CRL issuer (an indirect CRL), which is not supported".into());
    }
    let names = match &dp.distribution_point {
        Some(DistributionPointName::FullName(names)) => names.as_slice(),
        Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
            return Err("names its CRL relative to the issuer's name, which cannot be fetched".into());
        }
        None => return Err("names no CRL location".into()),
    };
    let urls: Vec<String> = names
        .iter()
        .filter_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            _ => None,
        })
        .filter(|uri| uri.starts_with("http://") || uri.starts_with("https://"))
        .collect();
    if urls.is_empty() {
        return Err(format!("offers no HTTP URL ({})", describe_names(names)));
    }
    Ok((names, urls))
}

/// RFC 5280 §6.3.3 (b)(2)(i) compares names; compared here by their DER, so a URL matches
/// only itself byte for byte (stricter than the RFC's case-insensitive host, never looser).
fn same_name(a: &GeneralName, b: &GeneralName) -> bool {
    matches!((a.to_der(), b.to_der()), (Ok(x), Ok(y)) if x == y)
}

fn describe_names(names: &[GeneralName]) -> String {
    let each: Vec<String> = names
        .iter()
        .map(|n| match n {
            GeneralName::UniformResourceIdentifier(uri) => uri.to_string(),
            GeneralName::DirectoryName(dn) => format!("directory name {dn}"),
            _ => "a name that is not a URL".to_string(),
        })
        .collect();
    each.join(", ")
}

/// RFC 5280's names of the reasons in `set`, comma-separated.
fn reason_names(set: ReasonFlags) -> String {
    let names: Vec<&str> = set
        .into_iter()
        .filter_map(|r| match r {
            Reasons::Unused => None,
            Reasons::KeyCompromise => Some("keyCompromise"),
            Reasons::CaCompromise => Some("cACompromise"),
            Reasons::AffiliationChanged => Some("affiliationChanged"),
            Reasons::Superseded => Some("superseded"),
            Reasons::CessationOfOperation => Some("cessationOfOperation"),
            Reasons::CertificateHold => Some("certificateHold"),
            Reasons::PrivilegeWithdrawn => Some("privilegeWithdrawn"),
            Reasons::AaCompromise => Some("aACompromise"),
        })
        .collect();
    if names.is_empty() { "(none)".into() } else { names.join(", ") }
}

/// The cached CRL at `path`, `None` when there is none. Read through [`crate::fsread`]: only
/// a regular file (symlinks followed) of at most [`MAX_CRL_BYTES`], opened without blocking,
/// so a symlink planted to `/dev/zero` or a FIFO is refused rather than read without end.
fn read_cached(path: &Path) -> Result<Option<Vec<u8>>, String> {
    crate::fsread::read_optional(path, MAX_CRL_BYTES as u64, crate::fsread::Symlinks::Follow)
        .map_err(|e| format!("cannot read the cached CRL {}: {}; remove it", path.display(), e.reason()))
}

async fn download(
    client: &reqwest::Client,
    url: &str,
    downloaded: &std::sync::atomic::AtomicUsize,
) -> Result<Vec<u8>, String> {
    use std::sync::atomic::Ordering;
    let over_total = || {
        format!(
            "the CRLs of this certificate chain exceed {} MiB in total; a chain whose CRLs are this large is \
             refused rather than held in memory",
            MAX_CHAIN_CRL_BYTES >> 20
        )
    };
    let mut response = client.get(url).send().await.map_err(|e| format!("fetch failed: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("fetch failed: HTTP {}", response.status()));
    }
    if response.content_length().is_some_and(|n| n > MAX_CRL_BYTES as u64) {
        return Err("CRL is larger than 64 MiB".into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("fetch failed: {e}"))? {
        // Counted as it arrives, so concurrent downloads share the total as they go.
        if downloaded.fetch_add(chunk.len(), Ordering::Relaxed) + chunk.len() > MAX_CHAIN_CRL_BYTES {
            return Err(over_total());
        }
        body.extend_from_slice(&chunk);
        if body.len() > MAX_CRL_BYTES {
            return Err("CRL is larger than 64 MiB".into());
        }
    }
    Ok(body)
}

/// Written beside and renamed into place so a concurrent reader never sees half a file
/// ([`crate::fswrite`]: a temporary name unique per process and per write, never written
/// through); not synced: a cache entry lost in a crash only costs a refetch.
fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::fswrite::write_atomic(path, bytes, crate::fswrite::WriteOptions::default())
}
