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
