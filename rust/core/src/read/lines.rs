//! An NDJSON text cut into its lines that are not blank, numbered: in pieces on
//! several threads for a large text, so that no thread scans a whole block alone
//! while the others wait (the serial split was a fifth of a two-thread
//! `lbfast validate`, see `docs/reading.md`).

use std::ops::Range;

use crate::parallel;

/// Texts shorter than this are split on the calling thread alone.
const PARALLEL_BYTES: usize = 1 << 20;
/// Pieces per thread: a piece of long lines does not hold the others up.
const PIECES_PER_THREAD: usize = 4;

/// The lines of a text that are not blank.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Lines {
    /// Their byte ranges, without the line end (`\n` or `\r\n`).
    pub ranges: Vec<Range<usize>>,
    /// Their numbers (the text's first line being the number given).
    pub numbers: Vec<u64>,
    /// How many line ends (`\n`) the text holds: where the next text's lines start.
    pub line_ends: u64,
}

/// The number of line ends (`\n`) in `text`.
pub fn count_lines(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}

/// Splits `text`, whose first line is `first_line`, on `threads` threads (as in
/// [`parallel`]); the same lines whatever the threads.
pub fn split_lines(text: &[u8], first_line: u64, threads: Option<usize>) -> Lines {
    let count = parallel::thread_count(threads);
    if count == 1 || text.len() < PARALLEL_BYTES {
        return split_piece(text, 0, first_line);
    }
    let starts = piece_starts(text, count * PIECES_PER_THREAD);
    let pieces = parallel::map_ordered(threads, starts.len(), |k| {
        let end = starts.get(k + 1).copied().unwrap_or(text.len());
        // Numbered from 0 here: a piece's first number is known once those before it
        // are counted.
        split_piece(&text[starts[k]..end], starts[k], 0)
    });
    let total = pieces.iter().map(|piece| piece.ranges.len()).sum();
    let mut lines =
        Lines { ranges: Vec::with_capacity(total), numbers: Vec::with_capacity(total), line_ends: 0 };
    for piece in pieces {
        let first = first_line + lines.line_ends;
        lines.ranges.extend(piece.ranges);
        lines.numbers.extend(piece.numbers.iter().map(|n| n + first));
        lines.line_ends += piece.line_ends;
    }
    lines
}

/// Where each of about `pieces` pieces of `text` starts: 0, then each just after a line
/// end, none twice.
fn piece_starts(text: &[u8], pieces: usize) -> Vec<usize> {
    let step = text.len().div_ceil(pieces).max(1);
    let mut starts = vec![0];
    let mut at = step;
    while at < text.len() {
        let Some(end) = memchr::memchr(b'\n', &text[at..]) else { break };
        let start = at + end + 1;
        if start >= text.len() {
            break;
        }
        starts.push(start);
        at = start + step;
    }
    starts
}

/// The lines of `piece`, which starts at byte `offset` of its text, numbered from
/// `first_line`.
fn split_piece(piece: &[u8], offset: usize, first_line: u64) -> Lines {
    let mut lines = Lines::default();
    let mut start = 0;
    let mut number = first_line;
    while start < piece.len() {
        let end = memchr::memchr(b'\n', &piece[start..]).map_or(piece.len(), |at| start + at);
        let line = &piece[start..end];
        if !line.iter().all(u8::is_ascii_whitespace) {
            let trimmed = if line.ends_with(b"\r") { end - 1 } else { end };
            lines.ranges.push(offset + start..offset + trimmed);
            lines.numbers.push(number);
        }
        if end < piece.len() {
            lines.line_ends += 1;
        }
        number += 1;
        start = end + 1;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn blank_lines_are_numbered_but_not_kept_and_line_ends_are_counted() {
        let text = b"{}\n\n  \r\n{\"a\":1}\r\n{}";
        let lines = split_lines(text, 10, Some(1));
        assert_eq!(lines.numbers, [10, 13, 14]);
        assert_eq!(lines.ranges, [0..2, 8..15, 17..19]);
        assert_eq!(lines.line_ends, 4);
        assert_eq!(lines.line_ends, count_lines(text));
        assert_eq!(split_lines(b"", 1, Some(1)), Lines::default());
        assert_eq!(split_lines(b"\n", 1, Some(1)).line_ends, 1);
    }

    #[test]
    fn pieces_split_as_one_thread_does() {
        let mut text = String::new();
        for i in 0..200_000 {
            match i % 997 {
                0 => text.push('\n'),
                1 => text.push_str("   \r\n"),
                _ => {
                    let _ = writeln!(text, "{{\"i\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 13));
                }
            }
        }
        for tail in ["", "{\"last\":1}", "\n\n"] {
            let text = format!("{text}{tail}");
            assert!(text.len() > PARALLEL_BYTES);
            let one = split_lines(text.as_bytes(), 7, Some(1));
            for threads in [2, 3, 8] {
                assert_eq!(split_lines(text.as_bytes(), 7, Some(threads)), one, "{threads} threads");
            }
            assert_eq!(one.line_ends, count_lines(text.as_bytes()));
        }
    }

    #[test]
    fn pieces_start_after_line_ends_and_cover_the_text_once() {
        let text = b"aaaa\nbb\nc\n\ndddddddd\ne";
        for pieces in 1..30 {
            let starts = piece_starts(text, pieces);
            assert_eq!(starts[0], 0);
            assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
            assert!(starts[1..].iter().all(|&s| text[s - 1] == b'\n' && s < text.len()));
        }
        assert_eq!(piece_starts(b"one line, no end", 8), [0]);
    }
}
