//! Application state and `update`: every input and every finished effect arrives as a [`Msg`];
//! `update` changes the state synchronously and returns the [`Effect`]s to run. It never awaits,
//! so the screen can always be redrawn and the whole UI can be tested without a terminal.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::layout::Size;

use crate::graph::{Graph, NodeId};
use crate::notation::plugin::Plugins;
use crate::notation::revocation::RevocationMode;
use crate::notation::verifier::VerifierOptions;
use crate::open::{OpenOptions, Opened};
use crate::sanitize::{clip, sanitize};

use super::clock::{Clock, SystemClock};
use super::config::Config;
use super::details_doc::DetailsDoc;
use super::keymap::{Focus, Keymap};
use super::layout::{self, Areas};
use super::present::diff::DiffLine;
use super::prompt::{Histories, Prompt};
use super::theme::{Theme, ThemeToken};

mod commands;
mod cosign;
mod details;
mod explain;
mod keys;
mod loading;
mod mouse;
mod notices;
mod refresh;
mod signing;
mod tree;
mod verification;
mod visits;
pub use super::msg::{Effect, Msg, RequestId};
pub use cosign::{CosignNode, CosignState, is_cosign_signature};
pub use details::DetailsPanel;
pub use explain::{ExplainResult, ExplainState};
pub use keys::Prompts;
pub use loading::EXPAND_ALL_BUDGET;
use loading::Requests;
pub use notices::Notices;
pub use notices::{LogEntry, MAX_MESSAGES, Severity, Status, Toast};
pub use refresh::{STALE_AFTER, age_text};
pub use signing::{AwsProfiles, SignDialog};
pub use tree::{Filter, Row, TreeState};
pub use verification::{NodeVerify, RightPanel, VerifyState, error_text, is_subject};
pub use visits::Location;
use visits::Visits;

/// How often rows showing their age are redrawn.
const AGE_TICK: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing a filter; the query lives in [`Filter`].
    Filter,
    Command(Prompt),
    Help {
        scroll: usize,
    },
    /// The message log: every status message of the run, in full; `back` counts the newest
    /// entries scrolled past (0 shows the newest at the bottom).
    Messages {
        back: usize,
    },
    /// The sign dialog: what will be signed, with which key.
    Sign(Box<SignDialog>),
    /// Asking before the what-if policy replaces the file: `y` writes, anything else cancels.
    Confirm {
        path: PathBuf,
        json: String,
        diff: Vec<DiffLine>,
        scroll: usize,
    },
}

/// What `App::new` needs besides the opened target.
#[derive(Clone)]
pub struct AppOptions {
    pub keymap: Keymap,
    pub theme: Theme,
    /// Token overrides from the config, re-applied on `:theme`.
    pub colors: Vec<(ThemeToken, ratatui::style::Style)>,
    pub no_color: bool,
    pub mouse: bool,
    pub open_options: OpenOptions,
    /// Shown in the status line at start (config errors, unknown theme).
    pub startup_status: Option<Status>,
    /// Notation directory with the trust policy and stores; `None`: nothing is verified.
    pub notation_dir: Option<PathBuf>,
    pub revocation: RevocationMode,
    /// The verification plugins signatures may name (sigscope's built-in AWS Signer one).
    pub plugins: Plugins,
    /// `--read-only`: nothing outside sigscope is changed; mutating keys are unbound.
    pub read_only: bool,
    /// What `update` reads the time from (tests use a [`super::clock::ManualClock`]).
    pub clock: Arc<dyn Clock>,
    /// What was typed at the prompts before, and where it is saved.
    pub histories: Histories,
    /// Notation directory for targets opened later with `:open` (the demo's own policy is for
    /// the demo only); `None`: the same as `notation_dir`.
    pub opened_notation_dir: Option<PathBuf>,
    /// Past this age a row says when it was fetched.
    pub stale_after: Duration,
    /// What the sign dialog offers (`[[signing.key]]`; the demo adds its own key).
    pub signing_keys: Vec<super::config::SigningKey>,
    /// List AWS Signer's profiles in the sign dialog (`[signing.aws_signer]`, or `--ecr`).
    pub aws_signer: Option<super::config::AwsSignerListing>,
    /// What AWS Signer is called with (`--profile`, `--ca-file`, timeouts).
    pub aws: crate::aws::AwsSettings,
    /// `--kyverno-policy`, for `:explain`; `kyverno_error` says why they could not be loaded.
    pub kyverno_policies: Option<Arc<crate::kyverno::policy::PolicySet>>,
    pub kyverno_error: Option<String>,
    /// The `--kyverno-policy` files and directories, watched: an edit reloads them (empty when
    /// one of them was stdin, which cannot be read again).
    pub kyverno_paths: Vec<PathBuf>,
    /// Public keys cosign signatures are checked with (`--cosign-key`; the demo's own key).
    pub cosign_keys: Arc<Vec<crate::verify::cosign::NamedKey>>,
    /// The keys for targets opened later with `:open`, when they differ (the demo's key is for
    /// the demo only); `None`: the same keys.
    pub opened_cosign_keys: Option<Arc<Vec<crate::verify::cosign::NamedKey>>>,
}

impl AppOptions {
    /// Defaults for tests and for embedding: default keymap, the theme NO_COLOR asks for.
    pub fn new(theme: Theme) -> Self {
        AppOptions {
            keymap: Keymap::default(),
            theme,
            colors: Vec::new(),
            no_color: false,
            mouse: true,
            open_options: OpenOptions::default(),
            startup_status: None,
            notation_dir: None,
            revocation: crate::notation::dir::revocation_mode(true),
            plugins: Plugins::default(),
            read_only: false,
            clock: Arc::new(SystemClock),
            histories: Histories::default(),
            stale_after: refresh::STALE_AFTER,
            opened_notation_dir: None,
            signing_keys: Vec::new(),
            aws_signer: None,
            aws: crate::aws::AwsSettings::default(),
            kyverno_policies: None,
            kyverno_error: None,
            kyverno_paths: Vec::new(),
            cosign_keys: Arc::default(),
            opened_cosign_keys: None,
        }
    }

    /// From a loaded config plus command-line choices (which win).
    pub fn from_config(config: Config, theme_flag: Option<&str>, mouse_flag: bool, no_color: bool) -> Self {
        let mut status = None;
        let requested = theme_flag.or(config.theme.as_deref());
        let mut theme = Theme::resolve(requested, no_color).unwrap_or_else(|e| {
            status =
                Some(Status { level: Severity::Error, text: format!("{e}; using {}", super::theme::DEFAULT_THEME) });
            Theme::builtin(super::theme::DEFAULT_THEME).expect("built-in theme")
        });
        if !no_color {
            for (token, style) in &config.colors {
                theme.set(*token, *style);
            }
        }
        AppOptions {
            keymap: config.keymap,
            theme,
            colors: config.colors,
            no_color,
            mouse: mouse_flag && config.mouse.unwrap_or(true),
            open_options: OpenOptions::default(),
            startup_status: status,
            notation_dir: None,
            revocation: crate::notation::dir::revocation_mode(false),
            plugins: Plugins::default(),
            read_only: config.read_only,
            clock: Arc::new(SystemClock),
            histories: Histories::default(),
            stale_after: refresh::STALE_AFTER,
            opened_notation_dir: None,
            signing_keys: config.signing_keys,
            aws_signer: config.aws_signer,
            aws: crate::aws::AwsSettings::default(),
            kyverno_policies: None,
            kyverno_error: None,
            kyverno_paths: Vec::new(),
            cosign_keys: Arc::default(),
            opened_cosign_keys: None,
        }
    }
}

/// The whole UI state, one part per feature; each part's behaviour lives in the file of the
/// same name under `app/`.
pub struct App {
    /// What is shown: the target, its source and roots (`visits.rs`), and where to go back to.
    pub location: Location,
    visits: Visits,
    /// The graph and its visible rows, cursor and filter (`tree.rs`).
    pub tree: TreeState,
    /// The right-hand panel: details documents or verification (`details.rs`).
    pub details: DetailsPanel,
    /// The live policy and every subject's verdict (`verification.rs`).
    pub vs: VerifyState,
    /// The cosign keys and every subject's cosign check (`cosign.rs`).
    pub cosign: CosignState,
    /// The status line, toasts and the message log (`notices.rs`).
    pub notices: Notices,
    /// Keys, colours and the mouse.
    pub look: Look,
    /// The line editors and their histories (`keys.rs`).
    pub prompts: Prompts,
    /// Requests in flight, by the id their answer will carry (`loading.rs`).
    requests: Requests,
    /// Nodes being refreshed, with what to restore below them (`refresh.rs`).
    refreshing: HashMap<NodeId, refresh::Refreshing>,
    /// Signatures being made (`signing.rs`).
    signing: signing::Signing,
    /// A tag `s` was pressed on before it was loaded: the dialog opens when it is.
    sign_when_loaded: Option<NodeId>,
    settings: Settings,
    /// AWS Signer's profiles for the sign dialog, once asked for (`signing.rs`).
    pub aws_profiles: AwsProfiles,
    /// Kyverno's policies and what `:explain` found (`explain.rs`).
    pub explain: ExplainState,

    pub focus: Focus,
    pub mode: Mode,
    /// The focused panel fills the screen (`z`).
    pub zoom: bool,
    pub spinner: usize,
    /// The terminal's size as last reported (`Msg::Resize`); zero until then, which lays out
    /// nothing: no panel to click or page through.
    screen: Size,
    /// `q` was pressed once with unwritten what-if edits.
    quit_armed: bool,
    /// Rows say their age: redraw now and then even when nothing happens.
    next_age_tick: Instant,
    pub quit: bool,
    dirty: bool,
    clock: Arc<dyn Clock>,
}

/// How the app looks and which keys do what.
pub struct Look {
    pub keymap: Keymap,
    pub theme: Theme,
    /// Token overrides from the config, re-applied on `:theme`.
    pub(super) colors: Vec<(ThemeToken, ratatui::style::Style)>,
    pub(super) no_color: bool,
    pub mouse: bool,
}

/// What the app was started with and keeps to itself.
struct Settings {
    open_options: OpenOptions,
    preview_limit: u64,
    stale_after: Duration,
    /// Notation directory for targets opened with `:open` (see [`AppOptions`]).
    opened_notation_dir: Option<PathBuf>,
    opened_cosign_keys: Option<Arc<Vec<crate::verify::cosign::NamedKey>>>,
    read_only: bool,
    signing_keys: Vec<super::config::SigningKey>,
    aws_signer: Option<super::config::AwsSignerListing>,
    aws: crate::aws::AwsSettings,
}

impl App {
    pub fn new(opened: Opened, options: AppOptions) -> App {
        let preview_limit = options.open_options.registry.preview_limit;
        let mut app = App {
            location: Location {
                host: opened.source.host(),
                source: opened.source.clone(),
                target: opened.target.clone(),
                roots: Vec::new(),
            },
            visits: Visits::default(),
            tree: TreeState::default(),
            details: DetailsPanel::default(),
            vs: VerifyState::new(
                options.notation_dir,
                VerifierOptions { revocation: options.revocation, plugins: options.plugins },
            ),
            cosign: CosignState::new(options.cosign_keys),
            notices: Notices { status: options.startup_status, ..Notices::default() },
            look: Look {
                keymap: if options.read_only { options.keymap.without_mutations() } else { options.keymap },
                theme: options.theme,
                colors: options.colors,
                no_color: options.no_color,
                mouse: options.mouse,
            },
            prompts: Prompts { histories: options.histories, ..Prompts::default() },
            requests: Requests { next: 1, ..Requests::default() },
            refreshing: HashMap::new(),
            signing: signing::Signing::default(),
            sign_when_loaded: None,
            settings: Settings {
                open_options: options.open_options,
                preview_limit,
                stale_after: options.stale_after,
                opened_notation_dir: options.opened_notation_dir,
                opened_cosign_keys: options.opened_cosign_keys,
                read_only: options.read_only,
                signing_keys: options.signing_keys,
                aws_signer: options.aws_signer,
                aws: options.aws,
            },
            aws_profiles: AwsProfiles::NotAsked,
            explain: ExplainState {
                policies: options.kyverno_policies.clone(),
                policy_error: options.kyverno_error.clone(),
                paths: options.kyverno_paths.clone(),
                ..ExplainState::default()
            },
            focus: Focus::Tree,
            mode: Mode::Normal,
            zoom: false,
            spinner: 0,
            screen: Size::ZERO,
            quit_armed: false,
            next_age_tick: options.clock.now() + AGE_TICK,
            quit: false,
            dirty: true,
            clock: options.clock.clone(),
        };
        if let Some(s) = app.notices.status.clone() {
            app.log(s);
        }
        app.load_target(opened);
        app
    }

    fn load_target(&mut self, opened: Opened) {
        self.location.roots = opened.roots.clone();
        self.tree.expanding_all.clear();
        self.tree.graph = Graph::new();
        self.tree.texts.clear();
        self.location.host = opened.source.host();
        self.location.source = opened.source;
        self.location.target = opened.target;
        for root in opened.roots {
            self.tree.graph.add_root(root);
        }
        self.tree.open.clear();
        self.details.docs.clear();
        self.requests.expand.clear();
        self.requests.describe = None;
        self.tree.fetched_at.clear();
        self.refreshing.clear();
        self.vs.forget_nodes();
        self.cosign.forget_nodes();
        self.tree.filter = Filter::default();
        self.tree.cursor = 0;
        self.details.scroll = 0;
        self.rebuild_rows();
    }

    /// The effects to run at start (and after `:open`): load every root and describe the first.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut effects = self.start_watching();
        effects.extend(self.watch_kyverno());
        for root in self.tree.graph.roots.clone() {
            self.tree.open.insert(root);
            effects.extend(self.expand_node(root));
            effects.extend(self.verify_node(root));
        }
        self.rebuild_rows();
        effects.extend(self.after_selection());
        effects
    }

    /// Requests whose results we are waiting for.
    pub fn in_flight(&self) -> usize {
        self.requests.expand.len()
            + self.signing.len()
            + self.vs.in_flight()
            + self.cosign.in_flight()
            + usize::from(self.requests.describe.is_some())
            + usize::from(self.requests.open.is_some())
    }

    /// Whether the state changed since the last frame.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn mark_drawn(&mut self) {
        self.dirty = false;
    }

    /// Asks for a frame although nothing changed (the terminal lost what was on it).
    pub fn redraw(&mut self) {
        self.dirty = true;
    }

    /// When a `Tick` is next needed: for the toast to go away, or for row ages to move on.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let age = (!self.tree.fetched_at.is_empty()).then_some(self.next_age_tick);
        [self.notices.toast.as_ref().map(|t| t.expires), age].into_iter().flatten().min()
    }

    /// Whether details of `id` are on their way.
    pub fn describing(&self, id: NodeId) -> bool {
        self.requests.describe.is_some_and(|(n, _)| n == id)
    }

    pub fn target_label(&self) -> String {
        clip(&sanitize(&self.location.target), 40).into_owned()
    }

    pub fn selected(&self) -> Option<NodeId> {
        self.tree.rows.get(self.tree.cursor).map(|r| r.id)
    }

    pub fn spinner_frame(&self) -> &'static str {
        const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        FRAMES[self.spinner % FRAMES.len()]
    }

    /// Where everything is on the terminal as last reported: what keys page by and clicks hit,
    /// computed by the same function the view places its widgets with.
    pub fn areas(&self) -> Areas {
        layout::areas(self.screen, self)
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let effects = self.handle(msg);
        // The tree's window follows the cursor here, after every change, rather than when a
        // frame happens to be drawn: the rows on screen are state `update` owns, and the next
        // click or page is measured from them.
        self.tree.offset = self.areas().tree_start;
        effects
    }

    fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Tick => {
                if self.in_flight() > 0 {
                    self.spinner = self.spinner.wrapping_add(1);
                    self.dirty = true;
                }
                if self.notices.toast.as_ref().is_some_and(|t| t.expires <= self.clock.now()) {
                    self.notices.toast = None;
                    self.dirty = true;
                }
                if self.next_age_tick <= self.clock.now() {
                    self.next_age_tick = self.clock.now() + AGE_TICK;
                    self.dirty = true;
                }
                Vec::new()
            }
            Msg::Resize(width, height) => {
                self.screen = Size { width, height };
                self.dirty = true;
                Vec::new()
            }
            Msg::Paste(text) => self.on_paste(&text),
            Msg::Quit => {
                self.quit = true;
                vec![Effect::Quit]
            }
            Msg::EffectFailed(text) => {
                self.notices.toast = None;
                self.set_status(Severity::Error, text);
                Vec::new()
            }
            Msg::Expanded { request, node, result } => self.on_expanded(request, node, result),
            Msg::Verified { request, node, result } => self.on_verified(request, node, result),
            Msg::CosignVerified { request, node, result } => self.on_cosign_verified(request, node, result),
            Msg::PolicyLoaded(snapshot) => self.on_policy_loaded(*snapshot),
            Msg::KyvernoLoaded(result) => self.on_kyverno_loaded(result),
            Msg::PolicyWritten(result) => self.on_policy_written(result),
            Msg::Signed { request, node, result } => self.on_signed(request, node, result),
            Msg::SigningProfiles { request, result } => self.on_signing_profiles(request, result),
            Msg::Explained { request, node, explanation, error } => {
                self.on_explained(request, node, explanation, error)
            }
            Msg::Described { request, node, details } => {
                if self.requests.describe != Some((node, request)) {
                    return Vec::new();
                }
                self.requests.describe = None;
                self.details.docs.insert(node, DetailsDoc::from_details(&details));
                self.dirty = true;
                Vec::new()
            }
            Msg::Opened { request, target, result } => {
                if self.requests.open != Some(request) {
                    return Vec::new();
                }
                self.requests.open = None;
                self.dirty = true;
                match result {
                    Ok(opened) => {
                        let here = self.visited();
                        self.visits.back.push(here);
                        self.visits.forward.clear();
                        if let Some(dir) = self.settings.opened_notation_dir.clone() {
                            self.switch_notation_dir(Some(dir));
                        }
                        if let Some(keys) = self.settings.opened_cosign_keys.clone() {
                            self.switch_cosign_keys(keys);
                        }
                        self.load_target(opened);
                        self.set_status(Severity::Info, format!("opened {}", sanitize(&target)));
                        self.start()
                    }
                    Err(e) => {
                        self.set_status(
                            Severity::Error,
                            format!("cannot open {}: {}", sanitize(&target), sanitize(&e.to_string())),
                        );
                        Vec::new()
                    }
                }
            }
            Msg::Key(key) => {
                self.dirty = true;
                self.on_key(key)
            }
            Msg::Mouse(ev) => self.on_mouse(ev),
        }
    }

    fn request_id(&mut self) -> RequestId {
        let id = self.requests.next;
        self.requests.next += 1;
        id
    }

    // ----- loading -------------------------------------------------------------------------
}
