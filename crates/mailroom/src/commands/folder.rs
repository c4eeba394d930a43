//! `mailroom folder`: an account's folders as the administrator sees them, and the repair of a
//! name stored under older rules (see `mailroom_store::MailboxName`).

use crate::cli::FolderCommand;
use crate::commands::find_account;
use anyhow::Context;
use mailroom_store::{MailboxName, Mailboxes};
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;

pub async fn run(store: SqliteStore, cmd: FolderCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FolderCommand::List { address } => {
            let account = find_account(&store, &address).await?;
            for mailbox in store.list_mailboxes(account.id).await? {
                let status = store.mailbox_status(mailbox.id).await?;
                let warning = mailbox
                    .name
                    .problem()
                    .map(|p| format!("  (breaks the name rules: {p})"))
                    .unwrap_or_default();
                say!(
                    "{:?}  {} messages{warning}",
                    mailbox.name.as_str(),
                    status.messages
                );
            }
        }
        FolderCommand::Rename { address, from, to } => {
            let account = find_account(&store, &address).await?;
            let old = MailboxName::existing(&from)
                .with_context(|| format!("folder {from:?} of {address}"))?;
            let new = MailboxName::new(&to).with_context(|| format!("new folder name {to:?}"))?;
            store
                .mailbox(account.id, &old)
                .await?
                .with_context(|| format!("{address} has no folder {from:?}"))?;
            store
                .rename_mailbox(account.id, &old, &new)
                .await
                .with_context(|| format!("renaming folder {from:?} of {address} to {to:?}"))?;
            say!("folder {from:?} of {address} is now {:?}", new.as_str());
        }
    }
    Ok(ExitCode::SUCCESS)
}
