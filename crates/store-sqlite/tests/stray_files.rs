//! What a crash leaves beside the database (a message file written but never committed, a
//! half-written temporary file) is found by `stray_files` and removed on request, and nothing
//! a message refers to ever is.

use mailroom_store::{
    BlobHash, Delivery, Directory, MailboxName, Mailboxes, Maintenance, Messages, NewAccount,
};
use mailroom_store_sqlite::SqliteStore;
use std::time::Duration;

#[tokio::test]
async fn crash_leftovers_are_reported_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    store.add_domain("example.test").await.unwrap();
    let account = store
        .create_account(NewAccount::new("a@example.test", "h"))
        .await
        .unwrap();
    let kept = b"Subject: kept\r\n\r\nstays\r\n".to_vec();
    store
        .deliver(Delivery {
            recipients: vec![account.id],
            content: kept.clone().into(),
        })
        .await
        .unwrap();
    assert!(
        store
            .stray_files(Duration::ZERO, false)
            .await
            .unwrap()
            .is_empty()
    );

    let orphan = b"Subject: never committed\r\n\r\nlost in a crash\r\n";
    let hex = BlobHash::of(orphan).to_hex();
    let blobs = dir.path().join("blobs");
    std::fs::write(blobs.join(&hex[..2]).join(&hex), orphan).unwrap();
    std::fs::write(blobs.join("tmp").join(format!("{hex}-1-0")), b"Subj").unwrap();
    std::fs::write(blobs.join("ab").join("not-a-blob"), b"x").unwrap();

    let found = store.stray_files(Duration::ZERO, false).await.unwrap();
    assert_eq!(found.orphans, 1);
    assert_eq!(found.orphan_bytes, orphan.len() as u64);
    assert_eq!(found.temporary, 1);
    assert_eq!(found.temporary_bytes, 4);
    // Young files may be a write in progress by the running server.
    let young = store
        .stray_files(Duration::from_secs(3600), true)
        .await
        .unwrap();
    assert!(young.is_empty(), "{young:?}");

    let removed = store.stray_files(Duration::ZERO, true).await.unwrap();
    assert_eq!(removed, found);
    assert!(
        store
            .stray_files(Duration::ZERO, false)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.check_integrity().await.unwrap().is_empty());
    let inbox = store
        .mailbox(account.id, &MailboxName::inbox())
        .await
        .unwrap()
        .unwrap();
    let list = store.message_list(inbox.id).await.unwrap();
    assert_eq!(list.len(), 1);

    // The same content delivered later is written again and reads back whole.
    store
        .deliver(Delivery {
            recipients: vec![account.id],
            content: orphan.to_vec().into(),
        })
        .await
        .unwrap();
    assert!(store.check_integrity().await.unwrap().is_empty());
}
