use crate::cli::DomainCommand;
use mailroom_store::Directory;
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
                println!("{}", domain.name);
            }
        }
        DomainCommand::Remove { name } => {
            store.remove_domain(&name).await?;
            println!("domain {name} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
