//! FETCH / UID FETCH (RFC 9051 §6.4.5) with BINARY (RFC 3516), MODSEQ and CHANGEDSINCE
//! (RFC 7162 §3.1.4), EMAILID / THREADID (RFC 8474) and SAVEDATE (RFC 8514). ENVELOPE and
//! BODYSTRUCTURE come from the stored facts; section bytes from the blob.

use crate::cmd::changes::{fetch_flags, shows_recent};
use crate::cmd::search::cpu_failed;
use crate::error::ImapError;
use crate::facts::{body_structure, date_time, envelope};
use crate::section::{BinaryError, apply_partial, binary_bytes, section_bytes, slice};
use crate::session::{Done, Session, State};
use bytes::Bytes;
use mailroom_imap_proto::command::fetch::{Fetch, FetchAttr};
use mailroom_imap_proto::response::{BodyData, Code, Data, FetchItem, Response};
use mailroom_imap_proto::{NonEmpty, ObjectId};
use mailroom_store::{FlagOp, Flags, MailDate, MessageMeta, SystemFlags};
use std::collections::HashMap;
use std::num::{NonZeroU32, NonZeroU64};

/// Metadata is read in batches so a `1:*` over a large mailbox doesn't hold it all at once.
const META_BATCH: usize = 64;
/// Bodies read from the store at once: the messages of a batch up to this many octets (at
/// least one message), so large messages never pile up in memory: with a stalled client a
/// session holds about this batch and two pieces of `STREAM_AFTER_BYTES`.
const BODY_BATCH_BYTES: u64 = 1024 * 1024;
/// Responses are handed to the connection once they carry this much body data, while the
/// command goes on: a FETCH of every body streams in bounded pieces.
const STREAM_AFTER_BYTES: u64 = 1024 * 1024;

pub(crate) async fn fetch(s: &mut Session, cmd: Fetch) -> Result<Done, ImapError> {
    let mut attrs = cmd.items.expand();
    if cmd.changed_since.is_some() || attrs.contains(&FetchAttr::ModSeq) {
        // RFC 7162 §3.1: a CONDSTORE-aware command enables CONDSTORE.
        s.enable_condstore();
    }
    if cmd.changed_since.is_some_and(|c| c.vanished) && !(cmd.uid && s.enabled.qresync) {
        return Err(ImapError::bad("VANISHED needs UID FETCH and QRESYNC"));
    }
    // §6.4.9: UID FETCH always reports the UID; CHANGEDSINCE always reports MODSEQ.
    if cmd.uid && !attrs.contains(&FetchAttr::Uid) {
        attrs.insert(0, FetchAttr::Uid);
    }
    if cmd.changed_since.is_some() && !attrs.contains(&FetchAttr::ModSeq) {
        attrs.push(FetchAttr::ModSeq);
    }
    let enabled = s.enabled;
    let utf8_names = s.enabled.utf8_accept;
    let store = s.shared.store.clone();
    let saved = s.saved_search.clone();
    let State::Selected(selected) = &mut s.state else {
        return Err(ImapError::bad("no mailbox selected"));
    };
    let mut indices = selected.view.resolve(&cmd.set, cmd.uid, saved.as_deref())?;
    if let Some(since) = cmd.changed_since {
        indices.retain(|&i| {
            selected
                .view
                .messages
                .get(i)
                .is_some_and(|m| m.modseq > since.modseq.get())
        });
    }

    // §6.4.5: fetching a body without PEEK sets \Seen, and the new flags are reported.
    let mut seen_now = Vec::new();
    if !selected.read_only && attrs.iter().any(FetchAttr::sets_seen) {
        let unseen: Vec<u32> = indices
            .iter()
            .filter_map(|&i| selected.view.messages.get(i))
            .filter(|m| !m.flags.system.contains(SystemFlags::SEEN))
            .map(|m| m.uid)
            .collect();
        if !unseen.is_empty() {
            let op = FlagOp::Add(Flags::system(SystemFlags::SEEN));
            let update = store
                .store_flags(selected.mailbox.id, &unseen, op, None)
                .await?;
            for changed in update.changed {
                if let Some(m) = selected
                    .view
                    .index_of(changed.uid)
                    .and_then(|i| selected.view.messages.get_mut(i))
                {
                    m.flags = changed.flags;
                    m.modseq = changed.modseq;
                    seen_now.push(m.uid);
                }
            }
        }
    }
    let needs_meta = attrs
        .iter()
        .any(|a| !matches!(a, FetchAttr::Flags | FetchAttr::Uid | FetchAttr::ModSeq));
    let needs_blob = attrs.iter().any(|a| {
        matches!(
            a,
            FetchAttr::Rfc822
                | FetchAttr::Rfc822Header
                | FetchAttr::Rfc822Text
                | FetchAttr::BodySection { .. }
                | FetchAttr::Binary { .. }
                | FetchAttr::BinarySize { .. }
        )
    });

    // What is already queued goes first, so the streamed pieces keep the response order.
    let mut out = std::mem::take(&mut s.out);
    let sink = s.sink.clone();
    let Session { state, budget, .. } = s;
    let State::Selected(selected) = state else {
        return Err(ImapError::bad("no mailbox selected"));
    };
    if let Some(since) = cmd.changed_since
        && since.vanished
        && !selected.recently_deleted
    {
        // RFC 7162 §3.2.6: expunged UIDs of the set come first, as VANISHED (EARLIER).
        out.extend(
            crate::cmd::select::vanished_since(
                store.as_ref(),
                selected.mailbox.id,
                since.modseq.get(),
                Some(&cmd.set),
            )
            .await?,
        );
    }
    let mut unsent = 0u64;
    // A FETCH of more than a batch is heavy work: its store reads hold a pool worker and count
    // against the session's budget, so a few clients fetching whole mailboxes can't take the
    // machine from everyone else. Smaller ones never wait.
    let heavy = indices.len() > META_BATCH;
    for batch in indices.chunks(META_BATCH) {
        let batch_uids = selected.view.uids(batch);
        let metas: HashMap<u32, MessageMeta> = if needs_meta {
            let read = crate::virtual_folder::message_meta(store.as_ref(), selected, &batch_uids);
            let metas = if heavy {
                budget.gate(read).await.map_err(cpu_failed)??
            } else {
                read.await?
            };
            metas.into_iter().map(|m| (m.uid, m)).collect()
        } else {
            HashMap::new()
        };
        let size = |index: &usize| {
            let uid = selected.view.messages.get(*index).map(|m| m.uid);
            uid.and_then(|uid| metas.get(&uid)).map_or(0, |m| m.size)
        };
        let mut rest = batch;
        while !rest.is_empty() {
            // As many messages as fit in one body read, at least one.
            let mut take = 1;
            let mut body_bytes = size(&rest[0]);
            while needs_blob
                && take < rest.len()
                && body_bytes + size(&rest[take]) <= BODY_BATCH_BYTES
            {
                body_bytes += size(&rest[take]);
                take += 1;
            }
            if !needs_blob {
                take = rest.len();
            }
            let (part, after) = rest.split_at(take);
            rest = after;
            // The part's bodies in one read from the store, not one round trip per message.
            let mut blobs: HashMap<u32, Bytes> = HashMap::new();
            if needs_blob {
                let wanted: Vec<(u32, mailroom_store::BlobHash)> = selected
                    .view
                    .uids(part)
                    .iter()
                    .filter_map(|uid| metas.get(uid).map(|m| (*uid, m.blob)))
                    .collect();
                let hashes: Vec<_> = wanted.iter().map(|(_, h)| *h).collect();
                let read = store.read_blobs(&hashes);
                let bytes = if heavy {
                    budget.gate(read).await.map_err(cpu_failed)??
                } else {
                    read.await?
                };
                blobs.extend(wanted.iter().map(|(uid, _)| *uid).zip(bytes));
                unsent += body_bytes;
            }
            for &index in part {
                let Some(summary) = selected.view.messages.get(index) else {
                    continue;
                };
                let meta = metas.get(&summary.uid);
                if needs_meta && meta.is_none() {
                    // Expunged by another session since our view was built: RFC 9051 §7.5.1
                    // lets us skip it (the EXPUNGE comes later).
                    continue;
                }
                let blob = blobs.remove(&summary.uid);
                let recent = shows_recent(&selected.view, summary.uid, enabled);
                let mut items = Vec::new();
                for attr in &attrs {
                    let item = item(attr, summary, meta, blob.as_ref(), utf8_names, recent)?;
                    if let Some(item) = item {
                        items.push(item);
                    }
                }
                if seen_now.contains(&summary.uid) && !attrs.contains(&FetchAttr::Flags) {
                    items.push(FetchItem::Flags(fetch_flags(&summary.flags, recent)));
                }
                let (Some(seq), Some(items)) =
                    (NonZeroU32::new(index as u32 + 1), NonEmpty::from_vec(items))
                else {
                    continue;
                };
                out.push(Response::Data(Data::Fetch { seq, items }));
            }
            if let Some(sink) = &sink
                && unsent >= STREAM_AFTER_BYTES
            {
                unsent = 0;
                sink.send(std::mem::take(&mut out))
                    .await
                    .map_err(|_| ImapError::Bye(None, "connection lost".into()))?;
            }
        }
    }
    s.out.extend(out);
    Ok(Done::ok(if cmd.uid {
        "UID FETCH completed"
    } else {
        "FETCH completed"
    }))
}

fn data(bytes: Option<Bytes>) -> BodyData {
    match bytes {
        Some(b) => BodyData::Bytes(b),
        None => BodyData::Nil,
    }
}

/// RFC 8474 §5.1: copies of a message share their EMAILID; the blob hash is exactly that.
pub(crate) fn email_id(meta: &MessageMeta) -> Option<ObjectId> {
    let hex = meta.blob.to_hex();
    ObjectId::new(format!("E{}", hex.get(..32).unwrap_or(&hex))).ok()
}

/// RFC 8474 §5.2: messages of one thread share a THREADID. The thread is named by its first
/// message: the oldest of the References, else In-Reply-To, else the message's own Message-ID
/// (a message that starts a thread). Without any of them, NIL.
pub(crate) fn thread_id(meta: &MessageMeta) -> Option<ObjectId> {
    use sha2::{Digest, Sha256};
    let facts = &meta.facts;
    let root = facts
        .references
        .first()
        .map(String::as_str)
        .or(facts.envelope.in_reply_to.as_deref())
        .or(facts.envelope.message_id.as_deref())?;
    let root = root.trim().trim_start_matches('<').trim_end_matches('>');
    if root.is_empty() {
        return None;
    }
    let digest = Sha256::digest(root.as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    ObjectId::new(format!("T{hex}")).ok()
}

fn item(
    attr: &FetchAttr,
    summary: &mailroom_store::MessageSummary,
    meta: Option<&MessageMeta>,
    blob: Option<&Bytes>,
    utf8_names: bool,
    recent: bool,
) -> Result<Option<FetchItem>, ImapError> {
    let missing = || ImapError::no_code(Code::ServerBug, "message data unavailable");
    let meta_or = || meta.ok_or_else(missing);
    let blob_or = || blob.ok_or_else(missing);
    Ok(Some(match attr {
        FetchAttr::Flags => FetchItem::Flags(fetch_flags(&summary.flags, recent)),
        FetchAttr::Uid => match NonZeroU32::new(summary.uid) {
            Some(uid) => FetchItem::Uid(uid),
            None => return Ok(None),
        },
        FetchAttr::ModSeq => match NonZeroU64::new(summary.modseq) {
            Some(m) => FetchItem::ModSeq(m),
            None => return Ok(None),
        },
        FetchAttr::InternalDate => match date_time(meta_or()?.internal_date) {
            Some(d) => FetchItem::InternalDate(d),
            None => return Ok(None),
        },
        FetchAttr::Rfc822Size => FetchItem::Rfc822Size(meta_or()?.size),
        FetchAttr::Envelope => {
            FetchItem::Envelope(Box::new(envelope(&meta_or()?.facts.envelope, utf8_names)))
        }
        FetchAttr::Body => {
            FetchItem::Body(Box::new(body_structure(&meta_or()?.facts.body, utf8_names)))
        }
        FetchAttr::BodyStructure => {
            FetchItem::BodyStructure(Box::new(body_structure(&meta_or()?.facts.body, utf8_names)))
        }
        FetchAttr::BodySection {
            section, partial, ..
        } => {
            let bytes = section_bytes(blob_or()?, &meta_or()?.facts.body, section);
            FetchItem::BodySection {
                section: section.clone(),
                origin: partial.map(|p| p.start),
                data: data(bytes.map(|b| apply_partial(b, partial.as_ref()))),
            }
        }
        FetchAttr::Binary { part, partial, .. } => {
            let bytes = binary(blob_or()?, meta_or()?, part)?;
            FetchItem::Binary {
                part: part.clone(),
                origin: partial.map(|p| p.start),
                data: data(bytes.map(|b| apply_partial(b, partial.as_ref()))),
            }
        }
        FetchAttr::BinarySize { part } => {
            let size = binary(blob_or()?, meta_or()?, part)?.map_or(0, |b| b.len() as u64);
            FetchItem::BinarySize {
                part: part.clone(),
                size,
            }
        }
        FetchAttr::Rfc822 => FetchItem::Rfc822(data(Some(blob_or()?.clone()))),
        FetchAttr::Rfc822Header => {
            let body = &meta_or()?.facts.body;
            FetchItem::Rfc822Header(data(slice(blob_or()?, body.header_start, body.body_start)))
        }
        FetchAttr::Rfc822Text => {
            let body = &meta_or()?.facts.body;
            FetchItem::Rfc822Text(data(slice(blob_or()?, body.body_start, body.body_end)))
        }
        FetchAttr::EmailId => match email_id(meta_or()?) {
            Some(id) => FetchItem::EmailId(id),
            None => return Ok(None),
        },
        FetchAttr::ThreadId => FetchItem::ThreadId(thread_id(meta_or()?)),
        FetchAttr::SaveDate => FetchItem::SaveDate(date_time(MailDate::utc(meta_or()?.saved_at))),
    }))
}

fn binary(
    blob: &Bytes,
    meta: &MessageMeta,
    part: &[NonZeroU32],
) -> Result<Option<Bytes>, ImapError> {
    match binary_bytes(blob, &meta.facts.body, part) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(BinaryError::NoPart) => Ok(None),
        Err(BinaryError::UnknownEncoding) => Err(ImapError::no_code(
            Code::UnknownCte,
            "cannot decode this part's transfer encoding",
        )),
    }
}
