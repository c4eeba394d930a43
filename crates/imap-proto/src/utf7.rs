//! Modified UTF-7 for mailbox names (RFC 3501 §5.1.3), still needed for
//! IMAP4rev1 clients that have not enabled UTF-8 (RFC 9051 §5.1 / App. A).

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Utf7Error {
    #[error("octet {0:#04x} must be encoded")]
    NotPrintable(u8),
    #[error("'&' sequence without terminating '-'")]
    Unterminated,
    #[error("invalid modified base64")]
    BadBase64,
    #[error("invalid UTF-16 in encoded sequence")]
    BadUtf16,
    #[error("encoded sequence contains a printable ASCII character")]
    NotCanonical,
}

/// Modified base64 alphabet: `,` instead of `/`, no padding.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn is_direct(c: char) -> bool {
    (' '..='~').contains(&c)
}

/// Encodes a UTF-8 name. Printable ASCII stands for itself, `&` becomes
/// `&-`, everything else is UTF-16BE in modified base64 between `&` and `-`.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    for ch in name.chars() {
        if is_direct(ch) {
            flush(&mut pending, &mut out);
            if ch == '&' {
                out.push_str("&-");
            } else {
                out.push(ch);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(ch.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}

fn flush(pending: &mut Vec<u16>, out: &mut String) {
    if pending.is_empty() {
        return;
    }
    out.push('&');
    let mut bits: u32 = 0;
    let mut nbits = 0;
    for unit in pending.drain(..) {
        for byte in unit.to_be_bytes() {
            bits = (bits << 8) | u32::from(byte);
            nbits += 8;
            while nbits >= 6 {
                nbits -= 6;
                out.push(sextet((bits >> nbits) & 0x3f));
            }
        }
    }
    if nbits > 0 {
        out.push(sextet((bits << (6 - nbits)) & 0x3f));
    }
    out.push('-');
}

fn sextet(value: u32) -> char {
    ALPHABET
        .get(value as usize)
        .map(|&b| char::from(b))
        .unwrap_or('A')
}

fn sextet_value(b: u8) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| a == b)
        .and_then(|p| u32::try_from(p).ok())
}

/// Decodes a modified UTF-7 name, rejecting every non-canonical form so
/// that `encode(decode(x)) == x` holds for all accepted `x`.
pub fn decode(input: &[u8]) -> Result<String, Utf7Error> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    let mut after_encoded = false;
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'&' {
            let end = tail
                .iter()
                .position(|&t| t == b'-')
                .ok_or(Utf7Error::Unterminated)?;
            let (encoded, after) = tail.split_at(end);
            rest = after.get(1..).unwrap_or_default();
            if encoded.is_empty() {
                out.push('&');
                after_encoded = false;
            } else {
                // Two adjacent encoded runs should have been one.
                if after_encoded {
                    return Err(Utf7Error::NotCanonical);
                }
                decode_run(encoded, &mut out)?;
                after_encoded = true;
            }
        } else if (0x20..=0x7e).contains(&b) {
            out.push(char::from(b));
            rest = tail;
            after_encoded = false;
        } else {
            return Err(Utf7Error::NotPrintable(b));
        }
    }
    Ok(out)
}

fn decode_run(encoded: &[u8], out: &mut String) -> Result<(), Utf7Error> {
    let mut bytes = Vec::with_capacity(encoded.len() * 3 / 4);
    let mut bits: u32 = 0;
    let mut nbits = 0;
    for &b in encoded {
        bits = (bits << 6) | sextet_value(b).ok_or(Utf7Error::BadBase64)?;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push(((bits >> nbits) & 0xff) as u8);
        }
        bits &= (1 << nbits) - 1;
    }
    // Leftover bits must be padding: fewer than 6 and all zero.
    if nbits >= 6 || bits != 0 || bytes.len() % 2 != 0 {
        return Err(Utf7Error::BadBase64);
    }
    let units = bytes.chunks_exact(2).map(|pair| match pair {
        [hi, lo] => u16::from_be_bytes([*hi, *lo]),
        _ => 0,
    });
    for ch in char::decode_utf16(units) {
        let ch = ch.map_err(|_| Utf7Error::BadUtf16)?;
        if is_direct(ch) {
            return Err(Utf7Error::NotCanonical);
        }
        out.push(ch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_table() {
        let cases: &[(&str, &str)] = &[
            ("INBOX", "INBOX"),
            ("", ""),
            ("Tom & Jerry", "Tom &- Jerry"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("Entwürfe", "Entw&APw-rfe"),
            ("€", "&IKw-"),
            ("😀", "&2D3eAA-"),
            ("a\tb", "a&AAk-b"),
            ("&&", "&-&-"),
        ];
        for &(utf8, wire) in cases {
            assert_eq!(encode(utf8), wire, "encode {utf8:?}");
            assert_eq!(
                decode(wire.as_bytes()).as_deref(),
                Ok(utf8),
                "decode {wire:?}"
            );
        }
    }

    #[test]
    fn rejects_malformed() {
        let cases: &[(&[u8], Utf7Error)] = &[
            (b"&U,BTFw", Utf7Error::Unterminated),
            (b"a&", Utf7Error::Unterminated),
            (b"&U,B/Fw-", Utf7Error::BadBase64),
            (b"&U,BTF-", Utf7Error::BadBase64),
            (b"&AGE-", Utf7Error::NotCanonical),
            (b"&APw-&APw-", Utf7Error::NotCanonical),
            (b"&2D0-", Utf7Error::BadUtf16),
            (b"caf\xc3\xa9", Utf7Error::NotPrintable(0xc3)),
            (b"a\x7fb", Utf7Error::NotPrintable(0x7f)),
            (b"&APx-", Utf7Error::BadBase64),
        ];
        for (wire, error) in cases {
            assert_eq!(
                decode(wire).as_ref(),
                Err(error),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
        }
    }

    #[test]
    fn exhaustive_bmp_sample_round_trips() {
        // Every 97th code point keeps this fast yet covers all byte patterns.
        for cp in (0x80u32..0x11_0000).step_by(97) {
            if let Some(ch) = char::from_u32(cp) {
                let s = format!("x{ch}y{ch}{ch}");
                assert_eq!(decode(encode(&s).as_bytes()).as_deref(), Ok(s.as_str()));
            }
        }
    }
}
