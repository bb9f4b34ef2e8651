//! Application state and `update`: every input and every finished effect arrives as a [`Msg`];
//! `update` changes the state synchronously and returns the [`Effect`]s to run. It never awaits,
//! so the screen can always be redrawn and the whole UI can be tested without a terminal.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::layout::Rect;

use crate::graph::{Graph, NodeId, NodeKind};
use crate::notation::revocation::RevocationMode;
use crate::open::{OpenOptions, Opened};
use crate::sanitize::{clip, sanitize};
use crate::source::DynSource;

use super::clock::{Clock, SystemClock};
use super::config::Config;
use super::details_doc::DetailsDoc;
use super::keymap::{Focus, Keymap};
use super::label::TextCache;
use super::present::diff::DiffLine;
use super::prompt::{Histories, Prompt};
use super::theme::{Theme, Token};

mod commands;
mod details;
mod keys;
mod loading;
mod mouse;
mod notices;
mod refresh;
mod tree;
mod verification;
mod visits;
pub use super::msg::{Effect, Msg, RequestId};
pub use loading::EXPAND_ALL_BUDGET;
pub use notices::{LogEntry, MAX_MESSAGES, Severity, Status, Toast};
pub use refresh::{STALE_AFTER, age_text};
pub use tree::{Filter, Row};
pub use verification::{NodeVerify, RightPanel, VerifyState, error_text, is_image, is_subject};
pub(crate) use visits::Visited;

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
    /// Asking before the what-if policy replaces the file: `y` writes, anything else cancels.
    Confirm {
        path: PathBuf,
        json: String,
        diff: Vec<DiffLine>,
        scroll: usize,
    },
}

/// Where the last frame put things, for mouse hits and page sizes. Written by the view.
#[derive(Debug, Default)]
pub struct LastFrame {
    pub tree: Cell<Rect>,
    pub tree_offset: Cell<usize>,
    pub details: Cell<Rect>,
    /// Lines the help overlay can show at once.
    pub help_height: Cell<u16>,
}

/// What `App::new` needs besides the opened target.
#[derive(Clone)]
pub struct AppOptions {
    pub keymap: Keymap,
    pub theme: Theme,
    /// Token overrides from the config, re-applied on `:theme`.
    pub colors: Vec<(Token, ratatui::style::Style)>,
    pub no_color: bool,
    pub mouse: bool,
    pub open_options: OpenOptions,
    /// Shown in the status line at start (config errors, unknown theme).
    pub startup_status: Option<Status>,
    /// Notation directory with the trust policy and stores; `None`: nothing is verified.
    pub notation_dir: Option<PathBuf>,
    pub revocation: RevocationMode,
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
            read_only: false,
            clock: Arc::new(SystemClock),
            histories: Histories::default(),
            stale_after: refresh::STALE_AFTER,
            opened_notation_dir: None,
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
            read_only: false,
            clock: Arc::new(SystemClock),
            histories: Histories::default(),
            stale_after: refresh::STALE_AFTER,
            opened_notation_dir: None,
        }
    }
}

pub struct App {
    pub graph: Graph,
    pub source: DynSource,
    pub target: String,
    pub host: String,
    pub keymap: Keymap,
    pub theme: Theme,
    colors: Vec<(Token, ratatui::style::Style)>,
    no_color: bool,
    pub mouse: bool,
    open_options: OpenOptions,
    preview_limit: u64,

    pub focus: Focus,
    pub mode: Mode,
    pub open: HashSet<NodeId>,
    pub rows: Vec<Row>,
    pub cursor: usize,
    pub filter: Filter,
    texts: TextCache,
    pub details: HashMap<NodeId, DetailsDoc>,
    pub details_scroll: usize,
    pub status: Option<Status>,
    pub toast: Option<Toast>,
    /// Details or verification on the right.
    pub right: RightPanel,
    pub vs: VerifyState,
    pub spinner: usize,
    pub last_frame: LastFrame,
    /// The focused panel fills the screen (`z`).
    pub zoom: bool,
    /// The `/` prompt's editor; its text is the filter query while typing.
    pub filter_input: Prompt,
    /// The search of the help overlay, and whether it is being typed.
    pub help_search: Prompt,
    pub help_typing: bool,
    histories: Histories,
    stale_after: Duration,
    /// `q` was pressed once with unwritten what-if edits.
    quit_armed: bool,
    /// Nodes whose children are opened and loaded as they arrive (`E`), and how many more
    /// nodes that may still load.
    expanding_all: HashSet<NodeId>,
    expand_budget: usize,
    /// Targets opened before this one (`[`) and after it (`]`).
    back: Vec<Visited>,
    forward: Vec<Visited>,
    /// The roots of the current target, to come back to it.
    current_roots: Vec<NodeKind>,
    opened_notation_dir: Option<PathBuf>,
    /// Every status message of the run, for `M` / `:messages`.
    pub messages: Vec<LogEntry>,
    /// When each node's last expansion answered.
    fetched_at: HashMap<NodeId, Instant>,
    refreshing: HashMap<NodeId, refresh::Refreshing>,
    /// Rows say their age: redraw now and then even when nothing happens.
    next_age_tick: Instant,

    pending_expand: HashMap<NodeId, RequestId>,
    pending_describe: Option<(NodeId, RequestId)>,
    pending_open: Option<RequestId>,
    next_request: RequestId,
    pub quit: bool,
    dirty: bool,
    clock: Arc<dyn Clock>,
    pub read_only: bool,
}

impl App {
    pub fn new(opened: Opened, options: AppOptions) -> App {
        let preview_limit = options.open_options.registry.preview_limit;
        let mut app = App {
            graph: Graph::new(),
            host: opened.source.host(),
            source: opened.source.clone(),
            target: opened.target.clone(),
            keymap: if options.read_only { options.keymap.without_mutations() } else { options.keymap },
            read_only: options.read_only,
            theme: options.theme,
            colors: options.colors,
            no_color: options.no_color,
            mouse: options.mouse,
            open_options: options.open_options,
            preview_limit,
            focus: Focus::Tree,
            mode: Mode::Normal,
            open: HashSet::new(),
            rows: Vec::new(),
            cursor: 0,
            filter: Filter::default(),
            texts: TextCache::default(),
            details: HashMap::new(),
            details_scroll: 0,
            status: options.startup_status,
            toast: None,
            right: RightPanel::Details,
            vs: VerifyState::new(options.notation_dir, options.revocation),
            spinner: 0,
            last_frame: LastFrame::default(),
            zoom: false,
            filter_input: Prompt::default(),
            help_search: Prompt::default(),
            help_typing: false,
            histories: options.histories,
            stale_after: options.stale_after,
            quit_armed: false,
            expanding_all: HashSet::new(),
            expand_budget: 0,
            back: Vec::new(),
            forward: Vec::new(),
            current_roots: Vec::new(),
            opened_notation_dir: options.opened_notation_dir,
            messages: Vec::new(),
            fetched_at: HashMap::new(),
            refreshing: HashMap::new(),
            next_age_tick: options.clock.now() + AGE_TICK,
            clock: options.clock.clone(),
            pending_expand: HashMap::new(),
            pending_describe: None,
            pending_open: None,
            next_request: 1,
            quit: false,
            dirty: true,
        };
        if let Some(s) = app.status.clone() {
            app.log(s);
        }
        app.load_target(opened);
        app
    }

    fn load_target(&mut self, opened: Opened) {
        self.current_roots = opened.roots.clone();
        self.expanding_all.clear();
        self.graph = Graph::new();
        self.texts.clear();
        self.host = opened.source.host();
        self.source = opened.source;
        self.target = opened.target;
        for root in opened.roots {
            self.graph.add_root(root);
        }
        self.open.clear();
        self.details.clear();
        self.pending_expand.clear();
        self.pending_describe = None;
        self.fetched_at.clear();
        self.refreshing.clear();
        self.vs.forget_nodes();
        self.filter = Filter::default();
        self.cursor = 0;
        self.details_scroll = 0;
        self.rebuild_rows();
    }

    /// The effects to run at start (and after `:open`): load every root and describe the first.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut effects = self.start_watching();
        for root in self.graph.roots.clone() {
            self.open.insert(root);
            effects.extend(self.expand_node(root));
            effects.extend(self.verify_node(root));
        }
        self.rebuild_rows();
        effects.extend(self.after_selection());
        effects
    }

    /// Requests whose results we are waiting for.
    pub fn in_flight(&self) -> usize {
        self.pending_expand.len()
            + self.vs.in_flight()
            + usize::from(self.pending_describe.is_some())
            + usize::from(self.pending_open.is_some())
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
        let age = (!self.fetched_at.is_empty()).then_some(self.next_age_tick);
        [self.toast.as_ref().map(|t| t.expires), age].into_iter().flatten().min()
    }

    /// Whether details of `id` are on their way.
    pub fn describing(&self, id: NodeId) -> bool {
        self.pending_describe.is_some_and(|(n, _)| n == id)
    }

    pub fn target_label(&self) -> String {
        clip(&sanitize(&self.target), 40).into_owned()
    }

    pub fn selected(&self) -> Option<NodeId> {
        self.rows.get(self.cursor).map(|r| r.id)
    }

    pub fn spinner_frame(&self) -> &'static str {
        const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        FRAMES[self.spinner % FRAMES.len()]
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Tick => {
                if self.in_flight() > 0 {
                    self.spinner = self.spinner.wrapping_add(1);
                    self.dirty = true;
                }
                if self.toast.as_ref().is_some_and(|t| t.expires <= self.clock.now()) {
                    self.toast = None;
                    self.dirty = true;
                }
                if self.next_age_tick <= self.clock.now() {
                    self.next_age_tick = self.clock.now() + AGE_TICK;
                    self.dirty = true;
                }
                Vec::new()
            }
            Msg::Resize(..) => {
                self.dirty = true;
                Vec::new()
            }
            Msg::Quit => {
                self.quit = true;
                vec![Effect::Quit]
            }
            Msg::EffectFailed(text) => {
                self.toast = None;
                self.set_status(Severity::Error, text);
                Vec::new()
            }
            Msg::Expanded { request, node, result } => self.on_expanded(request, node, result),
            Msg::Verified { request, node, result } => self.on_verified(request, node, result),
            Msg::PolicyLoaded(snapshot) => self.on_policy_loaded(*snapshot),
            Msg::PolicyWritten(result) => self.on_policy_written(result),
            Msg::Described { request, node, details } => {
                if self.pending_describe != Some((node, request)) {
                    return Vec::new();
                }
                self.pending_describe = None;
                self.details.insert(node, DetailsDoc::from_details(&details));
                self.dirty = true;
                Vec::new()
            }
            Msg::Opened { request, target, result } => {
                if self.pending_open != Some(request) {
                    return Vec::new();
                }
                self.pending_open = None;
                self.dirty = true;
                match result {
                    Ok(opened) => {
                        let here = self.visited();
                        self.back.push(here);
                        self.forward.clear();
                        if let Some(dir) = self.opened_notation_dir.clone() {
                            self.switch_notation_dir(Some(dir));
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
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    // ----- loading -------------------------------------------------------------------------
}
