//! The text of DATA (RFC 5321 §4.1.1.4, §4.5.2) as a pure decoder: octets in, message out.
//!
//! - Only `<CR><LF>.<CR><LF>` ends the data. A `.` line after a bare LF, a `.` followed by a
//!   bare CR or LF, or a bare CR before `.` never does (the SMTP smuggling attacks of 2023,
//!   CVE-2023-51764/51765/51766): what ends the message here is what ended it for the strict
//!   relay in front, so no second message can hide in the first.
//! - A bare LF ends a line of the message and a bare CR starts a new one: both are stored as
//!   CRLF (what every mail protocol sends, and what IMAP's sizes count). Whether that is
//!   allowed at all is the session's choice ([`BareLineEnds`]); [`DataDecoder::saw_bare`]
//!   tells it.
//! - A leading dot at the start of a line (after any line end) was doubled by the sender and
//!   is removed.
//! - Lines have no length limit here: inside DATA only the message size counts (Postfix and
//!   Dovecot's LMTP take lines of any length; real mail has them).

/// What to do with a message that has bare CR or LF line ends (RFC 5321 §2.3.8 forbids them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BareLineEnds {
    /// Take the message and store those line ends as CRLF (as Postfix's
    /// `smtpd_forbid_bare_newline = normalize`): scripts and old programs send them.
    #[default]
    Normalize,
    /// Refuse the whole message with a 5xx (as Postfix's `= reject`).
    Reject,
}

/// Where the decoder stands after a piece of input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// All of it was message text; more is needed.
    More,
    /// The end of data was found; this many octets of the input were used, up to and
    /// including the final `<CR><LF>`. The rest belongs to the next command.
    End(usize),
}

#[derive(Debug)]
pub struct DataDecoder {
    max: u64,
    size: u64,
    /// After a line end (bare or not): a `.` here is stuffing.
    line_start: bool,
    /// The last line end was CRLF (or the data just began): only then can `.` CRLF end it.
    after_crlf: bool,
    /// The line so far is a single (removed) leading dot.
    lone_dot: bool,
    /// A CR was read and what follows it decides what it was.
    pending_cr: bool,
    bare: bool,
}

impl DataDecoder {
    /// A decoder that keeps at most `max` octets of message; past it the text is only counted.
    pub fn new(max: u64) -> Self {
        DataDecoder {
            max,
            size: 0,
            line_start: true,
            after_crlf: true,
            lone_dot: false,
            pending_cr: false,
            bare: false,
        }
    }

    /// True once the message had a bare CR or LF.
    pub fn saw_bare(&self) -> bool {
        self.bare
    }

    /// True once the message grew past the limit (and was cut there).
    pub fn too_large(&self) -> bool {
        self.size > self.max
    }

    /// Decodes `input`, appending message text to `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Step {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            if std::mem::take(&mut self.pending_cr) {
                if b == b'\n' {
                    if self.lone_dot && self.after_crlf {
                        return Step::End(i + 1);
                    }
                    self.line_end(out, true);
                    i += 1;
                    continue;
                }
                // A bare CR: a line break in the stored message, but not a line end of the
                // protocol, so what follows is neither stuffing nor the end.
                self.bare = true;
                self.emit(out, b"\r\n");
                self.after_crlf = false;
                self.line_start = false;
                self.lone_dot = false;
            }
            match b {
                b'\r' => {
                    self.pending_cr = true;
                    i += 1;
                }
                b'\n' => {
                    self.bare = true;
                    self.line_end(out, false);
                    i += 1;
                }
                b'.' if self.line_start => {
                    self.line_start = false;
                    self.lone_dot = true;
                    i += 1;
                }
                _ => {
                    // A run of ordinary octets goes out in one piece.
                    let run = input[i..]
                        .iter()
                        .position(|&c| c == b'\r' || c == b'\n')
                        .map_or(input.len(), |n| i + n);
                    self.emit(out, &input[i..run]);
                    self.line_start = false;
                    self.lone_dot = false;
                    i = run;
                }
            }
        }
        Step::More
    }

    fn line_end(&mut self, out: &mut Vec<u8>, crlf: bool) {
        self.emit(out, b"\r\n");
        self.after_crlf = crlf;
        self.line_start = true;
        self.lone_dot = false;
    }

    fn emit(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        self.size += bytes.len() as u64;
        if self.size <= self.max {
            out.extend_from_slice(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message and the rest after its end, or None if the data did not end.
    fn decode(input: &[u8]) -> Option<(Vec<u8>, Vec<u8>, bool)> {
        let mut d = DataDecoder::new(1 << 20);
        let mut out = Vec::new();
        match d.feed(input, &mut out) {
            Step::End(n) => Some((out, input[n..].to_vec(), d.saw_bare())),
            Step::More => None,
        }
    }

    #[test]
    fn ends_only_at_crlf_dot_crlf() {
        let (msg, rest, bare) = decode(b"Subject: a\r\n\r\nhello\r\n.\r\nQUIT\r\n").unwrap();
        assert_eq!(msg, b"Subject: a\r\n\r\nhello\r\n");
        assert_eq!(rest, b"QUIT\r\n");
        assert!(!bare);
        assert_eq!(decode(b".\r\n").unwrap().0, b"");
    }

    /// Every separator of the published smuggling attacks: none ends the data, and the
    /// "smuggled" commands stay text of the one message.
    #[test]
    fn smuggling_separators_are_message_text() {
        let smuggled =
            b"MAIL FROM:<admin@bank.example>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\nevil\r\n";
        for (separator, stored) in [
            (&b"\n.\n"[..], &b"\r\n\r\n"[..]),
            (b"\n.\r\n", b"\r\n\r\n"),
            (b"\r.\r\n", b"\r\n.\r\n"),
            (b"\r\n.\r", b"\r\n\r\n"),
            (b"\r\n.\n", b"\r\n\r\n"),
        ] {
            let mut input = b"Subject: carrier\r\n\r\nhello".to_vec();
            input.extend_from_slice(separator);
            input.extend_from_slice(smuggled);
            input.extend_from_slice(b".\r\n");
            let (msg, rest, bare) = decode(&input).unwrap_or_else(|| panic!("{separator:?}"));
            let mut want = b"Subject: carrier\r\n\r\nhello".to_vec();
            want.extend_from_slice(stored);
            want.extend_from_slice(b"MAIL FROM:<admin@bank.example>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\nevil\r\n");
            assert_eq!(
                String::from_utf8_lossy(&msg),
                String::from_utf8_lossy(&want),
                "{separator:?}"
            );
            assert!(rest.is_empty(), "{separator:?}");
            assert!(bare, "{separator:?}");
        }
    }

    #[test]
    fn dots_are_unstuffed_at_every_line_start() {
        let (msg, _, _) = decode(b"..a\r\n...\r\nb.c\r\n..\r\n.\r\n").unwrap();
        assert_eq!(msg, b".a\r\n..\r\nb.c\r\n.\r\n");
    }

    #[test]
    fn bare_lf_lines_are_stored_with_crlf() {
        let (msg, _, bare) = decode(b"a\nb\r\nc\n\r\n.\r\n").unwrap();
        assert_eq!(msg, b"a\r\nb\r\nc\r\n\r\n");
        assert!(bare);
    }

    #[test]
    fn long_lines_have_no_limit_but_the_size_counts() {
        let line = vec![b'x'; 100_000];
        let mut input = line.clone();
        input.extend_from_slice(b"\r\n.\r\n");
        let (msg, _, _) = decode(&input).unwrap();
        assert_eq!(msg.len(), 100_002);
        let mut small = DataDecoder::new(1000);
        let mut out = Vec::new();
        assert!(matches!(small.feed(&input, &mut out), Step::End(_)));
        assert!(small.too_large());
        assert!(out.len() <= 1000);
    }

    /// The end is found whatever the pieces the network delivers.
    #[test]
    fn any_split_of_the_input_gives_the_same_result() {
        let input = b"A\r\n..b\nc\rd\r\n.x\r\n\r\n.\r\nNEXT";
        let (whole, _, _) = decode(input).unwrap();
        for split in 0..input.len() {
            let mut d = DataDecoder::new(1 << 20);
            let mut out = Vec::new();
            let (a, b) = input.split_at(split);
            let end = match d.feed(a, &mut out) {
                Step::End(n) => n,
                Step::More => match d.feed(b, &mut out) {
                    Step::End(n) => split + n,
                    Step::More => panic!("no end at split {split}"),
                },
            };
            assert_eq!(out, whole, "split {split}");
            assert_eq!(&input[end..], b"NEXT", "split {split}");
        }
    }
}
