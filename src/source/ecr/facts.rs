//! What ECR's own API says about one image, for the details panel: DescribeImages' record
//! (pushed at, size, status, media types, subject, scan status) and the scan's findings.

use super::images::{EcrImage, EcrScan};
use crate::source::{KnownRecord, RegistryFacts};

/// DescribeImages' record of one image, in ECR's field names, and a line for a tree row.
pub fn record(i: &EcrImage) -> KnownRecord {
    let mut json = serde_json::Map::new();
    let mut put = |k: &str, v: Option<serde_json::Value>| {
        if let Some(v) = v {
            json.insert(k.to_string(), v);
        }
    };
    put("imagePushedAt", i.pushed_at.clone().map(Into::into));
    put("imageSizeInBytes", i.size.map(Into::into));
    put("imageStatus", i.image_status.clone().map(Into::into));
    put("imageManifestMediaType", i.manifest_media_type.clone().map(Into::into));
    put("artifactMediaType", i.artifact_media_type.clone().map(Into::into));
    put("subjectManifestDigest", i.subject_manifest_digest.clone().map(Into::into));
    put("imageScanStatus", i.scan_status.clone().map(Into::into));
    if !i.scan_findings.is_empty() {
        let counts: serde_json::Map<String, serde_json::Value> =
            i.scan_findings.iter().map(|(sev, n)| (sev.clone(), (*n).into())).collect();
        put("findingSeverityCounts", Some(counts.into()));
    }
    let mut parts = Vec::new();
    if let Some(at) = &i.pushed_at {
        parts.push(format!("pushed {at}"));
    }
    match (&i.scan_status, i.scan_findings.is_empty()) {
        (Some(s), true) => parts.push(format!("scan {}", s.split(':').next().unwrap_or(s))),
        (s, false) => {
            let counts: Vec<String> = i.scan_findings.iter().map(|(sev, n)| format!("{sev} {n}")).collect();
            let status = s.as_deref().map(|s| s.split(':').next().unwrap_or(s)).unwrap_or("findings");
            parts.push(format!("scan {status}: {}", counts.join(", ")));
        }
        (None, true) => {}
    }
    KnownRecord { json: json.into(), summary: parts.join(" · ") }
}

/// Findings listed in the panel; the counts per severity cover all of them.
const LISTED_FINDINGS: usize = 20;

/// `image` is DescribeImages' record of the digest (`None`: not listed), `scan` the findings
/// (`Ok(None)`: never scanned; `Err`: they could not be read, said in words).
pub fn facts(image: Option<&EcrImage>, scan: Result<Option<EcrScan>, String>) -> RegistryFacts {
    let mut fields = Vec::new();
    let mut field = |name: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            fields.push((name.to_string(), v));
        }
    };
    match image {
        None => field(
            "image",
            Some("not listed by DescribeImages (deleted since, or listed under another repository)".into()),
        ),
        Some(i) => {
            field("pushed at", i.pushed_at.clone());
            field("size", i.size.map(|s| format!("{s} bytes (ECR's imageSizeInBytes)")));
            field("status", i.image_status.clone());
            field("manifest", i.manifest_media_type.clone());
            field("artifact", i.artifact_media_type.clone());
            field("subject", i.subject_manifest_digest.clone());
            field("scan status", i.scan_status.clone());
        }
    }
    let mut table = None;
    match scan {
        Err(e) => field("scan", Some(format!("findings could not be read: {e}"))),
        Ok(None) => field("scan", Some("never scanned (DescribeImageScanFindings: ScanNotFound)".into())),
        Ok(Some(s)) => {
            field("scan", s.status.clone());
            field("completed", s.completed_at.clone());
            let counts: Vec<String> = s.severity_counts.iter().map(|(sev, n)| format!("{sev} {n}")).collect();
            field("findings", Some(if counts.is_empty() { "none".into() } else { counts.join(", ") }));
            if !s.findings.is_empty() {
                let rows = s
                    .findings
                    .iter()
                    .take(LISTED_FINDINGS)
                    .map(|f| {
                        vec![
                            f.severity.clone().unwrap_or_default(),
                            f.name.clone().unwrap_or_default(),
                            f.uri.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                table = Some((vec!["severity".into(), "finding".into(), "link".into()], rows));
                if s.findings.len() > LISTED_FINDINGS || s.truncated {
                    field("listed", Some(format!("the first {LISTED_FINDINGS} findings")));
                }
            }
        }
    }
    RegistryFacts { title: "ECR".into(), fields, table }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ecr::images::EcrFinding;

    fn image() -> EcrImage {
        EcrImage {
            digest: format!("sha256:{}", "a".repeat(64)),
            tags: vec!["v1".into()],
            pushed_at: Some("2026-01-02T03:04:05+00:00".into()),
            size: Some(1234),
            manifest_media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
            artifact_media_type: None,
            subject_manifest_digest: None,
            scan_status: Some("COMPLETE".into()),
            scan_findings: vec![("HIGH".into(), 1)],
            image_status: Some("ACTIVE".into()),
        }
    }

    fn value<'a>(f: &'a RegistryFacts, name: &str) -> Option<&'a str> {
        f.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn record_scan_and_findings() {
        let finding = |i: usize| EcrFinding {
            name: Some(format!("CVE-2026-{i}")),
            severity: Some("HIGH".into()),
            uri: Some("https://cve.example".into()),
            description: None,
        };
        let scan = EcrScan {
            status: Some("COMPLETE".into()),
            completed_at: None,
            severity_counts: vec![("CRITICAL".into(), 2), ("HIGH".into(), 30)],
            findings: (0..32).map(finding).collect(),
            truncated: false,
        };
        let f = facts(Some(&image()), Ok(Some(scan)));
        assert_eq!(value(&f, "pushed at"), Some("2026-01-02T03:04:05+00:00"));
        assert_eq!(value(&f, "findings"), Some("CRITICAL 2, HIGH 30"));
        assert_eq!(value(&f, "artifact"), None, "absent fields are not shown empty");
        let (_, rows) = f.table.as_ref().unwrap();
        assert_eq!(rows.len(), LISTED_FINDINGS);
        assert_eq!(rows[0], ["HIGH", "CVE-2026-0", "https://cve.example"]);
        assert_eq!(value(&f, "listed"), Some("the first 20 findings"));
    }

    #[test]
    fn unlisted_unscanned_and_unreadable() {
        let f = facts(None, Ok(None));
        assert!(value(&f, "image").unwrap().contains("not listed"));
        assert!(value(&f, "scan").unwrap().contains("never scanned"));
        let f = facts(Some(&image()), Err("AccessDenied: ecr:DescribeImageScanFindings".into()));
        assert!(value(&f, "scan").unwrap().contains("could not be read: AccessDenied"));
        assert!(f.table.is_none());
    }
}
