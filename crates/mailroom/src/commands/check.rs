//! `mailroom check [--repair]`: the store's integrity, folder names, and the files a crash
//! can leave behind.

use crate::commands::{human, open_existing_store};
use crate::config::Config;
use mailroom_store::{Directory, Mailboxes, Maintenance, StrayFiles};
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;
use std::time::Duration;

/// While the server runs, a file this young may be a delivery in progress.
const IN_PROGRESS: Duration = Duration::from_secs(3600);

pub async fn run(config: &Config, repair: bool) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(config)?;
    let mut problems = store.check_integrity().await?;
    problems.extend(folder_names(&store).await?);
    // With the server stopped (its lock free) every stray file is a leftover; with it
    // running, only old ones are.
    let server_stopped = crate::commands::serve::lock_data_dir(&config.data_dir).ok();
    let min_age = if server_stopped.is_some() {
        Duration::ZERO
    } else {
        IN_PROGRESS
    };
    let stray = store.stray_files(min_age, repair).await?;
    drop(server_stopped);
    if !stray.is_empty() {
        let text = describe(&stray);
        if repair {
            say!("removed {text}");
        } else {
            problems.push(format!("{text}; `mailroom check --repair` removes them"));
        }
    }
    if problems.is_empty() {
        say!("store ok");
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &problems {
        say!("{problem}");
    }
    say!("{} problem(s) found", problems.len());
    Ok(ExitCode::FAILURE)
}

fn describe(stray: &StrayFiles) -> String {
    let mut parts = Vec::new();
    if stray.orphans > 0 {
        parts.push(format!(
            "{} message file(s) no message refers to ({})",
            stray.orphans,
            human(stray.orphan_bytes)
        ));
    }
    if stray.temporary > 0 {
        parts.push(format!(
            "{} temporary file(s) of interrupted writes in blobs/tmp ({})",
            stray.temporary,
            human(stray.temporary_bytes)
        ));
    }
    parts.join(" and ")
}

/// Folders stored before today's name rules that break them, each with the command that
/// repairs it.
async fn folder_names(store: &SqliteStore) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for account in store.list_accounts().await? {
        for mailbox in store.list_mailboxes(account.id).await? {
            if let Some(problem) = mailbox.name.problem() {
                let suggestion = mailroom_store::MailboxName::repaired(mailbox.name.as_str());
                out.push(format!(
                    "{}: folder {:?} breaks the folder name rules ({problem}); repair: mailroom folder rename {} '{}' '{}'",
                    account.address,
                    mailbox.name.as_str(),
                    account.address,
                    mailbox.name.as_str().replace('\'', "'\\''"),
                    suggestion.as_str().replace('\'', "'\\''"),
                ));
            }
        }
    }
    Ok(out)
}
