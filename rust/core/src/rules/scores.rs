//! What a project import (model-assisted labelling, label import) does not take from a
//! prediction: its scores, that is confidence and custom metrics, wherever they sit
//! (objects, questions, answers, texts, at any depth, and the score columns of a
//! columnar batch). A model run takes them all. [`Options::scores`] says whether a
//! score is written ([`Scores::Keep`]), refused ([`Scores::Refuse`]: `not_for_project`)
//! or left out with a warning ([`Scores::Strip`]: `score_stripped`).
//!
//! Metric lines (`ScalarMetric`, `ConfusionMatrixMetric`) are scores as a whole: a
//! project import refuses each one or leaves the line out ([`metric_line`]; the
//! batch drops stripped lines once checked).
//!
//! [`Options::scores`]: crate::options::Options::scores

use crate::columnar::{ColumnKind, Columns};
use crate::issues::{Code, Issues, Severity};
use crate::options::Scores;
use crate::rules::Style;

/// What a project import refuses and how to get past it.
const REFUSED: &str = "a project import (model-assisted labelling, label import) does not take";
const SUGGESTION: &str = "upload it to a model run instead, or leave the scores out (strip_scores=True)";

/// Applies `policy` to the scores of one place of an annotation (an object, a
/// question, an answer, a text); the caller has set the row and the path to it.
pub fn annotation_scores(
    scores: &mut crate::model::Scores,
    style: Style,
    policy: Scores,
    issues: &mut Issues,
) {
    if policy == Scores::Keep {
        return;
    }
    score(&mut scores.confidence, &["confidence"], "confidence", policy, issues);
    let metrics = [style.key("custom_metrics", "customMetrics")];
    score(&mut scores.custom_metrics, &metrics, "custom metrics", policy, issues);
}

/// Applies `policy` to a metric line, at the current path (the line). With
/// [`Scores::Strip`] the batch leaves the line out ([`is_stripped`]).
pub fn metric_line(policy: Scores, issues: &mut Issues) {
    apply(policy, "a metric line", issues);
}

/// Whether a line is left out of what `policy` writes.
pub fn is_stripped(body: &crate::model::Body, policy: Scores) -> bool {
    policy == Scores::Strip && matches!(body, crate::model::Body::Metric(_))
}

/// Applies `policy` to the score columns of a columnar batch (one problem per column,
/// at the batch's first row); the caller has set that row.
pub fn column_scores(columns: &mut Columns, policy: Scores, issues: &mut Issues) {
    if policy == Scores::Keep {
        return;
    }
    score(&mut columns.confidence, &["confidence"], "confidence", policy, issues);
    if let ColumnKind::Objects(objects) = &mut columns.kind {
        let mut metrics = (!objects.custom_metrics.is_empty()).then_some(());
        score(&mut metrics, &["custom_metrics"], "custom metrics", policy, issues);
        if metrics.is_none() {
            objects.custom_metrics.clear();
        }
        if let Some(subclass) = objects.subclass.as_mut() {
            let keys = ["subclass", "confidence"];
            score(&mut subclass.confidence, &keys, "confidence", policy, issues);
        }
    }
}

/// One score, if given, at `keys`: reported, and with [`Scores::Strip`] taken out.
fn score<T>(value: &mut Option<T>, keys: &[&'static str], what: &str, policy: Scores, issues: &mut Issues) {
    if value.is_none() {
        return;
    }
    issues.at_keys(keys, |issues| apply(policy, what, issues));
    if policy == Scores::Strip {
        *value = None;
    }
}

fn apply(policy: Scores, what: &str, issues: &mut Issues) {
    match policy {
        Scores::Keep => {}
        Scores::Refuse => issues.record(
            Code::NotForProject,
            Severity::Error,
            format!("{REFUSED} {what}"),
            Some(SUGGESTION.to_string()),
        ),
        Scores::Strip => issues.record(
            Code::ScoreStripped,
            Severity::Warning,
            format!("{what} left out: {REFUSED} it"),
            None,
        ),
    }
}
