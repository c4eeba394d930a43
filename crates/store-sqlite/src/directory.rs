//! Domains, accounts and aliases.

use crate::mailboxes::create_mailbox_tx;
use crate::rows::{ACCOUNT_COLUMNS, account, load_account};
use crate::schema::db;
use crate::writer::WriteCtx;
use crate::{SqliteStore, not_found};
use async_trait::async_trait;
use mailroom_store::account::{normalize_domain, split_address};
use mailroom_store::{
    Account, AccountId, AccountUpdate, Alias, ApiToken, AppPassword, DEFAULT_MAILBOXES, Directory,
    DkimKey, Domain, DomainId, DomainUpdate, Lockout, MailboxName, NewAccount, Result, StoreError,
};
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl Directory for SqliteStore {
    async fn add_domain(&self, name: &str) -> Result<Domain> {
        let name = normalize_domain(name)?;
        self.inner
            .writer
            .write(move |ctx| {
                let exists: bool = ctx
                    .conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM domains WHERE name = ?1)",
                        [&name],
                        |r| r.get(0),
                    )
                    .map_err(db)?;
                if exists {
                    return Err(StoreError::AlreadyExists("domain"));
                }
                ctx.conn
                    .execute(
                        "INSERT INTO domains (name, created_at) VALUES (?1, ?2)",
                        params![name, ctx.now],
                    )
                    .map_err(db)?;
                load_domain(ctx.conn, &name)
            })
            .await
    }

    async fn list_domains(&self) -> Result<Vec<Domain>> {
        self.inner
            .readers
            .read(|conn| {
                let mut stmt = conn
                    .prepare_cached(&format!(
                        "SELECT {DOMAIN_COLUMNS} FROM domains ORDER BY name"
                    ))
                    .map_err(db)?;
                let rows = stmt.query_map([], domain_row).map_err(db)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
            })
            .await
    }

    async fn domain(&self, name: &str) -> Result<Option<Domain>> {
        let Ok(name) = normalize_domain(name) else {
            return Ok(None);
        };
        self.inner
            .readers
            .read(move |conn| match load_domain(conn, &name) {
                Ok(domain) => Ok(Some(domain)),
                Err(StoreError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            })
            .await
    }

    async fn update_domain(&self, name: &str, update: DomainUpdate) -> Result<Domain> {
        let name = normalize_domain(name)?;
        self.inner
            .writer
            .write(move |ctx| {
                load_domain(ctx.conn, &name)?;
                use rusqlite::types::Value;
                let opt = |v: Option<u64>| v.map_or(Value::Null, |v| Value::Integer(v as i64));
                let set = |column: &str, value: Value| {
                    ctx.conn
                        .execute(
                            &format!("UPDATE domains SET {column} = ?1 WHERE name = ?2"),
                            params![value, name],
                        )
                        .map_err(db)
                };
                if let Some(q) = update.default_quota_bytes {
                    set("default_quota_bytes", opt(q))?;
                }
                if let Some(q) = update.default_quota_messages {
                    set("default_quota_messages", opt(q))?;
                }
                if let Some(days) = update.recovery_days {
                    set("recovery_days", opt(days.map(u64::from)))?;
                }
                if let Some(key) = update.dkim {
                    let (selector, pem) = match key {
                        Some(k) => (Value::Text(k.selector), Value::Text(k.private_key_pem)),
                        None => (Value::Null, Value::Null),
                    };
                    set("dkim_selector", selector)?;
                    set("dkim_private_key", pem)?;
                }
                load_domain(ctx.conn, &name)
            })
            .await
    }

    async fn remove_domain(&self, name: &str) -> Result<()> {
        let name = normalize_domain(name)?;
        self.inner
            .writer
            .write(move |ctx| {
                let id: i64 = ctx
                    .conn
                    .query_row("SELECT id FROM domains WHERE name = ?1", [&name], |r| {
                        r.get(0)
                    })
                    .optional()
                    .map_err(db)?
                    .ok_or(not_found("domain"))?;
                let accounts: i64 = ctx
                    .conn
                    .query_row(
                        "SELECT count(*) FROM accounts WHERE domain_id = ?1",
                        [id],
                        |r| r.get(0),
                    )
                    .map_err(db)?;
                if accounts > 0 {
                    return Err(StoreError::NotAllowed("the domain still has accounts"));
                }
                ctx.conn
                    .execute("DELETE FROM domains WHERE id = ?1", [id])
                    .map_err(db)?;
                Ok(())
            })
            .await
    }

    async fn create_account(&self, mut new: NewAccount) -> Result<Account> {
        let (local, domain) = split_address(&new.address)?;
        let address = format!("{local}@{domain}");
        self.inner
            .writer
            .write(move |ctx| {
                let domain = load_domain(ctx.conn, &domain)?;
                let domain_id = domain.id.0;
                // The domain's default limits, unless the account was given its own.
                new.quota_bytes = new.quota_bytes.or(domain.default_quota_bytes);
                new.quota_messages = new.quota_messages.or(domain.default_quota_messages);
                if address_taken(ctx, &address)? {
                    return Err(StoreError::AlreadyExists("address"));
                }
                ctx.conn
                    .execute(
                        "INSERT INTO accounts (address, domain_id, password_hash, quota_bytes,
                             quota_messages, protocols, pop3_policy, created_at, scram_sha256)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![
                            address,
                            domain_id,
                            new.password_hash,
                            new.quota_bytes.map(|v| v as i64),
                            new.quota_messages.map(|v| v as i64),
                            new.protocols.0,
                            new.pop3_policy.map(|p| p.as_str()),
                            ctx.now,
                            new.scram_sha256,
                        ],
                    )
                    .map_err(db)?;
                let id = AccountId(ctx.conn.last_insert_rowid());
                for (name, special_use) in DEFAULT_MAILBOXES {
                    let name = MailboxName::new(name)?;
                    create_mailbox_tx(ctx, id, &name, special_use)?;
                    ctx.conn
                        .execute(
                            "INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?1, ?2)",
                            params![id.0, name.as_str()],
                        )
                        .map_err(db)?;
                }
                load_account(ctx.conn, id)
            })
            .await
    }

    async fn account(&self, id: AccountId) -> Result<Account> {
        self.inner
            .readers
            .read(move |conn| load_account(conn, id))
            .await
    }

    async fn account_by_address(&self, address: &str) -> Result<Option<Account>> {
        let address = address.trim().to_string();
        self.inner
            .readers
            .read(move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE address = ?1"
                ))
                .map_err(db)?
                .query_row([address], account)
                .optional()
                .map_err(db)
            })
            .await
    }

    async fn list_accounts(&self) -> Result<Vec<Account>> {
        self.inner
            .readers
            .read(|conn| {
                let mut stmt = conn
                    .prepare_cached(&format!(
                        "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY address"
                    ))
                    .map_err(db)?;
                let rows = stmt.query_map([], account).map_err(db)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
            })
            .await
    }

    async fn update_account(&self, id: AccountId, update: AccountUpdate) -> Result<Account> {
        self.inner
            .writer
            .write(move |ctx| {
                load_account(ctx.conn, id)?;
                let set = |column: &str, value: rusqlite::types::Value| {
                    ctx.conn
                        .execute(
                            &format!("UPDATE accounts SET {column} = ?1 WHERE id = ?2"),
                            params![value, id.0],
                        )
                        .map_err(db)
                };
                use rusqlite::types::Value;
                let opt = |v: Option<u64>| v.map_or(Value::Null, |v| Value::Integer(v as i64));
                if let Some(hash) = update.password_hash {
                    set("password_hash", Value::Text(hash))?;
                }
                if let Some(keys) = update.scram_sha256 {
                    set("scram_sha256", keys.map_or(Value::Null, Value::Text))?;
                }
                if let Some(q) = update.quota_bytes {
                    set("quota_bytes", opt(q))?;
                }
                if let Some(q) = update.quota_messages {
                    set("quota_messages", opt(q))?;
                }
                if let Some(p) = update.protocols {
                    set("protocols", Value::Integer(i64::from(p.0)))?;
                }
                if let Some(p) = update.pop3_policy {
                    set(
                        "pop3_policy",
                        p.map_or(Value::Null, |p| Value::Text(p.as_str().to_string())),
                    )?;
                }
                if let Some(enabled) = update.enabled {
                    set("enabled", Value::Integer(i64::from(enabled)))?;
                }
                if let Some(admin) = update.admin {
                    set("admin", Value::Integer(i64::from(admin)))?;
                }
                load_account(ctx.conn, id)
            })
            .await
    }

    async fn remove_account(&self, id: AccountId) -> Result<()> {
        self.inner
            .writer
            .write(move |ctx| {
                load_account(ctx.conn, id)?;
                let c = ctx.conn;
                // Every blob reference this account holds is released; the purge job removes
                // blobs nothing else references.
                c.execute(
                    "UPDATE blobs SET refs = refs - (
                        SELECT count(*) FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id
                        WHERE m.blob_id = blobs.id AND mb.account_id = ?1)
                     WHERE id IN (SELECT m.blob_id FROM messages m JOIN mailboxes mb
                        ON mb.id = m.mailbox_id WHERE mb.account_id = ?1)",
                    [id.0],
                )
                .map_err(db)?;
                c.execute(
                    "UPDATE blobs SET refs = refs - (
                        SELECT count(*) FROM recovery r WHERE r.blob_id = blobs.id AND r.account_id = ?1)
                     WHERE id IN (SELECT blob_id FROM recovery WHERE account_id = ?1)",
                    [id.0],
                )
                .map_err(db)?;
                c.execute(
                    "UPDATE blobs SET unreferenced_since = ?1 WHERE refs = 0 AND unreferenced_since IS NULL",
                    [ctx.now],
                )
                .map_err(db)?;
                for sql in [
                    "DELETE FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?1)",
                    "DELETE FROM expunged WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?1)",
                    "DELETE FROM recovery WHERE account_id = ?1",
                    "DELETE FROM mailboxes WHERE account_id = ?1",
                    "DELETE FROM subscriptions WHERE account_id = ?1",
                    "DELETE FROM aliases WHERE account_id = ?1",
                    "DELETE FROM quota_warnings WHERE account_id = ?1",
                    "DELETE FROM app_passwords WHERE account_id = ?1",
                    "DELETE FROM accounts WHERE id = ?1",
                ] {
                    c.execute(sql, [id.0]).map_err(db)?;
                }
                ctx.events.push(mailroom_store::MailboxEvent::ListChanged { account: id });
                Ok(())
            })
            .await
    }

    async fn add_alias(&self, alias: &str, target: AccountId) -> Result<()> {
        let (local, domain) = split_address(alias)?;
        let alias = format!("{local}@{domain}");
        self.inner
            .writer
            .write(move |ctx| {
                load_account(ctx.conn, target)?;
                let domain_known: bool = ctx
                    .conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM domains WHERE name = ?1)",
                        [&domain],
                        |r| r.get(0),
                    )
                    .map_err(db)?;
                if !domain_known {
                    return Err(not_found("domain"));
                }
                if address_taken(ctx, &alias)? {
                    return Err(StoreError::AlreadyExists("address"));
                }
                ctx.conn
                    .execute(
                        "INSERT INTO aliases (address, account_id) VALUES (?1, ?2)",
                        params![alias, target.0],
                    )
                    .map_err(db)?;
                Ok(())
            })
            .await
    }

    async fn remove_alias(&self, alias: &str) -> Result<()> {
        let alias = alias.trim().to_string();
        self.inner
            .writer
            .write(move |ctx| {
                let n = ctx
                    .conn
                    .execute("DELETE FROM aliases WHERE address = ?1", [&alias])
                    .map_err(db)?;
                if n == 0 {
                    return Err(not_found("alias"));
                }
                Ok(())
            })
            .await
    }

    async fn list_aliases(&self) -> Result<Vec<Alias>> {
        self.inner
            .readers
            .read(|conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT a.address, a.account_id, c.address FROM aliases a
                         JOIN accounts c ON c.id = a.account_id ORDER BY a.address",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok(Alias {
                            address: r.get(0)?,
                            account: AccountId(r.get(1)?),
                            target: r.get(2)?,
                        })
                    })
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
            })
            .await
    }

    async fn resolve_recipient(&self, address: &str) -> Result<Option<AccountId>> {
        let address = address.trim().to_string();
        self.inner
            .readers
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT id FROM accounts WHERE address = ?1
                     UNION ALL SELECT account_id FROM aliases WHERE address = ?1 LIMIT 1",
                )
                .map_err(db)?
                .query_row([address], |r| r.get(0))
                .optional()
                .map(|id| id.map(AccountId))
                .map_err(db)
            })
            .await
    }

    async fn add_app_password(
        &self,
        account: AccountId,
        name: &str,
        secret_hash: &str,
    ) -> Result<AppPassword> {
        let name = name.trim().to_string();
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(StoreError::invalid("app password name", name));
        }
        let secret_hash = secret_hash.to_string();
        self.inner
            .writer
            .write(move |ctx| {
                load_account(ctx.conn, account)?;
                let inserted = ctx
                    .conn
                    .execute(
                        "INSERT OR IGNORE INTO app_passwords (account_id, name, secret_hash, created_at)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![account.0, name, secret_hash, ctx.now],
                    )
                    .map_err(db)?;
                if inserted == 0 {
                    return Err(StoreError::AlreadyExists("app password"));
                }
                Ok(AppPassword {
                    account,
                    name: name.clone(),
                    secret_hash: secret_hash.clone(),
                    created_at: ctx.now,
                })
            })
            .await
    }

    async fn app_passwords(&self, account: AccountId) -> Result<Vec<AppPassword>> {
        self.inner
            .readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT name, secret_hash, created_at FROM app_passwords
                         WHERE account_id = ?1 ORDER BY name",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map([account.0], |r| {
                        Ok(AppPassword {
                            account,
                            name: r.get(0)?,
                            secret_hash: r.get(1)?,
                            created_at: r.get(2)?,
                        })
                    })
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
            })
            .await
    }

    async fn remove_app_password(&self, account: AccountId, name: &str) -> Result<()> {
        let name = name.trim().to_string();
        self.inner
            .writer
            .write(move |ctx| {
                let removed = ctx
                    .conn
                    .execute(
                        "DELETE FROM app_passwords WHERE account_id = ?1 AND name = ?2",
                        params![account.0, name],
                    )
                    .map_err(db)?;
                if removed == 0 {
                    return Err(not_found("app password"));
                }
                Ok(())
            })
            .await
    }

    async fn save_lockout(&self, lockout: Lockout) -> Result<()> {
        self.inner
            .writer
            .write(move |ctx| {
                // Expired ones go whenever a new one comes: the table stays the size of the
                // attacks of the last lockout period.
                ctx.conn
                    .prepare_cached("DELETE FROM login_lockouts WHERE until <= ?1")
                    .map_err(db)?
                    .execute([ctx.now])
                    .map_err(db)?;
                ctx.conn
                    .prepare_cached(
                        "INSERT INTO login_lockouts (key, until, detail) VALUES (?1, ?2, ?3)
                         ON CONFLICT (key) DO UPDATE SET until = excluded.until, detail = excluded.detail",
                    )
                    .map_err(db)?
                    .execute(params![lockout.key, lockout.until, lockout.detail])
                    .map_err(db)?;
                Ok(())
            })
            .await
    }

    async fn add_api_token(&self, token: ApiToken) -> Result<()> {
        let name = token.name.trim().to_string();
        if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control()) {
            return Err(StoreError::invalid(
                "token name",
                "1 to 64 characters without control characters",
            ));
        }
        self.inner
            .writer
            .write(move |ctx| {
                let inserted = ctx
                    .conn
                    .execute(
                        "INSERT OR IGNORE INTO api_tokens (name, secret_hash, account_id, created_at)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![name, token.secret_hash, token.account.map(|a| a.0), ctx.now],
                    )
                    .map_err(db)?;
                if inserted == 0 {
                    return Err(StoreError::AlreadyExists("api token"));
                }
                Ok(())
            })
            .await
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.inner
            .readers
            .read(|conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT name, secret_hash, account_id, created_at FROM api_tokens ORDER BY name",
                    )
                    .map_err(db)?;
                stmt.query_map([], api_token)
                    .map_err(db)?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(db)
            })
            .await
    }

    async fn api_token_by_hash(&self, secret_hash: &str) -> Result<Option<ApiToken>> {
        let secret_hash = secret_hash.to_string();
        self.inner
            .readers
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT name, secret_hash, account_id, created_at FROM api_tokens
                     WHERE secret_hash = ?1",
                )
                .map_err(db)?
                .query_row([secret_hash], api_token)
                .optional()
                .map_err(db)
            })
            .await
    }

    async fn remove_api_token(&self, name: &str) -> Result<()> {
        let name = name.trim().to_string();
        self.inner
            .writer
            .write(move |ctx| {
                let removed = ctx
                    .conn
                    .execute("DELETE FROM api_tokens WHERE name = ?1", [name])
                    .map_err(db)?;
                if removed == 0 {
                    return Err(not_found("api token"));
                }
                Ok(())
            })
            .await
    }

    async fn active_lockouts(&self, now: i64) -> Result<Vec<Lockout>> {
        self.inner
            .readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT key, until, detail FROM login_lockouts WHERE until > ?1",
                    )
                    .map_err(db)?;
                stmt.query_map([now], |r| {
                    Ok(Lockout {
                        key: r.get(0)?,
                        until: r.get(1)?,
                        detail: r.get(2)?,
                    })
                })
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)
            })
            .await
    }
}

fn api_token(row: &rusqlite::Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        name: row.get(0)?,
        secret_hash: row.get(1)?,
        account: row.get::<_, Option<i64>>(2)?.map(AccountId),
        created_at: row.get(3)?,
    })
}

fn address_taken(ctx: &WriteCtx<'_>, address: &str) -> Result<bool> {
    ctx.conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM accounts WHERE address = ?1)
                 OR EXISTS (SELECT 1 FROM aliases WHERE address = ?1)",
            [address],
            |r| r.get(0),
        )
        .map_err(db)
}

const DOMAIN_COLUMNS: &str = "id, name, created_at, default_quota_bytes, \
    default_quota_messages, recovery_days, dkim_selector, dkim_private_key";

fn domain_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Domain> {
    Ok(Domain {
        id: DomainId(r.get(0)?),
        name: r.get(1)?,
        created_at: r.get(2)?,
        default_quota_bytes: r.get::<_, Option<i64>>(3)?.map(|v| v as u64),
        default_quota_messages: r.get::<_, Option<i64>>(4)?.map(|v| v as u64),
        recovery_days: r
            .get::<_, Option<i64>>(5)?
            .and_then(|v| u32::try_from(v).ok()),
        dkim: match (
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<String>>(7)?,
        ) {
            (Some(selector), Some(private_key_pem)) => Some(DkimKey {
                selector,
                private_key_pem,
            }),
            _ => None,
        },
    })
}

fn load_domain(conn: &rusqlite::Connection, name: &str) -> Result<Domain> {
    conn.prepare_cached(&format!(
        "SELECT {DOMAIN_COLUMNS} FROM domains WHERE name = ?1"
    ))
    .map_err(db)?
    .query_row([name], domain_row)
    .optional()
    .map_err(db)?
    .ok_or(not_found("domain"))
}
