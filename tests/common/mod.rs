//! The one test support module of the integration tests (`mod common;` in each): real
//! registry servers (`servers`, with `tokenserver.py`), a hostile stand-in registry for bad
//! answers (`hostile`), a fixture builder (`fixtures`), a stand-in file server for CRLs
//! (`fileserver`), the test-only Notation signer and TSA (`notary`), a stand-in AWS Signer
//! (`aws_signer_standin`), OpenSSL's TSA behind a loopback handler (`tsa`), the TUI harness
//! (`tui`) and tmux sessions for the real binary (`tmux`). Every test binary compiles all of it
//! and uses a part: unused items are expected.
#![allow(dead_code, unused_imports)]

pub mod aws_signer_standin;
pub mod cmd;
pub mod fileserver;
pub mod fixtures;
pub mod hostile;
pub mod layout;
pub mod notary;
pub mod servers;
pub mod tmux;
pub mod tsa;
pub mod tui;

pub use fixtures::{Fixture, seed};
pub use hostile::Hostile;
pub use servers::Server;

use sigscope::source::registry::{RegistryOptions, RegistrySource};

/// Options for loopback test servers: short timeouts so a broken server fails fast.
pub fn test_options() -> RegistryOptions {
    RegistryOptions {
        connect_timeout: std::time::Duration::from_secs(5),
        read_timeout: std::time::Duration::from_secs(10),
        request_timeout: std::time::Duration::from_secs(20),
        docker_config: Some(std::path::PathBuf::from("/nonexistent/sigscope-test-docker-config")),
        ..RegistryOptions::default()
    }
}

pub fn source(host: &str, opts: RegistryOptions) -> RegistrySource {
    RegistrySource::new(host, opts).expect("registry source")
}

/// Fails a test that hangs instead of letting it block the suite (not a timing assertion).
pub async fn guard<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(120), f).await.expect("the call hung")
}

/// An artifact node to expand, known by its descriptor.
pub fn artifact(repo: &str, d: &sigscope::oci::Descriptor, role: sigscope::graph::Role) -> sigscope::graph::NodeKind {
    sigscope::graph::NodeKind::Artifact(sigscope::graph::ArtifactNode::new(
        repo,
        d.clone(),
        sigscope::graph::ArtifactKind::Image,
        role,
    ))
}

/// (digest, role) of each artifact child: the edges of the graph.
pub fn edges(children: &[sigscope::graph::ChildSpec]) -> std::collections::BTreeSet<(String, String)> {
    children
        .iter()
        .map(|c| match c {
            sigscope::graph::ChildSpec::Artifact { descriptor, role, .. } => {
                (descriptor.digest.clone(), format!("{role:?}"))
            }
            other => panic!("unexpected child {other:?}"),
        })
        .collect()
}

pub fn edge(d: &sigscope::oci::Descriptor, role: sigscope::graph::Role) -> (String, String) {
    (d.digest.clone(), format!("{role:?}"))
}
