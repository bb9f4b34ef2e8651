//! Notation signature envelopes (JWS and COSE) decoded for display — decoded, NOT verified:
//! the trust module decides validity; this only shows what the envelope claims.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use coset::cbor::value::Value as Cbor;
use coset::{CborSerializable as _, CoseSign1, Label, RegisteredLabelWithPrivate, TaggedCborSerializable as _};
use serde_json::Value;

use super::{Section, x509};

pub const TITLE: &str = "Notation signature (decoded, not verified)";
use crate::notation::envelope::headers::{
    AUTHENTIC_SIGNING_TIME as AUTHENTIC_TIME, EXPIRY, SIGNING_AGENT as AGENT, SIGNING_SCHEME as SCHEME, SIGNING_TIME,
    TIMESTAMP_SIGNATURE as TIMESTAMP,
};

/// What either envelope format says, in one shape.
#[derive(Default)]
struct Claims {
    envelope: &'static str,
    alg: String,
    content_type: String,
    scheme: String,
    signing_time: String,
    authentic_signing_time: String,
    expiry: String,
    agent: String,
    crit: Vec<String>,
    extended: Vec<(String, String)>,
    timestamp: bool,
    /// None when detached; Err when present but undecodable.
    payload: Option<Result<Vec<u8>, String>>,
    chain: Vec<Vec<u8>>,
}

/// Sections for an envelope of layer media type `media_type`.
pub fn decode(media_type: &str, bytes: &[u8]) -> Vec<Section> {
    let claims = match media_type {
        crate::oci::media::JWS => jws(bytes),
        crate::oci::media::COSE => cose(bytes),
        other => Err(format!("unknown envelope media type {other:?}")),
    };
    match claims {
        Ok(c) => sections(c),
        Err(e) => vec![Section::failed(TITLE, e)],
    }
}

fn or_absent(s: &str) -> String {
    if s.is_empty() { "absent".into() } else { s.to_string() }
}

fn sections(c: Claims) -> Vec<Section> {
    let mut s = Section::new(TITLE)
        .field("envelope type", c.envelope)
        .field("algorithm", or_absent(&c.alg))
        .field("signing scheme", or_absent(&c.scheme));
    if !c.authentic_signing_time.is_empty() {
        s = s.field("authentic signing time", c.authentic_signing_time);
    }
    s = s
        .field("signing time", or_absent(&c.signing_time))
        .field("expiry", if c.expiry.is_empty() { "none".into() } else { c.expiry })
        .field("signing agent", or_absent(&c.agent))
        .field("content type", or_absent(&c.content_type))
        .field("critical headers", c.crit.join(", "))
        .field("timestamp countersignature", if c.timestamp { "present" } else { "absent" });
    for (k, v) in c.extended {
        s = s.field(format!("extended: {k}"), v);
    }
    let mut out = vec![s];
    out.push(match c.payload.map(|p| p.and_then(|b| payload_section(&b))) {
        Some(Ok(p)) => p,
        Some(Err(e)) => Section::failed("Signed payload", e),
        None => Section::failed("Signed payload", "the envelope has no payload (detached)"),
    });
    if c.chain.is_empty() {
        out.push(Section::failed("Certificate chain", "the envelope carries no certificate chain"));
    } else {
        out.push(x509::chain_section("Certificate chain", &c.chain));
    }
    out
}

fn payload_section(bytes: &[u8]) -> Result<Section, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("payload is not JSON: {e}"))?;
    let t = v.get("targetArtifact").ok_or("payload has no targetArtifact")?;
    let mut s = Section::new("Signed payload")
        .field("targetArtifact mediaType", str_of(t, "mediaType"))
        .field("targetArtifact digest", str_of(t, "digest"))
        .field("targetArtifact size", t.get("size").map(Value::to_string).unwrap_or_else(|| "absent".into()));
    if let Some(at) = t.get("artifactType").and_then(Value::as_str) {
        s = s.field("targetArtifact artifactType", at);
    }
    if let Some(Value::Object(ann)) = t.get("annotations") {
        for (k, v) in ann {
            s = s.field(format!("user metadata: {k}"), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
        }
    }
    Ok(s)
}

fn str_of(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "absent".into(),
    }
}

fn jws(bytes: &[u8]) -> Result<Claims, String> {
    let env: Value = serde_json::from_slice(bytes).map_err(|e| format!("envelope is not JSON: {e}"))?;
    let part = |name: &str| -> Result<Vec<u8>, String> {
        let s = env.get(name).and_then(Value::as_str).ok_or(format!("envelope has no {name}"))?;
        // The spec mandates unpadded base64url; a padded value is an integrity failure upstream.
        URL_SAFE_NO_PAD.decode(s).map_err(|e| format!("{name} is not unpadded base64url: {e}"))
    };
    let protected: Value =
        serde_json::from_slice(&part("protected")?).map_err(|e| format!("protected header is not JSON: {e}"))?;
    let protected = protected.as_object().ok_or("protected header is not a JSON object")?;
    let text = |k: &str| protected.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
    let mut c = Claims {
        envelope: "JWS (application/jose+json)",
        alg: text("alg").unwrap_or_default(),
        content_type: text("cty").unwrap_or_default(),
        scheme: text(SCHEME).unwrap_or_default(),
        signing_time: text(SIGNING_TIME).unwrap_or_default(),
        authentic_signing_time: text(AUTHENTIC_TIME).unwrap_or_default(),
        expiry: text(EXPIRY).unwrap_or_default(),
        payload: Some(part("payload")),
        ..Default::default()
    };
    c.crit = match protected.get("crit") {
        Some(Value::Array(a)) => {
            a.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect()
        }
        _ => Vec::new(),
    };
    for (k, v) in protected {
        if !matches!(k.as_str(), "alg" | "cty" | "crit" | SCHEME | SIGNING_TIME | AUTHENTIC_TIME | EXPIRY) {
            c.extended.push((k.clone(), clip(&v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))));
        }
    }
    if let Some(Value::Object(h)) = env.get("header") {
        // notation-go matches member names case-insensitively; its own mock vectors rely on it.
        for (k, v) in h {
            match k.to_ascii_lowercase().as_str() {
                "x5c" => {
                    for cert in v.as_array().ok_or("header x5c is not an array")? {
                        let b64 = cert.as_str().ok_or("x5c entry is not a string")?;
                        c.chain.push(STANDARD.decode(b64).map_err(|e| format!("x5c entry is not base64: {e}"))?);
                    }
                }
                key if key.eq_ignore_ascii_case(AGENT) => c.agent = v.as_str().unwrap_or_default().to_string(),
                key if key.eq_ignore_ascii_case(TIMESTAMP) => c.timestamp = true,
                _ => {}
            }
        }
    }
    if env.get("signature").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err("envelope has no signature".into());
    }
    Ok(c)
}

fn cbor_text(v: &Cbor) -> String {
    match v {
        Cbor::Text(s) => s.clone(),
        // Notary times are tag-1 epoch seconds.
        Cbor::Tag(1, inner) => match inner.as_ref() {
            Cbor::Integer(i) => i128::from(*i)
                .try_into()
                .ok()
                .and_then(|secs: i64| chrono::DateTime::from_timestamp(secs, 0))
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_else(|| format!("epoch {}", i128::from(*i))),
            Cbor::Float(f) => format!("epoch {f}"),
            other => debug_clipped(other),
        },
        Cbor::Integer(i) => i128::from(*i).to_string(),
        Cbor::Bytes(b) => format!("{} bytes", b.len()),
        other => debug_clipped(other),
    }
}

/// Hostile headers can nest deeply; a field shows a bounded glimpse.
fn debug_clipped(v: &Cbor) -> String {
    clip(&format!("{v:?}"))
}

fn clip(s: &str) -> String {
    crate::sanitize::clip(s, 200).into_owned()
}

fn label_name(l: &Label) -> String {
    match l {
        Label::Int(i) => i.to_string(),
        Label::Text(t) => t.clone(),
    }
}

fn cose(bytes: &[u8]) -> Result<Claims, String> {
    let s = CoseSign1::from_tagged_slice(bytes)
        .or_else(|_| CoseSign1::from_slice(bytes))
        .map_err(|e| format!("not a COSE_Sign1 message: {e}"))?;
    let p = &s.protected.header;
    let mut c = Claims {
        envelope: "COSE_Sign1 (application/cose)",
        alg: match &p.alg {
            Some(RegisteredLabelWithPrivate::Assigned(a)) => format!("{a:?}"),
            Some(RegisteredLabelWithPrivate::PrivateUse(i)) => i.to_string(),
            Some(RegisteredLabelWithPrivate::Text(t)) => t.clone(),
            None => String::new(),
        },
        content_type: match &p.content_type {
            Some(coset::ContentType::Text(t)) => t.clone(),
            Some(coset::ContentType::Assigned(a)) => format!("{a:?}"),
            None => String::new(),
        },
        payload: s.payload.clone().map(Ok),
        ..Default::default()
    };
    c.crit = p
        .crit
        .iter()
        .map(|l| match l {
            RegisteredLabelWithPrivate::Text(t) => t.clone(),
            RegisteredLabelWithPrivate::Assigned(a) => format!("{a:?}"),
            RegisteredLabelWithPrivate::PrivateUse(i) => i.to_string(),
        })
        .collect();
    for (label, value) in &p.rest {
        let v = cbor_text(value);
        match label {
            Label::Text(t) if t == SCHEME => c.scheme = v,
            Label::Text(t) if t == SIGNING_TIME => c.signing_time = v,
            Label::Text(t) if t == AUTHENTIC_TIME => c.authentic_signing_time = v,
            Label::Text(t) if t == EXPIRY => c.expiry = v,
            other => c.extended.push((label_name(other), v)),
        }
    }
    for (label, value) in &s.unprotected.rest {
        match (label, value) {
            (Label::Int(33), Cbor::Array(certs)) => {
                for cert in certs {
                    match cert {
                        Cbor::Bytes(b) => c.chain.push(b.clone()),
                        _ => return Err("x5chain entry is not a byte string".into()),
                    }
                }
            }
            // RFC 9360 allows a lone certificate; notation-go insists on an array.
            (Label::Int(33), Cbor::Bytes(b)) => c.chain.push(b.clone()),
            (Label::Text(t), v) if t == AGENT => c.agent = cbor_text(v),
            (Label::Text(t), _) if t == TIMESTAMP => c.timestamp = true,
            _ => {}
        }
    }
    if s.signature.is_empty() {
        return Err("COSE_Sign1 has an empty signature".into());
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::media;

    fn field<'a>(s: &'a [Section], title: &str, name: &str) -> &'a str {
        let sec = s.iter().find(|x| x.title == title).unwrap_or_else(|| panic!("section {title}"));
        &sec.fields.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{title}/{name}")).value
    }

    #[test]
    fn garbage_gives_errors_not_panics() {
        let good = br#"{"payload":"e30","protected":"e30","header":{},"signature":"AA"}"#;
        let cases: Vec<&[u8]> = vec![
            b"",
            b"\xff\xfe",
            b"{}",
            b"[]",
            br#"{"payload":"e30=","protected":"e30","signature":"AA"}"#,
            br#"{"payload":"e30","protected":"W10","signature":"AA"}"#,
            br#"{"payload":"e30","protected":"e30","header":{"x5c":"x"},"signature":"AA"}"#,
            br#"{"payload":"e30","protected":"e30","header":{"x5c":[1]},"signature":"AA"}"#,
            &good[..good.len() / 2],
        ];
        for c in cases {
            let s = decode(media::JWS, c);
            assert!(s.iter().any(|x| x.error.is_some()), "{:?}", String::from_utf8_lossy(c));
            let s = decode(media::COSE, c);
            assert!(s[0].error.is_some());
        }
        // A well-formed but empty envelope decodes, with the missing parts reported.
        let s = decode(media::JWS, good);
        assert!(s[0].error.is_none());
        assert!(s[1].error.is_some(), "payload without targetArtifact");
        assert!(s[2].error.is_some(), "no chain");
        assert!(decode("application/x-unknown", good)[0].error.is_some());
        assert_eq!(field(&s, TITLE, "timestamp countersignature"), "absent");
    }

    #[test]
    fn truncated_cose_never_panics() {
        let files = crate::demo::files();
        let cose: Vec<&bytes::Bytes> = files.0.values().filter(|b| b.first() == Some(&0xd2)).collect();
        assert!(!cose.is_empty());
        for b in cose {
            for n in 0..b.len() {
                let _ = decode(media::COSE, &b[..n]);
            }
            assert!(decode(media::COSE, b)[0].error.is_none());
        }
    }
}
