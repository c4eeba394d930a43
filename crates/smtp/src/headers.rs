//! Reading and editing the header section of a message as bytes (RFC 5322 §2.2): which
//! fields it has, the addresses in From, and dropping fields we must not pass on. Pure
//! functions; the message body is never touched.

use mail_parser::{HeaderName, HeaderValue, MessageParser};

/// The header section's fields, each with its folded continuation lines, and the offset
/// where the header section ends (the empty line, or the end of a message without a body).
fn fields(message: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut out: Vec<&[u8]> = Vec::new();
    let mut pos = 0;
    let mut start: Option<usize> = None;
    while pos < message.len() {
        let end = message[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(message.len(), |i| pos + i + 1);
        let line = &message[pos..end];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        // A leading "continuation" line (malformed) starts a field of its own, so no byte
        // is ever lost.
        if start.is_none() || !matches!(line.first(), Some(b' ' | b'\t')) {
            if let Some(s) = start.take() {
                out.push(&message[s..pos]);
            }
            start = Some(pos);
        }
        pos = end;
    }
    if let Some(s) = start {
        out.push(&message[s..pos]);
    }
    (out, pos)
}

fn name_of(field: &[u8]) -> &[u8] {
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    field[..colon].trim_ascii()
}

/// True if the header section has a field with this name.
pub fn has_field(message: &[u8], name: &str) -> bool {
    fields(message)
        .0
        .iter()
        .any(|f| name_of(f).eq_ignore_ascii_case(name.as_bytes()))
}

/// The addresses of the From field, lower-cased; None unless the header section has exactly
/// one From field (RFC 5322 §3.6: "from" occurs once) and every mailbox in it has an address
/// that can be read. The caller decides on what it can see: a field mail-parser reads as text,
/// an empty group, or a second From field must not slip past an ownership check.
pub fn from_addresses(message: &[u8]) -> Option<Vec<String>> {
    // Counted on the raw fields too, so a From field the parser doesn't recognise as one
    // still counts as a second.
    let raw = fields(message)
        .0
        .iter()
        .filter(|f| name_of(f).eq_ignore_ascii_case(b"From"))
        .count();
    if raw != 1 {
        return None;
    }
    let parsed = MessageParser::new().parse_headers(message)?;
    let mut froms = parsed
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::From);
    let (Some(header), None) = (froms.next(), froms.next()) else {
        return None;
    };
    let HeaderValue::Address(address) = &header.value else {
        return None;
    };
    let mut out = Vec::new();
    for addr in address.iter() {
        // A mailbox without an address (a bare display name) can't be checked: refuse.
        let a = addr.address()?;
        if !a.contains('@') {
            return None;
        }
        out.push(a.to_lowercase());
    }
    if out.is_empty() { None } else { Some(out) }
}

/// RFC 8601 §5: an Authentication-Results field that claims to be ours but arrived with the
/// message is a forgery (or a loop) and is removed before we add our own.
pub fn strip_auth_results(message: &[u8], authserv_id: &str) -> Vec<u8> {
    let (fields, header_end) = fields(message);
    let mut out = Vec::with_capacity(message.len());
    for field in fields {
        let is_ours = name_of(field).eq_ignore_ascii_case(b"Authentication-Results")
            && field_authserv_id(field).eq_ignore_ascii_case(authserv_id);
        if !is_ours {
            out.extend_from_slice(field);
        }
    }
    // The empty line and the body, as they were.
    out.extend_from_slice(&message[header_end..]);
    out
}

/// The authserv-id of an Authentication-Results field (RFC 8601 §2.2): the first token of
/// its value, before any `;`, comments dropped.
fn field_authserv_id(field: &[u8]) -> String {
    let colon = field.iter().position(|&b| b == b':').map_or(0, |i| i + 1);
    let value = String::from_utf8_lossy(&field[colon..]);
    let mut depth = 0u32;
    let unfolded: String = value
        .chars()
        .filter(|&c| match c {
            '(' => {
                depth += 1;
                false
            }
            ')' => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => depth == 0,
        })
        .collect();
    unfolded
        .split(';')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"Authentication-Results: mx.example.test; spf=pass\r\n\
Authentication-Results: (c) MX.Example.Test\r\n\tdkim=pass\r\n\
Authentication-Results: other.example; spf=fail\r\n\
From: Ann <Ann@Example.Test>, bob@example.test\r\n\
Subject: x\r\n\
\r\n\
Authentication-Results: mx.example.test; body stays\r\n";

    #[test]
    fn strips_only_our_authentication_results() {
        let out = strip_auth_results(MSG, "mx.example.test");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Authentication-Results: other.example; spf=fail\r\n\
From: Ann <Ann@Example.Test>, bob@example.test\r\n\
Subject: x\r\n\
\r\n\
Authentication-Results: mx.example.test; body stays\r\n"
        );
        assert_eq!(strip_auth_results(b"", "x"), b"");
        assert_eq!(strip_auth_results(b"A: b\r\n", "x"), b"A: b\r\n");
        assert_eq!(
            strip_auth_results(b" odd\r\nA: b\r\n\r\nx", "x"),
            b" odd\r\nA: b\r\n\r\nx"
        );
    }

    #[test]
    fn from_and_fields() {
        assert_eq!(
            from_addresses(MSG).unwrap(),
            ["ann@example.test", "bob@example.test"]
        );
        assert!(has_field(MSG, "subject"));
        assert!(!has_field(MSG, "Message-ID"));
        assert!(!has_field(MSG, "Authentication-Results: mx"));
        assert!(from_addresses(b"Subject: none\r\n\r\n").is_none());
    }

    #[test]
    fn from_must_be_one_readable_field() {
        let ok = b"From: Ann <ann@example.test>\r\n\r\nbody\r\n";
        assert_eq!(from_addresses(ok).unwrap(), ["ann@example.test"]);
        // RFC 5322 §3.6: one From field only.
        let two = b"From: ann@example.test\r\nFrom: eve@evil.test\r\n\r\n";
        assert!(from_addresses(two).is_none());
        let odd = b"From: ann@example.test\r\nfrom : eve@evil.test\r\n\r\n";
        assert!(from_addresses(odd).is_none());
        // Nothing readable as an address.
        for from in [
            &b"From:\r\n\r\n"[..],
            b"From: just some text\r\n\r\n",
            b"From: undisclosed:;\r\n\r\n",
            b"From: Ann <ann@example.test>, Someone\r\n\r\n",
        ] {
            assert!(
                from_addresses(from).is_none(),
                "{}",
                String::from_utf8_lossy(from)
            );
        }
    }
}
