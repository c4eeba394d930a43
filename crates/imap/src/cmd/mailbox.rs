//! CREATE (RFC 9051 §6.3.4, RFC 6154 §5.4 USE), DELETE (§6.3.5), RENAME (§6.3.6),
//! SUBSCRIBE / UNSUBSCRIBE (§6.3.7-8).

use crate::error::ImapError;
use crate::names::{from_wire, new_from_wire};
use crate::session::{Done, Session};
use mailroom_imap_proto::Mailbox as WireName;
use mailroom_imap_proto::command::mailbox::SpecialUse as WireUse;
use mailroom_imap_proto::response::Code;
use mailroom_store::{SpecialUse, StoreError};

fn account(s: &Session) -> Result<mailroom_store::AccountId, ImapError> {
    s.state
        .user()
        .map(|u| u.account.id)
        .ok_or_else(|| ImapError::bad("not authenticated"))
}

/// §6.3.4: a trailing separator only says the client means to create children under it.
fn strip_trailing_separator(name: WireName) -> WireName {
    match name.as_bytes().strip_suffix(b"/") {
        Some(stripped) if !stripped.is_empty() => WireName::new(stripped.to_vec()),
        _ => name,
    }
}

fn store_use(attrs: &[WireUse]) -> Result<Option<SpecialUse>, ImapError> {
    let unsupported = || ImapError::no_code(Code::UseAttr, "unsupported special-use attribute");
    match attrs {
        [] => Ok(None),
        [one] => {
            let name = one.to_string();
            name.parse::<SpecialUse>()
                .map(Some)
                .map_err(|_| unsupported())
        }
        // The store keeps one special use per mailbox.
        _ => Err(unsupported()),
    }
}

pub(crate) async fn create(
    s: &mut Session,
    mailbox: WireName,
    special_use: Vec<WireUse>,
) -> Result<Done, ImapError> {
    let account = account(s)?;
    let name = new_from_wire(&strip_trailing_separator(mailbox), s.utf8())?;
    let special_use = store_use(&special_use)?;
    if crate::virtual_folder::is_reserved(&s.shared.config, &name) {
        return Err(crate::virtual_folder::reserved());
    }
    if s.store().mailbox(account, &name).await?.is_some() {
        return Err(ImapError::no_code(
            Code::AlreadyExists,
            "mailbox already exists",
        ));
    }
    s.store()
        .create_mailbox(account, &name, special_use)
        .await
        .map_err(|e| match e {
            StoreError::AlreadyExists(_) => {
                ImapError::no_code(Code::AlreadyExists, "mailbox already exists")
            }
            other => other.into(),
        })?;
    Ok(Done::ok("CREATE completed"))
}

pub(crate) async fn delete(s: &mut Session, mailbox: WireName) -> Result<Done, ImapError> {
    let account = account(s)?;
    let name = from_wire(&mailbox, s.utf8())?;
    if name.is_inbox() {
        return Err(ImapError::no_code(Code::Cannot, "INBOX cannot be deleted"));
    }
    if crate::virtual_folder::is_virtual(&s.shared.config, &name) {
        return Err(crate::virtual_folder::cannot("DELETE"));
    }
    if s.store().mailbox(account, &name).await?.is_none() {
        return Err(ImapError::no_code(Code::NonExistent, "no such mailbox"));
    }
    // Deleting the selected mailbox ends the selection first, so this session does not take
    // its own deletion notice for another's.
    if let crate::session::State::Selected(selected) = &s.state
        && selected.mailbox.name == name
    {
        s.state.deselect();
    }
    s.store().delete_mailbox(account, &name).await?;
    Ok(Done::ok("DELETE completed"))
}

pub(crate) async fn rename(
    s: &mut Session,
    from: WireName,
    to: WireName,
) -> Result<Done, ImapError> {
    let account = account(s)?;
    let from = from_wire(&from, s.utf8())?;
    let to = new_from_wire(&to, s.utf8())?;
    if crate::virtual_folder::is_virtual(&s.shared.config, &from) {
        return Err(crate::virtual_folder::cannot("RENAME"));
    }
    if crate::virtual_folder::is_reserved(&s.shared.config, &to) {
        return Err(crate::virtual_folder::reserved());
    }
    if s.store().mailbox(account, &from).await?.is_none() {
        return Err(ImapError::no_code(Code::NonExistent, "no such mailbox"));
    }
    if s.store().mailbox(account, &to).await?.is_some() {
        return Err(ImapError::no_code(
            Code::AlreadyExists,
            "target mailbox already exists",
        ));
    }
    s.store().rename_mailbox(account, &from, &to).await?;
    Ok(Done::ok("RENAME completed"))
}

/// Subscriptions are names and may outlive their mailbox (§6.3.7).
pub(crate) async fn subscribe(
    s: &mut Session,
    mailbox: WireName,
    on: bool,
) -> Result<Done, ImapError> {
    let account = account(s)?;
    let name = from_wire(&mailbox, s.utf8())?;
    // Not subscribable: clients that only show subscribed folders keep it out of the way.
    if on && crate::virtual_folder::is_virtual(&s.shared.config, &name) {
        return Err(crate::virtual_folder::cannot("SUBSCRIBE"));
    }
    if on && s.store().mailbox(account, &name).await?.is_none() {
        return Err(ImapError::no_code(Code::NonExistent, "no such mailbox"));
    }
    s.store().set_subscribed(account, &name, on).await?;
    Ok(Done::ok(if on {
        "SUBSCRIBE completed"
    } else {
        "UNSUBSCRIBE completed"
    }))
}
