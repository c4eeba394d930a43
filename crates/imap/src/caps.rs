//! The CAPABILITY list. Only what works is advertised; the reason an extension is absent is
//! written here (habit 12).
//!
//! Not advertised: NOTIFY and METADATA (not implemented), URLAUTH (not implemented),
//! QUOTASET (quotas are set by the administrator), LITERAL- (LITERAL+ is offered instead: the
//! framer takes any non-synchronizing literal up to the literal limit).

use mailroom_imap_proto::Capability;
use mailroom_imap_proto::NonEmpty;

/// What the session's capability list depends on.
pub(crate) struct CapsContext {
    pub authenticated: bool,
    /// STARTTLS can still be offered.
    pub starttls: bool,
    /// Passwords are refused on this connection (RFC 9051 §6.2.3 LOGINDISABLED).
    pub login_disabled: bool,
    pub append_limit: u64,
}

/// Every name above is a valid atom, so this is `Some`; the type keeps that unchecked promise
/// out of a panic.
pub(crate) fn capabilities(ctx: &CapsContext) -> Option<NonEmpty<Capability>> {
    let mut names: Vec<String> = vec!["IMAP4rev1".into(), "IMAP4rev2".into()];
    let mut push = |s: &str| names.push(s.to_string());
    push("LITERAL+");
    push("SASL-IR");
    push("ID");
    push("ENABLE");
    if !ctx.authenticated {
        if ctx.starttls {
            push("STARTTLS");
        }
        if ctx.login_disabled {
            push("LOGINDISABLED");
        } else {
            push("AUTH=PLAIN");
            push("AUTH=LOGIN");
            // RFC 7677; not SCRAM-SHA-256-PLUS: no channel binding (tls-exporter) yet.
            push("AUTH=SCRAM-SHA-256");
        }
    } else {
        for cap in [
            "NAMESPACE",
            "UNSELECT",
            "UIDPLUS",
            "MOVE",
            "IDLE",
            "MULTIAPPEND",
            "CATENATE",
            "BINARY",
            "OBJECTID",
            "ESEARCH",
            "ESORT",
            "CONTEXT=SEARCH",
            "CONTEXT=SORT",
            "PARTIAL",
            "SEARCHRES",
            "WITHIN",
            "SAVEDATE",
            "CONDSTORE",
            "QRESYNC",
            "SORT",
            "COMPRESS=DEFLATE",
            "SORT=DISPLAY",
            "THREAD=ORDEREDSUBJECT",
            "THREAD=REFERENCES",
            "QUOTA",
            "QUOTA=RES-STORAGE",
            "QUOTA=RES-MESSAGE",
            "CHILDREN",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "SPECIAL-USE",
            "CREATE-SPECIAL-USE",
            "STATUS=SIZE",
            "UNAUTHENTICATE",
            "UTF8=ACCEPT",
        ] {
            push(cap);
        }
        names.push(format!("APPENDLIMIT={}", ctx.append_limit));
    }
    let mut caps = names.into_iter().filter_map(|n| Capability::new(n).ok());
    let mut out = NonEmpty::new(caps.next()?);
    for cap in caps {
        out.push(cap);
    }
    Some(out)
}
