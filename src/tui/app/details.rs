//! The details panel: how long it is, for scrolling.

use super::super::details_doc::DetailsDoc;
use super::super::details_doc::node_header;
use super::{App, RightPanel};
use crate::graph::NodeId;
use std::collections::HashMap;

/// The right-hand panel: a details document per described node, or the verification of the
/// selection; scrolled together.
#[derive(Default)]
pub struct DetailsPanel {
    pub docs: HashMap<NodeId, DetailsDoc>,
    pub scroll: usize,
    pub panel: RightPanel,
}

impl App {
    /// Lines in the details panel of the selected node.
    pub fn details_len(&self) -> usize {
        let width = usize::from(self.areas().details_text.width);
        if self.details.panel == RightPanel::Explain {
            return super::super::present::explain::lines(self, self.selected(), width).len();
        }
        let Some(id) = self.selected() else { return 0 };
        if self.details.panel == RightPanel::Verification {
            return super::super::present::verification::lines(self, id, width).len();
        }
        let doc = self.details.docs.get(&id).map_or(1, |d| d.lines(width).len());
        node_header(&self.tree.graph, self.location.source.as_ref(), id, width).len() + doc
    }
}
