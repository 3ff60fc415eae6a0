//! A throw-away certificate authority and a server certificate for 127.0.0.1, made with the
//! `openssl` command line.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::process;
use super::tools;

pub struct TestPki {
    dir: TempDir,
}

impl TestPki {
    /// A CA (`ca.pem`) and a server certificate (`server.pem`, key `server.key`, PKCS#8)
    /// for `127.0.0.1` and `localhost`, valid for two days.
    pub fn generate() -> TestPki {
        let dir = tempfile::Builder::new()
            .prefix("vcsgate-tls-")
            .tempdir()
            .expect("create TLS dir");
        let d = dir.path();
        let ext = "basicConstraints=critical,CA:FALSE\n\
                   keyUsage=critical,digitalSignature,keyEncipherment\n\
                   extendedKeyUsage=serverAuth\n\
                   subjectAltName=IP:127.0.0.1,DNS:localhost\n";
        fs::write(d.join("server.ext"), ext).expect("write server.ext");
        openssl(
            d,
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
             -keyout ca.key -out ca.pem -days 2 -subj /CN=vcsgate-test-CA \
             -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign,cRLSign",
        );
        openssl(
            d,
            "req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
             -keyout server.key -out server.csr -subj /CN=127.0.0.1",
        );
        openssl(
            d,
            "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
             -out server.pem -days 2 -extfile server.ext",
        );
        TestPki { dir }
    }

    pub fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn server_cert(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    pub fn server_key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }
}

/// Runs `openssl ARGS` (whitespace-separated) in `dir`.
fn openssl(dir: &Path, args: &str) {
    let mut cmd = Command::new(tools::openssl());
    cmd.args(args.split_whitespace()).current_dir(dir);
    process::run(&mut cmd).assert_ok();
}
