//! A small pool of read-only connections. WAL lets readers run beside the writer, each on a
//! consistent snapshot.

use crate::schema::db;
use mailroom_store::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Reads running at once, and so connections open at once. Every read runs on tokio's blocking
/// pool, which grows to 512 threads: without a bound, a burst of sessions opened a connection
/// per read in flight (each with its own page and statement caches, and its schema parsed
/// anew), hundreds of them, for no gain on a machine with a few cores. Over the bound a read
/// waits for a connection, as it would for a core.
const MAX_READERS: usize = 16;
/// Connections kept for reuse: all of them, so a busy server never reopens one.
const MAX_IDLE: usize = MAX_READERS;

#[derive(Clone)]
pub struct Readers {
    path: Arc<PathBuf>,
    /// Another database attached to every connection, as (path, schema name).
    attach: Option<Arc<(PathBuf, &'static str)>>,
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    pub fn new(path: PathBuf) -> Self {
        Readers {
            path: Arc::new(path),
            attach: None,
            idle: Arc::new(Mutex::new(Vec::new())),
            permits: Arc::new(Semaphore::new(MAX_READERS)),
        }
    }

    /// Readers of `path` that also see `other` under the schema name `name`.
    pub fn with_attached(path: PathBuf, other: PathBuf, name: &'static str) -> Self {
        Readers {
            attach: Some(Arc::new((other, name))),
            ..Readers::new(path)
        }
    }

    /// Runs `f` on a pooled connection on tokio's blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Database(format!("reader pool closed: {e}")))?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let result = this.read_blocking(f);
            drop(permit);
            result
        })
        .await
        .map_err(|e| StoreError::Database(format!("reader task failed: {e}")))?
    }

    pub fn read_blocking<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T>,
    {
        let conn = self.take()?;
        let result = f(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        result
    }

    fn take(&self) -> Result<Connection> {
        if let Some(conn) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            self.path.as_ref(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        conn.set_prepared_statement_cache_capacity(64);
        if let Some(attach) = &self.attach {
            let (path, name) = attach.as_ref();
            conn.execute(
                &format!("ATTACH DATABASE ?1 AS {name}"),
                [path.to_string_lossy()],
            )
            .map_err(db)?;
        }
        Ok(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Many reads at once share at most MAX_READERS connections; the rest wait their turn.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_at_once_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        let readers = Readers::new(path);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..(MAX_READERS * 4) {
            let (readers, running, most) = (readers.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                readers
                    .read(move |conn| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        // Hold the connection a little so the reads overlap.
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        let x: i64 = conn
                            .query_row("SELECT x FROM t", [], |r| r.get(0))
                            .map_err(db)?;
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(x)
                    })
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), 1);
        }
        assert!(most.load(Ordering::SeqCst) <= MAX_READERS);
        let idle = readers.idle.lock().unwrap().len();
        assert!((1..=MAX_READERS).contains(&idle), "{idle}");
    }
}
