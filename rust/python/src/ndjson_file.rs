//! `NdjsonFile`: a (not compressed) NDJSON file read by the core a block at a time,
//! mapped into memory (no copy at all) or, when it cannot be, read into one buffer
//! kept from block to block, with the GIL released; `check_ndjson` reads the current
//! block in place, so no block is ever a Python `bytes`.

use std::fs::File;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use lbfast_core::read::blocks::{block_end, Blocks};
use lbfast_core::read::count_lines;
use lbfast_core::read::mapped::Mapped;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Bytes of NDJSON read at a time: as `ontology/files.py: BLOCK_BYTES`.
const BLOCK_BYTES: usize = 16 << 20;

#[pyclass(module = "lbfast._core")]
pub struct NdjsonFile {
    source: Source,
    block_bytes: usize,
    /// The current block's line ends, once a reading of it has counted them
    /// ([`NdjsonFile::counted`]); else [`UNCOUNTED`], and `advance` counts them.
    line_ends: AtomicU64,
}

const UNCOUNTED: u64 = u64::MAX;

enum Source {
    /// The whole file; the current block and the line it starts on.
    Mapped {
        file: Mapped,
        block: Range<usize>,
        first_line: u64,
    },
    Read(Blocks<File>),
}

#[pymethods]
impl NdjsonFile {
    #[new]
    #[pyo3(signature = (path, /, *, block_bytes = BLOCK_BYTES))]
    fn new(path: std::path::PathBuf, block_bytes: usize) -> PyResult<Self> {
        let failed = |err: std::io::Error| PyOSError::new_err(format!("{}: {err}", path.display()));
        let file = File::open(&path).map_err(failed)?;
        let source = match Mapped::new(&file) {
            Ok(file) => Source::Mapped { file, block: 0..0, first_line: 1 },
            Err(_) => Source::Read(Blocks::new(file, block_bytes)),
        };
        Ok(NdjsonFile { source, block_bytes, line_ends: AtomicU64::new(UNCOUNTED) })
    }

    /// Reads the next block of whole lines: `(first_line, bytes)`, `None` at the end.
    fn advance(&mut self, py: Python<'_>) -> PyResult<Option<(u64, usize)>> {
        let block_bytes = self.block_bytes;
        let counted = self.line_ends.swap(UNCOUNTED, Ordering::Relaxed);
        match &mut self.source {
            Source::Mapped { file, block, first_line } => {
                let text = file.bytes();
                let (start, lines) = (block.end, &text[block.clone()]);
                *first_line += match counted {
                    UNCOUNTED => py.detach(|| count_lines(lines)),
                    ends => ends,
                };
                *block = start..block_end(text, start, block_bytes);
                Ok((block.end > block.start).then(|| (*first_line, block.len())))
            }
            Source::Read(blocks) => {
                let more =
                    py.detach(|| blocks.advance()).map_err(|err| PyOSError::new_err(err.to_string()))?;
                Ok(more.then(|| (blocks.first_line(), blocks.block().len())))
            }
        }
    }

    /// Bytes of the current block.
    fn __len__(&self) -> usize {
        self.block().len()
    }
}

impl NdjsonFile {
    /// Records the current block's line ends, counted by a reading of all of it, so
    /// that `advance` need not count them again.
    pub fn counted(&self, line_ends: u64) {
        self.line_ends.store(line_ends, Ordering::Relaxed);
    }

    fn block(&self) -> &[u8] {
        match &self.source {
            Source::Mapped { file, block, .. } => &file.bytes()[block.clone()],
            Source::Read(blocks) => blocks.block(),
        }
    }
}

/// The text `check_ndjson` reads: `bytes`, or the current block of an [`NdjsonFile`].
#[derive(FromPyObject)]
pub enum Text<'py> {
    Bytes(Bound<'py, PyBytes>),
    File(PyRef<'py, NdjsonFile>),
}

impl Text<'_> {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Text::Bytes(bytes) => bytes.as_bytes(),
            Text::File(file) => file.block(),
        }
    }
}
