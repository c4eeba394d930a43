//! IMAP URLs (RFC 5092) as CATENATE (RFC 4469) uses them: a message, or a part of it, in one of
//! the user's own mailboxes — `imap://user@host/INBOX;UIDVALIDITY=7/;UID=20/;SECTION=1.2`
//! or the same from the `/` on. Percent-encoding is undone; the mailbox name is UTF-8
//! (RFC 5092 §5 converts modified UTF-7 names).

use crate::command::fetch::{Partial, Section};
use crate::cursor::Cursor;
use std::num::{NonZeroU32, NonZeroU64};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapUrl {
    /// `user` of an absolute URL's `iuserinfo`, when given.
    pub user: Option<String>,
    pub mailbox: String,
    pub uid_validity: Option<NonZeroU32>,
    pub uid: NonZeroU32,
    pub section: Option<Section>,
    pub partial: Option<Partial>,
}

impl ImapUrl {
    /// None for anything that is not a message URL of this form.
    pub fn parse(raw: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(raw).ok()?;
        let (user, path) = match text.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("imap://") => {
                let rest = &text[7..];
                let slash = rest.find('/')?;
                let authority = &rest[..slash];
                let user = match authority.rsplit_once('@') {
                    Some((info, _)) => {
                        Some(percent_decode(info.split(';').next().unwrap_or(info))?)
                    }
                    None => None,
                };
                (user, &rest[slash..])
            }
            _ => (None, text),
        };
        let path = path.strip_prefix('/')?;
        // "mailbox[;UIDVALIDITY=n]" "/;UID=n" ["/;SECTION=s"] ["/;PARTIAL=o[.l]"]
        let mut pieces = path.split("/;");
        let mailbox_part = pieces.next()?;
        let (mailbox, uid_validity) = match find_ci(mailbox_part, ";UIDVALIDITY=") {
            Some(at) => (
                &mailbox_part[..at],
                Some(mailbox_part[at + 13..].parse::<NonZeroU32>().ok()?),
            ),
            None => (mailbox_part, None),
        };
        let mut uid = None;
        let mut section = None;
        let mut partial = None;
        for piece in pieces {
            let (key, value) = piece.split_once('=')?;
            match key.to_ascii_uppercase().as_str() {
                "UID" if uid.is_none() => uid = Some(value.parse::<NonZeroU32>().ok()?),
                "SECTION" if section.is_none() => section = Some(parse_section(value)?),
                "PARTIAL" if partial.is_none() => partial = Some(parse_partial(value)?),
                _ => return None,
            }
        }
        Some(ImapUrl {
            user,
            mailbox: percent_decode(mailbox)?,
            uid_validity,
            uid: uid?,
            section,
            partial,
        })
    }
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .to_ascii_uppercase()
        .find(&needle.to_ascii_uppercase())
}

/// `enc-section`: percent-decoded, then read as a FETCH section would be.
fn parse_section(value: &str) -> Option<Section> {
    let decoded = percent_decode(value)?;
    let framed = format!("{decoded}]");
    let mut c = Cursor::new(framed.as_bytes());
    let section = Section::parse(&mut c).ok()?;
    c.rest().is_empty().then_some(section)
}

/// `partial-range = number ["." nz-number]`: from an offset, to the end or for a length.
fn parse_partial(value: &str) -> Option<Partial> {
    let (start, length) = match value.split_once('.') {
        Some((s, l)) => (s.parse().ok()?, l.parse::<NonZeroU64>().ok()?),
        None => (value.parse().ok()?, NonZeroU64::MAX),
    };
    Some(Partial { start, length })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::fetch::SectionText;

    #[test]
    fn message_urls() {
        let url = ImapUrl::parse(b"/INBOX;UIDVALIDITY=7/;UID=20/;SECTION=1.2").unwrap();
        assert_eq!(url.mailbox, "INBOX");
        assert_eq!(url.uid_validity.map(|n| n.get()), Some(7));
        assert_eq!(url.uid.get(), 20);
        let section = url.section.unwrap();
        assert_eq!(section.part().len(), 2);
        let url = ImapUrl::parse(
            b"imap://ann%40example.test;AUTH=*@mail.example/Work%20Stuff/;uid=3/;section=header",
        )
        .unwrap();
        assert_eq!(url.user.as_deref(), Some("ann@example.test"));
        assert_eq!(url.mailbox, "Work Stuff");
        assert_eq!(url.section.unwrap().text(), Some(&SectionText::Header));
        let url = ImapUrl::parse(b"/INBOX/;UID=2/;PARTIAL=100000.1").unwrap();
        assert_eq!(url.partial.map(|p| p.start), Some(100_000));
        for bad in [
            &b"INBOX/;UID=1"[..],
            b"/INBOX",
            b"/INBOX/;UID=0",
            b"/INBOX/;UID=1/;FOO=2",
            b"/INBOX/;UID=1/;SECTION=x(",
        ] {
            assert!(
                ImapUrl::parse(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
