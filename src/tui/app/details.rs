//! The details panel: how long it is, for scrolling.

use super::super::details_doc::node_header;
use super::{App, RightPanel};

impl App {
    /// Lines in the details panel of the selected node.
    pub fn details_len(&self) -> usize {
        let Some(id) = self.selected() else { return 0 };
        let width = usize::from(self.last_frame.details.get().width);
        if self.right == RightPanel::Verification {
            return super::super::present::verification::lines(self, id, width).len();
        }
        let doc = self.details.get(&id).map_or(1, |d| d.lines(width).len());
        node_header(&self.graph, self.source.as_ref(), id, width).len() + doc
    }
}
