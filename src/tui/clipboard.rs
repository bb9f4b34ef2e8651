//! Copying through the terminal (OSC 52), which also works over SSH. The sequence is sent
//! plain, also inside tmux: tmux 3.3+ drops a DCS passthrough unless `allow-passthrough` is on,
//! but forwards a plain OSC 52 itself when `set-clipboard` is `on` (or `external`, its default,
//! where the outer terminal allows it). Nothing comes back to say the copy landed, so the UI
//! says the text was *sent*, never that it was copied.

use base64::Engine as _;

/// Largest encoded payload we send; terminals drop longer ones silently (k9s uses the same cap).
pub const MAX_ENCODED: usize = 74_994;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClipboardError {
    #[error("{0} bytes is too much to copy through the terminal")]
    TooLarge(usize),
}

/// The escape sequence that puts `text` on the clipboard.
pub fn osc52(text: &str) -> Result<String, ClipboardError> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    if encoded.len() > MAX_ENCODED {
        return Err(ClipboardError::TooLarge(text.len()));
    }
    Ok(format!("\x1b]52;c;{encoded}\x07"))
}

/// Writes the sequence to the terminal.
pub fn copy(out: &mut impl std::io::Write, text: &str) -> anyhow::Result<()> {
    out.write_all(osc52(text)?.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_sequence() {
        assert_eq!(osc52("hi").unwrap(), "\x1b]52;c;aGk=\x07");
    }

    /// Whatever the environment says (TMUX set or not), what reaches the terminal is the plain
    /// sequence: a tmux passthrough wrapper is dropped by tmux 3.3's default settings.
    #[test]
    fn copy_writes_plain_osc52_even_under_tmux() {
        let mut out = Vec::new();
        copy(&mut out, "sha256:abc").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "\x1b]52;c;c2hhMjU2OmFiYw==\x07");
        assert!(!text.contains("\x1bP"), "no DCS passthrough");
    }

    #[test]
    fn size_is_capped() {
        assert!(osc52(&"a".repeat(MAX_ENCODED / 4 * 3)).is_ok());
        assert!(matches!(osc52(&"a".repeat(60_000)), Err(ClipboardError::TooLarge(60_000))));
    }
}
