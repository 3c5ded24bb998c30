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

/// Collects issues for one item, tracking the current field path as a stack of
/// segments so that callers never format paths eagerly on the happy path.
#[derive(Debug, Default)]
pub struct Issues {
    row: usize,
    path: Vec<PathSeg>,
    found: Vec<Issue>,
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

    pub fn extend(&mut self, other: Issues) {
        self.found.extend(other.found);
    }

    pub fn into_vec(self) -> Vec<Issue> {
        self.found
    }

    pub fn as_slice(&self) -> &[Issue] {
        &self.found
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
