use serde::{Deserialize, Serialize};

/// The IMAP system flags a message can carry, as a bit set (RFC 9051 §2.3.2). \Recent is not
/// here: it is a property of a session, not of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
pub struct SystemFlags(pub u8);

impl SystemFlags {
    pub const SEEN: SystemFlags = SystemFlags(1);
    pub const ANSWERED: SystemFlags = SystemFlags(2);
    pub const FLAGGED: SystemFlags = SystemFlags(4);
    pub const DELETED: SystemFlags = SystemFlags(8);
    pub const DRAFT: SystemFlags = SystemFlags(16);
    const ALL_BITS: u8 = 31;
    pub const NAMES: [(SystemFlags, &'static str); 5] = [
        (SystemFlags::SEEN, "\\Seen"),
        (SystemFlags::ANSWERED, "\\Answered"),
        (SystemFlags::FLAGGED, "\\Flagged"),
        (SystemFlags::DELETED, "\\Deleted"),
        (SystemFlags::DRAFT, "\\Draft"),
    ];

    pub fn from_bits(bits: u8) -> Self {
        SystemFlags(bits & Self::ALL_BITS)
    }

    pub fn contains(self, other: SystemFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn union(self, other: SystemFlags) -> Self {
        SystemFlags(self.0 | other.0)
    }

    pub fn difference(self, other: SystemFlags) -> Self {
        SystemFlags(self.0 & !other.0)
    }

    /// Looks up a system flag by its IMAP name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(f, _)| *f)
    }
}

/// System flags plus keywords. Keywords are IMAP atoms compared case-insensitively; they are kept
/// sorted and unique so two equal sets always serialise the same way.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
pub struct Flags {
    pub system: SystemFlags,
    keywords: Vec<String>,
}

impl Flags {
    pub fn new(system: SystemFlags, keywords: impl IntoIterator<Item = String>) -> Self {
        let mut flags = Flags {
            system,
            keywords: Vec::new(),
        };
        for k in keywords {
            flags.insert_keyword(k);
        }
        flags
    }

    pub fn system(system: SystemFlags) -> Self {
        Flags::new(system, [])
    }

    /// Parses a list of IMAP flag names: backslash names are system flags, the rest keywords.
    /// Unknown backslash names (e.g. \Recent) are ignored, as a server may.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut flags = Flags::default();
        for name in names {
            if let Some(f) = SystemFlags::from_name(name) {
                flags.system = flags.system.union(f);
            } else if !name.starts_with('\\') && !name.is_empty() {
                flags.insert_keyword(name.to_string());
            }
        }
        flags
    }

    pub fn keywords(&self) -> &[String] {
        &self.keywords
    }

    pub fn has_keyword(&self, keyword: &str) -> bool {
        self.keywords
            .iter()
            .any(|k| k.eq_ignore_ascii_case(keyword))
    }

    fn insert_keyword(&mut self, keyword: String) {
        if !self.has_keyword(&keyword) {
            let at = self
                .keywords
                .partition_point(|k| k.to_ascii_lowercase() < keyword.to_ascii_lowercase());
            self.keywords.insert(at, keyword);
        }
    }

    /// The keywords as stored: one space-separated string, or None when there are none.
    pub fn keywords_text(&self) -> Option<String> {
        (!self.keywords.is_empty()).then(|| self.keywords.join(" "))
    }

    pub fn from_stored(system: u8, keywords: Option<&str>) -> Self {
        Flags::new(
            SystemFlags::from_bits(system),
            keywords
                .unwrap_or("")
                .split(' ')
                .filter(|k| !k.is_empty())
                .map(str::to_string),
        )
    }

    /// Every flag by its IMAP name, system flags first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        SystemFlags::NAMES
            .iter()
            .filter(|(f, _)| self.system.contains(*f))
            .map(|(_, n)| *n)
            .chain(self.keywords.iter().map(String::as_str))
    }

    pub fn apply(&self, op: &FlagOp) -> Flags {
        match op {
            FlagOp::Replace(new) => new.clone(),
            FlagOp::Add(add) => {
                let mut out = self.clone();
                out.system = out.system.union(add.system);
                for k in &add.keywords {
                    out.insert_keyword(k.clone());
                }
                out
            }
            FlagOp::Remove(remove) => Flags {
                system: self.system.difference(remove.system),
                keywords: self
                    .keywords
                    .iter()
                    .filter(|k| !remove.has_keyword(k))
                    .cloned()
                    .collect(),
            },
        }
    }
}

/// A STORE operation (RFC 9051 §6.4.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagOp {
    Replace(Flags),
    Add(Flags),
    Remove(Flags),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_dedupe() {
        let f = Flags::from_names(["\\Seen", "$Junk", "\\flagged", "$junk", "\\Recent", "Work"]);
        assert_eq!(
            f.names().collect::<Vec<_>>(),
            ["\\Seen", "\\Flagged", "$Junk", "Work"]
        );
        assert_eq!(f.keywords_text().as_deref(), Some("$Junk Work"));
        assert_eq!(
            Flags::from_stored(f.system.0, f.keywords_text().as_deref()),
            f
        );
    }

    #[test]
    fn operations() {
        let base = Flags::from_names(["\\Seen", "a"]);
        let add = base.apply(&FlagOp::Add(Flags::from_names(["\\Deleted", "b", "A"])));
        assert_eq!(
            add.names().collect::<Vec<_>>(),
            ["\\Seen", "\\Deleted", "a", "b"]
        );
        let removed = add.apply(&FlagOp::Remove(Flags::from_names(["\\Seen", "B"])));
        assert_eq!(removed.names().collect::<Vec<_>>(), ["\\Deleted", "a"]);
        let replaced = removed.apply(&FlagOp::Replace(Flags::default()));
        assert_eq!(replaced, Flags::default());
    }
}
