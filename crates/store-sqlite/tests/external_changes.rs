//! Two opens of one store stand for two processes (the server and `mailroom deliver`): a
//! subscriber in the first hears of a delivery made through the second.

use mailroom_store::{
    Delivery, Directory, MailboxEvent, MailboxName, Mailboxes, Messages, NewAccount,
};
use mailroom_store_sqlite::SqliteStore;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_from_another_process_reach_subscribers() {
    let dir = tempfile::tempdir().unwrap();
    let server = SqliteStore::open(dir.path()).unwrap();
    server.add_domain("example.test").await.unwrap();
    let account = server
        .create_account(NewAccount::new("a@example.test", "h"))
        .await
        .unwrap();
    let inbox = server
        .mailbox(account.id, &MailboxName::inbox())
        .await
        .unwrap()
        .unwrap();
    let _relay = server
        .watch_external_changes(Duration::from_millis(20))
        .await
        .unwrap();
    let mut events = server.subscribe_mailbox(inbox.id);

    let cli = SqliteStore::open(dir.path()).unwrap();
    let content = b"Subject: from the CLI\r\n\r\nhi\r\n".to_vec();
    cli.deliver(Delivery {
        recipients: vec![account.id],
        content: content.into(),
    })
    .await
    .unwrap();

    let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("the server heard of the delivery")
        .unwrap();
    assert!(matches!(event, MailboxEvent::Changed { mailbox, .. } if mailbox == inbox.id));
    assert_eq!(server.message_list(inbox.id).await.unwrap().len(), 1);
}
