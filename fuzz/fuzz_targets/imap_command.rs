#![no_main]
//! The IMAP framer and parser take any byte stream, fed in one piece, without panicking and
//! without claiming to consume more than it was given.

use libfuzzer_sys::fuzz_target;
use mailroom_imap_proto::{Framer, Limits, Outcome};

fuzz_target!(|data: &[u8]| {
    let mut framer = Framer::new(Limits::default());
    let mut buf = data.to_vec();
    for _ in 0..64 {
        match framer.decode(&buf) {
            Outcome::Incomplete => break,
            Outcome::NeedLiteral { .. } => continue,
            Outcome::Complete { consumed, .. } | Outcome::Failed { consumed, .. } | Outcome::Discard { consumed } => {
                assert!(consumed <= buf.len());
                if consumed == 0 {
                    break;
                }
                buf.drain(..consumed);
            }
        }
    }
});
