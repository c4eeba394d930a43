//! A locked maildrop: the INBOX as it was at login (RFC 1939 §8: numbers and sizes are fixed
//! for the session), the deletion marks, and the UPDATE state that carries them out.

use mailroom_store::{
    Account, FlagOp, Flags, MailboxId, MailboxName, Pop3Policy, Store, StoreError, SystemFlags,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The lock lasts this long without renewal, so a crashed server's locks free themselves.
const LEASE_TTL_SECONDS: i64 = 120;
const LEASE_RENEW_EVERY: Duration = Duration::from_secs(45);

pub struct Entry {
    pub uid: u32,
    pub size: u64,
    pub uidl: String,
    pub deleted: bool,
    pub retrieved: bool,
    blob: mailroom_store::BlobHash,
}

pub enum OpenError {
    InUse,
    Store(StoreError),
}

impl From<StoreError> for OpenError {
    fn from(e: StoreError) -> Self {
        OpenError::Store(e)
    }
}

pub struct Maildrop {
    store: Arc<dyn Store>,
    inbox: MailboxId,
    pub policy: Pop3Policy,
    pub entries: Vec<Entry>,
    lease_name: String,
    holder: String,
    renewer: JoinHandle<()>,
    /// \Seen marks go through a background task so RETR never waits for a commit; concurrent
    /// marks share one.
    seen: Option<mpsc::UnboundedSender<u32>>,
    seen_task: Option<JoinHandle<()>>,
}

impl Maildrop {
    pub async fn open(
        store: Arc<dyn Store>,
        account: &Account,
        policy: Pop3Policy,
        holder: String,
    ) -> Result<Self, OpenError> {
        let lease_name = format!("pop3:{}", account.id);
        if !store
            .acquire_lease(&lease_name, &holder, LEASE_TTL_SECONDS)
            .await?
        {
            return Err(OpenError::InUse);
        }
        let opened = Self::snapshot(&store, account).await;
        let (inbox, uid_validity, entries) = match opened {
            Ok(v) => v,
            Err(e) => {
                let _ = store.release_lease(&lease_name, &holder).await;
                return Err(e.into());
            }
        };
        let entries = entries
            .into_iter()
            .map(|e| Entry {
                uid: e.uid,
                size: e.size,
                uidl: e.pop3_uidl(uid_validity),
                deleted: false,
                retrieved: false,
                blob: e.blob,
            })
            .collect();
        let renewer = tokio::spawn(renew(store.clone(), lease_name.clone(), holder.clone()));
        let (seen, seen_rx) = mpsc::unbounded_channel();
        let seen_task = tokio::spawn(mark_seen(store.clone(), inbox, seen_rx));
        Ok(Maildrop {
            store,
            inbox,
            policy,
            entries,
            lease_name,
            holder,
            renewer,
            seen: Some(seen),
            seen_task: Some(seen_task),
        })
    }

    async fn snapshot(
        store: &Arc<dyn Store>,
        account: &Account,
    ) -> Result<(MailboxId, u32, Vec<mailroom_store::MessageEntry>), StoreError> {
        let inbox = store
            .mailbox(account.id, &MailboxName::inbox())
            .await?
            .ok_or(StoreError::NotFound("INBOX"))?;
        let entries = store.message_entries(inbox.id).await?;
        Ok((inbox.id, inbox.uid_validity, entries))
    }

    /// The message numbered `n` unless it is marked deleted.
    pub fn get(&self, n: u32) -> Option<&Entry> {
        let index = usize::try_from(n).ok()?.checked_sub(1)?;
        self.entries.get(index).filter(|e| !e.deleted)
    }

    pub fn get_mut(&mut self, n: u32) -> Option<&mut Entry> {
        let index = usize::try_from(n).ok()?.checked_sub(1)?;
        self.entries.get_mut(index).filter(|e| !e.deleted)
    }

    /// (messages, octets) not marked deleted.
    pub fn stat(&self) -> (usize, u64) {
        self.entries
            .iter()
            .filter(|e| !e.deleted)
            .fold((0, 0), |(n, size), e| (n + 1, size + e.size))
    }

    /// The bytes of message `n` for RETR (marks it \Seen and, under EXPIRE 0, for removal).
    pub async fn retrieve(&mut self, n: u32) -> Option<Result<bytes::Bytes, StoreError>> {
        let store = self.store.clone();
        let entry = self.get_mut(n)?;
        entry.retrieved = true;
        let (uid, blob) = (entry.uid, entry.blob);
        if let Some(seen) = &self.seen {
            let _ = seen.send(uid);
        }
        Some(store.read_blob(&blob).await)
    }

    /// The bytes of message `n` for TOP, without marking anything.
    pub async fn peek(&self, n: u32) -> Option<Result<bytes::Bytes, StoreError>> {
        let blob = self.get(n)?.blob;
        Some(self.store.read_blob(&blob).await)
    }

    /// The UPDATE state (RFC 1939 §6): removes the marked messages, and under the
    /// delete-after-download policy the retrieved ones too. They go to the recovery area.
    pub async fn commit(mut self) -> Result<usize, StoreError> {
        self.finish_seen().await;
        let doomed: Vec<u32> = self
            .entries
            .iter()
            .filter(|e| {
                e.deleted || (self.policy == Pop3Policy::DeleteAfterDownload && e.retrieved)
            })
            .map(|e| e.uid)
            .collect();
        let result = if doomed.is_empty() {
            Ok(0)
        } else {
            self.store
                .expunge(self.inbox, &doomed)
                .await
                .map(|gone| gone.len())
        };
        self.release().await;
        result
    }

    /// The session ended without QUIT: nothing is removed (RFC 1939 §6).
    pub async fn abandon(mut self) {
        self.finish_seen().await;
        self.release().await;
    }

    async fn finish_seen(&mut self) {
        self.seen = None;
        if let Some(task) = self.seen_task.take() {
            let _ = task.await;
        }
    }

    async fn release(&mut self) {
        self.renewer.abort();
        if let Err(e) = self
            .store
            .release_lease(&self.lease_name, &self.holder)
            .await
        {
            tracing::warn!("releasing the POP3 lock failed (it expires by itself): {e}");
        }
    }
}

impl Drop for Maildrop {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

async fn renew(store: Arc<dyn Store>, name: String, holder: String) {
    let mut ticker = tokio::time::interval(LEASE_RENEW_EVERY);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        if let Err(e) = store.acquire_lease(&name, &holder, LEASE_TTL_SECONDS).await {
            tracing::warn!("renewing the POP3 lock failed: {e}");
        }
    }
}

async fn mark_seen(
    store: Arc<dyn Store>,
    inbox: MailboxId,
    mut uids: mpsc::UnboundedReceiver<u32>,
) {
    while let Some(first) = uids.recv().await {
        let mut batch = vec![first];
        while let Ok(uid) = uids.try_recv() {
            batch.push(uid);
        }
        let seen = FlagOp::Add(Flags::system(SystemFlags::SEEN));
        if let Err(e) = store.store_flags(inbox, &batch, seen, None).await {
            tracing::warn!("marking retrieved messages seen failed: {e}");
        }
    }
}
