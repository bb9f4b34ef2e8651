//! ECR registry credentials: GetAuthorizationToken's token is `base64("AWS:<password>")`, sent
//! as Basic auth to the registry endpoint it names, and only to that one.

use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::error::{Error, Result};
use crate::source::registry::creds::{Credential, CredentialSource};

/// How long before `expiresAt` a token is replaced: a request started just before expiry
/// must not reach the registry just after it.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// The shortest time one token is used before another is asked for. A token whose
/// `expiresAt` is already past when it arrives (a clock that is off, or an emulator: moto's
/// is in 2015) would otherwise be fetched again on every request.
pub const MIN_TOKEN_REUSE: Duration = Duration::from_secs(5 * 60);

/// One token, for one registry host.
#[derive(Clone)]
pub struct EcrToken {
    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com`, from `proxyEndpoint`.
    pub host: String,
    pub credential: Credential,
    /// When to ask for a new one.
    pub refresh_at: Instant,
}

impl std::fmt::Debug for EcrToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EcrToken({}, {:?}, <redacted>)", self.host, self.refresh_at)
    }
}

/// When a token fetched `now`, valid until `expires_at` (seconds from now; negative when
/// already past), is replaced.
pub fn refresh_at(now: Instant, expires_in: Option<i64>, min_reuse: Duration) -> Instant {
    let floor = now + min_reuse;
    match expires_in {
        Some(secs) if secs > 0 => {
            let before = Duration::from_secs(secs as u64).saturating_sub(REFRESH_BEFORE_EXPIRY);
            (now + before).max(floor)
        }
        _ => floor,
    }
}

/// Decodes `authorizationToken` and checks `proxyEndpoint` names an https (or, for a local
/// override, any) registry host.
pub fn parse(token: &str, proxy_endpoint: &str) -> Result<(String, Credential)> {
    let what = "ECR GetAuthorizationToken answer";
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| Error::malformed(what, "the authorization token is not base64"))?;
    let text = String::from_utf8(decoded).map_err(|_| Error::malformed(what, "the authorization token is not text"))?;
    let (username, password) =
        text.split_once(':').ok_or_else(|| Error::malformed(what, "the authorization token is not USER:PASSWORD"))?;
    if username.is_empty() || password.is_empty() {
        return Err(Error::malformed(what, "the authorization token has an empty user or password"));
    }
    let url = url::Url::parse(proxy_endpoint)
        .map_err(|_| Error::malformed(what, format!("proxyEndpoint {:?} is not a URL", clip(proxy_endpoint))))?;
    let host = url.host_str().filter(|_| url.scheme() == "https").ok_or_else(|| {
        Error::malformed(what, format!("proxyEndpoint {:?} is not an https URL", clip(proxy_endpoint)))
    })?;
    Ok((host.to_ascii_lowercase(), Credential::Basic { username: username.into(), password: password.into() }))
}

fn clip(s: &str) -> String {
    crate::sanitize::clip(s, 100).to_string()
}

/// The token as a [`CredentialSource`] for the registry client: it answers for its own host
/// only, so the token never goes to another registry.
pub struct TokenCredential(pub EcrToken);

impl CredentialSource for TokenCredential {
    fn name(&self) -> String {
        format!("ECR GetAuthorizationToken for {}", self.0.host)
    }

    fn credential_for(&self, host: &str) -> Result<Option<Credential>> {
        let name =
            host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
        Ok(name.eq_ignore_ascii_case(&self.0.host).then(|| self.0.credential.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_decode_and_stay_with_their_host() {
        let raw = base64::engine::general_purpose::STANDARD.encode("AWS:secret-password");
        let (host, cred) = parse(&raw, "https://123456789012.dkr.ecr.us-east-1.amazonaws.com").unwrap();
        assert_eq!(host, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
        assert_eq!(cred, Credential::Basic { username: "AWS".into(), password: "secret-password".into() });
        let source = TokenCredential(EcrToken { host, credential: cred, refresh_at: Instant::now() });
        assert!(source.credential_for("123456789012.dkr.ecr.us-east-1.amazonaws.com").unwrap().is_some());
        assert!(source.credential_for("123456789012.DKR.ecr.us-east-1.amazonaws.com:443").unwrap().is_some());
        assert!(source.credential_for("evil.example.com").unwrap().is_none());
        assert!(source.credential_for("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com").unwrap().is_none());
        assert!(parse("not base64!", "https://x").is_err());
        assert!(parse(&base64::engine::general_purpose::STANDARD.encode("nocolon"), "https://x").is_err());
        assert!(parse(&raw, "http://123456789012.dkr.ecr.us-east-1.amazonaws.com").is_err());
    }

    #[test]
    fn refresh_comes_before_expiry_but_never_loops() {
        let now = Instant::now();
        let min = Duration::from_secs(300);
        // 12 h tokens are replaced 5 minutes early.
        assert_eq!(refresh_at(now, Some(12 * 3600), min), now + Duration::from_secs(12 * 3600 - 300));
        // Already expired (moto: 2015), or expiring within the margin: kept for the minimum.
        assert_eq!(refresh_at(now, Some(-10 * 365 * 86400), min), now + min);
        assert_eq!(refresh_at(now, Some(60), min), now + min);
        assert_eq!(refresh_at(now, None, min), now + min);
    }
}
