//! `WWW-Authenticate` challenges, scopes and the bearer-token cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// What a request needs permission for; bearer tokens are cached per scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `/v2/` itself: no scope.
    None,
    Catalog,
    Pull(String),
    Push(String),
}

impl Scope {
    /// The `scope` parameter of a token request.
    pub fn token_scope(&self) -> Option<String> {
        match self {
            Scope::None => None,
            Scope::Catalog => Some("registry:catalog:*".into()),
            Scope::Pull(r) => Some(format!("repository:{r}:pull")),
            Scope::Push(r) => Some(format!("repository:{r}:pull,push")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer { realm: String, service: Option<String>, scope: Option<String> },
}

/// Parses the first Basic or Bearer challenge of a `WWW-Authenticate` value, e.g.
/// `Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    let params = parse_params(rest);
    let get = |k: &str| params.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());
    if scheme.eq_ignore_ascii_case("basic") {
        Some(Challenge::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Challenge::Bearer { realm: get("realm")?, service: get("service"), scope: get("scope") })
    } else {
        None
    }
}

/// `k="v", k2=v2` with quoted strings that may contain commas and backslash escapes.
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() {
            break;
        }
        if chars.next() != Some('=') {
            continue;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((name.trim().to_string(), value.trim().to_string()));
    }
    out
}

/// Longest a bearer token is kept, whatever `expires_in` says.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Clone)]
pub struct BearerToken {
    pub value: String,
    pub expires: Instant,
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

/// The response of a token endpoint (docker's `token`, OAuth2's `access_token`).
#[derive(serde::Deserialize)]
pub struct TokenReply {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// OAuth2 servers may hand one out unasked; never used, but a secret all the same.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

impl TokenReply {
    /// Every secret in the reply, to be scrubbed from anything shown later.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        [&self.token, &self.access_token, &self.refresh_token].into_iter().flatten().map(String::as_str)
    }

    pub fn into_token(self) -> Option<BearerToken> {
        let value = self.token.filter(|t| !t.is_empty()).or(self.access_token.filter(|t| !t.is_empty()))?;
        // The distribution spec's default lifetime is 60 s; renew a little early. The server's
        // number is capped: `Instant + u64::MAX seconds` overflows (a panic), and a token the
        // registry stops honouring earlier is refused with a 401 and fetched again anyway.
        let secs = self.expires_in.unwrap_or(60).clamp(10, MAX_TOKEN_LIFETIME.as_secs());
        Some(BearerToken { value, expires: Instant::now() + Duration::from_secs(secs) - Duration::from_secs(5) })
    }
}

type TokenCell = Arc<OnceCell<BearerToken>>;

/// Bearer tokens by scope; one token request per scope even under concurrent callers.
#[derive(Default)]
pub struct TokenCache {
    cells: Mutex<HashMap<Scope, TokenCell>>,
}

impl TokenCache {
    pub fn cell(&self, scope: &Scope) -> TokenCell {
        let mut cells = self.cells.lock().expect("token cache lock");
        let cell = cells.entry(scope.clone()).or_default();
        if cell.get().is_some_and(|t| t.expires <= Instant::now()) {
            *cell = Arc::default();
        }
        cell.clone()
    }

    /// Drops a token the registry refused, unless another caller already replaced it.
    pub fn forget(&self, scope: &Scope, stale: &TokenCell) {
        let mut cells = self.cells.lock().expect("token cache lock");
        if cells.get(scope).is_some_and(|c| Arc::ptr_eq(c, stale)) {
            cells.remove(scope);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        assert_eq!(parse_challenge(r#"Basic realm="test-realm""#), Some(Challenge::Basic));
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="http://127.0.0.1:5004/token",service="test registry",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:5004/token".into(),
                service: Some("test registry".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"bearer realm=https://x/t, error="invalid_token""#),
            Some(Challenge::Bearer { realm: "https://x/t".into(), service: None, scope: None })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Negotiate abc"), None);
        assert_eq!(Scope::Catalog.token_scope().as_deref(), Some("registry:catalog:*"));
    }

    #[test]
    fn a_lifetime_past_what_an_instant_holds_is_capped() {
        let reply =
            TokenReply { token: Some("t".into()), access_token: None, expires_in: Some(u64::MAX), refresh_token: None };
        let t = reply.into_token().unwrap();
        assert!(t.expires <= Instant::now() + MAX_TOKEN_LIFETIME);
    }
}
