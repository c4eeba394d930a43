//! STATUS (RFC 9051 §6.3.11) and the values LIST-STATUS (RFC 5819) reuses.

use crate::error::ImapError;
use crate::names::from_wire;
use crate::session::{Done, Session};
use mailroom_imap_proto::Mailbox as WireName;
use mailroom_imap_proto::ObjectId;
use mailroom_imap_proto::command::mailbox::StatusItem;
use mailroom_imap_proto::response::{Code, Data, Response, StatusValue};
use mailroom_store::{AccountId, Mailbox, MailboxId, MailboxStatus};
use std::num::NonZeroU32;

pub(crate) async fn status(
    s: &mut Session,
    mailbox: WireName,
    items: mailroom_imap_proto::NonEmpty<StatusItem>,
) -> Result<Done, ImapError> {
    let account = s
        .state
        .user()
        .map(|u| u.account.id)
        .ok_or_else(|| ImapError::bad("not authenticated"))?;
    let name = from_wire(&mailbox, s.utf8())?;
    if crate::virtual_folder::is_virtual(&s.shared.config, &name) {
        let values = virtual_status_values(s, account, &items).await?;
        s.push(Response::Data(Data::Status {
            mailbox,
            items: values,
        }));
        return Ok(Done::ok("STATUS completed"));
    }
    let Some(found) = s.store().mailbox(account, &name).await? else {
        return Err(ImapError::no_code(Code::NonExistent, "no such mailbox"));
    };
    let values = status_values(s, &found, &items).await?;
    s.push(Response::Data(Data::Status {
        mailbox,
        items: values,
    }));
    Ok(Done::ok("STATUS completed"))
}

/// The requested values in the requested order.
pub(crate) async fn status_values(
    s: &Session,
    mailbox: &Mailbox,
    items: &[StatusItem],
) -> Result<Vec<StatusValue>, ImapError> {
    let st = s.store().mailbox_status(mailbox.id).await?;
    Ok(values(s, &st, Some(mailbox.id), items))
}

/// The values for "Recently Deleted", computed from the account's recovery entries.
pub(crate) async fn virtual_status_values(
    s: &Session,
    account: AccountId,
    items: &[StatusItem],
) -> Result<Vec<StatusValue>, ImapError> {
    let entries = crate::virtual_folder::entries(s.store(), account).await?;
    let st = crate::virtual_folder::status(&entries);
    Ok(values(s, &st, None, items))
}

/// `id` is None for the virtual folder, which has no MAILBOXID.
fn values(
    s: &Session,
    st: &MailboxStatus,
    id: Option<MailboxId>,
    items: &[StatusItem],
) -> Vec<StatusValue> {
    let nz = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(match item {
            StatusItem::Messages => StatusValue::Messages(st.messages),
            StatusItem::UidNext => StatusValue::UidNext(nz(st.uid_next)),
            StatusItem::UidValidity => StatusValue::UidValidity(nz(st.uid_validity)),
            StatusItem::Unseen => StatusValue::Unseen(st.unseen),
            StatusItem::Deleted => StatusValue::Deleted(st.deleted),
            StatusItem::Size => StatusValue::Size(st.size),
            // Messages no session has been told of (RFC 3501 §6.3.10).
            StatusItem::Recent => StatusValue::Recent(st.recent),
            StatusItem::HighestModSeq => StatusValue::HighestModSeq(st.highest_modseq),
            StatusItem::AppendLimit => StatusValue::AppendLimit(Some(s.shared.config.max_literal)),
            StatusItem::MailboxId => match id.and_then(mailbox_object_id) {
                Some(id) => StatusValue::MailboxId(id),
                None => continue,
            },
            // Deleted messages go to the recovery area, which no quota counts.
            StatusItem::DeletedStorage => StatusValue::DeletedStorage(0),
        });
    }
    out
}

/// RFC 8474 §4: the mailbox id never changes and is never reused.
/// `M` + digits is always a valid objectid; `None` only guards the constructor.
pub(crate) fn mailbox_object_id(id: MailboxId) -> Option<ObjectId> {
    ObjectId::new(format!("M{}", id.0)).ok()
}
