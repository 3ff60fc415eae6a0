//! `store copy --to URL`: moves a whole store to another (SQLite → PostgreSQL and back).

use super::Failure;
use super::args::StoreCommand;
use crate::config::Config;
use crate::store::{self, copy};

/// A `sqlite://` target with a relative file is taken from the current directory (a
/// command-line argument, unlike `store.url`, which is relative to the config file).
fn target_url(given: &str) -> Result<String, Failure> {
    let Some((scheme, rest)) = given.split_once("://") else {
        return Err(Failure::usage(format!(
            "--to {}: expected postgres://USER@HOST/DB or sqlite://FILE",
            store::redact_url(given)
        )));
    };
    match scheme {
        "sqlite" => {
            let absolute = std::path::absolute(rest)
                .map_err(|e| Failure::usage(format!("--to {given}: {e}")))?;
            Ok(format!("sqlite://{}", absolute.display()))
        }
        "postgres" | "postgresql" => Ok(given.to_owned()),
        other => Err(Failure::usage(format!(
            "--to: unsupported scheme {other:?} (expected postgres:// or sqlite://)"
        ))),
    }
}

pub async fn run(config: &Config, command: StoreCommand) -> Result<(), Failure> {
    match command {
        StoreCommand::Copy { to } => {
            let target = target_url(&to)?;
            let shown = store::redact_url(&target);
            let report = copy::copy(config.store.url.expose(), &target)
                .await
                .map_err(|e| {
                    Failure::refused(format!(
                        "store copy from {} to {shown}: {e}",
                        config.store.redacted_url
                    ))
                })?;
            for (table, rows) in &report {
                println!("{table}: {rows} rows");
            }
            println!(
                "copied {} into {shown}; row counts verified",
                config.store.redacted_url
            );
            Ok(())
        }
    }
}
