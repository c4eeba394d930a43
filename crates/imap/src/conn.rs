//! The connection driver: owns the socket, frames commands, writes responses, and runs the
//! exchanges that read raw lines (AUTHENTICATE continuations, IDLE's DONE). Everything the
//! protocol decides lives in the session core.

use crate::cmd::auth::{SaslExchange, continue_sasl};
use crate::deflate::Deflate;
use crate::error::{ImapError, error_response, parse_error_response};
use crate::session::{Flow, Session, State};
use mailroom_imap_proto::response::{Code, Completion, Continue, Response, ResponseWriter, Text};
use mailroom_imap_proto::{
    Fragment, Framer, Limits, LineOutcome, LiteralMode, Outcome, Tag, parse_authenticate_response,
    parse_idle_done,
};
use mailroom_net::{MailStream, RateLimit};
use mailroom_store::MailboxEvent;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

/// Literals a client may send before logging in: enough for any LOGIN, too little to hurt.
const UNAUTHENTICATED_MAX_LITERAL: u64 = 64 * 1024;

const LOGIN_TIMEOUT: &str = "autologout: no successful login in time";

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
    pub stream: &'a mut MailStream,
    pub shutdown: &'a mut watch::Receiver<bool>,
    /// Set once COMPRESS=DEFLATE is active.
    pub deflate: Option<Deflate>,
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
        if responses.is_empty() {
            return Ok(());
        }
        let mut writer = ResponseWriter::new(self.session.write_options());
        for response in &responses {
            writer.push(response);
        }
        let fragments = writer.finish();
        if let Some(deflate) = &mut self.deflate {
            let mut bytes = Vec::new();
            for fragment in fragments {
                bytes.extend_from_slice(fragment_bytes(&fragment)?);
            }
            let bytes = deflate.compress(&bytes)?;
            self.stream.write_all(&bytes).await?;
            return self.stream.flush().await;
        }
        // Small pieces are gathered into one write; message bodies go to the socket as they
        // are, never copied into one response-sized buffer (a FETCH of every body would
        // otherwise copy the whole mailbox once more).
        let mut pending: Vec<u8> = Vec::with_capacity(WRITE_CHUNK);
        for fragment in &fragments {
            let data = fragment_bytes(fragment)?;
            if data.len() >= DIRECT_WRITE {
                if !pending.is_empty() {
                    self.stream.write_all(&pending).await?;
                    pending.clear();
                }
                self.stream.write_all(data).await?;
            } else {
                pending.extend_from_slice(data);
                if pending.len() >= WRITE_CHUNK {
                    self.stream.write_all(&pending).await?;
                    pending.clear();
                }
            }
        }
        if !pending.is_empty() {
            self.stream.write_all(&pending).await?;
        }
        self.stream.flush().await
    }

    async fn read_more(&mut self, buf: &mut Vec<u8>) -> io::Result<Read> {
        let deadline = self.read_deadline();
        tokio::select! {
            read = tokio::time::timeout_at(deadline, read_some(self.stream, &mut self.deflate, buf)) => match read {
                Err(_) => Ok(Read::Timeout),
                Ok(Ok(0)) => Ok(Read::Eof),
                Ok(Ok(_)) => Ok(Read::Data),
                Ok(Err(e)) => Err(e),
            },
            _ = self.shutdown.changed() => Ok(Read::Shutdown),
        }
    }

    /// Answers a timeout or shutdown with BYE (RFC 9051 §7.1.5).
    async fn bye(&mut self, text: &str) -> io::Result<Exit> {
        self.session
            .push(error_response(None, &ImapError::Bye(None, text.into())));
        self.flush().await?;
        Ok(Exit::Close)
    }

    async fn handle_read(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Exit>> {
        match self.read_more(buf).await? {
            Read::Data => Ok(None),
            Read::Eof => Ok(Some(Exit::Close)),
            Read::Timeout if self.session.state.user().is_none() => {
                self.bye(LOGIN_TIMEOUT).await.map(Some)
            }
            Read::Timeout => self.bye("autologout: idle for too long").await.map(Some),
            Read::Shutdown => self.bye("server shutting down").await.map(Some),
        }
    }

    /// Reads and runs commands until the connection ends or STARTTLS restarts the stream.
    /// The buffer is local: bytes pipelined after STARTTLS die with it.
    pub async fn run(&mut self) -> io::Result<Exit> {
        let mut buf: Vec<u8> = Vec::new();
        let mut framer = Framer::new(self.limits());
        let mut authenticated = self.session.state.user().is_some();
        self.flush().await?;
        loop {
            loop {
                match framer.decode(&buf) {
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
                        drain(&mut buf, consumed);
                        self.session.push(parse_error_response(tag, &error));
                        self.flush().await?;
                    }
                    Outcome::Discard { consumed } => drain(&mut buf, consumed),
                    Outcome::Complete { command, consumed } => {
                        drain(&mut buf, consumed);
                        // Over the rate, the command waits; nothing more is read meanwhile.
                        if self.rate.acquire().await.is_err() {
                            return self.bye("too many commands, slow down").await;
                        }
                        // A client whose next command is always buffered never waits on a
                        // read, so the read timeout alone would not end its login phase.
                        if !authenticated && tokio::time::Instant::now() >= self.login_deadline {
                            return self.bye(LOGIN_TIMEOUT).await;
                        }
                        let flow = self.session.execute(command).await;
                        self.flush().await?;
                        let exit = match flow {
                            Flow::Continue => None,
                            Flow::Logout => Some(Exit::Close),
                            Flow::StartTls => Some(Exit::StartTls),
                            Flow::Compress => {
                                // Anything after the command is already compressed.
                                let mut deflate = Deflate::new();
                                let pending = std::mem::take(&mut buf);
                                deflate.decompress(&pending, &mut buf)?;
                                self.deflate = Some(deflate);
                                None
                            }
                            Flow::Idle(tag) => self.idle(&mut buf, tag).await?,
                            Flow::Sasl(exchange) => self.sasl(&mut buf, exchange).await?,
                        };
                        if let Some(exit) = exit {
                            return Ok(exit);
                        }
                        // A BYE was queued (too many failures, mailbox deleted).
                        if matches!(self.session.state, State::Logout) {
                            return Ok(Exit::Close);
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
            if let Some(exit) = self.handle_read(&mut buf).await? {
                return Ok(exit);
            }
        }
    }

    /// RFC 9051 §6.2.2: challenge, client line, until the mechanism is done.
    async fn sasl(
        &mut self,
        buf: &mut Vec<u8>,
        mut exchange: SaslExchange,
    ) -> io::Result<Option<Exit>> {
        let max_line = self.session.shared.config.max_line;
        loop {
            self.session.push(Response::Continue(Continue::Base64(
                exchange.challenge().to_vec(),
            )));
            self.flush().await?;
            let response = loop {
                match parse_authenticate_response(buf, max_line) {
                    LineOutcome::Complete { value, consumed } => {
                        drain(buf, consumed);
                        break value;
                    }
                    LineOutcome::Failed { error, consumed } => {
                        drain(buf, consumed);
                        let tag = exchange.tag.clone();
                        self.session.push(error_response(
                            Some(tag),
                            &ImapError::bad(error.to_string()),
                        ));
                        self.flush().await?;
                        return Ok(None);
                    }
                    LineOutcome::Incomplete => {
                        if let Some(exit) = self.handle_read(buf).await? {
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
    async fn idle(&mut self, buf: &mut Vec<u8>, tag: Tag) -> io::Result<Option<Exit>> {
        self.session
            .push(Response::continue_text(Text::sanitized("idling")));
        self.session.sync_view().await;
        self.flush().await?;
        let timeout = self.timeout();
        loop {
            match parse_idle_done(buf) {
                LineOutcome::Complete { consumed, .. } => {
                    drain(buf, consumed);
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
                    drain(buf, consumed);
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
                read = tokio::time::timeout(timeout, read_some(self.stream, &mut self.deflate, buf)) => match read {
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

/// Output gathered before a write.
const WRITE_CHUNK: usize = 64 * 1024;
/// Fragments at least this large are written without being gathered.
const DIRECT_WRITE: usize = 16 * 1024;

fn fragment_bytes(fragment: &Fragment) -> io::Result<&[u8]> {
    match fragment {
        Fragment::Protocol(data) => Ok(data),
        Fragment::Literal(data) => Ok(data),
        // This crate never builds streamed bodies.
        Fragment::Stream { .. } => Err(io::Error::other("unexpected streamed body")),
    }
}

/// Reads whatever arrives into `buf` (decompressed when COMPRESS is active); 0 is EOF.
/// Cancel-safe: the only await is the socket read, and decompressed input is kept by the
/// decompressor.
async fn read_some(
    stream: &mut MailStream,
    deflate: &mut Option<Deflate>,
    buf: &mut Vec<u8>,
) -> io::Result<usize> {
    let Some(deflate) = deflate else {
        return stream.read_buf(buf).await;
    };
    let mut raw = [0u8; 8192];
    loop {
        let n = stream.read(&mut raw).await?;
        if n == 0 {
            return Ok(0);
        }
        let before = buf.len();
        deflate.decompress(raw.get(..n).unwrap_or_default(), buf)?;
        if buf.len() > before {
            return Ok(buf.len() - before);
        }
    }
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

/// What the input buffer keeps between commands. An APPEND's literal grows the buffer to the
/// message's size; without giving that back, each of a thousand idle sessions would hold on
/// to the largest message it ever sent.
const KEEP_CAPACITY: usize = 64 * 1024;

fn drain(buf: &mut Vec<u8>, consumed: usize) {
    buf.drain(..consumed.min(buf.len()));
    if buf.capacity() > KEEP_CAPACITY && buf.len() <= KEEP_CAPACITY / 2 {
        buf.shrink_to(KEEP_CAPACITY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drained_buffer_gives_back_a_large_literal() {
        let mut buf = vec![b'x'; 8 * 1024 * 1024];
        buf.extend_from_slice(b"a NOOP\r\n");
        drain(&mut buf, 8 * 1024 * 1024);
        assert_eq!(buf, b"a NOOP\r\n");
        assert!(buf.capacity() <= KEEP_CAPACITY, "{}", buf.capacity());
        // Small buffers are left alone: no reallocation per command.
        let mut small = Vec::with_capacity(4096);
        small.extend_from_slice(b"a NOOP\r\nb NOOP\r\n");
        drain(&mut small, 8);
        assert_eq!(small.capacity(), 4096);
    }
}
