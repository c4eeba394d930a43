//! Account and domain settings as administrators give them, and the parsing of the forms
//! they type them in ("5GiB", "none", "imap,pop3", "keep").

use crate::{AdminError, Result};
use mailroom_store::{AccountUpdate, DomainUpdate, Pop3Policy, Protocols};

/// Changes to an account; `None` leaves a setting as it is. In the `Option<Option<_>>`
/// fields the inner `None` means "no limit" (quotas) or "the server's default" (POP3 policy).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSettings {
    pub quota_bytes: Option<Option<u64>>,
    pub quota_messages: Option<Option<u64>>,
    pub protocols: Option<Protocols>,
    pub pop3_policy: Option<Option<Pop3Policy>>,
    pub enabled: Option<bool>,
    pub admin: Option<bool>,
}

impl AccountSettings {
    /// From the texts of the CLI and the web forms; every one is checked before anything is
    /// changed.
    pub fn parse(
        quota: Option<&str>,
        max_messages: Option<&str>,
        protocols: Option<&str>,
        pop3_policy: Option<&str>,
    ) -> Result<Self> {
        Ok(AccountSettings {
            quota_bytes: quota.map(parse_size_limit).transpose()?,
            quota_messages: max_messages.map(parse_count_limit).transpose()?,
            protocols: protocols.map(parse_protocols).transpose()?,
            pop3_policy: pop3_policy.map(parse_policy).transpose()?,
            ..AccountSettings::default()
        })
    }

    pub(crate) fn update(&self) -> AccountUpdate {
        AccountUpdate {
            quota_bytes: self.quota_bytes,
            quota_messages: self.quota_messages,
            protocols: self.protocols,
            pop3_policy: self.pop3_policy,
            enabled: self.enabled,
            admin: self.admin,
            ..AccountUpdate::default()
        }
    }
}

/// Defaults a domain gives its new accounts, and how long its deleted mail is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainSettings {
    pub default_quota_bytes: Option<Option<u64>>,
    pub default_quota_messages: Option<Option<u64>>,
    /// Some(None): the server's `recovery_days`.
    pub recovery_days: Option<Option<u32>>,
}

impl DomainSettings {
    pub fn parse(
        quota: Option<&str>,
        max_messages: Option<&str>,
        recovery_days: Option<&str>,
    ) -> Result<Self> {
        let recovery_days = match recovery_days {
            None => None,
            Some(d) if d.trim().eq_ignore_ascii_case("default") => Some(None),
            Some(d) => Some(Some(d.trim().parse::<u32>().map_err(|_| {
                AdminError::invalid("number of days", d, "a whole number, or default")
            })?)),
        };
        Ok(DomainSettings {
            default_quota_bytes: quota.map(parse_size_limit).transpose()?,
            default_quota_messages: max_messages.map(parse_count_limit).transpose()?,
            recovery_days,
        })
    }

    pub(crate) fn update(&self) -> DomainUpdate {
        DomainUpdate {
            default_quota_bytes: self.default_quota_bytes,
            default_quota_messages: self.default_quota_messages,
            recovery_days: self.recovery_days,
            dkim: None,
        }
    }
}

/// YYYY-MM-DD (midnight UTC) or a full RFC 3339 time → Unix seconds.
pub fn parse_date(text: &str) -> Result<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(text.trim(), &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format)
        .map(|date| date.midnight().assume_utc().unix_timestamp())
        .map_err(|_| AdminError::invalid("date", text, "use YYYY-MM-DD"))
}

/// "25GB", "500 MiB" → bytes; "none" → no limit.
pub fn parse_size_limit(text: &str) -> Result<Option<u64>> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    text.trim()
        .parse::<bytesize::ByteSize>()
        .map(|size| Some(size.as_u64()))
        .map_err(|_| {
            AdminError::invalid(
                "size",
                text,
                "use a number and a unit, e.g. 500MiB or 25GB, or none",
            )
        })
}

/// "100000" → a limit; "none" → no limit.
pub fn parse_count_limit(text: &str) -> Result<Option<u64>> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| AdminError::invalid("count", text, "a whole number, or none"))
}

fn parse_protocols(text: &str) -> Result<Protocols> {
    text.parse().map_err(|_| {
        AdminError::invalid(
            "protocols",
            text,
            "a list of imap, pop3 and submission, e.g. imap,submission",
        )
    })
}

/// keep | delete | default (the server's `[pop3] policy`).
fn parse_policy(text: &str) -> Result<Option<Pop3Policy>> {
    if text.trim().eq_ignore_ascii_case("default") {
        return Ok(None);
    }
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| AdminError::invalid("POP3 policy", text, "keep, delete or default"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_policies() {
        assert_eq!(parse_size_limit("1MiB").unwrap(), Some(1 << 20));
        assert_eq!(parse_size_limit("25GB").unwrap(), Some(25_000_000_000));
        assert_eq!(parse_size_limit("None").unwrap(), None);
        let e = parse_size_limit("5XB").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid size \"5XB\": use a number and a unit, e.g. 500MiB or 25GB, or none"
        );
        assert_eq!(parse_count_limit("100").unwrap(), Some(100));
        assert!(parse_count_limit("-1").is_err());
        assert_eq!(parse_policy("default").unwrap(), None);
        assert_eq!(
            parse_policy("keep").unwrap(),
            Some(Pop3Policy::LeaveOnServer)
        );
        assert!(parse_policy("sometimes").is_err());
        let s = AccountSettings::parse(Some("1GiB"), None, Some("imap"), None).unwrap();
        assert_eq!(s.quota_bytes, Some(Some(1 << 30)));
        assert!(s.protocols.unwrap().contains(Protocols::IMAP));
        assert!(AccountSettings::parse(None, None, Some("gopher"), None).is_err());
        assert_eq!(
            DomainSettings::parse(None, None, Some("default"))
                .unwrap()
                .recovery_days,
            Some(None)
        );
        assert!(DomainSettings::parse(None, None, Some("soon")).is_err());
        assert_eq!(parse_date("2026-11-25").unwrap(), 1_795_564_800);
        assert_eq!(
            parse_date("2026-11-25T01:00:00+01:00").unwrap(),
            1_795_564_800
        );
        assert!(parse_date("25/11/2026").is_err());
    }
}
