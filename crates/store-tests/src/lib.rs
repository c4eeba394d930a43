//! The conformance suite of the storage API. It speaks only to the traits of `mailroom-store`,
//! so every backend (the embedded SQLite store today, PostgreSQL later) runs the same checks:
//!
//! ```ignore
//! mailroom_store_tests::conformance_tests!(|clock| async move { open_my_backend(clock) });
//! ```
//!
//! The factory gets a [`ManualClock`] so retention and purge tests move time instead of sleeping.

#[doc(hidden)]
pub mod accounts;
mod fixtures;
#[doc(hidden)]
pub mod mailboxes;
#[doc(hidden)]
pub mod messages;
#[doc(hidden)]
pub mod queue;
#[doc(hidden)]
pub mod recovery;

pub use fixtures::{Fixture, sample_message};

/// The names of every test, for the macro below.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@each $factory;
            accounts::domains_and_accounts,
            accounts::new_accounts_get_special_use_folders,
            accounts::aliases_resolve_to_their_account,
            accounts::removing_an_account_releases_its_blobs,
            accounts::leases_exclude_other_holders_until_expiry,
            accounts::domain_defaults_and_retention,
            accounts::api_tokens_are_found_by_hash_and_revoked,
            accounts::lockouts_last_until_they_expire,
            mailboxes::rename_keeps_identity_uidvalidity_and_uids,
            mailboxes::rename_inbox_moves_its_messages,
            mailboxes::recreated_mailbox_gets_new_uidvalidity,
            mailboxes::subscriptions_follow_names,
            mailboxes::status_counts,
            messages::concurrent_appends_get_distinct_ascending_uids,
            messages::modseq_only_grows_and_changes_are_logged,
            messages::unchanged_since_reports_modified,
            messages::copy_shares_the_blob,
            messages::move_is_not_a_deletion,
            messages::move_into_the_same_mailbox_renumbers,
            messages::quota_is_enforced_and_exact,
            messages::delivery_reports_per_recipient,
            messages::subscribers_hear_changes,
            messages::facts_are_stored,
            messages::accounts_are_isolated,
            messages::full_text_search_finds_substrings,
            messages::message_entries_list_sizes_and_blobs,
            messages::quota_warnings_fire_once_per_crossing,
            recovery::expunged_mail_is_recoverable,
            recovery::deleted_folder_comes_back,
            recovery::purge_after_retention_then_blob_gc,
            recovery::trash_and_junk_expire_into_recovery,
            recovery::recoverable_messages_can_be_shown_and_restored_elsewhere,
            recovery::restore_clears_the_deleted_flag,
            queue::queued_mail_waits_per_recipient_until_final,
            queue::queue_holds_its_blob_until_removed,
            queue::queued_dsn_parameters_round_trip,
            queue::app_passwords_scram_keys_and_dkim_keys_are_kept,
        );
    };
    (@each $factory:expr; $($module:ident :: $name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let clock = ::std::sync::Arc::new($crate::__private::ManualClock::new(1_750_000_000));
                let store = ($factory)(clock.clone()).await;
                $crate::__private::$module::$name(&$crate::Fixture::new(store, clock).await).await;
            }
        )+
    };
}

#[doc(hidden)]
pub mod __private {
    pub use crate::{accounts, mailboxes, messages, queue, recovery};
    pub use mailroom_store::ManualClock;
}
