//! Notation COSE_Sign1 envelopes (Notary Project COSE spec): text-labelled Notary headers in the
//! protected bucket, times as tag-1 epoch dates, the chain as an x5chain array (label 33) in the
//! unprotected bucket — the only place notation-go looks for it.

use coset::cbor::value::Value;
use coset::iana;
use coset::{CoseSign1Builder, HeaderBuilder, Label, RegisteredLabelWithPrivate, TaggedCborSerializable};

use super::jws::{H_AGENT, H_EXPIRY, H_SCHEME, H_SIGNING_TIME, SCHEME_X509};
use super::{Attrs, Signer};
use crate::oci::media;

const X5CHAIN: i64 = 33;

fn epoch(t: chrono::DateTime<chrono::Utc>) -> Value {
    Value::Tag(1, Box::new(Value::Integer(t.timestamp().into())))
}

/// The protected header as go-cose writes it for notation: integer labels, then text labels in
/// length-first canonical order; crit lists the scheme, the expiry, then critical extended
/// attributes (checked against notation-core-go's conformance vector).
pub fn protected_header(alg: iana::Algorithm, attrs: &Attrs) -> coset::Header {
    let mut text: Vec<(String, Value)> =
        vec![(H_SCHEME.into(), Value::Text(SCHEME_X509.into())), (H_SIGNING_TIME.into(), epoch(attrs.signing_time))];
    let mut crit = vec![H_SCHEME];
    if let Some(e) = attrs.expiry {
        text.push((H_EXPIRY.into(), epoch(e)));
        crit.push(H_EXPIRY);
    }
    for e in attrs.extended {
        text.push((e.key.into(), Value::Text(e.value.into())));
        if e.critical {
            crit.push(e.key);
        }
    }
    // For text keys the canonical CBOR order is by length, then bytewise.
    text.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
    let mut h = HeaderBuilder::new().algorithm(alg).content_type(media::NOTATION_PAYLOAD.to_string()).build();
    h.crit = crit.into_iter().map(|c| RegisteredLabelWithPrivate::Text(c.to_string())).collect();
    h.rest = text.into_iter().map(|(k, v)| (Label::Text(k), v)).collect();
    h
}

pub fn envelope(signer: &dyn Signer, payload: &[u8], attrs: &Attrs) -> Vec<u8> {
    let protected = protected_header(signer.cose_alg(), attrs);
    let mut unprotected =
        HeaderBuilder::new().text_value(H_AGENT.to_string(), Value::Text(attrs.signing_agent.into())).build();
    unprotected.rest.insert(
        0,
        (Label::Int(X5CHAIN), Value::Array(signer.chain().iter().map(|c| Value::Bytes(c.clone())).collect())),
    );
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(payload.to_vec())
        .create_signature(b"", |tbs| signer.sign(tbs))
        .build();
    sign1.to_tagged_vec().expect("COSE_Sign1 serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use coset::{CborSerializable as _, CoseSign1};

    #[test]
    fn round_trips_and_verifies() {
        let id = crate::demo::keys::demo_signer();
        let t = chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap();
        let env = envelope(&id, b"{}", &Attrs { signing_time: t, expiry: Some(t), extended: &[], signing_agent: "t" });
        let s = CoseSign1::from_tagged_slice(&env).unwrap();
        assert_eq!(s.protected.header.crit.len(), 2);
        let crate::demo::keys::DemoKey::P256(k) = &id.key else { unreachable!() };
        let vk = k.verifying_key();
        s.verify_signature(b"", |sig, data| {
            use p256::ecdsa::signature::Verifier as _;
            vk.verify(data, &p256::ecdsa::Signature::from_slice(sig).map_err(|_| ())?).map_err(|_| ())
        })
        .unwrap();
        let _ = CoseSign1::from_slice(&env[1..]).unwrap();
    }

    /// notation-core-go signature/cose/testdata/conformance.json (copied to tests/vectors).
    #[test]
    fn protected_header_matches_notation_core_go_byte_for_byte() {
        use crate::sign::Extended;
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/notation/cose-conformance.json")).unwrap();
        let expected = hex::decode(v["protectedHeaders"]["cborHex"].as_str().unwrap()).unwrap();
        let attrs = Attrs {
            signing_time: chrono::DateTime::from_timestamp(v["signingTime"].as_i64().unwrap(), 0).unwrap(),
            expiry: Some(chrono::DateTime::from_timestamp(v["expiry"].as_i64().unwrap(), 0).unwrap()),
            extended: &[
                Extended { key: "signedCritKey1", value: "signedCritValue1", critical: true },
                Extended { key: "signedKey1", value: "signedValue1", critical: false },
            ],
            signing_agent: "",
        };
        let ours = protected_header(iana::Algorithm::PS384, &attrs).to_vec().unwrap();
        assert_eq!(hex::encode_upper(ours), hex::encode_upper(expected));
    }
}
