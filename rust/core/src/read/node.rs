//! What the key rules need to see of a value: a small interface that Python objects
//! (in the binding) and parsed JSON ([`super::json`]) both implement.

use crate::issues::Issues;
use crate::model::{Metric, Text};

/// A dict key: text (JSON, and Python `str` keys) or, from Python, another value
/// (the numbers that are a metric's confidences).
pub enum Key<'a, N> {
    Text(&'a str),
    Value(N),
}

/// What [`Node::entries`] calls for each entry: `(key, value, issues)`.
pub type Visit<'f, N> = dyn FnMut(&str, N, &mut Issues) -> Result<(), <N as Node>::Error> + 'f;
/// What [`Node::keyed_entries`] calls for each entry.
pub type KeyedVisit<'f, N> = dyn FnMut(Key<'_, N>, N, &mut Issues) -> Result<(), <N as Node>::Error> + 'f;

/// A JSON-ish value: null, a boolean, a number, a string, a list or a dict.
///
/// Reading a value of the wrong type gives `Err(Self::Error)`: for Python a
/// `TypeError` naming the field, for JSON the problem, already recorded in `issues`
/// (its line is then left out). A value of the right type that the format cannot
/// take (a lone surrogate) is recorded in `issues` and reading goes on.
pub trait Node: Sized {
    type Error;

    fn is_null(&self) -> bool;
    fn is_str(&self) -> bool;
    fn is_dict(&self) -> bool;
    fn is_list(&self) -> bool;
    /// An integer (not a float, not a bool), as mask colours are.
    fn is_int(&self) -> bool;
    /// `true` or `false` (Python: a `bool`).
    fn is_bool(&self) -> bool;

    /// Calls `f(key, value)` for each entry of a dict, in order. A non-dict is a type
    /// error (`expected` says what was expected).
    fn entries(
        &self,
        issues: &mut Issues,
        expected: &str,
        f: &mut Visit<'_, Self>,
    ) -> Result<(), Self::Error>;

    /// As [`Node::entries`], for a dict whose keys may be other than text (Python's
    /// numbers). JSON keys are always text.
    fn keyed_entries(
        &self,
        issues: &mut Issues,
        expected: &str,
        f: &mut KeyedVisit<'_, Self>,
    ) -> Result<(), Self::Error> {
        self.entries(issues, expected, &mut |key, value, issues| f(Key::Text(key), value, issues))
    }

    /// The items of a list (or, for Python, a tuple).
    fn items(&self, issues: &mut Issues, expected: &str) -> Result<Vec<Self>, Self::Error>;

    /// A number as a float (ints too).
    fn number(&self, issues: &mut Issues) -> Result<f64, Self::Error>;
    fn integer(&self, issues: &mut Issues) -> Result<i64, Self::Error>;
    fn string(&self, issues: &mut Issues) -> Result<String, Self::Error>;
    /// A string as shared text, for text that repeats (names).
    fn text(&self, issues: &mut Issues) -> Result<Text, Self::Error> {
        self.string(issues).map(Text::from)
    }
    /// `true`/`false`; null is unset (`false`). Anything else is a type error.
    fn flag(&self, issues: &mut Issues) -> Result<bool, Self::Error>;

    /// A metric given as an object with `name` and `value` (Python's `CustomMetric`);
    /// `None` when the value is no such object.
    fn metric_object(&self, _issues: &mut Issues) -> Result<Option<Metric>, Self::Error> {
        Ok(None)
    }

    /// The value is not `expected`: the error for it at the current path.
    fn type_error(&self, issues: &mut Issues, expected: &str) -> Self::Error;
    /// A value of the wrong type (or a key of this dict), said by `message`: the
    /// error for it at the current path.
    fn refuse(&self, issues: &mut Issues, message: String) -> Self::Error;
    /// Nesting deeper than [`super::MAX_DEPTH`]: the error for it at the current path.
    fn too_deep(&self, issues: &mut Issues) -> Self::Error;
}
