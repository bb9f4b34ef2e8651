//! Registry-supplied text never reaches the terminal raw: control characters, escape sequences
//! and bidi overrides are shown escaped (`\x1b`, `\u{202e}`), never emitted.

use std::borrow::Cow;

fn is_unsafe(c: char) -> bool {
    c.is_control() // C0, DEL and C1 (which includes the 8-bit CSI U+009B)
        || matches!(
            c,
            '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        )
}

/// One display line: every unsafe character, newlines included, becomes a visible escape.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Multi-line text (pretty JSON): line breaks are kept, everything else unsafe is escaped.
pub fn sanitize_lines(s: &str) -> Vec<String> {
    s.lines().map(|l| sanitize(l).into_owned()).collect()
}

fn push_escape(out: &mut String, c: char) {
    use std::fmt::Write;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// At most `max` characters, with an ellipsis when cut.
pub fn clip(s: &str, max: usize) -> Cow<'_, str> {
    if s.chars().count() <= max {
        Cow::Borrowed(s)
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        Cow::Owned(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(sanitize("plain tag v1.2"), "plain tag v1.2");
        assert_eq!(sanitize("\x1b]52;c;aGk=\x07"), "\\x1b]52;c;aGk=\\x07");
        assert_eq!(sanitize("a\u{9b}31mb"), "a\\x9b31mb");
        assert_eq!(sanitize("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(sanitize("two\nlines"), "two\\nlines");
        assert!(sanitize_lines("{\n  \"a\": \"\x1b[2J\"\n}").iter().all(|l| !l.contains('\x1b')));
    }

    #[test]
    fn clips() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
