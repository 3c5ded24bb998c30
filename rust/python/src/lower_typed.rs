//! Lowering of the typed objects of `lbfast.types` (the SDK's API) into core annotations.

use lbfast_core::batch::{Batch, Located};
use lbfast_core::issues::{Code, Issues, Problem};
use lbfast_core::model::{
    Annotation, Answer, BBox, Body, Classification, ClassificationValue, Corners, DataRow, End, Feature,
    Geometry, Marks, Mask, MaskColor, Metric, MetricKind, MetricLine, Object, Pt, Relationship, Scores, Text,
};
use lbfast_core::rules::mask::{label_size_problem, local_pixels_problem};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyType};

use crate::extract::{
    color_of, decode_png, f64_of, flag_of, metrics, opt_f64, opt_fresh_text, opt_string, opt_text, sequence,
    string_of, too_deep, type_error, ImageCache, MAX_DEPTH,
};

use crate::tags::{
    CHECKLIST, CLASSIFICATION_ANNOTATION, CONFUSION_MATRIX_METRIC, LINE, MASK, OBJECT_ANNOTATION, POINT,
    POLYGON, RADIO, RECTANGLE, RELATIONSHIP_ANNOTATION, SCALAR_METRIC, TEXT,
};

/// An annotation of a Label, lowered: its uuid (from `extra`), body, message id, and
/// for a relationship the objects its ends name (source, target), linked once every
/// Label is read ([`TypedLowering::link_relationships`]).
/// A relationship line read: its index in the batch, its slot, and its two ends.
type RelationshipEnds<'py> = (usize, usize, [Option<Bound<'py, PyAny>>; 2]);

struct Lowered<'py> {
    uuid: Option<String>,
    body: Body,
    message_id: Option<String>,
    ends: [Option<Bound<'py, PyAny>>; 2],
}

/// A relationship end to link: relationship line `items[index]` (of `row`, `slot`),
/// its source (`0`) or target (`1`), and the object it names (held, so that its
/// address stays its own).
struct PendingEnd<'py> {
    index: usize,
    row: usize,
    slot: usize,
    side: usize,
    object: Bound<'py, PyAny>,
}

/// The classes of `lbfast.types` and their `_lbkind`, read once per process: reading
/// them on each call cost a small `dumps` a sixth of its time.
static KINDS: PyOnceLock<Vec<(Py<PyType>, i64)>> = PyOnceLock::new();

fn kinds(py: Python<'_>) -> PyResult<Vec<(Py<PyType>, i64)>> {
    let module = py.import(intern!(py, "lbfast.types"))?;
    let names = [
        "ObjectAnnotation",
        "Rectangle",
        "Point",
        "ClassificationAnnotation",
        "Polygon",
        "Radio",
        "Checklist",
        "Text",
        "Line",
        "Mask",
        "ScalarMetric",
        "ConfusionMatrixMetric",
        "RelationshipAnnotation",
    ];
    names
        .into_iter()
        .map(|name| {
            let class = module.getattr(name)?.cast_into::<PyType>()?;
            let kind = class.getattr(intern!(py, "_lbkind"))?.extract::<i64>()?;
            Ok((class.unbind(), kind))
        })
        .collect()
}

pub struct TypedLowering<'py> {
    py: Python<'py>,
    pub batch: Batch,
    images: ImageCache,
    /// The classes of `lbfast.types` with their `_lbkind`, so that the common case
    /// is a pointer comparison rather than an attribute lookup.
    kinds: &'static [(Py<PyType>, i64)],
    /// Largest PNG (width × height) that will be decoded.
    pub max_mask_pixels: u64,
    /// The current Label's `image_size` (width, height), which its masks must have.
    image_size: Option<(i64, i64)>,
    /// The annotations of each Label read, by row, kept so that relationship ends can
    /// be found by address at the end. One push per Label rather than one per
    /// annotation: a per-annotation push changed glibc's heap so that it was trimmed
    /// after each call, and page faults then cost `dumps` of typed boxes a third.
    labels_read: Vec<(usize, Vec<Bound<'py, PyAny>>)>,
    pending: Vec<PendingEnd<'py>>,
}

impl<'py> TypedLowering<'py> {
    pub fn new(py: Python<'py>) -> PyResult<Self> {
        Ok(TypedLowering {
            py,
            batch: Batch::new(),
            images: ImageCache::default(),
            kinds: KINDS.get_or_try_init(py, || kinds(py))?,
            max_mask_pixels: lbfast_core::mask::DEFAULT_MAX_PIXELS,
            image_size: None,
            labels_read: Vec::new(),
            pending: Vec::new(),
        })
    }

    /// The `_lbkind` of a value's class, 0 for anything that is not one of ours.
    fn kind_of(&self, value: &Bound<'py, PyAny>) -> i64 {
        let class = value.get_type_ptr();
        if let Some((_, kind)) = self.kinds.iter().find(|(c, _)| c.as_ptr().cast() == class) {
            return *kind;
        }
        // Subclasses and look-alikes carry the tag too.
        value.getattr(intern!(self.py, "_lbkind")).and_then(|k| k.extract::<i64>()).unwrap_or(0)
    }

    pub fn label(&mut self, row: usize, label: &Bound<'py, PyAny>) -> PyResult<()> {
        let py = self.py;
        self.batch.issues.set_row(row);
        let Ok(annotations) = label.getattr(intern!(py, "annotations")) else {
            return Err(type_error(&self.batch.issues, "a Label", label));
        };
        let issues = &mut self.batch.issues;
        issues.push_key("data");
        let data_row = data_row_of(&label.getattr(intern!(py, "data"))?, issues)?;
        issues.pop();
        issues.push_key("annotations");
        let items = sequence(&annotations, issues, "a list of annotations")?;
        issues.pop();
        self.image_size = crate::masks::label_image_size(label, &mut self.batch.issues)?;
        let benchmark_reference = match label.getattr_opt(intern!(py, "is_benchmark_reference"))? {
            Some(flag) => self.batch.issues.at("is_benchmark_reference", |i| flag_of(&flag, i))?,
            None => false,
        };
        // Each line goes straight into the batch (no copy per Label); a Label with a
        // relationship is reordered after, as the SDK writes relationships first.
        let start = self.batch.items.len();
        self.batch.items.reserve(items.len());
        let mut ends = Vec::new();
        let mut relationships = 0;
        for (slot, item) in items.iter().enumerate() {
            self.batch.issues.push_key("annotations");
            self.batch.issues.push_index(slot);
            let result = self.annotation(item);
            self.batch.issues.pop();
            self.batch.issues.pop();
            let l = result?;
            if let Body::Relationship(_) = l.body {
                relationships += 1;
                ends.push((self.batch.items.len(), slot, l.ends));
            }
            let marks = Marks { message_id: l.message_id, benchmark_reference };
            self.batch.items.push(Located {
                row,
                slot: Some(slot),
                annotation: Annotation {
                    uuid: l.uuid.into(),
                    data_row: data_row.clone(),
                    body: l.body,
                    marks,
                },
            });
        }
        if relationships > 0 {
            self.relationships_first(start, ends);
        }
        self.labels_read.push((row, items));
        Ok(())
    }

    /// Moves the relationship lines of the Label at `items[start..]` before its other
    /// lines (stable), keeping the pending ends (of the relationships at `ends`)
    /// pointing at the lines where they end up.
    fn relationships_first(&mut self, start: usize, ends: Vec<RelationshipEnds<'py>>) {
        let items = &mut self.batch.items;
        let is_relationship = |l: &Located| matches!(l.annotation.body, Body::Relationship(_));
        let mut order: Vec<usize> = (start..items.len()).collect();
        order.sort_by_key(|&i| !is_relationship(&items[i]));
        // Where each line of the Label goes.
        let mut moved_to = vec![0; items.len() - start];
        for (k, &i) in order.iter().enumerate() {
            moved_to[i - start] = start + k;
        }
        let mut taken: Vec<Option<Located>> = items.drain(start..).map(Some).collect();
        for &i in &order {
            items.push(taken[i - start].take().expect("each line once"));
        }
        let new_index = |i: usize| if i >= start { moved_to[i - start] } else { i };
        for (index, slot, sides) in ends {
            let index = new_index(index);
            let row = self.batch.items[index].row;
            for (side, object) in sides.into_iter().enumerate() {
                if let Some(object) = object {
                    self.pending.push(PendingEnd { index, row, slot, side, object });
                }
            }
        }
    }

    /// Links the ends of the relationships read to the lines of the objects they
    /// name: [`End::Item`] for an annotation written in this call, [`End::Unlisted`]
    /// for any other. The rules then check that each is an object of the same Label.
    pub fn link_relationships(&mut self) {
        let labels = std::mem::take(&mut self.labels_read);
        if self.pending.is_empty() {
            return;
        }
        let items = &self.batch.items;
        let is_there = |index: usize, row: usize, slot: usize| {
            items.get(index).is_some_and(|item| item.row == row && item.slot == Some(slot))
        };
        let index_of: std::collections::HashMap<(usize, usize), usize> =
            items.iter().enumerate().filter_map(|(i, l)| Some(((l.row, l.slot?), i))).collect();
        // The latest annotation at an address is the one alive (a pending end is held).
        let mut by_address = std::collections::HashMap::with_capacity(index_of.len());
        for (row, annotations) in &labels {
            for (slot, annotation) in annotations.iter().enumerate() {
                if let Some(&index) = index_of.get(&(*row, slot)) {
                    by_address.insert(annotation.as_ptr() as usize, index);
                }
            }
        }
        let mut links = Vec::with_capacity(self.pending.len());
        for p in std::mem::take(&mut self.pending) {
            if !is_there(p.index, p.row, p.slot) {
                continue;
            }
            let end = match by_address.get(&(p.object.as_ptr() as usize)) {
                Some(&index) => End::Item(index),
                None => End::Unlisted(describe_object(&p.object)),
            };
            links.push((p.index, p.side, end));
        }
        for (index, side, end) in links {
            if let Body::Relationship(r) = &mut self.batch.items[index].annotation.body {
                if side == 0 {
                    r.source = Some(end);
                } else {
                    r.target = end;
                }
            }
        }
    }

    /// One annotation of a Label.
    fn annotation(&mut self, ann: &Bound<'py, PyAny>) -> PyResult<Lowered<'py>> {
        let py = self.py;
        let kind = self.kind_of(ann);
        if !matches!(
            kind,
            OBJECT_ANNOTATION
                | CLASSIFICATION_ANNOTATION
                | SCALAR_METRIC
                | CONFUSION_MATRIX_METRIC
                | RELATIONSHIP_ANNOTATION
        ) {
            let expected = "an ObjectAnnotation or ClassificationAnnotation (or a RelationshipAnnotation, \
                            ScalarMetric or ConfusionMatrixMetric)";
            return Err(type_error(&self.batch.issues, expected, ann));
        }
        // The native ObjectAnnotation's `extra` is read as stored (its getter would
        // make an empty dict when there is none).
        let extra = match ann.cast::<crate::types::ObjectAnnotation>() {
            Ok(native) => native.borrow().extra.as_ref().map(|e| e.bind(py).clone()),
            Err(_) => Some(ann.getattr(intern!(py, "extra"))?),
        };
        let uuid = match extra {
            Some(extra) => uuid_of(&extra, &mut self.batch.issues)?,
            None => None,
        };
        let other = match kind {
            OBJECT_ANNOTATION => Some((Body::Object(self.object(ann)?), [None, None])),
            SCALAR_METRIC => Some((Body::Metric(self.metric(ann, MetricKind::Scalar)?), [None, None])),
            CONFUSION_MATRIX_METRIC => {
                Some((Body::Metric(self.metric(ann, MetricKind::ConfusionMatrix)?), [None, None]))
            }
            RELATIONSHIP_ANNOTATION => {
                let (r, ends) = self.relationship(ann)?;
                Some((Body::Relationship(r), ends))
            }
            _ => None,
        };
        if let Some((body, ends)) = other {
            return Ok(Lowered { uuid, body, message_id: None, ends });
        }
        self.batch.issues.push_key("message_id");
        let message_id = match ann.getattr_opt(intern!(py, "message_id"))? {
            Some(m) => opt_string(&m, &mut self.batch.issues),
            None => Ok(None),
        };
        self.batch.issues.pop();
        let body = Body::Classification(self.classification(ann, 0)?);
        Ok(Lowered { uuid, body, message_id: message_id?, ends: [None, None] })
    }

    /// A `ScalarMetric` or `ConfusionMatrixMetric`.
    fn metric(&mut self, ann: &Bound<'py, PyAny>, kind: MetricKind) -> PyResult<MetricLine> {
        let py = self.py;
        let issues = &mut self.batch.issues;
        let value = ann.getattr(intern!(py, "value"))?;
        let value = issues.at("value", |i| {
            lbfast_core::read::metric::metric_value(kind, &crate::py_node::PyNode(value.clone()), i)
        })?;
        let mut text = |key: &'static str| -> PyResult<Option<Text>> {
            let v = ann.getattr(key)?;
            issues.at(key, |i| opt_text(&v, i))
        };
        let (metric_name, feature_name, subclass_name) =
            (text("metric_name")?, text("feature_name")?, text("subclass_name")?);
        let aggregation = ann.getattr(intern!(py, "aggregation"))?;
        let aggregation = issues.at("aggregation", |i| opt_text(&enum_value(&aggregation)?, i))?;
        Ok(MetricLine { kind, value, metric_name, feature_name, subclass_name, aggregation })
    }

    /// A `RelationshipAnnotation` and the objects its ends name.
    fn relationship(
        &mut self,
        ann: &Bound<'py, PyAny>,
    ) -> PyResult<(Relationship, [Option<Bound<'py, PyAny>>; 2])> {
        let py = self.py;
        let feature = self.feature(ann)?;
        let value = ann.getattr(intern!(py, "value"))?;
        let issues = &mut self.batch.issues;
        issues.push_key("value");
        let result = (|| {
            let Some(target) = value.getattr_opt(intern!(py, "target"))? else {
                return Err(type_error(issues, "a Relationship", &value));
            };
            let source = value.getattr(intern!(py, "source"))?;
            let kind = enum_value(&value.getattr(intern!(py, "type"))?)?;
            let kind = issues.at("type", |i| string_of(&kind, i))?;
            let readonly = value.getattr(intern!(py, "readonly"))?;
            let readonly = if readonly.is_none() {
                None
            } else {
                Some(issues.at("readonly", |i| flag_of(&readonly, i))?)
            };
            let name = value.getattr(intern!(py, "source_ontology_name"))?;
            let source_ontology_name = issues.at("source_ontology_name", |i| opt_text(&name, i))?;
            let source = (!source.is_none()).then_some(source);
            let relationship = Relationship {
                feature,
                source: source.as_ref().map(|_| End::Refused),
                target: End::Refused,
                kind: kind.into(),
                readonly,
                source_ontology_name,
            };
            Ok((relationship, [source, Some(target)]))
        })();
        issues.pop();
        result
    }

    fn object(&mut self, ann: &Bound<'py, PyAny>) -> PyResult<Object> {
        let py = self.py;
        // The native ObjectAnnotation's fields are read directly, others by attribute.
        let [name, schema_id, confidence, custom_metrics, value, classifications] =
            match ann.cast::<crate::types::ObjectAnnotation>() {
                Ok(native) => native.borrow().fields(py),
                Err(_) => [
                    intern!(py, "name"),
                    intern!(py, "feature_schema_id"),
                    intern!(py, "confidence"),
                    intern!(py, "custom_metrics"),
                    intern!(py, "value"),
                    intern!(py, "classifications"),
                ]
                .map(|key| ann.getattr(key))
                .into_iter()
                .collect::<PyResult<Vec<_>>>()?
                .try_into()
                .map_err(|_| type_error(&self.batch.issues, "an ObjectAnnotation", ann))?,
            };
        let feature = self.feature_from(&name, &schema_id)?;
        let mut scores = self.scores_from(&confidence, &custom_metrics)?;
        self.batch.issues.push_key("value");
        let geometry = self.geometry(&value, &mut scores);
        self.batch.issues.pop();
        let geometry = geometry?;
        let classifications = self.classification_list(&classifications, 0)?;
        Ok(Object { feature, scores, geometry, classifications })
    }

    fn feature(&mut self, item: &Bound<'py, PyAny>) -> PyResult<Feature> {
        let py = self.py;
        let name = item.getattr(intern!(py, "name"))?;
        let schema_id = item.getattr(intern!(py, "feature_schema_id"))?;
        self.feature_from(&name, &schema_id)
    }

    fn feature_from(&mut self, name: &Bound<'py, PyAny>, schema_id: &Bound<'py, PyAny>) -> PyResult<Feature> {
        let issues = &mut self.batch.issues;
        issues.push_key("name");
        let name = opt_text(name, issues);
        issues.pop();
        issues.push_key("feature_schema_id");
        let schema_id = opt_text(schema_id, issues);
        issues.pop();
        Ok(Feature { name: name?, schema_id: schema_id? })
    }

    fn scores(&mut self, item: &Bound<'py, PyAny>) -> PyResult<Scores> {
        let py = self.py;
        let confidence = item.getattr(intern!(py, "confidence"))?;
        let custom_metrics = item.getattr(intern!(py, "custom_metrics"))?;
        self.scores_from(&confidence, &custom_metrics)
    }

    fn scores_from(
        &mut self,
        confidence: &Bound<'py, PyAny>,
        custom_metrics: &Bound<'py, PyAny>,
    ) -> PyResult<Scores> {
        let issues = &mut self.batch.issues;
        issues.push_key("confidence");
        let confidence = opt_f64(confidence, issues);
        issues.pop();
        issues.push_key("custom_metrics");
        let custom_metrics = metrics(custom_metrics, issues);
        issues.pop();
        Ok(Scores { confidence: confidence?, custom_metrics: custom_metrics? })
    }

    fn point(&mut self, value: &Bound<'py, PyAny>) -> PyResult<Pt> {
        let py = self.py;
        // The native Point (and its subclasses) holds floats already.
        if let Ok(point) = value.cast::<crate::types::Point>() {
            let point = point.borrow();
            return Ok(Pt { x: point.x, y: point.y });
        }
        if self.kind_of(value) != POINT {
            return Err(type_error(&self.batch.issues, "a Point", value));
        }
        let issues = &mut self.batch.issues;
        issues.push_key("x");
        let x = f64_of(&value.getattr(intern!(py, "x"))?, issues);
        issues.pop();
        issues.push_key("y");
        let y = f64_of(&value.getattr(intern!(py, "y"))?, issues);
        issues.pop();
        Ok(Pt { x: x?, y: y? })
    }

    fn points(&mut self, value: &Bound<'py, PyAny>) -> PyResult<Vec<Pt>> {
        self.batch.issues.push_key("points");
        let result = (|| {
            let items = sequence(
                &value.getattr(intern!(self.py, "points"))?,
                &self.batch.issues,
                "a list of Points",
            )?;
            let mut out = Vec::with_capacity(items.len() + 1);
            for (i, item) in items.iter().enumerate() {
                self.batch.issues.push_index(i);
                let p = self.point(item);
                self.batch.issues.pop();
                out.push(p?);
            }
            Ok(out)
        })();
        self.batch.issues.pop();
        result
    }

    fn geometry(&mut self, value: &Bound<'py, PyAny>, scores: &mut Scores) -> PyResult<Geometry> {
        let py = self.py;
        match self.kind_of(value) {
            POINT => Ok(Geometry::Point(self.point(value)?)),
            RECTANGLE => {
                let (start, end, native) = match value.cast::<crate::types::Rectangle>() {
                    Ok(rect) => {
                        let native = rect.clone();
                        let rect = rect.borrow();
                        (rect.start.bind(py).clone(), rect.end.bind(py).clone(), Some(native))
                    }
                    Err(_) => {
                        (value.getattr(intern!(py, "start"))?, value.getattr(intern!(py, "end"))?, None)
                    }
                };
                self.batch.issues.push_key("start");
                let start = self.point(&start);
                self.batch.issues.pop();
                self.batch.issues.push_key("end");
                let end = self.point(&end);
                self.batch.issues.pop();
                let (start, end) = (start?, end?);
                // A box read from NDJSON and not moved since is written as it was read.
                if let Some(tlhw) =
                    native.and_then(|rect| rect.borrow().unchanged_wire((start.x, start.y), (end.x, end.y)))
                {
                    return Ok(Geometry::Bbox(BBox::TopLeftHeightWidth(tlhw)));
                }
                Ok(Geometry::Bbox(BBox::Corners(Corners { start, end })))
            }
            LINE => Ok(Geometry::Line(self.points(value)?)),
            POLYGON => Ok(Geometry::Polygon(self.points(value)?)),
            MASK => {
                // The SDK ignores a confidence given on the Mask; it is the object's.
                self.batch.issues.push_key("confidence");
                let mask_confidence = opt_f64(&value.getattr(intern!(py, "confidence"))?, &self.batch.issues);
                self.batch.issues.pop();
                if let Some(c) = mask_confidence? {
                    merge_confidence(
                        &mut scores.confidence,
                        c,
                        "the annotation and its Mask",
                        &mut self.batch.issues,
                    );
                }
                Ok(Geometry::Mask(self.mask(value)?))
            }
            _ => Err(type_error(&self.batch.issues, "a Point, Rectangle, Line, Polygon or Mask", value)),
        }
    }

    fn mask(&mut self, value: &Bound<'py, PyAny>) -> PyResult<Mask> {
        let py = self.py;
        self.batch.issues.push_key("color");
        let color = color_of(&value.getattr(intern!(py, "color"))?, &mut self.batch.issues);
        self.batch.issues.pop();
        let Some(color) = color? else {
            return Ok(Mask::Refused);
        };
        let data = value.getattr(intern!(py, "mask"))?;
        self.batch.issues.push_key("mask");
        let result = self.mask_source(&data, color);
        self.batch.issues.pop();
        result
    }

    fn mask_source(&mut self, data: &Bound<'py, PyAny>, color: MaskColor) -> PyResult<Mask> {
        let py = self.py;
        let source = data
            .call_method0(intern!(py, "_source"))
            .map_err(|_| type_error(&self.batch.issues, "a MaskData", data))?;
        let (kind, payload): (String, Bound<'py, PyAny>) = source.extract()?;
        // A PNG read from NDJSON (already binary, white where set) is written as read.
        if kind == "ndjson_png" && color.rgb() == [255; 3] {
            if let Ok(bytes) = payload.cast::<PyBytes>() {
                let bytes = bytes.as_bytes().to_vec();
                return Ok(Mask::Png(bytes));
            }
        }
        let kind = if kind == "ndjson_png" { "png".to_string() } else { kind };
        if kind == "url" {
            self.batch.issues.push_key("url");
            let uri = string_of(&payload, &mut self.batch.issues);
            self.batch.issues.pop();
            // Pixels given beside the URL are checked here: Labelbox would only find
            // an absent colour after the upload.
            let local = match data.getattr_opt(intern!(py, "_local_pixels"))? {
                Some(method) => method.call0()?,
                None => py.None().into_bound(py),
            };
            if !local.is_none() {
                let (kind, payload): (String, Bound<'py, PyAny>) = local.extract()?;
                let size = self.image_size;
                let problem = match self.pixels(data, &kind, &payload)? {
                    Ok(image) => py.detach(|| local_pixels_problem(&image, color, size)),
                    Err(reason) => Some(Problem::new(Code::MaskImage, reason)),
                };
                if let Some(problem) = problem {
                    return Ok(self.refused_mask(problem));
                }
            }
            return Ok(Mask::Url { uri: uri?, color });
        }
        Ok(match self.pixels(data, &kind, &payload)? {
            Ok(image) => match label_size_problem(&image, self.image_size) {
                Some(problem) => self.refused_mask(problem),
                None => Mask::Pixels { image, color },
            },
            Err(reason) => self.refused_mask(Problem::new(Code::MaskImage, reason)),
        })
    }

    /// Records why the mask at the current path cannot be used.
    fn refused_mask(&mut self, problem: Problem) -> Mask {
        self.batch.issues.report_problem(problem);
        Mask::Refused
    }

    /// The decoded pixels of a `MaskData` (decoded once per object and call).
    fn pixels(
        &mut self,
        data: &Bound<'py, PyAny>,
        kind: &str,
        payload: &Bound<'py, PyAny>,
    ) -> PyResult<Result<std::sync::Arc<lbfast_core::mask::Image>, String>> {
        let py = self.py;
        let max_pixels = self.max_mask_pixels;
        self.images.get_or_decode(data, || match kind {
            "png" => {
                let bytes = payload
                    .cast::<PyBytes>()
                    .map_err(|_| type_error(&self.batch.issues, "PNG bytes", payload))?;
                Ok(decode_png(py, bytes.as_bytes(), max_pixels))
            }
            _ => crate::arrays::image_of_array(payload),
        })
    }

    fn classification_list(
        &mut self,
        value: &Bound<'py, PyAny>,
        depth: usize,
    ) -> PyResult<Vec<Classification>> {
        if value.is_none() {
            return Ok(Vec::new());
        }
        self.batch.issues.push_key("classifications");
        let result = (|| {
            let items = sequence(value, &self.batch.issues, "a list of ClassificationAnnotations")?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                self.batch.issues.push_index(i);
                let c = if self.kind_of(item) == CLASSIFICATION_ANNOTATION {
                    self.classification(item, depth + 1)
                } else {
                    Err(type_error(&self.batch.issues, "a ClassificationAnnotation", item))
                };
                self.batch.issues.pop();
                out.push(c?);
            }
            Ok(out)
        })();
        self.batch.issues.pop();
        result
    }

    fn classification(&mut self, ann: &Bound<'py, PyAny>, depth: usize) -> PyResult<Classification> {
        let py = self.py;
        if depth > MAX_DEPTH {
            return Err(too_deep(py, &self.batch.issues));
        }
        let feature = self.feature(ann)?;
        let mut scores = self.scores(ann)?;
        let on_annotation = scores_given(&scores);
        let value = ann.getattr(intern!(py, "value"))?;
        self.batch.issues.push_key("value");
        let result = self.classification_value(&value, &mut scores, depth);
        self.batch.issues.pop();
        let (value, classifications) = result?;
        let scores_on_value = !on_annotation && scores_given(&scores);
        Ok(Classification { feature, scores, value, classifications, scores_on_value })
    }

    fn classification_value(
        &mut self,
        value: &Bound<'py, PyAny>,
        scores: &mut Scores,
        depth: usize,
    ) -> PyResult<(ClassificationValue, Vec<Classification>)> {
        let py = self.py;
        let kind = self.kind_of(value);
        if !matches!(kind, RADIO | CHECKLIST | TEXT) {
            return Err(type_error(&self.batch.issues, "a Radio, Checklist or Text", value));
        }
        // Scores given on the value belong to the question too; the SDK keeps only one
        // of the two places, lbfast keeps whichever is set and refuses a contradiction.
        let value_scores = self.scores(value)?;
        if let Some(c) = value_scores.confidence {
            merge_confidence(
                &mut scores.confidence,
                c,
                "the annotation and its value",
                &mut self.batch.issues,
            );
        }
        if let Some(m) = value_scores.custom_metrics {
            merge_metrics(&mut scores.custom_metrics, m, &mut self.batch.issues);
        }
        let answer = value.getattr(intern!(py, "answer"))?;
        self.batch.issues.push_key("answer");
        let result = match kind {
            RADIO => self.answer(&answer, depth).map(ClassificationValue::Radio),
            CHECKLIST => (|| {
                let items = sequence(&answer, &self.batch.issues, "a list of ClassificationAnswers")?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    self.batch.issues.push_index(i);
                    let a = self.answer(item, depth);
                    self.batch.issues.pop();
                    out.push(a?);
                }
                Ok(ClassificationValue::Checklist(out))
            })(),
            _ => string_of(&answer, &mut self.batch.issues).map(ClassificationValue::Text),
        };
        self.batch.issues.pop();
        let lowered = result?;
        // Only Text holds classifications of its own; answers hold theirs.
        let nested = if kind == TEXT {
            self.classification_list(&value.getattr(intern!(py, "classifications"))?, depth)?
        } else {
            Vec::new()
        };
        Ok((lowered, nested))
    }

    fn answer(&mut self, answer: &Bound<'py, PyAny>, depth: usize) -> PyResult<Answer> {
        let py = self.py;
        if !answer.hasattr(intern!(py, "feature_schema_id"))? || answer.is_instance_of::<PyString>() {
            return Err(type_error(&self.batch.issues, "a ClassificationAnswer", answer));
        }
        let feature = self.feature(answer)?;
        let scores = self.scores(answer)?;
        let classifications =
            self.classification_list(&answer.getattr(intern!(py, "classifications"))?, depth)?;
        Ok(Answer { feature, scores, classifications })
    }
}

/// A confidence or some custom metrics are set.
fn scores_given(s: &Scores) -> bool {
    s.confidence.is_some() || s.custom_metrics.as_ref().is_some_and(|m| !m.is_empty())
}

fn merge_confidence(into: &mut Option<f64>, other: f64, what: &str, issues: &mut Issues) {
    match *into {
        None => *into = Some(other),
        Some(existing) if existing == other || (existing.is_nan() && other.is_nan()) => {}
        Some(existing) => issues.report_at(
            "confidence",
            Code::Confidence,
            format!("conflicting confidence on {what}: {existing} and {other}; set it in one place"),
        ),
    }
}

fn merge_metrics(into: &mut Option<Vec<Metric>>, other: Vec<Metric>, issues: &mut Issues) {
    match into {
        Some(existing) if !existing.is_empty() && !other.is_empty() && *existing != other => issues
            .report_at(
                "custom_metrics",
                Code::MisplacedMetrics,
                "custom metrics are set on both the annotation and its value; set them in one place",
            ),
        Some(existing) if !existing.is_empty() => {}
        _ => *into = Some(other),
    }
}

/// An enum member's `value` (`Relationship.Type.BIDIRECTIONAL`, an aggregation), or
/// the value itself (a plain string).
fn enum_value<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if value.is_instance_of::<PyString>() || value.is_none() {
        return Ok(value.clone());
    }
    match value.getattr_opt(intern!(value.py(), "value"))? {
        Some(inner) => Ok(inner),
        None => Ok(value.clone()),
    }
}

/// An annotation object as messages name it: `ObjectAnnotation 'wheel'`.
fn describe_object(object: &Bound<'_, PyAny>) -> String {
    let py = object.py();
    let type_name = object.get_type().name().map_or_else(|_| "?".to_string(), |n| n.to_string());
    let name = [intern!(py, "name"), intern!(py, "feature_schema_id")]
        .into_iter()
        .find_map(|key| object.getattr_opt(key).ok().flatten().and_then(|v| v.extract::<String>().ok()));
    match name {
        Some(name) => format!("{type_name} '{name}'"),
        None => format!("a {type_name}"),
    }
}

/// `extra["uuid"]`, when the caller fixed the annotation's id.
fn uuid_of(extra: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<String>> {
    if extra.is_none() {
        return Ok(None);
    }
    let Ok(dict) = extra.cast::<PyDict>() else {
        return Ok(None);
    };
    match dict.get_item(intern!(extra.py(), "uuid"))? {
        Some(uuid) if !uuid.is_none() => {
            issues.push_key("extra");
            issues.push_key("uuid");
            let text = string_of(&uuid, issues);
            issues.pop();
            issues.pop();
            text.map(Some)
        }
        _ => Ok(None),
    }
}

/// `Label.data`: a dict with `global_key`/`uid` (the SDK also takes `external_id`,
/// which cannot be written), or an object with those attributes.
fn data_row_of(data: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<DataRow> {
    let py = data.py();
    let (uid, key) = if let Ok(dict) = data.cast::<PyDict>() {
        (dict.get_item(intern!(py, "uid"))?, dict.get_item(intern!(py, "global_key"))?)
    } else if data.hasattr(intern!(py, "global_key"))? || data.hasattr(intern!(py, "uid"))? {
        (data.getattr_opt(intern!(py, "uid"))?, data.getattr_opt(intern!(py, "global_key"))?)
    } else {
        return Err(type_error(issues, "a dict with `global_key` or `uid`", data));
    };
    let mut field = |value: Option<Bound<'_, PyAny>>, key: &'static str| -> PyResult<Option<Text>> {
        match value {
            Some(v) => {
                issues.push_key(key);
                let s = opt_fresh_text(&v, issues);
                issues.pop();
                s
            }
            None => Ok(None),
        }
    };
    let (id, key) = (field(uid, "uid")?, field(key, "global_key")?);
    Ok(crate::extract::data_row_or_refused(DataRow::from_parts(id, key), issues))
}
