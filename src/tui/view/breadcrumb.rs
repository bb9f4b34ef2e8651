//! The top line: registry › repository › tag › digest › referrer, cut from the left when long.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::graph::NodeKind;
use crate::sanitize::sanitize;

use super::super::app::App;
use super::super::label::crumb;
use super::super::theme::ThemeToken;
use super::line;

const SEP: &str = " › ";

pub fn crumbs(app: &App) -> Vec<String> {
    let Some(id) = app.selected() else { return vec![sanitize(&app.location.host).into_owned()] };
    let path = app.tree.graph.path(id);
    let mut out = Vec::with_capacity(path.len() + 1);
    // Roots below the registry level still show where they live.
    match &app.tree.graph.node(path[0]).kind {
        NodeKind::Registry { .. } => {}
        NodeKind::Repository { .. } => out.push(sanitize(&app.location.host).into_owned()),
        NodeKind::Tag { repository, .. } => {
            out.push(sanitize(&app.location.host).into_owned());
            out.push(sanitize(repository).into_owned());
        }
        NodeKind::Artifact(a) => {
            out.push(sanitize(&app.location.host).into_owned());
            out.push(sanitize(&a.repository).into_owned());
        }
    }
    out.extend(path.into_iter().map(|n| crumb(&app.tree.graph, n)));
    out
}

/// The parts that fit in `width` columns: all of them, or the longest tail (at least the last
/// part) that fits after a `…` marker; and whether some were cut. One pass over the parts.
fn fit(parts: &[String], width: usize) -> (usize, bool) {
    let sep = SEP.width();
    let widths: Vec<usize> = parts.iter().map(|p| p.width()).collect();
    let total = widths.iter().sum::<usize>() + sep * parts.len().saturating_sub(1);
    if total <= width {
        return (0, false);
    }
    let marker = "…".width() + sep;
    let mut first = parts.len().saturating_sub(1);
    let mut used = widths.last().copied().unwrap_or(0) + marker;
    // Never the first part: something is cut.
    while first > 1 && used + widths[first - 1] + sep <= width {
        first -= 1;
        used += widths[first] + sep;
    }
    (first, first > 0)
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let all = crumbs(app);
    let width = usize::from(area.width.saturating_sub(1));
    let (first, cut) = fit(&all, width);
    let parts: Vec<String> = all.into_iter().skip(first).collect();
    let mut spans = vec![(ThemeToken::Muted, " ".to_string())];
    if cut {
        spans.push((ThemeToken::Muted, format!("…{SEP}")));
    }
    let last = parts.len() - 1;
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push((ThemeToken::Muted, SEP.to_string()));
        }
        spans.push((if i == last { ThemeToken::Title } else { ThemeToken::Breadcrumb }, p));
    }
    frame.render_widget(Paragraph::new(line(&app.look.theme, spans)), area);
}

#[cfg(test)]
mod tests {
    use super::fit;

    fn parts(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("p{i:04}")).collect()
    }

    #[test]
    fn keeps_everything_that_fits_and_cuts_from_the_left() {
        assert_eq!(fit(&parts(3), 100), (0, false));
        // "p0000 › p0001 › p0002" is 21 columns; "… › p0001 › p0002" is 17.
        assert_eq!(fit(&parts(3), 21), (0, false));
        assert_eq!(fit(&parts(3), 20), (1, true));
        assert_eq!(fit(&parts(3), 17), (1, true));
        assert_eq!(fit(&parts(3), 16), (2, true));
        // The last part stays even when it alone is too wide.
        assert_eq!(fit(&parts(3), 2), (2, true));
        assert_eq!(fit(&parts(1), 2), (0, false));
    }

    #[test]
    fn a_very_long_path_is_fitted_in_one_pass() {
        let p = parts(100_000);
        assert_eq!(fit(&p, 40), (100_000 - 4, true));
    }
}
