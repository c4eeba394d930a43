//! NOTIFY (RFC 5465 §8): which mailboxes and events the server reports
//! without being polled.

use crate::command::fetch::{FetchAttr, parse_attr};
use crate::cursor::{Cursor, PResult};
use crate::encode::Out;
use crate::error::ParseError;
use crate::types::atom::Atom;
use crate::types::mailbox::Mailbox;
use crate::types::nonempty::NonEmpty;

/// `notify = "NOTIFY" SP (notify-set / notify-none)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    /// `NONE`: stop all notifications.
    None,
    /// `SET [STATUS] event-groups`; `status` asks for an initial STATUS of
    /// each matching mailbox.
    Set {
        status: bool,
        groups: NonEmpty<EventGroup>,
    },
}

/// `event-group = "(" filter-mailboxes SP events ")"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventGroup {
    pub filter: MailboxFilter,
    /// Empty for `NONE` (no events for these mailboxes).
    pub events: Vec<Event>,
}

/// `filter-mailboxes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxFilter {
    Selected,
    SelectedDelayed,
    Inboxes,
    Personal,
    Subscribed,
    Subtree(NonEmpty<Mailbox>),
    Mailboxes(NonEmpty<Mailbox>),
}

/// `event`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// With the FETCH attributes to send for new messages (selected only).
    MessageNew(Vec<FetchAttr>),
    MessageExpunge,
    FlagChange,
    AnnotationChange,
    MailboxName,
    SubscriptionChange,
    MailboxMetadataChange,
    ServerMetadataChange,
    /// `event-ext = atom`: the server answers NO [BADEVENT].
    Other(Atom),
}

impl Notify {
    /// After `NOTIFY`.
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        c.sp()?;
        match c.word()?.to_ascii_uppercase().as_str() {
            "NONE" => return Ok(Notify::None),
            "SET" => {}
            _ => return c.syntax("SET or NONE"),
        }
        c.sp()?;
        let status = c.peek()? != b'(';
        if status {
            if !c.word()?.eq_ignore_ascii_case("STATUS") {
                return c.syntax("STATUS");
            }
            c.sp()?;
        }
        let mut groups = NonEmpty::new(parse_group(c)?);
        while c.peek()? == b' ' {
            c.sp()?;
            groups.push(parse_group(c)?);
        }
        Ok(Notify::Set { status, groups })
    }

    pub(crate) fn encode(&self, out: &mut Out) {
        out.str("NOTIFY ");
        let Notify::Set { status, groups } = self else {
            out.str("NONE");
            return;
        };
        out.str(if *status { "SET STATUS " } else { "SET " });
        out.join(groups, |o, g| g.encode(o));
    }
}

fn parse_group(c: &mut Cursor) -> PResult<EventGroup> {
    c.expect(b'(', "(")?;
    let filter = match c.word()?.to_ascii_lowercase().as_str() {
        "selected" => MailboxFilter::Selected,
        "selected-delayed" => MailboxFilter::SelectedDelayed,
        "inboxes" => MailboxFilter::Inboxes,
        "personal" => MailboxFilter::Personal,
        "subscribed" => MailboxFilter::Subscribed,
        "subtree" => MailboxFilter::Subtree(parse_mailboxes(c)?),
        "mailboxes" => MailboxFilter::Mailboxes(parse_mailboxes(c)?),
        _ => return c.syntax("filter-mailboxes"),
    };
    c.sp()?;
    let selected = matches!(
        filter,
        MailboxFilter::Selected | MailboxFilter::SelectedDelayed
    );
    let events = if c.peek()? == b'(' {
        let events = c.paren_list(false, |c| parse_event(c, selected))?;
        // RFC 5465 §5: MessageNew and MessageExpunge come as a pair.
        let new = events.iter().any(|e| matches!(e, Event::MessageNew(_)));
        let expunge = events.contains(&Event::MessageExpunge);
        if new != expunge {
            return Err(ParseError::Invalid(
                "MessageNew and MessageExpunge must be given together",
            )
            .into());
        }
        events
    } else if c.word()?.eq_ignore_ascii_case("NONE") {
        Vec::new()
    } else {
        return c.syntax("events or NONE");
    };
    c.expect(b')', ")")?;
    Ok(EventGroup { filter, events })
}

/// `SP (mailbox / "(" mailbox *(SP mailbox) ")")`.
fn parse_mailboxes(c: &mut Cursor) -> PResult<NonEmpty<Mailbox>> {
    c.sp()?;
    if c.peek()? != b'(' {
        return Mailbox::parse(c).map(NonEmpty::new);
    }
    match NonEmpty::from_vec(c.paren_list(false, Mailbox::parse)?) {
        Some(list) => Ok(list),
        None => c.syntax("mailbox"),
    }
}

fn parse_event(c: &mut Cursor, selected: bool) -> PResult<Event> {
    let name = c.atom()?;
    const SIMPLE: [(&str, Event); 7] = [
        ("MessageExpunge", Event::MessageExpunge),
        ("FlagChange", Event::FlagChange),
        ("AnnotationChange", Event::AnnotationChange),
        ("MailboxName", Event::MailboxName),
        ("SubscriptionChange", Event::SubscriptionChange),
        ("MailboxMetadataChange", Event::MailboxMetadataChange),
        ("ServerMetadataChange", Event::ServerMetadataChange),
    ];
    if name.eq_ignore_ascii_case("MessageNew") {
        let mut attrs = Vec::new();
        if c.peek()? == b' ' && c.rest().get(1) == Some(&b'(') {
            // RFC 5465 §5: fetch attributes only for the selected mailbox.
            if !selected {
                return Err(
                    ParseError::Invalid("MessageNew attributes need a selected filter").into(),
                );
            }
            c.sp()?;
            attrs = c.paren_list(false, parse_attr)?;
        }
        return Ok(Event::MessageNew(attrs));
    }
    if let Some((_, event)) = SIMPLE
        .into_iter()
        .find(|(known, _)| name.eq_ignore_ascii_case(known))
    {
        return Ok(event);
    }
    match Atom::new(name) {
        Ok(atom) => Ok(Event::Other(atom)),
        Err(_) => c.syntax("event"),
    }
}

impl EventGroup {
    fn encode(&self, out: &mut Out) {
        out.raw(b"(");
        let mailboxes = |out: &mut Out, name: &str, list: &NonEmpty<Mailbox>| {
            out.str(name).sp().list(list, |o, m| {
                o.astring(m.as_bytes());
            });
        };
        match &self.filter {
            MailboxFilter::Selected => {
                out.str("selected");
            }
            MailboxFilter::SelectedDelayed => {
                out.str("selected-delayed");
            }
            MailboxFilter::Inboxes => {
                out.str("inboxes");
            }
            MailboxFilter::Personal => {
                out.str("personal");
            }
            MailboxFilter::Subscribed => {
                out.str("subscribed");
            }
            MailboxFilter::Subtree(list) => mailboxes(out, "subtree", list),
            MailboxFilter::Mailboxes(list) => mailboxes(out, "mailboxes", list),
        }
        out.sp();
        if self.events.is_empty() {
            out.str("NONE");
        } else {
            out.list(&self.events, |o, e| e.encode(o));
        }
        out.raw(b")");
    }
}

impl Event {
    fn encode(&self, out: &mut Out) {
        let name = match self {
            Event::MessageNew(attrs) => {
                out.str("MessageNew");
                if !attrs.is_empty() {
                    out.sp().list(attrs, |o, a| a.encode(o));
                }
                return;
            }
            Event::MessageExpunge => "MessageExpunge",
            Event::FlagChange => "FlagChange",
            Event::AnnotationChange => "AnnotationChange",
            Event::MailboxName => "MailboxName",
            Event::SubscriptionChange => "SubscriptionChange",
            Event::MailboxMetadataChange => "MailboxMetadataChange",
            Event::ServerMetadataChange => "ServerMetadataChange",
            Event::Other(atom) => atom.as_str(),
        };
        out.str(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;

    fn notify(input: &str) -> PResult<Notify> {
        Notify::parse(&mut Cursor::new(format!(" {input}\r\n").as_bytes()))
    }

    #[test]
    fn rfc5465_examples() {
        let cases: Vec<(&str, Notify)> = vec![
            ("NONE", Notify::None),
            (
                "SET STATUS (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (From To)]) MessageExpunge)) (subtree Lists (MessageNew MessageExpunge))",
                Notify::Set {
                    status: true,
                    groups: NonEmpty::from_vec(vec![
                        EventGroup {
                            filter: MailboxFilter::Selected,
                            events: vec![
                                Event::MessageNew(vec![
                                    FetchAttr::Uid,
                                    parse_attr(&mut Cursor::new(
                                        b"BODY.PEEK[HEADER.FIELDS (From To)] ",
                                    ))
                                    .unwrap(),
                                ]),
                                Event::MessageExpunge,
                            ],
                        },
                        EventGroup {
                            filter: MailboxFilter::Subtree(NonEmpty::new(Mailbox::new("Lists"))),
                            events: vec![Event::MessageNew(vec![]), Event::MessageExpunge],
                        },
                    ])
                    .unwrap(),
                },
            ),
            (
                "SET (personal (MailboxName SubscriptionChange)) (mailboxes (INBOX Sent) NONE) (selected-delayed (FlagChange X-Foo))",
                Notify::Set {
                    status: false,
                    groups: NonEmpty::from_vec(vec![
                        EventGroup {
                            filter: MailboxFilter::Personal,
                            events: vec![Event::MailboxName, Event::SubscriptionChange],
                        },
                        EventGroup {
                            filter: MailboxFilter::Mailboxes(
                                NonEmpty::from_vec(vec![Mailbox::inbox(), Mailbox::new("Sent")])
                                    .unwrap(),
                            ),
                            events: vec![],
                        },
                        EventGroup {
                            filter: MailboxFilter::SelectedDelayed,
                            events: vec![
                                Event::FlagChange,
                                Event::Other(Atom::new("X-Foo").unwrap()),
                            ],
                        },
                    ])
                    .unwrap(),
                },
            ),
            (
                "SET (inboxes (MessageNew MessageExpunge AnnotationChange)) (subscribed (MailboxMetadataChange ServerMetadataChange))",
                Notify::Set {
                    status: false,
                    groups: NonEmpty::from_vec(vec![
                        EventGroup {
                            filter: MailboxFilter::Inboxes,
                            events: vec![
                                Event::MessageNew(vec![]),
                                Event::MessageExpunge,
                                Event::AnnotationChange,
                            ],
                        },
                        EventGroup {
                            filter: MailboxFilter::Subscribed,
                            events: vec![Event::MailboxMetadataChange, Event::ServerMetadataChange],
                        },
                    ])
                    .unwrap(),
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(notify(input), Ok(expected.clone()), "{input}");
            let mut out = Out::new(false);
            expected.encode(&mut out);
            let text = String::from_utf8(crate::encode::flatten(out.finish()).unwrap()).unwrap();
            assert_eq!(
                notify(text.trim_start_matches("NOTIFY ")),
                Ok(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn invalid() {
        for bad in [
            "",
            "SET",
            "SET ()",
            "SET (selected)",
            "SET (selected ())",
            "SET (selected (MessageNew))",
            "SET (personal (MessageNew (UID) MessageExpunge))",
            "SET (everything (MessageNew MessageExpunge))",
            "SET (subtree (MessageNew MessageExpunge))",
            "SET FOO (selected NONE)",
            "FOO",
        ] {
            assert!(
                matches!(notify(bad), Err(PErr::Fail(_))),
                "{bad}: {:?}",
                notify(bad)
            );
        }
    }
}
