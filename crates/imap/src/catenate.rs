//! CATENATE (RFC 4469): an APPEND whose message is put together from literals and from
//! messages, or parts of messages, already in the user's own mailboxes, named by IMAP URLs
//! (RFC 5092). A URL that names nothing of this user's is `NO [BADURL url]` (§5).

use crate::error::ImapError;
use crate::section::{apply_partial, section_bytes};
use crate::session::Session;
use bytes::Bytes;
use mailroom_imap_proto::Atom;
use mailroom_imap_proto::command::append::CatPart;
use mailroom_imap_proto::command::url::ImapUrl;
use mailroom_imap_proto::response::Code;
use mailroom_store::MailboxName;

/// The message the parts make, at most `limit` octets.
pub(crate) async fn assemble(
    s: &Session,
    parts: &[CatPart],
    limit: u64,
) -> Result<Vec<u8>, ImapError> {
    let mut out = Vec::new();
    for part in parts {
        match part {
            CatPart::Text(text) => out.extend_from_slice(text),
            CatPart::Url(raw) => match resolve(s, raw).await {
                Some(bytes) => out.extend_from_slice(&bytes),
                None => return Err(bad_url(raw)),
            },
        }
        if out.len() as u64 > limit {
            return Err(ImapError::no_code(Code::TooBig, "message too large"));
        }
    }
    Ok(out)
}

/// The bytes a URL names, if they are this user's.
async fn resolve(s: &Session, raw: &[u8]) -> Option<Bytes> {
    let url = ImapUrl::parse(raw)?;
    let account = &s.state.user()?.account;
    if url
        .user
        .as_deref()
        .is_some_and(|u| !u.eq_ignore_ascii_case(&account.address))
    {
        return None;
    }
    let name = MailboxName::existing(&url.mailbox).ok()?;
    if crate::virtual_folder::is_virtual(&s.shared.config, &name) {
        return None;
    }
    let store = s.store();
    let mailbox = store.mailbox(account.id, &name).await.ok()??;
    if url
        .uid_validity
        .is_some_and(|v| v.get() != mailbox.uid_validity)
    {
        return None;
    }
    let meta = store
        .message_meta(mailbox.id, &[url.uid.get()])
        .await
        .ok()?
        .pop()?;
    let blob = store.read_blob(&meta.blob).await.ok()?;
    let bytes = match &url.section {
        Some(section) => section_bytes(&blob, &meta.facts.body, section)?,
        None => blob,
    };
    Some(apply_partial(bytes, url.partial.as_ref()))
}

fn bad_url(raw: &[u8]) -> ImapError {
    let code = Atom::new("BADURL").ok().map(|name| Code::Other {
        name,
        value: Some(String::from_utf8_lossy(raw).into_owned()),
    });
    ImapError::No(code, "the URL names no message of yours".into())
}
