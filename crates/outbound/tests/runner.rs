//! The queue runner against a real store (SQLite in a temp dir, manual clock) and a loopback
//! SMTP sink. Time only moves when a test moves the clock; nothing sleeps.

mod common;

use async_trait::async_trait;
use common::sink::{Sink, SinkBehaviour};
use common::store::{START, TestStore};
use mailroom_outbound::mx::{Route, RouteError, Target};
use mailroom_outbound::{OutboundConfig, QueueRunner, RunReport, Timeouts};
use mailroom_store::{
    DsnNotify, DsnRet, OutboundMessage, OutboundRecipient, QueueId, RecipientStatus,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const MESSAGE: &str = "From: alice@here.test\r\nTo: carol@there.test\r\nSubject: plans\r\nMessage-ID: <plans@here.test>\r\n\r\nSee you at noon.\r\n";

fn config(relay: String) -> OutboundConfig {
    let mut config = OutboundConfig::new("mx.here.test");
    config.relay = Some(relay);
    config.timeouts = Timeouts::uniform(Duration::from_secs(10));
    config
}

fn runner(t: &TestStore, config: OutboundConfig) -> QueueRunner {
    QueueRunner::new(t.store.clone(), t.clock.clone(), config).unwrap()
}

async fn enqueue(t: &TestStore, sender: &str, recipients: &[&str]) -> QueueId {
    t.store
        .enqueue(OutboundMessage {
            account: None,
            sender: sender.to_string(),
            recipients: recipients
                .iter()
                .map(|r| OutboundRecipient::new(*r))
                .collect(),
            envid: None,
            ret: None,
            content: MESSAGE.as_bytes().to_vec(),
        })
        .await
        .unwrap()
}

/// Queues `MESSAGE` with DSN parameters (RFC 3461).
async fn enqueue_dsn(
    t: &TestStore,
    sender: &str,
    recipients: Vec<OutboundRecipient>,
    envid: Option<&str>,
    ret: Option<DsnRet>,
) -> QueueId {
    t.store
        .enqueue(OutboundMessage {
            account: None,
            sender: sender.to_string(),
            recipients,
            envid: envid.map(str::to_string),
            ret,
            content: MESSAGE.as_bytes().to_vec(),
        })
        .await
        .unwrap()
}

fn rcpt(address: &str, notify: DsnNotify, orcpt: Option<&str>) -> OutboundRecipient {
    OutboundRecipient {
        address: address.into(),
        notify,
        orcpt: orcpt.map(str::to_string),
    }
}

const SUCCESS: DsnNotify = DsnNotify::On {
    success: true,
    failure: false,
    delay: false,
};

const FAILURE: DsnNotify = DsnNotify::On {
    success: false,
    failure: true,
    delay: false,
};

/// A loopback port nothing listens on.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr.to_string()
}

#[tokio::test]
async fn delivers_through_the_relay() {
    let t = TestStore::new().await;
    let sink = Sink::start(SinkBehaviour::default()).await;
    enqueue(&t, "alice@here.test", &["carol@there.test"]).await;

    let report = runner(&t, config(sink.relay())).run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            messages: 1,
            delivered: 1,
            ..RunReport::default()
        }
    );
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].mail_from, "alice@here.test");
    assert_eq!(got[0].recipients, vec!["carol@there.test"]);
    assert_eq!(got[0].data, MESSAGE.as_bytes());
    // Fully delivered: the message left the queue.
    assert!(t.store.queued_messages().await.unwrap().is_empty());
}

#[tokio::test]
async fn mixed_outcome_bounces_only_the_refused_recipient() {
    let t = TestStore::new().await;
    let sink = Sink::start(
        SinkBehaviour::default()
            .rcpt("no@there.test", "550 5.1.1 no such user")
            .rcpt("later@there.test", "451 4.2.0 greylisted"),
    )
    .await;
    let id = enqueue(
        &t,
        "alice@here.test",
        &["ok@there.test", "no@there.test", "later@there.test"],
    )
    .await;
    let runner = runner(&t, config(sink.relay()));

    let report = runner.run_once().await.unwrap();
    assert_eq!(
        report,
        RunReport {
            messages: 1,
            delivered: 1,
            deferred: 1,
            failed: 1,
            bounces: 1,
            ..RunReport::default()
        }
    );
    assert_eq!(sink.messages()[0].recipients, vec!["ok@there.test"]);

    let queued = t.store.queued_message(id).await.unwrap().unwrap();
    let status = |addr: &str| {
        queued
            .recipients
            .iter()
            .find(|r| r.address == addr)
            .unwrap()
            .clone()
    };
    assert_eq!(status("ok@there.test").status, RecipientStatus::Delivered);
    assert_eq!(status("no@there.test").status, RecipientStatus::Failed);
    assert_eq!(
        status("no@there.test").last_response.as_deref(),
        Some("550 5.1.1 no such user")
    );
    let later = status("later@there.test");
    assert_eq!(later.status, RecipientStatus::Pending);
    assert_eq!(later.next_attempt_at, START + 60);

    // Second pass at the same time: only the bounce is due; it goes into alice's INBOX.
    let report = runner.run_once().await.unwrap();
    assert_eq!(report.delivered, 1);
    assert_eq!(sink.messages().len(), 1);
    let inbox = t.inbox(t.alice).await;
    assert_eq!(inbox.len(), 1);
    let dsn = &inbox[0];
    assert!(dsn.starts_with("Return-Path: <>\r\n"), "{dsn}");
    assert!(
        dsn.contains("Final-Recipient: rfc822; no@there.test"),
        "{dsn}"
    );
    assert!(dsn.contains("Status: 5.1.1"));
    assert!(dsn.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user"));
    assert!(!dsn.contains("Final-Recipient: rfc822; ok@there.test"));
    assert!(!dsn.contains("Final-Recipient: rfc822; later@there.test"));
    assert!(
        dsn.contains("Subject: plans"),
        "original headers are returned"
    );

    // A minute later the greylisted recipient is tried again, and only it.
    t.clock.advance(60);
    let report = runner.run_once().await.unwrap();
    assert_eq!(report.deferred, 1);
    let mut rcpts: Vec<String> = sink
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("RCPT"))
        .collect();
    // The first attempt named all three (in the store's order), the second only the deferred.
    assert_eq!(rcpts.pop().as_deref(), Some("RCPT TO:<later@there.test>"));
    rcpts.sort();
    assert_eq!(
        rcpts,
        vec![
            "RCPT TO:<later@there.test>",
            "RCPT TO:<no@there.test>",
            "RCPT TO:<ok@there.test>",
        ]
    );
    let later = t.store.queued_message(id).await.unwrap().unwrap();
    let later = later
        .recipients
        .iter()
        .find(|r| r.address == "later@there.test")
        .unwrap();
    assert_eq!(later.attempts, 2);
    assert_eq!(later.next_attempt_at, START + 60 + 300);
}

#[tokio::test]
async fn unreachable_relay_backs_off_then_bounces_after_five_days() {
    let t = TestStore::new().await;
    let id = enqueue(&t, "alice@here.test", &["carol@there.test"]).await;
    let runner = runner(&t, config(closed_port().await));

    let mut attempt_times = Vec::new();
    loop {
        attempt_times.push(mailroom_store::Clock::now(t.clock.as_ref()));
        let report = runner.run_once().await.unwrap();
        assert_eq!(report.messages, 1);
        match t.store.queued_message(id).await.unwrap() {
            Some(message) => {
                let rcpt = &message.recipients[0];
                assert_eq!(rcpt.status, RecipientStatus::Pending);
                assert!(
                    rcpt.last_response
                        .as_deref()
                        .unwrap()
                        .starts_with("451 4.4.1")
                );
                // Nothing happens before the retry is due.
                t.clock.set(rcpt.next_attempt_at - 1);
                assert!(runner.run_once().await.unwrap().is_idle());
                t.clock.set(rcpt.next_attempt_at);
            }
            None => break,
        }
        assert!(attempt_times.len() < 100, "never gave up");
    }
    let delays: Vec<i64> = attempt_times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(&delays[..7], &[60, 300, 900, 1800, 3600, 7200, 14400]);
    // The last attempt is exactly at the five-day mark, and it gives up then.
    assert_eq!(*attempt_times.last().unwrap(), START + 5 * 86_400);
    assert!(t.inbox(t.alice).await.is_empty());

    // The bounce is queued; the next pass delivers it to alice locally.
    let report = runner.run_once().await.unwrap();
    assert_eq!(report.delivered, 1);
    let inbox = t.inbox(t.alice).await;
    assert_eq!(inbox.len(), 1);
    let dsn = &inbox[0];
    assert!(
        dsn.contains("From: \"Mail Delivery System\" <MAILER-DAEMON@mx.here.test>"),
        "{dsn}"
    );
    assert!(dsn.contains("multipart/report"));
    assert!(
        dsn.contains("Final-Recipient: rfc822; carol@there.test"),
        "{dsn}"
    );
    assert!(dsn.contains("Action: failed"));
    assert!(dsn.contains("Status: 4.4.7"));
    assert!(dsn.contains("<carol@there.test>: 451 4.4.1"));
    assert!(t.store.queued_messages().await.unwrap().is_empty());
}

/// A route that must not be used.
struct NoNetwork(AtomicUsize);

#[async_trait]
impl Route for NoNetwork {
    async fn targets(&self, _domain: &str) -> Result<Vec<Target>, RouteError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(RouteError::Temporary("no network in this test".into()))
    }
}

#[tokio::test]
async fn local_recipients_never_touch_the_network() {
    let t = TestStore::new().await;
    let route = Arc::new(NoNetwork(AtomicUsize::new(0)));
    let mut config = OutboundConfig::new("mx.here.test");
    config.route = Some(route.clone());
    let runner = runner(&t, config);
    enqueue(
        &t,
        "alice@here.test",
        &["bob@here.test", "nobody@here.test"],
    )
    .await;

    let report = runner.run_once().await.unwrap();
    assert_eq!(report.delivered, 1);
    // An unknown user of a local domain fails at once rather than looping through our MX.
    assert_eq!(report.failed, 1);
    assert_eq!(report.bounces, 1);
    assert_eq!(route.0.load(Ordering::SeqCst), 0);
    let inbox = t.inbox(t.bob).await;
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0].starts_with("Return-Path: <alice@here.test>\r\n"));
    assert!(inbox[0].ends_with(MESSAGE));

    // The bounce for nobody@ goes to alice, locally as well.
    runner.run_once().await.unwrap();
    let inbox = t.inbox(t.alice).await;
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0].contains("Final-Recipient: rfc822; nobody@here.test"));
    assert!(inbox[0].contains("Status: 5.1.1"));
    assert_eq!(route.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn null_sender_is_never_bounced() {
    let t = TestStore::new().await;
    let sink = Sink::start(SinkBehaviour::default().rcpt("no@there.test", "550 5.1.1 no")).await;
    enqueue(&t, "", &["no@there.test"]).await;
    let runner = runner(&t, config(sink.relay()));

    let report = runner.run_once().await.unwrap();
    assert_eq!(report.failed, 1);
    assert_eq!(report.bounces, 0);
    assert!(t.store.queued_messages().await.unwrap().is_empty());
    assert!(
        sink.commands()
            .iter()
            .any(|c| c.starts_with("MAIL FROM:<> "))
    );
}

#[tokio::test]
async fn a_held_lease_prevents_double_delivery() {
    let t = TestStore::new().await;
    let sink = Sink::start(SinkBehaviour::default()).await;
    let id = enqueue(&t, "alice@here.test", &["carol@there.test"]).await;

    // Another node is delivering this message.
    assert!(
        t.store
            .acquire_lease(&format!("queue:{id}"), "other-node", 600)
            .await
            .unwrap()
    );
    let mut config_a = config(sink.relay());
    config_a.node_id = "node-a".into();
    let mut config_b = config(sink.relay());
    config_b.node_id = "node-b".into();
    let a = runner(&t, config_a);
    let b = runner(&t, config_b);

    let report = a.run_once().await.unwrap();
    assert_eq!(report.locked, 1);
    assert_eq!(report.delivered, 0);
    assert!(sink.messages().is_empty());

    // Once the other node's lease expired, two nodes racing deliver it exactly once.
    t.clock.advance(601);
    let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.delivered + rb.delivered, 1);
    assert_eq!(sink.messages().len(), 1);
    assert!(t.store.queued_messages().await.unwrap().is_empty());
}

#[tokio::test]
async fn run_wakes_on_notify_and_stops_on_shutdown() {
    let t = TestStore::new().await;
    let sink = Sink::start(SinkBehaviour::default()).await;
    let mut config = config(sink.relay());
    // Without a wake-up, nothing would happen within the test.
    config.interval = Duration::from_secs(3600);
    let runner = runner(&t, config);
    let notifier = runner.notifier();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(runner.run(async {
        let _ = stopped.await;
    }));

    enqueue(&t, "alice@here.test", &["carol@there.test"]).await;
    let delivered = sink.delivered.notified();
    notifier.notify_one();
    // A guard against hanging forever, not a timing assertion.
    tokio::time::timeout(Duration::from_secs(60), delivered)
        .await
        .expect("the runner delivered after being notified");
    stop.send(()).unwrap();
    task.await.unwrap();
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn a_silent_server_is_deferred_after_the_domain_timeout() {
    let t = TestStore::new().await;
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let id = enqueue(&t, "alice@here.test", &["carol@there.test"]).await;
    let mut config = config(silent.to_string());
    // The per-step timeouts alone would wait an hour; the domain's limit ends it first.
    config.timeouts = Timeouts::uniform(Duration::from_secs(3600));
    config.domain_timeout = Duration::from_secs(60);
    let runner = runner(&t, config);

    // Virtual time: the runtime jumps to the timeout once nothing else can progress.
    tokio::time::pause();
    let report = runner.run_once().await.unwrap();
    tokio::time::resume();
    held.abort();

    assert_eq!(report.messages, 1);
    assert_eq!(report.deferred, 1);
    assert_eq!(report.failed, 0);
    let message = t.store.queued_message(id).await.unwrap().unwrap();
    let rcpt = &message.recipients[0];
    // Deferred on the normal schedule, not lost.
    assert_eq!(rcpt.status, RecipientStatus::Pending);
    assert_eq!(rcpt.attempts, 1);
    assert_eq!(rcpt.next_attempt_at, START + 60);
    let response = rcpt.last_response.as_deref().unwrap();
    assert!(response.starts_with("451 4.4.1"), "{response}");
    assert!(response.contains("timed out"), "{response}");
}

/// A route that sends every domain to one loopback port, but looks like DNS (one transaction
/// per domain), and hands the message's lease to another node while it routes the first.
struct LeaseThief {
    store: Arc<dyn mailroom_store::Store>,
    target: std::net::SocketAddr,
    lease: String,
    calls: AtomicUsize,
    /// Domains are routed at once: the others wait here until the lease has changed hands.
    stealing: tokio::sync::Mutex<()>,
}

#[async_trait]
impl Route for LeaseThief {
    async fn targets(&self, _domain: &str) -> Result<Vec<Target>, RouteError> {
        let _one_at_a_time = self.stealing.lock().await;
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            // While the first domain is delivered, our lease expires and another node takes it.
            self.store
                .release_lease(&self.lease, "mx.here.test")
                .await
                .unwrap();
            assert!(
                self.store
                    .acquire_lease(&self.lease, "other-node", 600)
                    .await
                    .unwrap()
            );
        }
        Ok(vec![Target {
            host: "sink.test".into(),
            addrs: vec![self.target],
        }])
    }
}

#[tokio::test]
async fn a_lost_lease_stops_the_attempt() {
    let t = TestStore::new().await;
    let sink = Sink::start(SinkBehaviour::default()).await;
    let id = enqueue(&t, "alice@here.test", &["a@one.test", "b@two.test"]).await;
    let route = Arc::new(LeaseThief {
        store: t.store.clone(),
        target: sink.addr,
        lease: format!("queue:{id}"),
        calls: AtomicUsize::new(0),
        stealing: tokio::sync::Mutex::new(()),
    });
    let mut config = OutboundConfig::new("mx.here.test");
    config.route = Some(route.clone());
    config.timeouts = Timeouts::uniform(Duration::from_secs(10));
    let runner = runner(&t, config);

    let report = runner.run_once().await.unwrap();
    // The lease went to another node while the first domain was routed: no domain is handed
    // over after that (they are attempted at once, each checking the lease before it sends),
    // and nothing is recorded for them: the other node sends.
    assert_eq!(report.delivered, 0);
    assert!(route.calls.load(Ordering::SeqCst) >= 1);
    assert!(sink.messages().is_empty());
    let message = t.store.queued_message(id).await.unwrap().unwrap();
    let status = |addr: &str| {
        message
            .recipients
            .iter()
            .find(|r| r.address == addr)
            .unwrap()
            .clone()
    };
    for address in ["a@one.test", "b@two.test"] {
        let untouched = status(address);
        assert_eq!(untouched.status, RecipientStatus::Pending);
        assert_eq!(untouched.attempts, 0);
    }
}

#[tokio::test]
async fn an_unreadable_message_backs_off_then_fails_at_max_age() {
    let t = TestStore::new().await;
    let sink = Sink::start(SinkBehaviour::default()).await;
    let id = enqueue(&t, "alice@here.test", &["carol@there.test"]).await;
    let blob = t.store.queued_message(id).await.unwrap().unwrap().blob;
    t.lose_blob(&blob);
    let runner = runner(&t, config(sink.relay()));

    let report = runner.run_once().await.unwrap();
    assert_eq!(report.errors, 1);
    assert_eq!(report.deferred, 1);
    let rcpt = t
        .store
        .queued_message(id)
        .await
        .unwrap()
        .unwrap()
        .recipients[0]
        .clone();
    // Scheduled like any temporary failure: not due again on the next pass.
    assert_eq!(rcpt.status, RecipientStatus::Pending);
    assert_eq!(rcpt.attempts, 1);
    assert_eq!(rcpt.next_attempt_at, START + 60);
    assert!(rcpt.last_response.unwrap().starts_with("451 4.3.0"));
    assert!(runner.run_once().await.unwrap().is_idle());

    // At max_age it fails for good and leaves the queue, with a bounce to the sender.
    t.clock.set(START + 5 * 86_400);
    let report = runner.run_once().await.unwrap();
    assert_eq!(report.failed, 1);
    assert_eq!(report.bounces, 1);
    assert!(t.store.queued_message(id).await.unwrap().is_none());
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_domain_timeout_past_the_lease_is_refused() {
    let t = TestStore::new().await;
    let mut config = OutboundConfig::new("mx.here.test");
    config.domain_timeout = config.lease_ttl;
    assert!(QueueRunner::new(t.store.clone(), t.clock.clone(), config).is_err());
}

#[tokio::test]
async fn a_dsn_server_receives_the_parameters_and_reports_itself() {
    let t = TestStore::new().await;
    let sink = Sink::start(SinkBehaviour::default().with_dsn()).await;
    let notify = DsnNotify::On {
        success: true,
        failure: true,
        delay: false,
    };
    enqueue_dsn(
        &t,
        "alice@here.test",
        vec![
            rcpt("carol@there.test", notify, Some("rfc822;c+2Bx@there.test")),
            rcpt("dave@there.test", DsnNotify::Never, None),
        ],
        Some("env 1"),
        Some(DsnRet::Full),
    )
    .await;
    let runner = runner(&t, config(sink.relay()));

    let report = runner.run_once().await.unwrap();
    assert_eq!(report.delivered, 2);
    // The next hop speaks DSN: the success report is its job, not ours (RFC 3461 §5.2.1).
    assert_eq!(report.reports, 0);
    let commands = sink.commands();
    let mail = format!(
        "MAIL FROM:<alice@here.test> SIZE={} RET=FULL ENVID=env+201",
        MESSAGE.len()
    );
    for expected in [
        mail.as_str(),
        "RCPT TO:<carol@there.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+2Bx@there.test",
        "RCPT TO:<dave@there.test> NOTIFY=NEVER",
    ] {
        assert!(
            commands.iter().any(|c| c == expected),
            "{expected}: {commands:?}"
        );
    }
    assert!(runner.run_once().await.unwrap().is_idle());
    assert!(t.inbox(t.alice).await.is_empty());
}

#[tokio::test]
async fn notify_success_through_a_server_without_dsn_is_reported_as_relayed() {
    let t = TestStore::new().await;
    let sink = Sink::start(SinkBehaviour::default()).await;
    enqueue_dsn(
        &t,
        "alice@here.test",
        vec![
            rcpt("carol@there.test", SUCCESS, Some("rfc822;carol@there.test")),
            rcpt("dave@there.test", DsnNotify::Unspecified, None),
        ],
        Some("env-2"),
        None,
    )
    .await;
    let runner = runner(&t, config(sink.relay()));

    let report = runner.run_once().await.unwrap();
    assert_eq!((report.delivered, report.reports), (2, 1));
    // Nothing DSN went to a server that didn't offer it.
    assert!(!sink.commands().iter().any(|c| c.contains("NOTIFY")));

    // The report is delivered to alice on the next pass.
    runner.run_once().await.unwrap();
    let inbox = t.inbox(t.alice).await;
    assert_eq!(inbox.len(), 1);
    let dsn = &inbox[0];
    for expected in [
        "Return-Path: <>\r\n",
        "Original-Envelope-Id: env-2\r\n",
        "Original-Recipient: rfc822; carol@there.test\r\nFinal-Recipient: rfc822; carol@there.test\r\nAction: relayed\r\nStatus: 2.0.0",
        "Subject: plans",
    ] {
        assert!(dsn.contains(expected), "{expected}: {dsn}");
    }
    // Only the recipient that asked is reported on, and only the headers come back.
    assert!(!dsn.contains("dave@there.test"), "{dsn}");
    assert!(!dsn.contains("See you at noon."), "{dsn}");
}

#[tokio::test]
async fn notify_never_or_without_failure_means_no_bounce() {
    let t = TestStore::new().await;
    let sink = Sink::start(
        SinkBehaviour::default()
            .rcpt("never@there.test", "550 5.1.1 no such user")
            .rcpt("success@there.test", "550 5.1.1 no such user"),
    )
    .await;
    let id = enqueue_dsn(
        &t,
        "alice@here.test",
        vec![
            rcpt("never@there.test", DsnNotify::Never, None),
            rcpt("success@there.test", SUCCESS, None),
        ],
        None,
        None,
    )
    .await;
    let runner = runner(&t, config(sink.relay()));

    let report = runner.run_once().await.unwrap();
    assert_eq!(report.failed, 2);
    assert_eq!((report.bounces, report.reports), (0, 0));
    assert!(t.store.queued_message(id).await.unwrap().is_none());
    assert!(t.store.queued_messages().await.unwrap().is_empty());
    assert!(t.inbox(t.alice).await.is_empty());
}

#[tokio::test]
async fn a_bounce_carries_orcpt_and_envid_and_honours_ret() {
    let t = TestStore::new().await;
    let sink = Sink::start(
        SinkBehaviour::default()
            .rcpt("no@there.test", "550 5.1.1 no such user")
            .rcpt("gone@there.test", "550 5.1.1 no such user"),
    )
    .await;
    enqueue_dsn(
        &t,
        "alice@here.test",
        vec![rcpt(
            "no@there.test",
            FAILURE,
            Some("rfc822;a+2Bb@there.test"),
        )],
        Some("QQ314159"),
        Some(DsnRet::Hdrs),
    )
    .await;
    enqueue_dsn(
        &t,
        "alice@here.test",
        vec![rcpt("gone@there.test", DsnNotify::Unspecified, None)],
        None,
        Some(DsnRet::Full),
    )
    .await;
    let runner = runner(&t, config(sink.relay()));

    let report = runner.run_once().await.unwrap();
    assert_eq!((report.failed, report.bounces), (2, 2));
    runner.run_once().await.unwrap();
    let inbox = t.inbox(t.alice).await;
    assert_eq!(inbox.len(), 2);
    let hdrs = inbox.iter().find(|m| m.contains("no@there.test")).unwrap();
    for expected in [
        "Original-Envelope-Id: QQ314159\r\n",
        "Original-Recipient: rfc822; a+b@there.test\r\nFinal-Recipient: rfc822; no@there.test\r\nAction: failed\r\nStatus: 5.1.1",
        "Content-Type: text/rfc822-headers",
        "Subject: plans",
    ] {
        assert!(hdrs.contains(expected), "{expected}: {hdrs}");
    }
    assert!(!hdrs.contains("See you at noon."), "RET=HDRS: {hdrs}");
    let full = inbox
        .iter()
        .find(|m| m.contains("gone@there.test"))
        .unwrap();
    assert!(full.contains("Content-Type: message/rfc822"), "{full}");
    assert!(full.contains("See you at noon."), "RET=FULL: {full}");
    assert!(!full.contains("Original-Envelope-Id"), "{full}");
}

#[tokio::test]
async fn local_delivery_with_notify_success_is_reported_as_delivered() {
    let t = TestStore::new().await;
    let route = Arc::new(NoNetwork(AtomicUsize::new(0)));
    let mut config = OutboundConfig::new("mx.here.test");
    config.route = Some(route.clone());
    let runner = runner(&t, config);
    enqueue_dsn(
        &t,
        "alice@here.test",
        vec![rcpt(
            "bob@here.test",
            SUCCESS,
            Some("rfc822;robert@here.test"),
        )],
        Some("local-1"),
        None,
    )
    .await;

    let report = runner.run_once().await.unwrap();
    assert_eq!((report.delivered, report.reports), (1, 1));
    runner.run_once().await.unwrap();
    let inbox = t.inbox(t.alice).await;
    assert_eq!(inbox.len(), 1);
    for expected in [
        "Original-Envelope-Id: local-1\r\n",
        "Original-Recipient: rfc822; robert@here.test\r\nFinal-Recipient: rfc822; bob@here.test\r\nAction: delivered\r\nStatus: 2.0.0",
    ] {
        assert!(inbox[0].contains(expected), "{expected}: {}", inbox[0]);
    }
    assert_eq!(route.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_null_sender_gets_no_success_report() {
    let t = TestStore::new().await;
    let sink = Sink::start(SinkBehaviour::default()).await;
    enqueue_dsn(
        &t,
        "",
        vec![rcpt("carol@there.test", SUCCESS, None)],
        None,
        None,
    )
    .await;
    let runner = runner(&t, config(sink.relay()));

    let report = runner.run_once().await.unwrap();
    assert_eq!((report.delivered, report.reports), (1, 0));
    assert!(t.store.queued_messages().await.unwrap().is_empty());
}

/// Routes `tarpit.test` to a server that accepts connections and never says a word, every
/// other domain to the sink.
struct TarpitRoute {
    tarpit: std::net::SocketAddr,
    sink: std::net::SocketAddr,
}

#[async_trait]
impl Route for TarpitRoute {
    async fn targets(&self, domain: &str) -> Result<Vec<Target>, RouteError> {
        let addr = if domain == "tarpit.test" {
            self.tarpit
        } else {
            self.sink
        };
        Ok(vec![Target {
            host: domain.into(),
            addrs: vec![addr],
        }])
    }
}

/// One message to a tarpit (a server that answers at the pace of our timeouts, up to the
/// domain timeout) must not hold up the rest: with it first in the queue, the 100 messages
/// behind it are delivered while it still waits.
#[tokio::test]
async fn a_tarpit_does_not_hold_up_the_queue() {
    let t = TestStore::new().await;
    let sink = Sink::start(SinkBehaviour::default()).await;
    let tarpit = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tarpit_addr = tarpit.local_addr().unwrap();
    // Accept and hold every connection, silent.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = tarpit.accept().await {
            held.push(stream);
        }
    });
    let stuck = enqueue(&t, "alice@here.test", &["victim@tarpit.test"]).await;
    for i in 0..100 {
        enqueue(&t, "alice@here.test", &[&format!("r{i}@good.test")]).await;
    }
    let mut config = OutboundConfig::new("mx.here.test");
    config.route = Some(Arc::new(TarpitRoute {
        tarpit: tarpit_addr,
        sink: sink.addr,
    }));
    config.timeouts = Timeouts::uniform(Duration::from_secs(600));
    config.domain_timeout = Duration::from_secs(900);
    let runner = runner(&t, config);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(runner.run(async {
        let _ = stopped.await;
    }));
    // Wait for the deliveries themselves (an event), with a bound only against a hang.
    let all_delivered = async {
        while sink.messages().len() < 100 {
            sink.delivered.notified().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(120), all_delivered)
        .await
        .expect("the good messages waited behind the tarpit");
    let message = t.store.queued_message(stuck).await.unwrap().unwrap();
    assert_eq!(message.recipients[0].status, RecipientStatus::Pending);
    assert_eq!(
        message.recipients[0].attempts, 0,
        "still in its first attempt"
    );
    let _ = stop.send(());
    running.await.unwrap();
}
