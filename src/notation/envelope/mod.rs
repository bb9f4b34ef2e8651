//! Notation signature envelopes (JWS JSON and COSE_Sign1) parsed strictly into one shape.
//!
//! Parsing checks structure and the signed headers (required members, `crit`, signing
//! scheme, times, content type); it does not verify the signature, which needs the leaf key
//! and happens in [`crate::notation::verifier`]. Every problem is an `Err` with the reason in
//! words: the caller reports it as an integrity failure.

mod cose;
pub mod crypto;
pub mod headers;
mod jws;

use chrono::{DateTime, Utc};

pub use crypto::Algorithm;

/// Envelope blobs larger than this are refused before parsing (notation-go's limit).
pub const MAX_ENVELOPE_BYTES: usize = 32 << 20;
pub use headers::PAYLOAD_MEDIA_TYPE;
// Short names for the parsers of this module; the names themselves live in `headers`.
use crate::oci::media;
use headers::{
    AUTHENTIC_SIGNING_TIME as H_AUTHENTIC_TIME, EXPIRY as H_EXPIRY, SIGNING_AGENT as H_AGENT,
    SIGNING_SCHEME as H_SCHEME, SIGNING_TIME as H_SIGNING_TIME, TIMESTAMP_SIGNATURE as H_TIMESTAMP,
    VERIFICATION_PLUGIN as H_PLUGIN, VERIFICATION_PLUGIN_MIN_VERSION as H_PLUGIN_MIN_VERSION,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Format {
    #[serde(rename = "jws")]
    Jws,
    #[serde(rename = "cose")]
    Cose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Scheme {
    #[serde(rename = "notary.x509")]
    X509,
    #[serde(rename = "notary.x509.signingAuthority")]
    SigningAuthority,
}

impl Scheme {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            headers::SCHEME_X509 => Ok(Scheme::X509),
            headers::SCHEME_SIGNING_AUTHORITY => Ok(Scheme::SigningAuthority),
            other => Err(format!("unsupported signing scheme {other:?}")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::X509 => headers::SCHEME_X509,
            Scheme::SigningAuthority => headers::SCHEME_SIGNING_AUTHORITY,
        }
    }
}

/// What a signature envelope claims, with the exact bytes its signature covers.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub format: Format,
    pub alg: Algorithm,
    pub scheme: Scheme,
    pub signing_time: Option<DateTime<Utc>>,
    pub authentic_signing_time: Option<DateTime<Utc>>,
    pub expiry: Option<DateTime<Utc>>,
    /// Extended signed attributes (name, value rendered as text), in header order.
    pub extended: Vec<(String, String)>,
    pub plugin: Option<String>,
    pub plugin_min_version: Option<String>,
    /// The signed `crit` list, in order: the names a verifier must understand (checked by the
    /// parser for this verifier's own names; the rest are for the verification plugin).
    pub critical: Vec<String>,
    /// The payload bytes (a Notation payload JSON document).
    pub payload: Vec<u8>,
    /// The bytes the signature is over (JWS signing input, COSE Sig_structure).
    pub signed_bytes: Vec<u8>,
    /// The raw signature (`r || s` for ECDSA), also what a timestamp token countersigns.
    pub signature: Vec<u8>,
    /// DER certificates, leaf first.
    pub chain: Vec<Vec<u8>>,
    pub timestamp_token: Option<Vec<u8>>,
    pub signing_agent: Option<String>,
}

impl Envelope {
    /// The critical attributes this verifier does not know: the parser admits them only in an
    /// envelope that names a verification plugin, and that plugin must say it processed each.
    pub fn critical_extensions(&self) -> impl Iterator<Item = &str> {
        self.critical.iter().map(String::as_str).filter(|c| !headers::KNOWN_SIGNED.contains(c))
    }
}

/// Signed header values common to both formats, before the scheme rules are applied.
#[derive(Default)]
struct Headers {
    alg: Option<Algorithm>,
    content_type: Option<String>,
    crit: Vec<String>,
    scheme: Option<String>,
    signing_time: Option<DateTime<Utc>>,
    authentic_signing_time: Option<DateTime<Utc>>,
    expiry: Option<DateTime<Utc>>,
    plugin: Option<String>,
    plugin_min_version: Option<String>,
    /// Every other signed member: name and displayable value.
    extended: Vec<(String, String)>,
}

/// Parses an envelope of the given layer media type.
pub fn parse(media_type: &str, bytes: &[u8]) -> Result<Envelope, String> {
    if bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(format!("signature envelope is {} bytes, over the {} byte limit", bytes.len(), MAX_ENVELOPE_BYTES));
    }
    match media_type {
        media::JWS => jws::parse(bytes),
        media::COSE => cose::parse(bytes),
        other => Err(format!("signature envelope format with media type {other:?} is not supported")),
    }
}

/// Header rules shared by JWS and COSE (signature-specification.md, notation-core-go).
fn finish(format: Format, h: Headers, parts: Parts) -> Result<Envelope, String> {
    let alg = h.alg.ok_or("protected header has no algorithm")?;
    match h.content_type.as_deref() {
        Some(PAYLOAD_MEDIA_TYPE) => {}
        Some(other) => return Err(format!("content type {other:?} is not {PAYLOAD_MEDIA_TYPE}")),
        None => return Err("protected header has no content type".into()),
    }
    let scheme = Scheme::parse(h.scheme.as_deref().ok_or("protected header has no signing scheme")?)?;
    if h.crit.is_empty() {
        return Err("protected header has no crit list".into());
    }
    let mut seen = std::collections::HashSet::new();
    for c in &h.crit {
        if !seen.insert(c.as_str()) {
            return Err(format!("{c:?} is listed twice in crit"));
        }
    }
    let listed = |name: &str| h.crit.iter().any(|c| c == name);
    let require_listed = |name: &str| -> Result<(), String> {
        if listed(name) { Ok(()) } else { Err(format!("required header {name:?} is not marked critical")) }
    };
    require_listed(H_SCHEME)?;
    match scheme {
        Scheme::X509 => {
            if h.signing_time.is_none() {
                return Err(format!("{H_SIGNING_TIME} is required by the notary.x509 signing scheme"));
            }
            if h.authentic_signing_time.is_some() {
                return Err(format!("{H_AUTHENTIC_TIME} is not allowed with the notary.x509 signing scheme"));
            }
        }
        Scheme::SigningAuthority => {
            if h.authentic_signing_time.is_none() {
                return Err(format!("{H_AUTHENTIC_TIME} is required by the notary.x509.signingAuthority scheme"));
            }
            if h.signing_time.is_some() {
                return Err(format!("{H_SIGNING_TIME} is not allowed with the notary.x509.signingAuthority scheme"));
            }
            require_listed(H_AUTHENTIC_TIME)?;
        }
    }
    if h.expiry.is_some() {
        require_listed(H_EXPIRY)?;
    }
    if h.plugin.is_some() {
        require_listed(H_PLUGIN)?;
    }
    if h.plugin_min_version.is_some() {
        require_listed(H_PLUGIN_MIN_VERSION)?;
        if h.plugin.is_none() {
            return Err(format!("{H_PLUGIN_MIN_VERSION} without {H_PLUGIN}"));
        }
    }
    // Every critical header must be one this verifier understands and must be present:
    // an unknown critical extension is exactly what a verifier has to refuse.
    for c in &h.crit {
        let present = match c.as_str() {
            H_SCHEME => true,
            H_AUTHENTIC_TIME => h.authentic_signing_time.is_some(),
            H_EXPIRY => h.expiry.is_some(),
            H_PLUGIN => h.plugin.is_some(),
            H_PLUGIN_MIN_VERSION => h.plugin_min_version.is_some(),
            other if h.extended.iter().any(|(k, _)| k == other) => {
                // A plugin-named signature is failed closed later with a clearer reason.
                if h.plugin.is_some() {
                    true
                } else {
                    return Err(format!("unknown critical header {other:?}"));
                }
            }
            other => return Err(format!("header {other:?} is marked critical but not present or not allowed in crit")),
        };
        if !present {
            return Err(format!("header {c:?} is marked critical but not present"));
        }
    }
    let signed_at = h.signing_time.or(h.authentic_signing_time);
    if let (Some(exp), Some(at)) = (h.expiry, signed_at)
        && exp <= at
    {
        return Err(format!("expiry {} is not after the signing time {}", exp.to_rfc3339(), at.to_rfc3339()));
    }
    if parts.chain.is_empty() {
        return Err("the envelope carries no certificate chain".into());
    }
    if parts.signature.is_empty() {
        return Err("the envelope carries an empty signature".into());
    }
    Ok(Envelope {
        format,
        alg,
        scheme,
        signing_time: h.signing_time,
        authentic_signing_time: h.authentic_signing_time,
        expiry: h.expiry,
        extended: h.extended,
        plugin: h.plugin,
        plugin_min_version: h.plugin_min_version,
        critical: h.crit,
        payload: parts.payload,
        signed_bytes: parts.signed_bytes,
        signature: parts.signature,
        chain: parts.chain,
        timestamp_token: parts.timestamp_token,
        signing_agent: parts.signing_agent,
    })
}

/// The unsigned and structural parts, as each format decoded them.
struct Parts {
    payload: Vec<u8>,
    signed_bytes: Vec<u8>,
    signature: Vec<u8>,
    chain: Vec<Vec<u8>>,
    timestamp_token: Option<Vec<u8>>,
    signing_agent: Option<String>,
}

/// The target descriptor a Notation payload names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetArtifact {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    pub annotations: Vec<(String, String)>,
}

/// Parses `{"targetArtifact": {...}}` strictly: duplicate keys and a missing or mistyped
/// mediaType, digest or size are errors.
pub fn target_artifact(payload: &[u8]) -> Result<TargetArtifact, String> {
    crate::notation::policy::reject_duplicate_keys(payload).map_err(|e| format!("payload: {e}"))?;
    let v: serde_json::Value = serde_json::from_slice(payload).map_err(|e| format!("payload is not JSON: {e}"))?;
    let t = v.get("targetArtifact").and_then(|t| t.as_object()).ok_or("payload has no targetArtifact object")?;
    let text = |k: &str| t.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let media_type = text("mediaType").ok_or("targetArtifact has no mediaType")?;
    let digest = text("digest").ok_or("targetArtifact has no digest")?;
    let size = t.get("size").and_then(|x| x.as_u64()).ok_or("targetArtifact has no size")?;
    let annotations = match t.get("annotations") {
        None => Vec::new(),
        Some(serde_json::Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                v.as_str().map(|v| (k.clone(), v.to_string())).ok_or(format!("annotation {k:?} is not a string"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("targetArtifact annotations is not an object".into()),
    };
    Ok(TargetArtifact { media_type, digest, size, annotations })
}
