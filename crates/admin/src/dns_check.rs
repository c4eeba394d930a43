//! `mailroom domain check`: each record a domain should publish, looked up in DNS and judged
//! against what `dns_records` says it must be. Judging is a pure function of the expected
//! record and the answers, so the rules are tested without a name server.

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::{RData, RecordType as Wire};
use mailroom_smtp::dkim::{DnsRecord, RecordType};
use std::collections::BTreeSet;

/// What DNS holds for one expected record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Published as it must be.
    Ok,
    /// Nothing of that kind at the name.
    Missing,
    /// Something else is there (the values found, in zone-file terms).
    Differs(Vec<String>),
    /// The lookup itself failed (a timeout, SERVFAIL): nothing is known.
    Unknown(String),
}

impl Finding {
    pub fn is_ok(&self) -> bool {
        matches!(self, Finding::Ok)
    }
}

#[derive(Debug, Clone)]
pub struct CheckedRecord {
    pub record: DnsRecord,
    pub finding: Finding,
}

/// Looks every record up (one at a time: a domain has about ten) and judges it.
pub async fn check_records(
    resolver: &TokioResolver,
    hostname: &str,
    records: Vec<DnsRecord>,
) -> Vec<CheckedRecord> {
    let mut checked = Vec::with_capacity(records.len());
    for record in records {
        let finding = match lookup(resolver, &record).await {
            Ok(found) => {
                let finding = judge(&record, &found);
                // Many sites give autoconfig.<domain> an A record rather than a CNAME: fine
                // when it leads to the same addresses as the server's own name.
                if record.kind == RecordType::Cname
                    && finding == Finding::Missing
                    && same_addresses(resolver, &record.name, hostname).await
                {
                    Finding::Ok
                } else {
                    finding
                }
            }
            Err(e) => Finding::Unknown(e),
        };
        checked.push(CheckedRecord { record, finding });
    }
    checked
}

/// The values of `record`'s type at its name, in the same terms as `DnsRecord::value`;
/// empty when the name or the type does not exist.
async fn lookup(resolver: &TokioResolver, record: &DnsRecord) -> Result<Vec<String>, String> {
    let wire = match record.kind {
        RecordType::Mx => Wire::MX,
        RecordType::Txt => Wire::TXT,
        RecordType::Srv => Wire::SRV,
        RecordType::Cname => Wire::CNAME,
    };
    let answers = match resolver.lookup(fqdn(&record.name), wire).await {
        Ok(lookup) => lookup.answers().to_vec(),
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => return Ok(Vec::new()),
        Err(e) => return Err(e.to_string()),
    };
    Ok(answers
        .iter()
        .filter_map(|answer| match &answer.data {
            RData::MX(mx) => Some(format!("{} {}", mx.preference, mx.exchange.to_ascii())),
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect(),
            ),
            RData::SRV(srv) => Some(format!(
                "{} {} {} {}",
                srv.priority,
                srv.weight,
                srv.port,
                srv.target.to_ascii()
            )),
            RData::CNAME(cname) => Some(cname.0.to_ascii()),
            _ => None,
        })
        .collect())
}

async fn same_addresses(resolver: &TokioResolver, name: &str, hostname: &str) -> bool {
    let addresses = |name: String| async move {
        resolver
            .lookup_ip(name)
            .await
            .map(|ips| ips.iter().collect::<BTreeSet<_>>())
            .unwrap_or_default()
    };
    let theirs = addresses(fqdn(name)).await;
    !theirs.is_empty() && theirs == addresses(fqdn(hostname)).await
}

/// Whether `found` (the values at the record's name and type) publishes `expected`.
/// Only what matters to the reader of the record is compared: the host an MX names (not its
/// preference), an SRV's port and target, TXT records by their kind (`v=spf1`, `v=DKIM1`,
/// `v=DMARC1`) so another TXT at the name is not a mistake; a DKIM key by its `p=`.
pub fn judge(expected: &DnsRecord, found: &[String]) -> Finding {
    let relevant: Vec<&String> = match expected.kind {
        RecordType::Txt => {
            let kind = txt_kind(&expected.value);
            found.iter().filter(|v| txt_kind(v) == kind).collect()
        }
        _ => found.iter().collect(),
    };
    if relevant.is_empty() {
        return Finding::Missing;
    }
    let matches = |value: &str| match expected.kind {
        RecordType::Mx => last_field(value) == last_field(&expected.value),
        RecordType::Srv => port_and_target(value) == port_and_target(&expected.value),
        RecordType::Cname => host(value) == host(&expected.value),
        RecordType::Txt => match dkim_key(&expected.value) {
            Some(key) => dkim_key(value) == Some(key),
            None => normalized_txt(value) == normalized_txt(&expected.value),
        },
    };
    if relevant.iter().any(|v| matches(v)) {
        Finding::Ok
    } else {
        Finding::Differs(relevant.into_iter().cloned().collect())
    }
}

/// `v=spf1 …` → "v=spf1"; a TXT record without a version tag has kind "".
fn txt_kind(value: &str) -> String {
    let first = value.split([';', ' ']).next().unwrap_or("").trim();
    if first.to_ascii_lowercase().starts_with("v=") {
        first.to_ascii_lowercase()
    } else {
        String::new()
    }
}

fn dkim_key(value: &str) -> Option<String> {
    value.split(';').find_map(|tag| {
        let (name, key) = tag.split_once('=')?;
        (name.trim() == "p").then(|| key.split_whitespace().collect())
    })
}

fn normalized_txt(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

fn host(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn last_field(value: &str) -> String {
    host(value.split_whitespace().last().unwrap_or(""))
}

fn port_and_target(value: &str) -> (Option<String>, String) {
    let fields: Vec<&str> = value.split_whitespace().collect();
    (fields.get(2).map(|p| p.to_string()), last_field(value))
}

fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: RecordType, value: &str) -> DnsRecord {
        DnsRecord {
            name: "example.com".into(),
            kind,
            value: value.into(),
        }
    }

    fn found(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn mx_is_judged_by_the_host_it_names() {
        let mx = record(RecordType::Mx, "10 mail.example.com.");
        assert_eq!(judge(&mx, &found(&["20 Mail.Example.com."])), Finding::Ok);
        assert_eq!(judge(&mx, &[]), Finding::Missing);
        assert_eq!(
            judge(&mx, &found(&["10 mx.other.net."])),
            Finding::Differs(found(&["10 mx.other.net."]))
        );
    }

    #[test]
    fn txt_records_are_judged_among_their_own_kind() {
        let spf = record(RecordType::Txt, "v=spf1 mx -all");
        let unrelated = "google-site-verification=abc";
        assert_eq!(judge(&spf, &found(&[unrelated])), Finding::Missing);
        assert_eq!(
            judge(&spf, &found(&[unrelated, "v=spf1  MX -all"])),
            Finding::Ok
        );
        assert_eq!(
            judge(&spf, &found(&["v=spf1 include:other.net ~all"])),
            Finding::Differs(found(&["v=spf1 include:other.net ~all"]))
        );
    }

    #[test]
    fn a_dkim_key_is_judged_by_its_public_key() {
        let dkim = record(RecordType::Txt, "v=DKIM1; k=rsa; p=MIIBkey");
        assert_eq!(judge(&dkim, &found(&["v=DKIM1; p=MIIB key"])), Finding::Ok);
        assert!(matches!(
            judge(&dkim, &found(&["v=DKIM1; k=rsa; p=OLDKEY"])),
            Finding::Differs(_)
        ));
    }

    #[test]
    fn srv_is_judged_by_port_and_target() {
        let srv = record(RecordType::Srv, "0 1 993 mail.example.com.");
        assert_eq!(
            judge(&srv, &found(&["5 0 993 mail.example.com."])),
            Finding::Ok
        );
        assert!(matches!(
            judge(&srv, &found(&["0 1 143 mail.example.com."])),
            Finding::Differs(_)
        ));
    }
}
