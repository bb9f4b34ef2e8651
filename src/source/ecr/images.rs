//! What DescribeRepositories and DescribeImages say about repositories and images, as plain
//! serialisable records (times as RFC 3339 text).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EcrRepository {
    pub name: String,
    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`.
    pub uri: Option<String>,
    pub registry_id: Option<String>,
    pub tag_mutability: Option<String>,
    pub scan_on_push: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EcrImage {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed_at: Option<String>,
    pub size: Option<i64>,
    pub manifest_media_type: Option<String>,
    /// For artifacts (signatures, SBOMs): their artifactType or config media type.
    pub artifact_media_type: Option<String>,
    /// Set on referrers: the digest of the manifest they refer to.
    pub subject_manifest_digest: Option<String>,
    /// `COMPLETE`, `IN_PROGRESS`, `FAILED`, … with ECR's description.
    pub scan_status: Option<String>,
    /// Findings per severity, when a scan completed.
    pub scan_findings: Vec<(String, i32)>,
    pub image_status: Option<String>,
}

fn time(t: Option<&aws_sdk_ecr::primitives::DateTime>) -> Option<String> {
    let t = t?;
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()).map(|d| d.to_rfc3339())
}

impl EcrRepository {
    pub fn from_sdk(r: &aws_sdk_ecr::types::Repository) -> Option<Self> {
        Some(EcrRepository {
            name: r.repository_name()?.to_string(),
            uri: r.repository_uri().map(str::to_string),
            registry_id: r.registry_id().map(str::to_string),
            tag_mutability: r.image_tag_mutability().map(|m| m.as_str().to_string()),
            scan_on_push: r.image_scanning_configuration().map(|c| c.scan_on_push()),
        })
    }
}

impl EcrImage {
    pub fn from_sdk(d: &aws_sdk_ecr::types::ImageDetail) -> Option<Self> {
        let scan_status = d.image_scan_status().and_then(|s| {
            let status = s.status().map(|s| s.as_str().to_string());
            match (status, s.description()) {
                (Some(st), Some(desc)) if !desc.is_empty() => Some(format!("{st}: {desc}")),
                (Some(st), _) => Some(st),
                (None, desc) => desc.map(str::to_string),
            }
        });
        let mut scan_findings: Vec<(String, i32)> = d
            .image_scan_findings_summary()
            .and_then(|s| s.finding_severity_counts())
            .map(|m| m.iter().map(|(k, v)| (k.as_str().to_string(), *v)).collect())
            .unwrap_or_default();
        scan_findings.sort();
        Some(EcrImage {
            digest: d.image_digest()?.to_string(),
            tags: d.image_tags().to_vec(),
            pushed_at: time(d.image_pushed_at()),
            size: d.image_size_in_bytes(),
            manifest_media_type: d.image_manifest_media_type().map(str::to_string),
            artifact_media_type: d.artifact_media_type().map(str::to_string),
            subject_manifest_digest: d.subject_manifest_digest().map(str::to_string),
            scan_status,
            scan_findings,
            image_status: d.image_status().map(|s| s.as_str().to_string()),
        })
    }
}
