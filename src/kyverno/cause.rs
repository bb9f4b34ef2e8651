//! One rule's message as Kyverno wrote it, taken apart: the image, the attestor path and what
//! kind of failure the text names. Templates from `pkg/engine/internal/imageverifier.go` and
//! `pkg/engine/handlers/validation/validate_image.go`; verifier wordings from notation-go and
//! cosign.

/// What a denial says went wrong, as far as the text itself tells.
/// Serialised as its `slug`, the word `-o json` and the tests use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    NoSignature,
    SignatureMismatch,
    UntrustedCertificate,
    IdentityMismatch,
    Revoked,
    Expired,
    /// AWS Signer signatures need notation's plugin, which Kyverno's built-in verifier lacks.
    VerificationPluginUnsupported,
    TransparencyLog,
    RequiredButNotVerified,
    MissingDigest,
    DigestUpdateFailed,
    AttestationNotFound,
    AttestationSignatureMismatch,
    AttestationConditionFailed,
    ValidateDenyFailed,
    RegistryError,
    /// An ImageValidatingPolicy message: the policy author's own words, not the verifier's.
    PolicyAuthored,
    /// The denial carries no cause at all (ImageValidatingPolicy before 1.17 with an empty
    /// message, or 1.17's generic "CEL expression validation failed at index N").
    NotInDenial,
    Unclassified,
}

impl Cause {
    pub fn slug(&self) -> &'static str {
        match self {
            Cause::NoSignature => "no-signature",
            Cause::SignatureMismatch => "signature-mismatch",
            Cause::UntrustedCertificate => "untrusted-certificate",
            Cause::IdentityMismatch => "identity-mismatch",
            Cause::Revoked => "revoked",
            Cause::Expired => "expired",
            Cause::VerificationPluginUnsupported => "verification-plugin-unsupported",
            Cause::TransparencyLog => "transparency-log",
            Cause::RequiredButNotVerified => "required-but-not-verified",
            Cause::MissingDigest => "missing-digest",
            Cause::DigestUpdateFailed => "digest-update-failed",
            Cause::AttestationNotFound => "attestation-not-found",
            Cause::AttestationSignatureMismatch => "attestation-signature-mismatch",
            Cause::AttestationConditionFailed => "attestation-condition-failed",
            Cause::ValidateDenyFailed => "validate-deny-failed",
            Cause::RegistryError => "registry-error",
            Cause::PolicyAuthored => "policy-authored",
            Cause::NotInDenial => "not-in-denial",
            Cause::Unclassified => "unclassified",
        }
    }

    /// Whether the denial's own text says why; when not, only replaying the verification can.
    pub fn carried_by_denial(&self) -> bool {
        !matches!(self, Cause::PolicyAuthored | Cause::NotInDenial | Cause::Unclassified)
    }
}

/// One rule message taken apart.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct RuleMessage {
    pub image: Option<String>,
    pub attestor_path: Option<String>,
    pub predicate_type: Option<String>,
    /// The verifier's (or Kyverno's) reason, after the image and path.
    pub reason: String,
    pub cause: Option<Cause>,
}

/// Collapses every whitespace run to one space: folding, `|-` blocks and terminal re-wrapping
/// all change only whitespace.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn analyse(message: &str) -> RuleMessage {
    let m = collapse(message);
    let mut out = RuleMessage { reason: m.clone(), ..Default::default() };
    if let Some(rest) = m.strip_prefix("failed to verify image ") {
        let (image, tail) = split_image(rest);
        out.image = Some(image);
        let (path, reason) = split_path(tail);
        out.attestor_path = path;
        out.reason = reason.to_string();
    } else if let Some(rest) = m.strip_prefix("image verification failed for ") {
        let (image, tail) = split_image(rest);
        out.image = Some(image);
        out.reason = tail.to_string();
    } else if let Some(rest) = m.strip_prefix("image attestations verification failed") {
        let after = rest.split_once("error: ").map_or(rest, |(_, e)| e);
        let (path, reason) = split_path(after);
        out.attestor_path = path;
        if let Some((_, r)) = reason.split_once("attestation checks failed for ") {
            let (image, tail) = split_image_until(r, " and predicate ");
            out.image = Some(image);
            if let Some((pt, msg)) = tail.split_once(": ") {
                out.predicate_type = Some(pt.to_string());
                out.reason = msg.to_string();
            }
        } else {
            out.reason = reason.to_string();
        }
        out.cause = Some(Cause::AttestationConditionFailed);
        return out;
    } else if let Some(rest) = m.strip_prefix("unverified image ") {
        out.image = Some(first_word(rest));
        out.cause = Some(Cause::RequiredButNotVerified);
        return out;
    } else if let Some(rest) = m.strip_prefix("missing digest for ") {
        out.image = Some(first_word(rest));
        out.cause = Some(Cause::MissingDigest);
        return out;
    } else if m.starts_with("validation in verifyImages failed") {
        out.cause = Some(Cause::ValidateDenyFailed);
        return out;
    } else if m.starts_with("failed to update digest") {
        out.cause = Some(Cause::DigestUpdateFailed);
        return out;
    } else if m.starts_with(".attestors[") {
        let (path, reason) = split_path(&m);
        out.attestor_path = path;
        out.reason = reason.to_string();
    }
    if out.image.is_none() {
        out.image = find_image_after(&m, "no matching attestations found for image ");
    }
    out.cause = classify_reason(&out.reason);
    out
}

/// The image ends at the first ": " (tags and digests contain ':' but never a space after it).
fn split_image(rest: &str) -> (String, &str) {
    split_image_until(rest, ": ")
}

fn split_image_until<'a>(rest: &'a str, end: &str) -> (String, &'a str) {
    match rest.split_once(end) {
        Some((img, tail)) => (img.trim_end_matches(':').to_string(), tail),
        None => (first_word(rest), ""),
    }
}

fn first_word(s: &str) -> String {
    s.split_whitespace().next().unwrap_or("").trim_end_matches([':', ',', '\'', '"']).to_string()
}

fn find_image_after(m: &str, marker: &str) -> Option<String> {
    m.find(marker).map(|i| first_word(&m[i + marker.len()..]))
}

fn split_path(tail: &str) -> (Option<String>, &str) {
    if tail.starts_with(".attestors[") {
        match tail.split_once(": ") {
            Some((path, reason)) => (Some(path.to_string()), reason),
            None => (Some(tail.trim_end_matches(':').to_string()), ""),
        }
    } else {
        (None, tail)
    }
}

/// Kyverno, notation-go and cosign wordings, most specific first.
pub fn classify_reason(reason: &str) -> Option<Cause> {
    let r = reason.to_lowercase();
    let has = |s: &str| r.contains(s);
    let cause = if has("nil verifier.pluginmanager")
        || has("com.amazonaws.signer")
        || has("verification plugin")
        || has("signingauthority")
    {
        Cause::VerificationPluginUnsupported
    } else if has("no matching attestations found") || has("attestions not found") || has("attestations not found") {
        Cause::AttestationNotFound
    } else if has("no matching attestations") || has("no certificate found on attestation") {
        Cause::AttestationSignatureMismatch
    } else if has("no signature is associated with") || has("signature not found") || has("no signatures found") {
        Cause::NoSignature
    } else if has("subject mismatch") || has("issuer mismatch") {
        Cause::IdentityMismatch
    } else if has("does not contain any trusted certificate") || has("certificate chain") {
        Cause::UntrustedCertificate
    } else if has("is revoked") || has("revocation status is unknown") {
        Cause::Revoked
    } else if has("has expired") {
        Cause::Expired
    } else if has("rekor client not provided") || has("tlog") || has("transparency log") {
        Cause::TransparencyLog
    } else if has("invalid signature")
        || has("no matching signatures")
        || has("signature verification failed")
        || has("failed to verify signature")
    {
        Cause::SignatureMismatch
    } else if has("context canceled")
        || has("context deadline exceeded")
        || has("dial tcp")
        || has("i/o timeout")
        || has("unauthorized")
        || has("manifest unknown")
        || has("get \"https://")
        || has("connection refused")
    {
        Cause::RegistryError
    } else {
        return None;
    };
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_are_the_slugs() {
        let all = [
            Cause::NoSignature,
            Cause::SignatureMismatch,
            Cause::UntrustedCertificate,
            Cause::IdentityMismatch,
            Cause::Revoked,
            Cause::Expired,
            Cause::VerificationPluginUnsupported,
            Cause::TransparencyLog,
            Cause::RequiredButNotVerified,
            Cause::MissingDigest,
            Cause::DigestUpdateFailed,
            Cause::AttestationNotFound,
            Cause::AttestationSignatureMismatch,
            Cause::AttestationConditionFailed,
            Cause::ValidateDenyFailed,
            Cause::RegistryError,
            Cause::PolicyAuthored,
            Cause::NotInDenial,
            Cause::Unclassified,
        ];
        for c in all {
            assert_eq!(serde_json::to_value(&c).unwrap(), c.slug(), "{c:?}");
        }
    }

    #[test]
    fn attestation_template_is_taken_apart() {
        let m = analyse(
            "image attestations verification failed, verifiedCount: 0, requiredCount: 1, error: .attestors[0].entries[0]: attestation checks failed for ghcr.io/acme/app:v1 and predicate https://slsa.dev/provenance/v0.2: builder id mismatch",
        );
        assert_eq!(m.image.as_deref(), Some("ghcr.io/acme/app:v1"));
        assert_eq!(m.attestor_path.as_deref(), Some(".attestors[0].entries[0]"));
        assert_eq!(m.predicate_type.as_deref(), Some("https://slsa.dev/provenance/v0.2"));
        assert_eq!(m.reason, "builder id mismatch");
        assert_eq!(m.cause, Some(Cause::AttestationConditionFailed));
    }

    #[test]
    fn validate_webhook_messages() {
        let m = analyse("missing digest for ghcr.io/kyverno/test-verify-image:signed-keyless");
        assert_eq!(m.image.as_deref(), Some("ghcr.io/kyverno/test-verify-image:signed-keyless"));
        assert_eq!(m.cause, Some(Cause::MissingDigest));
        assert_eq!(analyse("unverified image ghcr.io/a/b:c").cause, Some(Cause::RequiredButNotVerified));
    }

    #[test]
    fn untrusted_chain_and_unknown_reason() {
        let m = analyse(
            "failed to verify image ghcr.io/a/b:c: .attestors[0].entries[0].certificates: failed to verify ghcr.io/a/b@sha256:00: signature verification failed: the signature's certificate chain does not contain any trusted certificate",
        );
        assert_eq!(m.attestor_path.as_deref(), Some(".attestors[0].entries[0].certificates"));
        assert_eq!(m.cause, Some(Cause::UntrustedCertificate));
        assert_eq!(analyse("failed to verify image x/y:z: something new").cause, None);
    }
}
