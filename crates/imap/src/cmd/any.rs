//! CAPABILITY, LOGOUT, ID, STARTTLS, ENABLE, NAMESPACE and UNAUTHENTICATE.

use crate::error::ImapError;
use crate::session::{Done, Flow, Session, State};
use mailroom_imap_proto::command::session::{CompressAlgorithm, IdParams};
use mailroom_imap_proto::response::{
    Code, Data, Delimiter, NamespaceDesc, Response, StatusKind, Text,
};
use mailroom_imap_proto::{Capability, NonEmpty};

/// RFC 9051 §6.1.1.
pub(crate) fn capability(s: &mut Session) -> Result<Done, ImapError> {
    if let Some(caps) = s.capabilities() {
        s.push(Response::Data(Data::Capability(caps)));
    }
    Ok(Done::ok("CAPABILITY completed"))
}

/// RFC 9051 §6.1.3: BYE first, then the tagged OK.
pub(crate) fn logout(s: &mut Session) -> Result<Done, ImapError> {
    s.push(Response::untagged(
        StatusKind::Bye,
        None,
        Text::sanitized("logging out"),
    ));
    s.state = State::Logout;
    Ok(Done {
        code: None,
        text: "LOGOUT completed".into(),
        flow: Flow::Logout,
    })
}

/// RFC 2971: the client's parameters are logged. A trusted proxy (a webmail, an IMAP proxy)
/// names the client it speaks for in "x-originating-ip", as Dovecot's proxies and webmails
/// do; before login that address takes the connection's place for the login throttle.
pub(crate) fn id(s: &mut Session, params: IdParams) -> Result<Done, ImapError> {
    if let Some(params) = &params
        && s.from_proxy
        && matches!(s.state, crate::session::State::NotAuthenticated)
        && let Some(client) = originating_ip(params)
    {
        tracing::info!(proxy = %s.peer, client = %client, "IMAP ID: a trusted proxy names its client");
        s.peer = client;
    }
    if let Some(params) = &params {
        let client: Vec<String> = params
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    String::from_utf8_lossy(k),
                    v.as_deref()
                        .map(String::from_utf8_lossy)
                        .unwrap_or_default()
                )
            })
            .collect();
        tracing::debug!(client = %client.join(", "), "IMAP ID");
    }
    s.push(Response::Data(Data::Id(Some(vec![(
        b"name".to_vec(),
        Some(b"Mailroom".to_vec()),
    )]))));
    Ok(Done::ok("ID completed"))
}

fn originating_ip(params: &[(Vec<u8>, Option<Vec<u8>>)]) -> Option<std::net::IpAddr> {
    params
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(b"x-originating-ip"))
        .and_then(|(_, value)| value.as_deref())
        .and_then(|value| std::str::from_utf8(value).ok())
        .and_then(|text| text.trim().trim_matches(['[', ']']).parse().ok())
}

/// RFC 9051 §6.2.1. Anything the client pipelined after STARTTLS is thrown away by the driver.
pub(crate) fn starttls(s: &mut Session) -> Result<Done, ImapError> {
    if s.tls_active {
        return Err(ImapError::bad("TLS is already active"));
    }
    // TLS under an active deflate layer would need the layer to survive the restart.
    if s.compressed {
        return Err(ImapError::bad("STARTTLS is not allowed after COMPRESS"));
    }
    if s.shared.tls.is_none() {
        return Err(ImapError::no("TLS is not available"));
    }
    Ok(Done {
        code: None,
        text: "begin TLS negotiation now".into(),
        flow: Flow::StartTls,
    })
}

/// RFC 4978 §3: DEFLATE once per connection.
pub(crate) fn compress(s: &mut Session, algorithm: CompressAlgorithm) -> Result<Done, ImapError> {
    if s.compressed {
        return Err(ImapError::no_code(
            Code::CompressionActive,
            "compression is already active",
        ));
    }
    if algorithm != CompressAlgorithm::Deflate {
        return Err(ImapError::bad("unknown compression algorithm"));
    }
    s.compressed = true;
    Ok(Done {
        code: None,
        text: "DEFLATE active".into(),
        flow: Flow::Compress,
    })
}

/// RFC 5161 ENABLE; RFC 9051 §6.3.1. Unknown capabilities are ignored; CONDSTORE is implied by
/// QRESYNC (RFC 7162 §3.2.3).
pub(crate) fn enable(s: &mut Session, caps: NonEmpty<Capability>) -> Result<Done, ImapError> {
    let mut enabled = Vec::new();
    for cap in caps.iter() {
        let name = cap.as_str().to_ascii_uppercase();
        let flag = match name.as_str() {
            "IMAP4REV2" => &mut s.enabled.rev2,
            "UTF8=ACCEPT" => &mut s.enabled.utf8_accept,
            "CONDSTORE" => &mut s.enabled.condstore,
            "QRESYNC" => {
                // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
                s.enabled.condstore = true;
                &mut s.enabled.qresync
            }
            _ => continue,
        };
        if !*flag {
            *flag = true;
            enabled.push(cap.clone());
        }
    }
    s.push(Response::Data(Data::Enabled(enabled)));
    Ok(Done::ok("ENABLE completed"))
}

/// RFC 9051 §6.3.10: one personal namespace with "/" as the separator.
pub(crate) fn namespace(s: &mut Session) -> Result<Done, ImapError> {
    s.push(Response::Data(Data::Namespace {
        personal: vec![NamespaceDesc {
            prefix: Vec::new(),
            delimiter: Delimiter::new('/').ok(),
        }],
        other_users: Vec::new(),
        shared: Vec::new(),
    }));
    Ok(Done::ok("NAMESPACE completed"))
}

/// RFC 8437: back to the not-authenticated state, forgetting everything of the user.
pub(crate) fn unauthenticate(s: &mut Session) -> Result<Done, ImapError> {
    s.state = State::NotAuthenticated;
    if let Some(permit) = &mut s.permit {
        permit.logged_out();
    }
    s.enabled = Default::default();
    s.saved_search = None;
    Ok(Done::ok("UNAUTHENTICATE completed"))
}
