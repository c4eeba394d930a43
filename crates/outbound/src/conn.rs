//! One SMTP client connection: replies assembled from the lines of the shared
//! [`mailroom_net::Connection`] (bounded line reads, timed writes), over a plain or TLS stream.

use crate::reply::{Reply, ReplyError, ReplyParser};
use mailroom_net::Line;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;

/// The longest reply line we accept. RFC 5321 §4.5.3.1.5 allows 512 octets; servers exceed it
/// in practice, so allow more, but bound it: the peer is untrusted.
const MAX_LINE: usize = 4096;

/// Anything a session can run over: a TCP stream, or TLS on one.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// What went wrong on the wire.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("connection closed by the server")]
    Closed,
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    #[error("reply line longer than {MAX_LINE} octets")]
    LineTooLong,
    #[error(transparent)]
    Reply(#[from] ReplyError),
    /// Data arrived after a STARTTLS 220 and before the handshake: a command-injection attempt
    /// (the class of CVE-2011-0411), refused.
    #[error("unexpected data before the TLS handshake")]
    DataBeforeTls,
}

pub struct Connection {
    inner: mailroom_net::Connection<Box<dyn Io>>,
    parser: ReplyParser,
}

impl Connection {
    pub fn new(stream: Box<dyn Io>) -> Self {
        Connection {
            // Every write below sets its own deadline first.
            inner: mailroom_net::Connection::new(stream, mailroom_net::WRITE_TIMEOUT),
            parser: ReplyParser::new(),
        }
    }

    /// Reads one complete (possibly multi-line) reply within `limit`.
    pub async fn read_reply(&mut self, limit: Duration) -> Result<Reply, ConnError> {
        timeout(limit, self.read_reply_inner())
            .await
            .map_err(|_| ConnError::Timeout(limit))?
    }

    async fn read_reply_inner(&mut self) -> Result<Reply, ConnError> {
        loop {
            let line = match self.inner.read_line(MAX_LINE).await? {
                Line::Data { bytes, .. } => bytes,
                Line::TooLong => return Err(ConnError::LineTooLong),
                Line::Eof => return Err(ConnError::Closed),
            };
            if let Some(reply) = self.parser.push_line(&line)? {
                return Ok(reply);
            }
        }
    }

    /// Sends one command line (CRLF added) and reads its reply.
    pub async fn command(&mut self, line: &str, limit: Duration) -> Result<Reply, ConnError> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.write_timed(&bytes, limit).await?;
        self.read_reply(limit).await
    }

    /// Writes the prepared DATA body; each block of it must go out within `block_limit`
    /// (RFC 5321 §4.5.3.2.5 times each block).
    pub async fn send_body(&mut self, body: &[u8], block_limit: Duration) -> Result<(), ConnError> {
        self.write_timed(body, block_limit).await
    }

    async fn write_timed(&mut self, bytes: &[u8], limit: Duration) -> Result<(), ConnError> {
        self.inner.set_write_timeout(limit);
        self.inner.queue(bytes);
        self.inner.flush().await.map_err(|e| match e.kind() {
            io::ErrorKind::TimedOut => ConnError::Timeout(limit),
            _ => ConnError::Io(e),
        })
    }

    /// The raw stream for the TLS handshake after STARTTLS's 220. Refused if the server sent
    /// anything more: those bytes would be trusted as if they came over TLS (RFC 3207 §4.2
    /// requires discarding everything learnt before TLS).
    pub fn into_stream(self) -> Result<Box<dyn Io>, ConnError> {
        self.inner
            .into_stream()
            .map_err(|_| ConnError::DataBeforeTls)
    }
}
