//! The end of a submitted message (RFC 6409): the From header must be the user's own, the
//! fields an MSA adds (Date, Message-ID: RFC 6409 §8.2, §8.3) are added, the message is
//! DKIM-signed with its domain's key (RFC 6376), and it goes to local mailboxes directly and
//! to other domains through the outbound queue. 250 only once all of that is durable.

use super::{Flow, Session, Transaction, User};
use crate::bounce;
use crate::delivery::{Recipient, deliver};
use crate::error::SmtpError;
use crate::headers::{from_addresses, has_field};
use crate::proto::Reply;
use mailroom_net::Connection;
use mailroom_store::{OutboundMessage, OutboundRecipient};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

impl Session {
    pub(super) async fn submit(
        &mut self,
        conn: &mut Connection,
        tx: Box<Transaction>,
        body: Vec<u8>,
    ) -> Result<Flow, SmtpError> {
        let user = self.user.clone().ok_or(SmtpError::AuthRequired)?;
        // RFC 6409 §6.1: the MSA checks the user may use these addresses. A message without
        // exactly one From field (RFC 5322 §3.6), or with one we can't read an address from,
        // is refused the same way: what can't be checked is not let through.
        let Some(froms) = from_addresses(&body) else {
            tracing::info!(id = %tx.id, user = %user.address, "From missing, repeated or unreadable");
            return Err(SmtpError::FromNotOwned);
        };
        for from in &froms {
            if !self.owns(&user, from).await? {
                tracing::info!(id = %tx.id, user = %user.address, %from, "From not owned");
                return Err(SmtpError::FromNotOwned);
            }
        }
        let hostname = self.shared.config.hostname.clone();
        let mut message = Vec::with_capacity(body.len() + 256);
        if !has_field(&body, "Date") {
            let now = OffsetDateTime::now_utc()
                .format(&Rfc2822)
                .unwrap_or_default();
            message.extend_from_slice(format!("Date: {now}\r\n").as_bytes());
        }
        if !has_field(&body, "Message-ID") {
            message.extend_from_slice(format!("Message-ID: <{}@{hostname}>\r\n", tx.id).as_bytes());
        }
        message.extend_from_slice(&body);
        let domain = froms[0].rsplit_once('@').map_or("", |(_, d)| d);
        let mut outgoing = self.dkim_signature(&message, domain).await.into_bytes();
        outgoing.extend(self.trace_fields(conn, &tx, false));
        outgoing.extend_from_slice(&message);

        let sender = tx.from.address();
        // The queue first: if it refuses, nothing was delivered and the client may retry the
        // whole message without anyone getting it twice.
        if !tx.remote.is_empty() {
            let queued = self
                .shared
                .enqueue(OutboundMessage {
                    account: Some(user.account),
                    sender: sender.clone(),
                    recipients: tx.remote.clone(),
                    envid: tx.params.envid.clone(),
                    ret: tx.params.ret,
                    content: outgoing.clone(),
                })
                .await?;
            tracing::info!(id = %tx.id, queue = %queued, "queued for {} recipients", tx.remote.len());
        }
        if !tx.recipients.is_empty() {
            let mut local = format!("Return-Path: <{sender}>\r\n").into_bytes();
            local.extend_from_slice(&outgoing);
            let outcomes = deliver(&self.shared.store, &tx.recipients, local).await;
            let delivered = outcomes.iter().filter(|o| o.is_ok()).count();
            if delivered == 0 && tx.remote.is_empty() {
                return match outcomes.into_iter().find_map(Result::err) {
                    Some(e) => Err(e),
                    None => Err(SmtpError::NoRecipients),
                };
            }
            // Some got it, so the client must hear 250 and not send again. A local recipient
            // that failed for now (mailbox full, store trouble) goes to the queue, which
            // retries local recipients like remote ones and bounces only when it gives up.
            let queued = self.queue_retries(&user, &tx, &outcomes, &outgoing).await;
            let (recipients, outcomes): (Vec<Recipient>, Vec<Result<(), SmtpError>>) = tx
                .recipients
                .iter()
                .cloned()
                .zip(outcomes)
                .filter(|(r, _)| !queued.contains(&r.address))
                .unzip();
            // The user hears of the others by a bounce, and of the deliveries where
            // NOTIFY=SUCCESS asked (RFC 3461 §4.1; we are the final delivery agent for local
            // recipients). Remote and retried recipients are reported on by the queue runner.
            let original = bounce::Original {
                sender: &sender,
                envid: tx.params.envid.as_deref(),
                ret: tx.params.ret,
                message: &message,
                id: &tx.id,
            };
            let entries = bounce::entries(&recipients, &outcomes, true);
            bounce::send(&self.shared, &original, &entries).await;
        }
        let text = format!("OK, queued as {}", tx.id);
        mailroom_net::stats::delivered("submission");
        conn.queue(&Reply::new(250, "2.0.0", text).to_bytes());
        Ok(Flow::Continue)
    }

    /// Queues the local recipients whose delivery failed temporarily; returns their addresses,
    /// or none if the queue refused too (they are bounced then, as a permanent failure would
    /// be: the 250 is owed either way).
    async fn queue_retries(
        &self,
        user: &User,
        tx: &Transaction,
        outcomes: &[Result<(), SmtpError>],
        content: &[u8],
    ) -> Vec<String> {
        // Each keeps its DSN parameters: the runner reports on it when it delivers or gives up.
        let retry: Vec<OutboundRecipient> = tx
            .recipients
            .iter()
            .zip(outcomes)
            .filter(|(r, o)| {
                // "postmaster" without a domain can't be looked up again by the queue.
                r.address.contains('@') && o.as_ref().is_err_and(|e| e.reply().code / 100 == 4)
            })
            .map(|(r, _)| r.dsn.queued(r.address.clone()))
            .collect();
        if retry.is_empty() {
            return Vec::new();
        }
        let addresses: Vec<String> = retry.iter().map(|r| r.address.clone()).collect();
        let message = OutboundMessage {
            account: Some(user.account),
            sender: tx.from.address(),
            recipients: retry,
            envid: tx.params.envid.clone(),
            ret: tx.params.ret,
            content: content.to_vec(),
        };
        match self.shared.enqueue(message).await {
            Ok(queued) => {
                tracing::info!(id = %tx.id, queue = %queued, "{} local recipients to retry", addresses.len());
                addresses
            }
            Err(e) => {
                tracing::warn!(id = %tx.id, "queueing local retries failed, bouncing them: {e}");
                Vec::new()
            }
        }
    }

    /// The DKIM-Signature field for `domain`'s key, or nothing (no key, or it failed: the
    /// message then goes unsigned rather than not at all).
    async fn dkim_signature(&self, message: &[u8], domain: &str) -> String {
        let key = match self.shared.store.domain(domain).await {
            Ok(d) => d.and_then(|d| d.dkim),
            Err(e) => {
                tracing::warn!(%domain, "DKIM: reading the domain failed: {e}");
                return String::new();
            }
        };
        let Some(key) = key else {
            tracing::debug!(%domain, "no DKIM key: sent unsigned");
            return String::new();
        };
        // Hashing a large body and the RSA signature are CPU work: the shared pool, never
        // the async workers.
        let (owned, name) = (message.to_vec(), domain.to_string());
        let signed = mailroom_cpu::CpuPool::shared()
            .run(move || crate::dkim::sign(&owned, &name, &key))
            .await;
        match signed {
            Ok((Ok(signature), _)) => signature,
            Ok((Err(e), _)) => {
                tracing::warn!(%domain, "DKIM signing failed, sent unsigned: {e}");
                String::new()
            }
            Err(e) => {
                tracing::warn!(%domain, "DKIM signing failed, sent unsigned: {e}");
                String::new()
            }
        }
    }
}
