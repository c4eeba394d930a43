//! Bearer tokens of the HTTP API. An administrators' token acts on the whole server; an
//! account's token only on that account's own self-service endpoints.

use crate::{Admin, AdminError, Result, random_text};
use mailroom_store::{ApiToken, StoreError};
use sha2::{Digest, Sha256};

/// Every secret starts with this, so a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "mrt_";
/// 32 characters of about 5.8 bits: far beyond guessing, so a fast hash is enough to store.
const SECRET_LEN: usize = 32;

/// The stored form of a secret.
fn token_hash(secret: &str) -> String {
    Sha256::digest(secret.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Admin {
    /// Makes a token named `name`, for the administrators or (with `account`) for that
    /// account alone; returns the secret, shown once.
    pub async fn add_api_token(&self, name: &str, account: Option<&str>) -> Result<String> {
        let account = match account {
            Some(address) => Some(self.account(address).await?.id),
            None => None,
        };
        let secret = format!("{TOKEN_PREFIX}{}", random_text(SECRET_LEN)?);
        let token = ApiToken {
            name: name.trim().to_string(),
            secret_hash: token_hash(&secret),
            account,
            created_at: 0,
        };
        self.store.add_api_token(token).await.map_err(|e| match e {
            StoreError::AlreadyExists(_) => AdminError::TokenExists(name.trim().to_string()),
            other => other.into(),
        })?;
        Ok(secret)
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        Ok(self.store.api_tokens().await?)
    }

    /// Revokes a token: it stops working at once.
    pub async fn remove_api_token(&self, name: &str) -> Result<()> {
        self.store
            .remove_api_token(name)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => AdminError::NoToken(name.trim().to_string()),
                other => other.into(),
            })
    }

    /// The token `secret` belongs to, if it is one.
    pub async fn token(&self, secret: &str) -> Result<Option<ApiToken>> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        Ok(self.store.api_token_by_hash(&token_hash(secret)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn tokens_work_until_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = mailroom_store_sqlite::SqliteStore::open(dir.path()).unwrap();
        let admin = Admin::new(Arc::new(store));
        let secret = admin.add_api_token("deploy", None).await.unwrap();
        assert!(secret.starts_with(TOKEN_PREFIX));
        let token = admin.token(&secret).await.unwrap().expect("known");
        assert_eq!((token.name.as_str(), token.account), ("deploy", None));
        assert!(admin.token("mrt_wrong").await.unwrap().is_none());
        assert!(admin.token("wrong").await.unwrap().is_none());
        assert_eq!(
            admin
                .add_api_token("Deploy", None)
                .await
                .unwrap_err()
                .to_string(),
            "an API token \"Deploy\" already exists"
        );
        assert_eq!(
            admin
                .add_api_token("ann", Some("ann@example.com"))
                .await
                .unwrap_err()
                .to_string(),
            "no account ann@example.com"
        );
        admin.remove_api_token("deploy").await.unwrap();
        assert!(admin.token(&secret).await.unwrap().is_none());
        assert_eq!(
            admin
                .remove_api_token("deploy")
                .await
                .unwrap_err()
                .to_string(),
            "no API token \"deploy\""
        );
    }
}
