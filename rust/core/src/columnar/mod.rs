//! Columnar predictions: many predictions of one kind held as arrays (boxes from a
//! detector, one class id and score each), checked by the validator and written by
//! the writer without building an [`Annotation`] per prediction.
//!
//! Prediction `i` means exactly [`Columns::annotation`]`(i)`; the fast path
//! ([`Columns::process`]) writes the same bytes from borrowed parts: the data row
//! and feature of each line are rendered once per batch by the writer's own
//! functions ([`ndjson::Fragment`]) and copied, and a sub-classification is a
//! per-chunk template whose confidence is set per prediction ([`write`]).

mod write;

pub use write::{ColumnsWriter, Prepared};

use std::ops::Range;

use crate::issues::{Issues, Problem, MAX_LISTED};
use crate::json::push_i64;
use crate::model::{
    Annotation, AnnotationId, Answer, BBox, Body, Classification, ClassificationValue, Corners, DataRow,
    Feature, Geometry, GeometryKind, Marks, Metric, Object, Pt, Scores, Text,
};

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
    /// A random `UUIDv4` per annotation.
    Random,
    /// A `UUIDv5` in this namespace (see [`Columns::uuid_name`]).
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

impl GeometryColumn {
    pub fn kind(&self) -> GeometryKind {
        match self {
            GeometryColumn::Boxes(_) => GeometryKind::Bbox,
            GeometryColumn::Points(_) => GeometryKind::Point,
            GeometryColumn::Lines(_) => GeometryKind::Line,
            GeometryColumn::Polygons(_) => GeometryKind::Polygon,
        }
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

/// Confidences, one per prediction (one per answer id, for checklists). `present`,
/// when set (as long as `values`), marks those given: an absent one (an Arrow
/// null) writes none.
#[derive(Debug, Clone, Default)]
pub struct Confidences {
    pub values: Vec<f64>,
    pub present: Option<Vec<bool>>,
}

impl Confidences {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Confidence `i`, if given; `i` must be within the (checked) length.
    #[inline]
    pub fn get(&self, i: usize) -> Option<f64> {
        match &self.present {
            Some(present) if !present[i] => None,
            _ => Some(self.values[i]),
        }
    }
}

impl From<Vec<f64>> for Confidences {
    fn from(values: Vec<f64>) -> Self {
        Confidences { values, present: None }
    }
}

/// A radio question nested in every object, one answer per prediction.
#[derive(Debug, Clone)]
pub struct RadioColumn {
    pub question: Feature,
    pub answers: Vec<Feature>,
    /// `(N,)` indices into `answers`.
    pub answer_ids: Vec<i64>,
    /// `(N,)` confidence of each chosen answer.
    pub confidence: Option<Confidences>,
}

#[derive(Debug, Clone)]
pub struct ObjectColumns {
    pub features: Vec<Feature>,
    /// `(N,)` indices into `features`; `None` means feature 0 for every prediction.
    pub class_ids: Option<Vec<i64>>,
    pub geometry: GeometryColumn,
    pub subclass: Option<RadioColumn>,
    /// Custom metrics, a column each, written in this order; none when empty.
    pub custom_metrics: Vec<MetricColumn>,
}

/// One custom metric of every object: `values` holds prediction `i`'s value, and a
/// prediction whose value is absent (a null) has no such metric.
#[derive(Debug, Clone)]
pub struct MetricColumn {
    pub name: String,
    pub values: Confidences,
}

/// The custom metrics of prediction `i`, in column order; `None` when it has none.
pub fn metrics_of(columns: &[MetricColumn], i: usize) -> Option<Vec<Metric>> {
    let metrics: Vec<Metric> = columns
        .iter()
        .filter_map(|m| m.values.get(i).map(|value| Metric { name: m.name.clone(), value }))
        .collect();
    (!metrics.is_empty()).then_some(metrics)
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
    /// Entries of `data_rows` refused when read (`data_rows[k]` is then the stand-in
    /// [`DataRow::refused`]) and why; the rules report each on the predictions on it.
    pub refused_data_rows: Vec<(usize, Problem)>,
    /// `(N,)` indices into `data_rows`; `None` means prediction `i` is on data row `i`.
    pub image_index: Option<Vec<i64>>,
    /// Objects, radio and text: `(N,)`, one per prediction (of the object, the
    /// chosen answer, the text). Checklists: one per entry of the answer ids.
    pub confidence: Option<Confidences>,
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
            ColumnKind::Objects(o) => o.geometry.kind().key(),
            ColumnKind::Classifications(c) => match &c.value {
                AnswerColumn::Radio(_) => "radio",
                AnswerColumn::Checklist(_) => "checklist",
                AnswerColumn::Text(_) => "text",
            },
        }
    }

    /// The confidence of prediction `i` itself (of the object, the chosen answer, the
    /// text); a checklist's confidences belong to its chosen answers, not to it.
    pub fn prediction_confidence(&self, i: usize) -> Option<f64> {
        match &self.kind {
            ColumnKind::Classifications(ClassificationColumns {
                value: AnswerColumn::Checklist(_), ..
            }) => None,
            _ => self.confidence.as_ref().and_then(|c| c.get(i)),
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
        id_name_parts(self.kind_word(), &self.data_rows[data_row], self.feature(feature))
    }

    fn uuid(&self, hasher: Option<&V5Hasher>, i: usize, data_row: usize, feature: usize) -> AnnotationId {
        match hasher {
            None => AnnotationId::Random,
            Some(hasher) => derived_id(hasher, self.name_parts(data_row, feature), self.index_base + i),
        }
    }

    fn hasher(&self) -> Option<V5Hasher> {
        self.ids.hasher()
    }

    /// Prediction `i` as a model annotation: what [`Columns::process`] writes for it.
    /// For tests and for callers that want annotations; `i` must have been checked.
    pub fn annotation(&self, i: usize) -> Annotation {
        let data_row = self.data_row_of(i);
        let feature = self.feature_of(i);
        let uuid = self.uuid(self.hasher().as_ref(), i, data_row, feature);
        let confidence = self.prediction_confidence(i);
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
                        set_answer_confidence(&mut c, s.confidence.as_ref().and_then(|c| c.get(i)));
                        vec![c]
                    }
                    None => Vec::new(),
                };
                Body::Object(Object {
                    feature: o.features[feature].clone(),
                    scores: Scores { confidence, custom_metrics: metrics_of(&o.custom_metrics, i) },
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
                    fill_checklist(&mut list, c, ragged, self.confidence.as_ref(), i);
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
        let Some(bad) = check_columns(self, &mut issues) else {
            return issues;
        };
        let n = self.len();
        let found = parallel::map_ordered(threads, n.div_ceil(CHECK_ROWS), |k| {
            let mut issues = Issues::with_limit(MAX_LISTED);
            for i in k * CHECK_ROWS..n.min((k + 1) * CHECK_ROWS) {
                issues.set_row(first_row + i);
                check_column_row(self, i, &bad, &mut issues);
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

/// The first of two optional texts that is set, with its key (a feature's name,
/// else its schema id; checked features have one).
impl Ids {
    /// The hasher of deterministic ids; `None` for random ones.
    pub fn hasher(self) -> Option<V5Hasher> {
        match self {
            Ids::Random => None,
            Ids::Derived(namespace) => Some(V5Hasher::new(&namespace)),
        }
    }
}

/// A deterministic id's name but its index (see [`Columns::uuid_name`]):
/// `kind \0 dataRowKey \0 dataRow \0 featureKey \0 feature`.
pub fn id_name_parts<'a>(kind: &'a str, row: &'a DataRow, f: &'a Feature) -> [&'a [u8]; 9] {
    let (f_key, f_text) = either(f.name.as_ref(), "name", f.schema_id.as_ref(), "schemaId");
    [
        kind.as_bytes(),
        b"\0",
        row.key().as_bytes(),
        b"\0",
        row.text().as_bytes(),
        b"\0",
        f_key.as_bytes(),
        b"\0",
        f_text.as_bytes(),
    ]
}

/// The id of prediction `index` whose name starts with `parts`.
pub fn derived_id(hasher: &V5Hasher, parts: [&[u8]; 9], index: usize) -> AnnotationId {
    let [a, b, c, d, e, f, g, h, k] = parts;
    let mut digits = [0u8; 20];
    let index = crate::json::decimal(index as u64, &mut digits);
    AnnotationId::Derived(hasher.uuid(&[a, b, c, d, e, f, g, h, k, b"\0", index]))
}

pub(super) fn either<'a>(
    first: Option<&'a Text>,
    first_key: &'static str,
    second: Option<&'a Text>,
    second_key: &'static str,
) -> (&'static str, &'a str) {
    match (first, second) {
        (Some(t), _) => (first_key, t),
        (None, Some(t)) => (second_key, t),
        (None, None) => (second_key, ""),
    }
}

pub(super) fn radio(question: &Feature, answer: &Feature) -> Classification {
    Classification {
        feature: question.clone(),
        scores: Scores::default(),
        value: ClassificationValue::Radio(Answer {
            feature: answer.clone(),
            scores: Scores::default(),
            classifications: Vec::new(),
        }),
        classifications: Vec::new(),
        scores_on_value: false,
    }
}

pub(super) fn set_answer_confidence(c: &mut Classification, confidence: Option<f64>) {
    if let ClassificationValue::Radio(answer) = &mut c.value {
        answer.scores.confidence = confidence;
    }
}

pub(super) fn checklist(question: &Feature) -> Classification {
    Classification {
        feature: question.clone(),
        scores: Scores::default(),
        value: ClassificationValue::Checklist(Vec::new()),
        classifications: Vec::new(),
        scores_on_value: false,
    }
}

pub(super) fn fill_checklist(
    c: &mut Classification,
    columns: &ClassificationColumns,
    ragged: &Ragged<i64>,
    confidence: Option<&Confidences>,
    i: usize,
) {
    if let ClassificationValue::Checklist(list) = &mut c.value {
        list.clear();
        for j in ragged.bounds(i) {
            list.push(Answer {
                feature: columns.answers[ragged.values[j] as usize].clone(),
                scores: Scores { confidence: confidence.and_then(|c| c.get(j)), custom_metrics: None },
                classifications: Vec::new(),
            });
        }
    }
}

pub(super) fn text(question: &Feature) -> Classification {
    Classification {
        feature: question.clone(),
        scores: Scores::default(),
        value: ClassificationValue::Text(String::new()),
        classifications: Vec::new(),
        scores_on_value: false,
    }
}

pub(super) fn fill_text(c: &mut Classification, text: &str, confidence: Option<f64>) {
    c.scores.confidence = confidence;
    if let ClassificationValue::Text(t) = &mut c.value {
        t.clear();
        t.push_str(text);
    }
}

#[cfg(test)]
mod tests;
