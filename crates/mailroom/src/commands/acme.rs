//! `[tls] acme = true`: certificates for the server's name and each domain's autoconfig names,
//! checked at start and twice a day, ordered or renewed by `mailroom_net::acme`, served by
//! reloading the certificate store.

use crate::config::{Config, LETS_ENCRYPT};
use mailroom_net::CertStore;
use mailroom_net::acme::{AcmeClient, AcmeConfig, Challenges};
use mailroom_store::Directory;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const CHECK_EVERY: Duration = Duration::from_secs(12 * 3600);
/// After a failure (DNS not there yet, port 80 closed): soon, but well inside the CA's
/// limit on failed validations (Let's Encrypt: 5 an hour per name).
const RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Where issued certificates are kept, when ACME is on.
pub fn cert_dir(config: &Config) -> Option<PathBuf> {
    config
        .tls
        .acme
        .then(|| config.data_dir.join("tls").join("acme"))
}

/// The ACME client for this configuration; an error says what is missing.
pub fn client(config: &Config, challenges: Challenges) -> anyhow::Result<Option<AcmeClient>> {
    let Some(dir) = cert_dir(config) else {
        return Ok(None);
    };
    anyhow::ensure!(
        !config.http.listen.is_empty(),
        "[tls] acme needs [http] listen (plain HTTP, port 80 under the certificate names): \
         the CA checks each name there"
    );
    let host = config.hostname.trim_end_matches('.');
    anyhow::ensure!(
        host.contains('.') && host != "localhost",
        "[tls] acme needs `hostname` to be the server's public name, not {host:?}"
    );
    Ok(Some(AcmeClient::new(
        AcmeConfig {
            directory: config
                .tls
                .acme_directory
                .clone()
                .unwrap_or_else(|| LETS_ENCRYPT.to_string()),
            contact: config.tls.acme_contact.clone(),
            ca_root: config.tls.acme_ca.clone(),
            dir,
        },
        challenges,
    )))
}

/// Runs for the life of the server. Each domain's autoconfig and autodiscover names get a
/// certificate of their own, so a domain whose DNS is not ready fails alone.
pub async fn keep_certificates(
    client: AcmeClient,
    directory: Arc<dyn Directory>,
    certs: Arc<CertStore>,
    hostname: String,
) {
    loop {
        let mut groups = vec![vec![hostname.clone()]];
        match directory.list_domains().await {
            Ok(domains) => groups.extend(domains.iter().map(|d| {
                vec![
                    format!("autoconfig.{}", d.name),
                    format!("autodiscover.{}", d.name),
                ]
            })),
            Err(e) => tracing::warn!("ACME: listing the domains: {e}"),
        }
        let (mut issued, mut failed) = (false, false);
        for names in &groups {
            match client.ensure(names).await {
                Ok(new) => issued |= new,
                Err(e) => {
                    failed = true;
                    tracing::warn!("ACME: {e}");
                }
            }
        }
        if issued {
            match certs.reload() {
                Ok(summary) => tracing::info!("TLS: {summary}"),
                Err(e) => tracing::error!("TLS: the issued certificates did not load: {e}"),
            }
        }
        tokio::time::sleep(if failed { RETRY_AFTER } else { CHECK_EVERY }).await;
    }
}
