//! SCRAM-SHA-256 logins: the pure exchange of `scram.rs` joined to the store's accounts and
//! the throttle. The protocol calls `scram_start` with the client-first-message and
//! `scram_finish` with the client-final-message.

use crate::scram::{self, ScramCredentials, ScramError};
use crate::throttle::Verdict;
use crate::{AuthError, Authenticator, check_state};
use mailroom_store::{Account, Protocols};
use std::net::IpAddr;
use std::time::Duration;

/// An exchange between server-first and client-final.
pub struct ScramExchange {
    state: scram::ServerFirst,
    username: String,
    /// Only when the account has real keys: without them the exchange must fail.
    account: Option<Account>,
    /// Throttled before the exchange began: it fails whatever the proof.
    refused: Option<Duration>,
}

impl std::fmt::Debug for ScramExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramExchange")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Parses the client-first-message and returns the server-first-message. An unknown
    /// user, an account without SCRAM keys and a throttled client all get a normal-looking
    /// challenge (a stable fake salt) and fail at client-final like a wrong password.
    pub async fn scram_start(
        &self,
        client_first: &[u8],
        peer: IpAddr,
    ) -> Result<(ScramExchange, String), AuthError> {
        let first = scram::parse_client_first(client_first)?;
        let username = first.username().to_string();
        let refused = match self.throttle.check(peer, &username) {
            Verdict::Refuse { delay } => Some(delay),
            Verdict::Allow => None,
        };
        let account = self.directory.account_by_address(&username).await?;
        let real = account.and_then(|a| {
            let keys = a.scram_sha256.as_deref()?;
            match ScramCredentials::decode(keys) {
                Ok(credentials) => Some((a, credentials)),
                Err(e) => {
                    tracing::warn!(account = %a.address, error = %e, "unusable SCRAM keys");
                    None
                }
            }
        });
        let (account, credentials) = match real {
            Some((a, c)) => (Some(a), c),
            None => (None, scram::fake_credentials(&self.secret[..], &username)),
        };
        let (state, server_first) = first.server_first(credentials, &scram::server_nonce()?);
        let exchange = ScramExchange {
            state,
            username,
            account,
            refused,
        };
        Ok((exchange, server_first))
    }

    /// Checks the client-final-message; on success returns the account and the
    /// server-final-message (`v=...`) to send before the protocol's OK.
    pub async fn scram_finish(
        &self,
        exchange: ScramExchange,
        client_final: &[u8],
        protocol: Protocols,
        peer: IpAddr,
    ) -> Result<(Account, String), AuthError> {
        if let Some(delay) = exchange.refused {
            return Err(AuthError::InvalidCredentials { delay });
        }
        let outcome = exchange.state.finish(client_final);
        match (outcome, exchange.account) {
            (Ok(server_final), Some(account)) => {
                // As for a password: only a login that goes through clears the failures.
                let account = check_state(account, protocol)?;
                self.throttle.success(peer, &exchange.username);
                Ok((account, server_final))
            }
            // Every failure at this step counts, malformed or not: it is where guesses land.
            (Ok(_) | Err(_), _) => Err(self.failed(peer, &exchange.username).await),
        }
    }
}

/// Errors of the first step are the client's (malformed message); later ones are failures.
impl From<ScramError> for AuthError {
    fn from(e: ScramError) -> Self {
        AuthError::Sasl(e)
    }
}
