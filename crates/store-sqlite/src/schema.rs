//! The SQLite schema and its migrations, keyed by `PRAGMA user_version`.

use mailroom_store::{Result, StoreError};
use rusqlite::Connection;

/// Each entry upgrades the schema by one version; never edit a shipped entry, append a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE domains (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at  INTEGER NOT NULL
);
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    address         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    domain_id       INTEGER NOT NULL REFERENCES domains(id),
    password_hash   TEXT NOT NULL,
    quota_bytes     INTEGER,
    quota_messages  INTEGER,
    protocols       INTEGER NOT NULL,
    pop3_policy     TEXT,
    enabled         INTEGER NOT NULL DEFAULT 1,
    used_bytes      INTEGER NOT NULL DEFAULT 0,
    used_messages   INTEGER NOT NULL DEFAULT 0,
    -- The last UIDVALIDITY handed out in this account, so a re-created mailbox never repeats one.
    last_uid_validity INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE TABLE aliases (
    address     TEXT PRIMARY KEY COLLATE NOCASE,
    account_id  INTEGER NOT NULL REFERENCES accounts(id)
);
CREATE TABLE mailboxes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    name            TEXT NOT NULL,
    special_use     TEXT,
    uid_validity    INTEGER NOT NULL,
    uid_next        INTEGER NOT NULL DEFAULT 1,
    highest_modseq  INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    UNIQUE (account_id, name)
);
CREATE TABLE subscriptions (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
-- One row per distinct message content; `refs` counts the messages and recovery entries
-- that point at it. The bytes live in a blob file named by `hash`.
-- AUTOINCREMENT: ids only grow, so the search indexer can follow them with a watermark.
CREATE TABLE blobs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    hash                BLOB NOT NULL UNIQUE,
    size                INTEGER NOT NULL,
    refs                INTEGER NOT NULL,
    unreferenced_since  INTEGER,
    facts               TEXT NOT NULL
);
CREATE INDEX blobs_unreferenced ON blobs(unreferenced_since) WHERE refs = 0;
-- Clustered by (mailbox, UID): listing a mailbox or a UID range is one sequential scan.
CREATE TABLE messages (
    mailbox_id      INTEGER NOT NULL REFERENCES mailboxes(id),
    uid             INTEGER NOT NULL,
    modseq          INTEGER NOT NULL,
    added_modseq    INTEGER NOT NULL,
    flags           INTEGER NOT NULL,
    keywords        TEXT,
    internal_date   INTEGER NOT NULL,
    internal_tz     INTEGER NOT NULL,
    saved_at        INTEGER NOT NULL,
    size            INTEGER NOT NULL,
    blob_id         INTEGER NOT NULL REFERENCES blobs(id),
    pop3_uidl       TEXT,
    PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
CREATE INDEX messages_blob ON messages(blob_id);
-- Expunged UIDs with the MODSEQ of their expunge: the other half of the change log
-- (the first half is messages.modseq), for QRESYNC VANISHED and catching-up sessions.
CREATE TABLE expunged (
    mailbox_id  INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    modseq      INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);
CREATE TABLE recovery (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    mailbox_id      INTEGER NOT NULL,
    mailbox_name    TEXT NOT NULL,
    uid             INTEGER NOT NULL,
    flags           INTEGER NOT NULL,
    keywords        TEXT,
    internal_date   INTEGER NOT NULL,
    internal_tz     INTEGER NOT NULL,
    size            INTEGER NOT NULL,
    blob_id         INTEGER NOT NULL REFERENCES blobs(id),
    pop3_uidl       TEXT,
    deleted_at      INTEGER NOT NULL
);
CREATE INDEX recovery_account ON recovery(account_id, deleted_at);
CREATE INDEX recovery_deleted ON recovery(deleted_at);
-- Change events for sessions in other processes or nodes (the CLI delivering while the
-- server runs); pruned after a short while.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    origin      INTEGER NOT NULL,
    account_id  INTEGER NOT NULL,
    mailbox_id  INTEGER,
    modseq      INTEGER,
    kind        INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
"#,
    r#"
-- Named expiring locks (the POP3 maildrop lock), shared by every process and node.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    r#"
-- The highest quota warning level (80, 95) an account has been sent since its usage was last
-- below it, and the warnings waiting to be delivered.
ALTER TABLE accounts ADD COLUMN quota_warned INTEGER NOT NULL DEFAULT 0;
CREATE TABLE quota_warnings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    level       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
"#,
    r#"
-- Per-domain defaults: the quota new accounts get, and how long deleted mail is kept.
ALTER TABLE domains ADD COLUMN default_quota_bytes INTEGER;
ALTER TABLE domains ADD COLUMN default_quota_messages INTEGER;
ALTER TABLE domains ADD COLUMN recovery_days INTEGER;
"#,
    r#"
-- DKIM signing keys per domain, SCRAM keys beside the argon2 hash, and app passwords.
ALTER TABLE domains ADD COLUMN dkim_selector TEXT;
ALTER TABLE domains ADD COLUMN dkim_private_key TEXT;
ALTER TABLE accounts ADD COLUMN scram_sha256 TEXT;
CREATE TABLE app_passwords (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL COLLATE NOCASE,
    secret_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
-- The outbound queue: a message (its content is a blob, counted in blobs.refs) and the state of
-- each of its recipients. A message leaves when no recipient is pending.
CREATE TABLE queue (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER,
    sender      TEXT NOT NULL,
    blob_id     INTEGER NOT NULL REFERENCES blobs(id),
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TABLE queue_recipients (
    queue_id        INTEGER NOT NULL REFERENCES queue(id),
    address         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_response   TEXT,
    PRIMARY KEY (queue_id, address)
) WITHOUT ROWID;
CREATE INDEX queue_due ON queue_recipients(next_attempt_at) WHERE status = 'pending';
"#,
    r#"
-- The DSN parameters (RFC 3461) a queued message carries onward. NULL is "not given", so rows
-- queued before this version read as they were sent: no ENVID, no RET, default NOTIFY.
-- queue.ret: 'FULL' or 'HDRS'. queue_recipients.notify: 0 for NEVER, else bits 1 SUCCESS,
-- 2 FAILURE, 4 DELAY. queue_recipients.orcpt: the parameter as received, addr-type;xtext.
ALTER TABLE queue ADD COLUMN envid TEXT DEFAULT NULL;
ALTER TABLE queue ADD COLUMN ret TEXT DEFAULT NULL;
ALTER TABLE queue_recipients ADD COLUMN notify INTEGER DEFAULT NULL;
ALTER TABLE queue_recipients ADD COLUMN orcpt TEXT DEFAULT NULL;
"#,
    r#"
-- IMAP4rev1 \Recent (RFC 3501 §2.3.2): the highest UID some session has already been told of;
-- messages above it are recent to the next session that selects the mailbox. Existing mailboxes
-- start with nothing recent.
ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET recent_uid = uid_next - 1;
"#,
    r#"
-- Login lockouts (mailroom-auth's throttle), so a restart does not lift them: key is what is
-- locked (an address or an account name's digest, as the authenticator encodes it), until
-- is Unix time, detail what the authenticator restores with it.
CREATE TABLE login_lockouts (
    key    BLOB PRIMARY KEY,
    until  INTEGER NOT NULL,
    detail BLOB NOT NULL
) WITHOUT ROWID;
"#,
    r#"
-- The web side: administrators sign in to /admin; API bearer tokens, stored as a hash of
-- their secret, either the administrators' (account_id NULL) or one account's own.
ALTER TABLE accounts ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
CREATE TABLE api_tokens (
    name        TEXT PRIMARY KEY COLLATE NOCASE,
    secret_hash TEXT NOT NULL UNIQUE,
    account_id  INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL
);
"#,
];

pub fn migrate(conn: &mut Connection) -> Result<()> {
    // IMMEDIATE takes the write lock up front, so two processes opening a new store at once
    // wait for each other instead of failing on a lock upgrade.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db)?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the store has schema version {version}, newer than this program knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql).map_err(db)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(db)?;
    }
    tx.commit().map_err(db)
}

pub fn db(e: rusqlite::Error) -> StoreError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        return StoreError::StorageFull;
    }
    StoreError::Database(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue row written before migration 6 reads as "no DSN parameters given".
    #[test]
    fn old_queue_rows_have_no_dsn_parameters() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..5] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 5).unwrap();
        conn.execute_batch(
            "INSERT INTO blobs (hash, size, refs, facts) VALUES (x'00', 1, 1, '{}');
             INSERT INTO queue (account_id, sender, blob_id, size, created_at)
                 VALUES (NULL, 'a@here.test', 1, 1, 0);
             INSERT INTO queue_recipients (queue_id, address, status, next_attempt_at)
                 VALUES (1, 'b@there.test', 'pending', 0);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let row: (Option<String>, Option<String>, Option<i64>, Option<String>) = conn
            .query_row(
                "SELECT q.envid, q.ret, r.notify, r.orcpt
                 FROM queue q JOIN queue_recipients r ON r.queue_id = q.id",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(row, (None, None, None, None));
    }
}
