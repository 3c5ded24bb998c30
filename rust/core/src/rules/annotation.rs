//! The rules applied to one owned annotation (typed objects and dicts).

use crate::issues::{Code, Issues};
use crate::model::{
    Annotation, Answer, BBox, Body, Classification, ClassificationValue, Corners, Feature, Geometry, Object,
    Pt, Scores,
};
use crate::options::Options;
use crate::rules::geometry::{axis_key, check_box, check_point, check_vertices, BoxForm, Field, Places};
use crate::rules::mask::check_mask;
use crate::rules::metrics::check_metric;
use crate::rules::relationships::check_relationship;
use crate::rules::scores::{annotation_scores, metric_line};
use crate::rules::values::{confidence_problem, metric_problem, schema_id_problem};

/// Which input form the paths in error messages should speak of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// The typed objects: `value.points[1].x`, `feature_schema_id`, `custom_metrics`.
    Typed,
    /// NDJSON-shaped dicts: `polygon[1].x`, `schemaId`, `customMetrics`.
    Dict,
}

impl Style {
    pub fn key(self, typed: &'static str, dict: &'static str) -> &'static str {
        match self {
            Style::Typed => typed,
            Style::Dict => dict,
        }
    }

    pub fn keys(
        self,
        typed: &'static [&'static str],
        dict: &'static [&'static str],
    ) -> &'static [&'static str] {
        match self {
            Style::Typed => typed,
            Style::Dict => dict,
        }
    }
}

/// Checks one annotation; the caller has set the row and the path prefix. The data
/// row was decided when the input was read ([`crate::model::DataRow::from_parts`]).
pub fn check_annotation(annotation: &mut Annotation, style: Style, options: &Options, issues: &mut Issues) {
    match &mut annotation.body {
        Body::Object(object) => check_object(object, style, options, issues),
        Body::Classification(c) => check_classification(c, style, options, issues),
        Body::Metric(m) => {
            check_metric(m, style, issues);
            // Checked first: a bad metric is a mistake even where it is not sent.
            metric_line(options.scores, issues);
        }
        Body::Relationship(r) => {
            check_feature(&r.feature, style, issues);
            check_relationship(r, style, issues);
        }
    }
}

fn check_object(o: &mut Object, style: Style, options: &Options, issues: &mut Issues) {
    check_feature(&o.feature, style, issues);
    check_scores(&mut o.scores, style, options, issues);
    check_geometry(&mut o.geometry, style, options, issues);
    check_classification_list(&mut o.classifications, style, options, issues);
}

fn check_feature(f: &Feature, style: Style, issues: &mut Issues) {
    let schema_key = style.key("feature_schema_id", "schemaId");
    if f.name.is_none() && f.schema_id.is_none() {
        issues.report(Code::MissingFeature, format!("must set either {schema_key} or name"));
    }
    if let Some(problem) = f.schema_id.as_deref().and_then(schema_id_problem) {
        issues.report_problem_at(schema_key, problem);
    }
}

fn check_scores(s: &mut Scores, style: Style, options: &Options, issues: &mut Issues) {
    if let Some(problem) = s.confidence.and_then(confidence_problem) {
        issues.report_problem_at("confidence", problem);
    }
    if let Some(metrics) = &s.custom_metrics {
        issues.at(style.key("custom_metrics", "customMetrics"), |issues| {
            for (i, m) in metrics.iter().enumerate() {
                if let Some(problem) = metric_problem(m.value) {
                    issues.at_index(i, |issues| issues.report_problem_at("value", problem));
                }
            }
        });
    }
    // Checked first: a bad score is a mistake even where it is not sent.
    annotation_scores(s, style, options.scores, issues);
}

/// The places of a typed geometry (`value`, `value.start.x`, `value.points[1].y`).
struct TypedPlaces;

impl Places for TypedPlaces {
    fn enter(&self, field: Field, issues: &mut Issues) -> usize {
        issues.push_key("value");
        match field {
            Field::Box => 1,
            Field::BoxValue(k) => {
                issues.push_key(if k < 2 { "start" } else { "end" });
                issues.push_key(axis_key(k % 2));
                3
            }
            Field::Point(axis) => {
                issues.push_key(axis_key(axis));
                2
            }
            Field::Vertices => {
                issues.push_key("points");
                2
            }
            Field::Vertex(j, axis) => {
                issues.push_key("points");
                issues.push_index(j);
                issues.push_key(axis_key(axis));
                4
            }
        }
    }
}

/// The places of a dict geometry under its key (`bbox.top`, `point.x`, `line[1].y`).
struct DictPlaces(&'static str);

const TLHW_KEYS: [&str; 4] = ["top", "left", "height", "width"];

impl Places for DictPlaces {
    fn enter(&self, field: Field, issues: &mut Issues) -> usize {
        issues.push_key(self.0);
        match field {
            Field::Box | Field::Vertices => 1,
            Field::BoxValue(k) => {
                issues.push_key(TLHW_KEYS[k]);
                2
            }
            Field::Point(axis) => {
                issues.push_key(axis_key(axis));
                2
            }
            Field::Vertex(j, axis) => {
                issues.push_index(j);
                issues.push_key(axis_key(axis));
                3
            }
        }
    }
}

fn check_geometry(g: &mut Geometry, style: Style, options: &Options, issues: &mut Issues) {
    let dict = |key| DictPlaces(key);
    match g {
        Geometry::Point(p) => match style {
            Style::Typed => check_point(*p, &TypedPlaces, issues),
            Style::Dict => check_point(*p, &dict("point"), issues),
        },
        Geometry::Line(points) => match style {
            Style::Typed => check_vertices(points, 2, "line", &TypedPlaces, issues),
            Style::Dict => check_vertices(points, 2, "line", &dict("line"), issues),
        },
        Geometry::Polygon(points) => match style {
            Style::Typed => check_vertices(points, 3, "polygon", &TypedPlaces, issues),
            Style::Dict => check_vertices(points, 3, "polygon", &dict("polygon"), issues),
        },
        Geometry::Bbox(bbox) => {
            let (values, form, corners) = match *bbox {
                BBox::Corners(c) => ([c.start.x, c.start.y, c.end.x, c.end.y], BoxForm::Corners, Some(c)),
                BBox::TopLeftHeightWidth(tlhw @ [top, left, height, width]) => {
                    let corners = Corners {
                        start: Pt { x: left, y: top },
                        end: Pt { x: left + width, y: top + height },
                    };
                    (tlhw, BoxForm::Tlhw, Some(corners))
                }
            };
            match style {
                Style::Typed => check_box(values, form, || corners, &TypedPlaces, issues),
                Style::Dict => check_box(values, form, || corners, &dict("bbox"), issues),
            }
        }
        Geometry::Mask(mask) => issues.at_keys(style.keys(&["value"], &["mask"]), |issues| {
            check_mask(mask, style, options, issues);
            true
        }),
    };
}

fn check_classification_list(
    list: &mut [Classification],
    style: Style,
    options: &Options,
    issues: &mut Issues,
) {
    if list.is_empty() {
        return;
    }
    issues.at("classifications", |issues| {
        for (i, c) in list.iter_mut().enumerate() {
            issues.at_index(i, |issues| check_classification(c, style, options, issues));
        }
    });
}

fn check_classification(c: &mut Classification, style: Style, options: &Options, issues: &mut Issues) {
    check_feature(&c.feature, style, issues);
    let is_text = matches!(c.value, ClassificationValue::Text(_));
    if !is_text && c.scores.custom_metrics.as_ref().is_some_and(|m| !m.is_empty()) {
        issues.report_at(
            style.key("custom_metrics", "customMetrics"),
            Code::MisplacedMetrics,
            "a radio or checklist question has no place for custom metrics; set them on its answers",
        );
    }
    if c.scores_on_value {
        issues.at("value", |issues| check_scores(&mut c.scores, style, options, issues));
    } else {
        check_scores(&mut c.scores, style, options, issues);
    }
    // Typed objects hold the answer at `value.answer`, dicts at `answer`.
    let answer_keys = style.keys(&["value", "answer"], &["answer"]);
    match &mut c.value {
        ClassificationValue::Radio(answer) => {
            issues.at_keys(answer_keys, |issues| check_answer(answer, style, options, issues));
        }
        ClassificationValue::Checklist(answers) => issues.at_keys(answer_keys, |issues| {
            for (i, answer) in answers.iter_mut().enumerate() {
                issues.at_index(i, |issues| check_answer(answer, style, options, issues));
            }
        }),
        ClassificationValue::Text(_) => {}
    }
    check_classification_list(&mut c.classifications, style, options, issues);
}

fn check_answer(a: &mut Answer, style: Style, options: &Options, issues: &mut Issues) {
    check_feature(&a.feature, style, issues);
    check_scores(&mut a.scores, style, options, issues);
    check_classification_list(&mut a.classifications, style, options, issues);
}
