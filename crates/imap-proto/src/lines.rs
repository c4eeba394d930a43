//! Single-line client input outside the command grammar: AUTHENTICATE
//! continuation responses (RFC 9051 §6.2.2) and IDLE's `DONE`
//! (RFC 9051 §6.3.13, RFC 2177).

use crate::base64;
use crate::error::ParseError;
use crate::types::secret::Secret;

/// Outcome of reading one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome<T> {
    Incomplete,
    Complete {
        value: T,
        consumed: usize,
    },
    /// Reply BAD and drop `consumed` bytes.
    Failed {
        error: ParseError,
        consumed: usize,
    },
}

/// A client's answer to a SASL challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticateResponse {
    /// Decoded response (an empty line is an empty response).
    Data(Secret<Vec<u8>>),
    /// `*`: the client aborts; answer with tagged BAD.
    Cancel,
}

/// Splits off one CRLF-terminated line of at most `max_line` octets.
fn take_line(buf: &[u8], max_line: usize) -> LineOutcome<&[u8]> {
    match buf.iter().position(|&b| b == b'\n') {
        None if buf.len() > max_line.saturating_add(1) => LineOutcome::Failed {
            error: ParseError::LineTooLong { limit: max_line },
            consumed: buf.len(),
        },
        None => LineOutcome::Incomplete,
        Some(lf) => {
            let consumed = lf + 1;
            let line = buf.get(..lf).unwrap_or_default();
            match line.strip_suffix(b"\r") {
                None => LineOutcome::Failed {
                    error: ParseError::BareLf,
                    consumed,
                },
                Some(line) if line.len() > max_line => LineOutcome::Failed {
                    error: ParseError::LineTooLong { limit: max_line },
                    consumed,
                },
                Some(line) => LineOutcome::Complete {
                    value: line,
                    consumed,
                },
            }
        }
    }
}

/// Reads `base64 CRLF` or `"*" CRLF` during AUTHENTICATE.
pub fn parse_authenticate_response(
    buf: &[u8],
    max_line: usize,
) -> LineOutcome<AuthenticateResponse> {
    match take_line(buf, max_line) {
        LineOutcome::Complete {
            value: b"*",
            consumed,
        } => LineOutcome::Complete {
            value: AuthenticateResponse::Cancel,
            consumed,
        },
        LineOutcome::Complete { value, consumed } => match base64::decode(value) {
            Some(data) => LineOutcome::Complete {
                value: AuthenticateResponse::Data(Secret::new(data)),
                consumed,
            },
            None => LineOutcome::Failed {
                error: ParseError::InvalidBase64,
                consumed,
            },
        },
        LineOutcome::Incomplete => LineOutcome::Incomplete,
        LineOutcome::Failed { error, consumed } => LineOutcome::Failed { error, consumed },
    }
}

/// Reads the `DONE` line that ends IDLE (case-insensitive).
pub fn parse_idle_done(buf: &[u8]) -> LineOutcome<()> {
    // "DONE\r\n" is all that may come; anything longer is already wrong.
    const MAX: usize = 16;
    match take_line(buf, MAX) {
        LineOutcome::Complete { value, consumed } if value.eq_ignore_ascii_case(b"DONE") => {
            LineOutcome::Complete {
                value: (),
                consumed,
            }
        }
        LineOutcome::Complete { consumed, .. } => LineOutcome::Failed {
            error: ParseError::Syntax {
                expected: "DONE",
                offset: 0,
            },
            consumed,
        },
        LineOutcome::Incomplete => LineOutcome::Incomplete,
        LineOutcome::Failed { error, consumed } => LineOutcome::Failed { error, consumed },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticate_lines() {
        let data = |d: &[u8], consumed| LineOutcome::Complete {
            value: AuthenticateResponse::Data(Secret::new(d.to_vec())),
            consumed,
        };
        let cases: Vec<(&[u8], LineOutcome<AuthenticateResponse>)> = vec![
            (b"AHVzZXIAcGFzcw==\r\n", data(b"\0user\0pass", 18)),
            (b"\r\n", data(b"", 2)),
            (
                b"*\r\nrest",
                LineOutcome::Complete {
                    value: AuthenticateResponse::Cancel,
                    consumed: 3,
                },
            ),
            (b"AHVz", LineOutcome::Incomplete),
            (
                b"!!\r\n",
                LineOutcome::Failed {
                    error: ParseError::InvalidBase64,
                    consumed: 4,
                },
            ),
            (
                b"Zg==\n",
                LineOutcome::Failed {
                    error: ParseError::BareLf,
                    consumed: 5,
                },
            ),
            (
                b"AAAAAAAAAAAAAAAAAAAA\r\n",
                LineOutcome::Failed {
                    error: ParseError::LineTooLong { limit: 16 },
                    consumed: 22,
                },
            ),
            (
                b"AAAAAAAAAAAAAAAAAAAA",
                LineOutcome::Failed {
                    error: ParseError::LineTooLong { limit: 16 },
                    consumed: 20,
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_authenticate_response(input, 16),
                expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn idle_done() {
        let cases: Vec<(&[u8], LineOutcome<()>)> = vec![
            (
                b"DONE\r\n",
                LineOutcome::Complete {
                    value: (),
                    consumed: 6,
                },
            ),
            (
                b"done\r\na NOOP\r\n",
                LineOutcome::Complete {
                    value: (),
                    consumed: 6,
                },
            ),
            (b"DON", LineOutcome::Incomplete),
            (
                b"a NOOP\r\n",
                LineOutcome::Failed {
                    error: ParseError::Syntax {
                        expected: "DONE",
                        offset: 0,
                    },
                    consumed: 8,
                },
            ),
            (
                b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                LineOutcome::Failed {
                    error: ParseError::LineTooLong { limit: 16 },
                    consumed: 40,
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_idle_done(input),
                expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
