use crate::fixtures::Fixture;
use mailroom_store::{DEFAULT_MAILBOXES, NewAccount, StoreError};

pub async fn domains_and_accounts(f: &Fixture) {
    let s = &f.store;
    assert!(matches!(
        s.add_domain("EXAMPLE.test").await,
        Err(StoreError::AlreadyExists(_))
    ));
    let domains = s.list_domains().await.unwrap();
    assert_eq!(
        domains.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["example.test"]
    );
    assert!(matches!(
        s.create_account(NewAccount::new("x@unknown.test", "h"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.create_account(NewAccount::new("ALICE@example.test", "h"))
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    let found = s
        .account_by_address("Alice@Example.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, f.alice);
    assert_eq!(s.list_accounts().await.unwrap().len(), 2);
    assert!(matches!(
        s.remove_domain("example.test").await,
        Err(StoreError::NotAllowed(_))
    ));
    let one = s
        .domain("Example.TEST.")
        .await
        .unwrap()
        .expect("found by any case");
    assert_eq!(one.name, "example.test");
    assert_eq!(s.domain("unknown.test").await.unwrap(), None);
    assert_eq!(s.domain("not a domain").await.unwrap(), None);
    s.add_domain("other.test").await.unwrap();
    s.remove_domain("other.test").await.unwrap();
    assert_eq!(s.domain("other.test").await.unwrap(), None);
    assert!(matches!(
        s.remove_domain("other.test").await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn new_accounts_get_special_use_folders(f: &Fixture) {
    let boxes = f.store.list_mailboxes(f.alice).await.unwrap();
    for (name, special) in DEFAULT_MAILBOXES {
        let mb = boxes
            .iter()
            .find(|m| m.name.as_str() == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(mb.special_use, special, "{name}");
        assert!(mb.subscribed, "{name} subscribed");
        assert_eq!(mb.uid_next, 1);
    }
    assert_eq!(boxes.len(), DEFAULT_MAILBOXES.len());
}

pub async fn aliases_resolve_to_their_account(f: &Fixture) {
    let s = &f.store;
    s.add_alias("info@example.test", f.alice).await.unwrap();
    assert_eq!(
        s.resolve_recipient("INFO@example.test").await.unwrap(),
        Some(f.alice)
    );
    assert_eq!(
        s.resolve_recipient("bob@example.test").await.unwrap(),
        Some(f.bob)
    );
    assert_eq!(
        s.resolve_recipient("nobody@example.test").await.unwrap(),
        None
    );
    assert!(matches!(
        s.add_alias("bob@example.test", f.alice).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        s.add_alias("x@elsewhere.test", f.alice).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.list_aliases().await.unwrap().len(), 1);
    s.remove_alias("info@example.test").await.unwrap();
    assert_eq!(
        s.resolve_recipient("info@example.test").await.unwrap(),
        None
    );
}

pub async fn removing_an_account_releases_its_blobs(f: &Fixture) {
    let inbox = f.mailbox(f.bob, "INBOX").await;
    let uids = f.append(&inbox, 3).await;
    f.store.expunge(inbox.id, &uids[..1]).await.unwrap();
    f.store.remove_account(f.bob).await.unwrap();
    assert!(
        f.store
            .account_by_address("bob@example.test")
            .await
            .unwrap()
            .is_none()
    );
    assert!(f.store.list_mailboxes(f.bob).await.unwrap().is_empty());
    assert_eq!(
        f.store.check_integrity().await.unwrap(),
        Vec::<String>::new()
    );
    // Nothing references the blobs now: after the grace period they are collected.
    f.clock.advance(7200);
    let report = f.store.purge_recovery(f.clock_now()).await.unwrap();
    assert_eq!(report.blobs, 3);
    assert_eq!(
        f.store.check_integrity().await.unwrap(),
        Vec::<String>::new()
    );
}

impl Fixture {
    pub fn clock_now(&self) -> i64 {
        use mailroom_store::Clock;
        self.clock.now()
    }
}

pub async fn leases_exclude_other_holders_until_expiry(f: &Fixture) {
    let s = &f.store;
    assert!(s.acquire_lease("pop3:1", "session-a", 600).await.unwrap());
    assert!(
        !s.acquire_lease("pop3:1", "session-b", 600).await.unwrap(),
        "held by a"
    );
    assert!(
        s.acquire_lease("pop3:1", "session-a", 600).await.unwrap(),
        "a renews"
    );
    assert!(
        s.acquire_lease("pop3:2", "session-b", 600).await.unwrap(),
        "another name is free"
    );
    s.release_lease("pop3:1", "session-b").await.unwrap();
    assert!(
        !s.acquire_lease("pop3:1", "session-b", 600).await.unwrap(),
        "only the holder releases"
    );
    s.release_lease("pop3:1", "session-a").await.unwrap();
    assert!(s.acquire_lease("pop3:1", "session-b", 600).await.unwrap());
    // A holder that vanished without releasing loses the lease when it expires.
    f.clock.advance(601);
    assert!(s.acquire_lease("pop3:1", "session-c", 600).await.unwrap());
}

pub async fn domain_defaults_and_retention(f: &Fixture) {
    use mailroom_store::{DomainUpdate, NewMessage, RecoveryFilter};
    let s = &f.store;
    s.add_domain("small.test").await.unwrap();
    let update = DomainUpdate {
        default_quota_bytes: Some(Some(1 << 20)),
        default_quota_messages: Some(Some(500)),
        recovery_days: Some(Some(3)),
        dkim: None,
    };
    let d = s.update_domain("small.test", update).await.unwrap();
    assert_eq!(
        (
            d.default_quota_bytes,
            d.default_quota_messages,
            d.recovery_days
        ),
        (Some(1 << 20), Some(500), Some(3))
    );
    let plain = s
        .create_account(NewAccount::new("a@small.test", "h"))
        .await
        .unwrap();
    assert_eq!(
        (plain.quota_bytes, plain.quota_messages),
        (Some(1 << 20), Some(500)),
        "the domain's default"
    );
    let mut own = NewAccount::new("b@small.test", "h");
    own.quota_bytes = Some(5 << 20);
    let own = s.create_account(own).await.unwrap();
    assert_eq!(
        own.quota_bytes,
        Some(5 << 20),
        "an account's own quota wins"
    );
    // Retention: 3 days in small.test, the server's 14 elsewhere.
    let inbox_small = s
        .mailbox(plain.id, &crate::fixtures::name_of("INBOX"))
        .await
        .unwrap()
        .unwrap();
    let inbox_alice = f.mailbox(f.alice, "INBOX").await;
    for inbox in [&inbox_small, &inbox_alice] {
        let uid = s
            .append(
                inbox.id,
                NewMessage::new(crate::fixtures::sample_message("gone")),
            )
            .await
            .unwrap()
            .uid;
        s.expunge(inbox.id, &[uid]).await.unwrap();
    }
    f.clock.advance(4 * 86_400);
    let report = s.purge_recovery(f.clock_now() - 14 * 86_400).await.unwrap();
    assert_eq!(report.messages, 1);
    assert!(
        s.list_recoverable(plain.id, RecoveryFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.list_recoverable(f.alice, RecoveryFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        s.update_domain("nope.test", DomainUpdate::default()).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn api_tokens_are_found_by_hash_and_revoked(f: &Fixture) {
    use mailroom_store::ApiToken;
    let s = &f.store;
    let admins = ApiToken {
        name: "provisioning".into(),
        secret_hash: "hash-a".into(),
        account: None,
        created_at: f.clock_now(),
    };
    let own = ApiToken {
        name: "alice-phone".into(),
        secret_hash: "hash-b".into(),
        account: Some(f.alice),
        created_at: f.clock_now(),
    };
    s.add_api_token(admins.clone()).await.unwrap();
    s.add_api_token(own.clone()).await.unwrap();
    let same_name = ApiToken {
        secret_hash: "hash-c".into(),
        ..admins.clone()
    };
    assert!(matches!(
        s.add_api_token(same_name).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(s.api_token_by_hash("hash-a").await.unwrap(), Some(admins));
    assert_eq!(s.api_token_by_hash("hash-b").await.unwrap(), Some(own));
    assert_eq!(s.api_token_by_hash("hash-c").await.unwrap(), None);
    assert_eq!(s.api_tokens().await.unwrap().len(), 2);

    s.remove_api_token("provisioning").await.unwrap();
    assert_eq!(s.api_token_by_hash("hash-a").await.unwrap(), None);
    assert!(matches!(
        s.remove_api_token("provisioning").await,
        Err(StoreError::NotFound(_))
    ));
    // An account's own token goes with the account.
    s.remove_account(f.alice).await.unwrap();
    assert_eq!(s.api_token_by_hash("hash-b").await.unwrap(), None);
    assert!(s.api_tokens().await.unwrap().is_empty());
}

pub async fn lockouts_last_until_they_expire(f: &Fixture) {
    use mailroom_store::Lockout;
    let s = &f.store;
    let now = f.clock_now();
    let lockout = |key: &[u8], until: i64| Lockout {
        key: key.to_vec(),
        until: now + until,
        detail: b"10 failures".to_vec(),
    };
    s.save_lockout(lockout(b"ip:192.0.2.1", 1_000))
        .await
        .unwrap();
    s.save_lockout(lockout(b"ip:192.0.2.2", 2_000))
        .await
        .unwrap();
    // Saving the same key again replaces it.
    s.save_lockout(lockout(b"ip:192.0.2.1", 3_000))
        .await
        .unwrap();
    let mut active = s.active_lockouts(now + 1_500).await.unwrap();
    active.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        active,
        [
            lockout(b"ip:192.0.2.1", 3_000),
            lockout(b"ip:192.0.2.2", 2_000)
        ]
    );
    let active = s.active_lockouts(now + 2_500).await.unwrap();
    assert_eq!(active, [lockout(b"ip:192.0.2.1", 3_000)]);
    assert!(s.active_lockouts(now + 3_000).await.unwrap().is_empty());
}
