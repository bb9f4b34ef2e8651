//! sigscope: the supply chain of container images — referrers, signatures, SBOMs, attestations.
//!
//! One room per concept (see `docs/architecture.md`): `oci` (wire types, references) below
//! everything; `source` (registries, layouts, ECR; no graph) → `graph` (arena, expansion,
//! discovery, reports) → `inspect` (display decoders, bytes in) and `describe` (what an
//! artifact holds, fetched from its source and decoded by `inspect`, for the details panel); `open` (a TARGET → its source and root
//! nodes); `notation` (the Notary Project spec: policy, stores, envelopes, chains, timestamps,
//! revocation, plugins, the verifier; takes bytes and "now"), `verify` (finds an artifact's
//! signatures on a source and runs the verifier; `verify::cosign` its cosign signatures, checked
//! with static keys), `sign` (the `Signer` trait, envelope writers,
//! the signing pipeline, AWS Signer, TSA countersignatures); `aws` (how AWS is reached: the
//! credential chain, clients, typed SDK errors, AWS Signer's revocation service); `cosign`
//! (cosign signatures, attestations and Sigstore bundles checked with a static key, bytes in,
//! verdict out);
//! `kyverno` (Kyverno's denials and policies read, its admission decision replayed; text in,
//! data out) and `explain` (the use case of `sigscope explain`: the replay with its attestors
//! checked against the image's real signatures); `demo`. Below them all: `fsread` (every local
//! file read, bounded and never blocked by a FIFO), `fswrite` (a local file replaced
//! atomically), `json_out` (every JSON written, hostile code points escaped), `sanitize`
//! (registry text made safe for a terminal) and `error` (typed errors that read as sentences).
//! `tui` is the only module that knows ratatui and crossterm, and nothing outside it imports
//! it. `tests/architecture.rs` checks these rules.

pub mod aws;
pub mod cosign;
pub mod demo;
pub mod describe;
pub mod error;
pub mod explain;
pub mod fsread;
pub mod fswrite;
pub mod graph;
pub mod inspect;
pub mod json_out;
pub mod kyverno;
pub mod notation;
pub mod oci;
pub mod open;
pub mod sanitize;
pub mod sign;
pub mod source;
pub mod tui;
pub mod verify;

pub use error::{Error, Result};
