//! SMTP replies (RFC 5321 §4.2): a three-digit code and one or more lines of text, the lines of
//! a multi-line reply joined by `-` after the code (RFC 5321 §4.2.1). Pure: no I/O.

use std::fmt;

/// The longest reply text we keep from one server; the RFC's limit for a reply line is 512
/// octets (RFC 5321 §4.5.3.1.5) and a reply with more lines than this is hostile.
const MAX_REPLY_LINES: usize = 128;

/// One complete SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The text of each line, without the code and separator.
    pub lines: Vec<String>,
}

/// What the first digit of a reply says (RFC 5321 §4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyClass {
    /// 2yz: the command was accepted.
    Positive,
    /// 3yz: more input expected (DATA's 354).
    Intermediate,
    /// 4yz: try again later.
    Transient,
    /// 5yz: do not try again.
    Permanent,
}

impl Reply {
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        Reply {
            code,
            lines: vec![text.into()],
        }
    }

    /// A reply this client makes up for a failure that has none from a server (connection
    /// refused, DNS failure, timeout), so every recipient outcome carries a reply and a status.
    pub fn local(code: u16, enhanced: &str, text: impl fmt::Display) -> Self {
        Reply::new(code, format!("{enhanced} {text}"))
    }

    pub fn class(&self) -> ReplyClass {
        match self.code / 100 {
            2 => ReplyClass::Positive,
            3 => ReplyClass::Intermediate,
            4 => ReplyClass::Transient,
            // The parser only admits 2..=5.
            _ => ReplyClass::Permanent,
        }
    }

    pub fn is_positive(&self) -> bool {
        self.class() == ReplyClass::Positive
    }

    /// The enhanced status code (RFC 3463 §2, announced by ENHANCEDSTATUSCODES, RFC 2034) at
    /// the start of the first line, when the server sent one whose class matches the reply's.
    pub fn enhanced_status(&self) -> Option<&str> {
        let first = self.lines.first()?;
        let candidate = first.split(' ').next()?;
        let mut parts = candidate.split('.');
        let class = parts.next()?;
        let subject = parts.next()?;
        let detail = parts.next()?;
        let digits = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        let class_ok = matches!(class, "2" | "4" | "5")
            && u16::from(class.as_bytes()[0] - b'0') == self.code / 100;
        (parts.next().is_none() && class_ok && digits(subject, 3) && digits(detail, 3))
            .then_some(candidate)
    }

    /// The status for a DSN (RFC 3464 §2.3.4): the server's enhanced code, or one derived from
    /// the reply's class when it gave none (RFC 3463 §3.1, "other undefined status").
    pub fn dsn_status(&self) -> String {
        match self.enhanced_status() {
            Some(status) => status.to_string(),
            None => match self.class() {
                ReplyClass::Positive => "2.0.0".into(),
                ReplyClass::Transient | ReplyClass::Intermediate => "4.0.0".into(),
                ReplyClass::Permanent => "5.0.0".into(),
            },
        }
    }

    /// All lines as one, for the queue's `last_response` and a DSN's Diagnostic-Code.
    pub fn one_line(&self) -> String {
        let text: Vec<&str> = self.lines.iter().map(|l| l.trim()).collect();
        let joined = text.join(" ");
        if joined.is_empty() {
            self.code.to_string()
        } else {
            format!("{} {}", self.code, joined)
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.one_line())
    }
}

/// Why a server's reply could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("malformed reply line: {0:?}")]
    Malformed(String),
    #[error("reply code changed inside a multi-line reply ({first} then {then})")]
    CodeChanged { first: u16, then: u16 },
    #[error("reply has more than {MAX_REPLY_LINES} lines")]
    TooManyLines,
}

/// Collects the lines of one reply: `ddd-text` continues it, `ddd text` or a bare `ddd` ends it
/// (RFC 5321 §4.2.1). Feed lines without their CRLF.
#[derive(Debug, Default)]
pub struct ReplyParser {
    code: Option<u16>,
    lines: Vec<String>,
}

impl ReplyParser {
    pub fn new() -> Self {
        ReplyParser::default()
    }

    /// Adds one line; returns the reply once its last line arrived, and is then ready for the
    /// next reply.
    pub fn push_line(&mut self, line: &[u8]) -> Result<Option<Reply>, ReplyError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let malformed = || ReplyError::Malformed(String::from_utf8_lossy(line).into_owned());
        let (code, rest) = match line {
            [a @ b'2'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9', rest @ ..] => {
                let code =
                    u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
                (code, rest)
            }
            _ => return Err(malformed()),
        };
        let (last, text) = match rest {
            [] => (true, &[][..]),
            [b' ', text @ ..] => (true, text),
            [b'-', text @ ..] => (false, text),
            _ => return Err(malformed()),
        };
        if let Some(first) = self.code
            && first != code
        {
            self.reset();
            return Err(ReplyError::CodeChanged { first, then: code });
        }
        if self.lines.len() >= MAX_REPLY_LINES {
            self.reset();
            return Err(ReplyError::TooManyLines);
        }
        self.code = Some(code);
        self.lines.push(String::from_utf8_lossy(text).into_owned());
        if !last {
            return Ok(None);
        }
        let lines = std::mem::take(&mut self.lines);
        self.code = None;
        Ok(Some(Reply { code, lines }))
    }

    fn reset(&mut self) {
        self.code = None;
        self.lines.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str]) -> Result<Option<Reply>, ReplyError> {
        let mut parser = ReplyParser::new();
        let mut out = None;
        for line in lines {
            out = parser.push_line(line.as_bytes())?;
        }
        Ok(out)
    }

    #[test]
    fn single_line() {
        let reply = parse(&["250 OK\r"]).unwrap().unwrap();
        assert_eq!(reply.code, 250);
        assert_eq!(reply.lines, vec!["OK"]);
        assert!(reply.is_positive());
    }

    #[test]
    fn bare_code() {
        let reply = parse(&["354"]).unwrap().unwrap();
        assert_eq!(reply.code, 354);
        assert_eq!(reply.class(), ReplyClass::Intermediate);
        assert_eq!(reply.one_line(), "354");
    }

    #[test]
    fn multi_line_ehlo() {
        let mut parser = ReplyParser::new();
        assert_eq!(
            parser.push_line(b"250-mx.example greets you").unwrap(),
            None
        );
        assert_eq!(parser.push_line(b"250-SIZE 1000").unwrap(), None);
        let reply = parser.push_line(b"250 STARTTLS").unwrap().unwrap();
        assert_eq!(
            reply.lines,
            vec!["mx.example greets you", "SIZE 1000", "STARTTLS"]
        );
        // The parser is ready for the next reply.
        let next = parser.push_line(b"221 bye").unwrap().unwrap();
        assert_eq!(next.code, 221);
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            "",
            "25",
            "abc hello",
            "250Xtext",
            "650 no such class",
            "150 nope",
        ] {
            assert!(
                matches!(parse(&[bad]), Err(ReplyError::Malformed(_))),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn rejects_code_change_inside_reply() {
        assert_eq!(
            parse(&["250-first", "251 second"]),
            Err(ReplyError::CodeChanged {
                first: 250,
                then: 251
            })
        );
    }

    #[test]
    fn bounds_line_count() {
        let mut parser = ReplyParser::new();
        let mut result = Ok(None);
        for _ in 0..=MAX_REPLY_LINES {
            result = parser.push_line(b"250-more");
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ReplyError::TooManyLines));
    }

    #[test]
    fn enhanced_status_codes() {
        let reply = Reply::new(550, "5.1.1 <bob@example.org>: user unknown");
        assert_eq!(reply.enhanced_status(), Some("5.1.1"));
        assert_eq!(reply.dsn_status(), "5.1.1");
        // A status whose class disagrees with the reply code is not believed.
        let odd = Reply::new(550, "4.2.2 mailbox full");
        assert_eq!(odd.enhanced_status(), None);
        assert_eq!(odd.dsn_status(), "5.0.0");
        let none = Reply::new(451, "try later");
        assert_eq!(none.dsn_status(), "4.0.0");
        assert_eq!(Reply::new(250, "2.0.0x ok").enhanced_status(), None);
    }

    #[test]
    fn one_line_joins_lines() {
        let reply = Reply {
            code: 550,
            lines: vec!["5.7.1 rejected".into(), "see https://example.org".into()],
        };
        assert_eq!(
            reply.one_line(),
            "550 5.7.1 rejected see https://example.org"
        );
    }
}
