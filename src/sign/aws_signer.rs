//! Signing through AWS Signer: the Notation payload goes to SignPayload of a signing profile
//! (platform `Notation-OCI-SHA384-ECDSA`) and the JWS envelope the service returns is the
//! signature, as the AWS Signer Notation plugin uses it. The service holds the key and writes
//! every signed attribute itself, so what comes back is read as a verifier would before anything
//! is stored: exactly our payload (the pipeline's `check_envelope`), and the two critical
//! attributes a verifier of AWS Signer signatures needs (the profile version and the job), naming
//! the profile asked for. The response `metadata` becomes annotations of the signature manifest.

use std::collections::BTreeMap;

use crate::aws::{ServiceFailure, service_failure};
use async_trait::async_trait;
use aws_sdk_signer::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_signer::primitives::Blob;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::oci::{Descriptor, media};
use crate::source::Source;

use super::Attrs;
use super::pipeline::{EnvelopeFormat, EnvelopeSigner, Signed, check_envelope};

/// The `payloadFormat` of a Notation payload, the only one SignPayload documents.
pub const PAYLOAD_FORMAT: &str = media::NOTATION_PAYLOAD;
/// The signed attributes naming the signing-profile version ARN and the signing-job ARN,
/// declared once by the verifier's AWS Signer plugin.
pub use crate::notation::plugin::aws_signer::{ATTR_JOB, ATTR_PROFILE_VERSION};
/// SignPayload takes at most this many payload bytes.
const MAX_PAYLOAD: usize = 4096;
/// Bounds on the metadata copied into the manifest: a service answer does not grow it unbounded.
const MAX_METADATA_ENTRIES: usize = 64;
const MAX_METADATA_TEXT: usize = 2048;

/// A signing profile as `--aws-signer-profile` names it: a name, or a profile ARN that also
/// gives its owner (the account) and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRef {
    pub name: String,
    pub owner: Option<String>,
    pub region: Option<String>,
    pub partition: Option<String>,
}

fn valid_name(n: &str) -> bool {
    (2..=64).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn valid_account(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

/// Lower-case letters, digits and dashes, as region names are (they go into a host name).
pub fn valid_region(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 32
        && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !r.starts_with('-')
        && !r.ends_with('-')
}

fn valid_partition(p: &str) -> bool {
    matches!(p, "aws" | "aws-cn" | "aws-us-gov")
}

impl ProfileRef {
    /// `NAME` or `arn:PARTITION:signer:REGION:ACCOUNT:/signing-profiles/NAME`. A profile
    /// *version* ARN is refused: SignPayload signs with a profile's current version.
    pub fn parse(s: &str) -> Result<ProfileRef> {
        let shown = crate::sanitize::clip(s, 120);
        if !s.starts_with("arn:") {
            if !valid_name(s) {
                return Err(Error::Usage(format!(
                    "--aws-signer-profile {shown:?}: a signing-profile name is 2 to 64 letters, digits or \
                     underscores (or give the profile ARN, arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME)"
                )));
            }
            return Ok(ProfileRef { name: s.to_string(), owner: None, region: None, partition: None });
        }
        let bad = |why: &str| {
            Error::Usage(format!(
                "--aws-signer-profile {shown:?}: {why}; a signing-profile ARN is \
                 arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME"
            ))
        };
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let [_, partition, service, region, account, resource] = parts.as_slice() else {
            return Err(bad("it has too few parts"));
        };
        if !valid_partition(partition) {
            return Err(bad("the partition is not aws, aws-cn or aws-us-gov"));
        }
        if *service != "signer" {
            return Err(bad("it is not an AWS Signer ARN"));
        }
        if !valid_region(region) {
            return Err(bad("the region is not a region name"));
        }
        if !valid_account(account) {
            return Err(bad("the account is not 12 digits"));
        }
        let path: Vec<&str> = resource.split('/').collect();
        match path.as_slice() {
            ["", "signing-profiles", name] if valid_name(name) => Ok(ProfileRef {
                name: name.to_string(),
                owner: Some(account.to_string()),
                region: Some(region.to_string()),
                partition: Some(partition.to_string()),
            }),
            ["", "signing-profiles", name, _] if valid_name(name) => {
                Err(bad("it names a profile version; give the profile ARN without the version"))
            }
            _ => Err(bad("the resource is not /signing-profiles/NAME with a valid profile name")),
        }
    }
}

/// What the AWS side needs besides the profile: the credential chain's profile, timeouts and
/// CA bundle, and the region (from the ARN, else `--region`, else the chain's).
#[derive(Debug, Clone)]
pub struct AwsSignerSettings {
    pub aws: crate::aws::AwsSettings,
    pub region: Option<String>,
}

/// A signing profile of AWS Signer, ready to sign.
pub struct AwsSigner {
    client: aws_sdk_signer::Client,
    profile: ProfileRef,
    region: String,
}

/// One SignPayload answer, read back and checked.
#[derive(Debug, Clone)]
pub struct AwsSignature {
    pub envelope: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
    pub metadata: BTreeMap<String, String>,
    pub job_id: Option<String>,
    pub profile_version_arn: String,
    pub job_arn: String,
    pub signing_time: DateTime<Utc>,
}

/// The same SDK configuration as ECR's: one rustls (ring) client, the standard chain.
fn loader(settings: &AwsSignerSettings) -> aws_config::ConfigLoader {
    crate::aws::loader(&settings.aws)
}

/// The region to call: the profile ARN's (`from_arn`), else the settings', else the AWS
/// chain's. Two that disagree, or none at all, are usage errors (nothing is sent yet).
async fn resolve_region(from_arn: Option<&str>, settings: &AwsSignerSettings) -> Result<String> {
    if let Some(r) = &settings.region
        && !valid_region(r)
    {
        return Err(Error::Usage(format!(
            "--region {:?}: a region name is lower-case letters, digits and dashes",
            crate::sanitize::clip(r, 40)
        )));
    }
    let region = match (from_arn, &settings.region) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::Usage(format!(
                "the signing profile is in {a} but --region says {b}: a profile signs only in its own region"
            )));
        }
        (Some(a), _) => Some(a.to_string()),
        (None, Some(a)) => Some(a.clone()),
        (None, None) => crate::aws::default_region(&settings.aws).await,
    };
    region.filter(|r| valid_region(r)).ok_or_else(|| {
        Error::Usage("no AWS region for the signing profile: give its ARN, or --region, or set AWS_REGION".into())
    })
}

/// A signing profile as ListSigningProfiles describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedProfile {
    pub name: String,
    /// The profile ARN (what `--aws-signer-profile` and a trust policy take).
    pub arn: String,
    pub version_arn: Option<String>,
    /// `Active`, `Canceled`, `Revoked`: only an active profile signs.
    pub status: String,
}

/// The Notation signing profiles of one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileList {
    pub region: String,
    pub profiles: Vec<ListedProfile>,
    /// More profiles than [`MAX_LISTED_PROFILES`]: the rest were not read.
    pub truncated: bool,
}

/// Profiles read from ListSigningProfiles at most: a dialog lists a few, not an account's history.
pub const MAX_LISTED_PROFILES: usize = 500;

/// ListSigningProfiles for the Notation platform (`Notation-OCI-SHA384-ECDSA`), every page up
/// to [`MAX_LISTED_PROFILES`], in the settings' region (else the AWS chain's).
pub async fn list_profiles(settings: &AwsSignerSettings) -> Result<ProfileList> {
    let region = resolve_region(None, settings).await?;
    let conf = loader(settings).region(aws_config::Region::new(region.clone())).load().await;
    let client = aws_sdk_signer::Client::new(&conf);
    let mut profiles = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_LISTED_PROFILES {
        let out = client
            .list_signing_profiles()
            .platform_id(crate::notation::plugin::aws_signer::PLATFORM)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| signer_error("ListSigningProfiles", &region, None, e))?;
        for p in out.profiles() {
            let (Some(name), Some(arn)) = (p.profile_name(), p.arn()) else { continue };
            profiles.push(ListedProfile {
                name: name.to_string(),
                arn: arn.to_string(),
                version_arn: p.profile_version_arn().map(str::to_string),
                status: p.status().map(|s| s.as_str().to_string()).unwrap_or_else(|| "unknown".into()),
            });
        }
        next = out.next_token().filter(|t| !t.is_empty()).map(str::to_string);
        if next.is_none() || profiles.len() >= MAX_LISTED_PROFILES {
            break;
        }
    }
    let truncated = next.is_some() || profiles.len() > MAX_LISTED_PROFILES;
    profiles.truncate(MAX_LISTED_PROFILES);
    profiles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ProfileList { region, profiles, truncated })
}

impl AwsSigner {
    /// The client for `profile`. A region given twice must agree; none at all is a usage error
    /// (nothing is sent yet).
    pub async fn new(profile: ProfileRef, settings: &AwsSignerSettings) -> Result<AwsSigner> {
        let region = resolve_region(profile.region.as_deref(), settings).await?;
        let conf = loader(settings).region(aws_config::Region::new(region.clone())).load().await;
        Ok(AwsSigner { client: aws_sdk_signer::Client::new(&conf), profile, region })
    }

    pub fn profile(&self) -> &ProfileRef {
        &self.profile
    }

    /// SignPayload over `payload`, the answer checked as the envelope of `subject`.
    pub async fn sign(&self, payload: &[u8], subject: &Descriptor) -> Result<AwsSignature> {
        if payload.is_empty() || payload.len() > MAX_PAYLOAD {
            return Err(Error::Usage(format!(
                "the Notation payload is {} bytes; SignPayload takes 1 to {MAX_PAYLOAD}",
                payload.len()
            )));
        }
        let mut req = self
            .client
            .sign_payload()
            .profile_name(&self.profile.name)
            .payload(Blob::new(payload))
            .payload_format(PAYLOAD_FORMAT);
        if let Some(owner) = &self.profile.owner {
            req = req.profile_owner(owner);
        }
        let out =
            req.send().await.map_err(|e| signer_error("SignPayload", &self.region, Some(&self.profile.name), e))?;
        let envelope = out.signature().map(|b| b.as_ref().to_vec()).unwrap_or_default();
        if envelope.is_empty() {
            return Err(Error::malformed("AWS Signer's SignPayload answer", "it has no signature"));
        }
        let chain = check_envelope(media::JWS, &envelope, payload, subject)?;
        let (profile_version_arn, job_arn, signing_time) = self.check_attributes(&envelope)?;
        let metadata = check_metadata(out.metadata())?;
        Ok(AwsSignature {
            envelope,
            chain,
            metadata,
            job_id: out.job_id().map(str::to_string),
            profile_version_arn,
            job_arn,
            signing_time,
        })
    }

    /// The profile-version and job ARNs, signed and critical, naming the profile asked for.
    fn check_attributes(&self, envelope: &[u8]) -> Result<(String, String, DateTime<Utc>)> {
        let bad = |detail: String| Error::malformed("the signature envelope AWS Signer returned", detail);
        let parsed = crate::notation::envelope::parse(media::JWS, envelope).map_err(bad)?;
        let attr = |key: &str| -> Result<String> {
            let value = parsed.extended.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
            let Some(value) = value else {
                return Err(bad(format!("it has no signed attribute {key}")));
            };
            if !parsed.critical.iter().any(|c| c == key) {
                return Err(bad(format!("its signed attribute {key} is not marked critical")));
            }
            Ok(value)
        };
        let version = attr(ATTR_PROFILE_VERSION)?;
        let job = attr(ATTR_JOB)?;
        let shown = |v: &str| crate::sanitize::clip(v, 200).to_string();
        let Some((account, name)) = profile_version_parts(&version) else {
            return Err(bad(format!(
                "{ATTR_PROFILE_VERSION} {:?} is not a signing-profile version ARN",
                shown(&version)
            )));
        };
        if name != self.profile.name || self.profile.owner.as_deref().is_some_and(|o| o != account) {
            return Err(bad(format!(
                "it was signed by the profile version {} instead of the profile {} asked for",
                shown(&version),
                self.profile.name
            )));
        }
        if !is_job_arn(&job) {
            return Err(bad(format!("{ATTR_JOB} {:?} is not a signing-job ARN", shown(&job))));
        }
        let at = parsed.authentic_signing_time.or(parsed.signing_time).unwrap_or_else(Utc::now);
        Ok((version, job, at))
    }
}

/// `arn:P:signer:R:ACCOUNT:/signing-profiles/NAME/VERSION` → (ACCOUNT, NAME).
fn profile_version_parts(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "signer", region, account, resource] = parts.as_slice() else {
        return None;
    };
    if !valid_partition(partition) || !valid_region(region) || !valid_account(account) {
        return None;
    }
    match resource.split('/').collect::<Vec<_>>().as_slice() {
        ["", "signing-profiles", name, version] if valid_name(name) && !version.is_empty() => Some((account, name)),
        _ => None,
    }
}

fn is_job_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", p, "signer", r, a, res]
        if valid_partition(p) && valid_region(r) && valid_account(a)
            && res.strip_prefix("/signing-jobs/").is_some_and(|id| !id.is_empty() && !id.contains('/')))
}

/// The metadata, bounded, with no key that would replace an annotation sigscope writes.
fn check_metadata(metadata: Option<&std::collections::HashMap<String, String>>) -> Result<BTreeMap<String, String>> {
    let bad = |detail: String| Error::malformed("AWS Signer's SignPayload metadata", detail);
    let map: BTreeMap<String, String> = metadata.into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
    if map.len() > MAX_METADATA_ENTRIES {
        return Err(bad(format!("{} entries, more than {MAX_METADATA_ENTRIES}", map.len())));
    }
    for (k, v) in &map {
        if k.is_empty() || k.len() > MAX_METADATA_TEXT || v.len() > MAX_METADATA_TEXT {
            return Err(bad(format!("an entry is empty or longer than {MAX_METADATA_TEXT} bytes")));
        }
        if super::manifest::RESERVED_ANNOTATIONS.contains(&k.as_str()) {
            return Err(bad(format!("it would replace the annotation {k}")));
        }
    }
    Ok(map)
}

#[async_trait]
impl EnvelopeSigner for AwsSigner {
    fn describe(&self) -> String {
        format!("AWS Signer profile {} in {}", self.profile.name, self.region)
    }

    /// The envelope only (the metadata is dropped here: [`sign_manifest`] keeps it).
    async fn envelope(&self, payload: &[u8], format: EnvelopeFormat, _attrs: &Attrs) -> Result<Vec<u8>> {
        require_jws(format)?;
        let target = crate::notation::envelope::target_artifact(payload)
            .map_err(|e| Error::malformed("the Notation payload to sign", e))?;
        let subject = Descriptor {
            media_type: target.media_type,
            digest: target.digest,
            size: target.size,
            ..Descriptor::default()
        };
        Ok(self.sign(payload, &subject).await?.envelope)
    }
}

/// AWS Signer returns JWS only.
pub fn require_jws(format: EnvelopeFormat) -> Result<()> {
    match format {
        EnvelopeFormat::Jws => Ok(()),
        EnvelopeFormat::Cose => {
            Err(Error::Usage("AWS Signer returns JWS envelopes only: --envelope cose cannot be used with it".into()))
        }
    }
}

/// Signs `subject` (a manifest of `repository`, by digest) with the profile: nothing is asked of
/// the source until the service's envelope passed every check.
pub async fn sign_manifest(
    source: &dyn Source,
    repository: &str,
    subject: &Descriptor,
    signer: &AwsSigner,
) -> Result<Signed> {
    let signature = sign_only(subject, signer).await?;
    store(source, repository, subject, &signature).await
}

/// The SignPayload half of [`sign_manifest`]: a service error here is told apart from a
/// registry error when the signature is stored.
pub async fn sign_only(subject: &Descriptor, signer: &AwsSigner) -> Result<AwsSignature> {
    crate::oci::check_digest_syntax(&subject.digest)?;
    signer.sign(&super::payload(subject), subject).await
}

/// Stores a checked signature as a referrer of `subject`, the metadata among its annotations.
pub async fn store(source: &dyn Source, repository: &str, subject: &Descriptor, s: &AwsSignature) -> Result<Signed> {
    let referrer = super::manifest::signature_manifest_with(
        subject,
        Bytes::from(s.envelope.clone()),
        media::JWS,
        &s.chain,
        s.signing_time,
        &s.metadata,
    )?;
    let stored = source.push_referrer(repository, &referrer).await?;
    Ok(Signed::new(subject, media::JWS, stored))
}

/// How to give AWS credentials, for messages about missing ones.
pub use crate::aws::CREDENTIALS_HELP;

/// An SDK error of a Signer operation as a sentence that says what to do.
fn signer_error<E>(operation: &str, region: &str, profile: Option<&str>, e: SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let target = format!("AWS Signer {operation} in {region}");
    if let Some(ServiceFailure { code, detail, status }) = service_failure(&e) {
        return match code.as_str() {
            "AccessDeniedException" | "AccessDenied" => Error::Denied {
                detail: match profile {
                    Some(p) => format!("{detail}; the IAM identity needs signer:{operation} on the profile {p}"),
                    None => format!("{detail}; the IAM identity needs signer:{operation}"),
                },
                target,
            },
            "TooManyRequestsException" | "ThrottlingException" => Error::RateLimited { target, attempts: 3 },
            "ResourceNotFoundException" => Error::NotFound {
                what: format!("{target}: no signing profile {} (or it is not active): {detail}", profile.unwrap_or("")),
            },
            "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException" => {
                Error::Usage(format!("{target}: AWS rejected the credentials ({detail}); {CREDENTIALS_HELP}"))
            }
            "ValidationException" => Error::Usage(format!("{target} refused the request: {detail}")),
            _ => Error::Server { target, status, detail },
        };
    }
    crate::aws::transport_error(target, &e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns() {
        let p = ProfileRef::parse("notation_test").unwrap();
        assert_eq!((p.name.as_str(), p.owner, p.region), ("notation_test", None, None));
        let p = ProfileRef::parse("arn:aws:signer:us-west-2:123456789012:/signing-profiles/notation_test").unwrap();
        assert_eq!(p.name, "notation_test");
        assert_eq!(p.owner.as_deref(), Some("123456789012"));
        assert_eq!(p.region.as_deref(), Some("us-west-2"));
        for bad in [
            "a",
            "bad-name",
            "x".repeat(65).as_str(),
            "arn:aws:signer:us-west-2:123456789012:/signing-profiles/notation_test/IrwHQeF7XW",
            "arn:aws:s3:us-west-2:123456789012:/signing-profiles/p1",
            "arn:aws:signer:US-WEST-2:123456789012:/signing-profiles/p1",
            "arn:aws:signer:us-west-2:12345:/signing-profiles/p1",
            "arn:evil:signer:us-west-2:123456789012:/signing-profiles/p1",
            "arn:aws:signer:us-west-2:123456789012:/signing-jobs/p1",
            "arn:aws:signer:us-west-2:123456789012:/signing-profiles/a/../b",
            "arn:aws:signer:us-west-2",
        ] {
            let e = ProfileRef::parse(bad).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{bad}: {e}");
        }
    }

    #[test]
    fn attribute_arns() {
        let v = "arn:aws:signer:us-west-2:123456789012:/signing-profiles/notation_test/IrwHQeF7XW";
        assert_eq!(profile_version_parts(v), Some(("123456789012", "notation_test")));
        assert_eq!(
            profile_version_parts("arn:aws:signer:us-west-2:123456789012:/signing-profiles/notation_test"),
            None
        );
        assert!(is_job_arn("arn:aws:signer:us-west-2:123456789012:/signing-jobs/0c0f-11"));
        assert!(!is_job_arn("arn:aws:signer:us-west-2:123456789012:/signing-jobs/"));
        assert!(!is_job_arn(v));
    }

    #[test]
    fn metadata_cannot_replace_our_annotations() {
        let m = std::collections::HashMap::from([(
            crate::oci::annotations::NOTATION_THUMBPRINT.to_string(),
            "[]".to_string(),
        )]);
        assert!(check_metadata(Some(&m)).is_err());
        let m = std::collections::HashMap::from([("signingJobArn".to_string(), "x".to_string())]);
        assert_eq!(check_metadata(Some(&m)).unwrap().len(), 1);
        assert!(check_metadata(None).unwrap().is_empty());
    }
}
