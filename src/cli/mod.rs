//! The command line: `serve`, `check-config` and the admin commands. `main.rs` only parses
//! arguments and calls [`run`]; every failure comes back as a [`Failure`] with the exit
//! code of the contract (1 refused, 2 bad arguments, 64 bad config).

mod admin;
pub mod args;
pub use crate::manage::expiry;
mod output;
mod serve;
mod store;

use std::path::PathBuf;

pub use args::Cli;
use args::Command;

use crate::config::{self, Config};

/// Exit codes (DESIGN.md).
pub const EXIT_REFUSED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_CONFIG: u8 = 64;

/// A command that did not succeed: what to print (one line) and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn refused(message: impl ToString) -> Self {
        Failure {
            code: EXIT_REFUSED,
            message: message.to_string(),
        }
    }

    pub fn usage(message: impl ToString) -> Self {
        Failure {
            code: EXIT_USAGE,
            message: message.to_string(),
        }
    }

    pub fn config(error: &config::Error) -> Self {
        Failure {
            code: EXIT_CONFIG,
            message: error.to_string(),
        }
    }
}

/// Where the config file is, by the contract's precedence.
pub fn config_path(cli: &Cli) -> PathBuf {
    let env = std::env::var_os("VCSGATE_CONFIG");
    config::locate(cli.config.as_deref(), env.as_deref())
}

/// The log format the config file asks for (`[log] format`); text when the file cannot be
/// read (the command then reports why).
pub fn log_format(cli: &Cli) -> config::LogFormat {
    config::load(&config_path(cli)).map_or(config::LogFormat::Text, |c| c.log_format)
}

fn load_config(cli: &Cli) -> Result<Config, Failure> {
    config::load(&config_path(cli)).map_err(|e| Failure::config(&e))
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let config = load_config(&cli)?;
    match cli.command {
        Command::CheckConfig => {
            serve::check_files(&config)?;
            println!(
                "{}: ok ({} route{}, store {})",
                config.path.display(),
                config.routes.len(),
                if config.routes.len() == 1 { "" } else { "s" },
                config.store.redacted_url
            );
            for route in &config.routes {
                if route.kind == crate::vocabulary::Vcs::Git
                    && matches!(route.target, crate::config::Target::Url { .. })
                {
                    println!(
                        "note: route {}: rewinds (force pushes) of protected refs are not \
                         checked on URL backends; deletes and ref patterns are",
                        route.prefix
                    );
                }
            }
            Ok(())
        }
        Command::Serve => serve::serve(config).await,
        Command::User(command) => admin::user(&config, command).await,
        Command::Grant(command) => admin::grant(&config, command).await,
        Command::Token(command) => admin::token(&config, command).await,
        Command::Audit(command) => admin::audit(&config, command).await,
        Command::Protect(command) => admin::protect(&config, command).await,
        Command::Store(command) => store::run(&config, command).await,
    }
}
