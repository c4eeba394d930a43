#![no_main]
//! The SMTP/LMTP command parser takes any line without panicking, and the paths it accepts
//! parse to themselves once written back (the server never emits what it would reject).

use libfuzzer_sys::fuzz_target;
use mailroom_smtp::proto::{Command, parse_command};

fuzz_target!(|data: &[u8]| {
    match parse_command(data) {
        Ok(Command::Mail { from, params }) => {
            // The decoded ENVID goes into a report's header too (RFC 3461 §4.4).
            if let Some(envid) = &params.envid {
                assert!(envid.len() <= 100 && envid.bytes().all(|b| (b' '..=b'~').contains(&b)));
            }
            let line = format!("MAIL FROM:<{}>", from.address());
            match parse_command(line.as_bytes()) {
                Ok(Command::Mail { from: again, .. }) => assert_eq!(again, from, "{line}"),
                other => panic!("{line} -> {other:?}"),
            }
        }
        Ok(Command::Rcpt { to, params }) => {
            let line = format!("RCPT TO:<{}>", to.address());
            match parse_command(line.as_bytes()) {
                Ok(Command::Rcpt { to: again, .. }) => assert_eq!(again, to, "{line}"),
                other => panic!("{line} -> {other:?}"),
            }
            // A decoded ORCPT goes into a report's header: nothing but printable ASCII (no
            // line break) may come out of the xtext (RFC 3461 §4.2).
            if let Some(orcpt) = params.orcpt {
                assert!(orcpt.address.bytes().all(|b| (b' '..=b'~').contains(&b)));
            }
        }
        Ok(Command::Auth { mechanism, initial }) => {
            assert!(!mechanism.is_empty() && mechanism.len() <= 20);
            assert!(initial.is_none_or(|i| !i.is_empty() && !i.contains(' ')));
        }
        _ => {}
    }
});
