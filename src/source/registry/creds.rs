//! Credentials: the command line, else docker's `config.json` (`auths`, `credHelpers`, `credsStore`).
//!
//! Secrets never appear in `Debug` output or error strings: the types below redact themselves and
//! helper failures are reported without their output.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

use crate::error::{Error, Result};

/// A secret for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken` in config.json, `<token>` user of a helper).
    IdentityToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
        }
    }
}

impl Credential {
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Credential::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Credential::IdentityToken(_) => None,
        }
    }

    /// Strings that must never appear in anything we show.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            Credential::Basic { password, .. } => vec![password.as_str()],
            Credential::IdentityToken(t) => vec![t.as_str()],
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::HashMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: std::collections::HashMap<String, String>,
}

#[derive(Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

impl std::fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthEntry(<redacted>)")
    }
}

/// The directory holding `config.json`: the option, else `$DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("DOCKER_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    directories::BaseDirs::new().map(|b| b.home_dir().join(".docker"))
}

/// Docker keys Hub credentials by its legacy v1 URL.
fn server_key(host: &str) -> String {
    if host == crate::reference::DOCKER_HUB || host == "registry-1.docker.io" || host == "index.docker.io" {
        "https://index.docker.io/v1/".to_string()
    } else {
        host.to_string()
    }
}

/// `auths` keys come as `host`, `host:port`, `https://host/` or `http://host/v1/`.
fn key_host(key: &str) -> &str {
    let k = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// Looks `host` up in docker's config. `Ok(None)` when nothing is configured for it.
pub fn from_docker_config(dir: &Path, host: &str) -> Result<Option<Credential>> {
    let path = dir.join("config.json");
    let raw = match std::fs::read(&path) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let config: DockerConfig = serde_json::from_slice(&raw)
        // serde's message may quote a value, which could be a secret: keep only the position.
        .map_err(|e| Error::malformed(path.display().to_string(), format!("invalid JSON at line {}", e.line())))?;
    let key = server_key(host);
    if let Some(helper) = config.cred_helpers.get(&key).or_else(|| config.cred_helpers.get(host)) {
        return run_helper(helper, &key);
    }
    let entry = config.auths.get(&key).or_else(|| {
        let wanted = key_host(&key);
        config.auths.iter().find(|(k, _)| key_host(k) == wanted).map(|(_, v)| v)
    });
    if let Some(entry) = entry {
        if let Some(tok) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
            return Ok(Some(Credential::IdentityToken(tok.to_string())));
        }
        if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    Error::malformed(path.display().to_string(), format!("auths[{key}].auth is not base64"))
                })?;
            let (u, p) = decoded.split_once(':').ok_or_else(|| {
                Error::malformed(path.display().to_string(), format!("auths[{key}].auth is not user:password"))
            })?;
            return Ok(Some(Credential::Basic { username: u.to_string(), password: p.to_string() }));
        }
        if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
            return Ok(Some(Credential::Basic { username: u.clone(), password: p.clone() }));
        }
    }
    match &config.creds_store {
        Some(store) if !store.is_empty() => run_helper(store, &key),
        _ => Ok(None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperReply {
    username: String,
    secret: String,
}

/// Runs `docker-credential-NAME get` with the server on stdin, as docker does.
fn run_helper(name: &str, server: &str) -> Result<Option<Credential>> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err(Error::Usage(format!("invalid credential helper name {:?}", crate::sanitize::clip(name, 60))));
    }
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::Usage(format!("cannot run credential helper {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| Error::Usage(format!("credential helper {program}: {e}")))?;
    if !out.status.success() {
        // The helper protocol reports "credentials not found" as a failure; that means anonymous.
        return Ok(None);
    }
    let reply: HelperReply = serde_json::from_slice(&out.stdout)
        .map_err(|_| Error::malformed(format!("output of {program}"), "not the JSON of the helper protocol"))?;
    if reply.username == "<token>" {
        Ok(Some(Credential::IdentityToken(reply.secret)))
    } else {
        Ok(Some(Credential::Basic { username: reply.username, password: reply.secret }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auths_and_redacts() {
        let dir = tempfile::tempdir().unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret-pw");
        std::fs::write(
            dir.path().join("config.json"),
            format!(
                r#"{{"auths":{{"https://reg.example:5000/":{{"auth":"{auth}"}},"tok.example":{{"identitytoken":"rt-123"}}}}}}"#
            ),
        )
        .unwrap();
        let c = from_docker_config(dir.path(), "reg.example:5000").unwrap().unwrap();
        assert_eq!(c, Credential::Basic { username: "alice".into(), password: "s3cret-pw".into() });
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(
            from_docker_config(dir.path(), "tok.example").unwrap(),
            Some(Credential::IdentityToken("rt-123".into()))
        );
        assert_eq!(from_docker_config(dir.path(), "other.example").unwrap(), None);
        assert_eq!(server_key("docker.io"), "https://index.docker.io/v1/");
    }

    #[test]
    fn bad_json_does_not_echo_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), r#"{"auths":{"x":{"auth": hunter2}}}"#).unwrap();
        let e = from_docker_config(dir.path(), "x").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
