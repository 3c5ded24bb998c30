//! Reading an ontology's description (the shape of `OntologyBuilder.asdict()`, or
//! an ontology as Labelbox exports it) into an [`OntologySpec`]. The reader walks any
//! tree that implements [`SpecNode`] (Python objects in the binding, JSON values
//! here), so the rules of the format live once: which keys name what, that nesting
//! is bounded, that a description that contains itself is refused.

use super::spec::{FeatureSpec, OntologySpec, OptionSpec, QuestionSpec, ToolSpec};

/// How deep classifications may nest, in the ontology as in predictions.
pub const MAX_DEPTH: usize = 32;

/// Why a description cannot be read: a value of the wrong type, or a wrong value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    Type(String),
    Value(String),
}

/// A value of the description, as the reader needs to see it.
pub trait SpecNode: Sized {
    /// The identity of a container, to recognise a description that contains itself.
    fn identity(&self) -> usize;
    /// The type's name for messages (`list`, `str`).
    fn type_name(&self) -> String;
    /// The value as its source would write it, for messages (`'false'`, `2`).
    fn shown(&self) -> String;
    /// Whether it is a dict (a mapping with string keys).
    fn is_dict(&self) -> bool;
    /// The value at `key` of a dict; `None` when missing or null.
    fn get(&self, key: &str) -> Result<Option<Self>, SpecError>;
    /// The items of a list, or `None` when it is none.
    fn items(&self) -> Result<Option<Vec<Self>>, SpecError>;
    /// The text of a string or an int (option values may be ints), or `None`.
    /// `Err` for a string that is not valid Unicode.
    fn text(&self) -> Result<Option<String>, String>;
    /// The value of a boolean (or of 0 and 1, as exports write `archived`), or
    /// `None` when it is none.
    fn flag(&self) -> Option<bool>;
}

/// Reads the whole description.
pub fn read_spec<N: SpecNode>(root: &N) -> Result<OntologySpec, SpecError> {
    let mut reader = Reader { open: Vec::new() };
    let dict = Reader::dict(root, "the ontology")?;
    let mut spec = OntologySpec::default();
    for (i, tool) in Reader::list(dict, "tools", "")?.iter().enumerate() {
        let at = format!("tools[{i}]");
        let d = Reader::dict(tool, &at)?;
        spec.tools.push(ToolSpec {
            kind: text_at(d, &["tool"], &at)?.unwrap_or_default(),
            feature: feature_at(d, &["name"], &at)?,
            classifications: reader.questions(d, &["classifications"], &at)?,
        });
    }
    spec.classifications = reader.questions(dict, &["classifications"], "")?;
    Ok(spec)
}

struct Reader {
    /// The question dicts being read (outermost first), with their paths.
    open: Vec<(usize, String)>,
}

impl Reader {
    fn dict<'n, N: SpecNode>(value: &'n N, at: &str) -> Result<&'n N, SpecError> {
        if value.is_dict() {
            Ok(value)
        } else {
            Err(SpecError::Type(format!("ontology: {at}: expected a dict, got {}", value.type_name())))
        }
    }

    /// The list at `key` (missing or none: empty).
    fn list<N: SpecNode>(dict: &N, key: &str, at: &str) -> Result<Vec<N>, SpecError> {
        let Some(value) = dict.get(key)? else { return Ok(Vec::new()) };
        value.items()?.ok_or_else(|| {
            SpecError::Type(format!(
                "ontology: {}: expected a list, got {}",
                join(at, key),
                value.type_name()
            ))
        })
    }

    /// The questions under `keys` of `dict`. The reader recurses, so nesting is
    /// bounded, and a question inside itself is a cycle, reported as such.
    fn questions<N: SpecNode>(
        &mut self,
        dict: &N,
        keys: &[&str],
        at: &str,
    ) -> Result<Vec<QuestionSpec>, SpecError> {
        let mut out = Vec::new();
        for key in keys {
            for (i, q) in Self::list(dict, key, at)?.iter().enumerate() {
                let at = join(at, &format!("{key}[{i}]"));
                let d = Self::dict(q, &at)?;
                let id = d.identity();
                if let Some((_, first)) = self.open.iter().find(|(open, _)| *open == id) {
                    return Err(SpecError::Value(format!(
                        "ontology: {at}: is {first} again (the ontology refers to itself, a cycle)"
                    )));
                }
                if self.open.len() >= MAX_DEPTH {
                    return Err(SpecError::Value(format!(
                        "ontology: {at}: classifications are nested more than {MAX_DEPTH} levels deep"
                    )));
                }
                self.open.push((id, at.clone()));
                let question = self.question(d, &at);
                self.open.pop();
                out.push(question?);
            }
        }
        Ok(out)
    }

    fn question<N: SpecNode>(&mut self, d: &N, at: &str) -> Result<QuestionSpec, SpecError> {
        let mut options = Vec::new();
        for (j, o) in Self::list(d, "options", at)?.iter().enumerate() {
            let at = format!("{at}.options[{j}]");
            let od = Self::dict(o, &at)?;
            options.push(OptionSpec {
                feature: feature_at(od, &["value", "label"], &at)?,
                // The SDK nests an option's questions in `options`; accept `classifications` too.
                classifications: self.questions(od, &["options", "classifications"], &at)?,
            });
        }
        Ok(QuestionSpec {
            kind: text_at(d, &["type"], at)?.unwrap_or_default(),
            feature: feature_at(d, &["name", "instructions"], at)?,
            options,
        })
    }
}

fn feature_at<N: SpecNode>(dict: &N, name_keys: &[&str], at: &str) -> Result<FeatureSpec, SpecError> {
    Ok(FeatureSpec {
        name: text_at(dict, name_keys, at)?.unwrap_or_default(),
        schema_id: text_at(dict, &["featureSchemaId"], at)?,
        node_id: text_at(dict, &["schemaNodeId"], at)?,
        required: flag_at(dict, "required", at)?,
        archived: flag_at(dict, "archived", at)?,
    })
}

/// The first of `keys` that is set, as text.
fn text_at<N: SpecNode>(dict: &N, keys: &[&str], at: &str) -> Result<Option<String>, SpecError> {
    for key in keys {
        let Some(value) = dict.get(key)? else { continue };
        return match value.text() {
            Ok(Some(text)) => Ok(Some(text)),
            Ok(None) => Err(SpecError::Type(format!(
                "ontology: {}: expected a string, got {}",
                join(at, key),
                value.type_name()
            ))),
            Err(reason) => Err(SpecError::Value(format!("ontology: {}: {reason}", join(at, key)))),
        };
    }
    Ok(None)
}

/// `true`, `false` (or 1 and 0) or missing (`false`); anything else would be read by truth.
fn flag_at<N: SpecNode>(dict: &N, key: &str, at: &str) -> Result<bool, SpecError> {
    match dict.get(key)? {
        None => Ok(false),
        Some(value) => value.flag().ok_or_else(|| {
            SpecError::Type(format!(
                "ontology: {}: expected True or False, got {}",
                join(at, key),
                value.shown()
            ))
        }),
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// JSON values as a description (an ontology read from JSON text).
impl SpecNode for &serde_json::Value {
    fn identity(&self) -> usize {
        std::ptr::from_ref::<serde_json::Value>(self) as usize
    }

    fn type_name(&self) -> String {
        use serde_json::Value;
        match self {
            Value::Null => "NoneType",
            Value::Bool(_) => "bool",
            Value::Number(n) if n.is_f64() => "float",
            Value::Number(_) => "int",
            Value::String(_) => "str",
            Value::Array(_) => "list",
            Value::Object(_) => "dict",
        }
        .to_string()
    }

    fn shown(&self) -> String {
        self.to_string()
    }

    fn is_dict(&self) -> bool {
        self.is_object()
    }

    fn get(&self, key: &str) -> Result<Option<Self>, SpecError> {
        Ok(self.as_object().and_then(|o| o.get(key)).filter(|v| !v.is_null()))
    }

    fn items(&self) -> Result<Option<Vec<Self>>, SpecError> {
        Ok(self.as_array().map(|a| a.iter().collect()))
    }

    fn text(&self) -> Result<Option<String>, String> {
        Ok(match self {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) if !n.is_f64() => Some(n.to_string()),
            _ => None,
        })
    }

    fn flag(&self) -> Option<bool> {
        self.as_bool().or(match self.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<OntologySpec, SpecError> {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        read_spec(&&value)
    }

    #[test]
    fn tools_questions_and_nested_options_are_read_with_their_ids() {
        let spec = read(
            r#"{"tools": [{"tool": "rectangle", "name": "car", "featureSchemaId": "f1",
                 "classifications": [{"type": "radio", "name": "color", "required": true,
                    "options": [{"value": 7, "options": [{"type": "text", "instructions": "why"}]}]}]}],
                "classifications": [{"type": "checklist", "name": "tags", "options": null}]}"#,
        )
        .unwrap();
        let tool = &spec.tools[0];
        assert_eq!((tool.kind.as_str(), tool.feature.name.as_str()), ("rectangle", "car"));
        assert_eq!(tool.feature.schema_id.as_deref(), Some("f1"));
        let color = &tool.classifications[0];
        assert!(color.feature.required);
        assert_eq!(color.options[0].feature.name, "7");
        assert_eq!(color.options[0].classifications[0].feature.name, "why");
        assert_eq!(spec.classifications[0].kind, "checklist");
    }

    #[test]
    fn wrong_types_name_where_they_are() {
        assert_eq!(
            read(r#"{"tools": {}}"#),
            Err(SpecError::Type("ontology: tools: expected a list, got dict".into()))
        );
        assert_eq!(
            read(r#"{"classifications": [{"name": "q", "required": "yes"}]}"#),
            Err(SpecError::Type(
                "ontology: classifications[0].required: expected True or False, got \"yes\"".into()
            ))
        );
        assert_eq!(
            read(r#"{"tools": [{"tool": ["rectangle"]}]}"#),
            Err(SpecError::Type("ontology: tools[0].tool: expected a string, got list".into()))
        );
    }

    #[test]
    fn nesting_is_bounded() {
        use serde_json::json;
        let mut question = json!({"type": "radio", "name": "q", "options": []});
        for _ in 0..40 {
            question =
                json!({"type": "radio", "name": "q", "options": [{"value": "a", "options": [question]}]});
        }
        let value = json!({"classifications": [question]});
        let Err(SpecError::Value(message)) = read_spec(&&value) else { panic!("nesting was accepted") };
        assert!(message.ends_with("classifications are nested more than 32 levels deep"), "{message}");
        assert!(message.starts_with("ontology: classifications[0].options[0].options[0]"), "{message}");
    }
}
