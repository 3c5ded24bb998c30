//! Reading Python values into core types, with the field path in every error.
//!
//! A value of the wrong Python type is a `TypeError` (the caller's code is wrong);
//! a value of the right type that the format cannot take (NaN, a lone surrogate)
//! is recorded as an issue and reported with the rest of the batch.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use lbfast_core::issues::{Code, Issue, Issues};
use lbfast_core::mask::{self, Image};
use lbfast_core::model::{MaskColor, Metric, Text};
use pyo3::exceptions::PyUnicodeEncodeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyComplex, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Nested classifications deeper than this are refused (the core's bound).
pub use lbfast_core::read::MAX_DEPTH;

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

pub use lbfast_core::read::annotation::data_row_or_refused;

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

/// Hashes an object's address: one multiply, where the default `SipHash` cost a
/// small `dumps` a tenth of its lowering.
#[derive(Default, Clone, Copy)]
pub struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_usize(&mut self, address: usize) {
        self.0 = (address as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn finish(&self) -> u64 {
        // The multiply's high bits are its good ones; fold them into the low ones too.
        self.0 ^ (self.0 >> 32)
    }
}

/// A map keyed by object address.
pub type ByAddress<V> = HashMap<usize, V, std::hash::BuildHasherDefault<AddressHasher>>;

thread_local! {
    /// Text already converted during the current lowering, by Python object. Names and
    /// data rows repeat (the same `"car"` object on every box), so each is converted
    /// once. The entry holds a reference, so the address cannot be reused meanwhile.
    static TEXTS: RefCell<ByAddress<(Py<PyAny>, Text)>> = RefCell::new(ByAddress::default());
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
    let text = text_of(value, issues)?;
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

/// A Python `str` as shared text, copied once (no `String` on the way); see
/// [`string_of`] for errors.
pub fn text_of(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Text> {
    match value.cast::<PyString>().map(PyStringMethods::to_str) {
        Ok(Ok(text)) => Ok(Text::from(text)),
        _ => string_of(value, issues).map(Text::from),
    }
}

/// Like [`opt_text`] without the memo, for text that rarely repeats (data rows).
pub fn opt_fresh_text(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<Text>> {
    if value.is_none() {
        Ok(None)
    } else {
        text_of(value, issues).map(Some)
    }
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

/// `[CustomMetric | {"name", "value"}]`, by the core's rules.
pub fn metrics(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<Vec<Metric>>> {
    lbfast_core::read::annotation::metrics(&crate::py_node::PyNode(value.clone()), issues)
}

/// A mask colour: one int, or three ints, by the core's rules.
pub fn color_of(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<MaskColor>> {
    lbfast_core::read::annotation::color_of(&crate::py_node::PyNode(value.clone()), issues)
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
