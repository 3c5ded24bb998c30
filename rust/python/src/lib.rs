//! `lbfast._core`: the thin binding between Python inputs and the Rust core.
//!
//! Python objects are read here (with the GIL); validation and writing run in
//! the core with the GIL released.

mod errors;
mod extract;
mod lower_dicts;
mod lower_typed;
mod masks;
mod ontology;

use lbfast_core::batch::Batch;
use lbfast_core::validate::Options;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::errors::{guarded, validation_error};
use crate::lower_typed::TypedLowering;

/// Lowers Labels and NDJSON-shaped dicts, in order; item `i` is row `i` in errors.
fn lower<'py>(py: Python<'py>, items: &Bound<'py, PyAny>, options: &Options) -> PyResult<Batch> {
    let mut lowering = TypedLowering::new(py)?;
    lowering.max_mask_pixels = options.max_mask_pixels;
    let mask_items = masks::MaskItems::new(py)?;
    let iter = items.try_iter().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err("expected an iterable of Labels or NDJSON-shaped dicts")
    })?;
    for (row, item) in iter.enumerate() {
        let item = item?;
        if item.is_instance_of::<PyDict>() {
            lower_dicts::lower_dict(&mut lowering.batch, row, &item)?;
        } else if !mask_items.lower(&mut lowering.batch, row, &item)? {
            lowering.label(row, &item)?;
        }
    }
    Ok(lowering.batch)
}

/// Validates and writes `items` (Labels and/or NDJSON-shaped dicts) as NDJSON bytes,
/// one line per annotation, each ending in `\n`.
#[pyfunction]
#[pyo3(signature = (items, /, *, max_mask_pixels = None, ontology = None, resolve_schema_ids = false, required = true))]
fn dumps<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    max_mask_pixels: Option<u64>,
    ontology: Option<PyRef<'py, ontology::OntologyIndex>>,
    resolve_schema_ids: bool,
    required: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut options = Options::default();
    if let Some(limit) = max_mask_pixels {
        options.max_mask_pixels = limit;
    }
    let batch = lower(py, items, &options);
    extract::forget_texts();
    let mut batch = batch?;
    // Against an ontology: amend (normalise, resolve), and report its problems too.
    let ontology_errors = match &ontology {
        Some(onto) => ontology::check_batch(py, onto, &mut batch, resolve_schema_ids, required)?,
        None => Vec::new(),
    };
    let written = py.detach(|| guarded(|| batch.into_ndjson(&options)))?;
    match ontology::merge(written, ontology_errors) {
        Ok(bytes) => Ok(PyBytes::new(py, &bytes)),
        Err(issues) => Err(validation_error(py, issues)),
    }
}

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(dumps, m)?)?;
    masks::register(m)?;
    ontology::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
