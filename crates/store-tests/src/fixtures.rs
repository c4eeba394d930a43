use mailroom_store::{AccountId, Mailbox, MailboxName, ManualClock, NewAccount, NewMessage, Store};
use std::sync::Arc;

/// A store with one domain and two accounts, `alice@example.test` and `bob@example.test`.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub alice: AccountId,
    pub bob: AccountId,
}

impl Fixture {
    pub async fn new<S: Store + 'static>(store: S, clock: Arc<ManualClock>) -> Self {
        let store: Arc<dyn Store> = Arc::new(store);
        store.add_domain("example.test").await.expect("add domain");
        let alice = store
            .create_account(NewAccount::new("alice@example.test", "$argon2id$test"))
            .await
            .expect("create alice")
            .id;
        let bob = store
            .create_account(NewAccount::new("bob@example.test", "$argon2id$test"))
            .await
            .expect("create bob")
            .id;
        Fixture {
            store,
            clock,
            alice,
            bob,
        }
    }

    pub async fn mailbox(&self, account: AccountId, name: &str) -> Mailbox {
        self.store
            .mailbox(account, &name_of(name))
            .await
            .expect("mailbox lookup")
            .unwrap_or_else(|| panic!("no mailbox {name}"))
    }

    pub async fn append(&self, mailbox: &Mailbox, n: usize) -> Vec<u32> {
        let mut uids = Vec::new();
        for i in 0..n {
            let appended = self
                .store
                .append(
                    mailbox.id,
                    NewMessage::new(sample_message(&format!("message {i}"))),
                )
                .await
                .expect("append");
            uids.push(appended.uid);
        }
        uids
    }
}

pub fn name_of(name: &str) -> MailboxName {
    MailboxName::new(name).expect("valid mailbox name")
}

/// A small well-formed message whose subject is `subject`.
pub fn sample_message(subject: &str) -> Vec<u8> {
    format!(
        "From: Carol <carol@example.org>\r\nTo: alice@example.test\r\nSubject: {subject}\r\n\
         Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{}@example.org>\r\n\r\n\
         Body of {subject}.\r\n",
        subject.replace(' ', ".")
    )
    .into_bytes()
}
