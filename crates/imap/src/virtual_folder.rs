//! The "Recently Deleted" virtual folder: the account's recovery area shown as a read-only
//! mailbox. UIDs are recovery ids (they only grow), UIDVALIDITY is fixed, and COPY / MOVE out
//! of it restores messages with `Recovery::restore_into`. Everything here reads the store with
//! the logged-in account's id only, so one account never sees another's entries.
//!
//! A selection of the folder listens to the account's events: any change in the account
//! re-reads the recovery list, so mail deleted elsewhere appears (EXISTS) and entries restored
//! or purged elsewhere disappear (EXPUNGE / VANISHED) on NOOP, IDLE and after other commands.
//! COPY restores too (the entry leaves the recovery area), so after a COPY the folder reports
//! the entry gone as well. SEARCH BODY / TEXT scans the bytes: the full-text index is per
//! mailbox and the recovery area has none.

use crate::config::ImapConfig;
use crate::error::ImapError;
use crate::session::{Enabled, Selected};
use crate::view::View;
use mailroom_imap_proto::response::{Code, Data, Response};
use mailroom_store::{
    AccountId, CopiedUid, Flags, Mailbox, MailboxEvent, MailboxId, MailboxName, MailboxStatus,
    MessageMeta, MessageSummary, RecoverableMessage, RecoveryFilter, RecoveryId, Store, StoreError,
    SystemFlags, TextField,
};
use tokio::sync::broadcast;

/// The recovery ids never restart, so one fixed UIDVALIDITY stays truthful.
pub(crate) const UID_VALIDITY: u32 = 1;

/// Stands in for a mailbox id in `Selected`; real ids are positive, so nothing collides, and
/// every code path that would hand it to the store checks `Selected::recently_deleted` first.
const PSEUDO_ID: MailboxId = MailboxId(0);

/// Every entry has one fixed MODSEQ: entries never change, they only appear or go.
const MODSEQ: u64 = 1;

/// True when `name` is the configured virtual folder (an empty setting turns it off).
pub(crate) fn is_virtual(config: &ImapConfig, name: &MailboxName) -> bool {
    !config.recently_deleted.is_empty() && name.as_str() == config.recently_deleted
}

/// The folder's name or a name below it: no real mailbox may take it, so that the folder
/// stays a childless top-level name.
pub(crate) fn is_reserved(config: &ImapConfig, name: &MailboxName) -> bool {
    let folder = &config.recently_deleted;
    !folder.is_empty()
        && name
            .as_str()
            .strip_prefix(folder.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The refusal for a real mailbox taking the folder's name.
pub(crate) fn reserved() -> ImapError {
    ImapError::no_code(
        Code::AlreadyExists,
        "that name belongs to the folder of deleted mail",
    )
}

/// The folder's name when it is turned on and valid.
pub(crate) fn name(config: &ImapConfig) -> Option<MailboxName> {
    if config.recently_deleted.is_empty() {
        return None;
    }
    MailboxName::new(&config.recently_deleted).ok()
}

/// The refusal for anything that would change the folder itself.
pub(crate) fn cannot(what: &str) -> ImapError {
    ImapError::no_code(
        Code::Cannot,
        format!(
            "{what}: this folder is a read-only view of deleted mail; \
             COPY or MOVE messages out of it to restore them"
        ),
    )
}

/// The account's entries whose id fits a UID, ascending by id.
pub(crate) async fn entries(
    store: &dyn Store,
    account: AccountId,
) -> Result<Vec<RecoverableMessage>, ImapError> {
    let mut list = store
        .list_recoverable(account, RecoveryFilter::default())
        .await?;
    // An id beyond u32 can't be a UID; such an entry stays reachable through `restore`.
    list.retain(|e| uid_of(e.id).is_some());
    list.sort_by_key(|e| e.id);
    Ok(list)
}

fn uid_of(id: RecoveryId) -> Option<u32> {
    u32::try_from(id.0).ok().filter(|u| *u > 0)
}

/// The flags shown: the original ones without \Deleted, which is what a restore gives back
/// (and clients that hide \Deleted messages would otherwise hide the whole folder).
fn shown_flags(entry: &RecoverableMessage) -> Flags {
    let mut flags = entry.flags.clone();
    flags.system = flags.system.difference(SystemFlags::DELETED);
    flags
}

pub(crate) fn summaries(entries: &[RecoverableMessage]) -> Vec<MessageSummary> {
    entries
        .iter()
        .filter_map(|e| {
            Some(MessageSummary {
                uid: uid_of(e.id)?,
                modseq: MODSEQ,
                flags: shown_flags(e),
            })
        })
        .collect()
}

/// STATUS values computed from the entries.
pub(crate) fn status(entries: &[RecoverableMessage]) -> MailboxStatus {
    let max = entries
        .iter()
        .filter_map(|e| uid_of(e.id))
        .max()
        .unwrap_or(0);
    MailboxStatus {
        messages: u32::try_from(entries.len()).unwrap_or(u32::MAX),
        unseen: u32::try_from(
            entries
                .iter()
                .filter(|e| !e.flags.system.contains(SystemFlags::SEEN))
                .count(),
        )
        .unwrap_or(u32::MAX),
        // \Deleted is not shown (see `shown_flags`).
        deleted: 0,
        // A view of the recovery area: nothing in it is new mail.
        recent: 0,
        recent_uid: max,
        size: entries.iter().map(|e| e.size).sum(),
        uid_next: max.saturating_add(1),
        uid_validity: UID_VALIDITY,
        highest_modseq: MODSEQ,
    }
}

/// The `Mailbox` a selection of the folder carries.
pub(crate) fn pseudo_mailbox(account: AccountId, name: MailboxName, st: &MailboxStatus) -> Mailbox {
    Mailbox {
        id: PSEUDO_ID,
        account,
        name,
        special_use: None,
        subscribed: false,
        uid_validity: UID_VALIDITY,
        uid_next: st.uid_next,
        highest_modseq: MODSEQ,
    }
}

/// Metadata of the selected messages, from the right place for the selection.
pub(crate) async fn message_meta(
    store: &dyn Store,
    selected: &Selected,
    uids: &[u32],
) -> Result<Vec<MessageMeta>, ImapError> {
    if !selected.recently_deleted {
        return Ok(store.message_meta(selected.mailbox.id, uids).await?);
    }
    let ids: Vec<RecoveryId> = uids.iter().map(|u| RecoveryId(i64::from(*u))).collect();
    let mut metas = store
        .recoverable_meta(selected.user.account.id, &ids)
        .await?;
    // Same flags as the view shows.
    for meta in &mut metas {
        meta.flags.system = meta.flags.system.difference(SystemFlags::DELETED);
    }
    Ok(metas)
}

/// SEARCH BODY / TEXT. The full-text index is per mailbox and the recovery area has none, so
/// in the virtual folder the raw bytes are scanned case-insensitively (ASCII folding, no
/// decoding of transfer encodings): slower, and approximate for encoded bodies.
pub(crate) async fn search_text(
    store: &dyn Store,
    selected: &Selected,
    field: TextField,
    needle: &str,
) -> Result<Vec<u32>, ImapError> {
    if !selected.recently_deleted {
        return Ok(store
            .search_text(selected.mailbox.id, field, needle)
            .await?);
    }
    let needle = needle.as_bytes().to_ascii_lowercase();
    let uids = selected
        .view
        .uids(&(0..selected.view.messages.len()).collect::<Vec<_>>());
    let mut hits = Vec::new();
    for chunk in uids.chunks(64) {
        for meta in message_meta(store, selected, chunk).await? {
            let blob = store.read_blob(&meta.blob).await?;
            let body = &meta.facts.body;
            let (start, end) = match field {
                TextField::Headers => (body.header_start as usize, body.body_start as usize),
                TextField::Body => (body.body_start as usize, blob.len()),
                TextField::All => (0, blob.len()),
            };
            let hay = blob
                .get(start..end)
                .unwrap_or_default()
                .to_ascii_lowercase();
            if needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle.as_slice()) {
                hits.push(meta.uid);
            }
        }
    }
    hits.sort_unstable();
    Ok(hits)
}

/// What SELECT needs: the stand-in mailbox, the view, the STATUS values and the events.
pub(crate) type Opened = (
    Mailbox,
    View,
    MailboxStatus,
    broadcast::Receiver<MailboxEvent>,
);

/// SELECT / EXAMINE of the folder: a view of the entries, always read-only, fed by the
/// account's events so that mail deleted elsewhere shows up on NOOP / IDLE.
pub(crate) async fn open(
    store: &dyn Store,
    account: AccountId,
    name: MailboxName,
) -> Result<Opened, ImapError> {
    // Subscribe first, so nothing deleted between the list and the events goes unseen.
    let events = store.subscribe_account(account);
    let list = entries(store, account).await?;
    let st = status(&list);
    let view = View::new(summaries(&list), MODSEQ);
    Ok((pseudo_mailbox(account, name, &st), view, st, events))
}

/// Brings the view in line with the recovery area: new entries get EXISTS (ids only grow, so
/// they go at the end), entries restored or purged elsewhere get EXPUNGE / VANISHED.
pub(crate) async fn resync(
    store: &dyn Store,
    selected: &mut Selected,
    enabled: Enabled,
) -> Result<Vec<Response>, ImapError> {
    let current = summaries(&entries(store, selected.user.account.id).await?);
    let gone: Vec<u32> = selected
        .view
        .messages
        .iter()
        .map(|m| m.uid)
        .filter(|uid| current.binary_search_by_key(uid, |m| m.uid).is_err())
        .collect();
    let mut out = crate::cmd::select::remove_from_view(&mut selected.view, &gone, enabled);
    let max = selected.view.max_uid();
    let before = selected.view.len();
    selected
        .view
        .messages
        .extend(current.into_iter().filter(|m| m.uid > max));
    if selected.view.len() != before {
        out.push(Response::Data(Data::Exists(selected.view.len())));
    }
    Ok(out)
}

/// COPY / MOVE out of the folder: restores the entries into `target` (their original flags
/// and internal date come back with them). Returns the (recovery id, new UID) pairs.
pub(crate) async fn restore(
    store: &dyn Store,
    selected: &Selected,
    uids: &[u32],
    target: MailboxId,
) -> Result<Vec<CopiedUid>, StoreError> {
    let ids: Vec<RecoveryId> = uids.iter().map(|u| RecoveryId(i64::from(*u))).collect();
    let restored = store
        .restore_into(selected.user.account.id, &ids, target)
        .await?;
    Ok(restored
        .iter()
        .filter_map(|r| {
            Some(CopiedUid {
                source: uid_of(r.id)?,
                target: r.uid,
            })
        })
        .collect())
}
