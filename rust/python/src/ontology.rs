//! Checking predictions against an ontology (`lbfast.ontology`, `lbfast.validate`).
//!
//! `OntologyIndex` reads an ontology in the shape of `OntologyBuilder.asdict()` (or
//! as exported from Labelbox) once; `check` lowers items as `dumps` does and returns
//! every problem, the ontology's with a kind and a suggestion; `dumps(ontology=...)`
//! goes through [`check_batch`] and [`merge`].

use std::ffi::CString;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use lbfast_core::batch::Batch;
use lbfast_core::issues::{Issue, Report, Severity};
use lbfast_core::ontology::{read_spec, Checker, DataRows, Ontology, OntologySpec, SpecError, SpecNode};
use lbfast_core::options::Options;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString, PyTuple};

use crate::errors::{guarded, problem, Problem};

/// An ontology indexed for checking: every tool, classification and option by name
/// and feature schema id, at every level. Immutable; share it between calls and threads.
#[pyclass(frozen, module = "lbfast._core")]
pub struct OntologyIndex {
    pub inner: Arc<Ontology>,
}

#[pymethods]
impl OntologyIndex {
    /// Reads `{"tools": [...], "classifications": [...]}` as `OntologyBuilder.asdict()`
    /// writes it or Labelbox exports it. `ValueError` lists every ambiguity.
    #[new]
    fn new(normalized: &Bound<'_, PyAny>) -> PyResult<Self> {
        let spec = spec_of(normalized)?;
        let inner = Ontology::build(&spec).map_err(|problems| {
            PyValueError::new_err(format!("the ontology is ambiguous:\n  {}", problems.join("\n  ")))
        })?;
        Ok(OntologyIndex { inner: Arc::new(inner) })
    }

    #[getter]
    fn tool_count(&self) -> usize {
        self.inner.tool_count()
    }

    #[getter]
    fn classification_count(&self) -> usize {
        self.inner.classification_count()
    }

    /// Live features without a feature schema id (`tool 'car'`, `answer 'red' of 'color'`).
    fn features_without_schema_id(&self) -> Vec<String> {
        self.inner.features_without_schema_id()
    }

    fn __repr__(&self) -> String {
        format!(
            "OntologyIndex({} tools, {} classifications)",
            self.inner.tool_count(),
            self.inner.classification_count()
        )
    }
}

/// Which required global classifications each data row has, across the `check`
/// calls of one job; `finish` reports those missing.
#[pyclass(frozen, module = "lbfast._core")]
pub struct CheckState {
    data_rows: Mutex<DataRows>,
}

#[pymethods]
impl CheckState {
    #[new]
    fn new() -> Self {
        CheckState { data_rows: Mutex::new(DataRows::new()) }
    }

    /// The missing required global classifications, as `check` reports problems.
    fn finish(&self, ontology: PyRef<'_, OntologyIndex>) -> Checked {
        let data_rows = self.data_rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut checker = Checker::new(&ontology.inner, Options::default());
        checker.finish(&data_rows);
        checked_out(checker.findings.into_report(), 0, 0)
    }
}

/// `(problems, counts, checked)`: every problem as `errors::Problem`, the count of all
/// of them by `(kind, severity)`, and the number of annotations checked.
pub type Checked = (Vec<Problem>, Vec<(&'static str, &'static str, usize)>, usize);

pub fn checked_out(report: Report, first_row: usize, count: usize) -> Checked {
    let counts =
        report.counts.iter().map(|&(code, severity, n)| (code.as_str(), severity.as_str(), n)).collect();
    (report.issues.into_iter().map(|i| problem(i, first_row)).collect(), counts, count)
}

/// Validates `items` (as `dumps` takes them), against `ontology` when given, without
/// writing; rows are counted from `first_row`. With `state`, required global
/// classifications are checked at `state.finish()`, across calls.
#[pyfunction]
#[pyo3(signature = (items, /, *, ontology = None, state = None, first_row = 0, **options))]
pub fn check(
    py: Python<'_>,
    items: &Bound<'_, PyAny>,
    ontology: Option<PyRef<'_, OntologyIndex>>,
    state: Option<PyRef<'_, CheckState>>,
    first_row: usize,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Checked> {
    let options = crate::options::read(options)?;
    Ok(run_job(py, items, ontology.as_deref(), state.as_deref(), first_row, &options)?.1)
}

/// One call of a job: lowers `items` (a value of the wrong type is a problem),
/// checks them against `ontology` and the rules, and returns the batch ready to write
/// when it has no error, with every problem (rows from `first_row`).
pub fn run_job(
    py: Python<'_>,
    items: &Bound<'_, PyAny>,
    ontology: Option<&OntologyIndex>,
    state: Option<&CheckState>,
    first_row: usize,
    options: &Options,
) -> PyResult<(Option<lbfast_core::batch::Checked>, Checked)> {
    let batch = crate::lower(py, items, options, true);
    crate::extract::forget_texts();
    check_read(py, batch?, ontology, state, first_row, options)
}

/// Checks a batch already read as one call of a job (see [`run_job`]), without the GIL:
/// the batch ready to write when it has no error, and every problem.
pub fn check_read(
    py: Python<'_>,
    mut batch: Batch,
    ontology: Option<&OntologyIndex>,
    state: Option<&CheckState>,
    first_row: usize,
    options: &Options,
) -> PyResult<(Option<lbfast_core::batch::Checked>, Checked)> {
    let count = batch.lines();
    let onto = ontology.map(|o| o.inner.clone());
    let (checked, report) = py.detach(|| {
        guarded(|| {
            check_job(onto.as_deref(), state, first_row, options, &mut batch);
            batch.check_and_report(options)
        })
    })?;
    Ok((checked, checked_out(report, first_row, count)))
}

/// Checks a lowered batch against `ontology` (when given) as one call of a job: with
/// `state`, required global classifications are left for `state.finish()`; rows are
/// counted from `first_row`. Amends the batch (normalised answers, resolved schema
/// ids) and adds the ontology's problems to its issues.
pub fn check_job(
    ontology: Option<&Ontology>,
    state: Option<&CheckState>,
    first_row: usize,
    options: &Options,
    batch: &mut Batch,
) {
    let Some(onto) = ontology else { return };
    let findings = findings_of(onto, state, first_row, options, batch);
    batch.issues.extend(findings);
}

/// What checking `batch` against `onto` finds (amending it): with `state`, required
/// global classifications are left for `state.finish()`, else checked here.
fn findings_of(
    onto: &Ontology,
    state: Option<&CheckState>,
    first_row: usize,
    options: &Options,
    batch: &mut Batch,
) -> lbfast_core::issues::Issues {
    let mut checker = Checker::new(onto, *options);
    checker.row_offset = first_row;
    if let Some(state) = state {
        let mut rows = state.data_rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        check_all(&mut checker, batch, &mut rows);
    } else {
        let mut rows = DataRows::new();
        check_all(&mut checker, batch, &mut rows);
        checker.finish(&rows);
    }
    checker.findings
}

/// Checks the items and the columnar batches of `batch`.
fn check_all(checker: &mut Checker<'_>, batch: &mut Batch, rows: &mut DataRows) {
    checker.check_items(&mut batch.items, rows);
    for columns in &mut batch.columns {
        checker.check_columns(columns, rows);
    }
}

/// Checks a lowered batch for `dumps(ontology=...)`: amends it (normalised answers,
/// resolved schema ids), emits the warnings as one `lbfast.OntologyWarning`, and
/// adds the errors to the batch's problems.
pub fn check_batch(
    py: Python<'_>,
    ontology: &OntologyIndex,
    batch: &mut Batch,
    options: &Options,
) -> PyResult<()> {
    let onto = ontology.inner.clone();
    let findings = py.detach(|| guarded(|| findings_of(&onto, None, 0, options, batch).into_report()))?;
    // Amendments matter only to output that is written; refused output has errors to show.
    let (warnings, errors): (Vec<Issue>, Vec<Issue>) =
        findings.issues.into_iter().partition(|i| i.severity == Severity::Warning);
    if !warnings.is_empty() && errors.is_empty() {
        const SHOWN: usize = 5;
        let total: usize = findings.counts.iter().filter(|c| c.1 == Severity::Warning).map(|c| c.2).sum();
        let mut text = format!(
            "{total} prediction{} amended to fit the ontology:",
            if total == 1 { " was" } else { "s were" }
        );
        for w in warnings.iter().take(SHOWN) {
            let _ = write!(text, "\n  {w}");
        }
        if total > SHOWN {
            let _ = write!(text, "\n  ... and {} more", total - SHOWN);
        }
        let category = py.import(intern!(py, "lbfast.ontology"))?.getattr(intern!(py, "OntologyWarning"))?;
        let message = CString::new(text.replace('\0', " ")).unwrap_or_default();
        PyErr::warn(py, &category, &message, 2)?;
    }
    batch.issues.extend_issues(errors);
    Ok(())
}

// --- Reading the ontology -------------------------------------------------------------

/// A Python object of an ontology's description, as the core's reader sees it.
struct PyNode<'py>(Bound<'py, PyAny>);

impl SpecNode for PyNode<'_> {
    fn identity(&self) -> usize {
        self.0.as_ptr() as usize
    }

    fn type_name(&self) -> String {
        self.0.get_type().name().map(|n| n.to_string()).unwrap_or_default()
    }

    fn shown(&self) -> String {
        self.0.repr().map(|r| r.to_string()).unwrap_or_default()
    }

    fn is_dict(&self) -> bool {
        self.0.is_instance_of::<PyDict>()
    }

    fn get(&self, key: &str) -> Result<Option<Self>, SpecError> {
        let Ok(dict) = self.0.cast::<PyDict>() else { return Ok(None) };
        let value = dict.get_item(key).map_err(|e| SpecError::Value(e.to_string()))?;
        Ok(value.filter(|v| !v.is_none()).map(PyNode))
    }

    fn items(&self) -> Result<Option<Vec<Self>>, SpecError> {
        if !(self.0.is_instance_of::<PyList>() || self.0.is_instance_of::<PyTuple>()) {
            return Ok(None);
        }
        let items = self.0.try_iter().and_then(std::iter::Iterator::collect::<PyResult<Vec<_>>>);
        items.map(|v| Some(v.into_iter().map(PyNode).collect())).map_err(|e| SpecError::Value(e.to_string()))
    }

    fn text(&self) -> Result<Option<String>, String> {
        let value = &self.0;
        if let Ok(s) = value.cast::<PyString>() {
            return s
                .to_str()
                .map(|s| Some(s.to_owned()))
                .map_err(|_| "text contains a lone surrogate, which is not valid Unicode".to_string());
        }
        if value.is_instance_of::<PyBool>() {
            return Ok(None);
        }
        if value.is_instance_of::<PyInt>() {
            return Ok(value.str().ok().and_then(|s| s.to_str().ok().map(str::to_owned)));
        }
        // Enums (Tool.Type.BBOX) carry their text in `.value`.
        match value.getattr(intern!(value.py(), "value")) {
            Ok(inner) if inner.is_instance_of::<PyString>() => PyNode(inner).text(),
            _ => Ok(None),
        }
    }

    fn flag(&self) -> Option<bool> {
        if let Ok(b) = self.0.cast::<PyBool>() {
            return Some(b.is_true());
        }
        // Exports write `archived` as 0 or 1.
        match self.0.extract::<i64>() {
            Ok(0) => Some(false),
            Ok(1) => Some(true),
            _ => None,
        }
    }
}

/// Reads the description with the core's reader.
fn spec_of(value: &Bound<'_, PyAny>) -> PyResult<OntologySpec> {
    read_spec(&PyNode(value.clone())).map_err(|err| match err {
        SpecError::Type(message) => PyTypeError::new_err(message),
        SpecError::Value(message) => PyValueError::new_err(message),
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<OntologyIndex>()?;
    m.add_class::<CheckState>()?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    Ok(())
}
