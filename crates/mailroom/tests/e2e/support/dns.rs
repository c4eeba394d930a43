//! A tiny authoritative name server on loopback for tests that need DNS answers.

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record};
use std::net::{SocketAddr, UdpSocket};

/// An authoritative responder for `zone` on 127.0.0.1: each question gets the zone's records
/// of that name and type, NODATA for a name with other types, NXDOMAIN otherwise.
pub fn serve(zone: Vec<Record>) -> SocketAddr {
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

pub fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a DNS name")
}

pub fn record(owner: &str, data: RData) -> Record {
    Record::from_rdata(name(owner), 300, data)
}

pub fn txt(owner: &str, parts: &[&str]) -> Record {
    record(
        owner,
        RData::TXT(TXT::new(parts.iter().map(|p| p.to_string()).collect())),
    )
}

pub fn a(owner: &str, ip: &str) -> Record {
    record(owner, RData::A(A(ip.parse().expect("an IPv4 address"))))
}
