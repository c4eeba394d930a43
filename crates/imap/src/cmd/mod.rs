//! One file per command (or small family); `dispatch` is the only switch over commands.

pub(crate) mod any;
pub(crate) mod append;
pub(crate) mod auth;
pub(crate) mod changes;
pub(crate) mod context;
pub(crate) mod copy;
pub(crate) mod fetch;
pub(crate) mod list;
pub(crate) mod mailbox;
pub(crate) mod quota;
pub(crate) mod search;
pub(crate) mod select;
pub(crate) mod sort;
pub(crate) mod status;
pub(crate) mod store;

use crate::error::ImapError;
use crate::session::{Done, Flow, Session};
use mailroom_imap_proto::{CommandBody, Tag};

/// Runs a command that `session.rs` already found legal in the current state.
pub(crate) async fn dispatch(
    s: &mut Session,
    tag: &Tag,
    body: CommandBody,
) -> Result<Done, ImapError> {
    use CommandBody as C;
    match body {
        C::Capability => any::capability(s),
        C::Noop => Ok(Done::ok("NOOP completed")),
        C::Logout => any::logout(s),
        C::Id(params) => any::id(s, params),
        C::StartTls => any::starttls(s),
        C::Login(login) => auth::login(s, login).await,
        C::Authenticate(a) => auth::authenticate(s, tag, a).await,
        C::Enable(caps) => any::enable(s, caps),
        C::Namespace => any::namespace(s),
        C::Unauthenticate => any::unauthenticate(s),
        C::Create {
            mailbox,
            special_use,
        } => mailbox::create(s, mailbox, special_use).await,
        C::Delete(m) => mailbox::delete(s, m).await,
        C::Rename { from, to } => mailbox::rename(s, from, to).await,
        C::Subscribe(m) => mailbox::subscribe(s, m, true).await,
        C::Unsubscribe(m) => mailbox::subscribe(s, m, false).await,
        C::List(list) => list::list(s, list).await,
        C::Lsub { reference, pattern } => list::lsub(s, reference, pattern).await,
        C::Status { mailbox, items } => status::status(s, mailbox, items).await,
        C::Select(sel) => select::select(s, sel, false).await,
        C::Examine(sel) => select::select(s, sel, true).await,
        C::Close => select::close(s).await,
        C::Unselect => select::unselect(s),
        C::Check => Ok(Done::ok("CHECK completed")),
        C::Expunge => select::expunge(s, None).await,
        C::UidExpunge(set) => select::expunge(s, Some(set)).await,
        C::Idle => Ok(Done {
            code: None,
            text: String::new(),
            flow: Flow::Idle(tag.clone()),
        }),
        C::Append(a) => append::append(s, a).await,
        C::Store(st) => store::store(s, st).await,
        C::Copy(c) => copy::copy_or_move(s, c, false).await,
        C::Move(m) => copy::copy_or_move(s, m, true).await,
        C::Fetch(f) => fetch::fetch(s, f).await,
        C::Search(search) => search::search(s, tag, search).await,
        C::GetQuota { root } => quota::get_quota(s, root).await,
        C::GetQuotaRoot(m) => quota::get_quota_root(s, m).await,
        C::SetQuota { .. } => quota::set_quota(),
        C::Sort(sort) => sort::sort(s, tag, sort).await,
        C::CancelUpdate(tags) => context::cancel(s, &tags),
        C::Thread(thread) => sort::thread(s, thread).await,
        C::Compress(algorithm) => any::compress(s, algorithm),
        other => Err(ImapError::bad(format!("{} is not supported", other.name()))),
    }
}
