//! vcsgate's access log (DESIGN.md: one line per request with client, route, repo,
//! operation, user, token name, status and refusal; never a secret nor a query string): the
//! lines of an allowed and of a refused push. NEEDS THE PROXY.

use std::time::Duration;

use super::{Via, World};
use crate::support::git::{Cred, GitClient};
use crate::support::poll;

/// The access-log lines (`… request client=… status=…`) vcsgate wrote so far.
fn access_lines(world: &World) -> Vec<String> {
    world
        .gate
        .log()
        .lines()
        .filter(|l| l.contains(" request ") && l.contains(" status="))
        .map(str::to_string)
        .collect()
}

/// The value of `name=` in a `key=value …` line: up to the next ` key=` (values such as the
/// refusal contain spaces), without surrounding quotes.
fn field(line: &str, name: &str) -> Option<String> {
    let start = line.find(&format!(" {name}="))? + name.len() + 2;
    let rest = &line[start..];
    let mut end = rest.len();
    for (i, _) in rest.match_indices(' ') {
        let word: String = rest[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if !word.is_empty() && rest[i + 1 + word.len()..].starts_with('=') {
            end = i;
            break;
        }
    }
    Some(rest[..end].trim_matches('"').to_string())
}

/// The one line whose method, path end and status are these; fails the test otherwise.
#[track_caller]
fn line_for(world: &World, method: &str, path_end: &str, status: &str) -> String {
    let wanted = |l: &String| {
        field(l, "method").as_deref() == Some(method)
            && field(l, "path").is_some_and(|p| p.ends_with(path_end))
            && field(l, "status").as_deref() == Some(status)
    };
    // A line is written when its response body has been sent: wait for it.
    let mut found = Vec::new();
    poll::until(Duration::from_secs(10), Duration::from_millis(20), || {
        found = access_lines(world).into_iter().filter(wanted).collect();
        !found.is_empty()
    });
    assert_eq!(
        found.len(),
        1,
        "one access-log line for {method} …{path_end} {status}:\n{}",
        access_lines(world).join("\n")
    );
    found.remove(0)
}

#[test]
fn access_log_lines_of_an_allowed_and_a_refused_push() {
    let mut world = World::new(Via::Apache);
    world.gate.grant("alice", "git/team/app", "write");
    let writer = world
        .gate
        .token("alice", "dev", &["--scope", "write_repository"]);
    let reader = world
        .gate
        .token("alice", "ci", &["--scope", "read_repository"]);
    world.gate.serve();
    let git = GitClient::new();
    git.clone(&world.remote("app", &Cred::basic(&writer)), "c")
        .assert_ok();
    git.commit("c", "logged.txt", "logged\n");
    let refused = git.push(&world.remote("app", &Cred::basic(&reader)), "c", "main");
    world.check(!refused.ok(), &format!("the read token's push:\n{refused}"));
    let pushed = git.push(
        &world.remote("app", &Cred::Bearer(writer.clone())),
        "c",
        "main",
    );
    world.check(pushed.ok(), &format!("the write token's push:\n{pushed}"));

    let allowed = line_for(&world, "POST", "/git/team/app.git/git-receive-pack", "200");
    let denied = line_for(&world, "GET", "/git/team/app.git/info/refs", "403");
    for (line, token, refusal) in [
        (&allowed, "dev", None),
        (&denied, "ci", Some("write_repository")),
    ] {
        let get = |name: &str| field(line, name).unwrap_or_else(|| panic!("no {name}= in {line}"));
        assert_eq!(get("client"), "127.0.0.1", "{line}");
        assert_eq!(get("route"), "/git", "{line}");
        assert_eq!(get("repo"), "git/team/app", "{line}");
        assert!(get("operation").contains("receive-pack"), "{line}");
        assert_eq!(get("user"), "alice", "{line}");
        assert_eq!(get("token"), token, "{line}");
        assert!(!get("path").contains('?'), "no query string: {line}");
        match refusal {
            None => assert_eq!(get("refusal"), "-", "{line}"),
            Some(reason) => {
                let text = get("refusal");
                assert!(
                    text.contains(reason) && text.contains("git/team/app"),
                    "the refusal says why: {line}"
                );
            }
        }
        for secret in [&writer, &reader] {
            assert!(
                !line.contains(secret.as_str()),
                "a token in the access log: {line}"
            );
        }
    }
}
