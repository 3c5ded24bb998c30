//! The one validator. It checks every annotation of a batch and reports every
//! problem with its row and field path; it also turns mask pixels into the binary
//! PNG the writer sends, since that is where a mask can turn out to be unusable.

use std::sync::Arc;

use crate::columnar::{
    AnswerColumn, BoxColumn, BoxFormat, ClassificationColumns, ColumnKind, Columns, GeometryColumn,
    ObjectColumns, Ragged,
};
use crate::issues::Issues;
use crate::mask;
use crate::model::{
    Annotation, Answer, BBox, Body, Classification, ClassificationValue, Corners, DataRow, Feature, Geometry,
    Mask, MaskColor, Object, Pt, Scores,
};
use crate::ndjson::bbox_of;

/// Which input form the paths in error messages should speak of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// The typed objects: `value.points[1].x`, `feature_schema_id`, `custom_metrics`.
    Typed,
    /// NDJSON-shaped dicts: `polygon[1].x`, `schemaId`, `customMetrics`.
    Dict,
}

impl Style {
    fn key(self, typed: &'static str, dict: &'static str) -> &'static str {
        match self {
            Style::Typed => typed,
            Style::Dict => dict,
        }
    }

    fn keys(self, typed: &'static [&'static str], dict: &'static [&'static str]) -> &'static [&'static str] {
        match self {
            Style::Typed => typed,
            Style::Dict => dict,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Largest mask (width × height) that will be decoded.
    pub max_mask_pixels: u64,
    /// Threads for checking and writing: `None` for all cores (rayon's global pool,
    /// sized by `RAYON_NUM_THREADS`), `Some(1)` for the calling thread only.
    pub threads: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_mask_pixels: mask::DEFAULT_MAX_PIXELS, threads: None }
    }
}

// --- Rules ------------------------------------------------------------------------
// Each rule says what is wrong with one value, or nothing; callers put the problem
// at the path of their input form. The happy path formats nothing.

/// A confidence must be a number within [0, 1].
#[inline]
pub fn confidence_problem(confidence: f64) -> Option<String> {
    if (0.0..=1.0).contains(&confidence) {
        None
    } else {
        Some(confidence_message(confidence))
    }
}

#[cold]
fn confidence_message(confidence: f64) -> String {
    format!("confidence must be a number within [0, 1], got {}", show(confidence))
}

/// A coordinate must be finite.
#[inline]
pub fn coordinate_problem(value: f64) -> Option<String> {
    if value.is_finite() {
        None
    } else {
        Some(coordinate_message(value))
    }
}

#[cold]
fn coordinate_message(value: f64) -> String {
    format!("coordinate must be finite, got {}", show(value))
}

/// A width or height must not be negative.
#[inline]
pub fn negative_problem(value: f64, what: &str) -> Option<String> {
    if value < 0.0 {
        Some(format!("{what} must not be negative, got {}", show(value)))
    } else {
        None
    }
}

/// A line needs 2 points, a polygon 3.
pub fn point_count_problem(count: usize, min: usize, what: &str) -> Option<String> {
    (count < min).then(|| format!("a {what} must have at least {min} points, got {count}"))
}

/// A box whose corners or extent are not finite, though every number it was given is:
/// huge values, or corners computed from them (`x + w`, normalised scaling).
pub fn bbox_overflow_problem(corners: &Corners) -> Option<String> {
    let all_finite = [corners.start.x, corners.start.y, corners.end.x, corners.end.y]
        .iter()
        .chain(bbox_of(&BBox::Corners(*corners)).iter())
        .all(|v| v.is_finite());
    (!all_finite).then(|| "box is too large: its corners, width or height overflow a float".to_string())
}

pub fn schema_id_problem(schema_id: &str) -> Option<String> {
    let len = schema_id.chars().count();
    (len != SCHEMA_ID_LEN)
        .then(|| format!("schema id must be {SCHEMA_ID_LEN} characters long, got {len} ({schema_id:?})"))
}

/// An index into a list of `len` (`what` of `list`).
#[inline]
pub fn index_problem(index: i64, len: usize, what: &str, list: &str) -> Option<String> {
    if index >= 0 && (index as u64) < len as u64 {
        None
    } else {
        Some(format!("{what} must be within [0, {len}) (an index into {list}), got {index}"))
    }
}

pub const SCHEMA_ID_LEN: usize = 25;

/// Checks the data row reference: exactly one non-empty id or global key.
pub fn check_data_row(data_row: &DataRow, issues: &mut Issues) {
    let id = data_row.id.as_deref().is_some_and(|s| !s.is_empty());
    let key = data_row.global_key.as_deref().is_some_and(|s| !s.is_empty());
    match (id, key) {
        (true, false) | (false, true) => {}
        (true, true) => issues.report("data row must have exactly one of id and global key, got both"),
        (false, false) => {
            issues.report("data row must have exactly one non-empty id or global key, got neither")
        }
    }
}

/// Checks one annotation; the caller has set the row and the path prefix.
/// The data row is checked separately ([`check_data_row`]), once per source of it.
pub fn check_annotation(annotation: &mut Annotation, style: Style, options: &Options, issues: &mut Issues) {
    match &mut annotation.body {
        Body::Object(object) => check_object(object, style, options, issues),
        Body::Classification(c) => check_classification(c, style, issues),
    }
}

fn check_object(o: &mut Object, style: Style, options: &Options, issues: &mut Issues) {
    check_feature(&o.feature, style, issues);
    check_scores(&o.scores, style, issues);
    check_geometry(&mut o.geometry, style, options, issues);
    check_classification_list(&o.classifications, style, issues);
}

fn check_feature(f: &Feature, style: Style, issues: &mut Issues) {
    if f.name.is_none() && f.schema_id.is_none() {
        issues.report(format!("must set either {} or name", style.key("feature_schema_id", "schemaId")));
    }
    if let Some(problem) = f.schema_id.as_deref().and_then(schema_id_problem) {
        issues.report_at(style.key("feature_schema_id", "schemaId"), problem);
    }
}

fn check_scores(s: &Scores, style: Style, issues: &mut Issues) {
    if let Some(problem) = s.confidence.and_then(confidence_problem) {
        issues.report_at("confidence", problem);
    }
    if let Some(metrics) = &s.custom_metrics {
        issues.at(style.key("custom_metrics", "customMetrics"), |issues| {
            for (i, m) in metrics.iter().enumerate() {
                if !m.value.is_finite() {
                    issues.at_index(i, |issues| {
                        issues
                            .report_at("value", format!("metric value must be finite, got {}", show(m.value)))
                    });
                }
            }
        });
    }
}

fn check_finite(value: f64, key: &'static str, issues: &mut Issues) {
    if let Some(problem) = coordinate_problem(value) {
        issues.report_at(key, problem);
    }
}

fn check_pt(p: &Pt, issues: &mut Issues) {
    check_finite(p.x, "x", issues);
    check_finite(p.y, "y", issues);
}

fn check_points(points: &[Pt], min: usize, what: &str, issues: &mut Issues) {
    if let Some(problem) = point_count_problem(points.len(), min, what) {
        issues.report(problem);
    }
    for (i, p) in points.iter().enumerate() {
        issues.at_index(i, |issues| check_pt(p, issues));
    }
}

fn check_geometry(g: &mut Geometry, style: Style, options: &Options, issues: &mut Issues) {
    match g {
        Geometry::Point(p) => {
            issues.at_keys(style.keys(&["value"], &["point"]), |issues| check_pt(p, issues))
        }
        Geometry::Line(points) => issues.at_keys(style.keys(&["value", "points"], &["line"]), |issues| {
            check_points(points, 2, "line", issues)
        }),
        Geometry::Polygon(points) => issues
            .at_keys(style.keys(&["value", "points"], &["polygon"]), |issues| {
                check_points(points, 3, "polygon", issues)
            }),
        Geometry::Bbox(bbox) => {
            issues.at_keys(style.keys(&["value"], &["bbox"]), |issues| check_bbox(bbox, issues))
        }
        Geometry::Mask(mask) => issues
            .at_keys(style.keys(&["value"], &["mask"]), |issues| check_mask(mask, style, options, issues)),
    }
}

fn check_bbox(bbox: &BBox, issues: &mut Issues) {
    match bbox {
        BBox::Corners(c) => {
            issues.at("start", |issues| check_pt(&c.start, issues));
            issues.at("end", |issues| check_pt(&c.end, issues));
            // Non-finite corners given as such are reported above, each by its field.
            let given_finite = [c.start.x, c.start.y, c.end.x, c.end.y].iter().all(|v| v.is_finite());
            if let Some(problem) = bbox_overflow_problem(c).filter(|_| given_finite) {
                issues.report(problem);
            }
        }
        BBox::TopLeftHeightWidth([top, left, height, width]) => {
            check_finite(*top, "top", issues);
            check_finite(*left, "left", issues);
            check_finite(*height, "height", issues);
            check_finite(*width, "width", issues);
            for (value, key) in [(*height, "height"), (*width, "width")] {
                if let Some(problem) = negative_problem(value, key) {
                    issues.report_at(key, problem);
                }
            }
        }
    }
}

fn check_color(color: &MaskColor, issues: &mut Issues) -> bool {
    let ok = match color {
        MaskColor::Gray(v) => (0..=255).contains(v),
        MaskColor::Rgb(rgb) => rgb.iter().all(|v| (0..=255).contains(v)),
    };
    if !ok {
        issues.report(format!("colour components must be between 0 and 255, got {}", show_color(color)));
    }
    ok
}

fn check_mask(m: &mut Mask, style: Style, options: &Options, issues: &mut Issues) {
    match m {
        Mask::Url { uri, color } => {
            issues.at(style.key("color", "colorRGB"), |issues| check_color(color, issues));
            if uri.is_empty() {
                issues.report_at(style.key("mask.url", "instanceURI"), "mask URL must not be empty");
            }
        }
        Mask::Png(bytes) => {
            if let Err(reason) = mask::check_png(bytes, options.max_mask_pixels) {
                issues.report_at("png", reason);
            }
        }
        // An empty reason was reported by the lowering already.
        Mask::Invalid(reason) if reason.is_empty() => {}
        Mask::Invalid(reason) => {
            let reason = std::mem::take(reason);
            issues.report_at(style.key("mask", "png"), reason);
        }
        Mask::Pixels { image, color } => {
            let color = *color;
            let ok = issues.at("color", |issues| check_color(&color, issues));
            if !ok {
                return;
            }
            match threshold(image, color) {
                Ok(png) => *m = Mask::Png(png),
                Err(reason) => issues.report_at("color", reason),
            }
        }
    }
}

/// The binary PNG of the pixels of `image` that equal `color`. A colour that does not
/// occur is an error: an empty mask is never what the caller meant.
fn threshold(image: &Arc<mask::Image>, color: MaskColor) -> Result<Vec<u8>, String> {
    let Some(bits) = crate::colors::instance_bits(image, color) else {
        return Err(format!(
            "colour {} does not occur in the {}x{} mask",
            show_color(&color),
            image.width,
            image.height
        ));
    };
    mask::encode_binary_png(image.width, image.height, &bits)
}

fn check_classification_list(list: &[Classification], style: Style, issues: &mut Issues) {
    if list.is_empty() {
        return;
    }
    issues.at("classifications", |issues| {
        for (i, c) in list.iter().enumerate() {
            issues.at_index(i, |issues| check_classification(c, style, issues));
        }
    });
}

fn check_classification(c: &Classification, style: Style, issues: &mut Issues) {
    check_feature(&c.feature, style, issues);
    let is_text = matches!(c.value, ClassificationValue::Text(_));
    if !is_text && c.scores.custom_metrics.as_ref().is_some_and(|m| !m.is_empty()) {
        issues.report_at(
            style.key("custom_metrics", "customMetrics"),
            "a radio or checklist question has no place for custom metrics; set them on its answers",
        );
    }
    check_scores(&c.scores, style, issues);
    // Typed objects hold the answer at `value.answer`, dicts at `answer`.
    let answer_keys = style.keys(&["value", "answer"], &["answer"]);
    match &c.value {
        ClassificationValue::Radio(answer) => {
            issues.at_keys(answer_keys, |issues| check_answer(answer, style, issues))
        }
        ClassificationValue::Checklist(answers) => issues.at_keys(answer_keys, |issues| {
            for (i, answer) in answers.iter().enumerate() {
                issues.at_index(i, |issues| check_answer(answer, style, issues));
            }
        }),
        ClassificationValue::Text(_) => {}
    }
    check_classification_list(&c.classifications, style, issues);
}

fn check_answer(a: &Answer, style: Style, issues: &mut Issues) {
    check_feature(&a.feature, style, issues);
    check_scores(&a.scores, style, issues);
    check_classification_list(&a.classifications, style, issues);
}

/// Python-style text for a float in messages (`nan`, `inf`, `1.5`).
fn show(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        value.to_string()
    }
}

fn show_color(color: &MaskColor) -> String {
    match color {
        MaskColor::Gray(v) => v.to_string(),
        MaskColor::Rgb([r, g, b]) => format!("({r}, {g}, {b})"),
    }
}

// --- Columns ------------------------------------------------------------------------
// A columnar batch occupies rows `first_row .. first_row + N` of its call: prediction
// `i` is row `first_row + i`, and paths name the array and the prediction's entries in
// it (`boxes[17][2]`, `class_ids[17]`, `coords[40:42]`). Problems of the batch as a
// whole (lengths, lists, offsets) are reported at its first row.

/// Reports `message` at `keys[index][sub]` of `row`.
#[cold]
fn report_cell(
    issues: &mut Issues,
    row: usize,
    keys: &[&'static str],
    index: usize,
    sub: Option<usize>,
    message: String,
) {
    let saved = issues.row();
    issues.set_row(row);
    for key in keys {
        issues.push_key(key);
    }
    issues.push_index(index);
    if let Some(sub) = sub {
        issues.push_index(sub);
    }
    issues.report(message);
    issues.set_row(saved);
}

#[cold]
fn report_owned(issues: &mut Issues, row: usize, key: String, message: String) {
    let saved = issues.row();
    issues.set_row(row);
    issues.push_owned_key(key);
    issues.report(message);
    issues.set_row(saved);
}

/// `key` must hold `expected` values (one per prediction) when given.
fn check_len<T>(values: Option<&[T]>, expected: usize, keys: &[&'static str], issues: &mut Issues) -> bool {
    match values {
        Some(v) if v.len() != expected => {
            issues.at_keys(keys, |issues| {
                issues.report(format!("expected {expected} values, one per prediction, got {}", v.len()))
            });
            false
        }
        _ => true,
    }
}

fn check_schema_ids(features: &[Feature], keys: &[&'static str], issues: &mut Issues) {
    for (k, f) in features.iter().enumerate() {
        if let Some(problem) = f.schema_id.as_deref().and_then(schema_id_problem) {
            issues.at_keys(keys, |issues| issues.at_index(k, |issues| issues.report(problem)));
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
            issues.report_at("question", problem);
        }
        check_schema_ids(answers, &["answers"], issues);
        if answers.is_empty() {
            issues.report_at("answers", "at least one answer is needed");
            return false;
        }
        true
    })
}

/// Offsets of `rows` ragged rows over `values` values: `rows + 1` of them, from 0,
/// not decreasing, to `values`.
fn check_offsets(offsets: &[i64], values: usize, key: &'static str, issues: &mut Issues) -> bool {
    let first_row = issues.row();
    let Some((&first, _)) = offsets.split_first() else {
        issues.report_at(
            key,
            "offsets must have one more entry than there are predictions, starting at 0; got none",
        );
        return false;
    };
    let mut ok = true;
    if first != 0 {
        report_cell(issues, first_row, &[key], 0, None, format!("offsets must start at 0, got {first}"));
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
            report_cell(issues, first_row + k - 1, &[key], k, None, message);
            ok = false;
        }
    }
    let last = offsets[offsets.len() - 1];
    if last < 0 || last as u64 != values as u64 {
        let row = first_row + offsets.len().saturating_sub(2);
        let message = format!("the last offset must be the number of coordinates, {values}, got {last}");
        report_cell(issues, row, &[key], offsets.len() - 1, None, message);
        ok = false;
    }
    ok
}

/// Checks what concerns a columnar batch as a whole, at its first row (the current
/// row of `issues`). Returns whether its predictions can be checked one by one.
pub fn check_columns(c: &Columns, issues: &mut Issues) -> bool {
    let n = c.len();
    let mut usable = true;
    for (k, data_row) in c.data_rows.iter().enumerate() {
        issues.at("data_rows", |issues| issues.at_index(k, |issues| check_data_row(data_row, issues)));
    }
    match &c.image_index {
        Some(ix) => usable &= check_len(Some(ix), n, &["image_index"], issues),
        None if c.data_rows.len() != n => {
            issues.report_at(
                "data_rows",
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
            issues.report_at("confidence", message);
            usable = false;
        }
        (ColumnKind::Classifications(ClassificationColumns { value: AnswerColumn::Checklist(_), .. }), _) => {
        }
        _ => usable &= check_len(c.confidence.as_deref(), n, &["confidence"], issues),
    }
    match &c.kind {
        ColumnKind::Objects(o) => {
            check_schema_ids(&o.features, &["features"], issues);
            if o.features.is_empty() {
                issues.report_at("features", "at least one feature is needed");
                usable = false;
            }
            match &o.class_ids {
                Some(ids) => usable &= check_len(Some(ids), n, &["class_ids"], issues),
                None if o.features.len() > 1 => {
                    issues.report_at(
                        "class_ids",
                        format!(
                            "class_ids is needed when there is more than one feature (got {})",
                            o.features.len()
                        ),
                    );
                    usable = false;
                }
                None => {}
            }
            match &o.geometry {
                GeometryColumn::Boxes(b) => usable &= check_image_sizes(b, c.data_rows.len(), issues),
                GeometryColumn::Points(_) => {}
                GeometryColumn::Lines(r) | GeometryColumn::Polygons(r) => {
                    usable &= check_offsets(&r.offsets, r.values.len(), "offsets", issues)
                }
            }
            if let Some(s) = &o.subclass {
                usable &= check_answers(&s.question, &s.answers, &["subclass"], issues);
                usable &= check_len(Some(&s.answer_ids), n, &["subclass", "answer_ids"], issues);
                usable &= check_len(s.confidence.as_deref(), n, &["subclass", "confidence"], issues);
            }
        }
        ColumnKind::Classifications(q) => {
            if !matches!(q.value, AnswerColumn::Text(_)) {
                usable &= check_answers(&q.question, &q.answers, &[], issues);
            } else if let Some(problem) = q.question.schema_id.as_deref().and_then(schema_id_problem) {
                issues.report_at("question", problem);
            }
            if let AnswerColumn::Checklist(r) = &q.value {
                usable &= check_offsets(&r.offsets, r.values.len(), "offsets", issues);
            }
        }
    }
    usable
}

fn check_image_sizes(b: &BoxColumn, data_rows: usize, issues: &mut Issues) -> bool {
    if !b.normalized {
        return true;
    }
    let Some(sizes) = &b.image_sizes else {
        issues
            .report_at("image_sizes", "normalized boxes need image_sizes, one (width, height) per data row");
        return false;
    };
    if sizes.len() != data_rows {
        issues.report_at(
            "image_sizes",
            format!("expected one (width, height) per data row ({data_rows}), got {}", sizes.len()),
        );
        return false;
    }
    let mut ok = true;
    for (k, size) in sizes.iter().enumerate() {
        for (j, &v) in size.iter().enumerate() {
            if !(v.is_finite() && v > 0.0) {
                let what = if j == 0 { "width" } else { "height" };
                let message = format!("image {what} must be a positive number, got {}", show(v));
                report_cell(issues, issues.row(), &["image_sizes"], k, Some(j), message);
                ok = false;
            }
        }
    }
    ok
}

/// Checks prediction `i` (row `row`) of a batch that passed [`check_columns`].
/// Returns whether it is good.
#[inline]
pub fn check_column_row(c: &Columns, i: usize, row: usize, issues: &mut Issues) -> bool {
    let mut ok = true;
    let mut image_ok = true;
    if let Some(ix) = &c.image_index {
        if let Some(problem) = index_problem(ix[i], c.data_rows.len(), "image index", "data_rows") {
            report_cell(issues, row, &["image_index"], i, None, problem);
            ok = false;
            image_ok = false;
        }
    }
    match &c.kind {
        ColumnKind::Objects(o) => {
            if let Some(ids) = &o.class_ids {
                if let Some(problem) = index_problem(ids[i], o.features.len(), "class id", "features") {
                    report_cell(issues, row, &["class_ids"], i, None, problem);
                    ok = false;
                }
            }
            ok &= check_row_confidence(c.confidence.as_deref(), i, row, &["confidence"], issues);
            ok &= check_row_geometry(c, o, i, row, image_ok, issues);
            if let Some(s) = &o.subclass {
                if let Some(problem) = index_problem(s.answer_ids[i], s.answers.len(), "answer id", "answers")
                {
                    report_cell(issues, row, &["subclass", "answer_ids"], i, None, problem);
                    ok = false;
                }
                ok &= check_row_confidence(
                    s.confidence.as_deref(),
                    i,
                    row,
                    &["subclass", "confidence"],
                    issues,
                );
            }
        }
        ColumnKind::Classifications(q) => match &q.value {
            AnswerColumn::Radio(ids) => {
                if let Some(problem) = index_problem(ids[i], q.answers.len(), "answer id", "answers") {
                    report_cell(issues, row, &["answer_ids"], i, None, problem);
                    ok = false;
                }
                ok &= check_row_confidence(c.confidence.as_deref(), i, row, &["confidence"], issues);
            }
            AnswerColumn::Checklist(r) => {
                for j in r.bounds(i) {
                    if let Some(problem) = index_problem(r.values[j], q.answers.len(), "answer id", "answers")
                    {
                        report_cell(issues, row, &["answer_ids"], j, None, problem);
                        ok = false;
                    }
                    ok &= check_row_confidence(c.confidence.as_deref(), j, row, &["confidence"], issues);
                }
            }
            AnswerColumn::Text(_) => {
                ok &= check_row_confidence(c.confidence.as_deref(), i, row, &["confidence"], issues);
            }
        },
    }
    ok
}

#[inline]
fn check_row_confidence(
    confidence: Option<&[f64]>,
    index: usize,
    row: usize,
    keys: &[&'static str],
    issues: &mut Issues,
) -> bool {
    match confidence.and_then(|c| confidence_problem(c[index])) {
        Some(problem) => {
            report_cell(issues, row, keys, index, None, problem);
            false
        }
        None => true,
    }
}

#[inline]
fn check_row_pt(p: &Pt, key: &'static str, index: usize, row: usize, issues: &mut Issues) -> bool {
    let mut ok = true;
    for (k, v) in [p.x, p.y].into_iter().enumerate() {
        if let Some(problem) = coordinate_problem(v) {
            report_cell(issues, row, &[key], index, Some(k), problem);
            ok = false;
        }
    }
    ok
}

#[inline]
fn check_row_geometry(
    c: &Columns,
    o: &ObjectColumns,
    i: usize,
    row: usize,
    image_ok: bool,
    issues: &mut Issues,
) -> bool {
    match &o.geometry {
        GeometryColumn::Boxes(b) => {
            let values = b.boxes[i];
            let mut ok = true;
            for (k, v) in values.into_iter().enumerate() {
                if let Some(problem) = coordinate_problem(v) {
                    report_cell(issues, row, &["boxes"], i, Some(k), problem);
                    ok = false;
                }
            }
            if b.format != BoxFormat::Xyxy {
                for (k, what) in [(2, "width"), (3, "height")] {
                    if let Some(problem) = negative_problem(values[k], what) {
                        report_cell(issues, row, &["boxes"], i, Some(k), problem);
                        ok = false;
                    }
                }
            }
            // Corners of finite numbers can still overflow (huge values, or scaling).
            if ok && image_ok {
                if let Some(problem) = bbox_overflow_problem(&c.corners(b, i)) {
                    report_cell(issues, row, &["boxes"], i, None, problem);
                    ok = false;
                }
            }
            ok
        }
        GeometryColumn::Points(points) => check_row_pt(&points[i], "points", i, row, issues),
        GeometryColumn::Lines(r) => check_row_points(r, i, row, 2, "line", issues),
        GeometryColumn::Polygons(r) => check_row_points(r, i, row, 3, "polygon", issues),
    }
}

#[inline]
fn check_row_points(
    r: &Ragged<Pt>,
    i: usize,
    row: usize,
    min: usize,
    what: &str,
    issues: &mut Issues,
) -> bool {
    let bounds = r.bounds(i);
    let mut ok = true;
    if let Some(problem) = point_count_problem(bounds.len(), min, what) {
        report_owned(issues, row, format!("coords[{}:{}]", bounds.start, bounds.end), problem);
        ok = false;
    }
    for j in bounds {
        ok &= check_row_pt(&r.values[j], "coords", j, row, issues);
    }
    ok
}
