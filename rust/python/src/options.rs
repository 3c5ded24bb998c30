//! The one place where the keywords of the public calls become core [`Options`]:
//! each is checked, so that a bad one is an error naming it and its range rather
//! than `PyO3`'s bare `OverflowError`.

use lbfast_core::options::{Options, Scores};
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};

/// The most threads a call may ask for: far more than any machine has cores.
pub const MAX_THREADS: u64 = 1024;

/// `value` (`None`: not given) as an int in `min..=max`; a `TypeError` for a non-int
/// (bools included), a `ValueError` for an int out of range, both naming `name`.
fn int_in(name: &str, value: Option<&Bound<'_, PyAny>>, min: u64, max: u64) -> PyResult<Option<u64>> {
    let Some(value) = value.filter(|v| !v.is_none()) else { return Ok(None) };
    let range = format!("an int from {min} to {max}");
    let out_of_range = || {
        let shown = value.repr().map(|r| r.to_string()).unwrap_or_default();
        PyValueError::new_err(format!("{name} must be {range}, got {shown}"))
    };
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{name} must be {range}, got bool")));
    }
    match value.extract::<i64>() {
        Ok(v) => u64::try_from(v).ok().filter(|v| (min..=max).contains(v)).map(Some).ok_or_else(out_of_range),
        Err(err) if err.is_instance_of::<PyOverflowError>(value.py()) => Err(out_of_range()),
        Err(_) => {
            let got = value.get_type().name().map(|n| n.to_string()).unwrap_or_default();
            Err(PyTypeError::new_err(format!("{name} must be {range}, got {got}")))
        }
    }
}

/// `threads=`: how many threads a call uses, 1 to [`MAX_THREADS`].
pub fn threads(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<usize>> {
    Ok(int_in("threads", value, 1, MAX_THREADS)?.map(|t| t as usize))
}

/// A pixel cap such as `max_mask_pixels=`: at least one pixel.
pub fn pixel_cap(name: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    int_in(name, value, 1, i64::MAX as u64)
}

/// The keywords every validating or writing call of `_core` takes (`**options`),
/// besides its own: the one place their names and defaults are read.
const KEYWORDS: [&str; 5] = ["max_mask_pixels", "resolve_schema_ids", "required", "threads", "scores"];

/// The core options from a call's `**options`, each checked and named when bad; an
/// unknown keyword is a `TypeError`, as for any Python function.
pub fn read(keywords: Option<&Bound<'_, PyDict>>) -> PyResult<Options> {
    let mut options = Options::default();
    let Some(keywords) = keywords.filter(|k| !k.is_empty()) else { return Ok(options) };
    for (key, value) in keywords.iter() {
        // Keywords are always `str`; borrowed, not copied.
        let key = key.cast_into::<PyString>()?;
        let value = Some(&value).filter(|v| !v.is_none());
        match key.to_str()? {
            "max_mask_pixels" => {
                if let Some(limit) = pixel_cap("max_mask_pixels", value)? {
                    options.max_mask_pixels = limit;
                }
            }
            "threads" => options.threads = threads(value)?,
            "resolve_schema_ids" => options.resolve_schema_ids = flag("resolve_schema_ids", value, false)?,
            "required" => options.required = flag("required", value, true)?,
            "scores" => {
                if let Some(value) = value {
                    options.scores = scores(&value.extract::<String>()?)?;
                }
            }
            other => {
                return Err(PyTypeError::new_err(format!(
                    "unexpected keyword argument {other:?} (options are {})",
                    KEYWORDS.join(", ")
                )))
            }
        }
    }
    Ok(options)
}

/// A `True`/`False` option; `None` is its default.
fn flag(name: &str, value: Option<&Bound<'_, PyAny>>, default: bool) -> PyResult<bool> {
    match value {
        None => Ok(default),
        Some(v) => v
            .cast::<PyBool>()
            .map(pyo3::types::PyBoolMethods::is_true)
            .map_err(|_| PyTypeError::new_err(format!("{name} must be True or False"))),
    }
}

/// `scores=`: `"keep"` (write them), `"refuse"` (each one is a `not_for_project`
/// error) or `"strip"` (leave them out, with a `score_stripped` warning).
pub fn scores(value: &str) -> PyResult<Scores> {
    match value {
        "keep" => Ok(Scores::Keep),
        "refuse" => Ok(Scores::Refuse),
        "strip" => Ok(Scores::Strip),
        other => {
            Err(PyValueError::new_err(format!("scores must be 'keep', 'refuse' or 'strip', got {other:?}")))
        }
    }
}
