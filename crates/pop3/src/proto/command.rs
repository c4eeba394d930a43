use thiserror::Error;

/// A POP3 command. Message numbers are 1-based, as on the wire.
#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    User(String),
    /// The rest of the line: a password may contain spaces (RFC 1939 §7).
    Pass(String),
    /// AUTH with no mechanism lists the mechanisms (RFC 5034 §4 leaves it out; many clients
    /// still send it, as RFC 1734 had it).
    Auth {
        mechanism: Option<String>,
        initial_response: Option<String>,
    },
    Apop,
    Stls,
    Capa,
    Utf8,
    Quit,
    Stat,
    List(Option<u32>),
    Retr(u32),
    Dele(u32),
    Noop,
    Rset,
    Top(u32, u32),
    Uidl(Option<u32>),
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Secrets never reach a log.
            Command::Pass(_) => f.write_str("Pass(<redacted>)"),
            Command::Auth { mechanism, .. } => write!(f, "Auth({mechanism:?}, <redacted>)"),
            Command::User(u) => write!(f, "User({u:?})"),
            Command::List(n) => write!(f, "List({n:?})"),
            Command::Retr(n) => write!(f, "Retr({n})"),
            Command::Dele(n) => write!(f, "Dele({n})"),
            Command::Top(n, l) => write!(f, "Top({n}, {l})"),
            Command::Uidl(n) => write!(f, "Uidl({n:?})"),
            other => f.write_str(match other {
                Command::Apop => "Apop",
                Command::Stls => "Stls",
                Command::Capa => "Capa",
                Command::Utf8 => "Utf8",
                Command::Quit => "Quit",
                Command::Stat => "Stat",
                Command::Noop => "Noop",
                _ => "Rset",
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("unknown command")]
    Unknown,
    #[error("{0}")]
    Syntax(&'static str),
    #[error("command line is not valid UTF-8")]
    NotUtf8,
}

/// Parses one command line (without its CRLF). Keywords are case-insensitive; arguments are
/// separated by single spaces (RFC 1939 §3), though runs of spaces are tolerated.
pub fn parse_command(line: &[u8]) -> Result<Command, ParseError> {
    let line = std::str::from_utf8(line).map_err(|_| ParseError::NotUtf8)?;
    let (keyword, rest) = match line.split_once(' ') {
        Some((k, r)) => (k, r),
        None => (line, ""),
    };
    let mut args = rest.split(' ').filter(|a| !a.is_empty());
    let keyword = keyword.to_ascii_uppercase();
    let command = match keyword.as_str() {
        "USER" => Command::User(one_arg(&mut args, "USER needs a name")?.to_string()),
        "PASS" => {
            if rest.is_empty() {
                return Err(ParseError::Syntax("PASS needs a password"));
            }
            Command::Pass(rest.to_string())
        }
        "AUTH" => Command::Auth {
            mechanism: args.next().map(str::to_ascii_uppercase),
            initial_response: args.next().map(str::to_string),
        },
        "APOP" => Command::Apop,
        "STLS" => Command::Stls,
        "CAPA" => Command::Capa,
        "UTF8" => Command::Utf8,
        "QUIT" => Command::Quit,
        "STAT" => Command::Stat,
        "LIST" => Command::List(args.next().map(message_number).transpose()?),
        "RETR" => Command::Retr(message_number(one_arg(
            &mut args,
            "RETR needs a message number",
        )?)?),
        "DELE" => Command::Dele(message_number(one_arg(
            &mut args,
            "DELE needs a message number",
        )?)?),
        "NOOP" => Command::Noop,
        "RSET" => Command::Rset,
        "TOP" => {
            let n = message_number(one_arg(
                &mut args,
                "TOP needs a message number and a line count",
            )?)?;
            let lines = line_count(one_arg(&mut args, "TOP needs a line count")?)?;
            Command::Top(n, lines)
        }
        "UIDL" => Command::Uidl(args.next().map(message_number).transpose()?),
        _ => return Err(ParseError::Unknown),
    };
    if !matches!(
        command,
        Command::Pass(_) | Command::Auth { .. } | Command::Apop
    ) && args.next().is_some()
    {
        return Err(ParseError::Syntax("too many arguments"));
    }
    Ok(command)
}

fn one_arg<'a>(
    args: &mut impl Iterator<Item = &'a str>,
    missing: &'static str,
) -> Result<&'a str, ParseError> {
    args.next().ok_or(ParseError::Syntax(missing))
}

/// RFC 1939: TOP with more lines than the body has sends the whole message, so a count past
/// u32 is that, not an error.
fn line_count(arg: &str) -> Result<u32, ParseError> {
    if arg.is_empty() || !arg.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::Syntax("invalid line count"));
    }
    Ok(arg.parse::<u32>().unwrap_or(u32::MAX))
}

fn message_number(arg: &str) -> Result<u32, ParseError> {
    match arg.parse::<u32>() {
        Ok(n) if n > 0 && arg.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(ParseError::Syntax("invalid message number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_commands() {
        let table: &[(&[u8], Command)] = &[
            (
                b"USER ann@example.test",
                Command::User("ann@example.test".into()),
            ),
            (b"user ann", Command::User("ann".into())),
            (b"PASS my secret  pw", Command::Pass("my secret  pw".into())),
            (
                b"AUTH",
                Command::Auth {
                    mechanism: None,
                    initial_response: None,
                },
            ),
            (
                b"AUTH plain",
                Command::Auth {
                    mechanism: Some("PLAIN".into()),
                    initial_response: None,
                },
            ),
            (
                b"AUTH PLAIN AGFubgBwdw==",
                Command::Auth {
                    mechanism: Some("PLAIN".into()),
                    initial_response: Some("AGFubgBwdw==".into()),
                },
            ),
            (b"STLS", Command::Stls),
            (b"capa", Command::Capa),
            (b"UTF8", Command::Utf8),
            (b"QUIT", Command::Quit),
            (b"STAT", Command::Stat),
            (b"LIST", Command::List(None)),
            (b"LIST 3", Command::List(Some(3))),
            (b"RETR 1", Command::Retr(1)),
            (b"DELE 42", Command::Dele(42)),
            (b"NOOP", Command::Noop),
            (b"RSET", Command::Rset),
            (b"TOP 1 0", Command::Top(1, 0)),
            (b"TOP 2  10", Command::Top(2, 10)),
            (b"TOP 1 99999999999999", Command::Top(1, u32::MAX)),
            (b"UIDL", Command::Uidl(None)),
            (b"UIDL 7", Command::Uidl(Some(7))),
            (b"APOP ann 0123456789abcdef", Command::Apop),
        ];
        for (line, expected) in table {
            assert_eq!(
                parse_command(line).as_ref(),
                Ok(expected),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn invalid_commands() {
        let table: &[(&[u8], ParseError)] = &[
            (b"", ParseError::Unknown),
            (b"HELO x", ParseError::Unknown),
            (b"USER", ParseError::Syntax("USER needs a name")),
            (b"PASS", ParseError::Syntax("PASS needs a password")),
            (b"RETR", ParseError::Syntax("RETR needs a message number")),
            (b"RETR 0", ParseError::Syntax("invalid message number")),
            (b"RETR -1", ParseError::Syntax("invalid message number")),
            (b"RETR +1", ParseError::Syntax("invalid message number")),
            (b"RETR x", ParseError::Syntax("invalid message number")),
            (
                b"RETR 99999999999",
                ParseError::Syntax("invalid message number"),
            ),
            (b"TOP 1", ParseError::Syntax("TOP needs a line count")),
            (b"TOP 1 x", ParseError::Syntax("invalid line count")),
            (b"TOP 1 -1", ParseError::Syntax("invalid line count")),
            (b"STAT now", ParseError::Syntax("too many arguments")),
            (b"LIST 1 2", ParseError::Syntax("too many arguments")),
            (b"USER \xff", ParseError::NotUtf8),
        ];
        for (line, expected) in table {
            assert_eq!(
                parse_command(line).as_ref(),
                Err(expected),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let pass = parse_command(b"PASS hunter2").unwrap();
        assert!(!format!("{pass:?}").contains("hunter2"));
        let auth = parse_command(b"AUTH PLAIN c2VjcmV0").unwrap();
        assert!(!format!("{auth:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // A cheap stand-in for the fuzz target: every short byte string over a small alphabet.
        let alphabet = b"RETOPLIS 0123\xff\x00";
        let mut line = Vec::new();
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    line.clear();
                    line.extend_from_slice(b"TOP ");
                    line.extend_from_slice(&[*a, *b, *c]);
                    let _ = parse_command(&line);
                    let _ = parse_command(&line[4..]);
                }
            }
        }
    }
}
