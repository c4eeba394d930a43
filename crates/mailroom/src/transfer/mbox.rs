//! mbox (mboxrd), one file per folder (`Work/2026.mbox`, each level escaped by
//! [`super::tree`]). Flags travel in the headers mail
//! programs use for that — Status (R seen, O old), X-Status (A answered, F flagged, T draft,
//! D deleted), X-Keywords — and the POP3 UIDL in X-UIDL; the internal date is the From_ line.
//! On import these headers are read and removed again.

use super::tree::{Layout, MBOX_SUFFIX, folder_name, folder_path};
use super::{FileFolder, FileMessage, valid_uidl};
use anyhow::{Context, Result};
use cap_std::fs::Dir;
use mailroom_store::{Flags, SystemFlags};
use std::io::Write;

const CARRIER_HEADERS: [&str; 4] = ["status", "x-status", "x-keywords", "x-uidl"];

pub fn write_folder(root: &Dir, folder: &FileFolder) -> Result<()> {
    let mut path = folder_path(&folder.name, Layout::Mbox)?;
    let file_name = format!(
        "{}{MBOX_SUFFIX}",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    path.set_file_name(file_name);
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        root.create_dir_all(dir)?;
    }
    let file = root
        .create(&path)
        .with_context(|| format!("creating the file of folder {:?}", folder.name))?;
    let mut out = std::io::BufWriter::new(file.into_std());
    for m in &folder.messages {
        writeln!(out, "From MAILER-DAEMON {}", asctime(m.internal_date))?;
        out.write_all(&carrier_headers(m))?;
        for line in m.content.split_inclusive(|&b| b == b'\n') {
            // mboxrd: any line that reads ">*From " gets one more '>'.
            if line
                .iter()
                .skip_while(|&&b| b == b'>')
                .take(5)
                .eq(b"From ".iter())
            {
                out.write_all(b">")?;
            }
            out.write_all(line)?;
        }
        if !m.content.ends_with(b"\n") {
            out.write_all(b"\r\n")?;
        }
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn carrier_headers(m: &FileMessage) -> Vec<u8> {
    let f = m.flags.system;
    let mut status = String::from("O");
    if f.contains(SystemFlags::SEEN) {
        status.insert(0, 'R');
    }
    let x_status: String = [
        (SystemFlags::ANSWERED, 'A'),
        (SystemFlags::FLAGGED, 'F'),
        (SystemFlags::DRAFT, 'T'),
        (SystemFlags::DELETED, 'D'),
    ]
    .iter()
    .filter(|(flag, _)| f.contains(*flag))
    .map(|(_, c)| *c)
    .collect();
    let mut out = format!("Status: {status}\r\n");
    if !x_status.is_empty() {
        out.push_str(&format!("X-Status: {x_status}\r\n"));
    }
    if !m.flags.keywords().is_empty() {
        out.push_str(&format!("X-Keywords: {}\r\n", m.flags.keywords().join(" ")));
    }
    if let Some(uidl) = &m.pop3_uidl {
        out.push_str(&format!("X-UIDL: {uidl}\r\n"));
    }
    out.into_bytes()
}

/// Reads every `*.mbox` file under `root` (nested directories are folder levels). Symbolic
/// links are not followed: what is read is what lies inside `root`.
pub fn read_tree(root: &Dir) -> Result<Vec<FileFolder>> {
    let mut out = Vec::new();
    let mut stack: Vec<(Dir, Vec<String>)> = vec![(root.try_clone()?, Vec::new())];
    while let Some((dir, components)) = stack.pop() {
        for entry in dir.entries()? {
            let entry = entry?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type()?;
            let mut path = components.clone();
            if kind.is_dir() {
                let child = dir
                    .open_dir(&file_name)
                    .with_context(|| format!("reading {file_name}"))?;
                path.push(file_name);
                stack.push((child, path));
            } else if let Some(stem) = file_name.strip_suffix(MBOX_SUFFIX)
                && kind.is_file()
                && !stem.is_empty()
            {
                path.push(stem.to_string());
                out.push(FileFolder {
                    name: folder_name(path.iter().map(String::as_str)),
                    messages: parse(&dir.read(&file_name)?),
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Splits an mbox into messages, undoing mboxrd escaping and reading the carrier headers.
pub fn parse(data: &[u8]) -> Vec<FileMessage> {
    let mut out = Vec::new();
    let mut current: Option<(i64, Vec<u8>)> = None;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            if let Some((date, body)) = current.take() {
                out.push(finish(date, body));
            }
            current = Some((parse_from_line(line), Vec::new()));
            continue;
        }
        if let Some((_, body)) = current.as_mut() {
            let unescaped = if line.starts_with(b">")
                && line
                    .iter()
                    .skip_while(|&&b| b == b'>')
                    .take(5)
                    .eq(b"From ".iter())
            {
                &line[1..]
            } else {
                line
            };
            body.extend_from_slice(unescaped);
        }
    }
    if let Some((date, body)) = current {
        out.push(finish(date, body));
    }
    out
}

/// Removes the separator's blank line and the carrier headers; reads flags from them.
fn finish(internal_date: i64, mut body: Vec<u8>) -> FileMessage {
    // The blank line before the next From_ belongs to the format, not the message.
    if body.ends_with(b"\r\n\n") || body.ends_with(b"\n\n") {
        body.pop();
    } else if body.ends_with(b"\n") && body.len() == 1 {
        body.clear();
    }
    let header_end = body
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 2)
        .or_else(|| body.windows(2).position(|w| w == b"\n\n").map(|i| i + 1))
        .unwrap_or(body.len());
    let (mut system, mut keywords, mut uidl) = (SystemFlags::default(), Vec::new(), None);
    let mut kept = Vec::with_capacity(body.len());
    let mut skipping = false;
    for line in body[..header_end].split_inclusive(|&b| b == b'\n') {
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if continuation {
            if !skipping {
                kept.extend_from_slice(line);
            }
            continue;
        }
        let text = String::from_utf8_lossy(line);
        let (name, value) = text.split_once(':').unwrap_or((&text, ""));
        let name = name.trim().to_ascii_lowercase();
        skipping = CARRIER_HEADERS.contains(&name.as_str());
        let value = value.trim();
        match name.as_str() {
            "status" if value.contains('R') => system = system.union(SystemFlags::SEEN),
            "x-status" => {
                for (c, flag) in [
                    ('A', SystemFlags::ANSWERED),
                    ('F', SystemFlags::FLAGGED),
                    ('T', SystemFlags::DRAFT),
                    ('D', SystemFlags::DELETED),
                ] {
                    if value.contains(c) {
                        system = system.union(flag);
                    }
                }
            }
            "x-keywords" => keywords.extend(
                value
                    .split([' ', ','])
                    .filter(|k| !k.is_empty())
                    .map(str::to_string),
            ),
            "x-uidl" if valid_uidl(value) => uidl = Some(value.to_string()),
            _ => {}
        }
        if !skipping {
            kept.extend_from_slice(line);
        }
    }
    kept.extend_from_slice(&body[header_end..]);
    FileMessage {
        content: kept,
        flags: Flags::new(system, keywords),
        internal_date,
        pop3_uidl: uidl,
    }
}

/// "From sender Wed Nov 25 10:00:00 2026" → Unix seconds (0 if unreadable).
fn parse_from_line(line: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(line);
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() < 6 {
        return 0;
    }
    let date = words[words.len() - 5..].join(" ");
    let format = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day padding:none] [hour]:[minute]:[second] [year]"
    );
    time::PrimitiveDateTime::parse(&date, &format)
        .map(|t| t.assume_utc().unix_timestamp())
        .unwrap_or(0)
}

fn asctime(unix: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]"
    );
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "Thu Jan  1 00:00:00 1970".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::tree::open_root;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let folder = FileFolder {
            name: "Lists/Rust".into(),
            messages: vec![
                FileMessage {
                    content: b"Subject: a\r\n\r\nFrom here\r\n>From there\r\nend\r\n".to_vec(),
                    flags: Flags::from_names(["\\Seen", "\\Answered", "$Work"]),
                    internal_date: 1_700_000_000,
                    pop3_uidl: Some("abc123".into()),
                },
                FileMessage {
                    content: b"Subject: b\r\n\r\nno final newline".to_vec(),
                    flags: Flags::default(),
                    internal_date: 1_600_000_000,
                    pop3_uidl: None,
                },
            ],
        };
        let root = open_root(dir.path(), false).unwrap();
        write_folder(&root, &folder).unwrap();
        let read = read_tree(&root).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].messages[0], folder.messages[0]);
        // A message without a final line end gets one: mbox can't say where it ended.
        assert_eq!(
            read[0].messages[1].content,
            b"Subject: b\r\n\r\nno final newline\r\n"
        );
        assert_eq!(read[0].messages[1].internal_date, 1_600_000_000);
    }

    #[test]
    fn from_lines() {
        assert_eq!(
            parse_from_line(b"From MAILER-DAEMON Wed Nov 25 10:00:00 2026\n"),
            1_795_600_800
        );
        assert_eq!(parse_from_line(b"From x@y Thu Jan  1 00:00:00 1970\n"), 0);
        assert_eq!(parse_from_line(b"From garbage\n"), 0);
    }

    #[test]
    fn unsafe_folder_names_stay_inside_and_come_back() {
        let outer = tempfile::tempdir().unwrap();
        let root = open_root(&outer.path().join("a/b"), true).unwrap();
        let names = ["../../escaped", "x/../../../y", "~/z", "a.mbox/b", "a"];
        for name in names {
            let folder = FileFolder {
                name: name.to_string(),
                messages: vec![FileMessage {
                    content: b"Subject: s\r\n\r\nbody\r\n".to_vec(),
                    flags: Flags::default(),
                    internal_date: 0,
                    pop3_uidl: None,
                }],
            };
            write_folder(&root, &folder).unwrap();
        }
        let top: Vec<_> = std::fs::read_dir(outer.path()).unwrap().collect();
        assert_eq!(top.len(), 1);
        assert!(!outer.path().join("escaped.mbox").exists());
        let mut read: Vec<String> = read_tree(&root)
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        read.sort();
        let mut want: Vec<&str> = names.to_vec();
        want.sort();
        assert_eq!(read, want);
    }
}
