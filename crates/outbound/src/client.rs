//! The SMTP client that hands a message to another server (RFC 5321 §3, §4).
//!
//! Written by hand rather than with mail-send 0.6: the queue needs each RCPT TO's own reply to
//! record a status per recipient (one accepted, one refused for good, one deferred), and
//! mail-send 0.6 only reports the transaction as a whole. The wire grammar is small (replies in
//! `reply.rs`, extensions in `ehlo.rs`, the body in `data.rs`).
//!
//! One session per target host; hosts are tried in order until one takes the transaction
//! (RFC 5321 §5.1). A failure before MAIL FROM (no connection, a refusing greeting, a failed
//! EHLO) moves on to the next host; once the transaction started, its outcome is final for this
//! attempt.

use crate::conn::{ConnError, Connection, Io};
use crate::data::{dot_stuff, has_eight_bit, header_section};
use crate::dsn::OriginalRecipient;
use crate::ehlo::Extensions;
use crate::mx::Target;
use crate::reply::{Reply, ReplyClass};
use crate::timeouts::Timeouts;
use crate::tls;
use crate::xtext;
use mailroom_store::{DsnRet, OutboundRecipient};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tracing::{debug, info};

/// The outcome for one recipient of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientResult {
    /// The server took responsibility for the message (its final 250).
    Delivered(Reply),
    /// Try again later (a 4yz reply, or no server reached).
    TempFail(Reply),
    /// Never try again; the sender gets a bounce (a 5yz reply).
    PermFail(Reply),
}

impl RecipientResult {
    pub fn reply(&self) -> &Reply {
        match self {
            RecipientResult::Delivered(r)
            | RecipientResult::TempFail(r)
            | RecipientResult::PermFail(r) => r,
        }
    }

    /// The result a reply means for a recipient it concerns.
    fn from_reply(reply: Reply) -> Self {
        match reply.class() {
            ReplyClass::Positive => RecipientResult::Delivered(reply),
            ReplyClass::Permanent => RecipientResult::PermFail(reply),
            // 3yz where a final answer was due is a broken server: try again later.
            ReplyClass::Transient | ReplyClass::Intermediate => RecipientResult::TempFail(reply),
        }
    }
}

/// The transaction to perform.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// The reverse-path; empty for the null sender `<>` (bounces, RFC 5321 §4.5.5).
    pub sender: &'a str,
    /// The recipients with their DSN parameters (NOTIFY, ORCPT), relayed when the server
    /// speaks DSN.
    pub recipients: &'a [OutboundRecipient],
    /// RFC 3461 §4.4: the sender's ENVID, decoded; sent xtext-encoded.
    pub envid: Option<&'a str>,
    /// RFC 3461 §4.3: RET.
    pub ret: Option<DsnRet>,
    /// The message, CRLF line ends, not yet dot-stuffed.
    pub content: &'a [u8],
}

/// What a delivery did: one result per recipient, in the envelope's order, and whether the
/// server that took the transaction speaks DSN. If it does, it reports on delivery itself
/// (RFC 3461 §5.2.1); if not, a success report the sender asked for is ours to send, as
/// "relayed" (RFC 3461 §5.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub results: Vec<RecipientResult>,
    pub next_hop_dsn: bool,
}

/// How the client presents itself and how patient it is.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Our name in EHLO/HELO (RFC 5321 §4.1.1.1: the client's FQDN).
    pub hostname: String,
    pub timeouts: Timeouts,
    /// Use STARTTLS when offered (opportunistic, see `tls.rs`).
    pub tls: bool,
}

/// At most this many addresses are tried per delivery, over all targets (like Postfix's
/// `smtp_mx_address_limit`): a domain listing dozens of unresponsive MX hosts would otherwise
/// hold the runner for each one's connect and greeting timeouts in turn.
pub const MAX_ADDRESSES: usize = 5;

/// Delivers `envelope` to the first of `targets` that takes the transaction, trying at most
/// [`MAX_ADDRESSES`] addresses. Returns one result per recipient, in the envelope's order.
pub async fn deliver(
    targets: &[Target],
    envelope: &Envelope<'_>,
    settings: &ClientSettings,
) -> Handover {
    let mut last_failure = None;
    // A plain list rather than an iterator of closures held across the awaits below, which
    // would make this future not `Send` for every lifetime (rustc's higher-ranked limitation).
    let mut candidates: Vec<(&Target, SocketAddr)> = Vec::with_capacity(MAX_ADDRESSES);
    for target in targets {
        for addr in &target.addrs {
            if candidates.len() < MAX_ADDRESSES {
                candidates.push((target, *addr));
            }
        }
    }
    for (target, addr) in candidates {
        let mut use_tls = settings.tls;
        loop {
            match session(target, addr, envelope, settings, use_tls).await {
                Ok(results) => return results,
                // A broken TLS stack on the other side: opportunistic TLS falls back to
                // plaintext rather than never delivering (RFC 7435 §3).
                Err(failure) if failure.during_tls && use_tls => {
                    info!(host = %target.host, %addr, error = %failure, "TLS failed, retrying without it");
                    use_tls = false;
                }
                Err(failure) => {
                    info!(host = %target.host, %addr, error = %failure, "host failed, trying the next one");
                    last_failure = Some(failure);
                    break;
                }
            }
        }
    }
    let reply = match last_failure {
        Some(failure) => failure.reply,
        None => Reply::local(451, "4.4.4", "no address to deliver to"),
    };
    Handover {
        results: vec![RecipientResult::TempFail(reply); envelope.recipients.len()],
        next_hop_dsn: false,
    }
}

/// Why a host could not take the transaction; the next one is tried.
#[derive(Debug)]
struct HostFailure {
    reply: Reply,
    during_tls: bool,
}

impl fmt::Display for HostFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.reply.fmt(f)
    }
}

impl HostFailure {
    fn network(host: &str, addr: SocketAddr, error: impl fmt::Display) -> Self {
        // 4.4.1: no answer from host; 4.4.2: bad connection (RFC 3463 §3.5).
        HostFailure {
            reply: Reply::local(451, "4.4.1", format!("{host} [{addr}]: {error}")),
            during_tls: false,
        }
    }

    fn refused(host: &str, addr: SocketAddr, step: &str, reply: &Reply) -> Self {
        HostFailure {
            reply: Reply::local(
                451,
                "4.4.0",
                format!("{host} [{addr}] refused {step}: {}", reply.one_line()),
            ),
            during_tls: false,
        }
    }
}

/// One connection to one address. `Err` only for failures before the transaction started.
async fn session(
    target: &Target,
    addr: SocketAddr,
    envelope: &Envelope<'_>,
    settings: &ClientSettings,
    use_tls: bool,
) -> Result<Handover, HostFailure> {
    let t = &settings.timeouts;
    let host = target.host.as_str();
    let net = |e: &dyn fmt::Display| HostFailure::network(host, addr, e);

    let tcp = timeout(t.connect, TcpStream::connect(addr))
        .await
        .map_err(|_| net(&ConnError::Timeout(t.connect)))?
        .map_err(|e| net(&e))?;
    let mut conn = Connection::new(Box::new(tcp));

    // RFC 5321 §4.3.1: the session starts with the server's 220.
    let greeting = conn.read_reply(t.greeting).await.map_err(|e| net(&e))?;
    if greeting.code != 220 {
        quit(&mut conn, t.command).await;
        return Err(HostFailure::refused(host, addr, "the session", &greeting));
    }

    let mut ext = hello(&mut conn, settings, host, addr).await?;

    if use_tls && ext.starttls {
        let reply = conn
            .command("STARTTLS", t.command)
            .await
            .map_err(|e| net(&e))?;
        if reply.code == 220 {
            conn = starttls(conn, host, addr, t.connect).await?;
            // RFC 3207 §4.2: forget what the server said before TLS and ask again.
            ext = hello(&mut conn, settings, host, addr).await?;
        } else {
            // 454 "TLS not available": carry on in plaintext, as opportunistic TLS allows.
            debug!(host, %addr, reply = %reply, "STARTTLS refused");
        }
    }

    let results = transaction(&mut conn, &ext, envelope, t).await;
    quit(&mut conn, t.command).await;
    Ok(Handover {
        results,
        next_hop_dsn: ext.dsn,
    })
}

/// EHLO, or HELO for a server that doesn't know EHLO (RFC 5321 §4.1.4, §3.2).
async fn hello(
    conn: &mut Connection,
    settings: &ClientSettings,
    host: &str,
    addr: SocketAddr,
) -> Result<Extensions, HostFailure> {
    let t = &settings.timeouts;
    let net = |e: ConnError| HostFailure::network(host, addr, e);
    let reply = conn
        .command(&format!("EHLO {}", settings.hostname), t.command)
        .await
        .map_err(net)?;
    if reply.is_positive() {
        return Ok(Extensions::from_ehlo(&reply));
    }
    if reply.class() == ReplyClass::Permanent {
        let helo = conn
            .command(&format!("HELO {}", settings.hostname), t.command)
            .await
            .map_err(net)?;
        if helo.is_positive() {
            return Ok(Extensions::default());
        }
        return Err(HostFailure::refused(host, addr, "HELO", &helo));
    }
    Err(HostFailure::refused(host, addr, "EHLO", &reply))
}

async fn starttls(
    conn: Connection,
    host: &str,
    addr: SocketAddr,
    limit: Duration,
) -> Result<Connection, HostFailure> {
    let tls_failure = |e: &dyn fmt::Display| HostFailure {
        reply: Reply::local(451, "4.7.0", format!("{host} [{addr}]: TLS failed: {e}")),
        during_tls: true,
    };
    let stream = conn.into_stream().map_err(|e| tls_failure(&e))?;
    let connector = tls::opportunistic_connector().map_err(|e| tls_failure(&e))?;
    let name = tls::server_name(host, addr.ip());
    let tls_stream = timeout(limit, connector.connect(name, stream))
        .await
        .map_err(|_| tls_failure(&ConnError::Timeout(limit)))?
        .map_err(|e| tls_failure(&e))?;
    let boxed: Box<dyn Io> = Box::new(tls_stream);
    Ok(Connection::new(boxed))
}

/// MAIL, one RCPT per recipient, DATA. Always returns one result per recipient.
async fn transaction(
    conn: &mut Connection,
    ext: &Extensions,
    envelope: &Envelope<'_>,
    t: &Timeouts,
) -> Vec<RecipientResult> {
    let all = |result: RecipientResult| vec![result; envelope.recipients.len()];
    let size = envelope.content.len() as u64;

    // RFC 1870 §6: no use sending what the server said it won't take.
    if let Some(limit) = ext.size
        && limit > 0
        && size > limit
    {
        return all(RecipientResult::PermFail(Reply::local(
            552,
            "5.3.4",
            format!("message size {size} exceeds the server's limit of {limit}"),
        )));
    }

    // RFC 6531 §3.2: an address with non-ASCII characters needs SMTPUTF8; there is no
    // downgrade for it, so a server without it can never take this message.
    let utf8_envelope =
        !envelope.sender.is_ascii() || envelope.recipients.iter().any(|r| !r.address.is_ascii());
    let utf8_headers = has_eight_bit(header_section(envelope.content));
    if utf8_envelope && !ext.smtputf8 {
        return all(RecipientResult::PermFail(Reply::local(
            553,
            "5.6.7",
            "non-ASCII address and the server lacks SMTPUTF8",
        )));
    }

    // An address with a control character (CR, LF) would smuggle commands into the session;
    // the submission side should have refused it, but the wire is checked here too.
    if !is_safe_address(envelope.sender) {
        return all(RecipientResult::PermFail(Reply::local(
            553,
            "5.1.7",
            "invalid sender address",
        )));
    }

    let mut mail = format!("MAIL FROM:<{}>", envelope.sender);
    if ext.size.is_some() {
        mail.push_str(&format!(" SIZE={size}"));
    }
    // RFC 6152: declare 8-bit content when the server can take it. A server without 8BITMIME
    // gets the bytes as they are: converting to 7 bit would change a signed (DKIM) message,
    // and nearly every server is 8-bit clean in practice.
    if ext.eight_bit_mime && has_eight_bit(envelope.content) {
        mail.push_str(" BODY=8BITMIME");
    }
    // RFC 6531 §3.4: SMTPUTF8 only when the envelope or the headers carry UTF-8.
    if ext.smtputf8 && (utf8_envelope || utf8_headers) {
        mail.push_str(" SMTPUTF8");
    }
    if ext.dsn {
        mail.push_str(&mail_dsn_params(envelope));
    }

    let lost = |e: ConnError| Reply::local(451, "4.4.2", format!("connection lost: {e}"));
    let reply = match conn.command(&mail, t.command).await {
        Ok(reply) => reply,
        Err(e) => return all(RecipientResult::TempFail(lost(e))),
    };
    if !reply.is_positive() {
        return all(RecipientResult::from_reply(reply));
    }

    // One RCPT at a time, keeping each reply (see the module comment).
    let mut results: Vec<Option<RecipientResult>> = vec![None; envelope.recipients.len()];
    for (i, recipient) in envelope.recipients.iter().enumerate() {
        if !is_safe_address(&recipient.address) {
            results[i] = Some(RecipientResult::PermFail(Reply::local(
                553,
                "5.1.3",
                "invalid recipient address",
            )));
            continue;
        }
        let mut rcpt = format!("RCPT TO:<{}>", recipient.address);
        if ext.dsn {
            rcpt.push_str(&rcpt_dsn_params(recipient));
        }
        match conn.command(&rcpt, t.command).await {
            Ok(reply) if reply.is_positive() => {}
            Ok(reply) => results[i] = Some(RecipientResult::from_reply(reply)),
            Err(e) => {
                return finish(results, RecipientResult::TempFail(lost(e)));
            }
        }
    }
    if results.iter().all(Option::is_some) {
        // Nobody accepted: no DATA (RFC 5321 §3.3 "554 no valid recipients").
        return results.into_iter().flatten().collect();
    }

    let reply = match conn.command("DATA", t.data_init).await {
        Ok(reply) => reply,
        Err(e) => return finish(results, RecipientResult::TempFail(lost(e))),
    };
    if reply.code != 354 {
        let outcome = match reply.class() {
            ReplyClass::Permanent => RecipientResult::PermFail(reply),
            _ => RecipientResult::TempFail(reply),
        };
        return finish(results, outcome);
    }

    let body = dot_stuff(envelope.content);
    if let Err(e) = conn.send_body(&body, t.data_block).await {
        return finish(results, RecipientResult::TempFail(lost(e)));
    }
    // If the connection breaks here the server may have taken the message anyway; retrying
    // risks a duplicate, which RFC 5321 §4.5.3.2.6 and RFC 1047 accept over a loss.
    let outcome = match conn.read_reply(t.data_end).await {
        Ok(reply) => RecipientResult::from_reply(reply),
        Err(e) => RecipientResult::TempFail(lost(e)),
    };
    finish(results, outcome)
}

/// RFC 3461 §4.3, §4.4: RET and ENVID for MAIL FROM, as the sender gave them (a server
/// without DSN gets neither: it would refuse parameters it doesn't know, RFC 5321 §4.1.1.11).
fn mail_dsn_params(envelope: &Envelope<'_>) -> String {
    let mut params = String::new();
    if let Some(ret) = envelope.ret {
        params.push_str(&format!(" RET={}", ret.as_str()));
    }
    // xtext has no space, `=` or control character: the value can't add a parameter.
    if let Some(envid) = envelope.envid {
        params.push_str(&format!(" ENVID={}", xtext::encode(envid)));
    }
    params
}

/// RFC 3461 §4.1, §4.2: NOTIFY and ORCPT for one RCPT TO, as the sender gave them. An ORCPT
/// not in its `addr-type;xtext` form (never from our own parser) is left out rather than let
/// onto the command line.
fn rcpt_dsn_params(recipient: &OutboundRecipient) -> String {
    let mut params = String::new();
    if let Some(notify) = recipient.notify.param() {
        params.push_str(&format!(" NOTIFY={notify}"));
    }
    if let Some(orcpt) = &recipient.orcpt {
        if OriginalRecipient::from_orcpt(orcpt).is_some() {
            params.push_str(&format!(" ORCPT={orcpt}"));
        } else {
            debug!(rcpt = %recipient.address, "malformed ORCPT not relayed");
        }
    }
    params
}

/// Gives every recipient without a result yet (those the server accepted) `outcome`.
fn finish(results: Vec<Option<RecipientResult>>, outcome: RecipientResult) -> Vec<RecipientResult> {
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| outcome.clone()))
        .collect()
}

/// An address that can stand between `<` and `>` on one command line.
fn is_safe_address(address: &str) -> bool {
    !address
        .chars()
        .any(|c| c.is_control() || c == '<' || c == '>')
}

/// Ends the session politely (RFC 5321 §4.1.1.10); its failure changes nothing.
async fn quit(conn: &mut Connection, limit: Duration) {
    let _ = conn.command("QUIT", limit).await;
}
