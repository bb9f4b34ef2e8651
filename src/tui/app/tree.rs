//! The tree panel: visible rows (the open part of the graph, or the filter's matches and their
//! ancestors), the cursor, moving and folding, and the filter.

use super::super::label::TextCache;
use crate::graph::Graph;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

use crate::graph::{LoadState, NodeId};

use super::super::keymap::{Action, Focus};
use super::super::label::contains;
use super::super::prompt::Prompt;
use super::{App, Effect, Mode, Severity};

/// The graph and how it is shown: which nodes are open, the visible rows, the cursor and the
/// filter, and when each node was fetched.
#[derive(Default)]
pub struct TreeState {
    pub graph: Graph,
    pub open: HashSet<NodeId>,
    pub rows: Vec<Row>,
    pub cursor: usize,
    /// The row at the top of the panel; kept by `update` as the cursor moves
    /// (`layout::window_start`), read by the view through `layout::areas`.
    pub offset: usize,
    pub filter: Filter,
    pub(super) texts: TextCache,
    /// When each node's last expansion answered.
    pub(super) fetched_at: HashMap<NodeId, Instant>,
    /// Nodes whose children are opened and loaded as they arrive (`E`), and how many more
    /// nodes that may still load.
    pub(super) expanding_all: HashSet<NodeId>,
    pub(super) expand_budget: usize,
}

pub(super) fn depth_limit_status() -> String {
    format!(
        "not expanded: depth limit {} reached (nothing this deep is loaded; real supply chains are a few levels deep)",
        crate::graph::MAX_DEPTH
    )
}

/// One visible tree line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub id: NodeId,
    pub depth: u16,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub query: String,
    pub matches: HashSet<NodeId>,
    /// Matching rows in tree order, for n/N.
    pub ordered: Vec<NodeId>,
}

impl App {
    /// Recomputes the visible rows: the open part of the tree, or with a filter the matches and
    /// their ancestors. Only structure changes call this; moving the cursor does not.
    pub fn rebuild_rows(&mut self) {
        let selected = self.selected();
        self.tree.rows.clear();
        if self.tree.filter.query.is_empty() {
            let mut stack: Vec<Row> = self.tree.graph.roots.iter().rev().map(|&id| Row { id, depth: 0 }).collect();
            while let Some(row) = stack.pop() {
                self.tree.rows.push(row);
                if self.tree.open.contains(&row.id) {
                    let children = &self.tree.graph.node(row.id).children;
                    stack.extend(children.iter().rev().map(|&id| Row { id, depth: row.depth + 1 }));
                }
            }
        } else {
            self.compute_filter();
        }
        if let Some(sel) = selected {
            self.select_node(sel);
        }
        self.tree.cursor = self.tree.cursor.min(self.tree.rows.len().saturating_sub(1));
        self.dirty = true;
    }

    pub(super) fn compute_filter(&mut self) {
        let query = &self.tree.filter.query;
        let case_sensitive = query.chars().any(char::is_uppercase);
        let needle = if case_sensitive { query.clone() } else { query.to_lowercase() };
        let mut matches = HashSet::new();
        let mut keep = HashSet::new();
        let mut stack: Vec<NodeId> = self.tree.graph.roots.iter().rev().copied().collect();
        while let Some(id) = stack.pop() {
            // The label, and what the row shows beside it: verdict words, envelope formats.
            let shown = contains(self.tree.texts.get(&self.tree.graph, id), &needle, case_sensitive)
                || self.verdict_words(id).is_some_and(|w| contains(&w, &needle, case_sensitive));
            if shown {
                matches.insert(id);
                keep.insert(id);
                keep.extend(self.tree.graph.ancestors(id));
            }
            stack.extend(self.tree.graph.node(id).children.iter().rev());
        }
        let mut ordered = Vec::new();
        let mut stack: Vec<Row> = self.tree.graph.roots.iter().rev().map(|&id| Row { id, depth: 0 }).collect();
        while let Some(row) = stack.pop() {
            if !keep.contains(&row.id) {
                continue;
            }
            self.tree.rows.push(row);
            if matches.contains(&row.id) {
                ordered.push(row.id);
            }
            let children = &self.tree.graph.node(row.id).children;
            stack.extend(children.iter().rev().map(|&id| Row { id, depth: row.depth + 1 }));
        }
        self.tree.filter.matches = matches;
        self.tree.filter.ordered = ordered;
    }

    pub(super) fn select_node(&mut self, id: NodeId) {
        if let Some(i) = self.tree.rows.iter().position(|r| r.id == id) {
            self.tree.cursor = i;
            return;
        }
        // Gone (collapsed away or filtered out): land on its nearest visible ancestor.
        for a in self.tree.graph.ancestors(id) {
            if let Some(i) = self.tree.rows.iter().position(|r| r.id == a) {
                self.tree.cursor = i;
                return;
            }
        }
    }

    pub(super) fn move_cursor(&mut self, to: usize) -> Vec<Effect> {
        let to = to.min(self.tree.rows.len().saturating_sub(1));
        if to == self.tree.cursor {
            return Vec::new();
        }
        self.tree.cursor = to;
        self.details.scroll = 0;
        self.dirty = true;
        self.after_selection()
    }

    pub(super) fn page(&self) -> usize {
        let areas = self.areas();
        let h = match self.focus {
            Focus::Tree => areas.tree_rows.height,
            Focus::Details => areas.details_text.height,
        };
        usize::from(h.max(2)) - 1
    }

    pub(super) fn navigate(&mut self, action: Action) -> Vec<Effect> {
        let page = self.page();
        match self.focus {
            Focus::Tree => {
                let last = self.tree.rows.len().saturating_sub(1);
                let to = match action {
                    Action::Down => self.tree.cursor + 1,
                    Action::Up => self.tree.cursor.saturating_sub(1),
                    Action::PageDown => self.tree.cursor + page,
                    Action::PageUp => self.tree.cursor.saturating_sub(page),
                    Action::Top => 0,
                    _ => last,
                };
                self.move_cursor(to)
            }
            Focus::Details => {
                let max = self.details_len().saturating_sub(page + 1);
                self.details.scroll = match action {
                    Action::Down => self.details.scroll + 1,
                    Action::Up => self.details.scroll.saturating_sub(1),
                    Action::PageDown => self.details.scroll + page,
                    Action::PageUp => self.details.scroll.saturating_sub(page),
                    Action::Top => 0,
                    _ => max,
                }
                .min(max);
                Vec::new()
            }
        }
    }

    pub(super) fn expand_selected(&mut self) -> Vec<Effect> {
        let Some(id) = self.selected() else { return Vec::new() };
        if self.tree.graph.is_cycle(id) {
            self.set_status(Severity::Warning, "not expanded: this digest already appears above it (a cycle)".into());
            return Vec::new();
        }
        if !self.tree.graph.expandable(id) {
            self.set_status(Severity::Warning, depth_limit_status());
            return Vec::new();
        }
        let node = self.tree.graph.node(id);
        match node.load {
            LoadState::NotLoaded | LoadState::Failed(_) => {
                self.tree.open.insert(id);
                let effects = self.expand_node(id);
                self.rebuild_rows();
                effects
            }
            LoadState::Loading => {
                self.tree.open.insert(id);
                Vec::new()
            }
            LoadState::Loaded if self.tree.open.contains(&id) || !self.tree.filter.query.is_empty() => {
                // Already open: step into it, like a file manager.
                if node.children.is_empty() { Vec::new() } else { self.move_cursor(self.tree.cursor + 1) }
            }
            LoadState::Loaded => {
                self.tree.open.insert(id);
                self.rebuild_rows();
                Vec::new()
            }
        }
    }

    pub(super) fn collapse_selected(&mut self) -> Vec<Effect> {
        let Some(id) = self.selected() else { return Vec::new() };
        let has_children = !self.tree.graph.node(id).children.is_empty();
        if self.tree.filter.query.is_empty()
            && self.tree.open.contains(&id)
            && (has_children || self.requests.expand.contains_key(&id))
        {
            self.tree.open.remove(&id);
            self.rebuild_rows();
            return Vec::new();
        }
        self.tree.open.remove(&id);
        match self.tree.graph.node(id).parent.and_then(|p| self.tree.rows.iter().position(|r| r.id == p)) {
            Some(i) => self.move_cursor(i),
            None => Vec::new(),
        }
    }

    pub(super) fn jump_to_match(&mut self, forward: bool) -> Vec<Effect> {
        if self.tree.filter.ordered.is_empty() {
            let text =
                if self.tree.filter.query.is_empty() { "no filter: press / to filter the tree" } else { "no matches" };
            self.set_status(Severity::Warning, text.into());
            return Vec::new();
        }
        let matches = &self.tree.filter.matches;
        let positions: Vec<usize> =
            self.tree.rows.iter().enumerate().filter(|(_, r)| matches.contains(&r.id)).map(|(i, _)| i).collect();
        let found = if forward {
            positions.iter().copied().find(|&p| p > self.tree.cursor)
        } else {
            positions.iter().rev().copied().find(|&p| p < self.tree.cursor)
        };
        let next = found.unwrap_or_else(|| {
            let (text, at) = if forward {
                ("search wrapped to the top", positions[0])
            } else {
                ("search wrapped to the bottom", *positions.last().expect("non-empty"))
            };
            self.show_toast(text.into());
            at
        });
        let n = positions.iter().position(|&p| p == next).map_or(0, |i| i + 1);
        if found.is_some() || next != self.tree.cursor {
            self.set_status(Severity::Info, format!("match {n} of {}", positions.len()));
        }
        self.move_cursor(next)
    }

    pub(super) fn refilter(&mut self) -> Vec<Effect> {
        let before = self.selected();
        self.rebuild_rows();
        // Land on the first match unless the selection itself still matches.
        if !before.is_some_and(|b| self.tree.filter.matches.contains(&b))
            && let Some(&first) = self.tree.filter.ordered.first()
        {
            self.select_node(first);
        }
        if self.selected() != before {
            self.details.scroll = 0;
            return self.after_selection();
        }
        Vec::new()
    }

    pub(super) fn clear_filter(&mut self) -> Vec<Effect> {
        let before = self.selected();
        self.tree.filter = Filter::default();
        // Keep what the user landed on visible once the tree is whole again.
        if let Some(sel) = before {
            for a in self.tree.graph.ancestors(sel).collect::<Vec<_>>() {
                self.tree.open.insert(a);
            }
        }
        self.rebuild_rows();
        Vec::new()
    }

    pub(super) fn filter_from_input(&mut self) -> Vec<Effect> {
        self.tree.filter.query = self.prompts.filter.text().to_string();
        self.refilter()
    }

    /// Opening and closing nodes.
    pub(super) fn act_on_tree(&mut self, action: Action) -> Vec<Effect> {
        let Some(id) = self.selected() else { return Vec::new() };
        match action {
            Action::Expand => self.expand_selected(),
            Action::Collapse => self.collapse_selected(),
            Action::Toggle if self.tree.open.contains(&id) => self.collapse_selected(),
            Action::Toggle => self.expand_selected(),
            Action::ExpandAll => self.expand_all(id),
            Action::CollapseAll => {
                let mut stack = vec![id];
                while let Some(n) = stack.pop() {
                    self.tree.open.remove(&n);
                    stack.extend(self.tree.graph.node(n).children.iter().copied());
                }
                self.rebuild_rows();
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The filter and its matches.
    pub(super) fn act_on_filter(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Filter => {
                self.prompts.filter = Prompt::new(&self.tree.filter.query);
                self.mode = Mode::Filter;
                Vec::new()
            }
            Action::ClearFilter if self.tree.filter.query.is_empty() => Vec::new(),
            Action::ClearFilter => self.clear_filter(),
            Action::NextMatch | Action::PrevMatch => self.jump_to_match(action == Action::NextMatch),
            _ => Vec::new(),
        }
    }
}
