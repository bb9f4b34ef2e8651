//! The demo's private trust-policy directory (`$TMPDIR/sigscope-demo-PID-N`) is removed however
//! the TUI ends (issue 8, CLI): on SIGTERM, on SIGHUP, and when the terminal itself goes away
//! (the kernel's SIGHUP, after which every write to the terminal fails). The real binary in a
//! real terminal: a tmux server of the test's own, so closing it closes only this terminal.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server on its own socket running the binary on the demo, with a TMPDIR of its own.
struct Terminal {
    socket: String,
    tmp: tempfile::TempDir,
    pid: u32,
}

impl Terminal {
    fn start(name: &str) -> Terminal {
        assert!(
            Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()),
            "tmux is not installed; this test needs it: apt-get install -y tmux"
        );
        let socket = format!("sigscope-signals-{}-{name}", std::process::id());
        let tmp = tempfile::tempdir().unwrap();
        // `exec`: the pane's process is sigscope itself, so its pid is the pane's.
        let command = format!("exec {}", env!("CARGO_BIN_EXE_sigscope"));
        let ok = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", &command])
            .env("TMPDIR", tmp.path())
            .env("NO_COLOR", "1")
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session");
        let out = Command::new("tmux").args(["-L", &socket, "display", "-p", "#{pane_pid}"]).output().unwrap();
        let pid = String::from_utf8_lossy(&out.stdout).trim().parse().expect("the pane's pid");
        Terminal { socket, tmp, pid }
    }

    /// The demo's directory, once the TUI has written it.
    fn demo_dir(&self) -> PathBuf {
        wait("the demo's notation directory", || {
            std::fs::read_dir(self.tmp.path())
                .unwrap()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("sigscope-demo-"))
                .filter(|p| p.join("trustpolicy.oci.json").is_file())
        })
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux").args(["-L", &self.socket, "capture-pane", "-p"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn signal(&self, name: &str) {
        assert!(Command::new("kill").args(["-s", name, &self.pid.to_string()]).status().unwrap().success());
    }

    fn close(&self) {
        // Quiet: the server is gone already when sigscope, its only pane, has ended.
        let _ =
            Command::new("tmux").args(["-L", &self.socket, "kill-server"]).stderr(std::process::Stdio::null()).status();
    }

    fn wait_exit(&self) {
        let proc = PathBuf::from(format!("/proc/{}", self.pid));
        wait("sigscope to exit", || (!alive(&proc)).then_some(()));
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.close();
    }
}

/// A process that has ended (or is a zombie waiting for its parent) is not alive.
fn alive(proc: &Path) -> bool {
    std::fs::read_to_string(proc.join("stat"))
        .map(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
        .unwrap_or(false)
}

/// Polls `f` until it answers; fails after 20 s (a bound against hanging, not a timing check).
fn wait<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ended_cleanly(how: &str, end: impl FnOnce(&Terminal)) {
    let t = Terminal::start(how);
    let dir = t.demo_dir();
    // Drawn: the handlers are in place before anything is asked of it.
    wait("the first frame", || t.screen().contains("demo").then_some(()));
    end(&t);
    t.wait_exit();
    assert!(!dir.exists(), "{how}: {} is left behind", dir.display());
}

#[test]
fn sigterm_removes_the_demo_directory() {
    ended_cleanly("term", |t| t.signal("TERM"));
}

#[test]
fn sighup_removes_the_demo_directory() {
    ended_cleanly("hup", |t| t.signal("HUP"));
}

#[test]
fn a_terminal_that_goes_away_removes_the_demo_directory() {
    ended_cleanly("closed", |t| t.close());
}
