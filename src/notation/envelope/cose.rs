//! COSE_Sign1 envelopes (signature-envelope-cose.md), as notation-core-go reads them.

use chrono::{DateTime, Utc};
use coset::cbor::value::Value as Cbor;
use coset::{Label, RegisteredLabelWithPrivate, TaggedCborSerializable as _};

use super::*;

const X5CHAIN: i64 = 33;

pub(super) fn parse(bytes: &[u8]) -> Result<Envelope, String> {
    // Only the tagged form: an untagged message is not what Notation writes and could be
    // a different COSE structure with the same shape.
    let msg =
        coset::CoseSign1::from_tagged_slice(bytes).map_err(|e| format!("not a tagged COSE_Sign1 message: {e}"))?;
    let p = &msg.protected.header;
    if !p.key_id.is_empty() || !p.iv.is_empty() || !p.partial_iv.is_empty() || !p.counter_signatures.is_empty() {
        return Err("protected header carries kid/IV/countersignature members Notation does not use".into());
    }
    let mut h = Headers {
        alg: Some(match &p.alg {
            Some(RegisteredLabelWithPrivate::Assigned(a)) => Algorithm::from_cose(*a as i64)?,
            Some(RegisteredLabelWithPrivate::PrivateUse(i)) => Algorithm::from_cose(*i)?,
            Some(RegisteredLabelWithPrivate::Text(t)) => return Err(format!("COSE algorithm {t:?} is not allowed")),
            None => return Err("protected header has no algorithm".into()),
        }),
        content_type: match &p.content_type {
            Some(coset::ContentType::Text(t)) => Some(t.clone()),
            Some(coset::ContentType::Assigned(a)) => Some(format!("CoAP content format {}", *a as i64)),
            None => None,
        },
        ..Default::default()
    };
    for label in &p.crit {
        match label {
            RegisteredLabelWithPrivate::Text(t) => h.crit.push(t.clone()),
            // Integer labels in crit name standard COSE headers, which Notation never marks.
            other => return Err(format!("crit lists {other:?}, which is not a Notation header")),
        }
    }
    for (label, value) in &p.rest {
        let name = match label {
            Label::Text(t) => t.as_str(),
            Label::Int(i) => return Err(format!("protected header has unexpected integer label {i}")),
        };
        let text = || match value {
            Cbor::Text(t) => Ok(t.clone()),
            _ => Err(format!("{name} is not a text string")),
        };
        match name {
            H_SCHEME => h.scheme = Some(text()?),
            H_SIGNING_TIME => h.signing_time = Some(epoch(name, value)?),
            H_AUTHENTIC_TIME => h.authentic_signing_time = Some(epoch(name, value)?),
            H_EXPIRY => h.expiry = Some(epoch(name, value)?),
            H_PLUGIN => h.plugin = Some(text()?),
            H_PLUGIN_MIN_VERSION => h.plugin_min_version = Some(text()?),
            other => {
                if h.extended.iter().any(|(k, _)| k == other) {
                    return Err(format!("protected header has {other:?} twice"));
                }
                h.extended.push((other.to_string(), display(value)));
            }
        }
    }
    let mut chain = None;
    let mut timestamp_token = None;
    let mut signing_agent = None;
    let u = &msg.unprotected;
    if u.alg.is_some() || !u.crit.is_empty() || u.content_type.is_some() {
        return Err("unprotected header carries alg, crit or content type".into());
    }
    for (label, value) in &u.rest {
        match (label, value) {
            (Label::Int(X5CHAIN), Cbor::Array(certs)) => {
                let certs = certs
                    .iter()
                    .map(|c| match c {
                        Cbor::Bytes(b) => Ok(b.clone()),
                        _ => Err("x5chain entry is not a byte string".to_string()),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if chain.replace(certs).is_some() {
                    return Err("x5chain appears twice".into());
                }
            }
            (Label::Int(X5CHAIN), _) => return Err("x5chain is not an array of certificates".into()),
            (Label::Text(t), Cbor::Bytes(b)) if t == H_TIMESTAMP => timestamp_token = Some(b.clone()),
            (Label::Text(t), _) if t == H_TIMESTAMP => {
                return Err("timestamp countersignature is not a byte string".into());
            }
            (Label::Text(t), Cbor::Text(s)) if t == H_AGENT => signing_agent = Some(s.clone()),
            _ => {}
        }
    }
    let payload = msg.payload.clone().ok_or("COSE_Sign1 payload is detached")?;
    let signed_bytes = msg.tbs_data(b"");
    finish(
        Format::Cose,
        h,
        Parts {
            payload,
            signed_bytes,
            signature: msg.signature.clone(),
            chain: chain.unwrap_or_default(),
            timestamp_token,
            signing_agent,
        },
    )
}

/// A time as CBOR tag 1 around integer (or float) seconds since the epoch; Go refuses
/// anything else.
fn epoch(name: &str, v: &Cbor) -> Result<DateTime<Utc>, String> {
    let bad = || format!("{name} is not a tag-1 epoch time");
    let Cbor::Tag(1, inner) = v else { return Err(bad()) };
    let t = match inner.as_ref() {
        Cbor::Integer(i) => i64::try_from(i128::from(*i)).ok().and_then(|s| DateTime::from_timestamp(s, 0)),
        Cbor::Float(f) if f.is_finite() => DateTime::from_timestamp(f.trunc() as i64, (f.fract().abs() * 1e9) as u32),
        _ => None,
    };
    t.ok_or_else(bad)
}

fn display(v: &Cbor) -> String {
    match v {
        Cbor::Text(t) => t.clone(),
        Cbor::Integer(i) => i128::from(*i).to_string(),
        Cbor::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}
