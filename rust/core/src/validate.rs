//! The one validator. It checks every annotation of a batch and reports every
//! problem with its row and field path; it also turns mask pixels into the binary
//! PNG the writer sends, since that is where a mask can turn out to be unusable.

use std::sync::Arc;

use crate::issues::Issues;
use crate::mask;
use crate::model::{
    Annotation, Answer, BBox, Body, Classification, ClassificationValue, DataRow, Feature, Geometry, Mask,
    MaskColor, Object, Pt, Scores,
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
}

impl Default for Options {
    fn default() -> Self {
        Options { max_mask_pixels: mask::DEFAULT_MAX_PIXELS }
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
    if let Some(schema_id) = &f.schema_id {
        let len = schema_id.chars().count();
        if len != SCHEMA_ID_LEN {
            issues.report_at(
                style.key("feature_schema_id", "schemaId"),
                format!("schema id must be {SCHEMA_ID_LEN} characters long, got {len} ({schema_id:?})"),
            );
        }
    }
}

fn check_scores(s: &Scores, style: Style, issues: &mut Issues) {
    if let Some(confidence) = s.confidence {
        if !(0.0..=1.0).contains(&confidence) {
            issues.report_at(
                "confidence",
                format!("confidence must be a number within [0, 1], got {}", show(confidence)),
            );
        }
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
    if !value.is_finite() {
        issues.report_at(key, format!("coordinate must be finite, got {}", show(value)));
    }
}

fn check_pt(p: &Pt, issues: &mut Issues) {
    check_finite(p.x, "x", issues);
    check_finite(p.y, "y", issues);
}

fn check_points(points: &[Pt], min: usize, what: &str, issues: &mut Issues) {
    if points.len() < min {
        issues.report(format!("a {what} must have at least {min} points, got {}", points.len()));
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
            let corners_finite = [c.start.x, c.start.y, c.end.x, c.end.y].iter().all(|v| v.is_finite());
            if corners_finite && !bbox_of(bbox).iter().all(|v| v.is_finite()) {
                issues.report("box is too large: its width or height overflows a float");
            }
        }
        BBox::TopLeftHeightWidth([top, left, height, width]) => {
            check_finite(*top, "top", issues);
            check_finite(*left, "left", issues);
            check_finite(*height, "height", issues);
            check_finite(*width, "width", issues);
            for (value, key) in [(*height, "height"), (*width, "width")] {
                if value < 0.0 {
                    issues.report_at(key, format!("{key} must not be negative, got {}", show(value)));
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
