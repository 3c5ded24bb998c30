//! A metric's value as the SDK takes it, for typed metrics and NDJSON alike: a number
//! (scalar) or four counts (confusion matrix), or a dict of those by confidence.
//! Confidence keys may be numbers (Python) or, as NDJSON writes them, their text
//! (`"0.5"`). Ranges and shapes are the rules' to check ([`crate::rules::metrics`]).

use super::node::{Key, Node};
use crate::issues::Issues;
use crate::model::{MetricKind, MetricValue};

/// The kind a metric line's `metricValue` says: counts (a list, or lists by
/// confidence) or the `CONFUSION_MATRIX` aggregation make a confusion matrix.
pub fn kind_of<N: Node>(
    value: &N,
    aggregation: Option<&str>,
    issues: &mut Issues,
) -> Result<MetricKind, N::Error> {
    let counts = if value.is_dict() {
        let mut first = None;
        value.keyed_entries(issues, "a dict", &mut |_, v, _| {
            first.get_or_insert_with(|| v.is_list());
            Ok(())
        })?;
        first.unwrap_or(false)
    } else {
        value.is_list()
    };
    let counts = counts || aggregation == Some("CONFUSION_MATRIX");
    Ok(if counts { MetricKind::ConfusionMatrix } else { MetricKind::Scalar })
}

/// The value of a metric of `kind`, read at the current path.
pub fn metric_value<N: Node>(
    kind: MetricKind,
    value: &N,
    issues: &mut Issues,
) -> Result<MetricValue, N::Error> {
    if !value.is_dict() {
        return numbers_of(kind, value, issues).map(MetricValue::Single);
    }
    let mut out = Vec::new();
    value.keyed_entries(issues, "a dict", &mut |key, numbers, issues| {
        let i = out.len();
        let entry = issues.at_index(i, |issues| -> Result<(f64, Vec<f64>), N::Error> {
            Ok((confidence_of(value, key, issues)?, numbers_of(kind, &numbers, issues)?))
        })?;
        out.push(entry);
        Ok(())
    })?;
    Ok(MetricValue::ByConfidence(out))
}

fn numbers_of<N: Node>(kind: MetricKind, value: &N, issues: &mut Issues) -> Result<Vec<f64>, N::Error> {
    match kind {
        MetricKind::Scalar => Ok(vec![value.number(issues)?]),
        MetricKind::ConfusionMatrix => {
            let items = value.items(issues, "four counts (tp, fp, tn, fn)")?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(issues.at_index(i, |issues| item.number(issues))?);
            }
            Ok(out)
        }
    }
}

/// A confidence key of `dict`: a number, or the text of one.
fn confidence_of<N: Node>(dict: &N, key: Key<'_, N>, issues: &mut Issues) -> Result<f64, N::Error> {
    match key {
        Key::Value(number) => number.number(issues),
        Key::Text(text) => text
            .trim()
            .parse::<f64>()
            .map_err(|_| dict.refuse(issues, "expected a confidence (a number), got str".to_string())),
    }
}
