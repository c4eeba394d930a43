//! MAIL and RCPT (RFC 5321 §4.1.1.2, §4.1.1.3): opening a transaction and collecting its
//! recipients. On submission (RFC 6409) MAIL needs AUTH and a sender the user owns, and RCPT
//! takes any address: ours are checked, others are relayed.

use super::{Session, State, Transaction, User};
use crate::delivery::check_recipient;
use crate::error::SmtpError;
use crate::proto::{MailParams, Path, RcptParams, Reply};
use crate::server::Mode;
use mailroom_net::Connection;

impl Session {
    pub(super) async fn mail(
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
        if self.shared.mode == Mode::Submission {
            // RFC 4954 §6: 530 when the server requires authentication first.
            let user = self.user.clone().ok_or(SmtpError::AuthRequired)?;
            // RFC 5321 §4.5.5: the null reverse-path is for notifications an MTA generates.
            // A user's message needs a return path, or its failures bounce to nobody.
            if from == Path::Null {
                return Err(SmtpError::NullSender);
            }
            if !self.owns(&user, &from.address()).await? {
                return Err(SmtpError::SenderNotOwned);
            }
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
            remote: Vec::new(),
            chunks: None,
        };
        tracing::debug!(peer = %self.peer, id = %tx.id, from = %tx.from.address(), "MAIL");
        self.state = State::Mail(greeting, Box::new(tx));
        conn.queue(&Reply::new(250, "2.1.0", "Sender OK").to_bytes());
        Ok(())
    }

    pub(super) async fn rcpt(
        &mut self,
        conn: &mut Connection,
        to: Path,
        params: RcptParams,
    ) -> Result<(), SmtpError> {
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
        if tx.recipients.len() + tx.remote.len() >= max {
            return Err(SmtpError::TooManyRecipients);
        }
        if self.shared.mode == Mode::Submission
            && let Path::Mailbox { local, domain } = &to
        {
            let domain = domain.trim_end_matches('.').to_lowercase();
            let ours = store.domain(&domain).await?.is_some();
            if !ours {
                // RFC 6409 §4: relayed for the authenticated user, through the queue, which
                // carries the DSN parameters (RFC 3461 §4.1, §4.2) to the next hop.
                tx.remote.push(params.queued(format!("{local}@{domain}")));
                conn.queue(&Reply::new(250, "2.1.5", "Recipient OK").to_bytes());
                return Ok(());
            }
        }
        let recipient = check_recipient(&store, &to, tx.params.size, params).await?;
        tx.recipients.push(recipient);
        conn.queue(&Reply::new(250, "2.1.5", "Recipient OK").to_bytes());
        Ok(())
    }

    /// True if `address` is the user's own address or an alias of the account.
    pub(super) async fn owns(&self, user: &User, address: &str) -> Result<bool, SmtpError> {
        let address = address.trim().to_lowercase();
        if address == user.address {
            return Ok(true);
        }
        let target = self.shared.store.resolve_recipient(&address).await?;
        Ok(target == Some(user.account))
    }
}
