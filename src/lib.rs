//! sigscope: the supply chain of container images — referrers, signatures, SBOMs, attestations.
//!
//! The domain (`reference`, `oci`, `source`, `graph`, `artifact`, `demo`) never imports the UI;
//! `tui` is the only module that knows about ratatui and crossterm.

pub mod demo;
pub mod error;
pub mod fsread;
pub mod graph;
pub mod inspect;
pub mod json_out;
pub mod notation;
pub mod oci;
pub mod open;
pub mod sanitize;
pub mod sign;
pub mod source;
pub mod tui;
pub mod verify;

pub use error::{Error, Result};
