//! LOGIN (RFC 9051 §6.2.3) and AUTHENTICATE PLAIN (RFC 4616) / LOGIN / SCRAM-SHA-256
//! (RFC 5802, RFC 7677) with SASL-IR (RFC 4959).

use crate::error::{ImapError, error_response};
use crate::session::{Done, Flow, Session, State, User};
use mailroom_auth::{AuthError, ScramExchange};
use mailroom_imap_proto::command::session::{Authenticate, Login};
use mailroom_imap_proto::response::{Code, Completion, Response, Text};
use mailroom_imap_proto::{AuthenticateResponse, Tag};
use mailroom_store::Account;
use mailroom_store::Protocols;

/// A SASL exchange waiting for the client's next line.
pub(crate) struct SaslExchange {
    pub tag: Tag,
    step: Step,
}

enum Step {
    /// PLAIN without an initial response: the empty challenge was sent.
    Plain,
    /// LOGIN: "Username:" was sent.
    LoginUser,
    /// LOGIN: "Password:" was sent.
    LoginPassword(String),
    /// SCRAM: the empty challenge was sent; the client-first-message comes next.
    ScramFirst,
    /// SCRAM: the server-first-message was sent; the client-final-message comes next.
    ScramFinal(Box<ScramExchange>, String),
    /// SCRAM: the proof was good and the server-final-message (`v=`) was sent as a challenge;
    /// the client answers with an empty line (RFC 9051 §6.2.2 has no success data in OK).
    ScramDone(Box<Account>, String),
}

impl SaslExchange {
    /// The challenge to send before the client's next line.
    pub fn challenge(&self) -> &[u8] {
        match &self.step {
            Step::Plain | Step::ScramFirst => b"",
            Step::LoginUser => b"Username:",
            Step::LoginPassword(_) => b"Password:",
            Step::ScramFinal(_, message) | Step::ScramDone(_, message) => message.as_bytes(),
        }
    }
}

pub(crate) async fn login(s: &mut Session, login: Login) -> Result<Done, ImapError> {
    if s.login_disabled() {
        return Err(ImapError::no_code(
            Code::PrivacyRequired,
            "LOGIN is disabled on this connection; use STARTTLS first",
        ));
    }
    let user = String::from_utf8(login.username).map_err(|_| ImapError::bad("bad username"))?;
    let password = String::from_utf8(login.password.into_inner())
        .map_err(|_| ImapError::no_code(Code::AuthenticationFailed, "invalid credentials"))?;
    log_in(s, &user, &password, "LOGIN completed").await
}

pub(crate) async fn authenticate(
    s: &mut Session,
    tag: &Tag,
    auth: Authenticate,
) -> Result<Done, ImapError> {
    if s.login_disabled() {
        return Err(ImapError::no_code(
            Code::PrivacyRequired,
            "authentication is disabled on this connection; use STARTTLS first",
        ));
    }
    let step = match auth.mechanism.as_str() {
        "PLAIN" => Step::Plain,
        "LOGIN" => Step::LoginUser,
        "SCRAM-SHA-256" => Step::ScramFirst,
        _ => return Err(ImapError::no("unsupported authentication mechanism")),
    };
    let exchange = SaslExchange {
        tag: tag.clone(),
        step,
    };
    match auth.initial_response {
        // RFC 4959: the initial response answers the first (empty) challenge.
        Some(data) => match sasl_step(s, exchange, data.into_inner()).await {
            Ok(Some(next)) => Ok(Done {
                code: None,
                text: String::new(),
                flow: Flow::Sasl(next),
            }),
            Ok(None) => Ok(Done::with_code(
                capability_code(s),
                "AUTHENTICATE completed",
            )),
            Err(e) => Err(e),
        },
        None => Ok(Done {
            code: None,
            text: String::new(),
            flow: Flow::Sasl(exchange),
        }),
    }
}

/// Continues an exchange with the client's line; queues the tagged answer when it ends.
pub(crate) async fn continue_sasl(
    s: &mut Session,
    exchange: SaslExchange,
    response: AuthenticateResponse,
) -> Flow {
    let tag = exchange.tag.clone();
    let data = match response {
        AuthenticateResponse::Cancel => {
            s.push(error_response(
                Some(tag),
                &ImapError::bad("AUTHENTICATE cancelled"),
            ));
            return Flow::Continue;
        }
        AuthenticateResponse::Data(data) => data.into_inner(),
    };
    match sasl_step(s, exchange, data).await {
        Ok(Some(next)) => Flow::Sasl(next),
        Ok(None) => {
            let code = capability_code(s);
            s.push(Response::tagged(
                tag,
                Completion::Ok,
                code,
                Text::sanitized("AUTHENTICATE completed"),
            ));
            Flow::Continue
        }
        Err(e) => {
            s.push(error_response(Some(tag), &e));
            Flow::Continue
        }
    }
}

/// One SASL step: `Some` to ask for more, `None` when logged in.
async fn sasl_step(
    s: &mut Session,
    exchange: SaslExchange,
    data: Vec<u8>,
) -> Result<Option<SaslExchange>, ImapError> {
    let text = |bytes: &[u8]| {
        String::from_utf8(bytes.to_vec())
            .map_err(|_| ImapError::no_code(Code::AuthenticationFailed, "invalid credentials"))
    };
    match exchange.step {
        Step::Plain => {
            // RFC 4616 §2: [authzid] NUL authcid NUL passwd.
            let mut fields = data.split(|&b| b == 0);
            let (Some(authz), Some(authc), Some(pass), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(ImapError::bad("malformed PLAIN response"));
            };
            if !authz.is_empty() && authz != authc {
                return Err(ImapError::no_code(
                    Code::AuthorizationFailed,
                    "cannot act as another user",
                ));
            }
            log_in(s, &text(authc)?, &text(pass)?, "").await?;
            Ok(None)
        }
        Step::LoginUser => Ok(Some(SaslExchange {
            tag: exchange.tag,
            step: Step::LoginPassword(text(&data)?),
        })),
        Step::LoginPassword(user) => {
            log_in(s, &user, &text(&data)?, "").await?;
            Ok(None)
        }
        Step::ScramFirst => {
            let auth = s.shared.auth.clone();
            match auth.scram_start(&data, s.peer).await {
                Ok((scram, server_first)) => Ok(Some(SaslExchange {
                    tag: exchange.tag,
                    step: Step::ScramFinal(Box::new(scram), server_first),
                })),
                Err(e) => Err(auth_failure(s, e).await),
            }
        }
        Step::ScramFinal(scram, _) => {
            let auth = s.shared.auth.clone();
            match auth
                .scram_finish(*scram, &data, Protocols::IMAP, s.peer)
                .await
            {
                Ok((account, server_final)) => Ok(Some(SaslExchange {
                    tag: exchange.tag,
                    step: Step::ScramDone(Box::new(account), server_final),
                })),
                Err(e) => Err(auth_failure(s, e).await),
            }
        }
        Step::ScramDone(account, _) => {
            if !data.is_empty() {
                return Err(ImapError::bad(
                    "expected an empty response to the server's proof",
                ));
            }
            enter(s, *account, "").await?;
            Ok(None)
        }
    }
}

/// RFC 9051 §7.1: the tagged OK of a login may carry the new capability list.
fn capability_code(s: &Session) -> Option<Code> {
    s.capabilities().map(Code::Capability)
}

/// Guessing passwords costs a new connection after this many failures.
const MAX_AUTH_FAILURES: u32 = 5;

/// Counts a failed attempt; past the limit the session ends with BYE (RFC 9051 §7.1.5).
fn failed(s: &mut Session, error: ImapError) -> ImapError {
    s.auth_failures += 1;
    if s.auth_failures >= MAX_AUTH_FAILURES {
        s.push(error_response(
            None,
            &ImapError::Bye(None, "too many failed authentication attempts".into()),
        ));
        s.state = State::Logout;
    }
    error
}

async fn log_in(
    s: &mut Session,
    address: &str,
    password: &str,
    text: &str,
) -> Result<Done, ImapError> {
    let result = s
        .shared
        .auth
        .authenticate(address, password, Protocols::IMAP, s.peer)
        .await;
    match result {
        Ok(account) => enter(s, account, text).await,
        Err(e) => Err(auth_failure(s, e).await),
    }
}

/// The answer to a failed authentication; wrong credentials wait the throttle's delay first
/// (a locked-out client waits the same and reads the same words).
async fn auth_failure(s: &mut Session, error: AuthError) -> ImapError {
    match error {
        AuthError::InvalidCredentials { delay } => {
            mailroom_net::stats::login("imap", false);
            tokio::time::sleep(delay).await;
            failed(
                s,
                ImapError::no_code(Code::AuthenticationFailed, "invalid credentials"),
            )
        }
        AuthError::Sasl(e) => failed(
            s,
            ImapError::no_code(Code::AuthenticationFailed, e.to_string()),
        ),
        AuthError::Disabled | AuthError::ProtocolDisabled => ImapError::no_code(
            Code::AuthorizationFailed,
            "IMAP access is not enabled for this account",
        ),
        AuthError::Store(e) => ImapError::Store(e),
        // UnusablePassword comes from setting a password, never from a login.
        AuthError::Hash(e) | AuthError::UnusablePassword(e) => {
            tracing::error!(error = %e, "authentication failed on the server side");
            ImapError::no_code(Code::Unavailable, "temporary failure, try again later")
        }
    }
}

/// Enters the authenticated state, unless the account has its most sessions already
/// (RFC 5530 LIMIT).
async fn enter(s: &mut Session, account: Account, text: &str) -> Result<Done, ImapError> {
    let Some(slot) = s
        .shared
        .users
        .acquire(account.id, s.shared.config.max_connections_per_user)
    else {
        return Err(ImapError::no_code(
            Code::Limit,
            "too many sessions for this account",
        ));
    };
    if let Some(permit) = &mut s.permit
        && permit.logged_in(&account.address).is_err()
    {
        return Err(ImapError::no_code(
            Code::Limit,
            "too many sessions of this account from your address",
        ));
    }
    tracing::info!(account = %account.address, "IMAP login");
    mailroom_net::stats::login("imap", true);
    s.state = State::Authenticated(User {
        account,
        _slot: slot,
    });
    Ok(Done::with_code(capability_code(s), text))
}
