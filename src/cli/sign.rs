//! `sigscope sign`: Notation signing with a local key, like `notation sign`; the signature is
//! stored as an OCI 1.1 referrer of the manifest (tag schema where there is no referrers API).

use std::io::Write;

use sigscope::open::OpenOptions;
use sigscope::sanitize::sanitize;
use sigscope::sign::key::LocalSigner;
use sigscope::sign::pipeline::{EnvelopeFormat, LocalEnvelopes, SignOptions, sign_manifest};
use sigscope::sign::timestamp::TimestampOptions;

use super::args::{EnvelopeArg, SignArgs, VerifyFormat};
use super::exit_code;

#[derive(serde::Serialize)]
struct SignError<'a> {
    reference: &'a str,
    error: String,
}

pub async fn run_sign(args: SignArgs, opts: &OpenOptions) -> i32 {
    let json = args.output == VerifyFormat::Json;
    let fail = |reference: &str, e: &dyn std::fmt::Display, code: i32| {
        let error = e.to_string();
        eprintln!("sigscope sign: {}", sanitize(&error));
        if json {
            let mut stdout = std::io::stdout().lock();
            let _ = sigscope::json_out::to_writer_pretty(&mut stdout, &SignError { reference, error })
                .map_err(sigscope::json_out::io_error)
                .and_then(|_| writeln!(stdout));
        }
        code
    };
    if args.read_only {
        return fail(&args.target, &"refused: --read-only forbids signing (it would change the registry or layout)", 2);
    }
    if let Some(why) = config_refusal() {
        return fail(&args.target, &why, 2);
    }
    // The key and chain first: a bad key is refused before anything is asked of a registry.
    let now = chrono::Utc::now();
    let signer = match LocalSigner::from_files_at(&args.key, &args.cert, now) {
        Ok(s) => s,
        Err(e) => return fail(&args.target, &e, 2),
    };
    let timestamp = match timestamp_options(&args, opts) {
        Ok(t) => t,
        Err(e) => return fail(&args.target, &e, 2),
    };
    let opened = match sigscope::open::open(&args.target, opts) {
        Ok(o) => o,
        Err(e) => return fail(&args.target, &e, exit_code(&e, opts)),
    };
    let reference = opened.target.clone();
    let (repository, subject) = match sigscope::verify::resolve_target(&opened).await {
        Ok(r) => r,
        Err(e) => return fail(&reference, &e, exit_code(&e, opts)),
    };
    if let [sigscope::graph::NodeKind::Tag { tag, .. }] = opened.roots.as_slice() {
        eprintln!(
            "Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:{}) because tags \
             are mutable and a tag reference can point to a different artifact than the one signed.\n\
             Resolved tag {:?} to {}: that digest is what is signed.",
            sanitize(tag),
            sanitize(tag),
            subject.digest
        );
    }
    let options = SignOptions {
        format: match args.envelope {
            EnvelopeArg::Jws => EnvelopeFormat::Jws,
            EnvelopeArg::Cose => EnvelopeFormat::Cose,
        },
        signing_time: now,
        expiry: args.expiry.map(|d| now + d),
        timestamp,
    };
    let signed =
        match sign_manifest(opened.source.as_ref(), &repository, &subject, &LocalEnvelopes(signer), &options).await {
            Ok(s) => s,
            Err(e) => return fail(&reference, &e, exit_code(&e, opts)),
        };
    let mut stdout = std::io::stdout().lock();
    let written = if json {
        sigscope::json_out::to_writer_pretty(&mut stdout, &signed)
            .map_err(sigscope::json_out::io_error)
            .and_then(|_| writeln!(stdout))
    } else {
        let listed = match signed.signature.listed_by {
            sigscope::source::ListedBy::ReferrersApi => "listed by the registry's referrers API",
            sigscope::source::ListedBy::TagSchema => "listed in the referrers tag-schema index",
            sigscope::source::ListedBy::LayoutIndex => "listed in the layout's index.json",
        };
        writeln!(
            stdout,
            "Successfully signed {}@{}\nsignature {} stored at {} ({listed})",
            sanitize(&opened.source.repository_ref(&repository)),
            signed.subject.digest,
            signed.signature.descriptor.digest,
            sanitize(&signed.signature.reference),
        )
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("sigscope sign: cannot write output: {e}");
    }
    0
}

/// The TSA and the roots its answer must chain to, read before anything is asked of a registry.
fn timestamp_options(args: &SignArgs, opts: &OpenOptions) -> Result<Option<TimestampOptions>, String> {
    let (Some(url), Some(root)) = (&args.timestamp_url, &args.timestamp_root_cert) else {
        return Ok(None);
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("--timestamp-url {url:?} is not an http:// or https:// URL"));
    }
    let text = std::fs::read_to_string(root)
        .map_err(|e| format!("--timestamp-root-cert {}: cannot read it: {e}", root.display()))?;
    let roots = sigscope::inspect::x509::pem_certs(&text)
        .map_err(|e| format!("--timestamp-root-cert {}: {e}", root.display()))?;
    if roots.is_empty() {
        return Err(format!("--timestamp-root-cert {}: no PEM certificate in it", root.display()));
    }
    Ok(Some(TimestampOptions { url: url.clone(), roots, timeout: opts.registry.request_timeout }))
}

/// Why config.toml forbids signing, if it does: `read_only = true` holds for the command line
/// too, and a file that does not parse might say so, so it refuses as well (fail closed).
fn config_refusal() -> Option<String> {
    match sigscope::tui::config::load() {
        (_, Some(e)) => Some(format!("refused: config.toml has an error, and it may set read_only: {e}")),
        (c, None) if c.read_only => Some("refused: read_only = true in config.toml forbids signing".into()),
        _ => None,
    }
}
