//! Live change notification: every session of a mailbox learns of a change at once.
//!
//! Events carry only *that* something changed and up to which MODSEQ; a session then asks the
//! store for `changes_since` its last known MODSEQ. That keeps the events tiny (so a multi-node
//! backend can carry them in a PostgreSQL NOTIFY payload) and makes a lagging receiver harmless:
//! it just catches up from the change log.

use crate::flags::Flags;
use crate::ids::{AccountId, MailboxId};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// One entry of a mailbox's change log, ordered by MODSEQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub uid: u32,
    pub modseq: u64,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// A message that is new since the asked MODSEQ (possibly with flags changed since).
    Added(Flags),
    /// A message that existed before and whose flags changed.
    Flags(Flags),
    Expunged,
}

/// What subscribers hear. Account-wide events (a mailbox created, renamed or deleted) go to the
/// account's subscribers; mailbox events to both the mailbox's and the account's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxEvent {
    /// Messages were added, changed or expunged; the mailbox's HIGHESTMODSEQ is now `modseq`.
    Changed {
        account: AccountId,
        mailbox: MailboxId,
        modseq: u64,
    },
    /// The mailbox was deleted (its sessions must end their selection).
    Deleted {
        account: AccountId,
        mailbox: MailboxId,
    },
    /// The account's list of mailboxes changed (create, rename, delete, subscribe).
    ListChanged { account: AccountId },
}

impl MailboxEvent {
    pub fn account(&self) -> AccountId {
        match self {
            MailboxEvent::Changed { account, .. }
            | MailboxEvent::Deleted { account, .. }
            | MailboxEvent::ListChanged { account } => *account,
        }
    }

    pub fn mailbox(&self) -> Option<MailboxId> {
        match self {
            MailboxEvent::Changed { mailbox, .. } | MailboxEvent::Deleted { mailbox, .. } => {
                Some(*mailbox)
            }
            MailboxEvent::ListChanged { .. } => None,
        }
    }
}

const CHANNEL_CAPACITY: usize = 64;

/// In-process publish/subscribe. A single-node backend publishes after each commit; a multi-node
/// backend publishes what it hears from the database (LISTEN/NOTIFY) into the same bus, so
/// protocol code never knows which backend runs.
#[derive(Default)]
pub struct ChangeBus {
    mailboxes: Mutex<HashMap<MailboxId, broadcast::Sender<MailboxEvent>>>,
    accounts: Mutex<HashMap<AccountId, broadcast::Sender<MailboxEvent>>>,
}

impl ChangeBus {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn subscribe_mailbox(&self, mailbox: MailboxId) -> broadcast::Receiver<MailboxEvent> {
        subscribe(&self.mailboxes, mailbox)
    }

    pub fn subscribe_account(&self, account: AccountId) -> broadcast::Receiver<MailboxEvent> {
        subscribe(&self.accounts, account)
    }

    pub fn publish(&self, event: MailboxEvent) {
        if let Some(mailbox) = event.mailbox() {
            publish(&self.mailboxes, mailbox, event);
        }
        publish(&self.accounts, event.account(), event);
    }
}

fn subscribe<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, broadcast::Sender<MailboxEvent>>>,
    key: K,
) -> broadcast::Receiver<MailboxEvent> {
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(key)
        .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
        .subscribe()
}

fn publish<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, broadcast::Sender<MailboxEvent>>>,
    key: K,
    event: MailboxEvent,
) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(sender) = map.get(&key) {
        // Drop channels nobody listens to any more, so the map only holds live sessions.
        if sender.send(event).is_err() {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_hear_their_mailbox_and_account() {
        let bus = ChangeBus::new();
        let (a, m1, m2) = (AccountId(1), MailboxId(1), MailboxId(2));
        let mut sub1 = bus.subscribe_mailbox(m1);
        let mut acct = bus.subscribe_account(a);
        let ev = |mailbox, modseq| MailboxEvent::Changed {
            account: a,
            mailbox,
            modseq,
        };
        bus.publish(ev(m2, 5));
        bus.publish(ev(m1, 7));
        assert_eq!(sub1.recv().await.unwrap(), ev(m1, 7));
        assert_eq!(acct.recv().await.unwrap(), ev(m2, 5));
        assert_eq!(acct.recv().await.unwrap(), ev(m1, 7));
    }

    #[test]
    fn channels_without_listeners_are_dropped() {
        let bus = ChangeBus::new();
        drop(bus.subscribe_mailbox(MailboxId(3)));
        bus.publish(MailboxEvent::Deleted {
            account: AccountId(1),
            mailbox: MailboxId(3),
        });
        assert!(bus.mailboxes.lock().unwrap().is_empty());
    }
}
