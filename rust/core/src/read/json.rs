//! JSON text as [`Node`]s: one line of NDJSON parsed with `sonic-rs` (measured the
//! fastest of `serde_json`, `simd-json` and `sonic-rs` for import lines; see
//! `benches/read.py`), after a scan that refuses nesting the parser would recurse
//! into without bound.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

use sonic_rs::{JsonContainerTrait as _, JsonType, JsonValueTrait as _, Value};

use super::node::{Node, Visit};
use crate::issues::{Code, Issues};
use crate::model::Text;

/// Deepest nesting of lists and dicts a line may have. Far above what the format
/// needs (classifications nest 32 levels, about 100 containers), well below what
/// would exhaust a thread's stack in the parser or when the value is dropped.
pub const MAX_NESTING: usize = 128;

/// A problem was recorded for the value (at its line and field), which is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

/// Names seen in one piece of reading, shared rather than allocated per line. Fx, not
/// `SipHash`: the keys are short and a lookup is made for most strings of every line.
#[derive(Debug, Default)]
pub struct Texts(RefCell<FxHashMap<Box<str>, Text>>);

/// Upper bound on remembered names; past it the memo starts afresh.
const TEXTS_LIMIT: usize = 1 << 12;

impl Texts {
    /// The shared text equal to `text`.
    pub fn get(&self, text: &str) -> Text {
        let mut texts = self.0.borrow_mut();
        if let Some(found) = texts.get(text) {
            return found.clone();
        }
        if texts.len() >= TEXTS_LIMIT {
            texts.clear();
        }
        let shared = Text::from(text);
        texts.insert(text.into(), shared.clone());
        shared
    }
}

/// One parsed JSON value, with the reader's memo of names.
#[derive(Clone, Copy)]
pub struct JsonNode<'a> {
    pub value: &'a Value,
    pub texts: &'a Texts,
}

/// Why `line` is not one JSON value, as `not valid JSON: <reason> (column N)`.
pub fn parse(line: &[u8]) -> Result<Value, String> {
    if let Some(column) = too_deep_at(line, MAX_NESTING) {
        return Err(format!("not valid JSON: nested more than {MAX_NESTING} levels deep (column {column})"));
    }
    sonic_rs::from_slice(line).map_err(|err| {
        let text = err.to_string();
        let reason = text.split(" at line ").next().unwrap_or(&text);
        let reason = reason.strip_suffix(" while parsing").unwrap_or(reason);
        format!("not valid JSON: {reason} (column {})", err.column())
    })
}

/// The column (from 1) where lists and dicts nest more than `limit` deep, if they do.
pub fn too_deep_at(text: &[u8], limit: usize) -> Option<usize> {
    // Fewer openings than the limit cannot nest past it: a short line, or one quick
    // count (memchr's, vectorised and stopping at the limit) spares the scan on all
    // but a few lines.
    if text.len() <= limit || memchr::memchr2_iter(b'{', b'[', text).nth(limit).is_none() {
        return None;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in text.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(i + 1);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

impl JsonNode<'_> {
    /// The Python name of the value's type, as the dict entrance's messages say it.
    fn type_name(&self) -> &'static str {
        match self.value.get_type() {
            JsonType::Null => "NoneType",
            JsonType::Boolean => "bool",
            JsonType::Number if self.value.is_f64() => "float",
            JsonType::Number => "int",
            JsonType::String => "str",
            JsonType::Array => "list",
            JsonType::Object => "dict",
        }
    }
}

impl Node for JsonNode<'_> {
    type Error = Refused;

    fn is_null(&self) -> bool {
        self.value.is_null()
    }

    fn is_str(&self) -> bool {
        self.value.is_str()
    }

    fn is_dict(&self) -> bool {
        self.value.is_object()
    }

    fn is_list(&self) -> bool {
        self.value.is_array()
    }

    fn is_bool(&self) -> bool {
        self.value.is_boolean()
    }

    fn is_int(&self) -> bool {
        self.value.is_boolean() || self.value.is_number() && !self.value.is_f64()
    }

    fn entries(&self, issues: &mut Issues, expected: &str, f: &mut Visit<'_, Self>) -> Result<(), Refused> {
        let Some(object) = self.value.as_object() else {
            return Err(self.type_error(issues, expected));
        };
        for (key, value) in object {
            f(key, JsonNode { value, texts: self.texts }, issues)?;
        }
        Ok(())
    }

    fn items(&self, issues: &mut Issues, expected: &str) -> Result<Vec<Self>, Refused> {
        match self.value.as_array() {
            Some(array) => Ok(array.iter().map(|value| JsonNode { value, texts: self.texts }).collect()),
            None => Err(self.type_error(issues, expected)),
        }
    }

    fn number(&self, issues: &mut Issues) -> Result<f64, Refused> {
        // As from Python, where `true` is the int 1.
        if let Some(flag) = self.value.as_bool() {
            return Ok(f64::from(u8::from(flag)));
        }
        self.value.as_f64().ok_or_else(|| self.type_error(issues, "a number"))
    }

    fn integer(&self, issues: &mut Issues) -> Result<i64, Refused> {
        if let Some(flag) = self.value.as_bool() {
            return Ok(i64::from(flag));
        }
        self.value.as_i64().ok_or_else(|| self.type_error(issues, "an integer"))
    }

    fn string(&self, issues: &mut Issues) -> Result<String, Refused> {
        self.value.as_str().map(str::to_owned).ok_or_else(|| self.type_error(issues, "a string"))
    }

    fn text(&self, issues: &mut Issues) -> Result<Text, Refused> {
        match self.value.as_str() {
            Some(text) => Ok(self.texts.get(text)),
            None => Err(self.type_error(issues, "a string")),
        }
    }

    fn flag(&self, issues: &mut Issues) -> Result<bool, Refused> {
        if self.value.is_null() {
            return Ok(false);
        }
        self.value.as_bool().ok_or_else(|| self.type_error(issues, "True or False"))
    }

    fn type_error(&self, issues: &mut Issues, expected: &str) -> Refused {
        self.refuse(issues, format!("expected {expected}, got {}", self.type_name()))
    }

    fn refuse(&self, issues: &mut Issues, message: String) -> Refused {
        issues.report(Code::Type, message);
        Refused
    }

    fn too_deep(&self, issues: &mut Issues) -> Refused {
        issues.report(
            Code::TooDeep,
            format!("classifications are nested more than {} levels deep", super::MAX_DEPTH),
        );
        Refused
    }
}
