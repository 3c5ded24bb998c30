//! Columnar predictions: many predictions of one kind held as arrays (boxes from a
//! detector, one class id and score each), checked by the validator and written by
//! the writer without building an [`Annotation`] per prediction.
//!
//! Prediction `i` means exactly [`Columns::annotation`]`(i)`; the fast path
//! ([`Columns::process`]) writes the same bytes from borrowed parts: the data row
//! and feature of each line are rendered once per batch by the writer's own
//! functions ([`ndjson::Fragment`]) and copied, and a sub-classification is a
//! per-chunk template whose confidence is set per prediction.

use std::ops::Range;

use crate::issues::{Issues, MAX_LISTED};
use crate::json::push_i64;
use crate::model::{
    Annotation, AnnotationId, Answer, BBox, Body, Classification, ClassificationValue, Corners, DataRow,
    Feature, Geometry, Marks, Object, Pt, Scores, Text,
};
use crate::ndjson::{self, ClassificationLine, Fragment, GeometryRef, ObjectLine, Rendered};
use crate::parallel;
use crate::rules::columns::{check_column_row, check_columns};
use crate::uuid::V5Hasher;

/// Predictions per unit of parallel writing: large enough that scheduling is noise,
/// small enough that a chunk's output stays in the core's cache.
pub const CHUNK_ROWS: usize = 2048;

/// How a box's four numbers are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxFormat {
    /// `x1, y1, x2, y2`: two opposite corners.
    Xyxy,
    /// `x, y, w, h`: top-left corner, width and height.
    Xywh,
    /// `cx, cy, w, h`: centre, width and height.
    Cxcywh,
}

/// Where annotation ids come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// A random UUIDv4 per annotation.
    Random,
    /// A UUIDv5 in this namespace (see [`Columns::uuid_name`]).
    Derived([u8; 16]),
}

/// Boxes, `(N, 4)`.
#[derive(Debug, Clone)]
pub struct BoxColumn {
    pub boxes: Vec<[f64; 4]>,
    pub format: BoxFormat,
    /// Coordinates are fractions of the image's width and height.
    pub normalized: bool,
    /// `(width, height)` per data row; needed when `normalized`.
    pub image_sizes: Option<Vec<[f64; 2]>>,
}

/// Ragged rows: row `i` is `values[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Clone, Default)]
pub struct Ragged<T> {
    pub values: Vec<T>,
    /// `N + 1` non-decreasing offsets from 0 to `values.len()`.
    pub offsets: Vec<i64>,
}

impl<T> Ragged<T> {
    pub fn rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Bounds of row `i`; valid once the offsets are checked.
    pub fn bounds(&self, i: usize) -> Range<usize> {
        self.offsets[i] as usize..self.offsets[i + 1] as usize
    }

    pub fn row(&self, i: usize) -> &[T] {
        &self.values[self.bounds(i)]
    }
}

#[derive(Debug, Clone)]
pub enum GeometryColumn {
    Boxes(BoxColumn),
    /// `(N, 2)`.
    Points(Vec<Pt>),
    /// Coordinates `(M, 2)` and offsets `(N + 1,)`.
    Lines(Ragged<Pt>),
    /// Coordinates `(M, 2)` and offsets `(N + 1,)`; written closed.
    Polygons(Ragged<Pt>),
}

/// A radio question nested in every object, one answer per prediction.
#[derive(Debug, Clone)]
pub struct RadioColumn {
    pub question: Feature,
    pub answers: Vec<Feature>,
    /// `(N,)` indices into `answers`.
    pub answer_ids: Vec<i64>,
    /// `(N,)` confidence of each chosen answer.
    pub confidence: Option<Vec<f64>>,
}

#[derive(Debug, Clone)]
pub struct ObjectColumns {
    pub features: Vec<Feature>,
    /// `(N,)` indices into `features`; `None` means feature 0 for every prediction.
    pub class_ids: Option<Vec<i64>>,
    pub geometry: GeometryColumn,
    pub subclass: Option<RadioColumn>,
}

#[derive(Debug, Clone)]
pub enum AnswerColumn {
    /// `(N,)` indices into the answers.
    Radio(Vec<i64>),
    /// Indices into the answers, ragged by prediction.
    Checklist(Ragged<i64>),
    /// One text per prediction.
    Text(Vec<String>),
}

/// Global (top-level) classifications of one question.
#[derive(Debug, Clone)]
pub struct ClassificationColumns {
    pub question: Feature,
    pub answers: Vec<Feature>,
    pub value: AnswerColumn,
}

#[derive(Debug, Clone)]
pub enum ColumnKind {
    Objects(ObjectColumns),
    Classifications(ClassificationColumns),
}

/// A batch of predictions of one kind, as columns.
#[derive(Debug, Clone)]
pub struct Columns {
    pub data_rows: Vec<DataRow>,
    /// `(N,)` indices into `data_rows`; `None` means prediction `i` is on data row `i`.
    pub image_index: Option<Vec<i64>>,
    /// Objects, radio and text: `(N,)`, one per prediction (of the object, the
    /// chosen answer, the text). Checklists: one per entry of the answer ids.
    pub confidence: Option<Vec<f64>>,
    pub ids: Ids,
    /// Index of prediction 0 in the caller's whole batch, when this is a slice of it:
    /// deterministic ids name prediction `i` as `index_base + i`, so that slicing a
    /// batch keeps its ids.
    pub index_base: usize,
    pub kind: ColumnKind,
}

static NO_MARKS: Marks = Marks { message_id: None, benchmark_reference: false };

impl Columns {
    /// Number of predictions, defined by the geometry or answer column.
    pub fn len(&self) -> usize {
        match &self.kind {
            ColumnKind::Objects(o) => match &o.geometry {
                GeometryColumn::Boxes(b) => b.boxes.len(),
                GeometryColumn::Points(p) => p.len(),
                GeometryColumn::Lines(r) | GeometryColumn::Polygons(r) => r.rows(),
            },
            ColumnKind::Classifications(c) => match &c.value {
                AnswerColumn::Radio(ids) => ids.len(),
                AnswerColumn::Checklist(r) => r.rows(),
                AnswerColumn::Text(texts) => texts.len(),
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The word for the kind of prediction in deterministic ids' names.
    pub fn kind_word(&self) -> &'static str {
        match &self.kind {
            ColumnKind::Objects(o) => match &o.geometry {
                GeometryColumn::Boxes(_) => "bbox",
                GeometryColumn::Points(_) => "point",
                GeometryColumn::Lines(_) => "line",
                GeometryColumn::Polygons(_) => "polygon",
            },
            ColumnKind::Classifications(c) => match &c.value {
                AnswerColumn::Radio(_) => "radio",
                AnswerColumn::Checklist(_) => "checklist",
                AnswerColumn::Text(_) => "text",
            },
        }
    }

    /// Index of the data row of prediction `i`; valid once checked.
    pub fn data_row_of(&self, i: usize) -> usize {
        self.image_index.as_ref().map_or(i, |ix| ix[i] as usize)
    }

    /// Index of the feature of object `i` (the question for classifications).
    pub fn feature_of(&self, i: usize) -> usize {
        match &self.kind {
            ColumnKind::Objects(o) => o.class_ids.as_ref().map_or(0, |ids| ids[i] as usize),
            ColumnKind::Classifications(_) => 0,
        }
    }

    /// The feature of object `index` of `features` (the question for classifications).
    pub fn feature(&self, index: usize) -> &Feature {
        match &self.kind {
            ColumnKind::Objects(o) => &o.features[index],
            ColumnKind::Classifications(c) => &c.question,
        }
    }

    /// The corners of box `i`, in pixels, as `Rectangle(start, end)` would hold them:
    /// normalised numbers are first multiplied by the image's width or height, then
    /// `xywh` gives `(x, y), (x + w, y + h)` and `cxcywh` gives
    /// `(cx - w / 2, cy - h / 2), (cx + w / 2, cy + h / 2)`, in `f64`.
    pub fn corners(&self, b: &BoxColumn, i: usize) -> Corners {
        let [mut a, mut c, mut d, mut e] = b.boxes[i];
        if b.normalized {
            if let Some(sizes) = &b.image_sizes {
                let [w, h] = sizes[self.data_row_of(i)];
                a *= w;
                c *= h;
                d *= w;
                e *= h;
            }
        }
        let (x1, y1, x2, y2) = match b.format {
            BoxFormat::Xyxy => (a, c, d, e),
            BoxFormat::Xywh => (a, c, a + d, c + e),
            BoxFormat::Cxcywh => (a - d / 2.0, c - e / 2.0, a + d / 2.0, c + e / 2.0),
        };
        Corners { start: Pt { x: x1, y: y1 }, end: Pt { x: x2, y: y2 } }
    }

    /// The name of prediction `i`'s deterministic id: the UTF-8 of
    /// `kind \0 dataRowKey \0 dataRow \0 featureKey \0 feature \0 i`, where kind is one of
    /// `bbox point line polygon radio checklist text`, dataRowKey `globalKey` or `id`,
    /// featureKey `name` or `schemaId` (the object's feature, or the question), and `i`
    /// the prediction's index in its batch (plus [`Columns::index_base`]), in decimal.
    pub fn uuid_name(&self, i: usize) -> Vec<u8> {
        let mut name = Vec::new();
        let parts = self.name_parts(self.data_row_of(i), self.feature_of(i));
        for part in parts {
            name.extend_from_slice(part);
        }
        name.push(0);
        push_i64(&mut name, (self.index_base + i) as i64);
        name
    }

    fn name_parts(&self, data_row: usize, feature: usize) -> [&[u8]; 9] {
        let row = &self.data_rows[data_row];
        let (dr_key, dr) = (row.key(), &**row.text());
        let f = self.feature(feature);
        let (f_key, f_text) = either(&f.name, "name", &f.schema_id, "schemaId");
        [
            self.kind_word().as_bytes(),
            b"\0",
            dr_key.as_bytes(),
            b"\0",
            dr.as_bytes(),
            b"\0",
            f_key.as_bytes(),
            b"\0",
            f_text.as_bytes(),
        ]
    }

    fn uuid(&self, hasher: Option<&V5Hasher>, i: usize, data_row: usize, feature: usize) -> AnnotationId {
        match hasher {
            None => AnnotationId::Random,
            Some(hasher) => {
                let [a, b, c, d, e, f, g, h, k] = self.name_parts(data_row, feature);
                let mut digits = [0u8; 20];
                let index = decimal(self.index_base + i, &mut digits);
                AnnotationId::Derived(hasher.uuid(&[a, b, c, d, e, f, g, h, k, b"\0", index]))
            }
        }
    }

    fn hasher(&self) -> Option<V5Hasher> {
        match self.ids {
            Ids::Random => None,
            Ids::Derived(namespace) => Some(V5Hasher::new(&namespace)),
        }
    }

    /// Prediction `i` as a model annotation: what [`Columns::process`] writes for it.
    /// For tests and for callers that want annotations; `i` must have been checked.
    pub fn annotation(&self, i: usize) -> Annotation {
        let data_row = self.data_row_of(i);
        let feature = self.feature_of(i);
        let uuid = self.uuid(self.hasher().as_ref(), i, data_row, feature);
        let confidence = self.confidence.as_ref().map(|c| c[i]);
        let body = match &self.kind {
            ColumnKind::Objects(o) => {
                let geometry = match &o.geometry {
                    GeometryColumn::Boxes(b) => Geometry::Bbox(BBox::Corners(self.corners(b, i))),
                    GeometryColumn::Points(p) => Geometry::Point(p[i]),
                    GeometryColumn::Lines(r) => Geometry::Line(r.row(i).to_vec()),
                    GeometryColumn::Polygons(r) => Geometry::Polygon(r.row(i).to_vec()),
                };
                let classifications = match &o.subclass {
                    Some(s) => {
                        let mut c = radio(&s.question, &s.answers[s.answer_ids[i] as usize]);
                        set_answer_confidence(&mut c, s.confidence.as_ref().map(|c| c[i]));
                        vec![c]
                    }
                    None => Vec::new(),
                };
                Body::Object(Object {
                    feature: o.features[feature].clone(),
                    scores: Scores { confidence, custom_metrics: None },
                    geometry,
                    classifications,
                })
            }
            ColumnKind::Classifications(c) => Body::Classification(match &c.value {
                AnswerColumn::Radio(ids) => {
                    let mut r = radio(&c.question, &c.answers[ids[i] as usize]);
                    set_answer_confidence(&mut r, confidence);
                    r
                }
                AnswerColumn::Checklist(ragged) => {
                    let mut list = checklist(&c.question);
                    fill_checklist(&mut list, c, ragged, self.confidence.as_deref(), i);
                    list
                }
                AnswerColumn::Text(texts) => {
                    let mut t = text(&c.question);
                    fill_text(&mut t, &texts[i], confidence);
                    t
                }
            }),
        };
        Annotation { uuid, data_row: self.data_rows[data_row].clone(), body, marks: Marks::default() }
    }

    /// Checks the batch, then every prediction in parallel chunks (row numbers start
    /// at `first_row`); returns every problem found (at most [`MAX_LISTED`] kept).
    pub fn check(&self, first_row: usize, threads: Option<usize>) -> Issues {
        let mut issues = Issues::with_limit(MAX_LISTED);
        issues.set_row(first_row);
        if !check_columns(self, &mut issues) {
            return issues;
        }
        let n = self.len();
        let found = parallel::map_ordered(threads, n.div_ceil(CHECK_ROWS), |k| {
            let mut issues = Issues::with_limit(MAX_LISTED);
            for i in k * CHECK_ROWS..n.min((k + 1) * CHECK_ROWS) {
                issues.set_row(first_row + i);
                check_column_row(self, i, &mut issues);
            }
            issues
        });
        for chunk in found {
            issues.extend(chunk);
        }
        issues
    }

    /// What the writer renders once per batch (data rows, features, the id hasher).
    pub fn prepare(&self) -> Prepared {
        Prepared::new(self)
    }

    /// A writer of this batch's predictions, which must have been checked, with what
    /// [`Columns::prepare`] gave for it.
    pub fn writer<'a>(&'a self, prepared: &'a Prepared) -> ColumnsWriter<'a> {
        ColumnsWriter { c: self, p: prepared }
    }
}

/// Predictions per unit of parallel checking (checks are cheap).
const CHECK_ROWS: usize = 65_536;

/// Writes the checked predictions of a [`Columns`]; shared by the threads writing it.
pub struct ColumnsWriter<'a> {
    c: &'a Columns,
    p: &'a Prepared,
}

impl ColumnsWriter<'_> {
    /// Number of predictions.
    pub fn len(&self) -> usize {
        self.c.len()
    }

    pub fn is_empty(&self) -> bool {
        self.c.is_empty()
    }

    /// Appends predictions `rows`, one line each.
    pub fn write_rows(&self, rows: Range<usize>, out: &mut Vec<u8>) {
        let mut w = RowWriter::new(self.c, self.p);
        for i in rows {
            w.write(i, out);
        }
    }

    /// A generous guess of the bytes predictions `rows` take (so that buffers are
    /// sized once); an upper bound unless texts need many escapes.
    pub fn size_hint(&self, rows: Range<usize>) -> usize {
        let c = self.c;
        let n = rows.len();
        let fixed = 200 + self.p.data_rows.longest + self.p.features.longest;
        let per_point = 60;
        let per_row = match &c.kind {
            ColumnKind::Objects(o) => {
                let sub = o.subclass.as_ref().map_or(0, |s| 100 + self.p.sub_longest + s.question_len());
                let ragged = match &o.geometry {
                    GeometryColumn::Boxes(_) => 5 * FLOAT_LEN,
                    GeometryColumn::Points(_) => 3 * FLOAT_LEN,
                    GeometryColumn::Lines(_) | GeometryColumn::Polygons(_) => 2 * FLOAT_LEN,
                };
                sub + ragged
            }
            ColumnKind::Classifications(_) => 100 + self.p.sub_longest,
        };
        let extra = match &c.kind {
            ColumnKind::Objects(ObjectColumns {
                geometry: GeometryColumn::Lines(r) | GeometryColumn::Polygons(r),
                ..
            }) if !rows.is_empty() => {
                (r.offsets[rows.end] - r.offsets[rows.start]) as usize * per_point + n * per_point
            }
            ColumnKind::Classifications(ClassificationColumns {
                value: AnswerColumn::Checklist(r), ..
            }) if !rows.is_empty() => {
                (r.offsets[rows.end] - r.offsets[rows.start]) as usize * (40 + self.p.sub_longest)
            }
            ColumnKind::Classifications(ClassificationColumns { value: AnswerColumn::Text(t), .. }) => {
                t[rows.clone()].iter().map(|s| s.len() + 2).sum()
            }
            _ => 0,
        };
        n * (fixed + per_row) + extra
    }
}

/// The longest text of a float the writer makes (`-1.2345678901234567e-308`).
const FLOAT_LEN: usize = 24;

impl RadioColumn {
    fn question_len(&self) -> usize {
        self.question.name.as_deref().or(self.question.schema_id.as_deref()).map_or(0, |q| q.len() * 6 + 16)
    }
}

/// The first of two optional texts that is set, with its key (a feature's name,
/// else its schema id; checked features have one).
fn either<'a>(
    first: &'a Option<Text>,
    first_key: &'static str,
    second: &'a Option<Text>,
    second_key: &'static str,
) -> (&'static str, &'a str) {
    match (first, second) {
        (Some(t), _) => (first_key, t),
        (None, Some(t)) => (second_key, t),
        (None, None) => (second_key, ""),
    }
}

/// `i` in decimal, in `buf`.
fn decimal(i: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = i;
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[pos..]
}

fn radio(question: &Feature, answer: &Feature) -> Classification {
    Classification {
        feature: question.clone(),
        scores: Scores::default(),
        value: ClassificationValue::Radio(Answer {
            feature: answer.clone(),
            scores: Scores::default(),
            classifications: Vec::new(),
        }),
        classifications: Vec::new(),
    }
}

fn set_answer_confidence(c: &mut Classification, confidence: Option<f64>) {
    if let ClassificationValue::Radio(answer) = &mut c.value {
        answer.scores.confidence = confidence;
    }
}

fn checklist(question: &Feature) -> Classification {
    Classification {
        feature: question.clone(),
        scores: Scores::default(),
        value: ClassificationValue::Checklist(Vec::new()),
        classifications: Vec::new(),
    }
}

fn fill_checklist(
    c: &mut Classification,
    columns: &ClassificationColumns,
    ragged: &Ragged<i64>,
    confidence: Option<&[f64]>,
    i: usize,
) {
    if let ClassificationValue::Checklist(list) = &mut c.value {
        list.clear();
        for j in ragged.bounds(i) {
            list.push(Answer {
                feature: columns.answers[ragged.values[j] as usize].clone(),
                scores: Scores { confidence: confidence.map(|c| c[j]), custom_metrics: None },
                classifications: Vec::new(),
            });
        }
    }
}

fn text(question: &Feature) -> Classification {
    Classification {
        feature: question.clone(),
        scores: Scores::default(),
        value: ClassificationValue::Text(String::new()),
        classifications: Vec::new(),
    }
}

fn fill_text(c: &mut Classification, text: &str, confidence: Option<f64>) {
    c.scores.confidence = confidence;
    if let ClassificationValue::Text(t) = &mut c.value {
        t.clear();
        t.push_str(text);
    }
}

/// Fragments rendered once per batch by the writer's own functions.
struct Rendering {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    longest: usize,
}

impl Rendering {
    fn of<T: Fragment>(items: &[T]) -> Self {
        let mut bytes = Vec::new();
        let mut ends = Vec::with_capacity(items.len());
        let mut longest = 0;
        for item in items {
            let start = bytes.len();
            item.write_json(&mut bytes);
            longest = longest.max(bytes.len() - start);
            ends.push(bytes.len());
        }
        Rendering { bytes, ends, longest }
    }

    fn get(&self, k: usize) -> Rendered<'_> {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        Rendered(&self.bytes[start..self.ends[k]])
    }
}

/// What a batch's chunks share: rendered data rows and features, the id hasher.
pub struct Prepared {
    data_rows: Rendering,
    features: Rendering,
    /// Length of the longest rendered answer or question of a classification.
    sub_longest: usize,
    hasher: Option<V5Hasher>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared").field("data_rows", &self.data_rows.ends.len()).finish_non_exhaustive()
    }
}

impl Prepared {
    fn new(c: &Columns) -> Self {
        let (features, answers) = match &c.kind {
            ColumnKind::Objects(o) => {
                (Rendering::of(&o.features), o.subclass.as_ref().map_or(&[][..], |s| &s.answers[..]))
            }
            ColumnKind::Classifications(q) => {
                (Rendering::of(std::slice::from_ref(&q.question)), &q.answers[..])
            }
        };
        let sub_longest = Rendering::of(answers).longest + FLOAT_LEN + features.longest;
        Prepared { data_rows: Rendering::of(&c.data_rows), features, sub_longest, hasher: c.hasher() }
    }
}

/// Writes checked predictions; holds the per-chunk templates of classifications.
struct RowWriter<'a> {
    c: &'a Columns,
    p: &'a Prepared,
    /// Objects with a sub-classification: one radio per answer. Radio questions:
    /// the same. Checklist and text: one classification, refilled per prediction.
    templates: Vec<Classification>,
}

impl<'a> RowWriter<'a> {
    fn new(c: &'a Columns, p: &'a Prepared) -> Self {
        let templates = match &c.kind {
            ColumnKind::Objects(ObjectColumns { subclass: Some(s), .. }) => {
                s.answers.iter().map(|a| radio(&s.question, a)).collect()
            }
            ColumnKind::Objects(_) => Vec::new(),
            ColumnKind::Classifications(q) => match &q.value {
                AnswerColumn::Radio(_) => q.answers.iter().map(|a| radio(&q.question, a)).collect(),
                AnswerColumn::Checklist(_) => vec![checklist(&q.question)],
                AnswerColumn::Text(_) => vec![text(&q.question)],
            },
        };
        RowWriter { c, p, templates }
    }

    fn write(&mut self, i: usize, out: &mut Vec<u8>) {
        let c = self.c;
        let data_row = c.data_row_of(i);
        let feature = c.feature_of(i);
        let uuid = c.uuid(self.p.hasher.as_ref(), i, data_row, feature);
        let confidence = c.confidence.as_ref().map(|c| c[i]);
        let rendered_row = self.p.data_rows.get(data_row);
        match &c.kind {
            ColumnKind::Objects(o) => {
                let geometry = match &o.geometry {
                    GeometryColumn::Boxes(b) => GeometryRef::Bbox(BBox::Corners(c.corners(b, i))),
                    GeometryColumn::Points(p) => GeometryRef::Point(p[i]),
                    GeometryColumn::Lines(r) => GeometryRef::Line(r.row(i)),
                    GeometryColumn::Polygons(r) => GeometryRef::Polygon(r.row(i)),
                };
                let classifications: &[Classification] = match &o.subclass {
                    Some(s) => {
                        let t = &mut self.templates[s.answer_ids[i] as usize];
                        set_answer_confidence(t, s.confidence.as_ref().map(|c| c[i]));
                        std::slice::from_ref(t)
                    }
                    None => &[],
                };
                ndjson::write_object_line(
                    out,
                    &ObjectLine {
                        uuid: &uuid,
                        data_row: &rendered_row,
                        feature: &self.p.features.get(feature),
                        scores: &Scores { confidence, custom_metrics: None },
                        classifications,
                        geometry,
                        marks: &NO_MARKS,
                    },
                );
            }
            ColumnKind::Classifications(q) => {
                let classification = match &q.value {
                    AnswerColumn::Radio(ids) => {
                        let t = &mut self.templates[ids[i] as usize];
                        set_answer_confidence(t, confidence);
                        &*t
                    }
                    AnswerColumn::Checklist(ragged) => {
                        let t = &mut self.templates[0];
                        fill_checklist(t, q, ragged, c.confidence.as_deref(), i);
                        &*t
                    }
                    AnswerColumn::Text(texts) => {
                        let t = &mut self.templates[0];
                        fill_text(t, &texts[i], confidence);
                        &*t
                    }
                };
                ndjson::write_classification_line(
                    out,
                    &ClassificationLine {
                        uuid: &uuid,
                        data_row: &rendered_row,
                        classification,
                        marks: &NO_MARKS,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issues::Issue;
    use crate::ndjson::write_line;

    fn pt(x: f64, y: f64) -> Pt {
        Pt { x, y }
    }

    fn keys(n: usize) -> Vec<DataRow> {
        (0..n).map(|i| DataRow::global_key(format!("img-{i}"))).collect()
    }

    fn objects(geometry: GeometryColumn, features: &[&str]) -> ColumnKind {
        ColumnKind::Objects(ObjectColumns {
            features: features.iter().map(|f| Feature::named(*f)).collect(),
            class_ids: None,
            geometry,
            subclass: None,
        })
    }

    fn boxes(boxes: Vec<[f64; 4]>, format: BoxFormat) -> GeometryColumn {
        GeometryColumn::Boxes(BoxColumn { boxes, format, normalized: false, image_sizes: None })
    }

    fn columns(n_rows: usize, kind: ColumnKind) -> Columns {
        Columns {
            data_rows: keys(n_rows),
            image_index: None,
            confidence: None,
            ids: Ids::Derived(crate::uuid::LBFAST_NAMESPACE),
            index_base: 0,
            kind,
        }
    }

    fn run(c: &Columns, threads: Option<usize>) -> Result<String, Vec<Issue>> {
        let mut batch = crate::batch::Batch::new();
        batch.push_columns(0, c.clone());
        let options = crate::options::Options { threads, ..Default::default() };
        batch.into_ndjson(&options).map(|out| String::from_utf8(out).unwrap()).map_err(|report| report.issues)
    }

    /// The fast path writes what the model annotations of the same predictions give.
    fn assert_same_as_annotations(c: &Columns) -> String {
        let fast = run(c, Some(1)).unwrap();
        let mut slow = Vec::new();
        for i in 0..c.len() {
            write_line(&mut slow, &c.annotation(i));
        }
        assert_eq!(fast, String::from_utf8(slow).unwrap());
        fast
    }

    fn problems(c: &Columns) -> Vec<String> {
        run(c, Some(1)).unwrap_err().iter().map(|i| format!("{}|{}|{}", i.row, i.path, i.message)).collect()
    }

    #[test]
    fn boxes_in_every_format_become_the_same_corners() {
        let xyxy = columns(1, objects(boxes(vec![[10.0, 20.0, 40.0, 60.0]], BoxFormat::Xyxy), &["car"]));
        let xywh = columns(1, objects(boxes(vec![[10.0, 20.0, 30.0, 40.0]], BoxFormat::Xywh), &["car"]));
        let cxcywh = columns(1, objects(boxes(vec![[25.0, 40.0, 30.0, 40.0]], BoxFormat::Cxcywh), &["car"]));
        let expected = "{\"uuid\":\"";
        let outs: Vec<String> = [xyxy, xywh, cxcywh].iter().map(assert_same_as_annotations).collect();
        for out in &outs {
            assert!(out.starts_with(expected), "{out}");
            assert!(
                out.ends_with(
                    ",\"dataRow\":{\"globalKey\":\"img-0\"},\"name\":\"car\",\"classifications\":[],\
                     \"bbox\":{\"top\":20.0,\"left\":10.0,\"height\":40.0,\"width\":30.0}}\n"
                ),
                "{out}"
            );
        }
    }

    #[test]
    fn normalised_boxes_scale_by_their_image_size() {
        let mut c = columns(
            2,
            objects(
                GeometryColumn::Boxes(BoxColumn {
                    boxes: vec![[0.5, 0.5, 0.25, 0.5], [0.0, 0.0, 1.0, 1.0]],
                    format: BoxFormat::Xywh,
                    normalized: true,
                    image_sizes: Some(vec![[200.0, 100.0], [640.0, 480.0]]),
                }),
                &["car"],
            ),
        );
        c.image_index = Some(vec![0, 1]);
        let out = assert_same_as_annotations(&c);
        assert!(
            out.contains("\"bbox\":{\"top\":50.0,\"left\":100.0,\"height\":50.0,\"width\":50.0}"),
            "{out}"
        );
        assert!(
            out.contains("\"bbox\":{\"top\":0.0,\"left\":0.0,\"height\":480.0,\"width\":640.0}"),
            "{out}"
        );
    }

    #[test]
    fn every_kind_writes_what_its_annotations_write() {
        let pts = vec![pt(0.0, 0.0), pt(4.0, 0.0), pt(4.0, 3.0), pt(1.5, 2.5), pt(7.0, 7.0), pt(1.5, 2.5)];
        let ragged = Ragged { values: pts.clone(), offsets: vec![0, 3, 6] };
        let sub = RadioColumn {
            question: Feature::named("occluded"),
            answers: vec![Feature::named("yes"), Feature::named("no")],
            answer_ids: vec![1, 0],
            confidence: Some(vec![0.25, 0.5]),
        };
        let mut kinds = vec![
            objects(GeometryColumn::Points(pts[..2].to_vec()), &["p"]),
            objects(GeometryColumn::Lines(ragged.clone()), &["l"]),
            objects(GeometryColumn::Polygons(ragged.clone()), &["g"]),
            ColumnKind::Objects(ObjectColumns {
                features: vec![Feature::named("car"), Feature::named("bus")],
                class_ids: Some(vec![1, 0]),
                geometry: boxes(vec![[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], BoxFormat::Xyxy),
                subclass: Some(sub),
            }),
        ];
        let question = Feature { name: None, schema_id: Some("c".repeat(25).into()) };
        let answers = vec![Feature::named("a"), Feature::named("b"), Feature::named("c")];
        for value in [
            AnswerColumn::Radio(vec![2, 0]),
            AnswerColumn::Checklist(Ragged { values: vec![0, 2, 1], offsets: vec![0, 2, 3] }),
            AnswerColumn::Text(vec!["first \"one\"".to_string(), "second\n".to_string()]),
        ] {
            kinds.push(ColumnKind::Classifications(ClassificationColumns {
                question: question.clone(),
                answers: answers.clone(),
                value,
            }));
        }
        for kind in kinds {
            let checklist = matches!(
                kind,
                ColumnKind::Classifications(ClassificationColumns { value: AnswerColumn::Checklist(_), .. })
            );
            let mut c = columns(2, kind);
            c.data_rows = vec![DataRow::id("a".repeat(25)), DataRow::global_key("g\"k")];
            c.confidence = Some(if checklist { vec![0.1, 0.2, 0.3] } else { vec![0.75, 1.0] });
            let out = assert_same_as_annotations(&c);
            assert_eq!(out.lines().count(), 2, "{out}");
        }
    }

    #[test]
    fn the_box_subclass_is_the_seeds_nested_radio() {
        let mut c = columns(1, objects(boxes(vec![[1.0, 2.0, 3.0, 4.0]], BoxFormat::Xyxy), &["car"]));
        if let ColumnKind::Objects(o) = &mut c.kind {
            o.subclass = Some(RadioColumn {
                question: Feature::named("sub_radio_question"),
                answers: vec![Feature::named("first_sub_radio_answer")],
                answer_ids: vec![0],
                confidence: Some(vec![0.5]),
            });
        }
        let out = assert_same_as_annotations(&c);
        assert!(
            out.contains(
                "\"classifications\":[{\"name\":\"sub_radio_question\",\
                 \"answer\":{\"confidence\":0.5,\"name\":\"first_sub_radio_answer\"}}]"
            ),
            "{out}"
        );
    }

    #[test]
    fn deterministic_ids_are_uuid5_of_the_documented_name_and_chunks_keep_order() {
        let n = CHUNK_ROWS * 2 + 17;
        let data: Vec<[f64; 4]> = (0..n).map(|i| [i as f64, 0.5, i as f64 + 2.0, 3.25]).collect();
        let mut c = columns(n.div_ceil(3), objects(boxes(data, BoxFormat::Xyxy), &["car"]));
        c.image_index = Some((0..n as i64).map(|i| i / 3).collect());
        c.confidence = Some((0..n).map(|i| (i % 100) as f64 / 100.0).collect());
        let one = run(&c, Some(1)).unwrap();
        assert_eq!(one, run(&c, Some(3)).unwrap());
        assert_eq!(one, run(&c, None).unwrap());
        assert_eq!(one.lines().count(), n);
        assert_eq!(c.uuid_name(4), b"bbox\0globalKey\0img-1\0name\0car\x004");
        let line = one.lines().nth(4).unwrap();
        let mut expected = Vec::new();
        crate::uuid::push_hyphenated(
            &mut expected,
            &crate::uuid::v5(&crate::uuid::LBFAST_NAMESPACE, &c.uuid_name(4)),
        );
        assert!(line.contains(std::str::from_utf8(&expected).unwrap()), "{line}");
    }

    #[test]
    fn random_ids_differ_between_runs() {
        let mut c = columns(1, objects(boxes(vec![[1.0, 2.0, 3.0, 4.0]], BoxFormat::Xyxy), &["car"]));
        c.ids = Ids::Random;
        assert_ne!(run(&c, Some(1)).unwrap(), run(&c, Some(1)).unwrap());
    }

    #[test]
    fn bad_predictions_are_reported_by_index_and_field() {
        let mut c = columns(
            2,
            ColumnKind::Objects(ObjectColumns {
                features: vec![Feature::named("car"), Feature::named("bus")],
                class_ids: Some(vec![0, 2, 1, -1]),
                geometry: boxes(
                    vec![[0.0, 0.0, 1.0, 1.0], [0.0, f64::NAN, 1.0, 1.0], [0.0, 0.0, -1.0, 2.0], [0.0; 4]],
                    BoxFormat::Xywh,
                ),
                subclass: None,
            }),
        );
        c.image_index = Some(vec![0, 1, 2, 1]);
        c.confidence = Some(vec![0.5, 1.5, 0.5, f64::NAN]);
        assert_eq!(
            problems(&c),
            [
                "1|class_ids[1]|class id must be within [0, 2) (an index into features), got 2",
                "1|confidence[1]|confidence must be a number within [0, 1], got 1.5",
                "1|boxes[1][1]|coordinate must be finite, got NaN",
                "2|image_index[2]|image index must be within [0, 2) (an index into data_rows), got 2",
                "2|boxes[2][2]|width must not be negative, got -1",
                "3|class_ids[3]|class id must be within [0, 2) (an index into features), got -1",
                "3|confidence[3]|confidence must be a number within [0, 1], got NaN",
            ]
        );
    }

    #[test]
    fn batch_level_problems_are_reported_at_the_batch_row() {
        let mut c = columns(3, objects(boxes(vec![[0.0; 4]; 2], BoxFormat::Xyxy), &["car", "bus"]));
        c.confidence = Some(vec![0.5]);
        if let ColumnKind::Objects(o) = &mut c.kind {
            o.features[1] = Feature { name: None, schema_id: Some("short".into()) };
            if let GeometryColumn::Boxes(b) = &mut o.geometry {
                b.normalized = true;
            }
        }
        assert_eq!(
            problems(&c),
            [
                "0|data_rows|without image_index, data_rows must have one entry per prediction (2), got 3",
                "0|confidence|expected 2 values, one per prediction, got 1",
                "0|features[1]|schema id must be 25 characters long, got 5 (\"short\")",
                "0|class_ids|class_ids is needed when there is more than one feature (got 2)",
                "0|image_sizes|normalized boxes need image_sizes, one (width, height) per data row",
            ]
        );
    }

    #[test]
    fn ragged_offsets_and_point_counts_are_checked() {
        let pts = vec![pt(0.0, 0.0); 6];
        let bad = columns(
            3,
            objects(
                GeometryColumn::Polygons(Ragged { values: pts.clone(), offsets: vec![1, 4, 2, 5] }),
                &["g"],
            ),
        );
        assert_eq!(
            problems(&bad),
            [
                "0|offsets[0]|offsets must start at 0, got 1",
                "1|offsets[2]|offsets must not decrease: offsets[1] is 4, offsets[2] is 2",
                "2|offsets[3]|the last offset must be the number of coordinates, 6, got 5",
            ]
        );
        let mut short = columns(
            2,
            objects(GeometryColumn::Polygons(Ragged { values: pts.clone(), offsets: vec![0, 4, 6] }), &["g"]),
        );
        if let ColumnKind::Objects(o) = &mut short.kind {
            if let GeometryColumn::Polygons(r) = &mut o.geometry {
                r.values[5].y = f64::INFINITY;
            }
        }
        assert_eq!(
            problems(&short),
            [
                "1|coords[4:6]|a polygon must have at least 3 points, got 2",
                "1|coords[5][1]|coordinate must be finite, got Infinity",
            ]
        );
        let line =
            columns(1, objects(GeometryColumn::Lines(Ragged { values: pts, offsets: vec![0, 1] }), &["l"]));
        let found = problems(&line);
        assert_eq!(found[0], "0|offsets[1]|the last offset must be the number of coordinates, 6, got 1");
    }

    #[test]
    fn error_lists_are_capped_with_a_count() {
        let n = 5000;
        let mut c = columns(n, objects(boxes(vec![[0.0; 4]; n], BoxFormat::Xyxy), &["car"]));
        c.confidence = Some(vec![2.0; n]);
        let found = run(&c, None).unwrap_err();
        assert_eq!(found.len(), MAX_LISTED + 1);
        assert_eq!(found[MAX_LISTED - 1].row, MAX_LISTED - 1);
        assert!(found[MAX_LISTED].message.starts_with("4000 more problems"), "{}", found[MAX_LISTED].message);
    }

    /// `cargo test --release -p lbfast-core columnar::tests::timing -- --ignored --nocapture`:
    /// 1M boxes over 100k images with confidence on one thread, written by the fast
    /// path, by model annotations through `Batch`, and the cost of formatting their
    /// 5 floats alone.
    #[test]
    #[ignore]
    fn timing() {
        use std::time::Instant;
        let n = 1_000_000;
        let mut rng = fastrand::Rng::with_seed(7);
        let data: Vec<[f64; 4]> = (0..n)
            .map(|_| {
                let (x, y) = (rng.f64() * 1800.0, rng.f64() * 1000.0);
                [x, y, x + rng.f64() * 120.0, y + rng.f64() * 80.0]
            })
            .collect();
        let mut c = columns(100_000, objects(boxes(data, BoxFormat::Xyxy), &["car", "bus", "person"]));
        c.image_index = Some((0..n as i64).map(|i| i / 10).collect());
        c.confidence = Some((0..n).map(|_| rng.f32() as f64).collect());
        if let ColumnKind::Objects(o) = &mut c.kind {
            o.class_ids = Some((0..n).map(|_| rng.i64(0..3)).collect());
        }
        let rate = |label: &str, secs: f64, bytes: usize| {
            println!("{label:<44} {:>6.2} M rows/s  ({bytes} bytes)", n as f64 / secs / 1e6);
        };
        let mut warm_out = vec![1u8; 300 * n];
        for ids in [Ids::Random, Ids::Derived(crate::uuid::LBFAST_NAMESPACE)] {
            c.ids = ids;
            for threads in [Some(1), Some(2)] {
                let ids = if ids == Ids::Random { "random" } else { "deterministic" };
                let mut best = (f64::MAX, f64::MAX);
                let mut bytes = 0;
                for _ in 0..3 {
                    let mut batch = crate::batch::Batch::new();
                    batch.push_columns(0, c.clone());
                    let options = crate::options::Options { threads, ..Default::default() };
                    let t = Instant::now();
                    let checked = batch.check(&options).unwrap();
                    let mut at = 0;
                    checked.write(&mut |pieces| {
                        let len: usize = pieces.iter().map(Vec::len).sum();
                        parallel::copy_into(threads, &mut warm_out[at..at + len], pieces);
                        at += len;
                    });
                    best.0 = best.0.min(t.elapsed().as_secs_f64());
                    bytes = at;
                    let mut batch = crate::batch::Batch::new();
                    batch.push_columns(0, c.clone());
                    let t = Instant::now();
                    let out = batch.into_ndjson(&options).unwrap();
                    best.1 = best.1.min(t.elapsed().as_secs_f64());
                    assert_eq!(out.len(), bytes);
                }
                rate(&format!("{ids} ids, threads={threads:?}, into mapped memory"), best.0, bytes);
                rate(&format!("{ids} ids, threads={threads:?}, into_ndjson"), best.1, bytes);
            }
        }
        c.ids = Ids::Random;
        // Writing only, into a buffer whose pages are already mapped.
        let prepared = Prepared::new(&c);
        let mut warm = Vec::with_capacity(300 * n);
        for _ in 0..2 {
            warm.clear();
            let t = Instant::now();
            let mut w = RowWriter::new(&c, &prepared);
            for i in 0..n {
                w.write(i, &mut warm);
            }
            rate("write only, warm buffer", t.elapsed().as_secs_f64(), warm.len());
        }
        let mut issues = Issues::new();
        let t = Instant::now();
        let mut good = 0;
        for i in 0..n {
            issues.set_row(i);
            good += usize::from(check_column_row(&c, i, &mut issues));
        }
        rate("check only", t.elapsed().as_secs_f64(), good);
        let t = Instant::now();
        let issues = c.check(0, Some(1));
        rate("Columns::check", t.elapsed().as_secs_f64(), issues.len());
        let t = Instant::now();
        let items: Vec<crate::batch::Located> = (0..n)
            .map(|i| crate::batch::Located { row: i, slot: None, annotation: c.annotation(i) })
            .collect();
        let batch = crate::batch::Batch { items, ..Default::default() };
        let options = crate::options::Options { threads: Some(1), ..Default::default() };
        let out = batch.into_ndjson(&options).unwrap();
        rate("annotation per row through Batch", t.elapsed().as_secs_f64(), out.len());
        let confidence = c.confidence.as_ref().unwrap();
        let boxes = match &c.kind {
            ColumnKind::Objects(ObjectColumns { geometry: GeometryColumn::Boxes(b), .. }) => &b.boxes,
            _ => unreachable!(),
        };
        let mut out = Vec::with_capacity(n * 100);
        out.resize(n * 100, 1u8);
        out.clear();
        let t = Instant::now();
        for (b, conf) in boxes.iter().zip(confidence) {
            crate::json::push_f64(&mut out, *conf);
            let [top, left, height, width] = ndjson::bbox_of(&BBox::Corners(Corners {
                start: Pt { x: b[0], y: b[1] },
                end: Pt { x: b[2], y: b[3] },
            }));
            for v in [top, left, height, width] {
                crate::json::push_f64(&mut out, v);
            }
        }
        rate("floats only (5 per row)", t.elapsed().as_secs_f64(), out.len());
    }
}
