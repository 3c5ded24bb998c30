//! Predictions checked against an ontology, offline.
//!
//! An [`Ontology`] is built once from a plain description ([`OntologySpec`]: tools,
//! global classifications, options, nested to any depth) into an index of every
//! feature by name and by feature schema id, scope by scope. A [`Checker`] then walks
//! [`Annotation`]s and reports what Labelbox would refuse after the upload: unknown
//! features, a geometry the tool cannot draw, an answer of the wrong shape, an
//! answer that is not an option of its question, a classification nested where the
//! ontology does not nest it, a missing required classification, and a name and a
//! schema id that name different features. Each problem is an [`crate::issues::Issue`]
//! with its code and, where one is obvious, a suggestion.
//!
//! The checker can also change what will be written: it resolves names to schema ids
//! when asked, and turns a single answer object given to a checklist question into a
//! one-element list (with a warning), since the ontology says the question is a
//! checklist.

use std::collections::HashMap;
use std::sync::Arc;

use crate::batch::{ColumnarItem, Located};
use crate::columnar::{
    AnswerColumn, ClassificationColumns, ColumnKind, Columns, GeometryColumn, ObjectColumns,
};
use crate::issues::{Code, Issues, Severity, MAX_LISTED};
use crate::model::{
    Answer, Body, Classification, ClassificationValue, DataRow, Feature, Geometry, Object, Text,
};
use crate::options::Options;
use crate::rules::Style;

// --- The ontology as described --------------------------------------------------------

/// What every feature has: the name predictions use (an option's `value`), and the
/// ids Labelbox assigned when the ontology was created.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureSpec {
    pub name: String,
    /// The feature schema id, which a prediction's `schemaId` refers to.
    pub schema_id: Option<String>,
    /// The schema node id (the feature's place in this ontology); only used to
    /// recognise it when given by mistake as a `schemaId`.
    pub node_id: Option<String>,
    pub required: bool,
    pub archived: bool,
}

impl FeatureSpec {
    pub fn named(name: impl Into<String>) -> Self {
        FeatureSpec { name: name.into(), ..Self::default() }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolSpec {
    /// The ontology's tool type: `rectangle`, `polygon`, `raster-segmentation`, ...
    pub kind: String,
    pub feature: FeatureSpec,
    pub classifications: Vec<QuestionSpec>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuestionSpec {
    /// `radio`, `checklist`, `text`, ...
    pub kind: String,
    pub feature: FeatureSpec,
    pub options: Vec<OptionSpec>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionSpec {
    /// `feature.name` is the option's `value`, which answers use as their name.
    pub feature: FeatureSpec,
    pub classifications: Vec<QuestionSpec>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OntologySpec {
    pub tools: Vec<ToolSpec>,
    pub classifications: Vec<QuestionSpec>,
}

// --- The index ----------------------------------------------------------------------

/// A tool type, as far as image predictions are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolKind {
    Rectangle,
    Polygon,
    Point,
    Line,
    RasterSegmentation,
    /// The legacy segmentation tool; masks are its predictions too.
    Superpixel,
    /// Any other tool (`named-entity`, `edge`, ...): no image geometry fits it.
    Other(String),
}

impl ToolKind {
    pub fn parse(kind: &str) -> Self {
        match kind {
            "rectangle" => ToolKind::Rectangle,
            "polygon" => ToolKind::Polygon,
            "point" => ToolKind::Point,
            "line" => ToolKind::Line,
            "raster-segmentation" => ToolKind::RasterSegmentation,
            "superpixel" => ToolKind::Superpixel,
            other => ToolKind::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ToolKind::Rectangle => "rectangle",
            ToolKind::Polygon => "polygon",
            ToolKind::Point => "point",
            ToolKind::Line => "line",
            ToolKind::RasterSegmentation => "raster-segmentation",
            ToolKind::Superpixel => "superpixel",
            ToolKind::Other(kind) => kind,
        }
    }

    /// The geometry this tool draws, as named in predictions.
    fn takes(&self) -> Option<&'static str> {
        match self {
            ToolKind::Rectangle => Some("a bbox"),
            ToolKind::Polygon => Some("a polygon"),
            ToolKind::Point => Some("a point"),
            ToolKind::Line => Some("a line"),
            ToolKind::RasterSegmentation | ToolKind::Superpixel => Some("a mask"),
            ToolKind::Other(_) => None,
        }
    }

    pub fn accepts(&self, geometry: &Geometry) -> bool {
        matches!(
            (self, geometry),
            (ToolKind::Rectangle, Geometry::Bbox(_))
                | (ToolKind::Polygon, Geometry::Polygon(_))
                | (ToolKind::Point, Geometry::Point(_))
                | (ToolKind::Line, Geometry::Line(_))
                | (ToolKind::RasterSegmentation | ToolKind::Superpixel, Geometry::Mask(_))
        )
    }

    /// The tool kind that draws `geometry`.
    fn of_geometry(geometry: &Geometry) -> ToolKind {
        match geometry {
            Geometry::Bbox(_) => ToolKind::Rectangle,
            Geometry::Polygon(_) => ToolKind::Polygon,
            Geometry::Point(_) => ToolKind::Point,
            Geometry::Line(_) => ToolKind::Line,
            Geometry::Mask(_) => ToolKind::RasterSegmentation,
        }
    }
}

fn geometry_noun(geometry: &Geometry) -> &'static str {
    match geometry {
        Geometry::Bbox(_) => "a bbox",
        Geometry::Polygon(_) => "a polygon",
        Geometry::Point(_) => "a point",
        Geometry::Line(_) => "a line",
        Geometry::Mask(_) => "a mask",
    }
}

fn geometry_key(geometry: &Geometry) -> &'static str {
    match geometry {
        Geometry::Bbox(_) => "bbox",
        Geometry::Polygon(_) => "polygon",
        Geometry::Point(_) => "point",
        Geometry::Line(_) => "line",
        Geometry::Mask(_) => "mask",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionKind {
    Radio,
    Checklist,
    Text,
    /// `group`, prompt/response types, ...: nothing in an image prediction answers them.
    Other(String),
}

impl QuestionKind {
    pub fn parse(kind: &str) -> Self {
        match kind {
            "radio" => QuestionKind::Radio,
            "checklist" => QuestionKind::Checklist,
            "text" => QuestionKind::Text,
            other => QuestionKind::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            QuestionKind::Radio => "radio",
            QuestionKind::Checklist => "checklist",
            QuestionKind::Text => "text",
            QuestionKind::Other(kind) => kind,
        }
    }
}

#[derive(Debug, Clone)]
enum Role {
    Tool(ToolKind),
    Question(QuestionKind),
    Answer,
}

#[derive(Debug, Clone)]
struct Node {
    role: Role,
    name: Text,
    schema_id: Option<Text>,
    archived: bool,
    /// The tool or option (for questions) or question (for options) it sits in.
    parent: Option<usize>,
    /// The scope of its children: a tool's or option's questions, a question's options.
    children: usize,
}

/// The features at one place of the ontology: the tools, the global classifications,
/// a tool's or an option's classifications, or a question's options.
#[derive(Debug, Clone, Default)]
struct Scope {
    members: Vec<usize>,
    by_name: HashMap<Text, usize>,
    by_schema_id: HashMap<Text, usize>,
    /// Required, not archived members (questions only).
    required: Vec<usize>,
}

const TOOLS: usize = 0;
const GLOBALS: usize = 1;

/// An ontology indexed for checking predictions. Built once, shared by any number of
/// checks (it is immutable and `Sync`).
#[derive(Debug, Clone)]
pub struct Ontology {
    nodes: Vec<Node>,
    scopes: Vec<Scope>,
    /// Every place a name or feature schema id occurs, for "it belongs elsewhere" hints.
    names: HashMap<Text, Vec<usize>>,
    schema_ids: HashMap<Text, Vec<usize>>,
    node_ids: HashMap<Text, usize>,
}

impl Ontology {
    /// Indexes `spec`. Problems that make the ontology ambiguous (two live features
    /// of one name, or of one schema id, at one place; a feature without a name) are
    /// returned, all of them.
    pub fn build(spec: &OntologySpec) -> Result<Ontology, Vec<String>> {
        let mut b = Builder {
            onto: Ontology {
                nodes: Vec::new(),
                scopes: vec![Scope::default(), Scope::default()],
                names: HashMap::new(),
                schema_ids: HashMap::new(),
                node_ids: HashMap::new(),
            },
            problems: Vec::new(),
        };
        for (i, tool) in spec.tools.iter().enumerate() {
            let at = format!("tools[{i}]");
            let node = b.add(TOOLS, None, Role::Tool(ToolKind::parse(&tool.kind)), &tool.feature, &at);
            for (j, q) in tool.classifications.iter().enumerate() {
                b.question(node, q, &format!("{at}.classifications[{j}]"));
            }
        }
        for (i, q) in spec.classifications.iter().enumerate() {
            b.question_in(GLOBALS, None, q, &format!("classifications[{i}]"));
        }
        if b.problems.is_empty() {
            Ok(b.onto)
        } else {
            Err(b.problems)
        }
    }

    pub fn tool_count(&self) -> usize {
        self.scopes[TOOLS].members.len()
    }

    pub fn classification_count(&self) -> usize {
        self.scopes[GLOBALS].members.len()
    }

    /// Whether any data row needs answers of its own (a required global classification).
    pub fn has_required_globals(&self) -> bool {
        !self.scopes[GLOBALS].required.is_empty()
    }

    /// Descriptions of the live features that have no feature schema id (an ontology
    /// built locally rather than exported from Labelbox): names cannot be resolved
    /// to ids for them.
    pub fn features_without_schema_id(&self) -> Vec<String> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.schema_id.is_none() && !n.archived)
            .map(|(i, _)| self.describe(i))
            .collect()
    }

    fn scope_of(&self, node: usize) -> usize {
        self.nodes[node].parent.map_or_else(
            || if matches!(self.nodes[node].role, Role::Tool(_)) { TOOLS } else { GLOBALS },
            |p| self.nodes[p].children,
        )
    }

    /// `tool 'car'`, `classification 'color'`, `answer 'red' of 'color'`.
    fn describe(&self, node: usize) -> String {
        let n = &self.nodes[node];
        match &n.role {
            Role::Tool(_) => format!("tool '{}'", n.name),
            Role::Question(_) => format!("classification '{}'", n.name),
            Role::Answer => match n.parent {
                Some(q) => format!("answer '{}' of '{}'", n.name, self.nodes[q].name),
                None => format!("answer '{}'", n.name),
            },
        }
    }

    /// Where a feature sits: `a global classification`, `a classification of tool
    /// 'car'`, `a classification under answer 'red' of 'color'`, `an option of 'color'`.
    fn location(&self, node: usize) -> String {
        let n = &self.nodes[node];
        match (&n.role, n.parent) {
            (Role::Tool(_), _) => "a tool".to_string(),
            (Role::Question(_), None) => "a global classification".to_string(),
            (Role::Question(_), Some(p)) => match self.nodes[p].role {
                Role::Tool(_) => format!("a classification of {}", self.describe(p)),
                _ => format!("a classification under {}", self.describe(p)),
            },
            (Role::Answer, Some(q)) => format!("an option of '{}'", self.nodes[q].name),
            (Role::Answer, None) => "an option".to_string(),
        }
    }

    /// The closest live name in `scope` to `name`, if one is close enough to be a typo.
    fn closest(&self, scope: usize, name: &str) -> Option<&str> {
        let folded = name.to_lowercase();
        let mut best: Option<(usize, &str)> = None;
        for &m in &self.scopes[scope].members {
            let candidate = &*self.nodes[m].name;
            if self.nodes[m].archived || candidate == name {
                continue;
            }
            let distance =
                if candidate.to_lowercase() == folded { 0 } else { edit_distance(name, candidate) };
            let shorter = name.chars().count().min(candidate.chars().count());
            let limit = (shorter / 3).max(1);
            if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
                best = Some((distance, candidate));
            }
        }
        best.map(|(_, name)| name)
    }
}

struct Builder {
    onto: Ontology,
    problems: Vec<String>,
}

impl Builder {
    fn add(&mut self, scope: usize, parent: Option<usize>, role: Role, f: &FeatureSpec, at: &str) -> usize {
        let index = self.onto.nodes.len();
        let children = self.onto.scopes.len();
        self.onto.scopes.push(Scope::default());
        let name: Text = Arc::from(f.name.as_str());
        let schema_id: Option<Text> = f.schema_id.as_deref().filter(|s| !s.is_empty()).map(Arc::from);
        if f.name.is_empty() {
            let what = if matches!(role, Role::Answer) { "value" } else { "name" };
            self.problems.push(format!("{at}: a feature needs a non-empty {what}"));
        }
        let question = matches!(role, Role::Question(_));
        self.onto.nodes.push(Node {
            role,
            name: name.clone(),
            schema_id: schema_id.clone(),
            archived: f.archived,
            parent,
            children,
        });
        let live = !f.archived;
        let s = &mut self.onto.scopes[scope];
        s.members.push(index);
        if question && f.required && live {
            s.required.push(index);
        }
        // A live feature wins a name over an archived one; two live ones are ambiguous.
        match s.by_name.get(&name).copied() {
            Some(other) if live && !self.onto.nodes[other].archived => {
                if !f.name.is_empty() {
                    self.problems
                        .push(format!("{at}: duplicate name '{}' at one place of the ontology", f.name))
                }
            }
            Some(_) if !live => {}
            _ => {
                s.by_name.insert(name.clone(), index);
            }
        }
        if let Some(id) = &schema_id {
            match s.by_schema_id.get(id).copied() {
                Some(other) if live && !self.onto.nodes[other].archived => self
                    .problems
                    .push(format!("{at}: duplicate featureSchemaId '{id}' at one place of the ontology")),
                Some(_) if !live => {}
                _ => {
                    s.by_schema_id.insert(id.clone(), index);
                }
            }
            self.onto.schema_ids.entry(id.clone()).or_default().push(index);
        }
        if let Some(node_id) = f.node_id.as_deref().filter(|s| !s.is_empty()) {
            self.onto.node_ids.insert(Arc::from(node_id), index);
        }
        self.onto.names.entry(name).or_default().push(index);
        index
    }

    fn question(&mut self, parent: usize, q: &QuestionSpec, at: &str) {
        let scope = self.onto.nodes[parent].children;
        self.question_in(scope, Some(parent), q, at);
    }

    fn question_in(&mut self, scope: usize, parent: Option<usize>, q: &QuestionSpec, at: &str) {
        let node = self.add(scope, parent, Role::Question(QuestionKind::parse(&q.kind)), &q.feature, at);
        for (i, option) in q.options.iter().enumerate() {
            let at = format!("{at}.options[{i}]");
            let scope = self.onto.nodes[node].children;
            let o = self.add(scope, Some(node), Role::Answer, &option.feature, &at);
            for (j, nested) in option.classifications.iter().enumerate() {
                self.question(o, nested, &format!("{at}.options[{j}]"));
            }
        }
    }
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb)).min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

// --- Checking -------------------------------------------------------------------------

/// Which required global classifications each data row has, across the checks of
/// one job (a data row's predictions may span several calls or files).
#[derive(Debug, Default)]
pub struct DataRows {
    index: HashMap<DataRow, usize>,
    /// Per data row, in order of first appearance: where it first appeared, its
    /// reference, and which required global classifications it has.
    rows: Vec<(usize, DataRow, Vec<bool>)>,
}

impl DataRows {
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(&mut self, data_row: &DataRow, row: usize, required: usize) -> Option<&mut Vec<bool>> {
        // A refused reference (its batch fails) is no data row to track.
        if data_row.text().is_empty() {
            return None;
        }
        let next = self.rows.len();
        let at = *self.index.entry(data_row.clone()).or_insert(next);
        if at == next {
            self.rows.push((row, data_row.clone(), vec![false; required]));
        }
        Some(&mut self.rows[at].2)
    }
}

/// Checks annotations against one ontology.
pub struct Checker<'o> {
    onto: &'o Ontology,
    options: Options,
    style: Style,
    /// Every problem found, at the row and path of the value being checked.
    pub findings: Issues,
    /// Added to rows recorded in [`DataRows`], so that a job checked in several
    /// calls reports missing global classifications at the job's rows.
    pub row_offset: usize,
    /// Feature problems are reported at the path itself (columnar batches).
    bare_features: bool,
}

/// What a name is looked up as.
#[derive(Clone, Copy)]
enum Wanted {
    Tool,
    /// A classification under the given tool or option (`None`: a global one).
    Classification(Option<usize>),
    /// An option of the given question.
    Answer(usize),
}

impl<'o> Checker<'o> {
    pub fn new(onto: &'o Ontology, options: Options) -> Self {
        Checker {
            onto,
            options,
            style: Style::Dict,
            findings: Issues::with_limit(MAX_LISTED),
            row_offset: 0,
            bare_features: false,
        }
    }

    /// Checks (and, per the options, amends) the annotations of a batch; records the
    /// global classifications of each data row in `data_rows`.
    pub fn check_items(&mut self, items: &mut [Located], data_rows: &mut DataRows) {
        for item in items {
            self.check_located(item, data_rows);
        }
    }

    pub fn check_located(&mut self, item: &mut Located, data_rows: &mut DataRows) {
        self.findings.set_row(item.row);
        match item.slot {
            Some(slot) => {
                self.style = Style::Typed;
                self.findings.push_key("annotations");
                self.findings.push_index(slot);
            }
            None => self.style = Style::Dict,
        }
        let annotation = &mut item.annotation;
        let onto = self.onto;
        let track = self.options.required && onto.has_required_globals();
        let required = &onto.scopes[GLOBALS].required;
        let mut seen = None;
        match &mut annotation.body {
            Body::Object(o) => self.object(o),
            Body::Classification(c) => {
                if let Some(q) = self.lookup(GLOBALS, &mut c.feature, Wanted::Classification(None)) {
                    seen = required.iter().position(|&r| r == q);
                    self.classification(c, q);
                }
            }
        }
        if track {
            if let Some(have) =
                data_rows.entry(&annotation.data_row, item.row + self.row_offset, required.len())
            {
                if let Some(i) = seen {
                    have[i] = true;
                }
            }
        }
    }

    /// Reports the required global classifications missing from the data rows seen
    /// (at the row where each data row first appeared).
    pub fn finish(&mut self, data_rows: &DataRows) {
        if !self.options.required {
            return;
        }
        let onto = self.onto;
        let required = &onto.scopes[GLOBALS].required;
        for (row, data_row, have) in &data_rows.rows {
            for (i, &q) in required.iter().enumerate() {
                if have[i] {
                    continue;
                }
                let which = match data_row {
                    DataRow::Id(id) => format!("id '{id}'"),
                    DataRow::GlobalKey(key) => format!("global key '{key}'"),
                };
                self.findings.set_row(*row);
                let message = format!(
                    "data row {which} has no answer to the required global classification '{}'",
                    onto.nodes[q].name
                );
                self.error(Code::MissingRequired, message, None);
            }
        }
    }

    fn report(&mut self, kind: Code, severity: Severity, message: String, suggestion: Option<String>) {
        self.findings.record(kind, severity, message, suggestion);
    }

    fn error(&mut self, kind: Code, message: String, suggestion: Option<String>) {
        self.report(kind, Severity::Error, message, suggestion);
    }

    fn error_at(&mut self, key: &'static str, kind: Code, message: String, suggestion: Option<String>) {
        self.findings.push_key(key);
        self.error(kind, message, suggestion);
        self.findings.pop();
    }

    /// A problem with a feature reference: at its `name`/`schemaId` key, or (columns,
    /// whose features are plain strings in a list) at the current path.
    fn feature_error_at(
        &mut self,
        key: &'static str,
        kind: Code,
        message: String,
        suggestion: Option<String>,
    ) {
        if self.bare_features {
            self.error(kind, message, suggestion);
        } else {
            self.error_at(key, kind, message, suggestion);
        }
    }

    fn schema_key(&self) -> &'static str {
        match self.style {
            Style::Typed => "feature_schema_id",
            Style::Dict => "schemaId",
        }
    }

    fn keys(&self, typed: &'static [&'static str], dict: &'static [&'static str]) -> &'static [&'static str] {
        match self.style {
            Style::Typed => typed,
            Style::Dict => dict,
        }
    }

    fn at_keys<T>(&mut self, keys: &[&'static str], f: impl FnOnce(&mut Self) -> T) -> T {
        for key in keys {
            self.findings.push_key(key);
        }
        let out = f(self);
        for _ in keys {
            self.findings.pop();
        }
        out
    }

    fn at_index<T>(&mut self, index: usize, f: impl FnOnce(&mut Self) -> T) -> T {
        self.findings.push_index(index);
        let out = f(self);
        self.findings.pop();
        out
    }

    fn object(&mut self, o: &mut Object) {
        let Some(tool) = self.lookup(TOOLS, &mut o.feature, Wanted::Tool) else { return };
        let onto = self.onto;
        let node = &onto.nodes[tool];
        if let Role::Tool(kind) = &node.role {
            if !kind.accepts(&o.geometry) {
                let message = match kind.takes() {
                    Some(takes) => format!(
                        "tool '{}' is a {} tool, which takes {}; got {}",
                        node.name,
                        kind.as_str(),
                        takes,
                        geometry_noun(&o.geometry)
                    ),
                    None => format!(
                        "tool '{}' is a {} tool, which image predictions cannot use; got {}",
                        node.name,
                        kind.as_str(),
                        geometry_noun(&o.geometry)
                    ),
                };
                let suggestion = self.only_tool_of(&ToolKind::of_geometry(&o.geometry));
                let key = match self.style {
                    Style::Typed => "value",
                    Style::Dict => geometry_key(&o.geometry),
                };
                self.error_at(key, Code::GeometryMismatch, message, suggestion);
            }
        }
        let scope = node.children;
        self.classification_list(&mut o.classifications, scope, tool, &["classifications"]);
    }

    /// `did you mean 'x'?` when exactly one live tool draws `kind`.
    fn only_tool_of(&self, kind: &ToolKind) -> Option<String> {
        let mut found = self.onto.scopes[TOOLS].members.iter().filter(|&&t| {
            let n = &self.onto.nodes[t];
            !n.archived
                && matches!(&n.role, Role::Tool(k) if k == kind
                    || (*kind == ToolKind::RasterSegmentation && *k == ToolKind::Superpixel))
        });
        let first = found.next()?;
        if found.next().is_some() {
            return None;
        }
        Some(format!("did you mean '{}'?", self.onto.nodes[*first].name))
    }

    /// Checks the sub-classifications at `keys` against the questions of `scope`
    /// (those of tool or option `parent`), and that its required ones are there.
    fn classification_list(
        &mut self,
        list: &mut [Classification],
        scope: usize,
        parent: usize,
        keys: &'static [&'static str],
    ) {
        let required = self.onto.scopes[scope].required.len();
        let mut have = vec![false; required];
        if !list.is_empty() {
            self.at_keys(keys, |this| {
                for (i, c) in list.iter_mut().enumerate() {
                    this.at_index(i, |this| {
                        if let Some(q) =
                            this.lookup(scope, &mut c.feature, Wanted::Classification(Some(parent)))
                        {
                            if let Some(r) = this.onto.scopes[scope].required.iter().position(|&r| r == q) {
                                have[r] = true;
                            }
                            this.classification(c, q);
                        }
                    });
                }
            });
        }
        if self.options.required {
            for (i, &q) in self.onto.scopes[scope].required.iter().enumerate() {
                if !have[i] {
                    let message = format!(
                        "{} requires the classification '{}', which is missing",
                        self.onto.describe(parent),
                        self.onto.nodes[q].name
                    );
                    self.at_keys(keys, |this| this.error(Code::MissingRequired, message, None));
                }
            }
        }
    }

    fn classification(&mut self, c: &mut Classification, q: usize) {
        let onto = self.onto;
        let node = &onto.nodes[q];
        let Role::Question(kind) = &node.role else { return };
        let name = node.name.clone();
        let options = node.children;
        let answer_keys = self.keys(&["value", "answer"], &["answer"]);
        match (kind, &mut c.value) {
            (QuestionKind::Radio, ClassificationValue::Radio(a)) => {
                self.at_keys(answer_keys, |this| this.answer(a, q));
            }
            (QuestionKind::Checklist, ClassificationValue::Checklist(list)) => {
                self.at_keys(answer_keys, |this| {
                    for (i, a) in list.iter_mut().enumerate() {
                        this.at_index(i, |this| this.answer(a, q));
                    }
                });
            }
            (QuestionKind::Checklist, ClassificationValue::Radio(_)) => {
                let message = format!(
                    "checklist question '{name}' was given one answer object, not a list; \
                     it is written as a one-element list, as the ontology says"
                );
                self.at_keys(answer_keys, |this| {
                    this.report(Code::ChecklistAnswerNormalized, Severity::Warning, message, None)
                });
                let ClassificationValue::Radio(a) =
                    std::mem::replace(&mut c.value, ClassificationValue::Checklist(Vec::new()))
                else {
                    unreachable!("matched a radio value")
                };
                let mut a = a;
                self.at_keys(answer_keys, |this| this.answer(&mut a, q));
                c.value = ClassificationValue::Checklist(vec![a]);
            }
            (QuestionKind::Radio, ClassificationValue::Checklist(list)) => {
                let message = format!(
                    "radio question '{name}' takes one answer object, got a list of {} (a checklist answer)",
                    list.len()
                );
                let suggestion = (list.len() == 1).then(|| "give the answer without the list".to_string());
                self.at_keys(answer_keys, |this| {
                    this.error(Code::AnswerShapeMismatch, message, suggestion);
                    for (i, a) in list.iter_mut().enumerate() {
                        this.at_index(i, |this| this.answer(a, q));
                    }
                });
            }
            (QuestionKind::Text, ClassificationValue::Text(_)) => {}
            (QuestionKind::Text, value) => {
                let got = match value {
                    ClassificationValue::Radio(_) => "an answer object (a radio answer)",
                    _ => "a list (a checklist answer)",
                };
                let message = format!("text question '{name}' takes a string answer, got {got}");
                self.at_keys(answer_keys, |this| this.error(Code::AnswerShapeMismatch, message, None));
            }
            (QuestionKind::Radio | QuestionKind::Checklist, ClassificationValue::Text(text)) => {
                let (kind_name, shape) = match kind {
                    QuestionKind::Radio => ("radio", "an answer object"),
                    _ => ("checklist", "a list of answer objects"),
                };
                let message = format!("{kind_name} question '{name}' takes {shape}, got a string");
                let is_option = self.onto.scopes[options].by_name.contains_key(text.as_str());
                let suggestion = is_option.then(|| match (self.style, kind) {
                    (Style::Dict, QuestionKind::Radio) => format!("use {{\"name\": {text:?}}}"),
                    (Style::Dict, _) => format!("use [{{\"name\": {text:?}}}]"),
                    (Style::Typed, QuestionKind::Radio) => {
                        format!("use Radio(answer=ClassificationAnswer(name={text:?}))")
                    }
                    (Style::Typed, _) => {
                        format!("use Checklist(answer=[ClassificationAnswer(name={text:?})])")
                    }
                });
                self.at_keys(answer_keys, |this| this.error(Code::AnswerShapeMismatch, message, suggestion));
            }
            (QuestionKind::Other(other), _) => {
                let message =
                    format!("question '{name}' is of type '{other}', which image predictions cannot answer");
                self.at_keys(answer_keys, |this| this.error(Code::AnswerShapeMismatch, message, None));
            }
        }
        if !c.classifications.is_empty() {
            // Only text holds classifications beside its answer, and the ontology nests
            // nothing under a text question.
            let keys = self.keys(&["value", "classifications"], &["classifications"]);
            let list = std::mem::take(&mut c.classifications);
            self.at_keys(keys, |this| {
                for (i, nested) in list.iter().enumerate() {
                    let message =
                        format!("the ontology nests no classification under text question '{name}'");
                    let elsewhere = this.elsewhere(&nested.feature, None);
                    let suggestion = elsewhere
                        .map(|n| format!("'{}' is {}", this.onto.nodes[n].name, this.onto.location(n)));
                    this.at_index(i, |this| this.error(Code::MisplacedClassification, message, suggestion));
                }
            });
            c.classifications = list;
        }
    }

    fn answer(&mut self, a: &mut Answer, q: usize) {
        let scope = self.onto.nodes[q].children;
        if let Some(option) = self.lookup(scope, &mut a.feature, Wanted::Answer(q)) {
            let nested = self.onto.nodes[option].children;
            self.classification_list(&mut a.classifications, nested, option, &["classifications"]);
        }
    }

    /// A live feature other than at `scope` with the feature's name (or schema id).
    fn elsewhere(&self, feature: &Feature, scope: Option<usize>) -> Option<usize> {
        let onto = self.onto;
        let candidates = match (&feature.name, &feature.schema_id) {
            (Some(name), _) => onto.names.get(name.as_ref()),
            (None, Some(id)) => onto.schema_ids.get(id.as_ref()),
            (None, None) => None,
        }?;
        candidates.iter().copied().find(|&n| !onto.nodes[n].archived && Some(onto.scope_of(n)) != scope)
    }

    /// Finds the feature in `scope`, reporting what does not fit; resolves its schema
    /// id when asked. `None` when it is not (uniquely) there.
    fn lookup(&mut self, scope: usize, feature: &mut Feature, wanted: Wanted) -> Option<usize> {
        let onto = self.onto;
        let s = &onto.scopes[scope];
        let by_name = feature.name.as_deref().map(|n| s.by_name.get(n).copied());
        let by_id = feature.schema_id.as_deref().map(|id| s.by_schema_id.get(id).copied());
        let found = match (by_name, by_id) {
            (None, None) => return None, // the validator reports "no name and no schema id"
            (Some(Some(n)), None) | (None, Some(Some(n))) => n,
            (Some(Some(a)), Some(Some(b))) if a == b => a,
            (Some(Some(a)), Some(b)) => {
                let id = feature.schema_id.as_deref().unwrap_or_default();
                let other = match b {
                    Some(b) => format!("'{id}' is {}", onto.describe(b)),
                    None => match onto.schema_ids.get(id).and_then(|v| v.first()) {
                        Some(&b) => format!("'{id}' is {} elsewhere", onto.describe(b)),
                        None => format!("'{id}' is not in the ontology"),
                    },
                };
                let message =
                    format!("name '{}' and schemaId name different features: {other}", onto.nodes[a].name);
                let suggestion = onto.nodes[a]
                    .schema_id
                    .as_ref()
                    .map(|own| format!("'{}' has the schemaId '{own}'", onto.nodes[a].name));
                let key = self.schema_key();
                self.feature_error_at(key, Code::NameSchemaIdMismatch, message, suggestion);
                a
            }
            (Some(None), Some(Some(b))) => {
                let name = feature.name.as_deref().unwrap_or_default();
                let message = format!(
                    "name '{name}' and schemaId name different features: the schemaId is {}",
                    onto.describe(b)
                );
                let suggestion = Some(format!("did you mean '{}'?", onto.nodes[b].name));
                self.feature_error_at("name", Code::NameSchemaIdMismatch, message, suggestion);
                b
            }
            (Some(None), _) | (None, Some(None)) => {
                self.not_found(scope, feature, wanted);
                return None;
            }
        };
        let node = &onto.nodes[found];
        if node.archived {
            let key = if feature.name.is_some() { "name" } else { self.schema_key() };
            let message = format!("{} is archived in the ontology", onto.describe(found));
            self.feature_error_at(key, Code::ArchivedFeature, message, None);
            return None;
        }
        if self.options.resolve_schema_ids && feature.schema_id.is_none() {
            feature.schema_id = node.schema_id.clone();
        }
        Some(found)
    }

    #[cold]
    fn not_found(&mut self, scope: usize, feature: &Feature, wanted: Wanted) {
        let onto = self.onto;
        let (key, shown) = match (&feature.name, &feature.schema_id) {
            (Some(name), _) => ("name", format!("'{name}'")),
            (None, Some(id)) => (self.schema_key(), format!("schemaId '{id}'")),
            (None, None) => return,
        };
        let unknown = match wanted {
            Wanted::Tool => Code::UnknownTool,
            Wanted::Classification(_) => Code::UnknownClassification,
            Wanted::Answer(_) => Code::UnknownAnswer,
        };
        let here = match wanted {
            Wanted::Tool => "the ontology has no tool".to_string(),
            Wanted::Classification(None) => "the ontology has no global classification".to_string(),
            Wanted::Classification(Some(parent)) => {
                format!("{} has no classification", onto.describe(parent))
            }
            Wanted::Answer(q) => format!("classification '{}' has no option", onto.nodes[q].name),
        };
        if let Some(other) = self.elsewhere(feature, Some(scope)) {
            let node = &onto.nodes[other];
            // The same feature at another place: a tool used as a classification (or
            // the reverse), a nested classification out of place, an answer of
            // another question.
            let kind = match (&node.role, wanted) {
                (Role::Question(_), Wanted::Classification(_)) => Code::MisplacedClassification,
                _ => unknown,
            };
            let message = format!("{here} {shown}; '{}' is {}", node.name, onto.location(other));
            self.feature_error_at(key, kind, message, None);
            return;
        }
        let mut suggestion = feature
            .name
            .as_deref()
            .and_then(|name| onto.closest(scope, name))
            .map(|c| format!("did you mean '{c}'?"));
        if suggestion.is_none() && feature.name.is_none() {
            // A schema node id given where the feature schema id belongs.
            let id = feature.schema_id.as_deref().unwrap_or_default();
            if let Some(&n) = onto.node_ids.get(id) {
                suggestion = Some(match &onto.nodes[n].schema_id {
                    Some(fid) => format!(
                        "'{id}' is the schemaNodeId of {}; predictions use its featureSchemaId '{fid}'",
                        onto.describe(n)
                    ),
                    None => format!("'{id}' is the schemaNodeId of {}", onto.describe(n)),
                });
            }
        }
        self.feature_error_at(key, unknown, format!("{here} {shown}"), suggestion);
    }
}

// --- Columnar batches -------------------------------------------------------------------
// A batch's features, questions and answers are checked once each, at the row of the
// first prediction that uses them; the paths name the batch's lists (`features[2]`,
// `subclass.answers[0]`, `question`, `answers[1]`).

fn column_geometry(g: &GeometryColumn) -> (ToolKind, &'static str) {
    match g {
        GeometryColumn::Boxes(_) => (ToolKind::Rectangle, "a bbox"),
        GeometryColumn::Points(_) => (ToolKind::Point, "a point"),
        GeometryColumn::Lines(_) => (ToolKind::Line, "a line"),
        GeometryColumn::Polygons(_) => (ToolKind::Polygon, "a polygon"),
    }
}

/// The first index at which each of `0..len` occurs in `ids` (invalid ids skipped).
fn first_uses(ids: impl Iterator<Item = i64>, len: usize) -> Vec<Option<usize>> {
    let mut first = vec![None; len];
    let mut missing = len;
    for (i, id) in ids.enumerate() {
        if missing == 0 {
            break;
        }
        if let Ok(id) = usize::try_from(id) {
            if id < len && first[id].is_none() {
                first[id] = Some(i);
                missing -= 1;
            }
        }
    }
    first
}

impl Checker<'_> {
    /// Checks (and, per the options, amends) a columnar batch: its features are tools
    /// that draw its geometry; its sub-classification, its global question and the
    /// answers used fit the ontology; required classifications are there. Records the
    /// batch's data rows in `data_rows`.
    pub fn check_columns(&mut self, item: &mut ColumnarItem, data_rows: &mut DataRows) {
        let first_row = item.first_row;
        let c = &mut item.columns;
        let n = c.len();
        if n == 0 {
            return;
        }
        self.style = Style::Dict;
        self.bare_features = true;
        let question = match &mut c.kind {
            ColumnKind::Objects(o) => {
                self.object_columns(o, n, first_row);
                None
            }
            ColumnKind::Classifications(q) => self.classification_columns(q, n, first_row),
        };
        self.bare_features = false;
        self.track_columns(c, first_row, question, data_rows);
    }

    /// Puts the path at `keys[index]` of `row`.
    fn at_row(&mut self, row: usize, keys: &[&'static str], index: Option<usize>) {
        self.findings.set_row(row);
        for key in keys {
            self.findings.push_key(key);
        }
        if let Some(index) = index {
            self.findings.push_index(index);
        }
    }

    fn object_columns(&mut self, o: &mut ObjectColumns, n: usize, first_row: usize) {
        let onto = self.onto;
        let first = match &o.class_ids {
            Some(ids) => first_uses(ids.iter().copied().take(n), o.features.len()),
            None => first_uses(std::iter::once(0), o.features.len()),
        };
        let (kind, noun) = column_geometry(&o.geometry);
        // Questions whose answers are checked already (a sub-classification of several tools).
        let mut answered = Vec::new();
        for (k, used) in first.iter().enumerate() {
            let Some(i) = *used else { continue };
            let row = first_row + i;
            self.at_row(row, &["features"], Some(k));
            let Some(tool) = self.lookup(TOOLS, &mut o.features[k], Wanted::Tool) else { continue };
            let node = &onto.nodes[tool];
            if let Role::Tool(tool_kind) = &node.role {
                if *tool_kind != kind {
                    let message = match tool_kind.takes() {
                        Some(takes) => format!(
                            "tool '{}' is a {} tool, which takes {takes}; got {noun}",
                            node.name,
                            tool_kind.as_str()
                        ),
                        None => format!(
                            "tool '{}' is a {} tool, which image predictions cannot use; got {noun}",
                            node.name,
                            tool_kind.as_str()
                        ),
                    };
                    let suggestion = self.only_tool_of(&kind);
                    self.error(Code::GeometryMismatch, message, suggestion);
                }
            }
            let scope = node.children;
            let mut given = None;
            if let Some(s) = &mut o.subclass {
                self.at_row(row, &["subclass", "question"], None);
                // Resolved from the first tool that has it; for the others it is checked as given.
                let mut question = s.question.clone();
                given = self.lookup(scope, &mut question, Wanted::Classification(Some(tool)));
                if s.question.schema_id.is_none() {
                    s.question.schema_id = question.schema_id;
                }
                if let Some(q) = given {
                    match &onto.nodes[q].role {
                        Role::Question(QuestionKind::Radio) if !answered.contains(&q) => {
                            answered.push(q);
                            let first = first_uses(s.answer_ids.iter().copied().take(n), s.answers.len());
                            for (j, used) in first.iter().enumerate() {
                                if let Some(i) = *used {
                                    self.at_row(first_row + i, &["subclass", "answers"], Some(j));
                                    self.column_answer(q, &mut s.answers[j]);
                                }
                            }
                        }
                        Role::Question(QuestionKind::Radio) => {}
                        Role::Question(other) => {
                            let message = format!(
                                "classification '{}' is a {} question; a RadioSubclass gives radio answers",
                                onto.nodes[q].name,
                                other.as_str()
                            );
                            self.error(Code::AnswerShapeMismatch, message, None);
                        }
                        _ => {}
                    }
                }
            }
            if self.options.required {
                for &r in &onto.scopes[scope].required {
                    if Some(r) != given {
                        self.at_row(row, &["features"], Some(k));
                        let message = format!(
                            "{} requires the classification '{}', which is missing",
                            onto.describe(tool),
                            onto.nodes[r].name
                        );
                        self.error(Code::MissingRequired, message, None);
                    }
                }
            }
        }
    }

    /// Checks one answer of question `q` at the current path: an option, whose
    /// required classifications a batch cannot nest.
    fn column_answer(&mut self, q: usize, answer: &mut Feature) {
        let onto = self.onto;
        let Some(option) = self.lookup(onto.nodes[q].children, answer, Wanted::Answer(q)) else { return };
        if self.options.required {
            for &r in &onto.scopes[onto.nodes[option].children].required {
                let message = format!(
                    "{} requires the classification '{}', which a columnar batch cannot nest",
                    onto.describe(option),
                    onto.nodes[r].name
                );
                self.error(Code::MissingRequired, message, None);
            }
        }
    }

    /// Checks a batch of global classifications; returns its question when it is one.
    fn classification_columns(
        &mut self,
        c: &mut ClassificationColumns,
        n: usize,
        first_row: usize,
    ) -> Option<usize> {
        let onto = self.onto;
        self.at_row(first_row, &["question"], None);
        let q = self.lookup(GLOBALS, &mut c.question, Wanted::Classification(None))?;
        let Role::Question(kind) = &onto.nodes[q].role else { return None };
        let (given, first) = match &c.value {
            AnswerColumn::Radio(ids) => {
                (QuestionKind::Radio, first_uses(ids.iter().copied().take(n), c.answers.len()))
            }
            AnswerColumn::Checklist(r) => {
                // Entries of the answer ids, mapped to the prediction whose offsets hold them.
                let entries = first_uses(r.values.iter().copied(), c.answers.len());
                let prediction = |entry: usize| {
                    r.offsets
                        .partition_point(|&o| usize::try_from(o).is_ok_and(|o| o <= entry))
                        .saturating_sub(1)
                };
                (QuestionKind::Checklist, entries.into_iter().map(|e| e.map(prediction)).collect())
            }
            AnswerColumn::Text(_) => (QuestionKind::Text, Vec::new()),
        };
        if *kind != given {
            let message = format!(
                "classification '{}' is a {} question; got {} answers",
                onto.nodes[q].name,
                kind.as_str(),
                given.as_str()
            );
            self.error(Code::AnswerShapeMismatch, message, None);
            return Some(q);
        }
        for (j, used) in first.iter().enumerate() {
            if let Some(i) = *used {
                self.at_row(first_row + i, &["answers"], Some(j));
                self.column_answer(q, &mut c.answers[j]);
            }
        }
        Some(q)
    }

    /// Records the batch's data rows (and its global question) for the required
    /// global classifications.
    fn track_columns(
        &mut self,
        c: &Columns,
        first_row: usize,
        question: Option<usize>,
        data_rows: &mut DataRows,
    ) {
        let onto = self.onto;
        if !(self.options.required && onto.has_required_globals()) {
            return;
        }
        let required = &onto.scopes[GLOBALS].required;
        let answers = question.and_then(|q| required.iter().position(|&r| r == q));
        let mut done = vec![false; c.data_rows.len()];
        for i in 0..c.len() {
            let d = match &c.image_index {
                Some(ix) => ix.get(i).and_then(|&d| usize::try_from(d).ok()),
                None => Some(i),
            };
            let Some(d) = d.filter(|&d| d < done.len() && !done[d]) else { continue };
            let row = first_row + i + self.row_offset;
            let Some(have) = data_rows.entry(&c.data_rows[d], row, required.len()) else { continue };
            if let Some(a) = answers {
                have[a] = true;
            }
            done[d] = true;
        }
    }
}

#[cfg(test)]
mod tests;
