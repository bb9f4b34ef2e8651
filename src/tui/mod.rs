//! The terminal UI: a tree of images and their referrers on the left, details on the right.
//! The only module that knows about ratatui and crossterm.
//!
//! Shape (the Elm architecture): input events and finished effects arrive as [`app::Msg`]s on
//! one channel; [`app::App::update`] changes state and returns [`app::Effect`]s, which
//! [`effects::Effects`] runs on tokio tasks; [`view::draw`] renders the state. The loop redraws
//! only after a change, at most every [`FRAME`], and ticks the spinner only while requests are
//! in flight.

use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc::{self, UnboundedSender};

use crate::open::{OpenOptions, Opened};

pub mod app;
pub mod clipboard;
pub mod clock;
pub mod config;
pub mod details_doc;
pub mod effects;
pub mod keymap;
pub mod label;
pub mod layout;
pub mod msg;
pub mod present;
pub mod prompt;
pub mod terminal;
pub mod theme;
pub mod view;

pub use app::{App, AppOptions, Effect, Msg};

/// Shortest time between two frames.
pub const FRAME: Duration = Duration::from_millis(16);
/// Spinner speed.
const SPIN: Duration = Duration::from_millis(80);

#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    /// Theme name from `--theme` (config and `NO_COLOR` are consulted too).
    pub theme: Option<String>,
    /// False with `--no-mouse`.
    pub mouse: bool,
    /// Used by `:open`.
    pub open_options: OpenOptions,
    /// `--notation-dir`: trust policy and stores, watched while the TUI runs.
    pub notation_dir: Option<std::path::PathBuf>,
    /// `--read-only`.
    pub read_only: bool,
    /// The Notation directory for targets opened with `:open` when it differs from the one the
    /// first target uses: the demo verifies with its own policy, anything else with the user's.
    pub opened_notation_dir: Option<std::path::PathBuf>,
    /// Offer the demo's own signing key first in the sign dialog (the demo, offline).
    pub demo_key: bool,
    /// The verification plugins signatures may name (sigscope's built-in ones).
    pub plugins: crate::notation::plugin::Plugins,
    /// What AWS Signer is called with from the sign dialog.
    pub aws: crate::aws::AwsSettings,
    /// `--kyverno-policy`, loaded, for `:explain`; or why it could not be.
    pub kyverno: Option<Result<std::sync::Arc<crate::kyverno::policy::PolicySet>, String>>,
    /// The `--kyverno-policy` files and directories to watch for edits (none for stdin).
    pub kyverno_paths: Vec<std::path::PathBuf>,
    /// `--cosign-key`, read: cosign signatures are checked with these.
    pub cosign_keys: std::sync::Arc<Vec<crate::verify::cosign::NamedKey>>,
    /// The keys for targets opened with `:open` when they differ (the demo adds its own).
    pub opened_cosign_keys: Option<std::sync::Arc<Vec<crate::verify::cosign::NamedKey>>>,
}

/// The demo's own key, for the sign dialog: its root is in the demo's trust store, so what it
/// signs in the demo verifies.
pub fn demo_signing_key() -> config::SigningKey {
    config::SigningKey {
        name: "demo".into(),
        source: config::KeySource::Demo,
        envelope: crate::sign::pipeline::EnvelopeFormat::Jws,
        timestamp: None,
    }
}

/// `NO_COLOR` counts when set and non-empty (no-color.org).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Runs the TUI on an opened target until the user quits.
pub async fn run(opened: Opened, opts: TuiOptions) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!("the terminal UI needs a terminal on stdout; use `sigscope tree TARGET` for pipes");
    }
    let mut options = startup_options(config::load(), &opts, no_color());
    options.histories = prompt::Histories::load(prompt::Histories::default_path());
    let mut app = App::new(opened, options);
    let mut guard = terminal::TerminalGuard::enter(app.look.mouse)?;
    let result = event_loop(&mut app, &mut guard).await;
    drop(guard);
    result
}

/// App options from the loaded config and the command line. A bad config keeps the defaults,
/// says why (file:line) in the status line, and makes the session read-only.
pub fn startup_options(
    (config, error): (config::Config, Option<config::ConfigError>),
    opts: &TuiOptions,
    no_color: bool,
) -> AppOptions {
    let mut options = AppOptions::from_config(config, opts.theme.as_deref(), opts.mouse, no_color);
    options.open_options = opts.open_options.clone();
    options.notation_dir = opts.notation_dir.clone();
    options.read_only |= opts.read_only;
    options.opened_notation_dir = opts.opened_notation_dir.clone();
    options.plugins = opts.plugins.clone();
    options.aws = opts.aws.clone();
    options.kyverno_paths = opts.kyverno_paths.clone();
    options.cosign_keys = opts.cosign_keys.clone();
    options.opened_cosign_keys = opts.opened_cosign_keys.clone();
    match &opts.kyverno {
        Some(Ok(p)) => options.kyverno_policies = Some(p.clone()),
        Some(Err(e)) => {
            options.kyverno_error = Some(e.clone());
            // Said at once, not only when :explain is asked (a config error keeps its place).
            if options.startup_status.is_none() {
                options.startup_status = Some(app::Status {
                    level: app::Severity::Error,
                    text: format!("--kyverno-policy: {e} (:explain has no policies)"),
                });
            }
        }
        None => {}
    }
    if opts.demo_key {
        options.signing_keys.insert(0, demo_signing_key());
    }
    // On ECR the AWS credentials are there already: offer the account's signing profiles.
    if options.aws_signer.is_none() && opts.open_options.ecr.enabled {
        options.aws_signer = Some(config::AwsSignerListing { region: opts.open_options.ecr.regions.first().cloned() });
    }
    if let Some(e) = error {
        // The file might have said read_only = true: a file that cannot be read forbids writing,
        // as `sigscope sign` refuses then too (fail closed).
        options.read_only = true;
        options.startup_status = Some(app::Status {
            level: app::Severity::Error,
            text: format!("{e} (using the defaults, read-only until it is fixed)"),
        });
    }
    options
}

fn spawn_input(tx: UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(event) = events.next().await {
            let msg = match event {
                Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => Msg::Key(k),
                Ok(Event::Mouse(m)) => Msg::Mouse(m),
                Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                Ok(Event::Paste(text)) => Msg::Paste(text),
                Ok(_) => continue,
                Err(_) => break,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
        let _ = tx.send(Msg::Quit);
    });
}

#[cfg(unix)]
fn spawn_signals(tx: UnboundedSender<Msg>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        let _ = tx.send(Msg::Quit);
    });
    Ok(())
}

#[cfg(not(unix))]
fn spawn_signals(_tx: UnboundedSender<Msg>) -> anyhow::Result<()> {
    Ok(())
}

async fn event_loop(app: &mut App, guard: &mut terminal::TerminalGuard) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    spawn_input(tx.clone());
    spawn_signals(tx.clone())?;
    let mut runner = effects::Effects::new(tx);
    // The app lays out from the size it was told: the first one, then every `Event::Resize`.
    let size = guard.terminal.size()?;
    handle(app, &mut runner, guard, Msg::Resize(size.width, size.height));
    let first = app.start();
    perform(app, &mut runner, guard, first);

    let mut last_draw: Option<Instant> = None;
    let mut last_spin = Instant::now();
    // For the start-up benchmark: quit as soon as the first frame is on screen.
    let exit_after_first_frame = std::env::var_os("SIGSCOPE_EXIT_AFTER_FIRST_FRAME").is_some();
    loop {
        if app.quit {
            return Ok(());
        }
        let now = Instant::now();
        if app.is_dirty() && last_draw.is_none_or(|t| now >= t + FRAME) {
            guard.terminal.draw(|f| view::draw(app, f))?;
            last_draw = Some(now);
            app.mark_drawn();
            if exit_after_first_frame {
                return Ok(());
            }
        }
        let redraw_at = app.is_dirty().then(|| last_draw.map_or(now, |t| t + FRAME));
        let spin_at = (app.in_flight() > 0).then(|| last_spin + SPIN);
        let wake = [redraw_at, spin_at, app.next_wakeup()].into_iter().flatten().min();
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { return Ok(()) };
                handle(app, &mut runner, guard, msg);
                // Drain what else arrived so a burst of results costs one frame.
                while let Ok(msg) = rx.try_recv() {
                    handle(app, &mut runner, guard, msg);
                }
            }
            _ = sleep_until(wake), if wake.is_some() => {
                let now = Instant::now();
                if spin_at.is_some_and(|t| t <= now) || app.next_wakeup().is_some_and(|t| t <= now) {
                    last_spin = now;
                    handle(app, &mut runner, guard, Msg::Tick);
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at.into()).await;
    }
}

fn handle(app: &mut App, runner: &mut effects::Effects, guard: &mut terminal::TerminalGuard, msg: Msg) {
    let effects = app.update(msg);
    perform(app, runner, guard, effects);
}

fn perform(app: &mut App, runner: &mut effects::Effects, guard: &mut terminal::TerminalGuard, effects: Vec<Effect>) {
    // What the app answers to a failed terminal effect is run too, not dropped.
    let mut queue: std::collections::VecDeque<Effect> = effects.into();
    while let Some(effect) = queue.pop_front() {
        let failure = match runner.spawn(effect) {
            None | Some(Effect::Quit) => None,
            Some(Effect::Copy(text)) => {
                clipboard::copy(guard.terminal.backend_mut(), &text).err().map(|e| format!("copy failed: {e}"))
            }
            Some(Effect::SetMouse(on)) => guard.set_mouse(on).err().map(|e| format!("cannot switch the mouse: {e}")),
            Some(Effect::Suspend) => {
                let failed = guard.suspend().err().map(|e| format!("cannot suspend: {e}"));
                // Back from the shell: the screen was cleared and must be painted whole.
                app.redraw();
                failed
            }
            Some(_) => None,
        };
        if let Some(text) = failure {
            queue.extend(app.update(Msg::EffectFailed(text)));
        }
    }
}
