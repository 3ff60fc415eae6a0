//! The deploy files: the systemd unit passes `systemd-analyze verify` (with the unit's
//! binary pointed at the one under test) and has what OPERATIONS.md asks for; the example
//! configs pass `check-config`; the container and Kubernetes files have their probes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::process;
use crate::support::tools;
use crate::support::vcsgate::BINARY;

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(deploy(path)).unwrap_or_else(|e| panic!("deploy/{path}: {e}"))
}

#[test]
fn systemd_unit_passes_systemd_analyze_verify() {
    let analyze = tools::require("systemd-analyze", "systemd");
    let unit = read("systemd/vcsgate.service");
    for needed in [
        "User=vcsgate",
        "StateDirectory=vcsgate",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "ExecStart=/usr/bin/vcsgate --config /etc/vcsgate/proxy.toml serve",
    ] {
        assert!(unit.contains(needed), "vcsgate.service lacks {needed:?}");
    }
    // verify checks that ExecStart's program exists: point it at the binary under test.
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("vcsgate.service");
    std::fs::write(&path, unit.replace("/usr/bin/vcsgate", BINARY)).unwrap();
    let out = process::run(
        Command::new(analyze)
            .arg("verify")
            .arg(&path)
            .env("SYSTEMD_LOG_LEVEL", "notice"),
    );
    let complaints: Vec<&str> = out
        .stderr
        .lines()
        .chain(out.stdout.lines())
        .filter(|l| l.contains("vcsgate.service"))
        .collect();
    assert!(
        out.ok() && complaints.is_empty(),
        "systemd-analyze verify:\n{out}"
    );
}

#[test]
fn example_configs_pass_check_config() {
    // check-config wants the built-in backend's directory to exist: /srv/git becomes a
    // scratch directory, nothing else changes.
    let scratch = tempfile::tempdir().unwrap();
    let repos = scratch.path().join("git");
    std::fs::create_dir(&repos).unwrap();
    for config in [
        "systemd/proxy.toml",
        "container/proxy.toml",
        "kubernetes/proxy.toml",
    ] {
        let text = read(config).replace(
            "\"/srv/git\"",
            &format!("{:?}", repos.display().to_string()),
        );
        let path = scratch.path().join("proxy.toml");
        std::fs::write(&path, text).unwrap();
        let out = process::run(
            Command::new(BINARY)
                .arg("--config")
                .arg(&path)
                .arg("check-config")
                .env("VCSGATE_DB_PASSWORD", "example"),
        );
        assert!(out.ok(), "deploy/{config}:\n{out}");
    }
}

#[test]
fn container_and_kubernetes_files_have_probes_users_and_volumes() {
    let containerfile = read("container/Containerfile");
    for needed in [
        "AS build",
        "USER 10001",
        "git",
        "VOLUME [\"/etc/vcsgate\", \"/var/lib/vcsgate\"]",
        "HEALTHCHECK",
        "/healthz",
    ] {
        assert!(
            containerfile.contains(needed),
            "Containerfile lacks {needed:?}"
        );
    }
    let deployment = read("kubernetes/deployment.yaml");
    for needed in [
        "replicas: 2",
        "readinessProbe",
        "path: /readyz",
        "livenessProbe",
        "path: /healthz",
        "port: admin",
        "secretKeyRef",
        "runAsNonRoot: true",
    ] {
        assert!(
            deployment.contains(needed),
            "deployment.yaml lacks {needed:?}"
        );
    }
    assert!(read("kubernetes/pdb.yaml").contains("kind: PodDisruptionBudget"));
    assert!(read("kubernetes/service.yaml").contains("kind: Service"));
    let kustomization = read("kubernetes/kustomization.yaml");
    for file in ["deployment.yaml", "service.yaml", "pdb.yaml", "proxy.toml"] {
        assert!(
            kustomization.contains(file),
            "kustomization.yaml lacks {file}"
        );
    }
    assert!(read("kubernetes/proxy.toml").contains("postgres://"));
}
