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
];

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
                    let hit = code.match_indices(bad).any(|(at, _)| {
                        // A whole path segment: `crate::tui` but not `crate::tuition`.
                        let before = code[..at].chars().next_back();
                        let after = code[at + bad.len()..].chars().next();
                        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    });
                    if hit {
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
}
