//! The queue runner: takes due messages from the store, delivers them, records each recipient's
//! outcome, schedules retries and sends bounces and the success reports NOTIFY asked for
//! (RFC 3461 §5.2).

use crate::client::{self, ClientSettings, Envelope, RecipientResult};
use crate::config::OutboundConfig;
use crate::dsn::{self, Action, OriginalRecipient, Report, ReportedRecipient, Returned};
use crate::error::{OutboundError, Result};
use crate::local::deliver_local;
use crate::mx::{DnsRoute, RelayRoute, Route, RouteError};
use crate::reply::Reply;
use crate::schedule::{Deferral, after_temp_failure};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use mailroom_store::{
    AccountId, AttemptResult, Clock, DsnRet, OutboundMessage, OutboundRecipient, QueueId,
    QueuedMessage, QueuedRecipient, RecipientStatus, Store,
};
use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{Notify, Semaphore};
use tracing::{debug, info, warn};

/// What one pass over the queue did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// Messages attempted (leased and with a due recipient).
    pub messages: usize,
    /// Recipient outcomes of this pass.
    pub delivered: usize,
    pub deferred: usize,
    pub failed: usize,
    /// Bounces queued for the failures (none where NOTIFY declined them).
    pub bounces: usize,
    /// Success reports ("delivered", "relayed") queued where NOTIFY=SUCCESS asked.
    pub reports: usize,
    /// Due messages skipped because another node holds their lease.
    pub locked: usize,
    /// Messages whose processing hit a store error (logged); their due recipients are deferred
    /// on the normal schedule, so they back off and expire like any temporary failure.
    pub errors: usize,
}

impl RunReport {
    pub fn is_idle(&self) -> bool {
        *self == RunReport::default()
    }

    fn add(&mut self, other: RunReport) {
        self.messages += other.messages;
        self.delivered += other.delivered;
        self.deferred += other.deferred;
        self.failed += other.failed;
        self.bounces += other.bounces;
        self.reports += other.reports;
        self.locked += other.locked;
        self.errors += other.errors;
    }
}

/// Delivers the outbound queue. See the crate documentation for the wiring.
pub struct QueueRunner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: OutboundConfig,
    route: Arc<dyn Route>,
    notify: Arc<Notify>,
    settings: ClientSettings,
    destinations: Destinations,
}

/// Connections at once per destination (a recipient domain, or the smart host), shared by
/// every message in flight: a busy or slow destination gets no more than its share, and the
/// others are not held up by it.
struct Destinations {
    per_destination: usize,
    open: std::sync::Mutex<std::collections::HashMap<String, Arc<Semaphore>>>,
}

impl Destinations {
    fn new(per_destination: usize) -> Self {
        Destinations {
            per_destination: per_destination.max(1),
            open: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    async fn enter(&self, destination: &str) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let gate = {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            // Forget destinations nobody is sending to, so the map stays small.
            open.retain(|_, gate| Arc::strong_count(gate) > 1);
            open.entry(destination.to_ascii_lowercase())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_destination)))
                .clone()
        };
        gate.acquire_owned().await.ok()
    }
}

impl QueueRunner {
    /// Fails on a `relay` setting that can't be read, or a `domain_timeout` not shorter than
    /// `lease_ttl` (the lease could then expire mid-session and another node send too).
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: OutboundConfig,
    ) -> Result<Self> {
        if config.domain_timeout >= config.lease_ttl {
            return Err(OutboundError::Config(format!(
                "domain_timeout ({:?}) must be shorter than lease_ttl ({:?})",
                config.domain_timeout, config.lease_ttl
            )));
        }
        let route: Arc<dyn Route> = match (&config.route, &config.relay) {
            (Some(route), _) => route.clone(),
            (None, Some(relay)) => {
                Arc::new(RelayRoute::parse(relay).map_err(OutboundError::Config)?)
            }
            (None, None) => Arc::new(DnsRoute::new()),
        };
        let config_per_destination = config.max_per_destination;
        let settings = ClientSettings {
            hostname: config.hostname.clone(),
            timeouts: config.timeouts,
            tls: config.tls,
        };
        Ok(QueueRunner {
            store,
            clock,
            config,
            route,
            notify: Arc::new(Notify::new()),
            settings,
            destinations: Destinations::new(config_per_destination),
        })
    }

    /// Call `notify_one()` on it after queueing mail to have it sent now rather than at the
    /// next interval.
    pub fn notifier(&self) -> Arc<Notify> {
        self.notify.clone()
    }

    /// Delivers until `shutdown` completes: looks for due messages every `interval`, when
    /// notified and whenever a message is done, and keeps up to `max_messages` of them in
    /// flight at once, so one slow destination (a tarpit answering at the pace of its
    /// timeouts) never holds up the others. At shutdown the messages in flight are abandoned:
    /// their leases expire after `lease_ttl` (the same node, holding them under its `node_id`,
    /// takes them back at once), and a recipient the server accepted but we had not recorded
    /// may get the message twice — RFC 5321 §6.1 prefers a duplicate to a loss.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut flying = FuturesUnordered::new();
        let mut busy: HashSet<QueueId> = HashSet::new();
        let mut look = true;
        loop {
            if look && busy.len() < self.max_messages() {
                match self.due(&busy).await {
                    Ok((due, local_domains)) => {
                        for message in due.into_iter().take(self.max_messages() - busy.len()) {
                            busy.insert(message.id);
                            flying.push(self.take(message, local_domains.clone()));
                        }
                    }
                    Err(e) => warn!(error = %e, "reading the outbound queue failed"),
                }
            }
            tokio::select! {
                biased;
                _ = &mut shutdown => return,
                Some((id, report)) = flying.next(), if !flying.is_empty() => {
                    busy.remove(&id);
                    if !report.is_idle() {
                        info!(queue_id = %id, ?report, "outbound message attempted");
                    }
                    look = true;
                }
                _ = self.notify.notified() => look = true,
                _ = tokio::time::sleep(self.config.interval) => look = true,
            }
        }
    }

    fn max_messages(&self) -> usize {
        self.config.max_messages.max(1)
    }

    /// Messages due now that are not in flight here, and our own domains.
    async fn due(
        &self,
        busy: &HashSet<QueueId>,
    ) -> Result<(Vec<QueuedMessage>, Arc<HashSet<String>>)> {
        let now = self.clock.now();
        let mut due = self.store.due_messages(now, self.config.batch_size).await?;
        due.retain(|m| !busy.contains(&m.id));
        if due.is_empty() {
            return Ok((due, Arc::default()));
        }
        let local_domains: HashSet<String> = self
            .store
            .list_domains()
            .await?
            .into_iter()
            .map(|d| d.name.to_ascii_lowercase())
            .collect();
        Ok((due, Arc::new(local_domains)))
    }

    /// One pass: every message due now (up to `batch_size`), each under its lease, up to
    /// `max_messages` at once; returns when all are done.
    pub async fn run_once(&self) -> Result<RunReport> {
        let (due, local_domains) = self.due(&HashSet::new()).await?;
        let mut passes = futures_util::stream::iter(due)
            .map(|message| self.take(message, local_domains.clone()))
            .buffer_unordered(self.max_messages());
        let mut report = RunReport::default();
        while let Some((_, one)) = passes.next().await {
            report.add(one);
        }
        Ok(report)
    }

    /// One message under its lease, or nothing if another node holds it.
    async fn take(
        &self,
        message: QueuedMessage,
        local_domains: Arc<HashSet<String>>,
    ) -> (QueueId, RunReport) {
        let mut report = RunReport::default();
        // Two nodes must never send the same message at once: the lease decides who does.
        let lease = lease_name(message.id);
        match self
            .store
            .acquire_lease(&lease, &self.config.node_id, self.lease_ttl())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                report.locked += 1;
                return (message.id, report);
            }
            Err(e) => {
                warn!(queue_id = %message.id, error = %e, "taking the queue lease failed");
                report.errors += 1;
                return (message.id, report);
            }
        }
        if let Err(e) = self.process(message.id, &local_domains, &mut report).await {
            warn!(queue_id = %message.id, error = %e, "delivery attempt not recorded");
            report.errors += 1;
            self.defer_after_error(&message, &e, &mut report).await;
        }
        if let Err(e) = self.store.release_lease(&lease, &self.config.node_id).await {
            warn!(queue_id = %message.id, error = %e, "releasing the queue lease failed");
        }
        (message.id, report)
    }

    /// One message, under its lease.
    async fn process(
        &self,
        id: QueueId,
        local_domains: &HashSet<String>,
        report: &mut RunReport,
    ) -> Result<()> {
        // Read again under the lease: the list from `due_messages` may be stale if another node
        // finished this message in between.
        let Some(message) = self.store.queued_message(id).await? else {
            return Ok(());
        };
        let now = self.clock.now();
        let due: Vec<&QueuedRecipient> = message
            .pending()
            .filter(|r| r.next_attempt_at <= now)
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        report.messages += 1;
        let content = self.store.read_blob(&message.blob).await?;

        let outcomes = self.attempt(&message, &due, local_domains, &content).await;
        // A recipient without an outcome was not tried (the lease went to another node): it is
        // left as it is for that node.
        let mut tried: Vec<&QueuedRecipient> = Vec::with_capacity(due.len());
        let mut results = Vec::with_capacity(due.len());
        for (rcpt, outcome) in due.iter().zip(outcomes) {
            if let Some(outcome) = outcome {
                tried.push(rcpt);
                results.push(outcome);
            }
        }
        if tried.is_empty() {
            return Ok(());
        }
        self.record(&message, &tried, results, &content, now, report)
            .await
    }

    /// After a store failure (an unreadable blob, a failed read or write), records a temporary
    /// failure for the message's due recipients through the normal schedule. Without it the
    /// message would stay due, be tried on every pass, and never expire. A recipient the
    /// failed pass had already delivered may get the message again: RFC 5321 §6.1 prefers a
    /// duplicate to a loss.
    async fn defer_after_error(
        &self,
        stale: &QueuedMessage,
        error: &OutboundError,
        report: &mut RunReport,
    ) {
        // The fresh copy if the store can still give it, else the one `due_messages` returned.
        let message = match self.store.queued_message(stale.id).await {
            Ok(Some(message)) => message,
            Ok(None) => return,
            Err(_) => stale.clone(),
        };
        let now = self.clock.now();
        let due: Vec<&QueuedRecipient> = message
            .pending()
            .filter(|r| r.next_attempt_at <= now)
            .collect();
        if due.is_empty() {
            return;
        }
        // 4.3.0: other or undefined mail system status (RFC 3463 §3.4).
        let reply = Reply::local(451, "4.3.0", format!("queue processing failed: {error}"));
        let outcomes = vec![Outcome::unreported(RecipientResult::TempFail(reply)); due.len()];
        // The content may be what failed: a bounce at expiry then carries no original headers.
        let content = self
            .store
            .read_blob(&message.blob)
            .await
            .unwrap_or_default();
        if let Err(e) = self
            .record(&message, &due, outcomes, &content, now, report)
            .await
        {
            warn!(queue_id = %message.id, error = %e, "recording the failed attempt failed too");
        }
    }

    /// Delivers to every due recipient: local ones through the store, the others over SMTP,
    /// one transaction per domain (or one for all through a smart host).
    async fn attempt(
        &self,
        message: &QueuedMessage,
        due: &[&QueuedRecipient],
        local_domains: &HashSet<String>,
        content: &[u8],
    ) -> Vec<Option<Outcome>> {
        let mut results: Vec<Option<Outcome>> = vec![None; due.len()];
        let mut local: Vec<(usize, String, AccountId)> = Vec::new();
        let mut remote: BTreeMap<String, Vec<(usize, OutboundRecipient)>> = BTreeMap::new();

        for (i, rcpt) in due.iter().enumerate() {
            let address = rcpt.address.clone();
            let domain = domain_of(&address);
            match self.store.resolve_recipient(&address).await {
                Ok(Some(account)) => local.push((i, address, account)),
                Ok(None) if domain.as_deref().is_some_and(|d| local_domains.contains(d)) => {
                    results[i] = Some(Outcome::unreported(RecipientResult::PermFail(
                        Reply::local(550, "5.1.1", format!("<{address}>: no such user here")),
                    )));
                }
                Ok(None) => match domain {
                    Some(domain) => {
                        let key = if self.route.single_destination() {
                            String::new()
                        } else {
                            domain
                        };
                        remote.entry(key).or_default().push((i, onward(rcpt)));
                    }
                    None => {
                        results[i] = Some(Outcome::unreported(RecipientResult::PermFail(
                            Reply::local(553, "5.1.3", format!("<{address}>: no domain")),
                        )));
                    }
                },
                Err(e) => {
                    results[i] = Some(Outcome::unreported(RecipientResult::TempFail(
                        Reply::local(451, "4.3.0", format!("recipient lookup failed: {e}")),
                    )));
                }
            }
        }

        if !local.is_empty() {
            let pairs: Vec<(String, AccountId)> =
                local.iter().map(|(_, a, acc)| (a.clone(), *acc)).collect();
            let outcomes =
                deliver_local(self.store.as_ref(), &message.sender, &pairs, content).await;
            // RFC 3461 §5.2.3: we are the final delivery agent, so a success report is ours.
            for ((i, _, _), result) in local.iter().zip(outcomes) {
                results[*i] = Some(Outcome {
                    result,
                    success: Some(Action::Delivered),
                });
            }
        }

        // All domains at once, each bounded by `domain_timeout`. A domain left untried (the
        // lease went to another node) keeps no outcome: that node sends to it.
        let deliveries = remote.into_iter().map(|(domain, group)| async move {
            let recipients: Vec<OutboundRecipient> = group.iter().map(|(_, r)| r.clone()).collect();
            let outcomes = self
                .deliver_bounded(message, &domain, &recipients, content)
                .await;
            (group, outcomes)
        });
        let mut deliveries = futures_util::stream::iter(deliveries)
            .buffer_unordered(self.config.max_per_destination.max(1) * 2);
        while let Some((group, outcomes)) = deliveries.next().await {
            let Some(outcomes) = outcomes else {
                continue;
            };
            for ((i, _), outcome) in group.iter().zip(outcomes) {
                results[*i] = Some(outcome);
            }
        }

        results
    }

    /// One domain's delivery within its share of connections to that destination and within
    /// `domain_timeout`, whatever its hosts do; past it the recipients are retried on the
    /// normal schedule. None when the message's lease was lost before the hand-over: another
    /// node owns it now, and sending would send twice.
    async fn deliver_bounded(
        &self,
        message: &QueuedMessage,
        domain: &str,
        recipients: &[OutboundRecipient],
        content: &[u8],
    ) -> Option<Vec<Outcome>> {
        let limit = self.config.domain_timeout;
        let delivery = async {
            let _slot = self.destinations.enter(domain).await;
            self.deliver_domain(message, domain, recipients, content)
                .await
        };
        match tokio::time::timeout(limit, delivery).await {
            Ok(outcomes) => outcomes,
            Err(_) => {
                warn!(queue_id = %message.id, %domain, ?limit, "domain delivery timed out");
                // 4.4.1: no answer from host (RFC 3463 §3.5).
                let reply = Reply::local(
                    451,
                    "4.4.1",
                    format!("delivery to {domain} timed out after {}s", limit.as_secs()),
                );
                Some(vec![
                    Outcome::unreported(RecipientResult::TempFail(reply));
                    recipients.len()
                ])
            }
        }
    }

    /// Routes one domain and hands its recipients, with the message's DSN parameters, to the
    /// first host that takes them.
    async fn deliver_domain(
        &self,
        message: &QueuedMessage,
        domain: &str,
        recipients: &[OutboundRecipient],
        content: &[u8],
    ) -> Option<Vec<Outcome>> {
        let failed =
            |result: RecipientResult| Some(vec![Outcome::unreported(result); recipients.len()]);
        match self.route.targets(domain).await {
            Ok(targets) => {
                // Right before the hand-over (routing may have taken long): still ours?
                if !self.renew_lease(message.id).await {
                    return None;
                }
                let envelope = Envelope {
                    sender: &message.sender,
                    recipients,
                    envid: message.envid.as_deref(),
                    ret: message.ret,
                    content,
                };
                let handover = client::deliver(&targets, &envelope, &self.settings).await;
                // RFC 3461 §5.2.1: a server with DSN reports the success itself; one without
                // leaves it to us, as "relayed" (§5.2.2).
                let success = (!handover.next_hop_dsn).then_some(Action::Relayed);
                Some(
                    handover
                        .results
                        .into_iter()
                        .map(|result| Outcome { result, success })
                        .collect(),
                )
            }
            Err(RouteError::Permanent { code, status, text }) => {
                failed(RecipientResult::PermFail(Reply::local(code, status, text)))
            }
            Err(RouteError::Temporary(text)) => {
                // 4.4.3: directory server failure (RFC 3463 §3.5).
                failed(RecipientResult::TempFail(Reply::local(451, "4.4.3", text)))
            }
        }
    }

    /// Turns outcomes into the queue's records; reports first (see below).
    async fn record(
        &self,
        message: &QueuedMessage,
        due: &[&QueuedRecipient],
        outcomes: Vec<Outcome>,
        content: &[u8],
        now: i64,
        report: &mut RunReport,
    ) -> Result<()> {
        let max_age = i64::try_from(self.config.max_age.as_secs()).unwrap_or(i64::MAX);
        let mut records = Vec::with_capacity(due.len());
        let mut failed: Vec<ReportedRecipient> = Vec::new();
        let mut succeeded: Vec<ReportedRecipient> = Vec::new();
        for (rcpt, outcome) in due.iter().zip(outcomes) {
            let (status, next, reply) = match outcome.result {
                RecipientResult::Delivered(reply) => {
                    report.delivered += 1;
                    if let Some(action) = outcome.success
                        && rcpt.notify.wants_success()
                    {
                        succeeded.push(reported(rcpt, success_recipient(rcpt, action)));
                    }
                    (RecipientStatus::Delivered, now, reply)
                }
                RecipientResult::TempFail(reply) => {
                    match after_temp_failure(now, message.created_at, rcpt.attempts, max_age) {
                        Deferral::RetryAt(at) => {
                            report.deferred += 1;
                            debug!(queue_id = %message.id, rcpt = %rcpt.address, %reply, at, "deferred");
                            (RecipientStatus::Pending, at, reply)
                        }
                        Deferral::Expired => {
                            report.failed += 1;
                            // RFC 3463 §3.5 4.4.7: delivery time expired.
                            note_failure(&mut failed, rcpt, "4.4.7".into(), &reply);
                            (RecipientStatus::Failed, now, reply)
                        }
                    }
                }
                RecipientResult::PermFail(reply) => {
                    report.failed += 1;
                    note_failure(&mut failed, rcpt, reply.dsn_status(), &reply);
                    (RecipientStatus::Failed, now, reply)
                }
            };
            records.push(AttemptResult {
                address: rcpt.address.clone(),
                status,
                next_attempt_at: next,
                response: Some(reply.one_line()),
            });
        }

        // RFC 5321 §4.5.5 / §6.1, RFC 3461 §6.1: mail from the null sender (a report) never
        // gets a report, or two servers could report to each other forever.
        if message.sender.is_empty() {
            if !failed.is_empty() {
                info!(queue_id = %message.id, "undeliverable bounce dropped (null sender)");
            }
        } else {
            // The bounce is queued BEFORE the failure is recorded: a crash in between gives
            // at most a second bounce next time, never none.
            if !failed.is_empty() {
                self.send_report(message, &failed, content, now).await?;
                report.bounces += 1;
            }
            // A success report that can't be queued is only logged: failing the pass would
            // send the message again to recipients that already have it.
            if !succeeded.is_empty() {
                match self.send_report(message, &succeeded, content, now).await {
                    Ok(()) => report.reports += 1,
                    Err(e) => {
                        warn!(queue_id = %message.id, error = %e, "success report not queued")
                    }
                }
            }
        }
        self.store.record_attempt(message.id, records).await?;
        Ok(())
    }

    /// Queues one report (RFC 3464) about `recipients` to the sender, from the null sender.
    /// The report repeats the sender's ENVID (RFC 3461 §6.3) and returns what RET asked for
    /// (§4.3): the whole message only for a failure with RET=FULL, the header section
    /// otherwise (RFC 6522 §3: enough to recognise the message, and a success report never
    /// needs more).
    async fn send_report(
        &self,
        message: &QueuedMessage,
        recipients: &[ReportedRecipient],
        content: &[u8],
        now: i64,
    ) -> Result<()> {
        let failure = recipients.iter().any(|r| r.action == Action::Failed);
        let returned = if failure && message.ret == Some(DsnRet::Full) {
            Returned::Full
        } else {
            Returned::Headers
        };
        let id = format!("{}.{}", message.id, now);
        let bytes = dsn::build_report(&Report {
            reporting_mta: &self.config.hostname,
            original_sender: &message.sender,
            envid: message.envid.as_deref(),
            arrival_date: message.created_at,
            now,
            id: &id,
            recipients,
            original: content,
            returned,
        })?;
        let id = self
            .store
            .enqueue(OutboundMessage {
                account: None,
                sender: String::new(),
                recipients: vec![OutboundRecipient::new(message.sender.clone())],
                envid: None,
                ret: None,
                content: bytes,
            })
            .await?;
        let kind = if failure { "bounce" } else { "success report" };
        info!(queue_id = %message.id, report = %id, to = %message.sender, "{kind} queued");
        // Deliver it soon rather than at the next interval.
        self.notify.notify_one();
        Ok(())
    }
}

impl QueueRunner {
    fn lease_ttl(&self) -> i64 {
        i64::try_from(self.config.lease_ttl.as_secs()).unwrap_or(i64::MAX)
    }

    /// Extends this node's lease before each remote domain's hand-over, so a message to many
    /// slow domains stays ours for the whole attempt (each domain is bounded by
    /// `domain_timeout`). False when another node holds it now: the caller must stop. A store error keeps going: the
    /// lease taken at the start is most likely still ours.
    async fn renew_lease(&self, id: QueueId) -> bool {
        let lease = lease_name(id);
        match self
            .store
            .acquire_lease(&lease, &self.config.node_id, self.lease_ttl())
            .await
        {
            Ok(true) => true,
            Ok(false) => {
                warn!(queue_id = %id, "queue lease lost to another node mid-attempt; stopping");
                false
            }
            Err(e) => {
                warn!(queue_id = %id, error = %e, "renewing the queue lease failed");
                true
            }
        }
    }
}

fn lease_name(id: QueueId) -> String {
    format!("queue:{id}")
}

/// One recipient's outcome, and whose job a success report is.
#[derive(Debug, Clone)]
struct Outcome {
    result: RecipientResult,
    /// The action of the success report that is ours to send if NOTIFY=SUCCESS asked for one:
    /// delivered (into a mailbox here, RFC 3461 §5.2.3), relayed (to a server without DSN,
    /// §5.2.2), or None (the next hop speaks DSN and reports itself, §5.2.1).
    success: Option<Action>,
}

impl Outcome {
    /// An outcome that is never a success of ours to report (a failure, or no attempt).
    fn unreported(result: RecipientResult) -> Self {
        Outcome {
            result,
            success: None,
        }
    }
}

/// The recipient as it goes to the next hop: its address and DSN parameters.
fn onward(rcpt: &QueuedRecipient) -> OutboundRecipient {
    OutboundRecipient {
        address: rcpt.address.clone(),
        notify: rcpt.notify,
        orcpt: rcpt.orcpt.clone(),
    }
}

/// Adds a failed recipient to the bounce unless its NOTIFY declined failure reports
/// (NEVER, or a list without FAILURE: RFC 3461 §4.1).
fn note_failure(
    failed: &mut Vec<ReportedRecipient>,
    rcpt: &QueuedRecipient,
    status: String,
    reply: &Reply,
) {
    if rcpt.notify.wants_failure() {
        failed.push(reported(
            rcpt,
            failed_recipient(&rcpt.address, status, reply),
        ));
    }
}

fn failed_recipient(address: &str, status: String, reply: &Reply) -> ReportedRecipient {
    // Our own replies use the SMTP form (code, enhanced status, text), so "smtp" fits them
    // as well (RFC 3464 §2.3.6).
    ReportedRecipient::failed(address, status, reply.one_line())
}

fn success_recipient(rcpt: &QueuedRecipient, action: Action) -> ReportedRecipient {
    match action {
        Action::Relayed => ReportedRecipient::relayed(&rcpt.address),
        _ => ReportedRecipient::delivered(&rcpt.address),
    }
}

/// Adds the recipient's ORCPT as Original-Recipient (RFC 3464 §2.3.1, RFC 3461 §6.3).
fn reported(rcpt: &QueuedRecipient, mut reported: ReportedRecipient) -> ReportedRecipient {
    reported.original = rcpt
        .orcpt
        .as_deref()
        .and_then(OriginalRecipient::from_orcpt);
    reported
}

/// The domain of an address, lowercased (RFC 5321 §2.4: domains are case-insensitive).
fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.rsplit_once('@')?;
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_lowercased() {
        assert_eq!(domain_of("Bob@Example.ORG").as_deref(), Some("example.org"));
        assert_eq!(domain_of("\"a@b\"@c.test").as_deref(), Some("c.test"));
        assert_eq!(domain_of("postmaster"), None);
        assert_eq!(domain_of("x@"), None);
    }
}
