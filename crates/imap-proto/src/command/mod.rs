//! Typed client commands (RFC 9051 §6) and their parser / serialiser.
//! One variant per command; arguments are types that cannot hold values
//! the grammar forbids.

pub mod append;
pub mod fetch;
pub mod list;
pub mod mailbox;
pub mod notify;
pub mod quota;
pub mod search;
pub mod section;
pub mod session;
pub mod sort;
pub mod store;
pub mod url;

use crate::cursor::{Cursor, PResult};
use crate::encode::{Out, flatten};
use crate::error::ParseError;
use crate::limits::Limits;
use crate::types::atom::{Capability, Tag};
use crate::types::mailbox::Mailbox;
use crate::types::nonempty::NonEmpty;
use crate::types::sequence::SequenceSet;

use append::Append;
use fetch::Fetch;
use list::List;
use mailbox::{Select, SpecialUse, StatusItem};
use notify::Notify;
use quota::QuotaResource;
use search::Search;
use session::{Authenticate, CompressAlgorithm, IdParams, Login};
use sort::{Sort, Thread};
use store::{CopyMove, Store};

/// A tagged client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: Tag,
    pub body: CommandBody,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    // Any state (RFC 9051 §6.1).
    Capability,
    Noop,
    Logout,
    // Not authenticated (§6.2).
    StartTls,
    Authenticate(Authenticate),
    Login(Login),
    // Authenticated (§6.3).
    Enable(NonEmpty<Capability>),
    Select(Select),
    Examine(Select),
    Create {
        mailbox: Mailbox,
        special_use: Vec<SpecialUse>,
    },
    Delete(Mailbox),
    Rename {
        from: Mailbox,
        to: Mailbox,
    },
    Subscribe(Mailbox),
    Unsubscribe(Mailbox),
    List(List),
    /// IMAP4rev1 only (RFC 3501 §6.3.9).
    Lsub {
        reference: Vec<u8>,
        pattern: Vec<u8>,
    },
    Namespace,
    Status {
        mailbox: Mailbox,
        items: NonEmpty<StatusItem>,
    },
    Append(Append),
    Idle,
    // Selected (§6.4).
    /// IMAP4rev1 only.
    Check,
    Close,
    Unselect,
    Expunge,
    /// UID EXPUNGE (RFC 9051 §6.4.9, UIDPLUS).
    UidExpunge(SequenceSet),
    Search(Search),
    Fetch(Fetch),
    Store(Store),
    Copy(CopyMove),
    Move(CopyMove),
    Sort(Sort),
    Thread(Thread),
    // Extensions.
    /// RFC 2971.
    Id(IdParams),
    /// RFC 9208.
    GetQuota {
        root: Vec<u8>,
    },
    GetQuotaRoot(Mailbox),
    SetQuota {
        root: Vec<u8>,
        limits: Vec<(QuotaResource, u64)>,
    },
    /// RFC 4978.
    Compress(CompressAlgorithm),
    /// RFC 8437.
    Unauthenticate,
    /// RFC 5465.
    Notify(Notify),
    /// RFC 5267 §4.2: stop updating the search or sort result of the command so tagged.
    CancelUpdate(NonEmpty<Vec<u8>>),
}

impl CommandBody {
    /// The command name, for logs and `[CLIENTBUG]`-style replies.
    pub fn name(&self) -> &'static str {
        match self {
            CommandBody::Capability => "CAPABILITY",
            CommandBody::Noop => "NOOP",
            CommandBody::Logout => "LOGOUT",
            CommandBody::StartTls => "STARTTLS",
            CommandBody::Authenticate(_) => "AUTHENTICATE",
            CommandBody::Login(_) => "LOGIN",
            CommandBody::Enable(_) => "ENABLE",
            CommandBody::Select(_) => "SELECT",
            CommandBody::Examine(_) => "EXAMINE",
            CommandBody::Create { .. } => "CREATE",
            CommandBody::Delete(_) => "DELETE",
            CommandBody::Rename { .. } => "RENAME",
            CommandBody::Subscribe(_) => "SUBSCRIBE",
            CommandBody::Unsubscribe(_) => "UNSUBSCRIBE",
            CommandBody::List(_) => "LIST",
            CommandBody::Lsub { .. } => "LSUB",
            CommandBody::Namespace => "NAMESPACE",
            CommandBody::Status { .. } => "STATUS",
            CommandBody::Append(_) => "APPEND",
            CommandBody::Idle => "IDLE",
            CommandBody::Check => "CHECK",
            CommandBody::Close => "CLOSE",
            CommandBody::Unselect => "UNSELECT",
            CommandBody::Expunge => "EXPUNGE",
            CommandBody::UidExpunge(_) => "UID EXPUNGE",
            CommandBody::Search(s) if s.uid => "UID SEARCH",
            CommandBody::Search(_) => "SEARCH",
            CommandBody::Fetch(f) if f.uid => "UID FETCH",
            CommandBody::Fetch(_) => "FETCH",
            CommandBody::Store(s) if s.uid => "UID STORE",
            CommandBody::Store(_) => "STORE",
            CommandBody::Copy(c) if c.uid => "UID COPY",
            CommandBody::Copy(_) => "COPY",
            CommandBody::Move(m) if m.uid => "UID MOVE",
            CommandBody::Move(_) => "MOVE",
            CommandBody::Sort(s) if s.uid => "UID SORT",
            CommandBody::Sort(_) => "SORT",
            CommandBody::Thread(t) if t.uid => "UID THREAD",
            CommandBody::Thread(_) => "THREAD",
            CommandBody::Id(_) => "ID",
            CommandBody::GetQuota { .. } => "GETQUOTA",
            CommandBody::GetQuotaRoot(_) => "GETQUOTAROOT",
            CommandBody::SetQuota { .. } => "SETQUOTA",
            CommandBody::Compress(_) => "COMPRESS",
            CommandBody::Unauthenticate => "UNAUTHENTICATE",
            CommandBody::Notify(_) => "NOTIFY",
            CommandBody::CancelUpdate(_) => "CANCELUPDATE",
        }
    }
}

/// Reads the tag at the start of a command line.
pub(crate) fn parse_tag(c: &mut Cursor, limits: &Limits) -> PResult<Tag> {
    let start = c.pos();
    loop {
        let b = c.peek()?;
        if !crate::types::chars::is_astring_char(b) || b == b'+' {
            break;
        }
        c.next()?;
        if c.pos() - start > limits.max_tag {
            return Err(ParseError::TagTooLong {
                limit: limits.max_tag,
            }
            .into());
        }
    }
    let raw = c.rest_from(start);
    match std::str::from_utf8(raw).ok().and_then(|s| Tag::new(s).ok()) {
        Some(tag) => Ok(tag),
        None if raw.is_empty() && c.peek()? == b'\r' => Err(ParseError::EmptyLine.into()),
        None => Err(ParseError::InvalidTag.into()),
    }
}

/// `command = tag SP (command-any / command-auth / command-nonauth /
/// command-select) CRLF`. `buf` must start at the tag.
pub(crate) fn parse_command(buf: &[u8], limits: &Limits) -> PResult<(Command, usize)> {
    let mut c = Cursor::new(buf);
    let tag = parse_tag(&mut c, limits)?;
    c.sp()?;
    let body = parse_body(&mut c)?;
    c.crlf()?;
    Ok((Command { tag, body }, c.pos()))
}

fn parse_body(c: &mut Cursor) -> PResult<CommandBody> {
    let name = c.word()?.to_ascii_uppercase();
    let body = match name.as_str() {
        "CAPABILITY" => CommandBody::Capability,
        "NOOP" => CommandBody::Noop,
        "LOGOUT" => CommandBody::Logout,
        "STARTTLS" => CommandBody::StartTls,
        "AUTHENTICATE" => CommandBody::Authenticate(Authenticate::parse(c)?),
        "LOGIN" => CommandBody::Login(Login::parse(c)?),
        "ENABLE" => CommandBody::Enable(session::parse_enable(c)?),
        "SELECT" => CommandBody::Select(Select::parse(c)?),
        "EXAMINE" => CommandBody::Examine(Select::parse(c)?),
        "CREATE" => {
            let (mailbox, special_use) = mailbox::parse_create(c)?;
            CommandBody::Create {
                mailbox,
                special_use,
            }
        }
        "DELETE" => CommandBody::Delete(mailbox_arg(c)?),
        "RENAME" => {
            let from = mailbox_arg(c)?;
            CommandBody::Rename {
                from,
                to: mailbox_arg(c)?,
            }
        }
        "SUBSCRIBE" => CommandBody::Subscribe(mailbox_arg(c)?),
        "UNSUBSCRIBE" => CommandBody::Unsubscribe(mailbox_arg(c)?),
        "LIST" => CommandBody::List(List::parse(c)?),
        "LSUB" => {
            let (reference, pattern) = list::parse_lsub(c)?;
            CommandBody::Lsub { reference, pattern }
        }
        "NAMESPACE" => CommandBody::Namespace,
        "STATUS" => {
            let mailbox = mailbox_arg(c)?;
            c.sp()?;
            CommandBody::Status {
                mailbox,
                items: StatusItem::parse_list(c)?,
            }
        }
        "APPEND" => CommandBody::Append(Append::parse(c)?),
        "IDLE" => CommandBody::Idle,
        "CHECK" => CommandBody::Check,
        "CLOSE" => CommandBody::Close,
        "UNSELECT" => CommandBody::Unselect,
        "EXPUNGE" => CommandBody::Expunge,
        "UID" => {
            c.sp()?;
            parse_uid_body(c)?
        }
        "SEARCH" => CommandBody::Search(Search::parse(c, false)?),
        "FETCH" => CommandBody::Fetch(Fetch::parse(c, false)?),
        "STORE" => CommandBody::Store(Store::parse(c, false)?),
        "COPY" => CommandBody::Copy(CopyMove::parse(c, false)?),
        "MOVE" => CommandBody::Move(CopyMove::parse(c, false)?),
        "SORT" => CommandBody::Sort(Sort::parse(c, false)?),
        "THREAD" => CommandBody::Thread(Thread::parse(c, false)?),
        "ID" => CommandBody::Id(session::parse_id(c)?),
        "GETQUOTA" => {
            c.sp()?;
            CommandBody::GetQuota { root: c.astring()? }
        }
        "GETQUOTAROOT" => CommandBody::GetQuotaRoot(mailbox_arg(c)?),
        "SETQUOTA" => {
            let (root, limits) = quota::parse_setquota(c)?;
            CommandBody::SetQuota { root, limits }
        }
        "COMPRESS" => CommandBody::Compress(session::parse_compress(c)?),
        "UNAUTHENTICATE" => CommandBody::Unauthenticate,
        "NOTIFY" => CommandBody::Notify(Notify::parse(c)?),
        "CANCELUPDATE" => {
            c.sp()?;
            let mut tags = NonEmpty::new(c.string()?);
            while c.eat(b' ')? {
                tags.push(c.string()?);
            }
            CommandBody::CancelUpdate(tags)
        }
        _ => return Err(ParseError::UnknownCommand(name).into()),
    };
    Ok(body)
}

/// After `UID SP` (RFC 9051 §6.4.9).
fn parse_uid_body(c: &mut Cursor) -> PResult<CommandBody> {
    let name = c.word()?.to_ascii_uppercase();
    Ok(match name.as_str() {
        "SEARCH" => CommandBody::Search(Search::parse(c, true)?),
        "FETCH" => CommandBody::Fetch(Fetch::parse(c, true)?),
        "STORE" => CommandBody::Store(Store::parse(c, true)?),
        "COPY" => CommandBody::Copy(CopyMove::parse(c, true)?),
        "MOVE" => CommandBody::Move(CopyMove::parse(c, true)?),
        "SORT" => CommandBody::Sort(Sort::parse(c, true)?),
        "THREAD" => CommandBody::Thread(Thread::parse(c, true)?),
        "EXPUNGE" => {
            c.sp()?;
            CommandBody::UidExpunge(SequenceSet::parse(c)?)
        }
        _ => return Err(ParseError::UnknownCommand(format!("UID {name}")).into()),
    })
}

/// `SP mailbox`.
fn mailbox_arg(c: &mut Cursor) -> PResult<Mailbox> {
    c.sp()?;
    Mailbox::parse(c)
}

impl Command {
    /// Serialises the command with synchronizing literals inline. A real
    /// client must wait for "+" after each `{n}` line; tests and tools that
    /// talk to our own framer may send everything at once.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Out::new(false);
        out.str(self.tag.as_str()).sp();
        self.body.encode(&mut out);
        out.crlf();
        // Commands never hold streamed bodies.
        flatten(out.finish()).unwrap_or_default()
    }
}

impl CommandBody {
    fn encode(&self, out: &mut Out) {
        match self {
            CommandBody::Authenticate(a) => a.encode(out),
            CommandBody::Login(l) => l.encode(out),
            CommandBody::Enable(caps) => {
                out.str("ENABLE");
                for cap in caps {
                    out.sp().display(cap);
                }
            }
            CommandBody::Select(s) => s.encode(out, "SELECT"),
            CommandBody::Examine(s) => s.encode(out, "EXAMINE"),
            CommandBody::Create {
                mailbox,
                special_use,
            } => mailbox::encode_create(out, mailbox, special_use),
            CommandBody::Delete(m)
            | CommandBody::Subscribe(m)
            | CommandBody::Unsubscribe(m)
            | CommandBody::GetQuotaRoot(m) => {
                out.str(self.name()).sp().astring(m.as_bytes());
            }
            CommandBody::Rename { from, to } => {
                out.str("RENAME ")
                    .astring(from.as_bytes())
                    .sp()
                    .astring(to.as_bytes());
            }
            CommandBody::List(l) => l.encode(out),
            CommandBody::Lsub { reference, pattern } => {
                out.str("LSUB ").astring(reference).sp();
                list::encode_pattern(out, pattern);
            }
            CommandBody::Status { mailbox, items } => {
                out.str("STATUS ").astring(mailbox.as_bytes()).sp();
                StatusItem::encode_list(out, items);
            }
            CommandBody::Append(a) => a.encode(out),
            CommandBody::UidExpunge(set) => {
                out.str("UID EXPUNGE ").display(set);
            }
            CommandBody::Search(s) => s.encode(out),
            CommandBody::Fetch(f) => f.encode(out),
            CommandBody::Store(s) => s.encode(out),
            CommandBody::Copy(c) => c.encode(out, "COPY"),
            CommandBody::Move(m) => m.encode(out, "MOVE"),
            CommandBody::Sort(s) => s.encode(out),
            CommandBody::Thread(t) => t.encode(out),
            CommandBody::Id(params) => {
                out.str("ID ");
                session::encode_id_params(out, params);
            }
            CommandBody::GetQuota { root } => {
                out.str("GETQUOTA ").astring(root);
            }
            CommandBody::Notify(n) => n.encode(out),
            CommandBody::CancelUpdate(tags) => {
                out.str("CANCELUPDATE");
                for tag in tags.iter() {
                    out.sp().string(tag);
                }
            }
            CommandBody::SetQuota { root, limits } => quota::encode_setquota(out, root, limits),
            CommandBody::Compress(algorithm) => {
                out.str("COMPRESS ").display(algorithm);
            }
            CommandBody::Capability
            | CommandBody::Noop
            | CommandBody::Logout
            | CommandBody::StartTls
            | CommandBody::Namespace
            | CommandBody::Idle
            | CommandBody::Check
            | CommandBody::Close
            | CommandBody::Unselect
            | CommandBody::Expunge
            | CommandBody::Unauthenticate => {
                out.str(self.name());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;

    fn parse(input: &str) -> PResult<Command> {
        parse_command(input.as_bytes(), &Limits::default()).map(|(command, _)| command)
    }

    #[test]
    fn simple_commands() {
        let cases: Vec<(&str, CommandBody)> = vec![
            ("a CAPABILITY\r\n", CommandBody::Capability),
            ("a noop\r\n", CommandBody::Noop),
            ("a LOGOUT\r\n", CommandBody::Logout),
            ("a STARTTLS\r\n", CommandBody::StartTls),
            ("a NAMESPACE\r\n", CommandBody::Namespace),
            ("a IDLE\r\n", CommandBody::Idle),
            ("a CHECK\r\n", CommandBody::Check),
            ("a CLOSE\r\n", CommandBody::Close),
            ("a UNSELECT\r\n", CommandBody::Unselect),
            ("a EXPUNGE\r\n", CommandBody::Expunge),
            ("a UNAUTHENTICATE\r\n", CommandBody::Unauthenticate),
            ("a DELETE foo\r\n", CommandBody::Delete(Mailbox::new("foo"))),
            (
                "a SUBSCRIBE \"a b\"\r\n",
                CommandBody::Subscribe(Mailbox::new("a b")),
            ),
            (
                "a UNSUBSCRIBE inbox\r\n",
                CommandBody::Unsubscribe(Mailbox::inbox()),
            ),
            (
                "a RENAME a b\r\n",
                CommandBody::Rename {
                    from: Mailbox::new("a"),
                    to: Mailbox::new("b"),
                },
            ),
            (
                "a GETQUOTAROOT INBOX\r\n",
                CommandBody::GetQuotaRoot(Mailbox::inbox()),
            ),
            (
                "a GETQUOTA \"\"\r\n",
                CommandBody::GetQuota { root: vec![] },
            ),
            (
                "a COMPRESS DEFLATE\r\n",
                CommandBody::Compress(CompressAlgorithm::Deflate),
            ),
            ("a ID NIL\r\n", CommandBody::Id(None)),
            (
                "a UID EXPUNGE 3000:3002\r\n",
                CommandBody::UidExpunge(SequenceSet::from_ranges([(3000, 3002)]).unwrap()),
            ),
            (
                "a LSUB \"\" *\r\n",
                CommandBody::Lsub {
                    reference: vec![],
                    pattern: b"*".to_vec(),
                },
            ),
        ];
        for (input, body) in cases {
            let expected = Command {
                tag: Tag::new("a").unwrap(),
                body,
            };
            assert_eq!(parse(input), Ok(expected.clone()), "{input}");
            let bytes = expected.to_bytes();
            assert_eq!(
                parse_command(&bytes, &Limits::default()).map(|(c, _)| c),
                Ok(expected),
                "{input}"
            );
        }
    }

    #[test]
    fn errors() {
        let cases: Vec<(&str, PErr)> = vec![
            (
                "a FOO\r\n",
                PErr::Fail(ParseError::UnknownCommand("FOO".into())),
            ),
            (
                "a UID FOO 1\r\n",
                PErr::Fail(ParseError::UnknownCommand("UID FOO".into())),
            ),
            ("\r\n", PErr::Fail(ParseError::EmptyLine)),
            ("+a NOOP\r\n", PErr::Fail(ParseError::InvalidTag)),
            ("(a NOOP\r\n", PErr::Fail(ParseError::InvalidTag)),
            (
                "a NOOP extra\r\n",
                PErr::Fail(ParseError::Syntax {
                    expected: "CRLF",
                    offset: 6,
                }),
            ),
            ("a NOOP", PErr::Incomplete),
            (
                "a SELECT\r\n",
                PErr::Fail(ParseError::Syntax {
                    expected: "SP",
                    offset: 8,
                }),
            ),
        ];
        for (input, error) in cases {
            assert_eq!(parse(input), Err(error), "{input}");
        }
        let long_tag = format!("{} NOOP\r\n", "a".repeat(100));
        assert_eq!(
            parse(&long_tag),
            Err(PErr::Fail(ParseError::TagTooLong { limit: 64 }))
        );
    }

    #[test]
    fn names() {
        let uid_fetch = parse("a UID FETCH 1 UID\r\n").unwrap();
        assert_eq!(uid_fetch.body.name(), "UID FETCH");
        assert_eq!(parse("a fetch 1 UID\r\n").unwrap().body.name(), "FETCH");
    }
}
