//! What the API shows of the store's types (never a password hash or a key), and the request
//! bodies it takes.

use mailroom_admin::{AccountSettings, AdminError, DomainSettings};
use mailroom_store::{Account, Domain, Pop3Policy, QueuedMessage, RecoverableMessage};
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Serialize)]
pub(crate) struct DomainView {
    pub name: String,
    pub default_quota_bytes: Option<u64>,
    pub default_quota_messages: Option<u64>,
    pub recovery_days: Option<u32>,
    pub dkim_selector: Option<String>,
    pub created_at: i64,
}

impl From<&Domain> for DomainView {
    fn from(d: &Domain) -> Self {
        DomainView {
            name: d.name.clone(),
            default_quota_bytes: d.default_quota_bytes,
            default_quota_messages: d.default_quota_messages,
            recovery_days: d.recovery_days,
            dkim_selector: d.dkim.as_ref().map(|k| k.selector.clone()),
            created_at: d.created_at,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct AccountView {
    pub address: String,
    pub enabled: bool,
    pub admin: bool,
    pub protocols: String,
    /// "keep", "delete", or null for the server's default.
    pub pop3_policy: Option<&'static str>,
    pub quota_bytes: Option<u64>,
    pub quota_messages: Option<u64>,
    pub used_bytes: u64,
    pub used_messages: u64,
    pub created_at: i64,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        AccountView {
            address: a.address.clone(),
            enabled: a.enabled,
            admin: a.admin,
            protocols: a.protocols.to_string(),
            pop3_policy: a.pop3_policy.map(Pop3Policy::as_str),
            quota_bytes: a.quota_bytes,
            quota_messages: a.quota_messages,
            used_bytes: a.used_bytes,
            used_messages: a.used_messages,
            created_at: a.created_at,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct RecoverableView {
    pub id: i64,
    pub folder: String,
    pub deleted_at: i64,
    pub size: u64,
    pub from: Option<String>,
    pub subject: Option<String>,
}

impl From<&RecoverableMessage> for RecoverableView {
    fn from(m: &RecoverableMessage) -> Self {
        RecoverableView {
            id: m.id.0,
            folder: m.mailbox_name.clone(),
            deleted_at: m.deleted_at,
            size: m.size,
            from: m.from.clone(),
            subject: m.subject.clone(),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct QueuedView {
    pub id: i64,
    pub sender: String,
    pub size: u64,
    pub created_at: i64,
    pub recipients: Vec<QueuedRecipientView>,
}

#[derive(Serialize)]
pub(crate) struct QueuedRecipientView {
    pub address: String,
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub last_response: Option<String>,
}

impl From<&QueuedMessage> for QueuedView {
    fn from(m: &QueuedMessage) -> Self {
        QueuedView {
            id: m.id.0,
            sender: m.sender.clone(),
            size: m.size,
            created_at: m.created_at,
            recipients: m
                .recipients
                .iter()
                .map(|r| QueuedRecipientView {
                    address: r.address.clone(),
                    status: format!("{:?}", r.status).to_lowercase(),
                    attempts: r.attempts,
                    next_attempt_at: r.next_attempt_at,
                    last_response: r.last_response.clone(),
                })
                .collect(),
        }
    }
}

/// Absent (leave as is) or present, possibly null ("no limit", "the default"): serde gives
/// `None` for a missing field (with `default`) and `Some(None)` for null through this.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountChanges {
    #[serde(default, deserialize_with = "present")]
    pub quota_bytes: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    pub quota_messages: Option<Option<u64>>,
    /// "imap,pop3,submission".
    pub protocols: Option<String>,
    /// "keep", "delete" or "default".
    pub pop3_policy: Option<String>,
    pub enabled: Option<bool>,
    pub admin: Option<bool>,
}

impl AccountChanges {
    pub fn settings(&self) -> Result<AccountSettings, AdminError> {
        let mut s = AccountSettings::parse(
            None,
            None,
            self.protocols.as_deref(),
            self.pop3_policy.as_deref(),
        )?;
        s.quota_bytes = self.quota_bytes;
        s.quota_messages = self.quota_messages;
        s.enabled = self.enabled;
        s.admin = self.admin;
        Ok(s)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAccountBody {
    pub address: String,
    /// Without one a password is generated and returned once.
    pub password: Option<String>,
    pub quota_bytes: Option<u64>,
    pub quota_messages: Option<u64>,
    pub protocols: Option<String>,
    pub pop3_policy: Option<String>,
    pub admin: Option<bool>,
}

impl NewAccountBody {
    /// The settings beyond what a new account gets anyway; limits left out follow the
    /// domain's defaults.
    pub fn changes(&self) -> AccountChanges {
        AccountChanges {
            quota_bytes: self.quota_bytes.map(Some),
            quota_messages: self.quota_messages.map(Some),
            protocols: self.protocols.clone(),
            pop3_policy: self.pop3_policy.clone(),
            enabled: None,
            admin: self.admin,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct DomainChanges {
    #[serde(default, deserialize_with = "present")]
    pub default_quota_bytes: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    pub default_quota_messages: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    pub recovery_days: Option<Option<u32>>,
}

impl DomainChanges {
    pub fn settings(&self) -> DomainSettings {
        DomainSettings {
            default_quota_bytes: self.default_quota_bytes,
            default_quota_messages: self.default_quota_messages,
            recovery_days: self.recovery_days,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NameBody {
    pub name: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordBody {
    pub password: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AliasBody {
    pub alias: String,
    pub address: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct RecoverableQuery {
    /// YYYY-MM-DD: deleted on or after.
    pub since: Option<String>,
    pub folder: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RestoreBody {
    #[serde(default)]
    pub ids: Vec<i64>,
    #[serde(default)]
    pub all: bool,
    pub since: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BackupRestoreBody {
    pub account: String,
    pub folder: Option<String>,
}
