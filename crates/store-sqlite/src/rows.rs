//! Row ↔ domain type mapping, shared by the reader and writer sides.

use crate::schema::db;
use mailroom_store::facts::MessageFacts;
use mailroom_store::{
    Account, AccountId, BlobHash, DomainId, Flags, MailDate, Mailbox, MailboxId, MailboxName,
    MessageMeta, MessageSummary, Protocols, Result, SpecialUse, StoreError,
};
use rusqlite::{Connection, OptionalExtension, Row};
use std::sync::Arc;

pub const ACCOUNT_COLUMNS: &str = "id, address, domain_id, password_hash, quota_bytes, \
    quota_messages, protocols, pop3_policy, enabled, used_bytes, used_messages, created_at, \
    scram_sha256, admin";

pub fn account(row: &Row<'_>) -> rusqlite::Result<Account> {
    let policy: Option<String> = row.get(7)?;
    Ok(Account {
        id: AccountId(row.get(0)?),
        address: row.get(1)?,
        domain: DomainId(row.get(2)?),
        password_hash: row.get(3)?,
        scram_sha256: row.get(12)?,
        quota_bytes: row.get::<_, Option<i64>>(4)?.map(|v| v as u64),
        quota_messages: row.get::<_, Option<i64>>(5)?.map(|v| v as u64),
        protocols: Protocols(row.get(6)?),
        pop3_policy: policy.and_then(|p| p.parse().ok()),
        enabled: row.get(8)?,
        admin: row.get(13)?,
        used_bytes: row.get::<_, i64>(9)? as u64,
        used_messages: row.get::<_, i64>(10)? as u64,
        created_at: row.get(11)?,
    })
}

pub fn load_account(conn: &Connection, id: AccountId) -> Result<Account> {
    conn.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1"
    ))
    .map_err(db)?
    .query_row([id.0], account)
    .optional()
    .map_err(db)?
    .ok_or(StoreError::NotFound("account"))
}

pub const MAILBOX_COLUMNS: &str = "m.id, m.account_id, m.name, m.special_use, m.uid_validity, \
    m.uid_next, m.highest_modseq, \
    EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = m.account_id AND s.name = m.name)";

pub fn mailbox(row: &Row<'_>) -> rusqlite::Result<Mailbox> {
    let name: String = row.get(2)?;
    let special: Option<String> = row.get(3)?;
    Ok(Mailbox {
        id: MailboxId(row.get(0)?),
        account: AccountId(row.get(1)?),
        // As stored: a name of older rules stays reachable, and `mailroom check` reports it.
        name: MailboxName::from_stored(name),
        special_use: special.and_then(|s| s.parse::<SpecialUse>().ok()),
        uid_validity: row.get(4)?,
        uid_next: row.get(5)?,
        highest_modseq: row.get::<_, i64>(6)? as u64,
        subscribed: row.get(7)?,
    })
}

pub fn load_mailbox(conn: &Connection, id: MailboxId) -> Result<Mailbox> {
    conn.prepare_cached(&format!(
        "SELECT {MAILBOX_COLUMNS} FROM mailboxes m WHERE m.id = ?1"
    ))
    .map_err(db)?
    .query_row([id.0], mailbox)
    .optional()
    .map_err(db)?
    .ok_or(StoreError::NotFound("mailbox"))
}

pub fn find_mailbox(conn: &Connection, account: AccountId, name: &str) -> Result<Option<Mailbox>> {
    conn.prepare_cached(&format!(
        "SELECT {MAILBOX_COLUMNS} FROM mailboxes m WHERE m.account_id = ?1 AND m.name = ?2"
    ))
    .map_err(db)?
    .query_row(rusqlite::params![account.0, name], mailbox)
    .optional()
    .map_err(db)
}

pub fn summary(row: &Row<'_>) -> rusqlite::Result<MessageSummary> {
    let keywords: Option<String> = row.get(3)?;
    Ok(MessageSummary {
        uid: row.get(0)?,
        modseq: row.get::<_, i64>(1)? as u64,
        flags: Flags::from_stored(row.get(2)?, keywords.as_deref()),
    })
}

pub const META_COLUMNS: &str = "m.uid, m.modseq, m.flags, m.keywords, m.internal_date, \
    m.internal_tz, m.size, b.hash, m.saved_at, b.facts, b.id";

pub fn meta(row: &Row<'_>) -> rusqlite::Result<(MessageMeta, i64, String)> {
    let keywords: Option<String> = row.get(3)?;
    let hash: Vec<u8> = row.get(7)?;
    Ok((
        MessageMeta {
            uid: row.get(0)?,
            modseq: row.get::<_, i64>(1)? as u64,
            flags: Flags::from_stored(row.get(2)?, keywords.as_deref()),
            internal_date: MailDate {
                seconds: row.get(4)?,
                offset_minutes: row.get(5)?,
            },
            size: row.get::<_, i64>(6)? as u64,
            blob: blob_hash(&hash),
            saved_at: row.get(8)?,
            facts: Arc::new(MessageFacts::default()),
        },
        row.get(10)?,
        row.get(9)?,
    ))
}

/// Parsed facts by blob id, the least recently used dropped first. Facts never change for a
/// blob, so entries never go stale. The bound keeps a busy server's memory flat: new mail
/// arrives all the time, an entry is a few KiB, and a miss costs one JSON parse. The clients'
/// working set (the newest messages of the folders they have open) is far smaller.
pub struct FactsCache {
    entries: std::sync::Mutex<lru::LruCache<i64, Arc<MessageFacts>>>,
}

const FACTS_CACHE_ENTRIES: std::num::NonZeroUsize = std::num::NonZeroUsize::new(4096).unwrap();

impl Default for FactsCache {
    fn default() -> Self {
        FactsCache {
            entries: std::sync::Mutex::new(lru::LruCache::new(FACTS_CACHE_ENTRIES)),
        }
    }
}

impl FactsCache {
    pub fn get_or_parse(&self, blob_id: i64, json: &str) -> Result<Arc<MessageFacts>> {
        if let Some(hit) = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&blob_id)
        {
            return Ok(hit.clone());
        }
        let facts = Arc::new(facts_from_json(json)?);
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(blob_id, facts.clone());
        Ok(facts)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

pub fn blob_hash(bytes: &[u8]) -> BlobHash {
    let mut out = [0u8; 32];
    let n = bytes.len().min(32);
    out[..n].copy_from_slice(&bytes[..n]);
    BlobHash(out)
}

pub fn facts_from_json(json: &str) -> Result<MessageFacts> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("message facts: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_bounded_and_keeps_what_is_used() {
        let cache = FactsCache::default();
        let json = serde_json::to_string(&MessageFacts::default()).unwrap();
        let hot = cache.get_or_parse(0, &json).unwrap();
        for blob in 1..=(FACTS_CACHE_ENTRIES.get() as i64 * 2) {
            cache.get_or_parse(blob, &json).unwrap();
            // A message clients keep fetching is never the one dropped.
            assert!(Arc::ptr_eq(&cache.get_or_parse(0, &json).unwrap(), &hot));
        }
        assert_eq!(cache.len(), FACTS_CACHE_ENTRIES.get());
    }
}
