//! Checking annotations against an ontology.

use std::collections::HashMap;

use super::index::{Ontology, QuestionKind, Role, ToolKind, GLOBALS, TOOLS};
use crate::batch::Located;
use crate::issues::{Code, Issues, Severity, MAX_LISTED};
use crate::model::{
    Answer, Body, Classification, ClassificationValue, DataRow, Feature, MetricLine, Object, Relationship,
};
use crate::options::Options;
use crate::rules::Style;

/// Which required global classifications each data row has, across the checks of
/// one job (a data row's predictions may span several calls or files).
#[derive(Debug, Default)]
pub struct DataRows {
    pub(super) index: HashMap<DataRow, usize>,
    /// Per data row, in order of first appearance: where it first appeared, its
    /// reference, and which required global classifications it has.
    pub(super) rows: Vec<(usize, DataRow, Vec<bool>)>,
}

impl DataRows {
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn entry(
        &mut self,
        data_row: &DataRow,
        row: usize,
        required: usize,
    ) -> Option<&mut Vec<bool>> {
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
    pub(super) onto: &'o Ontology,
    pub(super) options: Options,
    pub(super) style: Style,
    /// Every problem found, at the row and path of the value being checked.
    pub findings: Issues,
    /// Added to rows recorded in [`DataRows`], so that a job checked in several
    /// calls reports missing global classifications at the job's rows.
    pub row_offset: usize,
    /// Feature problems are reported at the path itself (columnar batches).
    pub(super) bare_features: bool,
}

/// What a name is looked up as.
#[derive(Clone, Copy)]
pub(super) enum Wanted {
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
            Body::Relationship(r) => self.relationship(r),
            Body::Metric(m) => self.metric(m),
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

    pub(super) fn report(
        &mut self,
        kind: Code,
        severity: Severity,
        message: String,
        suggestion: Option<String>,
    ) {
        self.findings.record(kind, severity, message, suggestion);
    }

    pub(super) fn error(&mut self, kind: Code, message: String, suggestion: Option<String>) {
        self.report(kind, Severity::Error, message, suggestion);
    }

    pub(super) fn error_at(
        &mut self,
        key: &'static str,
        kind: Code,
        message: String,
        suggestion: Option<String>,
    ) {
        self.findings.push_key(key);
        self.error(kind, message, suggestion);
        self.findings.pop();
    }

    /// A problem with a feature reference: at its `name`/`schemaId` key, or (columns,
    /// whose features are plain strings in a list) at the current path.
    pub(super) fn feature_error_at(
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

    pub(super) fn schema_key(&self) -> &'static str {
        match self.style {
            Style::Typed => "feature_schema_id",
            Style::Dict => "schemaId",
        }
    }

    pub(super) fn keys(
        &self,
        typed: &'static [&'static str],
        dict: &'static [&'static str],
    ) -> &'static [&'static str] {
        match self.style {
            Style::Typed => typed,
            Style::Dict => dict,
        }
    }

    pub(super) fn at_keys<T>(&mut self, keys: &[&'static str], f: impl FnOnce(&mut Self) -> T) -> T {
        for key in keys {
            self.findings.push_key(key);
        }
        let out = f(self);
        for _ in keys {
            self.findings.pop();
        }
        out
    }

    pub(super) fn at_index<T>(&mut self, index: usize, f: impl FnOnce(&mut Self) -> T) -> T {
        self.findings.push_index(index);
        let out = f(self);
        self.findings.pop();
        out
    }

    pub(super) fn object(&mut self, o: &mut Object) {
        let Some(tool) = self.lookup(TOOLS, &mut o.feature, Wanted::Tool) else { return };
        let onto = self.onto;
        let node = &onto.nodes[tool];
        if let Role::Tool(kind) = &node.role {
            let geometry = o.geometry.kind();
            if let Some(message) = kind.geometry_problem(&node.name, geometry) {
                let suggestion = self.only_tool_of(&ToolKind::of_geometry(geometry));
                let key = match self.style {
                    Style::Typed => "value",
                    Style::Dict => geometry.key(),
                };
                self.error_at(key, Code::GeometryMismatch, message, suggestion);
            }
        }
        let scope = node.children;
        self.classification_list(&mut o.classifications, scope, tool, &["classifications"]);
    }

    /// A relationship names a relationship (`edge`) tool.
    fn relationship(&mut self, r: &mut Relationship) {
        let Some(tool) = self.lookup(TOOLS, &mut r.feature, Wanted::Tool) else { return };
        let node = &self.onto.nodes[tool];
        if let Role::Tool(kind) = &node.role {
            if *kind != ToolKind::Relationship {
                let takes = kind.takes().map_or_else(
                    || "which image predictions cannot use".to_string(),
                    |takes| format!("which takes {takes}"),
                );
                let message =
                    format!("tool '{}' is a {} tool, {takes}; got a relationship", node.name, kind.as_str());
                let suggestion = self.only_tool_of(&ToolKind::Relationship);
                let key = self.keys(&["value"], &["relationship"])[0];
                self.error_at(key, Code::GeometryMismatch, message, suggestion);
            }
        }
    }

    /// A metric's feature name is a tool or global classification, and its subclass
    /// name a classification or option nested in that feature.
    fn metric(&mut self, m: &MetricLine) {
        let Some(feature) = m.feature_name.as_deref() else { return };
        let onto = self.onto;
        let feature_key = self.keys(&["feature_name"], &["featureName"])[0];
        let found = [TOOLS, GLOBALS].into_iter().find_map(|s| onto.scopes[s].by_name.get(feature).copied());
        let Some(node) = found else {
            let suggestion = onto
                .closest(TOOLS, feature)
                .or_else(|| onto.closest(GLOBALS, feature))
                .map(|c| format!("did you mean '{c}'?"));
            let message = format!("the ontology has no tool or global classification '{feature}'");
            self.error_at(feature_key, Code::UnknownFeature, message, suggestion);
            return;
        };
        if onto.nodes[node].archived {
            let message = format!("{} is archived in the ontology", onto.describe(node));
            self.error_at(feature_key, Code::ArchivedFeature, message, None);
            return;
        }
        let Some(subclass) = m.subclass_name.as_deref() else { return };
        let below =
            onto.names.get(subclass).is_some_and(|found| found.iter().any(|&n| onto.is_below(n, node)));
        if !below {
            let message = format!("{} has no classification or option '{subclass}'", onto.describe(node));
            let key = self.keys(&["subclass_name"], &["subclassName"])[0];
            self.error_at(key, Code::UnknownFeature, message, None);
        }
    }

    /// `did you mean 'x'?` when exactly one live tool draws `kind`.
    pub(super) fn only_tool_of(&self, kind: &ToolKind) -> Option<String> {
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
    pub(super) fn classification_list(
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

    pub(super) fn classification(&mut self, c: &mut Classification, q: usize) {
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
                    this.report(Code::ChecklistAnswerNormalized, Severity::Warning, message, None);
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

    pub(super) fn answer(&mut self, a: &mut Answer, q: usize) {
        let scope = self.onto.nodes[q].children;
        if let Some(option) = self.lookup(scope, &mut a.feature, Wanted::Answer(q)) {
            let nested = self.onto.nodes[option].children;
            self.classification_list(&mut a.classifications, nested, option, &["classifications"]);
        }
    }

    /// A live feature other than at `scope` with the feature's name (or schema id).
    pub(super) fn elsewhere(&self, feature: &Feature, scope: Option<usize>) -> Option<usize> {
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
    pub(super) fn lookup(&mut self, scope: usize, feature: &mut Feature, wanted: Wanted) -> Option<usize> {
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
    pub(super) fn not_found(&mut self, scope: usize, feature: &Feature, wanted: Wanted) {
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
