//! An explanation and a denial as lines of text, for `sigscope explain` and the TUI's panel.
//! Every piece of policy or registry text is sanitised.

use crate::sanitize::sanitize;

use super::attestations::AttestationReplay;
use super::conditions::ConditionsReport;
use super::denial::Denial;
use super::replay::{EntryReplay, Explanation, MatchReport, ReplayOutcome, RuleReplay, SetReplay};

fn word(o: ReplayOutcome) -> &'static str {
    match o {
        ReplayOutcome::Pass => "pass",
        ReplayOutcome::Fail => "FAIL",
        ReplayOutcome::NotReplayed => "not replayed",
    }
}

/// What a pasted denial says, one field a line.
pub fn denial_lines(d: &Denial) -> Vec<String> {
    let mut s = vec!["The denial says:".to_string()];
    if let Some(r) = &d.resource {
        s.push(format!("  resource  {}", sanitize(&r.display())));
    }
    if let Some(w) = &d.webhook {
        s.push(format!("  webhook   {}", sanitize(w)));
    }
    for e in &d.entries {
        let name = [e.policy.as_deref(), e.rule.as_deref()].into_iter().flatten().collect::<Vec<_>>().join("/");
        s.push(format!("  {}", sanitize(if name.is_empty() { "(rule not named)" } else { &name })));
        if let Some(i) = &e.image {
            s.push(format!("    image     {}", sanitize(i)));
        }
        if let Some(p) = &e.attestor_path {
            s.push(format!("    attestor  {}", sanitize(p)));
        }
        s.push(format!("    cause     {}", e.cause.slug()));
        if let Some(note) = e.cause_note {
            s.push(format!("    note      {note}"));
        }
        s.push(format!("    message   {}", sanitize(&e.message)));
    }
    s
}

/// The replay: the verdict, each rule with its match, attestor sets and notes, then the
/// closing sentence.
pub fn explanation_lines(e: &Explanation) -> Vec<String> {
    let mut s = vec![format!("{}: {}", sanitize(&e.image), e.admission.word())];
    if let Some(what) = e.resource.describe() {
        s.push(format!("  admitting {}", sanitize(&what)));
    }
    for r in &e.rules {
        rule_lines(&mut s, r);
    }
    s.push(String::new());
    s.push(sanitize(&e.summary).into_owned());
    s
}

fn rule_lines(s: &mut Vec<String>, r: &RuleReplay) {
    let head = format!("{} {} / rule {}", r.kind, r.policy, r.rule);
    let Some(outcome) = r.outcome else {
        s.push(format!("  {}: does not apply — {}", sanitize(&head), sanitize(&r.reason)));
        return;
    };
    s.push(format!("  {} [{}, {}]: {}", sanitize(&head), r.failure_action, r.verifier, word(outcome)));
    if let MatchReport::Matched { normalised, pattern } = &r.matched {
        s.push(format!("    matches   {} ← imageReferences {:?}", sanitize(normalised), sanitize(pattern)));
    }
    for set in &r.attestor_sets {
        set_lines(s, set, 4);
    }
    for a in &r.attestations {
        attestation_lines(s, a);
    }
    for n in &r.notes {
        s.push(format!("    {}: {} — {}", n.what, word(n.outcome), sanitize(&n.reason)));
    }
    if r.attestor_sets.is_empty() && r.attestations.is_empty() && r.notes.is_empty() {
        s.push(format!("    {}", sanitize(&r.reason)));
    }
}

/// An attestor set's line, for image attestors and attestations alike.
fn set_header(pad: &str, path: &str, required: usize, entries: usize, passed: usize, outcome: ReplayOutcome) -> String {
    format!("{pad}{path}: {required} of {entries} entries needed, {passed} passed: {}", word(outcome))
}

fn set_lines(s: &mut Vec<String>, set: &SetReplay, indent: usize) {
    let pad = " ".repeat(indent);
    s.push(set_header(&pad, &set.path, set.required, set.entries.len(), set.passed, set.outcome));
    for e in &set.entries {
        entry_lines(s, e, indent + 2);
    }
}

fn entry_lines(s: &mut Vec<String>, e: &EntryReplay, indent: usize) {
    let pad = " ".repeat(indent);
    s.push(format!("{pad}{}.{}: {} — {}", e.path, e.kind, word(e.result.outcome), sanitize(&e.result.reason)));
    for sig in &e.result.signatures {
        s.push(format!("{pad}  {}", sanitize(sig)));
    }
    if let Some(n) = &e.nested {
        set_lines(s, n, indent + 2);
    }
}

/// One attestation: its sets and entries, the signature check, each statement found and each
/// condition with the value found beside the value expected.
fn attestation_lines(s: &mut Vec<String>, a: &AttestationReplay) {
    let name = a.name.as_deref().map(|n| format!(" (name {})", sanitize(n))).unwrap_or_default();
    s.push(format!(
        "    {} type {}{name}: {} — {}",
        a.path,
        sanitize(&a.attestation_type),
        word(a.outcome),
        sanitize(&a.reason)
    ));
    for set in &a.sets {
        s.push(set_header("      ", &set.path, set.required, set.entries.len(), set.passed, set.outcome));
        for e in &set.entries {
            s.push(format!("        {}.{}: {} — {}", e.path, e.kind, word(e.outcome), sanitize(&e.reason)));
            // Notary's referrers carry their own signature lines below.
            if e.statements.iter().all(|st| st.signature.is_none()) {
                s.push(format!(
                    "          signature: {} — {}",
                    word(e.signature.outcome),
                    sanitize(&e.signature.reason)
                ));
                for line in &e.signature.signatures {
                    s.push(format!("            {}", sanitize(line)));
                }
            }
            for st in &e.statements {
                let verdict = match st.outcome {
                    Some(o) => word(o),
                    None => "other type, not checked",
                };
                s.push(format!("          {} (type {}): {verdict}", sanitize(&st.from), sanitize(&st.statement_type)));
                if let Some(sig) = &st.signature {
                    s.push(format!("            signature: {} — {}", word(sig.outcome), sanitize(&sig.reason)));
                    for line in &sig.signatures {
                        s.push(format!("              {}", sanitize(line)));
                    }
                }
                if let Some(c) = &st.conditions {
                    condition_lines(s, c);
                }
            }
        }
    }
}

fn condition_lines(s: &mut Vec<String>, c: &ConditionsReport) {
    for r in &c.conditions {
        let shown = |v: &serde_json::Value| match v {
            serde_json::Value::String(t) => t.clone(),
            other => other.to_string(),
        };
        let found = r.found.as_ref().map_or_else(|| "?".to_string(), |v| v.to_string());
        let expected = r.expected.as_ref().map_or_else(|| shown(&r.value), |v| v.to_string());
        let why = if r.reason.is_empty() { String::new() } else { format!(" — {}", r.reason) };
        s.push(format!(
            "            {}: {} — key {} found {found}, {} {expected}{why}",
            r.at,
            word(r.outcome),
            sanitize(&shown(&r.key)),
            sanitize(&r.operator),
        ));
    }
    if c.outcome != ReplayOutcome::Pass || c.conditions.is_empty() {
        s.push(format!("            conditions: {} — {}", word(c.outcome), sanitize(&c.reason)));
    }
}
