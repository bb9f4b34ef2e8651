//! The verification panel's lines and the verdict badges of tree rows, built from the app
//! state: shared by `update` (which scrolls and clamps by them) and the view (which draws
//! them). Everything that came from a registry or a policy file is sanitised here.

use unicode_width::UnicodeWidthStr;

use crate::graph::NodeId;
use crate::notation::policy::MatchKind;
use crate::notation::verifier::{ArtifactReport, Outcome, SignatureReport, SignatureVerdict, Verdict};
use crate::oci::short_digest;
use crate::sanitize::{clip, sanitize};

use super::super::app::App;
use super::super::app::{CosignNode, NodeVerify};
use super::super::details_doc::fold;
use super::super::keymap::Action;
use super::super::label::Spans;
use super::super::theme::ThemeToken;
use crate::verify::cosign::{CosignSignatureReport, CosignVerdict};

fn verdict_badge(v: &Verdict) -> (ThemeToken, String) {
    match v {
        Verdict::Verified => (ThemeToken::Verified, "✓ verified".into()),
        Verdict::VerifiedWithWarnings { .. } => (ThemeToken::Warning, "! warnings".into()),
        Verdict::Failed { check: Some(c), .. } => (ThemeToken::Failed, format!("✗ failed: {}", c.name())),
        Verdict::Failed { check: None, .. } => (ThemeToken::Failed, "✗ failed".into()),
        Verdict::Skipped => (ThemeToken::Muted, "~ skipped".into()),
        Verdict::NoSignature => (ThemeToken::Warning, "- unsigned".into()),
        Verdict::NotEvaluated { .. } => (ThemeToken::Muted, "? no policy".into()),
    }
}

fn signature_badge(v: &SignatureVerdict) -> (ThemeToken, String) {
    match v {
        SignatureVerdict::Verified => (ThemeToken::Verified, "✓ verified".into()),
        SignatureVerdict::VerifiedWithWarnings => (ThemeToken::Warning, "! warnings".into()),
        SignatureVerdict::Failed { check, .. } => (ThemeToken::Failed, format!("✗ failed: {}", check.name())),
    }
}

const PENDING: &str = "⟳ verifying…";

/// The verification state of a tree row, glyph and word: images and Notation signatures.
pub fn badge(app: &App, id: NodeId) -> Option<(ThemeToken, String)> {
    let state = |n: &NodeVerify| match n {
        NodeVerify::Pending => (ThemeToken::Pending, PENDING.to_string()),
        NodeVerify::Done(r) => verdict_badge(&r.verdict),
        NodeVerify::Error(e) => (ThemeToken::Failed, format!("✗ not verified: {}", clip(&sanitize(e), 30))),
    };
    if app.is_signing(id) {
        return Some((ThemeToken::Pending, "⟳ signing…".into()));
    }
    if let Some(why) = app.sign_failure(id) {
        return Some((ThemeToken::Failed, format!("✗ not signed: {}", clip(why, 40))));
    }
    if super::super::app::is_subject(app, id) {
        return combined(app.node_verify(id).map(state), app.node_verify(id), app.cosign_verify(id));
    }
    if matches!(app.tree.graph.node(id).kind, crate::graph::NodeKind::Tag { .. }) {
        // An open tag leaves it to its image row; a closed one shows its image's verdict,
        // or its own verification of the image it names when that is not loaded yet.
        if app.tree.open.contains(&id) && app.report_node(id).is_some_and(|i| i != id) {
            return None;
        }
        let image = app.report_node(id)?;
        return combined(app.node_verify(image).map(state), app.node_verify(image), app.cosign_verify(image));
    }
    let image = app.report_node(id).filter(|&i| i != id)?;
    if app.tree.graph.node(id).children.contains(&image) {
        // A tag: its open image row says it; a closed tag says it for its image.
        return if app.tree.open.contains(&id) {
            None
        } else {
            combined(app.node_verify(image).map(state), app.node_verify(image), app.cosign_verify(image))
        };
    }
    if let Some(sig) = app.signature_report(id) {
        return Some(signature_badge(&sig.verdict));
    }
    if let Some(entries) = app.cosign_signature_entries(id) {
        return cosign_entries_badge(&entries);
    }
    match app.node_verify(image)? {
        NodeVerify::Pending => Some((ThemeToken::Pending, PENDING.to_string())),
        NodeVerify::Done(r) if matches!(r.verdict, Verdict::Skipped | Verdict::NotEvaluated { .. }) => {
            Some(verdict_badge(&r.verdict))
        }
        _ => None,
    }
}

/// A row's verdict when cosign is checked too. Where Notation has no policy for the image,
/// cosign alone speaks; where Notation fails, it speaks; where Notation verifies, a cosign
/// signature that fails (or could not be listed) speaks, and an image without any cosign
/// signature stays Notation's "verified" (the panel says there is none). Without keys (no
/// cosign state) the row is Notation's.
fn combined(
    notation_badge: Option<(ThemeToken, String)>,
    notation: Option<&NodeVerify>,
    cosign: Option<&CosignNode>,
) -> Option<(ThemeToken, String)> {
    let Some(cosign) = cosign else { return notation_badge };
    let c = cosign_badge(cosign);
    match notation {
        None => Some(c),
        Some(NodeVerify::Done(r)) if matches!(r.verdict, Verdict::NotEvaluated { .. }) => Some(c),
        Some(NodeVerify::Pending) => notation_badge,
        Some(NodeVerify::Done(r))
            if !matches!(r.verdict, Verdict::Verified | Verdict::VerifiedWithWarnings { .. } | Verdict::Skipped) =>
        {
            notation_badge
        }
        Some(NodeVerify::Error(_)) => notation_badge,
        Some(NodeVerify::Done(_)) => match cosign {
            CosignNode::Done(r) if matches!(r.verdict, CosignVerdict::Failed { .. }) => Some(c),
            CosignNode::Error(_) => Some(c),
            _ => notation_badge,
        },
    }
}

fn cosign_badge(c: &CosignNode) -> (ThemeToken, String) {
    match c {
        CosignNode::Pending => (ThemeToken::Pending, PENDING.to_string()),
        CosignNode::Error(e) => (ThemeToken::Failed, format!("✗ cosign not checked: {}", clip(&sanitize(e), 30))),
        CosignNode::Done(r) => match &r.verdict {
            CosignVerdict::Verified { .. } => (ThemeToken::Verified, "✓ verified (cosign)".into()),
            CosignVerdict::Failed { .. } => (ThemeToken::Failed, "✗ failed (cosign)".into()),
            CosignVerdict::NoSignature => (ThemeToken::Warning, "- unsigned (cosign)".into()),
        },
    }
}

/// A cosign signature node's row: whether one of its signatures verifies with a key.
fn cosign_entries_badge(entries: &[&CosignSignatureReport]) -> Option<(ThemeToken, String)> {
    if entries.is_empty() {
        return None;
    }
    Some(if entries.iter().any(|e| e.outcome == "pass") {
        (ThemeToken::Verified, "✓ verified (cosign)".into())
    } else {
        (ThemeToken::Failed, "✗ failed (cosign)".into())
    })
}

fn outcome_glyph(o: Outcome) -> (ThemeToken, &'static str) {
    match o {
        Outcome::Pass => (ThemeToken::Verified, "✓"),
        Outcome::FailEnforced => (ThemeToken::Failed, "✗"),
        Outcome::FailLogged => (ThemeToken::Warning, "!"),
        Outcome::Skipped => (ThemeToken::Muted, "~"),
        Outcome::NotRun => (ThemeToken::Muted, "·"),
    }
}

struct Doc {
    lines: Vec<Spans>,
    width: usize,
}

impl Doc {
    fn heading(&mut self, text: impl Into<String>) {
        if !self.lines.is_empty() {
            self.lines.push(Vec::new());
        }
        self.lines.push(vec![(ThemeToken::Heading, text.into())]);
    }

    /// `  name       value`, the value sanitised and folded under itself.
    fn field(&mut self, name: &str, value: &str, token: ThemeToken) {
        let lead = format!("  {name:<12} ");
        let room = self.width.saturating_sub(lead.width()).max(12);
        let pieces = fold(&sanitize(value), room);
        for (i, p) in pieces.into_iter().enumerate() {
            let l = if i == 0 { lead.clone() } else { " ".repeat(lead.width()) };
            self.lines.push(vec![(ThemeToken::FieldName, l), (token, p)]);
        }
    }

    /// Text folded at the width, every line after `indent` spaces.
    fn para(&mut self, indent: usize, text: &str, token: ThemeToken) {
        for p in fold(&sanitize(text), self.width.saturating_sub(indent).max(12)) {
            self.lines.push(vec![(token, format!("{}{p}", " ".repeat(indent)))]);
        }
    }
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "—".to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

fn policy_section(app: &App, doc: &mut Doc) {
    doc.heading("Trust policy");
    match (&app.vs.dir, &app.vs.path) {
        (None, _) => doc.field("file", "none: start with --notation-dir DIR", ThemeToken::Muted),
        (Some(_), Some(p)) => doc.field("file", &p.display().to_string(), ThemeToken::Text),
        (Some(d), None) => doc.field("file", &format!("reading {}…", d.display()), ThemeToken::Pending),
    }
    if let Some(e) = &app.vs.error {
        doc.field("state", &format!("✗ not in force: {e}"), ThemeToken::Error);
        if app.vs.base.is_some() {
            doc.para(15, "the last good policy is still in force", ThemeToken::Warning);
        }
    } else if app.vs.base.is_some() {
        doc.field("state", "✓ valid, watched for changes", ThemeToken::Verified);
    }
    if app.vs.what_if.is_active() {
        doc.lines.push(vec![(
            ThemeToken::Match,
            "  ◆ WHAT-IF: edited on screen, not in the file (X resets, W writes)".into(),
        )]);
        let fold_room = doc.width;
        if let Some(last) = doc.lines.pop() {
            let text: String = last.iter().map(|(_, s)| s.as_str()).collect();
            for p in fold(&text, fold_room) {
                doc.lines.push(vec![(ThemeToken::Match, p)]);
            }
        }
    }
}

fn statement_section(app: &App, doc: &mut Doc, report: &ArtifactReport) {
    let Some(applied) = &report.statement else { return };
    doc.heading("Statement");
    doc.field("name", &applied.name, ThemeToken::Text);
    let scope = &report.scope;
    let why = match applied.matched {
        MatchKind::Exact => format!("exact registry scope {scope}"),
        MatchKind::Wildcard => format!("the \"*\" statement (no statement names {scope})"),
    };
    doc.field("applies by", &why, ThemeToken::Text);
    let effective = app.vs.effective();
    let statement = effective.as_ref().and_then(|p| p.statement(&applied.name));
    let file_level = app.vs.base.as_ref().and_then(|p| p.statement(&applied.name)).map(|s| s.level);
    let mut level = applied.level.name().to_string();
    if file_level.is_some_and(|l| l != applied.level) {
        level.push_str(&format!("  ◆ what-if (file: {})", file_level.map_or("?", |l| l.name())));
    }
    doc.field("level", &level, ThemeToken::Text);
    if let Some(s) = statement {
        let stores: Vec<String> = s.trust_stores.iter().map(|t| t.to_string()).collect();
        let ids: Vec<String> = s.trusted_identities.iter().map(|t| t.to_string()).collect();
        let or_none = |v: Vec<String>, sep: &str| if v.is_empty() { "none".to_string() } else { v.join(sep) };
        doc.field("trust stores", &or_none(stores, ", "), ThemeToken::Text);
        doc.field("identities", &or_none(ids, "; "), ThemeToken::Text);
    }
}

fn signature_section(doc: &mut Doc, sig: &SignatureReport, n: usize, of: usize) {
    let short = sanitize(&short_digest(&sig.digest)).into_owned();
    doc.heading(if of > 1 { format!("Signature {n} of {of} · {short}") } else { format!("Signature {short}") });
    let (token, word) = signature_badge(&sig.verdict);
    doc.lines.push(vec![(ThemeToken::FieldName, format!("  {:<12} ", "verdict")), (token, word)]);
    // Checks: a table when there is room for the reason beside it, else the reason below.
    const NAME: usize = 19;
    const OUTCOME: usize = 16;
    let wide = doc.width >= 4 + NAME + OUTCOME + 20;
    doc.lines.push(vec![(ThemeToken::Muted, format!("  {:<w$}{}", "check", "outcome", w = NAME + 2))]);
    // Failures first (the style guide's rule for this panel), otherwise in evaluation order.
    let mut checks: Vec<_> = sig.checks.iter().collect();
    checks.sort_by_key(|c| match c.outcome {
        Outcome::FailEnforced => 0,
        Outcome::FailLogged => 1,
        _ => 2,
    });
    for c in checks {
        let (token, glyph) = outcome_glyph(c.outcome);
        let head = vec![
            (token, format!("  {glyph} ")),
            (ThemeToken::Text, format!("{:<NAME$}", c.check.name())),
            (token, format!("{:<OUTCOME$}", c.outcome.word())),
        ];
        let reason = sanitize(&c.reason).into_owned();
        if wide {
            let indent = 4 + NAME + OUTCOME;
            let pieces = fold(&reason, doc.width - indent);
            let mut first = head;
            first.push((ThemeToken::Muted, pieces[0].clone()));
            doc.lines.push(first);
            for p in &pieces[1..] {
                doc.lines.push(vec![(ThemeToken::Muted, format!("{}{p}", " ".repeat(indent)))]);
            }
        } else {
            doc.lines.push(head);
            if !reason.is_empty() {
                doc.para(6, &reason, ThemeToken::Muted);
            }
        }
    }
    let what = sig.envelope_summary();
    if !what.is_empty() {
        doc.field("envelope", &what.join(" · "), ThemeToken::Text);
    }
    if let Some(s) = &sig.signer {
        doc.field("signer", s, ThemeToken::Text);
    }
    doc.field("signed", &time(sig.signing_time), ThemeToken::Text);
    doc.field("expires", &time(sig.expiry), ThemeToken::Text);
    if sig.timestamp.is_some() {
        doc.field("timestamp", &time(sig.timestamp), ThemeToken::Text);
    }
}

/// cosign's check of the image: its verdict, then each signature and attestation found with
/// how it fared; without keys, only a hint where the image has cosign signatures.
fn cosign_section(app: &App, doc: &mut Doc, image: NodeId) {
    let Some(state) = app.cosign_verify(image) else {
        let has_cosign = app.tree.graph.node(image).children.iter().any(|&c| {
            matches!(&app.tree.graph.node(c).kind, crate::graph::NodeKind::Artifact(a)
                if super::super::app::is_cosign_signature(a.kind))
        });
        if has_cosign {
            doc.heading("Cosign");
            doc.para(2, "not checked: no cosign key (start with --cosign-key KEY.pub)", ThemeToken::Muted);
        }
        return;
    };
    let (token, word) = cosign_badge(state);
    // The heading says "Cosign" already; the row's "(cosign)" would only repeat it.
    let word = word.replace(" (cosign)", "");
    doc.lines.push(Vec::new());
    doc.lines.push(vec![(ThemeToken::Heading, "Cosign ".into()), (token, word)]);
    let report = match state {
        CosignNode::Pending => return,
        CosignNode::Error(e) => {
            doc.para(2, e, ThemeToken::Text);
            return;
        }
        CosignNode::Done(r) => r,
    };
    match &report.verdict {
        CosignVerdict::Verified { reason } | CosignVerdict::Failed { reason } => doc.para(2, reason, ThemeToken::Text),
        CosignVerdict::NoSignature => doc.para(
            2,
            "no cosign signature: none in the .sig tag, no Sigstore bundle or cosign signature among the referrers",
            ThemeToken::Text,
        ),
    }
    let keys: Vec<&str> = app.cosign.keys.iter().map(|k| k.name.as_str()).collect();
    doc.field("keys", &keys.join(", "), ThemeToken::Text);
    for (title, list) in [("signature", &report.signatures), ("attestation", &report.attestations)] {
        for s in list {
            let (token, glyph) =
                if s.outcome == "pass" { (ThemeToken::Verified, "✓") } else { (ThemeToken::Failed, "✗") };
            doc.para(2, &format!("{glyph} {title} {}", s.location), token);
            doc.field("format", &s.format, ThemeToken::Text);
            if let Some(p) = &s.predicate_type {
                doc.field("predicate", p, ThemeToken::Text);
            }
            doc.field("result", &s.reason, token);
            doc.field("tlog", &s.transparency_log, ThemeToken::Muted);
        }
    }
}

/// The panel's lines for node `id` at `width` columns.
pub fn lines(app: &App, id: NodeId, width: usize) -> Vec<Spans> {
    let mut doc = Doc { lines: Vec::new(), width: width.max(20) };
    let Some(image) = app.report_node(id) else {
        doc.para(
            0,
            "Select an image, its tag or one of its Notation signatures to see how it verifies.",
            ThemeToken::Muted,
        );
        policy_section(app, &mut doc);
        return doc.lines;
    };
    let only_signature = (image != id && !app.tree.graph.node(id).children.contains(&image)).then_some(id);
    match app.node_verify(image) {
        None if app.vs.dir.is_none() => {
            doc.lines.push(vec![(ThemeToken::Muted, "? not verified".into())]);
            doc.para(2, "verification is off: no Notation directory (start with --notation-dir DIR)", ThemeToken::Text);
        }
        None | Some(NodeVerify::Pending) => {
            doc.lines.push(vec![(ThemeToken::Pending, PENDING.into())]);
        }
        Some(NodeVerify::Error(e)) => {
            doc.lines.push(vec![(ThemeToken::Failed, "✗ not verified".into())]);
            doc.para(2, e, ThemeToken::Text);
        }
        Some(NodeVerify::Done(report)) => {
            let sig = only_signature.and_then(|s| app.signature_report(s));
            let (token, word) = match sig {
                Some(s) => signature_badge(&s.verdict),
                None => verdict_badge(&report.verdict),
            };
            let what = if sig.is_some() { "signature" } else { "image" };
            doc.lines.push(vec![(ThemeToken::Heading, format!("Verdict ({what}) ")), (token, word)]);
            if sig.is_none() {
                match &report.verdict {
                    Verdict::Verified => {}
                    Verdict::VerifiedWithWarnings { warnings } => {
                        for w in warnings {
                            doc.para(2, &format!("warning: {w}"), ThemeToken::Warning);
                        }
                    }
                    Verdict::Failed { reason, .. } | Verdict::NotEvaluated { reason } => {
                        doc.para(2, reason, ThemeToken::Text)
                    }
                    Verdict::Skipped => {
                        doc.para(2, "the statement's level is skip: nothing is checked", ThemeToken::Text)
                    }
                    Verdict::NoSignature => doc.para(2, "no Notation signature refers to this image", ThemeToken::Text),
                }
            }
            statement_section(app, &mut doc, report);
            let sigs: Vec<&SignatureReport> = match sig {
                Some(s) => vec![s],
                None => report.signatures.iter().collect(),
            };
            let of = sigs.len();
            for (i, s) in sigs.into_iter().enumerate() {
                signature_section(&mut doc, s, i + 1, of);
            }
        }
    }
    cosign_section(app, &mut doc, image);
    policy_section(app, &mut doc);
    let key = |a: Action| first_key(app, a).unwrap_or_default();
    doc.heading("What-if");
    let write = match first_key(app, Action::WritePolicy) {
        Some(k) => format!(" · {k} write to file"),
        None => " · (read-only: not written to the file)".to_string(),
    };
    doc.para(
        2,
        &format!(
            "{} level · {} trust store · {} identity · {} reset{write}",
            key(Action::WhatIfLevel),
            key(Action::WhatIfStore),
            key(Action::WhatIfIdentity),
            key(Action::WhatIfReset),
        ),
        ThemeToken::HintDesc,
    );
    doc.lines
}

/// The first key bound to `action`, if it has one (a mutating action has none under --read-only).
pub fn first_key(app: &App, action: Action) -> Option<String> {
    app.look.keymap.get(action).and_then(|b| b.keys.first()).map(|k| k.to_string())
}
