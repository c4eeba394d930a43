//! The one connection type every protocol speaks through, server and client side: buffered
//! input read as lines with a limit or as exact octet counts, output queued and written with a
//! deadline, COMPRESS=DEFLATE as a layer, and the STARTTLS reset.
//!
//! Reads have no deadline of their own (each protocol has its idle and command timeouts and
//! wraps the read in them); every read is cancel-safe, so a session can wait for input and for
//! other events at once. Writes do: a peer that stops reading (its receive window at zero)
//! would otherwise hold a session, and everything it has buffered, forever. Each write of at
//! most [`WRITE_CHUNK`] octets must finish within the deadline, so a slow but moving peer is
//! served and a stalled one is dropped after one deadline.

use crate::deflate::Deflate;
use crate::stream::MailStream;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;

/// How long a write may wait for the peer to take in data, unless a protocol's config says
/// otherwise: generous for a phone on a bad network, short next to a session's lifetime.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(120);
/// The most one timed write hands to the socket.
pub const WRITE_CHUNK: usize = 64 * 1024;
/// Queued output is written out once it reaches this size, even before `flush`.
const QUEUE_HIGH_WATER: usize = 256 * 1024;
/// What the input buffer keeps between reads. A large literal or chunk grows it; without
/// giving that back, each of a thousand idle sessions would keep the largest it ever read.
const KEEP_CAPACITY: usize = 64 * 1024;
const READ_SIZE: usize = 16 * 1024;

/// One line of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line without its line end; `crlf` is false when it ended in a bare LF. A bare CR is
    /// never a line end: it stays in the line.
    Data {
        bytes: Vec<u8>,
        crlf: bool,
    },
    /// The line exceeded the limit; its bytes were dropped up to and including its end.
    TooLong,
    Eof,
}

pub struct Connection<S = MailStream> {
    stream: S,
    input: Vec<u8>,
    output: Vec<u8>,
    deflate: Option<Deflate>,
    write_timeout: Duration,
    /// A write timed out: the stream may hold half a reply, so nothing more is written.
    stalled: bool,
    /// Set while the tail of an over-long line is still being skipped.
    skipping: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S, write_timeout: Duration) -> Self {
        Connection {
            stream,
            input: Vec::with_capacity(4096),
            output: Vec::with_capacity(4096),
            deflate: None,
            write_timeout,
            stalled: false,
            skipping: false,
        }
    }

    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// A client's phases have their own deadlines (RFC 5321 §4.5.3.2): the next writes get
    /// this one.
    pub fn set_write_timeout(&mut self, timeout: Duration) {
        self.write_timeout = timeout;
    }

    /// The next line; `max` counts the line end too. Cancel-safe.
    pub async fn read_line(&mut self, max: usize) -> io::Result<Line> {
        loop {
            if let Some(end) = self.input.iter().position(|&b| b == b'\n') {
                let mut bytes: Vec<u8> = self.input.drain(..=end).collect();
                self.give_back_capacity();
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

    /// Reads more input into the buffer (decompressed when COMPRESS is on); 0 is EOF.
    /// Cancel-safe: the only await is the socket read.
    pub async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; READ_SIZE];
        loop {
            let n = self.stream.read(&mut chunk).await?;
            let raw = chunk.get(..n).unwrap_or_default();
            if n == 0 {
                return Ok(0);
            }
            let Some(deflate) = &mut self.deflate else {
                self.input.extend_from_slice(raw);
                return Ok(n);
            };
            let before = self.input.len();
            deflate.decompress(raw, &mut self.input)?;
            if self.input.len() > before {
                return Ok(self.input.len() - before);
            }
        }
    }

    /// What has been read and not yet consumed.
    pub fn buffered(&self) -> &[u8] {
        &self.input
    }

    /// Drops the first `n` octets of the input.
    pub fn consume(&mut self, n: usize) {
        self.input.drain(..n.min(self.input.len()));
        self.give_back_capacity();
    }

    fn give_back_capacity(&mut self) {
        if self.input.capacity() > KEEP_CAPACITY && self.input.len() <= KEEP_CAPACITY / 2 {
            self.input.shrink_to(KEEP_CAPACITY);
        }
    }

    /// Reads exactly `size` octets (a BDAT chunk, a literal), appending them to `sink` while
    /// it stays within `limit` octets; the rest is read and dropped. False when the limit was
    /// passed.
    pub async fn read_exact_into(
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
                sink.extend_from_slice(self.input.get(..take).unwrap_or_default());
            } else {
                fits = false;
            }
            self.consume(take);
            size -= take as u64;
            if size == 0 {
                return Ok(fits);
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// True if a complete line is already buffered (the peer pipelined): replies can wait
    /// and go out together (RFC 2920 §3.2).
    pub fn has_pending_line(&self) -> bool {
        self.input.contains(&b'\n')
    }

    /// Queues output; it goes out at the next `flush`.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    /// Queues output and writes it out once enough has gathered, so a long answer streams in
    /// bounded pieces instead of growing in memory.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.output.len() + bytes.len() < QUEUE_HIGH_WATER {
            self.queue(bytes);
            return Ok(());
        }
        self.write_queued().await?;
        if bytes.len() >= QUEUE_HIGH_WATER {
            return self.write_timed(bytes).await;
        }
        self.queue(bytes);
        Ok(())
    }

    /// Sends everything queued. A peer that takes in nothing within the write deadline gets
    /// `TimedOut`, and the session ends as if it had dropped the connection.
    pub async fn flush(&mut self) -> io::Result<()> {
        self.write_queued().await?;
        self.check_stalled()?;
        let flushed = tokio::time::timeout(self.write_timeout, self.stream.flush()).await;
        self.deadline(flushed)
    }

    async fn write_queued(&mut self) -> io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        let output = std::mem::take(&mut self.output);
        let result = self.write_timed(&output).await;
        self.output = output;
        self.output.clear();
        if self.output.capacity() > KEEP_CAPACITY {
            self.output.shrink_to(KEEP_CAPACITY);
        }
        result
    }

    /// Writes `bytes` (compressed when COMPRESS is on) in timed pieces.
    async fn write_timed(&mut self, bytes: &[u8]) -> io::Result<()> {
        let compressed;
        let bytes = match &mut self.deflate {
            Some(deflate) => {
                compressed = deflate.compress(bytes)?;
                &compressed[..]
            }
            None => bytes,
        };
        for piece in bytes.chunks(WRITE_CHUNK) {
            self.check_stalled()?;
            let written =
                tokio::time::timeout(self.write_timeout, self.stream.write_all(piece)).await;
            self.deadline(written)?;
        }
        Ok(())
    }

    fn check_stalled(&self) -> io::Result<()> {
        if self.stalled {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "an earlier write missed its deadline",
            ));
        }
        Ok(())
    }

    fn deadline(
        &mut self,
        outcome: Result<io::Result<()>, tokio::time::error::Elapsed>,
    ) -> io::Result<()> {
        match outcome {
            Ok(result) => result,
            Err(_) => {
                self.stalled = true;
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the peer took in nothing within the write deadline",
                ))
            }
        }
    }

    /// COMPRESS=DEFLATE (RFC 4978) from here on, both ways. Input already buffered came after
    /// the command and is compressed too.
    pub fn compress(&mut self) -> io::Result<()> {
        let mut deflate = Deflate::new();
        let pending = std::mem::take(&mut self.input);
        deflate.decompress(&pending, &mut self.input)?;
        self.deflate = Some(deflate);
        Ok(())
    }

    pub fn is_compressed(&self) -> bool {
        self.deflate.is_some()
    }

    /// Sends what is queued and closes, each step bounded by the write deadline (a TLS
    /// close_notify is a write too). After a stalled write there is nothing left to try.
    pub async fn shutdown(&mut self) {
        let _ = self.flush().await;
        if self.stalled {
            return;
        }
        let _ = tokio::time::timeout(self.write_timeout, self.stream.shutdown()).await;
    }

    /// The stream for a TLS handshake started by the client side of STARTTLS. Refused if the
    /// peer sent anything more: those bytes would be trusted as if they came over TLS
    /// (RFC 3207 §4.2 requires discarding everything learnt before TLS).
    pub fn into_stream(self) -> Result<S, io::Error> {
        if !self.input.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unexpected data before the TLS handshake",
            ));
        }
        Ok(self.stream)
    }
}

impl Connection<MailStream> {
    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// STARTTLS on the server side: whatever the client sent after the command was sent in
    /// the clear and is thrown away with the old buffers, never run as a command of the
    /// protected session (RFC 3207 §4.2, CVE-2021-38371 class).
    pub async fn start_tls(mut self, acceptor: &TlsAcceptor) -> io::Result<Self> {
        self.flush().await?;
        let stream = self.stream.starttls(acceptor).await?;
        Ok(Connection::new(stream, self.write_timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    #[tokio::test]
    async fn lines_with_limits_and_bare_line_ends() {
        let (mut peer, ours) = duplex(1 << 16);
        let mut conn = Connection::new(ours, Duration::from_secs(5));
        let long = "x".repeat(100);
        peer.write_all(format!("a\r\nb\nc\rd\r\n{long}\r\nok\r\n").as_bytes())
            .await
            .unwrap();
        drop(peer);
        let data = |s: &[u8], crlf| Line::Data {
            bytes: s.to_vec(),
            crlf,
        };
        assert_eq!(conn.read_line(50).await.unwrap(), data(b"a", true));
        assert_eq!(conn.read_line(50).await.unwrap(), data(b"b", false));
        assert_eq!(conn.read_line(50).await.unwrap(), data(b"c\rd", true));
        assert_eq!(conn.read_line(50).await.unwrap(), Line::TooLong);
        assert_eq!(conn.read_line(50).await.unwrap(), data(b"ok", true));
        assert_eq!(conn.read_line(50).await.unwrap(), Line::Eof);
    }

    #[tokio::test]
    async fn an_endless_line_is_skipped_without_buffering_it() {
        let (mut peer, ours) = duplex(1 << 16);
        let mut conn = Connection::new(ours, Duration::from_secs(5));
        let writer = tokio::spawn(async move {
            for _ in 0..64 {
                peer.write_all(&[b'y'; 16 * 1024]).await.unwrap();
            }
            peer.write_all(b"\r\nnext\r\n").await.unwrap();
        });
        assert_eq!(conn.read_line(1000).await.unwrap(), Line::TooLong);
        assert!(
            conn.input.capacity() <= 64 * 1024,
            "{}",
            conn.input.capacity()
        );
        assert_eq!(
            conn.read_line(1000).await.unwrap(),
            Line::Data {
                bytes: b"next".to_vec(),
                crlf: true
            }
        );
        writer.await.unwrap();
    }

    #[tokio::test]
    async fn exact_reads_keep_what_fits() {
        let (mut peer, ours) = duplex(1 << 16);
        let mut conn = Connection::new(ours, Duration::from_secs(5));
        peer.write_all(b"0123456789rest").await.unwrap();
        let mut sink = Vec::new();
        assert!(conn.read_exact_into(4, &mut sink, 100).await.unwrap());
        assert!(!conn.read_exact_into(6, &mut sink, 8).await.unwrap());
        assert_eq!(sink, b"0123");
        assert_eq!(conn.buffered(), b"rest");
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_is_dropped_after_the_write_deadline() {
        let (_peer, ours) = duplex(1024);
        let mut conn = Connection::new(ours, Duration::from_secs(30));
        let started = tokio::time::Instant::now();
        let big = vec![b'z'; 1 << 20];
        let err = conn.write(&big).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        // Nothing more is tried.
        conn.queue(b"more");
        assert!(conn.flush().await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_gets_everything() {
        let (mut peer, ours) = duplex(4096);
        let mut conn = Connection::new(ours, Duration::from_secs(30));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                match peer.read(&mut buf).await.unwrap() {
                    0 => return got,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        conn.write(&body).await.unwrap();
        conn.flush().await.unwrap();
        conn.shutdown().await;
        drop(conn);
        assert_eq!(reader.await.unwrap(), body);
    }

    #[tokio::test]
    async fn compression_both_ways() {
        let (peer, ours) = duplex(1 << 16);
        let mut conn = Connection::new(ours, Duration::from_secs(5));
        let mut other = Connection::new(peer, Duration::from_secs(5));
        conn.compress().unwrap();
        other.compress().unwrap();
        conn.queue(b"* OK compressed\r\n");
        conn.flush().await.unwrap();
        assert_eq!(
            other.read_line(100).await.unwrap(),
            Line::Data {
                bytes: b"* OK compressed".to_vec(),
                crlf: true
            }
        );
    }

    #[tokio::test]
    async fn data_before_a_client_handshake_is_refused() {
        let (mut peer, ours) = duplex(1024);
        let mut conn = Connection::new(ours, Duration::from_secs(5));
        peer.write_all(b"220 go ahead\r\n250 injected\r\n")
            .await
            .unwrap();
        conn.read_line(100).await.unwrap();
        assert!(conn.into_stream().is_err());
    }
}
