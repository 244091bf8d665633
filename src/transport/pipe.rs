//! An in-memory duplex stream for tungstenite: it reads what we push and writes into a
//! buffer we take, so no byte moves unless we move it. The server's WebSocket layer and the
//! simulated WebSocket clients both run tungstenite over one.

use std::io::{self, Read, Write};

/// An in-memory duplex stream for tungstenite: bytes we were given to read, bytes it wrote.
#[derive(Debug, Default)]
pub(crate) struct Pipe {
    /// Bytes not yet read (invariant: `read_pos <= input.len()`).
    pub(crate) input: Vec<u8>,
    /// How much of `input` was read.
    pub(crate) read_pos: usize,
    /// Bytes written, waiting to be taken.
    pub(crate) output: Vec<u8>,
}

impl Pipe {
    /// Makes `data` readable.
    pub(crate) fn push(&mut self, data: &[u8]) {
        if self.read_pos == self.input.len() {
            self.input.clear();
            self.read_pos = 0;
        }
        self.input.extend_from_slice(data);
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.input.get(self.read_pos..).unwrap_or_default();
        if rest.is_empty() {
            // "No more bytes for now", not end of stream: the socket's EOF is the
            // handler's business.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = rest.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.read_pos += n;
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
