//! RFC 3161 timestamp countersignatures (CMS SignedData carrying a TSTInfo).
//!
//! Follows the authenticTimestamp rules of the Notary Project (as implemented by
//! tspclient-go): SHA-2 imprints only, TSTInfo version 1, exactly one SignerInfo, a
//! SigningCertificateV2 signed attribute binding the signer certificate, a TSA leaf whose
//! only (critical) extended key usage is timeStamping, and the chain up to a `tsa:` root.
//! Everything is read from the token's own bytes ([`token`]): the attributes checked are
//! the ones the signature covers, and the TSTInfo is the one their messageDigest covers.

pub(crate) mod sigverify;
mod token;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use cms::signed_data::SignerIdentifier;
use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier};

use sigverify::HashAlg;
use token::{Cert, SignedAttrs, SignerInfo, TimestampToken};

const ID_CT_TSTINFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const ANY_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
/// ETSI baseline time-stamp policy: a token under it without an accuracy field is worth ±1 s
/// (ETSI EN 319 422), which is what tspclient-go assumes.
const BASELINE_TSP_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.2023.1.1");
/// Longest chain walked from the TSA certificate to a root; real TSA chains have 2 or 3.
const MAX_CHAIN: usize = 8;

/// What a verified timestamp token asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampInfo {
    /// genTime − accuracy and genTime + accuracy.
    pub earliest: DateTime<Utc>,
    pub latest: DateTime<Utc>,
    /// Subject DN of the TSA signing certificate.
    pub tsa_subject: String,
    /// The TSTInfo genTime itself.
    pub gen_time: DateTime<Utc>,
    /// The TSA chain that was validated (DER, TSA certificate first, ending with the
    /// `tsa:` root): the verifier revocation-checks it like Notation does.
    pub tsa_chain: Vec<Vec<u8>>,
}

/// Verifies an RFC 3161 token countersigning `signature` (the raw signature bytes of the
/// envelope) against the certificates of a `tsa:` trust store (DER), at `now`.
/// Any problem is an `Err` with the reason in words.
pub fn verify_timestamp(
    token_der: &[u8],
    signature: &[u8],
    tsa_roots: &[Vec<u8>],
    now: DateTime<Utc>,
) -> Result<TimestampInfo, String> {
    let token = TimestampToken::parse(token_der)?;
    let tst = TstInfo::parse(token.tst_der).map_err(|e| format!("invalid TSTInfo: {e}"))?;

    let imprint_hash = HashAlg::from_oid(&tst.imprint_alg.oid).map_err(|e| format!("TSTInfo message imprint: {e}"))?;
    if imprint_hash.digest(signature) != tst.imprint {
        return Err(format!(
            "TSTInfo message imprint is not the {} of the signature: the token countersigns other bytes",
            imprint_hash.name()
        ));
    }

    let accuracy = match tst.accuracy {
        Some(a) if !a.is_zero() => a,
        _ if tst.policy == BASELINE_TSP_POLICY => Duration::seconds(1),
        _ => Duration::zero(),
    };
    let earliest = tst.gen_time - accuracy;
    let latest = tst.gen_time + accuracy;
    // Notation does not compare genTime with the clock; a token from the future can only
    // come from a broken or lying TSA, so it is refused rather than trusted.
    if earliest > now {
        return Err(format!("timestamp genTime {} is in the future", tst.gen_time.to_rfc3339()));
    }

    let roots = tsa_roots
        .iter()
        .enumerate()
        .map(|(i, der)| Cert::parse(der).map_err(|e| format!("TSA trust store certificate #{i} does not parse: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if roots.is_empty() {
        return Err("no TSA root certificates to verify the timestamp against".into());
    }
    // One signer, as tspclient-go: with several, which one's attributes describe the token
    // is a question an attacker gets to answer (issue 7: a second SignerInfo reusing a
    // genuine signature value over attributes that point at a forged TSTInfo).
    let [signer] = token.signers.as_slice() else {
        return Err(format!(
            "a timestamp token must have exactly one SignerInfo, this one has {}",
            token.signers.len()
        ));
    };
    let chain = verify_signer(signer, &token, &roots, earliest, latest)?;
    Ok(TimestampInfo {
        earliest,
        latest,
        tsa_subject: chain[0].x.tbs_certificate.subject.to_string(),
        gen_time: tst.gen_time,
        tsa_chain: chain.into_iter().map(|c| c.der).collect(),
    })
}

/// The nonce of a token's TSTInfo, if it has one that fits 64 bits (a signer compares it with
/// the one it sent; a verifier has no use for it). Read with the verifier's own token parser,
/// which takes what real TSAs send (OpenSSL's lists its certificate twice).
pub fn token_nonce(token_der: &[u8]) -> Result<Option<u64>, String> {
    let token = TimestampToken::parse(token_der)?;
    let tst = AnyRef::from_der(token.tst_der).map_err(|e| format!("TSTInfo: {e}"))?;
    let mut r = SliceReader::new(tst.value()).map_err(|e| e.to_string())?;
    // version, policy, messageImprint, serialNumber, genTime; then accuracy and ordering are
    // optional and of other types, and the first INTEGER after them is the nonce.
    for _ in 0..5 {
        let _: AnyRef<'_> = r.decode().map_err(|e| format!("TSTInfo: {e}"))?;
    }
    while !r.is_finished() {
        let field: AnyRef<'_> = r.decode().map_err(|e| format!("TSTInfo: {e}"))?;
        if field.tag() == Tag::Integer {
            return field.decode_as::<u64>().map(Some).map_err(|e| format!("TSTInfo nonce: {e}"));
        }
    }
    Ok(None)
}

/// The authenticTimestamp rule for the *signing* chain: the whole range the token allows
/// (genTime ± accuracy) must lie inside every certificate's validity, bounds inclusive.
/// `chain` is DER, leaf first.
pub fn check_signing_chain_validity(info: &TimestampInfo, chain: &[Vec<u8>]) -> Result<(), String> {
    for (i, der) in chain.iter().enumerate() {
        let cert =
            Certificate::from_der(der).map_err(|e| format!("signing chain certificate #{i} does not parse: {e}"))?;
        within_validity(&cert, info.earliest, info.latest)?;
    }
    Ok(())
}

fn within_validity(cert: &Certificate, earliest: DateTime<Utc>, latest: DateTime<Utc>) -> Result<(), String> {
    let not_before = sigverify::to_utc(cert.tbs_certificate.validity.not_before);
    let not_after = sigverify::to_utc(cert.tbs_certificate.validity.not_after);
    let subject = &cert.tbs_certificate.subject;
    if earliest < not_before {
        return Err(format!(
            "timestamp can be before certificate {subject} validity period, it will be valid from {}",
            not_before.to_rfc2822()
        ));
    }
    if latest > not_after {
        return Err(format!(
            "timestamp can be after certificate {subject} validity period, it was expired at {}",
            not_after.to_rfc2822()
        ));
    }
    Ok(())
}

/// Checks the one SignerInfo end to end; returns the validated TSA chain, leaf first.
fn verify_signer(
    signer: &SignerInfo<'_>,
    token: &TimestampToken<'_>,
    roots: &[Cert],
    earliest: DateTime<Utc>,
    latest: DateTime<Utc>,
) -> Result<Vec<Cert>, String> {
    // Decoded from the very bytes the signature is verified over below.
    let attrs = SignedAttrs::parse(&signer.signed_attrs_der)?;
    let content_type: ObjectIdentifier =
        attrs.single(ID_CONTENT_TYPE, "contentType")?.decode_as().map_err(|e| format!("contentType attribute: {e}"))?;
    if content_type != ID_CT_TSTINFO {
        return Err(format!("contentType attribute is {content_type}, not TSTInfo"));
    }
    // The signer's digest algorithm serves the messageDigest only; the signature algorithm
    // names its own hash (tspclient-go pairs them the same way). Both must be SHA-2.
    let digest_alg = HashAlg::from_oid(&signer.digest_alg.oid).map_err(|e| format!("signer digest: {e}"))?;
    let message_digest: OctetStringRef<'_> = attrs
        .single(ID_MESSAGE_DIGEST, "messageDigest")?
        .decode_as()
        .map_err(|e| format!("messageDigest attribute: {e}"))?;
    if message_digest.as_bytes() != digest_alg.digest(token.tst_der).as_slice() {
        return Err("messageDigest attribute does not match the TSTInfo: the token was altered".into());
    }
    let cert = signer_certificate(attrs.single(ID_SIGNING_CERTIFICATE_V2, "signingCertificateV2")?, signer, token)?;
    let leaf_subject = &cert.x.tbs_certificate.subject;
    super::chain::check_any_certificate(&cert.x)
        .map_err(|e| format!("timestamping certificate {leaf_subject}: {e}"))?;

    sigverify::verify(
        &cert.x.tbs_certificate.subject_public_key_info,
        &signer.signature_alg,
        Some(&signer.digest_alg.oid),
        &signer.signed_attrs_der,
        signer.signature,
    )
    .map_err(|e| format!("timestamp signature: {e}"))?;

    check_tsa_leaf(&cert.x)?;
    let chain = build_chain(cert, &token.certs, roots)?;
    for (i, c) in chain.iter().enumerate() {
        if i > 0 {
            super::chain::check_any_certificate(&c.x)
                .map_err(|e| format!("TSA chain certificate {}: {e}", c.x.tbs_certificate.subject))?;
            check_ca(&c.x, i - 1)?;
        }
        within_validity(&c.x, earliest, latest)?;
    }
    if let Some(value) = attrs.optional(ID_SIGNING_TIME, "signingTime")? {
        check_signing_time(value, &chain)?;
    }
    Ok(chain)
}

/// tspclient-go: a signingTime attribute, when present, must fall inside the validity of
/// every certificate of the TSA chain.
fn check_signing_time(value: AnyRef<'_>, chain: &[Cert]) -> Result<(), String> {
    let time = value
        .to_der()
        .and_then(|der| x509_cert::time::Time::from_der(&der))
        .map_err(|e| format!("signingTime attribute: {e}"))?;
    let at = sigverify::to_utc(time);
    for c in chain {
        let validity = &c.x.tbs_certificate.validity;
        if at < sigverify::to_utc(validity.not_before) || at > sigverify::to_utc(validity.not_after) {
            return Err(format!(
                "signingTime {} is outside the validity period of TSA chain certificate {}",
                at.to_rfc3339(),
                c.x.tbs_certificate.subject
            ));
        }
    }
    Ok(())
}

fn matches_sid(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            cert.tbs_certificate.issuer == ias.issuer && cert.tbs_certificate.serial_number == ias.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(cert.tbs_certificate.get::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *ski)
        }
    }
}

/// SigningCertificateV2 (RFC 5035) stops a certificate substitution: its first ESSCertIDv2
/// names the signer certificate by hash and, optionally, by serial. The certificate is
/// chosen by that signed hash, and the (unsigned) signer identifier must agree with it:
/// two embedded certificates with the same issuer and serial cannot make the choice
/// ambiguous.
fn signer_certificate<'t>(
    value: AnyRef<'_>,
    signer: &SignerInfo<'_>,
    token: &'t TimestampToken<'_>,
) -> Result<&'t Cert, String> {
    let bad = |e: der::Error| format!("signingCertificateV2 attribute does not parse: {e}");
    let mut r = SliceReader::new(value.value()).map_err(bad)?;
    let certs: AnyRef<'_> = r.decode().map_err(bad)?;
    let mut certs = SliceReader::new(certs.value()).map_err(bad)?;
    if certs.is_finished() {
        return Err("signingCertificateV2 does not contain any certificate".into());
    }
    let first: AnyRef<'_> = certs.decode().map_err(bad)?;
    let mut id = SliceReader::new(first.value()).map_err(bad)?;
    let hash = if id.peek_tag().map_err(bad)? == Tag::Sequence {
        let alg: AlgorithmIdentifierOwned = id.decode().map_err(bad)?;
        HashAlg::from_oid(&alg.oid).map_err(|e| format!("signingCertificateV2 certificate hash: {e}"))?
    } else {
        HashAlg::Sha256
    };
    let cert_hash: OctetStringRef<'_> = id.decode().map_err(bad)?;
    let Some(cert) = token.certs.iter().find(|c| hash.digest(&c.der).as_slice() == cert_hash.as_bytes()) else {
        return Err(if token.certs.iter().any(|c| matches_sid(&c.x, &signer.sid)) {
            "signing certificate hash does not match the certHash in signingCertificateV2".into()
        } else {
            "signing certificate not found in the timestamp token".into()
        });
    };
    if !matches_sid(&cert.x, &signer.sid) {
        return Err(format!(
            "the signer identifier does not name the certificate {} that signingCertificateV2 names",
            cert.x.tbs_certificate.subject
        ));
    }
    if !id.is_finished() {
        // IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber }: only the serial
        // is compared, the issuer is already tied to the certificate by the hash above.
        let issuer_serial: AnyRef<'_> = id.decode().map_err(bad)?;
        let mut is = SliceReader::new(issuer_serial.value()).map_err(bad)?;
        let _issuer: AnyRef<'_> = is.decode().map_err(bad)?;
        let serial: AnyRef<'_> = is.decode().map_err(bad)?;
        if serial.value() != cert.x.tbs_certificate.serial_number.as_bytes() {
            return Err("signingCertificateV2 names another serial number than the signing certificate".into());
        }
    }
    Ok(cert)
}

fn check_tsa_leaf(cert: &Certificate) -> Result<(), String> {
    let subject = &cert.tbs_certificate.subject;
    match cert.tbs_certificate.get::<ExtendedKeyUsage>() {
        Ok(Some((true, eku))) if eku.0 == [ID_KP_TIME_STAMPING] => {}
        Ok(Some((true, _))) => {
            return Err(format!("timestamping certificate {subject}: extended key usage must be timeStamping only"));
        }
        Ok(Some((false, _))) => {
            return Err(format!("timestamping certificate {subject}: extended key usage must be critical"));
        }
        Ok(None) => return Err(format!("timestamping certificate {subject} has no extended key usage")),
        Err(e) => return Err(format!("timestamping certificate {subject}: extended key usage: {e}")),
    }
    match cert.tbs_certificate.get::<KeyUsage>() {
        Ok(Some((_, ku))) if ku.digital_signature() => Ok(()),
        Ok(Some(_)) => Err(format!("timestamping certificate {subject}: key usage lacks digitalSignature")),
        Ok(None) => Err(format!("timestamping certificate {subject} has no key usage")),
        Err(e) => Err(format!("timestamping certificate {subject}: key usage: {e}")),
    }
}

/// The CA rules of the TSA chain, as Go's x509.Verify applies them for tspclient-go (the
/// certificate is `cas_below` CA certificates above the TSA certificate): a CA, allowed to
/// sign certificates, whose pathLenConstraint leaves room for the CAs below it, and whose
/// extended key usage, when it has one, allows timestamping. Without the last two, a
/// sub-CA limited to issuing end-entity certificates, or to code signing or TLS, under a
/// root that is also a TSA root could mint TSAs.
fn check_ca(cert: &Certificate, cas_below: usize) -> Result<(), String> {
    let subject = &cert.tbs_certificate.subject;
    match cert.tbs_certificate.get::<BasicConstraints>() {
        Ok(Some((_, bc))) if bc.ca => {
            if let Some(len) = bc.path_len_constraint
                && usize::from(len) < cas_below
            {
                return Err(format!(
                    "TSA chain certificate {subject} allows a path length of {len}, but {cas_below} CA \
                     certificate(s) sit below it"
                ));
            }
        }
        Ok(_) => return Err(format!("TSA chain certificate {subject} is not a CA")),
        Err(e) => return Err(format!("TSA chain certificate {subject}: basic constraints: {e}")),
    }
    match cert.tbs_certificate.get::<ExtendedKeyUsage>() {
        Ok(Some((_, eku))) if !eku.0.iter().any(|o| *o == ID_KP_TIME_STAMPING || *o == ANY_EXTENDED_KEY_USAGE) => {
            return Err(format!(
                "TSA chain certificate {subject}: its extended key usage does not allow timeStamping, so it \
                 cannot vouch for a TSA"
            ));
        }
        Ok(_) => {}
        Err(e) => return Err(format!("TSA chain certificate {subject}: extended key usage: {e}")),
    }
    match cert.tbs_certificate.get::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.key_cert_sign() => {
            Err(format!("TSA chain certificate {subject}: key usage lacks keyCertSign"))
        }
        Ok(_) => Ok(()),
        Err(e) => Err(format!("TSA chain certificate {subject}: key usage: {e}")),
    }
}

/// Walks issuers from the TSA certificate through the token's certificates until a trust
/// store root is reached (by equality or as the verified issuer).
fn build_chain(leaf: &Cert, embedded: &[Cert], roots: &[Cert]) -> Result<Vec<Cert>, String> {
    let signed_by = |child: &Cert, issuer: &Cert| sigverify::issued_by(&child.der, &child.x, &issuer.x).is_ok();
    let mut chain = vec![leaf.clone()];
    loop {
        let current = chain.last().expect("chain starts non-empty");
        if roots.iter().any(|r| r.der == current.der) {
            return Ok(chain);
        }
        if chain.len() >= MAX_CHAIN {
            return Err("TSA certificate chain is too long".into());
        }
        if let Some(root) = roots.iter().find(|r| signed_by(current, r)) {
            chain.push(root.clone());
            return Ok(chain);
        }
        let self_signed = current.x.tbs_certificate.issuer == current.x.tbs_certificate.subject;
        let next = embedded.iter().find(|c| !self_signed && !chain.contains(c) && signed_by(current, c));
        match next {
            Some(next) => chain.push(next.clone()),
            None => {
                return Err(format!(
                    "TSA certificate {} does not chain to a trusted TSA root (certificate signed by unknown authority){}",
                    leaf.x.tbs_certificate.subject,
                    why_no_issuer(current, embedded, roots)
                ));
            }
        }
    }
}

/// Why the certificates that carry the issuer's name did not verify as the issuer: the
/// failure is usually there (a bad signature, a mislabelled algorithm), not in the name.
fn why_no_issuer(child: &Cert, embedded: &[Cert], roots: &[Cert]) -> String {
    let reasons: Vec<String> = roots
        .iter()
        .chain(embedded)
        .filter(|c| *c != child && c.x.tbs_certificate.subject == child.x.tbs_certificate.issuer)
        .filter_map(|c| sigverify::issued_by(&child.der, &child.x, &c.x).err())
        .collect();
    if reasons.is_empty() { String::new() } else { format!(": {}", reasons.join("; ")) }
}

struct TstInfo {
    policy: ObjectIdentifier,
    imprint_alg: AlgorithmIdentifierOwned,
    imprint: Vec<u8>,
    gen_time: DateTime<Utc>,
    accuracy: Option<Duration>,
}

impl TstInfo {
    fn parse(der: &[u8]) -> Result<Self, String> {
        let e = |e: der::Error| e.to_string();
        let outer = AnyRef::from_der(der).map_err(e)?;
        if outer.tag() != Tag::Sequence {
            return Err("not a SEQUENCE".into());
        }
        let mut r = SliceReader::new(outer.value()).map_err(e)?;
        let version: u8 = r.decode().map_err(e)?;
        if version != 1 {
            return Err(format!("timestamp token info version must be 1, but got {version}"));
        }
        let policy: ObjectIdentifier = r.decode().map_err(e)?;
        let imprint: AnyRef<'_> = r.decode().map_err(e)?;
        let mut ir = SliceReader::new(imprint.value()).map_err(e)?;
        let imprint_alg: AlgorithmIdentifierOwned = ir.decode().map_err(e)?;
        let hashed: OctetStringRef<'_> = ir.decode().map_err(e)?;
        let imprint = hashed.as_bytes().to_vec();
        let _serial: der::asn1::Int = r.decode().map_err(e)?;
        let gen_time: AnyRef<'_> = r.decode().map_err(e)?;
        if gen_time.tag() != Tag::GeneralizedTime {
            return Err("genTime is not a GeneralizedTime".into());
        }
        let gen_time = parse_generalized_time(gen_time.value())?;
        let mut accuracy = None;
        while !r.is_finished() {
            let field: AnyRef<'_> = r.decode().map_err(e)?;
            match field.tag() {
                Tag::Sequence if accuracy.is_none() => accuracy = Some(parse_accuracy(field.value())?),
                Tag::Boolean | Tag::Integer => {}
                Tag::ContextSpecific { number, .. } if number == TagNumber::N0 || number == TagNumber::N1 => {}
                other => return Err(format!("unexpected {other} field")),
            }
        }
        Ok(Self { policy, imprint_alg, imprint, gen_time, accuracy })
    }
}

/// `YYYYMMDDhhmmss[.f*]Z`: RFC 3161 allows fractional seconds, which the `der` crate's
/// GeneralizedTime refuses.
fn parse_generalized_time(bytes: &[u8]) -> Result<DateTime<Utc>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "genTime is not ASCII")?;
    let body = text.strip_suffix('Z').ok_or(format!("genTime {text:?} is not in UTC"))?;
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if whole.len() != 14 || !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.ends_with('0') {
        return Err(format!("genTime {text:?} is malformed"));
    }
    let base =
        NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S").map_err(|_| format!("genTime {text:?} is malformed"))?;
    let nanos: i64 = format!("{fraction:0<9}").get(..9).and_then(|f| f.parse().ok()).unwrap_or(0);
    Ok(base.and_utc() + Duration::nanoseconds(nanos))
}

fn parse_accuracy(value: &[u8]) -> Result<Duration, String> {
    let e = |e: der::Error| format!("accuracy: {e}");
    let mut r = SliceReader::new(value).map_err(e)?;
    let mut total = Duration::zero();
    while !r.is_finished() {
        let field: AnyRef<'_> = r.decode().map_err(e)?;
        let n = small_uint(field.value()).ok_or("accuracy value out of range")?;
        match field.tag() {
            Tag::Integer => total += Duration::seconds(n),
            Tag::ContextSpecific { number: TagNumber::N0, constructed: false } if (1..=999).contains(&n) => {
                total += Duration::milliseconds(n)
            }
            Tag::ContextSpecific { number: TagNumber::N1, constructed: false } if (1..=999).contains(&n) => {
                total += Duration::microseconds(n)
            }
            other => return Err(format!("accuracy: unexpected {other} field")),
        }
    }
    Ok(total)
}

/// A non-negative INTEGER body that fits comfortably in an i64 (accuracy is small).
fn small_uint(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 4 || bytes[0] & 0x80 != 0 {
        return None;
    }
    Some(bytes.iter().fold(0i64, |acc, b| (acc << 8) | i64::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_time_with_fraction() {
        let t = parse_generalized_time(b"20210917140910.125Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2021-09-17T14:09:10.125+00:00");
        assert!(parse_generalized_time(b"20210917140910.120Z").is_err());
        assert!(parse_generalized_time(b"20210917140910").is_err());
        assert!(parse_generalized_time(b"2021091714091Z").is_err());
    }

    #[test]
    fn accuracy_sums_its_parts() {
        // seconds 1, millis 500, micros 7
        let acc = parse_accuracy(&[0x02, 0x01, 0x01, 0x80, 0x02, 0x01, 0xf4, 0x81, 0x01, 0x07]).unwrap();
        assert_eq!(acc, Duration::seconds(1) + Duration::milliseconds(500) + Duration::microseconds(7));
        assert!(parse_accuracy(&[0x80, 0x02, 0x03, 0xe8]).is_err(), "millis 1000 is out of range");
    }
}
