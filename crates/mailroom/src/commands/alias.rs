//! `mailroom alias`.

use crate::cli::AliasCommand;
use mailroom_admin::Admin;
use std::process::ExitCode;

pub async fn run(admin: Admin, cmd: AliasCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AliasCommand::Add { alias, address } => {
            let account = admin.add_alias(&alias, &address).await?;
            say!("{alias} now delivers to {}", account.address);
        }
        AliasCommand::List => {
            for alias in admin.aliases().await? {
                say!("{} -> {}", alias.address, alias.target);
            }
        }
        AliasCommand::Remove { alias } => {
            admin.remove_alias(&alias).await?;
            say!("alias {alias} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
