//! The outbound queue's records: mail accepted for other servers, kept in the store until every
//! recipient has a final answer, so a restart or a crash never loses it and every node sees it.

use crate::blob::BlobHash;
use crate::dsn::{DsnNotify, DsnRet, OutboundRecipient};
use crate::error::{Result, StoreError};
use crate::ids::AccountId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A message in the outbound queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueueId(pub i64);

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A message handed to the queue.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    /// The account that submitted it; None for mail the server writes itself (bounces).
    pub account: Option<AccountId>,
    /// The reverse-path; empty is the null sender `<>` (bounces), which is never bounced to.
    pub sender: String,
    pub recipients: Vec<OutboundRecipient>,
    /// RFC 3461 §4.4: the sender's ENVID, decoded from xtext (printable US-ASCII).
    pub envid: Option<String>,
    /// RFC 3461 §4.3: RET, None when the sender gave none.
    pub ret: Option<DsnRet>,
    /// The exact bytes to send, CRLF line ends, signatures already added.
    pub content: Vec<u8>,
}

/// Where one recipient of a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecipientStatus {
    /// Not delivered yet; tried again at `next_attempt_at`.
    Pending,
    Delivered,
    /// Refused for good or given up on; the sender has been told.
    Failed,
}

impl RecipientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientStatus::Pending => "pending",
            RecipientStatus::Delivered => "delivered",
            RecipientStatus::Failed => "failed",
        }
    }
}

impl FromStr for RecipientStatus {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(RecipientStatus::Pending),
            "delivered" => Ok(RecipientStatus::Delivered),
            "failed" => Ok(RecipientStatus::Failed),
            other => Err(StoreError::invalid("recipient status", other)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRecipient {
    pub address: String,
    pub status: RecipientStatus,
    pub attempts: u32,
    /// Unix time of the next try (meaningful while pending).
    pub next_attempt_at: i64,
    /// The last answer from the receiving side, or why there was none.
    pub last_response: Option<String>,
    /// RFC 3461 §4.1: the NOTIFY its RCPT carried.
    pub notify: DsnNotify,
    /// RFC 3461 §4.2: the ORCPT its RCPT carried, `addr-type;xtext`.
    pub orcpt: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub id: QueueId,
    pub account: Option<AccountId>,
    pub sender: String,
    pub blob: BlobHash,
    pub size: u64,
    pub created_at: i64,
    /// RFC 3461 §4.4: the sender's ENVID, decoded from xtext.
    pub envid: Option<String>,
    /// RFC 3461 §4.3: RET.
    pub ret: Option<DsnRet>,
    pub recipients: Vec<QueuedRecipient>,
}

impl QueuedMessage {
    pub fn pending(&self) -> impl Iterator<Item = &QueuedRecipient> {
        self.recipients
            .iter()
            .filter(|r| r.status == RecipientStatus::Pending)
    }
}

/// The outcome of one delivery attempt for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    pub address: String,
    pub status: RecipientStatus,
    /// When to try again if still pending.
    pub next_attempt_at: i64,
    pub response: Option<String>,
}
