//! sigscope: the supply chain of container images — referrers, signatures, SBOMs, attestations.
//!
//! The domain (`reference`, `oci`, `source`, `graph`, `artifact`, `demo`) never imports the UI;
//! `tui` is the only module that knows about ratatui and crossterm.

pub mod artifact;
pub mod demo;
pub mod discover;
pub mod error;
pub mod fsread;
pub mod graph;
pub mod json_out;
pub mod oci;
pub mod open;
pub mod reference;
pub mod report;
pub mod sanitize;
pub mod signatures;
pub mod source;
pub mod trust;
pub mod tui;
pub mod verification;

pub use error::{Error, Result};
