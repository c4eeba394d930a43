use crate::cli::AliasCommand;
use crate::commands::Naming;
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
            let domain = alias.rsplit('@').next().unwrap_or_default().to_string();
            store
                .add_alias(&alias, account.id)
                .await
                .map_err(|e| match e {
                    mailroom_store::StoreError::NotFound(_) => anyhow::anyhow!(
                        "no domain {domain}: an alias must be in a domain of this server"
                    ),
                    mailroom_store::StoreError::AlreadyExists(_) => {
                        anyhow::anyhow!("{alias} is already an account or an alias")
                    }
                    other => other.into(),
                })?;
            say!("{alias} now delivers to {}", account.address);
        }
        AliasCommand::List => {
            for alias in store.list_aliases().await? {
                say!("{} -> {}", alias.address, alias.target);
            }
        }
        AliasCommand::Remove { alias } => {
            store
                .remove_alias(&alias)
                .await
                .naming(|| format!("alias {alias}"))?;
            say!("alias {alias} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
