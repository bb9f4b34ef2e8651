//! An explanation and a denial as lines of text, for `sigscope explain` and the TUI's panel.
//! Every piece of policy or registry text is sanitised.

use crate::sanitize::sanitize;

use super::denial::Denial;
use super::replay::{EntryReplay, Explanation, MatchReport, Outcome, RuleReplay, SetReplay};

fn word(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::NotReplayed => "not replayed",
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
    for n in &r.notes {
        s.push(format!("    {}: {} — {}", n.what, word(n.outcome), sanitize(&n.reason)));
    }
    if r.attestor_sets.is_empty() && r.notes.is_empty() {
        s.push(format!("    {}", sanitize(&r.reason)));
    }
}

fn set_lines(s: &mut Vec<String>, set: &SetReplay, indent: usize) {
    let pad = " ".repeat(indent);
    s.push(format!(
        "{pad}{}: {} of {} entries needed, {} passed: {}",
        set.path,
        set.required,
        set.entries.len(),
        set.passed,
        word(set.outcome)
    ));
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
