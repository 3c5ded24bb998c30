//! The key rules of an NDJSON-shaped annotation (one line of Labelbox import NDJSON,
//! or a dict of that shape), over any [`Node`].
//!
//! Each dict is read in one pass over its entries. Unknown keys are reported rather
//! than ignored, so that a typo (`"confidance"`) never silently loses a value.

use base64::Engine as _;

use super::metric::{kind_of, metric_value};
use super::node::Node;
use crate::issues::{Code, Issues, Problem};
use crate::model::{
    Annotation, Answer, BBox, Body, Classification, ClassificationValue, DataRow, End, Feature, Geometry,
    Marks, Mask, MaskColor, Metric, MetricLine, Object, Pt, Relationship, Scores, Text,
};

/// Nested classifications deeper than this are refused: real ontologies are a few
/// levels deep, and a reference cycle (Python) must not exhaust the stack.
pub const MAX_DEPTH: usize = 32;

/// What a dict's keys said, before deciding what line it is.
struct Fields<N> {
    uuid: Option<String>,
    data_row: Option<DataRow>,
    feature: Feature,
    scores: Scores,
    geometry: Vec<(&'static str, Geometry)>,
    answer: Option<N>,
    marks: Marks,
    classifications: Option<N>,
    /// A metric line's `metricValue`, and its names (in the order of [`METRIC_KEYS`]).
    metric_value: Option<N>,
    metric_names: [Option<Text>; 4],
    relationship: Option<N>,
}

impl<N> Default for Fields<N> {
    fn default() -> Self {
        Fields {
            uuid: None,
            data_row: None,
            feature: Feature::default(),
            scores: Scores::default(),
            geometry: Vec::new(),
            answer: None,
            marks: Marks::default(),
            classifications: None,
            metric_value: None,
            metric_names: [None, None, None, None],
            relationship: None,
        }
    }
}

/// Reads one NDJSON-shaped annotation (the row is `issues`' current one). `Ok(None)`:
/// its problems are recorded and there is nothing to check further.
pub fn read_annotation<N: Node>(value: &N, issues: &mut Issues) -> Result<Option<Annotation>, N::Error> {
    let mut fields = read_fields(value, issues, true, "an NDJSON-shaped dict")?;
    let data_row = match fields.data_row.take() {
        Some(data_row) => data_row,
        None => issues.at("dataRow", |issues| data_row_or_refused(DataRow::from_parts(None, None), issues)),
    };
    let uuid = fields.uuid.take();
    let marks = std::mem::take(&mut fields.marks);
    Ok(body_of(fields, issues, 0)?.map(|body| Annotation { uuid: uuid.into(), data_row, body, marks }))
}

/// The data row, or the stand-in for a refused one, its problem recorded at the
/// current path.
pub fn data_row_or_refused(data_row: Result<DataRow, Problem>, issues: &mut Issues) -> DataRow {
    data_row.unwrap_or_else(|problem| {
        issues.report_problem(problem);
        DataRow::refused()
    })
}

/// Reports `key`, unknown in `what`: `unknown key "z" in a point (expected x, y)`.
pub fn report_unknown(issues: &mut Issues, key: &str, what: &str) {
    issues.push_owned_key(key.to_string());
    issues.report(Code::UnknownKey, format!("unknown key {key:?}{what}"));
    issues.pop();
}

fn read_fields<N: Node>(
    dict: &N,
    issues: &mut Issues,
    top_level: bool,
    expected: &str,
) -> Result<Fields<N>, N::Error> {
    let mut f = Fields::default();
    dict.entries(issues, expected, &mut |key, value, issues| {
        match key {
            "name" => f.feature.name = issues.at("name", |i| opt_text(&value, i))?,
            "schemaId" => f.feature.schema_id = issues.at("schemaId", |i| opt_text(&value, i))?,
            "confidence" => f.scores.confidence = issues.at("confidence", |i| opt_number(&value, i))?,
            "customMetrics" => {
                f.scores.custom_metrics = issues.at("customMetrics", |i| metrics(&value, i))?;
            }
            "answer" | "answers" => f.answer = Some(value),
            "classifications" => f.classifications = Some(value),
            "messageId" if top_level => {
                f.marks.message_id = issues.at("messageId", |i| opt_string(&value, i))?;
            }
            "isBenchmarkReferenceLabel" if top_level => {
                f.marks.benchmark_reference = issues.at("isBenchmarkReferenceLabel", |i| value.flag(i))?;
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
                let k = METRIC_KEYS.iter().position(|k| *k == key).unwrap_or_default();
                f.metric_names[k] = issues.at(METRIC_KEYS[k], |i| opt_text(&value, i))?;
            }
            "relationship" if top_level => f.relationship = Some(value),
            other => {
                report_unknown(issues, other, if top_level { "" } else { " in a nested classification" });
            }
        }
        Ok(())
    })?;
    Ok(f)
}

/// Decides what the dict is: one geometry makes an object, an `answer` a
/// classification, a `metricValue` a metric line, a `relationship` a relationship.
fn body_of<N: Node>(mut f: Fields<N>, issues: &mut Issues, depth: usize) -> Result<Option<Body>, N::Error> {
    if let Some(value) = f.metric_value.take() {
        return metric_line(f, &value, issues);
    }
    if let Some(value) = f.relationship.take() {
        return relationship_line(f, &value, issues);
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

/// The names of a metric line, in the order of `Fields::metric_names`.
const METRIC_KEYS: [&str; 4] = ["metricName", "featureName", "subclassName", "aggregation"];

/// The first metric key of a dict, if it has one.
fn metric_key<N>(f: &Fields<N>) -> Option<&'static str> {
    METRIC_KEYS.into_iter().zip(&f.metric_names).find_map(|(key, v)| v.is_some().then_some(key))
}

/// The keys of an object or classification, which a metric or relationship line lacks.
fn annotation_key<N>(f: &Fields<N>, names_too: bool) -> Option<&'static str> {
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
fn metric_line<N: Node>(f: Fields<N>, value: &N, issues: &mut Issues) -> Result<Option<Body>, N::Error> {
    if let Some(key) = annotation_key(&f, true).or(f.relationship.as_ref().map(|_| "relationship")) {
        issues.report_at(key, Code::Structure, format!("a metric line (metricValue) has no {key}"));
        return Ok(None);
    }
    let [metric_name, feature_name, subclass_name, aggregation] = f.metric_names;
    let value = issues.at("metricValue", |issues| {
        let kind = kind_of(value, aggregation.as_deref(), issues)?;
        Ok((kind, metric_value(kind, value, issues)?))
    });
    let (kind, value) = value?;
    Ok(Some(Body::Metric(MetricLine { kind, value, metric_name, feature_name, subclass_name, aggregation })))
}

/// A relationship line: `{name?, schemaId?, relationship: {source, target, type,
/// readonly?, sourceOntologyName?}}`; its ends are the uuids of other lines.
fn relationship_line<N: Node>(
    f: Fields<N>,
    value: &N,
    issues: &mut Issues,
) -> Result<Option<Body>, N::Error> {
    const KEYS: [&str; 5] = ["source", "target", "type", "readonly", "sourceOntologyName"];
    if let Some(key) = annotation_key(&f, false).or(metric_key(&f)) {
        issues.report_at(key, Code::Structure, format!("a relationship line has no {key}"));
        return Ok(None);
    }
    issues.at("relationship", |issues| {
        let ([source, target, kind, readonly, source_ontology_name], unknown) =
            known_entries(value, KEYS, "a relationship dict {source, target, type}", issues)?;
        report_unknown_keys(&unknown, &KEYS, "a relationship", issues);
        let mut end = |key: &'static str, value: Option<N>| -> Result<Option<End>, N::Error> {
            match value.filter(|v| !v.is_null()) {
                Some(v) => Ok(Some(End::Uuid(issues.at(key, |i| v.string(i))?))),
                None => Ok(None),
            }
        };
        let (source, target) = (end("source", source)?, end("target", target)?);
        let target = target.unwrap_or_else(|| {
            issues.report_at("target", Code::Missing, "a relationship needs a target");
            End::Refused
        });
        let kind = match kind {
            Some(v) => issues.at("type", |i| v.string(i))?,
            None => "unidirectional".to_string(),
        };
        let readonly = match readonly.filter(|v| !v.is_null()) {
            Some(v) if !v.is_bool() => {
                return Err(issues.at("readonly", |i| v.type_error(i, "true or false")))
            }
            Some(v) => Some(issues.at("readonly", |i| v.flag(i))?),
            None => None,
        };
        let source_ontology_name = match source_ontology_name {
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

fn classification_of<N: Node>(
    feature: Feature,
    scores: Scores,
    answer: &N,
    classifications: Option<&N>,
    issues: &mut Issues,
    depth: usize,
) -> Result<Option<Classification>, N::Error> {
    if depth > MAX_DEPTH {
        return Err(answer.too_deep(issues));
    }
    let value = issues.at("answer", |issues| {
        if answer.is_str() {
            answer.string(issues).map(|s| Some(ClassificationValue::Text(s)))
        } else if answer.is_dict() {
            answer_of(answer, issues, depth).map(|a| Some(ClassificationValue::Radio(a)))
        } else if answer.is_list() {
            let items = answer.items(issues, "a list of answers")?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                issues.push_index(i);
                let a = answer_of(item, issues, depth);
                issues.pop();
                out.push(a?);
            }
            Ok(Some(ClassificationValue::Checklist(out)))
        } else {
            Err(answer.type_error(issues, "a string (text), a dict (radio) or a list (checklist)"))
        }
    })?;
    let Some(value) = value else { return Ok(None) };
    // Only a text answer has classifications beside it; radio/checklist nest them in answers.
    let nested = if matches!(value, ClassificationValue::Text(_)) {
        classification_list(classifications, issues, depth)?
    } else {
        if let Some(c) = classifications {
            if !is_empty(c, issues)? {
                issues.report_at(
                    "classifications",
                    Code::Structure,
                    "a radio or checklist question nests classifications inside its answers",
                );
            }
        }
        Vec::new()
    };
    Ok(Some(Classification { feature, scores, value, classifications: nested, scores_on_value: false }))
}

/// Null, an empty list or an empty dict.
fn is_empty<N: Node>(value: &N, issues: &mut Issues) -> Result<bool, N::Error> {
    if value.is_null() {
        Ok(true)
    } else if value.is_list() {
        Ok(value.items(issues, "a list")?.is_empty())
    } else if value.is_dict() {
        let mut any = false;
        value.entries(issues, "a dict", &mut |_, _, _| {
            any = true;
            Ok(())
        })?;
        Ok(!any)
    } else {
        Ok(false)
    }
}

fn answer_of<N: Node>(dict: &N, issues: &mut Issues, depth: usize) -> Result<Answer, N::Error> {
    let mut feature = Feature::default();
    let mut scores = Scores::default();
    let mut nested = Vec::new();
    dict.entries(issues, "an answer dict", &mut |key, value, issues| {
        match key {
            "name" => feature.name = issues.at("name", |i| opt_text(&value, i))?,
            "schemaId" => feature.schema_id = issues.at("schemaId", |i| opt_text(&value, i))?,
            "confidence" => scores.confidence = issues.at("confidence", |i| opt_number(&value, i))?,
            "customMetrics" => scores.custom_metrics = issues.at("customMetrics", |i| metrics(&value, i))?,
            "classifications" => nested = classification_list(Some(&value), issues, depth)?,
            other => report_unknown(issues, other, " in an answer"),
        }
        Ok(())
    })?;
    Ok(Answer { feature, scores, classifications: nested })
}

fn classification_list<N: Node>(
    value: Option<&N>,
    issues: &mut Issues,
    depth: usize,
) -> Result<Vec<Classification>, N::Error> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    issues.at("classifications", |issues| {
        let items = value.items(issues, "a list of classification dicts")?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            issues.push_index(i);
            let c = nested_classification(item, issues, depth);
            issues.pop();
            if let Some(c) = c? {
                out.push(c);
            }
        }
        Ok(out)
    })
}

fn nested_classification<N: Node>(
    item: &N,
    issues: &mut Issues,
    depth: usize,
) -> Result<Option<Classification>, N::Error> {
    let fields = read_fields(item, issues, false, "a classification dict")?;
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
}

/// The data row a dict names, `None` when it names none that reads without a
/// problem: where a Label's run of lines ends, for input cut into chunks.
pub fn data_row_named<N: Node>(value: &N) -> Option<DataRow> {
    let mut issues = Issues::new();
    let mut found = None;
    let read = value.entries(&mut issues, "a dict", &mut |key, value, issues| {
        if key == "dataRow" {
            found = Some(data_row_of(&value, issues)?);
        }
        Ok(())
    });
    found.filter(|_| read.is_ok() && issues.is_empty())
}

fn data_row_of<N: Node>(value: &N, issues: &mut Issues) -> Result<DataRow, N::Error> {
    let (mut id, mut global_key) = (None, None);
    value.entries(issues, "a dict with `id` or `globalKey`", &mut |key, value, issues| {
        match key {
            "id" => id = issues.at("id", |i| opt_string(&value, i))?.map(Text::from),
            "globalKey" => global_key = issues.at("globalKey", |i| opt_string(&value, i))?.map(Text::from),
            other => report_unknown(issues, other, " in dataRow (expected id or globalKey)"),
        }
        Ok(())
    })?;
    Ok(data_row_or_refused(DataRow::from_parts(id, global_key), issues))
}

fn opt_text<N: Node>(value: &N, issues: &mut Issues) -> Result<Option<Text>, N::Error> {
    if value.is_null() {
        Ok(None)
    } else {
        value.text(issues).map(Some)
    }
}

fn opt_string<N: Node>(value: &N, issues: &mut Issues) -> Result<Option<String>, N::Error> {
    if value.is_null() {
        Ok(None)
    } else {
        value.string(issues).map(Some)
    }
}

fn opt_number<N: Node>(value: &N, issues: &mut Issues) -> Result<Option<f64>, N::Error> {
    if value.is_null() {
        Ok(None)
    } else {
        value.number(issues).map(Some)
    }
}

/// `[{"name", "value"}]` (or, from Python, `CustomMetric`s).
pub fn metrics<N: Node>(value: &N, issues: &mut Issues) -> Result<Option<Vec<Metric>>, N::Error> {
    if value.is_null() {
        return Ok(None);
    }
    let items = value.items(issues, "a list of custom metrics")?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(issues.at_index(i, |issues| metric_of(item, issues))?);
    }
    Ok(Some(out))
}

fn metric_of<N: Node>(item: &N, issues: &mut Issues) -> Result<Metric, N::Error> {
    if !item.is_dict() {
        return match item.metric_object(issues)? {
            Some(metric) => Ok(metric),
            None => Err(item.type_error(issues, "a CustomMetric or a dict with `name` and `value`")),
        };
    }
    let (mut name, mut value) = (None, None);
    let mut unknown = Vec::new();
    item.entries(issues, "a metric dict", &mut |key, v, _| {
        match key {
            "name" => name = Some(v),
            "value" => value = Some(v),
            other => unknown.push(other.to_string()),
        }
        Ok(())
    })?;
    for key in &unknown {
        report_unknown(issues, key, " in a custom metric (expected name, value)");
    }
    let (Some(name), Some(value)) = (name, value) else {
        return Err(item.type_error(issues, "a metric dict with `name` and `value`"));
    };
    let name = issues.at("name", |i| name.string(i))?;
    let value = issues.at("value", |i| value.number(i))?;
    Ok(Metric { name, value })
}

/// The values of a dict at `K` known keys, in their order (`None` where missing), and
/// its other keys.
type Known<N, const K: usize> = ([Option<N>; K], Vec<String>);

/// The values of a dict at the keys `known`, in that order (`None` where missing),
/// and its other keys, in one pass.
fn known_entries<N: Node, const K: usize>(
    dict: &N,
    known: [&'static str; K],
    expected: &str,
    issues: &mut Issues,
) -> Result<Known<N, K>, N::Error> {
    let mut found: [Option<N>; K] = std::array::from_fn(|_| None);
    let mut unknown = Vec::new();
    dict.entries(issues, expected, &mut |key, value, _| {
        match known.iter().position(|k| *k == key) {
            Some(at) => found[at] = Some(value),
            None => unknown.push(key.to_string()),
        }
        Ok(())
    })?;
    Ok((found, unknown))
}

fn report_unknown_keys(unknown: &[String], known: &[&str], what: &str, issues: &mut Issues) {
    if unknown.is_empty() {
        return;
    }
    let what = format!(" in {what} (expected {})", known.join(", "));
    for key in unknown {
        report_unknown(issues, key, &what);
    }
}

fn number_at<N: Node>(value: Option<&N>, key: &'static str, issues: &mut Issues) -> Result<f64, N::Error> {
    issues.at(key, |issues| {
        if let Some(v) = value {
            v.number(issues)
        } else {
            issues.report(Code::Missing, format!("missing {key:?}"));
            Ok(0.0)
        }
    })
}

fn pt_of<N: Node>(value: &N, issues: &mut Issues) -> Result<Pt, N::Error> {
    const KEYS: [&str; 2] = ["x", "y"];
    let ([x, y], unknown) = known_entries(value, KEYS, "a point dict {\"x\", \"y\"}", issues)?;
    report_unknown_keys(&unknown, &KEYS, "a point", issues);
    Ok(Pt { x: number_at(x.as_ref(), "x", issues)?, y: number_at(y.as_ref(), "y", issues)? })
}

fn points_of<N: Node>(value: &N, issues: &mut Issues) -> Result<Vec<Pt>, N::Error> {
    let items = value.items(issues, "a list of point dicts")?;
    let mut out = Vec::with_capacity(items.len() + 1);
    for (i, item) in items.iter().enumerate() {
        issues.push_index(i);
        let p = pt_of(item, issues);
        issues.pop();
        out.push(p?);
    }
    Ok(out)
}

fn bbox_of<N: Node>(value: &N, issues: &mut Issues) -> Result<Geometry, N::Error> {
    const KEYS: [&str; 4] = ["top", "left", "height", "width"];
    let ([top, left, height, width], unknown) =
        known_entries(value, KEYS, "a bbox dict {top, left, height, width}", issues)?;
    let tlhw = [
        number_at(top.as_ref(), "top", issues)?,
        number_at(left.as_ref(), "left", issues)?,
        number_at(height.as_ref(), "height", issues)?,
        number_at(width.as_ref(), "width", issues)?,
    ];
    report_unknown_keys(&unknown, &KEYS, "a bbox", issues);
    Ok(Geometry::Bbox(BBox::TopLeftHeightWidth(tlhw)))
}

fn mask_of<N: Node>(value: &N, issues: &mut Issues) -> Result<Mask, N::Error> {
    const KEYS: [&str; 3] = ["png", "instanceURI", "colorRGB"];
    let ([png, uri, color], mut unknown) =
        known_entries(value, KEYS, "a mask dict {png} or {instanceURI, colorRGB}", issues)?;
    if let Some(png) = png {
        // Beside a PNG, a URL or colour is as unknown as any other key.
        for (key, given) in [("instanceURI", &uri), ("colorRGB", &color)] {
            if given.is_some() {
                unknown.push(key.to_string());
            }
        }
        report_unknown_keys(&unknown, &["png"], "a PNG mask", issues);
        let text = issues.at("png", |i| png.string(i))?;
        return Ok(match base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
            Ok(bytes) => Mask::Png(bytes),
            Err(err) => {
                issues.report_at("png", Code::MaskImage, format!("png is not valid base64: {err}"));
                Mask::Refused
            }
        });
    }
    if let (Some(uri), Some(color)) = (uri, color) {
        report_unknown_keys(&unknown, &["instanceURI", "colorRGB"], "a mask", issues);
        let uri = issues.at("instanceURI", |i| uri.string(i))?;
        let color = issues.at("colorRGB", |i| color_of(&color, i))?;
        // A refused colour was reported where it was read.
        Ok(color.map_or(Mask::Refused, |color| Mask::Url { uri, color }))
    } else {
        issues
            .report(Code::Missing, "a mask needs {\"png\": base64} or both \"instanceURI\" and \"colorRGB\"");
        Ok(Mask::Refused)
    }
}

/// A mask colour: one int, or three ints.
pub fn color_of<N: Node>(value: &N, issues: &mut Issues) -> Result<Option<MaskColor>, N::Error> {
    if value.is_int() {
        return value.integer(issues).map(|v| Some(MaskColor::Gray(v)));
    }
    let items = value.items(issues, "an int or an (r, g, b) tuple of ints")?;
    if items.len() != 3 {
        issues.report(
            Code::MaskColor,
            format!("colour must be an int or 3 ints (r, g, b), got {} values", items.len()),
        );
        return Ok(None);
    }
    let mut rgb = [0i64; 3];
    for (slot, item) in rgb.iter_mut().zip(&items) {
        *slot = item.integer(issues)?;
    }
    Ok(Some(MaskColor::Rgb(rgb)))
}
