//! Notation JWS envelopes (JSON flattened serialization), as the Notary Project JWS spec and
//! notation-core-go produce them.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Attrs, Signer};
use crate::oci::media;

pub use crate::notation::envelope::headers::{
    EXPIRY as H_EXPIRY, SCHEME_X509, SIGNING_AGENT as H_AGENT, SIGNING_SCHEME as H_SCHEME,
    SIGNING_TIME as H_SIGNING_TIME,
};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Critical headers: the signing scheme always, then critical extended attributes, then the
/// expiry when present (notation-core-go's JWS order), nothing else — the spec forbids listing
/// standard headers such as `alg` or `signingTime`.
pub fn crit(attrs: &Attrs) -> Vec<&'static str> {
    let mut c = vec![H_SCHEME];
    c.extend(attrs.extended.iter().filter(|e| e.critical).map(|e| e.key));
    if attrs.expiry.is_some() {
        c.push(H_EXPIRY);
    }
    c
}

/// The protected header as notation-core-go writes it: a JSON object with sorted keys, so the
/// bytes match Go's for the same request (checked against its conformance vector).
pub fn protected_header(alg: &str, attrs: &Attrs) -> Vec<u8> {
    let mut h: BTreeMap<&str, Value> = BTreeMap::new();
    h.insert("alg", json!(alg));
    h.insert("crit", json!(crit(attrs)));
    h.insert("cty", json!(media::NOTATION_PAYLOAD));
    h.insert(H_SCHEME, json!(SCHEME_X509));
    h.insert(H_SIGNING_TIME, json!(rfc3339(attrs.signing_time)));
    if let Some(e) = attrs.expiry {
        h.insert(H_EXPIRY, json!(rfc3339(e)));
    }
    for e in attrs.extended {
        h.insert(e.key, json!(e.value));
    }
    serde_json::to_vec(&h).expect("header serialises")
}

pub fn envelope(signer: &dyn Signer, payload: &[u8], attrs: &Attrs) -> Vec<u8> {
    let protected_b64 = URL_SAFE_NO_PAD.encode(protected_header(signer.jws_alg(), attrs));
    let payload_b64 = URL_SAFE_NO_PAD.encode(payload);
    let signature = signer.sign(format!("{protected_b64}.{payload_b64}").as_bytes());
    let env = json!({
        "payload": payload_b64,
        "protected": protected_b64,
        "header": {
            "x5c": signer.chain().iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>(),
            H_AGENT: attrs.signing_agent,
        },
        "signature": URL_SAFE_NO_PAD.encode(signature),
    });
    serde_json::to_vec(&env).expect("envelope serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::Extended;

    const CONFORMANCE_EXTENDED: &[Extended] = &[
        Extended { key: "signedCritKey1", value: "signedCritValue1", critical: true },
        Extended { key: "signedKey1", value: "signedValue1", critical: false },
        Extended { key: "signedKey2", value: "signedValue1", critical: false },
        Extended { key: "signedKey3", value: "signedValue1", critical: false },
        Extended { key: "signedKey4", value: "signedValue1", critical: false },
    ];

    /// notation-core-go signature/jws/testdata/conformance.json (copied to tests/vectors).
    #[test]
    fn protected_header_matches_notation_core_go_byte_for_byte() {
        let v: Value = serde_json::from_str(include_str!("../../tests/vectors/notation/jws-conformance.json")).unwrap();
        let expected = URL_SAFE_NO_PAD.decode(v["protected"].as_str().unwrap()).unwrap();
        let attrs = Attrs {
            signing_time: "2022-08-29T13:50:00Z".parse().unwrap(),
            expiry: Some("2099-08-30T13:50:00Z".parse().unwrap()),
            extended: CONFORMANCE_EXTENDED,
            signing_agent: "",
        };
        assert_eq!(String::from_utf8(protected_header("ES256", &attrs)).unwrap(), String::from_utf8(expected).unwrap());
    }
}
