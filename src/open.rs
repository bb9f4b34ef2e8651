//! Turns a command-line TARGET into a source ([`crate::source::connect`]) and the root nodes to
//! show.

use crate::error::Result;
use crate::graph::{ArtifactKind, ArtifactNode, NodeKind, Role};
use crate::oci::Descriptor;
use crate::source::DynSource;
use crate::source::connect::{Named, connect};

pub use crate::source::connect::ConnectOptions as OpenOptions;

pub struct Opened {
    pub target: String,
    pub source: DynSource,
    pub roots: Vec<NodeKind>,
}

/// A root artifact known only by digest: the descriptor is completed when it loads.
fn digest_root(repository: &str, digest: &str) -> NodeKind {
    let descriptor = Descriptor { digest: digest.to_string(), ..Default::default() };
    NodeKind::Artifact(ArtifactNode::new(repository, descriptor, ArtifactKind::Image, Role::Root))
}

/// The root of what a TARGET names.
pub fn root_for(named: Named) -> NodeKind {
    match named {
        Named::Registry { host } => NodeKind::Registry { host },
        Named::Repository { repository } => NodeKind::Repository { name: repository },
        Named::Manifest { repository, digest: Some(d), .. } => digest_root(&repository, &d),
        Named::Manifest { repository, tag: Some(tag), digest: None } => NodeKind::Tag { repository, tag },
        Named::Manifest { repository, tag: None, digest: None } => NodeKind::Repository { name: repository },
    }
}

pub fn open(target: &str, opts: &OpenOptions) -> Result<Opened> {
    let c = connect(target, opts)?;
    Ok(Opened { target: c.target, source: c.source, roots: vec![root_for(c.named)] })
}
