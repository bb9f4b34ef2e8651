//! What every AWS client of sigscope shares (ECR, Signer, Signer's revocation data): one SDK
//! configuration per region from the standard credential chain (environment, profiles, SSO,
//! credential_process, instance roles), on one rustls (ring) HTTP client, and SDK errors turned
//! into sentences that say what to do.

pub mod signer_revocation;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};

use crate::error::Error;

/// What `--profile`, `--ca-file` and the registry's timeouts make of the chain.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub connect_timeout: Duration,
    /// One attempt of one API call; the SDK's standard retry (3 attempts, with backoff for
    /// throttling) sits above it.
    pub attempt_timeout: Duration,
    /// One API call, its retries included (`--deadline`); `None`: unbounded but per attempt.
    pub operation_timeout: Option<Duration>,
    /// `--ca-file`'s PEM bundle, trusted beside the system's roots (a TLS-inspecting proxy, a
    /// private endpoint), read and checked once by [`read_ca_bundle`].
    pub ca_bundle: Option<std::sync::Arc<Vec<u8>>>,
}

impl Default for AwsSettings {
    /// The registry client's default timeouts, the default profile, the system's roots.
    fn default() -> Self {
        AwsSettings {
            profile: None,
            connect_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(30),
            operation_timeout: None,
            ca_bundle: None,
        }
    }
}

/// `--ca-file` for the AWS clients: read bounded (a FIFO does not hang), at least one PEM
/// certificate in it.
pub fn read_ca_bundle(path: &std::path::Path) -> Result<std::sync::Arc<Vec<u8>>, Error> {
    let pem = crate::fsread::read(path, crate::fsread::MAX_CONFIG_BYTES, crate::fsread::Symlinks::Follow)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let certs = x509_parser::pem::Pem::iter_from_buffer(&pem)
        .map(|p| p.map_err(|e| e.to_string()).and_then(|p| p.parse_x509().map(|_| ()).map_err(|e| e.to_string())))
        .collect::<Result<Vec<()>, String>>()
        .map_err(|e| Error::Usage(format!("{}: not a PEM certificate bundle ({e})", path.display())))?;
    if certs.is_empty() {
        return Err(Error::Usage(format!("{}: no PEM certificates found", path.display())));
    }
    Ok(std::sync::Arc::new(pem))
}

/// The SDK configuration every AWS client of sigscope starts from (ECR, Signer): one rustls
/// (ring) HTTP client, the timeouts, `--profile`, the standard credential chain.
pub fn loader(settings: &AwsSettings) -> aws_config::ConfigLoader {
    use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let mut tls = TlsContext::default();
    if let Some(pem) = &settings.ca_bundle {
        // Checked by read_ca_bundle; should rustls still refuse it, the calls fail on TLS
        // with the system's roots alone: trust is never widened by a failure.
        if let Ok(ctx) =
            TlsContext::builder().with_trust_store(TrustStore::default().with_pem_certificate(pem.to_vec())).build()
        {
            tls = ctx;
        }
    }
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https();
    let mut timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(settings.connect_timeout)
        .operation_attempt_timeout(settings.attempt_timeout);
    if let Some(total) = settings.operation_timeout {
        timeouts = timeouts.operation_timeout(total);
    }
    let timeouts = timeouts.build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http_client).timeout_config(timeouts);
    if let Some(p) = &settings.profile {
        loader = loader.profile_name(p);
    }
    loader
}

/// The ECR API client of one region.
pub async fn ecr_client(settings: &AwsSettings, region: &str) -> aws_sdk_ecr::Client {
    let conf = loader(settings).region(aws_config::Region::new(region.to_string())).load().await;
    aws_sdk_ecr::Client::new(&conf)
}

/// The region the chain names (`AWS_REGION`, the profile's `region`), for `--ecr` without
/// `--region`.
pub async fn default_region(settings: &AwsSettings) -> Option<String> {
    use aws_config::meta::region::ProvideRegion as _;
    let named = |r: Option<aws_config::Region>| r.map(|r| r.to_string()).filter(|r| !r.trim().is_empty());
    if let Some(r) = named(loader(settings).load().await.region().cloned()) {
        return Some(r);
    }
    // An empty AWS_REGION ends the SDK's region chain before the profile is read.
    let mut profile = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(p) = &settings.profile {
        profile = profile.profile_name(p);
    }
    named(profile.build().region().await)
}

/// How to give AWS credentials, for messages about missing ones.
pub const CREDENTIALS_HELP: &str = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (or --profile) \
    naming a profile in ~/.aws/config or ~/.aws/credentials (for SSO: `aws sso login` first), or run where an \
    instance or task role is available";

/// What a service said when it refused a call: its error code, "code: message" clipped for a
/// message, and the HTTP status. `None` for an error that is not the service's answer.
pub struct ServiceFailure {
    pub code: String,
    pub detail: String,
    pub status: u16,
}

pub fn service_failure<E: ProvideErrorMetadata>(e: &SdkError<E>) -> Option<ServiceFailure> {
    let SdkError::ServiceError(service) = e else { return None };
    let err = service.err();
    let code = err.code().unwrap_or("unknown error");
    let message = err.message().unwrap_or("");
    let detail = if message.is_empty() { code.to_string() } else { format!("{code}: {message}") };
    Some(ServiceFailure {
        code: code.to_string(),
        detail: crate::sanitize::clip(&detail, 300).to_string(),
        status: service.raw().status().as_u16(),
    })
}

/// An SDK error of `operation` in `region` as a domain error. Missing credentials are a
/// configuration error that says how to configure them; AccessDenied names the operation (the
/// IAM action that is missing); throttling that outlasted the SDK's retries is rate limiting.
pub fn sdk_error<E>(operation: &str, region: &str, e: SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let target = format!("ECR {operation} in {region}");
    if let Some(ServiceFailure { code, detail, status }) = service_failure(&e) {
        return match code.as_str() {
            "AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation" => {
                Error::Denied { target, detail: format!("{detail}; the IAM identity needs ecr:{operation}") }
            }
            "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded" => {
                Error::RateLimited { target, attempts: 3 }
            }
            "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException" => {
                Error::Usage(format!("{target}: AWS rejected the credentials ({detail}); {CREDENTIALS_HELP}"))
            }
            "RepositoryNotFoundException" | "ImageNotFoundException" | "RegistryNotFoundException" => {
                Error::NotFound { what: format!("{target}: {detail}") }
            }
            _ => Error::Server { target, status, detail },
        };
    }
    transport_error(target, &e)
}

/// An SDK error that is not the service's answer (missing credentials, a timeout, the network,
/// an answer that does not parse) as a domain error about `target`; shared by every AWS client.
pub fn transport_error<E>(target: String, e: &SdkError<E>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    if is_missing_credentials(e) {
        return Error::Usage(format!("no AWS credentials for {target}: {CREDENTIALS_HELP}"));
    }
    let detail = crate::sanitize::clip(&error_chain(e), 400).to_string();
    match e {
        SdkError::TimeoutError(_) => Error::Timeout { target: target.clone(), detail: format!("{target} timed out") },
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            Error::Timeout { target: target.clone(), detail: format!("{target} timed out: {detail}") }
        }
        SdkError::DispatchFailure(_) => Error::Network { target, detail },
        SdkError::ResponseError(_) => Error::malformed(format!("answer to {target}"), detail),
        _ => Error::Usage(format!("{target}: {detail}")),
    }
}

/// An error and its sources in words, each said once (the SDK's own context printer adds
/// Debug dumps of every layer).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// The chain failing to find any credentials shows up as an error whose sources include the
/// credential provider's "no credentials" error; the SDK has no typed variant for it at this level.
fn is_missing_credentials<E: std::error::Error + 'static>(e: &E) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if text.contains("no providers in chain provided credentials")
            || text.contains("the credential provider was not enabled")
            || text.contains("failed to load credentials")
            || text.contains("no credentials")
        {
            return true;
        }
        cur = err.source();
    }
    false
}
