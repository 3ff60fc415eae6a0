//! "A token sent as `Bearer` skipped the repository-scope check that Basic got": a token
//! limited with `--repo git/team/app` (its user may write all of `git/team/**`) reaches
//! `team/other` in none of the credential forms, on any endpoint, nor with `git` (a clone
//! and a forced push).

use super::{Probe, Site, run_probes};
use crate::support::git::{Cred, GitClient, Remote};
use crate::support::http;
use crate::support::vcsgate::GateConfig;
use crate::support::wire::{head, header, with_body};

#[test]
fn repo_limits_apply_to_bearer_exactly_as_to_basic() {
    let mut site = Site::new(GateConfig::new());
    site.gate.grant("alice", "git/team/**", "write");
    let limited = site.gate.token(
        "alice",
        "app-only",
        &["--scope", "write_repository", "--repo", "git/team/app"],
    );
    site.gate.serve();
    let other_before = site.main_of(&site.other);
    let forms = [
        ("Basic", http::basic("anyone", &limited)),
        ("token as user", http::basic(&limited, "")),
        ("x-oauth-basic", http::basic(&limited, "x-oauth-basic")),
        ("Bearer", http::bearer(&limited)),
    ];
    let other = "/git/team/other.git";
    let mut probes = Vec::new();
    for (form, auth) in &forms {
        let auth = vec![auth.clone()];
        probes.push(Probe::new(
            &format!("{form}: other upload-pack refs"),
            head(
                "GET",
                &format!("{other}/info/refs?service=git-upload-pack"),
                &auth,
            ),
            &[403],
        ));
        probes.push(Probe::new(
            &format!("{form}: other receive-pack refs"),
            head(
                "GET",
                &format!("{other}/info/refs?service=git-receive-pack"),
                &auth,
            ),
            &[403],
        ));
        let mut post = auth.clone();
        post.push(header(
            "Content-Type",
            "application/x-git-upload-pack-request",
        ));
        probes.push(Probe::new(
            &format!("{form}: other upload-pack POST"),
            with_body("POST", &format!("{other}/git-upload-pack"), &post, b"0000"),
            &[403],
        ));
        probes.push(Probe::new(
            &format!("{form}: other dumb HEAD"),
            head("GET", &format!("{other}/HEAD"), &auth),
            &[403],
        ));
        probes.push(Probe::new(
            &format!("{form}: app is allowed"),
            head(
                "GET",
                "/git/team/app.git/info/refs?service=git-upload-pack",
                &auth,
            ),
            &[200],
        ));
    }
    run_probes(&site, &probes);

    let git = GitClient::new();
    let bearer_other = Remote::new(&site.gate.url(), other, &Cred::Bearer(limited.clone()));
    let out = git.clone(&bearer_other, "other");
    assert!(!out.ok(), "Bearer must not clone team/other:\n{out}");
    let bearer_app = Remote::new(
        &site.gate.url(),
        "/git/team/app.git",
        &Cred::Bearer(limited.clone()),
    );
    let out = git.clone(&bearer_app, "app");
    assert!(
        out.ok(),
        "Bearer clones team/app:\n{out}\n{}",
        site.gate.log()
    );

    // A real write to team/other (forced: the ref would move if it reached the backend),
    // from a clone of team/app, with the limited token in every form.
    git.commit("app", "elsewhere.txt", "elsewhere\n");
    for (form, cred) in [
        ("Basic", Cred::basic(&limited)),
        ("token as user", Cred::TokenAsUser(limited.clone())),
        ("x-oauth-basic", Cred::TokenXOauth(limited.clone())),
        ("Bearer", Cred::Bearer(limited.clone())),
    ] {
        let remote = Remote::new(&site.gate.url(), other, &cred);
        let args = ["push", "--force", &remote.url, "HEAD:refs/heads/main"];
        let out = git.run(Some(&remote), &args, Some(&git.dir("app")));
        assert!(
            !out.ok(),
            "{form}: the push to team/other must be refused:\n{out}"
        );
    }

    assert_eq!(site.main_of(&site.other), other_before, "team/other moved");
    site.assert_backend_saw_only(&limited, &["/git/team/app.git/"]);
}
