//! The core end to end without Python: lower by hand, validate, write.

use std::sync::Arc;

use lbfast_core::batch::{Batch, Located};
use lbfast_core::mask::{decode_png, Image, DEFAULT_MAX_PIXELS};
use lbfast_core::model::*;
use lbfast_core::options::Options;

fn object(feature: Feature, confidence: Option<f64>, geometry: Geometry) -> Body {
    Body::Object(Object {
        feature,
        scores: Scores { confidence, custom_metrics: None },
        geometry,
        classifications: vec![],
    })
}

fn located(row: usize, body: Body) -> Located {
    Located {
        row,
        slot: None,
        annotation: Annotation {
            uuid: AnnotationId::Given(format!("u{row}").into()),
            data_row: DataRow::global_key("gk"),
            body,
            marks: Marks::default(),
        },
    }
}

fn write(items: Vec<Located>) -> Result<String, Vec<lbfast_core::issues::Issue>> {
    let batch = Batch { items, ..Batch::new() };
    batch.into_ndjson(&Options::default()).map(|b| String::from_utf8(b).unwrap()).map_err(|r| r.issues)
}

fn pt(x: f64, y: f64) -> Pt {
    Pt { x, y }
}

#[test]
fn a_box_from_inverted_corners_is_normalised_in_sdk_key_order() {
    let corners = Corners { start: pt(81.0, 69.0), end: pt(38.0, 28.0) };
    let out = write(vec![located(
        0,
        object(Feature::named("box"), Some(0.5), Geometry::Bbox(BBox::Corners(corners))),
    )])
    .unwrap();
    assert_eq!(
        out,
        "{\"confidence\":0.5,\"uuid\":\"u0\",\"dataRow\":{\"globalKey\":\"gk\"},\"name\":\"box\",\
         \"classifications\":[],\"bbox\":{\"top\":28.0,\"left\":38.0,\"height\":41.0,\"width\":43.0}}\n"
    );
}

#[test]
fn an_open_polygon_is_closed_and_a_closed_one_is_left_alone() {
    let open = vec![pt(10.0, 20.0), pt(15.0, 20.0), pt(20.0, 25.0)];
    let mut closed = open.clone();
    closed.push(pt(10.0, 20.0));
    let out = write(vec![
        located(0, object(Feature::named("p"), None, Geometry::Polygon(open))),
        located(1, object(Feature::named("p"), None, Geometry::Polygon(closed))),
    ])
    .unwrap();
    let lines: Vec<&str> = out.lines().collect();
    let ring = "\"polygon\":[{\"x\":10.0,\"y\":20.0},{\"x\":15.0,\"y\":20.0},{\"x\":20.0,\"y\":25.0},{\"x\":10.0,\"y\":20.0}]}";
    assert!(lines[0].ends_with(ring), "{}", lines[0]);
    assert!(lines[1].ends_with(ring), "{}", lines[1]);
}

#[test]
fn zero_confidence_is_written_not_dropped() {
    let out = write(vec![located(0, object(Feature::named("pt"), Some(0.0), Geometry::Point(pt(1.0, 2.0))))])
        .unwrap();
    assert!(out.starts_with("{\"confidence\":0.0,"), "{out}");
}

#[test]
fn every_problem_of_a_batch_is_reported_with_row_and_path() {
    let items = vec![
        located(0, object(Feature::named("ok"), None, Geometry::Point(pt(1.0, 1.0)))),
        located(1, object(Feature::default(), Some(1.5), Geometry::Line(vec![pt(f64::NAN, 0.0)]))),
        located(
            2,
            object(
                Feature { name: None, schema_id: Some("short".into()) },
                None,
                Geometry::Polygon(vec![pt(0.0, 0.0), pt(f64::INFINITY, 1.0)]),
            ),
        ),
    ];
    let issues = write(items).unwrap_err();
    let described: Vec<String> = issues.iter().map(|i| format!("{}|{}", i.row, i.path)).collect();
    assert_eq!(
        described,
        ["1|", "1|confidence", "1|line", "1|line[0].x", "2|schemaId", "2|polygon", "2|polygon[1].x",]
    );
    assert!(issues[0].message.contains("name"), "{}", issues[0].message);
    assert!(issues[3].message.contains("NaN"));
}

#[test]
fn a_data_row_needs_exactly_one_non_empty_reference() {
    let problem = |id: Option<&str>, key: Option<&str>| {
        DataRow::from_parts(id.map(Into::into), key.map(Into::into)).unwrap_err().message
    };
    assert!(problem(Some("a"), Some("b")).contains("both"));
    assert!(problem(None, Some("")).contains("neither"));
    assert!(problem(None, None).contains("neither"));
    // An empty key counts as absent: the id is the reference, and the one written.
    assert_eq!(DataRow::from_parts(Some("x".into()), Some("".into())), Ok(DataRow::id("x")));
    assert_eq!(DataRow::from_parts(Some("".into()), Some("k".into())), Ok(DataRow::global_key("k")));
}

#[test]
fn mask_pixels_become_a_binary_png_of_the_selected_colour() {
    use base64::Engine as _;
    // 3x2 RGB: red, red, blue / blue, red, black
    let rgb = vec![255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0, 0, 0, 0];
    let image = Arc::new(Image::from_u8(3, 2, 3, rgb).unwrap());
    let mask = Mask::Pixels { image, color: MaskColor::Rgb([255, 0, 0]) };
    let out = write(vec![located(0, object(Feature::named("m"), None, Geometry::Mask(mask)))]).unwrap();
    let b64 = out.split("\"png\":\"").nth(1).unwrap().split('"').next().unwrap();
    let png = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    let decoded = decode_png(&png, DEFAULT_MAX_PIXELS).unwrap();
    assert_eq!((decoded.width, decoded.height, decoded.channels), (3, 2, 1));
    assert_eq!(decoded.samples, lbfast_core::mask::Samples::U8(vec![1, 1, 0, 0, 1, 0]));
}

#[test]
fn an_absent_mask_colour_and_out_of_range_colours_are_errors() {
    let image = Arc::new(Image::from_u8(2, 1, 1, vec![0, 1]).unwrap());
    let absent = Mask::Pixels { image: image.clone(), color: MaskColor::Gray(7) };
    let too_big = Mask::Url { uri: "https://x/m.png".into(), color: MaskColor::Rgb([256, 0, 0]) };
    let issues = write(vec![
        located(0, object(Feature::named("m"), None, Geometry::Mask(absent))),
        located(1, object(Feature::named("m"), None, Geometry::Mask(too_big))),
    ])
    .unwrap_err();
    assert_eq!(issues.len(), 2, "{issues:?}");
    assert!(issues[0].message.contains("does not occur"), "{}", issues[0].message);
    assert_eq!(issues[1].path, "mask.colorRGB");
}

#[test]
fn nested_classifications_are_camel_case_at_every_depth() {
    let leaf = Classification {
        feature: Feature { name: None, schema_id: Some("c".repeat(25).into()) },
        scores: Scores {
            confidence: Some(0.2),
            custom_metrics: Some(vec![Metric { name: "m".into(), value: 3.0 }]),
        },
        value: ClassificationValue::Text("t".into()),
        classifications: vec![],
        scores_on_value: false,
    };
    let middle = Classification {
        feature: Feature { name: None, schema_id: Some("b".repeat(25).into()) },
        scores: Scores::default(),
        value: ClassificationValue::Radio(Answer {
            feature: Feature { name: None, schema_id: Some("a".repeat(25).into()) },
            scores: Scores {
                confidence: Some(0.5),
                custom_metrics: Some(vec![Metric { name: "n".into(), value: 1.0 }]),
            },
            classifications: vec![leaf],
        }),
        classifications: vec![],
        scores_on_value: false,
    };
    let top = Classification {
        feature: Feature::named("q"),
        scores: Scores::default(),
        value: ClassificationValue::Checklist(vec![Answer {
            feature: Feature::named("a"),
            scores: Scores::default(),
            classifications: vec![middle],
        }]),
        classifications: vec![],
        scores_on_value: false,
    };
    let out = write(vec![located(0, Body::Classification(top))]).unwrap();
    assert!(!out.contains("schema_id") && !out.contains("custom_metrics"), "{out}");
    assert!(
        out.contains("{\"customMetrics\":[{\"name\":\"m\",\"value\":3.0}],\"confidence\":0.2,\"schemaId\""),
        "{out}"
    );
}

#[test]
fn any_thread_count_checks_and_writes_the_same_bytes_and_problems_in_order() {
    let image = Arc::new(Image::from_u8(40, 30, 1, (0..1200).map(|i| (i % 7) as u8).collect()).unwrap());
    let batch_of = |bad: bool| {
        let mut items = Vec::new();
        for row in 0..6000 {
            let body = match row % 4 {
                0 => object(
                    Feature::named("m"),
                    Some(0.5),
                    Geometry::Mask(Mask::Pixels {
                        image: image.clone(),
                        color: MaskColor::Gray((row % 7) as i64),
                    }),
                ),
                1 => object(
                    Feature::named("p"),
                    None,
                    Geometry::Polygon(vec![pt(0.0, 0.0), pt(row as f64, 1.5), pt(2.0, 3.0)]),
                ),
                2 if bad && row % 10 == 2 => {
                    object(Feature::named("b"), Some(2.0), Geometry::Point(pt(1.0, 2.0)))
                }
                _ => object(Feature::named("b"), Some(0.25), Geometry::Point(pt(row as f64, 0.1))),
            };
            items.push(located(row, body));
        }
        Batch { items, ..Batch::new() }
    };
    let run = |bad: bool, threads: Option<usize>| {
        let options = Options { threads, ..Options::default() };
        batch_of(bad).into_ndjson(&options).map(|b| String::from_utf8(b).unwrap()).map_err(|r| r.issues)
    };
    let one = run(false, Some(1)).unwrap();
    assert_eq!(one.lines().count(), 6000);
    assert!(one.lines().nth(5999).unwrap().contains("\"uuid\":\"u5999\""));
    assert_eq!(run(false, Some(3)).unwrap(), one);
    assert_eq!(run(false, None).unwrap(), one);
    let problems = run(true, Some(1)).unwrap_err();
    assert_eq!(problems.len(), 300);
    assert_eq!(run(true, Some(4)).unwrap_err(), problems);
    assert!(problems.windows(2).all(|w| w[0].row < w[1].row));
}

#[test]
fn a_project_import_refuses_or_strips_scores_and_a_model_run_keeps_them() {
    use lbfast_core::issues::Code;
    use lbfast_core::options::Scores as Policy;
    let items = || vec![located(0, object(Feature::named("car"), Some(0.5), Geometry::Point(pt(1.0, 2.0))))];
    let run = |scores| {
        Batch { items: items(), ..Batch::new() }.check_and_report(&Options { scores, ..Options::default() })
    };

    let (checked, report) = run(Policy::Refuse);
    assert!(checked.is_none());
    let found: Vec<_> = report.issues.iter().map(|i| (i.code, i.path.as_str())).collect();
    assert_eq!(found, [(Code::NotForProject, "confidence")]);

    let (checked, report) = run(Policy::Strip);
    assert!(checked.is_some());
    assert_eq!(report.issues.iter().map(|i| i.code).collect::<Vec<_>>(), [Code::ScoreStripped]);
    let data = Batch { items: items(), ..Batch::new() }
        .into_ndjson(&Options { scores: Policy::Strip, ..Options::default() })
        .unwrap();
    assert!(!String::from_utf8(data).unwrap().contains("confidence"));

    let (checked, report) = run(Policy::Keep);
    assert!(checked.is_some() && report.issues.is_empty());
    assert!(write(items()).unwrap().contains("\"confidence\":0.5"));
}

#[test]
fn checking_for_a_report_and_the_writer_is_one_pass_that_keeps_the_warnings() {
    use lbfast_core::issues::{Code, Issue, Severity};
    let good = || located(0, object(Feature::named("p"), Some(0.5), Geometry::Point(pt(1.0, 2.0))));
    let mut batch = Batch { items: vec![good()], ..Batch::new() };
    let mut warning = Issue::error(Code::ChecklistAnswerNormalized, 0, "answer", "amended");
    warning.severity = Severity::Warning;
    batch.issues.extend_issues([warning]);
    let (checked, report) = batch.check_and_report(&Options::default());
    assert_eq!(report.issues.len(), 1, "the warning is reported");
    assert_eq!(checked.expect("a warning does not stop the writing").lines(), 1);

    let bad = located(1, object(Feature::named("p"), Some(1.5), Geometry::Point(pt(1.0, 2.0))));
    let batch = Batch { items: vec![good(), bad], ..Batch::new() };
    let (checked, report) = batch.check_and_report(&Options::default());
    assert!(checked.is_none() && report.has_errors());
    assert_eq!(report.issues[0].row, 1);
}
