//! `mailroom api-token`: bearer tokens of the HTTP API.

use crate::cli::ApiTokenCommand;
use crate::commands::account::format_time;
use mailroom_admin::Admin;
use std::process::ExitCode;

pub async fn run(admin: Admin, cmd: ApiTokenCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ApiTokenCommand::Add { name, account } => {
            let secret = admin.add_api_token(&name, account.as_deref()).await?;
            let owner = account.as_deref().unwrap_or("the administrators");
            say!("API token {name:?} for {owner} created");
            // Shown once: only its hash is kept.
            say!("secret: {secret}");
        }
        ApiTokenCommand::List => {
            let accounts = admin.accounts().await?;
            say!("{:<30} {:<40} CREATED (UTC)", "NAME", "FOR");
            for token in admin.api_tokens().await? {
                let owner = match token.account {
                    None => "administrators".to_string(),
                    Some(id) => accounts
                        .iter()
                        .find(|a| a.id == id)
                        .map_or_else(|| format!("account {}", id.0), |a| a.address.clone()),
                };
                say!(
                    "{:<30} {:<40} {}",
                    token.name,
                    owner,
                    format_time(token.created_at)
                );
            }
        }
        ApiTokenCommand::Remove { name } => {
            admin.remove_api_token(&name).await?;
            say!("API token {name:?} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
