//! The lines of the Kyverno panel (`:explain`): the pasted denial, then the replay of the
//! selected image (or of its tag), folded to the panel's width.

use crate::graph::NodeId;
use crate::kyverno::render::{denial_lines, explanation_lines};
use crate::kyverno::replay::Admission;

use super::super::app::{App, ExplainResult};
use super::super::details_doc::fold;
use super::super::label::Spans;
use super::super::theme::ThemeToken;

/// The explanation that covers `id`: its own, its tag's, or its image's.
fn result_for(app: &App, id: NodeId) -> Option<&ExplainResult> {
    let node = app.tree.graph.node(id);
    let results = &app.explain.results;
    results
        .get(&id)
        .or_else(|| node.parent.and_then(|p| results.get(&p)))
        .or_else(|| node.children.first().and_then(|c| results.get(c)))
}

pub fn lines(app: &App, id: Option<NodeId>, width: usize) -> Vec<Spans> {
    let width = width.max(20);
    let mut out: Vec<Spans> = Vec::new();
    // Folded under its own indentation, so nesting stays readable.
    let mut push = |text: &str, token: ThemeToken| {
        let body = text.trim_start();
        let indent = (text.len() - body.len()).min(width / 3);
        for part in fold(body, width - indent) {
            out.push(vec![(token, format!("{}{part}", " ".repeat(indent)))]);
        }
    };
    if let Some(d) = &app.explain.denial {
        for l in denial_lines(d) {
            push(&l, if l.starts_with("The denial") { ThemeToken::Heading } else { ThemeToken::Text });
        }
        push("", ThemeToken::Text);
    }
    match id.and_then(|id| result_for(app, id)) {
        Some(ExplainResult::Pending) => push("⟳ replaying the Kyverno policies…", ThemeToken::Pending),
        Some(ExplainResult::Done(e, error)) => {
            let verdict = match e.admission {
                Admission::Allowed => ThemeToken::Verified,
                Admission::Blocked => ThemeToken::Failed,
                Admission::AuditWarning | Admission::Unknown => ThemeToken::Warning,
            };
            for (i, l) in explanation_lines(e).into_iter().enumerate() {
                let token = if i == 0 {
                    verdict
                } else if l.contains(": FAIL") || l.contains(" FAIL — ") {
                    ThemeToken::Failed
                } else if l.contains("not replayed") {
                    ThemeToken::Warning
                } else {
                    ThemeToken::Text
                };
                push(&l, token);
            }
            if let Some(err) = error {
                push(&format!("error: {err}"), ThemeToken::Error);
            }
        }
        None => match (&app.explain.policies, &app.explain.policy_error) {
            (_, Some(e)) => push(&format!("The Kyverno policies could not be loaded: {e}"), ThemeToken::Error),
            (None, None) => push(
                "No Kyverno policies loaded: start sigscope with --kyverno-policy PATH (a file, a directory or -), \
                 select an image and type :explain; :explain TEXT takes a pasted denial apart.",
                ThemeToken::Muted,
            ),
            (Some(p), None) => push(
                &format!(
                    "{} ClusterPolicy/Policy and {} ImageValidatingPolicy loaded: select an image (or its tag) and \
                     type :explain; :explain TEXT takes a pasted denial apart.",
                    p.cluster_policies.len(),
                    p.image_validating.len()
                ),
                ThemeToken::Muted,
            ),
        },
    }
    out
}
