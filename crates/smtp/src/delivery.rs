//! What RCPT checks against the directory, and the hand-over of a finished message to the store.

use crate::error::SmtpError;
use crate::proto::{Path, RcptParams};
use mailroom_store::{AccountId, Delivery, DeliveryOutcome, Store, StoreError};
use std::sync::Arc;

/// An accepted recipient: the address as the client gave it, the account it delivers to, and
/// what the sender asked to be told about it (RFC 3461 NOTIFY, ORCPT).
#[derive(Debug, Clone)]
pub struct Recipient {
    pub address: String,
    pub account: AccountId,
    pub dsn: RcptParams,
}

/// RFC 5321 §3.3 and §7.1: we accept mail only for our own domains (never an open relay), only
/// for addresses that exist (accounts and aliases), and refuse a full mailbox early with a
/// temporary error (RFC 3463 4.2.2) so the sender retries instead of bouncing.
pub async fn check_recipient(
    store: &Arc<dyn Store>,
    path: &Path,
    declared_size: Option<u64>,
    dsn: RcptParams,
) -> Result<Recipient, SmtpError> {
    let address = match path {
        Path::Null => return Err(SmtpError::UnknownUser),
        // RFC 5321 §4.5.1: "postmaster" without a domain must be accepted; it goes to the
        // postmaster of our first domain, if there is one.
        Path::Postmaster => match store.list_domains().await?.first() {
            Some(d) => format!("postmaster@{}", d.name),
            None => return Err(SmtpError::UnknownUser),
        },
        Path::Mailbox { local, domain } => {
            let wanted = domain.trim_end_matches('.').to_lowercase();
            if store.domain(&wanted).await?.is_none() {
                return Err(SmtpError::RelayDenied);
            }
            format!("{local}@{wanted}")
        }
    };
    let account = store
        .resolve_recipient(&address)
        .await?
        .ok_or(SmtpError::UnknownUser)?;
    let facts = match store.account(account).await {
        Ok(a) => a,
        Err(StoreError::NotFound(_)) => return Err(SmtpError::UnknownUser),
        Err(e) => return Err(e.into()),
    };
    let incoming = declared_size.unwrap_or(0);
    let bytes_full = facts
        .quota_bytes
        .is_some_and(|q| facts.used_bytes >= q || facts.used_bytes.saturating_add(incoming) > q);
    let count_full = facts
        .quota_messages
        .is_some_and(|q| facts.used_messages >= q);
    if bytes_full || count_full {
        return Err(SmtpError::OverQuota);
    }
    Ok(Recipient {
        address: match path {
            Path::Postmaster => "postmaster".into(),
            _ => address,
        },
        account,
        dsn,
    })
}

/// Delivers `content` to every recipient's INBOX in one commit; durable when it returns. The
/// outcome of each recipient comes back in RCPT order. A recipient named twice (an address and
/// its alias) gets one copy, and both RCPTs share its outcome.
pub async fn deliver(
    store: &Arc<dyn Store>,
    recipients: &[Recipient],
    content: Vec<u8>,
) -> Vec<Result<(), SmtpError>> {
    let mut accounts: Vec<AccountId> = Vec::with_capacity(recipients.len());
    for r in recipients {
        if !accounts.contains(&r.account) {
            accounts.push(r.account);
        }
    }
    let delivery = Delivery {
        recipients: accounts.clone(),
        content: content.into(),
    };
    let outcomes = match store.deliver(delivery).await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            tracing::warn!("delivery failed: {e}");
            let failed = || match &e {
                StoreError::OverQuota => Err(SmtpError::OverQuota),
                StoreError::TooLarge => Err(SmtpError::TooLarge),
                StoreError::StorageFull => Err(SmtpError::Store(StoreError::StorageFull)),
                other => Err(SmtpError::Delivery(other.to_string())),
            };
            return recipients.iter().map(|_| failed()).collect();
        }
    };
    recipients
        .iter()
        .map(|r| {
            let outcome = accounts
                .iter()
                .position(|a| *a == r.account)
                .and_then(|i| outcomes.get(i));
            match outcome {
                Some(DeliveryOutcome::Delivered(_)) => Ok(()),
                Some(DeliveryOutcome::OverQuota) => Err(SmtpError::OverQuota),
                Some(DeliveryOutcome::NoSuchAccount) => Err(SmtpError::UnknownUser),
                Some(DeliveryOutcome::Failed(why)) => Err(SmtpError::Delivery(why.clone())),
                None => Err(SmtpError::Delivery("the store gave no outcome".into())),
            }
        })
        .collect()
}
