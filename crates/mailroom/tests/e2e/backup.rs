//! Backups as an administrator uses them: run, list, verify (and catch a corrupted file),
//! restore a removed account with every message, flag and POP3 UIDL, restore the whole store.

use crate::support;

use mailroom_store::{Directory, FlagOp, Flags, MailboxName, Mailboxes, Messages, SystemFlags};
use mailroom_store_sqlite::SqliteStore;
use support::{Admin, picture};

struct Env {
    _dir: tempfile::TempDir,
    admin: Admin,
    data: std::path::PathBuf,
}

fn scram_keys(data: &std::path::Path, address: &str) -> Option<String> {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = SqliteStore::open(data).expect("open");
        let account = store.account_by_address(address).await.unwrap();
        account.and_then(|a| a.scram_sha256)
    })
}

fn env() -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mailroom.toml");
    std::fs::write(&config, "data_dir = \"data\"\n").expect("config");
    let data = dir.path().join("data");
    Env {
        admin: Admin::at(config),
        _dir: dir,
        data,
    }
}

#[test]
fn backup_remove_restore_and_verify() {
    let env = env();
    let a = &env.admin;
    a.account("kim@example.test", "pw");
    for i in 0..4 {
        a.deliver(
            "kim@example.test",
            format!("Subject: saved {i}\n\nbody {i}\n").as_bytes(),
        );
    }
    // A folder, a copy and some flags, as a mail client would leave them.
    tokio::runtime::Runtime::new().expect("rt").block_on(async {
        let store = SqliteStore::open(&env.data).expect("open");
        let kim = store
            .account_by_address("kim@example.test")
            .await
            .unwrap()
            .unwrap();
        let inbox = store
            .mailbox(kim.id, &MailboxName::inbox())
            .await
            .unwrap()
            .unwrap();
        let work = store
            .create_mailbox(kim.id, &MailboxName::new("Work/2026").unwrap(), None)
            .await
            .unwrap();
        store
            .copy_messages(inbox.id, &[2, 3], work.id)
            .await
            .unwrap();
        store
            .store_flags(
                inbox.id,
                &[1],
                FlagOp::Add(Flags::from_names(["\\Seen", "$Important"])),
                None,
            )
            .await
            .unwrap();
        store
            .store_flags(
                work.id,
                &[1],
                FlagOp::Add(Flags::system(SystemFlags::FLAGGED)),
                None,
            )
            .await
            .unwrap();
    });
    let before = picture(&env.data, "kim@example.test");

    let run = a.ok(&["backup", "run"], b"");
    assert!(run.contains("1 accounts, 6 messages, 4 blobs"), "{run}");
    let id = run
        .split_whitespace()
        .nth(1)
        .expect("id")
        .trim_end_matches(':')
        .to_string();
    assert!(a.ok(&["backup", "list"], b"").contains(&id));
    assert_eq!(
        a.ok(&["backup", "verify"], b"").trim(),
        format!("backup {id} ok")
    );

    let keys_before = scram_keys(&env.data, "kim@example.test");
    assert!(keys_before.is_some(), "account add stores SCRAM keys");
    a.ok(&["account", "remove", "kim@example.test"], b"");
    let restored = a.ok(
        &["backup", "restore", &id, "--account", "kim@example.test"],
        b"",
    );
    assert!(restored.contains("restored 6 message(s)"), "{restored}");
    assert_eq!(
        picture(&env.data, "kim@example.test"),
        before,
        "every message, flag, date and UIDL is back"
    );
    // The password came back too.
    let out = a.run(&["account", "list"], b"");
    assert!(String::from_utf8_lossy(&out.stdout).contains("kim@example.test"));
    assert_eq!(
        scram_keys(&env.data, "kim@example.test"),
        keys_before,
        "and the SCRAM keys with it"
    );

    // Restoring a folder that has mail now goes beside it, untouched.
    let again = a.ok(
        &[
            "backup",
            "restore",
            &id,
            "--account",
            "kim@example.test",
            "--folder",
            "Work/2026",
        ],
        b"",
    );
    assert!(again.contains("restored 2 message(s)"), "{again}");
    let after = picture(&env.data, "kim@example.test");
    let day = format!("{}-{}-{}", &id[..4], &id[4..6], &id[6..8]);
    assert_eq!(
        after
            .get(&format!("Restored {day}/Work/2026"))
            .map(Vec::len),
        Some(2),
        "{:?}",
        after.keys()
    );
    assert_eq!(after.get("Work/2026"), before.get("Work/2026"));

    // A second backup copies no message file again.
    let second = a.ok(&["backup", "run"], b"");
    assert!(second.contains("copied 0 new blobs"), "{second}");

    // A corrupted file in the backup set is named by verify.
    let blobs = env.data.join("backups/blobs");
    let fan = std::fs::read_dir(&blobs)
        .unwrap()
        .flatten()
        .find(|e| std::fs::read_dir(e.path()).unwrap().next().is_some())
        .unwrap();
    let victim = std::fs::read_dir(fan.path())
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let name = victim.file_name().unwrap().to_string_lossy().into_owned();
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(&victim, bytes).unwrap();
    let verify = a.run(&["backup", "verify", &id], b"");
    assert!(!verify.status.success());
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(
        report.contains(&format!("blob {name}: corrupted")),
        "{report}"
    );
}

#[test]
fn whole_store_restore_needs_a_stopped_server() {
    let env = env();
    let a = &env.admin;
    a.account("lee@example.test", "pw");
    a.deliver("lee@example.test", b"Subject: keep me\n\nbody\n");
    let run = a.ok(&["backup", "run"], b"");
    let id = run
        .split_whitespace()
        .nth(1)
        .expect("id")
        .trim_end_matches(':')
        .to_string();
    a.ok(&["account", "remove", "lee@example.test"], b"");
    let restored = a.ok(&["backup", "restore", &id], b"");
    assert!(restored.contains("store replaced by backup"), "{restored}");
    let list = a.ok(&["account", "list"], b"");
    assert!(list.contains("lee@example.test"), "{list}");
    assert_eq!(a.ok(&["check"], b"").trim(), "store ok");
}
