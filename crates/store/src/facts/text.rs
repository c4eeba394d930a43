//! The text of a message for the full-text index.

use super::SearchText;
use mail_parser::{HeaderValue, Message, PartType};

/// Bodies beyond this are not indexed further: the index stays bounded when someone mails a
/// book, and SEARCH still finds anything in the first megabyte.
const MAX_BODY_TEXT: usize = 1 << 20;

pub(super) fn search_text(message: &Message<'_>) -> SearchText {
    let mut out = SearchText::default();
    for header in message.headers() {
        out.headers.push_str(header.name.as_str());
        out.headers.push_str(": ");
        push_header_value(
            &mut out.headers,
            &header.value,
            message.raw_message(),
            header,
        );
        out.headers.push('\n');
    }
    push_bodies(&mut out.body, message);
    out
}

fn push_header_value(
    out: &mut String,
    value: &HeaderValue<'_>,
    raw: &[u8],
    h: &mail_parser::Header<'_>,
) {
    match value {
        HeaderValue::Text(t) => out.push_str(t),
        HeaderValue::TextList(list) => out.push_str(&list.join(" ")),
        HeaderValue::Address(addr) => {
            for a in addr.iter() {
                if let Some(name) = &a.name {
                    out.push_str(name);
                    out.push(' ');
                }
                if let Some(address) = &a.address {
                    out.push('<');
                    out.push_str(address);
                    out.push_str("> ");
                }
            }
        }
        _ => {
            let bytes = raw
                .get(h.offset_start as usize..h.offset_end as usize)
                .unwrap_or_default();
            out.push_str(String::from_utf8_lossy(bytes).trim());
        }
    }
}

fn push_bodies(out: &mut String, message: &Message<'_>) {
    for part in &message.parts {
        if out.len() >= MAX_BODY_TEXT {
            return;
        }
        match &part.body {
            PartType::Text(text) => push_capped(out, text),
            PartType::Html(html) => {
                push_capped(out, &mail_parser::decoders::html::html_to_text(html))
            }
            PartType::Message(nested) => push_bodies(out, nested),
            _ => {}
        }
    }
}

fn push_capped(out: &mut String, text: &str) {
    let room = MAX_BODY_TEXT.saturating_sub(out.len());
    let mut end = text.len().min(room);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.push_str(&text[..end]);
    out.push('\n');
}
