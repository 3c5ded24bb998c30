//! A metric's value as the SDK takes it, for typed metrics and dicts alike: a number
//! (scalar) or four counts (confusion matrix), or a dict of those by confidence.
//! Confidence keys may be numbers or, as NDJSON writes them, their text (`"0.5"`).
//! Ranges and shapes are the rules' to check ([`lbfast_core::rules::metrics`]).

use lbfast_core::issues::Issues;
use lbfast_core::model::{MetricKind, MetricValue};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::extract::{f64_of, sequence, type_error};

pub fn metric_value_of(
    kind: MetricKind,
    value: &Bound<'_, PyAny>,
    issues: &mut Issues,
) -> PyResult<MetricValue> {
    let Ok(dict) = value.cast::<PyDict>() else {
        return numbers_of(kind, value, issues).map(MetricValue::Single);
    };
    let mut out = Vec::with_capacity(dict.len());
    for (i, (key, numbers)) in dict.iter().enumerate() {
        let entry = issues.at_index(i, |issues| -> PyResult<(f64, Vec<f64>)> {
            Ok((confidence_of(&key, issues)?, numbers_of(kind, &numbers, issues)?))
        })?;
        out.push(entry);
    }
    Ok(MetricValue::ByConfidence(out))
}

fn numbers_of(kind: MetricKind, value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Vec<f64>> {
    match kind {
        MetricKind::Scalar => Ok(vec![f64_of(value, issues)?]),
        MetricKind::ConfusionMatrix => {
            let items = sequence(value, issues, "four counts (tp, fp, tn, fn)")?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(issues.at_index(i, |issues| f64_of(item, issues))?);
            }
            Ok(out)
        }
    }
}

/// A confidence key: a number, or the text of one.
fn confidence_of(key: &Bound<'_, PyAny>, issues: &Issues) -> PyResult<f64> {
    match key.cast::<PyString>() {
        Ok(text) => {
            let text = text.to_str()?;
            text.trim().parse::<f64>().map_err(|_| type_error(issues, "a confidence (a number)", key))
        }
        Err(_) => f64_of(key, issues),
    }
}
