use crate::fixtures::{Fixture, name_of, sample_message};
use mailroom_store::{FlagOp, Flags, MailDate, NewMessage, RecoveryFilter, SpecialUse};

pub async fn expunged_mail_is_recoverable(f: &Fixture) {
    let s = &f.store;
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let content = sample_message("precious");
    let mut message = NewMessage::new(content.clone());
    message.internal_date = Some(MailDate {
        seconds: 1_600_000_000,
        offset_minutes: 120,
    });
    let uid = s.append(inbox.id, message).await.unwrap().uid;
    let flags = Flags::from_names(["\\Seen", "\\Flagged", "$Label1"]);
    s.store_flags(inbox.id, &[uid], FlagOp::Replace(flags.clone()), None)
        .await
        .unwrap();
    assert_eq!(s.expunge(inbox.id, &[uid]).await.unwrap(), [uid]);
    assert!(s.message_list(inbox.id).await.unwrap().is_empty());

    let listed = s
        .list_recoverable(f.alice, RecoveryFilter::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let entry = &listed[0];
    assert_eq!(
        (entry.mailbox_name.as_str(), entry.subject.as_deref()),
        ("INBOX", Some("precious"))
    );
    assert_eq!(entry.from.as_deref(), Some("Carol <carol@example.org>"));
    assert_eq!(entry.flags, flags);
    assert_eq!(entry.deleted_at, f.clock_now());
    let filtered = RecoveryFilter {
        mailbox_name: Some("Sent".into()),
        ..Default::default()
    };
    assert!(
        s.list_recoverable(f.alice, filtered)
            .await
            .unwrap()
            .is_empty()
    );

    let restored = s.restore(f.alice, &[entry.id]).await.unwrap();
    assert_eq!(restored.len(), 1);
    assert_eq!(restored[0].mailbox, inbox.id);
    assert!(restored[0].uid > uid, "a fresh UID");
    let meta = s.message_meta(inbox.id, &[restored[0].uid]).await.unwrap();
    assert_eq!(meta[0].flags, flags);
    assert_eq!(
        meta[0].internal_date,
        MailDate {
            seconds: 1_600_000_000,
            offset_minutes: 120
        }
    );
    assert_eq!(s.read_blob(&meta[0].blob).await.unwrap(), content);
    assert!(
        s.list_recoverable(f.alice, RecoveryFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.check_integrity().await.unwrap(), Vec::<String>::new());
}

pub async fn deleted_folder_comes_back(f: &Fixture) {
    let s = &f.store;
    let folder = s
        .create_mailbox(f.alice, &name_of("Clients/Acme"), None)
        .await
        .unwrap();
    f.append(&folder, 2).await;
    s.delete_mailbox(f.alice, &name_of("Clients/Acme"))
        .await
        .unwrap();
    s.delete_mailbox(f.alice, &name_of("Clients"))
        .await
        .unwrap();
    assert!(
        s.mailbox(f.alice, &name_of("Clients/Acme"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.account(f.alice).await.unwrap().used_messages, 0);
    let listed = s
        .list_recoverable(f.alice, RecoveryFilter::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    let ids: Vec<_> = listed.iter().map(|m| m.id).collect();
    let restored = s.restore(f.alice, &ids).await.unwrap();
    assert!(restored.iter().all(|r| r.mailbox_name == "Clients/Acme"));
    let back = f.mailbox(f.alice, "Clients/Acme").await;
    assert_ne!(back.id, folder.id);
    assert_eq!(s.message_list(back.id).await.unwrap().len(), 2);
    assert!(
        s.mailbox(f.alice, &name_of("Clients"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(s.check_integrity().await.unwrap(), Vec::<String>::new());
}

pub async fn purge_after_retention_then_blob_gc(f: &Fixture) {
    let s = &f.store;
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let shared = s
        .append(inbox.id, NewMessage::new(sample_message("shared")))
        .await
        .unwrap()
        .uid;
    let archive = f.mailbox(f.alice, "Archive").await;
    s.copy_messages(inbox.id, &[shared], archive.id)
        .await
        .unwrap();
    let lonely = s
        .append(inbox.id, NewMessage::new(sample_message("lonely")))
        .await
        .unwrap()
        .uid;
    let metas = s.message_meta(inbox.id, &[shared, lonely]).await.unwrap();
    s.expunge(inbox.id, &[shared, lonely]).await.unwrap();

    let day = 86_400;
    f.clock.advance(13 * day);
    let retention_cutoff = |now: i64| now - 14 * day;
    let early = s
        .purge_recovery(retention_cutoff(f.clock_now()))
        .await
        .unwrap();
    assert_eq!(early.messages, 0, "nothing is purged before 14 days");
    assert_eq!(
        s.list_recoverable(f.alice, RecoveryFilter::default())
            .await
            .unwrap()
            .len(),
        2
    );

    f.clock.advance(day + 1);
    let purged = s
        .purge_recovery(retention_cutoff(f.clock_now()))
        .await
        .unwrap();
    assert_eq!(purged.messages, 2);
    assert!(
        s.list_recoverable(f.alice, RecoveryFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    // The copy in Archive still holds the shared blob; the other blob waits out the grace period.
    assert_eq!(purged.blobs, 0);
    f.clock.advance(2 * 3600);
    let later = s
        .purge_recovery(retention_cutoff(f.clock_now()))
        .await
        .unwrap();
    assert_eq!(later.blobs, 1);
    assert!(s.read_blob(&metas[1].blob).await.is_err());
    assert!(s.read_blob(&metas[0].blob).await.is_ok());
    assert_eq!(s.check_integrity().await.unwrap(), Vec::<String>::new());
}

pub async fn trash_and_junk_expire_into_recovery(f: &Fixture) {
    let s = &f.store;
    let trash = f.mailbox(f.alice, "Trash").await;
    let junk = f.mailbox(f.bob, "Junk").await;
    let inbox = f.mailbox(f.alice, "INBOX").await;
    f.append(&trash, 2).await;
    f.append(&junk, 1).await;
    f.append(&inbox, 1).await;
    let day = 86_400;
    f.clock.advance(10 * day);
    f.append(&trash, 1).await;
    let cutoff = f.clock_now() - 5 * day;
    assert_eq!(
        s.expire_special_use(SpecialUse::Trash, cutoff)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.expire_special_use(SpecialUse::Junk, cutoff)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.message_list(trash.id).await.unwrap().len(),
        1,
        "the recent one stays"
    );
    assert_eq!(
        s.message_list(inbox.id).await.unwrap().len(),
        1,
        "other folders are untouched"
    );
    let recoverable = s
        .list_recoverable(f.alice, RecoveryFilter::default())
        .await
        .unwrap();
    assert_eq!(recoverable.len(), 2);
    assert!(recoverable.iter().all(|r| r.mailbox_name == "Trash"));
    assert_eq!(s.check_integrity().await.unwrap(), Vec::<String>::new());
}

pub async fn recoverable_messages_can_be_shown_and_restored_elsewhere(f: &Fixture) {
    let s = &f.store;
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let archive = f.mailbox(f.alice, "Archive").await;
    let content = sample_message("shown");
    let uid = s
        .append(inbox.id, NewMessage::new(content.clone()))
        .await
        .unwrap()
        .uid;
    s.store_flags(
        inbox.id,
        &[uid],
        FlagOp::Add(Flags::from_names(["\\Seen"])),
        None,
    )
    .await
    .unwrap();
    s.expunge(inbox.id, &[uid]).await.unwrap();
    let entry = s
        .list_recoverable(f.alice, RecoveryFilter::default())
        .await
        .unwrap()[0]
        .clone();
    let meta = s.recoverable_meta(f.alice, &[entry.id]).await.unwrap();
    assert_eq!(meta.len(), 1);
    assert_eq!(i64::from(meta[0].uid), entry.id.0);
    assert_eq!(meta[0].facts.subject.as_deref(), Some("shown"));
    assert_eq!(s.read_blob(&meta[0].blob).await.unwrap(), content);
    assert!(
        s.recoverable_meta(f.bob, &[entry.id])
            .await
            .unwrap()
            .is_empty(),
        "not bob's"
    );
    let bob_inbox = f.mailbox(f.bob, "INBOX").await;
    assert!(
        s.restore_into(f.alice, &[entry.id], bob_inbox.id)
            .await
            .is_err(),
        "not into bob's"
    );
    let restored = s
        .restore_into(f.alice, &[entry.id], archive.id)
        .await
        .unwrap();
    assert_eq!(restored[0].mailbox, archive.id);
    let back = s
        .message_meta(archive.id, &[restored[0].uid])
        .await
        .unwrap();
    assert_eq!(back[0].flags, Flags::from_names(["\\Seen"]));
    assert_eq!(s.read_blob(&back[0].blob).await.unwrap(), content);
}

pub async fn restore_clears_the_deleted_flag(f: &Fixture) {
    let s = &f.store;
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let uid = f.append(&inbox, 1).await[0];
    let doomed = Flags::from_names(["\\Deleted", "\\Answered"]);
    s.store_flags(inbox.id, &[uid], FlagOp::Add(doomed), None)
        .await
        .unwrap();
    s.expunge(inbox.id, &[uid]).await.unwrap();
    let entry = s
        .list_recoverable(f.alice, RecoveryFilter::default())
        .await
        .unwrap()[0]
        .clone();
    assert!(
        entry
            .flags
            .system
            .contains(mailroom_store::SystemFlags::DELETED),
        "listed as it was"
    );
    let restored = s.restore(f.alice, &[entry.id]).await.unwrap();
    let back = s.message_meta(inbox.id, &[restored[0].uid]).await.unwrap();
    assert_eq!(back[0].flags, Flags::from_names(["\\Answered"]));
}
