//! Validation problems as values: every one carries its row, field path and reason,
//! so that a whole batch can be reported at once.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Index of the input item (a Label, a dict, a columnar row) the problem belongs to.
    pub row: usize,
    /// Field path inside that item, e.g. `annotations[3].value.points[1].x`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "row {}: {}", self.row, self.message)
        } else {
            write!(f, "row {}: {}: {}", self.row, self.path, self.message)
        }
    }
}

/// How many problems a call lists; the rest are counted in one closing issue, so
/// that millions of bad predictions cannot exhaust memory.
pub const MAX_LISTED: usize = 1000;

/// Collects issues for one item, tracking the current field path as a stack of
/// segments so that callers never format paths eagerly on the happy path.
#[derive(Debug, Default)]
pub struct Issues {
    row: usize,
    path: Vec<PathSeg>,
    found: Vec<Issue>,
    /// Past this many issues, further ones are only counted.
    limit: Option<usize>,
    omitted: usize,
    first_omitted_row: Option<usize>,
}

#[derive(Debug, Clone)]
enum PathSeg {
    Key(&'static str),
    OwnedKey(String),
    Index(usize),
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

    fn is_full(&self) -> bool {
        self.limit.is_some_and(|limit| self.found.len() >= limit)
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

    /// Records a problem at the current path.
    pub fn report(&mut self, message: impl Into<String>) {
        if self.is_full() {
            self.omit(self.row);
            return;
        }
        let path = self.current_path();
        self.found.push(Issue { row: self.row, path, message: message.into() });
    }

    /// Records a problem at the current path extended by `key`.
    pub fn report_at(&mut self, key: &'static str, message: impl Into<String>) {
        self.push_key(key);
        self.report(message);
        self.pop();
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    pub fn len(&self) -> usize {
        self.found.len()
    }

    /// Adds the problems of `other` (kept and counted), within this one's limit.
    pub fn extend(&mut self, other: Issues) {
        if let Some(row) = other.first_omitted_row {
            self.omitted += other.omitted;
            self.first_omitted_row = Some(self.first_omitted_row.map_or(row, |r| r.min(row)));
        }
        for issue in other.found {
            if self.is_full() {
                self.omit(issue.row);
            } else {
                self.found.push(issue);
            }
        }
    }

    /// The problems kept, without the count of omitted ones; see [`Issues::into_report`].
    pub fn into_vec(self) -> Vec<Issue> {
        self.found
    }

    /// Every problem in row order, at most [`MAX_LISTED`] of them, followed by one
    /// issue counting those left out, if any.
    pub fn into_report(self) -> Vec<Issue> {
        let Issues { mut found, mut omitted, mut first_omitted_row, .. } = self;
        // Stable: problems of one row keep the order they were found in.
        found.sort_by_key(|issue| issue.row);
        if found.len() > MAX_LISTED {
            let dropped = found.split_off(MAX_LISTED);
            omitted += dropped.len();
            let row = dropped[0].row;
            first_omitted_row = Some(first_omitted_row.map_or(row, |r| r.min(row)));
        }
        if let (true, Some(row)) = (omitted > 0, first_omitted_row) {
            found.push(Issue {
                row,
                path: String::new(),
                message: format!(
                    "{omitted} more problem{} from this row on are not listed (lbfast lists at most {MAX_LISTED})",
                    if omitted == 1 { "" } else { "s" }
                ),
            });
        }
        found
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
    fn a_limit_keeps_the_first_problems_and_counts_the_rest() {
        let mut chunk = Issues::with_limit(2);
        for row in 0..5 {
            chunk.set_row(row);
            chunk.report("bad");
        }
        assert_eq!((chunk.len(), chunk.omitted()), (2, 3));
        let mut all = Issues::new();
        all.set_row(9);
        all.report("late");
        all.extend(chunk);
        let report = all.into_report();
        assert_eq!(report.iter().map(|i| i.row).collect::<Vec<_>>(), [0, 1, 9, 2]);
        assert!(report[3].message.starts_with("3 more problems"), "{}", report[3].message);
    }

    #[test]
    fn a_report_lists_at_most_max_listed() {
        let mut issues = Issues::new();
        for row in (0..MAX_LISTED + 10).rev() {
            issues.set_row(row);
            issues.report("bad");
        }
        let report = issues.into_report();
        assert_eq!(report.len(), MAX_LISTED + 1);
        assert_eq!(report[0].row, 0);
        assert_eq!(report[MAX_LISTED].row, MAX_LISTED);
        assert!(report[MAX_LISTED].message.starts_with("10 more problems"));
    }

    #[test]
    fn paths_join_keys_with_dots_and_indices_with_brackets() {
        let mut issues = Issues::new();
        issues.set_row(4);
        issues.at("annotations", |i| {
            i.at_index(3, |i| {
                i.at("value", |i| i.at("points", |i| i.at_index(1, |i| i.report_at("x", "not finite"))))
            })
        });
        let found = issues.into_vec();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].row, 4);
        assert_eq!(found[0].path, "annotations[3].value.points[1].x");
        assert_eq!(found[0].to_string(), "row 4: annotations[3].value.points[1].x: not finite");
    }
}
