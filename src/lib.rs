//! sigscope: the supply chain of container images — referrers, signatures, SBOMs, attestations.
//!
//! One room per concept (see `docs/architecture.md`): `oci` (wire types, references) below
//! everything; `source` (registries, layouts; no graph) → `graph` (arena, expansion, discovery,
//! reports) → `inspect` (display decoders); `notation` (the Notary Project spec: policy, stores,
//! envelopes, chains, timestamps, revocation, plugins, the verifier; takes bytes and "now"),
//! `verify` (finds an artifact's signatures on a source and runs the verifier), `sign` (the
//! `Signer` trait and envelope writers), `demo`; `tui` is the only module that knows ratatui and
//! crossterm, and nothing outside it imports it. `tests/architecture.rs` checks these rules.

pub mod aws;
pub mod cosign;
pub mod demo;
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
