//! JWS JSON flattened serialization (signature-envelope-jws.md).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::*;

const TOP_LEVEL: [&str; 4] = ["payload", "protected", "header", "signature"];

pub(super) fn parse(bytes: &[u8]) -> Result<Envelope, String> {
    crate::notation::policy::reject_duplicate_keys(bytes).map_err(|e| format!("malformed JWS envelope: {e}"))?;
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("malformed JWS envelope: {e}"))?;
    let top = v.as_object().ok_or("JWS envelope is not a JSON object")?;
    for key in top.keys() {
        if !TOP_LEVEL.contains(&key.as_str()) {
            return Err(format!(
                "JWS envelope has unexpected member {key:?} (only the flattened serialization is allowed)"
            ));
        }
    }
    let text = |k: &str| top.get(k).and_then(Value::as_str).ok_or_else(|| format!("JWS envelope has no {k} string"));
    let protected_b64 = text("protected")?;
    let payload_b64 = text("payload")?;
    let signature_b64 = text("signature")?;
    let b64url =
        |what: &str, s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|e| format!("{what} is not unpadded base64url: {e}"));
    let protected = b64url("protected header", protected_b64)?;
    let payload = b64url("payload", payload_b64)?;
    let signature = b64url("signature", signature_b64)?;
    let headers = protected_headers(&protected)?;

    let unprotected = match top.get("header") {
        Some(Value::Object(m)) => m,
        Some(_) => return Err("JWS unprotected header is not an object".into()),
        None => return Err("JWS envelope has no unprotected header (the certificate chain lives there)".into()),
    };
    let chain = match member(unprotected, "x5c")? {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let s = c.as_str().ok_or_else(|| format!("x5c[{i}] is not a string"))?;
                STANDARD.decode(s).map_err(|e| format!("x5c[{i}] is not standard base64: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err("x5c is not an array".into()),
        None => Vec::new(),
    };
    let timestamp_token = match member(unprotected, H_TIMESTAMP)? {
        Some(Value::String(s)) => {
            Some(STANDARD.decode(s).map_err(|e| format!("timestamp countersignature is not base64: {e}"))?)
        }
        Some(_) => return Err("timestamp countersignature is not a string".into()),
        None => None,
    };
    let signing_agent = match member(unprotected, H_AGENT)? {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("signing agent is not a string".into()),
        None => None,
    };
    let signed_bytes = format!("{protected_b64}.{payload_b64}").into_bytes();
    finish(Format::Jws, headers, Parts { payload, signed_bytes, signature, chain, timestamp_token, signing_agent })
}

/// An unprotected member, matched without regard to case as Go's JSON decoder does; two
/// members that differ only in case are ambiguous and refused.
fn member<'a>(m: &'a Map<String, Value>, name: &str) -> Result<Option<&'a Value>, String> {
    let mut found = m.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name));
    let first = found.next().map(|(_, v)| v);
    if found.next().is_some() {
        return Err(format!("unprotected header has {name:?} more than once (differing in case)"));
    }
    Ok(first)
}

fn time(name: &str, v: &Value) -> Result<DateTime<Utc>, String> {
    let s = v.as_str().ok_or_else(|| format!("{name} is not a string"))?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{name} {s:?} is not RFC 3339: {e}"))
}

fn protected_headers(bytes: &[u8]) -> Result<Headers, String> {
    crate::notation::policy::reject_duplicate_keys(bytes).map_err(|e| format!("protected header: {e}"))?;
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("protected header is not JSON: {e}"))?;
    let obj = v.as_object().ok_or("protected header is not a JSON object")?;
    let mut h = Headers::default();
    for (k, v) in obj {
        let text = || v.as_str().map(str::to_string).ok_or_else(|| format!("{k} is not a string"));
        match k.as_str() {
            "alg" => h.alg = Some(Algorithm::from_jose(&text()?)?),
            "cty" => h.content_type = Some(text()?),
            "crit" => {
                let items = v.as_array().ok_or("crit is not an array")?;
                h.crit = items
                    .iter()
                    .map(|c| c.as_str().map(str::to_string).ok_or_else(|| "crit holds a non-string".to_string()))
                    .collect::<Result<_, _>>()?;
            }
            H_SCHEME => h.scheme = Some(text()?),
            H_SIGNING_TIME => h.signing_time = Some(time(k, v)?),
            H_AUTHENTIC_TIME => h.authentic_signing_time = Some(time(k, v)?),
            H_EXPIRY => h.expiry = Some(time(k, v)?),
            H_PLUGIN => h.plugin = Some(text()?),
            H_PLUGIN_MIN_VERSION => h.plugin_min_version = Some(text()?),
            // JOSE headers that change where a generic JWS library takes the key from or what
            // bytes it verifies; a Notation signature never needs them. Informational ones
            // (typ, kid) are kept as extended attributes: signers are free to add them.
            "jku" | "jwk" | "x5u" | "x5c" | "b64" | "zip" | "enc" => {
                return Err(format!("protected header {k:?} is not allowed in a Notation envelope"));
            }
            other => {
                let shown = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                h.extended.push((other.to_string(), shown));
            }
        }
    }
    Ok(h)
}
