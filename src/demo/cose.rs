//! Notation COSE_Sign1 envelopes (Notary Project COSE spec): text-labelled Notary headers in the
//! protected bucket, times as tag-1 epoch dates, the chain as an x5chain array (label 33) in the
//! unprotected bucket — the only place notation-go looks for it.

use coset::cbor::value::Value;
use coset::iana;
use coset::{CoseSign1Builder, HeaderBuilder, Label, RegisteredLabelWithPrivate, TaggedCborSerializable};

use super::jws::{Attrs, H_AGENT, H_EXPIRY, H_SCHEME, H_SIGNING_TIME, SCHEME_X509, SIGNING_AGENT};
use super::keys::{Identity, Key};
use crate::oci::media;

const X5CHAIN: i64 = 33;

fn epoch(t: chrono::DateTime<chrono::Utc>) -> Value {
    Value::Tag(1, Box::new(Value::Integer(t.timestamp().into())))
}

pub fn envelope(id: &Identity, payload: &[u8], attrs: &Attrs) -> Vec<u8> {
    let alg = match id.key {
        Key::P256(_) => iana::Algorithm::ES256,
        Key::P384(_) => iana::Algorithm::ES384,
    };
    let mut protected = HeaderBuilder::new()
        .algorithm(alg)
        .content_type(media::NOTATION_PAYLOAD.to_string())
        .text_value(H_SCHEME.to_string(), Value::Text(SCHEME_X509.to_string()))
        .text_value(H_SIGNING_TIME.to_string(), epoch(attrs.signing_time));
    if let Some(e) = attrs.expiry {
        protected = protected.text_value(H_EXPIRY.to_string(), epoch(e));
    }
    let mut protected = protected.build();
    protected.crit =
        super::jws::crit(attrs).into_iter().map(|c| RegisteredLabelWithPrivate::Text(c.to_string())).collect();
    let mut unprotected =
        HeaderBuilder::new().text_value(H_AGENT.to_string(), Value::Text(SIGNING_AGENT.into())).build();
    unprotected
        .rest
        .insert(0, (Label::Int(X5CHAIN), Value::Array(id.chain.iter().map(|c| Value::Bytes(c.clone())).collect())));
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(payload.to_vec())
        .create_signature(b"", |tbs| id.key.sign_raw(tbs))
        .build();
    sign1.to_tagged_vec().expect("COSE_Sign1 serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use coset::{CborSerializable as _, CoseSign1};

    #[test]
    fn round_trips_and_verifies() {
        let id = super::super::keys::demo_signer();
        let t = chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap();
        let env = envelope(&id, b"{}", &Attrs { signing_time: t, expiry: Some(t) });
        let s = CoseSign1::from_tagged_slice(&env).unwrap();
        assert_eq!(s.protected.header.crit.len(), 2);
        let Key::P256(k) = &id.key else { unreachable!() };
        let vk = k.verifying_key();
        s.verify_signature(b"", |sig, data| {
            use p256::ecdsa::signature::Verifier as _;
            vk.verify(data, &p256::ecdsa::Signature::from_slice(sig).map_err(|_| ())?).map_err(|_| ())
        })
        .unwrap();
        let _ = CoseSign1::from_slice(&env[1..]).unwrap();
    }
}
