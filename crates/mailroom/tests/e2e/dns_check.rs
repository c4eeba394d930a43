//! `mailroom domain check` against a real (tiny) name server on loopback that holds a zone
//! with some records right, some wrong and some missing, asked with `--resolver`.

use crate::support::Admin;
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, MX, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record};
use std::net::{SocketAddr, UdpSocket};

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

/// An authoritative responder for `zone` on 127.0.0.1: each question gets the zone's records
/// of that name and type, NODATA for a name with other types, NXDOMAIN otherwise.
fn serve(zone: Vec<Record>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().expect("address");
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 4096];
        while let Ok((len, peer)) = socket.recv_from(&mut buf) {
            let Ok(request) = Message::from_vec(&buf[..len]) else {
                continue;
            };
            if let Ok(bytes) = answer(&zone, &request).to_vec() {
                let _ = socket.send_to(&bytes, peer);
            }
        }
    });
    addr
}

fn answer(zone: &[Record], request: &Message) -> Message {
    let mut response = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
    response.metadata.authoritative = true;
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.queries = request.queries.clone();
    response.edns = request.edns.clone();
    let Some(query) = request.queries.first() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response;
    };
    response.answers = zone
        .iter()
        .filter(|r| r.name == query.name && r.record_type() == query.query_type)
        .cloned()
        .collect();
    if response.answers.is_empty() {
        if !zone.iter().any(|r| r.name == query.name) {
            response.metadata.response_code = ResponseCode::NXDomain;
        }
        response.authorities.push(record(
            "test.",
            RData::SOA(SOA::new(
                name("ns.test."),
                name("hostmaster.test."),
                1,
                3600,
                600,
                86400,
                300,
            )),
        ));
    }
    response
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a DNS name")
}

fn record(owner: &str, data: RData) -> Record {
    Record::from_rdata(name(owner), 300, data)
}

fn txt(owner: &str, parts: &[&str]) -> Record {
    record(
        owner,
        RData::TXT(TXT::new(parts.iter().map(|p| p.to_string()).collect())),
    )
}

fn a(owner: &str, ip: &str) -> Record {
    record(owner, RData::A(A(ip.parse().expect("an IPv4 address"))))
}
