//! Section bytes for FETCH BODY[...] and BINARY[...] (RFC 9051 §6.4.5, RFC 3516), cut from the
//! blob with the offsets stored in the message facts; nothing is re-parsed except the header
//! block when HEADER.FIELDS asks for a subset.

use bytes::Bytes;
use mailroom_imap_proto::command::fetch::{Partial, Section, SectionText};
use mailroom_store::facts::{BodyPart, PartChildren};
use std::num::NonZeroU32;

/// The octets `start..end` of the blob, shared, not copied.
pub(crate) fn slice(blob: &Bytes, start: u32, end: u32) -> Option<Bytes> {
    let (start, end) = (start as usize, end as usize);
    (start <= end && end <= blob.len()).then(|| blob.slice(start..end))
}

fn path(part: &[NonZeroU32]) -> Vec<u32> {
    part.iter().map(|n| n.get()).collect()
}

/// The message a HEADER / TEXT section refers to: the whole message for an empty path, else the
/// message inside a message/rfc822 part (§6.4.5: "a part specifier ... of type MESSAGE/RFC822").
fn message_at<'a>(root: &'a BodyPart, path: &[u32]) -> Option<&'a BodyPart> {
    if path.is_empty() {
        return Some(root);
    }
    match &root.part(path)?.children {
        PartChildren::Message(_, inner) => Some(inner),
        _ => None,
    }
}

/// The bytes of a BODY section, or `None` when the section does not exist (sent as NIL).
/// Whole parts are slices of the blob; only HEADER.FIELDS builds new bytes.
pub(crate) fn section_bytes(blob: &Bytes, root: &BodyPart, section: &Section) -> Option<Bytes> {
    let path = path(section.part());
    match section.text() {
        None if path.is_empty() => Some(blob.clone()),
        None => {
            let part = root.part(&path)?;
            slice(blob, part.body_start, part.body_end)
        }
        Some(SectionText::Mime) => {
            let part = root.part(&path)?;
            slice(blob, part.header_start, part.body_start)
        }
        Some(SectionText::Header) => {
            let msg = message_at(root, &path)?;
            slice(blob, msg.header_start, msg.body_start)
        }
        Some(SectionText::Text) => {
            let msg = message_at(root, &path)?;
            // An encapsulated message's text runs to the end of the part holding it: a
            // multipart's own end stops at its close delimiter, before the epilogue.
            let end = match path.is_empty() {
                true => msg.body_end,
                false => root.part(&path)?.body_end,
            };
            slice(blob, msg.body_start, end)
        }
        Some(SectionText::HeaderFields(names)) => {
            let msg = message_at(root, &path)?;
            let header = slice(blob, msg.header_start, msg.body_start)?;
            Some(header_fields(&header, names, true).into())
        }
        Some(SectionText::HeaderFieldsNot(names)) => {
            let msg = message_at(root, &path)?;
            let header = slice(blob, msg.header_start, msg.body_start)?;
            Some(header_fields(&header, names, false).into())
        }
    }
}

/// The header fields whose name is (or, with `keep == false`, is not) in `names`, then the
/// empty line that ends a header (§6.4.5).
pub(crate) fn header_fields(header: &[u8], names: &[Vec<u8>], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for field in split_fields(header) {
        let name_end = field.iter().position(|&b| b == b':').unwrap_or(0);
        let name = field.get(..name_end).unwrap_or_default().trim_ascii();
        if name.is_empty() {
            continue;
        }
        let listed = names.iter().any(|n| n.eq_ignore_ascii_case(name));
        if listed == keep {
            out.extend_from_slice(field);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Splits a header block into fields, each with its continuation lines and line ends.
fn split_fields(header: &[u8]) -> Vec<&[u8]> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    while pos < header.len() {
        let line_end = header
            .get(pos..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
            .map_or(header.len(), |i| pos + i + 1);
        let next_is_continuation = matches!(header.get(line_end), Some(b' ' | b'\t'));
        let line = header.get(pos..line_end).unwrap_or_default();
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        pos = line_end;
        if !next_is_continuation {
            if let Some(field) = header.get(start..pos) {
                fields.push(field);
            }
            start = pos;
        }
    }
    fields
}

/// `<start.length>`: the octets from `start`, at most `length` (§6.4.5); empty past the end.
pub(crate) fn apply_partial(data: Bytes, partial: Option<&Partial>) -> Bytes {
    let Some(partial) = partial else {
        return data;
    };
    let start = usize::try_from(partial.start)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let len = usize::try_from(partial.length.get()).unwrap_or(usize::MAX);
    let end = start.saturating_add(len).min(data.len());
    data.slice(start..end)
}

/// Why a BINARY fetch failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BinaryError {
    /// No such part: NIL.
    NoPart,
    /// RFC 3516 §4.3: answer NO [UNKNOWN-CTE].
    UnknownEncoding,
}

/// The decoded content of a part (RFC 3516 §4.2); `[]` is the whole message as is.
pub(crate) fn binary_bytes(
    blob: &Bytes,
    root: &BodyPart,
    part: &[NonZeroU32],
) -> Result<Bytes, BinaryError> {
    let path = path(part);
    if path.is_empty() {
        return Ok(blob.clone());
    }
    let part = root.part(&path).ok_or(BinaryError::NoPart)?;
    let raw = slice(blob, part.body_start, part.body_end).ok_or(BinaryError::NoPart)?;
    if part.is_multipart() {
        return Ok(raw);
    }
    match part.encoding.to_ascii_lowercase().as_str() {
        "base64" => Ok(decode_base64(&raw).into()),
        "quoted-printable" => Ok(decode_quoted_printable(&raw).into()),
        "7bit" | "8bit" | "binary" | "" => Ok(raw),
        _ => Err(BinaryError::UnknownEncoding),
    }
}

/// Lenient base64 (RFC 2045 §6.8): characters outside the alphabet are skipped and decoding
/// stops at padding.
pub(crate) fn decode_base64(input: &[u8]) -> Vec<u8> {
    let value = |b: u8| -> Option<u32> {
        Some(u32::from(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in input {
        if b == b'=' {
            break;
        }
        let Some(v) = value(b) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Quoted-printable (RFC 2045 §6.7), line by line: blanks at the end of an encoded line are
/// transport padding and go (rule 3); `=` at the end of a line, blanks after it allowed, is a
/// soft line break (rule 5); `=XX` is an octet; anything else stays as it is.
pub(crate) fn decode_quoted_printable(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    for line in input.split_inclusive(|&b| b == b'\n') {
        let (text, ending) = match line.strip_suffix(b"\r\n") {
            Some(text) => (text, &b"\r\n"[..]),
            None => match line.strip_suffix(b"\n") {
                Some(text) => (text, &b"\n"[..]),
                None => (line, &b""[..]),
            },
        };
        let text = text.trim_ascii_end();
        let (text, soft) = match text.strip_suffix(b"=") {
            Some(text) => (text, true),
            None => (text, false),
        };
        let mut i = 0;
        while let Some(&b) = text.get(i) {
            match (
                b,
                text.get(i + 1).copied().and_then(hex),
                text.get(i + 2).copied().and_then(hex),
            ) {
                (b'=', Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        if !soft {
            out.extend_from_slice(ending);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_imap_proto::NonEmpty;
    use mailroom_store::facts::message_facts;

    const MSG: &[u8] = b"From: a@example.test\r\nSubject: hi\r\n there\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b--\r\n";

    fn section(part: &[u32], text: Option<SectionText>) -> Section {
        let part = part.iter().map(|&n| NonZeroU32::new(n).unwrap()).collect();
        Section::new(part, text).unwrap()
    }

    fn get(part: &[u32], text: Option<SectionText>) -> Option<String> {
        let facts = message_facts(MSG);
        section_bytes(&Bytes::from_static(MSG), &facts.body, &section(part, text))
            .map(|b| String::from_utf8(b.to_vec()).unwrap())
    }

    #[test]
    fn sections() {
        assert_eq!(get(&[], None).unwrap().len(), MSG.len());
        assert!(
            get(&[], Some(SectionText::Header))
                .unwrap()
                .ends_with("boundary=b\r\n\r\n")
        );
        assert_eq!(get(&[1], None).unwrap(), "hello");
        assert_eq!(
            get(&[1], Some(SectionText::Mime)).unwrap(),
            "Content-Type: text/plain\r\n\r\n"
        );
        assert_eq!(
            get(&[3], Some(SectionText::Header)).unwrap(),
            "Subject: inner\r\n\r\n"
        );
        assert_eq!(get(&[3], Some(SectionText::Text)).unwrap(), "inner body");
        assert_eq!(get(&[3, 1], None).unwrap(), "inner body");
        assert_eq!(get(&[9], None), None);
        assert_eq!(get(&[1], Some(SectionText::Header)), None);
        let fields = NonEmpty::new(b"SUBJECT".to_vec());
        assert_eq!(
            get(&[], Some(SectionText::HeaderFields(fields.clone()))).unwrap(),
            "Subject: hi\r\n there\r\n\r\n"
        );
        let not = get(&[], Some(SectionText::HeaderFieldsNot(fields))).unwrap();
        assert!(
            not.starts_with("From: a@example.test\r\nContent-Type"),
            "{not}"
        );
    }

    #[test]
    fn binary_and_partial() {
        let facts = message_facts(MSG);
        let msg = Bytes::from_static(MSG);
        let two = [NonZeroU32::new(2).unwrap()];
        assert_eq!(
            binary_bytes(&msg, &facts.body, &two).unwrap(),
            &b"hello"[..]
        );
        let nine = [NonZeroU32::new(9).unwrap()];
        assert_eq!(
            binary_bytes(&msg, &facts.body, &nine),
            Err(BinaryError::NoPart)
        );
        let partial = Partial {
            start: 1,
            length: std::num::NonZeroU64::new(3).unwrap(),
        };
        let hello = Bytes::from_static(b"hello");
        assert_eq!(apply_partial(hello.clone(), Some(&partial)), &b"ell"[..]);
        let past = Partial {
            start: 10,
            length: std::num::NonZeroU64::new(3).unwrap(),
        };
        assert!(apply_partial(hello, Some(&past)).is_empty());
    }

    #[test]
    fn transfer_decodings() {
        assert_eq!(decode_base64(b"aGVs\r\nbG8h"), b"hello!");
        assert_eq!(
            decode_quoted_printable(b"caf=C3=A9=\r\n!=zz"),
            "café!=zz".as_bytes()
        );
        // Trailing blanks are padding; "=" then blanks is still a soft break.
        assert_eq!(
            decode_quoted_printable(b"hello  \r\nfoo\t \t= \r\nb\r\nfoo = \t\r\nbar\r\n"),
            b"hello\r\nfoo\t \tb\r\nfoo bar\r\n"
        );
    }
}
