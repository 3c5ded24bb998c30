//! Lowering of NDJSON-shaped dicts (the guide's "NDJSON" payloads) into core annotations.
//!
//! Each dict is read in one pass over its items. Unknown keys are reported rather
//! than ignored, so that a typo (`"confidance"`) never silently loses a value.

use base64::Engine as _;
use lbfast_core::batch::{Batch, Located};
use lbfast_core::issues::{Code, Issues};
use lbfast_core::model::{
    Annotation, Answer, BBox, Body, Classification, ClassificationValue, DataRow, End, Feature, Geometry,
    Marks, Mask, MetricKind, MetricLine, Object, Pt, Relationship, Scores, Text,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString, PyTuple};

use crate::extract::{
    check_keys, check_read_keys, color_of, data_row_or_refused, f64_of, flag_of, key_text, metrics, opt_f64,
    opt_fresh_text, opt_string, opt_text, report_unknown, sequence, string_of, too_deep, type_error,
    MAX_DEPTH,
};

/// What a dict's keys said, before deciding whether it is an object or a classification.
#[derive(Default)]
struct Fields<'py> {
    uuid: Option<String>,
    data_row: Option<DataRow>,
    feature: Feature,
    scores: Scores,
    geometry: Vec<(&'static str, Geometry)>,
    answer: Option<Bound<'py, PyAny>>,
    marks: Marks,
    classifications: Option<Bound<'py, PyAny>>,
    /// A metric line's `metricValue`, and its names (`metricName`, `featureName`,
    /// `subclassName`, `aggregation`).
    metric_value: Option<Bound<'py, PyAny>>,
    metric_names: [Option<Text>; 4],
    relationship: Option<Bound<'py, PyAny>>,
}

fn dict_of<'a, 'py>(
    value: &'a Bound<'py, PyAny>,
    issues: &Issues,
    what: &str,
) -> PyResult<&'a Bound<'py, PyDict>> {
    value.cast::<PyDict>().map_err(|_| type_error(issues, what, value))
}

/// Lowers one NDJSON-shaped dict, input item number `row`, into `batch`.
pub fn lower_dict(batch: &mut Batch, row: usize, item: &Bound<'_, PyAny>) -> PyResult<()> {
    let issues = &mut batch.issues;
    issues.set_row(row);
    let dict = dict_of(item, issues, "an NDJSON-shaped dict")?;
    let mut fields = read_fields(dict, issues, true)?;
    let data_row = match fields.data_row.take() {
        Some(data_row) => data_row,
        None => issues.at("dataRow", |issues| data_row_or_refused(DataRow::from_parts(None, None), issues)),
    };
    let uuid = fields.uuid.take();
    let marks = std::mem::take(&mut fields.marks);
    if let Some(body) = body_of(fields, issues, 0)? {
        let annotation = Annotation { uuid: uuid.into(), data_row, body, marks };
        batch.items.push(Located { row, slot: None, annotation });
    }
    Ok(())
}

fn read_fields<'py>(
    dict: &Bound<'py, PyDict>,
    issues: &mut Issues,
    top_level: bool,
) -> PyResult<Fields<'py>> {
    let mut f = Fields::default();
    for (key, value) in dict.iter() {
        let Some(key_text) = key_text(&key, issues)? else { continue };
        match key_text {
            "name" => f.feature.name = issues.at("name", |i| opt_text(&value, i))?,
            "schemaId" => f.feature.schema_id = issues.at("schemaId", |i| opt_text(&value, i))?,
            "confidence" => f.scores.confidence = issues.at("confidence", |i| opt_f64(&value, i))?,
            "customMetrics" => {
                f.scores.custom_metrics = issues.at("customMetrics", |i| metrics(&value, i))?;
            }
            "answer" | "answers" => f.answer = Some(value),
            "classifications" => f.classifications = Some(value),
            "messageId" if top_level => {
                f.marks.message_id = issues.at("messageId", |i| opt_string(&value, i))?;
            }
            "isBenchmarkReferenceLabel" if top_level => {
                f.marks.benchmark_reference =
                    issues.at("isBenchmarkReferenceLabel", |i| flag_of(&value, i))?;
            }
            "uuid" if top_level => f.uuid = issues.at("uuid", |i| opt_string(&value, i))?,
            "dataRow" if top_level => f.data_row = Some(issues.at("dataRow", |i| data_row_of(&value, i))?),
            "bbox" => f.geometry.push(("bbox", issues.at("bbox", |i| bbox_of(&value, i))?)),
            "point" => {
                f.geometry.push(("point", issues.at("point", |i| pt_of(&value, i).map(Geometry::Point))?));
            }
            "line" => {
                f.geometry.push(("line", issues.at("line", |i| points_of(&value, i).map(Geometry::Line))?));
            }
            "polygon" => f
                .geometry
                .push(("polygon", issues.at("polygon", |i| points_of(&value, i).map(Geometry::Polygon))?)),
            "mask" => {
                f.geometry.push(("mask", issues.at("mask", |i| mask_of(&value, i).map(Geometry::Mask))?));
            }
            "metricValue" if top_level => f.metric_value = Some(value),
            "metricName" | "featureName" | "subclassName" | "aggregation" if top_level => {
                let k = METRIC_KEYS.iter().position(|k| *k == key_text).unwrap_or_default();
                f.metric_names[k] = issues.at(METRIC_KEYS[k], |i| opt_text(&value, i))?;
            }
            "relationship" if top_level => f.relationship = Some(value),
            other => {
                report_unknown(issues, other, if top_level { "" } else { " in a nested classification" });
            }
        }
    }
    Ok(f)
}

/// Decides what the dict is: one geometry makes an object, an `answer` a
/// classification, a `metricValue` a metric line, a `relationship` a relationship.
fn body_of(mut f: Fields<'_>, issues: &mut Issues, depth: usize) -> PyResult<Option<Body>> {
    if let Some(value) = f.metric_value.take() {
        return metric_of(f, &value, issues);
    }
    if let Some(value) = f.relationship.take() {
        return relationship_of(f, &value, issues);
    }
    if let Some(key) = metric_key(&f) {
        issues.report_at(
            key,
            Code::Structure,
            format!("{key} belongs to a metric line, which needs metricValue"),
        );
        return Ok(None);
    }
    let Fields { feature, scores, mut geometry, answer, classifications, .. } = f;
    match (geometry.len(), answer) {
        (1, None) => {
            let classifications = classification_list(classifications.as_ref(), issues, depth)?;
            let (_, geometry) = geometry.pop().expect("one geometry");
            Ok(Some(Body::Object(Object { feature, scores, geometry, classifications })))
        }
        (0, Some(answer)) => {
            let c = classification_of(feature, scores, &answer, classifications.as_ref(), issues, depth)?;
            Ok(c.map(Body::Classification))
        }
        (0, None) => {
            issues.report(
                Code::Structure,
                "expected one of the keys bbox, point, line, polygon, mask (an object) or answer (a classification)",
            );
            Ok(None)
        }
        _ => {
            let keys: Vec<&str> = geometry.iter().map(|(k, _)| *k).collect();
            let extra = if keys.len() > 1 { "" } else { " and answer" };
            issues.report(
                Code::Structure,
                format!("expected one geometry or one answer, got {}{extra}", keys.join(", ")),
            );
            Ok(None)
        }
    }
}

/// The names of a metric line, in the order of [`Fields::metric_names`].
const METRIC_KEYS: [&str; 4] = ["metricName", "featureName", "subclassName", "aggregation"];

/// The first metric key of a dict, if it has one.
fn metric_key(f: &Fields<'_>) -> Option<&'static str> {
    METRIC_KEYS.into_iter().zip(&f.metric_names).find_map(|(key, v)| v.is_some().then_some(key))
}

/// The keys of an object or classification, which a metric or relationship line lacks.
fn annotation_key(f: &Fields<'_>, names_too: bool) -> Option<&'static str> {
    let given = [
        ("name", names_too && f.feature.name.is_some()),
        ("schemaId", names_too && f.feature.schema_id.is_some()),
        ("confidence", f.scores.confidence.is_some()),
        ("customMetrics", f.scores.custom_metrics.is_some()),
        ("answer", f.answer.is_some()),
        ("classifications", f.classifications.is_some()),
        ("messageId", f.marks.message_id.is_some()),
    ];
    given
        .into_iter()
        .find_map(|(key, set)| set.then_some(key))
        .or_else(|| f.geometry.first().map(|(k, _)| *k))
}

/// A metric line: `{metricValue, metricName?, featureName?, subclassName?, aggregation?}`.
/// Four counts (or counts by confidence) make a confusion matrix, a number a scalar.
fn metric_of(f: Fields<'_>, value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<Body>> {
    if let Some(key) = annotation_key(&f, true).or(f.relationship.as_ref().map(|_| "relationship")) {
        issues.report_at(key, Code::Structure, format!("a metric line (metricValue) has no {key}"));
        return Ok(None);
    }
    let [metric_name, feature_name, subclass_name, aggregation] = f.metric_names;
    let sample = match value.cast::<PyDict>() {
        Ok(dict) => dict.values().iter().next(),
        Err(_) => Some(value.clone()),
    };
    let counts = sample.is_some_and(|v| v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>())
        || aggregation.as_deref() == Some("CONFUSION_MATRIX");
    let kind = if counts { MetricKind::ConfusionMatrix } else { MetricKind::Scalar };
    let value = issues.at("metricValue", |i| crate::metric_values::metric_value_of(kind, value, i))?;
    Ok(Some(Body::Metric(MetricLine { kind, value, metric_name, feature_name, subclass_name, aggregation })))
}

/// A relationship line: `{name?, schemaId?, relationship: {source, target, type,
/// readonly?, sourceOntologyName?}}`; its ends are the uuids of other lines.
fn relationship_of(f: Fields<'_>, value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<Body>> {
    if let Some(key) = annotation_key(&f, false).or(metric_key(&f)) {
        issues.report_at(key, Code::Structure, format!("a relationship line has no {key}"));
        return Ok(None);
    }
    issues.at("relationship", |issues| {
        let dict = dict_of(value, issues, "a relationship dict {source, target, type}")?;
        let known = ["source", "target", "type", "readonly", "sourceOntologyName"];
        check_keys(dict, &known, "a relationship", issues)?;
        let mut end = |key: &'static str| -> PyResult<Option<End>> {
            match dict.get_item(key)? {
                Some(v) if !v.is_none() => Ok(Some(End::Uuid(issues.at(key, |i| string_of(&v, i))?))),
                _ => Ok(None),
            }
        };
        let (source, target) = (end("source")?, end("target")?);
        let target = target.unwrap_or_else(|| {
            issues.report_at("target", Code::Missing, "a relationship needs a target");
            End::Refused
        });
        let kind = match dict.get_item("type")? {
            Some(v) => issues.at("type", |i| string_of(&v, i))?,
            None => "unidirectional".to_string(),
        };
        let readonly = match dict.get_item("readonly")? {
            Some(v) if !v.is_none() => {
                if !v.is_instance_of::<PyBool>() {
                    return Err(issues.at("readonly", |i| type_error(i, "true or false", &v)));
                }
                Some(issues.at("readonly", |i| flag_of(&v, i))?)
            }
            _ => None,
        };
        let source_ontology_name = match dict.get_item("sourceOntologyName")? {
            Some(v) => issues.at("sourceOntologyName", |i| opt_text(&v, i))?,
            None => None,
        };
        Ok(Some(Body::Relationship(Relationship {
            feature: f.feature,
            source,
            target,
            kind: kind.into(),
            readonly,
            source_ontology_name,
        })))
    })
}

fn classification_of(
    feature: Feature,
    scores: Scores,
    answer: &Bound<'_, PyAny>,
    classifications: Option<&Bound<'_, PyAny>>,
    issues: &mut Issues,
    depth: usize,
) -> PyResult<Option<Classification>> {
    if depth > MAX_DEPTH {
        return Err(too_deep(answer.py(), issues));
    }
    let value = issues.at("answer", |issues| {
        if answer.is_instance_of::<PyString>() {
            string_of(answer, issues).map(|s| Some(ClassificationValue::Text(s)))
        } else if let Ok(dict) = answer.cast::<PyDict>() {
            answer_of(dict, issues, depth).map(|a| Some(ClassificationValue::Radio(a)))
        } else if answer.is_instance_of::<PyList>() || answer.is_instance_of::<PyTuple>() {
            let items = sequence(answer, issues, "a list of answers")?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                issues.push_index(i);
                let a = dict_of(item, issues, "an answer dict").and_then(|d| answer_of(d, issues, depth));
                issues.pop();
                out.push(a?);
            }
            Ok(Some(ClassificationValue::Checklist(out)))
        } else {
            Err(type_error(issues, "a string (text), a dict (radio) or a list (checklist)", answer))
        }
    })?;
    let Some(value) = value else { return Ok(None) };
    // Only a text answer has classifications beside it; radio/checklist nest them in answers.
    let nested = if matches!(value, ClassificationValue::Text(_)) {
        classification_list(classifications, issues, depth)?
    } else {
        if classifications.is_some_and(|c| !c.is_none() && c.len().unwrap_or(0) > 0) {
            issues.report_at(
                "classifications",
                Code::Structure,
                "a radio or checklist question nests classifications inside its answers",
            );
        }
        Vec::new()
    };
    Ok(Some(Classification { feature, scores, value, classifications: nested, scores_on_value: false }))
}

fn answer_of(dict: &Bound<'_, PyDict>, issues: &mut Issues, depth: usize) -> PyResult<Answer> {
    let mut feature = Feature::default();
    let mut scores = Scores::default();
    let mut nested = Vec::new();
    for (key, value) in dict.iter() {
        let Some(key_text) = key_text(&key, issues)? else { continue };
        match key_text {
            "name" => feature.name = issues.at("name", |i| opt_text(&value, i))?,
            "schemaId" => feature.schema_id = issues.at("schemaId", |i| opt_text(&value, i))?,
            "confidence" => scores.confidence = issues.at("confidence", |i| opt_f64(&value, i))?,
            "customMetrics" => scores.custom_metrics = issues.at("customMetrics", |i| metrics(&value, i))?,
            "classifications" => nested = classification_list(Some(&value), issues, depth)?,
            other => report_unknown(issues, other, " in an answer"),
        }
    }
    Ok(Answer { feature, scores, classifications: nested })
}

fn classification_list(
    value: Option<&Bound<'_, PyAny>>,
    issues: &mut Issues,
    depth: usize,
) -> PyResult<Vec<Classification>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    if value.is_none() {
        return Ok(Vec::new());
    }
    issues.at("classifications", |issues| {
        let items = sequence(value, issues, "a list of classification dicts")?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            issues.push_index(i);
            let c = (|| {
                let dict = dict_of(item, issues, "a classification dict")?;
                let fields = read_fields(dict, issues, false)?;
                if !fields.geometry.is_empty() {
                    issues.report(Code::Structure, "a nested classification cannot hold a geometry");
                    return Ok(None);
                }
                let Some(answer) = fields.answer else {
                    issues.report(Code::Missing, "a nested classification needs an answer");
                    return Ok(None);
                };
                classification_of(
                    fields.feature,
                    fields.scores,
                    &answer,
                    fields.classifications.as_ref(),
                    issues,
                    depth + 1,
                )
            })();
            issues.pop();
            if let Some(c) = c? {
                out.push(c);
            }
        }
        Ok(out)
    })
}

fn data_row_of(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<DataRow> {
    let dict = dict_of(value, issues, "a dict with `id` or `globalKey`")?;
    let (mut id, mut global_key) = (None, None);
    for (key, value) in dict.iter() {
        let Some(key_text) = key_text(&key, issues)? else { continue };
        match key_text {
            "id" => id = issues.at("id", |i| opt_fresh_text(&value, i))?,
            "globalKey" => global_key = issues.at("globalKey", |i| opt_fresh_text(&value, i))?,
            other => report_unknown(issues, other, " in dataRow (expected id or globalKey)"),
        }
    }
    Ok(data_row_or_refused(DataRow::from_parts(id, global_key), issues))
}

fn number_at(dict: &Bound<'_, PyDict>, key: &'static str, issues: &mut Issues) -> PyResult<f64> {
    issues.at(key, |issues| {
        if let Some(v) = dict.get_item(key)? {
            f64_of(&v, issues)
        } else {
            issues.report(Code::Missing, format!("missing {key:?}"));
            Ok(0.0)
        }
    })
}

fn pt_of(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Pt> {
    let dict = dict_of(value, issues, "a point dict {\"x\", \"y\"}")?;
    let p = Pt { x: number_at(dict, "x", issues)?, y: number_at(dict, "y", issues)? };
    check_read_keys(dict, &["x", "y"], "a point", issues)?;
    Ok(p)
}

fn points_of(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Vec<Pt>> {
    let items = sequence(value, issues, "a list of point dicts")?;
    let mut out = Vec::with_capacity(items.len() + 1);
    for (i, item) in items.iter().enumerate() {
        issues.push_index(i);
        let p = pt_of(item, issues);
        issues.pop();
        out.push(p?);
    }
    Ok(out)
}

fn bbox_of(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Geometry> {
    let dict = dict_of(value, issues, "a bbox dict {top, left, height, width}")?;
    let tlhw = [
        number_at(dict, "top", issues)?,
        number_at(dict, "left", issues)?,
        number_at(dict, "height", issues)?,
        number_at(dict, "width", issues)?,
    ];
    check_read_keys(dict, &["top", "left", "height", "width"], "a bbox", issues)?;
    Ok(Geometry::Bbox(BBox::TopLeftHeightWidth(tlhw)))
}

fn mask_of(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Mask> {
    let dict = dict_of(value, issues, "a mask dict {png} or {instanceURI, colorRGB}")?;
    if let Some(png) = dict.get_item("png")? {
        check_keys(dict, &["png"], "a PNG mask", issues)?;
        let text = issues.at("png", |i| string_of(&png, i))?;
        return Ok(match base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
            Ok(bytes) => Mask::Png(bytes),
            Err(err) => {
                issues.report_at("png", Code::MaskImage, format!("png is not valid base64: {err}"));
                Mask::Refused
            }
        });
    }
    if let (Some(uri), Some(color)) = (dict.get_item("instanceURI")?, dict.get_item("colorRGB")?) {
        check_keys(dict, &["instanceURI", "colorRGB"], "a mask", issues)?;
        let uri = issues.at("instanceURI", |i| string_of(&uri, i))?;
        let color = issues.at("colorRGB", |i| color_of(&color, i))?;
        // A refused colour was reported where it was read.
        Ok(color.map_or(Mask::Refused, |color| Mask::Url { uri, color }))
    } else {
        issues
            .report(Code::Missing, "a mask needs {\"png\": base64} or both \"instanceURI\" and \"colorRGB\"");
        Ok(Mask::Refused)
    }
}
