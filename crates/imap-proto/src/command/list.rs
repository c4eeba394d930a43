//! LIST (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258), SPECIAL-USE
//! (RFC 6154 §5) and LIST-STATUS (RFC 5819); LSUB (RFC 3501 §6.3.9).

use crate::command::mailbox::StatusItem;
use crate::cursor::{Cursor, PResult};
use crate::encode::Out;
use crate::error::ParseError;
use crate::types::nonempty::NonEmpty;

/// `list-select-opt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListSelect {
    Subscribed,
    Remote,
    RecursiveMatch,
    /// RFC 6154 §5.3.
    SpecialUse,
}

/// `return-option`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListReturn {
    Subscribed,
    Children,
    /// RFC 6154 §5.2.
    SpecialUse,
    /// RFC 5819: STATUS data for each listed mailbox.
    Status(NonEmpty<StatusItem>),
}

/// A LIST command. A basic `LIST ref pattern` has no selection or return
/// options and one pattern; the extended forms are normalised the same
/// way (`LIST () ...` and `RETURN ()` are the basic behaviour, RFC 5258 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    pub selection: Vec<ListSelect>,
    /// Reference name: raw octets (a `mailbox` in the grammar, not
    /// INBOX-normalised because it is a prefix).
    pub reference: Vec<u8>,
    /// `mbox-or-pat`: one or more patterns with `%` / `*` wildcards.
    pub patterns: NonEmpty<Vec<u8>>,
    pub return_opts: Vec<ListReturn>,
}

impl List {
    /// After `LIST`.
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        c.sp()?;
        let mut selection = Vec::new();
        if c.peek()? == b'(' {
            selection = c.paren_list(true, |c| {
                Ok(match c.word()?.to_ascii_uppercase().as_str() {
                    "SUBSCRIBED" => ListSelect::Subscribed,
                    "REMOTE" => ListSelect::Remote,
                    "RECURSIVEMATCH" => ListSelect::RecursiveMatch,
                    "SPECIAL-USE" => ListSelect::SpecialUse,
                    _ => return c.syntax("list selection option"),
                })
            })?;
            // RFC 5258 §3: RECURSIVEMATCH needs a base option to modify.
            if selection.contains(&ListSelect::RecursiveMatch)
                && !selection
                    .iter()
                    .any(|s| matches!(s, ListSelect::Subscribed | ListSelect::SpecialUse))
            {
                return Err(
                    ParseError::Invalid("RECURSIVEMATCH without a base selection option").into(),
                );
            }
            c.sp()?;
        }
        let reference = c.astring()?;
        c.sp()?;
        let patterns = if c.peek()? == b'(' {
            let list = c.paren_list(false, Cursor::list_mailbox)?;
            match NonEmpty::from_vec(list) {
                Some(list) => list,
                None => return c.syntax("pattern"),
            }
        } else {
            NonEmpty::new(c.list_mailbox()?)
        };
        let mut return_opts = Vec::new();
        if c.peek()? == b' ' {
            c.sp()?;
            if !c.word()?.eq_ignore_ascii_case("RETURN") {
                return c.syntax("RETURN");
            }
            c.sp()?;
            return_opts = c.paren_list(true, |c| {
                Ok(match c.word()?.to_ascii_uppercase().as_str() {
                    "SUBSCRIBED" => ListReturn::Subscribed,
                    "CHILDREN" => ListReturn::Children,
                    "SPECIAL-USE" => ListReturn::SpecialUse,
                    "STATUS" => {
                        c.sp()?;
                        ListReturn::Status(StatusItem::parse_list(c)?)
                    }
                    _ => return c.syntax("list return option"),
                })
            })?;
        }
        Ok(List {
            selection,
            reference,
            patterns,
            return_opts,
        })
    }

    /// True when any LIST-EXTENDED feature is used; the server then
    /// answers in extended form (RFC 5258 §3).
    pub fn is_extended(&self) -> bool {
        !self.selection.is_empty() || self.patterns.len() > 1 || !self.return_opts.is_empty()
    }

    pub(crate) fn encode(&self, out: &mut Out) {
        out.str("LIST ");
        if !self.selection.is_empty() {
            out.list(&self.selection, |o, s| {
                o.str(match s {
                    ListSelect::Subscribed => "SUBSCRIBED",
                    ListSelect::Remote => "REMOTE",
                    ListSelect::RecursiveMatch => "RECURSIVEMATCH",
                    ListSelect::SpecialUse => "SPECIAL-USE",
                });
            })
            .sp();
        }
        out.astring(&self.reference).sp();
        match self.patterns.as_slice_single() {
            Some(pattern) => encode_pattern(out, pattern),
            None => {
                out.list(&self.patterns, |o, p| encode_pattern(o, p));
            }
        }
        if !self.return_opts.is_empty() {
            out.str(" RETURN ").list(&self.return_opts, |o, r| match r {
                ListReturn::Subscribed => {
                    o.str("SUBSCRIBED");
                }
                ListReturn::Children => {
                    o.str("CHILDREN");
                }
                ListReturn::SpecialUse => {
                    o.str("SPECIAL-USE");
                }
                ListReturn::Status(items) => {
                    o.str("STATUS ");
                    StatusItem::encode_list(o, items);
                }
            });
        }
    }
}

trait SingleExt<T> {
    fn as_slice_single(&self) -> Option<&T>;
}

impl<T> SingleExt<T> for NonEmpty<T> {
    fn as_slice_single(&self) -> Option<&T> {
        match &self[..] {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// `list-mailbox = 1*list-char / string`.
pub(crate) fn encode_pattern(out: &mut Out, pattern: &[u8]) {
    if !pattern.is_empty()
        && pattern
            .iter()
            .all(|&b| crate::types::chars::is_list_char(b))
    {
        out.raw(pattern);
    } else {
        out.string(pattern);
    }
}

/// After `LSUB`: `SP mailbox SP list-mailbox`.
pub(crate) fn parse_lsub(c: &mut Cursor) -> PResult<(Vec<u8>, Vec<u8>)> {
    c.sp()?;
    let reference = c.astring()?;
    c.sp()?;
    Ok((reference, c.list_mailbox()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;

    fn list(input: &str) -> PResult<List> {
        List::parse(&mut Cursor::new(format!(" {input}\r\n").as_bytes()))
    }

    fn pats(p: &[&str]) -> NonEmpty<Vec<u8>> {
        NonEmpty::from_vec(p.iter().map(|s| s.as_bytes().to_vec()).collect()).unwrap()
    }

    #[test]
    fn list_forms() {
        let status =
            |items: Vec<StatusItem>| ListReturn::Status(NonEmpty::from_vec(items).unwrap());
        let cases: Vec<(&str, List)> = vec![
            (
                "\"\" \"\"",
                List {
                    selection: vec![],
                    reference: vec![],
                    patterns: pats(&[""]),
                    return_opts: vec![],
                },
            ),
            (
                "/usr/staff/jones \"\"",
                List {
                    selection: vec![],
                    reference: b"/usr/staff/jones".to_vec(),
                    patterns: pats(&[""]),
                    return_opts: vec![],
                },
            ),
            (
                "~/Mail/ %",
                List {
                    selection: vec![],
                    reference: b"~/Mail/".to_vec(),
                    patterns: pats(&["%"]),
                    return_opts: vec![],
                },
            ),
            (
                "\"\" *",
                List {
                    selection: vec![],
                    reference: vec![],
                    patterns: pats(&["*"]),
                    return_opts: vec![],
                },
            ),
            (
                "(SUBSCRIBED) \"\" \"*\"",
                List {
                    selection: vec![ListSelect::Subscribed],
                    reference: vec![],
                    patterns: pats(&["*"]),
                    return_opts: vec![],
                },
            ),
            (
                "(SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)",
                List {
                    selection: vec![ListSelect::Subscribed, ListSelect::RecursiveMatch],
                    reference: vec![],
                    patterns: pats(&["%"]),
                    return_opts: vec![ListReturn::Children],
                },
            ),
            (
                "(REMOTE) \"\" (\"INBOX\" \"Drafts\" Sent/%)",
                List {
                    selection: vec![ListSelect::Remote],
                    reference: vec![],
                    patterns: pats(&["INBOX", "Drafts", "Sent/%"]),
                    return_opts: vec![],
                },
            ),
            (
                "\"\" % RETURN (SUBSCRIBED SPECIAL-USE STATUS (MESSAGES UNSEEN))",
                List {
                    selection: vec![],
                    reference: vec![],
                    patterns: pats(&["%"]),
                    return_opts: vec![
                        ListReturn::Subscribed,
                        ListReturn::SpecialUse,
                        status(vec![StatusItem::Messages, StatusItem::Unseen]),
                    ],
                },
            ),
            (
                "(SPECIAL-USE) \"\" \"*\" RETURN ()",
                List {
                    selection: vec![ListSelect::SpecialUse],
                    reference: vec![],
                    patterns: pats(&["*"]),
                    return_opts: vec![],
                },
            ),
            (
                "() \"\" {3}\r\nfoo",
                List {
                    selection: vec![],
                    reference: vec![],
                    patterns: pats(&["foo"]),
                    return_opts: vec![],
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(list(input), Ok(expected.clone()), "{input}");
            let mut out = Out::new(false);
            expected.encode(&mut out);
            let bytes = crate::encode::flatten(out.finish()).unwrap();
            let again = List::parse(&mut Cursor::new(&[&bytes[4..], b"\r\n"].concat()));
            assert_eq!(again, Ok(expected), "round trip {input}");
        }
        assert!(list("(SUBSCRIBED) \"\" *").unwrap().is_extended());
        assert!(!list("\"\" *").unwrap().is_extended());
    }

    #[test]
    fn list_errors() {
        for bad in [
            "(RECURSIVEMATCH) \"\" *",
            "(REMOTE RECURSIVEMATCH) \"\" *",
            "(FOO) \"\" *",
            "\"\" () ",
            "\"\" * RETURN (FOO)",
            "\"\" * FOO (CHILDREN)",
            "\"\" * RETURN (STATUS ())",
            "\"\"",
        ] {
            assert!(
                matches!(list(bad), Err(PErr::Fail(_))),
                "{bad}: {:?}",
                list(bad)
            );
        }
    }

    #[test]
    fn lsub() {
        let got = parse_lsub(&mut Cursor::new(b" \"#news.\" \"comp.mail.*\"\r\n"));
        assert_eq!(got, Ok((b"#news.".to_vec(), b"comp.mail.*".to_vec())));
    }
}
