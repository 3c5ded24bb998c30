//! Problems as values: every one carries a stable machine code, its row, field path,
//! message, an optional suggestion and a severity, so that a whole batch can be
//! reported at once and machines can count and filter what people read.

use std::collections::BTreeMap;
use std::fmt;

/// What is wrong, for machines: stable across releases (the `kind` of
/// `ValidationError.errors()` and of `lbfast.Report`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    // The predictions themselves.
    /// A data row reference that is not exactly one non-empty id or global key.
    DataRow,
    /// A feature with neither a name nor a schema id.
    MissingFeature,
    /// A feature schema id that is not 25 characters long.
    SchemaId,
    /// A confidence outside [0, 1] (or not a number).
    Confidence,
    /// A coordinate or metric value that is NaN or infinite.
    NotFinite,
    /// A negative width or height.
    NegativeExtent,
    /// A line with fewer than 2 points, a polygon with fewer than 3.
    TooFewPoints,
    /// A box whose corners or extent overflow a float.
    BoxOverflow,
    /// Custom metrics where the format has no place for them.
    MisplacedMetrics,
    /// A mask colour out of range, of the wrong shape, or absent from its mask.
    MaskColor,
    /// An empty mask URL.
    MaskUrl,
    /// A mask image that cannot be decoded, or is too large to decode.
    MaskImage,
    /// A mask with no pixel set.
    EmptyMask,
    /// A mask or image size that is not positive, or does not match.
    ImageSize,
    /// An index (class id, image index, answer id) outside its list.
    Index,
    /// An array or list whose length does not match the predictions.
    Length,
    /// Ragged-array offsets that do not start at 0, decrease, or overrun.
    Offsets,
    /// An array of the wrong shape.
    Shape,
    /// A required key, column or list entry that is missing.
    Missing,
    /// A key the format does not have.
    UnknownKey,
    /// A dict whose keys do not make one annotation (two geometries, none, ...).
    Structure,
    /// Nesting deeper than the format allows (or a cycle).
    TooDeep,
    /// An input line that is not one JSON value.
    Unreadable,
    /// Text that is not valid Unicode (a lone surrogate).
    InvalidText,
    /// A value of the wrong Python type.
    Type,
    /// A metric value out of its range (a scalar outside [0, 1e8], a count that is
    /// not a whole number within [0, 1e10]).
    MetricValue,
    /// A metric value of the wrong shape: a confusion matrix without exactly four
    /// counts, or per-confidence values for fewer than 2 or more than 15 confidences.
    MetricShape,
    /// A metric name that is missing (confusion matrix) or reserved (scalar).
    MetricName,
    /// An aggregation the metric's kind does not have.
    Aggregation,
    /// A relationship type other than `unidirectional` and `bidirectional`.
    RelationshipType,
    /// A relationship end that is not an object annotation written in the same Label
    /// (or data row), or a source given wrongly.
    RelationshipEnd,
    // Against an ontology.
    /// An object whose name or schema id is no tool of the ontology.
    UnknownTool,
    /// A metric line's feature or subclass name that names no feature of the ontology.
    UnknownFeature,
    /// A classification whose name or schema id is no classification at its place.
    UnknownClassification,
    /// An answer that is no option of its question.
    UnknownAnswer,
    /// A classification the ontology has, but at another place.
    MisplacedClassification,
    /// A feature that is archived in the ontology.
    ArchivedFeature,
    /// A name and a schema id that name different features.
    NameSchemaIdMismatch,
    /// A geometry the tool does not draw.
    GeometryMismatch,
    /// An answer whose shape does not fit the question's type.
    AnswerShapeMismatch,
    /// A required classification that is not there.
    MissingRequired,
    /// (Warning) a single answer object given to a checklist question, written as a list.
    ChecklistAnswerNormalized,
    // Against the destination.
    /// A score (confidence, custom metrics) that a project import does not take.
    NotForProject,
    /// (Warning) a score left out because a project import does not take it.
    ScoreStripped,
    /// Problems past the listing limit, counted in one closing entry.
    MoreProblems,
}

impl Code {
    pub const ALL: [Code; 45] = [
        Code::DataRow,
        Code::MissingFeature,
        Code::SchemaId,
        Code::Confidence,
        Code::NotFinite,
        Code::NegativeExtent,
        Code::TooFewPoints,
        Code::BoxOverflow,
        Code::MisplacedMetrics,
        Code::MaskColor,
        Code::MaskUrl,
        Code::MaskImage,
        Code::EmptyMask,
        Code::ImageSize,
        Code::Index,
        Code::Length,
        Code::Offsets,
        Code::Shape,
        Code::Missing,
        Code::UnknownKey,
        Code::Structure,
        Code::TooDeep,
        Code::Unreadable,
        Code::InvalidText,
        Code::Type,
        Code::MetricValue,
        Code::MetricShape,
        Code::MetricName,
        Code::Aggregation,
        Code::RelationshipType,
        Code::RelationshipEnd,
        Code::UnknownTool,
        Code::UnknownFeature,
        Code::UnknownClassification,
        Code::UnknownAnswer,
        Code::MisplacedClassification,
        Code::ArchivedFeature,
        Code::NameSchemaIdMismatch,
        Code::GeometryMismatch,
        Code::AnswerShapeMismatch,
        Code::MissingRequired,
        Code::ChecklistAnswerNormalized,
        Code::NotForProject,
        Code::ScoreStripped,
        Code::MoreProblems,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::DataRow => "data_row",
            Code::MissingFeature => "missing_feature",
            Code::SchemaId => "schema_id",
            Code::Confidence => "confidence",
            Code::NotFinite => "not_finite",
            Code::NegativeExtent => "negative_extent",
            Code::TooFewPoints => "too_few_points",
            Code::BoxOverflow => "box_overflow",
            Code::MisplacedMetrics => "misplaced_metrics",
            Code::MaskColor => "mask_color",
            Code::MaskUrl => "mask_url",
            Code::MaskImage => "mask_image",
            Code::EmptyMask => "empty_mask",
            Code::ImageSize => "image_size",
            Code::Index => "index",
            Code::Length => "length",
            Code::Offsets => "offsets",
            Code::Shape => "shape",
            Code::Missing => "missing",
            Code::UnknownKey => "unknown_key",
            Code::Structure => "structure",
            Code::TooDeep => "too_deep",
            Code::Unreadable => "unreadable",
            Code::InvalidText => "invalid_text",
            Code::Type => "type",
            Code::MetricValue => "metric_value",
            Code::MetricShape => "metric_shape",
            Code::MetricName => "metric_name",
            Code::Aggregation => "aggregation",
            Code::RelationshipType => "relationship_type",
            Code::RelationshipEnd => "relationship_end",
            Code::UnknownTool => "unknown_tool",
            Code::UnknownFeature => "unknown_feature",
            Code::UnknownClassification => "unknown_classification",
            Code::UnknownAnswer => "unknown_answer",
            Code::MisplacedClassification => "misplaced_classification",
            Code::ArchivedFeature => "archived_feature",
            Code::NameSchemaIdMismatch => "name_schema_id_mismatch",
            Code::GeometryMismatch => "geometry_mismatch",
            Code::AnswerShapeMismatch => "answer_shape_mismatch",
            Code::MissingRequired => "missing_required",
            Code::ChecklistAnswerNormalized => "checklist_answer_normalized",
            Code::NotForProject => "not_for_project",
            Code::ScoreStripped => "score_stripped",
            Code::MoreProblems => "more_problems",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Nothing is written.
    Error,
    /// Written, but amended or worth a look.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// What a rule says of one value: a code and a message, placed by its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: Code,
    pub message: String,
}

impl Problem {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Problem { code, message: message.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub code: Code,
    /// Index of the input item (a Label, a dict, a columnar row) the problem belongs to.
    pub row: usize,
    /// Field path inside that item, e.g. `annotations[3].value.points[1].x`.
    pub path: String,
    pub message: String,
    /// A likely fix, such as `did you mean 'bounding_box'?`.
    pub suggestion: Option<String>,
    pub severity: Severity,
}

impl Issue {
    /// An error with no suggestion.
    pub fn error(code: Code, row: usize, path: impl Into<String>, message: impl Into<String>) -> Self {
        Issue {
            code,
            row,
            path: path.into(),
            message: message.into(),
            suggestion: None,
            severity: Severity::Error,
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}: ", self.row)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; {s}")?;
        }
        Ok(())
    }
}

/// How many problems of each severity a call lists; the rest are counted in one
/// closing issue, so that millions of bad predictions cannot exhaust memory (and
/// warnings, however many, never keep an error from being listed).
pub const MAX_LISTED: usize = 1000;

/// Collects issues, tracking the current row and field path as a stack of segments
/// so that callers never format paths on the happy path. Every problem is counted
/// by code and severity; past the limit, problems are only counted.
#[derive(Debug, Default)]
pub struct Issues {
    row: usize,
    path: Vec<PathSeg>,
    found: Vec<Issue>,
    /// How many of `found` are errors and how many warnings.
    kept: [usize; 2],
    /// Past this many issues of a severity, further ones are only counted.
    limit: Option<usize>,
    omitted: usize,
    first_omitted_row: Option<usize>,
    counts: BTreeMap<(Code, Severity), usize>,
}

#[derive(Debug, Clone)]
enum PathSeg {
    Key(&'static str),
    OwnedKey(String),
    Index(usize),
}

/// Every problem of a check: those listed, in row order (at most [`MAX_LISTED`],
/// then one [`Code::MoreProblems`] entry counting the rest), and the count of all of
/// them by code and severity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub issues: Vec<Issue>,
    pub counts: Vec<(Code, Severity, usize)>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.counts.iter().any(|&(_, severity, n)| severity == Severity::Error && n > 0)
    }
}

impl Issues {
    pub fn new() -> Self {
        Self::default()
    }

    /// Issues that keep the first `limit` problems and count the rest.
    pub fn with_limit(limit: usize) -> Self {
        Issues { limit: Some(limit), ..Self::default() }
    }

    /// Problems counted but not kept (see [`Issues::with_limit`]).
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    /// Keeps `issue` unless its severity's limit is reached (then only counts it).
    fn keep(&mut self, issue: Issue) {
        let kept = &mut self.kept[issue.severity as usize];
        if self.limit.is_some_and(|limit| *kept >= limit) {
            self.omit(issue.row);
        } else {
            *kept += 1;
            self.found.push(issue);
        }
    }

    fn omit(&mut self, row: usize) {
        self.omitted += 1;
        self.first_omitted_row = Some(self.first_omitted_row.map_or(row, |r| r.min(row)));
    }

    pub fn set_row(&mut self, row: usize) {
        self.row = row;
        self.path.clear();
    }

    pub fn row(&self) -> usize {
        self.row
    }

    pub fn push_key(&mut self, key: &'static str) {
        self.path.push(PathSeg::Key(key));
    }

    pub fn push_owned_key(&mut self, key: String) {
        self.path.push(PathSeg::OwnedKey(key));
    }

    pub fn push_index(&mut self, index: usize) {
        self.path.push(PathSeg::Index(index));
    }

    pub fn pop(&mut self) {
        self.path.pop();
    }

    /// Runs `f` with `key` appended to the path.
    pub fn at<T>(&mut self, key: &'static str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.push_key(key);
        let out = f(self);
        self.pop();
        out
    }

    /// Runs `f` with several keys appended to the path.
    pub fn at_keys<T>(&mut self, keys: &[&'static str], f: impl FnOnce(&mut Self) -> T) -> T {
        for key in keys {
            self.push_key(key);
        }
        let out = f(self);
        for _ in keys {
            self.pop();
        }
        out
    }

    /// Runs `f` with `[index]` appended to the path.
    pub fn at_index<T>(&mut self, index: usize, f: impl FnOnce(&mut Self) -> T) -> T {
        self.push_index(index);
        let out = f(self);
        self.pop();
        out
    }

    pub fn current_path(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match seg {
                PathSeg::Key(k) => push_key_text(&mut out, k),
                PathSeg::OwnedKey(k) => push_key_text(&mut out, k),
                PathSeg::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    /// Records an error at the current path.
    pub fn report(&mut self, code: Code, message: impl Into<String>) {
        self.record(code, Severity::Error, message.into(), None);
    }

    /// Records what a rule found, at the current path.
    pub fn report_problem(&mut self, problem: Problem) {
        self.record(problem.code, Severity::Error, problem.message, None);
    }

    /// Records an error at the current path extended by `key`.
    pub fn report_at(&mut self, key: &'static str, code: Code, message: impl Into<String>) {
        self.push_key(key);
        self.report(code, message);
        self.pop();
    }

    /// Records what a rule found, at the current path extended by `key`.
    pub fn report_problem_at(&mut self, key: &'static str, problem: Problem) {
        self.push_key(key);
        self.report_problem(problem);
        self.pop();
    }

    /// Records a problem of any severity, with an optional suggestion.
    pub fn record(&mut self, code: Code, severity: Severity, message: String, suggestion: Option<String>) {
        *self.counts.entry((code, severity)).or_insert(0) += 1;
        if self.limit.is_some_and(|limit| self.kept[severity as usize] >= limit) {
            self.omit(self.row);
            return;
        }
        let path = self.current_path();
        self.keep(Issue { code, row: self.row, path, message, suggestion, severity });
    }

    /// Whether nothing was found (errors or warnings).
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Whether an error (not only warnings) was found.
    pub fn has_errors(&self) -> bool {
        self.counts.keys().any(|&(_, severity)| severity == Severity::Error)
    }

    /// Number of problems of `code` found (kept or not).
    pub fn count_of(&self, code: Code) -> usize {
        self.counts.iter().filter(|((c, _), _)| *c == code).map(|(_, n)| n).sum()
    }

    /// Number of problems kept.
    pub fn len(&self) -> usize {
        self.found.len()
    }

    /// Adds the problems of `other` (kept and counted), within this one's limit.
    pub fn extend(&mut self, other: Issues) {
        for (key, n) in other.counts {
            *self.counts.entry(key).or_insert(0) += n;
        }
        if let Some(row) = other.first_omitted_row {
            self.omitted += other.omitted;
            self.first_omitted_row = Some(self.first_omitted_row.map_or(row, |r| r.min(row)));
        }
        for issue in other.found {
            self.keep(issue);
        }
    }

    /// Adds issues found elsewhere (each counted), within this one's limit.
    pub fn extend_issues(&mut self, issues: impl IntoIterator<Item = Issue>) {
        for issue in issues {
            *self.counts.entry((issue.code, issue.severity)).or_insert(0) += 1;
            self.keep(issue);
        }
    }

    /// The problems kept so far, in the order found.
    pub fn listed(&self) -> &[Issue] {
        &self.found
    }

    /// The problems kept, without the count of omitted ones; see [`Issues::into_report`].
    pub fn into_vec(self) -> Vec<Issue> {
        self.found
    }

    /// Every problem in row order (errors before warnings within a row), at most
    /// [`MAX_LISTED`] of each severity, followed by one issue counting those left out,
    /// if any.
    pub fn into_report(self) -> Report {
        let Issues { mut found, mut omitted, mut first_omitted_row, counts, .. } = self;
        // Stable: problems of one row keep the order they were found in.
        found.sort_by_key(|issue| (issue.row, issue.severity));
        let mut listed = [0usize; 2];
        found.retain(|issue| {
            let n = &mut listed[issue.severity as usize];
            *n += 1;
            if *n <= MAX_LISTED {
                return true;
            }
            omitted += 1;
            first_omitted_row = Some(first_omitted_row.map_or(issue.row, |r| r.min(issue.row)));
            false
        });
        if let (true, Some(row)) = (omitted > 0, first_omitted_row) {
            let message = format!(
                "{omitted} more problem{} from this row on are not listed (lbfast lists at most {MAX_LISTED})",
                if omitted == 1 { "" } else { "s" }
            );
            found.push(Issue::error(Code::MoreProblems, row, "", message));
        }
        let counts = counts.into_iter().map(|((code, severity), n)| (code, severity, n)).collect();
        Report { issues: found, counts }
    }
}

fn push_key_text(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_however_many_never_keep_an_error_from_being_listed() {
        let mut issues = Issues::with_limit(MAX_LISTED);
        for row in 0..=MAX_LISTED {
            issues.set_row(row);
            issues.record(Code::ChecklistAnswerNormalized, Severity::Warning, "amended".into(), None);
        }
        issues.set_row(MAX_LISTED + 1);
        issues.report(Code::Confidence, "bad");
        let mut all = Issues::new();
        all.extend(issues);
        let report = all.into_report();
        let error =
            report.issues.iter().find(|i| i.severity == Severity::Error && i.code == Code::Confidence);
        assert_eq!(error.map(|i| i.row), Some(MAX_LISTED + 1));
        let more = report.issues.last().unwrap();
        assert_eq!((more.code, more.row), (Code::MoreProblems, MAX_LISTED), "one warning left out");
        assert_eq!(report.issues.len(), MAX_LISTED + 2);
    }

    #[test]
    fn a_limit_keeps_the_first_problems_and_counts_the_rest() {
        let mut chunk = Issues::with_limit(2);
        for row in 0..5 {
            chunk.set_row(row);
            chunk.report(Code::Confidence, "bad");
        }
        assert_eq!((chunk.len(), chunk.omitted()), (2, 3));
        let mut all = Issues::new();
        all.set_row(9);
        all.report(Code::NotFinite, "late");
        all.extend(chunk);
        let report = all.into_report();
        assert_eq!(report.issues.iter().map(|i| i.row).collect::<Vec<_>>(), [0, 1, 9, 2]);
        let last = &report.issues[3];
        assert_eq!(last.code, Code::MoreProblems);
        assert!(last.message.starts_with("3 more problems"), "{}", last.message);
        assert_eq!(
            report.counts,
            [(Code::Confidence, Severity::Error, 5), (Code::NotFinite, Severity::Error, 1)]
        );
    }

    #[test]
    fn a_report_lists_at_most_max_listed() {
        let mut issues = Issues::new();
        for row in (0..MAX_LISTED + 10).rev() {
            issues.set_row(row);
            issues.report(Code::Index, "bad");
        }
        let report = issues.into_report();
        assert_eq!(report.issues.len(), MAX_LISTED + 1);
        assert_eq!(report.issues[0].row, 0);
        assert_eq!(report.issues[MAX_LISTED].row, MAX_LISTED);
        assert!(report.issues[MAX_LISTED].message.starts_with("10 more problems"));
        assert_eq!(report.counts, [(Code::Index, Severity::Error, MAX_LISTED + 10)]);
    }

    #[test]
    fn paths_join_keys_with_dots_and_indices_with_brackets() {
        let mut issues = Issues::new();
        issues.set_row(4);
        issues.at("annotations", |i| {
            i.at_index(3, |i| {
                i.at("value", |i| {
                    i.at("points", |i| i.at_index(1, |i| i.report_at("x", Code::NotFinite, "not finite")));
                });
            });
        });
        let found = issues.into_vec();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].row, 4);
        assert_eq!(found[0].path, "annotations[3].value.points[1].x");
        assert_eq!(found[0].to_string(), "row 4: annotations[3].value.points[1].x: not finite");
    }

    #[test]
    fn warnings_do_not_make_errors_and_sort_after_errors_of_their_row() {
        let mut issues = Issues::new();
        issues.set_row(1);
        issues.record(Code::ChecklistAnswerNormalized, Severity::Warning, "amended".into(), None);
        assert!(!issues.has_errors() && !issues.is_empty());
        issues.record(Code::UnknownTool, Severity::Error, "no".into(), Some("did you mean 'car'?".into()));
        let report = issues.into_report();
        assert!(report.has_errors());
        assert_eq!(report.issues[0].code, Code::UnknownTool);
        assert_eq!(report.issues[0].to_string(), "row 1: no; did you mean 'car'?");
        assert_eq!(report.issues[1].severity, Severity::Warning);
    }
}
