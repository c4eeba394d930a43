//! Named expiring locks in the database, so every process and node sees the same holder.

use crate::SqliteStore;
use crate::schema::db;
use async_trait::async_trait;
use mailroom_store::{Leases, Result};
use rusqlite::params;

#[async_trait]
impl Leases for SqliteStore {
    async fn acquire_lease(&self, name: &str, holder: &str, ttl_seconds: i64) -> Result<bool> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.inner
            .writer
            .write(move |ctx| {
                // Take it if free, expired, or already ours (then it is renewed).
                let changed = ctx
                    .conn
                    .execute(
                        "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (name) DO UPDATE SET holder = ?2, expires_at = ?3
                         WHERE leases.holder = ?2 OR leases.expires_at <= ?4",
                        params![name, holder, ctx.now + ttl_seconds, ctx.now],
                    )
                    .map_err(db)?;
                Ok(changed == 1)
            })
            .await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.inner
            .writer
            .write(move |ctx| {
                ctx.conn
                    .execute(
                        "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
                        params![name, holder],
                    )
                    .map_err(db)?;
                Ok(())
            })
            .await
    }
}
