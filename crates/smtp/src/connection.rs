//! Framing over a plain or TLS stream: lines with their length limit enforced as bytes arrive,
//! and exact-length BDAT chunks (RFC 3030).

use mailroom_net::{MailStream, TlsAcceptor};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub enum Line {
    /// A line without its line end; `crlf` is false when it ended in a bare LF.
    Data {
        bytes: Vec<u8>,
        crlf: bool,
    },
    /// The line exceeded the limit; its bytes were dropped up to and including its end.
    TooLong,
    Eof,
}

pub struct Connection {
    stream: MailStream,
    input: Vec<u8>,
    output: Vec<u8>,
    /// Set while the tail of an over-long line is still being skipped.
    skipping: bool,
    /// How long one flush may take. A client that stops reading (zero receive window) would
    /// otherwise hold the session in a write forever, where the command timeout, which only
    /// guards reads, never fires (RFC 5321 §4.5.3.2.7 lets the server give up on an idle
    /// client; one that doesn't read is just as idle).
    write_timeout: Duration,
    /// A write timed out: the stream may hold half a reply, so nothing more is written.
    stalled: bool,
}

impl Connection {
    /// `write_timeout` bounds every flush (the session's command timeout).
    pub fn new(stream: MailStream, write_timeout: Duration) -> Self {
        Connection {
            stream,
            input: Vec::with_capacity(4096),
            output: Vec::with_capacity(4096),
            skipping: false,
            write_timeout,
            stalled: false,
        }
    }

    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// The next line; `max` counts the line end too.
    pub async fn read_line(&mut self, max: usize) -> io::Result<Line> {
        loop {
            if let Some(end) = self.input.iter().position(|&b| b == b'\n') {
                let mut bytes: Vec<u8> = self.input.drain(..=end).collect();
                bytes.pop();
                let crlf = bytes.last() == Some(&b'\r');
                if crlf {
                    bytes.pop();
                }
                if std::mem::take(&mut self.skipping) || bytes.len() + 2 > max {
                    return Ok(Line::TooLong);
                }
                return Ok(Line::Data { bytes, crlf });
            }
            if self.input.len() > max {
                // Don't buffer an endless line: drop what we have and skip the rest.
                self.input.clear();
                self.skipping = true;
            }
            if self.fill().await? == 0 {
                return Ok(Line::Eof);
            }
        }
    }

    /// Reads exactly `size` octets of a BDAT chunk, appending them to `sink` while it has room
    /// below `limit` octets; the rest is read and dropped. False when the limit was passed.
    pub async fn read_chunk(
        &mut self,
        mut size: u64,
        sink: &mut Vec<u8>,
        limit: u64,
    ) -> io::Result<bool> {
        let mut fits = true;
        loop {
            let take = usize::try_from(size)
                .unwrap_or(usize::MAX)
                .min(self.input.len());
            if fits && sink.len() as u64 + take as u64 <= limit {
                sink.extend_from_slice(&self.input[..take]);
            } else {
                fits = false;
            }
            self.input.drain(..take);
            size -= take as u64;
            if size == 0 {
                return Ok(fits);
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.input.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// True if a complete line is already buffered (the client pipelined): replies can wait
    /// and go out together (RFC 2920 §3.2).
    pub fn has_pending_line(&self) -> bool {
        self.input.contains(&b'\n')
    }

    pub fn queue(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    /// Sends the queued replies; a client that takes in none of them within the write timeout
    /// gets `TimedOut`, and the session ends as if it had dropped the connection.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.stalled {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let write = async {
            if !self.output.is_empty() {
                self.stream.write_all(&self.output).await?;
                self.output.clear();
            }
            self.stream.flush().await
        };
        match tokio::time::timeout(self.write_timeout, write).await {
            Ok(result) => result,
            Err(_) => {
                self.stalled = true;
                Err(io::ErrorKind::TimedOut.into())
            }
        }
    }

    /// STARTTLS: whatever the client sent after the command was sent in the clear and is
    /// thrown away with the old buffers, never run as a command of the protected session
    /// (RFC 3207 §4.2, CVE-2021-38371 class).
    pub async fn start_tls(mut self, acceptor: &TlsAcceptor) -> io::Result<Self> {
        self.flush().await?;
        let stream = self.stream.starttls(acceptor).await?;
        Ok(Connection::new(stream, self.write_timeout))
    }

    /// Sends what is queued and closes, each step bounded by the write timeout (a TLS
    /// close_notify is a write too). After a stalled write there is nothing left to try.
    pub async fn shutdown(&mut self) {
        let _ = self.flush().await;
        if self.stalled {
            return;
        }
        let _ = tokio::time::timeout(self.write_timeout, self.stream.shutdown()).await;
    }
}
