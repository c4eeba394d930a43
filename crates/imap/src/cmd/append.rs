//! APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502) and APPENDUID (RFC 4315).

use crate::error::ImapError;
use crate::names::{from_wire, missing_target};
use crate::session::{Done, Session};
use crate::view::to_sequence_set;
use mailroom_imap_proto::command::append::Append;
use mailroom_imap_proto::response::Code;
use mailroom_store::{Flags, MailDate, NewMessage, StoreError};
use std::num::NonZeroU32;

pub(crate) async fn append(s: &mut Session, cmd: Append) -> Result<Done, ImapError> {
    let account = s
        .state
        .user()
        .map(|u| u.account.id)
        .ok_or_else(|| ImapError::bad("not authenticated"))?;
    let name = from_wire(&cmd.mailbox, s.utf8())?;
    if crate::virtual_folder::is_virtual(&s.shared.config, &name) {
        return Err(crate::virtual_folder::cannot("APPEND"));
    }
    let Some(mailbox) = s.store().mailbox(account, &name).await? else {
        return Err(missing_target(&name));
    };
    let mut messages = Vec::with_capacity(cmd.messages.len());
    let limit = s.shared.config.max_literal;
    for m in cmd.messages.iter() {
        let content = match &m.catenate {
            Some(parts) => crate::catenate::assemble(s, parts, limit).await?,
            None => crate::binary::storable(&m.data).into_owned(),
        };
        if content.is_empty() {
            return Err(ImapError::no("empty message"));
        }
        let names: Vec<String> = m.flags.iter().map(|f| f.to_string()).collect();
        // Built through the constructor so new store fields take their defaults.
        let mut message = NewMessage::new(content);
        message.flags = Flags::from_names(names.iter().map(String::as_str));
        message.internal_date = m.date.map(|d| MailDate {
            seconds: d.unix_timestamp(),
            offset_minutes: d.offset_minutes(),
        });
        messages.push(message);
    }
    let appended = if messages.len() == 1 {
        let Some(one) = messages.pop() else {
            return Err(ImapError::bad("no message"));
        };
        vec![
            s.store()
                .append(mailbox.id, one)
                .await
                .map_err(append_error)?,
        ]
    } else {
        // RFC 3502 §6.3.11: all or nothing.
        s.store()
            .append_batch(mailbox.id, messages)
            .await
            .map_err(append_error)?
    };
    let uids: Vec<u32> = appended.iter().map(|a| a.uid).collect();
    let validity = appended
        .first()
        .map_or(mailbox.uid_validity, |a| a.uid_validity);
    let code = match (NonZeroU32::new(validity), to_sequence_set(&uids)) {
        (Some(uid_validity), Some(uids)) => Some(Code::AppendUid { uid_validity, uids }),
        _ => None,
    };
    Ok(Done::with_code(code, "APPEND completed"))
}

/// RFC 9051 §7.1: OVERQUOTA and TOOBIG are what a client can act on.
fn append_error(e: StoreError) -> ImapError {
    match e {
        StoreError::TooLarge => ImapError::no_code(Code::TooBig, "message too large"),
        other => crate::error::adding_mail_error(other),
    }
}
