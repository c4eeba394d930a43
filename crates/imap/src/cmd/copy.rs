//! COPY / MOVE and their UID forms (RFC 9051 §6.4.7-8, RFC 6851) with COPYUID (RFC 4315).

use crate::cmd::select::remove_from_view;
use crate::error::ImapError;
use crate::names::{from_wire, missing_target};
use crate::session::{Done, Session, State};
use crate::view::to_sequence_set;
use mailroom_imap_proto::command::store::CopyMove;
use mailroom_imap_proto::response::{Code, Response, StatusKind, Text};
use mailroom_store::CopiedUid;
use std::num::NonZeroU32;

pub(crate) async fn copy_or_move(
    s: &mut Session,
    cmd: CopyMove,
    is_move: bool,
) -> Result<Done, ImapError> {
    let utf8 = s.utf8();
    let enabled = s.enabled;
    let store = s.shared.store.clone();
    let saved = s.saved_search.clone();
    let State::Selected(selected) = &mut s.state else {
        return Err(ImapError::bad("no mailbox selected"));
    };
    let name = from_wire(&cmd.mailbox, utf8)?;
    if crate::virtual_folder::is_virtual(&s.shared.config, &name) {
        return Err(crate::virtual_folder::cannot(if is_move {
            "MOVE"
        } else {
            "COPY"
        }));
    }
    // Moving out of "Recently Deleted" restores, which is allowed although it is read-only.
    if is_move && selected.read_only && !selected.recently_deleted {
        return Err(ImapError::no_code(Code::Cannot, "mailbox is read-only"));
    }
    let Some(target) = store.mailbox(selected.user.account.id, &name).await? else {
        return Err(missing_target(&name));
    };
    let indices = selected.view.resolve(&cmd.set, cmd.uid, saved.as_deref())?;
    let uids = selected.view.uids(&indices);
    let verb = match (is_move, cmd.uid) {
        (false, false) => "COPY",
        (false, true) => "UID COPY",
        (true, false) => "MOVE",
        (true, true) => "UID MOVE",
    };
    if uids.is_empty() {
        return Ok(Done::ok(format!("{verb} completed")));
    }
    let pairs = if selected.recently_deleted {
        // COPY and MOVE both restore: the entry leaves the recovery area either way. After a
        // COPY it stays in the view until the resync at the end of the command reports it gone.
        crate::virtual_folder::restore(store.as_ref(), selected, &uids, target.id).await
    } else if is_move {
        store
            .move_messages(selected.mailbox.id, &uids, target.id)
            .await
    } else {
        store
            .copy_messages(selected.mailbox.id, &uids, target.id)
            .await
    }
    .map_err(crate::error::adding_mail_error)?;
    let code = copy_uid(target.uid_validity, &pairs);
    if !is_move {
        return Ok(Done::with_code(code, format!("{verb} completed")));
    }
    // RFC 6851 §4.3: COPYUID goes in an untagged OK before the EXPUNGEs.
    let mut out = Vec::new();
    if code.is_some() {
        out.push(Response::untagged(
            StatusKind::Ok,
            code,
            Text::sanitized("moved"),
        ));
    }
    let moved: Vec<u32> = pairs.iter().map(|p| p.source).collect();
    out.extend(remove_from_view(&mut selected.view, &moved, enabled));
    s.out.extend(out);
    Ok(Done::ok(format!("{verb} completed")))
}

/// `COPYUID validity source-set dest-set`, the pairs in source order.
fn copy_uid(validity: u32, pairs: &[CopiedUid]) -> Option<Code> {
    let mut pairs = pairs.to_vec();
    pairs.sort_by_key(|p| p.source);
    let source: Vec<u32> = pairs.iter().map(|p| p.source).collect();
    let target: Vec<u32> = pairs.iter().map(|p| p.target).collect();
    // Both sets are written compressed; that keeps the pairing only if targets ascend too.
    if target.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return None;
    }
    Some(Code::CopyUid {
        uid_validity: NonZeroU32::new(validity)?,
        source: to_sequence_set(&source)?,
        destination: to_sequence_set(&target)?,
    })
}
