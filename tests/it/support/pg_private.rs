//! A PostgreSQL server of one test's own (unlike [`super::postgres`], shared by the whole
//! process), so the test can stop it and start it again on the same port, e.g. to see how
//! vcsgate lives through a store outage. Trust authentication, loopback only; stopped and
//! removed on drop, and by a watchdog if the test process dies.

use std::path::PathBuf;
use std::process::Stdio;

use super::postgres::{find_bin_dir, free_port, is_root, run, spawn_watchdog, tool};

pub struct PrivatePostgres {
    bin: PathBuf,
    /// Holds `data/`, the socket and `log`.
    dir: PathBuf,
    port: u16,
    as_root: bool,
}

impl PrivatePostgres {
    /// initdb into a new directory and start the server on a free loopback port.
    pub fn start() -> PrivatePostgres {
        let bin = find_bin_dir();
        let as_root = is_root();
        let dir = tempfile::Builder::new()
            .prefix("vcsgate-pgown-")
            .tempdir()
            .expect("create a temp dir for PostgreSQL")
            .keep();
        if as_root {
            run(std::process::Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(&dir));
        }
        spawn_watchdog(&bin, &dir, &dir.join("data"), as_root);
        run(tool(&bin, "initdb", as_root)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync")
            .arg("-D")
            .arg(dir.join("data"))
            .stdout(Stdio::null()));
        let mut server = PrivatePostgres {
            bin,
            dir,
            port: 0,
            as_root,
        };
        for _attempt in 0..3 {
            server.port = free_port();
            if server.try_start() {
                return server;
            }
        }
        panic!(
            "private PostgreSQL did not start; its log:\n{}",
            server.log()
        );
    }

    fn try_start(&self) -> bool {
        let options = format!(
            "-k {} -p {} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off",
            self.dir.display(),
            self.port
        );
        tool(&self.bin, "pg_ctl", self.as_root)
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Starts the stopped server again on the same port.
    #[track_caller]
    pub fn start_again(&self) {
        assert!(
            self.try_start(),
            "private PostgreSQL did not start again on port {}; its log:\n{}",
            self.port,
            self.log()
        );
    }

    /// Stops the server (`pg_ctl stop -m fast`: open sessions are ended) and waits for it.
    #[track_caller]
    pub fn stop(&self) {
        let status = tool(&self.bin, "pg_ctl", self.as_root)
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-w", "-t", "60", "-m", "fast", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "private PostgreSQL did not stop; its log:\n{}",
            self.log()
        );
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://USER@127.0.0.1:PORT/DATABASE` (the `postgres` database always exists).
    pub fn url(&self, user: &str, database: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{database}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = tool(&self.bin, "pg_ctl", self.as_root)
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
