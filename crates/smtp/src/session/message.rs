//! The message itself: DATA (RFC 5321 §4.1.1.4, dot-unstuffing §4.5.2) and BDAT (RFC 3030),
//! then the hand-over to the store and the reply: one for SMTP, one per recipient for LMTP
//! (RFC 2033 §4.2). The message is durable before any 250 is sent.

use super::{Flow, Session, State, Transaction};
use crate::connection::{Connection, Line};
use crate::error::SmtpError;
use crate::proto::Reply;
use crate::server::Mode;

/// What can be wrong with a message that arrived in full.
#[derive(Default)]
struct DataFaults {
    too_large: bool,
    too_long_line: bool,
}

impl Session {
    pub(super) async fn data(&mut self, conn: &mut Connection) -> Result<Flow, SmtpError> {
        let State::Mail(_, tx) = &self.state else {
            return Err(SmtpError::Sequence("need MAIL first"));
        };
        if tx.chunks.is_some() {
            return Err(SmtpError::Sequence("DATA after BDAT"));
        }
        if tx.recipients.is_empty() && tx.remote.is_empty() {
            return Err(self.no_recipients());
        }
        conn.queue(&Reply::plain(354, vec!["End data with <CR><LF>.<CR><LF>".into()]).to_bytes());
        if conn.flush().await.is_err() {
            return Ok(Flow::Close);
        }
        let max_size = self.shared.config.max_message_size;
        let max_line = self.shared.config.max_line_length;
        let wait = self.shared.config.timeouts.data;
        let mut body = Vec::new();
        let mut faults = DataFaults::default();
        loop {
            let (bytes, crlf) = match tokio::time::timeout(wait, conn.read_line(max_line)).await {
                Err(_) => {
                    self.reset_transaction();
                    return Ok(self.fail(conn, SmtpError::Timeout));
                }
                Ok(Err(_)) | Ok(Ok(Line::Eof)) => return Ok(Flow::Close),
                Ok(Ok(Line::TooLong)) => {
                    faults.too_long_line = true;
                    continue;
                }
                Ok(Ok(Line::Data { bytes, crlf })) => (bytes, crlf),
            };
            // Only <CRLF>.<CRLF> ends the message; a "." ended by a bare LF does not, so what
            // ends the message here is what ends it for a strict relay before us (SMTP
            // smuggling). Lines ended by a bare LF are taken, and stored with CRLF like every
            // other line (RFC 5321 §2.3.8 forbids them, but real senders and mbox-fed scripts
            // send them; Postfix's "normalize" does the same).
            if crlf && bytes == b"." {
                break;
            }
            // RFC 5321 §4.5.2: a leading dot was doubled by the sender.
            let text = bytes.strip_prefix(b".").unwrap_or(&bytes[..]);
            if body.len() as u64 + text.len() as u64 + 2 > max_size {
                faults.too_large = true;
                continue;
            }
            body.extend_from_slice(text);
            body.extend_from_slice(b"\r\n");
        }
        // RFC 5321 §4.1.1.4: whatever the outcome, the transaction ends with the message.
        let tx = self.take_transaction();
        if faults.too_large {
            return Err(SmtpError::TooLarge);
        }
        if faults.too_long_line {
            return Err(SmtpError::LineTooLong);
        }
        match tx {
            Some(tx) => self.finish(conn, tx, body).await,
            None => Err(SmtpError::Sequence("need MAIL first")),
        }
    }

    /// RFC 3030 §2: the chunk is read in full before anything is decided, so client and
    /// server stay in step whatever the reply.
    pub(super) async fn bdat(
        &mut self,
        conn: &mut Connection,
        size: u64,
        last: bool,
    ) -> Result<Flow, SmtpError> {
        let max_size = self.shared.config.max_message_size;
        let (mut sink, refusal) = match &mut self.state {
            State::Mail(_, tx) if tx.recipients.is_empty() && tx.remote.is_empty() => {
                (Vec::new(), Some(self.no_recipients()))
            }
            State::Mail(_, tx) => (tx.chunks.take().unwrap_or_default(), None),
            _ => (Vec::new(), Some(SmtpError::Sequence("need MAIL first"))),
        };
        let limit = if refusal.is_some() { 0 } else { max_size };
        let wait = self.shared.config.timeouts.data;
        let fits = match tokio::time::timeout(wait, conn.read_chunk(size, &mut sink, limit)).await {
            Err(_) => {
                self.reset_transaction();
                return Ok(self.fail(conn, SmtpError::Timeout));
            }
            Ok(Err(_)) => return Ok(Flow::Close),
            Ok(Ok(fits)) => fits,
        };
        if let Some(refusal) = refusal {
            return Err(refusal);
        }
        if !fits {
            // RFC 3030 §2: after a failed chunk the transaction is over.
            self.reset_transaction();
            return Err(SmtpError::TooLarge);
        }
        if !last {
            if let State::Mail(_, tx) = &mut self.state {
                tx.chunks = Some(sink);
            }
            let text = format!("{size} octets received");
            conn.queue(&Reply::new(250, "2.0.0", text).to_bytes());
            return Ok(Flow::Continue);
        }
        match self.take_transaction() {
            Some(tx) => self.finish(conn, tx, sink).await,
            None => Err(SmtpError::Sequence("need MAIL first")),
        }
    }

    /// DATA or BDAT without an accepted recipient: 554 in SMTP (RFC 5321 §3.3; RFC 2920 §3.1:
    /// the client may have pipelined it after RCPTs that all failed), but 503 in LMTP
    /// (RFC 2033 §4.2: "the DATA command MUST fail with a 503 reply code").
    fn no_recipients(&self) -> SmtpError {
        match self.shared.mode {
            Mode::Lmtp => SmtpError::Sequence("no valid recipients"),
            Mode::Mx | Mode::Submission => SmtpError::NoRecipients,
        }
    }

    /// Ends the transaction, keeping the greeting.
    pub(super) fn take_transaction(&mut self) -> Option<Box<Transaction>> {
        match std::mem::replace(&mut self.state, State::Fresh) {
            State::Mail(greeting, tx) => {
                self.state = State::Ready(greeting);
                Some(tx)
            }
            other => {
                self.state = other;
                None
            }
        }
    }
}
