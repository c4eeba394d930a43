//! The shared accept loop: admitted sessions run the handler, the gate's refusals get the
//! protocol's line, shutdown reaches the sessions.

use mailroom_net::{Accepted, ConnectionGate, ConnectionLimits, Refusal, ServeOptions, TlsMode};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// Greets with "hi", then waits for the client to close or the server to stop.
async fn session(mut accepted: Accepted, ended: mpsc::UnboundedSender<()>) {
    let _ = accepted.stream.write_all(b"hi\r\n").await;
    let mut buf = [0u8; 16];
    tokio::select! {
        _ = accepted.stream.read(&mut buf) => {}
        _ = accepted.stop.changed() => {
            let _ = accepted.stream.write_all(b"bye\r\n").await;
        }
    }
    let _ = ended.send(());
}

async fn first_line(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while stream.read(&mut byte).await.unwrap() == 1 {
        out.push(byte[0]);
        if byte[0] == b'\n' {
            break;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn refuses_past_the_per_address_limit_and_stops_sessions() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gate = ConnectionGate::new(ConnectionLimits {
        total: 10,
        per_ip: 2,
        per_user_ip: 0,
    });
    let (ended_tx, mut ended) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let options = ServeOptions {
        protocol: "test",
        tls: TlsMode::Plain,
        handshake_timeout: Duration::from_secs(10),
        shutdown_grace: Some(Duration::from_secs(10)),
    };
    let server = tokio::spawn(mailroom_net::serve(
        listener,
        options,
        gate.clone(),
        async {
            let _ = stopped.await;
        },
        |reason| match reason {
            Refusal::Total => b"full\r\n".to_vec(),
            Refusal::PerAddress => b"too many from you\r\n".to_vec(),
        },
        move |accepted| session(accepted, ended_tx.clone()),
    ));
    let mut first = TcpStream::connect(addr).await.unwrap();
    assert_eq!(first_line(&mut first).await, "hi\r\n");
    let mut second = TcpStream::connect(addr).await.unwrap();
    assert_eq!(first_line(&mut second).await, "hi\r\n");
    let mut third = TcpStream::connect(addr).await.unwrap();
    assert_eq!(first_line(&mut third).await, "too many from you\r\n");
    assert_eq!(first_line(&mut third).await, "", "closed after the refusal");

    // A session that ends frees its slot.
    drop(first);
    ended.recv().await.unwrap();
    // The permit goes with the session's task, just after the handler returns.
    while gate.open_connections() > 1 {
        tokio::task::yield_now().await;
    }
    let mut fourth = TcpStream::connect(addr).await.unwrap();
    assert_eq!(first_line(&mut fourth).await, "hi\r\n");

    let _ = stop.send(());
    server.await.unwrap();
    assert_eq!(first_line(&mut second).await, "bye\r\n");
    assert_eq!(first_line(&mut fourth).await, "bye\r\n");
    assert_eq!(gate.open_connections(), 0);
}
