use crate::cli::AliasCommand;
use anyhow::Context;
use mailroom_store::Directory;
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;

pub async fn run(store: SqliteStore, cmd: AliasCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AliasCommand::Add { alias, address } => {
            let account = store
                .account_by_address(&address)
                .await?
                .with_context(|| format!("no account {address}"))?;
            store.add_alias(&alias, account.id).await?;
            say!("{alias} now delivers to {}", account.address);
        }
        AliasCommand::List => {
            for alias in store.list_aliases().await? {
                say!("{} -> {}", alias.address, alias.target);
            }
        }
        AliasCommand::Remove { alias } => {
            store.remove_alias(&alias).await?;
            say!("alias {alias} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
