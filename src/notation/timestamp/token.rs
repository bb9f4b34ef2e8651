//! A TimeStampToken (CMS ContentInfo → SignedData) read once, field by field, from its
//! own bytes. There is no second, decoded-and-sorted view to disagree with: the signed
//! attributes that are checked are the bytes the signature is verified over, each
//! SignerInfo is its own bytes in token order, and the only TSTInfo is the one eContent.

use cms::signed_data::SignerIdentifier;
use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TSTINFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// Most certificates a token may carry. Real tokens carry the TSA certificate and two or
/// three CA certificates; every embedded certificate named as an issuer costs a signature
/// check while the chain is built, so thousands of them (a 32 MiB envelope holds tens of
/// thousands) would keep the verifier busy for minutes.
pub(crate) const MAX_TOKEN_CERTS: usize = 32;

/// [n] constructed: an EXPLICIT tag, or an IMPLICIT SET/SEQUENCE.
fn constructed(number: TagNumber) -> Tag {
    Tag::ContextSpecific { constructed: true, number }
}

/// A certificate with the exact bytes it arrived as: hashes (SigningCertificateV2) and
/// signatures are computed over those, never over a re-encoding of the parsed form.
#[derive(Clone, PartialEq)]
pub(crate) struct Cert {
    pub der: Vec<u8>,
    pub x: Certificate,
}

impl Cert {
    pub fn parse(der: &[u8]) -> Result<Self, der::Error> {
        Ok(Cert { der: der.to_vec(), x: Certificate::from_der(der)? })
    }
}

pub(crate) struct TimestampToken<'a> {
    /// The eContent: the DER TSTInfo, the one the signer's messageDigest must cover.
    pub tst_der: &'a [u8],
    /// Embedded certificates that parse, each once, in token order.
    pub certs: Vec<Cert>,
    /// Every SignerInfo, in token order; the caller decides how many it accepts.
    pub signers: Vec<SignerInfo<'a>>,
}

pub(crate) struct SignerInfo<'a> {
    pub sid: SignerIdentifier,
    pub digest_alg: AlgorithmIdentifierOwned,
    /// The signed attributes as the SET OF the signature covers (RFC 5652 §5.4): the
    /// written content of the [0] IMPLICIT field under a SET tag, in the TSA's order.
    pub signed_attrs_der: Vec<u8>,
    pub signature_alg: AlgorithmIdentifierOwned,
    pub signature: &'a [u8],
}

/// A reader over the content of `any`, which must carry `tag`.
fn open<'a>(any: AnyRef<'a>, tag: Tag, what: &str) -> Result<SliceReader<'a>, String> {
    if any.tag() != tag {
        return Err(format!("{what} is a {} where a {tag} is expected", any.tag()));
    }
    SliceReader::new(any.value()).map_err(|e| format!("{what}: {e}"))
}

fn next<'a, T: Decode<'a>>(r: &mut SliceReader<'a>, what: &str) -> Result<T, String> {
    r.decode().map_err(|e| format!("{what}: {e}"))
}

fn done(r: &SliceReader<'_>, what: &str) -> Result<(), String> {
    if r.is_finished() { Ok(()) } else { Err(format!("unexpected data after the {what}")) }
}

fn peek(r: &SliceReader<'_>) -> Option<Tag> {
    if r.is_finished() { None } else { r.peek_tag().ok() }
}

impl<'a> TimestampToken<'a> {
    /// ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT SignedData }, nothing after.
    pub fn parse(der: &'a [u8]) -> Result<Self, String> {
        let info = AnyRef::from_der(der).map_err(|e| format!("timestamp token is not a CMS ContentInfo: {e}"))?;
        let mut r = open(info, Tag::Sequence, "timestamp token")?;
        let content_type: ObjectIdentifier = next(&mut r, "ContentInfo content type")?;
        if content_type != ID_SIGNED_DATA {
            return Err(format!("timestamp token content type is {content_type}, not SignedData"));
        }
        let explicit: AnyRef<'a> = next(&mut r, "ContentInfo content")?;
        done(&r, "ContentInfo")?;
        let mut r = open(explicit, constructed(TagNumber::N0), "ContentInfo content")?;
        let signed_data: AnyRef<'a> = next(&mut r, "SignedData")?;
        done(&r, "SignedData")?;
        Self::signed_data(signed_data)
    }

    /// SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo,
    /// certificates [0] OPTIONAL, crls [1] OPTIONAL, signerInfos SET }.
    fn signed_data(any: AnyRef<'a>) -> Result<Self, String> {
        let mut r = open(any, Tag::Sequence, "SignedData")?;
        // RFC 5652 §5.1: 3 whenever the content is not id-data; tspclient-go wants 3.
        let version: u8 = next(&mut r, "SignedData version")?;
        if version != 3 {
            return Err(format!("unsupported SignedData version {version} (want 3)"));
        }
        let digest_algs: AnyRef<'a> = next(&mut r, "SignedData digest algorithms")?;
        open(digest_algs, Tag::Set, "SignedData digest algorithms")?;
        let tst_der = Self::encapsulated(next(&mut r, "SignedData encapsulated content")?)?;
        let mut certs = Vec::new();
        if peek(&r) == Some(constructed(TagNumber::N0)) {
            certs = Self::certificates(next(&mut r, "SignedData certificates")?)?;
        }
        if peek(&r) == Some(constructed(TagNumber::N1)) {
            let _crls: AnyRef<'a> = next(&mut r, "SignedData CRLs")?;
        }
        let signer_infos: AnyRef<'a> = next(&mut r, "SignedData signer infos")?;
        done(&r, "SignedData")?;
        let mut set = open(signer_infos, Tag::Set, "SignedData signer infos")?;
        let mut signers = Vec::new();
        while !set.is_finished() {
            let n = signers.len();
            let any: AnyRef<'a> = next(&mut set, "SignerInfo")?;
            signers.push(SignerInfo::parse(any).map_err(|e| format!("SignerInfo #{n}: {e}"))?);
        }
        Ok(TimestampToken { tst_der, certs, signers })
    }

    /// EncapsulatedContentInfo ::= SEQUENCE { id-ct-TSTInfo, [0] EXPLICIT OCTET STRING }.
    fn encapsulated(any: AnyRef<'a>) -> Result<&'a [u8], String> {
        let mut r = open(any, Tag::Sequence, "encapsulated content")?;
        let content_type: ObjectIdentifier = next(&mut r, "encapsulated content type")?;
        if content_type != ID_CT_TSTINFO {
            return Err(format!("unexpected content type {content_type} in the timestamp token (want TSTInfo)"));
        }
        if r.is_finished() {
            return Err("timestamp token carries no TSTInfo".into());
        }
        let explicit: AnyRef<'a> = next(&mut r, "TSTInfo")?;
        done(&r, "encapsulated content")?;
        let mut inner = open(explicit, constructed(TagNumber::N0), "eContent")?;
        let octets: OctetStringRef<'a> = next(&mut inner, "TSTInfo is not wrapped in an OCTET STRING")?;
        done(&inner, "eContent")?;
        Ok(octets.as_bytes())
    }

    /// CertificateSet: certificates (SEQUENCE) are kept, each distinct one once; other
    /// choices (attribute certificates) and certificates that do not parse cannot be part of
    /// a chain, so the chain search simply does not see them.
    fn certificates(any: AnyRef<'a>) -> Result<Vec<Cert>, String> {
        let mut r = open(any, constructed(TagNumber::N0), "SignedData certificates")?;
        let mut certs: Vec<Cert> = Vec::new();
        let mut count = 0;
        while !r.is_finished() {
            count += 1;
            if count > MAX_TOKEN_CERTS {
                return Err(format!(
                    "the timestamp token carries more than {MAX_TOKEN_CERTS} certificates; a TSA sends its \
                     certificate and a few CA certificates, so this one is refused"
                ));
            }
            let choice: AnyRef<'a> = next(&mut r, "SignedData certificate")?;
            if choice.tag() != Tag::Sequence {
                continue;
            }
            let der = choice.to_der().map_err(|e| e.to_string())?;
            if let Ok(cert) = Cert::parse(&der)
                && !certs.iter().any(|c| c.der == cert.der)
            {
                certs.push(cert);
            }
        }
        Ok(certs)
    }
}

impl<'a> SignerInfo<'a> {
    /// SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0],
    /// signatureAlgorithm, signature OCTET STRING, unsignedAttrs [1] OPTIONAL }; RFC 3161
    /// requires the signed attributes, so they are not optional here.
    fn parse(any: AnyRef<'a>) -> Result<Self, String> {
        let mut r = open(any, Tag::Sequence, "SignerInfo")?;
        let version: u8 = next(&mut r, "version")?;
        let sid: SignerIdentifier = next(&mut r, "signer identifier")?;
        // RFC 5652 §5.3: version 1 names the certificate by issuer and serial, 3 by key id.
        let want = match sid {
            SignerIdentifier::IssuerAndSerialNumber(_) => 1,
            SignerIdentifier::SubjectKeyIdentifier(_) => 3,
        };
        if version != want {
            return Err(format!("version {version} does not match its signer identifier (want {want})"));
        }
        let digest_alg: AlgorithmIdentifierOwned = next(&mut r, "digest algorithm")?;
        // Without signed attributes the signature would cover the TSTInfo directly and
        // nothing would bind the signer certificate.
        if peek(&r) != Some(constructed(TagNumber::N0)) {
            return Err("signer has no signed attributes".into());
        }
        let attrs: AnyRef<'a> = next(&mut r, "signed attributes")?;
        let signed_attrs_der =
            AnyRef::new(Tag::Set, attrs.value()).and_then(|set| set.to_der()).map_err(|e| e.to_string())?;
        let signature_alg: AlgorithmIdentifierOwned = next(&mut r, "signature algorithm")?;
        let signature: OctetStringRef<'a> = next(&mut r, "signature")?;
        // Unsigned attributes are allowed and never read: nothing unsigned can vouch.
        if peek(&r) == Some(constructed(TagNumber::N1)) {
            let _unsigned: AnyRef<'a> = next(&mut r, "unsigned attributes")?;
        }
        done(&r, "SignerInfo")?;
        Ok(SignerInfo { sid, digest_alg, signed_attrs_der, signature_alg, signature: signature.as_bytes() })
    }
}

/// The signed attributes decoded from [`SignerInfo::signed_attrs_der`] itself, in the order
/// written: Attribute ::= SEQUENCE { attrType, attrValues SET OF AttributeValue }.
pub(crate) struct SignedAttrs<'a>(Vec<(ObjectIdentifier, Vec<AnyRef<'a>>)>);

impl<'a> SignedAttrs<'a> {
    pub fn parse(set_der: &'a [u8]) -> Result<Self, String> {
        let set = AnyRef::from_der(set_der).map_err(|e| format!("signed attributes: {e}"))?;
        let mut r = open(set, Tag::Set, "signed attributes")?;
        let mut attrs = Vec::new();
        while !r.is_finished() {
            let attr: AnyRef<'a> = next(&mut r, "signed attribute")?;
            let mut a = open(attr, Tag::Sequence, "signed attribute")?;
            let oid: ObjectIdentifier = next(&mut a, "signed attribute type")?;
            let values: AnyRef<'a> = next(&mut a, "signed attribute values")?;
            done(&a, "signed attribute")?;
            let mut v = open(values, Tag::Set, "signed attribute values")?;
            let mut list = Vec::new();
            while !v.is_finished() {
                list.push(next::<AnyRef<'a>>(&mut v, "signed attribute value")?);
            }
            attrs.push((oid, list));
        }
        if attrs.is_empty() {
            return Err("signed attributes are empty".into());
        }
        Ok(SignedAttrs(attrs))
    }

    /// The value of an attribute that must occur once, with one value.
    pub fn single(&self, oid: ObjectIdentifier, name: &str) -> Result<AnyRef<'a>, String> {
        match self.optional(oid, name)? {
            Some(v) => Ok(v),
            None => Err(format!("signed attribute {name} is missing")),
        }
    }

    /// Like [`Self::single`], for an attribute that may be absent.
    pub fn optional(&self, oid: ObjectIdentifier, name: &str) -> Result<Option<AnyRef<'a>>, String> {
        let mut found = self.0.iter().filter(|(o, _)| *o == oid);
        let Some((_, values)) = found.next() else { return Ok(None) };
        if found.next().is_some() || values.len() != 1 {
            return Err(format!("signed attribute {name} must occur once with one value"));
        }
        Ok(Some(values[0]))
    }
}
