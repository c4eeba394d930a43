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

fuzz_target!(|data: &[u8]| {
    let facts = message_facts(data);
    check(&facts.body, data.len());
    let _ = search_text(data);
});
