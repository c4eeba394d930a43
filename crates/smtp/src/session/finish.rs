//! A received message's way into the store on the MX and LMTP: trace fields, the inbound
//! email-authentication checks (MX only), delivery, and the reply — one for SMTP, one per
//! recipient for LMTP (RFC 2033 §4.2). The message is durable before any 250. Submission has
//! its own path in `submit.rs`.

use super::{Flow, Session, Transaction};
use crate::bounce;
use crate::delivery::deliver;
use crate::error::SmtpError;
use crate::headers::strip_auth_results;
use crate::inbound::Check;
use crate::proto::Reply;
use crate::server::Mode;
use crate::trace::{Protocol, Trace};
use mailroom_net::Connection;

impl Session {
    pub(super) async fn finish(
        &mut self,
        conn: &mut Connection,
        tx: Box<Transaction>,
        body: Vec<u8>,
    ) -> Result<Flow, SmtpError> {
        match self.shared.mode {
            Mode::Submission => self.submit(conn, tx, body).await,
            Mode::Mx | Mode::Lmtp => self.receive(conn, tx, body).await,
        }
    }

    /// The client's greeting name and whether it used EHLO/LHLO.
    /// The client's HELO name (a proxy's XCLIENT HELO in place of the proxy's own) and
    /// whether it said EHLO.
    pub(super) fn helo(&self) -> (String, bool) {
        match (self.greeting(), &self.proxied_helo) {
            (Some(g), Some(name)) => (name.clone(), g.extended),
            (Some(g), None) => (g.name.clone(), g.extended),
            (None, _) => (String::new(), false),
        }
    }

    /// The trace fields for this transaction; `final_delivery` adds Return-Path.
    pub(super) fn trace_fields(
        &self,
        conn: &Connection,
        tx: &Transaction,
        final_delivery: bool,
    ) -> Vec<u8> {
        let (helo, extended) = self.helo();
        let sender = tx.from.address();
        let user = self.user.as_ref().map(|u| u.address.as_str());
        let single = match (tx.recipients.as_slice(), tx.remote.as_slice()) {
            ([only], []) => Some(only.address.as_str()),
            ([], [only]) => Some(only.address.as_str()),
            _ => None,
        };
        let trace = Trace {
            sender: &sender,
            helo: &helo,
            peer: self.peer.ip(),
            hostname: &self.shared.config.hostname,
            protocol: Protocol {
                lmtp: self.shared.mode == Mode::Lmtp,
                extended,
                tls: conn.is_tls(),
                smtputf8: tx.params.smtputf8,
                authenticated: user.is_some(),
            },
            id: &tx.id,
            single_recipient: single,
            date: time::OffsetDateTime::now_utc(),
            authenticated: user,
        };
        if final_delivery {
            trace.headers()
        } else {
            trace.received()
        }
    }

    async fn receive(
        &mut self,
        conn: &mut Connection,
        tx: Box<Transaction>,
        body: Vec<u8>,
    ) -> Result<Flow, SmtpError> {
        let lmtp = self.shared.mode == Mode::Lmtp;
        let mut content = self.trace_fields(conn, &tx, true);
        let mut body = body;
        // LMTP's client (our own MTA in front) did any checks already, and may have added
        // Authentication-Results in our name.
        if !lmtp {
            if let Some(verdict) = self.authenticate_message(&tx, &body).await {
                if verdict.dmarc_reject && self.shared.config.dmarc_reject {
                    tracing::info!(id = %tx.id, domain = %verdict.domain, "DMARC reject");
                    return Err(SmtpError::DmarcReject(verdict.domain));
                }
                content.extend_from_slice(verdict.header.as_bytes());
            }
            // RFC 8601 §5: results in our name that came with the message are forged.
            body = strip_auth_results(&body, &self.shared.config.hostname);
        }
        content.extend_from_slice(&body);
        let outcomes = deliver(&self.shared.store, &tx.recipients, content).await;
        if outcomes.iter().any(Result::is_ok) {
            mailroom_net::stats::delivered(self.shared.mode.name());
        }
        let sender = tx.from.address();
        let original = bounce::Original {
            sender: &sender,
            envid: tx.params.envid.as_deref(),
            ret: tx.params.ret,
            message: &body,
            id: &tx.id,
        };
        if lmtp {
            // RFC 2033 §4.2: one reply per accepted recipient, in RCPT order.
            for (rcpt, outcome) in tx.recipients.iter().zip(&outcomes) {
                let reply = match outcome {
                    Ok(()) => Reply::new(250, "2.0.0", format!("<{}> delivered", rcpt.address)),
                    Err(e) => e.reply(),
                };
                conn.queue(&reply.to_bytes());
            }
            // Failures are the LMTP client's to report, from those replies; only we know of a
            // delivery into the mailbox, so success reports (NOTIFY=SUCCESS) are ours.
            let entries = bounce::entries(&tx.recipients, &outcomes, false);
            bounce::send(&self.shared, &original, &entries).await;
            return Ok(Flow::Continue);
        }
        let delivered = outcomes.iter().filter(|o| o.is_ok()).count();
        if delivered > 0 {
            // Accepted at RCPT, refused when stored (the quota filled meanwhile): the client
            // gets 250 for the others, so the sender hears of these by a bounce, unless their
            // NOTIFY said otherwise (RFC 3461 §4.1). Successes are reported where asked.
            for (rcpt, outcome) in tx.recipients.iter().zip(&outcomes) {
                if let Err(e) = outcome {
                    tracing::warn!(id = %tx.id, rcpt = %rcpt.address, "not delivered: {e}");
                }
            }
            let entries = bounce::entries(&tx.recipients, &outcomes, true);
            bounce::send(&self.shared, &original, &entries).await;
            let text = format!("OK, delivered as {}", tx.id);
            conn.queue(&Reply::new(250, "2.0.0", text).to_bytes());
            return Ok(Flow::Continue);
        }
        match outcomes.into_iter().find_map(Result::err) {
            Some(e) => Err(e),
            None => Err(SmtpError::NoRecipients),
        }
    }

    /// SPF, DKIM and DMARC when configured: `verify_inbound` and a resolver; without a
    /// resolver (no DNS configured) nothing is checked.
    async fn authenticate_message(
        &self,
        tx: &Transaction,
        body: &[u8],
    ) -> Option<crate::inbound::Verdict> {
        let config = &self.shared.config;
        let loopback = self.peer.ip().to_canonical().is_loopback();
        if !config.verify_inbound || (loopback && !config.verify_loopback) {
            return None;
        }
        let dns = self.shared.dns.as_ref()?;
        let (helo, _) = self.helo();
        let sender = tx.from.address();
        let check = Check {
            hostname: &self.shared.config.hostname,
            // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; SPF's ip4
            // mechanisms need the IPv4 form (RFC 7208 §5.6).
            peer: self.peer.ip().to_canonical(),
            helo: &helo,
            mail_from: &sender,
        };
        Some(check.run(dns, body).await)
    }
}
