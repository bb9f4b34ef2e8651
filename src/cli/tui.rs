//! No subcommand: the terminal UI on TARGET, or on the built-in demo.

use std::path::PathBuf;

use sigscope::open::OpenOptions;
use sigscope::verify::cosign::NamedKey;

use super::args::{SourceArgs, TuiArgs};
use super::{exit_code, open_options};

/// No subcommand: the TUI on TARGET, or on the demo.
pub async fn run_tui_command(target: Option<String>, source: SourceArgs, tui: TuiArgs) -> i32 {
    if target.is_none() && source.oci_layout {
        // Without a path this would open the demo, which is not what was asked for.
        eprintln!("sigscope: --oci-layout needs a layout: sigscope --oci-layout PATH[:tag|@digest]");
        return 2;
    }
    let opts = match open_options(&source, tui.preview_limit) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sigscope: {e}");
            return 2;
        }
    };
    // A policy that does not load is said in the panel; the TUI starts anyway.
    let kyverno = (!tui.kyverno_policy.is_empty())
        .then(|| super::explain::load_all(&tui.kyverno_policy).map(std::sync::Arc::new));
    // Files and directories are watched for edits; stdin cannot be read twice.
    let kyverno_paths = match tui.kyverno_policy.iter().any(|p| p.as_os_str() == "-") {
        true => Vec::new(),
        false => tui.kyverno_policy.clone(),
    };
    let cosign_keys = match tui.cosign_key.iter().map(|p| NamedKey::read(p)).collect::<Result<Vec<_>, _>>() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("sigscope: {e}");
            return 2;
        }
    };
    let flags = TuiFlags {
        theme: tui.theme,
        mouse: !tui.no_mouse,
        read_only: tui.read_only,
        kyverno,
        kyverno_paths,
        cosign_keys,
    };
    run_tui(target, &opts, flags, tui.notation.dir).await
}

/// The TUI's own flags.
pub struct TuiFlags {
    pub theme: Option<String>,
    pub mouse: bool,
    pub read_only: bool,
    pub kyverno: Option<Result<std::sync::Arc<sigscope::kyverno::policy::PolicySet>, String>>,
    pub kyverno_paths: Vec<PathBuf>,
    /// `--cosign-key`, read.
    pub cosign_keys: Vec<NamedKey>,
}

/// Opens the TUI on TARGET, or on the built-in demo when there is none.
pub async fn run_tui(
    target: Option<String>,
    opts: &OpenOptions,
    flags: TuiFlags,
    notation_dir: Option<PathBuf>,
) -> i32 {
    let TuiFlags { theme, mouse, read_only, kyverno, kyverno_paths, cosign_keys } = flags;
    let aws = match opts.aws_settings() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("sigscope: {e}");
            return 2;
        }
    };
    let mut tui_opts = sigscope::tui::TuiOptions {
        theme,
        mouse,
        open_options: opts.clone(),
        notation_dir: notation_dir.clone().or_else(sigscope::notation::dir::default_notation_dir),
        read_only,
        opened_notation_dir: None,
        demo_key: false,
        plugins: sigscope::aws::signer_revocation::builtin_plugins(aws.clone(), false),
        aws,
        kyverno,
        kyverno_paths,
        cosign_keys: std::sync::Arc::new(cosign_keys),
        opened_cosign_keys: None,
    };
    let Some(target) = target else {
        // The demo verifies against its own policy and CA, in a private directory the user may
        // edit while it runs (its path is in the verification panel); removed on exit.
        let mut _demo_dir = None;
        if notation_dir.is_none() {
            match sigscope::demo::private_notation_dir() {
                Ok(dir) => {
                    // What is opened from the demo with :open is verified with the user's policy.
                    tui_opts.opened_notation_dir = tui_opts.notation_dir.take();
                    tui_opts.notation_dir = Some(dir.clone());
                    _demo_dir = Some(RemoveOnDrop(dir));
                }
                Err(e) => eprintln!("sigscope: the demo trust policy could not be written ({e}); nothing is verified"),
            }
        }
        tui_opts.demo_key = true;
        // Without keys of the user's, the demo's cosign signature is checked with the demo's
        // key; what is opened from the demo with :open is checked with the user's (none).
        if tui_opts.cosign_keys.is_empty() {
            let pem = sigscope::demo::keys::demo_signer().public_key_pem();
            match sigscope::cosign::CosignKey::from_pem(&pem) {
                Ok(key) => {
                    tui_opts.opened_cosign_keys = Some(tui_opts.cosign_keys.clone());
                    tui_opts.cosign_keys = std::sync::Arc::new(vec![NamedKey { name: "the demo's key".into(), key }]);
                }
                Err(e) => eprintln!("sigscope: the demo's cosign key does not read ({e}); cosign is not checked"),
            }
        }
        let result = sigscope::tui::run(sigscope::demo::opened(), tui_opts).await;
        drop(_demo_dir);
        return finish_tui(result);
    };
    let open_opts = opts.clone();
    // Opening reads files and may set up TLS: not on the async workers.
    let opened = match tokio::task::spawn_blocking(move || sigscope::open::open(&target, &open_opts)).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            eprintln!("sigscope: {e}");
            return exit_code(&e, opts);
        }
        Err(e) => {
            eprintln!("sigscope: {e}");
            return 2;
        }
    };
    finish_tui(sigscope::tui::run(opened, tui_opts).await)
}

/// A directory removed when this is dropped: at the end of the TUI, and also while a panic
/// unwinds. A terminal that went away (SIGHUP on hang-up) fails every write after it, and a
/// failed write on the way out panics in the terminal library; the demo's directory must not
/// outlive that.
pub struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn finish_tui(result: anyhow::Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sigscope: {e:#}");
            2
        }
    }
}
