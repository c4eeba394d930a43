use crate::cli::DomainCommand;
use crate::commands::account::{parse_limit_count, parse_limit_size};
use crate::commands::human;
use anyhow::Context;
use mailroom_store::{Directory, Domain, DomainUpdate};
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;

pub async fn run(store: SqliteStore, cmd: DomainCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DomainCommand::Add { name } => {
            let domain = store.add_domain(&name).await?;
            println!("domain {} added", domain.name);
        }
        DomainCommand::List => {
            for domain in store.list_domains().await? {
                println!("{}", describe(&domain));
            }
        }
        DomainCommand::Set {
            name,
            quota,
            max_messages,
            recovery_days,
        } => {
            let recovery_days = match recovery_days.as_deref() {
                None => None,
                Some(d) if d.eq_ignore_ascii_case("default") => Some(None),
                Some(d) => Some(Some(
                    d.parse::<u32>()
                        .with_context(|| format!("invalid number of days {d:?}"))?,
                )),
            };
            let update = DomainUpdate {
                default_quota_bytes: quota.as_deref().map(parse_limit_size).transpose()?,
                default_quota_messages: max_messages
                    .as_deref()
                    .map(parse_limit_count)
                    .transpose()?,
                recovery_days,
                dkim: None,
            };
            println!("{}", describe(&store.update_domain(&name, update).await?));
        }
        DomainCommand::Remove { name } => {
            store.remove_domain(&name).await?;
            println!("domain {name} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(d: &Domain) -> String {
    let mut out = d.name.clone();
    if let Some(q) = d.default_quota_bytes {
        out.push_str(&format!("  quota {}", human(q)));
    }
    if let Some(m) = d.default_quota_messages {
        out.push_str(&format!("  max-messages {m}"));
    }
    if let Some(days) = d.recovery_days {
        out.push_str(&format!("  recovery {days} days"));
    }
    out
}
