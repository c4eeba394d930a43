//! Streaming command framer (habit 8). The server hands it the bytes
//! received so far and gets an explicit [`Outcome`]: wait for more, send a
//! continuation for a synchronizing literal, a complete typed command, or a
//! failure together with how many bytes to drop to resynchronise.
//!
//! Framing follows RFC 9051 §2.2 / §4.3: a command is a line, unless the
//! line ends with a literal header `{n}` / `{n+}` (RFC 7888) / `~{n}`
//! (RFC 3516), in which case `n` octets and another line follow.

use crate::command::{Command, parse_command};
use crate::cursor::PErr;
use crate::error::ParseError;
use crate::limits::Limits;
use crate::types::atom::Tag;

mod header;

use header::{Header, literal_header};

/// Whether the client waits for "+" before sending literal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralMode {
    /// `{n}`: the server must answer with a continuation request.
    Sync,
    /// `{n+}` (LITERAL+ / LITERAL-, RFC 7888): data follows at once.
    NonSync,
}

/// What the caller should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Read more bytes and call again with the grown buffer.
    Incomplete,
    /// The command needs a literal of `size` octets. For [`LiteralMode::Sync`]
    /// send `+ Ready` (or call [`Framer::reject_literal`] and reply NO/BAD);
    /// for `NonSync` the data is already on its way. Reported once per literal.
    NeedLiteral {
        size: u64,
        mode: LiteralMode,
        binary: bool,
    },
    /// A whole command; drop `consumed` bytes from the buffer.
    Complete { command: Command, consumed: usize },
    /// The command is invalid; reply BAD (tagged when `tag` is known) and
    /// drop `consumed` bytes. The framer may keep discarding the rest of
    /// the command (see [`Outcome::Discard`]).
    Failed {
        tag: Option<Tag>,
        error: ParseError,
        consumed: usize,
    },
    /// Drop `consumed` bytes that belong to an already rejected command;
    /// no reply is due.
    Discard { consumed: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    data_start: usize,
    size: u64,
    mode: LiteralMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a command; `scanned` bytes are complete lines and literals, `text` of them
    /// lines (literal data not counted).
    Command {
        scanned: usize,
        text: u64,
        pending: Option<Pending>,
    },
    /// Dropping the rest of a rejected command: `literal` octets of data
    /// first, then lines up to one that ends the command.
    Discard { literal: u64 },
}

const FRESH: State = State::Command {
    scanned: 0,
    text: 0,
    pending: None,
};

/// Frames commands for one connection.
///
/// Contract: pass the same buffer, only ever appended to, until an outcome
/// carries `consumed`; then remove that many bytes from the front.
#[derive(Debug, Clone)]
pub struct Framer {
    limits: Limits,
    state: State,
}

impl Framer {
    pub fn new(limits: Limits) -> Self {
        Framer {
            limits,
            state: FRESH,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Forgets any partial command (e.g. after STARTTLS or COMPRESS, when
    /// the byte stream starts over).
    pub fn reset(&mut self) {
        self.state = FRESH;
    }

    pub fn decode(&mut self, buf: &[u8]) -> Outcome {
        match self.state {
            State::Discard { literal } => self.discard(buf, literal),
            State::Command {
                scanned,
                text,
                pending,
            } => self.scan(buf, scanned, text, pending),
        }
    }

    /// Refuses the literal just reported by [`Outcome::NeedLiteral`]:
    /// returns how many bytes to drop (the command up to and including the
    /// literal header line); a non-synchronizing literal's data is then
    /// discarded as it arrives. `None` if no literal is pending.
    pub fn reject_literal(&mut self) -> Option<usize> {
        let State::Command {
            pending: Some(pending),
            ..
        } = self.state
        else {
            return None;
        };
        self.state = match pending.mode {
            LiteralMode::Sync => FRESH,
            LiteralMode::NonSync => State::Discard {
                literal: pending.size,
            },
        };
        Some(pending.data_start)
    }

    fn scan(
        &mut self,
        buf: &[u8],
        mut scanned: usize,
        mut text: u64,
        pending: Option<Pending>,
    ) -> Outcome {
        if let Some(pending) = pending {
            let end = literal_end(pending.data_start, pending.size);
            if end.is_none_or(|end| buf.len() < end) {
                self.state = State::Command {
                    scanned,
                    text,
                    pending: Some(pending),
                };
                return Outcome::Incomplete;
            }
            scanned = end.unwrap_or(scanned);
        }
        loop {
            let rest = buf.get(scanned..).unwrap_or_default();
            let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
                // The CR of a CRLF may already be here, hence `+ 1`.
                if rest.len() > self.limits.max_line.saturating_add(1) {
                    let error = ParseError::LineTooLong {
                        limit: self.limits.max_line,
                    };
                    return self.fail(buf, error, buf.len(), State::Discard { literal: 0 });
                }
                self.state = State::Command {
                    scanned,
                    text,
                    pending: None,
                };
                return Outcome::Incomplete;
            };
            let line_end = scanned + lf + 1;
            let line = rest.get(..lf).unwrap_or_default();
            let Some(line) = line.strip_suffix(b"\r") else {
                return self.fail(buf, ParseError::BareLf, line_end, FRESH);
            };
            let header = literal_header(line);
            // What follows a failure on this line: a non-synchronizing
            // literal's data is on its way and must be skipped.
            let after_failure = match header {
                Some(Header {
                    size,
                    mode: LiteralMode::NonSync,
                    ..
                }) => State::Discard { literal: size },
                _ => FRESH,
            };
            if line.len() > self.limits.max_line {
                let error = ParseError::LineTooLong {
                    limit: self.limits.max_line,
                };
                return self.fail(buf, error, line_end, after_failure);
            }
            if line_end as u64 > self.limits.max_command {
                let error = ParseError::CommandTooLarge {
                    limit: self.limits.max_command,
                };
                return self.fail(buf, error, line_end, after_failure);
            }
            // The lines of one command together: what the parser and every command work
            // through, so it stays far below the literal limit (which is for messages).
            text += line.len() as u64 + 2;
            if text > self.limits.max_text {
                let error = ParseError::CommandTooLarge {
                    limit: self.limits.max_text,
                };
                return self.fail(buf, error, line_end, after_failure);
            }
            let first_line = scanned == 0;
            let Some(header) = header else {
                return self.finish(buf, line_end);
            };
            if let Some(error) = self.check_literal(header) {
                return self.fail(buf, error, line_end, after_failure);
            }
            let Some(data_end) = literal_end(line_end, header.size)
                .filter(|&end| end as u64 <= self.limits.max_command)
            else {
                let error = ParseError::CommandTooLarge {
                    limit: self.limits.max_command,
                };
                return self.fail(buf, error, line_end, after_failure);
            };
            // A client that sent `{0}` waits for "+" although no data is
            // missing, so an empty synchronizing literal is announced too.
            let waiting = header.mode == LiteralMode::Sync && buf.len() == line_end;
            if buf.len() >= data_end && !waiting {
                scanned = data_end;
                continue;
            }
            // Reject a command that is already wrong before the client
            // sends (or we ask for) the literal, RFC 9051 §7.5. Only at the first
            // literal: parsing the prefix again at each of thousands of literals would cost
            // time quadratic in the command.
            if first_line
                && let Err(PErr::Fail(error)) =
                    parse_command(buf.get(..line_end).unwrap_or_default(), &self.limits)
            {
                return self.fail(buf, error, line_end, after_failure);
            }
            self.state = State::Command {
                scanned: line_end,
                text,
                pending: Some(Pending {
                    data_start: line_end,
                    size: header.size,
                    mode: header.mode,
                }),
            };
            return Outcome::NeedLiteral {
                size: header.size,
                mode: header.mode,
                binary: header.binary,
            };
        }
    }

    fn check_literal(&self, header: Header) -> Option<ParseError> {
        if header.size > self.limits.max_literal {
            return Some(ParseError::LiteralTooLarge {
                size: header.size,
                limit: self.limits.max_literal,
            });
        }
        match (header.mode, self.limits.max_non_sync_literal) {
            (LiteralMode::NonSync, Some(limit)) if header.size > limit => {
                Some(ParseError::NonSyncLiteralTooLarge {
                    size: header.size,
                    limit,
                })
            }
            _ => None,
        }
    }

    /// The command ends at `end`: parse it.
    fn finish(&mut self, buf: &[u8], end: usize) -> Outcome {
        let frame = buf.get(..end).unwrap_or_default();
        match parse_command(frame, &self.limits) {
            // The parser stops at the first CRLF outside a literal, which
            // must be the end of the frame.
            Ok((_, parsed)) if parsed != end => {
                let error = ParseError::Syntax {
                    expected: "end of command",
                    offset: parsed,
                };
                self.fail(buf, error, end, FRESH)
            }
            Ok((command, _)) => {
                self.state = FRESH;
                Outcome::Complete {
                    command,
                    consumed: end,
                }
            }
            Err(PErr::Fail(error)) => self.fail(buf, error, end, FRESH),
            // The frame is complete, so running out means a construct was
            // cut short (e.g. a quoted string spanning the CRLF).
            Err(PErr::Incomplete) => {
                let error = ParseError::Syntax {
                    expected: "complete command",
                    offset: end,
                };
                self.fail(buf, error, end, FRESH)
            }
        }
    }

    fn fail(&mut self, buf: &[u8], error: ParseError, consumed: usize, next: State) -> Outcome {
        self.state = next;
        Outcome::Failed {
            tag: sniff_tag(buf, &self.limits),
            error,
            consumed,
        }
    }

    fn discard(&mut self, buf: &[u8], mut literal: u64) -> Outcome {
        let mut pos = 0usize;
        loop {
            if literal > 0 {
                let available = buf.len().saturating_sub(pos);
                let take = usize::try_from(literal).map_or(available, |l| l.min(available));
                pos += take;
                literal -= take as u64;
                if literal > 0 {
                    self.state = State::Discard { literal };
                    return discarded(pos);
                }
            }
            let rest = buf.get(pos..).unwrap_or_default();
            let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
                // Keep a short tail: it may be the start of a literal
                // header split across reads.
                let keep = rest.len().min(32);
                self.state = State::Discard { literal: 0 };
                return discarded(buf.len() - keep);
            };
            let line = rest.get(..lf).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            pos += lf + 1;
            match literal_header(line) {
                Some(Header {
                    size,
                    mode: LiteralMode::NonSync,
                    ..
                }) => literal = size,
                // A synchronizing literal is never sent without our "+",
                // and a line without a literal ends the command.
                _ => {
                    self.state = FRESH;
                    return discarded(pos);
                }
            }
        }
    }
}

fn discarded(consumed: usize) -> Outcome {
    if consumed == 0 {
        Outcome::Incomplete
    } else {
        Outcome::Discard { consumed }
    }
}

fn literal_end(start: usize, size: u64) -> Option<usize> {
    usize::try_from(size)
        .ok()
        .and_then(|size| start.checked_add(size))
}

/// The tag of the command in `buf`, if it has a valid one.
fn sniff_tag(buf: &[u8], limits: &Limits) -> Option<Tag> {
    let end = buf
        .iter()
        .position(|&b| b == b' ' || b == b'\r' || b == b'\n')?;
    let raw = buf.get(..end)?;
    if raw.len() > limits.max_tag {
        return None;
    }
    std::str::from_utf8(raw).ok().and_then(|s| Tag::new(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::CommandBody;

    fn tag(s: &str) -> Option<Tag> {
        Tag::new(s).ok()
    }

    #[test]
    fn single_line() {
        let mut framer = Framer::new(Limits::default());
        assert_eq!(framer.decode(b""), Outcome::Incomplete);
        assert_eq!(framer.decode(b"a1 NO"), Outcome::Incomplete);
        assert_eq!(framer.decode(b"a1 NOOP\r"), Outcome::Incomplete);
        match framer.decode(b"a1 NOOP\r\na2 ") {
            Outcome::Complete { command, consumed } => {
                assert_eq!(command.body, CommandBody::Noop);
                assert_eq!(consumed, 9);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sync_literal_flow() {
        let mut framer = Framer::new(Limits::default());
        let mut buf = b"A003 LOGIN {11}\r\n".to_vec();
        assert_eq!(
            framer.decode(&buf),
            Outcome::NeedLiteral {
                size: 11,
                mode: LiteralMode::Sync,
                binary: false
            }
        );
        // Same buffer again: the literal is not announced twice.
        assert_eq!(framer.decode(&buf), Outcome::Incomplete);
        buf.extend_from_slice(b"FRED FOOBAR {7}\r\n");
        assert_eq!(
            framer.decode(&buf),
            Outcome::NeedLiteral {
                size: 7,
                mode: LiteralMode::Sync,
                binary: false
            }
        );
        buf.extend_from_slice(b"fat man\r\n");
        match framer.decode(&buf) {
            Outcome::Complete { command, consumed } => {
                assert_eq!(consumed, buf.len());
                let CommandBody::Login(login) = command.body else {
                    panic!("not LOGIN")
                };
                assert_eq!(login.username, b"FRED FOOBAR");
                assert_eq!(login.password.expose(), b"fat man");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_sync_literal_is_announced() {
        let mut framer = Framer::new(Limits::default());
        let mut buf = b"a LOGIN {0}\r\n".to_vec();
        assert_eq!(
            framer.decode(&buf),
            Outcome::NeedLiteral {
                size: 0,
                mode: LiteralMode::Sync,
                binary: false
            }
        );
        assert_eq!(framer.decode(&buf), Outcome::Incomplete);
        buf.extend_from_slice(b" pw\r\n");
        assert!(matches!(
            framer.decode(&buf),
            Outcome::Complete { consumed: 18, .. }
        ));
        // Non-synchronizing: nothing to wait for.
        let mut framer = Framer::new(Limits::default());
        assert_eq!(framer.decode(b"a LOGIN {0+}\r\n"), Outcome::Incomplete);
    }

    #[test]
    fn non_sync_literal_in_one_read() {
        let mut framer = Framer::new(Limits::default());
        let buf = b"a APPEND INBOX {5+}\r\nhello\r\nb NOOP\r\n";
        match framer.decode(buf) {
            Outcome::Complete { consumed, .. } => assert_eq!(consumed, 28),
            other => panic!("{other:?}"),
        }
        // Partially received non-sync literal: reported once, then waits.
        let mut framer = Framer::new(Limits::default());
        let buf = b"a APPEND INBOX {5+}\r\nhel";
        assert_eq!(
            framer.decode(buf),
            Outcome::NeedLiteral {
                size: 5,
                mode: LiteralMode::NonSync,
                binary: false
            }
        );
        assert_eq!(framer.decode(buf), Outcome::Incomplete);
    }

    #[test]
    fn rejects_bad_command_before_literal() {
        let mut framer = Framer::new(Limits::default());
        let outcome = framer.decode(b"a7 FROB {5}\r\n");
        assert_eq!(
            outcome,
            Outcome::Failed {
                tag: tag("a7"),
                error: ParseError::UnknownCommand("FROB".into()),
                consumed: 13
            }
        );
        assert_eq!(framer.decode(b"a8 NOOP\r\n").clone(), framer_noop(9));
    }

    fn framer_noop(consumed: usize) -> Outcome {
        Outcome::Complete {
            command: Command {
                tag: Tag::new("a8").unwrap_or_else(|_| unreachable!()),
                body: CommandBody::Noop,
            },
            consumed,
        }
    }

    #[test]
    fn limits() {
        let limits = Limits {
            max_line: 20,
            max_literal: 10,
            max_tag: 4,
            max_command: 40,
            max_text: 1000,
            max_non_sync_literal: Some(4),
        };
        let cases: &[(&[u8], ParseError, Option<&str>, usize)] = &[
            (
                b"a LOGIN {11}\r\n",
                ParseError::LiteralTooLarge {
                    size: 11,
                    limit: 10,
                },
                Some("a"),
                14,
            ),
            (
                b"a LOGIN {5+}\r\n",
                ParseError::NonSyncLiteralTooLarge { size: 5, limit: 4 },
                Some("a"),
                14,
            ),
            (
                b"a LOGIN aaaaaaaaaaaaaaaaaaaaa\r\n",
                ParseError::LineTooLong { limit: 20 },
                Some("a"),
                31,
            ),
            (
                b"abcde NOOP\r\n",
                ParseError::TagTooLong { limit: 4 },
                None,
                12,
            ),
            (
                b"a SEARCH aaaaaaaaaaaaaaaaaaaaaaaaa",
                ParseError::LineTooLong { limit: 20 },
                Some("a"),
                34,
            ),
        ];
        for &(input, ref error, t, consumed) in cases {
            let mut framer = Framer::new(limits);
            let got = framer.decode(input);
            assert_eq!(
                got,
                Outcome::Failed {
                    tag: t.and_then(tag),
                    error: error.clone(),
                    consumed
                },
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        // Many small literals exceed the command limit.
        let mut framer = Framer::new(limits);
        let got = framer.decode(b"a APPEND x {3}\r\nabc {3}\r\nabc {9}\r\n");
        assert!(
            matches!(
                got,
                Outcome::Failed {
                    error: ParseError::CommandTooLarge { limit: 40 },
                    ..
                }
            ),
            "{got:?}"
        );
    }

    #[test]
    fn discard_after_long_line_and_non_sync_literal() {
        let limits = Limits {
            max_line: 10,
            ..Limits::default()
        };
        let mut framer = Framer::new(limits);
        let first = b"a1 SEARCH xxxxxxxxxxxxxxx";
        assert!(matches!(
            framer.decode(first),
            Outcome::Failed { consumed: 25, .. }
        ));
        // The rest of that line is dropped without another reply.
        assert_eq!(
            framer.decode(b"yyy\r\na2 NOOP\r\n"),
            Outcome::Discard { consumed: 5 }
        );
        assert!(matches!(
            framer.decode(b"a2 NOOP\r\n"),
            Outcome::Complete { consumed: 9, .. }
        ));

        // An over-limit non-synchronizing literal: data then trailing line skipped.
        let limits = Limits {
            max_literal: 4,
            ..Limits::default()
        };
        let mut framer = Framer::new(limits);
        let buf = b"a1 APPEND x {6+}\r\nabcdef {2+}\r\nxy\r\na2 NOOP\r\n";
        let Outcome::Failed { consumed, .. } = framer.decode(buf) else {
            panic!("not failed")
        };
        assert_eq!(consumed, 18);
        let rest = &buf[consumed..];
        assert_eq!(framer.decode(rest), Outcome::Discard { consumed: 17 });
        assert!(matches!(
            framer.decode(&rest[17..]),
            Outcome::Complete { .. }
        ));
    }

    #[test]
    fn reject_pending_literal() {
        let mut framer = Framer::new(Limits::default());
        assert_eq!(framer.reject_literal(), None);
        let buf = b"a APPEND x {100}\r\n";
        assert!(matches!(framer.decode(buf), Outcome::NeedLiteral { .. }));
        assert_eq!(framer.reject_literal(), Some(buf.len()));
        assert!(matches!(
            framer.decode(b"b NOOP\r\n"),
            Outcome::Complete { .. }
        ));

        let buf = b"a APPEND x {3+}\r\nab";
        assert!(matches!(
            framer.decode(buf),
            Outcome::NeedLiteral {
                mode: LiteralMode::NonSync,
                ..
            }
        ));
        assert_eq!(framer.reject_literal(), Some(17));
        assert_eq!(framer.decode(b"ab"), Outcome::Discard { consumed: 2 });
        assert_eq!(
            framer.decode(b"c\r\nb NOOP\r\n"),
            Outcome::Discard { consumed: 3 }
        );
    }

    #[test]
    fn malformed_lines() {
        let mut framer = Framer::new(Limits::default());
        assert_eq!(
            framer.decode(b"a NOOP\n"),
            Outcome::Failed {
                tag: tag("a"),
                error: ParseError::BareLf,
                consumed: 7
            }
        );
        assert_eq!(
            framer.decode(b"\r\n"),
            Outcome::Failed {
                tag: None,
                error: ParseError::EmptyLine,
                consumed: 2
            }
        );
        assert!(matches!(
            framer.decode(b"a LOGIN \"x\r\n"),
            Outcome::Failed {
                error: ParseError::Syntax { .. },
                consumed: 12,
                ..
            }
        ));
        assert!(matches!(
            framer.decode(b"* NOOP\r\n"),
            Outcome::Failed { tag: None, .. }
        ));
    }

    #[test]
    fn byte_at_a_time() {
        let input = b"x1 APPEND Drafts (\\Seen) {5+}\r\nHello {3}\r\nabc\r\n";
        let mut framer = Framer::new(Limits::default());
        let mut buf = Vec::new();
        let mut announced = Vec::new();
        let mut done = None;
        for &b in input {
            buf.push(b);
            match framer.decode(&buf) {
                Outcome::Incomplete => {}
                Outcome::NeedLiteral { size, .. } => announced.push(size),
                Outcome::Complete { command, consumed } => done = Some((command, consumed)),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(announced, vec![5, 3]);
        let (command, consumed) = done.unwrap_or_else(|| panic!("no command"));
        assert_eq!(consumed, input.len());
        let CommandBody::Append(append) = command.body else {
            panic!("not APPEND")
        };
        assert_eq!(append.messages.len(), 2);
    }

    /// Thousands of small literals: the lines add up to the text limit, and each literal costs
    /// a constant amount of work, not a parse of everything before it.
    #[test]
    fn the_lines_of_a_command_are_bounded_together() {
        let limits = Limits {
            max_text: 4096,
            ..Limits::default()
        };
        let mut framer = Framer::new(limits);
        let mut buf = b"a SEARCH".to_vec();
        let mut outcome = Outcome::Incomplete;
        for _ in 0..10_000 {
            buf.extend_from_slice(b" BODY {5}\r\n");
            outcome = framer.decode(&buf);
            if matches!(outcome, Outcome::Failed { .. }) {
                break;
            }
            buf.extend_from_slice(b"hello");
        }
        match outcome {
            Outcome::Failed { error, tag, .. } => {
                assert_eq!(error, ParseError::CommandTooLarge { limit: 4096 });
                assert_eq!(tag.map(|t| t.as_str().to_string()), Some("a".to_string()));
            }
            other => panic!("{other:?}"),
        }
        assert!(buf.len() < 8192);
    }
}
