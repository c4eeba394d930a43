//! Stored message facts as IMAP values: ENVELOPE and BODYSTRUCTURE (RFC 9051 §7.5.2) and
//! INTERNALDATE. Names that were decoded at delivery are RFC 2047-encoded again unless the
//! client accepts UTF-8 (RFC 6855 §3).

use mailroom_imap_proto::response::{
    Address, BodyFields, BodyStructure, CommonExtension, Disposition, Envelope, MultiPartExtension,
    SinglePart, SinglePartExtension, SinglePartKind,
};
use mailroom_imap_proto::{Date, DateTime, NonEmpty};
use mailroom_store::MailDate;
use mailroom_store::facts::{self, BodyPart, EnvelopeAddress, PartChildren};

fn bytes(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn opt(s: &Option<String>) -> Option<Vec<u8>> {
    s.as_deref().map(bytes)
}

pub(crate) fn envelope(env: &facts::Envelope, utf8: bool) -> Envelope {
    let list = |addrs: &[EnvelopeAddress]| addrs.iter().map(|a| address(a, utf8)).collect();
    Envelope {
        date: opt(&env.date),
        subject: opt(&env.subject),
        from: list(&env.from),
        sender: list(&env.sender),
        reply_to: list(&env.reply_to),
        to: list(&env.to),
        cc: list(&env.cc),
        bcc: list(&env.bcc),
        in_reply_to: opt(&env.in_reply_to),
        message_id: opt(&env.message_id),
    }
}

fn address(a: &EnvelopeAddress, utf8: bool) -> Address {
    match a {
        EnvelopeAddress::Mailbox {
            name,
            adl,
            mailbox,
            host,
        } => Address {
            name: name.as_deref().map(|n| {
                if utf8 {
                    bytes(n)
                } else {
                    bytes(&encode_words(n))
                }
            }),
            adl: opt(adl),
            mailbox: opt(mailbox),
            host: opt(host),
        },
        // RFC 9051 §7.5.2: a group starts with (NIL NIL "name" NIL) and ends with all NIL.
        EnvelopeAddress::GroupStart(name) => Address {
            mailbox: Some(if utf8 {
                bytes(name)
            } else {
                bytes(&encode_words(name))
            }),
            ..Address::default()
        },
        EnvelopeAddress::GroupEnd => Address::default(),
    }
}

/// RFC 2047 §4.1 B-encoding of non-ASCII text, as encoded-words of at most 75 characters
/// (§2) that never split a character.
pub(crate) fn encode_words(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    // "=?UTF-8?B?" + "?=" is 12 characters; 45 octets encode to 60 base64 characters.
    const MAX_OCTETS: usize = 45;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > MAX_OCTETS {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                mailroom_imap_proto::base64::encode(w.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn params(list: &[(String, String)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    list.iter()
        .map(|(k, v)| (bytes(&k.to_ascii_uppercase()), bytes(v)))
        .collect()
}

fn common(part: &BodyPart) -> CommonExtension {
    CommonExtension {
        disposition: part.disposition.as_ref().map(|(kind, p)| Disposition {
            kind: bytes(kind),
            params: params(p),
        }),
        language: part.language.iter().map(|l| bytes(l)).collect(),
        location: opt(&part.location),
    }
}

/// BODYSTRUCTURE from the stored part tree; the writer leaves out the extension data for BODY.
pub(crate) fn body_structure(part: &BodyPart, utf8: bool) -> BodyStructure {
    if let PartChildren::Multipart(children) = &part.children {
        let converted: Vec<BodyStructure> =
            children.iter().map(|c| body_structure(c, utf8)).collect();
        if let Some(parts) = NonEmpty::from_vec(converted) {
            return BodyStructure::Multi {
                parts,
                subtype: bytes(&part.media_subtype.to_ascii_uppercase()),
                extension: Some(MultiPartExtension {
                    params: params(&part.params),
                    common: common(part),
                }),
            };
        }
    }
    let fields = BodyFields {
        params: params(&part.params),
        id: opt(&part.id),
        description: opt(&part.description),
        encoding: bytes(&part.encoding.to_ascii_uppercase()),
        octets: part.size(),
    };
    let subtype = bytes(&part.media_subtype.to_ascii_uppercase());
    let kind = match &part.children {
        PartChildren::Message(env, inner) => SinglePartKind::Message {
            subtype,
            envelope: Box::new(envelope(env, utf8)),
            body: Box::new(body_structure(inner, utf8)),
            lines: part.lines,
        },
        _ if part.media_type.eq_ignore_ascii_case("text") => SinglePartKind::Text {
            subtype,
            lines: part.lines,
        },
        _ => SinglePartKind::Basic {
            media_type: bytes(&part.media_type.to_ascii_uppercase()),
            subtype,
        },
    };
    BodyStructure::Single {
        part: SinglePart { kind, fields },
        extension: Some(SinglePartExtension {
            md5: opt(&part.md5),
            common: common(part),
        }),
    }
}

/// A stored date in its own zone as an IMAP date-time.
pub(crate) fn date_time(date: MailDate) -> Option<DateTime> {
    let local = date
        .seconds
        .checked_add(i64::from(date.offset_minutes) * 60)?;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let date_only = Date::new(u16::try_from(y).ok()?, m, d)?;
    DateTime::new(
        date_only,
        (secs / 3600) as u8,
        (secs / 60 % 60) as u8,
        (secs % 60) as u8,
        date.offset_minutes,
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2047_names() {
        assert_eq!(encode_words("Ann Example"), "Ann Example");
        assert_eq!(encode_words("Jöran"), "=?UTF-8?B?SsO2cmFu?=");
        let long = "ä".repeat(40);
        let encoded = encode_words(&long);
        assert!(encoded.split(' ').all(|w| w.len() <= 75), "{encoded}");
        assert_eq!(encoded.split(' ').count(), 2);
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        let dt = date_time(MailDate {
            seconds: 0,
            offset_minutes: -480,
        })
        .unwrap();
        assert_eq!(dt.to_string(), "\"31-Dec-1969 16:00:00 -0800\"");
    }
}
