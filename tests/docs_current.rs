//! docs/keys.md is generated from the default keymap and the theme tokens; this test fails when
//! the code changed and the page did not. Regenerate with `SIGSCOPE_WRITE_DOCS=1 cargo test --test docs_current`.

use sigscope::tui::keymap::Keymap;
use sigscope::tui::theme::TOKENS;

fn generated() -> String {
    let mut page = String::from(
        "# Keys and theme tokens\n\n\
         Generated from the code (`tests/docs_current.rs` checks it). The help overlay (`?`) and the\n\
         status-bar hints come from the same table. Arrows, Home/End, PgUp/PgDn, F1 and Ctrl-c always\n\
         work; the other keys can be changed in the `[keys]` table of `config.toml` (see\n\
         `configuration.md`), e.g. `expand = [\"l\", \"Right\"]`.\n\n",
    );
    page.push_str(&Keymap::default().markdown());
    page.push_str("\n## Theme tokens\n\nEvery theme in `themes/` defines each of these; `[colors]` in `config.toml` overrides them.\n\n");
    for (_, name) in TOKENS {
        page.push_str(&format!("- `{name}`\n"));
    }
    page
}

#[test]
fn keys_page_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/keys.md");
    let want = generated();
    if std::env::var_os("SIGSCOPE_WRITE_DOCS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(have == want, "docs/keys.md is stale: run SIGSCOPE_WRITE_DOCS=1 cargo test --test docs_current");
}
