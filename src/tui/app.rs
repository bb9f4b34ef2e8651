//! Application state and `update`: every input and every finished effect arrives as a [`Msg`];
//! `update` changes the state synchronously and returns the [`Effect`]s to run. It never awaits,
//! so the screen can always be redrawn and the whole UI can be tested without a terminal.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use crate::graph::expand::ExpandRequest;
use crate::graph::{ArtifactNode, Expansion, Graph, LoadState, NodeId, NodeKind};
use crate::inspect::Details;
use crate::notation::revocation::RevocationMode;
use crate::notation::verifier::{ArtifactReport, Verifier};
use crate::oci::Descriptor;
use crate::open::{OpenOptions, Opened};
use crate::sanitize::{clip, sanitize};
use crate::source::DynSource;

use super::config::Config;
use super::details_doc::{DetailsDoc, node_header};
use super::keymap::{Action, Focus, Key, Keymap};
use super::label::{TextCache, contains};
use super::present::diff::DiffLine;
use super::prompt::{Edit, Histories, Prompt};
use super::theme::{Theme, Token};
use crate::notation::dir::Snapshot;

mod refresh;
mod verification;
pub use refresh::{STALE_AFTER, age_text};
pub use verification::{NodeVerify, RightPanel, VerifyState, error_text, is_image, is_subject};

pub type RequestId = u64;

const TOAST_FOR: Duration = Duration::from_secs(3);
/// What `:` knows, for Tab.
const COMMANDS: [&str; 6] = ["open", "theme", "refresh", "refresh!", "messages", "quit"];
/// How often rows showing their age are redrawn.
const AGE_TICK: Duration = Duration::from_secs(30);
/// Rows moved per mouse-wheel notch.
const WHEEL: usize = 3;

fn depth_limit_status() -> String {
    format!(
        "not expanded: depth limit {} reached (nothing this deep is loaded; real supply chains are a few levels deep)",
        crate::graph::MAX_DEPTH
    )
}

/// Everything that can change the state.
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// Spinner frame and toast expiry; sent only while something is in flight or shown.
    Tick,
    Expanded {
        request: RequestId,
        node: NodeId,
        result: Result<Expansion, String>,
    },
    Described {
        request: RequestId,
        node: NodeId,
        details: Details,
    },
    Opened {
        request: RequestId,
        target: String,
        result: Result<Opened, String>,
    },
    /// A verification of an image node finished (`Err`: referrers or envelopes unreadable).
    Verified {
        request: RequestId,
        node: NodeId,
        result: Result<ArtifactReport, String>,
    },
    /// The policy watcher read the Notation directory (at start, and after every change).
    PolicyLoaded(Box<Snapshot>),
    /// The what-if policy was written (or why not).
    PolicyWritten(Result<PathBuf, String>),
    /// Something the loop did itself (clipboard, mouse switch) failed; the text says what.
    EffectFailed(String),
    /// SIGTERM, SIGHUP, or the input stream ended.
    Quit,
}

/// Work `update` asks for. Network work carries the source it must use, so results of a target
/// that was replaced by `:open` can never land in the new graph.
pub enum Effect {
    Expand {
        request: RequestId,
        node: NodeId,
        source: DynSource,
        req: Box<ExpandRequest>,
    },
    Describe {
        request: RequestId,
        node: NodeId,
        source: DynSource,
        artifact: Box<ArtifactNode>,
        preview_limit: u64,
    },
    Open {
        request: RequestId,
        target: String,
        options: Box<OpenOptions>,
    },
    /// Verify one image against the verifier's policy at `now`. A tag not yet opened is
    /// verified too: `tag` names it and the subject is resolved from it first.
    Verify {
        request: RequestId,
        node: NodeId,
        source: DynSource,
        repository: String,
        subject: Box<Descriptor>,
        tag: Option<String>,
        verifier: Arc<Verifier>,
        now: chrono::DateTime<chrono::Utc>,
    },
    /// Read the Notation directory now and again whenever its policy or trust stores change.
    WatchPolicy {
        dir: PathBuf,
    },
    /// Write a policy file atomically (temporary file + rename).
    WritePolicy {
        path: PathBuf,
        json: String,
    },
    /// Save the prompt histories (the file's whole text).
    SaveHistory {
        path: PathBuf,
        text: String,
    },
    Copy(String),
    SetMouse(bool),
    /// Ctrl-Z: give the terminal back to the shell until `fg`.
    Suspend,
    Quit,
}

impl std::fmt::Debug for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Effect::Expand { request, node, .. } => write!(f, "Expand {{ request: {request}, node: {node} }}"),
            Effect::Describe { request, node, .. } => write!(f, "Describe {{ request: {request}, node: {node} }}"),
            Effect::Open { request, target, .. } => write!(f, "Open {{ request: {request}, target: {target:?} }}"),
            Effect::Verify { request, node, .. } => write!(f, "Verify {{ request: {request}, node: {node} }}"),
            Effect::WatchPolicy { dir } => write!(f, "WatchPolicy {{ dir: {dir:?} }}"),
            Effect::WritePolicy { path, .. } => write!(f, "WritePolicy {{ path: {path:?} }}"),
            Effect::SaveHistory { path, .. } => write!(f, "SaveHistory {{ path: {path:?} }}"),
            Effect::Copy(t) => write!(f, "Copy({t:?})"),
            Effect::SetMouse(on) => write!(f, "SetMouse({on})"),
            Effect::Suspend => f.write_str("Suspend"),
            Effect::Quit => f.write_str("Quit"),
        }
    }
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub level: Severity,
    pub text: String,
}

/// One status message as it was shown, kept for the message log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub at: chrono::DateTime<chrono::Local>,
    pub status: Status,
}

/// Messages kept; the oldest go first.
pub const MAX_MESSAGES: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub expires: Instant,
}

/// One visible tree line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub id: NodeId,
    pub depth: u16,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub query: String,
    pub matches: HashSet<NodeId>,
    /// Matching rows in tree order, for n/N.
    pub ordered: Vec<NodeId>,
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

/// A target shown before, to go back to: the same source (with what it cached), the same roots.
pub struct Visited {
    target: String,
    source: DynSource,
    roots: Vec<NodeKind>,
    notation_dir: Option<PathBuf>,
}

/// Nodes `E` may load in one press: enough for a few images with all their referrers, not a
/// whole registry by accident.
pub const EXPAND_ALL_BUDGET: usize = 500;

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
    /// The time verification runs at; `None` is the clock (tests pin it).
    pub now: Option<chrono::DateTime<chrono::Utc>>,
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
            now: None,
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
            now: None,
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
            vs: VerifyState::new(options.notation_dir, options.revocation, options.now),
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
            next_age_tick: Instant::now() + AGE_TICK,
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
                if self.toast.as_ref().is_some_and(|t| t.expires <= Instant::now()) {
                    self.toast = None;
                    self.dirty = true;
                }
                if self.next_age_tick <= Instant::now() {
                    self.next_age_tick = Instant::now() + AGE_TICK;
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
                            format!("cannot open {}: {}", sanitize(&target), sanitize(&e)),
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

    fn set_status(&mut self, level: Severity, text: String) {
        let status = Status { level, text };
        self.log(status.clone());
        self.status = Some(status);
        self.dirty = true;
    }

    fn log(&mut self, status: Status) {
        if self.messages.len() >= MAX_MESSAGES {
            self.messages.remove(0);
        }
        self.messages.push(LogEntry { at: chrono::Local::now(), status });
    }

    fn show_toast(&mut self, text: String) {
        self.toast = Some(Toast { text, expires: Instant::now() + TOAST_FOR });
        self.dirty = true;
    }

    fn request_id(&mut self) -> RequestId {
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    // ----- loading -------------------------------------------------------------------------

    fn expand_node(&mut self, id: NodeId) -> Vec<Effect> {
        // Cycles and nodes at the depth limit are never loaded (so never deeper).
        if !self.graph.expandable(id) {
            return Vec::new();
        }
        let request = self.request_id();
        self.graph.set_loading(id);
        self.texts.invalidate(id);
        self.pending_expand.insert(id, request);
        self.dirty = true;
        let req = Box::new(ExpandRequest::for_node(&self.graph, id));
        vec![Effect::Expand { request, node: id, source: self.source.clone(), req }]
    }

    fn on_expanded(&mut self, request: RequestId, node: NodeId, result: Result<Expansion, String>) -> Vec<Effect> {
        if self.pending_expand.get(&node) != Some(&request) {
            return Vec::new();
        }
        self.pending_expand.remove(&node);
        let failed = result.as_ref().err().cloned();
        self.graph.apply(node, result);
        self.fetched_at.insert(node, Instant::now());
        self.texts.invalidate(node);
        self.dirty = true;
        let (reselect, mut effects) = self.after_refresh(node, failed.as_deref());
        if self.expanding_all.remove(&node) {
            for child in self.graph.node(node).children.clone() {
                effects.extend(self.open_all_below(child));
            }
        }
        for child in self.graph.node(node).children.clone() {
            effects.extend(self.verify_node(child));
        }
        // The node may now carry its manifest: what was described before is out of date.
        self.details.remove(&node);
        if self.describing(node) {
            self.pending_describe = None;
        }
        // A tag points at exactly one manifest; opening it saves a keystroke every time.
        if matches!(self.graph.node(node).kind, NodeKind::Tag { .. })
            && self.open.contains(&node)
            && let [child] = self.graph.node(node).children[..]
            && self.graph.node(child).load == LoadState::NotLoaded
        {
            self.open.insert(child);
            effects.extend(self.expand_node(child));
        }
        let selected = reselect.or(self.selected());
        self.rebuild_rows();
        if let Some(sel) = selected {
            self.select_node(sel);
        }
        effects.extend(self.after_selection());
        effects
    }

    /// Describes the selected artifact unless its details are cached or on their way.
    fn after_selection(&mut self) -> Vec<Effect> {
        let Some(id) = self.selected() else { return Vec::new() };
        if self.describing(id) {
            return Vec::new();
        }
        // Whatever was being described for the previous selection is no longer awaited.
        self.pending_describe = None;
        if self.details.contains_key(&id) {
            return Vec::new();
        }
        let Some(artifact) = self.graph.node(id).artifact() else { return Vec::new() };
        // A loading node gets its manifest shortly; describing it now would be thrown away.
        if self.graph.node(id).load == LoadState::Loading {
            return Vec::new();
        }
        let artifact = Box::new(artifact.clone());
        let request = self.request_id();
        self.pending_describe = Some((id, request));
        vec![Effect::Describe {
            request,
            node: id,
            source: self.source.clone(),
            artifact,
            preview_limit: self.preview_limit,
        }]
    }

    // ----- rows ----------------------------------------------------------------------------

    /// Recomputes the visible rows: the open part of the tree, or with a filter the matches and
    /// their ancestors. Only structure changes call this; moving the cursor does not.
    pub fn rebuild_rows(&mut self) {
        let selected = self.selected();
        self.rows.clear();
        if self.filter.query.is_empty() {
            let mut stack: Vec<Row> = self.graph.roots.iter().rev().map(|&id| Row { id, depth: 0 }).collect();
            while let Some(row) = stack.pop() {
                self.rows.push(row);
                if self.open.contains(&row.id) {
                    let children = &self.graph.node(row.id).children;
                    stack.extend(children.iter().rev().map(|&id| Row { id, depth: row.depth + 1 }));
                }
            }
        } else {
            self.compute_filter();
        }
        if let Some(sel) = selected {
            self.select_node(sel);
        }
        self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
        self.dirty = true;
    }

    fn compute_filter(&mut self) {
        let query = &self.filter.query;
        let case_sensitive = query.chars().any(char::is_uppercase);
        let needle = if case_sensitive { query.clone() } else { query.to_lowercase() };
        let mut matches = HashSet::new();
        let mut keep = HashSet::new();
        let mut stack: Vec<NodeId> = self.graph.roots.iter().rev().copied().collect();
        while let Some(id) = stack.pop() {
            // The label, and what the row shows beside it: verdict words, envelope formats.
            let shown = contains(self.texts.get(&self.graph, id), &needle, case_sensitive)
                || self.verdict_words(id).is_some_and(|w| contains(&w, &needle, case_sensitive));
            if shown {
                matches.insert(id);
                keep.insert(id);
                keep.extend(self.graph.ancestors(id));
            }
            stack.extend(self.graph.node(id).children.iter().rev());
        }
        let mut ordered = Vec::new();
        let mut stack: Vec<Row> = self.graph.roots.iter().rev().map(|&id| Row { id, depth: 0 }).collect();
        while let Some(row) = stack.pop() {
            if !keep.contains(&row.id) {
                continue;
            }
            self.rows.push(row);
            if matches.contains(&row.id) {
                ordered.push(row.id);
            }
            let children = &self.graph.node(row.id).children;
            stack.extend(children.iter().rev().map(|&id| Row { id, depth: row.depth + 1 }));
        }
        self.filter.matches = matches;
        self.filter.ordered = ordered;
    }

    fn select_node(&mut self, id: NodeId) {
        if let Some(i) = self.rows.iter().position(|r| r.id == id) {
            self.cursor = i;
            return;
        }
        // Gone (collapsed away or filtered out): land on its nearest visible ancestor.
        for a in self.graph.ancestors(id) {
            if let Some(i) = self.rows.iter().position(|r| r.id == a) {
                self.cursor = i;
                return;
            }
        }
    }

    fn move_cursor(&mut self, to: usize) -> Vec<Effect> {
        let to = to.min(self.rows.len().saturating_sub(1));
        if to == self.cursor {
            return Vec::new();
        }
        self.cursor = to;
        self.details_scroll = 0;
        self.dirty = true;
        self.after_selection()
    }

    fn page(&self) -> usize {
        let h = match self.focus {
            Focus::Tree => self.last_frame.tree.get().height,
            Focus::Details => self.last_frame.details.get().height,
        };
        usize::from(h.max(2)) - 1
    }

    // ----- keys ----------------------------------------------------------------------------

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        // Ctrl-C cancels whatever prompt or overlay is open, like Esc; only in the tree it quits.
        let key =
            if ctrl_c && self.mode != Mode::Normal { KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE) } else { key };
        if ctrl_c && self.mode == Mode::Normal {
            self.quit = true;
            return vec![Effect::Quit];
        }
        match self.mode.clone() {
            Mode::Help { scroll } => {
                self.on_help_key(key, scroll);
                Vec::new()
            }
            Mode::Messages { back } => {
                self.on_messages_key(key, back);
                Vec::new()
            }
            Mode::Filter => self.on_filter_key(key),
            Mode::Command(line) => self.on_command_key(key, line),
            Mode::Confirm { path, json, diff, scroll } => self.on_confirm_key(key, path, json, diff, scroll),
            Mode::Normal => {
                self.status = None;
                if key.code == KeyCode::Esc {
                    if !self.filter.query.is_empty() {
                        return self.clear_filter();
                    }
                    return Vec::new();
                }
                match self.keymap.lookup(Key::from_event(&key), self.focus) {
                    Some(action) => self.act(action),
                    None => Vec::new(),
                }
            }
        }
    }

    fn on_help_key(&mut self, key: KeyEvent, scroll: usize) {
        if self.help_typing {
            match self.help_search.key(&key) {
                Edit::Cancel => {
                    self.help_typing = false;
                    self.help_search = Prompt::default();
                }
                Edit::Submit | Edit::Leave => self.help_typing = false,
                Edit::Changed => self.mode = Mode::Help { scroll: 0 },
                _ => {}
            }
            return;
        }
        if key.code == KeyCode::Char('/') {
            self.help_typing = true;
            return;
        }
        if key.code == KeyCode::Esc && !self.help_search.is_empty() {
            self.help_search = Prompt::default();
            self.mode = Mode::Help { scroll: 0 };
            return;
        }
        let max =
            super::present::help::lines(self).len().saturating_sub(usize::from(self.last_frame.help_height.get()));
        let scroll = scroll.min(max);
        let action = self.keymap.lookup(Key::from_event(&key), self.focus);
        self.mode = match (key.code, action) {
            (KeyCode::Esc, _) | (_, Some(Action::Help | Action::Quit)) => Mode::Normal,
            (_, Some(Action::Bottom)) => Mode::Help { scroll: max },
            (_, Some(Action::Down)) => Mode::Help { scroll: (scroll + 1).min(max) },
            (_, Some(Action::Up)) => Mode::Help { scroll: scroll.saturating_sub(1) },
            (_, Some(Action::PageDown)) => Mode::Help { scroll: (scroll + 10).min(max) },
            (_, Some(Action::PageUp)) => Mode::Help { scroll: scroll.saturating_sub(10) },
            (_, Some(Action::Top)) => Mode::Help { scroll: 0 },
            _ => Mode::Help { scroll },
        };
    }

    fn on_messages_key(&mut self, key: KeyEvent, back: usize) {
        let last = self.messages.len().saturating_sub(1);
        let action = self.keymap.lookup(Key::from_event(&key), self.focus);
        self.mode = match (key.code, action) {
            (KeyCode::Esc, _) | (_, Some(Action::Messages | Action::Quit | Action::Help)) => Mode::Normal,
            (_, Some(Action::Up)) => Mode::Messages { back: (back + 1).min(last) },
            (_, Some(Action::Down)) => Mode::Messages { back: back.saturating_sub(1) },
            (_, Some(Action::PageUp)) => Mode::Messages { back: (back + 10).min(last) },
            (_, Some(Action::PageDown)) => Mode::Messages { back: back.saturating_sub(10) },
            (_, Some(Action::Top)) => Mode::Messages { back: last },
            (_, Some(Action::Bottom)) => Mode::Messages { back: 0 },
            _ => Mode::Messages { back },
        };
    }

    fn on_filter_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // ↑/↓ move through the tree while filtering (the matches are what one looks at);
        // history is Ctrl-P / Ctrl-N here.
        match key.code {
            KeyCode::Down => return self.move_cursor(self.cursor + 1),
            KeyCode::Up => return self.move_cursor(self.cursor.saturating_sub(1)),
            _ => {}
        }
        match self.filter_input.key(&key) {
            Edit::Cancel => {
                self.mode = Mode::Normal;
                self.histories.filters.reset();
                self.clear_filter()
            }
            Edit::Submit | Edit::Leave => {
                self.mode = Mode::Normal;
                let query = self.filter.query.clone();
                self.remember(false, &query)
            }
            Edit::Changed => self.filter_from_input(),
            Edit::Older | Edit::Newer => {
                let current = self.filter_input.text().to_string();
                let h = &mut self.histories.filters;
                let line = if matches!(key.code, KeyCode::Char('p')) { h.older(&current) } else { h.newer() };
                match line.map(str::to_string) {
                    Some(line) => {
                        self.filter_input.set(&line);
                        self.filter_from_input()
                    }
                    None => Vec::new(),
                }
            }
            Edit::Moved | Edit::Complete | Edit::Other => Vec::new(),
        }
    }

    fn filter_from_input(&mut self) -> Vec<Effect> {
        self.filter.query = self.filter_input.text().to_string();
        self.refilter()
    }

    /// Keeps a submitted line in its history and saves the histories (off the UI thread).
    fn remember(&mut self, command: bool, line: &str) -> Vec<Effect> {
        let h = if command { &mut self.histories.commands } else { &mut self.histories.filters };
        h.push(line);
        match &self.histories.path {
            Some(path) if !line.trim().is_empty() => {
                vec![Effect::SaveHistory { path: path.clone(), text: self.histories.to_text() }]
            }
            _ => Vec::new(),
        }
    }

    fn refilter(&mut self) -> Vec<Effect> {
        let before = self.selected();
        self.rebuild_rows();
        // Land on the first match unless the selection itself still matches.
        if !before.is_some_and(|b| self.filter.matches.contains(&b))
            && let Some(&first) = self.filter.ordered.first()
        {
            self.select_node(first);
        }
        if self.selected() != before {
            self.details_scroll = 0;
            return self.after_selection();
        }
        Vec::new()
    }

    fn clear_filter(&mut self) -> Vec<Effect> {
        let before = self.selected();
        self.filter = Filter::default();
        // Keep what the user landed on visible once the tree is whole again.
        if let Some(sel) = before {
            for a in self.graph.ancestors(sel).collect::<Vec<_>>() {
                self.open.insert(a);
            }
        }
        self.rebuild_rows();
        Vec::new()
    }

    fn on_command_key(&mut self, key: KeyEvent, mut line: Prompt) -> Vec<Effect> {
        match line.key(&key) {
            Edit::Cancel | Edit::Leave => {
                self.mode = Mode::Normal;
                self.histories.commands.reset();
                Vec::new()
            }
            Edit::Submit => {
                self.mode = Mode::Normal;
                let text = line.text().trim().to_string();
                let mut effects = self.remember(true, &text);
                effects.extend(self.run_command(&text));
                effects
            }
            Edit::Older | Edit::Newer => {
                let h = &mut self.histories.commands;
                let entry =
                    if matches!(key.code, KeyCode::Up | KeyCode::Char('p')) { h.older(line.text()) } else { h.newer() };
                if let Some(entry) = entry.map(str::to_string) {
                    line.set(&entry);
                }
                self.mode = Mode::Command(line);
                Vec::new()
            }
            Edit::Complete => {
                self.complete_command(&mut line);
                self.mode = Mode::Command(line);
                Vec::new()
            }
            Edit::Changed | Edit::Moved | Edit::Other => {
                self.mode = Mode::Command(line);
                Vec::new()
            }
        }
    }

    /// Tab: command names, then theme names after `theme `.
    fn complete_command(&mut self, line: &mut Prompt) {
        let text = line.text().to_string();
        let (prefix_len, candidates): (usize, Vec<String>) = match text.split_once(' ') {
            None => (0, COMMANDS.iter().map(|c| c.to_string()).collect()),
            Some(("theme", _)) => (6, super::theme::BUILTIN.iter().map(|(n, _)| n.to_string()).collect()),
            Some(_) => return,
        };
        if !line.complete(prefix_len, &candidates) {
            self.set_status(Severity::Warning, format!("nothing to complete for {:?}", clip(&sanitize(&text), 30)));
        }
    }

    /// `:open TARGET`, `:theme NAME`, `:quit`.
    pub fn run_command(&mut self, line: &str) -> Vec<Effect> {
        let (cmd, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        match cmd {
            "" => Vec::new(),
            "q" | "quit" => self.quit_unless_unwritten(false),
            "q!" | "quit!" => {
                self.quit = true;
                vec![Effect::Quit]
            }
            "open" | "o" if arg.is_empty() => {
                self.set_status(Severity::Error, ":open needs a TARGET (host/repo:tag, host/repo@digest, …)".into());
                Vec::new()
            }
            "open" | "o" => {
                let request = self.request_id();
                self.pending_open = Some(request);
                self.set_status(Severity::Info, format!("opening {}…", sanitize(arg)));
                vec![Effect::Open { request, target: arg.to_string(), options: Box::new(self.open_options.clone()) }]
            }
            "theme" => {
                self.set_theme(arg);
                Vec::new()
            }
            "refresh" | "r" => match self.selected() {
                Some(id) => self.act_refresh(id),
                None => Vec::new(),
            },
            "refresh!" | "r!" => self.refresh_all(),
            "messages" | "mes" => self.open_messages(),
            other => {
                let other = clip(&sanitize(other), 30).into_owned();
                self.set_status(
                    Severity::Error,
                    format!("unknown command :{other} (try :open TARGET, :theme NAME, :quit)"),
                );
                Vec::new()
            }
        }
    }

    fn set_theme(&mut self, name: &str) {
        match Theme::builtin(name) {
            Ok(_) if self.no_color => {
                self.set_status(Severity::Warning, "NO_COLOR is set: staying with the mono theme".into());
            }
            Ok(mut theme) => {
                for (token, style) in &self.colors {
                    theme.set(*token, *style);
                }
                self.theme = theme;
                self.set_status(Severity::Info, format!("theme {name}"));
            }
            Err(e) => self.set_status(Severity::Error, e.to_string()),
        }
    }

    fn act(&mut self, action: Action) -> Vec<Effect> {
        let armed = std::mem::take(&mut self.quit_armed);
        match action {
            Action::Quit => self.quit_unless_unwritten(armed),
            Action::Help => {
                self.help_search = Prompt::default();
                self.help_typing = false;
                self.mode = Mode::Help { scroll: 0 };
                Vec::new()
            }
            Action::FocusNext | Action::FocusPrev => {
                self.focus = if self.focus == Focus::Tree { Focus::Details } else { Focus::Tree };
                Vec::new()
            }
            Action::Filter => {
                self.filter_input = Prompt::new(&self.filter.query);
                self.mode = Mode::Filter;
                Vec::new()
            }
            Action::Command => {
                self.mode = Mode::Command(Prompt::default());
                Vec::new()
            }
            Action::NextMatch | Action::PrevMatch => self.jump_to_match(action == Action::NextMatch),
            Action::ToggleMouse => {
                self.mouse = !self.mouse;
                self.show_toast(if self.mouse {
                    "Mouse on".into()
                } else {
                    "Mouse off: the terminal's own text selection works".into()
                });
                vec![Effect::SetMouse(self.mouse)]
            }
            Action::CopyDigest => self.copy(false),
            Action::CopyReference => self.copy(true),
            Action::Refresh => match self.selected() {
                Some(id) => self.act_refresh(id),
                None => Vec::new(),
            },
            Action::RefreshAll => self.refresh_all(),
            Action::Zoom => {
                self.zoom = !self.zoom;
                Vec::new()
            }
            Action::Messages => self.open_messages(),
            Action::Suspend => vec![Effect::Suspend],
            Action::VerifyPanel => {
                self.right = match self.right {
                    RightPanel::Details => RightPanel::Verification,
                    RightPanel::Verification => RightPanel::Details,
                };
                self.details_scroll = 0;
                Vec::new()
            }
            Action::WhatIfLevel => self.what_if_level(),
            Action::WhatIfStore => self.what_if_store(),
            Action::WhatIfIdentity => self.what_if_identity(),
            Action::WhatIfReset => self.what_if_reset(),
            Action::WritePolicy => self.ask_write_policy(),
            Action::Down | Action::Up | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom => {
                self.navigate(action)
            }
            Action::Expand => self.expand_selected(),
            Action::Collapse => self.collapse_selected(),
            Action::ExpandAll => match self.selected() {
                Some(id) => self.expand_all(id),
                None => Vec::new(),
            },
            Action::CollapseAll => {
                if let Some(id) = self.selected() {
                    let mut stack = vec![id];
                    while let Some(n) = stack.pop() {
                        self.open.remove(&n);
                        stack.extend(self.graph.node(n).children.iter().copied());
                    }
                    self.rebuild_rows();
                }
                Vec::new()
            }
            Action::Back => self.go_back(),
            Action::Forward => self.go_forward(),
            Action::Toggle => match self.selected() {
                Some(id) if self.open.contains(&id) => self.collapse_selected(),
                Some(_) => self.expand_selected(),
                None => Vec::new(),
            },
        }
    }

    /// Quits, unless what-if edits would be lost: then the first `q` asks, and a second quits.
    fn quit_unless_unwritten(&mut self, armed: bool) -> Vec<Effect> {
        if self.vs.what_if.is_active() && !armed {
            self.quit_armed = true;
            let write = if self.read_only { "" } else { ", W writes them to the policy file" };
            self.set_status(
                Severity::Warning,
                format!("what-if edits are not written: q again quits without them{write} (:q! quits at once)"),
            );
            return Vec::new();
        }
        self.quit = true;
        vec![Effect::Quit]
    }

    fn visited(&self) -> Visited {
        Visited {
            target: self.target.clone(),
            source: self.source.clone(),
            roots: self.current_roots.clone(),
            notation_dir: self.vs.dir.clone(),
        }
    }

    fn revisit(&mut self, v: Visited) -> Vec<Effect> {
        let target = v.target.clone();
        self.switch_notation_dir(v.notation_dir);
        self.load_target(Opened { target: v.target, source: v.source, roots: v.roots });
        self.set_status(Severity::Info, format!("back at {}", sanitize(&target)));
        self.start()
    }

    fn go_back(&mut self) -> Vec<Effect> {
        let Some(previous) = self.back.pop() else {
            self.set_status(Severity::Info, "nothing to go back to (:open TARGET opens another)".into());
            return Vec::new();
        };
        let here = self.visited();
        self.forward.push(here);
        self.revisit(previous)
    }

    fn go_forward(&mut self) -> Vec<Effect> {
        let Some(next) = self.forward.pop() else {
            self.set_status(Severity::Info, "nothing to go forward to".into());
            return Vec::new();
        };
        let here = self.visited();
        self.back.push(here);
        self.revisit(next)
    }

    /// `E`: opens `id` and everything below it, loading what is not loaded yet, up to
    /// [`EXPAND_ALL_BUDGET`] nodes.
    fn expand_all(&mut self, id: NodeId) -> Vec<Effect> {
        self.expand_budget = EXPAND_ALL_BUDGET;
        let effects = self.open_all_below(id);
        self.rebuild_rows();
        effects
    }

    fn open_all_below(&mut self, id: NodeId) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if !self.graph.expandable(n) {
                continue;
            }
            self.open.insert(n);
            match self.graph.node(n).load {
                LoadState::Loaded => stack.extend(self.graph.node(n).children.iter().copied()),
                LoadState::Loading => {
                    self.expanding_all.insert(n);
                }
                LoadState::NotLoaded | LoadState::Failed(_) => {
                    if self.expand_budget == 0 {
                        self.set_status(
                            Severity::Warning,
                            format!(
                                "expanded {EXPAND_ALL_BUDGET} nodes; press E again on a node to load more below it"
                            ),
                        );
                        continue;
                    }
                    self.expand_budget -= 1;
                    self.expanding_all.insert(n);
                    effects.extend(self.expand_node(n));
                }
            }
        }
        effects
    }

    fn act_refresh(&mut self, id: NodeId) -> Vec<Effect> {
        if self.graph.is_cycle(id) {
            self.set_status(Severity::Warning, "a cycle node is not loaded: its digest is an ancestor".into());
            return Vec::new();
        }
        if !self.graph.expandable(id) {
            self.set_status(Severity::Warning, depth_limit_status());
            return Vec::new();
        }
        self.refresh(id)
    }

    fn open_messages(&mut self) -> Vec<Effect> {
        if self.messages.is_empty() {
            self.show_toast("no messages yet".into());
        } else {
            // Newest at the bottom, shown first.
            self.mode = Mode::Messages { back: 0 };
        }
        Vec::new()
    }

    fn navigate(&mut self, action: Action) -> Vec<Effect> {
        let page = self.page();
        match self.focus {
            Focus::Tree => {
                let last = self.rows.len().saturating_sub(1);
                let to = match action {
                    Action::Down => self.cursor + 1,
                    Action::Up => self.cursor.saturating_sub(1),
                    Action::PageDown => self.cursor + page,
                    Action::PageUp => self.cursor.saturating_sub(page),
                    Action::Top => 0,
                    _ => last,
                };
                self.move_cursor(to)
            }
            Focus::Details => {
                let max = self.details_len().saturating_sub(page + 1);
                self.details_scroll = match action {
                    Action::Down => self.details_scroll + 1,
                    Action::Up => self.details_scroll.saturating_sub(1),
                    Action::PageDown => self.details_scroll + page,
                    Action::PageUp => self.details_scroll.saturating_sub(page),
                    Action::Top => 0,
                    _ => max,
                }
                .min(max);
                Vec::new()
            }
        }
    }

    /// Lines in the details panel of the selected node.
    pub fn details_len(&self) -> usize {
        let Some(id) = self.selected() else { return 0 };
        let width = usize::from(self.last_frame.details.get().width);
        if self.right == RightPanel::Verification {
            return super::present::verification::lines(self, id, width).len();
        }
        let doc = self.details.get(&id).map_or(1, |d| d.lines(width).len());
        node_header(&self.graph, self.source.as_ref(), id, width).len() + doc
    }

    fn expand_selected(&mut self) -> Vec<Effect> {
        let Some(id) = self.selected() else { return Vec::new() };
        if self.graph.is_cycle(id) {
            self.set_status(Severity::Warning, "not expanded: this digest already appears above it (a cycle)".into());
            return Vec::new();
        }
        if !self.graph.expandable(id) {
            self.set_status(Severity::Warning, depth_limit_status());
            return Vec::new();
        }
        let node = self.graph.node(id);
        match node.load {
            LoadState::NotLoaded | LoadState::Failed(_) => {
                self.open.insert(id);
                let effects = self.expand_node(id);
                self.rebuild_rows();
                effects
            }
            LoadState::Loading => {
                self.open.insert(id);
                Vec::new()
            }
            LoadState::Loaded if self.open.contains(&id) || !self.filter.query.is_empty() => {
                // Already open: step into it, like a file manager.
                if node.children.is_empty() { Vec::new() } else { self.move_cursor(self.cursor + 1) }
            }
            LoadState::Loaded => {
                self.open.insert(id);
                self.rebuild_rows();
                Vec::new()
            }
        }
    }

    fn collapse_selected(&mut self) -> Vec<Effect> {
        let Some(id) = self.selected() else { return Vec::new() };
        let has_children = !self.graph.node(id).children.is_empty();
        if self.filter.query.is_empty()
            && self.open.contains(&id)
            && (has_children || self.pending_expand.contains_key(&id))
        {
            self.open.remove(&id);
            self.rebuild_rows();
            return Vec::new();
        }
        self.open.remove(&id);
        match self.graph.node(id).parent.and_then(|p| self.rows.iter().position(|r| r.id == p)) {
            Some(i) => self.move_cursor(i),
            None => Vec::new(),
        }
    }

    fn jump_to_match(&mut self, forward: bool) -> Vec<Effect> {
        if self.filter.ordered.is_empty() {
            let text =
                if self.filter.query.is_empty() { "no filter: press / to filter the tree" } else { "no matches" };
            self.set_status(Severity::Warning, text.into());
            return Vec::new();
        }
        let matches = &self.filter.matches;
        let positions: Vec<usize> =
            self.rows.iter().enumerate().filter(|(_, r)| matches.contains(&r.id)).map(|(i, _)| i).collect();
        let found = if forward {
            positions.iter().copied().find(|&p| p > self.cursor)
        } else {
            positions.iter().rev().copied().find(|&p| p < self.cursor)
        };
        let next = found.unwrap_or_else(|| {
            let (text, at) = if forward {
                ("search wrapped to the top", positions[0])
            } else {
                ("search wrapped to the bottom", *positions.last().expect("non-empty"))
            };
            self.show_toast(text.into());
            at
        });
        let n = positions.iter().position(|&p| p == next).map_or(0, |i| i + 1);
        if found.is_some() || next != self.cursor {
            self.set_status(Severity::Info, format!("match {n} of {}", positions.len()));
        }
        self.move_cursor(next)
    }

    fn copy(&mut self, full: bool) -> Vec<Effect> {
        let Some(id) = self.selected() else { return Vec::new() };
        let text = if full {
            Some(self.graph.reference(self.source.as_ref(), id))
        } else {
            self.graph.node(id).digest().map(str::to_string)
        };
        match text {
            Some(text) if !text.is_empty() => {
                // OSC 52 has no answer: whether the terminal took it cannot be known, so say "sent".
                self.show_toast(format!("Sent to the terminal's clipboard: {}", sanitize(&text)));
                vec![Effect::Copy(text)]
            }
            _ => {
                self.set_status(
                    Severity::Warning,
                    "nothing to copy: this node has no digest (Y copies its reference)".into(),
                );
                Vec::new()
            }
        }
    }

    // ----- mouse ---------------------------------------------------------------------------

    fn on_mouse(&mut self, ev: MouseEvent) -> Vec<Effect> {
        if !self.mouse || self.mode != Mode::Normal {
            return Vec::new();
        }
        let at = ratatui::layout::Position { x: ev.column, y: ev.row };
        let tree = self.last_frame.tree.get();
        let details = self.last_frame.details.get();
        self.dirty = true;
        match ev.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = ev.kind == MouseEventKind::ScrollDown;
                if details.contains(at) {
                    let max = self.details_len().saturating_sub(usize::from(details.height));
                    self.details_scroll = if down {
                        (self.details_scroll + WHEEL).min(max)
                    } else {
                        self.details_scroll.saturating_sub(WHEEL)
                    };
                    Vec::new()
                } else if down {
                    self.move_cursor(self.cursor + WHEEL)
                } else {
                    self.move_cursor(self.cursor.saturating_sub(WHEEL))
                }
            }
            MouseEventKind::Down(MouseButton::Left) if tree.contains(at) => {
                self.focus = Focus::Tree;
                let index = self.last_frame.tree_offset.get() + usize::from(at.y - tree.y);
                let Some(row) = self.rows.get(index).copied() else { return Vec::new() };
                // The fold glyph sits after the two-column selection marker and the indent.
                let fold_x = tree.x + 2 + row.depth * 2;
                let on_fold = (fold_x..fold_x + 2).contains(&at.x);
                if index == self.cursor || on_fold {
                    let mut effects = self.move_cursor(index);
                    effects.extend(self.act(Action::Toggle));
                    effects
                } else {
                    self.move_cursor(index)
                }
            }
            MouseEventKind::Down(MouseButton::Left) if details.contains(at) => {
                self.focus = Focus::Details;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}
