//! What ESEARCH returns for SEARCH and SORT (RFC 4731, ESORT and CONTEXT of RFC 5267, PARTIAL
//! of RFC 9394), and the result contexts that RETURN (UPDATE) keeps: the session reports how
//! such a result changes, with ESEARCH ADDTO and REMOVEFROM, until CANCELUPDATE or until the
//! mailbox is left (RFC 5267 §4).

use crate::cmd::search::run;
use crate::cmd::sort::sorted_indices;
use crate::error::ImapError;
use crate::session::{Done, Session, State};
use crate::view::{ordered_sequence_set, to_sequence_set};
use mailroom_imap_proto::Tag;
use mailroom_imap_proto::command::search::{SearchKey, SearchReturn};
use mailroom_imap_proto::command::sort::SortCriterion;
use mailroom_imap_proto::response::{Data, ESearch, ESearchItem, Response};
use std::collections::HashSet;
use std::num::NonZeroU32;

/// A result kept up to date (RFC 5267 §4).
pub(crate) struct ResultContext {
    pub tag: Tag,
    pub uid: bool,
    pub criteria: SearchKey,
    /// SORT's order; None for a SEARCH, whose results are in mailbox order.
    pub sort: Option<Vec<SortCriterion>>,
    /// The result as last reported: UIDs in result order, each with the message number it
    /// had then (REMOVEFROM names removed messages by the numbers the client knows).
    pub result: Vec<(u32, u32)>,
}

/// The result data items for `ids` (message numbers or UIDs, in result order): MIN, MAX, ALL,
/// COUNT and PARTIAL as asked. `sorted` keeps the order in ALL and PARTIAL (SORT).
pub(crate) fn result_items(ids: &[u32], sorted: bool, opts: &[SearchReturn]) -> Vec<ESearchItem> {
    let set = |ids: &[u32]| {
        if sorted {
            ordered_sequence_set(ids)
        } else {
            to_sequence_set(ids)
        }
    };
    let mut items = Vec::new();
    for opt in opts {
        match opt {
            SearchReturn::Min => items.extend(
                ids.iter()
                    .min()
                    .copied()
                    .and_then(NonZeroU32::new)
                    .map(ESearchItem::Min),
            ),
            SearchReturn::Max => items.extend(
                ids.iter()
                    .max()
                    .copied()
                    .and_then(NonZeroU32::new)
                    .map(ESearchItem::Max),
            ),
            SearchReturn::All => items.extend(set(ids).map(ESearchItem::All)),
            SearchReturn::Count => items.push(ESearchItem::Count(ids.len() as u32)),
            SearchReturn::Partial(range) => {
                let picked = ids.get(range.positions(ids.len())).unwrap_or_default();
                items.push(ESearchItem::Partial {
                    range: *range,
                    set: set(picked),
                });
            }
            SearchReturn::Save | SearchReturn::Update => {}
        }
    }
    items
}

/// The result of `context` now: (UID, message number) in result order.
async fn evaluate(
    s: &mut Session,
    criteria: &SearchKey,
    sort: Option<&[SortCriterion]>,
) -> Result<Vec<(u32, u32)>, ImapError> {
    let (mut indices, _) = run(s, criteria).await?;
    if let Some(order) = sort {
        indices = sorted_indices(s, &indices, order).await?;
    }
    let State::Selected(selected) = &s.state else {
        return Err(ImapError::bad("no mailbox selected"));
    };
    Ok(indices
        .into_iter()
        .filter_map(|i| selected.view.messages.get(i).map(|m| (m.uid, i as u32 + 1)))
        .collect())
}

/// Starts keeping `result` up to date for the command tagged `tag`.
pub(crate) fn keep(
    s: &mut Session,
    tag: &Tag,
    uid: bool,
    criteria: SearchKey,
    sort: Option<Vec<SortCriterion>>,
    result: Vec<(u32, u32)>,
) {
    if let State::Selected(selected) = &mut s.state {
        selected.contexts.retain(|c| &c.tag != tag);
        selected.contexts.push(ResultContext {
            tag: tag.clone(),
            uid,
            criteria,
            sort,
            result,
        });
    }
}

/// The (UID, message number) pairs of view indices.
pub(crate) fn numbered(s: &Session, indices: &[usize]) -> Vec<(u32, u32)> {
    let State::Selected(selected) = &s.state else {
        return Vec::new();
    };
    indices
        .iter()
        .filter_map(|&i| selected.view.messages.get(i).map(|m| (m.uid, i as u32 + 1)))
        .collect()
}

/// CANCELUPDATE (RFC 5267 §4.2).
pub(crate) fn cancel(s: &mut Session, tags: &[Vec<u8>]) -> Result<Done, ImapError> {
    let State::Selected(selected) = &mut s.state else {
        return Err(ImapError::bad("no mailbox selected"));
    };
    selected.contexts.retain(|c| {
        !tags
            .iter()
            .any(|t| t.as_slice() == c.tag.as_str().as_bytes())
    });
    Ok(Done::ok("CANCELUPDATE completed"))
}

/// After a command: every kept result evaluated again, and its changes reported. Removals go
/// before the first EXPUNGE queued, with the numbers the client still knows; additions last.
pub(crate) async fn report_updates(s: &mut Session) {
    let contexts = match &mut s.state {
        State::Selected(selected) if !selected.contexts.is_empty() => {
            std::mem::take(&mut selected.contexts)
        }
        _ => return,
    };
    let mut kept = Vec::with_capacity(contexts.len());
    let mut removals = Vec::new();
    let mut additions = Vec::new();
    for mut context in contexts {
        let now = match evaluate(s, &context.criteria, context.sort.as_deref()).await {
            Ok(now) => now,
            Err(e) => {
                tracing::warn!(error = %e, "updating a search context failed; it is dropped");
                continue;
            }
        };
        let id = |&(uid, seq): &(u32, u32)| if context.uid { uid } else { seq };
        let before: HashSet<u32> = context.result.iter().map(|p| p.0).collect();
        let after: HashSet<u32> = now.iter().map(|p| p.0).collect();
        let gone: Vec<(usize, u32)> = context
            .result
            .iter()
            .enumerate()
            .filter(|(_, p)| !after.contains(&p.0))
            .map(|(i, p)| (i, id(p)))
            .collect();
        let new: Vec<(usize, u32)> = now
            .iter()
            .enumerate()
            .filter(|(_, p)| !before.contains(&p.0))
            .map(|(i, p)| (i, id(p)))
            .collect();
        if let Some(item) = change_item(&gone, false) {
            removals.push(esearch(&context, item));
        }
        if let Some(item) = change_item(&new, true) {
            additions.push(esearch(&context, item));
        }
        context.result = now;
        kept.push(context);
    }
    if let State::Selected(selected) = &mut s.state {
        selected.contexts = kept;
    }
    let at = s
        .out
        .iter()
        .position(|r| matches!(r, Response::Data(Data::Expunge(_) | Data::Vanished { .. })))
        .unwrap_or(s.out.len());
    s.out.splice(at..at, removals);
    s.out.extend(additions);
}

/// One ADDTO or REMOVEFROM for `changed` (position in the result, id): the position of the
/// first, and the ids in result order.
fn change_item(changed: &[(usize, u32)], add: bool) -> Option<ESearchItem> {
    let position = u32::try_from(changed.first()?.0 + 1).unwrap_or(u32::MAX);
    let ids: Vec<u32> = changed.iter().map(|p| p.1).collect();
    let set = to_sequence_set(&ids)?;
    Some(if add {
        ESearchItem::AddTo { position, set }
    } else {
        ESearchItem::RemoveFrom { position, set }
    })
}

fn esearch(context: &ResultContext, item: ESearchItem) -> Response {
    Response::Data(Data::ESearch(ESearch {
        tag: Some(context.tag.clone()),
        uid: context.uid,
        items: vec![item],
    }))
}
