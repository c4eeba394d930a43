//! Accounts, their passwords and app passwords, and aliases.

use crate::{AccountSettings, Admin, AdminError, Result, random_text};
use mailroom_auth::{app_password, hash_password, scram_credentials};
use mailroom_store::{Account, AccountUpdate, Alias, AppPassword, NewAccount, StoreError};

/// A new account, and its password when the server chose it (shown once).
#[derive(Debug)]
pub struct NewAccountResult {
    pub account: Account,
    pub generated_password: Option<String>,
}

/// Generated passwords: 20 characters, about 116 bits.
const GENERATED_PASSWORD_LEN: usize = 20;

impl Admin {
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        Ok(self.store.list_accounts().await?)
    }

    pub async fn account(&self, address: &str) -> Result<Account> {
        self.store
            .account_by_address(address.trim())
            .await?
            .ok_or_else(|| AdminError::NoAccount(address.trim().to_string()))
    }

    /// Creates an account with INBOX, Sent, Drafts, Trash, Junk and Archive, with `password`
    /// or a generated one, then applies `settings`. The domain must exist.
    pub async fn add_account(
        &self,
        address: &str,
        password: Option<&str>,
        settings: &AccountSettings,
    ) -> Result<NewAccountResult> {
        let (password, generated) = choose_password(password)?;
        let mut new = NewAccount::new(address.trim(), hash_password(&password)?);
        // SCRAM-SHA-256 keys from the same password (RFC 5803 form).
        new.scram_sha256 = Some(scram_credentials(&password)?);
        let domain = address.rsplit('@').next().unwrap_or_default().trim();
        let account = self.store.create_account(new).await.map_err(|e| match e {
            StoreError::NotFound(_) => AdminError::DomainNeeded(domain.to_string()),
            StoreError::AlreadyExists(_) => AdminError::AddressTaken(address.trim().to_string()),
            other => other.into(),
        })?;
        let account = if *settings == AccountSettings::default() {
            account
        } else {
            self.store
                .update_account(account.id, settings.update())
                .await?
        };
        Ok(NewAccountResult {
            account,
            generated_password: generated.then_some(password),
        })
    }

    /// Sets a new password (or a generated one, returned); SCRAM keys follow it, and every
    /// device using the old one must log in again.
    pub async fn set_password(
        &self,
        address: &str,
        password: Option<&str>,
    ) -> Result<Option<String>> {
        let account = self.account(address).await?;
        let (password, generated) = choose_password(password)?;
        let update = AccountUpdate {
            password_hash: Some(hash_password(&password)?),
            scram_sha256: Some(Some(scram_credentials(&password)?)),
            ..AccountUpdate::default()
        };
        self.store.update_account(account.id, update).await?;
        Ok(generated.then_some(password))
    }

    pub async fn update_account(
        &self,
        address: &str,
        settings: &AccountSettings,
    ) -> Result<Account> {
        let account = self.account(address).await?;
        Ok(self
            .store
            .update_account(account.id, settings.update())
            .await?)
    }

    /// Removes the account and all its mail.
    pub async fn remove_account(&self, address: &str) -> Result<Account> {
        let account = self.account(address).await?;
        self.store.remove_account(account.id).await?;
        Ok(account)
    }

    pub async fn aliases(&self) -> Result<Vec<Alias>> {
        Ok(self.store.list_aliases().await?)
    }

    /// Makes `alias` deliver to the account `address`; the alias must be in one of this
    /// server's domains.
    pub async fn add_alias(&self, alias: &str, address: &str) -> Result<Account> {
        let account = self.account(address).await?;
        let domain = alias.rsplit('@').next().unwrap_or_default().trim();
        self.store
            .add_alias(alias, account.id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => AdminError::DomainNeeded(domain.to_string()),
                StoreError::AlreadyExists(_) => AdminError::AddressTaken(alias.trim().to_string()),
                other => other.into(),
            })?;
        Ok(account)
    }

    pub async fn remove_alias(&self, alias: &str) -> Result<()> {
        self.store.remove_alias(alias).await.map_err(|e| match e {
            StoreError::NotFound(_) => AdminError::NoAlias(alias.trim().to_string()),
            other => other.into(),
        })
    }

    pub async fn app_passwords(&self, address: &str) -> Result<Vec<AppPassword>> {
        let account = self.account(address).await?;
        Ok(self.store.app_passwords(account.id).await?)
    }

    /// Makes an app password named `name`; its secret is returned once and only its hash
    /// kept.
    pub async fn add_app_password(&self, address: &str, name: &str) -> Result<String> {
        let account = self.account(address).await?;
        let (secret, secret_hash) = app_password::generate()?;
        self.store
            .add_app_password(account.id, name, &secret_hash)
            .await
            .map_err(|e| match e {
                StoreError::AlreadyExists(_) => AdminError::AppPasswordExists {
                    address: account.address.clone(),
                    name: name.trim().to_string(),
                },
                other => other.into(),
            })?;
        Ok(secret)
    }

    /// Revokes an app password: it stops working at once.
    pub async fn remove_app_password(&self, address: &str, name: &str) -> Result<()> {
        let account = self.account(address).await?;
        self.store
            .remove_app_password(account.id, name)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => AdminError::NoAppPassword {
                    address: account.address.clone(),
                    name: name.trim().to_string(),
                },
                other => other.into(),
            })
    }
}

fn choose_password(given: Option<&str>) -> Result<(String, bool)> {
    match given {
        Some("") => Err(AdminError::invalid(
            "password",
            "",
            "a password can't be empty",
        )),
        Some(p) => Ok((p.to_string(), false)),
        None => Ok((random_text(GENERATED_PASSWORD_LEN)?, true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use std::sync::Arc;

    async fn admin() -> (tempfile::TempDir, Admin) {
        let dir = tempfile::tempdir().unwrap();
        let store = mailroom_store_sqlite::SqliteStore::open(dir.path()).unwrap();
        (dir, Admin::new(Arc::new(store)))
    }

    #[tokio::test]
    async fn accounts_and_their_errors_name_the_object() {
        let (_dir, admin) = admin().await;
        let e = admin
            .add_account("ann@example.com", Some("pw"), &AccountSettings::default())
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "no domain example.com: add the domain first");
        assert_eq!(e.kind(), ErrorKind::Invalid);
        let domain = admin.add_domain("example.com").await.unwrap();
        assert!(domain.dkim.is_some(), "a new domain gets its DKIM key");
        let settings = AccountSettings::parse(Some("1GiB"), None, None, None).unwrap();
        let made = admin
            .add_account("ann@example.com", None, &settings)
            .await
            .unwrap();
        assert_eq!(made.account.quota_bytes, Some(1 << 30));
        let password = made.generated_password.expect("generated");
        assert_eq!(password.len(), GENERATED_PASSWORD_LEN);
        assert!(mailroom_auth::verify_password(
            &made.account.password_hash,
            &password
        ));
        let again = admin
            .add_account("Ann@example.com", Some("x"), &AccountSettings::default())
            .await
            .unwrap_err();
        assert_eq!(
            again.to_string(),
            "Ann@example.com is already an account or an alias"
        );
        assert_eq!(again.kind(), ErrorKind::Conflict);
        assert_eq!(
            admin
                .account("bob@example.com")
                .await
                .unwrap_err()
                .to_string(),
            "no account bob@example.com"
        );
        let secret = admin
            .add_app_password("ann@example.com", "phone")
            .await
            .unwrap();
        assert!(!secret.is_empty());
        assert_eq!(
            admin
                .add_app_password("ann@example.com", "phone")
                .await
                .unwrap_err()
                .to_string(),
            "ann@example.com already has an app password \"phone\""
        );
        assert_eq!(
            admin
                .remove_app_password("ann@example.com", "tablet")
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            admin
                .remove_alias("x@example.com")
                .await
                .unwrap_err()
                .to_string(),
            "no alias x@example.com"
        );
        assert_eq!(
            admin
                .remove_domain("example.com")
                .await
                .unwrap_err()
                .to_string(),
            "domain example.com still has accounts; remove them first"
        );
    }
}
