//! `encode`'s result: the NDJSON bytes with per-line facts, for the shard writer.

use lbfast_core::batch::Checked;
use lbfast_core::line_facts::{line_ends, LineTable};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::errors::guarded;

/// NDJSON bytes and, per line: where it ends, whether it is a mask, its feature
/// (index into `features`: names, or schema ids of unnamed features), whether that
/// feature is named, and its data row (index into `data_rows`).
#[pyclass(module = "lbfast._core", frozen, get_all)]
pub struct Encoded {
    data: Py<PyBytes>,
    line_ends: Py<PyArray1<u64>>,
    is_mask: Py<PyArray1<bool>>,
    has_name: Py<PyArray1<bool>>,
    feature_index: Py<PyArray1<u32>>,
    features: Py<PyList>,
    data_row_index: Py<PyArray1<u32>>,
    data_rows: Py<PyList>,
}

impl Encoded {
    /// Writes a checked batch on `threads` threads, with the facts of its lines.
    pub fn write(py: Python<'_>, checked: Checked, threads: Option<usize>) -> PyResult<Encoded> {
        let facts = py.detach(|| guarded(|| Facts::of(checked.line_table())))?;
        let data = crate::output::write_bytes(py, checked, threads)?;
        let bytes = data.as_bytes();
        let line_ends = py.detach(|| line_ends(bytes));
        debug_assert_eq!(line_ends.len(), facts.is_mask.len());
        Ok(Encoded {
            line_ends: line_ends.into_pyarray(py).unbind(),
            is_mask: facts.is_mask.into_pyarray(py).unbind(),
            has_name: facts.has_name.into_pyarray(py).unbind(),
            feature_index: facts.feature_index.into_pyarray(py).unbind(),
            features: PyList::new(py, facts.features)?.unbind(),
            data_row_index: facts.data_row_index.into_pyarray(py).unbind(),
            data_rows: PyList::new(py, facts.data_rows)?.unbind(),
            data: data.unbind(),
        })
    }
}

/// A `LineTable` that owns its texts: it outlives the batch, which writing consumes.
struct Facts {
    is_mask: Vec<bool>,
    has_name: Vec<bool>,
    feature_index: Vec<u32>,
    features: Vec<String>,
    data_row_index: Vec<u32>,
    data_rows: Vec<String>,
}

impl Facts {
    fn of(table: LineTable<'_>) -> Facts {
        let owned = |texts: Vec<&str>| texts.into_iter().map(str::to_owned).collect();
        Facts {
            is_mask: table.is_mask,
            has_name: table.has_name,
            feature_index: table.feature_index,
            features: owned(table.features),
            data_row_index: table.data_row_index,
            data_rows: owned(table.data_rows),
        }
    }
}

#[pymethods]
impl Encoded {
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.line_ends.bind(py).len()
    }
}
