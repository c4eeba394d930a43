use crate::fixtures::{Fixture, name_of, sample_message};
use mailroom_store::{
    ChangeKind, Delivery, DeliveryOutcome, FlagOp, Flags, MailDate, MailboxEvent, NewMessage,
    StoreError, SystemFlags,
};
use std::collections::HashSet;
use std::sync::Arc;

pub async fn concurrent_appends_get_distinct_ascending_uids(f: &Fixture) {
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = f.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .append(
                    inbox.id,
                    NewMessage::new(sample_message(&format!("concurrent {i}"))),
                )
                .await
                .expect("append")
        }));
    }
    let mut uids = Vec::new();
    for t in tasks {
        uids.push(t.await.expect("task").uid);
    }
    let distinct: HashSet<u32> = uids.iter().copied().collect();
    assert_eq!(distinct.len(), 40);
    let listed: Vec<u32> = f
        .store
        .message_list(inbox.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(listed, (1..=40).collect::<Vec<_>>());
    assert_eq!(f.mailbox(f.alice, "INBOX").await.uid_next, 41);
    // UIDs are never reused, not even after the newest message is expunged.
    f.store.expunge(inbox.id, &[40]).await.unwrap();
    let next = f.append(&inbox, 1).await;
    assert_eq!(next, [41]);
}

pub async fn modseq_only_grows_and_changes_are_logged(f: &Fixture) {
    let s = &f.store;
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let mut last = inbox.highest_modseq;
    let grew = |last: &mut u64, now: u64| {
        assert!(now > *last, "modseq {now} after {last}");
        *last = now;
    };
    let uids = f.append(&inbox, 3).await;
    grew(&mut last, f.mailbox(f.alice, "INBOX").await.highest_modseq);
    let before_flags = last;
    let update = s
        .store_flags(
            inbox.id,
            &uids[..2],
            FlagOp::Add(Flags::from_names(["\\Flagged", "$Work"])),
            None,
        )
        .await
        .unwrap();
    assert_eq!(update.changed.len(), 2);
    grew(&mut last, f.mailbox(f.alice, "INBOX").await.highest_modseq);
    // A STORE that changes nothing doesn't move MODSEQ.
    let noop = s
        .store_flags(
            inbox.id,
            &uids[..2],
            FlagOp::Add(Flags::system(SystemFlags::FLAGGED)),
            None,
        )
        .await
        .unwrap();
    assert!(noop.changed.is_empty());
    assert_eq!(f.mailbox(f.alice, "INBOX").await.highest_modseq, last);
    s.expunge(inbox.id, &uids[2..]).await.unwrap();
    grew(&mut last, f.mailbox(f.alice, "INBOX").await.highest_modseq);

    let changes = s.changes_since(inbox.id, before_flags).await.unwrap();
    let kinds: Vec<(u32, &ChangeKind)> = changes.iter().map(|c| (c.uid, &c.kind)).collect();
    let flagged = Flags::from_names(["\\Flagged", "$Work"]);
    assert_eq!(
        kinds,
        [
            (uids[0], &ChangeKind::Flags(flagged.clone())),
            (uids[1], &ChangeKind::Flags(flagged)),
            (uids[2], &ChangeKind::Expunged)
        ]
    );
    assert!(changes.windows(2).all(|w| w[0].modseq <= w[1].modseq));
    let from_start = s.changes_since(inbox.id, 0).await.unwrap();
    assert!(
        from_start
            .iter()
            .any(|c| c.uid == uids[0] && matches!(c.kind, ChangeKind::Added(_)))
    );
    assert!(s.changes_since(inbox.id, last).await.unwrap().is_empty());
}

pub async fn unchanged_since_reports_modified(f: &Fixture) {
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let uids = f.append(&inbox, 2).await;
    let base = f.mailbox(f.alice, "INBOX").await.highest_modseq;
    let seen = || Flags::system(SystemFlags::SEEN);
    f.store
        .store_flags(inbox.id, &uids[..1], FlagOp::Add(seen()), None)
        .await
        .unwrap();
    let update = f
        .store
        .store_flags(
            inbox.id,
            &uids,
            FlagOp::Add(Flags::system(SystemFlags::ANSWERED)),
            Some(base),
        )
        .await
        .unwrap();
    assert_eq!(update.modified, [uids[0]]);
    assert_eq!(
        update.changed.iter().map(|c| c.uid).collect::<Vec<_>>(),
        [uids[1]]
    );
}

pub async fn copy_shares_the_blob(f: &Fixture) {
    let s = &f.store;
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let archive = f.mailbox(f.alice, "Archive").await;
    let uids = f.append(&inbox, 2).await;
    s.store_flags(
        inbox.id,
        &uids,
        FlagOp::Add(Flags::from_names(["\\Seen", "Keep"])),
        None,
    )
    .await
    .unwrap();
    let copied = s.copy_messages(inbox.id, &uids, archive.id).await.unwrap();
    assert_eq!(
        copied
            .iter()
            .map(|c| (c.source, c.target))
            .collect::<Vec<_>>(),
        [(uids[0], 1), (uids[1], 2)]
    );
    let a = s.message_meta(inbox.id, &uids).await.unwrap();
    let b = s.message_meta(archive.id, &[1, 2]).await.unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.blob, y.blob);
        assert_eq!(x.flags, y.flags);
        assert_eq!(x.internal_date, y.internal_date);
    }
    assert_eq!(s.account(f.alice).await.unwrap().used_messages, 4);
    assert_eq!(s.check_integrity().await.unwrap(), Vec::<String>::new());
}

pub async fn move_is_not_a_deletion(f: &Fixture) {
    let s = &f.store;
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let junk = f.mailbox(f.alice, "Junk").await;
    let uids = f.append(&inbox, 3).await;
    let moved = s
        .move_messages(inbox.id, &uids[..2], junk.id)
        .await
        .unwrap();
    assert_eq!(moved.len(), 2);
    assert_eq!(s.message_list(inbox.id).await.unwrap().len(), 1);
    assert_eq!(s.message_list(junk.id).await.unwrap().len(), 2);
    assert!(
        s.list_recoverable(f.alice, Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    let changes = s
        .changes_since(inbox.id, inbox.highest_modseq)
        .await
        .unwrap();
    assert_eq!(
        changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Expunged)
            .count(),
        2
    );
    assert_eq!(s.account(f.alice).await.unwrap().used_messages, 3);
    assert_eq!(s.check_integrity().await.unwrap(), Vec::<String>::new());
}

/// RFC 6851 makes no exception for the selected mailbox: the messages get new UIDs, the old
/// ones are expunged, nothing goes to the recovery area and usage stays the same.
pub async fn move_into_the_same_mailbox_renumbers(f: &Fixture) {
    let s = &f.store;
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let uids = f.append(&inbox, 3).await;
    let moved = s
        .move_messages(inbox.id, &uids[..1], inbox.id)
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].source, uids[0]);
    assert!(moved[0].target > uids[2]);
    let now: Vec<u32> = s
        .message_list(inbox.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(now, vec![uids[1], uids[2], moved[0].target]);
    assert!(
        s.list_recoverable(f.alice, Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.account(f.alice).await.unwrap().used_messages, 3);
    assert_eq!(s.check_integrity().await.unwrap(), Vec::<String>::new());
}

pub async fn quota_is_enforced_and_exact(f: &Fixture) {
    let s = &f.store;
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let message = sample_message("sized");
    let size = message.len() as u64;
    s.update_account(
        f.alice,
        mailroom_store::AccountUpdate {
            quota_bytes: Some(Some(size * 2 + 1)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for _ in 0..2 {
        s.append(inbox.id, NewMessage::new(message.clone()))
            .await
            .unwrap();
    }
    let over = s.append(inbox.id, NewMessage::new(message.clone())).await;
    assert!(matches!(over, Err(StoreError::OverQuota)), "{over:?}");
    let account = s.account(f.alice).await.unwrap();
    assert_eq!((account.used_bytes, account.used_messages), (size * 2, 2));
    let archive = f.mailbox(f.alice, "Archive").await;
    assert!(matches!(
        s.copy_messages(inbox.id, &[1], archive.id).await,
        Err(StoreError::OverQuota)
    ));
    // Expunged mail leaves the quota (the recovery area doesn't count) and space frees up.
    s.expunge(inbox.id, &[1]).await.unwrap();
    assert_eq!(s.account(f.alice).await.unwrap().used_bytes, size);
    s.append(inbox.id, NewMessage::new(message)).await.unwrap();
    assert_eq!(s.check_integrity().await.unwrap(), Vec::<String>::new());
    let (before, after) = s.recalculate_usage(f.alice).await.unwrap();
    assert_eq!(before, after, "the running counters were exact");
    assert_eq!(after, (size * 2, 2));
}

pub async fn delivery_reports_per_recipient(f: &Fixture) {
    let s = &f.store;
    s.update_account(
        f.bob,
        mailroom_store::AccountUpdate {
            quota_messages: Some(Some(0)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let content: Arc<[u8]> = sample_message("for both").into();
    let outcomes = s
        .deliver(Delivery {
            recipients: vec![f.alice, f.bob, mailroom_store::AccountId(999_999)],
            content: content.clone(),
        })
        .await
        .unwrap();
    assert!(matches!(outcomes[0], DeliveryOutcome::Delivered(a) if a.uid == 1));
    assert_eq!(outcomes[1], DeliveryOutcome::OverQuota);
    assert_eq!(outcomes[2], DeliveryOutcome::NoSuchAccount);
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let meta = s.message_meta(inbox.id, &[1]).await.unwrap();
    assert_eq!(s.read_blob(&meta[0].blob).await.unwrap(), &content[..]);
    assert_eq!(meta[0].size, content.len() as u64);
}

pub async fn subscribers_hear_changes(f: &Fixture) {
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let mut mailbox_events = f.store.subscribe_mailbox(inbox.id);
    let mut account_events = f.store.subscribe_account(f.alice);
    f.append(&inbox, 1).await;
    let event = tokio::time::timeout(std::time::Duration::from_secs(5), mailbox_events.recv())
        .await
        .expect("event in time")
        .unwrap();
    let now = f.mailbox(f.alice, "INBOX").await.highest_modseq;
    assert_eq!(
        event,
        MailboxEvent::Changed {
            account: f.alice,
            mailbox: inbox.id,
            modseq: now
        }
    );
    f.store
        .create_mailbox(f.alice, &name_of("Fresh"), None)
        .await
        .unwrap();
    let mut saw_list_change = false;
    while let Ok(Ok(event)) =
        tokio::time::timeout(std::time::Duration::from_secs(5), account_events.recv()).await
    {
        if event == (MailboxEvent::ListChanged { account: f.alice }) {
            saw_list_change = true;
            break;
        }
    }
    assert!(saw_list_change);
}

pub async fn facts_are_stored(f: &Fixture) {
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let date = MailDate {
        seconds: 1_700_000_000,
        offset_minutes: -300,
    };
    let mut message = NewMessage::new(sample_message("Facts here"));
    message.internal_date = Some(date);
    message.flags = Flags::from_names(["\\Draft"]);
    let appended = f.store.append(inbox.id, message).await.unwrap();
    let meta = f
        .store
        .message_meta(inbox.id, &[appended.uid, 999])
        .await
        .unwrap();
    assert_eq!(meta.len(), 1);
    let m = &meta[0];
    assert_eq!(m.internal_date, date);
    assert_eq!(m.flags, Flags::from_names(["\\Draft"]));
    assert_eq!(m.facts.subject.as_deref(), Some("Facts here"));
    assert_eq!(
        m.facts.envelope.message_id.as_deref(),
        Some("<Facts.here@example.org>")
    );
    assert_eq!(
        (
            m.facts.body.media_type.as_str(),
            m.facts.body.media_subtype.as_str()
        ),
        ("text", "plain")
    );
    assert_eq!(m.saved_at, f.clock_now());
}

pub async fn accounts_are_isolated(f: &Fixture) {
    let s = &f.store;
    let alice_inbox = f.mailbox(f.alice, "INBOX").await;
    let bob_inbox = f.mailbox(f.bob, "INBOX").await;
    let uids = f.append(&alice_inbox, 1).await;
    assert!(matches!(
        s.mailbox_by_id(f.bob, alice_inbox.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.copy_messages(alice_inbox.id, &uids, bob_inbox.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.move_messages(alice_inbox.id, &uids, bob_inbox.id).await,
        Err(StoreError::NotFound(_))
    ));
    s.expunge(alice_inbox.id, &uids).await.unwrap();
    let entry = s
        .list_recoverable(f.alice, Default::default())
        .await
        .unwrap()[0]
        .id;
    assert!(s.restore(f.bob, &[entry]).await.unwrap().is_empty());
    assert!(
        s.list_recoverable(f.bob, Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.message_list(bob_inbox.id).await.unwrap().is_empty());
}

pub async fn full_text_search_finds_substrings(f: &Fixture) {
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let with = |subject: &str, body: &str| {
        format!("From: x@example.org\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").into_bytes()
    };
    let messages = [
        with("hello", "a rare QUOKKA appears"),
        with("Grüße aus München", "nothing to see"),
        with("other", "the word quokkas, plural"),
        with("html", "x"),
    ];
    let mut uids = Vec::new();
    for m in messages {
        uids.push(
            f.store
                .append(inbox.id, NewMessage::new(m))
                .await
                .unwrap()
                .uid,
        );
    }
    let html = b"From: y@example.org\r\nSubject: h\r\nContent-Type: text/html\r\n\r\n<p>Hidden <b>wom</b>bat</p>\r\n".to_vec();
    uids.push(
        f.store
            .append(inbox.id, NewMessage::new(html))
            .await
            .unwrap()
            .uid,
    );
    let search = |field, needle: &'static str| {
        let store = f.store.clone();
        async move { store.search_text(inbox.id, field, needle).await.unwrap() }
    };
    use mailroom_store::TextField::{All, Body, Headers};
    assert_eq!(search(Body, "quokka").await, [uids[0], uids[2]]);
    assert_eq!(search(Body, "QuOkKaS").await, [uids[2]]);
    assert_eq!(search(Headers, "quokka").await, Vec::<u32>::new());
    assert_eq!(search(Headers, "grüße").await, [uids[1]]);
    assert_eq!(search(All, "münchen").await, [uids[1]]);
    assert_eq!(search(Body, "München").await, Vec::<u32>::new());
    assert_eq!(
        search(Body, "hidden wom").await,
        [uids[4]],
        "HTML is searched as text"
    );
    assert_eq!(search(Body, "\"quoted\"").await, Vec::<u32>::new());
    // Shorter than a trigram: answered by reading the messages.
    assert_eq!(search(Headers, "ot").await, [uids[2]]);
    // Expunged messages are not found; new ones are found at once.
    f.store.expunge(inbox.id, &uids[..1]).await.unwrap();
    assert_eq!(search(Body, "quokka").await, [uids[2]]);
    let late = f
        .store
        .append(inbox.id, NewMessage::new(with("late", "quokka again")))
        .await
        .unwrap()
        .uid;
    assert_eq!(search(Body, "quokka").await, [uids[2], late]);
}

pub async fn message_entries_list_sizes_and_blobs(f: &Fixture) {
    let inbox = f.mailbox(f.alice, "INBOX").await;
    let uids = f.append(&inbox, 3).await;
    let entries = f.store.message_entries(inbox.id).await.unwrap();
    let metas = f.store.message_meta(inbox.id, &uids).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.uid).collect::<Vec<_>>(), uids);
    for (e, m) in entries.iter().zip(&metas) {
        assert_eq!((e.size, e.blob), (m.size, m.blob));
        assert_eq!(e.pop3_uidl, None);
    }
}

pub async fn quota_warnings_fire_once_per_crossing(f: &Fixture) {
    let s = &f.store;
    let inbox = f.mailbox(f.alice, "INBOX").await;
    s.update_account(
        f.alice,
        mailroom_store::AccountUpdate {
            quota_messages: Some(Some(10)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let levels = || async {
        s.pending_quota_warnings()
            .await
            .unwrap()
            .iter()
            .map(|w| w.level)
            .collect::<Vec<_>>()
    };
    f.append(&inbox, 7).await;
    assert!(levels().await.is_empty(), "70 %");
    f.append(&inbox, 1).await;
    assert_eq!(levels().await, [80]);
    f.append(&inbox, 1).await;
    assert_eq!(levels().await, [80], "still 80-94 %: no second warning");
    f.append(&inbox, 1).await;
    assert_eq!(levels().await, [80, 95]);
    let pending = s.pending_quota_warnings().await.unwrap();
    assert_eq!(
        (
            pending[0].address.as_str(),
            pending[0].used_messages,
            pending[0].quota_messages
        ),
        ("alice@example.test", 10, Some(10)),
        "usage as it is now"
    );
    for w in pending {
        s.quota_warning_sent(w.id).await.unwrap();
    }
    assert!(levels().await.is_empty());
    // Dropping below 80 % re-arms both levels.
    s.expunge(inbox.id, &[1, 2, 3]).await.unwrap();
    f.append(&inbox, 1).await;
    assert_eq!(levels().await, [80]);
}
