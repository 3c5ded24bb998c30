//! `NdjsonFile`: a (not compressed) NDJSON file read by the core a block at a time
//! into one buffer, kept from block to block, with the GIL released; `check_ndjson`
//! reads the current block in place, so no block is ever a Python `bytes`.

use std::fs::File;

use lbfast_core::read::blocks::Blocks;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Bytes of NDJSON read at a time: as `ontology/files.py: BLOCK_BYTES`.
const BLOCK_BYTES: usize = 16 << 20;

#[pyclass(module = "lbfast._core")]
pub struct NdjsonFile(Blocks<File>);

#[pymethods]
impl NdjsonFile {
    #[new]
    #[pyo3(signature = (path, /, *, block_bytes = BLOCK_BYTES))]
    fn new(path: std::path::PathBuf, block_bytes: usize) -> PyResult<Self> {
        let file =
            File::open(&path).map_err(|err| PyOSError::new_err(format!("{}: {err}", path.display())))?;
        Ok(NdjsonFile(Blocks::new(file, block_bytes)))
    }

    /// Reads the next block of whole lines: `(first_line, bytes)`, `None` at the end.
    fn advance(&mut self, py: Python<'_>) -> PyResult<Option<(u64, usize)>> {
        let blocks = &mut self.0;
        let more = py.detach(|| blocks.advance()).map_err(|err| PyOSError::new_err(err.to_string()))?;
        Ok(more.then(|| (blocks.first_line(), blocks.block().len())))
    }

    /// Bytes of the current block.
    fn __len__(&self) -> usize {
        self.0.block().len()
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
            Text::File(file) => file.0.block(),
        }
    }
}
