//! `mailroom account app-password add/list/remove` against the real server: the printed
//! secret logs in over IMAP until it is removed; `account add` stores SCRAM keys.

use crate::support;

use support::Server;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const USER: &str = "ann@example.test";

async fn imap_login(port: u16, password: &str) -> String {
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut io = BufReader::new(tcp);
    let mut line = String::new();
    io.read_line(&mut line).await.expect("greeting");
    let command = format!("a LOGIN {USER} \"{password}\"\r\n");
    io.get_mut()
        .write_all(command.as_bytes())
        .await
        .expect("send");
    loop {
        line.clear();
        io.read_line(&mut line).await.expect("answer");
        if line.starts_with("a ") {
            return line.trim_end().to_string();
        }
    }
}

#[tokio::test]
async fn app_passwords_from_the_cli_log_in_until_removed() {
    let server = Server::start("[imap]\nlisten = [\"127.0.0.1:0\"]\n", |admin| {
        admin.account(USER, "pw")
    });
    let admin = server.admin();
    let out = admin.ok(&["account", "app-password", "add", USER, "phone"], b"");
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .expect("the secret is printed")
        .to_string();
    let listed = admin.ok(&["account", "app-password", "list", USER], b"");
    assert!(listed.contains("phone"), "{listed}");
    assert!(!listed.contains(&secret), "secrets are never listed");
    let duplicate = admin.run(&["account", "app-password", "add", USER, "phone"], b"");
    assert!(!duplicate.status.success(), "names are unique per account");

    let port = server.port("imap");
    let ok = imap_login(port, &secret).await;
    assert!(ok.starts_with("a OK"), "{ok}");
    admin.ok(&["account", "app-password", "remove", USER, "phone"], b"");
    assert_eq!(
        imap_login(port, &secret).await,
        "a NO [AUTHENTICATIONFAILED] invalid credentials"
    );
    let missing = admin.run(&["account", "app-password", "remove", USER, "phone"], b"");
    assert!(!missing.status.success());
}

/// The SCRAM-SHA-256 keys stored for an account come from its current password.
fn scram_keys_match(data: &std::path::Path, password: &str) -> bool {
    use mailroom_auth::ScramCredentials;
    use mailroom_store::Directory;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = mailroom_store_sqlite::SqliteStore::open(data).expect("open");
        let account = store
            .account_by_address(USER)
            .await
            .unwrap()
            .expect("account");
        let stored = account.scram_sha256.expect("SCRAM keys are stored");
        let keys = ScramCredentials::decode(&stored).expect("RFC 5803 form");
        ScramCredentials::derive(password, &keys.salt, keys.iterations) == keys
    })
}

#[test]
fn account_add_and_password_store_scram_keys() {
    let server = Server::start("[imap]\nlisten = [\"127.0.0.1:0\"]\n", |admin| {
        admin.account(USER, "first")
    });
    let data = server.path().join("data");
    assert!(scram_keys_match(&data, "first"));
    server.admin().ok(
        &["account", "password", USER, "--password-stdin"],
        b"second\n",
    );
    assert!(scram_keys_match(&data, "second"));
    assert!(!scram_keys_match(&data, "first"));
}
