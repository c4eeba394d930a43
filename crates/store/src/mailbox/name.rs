//! Mailbox names and the one set of rules every new name follows, whichever way it enters
//! (IMAP CREATE/RENAME, a `[TRYCREATE]` target, Sieve `fileinto :create`, import, restore).
//!
//! RFC 9051 §5.1 leaves most of a name to the server. Mailroom refuses what means something to
//! file systems and shells, because names end up as file names (export, backups) and in tools:
//! - 1 to 1,000 octets of UTF-8, at most 32 levels separated by `/`, each level at most 255
//!   octets (the longest file name most file systems take);
//! - no level is empty, `.` or `..`;
//! - the name does not start with `~` (a home directory to shells, and to Dovecot);
//! - no control characters (C0, DEL, C1), no bidirectional embedding, override or isolate
//!   characters (they make one name look like another), no `*` or `%` (the LIST wildcards,
//!   RFC 9051 §6.3.9).
//!
//! Names stored before a rule existed are still read ([`MailboxName::from_stored`]) and can be
//! named by clients to select, rename or delete them ([`MailboxName::existing`]); every writer
//! of files escapes names instead of trusting them.

use crate::error::{Result, StoreError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The hierarchy separator of every mailbox name in the store.
pub const SEPARATOR: char = '/';
const MAX_NAME_BYTES: usize = 1000;
const MAX_LEVEL_BYTES: usize = 255;
const MAX_DEPTH: usize = 32;

/// A mailbox name in UTF-8 (protocols translate modified UTF-7 at their edge). `INBOX` is
/// case-insensitive (RFC 9051 §5.1) and always kept in upper case, also as the first level of
/// a child name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MailboxName(String);

/// Characters no name may hold at all.
fn forbidden(c: char) -> bool {
    c.is_control()
        || c == '*'
        || c == '%'
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// What a name breaks, in words for the client; `None` when it follows every rule.
fn problem(name: &str, strict: bool) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty name");
    }
    if name.len() > MAX_NAME_BYTES {
        return Some("name longer than 1000 octets");
    }
    if name.chars().any(forbidden) {
        return Some("name holds a control, wildcard or direction-changing character");
    }
    let mut depth = 0;
    for level in name.split(SEPARATOR) {
        depth += 1;
        if level.is_empty() {
            return Some("empty hierarchy level");
        }
        if strict && (level == "." || level == "..") {
            return Some("hierarchy level \".\" or \"..\"");
        }
        if strict && level.len() > MAX_LEVEL_BYTES {
            return Some("hierarchy level longer than 255 octets");
        }
    }
    if depth > MAX_DEPTH {
        return Some("more than 32 hierarchy levels");
    }
    if strict && name.starts_with('~') {
        return Some("name starts with \"~\"");
    }
    None
}

fn invalid(reason: &str) -> StoreError {
    StoreError::invalid("mailbox name", reason)
}

/// `INBOX` in any case as the first level is INBOX.
fn normalize_inbox(name: &str) -> String {
    match name.split_once(SEPARATOR) {
        Some((first, rest)) if first.eq_ignore_ascii_case("INBOX") => format!("INBOX/{rest}"),
        None if name.eq_ignore_ascii_case("INBOX") => "INBOX".to_string(),
        _ => name.to_string(),
    }
}

impl MailboxName {
    /// A name for something new: it must follow every rule of this module.
    pub fn new(name: &str) -> Result<Self> {
        match problem(name, true) {
            Some(reason) => Err(invalid(reason)),
            None => Ok(MailboxName(normalize_inbox(name))),
        }
    }

    /// A name a client uses to point at a mailbox that may already exist: the rules of names
    /// stored before `.`, `..`, long levels and a leading `~` were refused, so such a mailbox
    /// can still be selected, renamed to a good name, or deleted. Never create under it:
    /// the store refuses (see [`MailboxName::check_new`]).
    pub fn existing(name: &str) -> Result<Self> {
        match problem(name, false) {
            Some(reason) => Err(invalid(reason)),
            None => Ok(MailboxName(normalize_inbox(name))),
        }
    }

    /// A name as the store holds it, unchecked: rows written under older rules are read as
    /// they are, and repaired by `mailroom folder rename`.
    pub fn from_stored(name: String) -> Self {
        MailboxName(name)
    }

    /// Refuses a name that does not follow every rule: every way a mailbox comes into being
    /// calls this, whatever constructor made the name.
    pub fn check_new(&self) -> Result<()> {
        match problem(&self.0, true) {
            Some(reason) => Err(invalid(reason)),
            None => Ok(()),
        }
    }

    /// What this name breaks, for `mailroom check`.
    pub fn problem(&self) -> Option<&'static str> {
        problem(&self.0, true)
    }

    /// The nearest name that follows every rule: bad characters become `_`, empty, `.` and
    /// `..` levels become `_`, `_` and `__`, a leading `~` gets a `_` before it, over-long
    /// levels are cut and levels past the 32nd are joined into the last. Used where an old
    /// name must come back into being (restores) and to suggest a repair.
    pub fn repaired(raw: &str) -> Self {
        let mut levels: Vec<String> = raw
            .split(SEPARATOR)
            .map(|level| {
                let cleaned: String = level
                    .chars()
                    .map(|c| if forbidden(c) { '_' } else { c })
                    .collect();
                match cleaned.as_str() {
                    "" | "." => "_".to_string(),
                    ".." => "__".to_string(),
                    _ => truncate(&cleaned, MAX_LEVEL_BYTES).to_string(),
                }
            })
            .collect();
        if levels.len() > MAX_DEPTH {
            let tail = levels.split_off(MAX_DEPTH - 1).join("_");
            levels.push(truncate(&tail, MAX_LEVEL_BYTES).to_string());
        }
        if levels.first().is_some_and(|l| l.starts_with('~')) {
            levels[0] = truncate(&format!("_{}", levels[0]), MAX_LEVEL_BYTES).to_string();
        }
        while levels.len() > 1 && levels.join("/").len() > MAX_NAME_BYTES {
            levels.pop();
        }
        let joined = levels.join("/");
        let name = truncate(&joined, MAX_NAME_BYTES);
        // A cut can only shorten the one remaining level, which stays non-empty and not a dot.
        MailboxName::new(name).unwrap_or_else(|_| MailboxName("_".to_string()))
    }

    pub fn inbox() -> Self {
        MailboxName("INBOX".to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }

    /// The levels of the name, from the top.
    pub fn levels(&self) -> impl Iterator<Item = &str> {
        self.0.split(SEPARATOR)
    }

    /// The name of the parent, if this is not a top-level name.
    pub fn parent(&self) -> Option<MailboxName> {
        self.0
            .rsplit_once(SEPARATOR)
            .map(|(p, _)| MailboxName(p.to_string()))
    }

    /// Every ancestor from the top down, not including self.
    pub fn ancestors(&self) -> Vec<MailboxName> {
        let mut out = Vec::new();
        let mut cur = self.parent();
        while let Some(p) = cur {
            cur = p.parent();
            out.push(p);
        }
        out.reverse();
        out
    }

    /// True if `other` is strictly below this name in the hierarchy.
    pub fn is_ancestor_of(&self, other: &MailboxName) -> bool {
        other.0.len() > self.0.len()
            && other.0.starts_with(&self.0)
            && other.0[self.0.len()..].starts_with(SEPARATOR)
    }
}

/// The longest prefix of `s` of at most `max` octets that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl fmt::Display for MailboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated_and_inbox_normalised() {
        assert_eq!(MailboxName::new("inbox").unwrap().as_str(), "INBOX");
        assert_eq!(MailboxName::new("Inbox/Sub").unwrap().as_str(), "INBOX/Sub");
        assert_eq!(
            MailboxName::new("Work/inbox").unwrap().as_str(),
            "Work/inbox"
        );
        for good in [
            "a.b",
            "...",
            ".hidden",
            "a/.b",
            "Work/~old",
            "a b",
            "Entwürfe",
        ] {
            assert!(MailboxName::new(good).is_ok(), "{good:?}");
        }
        assert!(MailboxName::new(&"x".repeat(1001)).is_err());
        assert!(MailboxName::new(&"x".repeat(256)).is_err());
        assert!(MailboxName::new(&vec!["a"; 33].join("/")).is_err());
        assert!(MailboxName::new(&vec!["a"; 32].join("/")).is_ok());
    }

    #[test]
    fn unsafe_names_are_refused_with_a_reason() {
        let bad = [
            "",
            "/a",
            "a/",
            "a//b",
            "a*",
            "50%",
            "a\r\nb",
            "a\u{7f}",
            "a\u{85}b",
            "evil\u{202E}fdp.exe",
            ".",
            "..",
            "../../../tmp/x/escaped",
            "a/../../x",
            "a/./b",
            "a/..",
            "~",
            "~root/x",
        ];
        for name in bad {
            let err = MailboxName::new(name).unwrap_err();
            assert!(
                matches!(&err, StoreError::Invalid { what: "mailbox name", reason } if !reason.is_empty()),
                "{name:?}: {err}"
            );
        }
    }

    #[test]
    fn existing_names_of_older_rules_can_be_named_but_not_created() {
        let old = MailboxName::existing("a/../../x").unwrap();
        assert_eq!(old.as_str(), "a/../../x");
        assert!(old.check_new().is_err());
        assert!(old.problem().is_some());
        assert!(MailboxName::existing("a//b").is_err());
        assert!(MailboxName::existing("a\nb").is_err());
        assert_eq!(
            MailboxName::existing("inbox/..").unwrap().as_str(),
            "INBOX/.."
        );
        assert!(MailboxName::new("Work").unwrap().check_new().is_ok());
    }

    #[test]
    fn repaired_names_follow_every_rule() {
        for (raw, want) in [
            ("../../../tmp/x/escaped", "__/__/__/tmp/x/escaped"),
            ("a/../../x", "a/__/__/x"),
            ("~root", "_~root"),
            ("a//b/.", "a/_/b/_"),
            ("", "_"),
            ("a\u{0}b*%", "a_b__"),
            ("Work", "Work"),
        ] {
            assert_eq!(MailboxName::repaired(raw).as_str(), want, "{raw:?}");
        }
        let deep = vec!["a"; 40].join("/");
        let fixed = MailboxName::repaired(&deep);
        assert!(fixed.check_new().is_ok());
        assert_eq!(fixed.levels().count(), 32);
        let long = "é".repeat(700);
        assert!(MailboxName::repaired(&long).check_new().is_ok());
        let wide = vec!["x".repeat(250); 8].join("/");
        assert!(MailboxName::repaired(&wide).check_new().is_ok());
    }

    #[test]
    fn hierarchy() {
        let n = MailboxName::new("a/b/c").unwrap();
        let names: Vec<String> = n.ancestors().iter().map(|a| a.to_string()).collect();
        assert_eq!(names, ["a", "a/b"]);
        let a = MailboxName::new("a").unwrap();
        assert!(a.is_ancestor_of(&n));
        assert!(!a.is_ancestor_of(&MailboxName::new("ab/c").unwrap()));
        assert!(!a.is_ancestor_of(&a));
    }
}
