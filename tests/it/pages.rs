//! The token pages in a real headless Chromium (Debian `chromium` + `chromium-driver`),
//! against a running vcsgate with the built-in Git backend and the real `git` client.

use std::time::Duration;

use crate::git_e2e::{Via, World};
use crate::support::git::{Cred, GitClient};
use crate::support::http;
use crate::support::poll;
use crate::support::webdriver::Browser;

const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

/// `vcsgate user login-link USER`: the link, alone on the last stdout line.
fn login_link(w: &World, user: &str) -> String {
    let out = w.gate.cli_ok(&["user", "login-link", user]);
    let link = out
        .stdout
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/-/sign-in/", w.gate.url())),
        "{out}"
    );
    crate::support::secrets::remember(link.rsplit('/').next().unwrap());
    link
}

/// Waits (a click returns before the page it leads to has loaded) until `check` holds.
#[track_caller]
fn wait(browser: &Browser, what: &str, check: impl Fn(&Browser) -> bool) {
    let done = poll::until(Duration::from_secs(10), Duration::from_millis(25), || {
        check(browser)
    });
    assert!(
        done.is_some(),
        "{what}: at {}:\n{}",
        browser.url(),
        browser.source()
    );
}

/// Waits until the browser shows `path` of the gate.
#[track_caller]
fn wait_at(w_url: &str, browser: &Browser, path: &str) {
    let want = format!("{w_url}{path}");
    wait(browser, &format!("expected {want}"), |b| b.url() == want);
}

/// Signs `browser` in with a fresh one-time link for `user`.
fn sign_in(w: &World, browser: &Browser, user: &str) -> String {
    let link = login_link(w, user);
    browser.go(&link);
    browser.click(&browser.find("button[name=continue]"));
    wait_at(&w.gate.url(), browser, "/-/");
    link
}

/// Saves screenshots for the README when `VCSGATE_SCREENSHOTS=DIR` is set.
fn screenshot(browser: &Browser, name: &str) {
    let Some(dir) = std::env::var_os("VCSGATE_SCREENSHOTS") else {
        return;
    };
    for (label, (width, height)) in [("desktop", DESKTOP), ("phone", PHONE)] {
        browser.resize(width, height);
        browser.screenshot(&std::path::Path::new(&dir).join(format!("{name}-{label}.png")));
    }
    browser.resize(DESKTOP.0, DESKTOP.1);
}

#[test]
fn pages_sign_in_by_link_create_from_prefilled_url_clone_and_revoke() {
    let mut w = World::new(Via::Builtin);
    w.gate.grant("alice", &w.repo_path("app"), "write");
    let laptop = w.gate.token(
        "alice",
        "laptop",
        &["--scope", "read_repository", "--expires", "2099-01-01"],
    );
    w.gate.serve();
    let browser = Browser::start(DESKTOP.0, DESKTOP.1);

    // Sign in with a one-time link; the same link fails the second time.
    let link = sign_in(&w, &browser, "alice");
    assert!(browser.cookie("vcsgate_session").is_some());
    let other = Browser::start(DESKTOP.0, DESKTOP.1);
    other.go(&link);
    other.click(&other.find("button[name=continue]"));
    // The click's answer is a new page: wait for it rather than read the form still shown.
    wait(&other, "the refusal of a used link", |b| {
        b.source().contains("invalid, expired or already used")
    });
    assert!(other.cookie("vcsgate_session").is_none());

    // The prefilled new-token form.
    browser.go(&format!(
        "{}/-/tokens/new?name=ci&scopes=read_repository,write_repository",
        w.gate.url()
    ));
    assert_eq!(browser.title(), "New access token · vcsgate");
    let name = browser.find("input[name=name]");
    assert_eq!(browser.attribute(&name, "value").as_deref(), Some("ci"));
    for scope in ["read_repository", "write_repository"] {
        let checkbox = browser.find(&format!("input[name=scopes][value={scope}]"));
        assert!(browser.is_selected(&checkbox), "{scope} prefilled");
    }
    assert!(!browser.is_selected(&browser.find("input[name=scopes][value=api]")));
    screenshot(&browser, "new-token");
    browser.click(&browser.find("main form button.primary"));
    wait(&browser, "the secret page", |b| {
        b.all("#new-token").len() == 1
    });
    let secret = browser.text(&browser.find("#new-token"));
    crate::support::secrets::remember(&secret);
    assert!(secret.starts_with("vcsg_"), "{}", browser.source());

    // The secret clones with the real git.
    let git = GitClient::new();
    git.clone(&w.remote("app", &Cred::basic(&secret)), "from-page")
        .assert_ok();

    // The token list, then revoke on the page: refused within a second.
    browser.go(&format!("{}/-/", w.gate.url()));
    let row = browser.find("tr[data-token-name=ci]");
    assert!(
        browser.text(&row).contains("read_repository"),
        "{}",
        browser.text(&row)
    );
    screenshot(&browser, "token-list");
    browser.click(&browser.find("tr[data-token-name=ci] button[name=revoke]"));
    wait(&browser, "the revoked token leaves the list", |b| {
        b.all("tr[data-token-name=ci]").is_empty()
    });
    let refused = poll::until(Duration::from_secs(1), Duration::from_millis(10), || {
        w.upload_pack_status("app", &secret) == 401
    });
    w.check(
        refused.is_some(),
        "a token revoked on the page still works after 1 s",
    );
    assert!(
        !git.clone(&w.remote("app", &Cred::basic(&secret)), "after-revoke")
            .ok()
    );
    assert!(
        browser.all("tr[data-token-name=ci]").is_empty(),
        "revoked token still listed"
    );
    assert_eq!(browser.all("tr[data-token-name=laptop]").len(), 1);

    // Rotate on the page: a new secret, shown once; the old one stops.
    browser.click(&browser.find("tr[data-token-name=laptop] button[name=rotate]"));
    wait(&browser, "the rotated secret", |b| {
        b.all("#new-token").len() == 1
    });
    let rotated = browser.text(&browser.find("#new-token"));
    crate::support::secrets::remember(&rotated);
    assert!(rotated.starts_with("vcsg_") && rotated != laptop);
    assert_eq!(w.upload_pack_status("app", &rotated), 200);
    assert_eq!(w.upload_pack_status("app", &laptop), 401);
    browser.go(&format!("{}/-/", w.gate.url()));

    // Sign-out ends the session on the server: the old cookie no longer works.
    let session = browser.cookie("vcsgate_session").unwrap();
    browser.click(&browser.find("button[name=sign-out]"));
    wait_at(&w.gate.url(), &browser, "/-/sign-in");
    let old = http::get(
        w.gate.port(),
        "/-/",
        &[("Cookie".to_owned(), format!("vcsgate_session={session}"))],
    );
    assert_eq!(
        (old.status, old.header("location")),
        (303, Some("/-/sign-in"))
    );
    w.gate.stop();
}

#[test]
fn pages_admin_adds_a_user_and_a_grant_and_its_token_clones() {
    let mut w = World::new(Via::Builtin);
    w.gate.cli_ok(&["user", "add", "root", "--admin"]);
    w.gate.serve();
    let browser = Browser::start(DESKTOP.0, DESKTOP.1);
    sign_in(&w, &browser, "root");

    browser.go(&format!("{}/-/users", w.gate.url()));
    browser.type_into(&browser.find("#user-name"), "dave");
    browser.type_into(&browser.find("#user-email"), "<b>dave</b>@example.org");
    browser.click(&browser.find("main form.stack button.primary"));
    wait(&browser, "dave listed", |b| {
        b.all("tr[data-user-name=dave]").len() == 1
    });
    let row = browser.find("tr[data-user-name=dave]");
    assert!(
        browser.text(&row).contains("<b>dave</b>@example.org"),
        "markup shown as text"
    );
    assert!(
        browser.all("tr[data-user-name=dave] b").is_empty(),
        "no markup interpreted"
    );

    browser.go(&format!("{}/-/grants", w.gate.url()));
    browser.type_into(&browser.find("#grant-user"), "dave");
    browser.type_into(&browser.find("#grant-pattern"), &w.repo_path("app"));
    browser.click(&browser.find("main form.stack button.primary"));
    let grant = format!("tr[data-grant=\"dave {}\"]", w.repo_path("app"));
    wait(&browser, "the grant listed", |b| b.all(&grant).len() == 1);

    let token = w
        .gate
        .token("dave", "laptop", &["--scope", "read_repository"]);
    GitClient::new()
        .clone(&w.remote("app", &Cred::basic(&token)), "dave")
        .assert_ok();
    let audit = w
        .gate
        .cli_ok(&["audit", "list", "--user", "dave", "--json"]);
    assert!(audit.stdout.contains("\"actor\": \"root\""), "{audit}");

    // Removing the grant on the page: the clone is refused within a second.
    browser.go(&format!("{}/-/grants", w.gate.url()));
    browser.click(&browser.find(&format!("{grant} button[name=remove]")));
    wait(&browser, "the grant removed", |b| b.all(&grant).is_empty());
    let refused = poll::until(Duration::from_secs(1), Duration::from_millis(10), || {
        w.upload_pack_status("app", &token) == 403
    });
    w.check(
        refused.is_some(),
        "a grant removed on the page still works after 1 s",
    );

    // Disabling dave on the page stops his token.
    browser.go(&format!("{}/-/users", w.gate.url()));
    browser.click(&browser.find("tr[data-user-name=dave] button[value=disable]"));
    wait(&browser, "dave disabled", |b| {
        b.all("tr[data-user-name=dave] button[value=enable]").len() == 1
    });
    assert_eq!(w.upload_pack_status("app", &token), 401);

    // The audit log pages through older events.
    for n in 0..60 {
        w.gate
            .grant("root", &format!("{}/x{n}", w.prefix()), "read");
    }
    browser.go(&format!("{}/-/audit", w.gate.url()));
    assert_eq!(browser.all("main tbody tr").len(), 50);
    let newest = browser.text(&browser.find("main tbody tr:first-child"));
    assert!(newest.contains("x59"), "{newest}");
    browser.click(&browser.find("a[rel=next]"));
    wait(&browser, "the older page", |b| b.url().contains("before="));
    let older = browser.text(&browser.find("main tbody"));
    assert!(older.contains("x9 ") && !older.contains("x59"), "{older}");
    w.gate.stop();
}

#[test]
fn pages_refuse_forms_without_csrf_and_show_markup_as_text() {
    let mut w = World::new(Via::Builtin);
    let token = w
        .gate
        .token("alice", "laptop", &["--scope", "read_repository"]);
    let api = w.gate.token("alice", "api", &["--scope", "api"]);
    w.gate.serve();
    let browser = Browser::start(DESKTOP.0, DESKTOP.1);

    // Sign in by pasting an api token (a read-only one is refused).
    browser.go(&format!("{}/-/sign-in", w.gate.url()));
    browser.type_into(&browser.find("input[name=token]"), &token);
    browser.click(&browser.find("main form button.primary"));
    wait(&browser, "a read-only token is refused", |b| {
        b.source().contains("lacks the api scope")
    });
    browser.type_into(&browser.find("input[name=token]"), &api);
    browser.click(&browser.find("main form button.primary"));
    wait_at(&w.gate.url(), &browser, "/-/");

    // A form posted without (or with a wrong) CSRF token changes nothing.
    let session = browser.cookie("vcsgate_session").unwrap();
    let cookie = ("Cookie".to_owned(), format!("vcsgate_session={session}"));
    let form = (
        "Content-Type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    );
    let list = w.gate.cli_ok(&["token", "list", "alice", "--json"]);
    let tokens: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "laptop")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for body in ["revoke=", "csrf=forged&revoke="] {
        let target = format!("/-/tokens/{id}/revoke");
        let answer = http::request_with_body(
            w.gate.port(),
            "POST",
            &target,
            &[cookie.clone(), form.clone()],
            body.as_bytes(),
        );
        assert_eq!(answer.status, 403, "{answer:?}");
    }
    assert_eq!(
        w.upload_pack_status("app", &token),
        403,
        "still authenticates (no grant)"
    );
    let list = w.gate.cli_ok(&["token", "list", "alice"]);
    assert!(
        list.stdout.contains("laptop"),
        "the token is still active:\n{list}"
    );

    // A refused name is shown next to its field, as text, and kept in the field.
    browser.go(&format!("{}/-/tokens/new", w.gate.url()));
    let markup = "<img src=x onerror=alert(1)>";
    browser.type_into(&browser.find("input[name=name]"), markup);
    browser.click(&browser.find("input[name=scopes][value=read_repository]"));
    browser.click(&browser.find("main form button.primary"));
    wait(&browser, "the refused name", |b| {
        b.all("#name-error").len() == 1
    });
    let error = browser.find("#name-error");
    assert!(
        browser.text(&error).contains(markup),
        "{}",
        browser.text(&error)
    );
    assert!(
        browser.all("main img").is_empty(),
        "markup interpreted:\n{}",
        browser.source()
    );
    let name = browser.find("input[name=name]");
    assert_eq!(browser.attribute(&name, "value").as_deref(), Some(markup));
    assert!(browser.is_selected(&browser.find("input[name=scopes][value=read_repository]")));

    // The security headers on every page.
    let page = http::get(w.gate.port(), "/-/sign-in", &[]);
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    w.gate.stop();
}

#[test]
fn pages_trust_the_sso_header_only_from_trusted_proxies() {
    use crate::support::vcsgate::GateConfig;
    let repos = tempfile::tempdir().unwrap();
    let mut pages = toml::Table::new();
    pages.insert("trusted_user_header".into(), "X-Forwarded-User".into());
    let mut throttle = toml::Table::new();
    throttle.insert(
        "trusted_proxies".into(),
        toml::Value::Array(vec!["127.0.0.1/32".into()]),
    );
    let config = GateConfig::new()
        .git_repos("/git", repos.path())
        .section("pages", pages)
        .section("throttle", throttle);
    let mut gate = crate::support::vcsgate::Gate::new(config);
    gate.user_add("alice");
    gate.cli_ok(&["user", "add", "ci", "--bot", "--manager", "alice"]);
    gate.serve();
    let header = |user: &str| ("X-Forwarded-User".to_owned(), user.to_owned());
    let page = http::get(gate.port(), "/-/", &[header("alice")]);
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("Tokens of the bot ci"), "{}", page.body);
    assert!(
        page.header("set-cookie")
            .is_some_and(|c| c.contains("HttpOnly"))
    );
    let bot = http::get(gate.port(), "/-/", &[header("ci")]);
    assert_eq!(bot.status, 303, "bots cannot sign in: {bot:?}");
    let anonymous = http::get(gate.port(), "/-/", &[header("anonymous")]);
    assert_eq!(
        anonymous.status, 303,
        "anonymous cannot sign in: {anonymous:?}"
    );
    let link = gate.cli(&["user", "login-link", "anonymous"]);
    assert!(!link.ok() && link.stderr.contains("reserved"), "{link}");
    gate.stop();

    // From an address that is not a trusted proxy, the header means nothing.
    let untrusted = crate::support::wire::get_from(
        std::net::Ipv4Addr::new(127, 0, 0, 9),
        gate_port_restart(&mut gate),
        "/-/",
        &[header("alice")],
    );
    assert_eq!(untrusted.0.status, 303, "{:?}", untrusted.0);
    gate.stop();
}

fn gate_port_restart(gate: &mut crate::support::vcsgate::Gate) -> u16 {
    gate.serve();
    gate.port()
}

/// The CSRF pair of a sign-in form: the cookie header to send back and the form's field.
fn sign_in_form(port: u16, target: &str) -> ((String, String), String) {
    let page = http::get(port, target, &[]);
    let set = page
        .header("set-cookie")
        .expect("a sign-in cookie")
        .to_owned();
    let pair = set.split(';').next().unwrap().to_owned();
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_owned();
    (("Cookie".to_owned(), pair), csrf)
}

#[test]
fn failed_sign_ins_are_throttled_like_failed_tokens() {
    use crate::support::vcsgate::GateConfig;
    let repos = tempfile::tempdir().unwrap();
    let mut throttle = toml::Table::new();
    throttle.insert("burst".into(), 2.into());
    throttle.insert("per_minute".into(), 1.into());
    let config = GateConfig::new()
        .git_repos("/git", repos.path())
        .section("throttle", throttle);
    let mut gate = crate::support::vcsgate::Gate::new(config);
    gate.user_add("alice");
    gate.serve();
    let port = gate.port();
    let form = (
        "Content-Type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    );
    let mut statuses = Vec::new();
    for attempt in 0..4 {
        let target = format!("/-/sign-in/not-a-link-{attempt}");
        let (cookie, csrf) = sign_in_form(port, &target);
        let body = format!("csrf={csrf}");
        let answer = http::request_with_body(
            port,
            "POST",
            &target,
            &[cookie, form.clone()],
            body.as_bytes(),
        );
        statuses.push(answer.status);
    }
    assert_eq!(
        statuses,
        [401, 401, 429, 429],
        "used-up or made-up links count as failures"
    );
    // The same budget covers tokens: a pasted token is refused too now.
    let (cookie, csrf) = sign_in_form(port, "/-/sign-in");
    let token = gate.token("alice", "api", &["--scope", "api"]);
    let body = format!("csrf={csrf}&token={token}");
    let answer =
        http::request_with_body(port, "POST", "/-/sign-in", &[cookie, form], body.as_bytes());
    assert_eq!(answer.status, 429, "{answer:?}");
    gate.stop();
}
