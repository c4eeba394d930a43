//! QUOTA commands (RFC 9208 §4): GETQUOTA, GETQUOTAROOT, SETQUOTA.

use std::fmt;

use crate::cursor::{Cursor, PResult};
use crate::encode::Out;
use crate::types::atom::Atom;

/// `resource-name` (RFC 9208 §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QuotaResource {
    /// Kibibytes of message data.
    Storage,
    Message,
    Mailbox,
    AnnotationStorage,
    Other(Atom),
}

impl QuotaResource {
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        let name = c.atom()?;
        Ok(match name.to_ascii_uppercase().as_str() {
            "STORAGE" => QuotaResource::Storage,
            "MESSAGE" => QuotaResource::Message,
            "MAILBOX" => QuotaResource::Mailbox,
            "ANNOTATION-STORAGE" => QuotaResource::AnnotationStorage,
            upper => match Atom::new(upper) {
                Ok(atom) => QuotaResource::Other(atom),
                Err(_) => return c.syntax("resource name"),
            },
        })
    }
}

impl fmt::Display for QuotaResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuotaResource::Storage => f.write_str("STORAGE"),
            QuotaResource::Message => f.write_str("MESSAGE"),
            QuotaResource::Mailbox => f.write_str("MAILBOX"),
            QuotaResource::AnnotationStorage => f.write_str("ANNOTATION-STORAGE"),
            QuotaResource::Other(atom) => atom.fmt(f),
        }
    }
}

/// `SETQUOTA` limits: resource and new limit.
pub type QuotaLimits = Vec<(QuotaResource, u64)>;

/// After `SETQUOTA`: `SP quota-root SP "(" [resource SP limit ...] ")"`.
pub(crate) fn parse_setquota(c: &mut Cursor) -> PResult<(Vec<u8>, QuotaLimits)> {
    c.sp()?;
    let root = c.astring()?;
    c.sp()?;
    let limits = c.paren_list(true, |c| {
        let resource = QuotaResource::parse(c)?;
        c.sp()?;
        Ok((resource, c.number64()?))
    })?;
    Ok((root, limits))
}

pub(crate) fn encode_setquota(out: &mut Out, root: &[u8], limits: &[(QuotaResource, u64)]) {
    out.str("SETQUOTA ")
        .astring(root)
        .sp()
        .list(limits, |o, (r, n)| {
            o.display(r).sp().display(n);
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;

    #[test]
    fn setquota_table() {
        let parse = |s: &str| parse_setquota(&mut Cursor::new(format!(" {s}\r\n").as_bytes()));
        assert_eq!(
            parse("\"\" (STORAGE 512)"),
            Ok((vec![], vec![(QuotaResource::Storage, 512)]))
        );
        assert_eq!(
            parse("#user/alice (storage 10 MESSAGE 20 mailbox 3 ANNOTATION-STORAGE 1 X-FOO 2)"),
            Ok((
                b"#user/alice".to_vec(),
                vec![
                    (QuotaResource::Storage, 10),
                    (QuotaResource::Message, 20),
                    (QuotaResource::Mailbox, 3),
                    (QuotaResource::AnnotationStorage, 1),
                    (QuotaResource::Other(Atom::new("X-FOO").unwrap()), 2),
                ]
            ))
        );
        assert_eq!(parse("\"\" ()"), Ok((vec![], vec![])));
        for bad in ["\"\" (STORAGE)", "\"\" STORAGE 1", "\"\" (STORAGE -1)"] {
            assert!(matches!(parse(bad), Err(PErr::Fail(_))), "{bad}");
        }
        let mut out = Out::new(false);
        encode_setquota(
            &mut out,
            b"",
            &[(QuotaResource::Storage, 512), (QuotaResource::Message, 9)],
        );
        assert_eq!(
            crate::encode::flatten(out.finish()).unwrap(),
            b"SETQUOTA \"\" (STORAGE 512 MESSAGE 9)"
        );
    }
}
