//! Checking predictions against an ontology (`lbfast.ontology`, `lbfast.validate`).
//!
//! `OntologyIndex` reads an ontology in the shape of `OntologyBuilder.asdict()` (or
//! as exported from Labelbox) once; `check` lowers items as `dumps` does and returns
//! every problem, the ontology's with a kind and a suggestion; `dumps(ontology=...)`
//! goes through [`check_batch`] and [`merge`].

use std::ffi::CString;
use std::sync::{Arc, Mutex};

use lbfast_core::batch::Batch;
use lbfast_core::issues::Issue;
use lbfast_core::ontology::{
    CheckOptions, Checker, DataRows, FeatureSpec, Finding, Ontology, OntologySpec, OptionSpec, QuestionSpec,
    Severity, ToolSpec,
};
use lbfast_core::validate::Options;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString, PyTuple};

use crate::errors::guarded;
use crate::extract::MAX_DEPTH;

/// An ontology indexed for checking: every tool, classification and option by name
/// and feature schema id, at every level. Immutable; share it between calls and threads.
#[pyclass(frozen, module = "lbfast._core")]
pub struct OntologyIndex {
    inner: Arc<Ontology>,
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
    fn finish(&self, ontology: PyRef<'_, OntologyIndex>) -> Vec<Problem> {
        let data_rows = self.data_rows.lock().unwrap_or_else(|p| p.into_inner());
        let mut checker = Checker::new(&ontology.inner, CheckOptions::default());
        checker.finish(&data_rows);
        findings_out(&checker.findings, 0)
    }
}

/// `(row, path, message, kind, suggestion, severity)`.
type Problem = (usize, String, String, &'static str, Option<String>, &'static str);

fn findings_out(findings: &lbfast_core::ontology::Findings, first_row: usize) -> Vec<Problem> {
    let out = |f: Finding| {
        let severity = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        (f.issue.row + first_row, f.issue.path, f.issue.message, f.kind.as_str(), f.suggestion, severity)
    };
    findings.errors().into_iter().chain(findings.warnings()).map(out).collect()
}

/// Validates `items` (as `dumps` takes them), against `ontology` when given, without
/// writing. Returns every problem as `(row, path, message, kind, suggestion,
/// severity)`, rows counted from `first_row` (kind `invalid` for problems of the
/// predictions themselves), and the number of annotations checked. With `state`,
/// required global classifications are checked at `state.finish()`, across calls.
#[pyfunction]
#[pyo3(signature = (items, /, *, ontology = None, state = None, first_row = 0, required = true, max_mask_pixels = None))]
pub fn check(
    py: Python<'_>,
    items: &Bound<'_, PyAny>,
    ontology: Option<PyRef<'_, OntologyIndex>>,
    state: Option<PyRef<'_, CheckState>>,
    first_row: usize,
    required: bool,
    max_mask_pixels: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Vec<Problem>, usize)> {
    let max_mask_pixels = crate::arguments::pixel_cap("max_mask_pixels", max_mask_pixels)?;
    let mut options = Options::default();
    if let Some(limit) = max_mask_pixels {
        options.max_mask_pixels = limit;
    }
    let batch = crate::lower(py, items, &options);
    crate::extract::forget_texts();
    let mut batch = batch?;
    let count = batch.items.len() + batch.columns.iter().map(|c| c.columns.len()).sum::<usize>();
    let check = CheckOptions { resolve_schema_ids: false, required };
    let mut problems = Vec::new();
    if let Some(onto) = &ontology {
        let onto = onto.inner.clone();
        let state = state.as_deref();
        let findings = py.detach(|| {
            guarded(|| {
                let mut checker = Checker::new(&onto, check);
                checker.row_offset = first_row;
                match state {
                    Some(state) => {
                        let mut rows = state.data_rows.lock().unwrap_or_else(|p| p.into_inner());
                        check_all(&mut checker, &mut batch, &mut rows);
                    }
                    None => {
                        let mut rows = DataRows::new();
                        check_all(&mut checker, &mut batch, &mut rows);
                        checker.finish(&rows);
                    }
                }
                checker.findings
            })
        })?;
        problems = findings_out(&findings, first_row);
    }
    // Checking only: nothing is written.
    let checked = py.detach(|| guarded(|| batch.check(&options).map(drop)))?;
    if let Err(issues) = checked {
        let core =
            issues.into_iter().map(|i| (i.row + first_row, i.path, i.message, "invalid", None, "error"));
        problems.splice(0..0, core);
    }
    // Errors in row order (stable: the predictions' own problems first within a row).
    problems.sort_by_key(|p| (p.5 == "warning", p.0));
    Ok((problems, count))
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
/// returns the errors as issues.
pub fn check_batch(
    py: Python<'_>,
    ontology: &OntologyIndex,
    batch: &mut Batch,
    resolve_schema_ids: bool,
    required: bool,
) -> PyResult<Vec<Issue>> {
    let onto = ontology.inner.clone();
    let options = CheckOptions { resolve_schema_ids, required };
    let findings = py.detach(|| {
        guarded(|| {
            let mut checker = Checker::new(&onto, options);
            let mut rows = DataRows::new();
            check_all(&mut checker, batch, &mut rows);
            checker.finish(&rows);
            checker.findings
        })
    })?;
    // Amendments matter only to output that is written; refused output has errors to show.
    let warnings = findings.warnings();
    if !warnings.is_empty() && !findings.has_errors() {
        const SHOWN: usize = 5;
        let total = findings.warning_count();
        let mut text = format!(
            "{total} prediction{} amended to fit the ontology:",
            if total == 1 { " was" } else { "s were" }
        );
        for w in warnings.iter().take(SHOWN) {
            text.push_str(&format!("\n  {}", w.issue));
        }
        if total > SHOWN {
            text.push_str(&format!("\n  ... and {} more", total - SHOWN));
        }
        let category = py.import(intern!(py, "lbfast.ontology"))?.getattr(intern!(py, "OntologyWarning"))?;
        let message = CString::new(text.replace('\0', " ")).unwrap_or_default();
        PyErr::warn(py, &category, &message, 2)?;
    }
    Ok(findings.error_issues())
}

/// The outcome of `dumps` with an ontology: the ontology's errors and the
/// predictions' own problems together, in row order.
pub fn merge(mut core: Vec<Issue>, ontology: Vec<Issue>) -> Vec<Issue> {
    core.extend(ontology);
    core.sort_by_key(|i| i.row);
    core
}

// --- Reading the ontology -------------------------------------------------------------

/// Reads the description; `at` (in the helpers) is the path for error messages.
fn spec_of(value: &Bound<'_, PyAny>) -> PyResult<OntologySpec> {
    let dict = dict_at(value, "the ontology")?;
    let mut spec = OntologySpec::default();
    let mut open = Vec::new();
    for (i, tool) in list_at(dict, "tools", "")?.iter().enumerate() {
        let at = format!("tools[{i}]");
        let d = dict_at(tool, &at)?;
        spec.tools.push(ToolSpec {
            kind: text_at(d, &["tool"], &at)?.unwrap_or_default(),
            feature: feature_at(d, &["name"], &at)?,
            classifications: questions_at(d, &["classifications"], &at, &mut open)?,
        });
    }
    spec.classifications = questions_at(dict, &["classifications"], "", &mut open)?;
    Ok(spec)
}

/// The questions under `keys` of `dict`. `open` holds the question dicts being read
/// (outermost first), so that a question nested in itself is a cycle, reported as
/// such, and nesting is bounded: the reader recurses, and must not exhaust the stack.
fn questions_at(
    dict: &Bound<'_, PyDict>,
    keys: &[&str],
    at: &str,
    open: &mut Vec<(usize, String)>,
) -> PyResult<Vec<QuestionSpec>> {
    let mut out = Vec::new();
    for key in keys {
        for (i, q) in list_at(dict, key, at)?.iter().enumerate() {
            let at = join(at, &format!("{key}[{i}]"));
            let d = dict_at(q, &at)?;
            let id = d.as_ptr() as usize;
            if let Some((_, first)) = open.iter().find(|(open_id, _)| *open_id == id) {
                return Err(PyValueError::new_err(format!(
                    "ontology: {at}: is {first} again (the ontology refers to itself, a cycle)"
                )));
            }
            if open.len() >= MAX_DEPTH {
                return Err(PyValueError::new_err(format!(
                    "ontology: {at}: classifications are nested more than {MAX_DEPTH} levels deep"
                )));
            }
            open.push((id, at.clone()));
            let question = question_at(d, &at, open);
            open.pop();
            out.push(question?);
        }
    }
    Ok(out)
}

fn question_at(d: &Bound<'_, PyDict>, at: &str, open: &mut Vec<(usize, String)>) -> PyResult<QuestionSpec> {
    let mut options = Vec::new();
    for (j, o) in list_at(d, "options", at)?.iter().enumerate() {
        let at = format!("{at}.options[{j}]");
        let od = dict_at(o, &at)?;
        options.push(OptionSpec {
            feature: feature_at(od, &["value", "label"], &at)?,
            // The SDK nests an option's questions in `options`; accept `classifications` too.
            classifications: questions_at(od, &["options", "classifications"], &at, open)?,
        });
    }
    Ok(QuestionSpec {
        kind: text_at(d, &["type"], at)?.unwrap_or_default(),
        feature: feature_at(d, &["name", "instructions"], at)?,
        options,
    })
}

fn feature_at(dict: &Bound<'_, PyDict>, name_keys: &[&str], at: &str) -> PyResult<FeatureSpec> {
    Ok(FeatureSpec {
        name: text_at(dict, name_keys, at)?.unwrap_or_default(),
        schema_id: text_at(dict, &["featureSchemaId"], at)?,
        node_id: text_at(dict, &["schemaNodeId"], at)?,
        required: flag_at(dict, "required", at)?,
        archived: flag_at(dict, "archived", at)?,
    })
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn dict_at<'a, 'py>(value: &'a Bound<'py, PyAny>, at: &str) -> PyResult<&'a Bound<'py, PyDict>> {
    value.cast::<PyDict>().map_err(|_| {
        let got = value.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        PyTypeError::new_err(format!("ontology: {at}: expected a dict, got {got}"))
    })
}

/// The list at `key` (missing or `None`: empty).
fn list_at<'py>(dict: &Bound<'py, PyDict>, key: &str, at: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    match dict.get_item(key)? {
        None => Ok(Vec::new()),
        Some(v) if v.is_none() => Ok(Vec::new()),
        Some(v) if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() => v.try_iter()?.collect(),
        Some(v) => {
            let got = v.get_type().name().map(|n| n.to_string()).unwrap_or_default();
            Err(PyTypeError::new_err(format!("ontology: {}: expected a list, got {got}", join(at, key))))
        }
    }
}

/// The first of `keys` that is set: a string, or an int (option values may be ints).
fn text_at(dict: &Bound<'_, PyDict>, keys: &[&str], at: &str) -> PyResult<Option<String>> {
    for key in keys {
        let Some(v) = dict.get_item(key)? else { continue };
        if v.is_none() {
            continue;
        }
        if let Ok(s) = v.cast::<PyString>() {
            return s.to_str().map(|s| Some(s.to_owned())).map_err(|_| {
                PyValueError::new_err(format!(
                    "ontology: {}: text contains a lone surrogate, which is not valid Unicode",
                    join(at, key)
                ))
            });
        }
        if v.is_instance_of::<PyInt>() {
            return Ok(Some(v.str()?.to_str()?.to_owned()));
        }
        // Enums (Tool.Type.BBOX) carry their text in `.value`.
        if let Ok(inner) = v.getattr(intern!(v.py(), "value")) {
            if let Ok(s) = inner.cast::<PyString>() {
                return Ok(Some(s.to_str()?.to_owned()));
            }
        }
        let got = v.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        return Err(PyTypeError::new_err(format!(
            "ontology: {}: expected a string, got {got}",
            join(at, key)
        )));
    }
    Ok(None)
}

/// `True`/`False`, `1`/`0` (as Labelbox exports `archived`), or missing/`None`
/// (`False`); anything else (`"false"`) would be read by its truth, so it is refused.
fn flag_at(dict: &Bound<'_, PyDict>, key: &str, at: &str) -> PyResult<bool> {
    let Some(v) = dict.get_item(key)?.filter(|v| !v.is_none()) else { return Ok(false) };
    if v.is_instance_of::<PyBool>() {
        return v.is_truthy();
    }
    match v.cast::<PyInt>().ok().and_then(|i| i.extract::<u8>().ok()) {
        Some(flag @ (0 | 1)) => Ok(flag == 1),
        _ => {
            let got = v.repr().map(|r| r.to_string()).unwrap_or_default();
            Err(PyTypeError::new_err(format!(
                "ontology: {}: expected True or False, got {got}",
                join(at, key)
            )))
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<OntologyIndex>()?;
    m.add_class::<CheckState>()?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    Ok(())
}
