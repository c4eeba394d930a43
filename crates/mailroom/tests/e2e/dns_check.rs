//! `mailroom domain check` against a real (tiny) name server on loopback that holds a zone
//! with some records right, some wrong and some missing, asked with `--resolver`.

use crate::support::Admin;
use crate::support::dns::{a, name, record, serve, txt};
use hickory_proto::rr::RData;
use hickory_proto::rr::rdata::{MX, SRV, TXT};

#[test]
fn check_names_what_is_published_missing_or_different() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mailroom.toml");
    std::fs::write(
        &config,
        "data_dir = \"data\"\nhostname = \"mail.example.test\"\n\
         [imap]\nlisten_tls = [\"0.0.0.0:993\"]\n[http]\nlisten_tls = [\"0.0.0.0:443\"]\n",
    )
    .expect("config");
    let admin = Admin::at(config);
    let records = admin.ok(&["domain", "add", "example.test"], b"");
    let dkim_line = records
        .lines()
        .find(|l| l.contains("._domainkey."))
        .expect("a DKIM record");
    let selector_name = dkim_line.split_whitespace().next().expect("owner");
    // The zone-file line cuts the key into quoted strings; DNS carries them as parts.
    let dkim_parts: Vec<String> = dkim_line
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();

    let zone = vec![
        // Right, with another preference than ours: still right.
        record(
            "example.test.",
            RData::MX(MX::new(20, name("mail.example.test."))),
        ),
        // An SPF record that is not ours, beside an unrelated TXT record.
        txt("example.test.", &["v=spf1 include:other.example ~all"]),
        txt("example.test.", &["site-verification=123"]),
        record(selector_name, RData::TXT(TXT::new(dkim_parts))),
        // No DMARC record at all.
        record(
            "_imaps._tcp.example.test.",
            RData::SRV(SRV::new(0, 1, 993, name("mail.example.test."))),
        ),
        // autoconfig as an A record with the server's own address: fine.
        a("mail.example.test.", "192.0.2.25"),
        a("autoconfig.example.test.", "192.0.2.25"),
        // autodiscover points elsewhere.
        a("autodiscover.example.test.", "198.51.100.7"),
    ];
    let server = serve(zone);

    let out = admin.run(
        &[
            "domain",
            "check",
            "example.test",
            "--resolver",
            &server.to_string(),
        ],
        b"",
    );
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{report}");
    let state = |needle: &str| {
        report
            .lines()
            .find(|l| l.contains(needle))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no line for {needle} in\n{report}"))
            .to_string()
    };
    assert_eq!(state("IN MX"), "ok");
    assert_eq!(state("v=spf1"), "differs");
    assert!(
        report.contains("found: v=spf1 include:other.example ~all"),
        "{report}"
    );
    assert_eq!(state("._domainkey."), "ok");
    assert_eq!(state("_dmarc."), "missing");
    assert_eq!(state("_imaps._tcp."), "ok");
    assert_eq!(state("autoconfig.example.test."), "ok");
    assert_eq!(state("autodiscover.example.test. "), "missing");
    assert_eq!(state("_autodiscover._tcp."), "missing");
    assert!(
        report.contains("records of example.test need attention"),
        "{report}"
    );
}
