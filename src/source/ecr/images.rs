//! What DescribeRepositories, DescribeImages and DescribeImageScanFindings say, as plain
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
        let scan_status = scan_status(d.image_scan_status());
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

/// DescribeImageScanFindings, summarised for a details panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EcrScan {
    /// `COMPLETE`, `IN_PROGRESS`, `FAILED`, … with ECR's description.
    pub status: Option<String>,
    pub completed_at: Option<String>,
    /// Findings per severity, as ECR counts them (all findings, not only those listed).
    pub severity_counts: Vec<(String, i32)>,
    /// The first [`MAX_FINDINGS`] findings, in ECR's order.
    pub findings: Vec<EcrFinding>,
    /// More findings exist than were read.
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EcrFinding {
    pub name: Option<String>,
    pub severity: Option<String>,
    pub uri: Option<String>,
    pub description: Option<String>,
}

/// Findings read for one image: a details panel shows a summary, not a scanner's whole report.
pub const MAX_FINDINGS: usize = 500;

pub(crate) fn scan_status(s: Option<&aws_sdk_ecr::types::ImageScanStatus>) -> Option<String> {
    let s = s?;
    let status = s.status().map(|s| s.as_str().to_string());
    match (status, s.description()) {
        (Some(st), Some(desc)) if !desc.is_empty() => Some(format!("{st}: {desc}")),
        (Some(st), _) => Some(st),
        (None, desc) => desc.map(str::to_string),
    }
}

impl EcrScan {
    pub(crate) fn start(
        out: &aws_sdk_ecr::operation::describe_image_scan_findings::DescribeImageScanFindingsOutput,
    ) -> Self {
        let findings = out.image_scan_findings();
        let mut severity_counts: Vec<(String, i32)> = findings
            .and_then(|f| f.finding_severity_counts())
            .map(|m| m.iter().map(|(k, v)| (k.as_str().to_string(), *v)).collect())
            .unwrap_or_default();
        severity_counts.sort();
        EcrScan {
            status: scan_status(out.image_scan_status()),
            completed_at: time(findings.and_then(|f| f.image_scan_completed_at())),
            severity_counts,
            findings: Vec::new(),
            truncated: false,
        }
    }

    /// Adds a page's findings up to [`MAX_FINDINGS`]; false once full.
    pub(crate) fn add(
        &mut self,
        out: &aws_sdk_ecr::operation::describe_image_scan_findings::DescribeImageScanFindingsOutput,
    ) -> bool {
        for f in out.image_scan_findings().map(|f| f.findings()).unwrap_or_default() {
            if self.findings.len() >= MAX_FINDINGS {
                self.truncated = true;
                return false;
            }
            self.findings.push(EcrFinding {
                name: f.name().map(str::to_string),
                severity: f.severity().map(|s| s.as_str().to_string()),
                uri: f.uri().map(str::to_string),
                description: f.description().map(str::to_string),
            });
        }
        true
    }
}
