//! vcsgate's entry point: parse the command line, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use vcsgate::cli::{self, Cli};
use vcsgate::config::LogFormat;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        cli::args::Command::Serve => "info",
        _ => "warn",
    };
    let filter =
        EnvFilter::try_from_env("VCSGATE_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(vcsgate::logging::Stderr);
    match cli::log_format(&cli) {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_target(false)
            .init(),
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
    // The control runtime: store, change feed, signals. `serve` runs its request workers on
    // threads of their own.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("vcsgate: cannot start the async runtime: {error}");
            return ExitCode::from(cli::EXIT_REFUSED);
        }
    };
    let outcome = runtime.block_on(cli::run(cli));
    drop(runtime);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("vcsgate: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
