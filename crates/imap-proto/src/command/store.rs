//! STORE (RFC 9051 §6.4.6, UNCHANGEDSINCE from RFC 7162 §3.1.3), COPY
//! (§6.4.7), MOVE (§6.4.8, RFC 6851) and their UID forms (§6.4.9).

use crate::cursor::{Cursor, PResult};
use crate::encode::Out;
use crate::types::flag::Flag;
use crate::types::mailbox::Mailbox;
use crate::types::sequence::SequenceSet;

/// `["+" / "-"] "FLAGS"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreAction {
    Replace,
    Add,
    Remove,
}

/// A STORE or UID STORE command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub uid: bool,
    pub set: SequenceSet,
    /// CONDSTORE `(UNCHANGEDSINCE n)`; 0 is valid (`mod-sequence-valzer`).
    pub unchanged_since: Option<u64>,
    pub action: StoreAction,
    /// `.SILENT`: no untagged FETCH for the change.
    pub silent: bool,
    pub flags: Vec<Flag>,
}

impl Store {
    /// After `STORE`: `SP sequence-set [SP store-modifiers] SP store-att-flags`.
    pub(crate) fn parse(c: &mut Cursor, uid: bool) -> PResult<Self> {
        c.sp()?;
        let set = SequenceSet::parse(c)?;
        c.sp()?;
        let unchanged_since = if c.peek()? == b'(' {
            let mut value = None;
            c.paren_list(false, |c| {
                if value.is_none() && c.word()?.eq_ignore_ascii_case("UNCHANGEDSINCE") {
                    c.sp()?;
                    value = Some(c.number64()?);
                    Ok(())
                } else {
                    c.syntax("UNCHANGEDSINCE")
                }
            })?;
            c.sp()?;
            value
        } else {
            None
        };
        let action = if c.eat(b'+')? {
            StoreAction::Add
        } else if c.eat(b'-')? {
            StoreAction::Remove
        } else {
            StoreAction::Replace
        };
        let silent = match c.word()?.to_ascii_uppercase().as_str() {
            "FLAGS" => false,
            "FLAGS.SILENT" => true,
            _ => return c.syntax("FLAGS or FLAGS.SILENT"),
        };
        c.sp()?;
        // `flag-list / (flag *(SP flag))`
        let flags = if c.peek()? == b'(' {
            Flag::parse_list(c)?
        } else {
            let mut flags = vec![Flag::parse(c)?];
            while c.peek()? == b' ' {
                c.sp()?;
                flags.push(Flag::parse(c)?);
            }
            flags
        };
        Ok(Store {
            uid,
            set,
            unchanged_since,
            action,
            silent,
            flags,
        })
    }

    pub(crate) fn encode(&self, out: &mut Out) {
        out.str(if self.uid { "UID STORE " } else { "STORE " })
            .display(&self.set)
            .sp();
        if let Some(modseq) = self.unchanged_since {
            out.display(format_args!("(UNCHANGEDSINCE {modseq}) "));
        }
        out.str(match self.action {
            StoreAction::Replace => "FLAGS",
            StoreAction::Add => "+FLAGS",
            StoreAction::Remove => "-FLAGS",
        });
        if self.silent {
            out.str(".SILENT");
        }
        out.sp().list(&self.flags, |o, f| {
            o.display(f);
        });
    }
}

/// COPY / MOVE and their UID forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyMove {
    pub uid: bool,
    pub set: SequenceSet,
    pub mailbox: Mailbox,
}

impl CopyMove {
    pub(crate) fn parse(c: &mut Cursor, uid: bool) -> PResult<Self> {
        c.sp()?;
        let set = SequenceSet::parse(c)?;
        c.sp()?;
        let mailbox = Mailbox::parse(c)?;
        Ok(CopyMove { uid, set, mailbox })
    }

    pub(crate) fn encode(&self, out: &mut Out, name: &str) {
        if self.uid {
            out.str("UID ");
        }
        out.str(name)
            .sp()
            .display(&self.set)
            .sp()
            .astring(self.mailbox.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;
    use crate::types::atom::Atom;

    fn store(input: &str) -> PResult<Store> {
        Store::parse(&mut Cursor::new(format!(" {input}\r\n").as_bytes()), false)
    }

    fn set(s: &str) -> SequenceSet {
        SequenceSet::parse(&mut Cursor::new(format!("{s} ").as_bytes())).unwrap()
    }

    #[test]
    fn store_table() {
        let cases: Vec<(&str, Store)> = vec![
            (
                "2:4 +FLAGS (\\Deleted)",
                Store {
                    uid: false,
                    set: set("2:4"),
                    unchanged_since: None,
                    action: StoreAction::Add,
                    silent: false,
                    flags: vec![Flag::Deleted],
                },
            ),
            (
                "1 -flags.silent \\Seen $Junk",
                Store {
                    uid: false,
                    set: set("1"),
                    unchanged_since: None,
                    action: StoreAction::Remove,
                    silent: true,
                    flags: vec![Flag::Seen, Flag::Keyword(Atom::new("$Junk").unwrap())],
                },
            ),
            (
                "* FLAGS ()",
                Store {
                    uid: false,
                    set: set("*"),
                    unchanged_since: None,
                    action: StoreAction::Replace,
                    silent: false,
                    flags: vec![],
                },
            ),
            (
                "7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)",
                Store {
                    uid: false,
                    set: set("7,5,9"),
                    unchanged_since: Some(320162338),
                    action: StoreAction::Add,
                    silent: true,
                    flags: vec![Flag::Deleted],
                },
            ),
            (
                "$ (UNCHANGEDSINCE 0) FLAGS (\\Seen)",
                Store {
                    uid: false,
                    set: SequenceSet::Saved,
                    unchanged_since: Some(0),
                    action: StoreAction::Replace,
                    silent: false,
                    flags: vec![Flag::Seen],
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(store(input), Ok(expected.clone()), "{input}");
            let mut out = Out::new(false);
            expected.encode(&mut out);
            let bytes = crate::encode::flatten(out.finish()).unwrap();
            let text = String::from_utf8(bytes).unwrap();
            let again = store(text.trim_start_matches("STORE "));
            assert_eq!(again, Ok(expected), "round trip {input}");
        }
        for bad in [
            "1 FLAGS",
            "1 +FLAGS.LOUD (\\Seen)",
            "1 (FOO 1) FLAGS ()",
            "1 ++FLAGS ()",
            "0 FLAGS ()",
            "1 FLAGS (\\)",
        ] {
            assert!(matches!(store(bad), Err(PErr::Fail(_))), "{bad}");
        }
    }

    #[test]
    fn copy_move() {
        let got = CopyMove::parse(&mut Cursor::new(b" 2:4 MEETING\r\n"), true);
        assert_eq!(
            got,
            Ok(CopyMove {
                uid: true,
                set: set("2:4"),
                mailbox: Mailbox::new("MEETING")
            })
        );
        let got =
            CopyMove::parse(&mut Cursor::new(b" 1 inbox\r\n"), false).map(|c| c.mailbox.is_inbox());
        assert_eq!(got, Ok(true));
        assert!(matches!(
            CopyMove::parse(&mut Cursor::new(b" 1\r\n"), false),
            Err(PErr::Fail(_))
        ));
    }
}
