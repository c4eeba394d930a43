use mailroom_store::{Directory, Mailboxes, Maintenance};
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;

pub async fn run(store: SqliteStore) -> anyhow::Result<ExitCode> {
    let mut problems = store.check_integrity().await?;
    problems.extend(folder_names(&store).await?);
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
