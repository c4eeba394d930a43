//! The service extensions a server announces in its EHLO reply (RFC 5321 §4.1.1.1): one
//! keyword per line after the greeting line, with optional parameters.

use crate::reply::Reply;

/// What this client uses of a server's extensions; everything else is ignored. PIPELINING
/// (RFC 2920) is deliberately not used: one command at a time keeps each RCPT's reply tied to
/// its recipient without bookkeeping, and queue delivery is not latency-bound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    /// STARTTLS (RFC 3207).
    pub starttls: bool,
    /// SIZE (RFC 1870 §4): `Some(0)` means announced without a fixed limit.
    pub size: Option<u64>,
    /// 8BITMIME (RFC 6152).
    pub eight_bit_mime: bool,
    /// SMTPUTF8 (RFC 6531).
    pub smtputf8: bool,
    /// ENHANCEDSTATUSCODES (RFC 2034); informative only, replies are checked either way.
    pub enhanced_status_codes: bool,
    /// DSN (RFC 3461): the server takes NOTIFY, ORCPT, RET and ENVID and reports on
    /// delivery itself.
    pub dsn: bool,
}

impl Extensions {
    /// Reads the EHLO reply; the first line is the server's greeting, not an extension.
    pub fn from_ehlo(reply: &Reply) -> Self {
        let mut ext = Extensions::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "STARTTLS" => ext.starttls = true,
                "SIZE" => {
                    // A limit we can't read is treated as "no limit": the server still refuses
                    // with 552 at MAIL or after DATA if the message is too big.
                    ext.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0));
                }
                "8BITMIME" => ext.eight_bit_mime = true,
                "SMTPUTF8" => ext.smtputf8 = true,
                "ENHANCEDSTATUSCODES" => ext.enhanced_status_codes = true,
                "DSN" => ext.dsn = true,
                _ => {}
            }
        }
        ext
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_extensions_we_use() {
        let reply = Reply {
            code: 250,
            lines: vec![
                "mx.example.org Hello".into(),
                "PIPELINING".into(),
                "SIZE 10240000".into(),
                "starttls".into(),
                "8BITMIME".into(),
                "SMTPUTF8".into(),
                "ENHANCEDSTATUSCODES".into(),
                "DSN".into(),
            ],
        };
        let ext = Extensions::from_ehlo(&reply);
        assert_eq!(
            ext,
            Extensions {
                starttls: true,
                size: Some(10_240_000),
                eight_bit_mime: true,
                smtputf8: true,
                enhanced_status_codes: true,
                dsn: true,
            }
        );
    }

    #[test]
    fn greeting_line_is_not_an_extension() {
        let reply = Reply::new(250, "STARTTLS");
        assert_eq!(Extensions::from_ehlo(&reply), Extensions::default());
    }

    #[test]
    fn size_without_limit() {
        let reply = Reply {
            code: 250,
            lines: vec!["hi".into(), "SIZE".into()],
        };
        assert_eq!(Extensions::from_ehlo(&reply).size, Some(0));
    }
}
