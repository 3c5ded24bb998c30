//! Python values as the core's key rules see them ([`Node`]): the dict entrance,
//! custom metrics, mask colours and typed metrics' values are read by those rules.

use lbfast_core::issues::Issues;
use lbfast_core::model::{Metric, Text};
use lbfast_core::read::node::{KeyedVisit, Visit};
use lbfast_core::read::{Key, Node};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::extract::{
    f64_of, flag_of, i64_of, key_text, opt_text, sequence, string_of, too_deep, type_error,
};

/// A Python value as the key rules see it.
#[derive(Clone)]
pub struct PyNode<'py>(pub Bound<'py, PyAny>);

impl Node for PyNode<'_> {
    type Error = PyErr;

    fn is_null(&self) -> bool {
        self.0.is_none()
    }

    fn is_str(&self) -> bool {
        self.0.is_instance_of::<PyString>()
    }

    fn is_dict(&self) -> bool {
        self.0.is_instance_of::<PyDict>()
    }

    fn is_list(&self) -> bool {
        self.0.is_instance_of::<PyList>() || self.0.is_instance_of::<PyTuple>()
    }

    fn is_bool(&self) -> bool {
        self.0.is_instance_of::<PyBool>()
    }

    fn is_int(&self) -> bool {
        // numpy integers too (they have `__index__`); floats never.
        (self.0.is_instance_of::<PyInt>()
            || !self.0.is_instance_of::<PyFloat>() && self.0.hasattr("__index__").unwrap_or(false))
            && self.0.extract::<i64>().is_ok()
    }

    fn entries(&self, issues: &mut Issues, expected: &str, f: &mut Visit<'_, Self>) -> PyResult<()> {
        let dict = self.0.cast::<PyDict>().map_err(|_| type_error(issues, expected, &self.0))?;
        for (key, value) in dict.iter() {
            // A key with a lone surrogate (never a known key) was reported.
            if let Some(text) = key_text(&key, issues)? {
                f(text, PyNode(value), issues)?;
            }
        }
        Ok(())
    }

    fn keyed_entries(
        &self,
        issues: &mut Issues,
        expected: &str,
        f: &mut KeyedVisit<'_, Self>,
    ) -> PyResult<()> {
        let dict = self.0.cast::<PyDict>().map_err(|_| type_error(issues, expected, &self.0))?;
        for (key, value) in dict.iter() {
            match key.cast::<PyString>() {
                Ok(text) => f(Key::Text(text.to_str()?), PyNode(value), issues)?,
                Err(_) => f(Key::Value(PyNode(key)), PyNode(value), issues)?,
            }
        }
        Ok(())
    }

    fn items(&self, issues: &mut Issues, expected: &str) -> PyResult<Vec<Self>> {
        Ok(sequence(&self.0, issues, expected)?.into_iter().map(PyNode).collect())
    }

    fn number(&self, issues: &mut Issues) -> PyResult<f64> {
        f64_of(&self.0, issues)
    }

    fn integer(&self, issues: &mut Issues) -> PyResult<i64> {
        i64_of(&self.0, issues)
    }

    fn string(&self, issues: &mut Issues) -> PyResult<String> {
        string_of(&self.0, issues)
    }

    fn text(&self, issues: &mut Issues) -> PyResult<Text> {
        Ok(opt_text(&self.0, issues)?.unwrap_or_else(|| Text::from("")))
    }

    fn flag(&self, issues: &mut Issues) -> PyResult<bool> {
        flag_of(&self.0, issues)
    }

    fn metric_object(&self, issues: &mut Issues) -> PyResult<Option<Metric>> {
        let py = self.0.py();
        let name = self.0.getattr_opt(pyo3::intern!(py, "name"))?;
        let value = self.0.getattr_opt(pyo3::intern!(py, "value"))?;
        let (Some(name), Some(value)) = (name, value) else { return Ok(None) };
        let name = issues.at("name", |i| string_of(&name, i))?;
        let value = issues.at("value", |i| f64_of(&value, i))?;
        Ok(Some(Metric { name, value }))
    }

    fn type_error(&self, issues: &mut Issues, expected: &str) -> PyErr {
        type_error(issues, expected, &self.0)
    }

    fn refuse(&self, issues: &mut Issues, message: String) -> PyErr {
        crate::errors::field_type_error(self.0.py(), issues.row(), issues.current_path(), message)
    }

    fn too_deep(&self, issues: &mut Issues) -> PyErr {
        too_deep(self.0.py(), issues)
    }
}
