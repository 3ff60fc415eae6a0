//! Token expiry notices (API.md "Lifecycle policy"), end to end: a real `vcsgate serve` with
//! `[notify]` pointing at a loopback webhook receiver and a loopback SMTP sink written here
//! (`support::webhook`, `support::smtp`). Tokens are created with `--expires` a few days or
//! hours ahead and the server scans every second (`scan_interval_secs = 1`), so nothing
//! waits for days.

use std::collections::BTreeSet;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::postgres;
use crate::support::process::Output;
use crate::support::smtp::Sink;
use crate::support::tls::TestPki;
use crate::support::vcsgate::{Gate, GateConfig};
use crate::support::webhook::{Received, Receiver};
use crate::support::{poll, secrets};

const WEBHOOK_SECRET: &str = "whsec-3f9a0c1d77e2b4a8";
const SMTP_PASSWORD: &str = "smtp-pw-81c0ffee4d2a";
const FROM: &str = "vcsgate@example.com";
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Long enough for several scans (one a second) after the last expected delivery.
const QUIET: Duration = Duration::from_secs(4);

/// An RFC 3339 time `secs` from now (whole seconds, `Z`), as `--expires` takes it and the
/// notice's `expires_at` shows it.
fn from_now(secs: i64) -> String {
    let at = OffsetDateTime::now_utc().unix_timestamp() + secs;
    OffsetDateTime::from_unix_timestamp(at)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// Files holding the webhook secret and the SMTP password, registered with the leak scan.
struct SecretFiles {
    dir: tempfile::TempDir,
}

impl SecretFiles {
    fn new() -> SecretFiles {
        secrets::remember(WEBHOOK_SECRET);
        secrets::remember(SMTP_PASSWORD);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("webhook.secret"),
            format!("{WEBHOOK_SECRET}\n"),
        )
        .unwrap();
        std::fs::write(dir.path().join("smtp.password"), SMTP_PASSWORD).unwrap();
        SecretFiles { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// `[notify]` for `hook` (signed) and, if given, `[notify.smtp]` for `sink`.
fn notify(hook: &Receiver, sink: Option<&Sink>, files: &SecretFiles) -> toml::Table {
    let mut table = toml::Table::new();
    table.insert(
        "webhook_url".into(),
        hook.url("/hooks/vcsgate?team=ops").into(),
    );
    table.insert(
        "webhook_secret_file".into(),
        files.path("webhook.secret").into(),
    );
    table.insert("scan_interval_secs".into(), 1.into());
    table.insert("retry_initial_secs".into(), 1.into());
    if let Some(sink) = sink {
        let mut smtp = toml::Table::new();
        smtp.insert("host".into(), "127.0.0.1".into());
        smtp.insert("port".into(), i64::from(sink.port()).into());
        smtp.insert("from".into(), format!("vcsgate <{FROM}>").into());
        smtp.insert("tls".into(), "none".into());
        smtp.insert("username".into(), "vcsgate".into());
        smtp.insert("password_file".into(), files.path("smtp.password").into());
        table.insert("smtp".into(), smtp.into());
    }
    table
}

/// `sha256=HEX` of `body` keyed with the webhook secret, computed here independently.
fn expected_signature(body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, WEBHOOK_SECRET.as_bytes());
    let tag = ring::hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Checks one webhook request's form and signature; returns (user, token, days_left).
#[track_caller]
fn checked(request: &Received, token_secrets: &[String]) -> (String, String, i64) {
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hooks/vcsgate?team=ops");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("x-vcsgate-signature"),
        Some(expected_signature(&request.body).as_str()),
        "signature of {}",
        String::from_utf8_lossy(&request.body)
    );
    let body = String::from_utf8_lossy(&request.body);
    for secret in token_secrets
        .iter()
        .map(String::as_str)
        .chain([WEBHOOK_SECRET])
    {
        assert!(
            !body.contains(secret),
            "a secret in the webhook body: {body}"
        );
    }
    let json = request.json();
    let object = json.as_object().unwrap();
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "event",
            "user",
            "token",
            "token_id",
            "expires_at",
            "days_left"
        ]),
        "{json}"
    );
    assert_eq!(json["event"], "token_expiring");
    let id = json["token_id"].as_str().expect("token_id is a string");
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
        "{json}"
    );
    (
        json["user"].as_str().unwrap().to_string(),
        json["token"].as_str().unwrap().to_string(),
        json["days_left"].as_i64().unwrap(),
    )
}

#[track_caller]
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let waited = poll::until(DELIVERY_TIMEOUT, Duration::from_millis(100), &mut done);
    assert!(waited.is_some(), "timed out waiting for {what}");
}

#[track_caller]
fn json_out(out: &Output) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
}

#[test]
fn one_notice_per_token_and_threshold_by_webhook_and_mail_also_after_a_restart() {
    let files = SecretFiles::new();
    let hook = Receiver::start(0);
    let sink = Sink::start();
    let config = GateConfig::new().section("notify", notify(&hook, Some(&sink), &files));
    let mut gate = Gate::new(config);
    gate.cli_ok(&["user", "add", "alice", "--email", "alice@example.com"]);
    gate.user_add("bob");
    let week_at = from_now(3 * DAY + HOUR);
    let day_at = from_now(12 * HOUR);
    let secrets = vec![
        gate.token(
            "alice",
            "ci",
            &["--scope", "read_repository", "--expires", &week_at],
        ),
        gate.token(
            "bob",
            "deploy",
            &["--scope", "read_repository", "--expires", &day_at],
        ),
        gate.token(
            "alice",
            "later",
            &[
                "--scope",
                "read_repository",
                "--expires",
                &from_now(30 * DAY),
            ],
        ),
        gate.token("alice", "forever", &["--scope", "read_repository"]),
    ];

    // What the notices will be about, as the CLI lists it.
    let listed = json_out(&gate.cli_ok(&["token", "expiring", "--json"]));
    assert_eq!(
        listed,
        serde_json::json!([
            {"user": "bob", "name": "deploy", "expires_at": day_at, "days_left": 0},
            {"user": "alice", "name": "ci", "expires_at": week_at, "days_left": 3},
        ])
    );
    let wider = json_out(&gate.cli_ok(&["token", "expiring", "--within", "31", "--json"]));
    assert_eq!(wider.as_array().unwrap().len(), 3, "{wider}");
    let table = gate.cli_ok(&["token", "expiring"]).stdout;
    assert!(
        table.starts_with("USER") && table.contains("deploy"),
        "{table}"
    );

    gate.serve();
    wait_for("two webhook notices and one mail", || {
        hook.accepted().len() >= 2 && !sink.mails().is_empty()
    });
    let seen: BTreeSet<(String, String, i64)> = hook
        .accepted()
        .iter()
        .map(|r| checked(r, &secrets))
        .collect();
    // A token already inside its last day gets only the last-day notice (days_left 0).
    assert_eq!(
        seen,
        BTreeSet::from([
            ("alice".to_string(), "ci".to_string(), 3),
            ("bob".to_string(), "deploy".to_string(), 0),
        ])
    );
    let expiry: BTreeSet<String> = hook
        .accepted()
        .iter()
        .map(|r| r.json()["expires_at"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(expiry, BTreeSet::from([week_at.clone(), day_at.clone()]));

    // Mail only for the user with an address, through AUTH with the configured password.
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.to, ["<alice@example.com>"]);
    assert_eq!(mail.from, format!("<{FROM}>"));
    assert_eq!(
        mail.auth,
        Some(("vcsgate".to_string(), SMTP_PASSWORD.to_string()))
    );
    let subject = mail.header("subject").unwrap();
    assert!(
        subject.contains("ci") && subject.contains("3 days"),
        "{subject}"
    );
    for secret in &secrets {
        assert!(
            !mail.data.contains(secret.as_str()),
            "a token secret in the mail"
        );
    }

    // Nothing more, however often the server scans, and nothing more after a restart.
    std::thread::sleep(QUIET);
    assert_eq!(hook.received().len(), 2);
    gate.stop();
    gate.serve();
    std::thread::sleep(QUIET);
    assert_eq!(hook.received().len(), 2, "{:?}", hook.received());
    assert_eq!(sink.mails().len(), 1);
    assert!(
        gate.log().contains("expiry notices enabled"),
        "{}",
        gate.log()
    );
    gate.stop();
}

#[test]
fn two_servers_on_one_postgres_send_each_notice_once() {
    let files = SecretFiles::new();
    let hook = Receiver::start(0);
    let sink = Sink::start();
    let url = postgres::fresh_database_url();
    let config = GateConfig::new()
        .store_url(&url)
        .section("notify", notify(&hook, Some(&sink), &files));
    let mut first = Gate::new(config.clone());
    let mut second = Gate::new(config);
    first.cli_ok(&["user", "add", "alice", "--email", "alice@example.com"]);
    let mut secrets = Vec::new();
    for n in 0..6 {
        let at = from_now(DAY + n * 12 * HOUR + HOUR);
        let name = format!("t{n}");
        secrets.push(first.token(
            "alice",
            &name,
            &["--scope", "read_repository", "--expires", &at],
        ));
    }
    first.serve();
    second.serve();
    wait_for("six webhook notices and six mails", || {
        hook.accepted().len() >= 6 && sink.mails().len() >= 6
    });
    std::thread::sleep(QUIET);
    let received = hook.received();
    assert_eq!(received.len(), 6, "{received:?}");
    let ids: BTreeSet<String> = received
        .iter()
        .map(|r| {
            checked(r, &secrets);
            r.json()["token_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 6, "a token was notified twice: {received:?}");
    let subjects: BTreeSet<String> = sink
        .mails()
        .iter()
        .map(|m| m.header("subject").unwrap())
        .collect();
    assert_eq!(sink.mails().len(), 6);
    assert_eq!(subjects.len(), 6, "{subjects:?}");
    first.stop();
    second.stop();
}

#[test]
fn a_failing_webhook_is_retried_and_then_delivered_once() {
    let files = SecretFiles::new();
    // 500 to the first two attempts.
    let hook = Receiver::start(2);
    let config = GateConfig::new().section("notify", notify(&hook, None, &files));
    let mut gate = Gate::new(config);
    gate.user_add("alice");
    let at = from_now(5 * DAY + HOUR);
    let secret = gate.token(
        "alice",
        "ci",
        &["--scope", "read_repository", "--expires", &at],
    );
    gate.serve();
    wait_for("the delivery after two failures", || {
        hook.accepted().len() == 1
    });
    std::thread::sleep(QUIET);
    let received = hook.received();
    let answered: Vec<u16> = received.iter().map(|r| r.answered).collect();
    assert_eq!(answered, [500, 500, 200]);
    for request in &received {
        assert_eq!(
            checked(request, std::slice::from_ref(&secret)),
            ("alice".to_string(), "ci".to_string(), 5)
        );
    }
    let log = gate.log();
    let retries: Vec<&str> = log.lines().filter(|l| l.contains("will retry")).collect();
    assert_eq!(retries.len(), 2, "{log}");
    assert!(
        retries.iter().all(|l| l.contains("500")),
        "the reason is logged: {retries:?}"
    );
    gate.stop();
}

#[test]
fn notify_config_errors_exit_64_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let check = |notify: &str| {
        let path = dir.path().join("proxy.toml");
        std::fs::write(
            &path,
            format!("version = 1\n[store]\nurl = \"sqlite://v.db\"\n{notify}"),
        )
        .unwrap();
        let gate_binary = std::env::var_os(crate::support::vcsgate::BINARY_OVERRIDE)
            .unwrap_or_else(|| crate::support::vcsgate::BINARY.into());
        crate::support::process::run(
            std::process::Command::new(gate_binary)
                .arg("--config")
                .arg(&path)
                .arg("check-config"),
        )
    };
    let secret_path = dir.path().join("pw");
    std::fs::write(&secret_path, "top-secret-password").unwrap();
    let cases = [
        (
            format!(
                "[notify.smtp]\nhost = \"mail.example.com\"\nfrom = \"a@example.com\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"{}\"\n",
                secret_path.display()
            ),
            "notify.smtp.tls",
        ),
        (
            "[notify]\nwebhook_url = \"gopher://x/\"\n".to_string(),
            "notify.webhook_url",
        ),
        (
            "[notify]\nwebhook_url = \"http://127.0.0.1:9/\"\nwebhook_secret_file = \"missing\"\n"
                .to_string(),
            "notify.webhook_secret_file",
        ),
        (
            "[notify]\nscan_interval_secs = 0\n".to_string(),
            "notify.scan_interval_secs",
        ),
    ];
    for (table, key) in cases {
        let out = check(&table);
        assert_eq!(out.code, Some(64), "{table}\n{out}");
        assert!(out.stderr.contains(key), "{table}\n{out}");
        assert!(!out.stderr.contains("top-secret-password"), "{out}");
    }
    let fine = check(
        "[notify]\nwebhook_url = \"https://hooks.example.com/x\"\n[notify.smtp]\nhost = \"localhost\"\nfrom = \"a@example.com\"\ntls = \"none\"\n",
    );
    assert_eq!(fine.code, Some(0), "{fine}");
}

#[test]
fn an_https_webhook_is_verified_against_the_system_roots() {
    let files = SecretFiles::new();
    let pki = TestPki::generate();
    let hook = Receiver::start_tls(0, &pki);
    let config = GateConfig::new().section("notify", notify(&hook, None, &files));
    let mut gate = Gate::new(config);
    gate.user_add("alice");
    let at = from_now(2 * DAY + HOUR);
    let secret = gate.token(
        "alice",
        "ci",
        &["--scope", "read_repository", "--expires", &at],
    );

    // Without the test CA among the roots: refused, logged with the reason, kept for later.
    gate.env("SSL_CERT_FILE", "/nonexistent/ca.pem");
    gate.serve();
    wait_for("a failed TLS delivery in the log", || {
        gate.log().contains("will retry")
    });
    let log = gate.log();
    let failure = log.lines().find(|l| l.contains("will retry")).unwrap();
    assert!(failure.contains("TLS"), "{failure}");
    assert!(hook.received().is_empty());
    gate.stop();

    // With it (rustls-native-certs reads SSL_CERT_FILE): the retry after a restart delivers.
    gate.env("SSL_CERT_FILE", &pki.ca_pem().display().to_string());
    gate.serve();
    wait_for("the HTTPS delivery", || hook.accepted().len() == 1);
    std::thread::sleep(QUIET);
    let received = hook.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        checked(&received[0], std::slice::from_ref(&secret)),
        ("alice".to_string(), "ci".to_string(), 2)
    );
    gate.stop();
}
