//! Client autoconfiguration in each format mail programs ask for, all made from one
//! `ClientEndpoints` (the listeners that are really open): Mozilla's autoconfig
//! (Thunderbird, K-9/FairEmail, Evolution), Microsoft's Autodiscover (Outlook: the POX
//! request and response, and the v2 JSON redirect) and Apple's configuration profile.
//! Formats as the major servers serve them (Stalwart, mox, Mailcow, Mail-in-a-Box).

use askama::Template;
use mailroom_admin::{ClientEndpoints, Endpoint, Security};
use sha2::{Digest, Sha256};

/// One server entry of an answer.
pub(crate) struct Server {
    kind: &'static str,
    port: u16,
    /// Mozilla's socketType.
    socket: &'static str,
    implicit_tls: bool,
}

impl Server {
    fn new(kind: &'static str, e: &Endpoint) -> Self {
        let (socket, implicit_tls) = match e.security {
            Security::Tls => ("SSL", true),
            Security::StartTls => ("STARTTLS", false),
        };
        Server {
            kind,
            port: e.port,
            socket,
            implicit_tls,
        }
    }
}

#[derive(Template)]
#[template(path = "mozilla-autoconfig.xml")]
struct Mozilla<'a> {
    domain: &'a str,
    hostname: &'a str,
    username: &'a str,
    incoming: Vec<Server>,
    outgoing: Vec<Server>,
}

/// Mozilla autoconfig v1.1: IMAP first (recommended: every device sees all mail and
/// folders), then POP3, then submission; implicit TLS before STARTTLS. Without an address
/// the user name is the `%EMAILADDRESS%` placeholder the client fills in.
pub fn mozilla(ends: &ClientEndpoints, domain: &str, address: Option<&str>) -> String {
    let mut incoming: Vec<Server> = ends.imap.iter().map(|e| Server::new("imap", e)).collect();
    incoming.extend(ends.pop3.iter().map(|e| Server::new("pop3", e)));
    let page = Mozilla {
        domain,
        hostname: &ends.hostname,
        username: address.unwrap_or("%EMAILADDRESS%"),
        incoming,
        outgoing: ends
            .submission
            .iter()
            .map(|e| Server::new("smtp", e))
            .collect(),
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "autodiscover.xml")]
struct Autodiscover<'a> {
    address: &'a str,
    hostname: &'a str,
    protocols: Vec<Server>,
}

/// The Outlook (POX) answer: one entry per protocol, the recommended endpoint of each.
pub fn autodiscover(ends: &ClientEndpoints, address: &str) -> String {
    let mut protocols = Vec::new();
    for (kind, list) in [
        ("IMAP", &ends.imap),
        ("POP3", &ends.pop3),
        ("SMTP", &ends.submission),
    ] {
        if let Some(e) = ClientEndpoints::preferred(list) {
            protocols.push(Server::new(kind, &e));
        }
    }
    render(&Autodiscover {
        address,
        hostname: &ends.hostname,
        protocols,
    })
}

#[derive(Template)]
#[template(path = "autodiscover-error.xml")]
struct AutodiscoverError<'a> {
    time: String,
    id: String,
    code: u16,
    message: &'a str,
}

/// Autodiscover's own error answer: 500 for an address this server has no settings for,
/// 600 for a request it can't read, 601 for a response schema it doesn't offer.
pub fn autodiscover_error(code: u16, message: &str) -> String {
    let now = time::OffsetDateTime::now_utc();
    let time = format!("{:02}:{:02}:{:02}", now.hour(), now.minute(), now.second());
    let id = format!("{:08x}", now.unix_timestamp_nanos() as u32);
    render(&AutodiscoverError {
        time,
        id,
        code,
        message,
    })
}

/// The response schema Outlook asks for, the only one this server answers in.
pub const OUTLOOK_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// What an Autodiscover POX request asks: the address and the schema wanted.
#[derive(Debug, PartialEq, Eq)]
pub struct AutodiscoverRequest {
    pub address: String,
    pub schema: Option<String>,
}

/// Reads `<Autodiscover><Request><EMailAddress>…</EMailAddress>
/// <AcceptableResponseSchema>…</AcceptableResponseSchema></Request></Autodiscover>`;
/// None when the body is not such a request.
pub fn parse_autodiscover_request(body: &[u8]) -> Option<AutodiscoverRequest> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    let (mut address, mut schema) = (None, None);
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) => current = Some(e.local_name().as_ref().to_vec()),
            Event::End(_) => current = None,
            Event::Text(t) => {
                let text = t.unescape().ok()?.trim().to_string();
                match current.as_deref() {
                    Some(b"EMailAddress") => address = Some(text),
                    Some(b"AcceptableResponseSchema") => schema = Some(text),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Some(AutodiscoverRequest {
        address: address.filter(|a| !a.is_empty())?,
        schema,
    })
}

#[derive(Template)]
#[template(path = "mobileconfig.xml")]
struct MobileConfig<'a> {
    address: &'a str,
    domain: &'a str,
    hostname: &'a str,
    account_type: &'static str,
    incoming: Server,
    outgoing: Server,
    password: Option<&'a str>,
    identifier: String,
    account_uuid: String,
    profile_uuid: String,
}

/// An Apple configuration profile (`com.apple.mail.managed`) for `address`: IMAP when the
/// server offers it, else POP3; with `password` (an app password made for the device) the
/// device needs nothing typed. None when there is no incoming or outgoing endpoint. `seed`
/// (the server's secret) makes the identifiers stable for an address, so installing a newer
/// profile replaces the old one, and unguessable.
pub fn mobileconfig(
    ends: &ClientEndpoints,
    address: &str,
    password: Option<&str>,
    seed: &[u8],
) -> Option<String> {
    let (account_type, incoming) = match ClientEndpoints::preferred(&ends.imap) {
        Some(e) => ("EmailTypeIMAP", Server::new("imap", &e)),
        None => (
            "EmailTypePOP",
            Server::new("pop3", &ClientEndpoints::preferred(&ends.pop3)?),
        ),
    };
    let outgoing = Server::new("smtp", &ClientEndpoints::preferred(&ends.submission)?);
    let domain = address.rsplit('@').next().unwrap_or(address);
    let digest = |purpose: &str| {
        let mut h = Sha256::new();
        h.update(seed);
        h.update(purpose.as_bytes());
        h.update(address.to_lowercase().as_bytes());
        h.finalize()
    };
    let reversed: Vec<&str> = ends.hostname.rsplit('.').collect();
    let tag: String = digest("id")[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(render(&MobileConfig {
        address,
        domain,
        hostname: &ends.hostname,
        account_type,
        incoming,
        outgoing,
        password,
        identifier: format!("{}.mailroom.{tag}", reversed.join(".")),
        account_uuid: uuid(&digest("account")),
        profile_uuid: uuid(&digest("profile")),
    }))
}

/// The first 16 bytes of a digest as a version-4-shaped UUID.
fn uuid(digest: &[u8]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Templates of plain values cannot fail to render; should one ever, an empty body (which
/// every client treats as "no settings") beats a panic.
fn render(t: &impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!("rendering {}: {e}", std::any::type_name_of_val(t));
        String::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_admin::endpoints;

    fn ends() -> ClientEndpoints {
        let s = |l: &[&str]| l.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        ClientEndpoints {
            hostname: "mail.example.com".into(),
            imap: endpoints(&s(&["0.0.0.0:143"]), &s(&["0.0.0.0:993"])),
            pop3: endpoints(&[], &s(&["0.0.0.0:995"])),
            submission: endpoints(&s(&["0.0.0.0:587"]), &s(&["0.0.0.0:465"])),
            https: Some(443),
            http: None,
        }
    }

    #[test]
    fn mozilla_lists_imap_first_and_escapes() {
        let xml = mozilla(&ends(), "example.com", Some("o'brien&co@example.com"));
        let imap = xml.find("type=\"imap\"").unwrap();
        let pop3 = xml.find("type=\"pop3\"").unwrap();
        assert!(imap < pop3);
        assert!(xml.contains("<port>993</port>\n      <socketType>SSL</socketType>"));
        assert!(xml.contains("<port>143</port>\n      <socketType>STARTTLS</socketType>"));
        assert!(xml.contains("o&#39;brien&#38;co@example.com"), "{xml}");
        let generic = mozilla(&ends(), "example.com", None);
        assert!(generic.contains("<username>%EMAILADDRESS%</username>"));
    }

    #[test]
    fn autodiscover_request_and_answer() {
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>ann@example.com</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"#;
        let request = parse_autodiscover_request(body).unwrap();
        assert_eq!(request.address, "ann@example.com");
        assert_eq!(request.schema.as_deref(), Some(OUTLOOK_SCHEMA));
        assert!(parse_autodiscover_request(b"not xml <<").is_none());
        assert!(parse_autodiscover_request(b"<Autodiscover/>").is_none());
        let xml = autodiscover(&ends(), "ann@example.com");
        assert!(xml.contains(
            "<Type>IMAP</Type>\n        <Server>mail.example.com</Server>\n        <Port>993</Port>"
        ));
        assert!(xml.contains(
            "<Type>SMTP</Type>\n        <Server>mail.example.com</Server>\n        <Port>465</Port>"
        ));
        assert!(autodiscover_error(500, "x").contains("<ErrorCode>500</ErrorCode>"));
    }

    #[test]
    fn mobileconfig_is_a_plist_with_stable_ids() {
        let one = mobileconfig(&ends(), "ann@example.com", None, b"secret").unwrap();
        let two = mobileconfig(&ends(), "ann@example.com", None, b"secret").unwrap();
        assert_eq!(one, two);
        let value: plist::Value = plist::from_bytes(one.as_bytes()).unwrap();
        let outer = value.as_dictionary().unwrap();
        assert_eq!(outer["PayloadType"].as_string(), Some("Configuration"));
        let mail = outer["PayloadContent"].as_array().unwrap()[0]
            .as_dictionary()
            .unwrap();
        assert_eq!(
            mail["PayloadType"].as_string(),
            Some("com.apple.mail.managed")
        );
        assert_eq!(mail["EmailAccountType"].as_string(), Some("EmailTypeIMAP"));
        assert_eq!(
            mail["IncomingMailServerPortNumber"].as_unsigned_integer(),
            Some(993)
        );
        assert_eq!(mail["IncomingMailServerUseSSL"].as_boolean(), Some(true));
        assert!(mail.get("IncomingPassword").is_none());
        let with = mobileconfig(&ends(), "ann@example.com", Some("abcd-efgh"), b"secret").unwrap();
        let value: plist::Value = plist::from_bytes(with.as_bytes()).unwrap();
        let mail = value.as_dictionary().unwrap()["PayloadContent"]
            .as_array()
            .unwrap()[0]
            .as_dictionary()
            .unwrap()
            .clone();
        assert_eq!(mail["IncomingPassword"].as_string(), Some("abcd-efgh"));
        let other = mobileconfig(&ends(), "bob@example.com", None, b"secret").unwrap();
        assert_ne!(one, other);
    }
}
