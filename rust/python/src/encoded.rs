//! `encode`'s result: the NDJSON bytes with per-line facts, for the shard writer.

use std::collections::HashMap;

use lbfast_core::batch::Checked;
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

/// Facts of every line as index columns into lists of distinct strings, so that
/// Python can count and cut with numpy rather than per line.
pub struct Facts {
    is_mask: Vec<bool>,
    has_name: Vec<bool>,
    feature_index: Vec<u32>,
    features: Vec<String>,
    data_row_index: Vec<u32>,
    data_rows: Vec<String>,
}

/// Interns strings into a list, by first appearance.
#[derive(Default)]
struct Interner<'a> {
    index: HashMap<&'a str, u32>,
    list: Vec<String>,
}

impl<'a> Interner<'a> {
    fn get(&mut self, text: &'a str) -> u32 {
        if let Some(&i) = self.index.get(text) {
            return i;
        }
        let i = self.list.len() as u32;
        self.index.insert(text, i);
        self.list.push(text.to_owned());
        i
    }
}

impl Facts {
    fn of(checked: &Checked) -> Facts {
        let lines = checked.line_facts();
        let mut features = Interner::default();
        let mut data_rows = Interner::default();
        let mut facts = Facts {
            is_mask: Vec::with_capacity(lines.len()),
            has_name: Vec::with_capacity(lines.len()),
            feature_index: Vec::with_capacity(lines.len()),
            features: Vec::new(),
            data_row_index: Vec::with_capacity(lines.len()),
            data_rows: Vec::new(),
        };
        for line in &lines {
            facts.is_mask.push(line.mask);
            facts.has_name.push(line.named);
            facts.feature_index.push(features.get(line.feature));
            facts.data_row_index.push(data_rows.get(line.data_row));
        }
        facts.features = features.list;
        facts.data_rows = data_rows.list;
        facts
    }
}

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
        let facts = Facts::of(&checked);
        let data = crate::output::write_bytes(py, checked, threads)?;
        Encoded::new(py, data, facts)
    }

    fn new(py: Python<'_>, data: Bound<'_, PyBytes>, facts: Facts) -> PyResult<Encoded> {
        let bytes = data.as_bytes();
        // Escaped JSON has no raw newline but the one that ends each line.
        let line_ends: Vec<u64> = py.detach(|| {
            bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i as u64 + 1).collect()
        });
        debug_assert_eq!(line_ends.len(), facts.is_mask.len());
        Ok(Encoded {
            data: data.unbind(),
            line_ends: line_ends.into_pyarray(py).unbind(),
            is_mask: facts.is_mask.into_pyarray(py).unbind(),
            has_name: facts.has_name.into_pyarray(py).unbind(),
            feature_index: facts.feature_index.into_pyarray(py).unbind(),
            features: PyList::new(py, facts.features)?.unbind(),
            data_row_index: facts.data_row_index.into_pyarray(py).unbind(),
            data_rows: PyList::new(py, facts.data_rows)?.unbind(),
        })
    }
}

#[pymethods]
impl Encoded {
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.line_ends.bind(py).len()
    }
}
