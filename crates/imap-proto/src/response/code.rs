//! Response codes (`resp-text-code`, RFC 9051 §7.1 plus RFC 4315 UIDPLUS,
//! RFC 5530, RFC 7162, RFC 7888, RFC 8474, RFC 5182, RFC 4978, RFC 6154).

use std::num::{NonZeroU32, NonZeroU64};

use crate::encode::Out;
use crate::types::atom::{Atom, Capability};
use crate::types::flag::PermanentFlag;
use crate::types::nonempty::NonEmpty;
use crate::types::objectid::ObjectId;
use crate::types::sequence::SequenceSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    Alert,
    /// Optionally lists the supported charsets.
    BadCharset(Vec<String>),
    Capability(NonEmpty<Capability>),
    Parse,
    PermanentFlags(Vec<PermanentFlag>),
    ReadOnly,
    ReadWrite,
    TryCreate,
    UidNext(NonZeroU32),
    UidValidity(NonZeroU32),
    /// IMAP4rev1 only: first unseen message.
    Unseen(NonZeroU32),
    /// RFC 4315 / RFC 9051: `APPENDUID uidvalidity uid-set`.
    AppendUid {
        uid_validity: NonZeroU32,
        uids: SequenceSet,
    },
    /// `COPYUID uidvalidity source-uids dest-uids`.
    CopyUid {
        uid_validity: NonZeroU32,
        source: SequenceSet,
        destination: SequenceSet,
    },
    UidNotSticky,
    /// RFC 7162.
    HighestModSeq(NonZeroU64),
    NoModSeq,
    Modified(SequenceSet),
    Closed,
    /// RFC 5530 and RFC 9051.
    OverQuota,
    Limit,
    NonExistent,
    AlreadyExists,
    AuthenticationFailed,
    AuthorizationFailed,
    Expired,
    PrivacyRequired,
    ContactAdmin,
    NoPerm,
    InUse,
    ExpungeIssued,
    Corruption,
    ServerBug,
    ClientBug,
    Cannot,
    Unavailable,
    /// RFC 9051 §7.1: the BINARY fetch could not decode the part.
    UnknownCte,
    /// RFC 7888 §4.
    TooBig,
    /// RFC 8474 §4.
    MailboxId(ObjectId),
    /// RFC 5182 §2.
    NotSaved,
    /// RFC 9051 §7.1 (from RFC 5530 ext.): DELETE of a mailbox with children.
    HasChildren,
    /// RFC 4978 §3.
    CompressionActive,
    /// RFC 6154 §6.
    UseAttr,
    /// Any other code: `atom [SP 1*<any TEXT-CHAR except "]">]`.
    Other {
        name: Atom,
        value: Option<String>,
    },
}

impl Code {
    pub(crate) fn encode(&self, out: &mut Out) {
        let simple = |out: &mut Out, name: &str| {
            out.str(name);
        };
        match self {
            Code::Alert => simple(out, "ALERT"),
            Code::BadCharset(charsets) => {
                out.str("BADCHARSET");
                if !charsets.is_empty() {
                    out.sp().list(charsets, |o, c| {
                        o.astring(c.as_bytes());
                    });
                }
            }
            Code::Capability(caps) => {
                out.str("CAPABILITY");
                for cap in caps {
                    out.sp().display(cap);
                }
            }
            Code::Parse => simple(out, "PARSE"),
            Code::PermanentFlags(flags) => {
                out.str("PERMANENTFLAGS ").list(flags, |o, f| {
                    o.display(f);
                });
            }
            Code::ReadOnly => simple(out, "READ-ONLY"),
            Code::ReadWrite => simple(out, "READ-WRITE"),
            Code::TryCreate => simple(out, "TRYCREATE"),
            Code::UidNext(n) => {
                out.str("UIDNEXT ").display(n);
            }
            Code::UidValidity(n) => {
                out.str("UIDVALIDITY ").display(n);
            }
            Code::Unseen(n) => {
                out.str("UNSEEN ").display(n);
            }
            Code::AppendUid { uid_validity, uids } => {
                out.str("APPENDUID ")
                    .display(uid_validity)
                    .sp()
                    .display(uids);
            }
            Code::CopyUid {
                uid_validity,
                source,
                destination,
            } => {
                out.str("COPYUID ")
                    .display(uid_validity)
                    .sp()
                    .display(source)
                    .sp()
                    .display(destination);
            }
            Code::UidNotSticky => simple(out, "UIDNOTSTICKY"),
            Code::HighestModSeq(n) => {
                out.str("HIGHESTMODSEQ ").display(n);
            }
            Code::NoModSeq => simple(out, "NOMODSEQ"),
            Code::Modified(set) => {
                out.str("MODIFIED ").display(set);
            }
            Code::Closed => simple(out, "CLOSED"),
            Code::OverQuota => simple(out, "OVERQUOTA"),
            Code::Limit => simple(out, "LIMIT"),
            Code::NonExistent => simple(out, "NONEXISTENT"),
            Code::AlreadyExists => simple(out, "ALREADYEXISTS"),
            Code::AuthenticationFailed => simple(out, "AUTHENTICATIONFAILED"),
            Code::AuthorizationFailed => simple(out, "AUTHORIZATIONFAILED"),
            Code::Expired => simple(out, "EXPIRED"),
            Code::PrivacyRequired => simple(out, "PRIVACYREQUIRED"),
            Code::ContactAdmin => simple(out, "CONTACTADMIN"),
            Code::NoPerm => simple(out, "NOPERM"),
            Code::InUse => simple(out, "INUSE"),
            Code::ExpungeIssued => simple(out, "EXPUNGEISSUED"),
            Code::Corruption => simple(out, "CORRUPTION"),
            Code::ServerBug => simple(out, "SERVERBUG"),
            Code::ClientBug => simple(out, "CLIENTBUG"),
            Code::Cannot => simple(out, "CANNOT"),
            Code::Unavailable => simple(out, "UNAVAILABLE"),
            Code::UnknownCte => simple(out, "UNKNOWN-CTE"),
            Code::TooBig => simple(out, "TOOBIG"),
            Code::MailboxId(id) => {
                out.str("MAILBOXID (").display(id).raw(b")");
            }
            Code::NotSaved => simple(out, "NOTSAVED"),
            Code::HasChildren => simple(out, "HASCHILDREN"),
            Code::CompressionActive => simple(out, "COMPRESSIONACTIVE"),
            Code::UseAttr => simple(out, "USEATTR"),
            Code::Other { name, value } => {
                out.display(name);
                if let Some(value) = value {
                    // The value is free text up to "]"; drop what would
                    // break the response line.
                    let clean: String = value
                        .chars()
                        .filter(|&c| c != ']' && c != '\r' && c != '\n')
                        .collect();
                    out.sp().str(&clean);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::flag::Flag;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn every_code() {
        let set = |r: &[(u32, u32)]| SequenceSet::from_ranges(r.iter().copied()).unwrap();
        let cases: Vec<(Code, &str)> = vec![
            (Code::Alert, "ALERT"),
            (Code::BadCharset(vec![]), "BADCHARSET"),
            (
                Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()]),
                "BADCHARSET (UTF-8 US-ASCII)",
            ),
            (
                Code::Capability(
                    NonEmpty::from_vec(vec![
                        Capability::new("IMAP4rev2").unwrap(),
                        Capability::new("AUTH=PLAIN").unwrap(),
                    ])
                    .unwrap(),
                ),
                "CAPABILITY IMAP4rev2 AUTH=PLAIN",
            ),
            (Code::Parse, "PARSE"),
            (
                Code::PermanentFlags(vec![
                    PermanentFlag::Flag(Flag::Deleted),
                    PermanentFlag::Flag(Flag::Seen),
                    PermanentFlag::Wildcard,
                ]),
                "PERMANENTFLAGS (\\Deleted \\Seen \\*)",
            ),
            (Code::PermanentFlags(vec![]), "PERMANENTFLAGS ()"),
            (Code::ReadOnly, "READ-ONLY"),
            (Code::ReadWrite, "READ-WRITE"),
            (Code::TryCreate, "TRYCREATE"),
            (Code::UidNext(nz(4392)), "UIDNEXT 4392"),
            (Code::UidValidity(nz(3857529045)), "UIDVALIDITY 3857529045"),
            (Code::Unseen(nz(12)), "UNSEEN 12"),
            (
                Code::AppendUid {
                    uid_validity: nz(38505),
                    uids: set(&[(3955, 3955)]),
                },
                "APPENDUID 38505 3955",
            ),
            (
                Code::CopyUid {
                    uid_validity: nz(38505),
                    source: set(&[(304, 304), (319, 320)]),
                    destination: set(&[(3956, 3958)]),
                },
                "COPYUID 38505 304,319:320 3956:3958",
            ),
            (Code::UidNotSticky, "UIDNOTSTICKY"),
            (
                Code::HighestModSeq(NonZeroU64::new(715194045007).unwrap()),
                "HIGHESTMODSEQ 715194045007",
            ),
            (Code::NoModSeq, "NOMODSEQ"),
            (Code::Modified(set(&[(7, 7), (9, 9)])), "MODIFIED 7,9"),
            (Code::Closed, "CLOSED"),
            (Code::OverQuota, "OVERQUOTA"),
            (Code::Limit, "LIMIT"),
            (Code::NonExistent, "NONEXISTENT"),
            (Code::AlreadyExists, "ALREADYEXISTS"),
            (Code::AuthenticationFailed, "AUTHENTICATIONFAILED"),
            (Code::AuthorizationFailed, "AUTHORIZATIONFAILED"),
            (Code::Expired, "EXPIRED"),
            (Code::PrivacyRequired, "PRIVACYREQUIRED"),
            (Code::ContactAdmin, "CONTACTADMIN"),
            (Code::NoPerm, "NOPERM"),
            (Code::InUse, "INUSE"),
            (Code::ExpungeIssued, "EXPUNGEISSUED"),
            (Code::Corruption, "CORRUPTION"),
            (Code::ServerBug, "SERVERBUG"),
            (Code::ClientBug, "CLIENTBUG"),
            (Code::Cannot, "CANNOT"),
            (Code::Unavailable, "UNAVAILABLE"),
            (Code::UnknownCte, "UNKNOWN-CTE"),
            (Code::TooBig, "TOOBIG"),
            (
                Code::MailboxId(ObjectId::new("F2212ea87-6097-4256-9d51-71338625").unwrap()),
                "MAILBOXID (F2212ea87-6097-4256-9d51-71338625)",
            ),
            (Code::NotSaved, "NOTSAVED"),
            (Code::HasChildren, "HASCHILDREN"),
            (Code::CompressionActive, "COMPRESSIONACTIVE"),
            (Code::UseAttr, "USEATTR"),
            (
                Code::Other {
                    name: Atom::new("X-FOO").unwrap(),
                    value: None,
                },
                "X-FOO",
            ),
            (
                Code::Other {
                    name: Atom::new("X-FOO").unwrap(),
                    value: Some("a]b\r\nc".into()),
                },
                "X-FOO abc",
            ),
        ];
        for (code, expected) in cases {
            let mut out = Out::new(false);
            code.encode(&mut out);
            let bytes = crate::encode::flatten(out.finish()).unwrap();
            assert_eq!(String::from_utf8_lossy(&bytes), expected);
        }
    }
}
