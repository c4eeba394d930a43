//! Untagged data responses (RFC 9051 §7.2-7.5 and the extensions named
//! on each variant).

use std::num::{NonZeroU32, NonZeroU64};

use crate::command::quota::QuotaResource;
use crate::command::session::IdParams;
use crate::encode::Out;
use crate::response::fetch::FetchItem;
use crate::response::list::{ListItem, NamespaceDesc, encode_namespace};
use crate::response::thread::ThreadNode;
use crate::types::atom::{Capability, Tag};
use crate::types::flag::Flag;
use crate::types::mailbox::Mailbox;
use crate::types::nonempty::NonEmpty;
use crate::types::objectid::ObjectId;
use crate::types::sequence::SequenceSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    Capability(NonEmpty<Capability>),
    /// RFC 5161.
    Enabled(Vec<Capability>),
    List(ListItem),
    /// IMAP4rev1 only.
    Lsub(ListItem),
    Status {
        mailbox: Mailbox,
        items: Vec<StatusValue>,
    },
    Exists(u32),
    /// IMAP4rev1 only.
    Recent(u32),
    Expunge(NonZeroU32),
    /// RFC 7162 §3.2.10: `VANISHED [(EARLIER)] uids`.
    Vanished {
        earlier: bool,
        uids: SequenceSet,
    },
    Flags(Vec<Flag>),
    /// IMAP4rev1 SEARCH, with the CONDSTORE `(MODSEQ n)` suffix.
    Search {
        ids: Vec<NonZeroU32>,
        modseq: Option<NonZeroU64>,
    },
    /// RFC 4731 / RFC 9051 §7.3.4.
    ESearch(ESearch),
    /// RFC 5256.
    Sort {
        ids: Vec<NonZeroU32>,
        modseq: Option<NonZeroU64>,
    },
    /// RFC 5256: one entry per thread root.
    Thread(Vec<ThreadNode>),
    /// RFC 2342 / RFC 9051 §7.2.5; an empty list is NIL.
    Namespace {
        personal: Vec<NamespaceDesc>,
        other_users: Vec<NamespaceDesc>,
        shared: Vec<NamespaceDesc>,
    },
    /// RFC 2971.
    Id(IdParams),
    /// RFC 9208 §5.1.
    Quota {
        root: Vec<u8>,
        resources: Vec<QuotaUsage>,
    },
    QuotaRoot {
        mailbox: Mailbox,
        roots: Vec<Vec<u8>>,
    },
    Fetch {
        seq: NonZeroU32,
        items: NonEmpty<FetchItem>,
    },
}

/// `status-att-val`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusValue {
    Messages(u32),
    UidNext(NonZeroU32),
    UidValidity(NonZeroU32),
    Unseen(u32),
    Deleted(u32),
    Size(u64),
    Recent(u32),
    HighestModSeq(u64),
    /// RFC 7889: `None` is NIL (no limit).
    AppendLimit(Option<u64>),
    MailboxId(ObjectId),
    DeletedStorage(u64),
}

impl StatusValue {
    fn encode(&self, out: &mut Out) {
        match self {
            StatusValue::Messages(n) => out.str("MESSAGES ").display(n),
            StatusValue::UidNext(n) => out.str("UIDNEXT ").display(n),
            StatusValue::UidValidity(n) => out.str("UIDVALIDITY ").display(n),
            StatusValue::Unseen(n) => out.str("UNSEEN ").display(n),
            StatusValue::Deleted(n) => out.str("DELETED ").display(n),
            StatusValue::Size(n) => out.str("SIZE ").display(n),
            StatusValue::Recent(n) => out.str("RECENT ").display(n),
            StatusValue::HighestModSeq(n) => out.str("HIGHESTMODSEQ ").display(n),
            StatusValue::AppendLimit(Some(n)) => out.str("APPENDLIMIT ").display(n),
            StatusValue::AppendLimit(None) => out.str("APPENDLIMIT NIL"),
            StatusValue::MailboxId(id) => out.display(format_args!("MAILBOXID ({id})")),
            StatusValue::DeletedStorage(n) => out.str("DELETED-STORAGE ").display(n),
        };
    }
}

/// `esearch-response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ESearch {
    /// `(TAG "...")` correlator: the command's tag.
    pub tag: Option<Tag>,
    pub uid: bool,
    pub items: Vec<ESearchItem>,
}

/// `search-return-data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ESearchItem {
    Min(NonZeroU32),
    Max(NonZeroU32),
    All(SequenceSet),
    Count(u32),
    ModSeq(NonZeroU64),
    /// RFC 9394: the range asked for and the results in it (NIL when none).
    Partial {
        range: crate::command::search::PartialRange,
        set: Option<SequenceSet>,
    },
    /// RFC 5267 §4.3: results that joined an updated context, from `position` on.
    AddTo {
        position: u32,
        set: SequenceSet,
    },
    /// RFC 5267 §4.3: results that left it.
    RemoveFrom {
        position: u32,
        set: SequenceSet,
    },
}

/// `quota_resource = resource-name SP resource-usage SP resource-limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaUsage {
    pub resource: QuotaResource,
    pub usage: u64,
    pub limit: u64,
}

fn encode_ids(out: &mut Out, name: &str, ids: &[NonZeroU32], modseq: Option<NonZeroU64>) {
    out.str(name);
    for id in ids {
        out.sp().display(id);
    }
    if let Some(modseq) = modseq {
        out.display(format_args!(" (MODSEQ {modseq})"));
    }
}

impl Data {
    /// Writes the response after `* `.
    pub(crate) fn encode(&self, out: &mut Out) {
        match self {
            Data::Capability(caps) => {
                out.str("CAPABILITY");
                for cap in caps {
                    out.sp().display(cap);
                }
            }
            Data::Enabled(caps) => {
                out.str("ENABLED");
                for cap in caps {
                    out.sp().display(cap);
                }
            }
            Data::List(item) => item.encode(out, "LIST"),
            Data::Lsub(item) => item.encode(out, "LSUB"),
            Data::Status { mailbox, items } => {
                out.str("STATUS ")
                    .astring(mailbox.as_bytes())
                    .sp()
                    .list(items, |o, v| v.encode(o));
            }
            Data::Exists(n) => {
                out.display(n).str(" EXISTS");
            }
            Data::Recent(n) => {
                out.display(n).str(" RECENT");
            }
            Data::Expunge(n) => {
                out.display(n).str(" EXPUNGE");
            }
            Data::Vanished { earlier, uids } => {
                out.str(if *earlier {
                    "VANISHED (EARLIER) "
                } else {
                    "VANISHED "
                })
                .display(uids);
            }
            Data::Flags(flags) => {
                out.str("FLAGS ").list(flags, |o, f| {
                    o.display(f);
                });
            }
            Data::Search { ids, modseq } => encode_ids(out, "SEARCH", ids, *modseq),
            Data::Sort { ids, modseq } => encode_ids(out, "SORT", ids, *modseq),
            Data::ESearch(esearch) => {
                out.str("ESEARCH");
                if let Some(tag) = &esearch.tag {
                    out.str(" (TAG ").string(tag.as_str().as_bytes()).raw(b")");
                }
                if esearch.uid {
                    out.str(" UID");
                }
                for item in &esearch.items {
                    match item {
                        ESearchItem::Min(n) => out.str(" MIN ").display(n),
                        ESearchItem::Max(n) => out.str(" MAX ").display(n),
                        ESearchItem::All(set) => out.str(" ALL ").display(set),
                        ESearchItem::Count(n) => out.str(" COUNT ").display(n),
                        ESearchItem::ModSeq(n) => out.str(" MODSEQ ").display(n),
                        ESearchItem::Partial { range, set } => {
                            out.str(" PARTIAL (").display(range).sp();
                            match set {
                                Some(set) => out.display(set),
                                None => out.str("NIL"),
                            };
                            out.raw(b")")
                        }
                        ESearchItem::AddTo { position, set } => out
                            .str(" ADDTO (")
                            .display(position)
                            .sp()
                            .display(set)
                            .raw(b")"),
                        ESearchItem::RemoveFrom { position, set } => out
                            .str(" REMOVEFROM (")
                            .display(position)
                            .sp()
                            .display(set)
                            .raw(b")"),
                    };
                }
            }
            Data::Thread(threads) => {
                out.str("THREAD");
                if !threads.is_empty() {
                    out.sp();
                }
                for thread in threads {
                    thread.encode(out);
                }
            }
            Data::Namespace {
                personal,
                other_users,
                shared,
            } => {
                out.str("NAMESPACE ");
                encode_namespace(out, personal);
                out.sp();
                encode_namespace(out, other_users);
                out.sp();
                encode_namespace(out, shared);
            }
            Data::Id(params) => {
                out.str("ID ");
                crate::command::session::encode_id_params(out, params);
            }
            Data::Quota { root, resources } => {
                out.str("QUOTA ")
                    .astring(root)
                    .sp()
                    .list(resources, |o, r| {
                        o.display(&r.resource)
                            .sp()
                            .display(r.usage)
                            .sp()
                            .display(r.limit);
                    });
            }
            Data::QuotaRoot { mailbox, roots } => {
                out.str("QUOTAROOT ").astring(mailbox.as_bytes());
                for root in roots {
                    out.sp().astring(root);
                }
            }
            Data::Fetch { seq, items } => {
                out.display(seq)
                    .str(" FETCH ")
                    .list(items, |o, item| item.encode(o));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::fetch::Section;
    use crate::command::mailbox::SpecialUse;
    use crate::response::fetch::BodyData;
    use crate::response::list::{Delimiter, MailboxAttr};
    use crate::types::atom::Atom;
    use crate::types::flag::FetchFlag;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    fn caps(list: &[&str]) -> Vec<Capability> {
        list.iter().map(|c| Capability::new(*c).unwrap()).collect()
    }

    fn set(s: &[(u32, u32)]) -> SequenceSet {
        SequenceSet::from_ranges(s.iter().copied()).unwrap()
    }

    fn slash() -> Option<Delimiter> {
        Delimiter::new('/').ok()
    }

    fn leaf(n: u32) -> ThreadNode {
        ThreadNode {
            id: Some(nz(n)),
            children: vec![],
        }
    }

    fn chain(ids: &[u32], tail: Vec<ThreadNode>) -> ThreadNode {
        let mut node = ThreadNode {
            id: ids.last().map(|&n| nz(n)),
            children: tail,
        };
        for &id in ids.iter().rev().skip(1) {
            node = ThreadNode {
                id: Some(nz(id)),
                children: vec![node],
            };
        }
        node
    }

    #[test]
    fn data_table() {
        let mut child = ListItem::new(vec![MailboxAttr::NonExistent], slash(), Mailbox::new("Foo"));
        child.child_subscribed = true;
        let mut renamed = ListItem::new(
            vec![],
            Some(Delimiter::new('.').unwrap()),
            Mailbox::new("NewName"),
        );
        renamed.old_name = Some(Mailbox::new("OldName"));
        let cases: Vec<(Data, &str)> = vec![
            (
                Data::Capability(
                    NonEmpty::from_vec(caps(&["IMAP4rev2", "STARTTLS", "AUTH=PLAIN"])).unwrap(),
                ),
                "CAPABILITY IMAP4rev2 STARTTLS AUTH=PLAIN",
            ),
            (
                Data::Enabled(caps(&["CONDSTORE", "QRESYNC"])),
                "ENABLED CONDSTORE QRESYNC",
            ),
            (Data::Enabled(vec![]), "ENABLED"),
            (
                Data::List(ListItem::new(
                    vec![
                        MailboxAttr::HasNoChildren,
                        MailboxAttr::SpecialUse(SpecialUse::Sent),
                    ],
                    slash(),
                    Mailbox::new("Sent Items"),
                )),
                "LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"",
            ),
            (
                Data::List(ListItem::new(
                    vec![MailboxAttr::NoSelect],
                    slash(),
                    Mailbox::new(""),
                )),
                "LIST (\\Noselect) \"/\" \"\"",
            ),
            (
                Data::List(ListItem::new(vec![], None, Mailbox::inbox())),
                "LIST () NIL INBOX",
            ),
            (
                Data::List(ListItem::new(
                    vec![],
                    Delimiter::new('\\').ok(),
                    Mailbox::new("a"),
                )),
                "LIST () \"\\\\\" a",
            ),
            (
                Data::List(child),
                "LIST (\\NonExistent) \"/\" Foo (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            ),
            (
                Data::List(renamed),
                "LIST () \".\" NewName (\"OLDNAME\" (OldName))",
            ),
            (
                Data::Lsub(ListItem::new(
                    vec![MailboxAttr::Other(Atom::new("X-Foo").unwrap())],
                    Some(Delimiter::new('.').unwrap()),
                    Mailbox::new("#news.comp.mail.misc"),
                )),
                "LSUB (\\X-Foo) \".\" #news.comp.mail.misc",
            ),
            (
                Data::Status {
                    mailbox: Mailbox::new("blurdybloop"),
                    items: vec![
                        StatusValue::Messages(231),
                        StatusValue::UidNext(nz(44292)),
                        StatusValue::UidValidity(nz(1)),
                        StatusValue::Unseen(3),
                        StatusValue::Deleted(1),
                        StatusValue::Size(88000),
                        StatusValue::Recent(0),
                        StatusValue::HighestModSeq(7011231777),
                        StatusValue::AppendLimit(None),
                        StatusValue::AppendLimit(Some(257890)),
                        StatusValue::MailboxId(ObjectId::new("F2212ea87").unwrap()),
                        StatusValue::DeletedStorage(12),
                    ],
                },
                "STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 UIDVALIDITY 1 UNSEEN 3 DELETED 1 SIZE 88000 RECENT 0 HIGHESTMODSEQ 7011231777 APPENDLIMIT NIL APPENDLIMIT 257890 MAILBOXID (F2212ea87) DELETED-STORAGE 12)",
            ),
            (Data::Exists(23), "23 EXISTS"),
            (Data::Recent(5), "5 RECENT"),
            (Data::Expunge(nz(44)), "44 EXPUNGE"),
            (
                Data::Vanished {
                    earlier: true,
                    uids: set(&[(41, 41), (43, 116)]),
                },
                "VANISHED (EARLIER) 41,43:116",
            ),
            (
                Data::Vanished {
                    earlier: false,
                    uids: set(&[(405, 405)]),
                },
                "VANISHED 405",
            ),
            (
                Data::Flags(vec![
                    Flag::Answered,
                    Flag::Flagged,
                    Flag::Deleted,
                    Flag::Seen,
                    Flag::Draft,
                ]),
                "FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
            ),
            (
                Data::Search {
                    ids: vec![nz(2), nz(84), nz(882)],
                    modseq: None,
                },
                "SEARCH 2 84 882",
            ),
            (
                Data::Search {
                    ids: vec![],
                    modseq: None,
                },
                "SEARCH",
            ),
            (
                Data::Search {
                    ids: vec![nz(2), nz(5)],
                    modseq: NonZeroU64::new(917162500),
                },
                "SEARCH 2 5 (MODSEQ 917162500)",
            ),
            (
                Data::Sort {
                    ids: vec![nz(5), nz(3)],
                    modseq: None,
                },
                "SORT 5 3",
            ),
            (
                Data::ESearch(ESearch {
                    tag: Tag::new("A282").ok(),
                    uid: true,
                    items: vec![
                        ESearchItem::Min(nz(2)),
                        ESearchItem::Max(nz(47)),
                        ESearchItem::Count(3),
                        ESearchItem::All(set(&[(2, 2), (10, 11)])),
                        ESearchItem::ModSeq(NonZeroU64::new(9).unwrap()),
                    ],
                }),
                "ESEARCH (TAG \"A282\") UID MIN 2 MAX 47 COUNT 3 ALL 2,10:11 MODSEQ 9",
            ),
            (
                Data::ESearch(ESearch {
                    tag: Tag::new("a").ok(),
                    uid: false,
                    items: vec![],
                }),
                "ESEARCH (TAG \"a\")",
            ),
            (
                Data::Thread(vec![
                    leaf(2),
                    chain(
                        &[3, 6],
                        vec![chain(&[4, 23], vec![]), chain(&[44, 7, 96], vec![])],
                    ),
                ]),
                "THREAD (2)(3 6 (4 23)(44 7 96))",
            ),
            (
                Data::Thread(vec![ThreadNode {
                    id: None,
                    children: vec![leaf(3), leaf(5)],
                }]),
                "THREAD ((3)(5))",
            ),
            (Data::Thread(vec![]), "THREAD"),
            (
                Data::Namespace {
                    personal: vec![NamespaceDesc {
                        prefix: vec![],
                        delimiter: slash(),
                    }],
                    other_users: vec![],
                    shared: vec![NamespaceDesc {
                        prefix: b"#shared/".to_vec(),
                        delimiter: slash(),
                    }],
                },
                "NAMESPACE ((\"\" \"/\")) NIL ((\"#shared/\" \"/\"))",
            ),
            (
                Data::Id(Some(vec![
                    (b"name".to_vec(), Some(b"Mailroom".to_vec())),
                    (b"os".to_vec(), None),
                ])),
                "ID (\"name\" \"Mailroom\" \"os\" NIL)",
            ),
            (Data::Id(None), "ID NIL"),
            (
                Data::Quota {
                    root: vec![],
                    resources: vec![QuotaUsage {
                        resource: QuotaResource::Storage,
                        usage: 10,
                        limit: 512,
                    }],
                },
                "QUOTA \"\" (STORAGE 10 512)",
            ),
            (
                Data::QuotaRoot {
                    mailbox: Mailbox::inbox(),
                    roots: vec![vec![]],
                },
                "QUOTAROOT INBOX \"\"",
            ),
            (
                Data::QuotaRoot {
                    mailbox: Mailbox::new("x"),
                    roots: vec![],
                },
                "QUOTAROOT x",
            ),
            (
                Data::Fetch {
                    seq: nz(12),
                    items: NonEmpty::from_vec(vec![
                        FetchItem::Flags(vec![FetchFlag::Flag(Flag::Seen)]),
                        FetchItem::Uid(nz(4827313)),
                    ])
                    .unwrap(),
                },
                "12 FETCH (FLAGS (\\Seen) UID 4827313)",
            ),
            (
                Data::Fetch {
                    seq: nz(1),
                    items: NonEmpty::new(FetchItem::BodySection {
                        section: Section::default(),
                        origin: None,
                        data: BodyData::Bytes(bytes::Bytes::from_static(b"hi")),
                    }),
                },
                "1 FETCH (BODY[] {2}\r\nhi)",
            ),
        ];
        for (data, expected) in cases {
            let mut out = Out::new(false);
            data.encode(&mut out);
            let bytes = crate::encode::flatten(out.finish()).unwrap();
            assert_eq!(String::from_utf8_lossy(&bytes), expected);
        }
    }
}
