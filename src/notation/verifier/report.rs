//! What verification found, per check, per signature and per artifact — serialisable for
//! `sigscope verify -o json` and read by the TUI's verification panel.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::notation::envelope::{Algorithm, Format, Scheme};
use crate::notation::policy::{Action, Level, MatchKind};

/// The rows of the verification table, in the order they are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CheckKind {
    Integrity,
    /// Only present when the envelope names a verification plugin.
    VerificationPlugin,
    Authenticity,
    TrustedIdentity,
    Expiry,
    AuthenticTimestamp,
    Revocation,
}

impl CheckKind {
    /// The rows every signature's report has, in evaluation order (the plugin row only
    /// appears when an envelope names a plugin).
    pub const ROWS: [CheckKind; 6] = [
        CheckKind::Integrity,
        CheckKind::Authenticity,
        CheckKind::TrustedIdentity,
        CheckKind::Expiry,
        CheckKind::AuthenticTimestamp,
        CheckKind::Revocation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CheckKind::Integrity => "integrity",
            CheckKind::VerificationPlugin => "verification plugin",
            CheckKind::Authenticity => "authenticity",
            CheckKind::TrustedIdentity => "trusted identity",
            CheckKind::Expiry => "expiry",
            CheckKind::AuthenticTimestamp => "authenticTimestamp",
            CheckKind::Revocation => "revocation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    /// Failed, and the policy enforces this check: the signature fails.
    FailEnforced,
    /// Failed, and the policy only logs this check: a warning.
    FailLogged,
    /// The policy skips this check.
    Skipped,
    /// Not evaluated because an enforced check failed before it. Serialised as `skipped`
    /// (the command-line contract has four outcomes); the reason says why.
    #[serde(rename = "skipped")]
    NotRun,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::FailEnforced => "fail (enforced)",
            Outcome::FailLogged => "fail (logged)",
            Outcome::Skipped => "skipped",
            Outcome::NotRun => "not run",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub check: CheckKind,
    pub outcome: Outcome,
    #[serde(serialize_with = "action_name")]
    pub action: Action,
    pub reason: String,
}

fn action_name<S: serde::Serializer>(a: &Action, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match a {
        Action::Enforce => "enforce",
        Action::Log => "log",
        Action::Skip => "skip",
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum SignatureVerdict {
    Verified,
    VerifiedWithWarnings,
    Failed { check: CheckKind, reason: String },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureReport {
    /// Digest of the signature manifest (empty when verifying a bare envelope).
    pub digest: String,
    pub envelope_media_type: String,
    pub format: Option<Format>,
    pub signing_scheme: Option<Scheme>,
    pub algorithm: Option<Algorithm>,
    /// Subject of the signing (leaf) certificate.
    pub signer: Option<String>,
    pub signing_time: Option<DateTime<Utc>>,
    pub authentic_signing_time: Option<DateTime<Utc>>,
    pub expiry: Option<DateTime<Utc>>,
    /// genTime of a verified timestamp countersignature.
    pub timestamp: Option<DateTime<Utc>>,
    pub checks: Vec<CheckResult>,
    pub verdict: SignatureVerdict,
}

impl SignatureReport {
    pub fn passed(&self) -> bool {
        !matches!(self.verdict, SignatureVerdict::Failed { .. })
    }

    pub fn check(&self, kind: CheckKind) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.check == kind)
    }

    /// What the envelope is, as far as it could be read: format, algorithm, signing scheme.
    pub fn envelope_summary(&self) -> Vec<&'static str> {
        let format = self.format.map(|f| match f {
            Format::Jws => "JWS",
            Format::Cose => "COSE",
        });
        [format, self.algorithm.map(Algorithm::name), self.signing_scheme.map(Scheme::name)]
            .into_iter()
            .flatten()
            .collect()
    }

    pub fn warnings(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.outcome == Outcome::FailLogged)
    }
}

/// Which trust-policy statement applied, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedStatement {
    pub name: String,
    /// `exact` (a registry scope equals the repository) or `wildcard` (the `*` statement).
    #[serde(serialize_with = "match_name")]
    pub matched: MatchKind,
    #[serde(serialize_with = "level_name")]
    pub level: Level,
}

fn match_name<S: serde::Serializer>(m: &MatchKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match m {
        MatchKind::Exact => "exact",
        MatchKind::Wildcard => "wildcard",
    })
}

fn level_name<S: serde::Serializer>(l: &Level, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(l.name())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum Verdict {
    /// A signature passed every check.
    Verified,
    /// A signature passed every enforced check; some logged checks failed.
    VerifiedWithWarnings { warnings: Vec<String> },
    /// No signature passed; `check` is the enforced check that failed (of the first signature).
    Failed { check: Option<CheckKind>, reason: String },
    /// The applicable statement is at level `skip`.
    Skipped,
    /// A policy applies but the artifact has no Notation signature.
    NoSignature,
    /// No policy statement applies (or no policy is configured).
    NotEvaluated { reason: String },
}

impl Verdict {
    /// One word for a glyph and a status line.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::VerifiedWithWarnings { .. } => "warnings",
            Verdict::Failed { .. } => "failed",
            Verdict::Skipped => "skipped",
            Verdict::NoSignature => "unsigned",
            Verdict::NotEvaluated { .. } => "no policy",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactReport {
    /// `scope@digest`, the reference the policy was matched with.
    pub reference: String,
    /// The parts of `reference`, kept apart so nobody splits the string to find them.
    #[serde(skip)]
    pub scope: String,
    #[serde(skip)]
    pub digest: String,
    pub statement: Option<AppliedStatement>,
    pub verdict: Verdict,
    pub signatures: Vec<SignatureReport>,
}

impl ArtifactReport {
    pub fn new(
        scope: &str,
        digest: &str,
        statement: Option<AppliedStatement>,
        verdict: Verdict,
        signatures: Vec<SignatureReport>,
    ) -> ArtifactReport {
        ArtifactReport {
            reference: format!("{scope}@{digest}"),
            scope: scope.to_string(),
            digest: digest.to_string(),
            statement,
            verdict,
            signatures,
        }
    }

    /// The first line, in notation's words where it has them.
    pub fn headline(&self) -> String {
        let r = &self.reference;
        match &self.verdict {
            Verdict::Verified => format!("Successfully verified signature for {r}"),
            Verdict::VerifiedWithWarnings { .. } => {
                format!("Successfully verified signature for {r} (with warnings from logged checks)")
            }
            Verdict::Failed { check, reason } => {
                let what = check.map(|c| format!("{} failed: ", c.name())).unwrap_or_default();
                format!("Signature verification failed for {r}: {what}{reason}")
            }
            Verdict::Skipped => format!("Trust policy is configured to skip signature verification for {r}"),
            Verdict::NoSignature => format!("No signature is associated with {r}; make sure the artifact was signed"),
            Verdict::NotEvaluated { reason } => format!("Not verified: {reason}"),
        }
    }

    /// A plain-text report: headline, the statement, and each signature's table.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let clean = |s: &str| crate::sanitize::sanitize(s).into_owned();
        let mut out = String::new();
        let _ = writeln!(out, "{}", clean(&self.headline()));
        if let Some(s) = &self.statement {
            let why = match s.matched {
                MatchKind::Exact => "exact registry scope",
                MatchKind::Wildcard => "the \"*\" statement",
            };
            let _ = writeln!(out, "trust policy statement {:?} ({why}), level {}", clean(&s.name), s.level.name());
        }
        let verified = matches!(self.verdict, Verdict::Verified | Verdict::VerifiedWithWarnings { .. });
        let failed: Vec<&SignatureReport> = self.signatures.iter().filter(|s| !s.passed()).collect();
        if verified && !failed.is_empty() {
            // One good signature verifies the artifact; the others must not vanish behind it.
            let names: Vec<String> = failed.iter().map(|s| clean(&s.digest)).collect();
            let _ = writeln!(
                out,
                "{} of {} signatures verified; {} did not (see below): {}",
                self.signatures.len() - failed.len(),
                self.signatures.len(),
                failed.len(),
                names.join(", ")
            );
        }
        if let Verdict::VerifiedWithWarnings { warnings } = &self.verdict {
            for w in warnings {
                let _ = writeln!(out, "Warning: {}", clean(w));
            }
        }
        for sig in &self.signatures {
            let verdict = match &sig.verdict {
                SignatureVerdict::Verified => "verified".to_string(),
                SignatureVerdict::VerifiedWithWarnings => "verified with warnings".to_string(),
                SignatureVerdict::Failed { check, .. } => format!("failed ({})", check.name()),
            };
            let what = sig.envelope_summary();
            let _ = writeln!(out, "\nsignature {} [{}]: {verdict}", clean(&sig.digest), what.join(", "));
            if let Some(s) = &sig.signer {
                let _ = writeln!(out, "  signed by {}", clean(s));
            }
            for c in &sig.checks {
                let _ = writeln!(out, "  {:<19} {:<16} {}", c.check.name(), c.outcome.word(), clean(&c.reason));
            }
        }
        out
    }
}
