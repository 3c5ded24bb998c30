//! Lowering of `lbfast.columnar` batches: arrays are read once, straight into the
//! core's columns, whatever their dtype and strides; no Python object is made per
//! prediction. Shapes are checked here (a wrong one is an issue at the batch's first
//! row); everything else is checked by the core's validator.

use lbfast_core::batch::Batch;
use lbfast_core::columnar::{
    AnswerColumn, BoxColumn, BoxFormat, ClassificationColumns, ColumnKind, Columns, Confidences,
    GeometryColumn, Ids, ObjectColumns, RadioColumn, Ragged,
};
use lbfast_core::issues::{Code, Issues};
use lbfast_core::model::{DataRow, Feature, Pt, Text};
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyType};

use crate::arrays::{ints, opt_floats, opt_ints, rows_of};
use crate::extract::{flag_of, sequence, string_of, text_of, type_error};

use crate::tags::{BOXES, CLASSIFICATIONS, POINTS, POLYGONS, POLYLINES};

static BASE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Recognises and lowers columnar batches.
pub struct ColumnarLowering<'py> {
    base: Bound<'py, PyType>,
}

impl<'py> ColumnarLowering<'py> {
    /// `threads`: the call's choice, also used to convert large arrays.
    pub fn new(py: Python<'py>, threads: Option<usize>) -> PyResult<Self> {
        crate::arrays::set_threads(threads);
        Ok(ColumnarLowering { base: BASE.import(py, "lbfast.columnar", "_Columns")?.clone() })
    }

    pub fn is_columns(&self, item: &Bound<'py, PyAny>) -> PyResult<bool> {
        item.is_instance(&self.base)
    }

    /// Lowers one batch whose predictions are rows `first_row..`; returns how many
    /// rows it occupies (its number of predictions).
    #[allow(clippy::unused_self, reason = "one lowering object per call, as for the other entrances")]
    pub fn lower(&self, batch: &mut Batch, first_row: usize, item: &Bound<'py, PyAny>) -> PyResult<usize> {
        let issues = &mut batch.issues;
        issues.set_row(first_row);
        let before = issues.count_of(Code::Shape);
        let (columns, rows) = read_columns(item, issues)?;
        // A batch with a wrong shape is not checked further: its rows mean nothing.
        if issues.count_of(Code::Shape) == before {
            batch.push_columns(first_row, columns);
        }
        Ok(rows)
    }
}

fn attr<'py>(
    item: &Bound<'py, PyAny>,
    name: &Bound<'py, pyo3::types::PyString>,
) -> PyResult<Bound<'py, PyAny>> {
    item.getattr(name)
}

fn read_columns(item: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<(Columns, usize)> {
    let py = item.py();
    let tag: i64 = attr(item, intern!(py, "_lbcolumnar"))?.extract()?;
    let by_id = attr(item, intern!(py, "data_row_kind"))?.extract::<String>()? == "id";
    let schema_ids = attr(item, intern!(py, "feature_kind"))?.extract::<String>()? == "schema_id";
    let texts = issues.at("data_rows", |issues| texts(&attr(item, intern!(py, "data_rows"))?, issues))?;
    let mut refused_data_rows = Vec::new();
    let data_rows = (texts.into_iter().enumerate())
        .map(|(k, t)| {
            DataRow::from_text(t, by_id).unwrap_or_else(|problem| {
                refused_data_rows.push((k, problem));
                DataRow::refused()
            })
        })
        .collect();
    let features = issues
        .at("features", |issues| features(&attr(item, intern!(py, "features"))?, schema_ids, issues))?;
    let image_index = opt_ints(&attr(item, intern!(py, "image_index"))?, "image_index", issues)?;
    let confidence =
        opt_floats(&attr(item, intern!(py, "confidence"))?, "confidence", issues)?.map(Confidences::from);
    let ids = match attr(item, intern!(py, "_namespace"))? {
        ns if ns.is_none() => Ids::Random,
        ns => {
            let bytes = ns.cast::<PyBytes>().map_err(|_| type_error(issues, "16 namespace bytes", &ns))?;
            let namespace: [u8; 16] = bytes
                .as_bytes()
                .try_into()
                .map_err(|_| PyTypeError::new_err("a uuid namespace must be 16 bytes"))?;
            Ids::Derived(namespace)
        }
    };
    let index_base = match item.getattr_opt(intern!(py, "_start"))? {
        Some(start) => start.extract::<usize>()?,
        None => 0,
    };
    let (kind, rows) = if tag == CLASSIFICATIONS {
        let question = features.into_iter().next().unwrap_or_default();
        classifications(item, question, schema_ids, issues)?
    } else {
        let class_ids = opt_ints(&attr(item, intern!(py, "class_ids"))?, "class_ids", issues)?;
        let (geometry, rows) = geometry(item, tag, issues)?;
        let subclass = match attr(item, intern!(py, "subclass"))? {
            s if s.is_none() => None,
            s => Some(issues.at("subclass", |issues| subclass(&s, issues))?),
        };
        (
            ColumnKind::Objects(ObjectColumns {
                features,
                class_ids,
                geometry,
                subclass,
                custom_metrics: Vec::new(),
            }),
            rows,
        )
    };
    Ok((Columns { data_rows, refused_data_rows, image_index, confidence, ids, index_base, kind }, rows))
}

fn geometry(item: &Bound<'_, PyAny>, tag: i64, issues: &mut Issues) -> PyResult<(GeometryColumn, usize)> {
    let py = item.py();
    Ok(match tag {
        BOXES => {
            let (boxes, rows) = rows_of::<4, _>(&attr(item, intern!(py, "boxes"))?, "boxes", issues, |r| r)?;
            let format = match attr(item, intern!(py, "box_format"))?.extract::<String>()?.as_str() {
                "xywh" => BoxFormat::Xywh,
                "cxcywh" => BoxFormat::Cxcywh,
                _ => BoxFormat::Xyxy,
            };
            let normalized = attr(item, intern!(py, "normalized"))?;
            let normalized = issues.at("normalized", |i| flag_of(&normalized, i))?;
            let sizes = attr(item, intern!(py, "image_sizes"))?;
            let image_sizes = if sizes.is_none() {
                None
            } else {
                Some(rows_of::<2, _>(&sizes, "image_sizes", issues, |r| r)?.0)
            };
            (GeometryColumn::Boxes(BoxColumn { boxes, format, normalized, image_sizes }), rows)
        }
        POINTS => {
            let (points, rows) = rows_of::<2, _>(&attr(item, intern!(py, "points"))?, "points", issues, pt)?;
            (GeometryColumn::Points(points), rows)
        }
        POLYLINES | POLYGONS => {
            let (values, _) = rows_of::<2, _>(&attr(item, intern!(py, "coords"))?, "coords", issues, pt)?;
            let offsets = ints(&attr(item, intern!(py, "offsets"))?, "offsets", issues)?;
            let rows = offsets.len().saturating_sub(1);
            let ragged = Ragged { values, offsets };
            let geometry = if tag == POLYGONS {
                GeometryColumn::Polygons(ragged)
            } else {
                GeometryColumn::Lines(ragged)
            };
            (geometry, rows)
        }
        _ => return Err(type_error(issues, "a columnar batch of lbfast.columnar", item)),
    })
}

fn pt([x, y]: [f64; 2]) -> Pt {
    Pt { x, y }
}

fn subclass(item: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<RadioColumn> {
    let py = item.py();
    let schema_ids = attr(item, intern!(py, "kind"))?.extract::<String>()? == "schema_id";
    let question =
        issues.at("question", |issues| feature(&attr(item, intern!(py, "question"))?, schema_ids, issues))?;
    let answers =
        issues.at("answers", |issues| features(&attr(item, intern!(py, "answers"))?, schema_ids, issues))?;
    let answer_ids = ints(&attr(item, intern!(py, "answer_ids"))?, "answer_ids", issues)?;
    let confidence =
        opt_floats(&attr(item, intern!(py, "confidence"))?, "confidence", issues)?.map(Confidences::from);
    Ok(RadioColumn { question, answers, answer_ids, confidence })
}

fn classifications(
    item: &Bound<'_, PyAny>,
    question: Feature,
    schema_ids: bool,
    issues: &mut Issues,
) -> PyResult<(ColumnKind, usize)> {
    let py = item.py();
    let kind = attr(item, intern!(py, "kind"))?.extract::<String>()?;
    let answers = match attr(item, intern!(py, "answers"))? {
        a if a.is_none() => Vec::new(),
        a => issues.at("answers", |issues| features(&a, schema_ids, issues))?,
    };
    let (value, rows) = match kind.as_str() {
        "text" => {
            let texts: Vec<String> = issues.at("texts", |issues| {
                let items = sequence(&attr(item, intern!(py, "texts"))?, issues, "a list of strings")?;
                items
                    .iter()
                    .enumerate()
                    .map(|(i, t)| issues.at_index(i, |issues| string_of(t, issues)))
                    .collect::<PyResult<Vec<String>>>()
            })?;
            let rows = texts.len();
            (AnswerColumn::Text(texts), rows)
        }
        "checklist" => {
            let values = ints(&attr(item, intern!(py, "answer_ids"))?, "answer_ids", issues)?;
            let offsets = ints(&attr(item, intern!(py, "offsets"))?, "offsets", issues)?;
            let rows = offsets.len().saturating_sub(1);
            (AnswerColumn::Checklist(Ragged { values, offsets }), rows)
        }
        _ => {
            let ids = ints(&attr(item, intern!(py, "answer_ids"))?, "answer_ids", issues)?;
            let rows = ids.len();
            (AnswerColumn::Radio(ids), rows)
        }
    };
    Ok((ColumnKind::Classifications(ClassificationColumns { question, answers, value }), rows))
}

/// A list of strings as shared texts; the current path names the list.
fn texts(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Vec<Text>> {
    let items = sequence(value, issues, "a list of strings")?;
    let mut out = Vec::with_capacity(items.len());
    for (k, s) in items.iter().enumerate() {
        out.push(match s.cast::<pyo3::types::PyString>().map(|s| s.to_str()) {
            // The common case without touching the path; anything else is reported at it.
            Ok(Ok(text)) => Text::from(text),
            _ => issues.at_index(k, |issues| text_of(s, issues))?,
        });
    }
    Ok(out)
}

fn feature(value: &Bound<'_, PyAny>, schema_id: bool, issues: &mut Issues) -> PyResult<Feature> {
    let text = text_of(value, issues)?;
    Ok(if schema_id { Feature { name: None, schema_id: Some(text) } } else { Feature::named(text) })
}

fn features(value: &Bound<'_, PyAny>, schema_id: bool, issues: &mut Issues) -> PyResult<Vec<Feature>> {
    Ok(texts(value, issues)?
        .into_iter()
        .map(|t| if schema_id { Feature { name: None, schema_id: Some(t) } } else { Feature::named(t) })
        .collect())
}

// --- numpy arrays ---------------------------------------------------------------
