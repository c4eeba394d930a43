use crate::cli::DomainCommand;
use crate::commands::account::{parse_limit_count, parse_limit_size};
use crate::commands::{Naming, human};
use anyhow::Context;
use mailroom_store::{Directory, Domain, DomainUpdate};
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;

pub async fn run(
    store: SqliteStore,
    cmd: DomainCommand,
    hostname: &str,
) -> anyhow::Result<ExitCode> {
    match cmd {
        DomainCommand::Add { name } => {
            let domain = store
                .add_domain(&name)
                .await
                .naming(|| format!("domain {name}"))?;
            let domain = with_dkim_key(&store, domain).await?;
            say!("domain {} added", domain.name);
            say!(
                "publish these DNS records (`mailroom domain dns {}` shows them again):",
                domain.name
            );
            print_dns(&domain, hostname)?;
            warn_if_not_public(hostname, &domain.name);
        }
        DomainCommand::Dns { name } => {
            let domain = store
                .list_domains()
                .await?
                .into_iter()
                .find(|d| {
                    d.name
                        .eq_ignore_ascii_case(name.trim().trim_end_matches('.'))
                })
                .with_context(|| format!("no domain {name}"))?;
            // Domains added before DKIM signing existed get their key now.
            let domain = with_dkim_key(&store, domain).await?;
            print_dns(&domain, hostname)?;
            warn_if_not_public(hostname, &domain.name);
        }
        DomainCommand::List => {
            for domain in store.list_domains().await? {
                say!("{}", describe(&domain));
            }
        }
        DomainCommand::Set {
            name,
            quota,
            max_messages,
            recovery_days,
        } => {
            let recovery_days = match recovery_days.as_deref() {
                None => None,
                Some(d) if d.eq_ignore_ascii_case("default") => Some(None),
                Some(d) => Some(Some(
                    d.parse::<u32>()
                        .with_context(|| format!("invalid number of days {d:?}"))?,
                )),
            };
            let update = DomainUpdate {
                default_quota_bytes: quota.as_deref().map(parse_limit_size).transpose()?,
                default_quota_messages: max_messages
                    .as_deref()
                    .map(parse_limit_count)
                    .transpose()?,
                recovery_days,
                dkim: None,
            };
            let domain = store
                .update_domain(&name, update)
                .await
                .naming(|| format!("domain {name}"))?;
            say!("{}", describe(&domain));
        }
        DomainCommand::Remove { name } => {
            store
                .remove_domain(&name)
                .await
                .naming(|| format!("domain {name}"))?;
            say!("domain {name} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Gives the domain a DKIM key if it has none. The selector carries the month it was made, so
/// a future key can be published beside it before signing switches over.
async fn with_dkim_key(store: &SqliteStore, domain: Domain) -> anyhow::Result<Domain> {
    if domain.dkim.is_some() {
        return Ok(domain);
    }
    let today = time::OffsetDateTime::now_utc();
    let selector = format!("mr{:04}{:02}", today.year(), u8::from(today.month()));
    let key = tokio::task::spawn_blocking(move || mailroom_smtp::dkim::generate_key(&selector))
        .await?
        .context("generating the DKIM key")?;
    let update = DomainUpdate {
        dkim: Some(Some(key)),
        ..Default::default()
    };
    Ok(store.update_domain(&domain.name, update).await?)
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

/// Every record the domain needs, as zone-file lines: MX, SPF, DKIM, DMARC and the RFC 6186
/// SRV records mail programs use to find the servers.
fn print_dns(domain: &Domain, hostname: &str) -> Result<(), super::OutputError> {
    for record in mailroom_smtp::dkim::dns_records(&domain.name, hostname, domain.dkim.as_ref()) {
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
