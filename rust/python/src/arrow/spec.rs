//! The column mapping of `lbfast.arrow.ColumnMap`, as the Rust reader holds it. The
//! Python class checks the choices and hands over a plain dict (`ColumnMap._spec`);
//! this reads that dict once per call.

use lbfast_core::columnar::{BoxFormat, Ids};
use lbfast_core::model::Feature;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// Where the features (or the answers) of the predictions come from.
#[derive(Debug, Clone)]
pub enum Names {
    /// A string column of names, or of schema ids.
    Column { column: String, schema_ids: bool },
    /// An integer column of indices into a given list.
    Indices { column: String, list: Vec<Feature> },
}

impl Names {
    pub fn column(&self) -> &str {
        match self {
            Names::Column { column, .. } | Names::Indices { column, .. } => column,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Geometry {
    /// One list column of 4 numbers, or four number columns.
    Box {
        columns: Vec<String>,
        format: BoxFormat,
        normalized: bool,
        size: Option<[String; 2]>,
    },
    /// One column (a list of 2 numbers, or `Struct{x, y}`), or two number columns.
    Point {
        columns: Vec<String>,
    },
    Line {
        column: String,
    },
    Polygon {
        column: String,
    },
    Radio {
        answers: Names,
    },
    Checklist {
        answers: Names,
    },
    Text {
        column: String,
    },
    /// A binary column of PNGs, or a `Struct{size, counts}` column of COCO RLEs.
    Mask {
        column: String,
    },
}

/// A radio question nested in every object.
#[derive(Debug, Clone)]
pub struct Subclass {
    pub question: Feature,
    pub answers: Names,
    pub confidence: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub data_row: String,
    pub by_id: bool,
    /// Objects: the features; `None` for classifications (their question is fixed).
    pub features: Option<Names>,
    pub question: Feature,
    pub confidence: Option<String>,
    pub geometry: Geometry,
    pub subclass: Option<Subclass>,
    /// Objects' custom metrics: (metric name, its number column), in writing order.
    pub custom_metrics: Vec<(String, String)>,
    pub ids: Ids,
}

fn get<'py, T: FromPyObjectOwned<'py>>(dict: &Bound<'py, PyDict>, key: &str) -> PyResult<T> {
    match dict.get_item(key)? {
        Some(value) => value.extract().map_err(Into::into),
        None => Err(PyTypeError::new_err(format!("column map spec without '{key}'"))),
    }
}

fn feature(text: String, schema_id: bool) -> Feature {
    if schema_id {
        Feature { name: None, schema_id: Some(text.into()) }
    } else {
        Feature::named(text)
    }
}

fn names(dict: &Bound<'_, PyDict>) -> PyResult<Names> {
    let column: String = get(dict, "column")?;
    let schema_ids = get::<String>(dict, "kind")? == "schema_id";
    Ok(match get::<Option<Vec<String>>>(dict, "names")? {
        Some(list) => {
            Names::Indices { column, list: list.into_iter().map(|t| feature(t, schema_ids)).collect() }
        }
        None => Names::Column { column, schema_ids },
    })
}

fn opt_names(dict: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<Names>> {
    match get::<Option<Bound<'_, PyDict>>>(dict, key)? {
        Some(d) => names(&d).map(Some),
        None => Ok(None),
    }
}

fn required_names(dict: &Bound<'_, PyDict>, key: &str) -> PyResult<Names> {
    opt_names(dict, key)?.ok_or_else(|| PyTypeError::new_err(format!("column map spec without '{key}'")))
}

impl Spec {
    pub fn read(dict: &Bound<'_, PyDict>) -> PyResult<Spec> {
        let mut columns: Vec<String> = get(dict, "columns")?;
        let first = || columns.first().cloned().unwrap_or_default();
        let geometry = match get::<String>(dict, "geometry")?.as_str() {
            "bbox" => {
                let format = match get::<String>(dict, "box_format")?.as_str() {
                    "xywh" => BoxFormat::Xywh,
                    "cxcywh" => BoxFormat::Cxcywh,
                    _ => BoxFormat::Xyxy,
                };
                let size = get::<Option<(String, String)>>(dict, "size")?.map(|(w, h)| [w, h]);
                Geometry::Box {
                    columns: std::mem::take(&mut columns),
                    format,
                    normalized: get(dict, "normalized")?,
                    size,
                }
            }
            "point" => Geometry::Point { columns: std::mem::take(&mut columns) },
            "line" => Geometry::Line { column: first() },
            "polygon" => Geometry::Polygon { column: first() },
            "radio" => Geometry::Radio { answers: required_names(dict, "answers")? },
            "checklist" => Geometry::Checklist { answers: required_names(dict, "answers")? },
            "text" => Geometry::Text { column: first() },
            "mask" => Geometry::Mask { column: first() },
            other => return Err(PyTypeError::new_err(format!("unknown geometry '{other}' in a column map"))),
        };
        let subclass = match get::<Option<Bound<'_, PyDict>>>(dict, "subclass")? {
            Some(s) => {
                let schema_ids = get::<String>(&s, "kind")? == "schema_id";
                Some(Subclass {
                    question: feature(get(&s, "question")?, schema_ids),
                    answers: required_names(&s, "answers")?,
                    confidence: get(&s, "confidence")?,
                })
            }
            None => None,
        };
        let ids = match get::<Option<Bound<'_, PyBytes>>>(dict, "namespace")? {
            Some(ns) => Ids::Derived(
                ns.as_bytes()
                    .try_into()
                    .map_err(|_| PyTypeError::new_err("a uuid namespace must be 16 bytes"))?,
            ),
            None => Ids::Random,
        };
        let question = match get::<Option<String>>(dict, "question")? {
            Some(q) => feature(q, get::<String>(dict, "question_kind")? == "schema_id"),
            None => Feature::default(),
        };
        Ok(Spec {
            data_row: get(dict, "data_row")?,
            by_id: get::<String>(dict, "data_row_kind")? == "id",
            features: opt_names(dict, "features")?,
            question,
            confidence: get(dict, "confidence")?,
            geometry,
            subclass,
            custom_metrics: get(dict, "custom_metrics")?,
            ids,
        })
    }
}
