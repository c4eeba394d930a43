//! Messages APPENDed as binary (`literal8`, RFC 3516 §4.4): a part whose bytes include NUL is
//! stored base64-encoded instead, with its Content-Transfer-Encoding changed to match, as
//! Dovecot does. A plain IMAP literal can't carry NUL (RFC 9051 §4.3 CHAR8), so BODY[part]
//! could not be sent otherwise; BINARY[part] decodes it back to the same bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mailroom_store::facts::{BodyPart, PartChildren, message_facts};
use std::borrow::Cow;

/// The message as it is stored: unchanged unless a part holds NUL.
pub(crate) fn storable(message: &[u8]) -> Cow<'_, [u8]> {
    if !message.contains(&0) {
        return Cow::Borrowed(message);
    }
    let facts = message_facts(message);
    let mut leaves = Vec::new();
    collect_leaves(&facts.body, &mut leaves);
    // From the end backwards, so the offsets of the parts before stay right.
    leaves.sort_by_key(|p| std::cmp::Reverse(p.header_start));
    let mut out = message.to_vec();
    for part in leaves {
        let (h, b, e) = (
            part.header_start as usize,
            part.body_start as usize,
            part.body_end as usize,
        );
        let (Some(header), Some(body)) = (message.get(h..b), message.get(b..e)) else {
            continue;
        };
        if !body.contains(&0) {
            continue;
        }
        let mut replaced = with_base64_encoding(header);
        replaced.extend_from_slice(&wrapped_base64(body));
        out.splice(h..e, replaced);
    }
    Cow::Owned(out)
}

fn collect_leaves<'a>(part: &'a BodyPart, out: &mut Vec<&'a BodyPart>) {
    match &part.children {
        PartChildren::None => out.push(part),
        PartChildren::Multipart(children) => {
            for child in children {
                collect_leaves(child, out);
            }
        }
        PartChildren::Message(_, inner) => collect_leaves(inner, out),
    }
}

/// The header block (ending in its empty line) with Content-Transfer-Encoding: base64 in place
/// of any encoding it had.
fn with_base64_encoding(header: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header.len() + 40);
    let mut skipping = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if continuation && skipping {
            continue;
        }
        skipping = false;
        if line == b"\r\n" || line == b"\n" {
            out.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n");
            out.extend_from_slice(line);
            continue;
        }
        let name = line.split(|&b| b == b':').next().unwrap_or_default();
        if name
            .trim_ascii()
            .eq_ignore_ascii_case(b"content-transfer-encoding")
        {
            skipping = true;
            continue;
        }
        out.extend_from_slice(line);
    }
    out
}

/// Base64 in lines of 76 characters (RFC 2045 §6.8), each ended by CRLF.
fn wrapped_base64(body: &[u8]) -> Vec<u8> {
    let encoded = STANDARD.encode(body);
    let mut out = Vec::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for line in encoded.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_parts_become_base64_and_the_rest_stays() {
        let plain = b"Subject: x\r\n\r\nhello\r\n";
        assert!(matches!(storable(plain), Cow::Borrowed(_)));
        let message = b"From: a@b\r\nMime-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\ntext\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\xed\n\r\n--b--\r\n";
        let stored = storable(message);
        let text = String::from_utf8_lossy(&stored);
        assert!(!stored.contains(&0), "{text}");
        assert!(
            text.contains("--b\r\nContent-Type: text/plain\r\n\r\ntext\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAO0K\r\n\r\n--b--"),
            "{text}"
        );
        let facts = message_facts(&stored);
        let PartChildren::Multipart(parts) = &facts.body.children else {
            panic!("multipart");
        };
        assert_eq!(parts[1].encoding.to_ascii_lowercase(), "base64");
    }
}
