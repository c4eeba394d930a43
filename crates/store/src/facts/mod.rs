//! The facts IMAP needs about a message, computed once at delivery so that FETCH ENVELOPE,
//! BODYSTRUCTURE, SORT and SEARCH never re-parse the message.

mod parse;
mod text;

pub use parse::{message_facts, search_text};

use serde::{Deserialize, Serialize};

/// Parsed once at delivery and stored beside the message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MessageFacts {
    pub envelope: Envelope,
    pub body: BodyPart,
    /// The Date: header as Unix seconds (SEARCH SENT*, SORT DATE).
    #[serde(default)]
    pub sent_date: Option<i64>,
    /// The subject with RFC 2047 words decoded (SORT SUBJECT, THREAD, recovery listings).
    #[serde(default)]
    pub subject: Option<String>,
    /// Message-IDs from References (THREAD=REFERENCES), oldest first.
    #[serde(default)]
    pub references: Vec<String>,
}

impl MessageFacts {
    /// The calendar date of the Date: header in the header's own time zone, as (year, month,
    /// day): SEARCH SENTBEFORE/SENTON/SENTSINCE compare it "disregarding time and timezone"
    /// (RFC 9051 §6.4.4), so `Sun, 25 Mar 2007 00:30 +0200` is on 25 March, not on the 24th
    /// it is in UTC.
    pub fn sent_day(&self) -> Option<(u16, u8, u8)> {
        let date = mail_parser::DateTime::parse_rfc822(self.envelope.date.as_deref()?)?;
        let valid = (1..=12).contains(&date.month) && (1..=31).contains(&date.day);
        valid.then_some((date.year, date.month, date.day))
    }
}

/// The RFC 9051 §7.5.2 envelope. String fields hold the header values unfolded but not decoded,
/// as IMAP sends them; address display names are decoded (the IMAP writer re-encodes them when
/// the client has not enabled UTF-8).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Envelope {
    pub date: Option<String>,
    pub subject: Option<String>,
    pub from: Vec<EnvelopeAddress>,
    /// Defaults to `from` when absent, as §7.5.2 requires.
    pub sender: Vec<EnvelopeAddress>,
    /// Defaults to `from` when absent, as §7.5.2 requires.
    pub reply_to: Vec<EnvelopeAddress>,
    pub to: Vec<EnvelopeAddress>,
    pub cc: Vec<EnvelopeAddress>,
    pub bcc: Vec<EnvelopeAddress>,
    pub in_reply_to: Option<String>,
    pub message_id: Option<String>,
}

/// One entry of an address list; RFC 5322 groups are framed by start and end markers as IMAP
/// writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnvelopeAddress {
    Mailbox {
        name: Option<String>,
        /// The obsolete source route (`@relay`), RFC 9051 §7.5.2 `addr-adl`.
        #[serde(default)]
        adl: Option<String>,
        mailbox: Option<String>,
        host: Option<String>,
    },
    GroupStart(String),
    GroupEnd,
}

/// One MIME part with what BODYSTRUCTURE reports and where its bytes are in the blob.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BodyPart {
    /// Lower-case media type and subtype, e.g. "text" / "plain".
    pub media_type: String,
    pub media_subtype: String,
    /// Content-Type parameters (RFC 2231 continuations joined and decoded).
    pub params: Vec<(String, String)>,
    pub id: Option<String>,
    pub description: Option<String>,
    /// Content-Transfer-Encoding as given, "7BIT" when absent.
    pub encoding: String,
    pub md5: Option<String>,
    pub disposition: Option<(String, Vec<(String, String)>)>,
    pub language: Vec<String>,
    pub location: Option<String>,
    /// Byte offsets into the blob: the part's header starts at `header_start`, its body spans
    /// `body_start..body_end`.
    pub header_start: u32,
    pub body_start: u32,
    pub body_end: u32,
    /// Lines in the body, reported for text/* and message/rfc822.
    pub lines: u32,
    pub children: PartChildren,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PartChildren {
    #[default]
    None,
    /// The parts of a multipart/*.
    Multipart(Vec<BodyPart>),
    /// The envelope and top-level part of a message/rfc822 (or global) part.
    Message(Box<Envelope>, Box<BodyPart>),
}

impl BodyPart {
    pub fn size(&self) -> u32 {
        self.body_end.saturating_sub(self.body_start)
    }

    pub fn is_multipart(&self) -> bool {
        matches!(self.children, PartChildren::Multipart(_))
    }

    /// The part at an IMAP section path such as [1, 2] for "1.2" (RFC 9051 §6.4.5).
    /// A non-multipart message has its body as part 1 (a message/rfc822 body too: part 1 is
    /// then the whole encapsulated message); a message/rfc822 part's own numbers (N.1, N.2 …)
    /// are the parts of the message inside it.
    pub fn part(&self, path: &[u32]) -> Option<&BodyPart> {
        let Some((&first, rest)) = path.split_first() else {
            return Some(self);
        };
        let index = usize::try_from(first).ok()?.checked_sub(1)?;
        let next = match &self.children {
            PartChildren::Multipart(parts) => parts.get(index)?,
            PartChildren::Message(..) | PartChildren::None if index == 0 => self,
            PartChildren::Message(..) | PartChildren::None => return None,
        };
        if rest.is_empty() {
            Some(next)
        } else {
            match &next.children {
                PartChildren::Message(_, body) => body.part(rest),
                _ => next.part(rest),
            }
        }
    }
}

/// Text a full-text index holds for SEARCH TEXT/BODY: decoded header values and the decoded text
/// of the text parts (HTML reduced to text).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchText {
    pub headers: String,
    pub body: String,
}
