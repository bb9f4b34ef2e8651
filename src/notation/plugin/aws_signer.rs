//! AWS Signer's verification plugin (`com.amazonaws.signer.notation.plugin`), built in: every
//! signature AWS Signer makes names it, and without it such a signature fails closed. The
//! semantics are those of aws/aws-signer-notation-plugin (`internal/verifier`, 1.0.350 and the
//! alias identities added after it), read
//! there and written here:
//!
//! - the signature must use the signing-authority scheme and carry an authentic signing time;
//!   a `*` trusted identity is refused outright;
//! - trusted identities are signing-profile ARNs, matched case-insensitively against the
//!   signed attribute `com.amazonaws.signer.signingProfileVersion`: a profile ARN matches every
//!   version of the profile, a profile-version ARN only itself; an alias ARN (`/aliases/NAME`)
//!   matches the signed `com.amazonaws.signer.signingProfileAlias`; other identities are ignored;
//! - revocation asks AWS Signer (`GetRevocationStatus`, through [`RevocationService`]) about
//!   the profile version, the signing job and each certificate of the chain, hashed as the
//!   plugin hashes them; any revoked entity fails the check, and so does a call that fails.
//!
//! Unlike the plugin, a failed revocation call says "not checked" and why, and a revoked
//! entity is named (which certificate, by its position and subject). The core checks keep
//! their part as for any plugin (see `super`): the signing-authority trust store, expiry,
//! the authentic signing time, and a certificate the CRLs say is revoked.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha384};

use super::{Capability, PluginMetadata, VerificationPlugin, VerifyRequest, VerifyResponse};
use crate::notation::envelope::Scheme;

pub const NAME: &str = "com.amazonaws.signer.notation.plugin";
/// The plugin release whose semantics this module follows; a signature that asks for a later
/// minimum version fails closed, as it would with that plugin installed.
pub const VERSION: &str = "1.0.350";
/// Signed attribute naming the signing-profile version ARN.
pub const ATTR_PROFILE_VERSION: &str = "com.amazonaws.signer.signingProfileVersion";
/// Signed attribute naming the alias ARN a profile was signed through, when it has one.
pub const ATTR_PROFILE_ALIAS: &str = "com.amazonaws.signer.signingProfileAlias";
/// Signed attribute naming the signing-job ARN.
pub const ATTR_JOB: &str = "com.amazonaws.signer.signingJob";
/// The signing platform of Notation signatures, as GetRevocationStatus is told.
pub const PLATFORM: &str = "Notation-OCI-SHA384-ECDSA";

/// One GetRevocationStatus question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationQuery {
    /// The region of the profile-version ARN: AWS Signer keeps its revocations there.
    pub region: String,
    pub signature_timestamp: DateTime<Utc>,
    pub platform_id: String,
    pub profile_version_arn: String,
    pub job_arn: String,
    /// See [`certificate_hashes`].
    pub certificate_hashes: Vec<String>,
}

/// Where revocation answers come from: AWS Signer in the product, a stand-in in tests.
#[async_trait::async_trait]
pub trait RevocationService: Send + Sync {
    /// The entities AWS Signer reports revoked (ARNs, certificate hashes); `Err` says why it
    /// could not be asked or did not answer.
    async fn revoked_entities(&self, query: &RevocationQuery) -> Result<Vec<String>, String>;
}

/// A service that is never asked, e.g. under `--offline`: revocation is "not checked", for
/// the reason given.
pub struct NotAsked(pub String);

#[async_trait::async_trait]
impl RevocationService for NotAsked {
    async fn revoked_entities(&self, _: &RevocationQuery) -> Result<Vec<String>, String> {
        Err(self.0.clone())
    }
}

/// The built-in plugin, asking `service` about revocations.
pub struct AwsSignerPlugin {
    service: Arc<dyn RevocationService>,
}

impl AwsSignerPlugin {
    pub fn new(service: Arc<dyn RevocationService>) -> Self {
        AwsSignerPlugin { service }
    }
}

#[async_trait::async_trait]
impl VerificationPlugin for AwsSignerPlugin {
    fn metadata(&self) -> PluginMetadata {
        PluginMetadata {
            name: NAME.into(),
            version: VERSION.into(),
            capabilities: vec![Capability::TrustedIdentity, Capability::Revocation],
        }
    }

    async fn verify_signature(&self, request: &VerifyRequest) -> Result<VerifyResponse, String> {
        if request.trusted_identities.iter().any(|t| t == "*") {
            return Err("AWS Signer signatures cannot be trusted for any identity (\"*\"): name the signing \
                        profiles in trustedIdentities (arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME)"
                .into());
        }
        let Some(signed_at) = request.authentic_signing_time else {
            return Err("the signature has no authentic signing time, which AWS Signer always signs".into());
        };
        if request.signing_scheme != Scheme::SigningAuthority {
            return Err(format!(
                "the signing scheme {} is not AWS Signer's ({})",
                request.signing_scheme.name(),
                Scheme::SigningAuthority.name()
            ));
        }
        let mut response = VerifyResponse {
            processed_attributes: vec![ATTR_PROFILE_VERSION.into(), ATTR_JOB.into()],
            ..Default::default()
        };
        // The alias is critical when present; unprocessed, the core would fail closed on it.
        if request.extended_attributes.iter().any(|(k, _)| k == ATTR_PROFILE_ALIAS) {
            response.processed_attributes.push(ATTR_PROFILE_ALIAS.into());
        }
        if request.capabilities.contains(&Capability::TrustedIdentity) {
            let signed = attribute(request, ATTR_PROFILE_VERSION)?;
            let alias = attribute(request, ATTR_PROFILE_ALIAS).ok().filter(|a| !a.is_empty());
            response
                .results
                .insert(Capability::TrustedIdentity, trusted_identity(signed, alias, &request.trusted_identities));
        }
        if request.capabilities.contains(&Capability::Revocation) {
            let result = self.revocation(request, signed_at).await?;
            response.results.insert(Capability::Revocation, result);
        }
        Ok(response)
    }
}

impl AwsSignerPlugin {
    /// `Err` (the plugin fails) when the signature lacks what the question needs; otherwise
    /// the revocation verdict.
    async fn revocation(
        &self,
        request: &VerifyRequest,
        signed_at: DateTime<Utc>,
    ) -> Result<Result<String, String>, String> {
        let profile_version_arn = attribute(request, ATTR_PROFILE_VERSION)?.to_string();
        let job_arn = attribute(request, ATTR_JOB)?.to_string();
        let region =
            SignerArn::parse(&profile_version_arn).map(|a| a.region.to_string()).filter(|r| is_region(r)).ok_or_else(
                || format!("{ATTR_PROFILE_VERSION} {profile_version_arn:?} is not an AWS Signer ARN with a region"),
            )?;
        let certificate_hashes = certificate_hashes(&request.certificate_chain)?;
        let query = RevocationQuery {
            region,
            signature_timestamp: signed_at,
            platform_id: PLATFORM.into(),
            profile_version_arn,
            job_arn,
            certificate_hashes,
        };
        Ok(match self.service.revoked_entities(&query).await {
            Err(why) => Err(format!("not checked: AWS Signer's GetRevocationStatus could not be asked: {why}")),
            Ok(revoked) if revoked.is_empty() => Ok(format!(
                "AWS Signer (GetRevocationStatus in {}) revokes none of the signing profile version, the signing job \
                 and the {} certificates",
                query.region,
                query.certificate_hashes.len()
            )),
            Ok(revoked) => Err(revoked_reason(&revoked, &query, &request.certificate_chain)),
        })
    }
}

/// A signed extended attribute the plugin needs, as text.
fn attribute<'r>(request: &'r VerifyRequest, name: &str) -> Result<&'r str, String> {
    request
        .extended_attributes
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| format!("the signature has no signed attribute {name}, which AWS Signer always signs"))
}

/// An ARN as the plugin reads one (aws-sdk-go-v2 `arn.Parse`): six `:`-separated sections,
/// partition, service and resource not empty.
struct SignerArn<'a> {
    service: &'a str,
    region: &'a str,
    resource: &'a str,
}

impl<'a> SignerArn<'a> {
    fn parse(s: &'a str) -> Option<Self> {
        let sections: Vec<&str> = s.splitn(6, ':').collect();
        let [arn, partition, service, region, _account, resource] = sections.as_slice() else {
            return None;
        };
        (*arn == "arn" && !partition.is_empty() && !service.is_empty() && !resource.is_empty()).then_some(SignerArn {
            service,
            region,
            resource,
        })
    }

    /// What kind of trusted identity this ARN is, if any.
    fn identity(&self) -> Option<IdentityKind> {
        if self.service != "signer" {
            return None;
        }
        let r = self.resource;
        if r.starts_with("/aliases/") {
            Some(IdentityKind::Alias)
        } else if r.starts_with("/aliased-signing-profiles/") {
            Some(IdentityKind::AliasedVersion)
        } else if r.starts_with("/signing-profiles/") {
            // `/signing-profiles/NAME` has 3 `/`-parts, `/signing-profiles/NAME/VERSION` 4.
            match r.split('/').count() {
                3 => Some(IdentityKind::Profile),
                4 => Some(IdentityKind::ProfileVersion),
                _ => Some(IdentityKind::Malformed),
            }
        } else {
            None
        }
    }
}

/// The trusted identities the plugin understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdentityKind {
    /// `/signing-profiles/NAME`: every version of the profile.
    Profile,
    /// `/signing-profiles/NAME/VERSION`: that version only.
    ProfileVersion,
    /// `/aliases/NAME`: whatever was signed through that alias (the signed alias attribute).
    Alias,
    /// `/aliased-signing-profiles/…`: a profile version of an alias-only profile, exactly.
    AliasedVersion,
    /// A signing-profile ARN with too many or too few parts: matches nothing.
    Malformed,
}

fn is_region(r: &str) -> bool {
    !r.is_empty() && r.len() <= 32 && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The plugin's trusted-identity rule for the signed profile version `signed` (and the alias
/// it was signed through, if any): the first identity in policy order that matches. The ARN's
/// structure is read case-sensitively (`arn:`, the service `signer`, the resource prefix) and
/// compared case-insensitively, as aws-sdk-go-v2's parser and the plugin's `EqualFold` do.
pub fn trusted_identity(signed: &str, alias: Option<&str>, identities: &[String]) -> Result<String, String> {
    for identity in identities {
        let Some(kind) = SignerArn::parse(identity).and_then(|a| a.identity()) else {
            continue;
        };
        let matched = match kind {
            IdentityKind::Profile => signed.rfind('/').is_some_and(|at| signed[..at].eq_ignore_ascii_case(identity)),
            IdentityKind::ProfileVersion | IdentityKind::AliasedVersion => signed.eq_ignore_ascii_case(identity),
            IdentityKind::Alias => alias.is_some_and(|a| a.eq_ignore_ascii_case(identity)),
            IdentityKind::Malformed => false,
        };
        if matched {
            let through = match (kind, alias) {
                (IdentityKind::Alias, Some(a)) => format!(" through the alias {a}"),
                _ => String::new(),
            };
            return Ok(format!(
                "signed by AWS Signer profile version {signed}{through}, which the trusted identity {identity} covers"
            ));
        }
    }
    let profiles = identities.iter().filter(|i| SignerArn::parse(i).and_then(|a| a.identity()).is_some()).count();
    Err(if profiles == 0 {
        format!(
            "signed by AWS Signer profile version {signed}, but the trust policy names no signing-profile ARN \
             (arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME) among its trusted identities"
        )
    } else {
        format!(
            "signed by AWS Signer profile version {signed}, which none of the {profiles} trusted signing profiles covers"
        )
    })
}

/// The plugin's certificate hashes: for certificate i (leaf first), lowercase hex SHA-384 of
/// its DER TBSCertificate followed by the same for certificate i+1; the last pairs with itself.
pub fn certificate_hashes(chain: &[Vec<u8>]) -> Result<Vec<String>, String> {
    let single: Vec<String> = chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            let (_, cert) = x509_parser::parse_x509_certificate(der)
                .map_err(|e| format!("certificate {} of the chain does not parse: {e}", i + 1))?;
            Ok(hex::encode(Sha384::digest(cert.tbs_certificate.as_ref())))
        })
        .collect::<Result<_, String>>()?;
    Ok((0..single.len()).map(|i| format!("{}{}", single[i], single[(i + 1).min(single.len() - 1)])).collect())
}

/// Names each revoked entity the answer lists.
fn revoked_reason(revoked: &[String], query: &RevocationQuery, chain: &[Vec<u8>]) -> String {
    let subject = |i: usize| {
        x509_parser::parse_x509_certificate(&chain[i])
            .map(|(_, c)| c.subject().to_string())
            .unwrap_or_else(|_| "unreadable".into())
    };
    let named: Vec<String> = revoked
        .iter()
        .map(|entity| {
            let e = crate::sanitize::clip(entity, 300);
            if entity.eq_ignore_ascii_case(&query.profile_version_arn) {
                format!("the signing profile version {e}")
            } else if entity.eq_ignore_ascii_case(&query.job_arn) {
                format!("this signature (signing job {e})")
            } else if let Some(i) = query.certificate_hashes.iter().position(|h| {
                h.eq_ignore_ascii_case(entity) || h.get(..96).is_some_and(|one| one.eq_ignore_ascii_case(entity))
            }) {
                format!("certificate {} of {} ({})", i + 1, chain.len(), subject(i))
            } else if entity.starts_with("arn") {
                format!("the resource {e}")
            } else {
                format!("a certificate (hash {e})")
            }
        })
        .collect();
    format!(
        "revoked by AWS Signer (GetRevocationStatus in {}, for signatures made {}): {}",
        query.region,
        query.signature_timestamp.to_rfc3339_opts(SecondsFormat::Secs, true),
        named.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION_ARN: &str =
        "arn:aws:signer:us-west-2:000000000000:/signing-profiles/NotaryPluginIntegProfile/OF8IVUsPJq";

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn identities_match_as_the_plugin_matches_them() {
        let profile = "arn:aws:signer:us-west-2:000000000000:/signing-profiles/NotaryPluginIntegProfile";
        let folded_profile = profile.replace("NotaryPluginIntegProfile", "NOTARYPLUGININTEGPROFILE");
        for ok in [profile, VERSION_ARN, &folded_profile, &VERSION_ARN.to_lowercase()] {
            let r = trusted_identity(VERSION_ARN, None, &ids(&["x509.subject: CN=x", ok]));
            assert!(r.as_ref().is_ok_and(|why| why.contains(ok)), "{ok}: {r:?}");
        }
        for no in [
            "arn:aws:signer:us-west-2:000000000000:/signing-profiles/NotaryPluginInteg",
            "arn:aws:signer:us-west-2:000000000000:/signing-profiles/NotaryPluginIntegProfile/OtherVersn",
            "arn:aws:signer:us-west-2:111111111111:/signing-profiles/NotaryPluginIntegProfile",
            "arn:aws:signer:us-east-1:000000000000:/signing-profiles/NotaryPluginIntegProfile",
            // A version ARN with a fifth part, a non-signer service, a job ARN: never identities.
            &format!("{VERSION_ARN}/x"),
            "arn:aws:notsigner:us-west-2:000000000000:/signing-profiles/NotaryPluginIntegProfile",
            "arn:aws:signer:us-west-2:000000000000:/signing-jobs/NotaryPluginIntegProfile",
            "arn:aws:signer:us-west-2:000000000000",
            // The ARN's structure is case-sensitive, as aws-sdk-go-v2 parses it: not an ARN.
            &profile.to_uppercase(),
            "arn:aws:SIGNER:us-west-2:000000000000:/signing-profiles/NotaryPluginIntegProfile",
            // An alias identity matches only a signed alias, never the profile version.
            "arn:aws:signer:us-west-2:000000000000:/aliases/NotaryPluginIntegProfile",
        ] {
            assert!(trusted_identity(VERSION_ARN, None, &ids(&[no])).is_err(), "{no} must not match");
        }
        // A signed value without a version part cannot stand in for the profile.
        let bare = "arn:aws:signer:us-west-2:000000000000:/signing-profiles/NotaryPluginIntegProfile";
        assert!(trusted_identity(bare, None, &ids(&[bare])).is_err());
        let e = trusted_identity(VERSION_ARN, None, &ids(&["x509.subject: CN=x"])).unwrap_err();
        assert!(e.contains("names no signing-profile ARN"), "{e}");
    }

    #[test]
    fn alias_identities_match_the_signed_alias_only() {
        let alias = "arn:aws:signer:us-west-2:000000000000:/aliases/prod";
        let aliased = "arn:aws:signer:us-west-2:000000000000:/aliased-signing-profiles/prod/abc123";
        let r = trusted_identity(VERSION_ARN, Some(alias), &ids(&[&alias.replace("prod", "PROD")]));
        assert!(r.as_ref().is_ok_and(|why| why.contains("through the alias")), "{r:?}");
        assert!(
            trusted_identity(VERSION_ARN, Some(alias), &ids(&["arn:aws:signer:us-west-2:000000000000:/aliases/other"]))
                .is_err()
        );
        assert!(trusted_identity(VERSION_ARN, None, &ids(&[alias])).is_err(), "no signed alias, no alias match");
        // An alias-only profile signs its aliased version ARN, matched exactly.
        assert!(trusted_identity(aliased, None, &ids(&[aliased])).is_ok());
        assert!(
            trusted_identity(
                aliased,
                None,
                &ids(&["arn:aws:signer:us-west-2:000000000000:/aliased-signing-profiles/prod"])
            )
            .is_err()
        );
    }

    #[test]
    fn certificate_hashes_match_the_plugins_vectors() {
        let vectors = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/aws-signer");
        let der = |name: &str| {
            let pem = std::fs::read(format!("{vectors}/{name}")).unwrap();
            x509_parser::pem::parse_x509_pem(&pem).unwrap().1.contents
        };
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(format!("{vectors}/expected.json")).unwrap()).unwrap();
        let want: Vec<String> =
            serde_json::from_value(expected["getRevocationStatusInput"]["CertificateHashes"].clone()).unwrap();
        let got = certificate_hashes(&[der("testCertificate1.pem"), der("testCertificate2.pem")]).unwrap();
        assert_eq!(got, want);
        assert!(certificate_hashes(&[b"not a certificate".to_vec()]).is_err());
    }
}
