//! AWS Signer's GetRevocationStatus for the built-in AWS Signer verification plugin
//! (`notation::plugin::aws_signer`): one client per region, made on first use, from the same
//! credential chain and HTTP client as every AWS call of sigscope.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_signerdata::error::{ProvideErrorMetadata, SdkError};
use tokio::sync::Mutex;

use crate::error::Error;
use crate::notation::plugin::Plugins;
use crate::notation::plugin::aws_signer::{AwsSignerPlugin, NotAsked, RevocationQuery, RevocationService};

use super::{AwsSettings, CREDENTIALS_HELP, ServiceFailure, loader, service_failure, transport_error};

pub struct SignerRevocation {
    settings: AwsSettings,
    clients: Mutex<HashMap<String, aws_sdk_signerdata::Client>>,
}

impl SignerRevocation {
    pub fn new(settings: AwsSettings) -> Self {
        SignerRevocation { settings, clients: Mutex::default() }
    }

    async fn client(&self, region: &str) -> aws_sdk_signerdata::Client {
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(region) {
            return c.clone();
        }
        let conf = loader(&self.settings).region(aws_config::Region::new(region.to_string())).load().await;
        let client = aws_sdk_signerdata::Client::new(&conf);
        clients.insert(region.to_string(), client.clone());
        client
    }
}

#[async_trait::async_trait]
impl RevocationService for SignerRevocation {
    async fn revoked_entities(&self, q: &RevocationQuery) -> Result<Vec<String>, String> {
        let client = self.client(&q.region).await;
        let answer = client
            .get_revocation_status()
            .signature_timestamp(aws_sdk_signerdata::primitives::DateTime::from_secs(q.signature_timestamp.timestamp()))
            .platform_id(&q.platform_id)
            .profile_version_arn(&q.profile_version_arn)
            .job_arn(&q.job_arn)
            .set_certificate_hashes(Some(q.certificate_hashes.clone()))
            .send()
            .await
            .map_err(|e| revocation_error(&q.region, e).to_string())?;
        Ok(answer.revoked_entities().to_vec())
    }
}

/// The verification plugins sigscope has built in, for a verifier: AWS Signer's, asking AWS
/// about revocations unless `offline`.
pub fn builtin_plugins(settings: AwsSettings, offline: bool) -> Plugins {
    let service: Arc<dyn RevocationService> = if offline {
        Arc::new(NotAsked("--offline forbids calling AWS Signer".into()))
    } else {
        Arc::new(SignerRevocation::new(settings))
    };
    let mut plugins = Plugins::new();
    plugins.register(Arc::new(AwsSignerPlugin::new(service)));
    plugins
}

fn revocation_error<E>(region: &str, e: SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let target = format!("AWS Signer GetRevocationStatus in {region}");
    if let Some(ServiceFailure { code, detail, status }) = service_failure(&e) {
        return match code.as_str() {
            "AccessDeniedException" | "AccessDenied" => {
                Error::Denied { target, detail: format!("{detail}; the IAM identity needs signer:GetRevocationStatus") }
            }
            "TooManyRequestsException" | "ThrottlingException" => Error::RateLimited { target, attempts: 3 },
            "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException" => {
                Error::Usage(format!("{target}: AWS rejected the credentials ({detail}); {CREDENTIALS_HELP}"))
            }
            _ => Error::Server { target, status, detail },
        };
    }
    transport_error(target, &e)
}
