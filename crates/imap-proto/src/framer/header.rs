//! Literal headers at the end of a command line: `{n}`, `{n+}`
//! (RFC 9051 §4.3, RFC 7888 LITERAL+/LITERAL-) and `~{n}` (RFC 3516 literal8).

use crate::framer::LiteralMode;

/// A literal header at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Saturates at `u64::MAX` on absurd digit strings (then too large).
    pub(crate) size: u64,
    pub(crate) mode: LiteralMode,
    pub(crate) binary: bool,
}

/// `{n}`, `{n+}`, `~{n}` or `~{n+}` at the end of a line (without CRLF).
pub(crate) fn literal_header(line: &[u8]) -> Option<Header> {
    let inner = line.strip_suffix(b"}")?;
    let (inner, mode) = match inner.strip_suffix(b"+") {
        Some(inner) => (inner, LiteralMode::NonSync),
        None => (inner, LiteralMode::Sync),
    };
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = inner.get(open + 1..)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let size = digits
        .iter()
        .try_fold(0u64, |acc, &d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .unwrap_or(u64::MAX);
    let binary = open.checked_sub(1).and_then(|i| inner.get(i)) == Some(&b'~');
    Some(Header { size, mode, binary })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_headers() {
        let cases: &[(&[u8], Option<(u64, LiteralMode, bool)>)] = &[
            (b"a LOGIN {5}", Some((5, LiteralMode::Sync, false))),
            (b"a LOGIN {5+}", Some((5, LiteralMode::NonSync, false))),
            (b"a APPEND x ~{12}", Some((12, LiteralMode::Sync, true))),
            (b"a APPEND x ~{0+}", Some((0, LiteralMode::NonSync, true))),
            (
                b"a X {99999999999999999999999}",
                Some((u64::MAX, LiteralMode::Sync, false)),
            ),
            (b"a X {}", None),
            (b"a X {5", None),
            (b"a X {a}", None),
            (b"a X \"{5}\"", None),
            (b"}", None),
        ];
        for &(line, expected) in cases {
            let got = literal_header(line).map(|h| (h.size, h.mode, h.binary));
            assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(line));
        }
    }
}
