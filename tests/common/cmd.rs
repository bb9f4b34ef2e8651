//! The real binary, run by the tests as a user would: never with the machine's docker
//! credentials (`DOCKER_CONFIG` names a directory that does not exist), stdin closed unless a
//! test writes to it, stdout and stderr kept whole. A run may be bounded: a virtual-memory and
//! file-size cap (an unbounded read or write dies of it instead of taking the test machine
//! down) and a wall-clock bound after which it is killed (a hang fails the test, it does not
//! block the suite; a generous bound that proves "no hang", not speed).

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A docker config directory that does not exist: no test sees the machine's credentials.
pub const NO_DOCKER_CONFIG: &str = "/nonexistent/sigscope-test-docker-config";

/// What a run of the binary left.
pub struct Run {
    /// The exit code; `Some(-1)` when a signal ended it, `None` when it was killed after the
    /// wall-clock bound (it hung).
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    /// stdout as text, invalid UTF-8 replaced.
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stdout, which must be UTF-8.
    pub fn utf8_out(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    /// Ended on its own (not killed after the bound, not by a signal).
    pub fn ended(&self) {
        assert!(self.code.is_some(), "hung (killed after its wall-clock bound); stderr: {}", self.stderr);
        assert_ne!(self.code, Some(-1), "killed by a signal; stderr: {}", self.stderr);
    }

    /// Ended on its own, with a failure exit code.
    pub fn failed(&self) -> bool {
        matches!(self.code, Some(c) if c != 0)
    }

    /// `(exit code, stdout, stderr)`, for tests that compare all three.
    pub fn parts(self) -> (i32, String, String) {
        (self.code.unwrap_or(-1), self.out(), self.stderr)
    }
}

/// Caps for a bounded run.
#[derive(Clone, Copy)]
pub struct Limits {
    /// `ulimit -v`, in KiB.
    pub memory_kib: Option<u64>,
    /// `ulimit -f`, in 1 KiB blocks.
    pub file_blocks: Option<u64>,
    /// Killed when still running after this long.
    pub hang: Duration,
}

/// A run of the binary being set up: [`sigscope`] then options, then [`Bin::run`].
pub struct Bin {
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    private_cache: bool,
    limits: Option<Limits>,
}

/// The binary with `args`.
pub fn sigscope(args: &[&str]) -> Bin {
    Bin {
        args: args.iter().map(OsString::from).collect(),
        env: Vec::new(),
        stdin: None,
        private_cache: false,
        limits: None,
    }
}

impl Bin {
    /// One more argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Bin {
        self.args.push(arg.into());
        self
    }

    /// An environment variable (over the defaults, `DOCKER_CONFIG` among them).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Bin {
        self.env.push((key.into(), value.into()));
        self
    }

    /// `input` on stdin, then closed.
    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Bin {
        self.stdin = Some(input.as_ref().to_vec());
        self
    }

    /// Logs in as `user`: `--username user --password-stdin`, the password on stdin.
    pub fn login(self, user: &str, password: &str) -> Bin {
        self.arg("--username").arg(user).arg("--password-stdin").stdin(password)
    }

    /// A cache directory (`XDG_CACHE_HOME`) of this run's own, removed after it: no run sees
    /// another's cached CRLs, nor the user's.
    pub fn private_cache(mut self) -> Bin {
        self.private_cache = true;
        self
    }

    /// Caps memory and file size and kills the run after `limits.hang`.
    pub fn bounded(mut self, limits: Limits) -> Bin {
        self.limits = Some(limits);
        self
    }

    pub fn run(self) -> Run {
        // Output goes to files, so a chatty run cannot fill a pipe and stall while we wait.
        let tmp = tempfile::tempdir().unwrap();
        let (o, e) = (tmp.path().join("stdout"), tmp.path().join("stderr"));
        let mut cmd = self.command(tmp.path());
        cmd.stdout(std::fs::File::create(&o).unwrap()).stderr(std::fs::File::create(&e).unwrap());
        let mut child = cmd.spawn().expect("run sigscope");
        if let Some(input) = &self.stdin {
            // The binary may end before reading it all (a refused login): that is its answer.
            let _ = child.stdin.take().unwrap().write_all(input);
        }
        let code = match self.limits {
            None => Some(child.wait().unwrap().code().unwrap_or(-1)),
            Some(limits) => wait_bounded(&mut child, limits.hang),
        };
        Run {
            code,
            stdout: std::fs::read(&o).unwrap(),
            stderr: String::from_utf8_lossy(&std::fs::read(&e).unwrap()).into_owned(),
        }
    }

    /// `(exit code, stdout, stderr)` of [`Bin::run`].
    pub fn output(self) -> (i32, String, String) {
        self.run().parts()
    }

    fn command(&self, tmp: &Path) -> Command {
        let bin = env!("CARGO_BIN_EXE_sigscope");
        let mut cmd = match &self.limits {
            None => Command::new(bin),
            Some(limits) => {
                let mut caps = String::new();
                if let Some(kib) = limits.memory_kib {
                    caps.push_str(&format!("ulimit -v {kib}; "));
                }
                if let Some(blocks) = limits.file_blocks {
                    caps.push_str(&format!("ulimit -f {blocks}; "));
                }
                let mut sh = Command::new("sh");
                sh.arg("-c").arg(format!("{caps}exec \"$0\" \"$@\"")).arg(bin);
                sh
            }
        };
        cmd.args(&self.args).env("DOCKER_CONFIG", NO_DOCKER_CONFIG);
        if self.private_cache {
            cmd.env("XDG_CACHE_HOME", tmp.join("cache"));
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd
    }
}

/// The exit code, `Some(-1)` for a signal, `None` (and killed) when still running after `hang`.
fn wait_bounded(child: &mut std::process::Child, hang: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        if start.elapsed() > hang {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
