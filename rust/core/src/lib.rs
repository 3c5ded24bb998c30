//! lbfast-core: Labelbox import NDJSON from model predictions, without Python.
//!
//! Every input form (typed objects, NDJSON-shaped dicts, columns) is lowered into
//! [`model::Annotation`]s, checked by [`validate`] and written by [`ndjson`].

pub mod batch;
pub mod colors;
pub mod columnar;
pub mod issues;
pub mod json;
pub mod mask;
pub mod memory;
pub mod model;
pub mod ndjson;
pub mod ontology;
pub mod parallel;
pub mod rle;
pub mod uuid;
pub mod validate;
