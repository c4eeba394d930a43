//! Messages: append and delivery (blob first, then one row per mailbox), flags, copy, move,
//! expunge into the recovery area, and the change log.

use crate::blobs::BlobDir;
use crate::rows::{META_COLUMNS, load_account, load_mailbox, meta, summary};
use crate::schema::db;
use crate::writer::WriteCtx;
use crate::{SqliteStore, not_found};
use async_trait::async_trait;
use bytes::Bytes;
use mailroom_store::facts::message_facts;
use mailroom_store::{
    AccountId, Appended, BlobHash, Change, ChangeKind, CopiedUid, Delivery, DeliveryOutcome,
    FlagOp, FlagUpdate, Flags, MailDate, Mailbox, MailboxEvent, MailboxId, MessageEntry,
    MessageMeta, MessageSummary, Messages, NewMessage, Result, StoreError, TextField,
};
use rusqlite::{OptionalExtension, params};
use std::sync::Arc;
use tokio::sync::broadcast;

/// A message's content made durable and parsed, ready for the writer to reference.
pub(crate) struct PreparedBlob {
    pub hash: BlobHash,
    pub size: u64,
    pub facts_json: String,
}

impl SqliteStore {
    /// Hashes, writes (fsync'd) and parses each content on the blocking pool, outside the
    /// writer, so the single writer thread only does SQL.
    async fn prepare(&self, contents: Vec<Arc<[u8]>>) -> Result<Vec<PreparedBlob>> {
        let blobs = self.inner.blobs.clone();
        tokio::task::spawn_blocking(move || {
            contents.iter().map(|c| prepare_blob(&blobs, c)).collect()
        })
        .await
        .map_err(|e| StoreError::Database(format!("blob task failed: {e}")))?
    }

    /// Runs a write that references freshly written blobs. If the purge job removed one of
    /// them in between (an identical message deleted long ago), the blobs are written again
    /// and the write retried once.
    pub(crate) async fn write_with_blobs<T, F>(&self, contents: Vec<Arc<[u8]>>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&mut WriteCtx<'_>, &BlobDir, &[PreparedBlob]) -> Result<T> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        for attempt in 0..2 {
            let prepared = Arc::new(self.prepare(contents.clone()).await?);
            let (blobs, f) = (self.inner.blobs.clone(), f.clone());
            match self
                .inner
                .writer
                .write(move |ctx| f(ctx, &blobs, &prepared))
                .await
            {
                Err(StoreError::Io(e))
                    if attempt == 0 && e.kind() == std::io::ErrorKind::NotFound =>
                {
                    tracing::info!("a blob vanished before its commit; writing it again");
                }
                other => {
                    self.new_blobs();
                    return other;
                }
            }
        }
        Err(StoreError::Database("blob kept vanishing".into()))
    }
}

fn prepare_blob(blobs: &BlobDir, content: &[u8]) -> Result<PreparedBlob> {
    let hash = BlobHash::of(content);
    blobs.write(&hash, content)?;
    let facts = message_facts(content);
    Ok(PreparedBlob {
        hash,
        size: content.len() as u64,
        facts_json: serde_json::to_string(&facts)
            .map_err(|e| StoreError::Database(format!("encoding facts: {e}")))?,
    })
}

/// Takes a reference on the blob row for `p`, creating the row the
/// first time this content is seen.
pub(crate) fn reference_blob(ctx: &WriteCtx<'_>, blobs: &BlobDir, p: &PreparedBlob) -> Result<i64> {
    let existing: Option<(i64, i64)> = ctx
        .conn
        .prepare_cached("SELECT id, refs FROM blobs WHERE hash = ?1")
        .map_err(db)?
        .query_row([&p.hash.0[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?;
    if !blobs.exists(&p.hash) {
        return Err(StoreError::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("blob {} missing", p.hash),
        )));
    }
    if let Some((id, _)) = existing {
        add_blob_refs(ctx, id, 1)?;
        return Ok(id);
    }
    ctx.conn
        .prepare_cached("INSERT INTO blobs (hash, size, refs, facts) VALUES (?1, ?2, 1, ?3)")
        .map_err(db)?
        .execute(params![&p.hash.0[..], p.size as i64, p.facts_json])
        .map_err(db)?;
    Ok(ctx.conn.last_insert_rowid())
}

pub(crate) fn add_blob_refs(ctx: &WriteCtx<'_>, blob_id: i64, delta: i64) -> Result<()> {
    ctx.conn
        .prepare_cached(
            "UPDATE blobs SET refs = refs + ?2,
                unreferenced_since = CASE WHEN refs + ?2 = 0 THEN ?3 ELSE NULL END
             WHERE id = ?1",
        )
        .map_err(db)?
        .execute(params![blob_id, delta, ctx.now])
        .map_err(db)?;
    Ok(())
}

/// Refuses to add `bytes`/`count` to an account over its limits (checked inside the writer, so
/// concurrent deliveries cannot overshoot together).
pub(crate) fn check_quota(
    ctx: &WriteCtx<'_>,
    account: AccountId,
    bytes: u64,
    count: u64,
) -> Result<()> {
    let a = load_account(ctx.conn, account)?;
    let over_bytes = a.quota_bytes.is_some_and(|q| a.used_bytes + bytes > q);
    let over_count = a
        .quota_messages
        .is_some_and(|q| a.used_messages + count > q);
    if over_bytes || over_count {
        return Err(StoreError::OverQuota);
    }
    Ok(())
}

pub(crate) fn add_usage(
    ctx: &WriteCtx<'_>,
    account: AccountId,
    bytes: i64,
    count: i64,
) -> Result<()> {
    ctx.conn
        .prepare_cached(
            "UPDATE accounts SET used_bytes = used_bytes + ?2, used_messages = used_messages + ?3
             WHERE id = ?1",
        )
        .map_err(db)?
        .execute(params![account.0, bytes, count])
        .map_err(db)?;
    track_quota_warning(ctx, account)
}

/// Warning levels, in percent of the quota (the fuller of bytes and messages counts).
const QUOTA_WARNING_LEVELS: [u8; 2] = [95, 80];

/// Queues a warning when usage crosses a level upward, once, and re-arms it when usage drops
/// below the level again.
fn track_quota_warning(ctx: &WriteCtx<'_>, account: AccountId) -> Result<()> {
    let a = load_account(ctx.conn, account)?;
    let percent = |used: u64, limit: Option<u64>| match limit {
        Some(0) => 100,
        Some(limit) => used.saturating_mul(100) / limit,
        None => 0,
    };
    let fullest =
        percent(a.used_bytes, a.quota_bytes).max(percent(a.used_messages, a.quota_messages));
    let level = QUOTA_WARNING_LEVELS
        .iter()
        .copied()
        .find(|&l| fullest >= u64::from(l))
        .unwrap_or(0);
    let warned: u8 = ctx
        .conn
        .prepare_cached("SELECT quota_warned FROM accounts WHERE id = ?1")
        .map_err(db)?
        .query_row([account.0], |r| r.get(0))
        .map_err(db)?;
    if level == warned {
        return Ok(());
    }
    if level > warned {
        ctx.conn
            .prepare_cached(
                "INSERT INTO quota_warnings (account_id, level, created_at) VALUES (?1, ?2, ?3)",
            )
            .map_err(db)?
            .execute(params![account.0, level, ctx.now])
            .map_err(db)?;
    }
    ctx.conn
        .prepare_cached("UPDATE accounts SET quota_warned = ?2 WHERE id = ?1")
        .map_err(db)?
        .execute(params![account.0, level])
        .map_err(db)?;
    Ok(())
}

/// A row about to be inserted into a mailbox.
pub(crate) struct MessageRow<'a> {
    pub blob_id: i64,
    pub size: u64,
    pub flags: &'a Flags,
    pub internal_date: MailDate,
    pub pop3_uidl: Option<String>,
}

/// Inserts a message with the mailbox's next UID and a new MODSEQ, and advances the mailbox's
/// counters. The caller accounts for usage and blob references.
pub(crate) fn insert_row(
    ctx: &mut WriteCtx<'_>,
    mailbox: MailboxId,
    row: MessageRow<'_>,
) -> Result<Appended> {
    let (uid, modseq, uid_validity): (u32, i64, u32) = ctx
        .conn
        .prepare_cached(
            "SELECT uid_next, highest_modseq + 1, uid_validity FROM mailboxes WHERE id = ?1",
        )
        .map_err(db)?
        .query_row([mailbox.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(db)?
        .ok_or(not_found("mailbox"))?;
    if uid == u32::MAX {
        return Err(StoreError::NotAllowed("the mailbox has used up its UIDs"));
    }
    ctx.conn
        .prepare_cached(
            "INSERT INTO messages (mailbox_id, uid, modseq, added_modseq, flags, keywords,
                internal_date, internal_tz, saved_at, size, blob_id, pop3_uidl)
             VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .map_err(db)?
        .execute(params![
            mailbox.0,
            uid,
            modseq,
            row.flags.system.0,
            row.flags.keywords_text(),
            row.internal_date.seconds,
            row.internal_date.offset_minutes,
            ctx.now,
            row.size as i64,
            row.blob_id,
            row.pop3_uidl
        ])
        .map_err(db)?;
    ctx.conn
        .prepare_cached("UPDATE mailboxes SET uid_next = ?2, highest_modseq = ?3 WHERE id = ?1")
        .map_err(db)?
        .execute(params![mailbox.0, uid + 1, modseq])
        .map_err(db)?;
    Ok(Appended {
        mailbox,
        uid_validity,
        uid,
        modseq: modseq as u64,
    })
}

/// Raises the mailbox's HIGHESTMODSEQ by one and returns it: the MODSEQ of one operation.
pub(crate) fn next_modseq(ctx: &WriteCtx<'_>, mailbox: MailboxId) -> Result<u64> {
    ctx.conn
        .prepare_cached("UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ?1 RETURNING highest_modseq")
        .map_err(db)?
        .query_row([mailbox.0], |r| r.get::<_, i64>(0))
        .optional()
        .map_err(db)?
        .map(|m| m as u64)
        .ok_or(not_found("mailbox"))
}

fn changed(ctx: &mut WriteCtx<'_>, mailbox: &Mailbox) -> Result<()> {
    let modseq = load_mailbox(ctx.conn, mailbox.id)?.highest_modseq;
    ctx.events.push(MailboxEvent::Changed {
        account: mailbox.account,
        mailbox: mailbox.id,
        modseq,
    });
    Ok(())
}

/// Where `move_rows` takes messages.
#[derive(Clone, Copy)]
pub(crate) enum MessageMove {
    /// Into the account's recovery area (expunge, folder delete).
    ToRecovery,
    /// Into another mailbox of the same account (MOVE, RENAME of INBOX).
    To(MailboxId),
}

/// Removes the given messages from `mailbox`, recording the expunges in the change log, and
/// puts them where `dest` says. Returns (source UID, target UID) pairs for moves, and the
/// source UIDs for both.
pub(crate) fn move_rows(
    ctx: &mut WriteCtx<'_>,
    mailbox: &Mailbox,
    uids: &[u32],
    dest: MessageMove,
) -> Result<Vec<CopiedUid>> {
    if uids.is_empty() {
        return Ok(Vec::new());
    }
    let expunge_modseq = next_modseq(ctx, mailbox.id)?;
    let mut out = Vec::with_capacity(uids.len());
    let mut freed_bytes = 0i64;
    for &uid in uids {
        let row = ctx
            .conn
            .prepare_cached(
                "SELECT flags, keywords, internal_date, internal_tz, size, blob_id, pop3_uidl
                 FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
            )
            .map_err(db)?
            .query_row(params![mailbox.id.0, uid], |r| {
                Ok((
                    r.get::<_, u8>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    MailDate {
                        seconds: r.get(2)?,
                        offset_minutes: r.get(3)?,
                    },
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .optional()
            .map_err(db)?;
        let Some((flags, keywords, date, size, blob_id, uidl)) = row else {
            continue;
        };
        match dest {
            MessageMove::ToRecovery => {
                ctx.conn
                    .prepare_cached(
                        "INSERT INTO recovery (account_id, mailbox_id, mailbox_name, uid, flags,
                            keywords, internal_date, internal_tz, size, blob_id, pop3_uidl, deleted_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    )
                    .map_err(db)?
                    .execute(params![
                        mailbox.account.0,
                        mailbox.id.0,
                        mailbox.name.as_str(),
                        uid,
                        flags,
                        keywords,
                        date.seconds,
                        date.offset_minutes,
                        size,
                        blob_id,
                        uidl,
                        ctx.now
                    ])
                    .map_err(db)?;
                freed_bytes += size;
                out.push(CopiedUid {
                    source: uid,
                    target: 0,
                });
            }
            MessageMove::To(target) => {
                let flags = Flags::from_stored(flags, keywords.as_deref());
                let appended = insert_row(
                    ctx,
                    target,
                    MessageRow {
                        blob_id,
                        size: size as u64,
                        flags: &flags,
                        internal_date: date,
                        pop3_uidl: uidl,
                    },
                )?;
                out.push(CopiedUid {
                    source: uid,
                    target: appended.uid,
                });
            }
        }
        ctx.conn
            .prepare_cached("DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2")
            .map_err(db)?
            .execute(params![mailbox.id.0, uid])
            .map_err(db)?;
        ctx.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?1, ?2, ?3)",
            )
            .map_err(db)?
            .execute(params![mailbox.id.0, uid, expunge_modseq as i64])
            .map_err(db)?;
    }
    let count = out.len() as i64;
    if matches!(dest, MessageMove::ToRecovery) {
        add_usage(ctx, mailbox.account, -freed_bytes, -count)?;
    }
    changed(ctx, mailbox)?;
    if let MessageMove::To(target) = dest {
        let target = load_mailbox(ctx.conn, target)?;
        changed(ctx, &target)?;
    }
    Ok(out)
}

fn same_account(ctx: &WriteCtx<'_>, from: MailboxId, to: MailboxId) -> Result<(Mailbox, Mailbox)> {
    let (a, b) = (load_mailbox(ctx.conn, from)?, load_mailbox(ctx.conn, to)?);
    if a.account != b.account {
        // Never let one account's ids reach into another's mail.
        return Err(not_found("mailbox"));
    }
    Ok((a, b))
}

#[async_trait]
impl Messages for SqliteStore {
    async fn append(&self, mailbox: MailboxId, message: NewMessage) -> Result<Appended> {
        self.append_batch(mailbox, vec![message])
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::Database("append produced no message".into()))
    }

    async fn append_batch(
        &self,
        mailbox: MailboxId,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<Appended>> {
        let contents: Vec<Arc<[u8]>> = messages.iter().map(|m| m.content.clone()).collect();
        let messages = Arc::new(messages);
        self.write_with_blobs(contents, move |ctx, blobs, prepared| {
            let mb = load_mailbox(ctx.conn, mailbox)?;
            let total: u64 = prepared.iter().map(|p| p.size).sum();
            check_quota(ctx, mb.account, total, prepared.len() as u64)?;
            let mut out = Vec::with_capacity(prepared.len());
            for (p, m) in prepared.iter().zip(messages.iter()) {
                let blob_id = reference_blob(ctx, blobs, p)?;
                out.push(insert_row(
                    ctx,
                    mailbox,
                    MessageRow {
                        blob_id,
                        size: p.size,
                        flags: &m.flags,
                        internal_date: m.internal_date.unwrap_or(MailDate::utc(ctx.now)),
                        pop3_uidl: m.pop3_uidl.clone(),
                    },
                )?);
            }
            add_usage(ctx, mb.account, total as i64, prepared.len() as i64)?;
            changed(ctx, &mb)?;
            Ok(out)
        })
        .await
    }

    async fn deliver(&self, delivery: Delivery) -> Result<Vec<DeliveryOutcome>> {
        let recipients = Arc::new(delivery.recipients);
        self.write_with_blobs(vec![delivery.content], move |ctx, blobs, prepared| {
            let Some(p) = prepared.first() else {
                return Ok(Vec::new());
            };
            let mut outcomes = Vec::with_capacity(recipients.len());
            for &account in recipients.iter() {
                let inbox = crate::rows::find_mailbox(ctx.conn, account, "INBOX")?;
                let Some(inbox) = inbox else {
                    outcomes.push(DeliveryOutcome::NoSuchAccount);
                    continue;
                };
                match check_quota(ctx, account, p.size, 1) {
                    Err(StoreError::OverQuota) => {
                        outcomes.push(DeliveryOutcome::OverQuota);
                        continue;
                    }
                    other => other?,
                }
                let blob_id = reference_blob(ctx, blobs, p)?;
                let appended = insert_row(
                    ctx,
                    inbox.id,
                    MessageRow {
                        blob_id,
                        size: p.size,
                        flags: &Flags::default(),
                        internal_date: MailDate::utc(ctx.now),
                        pop3_uidl: None,
                    },
                )?;
                add_usage(ctx, account, p.size as i64, 1)?;
                changed(ctx, &inbox)?;
                outcomes.push(DeliveryOutcome::Delivered(appended));
            }
            Ok(outcomes)
        })
        .await
    }

    async fn message_list(&self, mailbox: MailboxId) -> Result<Vec<MessageSummary>> {
        self.inner
            .readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT uid, modseq, flags, keywords FROM messages WHERE mailbox_id = ?1 ORDER BY uid",
                    )
                    .map_err(db)?;
                let rows = stmt.query_map([mailbox.0], summary).map_err(db)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
            })
            .await
    }

    async fn message_entries(&self, mailbox: MailboxId) -> Result<Vec<MessageEntry>> {
        self.inner
            .readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT m.uid, m.size, b.hash, m.pop3_uidl FROM messages m
                         JOIN blobs b ON b.id = m.blob_id WHERE m.mailbox_id = ?1 ORDER BY m.uid",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map([mailbox.0], |r| {
                        Ok(MessageEntry {
                            uid: r.get(0)?,
                            size: r.get::<_, i64>(1)? as u64,
                            blob: crate::rows::blob_hash(&r.get::<_, Vec<u8>>(2)?),
                            pop3_uidl: r.get(3)?,
                        })
                    })
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
            })
            .await
    }

    async fn message_meta(&self, mailbox: MailboxId, uids: &[u32]) -> Result<Vec<MessageMeta>> {
        let uids = uids.to_vec();
        let cache = self.inner.facts.clone();
        self.inner
            .readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(&format!(
                        "SELECT {META_COLUMNS} FROM messages m JOIN blobs b ON b.id = m.blob_id
                         WHERE m.mailbox_id = ?1 AND m.uid = ?2"
                    ))
                    .map_err(db)?;
                let mut out = Vec::with_capacity(uids.len());
                for uid in uids {
                    let Some((mut m, blob_id, facts)) = stmt
                        .query_row(params![mailbox.0, uid], meta)
                        .optional()
                        .map_err(db)?
                    else {
                        continue;
                    };
                    m.facts = cache.get_or_parse(blob_id, &facts)?;
                    out.push(m);
                }
                Ok(out)
            })
            .await
    }

    async fn read_blob(&self, blob: &BlobHash) -> Result<Bytes> {
        let (blobs, blob) = (self.inner.blobs.clone(), *blob);
        tokio::task::spawn_blocking(move || blobs.read(&blob).map(Bytes::from))
            .await
            .map_err(|e| StoreError::Database(format!("blob task failed: {e}")))?
            .map_err(StoreError::Io)
    }

    async fn read_blobs(&self, blobs: &[BlobHash]) -> Result<Vec<Bytes>> {
        // One trip to the blocking pool for the lot, not one per message.
        let (store, blobs) = (self.inner.blobs.clone(), blobs.to_vec());
        tokio::task::spawn_blocking(move || {
            blobs
                .iter()
                .map(|b| store.read(b).map(Bytes::from).map_err(StoreError::Io))
                .collect()
        })
        .await
        .map_err(|e| StoreError::Database(format!("blob task failed: {e}")))?
    }

    async fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        op: FlagOp,
        unchanged_since: Option<u64>,
    ) -> Result<FlagUpdate> {
        let uids = uids.to_vec();
        self.inner
            .writer
            .write(move |ctx| {
                let mb = load_mailbox(ctx.conn, mailbox)?;
                let mut update = FlagUpdate::default();
                let mut modseq = None;
                for uid in uids {
                    let current = ctx
                        .conn
                        .prepare_cached(
                            "SELECT uid, modseq, flags, keywords FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
                        )
                        .map_err(db)?
                        .query_row(params![mailbox.0, uid], summary)
                        .optional()
                        .map_err(db)?;
                    let Some(current) = current else { continue };
                    if unchanged_since.is_some_and(|since| current.modseq > since) {
                        update.modified.push(uid);
                        continue;
                    }
                    let flags = current.flags.apply(&op);
                    if flags == current.flags {
                        continue;
                    }
                    let m = match modseq {
                        Some(m) => m,
                        None => *modseq.insert(next_modseq(ctx, mailbox)?),
                    };
                    ctx.conn
                        .prepare_cached(
                            "UPDATE messages SET flags = ?3, keywords = ?4, modseq = ?5
                             WHERE mailbox_id = ?1 AND uid = ?2",
                        )
                        .map_err(db)?
                        .execute(params![mailbox.0, uid, flags.system.0, flags.keywords_text(), m as i64])
                        .map_err(db)?;
                    update.changed.push(MessageSummary { uid, modseq: m, flags });
                }
                if modseq.is_some() {
                    changed(ctx, &mb)?;
                }
                Ok(update)
            })
            .await
    }

    async fn copy_messages(
        &self,
        from: MailboxId,
        uids: &[u32],
        to: MailboxId,
    ) -> Result<Vec<CopiedUid>> {
        let uids = uids.to_vec();
        self.inner
            .writer
            .write(move |ctx| {
                let (source, target) = same_account(ctx, from, to)?;
                let mut rows = Vec::with_capacity(uids.len());
                for uid in uids {
                    let row = ctx
                        .conn
                        .prepare_cached(
                            "SELECT flags, keywords, internal_date, internal_tz, size, blob_id
                             FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
                        )
                        .map_err(db)?
                        .query_row(params![source.id.0, uid], |r| {
                            Ok((
                                Flags::from_stored(
                                    r.get(0)?,
                                    r.get::<_, Option<String>>(1)?.as_deref(),
                                ),
                                MailDate {
                                    seconds: r.get(2)?,
                                    offset_minutes: r.get(3)?,
                                },
                                r.get::<_, i64>(4)? as u64,
                                r.get::<_, i64>(5)?,
                            ))
                        })
                        .optional()
                        .map_err(db)?;
                    if let Some(row) = row {
                        rows.push((uid, row));
                    }
                }
                let total: u64 = rows.iter().map(|(_, r)| r.2).sum();
                check_quota(ctx, target.account, total, rows.len() as u64)?;
                let mut out = Vec::with_capacity(rows.len());
                for (uid, (flags, date, size, blob_id)) in rows {
                    add_blob_refs(ctx, blob_id, 1)?;
                    let appended = insert_row(
                        ctx,
                        target.id,
                        MessageRow {
                            blob_id,
                            size,
                            flags: &flags,
                            internal_date: date,
                            pop3_uidl: None,
                        },
                    )?;
                    out.push(CopiedUid {
                        source: uid,
                        target: appended.uid,
                    });
                }
                add_usage(ctx, target.account, total as i64, out.len() as i64)?;
                if !out.is_empty() {
                    changed(ctx, &target)?;
                }
                Ok(out)
            })
            .await
    }

    async fn move_messages(
        &self,
        from: MailboxId,
        uids: &[u32],
        to: MailboxId,
    ) -> Result<Vec<CopiedUid>> {
        let uids = uids.to_vec();
        self.inner
            .writer
            .write(move |ctx| {
                // Into the same mailbox is allowed (RFC 6851 makes no exception): the
                // messages get new UIDs and the old ones are expunged, in one transaction.
                let (source, target) = same_account(ctx, from, to)?;
                move_rows(ctx, &source, &uids, MessageMove::To(target.id))
            })
            .await
    }

    async fn expunge(&self, mailbox: MailboxId, uids: &[u32]) -> Result<Vec<u32>> {
        let uids = uids.to_vec();
        self.inner
            .writer
            .write(move |ctx| {
                let mb = load_mailbox(ctx.conn, mailbox)?;
                let gone = move_rows(ctx, &mb, &uids, MessageMove::ToRecovery)?;
                Ok(gone.into_iter().map(|c| c.source).collect())
            })
            .await
    }

    async fn search_text(
        &self,
        mailbox: MailboxId,
        field: TextField,
        needle: &str,
    ) -> Result<Vec<u32>> {
        let index = self.search_index()?;
        index
            .search(mailbox, field, needle, self.inner.blobs.clone())
            .await
    }

    async fn changes_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Vec<Change>> {
        self.inner
            .readers
            .read(move |conn| {
                let since = modseq as i64;
                let mut out = Vec::new();
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT uid, modseq, flags, keywords, added_modseq > ?2 FROM messages
                         WHERE mailbox_id = ?1 AND modseq > ?2",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(params![mailbox.0, since], |r| {
                        let s = summary(r)?;
                        let added: bool = r.get(4)?;
                        Ok(Change {
                            uid: s.uid,
                            modseq: s.modseq,
                            kind: if added {
                                ChangeKind::Added(s.flags)
                            } else {
                                ChangeKind::Flags(s.flags)
                            },
                        })
                    })
                    .map_err(db)?;
                for row in rows {
                    out.push(row.map_err(db)?);
                }
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT uid, modseq FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(params![mailbox.0, since], |r| {
                        Ok(Change {
                            uid: r.get(0)?,
                            modseq: r.get::<_, i64>(1)? as u64,
                            kind: ChangeKind::Expunged,
                        })
                    })
                    .map_err(db)?;
                for row in rows {
                    out.push(row.map_err(db)?);
                }
                out.sort_by_key(|c| (c.modseq, c.uid));
                Ok(out)
            })
            .await
    }

    fn subscribe_mailbox(&self, mailbox: MailboxId) -> broadcast::Receiver<MailboxEvent> {
        self.inner.bus.subscribe_mailbox(mailbox)
    }

    fn subscribe_account(&self, account: AccountId) -> broadcast::Receiver<MailboxEvent> {
        self.inner.bus.subscribe_account(account)
    }
}
