//! Notation JWS envelopes (JSON flattened serialization), as the Notary Project JWS spec and
//! notation-core-go produce them.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use super::keys::Identity;
use crate::oci::{Descriptor, media};

pub const SIGNING_AGENT: &str = "sigscope-demo/0.1";
pub const SCHEME_X509: &str = "notary.x509";
pub const H_SCHEME: &str = "io.cncf.notary.signingScheme";
pub const H_SIGNING_TIME: &str = "io.cncf.notary.signingTime";
pub const H_EXPIRY: &str = "io.cncf.notary.expiry";
pub const H_AGENT: &str = "io.cncf.notary.signingAgent";

/// Signed attributes that vary between demo signatures.
#[derive(Debug, Clone, Copy)]
pub struct Attrs {
    pub signing_time: DateTime<Utc>,
    pub expiry: Option<DateTime<Utc>>,
}

/// The Notation payload: only mediaType, digest and size of the target, which is all a
/// verifier compares.
pub fn payload(target: &Descriptor) -> Vec<u8> {
    let v = json!({"targetArtifact": {
        "mediaType": target.media_type,
        "digest": target.digest,
        "size": target.size,
    }});
    serde_json::to_vec(&v).expect("payload serialises")
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Critical headers: the signing scheme always, the expiry when present, nothing else — the
/// spec forbids listing standard headers such as `alg` or `signingTime`.
pub fn crit(attrs: &Attrs) -> Vec<&'static str> {
    let mut c = vec![H_SCHEME];
    if attrs.expiry.is_some() {
        c.push(H_EXPIRY);
    }
    c
}

pub fn envelope(id: &Identity, payload: &[u8], attrs: &Attrs) -> Vec<u8> {
    let mut protected = json!({
        "alg": id.key.jws_alg(),
        "crit": crit(attrs),
        "cty": media::NOTATION_PAYLOAD,
        H_SCHEME: SCHEME_X509,
        H_SIGNING_TIME: rfc3339(attrs.signing_time),
    });
    if let Some(e) = attrs.expiry {
        protected[H_EXPIRY] = json!(rfc3339(e));
    }
    let protected_b64 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&protected).expect("header serialises"));
    let payload_b64 = URL_SAFE_NO_PAD.encode(payload);
    let signature = id.key.sign_raw(format!("{protected_b64}.{payload_b64}").as_bytes());
    let env = json!({
        "payload": payload_b64,
        "protected": protected_b64,
        "header": {
            "x5c": id.chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>(),
            H_AGENT: SIGNING_AGENT,
        },
        "signature": URL_SAFE_NO_PAD.encode(signature),
    });
    serde_json::to_vec(&env).expect("envelope serialises")
}

/// Replaces the payload of a signed envelope and keeps the old signature: the integrity check
/// of a verifier must then fail.
pub fn tamper_payload(envelope: &[u8], new_payload: &[u8]) -> Vec<u8> {
    let mut env: serde_json::Value = serde_json::from_slice(envelope).expect("our own envelope");
    env["payload"] = json!(URL_SAFE_NO_PAD.encode(new_payload));
    serde_json::to_vec(&env).expect("envelope serialises")
}
