//! ENVELOPE and BODY / BODYSTRUCTURE values (RFC 9051 §7.5.2, formal
//! syntax `envelope`, `body`). The server fills these from its MIME parser;
//! this module only writes them.

use crate::encode::Out;
use crate::types::nonempty::NonEmpty;

/// `envelope`. Strings are raw header octets (RFC 2047 encoded words are
/// passed through undecoded, as RFC 9051 §7.5.2 requires).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    pub date: Option<Vec<u8>>,
    pub subject: Option<Vec<u8>>,
    pub from: Vec<Address>,
    /// RFC 9051 §7.5.2: the server sets Sender and Reply-To to From when
    /// the header is absent; that is the caller's job.
    pub sender: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub in_reply_to: Option<Vec<u8>>,
    pub message_id: Option<Vec<u8>>,
}

/// `address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"`.
/// A group is written as a start marker (host NIL, mailbox = group name)
/// and an end marker (host and mailbox NIL).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub name: Option<Vec<u8>>,
    /// Source route; obsolete, normally NIL.
    pub adl: Option<Vec<u8>>,
    pub mailbox: Option<Vec<u8>>,
    pub host: Option<Vec<u8>>,
}

impl Address {
    pub fn new(name: Option<&[u8]>, mailbox: &[u8], host: &[u8]) -> Self {
        Address {
            name: name.map(<[u8]>::to_vec),
            adl: None,
            mailbox: Some(mailbox.to_vec()),
            host: Some(host.to_vec()),
        }
    }
}

/// `body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyStructure {
    Single {
        part: SinglePart,
        extension: Option<SinglePartExtension>,
    },
    Multi {
        parts: NonEmpty<BodyStructure>,
        subtype: Vec<u8>,
        extension: Option<MultiPartExtension>,
    },
}

/// A leaf part: its media type and `body-fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinglePart {
    pub kind: SinglePartKind,
    pub fields: BodyFields,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinglePartKind {
    /// `body-type-basic`: any type other than TEXT and MESSAGE/RFC822.
    Basic {
        media_type: Vec<u8>,
        subtype: Vec<u8>,
    },
    /// `body-type-text` with its line count.
    Text { subtype: Vec<u8>, lines: u32 },
    /// `body-type-msg`: MESSAGE/RFC822 or MESSAGE/GLOBAL (RFC 6532).
    Message {
        subtype: Vec<u8>,
        envelope: Box<Envelope>,
        body: Box<BodyStructure>,
        lines: u32,
    },
}

/// `body-fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyFields {
    pub params: Vec<(Vec<u8>, Vec<u8>)>,
    pub id: Option<Vec<u8>>,
    pub description: Option<Vec<u8>>,
    /// Content-Transfer-Encoding, e.g. `7BIT` (the default when absent).
    pub encoding: Vec<u8>,
    pub octets: u32,
}

/// `body-ext-1part`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SinglePartExtension {
    pub md5: Option<Vec<u8>>,
    pub common: CommonExtension,
}

/// `body-ext-mpart`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MultiPartExtension {
    pub params: Vec<(Vec<u8>, Vec<u8>)>,
    pub common: CommonExtension,
}

/// Disposition, language and location, shared by both extension kinds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommonExtension {
    pub disposition: Option<Disposition>,
    /// Content-Language tags; empty is NIL.
    pub language: Vec<Vec<u8>>,
    pub location: Option<Vec<u8>>,
}

/// `body-fld-dsp = "(" string SP body-fld-param ")"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposition {
    pub kind: Vec<u8>,
    pub params: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Envelope {
    pub(crate) fn encode(&self, out: &mut Out) {
        out.raw(b"(")
            .nstring(self.date.as_deref())
            .sp()
            .nstring(self.subject.as_deref());
        for list in [
            &self.from,
            &self.sender,
            &self.reply_to,
            &self.to,
            &self.cc,
            &self.bcc,
        ] {
            out.sp();
            if list.is_empty() {
                out.raw(b"NIL");
            } else {
                // `"(" 1*address ")"`: addresses are not separated by SP.
                out.raw(b"(");
                for address in list {
                    address.encode(out);
                }
                out.raw(b")");
            }
        }
        out.sp()
            .nstring(self.in_reply_to.as_deref())
            .sp()
            .nstring(self.message_id.as_deref())
            .raw(b")");
    }
}

impl Address {
    fn encode(&self, out: &mut Out) {
        out.raw(b"(")
            .nstring(self.name.as_deref())
            .sp()
            .nstring(self.adl.as_deref())
            .sp()
            .nstring(self.mailbox.as_deref())
            .sp()
            .nstring(self.host.as_deref())
            .raw(b")");
    }
}

/// `body-fld-param = "(" string SP string *(SP string SP string) ")" / nil`.
fn encode_params(out: &mut Out, params: &[(Vec<u8>, Vec<u8>)]) {
    if params.is_empty() {
        out.raw(b"NIL");
    } else {
        out.list(params, |o, (key, value)| {
            o.string(key).sp().string(value);
        });
    }
}

impl CommonExtension {
    /// `SP body-fld-dsp SP body-fld-lang SP body-fld-loc`.
    fn encode(&self, out: &mut Out) {
        out.sp();
        match &self.disposition {
            None => {
                out.raw(b"NIL");
            }
            Some(d) => {
                out.raw(b"(").string(&d.kind).sp();
                encode_params(out, &d.params);
                out.raw(b")");
            }
        }
        out.sp();
        match self.language.as_slice() {
            [] => {
                out.raw(b"NIL");
            }
            [one] => {
                out.string(one);
            }
            many => {
                out.list(many, |o, l| {
                    o.string(l);
                });
            }
        }
        out.sp().nstring(self.location.as_deref());
    }
}

impl BodyStructure {
    /// Writes BODYSTRUCTURE (`extensible`) or BODY (without extension data,
    /// also for nested message parts).
    pub(crate) fn encode(&self, out: &mut Out, extensible: bool) {
        out.raw(b"(");
        match self {
            BodyStructure::Single { part, extension } => {
                part.encode(out, extensible);
                if let (true, Some(ext)) = (extensible, extension) {
                    out.sp().nstring(ext.md5.as_deref());
                    ext.common.encode(out);
                }
            }
            BodyStructure::Multi {
                parts,
                subtype,
                extension,
            } => {
                // `1*body SP media-subtype`: parts are not separated by SP.
                for part in parts {
                    part.encode(out, extensible);
                }
                out.sp().string(subtype);
                if let (true, Some(ext)) = (extensible, extension) {
                    out.sp();
                    encode_params(out, &ext.params);
                    ext.common.encode(out);
                }
            }
        }
        out.raw(b")");
    }
}

impl SinglePart {
    fn encode(&self, out: &mut Out, extensible: bool) {
        match &self.kind {
            SinglePartKind::Basic {
                media_type,
                subtype,
            } => {
                out.string(media_type).sp().string(subtype).sp();
                self.fields.encode(out);
            }
            SinglePartKind::Text { subtype, lines } => {
                out.str("\"TEXT\" ").string(subtype).sp();
                self.fields.encode(out);
                out.sp().display(lines);
            }
            SinglePartKind::Message {
                subtype,
                envelope,
                body,
                lines,
            } => {
                out.str("\"MESSAGE\" ").string(subtype).sp();
                self.fields.encode(out);
                out.sp();
                envelope.encode(out);
                out.sp();
                body.encode(out, extensible);
                out.sp().display(lines);
            }
        }
    }
}

impl BodyFields {
    fn encode(&self, out: &mut Out) {
        encode_params(out, &self.params);
        out.sp()
            .nstring(self.id.as_deref())
            .sp()
            .nstring(self.description.as_deref())
            .sp()
            .string(&self.encoding)
            .sp()
            .display(self.octets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Vec<u8> {
        v.as_bytes().to_vec()
    }

    fn write(f: impl FnOnce(&mut Out)) -> String {
        let mut out = Out::new(false);
        f(&mut out);
        String::from_utf8(crate::encode::flatten(out.finish()).unwrap()).unwrap()
    }

    fn text_part(subtype: &str, octets: u32, lines: u32) -> SinglePart {
        SinglePart {
            kind: SinglePartKind::Text {
                subtype: s(subtype),
                lines,
            },
            fields: BodyFields {
                params: vec![(s("CHARSET"), s("US-ASCII"))],
                id: None,
                description: None,
                encoding: s("7BIT"),
                octets,
            },
        }
    }

    #[test]
    fn envelope_rfc9051_example() {
        // RFC 9051 §7.5.2 / RFC 3501 §6.4.5 example message.
        let env = Envelope {
            date: Some(s("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)")),
            subject: Some(s("IMAP4rev2 WG mtg summary and minutes")),
            from: vec![Address::new(
                Some(b"Terry Gray"),
                b"gray",
                b"cac.washington.edu",
            )],
            sender: vec![Address::new(
                Some(b"Terry Gray"),
                b"gray",
                b"cac.washington.edu",
            )],
            reply_to: vec![Address::new(
                Some(b"Terry Gray"),
                b"gray",
                b"cac.washington.edu",
            )],
            to: vec![Address::new(None, b"imap", b"cac.washington.edu")],
            cc: vec![
                Address::new(None, b"minutes", b"CNRI.Reston.VA.US"),
                Address::new(Some(b"John Klensin"), b"KLENSIN", b"MIT.EDU"),
            ],
            bcc: vec![],
            in_reply_to: None,
            message_id: Some(s("<B27397-0100000@cac.washington.edu>")),
        };
        assert_eq!(
            write(|o| env.encode(o)),
            "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev2 WG mtg summary and minutes\" \
             ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
             ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) \
             ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \
             \"<B27397-0100000@cac.washington.edu>\")"
        );
        assert_eq!(
            write(|o| Envelope::default().encode(o)),
            "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
        );
    }

    #[test]
    fn group_address_and_literal_subject() {
        let env = Envelope {
            subject: Some(s("quote \" inside")),
            to: vec![
                Address {
                    mailbox: Some(s("undisclosed-recipients")),
                    ..Address::default()
                },
                Address::default(),
            ],
            ..Envelope::default()
        };
        assert_eq!(
            write(|o| env.encode(o)),
            "(NIL {14}\r\nquote \" inside NIL NIL NIL ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)"
        );
    }

    #[test]
    fn single_text_part() {
        let body = BodyStructure::Single {
            part: text_part("PLAIN", 3028, 92),
            extension: None,
        };
        let expected = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92)";
        assert_eq!(write(|o| body.encode(o, false)), expected);
        assert_eq!(write(|o| body.encode(o, true)), expected);
        let with_ext = BodyStructure::Single {
            part: text_part("PLAIN", 3028, 92),
            extension: Some(SinglePartExtension {
                md5: Some(s("Q2hlY2sgSW50ZWdyaXR5IQ==")),
                common: CommonExtension {
                    disposition: Some(Disposition {
                        kind: s("inline"),
                        params: vec![],
                    }),
                    language: vec![s("en"), s("de")],
                    location: Some(s("http://example.com/x")),
                },
            }),
        };
        assert_eq!(
            write(|o| with_ext.encode(o, true)),
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"inline\" NIL) (\"en\" \"de\") \"http://example.com/x\")"
        );
        assert_eq!(write(|o| with_ext.encode(o, false)), expected);
    }

    #[test]
    fn multipart_with_message_part() {
        let inner = BodyStructure::Single {
            part: text_part("PLAIN", 10, 1),
            extension: Some(SinglePartExtension::default()),
        };
        let message = SinglePart {
            kind: SinglePartKind::Message {
                subtype: s("RFC822"),
                envelope: Box::default(),
                body: Box::new(inner),
                lines: 5,
            },
            fields: BodyFields {
                params: vec![],
                id: Some(s("<id@x>")),
                description: Some(s("fwd")),
                encoding: s("7BIT"),
                octets: 200,
            },
        };
        let image = SinglePart {
            kind: SinglePartKind::Basic {
                media_type: s("IMAGE"),
                subtype: s("PNG"),
            },
            fields: BodyFields {
                params: vec![(s("NAME"), s("a.png"))],
                id: None,
                description: None,
                encoding: s("BASE64"),
                octets: 4554,
            },
        };
        let body = BodyStructure::Multi {
            parts: NonEmpty::from_vec(vec![
                BodyStructure::Single {
                    part: text_part("PLAIN", 1152, 23),
                    extension: None,
                },
                BodyStructure::Single {
                    part: message,
                    extension: None,
                },
                BodyStructure::Single {
                    part: image,
                    extension: Some(SinglePartExtension {
                        md5: None,
                        common: CommonExtension {
                            disposition: Some(Disposition {
                                kind: s("attachment"),
                                params: vec![(s("filename"), s("a.png"))],
                            }),
                            language: vec![s("en")],
                            location: None,
                        },
                    }),
                },
            ])
            .unwrap(),
            subtype: s("MIXED"),
            extension: Some(MultiPartExtension {
                params: vec![(s("BOUNDARY"), s("xyz"))],
                common: CommonExtension::default(),
            }),
        };
        let env = "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)";
        assert_eq!(
            write(|o| body.encode(o, false)),
            format!(
                "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)\
                 (\"MESSAGE\" \"RFC822\" NIL \"<id@x>\" \"fwd\" \"7BIT\" 200 {env} (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 1) 5)\
                 (\"IMAGE\" \"PNG\" (\"NAME\" \"a.png\") NIL NIL \"BASE64\" 4554) \"MIXED\")"
            )
        );
        assert_eq!(
            write(|o| body.encode(o, true)),
            format!(
                "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)\
                 (\"MESSAGE\" \"RFC822\" NIL \"<id@x>\" \"fwd\" \"7BIT\" 200 {env} (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL) 5)\
                 (\"IMAGE\" \"PNG\" (\"NAME\" \"a.png\") NIL NIL \"BASE64\" 4554 NIL (\"attachment\" (\"filename\" \"a.png\")) \"en\" NIL) \"MIXED\" (\"BOUNDARY\" \"xyz\") NIL NIL NIL)"
            )
        );
    }
}
