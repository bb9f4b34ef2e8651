//! TARGET → source: the one place that chooses a backend (a registry over HTTP, an ECR
//! registry, an OCI image layout on disk) for what the user typed, and says what in it was named. Knows no graph:
//! `open` turns what was named into root nodes.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::oci::reference::{Target, parse_layout_target, parse_target};
use crate::source::DynSource;
use crate::source::ecr::{EcrOptions, EcrSource, regions::EcrRegions};
use crate::source::layout::LayoutSource;
use crate::source::registry::{RegistryOptions, RegistrySource};

#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// TARGET is an OCI image layout directory.
    pub oci_layout: bool,
    pub registry: RegistryOptions,
    /// `--ecr` and the AWS settings of ECR registries (which any ECR TARGET uses too).
    pub ecr: EcrOptions,
}

impl ConnectOptions {
    /// What every AWS call (ECR, AWS Signer) is made with: `--profile`, `--ca-file`, the
    /// registry's timeouts (an attempt bounded like one registry request, a call with its
    /// retries by `--deadline`).
    pub fn aws_settings(&self) -> crate::error::Result<crate::aws::AwsSettings> {
        aws_settings_of(&self.registry, self.ecr.profile.clone())
    }
}

/// [`ConnectOptions::aws_settings`] from the registry options and the AWS profile.
pub fn aws_settings_of(
    registry: &crate::source::registry::RegistryOptions,
    profile: Option<String>,
) -> crate::error::Result<crate::aws::AwsSettings> {
    Ok(crate::aws::AwsSettings {
        profile,
        connect_timeout: registry.connect_timeout,
        attempt_timeout: registry.request_timeout,
        operation_timeout: registry.deadline,
        ca_bundle: registry.ca_file.as_deref().map(crate::aws::read_ca_bundle).transpose()?,
    })
}

impl ConnectOptions {}

/// What a TARGET names inside its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    /// A whole registry (its catalog).
    Registry { host: String },
    /// Every tag of a repository.
    Repository { repository: String },
    /// One manifest, by tag or by digest (a digest wins when both are given).
    Manifest { repository: String, tag: Option<String>, digest: Option<String> },
}

pub struct Connected {
    /// The TARGET as parsed, for titles and messages.
    pub target: String,
    pub source: DynSource,
    pub named: Named,
}

/// A TARGET that names a local directory was meant as a layout: say so (and where the layout
/// is, if it is one level down) rather than fail as a registry that cannot be reached.
fn local_path_hint(target: &str) -> Option<Error> {
    let Ok(Target::Layout { path, tag, digest }) = parse_layout_target(target) else { return None };
    let looks_local = ["/", "./", "../", "~"].iter().any(|p| target.starts_with(p)) || target == ".";
    let suffix = tag.map(|t| format!(":{t}")).or(digest.map(|d| format!("@{d}"))).unwrap_or_default();
    let dir = std::path::Path::new(&path);
    if dir.join("oci-layout").is_file() {
        return Some(Error::Usage(format!(
            "{target} is a local OCI image layout, not a registry: did you mean --oci-layout {}{suffix}?",
            dir.display()
        )));
    }
    if let Some(inner) = layout_below(dir) {
        return Some(Error::Usage(format!(
            "{target} is a local directory, not a registry; it holds an OCI image layout in {0}: did you mean \
             --oci-layout {0}{suffix}?",
            inner.display()
        )));
    }
    looks_local.then(|| {
        Error::Usage(format!(
            "{target} looks like a local path, not a registry reference (host/repository[:tag]); for an OCI \
             image layout pass --oci-layout PATH"
        ))
    })
}

/// The first directory one level below `dir` that holds an OCI image layout.
fn layout_below(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .take(1000)
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("oci-layout").is_file())
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Parses TARGET and sets up its source. Nothing is fetched yet, except a layout's
/// `index.json`, which is read when the layout is opened.
pub fn connect(target: &str, opts: &ConnectOptions) -> Result<Connected> {
    // `--ecr` stands for the TARGET; one typed later (`:open` in the TUI) is opened as usual.
    if opts.ecr.enabled && target.is_empty() {
        return connect_ecr(opts);
    }
    if !opts.oci_layout
        && let Some(hint) = local_path_hint(target)
    {
        return Err(hint);
    }
    let parsed = if opts.oci_layout { parse_layout_target(target)? } else { parse_target(target)? };
    if let Target::Layout { path, .. } = &parsed
        && !path.join("oci-layout").exists()
        && let Some(inner) = layout_below(path)
    {
        return Err(Error::Usage(format!(
            "{} holds no OCI image layout; one is in {}: pass --oci-layout {}",
            path.display(),
            inner.display(),
            inner.display()
        )));
    }
    let shown = parsed.to_string();
    let (source, named): (DynSource, Named) = match parsed {
        Target::Layout { path, tag, digest } => {
            let source = LayoutSource::open_dir(&path)?.with_cache_limit(opts.registry.cache_limit);
            let repository = source.repository().to_string();
            let named = match (tag, digest) {
                (None, None) => Named::Repository { repository },
                (tag, digest) => Named::Manifest { repository, tag, digest },
            };
            (Arc::new(source), named)
        }
        Target::Registry { host } => (registry_source(&host, opts)?, Named::Registry { host }),
        Target::Repository { host, repository } => (registry_source(&host, opts)?, Named::Repository { repository }),
        Target::Image(r) => {
            let source = registry_source(&r.host, opts)?;
            (source, Named::Manifest { repository: r.repository, tag: r.tag, digest: r.digest })
        }
    };
    Ok(Connected { target: shown, source, named })
}

/// An ECR registry host gets the ECR source (AWS credentials, the ECR API); any other host the
/// registry client.
fn registry_source(host: &str, opts: &ConnectOptions) -> Result<DynSource> {
    match crate::source::ecr::parse_host(host) {
        Some(ecr) => Ok(Arc::new(EcrSource::for_host(&ecr, opts.registry.clone(), opts.ecr.clone())?)),
        None => Ok(Arc::new(RegistrySource::new(host, opts.registry.clone())?)),
    }
}

/// `--ecr`: the account's registry in each region asked for (the chain's region when none
/// is), side by side.
fn connect_ecr(opts: &ConnectOptions) -> Result<Connected> {
    let mut regions: Vec<String> = Vec::new();
    for r in &opts.ecr.regions {
        if !regions.contains(r) {
            regions.push(r.clone());
        }
    }
    let account = opts.ecr.registry_id.as_deref();
    let one = |region: Option<&str>| EcrSource::new(account, region, opts.registry.clone(), opts.ecr.clone());
    if regions.len() <= 1 {
        let source = one(regions.first().map(String::as_str))?;
        let host = source.registry_host().unwrap_or_else(|| crate::source::Source::host(&source));
        return Ok(Connected { target: host.clone(), source: Arc::new(source), named: Named::Registry { host } });
    }
    let mut sources = Vec::new();
    for r in &regions {
        sources.push((r.clone(), Arc::new(one(Some(r))?)));
    }
    let source = EcrRegions::new(sources);
    let host = crate::source::Source::name(&source);
    Ok(Connected { target: host.clone(), source: Arc::new(source), named: Named::Registry { host } })
}
