//! Turns a command-line TARGET into a source and the root nodes to show.

use std::sync::Arc;

use crate::error::Result;
use crate::graph::{ArtifactKind, ArtifactNode, NodeKind, Role};
use crate::oci::Descriptor;
use crate::reference::{Target, parse_layout_target, parse_target};
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

pub fn open(target: &str, opts: &OpenOptions) -> Result<Opened> {
    let parsed = if opts.oci_layout { parse_layout_target(target)? } else { parse_target(target)? };
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
