//! One SMTP connection: bounded line reading, reply assembly and timed writes over a plain or
//! TLS stream.

use crate::reply::{Reply, ReplyError, ReplyParser};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::timeout;

/// The longest reply line we accept. RFC 5321 §4.5.3.1.5 allows 512 octets; servers exceed it
/// in practice, so allow more, but bound it: the peer is untrusted.
const MAX_LINE: usize = 4096;

/// How much of the body goes out per timed write (RFC 5321 §4.5.3.2.5 times each block).
pub const BLOCK_SIZE: usize = 64 * 1024;

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
    stream: BufReader<Box<dyn Io>>,
    parser: ReplyParser,
}

impl Connection {
    pub fn new(stream: Box<dyn Io>) -> Self {
        Connection {
            stream: BufReader::new(stream),
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
            let line = self.read_line().await?;
            if let Some(reply) = self.parser.push_line(&line)? {
                return Ok(reply);
            }
        }
    }

    /// One line without its LF, at most `MAX_LINE` octets.
    async fn read_line(&mut self) -> Result<Vec<u8>, ConnError> {
        let mut line = Vec::new();
        loop {
            let buf = self.stream.fill_buf().await?;
            if buf.is_empty() {
                return Err(ConnError::Closed);
            }
            let (take, done) = match buf.iter().position(|b| *b == b'\n') {
                Some(at) => (at + 1, true),
                None => (buf.len(), false),
            };
            if line.len() + take > MAX_LINE {
                return Err(ConnError::LineTooLong);
            }
            line.extend_from_slice(&buf[..take]);
            self.stream.consume(take);
            if done {
                line.pop();
                return Ok(line);
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

    /// Writes the prepared DATA body in blocks, each within `block_limit`.
    pub async fn send_body(&mut self, body: &[u8], block_limit: Duration) -> Result<(), ConnError> {
        for block in body.chunks(BLOCK_SIZE) {
            self.write_timed(block, block_limit).await?;
        }
        Ok(())
    }

    async fn write_timed(&mut self, bytes: &[u8], limit: Duration) -> Result<(), ConnError> {
        let stream = self.stream.get_mut();
        let write = async {
            stream.write_all(bytes).await?;
            stream.flush().await
        };
        timeout(limit, write)
            .await
            .map_err(|_| ConnError::Timeout(limit))??;
        Ok(())
    }

    /// The raw stream for the TLS handshake after STARTTLS's 220. Refused if the server sent
    /// anything more: those bytes would be trusted as if they came over TLS (RFC 3207 §4.2
    /// requires discarding everything learnt before TLS).
    pub fn into_stream(self) -> Result<Box<dyn Io>, ConnError> {
        if !self.stream.buffer().is_empty() {
            return Err(ConnError::DataBeforeTls);
        }
        Ok(self.stream.into_inner())
    }
}
