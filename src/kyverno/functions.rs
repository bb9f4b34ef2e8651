//! The few of Kyverno's own JMESPath functions that its sample policies use in image
//! attestation conditions and `validate.deny` (`time_since` in require-vulnerability-scan,
//! `time_after` in Kyverno's multi-attestation test, `regex_match`, the case functions),
//! written from `pkg/engine/jmespath/time.go` and `functions.go`:
//!
//! - times are RFC 3339 (`time.RFC3339`, fractional seconds accepted); `time_since`'s empty
//!   layout is RFC 3339 and its empty second time is now; durations come back as Go's
//!   `Duration.String()` (`169h0m3.5s`), which the operators compare as durations;
//! - `regex_match` is unanchored (Go's `regexp.Match`), a number argument taken as its text;
//! - `pattern_match` is Kyverno's wildcard (`*`, `?`) over the whole string.
//!
//! Any argument these functions would refuse is an error of the query, which the conditions
//! report as not replayed — never as a pass.

use std::sync::LazyLock;

use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime, Variable};

/// Kyverno's functions sigscope evaluates.
pub const KYVERNO_FUNCTIONS: &[&str] = &[
    "time_since",
    "time_after",
    "time_before",
    "time_between",
    "time_diff",
    "to_upper",
    "to_lower",
    "equal_fold",
    "regex_match",
    "pattern_match",
];

/// The JMESPath runtime: the specification's functions and [`KYVERNO_FUNCTIONS`].
pub static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut rt = Runtime::new();
    rt.register_builtin_functions();
    rt.register_function("time_since", Box::new(time_since));
    rt.register_function("time_after", Box::new(|a: &[Rcvar], c: &mut Context<'_>| compare(a, c, "time_after")));
    rt.register_function("time_before", Box::new(|a: &[Rcvar], c: &mut Context<'_>| compare(a, c, "time_before")));
    rt.register_function("time_between", Box::new(time_between));
    rt.register_function("time_diff", Box::new(time_diff));
    rt.register_function("to_upper", Box::new(|a: &[Rcvar], c: &mut Context<'_>| case(a, c, true)));
    rt.register_function("to_lower", Box::new(|a: &[Rcvar], c: &mut Context<'_>| case(a, c, false)));
    rt.register_function("equal_fold", Box::new(equal_fold));
    rt.register_function("regex_match", Box::new(regex_match));
    rt.register_function("pattern_match", Box::new(pattern_match));
    rt
});

type Out = Result<Rcvar, JmespathError>;

fn fail(ctx: &Context<'_>, why: String) -> JmespathError {
    JmespathError::from_ctx(ctx, ErrorReason::Parse(why))
}

fn strings<'a>(args: &'a [Rcvar], n: usize, name: &str, ctx: &Context<'_>) -> Result<Vec<&'a str>, JmespathError> {
    if args.len() != n {
        return Err(fail(ctx, format!("{name}() takes {n} arguments, {} given", args.len())));
    }
    args.iter()
        .map(|a| a.as_string().map(String::as_str).ok_or_else(|| fail(ctx, format!("{name}(): invalid argument type"))))
        .collect()
}

fn rc(v: Variable) -> Out {
    Ok(Rcvar::new(v))
}

/// Go's `time.Parse(time.RFC3339, s)`: `T` and an upper-case `Z` or a numeric offset.
fn rfc3339(s: &str, name: &str, ctx: &Context<'_>) -> Result<chrono::DateTime<chrono::FixedOffset>, JmespathError> {
    let shaped = s.len() >= 20 && s.as_bytes()[10] == b'T' && !s.ends_with('z') && !s.contains(' ');
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) if shaped => Ok(t),
        _ => Err(fail(ctx, format!("{name}(): {s:?} is not an RFC 3339 time"))),
    }
}

fn time_since(args: &[Rcvar], ctx: &mut Context<'_>) -> Out {
    let a = strings(args, 3, "time_since", ctx)?;
    if !a[0].is_empty() {
        return Err(fail(ctx, "time_since(): only the RFC 3339 layout ('') is evaluated by sigscope".into()));
    }
    let from = rfc3339(a[1], "time_since", ctx)?;
    let to = if a[2].is_empty() { chrono::Utc::now().fixed_offset() } else { rfc3339(a[2], "time_since", ctx)? };
    rc(Variable::String(go_duration_string(to - from)))
}

fn time_diff(args: &[Rcvar], ctx: &mut Context<'_>) -> Out {
    let a = strings(args, 2, "time_diff", ctx)?;
    let (from, to) = (rfc3339(a[0], "time_diff", ctx)?, rfc3339(a[1], "time_diff", ctx)?);
    rc(Variable::String(go_duration_string(to - from)))
}

fn compare(args: &[Rcvar], ctx: &mut Context<'_>, name: &str) -> Out {
    let a = strings(args, 2, name, ctx)?;
    let (t1, t2) = (rfc3339(a[0], name, ctx)?, rfc3339(a[1], name, ctx)?);
    rc(Variable::Bool(if name == "time_after" { t1 > t2 } else { t1 < t2 }))
}

fn time_between(args: &[Rcvar], ctx: &mut Context<'_>) -> Out {
    let a = strings(args, 3, "time_between", ctx)?;
    let t: Vec<_> = a.iter().map(|s| rfc3339(s, "time_between", ctx)).collect::<Result<_, _>>()?;
    rc(Variable::Bool(t[1] < t[0] && t[0] < t[2]))
}

fn case(args: &[Rcvar], ctx: &mut Context<'_>, upper: bool) -> Out {
    let name = if upper { "to_upper" } else { "to_lower" };
    let a = strings(args, 1, name, ctx)?;
    rc(Variable::String(if upper { a[0].to_uppercase() } else { a[0].to_lowercase() }))
}

fn equal_fold(args: &[Rcvar], ctx: &mut Context<'_>) -> Out {
    let a = strings(args, 2, "equal_fold", ctx)?;
    rc(Variable::Bool(a[0].to_lowercase() == a[1].to_lowercase()))
}

/// A string, or a number as Go's `fmt.Sprint` writes it (integers without a fraction).
fn text_or_number(v: &Variable) -> Option<String> {
    match v {
        Variable::String(s) => Some(s.clone()),
        Variable::Number(n) => Some(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
            (None, Some(f)) => f.to_string(),
            _ => return None,
        }),
        _ => None,
    }
}

fn regex_match(args: &[Rcvar], ctx: &mut Context<'_>) -> Out {
    let (Some(pattern), Some(text)) =
        (args.first().and_then(|a| a.as_string()), args.get(1).and_then(|a| text_or_number(a)))
    else {
        return Err(fail(ctx, "regex_match(): invalid argument type".into()));
    };
    if args.len() != 2 {
        return Err(fail(ctx, "regex_match() takes 2 arguments".into()));
    }
    let re = regex::Regex::new(pattern).map_err(|e| fail(ctx, format!("regex_match(): {e}")))?;
    rc(Variable::Bool(re.is_match(&text)))
}

fn pattern_match(args: &[Rcvar], ctx: &mut Context<'_>) -> Out {
    let (Some(pattern), Some(text)) =
        (args.first().and_then(|a| a.as_string()), args.get(1).and_then(|a| text_or_number(a)))
    else {
        return Err(fail(ctx, "pattern_match(): invalid argument type".into()));
    };
    rc(Variable::Bool(super::matching::wildcard_match(pattern, &text)))
}

/// Go's `time.Duration.String()`: `72h3m0.5s`, `1.5ms`, `0s`.
pub fn go_duration_string(d: chrono::TimeDelta) -> String {
    let Some(ns) = d.num_nanoseconds() else {
        // Go's Duration saturates at ±292 years.
        return if d < chrono::TimeDelta::zero() {
            "-2562047h47m16.854775808s".into()
        } else {
            "2562047h47m16.854775807s".into()
        };
    };
    if ns == 0 {
        return "0s".into();
    }
    let sign = if ns < 0 { "-" } else { "" };
    let u = ns.unsigned_abs();
    if u < 1_000_000_000 {
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", fraction(u, scale));
    }
    let hours = u / 3_600_000_000_000;
    let minutes = (u / 60_000_000_000) % 60;
    let seconds = fraction(u % 60_000_000_000, 1_000_000_000);
    match (hours, minutes) {
        (0, 0) => format!("{sign}{seconds}s"),
        (0, m) => format!("{sign}{m}m{seconds}s"),
        (h, m) => format!("{sign}{h}h{m}m{seconds}s"),
    }
}

/// `value / scale` with the fraction's trailing zeros dropped.
fn fraction(value: u64, scale: u64) -> String {
    let (whole, rest) = (value / scale, value % scale);
    if rest == 0 {
        return whole.to_string();
    }
    let digits = scale.ilog10() as usize;
    let frac = format!("{rest:0digits$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: &str) -> Result<serde_json::Value, String> {
        let e = RUNTIME.compile(expr).map_err(|e| e.to_string())?;
        let out = e.search(serde_json::json!({})).map_err(|e| e.to_string())?;
        serde_json::to_value(&*out).map_err(|e| e.to_string())
    }

    #[test]
    fn durations_are_written_as_go_writes_them() {
        let d = |ns: i64| go_duration_string(chrono::TimeDelta::nanoseconds(ns));
        assert_eq!(d(0), "0s");
        assert_eq!(d(1_500_000), "1.5ms");
        assert_eq!(d(999), "999ns");
        assert_eq!(d(2_000), "2µs");
        assert_eq!(d(1_000_000_000), "1s");
        assert_eq!(d(61_500_000_000), "1m1.5s");
        assert_eq!(d(169 * 3_600_000_000_000 + 3_500_000_000), "169h0m3.5s");
        assert_eq!(d(-7_200_000_000_000), "-2h0m0s");
    }

    #[test]
    fn time_functions_follow_kyverno() {
        let t1 = "2024-01-01T00:00:00Z";
        let t2 = "2024-01-08T00:00:01.5Z";
        assert_eq!(eval(&format!("time_since('', '{t1}', '{t2}')")), Ok("168h0m1.5s".into()));
        assert_eq!(eval(&format!("time_diff('{t1}', '{t2}')")), Ok("168h0m1.5s".into()));
        assert_eq!(eval(&format!("time_after('{t2}', '{t1}')")), Ok(true.into()));
        assert_eq!(eval(&format!("time_after('{t1}', '{t1}')")), Ok(false.into()), "strict");
        assert_eq!(eval(&format!("time_before('{t1}', '{t2}')")), Ok(true.into()));
        assert_eq!(eval(&format!("time_between('{t1}', '{t1}', '{t2}')")), Ok(false.into()), "exclusive");
        assert_eq!(eval("time_after('2024-01-01T02:00:00+02:00', '2023-12-31T23:59:59Z')"), Ok(true.into()));
        // time_since with an empty second time is now: a positive duration for a past time.
        let since = eval(&format!("time_since('', '{t1}', '')")).unwrap();
        assert!(since.as_str().unwrap().contains('h') && !since.as_str().unwrap().starts_with('-'), "{since}");
        // What Go's RFC 3339 parse refuses, and an empty first time, are errors.
        for bad in [
            "time_since('', '', '')",
            "time_after('2024-01-01', '2024-01-02T00:00:00Z')",
            "time_after('2024-01-01 00:00:00Z', '2024-01-02T00:00:00Z')",
            "time_since('2006-01-02', '2024-01-01', '')",
            "time_after(`1`, '2024-01-02T00:00:00Z')",
        ] {
            assert!(eval(bad).is_err(), "{bad}: {:?}", eval(bad));
        }
    }

    #[test]
    fn string_functions_follow_kyverno() {
        assert_eq!(eval("to_upper('abc')"), Ok("ABC".into()));
        assert_eq!(eval("to_lower('AbC')"), Ok("abc".into()));
        assert_eq!(eval("equal_fold('AbC', 'aBc')"), Ok(true.into()));
        assert_eq!(eval("regex_match('v[0-9]', 'tag v1.2')"), Ok(true.into()), "unanchored");
        assert_eq!(eval("regex_match('^v[0-9]$', 'v12')"), Ok(false.into()));
        assert_eq!(eval("regex_match('^12$', `12`)"), Ok(true.into()), "a number as its text");
        assert!(eval("regex_match('(', 'x')").is_err());
        assert_eq!(eval("pattern_match('ghcr.io/*', 'ghcr.io/a/b')"), Ok(true.into()));
        assert_eq!(eval("pattern_match('a?c', 'abcd')"), Ok(false.into()), "the whole string");
        assert!(eval("to_upper(`1`)").is_err());
    }
}
