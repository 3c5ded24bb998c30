//! Reading Python values into core types, with the field path in every error.
//!
//! A value of the wrong Python type is a `TypeError` (the caller's code is wrong);
//! a value of the right type that the format cannot take (NaN, a lone surrogate)
//! is recorded as an issue and reported with the rest of the batch.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use lbfast_core::issues::{Code, Issue, Issues, Problem};
use lbfast_core::mask::{self, Image};
use lbfast_core::model::{DataRow, MaskColor, Metric, Text};
use pyo3::exceptions::PyUnicodeEncodeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyComplex, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Nested classifications deeper than this are refused: real ontologies are a few
/// levels deep, and a reference cycle must not exhaust the stack.
pub const MAX_DEPTH: usize = 32;

/// Nesting past [`MAX_DEPTH`], raised at once as a `ValidationError`: continuing would
/// walk every path of a cycle that fans out (2^depth of them) before reporting.
pub fn too_deep(py: Python<'_>, issues: &Issues) -> PyErr {
    let message =
        format!("classifications are nested more than {MAX_DEPTH} levels deep (a reference cycle?)");
    let issue = Issue::error(Code::TooDeep, issues.row(), issues.current_path(), message);
    crate::errors::validation_error(py, vec![issue])
}

/// A `TypeError` naming the row and field (`lbfast.FieldTypeError`).
pub fn type_error(issues: &Issues, expected: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let type_name = got.get_type().name().map_or_else(|_| "?".to_string(), |n| n.to_string());
    let message = format!("expected {expected}, got {type_name}");
    crate::errors::field_type_error(got.py(), issues.row(), issues.current_path(), message)
}

/// The data row, or the stand-in for a refused one, its problem recorded at the
/// current path.
pub fn data_row_or_refused(data_row: Result<DataRow, Problem>, issues: &mut Issues) -> DataRow {
    data_row.unwrap_or_else(|problem| {
        issues.report_problem(problem);
        DataRow::refused()
    })
}

pub fn f64_of(value: &Bound<'_, PyAny>, issues: &Issues) -> PyResult<f64> {
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(f.value());
    }
    if value.is_instance_of::<PyString>() || value.is_instance_of::<PyBytes>() {
        return Err(type_error(issues, "a number", value));
    }
    // A numpy complex converts to float by dropping its imaginary part: refuse it.
    if is_complex(value) {
        return Err(type_error(issues, "a real number", value));
    }
    value.extract::<f64>().map_err(|_| type_error(issues, "a number", value))
}

/// A Python or numpy complex number (numpy's complex scalars are not `complex`
/// subclasses, except complex128).
pub fn is_complex(value: &Bound<'_, PyAny>) -> bool {
    value.is_instance_of::<PyComplex>() || numpy_kind(value) == Some(b'c')
}

/// The dtype kind (`b'c'`, `b'b'`, ...) of a numpy scalar or array, if `value` is one.
fn numpy_kind(value: &Bound<'_, PyAny>) -> Option<u8> {
    let dtype = value.getattr_opt(pyo3::intern!(value.py(), "dtype")).ok()??;
    let kind = dtype.getattr_opt(pyo3::intern!(value.py(), "kind")).ok()??;
    let kind = kind.cast::<PyString>().ok()?.to_str().ok()?.as_bytes().first().copied();
    kind
}

/// A flag: `True`/`False` or a numpy bool; `None` is unset (`False`). Anything else
/// is a `TypeError`, so that `"no"` is never written as `true`.
pub fn flag_of(value: &Bound<'_, PyAny>, issues: &Issues) -> PyResult<bool> {
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(flag.is_true());
    }
    if value.is_none() {
        return Ok(false);
    }
    if numpy_kind(value) == Some(b'b') && value.cast::<numpy::PyUntypedArray>().is_err() {
        return value.is_truthy();
    }
    Err(type_error(issues, "True or False", value))
}

pub fn opt_f64(value: &Bound<'_, PyAny>, issues: &Issues) -> PyResult<Option<f64>> {
    if value.is_none() {
        Ok(None)
    } else {
        f64_of(value, issues).map(Some)
    }
}

pub fn i64_of(value: &Bound<'_, PyAny>, issues: &Issues) -> PyResult<i64> {
    if value.is_instance_of::<PyInt>() {
        if let Ok(v) = value.extract::<i64>() {
            return Ok(v);
        }
    }
    // numpy integers and other __index__ types; floats are refused, as colours are integers.
    if value.is_instance_of::<PyFloat>() || value.is_instance_of::<PyString>() {
        return Err(type_error(issues, "an integer", value));
    }
    value.extract::<i64>().map_err(|_| type_error(issues, "an integer", value))
}

/// A Python `str` as a Rust string. A lone surrogate cannot be written as UTF-8, so it
/// is an issue, reported with the batch; the returned placeholder is never written.
pub fn string_of(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<String> {
    let s = value.cast::<PyString>().map_err(|_| type_error(issues, "a string", value))?;
    match s.to_str() {
        Ok(text) => Ok(text.to_owned()),
        Err(err) if err.is_instance_of::<PyUnicodeEncodeError>(value.py()) => {
            issues.report(Code::InvalidText, "string contains a lone surrogate, which is not valid Unicode");
            Ok(String::new())
        }
        Err(err) => Err(err),
    }
}

thread_local! {
    /// Text already converted during the current lowering, by Python object. Names and
    /// data rows repeat (the same `"car"` object on every box), so each is converted
    /// once. The entry holds a reference, so the address cannot be reused meanwhile.
    static TEXTS: RefCell<HashMap<usize, (Py<PyAny>, Text)>> = RefCell::new(HashMap::new());
}

/// Upper bound on remembered texts; past it the memo starts afresh.
const TEXTS_LIMIT: usize = 1 << 16;

/// Forgets the texts of the finished lowering (and releases their references).
pub fn forget_texts() {
    TEXTS.with(|t| t.borrow_mut().clear());
}

/// A Python `str` (or `None`) as shared text; see [`string_of`] for errors.
pub fn opt_text(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<Text>> {
    if value.is_none() {
        return Ok(None);
    }
    let key = value.as_ptr() as usize;
    if let Some(text) = TEXTS.with(|t| t.borrow().get(&key).map(|(_, text)| text.clone())) {
        return Ok(Some(text));
    }
    let before = issues.len();
    let text: Text = string_of(value, issues)?.into();
    // A string with a problem is not remembered, so each use of it is reported.
    if issues.len() == before {
        TEXTS.with(|t| {
            let mut t = t.borrow_mut();
            if t.len() >= TEXTS_LIMIT {
                t.clear();
            }
            t.insert(key, (value.clone().unbind(), text.clone()));
        });
    }
    Ok(Some(text))
}

/// Like [`opt_text`] without the memo, for text that rarely repeats (data rows).
pub fn opt_fresh_text(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<Text>> {
    Ok(opt_string(value, issues)?.map(Text::from))
}

pub fn opt_string(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<String>> {
    if value.is_none() {
        Ok(None)
    } else {
        string_of(value, issues).map(Some)
    }
}

/// A dict key as text. A non-string key is a `TypeError`; a key with a lone
/// surrogate (never a known key) is reported as an issue and `None` is returned.
pub fn key_text<'a>(key: &'a Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<&'a str>> {
    let key = key.cast::<PyString>().map_err(|_| type_error(issues, "string keys", key))?;
    match key.to_str() {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.is_instance_of::<PyUnicodeEncodeError>(key.py()) => {
            let shown = key.repr().map(|r| r.to_string()).unwrap_or_default();
            issues.report(
                Code::InvalidText,
                format!("key {shown} contains a lone surrogate, which is not valid Unicode"),
            );
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// Reports `key`, unknown in `what`: `unknown key "z" in a point (expected x, y)`.
pub fn report_unknown(issues: &mut Issues, key: &str, what: &str) {
    issues.push_owned_key(key.to_string());
    issues.report(Code::UnknownKey, format!("unknown key {key:?}{what}"));
    issues.pop();
}

/// Reports every key of `dict` that is not in `known`.
/// [`check_keys`] for a dict whose `known` keys were all read already, each missing
/// one reported as missing: then the common case (as many keys as `known`, nothing
/// missing yet) needs no lookup. For the hot small dicts (points, boxes).
pub fn check_read_keys(
    dict: &Bound<'_, PyDict>,
    known: &[&str],
    what: &str,
    issues: &mut Issues,
) -> PyResult<()> {
    if dict.len() == known.len() && issues.count_of(Code::Missing) == 0 {
        return Ok(());
    }
    check_keys(dict, known, what, issues)
}

pub fn check_keys(dict: &Bound<'_, PyDict>, known: &[&str], what: &str, issues: &mut Issues) -> PyResult<()> {
    // The common case, only known keys, costs one lookup per known key.
    let present = known.iter().filter(|k| dict.contains(**k).unwrap_or(false)).count();
    if present == dict.len() {
        return Ok(());
    }
    let what = format!(" in {what} (expected {})", known.join(", "));
    for key in dict.keys() {
        if let Some(text) = key_text(&key, issues)? {
            if !known.contains(&text) {
                report_unknown(issues, text, &what);
            }
        }
    }
    Ok(())
}

/// A list or tuple (the only sequences accepted where a list is expected, so that a
/// string or dict given by mistake is a `TypeError` rather than a surprise).
pub fn sequence<'py>(
    value: &Bound<'py, PyAny>,
    issues: &Issues,
    what: &str,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if let Ok(list) = value.cast::<PyList>() {
        return Ok(list.iter().collect());
    }
    if let Ok(tuple) = value.cast::<PyTuple>() {
        return Ok(tuple.iter().collect());
    }
    Err(type_error(issues, what, value))
}

/// `[CustomMetric | {"name", "value"}]`.
pub fn metrics(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<Vec<Metric>>> {
    if value.is_none() {
        return Ok(None);
    }
    let items = sequence(value, issues, "a list of custom metrics")?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(issues.at_index(i, |issues| metric_of(item, issues))?);
    }
    Ok(Some(out))
}

/// One custom metric: a dict `{"name", "value"}` or an object with those attributes.
fn metric_of(item: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Metric> {
    let py = item.py();
    let (name, value, expected) = if let Ok(dict) = item.cast::<PyDict>() {
        check_keys(dict, &["name", "value"], "a custom metric", issues)?;
        let name = dict.get_item(pyo3::intern!(py, "name"))?;
        (name, dict.get_item(pyo3::intern!(py, "value"))?, "a metric dict with `name` and `value`")
    } else {
        let name = item.getattr_opt(pyo3::intern!(py, "name"))?;
        (
            name,
            item.getattr_opt(pyo3::intern!(py, "value"))?,
            "a CustomMetric or a dict with `name` and `value`",
        )
    };
    let (Some(name), Some(value)) = (name, value) else {
        return Err(type_error(issues, expected, item));
    };
    let name = issues.at("name", |i| string_of(&name, i))?;
    let value = issues.at("value", |i| f64_of(&value, i))?;
    Ok(Metric { name, value })
}

/// A mask colour: one int, or three ints.
pub fn color_of(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<MaskColor>> {
    if value.is_instance_of::<PyInt>()
        || value.hasattr("__index__").unwrap_or(false) && !value.is_instance_of::<PyFloat>()
    {
        if let Ok(v) = i64_of(value, issues) {
            return Ok(Some(MaskColor::Gray(v)));
        }
    }
    let items = sequence(value, issues, "an int or an (r, g, b) tuple of ints")?;
    if items.len() != 3 {
        issues.report(
            Code::MaskColor,
            format!("colour must be an int or 3 ints (r, g, b), got {} values", items.len()),
        );
        return Ok(None);
    }
    let mut rgb = [0i64; 3];
    for (slot, item) in rgb.iter_mut().zip(&items) {
        *slot = i64_of(item, issues)?;
    }
    Ok(Some(MaskColor::Rgb(rgb)))
}

/// Decoded mask sources of one call, keyed by the Python object they came from, so
/// that a composite shared by many annotations is decoded once.
#[derive(Default)]
pub struct ImageCache {
    /// Each entry holds a reference to its key object, so that the address cannot be
    /// reused by another object (as it would be when Labels come from a generator).
    images: HashMap<usize, (Py<PyAny>, Decoded)>,
}

/// A decoded image, or why it could not be decoded.
type Decoded = Result<Arc<Image>, String>;

impl ImageCache {
    pub fn get_or_decode(
        &mut self,
        key: &Bound<'_, PyAny>,
        decode: impl FnOnce() -> PyResult<Result<Image, String>>,
    ) -> PyResult<Result<Arc<Image>, String>> {
        let id = key.as_ptr() as usize;
        if let Some((_, found)) = self.images.get(&id) {
            return Ok(found.clone());
        }
        let decoded = decode()?.map(Arc::new);
        self.images.insert(id, (key.clone().unbind(), decoded.clone()));
        Ok(decoded)
    }
}

/// PNG bytes to pixels, without holding the GIL while decoding.
pub fn decode_png(py: Python<'_>, bytes: &[u8], max_pixels: u64) -> Result<Image, String> {
    py.detach(|| mask::decode_png(bytes, max_pixels))
}
