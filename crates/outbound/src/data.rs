//! The DATA body on the wire (RFC 5321 §4.5.2): lines starting with "." get one more, the body
//! ends with CRLF, and "." alone on a line closes it.

/// Dot-stuffs `content` and appends the terminating `.` line. A body not ending with CRLF gets
/// one, so the terminator always stands on its own line. Bare CR or LF are left alone: the
/// queue holds messages exactly as submitted, already in CRLF form.
pub fn dot_stuff(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + content.len() / 64 + 5);
    let mut at_line_start = true;
    for &byte in content {
        if at_line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        at_line_start = byte == b'\n';
    }
    if !content.is_empty() && !content.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// True when the bytes need an 8-bit clean path (BODY=8BITMIME, RFC 6152).
pub fn has_eight_bit(bytes: &[u8]) -> bool {
    bytes.iter().any(|b| *b >= 0x80)
}

/// The header section of a message: everything up to and including the blank line's first
/// CRLF (RFC 5322 §2.1); the whole message if it has no body.
pub fn header_section(content: &[u8]) -> &[u8] {
    match content.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => &content[..at + 2],
        None => content,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffs_leading_dots() {
        let out = dot_stuff(b".hidden\r\nok\r\n..two\r\n.\r\n");
        assert_eq!(out, b"..hidden\r\nok\r\n...two\r\n..\r\n.\r\n");
    }

    #[test]
    fn dot_inside_a_line_is_left_alone() {
        assert_eq!(dot_stuff(b"a.b\r\n"), b"a.b\r\n.\r\n");
    }

    #[test]
    fn adds_missing_final_crlf() {
        assert_eq!(dot_stuff(b"no newline"), b"no newline\r\n.\r\n");
        assert_eq!(dot_stuff(b""), b".\r\n");
    }

    #[test]
    fn finds_the_header_section() {
        assert_eq!(
            header_section(b"A: 1\r\nB: 2\r\n\r\nbody\r\n"),
            b"A: 1\r\nB: 2\r\n"
        );
        assert_eq!(header_section(b"A: 1\r\n"), b"A: 1\r\n");
    }

    #[test]
    fn eight_bit_detection() {
        assert!(!has_eight_bit(b"plain"));
        assert!(has_eight_bit("caf\u{e9}".as_bytes()));
    }
}
