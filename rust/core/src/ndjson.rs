//! The one NDJSON writer. It writes validated annotations only (see
//! [`crate::validate`]), in the key order of the official SDK, with compact separators.

use base64::Engine as _;

use crate::json::{push_f64, push_f64_key, push_i64, push_str};
use crate::model::{
    Annotation, AnnotationId, Answer, BBox, Body, Classification, ClassificationValue, DataRow, End, Feature,
    Geometry, Marks, Mask, Metric, MetricKind, MetricLine, MetricValue, Pt, Relationship, Scores,
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

/// A geometry borrowed from an annotation or from columns, so that either can be
/// written by the same code without copying points.
#[derive(Debug, Clone, Copy)]
pub enum GeometryRef<'a> {
    Point(Pt),
    Bbox(BBox),
    Line(&'a [Pt]),
    Polygon(&'a [Pt]),
    Mask(&'a Mask),
}

impl Geometry {
    pub fn borrowed(&self) -> GeometryRef<'_> {
        match self {
            Geometry::Point(p) => GeometryRef::Point(*p),
            Geometry::Bbox(b) => GeometryRef::Bbox(*b),
            Geometry::Line(points) => GeometryRef::Line(points),
            Geometry::Polygon(points) => GeometryRef::Polygon(points),
            Geometry::Mask(m) => GeometryRef::Mask(m),
        }
    }
}

/// A part of a line that callers may render once and reuse across many lines:
/// a data row (`{"globalKey":..}`) or a feature (`"name":..,` with its comma).
pub trait Fragment {
    fn write_json(&self, out: &mut Vec<u8>);
}

impl Fragment for DataRow {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_data_row(out, self);
    }
}

impl Fragment for Feature {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_feature(out, self);
    }
}

/// A fragment already rendered by [`Fragment::write_json`], copied as is.
#[derive(Debug, Clone, Copy)]
pub struct Rendered<'a>(pub &'a [u8]);

impl Fragment for Rendered<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.0);
    }
}

/// The parts of an object line, borrowed.
pub struct ObjectLine<'a, D: Fragment + ?Sized, F: Fragment + ?Sized> {
    pub uuid: &'a AnnotationId,
    pub data_row: &'a D,
    pub feature: &'a F,
    pub scores: &'a Scores,
    pub classifications: &'a [Classification],
    pub geometry: GeometryRef<'a>,
    pub marks: &'a Marks,
}

/// The parts of a top-level classification line, borrowed.
pub struct ClassificationLine<'a, D: Fragment + ?Sized> {
    pub uuid: &'a AnnotationId,
    pub data_row: &'a D,
    pub classification: &'a Classification,
    pub marks: &'a Marks,
}

/// Appends one annotation as a JSON object followed by `\n`.
pub fn write_line(out: &mut Vec<u8>, annotation: &Annotation) {
    match &annotation.body {
        Body::Object(o) => write_object_line(
            out,
            &ObjectLine {
                uuid: &annotation.uuid,
                data_row: &annotation.data_row,
                feature: &o.feature,
                scores: &o.scores,
                classifications: &o.classifications,
                geometry: o.geometry.borrowed(),
                marks: &annotation.marks,
            },
        ),
        Body::Classification(c) => write_classification_line(
            out,
            &ClassificationLine {
                uuid: &annotation.uuid,
                data_row: &annotation.data_row,
                classification: c,
                marks: &annotation.marks,
            },
        ),
        Body::Metric(m) => write_metric_line(out, annotation, m),
        Body::Relationship(r) => write_relationship_line(out, annotation, r),
    }
}

/// Appends a metric line: `{uuid?, dataRow, metricValue, featureName?, subclassName?,
/// metricName?, aggregation}`. The SDK writes a metric's uuid only when it was given.
fn write_metric_line(out: &mut Vec<u8>, annotation: &Annotation, m: &MetricLine) {
    out.push(b'{');
    if let AnnotationId::Given(uuid) = &annotation.uuid {
        out.extend_from_slice(b"\"uuid\":");
        push_str(out, uuid);
        out.push(b',');
    }
    out.extend_from_slice(b"\"dataRow\":");
    write_data_row(out, &annotation.data_row);
    out.extend_from_slice(b",\"metricValue\":");
    match &m.value {
        MetricValue::Single(numbers) => write_metric_numbers(out, m.kind, numbers),
        MetricValue::ByConfidence(values) => {
            out.push(b'{');
            for (i, (confidence, numbers)) in values.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_f64_key(out, *confidence);
                out.push(b':');
                write_metric_numbers(out, m.kind, numbers);
            }
            out.push(b'}');
        }
    }
    for (key, text) in [
        (&b",\"featureName\":"[..], &m.feature_name),
        (b",\"subclassName\":", &m.subclass_name),
        (b",\"metricName\":", &m.metric_name),
    ] {
        if let Some(text) = text {
            out.extend_from_slice(key);
            push_str(out, text);
        }
    }
    out.extend_from_slice(b",\"aggregation\":");
    push_str(out, m.aggregation.as_deref().unwrap_or(m.kind.default_aggregation()));
    out.push(b'}');
    finish_line(out, &annotation.marks);
}

/// A scalar as a float; a confusion matrix as its counts, integers (checked by the rules).
fn write_metric_numbers(out: &mut Vec<u8>, kind: MetricKind, numbers: &[f64]) {
    match kind {
        MetricKind::Scalar => push_f64(out, numbers.first().copied().unwrap_or(0.0)),
        MetricKind::ConfusionMatrix => {
            out.push(b'[');
            for (i, count) in numbers.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_i64(out, *count as i64);
            }
            out.push(b']');
        }
    }
}

/// Appends a relationship line: `{uuid, dataRow, name?, schemaId?, relationship:
/// {source, target, type, readonly?}}`. Its ends were resolved to uuids by the rules.
fn write_relationship_line(out: &mut Vec<u8>, annotation: &Annotation, r: &Relationship) {
    out.push(b'{');
    write_envelope(out, &annotation.uuid, &annotation.data_row);
    out.push(b',');
    write_feature(out, &r.feature);
    out.extend_from_slice(b"\"relationship\":{");
    if let Some(source) = &r.source {
        out.extend_from_slice(b"\"source\":");
        write_end(out, source);
        out.push(b',');
    }
    out.extend_from_slice(b"\"target\":");
    write_end(out, &r.target);
    out.extend_from_slice(b",\"type\":");
    push_str(out, &r.kind);
    if let Some(readonly) = r.readonly {
        out.extend_from_slice(if readonly { b",\"readonly\":true" } else { b",\"readonly\":false" });
    }
    if let Some(name) = &r.source_ontology_name {
        out.extend_from_slice(b",\"sourceOntologyName\":");
        push_str(out, name);
    }
    out.extend_from_slice(b"}}");
    finish_line(out, &annotation.marks);
}

fn write_end(out: &mut Vec<u8>, end: &End) {
    match end {
        End::Uuid(uuid) => push_str(out, uuid),
        // The rules resolve every end to a uuid or fail the batch.
        End::Item(_) | End::Unlisted(_) | End::Refused => out.extend_from_slice(b"null"),
    }
}

/// Appends an object line: `{scores, uuid, dataRow, feature, classifications, geometry}\n`.
pub fn write_object_line<D: Fragment + ?Sized, F: Fragment + ?Sized>(
    out: &mut Vec<u8>,
    line: &ObjectLine<'_, D, F>,
) {
    out.push(b'{');
    write_scores(out, line.scores);
    write_envelope(out, line.uuid, line.data_row);
    out.push(b',');
    line.feature.write_json(out);
    out.extend_from_slice(b"\"classifications\":");
    write_classifications(out, line.classifications);
    out.push(b',');
    write_geometry(out, line.geometry);
    out.push(b'}');
    finish_line(out, line.marks);
}

fn write_geometry(out: &mut Vec<u8>, geometry: GeometryRef<'_>) {
    match geometry {
        GeometryRef::Point(p) => {
            out.extend_from_slice(b"\"point\":");
            write_pt(out, &p);
        }
        GeometryRef::Bbox(bbox) => {
            let [top, left, height, width] = bbox_of(&bbox);
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
        GeometryRef::Line(points) => {
            out.extend_from_slice(b"\"line\":");
            write_points(out, points, false);
        }
        GeometryRef::Polygon(points) => {
            out.extend_from_slice(b"\"polygon\":");
            write_points(out, points, needs_closing(points));
        }
        GeometryRef::Mask(mask) => {
            out.extend_from_slice(b"\"mask\":");
            write_mask(out, mask);
        }
    }
}

/// Appends a top-level classification line:
/// `{classification fields, uuid, dataRow, messageId?}\n`.
pub fn write_classification_line<D: Fragment + ?Sized>(out: &mut Vec<u8>, line: &ClassificationLine<'_, D>) {
    out.push(b'{');
    write_classification_fields(out, line.classification);
    out.push(b',');
    write_envelope(out, line.uuid, line.data_row);
    if let Some(message_id) = &line.marks.message_id {
        out.extend_from_slice(b",\"messageId\":");
        push_str(out, message_id);
    }
    out.push(b'}');
    finish_line(out, line.marks);
}

/// The benchmark mark (last key) and the newline.
fn finish_line(out: &mut Vec<u8>, marks: &Marks) {
    if marks.benchmark_reference {
        out.pop();
        out.extend_from_slice(b",\"isBenchmarkReferenceLabel\":true}");
    }
    out.push(b'\n');
}

/// Appends an annotation id as a JSON string.
pub fn write_uuid(out: &mut Vec<u8>, uuid: &AnnotationId) {
    match uuid {
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
}

/// `"uuid":..,"dataRow":{..}` without a trailing comma.
fn write_envelope<D: Fragment + ?Sized>(out: &mut Vec<u8>, uuid: &AnnotationId, data_row: &D) {
    out.extend_from_slice(b"\"uuid\":");
    write_uuid(out, uuid);
    out.extend_from_slice(b",\"dataRow\":");
    data_row.write_json(out);
}

pub fn write_data_row(out: &mut Vec<u8>, data_row: &DataRow) {
    out.extend_from_slice(match data_row {
        DataRow::Id(_) => b"{\"id\":",
        DataRow::GlobalKey(_) => b"{\"globalKey\":",
    });
    push_str(out, data_row.text());
    out.push(b'}');
}

/// `"name":..,"schemaId":..,` (each when set), with a trailing comma.
pub fn write_feature(out: &mut Vec<u8>, f: &Feature) {
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
            for (i, v) in color.rgb().iter().enumerate() {
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
        // Checking turns pixels into PNG and fails on refused masks: a batch is
        // written only once checked, so neither reaches here.
        Mask::Pixels { .. } | Mask::Refused => out.extend_from_slice(b"null"),
    }
}
