//! Turning core issues into `lbfast.ValidationError`, and panics into plain errors.

use std::panic::{catch_unwind, AssertUnwindSafe};

use lbfast_core::issues::{Code, Issue};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static VALIDATION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static FIELD_TYPE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `lbfast.FieldTypeError(row, path, message)`: a value of the wrong Python type, a
/// `TypeError` that names its row and field as values.
pub fn field_type_error(py: Python<'_>, row: usize, path: String, message: String) -> PyErr {
    match FIELD_TYPE_ERROR.import(py, "lbfast.errors", "FieldTypeError") {
        Ok(class) => match class.call1((row, path, message)) {
            Ok(instance) => PyErr::from_value(instance),
            Err(err) => err,
        },
        Err(err) => err,
    }
}

/// The problem a `FieldTypeError` stands for, when `err` is one.
pub fn field_type_issue(py: Python<'_>, err: &PyErr) -> Option<Issue> {
    let class = FIELD_TYPE_ERROR.import(py, "lbfast.errors", "FieldTypeError").ok()?;
    let value = err.value(py);
    if !value.is_instance(class).ok()? {
        return None;
    }
    let row: usize = value.getattr("row").ok()?.extract().ok()?;
    let path: String = value.getattr("path").ok()?.extract().ok()?;
    let message: String = value.getattr("message").ok()?.extract().ok()?;
    Some(Issue::error(Code::Type, row, path, message))
}

/// One problem as Python sees it: `(kind, row, path, message, suggestion, severity)`.
pub type Problem = (&'static str, usize, String, String, Option<String>, &'static str);

/// The Python form of `issue`, its row moved by `first_row`.
pub fn problem(issue: Issue, first_row: usize) -> Problem {
    (
        issue.code.as_str(),
        issue.row + first_row,
        issue.path,
        issue.message,
        issue.suggestion,
        issue.severity.as_str(),
    )
}

/// `lbfast.ValidationError(problems)`, listing every problem.
pub fn validation_error(py: Python<'_>, issues: Vec<Issue>) -> PyErr {
    let class = match VALIDATION_ERROR.import(py, "lbfast.errors", "ValidationError") {
        Ok(class) => class,
        Err(err) => return err,
    };
    let details: Vec<Problem> = issues.into_iter().map(|i| problem(i, 0)).collect();
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
            .map(std::string::ToString::to_string)
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        PyRuntimeError::new_err(format!("internal error in lbfast (please report it): {what}"))
    })
}
