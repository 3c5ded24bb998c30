//! The ontology indexed: every feature by name and by feature schema id, scope by scope.

use std::collections::HashMap;
use std::sync::Arc;

use super::spec::{FeatureSpec, OntologySpec, QuestionSpec};
use crate::model::{GeometryKind, Text};

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
    /// The relationship tool (`edge`): relationships between objects are its predictions.
    Relationship,
    /// Any other tool (`named-entity`, `marker`, ...): no image prediction fits it.
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
            "edge" => ToolKind::Relationship,
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
            ToolKind::Relationship => "edge",
            ToolKind::Other(kind) => kind,
        }
    }

    /// The geometry this tool draws, as named in predictions.
    pub(super) fn takes(&self) -> Option<&'static str> {
        match self {
            ToolKind::Rectangle => Some("a bbox"),
            ToolKind::Polygon => Some("a polygon"),
            ToolKind::Point => Some("a point"),
            ToolKind::Line => Some("a line"),
            ToolKind::RasterSegmentation | ToolKind::Superpixel => Some("a mask"),
            ToolKind::Relationship => Some("a relationship"),
            ToolKind::Other(_) => None,
        }
    }

    pub fn accepts(&self, geometry: GeometryKind) -> bool {
        matches!(
            (self, geometry),
            (ToolKind::Rectangle, GeometryKind::Bbox)
                | (ToolKind::Polygon, GeometryKind::Polygon)
                | (ToolKind::Point, GeometryKind::Point)
                | (ToolKind::Line, GeometryKind::Line)
                | (ToolKind::RasterSegmentation | ToolKind::Superpixel, GeometryKind::Mask)
        )
    }

    /// The problem of a prediction of tool `name` (of this kind) with `geometry`.
    pub(super) fn geometry_problem(&self, name: &str, geometry: GeometryKind) -> Option<String> {
        if self.accepts(geometry) {
            return None;
        }
        let noun = geometry.noun();
        Some(match self.takes() {
            Some(takes) => {
                format!("tool '{name}' is a {} tool, which takes {takes}; got {noun}", self.as_str())
            }
            None => {
                format!(
                    "tool '{name}' is a {} tool, which image predictions cannot use; got {noun}",
                    self.as_str()
                )
            }
        })
    }

    /// The tool kind that draws `geometry`.
    pub(super) fn of_geometry(geometry: GeometryKind) -> ToolKind {
        match geometry {
            GeometryKind::Bbox => ToolKind::Rectangle,
            GeometryKind::Polygon => ToolKind::Polygon,
            GeometryKind::Point => ToolKind::Point,
            GeometryKind::Line => ToolKind::Line,
            GeometryKind::Mask => ToolKind::RasterSegmentation,
        }
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
pub(super) enum Role {
    Tool(ToolKind),
    Question(QuestionKind),
    Answer,
}

#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) role: Role,
    pub(super) name: Text,
    pub(super) schema_id: Option<Text>,
    pub(super) archived: bool,
    /// The tool or option (for questions) or question (for options) it sits in.
    pub(super) parent: Option<usize>,
    /// The scope of its children: a tool's or option's questions, a question's options.
    pub(super) children: usize,
}

/// The features at one place of the ontology: the tools, the global classifications,
/// a tool's or an option's classifications, or a question's options.
#[derive(Debug, Clone, Default)]
pub(super) struct Scope {
    pub(super) members: Vec<usize>,
    pub(super) by_name: HashMap<Text, usize>,
    pub(super) by_schema_id: HashMap<Text, usize>,
    /// Required, not archived members (questions only).
    pub(super) required: Vec<usize>,
}

pub(super) const TOOLS: usize = 0;
pub(super) const GLOBALS: usize = 1;

/// An ontology indexed for checking predictions. Built once, shared by any number of
/// checks (it is immutable and `Sync`).
#[derive(Debug, Clone)]
pub struct Ontology {
    pub(super) nodes: Vec<Node>,
    pub(super) scopes: Vec<Scope>,
    /// Every place a name or feature schema id occurs, for "it belongs elsewhere" hints.
    pub(super) names: HashMap<Text, Vec<usize>>,
    pub(super) schema_ids: HashMap<Text, Vec<usize>>,
    pub(super) node_ids: HashMap<Text, usize>,
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

    /// Whether `node` sits (at any depth) inside `ancestor`.
    pub(super) fn is_below(&self, node: usize, ancestor: usize) -> bool {
        let mut at = self.nodes[node].parent;
        while let Some(parent) = at {
            if parent == ancestor {
                return true;
            }
            at = self.nodes[parent].parent;
        }
        false
    }

    pub(super) fn scope_of(&self, node: usize) -> usize {
        self.nodes[node].parent.map_or_else(
            || if matches!(self.nodes[node].role, Role::Tool(_)) { TOOLS } else { GLOBALS },
            |p| self.nodes[p].children,
        )
    }

    /// `tool 'car'`, `classification 'color'`, `answer 'red' of 'color'`.
    pub(super) fn describe(&self, node: usize) -> String {
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
    pub(super) fn location(&self, node: usize) -> String {
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
    pub(super) fn closest(&self, scope: usize, name: &str) -> Option<&str> {
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

pub(super) struct Builder {
    pub(super) onto: Ontology,
    pub(super) problems: Vec<String>,
}

impl Builder {
    pub(super) fn add(
        &mut self,
        scope: usize,
        parent: Option<usize>,
        role: Role,
        f: &FeatureSpec,
        at: &str,
    ) -> usize {
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
                        .push(format!("{at}: duplicate name '{}' at one place of the ontology", f.name));
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

    pub(super) fn question(&mut self, parent: usize, q: &QuestionSpec, at: &str) {
        let scope = self.onto.nodes[parent].children;
        self.question_in(scope, Some(parent), q, at);
    }

    pub(super) fn question_in(&mut self, scope: usize, parent: Option<usize>, q: &QuestionSpec, at: &str) {
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
