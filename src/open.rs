//! Turns a command-line TARGET into a source and the root nodes to show.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::graph::{ArtifactKind, ArtifactNode, NodeKind, Role};
use crate::oci::Descriptor;
use crate::oci::reference::{Target, parse_layout_target, parse_target};
use crate::source::DynSource;
use crate::source::layout::LayoutSource;
use crate::source::registry::{RegistryOptions, RegistrySource};

#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// TARGET is an OCI image layout directory.
    pub oci_layout: bool,
    pub registry: RegistryOptions,
}

pub struct Opened {
    pub target: String,
    pub source: DynSource,
    pub roots: Vec<NodeKind>,
}

/// A root artifact known only by digest: the descriptor is completed when it loads.
fn digest_root(repository: &str, digest: &str) -> NodeKind {
    NodeKind::Artifact(ArtifactNode {
        repository: repository.to_string(),
        descriptor: Descriptor { digest: digest.to_string(), ..Default::default() },
        kind: ArtifactKind::Image,
        role: Role::Root,
        manifest: None,
    })
}

fn roots_for(repository: &str, tag: Option<String>, digest: Option<String>) -> Vec<NodeKind> {
    match (tag, digest) {
        (_, Some(d)) => vec![digest_root(repository, &d)],
        (Some(tag), None) => vec![NodeKind::Tag { repository: repository.to_string(), tag }],
        (None, None) => vec![NodeKind::Repository { name: repository.to_string() }],
    }
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

pub fn open(target: &str, opts: &OpenOptions) -> Result<Opened> {
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
    match parsed {
        Target::Layout { path, tag, digest } => {
            let source = LayoutSource::open_dir(&path)?;
            let roots = roots_for(source.repository(), tag, digest);
            Ok(Opened { target: shown, source: Arc::new(source), roots })
        }
        Target::Registry { host } => {
            let source = RegistrySource::new(&host, opts.registry.clone())?;
            Ok(Opened { target: shown, source: Arc::new(source), roots: vec![NodeKind::Registry { host }] })
        }
        Target::Repository { host, repository } => {
            let source = RegistrySource::new(&host, opts.registry.clone())?;
            Ok(Opened {
                target: shown,
                source: Arc::new(source),
                roots: vec![NodeKind::Repository { name: repository }],
            })
        }
        Target::Image(r) => {
            let source = RegistrySource::new(&r.host, opts.registry.clone())?;
            let roots = roots_for(&r.repository, r.tag.clone(), r.digest.clone());
            Ok(Opened { target: shown, source: Arc::new(source), roots })
        }
    }
}
