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

/// A store that holds folder names of older rules (the attack of issue 17: `CREATE
/// "../../../tmp/x/escaped"` was accepted, then the administrator's export wrote outside DIR).
/// Export now writes only inside its directory and keeps the names; `check` reports them and
/// `folder rename` repairs them.
#[test]
fn unsafe_names_already_in_the_store_stay_inside_the_export() {
    let (dir, admin, data) = setup();
    // Only possible behind the store's back now: it refuses such names.
    let db = rusqlite::Connection::open(data.join("mail.db")).expect("db");
    for (old, new) in [("Work/Old", "../../../escaped"), ("Work", "a/../../x")] {
        db.execute("UPDATE mailboxes SET name = ?2 WHERE name = ?1", [old, new])
            .expect("rename behind the store's back");
    }
    drop(db);
    let target = dir.path().join("x/y/z");
    for format in ["mbox", "maildir"] {
        let out = target.join(format);
        let report = admin.ok(
            &[
                "export",
                "from@example.test",
                "--format",
                format,
                out.to_str().unwrap(),
            ],
            b"",
        );
        assert!(report.contains("exported 4 messages"), "{report}");
    }
    let names = |p: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(p)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(dir.path()), ["data", "mailroom.toml", "x"]);
    assert_eq!(names(&dir.path().join("x")), ["y"]);
    assert_eq!(names(&dir.path().join("x/y")), ["z"]);
    assert_eq!(names(&target), ["maildir", "mbox"]);
    // Import takes the names back under the nearest name of today's rules, and says so.
    admin.account("copy@example.test", "pw");
    let import = admin.ok(
        &[
            "import",
            "copy@example.test",
            target.join("maildir").to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        import.contains("folder \"../../../escaped\" is imported as \"__/__/__/escaped\""),
        "{import}"
    );
    let copy = picture(&data, "copy@example.test");
    let original = picture(&data, "from@example.test");
    assert_eq!(copy["__/__/__/escaped"], original["../../../escaped"]);
    assert_eq!(copy["INBOX"], original["INBOX"]);

    let check = admin.run(&["check"], b"");
    assert!(!check.status.success());
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        report.contains(
            "from@example.test: folder \"../../../escaped\" breaks the folder name rules"
        ) && report.contains(
            "repair: mailroom folder rename from@example.test '../../../escaped' '__/__/__/escaped'"
        ),
        "{report}"
    );
    let refused = admin.run(
        &[
            "folder",
            "rename",
            "from@example.test",
            "a/../../x",
            "b/../c",
        ],
        b"",
    );
    assert!(!refused.status.success());
    for (old, new) in [("../../../escaped", "Escaped"), ("a/../../x", "Work")] {
        admin.ok(&["folder", "rename", "from@example.test", old, new], b"");
    }
    assert_eq!(admin.ok(&["check"], b"").trim(), "store ok");
}
