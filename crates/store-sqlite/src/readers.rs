//! A small pool of read-only connections. WAL lets readers run beside the writer, each on a
//! consistent snapshot.

use crate::schema::db;
use mailroom_store::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const MAX_IDLE: usize = 16;

#[derive(Clone)]
pub struct Readers {
    path: Arc<PathBuf>,
    /// Another database attached to every connection, as (path, schema name).
    attach: Option<Arc<(PathBuf, &'static str)>>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Readers {
    pub fn new(path: PathBuf) -> Self {
        Readers {
            path: Arc::new(path),
            attach: None,
            idle: Arc::new(Mutex::new(Vec::new())),
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
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.read_blocking(f))
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
