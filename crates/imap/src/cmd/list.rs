//! LIST (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154), CHILDREN
//! (RFC 3348 semantics, always returned) and LIST-STATUS (RFC 5819); LSUB (RFC 3501 §6.3.9).

use crate::cmd::status::{status_values, virtual_status_values};
use crate::error::ImapError;
use crate::names::{matches, pattern_from_wire, to_wire};
use crate::session::{Done, Session};
use mailroom_imap_proto::Mailbox as WireName;
use mailroom_imap_proto::command::list::{List, ListReturn, ListSelect};
use mailroom_imap_proto::command::mailbox::SpecialUse as WireUse;
use mailroom_imap_proto::response::{Data, Delimiter, ListItem, MailboxAttr, Response};
use mailroom_store::{Mailbox, MailboxName, SpecialUse};
use std::collections::{BTreeMap, BTreeSet};

/// One name LIST may report, with what is known about it.
struct Entry<'a> {
    name: MailboxName,
    mailbox: Option<&'a Mailbox>,
    subscribed: bool,
    /// The "Recently Deleted" virtual folder.
    recently_deleted: bool,
}

pub(crate) fn wire_use(u: SpecialUse) -> WireUse {
    match u {
        SpecialUse::All => WireUse::All,
        SpecialUse::Archive => WireUse::Archive,
        SpecialUse::Drafts => WireUse::Drafts,
        SpecialUse::Flagged => WireUse::Flagged,
        SpecialUse::Junk => WireUse::Junk,
        SpecialUse::Sent => WireUse::Sent,
        SpecialUse::Trash => WireUse::Trash,
    }
}

pub(crate) fn delimiter() -> Option<Delimiter> {
    Delimiter::new('/').ok()
}

/// INBOX first, then by name: the order clients show.
fn sort_key(name: &MailboxName) -> (bool, String) {
    (!name.is_inbox(), name.as_str().to_string())
}

/// `reference` + `pattern` as one pattern (RFC 9051 §6.3.9: the reference is a prefix).
fn full_pattern(reference: &str, pattern: &str) -> String {
    if reference.is_empty() || pattern.starts_with('/') {
        pattern.to_string()
    } else {
        format!("{reference}{pattern}")
    }
}

fn add<'a>(
    entries: &mut BTreeMap<(bool, String), Entry<'a>>,
    subscriptions: &BTreeSet<MailboxName>,
    name: MailboxName,
    mailbox: Option<&'a Mailbox>,
) {
    let subscribed = subscriptions.contains(&name);
    entries
        .entry(sort_key(&name))
        .and_modify(|e| {
            if e.mailbox.is_none() {
                e.mailbox = mailbox;
            }
        })
        .or_insert(Entry {
            name,
            mailbox,
            subscribed,
            recently_deleted: false,
        });
}

pub(crate) async fn list(s: &mut Session, cmd: List) -> Result<Done, ImapError> {
    let utf8 = s.utf8();
    let account = s
        .state
        .user()
        .map(|u| u.account.id)
        .ok_or_else(|| ImapError::bad("not authenticated"))?;
    // A reference or pattern that can't be decoded matches nothing.
    let Some(reference) = pattern_from_wire(&cmd.reference, utf8) else {
        return Ok(Done::ok("LIST completed"));
    };
    let patterns: Vec<String> = cmd
        .patterns
        .iter()
        .filter_map(|p| pattern_from_wire(p, utf8).map(|p| full_pattern(&reference, &p)))
        .collect();
    if patterns.is_empty() {
        return Ok(Done::ok("LIST completed"));
    }

    // §6.3.9: an empty pattern asks for the delimiter and the root.
    if !cmd.is_extended() && patterns.iter().all(String::is_empty) {
        s.push(Response::Data(Data::List(ListItem::new(
            vec![MailboxAttr::NoSelect],
            delimiter(),
            WireName::new(reference.into_bytes()),
        ))));
        return Ok(Done::ok("LIST completed"));
    }

    let sel_subscribed = cmd.selection.contains(&ListSelect::Subscribed);
    let sel_special = cmd.selection.contains(&ListSelect::SpecialUse);
    let recursive = cmd.selection.contains(&ListSelect::RecursiveMatch);
    let ret_subscribed = sel_subscribed || cmd.return_opts.contains(&ListReturn::Subscribed);
    let ret_status = cmd.return_opts.iter().find_map(|r| match r {
        ListReturn::Status(items) => Some(items.to_vec()),
        _ => None,
    });
    let extended = cmd.is_extended();

    let mailboxes = s.store().list_mailboxes(account).await?;
    let subscriptions: BTreeSet<MailboxName> = s
        .store()
        .subscriptions(account)
        .await?
        .into_iter()
        .collect();

    // Every name that exists, is subscribed, or is the parent of one of those.
    let mut entries: BTreeMap<(bool, String), Entry> = BTreeMap::new();
    for mailbox in &mailboxes {
        for parent in mailbox.name.ancestors() {
            add(&mut entries, &subscriptions, parent, None);
        }
        add(
            &mut entries,
            &subscriptions,
            mailbox.name.clone(),
            Some(mailbox),
        );
    }
    for name in &subscriptions {
        for parent in name.ancestors() {
            add(&mut entries, &subscriptions, parent, None);
        }
        add(&mut entries, &subscriptions, name.clone(), None);
    }
    // The virtual folder replaces any same-named entry: SELECT of the name opens it.
    if let Some(name) = crate::virtual_folder::name(&s.shared.config) {
        entries.insert(
            sort_key(&name),
            Entry {
                name,
                mailbox: None,
                subscribed: false,
                recently_deleted: true,
            },
        );
    }
    let existing: Vec<&MailboxName> = mailboxes.iter().map(|m| &m.name).collect();

    let mut lines = Vec::new();
    for entry in entries.values() {
        if !patterns.iter().any(|p| matches(p, entry.name.as_str())) {
            continue;
        }
        if entry.recently_deleted {
            // Never subscribed, no special use, no children (RFC 5258 §3).
            if !sel_subscribed && !sel_special {
                let attrs = vec![MailboxAttr::HasNoChildren];
                let item = ListItem::new(attrs, delimiter(), to_wire(&entry.name, s.utf8()));
                lines.push((item, None, true));
            }
            continue;
        }
        let has_children = existing.iter().any(|n| entry.name.is_ancestor_of(n));
        let special = entry.mailbox.and_then(|m| m.special_use);
        let mut child_info = false;
        if sel_subscribed && !entry.subscribed {
            // RFC 5258 §3.5: with RECURSIVEMATCH, a parent of a subscribed name is reported
            // with CHILDINFO even if it is not subscribed itself, for the subscribed names below
            // it that the patterns do not list themselves.
            let unlisted_child = subscriptions.iter().any(|n| {
                entry.name.is_ancestor_of(n) && !patterns.iter().any(|p| matches(p, n.as_str()))
            });
            if recursive && unlisted_child {
                child_info = true;
            } else {
                continue;
            }
        }
        if sel_special && special.is_none() {
            continue;
        }
        // A name that neither exists nor is reported because of a selection is only listed
        // when it has real children below it (a hierarchy placeholder).
        if entry.mailbox.is_none() && !entry.subscribed && !child_info && !has_children {
            continue;
        }
        let mut attrs = Vec::new();
        match entry.mailbox {
            None if extended || entry.subscribed => attrs.push(MailboxAttr::NonExistent),
            None => attrs.push(MailboxAttr::NoSelect),
            Some(_) => {}
        }
        if entry.mailbox.is_none() && extended && !entry.subscribed && has_children {
            // RFC 5258 §3: \NonExistent implies \NoSelect; a parent shown for its children.
            attrs.retain(|a| *a != MailboxAttr::NonExistent);
            attrs.push(MailboxAttr::NoSelect);
        }
        attrs.push(if has_children {
            MailboxAttr::HasChildren
        } else {
            MailboxAttr::HasNoChildren
        });
        if ret_subscribed && entry.subscribed {
            attrs.push(MailboxAttr::Subscribed);
        }
        if let Some(u) = special {
            attrs.push(MailboxAttr::SpecialUse(wire_use(u)));
        }
        let mut item = ListItem::new(attrs, delimiter(), to_wire(&entry.name, s.utf8()));
        item.child_subscribed = child_info;
        lines.push((item, entry.mailbox.cloned(), false));
    }
    for (item, mailbox, recently_deleted) in lines {
        let wire = item.mailbox.clone();
        s.push(Response::Data(Data::List(item)));
        let values = match (&ret_status, mailbox) {
            (Some(items), _) if recently_deleted => {
                Some(virtual_status_values(s, account, items).await?)
            }
            (Some(items), Some(mailbox)) => Some(status_values(s, &mailbox, items).await?),
            _ => None,
        };
        if let Some(values) = values {
            s.push(Response::Data(Data::Status {
                mailbox: wire,
                items: values,
            }));
        }
    }
    Ok(Done::ok("LIST completed"))
}

/// RFC 3501 §6.3.9: the subscribed names matching the pattern.
pub(crate) async fn lsub(
    s: &mut Session,
    reference: Vec<u8>,
    pattern: Vec<u8>,
) -> Result<Done, ImapError> {
    let utf8 = s.utf8();
    let account = s
        .state
        .user()
        .map(|u| u.account.id)
        .ok_or_else(|| ImapError::bad("not authenticated"))?;
    let (Some(reference), Some(pattern)) = (
        pattern_from_wire(&reference, utf8),
        pattern_from_wire(&pattern, utf8),
    ) else {
        return Ok(Done::ok("LSUB completed"));
    };
    let pattern = full_pattern(&reference, &pattern);
    let mailboxes = s.store().list_mailboxes(account).await?;
    let subscriptions: BTreeSet<MailboxName> = s
        .store()
        .subscriptions(account)
        .await?
        .into_iter()
        .collect();
    // §6.3.9: a subscribed name the pattern matches; and where "%" stops above a subscribed
    // name, the unsubscribed level it stops at, as \Noselect.
    let mut listed: BTreeMap<(bool, String), (MailboxName, bool)> = BTreeMap::new();
    for name in &subscriptions {
        if matches(&pattern, name.as_str()) {
            let gone = !mailboxes.iter().any(|m| &m.name == name);
            listed.insert(sort_key(name), (name.clone(), gone));
            continue;
        }
        for parent in name.ancestors() {
            if !subscriptions.contains(&parent) && matches(&pattern, parent.as_str()) {
                listed.entry(sort_key(&parent)).or_insert((parent, true));
            }
        }
    }
    for (name, no_select) in listed.into_values() {
        let attrs = if no_select {
            vec![MailboxAttr::NoSelect]
        } else {
            Vec::new()
        };
        s.push(Response::Data(Data::Lsub(ListItem::new(
            attrs,
            delimiter(),
            to_wire(&name, utf8),
        ))));
    }
    Ok(Done::ok("LSUB completed"))
}
