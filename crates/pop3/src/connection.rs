//! Line framing over a plain or TLS stream, with the line limit enforced as bytes arrive.

use crate::proto::MAX_LINE;
use mailroom_net::{MailStream, TlsAcceptor};
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub enum Line {
    Data(Vec<u8>),
    /// The line exceeded MAX_LINE; its bytes were dropped up to and including its end.
    TooLong,
    Eof,
}

pub struct Connection {
    stream: MailStream,
    input: Vec<u8>,
    output: Vec<u8>,
    /// Set while the tail of an over-long line is still being skipped.
    skipping: bool,
}

impl Connection {
    pub fn new(stream: MailStream) -> Self {
        Connection {
            stream,
            input: Vec::with_capacity(1024),
            output: Vec::with_capacity(64 * 1024),
            skipping: false,
        }
    }

    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// The next line without its CRLF (a bare LF ends a line too).
    pub async fn read_line(&mut self) -> io::Result<Line> {
        loop {
            if let Some(end) = self.input.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.input.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if std::mem::take(&mut self.skipping) {
                    return Ok(Line::TooLong);
                }
                if line.len() + 2 > MAX_LINE {
                    return Ok(Line::TooLong);
                }
                return Ok(Line::Data(line));
            }
            if self.input.len() > MAX_LINE {
                // Don't buffer an endless line: drop what we have and remember to skip the rest.
                self.input.clear();
                self.skipping = true;
            }
            let mut chunk = [0u8; 8192];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(Line::Eof);
            }
            self.input.extend_from_slice(&chunk[..n]);
        }
    }

    /// True if a complete line is already buffered (the client pipelined): replies can wait
    /// and go out together.
    pub fn has_pending_line(&self) -> bool {
        self.input.contains(&b'\n')
    }

    pub fn queue(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.output.is_empty() {
            self.stream.write_all(&self.output).await?;
            self.output.clear();
        }
        self.stream.flush().await
    }

    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.queue(bytes);
        self.flush().await
    }

    /// STLS: everything the client sent after the command was sent in the clear and is thrown
    /// away, never run as a command of the protected session (CVE-2021-33515 class).
    pub async fn start_tls(self, acceptor: &TlsAcceptor) -> io::Result<Self> {
        let stream = self.stream.starttls(acceptor).await?;
        Ok(Connection::new(stream))
    }

    pub async fn shutdown(&mut self) {
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
    }
}
