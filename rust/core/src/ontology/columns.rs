//! Checking columnar batches against an ontology. A batch's features, questions and answers are checked once each, at the row of the
//! first prediction that uses them; the paths name the batch's lists (`features[2]`,
//! `subclass.answers[0]`, `question`, `answers[1]`).

use super::check::{Checker, DataRows, Wanted};
use super::index::{QuestionKind, Role, ToolKind, GLOBALS, TOOLS};
use crate::batch::ColumnarItem;
use crate::columnar::{AnswerColumn, ClassificationColumns, ColumnKind, Columns, ObjectColumns};
use crate::issues::Code;
use crate::model::Feature;
use crate::rules::Style;

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
        let geometry = o.geometry.kind();
        // Questions whose answers are checked already (a sub-classification of several tools).
        let mut answered = Vec::new();
        for (k, used) in first.iter().enumerate() {
            let Some(i) = *used else { continue };
            let row = first_row + i;
            self.at_row(row, &["features"], Some(k));
            let Some(tool) = self.lookup(TOOLS, &mut o.features[k], Wanted::Tool) else { continue };
            let node = &onto.nodes[tool];
            if let Role::Tool(tool_kind) = &node.role {
                if let Some(message) = tool_kind.geometry_problem(&node.name, geometry) {
                    let suggestion = self.only_tool_of(&ToolKind::of_geometry(geometry));
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
