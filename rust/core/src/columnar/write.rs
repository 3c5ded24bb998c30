//! Writing checked columnar predictions: the data rows and features of a batch are
//! rendered once, each line is built from borrowed parts and written by the one
//! line writer ([`crate::ndjson`]).

use std::ops::Range;

use super::{
    checklist, fill_checklist, fill_text, metrics_of, radio, set_answer_confidence, text, AnswerColumn,
    ClassificationColumns, ColumnKind, Columns, GeometryColumn, ObjectColumns, RadioColumn, NO_MARKS,
};
use crate::model::{BBox, Classification, Scores};
use crate::ndjson::{self, ClassificationLine, Fragment, GeometryRef, ObjectLine, Rendered};
use crate::uuid::V5Hasher;

/// Writes the checked predictions of a [`Columns`]; shared by the threads writing it.
pub struct ColumnsWriter<'a> {
    pub(super) c: &'a Columns,
    pub(super) p: &'a Prepared,
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
                let metrics: usize = o.custom_metrics.iter().map(|m| 40 + 6 * m.name.len() + FLOAT_LEN).sum();
                let ragged = match &o.geometry {
                    GeometryColumn::Boxes(_) => 5 * FLOAT_LEN,
                    GeometryColumn::Points(_) => 3 * FLOAT_LEN,
                    GeometryColumn::Lines(_) | GeometryColumn::Polygons(_) => 2 * FLOAT_LEN,
                };
                sub + metrics + ragged
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
    pub(super) fn new(c: &Columns) -> Self {
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
        let confidence = c.prediction_confidence(i);
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
                        set_answer_confidence(t, s.confidence.as_ref().and_then(|c| c.get(i)));
                        std::slice::from_ref(t)
                    }
                    None => &[],
                };
                let scores = Scores { confidence, custom_metrics: metrics_of(&o.custom_metrics, i) };
                ndjson::write_object_line(
                    out,
                    &ObjectLine {
                        uuid: &uuid,
                        data_row: &rendered_row,
                        feature: &self.p.features.get(feature),
                        scores: &scores,
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
                        fill_checklist(t, q, ragged, c.confidence.as_ref(), i);
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
