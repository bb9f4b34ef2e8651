//! `sigscope verify`: Notation verification of one artifact, like `notation verify`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use sigscope::open::OpenOptions;

use super::args::{VerifyArgs, VerifyFormat};
use super::exit_code;

/// What `verify -o json` writes when it cannot verify at all: the shape `tree -o json` gives a
/// target it could not resolve, so a script reads one error shape from both.
#[derive(serde::Serialize)]
pub struct VerifyError<'a> {
    reference: &'a str,
    error: String,
}

pub async fn run_verify(args: VerifyArgs, opts: &OpenOptions, notation_dir: Option<PathBuf>) -> i32 {
    use sigscope::notation::verifier::{ArtifactReport, Verdict, Verifier};
    use sigscope::verify::cosign::NamedKey;
    let json = args.output == VerifyFormat::Json;
    let mut reference = args.target.clone();
    // Says it on stderr, and with -o json on stdout too: a script reading stdout gets an answer.
    let fail_at = |reference: &str, e: &dyn std::fmt::Display, code: i32| {
        let error = e.to_string();
        eprintln!("sigscope verify: {}", sigscope::sanitize::sanitize(&error));
        if json {
            let mut stdout = std::io::stdout().lock();
            let _ = sigscope::json_out::to_writer_pretty(&mut stdout, &VerifyError { reference, error })
                .map_err(sigscope::json_out::io_error)
                .and_then(|_| writeln!(stdout));
        }
        code
    };
    let fail = |e: &dyn std::fmt::Display, code: i32| fail_at(&args.target, e, code);
    let keys = match args.cosign_key.iter().map(|p| NamedKey::read(p)).collect::<Result<Vec<_>, _>>() {
        Ok(k) => k,
        Err(e) => return fail(&e, 2),
    };
    // With cosign keys, a missing Notation configuration means Notation is not asked, not an
    // error; one given with --notation-dir, or present but broken, still is.
    let explicit_dir = notation_dir.is_some();
    let notation = match notation_dir.or_else(sigscope::notation::dir::default_notation_dir) {
        None if !keys.is_empty() => None,
        None => return fail(&"no notation directory: pass --notation-dir DIR", 2),
        Some(dir) => match sigscope::notation::policy::TrustPolicy::load(&dir) {
            Ok(p) => Some((dir, p)),
            Err(sigscope::notation::policy::PolicyError::Missing { .. }) if !keys.is_empty() && !explicit_dir => None,
            Err(e) => return fail(&e, 2),
        },
    };
    let opened = match sigscope::open::open(&args.target, opts) {
        Ok(o) => o,
        Err(e) => return fail(&e, exit_code(&e, opts)),
    };
    let code_of = |e: &sigscope::Error| exit_code(e, opts);
    reference.clone_from(&opened.target);
    let fail = |e: &dyn std::fmt::Display, code: i32| fail_at(&reference, e, code);
    let (repository, subject) = match sigscope::verify::resolve_target(&opened).await {
        Ok(r) => r,
        Err(e) => return fail(&e, code_of(&e)),
    };
    if let [sigscope::graph::NodeKind::Tag { tag, .. }] = opened.roots.as_slice() {
        // As notation says it: what was verified is the digest the tag named just now.
        eprintln!(
            "Warning: resolved tag {:?} to {}; the tag may point elsewhere later, verify by digest \
             (@sha256:…) to pin what you deploy.",
            sigscope::sanitize::sanitize(tag),
            subject.digest
        );
    }
    let aws = match opts.aws_settings() {
        Ok(a) => a,
        Err(e) => return fail(&e, 2),
    };
    let now = chrono::Utc::now();
    let report = match notation {
        Some((dir, policy)) => {
            let options = sigscope::notation::verifier::VerifierOptions {
                revocation: sigscope::notation::dir::revocation_mode(args.offline),
                plugins: sigscope::aws::signer_revocation::builtin_plugins(aws, args.offline),
            };
            let verifier = Verifier::in_dir(policy, dir, options);
            match sigscope::verify::verify_artifact(opened.source.as_ref(), &repository, &subject, &verifier, now).await
            {
                Ok(r) => r,
                Err(e) => return fail(&e, code_of(&e)),
            }
        }
        None => ArtifactReport::new(
            &opened.source.repository_ref(&repository),
            &subject.digest,
            None,
            Verdict::NotEvaluated { reason: "no Notation trust policy (none in notation's directory)".into() },
            Vec::new(),
        ),
    };
    let cosign = if keys.is_empty() {
        None
    } else {
        match sigscope::verify::cosign::verify_cosign(opened.source.as_ref(), &repository, &subject, &keys).await {
            Ok(r) => Some(r),
            Err(e) => return fail(&e, code_of(&e)),
        }
    };
    let mut stdout = std::io::stdout().lock();
    let written = match args.output {
        VerifyFormat::Json => {
            sigscope::json_out::to_writer_pretty(&mut stdout, &Verified { notation: &report, cosign: cosign.as_ref() })
                .map_err(sigscope::json_out::io_error)
                .and_then(|_| writeln!(stdout))
        }
        VerifyFormat::Text => {
            let mut text = match (&report.verdict, &cosign) {
                // Not a failure when cosign decides: said as what it is.
                (Verdict::NotEvaluated { reason }, Some(_)) => {
                    format!("Notation: not evaluated: {}\n", sigscope::sanitize::sanitize(reason))
                }
                _ => report.render_text(),
            };
            if let Some(c) = &cosign {
                text.push_str(&c.render_text());
            }
            stdout.write_all(text.as_bytes())
        }
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("sigscope verify: cannot write output: {e}");
        return 3;
    }
    // Notation decides where a trust policy applies; cosign where keys were given; both where both.
    let notation_asked = !matches!(report.verdict, Verdict::NotEvaluated { .. }) || cosign.is_none();
    let notation_ok =
        matches!(report.verdict, Verdict::Verified | Verdict::VerifiedWithWarnings { .. } | Verdict::Skipped);
    let failures: Vec<String> = [
        (notation_asked && !notation_ok).then(|| report.headline()),
        cosign.as_ref().filter(|c| !c.verdict.passed()).map(|c| format!("cosign: {}", c.verdict.word())),
    ]
    .into_iter()
    .flatten()
    .collect();
    if failures.is_empty() {
        return 0;
    }
    // The text report opens with this very line: on a terminal it is already on screen.
    let on_screen = !json && std::io::stdout().is_terminal();
    for f in failures {
        if !on_screen {
            eprintln!("sigscope verify: {}", sigscope::sanitize::sanitize(&f));
        }
    }
    1
}

/// `verify -o json`: Notation's report as it always was, with the cosign report beside it when
/// keys were given.
#[derive(serde::Serialize)]
struct Verified<'a> {
    #[serde(flatten)]
    notation: &'a sigscope::notation::verifier::ArtifactReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    cosign: Option<&'a sigscope::verify::cosign::CosignReport>,
}
