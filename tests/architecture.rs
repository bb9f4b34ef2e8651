//! The import rules of `docs/architecture.md`, read from the code itself: every path a file of
//! `src/` names (in `use` lines and inline) is checked against the room it lives in, and a
//! breach fails naming the file, the line and the rule. Paths are checked as written and also
//! resolved: `use` groups expanded (`use crate::{tui, oci}`, `use super::super::{view}`) and
//! `super::`/`self::` made absolute from the module they are written in (inline `mod`s too),
//! so a room reached by a relative path or inside a group is caught as well.

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
        what: "inspect/ decodes bytes it is given: it never fetches (no source/; fetching for the details panel is \
               describe.rs's) and never reaches the use cases",
        applies: |rel| under(rel, "inspect"),
        forbidden: &["crate::source", "crate::describe", "crate::verify", "crate::explain", "crate::tui"],
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

/// A file's text with comments, string and character literals blanked out (newlines kept, so
/// offsets and line numbers stay), for the path resolution below.
fn masked(text: &str) -> Vec<char> {
    let c: Vec<char> = text.chars().collect();
    let mut out = c.clone();
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for ch in out.iter_mut().take(to.min(c.len())).skip(from) {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
    };
    let mut i = 0;
    while i < c.len() {
        let ident_before = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            let end = (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len());
            blank(&mut out, i, end);
            i = end;
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < c.len() && depth > 0 {
                if c[j] == '/' && c.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 1;
                } else if c[j] == '*' && c.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 1;
                }
                j += 1;
            }
            blank(&mut out, i, j);
            i = j;
        } else if !ident_before && (c[i] == 'r' || (c[i] == 'b' && c.get(i + 1) == Some(&'r'))) && {
            let k = if c[i] == 'b' { i + 2 } else { i + 1 };
            let hashes = c[k..].iter().take_while(|&&h| h == '#').count();
            c.get(k + hashes) == Some(&'"')
        } {
            // A raw string: r"…", r#"…"#, br#"…"#.
            let k = if c[i] == 'b' { i + 2 } else { i + 1 };
            let hashes = c[k..].iter().take_while(|&&h| h == '#').count();
            let mut j = k + hashes + 1;
            while j < c.len()
                && !(c[j] == '"' && c[j + 1..].iter().take(hashes).filter(|&&h| h == '#').count() == hashes)
            {
                j += 1;
            }
            let end = (j + 1 + hashes).min(c.len());
            blank(&mut out, i, end);
            i = end;
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c[i] == '\'' && !ident_before {
            // A character literal ('x', '\n', '\u{7f}'), or else a lifetime (left as it is).
            let end = if c.get(i + 1) == Some(&'\\') {
                (i + 2..c.len().min(i + 12)).find(|&j| c[j] == '\'')
            } else {
                (c.get(i + 2) == Some(&'\'')).then_some(i + 2)
            };
            match end {
                Some(e) => {
                    blank(&mut out, i, e + 1);
                    i = e + 1;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The module a file of `src/` is: `tui/app.rs` and `tui/app/mod.rs` are `["tui", "app"]`.
fn file_module(rel: &str) -> Vec<String> {
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// Every path a `use` tree names, groups expanded: `a::{b, c::{self, d as e}, f::*}` is
/// `a::b`, `a::c`, `a::c::d`, `a::f`.
fn expand_use(tree: &str) -> Vec<String> {
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).replace(' ', "");
        let path = path.strip_suffix("::*").unwrap_or(&path).trim_start_matches("::").to_string();
        return vec![path];
    };
    let prefix = tree[..open].replace(' ', "");
    let close = tree.rfind('}').unwrap_or(tree.len());
    let inner = &tree[open + 1..close.max(open + 1)];
    let (mut depth, mut start, mut items) = (0, 0, Vec::new());
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    let mut out = Vec::new();
    for item in items.into_iter().filter(|i| !i.trim().is_empty()) {
        for sub in expand_use(item) {
            out.push(match sub.as_str() {
                "self" => prefix.trim_end_matches("::").to_string(),
                _ => format!("{prefix}{sub}"),
            });
        }
    }
    out
}

/// `path` as seen from `module`, made absolute (`crate::…`); `None` for a path that starts
/// with another name (an extern crate, or a name imported before: the text rules see those).
fn resolve(path: &str, module: &[String]) -> Option<String> {
    let mut segs = path.split("::").filter(|s| !s.is_empty()).peekable();
    let mut at: Vec<String> = match *segs.peek()? {
        "crate" | "sigscope" => {
            segs.next();
            Vec::new()
        }
        "self" => {
            segs.next();
            module.to_vec()
        }
        "super" => module.to_vec(),
        _ => return None,
    };
    while segs.peek() == Some(&"super") {
        segs.next();
        at.pop()?;
    }
    at.extend(segs.map(str::to_string));
    Some(std::iter::once("crate".to_string()).chain(at).collect::<Vec<_>>().join("::"))
}

/// Every path of a file as the module it is written in sees it, made absolute: `use` trees with
/// their groups expanded, and paths written inline (`super::super::view::draw(…)`), inside
/// inline `mod name { … }` too. Each with its line.
fn resolved_paths(rel: &str, text: &str) -> Vec<(usize, String)> {
    let c = masked(text);
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let word_at = |i: usize, w: &str| {
        let wc: Vec<char> = w.chars().collect();
        c.len() >= i + wc.len()
            && c[i..i + wc.len()] == wc[..]
            && !(i > 0 && ident(c[i - 1]))
            && !c.get(i + wc.len()).is_some_and(|&n| ident(n))
    };
    let line_of = |i: usize| c[..i].iter().filter(|&&ch| ch == '\n').count() + 1;
    let base = file_module(rel);
    // Inline modules open at a brace depth: (name, depth inside it).
    let mut mods: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let module = || base.iter().cloned().chain(mods.iter().map(|(n, _)| n.clone())).collect::<Vec<_>>();
        match c[i] {
            '{' => {
                depth += 1;
                i += 1;
                continue;
            }
            '}' => {
                depth = depth.saturating_sub(1);
                while mods.last().is_some_and(|(_, d)| *d > depth) {
                    mods.pop();
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        if word_at(i, "mod") {
            let mut j = i + 3;
            while j < c.len() && c[j].is_whitespace() {
                j += 1;
            }
            let name: String = c[j..].iter().take_while(|&&ch| ident(ch)).collect();
            j += name.chars().count();
            while j < c.len() && c[j].is_whitespace() {
                j += 1;
            }
            if !name.is_empty() && c.get(j) == Some(&'{') {
                mods.push((name, depth + 1));
            }
            i += 3;
        } else if word_at(i, "use") {
            let end = (i..c.len()).find(|&j| c[j] == ';').unwrap_or(c.len());
            let tree: String = c[i + 3..end].iter().collect();
            let module = module();
            for path in expand_use(&tree) {
                if let Some(abs) = resolve(&path, &module) {
                    out.push((line_of(i), abs));
                }
            }
            // Braces of a use tree are balanced: skip it whole.
            i = end;
        } else if ["crate", "super", "self", "sigscope"].iter().any(|w| word_at(i, w)) {
            let mut j = i;
            loop {
                let seg = c[j..].iter().take_while(|&&ch| ident(ch)).count();
                j += seg;
                if c.get(j) == Some(&':') && c.get(j + 1) == Some(&':') && c.get(j + 2).is_some_and(|&n| ident(n)) {
                    j += 2;
                } else {
                    break;
                }
            }
            let path: String = c[i..j].iter().collect();
            if path.contains("::")
                && let Some(abs) = resolve(&path, &module())
            {
                out.push((line_of(i), abs));
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The breaches of one file, `rel` its path under `src/`.
fn breaches_in(rel: &str, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut seen = std::collections::BTreeSet::new();
    let resolved = resolved_paths(rel, text);
    for rule in RULES.iter().filter(|r| (r.applies)(rel)) {
        for (n, code) in code_lines(text) {
            for bad in rule.forbidden {
                if names(&code, bad) && seen.insert((n, *bad)) {
                    found.push(format!("src/{rel}:{n}: names {bad} — {}\n    {}", rule.what, code.trim()));
                }
            }
        }
        // The same rooms reached through a group (`use crate::{tui, …}`) or a relative path
        // (`super::super::view`), resolved from the module the path is written in.
        for (n, abs) in &resolved {
            for bad in rule.forbidden.iter().filter(|b| b.starts_with("crate::")) {
                let hit = abs == bad || abs.starts_with(&format!("{bad}::"));
                if hit && seen.insert((*n, *bad)) {
                    let code = lines.get(n - 1).map_or("", |l| l.trim());
                    found.push(format!("src/{rel}:{n}: reaches {abs} ({bad}) — {}\n    {code}", rule.what));
                }
            }
        }
    }
    found
}

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
        found.extend(breaches_in(&rel, &text));
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

    // Each form a path can take into a forbidden room is caught, naming the line.
    let caught = |rel: &str, text: &str, room: &str| {
        let found = breaches_in(rel, text);
        assert!(found.iter().any(|f| f.contains(room)), "{rel}: {text:?} not caught: {found:?}");
        found
    };
    // Grouped imports, on one line or several, nested, with `self`.
    caught("notation/policy.rs", "use crate::{oci, source};", "crate::source");
    caught("verify.rs", "use crate::{tui, oci};", "crate::tui");
    let found = caught(
        "kyverno/replay.rs",
        "use std::fmt;\nuse crate::{\n    oci::Descriptor,\n    notation::{self},\n};",
        "crate::notation",
    );
    assert!(found[0].starts_with("src/kyverno/replay.rs:2:"), "{found:?}");
    caught(
        "cosign/mod.rs",
        "pub(crate) use crate::{oci::{media, Descriptor}, kyverno::policy::{PolicySet as P}};",
        "crate::kyverno",
    );
    // Relative paths: `super::` up into another room, grouped or not, in a use or inline.
    caught("tui/app/keys.rs", "use super::super::{view};", "crate::tui::view");
    caught("tui/app/keys.rs", "use super::super::{theme, view::tree};", "crate::tui::view");
    caught("tui/app.rs", "use super::{present, view};", "crate::tui::view");
    caught("notation/chain.rs", "use super::super::graph::Graph;", "crate::graph");
    caught("notation/envelope/jws.rs", "use super::super::super::source::Source;", "crate::source");
    caught("notation/chain.rs", "fn f() { let g = super::super::graph::Graph::new(); }", "crate::graph");
    caught("source/layout.rs", "fn f() -> crate::graph::NodeId { todo!() }", "crate::graph");
    caught("oci/mod.rs", "use self::super::aws;", "crate::aws");
    // Inside an inline module, `super` starts from that module.
    caught("notation/dn.rs", "#[cfg(test)]\nmod tests {\n    use super::super::super::graph;\n}", "crate::graph");
    // What stays inside the rules is not caught: a room's own paths, allowed rooms, globs of
    // the parent in a test module, `self.` and `Self::`, text in strings and comments.
    for (rel, text) in [
        ("notation/dn.rs", "#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::super::chain;\n}"),
        ("notation/chain.rs", "use super::{dn::Dn, envelope::{self, Scheme}};\nuse crate::oci::{Descriptor};"),
        ("tui/app/keys.rs", "use super::super::{present, theme::ThemeToken};\nfn f(&self) { self.g(); Self::h(); }"),
        ("tui/app.rs", "mod inner { fn f() { let _ = \"crate::oci\"; } } // super::view"),
        ("tui/view/tree.rs", "use super::super::app::App;"),
        ("source/mod.rs", "let r = '{'; let s = r#\"}\"#; use crate::oci;"),
    ] {
        let found = breaches_in(rel, text);
        assert!(found.is_empty(), "{rel}: {text:?}: {found:?}");
    }
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
