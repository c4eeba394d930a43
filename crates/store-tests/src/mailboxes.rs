use crate::fixtures::{Fixture, name_of};
use mailroom_store::{FlagOp, Flags, SpecialUse, StoreError, SystemFlags};

pub async fn rename_keeps_identity_uidvalidity_and_uids(f: &Fixture) {
    let s = &f.store;
    let work = s
        .create_mailbox(f.alice, &name_of("Work/2025"), None)
        .await
        .unwrap();
    let parent = f.mailbox(f.alice, "Work").await;
    let uids = f.append(&work, 3).await;
    s.rename_mailbox(f.alice, &name_of("Work"), &name_of("Projects/Old"))
        .await
        .unwrap();
    assert!(
        s.mailbox(f.alice, &name_of("Work"))
            .await
            .unwrap()
            .is_none()
    );
    let moved = f.mailbox(f.alice, "Projects/Old/2025").await;
    assert_eq!(
        (moved.id, moved.uid_validity, moved.uid_next),
        (work.id, work.uid_validity, 4)
    );
    assert_eq!(f.mailbox(f.alice, "Projects/Old").await.id, parent.id);
    let listed: Vec<u32> = s
        .message_list(moved.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(listed, uids);
    assert!(
        f.mailbox(f.alice, "Projects").await.uid_validity > 0,
        "missing parents are created"
    );
    assert!(matches!(
        s.rename_mailbox(f.alice, &name_of("Projects"), &name_of("Sent"))
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        s.rename_mailbox(f.alice, &name_of("Projects"), &name_of("Projects/Sub"))
            .await,
        Err(StoreError::NotAllowed(_))
    ));
    assert!(matches!(
        s.rename_mailbox(f.alice, &name_of("Nope"), &name_of("Other"))
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn rename_inbox_moves_its_messages(f: &Fixture) {
    let inbox = f.mailbox(f.alice, "INBOX").await;
    f.append(&inbox, 2).await;
    f.store
        .rename_mailbox(f.alice, &name_of("INBOX"), &name_of("Old Inbox"))
        .await
        .unwrap();
    let old = f.mailbox(f.alice, "Old Inbox").await;
    assert_eq!(f.store.message_list(old.id).await.unwrap().len(), 2);
    let inbox_after = f.mailbox(f.alice, "INBOX").await;
    assert_eq!(inbox_after.id, inbox.id);
    assert!(f.store.message_list(inbox.id).await.unwrap().is_empty());
    assert_eq!(f.store.account(f.alice).await.unwrap().used_messages, 2);
}

pub async fn recreated_mailbox_gets_new_uidvalidity(f: &Fixture) {
    let s = &f.store;
    let first = s
        .create_mailbox(f.alice, &name_of("Temp"), None)
        .await
        .unwrap();
    assert!(matches!(
        s.create_mailbox(f.alice, &name_of("Temp"), None).await,
        Err(StoreError::AlreadyExists(_))
    ));
    s.delete_mailbox(f.alice, &name_of("Temp")).await.unwrap();
    let second = s
        .create_mailbox(f.alice, &name_of("Temp"), Some(SpecialUse::Flagged))
        .await
        .unwrap();
    assert_ne!(first.uid_validity, second.uid_validity);
    assert_ne!(first.id, second.id);
    assert_eq!(second.special_use, Some(SpecialUse::Flagged));
    assert!(matches!(
        s.delete_mailbox(f.alice, &name_of("inbox")).await,
        Err(StoreError::NotAllowed(_))
    ));
}

pub async fn subscriptions_follow_names(f: &Fixture) {
    let s = &f.store;
    s.set_subscribed(f.alice, &name_of("Not/There/Yet"), true)
        .await
        .unwrap();
    s.create_mailbox(f.alice, &name_of("Lists"), None)
        .await
        .unwrap();
    s.set_subscribed(f.alice, &name_of("Lists"), true)
        .await
        .unwrap();
    s.rename_mailbox(f.alice, &name_of("Lists"), &name_of("Groups"))
        .await
        .unwrap();
    let subs: Vec<String> = s
        .subscriptions(f.alice)
        .await
        .unwrap()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert!(subs.contains(&"Not/There/Yet".to_string()));
    assert!(subs.contains(&"Groups".to_string()));
    assert!(!subs.contains(&"Lists".to_string()));
    assert!(f.mailbox(f.alice, "Groups").await.subscribed);
    s.set_subscribed(f.alice, &name_of("Groups"), false)
        .await
        .unwrap();
    assert!(!f.mailbox(f.alice, "Groups").await.subscribed);
}

pub async fn status_counts(f: &Fixture) {
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let uids = f.append(&inbox, 4).await;
    let seen = Flags::system(SystemFlags::SEEN);
    f.store
        .store_flags(inbox.id, &uids[..2], FlagOp::Add(seen), None)
        .await
        .unwrap();
    let deleted = Flags::system(SystemFlags::DELETED);
    f.store
        .store_flags(inbox.id, &uids[3..], FlagOp::Add(deleted), None)
        .await
        .unwrap();
    let st = f.store.mailbox_status(inbox.id).await.unwrap();
    assert_eq!(
        (st.messages, st.unseen, st.deleted, st.uid_next),
        (4, 2, 1, 5)
    );
    let metas = f.store.message_meta(inbox.id, &uids).await.unwrap();
    assert_eq!(st.size, metas.iter().map(|m| m.size).sum::<u64>());
    assert_eq!(
        st.highest_modseq,
        f.mailbox(f.alice, "INBOX").await.highest_modseq
    );
}
