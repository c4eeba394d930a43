//! AUTH (RFC 4954) with the PLAIN (RFC 4616), LOGIN and SCRAM-SHA-256 (RFC 5802, RFC 7677)
//! mechanisms, on submission only. The exchange reads its continuation lines itself: they are
//! SASL responses, not commands.

use super::{Flow, Session, User};
use crate::error::SmtpError;
use crate::proto::Reply;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mailroom_auth::AuthError;
use mailroom_auth::sasl::{
    Credentials, LOGIN_PASSWORD_PROMPT, LOGIN_USERNAME_PROMPT, SaslError, decode_login_field,
    decode_plain,
};
use mailroom_net::{Connection, Line};
use mailroom_store::Protocols;

/// RFC 4954 §4: a client's response line may be up to 12288 octets.
const MAX_AUTH_LINE: usize = 12288;

impl Session {
    /// RFC 4954 §4 and RFC 8314 §3: a password travels only inside TLS, over loopback, or
    /// where the operator allowed plaintext.
    pub(super) fn auth_allowed(&self, conn: &Connection) -> bool {
        let config = &self.shared.config;
        self.shared.mode == crate::server::Mode::Submission
            && (conn.is_tls()
                || config.allow_plaintext_auth
                || (config.loopback_is_secure
                    && self.socket_peer.ip().to_canonical().is_loopback()))
    }

    pub(super) async fn auth(
        &mut self,
        conn: &mut Connection,
        mechanism: &str,
        initial: Option<String>,
    ) -> Result<Flow, SmtpError> {
        if !self.auth_allowed(conn) {
            return Err(SmtpError::EncryptionRequired);
        }
        let credentials = match mechanism {
            "PLAIN" => {
                let response = match initial {
                    Some(r) => r,
                    // RFC 4954 §4: an empty challenge is "334 " alone.
                    None => match self.challenge(conn, "").await? {
                        Some(line) => line,
                        None => return Ok(Flow::Close),
                    },
                };
                decode_plain(&decode64(&response)?).map_err(sasl_error)?
            }
            "LOGIN" => {
                // Outlook sends the user name with the command (`AUTH LOGIN dXNlcg==`).
                let user = match initial {
                    Some(r) => r,
                    None => match self.challenge(conn, LOGIN_USERNAME_PROMPT).await? {
                        Some(line) => line,
                        None => return Ok(Flow::Close),
                    },
                };
                let username = decode_login_field(&decode64(&user)?).map_err(sasl_error)?;
                let password = match self.challenge(conn, LOGIN_PASSWORD_PROMPT).await? {
                    Some(line) => line,
                    None => return Ok(Flow::Close),
                };
                let password = decode_login_field(&decode64(&password)?).map_err(sasl_error)?;
                Credentials { username, password }
            }
            "SCRAM-SHA-256" => return self.scram(conn, initial).await,
            _ => return Err(SmtpError::UnknownMechanism),
        };
        let outcome = self
            .shared
            .authenticator
            .authenticate(
                &credentials.username,
                &credentials.password,
                Protocols::SUBMISSION,
                self.peer.ip(),
            )
            .await;
        self.finish_auth(conn, outcome).await
    }

    /// SCRAM-SHA-256: client-first (initial response or after an empty 334), server-first as a
    /// 334 challenge, client-final, then the server's signature as a last 334 challenge that
    /// the client answers with an empty line before the 235 (RFC 4954 §4).
    async fn scram(
        &mut self,
        conn: &mut Connection,
        initial: Option<String>,
    ) -> Result<Flow, SmtpError> {
        let auth = self.shared.authenticator.clone();
        let peer = self.peer.ip();
        let first = match initial {
            Some(r) => r,
            None => match self.challenge(conn, "").await? {
                Some(line) => line,
                None => return Ok(Flow::Close),
            },
        };
        let (exchange, server_first) = match auth.scram_start(&decode64(&first)?, peer).await {
            Ok(started) => started,
            Err(AuthError::Sasl(_)) => return Err(SmtpError::AuthMalformed),
            Err(e) => return self.finish_auth(conn, Err(e)).await,
        };
        let Some(last) = self
            .challenge_owned(conn, STANDARD.encode(server_first))
            .await?
        else {
            return Ok(Flow::Close);
        };
        let outcome = auth
            .scram_finish(exchange, &decode64(&last)?, Protocols::SUBMISSION, peer)
            .await;
        let (account, server_final) = match outcome {
            Ok(done) => done,
            Err(e) => return self.finish_auth(conn, Err(e)).await,
        };
        match self
            .challenge_owned(conn, STANDARD.encode(server_final))
            .await?
        {
            Some(_) => self.finish_auth(conn, Ok(account)).await,
            None => Ok(Flow::Close),
        }
    }

    /// The answer to a finished exchange: 235 and the session's user, or the failure after the
    /// throttle's delay.
    async fn finish_auth(
        &mut self,
        conn: &mut Connection,
        outcome: Result<mailroom_store::Account, AuthError>,
    ) -> Result<Flow, SmtpError> {
        match outcome {
            Ok(account) => {
                if let Some(permit) = &mut self.permit
                    && permit.logged_in(&account.address).is_err()
                {
                    tracing::info!(peer = %self.peer, user = %account.address, "AUTH refused: too many sessions from this address");
                    return Err(SmtpError::AccountBusy);
                }
                tracing::info!(peer = %self.peer, user = %account.address, "AUTH succeeded");
                mailroom_net::stats::login("submission", true);
                self.user = Some(User {
                    account: account.id,
                    address: account.address.to_lowercase(),
                });
                conn.queue(&Reply::new(235, "2.7.0", "Authentication successful").to_bytes());
                Ok(Flow::Continue)
            }
            Err(AuthError::Store(e)) => {
                tracing::warn!(peer = %self.peer, "AUTH: store failed: {e}");
                Err(SmtpError::AuthUnavailable)
            }
            Err(AuthError::Hash(e)) => {
                tracing::warn!(peer = %self.peer, "AUTH: hashing failed: {e}");
                Err(SmtpError::AuthUnavailable)
            }
            Err(e) => {
                // Not the name the client typed: it may be a password sent in the wrong field
                // (as in mailroom-auth's throttle). The peer is enough to follow a guesser.
                tracing::info!(peer = %self.peer, "AUTH failed: {e}");
                mailroom_net::stats::login("submission", false);
                // The throttle's delay slows a guesser down; the answer is the same whatever
                // the reason (no user enumeration).
                let delay = e.delay();
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Err(SmtpError::AuthFailed)
            }
        }
    }

    /// Sends a 334 challenge and reads the response line; None if the client went away.
    async fn challenge(
        &mut self,
        conn: &mut Connection,
        prompt: &'static str,
    ) -> Result<Option<String>, SmtpError> {
        self.challenge_owned(conn, prompt.to_string()).await
    }

    async fn challenge_owned(
        &mut self,
        conn: &mut Connection,
        prompt: String,
    ) -> Result<Option<String>, SmtpError> {
        conn.queue(&Reply::plain(334, vec![prompt.into()]).to_bytes());
        if conn.flush().await.is_err() {
            return Ok(None);
        }
        let wait = self.shared.config.timeouts.command;
        match tokio::time::timeout(wait, conn.read_line(MAX_AUTH_LINE)).await {
            Err(_) => Err(SmtpError::Timeout),
            Ok(Err(_)) | Ok(Ok(Line::Eof)) => Ok(None),
            Ok(Ok(Line::TooLong)) => Err(SmtpError::LineTooLong),
            // RFC 4954 §4: "*" cancels the exchange, answered with 501.
            Ok(Ok(Line::Data { bytes, .. })) if bytes == b"*" => Err(SmtpError::AuthCancelled),
            Ok(Ok(Line::Data { bytes, .. })) => String::from_utf8(bytes)
                .map_err(|_| SmtpError::AuthMalformed)
                .map(Some),
        }
    }
}

/// RFC 4954 §4: base64, where a lone "=" is an empty response.
fn decode64(text: &str) -> Result<Vec<u8>, SmtpError> {
    if text == "=" {
        return Ok(Vec::new());
    }
    STANDARD
        .decode(text.trim())
        .map_err(|_| SmtpError::AuthMalformed)
}

fn sasl_error(e: SaslError) -> SmtpError {
    match e {
        SaslError::Malformed(_) => SmtpError::AuthMalformed,
        // Acting as someone else is refused like a wrong password.
        _ => SmtpError::AuthFailed,
    }
}
