//! The shared comparable form: one line of text per command, built by a
//! small converter from each side's types ([`ours`] and [`codec`]).

#[path = "render/codec.rs"]
pub mod codec;
#[path = "render/ours.rs"]
pub mod ours;

use std::fmt::Display;

pub fn bytes(data: &[u8]) -> String {
    format!("\"{}\"", data.escape_ascii())
}

/// INBOX is case-insensitive (RFC 9051 §5.1); every other name is octets.
pub fn mailbox(name: &[u8]) -> String {
    if name.eq_ignore_ascii_case(b"INBOX") {
        "INBOX".into()
    } else {
        bytes(name)
    }
}

/// Inclusive ranges, `*` as `u32::MAX`, merged into a canonical list.
pub fn ranges(mut list: Vec<(u32, u32)>) -> String {
    for range in &mut list {
        *range = (range.0.min(range.1), range.0.max(range.1));
    }
    list.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (low, high) in list {
        match merged.last_mut() {
            Some(last) if low <= last.1.saturating_add(1) => last.1 = last.1.max(high),
            _ => merged.push((low, high)),
        }
    }
    let show = |n: u32| {
        if n == u32::MAX {
            "*".to_string()
        } else {
            n.to_string()
        }
    };
    let parts: Vec<String> = merged
        .iter()
        .map(|&(low, high)| format!("{}-{}", show(low), show(high)))
        .collect();
    format!("[{}]", parts.join(","))
}

pub fn join<T>(items: impl IntoIterator<Item = T>, f: impl FnMut(T) -> String) -> String {
    let parts: Vec<String> = items.into_iter().map(f).collect();
    format!("({})", parts.join(" "))
}

pub fn upper(text: impl Display) -> String {
    text.to_string().to_ascii_uppercase()
}

pub fn render(tag: &str, name: &str, args: Vec<String>) -> String {
    format!("{tag} {name} {}", args.join(" | "))
}
