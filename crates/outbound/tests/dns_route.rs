//! `DnsRoute` against a real (tiny) DNS server: an authoritative responder on 127.0.0.1 that
//! answers from a fixed zone, so MX ordering, the implicit MX, null MX, NXDOMAIN and the
//! non-public guard are checked through hickory's resolver and the wire format, not just the
//! pure ordering function. Every route is built fresh, so no answer is cached between tests.
//! Addresses are from the documentation ranges (RFC 5737, RFC 3849), which `is_public` allows.

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, MX, SOA};
use hickory_proto::rr::{Name, RData, Record};
use mailroom_outbound::mx::{DnsRoute, Route, RouteError, Target};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;

#[tokio::test]
async fn mx_hosts_in_preference_order_with_their_addresses() {
    // The worse MX is listed first, so the order can only come from the preferences.
    let route = route_for(vec![
        mx("example.test.", 20, "backup.example.test."),
        mx("example.test.", 10, "mx1.example.test."),
        a("mx1.example.test.", "192.0.2.10"),
        aaaa("mx1.example.test.", "2001:db8::10"),
        a("backup.example.test.", "198.51.100.20"),
    ])
    .await;

    let targets = route.targets("example.test").await.unwrap();

    assert_eq!(
        targets,
        vec![
            Target {
                host: "mx1.example.test".into(),
                // hickory's default strategy asks for AAAA and A together, AAAA first.
                addrs: vec![
                    "[2001:db8::10]:25".parse().unwrap(),
                    "192.0.2.10:25".parse().unwrap(),
                ],
            },
            Target {
                host: "backup.example.test".into(),
                addrs: vec!["198.51.100.20:25".parse().unwrap()],
            },
        ]
    );
}

#[tokio::test]
async fn a_domain_without_mx_is_its_own_mail_host() {
    let route = route_for(vec![a("implicit.test.", "192.0.2.30")]).await;

    let targets = route.targets("implicit.test").await.unwrap();

    assert_eq!(
        targets,
        vec![Target {
            host: "implicit.test".into(),
            addrs: vec!["192.0.2.30:25".parse().unwrap()],
        }]
    );
}

#[tokio::test]
async fn null_mx_fails_for_good() {
    let route = route_for(vec![mx("nullmx.test.", 0, ".")]).await;

    let err = route.targets("nullmx.test").await.unwrap_err();

    assert_eq!(
        err,
        RouteError::Permanent {
            code: 556,
            status: "5.1.10",
            text: "nullmx.test does not accept mail (null MX)".into(),
        }
    );
}

#[tokio::test]
async fn a_domain_that_does_not_exist_fails_for_good() {
    let route = route_for(vec![a("elsewhere.test.", "192.0.2.50")]).await;

    let err = route.targets("nowhere.test").await.unwrap_err();

    assert_eq!(
        err,
        RouteError::Permanent {
            code: 550,
            status: "5.1.2",
            text: "domain nowhere.test does not exist".into(),
        }
    );
}

#[tokio::test]
async fn mx_hosts_with_only_internal_addresses_are_refused() {
    let route = route_for(vec![
        mx("private.test.", 10, "mx.private.test."),
        a("mx.private.test.", "10.0.0.5"),
        mx("loopback.test.", 10, "mx.loopback.test."),
        a("mx.loopback.test.", "127.0.0.1"),
        aaaa("mx.loopback.test.", "::1"),
    ])
    .await;

    for domain in ["private.test", "loopback.test"] {
        let err = route.targets(domain).await.unwrap_err();
        assert_eq!(
            err,
            RouteError::Permanent {
                code: 550,
                status: "5.4.4",
                text: format!("{domain}: refusing to deliver to a non-public address"),
            }
        );
    }
}

#[tokio::test]
async fn an_unresolvable_mx_host_is_skipped() {
    // gone.split.test has no records at all, so its address lookups get NXDOMAIN.
    let route = route_for(vec![
        mx("split.test.", 10, "gone.split.test."),
        mx("split.test.", 20, "ok.split.test."),
        a("ok.split.test.", "192.0.2.40"),
    ])
    .await;

    let targets = route.targets("split.test").await.unwrap();

    assert_eq!(
        targets,
        vec![Target {
            host: "ok.split.test".into(),
            addrs: vec!["192.0.2.40:25".parse().unwrap()],
        }]
    );
}

// Paused time: the resolver's timeouts run on tokio's clock, which jumps ahead as soon as
// nothing else can happen, so the test needs no real waiting. The short timeout and single
// retry bound the lookup even if some wait ran on the real clock.
#[tokio::test(start_paused = true)]
async fn a_silent_name_server_defers_the_mail() {
    // Bound, so queries are delivered and dropped, but never read or answered.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let route = DnsRoute::with_nameservers_timeout(
        vec![silent.local_addr().unwrap()],
        Duration::from_millis(500),
        1,
    );

    let err = route.targets("silent.test").await.unwrap_err();

    match err {
        RouteError::Temporary(text) => {
            assert!(text.starts_with("MX lookup for silent.test: "), "{text}")
        }
        other => panic!("expected a temporary error, got {other:?}"),
    }
}

/// A route whose only name server is a fresh responder serving `zone`.
async fn route_for(zone: Vec<Record>) -> DnsRoute {
    let server = serve(zone).await;
    DnsRoute::with_nameservers(vec![server])
}

/// Starts an authoritative responder for `zone` on 127.0.0.1 (UDP) and returns its address.
/// It answers each question with the zone's records of that name and type; a name with
/// records of other types gets an empty NOERROR answer (NODATA), any other name NXDOMAIN,
/// both with an SOA for the negative answer (RFC 2308 §3). It lives as long as the test's
/// runtime.
async fn serve(zone: Vec<Record>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
                return;
            };
            // Not a DNS message: a real server would drop it too.
            let Ok(request) = Message::from_vec(&buf[..len]) else {
                continue;
            };
            let response = answer(&zone, &request);
            let bytes = response.to_vec().unwrap();
            socket.send_to(&bytes, peer).await.unwrap();
        }
    });
    addr
}

fn answer(zone: &[Record], request: &Message) -> Message {
    let mut response = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
    response.metadata.authoritative = true;
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.queries = request.queries.clone();
    // RFC 6891 §6.1.1: a request with OPT gets a response with OPT.
    response.edns = request.edns.clone();
    let Some(query) = request.queries.first() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response;
    };
    response.answers = zone
        .iter()
        .filter(|record| record.name == query.name && record.record_type() == query.query_type)
        .cloned()
        .collect();
    if response.answers.is_empty() {
        if !zone.iter().any(|record| record.name == query.name) {
            response.metadata.response_code = ResponseCode::NXDomain;
        }
        response.authorities.push(soa());
    }
    response
}

fn name(name: &str) -> Name {
    Name::from_ascii(name).unwrap()
}

fn mx(owner: &str, preference: u16, exchange: &str) -> Record {
    Record::from_rdata(
        name(owner),
        300,
        RData::MX(MX::new(preference, name(exchange))),
    )
}

fn a(owner: &str, ip: &str) -> Record {
    Record::from_rdata(name(owner), 300, RData::A(A(ip.parse().unwrap())))
}

fn aaaa(owner: &str, ip: &str) -> Record {
    Record::from_rdata(name(owner), 300, RData::AAAA(AAAA(ip.parse().unwrap())))
}

/// One SOA serves every negative answer: the responder stands in for the whole `test.` zone.
fn soa() -> Record {
    Record::from_rdata(
        name("test."),
        300,
        RData::SOA(SOA::new(
            name("ns.test."),
            name("hostmaster.test."),
            1,
            3600,
            600,
            86400,
            300,
        )),
    )
}
