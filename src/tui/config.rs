//! `config.toml`: theme, mouse and key bindings. A bad file never stops the TUI: the error (file
//! and line) is shown in the status line and the defaults are kept.
//!
//! ```toml
//! theme = "light"
//! mouse = false
//! read_only = true   # as --read-only, for the TUI and for `sigscope sign`
//! [[signing.key]]    # offered by the sign dialog (s)
//! name = "release"
//! key = "/keys/release.key"
//! cert = "/keys/release-chain.pem"
//! envelope = "cose"  # or "jws" (the default)
//! [[signing.key]]    # an AWS Signer profile, by name (with region) or ARN; JWS only
//! name = "prod"
//! aws_signer_profile = "arn:aws:signer:us-west-2:123456789012:/signing-profiles/prod"
//! [signing.aws_signer] # list the account's Notation signing profiles in the dialog
//! region = "us-west-2" # default: the AWS chain's (ECR targets list them in their region)
//! [keys]
//! down = ["j", "J"]
//! [colors]
//! digest = "magenta bold"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::sign::pipeline::EnvelopeFormat;

use super::keymap::{Key, Keymap};
use super::theme::{ThemeToken, parse_style};

pub const FILE_NAME: &str = "config.toml";
pub const ENV_FILE: &str = "SIGSCOPE_CONFIG";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub theme: Option<String>,
    pub mouse: Option<bool>,
    /// `--read-only` for good: nothing outside sigscope is changed.
    pub read_only: bool,
    /// `[[signing.key]]`: the keys the sign dialog offers, in file order.
    pub signing_keys: Vec<SigningKey>,
    /// `[signing.aws_signer]`: list AWS Signer's profiles in the sign dialog.
    pub aws_signer: Option<AwsSignerListing>,
    pub keymap: Keymap,
    /// Token overrides applied over whichever theme is active.
    pub colors: Vec<(ThemeToken, ratatui::style::Style)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based; 0 when the error is about the file as a whole (unreadable).
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.path.display(), self.message),
            line => write!(f, "{}:{line}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    theme: Option<String>,
    mouse: Option<bool>,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    signing: RawSigning,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    colors: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSigning {
    #[serde(default)]
    key: Vec<Spanned<RawKey>>,
    aws_signer: Option<Spanned<RawAwsSigner>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    name: String,
    key: Option<PathBuf>,
    cert: Option<PathBuf>,
    aws_signer_profile: Option<String>,
    region: Option<String>,
    envelope: Option<String>,
    timestamp_url: Option<String>,
    timestamp_root_cert: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAwsSigner {
    region: Option<String>,
}

/// Where the sign dialog lists AWS Signer's Notation profiles (ListSigningProfiles).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsSignerListing {
    /// `None`: the AWS chain's region.
    pub region: Option<String>,
}

/// A signing key the sign dialog offers: where its files are (read when it signs, off the UI
/// thread), or the demo's own key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub name: String,
    pub source: KeySource,
    pub envelope: EnvelopeFormat,
    /// An RFC 3161 TSA to countersign with, and the PEM file of the roots its answer must
    /// chain to (`timestamp_url`, `timestamp_root_cert`: both or neither).
    pub timestamp: Option<(String, PathBuf)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Files {
        key: PathBuf,
        cert: PathBuf,
    },
    /// The built-in demo's signing key (its root is in the demo's trust store).
    Demo,
    /// An AWS Signer signing profile: a name (in `region`, else the AWS chain's) or a profile
    /// ARN, checked when it signs.
    AwsSigner {
        profile: String,
        region: Option<String>,
    },
}

/// Where to look, in order: `$SIGSCOPE_CONFIG` (a file), `$XDG_CONFIG_HOME/sigscope`,
/// `~/.config/sigscope` (macOS users expect it there too), then the platform's config dir.
pub fn candidates() -> Vec<PathBuf> {
    if let Some(file) = std::env::var_os(ENV_FILE).filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(file)];
    }
    let mut dirs = Vec::new();
    if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(xdg).join("sigscope"));
    }
    if let Some(home) = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()) {
        dirs.push(home.join(".config").join("sigscope"));
    }
    if let Some(p) = directories::ProjectDirs::from("", "", "sigscope") {
        dirs.push(p.config_dir().to_path_buf());
    }
    let mut files: Vec<PathBuf> = dirs.into_iter().map(|d| d.join(FILE_NAME)).collect();
    files.dedup();
    files
}

/// Loads the first config file that exists. Missing everywhere is not an error.
pub fn load() -> (Config, Option<ConfigError>) {
    let explicit = std::env::var_os(ENV_FILE).is_some_and(|v| !v.is_empty());
    for path in candidates() {
        match read(&path) {
            Ok(Some(text)) => return load_str(&path, &text),
            Ok(None) if !explicit => continue,
            Ok(None) => return (Config::default(), Some(unreadable(&path, "no such file".into()))),
            Err(e) => return (Config::default(), Some(e)),
        }
    }
    (Config::default(), None)
}

/// Loads one config file; a missing file is an error here (the user named it).
pub fn load_file(path: &Path) -> (Config, Option<ConfigError>) {
    match read(path) {
        Ok(Some(text)) => load_str(path, &text),
        Ok(None) => (Config::default(), Some(unreadable(path, "no such file".into()))),
        Err(e) => (Config::default(), Some(e)),
    }
}

fn unreadable(path: &Path, why: String) -> ConfigError {
    ConfigError { path: path.to_path_buf(), line: 0, message: format!("cannot read: {why}") }
}

/// The file's text; `None` when it does not exist. A FIFO or a device is refused without
/// blocking or reading, and the file is bounded: a bad config never stops the TUI.
fn read(path: &Path) -> Result<Option<String>, ConfigError> {
    use crate::fsread::{MAX_CONFIG_BYTES, Symlinks, read_optional};
    // `SIGSCOPE_CONFIG=/dev/null` is the usual way to say "no configuration": an empty file,
    // not a device refused (which would leave the session read-only).
    if path == Path::new("/dev/null") {
        return Ok(Some(String::new()));
    }
    // Symlinks are followed: dotfile managers link config files into place.
    let Some(bytes) =
        read_optional(path, MAX_CONFIG_BYTES, Symlinks::Follow).map_err(|e| unreadable(path, e.reason()))?
    else {
        return Ok(None);
    };
    String::from_utf8(bytes).map(Some).map_err(|e| unreadable(path, format!("not UTF-8 text ({})", e.utf8_error())))
}

/// Parses `text` (read from `path`); on any error returns the defaults and the error.
pub fn load_str(path: &Path, text: &str) -> (Config, Option<ConfigError>) {
    match parse(path, text) {
        Ok(c) => (c, None),
        Err(e) => (Config::default(), Some(e)),
    }
}

fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let err = |span: Option<std::ops::Range<usize>>, message: String| ConfigError {
        path: path.to_path_buf(),
        line: span.map(|s| line_of(text, s.start)).unwrap_or(0),
        message,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| err(e.span(), one_line(e.message())))?;
    let mut keymap = Keymap::default();
    for (name, keys) in &raw.keys {
        let parsed = keys
            .get_ref()
            .iter()
            .map(|k| {
                Key::parse(k.get_ref()).map_err(|m| err(Some(k.span()), format!("[keys] {}: {m}", name.get_ref())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        keymap.set(name.get_ref(), parsed).map_err(|m| err(Some(name.span()), format!("[keys] {m}")))?;
    }
    let mut colors = Vec::new();
    for (name, spec) in &raw.colors {
        let token = ThemeToken::from_name(name.get_ref())
            .ok_or_else(|| err(Some(name.span()), format!("[colors] unknown token {:?}", name.get_ref())))?;
        let style = parse_style(spec.get_ref()).map_err(|m| err(Some(spec.span()), format!("[colors] {m}")))?;
        colors.push((token, style));
    }
    let mut signing_keys = Vec::new();
    for k in raw.signing.key {
        let span = k.span();
        let k = k.into_inner();
        let envelope = match k.envelope.as_deref() {
            None | Some("jws") => EnvelopeFormat::Jws,
            Some("cose") if k.aws_signer_profile.is_none() => EnvelopeFormat::Cose,
            Some("cose") => {
                return Err(err(Some(span), format!("[[signing.key]] {}: AWS Signer returns JWS only", k.name)));
            }
            Some(other) => {
                return Err(err(Some(span), format!("[[signing.key]] {}: envelope {other:?} is jws or cose", k.name)));
            }
        };
        let timestamp = match (k.timestamp_url, k.timestamp_root_cert) {
            (None, None) => None,
            (Some(url), Some(root)) if url.starts_with("http://") || url.starts_with("https://") => Some((url, root)),
            (Some(url), Some(_)) => {
                let why =
                    format!("[[signing.key]] {}: timestamp_url {url:?} is not an http:// or https:// URL", k.name);
                return Err(err(Some(span), why));
            }
            _ => {
                let why = format!("[[signing.key]] {}: timestamp_url and timestamp_root_cert go together", k.name);
                return Err(err(Some(span), why));
            }
        };
        let source = match (k.key, k.cert, k.aws_signer_profile) {
            (Some(key), Some(cert), None) if k.region.is_none() => KeySource::Files { key, cert },
            (None, None, Some(profile)) if timestamp.is_none() => {
                if let Err(e) = crate::sign::aws_signer::ProfileRef::parse(&profile) {
                    return Err(err(Some(span), format!("[[signing.key]] {}: {e}", k.name)));
                }
                if let Some(r) = k.region.as_deref().filter(|r| !crate::sign::aws_signer::valid_region(r)) {
                    return Err(err(
                        Some(span),
                        format!("[[signing.key]] {}: region {r:?} is not a region name", k.name),
                    ));
                }
                KeySource::AwsSigner { profile, region: k.region }
            }
            (None, None, Some(_)) => {
                let why = format!("[[signing.key]] {}: AWS Signer profiles take no timestamp settings", k.name);
                return Err(err(Some(span), why));
            }
            _ => {
                let why = format!(
                    "[[signing.key]] {}: give key and cert (a local key), or aws_signer_profile (with region if it \
                     is a name)",
                    k.name
                );
                return Err(err(Some(span), why));
            }
        };
        signing_keys.push(SigningKey { name: k.name, source, envelope, timestamp });
    }
    let aws_signer = match raw.signing.aws_signer {
        None => None,
        Some(a) => {
            let span = a.span();
            let a = a.into_inner();
            if let Some(r) = a.region.as_deref().filter(|r| !crate::sign::aws_signer::valid_region(r)) {
                return Err(err(Some(span), format!("[signing.aws_signer] region {r:?} is not a region name")));
            }
            Some(AwsSignerListing { region: a.region })
        }
    };
    Ok(Config {
        theme: raw.theme,
        mouse: raw.mouse,
        read_only: raw.read_only,
        signing_keys,
        aws_signer,
        keymap,
        colors,
    })
}

/// toml's messages span lines; the status bar has one.
fn one_line(message: &str) -> String {
    message.trim().lines().map(str::trim).collect::<Vec<_>>().join("; ")
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::{Action, Focus};

    fn p() -> &'static Path {
        Path::new("/cfg/config.toml")
    }

    #[test]
    fn good_config_overrides_keys_theme_and_colors() {
        let text = "theme = \"light\"\nmouse = false\n[keys]\ndown = [\"J\"]\n[colors]\ndigest = \"magenta\"\n";
        let (c, e) = load_str(p(), text);
        assert_eq!(e, None);
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert_eq!(c.mouse, Some(false));
        assert_eq!(c.keymap.lookup(Key::parse("J").unwrap(), Focus::Tree), Some(Action::Down));
        assert_eq!(c.colors.len(), 1);
    }

    #[test]
    fn signing_keys_with_envelope_and_timestamp_and_their_errors() {
        let text = "[[signing.key]]\nname = \"a\"\nkey = \"/k\"\ncert = \"/c\"\n\
                    [[signing.key]]\nname = \"b\"\nkey = \"/k2\"\ncert = \"/c2\"\nenvelope = \"cose\"\n\
                    timestamp_url = \"http://tsa.test/tsr\"\ntimestamp_root_cert = \"/tsa.pem\"\n";
        let (c, e) = load_str(p(), text);
        assert_eq!(e, None);
        assert_eq!(c.signing_keys.len(), 2);
        assert_eq!(c.signing_keys[0].timestamp, None);
        assert_eq!(c.signing_keys[1].envelope, EnvelopeFormat::Cose);
        assert_eq!(c.signing_keys[1].timestamp, Some(("http://tsa.test/tsr".into(), PathBuf::from("/tsa.pem"))));
        let one = "[[signing.key]]\nname = \"a\"\nkey = \"/k\"\ncert = \"/c\"\ntimestamp_url = \"http://t\"\n";
        let (c, e) = load_str(p(), one);
        assert!(e.unwrap().message.contains("timestamp_url and timestamp_root_cert go together"));
        assert!(c.signing_keys.is_empty(), "a key with half a timestamp setting is not offered");
        let ftp = "[[signing.key]]\nname = \"a\"\nkey = \"/k\"\ncert = \"/c\"\n\
                   timestamp_url = \"ftp://t\"\ntimestamp_root_cert = \"/r\"\n";
        assert!(load_str(p(), ftp).1.unwrap().message.contains("not an http:// or https:// URL"));
    }

    #[test]
    fn aws_signer_keys_and_listing_and_their_errors() {
        let arn = "arn:aws:signer:us-west-2:123456789012:/signing-profiles/prod";
        let text = format!(
            "[[signing.key]]\nname = \"prod\"\naws_signer_profile = \"{arn}\"\n\
             [[signing.key]]\nname = \"dev\"\naws_signer_profile = \"dev_profile\"\nregion = \"eu-west-1\"\n\
             [signing.aws_signer]\nregion = \"us-west-2\"\n"
        );
        let (c, e) = load_str(p(), &text);
        assert_eq!(e, None);
        assert_eq!(c.signing_keys[0].source, KeySource::AwsSigner { profile: arn.into(), region: None });
        assert_eq!(
            c.signing_keys[1].source,
            KeySource::AwsSigner { profile: "dev_profile".into(), region: Some("eu-west-1".into()) }
        );
        assert_eq!(c.aws_signer, Some(AwsSignerListing { region: Some("us-west-2".into()) }));
        assert_eq!(load_str(p(), "[signing.aws_signer]\n").0.aws_signer, Some(AwsSignerListing { region: None }));
        for (bad, says) in [
            ("aws_signer_profile = \"x\"\n", "2 to 64"),
            ("aws_signer_profile = \"prod\"\nenvelope = \"cose\"\n", "JWS only"),
            ("aws_signer_profile = \"prod\"\nkey = \"/k\"\ncert = \"/c\"\n", "give key and cert"),
            ("aws_signer_profile = \"prod\"\nregion = \"US West\"\n", "not a region name"),
            ("key = \"/k\"\n", "give key and cert"),
            ("key = \"/k\"\ncert = \"/c\"\nregion = \"us-west-2\"\n", "give key and cert"),
        ] {
            let (c, e) = load_str(p(), &format!("[[signing.key]]\nname = \"k\"\n{bad}"));
            let e = e.unwrap_or_else(|| panic!("{bad} was accepted"));
            assert!(e.message.contains(says), "{bad}: {}", e.message);
            assert!(c.signing_keys.is_empty());
        }
        let e = load_str(p(), "[signing.aws_signer]\nregion = \"\"\n").1.unwrap();
        assert!(e.message.contains("not a region name"), "{}", e.message);
    }

    #[test]
    fn syntax_error_names_file_and_line_and_keeps_defaults() {
        let text = "theme = \"dark\"\n\n[keys]\ndown = [\"j\" \"k\"]\nup = [\"k\"]\n";
        let (c, e) = load_str(p(), text);
        let e = e.expect("error");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.to_string().starts_with("/cfg/config.toml:4: "), "{e}");
        assert_eq!(c, Config::default());
    }

    #[test]
    fn semantic_errors_point_at_their_line() {
        let (_, e) = load_str(p(), "[keys]\nquit = [\"q\"]\nfly = [\"f\"]\n");
        let e = e.unwrap();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("unknown action \"fly\""), "{e}");

        let (_, e) = load_str(p(), "[keys]\nquit = [\n  \"q\",\n  \"Hyper-q\",\n]\n");
        let e = e.unwrap();
        assert_eq!(e.line, 4, "{e}");

        let (_, e) = load_str(p(), "mouse = true\ncolour = 1\n");
        assert_eq!(e.unwrap().line, 2);

        let (_, e) = load_str(p(), "[colors]\ndigest = \"sparkly\"\n");
        assert_eq!(e.unwrap().line, 2);
    }

    #[test]
    fn sigscope_config_env_points_at_a_file() {
        // SAFETY of the env mutation: no other test in this crate reads SIGSCOPE_CONFIG.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mine.toml");
        std::fs::write(&file, "mouse = false\n").unwrap();
        unsafe { std::env::set_var(ENV_FILE, &file) };
        assert_eq!(candidates(), vec![file.clone()]);
        let (c, e) = load();
        unsafe { std::env::remove_var(ENV_FILE) };
        assert_eq!(e, None);
        assert_eq!(c.mouse, Some(false));
    }
}
