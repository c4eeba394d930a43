//! Reply lines (RFC 1939 §3) with RFC 2449/3206 response codes, and the byte-stuffing of
//! multi-line bodies.

/// Extended response codes (RFC 2449 §8, RFC 3206).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespCode {
    InUse,
    LoginDelay,
    SysTemp,
    SysPerm,
    Auth,
}

impl RespCode {
    fn as_str(self) -> &'static str {
        match self {
            RespCode::InUse => "IN-USE",
            RespCode::LoginDelay => "LOGIN-DELAY",
            RespCode::SysTemp => "SYS/TEMP",
            RespCode::SysPerm => "SYS/PERM",
            RespCode::Auth => "AUTH",
        }
    }
}

pub fn ok(text: &str) -> Vec<u8> {
    if text.is_empty() {
        b"+OK\r\n".to_vec()
    } else {
        format!("+OK {text}\r\n").into_bytes()
    }
}

pub fn err(code: Option<RespCode>, text: &str) -> Vec<u8> {
    match code {
        Some(code) => format!("-ERR [{}] {text}\r\n", code.as_str()).into_bytes(),
        None => format!("-ERR {text}\r\n").into_bytes(),
    }
}

/// Appends `content` as a multi-line body: every line starting with "." gets another "."
/// in front, the body ends with CRLF, then the terminating ".\r\n" (RFC 1939 §3).
pub fn dot_stuff(content: &[u8], out: &mut Vec<u8>) {
    out.reserve(content.len() + content.len() / 64 + 5);
    let mut at_line_start = true;
    let mut rest = content;
    while !rest.is_empty() {
        if at_line_start && rest[0] == b'.' {
            out.push(b'.');
        }
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                out.extend_from_slice(&rest[..=i]);
                rest = &rest[i + 1..];
                at_line_start = true;
            }
            None => {
                out.extend_from_slice(rest);
                rest = &[];
                at_line_start = false;
            }
        }
    }
    if !content.is_empty() && !content.ends_with(b"\r\n") {
        if content.ends_with(b"\r") {
            out.push(b'\n');
        } else {
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b".\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stuffed(content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        dot_stuff(content, &mut out);
        out
    }

    #[test]
    fn byte_stuffing() {
        assert_eq!(
            stuffed(b"a\r\n.b\r\n..c\r\n.\r\n"),
            b"a\r\n..b\r\n...c\r\n..\r\n.\r\n"
        );
        assert_eq!(stuffed(b".start\r\nend"), b"..start\r\nend\r\n.\r\n");
        assert_eq!(stuffed(b""), b".\r\n");
        assert_eq!(stuffed(b"x\r"), b"x\r\n.\r\n");
        assert_eq!(stuffed(b"mid.dle\r\n"), b"mid.dle\r\n.\r\n");
    }

    #[test]
    fn reply_lines() {
        assert_eq!(ok(""), b"+OK\r\n");
        assert_eq!(ok("2 320"), b"+OK 2 320\r\n");
        assert_eq!(
            err(Some(RespCode::InUse), "locked"),
            b"-ERR [IN-USE] locked\r\n"
        );
        assert_eq!(err(None, "no such message"), b"-ERR no such message\r\n");
    }
}
