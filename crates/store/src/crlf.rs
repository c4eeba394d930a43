use std::borrow::Cow;

/// Turns bare LF (and bare CR) line ends into CRLF, the form every mail protocol sends, so a
/// message stored from a Unix file reads back with RFC822.SIZE equal to the octets FETCH and
/// RETR send. Already-CRLF input is returned as is, without copying.
pub fn normalize_crlf(bytes: &[u8]) -> Cow<'_, [u8]> {
    let needs_work = bytes.iter().enumerate().any(|(i, &b)| match b {
        b'\n' => i == 0 || bytes[i - 1] != b'\r',
        b'\r' => bytes.get(i + 1) != Some(&b'\n'),
        _ => false,
    });
    if !needs_work {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 2;
                continue;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends() {
        for (input, expected) in [
            (&b"a\r\nb\r\n"[..], &b"a\r\nb\r\n"[..]),
            (b"a\nb\n", b"a\r\nb\r\n"),
            (b"\na\rb\r\n", b"\r\na\r\nb\r\n"),
            (b"", b""),
        ] {
            assert_eq!(&normalize_crlf(input)[..], expected);
        }
        assert!(matches!(normalize_crlf(b"x\r\n"), Cow::Borrowed(_)));
    }
}
