//! The rules of a metric line, as the SDK states them: a scalar within [0, 1e8], a
//! confusion matrix of four whole counts within [0, 1e10], per-confidence values for
//! 2 to 15 confidences within [0, 1], a metric name that a confusion matrix needs
//! and a scalar must not take from the reserved ones, and an aggregation of its kind.

use crate::issues::{Code, Issues, Problem};
use crate::model::{MetricKind, MetricLine, MetricValue};
use crate::rules::values::{confidence_problem, show};
use crate::rules::Style;

/// Largest scalar metric value.
pub const MAX_SCALAR: f64 = 100_000_000.0;
/// Largest confusion matrix count.
pub const MAX_COUNT: f64 = 10_000_000_000.0;
/// How many confidences per-confidence values must have.
pub const CONFIDENCES: std::ops::RangeInclusive<usize> = 2..=15;
/// Scalar metric names Labelbox computes itself.
pub const RESERVED_NAMES: [&str; 8] = [
    "true_positive_count",
    "false_positive_count",
    "true_negative_count",
    "false_negative_count",
    "precision",
    "recall",
    "f1",
    "iou",
];

/// Checks one metric line; the caller has set the row and the path prefix.
pub fn check_metric(m: &MetricLine, style: Style, issues: &mut Issues) {
    issues.at(style.key("value", "metricValue"), |issues| match &m.value {
        MetricValue::Single(numbers) => check_numbers(m.kind, numbers, issues),
        MetricValue::ByConfidence(values) => {
            if !CONFIDENCES.contains(&values.len()) {
                issues.report(
                    Code::MetricShape,
                    format!(
                        "per-confidence values need {} to {} confidences, got {}",
                        CONFIDENCES.start(),
                        CONFIDENCES.end(),
                        values.len()
                    ),
                );
            }
            for (i, (confidence, numbers)) in values.iter().enumerate() {
                issues.at_index(i, |issues| {
                    if let Some(problem) = confidence_problem(*confidence) {
                        issues.report_problem(problem);
                    }
                    if values[..i].iter().any(|(c, _)| c == confidence) {
                        let message = format!("confidence {} is given twice", show(*confidence));
                        issues.report(Code::MetricShape, message);
                    }
                    check_numbers(m.kind, numbers, issues);
                });
            }
        }
    });
    let name_key = style.key("metric_name", "metricName");
    match (m.kind, m.metric_name.as_deref()) {
        (MetricKind::ConfusionMatrix, None) => {
            issues.report_at(name_key, Code::MetricName, "a confusion matrix metric needs a metric name");
        }
        (MetricKind::Scalar, Some(name)) => {
            let clean = name.trim().to_lowercase();
            if RESERVED_NAMES.contains(&clean.as_str()) {
                let message =
                    format!("'{clean}' is a reserved metric name (Labelbox computes it); choose another");
                issues.report_at(name_key, Code::MetricName, message);
            }
        }
        _ => {}
    }
    if let Some(aggregation) = m.aggregation.as_deref() {
        let allowed = m.kind.aggregations();
        if !allowed.contains(&aggregation) {
            let message = format!("aggregation must be one of {}, got {aggregation:?}", allowed.join(", "));
            issues.report_at("aggregation", Code::Aggregation, message);
        }
    }
}

/// One value: a number for a scalar, four counts for a confusion matrix.
fn check_numbers(kind: MetricKind, numbers: &[f64], issues: &mut Issues) {
    match kind {
        MetricKind::Scalar => {
            for &value in numbers {
                if let Some(problem) = scalar_problem(value) {
                    issues.report_problem(problem);
                }
            }
        }
        MetricKind::ConfusionMatrix => {
            if numbers.len() != 4 {
                let message = format!(
                    "a confusion matrix is 4 counts (true positives, false positives, true negatives, false negatives), got {}",
                    numbers.len()
                );
                issues.report(Code::MetricShape, message);
                return;
            }
            for (i, &count) in numbers.iter().enumerate() {
                if let Some(problem) = count_problem(count) {
                    issues.at_index(i, |issues| issues.report_problem(problem));
                }
            }
        }
    }
}

/// A scalar metric value must be a finite number within [0, 1e8].
pub fn scalar_problem(value: f64) -> Option<Problem> {
    if !value.is_finite() {
        return Some(Problem::new(
            Code::NotFinite,
            format!("metric value must be finite, got {}", show(value)),
        ));
    }
    (!(0.0..=MAX_SCALAR).contains(&value)).then(|| {
        Problem::new(
            Code::MetricValue,
            format!("a scalar metric must be within [0, 1e8], got {}", show(value)),
        )
    })
}

/// A confusion matrix count must be a whole number within [0, 1e10].
pub fn count_problem(count: f64) -> Option<Problem> {
    if !count.is_finite() {
        return Some(Problem::new(Code::NotFinite, format!("a count must be finite, got {}", show(count))));
    }
    (count.fract() != 0.0 || !(0.0..=MAX_COUNT).contains(&count)).then(|| {
        Problem::new(
            Code::MetricValue,
            format!("a count must be a whole number within [0, 1e10], got {}", show(count)),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(kind: MetricKind, value: MetricValue) -> MetricLine {
        MetricLine {
            kind,
            value,
            metric_name: Some("m".into()),
            feature_name: None,
            subclass_name: None,
            aggregation: None,
        }
    }

    fn codes(m: &MetricLine, style: Style) -> Vec<(String, &'static str)> {
        let mut issues = Issues::new();
        check_metric(m, style, &mut issues);
        issues.into_vec().into_iter().map(|i| (i.path, i.code.as_str())).collect()
    }

    #[test]
    fn values_in_range_pass() {
        let scalar = line(MetricKind::Scalar, MetricValue::Single(vec![1e8]));
        assert!(codes(&scalar, Style::Dict).is_empty());
        let by = MetricValue::ByConfidence(vec![(0.0, vec![0.0, 1.0, 2.0, 1e10]), (1.0, vec![0.0; 4])]);
        assert!(codes(&line(MetricKind::ConfusionMatrix, by), Style::Typed).is_empty());
    }

    #[test]
    fn ranges_shapes_names_and_aggregations_are_problems_with_codes() {
        let scalar = line(MetricKind::Scalar, MetricValue::Single(vec![-1.0]));
        assert_eq!(codes(&scalar, Style::Dict), [("metricValue".to_string(), "metric_value")]);
        let nan = line(MetricKind::Scalar, MetricValue::Single(vec![f64::NAN]));
        assert_eq!(codes(&nan, Style::Typed), [("value".to_string(), "not_finite")]);
        let short = line(MetricKind::ConfusionMatrix, MetricValue::Single(vec![1.0, 2.0, 3.0]));
        assert_eq!(codes(&short, Style::Dict), [("metricValue".to_string(), "metric_shape")]);
        let counts = line(MetricKind::ConfusionMatrix, MetricValue::Single(vec![1.0, 2.5, -1.0, 2e10]));
        assert_eq!(
            codes(&counts, Style::Dict),
            [
                ("metricValue[1]".to_string(), "metric_value"),
                ("metricValue[2]".to_string(), "metric_value"),
                ("metricValue[3]".to_string(), "metric_value"),
            ]
        );
        let one = line(MetricKind::Scalar, MetricValue::ByConfidence(vec![(1.5, vec![1.0])]));
        assert_eq!(
            codes(&one, Style::Typed),
            [("value".to_string(), "metric_shape"), ("value[0]".to_string(), "confidence")]
        );
        let twice =
            line(MetricKind::Scalar, MetricValue::ByConfidence(vec![(0.5, vec![1.0]), (0.5, vec![2.0])]));
        assert_eq!(codes(&twice, Style::Dict), [("metricValue[1]".to_string(), "metric_shape")]);
        let mut reserved = line(MetricKind::Scalar, MetricValue::Single(vec![0.5]));
        reserved.metric_name = Some(" IoU ".into());
        reserved.aggregation = Some("CONFUSION_MATRIX".into());
        assert_eq!(
            codes(&reserved, Style::Typed),
            [("metric_name".to_string(), "metric_name"), ("aggregation".to_string(), "aggregation")]
        );
        let mut unnamed = line(MetricKind::ConfusionMatrix, MetricValue::Single(vec![0.0; 4]));
        unnamed.metric_name = None;
        assert_eq!(codes(&unnamed, Style::Dict), [("metricName".to_string(), "metric_name")]);
    }
}
