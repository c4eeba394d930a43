//! One POP3 session: the AUTHORIZATION and TRANSACTION states (RFC 1939 §4-6), with the
//! single place that decides which command is allowed where.

use crate::maildrop::{Maildrop, OpenError};
use crate::pace::{Next, Pace};
use crate::proto::MAX_LINE;
use crate::proto::{Command, ParseError, RespCode, dot_stuff, err, ok, parse_command};
use crate::server::Shared;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use mailroom_auth::AuthError;
use mailroom_auth::sasl::{self, Credentials};
use mailroom_net::{Connection, Line};
use mailroom_net::{ConnectionPermit, MailStream, is_loopback};
use mailroom_store::{Account, Pop3Policy, Protocols};
use std::net::SocketAddr;
use std::sync::Arc;

enum State {
    Authorization { user: Option<String> },
    Transaction(Box<Maildrop>),
}

/// What the read loop does after a command.
enum Flow {
    Continue,
    Quit,
    StartTls,
}

pub struct Session {
    shared: Arc<Shared>,
    peer: SocketAddr,
    state: State,
    /// The session's slot in the connection gate, told of a successful login.
    permit: Option<ConnectionPermit>,
}

impl Session {
    pub(crate) fn new(
        shared: Arc<Shared>,
        peer: SocketAddr,
        permit: Option<ConnectionPermit>,
    ) -> Self {
        Session {
            shared,
            peer,
            state: State::Authorization { user: None },
            permit,
        }
    }

    pub async fn run(mut self, stream: MailStream) {
        let mut conn = Connection::new(stream, self.shared.config.write_timeout);
        let greeting = format!(
            "+OK {} Mailroom POP3 ready\r\n",
            self.shared.config.hostname
        );
        conn.queue(greeting.as_bytes());
        if conn.flush().await.is_err() {
            return;
        }
        let mut pace = Pace::new(&self.shared.config);
        let mut bad_streak = 0u32;
        loop {
            let authenticated = matches!(self.state, State::Transaction(_));
            let line = match pace.next_line(&mut conn, authenticated).await {
                Ok(Next::Stop(text)) => {
                    conn.queue(&err(None, text));
                    break;
                }
                Err(_) | Ok(Next::Line(Line::Eof)) => break,
                Ok(Next::Line(Line::TooLong)) => {
                    conn.queue(&err(None, "Line too long"));
                    if flush_unless_pipelined(&mut conn).await.is_err() {
                        break;
                    }
                    continue;
                }
                Ok(Next::Line(Line::Data { bytes, .. })) => bytes,
            };
            let flow = match parse_command(&line) {
                Ok(command) => {
                    bad_streak = 0;
                    self.dispatch(&mut conn, command).await
                }
                Err(e) => {
                    let text = match e {
                        ParseError::Unknown => "Unknown command".to_string(),
                        other => other.to_string(),
                    };
                    conn.queue(&err(None, &text));
                    bad_streak = bad_streak.saturating_add(1);
                    let max = self.shared.config.max_bad_commands;
                    if max > 0 && bad_streak >= max {
                        conn.queue(&err(None, "Too many invalid commands, closing connection"));
                        break;
                    }
                    Flow::Continue
                }
            };
            match flow {
                Flow::Continue => {
                    if flush_unless_pipelined(&mut conn).await.is_err() {
                        break;
                    }
                }
                Flow::Quit => {
                    conn.shutdown().await;
                    return;
                }
                // STLS is only allowed before login: there is no maildrop to leave alone.
                Flow::StartTls => match self.start_tls(conn).await {
                    Some(upgraded) => conn = upgraded,
                    None => return,
                },
            }
        }
        // Whatever is queued (a farewell) goes out, within the write deadline.
        conn.shutdown().await;
        // Dropped or timed out: the maildrop is left exactly as it was (RFC 1939 §6).
        if let State::Transaction(maildrop) =
            std::mem::replace(&mut self.state, State::Authorization { user: None })
        {
            maildrop.abandon().await;
        }
    }
}

async fn flush_unless_pipelined(conn: &mut Connection) -> std::io::Result<()> {
    if conn.has_pending_line() {
        Ok(())
    } else {
        conn.flush().await
    }
}

impl Session {
    /// The one place that decides which command is valid in which state.
    async fn dispatch(&mut self, conn: &mut Connection, command: Command) -> Flow {
        let in_transaction = matches!(self.state, State::Transaction(_));
        match (command, in_transaction) {
            (Command::Capa, _) => self.capa(conn),
            (Command::Quit, _) => return self.quit(conn).await,
            (Command::Noop, true) => conn.queue(&ok("")),
            (Command::Stls, false) => return self.stls(conn),
            (Command::Utf8, false) => conn.queue(&ok("UTF8 enabled")),
            (Command::User(name), false) => self.user(conn, name),
            (Command::Pass(password), false) => self.pass(conn, password).await,
            (
                Command::Auth {
                    mechanism,
                    initial_response,
                },
                false,
            ) => self.auth(conn, mechanism, initial_response).await,
            (Command::Apop, false) => {
                conn.queue(&err(None, "APOP is not supported; use USER/PASS or AUTH"))
            }
            (command, true) => self.transaction(conn, command).await,
            (_, false) => conn.queue(&err(None, "Not allowed before authentication")),
        }
        Flow::Continue
    }

    fn tls_available(&self, conn: &Connection) -> bool {
        self.shared.tls.is_some() && !conn.is_tls()
    }

    /// Passwords may cross only an encrypted connection, a loopback one, or any connection if
    /// the configuration says so (RFC 8314 §5).
    fn password_allowed(&self, conn: &Connection) -> bool {
        self.shared.config.allow_plaintext_auth || is_loopback(&self.peer) || conn.is_tls()
    }

    fn capa(&mut self, conn: &mut Connection) {
        let mut lines = vec![
            "+OK Capability list follows".to_string(),
            "TOP".into(),
            "UIDL".into(),
            "RESP-CODES".into(),
            "AUTH-RESP-CODE".into(),
            "PIPELINING".into(),
            "UTF8".into(),
            "LOGIN-DELAY 0".into(),
            "IMPLEMENTATION Mailroom".into(),
        ];
        match &self.state {
            State::Transaction(maildrop) => lines.push(expire(maildrop.policy).into()),
            State::Authorization { .. } => {
                // The policy can differ per account (RFC 2449 §6.7).
                lines.push(format!(
                    "{} USER",
                    expire(self.shared.config.default_policy)
                ));
                if self.password_allowed(conn) {
                    lines.push("USER".into());
                    // RFC 7677; not SCRAM-SHA-256-PLUS: no channel binding yet.
                    lines.push("SASL PLAIN LOGIN SCRAM-SHA-256".into());
                }
                if self.tls_available(conn) {
                    lines.push("STLS".into());
                }
            }
        }
        let mut out = lines.join("\r\n").into_bytes();
        out.extend_from_slice(b"\r\n.\r\n");
        conn.queue(&out);
    }

    fn stls(&mut self, conn: &mut Connection) -> Flow {
        if !self.tls_available(conn) {
            conn.queue(&err(None, "TLS is not available or already active"));
            return Flow::Continue;
        }
        conn.queue(&ok("Begin TLS negotiation"));
        Flow::StartTls
    }

    async fn start_tls(&mut self, mut conn: Connection) -> Option<Connection> {
        let tls = self.shared.tls.clone()?;
        conn.flush().await.ok()?;
        match conn.start_tls(&tls).await {
            Ok(upgraded) => {
                // A new session begins: forget a user named in the clear (RFC 2595 §4).
                self.state = State::Authorization { user: None };
                Some(upgraded)
            }
            Err(e) => {
                tracing::debug!(peer = %self.peer, "pop3 STLS handshake failed: {e}");
                None
            }
        }
    }

    fn user(&mut self, conn: &mut Connection, name: String) {
        if !self.password_allowed(conn) {
            conn.queue(&err(
                Some(RespCode::SysPerm),
                "Use STLS before sending a password",
            ));
            return;
        }
        self.state = State::Authorization { user: Some(name) };
        // Same answer for every name: no user enumeration.
        conn.queue(&ok("Send your password"));
    }

    async fn pass(&mut self, conn: &mut Connection, password: String) {
        let State::Authorization { user: Some(user) } = &self.state else {
            conn.queue(&err(None, "Send USER first"));
            return;
        };
        let credentials = Credentials {
            username: user.clone(),
            password,
        };
        self.state = State::Authorization { user: None };
        self.login(conn, credentials).await;
    }

    /// AUTH (RFC 5034): PLAIN with or without an initial response, LOGIN and SCRAM-SHA-256.
    async fn auth(
        &mut self,
        conn: &mut Connection,
        mechanism: Option<String>,
        initial: Option<String>,
    ) {
        let Some(mechanism) = mechanism else {
            conn.queue(b"+OK Mechanisms follow\r\nPLAIN\r\nLOGIN\r\nSCRAM-SHA-256\r\n.\r\n");
            return;
        };
        if !self.password_allowed(conn) {
            conn.queue(&err(
                Some(RespCode::SysPerm),
                "Use STLS before authenticating",
            ));
            return;
        }
        let credentials = match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(r) => Some(r),
                    None => self.challenge(conn, "").await,
                };
                let Some(decoded) = response.as_deref().and_then(decode_base64) else {
                    return self.auth_aborted(conn, response.is_none());
                };
                sasl::decode_plain(&decoded).ok()
            }
            "LOGIN" => {
                let user = match initial {
                    Some(r) => Some(r),
                    None => self.challenge(conn, sasl::LOGIN_USERNAME_PROMPT).await,
                };
                let Some(user) = user.as_deref().and_then(decode_base64) else {
                    return self.auth_aborted(conn, user.is_none());
                };
                let password = self.challenge(conn, sasl::LOGIN_PASSWORD_PROMPT).await;
                let Some(password) = password.as_deref().and_then(decode_base64) else {
                    return self.auth_aborted(conn, password.is_none());
                };
                match (
                    sasl::decode_login_field(&user),
                    sasl::decode_login_field(&password),
                ) {
                    (Ok(username), Ok(password)) => Some(Credentials { username, password }),
                    _ => None,
                }
            }
            "SCRAM-SHA-256" => return self.scram(conn, initial).await,
            _ => {
                conn.queue(&err(None, "Unsupported SASL mechanism"));
                return;
            }
        };
        match credentials {
            Some(credentials) => self.login(conn, credentials).await,
            None => conn.queue(&err(Some(RespCode::Auth), "Malformed SASL response")),
        }
    }

    fn auth_aborted(&self, conn: &mut Connection, cancelled: bool) {
        let text = if cancelled {
            "Authentication cancelled"
        } else {
            "Invalid base64"
        };
        conn.queue(&err(None, text));
    }

    /// Sends "+ challenge" and reads the client's line; None if the client cancelled ("*")
    /// or went away.
    async fn challenge(&self, conn: &mut Connection, prompt: &str) -> Option<String> {
        let line = format!("+ {prompt}\r\n");
        conn.queue(line.as_bytes());
        conn.flush().await.ok()?;
        match conn.read_line(MAX_LINE).await.ok()? {
            Line::Data { bytes, .. } if bytes != b"*" => String::from_utf8(bytes).ok(),
            _ => None,
        }
    }

    /// SCRAM-SHA-256 (RFC 5802, RFC 7677): client-first (initial response or after an empty
    /// challenge), server-first, client-final, then server-final as a challenge answered by an
    /// empty line (RFC 4422 §4: POP3's +OK carries no success data).
    async fn scram(&mut self, conn: &mut Connection, initial: Option<String>) {
        let first = match initial {
            Some(r) => Some(r),
            None => self.challenge(conn, "").await,
        };
        let Some(first) = first.as_deref().and_then(decode_base64) else {
            return self.auth_aborted(conn, first.is_none());
        };
        let auth = self.shared.auth.clone();
        let peer = self.peer.ip();
        let (exchange, server_first) = match auth.scram_start(&first, peer).await {
            Ok(started) => started,
            Err(e) => return self.auth_failed(conn, e).await,
        };
        let last = self.challenge(conn, &BASE64.encode(server_first)).await;
        let Some(last) = last.as_deref().and_then(decode_base64) else {
            return self.auth_aborted(conn, last.is_none());
        };
        let (account, server_final) = match auth
            .scram_finish(exchange, &last, Protocols::POP3, peer)
            .await
        {
            Ok(done) => done,
            Err(e) => return self.auth_failed(conn, e).await,
        };
        match self.challenge(conn, &BASE64.encode(server_final)).await {
            Some(line) if line.is_empty() => self.open(conn, account).await,
            other => self.auth_aborted(conn, other.is_none()),
        }
    }

    async fn login(&mut self, conn: &mut Connection, credentials: Credentials) {
        let shared = self.shared.clone();
        let account = shared
            .auth
            .authenticate(
                &credentials.username,
                &credentials.password,
                Protocols::POP3,
                self.peer.ip(),
            )
            .await;
        match account {
            Ok(account) => self.open(conn, account).await,
            Err(e) => self.auth_failed(conn, e).await,
        }
    }

    /// Answers a failed authentication; wrong credentials (and a throttled client) wait the
    /// throttle's delay and read the same words.
    async fn auth_failed(&mut self, conn: &mut Connection, error: AuthError) {
        match error {
            e @ (AuthError::InvalidCredentials { .. } | AuthError::Disabled) => {
                tracing::info!(peer = %self.peer, "pop3 login failed");
                mailroom_net::stats::login("pop3", false);
                tokio::time::sleep(e.delay()).await;
                conn.queue(&err(Some(RespCode::Auth), "Invalid user name or password"));
            }
            AuthError::Sasl(e) => {
                conn.queue(&err(
                    Some(RespCode::Auth),
                    &format!("Authentication failed: {e}"),
                ));
            }
            AuthError::ProtocolDisabled => {
                conn.queue(&err(
                    Some(RespCode::SysPerm),
                    "POP3 access is not enabled for this account",
                ));
            }
            e => {
                tracing::error!("pop3 authentication failed: {e}");
                conn.queue(&err(
                    Some(RespCode::SysTemp),
                    "Temporary server error, try again later",
                ));
            }
        }
    }

    /// Opens the maildrop of an authenticated account: the TRANSACTION state.
    async fn open(&mut self, conn: &mut Connection, account: Account) {
        if let Some(permit) = &mut self.permit
            && permit.logged_in(&account.address).is_err()
        {
            conn.queue(&err(
                Some(RespCode::SysTemp),
                "Too many sessions of this account from your address, try again later",
            ));
            return;
        }
        let shared = self.shared.clone();
        let policy = account.pop3_policy.unwrap_or(shared.config.default_policy);
        match Maildrop::open(shared.store.clone(), &account, policy, shared.holder_name()).await {
            Ok(maildrop) => {
                let (count, size) = maildrop.stat();
                tracing::info!(peer = %self.peer, user = %account.address, "pop3 login");
                mailroom_net::stats::login("pop3", true);
                self.state = State::Transaction(Box::new(maildrop));
                conn.queue(&ok(&format!("Logged in, {count} messages ({size} octets)")));
            }
            Err(OpenError::InUse) => {
                conn.queue(&err(
                    Some(RespCode::InUse),
                    "The maildrop is in use by another POP3 session",
                ));
            }
            Err(OpenError::Store(e)) => {
                tracing::error!("opening the maildrop of {} failed: {e}", account.address);
                conn.queue(&err(
                    Some(RespCode::SysTemp),
                    "Cannot open the maildrop, try again later",
                ));
            }
        }
    }

    async fn transaction(&mut self, conn: &mut Connection, command: Command) {
        let State::Transaction(maildrop) = &mut self.state else {
            return;
        };
        let reply = match command {
            Command::Stat => {
                let (count, size) = maildrop.stat();
                ok(&format!("{count} {size}"))
            }
            Command::List(None) => {
                let (count, size) = maildrop.stat();
                let mut out = ok(&format!("{count} messages ({size} octets)"));
                for (i, e) in maildrop
                    .entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| !e.deleted)
                {
                    out.extend_from_slice(format!("{} {}\r\n", i + 1, e.size).as_bytes());
                }
                out.extend_from_slice(b".\r\n");
                out
            }
            Command::List(Some(n)) => match maildrop.get(n) {
                Some(e) => ok(&format!("{n} {}", e.size)),
                None => no_such_message(),
            },
            Command::Uidl(None) => {
                let mut out = ok("");
                for (i, e) in maildrop
                    .entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| !e.deleted)
                {
                    out.extend_from_slice(format!("{} {}\r\n", i + 1, e.uidl).as_bytes());
                }
                out.extend_from_slice(b".\r\n");
                out
            }
            Command::Uidl(Some(n)) => match maildrop.get(n) {
                Some(e) => ok(&format!("{n} {}", e.uidl)),
                None => no_such_message(),
            },
            Command::Retr(n) => match maildrop.retrieve(n).await {
                Some(Ok(bytes)) => {
                    let out = ok(&format!("{} octets", bytes.len()));
                    stuffed(out, bytes).await
                }
                Some(Err(e)) => read_failed(e),
                None => no_such_message(),
            },
            Command::Top(n, lines) => match maildrop.peek(n).await {
                Some(Ok(bytes)) => {
                    let mut out = ok("Top of message follows");
                    dot_stuff(top(&bytes, lines), &mut out);
                    out
                }
                Some(Err(e)) => read_failed(e),
                None => no_such_message(),
            },
            Command::Dele(n) => match maildrop.get_mut(n) {
                Some(e) => {
                    e.deleted = true;
                    ok(&format!("Message {n} deleted"))
                }
                None => no_such_message(),
            },
            Command::Rset => {
                for e in &mut maildrop.entries {
                    e.deleted = false;
                }
                let (count, size) = maildrop.stat();
                ok(&format!("{count} messages ({size} octets)"))
            }
            Command::Noop => ok(""),
            _ => err(None, "Not allowed after authentication"),
        };
        conn.queue(&reply);
    }

    async fn quit(&mut self, conn: &mut Connection) -> Flow {
        let state = std::mem::replace(&mut self.state, State::Authorization { user: None });
        let reply = match state {
            State::Authorization { .. } => ok("Bye"),
            State::Transaction(maildrop) => match maildrop.commit().await {
                Ok(removed) => ok(&format!("Bye, {removed} messages removed")),
                Err(e) => {
                    tracing::error!("pop3 update failed: {e}");
                    let text = match e {
                        mailroom_store::StoreError::StorageFull => {
                            "Some messages could not be removed: not enough disk space on the server"
                        }
                        _ => "Some messages could not be removed",
                    };
                    err(Some(RespCode::SysTemp), text)
                }
            },
        };
        conn.queue(&reply);
        Flow::Quit
    }
}

/// A multi-line reply: `out` then the message, dot-stuffed (RFC 1939 §3). A large message is
/// stuffed on the CPU pool, not on the async workers every session shares.
async fn stuffed(mut out: Vec<u8>, message: bytes::Bytes) -> Vec<u8> {
    const POOL_ABOVE: usize = 1024 * 1024;
    if message.len() <= POOL_ABOVE {
        dot_stuff(&message, &mut out);
        return out;
    }
    let job = move || {
        dot_stuff(&message, &mut out);
        out
    };
    match mailroom_cpu::CpuPool::shared().run(job).await {
        Ok((out, _)) => out,
        Err(e) => {
            tracing::error!("dot-stuffing a message failed: {e}");
            err(
                Some(RespCode::SysTemp),
                "Cannot send the message, try again later",
            )
        }
    }
}

fn expire(policy: Pop3Policy) -> &'static str {
    match policy {
        Pop3Policy::LeaveOnServer => "EXPIRE NEVER",
        Pop3Policy::DeleteAfterDownload => "EXPIRE 0",
    }
}

fn no_such_message() -> Vec<u8> {
    err(None, "No such message")
}

fn read_failed(e: mailroom_store::StoreError) -> Vec<u8> {
    tracing::error!("reading a message for POP3 failed: {e}");
    err(
        Some(RespCode::SysTemp),
        "Cannot read the message, try again later",
    )
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    if text == "=" {
        return Some(Vec::new());
    }
    BASE64.decode(text.trim()).ok()
}

/// The header, the blank line, and the first `lines` lines of the body (RFC 1939 §7 TOP).
fn top(message: &[u8], lines: u32) -> &[u8] {
    let header_end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| message.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
        .unwrap_or(message.len());
    let mut end = header_end;
    for _ in 0..lines {
        match message
            .get(end..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            Some(i) => end += i + 1,
            None => {
                end = message.len();
                break;
            }
        }
    }
    message.get(..end).unwrap_or(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_lines() {
        let m = b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n";
        assert_eq!(top(m, 0), b"A: 1\r\nB: 2\r\n\r\n");
        assert_eq!(top(m, 2), b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n");
        assert_eq!(top(m, 99), m);
        assert_eq!(top(m, u32::MAX), m);
        assert_eq!(top(b"no body", 3), b"no body");
    }
}
