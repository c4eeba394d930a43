//! The allow-list: where imap-codec and our parser knowingly disagree.
//! On a valid line a deviation means "imap-codec rejects it"; on an
//! invalid line it means "imap-codec accepts it". A tagged line whose
//! verdicts agree after all fails the test, so the list cannot go stale.

pub struct Deviation {
    pub id: &'static str,
    pub reason: &'static str,
}

pub const ESEARCH: Deviation = Deviation {
    id: "esearch",
    reason: "ESEARCH / ESORT RETURN options (RFC 4731, RFC 5267) are not implemented by imap-codec",
};
pub const SEARCHRES: Deviation = Deviation {
    id: "searchres",
    reason: "the `$` saved-result sequence set (RFC 5182 SEARCHRES) is not implemented by imap-codec",
};
pub const OBJECTID: Deviation = Deviation {
    id: "objectid",
    reason: "EMAILID / THREADID / MAILBOXID (RFC 8474 OBJECTID) are not implemented by imap-codec",
};
pub const SAVEDATE: Deviation = Deviation {
    id: "savedate",
    reason: "SAVEDATE fetch item and SAVED* search keys (RFC 8514) are not implemented by imap-codec",
};
pub const LIST_EXTENDED: Deviation = Deviation {
    id: "list-extended",
    reason: "imap-codec parses only the basic `LIST reference pattern`; selection/return options \
             and pattern lists (RFC 5258, RFC 5819, RFC 6154 §5) are rejected",
};
pub const CREATE_USE: Deviation = Deviation {
    id: "create-use",
    reason: "CREATE ... (USE (...)) (RFC 6154 §3) is not implemented by imap-codec",
};
pub const STATUS_ITEMS: Deviation = Deviation {
    id: "status-items",
    reason: "imap-codec's status-att lacks APPENDLIMIT (RFC 7889)",
};
pub const MULTIAPPEND: Deviation = Deviation {
    id: "multiappend",
    reason: "imap-codec's APPEND takes exactly one message (no RFC 3502 MULTIAPPEND)",
};
pub const APPEND_UTF8: Deviation = Deviation {
    id: "append-utf8",
    reason: "APPEND ... UTF8 (literal8) (RFC 6855 §4) is not implemented by imap-codec",
};
pub const NOT_IN_CODEC: Deviation = Deviation {
    id: "command-not-in-codec",
    reason: "UNAUTHENTICATE (RFC 8437) and NOTIFY (RFC 5465) are not implemented by imap-codec",
};
pub const COMPRESS_OTHER: Deviation = Deviation {
    id: "compress-other",
    reason: "we deliberately parse any algorithm atom so the server can refuse it with a tagged \
             reply naming it (RFC 4978 §3); imap-codec only knows DEFLATE",
};
pub const NUMBER64: Deviation = Deviation {
    id: "number64",
    reason: "RFC 9051 makes LARGER / SMALLER / partial offsets number64; imap-codec parses them \
             as 32-bit numbers",
};
pub const NESTING: Deviation = Deviation {
    id: "nesting",
    reason: "imap-codec stops search-key recursion at depth 9; we allow MAX_NESTING (32)",
};
pub const LEAP_SECOND: Deviation = Deviation {
    id: "leap-second",
    reason: "RFC 9051 `time` admits second 60 (leap second); imap-codec builds a chrono time, \
             which rejects it",
};
pub const TAG_LIMIT: Deviation = Deviation {
    id: "tag-limit",
    reason: "tags are capped at DEFAULT_MAX_TAG (64) octets by our framer (habit 6); imap-codec \
             has no limit",
};
pub const EMPTY_STATUS_FETCH: Deviation = Deviation {
    id: "empty-list",
    reason: "imap-codec accepts empty `()` STATUS item and FETCH attribute lists; RFC 9051 \
             requires at least one",
};
pub const ZONE_MINUTES: Deviation = Deviation {
    id: "zone-minutes",
    reason: "imap-codec accepts zone minutes >= 60 (e.g. +0060) in date-time",
};
pub const EMPTY_IR: Deviation = Deviation {
    id: "empty-ir",
    reason: "imap-codec accepts `AUTHENTICATE mech SP` with an empty initial response; RFC 4959 \
             §3 requires `=` for an empty response",
};
pub const VANISHED: Deviation = Deviation {
    id: "vanished",
    reason: "imap-codec accepts VANISHED without CHANGEDSINCE or outside UID FETCH; RFC 7162 \
             §3.2.6 requires a BAD",
};
pub const KNOWN_UIDS: Deviation = Deviation {
    id: "known-uids",
    reason: "imap-codec accepts `*` in QRESYNC known-uids; RFC 7162 §3.2.5 forbids it",
};
pub const MODSEQ_RANGE: Deviation = Deviation {
    id: "modseq-range",
    reason: "imap-codec accepts mod-sequences and SETQUOTA limits above 2^63-1; RFC 7162 §7 and \
             RFC 9051 number64 stop at 2^63-1",
};
