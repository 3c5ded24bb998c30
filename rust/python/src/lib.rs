//! `lbfast._core`: the thin binding between Python inputs and the Rust core.
//!
//! Python objects are read here (with the GIL); validation and writing run in
//! the core with the GIL released.

mod arguments;
mod encoded;
mod errors;
mod extract;
mod lower_columns;
mod lower_dicts;
mod lower_typed;
mod masks;
mod ontology;
mod output;
mod types;

use lbfast_core::batch::{Batch, Checked};
use lbfast_core::validate::Options;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::errors::{guarded, validation_error};
use crate::lower_typed::TypedLowering;

/// Lowers Labels, NDJSON-shaped dicts and columnar batches, in order. Each item is
/// one row in errors, except a columnar batch, which is as many rows as it has
/// predictions (prediction `i` of a batch starting at row `r` is row `r + i`).
fn lower<'py>(py: Python<'py>, items: &Bound<'py, PyAny>, options: &Options) -> PyResult<Batch> {
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
        if item.is_instance_of::<PyDict>() {
            lower_dicts::lower_dict(&mut lowering.batch, row, &item)?;
        } else if columnar.is_columns(&item)? {
            row += columnar.lower(&mut lowering.batch, row, &item)?;
            continue;
        } else if !mask_items.lower(&mut lowering.batch, row, &item)? {
            lowering.label(row, &item)?;
        }
        row += 1;
    }
    Ok(lowering.batch)
}

/// Lowers and checks `items` (Labels, NDJSON-shaped dicts, columnar batches): what
/// `dumps` and `encode` share. Returns the batch ready to write, or raises
/// `ValidationError` with every problem.
#[allow(clippy::too_many_arguments)]
fn check_items<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    max_mask_pixels: Option<u64>,
    ontology: Option<PyRef<'py, ontology::OntologyIndex>>,
    resolve_schema_ids: bool,
    required: bool,
    threads: Option<usize>,
) -> PyResult<Checked> {
    let mut options = Options::default();
    if let Some(limit) = max_mask_pixels {
        options.max_mask_pixels = limit;
    }
    options.threads = threads;
    let batch = lower(py, items, &options);
    extract::forget_texts();
    let mut batch = batch?;
    // Against an ontology: amend (normalise, resolve), and report its problems too.
    let ontology_errors = match &ontology {
        Some(onto) => ontology::check_batch(py, onto, &mut batch, resolve_schema_ids, required)?,
        None => Vec::new(),
    };
    let checked = py.detach(|| guarded(|| batch.check(&options)))?;
    match checked {
        Ok(checked) if ontology_errors.is_empty() => Ok(checked),
        other => {
            let core = other.err().unwrap_or_default();
            Err(validation_error(py, ontology::merge(core, ontology_errors)))
        }
    }
}

/// Validates and writes `items` (Labels, NDJSON-shaped dicts, columnar batches) as
/// NDJSON bytes, one line per annotation, each ending in `\n`. `threads`: how many
/// threads check and write (default: all cores, or `RAYON_NUM_THREADS`).
#[pyfunction]
#[pyo3(signature = (items, /, *, max_mask_pixels = None, ontology = None, resolve_schema_ids = false, required = true, threads = None))]
#[allow(clippy::too_many_arguments)]
fn dumps<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    max_mask_pixels: Option<&Bound<'py, PyAny>>,
    ontology: Option<PyRef<'py, ontology::OntologyIndex>>,
    resolve_schema_ids: bool,
    required: bool,
    threads: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (max_mask_pixels, threads) =
        (arguments::pixel_cap("max_mask_pixels", max_mask_pixels)?, arguments::threads(threads)?);
    let checked = check_items(py, items, max_mask_pixels, ontology, resolve_schema_ids, required, threads)?;
    output::write_bytes(py, checked, threads)
}

/// Like `dumps`, and also what a shard writer needs to know of each line: where it
/// ends, whether it is a mask, its feature and its data row.
#[pyfunction]
#[pyo3(signature = (items, /, *, max_mask_pixels = None, ontology = None, resolve_schema_ids = false, required = true, threads = None))]
#[allow(clippy::too_many_arguments)]
fn encode<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    max_mask_pixels: Option<&Bound<'py, PyAny>>,
    ontology: Option<PyRef<'py, ontology::OntologyIndex>>,
    resolve_schema_ids: bool,
    required: bool,
    threads: Option<&Bound<'py, PyAny>>,
) -> PyResult<encoded::Encoded> {
    let (max_mask_pixels, threads) =
        (arguments::pixel_cap("max_mask_pixels", max_mask_pixels)?, arguments::threads(threads)?);
    let checked = check_items(py, items, max_mask_pixels, ontology, resolve_schema_ids, required, threads)?;
    let facts = encoded::Facts::of(&checked);
    let data = output::write_bytes(py, checked, threads)?;
    encoded::Encoded::new(py, data, facts)
}

/// For benchmarks: formats every value of `values` (float64) as the writer does,
/// into a buffer whose pages are already mapped, `repeat` times with the GIL
/// released. Returns the bytes of one pass and the seconds of the fastest pass: the
/// floor under the cost of writing those floats.
#[pyfunction]
#[pyo3(signature = (values, /, *, repeat = 3))]
fn _format_floats(
    py: Python<'_>,
    values: numpy::PyReadonlyArray1<'_, f64>,
    repeat: usize,
) -> PyResult<(usize, f64)> {
    let values = values.as_slice()?.to_vec();
    Ok(py.detach(move || {
        let mut out = vec![1u8; values.len() * 25];
        let mut best = f64::INFINITY;
        for _ in 0..repeat.max(1) {
            out.clear();
            let start = std::time::Instant::now();
            for v in &values {
                lbfast_core::json::push_f64(&mut out, *v);
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        (out.len(), best)
    }))
}

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(dumps, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_class::<encoded::Encoded>()?;
    m.add_class::<types::Point>()?;
    m.add_class::<types::Rectangle>()?;
    m.add_class::<types::ObjectAnnotation>()?;
    m.add_function(wrap_pyfunction!(_format_floats, m)?)?;
    masks::register(m)?;
    ontology::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
