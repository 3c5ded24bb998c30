//! A file of NDJSON read a block of whole lines at a time into one buffer, kept from
//! block to block: no fresh memory per block (whose pages would fault in again) and
//! no copy but the read itself.

use std::io::{self, Read};

/// Blocks of whole lines of `source`, each about `block_bytes` (a longer line is a
/// block of its own), numbered from line 1.
pub struct Blocks<R> {
    source: R,
    block_bytes: usize,
    /// `buffer[..filled]` was read; its bytes past are room, zeroed once.
    buffer: Vec<u8>,
    filled: usize,
    /// `buffer[..end]` is the current block; `buffer[end..filled]` the start of the next.
    end: usize,
    first_line: u64,
    next_line: u64,
    done: bool,
}

impl<R: Read> Blocks<R> {
    pub fn new(source: R, block_bytes: usize) -> Self {
        Blocks {
            source,
            block_bytes: block_bytes.max(1),
            buffer: Vec::new(),
            filled: 0,
            end: 0,
            first_line: 1,
            next_line: 1,
            done: false,
        }
    }

    /// Reads the next block: `false` at the end of the source.
    pub fn advance(&mut self) -> io::Result<bool> {
        self.buffer.copy_within(self.end..self.filled, 0);
        self.filled -= self.end;
        self.end = 0;
        self.first_line = self.next_line;
        // Where a line end may still be: none before, in what was read.
        let mut searched = 0;
        loop {
            if self.done {
                // The rest, its last line perhaps without a line end.
                self.end = self.filled;
                break;
            }
            if self.filled >= self.block_bytes {
                if let Some(at) = memchr::memrchr(b'\n', &self.buffer[searched..self.filled]) {
                    self.end = searched + at + 1;
                    break;
                }
                searched = self.filled;
            }
            self.fill()?;
        }
        self.next_line += memchr::memchr_iter(b'\n', self.block()).count() as u64;
        Ok(self.end > 0)
    }

    /// The current block (empty before the first [`Blocks::advance`] and at the end).
    pub fn block(&self) -> &[u8] {
        &self.buffer[..self.end]
    }

    /// The line the current block starts on.
    pub fn first_line(&self) -> u64 {
        self.first_line
    }

    /// Reads up to a block size more, or to the end of the source.
    fn fill(&mut self) -> io::Result<()> {
        let want = self.filled + self.block_bytes;
        if self.buffer.len() < want {
            self.buffer.resize(want, 0);
        }
        while self.filled < want {
            match self.source.read(&mut self.buffer[self.filled..want]) {
                Ok(0) => {
                    self.done = true;
                    break;
                }
                Ok(n) => self.filled += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

/// Where the block of whole lines of `text` starting at `start` ends, for a text read
/// in place ([`super::mapped::Mapped`]): at the first line end `block_bytes` or more
/// past `start`, or at the end.
pub fn block_end(text: &[u8], start: usize, block_bytes: usize) -> usize {
    let from = start.saturating_add(block_bytes.max(1) - 1).min(text.len());
    memchr::memchr(b'\n', &text[from..]).map_or(text.len(), |at| from + at + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(text: &str, block_bytes: usize) -> Vec<(String, u64)> {
        let mut blocks = Blocks::new(text.as_bytes(), block_bytes);
        let mut out = Vec::new();
        while blocks.advance().unwrap() {
            out.push((String::from_utf8(blocks.block().to_vec()).unwrap(), blocks.first_line()));
        }
        assert!(blocks.block().is_empty() && !blocks.advance().unwrap(), "the end stays the end");
        out
    }

    #[test]
    fn blocks_are_whole_lines_numbered_from_one() {
        let text = "a\nbb\n\nccc\ndddddddd\ne";
        let got = blocks(text, 4);
        assert_eq!(got.iter().map(|(b, _)| b.as_str()).collect::<String>(), text, "every byte once");
        assert!(got.iter().all(|(b, _)| b.ends_with('\n') || b == "e"), "{got:?}");
        assert_eq!(got[0], ("a\n".into(), 1), "what was read, to its last line end");
        assert_eq!(got[1], ("bb\n\n".into(), 2));
        assert_eq!(got.last().unwrap(), &("e".into(), 6));
        assert!(got.iter().any(|(b, _)| b == "dddddddd\n"), "a long line is a block: {got:?}");
        assert_eq!(blocks(text, 1 << 20), [(text.to_string(), 1)]);
        assert!(blocks("", 4).is_empty());
        assert_eq!(blocks("\n\n", 1), [("\n".into(), 1), ("\n".into(), 2)]);
    }

    #[test]
    fn a_text_in_place_is_cut_at_line_ends() {
        let text = b"ab\ncd\n\nef";
        assert_eq!(block_end(text, 0, 1), 3);
        assert_eq!(block_end(text, 0, 3), 3, "a line end at the block size ends it");
        assert_eq!(block_end(text, 0, 4), 6);
        assert_eq!(block_end(text, 6, 1), 7);
        assert_eq!(block_end(text, 7, 1), 9, "the last line, without a line end");
        assert_eq!(block_end(text, 0, 1 << 20), 9);
        assert_eq!(block_end(b"", 0, 4), 0);
    }
}
