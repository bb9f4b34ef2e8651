//! Image references and command-line targets: parse, normalise, print.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::oci::check_digest_syntax;

pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// What the user asked to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Target {
    /// A whole registry, listed through `/v2/_catalog`.
    Registry { host: String },
    /// Every tag of one repository.
    Repository { host: String, repository: String },
    /// One image by tag and/or digest.
    Image(ImageRef),
    /// An OCI image layout directory, optionally narrowed to a tag or digest.
    Layout { path: PathBuf, tag: Option<String>, digest: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ImageRef {
    pub host: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// The tag or digest to ask the registry for; the digest wins when both are given.
    pub fn reference(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// Host to connect to: Docker Hub's API host differs from its name.
    pub fn api_host(&self) -> &str {
        api_host(&self.host)
    }
}

pub fn api_host(host: &str) -> &str {
    if host == DOCKER_HUB { DOCKER_HUB_API } else { host }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.host, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Registry { host } => f.write_str(host),
            Target::Repository { host, repository } => write!(f, "{host}/{repository}"),
            Target::Image(r) => r.fmt(f),
            Target::Layout { path, tag, digest } => {
                write!(f, "{}", path.display())?;
                if let Some(t) = tag {
                    write!(f, ":{t}")?;
                }
                if let Some(d) = digest {
                    write!(f, "@{d}")?;
                }
                Ok(())
            }
        }
    }
}

fn looks_like_host(s: &str) -> bool {
    s.contains('.') || s.contains(':') || s == "localhost" || s.starts_with('[')
}

pub fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn valid_repository(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 255
        && r.split('/').all(|part| {
            !part.is_empty()
                && part.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-'))
                && part.as_bytes()[0].is_ascii_alphanumeric()
                && part.as_bytes()[part.len() - 1].is_ascii_alphanumeric()
        })
}

fn split_tag_digest(s: &str) -> Result<(&str, Option<String>, Option<String>)> {
    let (rest, digest) = match s.rsplit_once('@') {
        Some((r, d)) => {
            check_digest_syntax(d).map_err(|_| Error::Usage(format!("invalid digest {d:?} in {s:?}")))?;
            (r, Some(d.to_string()))
        }
        None => (s, None),
    };
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    match rest[last_slash..].rfind(':') {
        Some(i) => {
            let tag = &rest[last_slash + i + 1..];
            if !valid_tag(tag) {
                return Err(Error::Usage(format!("invalid tag {tag:?} in {s:?}")));
            }
            Ok((&rest[..last_slash + i], Some(tag.to_string()), digest))
        }
        None => Ok((rest, None, digest)),
    }
}

/// Parses a registry TARGET: `host[:port]`, `host/repo`, `host/repo:tag`, `host/repo@sha256:…`.
/// Names without a registry host are Docker Hub names (`alpine` → `docker.io/library/alpine`).
pub fn parse_target(s: &str) -> Result<Target> {
    let s = s.trim();
    let s = s.strip_prefix("oci://").unwrap_or(s);
    if s.is_empty() {
        return Err(Error::Usage("empty target".into()));
    }
    if !s.contains('/') && looks_like_host(s) && !s.contains('@') {
        // `host:port` and `name:tag` look alike; a port is all digits.
        let is_registry = match s.rsplit_once(':') {
            Some((_, port)) => port.bytes().all(|b| b.is_ascii_digit()),
            None => true,
        };
        if is_registry {
            return Ok(Target::Registry { host: s.to_string() });
        }
    }
    let (name, tag, digest) = split_tag_digest(s)?;
    let (host, repository) = match name.split_once('/') {
        Some((h, r)) if looks_like_host(h) => (h.to_string(), r.to_string()),
        Some(_) => (DOCKER_HUB.to_string(), name.to_string()),
        None => (DOCKER_HUB.to_string(), format!("library/{name}")),
    };
    if !valid_repository(&repository) {
        return Err(Error::Usage(format!(
            "invalid repository name {repository:?}: lower-case letters, digits and . _ - separated by /"
        )));
    }
    if tag.is_none() && digest.is_none() && name.contains('/') && looks_like_host(name.split('/').next().unwrap_or(""))
    {
        return Ok(Target::Repository { host, repository });
    }
    Ok(Target::Image(ImageRef {
        host,
        repository,
        tag: if tag.is_none() && digest.is_none() { Some("latest".into()) } else { tag },
        digest,
    }))
}

/// Parses an `--oci-layout` TARGET: `PATH[:tag|@digest]`, as oras and notation accept it.
pub fn parse_layout_target(s: &str) -> Result<Target> {
    if s.is_empty() {
        return Err(Error::Usage("empty layout path".into()));
    }
    // A path that exists as given wins, so directories with ':' in their name still work.
    if std::path::Path::new(s).is_dir() {
        return Ok(Target::Layout { path: s.into(), tag: None, digest: None });
    }
    let (path, tag, digest) = split_tag_digest(s)?;
    Ok(Target::Layout { path: path.into(), tag, digest })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(s: &str) -> ImageRef {
        match parse_target(s).unwrap() {
            Target::Image(r) => r,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn registries_and_repositories() {
        assert_eq!(parse_target("localhost:5000").unwrap(), Target::Registry { host: "localhost:5000".into() });
        assert_eq!(parse_target("ghcr.io").unwrap(), Target::Registry { host: "ghcr.io".into() });
        assert_eq!(
            parse_target("127.0.0.1:5000/demo/app").unwrap(),
            Target::Repository { host: "127.0.0.1:5000".into(), repository: "demo/app".into() }
        );
    }

    #[test]
    fn images() {
        let r = image("127.0.0.1:5000/demo/app:v1");
        assert_eq!(
            (r.host.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "demo/app", Some("v1"))
        );
        let d = format!("sha256:{}", "a".repeat(64));
        let r = image(&format!("reg.io/app@{d}"));
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.reference(), d);
        let r = image("alpine");
        assert_eq!(
            (r.host.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("docker.io", "library/alpine", Some("latest"))
        );
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(image("alpine:3.20").tag.as_deref(), Some("3.20"));
        assert_eq!(image("reg.io/app:v1").to_string(), "reg.io/app:v1");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse_target("reg.io/App").is_err());
        assert!(parse_target("reg.io/app@sha256:xyz").is_err());
        assert!(parse_target("reg.io/app:bad\x1btag").is_err());
        assert!(parse_target("").is_err());
    }

    #[test]
    fn layouts() {
        let d = format!("sha256:{}", "b".repeat(64));
        assert_eq!(
            parse_layout_target(&format!("./no-such-dir@{d}")).unwrap(),
            Target::Layout { path: "./no-such-dir".into(), tag: None, digest: Some(d) }
        );
        assert_eq!(
            parse_layout_target("out/layout:v1").unwrap(),
            Target::Layout { path: "out/layout".into(), tag: Some("v1".into()), digest: None }
        );
    }
}
