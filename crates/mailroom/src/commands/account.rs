use crate::cli::{AccountCommand, AccountSettings, AppPasswordCommand};
use crate::commands::{Naming, find_account, generate_password, human, password_from_stdin};
use anyhow::{Context, bail};
use mailroom_auth::{app_password, hash_password, scram_credentials};
use mailroom_store::{AccountUpdate, Directory, NewAccount};
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;

pub async fn run(store: SqliteStore, cmd: AccountCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AccountCommand::Add {
            address,
            password_stdin,
            settings,
        } => {
            // Every setting is checked before anything is created.
            let update = settings_update(&settings)?;
            let (password, generated) = choose_password(password_stdin)?;
            let hash = hash_password(&password)?;
            let mut new = NewAccount::new(&address, hash);
            // SCRAM-SHA-256 keys from the same password (RFC 5803 form).
            new.scram_sha256 = Some(scram_credentials(&password)?);
            let domain = address
                .rsplit('@')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            let account = store.create_account(new).await.map_err(|e| match e {
                mailroom_store::StoreError::NotFound(_) => anyhow::anyhow!(
                    "no domain {domain}: add it first with `mailroom domain add {domain}`"
                ),
                mailroom_store::StoreError::AlreadyExists(_) => {
                    anyhow::anyhow!("{address} is already an account or an alias")
                }
                other => other.into(),
            })?;
            store.update_account(account.id, update).await?;
            say!("account {} created", account.address);
            if generated {
                say!("password: {password}");
            }
        }
        AccountCommand::List => {
            say!(
                "{:<40} {:>9} {:>11} {:>11}  {:<22} POP3",
                "ADDRESS",
                "MESSAGES",
                "USED",
                "QUOTA",
                "PROTOCOLS"
            );
            for a in store.list_accounts().await? {
                let quota = a.quota_bytes.map_or("-".to_string(), human);
                let state = if a.enabled { "" } else { "  (disabled)" };
                say!(
                    "{:<40} {:>9} {:>11} {:>11}  {:<22} {}{state}",
                    a.address,
                    a.used_messages,
                    human(a.used_bytes),
                    quota,
                    a.protocols.to_string(),
                    a.pop3_policy.map_or("default", |p| p.as_str())
                );
            }
        }
        AccountCommand::Remove { address } => {
            let account = find_account(&store, &address).await?;
            store.remove_account(account.id).await?;
            say!("account {} removed", account.address);
        }
        AccountCommand::Password {
            address,
            password_stdin,
        } => {
            let account = find_account(&store, &address).await?;
            let (password, generated) = choose_password(password_stdin)?;
            let update = AccountUpdate {
                password_hash: Some(hash_password(&password)?),
                scram_sha256: Some(Some(scram_credentials(&password)?)),
                ..Default::default()
            };
            store.update_account(account.id, update).await?;
            say!("password of {} changed", account.address);
            if generated {
                say!("password: {password}");
            }
        }
        AccountCommand::AppPassword(cmd) => app_passwords(&store, cmd).await?,
        AccountCommand::Set {
            address,
            settings,
            enable,
            disable,
        } => {
            let account = find_account(&store, &address).await?;
            let mut update = settings_update(&settings)?;
            if enable || disable {
                update.enabled = Some(enable);
            }
            let a = store.update_account(account.id, update).await?;
            say!(
                "{}: quota {}, protocols {}, pop3 {}, {}",
                a.address,
                a.quota_bytes.map_or("none".to_string(), human),
                a.protocols,
                a.pop3_policy.map_or("default", |p| p.as_str()),
                if a.enabled { "enabled" } else { "disabled" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn app_passwords(store: &SqliteStore, cmd: AppPasswordCommand) -> anyhow::Result<()> {
    match cmd {
        AppPasswordCommand::Add { address, name } => {
            let account = find_account(store, &address).await?;
            let (secret, secret_hash) = app_password::generate()?;
            store
                .add_app_password(account.id, &name, &secret_hash)
                .await
                .naming(|| format!("app password {name:?} of {}", account.address))?;
            say!("app password {name:?} of {} created", account.address);
            // Shown once: only its hash is kept.
            say!("secret: {secret}");
        }
        AppPasswordCommand::List { address } => {
            let account = find_account(store, &address).await?;
            say!("{:<30} CREATED (UTC)", "NAME");
            for p in store.app_passwords(account.id).await? {
                say!("{:<30} {}", p.name, format_time(p.created_at));
            }
        }
        AppPasswordCommand::Remove { address, name } => {
            let account = find_account(store, &address).await?;
            store
                .remove_app_password(account.id, &name)
                .await
                .naming(|| format!("app password {name:?} of {}", account.address))?;
            say!("app password {name:?} of {} removed", account.address);
        }
    }
    Ok(())
}

fn format_time(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| unix.to_string())
}

fn choose_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        Ok((password_from_stdin()?, false))
    } else {
        Ok((generate_password()?, true))
    }
}

fn settings_update(s: &AccountSettings) -> anyhow::Result<AccountUpdate> {
    Ok(AccountUpdate {
        quota_bytes: s.quota.as_deref().map(parse_limit_size).transpose()?,
        quota_messages: s
            .max_messages
            .as_deref()
            .map(parse_limit_count)
            .transpose()?,
        protocols: s.protocols.as_deref().map(str::parse).transpose()?,
        pop3_policy: s.pop3_policy.as_deref().map(parse_policy).transpose()?,
        ..Default::default()
    })
}

/// keep | delete | default (the server's configured default).
fn parse_policy(text: &str) -> anyhow::Result<Option<mailroom_store::Pop3Policy>> {
    if text.eq_ignore_ascii_case("default") {
        return Ok(None);
    }
    Ok(Some(text.parse()?))
}

/// "25GB", "500 MiB" → bytes; "none" → no limit.
pub(crate) fn parse_limit_size(text: &str) -> anyhow::Result<Option<u64>> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    match text.trim().parse::<bytesize::ByteSize>() {
        Ok(size) => Ok(Some(size.as_u64())),
        Err(_) => {
            bail!("invalid size {text:?}: use a number and a unit, e.g. 500MiB or 25GB, or none")
        }
    }
}

pub(crate) fn parse_limit_count(text: &str) -> anyhow::Result<Option<u64>> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    text.trim()
        .parse()
        .map(Some)
        .with_context(|| format!("invalid count {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_limit_size("1MiB").unwrap(), Some(1 << 20));
        assert_eq!(parse_limit_size("25GB").unwrap(), Some(25_000_000_000));
        assert_eq!(parse_limit_size("none").unwrap(), None);
        assert!(parse_limit_size("lots").is_err());
        assert_eq!(parse_limit_count("100").unwrap(), Some(100));
        assert!(parse_limit_count("-1").is_err());
    }
}
