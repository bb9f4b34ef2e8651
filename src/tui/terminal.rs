//! The terminal guard: raw mode, alternate screen and (optionally) mouse capture on entry; all of
//! it undone on drop, on panic (the hook runs before the message prints, and release builds
//! may abort without unwinding), and when the loop ends on SIGTERM/SIGHUP.

use std::io::{self, Stdout, Write};
use std::sync::Once;

use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture};
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

pub struct TerminalGuard {
    /// Never dropped: ratatui's drop shows the cursor and, when that write fails (the terminal
    /// hung up), reports it with `eprintln!`, which panics on a closed stderr. [`restore`]
    /// does the showing instead, ignoring errors; the few bytes of buffers go with the process.
    pub terminal: std::mem::ManuallyDrop<Term>,
    mouse: bool,
}

static HOOK: Once = Once::new();

fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Puts the terminal back the way a shell expects it. Never fails, never panics: it runs from
/// the panic hook.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(out, DisableMouseCapture, DisableBracketedPaste, LeaveAlternateScreen, cursor::Show);
    let _ = disable_raw_mode();
    let _ = out.flush();
}

impl TerminalGuard {
    pub fn enter(mouse: bool) -> io::Result<Self> {
        install_panic_hook();
        enable_raw_mode()?;
        let mut out = io::stdout();
        // Bracketed paste: a pasted denial arrives whole, its newlines not taken for Enter.
        let entered = execute!(out, EnterAlternateScreen, cursor::Hide, EnableBracketedPaste)
            .and_then(|_| if mouse { execute!(out, EnableMouseCapture) } else { Ok(()) })
            .and_then(|_| Terminal::new(CrosstermBackend::new(io::stdout())));
        match entered {
            Ok(terminal) => Ok(TerminalGuard { terminal: std::mem::ManuallyDrop::new(terminal), mouse }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    pub fn set_mouse(&mut self, on: bool) -> io::Result<()> {
        if on != self.mouse {
            let out = self.terminal.backend_mut();
            if on {
                execute!(out, EnableMouseCapture)?
            } else {
                execute!(out, DisableMouseCapture)?
            }
            self.mouse = on;
        }
        Ok(())
    }
}

impl TerminalGuard {
    /// Ctrl-Z: puts the terminal back, stops the process as the shell's job control expects,
    /// and takes the terminal again after `fg`. Raw mode turns off the terminal's own Ctrl-Z,
    /// so sigscope has to send itself the stop signal.
    #[cfg(unix)]
    pub fn suspend(&mut self) -> io::Result<()> {
        restore();
        // SAFETY: raise() with a valid signal number has no memory-safety preconditions; it
        // returns once the process is continued.
        if unsafe { libc::raise(libc::SIGTSTP) } != 0 {
            let e = io::Error::last_os_error();
            self.resume()?;
            return Err(e);
        }
        self.resume()
    }

    #[cfg(not(unix))]
    pub fn suspend(&mut self) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "suspending needs a Unix job-control shell"))
    }

    fn resume(&mut self) -> io::Result<()> {
        enable_raw_mode()?;
        let mut out = io::stdout();
        execute!(out, EnterAlternateScreen, cursor::Hide, EnableBracketedPaste)?;
        if self.mouse {
            execute!(out, EnableMouseCapture)?;
        }
        // The shell drew over the screen: the next frame must paint every cell. Not
        // `Terminal::clear`, which asks the terminal for the cursor position, and the answer
        // would be eaten by the input reader: wipe the screen, then tell ratatui it is blank
        // by drawing a blank frame, so the next real frame writes every cell.
        execute!(out, Clear(ClearType::All))?;
        self.terminal.draw(|f| f.render_widget(ratatui::widgets::Clear, f.area()))?;
        Ok(())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}
