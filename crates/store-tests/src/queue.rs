//! The outbound queue and the credentials beside an account's password.

use crate::fixtures::Fixture;
use mailroom_store::{
    AccountUpdate, AttemptResult, DkimKey, DomainUpdate, DsnNotify, DsnRet, OutboundMessage,
    OutboundRecipient, RecipientStatus, StoreError,
};

fn outbound(f: &Fixture, recipients: &[&str]) -> OutboundMessage {
    OutboundMessage {
        account: Some(f.alice),
        sender: "alice@example.test".into(),
        recipients: recipients
            .iter()
            .map(|r| OutboundRecipient::new(*r))
            .collect(),
        envid: None,
        ret: None,
        content: b"From: alice@example.test\r\nSubject: out\r\n\r\nhello\r\n".to_vec(),
    }
}

fn result(address: &str, status: RecipientStatus, next: i64) -> AttemptResult {
    AttemptResult {
        address: address.into(),
        status,
        next_attempt_at: next,
        response: Some(format!("{} for {address}", status.as_str())),
    }
}

pub async fn queued_mail_waits_per_recipient_until_final(f: &Fixture) {
    let s = &f.store;
    let now = f.clock_now();
    let id = s
        .enqueue(outbound(f, &["x@remote.test", "y@remote.test"]))
        .await
        .unwrap();
    let due = s.due_messages(now, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    let m = &due[0];
    assert_eq!((m.id, m.sender.as_str()), (id, "alice@example.test"));
    assert_eq!(m.pending().count(), 2);
    let bytes = s.read_blob(&m.blob).await.unwrap();
    assert!(bytes.ends_with(b"hello\r\n"));
    assert_eq!(m.size, bytes.len() as u64);

    // One delivered, one deferred for ten minutes: not due now, due later.
    s.record_attempt(
        id,
        vec![
            result("x@remote.test", RecipientStatus::Delivered, now),
            result("y@remote.test", RecipientStatus::Pending, now + 600),
        ],
    )
    .await
    .unwrap();
    assert!(s.due_messages(now, 10).await.unwrap().is_empty());
    let later = s.due_messages(now + 600, 10).await.unwrap();
    assert_eq!(later.len(), 1);
    let y = later[0]
        .recipients
        .iter()
        .find(|r| r.address == "y@remote.test")
        .unwrap();
    assert_eq!((y.status, y.attempts), (RecipientStatus::Pending, 1));
    assert_eq!(
        y.last_response.as_deref(),
        Some("pending for y@remote.test")
    );

    // retry_now makes it due at once; the final answer takes it out of the queue.
    assert_eq!(s.retry_now(Some(id), now).await.unwrap(), 1);
    assert_eq!(s.due_messages(now, 10).await.unwrap().len(), 1);
    s.record_attempt(
        id,
        vec![result("y@remote.test", RecipientStatus::Failed, now)],
    )
    .await
    .unwrap();
    assert!(s.queued_message(id).await.unwrap().is_none());
    assert!(s.queued_messages().await.unwrap().is_empty());
    assert!(
        s.check_integrity().await.unwrap().is_empty(),
        "the blob reference was released"
    );
}

pub async fn queue_holds_its_blob_until_removed(f: &Fixture) {
    let s = &f.store;
    let first = s.enqueue(outbound(f, &["a@remote.test"])).await.unwrap();
    let second = s.enqueue(outbound(f, &["b@remote.test"])).await.unwrap();
    assert!(first.0 < second.0);
    let all = s.queued_messages().await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.id).collect::<Vec<_>>(),
        [first, second]
    );
    assert!(s.check_integrity().await.unwrap().is_empty());
    s.remove_queued(first).await.unwrap();
    assert!(matches!(
        s.remove_queued(first).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.retry_now(None, f.clock_now()).await.unwrap(), 1);
    // The content is still readable while queued, and the store stays consistent.
    let left = s.queued_messages().await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(s.read_blob(&left[0].blob).await.is_ok());
    assert!(s.check_integrity().await.unwrap().is_empty());
    let empty = OutboundMessage {
        recipients: Vec::new(),
        ..outbound(f, &[])
    };
    assert!(
        s.enqueue(empty).await.is_err(),
        "a message needs a recipient"
    );
}

/// RFC 3461: the DSN parameters given at enqueue come back as given, and a message without
/// them reads as "not given".
pub async fn queued_dsn_parameters_round_trip(f: &Fixture) {
    let s = &f.store;
    let plain = s
        .enqueue(outbound(f, &["plain@remote.test"]))
        .await
        .unwrap();
    let recipients = vec![
        OutboundRecipient {
            address: "a@remote.test".into(),
            notify: DsnNotify::On {
                success: true,
                failure: false,
                delay: true,
            },
            orcpt: Some("rfc822;a+2Bx@remote.test".into()),
        },
        OutboundRecipient {
            address: "b@remote.test".into(),
            notify: DsnNotify::Never,
            orcpt: None,
        },
        OutboundRecipient::new("c@remote.test"),
    ];
    let id = s
        .enqueue(OutboundMessage {
            recipients: recipients.clone(),
            envid: Some("QQ314159".into()),
            ret: Some(DsnRet::Hdrs),
            ..outbound(f, &[])
        })
        .await
        .unwrap();
    let m = s.queued_message(id).await.unwrap().unwrap();
    assert_eq!(m.envid.as_deref(), Some("QQ314159"));
    assert_eq!(m.ret, Some(DsnRet::Hdrs));
    for want in &recipients {
        let got = m
            .recipients
            .iter()
            .find(|r| r.address == want.address)
            .unwrap();
        assert_eq!((got.notify, &got.orcpt), (want.notify, &want.orcpt));
    }
    // The parameters survive an attempt being recorded.
    s.record_attempt(
        id,
        vec![result("a@remote.test", RecipientStatus::Pending, 0)],
    )
    .await
    .unwrap();
    let due = s.due_messages(f.clock_now(), 10).await.unwrap();
    let again = due.iter().find(|m| m.id == id).unwrap();
    assert_eq!(again.ret, Some(DsnRet::Hdrs));
    assert_eq!(again.recipients[0].orcpt, recipients[0].orcpt);

    let plain = s.queued_message(plain).await.unwrap().unwrap();
    assert_eq!((plain.envid, plain.ret), (None, None));
    assert_eq!(plain.recipients[0].notify, DsnNotify::Unspecified);
    assert_eq!(plain.recipients[0].orcpt, None);
}

pub async fn app_passwords_scram_keys_and_dkim_keys_are_kept(f: &Fixture) {
    let s = &f.store;
    let added = s
        .add_app_password(f.alice, "Phone", "hash-1")
        .await
        .unwrap();
    assert_eq!((added.name.as_str(), added.account), ("Phone", f.alice));
    assert!(matches!(
        s.add_app_password(f.alice, "phone", "hash-2").await,
        Err(StoreError::AlreadyExists(_))
    ));
    s.add_app_password(f.alice, "Laptop", "hash-3")
        .await
        .unwrap();
    s.add_app_password(f.bob, "Phone", "hash-4").await.unwrap();
    let names: Vec<String> = s
        .app_passwords(f.alice)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Laptop", "Phone"]);
    s.remove_app_password(f.alice, "phone").await.unwrap();
    assert!(matches!(
        s.remove_app_password(f.alice, "Phone").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.app_passwords(f.alice).await.unwrap().len(), 1);
    assert_eq!(
        s.app_passwords(f.bob).await.unwrap()[0].secret_hash,
        "hash-4",
        "another account's app password is untouched"
    );

    let keys = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy".to_string();
    let update = AccountUpdate {
        password_hash: Some("$argon2id$new".into()),
        scram_sha256: Some(Some(keys.clone())),
        ..Default::default()
    };
    let alice = s.update_account(f.alice, update).await.unwrap();
    assert_eq!(alice.scram_sha256.as_deref(), Some(keys.as_str()));
    let found = s
        .account_by_address("alice@example.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.scram_sha256, Some(keys));
    let off = AccountUpdate {
        scram_sha256: Some(None),
        ..Default::default()
    };
    assert_eq!(
        s.update_account(f.alice, off).await.unwrap().scram_sha256,
        None
    );

    let key = DkimKey {
        selector: "mr2026".into(),
        private_key_pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
    };
    let update = DomainUpdate {
        dkim: Some(Some(key.clone())),
        ..Default::default()
    };
    let domain = s.update_domain("example.test", update).await.unwrap();
    assert_eq!(domain.dkim.as_ref(), Some(&key));
    assert!(!format!("{key:?}").contains("AAAA"), "Debug hides the key");
    let listed = s.list_domains().await.unwrap();
    assert_eq!(listed[0].dkim.as_ref(), Some(&key));

    s.remove_account(f.bob).await.unwrap();
    assert!(s.check_integrity().await.unwrap().is_empty());
}
