#![no_main]
//! Any bytes delivered as a message yield facts whose offsets stay inside the message, and
//! text for the index, without panicking.

use libfuzzer_sys::fuzz_target;
use mailroom_store::facts::{BodyPart, PartChildren, message_facts, search_text};

fn check(part: &BodyPart, len: usize) {
    assert!(part.header_start <= part.body_start || part.body_start == 0);
    assert!(part.body_start <= part.body_end);
    assert!(part.body_end as usize <= len);
    match &part.children {
        PartChildren::Multipart(parts) => parts.iter().for_each(|p| check(p, len)),
        PartChildren::Message(_, body) => check(body, len),
        PartChildren::None => {}
    }
}

/// libFuzzer aborts on any panic, even a caught one. The store catches panics inside mail-parser
/// (see `facts::parse`): only those may unwind here, so the store's fallback is what gets
/// fuzzed; a panic anywhere else still aborts and is reported.
fn tolerate_parser_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_parser = info
                .location()
                .is_some_and(|l| l.file().contains("mail-parser"));
            if !in_parser {
                abort_hook(info);
                std::process::abort();
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    tolerate_parser_panics();
    let facts = message_facts(data);
    check(&facts.body, data.len());
    let _ = search_text(data);
});
