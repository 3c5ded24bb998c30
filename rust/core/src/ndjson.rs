//! The one NDJSON writer. It writes validated annotations only (see
//! [`crate::validate`]), in the key order of the official SDK, with compact separators.

use base64::Engine as _;

use crate::json::{push_f64, push_i64, push_str};
use crate::model::{
    Annotation, AnnotationId, Answer, BBox, Body, Classification, ClassificationValue, DataRow, Feature,
    Geometry, Mask, MaskColor, Metric, Object, Pt, Scores,
};

/// Top/left/height/width of a box; corners may come in any order.
pub fn bbox_of(b: &BBox) -> [f64; 4] {
    match b {
        BBox::Corners(c) => [
            c.start.y.min(c.end.y),
            c.start.x.min(c.end.x),
            (c.end.y - c.start.y).abs(),
            (c.end.x - c.start.x).abs(),
        ],
        BBox::TopLeftHeightWidth(tlhw) => *tlhw,
    }
}

/// Whether a polygon ring must be closed by repeating its first point.
pub fn needs_closing(points: &[Pt]) -> bool {
    match (points.first(), points.last()) {
        (Some(first), Some(last)) => first != last,
        _ => false,
    }
}

/// Appends one annotation as a JSON object followed by `\n`.
pub fn write_line(out: &mut Vec<u8>, annotation: &Annotation) {
    match &annotation.body {
        Body::Object(object) => write_object(out, annotation, object),
        Body::Classification(c) => write_top_classification(out, annotation, c),
    }
    if annotation.marks.benchmark_reference {
        out.pop();
        out.extend_from_slice(b",\"isBenchmarkReferenceLabel\":true}");
    }
    out.push(b'\n');
}

/// Appends every annotation, one line each.
pub fn write_all(out: &mut Vec<u8>, annotations: &[Annotation]) {
    for annotation in annotations {
        write_line(out, annotation);
    }
}

fn write_object(out: &mut Vec<u8>, a: &Annotation, o: &Object) {
    out.push(b'{');
    write_scores(out, &o.scores);
    write_envelope(out, a);
    out.push(b',');
    write_feature(out, &o.feature);
    out.extend_from_slice(b"\"classifications\":");
    write_classifications(out, &o.classifications);
    out.push(b',');
    match &o.geometry {
        Geometry::Point(p) => {
            out.extend_from_slice(b"\"point\":");
            write_pt(out, p);
        }
        Geometry::Bbox(bbox) => {
            let [top, left, height, width] = bbox_of(bbox);
            out.extend_from_slice(b"\"bbox\":{\"top\":");
            push_f64(out, top);
            out.extend_from_slice(b",\"left\":");
            push_f64(out, left);
            out.extend_from_slice(b",\"height\":");
            push_f64(out, height);
            out.extend_from_slice(b",\"width\":");
            push_f64(out, width);
            out.push(b'}');
        }
        Geometry::Line(points) => {
            out.extend_from_slice(b"\"line\":");
            write_points(out, points, false);
        }
        Geometry::Polygon(points) => {
            out.extend_from_slice(b"\"polygon\":");
            write_points(out, points, needs_closing(points));
        }
        Geometry::Mask(mask) => {
            out.extend_from_slice(b"\"mask\":");
            write_mask(out, mask);
        }
    }
    out.push(b'}');
}

fn write_top_classification(out: &mut Vec<u8>, a: &Annotation, c: &Classification) {
    out.push(b'{');
    write_classification_fields(out, c);
    out.push(b',');
    write_envelope(out, a);
    if let Some(message_id) = &a.marks.message_id {
        out.extend_from_slice(b",\"messageId\":");
        push_str(out, message_id);
    }
    out.push(b'}');
}

/// `"uuid":..,"dataRow":{..}` without a trailing comma.
fn write_envelope(out: &mut Vec<u8>, a: &Annotation) {
    out.extend_from_slice(b"\"uuid\":");
    match &a.uuid {
        AnnotationId::Given(uuid) => push_str(out, uuid),
        AnnotationId::Random => {
            out.push(b'"');
            crate::uuid::push_v4(out);
            out.push(b'"');
        }
        AnnotationId::Derived(bytes) => {
            out.push(b'"');
            crate::uuid::push_hyphenated(out, bytes);
            out.push(b'"');
        }
    }
    out.extend_from_slice(b",\"dataRow\":");
    write_data_row(out, &a.data_row);
}

fn write_data_row(out: &mut Vec<u8>, data_row: &DataRow) {
    // The validator guarantees exactly one of the two.
    match (&data_row.id, &data_row.global_key) {
        (Some(id), _) => {
            out.extend_from_slice(b"{\"id\":");
            push_str(out, id);
        }
        (None, Some(key)) => {
            out.extend_from_slice(b"{\"globalKey\":");
            push_str(out, key);
        }
        (None, None) => out.extend_from_slice(b"{\"globalKey\":\"\""),
    }
    out.push(b'}');
}

/// `"name":..,"schemaId":..,` (each when set), with a trailing comma.
fn write_feature(out: &mut Vec<u8>, f: &Feature) {
    if let Some(name) = &f.name {
        out.extend_from_slice(b"\"name\":");
        push_str(out, name);
        out.push(b',');
    }
    if let Some(schema_id) = &f.schema_id {
        out.extend_from_slice(b"\"schemaId\":");
        push_str(out, schema_id);
        out.push(b',');
    }
}

/// `"customMetrics":[..],"confidence":..,` (each when set), with a trailing comma.
fn write_scores(out: &mut Vec<u8>, s: &Scores) {
    if let Some(metrics) = &s.custom_metrics {
        if !metrics.is_empty() {
            out.extend_from_slice(b"\"customMetrics\":");
            write_metrics(out, metrics);
            out.push(b',');
        }
    }
    if let Some(confidence) = s.confidence {
        out.extend_from_slice(b"\"confidence\":");
        push_f64(out, confidence);
        out.push(b',');
    }
}

fn write_metrics(out: &mut Vec<u8>, metrics: &[Metric]) {
    out.push(b'[');
    for (i, m) in metrics.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"name\":");
        push_str(out, &m.name);
        out.extend_from_slice(b",\"value\":");
        push_f64(out, m.value);
        out.push(b'}');
    }
    out.push(b']');
}

fn write_classifications(out: &mut Vec<u8>, list: &[Classification]) {
    out.push(b'[');
    for (i, c) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        write_classification_fields(out, c);
        out.push(b'}');
    }
    out.push(b']');
}

/// The fields of a classification, top-level or nested, without braces:
/// radio/checklist `confidence? name? schemaId? answer`,
/// text `customMetrics? confidence? name? schemaId? classifications? answer`.
fn write_classification_fields(out: &mut Vec<u8>, c: &Classification) {
    write_scores(out, &c.scores);
    write_feature(out, &c.feature);
    if !c.classifications.is_empty() {
        out.extend_from_slice(b"\"classifications\":");
        write_classifications(out, &c.classifications);
        out.push(b',');
    }
    out.extend_from_slice(b"\"answer\":");
    match &c.value {
        ClassificationValue::Radio(answer) => write_answer(out, answer),
        ClassificationValue::Checklist(answers) => {
            out.push(b'[');
            for (i, answer) in answers.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_answer(out, answer);
            }
            out.push(b']');
        }
        ClassificationValue::Text(text) => push_str(out, text),
    }
}

/// `{customMetrics? confidence? name? schemaId? classifications?}`
fn write_answer(out: &mut Vec<u8>, a: &Answer) {
    out.push(b'{');
    write_scores(out, &a.scores);
    write_feature(out, &a.feature);
    if !a.classifications.is_empty() {
        out.extend_from_slice(b"\"classifications\":");
        write_classifications(out, &a.classifications);
        out.push(b',');
    }
    close_object(out);
}

/// Replaces a trailing comma by `}` (or appends `}` after `{`).
fn close_object(out: &mut Vec<u8>) {
    if out.last() == Some(&b',') {
        out.pop();
    }
    out.push(b'}');
}

fn write_pt(out: &mut Vec<u8>, p: &Pt) {
    out.extend_from_slice(b"{\"x\":");
    push_f64(out, p.x);
    out.extend_from_slice(b",\"y\":");
    push_f64(out, p.y);
    out.push(b'}');
}

fn write_points(out: &mut Vec<u8>, points: &[Pt], close: bool) {
    out.push(b'[');
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_pt(out, p);
    }
    if close {
        out.push(b',');
        write_pt(out, &points[0]);
    }
    out.push(b']');
}

fn write_mask(out: &mut Vec<u8>, mask: &Mask) {
    match mask {
        Mask::Url { uri, color } => {
            out.extend_from_slice(b"{\"instanceURI\":");
            push_str(out, uri);
            out.extend_from_slice(b",\"colorRGB\":[");
            let rgb = match *color {
                MaskColor::Gray(v) => [v, v, v],
                MaskColor::Rgb(rgb) => rgb,
            };
            for (i, v) in rgb.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_i64(out, *v);
            }
            out.extend_from_slice(b"]}");
        }
        Mask::Png(png) => {
            out.extend_from_slice(b"{\"png\":\"");
            let start = out.len();
            let encoded_len = base64::encoded_len(png.len(), true).unwrap_or(0);
            out.resize(start + encoded_len, 0);
            let written =
                base64::engine::general_purpose::STANDARD.encode_slice(png, &mut out[start..]).unwrap_or(0);
            out.truncate(start + written);
            out.extend_from_slice(b"\"}");
        }
        // Unreachable after validation, which turns pixels into PNG and rejects invalid masks.
        Mask::Pixels { .. } | Mask::Invalid(_) => out.extend_from_slice(b"null"),
    }
}
