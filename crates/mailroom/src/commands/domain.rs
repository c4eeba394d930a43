//! `mailroom domain`: the operations are `mailroom_admin::Admin`'s; this prints them.

use crate::cli::DomainCommand;
use crate::commands::human;
use mailroom_admin::{Admin, ClientEndpoints, DomainSettings};
use mailroom_store::Domain;
use std::process::ExitCode;

pub async fn run(
    admin: Admin,
    cmd: DomainCommand,
    endpoints: &ClientEndpoints,
) -> anyhow::Result<ExitCode> {
    match cmd {
        DomainCommand::Add { name } => {
            let domain = admin.add_domain(&name).await?;
            say!("domain {} added", domain.name);
            say!(
                "publish these DNS records (`mailroom domain dns {}` shows them again):",
                domain.name
            );
            print_dns(&admin, &domain, endpoints)?;
            warn_if_not_public(&endpoints.hostname, &domain.name);
        }
        DomainCommand::Dns { name } => {
            let domain = admin.domain(&name).await?;
            print_dns(&admin, &domain, endpoints)?;
            warn_if_not_public(&endpoints.hostname, &domain.name);
        }
        DomainCommand::Check { name, resolver } => {
            let domain = admin.domain(&name).await?;
            return check_dns(&admin, &domain, endpoints, resolver).await;
        }
        DomainCommand::List => {
            for domain in admin.domains().await? {
                say!("{}", describe(&domain));
            }
        }
        DomainCommand::Set {
            name,
            quota,
            max_messages,
            recovery_days,
        } => {
            let settings = DomainSettings::parse(
                quota.as_deref(),
                max_messages.as_deref(),
                recovery_days.as_deref(),
            )?;
            say!(
                "{}",
                describe(&admin.update_domain(&name, &settings).await?)
            );
        }
        DomainCommand::Remove { name } => {
            admin.remove_domain(&name).await?;
            say!("domain {name} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The MX and SRV records name `hostname`; the default ("localhost") or any name other
/// servers can't resolve makes records that send the domain's mail nowhere.
fn warn_if_not_public(hostname: &str, domain: &str) {
    use std::io::Write;
    let host = hostname.trim_end_matches('.').to_ascii_lowercase();
    let local = host == "localhost"
        || host.ends_with(".localhost")
        || !host.contains('.')
        || host.parse::<std::net::IpAddr>().is_ok()
        || [
            ".local",
            ".test",
            ".invalid",
            ".example",
            ".internal",
            ".lan",
        ]
        .iter()
        .any(|suffix| host.ends_with(suffix));
    if local {
        // On stderr, so the records on stdout can still be pasted as they are.
        let _ = writeln!(
            std::io::stderr(),
            "warning: these records name this server {hostname:?}, which other mail servers \
             can't reach; set `hostname` in the configuration to the server's public name \
             (e.g. mail.{domain}) and run `mailroom domain dns {domain}` again"
        );
    }
}

/// Every record the domain needs, as zone-file lines.
fn print_dns(
    admin: &Admin,
    domain: &Domain,
    endpoints: &ClientEndpoints,
) -> Result<(), super::OutputError> {
    for record in admin.dns_records(domain, endpoints) {
        say!("{record}");
    }
    Ok(())
}

/// Each record with its state; exit status 1 while any is missing or different.
async fn check_dns(
    admin: &Admin,
    domain: &Domain,
    endpoints: &ClientEndpoints,
    resolver: Option<std::net::SocketAddr>,
) -> anyhow::Result<ExitCode> {
    use mailroom_admin::dns_check::{Finding, check_records};
    use mailroom_outbound::mx::{resolver_with_nameservers, system_resolver};
    let resolver = match resolver {
        Some(server) => resolver_with_nameservers(&[server], std::time::Duration::from_secs(5), 1),
        None => system_resolver(),
    }
    .map_err(|e| anyhow::anyhow!("no DNS resolver: {e}"))?;
    let records = admin.dns_records(domain, endpoints);
    let total = records.len();
    let checked = check_records(&resolver, &endpoints.hostname, records).await;
    let mut attention = 0;
    for c in &checked {
        let state = match &c.finding {
            Finding::Ok => "ok",
            Finding::Missing => "missing",
            Finding::Differs(_) => "differs",
            Finding::Unknown(_) => "unknown",
        };
        say!("{state:<8} {}", c.record);
        match &c.finding {
            Finding::Ok => continue,
            Finding::Differs(found) => {
                for value in found {
                    say!("         found: {value}");
                }
            }
            Finding::Unknown(why) => say!("         lookup failed: {why}"),
            Finding::Missing => {}
        }
        attention += 1;
    }
    if attention == 0 {
        say!("all {total} records of {} are published", domain.name);
        Ok(ExitCode::SUCCESS)
    } else {
        say!(
            "{attention} of {total} records of {} need attention (`mailroom domain dns {}` prints them to publish)",
            domain.name,
            domain.name
        );
        Ok(ExitCode::from(1))
    }
}

fn describe(d: &Domain) -> String {
    let mut out = d.name.clone();
    if let Some(q) = d.default_quota_bytes {
        out.push_str(&format!("  quota {}", human(q)));
    }
    if let Some(m) = d.default_quota_messages {
        out.push_str(&format!("  max-messages {m}"));
    }
    if let Some(days) = d.recovery_days {
        out.push_str(&format!("  recovery {days} days"));
    }
    out
}
