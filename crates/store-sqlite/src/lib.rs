//! The embedded backend: SQLite (WAL, one writer thread with group commit, a pool of readers)
//! for metadata and content-addressed blob files for message bodies.

mod backup;
mod blobs;
mod directory;
mod leases;
mod mailboxes;
mod maintenance;
mod messages;
mod queue;
mod readers;
mod recovery;
mod rows;
mod schema;
mod search;
mod writer;

use blobs::BlobDir;
use mailroom_store::{ChangeBus, Clock, Result, StoreError, SystemClock};
use readers::Readers;
use rusqlite::Connection;
use schema::db;
use search::SearchIndex;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use writer::Writer;

pub use backup::{
    AccountSnapshot, BackupReader, MailboxSnapshot, Manifest, MessageSnapshot, list_backups,
    prune_backups, restore_whole, verify_backup,
};
pub use maintenance::GC_GRACE_SECONDS;

/// The store in one directory: `mail.db` (+ WAL) and `blobs/`.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    writer: Writer,
    readers: Readers,
    blobs: Arc<BlobDir>,
    bus: Arc<ChangeBus>,
    clock: Arc<dyn Clock>,
    /// Identifies this process in the events table, so it skips its own events when polling.
    origin: i64,
    /// Started by the server, or by the first search of a short-lived process.
    search: OnceLock<SearchIndex>,
    facts: Arc<rows::FactsCache>,
}

/// The metadata database inside the store's directory.
pub(crate) const DATABASE_FILE: &str = "mail.db";

impl SqliteStore {
    /// Opens or creates the store in `dir` with the system clock.
    /// Whether `dir` holds a store (so a caller can refuse to create one by accident).
    pub fn exists(dir: &Path) -> bool {
        dir.join(DATABASE_FILE).is_file()
    }

    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_with_clock(dir, Arc::new(SystemClock))
    }

    pub fn open_with_clock(dir: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let blobs = Arc::new(BlobDir::open(&dir.join("blobs"))?);
        let db_path = dir.join(DATABASE_FILE);
        let mut conn = Connection::open(&db_path).map_err(db)?;
        // Another process (the CLI beside the server) may hold the write lock for a moment.
        conn.busy_timeout(Duration::from_secs(30)).map_err(db)?;
        // WAL lets readers run beside the writer; FULL makes every commit durable before the
        // writer answers (NORMAL could lose the last commits on power loss).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(db)?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut conn)?;
        let bus = Arc::new(ChangeBus::new());
        let origin = random_origin();
        let writer = Writer::start(conn, bus.clone(), clock.clone(), origin);
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                writer,
                readers: Readers::new(db_path),
                blobs,
                bus,
                clock,
                origin,
                search: OnceLock::new(),
                facts: Arc::default(),
            }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Starts the full-text indexer (idempotent). The server calls this at start so the index
    /// keeps up with deliveries; admin commands that never search don't pay for it.
    pub fn start_search_indexer(&self) -> Result<()> {
        self.search_index().map(|_| ())
    }

    fn search_index(&self) -> Result<&SearchIndex> {
        if let Some(index) = self.inner.search.get() {
            return Ok(index);
        }
        let index = SearchIndex::start(&self.inner.dir, self.inner.blobs.clone())?;
        // Two first searches racing: the loser's indexer thread stops when its index is dropped.
        Ok(self.inner.search.get_or_init(|| index))
    }

    /// Wakes the indexer after new blobs were committed, if it runs in this process.
    fn new_blobs(&self) {
        if let Some(index) = self.inner.search.get() {
            index.nudge();
        }
    }

    /// Relays changes made by other processes on the same store (e.g. `mailroom deliver` while
    /// the server runs) to this process's subscribers, from every change committed after this
    /// call returns. Runs until the store is dropped.
    pub async fn watch_external_changes(
        &self,
        every: Duration,
    ) -> Result<tokio::task::JoinHandle<()>> {
        let mut last_seq = self.max_event_seq().await?;
        let weak = Arc::downgrade(&self.inner);
        Ok(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            let mut ticks: u64 = 0;
            loop {
                ticker.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let store = SqliteStore { inner };
                match store.external_events_after(last_seq).await {
                    Ok((seq, events)) => {
                        last_seq = seq;
                        for event in events {
                            store.inner.bus.publish(event);
                        }
                    }
                    Err(e) => tracing::warn!("polling store events failed: {e}"),
                }
                ticks += 1;
                if ticks.is_multiple_of(600) {
                    let _ = store.prune_events().await;
                }
            }
        }))
    }

    async fn max_event_seq(&self) -> Result<i64> {
        self.inner
            .readers
            .read(|conn| {
                conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))
                    .map_err(db)
            })
            .await
    }

    async fn external_events_after(
        &self,
        after: i64,
    ) -> Result<(i64, Vec<mailroom_store::MailboxEvent>)> {
        let origin = self.inner.origin;
        self.inner
            .readers
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT seq, origin, account_id, mailbox_id, modseq, kind
                         FROM events WHERE seq > ?1 ORDER BY seq",
                    )
                    .map_err(db)?;
                let mut rows = stmt.query([after]).map_err(db)?;
                let mut last = after;
                let mut events = Vec::new();
                while let Some(row) = rows.next().map_err(db)? {
                    last = row.get(0).map_err(db)?;
                    let from: i64 = row.get(1).map_err(db)?;
                    if from == origin {
                        continue;
                    }
                    if let Some(event) = writer::event_from_row(
                        row.get(2).map_err(db)?,
                        row.get(3).map_err(db)?,
                        row.get(4).map_err(db)?,
                        row.get(5).map_err(db)?,
                    ) {
                        events.push(event);
                    }
                }
                Ok((last, events))
            })
            .await
    }

    async fn prune_events(&self) -> Result<()> {
        self.inner
            .writer
            .write(|ctx| {
                ctx.conn
                    .execute("DELETE FROM events WHERE at < ?1", [ctx.now - 600])
                    .map_err(db)?;
                Ok(())
            })
            .await
    }
}

fn random_origin() -> i64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    (h.finish() >> 1) as i64
}

fn not_found(what: &'static str) -> StoreError {
    StoreError::NotFound(what)
}
