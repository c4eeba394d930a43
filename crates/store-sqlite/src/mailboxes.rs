//! An account's folders: create, rename (keeping ids and UIDs), delete (into recovery).

use crate::messages::{MessageMove, move_rows};
use crate::rows::{MAILBOX_COLUMNS, find_mailbox, load_account, load_mailbox, mailbox};
use crate::schema::db;
use crate::writer::WriteCtx;
use crate::{SqliteStore, not_found};
use async_trait::async_trait;
use mailroom_store::{
    AccountId, Mailbox, MailboxEvent, MailboxId, MailboxName, MailboxStatus, Mailboxes, Result,
    SpecialUse, StoreError,
};
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl Mailboxes for SqliteStore {
    async fn list_mailboxes(&self, account: AccountId) -> Result<Vec<Mailbox>> {
        self.inner
            .readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(&format!(
                        "SELECT {MAILBOX_COLUMNS} FROM mailboxes m WHERE m.account_id = ?1 ORDER BY m.name"
                    ))
                    .map_err(db)?;
                let rows = stmt.query_map([account.0], mailbox).map_err(db)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
            })
            .await
    }

    async fn mailbox(&self, account: AccountId, name: &MailboxName) -> Result<Option<Mailbox>> {
        let name = name.clone();
        self.inner
            .readers
            .read(move |conn| find_mailbox(conn, account, name.as_str()))
            .await
    }

    async fn mailbox_by_id(&self, account: AccountId, id: MailboxId) -> Result<Mailbox> {
        let mb = self
            .inner
            .readers
            .read(move |conn| load_mailbox(conn, id))
            .await?;
        // Ids are guessable; a mailbox of another account is reported as absent.
        if mb.account != account {
            return Err(not_found("mailbox"));
        }
        Ok(mb)
    }

    async fn create_mailbox(
        &self,
        account: AccountId,
        name: &MailboxName,
        special_use: Option<SpecialUse>,
    ) -> Result<Mailbox> {
        let name = name.clone();
        self.inner
            .writer
            .write(move |ctx| {
                load_account(ctx.conn, account)?;
                if find_mailbox(ctx.conn, account, name.as_str())?.is_some() {
                    return Err(StoreError::AlreadyExists("mailbox"));
                }
                create_missing_parents(ctx, account, &name)?;
                create_mailbox_tx(ctx, account, &name, special_use)
            })
            .await
    }

    async fn rename_mailbox(
        &self,
        account: AccountId,
        from: &MailboxName,
        to: &MailboxName,
    ) -> Result<()> {
        let (from, to) = (from.clone(), to.clone());
        self.inner
            .writer
            .write(move |ctx| rename_tx(ctx, account, &from, &to))
            .await
    }

    async fn delete_mailbox(&self, account: AccountId, name: &MailboxName) -> Result<()> {
        let name = name.clone();
        self.inner
            .writer
            .write(move |ctx| {
                if name.is_inbox() {
                    return Err(StoreError::NotAllowed("INBOX cannot be deleted"));
                }
                let mb =
                    find_mailbox(ctx.conn, account, name.as_str())?.ok_or(not_found("mailbox"))?;
                let uids = all_uids(ctx, mb.id)?;
                move_rows(ctx, &mb, &uids, MessageMove::ToRecovery)?;
                ctx.conn
                    .execute("DELETE FROM expunged WHERE mailbox_id = ?1", [mb.id.0])
                    .map_err(db)?;
                ctx.conn
                    .execute("DELETE FROM mailboxes WHERE id = ?1", [mb.id.0])
                    .map_err(db)?;
                ctx.events.push(MailboxEvent::Deleted {
                    account,
                    mailbox: mb.id,
                });
                ctx.events.push(MailboxEvent::ListChanged { account });
                Ok(())
            })
            .await
    }

    async fn set_subscribed(
        &self,
        account: AccountId,
        name: &MailboxName,
        subscribed: bool,
    ) -> Result<()> {
        let name = name.clone();
        self.inner
            .writer
            .write(move |ctx| {
                load_account(ctx.conn, account)?;
                let sql = if subscribed {
                    "INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?1, ?2)"
                } else {
                    "DELETE FROM subscriptions WHERE account_id = ?1 AND name = ?2"
                };
                ctx.conn
                    .execute(sql, params![account.0, name.as_str()])
                    .map_err(db)?;
                ctx.events.push(MailboxEvent::ListChanged { account });
                Ok(())
            })
            .await
    }

    async fn subscriptions(&self, account: AccountId) -> Result<Vec<MailboxName>> {
        self.inner
            .readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT name FROM subscriptions WHERE account_id = ?1 ORDER BY name",
                    )
                    .map_err(db)?;
                let names = stmt
                    .query_map([account.0], |r| r.get::<_, String>(0))
                    .map_err(db)?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(db)?;
                Ok(names.into_iter().map(MailboxName::from_stored).collect())
            })
            .await
    }

    async fn claim_recent(&self, mailbox: MailboxId, up_to: u32) -> Result<u32> {
        self.inner
            .writer
            .write(move |ctx| {
                let before: u32 = ctx
                    .conn
                    .prepare_cached("SELECT recent_uid FROM mailboxes WHERE id = ?1")
                    .map_err(db)?
                    .query_row([mailbox.0], |r| r.get(0))
                    .optional()
                    .map_err(db)?
                    .ok_or(StoreError::NotFound("mailbox"))?;
                if up_to > before {
                    ctx.conn
                        .prepare_cached("UPDATE mailboxes SET recent_uid = ?2 WHERE id = ?1")
                        .map_err(db)?
                        .execute(params![mailbox.0, up_to])
                        .map_err(db)?;
                }
                Ok(before)
            })
            .await
    }

    async fn mailbox_status(&self, id: MailboxId) -> Result<MailboxStatus> {
        self.inner
            .readers
            .read(move |conn| {
                let mb = load_mailbox(conn, id)?;
                let recent_uid: u32 = conn
                    .prepare_cached("SELECT recent_uid FROM mailboxes WHERE id = ?1")
                    .map_err(db)?
                    .query_row([id.0], |r| r.get(0))
                    .map_err(db)?;
                let (messages, unseen, deleted, size, recent) = conn
                    .prepare_cached(
                        "SELECT count(*), coalesce(sum((flags & 1) = 0), 0),
                                coalesce(sum((flags & 8) != 0), 0), coalesce(sum(size), 0),
                                coalesce(sum(uid > ?2), 0)
                         FROM messages WHERE mailbox_id = ?1",
                    )
                    .map_err(db)?
                    .query_row(params![id.0, recent_uid], |r| {
                        Ok((
                            r.get::<_, u32>(0)?,
                            r.get::<_, u32>(1)?,
                            r.get::<_, u32>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, u32>(4)?,
                        ))
                    })
                    .map_err(db)?;
                Ok(MailboxStatus {
                    messages,
                    unseen,
                    deleted,
                    recent,
                    recent_uid,
                    size: size as u64,
                    uid_next: mb.uid_next,
                    uid_validity: mb.uid_validity,
                    highest_modseq: mb.highest_modseq,
                })
            })
            .await
    }
}

/// Creates one mailbox (its parents must be handled by the caller). UIDVALIDITY is the current
/// time, or one more than the last this account handed out, so a mailbox deleted and created again
/// under the same name never repeats a UIDVALIDITY (RFC 9051 §2.3.1.1).
pub(crate) fn create_mailbox_tx(
    ctx: &mut WriteCtx<'_>,
    account: AccountId,
    name: &MailboxName,
    special_use: Option<SpecialUse>,
) -> Result<Mailbox> {
    // Every way a mailbox comes into being passes here: CREATE, a missing parent, RENAME,
    // restores, import, delivery into a folder that must exist.
    name.check_new()?;
    let last: i64 = ctx
        .conn
        .query_row(
            "SELECT last_uid_validity FROM accounts WHERE id = ?1",
            [account.0],
            |r| r.get(0),
        )
        .map_err(db)?;
    let uid_validity = ctx.now.max(last + 1).clamp(1, i64::from(u32::MAX));
    ctx.conn
        .execute(
            "UPDATE accounts SET last_uid_validity = ?2 WHERE id = ?1",
            params![account.0, uid_validity],
        )
        .map_err(db)?;
    ctx.conn
        .execute(
            "INSERT INTO mailboxes (account_id, name, special_use, uid_validity, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                account.0,
                name.as_str(),
                special_use.map(|u| u.attribute()),
                uid_validity,
                ctx.now
            ],
        )
        .map_err(db)?;
    let id = MailboxId(ctx.conn.last_insert_rowid());
    ctx.events.push(MailboxEvent::ListChanged { account });
    load_mailbox(ctx.conn, id)
}

/// Creates the parents of `name` that don't exist yet (RFC 9051 §6.3.4: a server SHOULD create
/// the superior names a new name needs).
fn create_missing_parents(
    ctx: &mut WriteCtx<'_>,
    account: AccountId,
    name: &MailboxName,
) -> Result<()> {
    for parent in name.ancestors() {
        if find_mailbox(ctx.conn, account, parent.as_str())?.is_none() {
            create_mailbox_tx(ctx, account, &parent, None)?;
        }
    }
    Ok(())
}

/// Creates the mailbox and its missing parents, or returns it if it exists.
pub(crate) fn ensure_mailbox_tx(
    ctx: &mut WriteCtx<'_>,
    account: AccountId,
    name: &MailboxName,
) -> Result<Mailbox> {
    if let Some(mb) = find_mailbox(ctx.conn, account, name.as_str())? {
        return Ok(mb);
    }
    create_missing_parents(ctx, account, name)?;
    create_mailbox_tx(ctx, account, name, None)
}

fn rename_tx(
    ctx: &mut WriteCtx<'_>,
    account: AccountId,
    from: &MailboxName,
    to: &MailboxName,
) -> Result<()> {
    to.check_new()?;
    let source = find_mailbox(ctx.conn, account, from.as_str())?.ok_or(not_found("mailbox"))?;
    if find_mailbox(ctx.conn, account, to.as_str())?.is_some() || to.is_inbox() {
        return Err(StoreError::AlreadyExists("mailbox"));
    }
    // INBOX keeps its children when renamed, so only other mailboxes can't move below themselves.
    if !from.is_inbox() && from.is_ancestor_of(to) {
        return Err(StoreError::NotAllowed(
            "a mailbox cannot be renamed into itself",
        ));
    }
    create_missing_parents(ctx, account, to)?;
    if source.name.is_inbox() {
        // RFC 9051 §6.3.6: renaming INBOX moves its messages to a new mailbox and leaves INBOX
        // empty; its children stay where they are.
        let target = create_mailbox_tx(ctx, account, to, None)?;
        let uids = all_uids(ctx, source.id)?;
        move_rows(ctx, &source, &uids, MessageMove::To(target.id))?;
        return Ok(());
    }
    let prefix = format!("{}/", from.as_str());
    let mut stmt = ctx
        .conn
        .prepare_cached(
            "SELECT id, name FROM mailboxes WHERE account_id = ?1
             AND (name = ?2 OR substr(name, 1, length(?3)) = ?3)",
        )
        .map_err(db)?;
    let affected = stmt
        .query_map(params![account.0, from.as_str(), prefix], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)?;
    for (id, old) in affected {
        let new = format!("{}{}", to.as_str(), &old[from.as_str().len()..]);
        // `to` follows the rules of new names (checked above); the children keep their own
        // lower levels as they are, so renaming a parent never fails on a child of older rules.
        MailboxName::existing(&new)?;
        ctx.conn
            .execute(
                "UPDATE mailboxes SET name = ?1 WHERE id = ?2",
                params![new, id],
            )
            .map_err(db)?;
        ctx.conn
            .execute(
                "UPDATE subscriptions SET name = ?1 WHERE account_id = ?2 AND name = ?3",
                params![new, account.0, old],
            )
            .map_err(db)?;
    }
    ctx.events.push(MailboxEvent::ListChanged { account });
    Ok(())
}

pub(crate) fn all_uids(ctx: &WriteCtx<'_>, mailbox: MailboxId) -> Result<Vec<u32>> {
    let mut stmt = ctx
        .conn
        .prepare_cached("SELECT uid FROM messages WHERE mailbox_id = ?1 ORDER BY uid")
        .map_err(db)?;
    stmt.query_map([mailbox.0], |r| r.get(0))
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<u32>>>()
        .map_err(db)
}
