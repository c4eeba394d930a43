//! One module per admin command; each returns the process exit code.

mod account;
mod acme;
mod alias;
mod api_token;
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
mod web;

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
            // The first domain of a new server is where its store begins.
            let open = match cmd {
                crate::cli::DomainCommand::Add { .. } => open_store,
                _ => open_existing_store,
            };
            match open(&config) {
                Ok(store) => domain::run(admin(store), cmd, &config.client_endpoints()).await,
                Err(e) => Err(e),
            }
        }
        Command::Account(cmd) => with_store(&config, |s| account::run(admin(s), cmd)).await,
        Command::Alias(cmd) => with_store(&config, |s| alias::run(admin(s), cmd)).await,
        Command::ApiToken(cmd) => with_store(&config, |s| api_token::run(admin(s), cmd)).await,
        Command::Folder(cmd) => with_store(&config, |s| folder::run(s, cmd)).await,
        Command::Deliver { recipients } => return deliver::run(&config, recipients).await,
        Command::Check { repair } => check::run(&config, repair).await,
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
            eprintln!("mailroom: {}", render(&e));
            ExitCode::FAILURE
        }
    }
}

/// The one way an error reaches the administrator: each cause once, outermost first. A
/// cause whose text its wrapper already quotes ("reading x: No such file", then "No such
/// file") is not repeated.
pub fn render(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || out.contains(text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(text);
    }
    out
}

/// Turns "not found" and "already exists" from the store into a sentence naming the object.
pub trait Naming<T> {
    /// `thing` is what was looked for, e.g. "domain example.com" (→ "no domain example.com").
    fn naming(self, thing: impl FnOnce() -> String) -> anyhow::Result<T>;
}

impl<T> Naming<T> for Result<T, mailroom_store::StoreError> {
    fn naming(self, thing: impl FnOnce() -> String) -> anyhow::Result<T> {
        use mailroom_store::StoreError;
        self.map_err(|e| match e {
            StoreError::NotFound(_) => anyhow::anyhow!("no {}", thing()),
            StoreError::AlreadyExists(_) => anyhow::anyhow!("{} already exists", thing()),
            other => other.into(),
        })
    }
}

/// Writing a command's output failed (see `say!`).
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct OutputError(pub std::io::Error);

/// Opens the embedded store, creating it if there is none yet (`serve`, `domain add`, a
/// whole-store restore). Admin commands work whether or not the server runs: SQLite
/// serialises the writers of both processes, and the server hears of changes by polling.
pub fn open_store(config: &Config) -> anyhow::Result<SqliteStore> {
    use anyhow::Context;
    SqliteStore::open(&config.data_dir)
        .with_context(|| format!("cannot open the store in {}", store_path(config)))
}

/// Opens the store an admin command works on, refusing to make a new empty one: run from
/// another directory or without the server's --config, a command would otherwise create
/// ./mailroom-data and then find no domains, accounts or mail in it.
pub fn open_existing_store(config: &Config) -> anyhow::Result<SqliteStore> {
    anyhow::ensure!(
        SqliteStore::exists(&config.data_dir),
        "no store in {}: run this with the server's configuration (--config FILE or \
         MAILROOM_CONFIG), or create the store with `mailroom serve` or `mailroom domain add`",
        store_path(config)
    );
    open_store(config)
}

/// The store's directory as an absolute path, for messages that must say which store they
/// mean.
pub fn store_path(config: &Config) -> String {
    std::path::absolute(&config.data_dir)
        .unwrap_or_else(|_| config.data_dir.clone())
        .display()
        .to_string()
}

/// The administrator's operations over the store (shared with the HTTP API).
fn admin(store: SqliteStore) -> mailroom_admin::Admin {
    mailroom_admin::Admin::new(std::sync::Arc::new(store))
}

async fn with_store<F, Fut>(config: &Config, f: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(SqliteStore) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<ExitCode>>,
{
    f(open_existing_store(config)?).await
}

/// Reads a secret from the first line of standard input.
pub fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    anyhow::ensure!(!password.is_empty(), "empty password on standard input");
    Ok(password)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_quoted_by_its_wrapper_is_said_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let text = io.to_string();
        let e = anyhow::Error::new(io).context(format!("reading x.toml: {text}"));
        assert_eq!(render(&e), format!("reading x.toml: {text}"));
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(render(&e), "outer: inner");
    }
}
