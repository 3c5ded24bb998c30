//! Core annotations back into the typed objects of `lbfast.types` (what `lbfast.loads`
//! returns): one `Label` per data row, in order of first appearance, its annotations
//! in file order. Each annotation's `uuid` goes to its `extra`, as the SDK keeps it;
//! a relationship's ends become the annotations of its Label that have those uuids.

use std::collections::HashMap;

use lbfast_core::batch::Located;
use lbfast_core::issues::{Code, Issues};
use lbfast_core::model::{
    Annotation, AnnotationId, Answer, BBox, Body, Classification, ClassificationValue, DataRow, End, Feature,
    Geometry, Mask, MaskColor, MetricKind, MetricLine, MetricValue, Object, Pt, Relationship, Scores,
};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use pyo3::BoundObject as _;

use crate::types::{ObjectAnnotation, Point, Rectangle};

/// The classes of `lbfast.types` that are defined in Python.
struct Classes<'py> {
    label: Bound<'py, PyAny>,
    data_row: Bound<'py, PyAny>,
    line: Bound<'py, PyAny>,
    polygon: Bound<'py, PyAny>,
    mask: Bound<'py, PyAny>,
    mask_data: Bound<'py, PyAny>,
    classification: Bound<'py, PyAny>,
    radio: Bound<'py, PyAny>,
    checklist: Bound<'py, PyAny>,
    text: Bound<'py, PyAny>,
    answer: Bound<'py, PyAny>,
    metric: Bound<'py, PyAny>,
    scalar_metric: Bound<'py, PyAny>,
    confusion_matrix_metric: Bound<'py, PyAny>,
    relationship: Bound<'py, PyAny>,
    relationship_annotation: Bound<'py, PyAny>,
}

/// A relationship line waiting for the other lines of its Label: where it goes
/// (group, position), its row, and what it holds.
struct Pending<'py> {
    group: usize,
    at: usize,
    row: usize,
    relationship: Relationship,
    extra: Option<Bound<'py, PyAny>>,
}

/// One Label being made: its data row, annotations and benchmark mark.
struct Group<'py> {
    data_row: DataRow,
    annotations: Bound<'py, PyList>,
    benchmark: bool,
    /// Its annotations by uuid, for relationships' ends.
    by_uuid: HashMap<String, Bound<'py, PyAny>>,
}

/// The Labels of `items`, one per data row. A relationship end that names no line of
/// its Label is a problem of its row, in `issues`.
pub fn labels<'py>(
    py: Python<'py>,
    items: Vec<Located>,
    issues: &mut Issues,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let types = py.import(intern!(py, "lbfast.types"))?;
    let get = |name: &str| types.getattr(name);
    let classes = Classes {
        label: get("Label")?,
        data_row: get("GenericDataRowData")?,
        line: get("Line")?,
        polygon: get("Polygon")?,
        mask: get("Mask")?,
        mask_data: get("MaskData")?,
        classification: get("ClassificationAnnotation")?,
        radio: get("Radio")?,
        checklist: get("Checklist")?,
        text: get("Text")?,
        answer: get("ClassificationAnswer")?,
        metric: get("CustomMetric")?,
        scalar_metric: get("ScalarMetric")?,
        confusion_matrix_metric: get("ConfusionMatrixMetric")?,
        relationship: get("Relationship")?,
        relationship_annotation: get("RelationshipAnnotation")?,
    };
    let mut groups: Vec<Group<'py>> = Vec::new();
    let mut index: HashMap<DataRow, usize> = HashMap::new();
    let mut pending = Vec::new();
    for item in items {
        let Located { row, annotation, .. } = item;
        let at = *index.entry(annotation.data_row.clone()).or_insert_with(|| {
            groups.push(Group {
                data_row: annotation.data_row.clone(),
                annotations: PyList::empty(py),
                benchmark: false,
                by_uuid: HashMap::new(),
            });
            groups.len() - 1
        });
        let group = &mut groups[at];
        group.benchmark |= annotation.marks.benchmark_reference;
        let uuid = match &annotation.uuid {
            AnnotationId::Given(uuid) => Some(uuid.to_string()),
            AnnotationId::Random | AnnotationId::Derived(_) => None,
        };
        let extra = extra_of(py, &annotation.uuid)?;
        if let Body::Relationship(relationship) = annotation.body {
            // Made once the whole Label is read: its ends may come after it.
            pending.push(Pending { group: at, at: group.annotations.len(), row, relationship, extra });
            group.annotations.append(py.None())?;
            continue;
        }
        let made = classes.annotation(py, annotation, extra)?;
        if let Some(uuid) = uuid {
            group.by_uuid.entry(uuid).or_insert_with(|| made.clone());
        }
        group.annotations.append(made)?;
    }
    for p in pending {
        let group = &groups[p.group];
        let made = classes.relationship_line(py, p.relationship, p.extra, &group.by_uuid, p.row, issues)?;
        group.annotations.set_item(p.at, made)?;
    }
    groups
        .into_iter()
        .map(|group| {
            let data = match &group.data_row {
                DataRow::Id(id) => classes.data_row.call1((&**id, py.None())),
                DataRow::GlobalKey(key) => classes.data_row.call1((py.None(), &**key)),
            }?;
            classes.label.call1((data, group.annotations, py.None(), group.benchmark))
        })
        .collect()
}

/// `{"uuid": ...}` when the line gave its uuid.
fn extra_of<'py>(py: Python<'py>, uuid: &AnnotationId) -> PyResult<Option<Bound<'py, PyAny>>> {
    match uuid {
        AnnotationId::Given(uuid) => {
            let extra = PyDict::new(py);
            extra.set_item(intern!(py, "uuid"), uuid.as_str())?;
            Ok(Some(extra.into_any()))
        }
        AnnotationId::Random | AnnotationId::Derived(_) => Ok(None),
    }
}

/// A count as an int when it is one (counts are), else the number as read.
fn count(py: Python<'_>, v: f64) -> PyResult<Bound<'_, PyAny>> {
    #[allow(clippy::cast_possible_truncation)] // only when exact
    let int = v as i64;
    #[allow(clippy::cast_precision_loss)]
    let exact = v.fract() == 0.0 && v.abs() < 9.0e15 && int as f64 == v;
    if exact {
        Ok(int.into_pyobject(py)?.into_any())
    } else {
        Ok(v.into_pyobject(py)?.into_any())
    }
}

fn opt<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: Option<T>) -> PyResult<Bound<'py, PyAny>> {
    match value {
        Some(v) => Ok(v.into_pyobject(py).map_err(Into::into)?.into_any().into_bound()),
        None => Ok(py.None().into_bound(py)),
    }
}

impl<'py> Classes<'py> {
    fn annotation(
        &self,
        py: Python<'py>,
        a: Annotation,
        extra: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match a.body {
            Body::Object(o) => self.object(py, o, extra),
            Body::Classification(c) => self.classification(py, &c, extra, a.marks.message_id),
            Body::Metric(m) => self.metric_line(py, m, extra),
            // Made by `relationship_line`, once its Label is read.
            Body::Relationship(_) => Ok(py.None().into_bound(py)),
        }
    }

    fn metric_line(
        &self,
        py: Python<'py>,
        m: MetricLine,
        extra: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let numbers = |values: &[f64]| -> PyResult<Bound<'py, PyAny>> {
            match m.kind {
                MetricKind::Scalar => {
                    Ok(values.first().copied().unwrap_or(f64::NAN).into_pyobject(py)?.into_any())
                }
                MetricKind::ConfusionMatrix => {
                    Ok(PyList::new(py, values.iter().map(|&v| count(py, v)).collect::<PyResult<Vec<_>>>()?)?
                        .into_any())
                }
            }
        };
        let value = match &m.value {
            MetricValue::Single(values) => numbers(values)?,
            MetricValue::ByConfidence(entries) => {
                let dict = PyDict::new(py);
                for (confidence, values) in entries {
                    dict.set_item(confidence, numbers(values)?)?;
                }
                dict.into_any()
            }
        };
        let class = match m.kind {
            MetricKind::Scalar => &self.scalar_metric,
            MetricKind::ConfusionMatrix => &self.confusion_matrix_metric,
        };
        let args = (
            value,
            opt(py, m.metric_name.as_deref())?,
            opt(py, m.feature_name.as_deref())?,
            opt(py, m.subclass_name.as_deref())?,
            opt(py, m.aggregation.as_deref())?,
            opt(py, extra)?,
        );
        class.call1(args)
    }

    /// A relationship line, its ends the annotations of its Label with those uuids;
    /// an end that names none is a problem of `row`.
    fn relationship_line(
        &self,
        py: Python<'py>,
        r: Relationship,
        extra: Option<Bound<'py, PyAny>>,
        by_uuid: &HashMap<String, Bound<'py, PyAny>>,
        row: usize,
        issues: &mut Issues,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut end = |side: &'static str, end: Option<&End>| -> Bound<'py, PyAny> {
            let Some(End::Uuid(uuid)) = end else { return py.None().into_bound(py) };
            if let Some(found) = by_uuid.get(uuid) {
                return found.clone();
            }
            issues.set_row(row);
            issues.at_keys(&["relationship", side], |issues| {
                issues.report(
                    Code::RelationshipEnd,
                    format!(
                        "the {side} of this relationship is uuid {uuid:?}, which no line of its data row has"
                    ),
                );
            });
            py.None().into_bound(py)
        };
        let source = end("source", r.source.as_ref());
        let target = end("target", Some(&r.target));
        let value = self.relationship.call1((
            target,
            source,
            &*r.kind,
            opt(py, r.readonly)?,
            opt(py, r.source_ontology_name.as_deref())?,
        ))?;
        let (name, schema_id) = feature_of(py, &r.feature)?;
        self.relationship_annotation.call1((value, name, schema_id, opt(py, extra)?))
    }

    fn object(
        &self,
        py: Python<'py>,
        o: Object,
        extra: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let Object { feature, scores, geometry, classifications } = o;
        let (name, schema_id) = feature_of(py, &feature)?;
        let value = self.geometry(py, geometry)?;
        let classifications = self.classification_list(py, &classifications)?;
        let annotation = ObjectAnnotation {
            value: value.unbind(),
            name: Some(name.unbind()),
            feature_schema_id: Some(schema_id.unbind()),
            confidence: Some(opt(py, scores.confidence)?.unbind()),
            custom_metrics: Some(self.metrics(py, &scores)?.unbind()),
            classifications: Some(classifications.into_any().unbind()),
            extra: extra.map(Bound::unbind),
        };
        Ok(Bound::new(py, annotation)?.into_any())
    }

    fn geometry(&self, py: Python<'py>, geometry: Geometry) -> PyResult<Bound<'py, PyAny>> {
        let point = |p: &Pt| Bound::new(py, Point { x: p.x, y: p.y, extra: None }).map(Bound::into_any);
        let points = |ps: &[Pt]| -> PyResult<Bound<'py, PyList>> {
            PyList::new(py, ps.iter().map(point).collect::<PyResult<Vec<_>>>()?)
        };
        Ok(match geometry {
            Geometry::Point(p) => point(&p)?,
            Geometry::Bbox(BBox::TopLeftHeightWidth(tlhw)) => {
                Bound::new(py, Rectangle::from_wire(py, tlhw)?)?.into_any()
            }
            Geometry::Bbox(BBox::Corners(c)) => {
                let rect = Rectangle {
                    start: point(&c.start)?.unbind(),
                    end: point(&c.end)?.unbind(),
                    extra: None,
                    wire: None,
                };
                Bound::new(py, rect)?.into_any()
            }
            Geometry::Line(ps) => self.line.call1((points(&ps)?,))?,
            Geometry::Polygon(ps) => self.polygon.call1((points(&ps)?,))?,
            Geometry::Mask(mask) => self.mask(py, mask)?,
        })
    }

    fn mask(&self, py: Python<'py>, mask: Mask) -> PyResult<Bound<'py, PyAny>> {
        let kwargs = PyDict::new(py);
        let (color, png) = match mask {
            Mask::Url { uri, color } => {
                kwargs.set_item(intern!(py, "url"), uri)?;
                (color, None)
            }
            Mask::Png(png) => {
                let bytes = PyBytes::new(py, &png);
                kwargs.set_item(intern!(py, "im_bytes"), &bytes)?;
                (MaskColor::Rgb([255; 3]), Some(bytes))
            }
            // Reading records a problem for a refused mask (and never makes pixels).
            Mask::Pixels { .. } | Mask::Refused => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "internal error: a refused mask was read",
                ))
            }
        };
        let data = self.mask_data.call((), Some(&kwargs))?;
        if let Some(png) = png {
            data.setattr(intern!(py, "_ndjson_png"), png)?;
        }
        let color = match color {
            MaskColor::Gray(v) => v.into_pyobject(py)?.into_any(),
            MaskColor::Rgb(rgb) => PyTuple::new(py, rgb)?.into_any(),
        };
        self.mask.call1((data, color))
    }

    fn metrics(&self, py: Python<'py>, scores: &Scores) -> PyResult<Bound<'py, PyAny>> {
        match &scores.custom_metrics {
            Some(metrics) => {
                let list = PyList::empty(py);
                for m in metrics {
                    list.append(self.metric.call1((&m.name, m.value))?)?;
                }
                Ok(list.into_any())
            }
            None => Ok(py.None().into_bound(py)),
        }
    }

    fn classification_list(&self, py: Python<'py>, list: &[Classification]) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for c in list {
            out.append(self.classification(py, c, None, None)?)?;
        }
        Ok(out)
    }

    fn classification(
        &self,
        py: Python<'py>,
        c: &Classification,
        extra: Option<Bound<'py, PyAny>>,
        message_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value = match &c.value {
            ClassificationValue::Radio(a) => self.radio.call1((self.answer(py, a)?,))?,
            ClassificationValue::Checklist(answers) => {
                let list = PyList::empty(py);
                for a in answers {
                    list.append(self.answer(py, a)?)?;
                }
                self.checklist.call1((list,))?
            }
            ClassificationValue::Text(text) => {
                let nested = self.classification_list(py, &c.classifications)?;
                self.text.call1((text, py.None(), py.None(), nested))?
            }
        };
        let (name, schema_id) = feature_of(py, &c.feature)?;
        let args = (
            value,
            name,
            schema_id,
            opt(py, c.scores.confidence)?,
            self.metrics(py, &c.scores)?,
            opt(py, extra)?,
            opt(py, message_id)?,
        );
        self.classification.call1(args)
    }

    fn answer(&self, py: Python<'py>, a: &Answer) -> PyResult<Bound<'py, PyAny>> {
        let (name, schema_id) = feature_of(py, &a.feature)?;
        let nested = self.classification_list(py, &a.classifications)?;
        let nested = if nested.is_empty() { py.None().into_bound(py) } else { nested.into_any() };
        self.answer.call1((
            name,
            schema_id,
            opt(py, a.scores.confidence)?,
            self.metrics(py, &a.scores)?,
            nested,
        ))
    }
}

fn feature_of<'py>(py: Python<'py>, f: &Feature) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    Ok((opt(py, f.name.as_deref())?, opt(py, f.schema_id.as_deref())?))
}
