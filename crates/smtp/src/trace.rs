//! The trace fields a receiving server prepends: `Return-Path` (RFC 5321 §4.4, added at final
//! delivery) and `Received` (RFC 5321 §4.4, with the protocol names of RFC 3848 and RFC 6531
//! §3.7.3; an authenticated submission is "ESMTPSA" and names its user).

use std::net::IpAddr;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

pub struct Trace<'a> {
    pub sender: &'a str,
    pub helo: &'a str,
    pub peer: IpAddr,
    pub hostname: &'a str,
    pub protocol: Protocol,
    pub id: &'a str,
    /// Named only when the message has a single recipient, so one copy can't reveal the
    /// others (RFC 5321 §7.2).
    pub single_recipient: Option<&'a str>,
    pub date: OffsetDateTime,
    /// The AUTH user of a submission (RFC 4954 §7 asks to record it in Received).
    pub authenticated: Option<&'a str>,
}

#[derive(Debug, Clone, Copy)]
pub struct Protocol {
    pub lmtp: bool,
    /// EHLO/LHLO rather than HELO.
    pub extended: bool,
    pub tls: bool,
    pub smtputf8: bool,
    /// AUTH succeeded (RFC 3848 §2: the "A" suffix).
    pub authenticated: bool,
}

impl Protocol {
    /// RFC 3848 §3 and RFC 6531 §3.7.3.
    pub fn name(self) -> String {
        let base = match (self.lmtp, self.extended) {
            (true, _) => "LMTP",
            (false, true) => "ESMTP",
            (false, false) => "SMTP",
        };
        let utf8 = if self.smtputf8 { "UTF8" } else { "" };
        let tls = if self.tls && (self.lmtp || self.extended) {
            "S"
        } else {
            ""
        };
        let auth = if self.authenticated && (self.lmtp || self.extended) {
            "A"
        } else {
            ""
        };
        match (self.smtputf8, self.lmtp) {
            // UTF8SMTP replaces ESMTP; UTF8LMTP replaces LMTP.
            (true, false) => format!("UTF8SMTP{tls}{auth}"),
            _ => format!("{utf8}{base}{tls}{auth}"),
        }
    }
}

impl Trace<'_> {
    /// Return-Path and Received, for final delivery.
    pub fn headers(&self) -> Vec<u8> {
        let mut out = format!("Return-Path: <{}>\r\n", self.sender).into_bytes();
        out.extend(self.received());
        out
    }

    /// Received alone, for a message that goes on to another server.
    pub fn received(&self) -> Vec<u8> {
        let peer = match self.peer {
            IpAddr::V4(ip) => format!("[{ip}]"),
            IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
                Some(v4) => format!("[{v4}]"),
                None => format!("[IPv6:{ip}]"),
            },
        };
        let date = self.date.format(&Rfc2822).unwrap_or_default();
        let mut out = String::new();
        out.push_str(&format!(
            "Received: from {} ({peer})\r\n\tby {} (Mailroom) with {} id {}",
            printable(self.helo),
            self.hostname,
            self.protocol.name(),
            self.id
        ));
        if let Some(user) = self.authenticated {
            out.push_str(&format!("\r\n\t(authenticated as {})", printable(user)));
        }
        if let Some(rcpt) = self.single_recipient {
            out.push_str(&format!("\r\n\tfor <{rcpt}>"));
        }
        out.push_str(&format!(";\r\n\t{date}\r\n"));
        out.into_bytes()
    }
}

/// A HELO name goes into a header: keep it to printable characters without comment syntax.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || "()\\".contains(c) {
                '?'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_header() {
        let trace = Trace {
            sender: "a@b.example",
            helo: "client.example",
            peer: "192.0.2.1".parse().unwrap(),
            hostname: "mx.example",
            protocol: Protocol {
                lmtp: false,
                extended: true,
                tls: true,
                smtputf8: false,
                authenticated: false,
            },
            id: "ABC",
            single_recipient: Some("ann@example.test"),
            date: OffsetDateTime::from_unix_timestamp(0).unwrap(),
            authenticated: None,
        };
        assert_eq!(
            String::from_utf8(trace.headers()).unwrap(),
            "Return-Path: <a@b.example>\r\n\
             Received: from client.example ([192.0.2.1])\r\n\
             \tby mx.example (Mailroom) with ESMTPS id ABC\r\n\
             \tfor <ann@example.test>;\r\n\
             \tThu, 01 Jan 1970 00:00:00 +0000\r\n"
        );
    }

    #[test]
    fn protocol_names() {
        let p = |lmtp, extended, tls, smtputf8| {
            Protocol {
                lmtp,
                extended,
                tls,
                smtputf8,
                authenticated: false,
            }
            .name()
        };
        let auth = |tls, smtputf8| {
            Protocol {
                lmtp: false,
                extended: true,
                tls,
                smtputf8,
                authenticated: true,
            }
            .name()
        };
        assert_eq!(auth(true, false), "ESMTPSA");
        assert_eq!(auth(false, false), "ESMTPA");
        assert_eq!(auth(true, true), "UTF8SMTPSA");
        assert_eq!(p(false, false, false, false), "SMTP");
        assert_eq!(p(false, true, false, false), "ESMTP");
        assert_eq!(p(false, true, true, false), "ESMTPS");
        assert_eq!(p(true, true, false, false), "LMTP");
        assert_eq!(p(true, true, true, false), "LMTPS");
        assert_eq!(p(false, true, true, true), "UTF8SMTPS");
        assert_eq!(p(true, true, false, true), "UTF8LMTP");
    }
}
