//! `lbfast._core`: the thin binding between Python inputs and the Rust core.
//!
//! Python objects are read here (with the GIL); validation and writing run in
//! the core with the GIL released.

// PyO3 hands extracted arguments over by value, and #[pymethods] return PyResult
// whether or not they can fail: these two pedantic lints only fight its signatures.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

mod arrays;
mod arrow;
mod encoded;
mod errors;
mod extract;
mod lower_columns;
mod lower_dicts;
mod lower_typed;
mod masks;
mod ndjson;
mod ontology;
mod options;
mod output;
mod py_node;
mod raise_typed;
mod tags;
mod types;

use lbfast_core::batch::{Batch, Checked};
use lbfast_core::options::Options;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::errors::{guarded, validation_error};
use crate::lower_typed::TypedLowering;

/// Lowers Labels, NDJSON-shaped dicts and columnar batches, in order. Each item is
/// one row in errors, except a columnar batch, which is as many rows as it has
/// predictions (prediction `i` of a batch starting at row `r` is row `r + i`).
///
/// A value of the wrong Python type raises `lbfast.FieldTypeError`, unless
/// `collect_types`: then it is one more problem of the batch (code `type`), the item
/// is left out, and reading goes on with the next one.
fn lower<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    options: &Options,
    collect_types: bool,
) -> PyResult<Batch> {
    let mut lowering = TypedLowering::new(py)?;
    lowering.max_mask_pixels = options.max_mask_pixels;
    let mask_items = masks::MaskItems::new(py, options.max_mask_pixels)?;
    let columnar = lower_columns::ColumnarLowering::new(py, options.threads)?;
    let iter = items.try_iter().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err("expected an iterable of Labels or NDJSON-shaped dicts")
    })?;
    let mut row = 0;
    for item in iter {
        let item = item?;
        let (annotations, batches) = (lowering.batch.items.len(), lowering.batch.columns.len());
        let lowered = if item.is_instance_of::<PyDict>() {
            lower_dicts::lower_dict(&mut lowering.batch, row, &item).map(|()| 1)
        } else if columnar.is_columns(&item)? {
            columnar.lower(&mut lowering.batch, row, &item)
        } else {
            match mask_items.lower(&mut lowering.batch, row, &item) {
                Ok(Some(rows)) => Ok(rows),
                Ok(None) => lowering.label(row, &item).map(|()| 1),
                Err(err) => Err(err),
            }
        };
        match lowered {
            Ok(rows) => row += rows,
            Err(err) => match errors::field_type_issue(py, &err).filter(|_| collect_types) {
                Some(issue) => {
                    let batch = &mut lowering.batch;
                    batch.items.truncate(annotations);
                    batch.columns.truncate(batches);
                    batch.issues.extend_issues([issue]);
                    row += 1;
                }
                None => return Err(err),
            },
        }
    }
    lowering.link_relationships();
    Ok(lowering.batch)
}

/// Lowers and checks `items` (Labels, NDJSON-shaped dicts, columnar batches): what
/// `dumps` and `encode` share. Returns the batch ready to write, or raises
/// `ValidationError` with every problem.
fn check_items<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    ontology: Option<&ontology::OntologyIndex>,
    options: &Options,
) -> PyResult<Checked> {
    let batch = lower(py, items, options, false);
    extract::forget_texts();
    let mut batch = batch?;
    // Against an ontology: amend (normalise, resolve), and report its problems too.
    if let Some(onto) = ontology {
        ontology::check_batch(py, onto, &mut batch, options)?;
    }
    let checked = py.detach(|| guarded(|| batch.check(options)))?;
    checked.map_err(|report| validation_error(py, report.issues))
}

/// Validates and writes `items` (Labels, NDJSON-shaped dicts, columnar batches) as
/// NDJSON bytes, one line per annotation, each ending in `\n`. `**options`: see
/// `options::read` (`threads`: how many threads check and write; default all cores,
/// or `RAYON_NUM_THREADS`).
#[pyfunction]
#[pyo3(signature = (items, /, *, ontology = None, **options))]
fn dumps<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    ontology: Option<PyRef<'py, ontology::OntologyIndex>>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let options = options::read(options)?;
    let checked = check_items(py, items, ontology.as_deref(), &options)?;
    output::write_bytes(py, checked, options.threads)
}

/// Like `dumps`, and also what a shard writer needs to know of each line: where it
/// ends, whether it is a mask, its feature and its data row.
#[pyfunction]
#[pyo3(signature = (items, /, *, ontology = None, **options))]
fn encode<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    ontology: Option<PyRef<'py, ontology::OntologyIndex>>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<encoded::Encoded> {
    let options = options::read(options)?;
    let checked = check_items(py, items, ontology.as_deref(), &options)?;
    encoded::Encoded::write(py, checked, options.threads)
}

/// Lowers and checks `items` once, as one call of a job (see `check`: `state`,
/// `first_row`, a value of the wrong type is a problem), and writes them when they
/// have no error: `(encoded, (problems, counts, annotations))`, `encoded` being what
/// `encode` returns, or `None` when an error was found. The problems, warnings
/// included, are `check`'s. `scores` (in `**options`): `"keep"`, `"refuse"` or
/// `"strip"` (what a project import does not take; see `lbfast_core::rules::scores`).
#[pyfunction]
#[pyo3(signature = (items, /, *, ontology = None, state = None, first_row = 0, **options))]
fn check_and_encode<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    ontology: Option<PyRef<'py, ontology::OntologyIndex>>,
    state: Option<PyRef<'py, ontology::CheckState>>,
    first_row: usize,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<(Option<encoded::Encoded>, ontology::Checked)> {
    let options = options::read(options)?;
    let (checked, report) =
        ontology::run_job(py, items, ontology.as_deref(), state.as_deref(), first_row, &options)?;
    let encoded = checked.map(|checked| encoded::Encoded::write(py, checked, options.threads)).transpose()?;
    Ok((encoded, report))
}

/// The PNG uploaded for a mask given as a `uint8` array (`MaskData.create_url`).
#[pyfunction]
fn _png_of_array<'py>(py: Python<'py>, array: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let image = arrays::image_of_array(array)?.map_err(pyo3::exceptions::PyValueError::new_err)?;
    let png = py
        .detach(|| lbfast_core::mask::encode_png(&image))
        .map_err(pyo3::exceptions::PyValueError::new_err)?;
    Ok(PyBytes::new(py, &png))
}

/// For benchmarks (`benches/columnar.py` times it): formats every value of `values`
/// (float64) as the writer does, with the GIL released, into a buffer kept from
/// call to call (so its pages are mapped after the first), and returns the number
/// of bytes: the floor under the cost of writing those floats.
#[pyfunction]
#[pyo3(signature = (values, /))]
fn _format_floats(py: Python<'_>, values: numpy::PyReadonlyArray1<'_, f64>) -> PyResult<usize> {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let values = values.as_slice()?;
    let len = py.detach(|| {
        BUFFER.with_borrow_mut(|out| {
            out.clear();
            for v in values {
                lbfast_core::json::push_f64(out, *v);
            }
            out.len()
        })
    });
    Ok(len)
}

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(dumps, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(check_and_encode, m)?)?;
    m.add_function(wrap_pyfunction!(ndjson::read_labels, m)?)?;
    m.add_function(wrap_pyfunction!(ndjson::check_ndjson, m)?)?;
    m.add_function(wrap_pyfunction!(ndjson::ndjson_line_ends, m)?)?;
    m.add_function(wrap_pyfunction!(ndjson::last_label_of, m)?)?;
    m.add_class::<ndjson::Held>()?;
    m.add_class::<encoded::Encoded>()?;
    m.add_class::<types::Point>()?;
    m.add_class::<types::Rectangle>()?;
    m.add_class::<types::ObjectAnnotation>()?;
    m.add_function(wrap_pyfunction!(_format_floats, m)?)?;
    m.add_function(wrap_pyfunction!(_png_of_array, m)?)?;
    masks::register(m)?;
    arrow::register(m)?;
    tags::register(m)?;
    ontology::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
