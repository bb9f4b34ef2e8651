//! Going back and forward between targets opened with `:open`: each keeps its source (with
//! what it cached), its roots and its Notation directory.

use std::path::PathBuf;

use crate::graph::NodeKind;
use crate::open::Opened;
use crate::sanitize::sanitize;
use crate::source::DynSource;

use super::{App, Effect, Severity};

/// The target on screen: as typed, its source, the host it names, its roots.
pub struct Location {
    pub target: String,
    pub source: DynSource,
    pub host: String,
    pub(super) roots: Vec<NodeKind>,
}

/// Targets opened before this one (`[`) and after it (`]`).
#[derive(Default)]
pub(super) struct Visits {
    pub(super) back: Vec<Visited>,
    pub(super) forward: Vec<Visited>,
}

/// A target shown before, to go back to: the same source (with what it cached), the same roots.
pub struct Visited {
    target: String,
    source: DynSource,
    roots: Vec<NodeKind>,
    notation_dir: Option<PathBuf>,
    cosign_keys: std::sync::Arc<Vec<crate::verify::cosign::NamedKey>>,
}

impl App {
    pub(super) fn visited(&self) -> Visited {
        Visited {
            target: self.location.target.clone(),
            source: self.location.source.clone(),
            roots: self.location.roots.clone(),
            notation_dir: self.vs.dir.clone(),
            cosign_keys: self.cosign.keys.clone(),
        }
    }

    pub(super) fn revisit(&mut self, v: Visited) -> Vec<Effect> {
        let target = v.target.clone();
        self.switch_notation_dir(v.notation_dir);
        self.switch_cosign_keys(v.cosign_keys);
        self.load_target(Opened { target: v.target, source: v.source, roots: v.roots });
        self.set_status(Severity::Info, format!("back at {}", sanitize(&target)));
        self.start()
    }

    pub(super) fn go_back(&mut self) -> Vec<Effect> {
        let Some(previous) = self.visits.back.pop() else {
            self.set_status(Severity::Info, "nothing to go back to (:open TARGET opens another)".into());
            return Vec::new();
        };
        let here = self.visited();
        self.visits.forward.push(here);
        self.revisit(previous)
    }

    pub(super) fn go_forward(&mut self) -> Vec<Effect> {
        let Some(next) = self.visits.forward.pop() else {
            self.set_status(Severity::Info, "nothing to go forward to".into());
            return Vec::new();
        };
        let here = self.visited();
        self.visits.back.push(here);
        self.revisit(next)
    }
}
