//! Integrity checks and blob garbage collection.

use crate::SqliteStore;
use crate::blobs::BlobDir;
use crate::messages::{MessageMove, move_rows};
use crate::rows::blob_hash;
use crate::rows::load_account;
use crate::schema::db;
use crate::writer::WriteCtx;
use async_trait::async_trait;
use mailroom_store::{
    AccountId, BlobHash, MailboxId, Maintenance, QuotaWarning, Result, SpecialUse, StrayFiles,
};
use rusqlite::OptionalExtension;
use std::time::Duration;

/// Stray message files checked and removed per writer transaction, so a large clean-up never
/// holds deliveries back for long.
const STRAY_BATCH: usize = 500;

/// A blob nothing references is kept this long before its file is removed, so a delivery of
/// the same content that wrote (or found) the file just before can still reference it.
pub const GC_GRACE_SECONDS: i64 = 3600;

/// Removes blobs that have been unreferenced for longer than the grace period: the row and the
/// file (the search indexer drops their full-text entries on its next clean-up). Runs in the
/// writer, so no delivery interleaves; a delivery that found the file earlier notices it is
/// gone and writes it again.
pub(crate) fn collect_blobs(ctx: &WriteCtx<'_>, blobs: &BlobDir) -> Result<(u64, u64)> {
    let doomed = {
        let mut stmt = ctx
            .conn
            .prepare_cached(
                "SELECT id, hash, size FROM blobs WHERE refs <= 0 AND unreferenced_since <= ?1",
            )
            .map_err(db)?;
        stmt.query_map([ctx.now - GC_GRACE_SECONDS], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)?
    };
    let (mut count, mut bytes) = (0, 0);
    for (id, hash, size) in doomed {
        ctx.conn
            .execute("DELETE FROM blobs WHERE id = ?1", [id])
            .map_err(db)?;
        blobs.remove(&blob_hash(&hash))?;
        count += 1;
        bytes += size as u64;
    }
    Ok((count, bytes))
}

#[async_trait]
impl Maintenance for SqliteStore {
    async fn pending_quota_warnings(&self) -> Result<Vec<QuotaWarning>> {
        self.inner
            .readers
            .read(|conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT w.id, a.id, a.address, w.level, a.used_bytes, a.quota_bytes,
                                a.used_messages, a.quota_messages
                         FROM quota_warnings w JOIN accounts a ON a.id = w.account_id ORDER BY w.id",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok(QuotaWarning {
                            id: r.get(0)?,
                            account: AccountId(r.get(1)?),
                            address: r.get(2)?,
                            level: r.get(3)?,
                            used_bytes: r.get::<_, i64>(4)? as u64,
                            quota_bytes: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
                            used_messages: r.get::<_, i64>(6)? as u64,
                            quota_messages: r.get::<_, Option<i64>>(7)?.map(|v| v as u64),
                        })
                    })
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
            })
            .await
    }

    async fn quota_warning_sent(&self, id: i64) -> Result<()> {
        self.inner
            .writer
            .write(move |ctx| {
                ctx.conn
                    .execute("DELETE FROM quota_warnings WHERE id = ?1", [id])
                    .map_err(db)?;
                Ok(())
            })
            .await
    }

    async fn expire_special_use(&self, special_use: SpecialUse, saved_before: i64) -> Result<u64> {
        self.inner
            .writer
            .write(move |ctx| {
                let mailboxes: Vec<i64> = {
                    let mut stmt = ctx
                        .conn
                        .prepare_cached("SELECT id FROM mailboxes WHERE special_use = ?1")
                        .map_err(db)?;
                    stmt.query_map([special_use.attribute()], |r| r.get(0))
                        .map_err(db)?
                        .collect::<rusqlite::Result<_>>()
                        .map_err(db)?
                };
                let mut expired = 0;
                for id in mailboxes {
                    let uids: Vec<u32> = {
                        let mut stmt = ctx
                            .conn
                            .prepare_cached(
                                "SELECT uid FROM messages WHERE mailbox_id = ?1 AND saved_at < ?2 ORDER BY uid",
                            )
                            .map_err(db)?;
                        stmt.query_map(rusqlite::params![id, saved_before], |r| r.get(0))
                            .map_err(db)?
                            .collect::<rusqlite::Result<_>>()
                            .map_err(db)?
                    };
                    if uids.is_empty() {
                        continue;
                    }
                    let mailbox = crate::rows::load_mailbox(ctx.conn, MailboxId(id))?;
                    expired += move_rows(ctx, &mailbox, &uids, MessageMove::ToRecovery)?.len() as u64;
                }
                Ok(expired)
            })
            .await
    }

    async fn stray_files(&self, min_age: Duration, remove: bool) -> Result<StrayFiles> {
        let blobs = self.inner.blobs.clone();
        let inventory = tokio::task::spawn_blocking(move || blobs.inventory())
            .await
            .map_err(|e| mailroom_store::StoreError::Database(format!("inventory: {e}")))??;
        let mut report = StrayFiles::default();
        for (path, size, age) in inventory.temporary {
            if age < min_age {
                continue;
            }
            report.temporary += 1;
            report.temporary_bytes += size;
            if remove {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                    _ => {}
                }
            }
        }
        let old: Vec<(BlobHash, u64)> = inventory
            .blobs
            .into_iter()
            .filter(|(_, _, age)| *age >= min_age)
            .map(|(hash, size, _)| (hash, size))
            .collect();
        for batch in old.chunks(STRAY_BATCH) {
            let batch = batch.to_vec();
            let blobs = self.inner.blobs.clone();
            // In the writer: no delivery can reference one of these files between the check
            // and the removal, and one that found the file earlier sees it gone at its commit
            // and writes it again.
            let (count, bytes) = self
                .inner
                .writer
                .write(move |ctx| {
                    let (mut count, mut bytes) = (0, 0);
                    for (hash, size) in batch {
                        let known = ctx
                            .conn
                            .prepare_cached("SELECT 1 FROM blobs WHERE hash = ?1")
                            .map_err(db)?
                            .query_row([&hash.0[..]], |_| Ok(()))
                            .optional()
                            .map_err(db)?
                            .is_some();
                        if known {
                            continue;
                        }
                        count += 1;
                        bytes += size;
                        if remove {
                            blobs.remove(&hash)?;
                        }
                    }
                    Ok((count, bytes))
                })
                .await?;
            report.orphans += count;
            report.orphan_bytes += bytes;
        }
        Ok(report)
    }

    async fn recalculate_usage(&self, account: AccountId) -> Result<((u64, u64), (u64, u64))> {
        self.inner
            .writer
            .write(move |ctx| {
                let before = load_account(ctx.conn, account)?;
                let (bytes, count): (i64, i64) = ctx
                    .conn
                    .query_row(
                        "SELECT coalesce(sum(m.size), 0), count(*) FROM messages m
                         JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE mb.account_id = ?1",
                        [account.0],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .map_err(db)?;
                ctx.conn
                    .execute(
                        "UPDATE accounts SET used_bytes = ?2, used_messages = ?3 WHERE id = ?1",
                        rusqlite::params![account.0, bytes, count],
                    )
                    .map_err(db)?;
                Ok((
                    (before.used_bytes, before.used_messages),
                    (bytes as u64, count as u64),
                ))
            })
            .await
    }

    async fn check_integrity(&self) -> Result<Vec<String>> {
        let blobs = self.inner.blobs.clone();
        self.inner
            .readers
            .read(move |conn| {
                let mut problems = Vec::new();
                let verdict: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(db)?;
                if verdict != "ok" {
                    problems.push(format!("database: {verdict}"));
                }
                let mut query = |sql: &str, what: &str| -> Result<()> {
                    let mut stmt = conn.prepare(sql).map_err(db)?;
                    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
                    for row in rows {
                        problems.push(format!("{what}: {}", row.map_err(db)?));
                    }
                    Ok(())
                };
                query(
                    "SELECT a.address || ' records ' || a.used_bytes || ' bytes/' || a.used_messages
                        || ' messages, has ' || coalesce(s.b, 0) || '/' || coalesce(s.n, 0)
                     FROM accounts a LEFT JOIN (
                        SELECT mb.account_id AS id, sum(m.size) AS b, count(*) AS n
                        FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id GROUP BY mb.account_id
                     ) s ON s.id = a.id
                     WHERE a.used_bytes != coalesce(s.b, 0) OR a.used_messages != coalesce(s.n, 0)",
                    "usage mismatch",
                )?;
                query(
                    "SELECT hex(b.hash) || ' refs ' || b.refs || ' but referenced ' || (
                        (SELECT count(*) FROM messages m WHERE m.blob_id = b.id) +
                        (SELECT count(*) FROM recovery r WHERE r.blob_id = b.id) +
                        (SELECT count(*) FROM queue q WHERE q.blob_id = b.id))
                     FROM blobs b WHERE b.refs != (SELECT count(*) FROM messages m WHERE m.blob_id = b.id)
                        + (SELECT count(*) FROM recovery r WHERE r.blob_id = b.id)
                        + (SELECT count(*) FROM queue q WHERE q.blob_id = b.id)",
                    "reference count",
                )?;
                query(
                    "SELECT mailbox_id || '/' || uid || ' is at or above uid_next' FROM messages m
                     WHERE uid >= (SELECT uid_next FROM mailboxes WHERE id = m.mailbox_id)",
                    "uid",
                )?;
                let mut stmt = conn.prepare("SELECT hash, size FROM blobs WHERE refs > 0").map_err(db)?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))
                    .map_err(db)?;
                for row in rows {
                    let (hash, size) = row.map_err(db)?;
                    let hash = blob_hash(&hash);
                    match std::fs::metadata(blobs.path(&hash)) {
                        Ok(m) if m.len() == size as u64 => {}
                        Ok(m) => problems.push(format!("blob {hash}: {} bytes, expected {size}", m.len())),
                        Err(e) => problems.push(format!("blob {hash}: {e}")),
                    }
                }
                Ok(problems)
            })
            .await
    }
}
