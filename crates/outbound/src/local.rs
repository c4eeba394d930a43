//! Recipients on this server: delivered straight into their INBOX through the store, never over
//! the network (a message to ourselves through our own MX would loop and be slower).

use crate::client::RecipientResult;
use crate::reply::Reply;
use mailroom_store::{AccountId, Delivery, DeliveryOutcome, Store};
use std::collections::HashMap;
use std::sync::Arc;

/// Delivers `content` to the accounts behind `recipients` (one store delivery, each account
/// once even when several of its aliases are listed). One result per recipient, in order.
pub async fn deliver_local(
    store: &dyn Store,
    sender: &str,
    recipients: &[(String, AccountId)],
    content: &[u8],
) -> Vec<RecipientResult> {
    let mut accounts: Vec<AccountId> = Vec::new();
    for (_, account) in recipients {
        if !accounts.contains(account) {
            accounts.push(*account);
        }
    }
    // RFC 5321 §4.4: the server making the final delivery records the reverse-path.
    let mut bytes = format!("Return-Path: <{sender}>\r\n").into_bytes();
    bytes.extend_from_slice(content);
    let delivery = Delivery {
        recipients: accounts.clone(),
        content: Arc::from(bytes),
    };
    let by_account: HashMap<AccountId, RecipientResult> = match store.deliver(delivery).await {
        Ok(outcomes) => accounts
            .iter()
            .zip(outcomes)
            .map(|(account, outcome)| (*account, result_of(outcome)))
            .collect(),
        Err(e) => {
            let reply = Reply::local(451, "4.3.0", format!("local delivery failed: {e}"));
            accounts
                .iter()
                .map(|a| (*a, RecipientResult::TempFail(reply.clone())))
                .collect()
        }
    };
    recipients
        .iter()
        .map(|(_, account)| {
            by_account.get(account).cloned().unwrap_or_else(|| {
                // The store answered fewer outcomes than asked: treat as a passing failure.
                RecipientResult::TempFail(Reply::local(451, "4.3.0", "no delivery outcome"))
            })
        })
        .collect()
}

fn result_of(outcome: DeliveryOutcome) -> RecipientResult {
    match outcome {
        DeliveryOutcome::Delivered(appended) => RecipientResult::Delivered(Reply::local(
            250,
            "2.0.0",
            format!("delivered locally (UID {})", appended.uid),
        )),
        // RFC 3463 §3.3: a full mailbox is a persistent transient failure: retry, then bounce
        // when the message expires.
        DeliveryOutcome::OverQuota => {
            RecipientResult::TempFail(Reply::local(452, "4.2.2", "mailbox full"))
        }
        DeliveryOutcome::NoSuchAccount => {
            RecipientResult::PermFail(Reply::local(550, "5.1.1", "no such mailbox here"))
        }
        DeliveryOutcome::Failed(reason) => {
            RecipientResult::TempFail(Reply::local(451, "4.3.0", reason))
        }
    }
}
