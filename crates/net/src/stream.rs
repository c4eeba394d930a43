//! One stream type for plain and TLS connections, so a session is written once and can be
//! upgraded in place by STARTTLS.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a STARTTLS handshake may take: far more than any real client needs (a few round
/// trips), far less than a session's idle timeout.
pub const STARTTLS_HANDSHAKE: Duration = Duration::from_secs(30);

pub enum MailStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl MailStream {
    /// Implicit TLS (RFC 8314): the handshake comes first.
    pub async fn accept_tls(tcp: TcpStream, acceptor: &TlsAcceptor) -> io::Result<Self> {
        Ok(MailStream::Tls(Box::new(acceptor.accept(tcp).await?)))
    }

    /// STARTTLS: upgrades a plain stream. The caller must throw away whatever it had read
    /// but not yet processed: bytes a client pipelined after STARTTLS were sent in the clear
    /// and must never be taken as commands of the protected session (CVE-2021-33515,
    /// CVE-2021-38371).
    ///
    /// The handshake is bounded by `STARTTLS_HANDSHAKE`: a client that sends STARTTLS and
    /// then nothing would otherwise hold the session (and its connection slot) forever.
    pub async fn starttls(self, acceptor: &TlsAcceptor) -> io::Result<Self> {
        match self {
            MailStream::Plain(tcp) => {
                let handshake = Self::accept_tls(tcp, acceptor);
                match tokio::time::timeout(STARTTLS_HANDSHAKE, handshake).await {
                    Ok(result) => result,
                    Err(_) => Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "TLS handshake timed out",
                    )),
                }
            }
            MailStream::Tls(_) => Err(io::Error::other("TLS is already active")),
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, MailStream::Tls(_))
    }
}

impl AsyncRead for MailStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_flush(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MailStream::Plain(s) => s.is_write_vectored(),
            MailStream::Tls(s) => s.is_write_vectored(),
        }
    }
}
