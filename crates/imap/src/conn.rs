//! The connection driver: owns the socket, frames commands, writes responses, and runs the
//! exchanges that read raw lines (AUTHENTICATE continuations, IDLE's DONE). Everything the
//! protocol decides lives in the session core.

use crate::cmd::auth::{SaslExchange, continue_sasl};
use crate::error::{ImapError, error_response, parse_error_response};
use crate::session::{Flow, Session, State};
use mailroom_imap_proto::response::{Code, Completion, Continue, Response, ResponseWriter, Text};
use mailroom_imap_proto::{
    Fragment, Framer, Limits, LineOutcome, LiteralMode, Outcome, Tag, parse_authenticate_response,
    parse_idle_done,
};
use mailroom_net::{Connection, RateLimit};
use mailroom_store::MailboxEvent;
use std::io;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Literals a client may send before logging in: enough for any LOGIN, too little to hurt.
const UNAUTHENTICATED_MAX_LITERAL: u64 = 64 * 1024;

const LOGIN_TIMEOUT: &str = "autologout: no successful login in time";
const TOO_MANY_BAD: &str = "Too many invalid commands";

/// Why the driver stopped reading.
pub(crate) enum Exit {
    Close,
    StartTls,
}

enum Read {
    Data,
    Eof,
    Timeout,
    Shutdown,
}

pub(crate) struct Driver<'a> {
    pub session: &'a mut Session,
    /// Reads, timed writes and COMPRESS; replaced by STARTTLS with a fresh one.
    pub conn: &'a mut Connection,
    pub shutdown: &'a mut watch::Receiver<bool>,
    /// The connection's command rate; lives across STARTTLS.
    pub rate: &'a mut RateLimit,
    /// When an unauthenticated connection is closed, however busy it keeps itself.
    pub login_deadline: tokio::time::Instant,
}

impl Driver<'_> {
    fn limits(&self) -> Limits {
        let config = &self.session.shared.config;
        let max_literal = if self.session.state.user().is_some() {
            config.max_literal
        } else {
            config.max_literal.min(UNAUTHENTICATED_MAX_LITERAL)
        };
        Limits {
            max_line: config.max_line,
            max_literal,
            // MULTIAPPEND may carry several messages of the maximum size.
            max_command: max_literal.saturating_mul(4).max(config.max_line as u64),
            ..Limits::default()
        }
    }

    fn timeout(&self) -> Duration {
        self.session.shared.config.idle_timeout
    }

    /// When the next read gives up: the idle timeout once logged in, the login deadline
    /// before.
    fn read_deadline(&self) -> tokio::time::Instant {
        if self.session.state.user().is_some() {
            tokio::time::Instant::now() + self.timeout()
        } else {
            self.login_deadline
        }
    }

    /// Writes every queued response, in order, and flushes.
    pub async fn flush(&mut self) -> io::Result<()> {
        let responses = self.session.take_output();
        let options = self.session.write_options();
        write_responses(self.conn, options, &responses).await?;
        self.conn.flush().await
    }

    /// Runs one command. Responses it hands over while it runs (a long FETCH) are written at
    /// once, so they never pile up; while the client is slow to take them the command waits.
    async fn execute(&mut self, command: mailroom_imap_proto::Command) -> io::Result<Flow> {
        let (sink, mut pieces) = mpsc::channel(1);
        self.session.sink = Some(sink);
        let options = self.session.write_options();
        let Driver { session, conn, .. } = self;
        let flow = {
            let run = session.execute(command);
            tokio::pin!(run);
            loop {
                tokio::select! {
                    flow = &mut run => break flow,
                    Some(piece) = pieces.recv() => write_responses(conn, options, &piece).await?,
                }
            }
        };
        self.session.sink = None;
        while let Ok(piece) = pieces.try_recv() {
            write_responses(self.conn, options, &piece).await?;
        }
        self.flush().await?;
        Ok(flow)
    }

    async fn read_more(&mut self) -> io::Result<Read> {
        let deadline = self.read_deadline();
        tokio::select! {
            read = tokio::time::timeout_at(deadline, self.conn.fill()) => match read {
                Err(_) => Ok(Read::Timeout),
                Ok(Ok(0)) => Ok(Read::Eof),
                Ok(Ok(_)) => Ok(Read::Data),
                Ok(Err(e)) => Err(e),
            },
            _ = self.shutdown.changed() => Ok(Read::Shutdown),
        }
    }

    /// The same budget before and after login, like POP3's and SMTP's: a client that sends
    /// nothing but broken commands is talking to the wrong server, or probing.
    fn too_many_bad_commands(&self) -> bool {
        let max = self.session.shared.config.max_bad_commands;
        max > 0 && self.session.bad_streak >= max
    }

    /// Answers a timeout or shutdown with BYE (RFC 9051 §7.1.5).
    async fn bye(&mut self, text: &str) -> io::Result<Exit> {
        self.session
            .push(error_response(None, &ImapError::Bye(None, text.into())));
        self.flush().await?;
        Ok(Exit::Close)
    }

    async fn handle_read(&mut self) -> io::Result<Option<Exit>> {
        match self.read_more().await? {
            Read::Data => Ok(None),
            Read::Eof => Ok(Some(Exit::Close)),
            Read::Timeout if self.session.state.user().is_none() => {
                self.bye(LOGIN_TIMEOUT).await.map(Some)
            }
            Read::Timeout => self.bye("autologout: idle for too long").await.map(Some),
            Read::Shutdown => self.bye("server shutting down").await.map(Some),
        }
    }

    /// Reads and runs commands until the connection ends or STARTTLS restarts the stream
    /// (the new connection starts with empty buffers: bytes pipelined after STARTTLS die with
    /// the old one).
    pub async fn run(&mut self) -> io::Result<Exit> {
        let mut framer = Framer::new(self.limits());
        let mut authenticated = self.session.state.user().is_some();
        self.flush().await?;
        loop {
            loop {
                match framer.decode(self.conn.buffered()) {
                    Outcome::Incomplete => break,
                    Outcome::NeedLiteral { mode, .. } => {
                        // RFC 9051 §7.5: a synchronizing literal waits for our go-ahead.
                        if mode == LiteralMode::Sync {
                            self.session.push(Response::continue_text(Text::sanitized(
                                "Ready for literal data",
                            )));
                            self.flush().await?;
                        }
                    }
                    Outcome::Failed {
                        tag,
                        error,
                        consumed,
                    } => {
                        self.conn.consume(consumed);
                        // A malformed command costs what a good one does, so a flood of
                        // them is slowed down too.
                        if self.rate.acquire().await.is_err() {
                            return self.bye("too many commands, slow down").await;
                        }
                        self.session.push(parse_error_response(tag, &error));
                        self.session.bad_streak = self.session.bad_streak.saturating_add(1);
                        if self.too_many_bad_commands() {
                            return self.bye(TOO_MANY_BAD).await;
                        }
                        self.flush().await?;
                    }
                    Outcome::Discard { consumed } => self.conn.consume(consumed),
                    Outcome::Complete { command, consumed } => {
                        self.conn.consume(consumed);
                        // Over the rate, the command waits; nothing more is read meanwhile.
                        if self.rate.acquire().await.is_err() {
                            return self.bye("too many commands, slow down").await;
                        }
                        // A client whose next command is always buffered never waits on a
                        // read, so the read timeout alone would not end its login phase.
                        if !authenticated && tokio::time::Instant::now() >= self.login_deadline {
                            return self.bye(LOGIN_TIMEOUT).await;
                        }
                        let flow = self.execute(command).await?;
                        let exit = match flow {
                            Flow::Continue => None,
                            Flow::Logout => Some(Exit::Close),
                            Flow::StartTls => Some(Exit::StartTls),
                            Flow::Compress => {
                                // Anything after the command is already compressed.
                                self.conn.compress()?;
                                None
                            }
                            Flow::Idle(tag) => self.idle(tag).await?,
                            Flow::Sasl(exchange) => self.sasl(exchange).await?,
                        };
                        if let Some(exit) = exit {
                            return Ok(exit);
                        }
                        // A BYE was queued (too many failures, mailbox deleted).
                        if matches!(self.session.state, State::Logout) {
                            return Ok(Exit::Close);
                        }
                        if self.too_many_bad_commands() {
                            return self.bye(TOO_MANY_BAD).await;
                        }
                        let now = self.session.state.user().is_some();
                        if now != authenticated {
                            // Only between commands, when the framer holds nothing.
                            authenticated = now;
                            framer = Framer::new(self.limits());
                        }
                    }
                }
            }
            if let Some(exit) = self.handle_read().await? {
                return Ok(exit);
            }
        }
    }

    /// RFC 9051 §6.2.2: challenge, client line, until the mechanism is done.
    async fn sasl(&mut self, mut exchange: SaslExchange) -> io::Result<Option<Exit>> {
        let max_line = self.session.shared.config.max_line;
        loop {
            self.session.push(Response::Continue(Continue::Base64(
                exchange.challenge().to_vec(),
            )));
            self.flush().await?;
            let response = loop {
                match parse_authenticate_response(self.conn.buffered(), max_line) {
                    LineOutcome::Complete { value, consumed } => {
                        self.conn.consume(consumed);
                        break value;
                    }
                    LineOutcome::Failed { error, consumed } => {
                        self.conn.consume(consumed);
                        let tag = exchange.tag.clone();
                        self.session.push(error_response(
                            Some(tag),
                            &ImapError::bad(error.to_string()),
                        ));
                        self.flush().await?;
                        return Ok(None);
                    }
                    LineOutcome::Incomplete => {
                        if let Some(exit) = self.handle_read().await? {
                            return Ok(Some(exit));
                        }
                    }
                }
            };
            match continue_sasl(self.session, exchange, response).await {
                Flow::Sasl(next) => exchange = next,
                _ => {
                    self.flush().await?;
                    return Ok(None);
                }
            }
        }
    }

    /// RFC 9051 §6.3.13 / RFC 2177: report changes at once until the client says DONE.
    async fn idle(&mut self, tag: Tag) -> io::Result<Option<Exit>> {
        self.session
            .push(Response::continue_text(Text::sanitized("idling")));
        self.session.sync_view().await;
        self.flush().await?;
        let timeout = self.timeout();
        loop {
            match parse_idle_done(self.conn.buffered()) {
                LineOutcome::Complete { consumed, .. } => {
                    self.conn.consume(consumed);
                    self.session.report_changes().await;
                    self.session.push(Response::tagged(
                        tag,
                        Completion::Ok,
                        None,
                        Text::sanitized("IDLE terminated"),
                    ));
                    self.flush().await?;
                    return Ok(None);
                }
                LineOutcome::Failed { consumed, .. } => {
                    self.conn.consume(consumed);
                    self.session.push(Response::tagged(
                        tag,
                        Completion::Bad,
                        Some(Code::ClientBug),
                        Text::sanitized("expected DONE"),
                    ));
                    self.flush().await?;
                    return Ok(None);
                }
                LineOutcome::Incomplete => {}
            }
            let woke = tokio::select! {
                read = tokio::time::timeout(timeout, self.conn.fill()) => match read {
                    Err(_) => return self.bye("autologout: idle for too long").await.map(Some),
                    Ok(Ok(0)) => return Ok(Some(Exit::Close)),
                    Ok(Ok(_)) => false,
                    Ok(Err(e)) => return Err(e),
                },
                deleted = next_event(&mut self.session.state) => {
                    if deleted {
                        self.session.mailbox_deleted();
                        self.flush().await?;
                        return Ok(Some(Exit::Close));
                    }
                    true
                }
                _ = self.shutdown.changed() => {
                    return self.bye("server shutting down").await.map(Some);
                }
            };
            if woke {
                self.session.sync_view().await;
                self.flush().await?;
            }
        }
    }
}

/// Writes responses through the connection, which gathers small pieces and hands large
/// bodies to the socket as they are, each write within the deadline.
async fn write_responses(
    conn: &mut Connection,
    options: mailroom_imap_proto::response::WriteOptions,
    responses: &[Response],
) -> io::Result<()> {
    if responses.is_empty() {
        return Ok(());
    }
    let mut writer = ResponseWriter::new(options);
    for response in responses {
        writer.push(response);
    }
    for fragment in writer.finish() {
        match fragment {
            Fragment::Protocol(data) => conn.write(&data).await?,
            Fragment::Literal(data) => conn.write(&data).await?,
            // This crate never builds streamed bodies.
            Fragment::Stream { .. } => return Err(io::Error::other("unexpected streamed body")),
        }
    }
    Ok(())
}

/// Waits for a change notification of the selected mailbox (true: it was deleted); never
/// returns when nothing is selected.
async fn next_event(state: &mut State) -> bool {
    use tokio::sync::broadcast::error::RecvError;
    if let State::Selected(selected) = state {
        match selected.events.recv().await {
            // In "Recently Deleted" the events are the account's: another folder's deletion.
            Ok(MailboxEvent::Deleted { .. }) if !selected.recently_deleted => return true,
            Ok(_) | Err(RecvError::Lagged(_)) => return false,
            Err(RecvError::Closed) => {}
        }
    }
    std::future::pending::<bool>().await
}
