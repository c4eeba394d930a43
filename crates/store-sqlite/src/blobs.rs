//! Write-once, content-addressed blob files: `blobs/ab/<sha256 hex>`.
//!
//! Bodies stay out of the SQLite file so the database remains small enough to back up and
//! checkpoint quickly, and so FETCH reads a message with one file read.

use mailroom_store::BlobHash;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

pub struct BlobDir {
    root: PathBuf,
    tmp_counter: AtomicU64,
}

impl BlobDir {
    /// Opens (creating if needed) the blob directory with its 256 fan-out folders, made up
    /// front so that writing a blob never has to create and sync a directory.
    pub fn open(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root.join("tmp"))?;
        for i in 0..=255u8 {
            let dir = root.join(format!("{i:02x}"));
            if !dir.exists() {
                fs::create_dir(&dir)?;
            }
        }
        // Leftovers of writes interrupted by a crash; nothing references them. Only old ones:
        // another process using the same store may be writing a fresh one right now.
        let cutoff = SystemTime::now() - Duration::from_secs(3600);
        for entry in fs::read_dir(root.join("tmp"))? {
            let entry = entry?;
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < cutoff);
            if stale {
                let _ = fs::remove_file(entry.path());
            }
        }
        sync_dir(root)?;
        Ok(BlobDir {
            root: root.to_path_buf(),
            tmp_counter: AtomicU64::new(0),
        })
    }

    pub fn path(&self, hash: &BlobHash) -> PathBuf {
        let hex = hash.to_hex();
        self.root.join(&hex[..2]).join(hex)
    }

    /// Makes the blob durable: written to a temporary file, synced, renamed into place, and
    /// the directory synced. Returns false if it was already there.
    pub fn write(&self, hash: &BlobHash, bytes: &[u8]) -> io::Result<bool> {
        let path = self.path(hash);
        if path.exists() {
            return Ok(false);
        }
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp =
            self.root
                .join("tmp")
                .join(format!("{}-{}-{n}", hash.to_hex(), std::process::id()));
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        let written = file.write_all(bytes).and_then(|_| file.sync_data());
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        drop(file);
        fs::rename(&tmp, &path)?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(true)
    }

    pub fn read(&self, hash: &BlobHash) -> io::Result<Vec<u8>> {
        fs::read(self.path(hash))
    }

    pub fn exists(&self, hash: &BlobHash) -> bool {
        self.path(hash).exists()
    }

    /// Every message file (hash, size, age) and every temporary file (path, size, age) there
    /// is, for finding the ones nothing refers to. Names that are neither are skipped.
    pub fn inventory(&self) -> io::Result<Inventory> {
        let now = SystemTime::now();
        let age = |m: &fs::Metadata| {
            m.modified()
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .unwrap_or_default()
        };
        let mut inventory = Inventory::default();
        for i in 0..=255u8 {
            let dir = match fs::read_dir(self.root.join(format!("{i:02x}"))) {
                Ok(dir) => dir,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for entry in dir {
                let entry = entry?;
                let Some(hash) = entry
                    .file_name()
                    .to_str()
                    .and_then(|name| name.parse::<BlobHash>().ok())
                else {
                    continue;
                };
                let Ok(meta) = entry.metadata() else { continue };
                inventory.blobs.push((hash, meta.len(), age(&meta)));
            }
        }
        for entry in fs::read_dir(self.root.join("tmp"))? {
            let entry = entry?;
            if let Ok(meta) = entry.metadata()
                && meta.is_file()
            {
                inventory
                    .temporary
                    .push((entry.path(), meta.len(), age(&meta)));
            }
        }
        Ok(inventory)
    }

    pub fn remove(&self, hash: &BlobHash) -> io::Result<()> {
        match fs::remove_file(self.path(hash)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// What `BlobDir::inventory` found.
#[derive(Default)]
pub struct Inventory {
    pub blobs: Vec<(BlobHash, u64, Duration)>,
    pub temporary: Vec<(PathBuf, u64, Duration)>,
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_is_idempotent_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobDir::open(dir.path()).unwrap();
        let hash = BlobHash::of(b"body");
        assert!(blobs.write(&hash, b"body").unwrap());
        assert!(!blobs.write(&hash, b"body").unwrap());
        assert_eq!(blobs.read(&hash).unwrap(), b"body");
        blobs.remove(&hash).unwrap();
        assert!(!blobs.exists(&hash));
        blobs.remove(&hash).unwrap();
    }
}
