//! The `mailroom` binary: configuration, the admin CLI, and the wiring of the server.

/// `println!` for a command's output: a closed pipe or a full disk comes back as an error the
/// command returns (and `commands::run` reports, or swallows for a closed pipe), never a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::commands::OutputError)?
    }};
}

mod cli;
mod commands;
mod config;
mod transfer;

use clap::Parser;
use cli::{Cli, Command};
use config::Config;
use std::process::ExitCode;

/// The machine's UTC offset, read while the process is still single-threaded (the time crate
/// refuses to read it later, as that is unsound on Unix).
pub static LOCAL_OFFSET: std::sync::OnceLock<time::UtcOffset> = std::sync::OnceLock::new();

fn main() -> ExitCode {
    return_big_allocations_to_the_os();
    let _ =
        LOCAL_OFFSET.set(time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC));
    let cli = Cli::parse();
    init_logging(matches!(cli.command, Command::Serve { .. }));
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("mailroom: {}", commands::render(&e));
            return ExitCode::from(commands::EX_CONFIG);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailroom: cannot start the runtime: {e}");
            return ExitCode::from(commands::EX_SOFTWARE);
        }
    };
    runtime.block_on(commands::run(cli.command, config))
}

fn init_logging(serving: bool) {
    use std::io::IsTerminal;
    // Admin commands print their results; only the server logs at info by default.
    let default = if serving { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAILROOM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // A log reader that went away (a pipe's far end, a restarted collector) loses the lines,
    // never the server: tracing-subscriber would otherwise report the failed write with
    // eprintln!, which panics on the same closed stderr.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false);
    match std::env::var("MAILROOM_LOG_FORMAT").as_deref() {
        // One JSON object per line, for log shippers (Loki, Elasticsearch, journald's
        // collectors).
        Ok("json") => builder.json().with_current_span(false).init(),
        // Colours only for a person at a terminal: in a file, a pipe or the journal the
        // escape codes are noise.
        _ => builder
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .init(),
    }
    if let Ok(other) = std::env::var("MAILROOM_LOG_FORMAT")
        && other != "json"
        && other != "text"
    {
        tracing::warn!("MAILROOM_LOG_FORMAT={other:?} is not \"json\" or \"text\"; logging text");
    }
}

/// Every login's argon2id verification allocates ~19 MiB. glibc's default raises its mmap
/// threshold after the first such block is freed, so later ones come from the heap arenas and,
/// fragmented by the small allocations around them, are never returned: measured, 8-11 MiB of
/// RSS per login that stayed after the sessions ended. A fixed threshold keeps blocks this
/// large in their own mappings, unmapped on free.
fn return_big_allocations_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; it is called before any other thread
    // exists, and M_MMAP_THRESHOLD with a value under the maximum is always accepted.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
