//! Command lines (RFC 5321 §4.1.1, §4.1.2) parsed into typed commands. Pure: no I/O, no state.

use super::MAX_PATH;
use super::dsn::{self, RcptParams, Ret};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// EHLO (RFC 5321 §4.1.1.1).
    Ehlo(String),
    Helo(String),
    /// LMTP's greeting (RFC 2033 §4.1).
    Lhlo(String),
    Mail {
        from: Path,
        params: MailParams,
    },
    Rcpt {
        to: Path,
        params: RcptParams,
    },
    Data,
    /// RFC 3030 §2: a chunk of `size` octets follows the command line.
    Bdat {
        size: u64,
        last: bool,
    },
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    /// RFC 4954 §4: `AUTH mechanism [initial-response]`; the response is still base64 (`=`
    /// stands for an empty one), decoded by the session.
    Auth {
        mechanism: String,
        initial: Option<String>,
    },
    /// Postfix's XCLIENT: a trusted proxy names the client it speaks for.
    Xclient(Xclient),
}

/// The XCLIENT attributes Mailroom acts on (Postfix's XCLIENT_README); `None` where the proxy
/// left one out or sent `[UNAVAILABLE]`/`[TEMPUNAVAIL]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Xclient {
    pub addr: Option<std::net::IpAddr>,
    pub port: Option<u16>,
    pub helo: Option<String>,
    pub name: Option<String>,
}

/// A reverse- or forward-path: `<>` (the null sender) or a mailbox. A source route
/// (`<@a,@b:user@c>`) is accepted and dropped (RFC 5321 §4.1.1.3, Appendix C).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Path {
    Null,
    Mailbox {
        local: String,
        domain: String,
    },
    /// `postmaster` without a domain, valid only in RCPT (RFC 5321 §4.5.1).
    Postmaster,
}

impl Path {
    pub fn address(&self) -> String {
        match self {
            Path::Null => String::new(),
            Path::Mailbox { local, domain } => format!("{local}@{domain}"),
            Path::Postmaster => "postmaster".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyType {
    #[default]
    SevenBit,
    EightBitMime,
}

/// The MAIL parameters of the extensions we advertise.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailParams {
    /// RFC 1870 §6: the declared size.
    pub size: Option<u64>,
    /// RFC 6152: BODY=7BIT|8BITMIME.
    pub body: BodyType,
    /// RFC 6531 §3.4.
    pub smtputf8: bool,
    /// RFC 3461 §4.3: how much of the message a failure report returns.
    pub ret: Option<Ret>,
    /// RFC 3461 §4.4: the sender's envelope identifier, decoded from xtext.
    pub envid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// 500: not a command we know.
    #[error("command unrecognized")]
    Unknown,
    /// 501: a known command with bad arguments.
    #[error("syntax error: {0}")]
    Syntax(&'static str),
    /// 555 (RFC 5321 §4.1.1.11): a parameter we don't support.
    #[error("parameter not recognized: {0}")]
    Parameter(String),
}

pub fn parse_command(line: &[u8]) -> Result<Command, ParseError> {
    // SMTPUTF8 allows UTF-8 in paths; anything else that is not UTF-8 is a syntax error.
    let line = std::str::from_utf8(line).map_err(|_| ParseError::Syntax("invalid UTF-8"))?;
    let (verb, rest) = match line.find(' ') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, ""),
    };
    let rest = rest.trim();
    let none = |cmd: Command| {
        if rest.is_empty() {
            Ok(cmd)
        } else {
            Err(ParseError::Syntax("no arguments expected"))
        }
    };
    match verb.to_ascii_uppercase().as_str() {
        "EHLO" => Ok(Command::Ehlo(domain_arg(rest)?)),
        "HELO" => Ok(Command::Helo(domain_arg(rest)?)),
        "LHLO" => Ok(Command::Lhlo(domain_arg(rest)?)),
        "MAIL" => {
            let rest =
                prefix(rest, "FROM:").ok_or(ParseError::Syntax("expected MAIL FROM:<path>"))?;
            let (path, params) = path_and_params(rest)?;
            let from = parse_path(path, false)?;
            Ok(Command::Mail {
                from,
                params: mail_params(params)?,
            })
        }
        "RCPT" => {
            let rest = prefix(rest, "TO:").ok_or(ParseError::Syntax("expected RCPT TO:<path>"))?;
            let (path, params) = path_and_params(rest)?;
            let to = parse_path(path, true)?;
            if to == Path::Null {
                return Err(ParseError::Syntax("a recipient can't be <>"));
            }
            Ok(Command::Rcpt {
                to,
                params: rcpt_params(params)?,
            })
        }
        "DATA" => none(Command::Data),
        "BDAT" => {
            let mut words = rest.split_ascii_whitespace();
            let size = words
                .next()
                .and_then(|n| (n.bytes().all(|b| b.is_ascii_digit())).then(|| n.parse().ok())?)
                .ok_or(ParseError::Syntax("expected BDAT <size> [LAST]"))?;
            let last = match words.next() {
                None => false,
                Some(w) if w.eq_ignore_ascii_case("LAST") => true,
                Some(_) => return Err(ParseError::Syntax("expected BDAT <size> [LAST]")),
            };
            if words.next().is_some() {
                return Err(ParseError::Syntax("expected BDAT <size> [LAST]"));
            }
            Ok(Command::Bdat { size, last })
        }
        "RSET" => none(Command::Rset),
        // NOOP and HELP may carry a string, which is ignored (RFC 5321 §4.1.1.9, §4.1.1.8).
        "NOOP" => Ok(Command::Noop),
        "HELP" => Ok(Command::Help),
        "QUIT" => none(Command::Quit),
        "VRFY" if !rest.is_empty() => Ok(Command::Vrfy),
        "EXPN" if !rest.is_empty() => Ok(Command::Expn),
        "VRFY" | "EXPN" => Err(ParseError::Syntax("argument required")),
        "STARTTLS" => none(Command::StartTls),
        "AUTH" => {
            let mut words = rest.split_ascii_whitespace();
            let mechanism = words
                .next()
                .filter(|m| m.len() <= 20 && m.bytes().all(is_sasl_name_char))
                .ok_or(ParseError::Syntax(
                    "expected AUTH <mechanism> [initial-response]",
                ))?;
            let initial = words.next().map(str::to_string);
            if words.next().is_some() {
                return Err(ParseError::Syntax(
                    "expected AUTH <mechanism> [initial-response]",
                ));
            }
            Ok(Command::Auth {
                mechanism: mechanism.to_ascii_uppercase(),
                initial,
            })
        }
        "XCLIENT" => xclient(rest).map(Command::Xclient),
        _ => Err(ParseError::Unknown),
    }
}

/// `XCLIENT attribute=value ...`, values in xtext; ADDR may carry Postfix's "IPV6:" prefix.
/// PROTO is accepted and ignored (the proxy says EHLO again); LOGIN is refused: a proxy
/// does not get to log users in.
fn xclient(rest: &str) -> Result<Xclient, ParseError> {
    const USAGE: &str = "expected XCLIENT attribute=value ... (ADDR, PORT, HELO, NAME, PROTO)";
    let mut out = Xclient::default();
    let mut any = false;
    for pair in rest.split_ascii_whitespace() {
        let (name, value) = pair.split_once('=').ok_or(ParseError::Syntax(USAGE))?;
        let value = dsn::xtext_decode(value)
            .ok_or(ParseError::Syntax("XCLIENT value is not valid xtext"))?;
        let unavailable = value.eq_ignore_ascii_case("[UNAVAILABLE]")
            || value.eq_ignore_ascii_case("[TEMPUNAVAIL]");
        any = true;
        match name.to_ascii_uppercase().as_str() {
            _ if unavailable => {}
            "ADDR" => {
                let text = prefix(&value, "IPV6:").unwrap_or(&value);
                let addr = text
                    .parse()
                    .map_err(|_| ParseError::Syntax("XCLIENT ADDR is not an IP address"))?;
                out.addr = Some(addr);
            }
            "PORT" => {
                let port = value
                    .parse()
                    .map_err(|_| ParseError::Syntax("XCLIENT PORT is not a port number"))?;
                out.port = Some(port);
            }
            "HELO" => out.helo = Some(domain_arg(&value)?),
            "NAME" => out.name = Some(value),
            "PROTO" => {}
            _ => return Err(ParseError::Syntax(USAGE)),
        }
    }
    if !any {
        return Err(ParseError::Syntax(USAGE));
    }
    Ok(out)
}

/// RFC 4422 §3.1: a mechanism name is 1–20 of A–Z, 0–9, `-` and `_` (we accept lower case
/// too and upper-case it).
fn is_sasl_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn prefix<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    let head = s.get(..p.len())?;
    head.eq_ignore_ascii_case(p)
        .then(|| s[p.len()..].trim_start())
}

/// A domain or an address literal; we record it for the Received header only, so any
/// printable word will do (RFC 5321 §4.1.4: don't refuse over a bad HELO name).
fn domain_arg(rest: &str) -> Result<String, ParseError> {
    let word = rest
        .split_ascii_whitespace()
        .next()
        .ok_or(ParseError::Syntax("a domain is required"))?;
    if word.len() > 255 || word.chars().any(|c| c.is_control()) {
        return Err(ParseError::Syntax("invalid domain"));
    }
    Ok(word.to_string())
}

/// Splits `<path> params`, honouring quoted local parts that contain `>` or spaces.
fn path_and_params(s: &str) -> Result<(&str, &str), ParseError> {
    if !s.starts_with('<') {
        return Err(ParseError::Syntax("the path must be in angle brackets"));
    }
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '>' if !quoted => {
                let rest = &s[i + 1..];
                if !rest.is_empty() && !rest.starts_with(' ') {
                    return Err(ParseError::Syntax("a space must follow the path"));
                }
                return Ok((&s[1..i], rest.trim()));
            }
            _ => {}
        }
    }
    Err(ParseError::Syntax("unterminated path"))
}

fn parse_path(inner: &str, recipient: bool) -> Result<Path, ParseError> {
    if inner.is_empty() {
        return Ok(Path::Null);
    }
    if inner.len() > MAX_PATH {
        return Err(ParseError::Syntax("path too long"));
    }
    // Drop a source route: `@a,@b:mailbox`.
    let mailbox = match inner.strip_prefix('@') {
        Some(route) => {
            let colon = route
                .find(':')
                .ok_or(ParseError::Syntax("bad source route"))?;
            &route[colon + 1..]
        }
        None => inner,
    };
    if recipient && mailbox.eq_ignore_ascii_case("postmaster") {
        return Ok(Path::Postmaster);
    }
    let (local, domain) = mailbox
        .rsplit_once('@')
        .ok_or(ParseError::Syntax("the address needs a domain"))?;
    // RFC 5321 §4.1.2: a Quoted-string local part is closed by its quote; a Dot-string has
    // no specials (an '@' in it would read back as a source route, found by fuzzing).
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.chars().any(|c| c.is_control())
        && (quoted || !local.contains([' ', '<', '>', '(', ')', ',', ';', ':', '@', '"']));
    let domain_ok = !domain.is_empty()
        && domain.len() <= 255
        && !domain
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "<>\"(),;:@".contains(c));
    if !local_ok || !domain_ok {
        return Err(ParseError::Syntax("invalid address"));
    }
    Ok(Path::Mailbox {
        local: local.to_string(),
        domain: domain.to_string(),
    })
}

fn mail_params(params: &str) -> Result<MailParams, ParseError> {
    let mut out = MailParams::default();
    for param in params.split_ascii_whitespace() {
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (param, None),
        };
        match (key.to_ascii_uppercase().as_str(), value) {
            ("SIZE", Some(v)) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                out.size = Some(v.parse().unwrap_or(u64::MAX));
            }
            ("SIZE", _) => return Err(ParseError::Syntax("SIZE needs a number")),
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("7BIT") => out.body = BodyType::SevenBit,
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("8BITMIME") => {
                out.body = BodyType::EightBitMime
            }
            ("SMTPUTF8", None) => out.smtputf8 = true,
            // RFC 3461 §4.3, §4.4; RFC 1869 §6 lets a server refuse a parameter given twice.
            ("RET", _) if out.ret.is_some() => return Err(ParseError::Syntax("RET given twice")),
            ("RET", Some(v)) => out.ret = Some(dsn::parse_ret(v)?),
            ("RET", None) => return Err(ParseError::Syntax("RET must be FULL or HDRS")),
            ("ENVID", _) if out.envid.is_some() => {
                return Err(ParseError::Syntax("ENVID given twice"));
            }
            ("ENVID", Some(v)) => out.envid = Some(dsn::parse_envid(v)?),
            ("ENVID", None) => return Err(ParseError::Syntax("ENVID needs a value")),
            _ => return Err(ParseError::Parameter(param.to_string())),
        }
    }
    Ok(out)
}

/// RCPT parameters: only DSN's NOTIFY and ORCPT (RFC 3461 §4.1, §4.2).
fn rcpt_params(params: &str) -> Result<RcptParams, ParseError> {
    let mut out = RcptParams::default();
    for param in params.split_ascii_whitespace() {
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (param, None),
        };
        match (key.to_ascii_uppercase().as_str(), value) {
            ("NOTIFY", _) if out.notify != dsn::Notify::Unspecified => {
                return Err(ParseError::Syntax("NOTIFY given twice"));
            }
            ("NOTIFY", Some(v)) => out.notify = dsn::parse_notify(v)?,
            ("NOTIFY", None) => return Err(ParseError::Syntax("NOTIFY needs a value")),
            ("ORCPT", _) if out.orcpt.is_some() => {
                return Err(ParseError::Syntax("ORCPT given twice"));
            }
            ("ORCPT", Some(v)) => out.orcpt = Some(dsn::parse_orcpt(v)?),
            ("ORCPT", None) => return Err(ParseError::Syntax("ORCPT needs a value")),
            _ => return Err(ParseError::Parameter(param.to_string())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(local: &str, domain: &str) -> Path {
        Path::Mailbox {
            local: local.into(),
            domain: domain.into(),
        }
    }

    #[test]
    fn commands() {
        let ok = |line: &str, cmd: Command| {
            assert_eq!(parse_command(line.as_bytes()), Ok(cmd), "{line}")
        };
        ok(
            "EHLO client.example",
            Command::Ehlo("client.example".into()),
        );
        ok("helo [192.0.2.1]", Command::Helo("[192.0.2.1]".into()));
        ok("LHLO x", Command::Lhlo("x".into()));
        ok(
            "MAIL FROM:<a@b.example>",
            Command::Mail {
                from: mailbox("a", "b.example"),
                params: MailParams::default(),
            },
        );
        ok(
            "mail from: <> SIZE=100 BODY=8BITMIME SMTPUTF8",
            Command::Mail {
                from: Path::Null,
                params: MailParams {
                    size: Some(100),
                    body: BodyType::EightBitMime,
                    smtputf8: true,
                    ..MailParams::default()
                },
            },
        );
        ok(
            "MAIL FROM:<a@b.example> ret=full ENVID=QQ+2B314+3D",
            Command::Mail {
                from: mailbox("a", "b.example"),
                params: MailParams {
                    ret: Some(Ret::Full),
                    envid: Some("QQ+314=".into()),
                    ..MailParams::default()
                },
            },
        );
        ok(
            "RCPT TO:<c@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+2By@e.example",
            Command::Rcpt {
                to: mailbox("c", "d.example"),
                params: RcptParams {
                    notify: dsn::Notify::On {
                        success: true,
                        failure: true,
                        delay: false,
                    },
                    orcpt: Some(dsn::Orcpt {
                        addr_type: "rfc822".into(),
                        address: "x+y@e.example".into(),
                    }),
                },
            },
        );
        ok(
            "RCPT TO:<c@d.example> notify=never",
            Command::Rcpt {
                to: mailbox("c", "d.example"),
                params: RcptParams {
                    notify: dsn::Notify::Never,
                    orcpt: None,
                },
            },
        );
        ok(
            "MAIL FROM:<@relay.example:a@b.example>",
            Command::Mail {
                from: mailbox("a", "b.example"),
                params: MailParams::default(),
            },
        );
        ok(
            "RCPT TO:<\"odd >x\"@c.example>",
            Command::Rcpt {
                to: mailbox("\"odd >x\"", "c.example"),
                params: RcptParams::default(),
            },
        );
        ok(
            "RCPT TO:<Postmaster>",
            Command::Rcpt {
                to: Path::Postmaster,
                params: RcptParams::default(),
            },
        );
        ok(
            "RCPT TO:<jörg@bücher.example>",
            Command::Rcpt {
                to: mailbox("jörg", "bücher.example"),
                params: RcptParams::default(),
            },
        );
        ok("DATA", Command::Data);
        ok(
            "BDAT 0 LAST",
            Command::Bdat {
                size: 0,
                last: true,
            },
        );
        ok(
            "bdat 12",
            Command::Bdat {
                size: 12,
                last: false,
            },
        );
        ok("RSET", Command::Rset);
        ok("NOOP anything", Command::Noop);
        ok("HELP", Command::Help);
        ok("QUIT", Command::Quit);
        ok("VRFY ann", Command::Vrfy);
        ok("EXPN list", Command::Expn);
        ok("STARTTLS", Command::StartTls);
        ok(
            "AUTH PLAIN AGFubgBwdw==",
            Command::Auth {
                mechanism: "PLAIN".into(),
                initial: Some("AGFubgBwdw==".into()),
            },
        );
        ok(
            "auth login",
            Command::Auth {
                mechanism: "LOGIN".into(),
                initial: None,
            },
        );
        ok(
            "XCLIENT ADDR=IPV6:2001:db8::1 PORT=4711 HELO=laptop.example NAME=[UNAVAILABLE] PROTO=ESMTP",
            Command::Xclient(Xclient {
                addr: Some("2001:db8::1".parse().unwrap()),
                port: Some(4711),
                helo: Some("laptop.example".into()),
                name: None,
            }),
        );
        ok(
            "xclient addr=192.0.2.1 name=host+2Eexample",
            Command::Xclient(Xclient {
                addr: Some("192.0.2.1".parse().unwrap()),
                name: Some("host.example".into()),
                ..Xclient::default()
            }),
        );
        for bad in [
            "XCLIENT",
            "XCLIENT ADDR",
            "XCLIENT ADDR=not-an-ip",
            "XCLIENT PORT=99999",
            "XCLIENT LOGIN=bob",
            "XCLIENT ADDR=192.0.2.1+",
        ] {
            assert!(
                matches!(parse_command(bad.as_bytes()), Err(ParseError::Syntax(_))),
                "{bad}"
            );
        }
    }

    /// No input makes the parser panic, and a parsed path written back parses to itself.
    #[test]
    fn random_lines_never_panic_and_paths_round_trip() {
        const PIECES: &[&str] = &[
            "MAIL",
            "RCPT",
            "FROM:",
            "TO:",
            "<",
            ">",
            "@",
            "\"",
            "\\",
            " ",
            "a",
            "b.example",
            "SIZE=",
            "9",
            "BODY=8BITMIME",
            "SMTPUTF8",
            "NOTIFY=",
            "SUCCESS,",
            "NEVER",
            "ORCPT=rfc822;",
            "+2B",
            "ENVID=",
            "RET=FULL",
            ":",
            ",",
            "BDAT",
            "LAST",
            "ö",
            ".",
            "=",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = next() % 12;
            let line: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let parsed = parse_command(line.as_bytes());
            if let Ok(Command::Mail { from, .. }) = &parsed {
                let again = parse_command(format!("MAIL FROM:<{}>", from.address()).as_bytes());
                assert!(
                    matches!(&again, Ok(Command::Mail { from: f, .. }) if f == from),
                    "{line:?} -> {from:?} -> {again:?}"
                );
            }
            if let Ok(Command::Rcpt { to, .. }) = &parsed {
                let again = parse_command(format!("RCPT TO:<{}>", to.address()).as_bytes());
                assert!(
                    matches!(&again, Ok(Command::Rcpt { to: t, .. }) if t == to),
                    "{line:?} -> {to:?} -> {again:?}"
                );
            }
        }
    }

    #[test]
    fn errors() {
        use ParseError::*;
        for (line, expected) in [
            ("", Unknown),
            (
                "AUTH",
                Syntax("expected AUTH <mechanism> [initial-response]"),
            ),
            (
                "AUTH PLAIN a b",
                Syntax("expected AUTH <mechanism> [initial-response]"),
            ),
            ("XYZZY", Unknown),
            ("EHLO", Syntax("a domain is required")),
            ("MAIL TO:<a@b>", Syntax("expected MAIL FROM:<path>")),
            (
                "MAIL FROM:a@b",
                Syntax("the path must be in angle brackets"),
            ),
            ("MAIL FROM:<a@b", Syntax("unterminated path")),
            (
                "MAIL FROM:<a@b>SIZE=1",
                Syntax("a space must follow the path"),
            ),
            ("MAIL FROM:<ab>", Syntax("the address needs a domain")),
            ("MAIL FROM:<a@b> SIZE=x", Syntax("SIZE needs a number")),
            (
                "MAIL FROM:<a@b> RET=ALL",
                Syntax("RET must be FULL or HDRS"),
            ),
            ("MAIL FROM:<a@b> RET", Syntax("RET must be FULL or HDRS")),
            (
                "MAIL FROM:<a@b> RET=FULL RET=HDRS",
                Syntax("RET given twice"),
            ),
            (
                "MAIL FROM:<a@b> ENVID=a+zz",
                Syntax("ENVID is not valid xtext"),
            ),
            ("MAIL FROM:<a@b> XFOO=1", Parameter("XFOO=1".into())),
            (
                "MAIL FROM:<a@b> BODY=BINARYMIME",
                Parameter("BODY=BINARYMIME".into()),
            ),
            ("RCPT TO:<>", Syntax("a recipient can't be <>")),
            (
                "RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS",
                Syntax("NOTIFY=NEVER can't be combined with others"),
            ),
            (
                "RCPT TO:<a@b> NOTIFY=SUCCESS NOTIFY=DELAY",
                Syntax("NOTIFY given twice"),
            ),
            (
                "RCPT TO:<a@b> ORCPT=a@b",
                Syntax("ORCPT must be <addr-type>;<address>"),
            ),
            ("RCPT TO:<a@b> XFOO", Parameter("XFOO".into())),
            ("RCPT TO:<a b@c>", Syntax("invalid address")),
            ("MAIL FROM:<@re:@xa@xag>", Syntax("invalid address")),
            ("RCPT TO:<\"@x\"y@c>", Syntax("invalid address")),
            ("RCPT TO:<a\"b\"@c>", Syntax("invalid address")),
            ("DATA x", Syntax("no arguments expected")),
            ("BDAT", Syntax("expected BDAT <size> [LAST]")),
            ("BDAT -1", Syntax("expected BDAT <size> [LAST]")),
            ("BDAT 1 FIRST", Syntax("expected BDAT <size> [LAST]")),
            ("VRFY", Syntax("argument required")),
        ] {
            assert_eq!(parse_command(line.as_bytes()), Err(expected), "{line}");
        }
        assert_eq!(parse_command(b"EHLO \xff"), Err(Syntax("invalid UTF-8")));
        let long = format!("RCPT TO:<{}@b>", "a".repeat(300));
        assert_eq!(parse_command(long.as_bytes()), Err(Syntax("path too long")));
    }
}
