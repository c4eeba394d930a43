//! LIST / LSUB rows (RFC 9051 §7.3.1, RFC 5258 §4 extended data, RFC 6154
//! special-use attributes) and NAMESPACE descriptors (RFC 9051 §7.3.5).

use std::fmt;

use crate::command::mailbox::SpecialUse;
use crate::encode::Out;
use crate::error::ValueError;
use crate::types::atom::Atom;
use crate::types::mailbox::Mailbox;

/// A hierarchy delimiter: one printable ASCII character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delimiter(u8);

impl Delimiter {
    pub fn new(c: char) -> Result<Self, ValueError> {
        match u8::try_from(c) {
            Ok(b) if (0x21..=0x7e).contains(&b) => Ok(Delimiter(b)),
            _ => Err(ValueError::new("delimiter", c.to_string())),
        }
    }

    pub fn as_char(self) -> char {
        char::from(self.0)
    }

    /// `DQUOTE QUOTED-CHAR DQUOTE` / nil; `"` and `\` are escaped.
    pub(crate) fn encode(delimiter: Option<Self>, out: &mut Out) {
        match delimiter {
            None => {
                out.raw(b"NIL");
            }
            Some(Delimiter(b @ (b'"' | b'\\'))) => {
                out.raw(&[b'"', b'\\', b, b'"']);
            }
            Some(Delimiter(b)) => {
                out.raw(&[b'"', b, b'"']);
            }
        }
    }
}

/// `mbx-list-flags` entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MailboxAttr {
    NoInferiors,
    NoSelect,
    Marked,
    Unmarked,
    HasChildren,
    HasNoChildren,
    NonExistent,
    Subscribed,
    Remote,
    SpecialUse(SpecialUse),
    Other(Atom),
}

impl fmt::Display for MailboxAttr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            MailboxAttr::NoInferiors => "\\Noinferiors",
            MailboxAttr::NoSelect => "\\Noselect",
            MailboxAttr::Marked => "\\Marked",
            MailboxAttr::Unmarked => "\\Unmarked",
            MailboxAttr::HasChildren => "\\HasChildren",
            MailboxAttr::HasNoChildren => "\\HasNoChildren",
            MailboxAttr::NonExistent => "\\NonExistent",
            MailboxAttr::Subscribed => "\\Subscribed",
            MailboxAttr::Remote => "\\Remote",
            MailboxAttr::SpecialUse(special) => return special.fmt(f),
            MailboxAttr::Other(atom) => return write!(f, "\\{atom}"),
        };
        f.write_str(name)
    }
}

/// One LIST / LSUB line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    pub attributes: Vec<MailboxAttr>,
    pub delimiter: Option<Delimiter>,
    pub mailbox: Mailbox,
    /// RFC 5258 `CHILDINFO ("SUBSCRIBED")`: a descendant matched the
    /// selection criteria although this mailbox did not.
    pub child_subscribed: bool,
    /// RFC 9051 §6.3.9.7 `OLDNAME`: the name before a RENAME.
    pub old_name: Option<Mailbox>,
}

impl ListItem {
    pub fn new(
        attributes: Vec<MailboxAttr>,
        delimiter: Option<Delimiter>,
        mailbox: Mailbox,
    ) -> Self {
        ListItem {
            attributes,
            delimiter,
            mailbox,
            child_subscribed: false,
            old_name: None,
        }
    }

    pub(crate) fn encode(&self, out: &mut Out, name: &str) {
        out.str(name).sp().list(&self.attributes, |o, a| {
            o.display(a);
        });
        out.sp();
        Delimiter::encode(self.delimiter, out);
        out.sp().astring(self.mailbox.as_bytes());
        if self.child_subscribed || self.old_name.is_some() {
            out.str(" (");
            if self.child_subscribed {
                out.str("\"CHILDINFO\" (\"SUBSCRIBED\")");
            }
            if let Some(old) = &self.old_name {
                if self.child_subscribed {
                    out.sp();
                }
                out.str("\"OLDNAME\" (").astring(old.as_bytes()).raw(b")");
            }
            out.raw(b")");
        }
    }
}

/// `Namespace-Descr` without extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceDesc {
    pub prefix: Vec<u8>,
    pub delimiter: Option<Delimiter>,
}

pub(crate) fn encode_namespace(out: &mut Out, list: &[NamespaceDesc]) {
    if list.is_empty() {
        out.raw(b"NIL");
        return;
    }
    out.raw(b"(");
    for desc in list {
        out.raw(b"(").string(&desc.prefix).sp();
        Delimiter::encode(desc.delimiter, out);
        out.raw(b")");
    }
    out.raw(b")");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(f: impl FnOnce(&mut Out), utf8: bool) -> String {
        let mut out = Out::new(utf8);
        f(&mut out);
        String::from_utf8(crate::encode::flatten(out.finish()).unwrap()).unwrap()
    }

    fn slash() -> Option<Delimiter> {
        Delimiter::new('/').ok()
    }

    #[test]
    fn utf8_mailbox_names() {
        let item = ListItem::new(vec![], slash(), Mailbox::new("Entwürfe"));
        assert_eq!(
            write(|o| item.encode(o, "LIST"), true),
            "LIST () \"/\" \"Entwürfe\""
        );
        assert_eq!(
            write(|o| item.encode(o, "LIST"), false),
            "LIST () \"/\" {9}\r\nEntwürfe"
        );
    }

    #[test]
    fn delimiter_validation() {
        assert!(Delimiter::new(' ').is_err());
        assert!(Delimiter::new('é').is_err());
        assert_eq!(Delimiter::new('.').map(Delimiter::as_char), Ok('.'));
    }

    #[test]
    fn namespaces() {
        let descs = vec![
            NamespaceDesc {
                prefix: b"".to_vec(),
                delimiter: slash(),
            },
            NamespaceDesc {
                prefix: b"#news.".to_vec(),
                delimiter: Delimiter::new('.').ok(),
            },
            NamespaceDesc {
                prefix: b"#ftp".to_vec(),
                delimiter: None,
            },
        ];
        assert_eq!(
            write(|o| encode_namespace(o, &descs), false),
            "((\"\" \"/\")(\"#news.\" \".\")(\"#ftp\" NIL))"
        );
        assert_eq!(write(|o| encode_namespace(o, &[]), false), "NIL");
    }
}
