//! Kyverno's side of "why was this blocked": pasted denials taken apart (`denial`, with
//! `cause` for one rule's message), policies loaded from YAML (`policy`) and Kyverno's two ways
//! of matching image references (`matching`), and the admission decision replayed for one
//! image (`replay`, its signature checks injected). Text in, data out: no source, graph or UI;
//! only `files` reads policy files (for `--kyverno-policy` and the TUI's watcher).

pub mod attestations;
pub mod cause;
pub mod conditions;
pub mod denial;
pub mod files;
pub mod functions;
pub mod matching;
pub mod policy;
pub mod render;
pub mod replay;
pub mod resources;
