use super::*;
use crate::batch::Located;
use crate::issues::{Code, Issue, Report, Severity, MAX_LISTED};
use crate::model::{
    Annotation, AnnotationId, Answer, BBox, Body, Classification, ClassificationValue, Corners, DataRow,
    Feature, Geometry, Marks, Mask, MaskColor, Metric, Object, Pt, Scores,
};
use crate::options::Options;

fn feature(name: &str) -> FeatureSpec {
    FeatureSpec::named(name)
}

fn with_id(name: &str, id: &str) -> FeatureSpec {
    FeatureSpec { schema_id: Some(id.to_string()), ..FeatureSpec::named(name) }
}

fn tool(kind: &str, f: FeatureSpec, classifications: Vec<QuestionSpec>) -> ToolSpec {
    ToolSpec { kind: kind.to_string(), feature: f, classifications }
}

fn question(kind: &str, f: FeatureSpec, options: Vec<OptionSpec>) -> QuestionSpec {
    QuestionSpec { kind: kind.to_string(), feature: f, options }
}

fn option(f: FeatureSpec, classifications: Vec<QuestionSpec>) -> OptionSpec {
    OptionSpec { feature: f, classifications }
}

/// The guide's ontology, with schema ids on a few features.
fn seed() -> OntologySpec {
    OntologySpec {
        tools: vec![
            tool("rectangle", with_id("bounding_box", "cbbbbbbbbbbbbbbbbbbbbbbbb"), vec![]),
            tool(
                "rectangle",
                feature("bbox_with_radio_subclass"),
                vec![question(
                    "radio",
                    feature("sub_radio_question"),
                    vec![option(feature("first_sub_radio_answer"), vec![])],
                )],
            ),
            tool("polygon", feature("polygon"), vec![]),
            tool("raster-segmentation", feature("mask"), vec![]),
            tool(
                "raster-segmentation",
                feature("mask_with_text_subclass"),
                vec![question("text", feature("sub_free_text"), vec![])],
            ),
            tool("point", feature("point"), vec![]),
            tool("line", feature("polyline"), vec![]),
        ],
        classifications: vec![
            question(
                "radio",
                with_id("radio_question", "crrrrrrrrrrrrrrrrrrrrrrrr"),
                vec![
                    option(with_id("first_radio_answer", "ca1aaaaaaaaaaaaaaaaaaaaaa"), vec![]),
                    option(feature("second_radio_answer"), vec![]),
                ],
            ),
            question(
                "checklist",
                feature("checklist_question"),
                vec![
                    option(feature("first_checklist_answer"), vec![]),
                    option(feature("second_checklist_answer"), vec![]),
                ],
            ),
            question("text", feature("free_text"), vec![]),
            question(
                "radio",
                feature("nested_radio_question"),
                vec![option(
                    feature("first_radio_answer"),
                    vec![question(
                        "radio",
                        feature("sub_radio_question"),
                        vec![option(feature("first_sub_radio_answer"), vec![])],
                    )],
                )],
            ),
            question(
                "checklist",
                feature("nested_checklist_question"),
                vec![option(
                    feature("first_checklist_answer"),
                    vec![question(
                        "checklist",
                        feature("sub_checklist_question"),
                        vec![option(feature("first_sub_checklist_answer"), vec![])],
                    )],
                )],
            ),
        ],
    }
}

fn named(name: &str) -> Feature {
    Feature::named(name)
}

fn answer(name: &str, classifications: Vec<Classification>) -> Answer {
    Answer { feature: named(name), scores: Scores::default(), classifications }
}

fn radio(name: &str, a: Answer) -> Classification {
    Classification {
        feature: named(name),
        scores: Scores::default(),
        value: ClassificationValue::Radio(a),
        classifications: vec![],
        scores_on_value: false,
    }
}

fn checklist(name: &str, answers: Vec<Answer>) -> Classification {
    Classification {
        feature: named(name),
        scores: Scores::default(),
        value: ClassificationValue::Checklist(answers),
        classifications: vec![],
        scores_on_value: false,
    }
}

fn text(name: &str, t: &str) -> Classification {
    Classification {
        feature: named(name),
        scores: Scores::default(),
        value: ClassificationValue::Text(t.to_string()),
        classifications: vec![],
        scores_on_value: false,
    }
}

fn bbox() -> Geometry {
    Geometry::Bbox(BBox::Corners(Corners { start: Pt { x: 1.0, y: 1.0 }, end: Pt { x: 5.0, y: 5.0 } }))
}

fn polygon() -> Geometry {
    Geometry::Polygon(vec![Pt { x: 0.0, y: 0.0 }, Pt { x: 1.0, y: 0.0 }, Pt { x: 1.0, y: 1.0 }])
}

fn object(f: Feature, geometry: Geometry, classifications: Vec<Classification>) -> Body {
    Body::Object(Object { feature: f, scores: Scores::default(), geometry, classifications })
}

fn item(row: usize, body: Body) -> Located {
    Located {
        row,
        slot: None,
        annotation: Annotation {
            uuid: AnnotationId::Random,
            data_row: DataRow::global_key("img-1"),
            body,
            marks: Marks::default(),
        },
    }
}

/// What a check found, sorted, with its counts.
struct Found(Report);

impl Found {
    fn of(&self, severity: Severity) -> Vec<Issue> {
        self.0
            .issues
            .iter()
            .filter(|i| i.severity == severity && i.code != Code::MoreProblems)
            .cloned()
            .collect()
    }
    fn errors(&self) -> Vec<Issue> {
        self.of(Severity::Error)
    }
    fn warnings(&self) -> Vec<Issue> {
        self.of(Severity::Warning)
    }
    fn count(&self, severity: Severity) -> usize {
        self.0.counts.iter().filter(|c| c.1 == severity).map(|c| c.2).sum()
    }
    fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }
    fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }
    fn has_errors(&self) -> bool {
        self.0.has_errors()
    }
}

fn check_with(spec: &OntologySpec, options: Options, items: &mut [Located]) -> Found {
    let onto = Ontology::build(spec).expect("a valid ontology");
    let mut checker = Checker::new(&onto, options);
    let mut rows = DataRows::new();
    checker.check_items(items, &mut rows);
    checker.finish(&rows);
    Found(checker.findings.into_report())
}

fn check(items: &mut [Located]) -> Found {
    check_with(&seed(), Options::default(), items)
}

fn summary(findings: &[Issue]) -> Vec<(usize, String, &'static str)> {
    findings.iter().map(|f| (f.row, f.path.clone(), f.code.as_str())).collect()
}

#[test]
fn the_guides_predictions_fit_the_guides_ontology() {
    let mut items = vec![
        item(0, Body::Classification(radio("radio_question", answer("second_radio_answer", vec![])))),
        item(
            1,
            Body::Classification(radio(
                "nested_radio_question",
                answer(
                    "first_radio_answer",
                    vec![radio("sub_radio_question", answer("first_sub_radio_answer", vec![]))],
                ),
            )),
        ),
        item(
            2,
            Body::Classification(checklist(
                "nested_checklist_question",
                vec![answer(
                    "first_checklist_answer",
                    vec![checklist(
                        "sub_checklist_question",
                        vec![answer("first_sub_checklist_answer", vec![])],
                    )],
                )],
            )),
        ),
        item(3, object(named("bounding_box"), bbox(), vec![])),
        item(
            4,
            object(
                named("bbox_with_radio_subclass"),
                bbox(),
                vec![radio("sub_radio_question", answer("first_sub_radio_answer", vec![]))],
            ),
        ),
        item(5, object(named("polygon"), polygon(), vec![])),
        item(
            6,
            object(
                named("mask_with_text_subclass"),
                Geometry::Mask(Mask::Url { uri: "u".into(), color: MaskColor::Rgb([255, 255, 255]) }),
                vec![text("sub_free_text", "free text answer")],
            ),
        ),
        item(7, Body::Classification(text("free_text", "sample text"))),
        item(8, object(named("point"), Geometry::Point(Pt { x: 1.0, y: 2.0 }), vec![])),
        item(
            9,
            object(
                named("polyline"),
                Geometry::Line(vec![Pt { x: 0.0, y: 0.0 }, Pt { x: 1.0, y: 1.0 }]),
                vec![],
            ),
        ),
    ];
    let found = check(&mut items);
    assert!(!found.has_errors(), "{:?}", found.errors());
    assert_eq!(found.warning_count(), 0);
}

#[test]
fn an_unknown_tool_gets_a_close_name() {
    let mut items = vec![item(0, object(named("bounding_bx"), bbox(), vec![]))];
    let found = check(&mut items);
    let errors = found.errors();
    assert_eq!(summary(&errors), [(0, "name".to_string(), "unknown_tool")]);
    assert_eq!(errors[0].message, "the ontology has no tool 'bounding_bx'");
    assert_eq!(errors[0].suggestion.as_deref(), Some("did you mean 'bounding_box'?"));
    assert!(errors[0].to_string().ends_with("; did you mean 'bounding_box'?"));
}

#[test]
fn far_names_get_no_suggestion_and_case_is_forgiven() {
    let mut items = vec![
        item(0, object(named("car"), bbox(), vec![])),
        item(1, object(named("Bounding_Box"), bbox(), vec![])),
    ];
    let errors = check(&mut items).errors();
    assert_eq!(errors[0].suggestion, None);
    assert_eq!(errors[1].suggestion.as_deref(), Some("did you mean 'bounding_box'?"));
}

#[test]
fn a_classification_used_as_a_tool_is_named_as_such() {
    let mut items = vec![
        item(0, object(named("radio_question"), bbox(), vec![])),
        item(1, Body::Classification(text("polygon", "x"))),
    ];
    let errors = check(&mut items).errors();
    assert_eq!(errors[0].code, Code::UnknownTool);
    assert_eq!(
        errors[0].message,
        "the ontology has no tool 'radio_question'; 'radio_question' is a global classification"
    );
    assert_eq!(errors[1].code, Code::UnknownClassification);
    assert!(errors[1].message.ends_with("'polygon' is a tool"), "{}", errors[1].message);
}

#[test]
fn the_geometry_must_be_the_tools() {
    let mut items = vec![
        item(0, object(named("bounding_box"), polygon(), vec![])),
        item(1, object(named("mask"), bbox(), vec![])),
        item(2, object(named("polygon"), Geometry::Mask(Mask::Png(vec![])), vec![])),
    ];
    let errors = check(&mut items).errors();
    assert_eq!(
        summary(&errors),
        [
            (0, "polygon".to_string(), "geometry_mismatch"),
            (1, "bbox".to_string(), "geometry_mismatch"),
            (2, "mask".to_string(), "geometry_mismatch"),
        ]
    );
    assert_eq!(
        errors[0].message,
        "tool 'bounding_box' is a rectangle tool, which takes a bbox; got a polygon"
    );
    assert_eq!(errors[0].suggestion.as_deref(), Some("did you mean 'polygon'?"));
    // Two tools draw boxes: no single suggestion.
    assert_eq!(errors[1].suggestion, None);
}

#[test]
fn superpixel_tools_take_masks() {
    let spec =
        OntologySpec { tools: vec![tool("superpixel", feature("seg"), vec![])], classifications: vec![] };
    let mut items = vec![item(0, object(named("seg"), Geometry::Mask(Mask::Png(vec![])), vec![]))];
    assert!(!check_with(&spec, Options::default(), &mut items).has_errors());
}

#[test]
fn answer_shapes_must_fit_the_question_type() {
    let mut items = vec![
        item(0, Body::Classification(text("radio_question", "second_radio_answer"))),
        item(1, Body::Classification(radio("free_text", answer("x", vec![])))),
        item(
            2,
            Body::Classification(checklist("radio_question", vec![answer("first_radio_answer", vec![])])),
        ),
        item(3, Body::Classification(checklist("free_text", vec![]))),
    ];
    let errors = check(&mut items).errors();
    assert_eq!(
        summary(&errors),
        [
            (0, "answer".to_string(), "answer_shape_mismatch"),
            (1, "answer".to_string(), "answer_shape_mismatch"),
            (2, "answer".to_string(), "answer_shape_mismatch"),
            (3, "answer".to_string(), "answer_shape_mismatch"),
        ]
    );
    assert_eq!(errors[0].suggestion.as_deref(), Some("use {\"name\": \"second_radio_answer\"}"));
    assert_eq!(
        errors[1].message,
        "text question 'free_text' takes a string answer, got an answer object (a radio answer)"
    );
    assert_eq!(errors[2].suggestion.as_deref(), Some("give the answer without the list"));
}

#[test]
fn a_single_answer_to_a_checklist_becomes_a_list_with_a_warning() {
    let mut items = vec![item(
        0,
        Body::Classification(checklist(
            "nested_checklist_question",
            vec![answer(
                "first_checklist_answer",
                vec![radio("sub_checklist_question", answer("first_sub_checklist_answer", vec![]))],
            )],
        )),
    )];
    let found = check(&mut items);
    assert!(!found.has_errors(), "{:?}", found.errors());
    let warnings = found.warnings();
    assert_eq!(
        summary(&warnings),
        [(0, "answer[0].classifications[0].answer".to_string(), "checklist_answer_normalized")]
    );
    let Body::Classification(c) = &items[0].annotation.body else { panic!() };
    let ClassificationValue::Checklist(top) = &c.value else { panic!() };
    let nested = &top[0].classifications[0];
    match &nested.value {
        ClassificationValue::Checklist(list) => {
            assert_eq!(list.len(), 1);
            assert_eq!(list[0].feature.name.as_deref(), Some("first_sub_checklist_answer"));
        }
        other => panic!("not normalised: {other:?}"),
    }
}

#[test]
fn answers_must_be_options_of_their_question() {
    let mut items = vec![
        item(0, Body::Classification(radio("radio_question", answer("second_radio_anwser", vec![])))),
        item(1, Body::Classification(radio("radio_question", answer("first_checklist_answer", vec![])))),
        item(
            2,
            Body::Classification(checklist(
                "checklist_question",
                vec![answer("first_checklist_answer", vec![]), answer("third", vec![])],
            )),
        ),
    ];
    let errors = check(&mut items).errors();
    assert_eq!(
        summary(&errors),
        [
            (0, "answer.name".to_string(), "unknown_answer"),
            (1, "answer.name".to_string(), "unknown_answer"),
            (2, "answer[1].name".to_string(), "unknown_answer"),
        ]
    );
    assert_eq!(errors[0].suggestion.as_deref(), Some("did you mean 'second_radio_answer'?"));
    assert!(errors[1].message.contains("is an option of 'checklist_question'"), "{}", errors[1].message);
}

#[test]
fn nested_classifications_must_sit_where_the_ontology_nests_them() {
    let mut items = vec![
        // Under a tool that has no sub-classifications.
        item(
            0,
            object(
                named("bounding_box"),
                bbox(),
                vec![radio("sub_radio_question", answer("first_sub_radio_answer", vec![]))],
            ),
        ),
        // A nested question given at the top level.
        item(
            1,
            Body::Classification(radio(
                "sub_checklist_question",
                answer("first_sub_checklist_answer", vec![]),
            )),
        ),
        // Under the wrong answer, three levels down.
        item(
            2,
            Body::Classification(checklist(
                "nested_checklist_question",
                vec![answer(
                    "first_checklist_answer",
                    vec![checklist(
                        "sub_checklist_question",
                        vec![answer("first_sub_checklist_answer", vec![text("free_text", "x")])],
                    )],
                )],
            )),
        ),
        // Under a text question.
        item(
            3,
            Body::Classification(Classification {
                classifications: vec![text("sub_free_text", "y")],
                ..text("free_text", "x")
            }),
        ),
    ];
    let errors = check(&mut items).errors();
    assert_eq!(
        summary(&errors),
        [
            (0, "classifications[0].name".to_string(), "misplaced_classification"),
            (1, "name".to_string(), "misplaced_classification"),
            (
                2,
                "answer[0].classifications[0].answer[0].classifications[0].name".to_string(),
                "misplaced_classification"
            ),
            (3, "classifications[0]".to_string(), "misplaced_classification"),
        ]
    );
    assert!(
        errors[1].message.contains(
            "is a classification under answer 'first_checklist_answer' of 'nested_checklist_question'"
        ),
        "{}",
        errors[1].message
    );
    assert_eq!(
        errors[3].suggestion.as_deref(),
        Some("'sub_free_text' is a classification of tool 'mask_with_text_subclass'")
    );
}

fn required_spec() -> OntologySpec {
    OntologySpec {
        tools: vec![tool(
            "rectangle",
            feature("car"),
            vec![question(
                "radio",
                FeatureSpec { required: true, ..feature("color") },
                vec![option(
                    feature("red"),
                    vec![question("text", FeatureSpec { required: true, ..feature("shade") }, vec![])],
                )],
            )],
        )],
        classifications: vec![question(
            "radio",
            FeatureSpec { required: true, ..feature("weather") },
            vec![option(feature("sunny"), vec![])],
        )],
    }
}

#[test]
fn required_classifications_are_checked_per_object_answer_and_data_row() {
    let mut items = vec![
        item(0, object(named("car"), bbox(), vec![])),
        item(1, object(named("car"), bbox(), vec![radio("color", answer("red", vec![]))])),
        item(
            2,
            object(named("car"), bbox(), vec![radio("color", answer("red", vec![text("shade", "dark")]))]),
        ),
        Located {
            annotation: Annotation {
                data_row: DataRow::global_key("img-2"),
                ..item(3, object(named("car"), bbox(), vec![])).annotation
            },
            ..item(3, object(named("car"), bbox(), vec![]))
        },
        Located {
            annotation: Annotation {
                data_row: DataRow::global_key("img-2"),
                ..item(4, Body::Classification(radio("weather", answer("sunny", vec![])))).annotation
            },
            ..item(4, Body::Classification(radio("weather", answer("sunny", vec![]))))
        },
    ];
    let found = check_with(&required_spec(), Options::default(), &mut items);
    let errors = found.errors();
    assert_eq!(
        summary(&errors),
        [
            (0, "classifications".to_string(), "missing_required"),
            (0, String::new(), "missing_required"),
            (1, "classifications[0].answer.classifications".to_string(), "missing_required"),
            (3, "classifications".to_string(), "missing_required"),
        ]
    );
    assert_eq!(errors[0].message, "tool 'car' requires the classification 'color', which is missing");
    assert_eq!(
        errors[1].message,
        "data row global key 'img-1' has no answer to the required global classification 'weather'"
    );
    assert_eq!(
        errors[2].message,
        "answer 'red' of 'color' requires the classification 'shade', which is missing"
    );
    let off = check_with(&required_spec(), Options { required: false, ..Options::default() }, &mut items);
    assert!(!off.has_errors());
}

#[test]
fn names_and_schema_ids_must_agree() {
    let mut items = vec![
        item(
            0,
            object(
                Feature {
                    name: Some("bounding_box".into()),
                    schema_id: Some("cbbbbbbbbbbbbbbbbbbbbbbbb".into()),
                },
                bbox(),
                vec![],
            ),
        ),
        item(
            1,
            object(
                Feature { name: Some("polygon".into()), schema_id: Some("cbbbbbbbbbbbbbbbbbbbbbbbb".into()) },
                polygon(),
                vec![],
            ),
        ),
        item(
            2,
            object(
                Feature { name: None, schema_id: Some("cbbbbbbbbbbbbbbbbbbbbbbbb".into()) },
                bbox(),
                vec![],
            ),
        ),
        item(
            3,
            object(
                Feature { name: None, schema_id: Some("czzzzzzzzzzzzzzzzzzzzzzzz".into()) },
                bbox(),
                vec![],
            ),
        ),
        item(
            4,
            object(
                Feature {
                    name: Some("bounding_box".into()),
                    schema_id: Some("czzzzzzzzzzzzzzzzzzzzzzzz".into()),
                },
                bbox(),
                vec![],
            ),
        ),
    ];
    let errors = check(&mut items).errors();
    assert_eq!(
        summary(&errors),
        [
            (1, "schemaId".to_string(), "name_schema_id_mismatch"),
            (3, "schemaId".to_string(), "unknown_tool"),
            (4, "schemaId".to_string(), "name_schema_id_mismatch"),
        ]
    );
    assert_eq!(
        errors[0].message,
        "name 'polygon' and schemaId name different features: 'cbbbbbbbbbbbbbbbbbbbbbbbb' is tool 'bounding_box'"
    );
    assert_eq!(errors[1].message, "the ontology has no tool schemaId 'czzzzzzzzzzzzzzzzzzzzzzzz'");
    assert_eq!(
        errors[2].suggestion.as_deref(),
        Some("'bounding_box' has the schemaId 'cbbbbbbbbbbbbbbbbbbbbbbbb'")
    );
}

#[test]
fn a_schema_node_id_given_as_schema_id_is_recognised() {
    let spec = OntologySpec {
        tools: vec![tool(
            "rectangle",
            FeatureSpec {
                node_id: Some("cnnnnnnnnnnnnnnnnnnnnnnnn".into()),
                ..with_id("car", "cfffffffffffffffffffffffff")
            },
            vec![],
        )],
        classifications: vec![],
    };
    let mut items = vec![item(
        0,
        object(Feature { name: None, schema_id: Some("cnnnnnnnnnnnnnnnnnnnnnnnn".into()) }, bbox(), vec![]),
    )];
    let errors = check_with(&spec, Options::default(), &mut items).errors();
    assert!(errors[0]
        .suggestion
        .as_deref()
        .unwrap()
        .contains("its featureSchemaId 'cfffffffffffffffffffffffff'"));
}

#[test]
fn resolving_writes_schema_ids_at_every_level() {
    let mut items = vec![
        item(0, Body::Classification(radio("radio_question", answer("first_radio_answer", vec![])))),
        item(1, object(named("bounding_box"), bbox(), vec![])),
    ];
    let found = check_with(&seed(), Options { resolve_schema_ids: true, ..Options::default() }, &mut items);
    assert!(!found.has_errors());
    let Body::Classification(c) = &items[0].annotation.body else { panic!() };
    assert_eq!(c.feature.schema_id.as_deref(), Some("crrrrrrrrrrrrrrrrrrrrrrrr"));
    assert_eq!(c.feature.name.as_deref(), Some("radio_question"));
    let ClassificationValue::Radio(a) = &c.value else { panic!() };
    assert_eq!(a.feature.schema_id.as_deref(), Some("ca1aaaaaaaaaaaaaaaaaaaaaa"));
    let Body::Object(o) = &items[1].annotation.body else { panic!() };
    assert_eq!(o.feature.schema_id.as_deref(), Some("cbbbbbbbbbbbbbbbbbbbbbbbb"));
}

#[test]
fn archived_features_are_refused() {
    let spec = OntologySpec {
        tools: vec![tool("rectangle", FeatureSpec { archived: true, ..feature("old") }, vec![])],
        classifications: vec![],
    };
    let mut items = vec![item(0, object(named("old"), bbox(), vec![]))];
    let errors = check_with(&spec, Options::default(), &mut items).errors();
    assert_eq!(summary(&errors), [(0, "name".to_string(), "archived_feature")]);
}

#[test]
fn typed_items_get_typed_paths() {
    let mut located = item(0, Body::Classification(text("radio_question", "x")));
    located.slot = Some(3);
    let mut items = vec![located];
    let errors = check(&mut items).errors();
    assert_eq!(errors[0].path, "annotations[3].value.answer");
}

#[test]
fn ambiguous_ontologies_are_refused_with_every_problem() {
    let spec = OntologySpec {
        tools: vec![
            tool("rectangle", feature("car"), vec![]),
            tool("polygon", feature("car"), vec![]),
            tool("point", feature(""), vec![]),
        ],
        classifications: vec![question(
            "radio",
            feature("q"),
            vec![option(feature("a"), vec![]), option(feature("a"), vec![])],
        )],
    };
    let problems = Ontology::build(&spec).unwrap_err();
    assert_eq!(
        problems,
        [
            "tools[1]: duplicate name 'car' at one place of the ontology",
            "tools[2]: a feature needs a non-empty name",
            "classifications[0].options[1]: duplicate name 'a' at one place of the ontology",
        ]
    );
}

#[test]
fn the_same_question_may_sit_at_several_places() {
    let onto = Ontology::build(&seed()).unwrap();
    assert_eq!(onto.tool_count(), 7);
    assert_eq!(onto.classification_count(), 5);
    assert!(!onto.has_required_globals());
    assert!(onto.features_without_schema_id().contains(&"tool 'polygon'".to_string()));
}

#[test]
fn findings_keep_a_bounded_list_and_count_everything() {
    let mut items: Vec<Located> =
        (0..MAX_LISTED + 5).map(|r| item(r, object(named("nope"), bbox(), vec![]))).collect();
    let found = check(&mut items);
    assert_eq!(found.error_count(), MAX_LISTED + 5);
    assert_eq!(found.errors().len(), MAX_LISTED);
    let issues = &found.0.issues;
    assert_eq!(issues.len(), MAX_LISTED + 1);
    assert!(issues[MAX_LISTED].message.starts_with("5 more problems"), "{}", issues[MAX_LISTED].message);
    assert_eq!(found.0.counts, [(Code::UnknownTool, Severity::Error, MAX_LISTED + 5)]);
}

#[test]
fn edit_distance_counts_characters() {
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("bounding_bx", "bounding_box"), 1);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("héllo", "hello"), 1);
}

#[test]
fn metrics_do_not_matter_to_the_ontology() {
    let mut o = item(0, object(named("bounding_box"), bbox(), vec![]));
    if let Body::Object(obj) = &mut o.annotation.body {
        obj.scores = Scores {
            confidence: Some(0.5),
            custom_metrics: Some(vec![Metric { name: "iou".into(), value: 0.3 }]),
        };
    }
    assert!(!check(&mut [o]).has_errors());
}

#[test]
fn a_name_with_an_unknown_schema_id_points_at_the_name() {
    let mut items = vec![item(
        0,
        object(
            Feature { name: Some("polgon".into()), schema_id: Some("cbbbbbbbbbbbbbbbbbbbbbbbb".into()) },
            bbox(),
            vec![],
        ),
    )];
    let errors = check(&mut items).errors();
    assert_eq!(summary(&errors), [(0, "name".to_string(), "name_schema_id_mismatch")]);
    assert_eq!(errors[0].suggestion.as_deref(), Some("did you mean 'bounding_box'?"));
}

#[test]
fn tools_and_questions_of_other_media_take_no_image_predictions() {
    let spec = OntologySpec {
        tools: vec![tool("named-entity", feature("person"), vec![])],
        classifications: vec![question(
            "response-radio",
            feature("best"),
            vec![option(feature("a"), vec![])],
        )],
    };
    let mut items = vec![
        item(0, object(named("person"), bbox(), vec![])),
        item(1, Body::Classification(radio("best", answer("a", vec![])))),
    ];
    let errors = check_with(&spec, Options::default(), &mut items).errors();
    assert_eq!(
        summary(&errors),
        [(0, "bbox".to_string(), "geometry_mismatch"), (1, "answer".to_string(), "answer_shape_mismatch")]
    );
    assert_eq!(
        errors[0].message,
        "tool 'person' is a named-entity tool, which image predictions cannot use; got a bbox"
    );
    assert_eq!(
        errors[1].message,
        "question 'best' is of type 'response-radio', which image predictions cannot answer"
    );
}
