//! The embedded backend against the shared storage conformance suite.

use mailroom_store::ManualClock;
use mailroom_store_sqlite::SqliteStore;
use std::sync::Arc;

async fn open(clock: Arc<ManualClock>) -> SqliteStore {
    // The directory must outlive the store; leaking it keeps the test simple and the OS
    // temp cleaner removes it.
    let dir = tempfile::tempdir().expect("temp dir").keep();
    SqliteStore::open_with_clock(&dir, clock).expect("open store")
}

mailroom_store_tests::conformance_tests!(open);
