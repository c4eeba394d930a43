//! One module per admin command; each returns the process exit code.

mod account;
mod alias;
pub(crate) mod backup;
mod check;
mod deliver;
mod domain;
mod folder;
pub(crate) mod queue;
mod quota;
mod recover;
pub(crate) mod serve;
mod transfer;

use crate::cli::Command;
use crate::config::Config;
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;

// sysexits.h, which MTAs read from a delivery agent.
pub const EX_USAGE: u8 = 64;
pub const EX_DATAERR: u8 = 65;
pub const EX_NOUSER: u8 = 67;
pub const EX_SOFTWARE: u8 = 70;
pub const EX_TEMPFAIL: u8 = 75;
pub const EX_CONFIG: u8 = 78;

pub async fn run(command: Command, config: Config) -> ExitCode {
    let result = match command {
        Command::Serve { demo } => serve::run(&config, demo).await,
        Command::Domain(cmd) => {
            with_store(&config, |s| domain::run(s, cmd, &config.hostname)).await
        }
        Command::Account(cmd) => with_store(&config, |s| account::run(s, cmd)).await,
        Command::Alias(cmd) => with_store(&config, |s| alias::run(s, cmd)).await,
        Command::Folder(cmd) => with_store(&config, |s| folder::run(s, cmd)).await,
        Command::Deliver { recipients } => return deliver::run(&config, recipients).await,
        Command::Check => with_store(&config, check::run).await,
        Command::Recover(cmd) => with_store(&config, |s| recover::run(s, cmd)).await,
        Command::Quota(cmd) => with_store(&config, |s| quota::run(s, cmd)).await,
        Command::Backup(cmd) => backup::run(&config, cmd).await,
        Command::Queue(cmd) => with_store(&config, |s| queue::run(s, cmd, &config)).await,
        Command::Export {
            address,
            format,
            dir,
        } => with_store(&config, |s| transfer::export(s, address, format, dir)).await,
        Command::Import {
            address,
            dir,
            format,
        } => with_store(&config, |s| transfer::import(s, address, dir, format)).await,
    };
    match result {
        Ok(code) => code,
        // `mailroom account list | head -1`: the reader has all it wanted.
        Err(e)
            if e.downcast_ref::<OutputError>()
                .is_some_and(|o| o.0.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mailroom: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writing a command's output failed (see `say!`).
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct OutputError(pub std::io::Error);

/// Opens the embedded store. Admin commands work whether or not the server runs: SQLite
/// serialises the writers of both processes, and the server hears of changes by polling.
pub fn open_store(config: &Config) -> anyhow::Result<SqliteStore> {
    use anyhow::Context;
    SqliteStore::open(&config.data_dir)
        .with_context(|| format!("opening the store in {}", config.data_dir.display()))
}

async fn with_store<F, Fut>(config: &Config, f: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(SqliteStore) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<ExitCode>>,
{
    f(open_store(config)?).await
}

/// Reads a secret from the first line of standard input.
pub fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    anyhow::ensure!(!password.is_empty(), "empty password on standard input");
    Ok(password)
}

/// A random password for accounts created without one: 20 characters from an unambiguous
/// alphabet, about 110 bits.
pub fn generate_password() -> anyhow::Result<String> {
    use std::io::Read;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut random = [0u8; 20];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
    Ok(random
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

/// Finds an account by address or fails with a message naming it.
pub async fn find_account(
    store: &SqliteStore,
    address: &str,
) -> anyhow::Result<mailroom_store::Account> {
    use anyhow::Context;
    use mailroom_store::Directory;
    store
        .account_by_address(address)
        .await?
        .with_context(|| format!("no account {address}"))
}

/// "1.5 GiB" style sizes for listings.
pub fn human(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}
