//! SELECT / EXAMINE (RFC 9051 §6.3.2-3, RFC 7162 §3.1.8 CONDSTORE parameter), CLOSE (§6.4.1),
//! UNSELECT (§6.4.2), CHECK (RFC 3501 §6.4.1), EXPUNGE (§6.4.3), UID EXPUNGE (§6.4.9).

use crate::cmd::changes::flags_announcement;
use crate::cmd::list::{delimiter, wire_use};
use crate::cmd::status::mailbox_object_id;
use crate::error::ImapError;
use crate::names::from_wire;
use crate::session::{Done, Enabled, Selected, Session, State};
use crate::view::{View, to_sequence_set};
use mailroom_imap_proto::SequenceSet;
use mailroom_imap_proto::command::mailbox::Select;
use mailroom_imap_proto::response::{
    Code, Data, ListItem, MailboxAttr, Response, StatusKind, Text,
};
use mailroom_store::{Store, SystemFlags};
use std::num::{NonZeroU32, NonZeroU64};

pub(crate) async fn select(
    s: &mut Session,
    cmd: Select,
    read_only: bool,
) -> Result<Done, ImapError> {
    if cmd.qresync.is_some() && !s.enabled.qresync {
        return Err(ImapError::bad("QRESYNC is not enabled"));
    }
    let name = from_wire(&cmd.mailbox, s.utf8())?;
    // §6.3.2: a SELECT first closes the current mailbox, even if the new one fails.
    if matches!(s.state, State::Selected(_)) {
        s.state.deselect();
        s.push(Response::untagged(
            StatusKind::Ok,
            Some(Code::Closed),
            Text::sanitized("previous mailbox closed"),
        ));
    }
    s.saved_search = None;
    if cmd.condstore {
        s.enabled.condstore = true;
    }
    let State::Authenticated(user) = &s.state else {
        return Err(ImapError::bad("not authenticated"));
    };
    let account = user.account.id;
    let store = s.shared.store.clone();
    let recently_deleted = crate::virtual_folder::is_virtual(&s.shared.config, &name);
    let examine = read_only;
    // The virtual folder is always read-only: it changes only by restoring out of it.
    let read_only = read_only || recently_deleted;
    let (mailbox, view, status, events) = if recently_deleted {
        crate::virtual_folder::open(store.as_ref(), account, name).await?
    } else {
        let Some(mailbox) = store.mailbox(account, &name).await? else {
            return Err(ImapError::no_code(Code::NonExistent, "no such mailbox"));
        };
        // Subscribe before reading, so that no change falls between the list and the events;
        // changes already in the list are skipped when the log is applied.
        let events = store.subscribe_mailbox(mailbox.id);
        let status = store.mailbox_status(mailbox.id).await?;
        let messages = store.message_list(mailbox.id).await?;
        let mut view = View::new(messages, status.highest_modseq);
        // RFC 3501 §2.3.2: the messages no session was told of are recent here; SELECT takes
        // them over (no later session sees them as recent), EXAMINE only looks.
        let told_up_to = if examine {
            status.recent_uid
        } else {
            // \Recent is a courtesy: a store that can't record it (a full disk) must not
            // keep the user from reading, and deleting, their mail.
            // Messages may have arrived between the status and the list: the claim covers
            // everything in the view, or another session would see those as recent too.
            let top = view.max_uid().max(status.uid_next.saturating_sub(1));
            match store.claim_recent(mailbox.id, top).await {
                Ok(told) => told,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot record recent messages");
                    status.recent_uid
                }
            }
        };
        view.recent = view
            .messages
            .iter()
            .map(|m| m.uid)
            .filter(|&uid| uid > told_up_to)
            .collect();
        (mailbox, view, status, events)
    };

    let rev2 = s.enabled.rev2;
    if rev2 {
        // RFC 9051 §6.3.2: an IMAP4rev2 SELECT also answers with the mailbox's LIST line.
        let mut attrs = Vec::new();
        if let Some(u) = mailbox.special_use {
            attrs.push(MailboxAttr::SpecialUse(wire_use(u)));
        }
        s.push(Response::Data(Data::List(ListItem::new(
            attrs,
            delimiter(),
            crate::names::to_wire(&mailbox.name, s.utf8()),
        ))));
    }
    s.out.extend(flags_announcement(&view, read_only));
    s.push(Response::Data(Data::Exists(view.len())));
    if !rev2 {
        // IMAP4rev2 dropped \Recent (RFC 9051 §2.3.2); IMAP4rev1 keeps it (RFC 3501 §7.3.2).
        s.push(Response::Data(Data::Recent(
            u32::try_from(view.recent.len()).unwrap_or(u32::MAX),
        )));
        if let Some(index) = view
            .messages
            .iter()
            .position(|m| !m.flags.system.contains(SystemFlags::SEEN))
            && let Some(seq) = NonZeroU32::new(index as u32 + 1)
        {
            ok_code(s, Code::Unseen(seq), "first unseen");
        }
    }
    if let Some(v) = NonZeroU32::new(status.uid_validity) {
        ok_code(s, Code::UidValidity(v), "UIDs valid");
    }
    if let Some(n) = NonZeroU32::new(status.uid_next) {
        ok_code(s, Code::UidNext(n), "predicted next UID");
    }
    match NonZeroU64::new(status.highest_modseq) {
        Some(m) => ok_code(s, Code::HighestModSeq(m), "highest"),
        None => ok_code(s, Code::NoModSeq, "no MODSEQ yet"),
    }
    if !recently_deleted && let Some(id) = mailbox_object_id(mailbox.id) {
        ok_code(s, Code::MailboxId(id), "mailbox id");
    }
    if let Some(q) = &cmd.qresync
        && !recently_deleted
        && q.uid_validity.get() == status.uid_validity
    {
        let responses = qresync_catch_up(
            store.as_ref(),
            mailbox.id,
            &view,
            q.modseq.get(),
            q.known_uids.as_ref(),
        )
        .await?;
        s.out.extend(responses);
    }
    let old = std::mem::replace(&mut s.state, State::Logout);
    let State::Authenticated(user) = old else {
        s.state = old;
        return Err(ImapError::bad("not authenticated"));
    };
    s.state = State::Selected(Box::new(Selected {
        user,
        mailbox,
        read_only,
        view,
        events,
        recently_deleted,
        contexts: Vec::new(),
    }));
    let code = if read_only {
        Code::ReadOnly
    } else {
        Code::ReadWrite
    };
    let text = if examine {
        "EXAMINE completed"
    } else {
        "SELECT completed"
    };
    Ok(Done::with_code(Some(code), text))
}

fn ok_code(s: &mut Session, code: Code, text: &str) {
    s.push(Response::untagged(
        StatusKind::Ok,
        Some(code),
        Text::sanitized(text),
    ));
}

pub(crate) async fn close(s: &mut Session) -> Result<Done, ImapError> {
    // §6.4.1: CLOSE expunges silently, and never in a read-only mailbox.
    if let State::Selected(selected) = &s.state
        && !selected.read_only
    {
        let store = s.shared.store.clone();
        let deleted = deleted_uids(store.as_ref(), selected.mailbox.id, None).await?;
        if !deleted.is_empty() {
            store.expunge(selected.mailbox.id, &deleted).await?;
        }
    }
    s.state.deselect();
    s.saved_search = None;
    Ok(Done::ok("CLOSE completed"))
}

pub(crate) fn unselect(s: &mut Session) -> Result<Done, ImapError> {
    s.state.deselect();
    s.saved_search = None;
    Ok(Done::ok("UNSELECT completed"))
}

/// The UIDs marked \Deleted in the store right now (not the possibly stale view), limited to
/// `within` when given.
async fn deleted_uids(
    store: &dyn Store,
    mailbox: mailroom_store::MailboxId,
    within: Option<&[u32]>,
) -> Result<Vec<u32>, ImapError> {
    Ok(store
        .message_list(mailbox)
        .await?
        .into_iter()
        .filter(|m| m.flags.system.contains(SystemFlags::DELETED))
        .filter(|m| within.is_none_or(|w| w.contains(&m.uid)))
        .map(|m| m.uid)
        .collect())
}

/// EXPUNGE and UID EXPUNGE (`set` given).
pub(crate) async fn expunge(s: &mut Session, set: Option<SequenceSet>) -> Result<Done, ImapError> {
    let enabled = s.enabled;
    let store = s.shared.store.clone();
    let saved = s.saved_search.clone();
    let State::Selected(selected) = &mut s.state else {
        return Err(ImapError::bad("no mailbox selected"));
    };
    if selected.recently_deleted {
        return Err(crate::virtual_folder::cannot("EXPUNGE"));
    }
    if selected.read_only {
        return Err(ImapError::no_code(Code::Cannot, "mailbox is read-only"));
    }
    let within = match &set {
        Some(set) => {
            let indices = selected.view.resolve(set, true, saved.as_deref())?;
            Some(selected.view.uids(&indices))
        }
        None => None,
    };
    let deleted = deleted_uids(store.as_ref(), selected.mailbox.id, within.as_deref()).await?;
    let expunged = if deleted.is_empty() {
        Vec::new()
    } else {
        store.expunge(selected.mailbox.id, &deleted).await?
    };
    let responses = remove_from_view(&mut selected.view, &expunged, enabled);
    // RFC 7162 §3.1.10: with CONDSTORE the tagged OK tells the MODSEQ the expunge reached.
    let code = if enabled.condstore {
        let status = store.mailbox_status(selected.mailbox.id).await?;
        NonZeroU64::new(status.highest_modseq).map(Code::HighestModSeq)
    } else {
        None
    };
    s.out.extend(responses);
    Ok(Done::with_code(
        code,
        if set.is_some() {
            "UID EXPUNGE completed"
        } else {
            "EXPUNGE completed"
        },
    ))
}

/// RFC 7162 §3.2.5: what changed since the client's MODSEQ: `VANISHED (EARLIER)` for messages
/// expunged since (within `known` when given), then a FETCH for each changed message.
async fn qresync_catch_up(
    store: &dyn Store,
    mailbox: mailroom_store::MailboxId,
    view: &View,
    modseq: u64,
    known: Option<&SequenceSet>,
) -> Result<Vec<Response>, ImapError> {
    let vanished = vanished_since(store, mailbox, modseq, known).await?;
    let mut out: Vec<Response> = vanished.into_iter().collect();
    let enabled = Enabled {
        condstore: true,
        qresync: true,
        ..Enabled::default()
    };
    for (index, message) in view.messages.iter().enumerate() {
        if message.modseq > modseq {
            let recent = crate::cmd::changes::shows_recent(view, message.uid, enabled);
            out.push(crate::cmd::changes::flags_fetch(
                index, message, enabled, recent,
            ));
        }
    }
    Ok(out)
}

/// `* VANISHED (EARLIER) uids` for messages expunged after `modseq`, within `within`.
pub(crate) async fn vanished_since(
    store: &dyn Store,
    mailbox: mailroom_store::MailboxId,
    modseq: u64,
    within: Option<&SequenceSet>,
) -> Result<Option<Response>, ImapError> {
    let uids: Vec<u32> = store
        .changes_since(mailbox, modseq)
        .await?
        .into_iter()
        .filter(|c| matches!(c.kind, mailroom_store::ChangeKind::Expunged))
        .map(|c| c.uid)
        .filter(|uid| within.is_none_or(|set| set.contains(*uid, u32::MAX).unwrap_or(true)))
        .collect();
    Ok(to_sequence_set(&uids).map(|uids| {
        Response::Data(Data::Vanished {
            earlier: true,
            uids,
        })
    }))
}

/// Drops expunged UIDs from the view and says so: EXPUNGE per message, or one VANISHED with
/// QRESYNC (RFC 7162 §3.2.10).
pub(crate) fn remove_from_view(view: &mut View, uids: &[u32], enabled: Enabled) -> Vec<Response> {
    let mut out = Vec::new();
    let mut gone = Vec::new();
    for &uid in uids {
        if let Some(index) = view.index_of(uid) {
            view.messages.remove(index);
            gone.push(uid);
            if !enabled.qresync
                && let Some(seq) = NonZeroU32::new(index as u32 + 1)
            {
                out.push(Response::Data(Data::Expunge(seq)));
            }
        }
    }
    if enabled.qresync
        && let Some(uids) = to_sequence_set(&gone)
    {
        out.push(Response::Data(Data::Vanished {
            earlier: false,
            uids,
        }));
    }
    out
}
