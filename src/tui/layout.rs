//! Where everything goes on a screen of a given size: one pure function of the terminal size
//! and the app. The view calls it to place its widgets, `update` to page, clamp scrolling and
//! hit-test clicks — the same function with the same inputs, so what a key or a click refers
//! to is always what is drawn, and drawing has nothing to report back.

use ratatui::layout::{Constraint, Layout, Rect, Size};
use ratatui::widgets::Block;

use super::app::App;
use super::keymap::Focus;

/// Below this the panels cannot show a row and its verdict: a notice says so instead.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;
/// Narrower than this, side by side leaves each panel too thin to read: tree above details.
pub const STACK_BELOW: u16 = 100;

/// The tree's share of the width when the panels sit side by side, in percent.
const TREE_SHARE: u16 = 55;

/// The screen's parts. Below the minimum size the screen is one notice and every rectangle is
/// empty: nothing to click, page through or scroll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    /// The whole screen.
    pub screen: Rect,
    /// False below [`MIN_WIDTH`]×[`MIN_HEIGHT`].
    pub fits: bool,
    pub breadcrumb: Rect,
    pub status: Rect,
    /// The tree panel, border included; empty when the details panel is zoomed.
    pub tree: Rect,
    /// Inside the tree's border, one row per line: what a click selects, what a page is.
    pub tree_rows: Rect,
    /// The row on the first line of `tree_rows`.
    pub tree_start: usize,
    /// The right-hand panel (details, verification or Kyverno), border included; empty when
    /// the tree is zoomed.
    pub details: Rect,
    /// Inside its border: the width its text is wrapped to, the height scrolling clamps by.
    pub details_text: Rect,
    /// The help overlay when it is open, border included.
    pub help: Rect,
    /// Inside its border: the lines of help shown at once.
    pub help_text: Rect,
}

/// Where everything goes on a `size` screen showing `app`.
pub fn areas(size: Size, app: &App) -> Areas {
    let screen = Rect::new(0, 0, size.width, size.height);
    let Some(panels) = panels(screen, app.zoom.then_some(app.focus)) else {
        return Areas { screen, tree_start: app.tree.offset, ..Areas::default() };
    };
    let tree_rows = inside(panels.tree);
    let rows = app.tree.rows.len();
    // An empty or hidden tree draws no rows: the offset waits, as it is, for rows to show.
    let tree_start = if tree_rows.is_empty() || rows == 0 {
        app.tree.offset
    } else {
        window_start(app.tree.offset, app.tree.cursor, usize::from(tree_rows.height), rows)
    };
    let help = help_popup(screen);
    Areas {
        screen,
        fits: true,
        breadcrumb: panels.breadcrumb,
        status: panels.status,
        tree: panels.tree,
        tree_rows,
        tree_start,
        details: panels.details,
        details_text: inside(panels.details),
        help,
        help_text: inside(help),
    }
}

/// The panels of a screen, before anything is known about what they show.
struct Panels {
    breadcrumb: Rect,
    tree: Rect,
    details: Rect,
    status: Rect,
}

/// Where the panels go, or `None` when the screen is below the minimum size. `zoom` gives the
/// whole main area to that panel; the other gets an empty rectangle (nothing drawn or clicked).
fn panels(area: Rect, zoom: Option<Focus>) -> Option<Panels> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [breadcrumb, main, status] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let [tree, details] = match zoom {
        Some(Focus::Tree) => [main, Rect::default()],
        Some(Focus::Details) => [Rect::default(), main],
        // One split for both right-hand panels, so `v` does not move the tree.
        None if area.width < STACK_BELOW => {
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(main)
        }
        // The same split for details and verification too: `v` must not make the tree jump.
        // 55/45 leaves the tree its long rows and the check table room for its reasons.
        None => Layout::horizontal([Constraint::Percentage(TREE_SHARE), Constraint::Percentage(100 - TREE_SHARE)])
            .areas(main),
    };
    Some(Panels { breadcrumb, tree, details, status })
}

/// The help overlay: centred, at most 72 columns, a row free above and below.
fn help_popup(screen: Rect) -> Rect {
    let width = screen.width.saturating_sub(4).min(72);
    let height = screen.height.saturating_sub(2);
    Rect { x: screen.x + (screen.width - width) / 2, y: screen.y + (screen.height - height) / 2, width, height }
}

/// Inside a panel's border: every panel and overlay is a bordered block (`view::panel`), and
/// asking the block itself keeps this right for any size, however small. Empty stays empty.
fn inside(panel: Rect) -> Rect {
    if panel.is_empty() { Rect::default() } else { Block::bordered().inner(panel) }
}

/// First visible row: the previous offset, moved just enough to keep the cursor in view.
pub fn window_start(previous: usize, cursor: usize, height: usize, rows: usize) -> usize {
    let mut start = previous.min(rows.saturating_sub(height));
    if cursor < start {
        start = cursor;
    } else if cursor >= start + height {
        start = cursor + 1 - height;
    }
    start
}

#[cfg(test)]
mod tests {
    use super::window_start;

    #[test]
    fn window_follows_the_cursor() {
        assert_eq!(window_start(0, 5, 10, 100), 0);
        assert_eq!(window_start(0, 10, 10, 100), 1);
        assert_eq!(window_start(50, 10, 10, 100), 10);
        assert_eq!(window_start(95, 99, 10, 100), 90);
        assert_eq!(window_start(3, 0, 10, 4), 0);
    }
}
