//! Export and import: an account's mail leaves as Maildir or mbox and comes back into another
//! account with the same folders, flags, dates, bytes and POP3 UIDLs.

use crate::support;

use mailroom_store::{Directory, FlagOp, Flags, MailboxName, Mailboxes, Messages};
use mailroom_store_sqlite::SqliteStore;
use support::{Admin, picture};

fn setup() -> (tempfile::TempDir, Admin, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mailroom.toml");
    std::fs::write(&config, "data_dir = \"data\"\n").expect("config");
    let data = dir.path().join("data");
    let admin = Admin::at(config);
    admin.account("from@example.test", "pw");
    for i in 0..3 {
        admin.deliver(
            "from@example.test",
            format!("Subject: move {i}\nFrom: a@b\n\nFrom the start\nline {i}\n").as_bytes(),
        );
    }
    tokio::runtime::Runtime::new().expect("rt").block_on(async {
        let store = SqliteStore::open(&data).expect("open");
        let account = store
            .account_by_address("from@example.test")
            .await
            .unwrap()
            .unwrap();
        let inbox = store
            .mailbox(account.id, &MailboxName::inbox())
            .await
            .unwrap()
            .unwrap();
        let work = store
            .create_mailbox(account.id, &MailboxName::new("Work/Old").unwrap(), None)
            .await
            .unwrap();
        store.copy_messages(inbox.id, &[1], work.id).await.unwrap();
        let flags = Flags::from_names(["\\Seen", "\\Answered", "$Later"]);
        store
            .store_flags(inbox.id, &[2], FlagOp::Add(flags), None)
            .await
            .unwrap();
    });
    (dir, admin, data)
}

fn round_trip(format: &str) {
    let (dir, admin, data) = setup();
    let out = dir.path().join(format);
    let export = admin.ok(
        &[
            "export",
            "from@example.test",
            "--format",
            format,
            out.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        export.contains("exported 4 messages in 8 folders"),
        "{export}"
    );
    admin.account("to@example.test", "pw");
    let import = admin.ok(&["import", "to@example.test", out.to_str().unwrap()], b"");
    assert!(import.contains("imported 4 messages"), "{import}");
    assert_eq!(
        picture(&data, "to@example.test"),
        picture(&data, "from@example.test")
    );
}

#[test]
fn maildir_round_trip() {
    round_trip("maildir");
}

#[test]
fn mbox_round_trip() {
    round_trip("mbox");
}

#[test]
fn import_refuses_an_empty_directory() {
    let (dir, admin, _) = setup();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = admin.run(
        &["import", "from@example.test", empty.to_str().unwrap()],
        b"",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no Maildir folders"));
}
