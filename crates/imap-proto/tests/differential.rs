//! Differential test against imap-codec (habit 10): every command line
//! that both parsers understand must parse the same.
//!
//! For each line of the corpus (`differential/corpus.rs`):
//! 1. our [`Framer`] and imap-codec's `CommandCodec` must agree on accept /
//!    reject, except where a `Deviation` of the allow-list
//!    (`differential/allow_list.rs`) says why they differ;
//! 2. when both accept, a normalised rendering of each side's typed command
//!    (tag, command name, mailboxes, sequence sets as merged ranges, flags,
//!    search keys, fetch attributes, store operation, literal payloads)
//!    must be equal;
//! 3. `Command::to_bytes` of every command we accept must re-parse to the
//!    same command with our framer, and to the same rendering with
//!    imap-codec where imap-codec understood the original line.
//!
//! Our target grammar is RFC 9051 (plus the extensions named in the crate);
//! a line is "valid" when that grammar and our limits accept it.

#[path = "differential/allow_list.rs"]
mod allow_list;
#[path = "differential/corpus.rs"]
mod corpus;
#[path = "differential/render.rs"]
mod render;

use std::collections::BTreeMap;

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types as it;
use mailroom_imap_proto::{Command, Framer, Limits, Outcome};

use corpus::corpus;
use render::codec::codec_render;
use render::ours::ours_render;

// ---------------------------------------------------------------------------
// Running both parsers.
// ---------------------------------------------------------------------------

fn parse_ours(input: &[u8]) -> Result<Command, String> {
    let mut framer = Framer::new(Limits::default());
    // The whole command is in the buffer, so a literal announcement is
    // only a notice; asking again continues past it.
    for _ in 0..16 {
        match framer.decode(input) {
            Outcome::Complete { command, consumed } if consumed == input.len() => {
                return Ok(command);
            }
            Outcome::Complete { consumed, .. } => {
                return Err(format!(
                    "complete after {consumed} of {} octets",
                    input.len()
                ));
            }
            Outcome::NeedLiteral { .. } => {}
            Outcome::Incomplete => return Err("incomplete".into()),
            Outcome::Failed { error, .. } => return Err(error.to_string()),
            Outcome::Discard { .. } => return Err("discard".into()),
        }
    }
    Err("no progress".into())
}

fn parse_codec(input: &[u8]) -> Result<it::command::Command<'_>, String> {
    match CommandCodec::default().decode(input) {
        Ok(([], command)) => Ok(command),
        Ok((rest, _)) => Err(format!("{} octets left over", rest.len())),
        Err(error) => Err(format!("{error:?}")),
    }
}

// ---------------------------------------------------------------------------
// The test.
// ---------------------------------------------------------------------------

#[test]
fn both_parsers_agree() {
    let corpus = corpus();
    let mut failures: Vec<String> = Vec::new();
    let mut both_accept = 0usize;
    let mut deviations: BTreeMap<&str, (usize, &str)> = BTreeMap::new();

    for case in &corpus {
        let mut input = case.line.clone();
        input.extend_from_slice(b"\r\n");
        let shown = input.escape_ascii().to_string();
        let ours = parse_ours(&input);
        let codec = parse_codec(&input);

        // (1) Accept / reject.
        match (&ours, case.valid) {
            (Err(e), true) => failures.push(format!("ours rejects valid {shown}: {e}")),
            (Ok(c), false) => failures.push(format!("ours accepts invalid {shown}: {c:?}")),
            _ => {}
        }
        let codec_should_accept = case.valid != case.deviation.is_some();
        match (&codec, codec_should_accept, case.deviation) {
            (Ok(_), true, _) | (Err(_), false, _) => {}
            (Ok(_), false, Some(d)) | (Err(_), true, Some(d)) => failures.push(format!(
                "stale allow-list entry {:?} on {shown}: imap-codec agrees with us now",
                d.id
            )),
            (Ok(c), false, None) => failures.push(format!(
                "imap-codec accepts invalid {shown}: {}",
                codec_render(c)
            )),
            (Err(e), true, None) => failures.push(format!("imap-codec rejects valid {shown}: {e}")),
        }
        if let Some(d) = case.deviation {
            deviations.entry(d.id).or_insert((0, d.reason)).0 += 1;
        }

        // (2) Same meaning when both accept.
        if let (Ok(o), Ok(c)) = (&ours, &codec) {
            both_accept += 1;
            let (o, c) = (ours_render(o), codec_render(c));
            // `DIFFERENTIAL_SHOW=1 cargo test ... -- --nocapture` lists
            // what was compared.
            if std::env::var_os("DIFFERENTIAL_SHOW").is_some() {
                println!("{shown}\n    {o}");
            }
            if o != c {
                failures.push(format!("{shown}:\n    ours:  {o}\n    codec: {c}"));
            }
        }

        // (3) Our serialiser's output re-parses the same in both.
        if let Ok(command) = &ours {
            let bytes = command.to_bytes();
            let shown_out = bytes.escape_ascii().to_string();
            match parse_ours(&bytes) {
                Ok(again) if again == *command => {}
                Ok(again) => failures.push(format!(
                    "re-parse of {shown_out} differs:\n    {command:?}\n    {again:?}"
                )),
                Err(e) => failures.push(format!("we reject our own {shown_out}: {e}")),
            }
            if codec.is_ok() {
                match parse_codec(&bytes) {
                    Ok(c) => {
                        let (o, c) = (ours_render(command), codec_render(&c));
                        if o != c {
                            failures.push(format!(
                                "serialised {shown_out}:\n    ours:  {o}\n    codec: {c}"
                            ));
                        }
                    }
                    Err(e) => failures.push(format!(
                        "imap-codec rejects our serialisation {shown_out} of {shown}: {e}"
                    )),
                }
            }
        }
    }

    println!(
        "{} lines ({} valid, {} invalid), {both_accept} accepted by both",
        corpus.len(),
        corpus.iter().filter(|c| c.valid).count(),
        corpus.iter().filter(|c| !c.valid).count(),
    );
    for (id, (count, reason)) in &deviations {
        println!("allow-listed {id} ({count} lines): {reason}");
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
