//! A real embedded store in a temp directory, driven by a manual clock.

use mailroom_store::{AccountId, MailboxName, ManualClock, NewAccount, Store};
use mailroom_store_sqlite::SqliteStore;
use std::sync::Arc;

pub const START: i64 = 1_800_000_000;

pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    /// alice@here.test and bob@here.test; here.test is local.
    pub alice: AccountId,
    pub bob: AccountId,
    _dir: tempfile::TempDir,
}

impl TestStore {
    pub async fn new() -> TestStore {
        let clock = Arc::new(ManualClock::new(START));
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_with_clock(dir.path(), clock.clone()).unwrap());
        store.add_domain("here.test").await.unwrap();
        let alice = store
            .create_account(NewAccount::new("alice@here.test", "$argon2id$test"))
            .await
            .unwrap()
            .id;
        let bob = store
            .create_account(NewAccount::new("bob@here.test", "$argon2id$test"))
            .await
            .unwrap()
            .id;
        TestStore {
            store,
            clock,
            alice,
            bob,
            _dir: dir,
        }
    }

    /// Deletes a blob's file behind the store's back, as a disk fault would.
    pub fn lose_blob(&self, hash: &mailroom_store::BlobHash) {
        let hex = hash.to_hex();
        let path = self._dir.path().join("blobs").join(&hex[..2]).join(&hex);
        std::fs::remove_file(path).unwrap();
    }

    /// The bytes of every message in the account's INBOX, oldest first.
    pub async fn inbox(&self, account: AccountId) -> Vec<String> {
        let inbox = self
            .store
            .mailbox(account, &MailboxName::inbox())
            .await
            .unwrap()
            .unwrap();
        let mut out = Vec::new();
        for entry in self.store.message_entries(inbox.id).await.unwrap() {
            let bytes = self.store.read_blob(&entry.blob).await.unwrap();
            out.push(String::from_utf8_lossy(&bytes).into_owned());
        }
        out
    }
}
