//! The top line: registry › repository › tag › digest › referrer, cut from the left when long.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::graph::NodeKind;
use crate::sanitize::sanitize;

use super::super::app::App;
use super::super::label::crumb;
use super::super::theme::Token;
use super::line;

const SEP: &str = " › ";

pub fn crumbs(app: &App) -> Vec<String> {
    let Some(id) = app.selected() else { return vec![sanitize(&app.host).into_owned()] };
    let path = app.graph.path(id);
    let mut out = Vec::with_capacity(path.len() + 1);
    // Roots below the registry level still show where they live.
    match &app.graph.node(path[0]).kind {
        NodeKind::Registry { .. } => {}
        NodeKind::Repository { .. } => out.push(sanitize(&app.host).into_owned()),
        NodeKind::Tag { repository, .. } => {
            out.push(sanitize(&app.host).into_owned());
            out.push(sanitize(repository).into_owned());
        }
        NodeKind::Artifact(a) => {
            out.push(sanitize(&app.host).into_owned());
            out.push(sanitize(&a.repository).into_owned());
        }
    }
    out.extend(path.into_iter().map(|n| crumb(&app.graph, n)));
    out
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let mut parts = crumbs(app);
    let width = usize::from(area.width.saturating_sub(1));
    let mut cut = false;
    while parts.len() > 1 && parts.join(SEP).width() + if cut { 4 } else { 0 } > width {
        parts.remove(0);
        cut = true;
    }
    let mut spans = vec![(Token::Muted, " ".to_string())];
    if cut {
        spans.push((Token::Muted, format!("…{SEP}")));
    }
    let last = parts.len() - 1;
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push((Token::Muted, SEP.to_string()));
        }
        spans.push((if i == last { Token::Title } else { Token::Breadcrumb }, p));
    }
    frame.render_widget(Paragraph::new(line(&app.theme, spans)), area);
}
