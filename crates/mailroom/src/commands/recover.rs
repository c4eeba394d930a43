use crate::cli::RecoverCommand;
use crate::commands::{find_account, human};
use anyhow::bail;
use mailroom_store::{Recovery, RecoveryFilter, RecoveryId};
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;

pub async fn run(store: SqliteStore, cmd: RecoverCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RecoverCommand::List {
            address,
            since,
            folder,
        } => {
            let account = find_account(&store, &address).await?;
            let filter = RecoveryFilter {
                deleted_since: since.as_deref().map(parse_date).transpose()?,
                mailbox_name: folder,
            };
            let entries = store.list_recoverable(account.id, filter).await?;
            say!(
                "{:>8}  {:<16}  {:<16} {:<28} {:<36} {:>9}",
                "ID",
                "DELETED (UTC)",
                "FOLDER",
                "FROM",
                "SUBJECT",
                "SIZE"
            );
            for e in &entries {
                say!(
                    "{:>8}  {:<16}  {:<16} {:<28} {:<36} {:>9}",
                    e.id,
                    format_time(e.deleted_at),
                    clip(&e.mailbox_name, 16),
                    clip(e.from.as_deref().unwrap_or(""), 28),
                    clip(e.subject.as_deref().unwrap_or(""), 36),
                    human(e.size)
                );
            }
            say!("{} recoverable message(s)", entries.len());
        }
        RecoverCommand::Restore {
            address,
            all,
            id,
            since,
        } => {
            let account = find_account(&store, &address).await?;
            let ids: Vec<RecoveryId> = if !id.is_empty() {
                id.into_iter().map(RecoveryId).collect()
            } else if all || since.is_some() {
                let filter = RecoveryFilter {
                    deleted_since: since.as_deref().map(parse_date).transpose()?,
                    mailbox_name: None,
                };
                store
                    .list_recoverable(account.id, filter)
                    .await?
                    .iter()
                    .map(|e| e.id)
                    .collect()
            } else {
                bail!("say what to restore: --all, --id ID..., or --since DATE");
            };
            let restored = store.restore(account.id, &ids).await?;
            for r in &restored {
                say!("restored {} into {} as UID {}", r.id, r.mailbox_name, r.uid);
            }
            say!("{} message(s) restored", restored.len());
            if restored.len() < ids.len() {
                eprintln!(
                    "{} ID(s) were not recoverable for {address}",
                    ids.len() - restored.len()
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_date(text: &str) -> anyhow::Result<i64> {
    Ok(mailroom_admin::parse_date(text)?)
}

fn format_time(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| unix.to_string())
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("2026-11-25").unwrap(), 1_795_564_800);
        assert_eq!(
            parse_date("2026-11-25T01:00:00+01:00").unwrap(),
            1_795_564_800
        );
        assert!(parse_date("25/11/2026").is_err());
        assert_eq!(format_time(1_795_564_800), "2026-11-25 00:00");
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
