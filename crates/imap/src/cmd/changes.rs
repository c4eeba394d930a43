//! Applying the store's change log to a session's view (RFC 9051 §7.5.1; RFC 7162 §3.2.10 for
//! VANISHED). Applying is idempotent: a change the view already reflects (this session's own
//! STORE or EXPUNGE) produces no response.

use crate::session::Enabled;
use crate::view::{View, to_sequence_set};
use mailroom_imap_proto::response::{Data, FetchItem, Response};
use mailroom_imap_proto::{FetchFlag, Flag, NonEmpty};
use mailroom_store::{Change, ChangeKind, Flags, MessageSummary};
use std::num::{NonZeroU32, NonZeroU64};

pub(crate) fn apply(view: &mut View, changes: Vec<Change>, enabled: Enabled) -> Vec<Response> {
    let mut out = Vec::new();
    let mut vanished = Vec::new();
    let mut grew = false;
    for change in changes {
        view.synced_modseq = view.synced_modseq.max(change.modseq);
        match change.kind {
            ChangeKind::Added(flags) | ChangeKind::Flags(flags) => {
                match view.index_of(change.uid) {
                    Some(index) => {
                        let Some(message) = view.messages.get_mut(index) else {
                            continue;
                        };
                        if message.modseq >= change.modseq {
                            continue;
                        }
                        message.modseq = change.modseq;
                        let changed = message.flags != flags;
                        message.flags = flags;
                        if changed || enabled.condstore {
                            out.push(flags_fetch(index, message, enabled));
                        }
                    }
                    None => {
                        // New since the view was built: UIDs only grow, but keep the order even
                        // if the log interleaves.
                        let at = view.messages.partition_point(|m| m.uid < change.uid);
                        view.messages.insert(
                            at,
                            MessageSummary {
                                uid: change.uid,
                                modseq: change.modseq,
                                flags,
                            },
                        );
                        grew = true;
                    }
                }
            }
            ChangeKind::Expunged => {
                if let Some(index) = view.index_of(change.uid) {
                    view.messages.remove(index);
                    if enabled.qresync {
                        vanished.push(change.uid);
                    } else if let Some(seq) = NonZeroU32::new(index as u32 + 1) {
                        out.push(Response::Data(Data::Expunge(seq)));
                    }
                }
            }
        }
    }
    if let Some(uids) = to_sequence_set(&vanished) {
        out.insert(
            0,
            Response::Data(Data::Vanished {
                earlier: false,
                uids,
            }),
        );
    }
    if grew {
        out.push(Response::Data(Data::Exists(view.len())));
    }
    out
}

/// `* n FETCH (UID u FLAGS (...) [MODSEQ (m)])` for a flag change.
pub(crate) fn flags_fetch(index: usize, message: &MessageSummary, enabled: Enabled) -> Response {
    let seq = NonZeroU32::new(index as u32 + 1).unwrap_or(NonZeroU32::MIN);
    let mut items = NonEmpty::new(FetchItem::Flags(fetch_flags(&message.flags)));
    if let Some(uid) = NonZeroU32::new(message.uid) {
        items.push(FetchItem::Uid(uid));
    }
    if enabled.condstore
        && let Some(modseq) = NonZeroU64::new(message.modseq)
    {
        items.push(FetchItem::ModSeq(modseq));
    }
    Response::Data(Data::Fetch { seq, items })
}

/// Store flags as protocol flags.
pub(crate) fn fetch_flags(flags: &Flags) -> Vec<FetchFlag> {
    flags
        .names()
        .filter_map(|name| Flag::new(name).ok())
        .map(FetchFlag::Flag)
        .collect()
}

/// Store flags as protocol `flag`s (for FLAGS responses).
pub(crate) fn proto_flags(names: &[&str]) -> Vec<Flag> {
    names.iter().filter_map(|n| Flag::new(n).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_imap_proto::response::WriteOptions;
    use mailroom_store::SystemFlags;

    fn summary(uid: u32, modseq: u64) -> MessageSummary {
        MessageSummary {
            uid,
            modseq,
            flags: Flags::default(),
        }
    }

    fn text(responses: &[Response]) -> Vec<String> {
        responses
            .iter()
            .map(|r| String::from_utf8(r.to_bytes(WriteOptions::default()).unwrap()).unwrap())
            .collect()
    }

    fn change(uid: u32, modseq: u64, kind: ChangeKind) -> Change {
        Change { uid, modseq, kind }
    }

    #[test]
    fn applies_once_and_in_order() {
        let mut view = View::new(vec![summary(1, 1), summary(2, 2), summary(3, 3)], 3);
        let seen = Flags::system(SystemFlags::SEEN);
        let changes = vec![
            change(1, 4, ChangeKind::Flags(seen.clone())),
            change(2, 5, ChangeKind::Expunged),
            change(4, 6, ChangeKind::Added(Flags::default())),
        ];
        let out = apply(&mut view, changes.clone(), Enabled::default());
        assert_eq!(
            text(&out),
            [
                "* 1 FETCH (FLAGS (\\Seen) UID 1)\r\n",
                "* 2 EXPUNGE\r\n",
                "* 3 EXISTS\r\n"
            ]
        );
        assert_eq!(view.synced_modseq, 6);
        // The same log again changes nothing.
        assert!(apply(&mut view, changes, Enabled::default()).is_empty());
        assert_eq!(view.uids(&[0, 1, 2]), [1, 3, 4]);
    }

    #[test]
    fn qresync_reports_vanished() {
        let mut view = View::new(vec![summary(1, 1), summary(2, 2), summary(3, 3)], 3);
        let enabled = Enabled {
            qresync: true,
            condstore: true,
            ..Enabled::default()
        };
        let changes = vec![
            change(1, 4, ChangeKind::Expunged),
            change(2, 5, ChangeKind::Expunged),
        ];
        assert_eq!(
            text(&apply(&mut view, changes, enabled)),
            ["* VANISHED 1:2\r\n"]
        );
    }
}
