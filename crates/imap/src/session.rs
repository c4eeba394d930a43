//! The session core: state, the one place that decides which command is legal where, and the
//! reporting of changes made by other sessions. It takes typed commands and produces typed
//! responses; the socket belongs to `conn.rs`.

use crate::caps::{CapsContext, capabilities};
use crate::cmd;
use crate::config::ImapConfig;
use crate::error::{ImapError, error_response};
use crate::view::View;
use mailroom_auth::Authenticator;
use mailroom_imap_proto::response::{Code, Completion, Response, Text, WriteOptions};
use mailroom_imap_proto::{Capability, Command, CommandBody, NonEmpty, Tag};
use mailroom_net::TlsAcceptor;
use mailroom_store::{Account, AccountId, Mailbox, MailboxEvent, Store};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// What every session of one listener shares.
pub(crate) struct Shared {
    pub store: Arc<dyn Store>,
    pub auth: Authenticator,
    pub tls: Option<TlsAcceptor>,
    pub config: ImapConfig,
    pub users: Arc<UserSlots>,
}

/// Sessions per account, for `max_connections_per_user`.
#[derive(Default)]
pub(crate) struct UserSlots(Mutex<HashMap<AccountId, usize>>);

/// Held by an authenticated session; frees its slot when dropped.
pub(crate) struct UserSlot {
    slots: Arc<UserSlots>,
    account: AccountId,
}

impl UserSlots {
    pub fn acquire(self: &Arc<Self>, account: AccountId, limit: usize) -> Option<UserSlot> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = map.entry(account).or_insert(0);
        if limit > 0 && *count >= limit {
            return None;
        }
        *count += 1;
        Some(UserSlot {
            slots: self.clone(),
            account,
        })
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut map = self.slots.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = map.get_mut(&self.account) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                map.remove(&self.account);
            }
        }
    }
}

/// A logged-in user.
pub(crate) struct User {
    pub account: Account,
    pub _slot: UserSlot,
}

/// The selected mailbox; it cannot exist without its user.
pub(crate) struct Selected {
    pub user: User,
    pub mailbox: Mailbox,
    pub read_only: bool,
    pub view: View,
    /// For a real mailbox its own events; for "Recently Deleted" the account's.
    pub events: broadcast::Receiver<MailboxEvent>,
    /// The "Recently Deleted" virtual folder: `mailbox` is a stand-in, the view holds
    /// recovery ids, and the store is reached through `virtual_folder` only.
    pub recently_deleted: bool,
    /// Results kept up to date by RETURN (UPDATE) (RFC 5267): they end with the selection.
    pub contexts: Vec<crate::cmd::context::ResultContext>,
}

/// RFC 9051 §3: the session states; each variant owns what only it may use.
pub(crate) enum State {
    NotAuthenticated,
    Authenticated(User),
    Selected(Box<Selected>),
    Logout,
}

impl State {
    pub fn user(&self) -> Option<&User> {
        match self {
            State::Authenticated(user) => Some(user),
            State::Selected(selected) => Some(&selected.user),
            State::NotAuthenticated | State::Logout => None,
        }
    }

    /// Leaves the selected state (CLOSE, UNSELECT, SELECT of another mailbox).
    pub fn deselect(&mut self) {
        if matches!(self, State::Selected(_)) {
            let old = std::mem::replace(self, State::Logout);
            if let State::Selected(selected) = old {
                *self = State::Authenticated(selected.user);
            }
        }
    }
}

/// Extensions the client turned on with ENABLE (RFC 5161) or implicitly.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Enabled {
    pub rev2: bool,
    pub utf8_accept: bool,
    pub condstore: bool,
    pub qresync: bool,
}

/// What the driver must do after a command.
pub(crate) enum Flow {
    Continue,
    /// Answered OK to STARTTLS: upgrade, discarding anything buffered.
    StartTls,
    /// Answered LOGOUT: close.
    Logout,
    /// Sent `+ idling`: wait for DONE while reporting changes.
    Idle(Tag),
    /// Answered OK to COMPRESS: deflate everything from now on (RFC 4978 §3).
    Compress,
    /// AUTHENTICATE needs more client data.
    Sasl(cmd::auth::SaslExchange),
}

/// A successful command: the tagged OK's code and text, and what happens next.
pub(crate) struct Done {
    pub code: Option<Code>,
    pub text: String,
    pub flow: Flow,
}

impl Done {
    pub fn ok(text: impl Into<String>) -> Self {
        Done {
            code: None,
            text: text.into(),
            flow: Flow::Continue,
        }
    }

    pub fn with_code(code: Option<Code>, text: impl Into<String>) -> Self {
        Done {
            code,
            text: text.into(),
            flow: Flow::Continue,
        }
    }
}

pub(crate) struct Session {
    pub shared: Arc<Shared>,
    pub state: State,
    pub tls_active: bool,
    pub loopback: bool,
    /// The client's address, for the login throttle: the connection's, or the one a trusted
    /// proxy named in ID.
    pub peer: IpAddr,
    /// The connection comes from a trusted proxy (`[auth] trusted_networks`).
    pub from_proxy: bool,
    pub enabled: Enabled,
    /// Failed LOGIN / AUTHENTICATE attempts on this connection.
    pub auth_failures: u32,
    /// BAD answers since the last command that was not (`ImapConfig::max_bad_commands`).
    pub bad_streak: u32,
    /// COMPRESS=DEFLATE is active.
    pub compressed: bool,
    /// RFC 5182 SEARCHRES: UIDs saved by `RETURN (SAVE)`.
    pub saved_search: Option<Vec<u32>>,
    /// This session's share of the CPU pool (SEARCH, SORT and THREAD run there).
    pub budget: mailroom_cpu::Budget,
    /// The session's slot in the connection gate, told of logins and UNAUTHENTICATE.
    pub permit: Option<mailroom_net::ConnectionPermit>,
    /// Responses waiting to be written.
    pub out: Vec<Response>,
    /// Where a long command (FETCH) hands finished responses to the connection while it goes
    /// on; none when nothing writes them meanwhile (the driver sets it per command).
    pub sink: Option<tokio::sync::mpsc::Sender<Vec<Response>>>,
}

/// Which states a command is legal in (RFC 9051 §6.1-6.4).
#[derive(PartialEq, Eq)]
enum Legal {
    Any,
    NotAuthenticated,
    Authenticated,
    Selected,
}

/// The single place deciding where each command may run.
fn legal_in(body: &CommandBody) -> Legal {
    use CommandBody as C;
    match body {
        C::Capability | C::Noop | C::Logout | C::Id(_) => Legal::Any,
        C::StartTls | C::Authenticate(_) | C::Login(_) => Legal::NotAuthenticated,
        C::Enable(_)
        | C::Select(_)
        | C::Examine(_)
        | C::Create { .. }
        | C::Delete(_)
        | C::Rename { .. }
        | C::Subscribe(_)
        | C::Unsubscribe(_)
        | C::List(_)
        | C::Lsub { .. }
        | C::Namespace
        | C::Status { .. }
        | C::Append(_)
        | C::Idle
        | C::GetQuota { .. }
        | C::GetQuotaRoot(_)
        | C::SetQuota { .. }
        | C::Compress(_)
        | C::Unauthenticate
        | C::Notify(_) => Legal::Authenticated,
        C::Check
        | C::Close
        | C::Unselect
        | C::Expunge
        | C::UidExpunge(_)
        | C::Search(_)
        | C::Fetch(_)
        | C::Store(_)
        | C::Copy(_)
        | C::Move(_)
        | C::Sort(_)
        | C::Thread(_)
        | C::CancelUpdate(_) => Legal::Selected,
    }
}

fn check_state(state: &State, body: &CommandBody) -> Result<(), ImapError> {
    let authenticated = matches!(state, State::Authenticated(_) | State::Selected(_));
    let why = match (legal_in(body), state) {
        (_, State::Logout) => "logging out",
        (Legal::Any, _) => return Ok(()),
        (Legal::NotAuthenticated, State::NotAuthenticated) => return Ok(()),
        (Legal::NotAuthenticated, _) => "already authenticated",
        (Legal::Authenticated, _) if authenticated => return Ok(()),
        (Legal::Selected, State::Selected(_)) => return Ok(()),
        (Legal::Selected, _) if authenticated => "no mailbox selected",
        (Legal::Authenticated | Legal::Selected, _) => "not authenticated",
    };
    Err(ImapError::bad(format!(
        "{} not allowed: {why}",
        body.name()
    )))
}

/// RFC 9051 §7.5.1: no EXPUNGE may be sent while responding to FETCH, STORE or SEARCH (the
/// client's sequence numbers would shift); their UID forms are fine. Other changes wait too,
/// so that the order of reports stays the store's order.
fn may_report_changes(body: &CommandBody) -> bool {
    match body {
        CommandBody::Fetch(f) => f.uid,
        CommandBody::Store(s) => s.uid,
        CommandBody::Search(s) => s.uid,
        CommandBody::Sort(s) => s.uid,
        CommandBody::Thread(t) => t.uid,
        _ => true,
    }
}

impl Session {
    pub fn new(shared: Arc<Shared>, tls_active: bool, loopback: bool, peer: IpAddr) -> Self {
        let from_proxy = shared.auth.is_trusted(peer);
        Session {
            shared,
            state: State::NotAuthenticated,
            tls_active,
            loopback,
            from_proxy,
            peer,
            enabled: Enabled::default(),
            auth_failures: 0,
            bad_streak: 0,
            compressed: false,
            saved_search: None,
            budget: mailroom_cpu::Budget::default(),
            permit: None,
            out: Vec::new(),
            sink: None,
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.shared.store.as_ref()
    }

    /// UTF-8 on the wire: IMAP4rev2 or UTF8=ACCEPT (RFC 6855 §3).
    pub fn utf8(&self) -> bool {
        self.enabled.rev2 || self.enabled.utf8_accept
    }

    pub fn write_options(&self) -> WriteOptions {
        WriteOptions { utf8: self.utf8() }
    }

    /// RFC 9051 §6.2.3 / RFC 8314: passwords only over TLS, unless the peer is local or the
    /// operator allows it.
    pub fn login_disabled(&self) -> bool {
        !(self.tls_active || self.loopback || self.shared.config.allow_plaintext_auth)
    }

    pub fn capabilities(&self) -> Option<NonEmpty<Capability>> {
        capabilities(&CapsContext {
            authenticated: self.state.user().is_some(),
            starttls: !self.tls_active && self.shared.tls.is_some(),
            login_disabled: self.login_disabled(),
            append_limit: self.shared.config.max_literal,
        })
    }

    /// A CONDSTORE-enabling command (RFC 7162 §3.1): the first one while a mailbox is selected
    /// also reports the mailbox's HIGHESTMODSEQ.
    pub fn enable_condstore(&mut self) {
        if self.enabled.condstore {
            return;
        }
        self.enabled.condstore = true;
        if let State::Selected(selected) = &self.state
            && let Some(modseq) = std::num::NonZeroU64::new(selected.view.synced_modseq)
        {
            self.push(Response::untagged(
                mailroom_imap_proto::response::StatusKind::Ok,
                Some(Code::HighestModSeq(modseq)),
                Text::sanitized("highest"),
            ));
        }
    }

    pub fn push(&mut self, response: Response) {
        self.out.push(response);
    }

    pub fn take_output(&mut self) -> Vec<Response> {
        std::mem::take(&mut self.out)
    }

    /// Runs one command and queues its responses, the tagged one last.
    pub async fn execute(&mut self, command: Command) -> Flow {
        let Command { tag, body } = command;
        let report = may_report_changes(&body);
        let result = match check_state(&self.state, &body) {
            Ok(()) => cmd::dispatch(self, &tag, body).await,
            Err(e) => Err(e),
        };
        self.bad_streak = match &result {
            Err(ImapError::Bad(_)) => self.bad_streak.saturating_add(1),
            _ => 0,
        };
        match result {
            Ok(done) => {
                if report && !matches!(done.flow, Flow::Idle(_) | Flow::Sasl(_)) {
                    self.report_changes().await;
                }
                cmd::context::report_updates(self).await;
                if matches!(done.flow, Flow::Idle(_) | Flow::Sasl(_)) {
                    // The tagged answer comes when the exchange ends.
                    return done.flow;
                }
                self.push(Response::tagged(
                    tag,
                    Completion::Ok,
                    done.code,
                    Text::sanitized(&done.text),
                ));
                done.flow
            }
            Err(error) => {
                if report {
                    self.report_changes().await;
                }
                self.push(error_response(Some(tag), &error));
                Flow::Continue
            }
        }
    }

    /// Brings the view up to date with changes by other sessions and queues the untagged
    /// EXISTS / EXPUNGE (or VANISHED) / FETCH responses (RFC 9051 §7.5.1, RFC 7162 §3.2.10).
    pub async fn report_changes(&mut self) {
        let State::Selected(selected) = &mut self.state else {
            return;
        };
        let mut heard = false;
        let mut deleted = false;
        let virtual_folder = selected.recently_deleted;
        loop {
            match selected.events.try_recv() {
                // Account events name other mailboxes; their deletion only adds entries.
                Ok(MailboxEvent::Deleted { .. }) if !virtual_folder => deleted = true,
                Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => heard = true,
                Err(_) => break,
            }
        }
        if deleted {
            self.mailbox_deleted();
        } else if heard {
            self.sync_view().await;
        }
    }

    /// Another session deleted the selected mailbox: the view's messages are gone, and no
    /// response can tell the client so; end the session (RFC 9051 §7.1.5 BYE).
    pub fn mailbox_deleted(&mut self) {
        self.push(error_response(
            None,
            &ImapError::Bye(
                Some(Code::NonExistent),
                "the selected mailbox was deleted".into(),
            ),
        ));
        self.state = State::Logout;
    }

    /// Fetches the change log since the view's MODSEQ and applies it.
    pub async fn sync_view(&mut self) {
        let store = self.shared.store.clone();
        let enabled = self.enabled;
        let State::Selected(selected) = &mut self.state else {
            return;
        };
        if selected.recently_deleted {
            match crate::virtual_folder::resync(store.as_ref(), selected, enabled).await {
                Ok(responses) => self.out.extend(responses),
                Err(e) => tracing::warn!(error = ?e, "cannot read the recovery area"),
            }
            return;
        }
        let changes = match store
            .changes_since(selected.mailbox.id, selected.view.synced_modseq)
            .await
        {
            Ok(changes) => changes,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the change log");
                return;
            }
        };
        let before = selected.view.max_uid();
        let responses =
            cmd::changes::apply(&mut selected.view, changes, enabled, selected.read_only);
        self.out.extend(responses);
        // RFC 3501 §2.3.2: new messages are recent in the first session told of them; a
        // read-only session only looks (its RECENT count is what SELECT said).
        let top = selected.view.max_uid();
        if top > before && !selected.read_only && !enabled.rev2 {
            match store.claim_recent(selected.mailbox.id, top).await {
                Ok(told_up_to) => {
                    let fresh: Vec<u32> = selected
                        .view
                        .messages
                        .iter()
                        .map(|m| m.uid)
                        .filter(|&uid| uid > before.max(told_up_to))
                        .collect();
                    if !fresh.is_empty() {
                        selected.view.recent.extend(fresh);
                        let count = u32::try_from(selected.view.recent.len()).unwrap_or(u32::MAX);
                        self.out
                            .push(Response::Data(mailroom_imap_proto::response::Data::Recent(
                                count,
                            )));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot record recent messages"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_imap_proto::command::session::Login;
    use mailroom_imap_proto::response::WriteOptions;
    use mailroom_imap_proto::{Secret, flatten};
    use mailroom_store_sqlite::SqliteStore;

    const REMOTE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    fn written(responses: &[Response]) -> String {
        let mut w = mailroom_imap_proto::response::ResponseWriter::new(WriteOptions::default());
        for r in responses {
            w.push(r);
        }
        String::from_utf8(flatten(w.finish()).unwrap()).unwrap()
    }

    #[test]
    fn legality_table() {
        use mailroom_imap_proto::SequenceSet;
        let set = SequenceSet::from_ranges([(1, 1)]).unwrap();
        let cases = [
            (CommandBody::Noop, Legal::Any),
            (CommandBody::StartTls, Legal::NotAuthenticated),
            (CommandBody::Namespace, Legal::Authenticated),
            (CommandBody::Idle, Legal::Authenticated),
            (CommandBody::Expunge, Legal::Selected),
            (CommandBody::UidExpunge(set), Legal::Selected),
        ];
        for (body, legal) in cases {
            assert!(legal_in(&body) == legal, "{}", body.name());
            let ok = check_state(&State::NotAuthenticated, &body).is_ok();
            assert_eq!(ok, matches!(legal, Legal::Any | Legal::NotAuthenticated));
            assert!(check_state(&State::Logout, &body).is_err());
        }
    }

    /// A non-loopback plaintext peer: passwords are refused (RFC 9051 §6.2.3).
    #[tokio::test]
    async fn plaintext_remote_peers_cannot_log_in() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let shared = Arc::new(Shared {
            store: store.clone(),
            auth: Authenticator::new(store),
            tls: None,
            config: ImapConfig::default(),
            users: Arc::default(),
        });
        let mut s = Session::new(shared.clone(), false, false, REMOTE);
        let caps = s.capabilities().unwrap();
        assert!(caps.iter().any(|c| c.as_str() == "LOGINDISABLED"));
        assert!(!caps.iter().any(|c| c.as_str() == "AUTH=PLAIN"));
        let login = Command {
            tag: Tag::new("a").unwrap(),
            body: CommandBody::Login(Login {
                username: b"ann@example.test".to_vec(),
                password: Secret::new(b"x".to_vec()),
            }),
        };
        s.execute(login).await;
        assert_eq!(
            written(&s.take_output()),
            "a NO [PRIVACYREQUIRED] LOGIN is disabled on this connection; use STARTTLS first\r\n"
        );
        // Loopback and TLS peers may.
        assert!(!Session::new(shared.clone(), false, true, REMOTE).login_disabled());
        assert!(!Session::new(shared, true, false, REMOTE).login_disabled());
    }
}
