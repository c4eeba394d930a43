//! GETQUOTA / GETQUOTAROOT (RFC 9208 §4.2-4.3): one quota root "" per account, from the
//! account's limits and its exact usage counters. SETQUOTA is refused: limits are the
//! administrator's (no QUOTASET capability).

use crate::error::ImapError;
use crate::names::from_wire;
use crate::session::{Done, Session};
use mailroom_imap_proto::Mailbox as WireName;
use mailroom_imap_proto::command::quota::QuotaResource;
use mailroom_imap_proto::response::{Code, Data, QuotaUsage, Response};

async fn quota_data(s: &Session) -> Result<Data, ImapError> {
    let id = s
        .state
        .user()
        .map(|u| u.account.id)
        .ok_or_else(|| ImapError::bad("not authenticated"))?;
    // Re-read: the usage counters move with every delivery.
    let account = s.store().account(id).await?;
    let mut resources = Vec::new();
    if let Some(limit) = account.quota_bytes {
        // §5.1: STORAGE is counted in units of 1024 octets.
        resources.push(QuotaUsage {
            resource: QuotaResource::Storage,
            usage: account.used_bytes.div_ceil(1024),
            limit: limit / 1024,
        });
    }
    if let Some(limit) = account.quota_messages {
        resources.push(QuotaUsage {
            resource: QuotaResource::Message,
            usage: account.used_messages,
            limit,
        });
    }
    Ok(Data::Quota {
        root: Vec::new(),
        resources,
    })
}

pub(crate) async fn get_quota(s: &mut Session, root: Vec<u8>) -> Result<Done, ImapError> {
    if !root.is_empty() {
        return Err(ImapError::no_code(Code::NonExistent, "no such quota root"));
    }
    let data = quota_data(s).await?;
    s.push(Response::Data(data));
    Ok(Done::ok("GETQUOTA completed"))
}

pub(crate) async fn get_quota_root(s: &mut Session, mailbox: WireName) -> Result<Done, ImapError> {
    let account = s
        .state
        .user()
        .map(|u| u.account.id)
        .ok_or_else(|| ImapError::bad("not authenticated"))?;
    let name = from_wire(&mailbox, s.utf8())?;
    if s.store().mailbox(account, &name).await?.is_none() {
        return Err(ImapError::no_code(Code::NonExistent, "no such mailbox"));
    }
    s.push(Response::Data(Data::QuotaRoot {
        mailbox,
        roots: vec![Vec::new()],
    }));
    let data = quota_data(s).await?;
    s.push(Response::Data(data));
    Ok(Done::ok("GETQUOTAROOT completed"))
}

pub(crate) fn set_quota() -> Result<Done, ImapError> {
    Err(ImapError::no_code(
        Code::NoPerm,
        "quotas are set by the administrator",
    ))
}
