//! The one representation every input form is lowered into.
//!
//! Lowering is permissive: it records what the caller gave (options stay options,
//! numbers stay unchecked). The validator decides what is acceptable, so that every
//! problem of a batch can be reported at once.

use std::sync::Arc;

/// Shared text: names and data rows repeat across many annotations, so they are
/// reference-counted rather than copied.
pub type Text = Arc<str>;

use crate::issues::{Code, Problem};
use crate::mask::Image;
use crate::short_text::ShortText;

/// The data row a prediction belongs to, by id or by global key: decided once, when
/// the input is read ([`DataRow::from_parts`]), and never an empty reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataRow {
    Id(Text),
    GlobalKey(Text),
}

impl DataRow {
    pub fn global_key(key: impl Into<Text>) -> Self {
        DataRow::GlobalKey(key.into())
    }

    pub fn id(id: impl Into<Text>) -> Self {
        DataRow::Id(id.into())
    }

    /// The one rule for a reference given as two optional keys (dicts, typed
    /// `data`): exactly one of them set and non-empty; an empty one counts as absent.
    pub fn from_parts(id: Option<Text>, global_key: Option<Text>) -> Result<DataRow, Problem> {
        let id = id.filter(|t| !t.is_empty());
        let global_key = global_key.filter(|t| !t.is_empty());
        match (id, global_key) {
            (Some(id), None) => Ok(DataRow::Id(id)),
            (None, Some(key)) => Ok(DataRow::GlobalKey(key)),
            (Some(_), Some(_)) => Err(Problem::new(
                Code::DataRow,
                "data row must have exactly one of id and global key, got both",
            )),
            (None, None) => Err(Problem::new(
                Code::DataRow,
                "data row must have exactly one non-empty id or global key, got neither",
            )),
        }
    }

    /// A reference given as one text, known to be an id or a global key (columns).
    pub fn from_text(text: Text, by_id: bool) -> Result<DataRow, Problem> {
        if by_id {
            DataRow::from_parts(Some(text), None)
        } else {
            DataRow::from_parts(None, Some(text))
        }
    }

    /// The stand-in for a reference that was refused: its problem is recorded, so its
    /// batch is never written (see [`crate::batch::Batch`]).
    pub fn refused() -> Self {
        DataRow::GlobalKey(Text::from(""))
    }

    /// The NDJSON key: `id` or `globalKey`.
    pub fn key(&self) -> &'static str {
        match self {
            DataRow::Id(_) => "id",
            DataRow::GlobalKey(_) => "globalKey",
        }
    }

    /// The id or the global key.
    pub fn text(&self) -> &Text {
        match self {
            DataRow::Id(t) | DataRow::GlobalKey(t) => t,
        }
    }
}

/// An ontology feature, by name, by schema id, or both.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feature {
    pub name: Option<Text>,
    pub schema_id: Option<Text>,
}

impl Feature {
    pub fn named(name: impl Into<Text>) -> Self {
        Feature { name: Some(name.into()), schema_id: None }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub value: f64,
}

/// Confidence and custom metrics, which can sit on objects, answers and text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub confidence: Option<f64>,
    pub custom_metrics: Option<Vec<Metric>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pt {
    pub x: f64,
    pub y: f64,
}

/// A box as given: two corners in any order (the SDK's `Rectangle(start, end)`),
/// normalised to top/left/height/width by the writer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Corners {
    pub start: Pt,
    pub end: Pt,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BBox {
    Corners(Corners),
    /// Already in the wire form (NDJSON dicts), written as given once checked.
    TopLeftHeightWidth([f64; 4]),
}

/// The colour that selects one instance from a mask image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaskColor {
    /// One value that every channel must equal (how grayscale masks are addressed).
    Gray(i64),
    Rgb([i64; 3]),
}

impl MaskColor {
    /// The colour as `(r, g, b)`: an int colour is that value on every channel.
    pub fn rgb(self) -> [i64; 3] {
        match self {
            MaskColor::Gray(v) => [v; 3],
            MaskColor::Rgb(rgb) => rgb,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Mask {
    /// A mask hosted elsewhere; nothing is fetched.
    Url { uri: String, color: MaskColor },
    /// An already binary PNG (from a dict's `{"png": base64}`), written as given.
    Png(Vec<u8>),
    /// Pixels to threshold on `color`; the rules turn this into `Png`.
    Pixels { image: Arc<Image>, color: MaskColor },
    /// A mask that could not be read; its problem was recorded then, so its batch is
    /// never written (see [`crate::batch::Batch`]).
    Refused,
}

/// What kind of geometry an object has, whatever form it was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeometryKind {
    Point,
    Bbox,
    Line,
    Polygon,
    Mask,
}

impl GeometryKind {
    /// Its NDJSON key (`bbox`), also the word for it in deterministic ids' names.
    pub fn key(self) -> &'static str {
        match self {
            GeometryKind::Point => "point",
            GeometryKind::Bbox => "bbox",
            GeometryKind::Line => "line",
            GeometryKind::Polygon => "polygon",
            GeometryKind::Mask => "mask",
        }
    }

    /// How messages name one (`a bbox`).
    pub fn noun(self) -> &'static str {
        match self {
            GeometryKind::Point => "a point",
            GeometryKind::Bbox => "a bbox",
            GeometryKind::Line => "a line",
            GeometryKind::Polygon => "a polygon",
            GeometryKind::Mask => "a mask",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Geometry {
    Point(Pt),
    Bbox(BBox),
    Line(Vec<Pt>),
    Polygon(Vec<Pt>),
    Mask(Mask),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub feature: Feature,
    pub scores: Scores,
    pub classifications: Vec<Classification>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClassificationValue {
    Radio(Answer),
    Checklist(Vec<Answer>),
    Text(String),
}

/// A radio, checklist or text question with its answer. Used at the top level
/// (its own NDJSON line) and nested below objects and answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub feature: Feature,
    /// Radio/checklist: the question's confidence (metrics have no place there).
    /// Text: the text's confidence and metrics.
    pub scores: Scores,
    pub value: ClassificationValue,
    /// Only text carries classifications of its own; answers carry theirs.
    pub classifications: Vec<Classification>,
    /// The scores were given on the typed value (`Text(confidence=...)`) rather than
    /// on the annotation: the rules report their problems at `value.confidence`.
    pub scores_on_value: bool,
}

impl Geometry {
    pub fn kind(&self) -> GeometryKind {
        match self {
            Geometry::Point(_) => GeometryKind::Point,
            Geometry::Bbox(_) => GeometryKind::Bbox,
            Geometry::Line(_) => GeometryKind::Line,
            Geometry::Polygon(_) => GeometryKind::Polygon,
            Geometry::Mask(_) => GeometryKind::Mask,
        }
    }
}

/// A geometry with its feature, scores and sub-classifications.
#[derive(Debug, Clone)]
pub struct Object {
    pub feature: Feature,
    pub scores: Scores,
    pub geometry: Geometry,
    pub classifications: Vec<Classification>,
}

#[derive(Debug, Clone)]
pub enum Body {
    Object(Object),
    Classification(Classification),
    /// A model-run metric of the data row (`ScalarMetric`, `ConfusionMatrixMetric`).
    Metric(MetricLine),
    /// A relationship between two object annotations of the same Label.
    Relationship(Relationship),
}

/// Which of the SDK's two metric classes a metric line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// One number, within [0, 1e8] (`ScalarMetric`).
    Scalar,
    /// Four counts: true positives, false positives, true negatives, false negatives
    /// (`ConfusionMatrixMetric`).
    ConfusionMatrix,
}

impl MetricKind {
    /// The aggregation written when none is given.
    pub fn default_aggregation(self) -> &'static str {
        match self {
            MetricKind::Scalar => "ARITHMETIC_MEAN",
            MetricKind::ConfusionMatrix => "CONFUSION_MATRIX",
        }
    }

    /// The aggregations Labelbox accepts for the kind.
    pub fn aggregations(self) -> &'static [&'static str] {
        match self {
            MetricKind::Scalar => &["ARITHMETIC_MEAN", "GEOMETRIC_MEAN", "HARMONIC_MEAN", "SUM"],
            MetricKind::ConfusionMatrix => &["CONFUSION_MATRIX"],
        }
    }
}

/// A metric's value as given: the numbers (one for a scalar, four counts for a
/// confusion matrix; the rules check the shape), or such numbers per confidence
/// threshold, in the caller's order.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    Single(Vec<f64>),
    ByConfidence(Vec<(f64, Vec<f64>)>),
}

/// A metric line: what is measured (`metric_name`), of which feature and subclass
/// (`feature_name`, `subclass_name`; none: of the whole data row), and how Labelbox
/// aggregates it (`None`: the kind's default).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricLine {
    pub kind: MetricKind,
    pub value: MetricValue,
    pub metric_name: Option<Text>,
    pub feature_name: Option<Text>,
    pub subclass_name: Option<Text>,
    pub aggregation: Option<Text>,
}

/// One end of a relationship, as the input named it.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// Annotation `items[i]` of the batch (typed: the very object, found by identity).
    Item(usize),
    /// The `uuid` of another line (dicts, files); the rules find that line.
    Uuid(String),
    /// An annotation that is not among those written, described for messages
    /// (`ObjectAnnotation 'wheel'`).
    Unlisted(String),
    /// A reference that could not be read; its problem was recorded then.
    Refused,
}

/// A relationship line. The rules resolve each end to the uuid of the line it names
/// ([`End::Uuid`]), which is what the writer writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    pub feature: Feature,
    /// `None` only with `source_ontology_name` (documents, not images).
    pub source: Option<End>,
    pub target: End,
    /// `unidirectional` or `bidirectional`, as given.
    pub kind: Text,
    pub readonly: Option<bool>,
    pub source_ontology_name: Option<Text>,
}

/// One NDJSON line.
#[derive(Debug, Clone)]
pub struct Annotation {
    pub uuid: AnnotationId,
    pub data_row: DataRow,
    pub body: Body,
    pub marks: Marks,
}

/// The annotation's `uuid`.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum AnnotationId {
    /// A fresh random `UUIDv4`, made by the writer.
    #[default]
    Random,
    /// The caller's own id, written as given (inline: no allocation per line).
    Given(ShortText),
    /// A UUID computed from the prediction (deterministic ids), written hyphenated.
    Derived([u8; 16]),
}

impl From<Option<String>> for AnnotationId {
    fn from(given: Option<String>) -> Self {
        given.map_or(AnnotationId::Random, |id| AnnotationId::Given(id.into()))
    }
}

impl From<Option<&str>> for AnnotationId {
    fn from(given: Option<&str>) -> Self {
        given.map_or(AnnotationId::Random, |id| AnnotationId::Given(id.into()))
    }
}

/// Rarely used line-level fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    /// Conversational data only; written on classification lines.
    pub message_id: Option<String>,
    /// `Label(is_benchmark_reference=True)`: `"isBenchmarkReferenceLabel": true`, last.
    pub benchmark_reference: bool,
}
