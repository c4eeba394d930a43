use crate::cli::QuotaCommand;
use crate::commands::{find_account, human};
use mailroom_admin::{parse_count_limit, parse_size_limit};
use mailroom_store::{Account, AccountUpdate, Directory, Maintenance};
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;

pub async fn run(store: SqliteStore, cmd: QuotaCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        QuotaCommand::Set {
            address,
            size,
            messages,
        } => {
            let account = find_account(&store, &address).await?;
            let update = AccountUpdate {
                quota_bytes: Some(parse_size_limit(&size)?),
                quota_messages: messages.as_deref().map(parse_count_limit).transpose()?,
                ..Default::default()
            };
            let account = store.update_account(account.id, update).await?;
            show(&account)?;
        }
        QuotaCommand::Show { address } => show(&find_account(&store, &address).await?)?,
        QuotaCommand::Recalc { address } => {
            let accounts = match address {
                Some(address) => vec![find_account(&store, &address).await?],
                None => store.list_accounts().await?,
            };
            for account in accounts {
                let (before, after) = store.recalculate_usage(account.id).await?;
                let note = if before == after {
                    "unchanged"
                } else {
                    "corrected"
                };
                say!(
                    "{}: {} in {} messages ({note}; was {} in {})",
                    account.address,
                    human(after.0),
                    after.1,
                    human(before.0),
                    before.1
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(a: &Account) -> Result<(), super::OutputError> {
    let percent = |used: u64, limit: Option<u64>| match limit {
        Some(0) => " (100%)".to_string(),
        Some(limit) => format!(" ({:.0}%)", used as f64 * 100.0 / limit as f64),
        None => String::new(),
    };
    say!(
        "{}: storage {} of {}{}, messages {} of {}{}",
        a.address,
        human(a.used_bytes),
        a.quota_bytes.map_or("unlimited".to_string(), human),
        percent(a.used_bytes, a.quota_bytes),
        a.used_messages,
        a.quota_messages
            .map_or("unlimited".to_string(), |m| m.to_string()),
        percent(a.used_messages, a.quota_messages)
    );
    Ok(())
}
