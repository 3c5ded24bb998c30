//! The Arrow entrance: tables from any Arrow producer, read batch by batch through
//! the C data interface into the core's columns (one more reader: the same rules
//! and writer as every entrance), and written as NDJSON bytes or as a record batch
//! of lines. `lbfast.arrow` is its Python face.

// Arrow's type names (FixedSizeList, Utf8View) read as prose in these docs, and the
// readers convert every numeric Arrow type with `as` in one macro (the lossless ones
// with the others).
#![allow(clippy::doc_markdown, clippy::cast_lossless)]

mod arrays;
mod capsule;
mod paths;
mod read;
mod spec;

use std::sync::{Arc, Mutex};

use arrow_array::builder::{Int64Builder, MapBuilder, StringBuilder};
use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use lbfast_core::batch::{Batch, Checked};
use lbfast_core::options::Options;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{field_type_error, guarded, validation_error};

pub use capsule::ArrowBatch;
use capsule::{arrow_error, record_batch, Source};
use read::{Read, WrongLayout};
use spec::Spec;

struct State {
    source: Source,
    spec: Spec,
    options: Options,
    /// Row (of the whole input) of the next batch's first row.
    next_row: usize,
    start: usize,
    output: Output,
}

/// What each batch's lines are handed out as.
#[derive(Clone, Copy)]
enum Output {
    /// NDJSON bytes.
    Bytes,
    /// A record batch of one `ndjson` column.
    Arrow,
    /// What `encode` gives: the bytes and each line's facts, for `lbfast.ShardWriter`.
    Encoded,
}

/// The lines of Arrow data, one item per input batch that has rows: NDJSON bytes, an
/// `ArrowBatch` with one `ndjson` string column (a line per row, no newline), or an
/// `Encoded` (the bytes and the facts of each line).
/// Each batch is read, checked and written before the next one is read, so memory
/// is bounded by a batch; a batch with a problem raises `ValidationError`, naming
/// rows of the whole input and the mapped columns.
#[pyclass(module = "lbfast._core")]
pub struct ArrowLines {
    state: Mutex<State>,
}

#[pymethods]
impl ArrowLines {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let mut state = self
            .state
            .try_lock()
            .map_err(|_| PyRuntimeError::new_err("this Arrow reader is in use by another thread"))?;
        loop {
            let Some(batch) = state.source.next_batch()? else { return Ok(None) };
            let first_row = state.next_row;
            state.next_row += batch.num_rows();
            let Some(checked) = check(py, &state.spec, &batch, first_row, &state.options)? else { continue };
            let threads = state.options.threads;
            return Ok(Some(match state.output {
                Output::Arrow => Py::new(py, ArrowBatch::new(lines_batch(py, checked)?))?.into_any(),
                Output::Bytes => crate::output::write_bytes(py, checked, threads)?.into_any().unbind(),
                Output::Encoded => {
                    Py::new(py, crate::encoded::Encoded::write(py, checked, threads)?)?.into_any()
                }
            }));
        }
    }

    /// Rows read so far.
    #[getter]
    fn rows(&self) -> PyResult<usize> {
        let state =
            self.state.try_lock().map_err(|_| PyRuntimeError::new_err("this Arrow reader is in use"))?;
        Ok(state.next_row - state.start)
    }
}

/// Reads and checks one batch; `None` when it has no rows.
fn check(
    py: Python<'_>,
    spec: &Spec,
    batch: &RecordBatch,
    first_row: usize,
    options: &Options,
) -> PyResult<Option<Checked>> {
    let (read, issues) = py.detach(|| guarded(|| read::read(spec, batch, first_row)))?.map_err(|wrong| {
        let WrongLayout { column, expected, got } = wrong;
        field_type_error(py, first_row, column, format!("expected {expected}, got {got}"))
    })?;
    let Some(Read { columns, origins }) = read else {
        if issues.has_errors() {
            let mut found = issues.into_report().issues;
            paths::relabel(&mut found, spec, None, first_row);
            return Err(validation_error(py, found));
        }
        return Ok(None);
    };
    let mut whole = Batch { issues, ..Batch::new() };
    whole.push_columns(first_row, columns);
    let checked = py.detach(|| guarded(|| whole.check(options)))?;
    checked.map(Some).map_err(|report| {
        let mut found = report.issues;
        paths::relabel(&mut found, spec, Some(&origins), first_row);
        validation_error(py, found)
    })
}

/// The checked lines as a record batch of one `ndjson` string column.
fn lines_batch(py: Python<'_>, checked: Checked) -> PyResult<RecordBatch> {
    let (values, offsets) = py.detach(|| {
        guarded(|| {
            let mut out = Vec::with_capacity(checked.size_hint());
            checked.write(&mut |pieces| pieces.iter().for_each(|p| out.extend_from_slice(p)));
            // Lines end in '\n' and hold none inside (JSON escapes it): drop them.
            let mut offsets = Vec::with_capacity(checked.lines() + 1);
            offsets.push(0usize);
            let mut kept = 0;
            for at in 0..out.len() {
                if out[at] == b'\n' {
                    offsets.push(kept);
                } else {
                    out[kept] = out[at];
                    kept += 1;
                }
            }
            out.truncate(kept);
            (out, offsets)
        })
    })?;
    if values.len() > i32::MAX as usize {
        return Err(PyValueError::new_err("the lines of one batch exceed 2 GiB: give smaller batches"));
    }
    let offsets: Vec<i32> = offsets.into_iter().map(|o| o as i32).collect();
    let array =
        StringArray::try_new(OffsetBuffer::new(ScalarBuffer::from(offsets)), Buffer::from_vec(values), None)
            .map_err(arrow_error)?;
    record_batch(vec![("ndjson", Arc::new(array))])
}

/// Opens `data` (an object with `__arrow_c_stream__` or `__arrow_c_array__`) for
/// conversion by `spec` (`lbfast.arrow.ColumnMap._spec()`); `start` is the row
/// number of its first row (in errors and deterministic ids); `output` is `"bytes"`,
/// `"arrow"` or `"encoded"`.
#[pyfunction]
#[pyo3(signature = (data, spec, /, *, start = 0, threads = None, output = "bytes"))]
fn arrow_lines(
    data: &Bound<'_, PyAny>,
    spec: &Bound<'_, PyDict>,
    start: usize,
    threads: Option<&Bound<'_, PyAny>>,
    output: &str,
) -> PyResult<ArrowLines> {
    let output = match output {
        "bytes" => Output::Bytes,
        "arrow" => Output::Arrow,
        "encoded" => Output::Encoded,
        other => {
            return Err(PyValueError::new_err(format!(
                "output must be 'bytes', 'arrow' or 'encoded', got {other:?}"
            )))
        }
    };
    let spec = Spec::read(spec)?;
    let options = Options { threads: crate::options::threads(threads)?, ..Options::default() };
    let source = Source::open(data)?;
    Ok(ArrowLines { state: Mutex::new(State { source, spec, options, next_row: start, start, output }) })
}

/// Shard manifests as a record batch: `path`, `rows`, `bytes`, `masks` and
/// `features` (a map from feature to lines), one row per shard.
#[pyfunction]
#[pyo3(signature = (paths, rows, bytes, masks, features, /))]
fn arrow_manifest(
    paths: Vec<String>,
    rows: Vec<i64>,
    bytes: Vec<i64>,
    masks: Vec<i64>,
    features: Vec<Vec<(String, i64)>>,
) -> PyResult<ArrowBatch> {
    let n = paths.len();
    if [rows.len(), bytes.len(), masks.len(), features.len()].iter().any(|&len| len != n) {
        return Err(PyValueError::new_err("every manifest column needs one entry per shard"));
    }
    let mut map = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
    for shard in &features {
        for (feature, count) in shard {
            map.keys().append_value(feature);
            map.values().append_value(*count);
        }
        map.append(true).map_err(arrow_error)?;
    }
    let columns: Vec<(&str, Arc<dyn Array>)> = vec![
        ("path", Arc::new(StringArray::from(paths))),
        ("rows", Arc::new(Int64Array::from(rows))),
        ("bytes", Arc::new(Int64Array::from(bytes))),
        ("masks", Arc::new(Int64Array::from(masks))),
        ("features", Arc::new(map.finish())),
    ];
    Ok(ArrowBatch::new(record_batch(columns)?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(arrow_lines, m)?)?;
    m.add_function(wrap_pyfunction!(arrow_manifest, m)?)?;
    m.add_class::<ArrowLines>()?;
    m.add_class::<ArrowBatch>()?;
    Ok(())
}
