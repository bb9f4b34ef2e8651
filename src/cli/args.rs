//! The command line as clap parses it: the top level (TUI), `tree`, `verify`, `demo`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use sigscope::open::OpenOptions;

#[derive(Parser, Debug)]
#[command(
    name = "sigscope",
    version,
    about = "Explore the supply chain of container images: referrers, signatures, SBOMs, attestations",
    long_about = "Explore the supply chain of container images in a terminal UI.\n\n\
        With no arguments sigscope opens the built-in demo supply chain (offline).\n\
        TARGET is host[:port] (whole registry), host/repo, host/repo:tag, host/repo@sha256:…,\n\
        or with --oci-layout an OCI image layout PATH[:tag|@digest].\n\n\
        Exit codes: 0 success, 1 check failed, 2 usage or config error, 3 registry or network error.",
    after_help = "Examples:\n  sigscope                               built-in demo\n  \
        sigscope localhost:5000                browse a registry\n  \
        sigscope tree ghcr.io/org/app:v1 -o json\n  \
        sigscope demo export ./demo && sigscope --oci-layout ./demo/layout"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// What to open in the TUI: a registry, repository, image or (with --oci-layout) a layout;
    /// default: the built-in demo.
    #[arg(default_value_if("ecr", clap::builder::ArgPredicate::IsPresent, ""), hide_default_value = true)]
    pub target: Option<String>,

    #[command(flatten)]
    pub tui: TuiArgs,

    #[command(flatten)]
    pub source: SourceArgs,
}

/// Where the trust policy and stores are, for every command that verifies.
#[derive(Args, Debug, Clone, Default)]
pub struct NotationDirArg {
    /// Notation configuration directory holding trustpolicy.oci.json and truststore/
    /// (default: notation's own, $XDG_CONFIG_HOME/notation or ~/.config/notation; the built-in
    /// demo uses its own). The TUI watches it and re-verifies on every change.
    #[arg(long = "notation-dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Flags only the TUI reads. None is global: `tree --help` lists what `tree` reads. Given
/// before a subcommand they are refused with a sentence, never silently dropped.
#[derive(Args, Debug, Clone)]
pub struct TuiArgs {
    #[command(flatten)]
    pub notation: NotationDirArg,

    /// Change nothing outside sigscope: no writes to a registry (signing is refused) and no
    /// write-back of the what-if trust policy (its key is unbound).
    #[arg(long)]
    pub read_only: bool,

    /// Colour theme (NO_COLOR implies mono).
    #[arg(long, value_name = "NAME", value_parser = theme_names())]
    pub theme: Option<String>,

    /// Do not capture the mouse (keeps the terminal's own text selection).
    #[arg(long)]
    pub no_mouse: bool,

    /// Largest blob fetched for a preview (envelopes, SBOMs), in bytes [default: 8388608].
    #[arg(long, value_name = "BYTES")]
    pub preview_limit: Option<u64>,

    /// Kyverno policies for `:explain` (a YAML file, a directory of them, or -); repeat for more.
    /// Files and directories are watched: an edit is replayed at once.
    #[arg(long = "kyverno-policy", value_name = "PATH")]
    pub kyverno_policy: Vec<PathBuf>,

    /// A cosign public key (PEM: ECDSA P-256/P-384 or RSA); repeat for more. Every image's
    /// cosign signatures (.sig tag, Sigstore bundles) are checked with them beside Notation's.
    /// The demo uses its own key.
    #[arg(long = "cosign-key", value_name = "KEY.pub")]
    pub cosign_key: Vec<PathBuf>,
}

impl TuiArgs {
    /// The flags set, by name, for the refusal of a subcommand that reads none of them.
    pub fn given(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        for (set, name) in [
            (self.notation.dir.is_some(), "--notation-dir"),
            (self.read_only, "--read-only"),
            (self.theme.is_some(), "--theme"),
            (self.no_mouse, "--no-mouse"),
            (self.preview_limit.is_some(), "--preview-limit"),
            (!self.kyverno_policy.is_empty(), "--kyverno-policy"),
            (!self.cosign_key.is_empty(), "--cosign-key"),
        ] {
            if set {
                given.push(name);
            }
        }
        given
    }
}

/// The built-in theme names: an unknown one is a usage error that lists them.
pub fn theme_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(sigscope::tui::theme::BUILTIN.map(|(name, _)| name))
}

/// Where artifacts come from: every command that opens a TARGET reads these. Each subcommand
/// has its own copy; one given before the subcommand is merged into it.
#[derive(Args, Debug, Clone, Default)]
pub struct SourceArgs {
    /// TARGET is an OCI image layout directory: PATH[:tag|@digest].
    #[arg(long)]
    pub oci_layout: bool,

    /// Allow plain HTTP to a non-loopback registry (loopback hosts always may).
    #[arg(long)]
    pub plain_http: bool,

    /// PEM file of extra root certificates for a registry (or an AWS endpoint) behind a private CA.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Registry user name; the password is read from stdin with --password-stdin.
    #[arg(long)]
    pub username: Option<String>,

    /// Read the registry password from standard input (with --username).
    #[arg(long)]
    pub password_stdin: bool,

    /// Requests in flight per registry [default: 32].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: Option<u16>,

    /// Seconds one request may take — to a registry, or from `sign` to the timestamp authority —
    /// from connecting to the last byte of the answer (token requests and each page of a listing
    /// count as requests of their own) [default: 30].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,

    /// Append every registry request to FILE (`METHOD URL STATUS`), for benchmarks.
    #[arg(long, value_name = "FILE", hide = true)]
    pub request_log: Option<PathBuf>,

    /// Open the AWS ECR registries of the account (one per --region) instead of a TARGET.
    #[arg(long, conflicts_with = "target")]
    pub ecr: bool,

    /// AWS region for --ecr; repeat it to see several side by side [default: AWS_REGION or the
    /// profile's region].
    #[arg(long, value_name = "REGION")]
    pub region: Vec<String>,

    /// AWS profile for ECR and AWS Signer (signing, and revocation of AWS Signer signatures)
    /// (default: AWS_PROFILE, else the default profile).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// AWS account whose registries --ecr opens [default: the caller's own].
    #[arg(long, value_name = "ACCOUNT")]
    pub registry_id: Option<String>,
}

impl SourceArgs {
    /// These flags with those given before the subcommand filled in; the subcommand's own win.
    pub fn or(self, outer: SourceArgs) -> SourceArgs {
        SourceArgs {
            oci_layout: self.oci_layout || outer.oci_layout,
            plain_http: self.plain_http || outer.plain_http,
            ca_file: self.ca_file.or(outer.ca_file),
            username: self.username.or(outer.username),
            password_stdin: self.password_stdin || outer.password_stdin,
            concurrency: self.concurrency.or(outer.concurrency),
            timeout: self.timeout.or(outer.timeout),
            request_log: self.request_log.or(outer.request_log),
            ecr: self.ecr || outer.ecr,
            region: if self.region.is_empty() { outer.region } else { self.region },
            profile: self.profile.or(outer.profile),
            registry_id: self.registry_id.or(outer.registry_id),
        }
    }

    pub fn given(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        for (set, name) in [
            (self.oci_layout, "--oci-layout"),
            (self.plain_http, "--plain-http"),
            (self.ca_file.is_some(), "--ca-file"),
            (self.username.is_some(), "--username"),
            (self.password_stdin, "--password-stdin"),
            (self.concurrency.is_some(), "--concurrency"),
            (self.timeout.is_some(), "--timeout"),
            (self.request_log.is_some(), "--request-log"),
            (self.ecr, "--ecr"),
            (!self.region.is_empty(), "--region"),
            (self.profile.is_some(), "--profile"),
            (self.registry_id.is_some(), "--registry-id"),
        ] {
            if set {
                given.push(name);
            }
        }
        given
    }

    /// `--ecr`, `--region`, `--profile`, `--registry-id` for the ECR source.
    pub fn ecr_options(&self) -> sigscope::source::ecr::EcrOptions {
        sigscope::source::ecr::EcrOptions {
            enabled: self.ecr,
            regions: self.region.clone(),
            profile: self.profile.clone(),
            registry_id: self.registry_id.clone(),
            ..Default::default()
        }
    }
}

/// The common flags of the command-line contract (DESIGN.md) that a headless command has no
/// use for: `--read-only` (it never writes, so it holds by nature), `--theme` and `--no-mouse`
/// (it draws no UI). Accepted, so scripts may pass them everywhere, but not listed in its
/// `--help`; an unknown theme is still a usage error.
#[derive(Args, Debug, Clone)]
pub struct UnusedCommonArgs {
    #[arg(long, hide = true)]
    pub read_only: bool,
    #[arg(long, hide = true, value_name = "NAME", value_parser = theme_names())]
    pub theme: Option<String>,
    #[arg(long, hide = true)]
    pub no_mouse: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the referrers graph of TARGET without the UI (the shape of `oras discover`).
    Tree(TreeArgs),
    /// Verify the Notation signatures of one image against a trust policy (like `notation verify`).
    Verify(VerifyArgs),
    /// Sign one image with a local key or through AWS Signer (like `notation sign`) and store the signature as a
    /// referrer of its manifest.
    Sign(SignArgs),
    /// Explain Kyverno's admission decision for an image: replay its policies against the image's signatures,
    /// or take apart a pasted denial (`--denial`).
    Explain(ExplainArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to write the script for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Work with the built-in demo supply chain.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Tree(_) => "tree",
            Command::Verify(_) => "verify",
            Command::Sign(_) => "sign",
            Command::Explain(_) => "explain",
            Command::Completions { .. } => "completions",
            Command::Demo { command: DemoCommand::Export { .. } } => "demo export",
        }
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Exit codes: 0 allowed (or admitted with an audit warning), 1 would be blocked (or not \
    decided: a rule could not be replayed), 2 usage or policy error, 3 registry error.\n\nReplayed: \
    ClusterPolicy and Policy verifyImages rules — a rule's match, exclude and preconditions and a Policy's \
    namespace for the resource admitted (kind, namespace and name from the --denial, --namespace; namespaceSelector \
    over Namespace documents given with --kyverno-policy), imageReferences and skipImageReferences as Kyverno matches \
    them, attestor sets with count and nesting, Notary certificate attestors against the image's Notation \
    signatures, cosign static keys and certificates (cert, with certChain; certChain alone against each signature's \
    own certificate) against its .sig tag (and OCI 1.1 \
    referrers with cosignOCI11), attestations (cosign .att statements checked with a static key or certificate, Notary referrers \
    by artifactType) and their conditions, validate.deny, ConfigMap context variables, Kyverno's time_*, to_upper, \
    to_lower, equal_fold, regex_match and pattern_match functions, verifyDigest/mutateDigest, and the policy's \
    failure action (Enforce, Audit, per-namespace overrides). Said as not replayed: keyless, SigstoreBundle rules, \
    Rekor entries, Kyverno's other JMESPath functions, what depends on the \
    Pod's labels or the requesting user, ImageValidatingPolicy rules.")]
#[command(group(clap::ArgGroup::new("what").required(true).args(["target", "denial"])))]
pub struct ExplainArgs {
    /// The image: host/repo:tag, host/repo@sha256:…, or with --oci-layout a layout PATH[:tag|@digest].
    pub target: Option<String>,
    /// Kyverno policies: a YAML file (several documents, or `kind: List` as kubectl prints it), a directory of
    /// them, or - for stdin. Repeat for more.
    #[arg(long = "kyverno-policy", value_name = "PATH")]
    pub kyverno_policy: Vec<PathBuf>,
    /// What kubectl, an event or a log said when the Pod was refused (or - for stdin): taken apart, and with
    /// --kyverno-policy each image it names is replayed.
    #[arg(long, value_name = "TEXT")]
    pub denial: Option<String>,
    /// The image as the Pod spec names it, for matching imageReferences (default: TARGET); for a layout or a
    /// mirror whose name differs from the one deployed.
    #[arg(long, value_name = "REFERENCE", requires = "target")]
    pub image: Option<String>,
    /// The Pod's namespace, for the rules' match and exclude blocks and the policies' failure-action
    /// overrides (default: the namespace the --denial names).
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = VerifyFormat::Text)]
    pub output: VerifyFormat,
    /// Do not download CRLs (the Notary verifier's strict level then fails an unknown status).
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub deadline: DeadlineArg,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub unused: UnusedCommonArgs,
}

#[derive(Args, Debug)]
pub struct TreeArgs {
    /// What to show: host[:port] (every repository), host/repo, host/repo:tag,
    /// host/repo@sha256:…, or with --oci-layout a layout PATH[:tag|@digest]; none with --ecr.
    #[arg(required_unless_present = "ecr", default_value = "", hide_default_value = true)]
    pub target: String,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = TreeFormat::Tree)]
    pub output: TreeFormat,
    /// How many levels of referrers to follow below each image (default: all, within the
    /// 50 levels of nesting any node may be below its root).
    #[arg(long)]
    pub depth: Option<usize>,
    /// Only show referrers of this artifactType.
    #[arg(long, value_name = "TYPE")]
    pub artifact_type: Option<String>,
    #[command(flatten)]
    pub deadline: DeadlineArg,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub unused: UnusedCommonArgs,
}

/// A wall-clock bound on all the registry traffic of one `tree` or `verify`.
#[derive(Args, Debug, Clone, Copy)]
pub struct DeadlineArg {
    /// Seconds all registry requests of the command may take together; what is not fetched by
    /// then fails with a deadline error (0: no deadline). Default: 300 for verify, sign and explain,
    /// none for tree (a whole registry can legitimately take longer). Each request is also bounded by --timeout;
    /// each AWS call (ECR, AWS Signer revocation) with its retries by the deadline.
    #[arg(long, value_name = "SECS")]
    pub deadline: Option<u64>,
}

impl DeadlineArg {
    pub fn apply(self, opts: &OpenOptions, default_secs: u64) -> OpenOptions {
        let mut opts = opts.clone();
        let secs = self.deadline.unwrap_or(default_secs);
        opts.registry.deadline = (secs > 0).then(|| Duration::from_secs(secs));
        opts
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Exit codes: 0 verified (or skipped by policy), 1 not verified, 2 usage or policy error, \
    3 registry error.\n\nWith --cosign-key, a cosign signature by one of the keys is required too (found in the \
    sha256-<hex>.sig tag, or as an OCI 1.1 referrer: cosign's simple signing or a Sigstore bundle); Rekor is \
    not consulted. Where no Notation trust policy is found or applies, the cosign signature alone decides.")]
pub struct VerifyArgs {
    /// One image: host/repo:tag, host/repo@sha256:…, or with --oci-layout PATH:tag / PATH@digest.
    pub target: String,
    /// Output format: text, or json with every check of every signature.
    #[arg(short, long, value_enum, default_value_t = VerifyFormat::Text)]
    pub output: VerifyFormat,
    /// Do not download CRLs and do not ask AWS Signer about revocations; use only cached CRLs
    /// (an unknown status then fails or warns as the policy's revocation action says).
    #[arg(long)]
    pub offline: bool,
    /// A cosign public key (PEM: ECDSA P-256/P-384 or RSA), as `cosign verify --key`; repeat for
    /// more. The image then needs a cosign signature that verifies with one of them.
    #[arg(long = "cosign-key", value_name = "KEY.pub")]
    pub cosign_key: Vec<PathBuf>,
    #[command(flatten)]
    pub notation: NotationDirArg,
    #[command(flatten)]
    pub deadline: DeadlineArg,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub unused: UnusedCommonArgs,
}

#[derive(Args, Debug)]
#[command(after_help = "Exit codes: 0 signed, 2 usage, key or certificate error (nothing is stored), \
    3 registry, AWS Signer or timestamp authority error.\n\nThe digest is what is signed: a tag is resolved to its digest first.")]
#[command(group(clap::ArgGroup::new("signer").required(true).args(["key", "aws_signer_profile"])))]
// A TARGET names the one image signed: the ECR browsing flags mean nothing here (--region and
// --profile stay: AWS Signer reads them).
#[command(mut_arg("ecr", |a| a.hide(true)), mut_arg("registry_id", |a| a.hide(true)))]
pub struct SignArgs {
    /// One image or index: host/repo:tag, host/repo@sha256:…, or with --oci-layout PATH:tag / PATH@digest.
    pub target: String,
    /// Private key, PEM: EC P-256/P-384/P-521 or RSA 2048/3072/4096, in PKCS#8, SEC1 or PKCS#1.
    #[arg(long, value_name = "KEY.pem", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Certificate chain, PEM: the signing certificate first, then each issuer up to the root.
    #[arg(long, value_name = "CHAIN.pem", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Sign through AWS Signer with this signing profile (platform Notation-OCI-SHA384-ECDSA):
    /// its name (region from --region or the AWS chain) or its ARN,
    /// arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME. Credentials come from the standard
    /// AWS chain (--profile). JWS only; the profile sets the expiry.
    #[arg(
        long,
        value_name = "NAME|ARN",
        conflicts_with_all = ["key", "cert", "expiry", "timestamp_url", "timestamp_root_cert"]
    )]
    pub aws_signer_profile: Option<String>,
    /// Envelope format.
    #[arg(long, value_enum, default_value_t = EnvelopeArg::Jws)]
    pub envelope: EnvelopeArg,
    /// How long the signature stays valid, e.g. 30m, 24h, 7d (default: no expiry).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expiry: Option<chrono::Duration>,
    /// RFC 3161 timestamp authority to countersign the signature (needs --timestamp-root-cert).
    #[arg(long, value_name = "URL", requires = "timestamp_root_cert")]
    pub timestamp_url: Option<String>,
    /// PEM root certificate(s) the TSA's chain must end in; the token is verified before it is
    /// embedded.
    #[arg(long, value_name = "FILE", requires = "timestamp_url")]
    pub timestamp_root_cert: Option<PathBuf>,
    /// Output format: text, or json with the signed digest and where the signature went.
    #[arg(short, long, value_enum, default_value_t = VerifyFormat::Text)]
    pub output: VerifyFormat,
    /// Refuse to sign (sign changes the registry or layout; --read-only forbids that).
    #[arg(long)]
    pub read_only: bool,
    #[command(flatten)]
    pub deadline: DeadlineArg,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, hide = true, value_name = "NAME", value_parser = theme_names())]
    pub theme: Option<String>,
    #[arg(long, hide = true)]
    pub no_mouse: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeArg {
    Jws,
    Cose,
}

/// `30s`, `30m`, `24h`, `7d`: a positive whole number and a unit.
pub fn parse_duration(s: &str) -> Result<chrono::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().map_err(|_| format!("{s:?} is not a duration (examples: 30m, 24h, 7d)"))?;
    let d = match unit {
        "s" => chrono::Duration::try_seconds(n),
        "m" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        _ => return Err(format!("{s:?}: the unit is s, m, h or d (examples: 30m, 24h, 7d)")),
    };
    match d {
        Some(d) if n > 0 => Ok(d),
        _ => Err(format!("{s:?}: a duration is more than zero and less than a few million years")),
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyFormat {
    Text,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeFormat {
    Tree,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum DemoCommand {
    /// Write the demo as an OCI image layout (DIR/layout) plus a Notation config dir (DIR/notation).
    Export {
        /// Directory to write into; it must be new or empty.
        dir: PathBuf,
    },
}
