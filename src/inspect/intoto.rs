//! in-toto statements, raw or inside a DSSE envelope, with SLSA provenance v0.2 / v1 details.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::Value;

use super::{Section, Table, sbom};

pub const DSSE_TITLE: &str = "DSSE envelope (decoded, not verified)";
pub const STATEMENT_TITLE: &str = "in-toto statement";

/// A layer blob: a DSSE envelope (has `payloadType`) or a bare statement.
pub fn decode(bytes: &[u8]) -> Vec<Section> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) if v.get("payloadType").is_some() => dsse_value(&v),
        Ok(v @ Value::Object(_)) => statement_value(&v),
        Ok(_) => vec![Section::failed(STATEMENT_TITLE, "not a JSON object")],
        Err(e) => vec![Section::failed(STATEMENT_TITLE, format!("not JSON: {e}"))],
    }
}

pub fn dsse_value(env: &Value) -> Vec<Section> {
    let payload_type = env.get("payloadType").and_then(Value::as_str).unwrap_or("absent");
    let sigs = env.get("signatures").and_then(Value::as_array).map_or(0, Vec::len);
    let dsse = Section::new(DSSE_TITLE).field("payloadType", payload_type).field("signatures", sigs.to_string());
    let Some(b64) = env.get("payload").and_then(Value::as_str) else {
        return vec![dsse, Section::failed(STATEMENT_TITLE, "DSSE envelope has no payload")];
    };
    // DSSE says standard base64, but URL-safe producers exist.
    let payload = match STANDARD.decode(b64).or_else(|_| URL_SAFE.decode(b64)) {
        Ok(p) => p,
        Err(e) => return vec![dsse, Section::failed(STATEMENT_TITLE, format!("payload is not base64: {e}"))],
    };
    let mut out = vec![dsse];
    match serde_json::from_slice::<Value>(&payload) {
        Ok(v @ Value::Object(_)) => out.extend(statement_value(&v)),
        Ok(_) => out.push(Section::failed(STATEMENT_TITLE, "payload is not a JSON object")),
        Err(e) => out.push(Section::failed(STATEMENT_TITLE, format!("payload is not JSON: {e}"))),
    }
    out
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("absent")
}

/// `alg:value` pairs of an in-toto DigestSet, sorted for stable output.
fn digest_set(v: Option<&Value>) -> String {
    match v {
        Some(Value::Object(m)) => {
            let mut parts: Vec<String> =
                m.iter().map(|(k, v)| format!("{k}:{}", v.as_str().unwrap_or_default())).collect();
            parts.sort();
            parts.join(", ")
        }
        _ => String::new(),
    }
}

pub fn statement_value(st: &Value) -> Vec<Section> {
    let predicate_type = s(st, "/predicateType");
    let mut sec = Section::new(STATEMENT_TITLE).field("_type", s(st, "/_type")).field("predicateType", predicate_type);
    let subjects = st.get("subject").and_then(Value::as_array).cloned().unwrap_or_default();
    sec = sec.field("subjects", subjects.len().to_string());
    sec.table = Some(Table {
        headers: vec!["name".into(), "digest".into()],
        rows: subjects
            .iter()
            .take(sbom::MAX_ROWS)
            .map(|x| {
                vec![x.get("name").and_then(Value::as_str).unwrap_or_default().to_string(), digest_set(x.get("digest"))]
            })
            .collect(),
    });
    let mut out = vec![sec];
    let predicate = st.get("predicate").unwrap_or(&Value::Null);
    match predicate_type {
        "https://slsa.dev/provenance/v1" => out.push(slsa_v1(predicate)),
        "https://slsa.dev/provenance/v0.2" => out.push(slsa_v02(predicate)),
        "https://spdx.dev/Document" => out.extend(sbom::spdx_value(predicate)),
        t if t.starts_with("https://cyclonedx.org/bom") => out.extend(sbom::cyclonedx_value(predicate)),
        _ => {}
    }
    out
}

fn slsa_v1(p: &Value) -> Section {
    let mut sec = Section::new("SLSA provenance v1")
        .field("builder id", s(p, "/runDetails/builder/id"))
        .field("build type", s(p, "/buildDefinition/buildType"));
    if let Some(ext) = p.pointer("/buildDefinition/externalParameters") {
        sec = sec.field("external parameters", crate::sanitize::clip(&ext.to_string(), 400).into_owned());
    }
    for dep in p.pointer("/buildDefinition/resolvedDependencies").and_then(Value::as_array).into_iter().flatten() {
        let uri = dep.get("uri").or_else(|| dep.get("name")).and_then(Value::as_str).unwrap_or("?");
        sec = sec.field("source", format!("{uri} {}", digest_set(dep.get("digest"))).trim_end().to_string());
    }
    if let Some(id) = p.pointer("/runDetails/metadata/invocationId").and_then(Value::as_str) {
        sec = sec.field("invocation id", id);
    }
    sec
}

fn slsa_v02(p: &Value) -> Section {
    let mut sec = Section::new("SLSA provenance v0.2")
        .field("builder id", s(p, "/builder/id"))
        .field("build type", s(p, "/buildType"));
    if let Some(cs) = p.pointer("/invocation/configSource") {
        sec = sec.field(
            "source",
            format!("{} {} {}", s(cs, "/uri"), digest_set(cs.get("digest")), s(cs, "/entryPoint"))
                .trim_end()
                .to_string(),
        );
    }
    for m in p.get("materials").and_then(Value::as_array).into_iter().flatten() {
        sec = sec.field("material", format!("{} {}", s(m, "/uri"), digest_set(m.get("digest"))).trim_end().to_string());
    }
    sec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slsa_v02_and_garbage() {
        let st = br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2",
            "subject":[{"name":"img","digest":{"sha256":"ab"}}],
            "predicate":{"builder":{"id":"https://b"},"buildType":"t","invocation":{"configSource":{"uri":"git+https://r","digest":{"sha1":"cd"},"entryPoint":"build.yml"}},
            "materials":[{"uri":"pkg:x","digest":{"sha256":"ef"}}]}}"#;
        let out = decode(st);
        assert_eq!(out[0].table.as_ref().unwrap().rows[0], ["img", "sha256:ab"]);
        let v02 = &out[1];
        assert_eq!(v02.fields[0].value, "https://b");
        assert_eq!(v02.fields[2].value, "git+https://r sha1:cd build.yml");
        for junk in [&b""[..], b"1", b"{\"payloadType\":1}", b"{\"payloadType\":\"x\",\"payload\":\"!!\"}", &st[..50]] {
            let out = decode(junk);
            assert!(out.iter().any(|s| s.error.is_some()), "{:?}", String::from_utf8_lossy(junk));
        }
        let odd = br#"{"subject":"x","predicateType":"https://slsa.dev/provenance/v1","predicate":[1]}"#;
        assert_eq!(decode(odd)[1].fields[0].value, "absent");
    }
}
