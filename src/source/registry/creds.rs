//! Credentials: the command line, else docker's `config.json` (`auths`, `credHelpers`, `credsStore`).
//!
//! Secrets never appear in `Debug` output or error strings: the types below redact themselves and
//! helper failures are reported without their output.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::fsread::{MAX_CONFIG_BYTES, Symlinks};

/// How long a credential helper may take. Long enough for a keychain's unlock prompt to be
/// answered by a person; a helper that hangs must not hang sigscope with it.
pub const HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest answer read from a credential helper: its JSON is a few hundred bytes.
const MAX_HELPER_OUTPUT: u64 = MAX_CONFIG_BYTES;

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

/// Where registry credentials come from. Docker's config is one source; ECR's
/// GetAuthorizationToken will be another. Called on the blocking pool: a source may run a
/// process (docker's credential helpers) or do I/O.
pub trait CredentialSource: Send + Sync {
    /// What this source calls itself in messages (`docker config.json in ~/.docker`).
    fn name(&self) -> String;
    /// The credential for `host`; `Ok(None)` when this source has none for it.
    fn credential_for(&self, host: &str) -> Result<Option<Credential>>;
}

/// Docker's `config.json` (`auths`, `credsStore`, `credHelpers`).
pub struct DockerConfigFile {
    /// `None`: `$DOCKER_CONFIG`, else `~/.docker`.
    pub dir: Option<PathBuf>,
}

impl CredentialSource for DockerConfigFile {
    fn name(&self) -> String {
        match docker_config_dir(self.dir.as_deref()) {
            Some(d) => format!("docker config.json in {}", d.display()),
            None => "docker config.json (no home directory)".into(),
        }
    }

    fn credential_for(&self, host: &str) -> Result<Option<Credential>> {
        match docker_config_dir(self.dir.as_deref()) {
            Some(dir) => from_docker_config(&dir, host),
            None => Ok(None),
        }
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
    if host == crate::oci::reference::DOCKER_HUB || host == "registry-1.docker.io" || host == "index.docker.io" {
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
    from_docker_config_within(dir, host, HELPER_TIMEOUT)
}

/// [`from_docker_config`], with a credential helper given at most `helper_timeout`.
pub fn from_docker_config_within(dir: &Path, host: &str, helper_timeout: Duration) -> Result<Option<Credential>> {
    let path = dir.join("config.json");
    // Bounded, and a FIFO or a device is refused without blocking or reading. Symlinks are
    // followed: config.json is often linked into place, and docker follows them too.
    let Some(raw) = crate::fsread::read_optional(&path, MAX_CONFIG_BYTES, Symlinks::Follow)? else {
        return Ok(None);
    };
    let config: DockerConfig = serde_json::from_slice(&raw)
        // serde's message may quote a value, which could be a secret: keep only the position.
        .map_err(|e| Error::malformed(path.display().to_string(), format!("invalid JSON at line {}", e.line())))?;
    let key = server_key(host);
    if let Some(helper) = config.cred_helpers.get(&key).or_else(|| config.cred_helpers.get(host)) {
        return run_helper(helper, &key, helper_timeout);
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
        Some(store) if !store.is_empty() => run_helper(store, &key, helper_timeout),
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
fn run_helper(name: &str, server: &str, timeout: Duration) -> Result<Option<Credential>> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err(Error::Usage(format!("invalid credential helper name {:?}", crate::sanitize::clip(name, 60))));
    }
    let program = format!("docker-credential-{name}");
    ask_helper(Command::new(&program), &program, server, timeout)
}

/// Asks `command` (a credential helper, `get` added here) for the credential of `server`.
fn ask_helper(mut command: Command, program: &str, server: &str, timeout: Duration) -> Result<Option<Credential>> {
    command.arg("get");
    let (status, stdout) =
        run_bounded(command, server.as_bytes(), timeout, MAX_HELPER_OUTPUT).map_err(|e| match e {
            HelperFailure::Spawn(e) => Error::Usage(format!("cannot run credential helper {program}: {e}")),
            HelperFailure::Io(e) => Error::Usage(format!("credential helper {program}: {e}")),
            HelperFailure::TimedOut => Error::Usage(format!(
                "credential helper {program} did not answer within {} s and was stopped; check that `{program} get` \
             works, or pass --username with --password-stdin",
                timeout.as_secs_f32()
            )),
            HelperFailure::TooMuch => Error::TooLarge {
                what: format!("output of {program}"),
                size: MAX_HELPER_OUTPUT + 1,
                limit: MAX_HELPER_OUTPUT,
            },
        })?;
    if !status.success() {
        // The helper protocol reports "credentials not found" as a failure; that means anonymous.
        return Ok(None);
    }
    let reply: HelperReply = serde_json::from_slice(&stdout)
        .map_err(|_| Error::malformed(format!("output of {program}"), "not the JSON of the helper protocol"))?;
    if reply.username == "<token>" {
        Ok(Some(Credential::IdentityToken(reply.secret)))
    } else {
        Ok(Some(Credential::Basic { username: reply.username, password: reply.secret }))
    }
}

#[derive(Debug)]
enum HelperFailure {
    Spawn(std::io::Error),
    Io(std::io::Error),
    TimedOut,
    TooMuch,
}

/// Runs `command` with `input` on stdin; returns its status and stdout, at most `limit` bytes,
/// within `timeout`. A child that overruns either is killed. Its stderr is dropped: helpers may
/// print secrets there.
fn run_bounded(
    mut command: Command,
    input: &[u8],
    timeout: Duration,
    limit: u64,
) -> std::result::Result<(ExitStatus, Vec<u8>), HelperFailure> {
    let deadline = Instant::now() + timeout;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(HelperFailure::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A server name fits in the pipe's buffer, so this does not wait for the child; a child
        // that exits without reading is not an error (it answers, or fails, on its own).
        let _ = stdin.write_all(input);
    }
    let stdout = child.stdout.take().expect("stdout is piped");
    // Read on a thread so the deadline holds even while the child writes nothing. If the child
    // is killed but left a grandchild holding the pipe, that thread ends when the grandchild does.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let read = stdout.take(limit.saturating_add(1)).read_to_end(&mut buf).map(|_| buf);
        let _ = tx.send(read);
    });
    let stop = |child: &mut std::process::Child, why: HelperFailure| {
        let _ = child.kill();
        let _ = child.wait();
        Err(why)
    };
    let output = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Ok(buf)) if buf.len() as u64 > limit => return stop(&mut child, HelperFailure::TooMuch),
        Ok(Ok(buf)) => buf,
        Ok(Err(e)) => return stop(&mut child, HelperFailure::Io(e)),
        Err(_) => return stop(&mut child, HelperFailure::TimedOut),
    };
    // Its stdout is closed; it exits next, unless it lingers (then the deadline stops it).
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok((status, output)),
            Ok(None) if Instant::now() >= deadline => return stop(&mut child, HelperFailure::TimedOut),
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return stop(&mut child, HelperFailure::Io(e)),
        }
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

    /// An executable shell script in `dir`.
    #[cfg(unix)]
    fn script(dir: &Path, name: &str, body: &str) -> Command {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Command::new(path)
    }

    #[cfg(unix)]
    #[test]
    fn helper_answers_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let ok = script(dir.path(), "ok", r#"read s; echo "{\"Username\":\"u\",\"Secret\":\"pw-for-$s\"}""#);
        let c = ask_helper(ok, "ok", "reg.example", Duration::from_secs(20)).unwrap();
        assert_eq!(c, Some(Credential::Basic { username: "u".into(), password: "pw-for-reg.example".into() }));
        let missing = script(dir.path(), "missing", "echo 'credentials not found in native keychain'; exit 1");
        assert_eq!(ask_helper(missing, "missing", "reg.example", Duration::from_secs(20)).unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_hanging_helper_is_stopped_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        // exec: the process killed is the one that hangs, not a shell in front of it.
        let hang = script(dir.path(), "hang", "exec sleep 600");
        let start = Instant::now();
        let e = ask_helper(hang, "docker-credential-hang", "reg.example", Duration::from_secs(1)).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(20), "took {:?}", start.elapsed());
        let e = e.to_string();
        assert!(e.contains("docker-credential-hang did not answer within 1 s and was stopped"), "{e}");
        // One that answers but does not exit is stopped too, and its answer not used.
        let linger = script(dir.path(), "linger", r#"echo '{"Username":"u","Secret":"s"}'; exec sleep 600 >&-"#);
        let e = ask_helper(linger, "docker-credential-linger", "reg.example", Duration::from_secs(1)).unwrap_err();
        assert!(e.to_string().contains("did not answer within"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_flooding_helper_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let flood = script(dir.path(), "flood", "exec cat /dev/zero");
        let e = ask_helper(flood, "docker-credential-flood", "reg.example", Duration::from_secs(20)).unwrap_err();
        assert!(matches!(e, Error::TooLarge { limit: MAX_HELPER_OUTPUT, .. }), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn config_json_that_is_a_fifo_or_a_device_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        assert!(Command::new("mkfifo").arg(&path).status().unwrap().success());
        let e = from_docker_config(dir.path(), "x").unwrap_err().to_string();
        assert!(e.contains("config.json") && e.contains("FIFO"), "{e}");
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let e = from_docker_config(dir.path(), "x").unwrap_err().to_string();
        assert!(e.contains("config.json") && e.contains("character device"), "{e}");
    }

    #[test]
    fn bad_json_does_not_echo_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), r#"{"auths":{"x":{"auth": hunter2}}}"#).unwrap();
        let e = from_docker_config(dir.path(), "x").unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
