//! The rules on single values. Each says what is wrong with one value, or nothing;
//! callers place the problem at the path of their input form. The happy path formats
//! nothing.

use crate::issues::{Code, Problem};
use crate::model::{BBox, Corners, MaskColor};
use crate::ndjson::bbox_of;

/// Length of a Labelbox feature schema id (a cuid).
pub const SCHEMA_ID_LEN: usize = 25;

/// A confidence must be a number within [0, 1].
#[inline]
pub fn confidence_problem(confidence: f64) -> Option<Problem> {
    if (0.0..=1.0).contains(&confidence) {
        None
    } else {
        Some(confidence_message(confidence))
    }
}

#[cold]
fn confidence_message(confidence: f64) -> Problem {
    Problem::new(
        Code::Confidence,
        format!("confidence must be a number within [0, 1], got {}", show(confidence)),
    )
}

/// A coordinate must be finite.
#[inline]
pub fn coordinate_problem(value: f64) -> Option<Problem> {
    if value.is_finite() {
        None
    } else {
        Some(coordinate_message(value))
    }
}

#[cold]
fn coordinate_message(value: f64) -> Problem {
    Problem::new(Code::NotFinite, format!("coordinate must be finite, got {}", show(value)))
}

/// A metric value must be finite.
pub fn metric_problem(value: f64) -> Option<Problem> {
    (!value.is_finite())
        .then(|| Problem::new(Code::NotFinite, format!("metric value must be finite, got {}", show(value))))
}

/// A width or height must not be negative.
#[inline]
pub fn negative_problem(value: f64, what: &str) -> Option<Problem> {
    if value < 0.0 {
        Some(Problem::new(Code::NegativeExtent, format!("{what} must not be negative, got {}", show(value))))
    } else {
        None
    }
}

/// An array given per prediction must have one value per prediction.
pub fn length_problem(len: usize, expected: usize) -> Option<Problem> {
    (len != expected).then(|| {
        Problem::new(Code::Length, format!("expected {expected} values, one per prediction, got {len}"))
    })
}

/// A line needs 2 points, a polygon 3.
pub fn point_count_problem(count: usize, min: usize, what: &str) -> Option<Problem> {
    (count < min).then(|| {
        Problem::new(Code::TooFewPoints, format!("a {what} must have at least {min} points, got {count}"))
    })
}

/// A box whose corners or extent are not finite, though every number it was given is:
/// huge values, or corners computed from them (`x + w`, normalised scaling).
pub fn bbox_overflow_problem(corners: &Corners) -> Option<Problem> {
    let all_finite = [corners.start.x, corners.start.y, corners.end.x, corners.end.y]
        .iter()
        .chain(bbox_of(&BBox::Corners(*corners)).iter())
        .all(|v| v.is_finite());
    (!all_finite).then(|| {
        Problem::new(Code::BoxOverflow, "box is too large: its corners, width or height overflow a float")
    })
}

/// A feature schema id must be [`SCHEMA_ID_LEN`] characters long.
pub fn schema_id_problem(schema_id: &str) -> Option<Problem> {
    let len = schema_id.chars().count();
    (len != SCHEMA_ID_LEN).then(|| {
        Problem::new(
            Code::SchemaId,
            format!("schema id must be {SCHEMA_ID_LEN} characters long, got {len} ({schema_id:?})"),
        )
    })
}

/// An index into a list of `len` (`what` of `list`).
#[inline]
pub fn index_problem(index: i64, len: usize, what: &str, list: &str) -> Option<Problem> {
    if index >= 0 && (index as u64) < len as u64 {
        None
    } else {
        Some(index_message(index, len, what, list))
    }
}

#[cold]
fn index_message(index: i64, len: usize, what: &str, list: &str) -> Problem {
    Problem::new(Code::Index, format!("{what} must be within [0, {len}) (an index into {list}), got {index}"))
}

/// A mask colour's components must be within 0..=255.
pub fn color_problem(color: &MaskColor) -> Option<Problem> {
    let ok = color.rgb().iter().all(|v| (0..=255).contains(v));
    (!ok).then(|| {
        Problem::new(
            Code::MaskColor,
            format!("colour components must be between 0 and 255, got {}", show_color(color)),
        )
    })
}

/// An image width or height must be a positive number.
pub fn image_extent_problem(value: f64, what: &str) -> Option<Problem> {
    (!(value.is_finite() && value > 0.0)).then(|| {
        Problem::new(Code::ImageSize, format!("image {what} must be a positive number, got {}", show(value)))
    })
}

/// Python-style text for a float in messages (`NaN`, `Infinity`, `1.5`).
pub fn show(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        value.to_string()
    }
}

/// A colour as the caller wrote it: `7` or `(r, g, b)`.
pub fn show_color(color: &MaskColor) -> String {
    match color {
        MaskColor::Gray(v) => v.to_string(),
        MaskColor::Rgb([r, g, b]) => format!("({r}, {g}, {b})"),
    }
}
