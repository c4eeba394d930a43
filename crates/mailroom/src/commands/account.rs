//! `mailroom account`: the operations are `mailroom_admin::Admin`'s; this prints them.

use crate::cli::{AccountCommand, AccountSettings, AppPasswordCommand};
use crate::commands::{human, password_from_stdin};
use mailroom_admin::Admin;
use std::process::ExitCode;

pub async fn run(admin: Admin, cmd: AccountCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AccountCommand::Add {
            address,
            password_stdin,
            settings,
        } => {
            // Every setting is checked before anything is created.
            let settings = parse(&settings)?;
            let password = password_stdin.then(password_from_stdin).transpose()?;
            let made = admin
                .add_account(&address, password.as_deref(), &settings)
                .await?;
            say!("account {} created", made.account.address);
            if let Some(password) = made.generated_password {
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
            for a in admin.accounts().await? {
                let quota = a.quota_bytes.map_or("-".to_string(), human);
                let mut state = String::new();
                if !a.enabled {
                    state.push_str("  (disabled)");
                }
                if a.admin {
                    state.push_str("  (administrator)");
                }
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
            let account = admin.remove_account(&address).await?;
            say!("account {} removed", account.address);
        }
        AccountCommand::Password {
            address,
            password_stdin,
        } => {
            let password = password_stdin.then(password_from_stdin).transpose()?;
            let generated = admin.set_password(&address, password.as_deref()).await?;
            say!("password of {address} changed");
            if let Some(password) = generated {
                say!("password: {password}");
            }
        }
        AccountCommand::AppPassword(cmd) => app_passwords(&admin, cmd).await?,
        AccountCommand::Set {
            address,
            settings,
            enable,
            disable,
            admin: make_admin,
            no_admin,
        } => {
            let mut settings = parse(&settings)?;
            if enable || disable {
                settings.enabled = Some(enable);
            }
            if make_admin || no_admin {
                settings.admin = Some(make_admin);
            }
            let a = admin.update_account(&address, &settings).await?;
            say!(
                "{}: quota {}, protocols {}, pop3 {}, {}{}",
                a.address,
                a.quota_bytes.map_or("none".to_string(), human),
                a.protocols,
                a.pop3_policy.map_or("default", |p| p.as_str()),
                if a.enabled { "enabled" } else { "disabled" },
                if a.admin { ", administrator" } else { "" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse(s: &AccountSettings) -> anyhow::Result<mailroom_admin::AccountSettings> {
    Ok(mailroom_admin::AccountSettings::parse(
        s.quota.as_deref(),
        s.max_messages.as_deref(),
        s.protocols.as_deref(),
        s.pop3_policy.as_deref(),
    )?)
}

async fn app_passwords(admin: &Admin, cmd: AppPasswordCommand) -> anyhow::Result<()> {
    match cmd {
        AppPasswordCommand::Add { address, name } => {
            let secret = admin.add_app_password(&address, &name).await?;
            say!("app password {name:?} of {address} created");
            // Shown once: only its hash is kept.
            say!("secret: {secret}");
        }
        AppPasswordCommand::List { address } => {
            say!("{:<30} CREATED (UTC)", "NAME");
            for p in admin.app_passwords(&address).await? {
                say!("{:<30} {}", p.name, format_time(p.created_at));
            }
        }
        AppPasswordCommand::Remove { address, name } => {
            admin.remove_app_password(&address, &name).await?;
            say!("app password {name:?} of {address} removed");
        }
    }
    Ok(())
}

pub(crate) fn format_time(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| unix.to_string())
}
