//! The built-in demo supply chain: an OCI image layout generated in memory, deterministically
//! (fixed DEMO-ONLY keys, fixed times, RFC 6979 ECDSA), so `sigscope` works offline and every
//! build yields the same digests.

use std::sync::OnceLock;

use crate::source::layout::{LayoutSource, MemFiles};

mod builder;
mod chain;
mod content;
pub mod export;
pub mod keys;
mod tarball;

pub use chain::EXPIRED_AT;
pub use export::{export, private_notation_dir, write_notation};

/// The demo's tags (in index.json, `org.opencontainers.image.ref.name`).
pub mod tags {
    pub const REPOSITORY: &str = "demo";
    /// Image index of linux/amd64 and linux/arm64, each platform manifest Notation-signed.
    pub const MULTIARCH: &str = "multiarch";
    /// Notation JWS + COSE signatures, SPDX (itself signed), CycloneDX, SLSA provenance, cosign `.sig`.
    pub const SIGNED: &str = "signed";
    pub const UNSIGNED: &str = "unsigned";
    /// Notation signature whose payload was changed after signing.
    pub const TAMPERED: &str = "tampered";
    /// Notation signature whose `io.cncf.notary.expiry` is in the past.
    pub const EXPIRED: &str = "expired";
    /// Notation signature by a leaf under a root that is not in the demo trust store.
    pub const UNTRUSTED: &str = "untrusted";
    pub const ALL: [&str; 6] = [MULTIARCH, SIGNED, UNSIGNED, TAMPERED, EXPIRED, UNTRUSTED];
}

/// The demo layout's files, built on first use.
pub fn files() -> &'static MemFiles {
    static FILES: OnceLock<MemFiles> = OnceLock::new();
    FILES.get_or_init(build)
}

/// Builds the demo afresh (tests compare two builds; everyone else uses [`files`]).
pub fn build() -> MemFiles {
    chain::build()
}

/// The demo as `sigscope` with no TARGET opens it: the source and its repository as the root.
pub fn opened() -> crate::open::Opened {
    crate::open::Opened {
        target: "built-in demo".into(),
        source: std::sync::Arc::new(source()),
        roots: vec![crate::graph::NodeKind::Repository { name: tags::REPOSITORY.into() }],
    }
}

/// A source serving the demo, named `demo` with the single repository `demo`.
pub fn source() -> LayoutSource {
    LayoutSource::open(tags::REPOSITORY.into(), tags::REPOSITORY.into(), Box::new(files().clone()))
        .expect("the demo layout has a valid index.json")
}
