//! cosign's legacy simple-signing layers and Sigstore bundles, decoded for display (not verified).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{Section, intoto, x509};
use crate::oci::annotations;

pub const SIMPLE_TITLE: &str = "cosign simple signing (decoded, not verified)";
pub const BUNDLE_TITLE: &str = "Sigstore bundle (decoded, not verified)";
const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
const BUNDLE_ANNOTATION: &str = crate::oci::annotations::COSIGN_BUNDLE;
const RFC3161_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";

/// A `.sig` layer: the payload blob plus the signature material in the layer's annotations.
pub fn simple_signing(payload: &[u8], layer_annotations: &BTreeMap<String, String>) -> Vec<Section> {
    let mut out = Vec::new();
    match simple_payload(payload) {
        Ok(s) => {
            let mut s = s;
            let sig = layer_annotations.get(annotations::COSIGN_SIGNATURE);
            s = s.field(
                "signature",
                match sig.map(|b| STANDARD.decode(b.trim())) {
                    Some(Ok(raw)) => format!("present ({} bytes)", raw.len()),
                    Some(Err(e)) => format!("present but not base64 ({e})"),
                    None => "absent".into(),
                },
            );
            let present = |k: &str| if layer_annotations.contains_key(k) { "present" } else { "absent" };
            s = s
                .field("Rekor bundle", present(BUNDLE_ANNOTATION))
                .field("RFC 3161 timestamp", present(RFC3161_ANNOTATION));
            out.push(s);
        }
        Err(e) => out.push(Section::failed(SIMPLE_TITLE, e)),
    }
    if let Some(pem) = layer_annotations.get(annotations::COSIGN_CERTIFICATE) {
        let mut text = pem.clone();
        if let Some(chain) = layer_annotations.get(CHAIN_ANNOTATION) {
            text.push('\n');
            text.push_str(chain);
        }
        out.push(match x509::pem_certs(&text) {
            Ok(ders) => x509::chain_section("Certificate", &ders),
            Err(e) => Section::failed("Certificate", e),
        });
    }
    out
}

fn simple_payload(payload: &[u8]) -> Result<Section, String> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| format!("payload is not JSON: {e}"))?;
    let critical = v.get("critical").ok_or("payload has no critical section")?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("absent").to_string();
    let image = critical.get("image");
    // Go's decoder is case-insensitive, and some producers write `Docker-manifest-digest`.
    let digest = image.and_then(|i| i.get("docker-manifest-digest").or_else(|| i.get("Docker-manifest-digest")));
    let mut s = Section::new(SIMPLE_TITLE)
        .field("type", text(critical.get("type")))
        .field("docker-reference", text(critical.get("identity").and_then(|i| i.get("docker-reference"))))
        .field("docker-manifest-digest", text(digest));
    match v.get("optional") {
        Some(Value::Object(o)) => {
            for (k, v) in o {
                s = s.field(format!("optional: {k}"), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
            }
        }
        _ => s = s.field("optional", "none"),
    }
    Ok(s)
}

/// A Sigstore bundle (v0.1–v0.3): what it signs and with which material.
pub fn bundle(bytes: &[u8]) -> Vec<Section> {
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return vec![Section::failed(BUNDLE_TITLE, "bundle is not a JSON object")],
        Err(e) => return vec![Section::failed(BUNDLE_TITLE, format!("bundle is not JSON: {e}"))],
    };
    let Some(media_type) = v.get("mediaType").and_then(Value::as_str) else {
        return vec![Section::failed(BUNDLE_TITLE, "no mediaType: not a Sigstore bundle")];
    };
    let mut s = Section::new(BUNDLE_TITLE).field("media type", media_type);
    let mut out = Vec::new();
    if let Some(ms) = v.get("messageSignature") {
        s = s.field("content", "message signature");
        let d = ms.get("messageDigest");
        s = s.field(
            "message digest",
            format!(
                "{}:{}",
                d.and_then(|d| d.get("algorithm")).and_then(Value::as_str).unwrap_or("?"),
                d.and_then(|d| d.get("digest"))
                    .and_then(Value::as_str)
                    .and_then(|b| STANDARD.decode(b).ok())
                    .map(hex::encode)
                    .unwrap_or_else(|| "?".into())
            ),
        );
    } else if let Some(env) = v.get("dsseEnvelope") {
        s = s.field("content", "DSSE envelope");
        out.extend(intoto::dsse_value(env));
        let predicate = out
            .iter()
            .filter(|x| x.title == intoto::STATEMENT_TITLE)
            .flat_map(|x| &x.fields)
            .find(|f| f.name == "predicateType");
        if let Some(p) = predicate {
            s = s.field("predicate type", p.value.clone());
        }
    } else {
        s = s.field("content", "none recognised");
    }
    let vm = v.get("verificationMaterial");
    let mut certs = Vec::new();
    if let Some(vm) = vm {
        if let Some(raw) = vm.get("certificate").and_then(|c| c.get("rawBytes")).and_then(Value::as_str) {
            certs.extend(STANDARD.decode(raw).ok());
        }
        if let Some(list) = vm.pointer("/x509CertificateChain/certificates").and_then(Value::as_array) {
            certs.extend(
                list.iter().filter_map(|c| c.get("rawBytes")?.as_str()).filter_map(|b| STANDARD.decode(b).ok()),
            );
        }
        if let Some(hint) = vm.pointer("/publicKey/hint").and_then(Value::as_str) {
            s = s.field("public key hint", hint);
        }
        let count = |p: &str| vm.get(p).and_then(Value::as_array).map_or(0, Vec::len);
        s = s.field("transparency log entries", count("tlogEntries").to_string());
        let ts =
            vm.pointer("/timestampVerificationData/rfc3161Timestamps").and_then(Value::as_array).map_or(0, Vec::len);
        s = s.field("RFC 3161 timestamps", ts.to_string());
    }
    s = s.field("certificates", certs.len().to_string());
    out.insert(0, s);
    if !certs.is_empty() {
        out.push(x509::chain_section("Certificate", &certs));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_digest_spellings_and_survives_garbage() {
        let p = br#"{"critical":{"identity":{"docker-reference":"r"},"image":{"Docker-manifest-digest":"sha256:ab"},"type":"cosign container image signature"},"optional":null}"#;
        let s = simple_signing(p, &BTreeMap::new());
        assert_eq!(s[0].fields[2].value, "sha256:ab");
        assert_eq!(s[0].fields.iter().find(|f| f.name == "signature").unwrap().value, "absent");
        for junk in [&b""[..], b"{}", b"[1]", b"{\"critical\":1}", &p[..40]] {
            let s = simple_signing(junk, &BTreeMap::new());
            assert!(s[0].error.is_some() || s[0].fields.iter().any(|f| f.value == "absent"));
            assert!(bundle(junk).iter().any(|x| x.error.is_some()));
        }
        let mut ann = BTreeMap::new();
        ann.insert(annotations::COSIGN_CERTIFICATE.to_string(), "garbage".to_string());
        assert!(simple_signing(p, &ann)[1].error.is_some());
    }
}
