//! Domains: each gets a DKIM signing key when it is added, and the DNS records it must
//! publish name this server's real endpoints.

use crate::{Admin, AdminError, ClientEndpoints, DomainSettings, Result};
use mailroom_smtp::dkim::DnsRecord;
use mailroom_store::{Domain, DomainUpdate, StoreError};

impl Admin {
    pub async fn domains(&self) -> Result<Vec<Domain>> {
        Ok(self.store.list_domains().await?)
    }

    /// The domain (case and a trailing dot don't matter), given a DKIM key if it was added
    /// before DKIM signing existed.
    pub async fn domain(&self, name: &str) -> Result<Domain> {
        let wanted = name.trim().trim_end_matches('.');
        let domain = self
            .store
            .domain(wanted)
            .await?
            .ok_or_else(|| AdminError::NoDomain(wanted.to_string()))?;
        self.with_dkim_key(domain).await
    }

    /// Adds a domain with its DKIM key.
    pub async fn add_domain(&self, name: &str) -> Result<Domain> {
        let domain = self.store.add_domain(name).await.map_err(|e| match e {
            StoreError::AlreadyExists(_) => AdminError::DomainExists(name.trim().to_string()),
            other => other.into(),
        })?;
        self.with_dkim_key(domain).await
    }

    pub async fn update_domain(&self, name: &str, settings: &DomainSettings) -> Result<Domain> {
        self.store
            .update_domain(name, settings.update())
            .await
            .map_err(|e| named(e, name))
    }

    /// Refused while the domain has accounts.
    pub async fn remove_domain(&self, name: &str) -> Result<()> {
        self.store.remove_domain(name).await.map_err(|e| match e {
            StoreError::NotAllowed(_) => AdminError::DomainInUse(name.trim().to_string()),
            other => named(other, name),
        })
    }

    /// Every record `domain` must publish for mail to reach this server and for mail
    /// programs to find it (MX, SPF, DKIM, DMARC, and an SRV record per real endpoint).
    pub fn dns_records(&self, domain: &Domain, endpoints: &ClientEndpoints) -> Vec<DnsRecord> {
        let mut records = mailroom_smtp::dkim::dns_records(
            &domain.name,
            &endpoints.hostname,
            domain.dkim.as_ref(),
        );
        records.extend(endpoints.srv_records(&domain.name));
        records
    }

    /// Gives the domain a DKIM key if it has none. The selector carries the month it was made,
    /// so a future key can be published beside it before signing switches over.
    async fn with_dkim_key(&self, domain: Domain) -> Result<Domain> {
        if domain.dkim.is_some() {
            return Ok(domain);
        }
        let today = time::OffsetDateTime::now_utc();
        let selector = format!("mr{:04}{:02}", today.year(), u8::from(today.month()));
        // RSA key generation takes a CPU for a moment: not on the async workers.
        let key = tokio::task::spawn_blocking(move || mailroom_smtp::dkim::generate_key(&selector))
            .await
            .map_err(|e| AdminError::Internal(format!("generating the DKIM key: {e}")))?
            .map_err(|e| AdminError::Internal(format!("generating the DKIM key: {e}")))?;
        let update = DomainUpdate {
            dkim: Some(Some(key)),
            ..DomainUpdate::default()
        };
        Ok(self.store.update_domain(&domain.name, update).await?)
    }
}

fn named(e: StoreError, name: &str) -> AdminError {
    match e {
        StoreError::NotFound(_) => AdminError::NoDomain(name.trim().to_string()),
        other => other.into(),
    }
}
