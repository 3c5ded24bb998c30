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
        custom_metrics: Vec::new(),
    })
}

fn boxes(boxes: Vec<[f64; 4]>, format: BoxFormat) -> GeometryColumn {
    GeometryColumn::Boxes(BoxColumn { boxes, format, normalized: false, image_sizes: None })
}

fn columns(n_rows: usize, kind: ColumnKind) -> Columns {
    Columns {
        data_rows: keys(n_rows),
        refused_data_rows: Vec::new(),
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
    assert!(out.contains("\"bbox\":{\"top\":50.0,\"left\":100.0,\"height\":50.0,\"width\":50.0}"), "{out}");
    assert!(out.contains("\"bbox\":{\"top\":0.0,\"left\":0.0,\"height\":480.0,\"width\":640.0}"), "{out}");
}

#[test]
fn every_kind_writes_what_its_annotations_write() {
    let pts = vec![pt(0.0, 0.0), pt(4.0, 0.0), pt(4.0, 3.0), pt(1.5, 2.5), pt(7.0, 7.0), pt(1.5, 2.5)];
    let ragged = Ragged { values: pts.clone(), offsets: vec![0, 3, 6] };
    let sub = RadioColumn {
        question: Feature::named("occluded"),
        answers: vec![Feature::named("yes"), Feature::named("no")],
        answer_ids: vec![1, 0],
        confidence: Some(vec![0.25, 0.5].into()),
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
            custom_metrics: vec![
                MetricColumn { name: "iou".into(), values: Confidences::from(vec![0.5, 0.25]) },
                MetricColumn {
                    name: "a\"rea".into(),
                    values: Confidences { values: vec![3.0, 0.0], present: Some(vec![true, false]) },
                },
            ],
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
        c.confidence = Some(Confidences::from(if checklist { vec![0.1, 0.2, 0.3] } else { vec![0.75, 1.0] }));
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
            confidence: Some(vec![0.5].into()),
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
    c.confidence = Some(Confidences::from((0..n).map(|i| (i % 100) as f64 / 100.0).collect::<Vec<_>>()));
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
            custom_metrics: Vec::new(),
        }),
    );
    c.image_index = Some(vec![0, 1, 2, 1]);
    c.confidence = Some(Confidences::from(vec![0.5, 1.5, 0.5, f64::NAN]));
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
    c.confidence = Some(Confidences::from(vec![0.5]));
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
            "0|class_ids|class_ids is needed when there is more than one feature (got 2)",
            "0|image_sizes|normalized boxes need image_sizes, one (width, height) per data row",
            "0|features[1]|schema id must be 25 characters long, got 5 (\"short\")",
        ]
    );
}

#[test]
fn ragged_offsets_and_point_counts_are_checked() {
    let pts = vec![pt(0.0, 0.0); 6];
    let bad = columns(
        3,
        objects(GeometryColumn::Polygons(Ragged { values: pts.clone(), offsets: vec![1, 4, 2, 5] }), &["g"]),
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
    c.confidence = Some(Confidences::from(vec![2.0; n]));
    let found = run(&c, None).unwrap_err();
    assert_eq!(found.len(), MAX_LISTED + 1);
    assert_eq!(found[MAX_LISTED - 1].row, MAX_LISTED - 1);
    assert!(found[MAX_LISTED].message.starts_with("4000 more problems"), "{}", found[MAX_LISTED].message);
}

#[test]
fn checklists_with_fewer_chosen_answers_than_predictions_are_written() {
    // Confidences are per chosen answer: here one for two predictions, or none at all.
    for (offsets, values, confidence) in [(vec![0, 0, 1], vec![0], vec![0.5]), (vec![0, 0], vec![], vec![])] {
        let n = offsets.len() - 1;
        let mut c = columns(
            n,
            ColumnKind::Classifications(ClassificationColumns {
                question: Feature::named("q"),
                answers: vec![Feature::named("a")],
                value: AnswerColumn::Checklist(Ragged { values, offsets }),
            }),
        );
        c.confidence = Some(confidence.into());
        let out = assert_same_as_annotations(&c);
        assert!(out.lines().next().unwrap().starts_with("{\"name\":\"q\",\"answer\":[],"), "{out}");
    }
}

#[test]
fn an_absent_confidence_writes_none_and_is_not_checked() {
    let mut c = columns(3, objects(boxes(vec![[1.0, 2.0, 3.0, 4.0]; 3], BoxFormat::Xyxy), &["car"]));
    // The absent value would be refused if it were read.
    c.confidence = Some(Confidences { values: vec![0.5, 7.0, 1.0], present: Some(vec![true, false, true]) });
    let out = assert_same_as_annotations(&c);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("\"confidence\":0.5"), "{out}");
    assert!(!lines[1].contains("confidence"), "{out}");
    assert!(lines[2].contains("\"confidence\":1.0"), "{out}");
}

#[test]
fn custom_metrics_are_written_per_object_and_checked_per_value() {
    let metric = |name: &str, values: Vec<f64>, present: Option<Vec<bool>>| MetricColumn {
        name: name.into(),
        values: Confidences { values, present },
    };
    let mut c = columns(3, objects(boxes(vec![[0.0, 0.0, 1.0, 1.0]; 3], BoxFormat::Xyxy), &["car"]));
    let ColumnKind::Objects(o) = &mut c.kind else { unreachable!() };
    o.custom_metrics = vec![
        metric("iou", vec![0.5, 0.0, 0.75], Some(vec![true, false, true])),
        metric("area", vec![1.0, 0.0, 2.0], Some(vec![true, false, false])),
    ];
    let lines = assert_same_as_annotations(&c);
    let lines: Vec<&str> = lines.lines().collect();
    assert!(lines[0]
        .starts_with(r#"{"customMetrics":[{"name":"iou","value":0.5},{"name":"area","value":1.0}],"uuid""#));
    assert!(!lines[1].contains("customMetrics"), "{}", lines[1]);
    assert!(lines[2].starts_with(r#"{"customMetrics":[{"name":"iou","value":0.75}],"uuid""#));

    let ColumnKind::Objects(o) = &mut c.kind else { unreachable!() };
    o.custom_metrics =
        vec![metric("iou", vec![0.5, f64::INFINITY, 0.5], None), metric("area", vec![1.0], None)];
    assert_eq!(problems(&c), ["0|custom_metrics[1]|expected 3 values, one per prediction, got 1"]);
    let ColumnKind::Objects(o) = &mut c.kind else { unreachable!() };
    o.custom_metrics.truncate(1);
    assert_eq!(problems(&c), ["1|custom_metrics[1][0]|metric value must be finite, got Infinity"]);
}
