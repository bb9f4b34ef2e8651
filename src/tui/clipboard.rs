//! Copying through the terminal (OSC 52), which also works over SSH. Inside tmux the sequence is
//! wrapped in a DCS passthrough, or tmux would swallow it.

use base64::Engine as _;

/// Largest encoded payload we send; terminals drop longer ones silently (k9s uses the same cap).
pub const MAX_ENCODED: usize = 74_994;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClipboardError {
    #[error("{0} bytes is too much to copy through the terminal")]
    TooLarge(usize),
}

/// The escape sequence that puts `text` on the clipboard.
pub fn osc52(text: &str, tmux: bool) -> Result<String, ClipboardError> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    if encoded.len() > MAX_ENCODED {
        return Err(ClipboardError::TooLarge(text.len()));
    }
    let seq = format!("\x1b]52;c;{encoded}\x07");
    Ok(if tmux { format!("\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b")) } else { seq })
}

/// Whether we run inside tmux, judged the way tmux itself advertises it.
pub fn in_tmux() -> bool {
    std::env::var_os("TMUX").is_some_and(|v| !v.is_empty())
}

/// Writes the sequence to the terminal.
pub fn copy(out: &mut impl std::io::Write, text: &str) -> anyhow::Result<()> {
    out.write_all(osc52(text, in_tmux())?.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_sequence() {
        assert_eq!(osc52("hi", false).unwrap(), "\x1b]52;c;aGk=\x07");
    }

    #[test]
    fn tmux_passthrough_doubles_inner_escapes() {
        assert_eq!(osc52("hi", true).unwrap(), "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\");
    }

    #[test]
    fn size_is_capped() {
        assert!(osc52(&"a".repeat(MAX_ENCODED / 4 * 3), false).is_ok());
        assert!(matches!(osc52(&"a".repeat(60_000), false), Err(ClipboardError::TooLarge(60_000))));
    }
}
