//! Verification plugins (the Notary Project's plugin-extensibility specification, verification
//! capabilities). A signature whose envelope names `io.cncf.notary.verificationPlugin` is
//! verified with the registered plugin of that name. The specification lets a plugin decide
//! two things only: the trusted identity (`SIGNATURE_VERIFIER.TRUSTED_IDENTITY`) and the
//! revocation status (`SIGNATURE_VERIFIER.REVOCATION_CHECK`); it must also process every
//! critical attribute this verifier does not know.
//!
//! The envelope names the plugin, so whoever signed chooses it: a plugin is consulted only
//! after the core checks (integrity, the trust store, expiry, the timestamp) have run, and its
//! answer can fail a signature they pass, never pass one they fail. Within what it decides it
//! is bounded too: an `x509.subject` identity that does not match is not its to excuse (only
//! identities the x509 check cannot read are), and a certificate the CRLs say is revoked stays
//! revoked. With no plugin of that name registered, the signature fails closed.

pub mod aws_signer;
pub mod version;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::envelope::{Envelope, Scheme};
use super::policy::Statement;
use super::revocation::RevocationStatus;
use version::Version;

/// What a plugin may verify in place of (or on top of) the core checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    TrustedIdentity,
    Revocation,
}

impl Capability {
    /// The name in the plugin protocol.
    pub fn protocol_name(self) -> &'static str {
        match self {
            Capability::TrustedIdentity => "SIGNATURE_VERIFIER.TRUSTED_IDENTITY",
            Capability::Revocation => "SIGNATURE_VERIFIER.REVOCATION_CHECK",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Capability::TrustedIdentity => "trusted identity",
            Capability::Revocation => "revocation",
        }
    }
}

/// What a plugin says about itself (the protocol's `get-plugin-metadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginMetadata {
    pub name: String,
    /// A semantic version, compared with the signature's minimum version.
    pub version: String,
    pub capabilities: Vec<Capability>,
}

/// What a plugin is given (the protocol's `verify-signature` request): the envelope's signed
/// attributes and chain, which the core checks have already verified, and the statement's
/// trusted identities (`prefix:value`; other prefixes exactly as written, x509 subjects
/// normalised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRequest {
    pub content_type: String,
    pub signing_scheme: Scheme,
    pub signing_time: Option<DateTime<Utc>>,
    pub authentic_signing_time: Option<DateTime<Utc>>,
    pub expiry: Option<DateTime<Utc>>,
    /// Every extended signed attribute (name, value as text), in header order.
    pub extended_attributes: Vec<(String, String)>,
    /// The critical attributes this verifier does not know: the plugin must name each in
    /// [`VerifyResponse::processed_attributes`] or the signature fails.
    pub unprocessed_attributes: Vec<String>,
    /// DER, leaf first.
    pub certificate_chain: Vec<Vec<u8>>,
    pub trusted_identities: Vec<String>,
    /// What the plugin is asked to decide (possibly nothing: it still processes attributes).
    pub capabilities: Vec<Capability>,
}

impl VerifyRequest {
    pub fn new(env: &Envelope, statement: &Statement, capabilities: Vec<Capability>) -> Self {
        VerifyRequest {
            content_type: super::envelope::PAYLOAD_MEDIA_TYPE.to_string(),
            signing_scheme: env.scheme,
            signing_time: env.signing_time,
            authentic_signing_time: env.authentic_signing_time,
            expiry: env.expiry,
            extended_attributes: env.extended.clone(),
            unprocessed_attributes: env.critical_extensions().map(str::to_string).collect(),
            certificate_chain: env.chain.clone(),
            trusted_identities: statement.trusted_identities.iter().map(ToString::to_string).collect(),
            capabilities,
        }
    }
}

/// A plugin's answer: per capability asked, `Ok(why it passed)` or `Err(why it failed)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyResponse {
    pub results: BTreeMap<Capability, Result<String, String>>,
    pub processed_attributes: Vec<String>,
}

/// A verification plugin. An `Err` from `verify_signature` fails the signature.
#[async_trait::async_trait]
pub trait VerificationPlugin: Send + Sync {
    fn metadata(&self) -> PluginMetadata;
    async fn verify_signature(&self, request: &VerifyRequest) -> Result<VerifyResponse, String>;
}

/// The plugins a verifier may run, by name. Empty by default: every signature that names a
/// plugin then fails closed.
#[derive(Clone, Default)]
pub struct Plugins {
    by_name: BTreeMap<String, Arc<dyn VerificationPlugin>>,
}

impl Plugins {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `plugin` under the name its metadata gives, replacing one of that name.
    pub fn register(&mut self, plugin: Arc<dyn VerificationPlugin>) -> &mut Self {
        self.by_name.insert(plugin.metadata().name, plugin);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn VerificationPlugin>> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// The plugin an envelope names, found and fit for it.
#[derive(Clone)]
pub struct Selected {
    pub plugin: Arc<dyn VerificationPlugin>,
    pub metadata: PluginMetadata,
}

impl Selected {
    pub fn offers(&self, capability: Capability) -> bool {
        self.metadata.capabilities.contains(&capability)
    }

    pub fn name(&self) -> &str {
        &self.metadata.name
    }
}

/// Finds the plugin `name` among `plugins` and checks it is fit: its version is at least
/// `min_version` (both semantic versions) and it verifies something. `Err` is the reason
/// the verification-plugin check fails; with no such plugin it is the message sigscope has
/// always given.
pub fn select(plugins: &Plugins, name: &str, min_version: Option<&str>) -> Result<Selected, String> {
    let Some(plugin) = plugins.get(name) else {
        let min = min_version.map(|v| format!(" (version ≥ {v})")).unwrap_or_default();
        return Err(format!(
            "requires plugin {name}{min}, which sigscope does not implement; a signature that \
             names a verification plugin cannot be verified without it, so it fails closed"
        ));
    };
    let metadata = plugin.metadata();
    // Registered under the name it gave then; one that now gives another is not what the
    // operator registered.
    if metadata.name != name {
        return Err(format!(
            "the verification plugin registered as {name} now calls itself {:?}; refusing it",
            metadata.name
        ));
    }
    let have = Version::parse(&metadata.version).ok_or_else(|| {
        format!(
            "the verification plugin {name} reports version {:?}, which is not a semantic version",
            metadata.version
        )
    })?;
    if let Some(min) = min_version {
        let want = Version::parse(min).ok_or_else(|| {
            format!("the signature requires plugin {name} version ≥ {min:?}, which is not a semantic version")
        })?;
        if have < want {
            return Err(format!(
                "the signature requires plugin {name} version ≥ {min}, but version {} is registered",
                metadata.version
            ));
        }
    }
    if metadata.capabilities.is_empty() {
        return Err(format!(
            "the verification plugin {name} has no signature verification capability ({} or {})",
            Capability::TrustedIdentity.protocol_name(),
            Capability::Revocation.protocol_name()
        ));
    }
    Ok(Selected { plugin: plugin.clone(), metadata })
}

/// The verification-plugin check on a plugin's answer: every critical attribute it was
/// given must be among those it says it processed. `Ok` says what it did.
pub fn check_response(
    selected: &Selected,
    request: &VerifyRequest,
    response: &VerifyResponse,
) -> Result<String, String> {
    let name = selected.name();
    let missed: Vec<&str> = request
        .unprocessed_attributes
        .iter()
        .filter(|a| !response.processed_attributes.contains(a))
        .map(String::as_str)
        .collect();
    if !missed.is_empty() {
        return Err(format!(
            "the verification plugin {name} did not process the critical attribute(s) {}; every critical \
             attribute sigscope does not know must be processed by the plugin",
            missed.join(", ")
        ));
    }
    let asked: Vec<&str> = request.capabilities.iter().map(|c| c.name()).collect();
    let asked =
        if asked.is_empty() { "nothing (the policy skips what it offers)".to_string() } else { asked.join(", ") };
    let mut why = format!("verification plugin {name} {} was run; it decided: {asked}", selected.metadata.version);
    if !request.unprocessed_attributes.is_empty() {
        why.push_str(&format!("; it processed {}", request.unprocessed_attributes.join(", ")));
    }
    Ok(why)
}

/// The plugin's answer for one capability it was asked about: a missing one fails.
fn answer<'r>(name: &str, response: &'r VerifyResponse, capability: Capability) -> Result<&'r str, String> {
    match response.results.get(&capability) {
        Some(Ok(why)) => Ok(why),
        Some(Err(why)) => Err(format!("verification plugin {name}: {why}")),
        None => Err(format!("verification plugin {name} gave no {} verdict, so the check fails", capability.name())),
    }
}

/// The trusted-identity check when the plugin decides it. `core` is the x509 check's result.
/// The plugin can fail any identity; it can pass one the x509 check failed only when the
/// statement names identities that check cannot read (e.g. a signing profile ARN).
pub fn identity_verdict(
    core: Result<String, String>,
    statement: &Statement,
    name: &str,
    response: &VerifyResponse,
) -> Result<String, String> {
    let plugin = answer(name, response, Capability::TrustedIdentity)?;
    match core {
        Ok(core) => Ok(format!("{core}; verification plugin {name}: {plugin}")),
        Err(_) if statement.has_plugin_identities() => Ok(format!("verification plugin {name}: {plugin}")),
        Err(core) => Err(format!("{core} (a verification plugin cannot vouch for an x509.subject identity)")),
    }
}

/// The revocation check when the plugin decides it, with the core's status for the same
/// chain. A revoked certificate stays revoked; a status the core could not find out is the
/// plugin's to settle; the plugin can always fail it.
pub fn revocation_verdict(
    core: &RevocationStatus,
    core_result: Result<String, String>,
    name: &str,
    response: &VerifyResponse,
) -> Result<String, String> {
    if matches!(core, RevocationStatus::Revoked { .. }) {
        return core_result;
    }
    let plugin = answer(name, response, Capability::Revocation)?;
    Ok(match core_result {
        Ok(core) => format!("{core}; verification plugin {name}: {plugin}"),
        Err(core) => format!("verification plugin {name}: {plugin} (sigscope's own check: {core})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notation::policy::TrustPolicy;

    struct Fixed(PluginMetadata);

    #[async_trait::async_trait]
    impl VerificationPlugin for Fixed {
        fn metadata(&self) -> PluginMetadata {
            self.0.clone()
        }
        async fn verify_signature(&self, _: &VerifyRequest) -> Result<VerifyResponse, String> {
            Ok(VerifyResponse::default())
        }
    }

    fn plugins(name: &str, version: &str, capabilities: &[Capability]) -> Plugins {
        let meta = PluginMetadata { name: name.into(), version: version.into(), capabilities: capabilities.to_vec() };
        let mut p = Plugins::new();
        p.register(Arc::new(Fixed(meta)));
        p
    }

    fn statement(identities: &str) -> Statement {
        let doc = format!(
            r#"{{"version": "1.0", "trustPolicies": [{{"name": "s", "registryScopes": ["*"],
                "signatureVerification": {{"level": "strict"}}, "trustStores": ["ca:s"],
                "trustedIdentities": [{identities}]}}]}}"#
        );
        TrustPolicy::parse(&doc).unwrap().statements.remove(0)
    }

    fn answers(results: &[(Capability, Result<&str, &str>)]) -> VerifyResponse {
        VerifyResponse {
            results: results.iter().map(|(c, r)| (*c, r.map(str::to_string).map_err(str::to_string))).collect(),
            processed_attributes: Vec::new(),
        }
    }

    const ALL: [Capability; 2] = [Capability::TrustedIdentity, Capability::Revocation];

    #[test]
    fn an_unregistered_plugin_fails_with_the_message_sigscope_always_gave() {
        let want = "requires plugin com.example.p (version ≥ 1.2.0), which sigscope does not implement; a signature \
                    that names a verification plugin cannot be verified without it, so it fails closed";
        for registered in [Plugins::new(), plugins("com.example.other", "9.0.0", &ALL)] {
            assert_eq!(select(&registered, "com.example.p", Some("1.2.0")).err().unwrap(), want);
        }
        // Names are exact: no case folding, no prefix match.
        assert!(select(&plugins("com.example.P", "1.0.0", &ALL), "com.example.p", None).is_err());
    }

    #[test]
    fn an_unfit_plugin_fails_closed() {
        let err = |p: Plugins, min: Option<&str>| select(&p, "p", min).err().expect("must be refused");
        assert!(err(plugins("p", "1.1.9", &ALL), Some("1.2.0")).contains("but version 1.1.9 is registered"));
        assert!(err(plugins("p", "1.2.0-rc.1", &ALL), Some("1.2.0")).contains("version ≥ 1.2.0"));
        assert!(err(plugins("p", "v1.2.0", &ALL), None).contains("not a semantic version"));
        assert!(err(plugins("p", "2.0.0", &ALL), Some("latest")).contains("not a semantic version"));
        assert!(err(plugins("p", "2.0.0", &[]), None).contains("no signature verification capability"));
        for ok in [None, Some("1.2.0"), Some("1.2.0-rc.1"), Some("0.9.99")] {
            let s = select(&plugins("p", "1.2.0", &[Capability::Revocation]), "p", ok).unwrap();
            assert!(s.offers(Capability::Revocation) && !s.offers(Capability::TrustedIdentity));
        }
    }

    #[test]
    fn a_plugin_that_renames_itself_is_refused() {
        struct Shifty(std::sync::atomic::AtomicUsize);
        #[async_trait::async_trait]
        impl VerificationPlugin for Shifty {
            fn metadata(&self) -> PluginMetadata {
                let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                PluginMetadata { name: format!("p{n}"), version: "1.0.0".into(), capabilities: ALL.to_vec() }
            }
            async fn verify_signature(&self, _: &VerifyRequest) -> Result<VerifyResponse, String> {
                Ok(VerifyResponse::default())
            }
        }
        let mut p = Plugins::new();
        p.register(Arc::new(Shifty(0.into())));
        assert!(select(&p, "p0", None).err().unwrap().contains("now calls itself \"p1\""));
    }

    #[test]
    fn a_plugin_passes_only_identities_the_x509_check_cannot_read() {
        let pass = answers(&[(Capability::TrustedIdentity, Ok("profile matched"))]);
        let fail = answers(&[(Capability::TrustedIdentity, Err("profile revoked"))]);
        let silent = answers(&[(Capability::Revocation, Ok("good"))]);
        let x509_only = statement(r#""x509.subject: C=US, ST=WA, O=Acme""#);
        let with_arn =
            statement(r#""x509.subject: C=US, ST=WA, O=Acme", "arn:aws:signer:us-west-2:1:/signing-profiles/p""#);
        let mismatch = || Err("does not match".to_string());
        let matched = || Ok("matches".to_string());

        let r = identity_verdict(mismatch(), &x509_only, "p", &pass).unwrap_err();
        assert!(r.starts_with("does not match") && r.contains("cannot vouch for an x509.subject identity"), "{r}");
        assert_eq!(
            identity_verdict(mismatch(), &with_arn, "p", &pass).unwrap(),
            "verification plugin p: profile matched"
        );
        assert_eq!(
            identity_verdict(matched(), &x509_only, "p", &pass).unwrap(),
            "matches; verification plugin p: profile matched"
        );
        for s in [&x509_only, &with_arn] {
            assert_eq!(
                identity_verdict(matched(), s, "p", &fail).unwrap_err(),
                "verification plugin p: profile revoked"
            );
            let r = identity_verdict(matched(), s, "p", &silent).unwrap_err();
            assert!(r.contains("gave no trusted identity verdict"), "{r}");
        }
    }

    #[test]
    fn a_plugin_cannot_unrevoke_a_certificate() {
        let good = answers(&[(Capability::Revocation, Ok("not revoked"))]);
        let revoked = RevocationStatus::Revoked { subject: "CN=leaf".into(), reason: "keyCompromise".into() };
        let core = Err("signing certificate with subject \"CN=leaf\" is revoked: keyCompromise".to_string());
        assert_eq!(revocation_verdict(&revoked, core.clone(), "p", &good), core);
        // What the CRLs could not tell is the plugin's to settle, either way.
        let unknown = RevocationStatus::Unknown { reason: "CRL unreachable".into() };
        let core = || Err("revocation status is unknown: CRL unreachable".to_string());
        let r = revocation_verdict(&unknown, core(), "p", &good).unwrap();
        assert!(r.starts_with("verification plugin p: not revoked") && r.contains("CRL unreachable"), "{r}");
        let bad = answers(&[(Capability::Revocation, Err("revoked by the service"))]);
        assert_eq!(
            revocation_verdict(&RevocationStatus::Good, Ok("good".into()), "p", &bad).unwrap_err(),
            "verification plugin p: revoked by the service"
        );
        let r = revocation_verdict(&unknown, core(), "p", &VerifyResponse::default()).unwrap_err();
        assert!(r.contains("gave no revocation verdict"), "{r}");
    }

    #[test]
    fn every_unknown_critical_attribute_must_be_processed() {
        let selected = select(&plugins("p", "1.0.0", &ALL), "p", None).unwrap();
        let request = VerifyRequest {
            content_type: String::new(),
            signing_scheme: Scheme::X509,
            signing_time: None,
            authentic_signing_time: None,
            expiry: None,
            extended_attributes: Vec::new(),
            unprocessed_attributes: vec!["a".into(), "b".into()],
            certificate_chain: Vec::new(),
            trusted_identities: Vec::new(),
            capabilities: vec![Capability::Revocation],
        };
        let mut response = VerifyResponse { processed_attributes: vec!["a".into(), "c".into()], ..Default::default() };
        let e = check_response(&selected, &request, &response).unwrap_err();
        assert!(e.contains("did not process the critical attribute(s) b;"), "{e}");
        response.processed_attributes.push("b".into());
        let ok = check_response(&selected, &request, &response).unwrap();
        assert_eq!(ok, "verification plugin p 1.0.0 was run; it decided: revocation; it processed a, b");
    }
}
