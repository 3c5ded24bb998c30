//! A batch of annotations with where each came from, checked and written as a whole.

use std::ops::Range;

use crate::columnar::{Columns, ColumnsWriter, Prepared, CHUNK_ROWS};
use crate::issues::{Issues, Report, MAX_LISTED};
use crate::kept::Kept;
use crate::model::{Annotation, Body, Geometry, Mask};
use crate::ndjson;
use crate::options::Options;
use crate::parallel;
use crate::rules::relationships::link_relationships;
use crate::rules::scores::{column_scores, is_stripped};
use crate::rules::{check_annotation, Style};

/// An annotation and its place in the caller's input.
#[derive(Debug, Clone)]
pub struct Located {
    /// Index of the input item (Label, dict or columnar row).
    pub row: usize,
    /// Index inside the item's `annotations`, for typed Labels; `None` when the item
    /// is the annotation itself.
    pub slot: Option<usize>,
    pub annotation: Annotation,
}

/// A columnar batch among the items of a call.
#[derive(Debug, Clone)]
pub struct ColumnarItem {
    /// Its predictions are rows `first_row .. first_row + columns.len()`.
    pub first_row: usize,
    /// It is written after `items[..before]` and before `items[before..]`.
    pub before: usize,
    pub columns: Columns,
}

/// Everything one call read, checked and written as a whole. A batch whose reading
/// recorded a problem in `issues` is never written ([`Batch::check`] fails), so the
/// readers may leave a stand-in value where they refused one (a data row, a mask)
/// and go on reading, to report every problem at once.
#[derive(Debug, Default)]
pub struct Batch {
    pub items: Vec<Located>,
    /// Columnar batches, in input order (non-decreasing `before`).
    pub columns: Vec<ColumnarItem>,
    /// Problems found while reading, reported together with the rules'.
    pub issues: Issues,
}

/// The vectors of annotations of past calls, kept for the next (see [`Kept`]): 39 MB
/// at 100,000 typed boxes, which glibc maps fresh (and faults in) on each call, as it
/// does any allocation over 32 MB. Smaller ones are left to glibc, which reuses them
/// best when they are freed (keeping a 3 MB one made it map each call's output fresh).
static ITEMS: Kept<Located> = Kept::new(16 << 20, 64 << 20);

impl Drop for Checked {
    fn drop(&mut self) {
        let mut items = std::mem::take(&mut self.items);
        // Each annotation frees its own texts: on every thread when there are many.
        if items.len() >= PARALLEL_LINES {
            parallel::drop_all(self.threads, &mut items);
        }
        ITEMS.give(items);
    }
}

/// Annotations per unit of parallel checking; masks are decoded and encoded one by one.
const CHECK_ANNOTATIONS: usize = 2048;
const CHECK_MASKS: usize = 1;
/// Batches with fewer lines (and no mask pixels) are checked and written on the
/// calling thread alone.
const PARALLEL_LINES: usize = 16_384;
/// Annotations per unit of parallel writing.
const WRITE_ANNOTATIONS: usize = 1024;

impl Batch {
    pub fn new() -> Self {
        Batch { items: ITEMS.take(), ..Self::default() }
    }

    /// Adds a columnar batch after the items so far; its rows start at `first_row`.
    pub fn push_columns(&mut self, first_row: usize, columns: Columns) {
        self.columns.push(ColumnarItem { first_row, before: self.items.len(), columns });
    }

    /// Validates every annotation, then writes them all, or returns every problem found.
    pub fn into_ndjson(self, options: &Options) -> Result<Vec<u8>, Report> {
        let checked = self.check(options)?;
        let mut out = Vec::with_capacity(checked.size_hint());
        checked.write(&mut |pieces| {
            for piece in pieces {
                out.extend_from_slice(piece);
            }
        });
        Ok(out)
    }

    /// Checks everything, on `options.threads` threads, and returns the batch ready to
    /// be written, or every problem in row order (at most [`MAX_LISTED`] of them and a
    /// count of the rest). Checking turns mask pixels into PNG. Warnings (recorded in
    /// `issues` by an ontology check) do not stop the writing.
    pub fn check(self, options: &Options) -> Result<Checked, Report> {
        match self.check_and_report(options) {
            (Some(checked), _) => Ok(checked),
            (None, report) => Err(report),
        }
    }

    /// As [`Batch::check`], and every problem either way, warnings included: the
    /// batch ready to be written (`None` when an error was found) and the report.
    pub fn check_and_report(mut self, options: &Options) -> (Option<Checked>, Report) {
        let threads = self.run_rules(options);
        let Batch { items, columns, issues } = self;
        let report = issues.into_report();
        if report.has_errors() {
            ITEMS.give(items);
            return (None, report);
        }
        let prepared = columns.iter().map(|part| part.columns.prepare()).collect();
        (Some(Checked { items, columns, prepared, threads }), report)
    }

    /// Applies every rule to every annotation and columnar batch, adding the problems
    /// to `issues`; returns the threads to write with.
    fn run_rules(&mut self, options: &Options) -> Option<usize> {
        // A small batch is done before other threads would have woken up.
        let small = self.lines() < PARALLEL_LINES;
        let pixels = parallel::any(if small { Some(1) } else { options.threads }, &self.items, has_pixels);
        let chunk = if pixels { CHECK_MASKS } else { CHECK_ANNOTATIONS };
        let threads = if !pixels && small { Some(1) } else { options.threads };
        // What the serial steps below need to know is found here, on every thread, so
        // that they need not scan all the annotations again when there is nothing to do.
        let results = parallel::map_chunks_mut(threads, &mut self.items, chunk, |_, chunk| {
            let mut issues = Issues::with_limit(MAX_LISTED);
            let (mut relationships, mut stripped) = (false, false);
            for item in chunk.iter_mut() {
                check(item, options, &mut issues);
                relationships |= matches!(item.annotation.body, Body::Relationship(_));
                stripped |= is_stripped(&item.annotation.body, options.scores);
            }
            (issues, relationships, stripped)
        });
        let (mut relationships, mut stripped) = (false, false);
        for (issues, has_relationships, has_stripped) in results {
            self.issues.extend(issues);
            relationships |= has_relationships;
            stripped |= has_stripped;
        }
        // Across lines: relationships name other lines (by index, so before any is left out).
        if relationships {
            self.issues.extend(link_relationships(&mut self.items));
        }
        if stripped {
            self.items.retain(|item| !is_stripped(&item.annotation.body, options.scores));
        }
        for part in &mut self.columns {
            self.issues.extend(part.columns.check(part.first_row, threads));
            // After the checks, which read the scores; before the writer is prepared.
            let mut scores = Issues::with_limit(MAX_LISTED);
            scores.set_row(part.first_row);
            column_scores(&mut part.columns, options.scores, &mut scores);
            self.issues.extend(scores);
        }
        threads
    }

    /// Number of lines (annotations and columnar predictions).
    pub fn lines(&self) -> usize {
        self.items.len() + self.columns.iter().map(|part| part.columns.len()).sum::<usize>()
    }
}

/// A batch with no problems, ready to be written.
#[derive(Debug)]
pub struct Checked {
    pub(crate) items: Vec<Located>,
    pub(crate) columns: Vec<ColumnarItem>,
    /// What the writer renders once per columnar batch, by batch.
    prepared: Vec<Prepared>,
    threads: Option<usize>,
}

/// One unit of writing.
enum Task {
    Items(Range<usize>),
    Rows(usize, Range<usize>),
}

impl Checked {
    fn writers(&self) -> impl Iterator<Item = ColumnsWriter<'_>> {
        self.columns.iter().zip(&self.prepared).map(|(part, prepared)| part.columns.writer(prepared))
    }

    /// Number of lines that will be written.
    pub fn lines(&self) -> usize {
        self.items.len() + self.columns.iter().map(|p| p.columns.len()).sum::<usize>()
    }

    /// A generous guess of the output's length, for sizing its buffer once. It is an
    /// upper bound for columns; annotations with long texts or masks may exceed it.
    pub fn size_hint(&self) -> usize {
        let items: usize = self.items.iter().map(|item| estimate(&item.annotation)).sum();
        let columns: usize = self.writers().map(|w| w.size_hint(0..w.len())).sum();
        items + columns
    }

    /// Writes every line, in input order, on the batch's threads: consecutive pieces
    /// of the output are handed to `sink` in order, a few per thread at a time, on
    /// the calling thread. The pieces' buffers are reused for the next ones.
    pub fn write(&self, sink: &mut dyn FnMut(&[Vec<u8>])) {
        let writers: Vec<ColumnsWriter<'_>> = self.writers().collect();
        let mut tasks = Vec::new();
        for segment in self.segments() {
            match segment {
                Segment::Items(range) => {
                    for first in range.clone().step_by(WRITE_ANNOTATIONS) {
                        tasks.push(Task::Items(first..range.end.min(first + WRITE_ANNOTATIONS)));
                    }
                }
                Segment::Columns(k) => {
                    let n = self.columns[k].columns.len();
                    for row in (0..n).step_by(CHUNK_ROWS) {
                        tasks.push(Task::Rows(k, row..n.min(row + CHUNK_ROWS)));
                    }
                }
            }
        }
        parallel::write_ordered(self.threads, tasks.len(), sink, |t, out| match &tasks[t] {
            Task::Items(range) => {
                for item in &self.items[range.clone()] {
                    ndjson::write_line(out, &item.annotation);
                }
            }
            Task::Rows(k, rows) => {
                out.reserve(writers[*k].size_hint(rows.clone()));
                writers[*k].write_rows(rows.clone(), out);
            }
        });
    }
}

/// A run of output lines: annotations `items[range]`, or all of columnar batch `k`.
pub(crate) enum Segment {
    Items(Range<usize>),
    Columns(usize),
}

impl Checked {
    /// The output in order, as runs of annotations and columnar batches: the one
    /// definition of line order, shared by writing and by the line facts.
    pub(crate) fn segments(&self) -> Vec<Segment> {
        let mut segments = Vec::with_capacity(2 * self.columns.len() + 1);
        let mut start = 0;
        for (k, part) in self.columns.iter().enumerate() {
            let end = part.before.clamp(start, self.items.len());
            segments.push(Segment::Items(start..end));
            segments.push(Segment::Columns(k));
            start = end;
        }
        segments.push(Segment::Items(start..self.items.len()));
        segments
    }
}

/// A close upper guess of an annotation's line length: an overestimate costs fresh
/// pages of the output, an underestimate a copy of the overflow.
fn estimate(a: &Annotation) -> usize {
    // Keys, uuid, punctuation, confidence and one metric; then the variable parts.
    const FLOAT: usize = 24;
    let text = |t: &Option<crate::model::Text>| t.as_deref().map_or(0, str::len);
    let envelope = 200 + a.data_row.text().len();
    let feature = |f: &crate::model::Feature| text(&f.name) + text(&f.schema_id);
    let body = match &a.body {
        Body::Object(o) => {
            feature(&o.feature)
                + classifications(&o.classifications)
                + match &o.geometry {
                    Geometry::Point(_) => 2 * FLOAT + 16,
                    Geometry::Bbox(_) => 4 * FLOAT + 40,
                    Geometry::Line(p) | Geometry::Polygon(p) => (p.len() + 1) * (2 * FLOAT + 12),
                    Geometry::Mask(Mask::Png(png)) => png.len().div_ceil(3) * 4 + 16,
                    Geometry::Mask(Mask::Url { uri, .. }) => uri.len() + 48,
                    Geometry::Mask(_) => 64,
                }
        }
        Body::Classification(c) => classifications(std::slice::from_ref(c)),
        Body::Metric(m) => {
            let numbers = match &m.value {
                crate::model::MetricValue::Single(n) => n.len(),
                crate::model::MetricValue::ByConfidence(v) => v.iter().map(|(_, n)| n.len() + 1).sum(),
            };
            let names = [&m.metric_name, &m.feature_name, &m.subclass_name, &m.aggregation];
            numbers * (FLOAT + 4) + names.iter().map(|t| text(t) + 20).sum::<usize>()
        }
        Body::Relationship(r) => feature(&r.feature) + 160,
    };
    envelope + body
}

fn classifications(list: &[crate::model::Classification]) -> usize {
    use crate::model::ClassificationValue;
    let text = |t: &Option<crate::model::Text>| t.as_deref().map_or(0, str::len);
    let answer = |a: &crate::model::Answer| {
        96 + text(&a.feature.name) + text(&a.feature.schema_id) + classifications(&a.classifications)
    };
    list.iter()
        .map(|c| {
            96 + text(&c.feature.name)
                + text(&c.feature.schema_id)
                + classifications(&c.classifications)
                + match &c.value {
                    ClassificationValue::Radio(a) => answer(a),
                    ClassificationValue::Checklist(answers) => answers.iter().map(answer).sum(),
                    ClassificationValue::Text(t) => t.len() * 6,
                }
        })
        .sum()
}

/// Whether checking the annotation decodes or encodes an image.
fn has_pixels(item: &Located) -> bool {
    matches!(
        &item.annotation.body,
        Body::Object(o) if matches!(o.geometry, Geometry::Mask(Mask::Pixels { .. } | Mask::Png(_)))
    )
}

/// Checks one annotation. One with a `slot` came from a typed Label; any other is a
/// dict. (Data rows were decided when the input was read.)
fn check(item: &mut Located, options: &Options, found: &mut Issues) {
    found.set_row(item.row);
    let style = match item.slot {
        Some(slot) => {
            found.push_key("annotations");
            found.push_index(slot);
            Style::Typed
        }
        None => Style::Dict,
    };
    check_annotation(&mut item.annotation, style, options, found);
}
