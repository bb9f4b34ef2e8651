//! SBOMs: SPDX JSON and CycloneDX JSON, summarised with a package table.

use serde_json::Value;

use super::{Section, Table};

/// Rows shown per table; a note says how many more there are, so huge SBOMs stay cheap to draw.
pub const MAX_ROWS: usize = 1000;
pub const SPDX_TITLE: &str = "SPDX SBOM";
pub const CYCLONEDX_TITLE: &str = "CycloneDX SBOM";

fn headers() -> Vec<String> {
    ["name", "version", "purl", "licence"].iter().map(|h| h.to_string()).collect()
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn parse(bytes: &[u8], title: &str) -> Result<Value, Section> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(Section::failed(title, "not a JSON object")),
        Err(e) => Err(Section::failed(title, format!("not JSON: {e}"))),
    }
}

pub fn spdx(bytes: &[u8]) -> Vec<Section> {
    parse(bytes, SPDX_TITLE).map_or_else(|e| vec![e], |v| spdx_value(&v))
}

pub fn cyclonedx(bytes: &[u8]) -> Vec<Section> {
    parse(bytes, CYCLONEDX_TITLE).map_or_else(|e| vec![e], |v| cyclonedx_value(&v))
}

/// Fills the table and, past [`MAX_ROWS`], a note with the remainder.
fn with_table(mut s: Section, items: &[Value], row: impl Fn(&Value) -> Vec<String>) -> Section {
    s = s.field("packages", items.len().to_string());
    if items.len() > MAX_ROWS {
        s = s.field("note", format!("… {} more not shown", items.len() - MAX_ROWS));
    }
    s.table = Some(Table { headers: headers(), rows: items.iter().take(MAX_ROWS).map(row).collect() });
    s
}

pub fn spdx_value(v: &Value) -> Vec<Section> {
    if v.get("spdxVersion").is_none() {
        return vec![Section::failed(SPDX_TITLE, "no spdxVersion: not an SPDX JSON document")];
    }
    let creators = match v.pointer("/creationInfo/creators") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "),
        _ => String::new(),
    };
    let s = Section::new(SPDX_TITLE)
        .field("spdxVersion", text(v, "spdxVersion"))
        .field("document name", text(v, "name"))
        .field("namespace", text(v, "documentNamespace"))
        .field("created", v.pointer("/creationInfo/created").and_then(Value::as_str).unwrap_or_default())
        .field("creators", creators);
    let packages = v.get("packages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    vec![with_table(s, packages, |p| {
        let purl = p
            .get("externalRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|r| r.get("referenceType").and_then(Value::as_str) == Some("purl"))
            .map(|r| text(r, "referenceLocator"))
            .unwrap_or_default();
        // Concluded is the analyst's answer; fall back to what the package declares.
        let mut licence = text(p, "licenseConcluded");
        if licence.is_empty() || licence == "NOASSERTION" {
            licence = text(p, "licenseDeclared");
        }
        vec![text(p, "name"), text(p, "versionInfo"), purl, licence]
    })]
}

fn cdx_licence(c: &Value) -> String {
    let list = c.get("licenses").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    list.iter()
        .filter_map(|l| {
            l.get("expression")
                .and_then(Value::as_str)
                .or_else(|| l.pointer("/license/id").and_then(Value::as_str))
                .or_else(|| l.pointer("/license/name").and_then(Value::as_str))
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn name_version(c: &Value) -> String {
    let (n, v) = (text(c, "name"), text(c, "version"));
    if v.is_empty() { n } else { format!("{n} {v}") }
}

pub fn cyclonedx_value(v: &Value) -> Vec<Section> {
    if v.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") && v.get("specVersion").is_none() {
        return vec![Section::failed(CYCLONEDX_TITLE, "no bomFormat CycloneDX: not a CycloneDX JSON document")];
    }
    // Tools are an array before spec 1.5 and an object of components/services since.
    let tools: Vec<String> = match v.pointer("/metadata/tools") {
        Some(Value::Array(a)) => a.iter().map(name_version).collect(),
        Some(Value::Object(o)) => o.values().filter_map(Value::as_array).flatten().map(name_version).collect(),
        _ => Vec::new(),
    };
    let mut s = Section::new(CYCLONEDX_TITLE)
        .field("specVersion", text(v, "specVersion"))
        .field("serial number", text(v, "serialNumber"))
        .field("version", text(v, "version"));
    if let Some(ts) = v.pointer("/metadata/timestamp").and_then(Value::as_str) {
        s = s.field("timestamp", ts);
    }
    if let Some(c) = v.pointer("/metadata/component") {
        s = s.field("component", format!("{} ({})", name_version(c), text(c, "type")));
    }
    s = s.field("tools", tools.join(", "));
    let components = v.get("components").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    vec![with_table(s, components, |c| vec![text(c, "name"), text(c, "version"), text(c, "purl"), cdx_licence(c)])]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_rows_and_reports_garbage() {
        let pkgs: Vec<Value> = (0..MAX_ROWS + 5).map(|i| serde_json::json!({"name": format!("p{i}")})).collect();
        let doc = serde_json::json!({"spdxVersion": "SPDX-2.3", "packages": pkgs});
        let s = spdx(&serde_json::to_vec(&doc).unwrap());
        assert_eq!(s[0].table.as_ref().unwrap().rows.len(), MAX_ROWS);
        assert!(s[0].fields.iter().any(|f| f.value == "… 5 more not shown"));
        for junk in [&b""[..], b"[]", b"{}", b"{\"spdxVersion\":1,\"packages\":{}}", b"{\"bomFormat\""] {
            let a = spdx(junk);
            let b = cyclonedx(junk);
            assert!(a[0].error.is_some() || a[0].table.as_ref().unwrap().rows.is_empty());
            assert!(b[0].error.is_some());
        }
        let old_tools = br#"{"bomFormat":"CycloneDX","specVersion":"1.4","metadata":{"tools":[{"vendor":"x","name":"syft","version":"1.0"}]},
            "components":[{"name":"a","licenses":[{"license":{"name":"Custom"}}]}]}"#;
        let s = cyclonedx(old_tools);
        assert!(s[0].fields.iter().any(|f| f.name == "tools" && f.value == "syft 1.0"));
        assert_eq!(s[0].table.as_ref().unwrap().rows[0][3], "Custom");
    }
}
