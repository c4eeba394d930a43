//! One SMTP or LMTP session: the state machine of RFC 5321 §4.1.4 with the single place that
//! decides which command is allowed where (`dispatch`). AUTH lives in `auth.rs`, the envelope
//! commands in `envelope.rs`, the message transfer (DATA, BDAT) in `message.rs`, and what
//! happens to a received message in `finish.rs` (MX, LMTP) and `submit.rs` (submission).

mod auth;
mod envelope;
mod finish;
mod message;
mod submit;

use crate::delivery::Recipient;
use crate::error::SmtpError;
use crate::proto::{Command, MAX_COMMAND_LINE, MailParams, Path, Reply, parse_command};
use crate::server::{Mode, Shared};
use mailroom_net::{Connection, Line};
use mailroom_net::{ConnectionPermit, MailStream, RateLimit};
use mailroom_store::{AccountId, OutboundRecipient};
use std::net::SocketAddr;
use std::sync::Arc;

/// What the client said in EHLO/HELO/LHLO.
#[derive(Debug, Clone)]
struct Greeting {
    name: String,
    /// EHLO or LHLO (extensions in force) rather than HELO.
    extended: bool,
}

/// A mail transaction (RFC 5321 §3.3), open from MAIL to the end of the message.
#[derive(Debug)]
struct Transaction {
    id: String,
    from: Path,
    params: MailParams,
    recipients: Vec<Recipient>,
    /// Submission: recipients outside our domains, relayed through the outbound queue with
    /// their DSN parameters.
    remote: Vec<OutboundRecipient>,
    /// The chunks received so far when the message comes by BDAT (RFC 3030).
    chunks: Option<Vec<u8>>,
}

enum State {
    /// No EHLO/HELO/LHLO yet, or a fresh start after STARTTLS (RFC 3207 §4.2).
    Fresh,
    Ready(Greeting),
    Mail(Greeting, Box<Transaction>),
}

/// The state without its data, for `dispatch`.
#[derive(Clone, Copy)]
enum Phase {
    Fresh,
    Ready,
    Mail,
}

/// What the read loop does after a command.
enum Flow {
    Continue,
    Quit,
    StartTls,
    /// Drop the connection (the client went away mid-message, or a 421 was sent).
    Close,
}

/// Who logged in with AUTH (RFC 4954); kept across transactions, dropped by STARTTLS.
#[derive(Debug, Clone)]
struct User {
    account: AccountId,
    /// The account's own address, lower-cased.
    address: String,
}

pub struct Session {
    shared: Arc<Shared>,
    /// The client: the connection's address, or the one a trusted proxy named in XCLIENT.
    peer: SocketAddr,
    /// The connection's own address, which decides whether a password may travel on it.
    socket_peer: SocketAddr,
    /// The connection comes from a trusted proxy (`[auth] trusted_networks`).
    from_proxy: bool,
    /// The HELO name a proxy passed in XCLIENT, for the trace fields and SPF.
    proxied_helo: Option<String>,
    /// Recipients refused so far (see `SmtpConfig::max_recipient_errors`).
    recipient_errors: u32,
    /// The session's slot in the connection gate, told of a successful AUTH.
    permit: Option<ConnectionPermit>,
    state: State,
    errors: u32,
    user: Option<User>,
    auth_failures: u32,
}

impl Session {
    pub(crate) fn new(shared: Arc<Shared>, peer: SocketAddr) -> Self {
        let from_proxy = shared.authenticator.is_trusted(peer.ip());
        Session {
            shared,
            peer,
            socket_peer: peer,
            from_proxy,
            proxied_helo: None,
            recipient_errors: 0,
            permit: None,
            state: State::Fresh,
            errors: 0,
            user: None,
            auth_failures: 0,
        }
    }

    pub(crate) fn with_permit(mut self, permit: ConnectionPermit) -> Self {
        self.permit = Some(permit);
        self
    }

    pub async fn run(mut self, stream: MailStream) {
        let mut conn = Connection::new(stream, self.shared.config.timeouts.write);
        conn.queue(&self.ready());
        if conn.flush().await.is_err() {
            return;
        }
        let mut rate = RateLimit::new(self.shared.config.commands);
        loop {
            let wait = self.shared.config.timeouts.command;
            let line = match tokio::time::timeout(wait, conn.read_line(MAX_COMMAND_LINE)).await {
                Ok(Ok(line @ (Line::Data { .. } | Line::TooLong))) => {
                    // The line is read first, so the 421 never meets unread input (a close
                    // with unread input is a reset that can destroy the reply).
                    if rate.acquire().await.is_err() {
                        conn.queue(&SmtpError::TooFast.reply().to_bytes());
                        break;
                    }
                    Ok(Ok(line))
                }
                other => other,
            };
            let flow = match line {
                // RFC 5321 §4.5.3.2.7: the server may close after its timeout, with a 421.
                Err(_) => self.fail(&mut conn, SmtpError::Timeout),
                Ok(Err(_)) | Ok(Ok(Line::Eof)) => break,
                Ok(Ok(Line::TooLong)) => self.fail(&mut conn, SmtpError::LineTooLong),
                Ok(Ok(Line::Data { bytes, .. })) => match parse_command(&bytes) {
                    Ok(command) => match self.dispatch(&mut conn, command).await {
                        Ok(flow) => flow,
                        Err(e) => self.fail(&mut conn, e),
                    },
                    Err(e) => self.fail(&mut conn, e.into()),
                },
            };
            match flow {
                Flow::Continue => {
                    // RFC 2920 §3.2: replies to pipelined commands may wait and go together.
                    if !conn.has_pending_line() && conn.flush().await.is_err() {
                        break;
                    }
                }
                Flow::Quit | Flow::Close => break,
                Flow::StartTls => {
                    let Some(tls) = self.shared.tls.clone() else {
                        break;
                    };
                    match conn.start_tls(&tls).await {
                        Ok(upgraded) => {
                            conn = upgraded;
                            // RFC 3207 §4.2: forget everything learnt before TLS.
                            self.state = State::Fresh;
                            self.user = None;
                        }
                        Err(e) => {
                            tracing::debug!(peer = %self.peer, "STARTTLS failed: {e}");
                            return;
                        }
                    }
                }
            }
        }
        conn.shutdown().await;
    }

    /// Queues the error's reply; enough protocol errors end the session with 421.
    fn fail(&mut self, conn: &mut Connection, error: SmtpError) -> Flow {
        conn.queue(&error.reply().to_bytes());
        if matches!(error, SmtpError::UnknownUser | SmtpError::RelayDenied) {
            self.recipient_errors += 1;
            let max = self.shared.config.max_recipient_errors;
            if max > 0 && self.shared.mode != Mode::Lmtp && self.recipient_errors >= max {
                conn.queue(&SmtpError::TooManyRecipientErrors.reply().to_bytes());
                return Flow::Close;
            }
        }
        if matches!(
            error,
            SmtpError::Timeout
                | SmtpError::TooManyErrors
                | SmtpError::TooManyAuthFailures
                | SmtpError::AccountBusy
        ) {
            return Flow::Close;
        }
        // A client guessing passwords gets a few tries per connection, then 421.
        if matches!(error, SmtpError::AuthFailed) {
            self.auth_failures += 1;
            if self.auth_failures >= self.shared.config.max_auth_failures {
                conn.queue(&SmtpError::TooManyAuthFailures.reply().to_bytes());
                return Flow::Close;
            }
        }
        if error.counts_as_protocol_error() {
            self.errors += 1;
            if self.errors >= self.shared.config.max_errors {
                conn.queue(&SmtpError::TooManyErrors.reply().to_bytes());
                return Flow::Close;
            }
        }
        Flow::Continue
    }

    /// The one place that decides which command is valid in which state (RFC 5321 §4.1.4,
    /// RFC 2033 §4.1).
    async fn dispatch(
        &mut self,
        conn: &mut Connection,
        command: Command,
    ) -> Result<Flow, SmtpError> {
        let lmtp = self.shared.mode == Mode::Lmtp;
        let phase = match self.state {
            State::Fresh => Phase::Fresh,
            State::Ready(_) => Phase::Ready,
            State::Mail(..) => Phase::Mail,
        };
        match (command, phase) {
            (Command::Quit, _) => {
                conn.queue(&Reply::new(221, "2.0.0", "Bye").to_bytes());
                return Ok(Flow::Quit);
            }
            (Command::Noop, _) => conn.queue(&Reply::new(250, "2.0.0", "OK").to_bytes()),
            (Command::Help, _) => conn.queue(
                &Reply::new(214, "2.0.0", "See RFC 5321 (and RFC 2033 for LMTP)").to_bytes(),
            ),
            // RFC 5321 §3.5.3: 252 neither confirms nor denies an address.
            (Command::Vrfy, _) => conn.queue(
                &Reply::new(252, "2.5.2", "Cannot VRFY user, but will accept message").to_bytes(),
            ),
            // RFC 5321 §3.5.2: we have no mailing lists to expand.
            (Command::Expn, _) => {
                conn.queue(&Reply::new(502, "5.5.1", "EXPN not available").to_bytes())
            }
            (Command::Rset, _) => {
                self.reset_transaction();
                conn.queue(&Reply::new(250, "2.0.0", "OK").to_bytes());
            }
            (Command::Ehlo(_) | Command::Helo(_), _) if lmtp => {
                return Err(SmtpError::LmtpNeedsLhlo);
            }
            (Command::Lhlo(_), _) if !lmtp => return Err(SmtpError::EhloNeeded),
            (Command::Ehlo(name) | Command::Lhlo(name), _) => self.ehlo(conn, name, true),
            (Command::Helo(name), _) => self.ehlo(conn, name, false),
            (Command::StartTls, Phase::Mail) => {
                return Err(SmtpError::Sequence("STARTTLS inside a transaction"));
            }
            (Command::StartTls, _) => return self.starttls(conn),
            // RFC 4954: AUTH is a submission command; the MX and LMTP don't know it.
            (Command::Auth { .. }, _) if self.shared.mode != Mode::Submission => {
                return Err(SmtpError::Parse(crate::proto::ParseError::Unknown));
            }
            (Command::Auth { .. }, Phase::Fresh) => {
                return Err(SmtpError::Sequence("send EHLO first"));
            }
            // RFC 4954 §4: not during a transaction, and only once per session.
            (Command::Auth { .. }, Phase::Mail) => {
                return Err(SmtpError::Sequence("AUTH inside a transaction"));
            }
            (Command::Auth { .. }, Phase::Ready) if self.user.is_some() => {
                return Err(SmtpError::Sequence("already authenticated"));
            }
            (Command::Auth { mechanism, initial }, Phase::Ready) => {
                return self.auth(conn, &mechanism, initial).await;
            }
            (Command::Mail { .. }, Phase::Fresh) => {
                return Err(SmtpError::Sequence("send EHLO first"));
            }
            (Command::Mail { .. }, Phase::Mail) => {
                return Err(SmtpError::Sequence("nested MAIL command"));
            }
            (Command::Mail { from, params }, Phase::Ready) => self.mail(conn, from, params).await?,
            (Command::Rcpt { to, params }, Phase::Mail) => {
                let result = self.rcpt(conn, to, params).await;
                if let Err(SmtpError::UnknownUser | SmtpError::RelayDenied) = &result {
                    self.slow_down_harvesting().await;
                }
                result?
            }
            (Command::Rcpt { .. }, _) => return Err(SmtpError::Sequence("need MAIL first")),
            (Command::Data, Phase::Mail) => return self.data(conn).await,
            (Command::Data, _) => return Err(SmtpError::Sequence("need MAIL first")),
            // The chunk is read whatever the state, to stay in step with the client.
            (Command::Bdat { size, last }, _) => return self.bdat(conn, size, last).await,
            (Command::Xclient(_), Phase::Mail) => {
                return Err(SmtpError::Sequence("XCLIENT inside a transaction"));
            }
            (Command::Xclient(_), _) if !self.from_proxy || self.user.is_some() => {
                return Err(SmtpError::XclientRefused);
            }
            (Command::Xclient(x), _) => self.xclient(conn, x),
        }
        Ok(Flow::Continue)
    }

    /// A proxy in front names the client it speaks for (Postfix's XCLIENT): from here on the
    /// session is that client's, starting over from the greeting.
    fn xclient(&mut self, conn: &mut Connection, x: crate::proto::Xclient) {
        if let Some(addr) = x.addr {
            self.peer = SocketAddr::new(addr, x.port.unwrap_or(0));
        } else if let Some(port) = x.port {
            self.peer.set_port(port);
        }
        if x.helo.is_some() {
            self.proxied_helo = x.helo;
        }
        tracing::info!(proxy = %self.socket_peer, client = %self.peer, name = ?x.name, "XCLIENT: a trusted proxy names its client");
        self.state = State::Fresh;
        self.recipient_errors = 0;
        conn.queue(&self.ready());
    }

    /// The 220 greeting, at connect and after XCLIENT.
    fn ready(&self) -> Vec<u8> {
        let kind = match self.shared.mode {
            Mode::Lmtp => "LMTP",
            Mode::Mx | Mode::Submission => "ESMTP",
        };
        let hello = format!("{} {kind} Mailroom ready", self.shared.config.hostname);
        Reply::plain(220, vec![hello.into()]).to_bytes()
    }

    /// Past a quarter of the refused-recipient limit every refusal waits before its answer.
    async fn slow_down_harvesting(&self) {
        let config = &self.shared.config;
        let start = (config.max_recipient_errors / 4).max(1);
        if config.max_recipient_errors > 0
            && self.shared.mode != Mode::Lmtp
            && self.recipient_errors + 1 >= start
        {
            tokio::time::sleep(config.recipient_error_delay).await;
        }
    }

    /// RSET, a new EHLO, or the end of a message: the transaction goes, the greeting stays.
    fn reset_transaction(&mut self) {
        self.state = match std::mem::replace(&mut self.state, State::Fresh) {
            State::Mail(greeting, _) | State::Ready(greeting) => State::Ready(greeting),
            State::Fresh => State::Fresh,
        };
    }

    fn greeting(&self) -> Option<&Greeting> {
        match &self.state {
            State::Fresh => None,
            State::Ready(g) | State::Mail(g, _) => Some(g),
        }
    }

    fn tls_available(&self, conn: &Connection) -> bool {
        self.shared.tls.is_some() && !conn.is_tls()
    }

    /// EHLO/LHLO list the extensions (RFC 5321 §4.1.1.1); HELO gets a one-line reply.
    fn ehlo(&mut self, conn: &mut Connection, name: String, extended: bool) {
        let config = &self.shared.config;
        let mut lines: Vec<std::borrow::Cow<'static, str>> =
            vec![format!("{} greets {name}", config.hostname).into()];
        if extended {
            lines.extend([
                "PIPELINING".into(),
                format!("SIZE {}", config.max_message_size).into(),
                "8BITMIME".into(),
                "SMTPUTF8".into(),
                "ENHANCEDSTATUSCODES".into(),
                "CHUNKING".into(),
                // RFC 3461: we are the final delivery agent here (MX, LMTP, and submission's
                // local recipients), so we can honour NOTIFY, ORCPT, RET and ENVID; submission's
                // remote recipients keep them in the outbound queue, whose runner relays them
                // or reports itself (RFC 3461 §5.2.1, §5.2.2).
                "DSN".into(),
            ]);
            if self.tls_available(conn) {
                lines.push("STARTTLS".into());
            }
            // RFC 4954 §4 and RFC 8314 §3: AUTH only where a password may be sent.
            if self.auth_allowed(conn) {
                lines.push("AUTH PLAIN LOGIN SCRAM-SHA-256".into());
            }
            if self.from_proxy {
                lines.push("XCLIENT ADDR PORT HELO NAME PROTO".into());
            }
        }
        conn.queue(&Reply::plain(250, lines).to_bytes());
        self.state = State::Ready(Greeting { name, extended });
    }

    fn starttls(&mut self, conn: &mut Connection) -> Result<Flow, SmtpError> {
        if !self.tls_available(conn) {
            return Err(SmtpError::TlsUnavailable);
        }
        conn.queue(&Reply::new(220, "2.0.0", "Ready to start TLS").to_bytes());
        Ok(Flow::StartTls)
    }
}
