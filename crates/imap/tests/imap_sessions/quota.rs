//! GETQUOTA / GETQUOTAROOT and OVERQUOTA on APPEND.

use crate::common;
use common::*;
use mailroom_store::{AccountUpdate, Directory};

#[tokio::test]
async fn quota_reporting_and_overquota() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    assert_eq!(
        c.cmd("a GETQUOTAROOT INBOX").await,
        [
            "* QUOTAROOT INBOX \"\"",
            "* QUOTA \"\" ()",
            "a OK GETQUOTAROOT completed"
        ]
    );
    let account = srv.store.account_by_address(USER).await.unwrap().unwrap();
    let update = AccountUpdate {
        quota_bytes: Some(Some(2048)),
        quota_messages: Some(Some(10)),
        ..Default::default()
    };
    srv.store.update_account(account.id, update).await.unwrap();
    let m = message("q", "x");
    append(&mut c, "b", "INBOX", "", &m).await;
    assert_eq!(
        c.cmd("c GETQUOTA \"\"").await,
        [
            "* QUOTA \"\" (STORAGE 1 2 MESSAGE 1 10)",
            "c OK GETQUOTA completed"
        ]
    );
    let big = message("big", &"x".repeat(4000));
    let lines = append(&mut c, "d", "INBOX", "", &big).await;
    assert_eq!(lines, ["d NO [OVERQUOTA] over quota"]);
    assert_eq!(
        c.cmd("e GETQUOTA nope").await,
        ["e NO [NONEXISTENT] no such quota root"]
    );
    assert_eq!(
        c.cmd("f SETQUOTA \"\" (STORAGE 10)").await,
        ["f NO [NOPERM] quotas are set by the administrator"]
    );
}
