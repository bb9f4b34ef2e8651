//! The mouse: wheel scrolls the panel under it, a click selects, a second click folds.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::super::keymap::{Action, Focus};
use super::{App, Effect, Mode};

/// Rows moved per mouse-wheel notch.
const WHEEL: usize = 3;

impl App {
    pub(super) fn on_mouse(&mut self, ev: MouseEvent) -> Vec<Effect> {
        if !self.look.mouse || self.mode != Mode::Normal {
            return Vec::new();
        }
        let at = ratatui::layout::Position { x: ev.column, y: ev.row };
        // Measured before anything moves: the click is on the screen as it is.
        let areas = self.areas();
        let (tree, details) = (areas.tree_rows, areas.details_text);
        self.dirty = true;
        match ev.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = ev.kind == MouseEventKind::ScrollDown;
                if details.contains(at) {
                    let max = self.details_len().saturating_sub(usize::from(details.height));
                    self.details.scroll = if down {
                        (self.details.scroll + WHEEL).min(max)
                    } else {
                        self.details.scroll.saturating_sub(WHEEL)
                    };
                    Vec::new()
                } else if down {
                    self.move_cursor(self.tree.cursor + WHEEL)
                } else {
                    self.move_cursor(self.tree.cursor.saturating_sub(WHEEL))
                }
            }
            MouseEventKind::Down(MouseButton::Left) if tree.contains(at) => {
                self.focus = Focus::Tree;
                let index = areas.tree_start + usize::from(at.y - tree.y);
                let Some(row) = self.tree.rows.get(index).copied() else { return Vec::new() };
                // The fold glyph sits after the two-column selection marker and the indent.
                let fold_x = tree.x + 2 + row.depth * 2;
                let on_fold = (fold_x..fold_x + 2).contains(&at.x);
                if index == self.tree.cursor || on_fold {
                    let mut effects = self.move_cursor(index);
                    effects.extend(self.act(Action::Toggle));
                    effects
                } else {
                    self.move_cursor(index)
                }
            }
            MouseEventKind::Down(MouseButton::Left) if details.contains(at) => {
                self.focus = Focus::Details;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}
