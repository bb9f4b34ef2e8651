//! Signing an artifact on a source, one pipeline whatever holds the key: the Notation payload
//! for the manifest *by digest*, an envelope from an [`EnvelopeSigner`] (a local key today, AWS
//! Signer's SignPayload next), the envelope read back and checked to carry exactly that payload,
//! then the signature manifest stored as a referrer of the manifest.

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::oci::{Descriptor, media};
use crate::source::{Source, StoredReferrer};

use super::{Attrs, Signer};

/// `io.cncf.notary.signingAgent` of every signature sigscope makes.
pub const SIGNING_AGENT: &str = concat!("sigscope/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvelopeFormat {
    Jws,
    Cose,
}

impl EnvelopeFormat {
    pub fn media_type(self) -> &'static str {
        match self {
            EnvelopeFormat::Jws => media::JWS,
            EnvelopeFormat::Cose => media::COSE,
        }
    }
}

/// What turns a payload into a signed envelope.
#[async_trait]
pub trait EnvelopeSigner: Send + Sync {
    /// Who signs, for messages: the leaf's subject, a signing profile.
    fn describe(&self) -> String;
    async fn envelope(&self, payload: &[u8], format: EnvelopeFormat, attrs: &Attrs) -> Result<Vec<u8>>;
}

/// A local key: the envelope writers of this crate over a [`Signer`].
pub struct LocalEnvelopes<S: Signer + Send + Sync>(pub S);

#[async_trait]
impl<S: Signer + Send + Sync> EnvelopeSigner for LocalEnvelopes<S> {
    fn describe(&self) -> String {
        match self.0.chain().first().map(|leaf| x509_parser::parse_x509_certificate(leaf)) {
            Some(Ok((_, cert))) => format!("key of {}", cert.subject()),
            _ => "a local key".into(),
        }
    }

    async fn envelope(&self, payload: &[u8], format: EnvelopeFormat, attrs: &Attrs) -> Result<Vec<u8>> {
        Ok(match format {
            EnvelopeFormat::Jws => super::jws::envelope(&self.0, payload, attrs),
            EnvelopeFormat::Cose => super::cose::envelope(&self.0, payload, attrs),
        })
    }
}

/// What was signed and where the signature went.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Signed {
    /// The manifest signed, by digest.
    pub subject: Descriptor,
    pub envelope_type: &'static str,
    pub signature: StoredReferrer,
}

pub struct SignOptions {
    pub format: EnvelopeFormat,
    pub signing_time: DateTime<Utc>,
    pub expiry: Option<DateTime<Utc>>,
    /// An RFC 3161 countersignature from this TSA, verified before it is embedded.
    pub timestamp: Option<super::timestamp::TimestampOptions>,
}

/// Signs `subject` (a manifest of `repository`, already resolved to its digest) and stores the
/// signature. Nothing is stored unless the envelope reads back as a Notation envelope over
/// exactly the payload sent, with a certificate chain.
pub async fn sign_manifest(
    source: &dyn Source,
    repository: &str,
    subject: &Descriptor,
    signer: &dyn EnvelopeSigner,
    options: &SignOptions,
) -> Result<Signed> {
    crate::oci::check_digest_syntax(&subject.digest)?;
    let payload = super::payload(subject);
    let attrs = Attrs {
        signing_time: options.signing_time,
        expiry: options.expiry,
        extended: &[],
        signing_agent: SIGNING_AGENT,
    };
    let media_type = options.format.media_type();
    let mut envelope = signer.envelope(&payload, options.format, &attrs).await?;
    let mut chain = check_envelope(media_type, &envelope, &payload, subject)?;
    if let Some(tsa) = &options.timestamp {
        envelope = timestamped(tsa, media_type, &envelope, &chain).await?;
        chain = check_envelope(media_type, &envelope, &payload, subject)?;
    }
    let referrer =
        super::manifest::signature_manifest(subject, Bytes::from(envelope), media_type, &chain, options.signing_time)?;
    let stored = source.push_referrer(repository, &referrer).await?;
    Ok(Signed::new(subject, media_type, stored))
}

impl Signed {
    /// What was signed is reported as a verifier compares it: mediaType, digest and size.
    pub fn new(subject: &Descriptor, envelope_type: &'static str, signature: StoredReferrer) -> Signed {
        let subject = Descriptor {
            media_type: subject.media_type.clone(),
            digest: subject.digest.clone(),
            size: subject.size,
            ..Descriptor::default()
        };
        Signed { subject, envelope_type, signature }
    }
}

/// The envelope countersigned by the TSA; the token is checked once more as the verifier will
/// read it from the envelope, so what is stored is what was verified.
async fn timestamped(
    tsa: &super::timestamp::TimestampOptions,
    media_type: &str,
    envelope: &[u8],
    chain: &[Vec<u8>],
) -> Result<Vec<u8>> {
    let bad = |detail: String| Error::malformed("the signature envelope to timestamp", detail);
    let parsed = crate::notation::envelope::parse(media_type, envelope).map_err(bad)?;
    let token = super::timestamp::request_token(tsa, &parsed.signature, parsed.alg, chain).await?;
    let stamped = super::timestamp::embed(media_type, envelope, &token)?;
    let reread = crate::notation::envelope::parse(media_type, &stamped).map_err(bad)?;
    if reread.timestamp_token.as_deref() != Some(token.as_slice()) || reread.signature != parsed.signature {
        return Err(bad("the timestamp did not survive being written into the envelope".into()));
    }
    Ok(stamped)
}

/// Reads an envelope back as a verifier would and returns its chain: a signer (or a service)
/// that answered with another payload, another target or no chain is refused.
pub fn check_envelope(media_type: &str, envelope: &[u8], payload: &[u8], subject: &Descriptor) -> Result<Vec<Vec<u8>>> {
    let bad = |detail: String| Error::malformed("the signature envelope the signer returned", detail);
    let parsed = crate::notation::envelope::parse(media_type, envelope).map_err(bad)?;
    if parsed.payload != payload {
        return Err(bad("it carries another payload than the one sent".into()));
    }
    let target = crate::notation::envelope::target_artifact(&parsed.payload).map_err(bad)?;
    if target.digest != subject.digest || target.size != subject.size || target.media_type != subject.media_type {
        return Err(bad(format!("it signs {} instead of {}", target.digest, subject.digest)));
    }
    if parsed.chain.is_empty() {
        return Err(bad("it has no certificate chain".into()));
    }
    Ok(parsed.chain)
}
