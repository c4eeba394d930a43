//! COMPRESS=DEFLATE (RFC 4978): raw deflate (RFC 1951) both ways. Every batch of responses
//! ends with a sync flush so the client can read it at once (§4).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::io;

pub struct Deflate {
    compress: Compress,
    decompress: Decompress,
}

impl Default for Deflate {
    fn default() -> Self {
        Self::new()
    }
}

impl Deflate {
    pub fn new() -> Self {
        Deflate {
            // `false`: no zlib header, as RFC 4978 §4 requires.
            compress: Compress::new(Compression::default(), false),
            decompress: Decompress::new(false),
        }
    }

    /// Compresses `data` and sync-flushes.
    pub fn compress(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut input = data;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let before = self.compress.total_in();
            self.compress
                .compress_vec(input, &mut out, FlushCompress::Sync)
                .map_err(io::Error::other)?;
            let used = (self.compress.total_in() - before) as usize;
            input = input.get(used..).unwrap_or_default();
            // Done when all input is taken and the flush fitted in the space left.
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(out);
            }
        }
    }

    /// Decompresses `input`, appending to `out`.
    pub fn decompress(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        let mut input = input;
        loop {
            if out.capacity() - out.len() < 1024 {
                out.reserve(out.capacity().max(8192));
            }
            let before = self.decompress.total_in();
            let status = self
                .decompress
                .decompress_vec(input, out, FlushDecompress::None)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let used = (self.decompress.total_in() - before) as usize;
            input = input.get(used..).unwrap_or_default();
            let room_left = out.len() < out.capacity();
            match status {
                Status::StreamEnd => return Ok(()),
                _ if input.is_empty() && room_left => return Ok(()),
                Status::BufError if used == 0 && room_left => return Ok(()),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut a = Deflate::new();
        let mut b = Deflate::new();
        let mut got = Vec::new();
        for chunk in [&b"a1 NOOP\r\n"[..], &b"x".repeat(100_000), b"end\r\n"] {
            let packed = a.compress(chunk).unwrap();
            let before = got.len();
            b.decompress(&packed, &mut got).unwrap();
            assert_eq!(&got[before..], chunk);
        }
    }
}
