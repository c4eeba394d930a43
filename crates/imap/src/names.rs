//! Mailbox names at the protocol edge: modified UTF-7 (RFC 3501 §5.1.3) unless the client
//! enabled UTF-8 (RFC 9051 / RFC 6855), and the store's "/" hierarchy.

use crate::error::ImapError;
use mailroom_imap_proto::Mailbox as WireName;
use mailroom_imap_proto::response::Code;
use mailroom_store::MailboxName;

/// A name that is a well-formed string but not valid modified UTF-7 (or UTF-8) is refused with
/// NO, not BAD: the command's syntax is fine, the name just can't exist (RFC 9051 §6.3.1).
fn decode(name: &WireName, utf8: bool) -> Result<String, ImapError> {
    name.to_utf8(utf8).ok_or_else(|| {
        ImapError::no_code(
            Code::Cannot,
            if utf8 {
                "mailbox name is not valid UTF-8"
            } else {
                "mailbox name is not valid modified UTF-7"
            },
        )
    })
}

/// The store name for a wire name that points at a mailbox which may exist, also one named
/// under older rules. A name that breaks the rules is `NO [CANNOT]` (RFC 9051 §7.1).
pub(crate) fn from_wire(name: &WireName, utf8: bool) -> Result<MailboxName, ImapError> {
    Ok(MailboxName::existing(&decode(name, utf8)?)?)
}

/// The store name for a wire name that is to come into being (CREATE, the new name of RENAME,
/// SUBSCRIBE): it must follow every rule of new names.
pub(crate) fn new_from_wire(name: &WireName, utf8: bool) -> Result<MailboxName, ImapError> {
    Ok(MailboxName::new(&decode(name, utf8)?)?)
}

/// The answer for an APPEND, COPY or MOVE target that does not exist: `[TRYCREATE]` only when
/// CREATE could make it (RFC 9051 §6.3.12), else why it can't be.
pub(crate) fn missing_target(name: &MailboxName) -> ImapError {
    match name.check_new() {
        Ok(()) => ImapError::no_code(Code::TryCreate, "no such mailbox"),
        Err(e) => e.into(),
    }
}

/// The wire name for a store name.
pub(crate) fn to_wire(name: &MailboxName, utf8: bool) -> WireName {
    WireName::from_utf8(name.as_str(), utf8)
}

/// Decodes a LIST reference or pattern (may be empty, may hold wildcards); None for one that
/// can't be decoded, which matches no name (an empty answer, not an error).
pub(crate) fn pattern_from_wire(raw: &[u8], utf8: bool) -> Option<String> {
    if utf8 {
        String::from_utf8(raw.to_vec()).ok()
    } else {
        mailroom_imap_proto::utf7::decode(raw).ok()
    }
}

/// RFC 9051 §6.3.9: `*` matches anything, `%` anything but the separator. INBOX is
/// case-insensitive, so the pattern's first level is compared that way when it spells INBOX.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let name_norm = normalize_inbox(name);
    let pattern_norm = normalize_inbox(pattern);
    glob(pattern_norm.as_bytes(), name_norm.as_bytes())
}

fn normalize_inbox(s: &str) -> String {
    let (first, rest) = match s.split_once('/') {
        Some((f, r)) => (f, Some(r)),
        None => (s, None),
    };
    let first = if first.eq_ignore_ascii_case("INBOX") {
        "INBOX"
    } else {
        first
    };
    match rest {
        Some(r) => format!("{first}/{r}"),
        None => first.to_string(),
    }
}

/// Wildcard matching as a dynamic programme over (pattern, name) positions: linear in the
/// pattern, so a client's `%*%*%*...` cannot make it explode.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    // `cur[j]`: the pattern consumed so far matches the first `j` octets of the name.
    let mut cur = vec![false; name.len() + 1];
    if let Some(first) = cur.first_mut() {
        *first = true;
    }
    for &p in pattern {
        let mut next = vec![false; name.len() + 1];
        match p {
            b'*' | b'%' => {
                let mut reachable = false;
                let octets = name.iter().map(Some).chain(std::iter::once(None));
                for ((slot, &here), octet) in next.iter_mut().zip(cur.iter()).zip(octets) {
                    reachable |= here;
                    *slot = reachable;
                    // `%` never crosses the hierarchy separator.
                    if p == b'%' && octet == Some(&b'/') {
                        reachable = false;
                    }
                }
            }
            literal => {
                for ((slot, &here), &octet) in next.iter_mut().skip(1).zip(cur.iter()).zip(name) {
                    *slot = here && octet == literal;
                }
            }
        }
        cur = next;
    }
    cur.last().copied().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(matches("*", "a/b"));
        assert!(matches("%", "a"));
        assert!(!matches("%", "a/b"));
        assert!(matches("a/%", "a/b"));
        assert!(matches("inbox", "INBOX"));
        assert!(matches("Inbox/%", "INBOX/x"));
        assert!(!matches("a*c", "abd"));
        assert!(matches("a*c", "ab/c"));
    }

    #[test]
    fn utf7_round_trip() {
        let name = MailboxName::new("Entwürfe").unwrap();
        let wire = to_wire(&name, false);
        assert_eq!(wire.as_bytes(), b"Entw&APw-rfe");
        assert_eq!(from_wire(&wire, false).unwrap(), name);
        assert_eq!(to_wire(&name, true).as_bytes(), "Entwürfe".as_bytes());
    }
}
