//! SORT (RFC 5256 §3, DISPLAYFROM/DISPLAYTO from RFC 5957) and THREAD (RFC 5256 §3) over the
//! messages a SEARCH program selects; keys come from the stored facts.

use crate::cmd::search::{check_charset, run};
use crate::error::ImapError;
use crate::session::{Done, Session, State};
use crate::subject::base_subject;
use crate::thread::{Item, ordered_subject, references};
use mailroom_imap_proto::command::search::SearchKey;
use mailroom_imap_proto::command::sort::{Sort, SortKey, Thread, ThreadAlgorithm};
use mailroom_imap_proto::response::{Data, Response};
use mailroom_store::MessageMeta;
use mailroom_store::facts::EnvelopeAddress;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::num::{NonZeroU32, NonZeroU64};

/// The selected messages with their metadata, in view order.
async fn selected_metas(
    s: &Session,
    criteria: &SearchKey,
) -> Result<(Vec<(usize, MessageMeta)>, Option<u64>), ImapError> {
    let (indices, modseq) = run(s, criteria).await?;
    let State::Selected(selected) = &s.state else {
        return Err(ImapError::bad("no mailbox selected"));
    };
    let uids = selected.view.uids(&indices);
    let mut metas: HashMap<u32, MessageMeta> = HashMap::new();
    for chunk in uids.chunks(512) {
        for meta in crate::virtual_folder::message_meta(s.store(), selected, chunk).await? {
            metas.insert(meta.uid, meta);
        }
    }
    let out = indices
        .into_iter()
        .filter_map(|i| {
            let uid = selected.view.messages.get(i)?.uid;
            metas.remove(&uid).map(|m| (i, m))
        })
        .collect();
    Ok((out, modseq))
}

/// RFC 5256 §2.2: the sent date, else the internal date.
fn sort_date(meta: &MessageMeta) -> i64 {
    meta.facts.sent_date.unwrap_or(meta.internal_date.seconds)
}

/// §3: the first address's mailbox part, lower-cased.
fn first_mailbox(list: &[EnvelopeAddress]) -> String {
    list.iter()
        .find_map(|a| match a {
            EnvelopeAddress::Mailbox { mailbox, .. } => mailbox.clone(),
            _ => None,
        })
        .unwrap_or_default()
        .to_lowercase()
}

/// RFC 5957 §3: the display name, else the address.
fn display(list: &[EnvelopeAddress]) -> String {
    list.iter()
        .find_map(|a| match a {
            EnvelopeAddress::Mailbox {
                name: Some(name), ..
            } if !name.trim().is_empty() => Some(name.clone()),
            EnvelopeAddress::Mailbox { mailbox, host, .. } => Some(format!(
                "{}@{}",
                mailbox.as_deref().unwrap_or(""),
                host.as_deref().unwrap_or("")
            )),
            _ => None,
        })
        .unwrap_or_default()
        .to_lowercase()
}

fn subject(meta: &MessageMeta) -> String {
    meta.facts
        .subject
        .clone()
        .or_else(|| meta.facts.envelope.subject.clone())
        .unwrap_or_default()
}

fn compare(key: SortKey, a: &MessageMeta, b: &MessageMeta) -> Ordering {
    let env = |m: &MessageMeta| m.facts.envelope.clone();
    match key {
        SortKey::Arrival => a.internal_date.seconds.cmp(&b.internal_date.seconds),
        SortKey::Date => sort_date(a).cmp(&sort_date(b)),
        SortKey::Size => a.size.cmp(&b.size),
        SortKey::Subject => base_subject(&subject(a)).cmp(&base_subject(&subject(b))),
        SortKey::From => first_mailbox(&env(a).from).cmp(&first_mailbox(&env(b).from)),
        SortKey::To => first_mailbox(&env(a).to).cmp(&first_mailbox(&env(b).to)),
        SortKey::Cc => first_mailbox(&env(a).cc).cmp(&first_mailbox(&env(b).cc)),
        SortKey::DisplayFrom => display(&env(a).from).cmp(&display(&env(b).from)),
        SortKey::DisplayTo => display(&env(a).to).cmp(&display(&env(b).to)),
    }
}

pub(crate) async fn sort(s: &mut Session, cmd: Sort) -> Result<Done, ImapError> {
    check_charset(&cmd.charset)?;
    if cmd.return_opts.is_some() {
        // ESORT (RFC 5267) is not advertised.
        return Err(ImapError::bad("ESORT is not supported"));
    }
    let criteria = SearchKey::And(cmd.search.clone());
    let (mut messages, modseq) = selected_metas(s, &criteria).await?;
    messages.sort_by(|(ia, a), (ib, b)| {
        cmd.criteria
            .iter()
            .map(|c| {
                let o = compare(c.key, a, b);
                if c.reverse { o.reverse() } else { o }
            })
            .find(|o| o.is_ne())
            // §3: ties are broken by sequence number.
            .unwrap_or_else(|| ia.cmp(ib))
    });
    let ids = messages
        .iter()
        .filter_map(|(i, m)| NonZeroU32::new(if cmd.uid { m.uid } else { *i as u32 + 1 }))
        .collect();
    s.push(Response::Data(Data::Sort {
        ids,
        modseq: modseq.and_then(NonZeroU64::new),
    }));
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
                id: if cmd.uid { m.uid } else { i as u32 + 1 },
                message_id: env.message_id.as_deref().map(msg_id),
                references: refs,
                date: sort_date(&m),
                subject: subject(&m),
            }
        })
        .collect();
    let threads = match cmd.algorithm {
        ThreadAlgorithm::OrderedSubject => ordered_subject(items),
        ThreadAlgorithm::References => references(items),
        ThreadAlgorithm::Other(_) => return Err(ImapError::bad("unsupported threading algorithm")),
    };
    s.push(Response::Data(Data::Thread(threads)));
    Ok(Done::ok(if cmd.uid {
        "UID THREAD completed"
    } else {
        "THREAD completed"
    }))
}
