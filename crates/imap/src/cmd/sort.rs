//! SORT (RFC 5256 §3, DISPLAYFROM/DISPLAYTO from RFC 5957) and THREAD (RFC 5256 §3) over the
//! messages a SEARCH program selects; keys come from the stored facts.

use crate::cmd::context::result_items;
use crate::cmd::search::{check_charset, cpu_failed, run};
use crate::error::ImapError;
use crate::session::{Done, Session, State};
use crate::subject::base_subject;
use crate::thread::{Item, ordered_subject, references};
use mailroom_imap_proto::Tag;
use mailroom_imap_proto::command::search::{SearchKey, SearchReturn};
use mailroom_imap_proto::command::sort::{Sort, SortCriterion, SortKey, Thread, ThreadAlgorithm};
use mailroom_imap_proto::response::{Data, ESearch, ESearchItem, Response};
use mailroom_store::MessageMeta;
use mailroom_store::facts::EnvelopeAddress;
use std::collections::HashMap;
use std::num::{NonZeroU32, NonZeroU64};

/// The selected messages with their metadata, in view order.
async fn selected_metas(
    s: &mut Session,
    criteria: &SearchKey,
) -> Result<(Vec<(usize, MessageMeta)>, Option<u64>), ImapError> {
    let (indices, modseq) = run(s, criteria).await?;
    Ok((metas_of(s, &indices).await?, modseq))
}

/// The metadata of view indices, in the order given.
async fn metas_of(
    s: &mut Session,
    indices: &[usize],
) -> Result<Vec<(usize, MessageMeta)>, ImapError> {
    let Session {
        state,
        shared,
        budget,
        ..
    } = s;
    let State::Selected(selected) = &*state else {
        return Err(ImapError::bad("no mailbox selected"));
    };
    let uids = selected.view.uids(indices);
    let mut metas: HashMap<u32, MessageMeta> = HashMap::new();
    // Reading the metadata of a large mailbox is heavy work: it holds a pool worker and
    // counts against the session's budget.
    for chunk in uids.chunks(512) {
        let read = crate::virtual_folder::message_meta(shared.store.as_ref(), selected, chunk);
        for meta in budget.gate(read).await.map_err(cpu_failed)?? {
            metas.insert(meta.uid, meta);
        }
    }
    Ok(indices
        .iter()
        .filter_map(|&i| {
            let uid = selected.view.messages.get(i)?.uid;
            metas.remove(&uid).map(|m| (i, m))
        })
        .collect())
}

/// View indices in the order of `criteria` (RFC 5256 §3), on the CPU pool.
pub(crate) async fn sorted_indices(
    s: &mut Session,
    indices: &[usize],
    criteria: &[SortCriterion],
) -> Result<Vec<usize>, ImapError> {
    let messages = metas_of(s, indices).await?;
    let order = criteria.to_vec();
    s.budget
        .run(move || sort_order(messages, &order))
        .await
        .map_err(cpu_failed)
}

/// RFC 5256 §2.2: the sent date, else the internal date.
fn sort_date(meta: &MessageMeta) -> i64 {
    meta.facts.sent_date.unwrap_or(meta.internal_date.seconds)
}

/// §3: the first address's mailbox part, case-folded; a group's first entry is its start,
/// whose mailbox is the group's name (RFC 9051 §7.5.2).
fn first_mailbox(list: &[EnvelopeAddress]) -> String {
    list.first()
        .and_then(|a| match a {
            EnvelopeAddress::Mailbox { mailbox, .. } => mailbox.clone(),
            EnvelopeAddress::GroupStart(name) => Some(name.clone()),
            EnvelopeAddress::GroupEnd => None,
        })
        .unwrap_or_default()
        .to_uppercase()
}

/// RFC 5957 §3: the first address's display name, else the address itself; for a group its
/// name. Case-folded.
fn display(list: &[EnvelopeAddress]) -> String {
    list.first()
        .map(|a| match a {
            EnvelopeAddress::Mailbox {
                name: Some(name), ..
            } if !name.trim().is_empty() => name.clone(),
            EnvelopeAddress::Mailbox { mailbox, host, .. } => format!(
                "{}@{}",
                mailbox.as_deref().unwrap_or(""),
                host.as_deref().unwrap_or("")
            ),
            EnvelopeAddress::GroupStart(name) => name.clone(),
            EnvelopeAddress::GroupEnd => String::new(),
        })
        .unwrap_or_default()
        .to_uppercase()
}

fn subject(meta: &MessageMeta) -> String {
    meta.facts
        .subject
        .clone()
        .or_else(|| meta.facts.envelope.subject.clone())
        .unwrap_or_default()
}

/// What one sort key says of one message, computed once per message, not once per comparison.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortValue {
    Number(i64),
    Size(u64),
    Text(String),
}

fn sort_value(key: SortKey, m: &MessageMeta) -> SortValue {
    let env = &m.facts.envelope;
    match key {
        SortKey::Arrival => SortValue::Number(m.internal_date.seconds),
        SortKey::Date => SortValue::Number(sort_date(m)),
        SortKey::Size => SortValue::Size(m.size),
        SortKey::Subject => SortValue::Text(base_subject(&subject(m))),
        SortKey::From => SortValue::Text(first_mailbox(&env.from)),
        SortKey::To => SortValue::Text(first_mailbox(&env.to)),
        SortKey::Cc => SortValue::Text(first_mailbox(&env.cc)),
        SortKey::DisplayFrom => SortValue::Text(display(&env.from)),
        SortKey::DisplayTo => SortValue::Text(display(&env.to)),
    }
}

/// The view indices of `messages` in the order of `criteria` (RFC 5256 §3), ties by sequence
/// number.
fn sort_order(messages: Vec<(usize, MessageMeta)>, criteria: &[SortCriterion]) -> Vec<usize> {
    let mut items: Vec<(usize, u32, Vec<SortValue>)> = messages
        .into_iter()
        .map(|(i, m)| {
            let values = criteria.iter().map(|c| sort_value(c.key, &m)).collect();
            (i, m.uid, values)
        })
        .collect();
    items.sort_by(|(ia, _, a), (ib, _, b)| {
        criteria
            .iter()
            .zip(a.iter().zip(b))
            .map(|(c, (x, y))| if c.reverse { y.cmp(x) } else { x.cmp(y) })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| ia.cmp(ib))
    });
    items.into_iter().map(|(i, _, _)| i).collect()
}

/// SORT, and with RETURN the ESORT answer (RFC 5267 §3): MIN, MAX, ALL (in sort order),
/// COUNT, PARTIAL, and UPDATE to keep the result (CONTEXT=SORT).
pub(crate) async fn sort(s: &mut Session, tag: &Tag, cmd: Sort) -> Result<Done, ImapError> {
    check_charset(&cmd.charset)?;
    let criteria = SearchKey::And(cmd.search.clone());
    let (indices, modseq) = run(s, &criteria).await?;
    let order = sorted_indices(s, &indices, &cmd.criteria).await?;
    let numbered = crate::cmd::context::numbered(s, &order);
    let ids: Vec<u32> = numbered
        .iter()
        .map(|&(uid, seq)| if cmd.uid { uid } else { seq })
        .collect();
    let modseq = modseq.and_then(NonZeroU64::new);
    match cmd.return_opts {
        None => s.push(Response::Data(Data::Sort {
            ids: ids.iter().filter_map(|&n| NonZeroU32::new(n)).collect(),
            modseq,
        })),
        Some(mut opts) => {
            if opts.is_empty() {
                opts.push(SearchReturn::All);
            }
            let mut items = result_items(&ids, true, &opts);
            if !ids.is_empty() {
                items.extend(modseq.map(ESearchItem::ModSeq));
            }
            if opts.contains(&SearchReturn::Update) {
                let (key, order) = (criteria.clone(), cmd.criteria.to_vec());
                crate::cmd::context::keep(s, tag, cmd.uid, key, Some(order), numbered);
            }
            s.push(Response::Data(Data::ESearch(ESearch {
                tag: Some(tag.clone()),
                uid: cmd.uid,
                items,
            })));
        }
    }
    Ok(Done::ok(if cmd.uid {
        "UID SORT completed"
    } else {
        "SORT completed"
    }))
}

/// Message-IDs compare without their angle brackets (facts keep References bare and the
/// envelope's fields raw).
fn msg_id(raw: &str) -> String {
    raw.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

pub(crate) async fn thread(s: &mut Session, cmd: Thread) -> Result<Done, ImapError> {
    check_charset(&cmd.charset)?;
    let criteria = SearchKey::And(cmd.search.clone());
    let (messages, _) = selected_metas(s, &criteria).await?;
    let (algorithm, uid) = (cmd.algorithm.clone(), cmd.uid);
    if matches!(algorithm, ThreadAlgorithm::Other(_)) {
        return Err(ImapError::bad("unsupported threading algorithm"));
    }
    let threads = s
        .budget
        .run(move || threads(messages, &algorithm, uid))
        .await
        .map_err(cpu_failed)?;
    s.push(Response::Data(Data::Thread(threads)));
    Ok(Done::ok(if cmd.uid {
        "UID THREAD completed"
    } else {
        "THREAD completed"
    }))
}

/// RFC 5256 §2.2-2.3 over the selected messages.
fn threads(
    messages: Vec<(usize, MessageMeta)>,
    algorithm: &ThreadAlgorithm,
    uid: bool,
) -> Vec<mailroom_imap_proto::response::ThreadNode> {
    let items: Vec<Item> = messages
        .into_iter()
        .map(|(i, m)| {
            let env = &m.facts.envelope;
            let mut refs: Vec<String> = m.facts.references.iter().map(|r| msg_id(r)).collect();
            if refs.is_empty()
                && let Some(irt) = &env.in_reply_to
            {
                refs.push(msg_id(irt));
            }
            Item {
                id: if uid { m.uid } else { i as u32 + 1 },
                message_id: env.message_id.as_deref().map(msg_id),
                references: refs,
                date: sort_date(&m),
                subject: subject(&m),
            }
        })
        .collect();
    match algorithm {
        ThreadAlgorithm::References => references(items),
        ThreadAlgorithm::OrderedSubject | ThreadAlgorithm::Other(_) => ordered_subject(items),
    }
}
