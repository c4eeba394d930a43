//! Round-trip property (habit 10): for pseudo-random commands,
//! `frame(parse(to_bytes(cmd))) == cmd`, with the bytes delivered in
//! random chunk sizes. A fixed-seed xorshift generator keeps the test
//! deterministic and fast without a property-testing dependency.

use std::num::{NonZeroU32, NonZeroU64};

use bytes::Bytes;
use mailroom_imap_proto::command::append::{Append, AppendMessage};
use mailroom_imap_proto::command::fetch::{
    ChangedSince, Fetch, FetchAttr, FetchItems, Partial, Section, SectionText,
};
use mailroom_imap_proto::command::list::{List, ListReturn, ListSelect};
use mailroom_imap_proto::command::mailbox::{QResync, Select, SpecialUse, StatusItem};
use mailroom_imap_proto::command::notify::{Event, EventGroup, MailboxFilter, Notify};
use mailroom_imap_proto::command::quota::QuotaResource;
use mailroom_imap_proto::command::search::{
    EntryType, ModSeqEntry, Search, SearchKey, SearchReturn,
};
use mailroom_imap_proto::command::session::{Authenticate, CompressAlgorithm, Login};
use mailroom_imap_proto::command::sort::{Sort, SortCriterion, SortKey, Thread, ThreadAlgorithm};
use mailroom_imap_proto::command::store::{CopyMove, Store, StoreAction};
use mailroom_imap_proto::{
    Atom, Capability, Command, CommandBody, Date, DateTime, Flag, Framer, Limits, Mailbox,
    NonEmpty, ObjectId, Outcome, Secret, SeqNumber, SeqRange, SequenceSet, Tag,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    fn nz(&mut self, max: u32) -> NonZeroU32 {
        NonZeroU32::new(1 + self.below(max as usize) as u32).unwrap()
    }

    fn vec<T>(&mut self, min: usize, max: usize, mut f: impl FnMut(&mut Rng) -> T) -> Vec<T> {
        let n = min + self.below(max - min + 1);
        (0..n).map(|_| f(self)).collect()
    }

    fn non_empty<T>(&mut self, max: usize, f: impl FnMut(&mut Rng) -> T) -> NonEmpty<T> {
        NonEmpty::from_vec(self.vec(1, max, f)).unwrap()
    }

    /// Strings that exercise every encoding form (atom, quoted, literal).
    fn string(&mut self) -> Vec<u8> {
        const POOL: &[&str] = &[
            "",
            "plain",
            "two words",
            "quote\"d",
            "back\\slash",
            "line\r\nbreak",
            "tab\there",
            "Entwürfe",
            "日本語",
            "NIL",
            "a]b",
            "{3}",
            "%*",
            "(paren)",
            "~peter/mail",
            "&-",
        ];
        self.pick(POOL).as_bytes().to_vec()
    }

    fn atom(&mut self) -> Atom {
        Atom::new(self.pick(&["$Junk", "NonJunk", "$Forwarded", "X-Custom", "a1"])).unwrap()
    }

    fn mailbox(&mut self) -> Mailbox {
        Mailbox::new(self.string())
    }

    fn seq_number(&mut self) -> SeqNumber {
        if self.below(5) == 0 {
            SeqNumber::Last
        } else {
            SeqNumber::Value(self.nz(100_000))
        }
    }

    fn set(&mut self) -> SequenceSet {
        if self.below(8) == 0 {
            return SequenceSet::Saved;
        }
        SequenceSet::Ranges(self.non_empty(4, |r| {
            let start = r.seq_number();
            let end = if r.bool() { r.seq_number() } else { start };
            SeqRange { start, end }
        }))
    }

    fn uid_set(&mut self) -> SequenceSet {
        SequenceSet::Ranges(self.non_empty(3, |r| SeqRange {
            start: SeqNumber::Value(r.nz(1000)),
            end: SeqNumber::Value(r.nz(1000)),
        }))
    }

    fn flag(&mut self) -> Flag {
        match self.below(7) {
            0 => Flag::Answered,
            1 => Flag::Flagged,
            2 => Flag::Deleted,
            3 => Flag::Seen,
            4 => Flag::Draft,
            5 => Flag::Keyword(self.atom()),
            _ => Flag::Extension(Atom::new("XExt").unwrap()),
        }
    }

    fn date(&mut self) -> Date {
        Date::new(
            1970 + self.below(100) as u16,
            1 + self.below(12) as u8,
            1 + self.below(28) as u8,
        )
        .unwrap()
    }

    fn date_time(&mut self) -> DateTime {
        let offset = self.below(24 * 60 * 2 - 1) as i16 - (24 * 60 - 1);
        let date = self.date();
        DateTime::new(
            date,
            self.below(24) as u8,
            self.below(60) as u8,
            self.below(60) as u8,
            offset,
        )
        .unwrap()
    }

    fn modseq(&mut self) -> NonZeroU64 {
        NonZeroU64::new(1 + self.next() % (i64::MAX as u64)).unwrap()
    }

    fn search_key(&mut self, depth: usize) -> SearchKey {
        use SearchKey as K;
        let leaf = depth >= 3;
        match self.below(if leaf { 50 } else { 54 }) {
            0 => K::All,
            1 => K::Answered,
            2 => K::Bcc(self.string()),
            3 => K::Before(self.date()),
            4 => K::Body(self.string()),
            5 => K::Cc(self.string()),
            6 => K::Deleted,
            7 => K::Draft,
            8 => K::Flagged,
            9 => K::From(self.string()),
            10 => K::Header(self.string(), self.string()),
            11 => K::Keyword(self.atom()),
            12 => K::Larger(self.next() % (i64::MAX as u64)),
            13 => K::New,
            14 => K::Old,
            15 => K::On(self.date()),
            16 => K::Recent,
            17 => K::Seen,
            18 => K::SentBefore(self.date()),
            19 => K::SentOn(self.date()),
            20 => K::SentSince(self.date()),
            21 => K::Since(self.date()),
            22 => K::Smaller(self.next() % 1000),
            23 => K::Subject(self.string()),
            24 => K::Text(self.string()),
            25 => K::To(self.string()),
            26 => K::Uid(self.set()),
            27 => K::Unanswered,
            28 => K::Undeleted,
            29 => K::Undraft,
            30 => K::Unflagged,
            31 => K::Unkeyword(self.atom()),
            32 => K::Unseen,
            33 => K::SequenceSet(self.set()),
            34 => K::ModSeq {
                entry: None,
                modseq: self.next() % 1_000_000,
            },
            35 => K::ModSeq {
                entry: Some(ModSeqEntry {
                    flag: self.flag(),
                    entry_type: self.pick(&[EntryType::Private, EntryType::Shared, EntryType::All]),
                }),
                modseq: self.next() % 1_000_000,
            },
            36 => K::Older(self.nz(100_000)),
            37 => K::Younger(self.nz(100_000)),
            38 => K::EmailId(ObjectId::new("M6d99ac3275bb4e").unwrap()),
            39 => K::ThreadId(ObjectId::new("T-1_2").unwrap()),
            40 => K::SavedBefore(self.date()),
            41 => K::SavedOn(self.date()),
            42 => K::SavedSince(self.date()),
            43..=49 => K::SaveDateSupported,
            50 => K::Not(Box::new(self.search_key(depth + 1))),
            51 => K::Or(
                Box::new(self.search_key(depth + 1)),
                Box::new(self.search_key(depth + 1)),
            ),
            _ => K::And(self.non_empty(3, |r| r.search_key(depth + 1))),
        }
    }

    fn search_keys(&mut self) -> NonEmpty<SearchKey> {
        self.non_empty(3, |r| r.search_key(0))
    }

    fn return_opts(&mut self) -> Option<Vec<SearchReturn>> {
        self.bool().then(|| {
            self.vec(0, 3, |r| {
                r.pick(&[
                    SearchReturn::Min,
                    SearchReturn::Max,
                    SearchReturn::All,
                    SearchReturn::Count,
                    SearchReturn::Save,
                ])
            })
        })
    }

    fn part(&mut self) -> Vec<NonZeroU32> {
        self.vec(0, 3, |r| r.nz(5))
    }

    fn partial(&mut self) -> Option<Partial> {
        self.bool().then(|| Partial {
            start: self.next() % 10_000,
            length: NonZeroU64::new(1 + self.next() % 10_000).unwrap(),
        })
    }

    fn header_names(&mut self) -> NonEmpty<Vec<u8>> {
        self.non_empty(3, |r| {
            r.pick(&["Subject", "From", "X Weird", "Date"])
                .as_bytes()
                .to_vec()
        })
    }

    fn section(&mut self) -> Section {
        let part = self.part();
        let text = match self.below(6) {
            0 => None,
            1 => Some(SectionText::Header),
            2 => Some(SectionText::HeaderFields(self.header_names())),
            3 => Some(SectionText::HeaderFieldsNot(self.header_names())),
            4 => Some(SectionText::Text),
            _ if !part.is_empty() => Some(SectionText::Mime),
            _ => None,
        };
        Section::new(part, text).unwrap()
    }

    fn fetch_attr(&mut self) -> FetchAttr {
        use FetchAttr as A;
        match self.below(17) {
            0 => A::Envelope,
            1 => A::Flags,
            2 => A::InternalDate,
            3 => A::Rfc822,
            4 => A::Rfc822Header,
            5 => A::Rfc822Size,
            6 => A::Rfc822Text,
            7 => A::Body,
            8 => A::BodyStructure,
            9 => A::Uid,
            10 => A::BodySection {
                peek: self.bool(),
                section: self.section(),
                partial: self.partial(),
            },
            11 => A::Binary {
                peek: self.bool(),
                part: self.part(),
                partial: self.partial(),
            },
            12 => A::BinarySize { part: self.part() },
            13 => A::ModSeq,
            14 => A::EmailId,
            15 => A::ThreadId,
            _ => A::SaveDate,
        }
    }

    fn status_items(&mut self) -> NonEmpty<StatusItem> {
        self.non_empty(4, |r| {
            r.pick(&[
                StatusItem::Messages,
                StatusItem::UidNext,
                StatusItem::UidValidity,
                StatusItem::Unseen,
                StatusItem::Deleted,
                StatusItem::Size,
                StatusItem::Recent,
                StatusItem::HighestModSeq,
                StatusItem::AppendLimit,
                StatusItem::MailboxId,
                StatusItem::DeletedStorage,
            ])
        })
    }

    fn charset(&mut self) -> String {
        self.pick(&["UTF-8", "US-ASCII", "ISO-8859-1"]).to_owned()
    }

    fn body(&mut self) -> CommandBody {
        match self.below(35) {
            0 => self.pick(&[
                CommandBody::Capability,
                CommandBody::Noop,
                CommandBody::Logout,
                CommandBody::StartTls,
                CommandBody::Namespace,
                CommandBody::Idle,
                CommandBody::Check,
                CommandBody::Close,
                CommandBody::Unselect,
                CommandBody::Expunge,
                CommandBody::Unauthenticate,
            ]),
            1 => CommandBody::Authenticate(Authenticate {
                mechanism: Atom::new(self.pick(&["PLAIN", "SCRAM-SHA-256", "EXTERNAL"])).unwrap(),
                initial_response: self.bool().then(|| Secret::new(self.string())),
            }),
            2 => CommandBody::Login(Login {
                username: self.string(),
                password: Secret::new(self.string()),
            }),
            3 => CommandBody::Enable(self.non_empty(3, |r| {
                Capability::new(r.pick(&["CONDSTORE", "QRESYNC", "UTF8=ACCEPT"])).unwrap()
            })),
            4 | 5 => {
                let select = Select {
                    mailbox: self.mailbox(),
                    condstore: self.bool(),
                    qresync: self.bool().then(|| QResync {
                        uid_validity: self.nz(u32::MAX - 1),
                        modseq: self.modseq(),
                        known_uids: self.bool().then(|| self.uid_set()),
                        seq_match: self.bool().then(|| (self.uid_set(), self.uid_set())),
                    }),
                };
                if self.bool() {
                    CommandBody::Select(select)
                } else {
                    CommandBody::Examine(select)
                }
            }
            6 => CommandBody::Create {
                mailbox: self.mailbox(),
                special_use: self.vec(0, 3, |r| {
                    r.pick(&[
                        SpecialUse::All,
                        SpecialUse::Archive,
                        SpecialUse::Drafts,
                        SpecialUse::Junk,
                        SpecialUse::Sent,
                        SpecialUse::Trash,
                        SpecialUse::Important,
                    ])
                }),
            },
            7 => CommandBody::Delete(self.mailbox()),
            8 => CommandBody::Rename {
                from: self.mailbox(),
                to: self.mailbox(),
            },
            9 => CommandBody::Subscribe(self.mailbox()),
            10 => CommandBody::Unsubscribe(self.mailbox()),
            11 | 12 => {
                let mut selection = self.vec(0, 2, |r| {
                    r.pick(&[
                        ListSelect::Subscribed,
                        ListSelect::Remote,
                        ListSelect::SpecialUse,
                    ])
                });
                if selection.contains(&ListSelect::Subscribed) && self.bool() {
                    selection.push(ListSelect::RecursiveMatch);
                }
                CommandBody::List(List {
                    selection,
                    reference: self.string(),
                    patterns: self.non_empty(3, |r| r.string()),
                    return_opts: self.vec(0, 3, |r| match r.below(4) {
                        0 => ListReturn::Subscribed,
                        1 => ListReturn::Children,
                        2 => ListReturn::SpecialUse,
                        _ => ListReturn::Status(r.status_items()),
                    }),
                })
            }
            13 => CommandBody::Lsub {
                reference: self.string(),
                pattern: self.string(),
            },
            14 => CommandBody::Status {
                mailbox: self.mailbox(),
                items: self.status_items(),
            },
            15 | 16 => CommandBody::Append(Append {
                mailbox: self.mailbox(),
                messages: self.non_empty(3, |r| {
                    let binary = r.bool();
                    let mut data = r.string();
                    if binary {
                        data.push(0);
                    }
                    AppendMessage {
                        flags: r.vec(0, 3, |r| r.flag()),
                        date: r.bool().then(|| r.date_time()),
                        data: Bytes::from(data),
                        binary,
                        catenate: None,
                    }
                }),
            }),
            17 => CommandBody::UidExpunge(self.uid_set()),
            18 | 19 => CommandBody::Search(Search {
                uid: self.bool(),
                return_opts: self.return_opts(),
                charset: self.bool().then(|| self.charset()),
                criteria: self.search_keys(),
            }),
            20 | 21 => {
                let uid = self.bool();
                CommandBody::Fetch(Fetch {
                    uid,
                    set: self.set(),
                    items: match self.below(5) {
                        0 => FetchItems::All,
                        1 => FetchItems::Fast,
                        2 => FetchItems::Full,
                        _ => FetchItems::Attributes(self.non_empty(5, |r| r.fetch_attr())),
                    },
                    changed_since: self.bool().then(|| ChangedSince {
                        modseq: self.modseq(),
                        vanished: uid && self.bool(),
                    }),
                })
            }
            22 => CommandBody::Store(Store {
                uid: self.bool(),
                set: self.set(),
                unchanged_since: self.bool().then(|| self.next() % 1_000_000),
                action: self.pick(&[StoreAction::Replace, StoreAction::Add, StoreAction::Remove]),
                silent: self.bool(),
                flags: self.vec(0, 4, |r| r.flag()),
            }),
            23 => CommandBody::Copy(CopyMove {
                uid: self.bool(),
                set: self.set(),
                mailbox: self.mailbox(),
            }),
            24 => CommandBody::Move(CopyMove {
                uid: self.bool(),
                set: self.set(),
                mailbox: self.mailbox(),
            }),
            25 | 26 => CommandBody::Sort(Sort {
                uid: self.bool(),
                return_opts: self.return_opts(),
                criteria: self.non_empty(3, |r| SortCriterion {
                    reverse: r.bool(),
                    key: r.pick(&[
                        SortKey::Arrival,
                        SortKey::Cc,
                        SortKey::Date,
                        SortKey::From,
                        SortKey::Size,
                        SortKey::Subject,
                        SortKey::To,
                        SortKey::DisplayFrom,
                        SortKey::DisplayTo,
                    ]),
                }),
                charset: self.charset(),
                search: self.search_keys(),
            }),
            27 => CommandBody::Thread(Thread {
                uid: self.bool(),
                algorithm: self.pick(&[
                    ThreadAlgorithm::OrderedSubject,
                    ThreadAlgorithm::References,
                    ThreadAlgorithm::Other(Atom::new("REFS").unwrap()),
                ]),
                charset: self.charset(),
                search: self.search_keys(),
            }),
            28 => CommandBody::Id(
                self.bool()
                    .then(|| self.vec(0, 3, |r| (r.string(), r.bool().then(|| r.string())))),
            ),
            29 => CommandBody::GetQuota {
                root: self.string(),
            },
            30 => CommandBody::GetQuotaRoot(self.mailbox()),
            31 => CommandBody::SetQuota {
                root: self.string(),
                limits: self.vec(0, 3, |r| {
                    let resource = r.pick(&[
                        QuotaResource::Storage,
                        QuotaResource::Message,
                        QuotaResource::Mailbox,
                        QuotaResource::AnnotationStorage,
                    ]);
                    (resource, r.next() % 1_000_000)
                }),
            },
            32 => CommandBody::Compress(self.pick(&[
                CompressAlgorithm::Deflate,
                CompressAlgorithm::Other(Atom::new("LZ4").unwrap()),
            ])),
            33 => CommandBody::Notify(if self.below(4) == 0 {
                Notify::None
            } else {
                Notify::Set {
                    status: self.bool(),
                    groups: self.non_empty(3, |r| {
                        let selected = r.bool();
                        let filter = match r.below(7) {
                            _ if selected => {
                                r.pick(&[MailboxFilter::Selected, MailboxFilter::SelectedDelayed])
                            }
                            0 => MailboxFilter::Inboxes,
                            1 => MailboxFilter::Personal,
                            2 => MailboxFilter::Subscribed,
                            3 | 4 => MailboxFilter::Subtree(r.non_empty(2, |r| r.mailbox())),
                            _ => MailboxFilter::Mailboxes(r.non_empty(2, |r| r.mailbox())),
                        };
                        let mut events = Vec::new();
                        if r.bool() {
                            let attrs = if selected {
                                r.vec(0, 2, |r| r.fetch_attr())
                            } else {
                                Vec::new()
                            };
                            events.push(Event::MessageNew(attrs));
                            events.push(Event::MessageExpunge);
                        }
                        if r.bool() {
                            events.push(r.pick(&[
                                Event::FlagChange,
                                Event::MailboxName,
                                Event::SubscriptionChange,
                            ]));
                        }
                        EventGroup { filter, events }
                    }),
                }
            }),
            _ => CommandBody::Noop,
        }
    }

    fn command(&mut self) -> Command {
        let tag = Tag::new(format!("t{}", self.below(10_000))).unwrap();
        Command {
            tag,
            body: self.body(),
        }
    }
}

/// Feeds `bytes` in random chunks; returns the framed command.
fn frame(rng: &mut Rng, bytes: &[u8]) -> Command {
    let mut framer = Framer::new(Limits::default());
    let mut received = 0;
    loop {
        received = (received + 1 + rng.below(40)).min(bytes.len());
        match framer.decode(&bytes[..received]) {
            Outcome::Complete { command, consumed } => {
                assert_eq!(consumed, bytes.len(), "{}", String::from_utf8_lossy(bytes));
                return command;
            }
            Outcome::Incomplete | Outcome::NeedLiteral { .. } if received < bytes.len() => {}
            other => panic!("{}: {other:?}", String::from_utf8_lossy(bytes)),
        }
    }
}

#[test]
fn commands_round_trip() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let command = rng.command();
        let bytes = command.to_bytes();
        let again = frame(&mut rng, &bytes);
        assert_eq!(again, command, "{}", String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn pipelined_commands_frame_one_by_one() {
    let mut rng = Rng(42);
    let commands: Vec<Command> = (0..200).map(|_| rng.command()).collect();
    let mut stream: Vec<u8> = commands.iter().flat_map(Command::to_bytes).collect();
    let mut framer = Framer::new(Limits::default());
    let mut got = Vec::new();
    while !stream.is_empty() {
        match framer.decode(&stream) {
            Outcome::Complete { command, consumed } => {
                got.push(command);
                stream.drain(..consumed);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, commands);
}
