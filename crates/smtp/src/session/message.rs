//! The message itself: DATA (RFC 5321 §4.1.1.4, dot-unstuffing §4.5.2) and BDAT (RFC 3030),
//! then the hand-over to the store and the reply: one for SMTP, one per recipient for LMTP
//! (RFC 2033 §4.2). The message is durable before any 250 is sent.

use super::{Flow, Session, State, Transaction};
use crate::error::SmtpError;
use crate::proto::Reply;
use crate::proto::data::{BareLineEnds, DataDecoder, Step};
use crate::server::Mode;
use mailroom_net::Connection;
use std::borrow::Cow;

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
        let wait = self.shared.config.timeouts.data;
        let mut decoder = DataDecoder::new(self.shared.config.max_message_size);
        let mut body = Vec::new();
        loop {
            match decoder.feed(conn.buffered(), &mut body) {
                Step::End(used) => {
                    conn.consume(used);
                    break;
                }
                Step::More => conn.consume(conn.buffered().len()),
            }
            match tokio::time::timeout(wait, conn.fill()).await {
                Err(_) => {
                    self.reset_transaction();
                    return Ok(self.fail(conn, SmtpError::Timeout));
                }
                Ok(Err(_)) | Ok(Ok(0)) => return Ok(Flow::Close),
                Ok(Ok(_)) => {}
            }
        }
        // RFC 5321 §4.1.1.4: whatever the outcome, the transaction ends with the message.
        let Some(tx) = self.take_transaction() else {
            return Err(SmtpError::Sequence("need MAIL first"));
        };
        let body = if decoder.too_large() {
            Err(SmtpError::TooLarge)
        } else if decoder.saw_bare() && self.shared.config.bare_line_ends == BareLineEnds::Reject {
            Err(SmtpError::BareLineEnd)
        } else {
            Ok(body)
        };
        self.end_of_message(conn, tx, body).await
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
        let read = conn.read_exact_into(size, &mut sink, limit);
        let fits = match tokio::time::timeout(wait, read).await {
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
            return match self.take_transaction() {
                Some(tx) if last => {
                    self.end_of_message(conn, tx, Err(SmtpError::TooLarge))
                        .await
                }
                _ => Err(SmtpError::TooLarge),
            };
        }
        if !last {
            if let State::Mail(_, tx) = &mut self.state {
                tx.chunks = Some(sink);
            }
            let text = format!("{size} octets received");
            conn.queue(&Reply::new(250, "2.0.0", text).to_bytes());
            return Ok(Flow::Continue);
        }
        let Some(tx) = self.take_transaction() else {
            return Err(SmtpError::Sequence("need MAIL first"));
        };
        // BDAT carries the octets as they are (no dot-stuffing, no end line), but bare CR
        // and LF are taken like in DATA: stored as CRLF, or the message refused.
        let body = match mailroom_store::normalize_crlf(&sink) {
            Cow::Borrowed(_) => Ok(sink),
            Cow::Owned(_) if self.shared.config.bare_line_ends == BareLineEnds::Reject => {
                Err(SmtpError::BareLineEnd)
            }
            Cow::Owned(normalized) => Ok(normalized),
        };
        self.end_of_message(conn, tx, body).await
    }

    /// After the end of the data, the replies. In LMTP every outcome, success or failure,
    /// gets one reply per accepted recipient, in RCPT order (RFC 2033 §4.2): the client waits
    /// for exactly that many.
    async fn end_of_message(
        &mut self,
        conn: &mut Connection,
        tx: Box<Transaction>,
        body: Result<Vec<u8>, SmtpError>,
    ) -> Result<Flow, SmtpError> {
        let recipients = tx.recipients.len();
        let outcome = match body {
            Ok(body) => self.finish(conn, tx, body).await,
            Err(e) => Err(e),
        };
        match outcome {
            Err(e) if self.shared.mode == Mode::Lmtp => {
                let reply = e.reply().to_bytes();
                for _ in 0..recipients {
                    conn.queue(&reply);
                }
                Ok(Flow::Continue)
            }
            other => other,
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
