//! xtext (RFC 3461 §4): the encoding the DSN parameters ENVID and ORCPT travel in. Pure.
//! The SMTP side decodes what clients send with it; the queue runner encodes ENVID for the
//! next hop and decodes ORCPT for its reports.

/// RFC 3461 §4: xtext is `!`..`~` except `+` and `=`, and `+XX` (two upper-case hex digits)
/// for any octet. None if `text` is not xtext or decodes to something not UTF-8.
pub fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                let hi = hex_digit(*bytes.get(i + 1)?)?;
                let lo = hex_digit(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'=' => return None,
            b'!'..=b'~' => {
                out.push(b);
                i += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// RFC 3461 §4: the xtext form of `text`; `+`, `=` and anything outside `!`..`~` become `+XX`.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'+' | b'=' => out.push_str(&format!("+{b:02X}")),
            b'!'..=b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("+{b:02X}")),
        }
    }
    out
}

/// True if `text` may stand as a parameter value on a command line as it is: xtext's
/// characters only, so no space, control character or `=` can add a parameter or a command.
pub fn is_xtext(text: &str) -> bool {
    decode(text).is_some()
}

/// RFC 3461 §4 asks for upper case hex; lower case is refused rather than guessed at.
fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_round_trips() {
        assert_eq!(decode("a+2Bb@c.example").as_deref(), Some("a+b@c.example"));
        assert_eq!(decode("x+3Dy+20z").as_deref(), Some("x=y z"));
        assert_eq!(decode("").as_deref(), Some(""));
        assert_eq!(decode("+C3+B6").as_deref(), Some("ö"));
        for bad in ["a+", "a+2", "a+2b", "a+ZZ", "a=b", "a b", "ö", "+FF"] {
            assert_eq!(decode(bad), None, "{bad}");
            assert!(!is_xtext(bad), "{bad}");
        }
        for text in ["plain", "a+b=c d", "tab\there", "jörg@x", "+++", ""] {
            let encoded = encode(text);
            assert!(
                encoded
                    .bytes()
                    .all(|b| (b'!'..=b'~').contains(&b) && b != b'='),
                "{encoded}"
            );
            assert_eq!(decode(&encoded).as_deref(), Some(text));
        }
        assert_eq!(encode("a+b=c d"), "a+2Bb+3Dc+20d");
    }
}
