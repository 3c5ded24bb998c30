//! NDJSON text in: `read_labels` (for `lbfast.loads`) and `check_ndjson` (for
//! `validate_files`, `lbfast validate` and `lbfast convert`), both read by the core's
//! one NDJSON reader (`lbfast_core::read`) with the GIL released, without making a
//! Python dict per line.

use std::sync::Mutex;

use lbfast_core::batch::Located;
use lbfast_core::read::{
    count_lines, last_label_start, read_ndjson, read_ndjson_after, split_last_label, ReadLines,
};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::errors::{guarded, problem, Problem};
use crate::ndjson_file::Text;
use crate::ontology::{check_read, CheckState, Checked, OntologyIndex};
use crate::py_node::PyNode;

/// What `read_labels` gives: the Labels, what could not be read, the line of each row.
type Read<'py> = (Vec<Bound<'py, PyAny>>, Vec<Problem>, Bound<'py, PyArray1<u64>>);

/// The lines of the last Label of a block, held for the next block of the same text
/// (`lbfast_core::read::split_last_label`), so that a Label cut by a block's end is
/// checked, linked and made whole.
#[pyclass(module = "lbfast._core")]
#[derive(Default)]
pub struct Held(Mutex<Vec<Located>>);

#[pymethods]
impl Held {
    #[new]
    fn new() -> Self {
        Held::default()
    }
}

/// Reads `data` on `threads` threads without the GIL; rows from `first_row`. With
/// `held`, the lines it holds go first and, unless `last`, it then holds the last
/// Label's lines of what was read.
fn read(
    py: Python<'_>,
    data: &[u8],
    first_row: usize,
    first_line: u64,
    threads: Option<usize>,
    (held, last): (Option<&Held>, bool),
) -> PyResult<ReadLines> {
    let Some(held) = held else {
        return py.detach(|| guarded(|| read_ndjson(data, first_row, first_line, threads)));
    };
    // Not locked while the GIL is released: another thread may want it meanwhile.
    let lock = || held.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let before = std::mem::take(&mut *lock());
    let mut read =
        py.detach(|| guarded(|| read_ndjson_after(before, data, first_row, first_line, threads)))?;
    if !last {
        *lock() = split_last_label(&mut read.batch.items);
    }
    Ok(read)
}

/// Reads Labelbox import NDJSON into `lbfast.types.Label`s, one per data row in order
/// of first appearance: `(labels, problems, lines)`, `problems` being what could not
/// be read (rows from `first_row`, one per line that is not blank), `lines` the line
/// of each row (from `first_line`). The rules are not applied: `dumps` applies them.
/// With `held`, a block of a longer text: see [`Held`]; `last` for its last block.
#[pyfunction]
#[pyo3(signature = (data, /, *, first_row = 0, first_line = 1, threads = None, held = None, last = true))]
pub fn read_labels<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyBytes>,
    first_row: usize,
    first_line: u64,
    threads: Option<&Bound<'py, PyAny>>,
    held: Option<PyRef<'py, Held>>,
    last: bool,
) -> PyResult<Read<'py>> {
    let threads = crate::options::threads(threads)?;
    let ReadLines { batch, lines, .. } =
        read(py, data.as_bytes(), first_row, first_line, threads, (held.as_deref(), last))?;
    let mut issues = batch.issues;
    let labels = crate::raise_typed::labels(py, batch.items, &mut issues)?;
    let problems = issues.into_report().issues.into_iter().map(|i| problem(i, 0)).collect();
    Ok((labels, problems, lines.into_pyarray(py)))
}

/// Reads and checks NDJSON text as one call of a job, as `check` (or, with `encode`,
/// `check_and_encode`) does with the same text's dicts: `(encoded, checked, lines)`,
/// `encoded` being `None` unless `encode` and no error was found, `checked` the
/// problems, counts and number of annotations, and `lines` the line of each row (one
/// row per line that is not blank, from `first_row`; a line that is not JSON is a
/// problem of its row, kind `unreadable`). `data`: `bytes`, or an `NdjsonFile`'s
/// current block. With `held`, a block of a longer text: see [`Held`]; `last` for its
/// last block. `**options`: see `options::read`.
#[pyfunction]
#[pyo3(signature = (data, /, *, first_row = 0, first_line = 1, encode = false, ontology = None, state = None, held = None, last = true, **options))]
#[allow(clippy::too_many_arguments)] // Python's keywords
pub fn check_ndjson<'py>(
    py: Python<'py>,
    data: Text<'py>,
    first_row: usize,
    first_line: u64,
    encode: bool,
    ontology: Option<PyRef<'py, OntologyIndex>>,
    state: Option<PyRef<'py, CheckState>>,
    held: Option<PyRef<'py, Held>>,
    last: bool,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<(Option<crate::encoded::Encoded>, Checked, Bound<'py, PyArray1<u64>>)> {
    let options = crate::options::read(options)?;
    let held = (held.as_deref(), last);
    let ReadLines { batch, lines, line_ends } =
        read(py, data.as_bytes(), first_row, first_line, options.threads, held)?;
    if let Text::File(file) = &data {
        file.counted(line_ends);
    }
    // Rows are the file's already: no offset.
    let (checked, report) = check_read(py, batch, ontology.as_deref(), state.as_deref(), 0, &options)?;
    let encoded = match checked.filter(|_| encode) {
        Some(checked) => Some(crate::encoded::Encoded::write(py, checked, options.threads)?),
        None => None,
    };
    Ok((encoded, report, lines.into_pyarray(py)))
}

/// The number of line ends in `data` (NDJSON read in blocks: the next block's first
/// line), counted without the GIL.
#[pyfunction]
#[pyo3(signature = (data, /))]
pub fn ndjson_line_ends(py: Python<'_>, data: &Bound<'_, PyBytes>) -> u64 {
    let data = data.as_bytes();
    py.detach(|| count_lines(data))
}

/// Where the last data row's run of `values` (NDJSON-shaped dicts, a chunk of a JSON
/// array) starts: the chunk is cut there so that its last Label goes whole into the
/// next chunk (`lbfast_core::read::last_label_start`).
#[pyfunction]
#[pyo3(signature = (values, /))]
pub fn last_label_of(values: &Bound<'_, PyList>) -> usize {
    let nodes: Vec<PyNode<'_>> = values.iter().map(PyNode).collect();
    last_label_start(&nodes)
}
