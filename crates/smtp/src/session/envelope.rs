//! MAIL and RCPT (RFC 5321 §4.1.1.2, §4.1.1.3): opening a transaction and collecting its
//! recipients.

use super::{Session, State, Transaction};
use crate::connection::Connection;
use crate::delivery::check_recipient;
use crate::error::SmtpError;
use crate::proto::{MailParams, Path, Reply};

impl Session {
    pub(super) fn mail(
        &mut self,
        conn: &mut Connection,
        from: Path,
        params: MailParams,
    ) -> Result<(), SmtpError> {
        // RFC 1870 §6.1: a declared size above our limit is refused at once.
        if params
            .size
            .is_some_and(|s| s > self.shared.config.max_message_size)
        {
            return Err(SmtpError::TooLarge);
        }
        if !params.smtputf8 && !from.address().is_ascii() {
            return Err(SmtpError::Utf8NotDeclared);
        }
        let State::Ready(greeting) = std::mem::replace(&mut self.state, State::Fresh) else {
            return Err(SmtpError::Sequence(
                "MAIL needs a greeting and no transaction",
            ));
        };
        let tx = Transaction {
            id: self.shared.next_id(),
            from,
            params,
            recipients: Vec::new(),
            chunks: None,
        };
        tracing::debug!(peer = %self.peer, id = %tx.id, from = %tx.from.address(), "MAIL");
        self.state = State::Mail(greeting, Box::new(tx));
        conn.queue(&Reply::new(250, "2.1.0", "Sender OK").to_bytes());
        Ok(())
    }

    pub(super) async fn rcpt(&mut self, conn: &mut Connection, to: Path) -> Result<(), SmtpError> {
        let max = self.shared.config.max_recipients;
        let store = self.shared.store.clone();
        let State::Mail(_, tx) = &mut self.state else {
            return Err(SmtpError::Sequence("need MAIL first"));
        };
        if tx.chunks.is_some() {
            return Err(SmtpError::Sequence("RCPT after BDAT"));
        }
        if !tx.params.smtputf8 && !to.address().is_ascii() {
            return Err(SmtpError::Utf8NotDeclared);
        }
        // RFC 5321 §4.5.3.1.8: past our limit, 452 so the client sends the rest later.
        if tx.recipients.len() >= max {
            return Err(SmtpError::TooManyRecipients);
        }
        let recipient = check_recipient(&store, &to, tx.params.size).await?;
        tx.recipients.push(recipient);
        conn.queue(&Reply::new(250, "2.1.5", "Recipient OK").to_bytes());
        Ok(())
    }
}
