//! The one place where the keywords of the public calls become core [`Options`]:
//! each is checked, so that a bad one is an error naming it and its range rather
//! than `PyO3`'s bare `OverflowError`.

use lbfast_core::options::{Options, Scores};
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBool;

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

/// The core options from the keywords every validating or writing call takes,
/// each checked and named when bad.
pub fn read(
    max_mask_pixels: Option<&Bound<'_, PyAny>>,
    resolve_schema_ids: bool,
    required: bool,
    threads: Option<&Bound<'_, PyAny>>,
) -> PyResult<Options> {
    let mut options =
        Options { resolve_schema_ids, required, threads: self::threads(threads)?, ..Options::default() };
    if let Some(limit) = pixel_cap("max_mask_pixels", max_mask_pixels)? {
        options.max_mask_pixels = limit;
    }
    Ok(options)
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
