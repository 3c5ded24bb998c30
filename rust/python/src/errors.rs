//! Turning core issues into `lbfast.ValidationError`, and panics into plain errors.

use std::panic::{catch_unwind, AssertUnwindSafe};

use lbfast_core::issues::Issue;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static VALIDATION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `lbfast.ValidationError(issues)`, listing every problem as (row, path, message).
pub fn validation_error(py: Python<'_>, issues: Vec<Issue>) -> PyErr {
    let class = match VALIDATION_ERROR.import(py, "lbfast.errors", "ValidationError") {
        Ok(class) => class,
        Err(err) => return err,
    };
    let details: Vec<(usize, String, String)> =
        issues.into_iter().map(|i| (i.row, i.path, i.message)).collect();
    match class.call1((details,)) {
        Ok(instance) => PyErr::from_value(instance),
        Err(err) => err,
    }
}

/// Runs core work so that a bug surfaces as a `RuntimeError`, never as a panic
/// crossing into Python.
pub fn guarded<T>(work: impl FnOnce() -> T) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        PyRuntimeError::new_err(format!("internal error in lbfast (please report it): {what}"))
    })
}
