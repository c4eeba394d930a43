//! Folder names as paths under one directory, and that directory opened so nothing done through
//! it can leave it.
//!
//! A folder name is the user's text, so it is never joined onto a path: each hierarchy level
//! becomes one path component by an escaping scheme (as Maildir++ and Dovecot's storage escape
//! character do), and every file is opened relative to the target directory through `cap-std`,
//! which refuses `..`, absolute paths and symbolic links that lead outside it. A store that
//! holds names of older rules (`..`, a leading `~`) therefore still exports only inside DIR.
//!
//! The scheme: `%XX` is the octet XX of the level's UTF-8 in hex. Escaped are `%` itself,
//! control characters, a leading `.` (no `.`, `..` or hidden entries), a leading `~`, and a
//! level that would collide with a file the format keeps beside folders (Maildir's `cur`,
//! `new`, `tmp`, `dovecot-*`; mbox's `NAME.mbox` files next to `NAME/` directories).

use anyhow::{Context, Result, bail};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::path::{Path, PathBuf};

/// The entries Maildir keeps inside a folder's directory, next to its subfolders.
const MAILDIR_ENTRIES: [&str; 5] = ["cur", "new", "tmp", "dovecot-keywords", "dovecot-uidlist"];
/// mbox folders are `NAME.mbox` files beside the `NAME/` directory of their children.
pub const MBOX_SUFFIX: &str = ".mbox";
/// The longest file name Linux file systems take.
const MAX_COMPONENT: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Maildir,
    Mbox,
}

/// Opens `path` (created if missing) as the only place files may be written or read.
pub fn open_root(path: &Path, create: bool) -> Result<Dir> {
    if create {
        std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    }
    Dir::open_ambient_dir(path, ambient_authority())
        .with_context(|| format!("opening {}", path.display()))
}

/// The relative path of a folder's directory (Maildir) or of its file without the `.mbox`
/// suffix (mbox), one escaped component per hierarchy level.
pub fn folder_path(name: &str, layout: Layout) -> Result<PathBuf> {
    let mut path = PathBuf::new();
    for level in name.split('/') {
        let component = escape_level(level, layout);
        let longest = match layout {
            Layout::Maildir => component.len(),
            Layout::Mbox => component.len() + MBOX_SUFFIX.len(),
        };
        if level.is_empty() || longest > MAX_COMPONENT {
            bail!(
                "folder {name:?} cannot be written as a file name (a level is empty or too long)"
            );
        }
        path.push(component);
    }
    Ok(path)
}

/// The folder name of a relative path written by [`folder_path`].
pub fn folder_name<'a>(components: impl IntoIterator<Item = &'a str>) -> String {
    components
        .into_iter()
        .map(unescape_level)
        .collect::<Vec<_>>()
        .join("/")
}

fn escape_level(level: &str, layout: Layout) -> String {
    let collides = match layout {
        Layout::Maildir => MAILDIR_ENTRIES.contains(&level),
        Layout::Mbox => false,
    };
    // In mbox a level ending in ".mbox" would be read back as a folder file.
    let mbox_tail = match layout {
        Layout::Mbox => level.strip_suffix(MBOX_SUFFIX).map(str::len),
        Layout::Maildir => None,
    };
    let mut out = String::with_capacity(level.len());
    for (i, c) in level.char_indices() {
        let escape = c == '%'
            || c.is_control()
            || (i == 0 && (c == '.' || c == '~' || collides))
            || Some(i) == mbox_tail;
        if escape {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Undoes [`escape_level`]; a `%` not followed by two hex digits stands for itself, so a
/// directory written by another program reads as its plain name.
fn unescape_level(component: &str) -> String {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(octet)) => {
                out.push(octet);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maildir(name: &str) -> String {
        folder_path(name, Layout::Maildir)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn levels_that_mean_something_to_a_file_system_are_escaped() {
        assert_eq!(maildir("Work/2026"), "Work/2026");
        assert_eq!(maildir("../../../etc/x"), "%2E./%2E./%2E./etc/x");
        assert_eq!(maildir("a/./b"), "a/%2E/b");
        assert_eq!(maildir("~root/.ssh"), "%7Eroot/%2Essh");
        assert_eq!(maildir("Work/cur"), "Work/%63ur");
        assert_eq!(maildir("dovecot-uidlist"), "%64ovecot-uidlist");
        assert_eq!(maildir("50%\u{1}"), "50%25%01");
        assert_eq!(maildir("a.b/x~"), "a.b/x~");
        let mbox = folder_path("a.mbox/b", Layout::Mbox).unwrap();
        assert_eq!(mbox, PathBuf::from("a%2Embox/b"));
    }

    #[test]
    fn every_name_comes_back() {
        for name in [
            "Work/2026",
            "../../../tmp/x",
            "a/./b",
            "~root/.ssh",
            "Work/cur",
            "50%\u{1}",
            "Entwürfe/.. x",
            "a.mbox/b.mbox",
            "%41",
        ] {
            for layout in [Layout::Maildir, Layout::Mbox] {
                let path = folder_path(name, layout).unwrap();
                let components: Vec<String> = path
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                assert!(
                    components.iter().all(|c| !c.starts_with('.')),
                    "{name:?} → {path:?}"
                );
                assert_eq!(
                    folder_name(components.iter().map(String::as_str)),
                    name,
                    "{layout:?}"
                );
            }
        }
    }

    #[test]
    fn names_that_cannot_be_file_names_are_refused() {
        assert!(folder_path("a//b", Layout::Maildir).is_err());
        assert!(folder_path(&"x".repeat(256), Layout::Maildir).is_err());
        assert!(folder_path(&"x".repeat(251), Layout::Mbox).is_err());
        assert!(folder_path(&"x".repeat(250), Layout::Maildir).is_ok());
    }

    #[test]
    fn a_foreign_percent_stays() {
        assert_eq!(folder_name(["100%", "a%zz"]), "100%/a%zz");
    }
}
