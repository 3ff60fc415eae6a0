//! vcsgate's entry point: parse the command line, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use vcsgate::cli::{self, Cli};

/// Bytes of log lines gathered before a write to stderr (written sooner when idle).
const LOG_BUFFER_BYTES: usize = 64 * 1024;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        cli::args::Command::Serve => "info",
        _ => "warn",
    };
    let filter =
        EnvFilter::try_from_env("VCSGATE_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    // Log lines are formatted on the thread that logs and written by a thread of their own
    // through a buffer: a busy server writes many lines per system call, and no request
    // waits for stderr. Lines are never dropped (a full queue makes loggers wait).
    let (writer, flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("vcsgate-log")
        .finish(std::io::BufWriter::with_capacity(
            LOG_BUFFER_BYTES,
            std::io::stderr(),
        ));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
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
    // Every log line is out before the one-line failure below.
    drop(flush_on_exit);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("vcsgate: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
