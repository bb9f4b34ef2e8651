//! A pasted Kyverno denial taken apart: kubectl's error, an event, or a controller log line, in
//! every wording Kyverno has used (see `tests/vectors/kyverno/admission-denials.yaml`).
//!
//! ClusterPolicy denials end in a YAML map `policy -> rule -> message`
//! (`pkg/webhooks/utils/block.go`), folded at 80 columns up to 1.18 and not from 1.19: that
//! part is read with a YAML parser. Terminals re-wrap pasted text and lose indentation, which can
//! break the YAML; a line-based reading of the same map is the fallback.

use super::cause::{Cause, RuleMessage, analyse, classify_reason, collapse};

/// Longer than any real denial; a paste beyond it is refused rather than scanned.
pub const MAX_DENIAL_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Form {
    /// `... blocked due to the following policies` with the YAML map (ClusterPolicy, Policy).
    ClusterPolicy,
    /// `Policy X failed: …` / `Policy X error: …` joined by `"; "` (ImageValidatingPolicy).
    ImageValidatingPolicy,
    /// A PolicyViolation event (`policy P/R fail: …`, `Pod ns/name: [rule] fail …`).
    Event,
    /// A controller log line (`"error"="…"`) or a bare rule message.
    RuleMessage,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resource {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Resource {
    fn parse(text: &str) -> Option<Resource> {
        let mut parts = text.splitn(3, '/');
        let kind = parts.next()?.to_string();
        let namespace = parts.next()?.to_string();
        let name = parts.next().unwrap_or("").to_string();
        (!kind.is_empty()).then_some(Resource { kind, namespace, name })
    }

    pub fn display(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }

    /// The resource as the replay reads it (an empty part is not known).
    pub fn admitted(&self) -> super::resources::AdmittedResource {
        let known = |s: &str| (!s.is_empty()).then(|| s.to_string());
        super::resources::AdmittedResource {
            kind: known(&self.kind),
            namespace: known(&self.namespace),
            name: known(&self.name),
        }
    }
}

/// One failing rule (or one ImageValidatingPolicy) of a denial.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub policy: Option<String>,
    pub rule: Option<String>,
    /// The message as Kyverno wrote it (folding undone).
    pub message: String,
    pub image: Option<String>,
    pub attestor_path: Option<String>,
    pub predicate_type: Option<String>,
    pub cause: Cause,
    /// Said plainly when the denial does not carry the cause.
    pub cause_note: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Denial {
    pub form: Form,
    pub webhook: Option<String>,
    pub resource: Option<Resource>,
    pub entries: Vec<Entry>,
}

impl Denial {
    /// Every image the denial names, first seen first.
    pub fn images(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for img in self.entries.iter().filter_map(|e| e.image.as_deref()) {
            if !out.contains(&img) {
                out.push(img);
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DenialError {
    #[error("the pasted text is empty")]
    Empty,
    #[error("the pasted text is longer than {MAX_DENIAL_BYTES} bytes; paste only the denial")]
    TooLong,
    #[error(
        "could not find an image reference in this text (nor a Kyverno webhook, policy or rule): paste the whole message kubectl, the event or the log printed"
    )]
    NothingFound,
}

const NO_CAUSE_EMPTY: &str = "the denial does not carry the cause: the policy's validation has no message, and before Kyverno 1.17 that leaves nothing after the colon; only replaying the verification can tell why";
const NO_CAUSE_CEL_INDEX: &str = "the denial does not carry the cause: Kyverno 1.17+ says only which validation failed (\"CEL expression validation failed at index N\"); only replaying the verification can tell why";
const POLICY_AUTHORED: &str = "the text after \"failed:\" is the policy author's own message, not the verifier's error (kyverno/kyverno#16036); only replaying the verification can tell the real cause";

pub fn parse(text: &str) -> Result<Denial, DenialError> {
    if text.len() > MAX_DENIAL_BYTES {
        return Err(DenialError::TooLong);
    }
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    if text.trim().is_empty() {
        return Err(DenialError::Empty);
    }
    let text = undo_hard_wraps(&text);
    let webhook = find_webhook(&text);
    if let Some((start, end)) = find_loose(&text, "was blocked due to the following policies") {
        let resource = resource_before(&text[..start]);
        let entries = cluster_entries(&text[end..]);
        if !entries.is_empty() {
            return Ok(Denial { form: Form::ClusterPolicy, webhook, resource, entries });
        }
    }
    let flat = collapse(&text);
    let ivp = ivp_entries(&flat);
    if !ivp.is_empty() {
        return Ok(Denial { form: Form::ImageValidatingPolicy, webhook, resource: None, entries: ivp });
    }
    if let Some((resource, entry)) = event_entry(&flat) {
        return Ok(Denial { form: Form::Event, webhook, resource, entries: vec![entry] });
    }
    let message = log_error_value(&text).unwrap_or_else(|| after_denied(&flat).to_string());
    let analysed = analyse(&message);
    if analysed.image.is_none() && analysed.attestor_path.is_none() && analysed.cause.is_none() && webhook.is_none() {
        return Err(DenialError::NothingFound);
    }
    Ok(Denial {
        form: Form::RuleMessage,
        webhook,
        resource: None,
        entries: vec![entry_from(None, None, message, analysed)],
    })
}

/// A terminal that hard-wraps at W columns leaves several lines of exactly W characters, cut
/// anywhere, even inside an image reference; Kyverno's own folding breaks only at spaces, so its
/// lines vary. Lines at that width are joined to the next one as they were before the wrap.
fn undo_hard_wraps(text: &str) -> String {
    let lengths: Vec<usize> = text.lines().map(|l| l.chars().count()).collect();
    let width = lengths.iter().copied().max().unwrap_or(0);
    let at_width = lengths.iter().filter(|&&n| n == width).count();
    let lines: Vec<&str> = text.lines().collect();
    // One line at the width is a hard wrap only when it is a one-line message cut once: the
    // continuation starts at column 0, where Kyverno's folding always indents, and the cut is
    // not after the punctuation a writer ends a line with.
    let one_line_cut = at_width == 1
        && lines.iter().filter(|l| !l.trim().is_empty()).count() == 2
        && lines.last().is_some_and(|l| !l.starts_with(char::is_whitespace))
        && lengths.first() == Some(&width)
        && !lines[0].ends_with([':', ',', ';']);
    if width < 40 || (at_width < 2 && !one_line_cut) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        if lengths[i] != width && i + 1 < lines.len() {
            out.push('\n');
        }
    }
    out
}

fn entry_from(policy: Option<String>, rule: Option<String>, message: String, m: RuleMessage) -> Entry {
    Entry {
        policy,
        rule,
        message,
        image: m.image,
        attestor_path: m.attestor_path,
        predicate_type: m.predicate_type,
        cause: m.cause.unwrap_or(Cause::Unclassified),
        cause_note: None,
    }
}

/// Finds `phrase` with any whitespace run (newlines from re-wrapping included) between words.
fn find_loose(hay: &str, phrase: &str) -> Option<(usize, usize)> {
    let words: Vec<&str> = phrase.split(' ').collect();
    let mut from = 0;
    while let Some(rel) = hay[from..].find(words[0]) {
        let start = from + rel;
        let mut pos = start + words[0].len();
        let mut ok = true;
        for w in &words[1..] {
            let rest = &hay[pos..];
            let trimmed = rest.trim_start();
            if trimmed.len() == rest.len() || !trimmed.starts_with(w) {
                ok = false;
                break;
            }
            pos += rest.len() - trimmed.len() + w.len();
        }
        if ok {
            return Some((start, pos));
        }
        from = start + words[0].len();
    }
    None
}

fn find_webhook(text: &str) -> Option<String> {
    let (_, end) = find_loose(text, "admission webhook")?;
    let rest = text[end..].trim_start().trim_start_matches('\\');
    let rest = rest.strip_prefix('"')?;
    let name: String = rest.chars().take_while(|c| *c != '"' && *c != '\\').filter(|c| !c.is_whitespace()).collect();
    (!name.is_empty()).then_some(name)
}

fn resource_before(head: &str) -> Option<Resource> {
    let flat = collapse(head);
    let i = flat.rfind("resource ")?;
    Resource::parse(flat[i + "resource ".len()..].split(' ').next()?)
}

fn after_denied(flat: &str) -> &str {
    flat.split_once("denied the request:").map_or(flat, |(_, r)| r.trim())
}

fn cluster_entries(tail: &str) -> Vec<Entry> {
    let map = yaml_rule_map(tail)
        .or_else(|| Some(lenient_rule_map(tail)).filter(|m| !m.is_empty()))
        .unwrap_or_else(|| flat_rule_map(&collapse(tail)));
    map.into_iter()
        .map(|(policy, rule, message)| {
            let analysed = analyse(&message);
            entry_from(Some(policy), Some(rule), message, analysed)
        })
        .collect()
}

type RuleMap = Vec<(String, String, String)>;

/// The map as Kyverno encoded it; `None` when the text is not that shape (re-wrapped, cut, or
/// followed by other output), so the lenient reading takes over.
fn yaml_rule_map(tail: &str) -> Option<RuleMap> {
    let doc = dedent(tail);
    let value: serde_norway::Value = serde_norway::from_str(&doc).ok()?;
    let policies = value.as_mapping()?;
    let mut out = Vec::new();
    for (policy, rules) in policies {
        let rules = rules.as_mapping()?;
        for (rule, message) in rules {
            out.push((policy.as_str()?.to_string(), rule.as_str()?.to_string(), message.as_str()?.to_string()));
        }
    }
    (!out.is_empty()).then_some(out)
}

fn dedent(text: &str) -> String {
    // ASCII blanks only, so every cut falls on a character boundary.
    let blanks = |l: &str| l.bytes().take_while(|b| *b == b' ' || *b == b'\t').count();
    let indent = text.lines().filter(|l| !l.trim().is_empty()).map(blanks).min().unwrap_or(0);
    text.lines().map(|l| &l[blanks(l).min(indent)..]).collect::<Vec<_>>().join("\n")
}

fn is_key(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

enum Pending {
    None,
    Single(String),
    Double(String),
    Block(String),
    Plain(String),
}

/// The same map read line by line, indentation ignored: a `name:` line opens a policy, a
/// `name: value` line a rule; quoted values run to their closing quote whatever the line
/// breaks.
fn lenient_rule_map(tail: &str) -> RuleMap {
    let mut out: RuleMap = Vec::new();
    let mut policy: Option<String> = None;
    let mut rule = String::new();
    let mut pending = Pending::None;
    let flush = |out: &mut RuleMap, policy: &Option<String>, rule: &str, value: String| {
        if let Some(p) = policy {
            out.push((p.clone(), rule.to_string(), value.trim().to_string()));
        }
    };
    for raw in tail.lines() {
        let line = raw.trim();
        let double = matches!(pending, Pending::Double(_));
        match &mut pending {
            Pending::Single(buf) | Pending::Double(buf) => {
                let sep = if line.is_empty() {
                    "\n"
                } else if buf.ends_with('\n') || buf.is_empty() {
                    ""
                } else {
                    " "
                };
                let mut joined = std::mem::take(buf);
                joined.push_str(sep);
                joined.push_str(line);
                match close_quoted(&joined, double) {
                    Some((value, rest)) => {
                        flush(&mut out, &policy, &rule, value);
                        pending = Pending::None;
                        policy_after_quote(rest, &mut policy);
                    }
                    None => pending = if double { Pending::Double(joined) } else { Pending::Single(joined) },
                }
                continue;
            }
            _ => {}
        }
        let (key, value) = match line.split_once(':') {
            Some((k, v)) if is_key(k) && (v.is_empty() || v.starts_with(' ')) => (Some(k), v.trim()),
            _ => (None, ""),
        };
        match (key, &mut pending) {
            (Some(k), _) if value.is_empty() => {
                finish(&mut pending, &mut out, &policy, &rule);
                policy = Some(k.to_string());
            }
            (Some(k), _) if policy.is_some() => {
                finish(&mut pending, &mut out, &policy, &rule);
                rule = k.to_string();
                pending = if let Some(v) = value.strip_prefix('\'') {
                    match close_quoted(v, false) {
                        Some((done, rest)) => {
                            flush(&mut out, &policy, &rule, done);
                            policy_after_quote(rest, &mut policy);
                            Pending::None
                        }
                        None => Pending::Single(v.to_string()),
                    }
                } else if let Some(v) = value.strip_prefix('"') {
                    match close_quoted(v, true) {
                        Some((done, rest)) => {
                            flush(&mut out, &policy, &rule, done);
                            policy_after_quote(rest, &mut policy);
                            Pending::None
                        }
                        None => Pending::Double(v.to_string()),
                    }
                } else if value.starts_with('|') || value.starts_with('>') {
                    Pending::Block(String::new())
                } else {
                    Pending::Plain(value.to_string())
                };
            }
            (_, Pending::Block(buf)) => {
                buf.push_str(line);
                buf.push('\n');
            }
            (_, Pending::Plain(buf)) if !line.is_empty() => {
                buf.push(' ');
                buf.push_str(line);
            }
            _ => {}
        }
    }
    finish(&mut pending, &mut out, &policy, &rule);
    out
}

fn finish(pending: &mut Pending, out: &mut RuleMap, policy: &Option<String>, rule: &str) {
    let value = match std::mem::replace(pending, Pending::None) {
        Pending::None => return,
        // A quote never closed: the paste was cut; keep what there is.
        Pending::Single(v) | Pending::Double(v) | Pending::Block(v) | Pending::Plain(v) => v,
    };
    if let Some(p) = policy {
        out.push((p.clone(), rule.to_string(), value.trim().to_string()));
    }
}

/// The value of a quoted scalar whose opening quote is already consumed, and the text after
/// its closing quote, if it closes in `s`.
fn close_quoted(s: &str, double: bool) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (c, double) {
            ('\'', false) if chars.peek().map(|p| p.1) == Some('\'') => {
                chars.next();
                out.push('\'');
            }
            ('\'', false) | ('"', true) => return Some((out, &s[i + 1..])),
            ('\\', true) => match chars.next().map(|p| p.1) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            },
            _ => out.push(c),
        }
    }
    None
}

/// A policy name glued after a closing quote (`…'next-policy:`) opens that policy: some
/// tools join the map's lines without their newlines.
fn policy_after_quote(rest: &str, policy: &mut Option<String>) {
    if let Some(k) = rest.trim().strip_suffix(':')
        && is_key(k)
    {
        *policy = Some(k.to_string());
    }
}

/// The map with every line break gone (`policy: rule: 'message' rule: 'message' policy: …`),
/// as log shippers and CI tools print it. Quoted values are exact; a plain value runs to the
/// end.
fn flat_rule_map(flat: &str) -> RuleMap {
    let mut out = Vec::new();
    let mut policy: Option<String> = None;
    let mut rest = flat.trim_start_matches(':').trim();
    while let Some((first, after)) = take_key(rest) {
        let (rule, after) = match take_key(after) {
            Some((second, after2)) => {
                policy = Some(first.to_string());
                (second, after2)
            }
            None => (first, after),
        };
        let Some(p) = policy.clone() else { break };
        let after = after.trim_start();
        if let Some(q) = after.strip_prefix('\'') {
            match close_quoted(q, false) {
                Some((value, tail)) => {
                    out.push((p, rule.to_string(), value));
                    rest = tail.trim_start();
                }
                None => {
                    out.push((p, rule.to_string(), q.to_string()));
                    break;
                }
            }
        } else {
            out.push((p, rule.to_string(), after.to_string()));
            break;
        }
    }
    out
}

fn take_key(s: &str) -> Option<(&str, &str)> {
    let (k, rest) = s.trim_start().split_once(": ")?;
    is_key(k).then_some((k, rest))
}

fn ivp_entries(flat: &str) -> Vec<Entry> {
    let tokens: Vec<&str> = flat.split(' ').collect();
    let starts: Vec<usize> = (0..tokens.len())
        .filter(|&i| {
            tokens[i] == "Policy"
                && matches!(tokens.get(i + 2), Some(&"failed:") | Some(&"error:"))
                && (i == 0 || tokens[i - 1].ends_with(';') || tokens[i - 1] == "request:")
        })
        .collect();
    let mut out = Vec::new();
    for (n, &i) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(tokens.len());
        let mut message = tokens[i + 3..end].join(" ");
        if starts.get(n + 1).is_some() {
            message = message.trim_end_matches(';').trim_end().to_string();
        }
        let errored = tokens[i + 2] == "error:";
        let policy = Some(tokens[i + 1].to_string());
        let (cause, note) = if message.is_empty() {
            (Cause::NotInDenial, Some(NO_CAUSE_EMPTY))
        } else if message.starts_with("CEL expression validation failed at index") {
            (Cause::NotInDenial, Some(NO_CAUSE_CEL_INDEX))
        } else if errored {
            (classify_reason(&message).unwrap_or(Cause::Unclassified), None)
        } else {
            (Cause::PolicyAuthored, Some(POLICY_AUTHORED))
        };
        out.push(Entry {
            policy,
            rule: None,
            message,
            image: None,
            attestor_path: None,
            predicate_type: None,
            cause,
            cause_note: note,
        });
    }
    out
}

/// `policy P/R fail: …` (PolicyViolation events) and `Kind ns/name: [rule] fail (blocked); …`.
fn event_entry(flat: &str) -> Option<(Option<Resource>, Entry)> {
    if let Some(rest) = flat.strip_prefix("policy ") {
        let (pr, tail) = rest.split_once(' ')?;
        let message = tail.strip_prefix("fail: ").or_else(|| tail.strip_prefix("error: "))?;
        let (policy, rule) = pr.split_once('/')?;
        let analysed = analyse(message);
        return Some((None, entry_from(Some(policy.into()), Some(rule.into()), message.into(), analysed)));
    }
    let open = flat.find(": [")?;
    let close = open + flat[open..].find(']')?;
    let rule = &flat[open + 3..close];
    let after = &flat[close + 1..];
    let (verdict, message) = after.split_once("; ")?;
    if !(verdict.trim_start().starts_with("fail") || verdict.trim_start().starts_with("error")) || !is_key(rule) {
        return None;
    }
    let (kind, nsname) = flat[..open].split_once(' ')?;
    let resource = Resource::parse(&format!("{kind}/{nsname}"));
    let analysed = analyse(message);
    Some((resource, entry_from(None, Some(rule.into()), message.into(), analysed)))
}

/// The `"error"="…"` value of a logr line, escapes undone.
fn log_error_value(text: &str) -> Option<String> {
    let i = text.find("\"error\"=\"")?;
    let mut out = String::new();
    let mut chars = text[i + 9..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            _ => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOLDED: &str = "Error from server: admission webhook \"mutate.kyverno.svc-fail\" denied the request:\n\nresource Pod/default/signed-other was blocked due to the following policies\n\ncheck-image:\n  check-image: 'failed to verify image ghcr.io/kyverno/test-verify-image:signed-by-someone-else:\n    .attestors[0].entries[0].keys: no matching signatures:\n\n    invalid signature when validating ASN.1 encoded signature'\n";

    #[test]
    fn folded_yaml_is_read() {
        let d = parse(FOLDED).unwrap();
        assert_eq!(d.form, Form::ClusterPolicy);
        assert_eq!(d.webhook.as_deref(), Some("mutate.kyverno.svc-fail"));
        assert_eq!(d.resource.as_ref().unwrap().display(), "Pod/default/signed-other");
        let e = &d.entries[0];
        assert_eq!(e.image.as_deref(), Some("ghcr.io/kyverno/test-verify-image:signed-by-someone-else"));
        assert_eq!(e.attestor_path.as_deref(), Some(".attestors[0].entries[0].keys"));
        assert_eq!(e.cause, Cause::SignatureMismatch);
        assert!(e.message.contains("signatures:\ninvalid signature"), "{:?}", e.message);
    }

    #[test]
    fn rewrapped_without_indentation_reads_the_same() {
        let wrapped: String = FOLDED
            .lines()
            .flat_map(|l| {
                let t = l.trim_start();
                let mut parts = Vec::new();
                let mut rest = t;
                while rest.len() > 50 {
                    // An editor's re-flow: breaks at spaces, never inside a word.
                    let cut = rest[..50].rfind(' ').or_else(|| rest.find(' ')).unwrap_or(rest.len());
                    parts.push(rest[..cut].to_string());
                    rest = rest[cut..].trim_start();
                }
                parts.push(rest.to_string());
                parts
            })
            .collect::<Vec<_>>()
            .join("\n");
        let d = parse(&wrapped).unwrap();
        let e = &d.entries[0];
        assert_eq!(d.resource.as_ref().unwrap().name, "signed-other");
        assert_eq!(e.policy.as_deref(), Some("check-image"));
        assert_eq!(e.rule.as_deref(), Some("check-image"));
        assert_eq!(e.image.as_deref(), Some("ghcr.io/kyverno/test-verify-image:signed-by-someone-else"));
        assert_eq!(e.attestor_path.as_deref(), Some(".attestors[0].entries[0].keys"));
        assert_eq!(e.cause, Cause::SignatureMismatch);
    }

    #[test]
    fn terminal_hard_wrap_inside_words_is_undone() {
        let wrapped: String = FOLDED
            .lines()
            .flat_map(|l| {
                let chars: Vec<char> = l.chars().collect();
                let mut parts: Vec<String> = chars.chunks(60).map(|c| c.iter().collect()).collect();
                if parts.is_empty() {
                    parts.push(String::new());
                }
                parts
            })
            .collect::<Vec<_>>()
            .join("\n");
        let d = parse(&wrapped).unwrap();
        assert_eq!(d.webhook.as_deref(), Some("mutate.kyverno.svc-fail"));
        let e = &d.entries[0];
        assert_eq!(e.image.as_deref(), Some("ghcr.io/kyverno/test-verify-image:signed-by-someone-else"));
        assert_eq!(e.attestor_path.as_deref(), Some(".attestors[0].entries[0].keys"));
        assert_eq!(e.cause, Cause::SignatureMismatch);
    }

    #[test]
    fn a_shell_prompt_after_the_paste_is_not_part_of_the_map() {
        let text = format!("{FOLDED}user@host:~$ kubectl get pods\n");
        let d = parse(&text).unwrap();
        assert_eq!(d.entries.len(), 1);
        assert_eq!(d.entries[0].cause, Cause::SignatureMismatch);
        let cp = format!(
            "{FOLDED}\n\nError from server: admission webhook \"mutate.kyverno.svc-fail\" denied the request:\n"
        );
        assert_eq!(parse(&cp).unwrap().entries.len(), 1, "a second paste's header adds no rule");
    }

    #[test]
    fn shapes_seen_in_the_wild() {
        // Every line break gone, as a GitOps controller's status prints it.
        let flat = "dry-run failed: admission webhook \"validate.kyverno.svc-fail\" denied the request:   resource Pod/shop/web was blocked due to the following policies   verify-images:   check-sig: 'failed to verify image ghcr.io/acme/web:1.2: .attestors[0].entries[0].keys: no signatures found'   check-att: 'unverified image ghcr.io/acme/web:1.2' other-policy:   r: 'missing digest for ghcr.io/acme/web:1.2'  ";
        let d = parse(flat).unwrap();
        let got: Vec<_> =
            d.entries.iter().map(|e| (e.policy.clone().unwrap(), e.rule.clone().unwrap(), e.cause.clone())).collect();
        assert_eq!(
            got,
            [
                ("verify-images".to_string(), "check-sig".to_string(), Cause::NoSignature),
                ("verify-images".to_string(), "check-att".to_string(), Cause::RequiredButNotVerified),
                ("other-policy".to_string(), "r".to_string(), Cause::MissingDigest),
            ]
        );
        assert_eq!(d.resource.unwrap().display(), "Pod/shop/web");
        // A colon after "policies", no blank lines, the webhook name on the next line.
        let d = parse("Error from server: error when creating \"web.yaml\": admission webhook\n   \"mutate.kyverno.svc-fail\" denied the request:\nresource Deployment/shop/web was blocked due to the following policies:\n  verify-images:\n    autogen-check-sig: unverified image ghcr.io/acme/web:1.2\n").unwrap();
        assert_eq!(d.webhook.as_deref(), Some("mutate.kyverno.svc-fail"));
        assert_eq!(d.entries[0].rule.as_deref(), Some("autogen-check-sig"));
        assert_eq!(d.entries[0].image.as_deref(), Some("ghcr.io/acme/web:1.2"));
        // Policies glued after the closing quote.
        let d = parse("resource Pod/a/b was blocked due to the following policies\n\np1:\n  r1: 'unverified image x.io/a:1'p2:\n  r2: 'missing digest for x.io/b:2'\n").unwrap();
        let got: Vec<_> = d.entries.iter().map(|e| (e.policy.clone().unwrap(), e.image.clone().unwrap())).collect();
        assert_eq!(got, [("p1".to_string(), "x.io/a:1".to_string()), ("p2".to_string(), "x.io/b:2".to_string())]);
    }

    #[test]
    fn dedent_cuts_only_ascii_blanks() {
        // A line of wide spaces only is skipped when finding the indentation, so it must not be
        // cut inside its first character.
        assert_eq!(dedent("  a:\n\u{3000}\n  b"), "a:\n\u{3000}\nb");
        assert_eq!(dedent("    p:\n      r: x"), "p:\n  r: x");
    }

    #[test]
    fn ivp_messages_split_and_empty_says_so() {
        let d = parse("admission webhook \"ivpol.validate.kyverno.svc-fail-finegrained-a\" denied the request: Policy a failed: ; Policy b error: failed to verify cosign signatures: context canceled; Policy c failed: CEL expression validation failed at index 1").unwrap();
        assert_eq!(d.form, Form::ImageValidatingPolicy);
        let names: Vec<_> = d.entries.iter().map(|e| e.policy.clone().unwrap()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(d.entries[0].cause, Cause::NotInDenial);
        assert!(d.entries[0].cause_note.unwrap().contains("does not carry the cause"));
        assert_eq!(d.entries[1].cause, Cause::RegistryError);
        assert_eq!(d.entries[1].message, "failed to verify cosign signatures: context canceled");
        assert_eq!(d.entries[2].cause, Cause::NotInDenial);
    }

    #[test]
    fn garbage_and_truncation_are_sentences_not_panics() {
        assert_eq!(parse(""), Err(DenialError::Empty));
        assert_eq!(parse("hello world, nothing to see"), Err(DenialError::NothingFound));
        assert_eq!(parse(&"x".repeat(MAX_DENIAL_BYTES + 1)), Err(DenialError::TooLong));
        for cut in [10, 60, 120, 200, 260, FOLDED.len() - 3] {
            let _ = parse(&FOLDED[..cut]);
        }
        let d = parse(&FOLDED[..FOLDED.len() - 40]).unwrap();
        assert_eq!(d.entries[0].image.as_deref(), Some("ghcr.io/kyverno/test-verify-image:signed-by-someone-else"));
        assert!(DenialError::NothingFound.to_string().contains("could not find an image reference in this text"));
    }
}
