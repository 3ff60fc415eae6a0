#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use super::*;

const PATH: &str = "/etc/vcsgate/proxy.toml";

fn load_text(text: &str) -> Result<Config, Error> {
    parse(text, Path::new(PATH))
}

fn error_text(text: &str) -> String {
    load_text(text)
        .expect_err("config should be refused")
        .to_string()
}

const MINIMAL: &str = r#"
version = 1
[store]
url = "sqlite://vcsgate.db"
[[route]]
prefix = "/git"
kind = "git"
backend = "http://127.0.0.1:8081/git"
"#;

#[test]
fn minimal_config_gets_defaults_and_resolves_sqlite_against_config_dir() {
    let config = load_text(MINIMAL).unwrap();
    assert_eq!(config.server.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(config.server.realm, DEFAULT_REALM);
    assert_eq!(
        config.store.url.expose(),
        "sqlite:///etc/vcsgate/vcsgate.db"
    );
    assert_eq!(config.store.outage_grace, DEFAULT_OUTAGE_GRACE);
    assert_eq!(config.routes[0].prefix, "/git");
    assert_eq!(config.routes[0].kind, crate::vocabulary::Vcs::Git);
}

#[test]
fn workers_default_to_the_cores_and_are_bounded() {
    let config = load_text(MINIMAL).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    assert_eq!(config.server.workers, cores);
    let with = |n: &str| MINIMAL.replace("[store]", &format!("[server]\nworkers = {n}\n[store]"));
    assert_eq!(load_text(&with("3")).unwrap().server.workers, 3);
    for bad in ["0", "-1", "257"] {
        let message = error_text(&with(bad));
        assert!(
            message.contains("server.workers") && message.contains("between 1 and 256"),
            "{bad}: {message}"
        );
    }
}

#[test]
fn errors_name_the_key() {
    let cases: &[(&str, &str)] = &[
        ("version = 1\nbogus = 2\n[store]\nurl='sqlite://x'", "bogus"),
        ("version = 1\n[store]\nurl='sqlite://x'\nurll='y'", "urll"),
        ("[store]\nurl='sqlite://x'", "version"),
        ("version = 2\n[store]\nurl='sqlite://x'", "version"),
        ("version = 1", "store.url"),
        ("version = 1\n[store]\nurl='mysql://x'", "store.url"),
        (
            "version = 1\n[server]\nlisten='nope'\n[store]\nurl='sqlite://x'",
            "server.listen",
        ),
        (
            "version = 1\n[store]\nurl='sqlite://x'\n[[route]]\nprefix='/g'\nkind='cvs'\nbackend='http://h/'",
            "route[0].kind",
        ),
        (
            "version = 1\n[store]\nurl='sqlite://x'\n[[route]]\nprefix='g'\nkind='git'\nbackend='http://h/'",
            "route[0].prefix",
        ),
        (
            "version = 1\n[store]\nurl='sqlite://x'\n[[route]]\nprefix='/g'\nkind='git'\nbackend='ftp://h/'",
            "route[0].backend",
        ),
        (
            "version = 1\n[store]\nurl='sqlite://x'\n[[route]]\nprefix='/g'\nkind='git'",
            "route[0].backend",
        ),
        (
            "version = 1\n[store]\nurl='sqlite://x'\n[[route]]\nprefix='/svn'\nkind='svn'\nbackend='http://h/other'",
            "route[0].backend",
        ),
        (
            "version = 1\n[store]\nurl='sqlite://x'\n[[route]]\nprefix='/g'\nkind='git'\nbackend='http://u:p@h/'",
            "route[0].backend",
        ),
    ];
    for (text, key) in cases {
        let message = error_text(text);
        assert!(message.contains(key), "{message:?} should name {key}");
        assert!(message.contains(PATH), "{message:?} should name the file");
    }
}

#[test]
fn duplicate_prefixes_are_refused_after_normalisation() {
    let text = format!(
        "{MINIMAL}\n[[route]]\nprefix = \"/git/\"\nkind = \"git\"\nbackend = \"http://127.0.0.1:9/\"\n"
    );
    assert!(matches!(
        load_text(&text),
        Err(Error::DuplicatePrefix { .. })
    ));
}

#[test]
fn the_reserved_prefix_and_below_cannot_be_a_route() {
    for prefix in ["/-", "/-/", "/-/api", "/-/git"] {
        let text = format!(
            "version = 1\n[store]\nurl = \"sqlite://v.db\"\n[[route]]\nprefix = \"{prefix}\"\nkind = \"git\"\nbackend = \"http://127.0.0.1:9/\"\n"
        );
        let message = error_text(&text);
        assert!(message.contains("reserved"), "{prefix}: {message}");
    }
    let text = "version = 1\n[store]\nurl = \"sqlite://v.db\"\n[[route]]\nprefix = \"/-x\"\nkind = \"git\"\nbackend = \"http://127.0.0.1:9/\"\n";
    assert!(load_text(text).is_ok());
}

#[test]
fn postgres_password_from_file_is_inserted_and_redacted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "s3cr:et\n").unwrap();
    let config_path = dir.path().join("proxy.toml");
    let text =
        "version = 1\n[store]\nurl = 'postgres://vcs@db.example/vcsgate'\npassword_file = 'pw'\n";
    let config = parse(text, &config_path).unwrap();
    assert_eq!(
        config.store.url.expose(),
        "postgres://vcs:s3cr%3Aet@db.example/vcsgate"
    );
    assert_eq!(
        config.store.redacted_url,
        "postgres://vcs:***@db.example/vcsgate"
    );
    assert!(!format!("{config:?}").contains("s3cr"));
}

#[test]
fn password_from_unset_env_is_a_clear_error() {
    let missing = "version = 1\n[store]\nurl = 'postgres://vcs@db/x'\npassword_env = 'VCSGATE_TEST_UNSET_VAR'\n";
    let message = error_text(missing);
    assert!(message.contains("VCSGATE_TEST_UNSET_VAR"), "{message}");
    assert!(message.contains("store"), "{message}");
}

#[test]
fn redact_hides_passwords_only() {
    assert_eq!(
        crate::store::redact_url("postgres://u:p@h/db"),
        "postgres://u:***@h/db"
    );
    assert_eq!(
        crate::store::redact_url("postgres://u@h/db"),
        "postgres://u@h/db"
    );
    assert_eq!(crate::store::redact_url("sqlite:///x.db"), "sqlite:///x.db");
}

#[test]
fn identity_modes() {
    let base = "version = 1\n[store]\nurl='sqlite://x'\n[[route]]\nprefix='/svn'\nkind='svn'\nbackend='http://h/svn'\n";
    let basic = format!("{base}[route.identity]\nmode='basic'\nsecret='pw'\n");
    let config = load_text(&basic).unwrap();
    assert!(matches!(
        config.routes[0].identity,
        BackendIdentity::Basic(_)
    ));
    let header = format!("{base}[route.identity]\nmode='header'\nheader='X-Vcsgate-User'\n");
    let config = load_text(&header).unwrap();
    assert!(matches!(
        config.routes[0].identity,
        BackendIdentity::Header(_)
    ));
    let bad = format!("{base}[route.identity]\nmode='header'\nheader='X_User'\n");
    assert!(error_text(&bad).contains("route[0].identity.header"));
    let both = format!("{base}[route.identity]\nmode='basic'\nsecret='a'\nsecret_env='B'\n");
    assert!(error_text(&both).contains("one way only"));
}

#[test]
fn limits_default_and_validate() {
    let config = load_text(MINIMAL).unwrap();
    assert_eq!(config.limits, Limits::default());
    assert!(
        config.limits.max_headers >= 128,
        "hg sends dozens of X-HgArg headers"
    );
    let text = format!("{MINIMAL}\n[limits]\nmax_headers = 300\nfirst_byte_timeout_secs = 5\n");
    let config = load_text(&text).unwrap();
    assert_eq!(config.limits.max_headers, 300);
    assert_eq!(
        config.limits.first_byte_timeout,
        std::time::Duration::from_secs(5)
    );
    for (bad, key) in [
        ("max_headers = 50", "limits.max_headers"),
        ("header_timeout_secs = 0", "limits.header_timeout_secs"),
        ("max_header_bytes = 100", "limits.max_header_bytes"),
        ("bogus = 1", "bogus"),
    ] {
        let message = error_text(&format!("{MINIMAL}\n[limits]\n{bad}\n"));
        assert!(message.contains(key), "{message}");
    }
}

#[test]
fn throttle_settings() {
    let config = load_text(MINIMAL).unwrap();
    assert!(config.throttle.trusted_proxies.is_empty(), "off by default");
    let text = format!(
        "{MINIMAL}\n[throttle]\nburst = 5\nper_minute = 6\ntrusted_proxies = [\"10.0.0.0/8\"]\nmax_tracked_clients = 1000\n"
    );
    let config = load_text(&text).unwrap();
    assert_eq!(config.throttle.quota.burst(), 5);
    assert_eq!(
        config.throttle.quota.refill(),
        std::time::Duration::from_secs(10)
    );
    assert_eq!(config.throttle.quota.max_tracked(), 1000);
    for (bad, key) in [
        ("burst = 0", "throttle.burst"),
        ("per_minute = 0", "throttle.per_minute"),
        ("max_tracked_clients = 1", "throttle.max_tracked_clients"),
        ("trusted_proxies = [\"nope\"]", "throttle.trusted_proxies"),
    ] {
        let message = error_text(&format!("{MINIMAL}\n[throttle]\n{bad}\n"));
        assert!(message.contains(key), "{message}");
    }
}

#[test]
fn tokens_policy_is_optional_days_with_the_default_within_the_maximum() {
    assert_eq!(load_text(MINIMAL).unwrap().tokens, TokenPolicy::default());
    let config = load_text(&format!(
        "{MINIMAL}[tokens]\nmax_lifetime_days = 90\ndefault_lifetime_days = 30\n"
    ))
    .unwrap();
    assert_eq!(
        config.tokens,
        TokenPolicy {
            max_lifetime_days: Some(90),
            default_lifetime_days: Some(30),
        }
    );
    let equal = format!("{MINIMAL}[tokens]\nmax_lifetime_days = 30\ndefault_lifetime_days = 30\n");
    assert!(load_text(&equal).is_ok());
    let above = error_text(&format!(
        "{MINIMAL}[tokens]\nmax_lifetime_days = 30\ndefault_lifetime_days = 31\n"
    ));
    assert!(
        above.contains("tokens.default_lifetime_days") && above.contains("30"),
        "{above}"
    );
    for bad in [
        "max_lifetime_days = 0",
        "default_lifetime_days = -1",
        "max_lifetime_days = 99999",
    ] {
        let text = error_text(&format!("{MINIMAL}[tokens]\n{bad}\n"));
        assert!(text.contains("tokens."), "{bad}: {text}");
    }
    assert!(error_text(&format!("{MINIMAL}[tokens]\nmax_days = 3\n")).contains("max_days"));
}

#[test]
fn admin_listener_and_log_format() {
    let config = load_text(MINIMAL).unwrap();
    assert_eq!(config.admin, None);
    assert_eq!(config.log_format, LogFormat::Text);
    let text =
        format!("{MINIMAL}\n[admin]\nlisten = \"127.0.0.1:9090\"\n[log]\nformat = \"json\"\n");
    let config = load_text(&text).unwrap();
    assert_eq!(
        config.admin.map(|a| a.listen.to_string()).as_deref(),
        Some("127.0.0.1:9090")
    );
    assert_eq!(config.log_format, LogFormat::Json);
    let same = format!("{MINIMAL}\n[admin]\nlisten = \"127.0.0.1:8080\"\n");
    assert!(
        error_text(&same).contains("admin.listen"),
        "{}",
        error_text(&same)
    );
    let bad = format!("{MINIMAL}\n[admin]\nlisten = \"localhost\"\n");
    assert!(error_text(&bad).contains("admin.listen"));
    let bad = format!("{MINIMAL}\n[log]\nformat = \"xml\"\n");
    assert!(error_text(&bad).contains("log.format"));
    let bad = format!("{MINIMAL}\n[admin]\nport = 1\n");
    assert!(error_text(&bad).contains("port"));
}

#[test]
fn store_notifications_default_on() {
    assert!(load_text(MINIMAL).unwrap().store.notifications);
    let off = MINIMAL.replace(
        "url = \"sqlite://vcsgate.db\"",
        "url = \"sqlite://vcsgate.db\"\nnotifications = false",
    );
    assert!(!load_text(&off).unwrap().store.notifications);
    let bad = MINIMAL.replace(
        "url = \"sqlite://vcsgate.db\"",
        "url = \"sqlite://vcsgate.db\"\nnotifications = \"yes\"",
    );
    assert!(error_text(&bad).contains("notifications"));
}

#[test]
fn notify_is_off_by_default_and_takes_a_webhook_and_smtp() {
    let off = load_text(MINIMAL).unwrap().notify;
    assert!(!off.enabled());
    assert_eq!(off.scan_interval, notify::DEFAULT_SCAN_INTERVAL);
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("hook.secret");
    std::fs::write(&secret, "s3cret-webhook-key\n").unwrap();
    let password = dir.path().join("smtp.password");
    std::fs::write(&password, "mail-password").unwrap();
    let text = format!(
        "{MINIMAL}[notify]\nwebhook_url = \"https://hooks.example.com/T0/abc?x=1\"\n\
         webhook_secret_file = \"{}\"\nscan_interval_secs = 5\nretry_initial_secs = 2\n\
         [notify.smtp]\nhost = \"mail.example.com\"\nfrom = \"vcsgate <noreply@example.com>\"\n\
         username = \"vcsgate\"\npassword_file = \"{}\"\n",
        secret.display(),
        password.display()
    );
    let config = load_text(&text).unwrap().notify;
    let shown = format!("{config:?}");
    for secret in ["s3cret-webhook-key", "mail-password", "T0/abc"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(config.enabled());
    let hook = config.webhook.unwrap();
    assert_eq!(
        (
            hook.origin.as_str(),
            hook.host.as_str(),
            hook.port,
            hook.tls
        ),
        ("https://hooks.example.com", "hooks.example.com", 443, true)
    );
    assert_eq!(hook.secret.unwrap().expose(), "s3cret-webhook-key");
    assert_eq!(config.scan_interval, Duration::from_secs(5));
    assert_eq!(config.retry_initial, Duration::from_secs(2));
    let smtp = config.smtp.unwrap();
    assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::StartTls));
    let (user, pass) = smtp.credentials.unwrap();
    assert_eq!((user.as_str(), pass.expose()), ("vcsgate", "mail-password"));
}

#[test]
fn notify_errors_name_the_key_and_never_the_secret() {
    let with = |table: &str| error_text(&format!("{MINIMAL}{table}"));
    let cases = [
        (
            "[notify]\nwebhook_url = \"ftp://x/y\"\n",
            "notify.webhook_url",
        ),
        (
            "[notify]\nwebhook_url = \"https://u:pw@x/y\"\n",
            "notify.webhook_url",
        ),
        (
            "[notify]\nwebhook_secret_file = \"/nonexistent\"\n",
            "notify.webhook_secret_file",
        ),
        (
            "[notify]\nwebhook_url = \"http://127.0.0.1:9/\"\nwebhook_secret_file = \"/nonexistent\"\n",
            "notify.webhook_secret_file",
        ),
        (
            "[notify]\nscan_interval_secs = 0\n",
            "notify.scan_interval_secs",
        ),
        (
            "[notify]\nretry_initial_secs = 0\n",
            "notify.retry_initial_secs",
        ),
        ("[notify]\nwebhook = \"x\"\n", "webhook"),
        (
            "[notify.smtp]\nfrom = \"a@example.com\"\n",
            "notify.smtp.host",
        ),
        ("[notify.smtp]\nhost = \"mail\"\n", "notify.smtp.from"),
        (
            "[notify.smtp]\nhost = \"mail\"\nfrom = \"not a mailbox\"\n",
            "notify.smtp.from",
        ),
        (
            "[notify.smtp]\nhost = \"mail\"\nfrom = \"a@example.com\"\nport = 70000\n",
            "notify.smtp.port",
        ),
        (
            "[notify.smtp]\nhost = \"mail.example.com\"\nfrom = \"a@example.com\"\ntls = \"none\"\n",
            "notify.smtp.tls",
        ),
        (
            "[notify.smtp]\nhost = \"mail\"\nfrom = \"a@example.com\"\ntls = \"ssl\"\n",
            "notify.smtp.tls",
        ),
        (
            "[notify.smtp]\nhost = \"mail\"\nfrom = \"a@example.com\"\nusername = \"u\"\n",
            "notify.smtp.password_file",
        ),
    ];
    for (table, key) in cases {
        let message = with(table);
        assert!(message.contains(key), "{table}: {message}");
        assert!(!message.contains(":pw@"), "{table}: {message}");
    }
    let loopback = format!(
        "{MINIMAL}[notify.smtp]\nhost = \"127.0.0.1\"\nport = 2525\nfrom = \"a@example.com\"\ntls = \"none\"\n"
    );
    let smtp = load_text(&loopback).unwrap().notify.smtp.unwrap();
    assert_eq!((smtp.port, smtp.tls), (2525, SmtpTls::None));
}

#[test]
fn lfs_keys_on_built_in_routes_only() {
    let dir = tempfile::tempdir().unwrap();
    let repos = dir.path().display().to_string();
    let builtin = |extra: &str| {
        format!(
            "version = 1\n[store]\nurl = \"sqlite://x.db\"\n[[route]]\nprefix = \"/local\"\n\
             kind = \"git\"\nrepos = \"{repos}\"\n{extra}"
        )
    };
    let lfs_of = |text: &str| match &load_text(text).unwrap().routes[0].target {
        Target::LocalGit { lfs, .. } => *lfs,
        Target::Url { .. } => panic!("a built-in route"),
    };
    assert_eq!(
        lfs_of(&builtin("")),
        Some(LfsSettings {
            max_object_bytes: DEFAULT_LFS_MAX_OBJECT_BYTES
        })
    );
    assert_eq!(lfs_of(&builtin("lfs = false\n")), None);
    assert_eq!(
        lfs_of(&builtin("lfs_max_object_bytes = 1024\n")),
        Some(LfsSettings {
            max_object_bytes: 1024
        })
    );
    let message = error_text(&builtin("lfs_max_object_bytes = 0\n"));
    assert!(message.contains("lfs_max_object_bytes"), "{message}");
    let message = error_text(&MINIMAL.replace("kind = \"git\"", "kind = \"git\"\nlfs = true"));
    assert!(
        message.contains("route[0].lfs") && message.contains("only with `repos`"),
        "{message}"
    );
}

const HG_ROUTE: &str = r#"
version = 1
[store]
url = "sqlite://vcsgate.db"
[[route]]
prefix = "/hg"
kind = "hg"
backend = "http://127.0.0.1:8000"
"#;

#[test]
fn url_token_and_feed_paths() {
    let config = load_text(&format!(
        "{HG_ROUTE}repo_depth = 2\nurl_token_paths = [\"archive/*\", \"raw-file/**\"]\n"
    ))
    .unwrap();
    let paths = &config.routes[0].paths;
    let names: Vec<&str> = paths.url_token_paths.iter().map(|p| p.as_str()).collect();
    assert_eq!(names, ["archive/*", "raw-file/**"]);
    let feeds: Vec<&str> = paths.feed_paths.iter().map(|p| p.as_str()).collect();
    assert_eq!(feeds, crate::access::HG_DEFAULT_FEED_PATHS);
    // off by default; feeds default to hgweb's on hg routes only
    let git = load_text(MINIMAL).unwrap();
    assert!(git.routes[0].paths.url_token_paths.is_empty());
    assert!(git.routes[0].paths.feed_paths.is_empty());
    let hg = load_text(HG_ROUTE).unwrap();
    assert!(hg.routes[0].paths.url_token_paths.is_empty());
    assert_eq!(hg.routes[0].paths.feed_paths.len(), 8);
    let off = load_text(&format!("{HG_ROUTE}repo_depth = 1\nfeed_paths = []\n")).unwrap();
    assert!(off.routes[0].paths.feed_paths.is_empty());
    let svn = format!("{MINIMAL}url_token_paths = [\"trunk/**\"]\n");
    assert_eq!(
        load_text(&svn).unwrap().routes[0]
            .paths
            .url_token_paths
            .len(),
        1
    );
}

#[test]
fn bad_url_token_and_feed_paths_are_refused() {
    let rows = [
        (
            format!("{HG_ROUTE}url_token_paths = [\"archive/*\"]\n"),
            "repo_depth",
        ),
        (
            format!("{HG_ROUTE}feed_paths = [\"atom-log\"]\n"),
            "repo_depth",
        ),
        (
            format!("{HG_ROUTE}repo_depth = 2\nurl_token_paths = [\"/archive\"]\n"),
            "url_token_paths",
        ),
        (
            format!("{HG_ROUTE}repo_depth = 2\nurl_token_paths = [\"a//b\"]\n"),
            "url_token_paths",
        ),
        (
            format!("{HG_ROUTE}repo_depth = 2\nurl_token_paths = [\"a/**x\"]\n"),
            "url_token_paths",
        ),
        (
            format!("{HG_ROUTE}repo_depth = 2\nfeed_paths = [\"../x\"]\n"),
            "feed_paths",
        ),
        (
            format!("{HG_ROUTE}repo_depth = 2\nfeed_paths = [\"\"]\n"),
            "feed_paths",
        ),
        (
            format!("{HG_ROUTE}repo_depth = 2\nurl_token_paths = \"archive/*\"\n"),
            "url_token_paths",
        ),
    ];
    for (text, key) in rows {
        let error = error_text(&text);
        assert!(error.contains(key), "{text}: {error}");
    }
}

fn oidc_config(table: &str) -> String {
    format!("{MINIMAL}\n{table}")
}

const OIDC_OK: &str = r#"
[[oidc]]
issuer = "https://token.actions.githubusercontent.com"
jwks_file = "github-jwks.json"
audience = "vcsgate"
user = "ci"
max_ttl_secs = 900

[[oidc.allow]]
claims = { repository = "team/*", ref = "refs/heads/*" }
repos = ["git/{repository}"]
access = "read"

[[oidc.allow]]
claims = { repository = "team/*", ref = "refs/heads/main" }
repos = ["git/{repository}", "git/shared/**"]
access = "write"

[[oidc]]
issuer = "https://gitlab.example.com"
jwks_url = "https://gitlab.example.com/oauth/discovery/keys"
audience = "https://vcsgate.example"
user = "gitlab-ci"

[[oidc.allow]]
claims = { project_path = "group/*" }
repos = ["git/{project_path}"]
access = "read"
"#;

#[test]
fn oidc_issuers_and_rules() {
    let config = load_text(&oidc_config(OIDC_OK)).unwrap();
    assert_eq!(config.oidc.len(), 2);
    let github = &config.oidc[0];
    assert_eq!(
        github.jwks,
        oidc::JwksSource::File(PathBuf::from("/etc/vcsgate/github-jwks.json"))
    );
    assert_eq!(github.issuer.max_ttl_secs, 900);
    assert_eq!(github.issuer.user.as_str(), "ci");
    assert_eq!(github.issuer.allow.len(), 2);
    assert_eq!(github.issuer.allow[1].repos.len(), 2);
    let gitlab = &config.oidc[1];
    assert!(matches!(
        gitlab.jwks,
        oidc::JwksSource::Url { ca_file: None, .. }
    ));
    assert_eq!(gitlab.issuer.max_ttl_secs, oidc::DEFAULT_OIDC_MAX_TTL_SECS);
    assert!(load_text(MINIMAL).unwrap().oidc.is_empty());
}

#[test]
fn bad_oidc_tables_are_refused_naming_the_key() {
    let base = "[[oidc]]\nissuer = \"https://i\"\njwks_file = \"k.json\"\naudience = \"a\"\nuser = \"ci\"\n";
    let rule = "[[oidc.allow]]\nclaims = { repository = \"t/*\" }\nrepos = [\"git/{repository}\"]\naccess = \"read\"\n";
    let rows: Vec<(String, &str)> = vec![
        (base.to_owned(), "oidc[0].allow"),
        (
            base.replace("issuer = \"https://i\"\n", "") + rule,
            "oidc[0].issuer",
        ),
        (
            base.replace("audience = \"a\"\n", "") + rule,
            "oidc[0].audience",
        ),
        (base.replace("user = \"ci\"\n", "") + rule, "oidc[0].user"),
        (
            base.replace("\"ci\"", "\"anonymous\"") + rule,
            "oidc[0].user",
        ),
        (base.replace("\"ci\"", "\"c i\"") + rule, "oidc[0].user"),
        (
            base.replace("jwks_file = \"k.json\"\n", "") + rule,
            "oidc[0].jwks_file",
        ),
        (
            format!("{base}jwks_url = \"https://i/keys\"\n{rule}"),
            "oidc[0].jwks_url",
        ),
        (
            base.replace("jwks_file = \"k.json\"", "jwks_url = \"http://i/keys\"") + rule,
            "oidc[0].jwks_url",
        ),
        (
            format!("{base}max_ttl_secs = 0\n{rule}"),
            "oidc[0].max_ttl_secs",
        ),
        (
            format!(
                "{base}{}",
                rule.replace("claims = { repository = \"t/*\" }\n", "")
            ),
            "oidc[0].allow[0].claims",
        ),
        (
            format!("{base}{}", rule.replace("repository = ", "\"bad name\" = ")),
            "oidc[0].allow[0].claims",
        ),
        (
            format!(
                "{base}{}",
                rule.replace("repos = [\"git/{repository}\"]\n", "")
            ),
            "oidc[0].allow[0].repos",
        ),
        (
            format!(
                "{base}{}",
                rule.replace("git/{repository}", "git/{repository")
            ),
            "oidc[0].allow[0].repos",
        ),
        (
            format!(
                "{base}{}",
                rule.replace("git/{repository}", "/git/{repository}")
            ),
            "oidc[0].allow[0].repos",
        ),
        (
            format!("{base}{}", rule.replace("\"read\"", "\"admin\"")),
            "oidc[0].allow[0].access",
        ),
        (
            format!("{base}{}", rule.replace("access = \"read\"\n", "")),
            "oidc[0].allow[0].access",
        ),
        (format!("{base}{rule}{base}{rule}"), "oidc[1].issuer"),
        (
            format!("{base}{rule}").replace("audience", "audiences"),
            "audiences",
        ),
    ];
    for (table, key) in rows {
        let error = error_text(&oidc_config(&table));
        assert!(error.contains(key), "{table}\n→ {error}");
    }
}

#[test]
fn oidc_keys_load_from_the_jwks_file() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oidc");
    let text = OIDC_OK.replace("github-jwks.json", &format!("{fixtures}/jwks-1.json"));
    let config = load_text(&oidc_config(&text)).unwrap();
    let keys = config.oidc[0].load_keys().unwrap().unwrap();
    assert!(keys.contains("rsa-1") && keys.contains("ec-1"));
    let missing = config.oidc[0].clone();
    let mut missing = missing;
    missing.jwks = oidc::JwksSource::File(PathBuf::from(format!("{fixtures}/missing.json")));
    assert!(matches!(
        missing.load_keys(),
        Err(oidc::KeyLoadError::Read { .. })
    ));
    let mut not_jwks = config.oidc[0].clone();
    not_jwks.jwks = oidc::JwksSource::File(PathBuf::from(format!("{fixtures}/README")));
    let error = not_jwks.load_keys().unwrap_err().to_string();
    assert!(
        error.contains("README") && error.contains("JWKS"),
        "{error}"
    );
    assert!(
        config.oidc[1].load_keys().unwrap().is_none(),
        "URLs are fetched by serve"
    );
}
