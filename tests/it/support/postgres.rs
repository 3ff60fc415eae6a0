//! A throwaway PostgreSQL for the tests: one server per test process, started on first use
//! (initdb into a temp dir, `pg_ctl start` on a free loopback port and a private socket
//! directory), and one fresh database per test. A detached watchdog stops the server and
//! removes its directory once the test process is gone, however it ended.
//!
//! PostgreSQL refuses to run as root: as root, the directory is handed to the `postgres`
//! user and the tools run through `runuser -u postgres`.

#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, PgConnection};

/// A running server.
pub struct Server {
    /// Holds the data directory, the log and the socket.
    dir: PathBuf,
    port: u16,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

impl Server {
    /// The URL of `database` over TCP, as the superuser (trust authentication).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The URL of `database` over the server's Unix socket (`?host=/sockdir`).
    pub fn socket_url(&self, database: &str) -> String {
        format!(
            "postgres:///{database}?user=postgres&host={}&port={}",
            self.dir.display(),
            self.port
        )
    }
}

/// The process-wide server, started on first use. Panics (failing the test) with what to
/// install or what went wrong.
pub fn server() -> &'static Server {
    SERVER.get_or_init(start)
}

/// A new, empty database on the shared server; returns its name.
pub async fn fresh_database() -> String {
    let server = server();
    let name = format!(
        "t{}_{}",
        std::process::id(),
        NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = PgConnection::connect(&server.url("postgres"))
        .await
        .expect("connect to the test PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    admin.close().await.expect("close the admin connection");
    name
}

fn start() -> Server {
    let bin = find_bin_dir();
    let as_root = is_root();
    let dir = tempfile::Builder::new()
        .prefix("vcsgate-pg-")
        .tempdir()
        .expect("create a temp dir for PostgreSQL")
        .keep();
    let data = dir.join("data");
    if as_root {
        run(Command::new("chown")
            .arg("-R")
            .arg("postgres:postgres")
            .arg(&dir));
    }
    spawn_watchdog(&bin, &dir, &data, as_root);
    run(tool(&bin, "initdb", as_root)
        .args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .arg("-D")
        .arg(&data));
    for _attempt in 0..3 {
        let port = free_port();
        let options = format!(
            "-k {} -p {port} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300",
            dir.display()
        );
        let status = tool(&bin, "pg_ctl", as_root)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .stdout(Stdio::null())
            .status()
            .expect("run pg_ctl");
        if status.success() {
            return Server { dir, port };
        }
    }
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    panic!("PostgreSQL did not start; its log:\n{log}");
}

/// `/usr/lib/postgresql/<newest>/bin`, or a failure saying what to install.
pub(super) fn find_bin_dir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .max();
    match newest {
        Some((_, bin)) => bin,
        None => panic!(
            "no /usr/lib/postgresql/*/bin/initdb: install postgresql \
             (apt-get install postgresql) to run the PostgreSQL store tests"
        ),
    }
}

pub(super) fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A PostgreSQL tool, run as `postgres` when we are root.
pub(super) fn tool(bin: &Path, name: &str, as_root: bool) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(bin.join(name));
        command
    } else {
        Command::new(bin.join(name))
    }
}

pub(super) fn run(command: &mut Command) {
    let out = command.output().expect("start a PostgreSQL setup command");
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The harness's one allocator ([`super::ports::free_port`]).
pub(super) fn free_port() -> u16 {
    super::ports::free_port()
}

/// Leaves behind a watchdog (in its own process group, so Ctrl-C on the tests does not kill
/// it first) that waits for this process to end, then stops the server and removes its
/// directory. The shell started here backgrounds it and exits at once (no zombie).
pub(super) fn spawn_watchdog(bin: &Path, dir: &Path, data: &Path, as_root: bool) {
    let pg_ctl = bin.join("pg_ctl");
    let stop = if as_root {
        format!("runuser -u postgres -- '{}'", pg_ctl.display())
    } else {
        format!("'{}'", pg_ctl.display())
    };
    let script = format!(
        "(while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
         {stop} -D '{data}' -m immediate stop; rm -rf '{dir}') &",
        pid = std::process::id(),
        data = data.display(),
        dir = dir.display(),
    );
    let status = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .status()
        .expect("start the PostgreSQL watchdog");
    assert!(status.success(), "the PostgreSQL watchdog did not start");
}

/// A fresh database's URL, for tests that are not async (they hand it to `vcsgate` processes).
pub fn fresh_database_url() -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build a runtime to create a test database");
    let name = runtime.block_on(fresh_database());
    server().url(&name)
}
