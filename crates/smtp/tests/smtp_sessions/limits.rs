//! The per-address connection limit, for MX and LMTP alike.

use crate::common;

use common::{Client, config, harness};
use mailroom_smtp::Mode;
use tokio::io::BufReader;
use tokio::net::TcpStream;

#[tokio::test]
async fn the_21st_connection_from_one_address_gets_421() {
    for mode in [Mode::Mx, Mode::Lmtp] {
        let h = harness(mode, config()).await;
        let mut clients = Vec::new();
        for _ in 0..20 {
            clients.push(Client::connect(&h).await);
        }
        let mut refused = Client {
            io: BufReader::new(TcpStream::connect(("127.0.0.1", h.port)).await.unwrap()),
        };
        assert_eq!(
            refused.line().await,
            "421 4.7.0 Too many connections from your address"
        );
        assert!(refused.closed().await);
        clients[0].ok("NOOP", "250").await;
    }
}
