//! Kyverno's `AnyAllConditions` evaluated over a JSON document, as its engine evaluates the
//! `conditions` of an attestation (`pkg/engine/internal/utils.go` `EvaluateConditions`,
//! `pkg/engine/variables`): every `{{ … }}` of every condition is substituted first — JMESPath
//! over the document, the whole key typed when it is one variable, text otherwise — then each
//! block in turn: `any` passes on its first true condition, `all` fails on its first false one,
//! and the list passes when every block does. The operators are those of
//! `pkg/engine/variables/operator` with their quirks (wildcards in `Equals` and the `In` family,
//! durations and quantities before strings, Go's `fmt.Sprint` of numbers).
//!
//! Kyverno's own JMESPath functions are those of [`super::functions`]. Fail closed: what sigscope
//! cannot evaluate the way Kyverno does — another of Kyverno's functions, a variable of the admission request, a JMESPath extension, a semver or a
//! range value — is [`ReplayOutcome::NotReplayed`] with the reason, never a pass. What Kyverno itself
//! would refuse (a missing key along a path, an unknown operator) fails, as it does there.

use jmespath::ast::Ast;
use serde::Serialize;
use serde_json::Value;

use super::matching::wildcard_match;
use super::replay::ReplayOutcome;

/// Names Kyverno's context holds beside the document (the admission request, the images, the
/// service account, loop variables): an expression reading one cannot be replayed here.
const KYVERNO_CONTEXT: &[&str] = &[
    "request",
    "images",
    "image",
    "element",
    "elementIndex",
    "serviceAccountName",
    "serviceAccountNamespace",
    "target",
];

/// The functions of the JMESPath specification, which sigscope evaluates; Kyverno's own
/// (`time_after`, `base64_decode`, `semver_compare`, …) it does not.
const STANDARD_FUNCTIONS: &[&str] = &[
    "abs",
    "avg",
    "ceil",
    "contains",
    "ends_with",
    "floor",
    "join",
    "keys",
    "length",
    "map",
    "max",
    "max_by",
    "merge",
    "min",
    "min_by",
    "not_null",
    "reverse",
    "sort",
    "sort_by",
    "starts_with",
    "sum",
    "to_array",
    "to_number",
    "to_string",
    "type",
    "values",
];

/// One condition as evaluated: what it reads, what it found, what it expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionResult {
    /// `conditions[0].all[1]`.
    pub at: String,
    /// The key as the policy writes it.
    pub key: Value,
    pub operator: String,
    /// The value as the policy writes it.
    pub value: Value,
    /// The key once substituted (what the document holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<Value>,
    /// The value once substituted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    pub outcome: ReplayOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// The conditions of one attestation over one statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionsReport {
    pub outcome: ReplayOutcome,
    /// Why, in a sentence; for a failure Kyverno's message (the false conditions' `message`s).
    pub reason: String,
    /// The conditions Kyverno evaluates, in its order (it stops at the first that decides a block).
    pub conditions: Vec<ConditionResult>,
    /// A `Fail` that is Kyverno's error (substitution, operator), not a false condition.
    #[serde(skip)]
    pub kyverno_error: bool,
}

/// How substituting or evaluating one piece ended.
enum Eval<T> {
    Ok(T),
    /// What Kyverno itself reports as an error, which fails the attestation there.
    Error(String),
    /// What sigscope cannot evaluate as Kyverno would.
    Unknown(String),
}

/// Evaluates `conditions` (the policy's list of `{any, all}` blocks, as JSON) over `root`: the
/// statement's predicate laid over the variables the rule provides.
/// `opaque` names the variables Kyverno's context holds that sigscope could not fill (context
/// entries it does not resolve): reading one is not replayed, not a missing key.
pub fn evaluate(conditions: &Value, root: &Value, opaque: &[String]) -> ConditionsReport {
    evaluate_blocks(conditions, root, opaque).0
}

/// Kyverno's `AnyAllConditions` in any of the shapes it accepts (`{any, all}`, a list of such
/// blocks, or the older bare list of conditions, which is one `all`) as a list of blocks.
pub fn any_all_blocks(v: Value) -> Value {
    match v {
        Value::Array(list) if list.iter().all(|c| c.get("any").is_none() && c.get("all").is_none()) => {
            serde_json::json!([{ "all": list }])
        }
        Value::Array(list) => Value::Array(list),
        Value::Null => Value::Array(Vec::new()),
        other => Value::Array(vec![other]),
    }
}

/// As [`evaluate`], and whether a `Fail` is Kyverno's error (a missing key, a bad operator)
/// rather than a condition that does not hold — for a deny block the two part ways: an error
/// fails the rule, a false condition passes it.
pub fn evaluate_blocks(conditions: &Value, root: &Value, opaque: &[String]) -> (ConditionsReport, bool) {
    let r = evaluate_inner(conditions, root, opaque);
    let error = r.kyverno_error;
    (r, error)
}

fn evaluate_inner(conditions: &Value, root: &Value, opaque: &[String]) -> ConditionsReport {
    let env = Env { root, opaque };
    let blocks = match conditions {
        Value::Array(b) => b.as_slice(),
        Value::Null => &[],
        _ => {
            return report(ReplayOutcome::NotReplayed, "conditions is not a list of any/all blocks".into(), Vec::new());
        }
    };
    // Kyverno substitutes every condition before evaluating any: one error anywhere decides.
    let mut parsed = Vec::new();
    let mut unknown: Option<String> = None;
    let mut error: Option<String> = None;
    for (i, block) in blocks.iter().enumerate() {
        let Some(map) = block.as_object() else {
            return report(ReplayOutcome::NotReplayed, format!("conditions[{i}] is not an any/all block"), Vec::new());
        };
        if let Some(k) = map.keys().find(|k| *k != "any" && *k != "all") {
            return report(
                ReplayOutcome::NotReplayed,
                format!("conditions[{i}] has {k:?}, not any or all"),
                Vec::new(),
            );
        }
        let mut groups = Vec::new();
        for group in ["any", "all"] {
            let Some(list) = map.get(group) else { continue };
            let Some(list) = list.as_array() else {
                return report(
                    ReplayOutcome::NotReplayed,
                    format!("conditions[{i}].{group} is not a list"),
                    Vec::new(),
                );
            };
            let mut items = Vec::new();
            for (j, c) in list.iter().enumerate() {
                let at = format!("conditions[{i}].{group}[{j}]");
                let key = c.get("key").cloned().unwrap_or(Value::Null);
                let value = c.get("value").cloned().unwrap_or(Value::Null);
                let operator = c.get("operator").and_then(Value::as_str).unwrap_or_default().to_string();
                let message = c.get("message").and_then(Value::as_str).map(str::to_string);
                let mut result = ConditionResult {
                    at: at.clone(),
                    key: key.clone(),
                    operator,
                    value: value.clone(),
                    found: None,
                    expected: None,
                    outcome: ReplayOutcome::NotReplayed,
                    message: message.clone(),
                    reason: String::new(),
                };
                for (what, raw, slot) in [("key", &key, 0), ("value", &value, 1)] {
                    match substitute_all(raw, &env) {
                        Eval::Ok(v) if slot == 0 => result.found = Some(v),
                        Eval::Ok(v) => result.expected = Some(v),
                        Eval::Error(e) => {
                            let e = format!("{at}.{what}: {e}");
                            result.reason.clone_from(&e);
                            error.get_or_insert(e);
                        }
                        Eval::Unknown(e) => {
                            let e = format!("{at}.{what}: {e}");
                            result.reason.clone_from(&e);
                            unknown.get_or_insert(e);
                        }
                    }
                }
                if let Some(m) = &message {
                    match substitute_all(&Value::String(m.clone()), &env) {
                        Eval::Ok(Value::String(s)) => result.message = Some(s),
                        Eval::Ok(other) => result.message = Some(other.to_string()),
                        Eval::Error(e) => {
                            error.get_or_insert(format!("{at}.message: {e}"));
                        }
                        Eval::Unknown(e) => {
                            unknown.get_or_insert(format!("{at}.message: {e}"));
                        }
                    }
                }
                items.push(result);
            }
            groups.push((group, items));
        }
        parsed.push(groups);
    }
    let all: Vec<ConditionResult> = parsed.iter().flatten().flat_map(|(_, items)| items.clone()).collect();
    if let Some(e) = error {
        let reason = format!("failed to substitute variables in attestation conditions: {e}");
        let shown = all.into_iter().filter(|c| !c.reason.is_empty()).collect();
        return ConditionsReport { kyverno_error: true, ..report(ReplayOutcome::Fail, reason, shown) };
    }
    if let Some(e) = unknown {
        return report(ReplayOutcome::NotReplayed, e, all.into_iter().filter(|c| !c.reason.is_empty()).collect());
    }

    let mut shown = Vec::new();
    for groups in parsed {
        let mut false_messages = Vec::new();
        let mut any_ok = true;
        let mut all_ok = true;
        for (group, items) in groups {
            if group == "any" {
                // A present `any`, even empty, needs one true condition.
                any_ok = false;
            }
            for mut c in items {
                let outcome = match operate(
                    &c.operator,
                    c.found.as_ref().unwrap_or(&Value::Null),
                    c.expected.as_ref().unwrap_or(&Value::Null),
                ) {
                    Eval::Ok(b) => b,
                    Eval::Error(e) => {
                        c.reason.clone_from(&e);
                        shown.push(c);
                        let reason = format!("failed to check attestations: {e}");
                        return ConditionsReport { kyverno_error: true, ..report(ReplayOutcome::Fail, reason, shown) };
                    }
                    Eval::Unknown(e) => {
                        c.reason.clone_from(&e);
                        shown.push(c);
                        return report(ReplayOutcome::NotReplayed, e, shown);
                    }
                };
                c.outcome = if outcome { ReplayOutcome::Pass } else { ReplayOutcome::Fail };
                let message = c.message.clone();
                shown.push(c);
                if group == "any" && outcome {
                    any_ok = true;
                    break;
                }
                if !outcome {
                    false_messages.extend(message.filter(|m| !m.is_empty()));
                    if group == "all" {
                        all_ok = false;
                        break;
                    }
                }
            }
        }
        if !(any_ok && all_ok) {
            return report(ReplayOutcome::Fail, false_messages.join("; "), shown);
        }
    }
    report(ReplayOutcome::Pass, "every condition holds".into(), shown)
}

fn report(outcome: ReplayOutcome, reason: String, conditions: Vec<ConditionResult>) -> ConditionsReport {
    ConditionsReport { outcome, reason, conditions, kyverno_error: false }
}

/// Kyverno's `SubstituteAll` on one JSON node: every string leaf (and key) with its variables
/// replaced.
/// What variables resolve against.
struct Env<'a> {
    root: &'a Value,
    opaque: &'a [String],
}

fn substitute_all(v: &Value, root: &Env<'_>) -> Eval<Value> {
    match v {
        Value::String(s) => substitute(s, root),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                match substitute_all(i, root) {
                    Eval::Ok(v) => out.push(v),
                    Eval::Error(e) => return Eval::Error(e),
                    Eval::Unknown(e) => return Eval::Unknown(e),
                }
            }
            Eval::Ok(Value::Array(out))
        }
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match substitute(k, root) {
                    Eval::Ok(Value::String(s)) => s,
                    Eval::Ok(other) => other.to_string(),
                    Eval::Error(e) => return Eval::Error(e),
                    Eval::Unknown(e) => return Eval::Unknown(e),
                };
                match substitute_all(v, root) {
                    Eval::Ok(v) => {
                        out.insert(key, v);
                    }
                    Eval::Error(e) => return Eval::Error(e),
                    Eval::Unknown(e) => return Eval::Unknown(e),
                }
            }
            Eval::Ok(Value::Object(out))
        }
        other => Eval::Ok(other.clone()),
    }
}

/// Bounds a hostile policy: substitutions in one string (nested variables re-scan).
const MAX_SUBSTITUTIONS: usize = 64;

/// The variables of one string, substituted as Kyverno's `substituteVariablesIfAny` does: the
/// leftmost `{{ … }}` not preceded by `\` (innermost first, as its regular expression cannot
/// match across a nested `{{`), the string re-scanned after each, a string that is exactly one
/// variable replaced by the typed value, `{{- … }}` substituted once without re-scanning.
fn substitute(text: &str, root: &Env<'_>) -> Eval<Value> {
    let mut value = text.to_string();
    for _ in 0..MAX_SUBSTITUTIONS {
        let Some((start, end)) = find_variable(&value) else {
            return Eval::Ok(Value::String(value.replace("\\{{", "{{")));
        };
        let var = &value[start..end];
        let inner = var[2..var.len() - 2].trim();
        let (expr, shallow) = match inner.strip_prefix('-') {
            Some(rest) => (rest.trim(), true),
            None => (inner, false),
        };
        let resolved = match query(expr, root) {
            Eval::Ok(v) => v,
            Eval::Error(e) => return Eval::Error(e),
            Eval::Unknown(e) => return Eval::Unknown(e),
        };
        if start == 0 && end == value.len() {
            return Eval::Ok(resolved);
        }
        let mut text = match &resolved {
            Value::String(s) => s.clone(),
            other => go_json(other),
        };
        if shallow {
            text = text.replace("{{", "\\{{");
        }
        value.replace_range(start..end, &text);
        if shallow {
            return Eval::Ok(Value::String(value.replace("\\{{", "{{")));
        }
    }
    Eval::Unknown(format!("more than {MAX_SUBSTITUTIONS} nested variables in {text:?}"))
}

/// The byte range of the leftmost variable: `{{` (not escaped), then characters other than
/// braces or `{…}` groups without braces, then `}}`.
fn find_variable(s: &str) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'{' && b[i + 1] == b'{' && (i == 0 || b[i - 1] != b'\\') {
            let mut j = i + 2;
            loop {
                if j + 1 < b.len() && b[j] == b'}' && b[j + 1] == b'}' {
                    return Some((i, j + 2));
                }
                match b.get(j) {
                    None | Some(b'}') => break,
                    Some(b'{') => match b[j + 1..].iter().position(|&c| c == b'{' || c == b'}') {
                        Some(k) if b[j + 1 + k] == b'}' => j += k + 2,
                        _ => break,
                    },
                    Some(_) => j += 1,
                }
            }
        }
        i += 1;
    }
    None
}

/// One JMESPath query over `root`, with kyverno/go-jmespath's one difference that matters: a
/// field missing along a plain path (`a.b.c`, not inside a projection, a function's arguments,
/// a comparison or `||`) is an error ("Unknown key"), not null.
fn query(expr: &str, env: &Env<'_>) -> Eval<Value> {
    let root = env.root;
    if expr.is_empty() {
        return Eval::Error("invalid query (nil)".into());
    }
    let compiled = match super::functions::RUNTIME.compile(expr) {
        Ok(c) => c,
        Err(e) => {
            return Eval::Unknown(format!(
                "{expr:?} is not standard JMESPath ({}); Kyverno's extensions are not evaluated by sigscope",
                first_line(&e.to_string())
            ));
        }
    };
    let ast = compiled.as_ast();
    let mut functions = Vec::new();
    let mut root_fields = Vec::new();
    walk(ast, true, &mut functions, &mut root_fields);
    let known = |f: &str| STANDARD_FUNCTIONS.contains(&f) || super::functions::KYVERNO_FUNCTIONS.contains(&f);
    if let Some(f) = functions.iter().find(|f| !known(f.as_str())) {
        return Eval::Unknown(format!(
            "{{{{ {expr} }}}} calls {f}(), a Kyverno JMESPath function sigscope does not evaluate"
        ));
    }
    let opaque = |n: &str| KYVERNO_CONTEXT.contains(&n) || env.opaque.iter().any(|o| o == n);
    if let Some(name) = root_fields.iter().find(|n| root.get(n.as_str()).is_none() && opaque(n)) {
        return Eval::Unknown(format!(
            "{{{{ {expr} }}}} reads {name} from Kyverno's admission context, which sigscope does not have"
        ));
    }
    if let Some(missing) = missing_key(ast, root) {
        // A pipe parses like a subexpression, yet Kyverno's interpreter forgives a missing key
        // before one: only a path without one is known to fail.
        if expr.replace("||", "").contains('|') {
            return Eval::Unknown(format!("{{{{ {expr} }}}}: the key {missing:?} is missing before a pipe"));
        }
        return Eval::Error(format!("failed to resolve {expr}: Unknown key \"{missing}\" in path"));
    }
    match compiled.search(root) {
        Ok(result) => match serde_json::to_value(&*result) {
            Ok(v) => Eval::Ok(v),
            Err(e) => Eval::Unknown(format!("the result of {{{{ {expr} }}}} cannot be read: {e}")),
        },
        Err(e) => Eval::Unknown(format!("{{{{ {expr} }}}} fails: {}", first_line(&e.to_string()))),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Collects the functions an expression calls and the fields it reads from the document's root.
fn walk(ast: &Ast, at_root: bool, functions: &mut Vec<String>, root_fields: &mut Vec<String>) {
    match ast {
        Ast::Field { name, .. } => {
            if at_root {
                root_fields.push(name.clone());
            }
        }
        Ast::Subexpr { lhs, rhs, .. } | Ast::Projection { lhs, rhs, .. } => {
            walk(lhs, at_root, functions, root_fields);
            walk(rhs, false, functions, root_fields);
        }
        Ast::Comparison { lhs, rhs, .. } | Ast::And { lhs, rhs, .. } | Ast::Or { lhs, rhs, .. } => {
            walk(lhs, at_root, functions, root_fields);
            walk(rhs, at_root, functions, root_fields);
        }
        Ast::Condition { predicate, then, .. } => {
            walk(predicate, at_root, functions, root_fields);
            walk(then, at_root, functions, root_fields);
        }
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            walk(node, at_root, functions, root_fields)
        }
        Ast::Expref { ast, .. } => walk(ast, false, functions, root_fields),
        Ast::Function { name, args, .. } => {
            functions.push(name.clone());
            for a in args {
                walk(a, at_root, functions, root_fields);
            }
        }
        Ast::MultiList { elements, .. } => {
            for e in elements {
                walk(e, at_root, functions, root_fields);
            }
        }
        Ast::MultiHash { elements, .. } => {
            for e in elements {
                walk(&e.value, at_root, functions, root_fields);
            }
        }
        Ast::Identity { .. } | Ast::Index { .. } | Ast::Literal { .. } | Ast::Slice { .. } => {}
    }
}

/// The key a plain path misses on an object, where kyverno/go-jmespath stops with an error.
fn missing_key(ast: &Ast, data: &Value) -> Option<String> {
    match ast {
        Ast::Field { name, .. } => match data {
            Value::Object(m) if !m.contains_key(name) => Some(name.clone()),
            _ => None,
        },
        Ast::Subexpr { lhs, rhs, .. } => {
            if let Some(m) = missing_key(lhs, data) {
                return Some(m);
            }
            let lhs_value = eval_ast(lhs, data)?;
            missing_key(rhs, &lhs_value)
        }
        _ => None,
    }
}

/// A plain path's value (fields and indices only); `None` for anything else.
fn eval_ast(ast: &Ast, data: &Value) -> Option<Value> {
    match ast {
        Ast::Field { name, .. } => Some(data.get(name.as_str()).cloned().unwrap_or(Value::Null)),
        Ast::Index { idx, .. } => {
            let items = data.as_array()?;
            let i = if *idx < 0 { items.len() as i64 + *idx as i64 } else { *idx as i64 };
            Some(usize::try_from(i).ok().and_then(|i| items.get(i)).cloned().unwrap_or(Value::Null))
        }
        Ast::Identity { .. } => Some(data.clone()),
        Ast::Subexpr { lhs, rhs, .. } => eval_ast(rhs, &eval_ast(lhs, data)?),
        _ => None,
    }
}

/// Go's `json.Marshal` of a value put into text: compact, keys sorted, `<>&` escaped.
fn go_json(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&m[k]))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// Go's `fmt.Sprint` of a JSON value, as the `In` family compares them; `None` where Go's
/// output (maps, nested lists) is not reproduced here.
fn go_sprint(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("<nil>".into()),
        Value::Number(n) => n.as_f64().map(go_float),
        _ => None,
    }
}

/// `fmt.Sprint(float64)`: the shortest digits, in exponent form below 1e-4 and from 1e6 up.
fn go_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // Go's %v decides by precision 6 when printing the shortest digits.
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    // Plain notation with the same shortest digits.
    let s = format!("{f}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// `CreateOperatorHandler(op).Evaluate(key, value)`.
fn operate(op: &str, key: &Value, value: &Value) -> Eval<bool> {
    match op.to_ascii_lowercase().as_str() {
        "equal" | "equals" => equal(key, value),
        "notequal" | "notequals" => match equal(key, value) {
            Eval::Ok(b) => Eval::Ok(!b),
            other => other,
        },
        "in" => membership(key, value, Family::In),
        "notin" => membership(key, value, Family::NotIn),
        "anyin" => membership(key, value, Family::AnyIn),
        "allin" => membership(key, value, Family::AllIn),
        "anynotin" => membership(key, value, Family::AnyNotIn),
        "allnotin" => membership(key, value, Family::AllNotIn),
        "greaterthan" | "greaterthanorequals" | "lessthan" | "lessthanorequals" => numeric(op, key, value),
        "durationgreaterthan" | "durationgreaterthanorequals" | "durationlessthan" | "durationlessthanorequals" => {
            Eval::Unknown(format!("the deprecated operator {op} is not replayed by sigscope"))
        }
        _ => Eval::Error(format!("failed to create handler for condition operator {op:?}")),
    }
}

/// Kyverno's `parseDuration(key, value)`: `Err` when neither is a duration or one side is not
/// a number of seconds.
fn durations(key: &Value, value: &Value) -> Option<(f64, f64)> {
    let parse = |v: &Value| v.as_str().filter(|s| *s != "0").and_then(go_duration);
    let (k, v) = (parse(key), parse(value));
    if k.is_none() && v.is_none() {
        return None;
    }
    let secs = |d: Option<f64>, v: &Value| d.or_else(|| v.as_f64());
    Some((secs(k, key)?, secs(v, value)?))
}

/// Go's `time.ParseDuration`, in seconds.
fn go_duration(s: &str) -> Option<f64> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let num = &rest[..num_end];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return None;
        }
        rest = &rest[num_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += num.parse::<f64>().ok()? * scale;
    }
    Some(if neg { -total } else { total })
}

/// A Kubernetes quantity as an exact number: mantissa × 10^e10 × 2^e2.
#[derive(Clone, Copy)]
struct Quantity {
    mantissa: i128,
    e10: i32,
    e2: i32,
}

/// `resource.ParseQuantity`: a signed decimal, then a binary (`Ki`…`Ei`), decimal (`n`…`E`) or
/// exponent (`e3`, `E-2`) suffix.
fn quantity(s: &str) -> Option<Quantity> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let num_end = body.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(body.len());
    let (num, suffix) = body.split_at(num_end);
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() || frac.contains('.') || int.len() + frac.len() > 30 {
        return None;
    }
    let (e10, e2) = match suffix {
        "" => (0, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        s if s.starts_with(['e', 'E']) => {
            let e: i32 = s[1..].parse().ok()?;
            if !(-100..=100).contains(&e) {
                return None;
            }
            (e, 0)
        }
        _ => return None,
    };
    let digits = format!("{int}{frac}");
    let m: i128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    Some(Quantity { mantissa: if neg { -m } else { m }, e10: e10 - frac.len() as i32, e2 })
}

/// `a.Cmp(b)`, or `None` where the exact comparison would overflow.
fn compare_quantities(a: Quantity, b: Quantity) -> Option<std::cmp::Ordering> {
    let scale = |q: Quantity, e10: i32, e2: i32| -> Option<i128> {
        let mut m = q.mantissa;
        for _ in 0..(q.e10 - e10) {
            m = m.checked_mul(10)?;
        }
        for _ in 0..(q.e2 - e2) {
            m = m.checked_mul(2)?;
        }
        Some(m)
    };
    let (e10, e2) = (a.e10.min(b.e10), a.e2.min(b.e2));
    Some(scale(a, e10, e2)?.cmp(&scale(b, e10, e2)?))
}

fn floats(v: &Value) -> Value {
    match v {
        Value::Number(n) => n.as_f64().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number),
        Value::Array(a) => Value::Array(a.iter().map(floats).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), floats(v))).collect()),
        other => other.clone(),
    }
}

/// `EqualHandler`.
fn equal(key: &Value, value: &Value) -> Eval<bool> {
    match key {
        Value::Bool(k) => Eval::Ok(value.as_bool() == Some(*k)),
        Value::Number(k) => {
            let k = k.as_f64().unwrap_or(f64::NAN);
            Eval::Ok(match value {
                Value::Number(v) => v.as_f64() == Some(k),
                Value::String(s) => s.parse::<f64>().is_ok_and(|v| v == k),
                _ => false,
            })
        }
        Value::String(k) => {
            if let Some((a, b)) = durations(key, value) {
                return Eval::Ok(a == b);
            }
            if let (Some(kq), Value::String(v)) = (quantity(k), value) {
                return match quantity(v) {
                    None => Eval::Ok(false),
                    Some(vq) => match compare_quantities(kq, vq) {
                        Some(o) => Eval::Ok(o == std::cmp::Ordering::Equal),
                        None => Eval::Unknown(format!("the quantities {k:?} and {v:?} are too large to compare here")),
                    },
                };
            }
            match value {
                Value::String(v) => Eval::Ok(wildcard_match(v, k)),
                _ => Eval::Ok(false),
            }
        }
        // Go's JSON numbers are all float64: 1 and 1.0 are one value there.
        Value::Object(_) | Value::Array(_) => Eval::Ok(floats(key) == floats(value)),
        Value::Null => Eval::Ok(false),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    In,
    NotIn,
    AnyIn,
    AllIn,
    AnyNotIn,
    AllNotIn,
}

/// Kyverno's `NN-MM` range values, which its `In` family reads as numeric ranges.
fn is_range(s: &str) -> bool {
    let b = s.as_bytes();
    let number = |i: &mut usize| {
        if *i < b.len() && matches!(b[*i], b'-' | b'+' | b'|') {
            *i += 1;
        }
        let start = *i;
        while *i < b.len() && (b[*i].is_ascii_digit() || b[*i] == b'.') {
            *i += 1;
        }
        let ok = *i > start;
        while *i < b.len() && b[*i].is_ascii_alphabetic() {
            *i += 1;
        }
        ok
    };
    let mut i = 0;
    if !number(&mut i) {
        return false;
    }
    if i < b.len() && b[i] == b'!' {
        i += 1;
    }
    if i >= b.len() || b[i] != b'-' {
        return false;
    }
    i += 1;
    number(&mut i) && i == b.len()
}

/// `In`, `NotIn` and the `Any`/`All` variants: a scalar key against a list (or a string holding
/// a JSON list), or a list key against one, with wildcards both ways.
fn membership(key: &Value, value: &Value, family: Family) -> Eval<bool> {
    let wild = |a: &str, b: &str| wildcard_match(a, b) || wildcard_match(b, a);
    let unknown = |what: &str| Eval::Unknown(format!("{what}, which sigscope does not compare as Kyverno would"));
    match key {
        Value::Array(items) => {
            // In and NotIn assert every element is a string (Go panics otherwise).
            let strict = matches!(family, Family::In | Family::NotIn);
            let mut keys = Vec::with_capacity(items.len());
            for i in items {
                match (i, strict) {
                    (Value::String(s), _) => keys.push(s.clone()),
                    (_, true) => return unknown("a key list holding a non-string"),
                    (other, false) => match go_sprint(other) {
                        Some(s) => keys.push(s),
                        None => return unknown("a key list holding lists or maps"),
                    },
                }
            }
            let values: Vec<String> = match value {
                Value::Array(vs) => {
                    let mut out = Vec::with_capacity(vs.len());
                    for v in vs {
                        match (v, strict) {
                            (Value::String(s), _) => out.push(s.clone()),
                            // setExistsInArray: a non-string value is an invalid type, false.
                            (_, true) => return Eval::Ok(false),
                            (other, false) => match go_sprint(other) {
                                Some(s) => out.push(s),
                                None => return unknown("a value list holding lists or maps"),
                            },
                        }
                    }
                    out
                }
                Value::String(s) => {
                    // Kyverno's shortcut, NotIn's included: a one-element key equal to the string.
                    if keys.len() == 1 && keys[0] == *s {
                        return Eval::Ok(!matches!(family, Family::AnyNotIn | Family::AllNotIn));
                    }
                    if !strict && is_range(s) {
                        return unknown(&format!("the range value {s:?}"));
                    }
                    match serde_json::from_str::<Vec<String>>(s) {
                        Ok(list) => list,
                        Err(_) if strict => return Eval::Ok(false),
                        Err(_) if serde_json::from_str::<Value>(s).is_ok() => return Eval::Ok(false),
                        Err(_) => vec![s.clone()],
                    }
                }
                Value::Number(_) | Value::Bool(_) if matches!(family, Family::AnyIn | Family::AnyNotIn) => {
                    vec![go_sprint(value).unwrap_or_default()]
                }
                _ => return Eval::Ok(false),
            };
            let found = |k: &String| values.iter().any(|v| if strict { v == k } else { wild(k, v) });
            Eval::Ok(match family {
                Family::In => keys.iter().all(|k| values.contains(k)),
                Family::NotIn => !keys.iter().all(|k| values.contains(k)),
                Family::AnyIn => keys.iter().any(found),
                Family::AllIn => keys.iter().all(found),
                Family::AnyNotIn => keys.iter().any(|k| !found(k)),
                Family::AllNotIn => !keys.iter().any(found),
            })
        }
        Value::Object(_) | Value::Null => Eval::Ok(false),
        scalar => {
            let k = go_sprint(scalar).unwrap_or_default();
            // `None`: a value of a type Kyverno refuses, which makes every operator false.
            let exists: Option<bool> = match value {
                Value::Array(vs) => {
                    let mut hit = Some(false);
                    for v in vs {
                        match go_sprint(v) {
                            Some(s) if wild(&s, &k) => {
                                hit = Some(true);
                                break;
                            }
                            Some(_) => {}
                            None => return unknown("a value list holding lists or maps"),
                        }
                    }
                    hit
                }
                Value::String(s) => {
                    if wildcard_match(s, &k) {
                        Some(true)
                    } else if family != Family::In && family != Family::NotIn && is_range(s) {
                        return unknown(&format!("the range value {s:?}"));
                    } else {
                        match serde_json::from_str::<Vec<String>>(s) {
                            Ok(list) => Some(list.contains(&k)),
                            Err(_) if matches!(family, Family::In | Family::NotIn) => None,
                            Err(_) if serde_json::from_str::<Value>(s).is_ok() => None,
                            Err(_) => Some(*s == k),
                        }
                    }
                }
                _ => None,
            };
            Eval::Ok(match (family, exists) {
                (_, None) => false,
                (Family::In | Family::AnyIn | Family::AllIn, Some(e)) => e,
                (Family::NotIn | Family::AnyNotIn | Family::AllNotIn, Some(e)) => !e,
            })
        }
    }
}

/// `NumericOperatorHandler`: numbers, numeric strings, durations and quantities.
fn numeric(op: &str, key: &Value, value: &Value) -> Eval<bool> {
    let by = |o: std::cmp::Ordering| {
        use std::cmp::Ordering::*;
        match op.to_ascii_lowercase().as_str() {
            "greaterthan" => o == Greater,
            "greaterthanorequals" => o != Less,
            "lessthan" => o == Less,
            _ => o != Greater,
        }
    };
    let cmp = |a: f64, b: f64| a.partial_cmp(&b).map(by).unwrap_or(false);
    let number_value = |k: f64| -> Eval<bool> {
        match value {
            Value::Number(v) => Eval::Ok(cmp(k, v.as_f64().unwrap_or(f64::NAN))),
            Value::String(s) => {
                if let Some((a, b)) = durations(&Value::from(k), value) {
                    return Eval::Ok(cmp(a, b));
                }
                match s.parse::<f64>() {
                    Ok(v) => Eval::Ok(cmp(k, v)),
                    Err(_) => Eval::Ok(false),
                }
            }
            _ => Eval::Ok(false),
        }
    };
    match key {
        Value::Number(k) => number_value(k.as_f64().unwrap_or(f64::NAN)),
        Value::String(k) => {
            if let Some((a, b)) = durations(key, value) {
                return Eval::Ok(cmp(a, b));
            }
            if let (Some(a), Some(b)) = (quantity(k), value.as_str().and_then(quantity)) {
                return match compare_quantities(a, b) {
                    Some(o) => Eval::Ok(by(o)),
                    None => Eval::Unknown(format!("the quantities {k:?} and {value} are too large to compare here")),
                };
            }
            if let Ok(f) = k.parse::<f64>() {
                return number_value(f);
            }
            if k.split('.').count() == 3 {
                return Eval::Unknown(format!("{k:?} compared as a semantic version, which sigscope does not replay"));
            }
            Eval::Ok(false)
        }
        _ => Eval::Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(key: Value, op: &str, value: Value, doc: Value) -> ConditionsReport {
        evaluate(&json!([{"all": [{"key": key, "operator": op, "value": value, "message": "m"}]}]), &doc, &[])
    }

    fn holds(key: Value, op: &str, value: Value) -> ReplayOutcome {
        one(key, op, value, json!({})).outcome
    }

    #[test]
    fn the_upstream_notary_conditions() {
        let sbom = json!({"components": [{"licenses": [{"expression": "GPL-3.0"}]}, {"licenses": [{"expression": "GPL-3.0"}]}]});
        let r = one(json!("{{ components[].licenses[].expression }}"), "AllIn", json!(["GPL-3.0"]), sbom);
        assert_eq!(r.outcome, ReplayOutcome::Pass, "{r:?}");
        assert_eq!(r.conditions[0].found, Some(json!(["GPL-3.0", "GPL-3.0"])));
        let mixed =
            json!({"components": [{"licenses": [{"expression": "MIT"}]}, {"licenses": [{"expression": "GPL-3.0"}]}]});
        let r = one(json!("{{ components[].licenses[].expression }}"), "AllIn", json!(["GPL-3.0"]), mixed);
        assert_eq!(r.outcome, ReplayOutcome::Fail);
        assert_eq!(r.reason, "m");
        let scan = json!({"source": {"type": "image"}});
        assert_eq!(
            one(json!("{{ source.type }}"), "Equals", json!("image"), scan.clone()).outcome,
            ReplayOutcome::Pass
        );
        assert_eq!(one(json!("{{ source.type }}"), "Equals", json!("repo"), scan).outcome, ReplayOutcome::Fail);
    }

    #[test]
    fn equals_has_kyvernos_wildcards_durations_and_quantities() {
        assert_eq!(holds(json!("ghcr.io/acme/app"), "Equals", json!("ghcr.io/*")), ReplayOutcome::Pass);
        assert_eq!(
            holds(json!("ghcr.io/*"), "Equals", json!("ghcr.io/acme")),
            ReplayOutcome::Fail,
            "the value is the pattern"
        );
        assert_eq!(holds(json!("1h"), "Equals", json!("60m")), ReplayOutcome::Pass);
        assert_eq!(holds(json!("1Ki"), "Equals", json!("1024")), ReplayOutcome::Pass);
        assert_eq!(holds(json!("100m"), "Equals", json!("0.1")), ReplayOutcome::Pass);
        assert_eq!(holds(json!(3), "Equals", json!("3")), ReplayOutcome::Pass);
        assert_eq!(holds(json!(true), "Equals", json!("true")), ReplayOutcome::Fail, "a bool needs a bool");
        assert_eq!(holds(json!("a"), "NotEquals", json!("b")), ReplayOutcome::Pass);
        assert_eq!(holds(json!({"a": 1}), "Equals", json!({"a": 1})), ReplayOutcome::Pass);
    }

    #[test]
    fn the_in_family() {
        assert_eq!(holds(json!("b"), "In", json!(["a", "b"])), ReplayOutcome::Pass);
        assert_eq!(holds(json!("b"), "NotIn", json!(["a", "b"])), ReplayOutcome::Fail);
        assert_eq!(holds(json!(["a", "b"]), "AllIn", json!(["a", "b", "c"])), ReplayOutcome::Pass);
        assert_eq!(holds(json!(["a", "x"]), "AllIn", json!(["a", "b"])), ReplayOutcome::Fail);
        assert_eq!(holds(json!(["a", "x"]), "AnyIn", json!(["a*"])), ReplayOutcome::Pass);
        assert_eq!(holds(json!(["a", "x"]), "AnyNotIn", json!(["a"])), ReplayOutcome::Pass);
        assert_eq!(holds(json!(["a", "x"]), "AllNotIn", json!(["a"])), ReplayOutcome::Fail);
        assert_eq!(holds(json!(["y", "x"]), "AllNotIn", json!(["a"])), ReplayOutcome::Pass);
        assert_eq!(
            holds(json!([1, 2]), "AllIn", json!([1, 2, 3])),
            ReplayOutcome::Pass,
            "numbers as fmt.Sprint prints them"
        );
        assert_eq!(holds(json!("a"), "In", json!("[\"a\", \"b\"]")), ReplayOutcome::Pass, "a JSON list in a string");
        assert_eq!(holds(json!("5"), "AnyIn", json!("1-10")), ReplayOutcome::NotReplayed, "ranges are not replayed");
    }

    #[test]
    fn numeric_operators() {
        assert_eq!(holds(json!(5), "GreaterThan", json!(3)), ReplayOutcome::Pass);
        assert_eq!(holds(json!("5"), "LessThanOrEquals", json!("5")), ReplayOutcome::Pass);
        assert_eq!(holds(json!("2h"), "GreaterThan", json!("90m")), ReplayOutcome::Pass);
        assert_eq!(holds(json!("1Gi"), "GreaterThanOrEquals", json!("1000Mi")), ReplayOutcome::Pass);
        assert_eq!(holds(json!("abc"), "GreaterThan", json!(1)), ReplayOutcome::Fail);
        assert_eq!(holds(json!("1.2.3"), "GreaterThan", json!("1.2.0")), ReplayOutcome::NotReplayed);
    }

    #[test]
    fn any_all_and_blocks_follow_kyverno() {
        let doc = json!({"a": "x", "b": "y"});
        let c = |a: &str, b: &str| {
            json!([{"any": [{"key": "{{ a }}", "operator": "Equals", "value": a, "message": "not a"},
                             {"key": "{{ b }}", "operator": "Equals", "value": b, "message": "not b"}]}])
        };
        assert_eq!(evaluate(&c("x", "no"), &doc, &[]).outcome, ReplayOutcome::Pass);
        // `any` stops at its first true condition: the second is not evaluated.
        assert_eq!(evaluate(&c("x", "no"), &doc, &[]).conditions.len(), 1);
        let r = evaluate(&c("no", "no"), &doc, &[]);
        assert_eq!((r.outcome, r.reason.as_str()), (ReplayOutcome::Fail, "not a; not b"));
        // Every block must pass.
        let two = json!([{"all": [{"key": "{{ a }}", "operator": "Equals", "value": "x"}]},
                         {"all": [{"key": "{{ b }}", "operator": "Equals", "value": "x", "message": "b"}]}]);
        assert_eq!(evaluate(&two, &doc, &[]).outcome, ReplayOutcome::Fail);
        // An empty any never passes.
        assert_eq!(evaluate(&json!([{"any": []}]), &doc, &[]).outcome, ReplayOutcome::Fail);
        assert_eq!(evaluate(&json!([]), &doc, &[]).outcome, ReplayOutcome::Pass);
    }

    #[test]
    fn what_cannot_be_evaluated_is_never_a_pass() {
        let doc = json!({"metadata": {"timestamp": "2024-01-01T00:00:00Z"}, "a": {"b": 1}});
        let r = one(
            json!("{{ time_after('{{ metadata.timestamp }}', '2023-01-01T00:00:00Z') }}"),
            "Equals",
            json!(true),
            doc.clone(),
        );
        assert_eq!(r.outcome, ReplayOutcome::Pass, "time_after is one of the functions evaluated: {}", r.reason);
        let r = one(json!("{{ semver_compare('1.2.3', '>1.0.0') }}"), "Equals", json!(true), doc.clone());
        assert_eq!(r.outcome, ReplayOutcome::NotReplayed);
        assert!(r.reason.contains("semver_compare()"), "{}", r.reason);
        // A function's refusal (a time that does not parse) is not decided, never a pass.
        let r =
            one(json!("{{ time_after('yesterday', '2023-01-01T00:00:00Z') }}"), "Equals", json!(false), doc.clone());
        assert_eq!(r.outcome, ReplayOutcome::NotReplayed, "{}", r.reason);
        let r = one(json!("{{ request.object.metadata.name }}"), "Equals", json!("x"), doc.clone());
        assert_eq!(r.outcome, ReplayOutcome::NotReplayed);
        assert!(r.reason.contains("admission context"), "{}", r.reason);
        let r = one(json!("{{ a.b }}"), "Frobnicates", json!(1), doc.clone());
        assert_eq!(r.outcome, ReplayOutcome::Fail, "Kyverno refuses an unknown operator");
        // A key missing along a path is Kyverno's "Unknown key" error: a failure, not null.
        let r = one(json!("{{ a.c }}"), "Equals", json!(null), doc.clone());
        assert_eq!(r.outcome, ReplayOutcome::Fail);
        assert!(r.reason.contains("Unknown key \"c\""), "{}", r.reason);
        // Inside a projection a missing key is null, as in Kyverno.
        let r = one(json!("{{ a.x[].y }}"), "Equals", json!(null), doc.clone());
        assert_ne!(r.reason, "", "{r:?}");
        let r = one(json!("{{ a.b + 1 }}"), "Equals", json!(2), doc);
        assert_eq!(r.outcome, ReplayOutcome::NotReplayed, "{r:?}");
    }

    #[test]
    fn substitution_is_typed_for_a_whole_variable_and_text_inside_a_string() {
        let doc = json!({"n": 3, "s": "x", "l": ["a"]});
        let r = one(json!("{{ n }}"), "Equals", json!(3), doc.clone());
        assert_eq!(r.conditions[0].found, Some(json!(3)));
        let r = one(json!("v{{ n }}-{{s}}"), "Equals", json!("v3-x"), doc.clone());
        assert_eq!(r.outcome, ReplayOutcome::Pass, "{r:?}");
        let r = one(json!("{{ l }}!"), "Equals", json!("[\"a\"]!"), doc.clone());
        assert_eq!(r.outcome, ReplayOutcome::Pass, "{r:?}");
        let r = one(json!("\\{{ s }}"), "Equals", json!("{{ s }}"), doc);
        assert_eq!(r.conditions[0].found, Some(json!("{{ s }}")));
        assert_eq!(find_variable("a{{ b }}c"), Some((1, 8)));
        assert_eq!(find_variable("{{ f('{{ x }}') }}"), Some((6, 13)), "the inner variable first");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(2.5), "2.5");
        assert_eq!(go_float(100.0), "100");
    }
}
