//! Applying the store's change log to a session's view (RFC 9051 §7.5.1; RFC 7162 §3.2.10 for
//! VANISHED). Applying is idempotent: a change the view already reflects (this session's own
//! STORE or EXPUNGE) produces no response.

use crate::session::Enabled;
use crate::view::{View, to_sequence_set};
use mailroom_imap_proto::response::{Code, Data, FetchItem, Response, StatusKind, Text};
use mailroom_imap_proto::{FetchFlag, Flag, NonEmpty, PermanentFlag};
use mailroom_store::{Change, ChangeKind, Flags, MessageSummary, SystemFlags};
use std::num::{NonZeroU32, NonZeroU64};

/// FLAGS and PERMANENTFLAGS for the keywords the view knows (RFC 9051 §7.3.5, §7.1): at SELECT,
/// and again before a FETCH shows a keyword the client has not been told of.
pub(crate) fn flags_announcement(view: &View, read_only: bool) -> Vec<Response> {
    let mut names: Vec<&str> = SystemFlags::NAMES.iter().map(|(_, n)| *n).collect();
    names.extend(view.keywords.iter().map(String::as_str));
    let flags = proto_flags(&names);
    let mut permanent: Vec<PermanentFlag> = Vec::new();
    if !read_only {
        permanent.extend(flags.iter().cloned().map(PermanentFlag::Flag));
        permanent.push(PermanentFlag::Wildcard);
    }
    vec![
        Response::Data(Data::Flags(flags)),
        Response::untagged(
            StatusKind::Ok,
            Some(Code::PermanentFlags(permanent)),
            Text::sanitized("limited"),
        ),
    ]
}

pub(crate) fn apply(
    view: &mut View,
    changes: Vec<Change>,
    enabled: Enabled,
    read_only: bool,
) -> Vec<Response> {
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
                        message.flags = flags.clone();
                        if view.learn_keywords(&flags) {
                            out.extend(flags_announcement(view, read_only));
                        }
                        if let Some(message) = view.messages.get(index)
                            && (changed || enabled.condstore)
                        {
                            let recent = shows_recent(view, message.uid, enabled);
                            out.push(flags_fetch(index, message, enabled, recent));
                        }
                    }
                    None => {
                        // New since the view was built: UIDs only grow, but keep the order even
                        // if the log interleaves.
                        if view.learn_keywords(&flags) {
                            out.extend(flags_announcement(view, read_only));
                        }
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
                    view.recent.remove(&change.uid);
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

/// Whether FETCH FLAGS shows \Recent for `uid`: only IMAP4rev1 has it (RFC 9051 §2.3.2).
pub(crate) fn shows_recent(view: &View, uid: u32, enabled: Enabled) -> bool {
    !enabled.rev2 && view.recent.contains(&uid)
}

/// `* n FETCH (UID u FLAGS (...) [MODSEQ (m)])` for a flag change.
pub(crate) fn flags_fetch(
    index: usize,
    message: &MessageSummary,
    enabled: Enabled,
    recent: bool,
) -> Response {
    let seq = NonZeroU32::new(index as u32 + 1).unwrap_or(NonZeroU32::MIN);
    let mut items = NonEmpty::new(FetchItem::Flags(fetch_flags(&message.flags, recent)));
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

/// Store flags as protocol flags, with \Recent when the message is recent in this session.
pub(crate) fn fetch_flags(flags: &Flags, recent: bool) -> Vec<FetchFlag> {
    let mut out: Vec<FetchFlag> = flags
        .names()
        .filter_map(|name| Flag::new(name).ok())
        .map(FetchFlag::Flag)
        .collect();
    if recent {
        out.insert(0, FetchFlag::Recent);
    }
    out
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
        let out = apply(&mut view, changes.clone(), Enabled::default(), false);
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
        assert!(apply(&mut view, changes, Enabled::default(), false).is_empty());
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
            text(&apply(&mut view, changes, enabled, false)),
            ["* VANISHED 1:2\r\n"]
        );
    }
}
