//! Replies: a three-digit code, an enhanced status code (RFC 2034, RFC 3463) and text
//! (RFC 5321 §4.2). Multi-line replies use `code-` on every line but the last.

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// `x.y.z`; None for the greeting and the EHLO/LHLO reply (RFC 2034 §4).
    pub enhanced: Option<&'static str>,
    pub lines: Vec<Cow<'static, str>>,
}

impl Reply {
    pub fn new(code: u16, enhanced: &'static str, text: impl Into<Cow<'static, str>>) -> Self {
        Reply {
            code,
            enhanced: Some(enhanced),
            lines: vec![text.into()],
        }
    }

    /// A reply without an enhanced status code.
    pub fn plain(code: u16, lines: Vec<Cow<'static, str>>) -> Self {
        Reply {
            code,
            enhanced: None,
            lines,
        }
    }

    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// The wire form. CR and LF inside a line (never expected) are replaced so a reply can't
    /// be split into two.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let count = self.lines.len().max(1);
        for i in 0..count {
            let text = self.lines.get(i).map(|l| l.as_ref()).unwrap_or("");
            let sep = if i + 1 == count { ' ' } else { '-' };
            out.extend_from_slice(format!("{}{}", self.code, sep).as_bytes());
            if let Some(enhanced) = self.enhanced {
                out.extend_from_slice(enhanced.as_bytes());
                out.push(b' ');
            }
            out.extend(
                text.bytes()
                    .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            out.extend_from_slice(b"\r\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms() {
        for (reply, expected) in [
            (Reply::new(250, "2.0.0", "OK"), "250 2.0.0 OK\r\n"),
            (
                Reply::plain(250, vec!["a".into(), "b".into()]),
                "250-a\r\n250 b\r\n",
            ),
            (Reply::new(500, "5.5.2", "x\r\ny"), "500 5.5.2 x  y\r\n"),
            (Reply::plain(220, vec![]), "220 \r\n"),
        ] {
            assert_eq!(String::from_utf8(reply.to_bytes()).unwrap(), expected);
        }
    }
}
