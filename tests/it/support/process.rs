//! Running programs: one-shot commands with a timeout and captured output, and daemons that
//! are stopped (TERM, then KILL of their whole process group) when dropped.

use std::fmt;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::tools;

/// How long one client command (a clone, a push, a CLI call) may take before it is killed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a daemon gets to exit after SIGTERM before its process group is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(10);

/// What a finished command printed and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    pub program: String,
    /// Exit code; `None` when killed by a signal (or by the timeout).
    pub code: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Returns self when the command succeeded, fails the test with its output otherwise.
    #[track_caller]
    pub fn assert_ok(self) -> Self {
        assert!(self.ok(), "expected success, got:\n{self}");
        self
    }

    /// Returns self when the command failed (without timing out), fails the test otherwise.
    #[track_caller]
    pub fn assert_failed(self) -> Self {
        assert!(
            !self.ok() && !self.timed_out,
            "expected a failure, got:\n{self}"
        );
        self
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match (self.timed_out, self.code) {
            (true, _) => format!("was killed after {COMMAND_TIMEOUT:?}"),
            (false, Some(code)) => format!("exited with {code}"),
            (false, None) => "was killed by a signal".to_string(),
        };
        write!(
            f,
            "`{}` {how}\n--- stdout\n{}\n--- stderr\n{}",
            self.program, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` to completion (stdin closed) in its own process group, killing the group
/// after [`COMMAND_TIMEOUT`].
#[track_caller]
pub fn run(cmd: &mut Command) -> Output {
    run_with_timeout(cmd, COMMAND_TIMEOUT)
}

#[track_caller]
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let program = describe(cmd);
    tools::kill(); // fails now, naming the package, rather than hanging at the timeout
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().ok().flatten() {
            break Some(status);
        }
        if start.elapsed() > timeout {
            timed_out = true;
            signal_group(child.id(), "KILL");
            break child.wait().ok();
        }
        thread::sleep(POLL);
    };
    // Helpers a client left behind (git-remote-http, ssh…) would keep the pipes open.
    signal_group(child.id(), "KILL");
    Output {
        program,
        code: status.and_then(|s| s.code()),
        timed_out,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn describe(cmd: &Command) -> String {
    let mut words = vec![cmd.get_program().to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

/// Sends `signal` (a name such as `TERM`) to one process.
pub fn signal(pid: u32, signal: &str) {
    let _ = Command::new(tools::kill())
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// Sends `signal` to every process of the group led by `pgid`.
pub fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new(tools::kill())
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .stderr(Stdio::null())
        .status();
}

/// A long-running process (a server), started in its own process group and stopped on drop.
pub struct Daemon {
    name: String,
    child: Child,
}

impl Daemon {
    /// Starts `cmd` with stdin closed; the caller sets stdout/stderr (usually log files).
    #[track_caller]
    pub fn spawn(name: &str, cmd: &mut Command) -> Daemon {
        tools::kill(); // a daemon that cannot be stopped would hang the test run
        cmd.stdin(Stdio::null()).process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({}): {e}", describe(cmd)));
        Daemon {
            name: name.to_string(),
            child,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has already ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM, wait up to [`STOP_GRACE`], then SIGKILL to the whole group.
    pub fn stop(&mut self) {
        if self.exited().is_none() {
            signal(self.child.id(), "TERM");
            let start = Instant::now();
            while self.exited().is_none() && start.elapsed() < STOP_GRACE {
                thread::sleep(POLL);
            }
            if self.exited().is_none() {
                eprintln!("{} did not stop after SIGTERM; killing it", self.name);
            }
        }
        signal_group(self.child.id(), "KILL");
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}
