//! Message bytes → [`MessageFacts`], with mail-parser doing the MIME and RFC 2047/2231 work.

use super::text;
use super::{BodyPart, Envelope, EnvelopeAddress, MessageFacts, PartChildren, SearchText};
use mail_parser::{
    Address, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};

/// Parses any bytes. Broken MIME never fails a delivery: what cannot be parsed is described as
/// one text/plain part spanning the body, so the message can still be fetched byte-exact.
pub fn message_facts(raw: &[u8]) -> MessageFacts {
    match parse(raw) {
        Some(message) if !message.parts.is_empty() => MessageFacts {
            envelope: envelope(&message),
            body: part_tree(&message, 0, raw, 0, 0),
            sent_date: message.date().map(|d| d.to_timestamp()),
            subject: message.subject().map(str::to_string),
            references: references(&message),
        },
        _ => unparsable(raw),
    }
}

/// The text the full-text index holds for a message (see [`SearchText`]). Unparsable bytes
/// are indexed as they are.
pub fn search_text(raw: &[u8]) -> SearchText {
    match parse(raw) {
        Some(message) if !message.parts.is_empty() => text::search_text(&message),
        _ => SearchText {
            headers: String::new(),
            body: String::from_utf8_lossy(raw).into_owned(),
        },
    }
}

/// mail-parser, with a panic inside it treated as "unparsable". Any bytes a sender can put in a
/// message reach this; a parser bug must cost the message its structure, not the delivery (or
/// the indexer thread). mail-parser 0.11.9 has a `debug_assert!` that some broken multiparts
/// trip (found by the `message_facts` fuzz target); release builds skip it, debug builds panic.
fn parse(raw: &[u8]) -> Option<Message<'_>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MessageParser::default().parse(raw)
    }))
    .ok()
    .flatten()
}

fn unparsable(raw: &[u8]) -> MessageFacts {
    let body_start = find_body_start(raw);
    let body = BodyPart {
        media_type: "text".into(),
        media_subtype: "plain".into(),
        params: vec![("charset".into(), "us-ascii".into())],
        encoding: "7BIT".into(),
        header_start: 0,
        body_start: clamp(body_start),
        body_end: clamp(raw.len()),
        lines: count_lines(raw.get(body_start..).unwrap_or_default()),
        ..BodyPart::default()
    };
    MessageFacts {
        body,
        ..MessageFacts::default()
    }
}

fn find_body_start(raw: &[u8]) -> usize {
    for (i, w) in raw.windows(2).enumerate() {
        if w == b"\n\n" {
            return i + 2;
        }
        if w == b"\n\r" && raw.get(i + 2) == Some(&b'\n') {
            return i + 3;
        }
    }
    raw.len()
}

fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn envelope(message: &Message<'_>) -> Envelope {
    let raw = |name: &str| {
        message
            .header_raw(name)
            .map(unfold)
            .filter(|s| !s.is_empty())
    };
    let from = addresses(message.from());
    let or_from = |list: Vec<EnvelopeAddress>| if list.is_empty() { from.clone() } else { list };
    Envelope {
        date: raw("Date"),
        subject: raw("Subject"),
        sender: or_from(addresses(message.sender())),
        reply_to: or_from(addresses(message.reply_to())),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        bcc: addresses(message.bcc()),
        in_reply_to: raw("In-Reply-To"),
        message_id: raw("Message-ID"),
        from,
    }
}

/// Removes folding line breaks and surrounding blanks (RFC 5322 §2.2.3).
fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for piece in value.split(['\r', '\n']).filter(|p| !p.is_empty()) {
        out.push_str(piece);
    }
    out.trim().to_string()
}

fn addresses(address: Option<&Address<'_>>) -> Vec<EnvelopeAddress> {
    let mut out = Vec::new();
    match address {
        None => {}
        Some(Address::List(list)) => {
            out.extend(list.iter().filter_map(|a| mailbox_entry(a, false)))
        }
        Some(Address::Group(groups)) => {
            for group in groups {
                match &group.name {
                    Some(name) => {
                        out.push(EnvelopeAddress::GroupStart(name.to_string()));
                        out.extend(
                            group
                                .addresses
                                .iter()
                                .filter_map(|a| mailbox_entry(a, true)),
                        );
                        out.push(EnvelopeAddress::GroupEnd);
                    }
                    // mail-parser puts plain addresses beside groups into a nameless group.
                    None => out.extend(
                        group
                            .addresses
                            .iter()
                            .filter_map(|a| mailbox_entry(a, false)),
                    ),
                }
            }
        }
    }
    out
}

/// Where a host is missing, as Dovecot writes it: a NIL host would make the entry a group
/// start (RFC 9051 §7.5.2).
const MISSING_DOMAIN: &str = "MISSING_DOMAIN";

/// One address of an envelope list. An entry without an address (a comment, a bare word) is
/// nothing inside a group, where it would read as an end-of-group marker; outside one, a bare
/// word is a mailbox without a domain. The obsolete route of `<@relay:user@host>`
/// (RFC 5322 §4.4) goes into the source-route field (`adl`).
fn mailbox_entry(addr: &mail_parser::Addr<'_>, in_group: bool) -> Option<EnvelopeAddress> {
    let name = addr
        .name
        .as_deref()
        .map(str::to_string)
        .filter(|n| !n.is_empty());
    let Some(address) = addr.address.as_deref().filter(|a| !a.is_empty()) else {
        return match (in_group, name) {
            (false, Some(word)) => Some(EnvelopeAddress::Mailbox {
                name: None,
                adl: None,
                mailbox: Some(word),
                host: Some(MISSING_DOMAIN.to_string()),
            }),
            _ => None,
        };
    };
    let (adl, address) = match address.strip_prefix('@').and_then(|r| r.split_once(':')) {
        Some((route, rest)) => (Some(format!("@{route}")), rest),
        None => (None, address),
    };
    let (mailbox, host) = match address.rsplit_once('@') {
        Some((local, host)) => (local.to_string(), host.to_string()),
        None => (address.to_string(), MISSING_DOMAIN.to_string()),
    };
    Some(EnvelopeAddress::Mailbox {
        name,
        adl,
        mailbox: Some(mailbox),
        host: Some(host),
    })
}

fn references(message: &Message<'_>) -> Vec<String> {
    match message.references() {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Builds the part tree rooted at `message.parts[index]`. `base` is added to offsets; it is 0
/// for parts whose offsets already count from the start of the blob.
/// Deeper MIME nesting than this is described as a leaf: real mail nests a handful of levels,
/// and every consumer of the tree (BODYSTRUCTURE, FETCH sections) recurses over it.
const MAX_PART_DEPTH: usize = 32;

fn part_tree(
    message: &Message<'_>,
    index: usize,
    blob: &[u8],
    base: u32,
    depth: usize,
) -> BodyPart {
    let Some(part) = message.parts.get(index) else {
        return BodyPart::default();
    };
    let mut out = part_fields(part, base);
    if depth >= MAX_PART_DEPTH {
        return out;
    }
    let body = blob
        .get(out.body_start as usize..out.body_end as usize)
        .unwrap_or_default();
    match &part.body {
        PartType::Multipart(children) => {
            // A part's children come after it in mail-parser's list; an index that doesn't
            // would make a cycle (the fuzzer found broken input that does), so it is skipped.
            out.children = PartChildren::Multipart(
                children
                    .iter()
                    .map(|&child| child as usize)
                    .filter(|&child| child > index)
                    .map(|child| part_tree(message, child, blob, base, depth + 1))
                    .collect(),
            );
        }
        PartType::Message(nested) if !nested.parts.is_empty() => {
            out.lines = count_lines(body);
            // An unencoded nested message is parsed in place, so its offsets already count
            // from the start of the blob. An encoded one (base64 message/rfc822, rare) was
            // parsed from decoded bytes whose offsets say nothing about the blob: it is
            // described, but its sub-parts can't be addressed by offset.
            let in_place = std::ptr::eq(nested.raw_message.as_ptr(), blob.as_ptr())
                && nested.raw_message.len() == blob.len();
            if in_place {
                out.children = PartChildren::Message(
                    Box::new(envelope(nested)),
                    Box::new(part_tree(nested, 0, blob, base, depth + 1)),
                );
            } else {
                out.media_type = "application".into();
                out.media_subtype = "octet-stream".into();
            }
        }
        _ => {
            if out.media_type == "text" {
                out.lines = count_lines(body);
            }
        }
    }
    out
}

fn part_fields(part: &MessagePart<'_>, base: u32) -> BodyPart {
    let (media_type, media_subtype, params) = match part.content_type() {
        Some(ct) => (
            ct.c_type.to_ascii_lowercase(),
            ct.c_subtype
                .as_deref()
                .map(str::to_ascii_lowercase)
                .unwrap_or_else(|| default_subtype(&ct.c_type)),
            attributes(ct.attributes.as_deref()),
        ),
        None if matches!(part.body, PartType::Message(_)) => {
            ("message".into(), "rfc822".into(), Vec::new())
        }
        None => (
            "text".into(),
            "plain".into(),
            vec![("charset".into(), "us-ascii".into())],
        ),
    };
    BodyPart {
        media_type,
        media_subtype,
        params,
        id: part.content_id().map(|s| format!("<{s}>")),
        description: part.content_description().map(str::to_string),
        encoding: part
            .content_transfer_encoding()
            .map(str::to_ascii_uppercase)
            .unwrap_or_else(|| "7BIT".into()),
        md5: part
            .headers
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case("Content-MD5"))
            .and_then(|h| h.value.as_text())
            .map(|s| s.trim().to_string()),
        disposition: part.content_disposition().map(|d| {
            (
                d.c_type.to_ascii_lowercase(),
                attributes(d.attributes.as_deref()),
            )
        }),
        language: match part.content_language() {
            HeaderValue::Text(t) => vec![t.to_string()],
            HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
            _ => Vec::new(),
        },
        location: part.content_location().map(str::to_string),
        header_start: base.saturating_add(part.offset_header),
        body_start: base.saturating_add(part.offset_body),
        body_end: base.saturating_add(part.offset_end),
        lines: 0,
        children: PartChildren::None,
    }
}

fn default_subtype(media_type: &str) -> String {
    match media_type.to_ascii_lowercase().as_str() {
        "text" => "plain",
        "multipart" => "mixed",
        _ => "octet-stream",
    }
    .to_string()
}

fn attributes(attrs: Option<&[mail_parser::Attribute<'_>]>) -> Vec<(String, String)> {
    attrs
        .unwrap_or_default()
        .iter()
        .map(|a| (a.name.to_ascii_lowercase(), a.value.to_string()))
        .collect()
}

fn count_lines(body: &[u8]) -> u32 {
    let newlines = body.iter().filter(|&&b| b == b'\n').count();
    let unterminated = usize::from(body.last().is_some_and(|&b| b != b'\n'));
    clamp(newlines + unterminated)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A broken multipart that makes mail-parser 0.11.9 panic in debug builds (a fuzz find):
    /// the message still gets facts and index text.
    #[test]
    fn a_panic_inside_the_parser_still_gives_facts() {
        let raw = include_bytes!("../../tests/fixtures/parser-debug-assert.eml");
        let facts = message_facts(raw);
        assert!(facts.body.body_end as usize <= raw.len());
        let _ = search_text(raw);
    }

    /// Broken boundaries that make mail-parser list a multipart among its own descendants (a
    /// fuzz find that overflowed the stack): the tree is cut where it would loop.
    #[test]
    fn a_part_cycle_does_not_recurse_forever() {
        let raw = include_bytes!("../../tests/fixtures/part-cycle.eml");
        let facts = message_facts(raw);
        fn depth(part: &BodyPart) -> usize {
            match &part.children {
                PartChildren::Multipart(parts) => 1 + parts.iter().map(depth).max().unwrap_or(0),
                PartChildren::Message(_, body) => 1 + depth(body),
                PartChildren::None => 1,
            }
        }
        assert!(depth(&facts.body) <= MAX_PART_DEPTH + 1);
        let _ = search_text(raw);
    }

    const SIMPLE: &[u8] = b"From: \"Ann Example\" <ann@example.test>\r\n\
To: bob@example.test, Team: carol@example.test, dave@example.test;\r\n\
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\
Date: Tue, 1 Jul 2025 10:00:00 +0200\r\n\
Message-ID: <m1@example.test>\r\n\
References: <a@x> <b@x>\r\n\
\r\n\
Hello quokka\r\nsecond line\r\n";

    #[test]
    fn envelope_of_a_simple_message() {
        let facts = message_facts(SIMPLE);
        let env = &facts.envelope;
        assert_eq!(env.subject.as_deref(), Some("=?utf-8?q?Gr=C3=BC=C3=9Fe?="));
        assert_eq!(facts.subject.as_deref(), Some("Grüße"));
        assert_eq!(env.date.as_deref(), Some("Tue, 1 Jul 2025 10:00:00 +0200"));
        assert_eq!(env.message_id.as_deref(), Some("<m1@example.test>"));
        let ann = EnvelopeAddress::Mailbox {
            name: Some("Ann Example".into()),
            adl: None,
            mailbox: Some("ann".into()),
            host: Some("example.test".into()),
        };
        assert_eq!(env.from, vec![ann.clone()]);
        assert_eq!(env.sender, vec![ann.clone()]);
        assert_eq!(env.reply_to, vec![ann]);
        assert_eq!(env.to.len(), 5, "{:?}", env.to);
        assert_eq!(env.to[1], EnvelopeAddress::GroupStart("Team".into()));
        assert_eq!(env.to[4], EnvelopeAddress::GroupEnd);
        assert_eq!(facts.sent_date, Some(1_751_356_800));
        assert_eq!(facts.references, ["a@x", "b@x"]);
        let body = &facts.body;
        assert_eq!(
            (body.media_type.as_str(), body.media_subtype.as_str()),
            ("text", "plain")
        );
        assert_eq!(
            &SIMPLE[body.body_start as usize..body.body_end as usize],
            b"Hello quokka\r\nsecond line\r\n"
        );
        assert_eq!(body.lines, 2);
        let text = search_text(SIMPLE);
        assert!(text.body.contains("quokka"));
        assert!(text.headers.contains("Grüße"));
    }

    #[test]
    fn multipart_with_nested_message() {
        let raw: &[u8] = b"From: a@example.test\r\nSubject: outer\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
preamble\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nfirst part\r\n\
--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: inner@example.test\r\nSubject: inner\r\n\r\ninner body\r\n\
--b1\r\nContent-Type: application/pdf; name=\"x.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename=\"x.pdf\"\r\n\r\nAAAA\r\n--b1--\r\n";
        let facts = message_facts(raw);
        let root = &facts.body;
        let PartChildren::Multipart(parts) = &root.children else {
            panic!("not multipart: {root:?}");
        };
        assert_eq!(parts.len(), 3);
        let slice = |part: &BodyPart| &raw[part.body_start as usize..part.body_end as usize];
        assert_eq!(slice(&parts[0]), b"first part");
        assert_eq!(
            parts[0].params,
            [("charset".to_string(), "utf-8".to_string())]
        );
        let PartChildren::Message(env, inner) = &parts[1].children else {
            panic!("not a message: {:?}", parts[1]);
        };
        assert_eq!(env.subject.as_deref(), Some("inner"));
        assert_eq!(slice(inner), b"inner body");
        assert_eq!(root.part(&[2, 1]).map(slice), Some(&b"inner body"[..]));
        assert_eq!(parts[2].encoding, "BASE64");
        assert_eq!(
            parts[2].disposition,
            Some((
                "attachment".into(),
                vec![("filename".into(), "x.pdf".into())]
            ))
        );
        assert_eq!(root.part(&[3]).map(slice), Some(&b"AAAA"[..]));
        assert!(root.part(&[4]).is_none());
        assert!(root.part(&[0]).is_none());
    }

    #[test]
    fn garbage_is_described_not_rejected() {
        for raw in [
            &b""[..],
            b"\xff\xfe\x00garbage",
            b"no header end",
            b"A: b\n\nbody",
        ] {
            let body = message_facts(raw).body;
            assert!(body.body_end as usize <= raw.len());
            assert!(body.body_start <= body.body_end);
            let _ = search_text(raw);
        }
    }

    #[test]
    fn single_part_body_is_part_one() {
        let facts = message_facts(SIMPLE);
        assert_eq!(facts.body.part(&[1]), Some(&facts.body));
        assert!(facts.body.part(&[2]).is_none());
    }

    /// RFC 9051 §7.5.2: a group's members between its start and end markers, nothing
    /// address-less inside it (a comment there would read as the group's end), a bare word
    /// outside one a mailbox without a domain (a NIL host would make it a group start), and an
    /// obsolete route in the route field.
    #[test]
    fn groups_bare_words_and_routes() {
        let facts = message_facts(
            b"From: a@b.example\r\nTo: d\r\nCc: group:;, group2: (foo) ;\r\nBcc: <@route:user@domain>\r\n\r\nx\r\n",
        );
        let env = &facts.envelope;
        let mailbox = |adl: Option<&str>, mailbox: &str, host: &str| EnvelopeAddress::Mailbox {
            name: None,
            adl: adl.map(str::to_string),
            mailbox: Some(mailbox.into()),
            host: Some(host.into()),
        };
        assert_eq!(env.to, vec![mailbox(None, "d", "MISSING_DOMAIN")]);
        assert_eq!(
            env.cc,
            vec![
                EnvelopeAddress::GroupStart("group".into()),
                EnvelopeAddress::GroupEnd,
                EnvelopeAddress::GroupStart("group2".into()),
                EnvelopeAddress::GroupEnd,
            ]
        );
        assert_eq!(env.bcc, vec![mailbox(Some("@route"), "user", "domain")]);
    }
}
