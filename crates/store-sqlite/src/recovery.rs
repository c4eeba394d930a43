//! The recovery area: deleted mail kept for the retention period, listable and restorable.

use crate::mailboxes::ensure_mailbox_tx;
use crate::messages::{MessageRow, add_usage, insert_row};
use crate::rows::{facts_from_json, load_mailbox};
use crate::schema::db;
use crate::{SqliteStore, maintenance};
use async_trait::async_trait;
use mailroom_store::facts::EnvelopeAddress;
use mailroom_store::{
    AccountId, Flags, MailDate, MailboxEvent, MailboxId, MailboxName, MessageMeta, PurgeReport,
    RecoverableMessage, Recovery, RecoveryFilter, RecoveryId, Restored, Result,
};
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl Recovery for SqliteStore {
    async fn list_recoverable(
        &self,
        account: AccountId,
        filter: RecoveryFilter,
    ) -> Result<Vec<RecoverableMessage>> {
        self.inner
            .readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT r.id, r.mailbox_id, r.mailbox_name, r.flags, r.keywords, r.internal_date,
                                r.internal_tz, r.deleted_at, r.size, b.facts
                         FROM recovery r JOIN blobs b ON b.id = r.blob_id
                         WHERE r.account_id = ?1 AND r.deleted_at >= ?2
                           AND (?3 IS NULL OR r.mailbox_name = ?3)
                         ORDER BY r.deleted_at, r.id",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(
                        params![account.0, filter.deleted_since.unwrap_or(i64::MIN), filter.mailbox_name],
                        |r| {
                            Ok((
                                RecoverableMessage {
                                    id: RecoveryId(r.get(0)?),
                                    mailbox: MailboxId(r.get(1)?),
                                    mailbox_name: r.get(2)?,
                                    flags: Flags::from_stored(r.get(3)?, r.get::<_, Option<String>>(4)?.as_deref()),
                                    internal_date: MailDate {
                                        seconds: r.get(5)?,
                                        offset_minutes: r.get(6)?,
                                    },
                                    deleted_at: r.get(7)?,
                                    size: r.get::<_, i64>(8)? as u64,
                                    from: None,
                                    subject: None,
                                },
                                r.get::<_, String>(9)?,
                            ))
                        },
                    )
                    .map_err(db)?;
                let mut out = Vec::new();
                for row in rows {
                    let (mut m, facts) = row.map_err(db)?;
                    if let Ok(facts) = facts_from_json(&facts) {
                        m.subject = facts.subject.clone();
                        m.from = facts.envelope.from.iter().find_map(display_address);
                    }
                    out.push(m);
                }
                Ok(out)
            })
            .await
    }

    async fn restore(&self, account: AccountId, ids: &[RecoveryId]) -> Result<Vec<Restored>> {
        self.restore_to(account, ids, None).await
    }

    async fn restore_into(
        &self,
        account: AccountId,
        ids: &[RecoveryId],
        target: MailboxId,
    ) -> Result<Vec<Restored>> {
        self.restore_to(account, ids, Some(target)).await
    }

    async fn recoverable_meta(
        &self,
        account: AccountId,
        ids: &[RecoveryId],
    ) -> Result<Vec<MessageMeta>> {
        let ids = ids.to_vec();
        let cache = self.inner.facts.clone();
        self.inner
            .readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT r.id, r.flags, r.keywords, r.internal_date, r.internal_tz, r.size, b.hash,
                                r.deleted_at, b.facts, b.id
                         FROM recovery r JOIN blobs b ON b.id = r.blob_id
                         WHERE r.id = ?1 AND r.account_id = ?2",
                    )
                    .map_err(db)?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let row = stmt
                        .query_row(params![id.0, account.0], |r| {
                            Ok((
                                MessageMeta {
                                    uid: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(u32::MAX),
                                    modseq: 1,
                                    flags: Flags::from_stored(r.get(1)?, r.get::<_, Option<String>>(2)?.as_deref()),
                                    internal_date: MailDate {
                                        seconds: r.get(3)?,
                                        offset_minutes: r.get(4)?,
                                    },
                                    size: r.get::<_, i64>(5)? as u64,
                                    blob: crate::rows::blob_hash(&r.get::<_, Vec<u8>>(6)?),
                                    saved_at: r.get(7)?,
                                    facts: Default::default(),
                                },
                                r.get::<_, String>(8)?,
                                r.get::<_, i64>(9)?,
                            ))
                        })
                        .optional()
                        .map_err(db)?;
                    if let Some((mut meta, facts, blob_id)) = row {
                        meta.facts = cache.get_or_parse(blob_id, &facts)?;
                        out.push(meta);
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn purge_recovery(&self, deleted_before: i64) -> Result<PurgeReport> {
        let blobs = self.inner.blobs.clone();
        self.inner
            .writer
            .write(move |ctx| {
                let mut report = PurgeReport::default();
                let expired = {
                    let mut stmt = ctx
                        .conn
                        .prepare_cached(
                            "SELECT r.id, r.blob_id FROM recovery r
                             JOIN accounts a ON a.id = r.account_id JOIN domains d ON d.id = a.domain_id
                             WHERE r.deleted_at < CASE WHEN d.recovery_days IS NULL THEN ?1
                                                       ELSE ?2 - d.recovery_days * 86400 END",
                        )
                        .map_err(db)?;
                    stmt.query_map(params![deleted_before, ctx.now], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                    })
                    .map_err(db)?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(db)?
                };
                for (id, blob_id) in expired {
                    ctx.conn
                        .execute("DELETE FROM recovery WHERE id = ?1", [id])
                        .map_err(db)?;
                    crate::messages::add_blob_refs(ctx, blob_id, -1)?;
                    report.messages += 1;
                }
                let (n, bytes) = maintenance::collect_blobs(ctx, &blobs)?;
                report.blobs = n;
                report.bytes = bytes;
                Ok(report)
            })
            .await
    }
}

impl SqliteStore {
    async fn restore_to(
        &self,
        account: AccountId,
        ids: &[RecoveryId],
        chosen: Option<MailboxId>,
    ) -> Result<Vec<Restored>> {
        let ids = ids.to_vec();
        self.inner
            .writer
            .write(move |ctx| {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let row = ctx
                        .conn
                        .prepare_cached(
                            "SELECT mailbox_id, mailbox_name, flags, keywords, internal_date, internal_tz,
                                    size, blob_id, pop3_uidl
                             FROM recovery WHERE id = ?1 AND account_id = ?2",
                        )
                        .map_err(db)?
                        .query_row(params![id.0, account.0], |r| {
                            Ok((
                                MailboxId(r.get(0)?),
                                r.get::<_, String>(1)?,
                                Flags::from_stored(r.get(2)?, r.get::<_, Option<String>>(3)?.as_deref()),
                                MailDate {
                                    seconds: r.get(4)?,
                                    offset_minutes: r.get(5)?,
                                },
                                r.get::<_, i64>(6)? as u64,
                                r.get::<_, i64>(7)?,
                                r.get::<_, Option<String>>(8)?,
                            ))
                        })
                        .optional()
                        .map_err(db)?;
                    // Another account's id is skipped like a missing one.
                    let Some((mailbox_id, name, mut flags, date, size, blob_id, uidl)) = row else {
                        continue;
                    };
                    // \Deleted is what took it away: kept, the next EXPUNGE would take it again.
                    flags.system = flags.system.difference(mailroom_store::SystemFlags::DELETED);
                    // Into the folder the user chose; else back into the same folder if it
                    // still exists (even renamed), else into a folder of the old name,
                    // recreated if needed.
                    let target = match (chosen, load_mailbox(ctx.conn, mailbox_id)) {
                        (Some(chosen), _) => match load_mailbox(ctx.conn, chosen) {
                            Ok(mb) if mb.account == account => mb,
                            _ => return Err(mailroom_store::StoreError::NotFound("mailbox")),
                        },
                        (None, Ok(mb)) if mb.account == account => mb,
                        _ => ensure_mailbox_tx(ctx, account, &MailboxName::repaired(&name))?,
                    };
                    let appended = insert_row(
                        ctx,
                        target.id,
                        MessageRow {
                            blob_id,
                            size,
                            flags: &flags,
                            internal_date: date,
                            pop3_uidl: uidl,
                        },
                    )?;
                    ctx.conn.execute("DELETE FROM recovery WHERE id = ?1", [id.0]).map_err(db)?;
                    add_usage(ctx, account, size as i64, 1)?;
                    ctx.events.push(MailboxEvent::Changed {
                        account,
                        mailbox: target.id,
                        modseq: appended.modseq,
                    });
                    out.push(Restored {
                        id,
                        mailbox: target.id,
                        mailbox_name: target.name.to_string(),
                        uid: appended.uid,
                    });
                }
                Ok(out)
            })
            .await
    }
}

fn display_address(a: &EnvelopeAddress) -> Option<String> {
    match a {
        EnvelopeAddress::Mailbox {
            name,
            mailbox,
            host,
            ..
        } => {
            let addr = match (mailbox, host) {
                (Some(m), Some(h)) => format!("{m}@{h}"),
                (Some(m), None) => m.clone(),
                _ => String::new(),
            };
            Some(match name {
                Some(n) if !addr.is_empty() => format!("{n} <{addr}>"),
                Some(n) => n.clone(),
                None => addr,
            })
        }
        _ => None,
    }
}
