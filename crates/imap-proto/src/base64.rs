//! Standard base64 (RFC 4648 §4) for SASL exchanges (RFC 9051 §6.2.2,
//! RFC 4959). Small enough to keep the crate free of another dependency.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let symbols = chunk.len() + 1;
        for i in 0..4 {
            if i < symbols {
                let index = ((n >> (18 - 6 * i)) & 0x3f) as usize;
                out.push(ALPHABET.get(index).map(|&c| char::from(c)).unwrap_or('A'));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Strict decoding: padding required, no whitespace, unused bits zero.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let groups = text.len() / 4;
    for (index, group) in text.chunks_exact(4).enumerate() {
        let last = index + 1 == groups;
        let padding = group.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return None;
        }
        let mut n: u32 = 0;
        for &b in group.get(..4 - padding)? {
            let value = ALPHABET.iter().position(|&a| a == b)?;
            n = (n << 6) | u32::try_from(value).ok()?;
        }
        n <<= 6 * padding as u32;
        let bytes = n.to_be_bytes();
        let produced = 3 - padding;
        // Bits that no output byte uses must be zero (canonical form).
        let unused_mask: u32 = match padding {
            1 => 0xff,
            2 => 0xffff,
            _ => 0,
        };
        if n & unused_mask != 0 {
            return None;
        }
        out.extend_from_slice(bytes.get(1..1 + produced)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
            (b"\0user\0pass", "AHVzZXIAcGFzcw=="),
        ];
        for &(raw, text) in cases {
            assert_eq!(encode(raw), text);
            assert_eq!(decode(text.as_bytes()).as_deref(), Some(raw));
        }
    }

    #[test]
    fn rejects() {
        let cases: &[&[u8]] = &[
            b"Zg=",
            b"Zg",
            b"Z===",
            b"Zh==",
            b"Zm9v Yg==",
            b"Zg==Zg==",
            b"Zm9*",
        ];
        for &text in cases {
            assert_eq!(decode(text), None, "{:?}", String::from_utf8_lossy(text));
        }
    }
}
