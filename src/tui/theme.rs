//! Themes: semantic tokens mapped to styles. The built-in themes live in `themes/*.toml` at the
//! top of the repository and are compiled in; a user's config may override single tokens.

use std::collections::BTreeMap;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// What a piece of text *means*; the theme decides how it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ThemeToken {
    Text,
    Muted,
    Verified,
    Failed,
    Pending,
    KindImage,
    KindSignature,
    KindSbom,
    KindAttestation,
    KindOther,
    Digest,
    Tag,
    Selection,
    Match,
    BorderFocused,
    BorderUnfocused,
    Title,
    Heading,
    FieldName,
    Breadcrumb,
    HintKey,
    HintDesc,
    Statusbar,
    Error,
    Warning,
    Toast,
}

/// Every token with its name in theme files, in declaration order.
pub const TOKENS: [(ThemeToken, &str); 26] = [
    (ThemeToken::Text, "text"),
    (ThemeToken::Muted, "muted"),
    (ThemeToken::Verified, "verified"),
    (ThemeToken::Failed, "failed"),
    (ThemeToken::Pending, "pending"),
    (ThemeToken::KindImage, "kind_image"),
    (ThemeToken::KindSignature, "kind_signature"),
    (ThemeToken::KindSbom, "kind_sbom"),
    (ThemeToken::KindAttestation, "kind_attestation"),
    (ThemeToken::KindOther, "kind_other"),
    (ThemeToken::Digest, "digest"),
    (ThemeToken::Tag, "tag"),
    (ThemeToken::Selection, "selection"),
    (ThemeToken::Match, "match"),
    (ThemeToken::BorderFocused, "border_focused"),
    (ThemeToken::BorderUnfocused, "border_unfocused"),
    (ThemeToken::Title, "title"),
    (ThemeToken::Heading, "heading"),
    (ThemeToken::FieldName, "field_name"),
    (ThemeToken::Breadcrumb, "breadcrumb"),
    (ThemeToken::HintKey, "hint_key"),
    (ThemeToken::HintDesc, "hint_desc"),
    (ThemeToken::Statusbar, "statusbar"),
    (ThemeToken::Error, "error"),
    (ThemeToken::Warning, "warning"),
    (ThemeToken::Toast, "toast"),
];

impl ThemeToken {
    pub fn name(self) -> &'static str {
        TOKENS[self as usize].1
    }

    pub fn from_name(name: &str) -> Option<ThemeToken> {
        TOKENS.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }
}

/// The built-in themes, by name.
pub const BUILTIN: [(&str, &str); 4] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

pub const DEFAULT_THEME: &str = "dark";

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    styles: [Style; TOKENS.len()],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    tokens: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown theme {0:?} (built-in: dark, light, high-contrast, mono)")]
    Unknown(String),
    #[error("theme {theme}: {detail}")]
    Invalid { theme: String, detail: String },
}

impl Theme {
    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Result<Theme, ThemeError> {
        let (_, text) =
            BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| ThemeError::Unknown(name.to_string()))?;
        Theme::parse(text)
    }

    /// The theme to start with: `NO_COLOR` (non-empty) forces mono whatever was asked for.
    pub fn resolve(requested: Option<&str>, no_color: bool) -> Result<Theme, ThemeError> {
        if no_color {
            return Theme::builtin("mono");
        }
        Theme::builtin(requested.unwrap_or(DEFAULT_THEME))
    }

    /// Parses a complete theme file: every token must be present.
    pub fn parse(text: &str) -> Result<Theme, ThemeError> {
        let file: ThemeFile = toml::from_str(text)
            .map_err(|e| ThemeError::Invalid { theme: "?".into(), detail: e.message().to_string() })?;
        let invalid = |detail: String| ThemeError::Invalid { theme: file.name.clone(), detail };
        let mut styles = [Style::new(); TOKENS.len()];
        let mut seen = [false; TOKENS.len()];
        for (name, spec) in &file.tokens {
            let token = ThemeToken::from_name(name).ok_or_else(|| invalid(format!("unknown token {name:?}")))?;
            styles[token as usize] = parse_style(spec).map_err(|e| invalid(format!("token {name}: {e}")))?;
            seen[token as usize] = true;
        }
        if let Some(missing) = TOKENS.iter().find(|(t, _)| !seen[*t as usize]) {
            return Err(invalid(format!("token {} is not defined", missing.1)));
        }
        Ok(Theme { name: file.name, styles })
    }

    pub fn style(&self, token: ThemeToken) -> Style {
        self.styles[token as usize]
    }

    pub fn set(&mut self, token: ThemeToken, style: Style) {
        self.styles[token as usize] = style;
    }
}

/// `"yellow bold"`, `"black on lightgreen"`, `"#ff8700 underlined"`, `"reversed"`, `"default"`.
pub fn parse_style(spec: &str) -> Result<Style, String> {
    let mut style = Style::new();
    let mut words = spec.split_whitespace();
    while let Some(word) = words.next() {
        let lower = word.to_ascii_lowercase();
        style = match lower.as_str() {
            "default" | "none" => style,
            "bold" => style.add_modifier(Modifier::BOLD),
            "dim" => style.add_modifier(Modifier::DIM),
            "italic" => style.add_modifier(Modifier::ITALIC),
            "underlined" | "underline" => style.add_modifier(Modifier::UNDERLINED),
            "reversed" | "reverse" => style.add_modifier(Modifier::REVERSED),
            "crossed_out" | "strikethrough" => style.add_modifier(Modifier::CROSSED_OUT),
            "on" => {
                let bg = words.next().ok_or("\"on\" needs a colour after it")?;
                style.bg(parse_color(bg)?)
            }
            _ => style.fg(parse_color(word)?),
        };
    }
    Ok(style)
}

fn parse_color(word: &str) -> Result<Color, String> {
    Color::from_str(word).map_err(|_| format!("{word:?} is not a colour or a modifier"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses_and_defines_every_token() {
        for (name, text) in BUILTIN {
            let theme = Theme::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(theme.name, name);
        }
    }

    #[test]
    fn token_table_matches_the_enum() {
        for (i, (token, name)) in TOKENS.iter().enumerate() {
            assert_eq!(*token as usize, i, "{name}");
            assert_eq!(ThemeToken::from_name(name), Some(*token));
        }
    }

    #[test]
    fn mono_has_no_colour_and_selection_is_reversed() {
        let mono = Theme::builtin("mono").unwrap();
        for (token, name) in TOKENS {
            let s = mono.style(token);
            assert!(s.fg.is_none() && s.bg.is_none(), "{name} has a colour in mono");
        }
        for (name, _) in BUILTIN {
            let t = Theme::builtin(name).unwrap();
            let sel = t.style(ThemeToken::Selection);
            assert!(sel.add_modifier.contains(Modifier::REVERSED) || sel.bg.is_some(), "{name}");
        }
    }

    #[test]
    fn no_color_forces_mono() {
        assert_eq!(Theme::resolve(Some("light"), true).unwrap().name, "mono");
        assert_eq!(Theme::resolve(None, false).unwrap().name, "dark");
        assert!(matches!(Theme::resolve(Some("neon"), false), Err(ThemeError::Unknown(_))));
    }

    #[test]
    fn a_theme_missing_a_token_is_refused() {
        let err = Theme::parse("name = \"x\"\n[tokens]\ntext = \"red\"\n").unwrap_err();
        assert!(err.to_string().contains("is not defined"), "{err}");
    }

    #[test]
    fn style_specs() {
        let s = parse_style("black on lightgreen bold").unwrap();
        assert_eq!(s.fg, Some(Color::Black));
        assert_eq!(s.bg, Some(Color::LightGreen));
        assert!(s.add_modifier.contains(Modifier::BOLD));
        assert_eq!(parse_style("#ff8700").unwrap().fg, Some(Color::Rgb(0xff, 0x87, 0)));
        assert!(parse_style("sparkly").is_err());
        assert!(parse_style("red on").is_err());
    }
}
