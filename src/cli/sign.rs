//! `sigscope sign`: Notation signing with a local key, like `notation sign`, or through AWS
//! Signer (`--aws-signer-profile`, as notation with the AWS Signer plugin); the signature is
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
    if let Some(profile) = &args.aws_signer_profile {
        return run_aws_sign(&args, profile, opts, &fail).await;
    }
    // The key and chain first: a bad key is refused before anything is asked of a registry.
    let now = chrono::Utc::now();
    let (Some(key), Some(cert)) = (&args.key, &args.cert) else {
        return fail(&args.target, &"give --key and --cert, or --aws-signer-profile", 2);
    };
    let signer = match LocalSigner::from_files_at(key, cert, now) {
        Ok(s) => s,
        Err(e) => return fail(&args.target, &e, 2),
    };
    let timestamp = match timestamp_options(&args, opts) {
        Ok(t) => t,
        Err(e) => return fail(&args.target, &e, 2),
    };
    let (opened, repository, subject) = match resolve(&args.target, opts).await {
        Ok(r) => r,
        Err((reference, e)) => return fail(&reference, &e, exit_code(&e, opts)),
    };
    let reference = opened.target.clone();
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
    print_signed(&signed, opened.source.repository_ref(&repository), json);
    0
}

/// `--aws-signer-profile`: the profile checked and the region settled before anything is asked
/// of a registry; SignPayload's answer checked before anything is stored.
async fn run_aws_sign(
    args: &SignArgs,
    profile: &str,
    opts: &OpenOptions,
    fail: &dyn Fn(&str, &dyn std::fmt::Display, i32) -> i32,
) -> i32 {
    use sigscope::sign::aws_signer::{self, AwsSigner, AwsSignerSettings, ProfileRef};
    let profile = match ProfileRef::parse(profile) {
        Ok(p) => p,
        Err(e) => return fail(&args.target, &e, 2),
    };
    let format = match args.envelope {
        EnvelopeArg::Jws => EnvelopeFormat::Jws,
        EnvelopeArg::Cose => EnvelopeFormat::Cose,
    };
    if let Err(e) = aws_signer::require_jws(format) {
        return fail(&args.target, &e, 2);
    }
    let regions = &opts.ecr.regions;
    if regions.len() > 1 {
        return fail(&args.target, &"sign takes one --region: a signing profile lives in one region", 2);
    }
    let aws = match opts.aws_settings() {
        Ok(a) => a,
        Err(e) => return fail(&args.target, &e, 2),
    };
    let settings = AwsSignerSettings { aws, region: regions.first().cloned() };
    let signer = match AwsSigner::new(profile, &settings).await {
        Ok(s) => s,
        Err(e) => return fail(&args.target, &e, e.exit_code()),
    };
    let (opened, repository, subject) = match resolve(&args.target, opts).await {
        Ok(r) => r,
        Err((reference, e)) => return fail(&reference, &e, exit_code(&e, opts)),
    };
    let reference = opened.target.clone();
    // The service's errors are the service's (3, or 2 for credentials), wherever the target is.
    let signature = match aws_signer::sign_only(&subject, &signer).await {
        Ok(s) => s,
        Err(e) => return fail(&reference, &e, e.exit_code()),
    };
    let signed = match aws_signer::store(opened.source.as_ref(), &repository, &subject, &signature).await {
        Ok(s) => s,
        Err(e) => return fail(&reference, &e, exit_code(&e, opts)),
    };
    print_signed(&signed, opened.source.repository_ref(&repository), args.output == VerifyFormat::Json);
    0
}

/// TARGET opened and resolved to the manifest to sign (a tag to its digest, with notation's
/// warning); an error comes with the reference it is about.
async fn resolve(
    target: &str,
    opts: &OpenOptions,
) -> Result<(sigscope::open::Opened, String, sigscope::oci::Descriptor), (String, sigscope::Error)> {
    let opened = sigscope::open::open(target, opts).map_err(|e| (target.to_string(), e))?;
    let (repository, subject) =
        sigscope::verify::resolve_target(&opened).await.map_err(|e| (opened.target.clone(), e))?;
    warn_tag(&opened, &subject);
    Ok((opened, repository, subject))
}

fn warn_tag(opened: &sigscope::open::Opened, subject: &sigscope::oci::Descriptor) {
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
}

fn print_signed(signed: &sigscope::sign::pipeline::Signed, repository_ref: String, json: bool) {
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
            sanitize(&repository_ref),
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
}

/// The TSA and the roots its answer must chain to, read before anything is asked of a registry.
fn timestamp_options(args: &SignArgs, opts: &OpenOptions) -> Result<Option<TimestampOptions>, String> {
    let (Some(url), Some(root)) = (&args.timestamp_url, &args.timestamp_root_cert) else {
        return Ok(None);
    };
    let settings = ("--timestamp-url", "--timestamp-root-cert");
    TimestampOptions::from_files(url, root, opts.registry.request_timeout, settings)
        .map(Some)
        .map_err(|e| e.to_string())
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
