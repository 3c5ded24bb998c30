//! The rules applied to a columnar batch. Prediction `i` of a batch that starts at
//! row `first_row` is row `first_row + i`, and paths name the array and the
//! prediction's entries in it (`boxes[17][2]`, `class_ids[17]`, `coords[40:42]`).
//! Problems of the batch as a whole (lengths, lists, offsets) are reported at its
//! first row. The geometry rules are those of every entrance ([`super::geometry`]).

use std::ops::Range;

use crate::columnar::Confidences;
use crate::columnar::{
    AnswerColumn, BoxColumn, BoxFormat, ClassificationColumns, ColumnKind, Columns, GeometryColumn,
    MetricColumn, ObjectColumns, Ragged,
};
use crate::issues::{Code, Issues, Problem};
use crate::model::Feature;
use crate::rules::geometry::{check_box, check_point, check_vertices, BoxForm, Field, Places};
use crate::rules::values::{
    confidence_problem, image_extent_problem, index_problem, length_problem, metric_problem,
    schema_id_problem,
};

/// Reports `problem` at `keys[index][sub]` of the current row.
#[cold]
fn report_cell(
    issues: &mut Issues,
    keys: &[&'static str],
    index: usize,
    sub: Option<usize>,
    problem: Problem,
) {
    for key in keys {
        issues.push_key(key);
    }
    issues.push_index(index);
    if let Some(sub) = sub {
        issues.push_index(sub);
    }
    issues.report_problem(problem);
    for _ in 0..keys.len() + 1 + usize::from(sub.is_some()) {
        issues.pop();
    }
}

/// Reports `problem` at `keys[index]` of `row`, keeping the current row.
#[cold]
fn report_cell_of_row(
    issues: &mut Issues,
    row: usize,
    keys: &[&'static str],
    index: usize,
    problem: Problem,
) {
    let saved = issues.row();
    issues.set_row(row);
    report_cell(issues, keys, index, None, problem);
    issues.set_row(saved);
}

/// `keys` must hold `expected` values (one per prediction) when given.
fn check_len<T>(values: Option<&[T]>, expected: usize, keys: &[&'static str], issues: &mut Issues) -> bool {
    match values.and_then(|v| length_problem(v.len(), expected)) {
        Some(problem) => {
            issues.at_keys(keys, |issues| issues.report_problem(problem));
            false
        }
        None => true,
    }
}

fn check_schema_ids(features: &[Feature], keys: &[&'static str], issues: &mut Issues) {
    for (k, f) in features.iter().enumerate() {
        if let Some(problem) = f.schema_id.as_deref().and_then(schema_id_problem) {
            issues.at_keys(keys, |issues| issues.at_index(k, |issues| issues.report_problem(problem)));
        }
    }
}

fn check_answers(
    question: &Feature,
    answers: &[Feature],
    prefix: &[&'static str],
    issues: &mut Issues,
) -> bool {
    issues.at_keys(prefix, |issues| {
        if let Some(problem) = question.schema_id.as_deref().and_then(schema_id_problem) {
            issues.report_problem_at("question", problem);
        }
        check_schema_ids(answers, &["answers"], issues);
        if answers.is_empty() {
            issues.report_at("answers", Code::Missing, "at least one answer is needed");
            return false;
        }
        true
    })
}

/// Offsets of ragged rows over `values` values: one more than there are rows, from
/// 0, not decreasing, to `values`.
fn check_offsets(offsets: &[i64], values: usize, key: &'static str, issues: &mut Issues) -> bool {
    let first_row = issues.row();
    let Some((&first, _)) = offsets.split_first() else {
        issues.report_at(
            key,
            Code::Offsets,
            "offsets must have one more entry than there are predictions, starting at 0; got none",
        );
        return false;
    };
    let mut ok = true;
    if first != 0 {
        let problem = Problem::new(Code::Offsets, format!("offsets must start at 0, got {first}"));
        report_cell(issues, &[key], 0, None, problem);
        ok = false;
    }
    for k in 1..offsets.len() {
        if offsets[k] < offsets[k - 1] {
            let message = format!(
                "offsets must not decrease: offsets[{}] is {}, offsets[{k}] is {}",
                k - 1,
                offsets[k - 1],
                offsets[k]
            );
            report_cell_of_row(issues, first_row + k - 1, &[key], k, Problem::new(Code::Offsets, message));
            ok = false;
        }
    }
    let last = offsets[offsets.len() - 1];
    if last < 0 || last as u64 != values as u64 {
        let row = first_row + offsets.len().saturating_sub(2);
        let message = format!("the last offset must be the number of coordinates, {values}, got {last}");
        report_cell_of_row(issues, row, &[key], offsets.len() - 1, Problem::new(Code::Offsets, message));
        ok = false;
    }
    ok
}

/// The entries of a batch's `data_rows` and objects' `features` that have a problem
/// (each list empty when none has). Typed Labels and dicts name a data row and a
/// feature on every prediction, so such a problem is reported on every prediction
/// that uses the entry, at `data_rows[k]` / `features[k]`; an entry that no
/// prediction uses is reported once, at the batch's first row.
#[derive(Debug, Default)]
pub struct BadEntries {
    data_rows: Vec<Option<Problem>>,
    features: Vec<Option<Problem>>,
}

impl BadEntries {
    fn of(c: &Columns) -> Self {
        let mut bad = BadEntries::default();
        if !c.refused_data_rows.is_empty() {
            bad.data_rows = vec![None; c.data_rows.len()];
            for (k, problem) in &c.refused_data_rows {
                bad.data_rows[*k] = Some(problem.clone());
            }
        }
        if let ColumnKind::Objects(o) = &c.kind {
            let problems: Vec<_> =
                o.features.iter().map(|f| f.schema_id.as_deref().and_then(schema_id_problem)).collect();
            if problems.iter().any(Option::is_some) {
                bad.features = problems;
            }
        }
        bad
    }

    /// Reports, at the current row, the entries no prediction of `c` uses.
    #[cold]
    fn report_unused(&self, c: &Columns, issues: &mut Issues) {
        let mut used_rows = vec![false; self.data_rows.len()];
        let mut used_features = vec![false; self.features.len()];
        // Indices not checked yet: one out of range uses nothing (it has its own problem).
        let mark = |used: &mut [bool], k: i64| {
            if let Some(u) = usize::try_from(k).ok().and_then(|k| used.get_mut(k)) {
                *u = true;
            }
        };
        let class_ids = match &c.kind {
            ColumnKind::Objects(o) => o.class_ids.as_deref(),
            ColumnKind::Classifications(_) => None,
        };
        for i in 0..c.len() {
            mark(&mut used_rows, c.image_index.as_ref().map_or(i as i64, |ix| ix[i]));
            mark(&mut used_features, class_ids.map_or(0, |ids| ids[i]));
        }
        self.report(issues, |key, k| !(if key == "data_rows" { &used_rows } else { &used_features })[k]);
    }

    /// Reports, at the current row, the bad entries that `which(list, index)` picks.
    #[cold]
    fn report(&self, issues: &mut Issues, which: impl Fn(&'static str, usize) -> bool) {
        for (key, problems) in [("data_rows", &self.data_rows), ("features", &self.features)] {
            for (k, problem) in problems.iter().enumerate() {
                if let Some(problem) = problem.as_ref().filter(|_| which(key, k)) {
                    report_cell(issues, &[key], k, None, problem.clone());
                }
            }
        }
    }
}

/// Reports, at the current row, the problem of entry `k` of the list `key` if it has
/// one (see [`BadEntries`]); whether it has none.
fn entry_ok(problems: &[Option<Problem>], key: &'static str, k: usize, issues: &mut Issues) -> bool {
    match &problems[k] {
        Some(problem) => {
            report_cell(issues, &[key], k, None, problem.clone());
            false
        }
        None => true,
    }
}

/// Checks what concerns a columnar batch as a whole, at its first row (the current
/// row of `issues`). Returns the bad entries of its lists if its predictions can be
/// checked one by one.
pub fn check_columns(c: &Columns, issues: &mut Issues) -> Option<BadEntries> {
    let n = c.len();
    let mut usable = true;
    match &c.image_index {
        Some(ix) => usable &= check_len(Some(ix), n, &["image_index"], issues),
        None if c.data_rows.len() != n => {
            issues.report_at(
                "data_rows",
                Code::Length,
                format!(
                    "without image_index, data_rows must have one entry per prediction ({n}), got {}",
                    c.data_rows.len()
                ),
            );
            usable = false;
        }
        None => {}
    }
    // A checklist has a confidence per chosen answer, anything else one per prediction.
    match (&c.kind, &c.confidence) {
        (
            ColumnKind::Classifications(ClassificationColumns { value: AnswerColumn::Checklist(r), .. }),
            Some(v),
        ) if v.len() != r.values.len() => {
            let message = format!("expected {} values, one per answer id, got {}", r.values.len(), v.len());
            issues.report_at("confidence", Code::Length, message);
            usable = false;
        }
        (ColumnKind::Classifications(ClassificationColumns { value: AnswerColumn::Checklist(_), .. }), _) => {
        }
        _ => usable &= check_len(c.confidence.as_ref().map(|c| &c.values[..]), n, &["confidence"], issues),
    }
    match &c.kind {
        ColumnKind::Objects(o) => usable &= check_object_columns(o, c.data_rows.len(), n, issues),
        ColumnKind::Classifications(q) => {
            if !matches!(q.value, AnswerColumn::Text(_)) {
                usable &= check_answers(&q.question, &q.answers, &[], issues);
            } else if let Some(problem) = q.question.schema_id.as_deref().and_then(schema_id_problem) {
                issues.report_problem_at("question", problem);
            }
            if let AnswerColumn::Checklist(r) = &q.value {
                usable &= check_offsets(&r.offsets, r.values.len(), "offsets", issues);
            }
        }
    }
    let bad = BadEntries::of(c);
    if !usable {
        // Its predictions are not checked one by one: the bad entries are listed here.
        bad.report(issues, |_, _| true);
        return None;
    }
    if !bad.data_rows.is_empty() || !bad.features.is_empty() {
        bad.report_unused(c, issues);
    }
    Some(bad)
}

fn check_object_columns(o: &ObjectColumns, data_rows: usize, n: usize, issues: &mut Issues) -> bool {
    let mut usable = true;
    if o.features.is_empty() {
        issues.report_at("features", Code::Missing, "at least one feature is needed");
        usable = false;
    }
    match &o.class_ids {
        Some(ids) => usable &= check_len(Some(ids), n, &["class_ids"], issues),
        None if o.features.len() > 1 => {
            issues.report_at(
                "class_ids",
                Code::Missing,
                format!("class_ids is needed when there is more than one feature (got {})", o.features.len()),
            );
            usable = false;
        }
        None => {}
    }
    match &o.geometry {
        GeometryColumn::Boxes(b) => usable &= check_image_sizes(b, data_rows, issues),
        GeometryColumn::Points(_) => {}
        GeometryColumn::Lines(r) | GeometryColumn::Polygons(r) => {
            usable &= check_offsets(&r.offsets, r.values.len(), "offsets", issues);
        }
    }
    for (k, metric) in o.custom_metrics.iter().enumerate() {
        if let Some(problem) = length_problem(metric.values.len(), n) {
            issues.at_keys(&["custom_metrics"], |issues| {
                issues.at_index(k, |issues| issues.report_problem(problem));
            });
            usable = false;
        }
    }
    if let Some(s) = &o.subclass {
        usable &= check_answers(&s.question, &s.answers, &["subclass"], issues);
        usable &= check_len(Some(&s.answer_ids), n, &["subclass", "answer_ids"], issues);
        usable &=
            check_len(s.confidence.as_ref().map(|c| &c.values[..]), n, &["subclass", "confidence"], issues);
    }
    usable
}

fn check_image_sizes(b: &BoxColumn, data_rows: usize, issues: &mut Issues) -> bool {
    if !b.normalized {
        return true;
    }
    let Some(sizes) = &b.image_sizes else {
        issues.report_at(
            "image_sizes",
            Code::Missing,
            "normalized boxes need image_sizes, one (width, height) per data row",
        );
        return false;
    };
    if sizes.len() != data_rows {
        issues.report_at(
            "image_sizes",
            Code::Length,
            format!("expected one (width, height) per data row ({data_rows}), got {}", sizes.len()),
        );
        return false;
    }
    let mut ok = true;
    for (k, size) in sizes.iter().enumerate() {
        for (j, &v) in size.iter().enumerate() {
            if let Some(problem) = image_extent_problem(v, if j == 0 { "width" } else { "height" }) {
                report_cell(issues, &["image_sizes"], k, Some(j), problem);
                ok = false;
            }
        }
    }
    ok
}

/// The places of prediction `i`'s geometry: `boxes[i][k]`, `points[i][axis]`,
/// `coords[j][axis]` (`j` counted over the whole coordinate array), `coords[a:b]`.
struct ColumnPlaces {
    i: usize,
    /// The prediction's coordinates, for lines and polygons.
    coords: Range<usize>,
}

impl Places for ColumnPlaces {
    fn enter(&self, field: Field, issues: &mut Issues) -> usize {
        match field {
            Field::Box => {
                issues.push_key("boxes");
                issues.push_index(self.i);
                2
            }
            Field::BoxValue(k) => {
                issues.push_key("boxes");
                issues.push_index(self.i);
                issues.push_index(k);
                3
            }
            Field::Point(axis) => {
                issues.push_key("points");
                issues.push_index(self.i);
                issues.push_index(axis);
                3
            }
            Field::Vertex(j, axis) => {
                issues.push_key("coords");
                issues.push_index(self.coords.start + j);
                issues.push_index(axis);
                3
            }
            Field::Vertices => {
                issues.push_owned_key(format!("coords[{}:{}]", self.coords.start, self.coords.end));
                1
            }
        }
    }
}

fn box_form(format: BoxFormat) -> BoxForm {
    match format {
        BoxFormat::Xyxy => BoxForm::Corners,
        BoxFormat::Xywh => BoxForm::Xywh,
        BoxFormat::Cxcywh => BoxForm::Cxcywh,
    }
}

/// Checks prediction `i` of a batch that passed [`check_columns`]; the current row
/// of `issues` is its row. Returns whether it is good.
#[inline]
pub fn check_column_row(c: &Columns, i: usize, bad: &BadEntries, issues: &mut Issues) -> bool {
    let mut ok = true;
    let mut image_ok = true;
    if let Some(ix) = &c.image_index {
        if let Some(problem) = index_problem(ix[i], c.data_rows.len(), "image index", "data_rows") {
            report_cell(issues, &["image_index"], i, None, problem);
            ok = false;
            image_ok = false;
        }
    }
    if image_ok && !bad.data_rows.is_empty() {
        ok &= entry_ok(&bad.data_rows, "data_rows", c.data_row_of(i), issues);
    }
    match &c.kind {
        ColumnKind::Objects(o) => {
            let mut feature_ok = true;
            if let Some(ids) = &o.class_ids {
                if let Some(problem) = index_problem(ids[i], o.features.len(), "class id", "features") {
                    report_cell(issues, &["class_ids"], i, None, problem);
                    ok = false;
                    feature_ok = false;
                }
            }
            if feature_ok && !bad.features.is_empty() {
                ok &= entry_ok(&bad.features, "features", c.feature_of(i), issues);
            }
            ok &= check_row_confidence(c.confidence.as_ref(), i, &["confidence"], issues);
            ok &= check_row_metrics(&o.custom_metrics, i, issues);
            ok &= check_row_geometry(c, o, i, image_ok, issues);
            if let Some(s) = &o.subclass {
                ok &= check_row_answer(
                    s.answer_ids[i],
                    s.answers.len(),
                    i,
                    &["subclass", "answer_ids"],
                    issues,
                );
                ok &= check_row_confidence(s.confidence.as_ref(), i, &["subclass", "confidence"], issues);
            }
        }
        ColumnKind::Classifications(q) => match &q.value {
            AnswerColumn::Radio(ids) => {
                ok &= check_row_answer(ids[i], q.answers.len(), i, &["answer_ids"], issues);
                ok &= check_row_confidence(c.confidence.as_ref(), i, &["confidence"], issues);
            }
            AnswerColumn::Checklist(r) => {
                for j in r.bounds(i) {
                    ok &= check_row_answer(r.values[j], q.answers.len(), j, &["answer_ids"], issues);
                    ok &= check_row_confidence(c.confidence.as_ref(), j, &["confidence"], issues);
                }
            }
            AnswerColumn::Text(_) => {
                ok &= check_row_confidence(c.confidence.as_ref(), i, &["confidence"], issues);
            }
        },
    }
    ok
}

#[inline]
fn check_row_answer(
    id: i64,
    answers: usize,
    index: usize,
    keys: &[&'static str],
    issues: &mut Issues,
) -> bool {
    match index_problem(id, answers, "answer id", "answers") {
        Some(problem) => {
            report_cell(issues, keys, index, None, problem);
            false
        }
        None => true,
    }
}

/// Each present custom metric value of prediction `i`, at `custom_metrics[i][k]`.
#[inline]
fn check_row_metrics(metrics: &[MetricColumn], i: usize, issues: &mut Issues) -> bool {
    let mut ok = true;
    for (k, metric) in metrics.iter().enumerate() {
        if let Some(problem) = metric.values.get(i).and_then(metric_problem) {
            report_cell(issues, &["custom_metrics"], i, Some(k), problem);
            ok = false;
        }
    }
    ok
}

#[inline]
fn check_row_confidence(
    confidence: Option<&Confidences>,
    index: usize,
    keys: &[&'static str],
    issues: &mut Issues,
) -> bool {
    match confidence.and_then(|c| c.get(index)).and_then(confidence_problem) {
        Some(problem) => {
            report_cell(issues, keys, index, None, problem);
            false
        }
        None => true,
    }
}

#[inline]
fn check_row_geometry(c: &Columns, o: &ObjectColumns, i: usize, image_ok: bool, issues: &mut Issues) -> bool {
    let places = |coords| ColumnPlaces { i, coords };
    match &o.geometry {
        GeometryColumn::Boxes(b) => {
            // Corners of normalised boxes need the image, known when its index is good.
            let corners = || image_ok.then(|| c.corners(b, i));
            check_box(b.boxes[i], box_form(b.format), corners, &places(0..0), issues)
        }
        GeometryColumn::Points(points) => check_point(points[i], &places(0..0), issues),
        GeometryColumn::Lines(r) => check_ragged(r, i, 2, "line", issues),
        GeometryColumn::Polygons(r) => check_ragged(r, i, 3, "polygon", issues),
    }
}

#[inline]
fn check_ragged(r: &Ragged<crate::model::Pt>, i: usize, min: usize, what: &str, issues: &mut Issues) -> bool {
    let bounds = r.bounds(i);
    check_vertices(&r.values[bounds.clone()], min, what, &ColumnPlaces { i, coords: bounds }, issues)
}
