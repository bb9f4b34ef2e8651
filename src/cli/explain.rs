//! `sigscope explain`: why Kyverno would block an image (or did), as text or JSON.

use std::io::{Read, Write};
use std::path::Path;

use serde::Serialize;
use sigscope::kyverno::denial::Denial;
use sigscope::kyverno::policy::PolicySet;
use sigscope::kyverno::replay::{Admission, AdmittedResource, Explanation};
use sigscope::open::OpenOptions;
use sigscope::sanitize::sanitize;

use super::args::{ExplainArgs, VerifyFormat};
use super::exit_code;

/// What `explain -o json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    #[serde(skip_serializing_if = "Option::is_none")]
    denial: Option<Denial>,
    explanations: Vec<ImageOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageOutput {
    reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<Explanation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub async fn run_explain(args: ExplainArgs, opts: &OpenOptions) -> i32 {
    let json = args.output == VerifyFormat::Json;
    let fail = |e: &dyn std::fmt::Display, code: i32| {
        let error = e.to_string();
        eprintln!("sigscope explain: {}", sanitize(&error));
        if json {
            print(&Output { denial: None, explanations: Vec::new(), error: Some(error) });
        }
        code
    };
    let mut stdin_used = false;
    let mut policies = PolicySet::default();
    for path in &args.kyverno_policy {
        match load_policies(path, &mut stdin_used) {
            Ok(set) => sigscope::kyverno::files::merge(&mut policies, set),
            Err(e) => return fail(&e, 2),
        }
    }
    let denial = match &args.denial {
        None => None,
        Some(text) => {
            let text = if text == "-" {
                if stdin_used {
                    return fail(&"--denial - and --kyverno-policy - cannot both read stdin", 2);
                }
                match read_stdin(sigscope::kyverno::denial::MAX_DENIAL_BYTES) {
                    Ok(t) => t,
                    Err(e) => return fail(&e, 2),
                }
            } else {
                text.clone()
            };
            match sigscope::kyverno::denial::parse(&text) {
                Ok(d) => Some(d),
                Err(e) => return fail(&e, 2),
            }
        }
    };
    let mut images: Vec<(String, String)> = Vec::new();
    if let Some(target) = &args.target {
        images.push((target.clone(), args.image.clone().unwrap_or_else(|| target.clone())));
    }
    if let Some(d) = &denial {
        for image in d.images() {
            if !images.iter().any(|(_, shown)| shown == image) {
                images.push((image.to_string(), image.to_string()));
            }
        }
    }
    let replaying = !args.kyverno_policy.is_empty();
    if args.target.is_some() && !replaying {
        return fail(&"nothing to replay the image against: give --kyverno-policy PATH", 2);
    }
    let mut explanations = Vec::new();
    let mut code = 0;
    // What the denial says of the resource; --namespace overrides its namespace.
    let mut resource = denial.as_ref().and_then(|d| d.resource.as_ref()).map(|r| r.admitted()).unwrap_or_default();
    if let Some(ns) = &args.namespace {
        resource.namespace = Some(ns.clone());
    }
    if replaying {
        for (target, shown) in &images {
            let one = explain_image(target, shown, &resource, &policies, opts, args.offline).await;
            code = code.max(match (&one.explanation, &one.error) {
                (_, Some(_)) => one_error_code(&one),
                (Some(e), None) if matches!(e.admission, Admission::Blocked | Admission::Unknown) => 1,
                _ => 0,
            });
            explanations.push(one);
        }
    } else {
        // The denial alone: it says the Pod was refused.
        code = 1;
    }
    let out = Output { denial, explanations, error: None };
    if json {
        print(&out);
    } else {
        let mut text = render(&out);
        if !replaying {
            text.push_str("\nTo replay it against the image's signatures, give the policies: --kyverno-policy PATH\n");
        }
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
    code
}

/// A registry error is 3, anything else that kept the image from being explained is 2.
fn one_error_code(one: &ImageOutput) -> i32 {
    if one.error.as_deref().is_some_and(|e| e.starts_with("usage:")) { 2 } else { 3 }
}

async fn explain_image(
    target: &str,
    shown: &str,
    resource: &AdmittedResource,
    policies: &PolicySet,
    opts: &OpenOptions,
    offline: bool,
) -> ImageOutput {
    let mut out = ImageOutput { reference: target.to_string(), digest: None, explanation: None, error: None };
    let t = target.to_string();
    let o = opts.clone();
    let opened = match tokio::task::spawn_blocking(move || sigscope::open::open(&t, &o)).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(e)) => {
            out.error = Some(prefixed(&e, opts));
            return out;
        }
        Err(e) => {
            out.error = Some(format!("the open task failed: {e}"));
            return out;
        }
    };
    let (repository, subject) = match sigscope::verify::resolve_target(&opened).await {
        Ok(r) => r,
        Err(e) => {
            out.error = Some(prefixed(&e, opts));
            return out;
        }
    };
    out.digest = Some(subject.digest.clone());
    let check = sigscope::explain::ImageSignatures::new(
        opened.source.clone(),
        repository,
        subject,
        chrono::Utc::now(),
        sigscope::notation::dir::revocation_mode(offline),
    );
    let explanation = sigscope::kyverno::replay::replay(policies, shown, resource, &check).await;
    if let Some(e) = check.registry_error.lock().expect("error lock").take() {
        out.error = Some(prefixed(&e, opts));
    }
    out.explanation = Some(explanation);
    out
}

/// The error as a sentence, marked `usage:` when it is the user's to fix (exit 2).
fn prefixed(e: &sigscope::Error, opts: &OpenOptions) -> String {
    if exit_code(e, opts) == 2 { format!("usage: {e}") } else { e.to_string() }
}

fn read_stdin(limit: usize) -> Result<String, String> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    if buf.len() > limit {
        return Err(format!("stdin holds more than {limit} bytes"));
    }
    String::from_utf8(buf).map_err(|_| "stdin is not UTF-8 text".to_string())
}

/// Every `--kyverno-policy`, merged; the first that cannot be loaded is the error.
pub fn load_all(paths: &[std::path::PathBuf]) -> Result<PolicySet, String> {
    let mut stdin_used = false;
    let mut policies = PolicySet::default();
    for path in paths {
        sigscope::kyverno::files::merge(&mut policies, load_policies(path, &mut stdin_used)?);
    }
    Ok(policies)
}

/// A file, every `*.yaml`/`*.yml` of a directory (in name order), or `-` for stdin.
fn load_policies(path: &Path, stdin_used: &mut bool) -> Result<PolicySet, String> {
    use sigscope::kyverno::policy::{MAX_POLICY_BYTES, load};
    if path == Path::new("-") {
        if std::mem::replace(stdin_used, true) {
            return Err("--kyverno-policy - is given twice".into());
        }
        return load(&read_stdin(MAX_POLICY_BYTES)?, "stdin").map_err(|e| e.to_string());
    }
    sigscope::kyverno::files::load_path(path)
}

fn print(out: &Output) {
    let mut stdout = std::io::stdout().lock();
    let _ = sigscope::json_out::to_writer_pretty(&mut stdout, out)
        .map_err(sigscope::json_out::io_error)
        .and_then(|_| writeln!(stdout));
}

fn render(out: &Output) -> String {
    use sigscope::kyverno::render;
    let mut s = String::new();
    if let Some(d) = &out.denial {
        for l in render::denial_lines(d) {
            s.push_str(&l);
            s.push('\n');
        }
        if !out.explanations.is_empty() {
            s.push('\n');
        }
    }
    for one in &out.explanations {
        let digest = one.digest.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
        match &one.explanation {
            Some(e) => {
                for (i, l) in render::explanation_lines(e).into_iter().enumerate() {
                    s.push_str(&l);
                    if i == 0 {
                        s.push_str(&digest);
                    }
                    s.push('\n');
                }
            }
            None => s.push_str(&format!("{}: cannot be explained\n", sanitize(&one.reference))),
        }
        if let Some(err) = &one.error {
            s.push_str(&format!("  error: {}\n", sanitize(err)));
        }
    }
    s
}
