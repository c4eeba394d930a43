//! SEARCH / UID SEARCH (RFC 9051 §6.4.4) with ESEARCH return options (RFC 4731), SEARCHRES
//! (RFC 5182), CONDSTORE MODSEQ (RFC 7162 §3.1.5) and WITHIN (RFC 5032). BODY and TEXT are
//! answered by the store's full-text index; everything else from the view and the facts.

use crate::cmd::fetch::email_id;
use crate::error::ImapError;
use crate::search::{
    Context, Message, Needs, TextHits, TextQuery, matches, needs, text, uses_modseq,
};
use crate::session::{Done, Session, State};
use bytes::Bytes;
use mailroom_imap_proto::Tag;
use mailroom_imap_proto::command::search::{Search, SearchKey, SearchReturn};
use mailroom_imap_proto::response::{Code, Data, ESearch, ESearchItem, Response};
use mailroom_store::{MessageMeta, MessageSummary, TextField};
use std::collections::HashMap;
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::Arc;

const META_BATCH: usize = 512;

pub(crate) async fn search(s: &mut Session, tag: &Tag, cmd: Search) -> Result<Done, ImapError> {
    if let Some(charset) = &cmd.charset {
        check_charset(charset)?;
    }
    let criteria = SearchKey::And(cmd.criteria.clone());
    if uses_modseq(&criteria) {
        s.enable_condstore();
    }
    let result = run(s, &criteria).await;
    let saves = cmd
        .return_opts
        .as_ref()
        .is_some_and(|o| o.contains(&SearchReturn::Save));
    let (indices, modseq) = match result {
        Ok(r) => r,
        Err(e) => {
            // RFC 5182 §2.1: a failed SEARCH with SAVE leaves an empty result.
            if saves {
                s.saved_search = Some(Vec::new());
            }
            return Err(e);
        }
    };
    let State::Selected(selected) = &s.state else {
        return Err(ImapError::bad("no mailbox selected"));
    };
    let uids = selected.view.uids(&indices);
    let ids: Vec<u32> = if cmd.uid {
        uids.clone()
    } else {
        indices.iter().map(|&i| i as u32 + 1).collect()
    };
    let modseq = modseq.and_then(NonZeroU64::new);
    let text = if cmd.uid {
        "UID SEARCH completed"
    } else {
        "SEARCH completed"
    };
    // RFC 9051 §7.3.4: IMAP4rev2 has no SEARCH response; a plain SEARCH answers ESEARCH ALL.
    let return_opts = match cmd.return_opts {
        None if s.enabled.rev2 => Some(vec![SearchReturn::All]),
        other => other,
    };
    let Some(opts) = return_opts else {
        s.push(Response::Data(Data::Search {
            ids: ids.iter().filter_map(|&n| NonZeroU32::new(n)).collect(),
            modseq,
        }));
        return Ok(Done::ok(text));
    };
    let mut opts = opts;
    if opts.is_empty() {
        // RFC 4731 §3.1: RETURN () means RETURN (ALL).
        opts.push(SearchReturn::All);
    }
    let min = ids.iter().min().copied().and_then(NonZeroU32::new);
    let max = ids.iter().max().copied().and_then(NonZeroU32::new);
    if saves {
        // RFC 5182 §2.4: with only MIN and/or MAX beside SAVE, just those are saved.
        let only_bounds = opts.iter().all(|o| {
            matches!(
                o,
                SearchReturn::Save | SearchReturn::Min | SearchReturn::Max
            )
        }) && opts.len() > 1;
        let saved: Vec<u32> = if only_bounds {
            let pick = |n: Option<NonZeroU32>| {
                n.and_then(|n| ids.iter().position(|&x| x == n.get()))
                    .and_then(|p| uids.get(p).copied())
            };
            let mut v = Vec::new();
            if opts.contains(&SearchReturn::Min) {
                v.extend(pick(min));
            }
            if opts.contains(&SearchReturn::Max) {
                v.extend(pick(max));
            }
            v
        } else {
            uids.clone()
        };
        s.saved_search = Some(saved);
        if opts.iter().all(|o| *o == SearchReturn::Save) {
            return Ok(Done::ok(text));
        }
    }
    let mut items = crate::cmd::context::result_items(&ids, false, &opts);
    if opts.contains(&SearchReturn::Update) {
        // CONTEXT=SEARCH (RFC 5267 §4): the result is kept and its changes reported.
        let numbered = crate::cmd::context::numbered(s, &indices);
        crate::cmd::context::keep(s, tag, cmd.uid, criteria.clone(), None, numbered);
    }
    if !ids.is_empty() {
        // RFC 7162 §3.1.5 with RFC 4731: with only MIN and/or MAX returned, MODSEQ is the
        // highest of the messages returned, not of every match.
        let bounds_only = opts.iter().all(|o| {
            matches!(
                o,
                SearchReturn::Min | SearchReturn::Max | SearchReturn::Save
            )
        }) && opts.iter().any(|o| *o != SearchReturn::Save);
        let modseq = match (modseq, &s.state) {
            (Some(_), State::Selected(selected)) if bounds_only => {
                let of = |id: Option<NonZeroU32>| {
                    id.and_then(|id| ids.iter().position(|&x| x == id.get()))
                        .and_then(|p| indices.get(p))
                        .and_then(|&i| selected.view.messages.get(i))
                        .map_or(0, |m| m.modseq)
                };
                let min_modseq = if opts.contains(&SearchReturn::Min) {
                    of(min)
                } else {
                    0
                };
                let max_modseq = if opts.contains(&SearchReturn::Max) {
                    of(max)
                } else {
                    0
                };
                NonZeroU64::new(min_modseq.max(max_modseq))
            }
            (other, _) => other,
        };
        items.extend(modseq.map(ESearchItem::ModSeq));
    }
    s.push(Response::Data(Data::ESearch(ESearch {
        tag: Some(tag.clone()),
        uid: cmd.uid,
        items,
    })));
    Ok(Done::ok(text))
}

/// RFC 9051 §6.4.4: UTF-8 and US-ASCII must be supported; others may be refused.
pub(crate) fn check_charset(charset: &str) -> Result<(), ImapError> {
    if ["UTF-8", "US-ASCII"]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(charset))
    {
        Ok(())
    } else {
        Err(ImapError::no_code(
            Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()]),
            "unsupported charset",
        ))
    }
}

/// Search keys one command may hold: far more than any client's saved search, few enough that
/// a hostile program can't buy minutes of CPU (Dovecot bounds it through its 64 KiB line).
pub(crate) const MAX_SEARCH_KEYS: usize = 2_000;
/// Distinct BODY/TEXT needles in one command; each is a query of the full-text index.
pub(crate) const MAX_TEXT_QUERIES: usize = 64;
/// Key evaluations in one slice of pool work: a few milliseconds, so other sessions' work
/// gets a turn between slices.
const SLICE_EVALUATIONS: usize = 100_000;

/// One message as the evaluation needs it, owned so it can go to the CPU pool.
struct Candidate {
    index: usize,
    summary: MessageSummary,
    meta: Option<MessageMeta>,
    header: Option<Bytes>,
    recent: bool,
}

pub(crate) fn cpu_failed(e: mailroom_cpu::CpuError) -> ImapError {
    tracing::error!(error = %e, "search evaluation failed");
    ImapError::no_code(Code::ServerBug, "the search could not be evaluated")
}

/// The matching view indices, and the highest MODSEQ among them when a MODSEQ key was used.
/// The keys are evaluated on the CPU pool, a slice of messages at a time, under the session's
/// CPU budget: a huge program slows its own session, never the server.
pub(crate) async fn run(
    s: &mut Session,
    criteria: &SearchKey,
) -> Result<(Vec<usize>, Option<u64>), ImapError> {
    let mut need = Needs::default();
    needs(criteria, &mut need);
    if need.keys > MAX_SEARCH_KEYS {
        return Err(ImapError::no_code(
            Code::Limit,
            format!("a search may hold at most {MAX_SEARCH_KEYS} keys"),
        ));
    }
    if need.text.len() > MAX_TEXT_QUERIES {
        return Err(ImapError::no_code(
            Code::Limit,
            format!("a search may hold at most {MAX_TEXT_QUERIES} different BODY or TEXT strings"),
        ));
    }
    let Session {
        state,
        shared,
        saved_search,
        budget,
        enabled,
        ..
    } = s;
    let enabled = *enabled;
    let State::Selected(selected) = state else {
        return Err(ImapError::bad("no mailbox selected"));
    };
    let store = shared.store.as_ref();
    let mut hits = TextHits::default();
    for query in need.text {
        let (field, needle) = match &query {
            TextQuery::Body(n) => (TextField::Body, text(n)),
            TextQuery::Text(n) => (TextField::All, text(n)),
        };
        let uids = crate::virtual_folder::search_text(store, selected, field, &needle).await?;
        hits.insert(query, uids.into_iter().collect());
    }
    let hits = Arc::new(hits);
    let criteria = Arc::new(criteria.clone());
    let saved: Arc<Option<Vec<u32>>> = Arc::new(saved_search.clone());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (largest_seq, largest_uid) = (selected.view.len(), selected.view.max_uid());
    let slice_len = (SLICE_EVALUATIONS / need.keys.max(1)).clamp(1, META_BATCH);
    let all: Vec<usize> = (0..selected.view.messages.len()).collect();
    let mut out = Vec::new();
    // Over a large mailbox the reads are heavy work too: they hold a pool worker and count
    // against the session's budget, like the evaluation.
    let heavy = all.len() > META_BATCH;
    for batch in all.chunks(META_BATCH) {
        let read = async {
            let metas = if need.meta {
                crate::virtual_folder::message_meta(store, selected, &selected.view.uids(batch))
                    .await?
            } else {
                Vec::new()
            };
            let mut headers: HashMap<u32, Bytes> = HashMap::new();
            if need.header {
                for meta in &metas {
                    let body = &meta.facts.body;
                    let blob = store.read_blob(&meta.blob).await?;
                    if let Some(h) =
                        crate::section::slice(&blob, body.header_start, body.body_start)
                    {
                        headers.insert(meta.uid, h);
                    }
                }
            }
            Ok::<_, ImapError>((metas, headers))
        };
        let (metas, mut headers) = if heavy {
            budget.gate(read).await.map_err(cpu_failed)??
        } else {
            read.await?
        };
        let mut metas: HashMap<u32, MessageMeta> = metas.into_iter().map(|m| (m.uid, m)).collect();
        let mut items = Vec::with_capacity(batch.len());
        for &index in batch {
            let Some(summary) = selected.view.messages.get(index) else {
                continue;
            };
            let meta = metas.remove(&summary.uid);
            let header = headers.remove(&summary.uid);
            items.push(Candidate {
                index,
                recent: crate::cmd::changes::shows_recent(&selected.view, summary.uid, enabled),
                summary: summary.clone(),
                meta,
                header,
            });
        }
        while !items.is_empty() {
            let rest = items.split_off(slice_len.min(items.len()));
            let slice = std::mem::replace(&mut items, rest);
            let (criteria, hits, saved) = (criteria.clone(), hits.clone(), saved.clone());
            let matched = budget
                .run(move || {
                    let ctx = Context {
                        largest_seq,
                        largest_uid,
                        saved: saved.as_deref(),
                        now,
                        hits: &hits,
                    };
                    evaluate(&criteria, &slice, &ctx)
                })
                .await
                .map_err(cpu_failed)?;
            out.extend(matched);
        }
    }
    let modseq = uses_modseq(criteria.as_ref()).then(|| {
        out.iter()
            .filter_map(|&i| selected.view.messages.get(i))
            .map(|m| m.modseq)
            .max()
            .unwrap_or(0)
    });
    Ok((out, modseq))
}

fn evaluate(criteria: &SearchKey, items: &[Candidate], ctx: &Context) -> Vec<usize> {
    items
        .iter()
        .filter(|c| {
            let id = c.meta.as_ref().and_then(email_id);
            let message = Message {
                seq: c.index as u32 + 1,
                summary: &c.summary,
                meta: c.meta.as_ref(),
                header: c.header.as_deref(),
                email_id: id.as_ref(),
                recent: c.recent,
            };
            matches(criteria, &message, ctx)
        })
        .map(|c| c.index)
        .collect()
}
