//! The import rules of `docs/architecture.md`, read from the code itself: every path a file of
//! `src/` names (in `use` lines and inline) is checked against the room it lives in, and a
//! breach fails naming the file, the line and the rule.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments (doc comments may name any room).
fn code_lines(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let code = match l.find("//") {
                Some(at) => &l[..at],
                None => l,
            };
            (!code.trim().is_empty()).then(|| (i + 1, code.to_string()))
        })
        .collect()
}

struct Rule {
    what: &'static str,
    /// The files the rule is about, by path relative to `src/`.
    applies: fn(&str) -> bool,
    /// Paths those files may not name.
    forbidden: &'static [&'static str],
}

fn under(rel: &str, room: &str) -> bool {
    rel == format!("{room}.rs") || rel.starts_with(&format!("{room}/"))
}

const RULES: &[Rule] = &[
    Rule {
        what: "nothing outside tui/ (and the binary) imports the UI",
        applies: |rel| !under(rel, "tui") && !under(rel, "cli") && rel != "main.rs" && rel != "lib.rs",
        forbidden: &["crate::tui", "sigscope::tui"],
    },
    Rule {
        what: "nothing outside tui/ knows ratatui or crossterm",
        applies: |rel| !under(rel, "tui"),
        forbidden: &["ratatui", "crossterm"],
    },
    Rule {
        what: "notation/ takes bytes, descriptors and \"now\": it never imports source/, graph/, verify, inspect/ \
               or aws/ (AWS Signer's revocation service is injected through a trait)",
        applies: |rel| under(rel, "notation"),
        forbidden: &["crate::source", "crate::graph", "crate::verify", "crate::inspect", "crate::demo", "crate::aws"],
    },
    Rule {
        what: "aws/ is how AWS is reached (credentials, clients, errors): it knows no graph and no registry source",
        applies: |rel| under(rel, "aws"),
        forbidden: &["crate::graph", "crate::verify", "crate::inspect", "crate::source"],
    },
    Rule {
        what: "kyverno/ is text in, data out: it never imports source/, graph/, notation/, verify or explain \
               (signature checks are injected through replay::AttestorCheck)",
        applies: |rel| under(rel, "kyverno"),
        forbidden: &[
            "crate::source",
            "crate::graph",
            "crate::notation",
            "crate::verify",
            "crate::explain",
            "crate::aws",
        ],
    },
    Rule {
        what: "cosign/ is bytes in, verdict out: it never imports source/, graph/, notation/, kyverno/ or the use cases",
        applies: |rel| under(rel, "cosign"),
        forbidden: &[
            "crate::source",
            "crate::graph",
            "crate::notation",
            "crate::kyverno",
            "crate::verify",
            "crate::explain",
        ],
    },
    Rule {
        what: "oci/ is below everything",
        applies: |rel| under(rel, "oci"),
        forbidden: &[
            "crate::source",
            "crate::graph",
            "crate::notation",
            "crate::verify",
            "crate::inspect",
            "crate::aws",
        ],
    },
    Rule {
        what: "source/ knows no graph",
        applies: |rel| under(rel, "source"),
        forbidden: &["crate::graph", "crate::verify", "crate::inspect"],
    },
    Rule {
        what: "the app state never imports the view (shared line builders live in tui/present/)",
        applies: |rel| under(rel, "tui/app"),
        forbidden: &["super::view", "super::super::view", "crate::tui::view", "view::"],
    },
    Rule {
        what: "the view only reads the app: a draw takes `&App`, and nothing in the app can be written through \
               it (no cells), so drawing leaves no state behind for update() to read",
        applies: |rel| under(rel, "tui/view"),
        forbidden: &[
            "mut App",
            "mut super::super::app::App",
            "mut crate::tui::app::App",
            "std::cell",
            "core::cell",
            "RefCell",
            "UnsafeCell",
            "last_frame",
            "LastFrame",
        ],
    },
    Rule {
        what: "update() measures the screen with tui/layout.rs from the terminal size it was sent, never by \
               what a draw recorded: the app holds no cells for the view to fill",
        applies: |rel| under(rel, "tui/app"),
        forbidden: &["std::cell", "core::cell", "Cell", "RefCell", "UnsafeCell", "last_frame", "LastFrame"],
    },
    Rule {
        what: "panels are placed in one function, tui/layout.rs, which update() and the view both call: neither \
               lays out panels on its own",
        applies: |rel| under(rel, "tui/app") || under(rel, "tui/view"),
        forbidden: &["Layout::horizontal", "Layout::vertical", "Layout::new", "Layout::default"],
    },
    Rule {
        what: "the layout is a pure function of the size and the app: it draws nothing and never imports the view",
        applies: |rel| rel == "tui/layout.rs",
        forbidden: &["Frame", "mut App", "std::cell", "super::view", "crate::tui::view", "view::"],
    },
];

/// Whether `code` names `bad` as whole path segments: `crate::tui` but not `crate::tuition`.
fn names(code: &str, bad: &str) -> bool {
    code.match_indices(bad).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + bad.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn breaches() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(file).unwrap();
        for rule in RULES.iter().filter(|r| (r.applies)(&rel)) {
            for (n, code) in code_lines(&text) {
                for bad in rule.forbidden {
                    if names(&code, bad) {
                        found.push(format!("src/{rel}:{n}: names {bad} — {}\n    {}", rule.what, code.trim()));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_file_keeps_the_import_rules() {
    let found = breaches();
    assert!(found.is_empty(), "{} import rule breach(es):\n{}", found.len(), found.join("\n"));
}

#[test]
fn the_checker_sees_a_breach() {
    // The rules match what they should: a use line of each kind is caught, comments are not.
    let lines = code_lines("use crate::graph::Graph; // crate::tui\n/// crate::tui in a doc\nlet x = 1;");
    assert_eq!(lines.len(), 2);
    assert!(lines[0].1.contains("crate::graph") && !lines[0].1.contains("crate::tui"));
    let source_rule = RULES.iter().find(|r| r.what.starts_with("source/")).unwrap();
    assert!((source_rule.applies)("source/layout.rs") && !(source_rule.applies)("sourcery.rs"));
    let app_rule = RULES.iter().find(|r| r.what.starts_with("the app state")).unwrap();
    assert!((app_rule.applies)("tui/app.rs") && (app_rule.applies)("tui/app/refresh.rs"));
    assert!(!(app_rule.applies)("tui/view/tree.rs"));
    // A draw that could write the app, or an app with a cell a draw could fill, is caught.
    let rule = |start: &str| RULES.iter().find(|r| r.what.starts_with(start)).unwrap();
    let (view_rule, update_rule) = (rule("the view only reads"), rule("update() measures"));
    assert!((view_rule.applies)("tui/view/tree.rs") && !(view_rule.applies)("tui/app/tree.rs"));
    assert!((update_rule.applies)("tui/app.rs") && (update_rule.applies)("tui/app/mouse.rs"));
    let hits = |rule: &Rule, code: &str| rule.forbidden.iter().any(|bad| names(code, bad));
    assert!(hits(view_rule, "pub fn draw(app: &mut App, frame: &mut Frame, area: Rect) {"));
    assert!(hits(view_rule, "    app.last_frame.tree.set(inner);"));
    assert!(!hits(view_rule, "pub fn draw(app: &App, frame: &mut Frame, areas: &Areas) {"));
    assert!(hits(update_rule, "    pub tree: Cell<Rect>,"));
    assert!(hits(update_rule, "use std::cell::Cell;"));
    assert!(!hits(update_rule, "let areas = self.areas();"));
    assert!(names("crate::tui::x", "crate::tui") && !names("crate::tuition", "crate::tui"));
}
