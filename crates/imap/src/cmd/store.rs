//! STORE / UID STORE (RFC 9051 §6.4.6) with UNCHANGEDSINCE and MODIFIED (RFC 7162 §3.1.3).

use crate::cmd::changes::{flags_announcement, flags_fetch, shows_recent};
use crate::error::ImapError;
use crate::session::{Done, Session, State};
use crate::view::to_sequence_set;
use mailroom_imap_proto::command::store::{Store as StoreCmd, StoreAction};
use mailroom_imap_proto::response::Code;
use mailroom_store::{FlagOp, Flags};

pub(crate) async fn store(s: &mut Session, cmd: StoreCmd) -> Result<Done, ImapError> {
    if cmd.unchanged_since.is_some() {
        // RFC 7162 §3.1: a CONDSTORE-aware command enables CONDSTORE.
        s.enable_condstore();
    }
    let mut enabled = s.enabled;
    let store = s.shared.store.clone();
    let saved = s.saved_search.clone();
    let State::Selected(selected) = &mut s.state else {
        return Err(ImapError::bad("no mailbox selected"));
    };
    if selected.recently_deleted {
        return Err(crate::virtual_folder::cannot("STORE"));
    }
    if selected.read_only {
        return Err(ImapError::no_code(Code::Cannot, "mailbox is read-only"));
    }
    let indices = selected.view.resolve(&cmd.set, cmd.uid, saved.as_deref())?;
    let uids = selected.view.uids(&indices);
    let names: Vec<String> = cmd.flags.iter().map(|f| f.to_string()).collect();
    let flags = Flags::from_names(names.iter().map(String::as_str));
    let op = match cmd.action {
        StoreAction::Replace => FlagOp::Replace(flags),
        StoreAction::Add => FlagOp::Add(flags),
        StoreAction::Remove => FlagOp::Remove(flags),
    };
    let update = if uids.is_empty() {
        Default::default()
    } else {
        store
            .store_flags(selected.mailbox.id, &uids, op, cmd.unchanged_since)
            .await?
    };
    let mut out = Vec::new();
    let mut learnt = false;
    for changed in &update.changed {
        if let Some(index) = selected.view.index_of(changed.uid)
            && let Some(message) = selected.view.messages.get_mut(index)
        {
            message.flags = changed.flags.clone();
            message.modseq = changed.modseq;
            learnt |= selected.view.learn_keywords(&changed.flags);
        }
    }
    if learnt {
        // RFC 9051 §7.3.5: the new keyword is announced before a FETCH shows it.
        out.extend(flags_announcement(&selected.view, selected.read_only));
    }
    if !cmd.silent {
        // Every message of the set that was not refused reports its (possibly unchanged)
        // flags; the UID is included for UID STORE (§6.4.9) and harmless otherwise.
        enabled.condstore = enabled.condstore || cmd.unchanged_since.is_some();
        for &index in &indices {
            let Some(message) = selected.view.messages.get(index) else {
                continue;
            };
            if !update.modified.contains(&message.uid) {
                let recent = shows_recent(&selected.view, message.uid, enabled);
                out.push(flags_fetch(index, message, enabled, recent));
            }
        }
    }
    let code = if update.modified.is_empty() {
        None
    } else if cmd.uid {
        to_sequence_set(&update.modified).map(Code::Modified)
    } else {
        let seqs: Vec<u32> = update
            .modified
            .iter()
            .filter_map(|uid| selected.view.index_of(*uid).map(|i| i as u32 + 1))
            .collect();
        to_sequence_set(&seqs).map(Code::Modified)
    };
    s.out.extend(out);
    Ok(Done::with_code(
        code,
        if cmd.uid {
            "UID STORE completed"
        } else {
            "STORE completed"
        },
    ))
}
