//! The message itself: DATA (RFC 5321 §4.1.1.4, dot-unstuffing §4.5.2) and BDAT (RFC 3030),
//! then the hand-over to the store and the reply: one for SMTP, one per recipient for LMTP
//! (RFC 2033 §4.2). The message is durable before any 250 is sent.

use super::{Flow, Session, State, Transaction};
use crate::connection::{Connection, Line};
use crate::delivery::deliver;
use crate::error::SmtpError;
use crate::proto::Reply;
use crate::server::Mode;
use crate::trace::{Protocol, Trace};

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
        if tx.recipients.is_empty() {
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
            State::Mail(_, tx) if tx.recipients.is_empty() => {
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
            Mode::Mx => SmtpError::NoRecipients,
        }
    }

    /// Ends the transaction, keeping the greeting.
    fn take_transaction(&mut self) -> Option<Box<Transaction>> {
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

    /// Adds the trace fields, delivers, and replies once the store has made it durable.
    async fn finish(
        &mut self,
        conn: &mut Connection,
        tx: Box<Transaction>,
        body: Vec<u8>,
    ) -> Result<Flow, SmtpError> {
        let lmtp = self.shared.mode == Mode::Lmtp;
        let (helo, extended) = match self.greeting() {
            Some(g) => (g.name.clone(), g.extended),
            None => (String::new(), false),
        };
        let sender = tx.from.address();
        let single = match tx.recipients.as_slice() {
            [only] => Some(only.address.as_str()),
            _ => None,
        };
        let trace = Trace {
            sender: &sender,
            helo: &helo,
            peer: self.peer.ip(),
            hostname: &self.shared.config.hostname,
            protocol: Protocol {
                lmtp,
                extended,
                tls: conn.is_tls(),
                smtputf8: tx.params.smtputf8,
            },
            id: &tx.id,
            single_recipient: single,
            date: time::OffsetDateTime::now_utc(),
        };
        let mut content = trace.headers();
        content.extend_from_slice(&body);
        let outcomes = deliver(&self.shared.store, &tx.recipients, content).await;
        if lmtp {
            // RFC 2033 §4.2: one reply per accepted recipient, in RCPT order.
            for (rcpt, outcome) in tx.recipients.iter().zip(&outcomes) {
                let reply = match outcome {
                    Ok(()) => Reply::new(250, "2.0.0", format!("<{}> delivered", rcpt.address)),
                    Err(e) => e.reply(),
                };
                conn.queue(&reply.to_bytes());
            }
            return Ok(Flow::Continue);
        }
        let delivered = outcomes.iter().filter(|o| o.is_ok()).count();
        for (rcpt, outcome) in tx.recipients.iter().zip(&outcomes) {
            if let Err(e) = outcome {
                // No queue yet to send a bounce (DSN) for a partial failure: it is logged.
                tracing::warn!(id = %tx.id, rcpt = %rcpt.address, "not delivered: {e}");
            }
        }
        if delivered > 0 {
            let text = format!("OK, delivered as {}", tx.id);
            conn.queue(&Reply::new(250, "2.0.0", text).to_bytes());
            return Ok(Flow::Continue);
        }
        match outcomes.into_iter().find_map(Result::err) {
            Some(e) => Err(e),
            None => Err(SmtpError::NoRecipients),
        }
    }
}
