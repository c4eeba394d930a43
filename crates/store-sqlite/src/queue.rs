//! The outbound queue: a message row holding a reference on its blob, and one row per
//! recipient with its status, attempt count and next try.

use crate::messages::{add_blob_refs, reference_blob};
use crate::rows::blob_hash;
use crate::schema::db;
use crate::writer::WriteCtx;
use crate::{SqliteStore, not_found};
use async_trait::async_trait;
use mailroom_store::{
    AccountId, AttemptResult, DsnNotify, DsnRet, OutboundMessage, OutboundQueue, QueueId,
    QueuedMessage, QueuedRecipient, Result, StoreError,
};
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::Arc;

#[async_trait]
impl OutboundQueue for SqliteStore {
    async fn enqueue(&self, message: OutboundMessage) -> Result<QueueId> {
        if message.recipients.is_empty() {
            return Err(StoreError::invalid("queued message", "no recipients"));
        }
        let OutboundMessage {
            account,
            sender,
            recipients,
            envid,
            ret,
            content,
        } = message;
        let recipients = Arc::new(recipients);
        let sender = Arc::new(sender);
        let envid = Arc::new(envid);
        self.write_with_blobs(vec![Arc::from(content)], move |ctx, blobs, prepared| {
            let Some(p) = prepared.first() else {
                return Err(StoreError::invalid("queued message", "no content"));
            };
            let blob_id = reference_blob(ctx, blobs, p)?;
            ctx.conn
                .execute(
                    "INSERT INTO queue (account_id, sender, blob_id, size, created_at, envid, ret)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        account.map(|a| a.0),
                        sender.as_str(),
                        blob_id,
                        p.size as i64,
                        ctx.now,
                        envid.as_deref(),
                        ret.map(DsnRet::as_str)
                    ],
                )
                .map_err(db)?;
            let id = ctx.conn.last_insert_rowid();
            let mut insert = ctx
                .conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO queue_recipients
                         (queue_id, address, status, next_attempt_at, notify, orcpt)
                     VALUES (?1, ?2, 'pending', ?3, ?4, ?5)",
                )
                .map_err(db)?;
            for r in recipients.iter() {
                insert
                    .execute(params![
                        id,
                        r.address,
                        ctx.now,
                        notify_column(r.notify),
                        r.orcpt
                    ])
                    .map_err(db)?;
            }
            Ok(QueueId(id))
        })
        .await
    }

    async fn due_messages(&self, now: i64, limit: usize) -> Result<Vec<QueuedMessage>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.inner
            .readers
            .read(move |conn| {
                let ids = conn
                    .prepare_cached(
                        // Earliest due first: a batch full of messages that stay due (stuck,
                        // or leased by another node) must not starve the ones behind them.
                        "SELECT queue_id FROM queue_recipients
                         WHERE status = 'pending' AND next_attempt_at <= ?1
                         GROUP BY queue_id ORDER BY min(next_attempt_at), queue_id LIMIT ?2",
                    )
                    .map_err(db)?
                    .query_map(params![now, limit], |r| r.get::<_, i64>(0))
                    .map_err(db)?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(db)?;
                load_messages(conn, &ids)
            })
            .await
    }

    async fn queued_messages(&self) -> Result<Vec<QueuedMessage>> {
        self.inner
            .readers
            .read(|conn| {
                let ids = conn
                    .prepare_cached("SELECT id FROM queue ORDER BY id")
                    .map_err(db)?
                    .query_map([], |r| r.get::<_, i64>(0))
                    .map_err(db)?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(db)?;
                load_messages(conn, &ids)
            })
            .await
    }

    async fn queued_message(&self, id: QueueId) -> Result<Option<QueuedMessage>> {
        self.inner
            .readers
            .read(move |conn| Ok(load_messages(conn, &[id.0])?.pop()))
            .await
    }

    async fn record_attempt(&self, id: QueueId, results: Vec<AttemptResult>) -> Result<()> {
        self.inner
            .writer
            .write(move |ctx| {
                let blob_id = queued_blob(ctx.conn, id)?;
                let mut update = ctx
                    .conn
                    .prepare_cached(
                        "UPDATE queue_recipients SET status = ?3, attempts = attempts + 1,
                             next_attempt_at = ?4, last_response = ?5
                         WHERE queue_id = ?1 AND address = ?2",
                    )
                    .map_err(db)?;
                for r in &results {
                    update
                        .execute(params![
                            id.0,
                            r.address,
                            r.status.as_str(),
                            r.next_attempt_at,
                            r.response
                        ])
                        .map_err(db)?;
                }
                let pending: bool = ctx
                    .conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM queue_recipients
                             WHERE queue_id = ?1 AND status = 'pending')",
                        [id.0],
                        |r| r.get(0),
                    )
                    .map_err(db)?;
                if !pending {
                    drop_message(ctx, id, blob_id)?;
                }
                Ok(())
            })
            .await
    }

    async fn retry_now(&self, id: Option<QueueId>, now: i64) -> Result<u64> {
        self.inner
            .writer
            .write(move |ctx| {
                let touched = match id {
                    Some(id) => {
                        queued_blob(ctx.conn, id)?;
                        ctx.conn
                            .execute(
                                "UPDATE queue_recipients SET next_attempt_at = ?2
                                 WHERE queue_id = ?1 AND status = 'pending'",
                                params![id.0, now],
                            )
                            .map_err(db)?;
                        1
                    }
                    None => {
                        ctx.conn
                            .execute(
                                "UPDATE queue_recipients SET next_attempt_at = ?1
                                 WHERE status = 'pending'",
                                [now],
                            )
                            .map_err(db)?;
                        ctx.conn
                            .query_row(
                                "SELECT count(DISTINCT queue_id) FROM queue_recipients
                                 WHERE status = 'pending'",
                                [],
                                |r| r.get::<_, i64>(0),
                            )
                            .map_err(db)?
                    }
                };
                Ok(touched as u64)
            })
            .await
    }

    async fn remove_queued(&self, id: QueueId) -> Result<()> {
        self.inner
            .writer
            .write(move |ctx| {
                let blob_id = queued_blob(ctx.conn, id)?;
                drop_message(ctx, id, blob_id)
            })
            .await
    }
}

fn queued_blob(conn: &Connection, id: QueueId) -> Result<i64> {
    conn.prepare_cached("SELECT blob_id FROM queue WHERE id = ?1")
        .map_err(db)?
        .query_row([id.0], |r| r.get(0))
        .optional()
        .map_err(db)?
        .ok_or(not_found("queued message"))
}

/// Removes a message and its recipients and releases its blob (the purge job deletes the file
/// once nothing references it).
fn drop_message(ctx: &WriteCtx<'_>, id: QueueId, blob_id: i64) -> Result<()> {
    ctx.conn
        .execute("DELETE FROM queue_recipients WHERE queue_id = ?1", [id.0])
        .map_err(db)?;
    ctx.conn
        .execute("DELETE FROM queue WHERE id = ?1", [id.0])
        .map_err(db)?;
    add_blob_refs(ctx, blob_id, -1)
}

fn load_messages(conn: &Connection, ids: &[i64]) -> Result<Vec<QueuedMessage>> {
    let mut message = conn
        .prepare_cached(
            "SELECT q.account_id, q.sender, b.hash, q.size, q.created_at, q.envid, q.ret
             FROM queue q JOIN blobs b ON b.id = q.blob_id WHERE q.id = ?1",
        )
        .map_err(db)?;
    let mut recipients = conn
        .prepare_cached(
            "SELECT address, status, attempts, next_attempt_at, last_response, notify, orcpt
             FROM queue_recipients WHERE queue_id = ?1 ORDER BY address",
        )
        .map_err(db)?;
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        let row = message
            .query_row([id], |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .optional()
            .map_err(db)?;
        let Some((account, sender, hash, size, created_at, envid, ret)) = row else {
            continue;
        };
        let rows = recipients
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(db)?;
        let mut list = Vec::new();
        for row in rows {
            let (address, status, attempts, next_attempt_at, last_response, notify, orcpt) =
                row.map_err(db)?;
            list.push(QueuedRecipient {
                address,
                status: status.parse()?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                next_attempt_at,
                last_response,
                notify: notify_from_column(notify)?,
                orcpt,
            });
        }
        out.push(QueuedMessage {
            id: QueueId(id),
            account: account.map(AccountId),
            sender,
            blob: blob_hash(&hash),
            size: size as u64,
            created_at,
            envid,
            ret: ret.as_deref().map(ret_from_column).transpose()?,
            recipients: list,
        });
    }
    Ok(out)
}

/// Bits of `queue_recipients.notify` (migration 6); NULL is "not given", 0 is NEVER.
const NOTIFY_SUCCESS: i64 = 1;
const NOTIFY_FAILURE: i64 = 2;
const NOTIFY_DELAY: i64 = 4;

fn notify_column(notify: DsnNotify) -> Option<i64> {
    match notify {
        DsnNotify::Unspecified => None,
        DsnNotify::Never => Some(0),
        DsnNotify::On {
            success,
            failure,
            delay,
        } => Some(
            [
                (success, NOTIFY_SUCCESS),
                (failure, NOTIFY_FAILURE),
                (delay, NOTIFY_DELAY),
            ]
            .into_iter()
            .filter_map(|(on, bit)| on.then_some(bit))
            .sum(),
        ),
    }
}

fn notify_from_column(value: Option<i64>) -> Result<DsnNotify> {
    match value {
        None => Ok(DsnNotify::Unspecified),
        Some(0) => Ok(DsnNotify::Never),
        Some(bits) if bits & !(NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY) == 0 => {
            Ok(DsnNotify::On {
                success: bits & NOTIFY_SUCCESS != 0,
                failure: bits & NOTIFY_FAILURE != 0,
                delay: bits & NOTIFY_DELAY != 0,
            })
        }
        Some(bits) => Err(StoreError::invalid(
            "queued recipient NOTIFY",
            bits.to_string(),
        )),
    }
}

fn ret_from_column(value: &str) -> Result<DsnRet> {
    match value {
        "FULL" => Ok(DsnRet::Full),
        "HDRS" => Ok(DsnRet::Hdrs),
        other => Err(StoreError::invalid("queued message RET", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_store::{ManualClock, OutboundRecipient, RecipientStatus};

    fn message(to: &str) -> OutboundMessage {
        OutboundMessage {
            account: None,
            sender: "a@here.test".into(),
            recipients: vec![OutboundRecipient::new(to)],
            envid: None,
            ret: None,
            content: b"Subject: x\r\n\r\nx\r\n".to_vec(),
        }
    }

    #[test]
    fn notify_columns_round_trip() {
        let flags = [false, true];
        let mut all = vec![DsnNotify::Unspecified, DsnNotify::Never];
        for success in flags {
            for failure in flags {
                for delay in flags {
                    if success || failure || delay {
                        all.push(DsnNotify::On {
                            success,
                            failure,
                            delay,
                        });
                    }
                }
            }
        }
        for notify in all {
            let column = notify_column(notify);
            assert_eq!(notify_from_column(column).unwrap(), notify, "{column:?}");
        }
        assert!(notify_from_column(Some(8)).is_err());
        assert!(ret_from_column("BODY").is_err());
    }

    #[tokio::test]
    async fn earliest_due_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(1_000));
        let store = SqliteStore::open_with_clock(dir.path(), clock.clone()).unwrap();
        let first = store.enqueue(message("b@there.test")).await.unwrap();
        clock.advance(10);
        let second = store.enqueue(message("c@there.test")).await.unwrap();
        // The older message is rescheduled after the younger one's due time.
        store
            .record_attempt(
                first,
                vec![AttemptResult {
                    address: "b@there.test".into(),
                    status: RecipientStatus::Pending,
                    next_attempt_at: 1_020,
                    response: None,
                }],
            )
            .await
            .unwrap();
        let due = store.due_messages(1_100, 1).await.unwrap();
        assert_eq!(due.iter().map(|m| m.id).collect::<Vec<_>>(), vec![second]);
        let due = store.due_messages(1_100, 10).await.unwrap();
        assert_eq!(
            due.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![second, first]
        );
    }
}
