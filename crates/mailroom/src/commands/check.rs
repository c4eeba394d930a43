use mailroom_store::Maintenance;
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;

pub async fn run(store: SqliteStore) -> anyhow::Result<ExitCode> {
    let problems = store.check_integrity().await?;
    if problems.is_empty() {
        println!("store ok");
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &problems {
        println!("{problem}");
    }
    println!("{} problem(s) found", problems.len());
    Ok(ExitCode::FAILURE)
}
