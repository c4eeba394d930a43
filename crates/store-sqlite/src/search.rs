//! The full-text index: SQLite FTS5 with the trigram tokenizer (substring matches, as IMAP
//! SEARCH wants them) in its own database file, `search.db`, filled by its own thread.
//!
//! Indexing a message's text costs several times what storing the message costs, so it is kept
//! off the delivery path: deliveries commit to `mail.db` and return, and the indexer follows
//! the ever-growing blob ids with a watermark, on the other core. A search first waits until
//! the indexer has reached the newest message of the mailbox, so results are always complete.
//! The index holds nothing that can't be rebuilt from the blobs, so it is written without
//! fsync; after a crash the watermark is simply a little behind.

use crate::blobs::BlobDir;
use crate::readers::Readers;
use crate::rows::blob_hash;
use crate::schema::db;
use mailroom_store::facts::search_text;
use mailroom_store::{MailboxId, Result, StoreError, TextField};
use rusqlite::{Connection, params};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const BATCH: usize = 64;
const IDLE_POLL: Duration = Duration::from_secs(2);
const CLEANUP_EVERY: Duration = Duration::from_secs(600);
/// Trigrams need three characters; shorter needles are answered by reading the messages.
const MIN_INDEXED_CHARS: usize = 3;

const SCHEMA: &str = "
CREATE VIRTUAL TABLE IF NOT EXISTS blob_text USING fts5(
    headers, body, tokenize = 'trigram', content = '', contentless_delete = 1
);
CREATE TABLE IF NOT EXISTS progress (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto  INTEGER NOT NULL
);
INSERT OR IGNORE INTO progress (id, indexed_upto) VALUES (1, 0);
";

pub struct SearchIndex {
    wake: mpsc::Sender<()>,
    progress: watch::Receiver<i64>,
    readers: Readers,
}

impl SearchIndex {
    /// Opens `search.db` beside `mail.db` and starts the indexer thread.
    pub fn start(dir: &Path, blobs: Arc<BlobDir>) -> Result<Self> {
        let path = dir.join("search.db");
        let main = dir.join(crate::DATABASE_FILE);
        let conn = Connection::open(&path).map_err(db)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(db)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;")
            .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        conn.execute("ATTACH DATABASE ?1 AS meta", [main.to_string_lossy()])
            .map_err(db)?;
        let upto: i64 = conn
            .query_row("SELECT indexed_upto FROM progress", [], |r| r.get(0))
            .map_err(db)?;
        let (progress_tx, progress) = watch::channel(upto);
        let (wake, woken) = mpsc::channel();
        std::thread::Builder::new()
            .name("search-indexer".into())
            .spawn(move || {
                Indexer {
                    conn,
                    blobs,
                    upto,
                    progress: progress_tx,
                }
                .run(&woken)
            })
            .map_err(StoreError::Io)?;
        Ok(SearchIndex {
            wake,
            progress,
            readers: Readers::with_attached(path, main, "meta"),
        })
    }

    /// Tells the indexer new blobs may be waiting.
    pub fn nudge(&self) {
        let _ = self.wake.send(());
    }

    /// UIDs in `mailbox` whose `field` contains `needle`.
    pub async fn search(
        &self,
        mailbox: MailboxId,
        field: TextField,
        needle: &str,
        blobs: Arc<BlobDir>,
    ) -> Result<Vec<u32>> {
        if needle.chars().count() < MIN_INDEXED_CHARS {
            return self.scan(mailbox, field, needle, blobs).await;
        }
        self.catch_up(mailbox).await?;
        let query = fts_query(field, needle);
        self.readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT uid FROM meta.messages WHERE mailbox_id = ?1 AND blob_id IN
                            (SELECT rowid FROM blob_text WHERE blob_text MATCH ?2)
                         ORDER BY uid",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(params![mailbox.0, query], |r| r.get(0))
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<Vec<u32>>>().map_err(db)
            })
            .await
    }

    /// Waits until every message now in the mailbox is indexed.
    async fn catch_up(&self, mailbox: MailboxId) -> Result<()> {
        let newest: i64 = self
            .readers
            .read(move |conn| {
                conn.query_row(
                    "SELECT coalesce(max(blob_id), 0) FROM meta.messages WHERE mailbox_id = ?1",
                    [mailbox.0],
                    |r| r.get(0),
                )
                .map_err(db)
            })
            .await?;
        if *self.progress.borrow() >= newest {
            return Ok(());
        }
        self.nudge();
        let mut progress = self.progress.clone();
        progress
            .wait_for(|&upto| upto >= newest)
            .await
            .map(|_| ())
            .map_err(|_| StoreError::Database("the search indexer stopped".into()))
    }

    /// Needles too short for trigrams: decode each message and look.
    async fn scan(
        &self,
        mailbox: MailboxId,
        field: TextField,
        needle: &str,
        blobs: Arc<BlobDir>,
    ) -> Result<Vec<u32>> {
        let needle = needle.to_lowercase();
        self.readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT m.uid, b.hash FROM meta.messages m JOIN meta.blobs b ON b.id = m.blob_id
                         WHERE m.mailbox_id = ?1 ORDER BY m.uid",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map([mailbox.0], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, Vec<u8>>(1)?)))
                    .map_err(db)?;
                let mut out = Vec::new();
                for row in rows {
                    let (uid, hash) = row.map_err(db)?;
                    let bytes = blobs.read(&blob_hash(&hash))?;
                    let text = search_text(&bytes);
                    let hit = |t: &str| t.to_lowercase().contains(&needle);
                    let found = match field {
                        TextField::Headers => hit(&text.headers),
                        TextField::Body => hit(&text.body),
                        TextField::All => hit(&text.headers) || hit(&text.body),
                    };
                    if found {
                        out.push(uid);
                    }
                }
                Ok(out)
            })
            .await
    }
}

/// An FTS5 query for the literal substring `needle` in the chosen columns: one quoted string
/// (inner quotes doubled), which the trigram tokenizer matches as a substring.
fn fts_query(field: TextField, needle: &str) -> String {
    let columns = match field {
        TextField::Headers => "headers",
        TextField::Body => "body",
        TextField::All => "{headers body}",
    };
    format!("{columns} : \"{}\"", needle.replace('"', "\"\""))
}

struct Indexer {
    conn: Connection,
    blobs: Arc<BlobDir>,
    upto: i64,
    progress: watch::Sender<i64>,
}

impl Indexer {
    fn run(mut self, woken: &mpsc::Receiver<()>) {
        let mut last_cleanup = Instant::now();
        loop {
            match self.index_batch() {
                Ok(0) => {
                    if last_cleanup.elapsed() > CLEANUP_EVERY {
                        if let Err(e) = self.drop_deleted() {
                            tracing::warn!("search index clean-up failed: {e}");
                        }
                        last_cleanup = Instant::now();
                    }
                    match woken.recv_timeout(IDLE_POLL) {
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                        _ => while woken.try_recv().is_ok() {},
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!("search indexing failed: {e}");
                    std::thread::sleep(IDLE_POLL);
                }
            }
            if self.progress.is_closed() {
                return;
            }
        }
    }

    /// Indexes the next blobs above the watermark; returns how many it looked at.
    fn index_batch(&mut self) -> Result<usize> {
        let batch: Vec<(i64, Vec<u8>)> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT id, hash FROM meta.blobs WHERE id > ?1 ORDER BY id LIMIT ?2",
                )
                .map_err(db)?;
            stmt.query_map(params![self.upto, BATCH as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)?
        };
        let Some(&(last, _)) = batch.last() else {
            return Ok(0);
        };
        let tx = self.conn.transaction().map_err(db)?;
        for (id, hash) in &batch {
            // A blob collected since it was listed has nothing left to index.
            let Ok(bytes) = self.blobs.read(&blob_hash(hash)) else {
                continue;
            };
            let text = search_text(&bytes);
            tx.prepare_cached(
                "INSERT OR REPLACE INTO blob_text (rowid, headers, body) VALUES (?1, ?2, ?3)",
            )
            .map_err(db)?
            .execute(params![id, text.headers, text.body])
            .map_err(db)?;
        }
        tx.execute("UPDATE progress SET indexed_upto = ?1", [last])
            .map_err(db)?;
        tx.commit().map_err(db)?;
        self.upto = last;
        let _ = self.progress.send(last);
        Ok(batch.len())
    }

    /// Removes the entries of blobs the store has collected.
    fn drop_deleted(&mut self) -> Result<()> {
        let stale: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT rowid FROM blob_text WHERE rowid NOT IN (SELECT id FROM meta.blobs)",
                )
                .map_err(db)?;
            stmt.query_map([], |r| r.get(0))
                .map_err(db)?
                .collect::<rusqlite::Result<_>>()
                .map_err(db)?
        };
        let tx = self.conn.transaction().map_err(db)?;
        for id in stale {
            tx.execute("DELETE FROM blob_text WHERE rowid = ?1", [id])
                .map_err(db)?;
        }
        tx.commit().map_err(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_quote_the_needle() {
        assert_eq!(fts_query(TextField::Body, "quokka"), "body : \"quokka\"");
        assert_eq!(
            fts_query(TextField::All, "say \"hi\""),
            "{headers body} : \"say \"\"hi\"\"\""
        );
    }
}
