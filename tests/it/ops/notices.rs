//! `[notify]` added by a SIGHUP reload: the new notifier delivers the expiry notice of a
//! token, and `vcsgate_token_expiry_notices_total{channel,outcome}` counts it.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{admin_get, with_admin};
use crate::support::vcsgate::{Gate, GateConfig};
use crate::support::webhook::Receiver;
use crate::support::{poll, secrets};

const WEBHOOK_SECRET: &str = "whsec-ops-5e1d9b0c42aa";

#[test]
fn hup_adds_notify_and_the_notice_is_delivered_and_counted() {
    let (config, admin) = with_admin(GateConfig::new());
    let mut gate = Gate::new(config.clone());
    gate.cli_ok(&["user", "add", "alice", "--email", "alice@example.com"]);
    let at = OffsetDateTime::now_utc().unix_timestamp() + 3 * 24 * 3600;
    let expires = OffsetDateTime::from_unix_timestamp(at)
        .unwrap()
        .format(&Rfc3339)
        .unwrap();
    gate.token(
        "alice",
        "soon",
        &["--scope", "read_repository", "--expires", &expires],
    );
    gate.serve();

    secrets::remember(WEBHOOK_SECRET);
    let scratch = tempfile::tempdir().unwrap();
    let secret_file = scratch.path().join("webhook.secret");
    std::fs::write(&secret_file, WEBHOOK_SECRET).unwrap();
    let hook = Receiver::start(0);
    let mut notify = toml::Table::new();
    notify.insert("webhook_url".into(), hook.url("/hooks/ops").into());
    notify.insert(
        "webhook_secret_file".into(),
        secret_file.display().to_string().into(),
    );
    notify.insert("scan_interval_secs".into(), 1.into());
    gate.reconfigure(config.section("notify", notify));
    gate.signal("HUP");
    let delivered = poll::until(Duration::from_secs(30), Duration::from_millis(100), || {
        !hook.accepted().is_empty()
    });
    assert!(
        delivered.is_some(),
        "no notice after the reload added [notify]:\n{}",
        gate.log()
    );
    let counted = r#"vcsgate_token_expiry_notices_total{channel="webhook",outcome="delivered"} 1"#;
    let seen = poll::until(Duration::from_secs(10), Duration::from_millis(100), || {
        admin_get(admin, "/metrics").body.contains(counted)
    });
    assert!(
        seen.is_some(),
        "the delivery is not counted:\n{}",
        admin_get(admin, "/metrics").body
    );
    gate.stop();
}
