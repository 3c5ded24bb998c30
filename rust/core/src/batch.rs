//! A batch of annotations with where each came from, checked and written as a whole.

use crate::issues::{Issue, Issues};
use crate::model::Annotation;
use crate::ndjson;
use crate::validate::{self, Options, Style};

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

#[derive(Debug, Default)]
pub struct Batch {
    pub items: Vec<Located>,
    /// Problems found while lowering, reported together with the validator's.
    pub issues: Issues,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates every annotation, then writes them all, or returns every problem found.
    pub fn into_ndjson(self, options: &Options) -> Result<Vec<u8>, Vec<Issue>> {
        let items = self.validated(options)?;
        let mut out = Vec::with_capacity(items.len() * 256);
        for item in &items {
            ndjson::write_line(&mut out, &item.annotation);
        }
        Ok(out)
    }

    /// Validates every annotation; returns them, or every problem found.
    ///
    /// An annotation with a `slot` came from a typed Label, whose data row the lowering
    /// checked once; any other stands alone and its data row is checked here.
    pub fn validated(self, options: &Options) -> Result<Vec<Located>, Vec<Issue>> {
        let Batch { mut items, mut issues } = self;
        let mut found = Issues::new();
        for item in &mut items {
            found.set_row(item.row);
            let style = match item.slot {
                Some(slot) => {
                    found.push_key("annotations");
                    found.push_index(slot);
                    Style::Typed
                }
                None => {
                    found.at("dataRow", |found| validate::check_data_row(&item.annotation.data_row, found));
                    Style::Dict
                }
            };
            validate::check_annotation(&mut item.annotation, style, options, &mut found);
        }
        issues.extend(found);
        if issues.is_empty() {
            Ok(items)
        } else {
            let mut list = issues.into_vec();
            // Report in input order, whatever stage found the problem.
            list.sort_by_key(|issue| issue.row);
            Err(list)
        }
    }
}
