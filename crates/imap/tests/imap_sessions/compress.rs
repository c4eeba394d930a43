//! COMPRESS=DEFLATE (RFC 4978): both directions deflated after the tagged OK.

use crate::common;
use common::*;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Deflated {
    tcp: TcpStream,
    out: Compress,
    inp: Decompress,
    text: Vec<u8>,
}

impl Deflated {
    async fn send(&mut self, line: &str) {
        let mut packed = Vec::with_capacity(line.len() + 64);
        self.out
            .compress_vec(line.as_bytes(), &mut packed, FlushCompress::Sync)
            .unwrap();
        self.tcp.write_all(&packed).await.unwrap();
    }

    async fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        loop {
            let text = String::from_utf8_lossy(&self.text).to_string();
            if let Some(pos) = text.find(&format!("{tag} "))
                && let Some(end) = text[pos..].find("\r\n")
            {
                let all = &text[..pos + end];
                return all.split("\r\n").map(str::to_string).collect();
            }
            let mut raw = [0u8; 4096];
            let n = tokio::time::timeout(WAIT, self.tcp.read(&mut raw))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "closed");
            let mut plain = Vec::with_capacity(65536);
            self.inp
                .decompress_vec(&raw[..n], &mut plain, FlushDecompress::None)
                .unwrap();
            self.text.extend_from_slice(&plain);
        }
    }
}

async fn read_line(tcp: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        assert!(tcp.read(&mut byte).await.unwrap() > 0);
        line.push(byte[0]);
    }
    String::from_utf8(line).unwrap().trim_end().to_string()
}

#[tokio::test]
async fn deflate_both_ways() {
    let srv = start().await;
    let mut tcp = TcpStream::connect(srv.addr).await.unwrap();
    read_line(&mut tcp).await;
    tcp.write_all(format!("a LOGIN {USER} {PASS}\r\n").as_bytes())
        .await
        .unwrap();
    let ok = read_line(&mut tcp).await;
    assert!(ok.contains("COMPRESS=DEFLATE"), "{ok}");
    tcp.write_all(b"b COMPRESS DEFLATE\r\n").await.unwrap();
    assert_eq!(read_line(&mut tcp).await, "b OK DEFLATE active");
    let mut c = Deflated {
        tcp,
        out: Compress::new(Compression::default(), false),
        inp: Decompress::new(false),
        text: Vec::new(),
    };
    c.send("c NOOP\r\n").await;
    assert_eq!(c.until_tagged("c").await, ["c OK NOOP completed"]);
    c.send("d LIST \"\" INBOX\r\n").await;
    assert_eq!(
        c.until_tagged("d").await,
        [
            "c OK NOOP completed",
            "* LIST (\\HasNoChildren) \"/\" INBOX",
            "d OK LIST completed"
        ]
    );
    c.send("e COMPRESS DEFLATE\r\n").await;
    let lines = c.until_tagged("e").await;
    assert_eq!(
        lines.last().unwrap(),
        "e NO [COMPRESSIONACTIVE] compression is already active"
    );
}
