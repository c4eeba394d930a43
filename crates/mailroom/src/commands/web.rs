//! The web side's view of this binary's backups: `mailroom_http::Backups` over the embedded
//! store's backup functions (the same ones `mailroom backup` runs).

use crate::commands::backup::{restore_account, take_backup};
use mailroom_http::{BackupInfo, Backups};
use mailroom_store_sqlite::{BackupReader, Manifest, SqliteStore, list_backups, verify_backup};
use std::path::PathBuf;

pub struct StoreBackups {
    pub store: SqliteStore,
    pub root: PathBuf,
    pub keep: usize,
}

fn info(m: &Manifest) -> BackupInfo {
    BackupInfo {
        id: m.id.clone(),
        accounts: m.accounts,
        messages: m.messages,
        bytes: m.db_bytes + m.blob_bytes,
    }
}

impl StoreBackups {
    fn known(&self, id: &str) -> Result<(), String> {
        let listed = list_backups(&self.root).map_err(|e| e.to_string())?;
        if listed.iter().any(|m| m.id == id) {
            Ok(())
        } else {
            Err(format!("no backup {id} in {}", self.root.display()))
        }
    }
}

#[async_trait::async_trait]
impl Backups for StoreBackups {
    async fn list(&self) -> Result<Vec<BackupInfo>, String> {
        let root = self.root.clone();
        let list = tokio::task::spawn_blocking(move || list_backups(&root))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        Ok(list.iter().map(info).collect())
    }

    async fn run(&self) -> Result<BackupInfo, String> {
        take_backup(&self.store, &self.root, self.keep, false)
            .await
            .map(|m| info(&m))
            .map_err(|e| crate::commands::render(&e))
    }

    async fn verify(&self, id: &str) -> Result<Vec<String>, String> {
        self.known(id)?;
        let (root, id) = (self.root.clone(), id.to_string());
        tokio::task::spawn_blocking(move || verify_backup(&root, &id, &|_, _, _| {}))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }

    async fn restore_account(
        &self,
        id: &str,
        address: &str,
        folder: Option<&str>,
    ) -> Result<u64, String> {
        self.known(id)?;
        let (store, root) = (self.store.clone(), self.root.clone());
        let (id, address) = (id.to_string(), address.to_string());
        let folder = folder.map(str::to_string);
        // The backup's reader is a SQLite connection, which stays on one thread: the
        // restore runs on a blocking thread of its own, driving its awaits there.
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let reader = BackupReader::open(&root, &id).map_err(|e| e.to_string())?;
            runtime
                .block_on(restore_account(
                    &store,
                    &reader,
                    &address,
                    folder.as_deref(),
                ))
                .map(|n| n as u64)
                .map_err(|e| crate::commands::render(&e))
        })
        .await
        .map_err(|e| e.to_string())?
    }
}
